//! HTTPS front: one task per connection, each request authenticated, authorized by the RBAC
//! oracle, routed, answered, and written to the request log. Programmed faults act first.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT, WARNING,
};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::auth::anonymous;
use crate::objects::{self, Call};
use crate::protobuf;
use crate::rbac::{self, Attributes, UserInfo};
use crate::request::{self, Representation, RequestInfo};
use crate::reviews;
use crate::state::{FaultAction, LogEntry, Shared, State, carries_secret_data};
use crate::status::{ApiError, Target};
use crate::util::now_rfc3339;

pub const VERSION_INFO: &str = r#"{"major":"1","minor":"30","gitVersion":"v1.30.0","gitCommit":"7c48c2bd72b9bf5c44d21d7338cc7bea77d0ad2a","gitTreeState":"clean","buildDate":"2024-04-17T17:27:03Z","goVersion":"go1.22.2","compiler":"gc","platform":"linux/amd64"}"#;

const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// The reply the handlers produce; turned into an HTTP response at the edge.
pub struct Reply {
    pub code: u16,
    pub body: Bytes,
    pub content_type: &'static str,
    pub retry_after: Option<u64>,
    pub secret_data: bool,
    /// Sent as `Warning: 299 - "<text>"` headers, as `warning.AddWarning` does.
    pub warnings: Vec<String>,
    /// Refused by RBAC (the audit log's `authorization.k8s.io/decision: forbid`).
    pub forbidden: bool,
    /// Sent as `Location` (a test-hook redirect).
    pub location: Option<String>,
}

impl Reply {
    pub fn json(code: u16, body: &Value) -> Self {
        Reply {
            code,
            secret_data: carries_secret_data(body),
            body: Bytes::from(body.to_string()),
            content_type: "application/json",
            retry_after: None,
            warnings: Vec::new(),
            forbidden: false,
            location: None,
        }
    }

    pub fn text(code: u16, text: &str) -> Self {
        Reply {
            code,
            body: Bytes::from(text.to_string()),
            content_type: "text/plain; charset=utf-8",
            retry_after: None,
            secret_data: false,
            warnings: Vec::new(),
            forbidden: false,
            location: None,
        }
    }

    pub fn error(e: ApiError) -> Self {
        Reply::json(e.code, &e.body)
    }
}

/// Why a connection should be cut instead of answered (fault injection).
#[derive(Debug)]
pub struct DroppedByFault;

impl std::fmt::Display for DroppedByFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by sandbox fault injection")
    }
}

impl std::error::Error for DroppedByFault {}

