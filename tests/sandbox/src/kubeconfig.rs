//! kubeconfig files for the sandbox's users: the CA embedded as data, never
//! `insecure-skip-tls-verify`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

pub const CLUSTER_NAME: &str = "sandbox";

/// A kubeconfig (YAML) for `user` with `token`, defaulting to `namespace`.
pub fn render(server: &str, ca_pem: &str, user: &str, token: &str, namespace: &str) -> String {
    render_for(CLUSTER_NAME, server, ca_pem, user, token, namespace)
}

/// The same for a test server of another name (the real control plane's launcher uses it too).
pub fn render_for(
    cluster: &str,
    server: &str,
    ca_pem: &str,
    user: &str,
    token: &str,
    namespace: &str,
) -> String {
    let ca = B64.encode(ca_pem);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {cluster}
  cluster:
    server: {server}
    certificate-authority-data: {ca}
users:
- name: {user}
  user:
    token: {token}
contexts:
- name: {user}@{cluster}
  context:
    cluster: {cluster}
    user: {user}
    namespace: {namespace}
current-context: {user}@{cluster}
preferences: {{}}
"
    )
}
