//! kubeconfig files: reading the user's source context as kubectl does ([`source`]), the CI
//! pipeline's kubeconfig ([`ci`]), and writing files that hold a token atomically with mode
//! 0600 ([`private_file`]).
//!
//! Tokens never appear in Debug output or error messages: they travel as [`SecretToken`].

mod ci;
mod private_file;
mod source;

use std::fmt;

pub use ci::{CiKubeconfig, render};
pub use private_file::{check_not_a_source, check_private_file, write_private_file};
pub use source::*;

/// A bearer token. Its `Debug` prints `<redacted>`, it has no `Display` and no `Serialize`:
/// the only way to the text is [`SecretToken::expose`], which makes every use visible.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn new(token: impl Into<String>) -> Self {
        SecretToken(token.into())
    }

    /// The token itself: only for an `Authorization` header or the kubeconfig being written.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for SecretToken {
    fn from(s: String) -> Self {
        SecretToken(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_redacted_in_debug() {
        let t = SecretToken::new("abc.def");
        assert_eq!(format!("{t:?}"), "<redacted>");
        let ci = CiKubeconfig {
            cluster_name: "c".into(),
            server: "https://x".into(),
            ca_pem: None,
            insecure_skip_tls_verify: false,
            tls_server_name: None,
            proxy_url: None,
            user_name: "u".into(),
            context_name: "u@c".into(),
            namespace: "ns".into(),
            token: t,
        };
        assert!(!format!("{ci:?}").contains("abc.def"));
    }
}
