//! The real request log: kube-apiserver's audit log (`audit.k8s.io/v1` Event, one JSON object
//! a line), read back into the fields tests look at.

use std::path::Path;

use serde_json::Value;

/// One completed request.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    pub user: String,
    /// Kubernetes verb (`get`, `list`, `create`, `patch`, ...; the lower-case HTTP method for
    /// non-resource paths).
    pub verb: String,
    /// Path with its query string.
    pub request_uri: String,
    pub code: u16,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// `kind` of the logged reply body, for the kinds logged with bodies (Secrets and issued
    /// tokens): `Secret`, `SecretList`, `PartialObjectMetadataList`, `Table`, ...
    pub response_kind: String,
    /// Whether that reply carried Secret `data` or `stringData`.
    pub secret_data: bool,
    pub user_agent: String,
    pub received: String,
}

impl AuditEvent {
    fn from_json(event: &Value) -> Option<AuditEvent> {
        let stage = event["stage"].as_str()?;
        if stage != "ResponseComplete" && stage != "Panic" {
            return None;
        }
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let object = &event["objectRef"];
        let response = &event["responseObject"];
        Some(AuditEvent {
            user: s(&event["user"]["username"]),
            verb: s(&event["verb"]),
            request_uri: s(&event["requestURI"]),
            code: event["responseStatus"]["code"].as_u64().unwrap_or(0) as u16,
            resource: s(&object["resource"]),
            subresource: s(&object["subresource"]),
            namespace: s(&object["namespace"]),
            name: s(&object["name"]),
            response_kind: s(&response["kind"]),
            secret_data: carries_secret_data(response),
            user_agent: s(&event["userAgent"]),
            received: s(&event["requestReceivedTimestamp"]),
        })
    }
}

fn carries_secret_data(body: &Value) -> bool {
    let has =
        |o: &Value| o.get("data").is_some_and(|d| !d.is_null()) || o.get("stringData").is_some();
    match body["kind"].as_str() {
        Some("Secret") => has(body),
        Some("SecretList") => body["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(has)),
        _ => false,
    }
}

pub fn read(path: &Path) -> Vec<AuditEvent> {
    lines(path)
        .iter()
        .filter_map(AuditEvent::from_json)
        .collect()
}

fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // The last line may still be being written: a line that does not parse is skipped.
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Tokens in logged replies: TokenRequest status tokens, and the `token` of
/// ServiceAccount token Secrets (base64 in the Secret's data).
pub fn minted_tokens(path: &Path) -> Vec<String> {
    let mut tokens = Vec::new();
    for event in lines(path) {
        let body = &event["responseObject"];
        match body["kind"].as_str() {
            Some("TokenRequest") => {
                tokens.extend(body["status"]["token"].as_str().map(String::from))
            }
            Some("Secret") => tokens.extend(secret_token(body)),
            Some("SecretList") => tokens.extend(
                body["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(secret_token),
            ),
            _ => {}
        }
    }
    tokens.sort();
    tokens.dedup();
    tokens
}

fn secret_token(secret: &Value) -> Option<String> {
    use base64::Engine;
    let encoded = secret["data"]["token"].as_str()?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    String::from_utf8(raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(lines: &[Value]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        std::fs::write(file.path(), text.join("\n") + "\n{\"half-writ").unwrap();
        file
    }

    #[test]
    fn completed_requests_are_read_and_secret_data_is_seen() {
        let secret_list = serde_json::json!({
            "kind": "Event", "stage": "ResponseComplete", "verb": "list",
            "user": {"username": "alice"}, "requestURI": "/api/v1/namespaces/a/secrets?limit=500",
            "objectRef": {"resource": "secrets", "namespace": "a"},
            "responseStatus": {"code": 200}, "userAgent": "kubectl-cicd/v0.1.0 (linux/amd64)",
            "responseObject": {"kind": "SecretList", "items": [{"data": {"token": "dG9r"}}]},
        });
        let metadata_only = serde_json::json!({
            "stage": "ResponseComplete", "verb": "list", "user": {"username": "alice"},
            "requestURI": "/api/v1/secrets", "responseStatus": {"code": 200},
            "responseObject": {"kind": "PartialObjectMetadataList", "items": [{"metadata": {}}]},
        });
        let started = serde_json::json!({"stage": "ResponseStarted", "verb": "watch"});
        let file = log(&[secret_list, metadata_only, started]);
        let events = read(file.path());
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(events[0].secret_data);
        assert_eq!(events[0].user_agent, "kubectl-cicd/v0.1.0 (linux/amd64)");
        assert_eq!(events[0].code, 200);
        assert!(!events[1].secret_data);
        assert_eq!(events[1].response_kind, "PartialObjectMetadataList");
        assert_eq!(minted_tokens(file.path()), vec!["tok".to_string()]);
    }

    #[test]
    fn issued_tokens_are_collected_for_the_leak_check() {
        let issued = serde_json::json!({
            "stage": "ResponseComplete", "verb": "create",
            "responseObject": {"kind": "TokenRequest", "status": {"token": "eyJhbGciOi.x.y"}},
        });
        let file = log(&[issued.clone(), issued]);
        assert_eq!(
            minted_tokens(file.path()),
            vec!["eyJhbGciOi.x.y".to_string()]
        );
    }
}
