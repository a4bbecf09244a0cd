//! The differential fidelity suite: one sandbox and one real control plane get the same table
//! of requests, and their answers are compared (status code, Status reason and message, and
//! for discovery, lists and paging a summary of what matters to the plugin). The real
//! kube-apiserver is the judge: a disagreement fails the test unless it is listed in
//! `INTENDED` with its reason (and in `docs/sandbox.md`).
//!
//! `CICD_SKIP_REAL=1` skips the suite; otherwise a control plane that cannot start fails it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use cicd_cluster::{Cluster, Options};
use cicd_sandbox::{Config, Sandbox, StaticUser};
use http_body_util::BodyExt;
use serde_json::{Value, json};

/// Disagreements that are known and accepted, by case name, with the reason: all on purpose
/// (parsers' error wording). The same list is in `docs/sandbox.md`.
const INTENDED: &[(&str, &str)] = &[
    (
        "apply bad YAML",
        "the sandbox's YAML parser words its syntax errors differently from Go's yaml package",
    ),
    (
        "400 body not JSON",
        "the sandbox's JSON parser words its syntax errors differently from Go's encoding/json",
    ),
    (
        "list invalid continue",
        "a garbled continue token fails in the JSON decoder: the sandbox words that error differently from Go's encoding/json",
    ),
];

const USERS: &[&str] = &["admin", "alice", "bob", "unknown"];
const UNKNOWN_TOKEN: &str = "a-token-neither-server-knows";
const NS: &str = "team-a";

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const METADATA_LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const APPLY: &str = "application/apply-patch+yaml";
const MERGE: &str = "application/merge-patch+json";

/// The resources the plugin reads or writes, as discovery names them.
const PLUGIN_RESOURCES: &[&str] = &[
    "serviceaccounts",
    "serviceaccounts/token",
    "secrets",
    "configmaps",
    "pods",
    "pods/exec",
    "services",
    "namespaces",
    "deployments",
    "deployments/scale",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "roles",
    "rolebindings",
    "clusterroles",
    "clusterrolebindings",
    "selfsubjectaccessreviews",
    "selfsubjectrulesreviews",
    "tokenreviews",
    "prometheusrules",
    "servicemonitors",
    "certificates",
    "applications",
];

/// The API groups both servers serve and the plugin uses.
const GROUPS: &[&str] = &[
    "apps",
    "rbac.authorization.k8s.io",
    "authorization.k8s.io",
    "authentication.k8s.io",
    "monitoring.coreos.com",
    "cert-manager.io",
    "argoproj.io",
];

/// How an answer is reduced before the two servers' answers are compared.
#[derive(Clone, Copy)]
enum View {
    /// Code, the body's kind and apiVersion, and a Status's reason and message.
    Status,
    /// As `Status`, plus the Status's details (name, group, kind, causes).
    StatusDetails,
    /// A list: code, kind, item count, whether a continue token came back.
    Page,
    /// A metadata-only list: code, kind, apiVersion, item kinds, fields beyond metadata.
    Metadata,
    /// Legacy discovery: versions, groups, or the plugin's resources of a group version.
    LegacyDiscovery,
    /// Aggregated discovery: the plugin's groups and resources.
    AggregatedDiscovery,
}

/// What a request carries.
#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    /// Text with its content type (apply patches in YAML, merge patches).
    Text(&'static str, String),
    /// The object of this server's last successful GET, with a label added: what a client's
    /// get-modify-update does. Falls back to the given object when the GET was refused.
    LastGetWithLabel(Value),
}

#[derive(Clone)]
struct Case {
    name: String,
    user: &'static str,
    method: &'static str,
    /// `{continue}` is replaced by the continue token of this server's last list.
    path: String,
    accept: Option<&'static str>,
    /// Extra request headers (impersonation).
    headers: Vec<(&'static str, &'static str)>,
    body: Body,
    view: View,
}

fn case(
    name: impl Into<String>,
    user: &'static str,
    method: &'static str,
    path: impl Into<String>,
) -> Case {
    Case {
        name: name.into(),
        user,
        method,
        path: path.into(),
        accept: None,
        headers: Vec::new(),
        body: Body::None,
        view: View::Status,
    }
}

impl Case {
    fn json(mut self, body: Value) -> Case {
        self.body = Body::Json(body);
        self
    }
    fn text(mut self, content_type: &'static str, body: impl Into<String>) -> Case {
        self.body = Body::Text(content_type, body.into());
        self
    }
    fn accept(mut self, accept: &'static str) -> Case {
        self.accept = Some(accept);
        self
    }
    fn header(mut self, name: &'static str, value: &'static str) -> Case {
        self.headers.push((name, value));
        self
    }
    fn details(self) -> Case {
        self.view(View::StatusDetails)
    }
    fn view(mut self, view: View) -> Case {
        self.view = view;
        self
    }
}

/// One server under test: a client per user, and what later cases take from earlier ones.
struct Server {
    label: &'static str,
    url: String,
    clients: BTreeMap<&'static str, kube::Client>,
    last_get: Option<Value>,
    last_continue: String,
}

struct Reply {
    code: u16,
    content_type: String,
    body: String,
}

impl Server {
    async fn new(
        label: &'static str,
        url: &str,
        ca_pem: &str,
        tokens: &BTreeMap<&str, String>,
    ) -> Server {
        let mut clients = BTreeMap::new();
        for (user, token) in tokens {
            let yaml = cicd_sandbox::kubeconfig::render_for(label, url, ca_pem, user, token, NS);
            let kc = kube::config::Kubeconfig::from_yaml(&yaml).expect("kubeconfig parses");
            let mut config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .expect("kubeconfig loads");
            // Each answer must be the server's first, not a retried one.
            config.default_retry = false;
            config.read_timeout = Some(Duration::from_secs(30));
            let user: &'static str = USERS.iter().chain(&["carol"]).find(|u| *u == user).unwrap();
            clients.insert(user, kube::Client::try_from(config).expect("client builds"));
        }
        Server {
            label,
            url: url.to_string(),
            clients,
            last_get: None,
            last_continue: String::new(),
        }
    }

