//! What every command agrees on about the objects kubectl-cicd makes: the labels that find
//! them, the annotations that record who made them, when, with which version and for what
//! (provenance, intended rules, the token in use), how token Secrets are named, and the test
//! of whether an object is ours.
//!
//! `init`, `rotate` and `argocd grant` write these; `audit`, `list`, `rotate` and `delete`
//! read them. Every object carries `app.kubernetes.io/managed-by: kubectl-cicd` and
//! `kubectl-cicd.io/identity: <name>`, and no command changes an object without both.
//!
//! Two sorts of identity share the labels: a CI/CD identity of `init` (ServiceAccount, Role,
//! RoleBinding, token Secret), and a grant of `argocd grant` (a Role and a RoleBinding to
//! ServiceAccounts of another namespace, recorded in [`GRANTED_TO`]; no ServiceAccount or
//! token of its own).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::k8s::{SA_NAME_ANNOTATION, SA_TOKEN_TYPE};

/// The label that marks every object kubectl-cicd made (the Kubernetes recommended label).
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const MANAGED_BY: &str = "kubectl-cicd";
/// The label naming the CI/CD identity (its ServiceAccount) an object belongs to.
pub const IDENTITY_LABEL: &str = "kubectl-cicd.io/identity";
/// Who ran the command that first made the object (the SelfSubjectReview username).
pub const CREATED_BY: &str = "kubectl-cicd.io/created-by";
/// When the object was first made, RFC 3339.
pub const CREATED_AT: &str = "kubectl-cicd.io/created-at";
/// The kubectl-cicd version that last applied the object.
pub const TOOL_VERSION: &str = "kubectl-cicd.io/tool-version";
/// On the Role: the rules init was asked to grant, as JSON, so drift can be told from intent.
pub const INTENDED_RULES: &str = "kubectl-cicd.io/intended-rules";
/// On the Role, once `tighten` shrank it: when (RFC 3339), by whom (the SelfSubjectReview
/// username), and from what evidence (JSON: the log files' names, the time span, the
/// requests counted; see [`TightenedFrom`]).
pub const TIGHTENED_AT: &str = "kubectl-cicd.io/tightened-at";
pub const TIGHTENED_BY: &str = "kubectl-cicd.io/tightened-by";
pub const TIGHTENED_FROM: &str = "kubectl-cicd.io/tightened-from";
/// On the ServiceAccount: how its token is made, `secret` or `request`.
pub const TOKEN_KIND: &str = "kubectl-cicd.io/token";
/// On the ServiceAccount: the token Secret in use (`--token secret`).
pub const TOKEN_SECRET: &str = "kubectl-cicd.io/token-secret";
/// On the ServiceAccount: when the last TokenRequest token was issued and when it expires
/// (`--token request`), as RFC 3339; the server keeps no record of issued tokens.
pub const TOKEN_ISSUED_AT: &str = "kubectl-cicd.io/token-issued-at";
pub const TOKEN_EXPIRES_AT: &str = "kubectl-cicd.io/token-expires-at";

/// On a grant's Role and RoleBinding (`argocd grant`): the ServiceAccounts it is for, as
/// `namespace/name`, comma-separated (`argocd/argocd-application-controller`).
pub const GRANTED_TO: &str = "kubectl-cicd.io/granted-to";

/// The ServiceAccounts a grant is for, when `meta` is a grant's object.
pub fn granted_to(meta: &ObjectMeta) -> Option<Vec<String>> {
    let value = meta.annotations.as_ref()?.get(GRANTED_TO)?;
    Some(
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Who and when, as recorded on the objects. On a re-run the first creation is kept,
/// so the same answers produce the same objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub created_by: String,
    pub created_at: String,
}

/// The evidence a tightened Role was built from, as [`TIGHTENED_FROM`] records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TightenedFrom {
    /// The audit log files' names (without their folders), `stdin` for `-`.
    pub logs: Vec<String>,
    /// The first and last event of the logs, RFC 3339.
    pub from: String,
    pub to: String,
    /// The identity's requests in the logs: allowed, and denied.
    pub allowed: u64,
    pub denied: u64,
    /// Whether the Role names the objects the requests named (`--names`).
    pub names: bool,
}

