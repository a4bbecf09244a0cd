//! One line of an audit log to the [`Event`] fields kubectl-cicd uses: who, what, where, and
//! whether authorization allowed it. Accepts the event as kube-apiserver writes it and the
//! wrappers managed services and log shippers put around it: a time stamp before the JSON
//! (CloudWatch Logs exports), `_source` (OpenSearch and Elasticsearch exports),
//! `properties.log` (Azure diagnostic settings), and `log` or `message` (Fluent Bit, Fluentd,
//! Vector). Request and response bodies are skipped unread.

use std::borrow::Cow;

use serde::Deserialize;

use super::time::parse_rfc3339;

/// How authorization decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Refused by authorization (403 with `authorization.k8s.io/decision: forbid`, or a 403
    /// without that annotation).
    Denied,
}

/// One completed request, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The identity the request was authorized as: the impersonated user when there is one.
    pub user: String,
    /// `ResponseComplete`, `RequestReceived`, `ResponseStarted` or `Panic`.
    pub stage: String,
    pub verb: String,
    /// `objectRef`'s fields; `resource` is empty for a non-resource request (`/api`, `/version`).
    pub group: String,
    pub resource: String,
    pub subresource: String,
    /// Empty for cluster-scoped objects and non-resource requests.
    pub namespace: String,
    pub name: String,
    /// The request URI without its query.
    pub path: String,
    pub code: u16,
    pub decision: Decision,
    /// `requestReceivedTimestamp`, in Unix seconds.
    pub time: Option<i64>,
}

impl Event {
    /// The stage that says how the request ended; the other stages repeat it.
    pub fn completed(&self) -> bool {
        self.stage == "ResponseComplete"
    }
}

#[derive(Deserialize, Default)]
struct RawUser<'a> {
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct RawObjectRef<'a> {
    #[serde(borrow)]
    resource: Option<Cow<'a, str>>,
    #[serde(borrow)]
    namespace: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "apiGroup")]
    api_group: Option<Cow<'a, str>>,
    #[serde(borrow)]
    subresource: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct RawStatus {
    code: Option<u16>,
}

#[derive(Deserialize, Default)]
struct RawAnnotations<'a> {
    #[serde(borrow, rename = "authorization.k8s.io/decision")]
    decision: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct RawProperties<'a> {
    #[serde(borrow)]
    log: Option<Cow<'a, str>>,
}

/// The fields of an Event, and of the wrappers around one, that are read; the rest (bodies
/// included) is skipped.
#[derive(Deserialize, Default)]
struct RawLine<'a> {
    #[serde(borrow, rename = "auditID")]
    audit_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    stage: Option<Cow<'a, str>>,
    #[serde(borrow)]
    verb: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "requestURI")]
    request_uri: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user: Option<RawUser<'a>>,
    #[serde(borrow, rename = "impersonatedUser")]
    impersonated_user: Option<RawUser<'a>>,
    #[serde(borrow, rename = "objectRef")]
    object_ref: Option<RawObjectRef<'a>>,
    #[serde(rename = "responseStatus")]
    response_status: Option<RawStatus>,
    #[serde(borrow, rename = "requestReceivedTimestamp")]
    received: Option<Cow<'a, str>>,
    #[serde(borrow)]
    annotations: Option<RawAnnotations<'a>>,
    // Wrappers.
    #[serde(borrow, rename = "_source")]
    source: Option<Box<RawLine<'a>>>,
    #[serde(borrow)]
    properties: Option<RawProperties<'a>>,
    #[serde(borrow)]
    log: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
}

/// What a line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Event(Box<Event>),
    /// JSON, but not an audit event (nor a wrapper around one).
    NotAnEvent,
    /// Not a JSON object.
    NotJson,
}

/// Reads one line (see the module docs).
pub fn parse_line(line: &[u8]) -> Line {
    let Some(start) = memchr::memchr(b'{', line) else {
        return Line::NotJson;
    };
    match serde_json::from_slice::<RawLine>(&line[start..]) {
        Ok(raw) => from_raw(raw, 0),
        Err(_) => Line::NotJson,
    }
}

fn from_raw(raw: RawLine<'_>, depth: u8) -> Line {
    if raw.audit_id.is_some() && raw.verb.is_some() {
        return Line::Event(Box::new(event(raw)));
    }
    if depth > 0 {
        return Line::NotAnEvent;
    }
    if let Some(inner) = raw.source {
        return from_raw(*inner, depth + 1);
    }
    let text = raw
        .properties
        .and_then(|p| p.log)
        .or(raw.log)
        .or(raw.message);
    let Some(text) = text else {
        return Line::NotAnEvent;
    };
    let Some(start) = text.find('{') else {
        return Line::NotAnEvent;
    };
    match serde_json::from_str::<RawLine>(&text[start..]) {
        Ok(inner) => from_raw(inner, depth + 1),
        Err(_) => Line::NotAnEvent,
    }
}

fn owned(v: Option<Cow<'_, str>>) -> String {
    v.map(Cow::into_owned).unwrap_or_default()
}