    async fn send(&mut self, case: &Case) -> Reply {
        let path = case.path.replace("{continue}", &self.last_continue);
        let mut builder = http::Request::builder().method(case.method).uri(&path);
        if let Some(accept) = case.accept {
            builder = builder.header(http::header::ACCEPT, accept);
        }
        for (name, value) in &case.headers {
            builder = builder.header(*name, *value);
        }
        let bytes = match &case.body {
            Body::None => Vec::new(),
            Body::Json(v) => {
                builder = builder.header(http::header::CONTENT_TYPE, "application/json");
                v.to_string().into_bytes()
            }
            Body::Text(content_type, text) => {
                builder = builder.header(http::header::CONTENT_TYPE, *content_type);
                text.clone().into_bytes()
            }
            Body::LastGetWithLabel(fallback) => {
                builder = builder.header(http::header::CONTENT_TYPE, "application/json");
                let mut obj = self.last_get.clone().unwrap_or_else(|| fallback.clone());
                obj["metadata"]["labels"]["updated"] = json!("yes");
                obj.to_string().into_bytes()
            }
        };
        let request = builder
            .body(kube::client::Body::from(bytes))
            .expect("request builds");
        let client = &self.clients[case.user];
        let response = client.send(request).await.unwrap_or_else(|e| {
            panic!(
                "{}: {} got no answer from the {}: {e}",
                case.name, path, self.label
            )
        });
        let code = response.status().as_u16();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_else(|e| format!("<body unreadable: {e}>"));
        let reply = Reply {
            code,
            content_type,
            body,
        };
        let parsed: Option<Value> = serde_json::from_str(&reply.body).ok();
        if case.method == "GET" {
            self.last_get = parsed
                .as_ref()
                .filter(|_| (200..300).contains(&code))
                .cloned();
        }
        if let Some(token) = parsed
            .as_ref()
            .and_then(|v| v["metadata"]["continue"].as_str())
        {
            self.last_continue = token.to_string();
        }
        reply
    }
}

/// The reply reduced to what is compared, with names of this server (its URL) normalised.
fn summarise(view: View, reply: &Reply, server_url: &str) -> String {
    let v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    let mut out = format!("{}", reply.code);
    match view {
        View::Status | View::StatusDetails => {
            let kind = v["kind"].as_str().unwrap_or("-");
            write!(out, " kind={kind}").unwrap();
            if kind == "Status" {
                write!(
                    out,
                    " status={} reason={} message={:?}",
                    v["status"].as_str().unwrap_or(""),
                    v["reason"].as_str().unwrap_or(""),
                    v["message"].as_str().unwrap_or(""),
                )
                .unwrap();
                if let View::StatusDetails = view {
                    let d = &v["details"];
                    write!(
                        out,
                        " code={} details.name={} details.group={} details.kind={}",
                        v["code"],
                        d["name"].as_str().unwrap_or(""),
                        d["group"].as_str().unwrap_or(""),
                        d["kind"].as_str().unwrap_or(""),
                    )
                    .unwrap();
                    // The real server's order of causes follows a Go map's: not stable.
                    let mut causes: Vec<String> = d["causes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| {
                            format!(
                                " cause({} {} {:?})",
                                c["reason"].as_str().unwrap_or(""),
                                c["field"].as_str().unwrap_or(""),
                                c["message"].as_str().unwrap_or(""),
                            )
                        })
                        .collect();
                    causes.sort();
                    out.extend(causes);
                }
            } else if !v.is_object() {
                write!(
                    out,
                    " content-type={:?} body={:?}",
                    reply.content_type,
                    reply.body.chars().take(80).collect::<String>()
                )
                .unwrap();
            } else {
                write!(
                    out,
                    " apiVersion={}",
                    v["apiVersion"].as_str().unwrap_or("-")
                )
                .unwrap();
            }
        }
        View::Page => {
            if v["kind"] == "Status" {
                return summarise(View::Status, reply, server_url);
            }
            write!(
                out,
                " kind={} items={} continue={} remainingItemCount={}",
                v["kind"].as_str().unwrap_or("-"),
                v["items"].as_array().map_or(0, Vec::len),
                v["metadata"]["continue"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty()),
                v["metadata"]["remainingItemCount"],
            )
            .unwrap();
        }
        View::Metadata => {
            if v["kind"] == "Status" {
                return summarise(View::Status, reply, server_url);
            }
            let items = v["items"].as_array().cloned().unwrap_or_default();
            let item_kinds: BTreeSet<String> = items
                .iter()
                .map(|i| {
                    format!(
                        "{}/{}",
                        i["apiVersion"].as_str().unwrap_or("-"),
                        i["kind"].as_str().unwrap_or("-")
                    )
                })
                .collect();
            let fields: BTreeSet<String> = items
                .iter()
                .flat_map(|i| i.as_object().into_iter().flat_map(|o| o.keys().cloned()))
                .collect();
            let names: BTreeSet<&str> = items
                .iter()
                .filter_map(|i| i["metadata"]["name"].as_str())
                .collect();
            write!(
                out,
                " content-type={} kind={} apiVersion={} items={} names={names:?} item-kinds={item_kinds:?} item-fields={fields:?} resourceVersion={}",
                reply.content_type.split(';').next().unwrap_or(""),
                v["kind"].as_str().unwrap_or("-"),
                v["apiVersion"].as_str().unwrap_or("-"),
                items.len(),
                v["metadata"]["resourceVersion"].as_str().is_some_and(|r| !r.is_empty()),
            )
            .unwrap();
        }
        View::LegacyDiscovery => write!(out, "{}", legacy_discovery(&v)).unwrap(),
        View::AggregatedDiscovery => write!(
            out,
            " content-type={:?}{}",
            reply.content_type.replace(' ', ""),
            aggregated_discovery(&v)
        )
        .unwrap(),
    }
    normalise(&out, server_url)
}

fn sorted_strings(v: &Value) -> Vec<String> {
    let mut list: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(String::from))
        .collect();
    list.sort();
    list
}