/// What the ServiceAccount records about the identity's current token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRecord {
    /// `secret` or `request`.
    pub kind: Option<String>,
    /// The token Secret in use (`secret`).
    pub secret_name: Option<String>,
    /// When the last TokenRequest token was issued, and when it expires (`request`).
    pub issued_at: Option<String>,
    pub expires_at: Option<String>,
}

impl TokenRecord {
    /// From a ServiceAccount's annotations.
    pub fn from_meta(meta: &ObjectMeta) -> TokenRecord {
        let get = |key: &str| {
            meta.annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .filter(|v| !v.is_empty())
                .cloned()
        };
        TokenRecord {
            kind: get(TOKEN_KIND),
            secret_name: get(TOKEN_SECRET),
            issued_at: get(TOKEN_ISSUED_AT),
            expires_at: get(TOKEN_EXPIRES_AT),
        }
    }

    /// A Secret token named `secret_name`.
    pub fn secret(secret_name: &str) -> TokenRecord {
        TokenRecord {
            kind: Some("secret".into()),
            secret_name: Some(secret_name.to_string()),
            ..TokenRecord::default()
        }
    }

    /// A TokenRequest token; `issued` is `(issued_at, expires_at)` once one was issued.
    pub fn request(issued: Option<(String, String)>) -> TokenRecord {
        let (issued_at, expires_at) = issued.unzip();
        TokenRecord {
            kind: Some("request".into()),
            issued_at,
            expires_at,
            ..TokenRecord::default()
        }
    }

    /// The ServiceAccount annotations that say this.
    pub fn annotations(&self) -> Vec<(&'static str, String)> {
        [
            (TOKEN_KIND, &self.kind),
            (TOKEN_SECRET, &self.secret_name),
            (TOKEN_ISSUED_AT, &self.issued_at),
            (TOKEN_EXPIRES_AT, &self.expires_at),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }
}

/// Whether `secret` is a token Secret name of identity `name`: `<name>-token` as init names
/// it, or `<name>-token-<suffix>` as rotate names it.
pub fn is_token_secret_name(name: &str, secret: &str) -> bool {
    secret
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix("-token"))
        .is_some_and(|rest| {
            rest.is_empty()
                || rest.strip_prefix('-').is_some_and(|s| {
                    !s.is_empty()
                        && s.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                })
        })
}

/// A token Secret name that is not taken: `<name>-token-<5 characters>`.
pub fn fresh_secret_name(name: &str, taken: &[&str]) -> String {
    loop {
        let candidate = format!("{name}-token-{}", random_suffix());
        if !taken.contains(&candidate.as_str()) {
            return candidate;
        }
    }
}

/// Five characters as Kubernetes' generateName uses (no vowels, no look-alikes).
fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let mut n = hasher.finish();
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// The label selector of everything kubectl-cicd made, or of one identity.
pub fn selector(identity: Option<&str>) -> String {
    match identity {
        None => format!("{MANAGED_BY_LABEL}={MANAGED_BY}"),
        Some(name) => format!("{MANAGED_BY_LABEL}={MANAGED_BY},{IDENTITY_LABEL}={name}"),
    }
}

/// Whether `meta` carries our labels (and, given `identity`, that identity's).
pub fn is_ours(meta: &ObjectMeta, identity: Option<&str>) -> bool {
    let Some(labels) = meta.labels.as_ref() else {
        return false;
    };
    labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
        && match identity {
            None => labels.contains_key(IDENTITY_LABEL),
            Some(name) => labels.get(IDENTITY_LABEL).map(String::as_str) == Some(name),
        }
}

/// The identity an object belongs to: `(namespace, name)`.
pub fn identity_of(meta: &ObjectMeta) -> Option<(String, String)> {
    let name = meta.labels.as_ref()?.get(IDENTITY_LABEL)?.clone();
    Some((meta.namespace.clone().unwrap_or_default(), name))
}

/// Whether a ServiceAccount, Role or RoleBinding is named as the identity its label names.
pub fn named_as_its_identity(meta: &ObjectMeta) -> bool {
    identity_of(meta).is_some_and(|(_, identity)| meta.name.as_deref() == Some(identity.as_str()))
}

