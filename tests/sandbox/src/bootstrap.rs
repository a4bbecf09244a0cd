// TEMPORARY STUB
use serde_json::{Value, json};
pub fn default_cluster_roles() -> Vec<Value> {
    ["cluster-admin","admin","edit","view","system:basic-user","system:discovery"].iter().map(|n| json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":n},"rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}]})).collect()
}
pub fn default_cluster_role_bindings() -> Vec<Value> {
    vec![]
}
