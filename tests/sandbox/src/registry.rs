//! The resource types the sandbox serves, and the discovery documents built from them.
//!
//! The table is data: tests can register more types (CRD-style) before the server starts.

use serde_json::{Value, json};

pub const VERBS_ALL: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const VERBS_CREATE_ONLY: &[&str] = &["create"];
const VERBS_NO_COLLECTION_DELETE: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// `apiVersionPriorities` of kube-apiserver 1.37 (`cmd/kube-apiserver/app/aggregator.go` and
/// `pkg/controlplane/apiserver/aggregator.go`); custom resource groups get 1000.
fn group_priority(group: &str) -> i32 {
    match group {
        "apps" => 17800,
        "events.k8s.io" => 17750,
        "authentication.k8s.io" => 17700,
        "authorization.k8s.io" => 17600,
        "autoscaling" => 17500,
        "batch" => 17400,
        "certificates.k8s.io" => 17300,
        "networking.k8s.io" => 17200,
        "policy" => 17100,
        "rbac.authorization.k8s.io" => 17000,
        "storage.k8s.io" => 16800,
        "admissionregistration.k8s.io" | "apiextensions.k8s.io" => 16700,
        "scheduling.k8s.io" => 16600,
        "coordination.k8s.io" => 16500,
        "node.k8s.io" => 16300,
        "discovery.k8s.io" | "resource.k8s.io" => 16200,
        "flowcontrol.apiserver.k8s.io" => 16100,
        "internal.apiserver.k8s.io" => 16000,
        "storagemigration.k8s.io" => 15800,
        "lifecycle.k8s.io" => 15700,
        _ => 1000,
    }
}

/// A subresource such as `deployments/scale` or `serviceaccounts/token`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subresource {
    pub name: String,
    /// Group, version and kind of what the subresource answers with.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub verbs: Vec<String>,
}

/// One served resource type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    /// Plural, lower-case: `deployments`.
    pub resource: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub subresources: Vec<Subresource>,
    /// Kinds like the reviews are not stored: the server answers them and forgets.
    pub stored: bool,
    /// DELETE answers with the object (`ReturnDeletedObject` in its registry) instead of a
    /// `Status` of kind Success.
    pub returns_deleted_object: bool,
}

impl ResourceType {
    /// A stored type with the usual eight verbs.
    pub fn new(group: &str, version: &str, resource: &str, kind: &str, namespaced: bool) -> Self {
        ResourceType {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
            singular: kind.to_lowercase(),
            kind: kind.into(),
            namespaced,
            verbs: VERBS_ALL.iter().map(|v| v.to_string()).collect(),
            short_names: Vec::new(),
            categories: Vec::new(),
            subresources: Vec::new(),
            stored: true,
            returns_deleted_object: false,
        }
    }

    pub fn returns_deleted_object(mut self) -> Self {
        self.returns_deleted_object = true;
        self
    }