/// A Secret of ours, named as its identity's token Secrets are (`<name>-token[-<suffix>]`),
/// that names its identity's ServiceAccount as the token's owner.
pub fn is_token_secret_of_its_identity(meta: &ObjectMeta) -> bool {
    let Some((_, identity)) = identity_of(meta) else {
        return false;
    };
    meta.name
        .as_deref()
        .is_some_and(|name| is_token_secret_name(&identity, name))
        && meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(SA_NAME_ANNOTATION))
            .is_some_and(|sa| *sa == identity)
}

/// The metadata of object `name` of identity `namespace/identity`: our two labels, and the
/// provenance and tool-version annotations plus `extra`.
pub fn metadata(
    namespace: &str,
    identity: &str,
    name: &str,
    provenance: &Provenance,
    extra: &[(&str, String)],
) -> ObjectMeta {
    let labels = BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
        (IDENTITY_LABEL.to_string(), identity.to_string()),
    ]);
    let mut annotations = BTreeMap::from([
        (CREATED_BY.to_string(), provenance.created_by.clone()),
        (CREATED_AT.to_string(), provenance.created_at.clone()),
        (
            TOOL_VERSION.to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ]);
    for (k, v) in extra {
        annotations.insert(k.to_string(), v.clone());
    }
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(namespace.to_string()),
        labels: Some(labels),
        annotations: Some(annotations),
        ..Default::default()
    }
}

/// Token Secret `secret` of identity `namespace/identity`, for the token controller to fill.
pub fn token_secret(
    namespace: &str,
    identity: &str,
    secret: &str,
    provenance: &Provenance,
) -> Secret {
    Secret {
        metadata: metadata(
            namespace,
            identity,
            secret,
            provenance,
            &[(SA_NAME_ANNOTATION, identity.to_string())],
        ),
        type_: Some(SA_TOKEN_TYPE.to_string()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(labels: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            name: Some("ci-cd".into()),
            namespace: Some("team-a".into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn selectors_and_ownership() {
        assert_eq!(selector(None), "app.kubernetes.io/managed-by=kubectl-cicd");
        assert_eq!(
            selector(Some("ci-cd")),
            "app.kubernetes.io/managed-by=kubectl-cicd,kubectl-cicd.io/identity=ci-cd"
        );
        let ours = meta(&[(MANAGED_BY_LABEL, MANAGED_BY), (IDENTITY_LABEL, "ci-cd")]);
        assert!(is_ours(&ours, None));
        assert!(is_ours(&ours, Some("ci-cd")));
        assert!(!is_ours(&ours, Some("other")));
        assert!(!is_ours(&meta(&[(MANAGED_BY_LABEL, MANAGED_BY)]), None));
        assert!(!is_ours(
            &meta(&[(MANAGED_BY_LABEL, "helm"), (IDENTITY_LABEL, "ci-cd")]),
            None
        ));
        assert!(!is_ours(&ObjectMeta::default(), None));
        assert_eq!(
            identity_of(&ours),
            Some(("team-a".to_string(), "ci-cd".to_string()))
        );
    }

    #[test]
    fn new_secret_names_are_fresh_and_valid() {
        let a = fresh_secret_name("ci-cd", &["ci-cd-token"]);
        assert!(is_token_secret_name("ci-cd", &a), "{a}");
        assert!(crate::names::validate_name(&a).is_ok(), "{a}");
        assert_eq!(a.len(), "ci-cd-token-".len() + 5);
        let names: std::collections::BTreeSet<String> =
            (0..20).map(|_| fresh_secret_name("ci-cd", &[])).collect();
        assert!(names.len() > 15, "{names:?}");
    }

    #[test]
    fn token_secret_names_of_an_identity() {
        assert!(is_token_secret_name("ci-cd", "ci-cd-token"));
        assert!(is_token_secret_name("ci-cd", "ci-cd-token-x7k2p"));
        assert!(!is_token_secret_name("ci-cd", "ci-cd-token-"));
        assert!(!is_token_secret_name("ci-cd", "ci-cd-tokens"));
        assert!(!is_token_secret_name("ci-cd", "other-token"));
        assert!(!is_token_secret_name("ci", "ci-cd-token"));
    }
}