fn legacy_discovery(v: &Value) -> String {
    let mut out = format!(" kind={}", v["kind"].as_str().unwrap_or("-"));
    match v["kind"].as_str() {
        Some("APIVersions") => write!(out, " versions={:?}", v["versions"]).unwrap(),
        Some("APIGroupList") => {
            for g in v["groups"].as_array().into_iter().flatten() {
                let name = g["name"].as_str().unwrap_or("");
                if GROUPS.contains(&name) {
                    let versions: Vec<&str> = g["versions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v["groupVersion"].as_str())
                        .collect();
                    write!(
                        out,
                        "\n  group {name} versions={versions:?} preferred={}",
                        g["preferredVersion"]["groupVersion"]
                            .as_str()
                            .unwrap_or("-")
                    )
                    .unwrap();
                }
            }
        }
        Some("APIResourceList") => {
            write!(
                out,
                " groupVersion={}",
                v["groupVersion"].as_str().unwrap_or("-")
            )
            .unwrap();
            let mut lines = Vec::new();
            for r in v["resources"].as_array().into_iter().flatten() {
                let name = r["name"].as_str().unwrap_or("");
                if PLUGIN_RESOURCES.contains(&name) {
                    lines.push(format!(
                        "\n  {name} namespaced={} kind={} singular={:?} verbs={:?} short={:?} categories={:?}",
                        r["namespaced"],
                        r["kind"].as_str().unwrap_or("-"),
                        r["singularName"].as_str().unwrap_or(""),
                        sorted_strings(&r["verbs"]),
                        sorted_strings(&r["shortNames"]),
                        sorted_strings(&r["categories"]),
                    ));
                }
            }
            lines.sort();
            out.extend(lines);
        }
        _ => write!(out, " reason={}", v["reason"].as_str().unwrap_or("")).unwrap(),
    }
    out
}

fn aggregated_discovery(v: &Value) -> String {
    let mut out = format!(
        " kind={} apiVersion={}",
        v["kind"].as_str().unwrap_or("-"),
        v["apiVersion"].as_str().unwrap_or("-")
    );
    let mut lines = Vec::new();
    for g in v["items"].as_array().into_iter().flatten() {
        let group = g["metadata"]["name"].as_str().unwrap_or("");
        if !(group.is_empty() || GROUPS.contains(&group)) {
            continue;
        }
        for ver in g["versions"].as_array().into_iter().flatten() {
            let version = ver["version"].as_str().unwrap_or("");
            lines.push(format!(
                "\n  {group}/{version} freshness={}",
                ver["freshness"].as_str().unwrap_or("-")
            ));
            for r in ver["resources"].as_array().into_iter().flatten() {
                let name = r["resource"].as_str().unwrap_or("");
                if !PLUGIN_RESOURCES.contains(&name) {
                    continue;
                }
                let subs: Vec<String> = r["subresources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|s| {
                        let full = format!("{name}/{}", s["subresource"].as_str().unwrap_or(""));
                        PLUGIN_RESOURCES.contains(&full.as_str())
                    })
                    .map(|s| {
                        format!(
                            "{}(kind={} verbs={:?})",
                            s["subresource"].as_str().unwrap_or(""),
                            s["responseKind"]["kind"].as_str().unwrap_or("-"),
                            sorted_strings(&s["verbs"])
                        )
                    })
                    .collect();
                lines.push(format!(
                    "\n  {group}/{version} {name} scope={} kind={} singular={:?} verbs={:?} short={:?} categories={:?} sub={subs:?}",
                    r["scope"].as_str().unwrap_or("-"),
                    r["responseKind"]["kind"].as_str().unwrap_or("-"),
                    r["singularResource"].as_str().unwrap_or(""),
                    sorted_strings(&r["verbs"]),
                    sorted_strings(&r["shortNames"]),
                    sorted_strings(&r["categories"]),
                ));
            }
        }
    }
    lines.sort();
    out.extend(lines);
    out
}

/// Replaces what differs by nature between two servers: their URLs and UIDs.
fn normalise(text: &str, server_url: &str) -> String {
    let text = text.replace(server_url, "<server>");
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if is_uid_at(&chars[i..]) {
            out.push_str("<uid>");
            i += 36;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn is_uid_at(chars: &[char]) -> bool {
    chars.len() >= 36
        && chars[..36].iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == '-',
            _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
        })
}

/// Both summaries when short; otherwise only the lines (of a message or a discovery
/// summary) that one side has and the other lacks.
fn describe_difference(want: &str, got: &str) -> String {
    if want.len() + got.len() < 1200 {
        return format!("  real:    {want}\n  sandbox: {got}");
    }
    let lines =
        |s: &str| -> Vec<String> { s.replace("\\n", "\n").lines().map(String::from).collect() };
    let (w, g) = (lines(want), lines(got));
    let mut out = String::new();
    for l in w.iter().filter(|l| !g.contains(l)) {
        writeln!(out, "  only real:    {l}").unwrap();
    }
    for l in g.iter().filter(|l| !w.contains(l)) {
        writeln!(out, "  only sandbox: {l}").unwrap();
    }
    if out.is_empty() {
        out = "  the same lines in another order\n".into();
    }
    out.trim_end().to_string()
}

// ---------------------------------------------------------------------------------------------
// The table.

/// Kinds of the verbs x kinds matrix: resource path, short name for object names, and a body.
struct Kind {
    resource: &'static str,
    prefix: &'static str,
    object: fn(&str) -> Value,
}

fn meta(name: &str) -> Value {
    json!({"name": name, "namespace": NS})
}

fn service_account(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(name)})
}
fn secret(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta(name), "type": "Opaque",
        "stringData": {"k": "v"}})
}
fn config_map(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name), "data": {"k": "v"}})
}
fn role(name: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(name),
        "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]}]})
}
fn role_binding(name: &str) -> Value {
    binding_to(name, "Role", "bob-deployer", "dave")
}
fn deployment(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name),
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
}
fn service(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": meta(name),
        "spec": {"ports": [{"port": 80}], "selector": {"app": name}}})
}
fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta(name),
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
}

const KINDS: &[Kind] = &[
    Kind {
        resource: "/api/v1/namespaces/team-a/serviceaccounts",
        prefix: "sa",
        object: service_account,
    },
    Kind {
        resource: "/api/v1/namespaces/team-a/secrets",
        prefix: "secret",
        object: secret,
    },
    Kind {
        resource: "/api/v1/namespaces/team-a/configmaps",
        prefix: "cm",
        object: config_map,
    },
    Kind {
        resource: "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles",
        prefix: "role",
        object: role,
    },
    Kind {
        resource: "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings",
        prefix: "rb",
        object: role_binding,
    },
    Kind {
        resource: "/apis/apps/v1/namespaces/team-a/deployments",
        prefix: "deploy",
        object: deployment,
    },
    Kind {
        resource: "/api/v1/namespaces/team-a/services",
        prefix: "svc",
        object: service,
    },
    Kind {
        resource: "/api/v1/namespaces/team-a/pods",
        prefix: "pod",
        object: pod,
    },
];

