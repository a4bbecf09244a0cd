//! The CI pipeline's kubeconfig: one cluster, one token user, one context with the namespace,
//! in the shape client-go writes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;

use super::SecretToken;

/// Everything the CI kubeconfig holds.
#[derive(Clone, Debug)]
pub struct CiKubeconfig {
    pub cluster_name: String,
    pub server: String,
    /// Embedded as `certificate-authority-data` (never as a path: the file travels alone).
    pub ca_pem: Option<Vec<u8>>,
    /// Only when the source context was insecure too.
    pub insecure_skip_tls_verify: bool,
    pub tls_server_name: Option<String>,
    pub proxy_url: Option<String>,
    pub user_name: String,
    pub context_name: String,
    pub namespace: String,
    pub token: SecretToken,
}

#[derive(Serialize)]
struct FileOut<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    clusters: Vec<NamedClusterOut<'a>>,
    users: Vec<NamedUserOut<'a>>,
    contexts: Vec<NamedContextOut<'a>>,
    #[serde(rename = "current-context")]
    current_context: &'a str,
}

#[derive(Serialize)]
struct NamedClusterOut<'a> {
    name: &'a str,
    cluster: ClusterOut<'a>,
}

#[derive(Serialize)]
struct NamedContextOut<'a> {
    name: &'a str,
    context: ContextOut<'a>,
}

#[derive(Serialize)]
struct NamedUserOut<'a> {
    name: &'a str,
    user: UserOut<'a>,
}

#[derive(Serialize)]
struct ClusterOut<'a> {
    server: &'a str,
    #[serde(
        rename = "certificate-authority-data",
        skip_serializing_if = "Option::is_none"
    )]
    certificate_authority_data: Option<String>,
    #[serde(rename = "insecure-skip-tls-verify", skip_serializing_if = "is_false")]
    insecure_skip_tls_verify: bool,
    #[serde(rename = "tls-server-name", skip_serializing_if = "Option::is_none")]
    tls_server_name: Option<&'a str>,
    #[serde(rename = "proxy-url", skip_serializing_if = "Option::is_none")]
    proxy_url: Option<&'a str>,
}

#[derive(Serialize)]
struct UserOut<'a> {
    token: &'a str,
}

#[derive(Serialize)]
struct ContextOut<'a> {
    cluster: &'a str,
    user: &'a str,
    namespace: &'a str,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The CI kubeconfig as YAML, in the shape client-go writes (clusters, users, contexts,
/// current-context), the CA embedded, insecure only when the source context was.
pub fn render(ci: &CiKubeconfig) -> String {
    // kubectl refuses a cluster with both a CA and insecure-skip-tls-verify.
    let ca = if ci.insecure_skip_tls_verify {
        None
    } else {
        ci.ca_pem.as_ref().map(|pem| B64.encode(pem))
    };
    let doc = FileOut {
        api_version: "v1",
        kind: "Config",
        clusters: vec![NamedClusterOut {
            name: &ci.cluster_name,
            cluster: ClusterOut {
                server: &ci.server,
                certificate_authority_data: ca,
                insecure_skip_tls_verify: ci.insecure_skip_tls_verify,
                tls_server_name: ci.tls_server_name.as_deref(),
                proxy_url: ci.proxy_url.as_deref(),
            },
        }],
        users: vec![NamedUserOut {
            name: &ci.user_name,
            user: UserOut {
                token: ci.token.expose(),
            },
        }],
        contexts: vec![NamedContextOut {
            name: &ci.context_name,
            context: ContextOut {
                cluster: &ci.cluster_name,
                user: &ci.user_name,
                namespace: &ci.namespace,
            },
        }],
        current_context: &ci.context_name,
    };
    // Plain structs of strings and bools always serialize.
    serde_saphyr::to_string(&doc).expect("a kubeconfig of strings serializes")
}