    pub fn short_names(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn categories(mut self, names: &[&str]) -> Self {
        self.categories = names.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = verbs.iter().map(|s| s.to_string()).collect();
        self
    }

    /// A type the server answers but does not keep (reviews, TokenRequest-like kinds).
    pub fn virtual_create_only(mut self) -> Self {
        self.verbs = VERBS_CREATE_ONLY.iter().map(|s| s.to_string()).collect();
        self.stored = false;
        self
    }

    pub fn sub(
        mut self,
        name: &str,
        group: &str,
        version: &str,
        kind: &str,
        verbs: &[&str],
    ) -> Self {
        self.subresources.push(Subresource {
            name: name.into(),
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    /// `status` subresource answering with the type's own kind.
    pub fn status(self) -> Self {
        let (g, v, k) = (self.group.clone(), self.version.clone(), self.kind.clone());
        self.sub("status", &g, &v, &k, &["get", "patch", "update"])
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, or `pods` for the core group: how messages name the type.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// `Deployment.apps`, or `Pod`: how Invalid messages name the type.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    pub fn subresource(&self, name: &str) -> Option<&Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }
}

/// Every served type, in registration order.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    types: Vec<ResourceType>,
}

impl Registry {
    /// The built-in types of a small real cluster plus a few common CRDs.
    pub fn standard() -> Self {
        let mut r = Registry::default();
        for t in standard_types() {
            r.register(t);
        }
        r
    }

    /// Adds a type, replacing one with the same group, version and resource.
    pub fn register(&mut self, t: ResourceType) {
        self.types.retain(|x| {
            !(x.group == t.group && x.version == t.version && x.resource == t.resource)
        });
        self.types.push(t);
    }

    pub fn types(&self) -> &[ResourceType] {
        &self.types
    }

    pub fn find(&self, group: &str, version: &str, resource: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.resource == resource)
    }

    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.api_version() == api_version && t.kind == kind)
    }

    /// Group names in registration order, core (`""`) excluded.
    /// The named groups in kube-aggregator's order: group priority, highest first, then the
    /// APIService name (`v1.cert-manager.io`) for equal priorities.
    pub fn groups(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.types {
            if !t.group.is_empty() && !out.contains(&t.group) {
                out.push(t.group.clone());
            }
        }
        let key = |g: &String| {
            let version = self.versions_of(g).into_iter().next().unwrap_or_default();
            (
                std::cmp::Reverse(group_priority(g)),
                format!("{version}.{g}"),
            )
        };
        out.sort_by_cached_key(key);
        out
    }

    fn versions_of(&self, group: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.types.iter().filter(|t| t.group == group) {
            if !out.contains(&t.version) {
                out.push(t.version.clone());
            }
        }
        out
    }

    pub fn serves_group_version(&self, group: &str, version: &str) -> bool {
        self.types
            .iter()
            .any(|t| t.group == group && t.version == version)
    }

    /// `GET /api`, legacy form.
    pub fn api_versions(&self, server_address: &str) -> Value {
        json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        })
    }

    fn group_entry(&self, group: &str) -> Value {
        let versions: Vec<Value> = self
            .versions_of(group)
            .iter()
            .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
            .collect();
        let preferred = versions.first().cloned().unwrap_or(Value::Null);
        json!({"name": group, "versions": versions, "preferredVersion": preferred})
    }

    /// `GET /apis`, legacy form.
    pub fn api_group_list(&self) -> Value {
        let groups: Vec<Value> = self.groups().iter().map(|g| self.group_entry(g)).collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// `GET /apis/{group}`.
    pub fn api_group(&self, group: &str) -> Option<Value> {
        if !self.groups().iter().any(|g| g == group) {
            return None;
        }
        let mut entry = self.group_entry(group);
        entry["kind"] = json!("APIGroup");
        entry["apiVersion"] = json!("v1");
        Some(entry)
    }

    /// `GET /api/v1` or `GET /apis/{group}/{version}`: an APIResourceList.
    pub fn api_resource_list(&self, group: &str, version: &str) -> Option<Value> {
        if !self.serves_group_version(group, version) {
            return None;
        }
        let mut resources = Vec::new();
        for t in self
            .types
            .iter()
            .filter(|t| t.group == group && t.version == version)
        {
            let mut entry = json!({
                "name": t.resource,
                "singularName": t.singular,
                "namespaced": t.namespaced,
                "kind": t.kind,
                "verbs": t.verbs,
            });
            if !t.short_names.is_empty() {
                entry["shortNames"] = json!(t.short_names);
            }
            if !t.categories.is_empty() {
                entry["categories"] = json!(t.categories);
            }
            resources.push(entry);
            for s in &t.subresources {
                let mut sub = json!({
                    "name": format!("{}/{}", t.resource, s.name),
                    "singularName": "",
                    "namespaced": t.namespaced,
                    "kind": s.kind,
                    "verbs": s.verbs,
                });
                if s.group != t.group || s.version != t.version {
                    sub["group"] = json!(s.group);
                    sub["version"] = json!(s.version);
                }
                resources.push(sub);
            }
        }
        let group_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        Some(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }))
    }

    fn discovery_group(&self, group: &str) -> Value {
        let versions: Vec<Value> = self
            .versions_of(group)
            .iter()
            .map(|v| {
                let resources: Vec<Value> = self
                    .types
                    .iter()
                    .filter(|t| t.group == group && &t.version == v)
                    .map(resource_discovery)
                    .collect();
                json!({"version": v, "resources": resources, "freshness": "Current"})
            })
            .collect();
        let mut metadata = json!({"creationTimestamp": null});
        if !group.is_empty() {
            metadata["name"] = json!(group);
        }
        json!({"metadata": metadata, "versions": versions})
    }

    /// Aggregated discovery (apidiscovery.k8s.io/v2) for `/api` (core) or `/apis` (the rest).
    pub fn aggregated(&self, core: bool) -> Value {
        let items: Vec<Value> = if core {
            vec![self.discovery_group("")]
        } else {
            self.groups()
                .iter()
                .map(|g| self.discovery_group(g))
                .collect()
        };
        json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": items,
        })
    }
}