/// Every user against get/list/create/update/patch/delete of every kind, in team-a.
fn verb_matrix() -> Vec<Case> {
    let mut cases = Vec::new();
    for user in USERS {
        for k in KINDS {
            let name = format!("{}-{user}", k.prefix);
            let obj = (k.object)(&name);
            let item = format!("{}/{name}", k.resource);
            let label = |verb: &str| format!("matrix {user} {verb} {}", k.prefix);
            cases.push(case(label("create"), user, "POST", k.resource).json(obj.clone()));
            cases.push(case(label("list"), user, "GET", k.resource));
            cases.push(case(label("get"), user, "GET", &item));
            let mut update = case(label("update"), user, "PUT", &item);
            update.body = Body::LastGetWithLabel(obj);
            cases.push(update);
            cases.push(
                case(label("patch"), user, "PATCH", &item)
                    .text(MERGE, r#"{"metadata":{"labels":{"patched":"yes"}}}"#),
            );
            cases.push(case(label("delete"), user, "DELETE", &item));
        }
    }
    cases
}

/// Collections of team-a and the cluster-wide RBAC collections.
const CORE: &str = "/api/v1/namespaces/team-a";
const APPS: &str = "/apis/apps/v1/namespaces/team-a";
const RBAC: &str = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a";
const CLUSTER_RBAC: &str = "/apis/rbac.authorization.k8s.io/v1";
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn token_request(spec: Value) -> Value {
    json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
}

fn expiring_in(seconds: u64) -> Value {
    token_request(json!({"expirationSeconds": seconds}))
}

fn bound_to(kind: &str, name: &str, uid: Option<&str>) -> Value {
    let mut reference = json!({"kind": kind, "apiVersion": "v1", "name": name});
    if let Some(uid) = uid {
        reference["uid"] = json!(uid);
    }
    token_request(json!({"boundObjectRef": reference}))
}

fn token_secret(name: &str, service_account: Option<&str>) -> Value {
    let mut secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta(name),
        "type": "kubernetes.io/service-account-token"});
    if let Some(sa) = service_account {
        secret["metadata"]["annotations"] = json!({"kubernetes.io/service-account.name": sa});
    }
    secret
}

fn pod_of(name: &str, service_account: &str) -> Value {
    let mut p = pod(name);
    p["spec"]["serviceAccountName"] = json!(service_account);
    p
}

fn subresources() -> Vec<Case> {
    let sa_token = &format!("{CORE}/serviceaccounts/default/token");
    let mut cases = vec![
        case(
            "admin creates sa-tokens",
            "admin",
            "POST",
            format!("{CORE}/serviceaccounts"),
        )
        .json(service_account("sa-tokens")),
    ];
    for user in USERS {
        let name = format!("token {user} for default 3600s");
        cases.push(case(name, user, "POST", sa_token).json(expiring_in(3600)));
    }
    let exec = |pod: &str| format!("{CORE}/pods/{pod}/exec?command=true&stdout=true");
    cases.extend([
        case("token 599s", "admin", "POST", sa_token)
            .json(expiring_in(599))
            .details(),
        case("token 600s", "admin", "POST", sa_token).json(expiring_in(600)),
        case("token 2^32s", "admin", "POST", sa_token)
            .json(expiring_in(1 << 32))
            .details(),
        case("token 2^32+1s", "admin", "POST", sa_token)
            .json(expiring_in((1 << 32) + 1))
            .details(),
        case("token 2^32-1s", "admin", "POST", sa_token).json(expiring_in((1 << 32) - 1)),
        case(
            "token no spec",
            "admin",
            "POST",
            format!("{CORE}/serviceaccounts/sa-tokens/token"),
        )
        .json(json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest"})),
        case(
            "token for a missing ServiceAccount",
            "admin",
            "POST",
            format!("{CORE}/serviceaccounts/nobody/token"),
        )
        .json(expiring_in(3600))
        .details(),
        case("token bound to a missing Secret", "admin", "POST", sa_token)
            .json(bound_to("Secret", "nosuch", None))
            .details(),
        case(
            "bound pod of another ServiceAccount",
            "admin",
            "POST",
            format!("{CORE}/pods"),
        )
        .json(pod_of("pod-bound", "sa-tokens")),
        case("bound secret", "admin", "POST", format!("{CORE}/secrets"))
            .json(secret("bound-secret")),
        case("token bound to a ConfigMap", "admin", "POST", sa_token)
            .json(bound_to("ConfigMap", "x", None))
            .details(),
        case(
            "token bound to another ServiceAccount's pod",
            "admin",
            "POST",
            sa_token,
        )
        .json(bound_to("Pod", "pod-bound", None))
        .details(),
        case(
            "token bound to a Secret with the wrong uid",
            "admin",
            "POST",
            sa_token,
        )
        .json(bound_to(
            "Secret",
            "bound-secret",
            Some("00000000-0000-0000-0000-000000000000"),
        ))
        .details(),
        case("token bound to a Secret", "admin", "POST", sa_token).json(bound_to(
            "Secret",
            "bound-secret",
            None,
        )),
        case(
            "token Secret without its ServiceAccount",
            "admin",
            "POST",
            format!("{CORE}/secrets"),
        )
        .json(token_secret("orphan-token", Some("nobody"))),
        case(
            "token Secret without the annotation",
            "admin",
            "POST",
            format!("{CORE}/secrets"),
        )
        .json(token_secret("unnamed-token", None))
        .details(),
        case(
            "admin creates deploy-scale",
            "admin",
            "POST",
            format!("{APPS}/deployments"),
        )
        .json(deployment("deploy-scale")),
        case(
            "admin creates pod-exec",
            "admin",
            "POST",
            format!("{CORE}/pods"),
        )
        .json(pod("pod-exec")),
    ]);
    let scale = &format!("{APPS}/deployments/deploy-scale/scale");
    for user in ["admin", "alice", "bob"] {
        cases.push(case(format!("scale get {user}"), user, "GET", scale));
        cases.push(
            case(format!("scale patch {user}"), user, "PATCH", scale)
                .text(MERGE, r#"{"spec":{"replicas":2}}"#),
        );
        cases.push(case(format!("exec {user}"), user, "POST", exec("pod-exec")));
    }
    cases.push(case(
        "exec on a missing pod",
        "alice",
        "POST",
        exec("nosuch"),
    ));
    let missing_scale = format!("{APPS}/deployments/nosuch/scale");
    cases.push(
        case(
            "scale of a missing deployment",
            "alice",
            "GET",
            missing_scale,
        )
        .details(),
    );
    for user in ["admin", "alice", "bob"] {
        for ns in ["team-a", "demo"] {
            let secrets = format!("/api/v1/namespaces/{ns}/secrets");
            cases.push(case(
                format!("secrets {user} list {ns}"),
                user,
                "GET",
                &secrets,
            ));
            let name = format!("secrets {user} get {ns}");
            cases.push(case(name, user, "GET", format!("{secrets}/nosuch")).details());
        }
    }
    cases
}

fn rbac_rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

fn role_with(name: &str, rules: Vec<Value>) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(name),
        "rules": rules})
}

