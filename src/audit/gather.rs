//! Reading what the audit looks at, all at once: ServiceAccounts, Roles, RoleBindings,
//! ClusterRoles, ClusterRoleBindings and token Secrets, plus who is asking.
//!
//! Every list goes out concurrently. Secrets and ServiceAccounts are listed metadata-only
//! (`PartialObjectMetadataList`): the audit never receives Secret data. A list the caller may
//! not read (403, or 404 for a collection the server does not serve) does not stop the audit:
//! it becomes a gap, named in every output. Everything read is turned into plain API objects
//! (`serde_json::Value` with `apiVersion` and `kind`) for `snapshot::from_objects`, the one
//! conversion path.

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::Api;
use kube::core::PartialObjectMeta;
use serde::Serialize;
use serde_json::{Value, json};

use crate::cluster::{Caller, Cluster, Listed, Namespaces, RequestCounter};
use crate::error::{Error, Result};

use crate::k8s::SA_TOKEN_TYPE as TOKEN_SECRET_TYPE;

/// How many objects of each collection were read (`None`: not readable, see the gaps).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub service_accounts: Option<usize>,
    pub roles: Option<usize>,
    pub role_bindings: Option<usize>,
    pub cluster_roles: Option<usize>,
    pub cluster_role_bindings: Option<usize>,
    pub token_secrets: Option<usize>,
}

/// What [`gather`] read.
#[derive(Debug)]
pub struct Gathered {
    /// Every object read, as the API shows it (`apiVersion`, `kind`, `metadata`, ...).
    pub objects: Vec<Value>,
    /// What could not be read: `<resource>: <why> (<server's words>); <what that leaves out>`.
    pub gaps: Vec<String>,
    /// Requests sent: each page of a list, and the SelfSubjectReview (retries of transient
    /// failures not counted).
    pub requests: usize,
    /// Who the server says we are; `None` when it does not serve SelfSubjectReview.
    pub caller: Option<Caller>,
    pub counts: Counts,
}

/// One collection: its name in gaps and errors, and what its absence leaves out.
struct Collection {
    resource: &'static str,
    left_out: &'static str,
}

const SERVICE_ACCOUNTS: Collection = Collection {
    resource: "serviceaccounts",
    left_out: "ServiceAccounts without bindings (unused-identity) cannot be told",
};
const ROLES: Collection = Collection {
    resource: "roles",
    left_out: "the rules of namespaced Roles are unknown",
};
const ROLE_BINDINGS: Collection = Collection {
    resource: "rolebindings",
    left_out: "rights granted by RoleBindings were not audited",
};
const CLUSTER_ROLES: Collection = Collection {
    resource: "clusterroles",
    left_out: "the rules of ClusterRoles (also those RoleBindings refer to) are unknown",
};
const CLUSTER_ROLE_BINDINGS: Collection = Collection {
    resource: "clusterrolebindings",
    left_out: "rights granted cluster-wide by ClusterRoleBindings were not audited",
};
const TOKEN_SECRETS: Collection = Collection {
    resource: "secrets",
    left_out: "long-lived token Secrets were not checked",
};

fn gap(c: &Collection, code: u16, message: &str) -> String {
    let why = if code == 404 {
        "not served"
    } else {
        "forbidden"
    };
    format!("{}: {why} ({}); {}", c.resource, message.trim(), c.left_out)
}

/// Full objects without `managedFields` (never looked at; often the larger part of an object).
fn full<K: Serialize>(obj: &K) -> Value {
    let mut value = serde_json::to_value(obj).unwrap_or(Value::Null);
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    value
}

/// A metadata-only item as the object it stands for.
fn from_metadata<K>(item: &PartialObjectMeta<K>, api_version: &str, kind: &str) -> Value {
    let mut metadata = serde_json::to_value(&item.metadata).unwrap_or(Value::Null);
    if let Some(meta) = metadata.as_object_mut() {
        meta.remove("managedFields");
    }
    json!({"apiVersion": api_version, "kind": kind, "metadata": metadata})
}

/// Turns a token Secret's metadata into the Secret object `snapshot` reads: metadata-only lists
/// do not carry `type`, but the field selector guarantees it.
pub fn token_secret_object(item: &PartialObjectMeta<Secret>) -> Value {
    let mut value = from_metadata(item, "v1", "Secret");
    value["type"] = json!(TOKEN_SECRET_TYPE);
    value
}

/// Adds a listing's objects, or its gap.
fn collect(
    listed: Listed<Value>,
    c: &Collection,
    objects: &mut Vec<Value>,
    gaps: &mut Vec<String>,
) -> Option<usize> {
    match listed {
        Listed::Items(items) => {
            let n = items.len();
            objects.extend(items);
            Some(n)
        }
        Listed::Denied { code, message } => {
            gaps.push(gap(c, code, &message));
            None
        }
    }
}

