//! The life of an identity after `init`: `list` the identities, `rotate` a token, `delete`
//! an identity. All three find the objects `init` made by its labels
//! (`app.kubernetes.io/managed-by=kubectl-cicd`, `kubectl-cicd.io/identity=<name>`) and never
//! touch an object without them; token Secrets are read as metadata only.

pub mod delete;
pub mod list;
pub mod rotate;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::PartialObjectMeta;

use crate::cluster::{Cluster, Namespaces};
use crate::error::Result;
use crate::managed::{is_ours, is_token_secret_of_its_identity, named_as_its_identity, selector};

/// kube-apiserver keeps a successful token authentication for 10 seconds
/// (`TokenSuccessCacheTTL`, not configurable), so a token whose Secret or ServiceAccount was
/// just deleted is still accepted for that long.
pub const AUTH_CACHE_NOTE: &str = "the API server may still accept the old token for up to 10 seconds: it keeps successful authentications that long";

/// The objects of kubectl-cicd identities, found by label (four list requests).
#[derive(Debug, Default)]
pub struct Found {
    pub service_accounts: Vec<PartialObjectMeta<ServiceAccount>>,
    /// Whole Roles: their rules say what the identity may do.
    pub roles: Vec<Role>,
    pub role_bindings: Vec<PartialObjectMeta<RoleBinding>>,
    /// Token Secrets, metadata only (never their data).
    pub token_secrets: Vec<PartialObjectMeta<Secret>>,
}

impl Found {
    pub fn is_empty(&self) -> bool {
        self.service_accounts.is_empty()
            && self.roles.is_empty()
            && self.role_bindings.is_empty()
            && self.token_secrets.is_empty()
    }
}

/// Lists the objects carrying our labels (of every identity, or of `identity`) in `scope`.
/// The label selector does the filtering on the server; [`is_ours`] checks again here, and an
/// object only belongs to its identity under the identity's own name (labels can be copied
/// onto anything: a labelled Role `payments` is not identity `ci-cd`'s Role).
pub async fn find(
    cluster: &Cluster,
    scope: Namespaces<'_>,
    identity: Option<&str>,
) -> Result<Found> {
    let sel = selector(identity);
    let keep = |meta: &ObjectMeta| is_ours(meta, identity) && named_as_its_identity(meta);
    let service_accounts: Vec<PartialObjectMeta<ServiceAccount>> =
        cluster.list_labelled_metadata(scope, &sel).await?;
    let roles: Vec<Role> = cluster.list_labelled(scope, &sel).await?;
    let role_bindings: Vec<PartialObjectMeta<RoleBinding>> =
        cluster.list_labelled_metadata(scope, &sel).await?;
    let secrets: Vec<PartialObjectMeta<Secret>> =
        cluster.list_labelled_metadata(scope, &sel).await?;
    Ok(Found {
        service_accounts: service_accounts
            .into_iter()
            .filter(|o| keep(&o.metadata))
            .collect(),
        roles: roles.into_iter().filter(|o| keep(&o.metadata)).collect(),
        role_bindings: role_bindings
            .into_iter()
            .filter(|o| keep(&o.metadata))
            .collect(),
        token_secrets: secrets
            .into_iter()
            .filter(|o| {
                is_ours(&o.metadata, identity) && is_token_secret_of_its_identity(&o.metadata)
            })
            .collect(),
    })
}

/// Objects by name, sorted by creation (oldest first).
pub fn by_creation<T>(items: &mut [T], meta: impl Fn(&T) -> &ObjectMeta) {
    items.sort_by(|a, b| {
        let (a, b) = (meta(a), meta(b));
        (a.creation_timestamp.as_ref().map(|t| t.0), &a.name)
            .cmp(&(b.creation_timestamp.as_ref().map(|t| t.0), &b.name))
    });
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_lifecycle_commands_parse() {
        use crate::cli::{Cli, Command, ListFormat, TokenKind};
        use clap::Parser;
        let cli = Cli::try_parse_from(["kubectl-cicd", "list", "-A", "-o", "json"]).unwrap();
        let Command::List(flags) = cli.command else {
            panic!("list parses as list");
        };
        assert!(flags.namespaces.all_namespaces);
        assert_eq!(flags.output, ListFormat::Json);
        assert!(Cli::try_parse_from(["kubectl-cicd", "list", "-A", "-n", "x"]).is_err());

        let cli = Cli::try_parse_from([
            "kubectl-cicd",
            "rotate",
            "ci-cd",
            "--token",
            "request",
            "--token-duration",
            "2h",
            "--request-timeout",
            "5s",
        ])
        .unwrap();
        assert_eq!(
            cli.global.request_timeout,
            Some(std::time::Duration::from_secs(5))
        );
        let Command::Rotate(flags) = cli.command else {
            panic!("rotate parses as rotate");
        };
        assert_eq!(flags.name, "ci-cd");
        assert_eq!(flags.token, Some(TokenKind::Request));

        let cli = Cli::try_parse_from(["kubectl-cicd", "delete", "ci-cd", "--yes"]).unwrap();
        let Command::Delete(flags) = cli.command else {
            panic!("delete parses as delete");
        };
        assert!(flags.yes);
        let err = Cli::try_parse_from(["kubectl-cicd", "delete"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