fn cluster_role_with(name: &str, rules: Vec<Value>) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name}, "rules": rules})
}

fn role_ref(kind: &str, role: &str, user: &str) -> (Value, Value) {
    (
        json!({"apiGroup": RBAC_GROUP, "kind": kind, "name": role}),
        json!([{"apiGroup": RBAC_GROUP, "kind": "User", "name": user}]),
    )
}

fn binding_to(name: &str, kind: &str, role: &str, user: &str) -> Value {
    let (role_ref, subjects) = role_ref(kind, role, user);
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(name),
        "roleRef": role_ref, "subjects": subjects})
}

fn cluster_binding_to(name: &str, role: &str, user: &str) -> Value {
    let (role_ref, subjects) = role_ref("ClusterRole", role, user);
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name}, "roleRef": role_ref, "subjects": subjects})
}

fn escalation() -> Vec<Case> {
    let roles = &format!("{RBAC}/roles");
    let bindings = &format!("{RBAC}/rolebindings");
    let cluster_roles = &format!("{CLUSTER_RBAC}/clusterroles");
    let cluster_bindings = &format!("{CLUSTER_RBAC}/clusterrolebindings");
    let get = |resource: &str| rbac_rule(&[""], &[resource], &["get"]);
    let bind = |name: &str, kind: &str, role: &str, user: &str| binding_to(name, kind, role, user);
    let two_missing = vec![
        rbac_rule(&[""], &["secrets", "configmaps"], &["get", "list"]),
        rbac_rule(&["apps"], &["deployments"], &["get"]),
    ];
    let writer = rbac_rule(
        &[RBAC_GROUP],
        &["roles", "rolebindings"],
        &["create", "update", "get"],
    );
    let bind_view = json!({"apiGroups": [RBAC_GROUP], "resources": ["clusterroles"],
        "verbs": ["bind"], "resourceNames": ["view"]});
    let escalate = rbac_rule(&[RBAC_GROUP], &["roles"], &["escalate"]);
    let crb_writer = rbac_rule(&[RBAC_GROUP], &["clusterrolebindings"], &["create"]);
    vec![
        case("bob creates a Role with secrets", "bob", "POST", roles)
            .json(role_with("esc-secrets", vec![get("secrets")])),
        case(
            "bob creates a Role with two missing rules",
            "bob",
            "POST",
            roles,
        )
        .json(role_with("esc-two", two_missing)),
        case("bob creates a Role within his rights", "bob", "POST", roles)
            .json(role_with("esc-within", vec![get("services")])),
        case(
            "bob widens his Role within to secrets",
            "bob",
            "PUT",
            format!("{roles}/esc-within"),
        )
        .json(role_with("esc-within", vec![get("secrets")])),
        case("bob binds ClusterRole admin", "bob", "POST", bindings).json(bind(
            "esc-admin",
            "ClusterRole",
            "admin",
            "bob",
        )),
        case("bob binds ClusterRole view", "bob", "POST", bindings).json(bind(
            "esc-view",
            "ClusterRole",
            "view",
            "bob",
        )),
        case("bob binds his own Role", "bob", "POST", bindings).json(bind(
            "esc-own",
            "Role",
            "bob-deployer",
            "eve",
        )),
        case("bob binds a missing Role", "bob", "POST", bindings).json(bind(
            "esc-missing",
            "Role",
            "nosuch",
            "eve",
        )),
        case("alice binds cluster-admin", "alice", "POST", bindings).json(bind(
            "esc-ca",
            "ClusterRole",
            "cluster-admin",
            "alice",
        )),
        case("alice binds ClusterRole edit", "alice", "POST", bindings).json(bind(
            "esc-edit",
            "ClusterRole",
            "edit",
            "eve",
        )),
        case("alice creates a Role with nodes", "alice", "POST", roles)
            .json(role_with("esc-nodes", vec![get("nodes")])),
        case(
            "alice creates a Role with a wildcard",
            "alice",
            "POST",
            roles,
        )
        .json(role_with(
            "esc-star",
            vec![rbac_rule(&["*"], &["*"], &["*"])],
        )),
        case(
            "admin binds cluster-admin in team-a",
            "admin",
            "POST",
            bindings,
        )
        .json(bind("esc-admin-ca", "ClusterRole", "cluster-admin", "eve")),
        // carol starts with nothing; she gets RBAC writes, then `bind`, then `escalate`.
        case("carol lists roles", "carol", "GET", roles),
        case("admin gives carol RBAC writes", "admin", "POST", roles)
            .json(role_with("carol-writer", vec![writer])),
        case("admin binds carol-writer", "admin", "POST", bindings).json(bind(
            "carol-writer",
            "Role",
            "carol-writer",
            "carol",
        )),
        case("carol binds view without bind", "carol", "POST", bindings).json(bind(
            "carol-view",
            "ClusterRole",
            "view",
            "carol",
        )),
        case(
            "carol creates a Role with pods without escalate",
            "carol",
            "POST",
            roles,
        )
        .json(role_with("carol-pods", vec![get("pods")])),
        case("admin gives carol bind on view", "admin", "POST", roles)
            .json(role_with("carol-bind", vec![bind_view])),
        case("admin binds carol-bind", "admin", "POST", bindings).json(bind(
            "carol-bind",
            "Role",
            "carol-bind",
            "carol",
        )),
        case("carol binds view with bind", "carol", "POST", bindings).json(bind(
            "carol-view",
            "ClusterRole",
            "view",
            "carol",
        )),
        case(
            "carol binds edit with bind on view only",
            "carol",
            "POST",
            bindings,
        )
        .json(bind("carol-edit", "ClusterRole", "edit", "carol")),
        case("admin gives carol escalate", "admin", "POST", roles)
            .json(role_with("carol-escalate", vec![escalate])),
        case("admin binds carol-escalate", "admin", "POST", bindings).json(bind(
            "carol-escalate",
            "Role",
            "carol-escalate",
            "carol",
        )),
        case(
            "carol creates a Role with pods with escalate",
            "carol",
            "POST",
            roles,
        )
        .json(role_with("carol-pods", vec![get("pods")])),
        case(
            "admin lets carol create ClusterRoleBindings",
            "admin",
            "POST",
            cluster_roles,
        )
        .json(cluster_role_with("carol-crb", vec![crb_writer])),
        case("admin binds carol-crb", "admin", "POST", cluster_bindings).json(cluster_binding_to(
            "carol-crb",
            "carol-crb",
            "carol",
        )),
        case(
            "carol binds a missing ClusterRole cluster-wide",
            "carol",
            "POST",
            cluster_bindings,
        )
        .json(cluster_binding_to("carol-missing", "nosuch", "carol"))
        .details(),
        case(
            "carol binds view cluster-wide",
            "carol",
            "POST",
            cluster_bindings,
        )
        .json(cluster_binding_to("carol-view", "view", "carol")),
    ]
}