/// Serves one HTTP request.
pub async fn serve(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DroppedByFault> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let query = request::parse_query(req.uri().query());
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let accept = header(ACCEPT);
    let content_type = header(CONTENT_TYPE);
    let authorization = header(AUTHORIZATION);
    let user_agent = header(USER_AGENT);
    let impersonation = Impersonation::from_headers(req.headers());

    let fault = shared.lock().take_fault(&method, &path);
    // Logged when this request's future ends, also when the client gives up mid-way
    // (a Delay fault past its timeout) and the future is dropped unanswered (status 0).
    let mut logged = LoggedOnDrop {
        shared: shared.clone(),
        entry: None,
    };
    let log = logged.entry.insert(LogEntry {
        time: now_rfc3339(),
        user: "-".into(),
        verb: String::new(),
        method: method.clone(),
        path: path_and_query,
        status: 0,
        changed: false,
        secret_data: false,
        accept: accept.clone(),
        content_type: content_type.clone(),
        groups: Vec::new(),
        user_agent: user_agent.clone(),
        api_group: String::new(),
        api_version: String::new(),
        resource: String::new(),
        subresource: String::new(),
        namespace: String::new(),
        name: String::new(),
        decision: String::new(),
    });
    let faulted = match fault {
        Some(FaultAction::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        Some(FaultAction::DropConnection) => return Err(DroppedByFault),
        Some(FaultAction::TooManyRequests { retry_after_secs }) => {
            let mut r = Reply::text(429, "Too many requests, please try again later.\n");
            r.retry_after = Some(retry_after_secs);
            Some(r)
        }
        Some(FaultAction::Conflict) => Some(Reply::error(ApiError::new(
            409,
            "Conflict",
            "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (sandbox fault injection)",
            None,
        ))),
        Some(FaultAction::Status(code)) => Some(Reply::error(injected_status(code))),
        None => None,
    };

    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };

    let served_file = (method == "GET")
        .then(|| shared.lock().files.get(&path).cloned())
        .flatten();
    let reply = match (faulted, served_file) {
        (Some(r), _) => r,
        (None, Some(file)) => file_reply(file),
        (None, None) => {
            let mut st = shared.lock();
            let info = request::parse(&method, &path, &query);
            log.verb = info.verb.clone();
            if info.resource_request {
                log.api_group = info.group.clone();
                log.api_version = info.version.clone();
                log.resource = info.resource.clone();
                log.subresource = info.subresource.clone();
                log.namespace = info.namespace.clone();
                log.name = info.name.clone();
            }
            let user = authenticate(&shared, &mut st, &authorization)
                .map(|user| impersonation.apply(&mut st, user, &attributes(&info)));
            match user {
                None => Reply::error(ApiError::unauthorized()),
                Some(Err(refused)) => refused,
                Some(Ok(user)) => {
                    log.user = user.name.clone();
                    log.groups = user.groups.clone();
                    // Token checks may stamp a legacy token's last-used label: not this request's change.
                    let rv_after_auth = st.store.resource_version();
                    let reply = authorize_and_route(
                        &shared,
                        &mut st,
                        Ctx {
                            user: &user,
                            accept: &accept,
                            info: &info,
                            query: &query,
                            repr: request::representation(&accept),
                            content_type: &content_type,
                            user_agent: &user_agent,
                            body: &body,
                        },
                    );
                    log.changed = st.store.resource_version() != rv_after_auth;
                    log.decision = if reply.forbidden { "forbid" } else { "allow" }.into();
                    reply
                }
            }
        }
    };
    log.status = reply.code;
    log.secret_data = reply.secret_data;
    drop(logged);

    let mut resp = Response::new(Full::new(reply.body));
    *resp.status_mut() =
        StatusCode::from_u16(reply.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
    if let Some(location) = reply
        .location
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        resp.headers_mut().insert(hyper::header::LOCATION, location);
    }
    if let Some(secs) = reply.retry_after {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    for text in &reply.warnings {
        let quoted = text.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{quoted}\"")) {
            resp.headers_mut().append(WARNING, v);
        }
    }
    Ok(resp)
}

struct LoggedOnDrop {
    shared: Arc<Shared>,
    entry: Option<LogEntry>,
}

impl Drop for LoggedOnDrop {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            self.shared.lock().log.push(entry);
        }
    }
}

fn injected_status(code: u16) -> ApiError {
    let (reason, message) = match code {
        500 => (
            "InternalError",
            "Internal error occurred: sandbox fault injection",
        ),
        502 => ("InternalError", "Bad Gateway (sandbox fault injection)"),
        503 => (
            "ServiceUnavailable",
            "The server is currently unable to handle the request (sandbox fault injection)",
        ),
        504 => (
            "Timeout",
            "The server was unable to return a response in the time allotted (sandbox fault injection)",
        ),
        409 => (
            "Conflict",
            "Operation cannot be fulfilled (sandbox fault injection)",
        ),
        404 => (
            "NotFound",
            "the server could not find the requested resource (sandbox fault injection)",
        ),
        401 => ("Unauthorized", "Unauthorized"),
        403 => ("Forbidden", "forbidden (sandbox fault injection)"),
        _ => ("InternalError", "sandbox fault injection"),
    };
    ApiError::new(code, reason, message, None)
}

