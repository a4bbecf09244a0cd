//! Authentication: static bearer tokens for people, and JWT-shaped ServiceAccount tokens
//! (bound tokens from TokenRequest, legacy tokens in Secrets) signed with a key made at start.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde_json::{Value, json};

use crate::rbac::UserInfo;

/// The audience the sandbox accepts, as a default kube-apiserver's `--api-audiences`.
pub const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
pub const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";

/// A person (or robot) with a static bearer token, like `--token-auth-file` entries.
#[derive(Clone, Debug)]
pub struct StaticUser {
    pub token: String,
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl StaticUser {
    pub fn info(&self) -> UserInfo {
        let mut groups = self.groups.clone();
        if !groups.iter().any(|g| g == "system:authenticated") {
            groups.push("system:authenticated".into());
        }
        UserInfo {
            name: self.name.clone(),
            uid: self.uid.clone(),
            groups,
        }
    }
}

pub fn anonymous() -> UserInfo {
    UserInfo {
        name: "system:anonymous".into(),
        uid: String::new(),
        groups: vec!["system:unauthenticated".into()],
    }
}

pub fn service_account_user(namespace: &str, name: &str, uid: &str) -> UserInfo {
    UserInfo {
        name: format!("system:serviceaccount:{namespace}:{name}"),
        uid: uid.to_string(),
        groups: vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{namespace}"),
            "system:authenticated".into(),
        ],
    }
}

/// What a verified ServiceAccount token says about itself.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenClaims {
    Bound {
        namespace: String,
        service_account: String,
        service_account_uid: String,
        audiences: Vec<String>,
        expires: i64,
    },
    Legacy {
        namespace: String,
        service_account: String,
        service_account_uid: String,
        secret: String,
    },
}

/// Signs and verifies ServiceAccount tokens (HS256 with a per-start key).
pub struct TokenSigner {
    key: hmac::Key,
}

impl Default for TokenSigner {
    fn default() -> Self {
        let secret: [u8; 32] = crate::util::random_bytes();
        TokenSigner {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
        }
    }
}

impl TokenSigner {
    fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "HS256", "kid": "cicd-sandbox"});
        let head = URL_SAFE_NO_PAD.encode(header.to_string());
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{head}.{body}");
        let sig = hmac::sign(&self.key, signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    /// A bound token as TokenRequest issues it.
    pub fn issue_bound(
        &self,
        namespace: &str,
        service_account: &str,
        service_account_uid: &str,
        audiences: &[String],
        issued_at: i64,
        expires: i64,
    ) -> String {
        self.sign(&json!({
            "aud": audiences,
            "exp": expires,
            "iat": issued_at,
            "nbf": issued_at,
            "iss": ISSUER,
            "jti": crate::util::random_uid(),
            "sub": format!("system:serviceaccount:{namespace}:{service_account}"),
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": service_account, "uid": service_account_uid},
            },
        }))
    }

    /// A legacy, non-expiring token as the token controller puts into a Secret.
    pub fn issue_legacy(
        &self,
        namespace: &str,
        service_account: &str,
        service_account_uid: &str,
        secret: &str,
    ) -> String {
        self.sign(&json!({
            "iss": LEGACY_ISSUER,
            "kubernetes.io/serviceaccount/namespace": namespace,
            "kubernetes.io/serviceaccount/secret.name": secret,
            "kubernetes.io/serviceaccount/service-account.name": service_account,
            "kubernetes.io/serviceaccount/service-account.uid": service_account_uid,
            "sub": format!("system:serviceaccount:{namespace}:{service_account}"),
        }))
    }

    /// Checks the signature and decodes the claims; expiry and object existence are the caller's.
    pub fn verify(&self, token: &str) -> Option<TokenClaims> {
        let (signing_input, sig) = token.rsplit_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        hmac::verify(&self.key, signing_input.as_bytes(), &sig).ok()?;
        let (_, body) = signing_input.split_once('.')?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        let s = |v: &Value| v.as_str().unwrap_or("").to_string();
        if claims["iss"] == LEGACY_ISSUER {
            return Some(TokenClaims::Legacy {
                namespace: s(&claims["kubernetes.io/serviceaccount/namespace"]),
                service_account: s(&claims["kubernetes.io/serviceaccount/service-account.name"]),
                service_account_uid: s(&claims["kubernetes.io/serviceaccount/service-account.uid"]),
                secret: s(&claims["kubernetes.io/serviceaccount/secret.name"]),
            });
        }
        let k = &claims["kubernetes.io"];
        Some(TokenClaims::Bound {
            namespace: s(&k["namespace"]),
            service_account: s(&k["serviceaccount"]["name"]),
            service_account_uid: s(&k["serviceaccount"]["uid"]),
            audiences: claims["aud"]
                .as_array()
                .map(|a| a.iter().map(s).collect())
                .unwrap_or_default(),
            expires: claims["exp"].as_i64().unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_tokens_round_trip_and_reject_tampering() {
        let signer = TokenSigner::default();
        let t = signer.issue_bound("x", "ci", "uid-1", &[API_AUDIENCE.into()], 100, 3700);
        assert_eq!(t.split('.').count(), 3);
        match signer.verify(&t).unwrap() {
            TokenClaims::Bound {
                namespace,
                service_account,
                expires,
                ..
            } => {
                assert_eq!(
                    (namespace.as_str(), service_account.as_str(), expires),
                    ("x", "ci", 3700)
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        let mut forged = t.clone();
        forged.push('x');
        assert!(signer.verify(&forged).is_none());
        assert!(TokenSigner::default().verify(&t).is_none());
    }

    #[test]
    fn legacy_tokens_name_their_secret() {
        let signer = TokenSigner::default();
        let t = signer.issue_legacy("x", "ci", "uid-1", "ci-token");
        assert!(
            matches!(signer.verify(&t), Some(TokenClaims::Legacy { secret, .. }) if secret == "ci-token")
        );
    }
}