fn apply_yaml(kind: &str, name: &str, rest: &str) -> String {
    let api_version = if kind == "RoleBinding" {
        "rbac.authorization.k8s.io/v1"
    } else {
        "v1"
    };
    format!(
        "apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: team-a\n{rest}"
    )
}

fn server_side_apply() -> Vec<Case> {
    let cm = "/api/v1/namespaces/team-a/configmaps/ssa-cm";
    let rb = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/ssa-rb";
    let data = |v: &str| apply_yaml("ConfigMap", "ssa-cm", &format!("data:\n  k: {v}\n"));
    let binding = |role: &str| {
        apply_yaml(
            "RoleBinding",
            "ssa-rb",
            &format!(
                "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {role}\nsubjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: User\n  name: eve\n"
            ),
        )
    };
    vec![
        case(
            "apply creates",
            "alice",
            "PATCH",
            format!("{cm}?fieldManager=one"),
        )
        .text(APPLY, data("a")),
        case(
            "apply identical",
            "alice",
            "PATCH",
            format!("{cm}?fieldManager=one"),
        )
        .text(APPLY, data("a")),
        case(
            "apply conflict",
            "alice",
            "PATCH",
            format!("{cm}?fieldManager=two"),
        )
        .text(APPLY, data("b"))
        .details(),
        case(
            "apply same value other manager",
            "alice",
            "PATCH",
            format!("{cm}?fieldManager=three"),
        )
        .text(APPLY, data("a")),
        case(
            "apply conflict two managers",
            "alice",
            "PATCH",
            format!("{cm}?fieldManager=two"),
        )
        .text(APPLY, data("c"))
        .details(),
        case(
            "apply force",
            "alice",
            "PATCH",
            format!("{cm}?fieldManager=two&force=true"),
        )
        .text(APPLY, data("b")),
        case("apply without fieldManager", "alice", "PATCH", cm)
            .text(APPLY, data("d"))
            .details(),
        case(
            "apply force on create",
            "alice",
            "PATCH",
            "/api/v1/namespaces/team-a/configmaps/ssa-forced?fieldManager=one&force=true",
        )
        .text(
            APPLY,
            apply_yaml("ConfigMap", "ssa-forced", "data:\n  k: v\n"),
        ),
        case(
            "apply with a name mismatch",
            "alice",
            "PATCH",
            format!("{cm}?fieldManager=one"),
        )
        .text(
            APPLY,
            apply_yaml("ConfigMap", "other-name", "data:\n  k: b\n"),
        )
        .details(),
        case(
            "apply bad YAML",
            "alice",
            "PATCH",
            format!("{cm}?fieldManager=one"),
        )
        .text(APPLY, "kind: [unclosed"),
        case(
            "apply by bob of a configmap",
            "bob",
            "PATCH",
            "/api/v1/namespaces/team-a/configmaps/ssa-bob?fieldManager=one",
        )
        .text(APPLY, apply_yaml("ConfigMap", "ssa-bob", "data:\n  k: v\n")),
        case(
            "apply binding",
            "alice",
            "PATCH",
            format!("{rb}?fieldManager=one"),
        )
        .text(APPLY, binding("view")),
        case(
            "apply binding identical",
            "alice",
            "PATCH",
            format!("{rb}?fieldManager=one"),
        )
        .text(APPLY, binding("view")),
        case(
            "apply binding roleRef change",
            "alice",
            "PATCH",
            format!("{rb}?fieldManager=one"),
        )
        .text(APPLY, binding("edit"))
        .details(),
        case(
            "apply binding roleRef change forced",
            "alice",
            "PATCH",
            format!("{rb}?fieldManager=one&force=true"),
        )
        .text(APPLY, binding("edit"))
        .details(),
        case("update binding roleRef change", "alice", "PUT", rb)
            .json(binding_to("ssa-rb", "ClusterRole", "edit", "eve"))
            .details(),
        case("merge patch binding roleRef", "alice", "PATCH", rb)
            .text(MERGE, r#"{"roleRef":{"name":"edit"}}"#)
            .details(),
    ]
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn names_and_statuses() -> Vec<Case> {
    let (configmaps, secrets) = (&format!("{CORE}/configmaps"), &format!("{CORE}/secrets"));
    let (services, roles) = (&format!("{CORE}/services"), &format!("{RBAC}/roles"));
    let namespaces = "/api/v1/namespaces";
    let mut unnamed = config_map("");
    unnamed["metadata"] = json!({});
    let mut elsewhere = config_map("cm-mismatch");
    elsewhere["metadata"]["namespace"] = json!("demo");
    let mut in_missing = config_map("x");
    in_missing["metadata"]["namespace"] = json!("nosuch");
    let mut stale = config_map("dup");
    stale["metadata"]["resourceVersion"] = json!("1");
    let mut empty_deployment = deployment("deploy-empty");
    empty_deployment["spec"] = json!({});
    let no_verbs = json!({"apiGroups": [""], "resources": ["pods"], "verbs": []});
    vec![
        case("name with underscore", "admin", "POST", configmaps)
            .json(config_map("bad_name"))
            .details(),
        case(
            "name upper case",
            "admin",
            "POST",
            format!("{CORE}/serviceaccounts"),
        )
        .json(service_account("Upper"))
        .details(),
        case("name 254 characters", "admin", "POST", configmaps)
            .json(config_map(&"a".repeat(254)))
            .details(),
        case("name 253 characters", "admin", "POST", secrets).json(secret(&"b".repeat(253))),
        case(
            "service name starting with a digit",
            "admin",
            "POST",
            services,
        )
        .json(service("1svc"))
        .details(),
        case("service name with a dot", "admin", "POST", services)
            .json(service("svc.dot"))
            .details(),
        case("role name with a colon", "admin", "POST", roles).json(role("ci:deployer")),
        case("role name with a slash", "admin", "POST", roles)
            .json(role("ci/deployer"))
            .details(),
        case("namespace name 64 characters", "admin", "POST", namespaces)
            .json(namespace(&"a".repeat(64)))
            .details(),
        case("namespace name with a dot", "admin", "POST", namespaces)
            .json(namespace("a.b"))
            .details(),
        case("missing name", "admin", "POST", configmaps)
            .json(unnamed)
            .details(),
        case("namespace mismatch", "admin", "POST", configmaps)
            .json(elsewhere)
            .details(),
        case("404 body", "admin", "GET", format!("{configmaps}/nosuch")).details(),
        case("404 body rbac", "admin", "GET", format!("{roles}/nosuch")).details(),
        case(
            "404 missing namespace",
            "admin",
            "GET",
            format!("{namespaces}/nosuch"),
        )
        .details(),
        case(
            "404 create in a missing namespace",
            "admin",
            "POST",
            format!("{namespaces}/nosuch/configmaps"),
        )
        .json(in_missing)
        .details(),
        case(
            "404 unknown resource",
            "admin",
            "GET",
            format!("{CORE}/widgets"),
        )
        .details(),
        case(
            "404 delete missing",
            "admin",
            "DELETE",
            format!("{APPS}/deployments/nosuch"),
        )
        .details(),
        case("409 setup", "admin", "POST", configmaps).json(config_map("dup")),
        case("409 body", "admin", "POST", configmaps)
            .json(config_map("dup"))
            .details(),
        case(
            "409 stale resourceVersion",
            "admin",
            "PUT",
            format!("{configmaps}/dup"),
        )
        .json(stale)
        .details(),
        case("401 body", "unknown", "GET", configmaps).details(),
        case("401 discovery", "unknown", "GET", "/api").details(),
        case("403 body", "bob", "GET", format!("{configmaps}/x")).details(),
        case("403 cluster scope", "bob", "GET", namespaces).details(),
        case(
            "403 cluster-scoped object",
            "alice",
            "GET",
            format!("{CLUSTER_RBAC}/clusterroles/admin"),
        )
        .details(),
        case("403 all namespaces", "alice", "GET", "/api/v1/secrets").details(),
        case(
            "403 CRD",
            "bob",
            "GET",
            "/apis/monitoring.coreos.com/v1/namespaces/team-a/prometheusrules",
        )
        .details(),
        case("403 non-resource", "bob", "GET", "/metrics").details(),
        case("422 body", "admin", "POST", format!("{APPS}/deployments")).json(empty_deployment),
        case("422 role without verbs", "admin", "POST", roles)
            .json(role_with("role-noverbs", vec![no_verbs]))
            .details(),
        case("400 body not JSON", "admin", "POST", configmaps)
            .text("application/json", "{not json"),
        case(
            "415 content type",
            "admin",
            "PATCH",
            format!("{configmaps}/dup"),
        )
        .text("text/plain", "x")
        .details(),
        case("405 method", "admin", "PUT", configmaps)
            .json(config_map("x"))
            .details(),
        case("kind mismatch", "admin", "POST", configmaps)
            .json(secret("cm-is-secret"))
            .details(),
    ]
}

fn discovery() -> Vec<Case> {
    let mut cases = vec![
        case("aggregated /apis", "admin", "GET", "/apis")
            .accept(AGGREGATED)
            .view(View::AggregatedDiscovery),
        case("aggregated /api", "admin", "GET", "/api")
            .accept(AGGREGATED)
            .view(View::AggregatedDiscovery),
        case("aggregated /apis as bob", "bob", "GET", "/apis")
            .accept(AGGREGATED)
            .view(View::AggregatedDiscovery),
        case("legacy /api", "admin", "GET", "/api").view(View::LegacyDiscovery),
        case("legacy /apis", "admin", "GET", "/apis").view(View::LegacyDiscovery),
        case("legacy /api/v1", "alice", "GET", "/api/v1").view(View::LegacyDiscovery),
        case(
            "legacy missing group",
            "admin",
            "GET",
            "/apis/nosuch.example.com/v1",
        )
        .details(),
        case(
            "legacy missing group name",
            "admin",
            "GET",
            "/apis/nosuch.example.com",
        )
        .details(),
        case("legacy missing core version", "admin", "GET", "/api/v2").details(),
        case("unknown top-level path", "admin", "GET", "/nosuch").details(),
        case(
            "resource of a missing group",
            "admin",
            "GET",
            "/apis/nosuch.example.com/v1/namespaces/team-a/widgets",
        )
        .details(),
        case(
            "unknown resource of a served group",
            "admin",
            "GET",
            "/apis/apps/v1/namespaces/team-a/widgets",
        )
        .details(),
    ];
    for gv in [
        "apps/v1",
        "rbac.authorization.k8s.io/v1",
        "authorization.k8s.io/v1",
        "authentication.k8s.io/v1",
        "monitoring.coreos.com/v1",
        "cert-manager.io/v1",
        "argoproj.io/v1alpha1",
    ] {
        cases.push(
            case(
                format!("legacy /apis/{gv}"),
                "bob",
                "GET",
                format!("/apis/{gv}"),
            )
            .view(View::LegacyDiscovery),
        );
    }
    cases
}

/// `kubectl --as`: who may impersonate whom, and whose rights the request then has (the
/// impersonated ServiceAccount gets its groups).
fn impersonation() -> Vec<Case> {
    let configmaps = "/api/v1/namespaces/team-a/configmaps";
    let sa = "system:serviceaccount:team-a:default";
    vec![
        case("impersonate a ServiceAccount", "admin", "GET", configmaps)
            .header("Impersonate-User", sa)
            .details(),
        case("impersonate a user", "admin", "GET", configmaps)
            .header("Impersonate-User", "alice")
            .view(View::Page),
        case("impersonate a user and group", "admin", "GET", configmaps)
            .header("Impersonate-User", "carol")
            .header("Impersonate-Group", "devs")
            .details(),
        case("impersonate without the right", "bob", "GET", configmaps)
            .header("Impersonate-User", sa)
            .details(),
        case("impersonate a user without the right", "alice", "GET", configmaps)
            .header("Impersonate-User", "bob")
            .details(),
        case("impersonate a group without a user", "admin", "GET", configmaps)
            .header("Impersonate-Group", "devs")
            .view(View::Status),
        case(
            "impersonated review",
            "admin",
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        )
        .header("Impersonate-User", sa)
        .json(json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                     "spec": {"resourceAttributes": {"namespace": "team-a", "verb": "get", "resource": "secrets"}}}))
        .view(View::Status),
    ]
}