/// A test-hook file's answer.
fn file_reply(file: crate::state::ServedFile) -> Reply {
    match file {
        crate::state::ServedFile::Body(body) => Reply {
            code: 200,
            body: Bytes::from(body),
            content_type: "text/plain; charset=utf-8",
            retry_after: None,
            secret_data: false,
            warnings: Vec::new(),
            forbidden: false,
            location: None,
        },
        crate::state::ServedFile::Redirect(to) => {
            let mut r = Reply::text(302, "Found\n");
            r.location = Some(to);
            r
        }
    }
}

/// The `Impersonate-*` headers of a request (`kubectl --as`, `--as-group`, `--as-uid`).
#[derive(Debug, Default)]
struct Impersonation {
    user: Option<String>,
    groups: Vec<String>,
    uid: Option<String>,
    /// `Impersonate-Extra-<key>` values, by key.
    extra: std::collections::BTreeMap<String, Vec<String>>,
}

/// The impersonation modes kube-apiserver 1.37 tries, in its order (constrained impersonation,
/// KEP-5284, then the legacy `impersonate` verb).
const MODES: [Option<&str>; 4] = [
    Some("arbitrary-node"),
    Some("serviceaccount"),
    Some("user-info"),
    None,
];

impl Impersonation {
    fn from_headers(headers: &hyper::HeaderMap) -> Impersonation {
        let mut out = Impersonation::default();
        for (name, value) in headers {
            let Ok(value) = value.to_str() else { continue };
            let name = name.as_str();
            if name == "impersonate-user" {
                out.user = Some(value.to_string());
            } else if name == "impersonate-group" {
                out.groups.push(value.to_string());
            } else if name == "impersonate-uid" {
                out.uid = Some(value.to_string());
            } else if let Some(key) = name.strip_prefix("impersonate-extra-") {
                let key = percent_encoding::percent_decode_str(key)
                    .decode_utf8_lossy()
                    .into_owned();
                out.extra.entry(key).or_default().push(value.to_string());
            }
        }
        out
    }

    fn only_username(&self) -> bool {
        self.groups.is_empty() && self.extra.is_empty() && self.uid.is_none()
    }

