//! Reading what the audit looks at, all at once: ServiceAccounts, Roles, RoleBindings,
//! ClusterRoles, ClusterRoleBindings and token Secrets, plus who is asking.
//!
//! Every list goes out concurrently. Secrets and ServiceAccounts are listed metadata-only
//! (`PartialObjectMetadataList`): the audit never receives Secret data. A list the caller may
//! not read (403, or 404 for a collection the server does not serve) does not stop the audit:
//! it becomes a gap, named in every output. Each object read goes at once into the snapshot (`snapshot::typed`, which gives what `snapshot::add_object`,
//! the conversion files take, gives for the same object's JSON), so that only the snapshot's
//! own data outlives the read.

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::Api;
#[cfg(test)]
use kube::core::PartialObjectMeta;
use serde::Serialize;
#[cfg(test)]
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

/// Full objects without `managedFields`, as the JSON the typed conversion stands for.
#[cfg(test)]
fn full<K: Serialize>(obj: &K) -> Value {
    let mut value = serde_json::to_value(obj).unwrap_or(Value::Null);
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    value
}

/// A metadata-only item as the object it stands for.
#[cfg(test)]
fn from_metadata<K>(item: &PartialObjectMeta<K>, api_version: &str, kind: &str) -> Value {
    let mut metadata = serde_json::to_value(&item.metadata).unwrap_or(Value::Null);
    if let Some(meta) = metadata.as_object_mut() {
        meta.remove("managedFields");
    }
    json!({"apiVersion": api_version, "kind": kind, "metadata": metadata})
}

/// Turns a token Secret's metadata into the Secret object `snapshot` reads: metadata-only lists
/// do not carry `type`, but the field selector guarantees it.
#[cfg(test)]
fn token_secret_object(item: &PartialObjectMeta<Secret>) -> Value {
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
    use snapshot::typed;
    let (who, sa, r, rb, cr, crb, tokens) = tokio::join!(
        async {
            counter.add();
            cluster.whoami().await
        },
        cluster.list_metadata_pages(&service_accounts, &sa_what, None, &counter, |i| {
            typed::service_account(p_sa, i.metadata)
        }),
        cluster.list_pages(&roles, &roles_what, None, &counter, |o| typed::role(p_r, o)),
        cluster.list_pages(&role_bindings, &rb_what, None, &counter, |o| {
            typed::role_binding(p_rb, o)
        }),
        cluster.list_pages(&cluster_roles, "clusterroles", None, &counter, |o| {
            typed::cluster_role(p_cr, o)
        }),
        cluster.list_pages(
            &cluster_role_bindings,
            "clusterrolebindings",
            None,
            &counter,
            |o| typed::cluster_role_binding(p_crb, o)
        ),
        cluster.list_metadata_pages(
            &secrets,
            &secrets_what,
            Some(&token_selector),
            &counter,
            |i| typed::token_secret(p_tokens, i.metadata)
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
    fn typed_objects_convert_as_their_json_does() {
        use k8s_openapi::api::rbac::v1::{AggregationRule, PolicyRule, RoleRef, Subject};
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        let meta = |name: &str, namespace: Option<&str>| ObjectMeta {
            name: Some(name.into()),
            namespace: namespace.map(Into::into),
            uid: Some(format!("uid-{name}")),
            labels: Some(BTreeMap::from([("a".to_string(), "b".to_string())])),
            annotations: Some(BTreeMap::from([(
                "kubernetes.io/service-account.name".to_string(),
                "ci".to_string(),
            )])),
            creation_timestamp: Some(Time("2026-01-02T03:04:05Z".parse().unwrap())),
            managed_fields: Some(vec![Default::default()]),
            ..Default::default()
        };
        let rules = Some(vec![
            PolicyRule {
                api_groups: Some(vec!["".into()]),
                resources: Some(vec!["pods".into()]),
                verbs: vec!["get".into()],
                ..Default::default()
            },
            PolicyRule {
                non_resource_urls: Some(vec!["/healthz".into()]),
                resource_names: Some(vec![]),
                verbs: vec!["*".into()],
                ..Default::default()
            },
        ]);
        let role_ref = RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: "view".into(),
        };
        let subjects = Some(vec![
            Subject {
                kind: "ServiceAccount".into(),
                name: "ci".into(),
                namespace: Some(String::new()),
                ..Default::default()
            },
            Subject {
                kind: "ServiceAccount".into(),
                name: "other".into(),
                namespace: Some("team-b".into()),
                ..Default::default()
            },
            Subject {
                kind: "User".into(),
                name: "alice".into(),
                namespace: Some("ignored".into()),
                ..Default::default()
            },
        ]);
        let role = Role {
            metadata: meta("r", Some("team-a")),
            rules: rules.clone(),
        };
        let cluster_roles = [
            ClusterRole {
                metadata: meta("agg", None),
                rules: None,
                aggregation_rule: Some(AggregationRule::default()),
            },
            ClusterRole {
                metadata: ObjectMeta {
                    name: Some("bare".into()),
                    namespace: Some(String::new()),
                    ..Default::default()
                },
                rules,
                aggregation_rule: None,
            },
        ];
        let rb = RoleBinding {
            metadata: meta("rb", Some("team-a")),
            role_ref: role_ref.clone(),
            subjects: subjects.clone(),
        };
        let crb = ClusterRoleBinding {
            metadata: meta("crb", None),
            role_ref,
            subjects,
        };
        let sa: PartialObjectMeta<ServiceAccount> = PartialObjectMeta {
            types: None,
            metadata: meta("ci", Some("team-a")),
            _phantom: Default::default(),
        };
        let secrets: Vec<PartialObjectMeta<Secret>> =
            [meta("t", Some("team-a")), ObjectMeta::default()]
                .into_iter()
                .map(|metadata| PartialObjectMeta {
                    types: None,
                    metadata,
                    _phantom: Default::default(),
                })
                .collect();

        let mut typed = Snapshot::default();
        snapshot::typed::service_account(&mut typed, sa.metadata.clone());
        snapshot::typed::role(&mut typed, role.clone());
        for c in &cluster_roles {
            snapshot::typed::cluster_role(&mut typed, c.clone());
        }
        snapshot::typed::role_binding(&mut typed, rb.clone());
        snapshot::typed::cluster_role_binding(&mut typed, crb.clone());
        for s in &secrets {
            snapshot::typed::token_secret(&mut typed, s.metadata.clone());
        }
        let mut json = Snapshot::default();
        let objects = [from_metadata(&sa, "v1", "ServiceAccount"), full(&role)]
            .into_iter()
            .chain(cluster_roles.iter().map(full))
            .chain([full(&rb), full(&crb)])
            .chain(secrets.iter().map(token_secret_object));
        for o in objects {
            snapshot::add_object(&mut json, &o);
        }
        assert_eq!(typed, json);
        assert_eq!(typed.token_secrets.len(), 1);
        assert!(typed.cluster_roles[0].aggregated && !typed.cluster_roles[1].aggregated);
        assert_eq!(
            typed.service_accounts[0].created.as_deref(),
            Some("2026-01-02T03:04:05Z")
        );
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