fn lists_and_paging() -> Vec<Case> {
    let roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/diff-paging/roles";
    let mut cases = vec![
        case("paging namespace", "admin", "POST", "/api/v1/namespaces").json(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "diff-paging"}}),
        ),
    ];
    for i in 1..=3 {
        let mut r = role(&format!("page-{i}"));
        r["metadata"]["namespace"] = json!("diff-paging");
        cases.push(case(format!("paging role {i}"), "admin", "POST", roles).json(r));
    }
    cases.extend([
        case("metadata list", "admin", "GET", roles)
            .accept(METADATA_LIST)
            .view(View::Metadata),
        case(
            "metadata list as alice",
            "alice",
            "GET",
            "/api/v1/namespaces/team-a/secrets?labelSelector=nosuch%3Dx",
        )
        .accept(METADATA_LIST)
        .view(View::Metadata),
        case(
            "metadata list forbidden",
            "bob",
            "GET",
            "/api/v1/namespaces/team-a/secrets",
        )
        .accept(METADATA_LIST)
        .details(),
        case("metadata get", "admin", "GET", format!("{roles}/page-1"))
            .accept("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1")
            .view(View::Status),
        case("list limit 10", "admin", "GET", format!("{roles}?limit=10")).view(View::Page),
        case("list limit 1", "admin", "GET", format!("{roles}?limit=1")).view(View::Page),
        case(
            "list limit 1 next",
            "admin",
            "GET",
            format!("{roles}?limit=1&continue={{continue}}"),
        )
        .view(View::Page),
        case(
            "list limit 1 last",
            "admin",
            "GET",
            format!("{roles}?limit=1&continue={{continue}}"),
        )
        .view(View::Page),
        case(
            "list limit 2 metadata",
            "admin",
            "GET",
            format!("{roles}?limit=2"),
        )
        .accept(METADATA_LIST)
        .view(View::Page),
        case(
            "list invalid continue",
            "admin",
            "GET",
            format!("{roles}?limit=1&continue=garbage"),
        )
        .details(),
        case(
            "list label selector",
            "admin",
            "GET",
            format!("{roles}?labelSelector=app%3Dnone"),
        )
        .view(View::Page),
        case(
            "list bad label selector",
            "admin",
            "GET",
            format!("{roles}?labelSelector=%3D%3D%3D"),
        )
        .details(),
    ]);
    cases
}