fn resource_discovery(t: &ResourceType) -> Value {
    let mut entry = json!({
        "resource": t.resource,
        "responseKind": {"group": t.group, "version": t.version, "kind": t.kind},
        "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": t.singular,
        "verbs": t.verbs,
    });
    if !t.short_names.is_empty() {
        entry["shortNames"] = json!(t.short_names);
    }
    if !t.categories.is_empty() {
        entry["categories"] = json!(t.categories);
    }
    if !t.subresources.is_empty() {
        let subs: Vec<Value> = t
            .subresources
            .iter()
            .map(|s| {
                json!({
                    "subresource": s.name,
                    "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
                    "verbs": s.verbs,
                })
            })
            .collect();
        entry["subresources"] = json!(subs);
    }
    entry
}

fn standard_types() -> Vec<ResourceType> {
    let rt = ResourceType::new;
    let all = &["all"];
    vec![
        // core/v1
        rt("", "v1", "namespaces", "Namespace", false)
            .short_names(&["ns"])
            .returns_deleted_object()
            .verbs(VERBS_NO_COLLECTION_DELETE)
            .status(),
        rt("", "v1", "serviceaccounts", "ServiceAccount", true)
            .short_names(&["sa"])
            .returns_deleted_object()
            .sub(
                "token",
                "authentication.k8s.io",
                "v1",
                "TokenRequest",
                &["create"],
            ),
        rt("", "v1", "secrets", "Secret", true),
        rt("", "v1", "configmaps", "ConfigMap", true).short_names(&["cm"]),
        // Services gained deletecollection in 1.31 and answer DELETE with the object.
        rt("", "v1", "services", "Service", true)
            .short_names(&["svc"])
            .categories(all)
            .returns_deleted_object()
            .status(),
        rt("", "v1", "pods", "Pod", true)
            .short_names(&["po"])
            .returns_deleted_object()
            .categories(all)
            .status()
            .sub("exec", "", "v1", "PodExecOptions", &["create", "get"])
            .sub("attach", "", "v1", "PodAttachOptions", &["create", "get"])
            .sub(
                "portforward",
                "",
                "v1",
                "PodPortForwardOptions",
                &["create", "get"],
            )
            .sub("log", "", "v1", "Pod", &["get"]),
        rt(
            "",
            "v1",
            "persistentvolumeclaims",
            "PersistentVolumeClaim",
            true,
        )
        .short_names(&["pvc"])
        .status(),
        rt("", "v1", "events", "Event", true).short_names(&["ev"]),
        rt("", "v1", "endpoints", "Endpoints", true).short_names(&["ep"]),
        rt("", "v1", "nodes", "Node", false)
            .short_names(&["no"])
            .status()
            .sub(
                "proxy",
                "",
                "v1",
                "NodeProxyOptions",
                &["create", "delete", "get", "patch", "update"],
            ),
        // apps/v1
        rt("apps", "v1", "deployments", "Deployment", true)
            .short_names(&["deploy"])
            .categories(all)
            .status()
            .sub(
                "scale",
                "autoscaling",
                "v1",
                "Scale",
                &["get", "patch", "update"],
            ),
        rt("apps", "v1", "replicasets", "ReplicaSet", true)
            .short_names(&["rs"])
            .categories(all)
            .status()
            .sub(
                "scale",
                "autoscaling",
                "v1",
                "Scale",
                &["get", "patch", "update"],
            ),
        rt("apps", "v1", "statefulsets", "StatefulSet", true)
            .short_names(&["sts"])
            .categories(all)
            .status()
            .sub(
                "scale",
                "autoscaling",
                "v1",
                "Scale",
                &["get", "patch", "update"],
            ),
        rt("apps", "v1", "daemonsets", "DaemonSet", true)
            .short_names(&["ds"])
            .categories(all)
            .status(),
        // batch/v1
        rt("batch", "v1", "jobs", "Job", true)
            .categories(all)
            .status(),
        rt("batch", "v1", "cronjobs", "CronJob", true)
            .short_names(&["cj"])
            .categories(all)
            .status(),
        // autoscaling/v2
        rt(
            "autoscaling",
            "v2",
            "horizontalpodautoscalers",
            "HorizontalPodAutoscaler",
            true,
        )
        .short_names(&["hpa"])
        .categories(all)
        .status(),
        // networking.k8s.io/v1
        rt("networking.k8s.io", "v1", "ingresses", "Ingress", true)
            .short_names(&["ing"])
            .status(),
        rt(
            "networking.k8s.io",
            "v1",
            "networkpolicies",
            "NetworkPolicy",
            true,
        )
        .short_names(&["netpol"]),
        // coordination.k8s.io/v1 (kubectl-cicd locks an identity with a Lease)
        rt("coordination.k8s.io", "v1", "leases", "Lease", true),
        // policy/v1
        rt(
            "policy",
            "v1",
            "poddisruptionbudgets",
            "PodDisruptionBudget",
            true,
        )
        .short_names(&["pdb"])
        .status(),
        // rbac.authorization.k8s.io/v1
        rt("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
        rt(
            "rbac.authorization.k8s.io",
            "v1",
            "rolebindings",
            "RoleBinding",
            true,
        ),
        rt(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterroles",
            "ClusterRole",
            false,
        ),
        rt(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterrolebindings",
            "ClusterRoleBinding",
            false,
        ),
        // authorization.k8s.io/v1
        rt(
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
            "SelfSubjectAccessReview",
            false,
        )
        .virtual_create_only(),
        rt(
            "authorization.k8s.io",
            "v1",
            "selfsubjectrulesreviews",
            "SelfSubjectRulesReview",
            false,
        )
        .virtual_create_only(),
        rt(
            "authorization.k8s.io",
            "v1",
            "subjectaccessreviews",
            "SubjectAccessReview",
            false,
        )
        .virtual_create_only(),
        // authentication.k8s.io/v1
        rt(
            "authentication.k8s.io",
            "v1",
            "tokenreviews",
            "TokenReview",
            false,
        )
        .virtual_create_only(),
        rt(
            "authentication.k8s.io",
            "v1",
            "selfsubjectreviews",
            "SelfSubjectReview",
            false,
        )
        .virtual_create_only(),
        // admissionregistration.k8s.io/v1
        rt(
            "admissionregistration.k8s.io",
            "v1",
            "validatingwebhookconfigurations",
            "ValidatingWebhookConfiguration",
            false,
        ),
        rt(
            "admissionregistration.k8s.io",
            "v1",
            "mutatingwebhookconfigurations",
            "MutatingWebhookConfiguration",
            false,
        ),
        // certificates.k8s.io/v1
        rt(
            "certificates.k8s.io",
            "v1",
            "certificatesigningrequests",
            "CertificateSigningRequest",
            false,
        )
        .short_names(&["csr"])
        .status()
        .sub(
            "approval",
            "certificates.k8s.io",
            "v1",
            "CertificateSigningRequest",
            &["get", "patch", "update"],
        ),
        // CRD-style types a Welkin-like cluster has installed
        rt(
            "monitoring.coreos.com",
            "v1",
            "prometheusrules",
            "PrometheusRule",
            true,
        )
        .short_names(&["promrule"])
        .categories(&["prometheus-operator"]),
        rt(
            "monitoring.coreos.com",
            "v1",
            "servicemonitors",
            "ServiceMonitor",
            true,
        )
        .short_names(&["smon"])
        .categories(&["prometheus-operator"]),
        rt("cert-manager.io", "v1", "certificates", "Certificate", true)
            .short_names(&["cert", "certs"])
            .categories(&["cert-manager"])
            .status(),
        rt(
            "argoproj.io",
            "v1alpha1",
            "applications",
            "Application",
            true,
        )
        .short_names(&["app", "apps"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_discovery_lists_subresources_with_their_group() {
        let r = Registry::standard();
        let core = r.api_resource_list("", "v1").unwrap();
        let token = core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "serviceaccounts/token")
            .unwrap();
        assert_eq!(token["group"], "authentication.k8s.io");
        assert_eq!(token["kind"], "TokenRequest");
        assert_eq!(token["verbs"], json!(["create"]));
    }

    #[test]
    fn aggregated_core_group_has_no_name_and_apis_lists_every_group() {
        let r = Registry::standard();
        let core = r.aggregated(true);
        assert!(core["items"][0]["metadata"].get("name").is_none());
        let apis = r.aggregated(false);
        let names: Vec<&str> = apis["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"apps"));
        assert!(names.contains(&"monitoring.coreos.com"));
        assert!(!names.contains(&""));
    }

    #[test]
    fn registering_replaces_same_type() {
        let mut r = Registry::standard();
        let before = r.types().len();
        r.register(ResourceType::new(
            "apps",
            "v1",
            "deployments",
            "Deployment",
            true,
        ));
        assert_eq!(r.types().len(), before);
        r.register(ResourceType::new(
            "example.com",
            "v1",
            "widgets",
            "Widget",
            true,
        ));
        assert_eq!(r.types().len(), before + 1);
        assert!(r.api_group("example.com").is_some());
    }
}
