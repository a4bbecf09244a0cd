//! What install needs to know about the kinds in a manifest: which are cluster-scoped, the
//! order objects are written (and applied) in, where a workload keeps its pod spec, and how
//! an object is named in messages. Pure: no I/O.

use serde_json::Value;

/// Kinds that are not namespaced: a namespace-scoped install leaves them to the administrator.
/// The built-in ones by kind name (no namespaced kind of another group shares these names),
/// plus the cluster-scoped kinds of tools found next to Argo CD.
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "SecurityContextConstraints",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// Kinds whose objects run pods, with the path of their pod spec.
const WORKLOADS: &[(&str, &str)] = &[
    ("Deployment", "/spec/template/spec"),
    ("StatefulSet", "/spec/template/spec"),
    ("DaemonSet", "/spec/template/spec"),
    ("ReplicaSet", "/spec/template/spec"),
    ("ReplicationController", "/spec/template/spec"),
    ("Job", "/spec/template/spec"),
    ("CronJob", "/spec/jobTemplate/spec/template/spec"),
    ("Pod", "/spec"),
];

pub fn kind(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or_default()
}

pub fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

/// `Deployment argocd-server`.
pub fn describe(object: &Value) -> String {
    format!("{} {}", kind(object), name(object))
}

/// The API group of an object's `apiVersion` (`""` for core).
pub fn group(object: &Value) -> &str {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}

pub fn is_cluster_scoped(object: &Value) -> bool {
    CLUSTER_SCOPED.contains(&kind(object))
}

pub fn is_crd(object: &Value) -> bool {
    kind(object) == "CustomResourceDefinition"
}

/// Where an object goes in the output: ServiceAccounts, Roles, RoleBindings, ConfigMaps and
/// Secrets, Services, workloads, NetworkPolicies, then anything else; input order within each.
pub fn order_group(object: &Value) -> u8 {
    match kind(object) {
        "ServiceAccount" => 0,
        "Role" => 1,
        "RoleBinding" => 2,
        "ConfigMap" | "Secret" => 3,
        "Service" => 4,
        k if WORKLOADS.iter().any(|(w, _)| *w == k) => 5,
        "NetworkPolicy" => 6,
        _ => 7,
    }
}

fn pod_spec_path(object: &Value) -> Option<&'static str> {
    WORKLOADS
        .iter()
        .find(|(k, _)| *k == kind(object))
        .map(|(_, path)| *path)
}

pub fn is_workload(object: &Value) -> bool {
    pod_spec_path(object).is_some()
}

/// The pod spec of a workload.
pub fn pod_spec(object: &Value) -> Option<&Value> {
    object.pointer(pod_spec_path(object)?)
}

pub fn pod_spec_mut(object: &mut Value) -> Option<&mut Value> {
    let path = pod_spec_path(object)?;
    object.pointer_mut(path)
}

/// The labels the workload's pods get (its template's; a Pod's own).
pub fn pod_labels(object: &Value) -> Option<&serde_json::Map<String, Value>> {
    let path = match kind(object) {
        "Pod" => "/metadata/labels",
        "CronJob" => "/spec/jobTemplate/spec/template/metadata/labels",
        _ => "/spec/template/metadata/labels",
    };
    object.pointer(path)?.as_object()
}

/// The containers of a pod spec, initContainers first, as `(is_init, container)`.
pub fn containers(pod_spec: &Value) -> Vec<(bool, &Value)> {
    let list = |key: &str| pod_spec[key].as_array().into_iter().flatten();
    list("initContainers")
        .map(|c| (true, c))
        .chain(list("containers").map(|c| (false, c)))
        .collect()
}

/// The component a workload belongs to: its name without `argocd-` (`repo-server`).
pub fn component(workload_name: &str) -> &str {
    workload_name
        .strip_prefix("argocd-")
        .unwrap_or(workload_name)
}

/// Whether the object belongs to Argo CD: named `argocd-…`, labelled part of Argo CD, or
/// one of its CRDs.
pub fn is_argo_cd(object: &Value) -> bool {
    let part_of = object["metadata"]["labels"]["app.kubernetes.io/part-of"]
        .as_str()
        .unwrap_or_default();
    name(object).starts_with("argocd-")
        || part_of.starts_with("argocd")
        || (is_crd(object) && object["spec"]["group"] == "argoproj.io")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_are_placed_and_scoped() {
        let o = |kind: &str| json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}});
        let kinds = [
            "NetworkPolicy",
            "Deployment",
            "Service",
            "Secret",
            "ConfigMap",
            "RoleBinding",
            "Role",
            "ServiceAccount",
            "PodDisruptionBudget",
        ];
        let groups: Vec<u8> = kinds.iter().map(|k| order_group(&o(k))).collect();
        assert_eq!(groups, [6, 5, 4, 3, 3, 2, 1, 0, 7]);
        assert!(is_cluster_scoped(&o("ClusterRole")) && is_cluster_scoped(&o("Namespace")));
        assert!(!is_cluster_scoped(&o("Role")));
        assert_eq!(
            group(&json!({"apiVersion": "apps/v1"})),
            "apps",
            "group of apps/v1"
        );
        assert_eq!(group(&json!({"apiVersion": "v1"})), "");
    }

    #[test]
    fn pod_specs_are_found_for_each_workload_kind() {
        let cron = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {
            "metadata": {"labels": {"a": "b"}},
            "spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "c"}]}}}}}});
        let spec = pod_spec(&cron).unwrap();
        let names: Vec<(bool, &str)> = containers(spec)
            .iter()
            .map(|(init, c)| (*init, c["name"].as_str().unwrap()))
            .collect();
        assert_eq!(names, [(true, "i"), (false, "c")]);
        assert_eq!(pod_labels(&cron).unwrap()["a"], "b");
        assert!(pod_spec(&json!({"kind": "Service", "spec": {}})).is_none());
        assert_eq!(component("argocd-repo-server"), "repo-server");
    }
}