fn table() -> Vec<Case> {
    let mut cases = verb_matrix();
    cases.extend(subresources());
    cases.extend(escalation());
    cases.extend(server_side_apply());
    cases.extend(names_and_statuses());
    cases.extend(lists_and_paging());
    cases.extend(impersonation());
    cases.extend(discovery());
    cases
}

// ---------------------------------------------------------------------------------------------

#[test]
fn sandbox_answers_as_the_real_kube_apiserver_does() {
    if !crate::real_wanted() {
        return;
    }
    let cluster = Cluster::start(Options::default()).unwrap_or_else(|e| {
        panic!("the real control plane did not start (set CICD_SKIP_REAL=1 to skip): {e}")
    });
    let sandbox = Sandbox::start(Config::default()).expect("sandbox starts");
    let carol = "sandbox-carol-token";
    sandbox.add_user(StaticUser {
        token: carol.into(),
        name: "carol".into(),
        uid: "uid-carol".into(),
        groups: Vec::new(),
    });

    let token_map = |get: &dyn Fn(&str) -> Option<String>, carol: String| {
        let mut tokens: BTreeMap<&str, String> = BTreeMap::new();
        for user in ["admin", "alice", "bob"] {
            tokens.insert(user, get(user).expect("seeded user"));
        }
        tokens.insert("carol", carol);
        tokens.insert("unknown", UNKNOWN_TOKEN.into());
        tokens
    };
    let real_tokens = token_map(
        &|u| cluster.user_token(u),
        cluster.user_token("carol").expect("carol"),
    );
    let sandbox_tokens = token_map(&|u| sandbox.user_token(u), carol.into());

    let cases = table();
    let started = Instant::now();
    let (agree, disagreements, stale) = cluster.block_on(async {
        let mut real = Server::new(
            "cicd-cluster",
            cluster.url(),
            cluster.ca_pem(),
            &real_tokens,
        )
        .await;
        let mut fake = Server::new(
            "cicd-sandbox",
            sandbox.url(),
            sandbox.ca_pem(),
            &sandbox_tokens,
        )
        .await;
        let mut disagreements = Vec::new();
        let mut stale = Vec::new();
        let mut agree = 0;
        for c in &cases {
            let r = real.send(c).await;
            let s = fake.send(c).await;
            let want = summarise(c.view, &r, &real.url);
            let got = summarise(c.view, &s, &fake.url);
            let intended = INTENDED.iter().find(|(name, _)| *name == c.name);
            if want != got {
                println!(
                    "DIFFER {} ({} {} as {})\n{}",
                    c.name,
                    c.method,
                    c.path,
                    c.user,
                    describe_difference(&want, &got)
                );
                if let Some((_, why)) = intended {
                    println!("  intended: {why}");
                } else {
                    disagreements.push(c.name.clone());
                }
            } else {
                agree += 1;
                if intended.is_some() {
                    stale.push(c.name.clone());
                }
            }
        }
        (agree, disagreements, stale)
    });
    let total = cases.len();
    let names: BTreeSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), total, "case names must be unique");
    for (name, _) in INTENDED {
        assert!(
            names.contains(name),
            "INTENDED names a case the table lacks: {name}"
        );
    }
    println!(
        "differential: {agree}/{total} requests agree ({} intended differences, {} unexpected) in {:.1} s",
        total - agree - disagreements.len(),
        disagreements.len(),
        started.elapsed().as_secs_f64()
    );
    for name in &stale {
        println!("note: intended difference \"{name}\" now agrees; remove it from INTENDED");
    }
    assert!(
        total >= 150,
        "the table must hold at least 150 requests, has {total}"
    );
    assert!(
        disagreements.is_empty(),
        "{} requests disagree with the real kube-apiserver and are not intended differences: {disagreements:#?}",
        disagreements.len()
    );
}
