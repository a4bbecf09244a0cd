//! kubeconfig files for the sandbox's users: the CA embedded as data, never
//! `insecure-skip-tls-verify`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

pub const CLUSTER_NAME: &str = "sandbox";

/// A kubeconfig (YAML) for `user` with `token`, defaulting to `namespace`.
pub fn render(server: &str, ca_pem: &str, user: &str, token: &str, namespace: &str) -> String {
    let ca = B64.encode(ca_pem);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {CLUSTER_NAME}
  cluster:
    server: {server}
    certificate-authority-data: {ca}
users:
- name: {user}
  user:
    token: {token}
contexts:
- name: {user}@{CLUSTER_NAME}
  context:
    cluster: {CLUSTER_NAME}
    user: {user}
    namespace: {namespace}
current-context: {user}@{CLUSTER_NAME}
preferences: {{}}
"
    )
}
