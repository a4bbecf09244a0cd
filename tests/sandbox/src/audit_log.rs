//! The request log rendered as the API server's audit log: one `audit.k8s.io/v1` Event a line,
//! at `Metadata` level and `ResponseComplete` stage, as kube-apiserver writes it with
//! `--audit-log-path` and a policy of `level: Metadata`. The fields are the ones an audit log
//! consumer reads (user, verb, objectRef, response code, times, the authorization decision);
//! request and response bodies are never logged.

use serde_json::{Value, json};

use crate::state::LogEntry;

/// One entry as an audit Event; `seq` makes its `auditID` unique within the log.
pub fn event(entry: &LogEntry, seq: usize) -> Value {
    let mut event = json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": format!("00000000-0000-4000-8000-{seq:012x}"),
        "stage": "ResponseComplete",
        "requestURI": entry.path,
        "verb": entry.verb,
        "user": {"username": entry.user, "groups": entry.groups},
        "sourceIPs": ["127.0.0.1"],
        "userAgent": entry.user_agent,
        "responseStatus": {"metadata": {}, "code": entry.status},
        "requestReceivedTimestamp": micro(&entry.time),
        "stageTimestamp": micro(&entry.time),
    });
    if !entry.resource.is_empty() {
        let mut object = serde_json::Map::new();
        for (key, value) in [
            ("resource", &entry.resource),
            ("namespace", &entry.namespace),
            ("name", &entry.name),
            ("apiGroup", &entry.api_group),
            ("apiVersion", &entry.api_version),
            ("subresource", &entry.subresource),
        ] {
            if !value.is_empty() {
                object.insert(key.into(), json!(value));
            }
        }
        event["objectRef"] = Value::Object(object);
    }
    if !entry.decision.is_empty() {
        event["annotations"] = json!({"authorization.k8s.io/decision": entry.decision});
    }
    event
}

/// `2026-01-05T10:00:00Z` as `metav1.MicroTime` writes it: `2026-01-05T10:00:00.000000Z`.
fn micro(time: &str) -> String {
    match time.strip_suffix('Z') {
        Some(t) if !t.contains('.') => format!("{t}.000000Z"),
        _ => time.to_string(),
    }
}

/// The whole log, one JSON object a line. Unauthenticated requests (user `-`) are left out,
/// as the real server logs them under `system:anonymous` only when anonymous auth is on.
pub fn render(log: &[LogEntry]) -> String {
    let mut out = String::new();
    for (seq, entry) in log.iter().enumerate().filter(|(_, e)| e.user != "-") {
        out.push_str(&event(entry, seq).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, status: u16, decision: &str) -> LogEntry {
        LogEntry {
            time: "2026-01-05T10:00:00Z".into(),
            user: "system:serviceaccount:team-a:ci-cd".into(),
            verb: "create".into(),
            method: "POST".into(),
            path: path.into(),
            status,
            changed: status == 201,
            secret_data: false,
            accept: "application/json".into(),
            content_type: "application/json".into(),
            groups: vec!["system:serviceaccounts".into()],
            user_agent: "kubectl/v1.33.0".into(),
            api_group: "apps".into(),
            api_version: "v1".into(),
            resource: "deployments".into(),
            subresource: String::new(),
            namespace: "team-a".into(),
            name: String::new(),
            decision: decision.into(),
        }
    }

    #[test]
    fn requests_become_audit_events_as_kube_apiserver_writes_them() {
        let allowed = event(
            &entry("/apis/apps/v1/namespaces/team-a/deployments", 201, "allow"),
            7,
        );
        assert_eq!(allowed["apiVersion"], "audit.k8s.io/v1");
        assert_eq!(allowed["stage"], "ResponseComplete");
        assert_eq!(allowed["auditID"], "00000000-0000-4000-8000-000000000007");
        assert_eq!(
            allowed["user"]["username"],
            "system:serviceaccount:team-a:ci-cd"
        );
        assert_eq!(
            allowed["objectRef"],
            json!({"resource": "deployments", "namespace": "team-a", "apiGroup": "apps", "apiVersion": "v1"})
        );
        assert_eq!(allowed["responseStatus"]["code"], 201);
        assert_eq!(
            allowed["requestReceivedTimestamp"],
            "2026-01-05T10:00:00.000000Z"
        );
        assert_eq!(
            allowed["annotations"]["authorization.k8s.io/decision"],
            "allow"
        );

        let mut discovery = entry("/api", 200, "allow");
        discovery.resource.clear();
        let e = event(&discovery, 1);
        assert!(e.get("objectRef").is_none());

        let mut anonymous = entry("/api", 401, "");
        anonymous.user = "-".into();
        let text = render(&[entry("/x", 403, "forbid"), anonymous]);
        assert_eq!(
            text.lines().count(),
            1,
            "unauthenticated requests are left out"
        );
        let denied: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(
            denied["annotations"]["authorization.k8s.io/decision"],
            "forbid"
        );
    }
}