fn event(raw: RawLine<'_>) -> Event {
    let impersonated = raw.impersonated_user.and_then(|u| u.username);
    let user = impersonated.or(raw.user.and_then(|u| u.username));
    let object = raw.object_ref.unwrap_or_default();
    let code = raw.response_status.and_then(|s| s.code).unwrap_or(0);
    let decision = match raw.annotations.and_then(|a| a.decision).as_deref() {
        Some("forbid") => Decision::Denied,
        Some(_) => Decision::Allowed,
        None if code == 403 => Decision::Denied,
        None => Decision::Allowed,
    };
    let uri = raw.request_uri.unwrap_or_default();
    let path = uri.split('?').next().unwrap_or_default().to_string();
    Event {
        user: owned(user),
        stage: owned(raw.stage),
        verb: owned(raw.verb),
        group: owned(object.api_group),
        resource: owned(object.resource),
        subresource: owned(object.subresource),
        namespace: owned(object.namespace),
        name: owned(object.name),
        path,
        code,
        decision,
        time: raw.received.and_then(|t| parse_rfc3339(t.as_bytes())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event as kube-apiserver 1.37 writes it at Metadata level.
    pub(crate) const CREATE_DEPLOYMENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"5b2c","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/shop/deployments?fieldManager=kubectl-client-side-apply","verb":"create","user":{"username":"system:serviceaccount:shop:ci-cd","uid":"u","groups":["system:serviceaccounts","system:serviceaccounts:shop","system:authenticated"]},"sourceIPs":["127.0.0.1"],"userAgent":"kubectl/v1.33.0","objectRef":{"resource":"deployments","namespace":"shop","name":"web","apiGroup":"apps","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestReceivedTimestamp":"2026-01-05T10:00:00.123456Z","stageTimestamp":"2026-01-05T10:00:00.130000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"ci-cd/shop\""}}"#;

    fn only_event(line: &str) -> Event {
        match parse_line(line.as_bytes()) {
            Line::Event(e) => *e,
            other => panic!("not an event: {other:?}"),
        }
    }

    #[test]
    fn an_event_as_kube_apiserver_writes_it() {
        let e = only_event(CREATE_DEPLOYMENT);
        assert_eq!(e.user, "system:serviceaccount:shop:ci-cd");
        assert!(e.completed());
        assert_eq!(
            (e.verb.as_str(), e.group.as_str(), e.resource.as_str()),
            ("create", "apps", "deployments")
        );
        assert_eq!((e.namespace.as_str(), e.name.as_str()), ("shop", "web"));
        assert_eq!(e.path, "/apis/apps/v1/namespaces/shop/deployments");
        assert_eq!(e.code, 201);
        assert_eq!(e.decision, Decision::Allowed);
        assert_eq!(e.time, Some(1_767_607_200));
    }

    #[test]
    fn denials_are_told_by_the_decision_or_by_403() {
        let forbid = CREATE_DEPLOYMENT
            .replace("\"code\":201", "\"code\":403")
            .replace("\"allow\"", "\"forbid\"");
        assert_eq!(only_event(&forbid).decision, Decision::Denied);
        let bare = r#"{"auditID":"1","stage":"ResponseComplete","verb":"get","user":{"username":"u"},"responseStatus":{"code":403}}"#;
        assert_eq!(only_event(bare).decision, Decision::Denied);
        // Allowed by authorization, then refused by admission (RBAC escalation prevention):
        // the permission was used.
        let admission = CREATE_DEPLOYMENT.replace("\"code\":201", "\"code\":403");
        assert_eq!(only_event(&admission).decision, Decision::Allowed);
    }

    #[test]
    fn the_impersonated_user_is_who_was_authorized() {
        let line = CREATE_DEPLOYMENT.replace(
            "\"sourceIPs\"",
            "\"impersonatedUser\":{\"username\":\"system:serviceaccount:shop:other\"},\"sourceIPs\"",
        );
        assert_eq!(only_event(&line).user, "system:serviceaccount:shop:other");
    }

    #[test]
    fn managed_services_wrappers_are_unwrapped() {
        let escaped = serde_json::to_string(CREATE_DEPLOYMENT).unwrap();
        for line in [
            format!("2026-01-05T10:00:00.200Z {CREATE_DEPLOYMENT}"),
            format!(r#"{{"_index":"kubeaudit-2026.01.05","_source":{CREATE_DEPLOYMENT}}}"#),
            format!(
                r#"{{"time":"2026-01-05T10:00:00Z","category":"kube-audit","properties":{{"log":{escaped},"stream":"stdout"}}}}"#
            ),
            format!(r#"{{"log":{escaped}}}"#),
            format!(r#"{{"@timestamp":"2026-01-05T10:00:00Z","message":{escaped}}}"#),
        ] {
            let e = only_event(&line);
            assert_eq!(e.user, "system:serviceaccount:shop:ci-cd", "{line}");
            assert_eq!(e.resource, "deployments", "{line}");
        }
    }

    #[test]
    fn other_lines_are_told_apart() {
        assert_eq!(parse_line(b"apiVersion: v1"), Line::NotJson);
        assert_eq!(parse_line(b"{\"half\": "), Line::NotJson);
        assert_eq!(parse_line(b"{\"kind\":\"Pod\"}"), Line::NotAnEvent);
        assert_eq!(parse_line(b"{\"log\":\"plain text\"}"), Line::NotAnEvent);
        assert_eq!(
            parse_line(br#"{"_source":{"_source":{"auditID":"1","verb":"get"}}}"#),
            Line::NotAnEvent
        );
    }
}
