//! Reading what the audit looks at, all at once: ServiceAccounts, Roles, RoleBindings,
//! ClusterRoles, ClusterRoleBindings and token Secrets, plus who is asking.
//!
//! Every list goes out concurrently. Secrets and ServiceAccounts are listed metadata-only
//! (`PartialObjectMetadataList`): the audit never receives Secret data. A list the caller may
//! not read (403, or 404 for a collection the server does not serve) does not stop the audit:
//! it becomes a gap, named in every output. Each object read is turned into a plain API object
//! (`serde_json::Value` with `apiVersion` and `kind`) and at once into the snapshot
//! (`snapshot::add_object`, the one conversion path files take too), so that only the
//! snapshot's own data outlives the read.

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::Api;
use kube::core::PartialObjectMeta;
use serde::Serialize;
use serde_json::{Value, json};

use super::model::Snapshot;
use super::snapshot;
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
    /// Every object read, taken at the time of the read; its gaps are in `gaps`.
    pub snapshot: Snapshot,
    /// How many objects were read.
    pub objects: usize,
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

/// A listing's count, or its gap.
fn collect(listed: Listed, c: &Collection, gaps: &mut Vec<String>) -> Option<usize> {
    match listed {
        Listed::Read(n) => Some(n),
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

    // Each collection goes into its own part of the snapshot as its pages arrive (objects
    // converted one at a time, never all kept), and the parts are joined in a fixed order.
    let mut parts: [Snapshot; 6] = Default::default();
    let [p_sa, p_r, p_rb, p_cr, p_crb, p_tokens] = &mut parts;
    let add = |part: &mut Snapshot, object: Value| snapshot::add_object(part, &object);
    let (who, sa, r, rb, cr, crb, tokens) = tokio::join!(
        async {
            counter.add();
            cluster.whoami().await
        },
        cluster.list_metadata_pages(&service_accounts, &sa_what, None, &counter, |i| add(
            p_sa,
            from_metadata(&i, "v1", "ServiceAccount")
        )),
        cluster.list_pages(&roles, &roles_what, None, &counter, |o| add(p_r, full(&o))),
        cluster.list_pages(&role_bindings, &rb_what, None, &counter, |o| add(
            p_rb,
            full(&o)
        )),
        cluster.list_pages(&cluster_roles, "clusterroles", None, &counter, |o| add(
            p_cr,
            full(&o)
        )),
        cluster.list_pages(
            &cluster_role_bindings,
            "clusterrolebindings",
            None,
            &counter,
            |o| add(p_crb, full(&o))
        ),
        cluster.list_metadata_pages(
            &secrets,
            &secrets_what,
            Some(&token_selector),
            &counter,
            |i| add(p_tokens, token_secret_object(&i))
        ),
    );
    let caller = match who {
        Ok(me) => Some(me),
        // A server without SelfSubjectReview (before 1.28): say who from the kubeconfig.
        Err(Error::Api { code: 404, .. }) | Err(Error::Forbidden { .. }) => None,
        Err(e) => return Err(e),
    };
    let (sa, r, rb, cr, crb, tokens) = (sa?, r?, rb?, cr?, crb?, tokens?);

    let mut snapshot = Snapshot {
        taken_at: crate::timestamp::now(),
        ..Snapshot::default()
    };
    for part in parts {
        snapshot::append(&mut snapshot, part);
    }
    let mut gaps = Vec::new();
    let counts = Counts {
        service_accounts: collect(sa, &SERVICE_ACCOUNTS, &mut gaps),
        roles: collect(r, &ROLES, &mut gaps),
        role_bindings: collect(rb, &ROLE_BINDINGS, &mut gaps),
        cluster_roles: collect(cr, &CLUSTER_ROLES, &mut gaps),
        cluster_role_bindings: collect(crb, &CLUSTER_ROLE_BINDINGS, &mut gaps),
        token_secrets: collect(tokens, &TOKEN_SECRETS, &mut gaps),
    };
    if counts == Counts::default() {
        // Not one collection could be read: there is nothing to audit.
        return Err(Error::Forbidden {
            message: gaps.join("\n"),
            hint: "This identity may not list any of the RBAC objects the audit reads. Use a context whose user may at least list roles and rolebindings in the namespace.".into(),
        });
    }
    let objects = [
        counts.service_accounts,
        counts.roles,
        counts.role_bindings,
        counts.cluster_roles,
        counts.cluster_role_bindings,
        counts.token_secrets,
    ]
    .iter()
    .flatten()
    .sum();
    Ok(Gathered {
        snapshot,
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
