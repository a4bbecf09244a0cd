//! The conversion from Kubernetes objects (JSON, or YAML files and fixtures parsed into
//! [`serde_json::Value`]) to the audit's [`Snapshot`]; [`typed`] converts kube's decoded
//! objects of the live read the same way without building their JSON.
//!
//! * kinds kept: ServiceAccount, Role, ClusterRole, RoleBinding, ClusterRoleBinding, and
//!   Secrets of type `kubernetes.io/service-account-token`; every other kind is ignored;
//! * lists (`RoleList`, `List`, ...) are unpacked; items of a typed list carry no `kind` on the
//!   wire, so they take it from the list (`RoleList` items are Roles);
//! * Secrets: metadata only. `data` and `stringData` are never read. A metadata-only list
//!   (`PartialObjectMetadataList`, what kube's `list_metadata` returns) carries neither `type`
//!   nor the Secret kind: items with the `kubernetes.io/service-account.name` annotation and
//!   no `type` are taken as token Secrets (list them with
//!   `fieldSelector=type=kubernetes.io/service-account-token`);
//! * ServiceAccount subjects of RoleBindings without a namespace get the binding's namespace
//!   (as the authorizer reads them).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::model::{
    BindingData, Meta, RoleData, RoleRefData, Snapshot, SubjectData, TokenSecretData,
};
use crate::rbac::Rule;

use crate::k8s::{INVALID_SINCE_LABEL, LAST_USED_LABEL, SA_NAME_ANNOTATION, SA_TOKEN_TYPE};

/// Builds a snapshot from objects; `taken_at` (RFC 3339) is the reference time for ages.
pub fn from_objects(objects: &[Value], taken_at: &str) -> Snapshot {
    let mut snapshot = Snapshot {
        taken_at: taken_at.to_string(),
        ..Snapshot::default()
    };
    for obj in objects {
        add(&mut snapshot, obj, None);
    }
    snapshot
}

/// Adds one object (or a list's items) to `snapshot`.
pub fn add_object(snapshot: &mut Snapshot, obj: &Value) {
    add(snapshot, obj, None);
}

/// The live read's typed objects (as kube decodes the API's answers), converted straight into
/// the snapshot as [`add_object`] converts the same objects' JSON, without building it.
pub mod typed {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
    use k8s_openapi::api::rbac::v1::{PolicyRule, RoleRef, Subject};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::super::model::{BindingData, Meta, RoleData, RoleRefData, Snapshot, SubjectData};
    use crate::rbac::Rule;

    fn text(s: Option<String>) -> Option<String> {
        s.filter(|s| !s.is_empty())
    }

    fn meta(m: ObjectMeta) -> Meta {
        Meta {
            name: text(m.name).unwrap_or_default(),
            namespace: text(m.namespace),
            uid: text(m.uid).unwrap_or_default(),
            labels: m.labels.unwrap_or_default(),
            annotations: m.annotations.unwrap_or_default(),
            // The time as its JSON spells it.
            created: m
                .creation_timestamp
                .and_then(|t| serde_json::to_value(t).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .filter(|s| !s.is_empty()),
        }
    }

    fn rules(rules: Option<Vec<PolicyRule>>) -> Vec<Rule> {
        rules
            .unwrap_or_default()
            .into_iter()
            .map(|r| Rule {
                verbs: r.verbs,
                api_groups: r.api_groups.unwrap_or_default(),
                resources: r.resources.unwrap_or_default(),
                resource_names: r.resource_names.unwrap_or_default(),
                non_resource_urls: r.non_resource_urls.unwrap_or_default(),
            })
            .collect()
    }

    fn binding(m: ObjectMeta, role_ref: RoleRef, subjects: Option<Vec<Subject>>) -> BindingData {
        let meta = meta(m);
        let subjects = subjects
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                let namespace = (s.kind == "ServiceAccount")
                    .then(|| text(s.namespace).or_else(|| meta.namespace.clone()))
                    .flatten();
                SubjectData {
                    kind: s.kind,
                    name: s.name,
                    namespace,
                }
            })
            .collect();
        BindingData {
            meta,
            role_ref: RoleRefData {
                kind: role_ref.kind,
                name: role_ref.name,
            },
            subjects,
        }
    }

    pub fn service_account(snapshot: &mut Snapshot, m: ObjectMeta) {
        snapshot.service_accounts.push(meta(m));
    }

    pub fn role(snapshot: &mut Snapshot, r: Role) {
        snapshot.roles.push(RoleData {
            meta: meta(r.metadata),
            rules: rules(r.rules),
            aggregated: false,
        });
    }

    pub fn cluster_role(snapshot: &mut Snapshot, r: ClusterRole) {
        snapshot.cluster_roles.push(RoleData {
            meta: meta(r.metadata),
            rules: rules(r.rules),
            aggregated: r.aggregation_rule.is_some(),
        });
    }

    pub fn role_binding(snapshot: &mut Snapshot, b: RoleBinding) {
        snapshot
            .role_bindings
            .push(binding(b.metadata, b.role_ref, b.subjects));
    }

    pub fn cluster_role_binding(snapshot: &mut Snapshot, b: ClusterRoleBinding) {
        snapshot
            .cluster_role_bindings
            .push(binding(b.metadata, b.role_ref, b.subjects));
    }

    /// A Secret listed with the token type's field selector, from its metadata.
    pub fn token_secret(snapshot: &mut Snapshot, m: ObjectMeta) {
        if let Some(token) = super::token_of(meta(m)) {
            snapshot.token_secrets.push(token);
        }
    }
}