    /// The user the request acts as: `user` itself without the headers; else the impersonated
    /// user, as k8s.io/apiserver's `WithConstrainedImpersonation` decides it
    /// (endpoints/filters/impersonation): each mode that applies is tried in turn (a
    /// constrained mode first needs `impersonate-on:<mode>:<verb>` on the request itself, then
    /// `impersonate:<mode>` on the user, uid, groups and extras; the legacy mode only
    /// `impersonate`), the first that allows it wins, and a refusal reports the first mode's
    /// error. A ServiceAccount user named without groups gets its fixed groups.
    fn apply(
        &self,
        st: &mut State,
        user: UserInfo,
        request: &Attributes,
    ) -> Result<UserInfo, Reply> {
        let Some(name) = self.user.clone().filter(|n| !n.is_empty()) else {
            if self.only_username() {
                return Ok(user);
            }
            return Err(Reply::error(ApiError::bad_request(format!(
                "requested {} without impersonating a user name",
                self.go_default_info()
            ))));
        };
        let snapshot = (!user.is_superuser()).then(|| st.rbac());
        let allowed = |a: &Attributes| -> Result<(), Reply> {
            let Some(snapshot) = &snapshot else {
                return Ok(());
            };
            let decision = rbac::authorize(snapshot, &user, a);
            if decision.allowed {
                return Ok(());
            }
            let message = rbac::forbidden_message_with_reason(&user, a, &decision.reason);
            let e = if a.resource_request {
                ApiError::forbidden(
                    Target {
                        group: &a.api_group,
                        kind: &a.resource,
                        name: &a.name,
                    },
                    message,
                )
            } else {
                ApiError::new(403, "Forbidden", message, Some(json!({})))
            };
            Err(Reply::error(e))
        };
        let service_account = name
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
            .filter(|(ns, sa)| !ns.is_empty() && !sa.is_empty() && !sa.contains(':'))
            .map(|(ns, sa)| (ns.to_string(), sa.to_string()));
        let node = name
            .strip_prefix("system:node:")
            .filter(|n| {
                !n.is_empty()
                    && n.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                    })
            })
            .map(str::to_string);
        let mut first_error = None;
        for mode in MODES {
            let applies = match mode {
                Some("arbitrary-node") => self.only_username() && node.is_some(),
                Some("serviceaccount") => self.only_username() && service_account.is_some(),
                Some(_) => node.is_none() && service_account.is_none(),
                None => true,
            };
            if !applies {
                continue;
            }
            let tried = (|| {
                let (verb, group) = match mode {
                    Some(m) => {
                        let mut on = request.clone();
                        on.verb = format!("impersonate-on:{m}:{}", request.verb);
                        allowed(&on)?;
                        (format!("impersonate:{m}"), "authentication.k8s.io")
                    }
                    None => ("impersonate".to_string(), ""),
                };
                let attrs =
                    |group: &str, resource: &str, sub: &str, namespace: &str, name: &str| {
                        Attributes {
                            verb: verb.clone(),
                            resource_request: true,
                            namespace: namespace.into(),
                            api_group: group.into(),
                            api_version: "v1".into(),
                            resource: resource.into(),
                            subresource: sub.into(),
                            name: name.into(),
                            path: String::new(),
                        }
                    };
                let mut groups = self.groups.clone();
                match (&service_account, &node) {
                    (Some((ns, sa)), _) => {
                        allowed(&attrs(group, "serviceaccounts", "", ns, sa))?;
                        if groups.is_empty() {
                            groups = vec![
                                "system:serviceaccounts".to_string(),
                                format!("system:serviceaccounts:{ns}"),
                            ];
                        }
                    }
                    (None, Some(n)) if mode.is_some() => {
                        allowed(&attrs(group, "nodes", "", "", n))?;
                        groups = vec!["system:nodes".to_string()];
                    }
                    _ => allowed(&attrs(group, "users", "", "", &name))?,
                }
                if let Some(uid) = &self.uid {
                    allowed(&attrs("authentication.k8s.io", "uids", "", "", uid))?;
                }
                for g in &self.groups {
                    allowed(&attrs(group, "groups", "", "", g))?;
                }
                for (key, values) in &self.extra {
                    for value in values {
                        allowed(&attrs(
                            "authentication.k8s.io",
                            "userextras",
                            key,
                            "",
                            value,
                        ))?;
                    }
                }
                let missing = |g: &str| !groups.iter().any(|x| x == g);
                if name == "system:anonymous" {
                    if missing("system:unauthenticated") {
                        groups.push("system:unauthenticated".into());
                    }
                } else if missing("system:unauthenticated") && missing("system:authenticated") {
                    groups.push("system:authenticated".into());
                }
                Ok(UserInfo {
                    name: name.clone(),
                    uid: self.uid.clone().unwrap_or_default(),
                    groups,
                })
            })();
            match tried {
                Ok(u) => return Ok(u),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.expect("the legacy mode always applies"))
    }

    /// The wanted user as Go's `%#v` prints a `*user.DefaultInfo`.
    fn go_default_info(&self) -> String {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let list = |v: &[String]| {
            if v.is_empty() {
                "[]string(nil)".to_string()
            } else {
                format!(
                    "[]string{{{}}}",
                    v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
                )
            }
        };
        let extra = if self.extra.is_empty() {
            "map[string][]string(nil)".to_string()
        } else {
            format!(
                "map[string][]string{{{}}}",
                self.extra
                    .iter()
                    .map(|(k, v)| format!("{}:{}", quote(k), list(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!(
            "&user.DefaultInfo{{Name:{}, UID:{}, Groups:{}, Extra:{extra}}}",
            quote(self.user.as_deref().unwrap_or("")),
            quote(self.uid.as_deref().unwrap_or("")),
            list(&self.groups),
        )
    }
}

/// The user behind an `Authorization` header; `None` means 401.
fn authenticate(shared: &Shared, st: &mut State, authorization: &str) -> Option<UserInfo> {
    if authorization.is_empty() {
        return Some(anonymous());
    }
    let token = authorization.strip_prefix("Bearer ").map(str::trim)?;
    authenticate_token(shared, st, token)
}

pub fn authenticate_token(shared: &Shared, st: &mut State, token: &str) -> Option<UserInfo> {
    if let Some(u) = st.users.iter().find(|u| u.token == token) {
        return Some(u.info());
    }
    let claims = shared.signer.verify(token)?;
    reviews::service_account_token_user(st, &claims, token)
}

pub struct Ctx<'a> {
    pub user: &'a UserInfo,
    pub accept: &'a str,
    pub info: &'a RequestInfo,
    pub query: &'a HashMap<String, String>,
    pub repr: Representation,
    pub content_type: &'a str,
    pub user_agent: &'a str,
    pub body: &'a [u8],
}

fn attributes(info: &RequestInfo) -> Attributes {
    Attributes {
        verb: info.verb.clone(),
        resource_request: info.resource_request,
        namespace: info.namespace.clone(),
        api_group: info.group.clone(),
        api_version: info.version.clone(),
        resource: info.resource.clone(),
        subresource: info.subresource.clone(),
        name: info.name.clone(),
        path: info.path.clone(),
    }
}

fn authorize_and_route(shared: &Shared, st: &mut State, ctx: Ctx) -> Reply {
    let attrs = attributes(ctx.info);
    // system:masters is allowed before RBAC is consulted (the privileged-groups authorizer):
    // no snapshot to build for it.
    if !ctx.user.is_superuser() {
        let snapshot = st.rbac();
        let decision = rbac::authorize(&snapshot, ctx.user, &attrs);
        if !decision.allowed {
            let message = rbac::forbidden_message_with_reason(ctx.user, &attrs, &decision.reason);
            let e = if ctx.info.resource_request {
                ApiError::forbidden(
                    Target {
                        group: &ctx.info.group,
                        kind: &ctx.info.resource,
                        name: &ctx.info.name,
                    },
                    message,
                )
            } else {
                ApiError::new(403, "Forbidden", message, Some(json!({})))
            };
            let mut reply = Reply::error(e);
            reply.forbidden = true;
            return reply;
        }
    }
    if ctx.info.resource_request {
        match resource_request(shared, st, &ctx) {
            Ok(r) => r,
            Err(e) => Reply::error(e),
        }
    } else {
        non_resource_request(shared, st, &ctx)
    }
}

fn non_resource_request(shared: &Shared, st: &State, ctx: &Ctx) -> Reply {
    if ctx.info.verb != "get" {
        return Reply::error(ApiError::method_not_allowed());
    }
    let parts: Vec<&str> = ctx
        .info
        .path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let aggregated = st.aggregated_discovery && ctx.repr == Representation::AggregatedDiscovery;
    let found = match parts.as_slice() {
        ["version"] => Some(serde_json::from_str(VERSION_INFO).expect("version json")),
        ["healthz"] | ["livez"] | ["readyz"] => return Reply::text(200, "ok"),
        ["api"] if aggregated => return aggregated_reply(&st.registry.aggregated(true)),
        ["api"] => {
            let address = shared.url.trim_start_matches("https://").to_string();
            Some(st.registry.api_versions(&address))
        }
        // Under /api the legacy handler answers an unknown version with a Status.
        ["api", version] => match st.registry.api_resource_list("", version) {
            Some(list) => Some(list),
            None => return Reply::error(ApiError::path_not_found()),
        },
        ["apis"] if aggregated => return aggregated_reply(&st.registry.aggregated(false)),
        ["apis"] => Some(st.registry.api_group_list()),
        ["apis", group] => st.registry.api_group(group),
        ["apis", group, version] => st.registry.api_resource_list(group, version),
        ["openapi", "v2"] | ["swagger-2.0.0.pb-v1"] => {
            let (body, content_type) = crate::openapi::v2_document(
                ctx.accept.contains("protobuf") || parts[0] != "openapi",
            );
            let mut r = Reply::text(200, "");
            r.body = Bytes::from(body);
            r.content_type = content_type;
            return r;
        }
        ["openapi", "v3"] => Some(crate::openapi::index(
            &st.registry,
            st.store.resource_version(),
        )),
        ["openapi", "v3", rest @ ..] => crate::openapi::group_version(&st.registry, rest),
        _ => None,
    };
    match found {
        Some(body) => Reply::json(200, &body),
        None => page_not_found(),
    }
}

/// What kube-apiserver's last handler (`http.NotFound`) answers for a path no group serves.
fn page_not_found() -> Reply {
    Reply::text(404, "404 page not found\n")
}

fn aggregated_reply(body: &Value) -> Reply {
    let mut r = Reply::json(200, body);
    r.content_type = AGGREGATED_CONTENT_TYPE;
    r
}

/// `fieldManager`, else the client's User-Agent product as the real server derives it.
fn field_manager(ctx: &Ctx) -> String {
    if let Some(m) = ctx.query.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.clone();
    }
    if ctx.content_type.starts_with("application/apply-patch") {
        return String::new();
    }
    let product = ctx.user_agent.split('/').next().unwrap_or("").trim();
    if product.is_empty() {
        "unknown".into()
    } else {
        product.chars().take(128).collect()
    }
}

/// The request body as JSON, from JSON or (built-in kinds) protobuf. `kind` is what the
/// endpoint expects, for the real server's words about a body it cannot read.
pub fn parse_body(ctx: &Ctx, kind: &str) -> Result<Value, ApiError> {
    let body = ctx.body;
    if body.is_empty() {
        return Ok(json!({}));
    }
    let media = ctx.content_type.split(';').next().unwrap_or("").trim();
    if media == protobuf::MEDIA_TYPE {
        // As `transformDecodeError` in apiserver `endpoints/handlers/rest.go` words them.
        return protobuf::decode(body).map_err(|e| match e {
            protobuf::DecodeError::Malformed(why) => ApiError::bad_request(format!(
                "the object provided is unrecognized (must be of type {kind}): {why} ({})",
                summarize(body)
            )),
            protobuf::DecodeError::BadObject {
                version,
                kind: sent,
                why,
            } => ApiError::bad_request(format!(
                "{sent} in version \"{version}\" cannot be handled as a {kind}: {why}"
            )),
            // Custom resources have no protobuf form: the real server refuses the media type.
            protobuf::DecodeError::NoProtobufForm => ApiError::unsupported_body_media_type(),
        });
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding request body: {e}")))
}

/// `summarizeData`: the first 30 bytes, as text for JSON and in hex otherwise.
fn summarize(data: &[u8]) -> String {
    const MAX: usize = 30;
    let (head, more) = if data.len() > MAX {
        (&data[..MAX], " ...")
    } else {
        (data, "")
    };
    let shown = if data.first() == Some(&b'{') {
        String::from_utf8_lossy(head).into_owned()
    } else {
        head.iter().map(|b| format!("{b:02x}")).collect()
    };
    format!("{shown}{more}")
}

fn resource_request(shared: &Shared, st: &mut State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let info = ctx.info;
    let Some(t) = st
        .registry
        .find(&info.group, &info.version, &info.resource)
        .cloned()
    else {
        // A served group version answers an unknown resource with a Status; a group version
        // nobody serves falls through to the plain 404.
        if !info.group.is_empty() && !st.registry.serves_group_version(&info.group, &info.version) {
            return Ok(page_not_found());
        }
        return Err(ApiError::path_not_found());
    };
    let is_namespace_object = info.group.is_empty() && info.resource == "namespaces";
    if !t.namespaced && !info.namespace.is_empty() && !is_namespace_object {
        return Err(ApiError::path_not_found());
    }
    if t.namespaced && info.namespace.is_empty() && !info.name.is_empty() {
        return Err(ApiError::path_not_found());
    }
    let namespace = if t.namespaced {
        info.namespace.as_str()
    } else {
        ""
    };
    let call = Call {
        user: ctx.user,
        t: &t,
        namespace,
        field_manager: field_manager(ctx),
        dry_run: ctx.query.get("dryRun").is_some_and(|v| v == "All"),
    };
    if !info.subresource.is_empty() {
        return crate::subresources::handle(shared, st, ctx, &call);
    }
    if !t.stored {
        return virtual_kind(shared, st, ctx, &t);
    }
    let rv = st.store.resource_version();
    let q = |k: &str| ctx.query.get(k).map(String::as_str);
    let (code, body) = match info.verb.as_str() {
        "get" => {
            let obj = objects::get(st, &call, &info.name)?;
            (200, objects::render_one(&t, &obj, rv, ctx.repr))
        }
        "list" => {
            let scope = if t.namespaced && !namespace.is_empty() {
                Some(namespace)
            } else {
                None
            };
            let scope = if t.namespaced { scope } else { Some("") };
            let request = crate::paging::ListRequest {
                namespace: scope,
                label_selector: q("labelSelector"),
                field_selector: q("fieldSelector"),
                limit: q("limit"),
                continue_token: q("continue"),
                resource_version: q("resourceVersion"),
            };
            let (items, meta) = crate::paging::list(st, &t, &request)?;
            if let Some(body) = objects::list_json(&t, &items, &meta, ctx.repr) {
                // Metadata-only items never carry data; plain ones as they are stored.
                let secret_data = ctx.repr != Representation::PartialObjectMetadata
                    && crate::state::list_items_carry_secret_data(
                        &format!("{}List", t.kind),
                        items.iter().copied(),
                    );
                return Ok(Reply {
                    code: 200,
                    secret_data,
                    body: Bytes::from(body),
                    content_type: "application/json",
                    retry_after: None,
                    warnings: Vec::new(),
                    forbidden: false,
                    location: None,
                });
            }
            (200, objects::render_list(&t, &items, &meta, ctx.repr))
        }
        "watch" => return Ok(Reply::error(ApiError::method_not_allowed())),
        // No route takes PUT or PATCH on a collection, or POST on a named object.
        "update" | "patch" if info.name.is_empty() => return Err(ApiError::method_not_allowed()),
        "create" if !info.name.is_empty() => return Err(ApiError::method_not_allowed()),
        "create" => objects::create(st, &call, parse_body(ctx, &t.kind)?)?,
        "update" => objects::update(st, &call, &info.name, parse_body(ctx, &t.kind)?)?,
        "patch" => {
            let media = ctx.content_type.split(';').next().unwrap_or("").trim();
            if media.starts_with("application/apply-patch") {
                let force = q("force").is_some_and(|v| v == "true");
                objects::server_side_apply(st, &call, &info.name, ctx.body, force)?
            } else {
                objects::patch(st, &call, &info.name, media, ctx.body)?
            }
        }
        "delete" => objects::delete(st, &call, &info.name, &parse_body(ctx, "DeleteOptions")?)?,
        "deletecollection" => {
            objects::delete_collection(st, &call, q("labelSelector"), q("fieldSelector"))?
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    Ok(Reply::json(code, &body))
}

fn virtual_kind(
    shared: &Shared,
    st: &mut State,
    ctx: &Ctx,
    t: &crate::registry::ResourceType,
) -> Result<Reply, ApiError> {
    if ctx.info.verb != "create" {
        return Err(ApiError::method_not_allowed());
    }
    let body = parse_body(ctx, &t.kind)?;
    let reply = match (t.group.as_str(), t.resource.as_str()) {
        ("authentication.k8s.io", "selfsubjectreviews") => {
            reviews::self_subject_review(ctx.user, &body)
        }
        ("authentication.k8s.io", "tokenreviews") => reviews::token_review(shared, st, &body),
        ("authorization.k8s.io", "selfsubjectrulesreviews") => {
            reviews::self_subject_rules_review(st, ctx.user, &body)?
        }
        ("authorization.k8s.io", "selfsubjectaccessreviews") => {
            reviews::self_subject_access_review(st, ctx.user, &body)?
        }
        ("authorization.k8s.io", "subjectaccessreviews") => {
            reviews::subject_access_review(st, &body)?
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    Ok(Reply::json(201, &reply))
}