/// Reads everything the audit needs, concurrently.
/// `scope` says where the namespaced collections are read.
pub async fn gather(cluster: &Cluster, scope: Namespaces<'_>) -> Result<Gathered> {
    let client = cluster.client().clone();
    let counter = RequestCounter::default();
    let (service_accounts, roles, role_bindings, secrets, where_text): (
        Api<ServiceAccount>,
        Api<Role>,
        Api<RoleBinding>,
        Api<Secret>,
        String,
    ) = match scope {
        Namespaces::One(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
            format!("in namespace {ns}"),
        ),
        Namespaces::All => (
            Api::all(client.clone()),
            Api::all(client.clone()),
            Api::all(client.clone()),
            Api::all(client.clone()),
            "in all namespaces".to_string(),
        ),
    };
    let cluster_roles: Api<ClusterRole> = Api::all(client.clone());
    let cluster_role_bindings: Api<ClusterRoleBinding> = Api::all(client);
    let what = |c: &Collection| format!("{} {where_text}", c.resource);
    let (sa_what, roles_what, rb_what, secrets_what) = (
        what(&SERVICE_ACCOUNTS),
        what(&ROLES),
        what(&ROLE_BINDINGS),
        what(&TOKEN_SECRETS),
    );
    let token_selector = format!("type={TOKEN_SECRET_TYPE}");

    let (who, sa, r, rb, cr, crb, tokens) = tokio::join!(
        async {
            counter.add();
            cluster.whoami().await
        },
        cluster.list_metadata_pages(&service_accounts, &sa_what, None, &counter),
        cluster.list_pages(&roles, &roles_what, None, &counter),
        cluster.list_pages(&role_bindings, &rb_what, None, &counter),
        cluster.list_pages(&cluster_roles, "clusterroles", None, &counter),
        cluster.list_pages(
            &cluster_role_bindings,
            "clusterrolebindings",
            None,
            &counter
        ),
        cluster.list_metadata_pages(&secrets, &secrets_what, Some(&token_selector), &counter),
    );
    let caller = match who {
        Ok(me) => Some(me),
        // A server without SelfSubjectReview (before 1.28): say who from the kubeconfig.
        Err(Error::Api { code: 404, .. }) | Err(Error::Forbidden { .. }) => None,
        Err(e) => return Err(e),
    };
    let (sa, r, rb, cr, crb, tokens) = (sa?, r?, rb?, cr?, crb?, tokens?);

    let mut objects = Vec::new();
    let mut gaps = Vec::new();
    let counts = Counts {
        service_accounts: collect(
            sa.map(|i| from_metadata(&i, "v1", "ServiceAccount")),
            &SERVICE_ACCOUNTS,
            &mut objects,
            &mut gaps,
        ),
        roles: collect(r.map(|o| full(&o)), &ROLES, &mut objects, &mut gaps),
        role_bindings: collect(
            rb.map(|o| full(&o)),
            &ROLE_BINDINGS,
            &mut objects,
            &mut gaps,
        ),
        cluster_roles: collect(
            cr.map(|o| full(&o)),
            &CLUSTER_ROLES,
            &mut objects,
            &mut gaps,
        ),
        cluster_role_bindings: collect(
            crb.map(|o| full(&o)),
            &CLUSTER_ROLE_BINDINGS,
            &mut objects,
            &mut gaps,
        ),
        token_secrets: collect(
            tokens.map(|i| token_secret_object(&i)),
            &TOKEN_SECRETS,
            &mut objects,
            &mut gaps,
        ),
    };
    if counts == Counts::default() {
        // Not one collection could be read: there is nothing to audit.
        return Err(Error::Forbidden {
            message: gaps.join("\n"),
            hint: "This identity may not list any of the RBAC objects the audit reads. Use a context whose user may at least list roles and rolebindings in the namespace.".into(),
        });
    }
    Ok(Gathered {
        objects,
        gaps,
        requests: counter.get(),
        caller,
        counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    #[test]
    fn token_secrets_become_typed_secret_objects_without_data() {
        let item: PartialObjectMeta<Secret> = PartialObjectMeta {
            types: None,
            metadata: ObjectMeta {
                name: Some("ci-token".into()),
                namespace: Some("team-a".into()),
                annotations: Some(BTreeMap::from([(
                    "kubernetes.io/service-account.name".to_string(),
                    "ci".to_string(),
                )])),
                ..Default::default()
            },
            _phantom: Default::default(),
        };
        let v = token_secret_object(&item);
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["kind"], "Secret");
        assert_eq!(v["type"], TOKEN_SECRET_TYPE);
        assert_eq!(v["metadata"]["name"], "ci-token");
        assert_eq!(
            v["metadata"]["annotations"]["kubernetes.io/service-account.name"],
            "ci"
        );
        assert!(v.get("data").is_none());
    }

    #[test]
    fn full_objects_keep_their_type_and_lose_managed_fields() {
        let role = Role {
            metadata: ObjectMeta {
                name: Some("ci".into()),
                namespace: Some("team-a".into()),
                managed_fields: Some(vec![Default::default()]),
                ..Default::default()
            },
            rules: Some(vec![]),
        };
        let v = full(&role);
        assert_eq!(v["apiVersion"], "rbac.authorization.k8s.io/v1");
        assert_eq!(v["kind"], "Role");
        assert!(v["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn gaps_name_the_resource_first_and_say_what_is_left_out() {
        let g = gap(
            &CLUSTER_ROLE_BINDINGS,
            403,
            "clusterrolebindings.rbac.authorization.k8s.io is forbidden: User \"alice\" cannot list resource \"clusterrolebindings\" in API group \"rbac.authorization.k8s.io\" at the cluster scope",
        );
        assert!(g.starts_with("clusterrolebindings: forbidden ("), "{g}");
        assert!(g.ends_with("were not audited"), "{g}");
        assert!(gap(&ROLES, 404, "x").starts_with("roles: not served (x)"));
    }
}