/// Appends `part`'s objects to `snapshot` (its gaps and time are not taken).
pub fn append(snapshot: &mut Snapshot, part: Snapshot) {
    snapshot.service_accounts.extend(part.service_accounts);
    snapshot.roles.extend(part.roles);
    snapshot.cluster_roles.extend(part.cluster_roles);
    snapshot.role_bindings.extend(part.role_bindings);
    snapshot
        .cluster_role_bindings
        .extend(part.cluster_role_bindings);
    snapshot.token_secrets.extend(part.token_secrets);
}

/// Removes the objects for which `replaced(kind, namespace, name)` holds: a file's version
/// of them is added instead (`audit -f --with-cluster`).
pub fn remove_objects(
    snapshot: &mut Snapshot,
    replaced: impl Fn(&str, Option<&str>, &str) -> bool,
) {
    let keep =
        |kind: &str, m: &super::model::Meta| !replaced(kind, m.namespace.as_deref(), &m.name);
    snapshot
        .service_accounts
        .retain(|m| keep("ServiceAccount", m));
    snapshot.roles.retain(|r| keep("Role", &r.meta));
    snapshot
        .cluster_roles
        .retain(|r| keep("ClusterRole", &r.meta));
    snapshot
        .role_bindings
        .retain(|b| keep("RoleBinding", &b.meta));
    snapshot
        .cluster_role_bindings
        .retain(|b| keep("ClusterRoleBinding", &b.meta));
    snapshot.token_secrets.retain(|t| keep("Secret", &t.meta));
}

fn add(snapshot: &mut Snapshot, obj: &Value, list_item_kind: Option<&str>) {
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .or(list_item_kind)
        .unwrap_or("");
    if let Some(items) = obj.get("items").and_then(Value::as_array)
        && (kind.ends_with("List") || kind.is_empty())
    {
        let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
        for item in items {
            add(snapshot, item, item_kind);
        }
        return;
    }
    match kind {
        "ServiceAccount" => snapshot.service_accounts.push(meta(obj)),
        "Role" => snapshot.roles.push(role(obj)),
        "ClusterRole" => snapshot.cluster_roles.push(role(obj)),
        "RoleBinding" => snapshot.role_bindings.push(binding(obj)),
        "ClusterRoleBinding" => snapshot.cluster_role_bindings.push(binding(obj)),
        "Secret" | "PartialObjectMetadata" => {
            if let Some(token) = token_secret(obj, kind == "Secret") {
                snapshot.token_secrets.push(token);
            }
        }
        _ => {}
    }
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Stands in for a missing field (read by reference: objects are never copied here).
static NULL: Value = Value::Null;

fn meta(obj: &Value) -> Meta {
    let m = obj.get("metadata").unwrap_or(&NULL);
    Meta {
        name: str_field(m, "name").unwrap_or_default(),
        namespace: str_field(m, "namespace"),
        uid: str_field(m, "uid").unwrap_or_default(),
        labels: string_map(m.get("labels")),
        annotations: string_map(m.get("annotations")),
        created: str_field(m, "creationTimestamp"),
    }
}

/// Rules one by one: a malformed rule is skipped, the others kept.
fn rules(obj: &Value) -> Vec<Rule> {
    obj.get("rules")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|r| Rule::deserialize(r).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn role(obj: &Value) -> RoleData {
    RoleData {
        meta: meta(obj),
        rules: rules(obj),
        aggregated: obj.get("aggregationRule").is_some_and(|a| !a.is_null()),
    }
}

fn binding(obj: &Value) -> BindingData {
    let meta = meta(obj);
    let role_ref = obj.get("roleRef").unwrap_or(&NULL);
    let subjects = obj
        .get("subjects")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|s| {
                    let kind = str_field(s, "kind").unwrap_or_default();
                    // Only ServiceAccount subjects have a namespace (RBAC ignores it on others).
                    let namespace = (kind == "ServiceAccount")
                        .then(|| str_field(s, "namespace").or_else(|| meta.namespace.clone()))
                        .flatten();
                    SubjectData {
                        kind,
                        name: str_field(s, "name").unwrap_or_default(),
                        namespace,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    BindingData {
        meta,
        role_ref: RoleRefData {
            kind: str_field(role_ref, "kind").unwrap_or_default(),
            name: str_field(role_ref, "name").unwrap_or_default(),
        },
        subjects,
    }
}

/// A token Secret from its metadata; `None` for other Secrets. `typed` is false for
/// metadata-only items (no `type`, no kind).
fn token_secret(obj: &Value, typed: bool) -> Option<TokenSecretData> {
    match obj.get("type").and_then(Value::as_str) {
        Some(SA_TOKEN_TYPE) => {}
        Some(_) => return None,
        // Metadata-only listings carry no type: the annotation identifies token Secrets.
        None if !typed => {}
        None if obj
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(SA_NAME_ANNOTATION))
            .is_some_and(Value::is_string) => {}
        None => return None,
    }
    token_of(meta(obj))
}

/// The token Secret of `meta`: `None` without the ServiceAccount annotation.
fn token_of(meta: Meta) -> Option<TokenSecretData> {
    let sa = meta.annotations.get(SA_NAME_ANNOTATION).cloned()?;
    Some(TokenSecretData {
        service_account: sa,
        last_used: meta.labels.get(LAST_USED_LABEL).cloned(),
        invalid_since: meta.labels.get(INVALID_SINCE_LABEL).cloned(),
        meta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: &str = "2026-11-27T10:00:00Z";

    #[test]
    fn kinds_are_sorted_into_the_snapshot() {
        let objects = vec![
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "ci", "namespace": "team-a", "uid": "u1",
                                "labels": {"a": "b"}, "annotations": {"x": "y", "n": 1},
                                "creationTimestamp": "2026-01-01T00:00:00Z"}}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                   "metadata": {"name": "r", "namespace": "team-a"},
                   "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                             {"apiGroups": "not-a-list"}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "admin"}, "rules": null,
                   "aggregationRule": {"clusterRoleSelectors": []}}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "rb", "namespace": "team-a"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                   "subjects": [{"kind": "ServiceAccount", "name": "ci"},
                                {"kind": "ServiceAccount", "name": "other", "namespace": "team-b"},
                                {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": "crb"},
                   "roleRef": {"kind": "ClusterRole", "name": "view"},
                   "subjects": [{"kind": "Group", "name": "devs"}]}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team-a"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
        ];
        let s = from_objects(&objects, NOW);
        assert_eq!(s.taken_at, NOW);
        assert_eq!(s.service_accounts.len(), 1);
        let sa = &s.service_accounts[0];
        assert_eq!(sa.name, "ci");
        assert_eq!(sa.namespace.as_deref(), Some("team-a"));
        assert_eq!(sa.uid, "u1");
        assert_eq!(sa.labels["a"], "b");
        assert_eq!(
            sa.annotations.len(),
            1,
            "non-string annotation values are dropped"
        );
        assert_eq!(sa.created.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(s.roles.len(), 1);
        assert_eq!(
            s.roles[0].rules,
            vec![Rule::resource(&[""], &["pods"], &["get"])],
            "the malformed rule is skipped"
        );
        assert!(!s.roles[0].aggregated);
        assert_eq!(s.cluster_roles.len(), 1);
        assert!(s.cluster_roles[0].aggregated);
        assert!(s.cluster_roles[0].rules.is_empty());
        assert_eq!(s.cluster_roles[0].meta.namespace, None);
        let rb = &s.role_bindings[0];
        assert_eq!(rb.role_ref.kind, "Role");
        assert_eq!(rb.subjects[0].namespace.as_deref(), Some("team-a"));
        assert_eq!(rb.subjects[1].namespace.as_deref(), Some("team-b"));
        assert_eq!(rb.subjects[2].kind, "User");
        assert_eq!(rb.subjects[2].namespace, None);
        assert_eq!(s.cluster_role_bindings[0].subjects[0].name, "devs");
        assert!(s.token_secrets.is_empty());
        assert!(s.gaps.is_empty());
    }

    #[test]
    fn only_token_secrets_are_kept_and_their_data_is_dropped() {
        let objects = vec![
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                   "metadata": {"name": "ci-token", "namespace": "team-a",
                                "annotations": {"kubernetes.io/service-account.name": "ci"},
                                "labels": {"kubernetes.io/legacy-token-last-used": "2026-10-01",
                                           "kubernetes.io/legacy-token-invalid-since": "2026-11-01"}},
                   "data": {"token": "c2VjcmV0LXRva2Vu"}, "stringData": {"token": "secret-token"}}),
            json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                   "metadata": {"name": "db", "namespace": "team-a",
                                "annotations": {"kubernetes.io/service-account.name": "ci"}},
                   "data": {"password": "cHc="}}),
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "untyped", "namespace": "team-a"}}),
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                   "metadata": {"name": "no-sa", "namespace": "team-a"}}),
        ];
        let s = from_objects(&objects, NOW);
        assert_eq!(s.token_secrets.len(), 1);
        let t = &s.token_secrets[0];
        assert_eq!(t.meta.name, "ci-token");
        assert_eq!(t.service_account, "ci");
        assert_eq!(t.last_used.as_deref(), Some("2026-10-01"));
        assert_eq!(t.invalid_since.as_deref(), Some("2026-11-01"));
        let dump = format!("{s:?}{}", serde_json::to_string(&s).unwrap());
        assert!(!dump.contains("c2VjcmV0LXRva2Vu") && !dump.contains("secret-token"));
        assert!(!dump.contains("cHc="));
    }

    #[test]
    fn lists_and_metadata_only_lists_are_unpacked() {
        let objects = vec![
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleList",
                   "items": [{"metadata": {"name": "a", "namespace": "x"}, "rules": []},
                             {"metadata": {"name": "b", "namespace": "x"}}]}),
            json!({"apiVersion": "v1", "kind": "List",
                   "items": [{"kind": "ServiceAccount", "metadata": {"name": "s", "namespace": "x"}},
                             {"kind": "ClusterRoleBinding", "metadata": {"name": "c"},
                              "roleRef": {"kind": "ClusterRole", "name": "view"}}]}),
            json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
                   "items": [{"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                              "metadata": {"name": "s-token", "namespace": "x",
                                           "annotations": {"kubernetes.io/service-account.name": "s"}}},
                             {"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                              "metadata": {"name": "not-a-token", "namespace": "x"}}]}),
            json!({"apiVersion": "v1", "kind": "SecretList",
                   "items": [{"type": "kubernetes.io/service-account-token",
                              "metadata": {"name": "t2", "namespace": "x",
                                           "annotations": {"kubernetes.io/service-account.name": "s"}}}]}),
        ];
        let s = from_objects(&objects, NOW);
        let roles: Vec<&str> = s.roles.iter().map(|r| r.meta.name.as_str()).collect();
        assert_eq!(roles, ["a", "b"]);
        assert_eq!(s.service_accounts[0].name, "s");
        assert_eq!(s.cluster_role_bindings[0].meta.name, "c");
        assert!(s.cluster_role_bindings[0].subjects.is_empty());
        let tokens: Vec<&str> = s
            .token_secrets
            .iter()
            .map(|t| t.meta.name.as_str())
            .collect();
        assert_eq!(tokens, ["s-token", "t2"]);
    }

    #[test]
    fn empty_input() {
        let s = from_objects(&[], NOW);
        assert_eq!(
            s,
            Snapshot {
                taken_at: NOW.into(),
                ..Snapshot::default()
            }
        );
        let s = from_objects(&[json!(null), json!({"kind": 3}), json!([])], NOW);
        assert!(s.service_accounts.is_empty() && s.roles.is_empty());
    }
}
