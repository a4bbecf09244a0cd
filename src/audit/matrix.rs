//! `--sa NAME`: one ServiceAccount's effective permissions as a kinds x verbs matrix, like
//! `kubectl access-matrix` (rakkess), from its resolved grants in its namespace and
//! cluster-wide. Every grant counts here, built-in ones included: it is what the identity can
//! do, not what the audit flags.
//!
//! Rows: a fixed list of kinds a deploy pipeline meets (so that a "no" on secrets is visible),
//! then every (group, resource) the identity's non-built-in rules name, wildcards included
//! (`*` rows show exactly where a wildcard is held). Columns: the eight standard verbs, then
//! any other verb the rules name (`escalate`, `bind`, `impersonate`, `approve`, ...).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;

use super::model::{Snapshot, Via};
use super::resolve::{self, Grant};
use crate::rbac::rule::{WILDCARD, group_resource};
use crate::rbac::{Request, Rule, STANDARD_VERBS};

/// Rows always shown: (group, resource).
pub const KNOWN_KINDS: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "pods/exec"),
    ("", "pods/log"),
    ("", "pods/portforward"),
    ("", "secrets"),
    ("", "configmaps"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("", "serviceaccounts/token"),
    ("", "persistentvolumeclaims"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "networkpolicies"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
];

/// Well-known cluster-scoped resources: only a ClusterRoleBinding grants them.
pub const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "nodes"),
    ("", "persistentvolumes"),
    ("", "componentstatuses"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("apiregistration.k8s.io", "apiservices"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "volumeattachments"),
    ("scheduling.k8s.io", "priorityclasses"),
    ("node.k8s.io", "runtimeclasses"),
    ("certificates.k8s.io", "certificatesigningrequests"),
    ("certificates.k8s.io", "signers"),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    ("admissionregistration.k8s.io", "mutatingadmissionpolicies"),
    (
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicybindings",
    ),
    ("networking.k8s.io", "ingressclasses"),
    ("networking.k8s.io", "ipaddresses"),
    ("networking.k8s.io", "servicecidrs"),
    ("flowcontrol.apiserver.k8s.io", "flowschemas"),
    (
        "flowcontrol.apiserver.k8s.io",
        "prioritylevelconfigurations",
    ),
    ("authentication.k8s.io", "tokenreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("gateway.networking.k8s.io", "gatewayclasses"),
    ("", "users"),
    ("", "groups"),
];

/// True when `group`/`resource` (or its parent, for a subresource) is cluster-scoped.
/// `namespaces` is not: a RoleBinding grants access to its own namespace object.
pub fn is_cluster_scoped(group: &str, resource: &str) -> bool {
    let base = resource.split_once('/').map_or(resource, |(b, _)| b);
    CLUSTER_SCOPED
        .iter()
        .any(|(g, r)| *g == group && *r == base)
}

/// What one cell allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Not allowed.
    None,
    /// Only for these object names (`resourceNames`).
    Names(Vec<String>),
    /// Allowed in the ServiceAccount's namespace (a RoleBinding there).
    Namespace,
    /// Allowed in every namespace, or at the cluster scope (a ClusterRoleBinding).
    Cluster,
}

impl Access {
    /// True for anything but [`Access::None`].
    pub fn allowed(&self) -> bool {
        !matches!(self, Access::None)
    }
}

/// One kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatrixRow {
    /// kubectl's form: `deployments.apps`, `pods/exec`, `*.apps`, `*`.
    pub kind: String,
    /// API group (`""` core, `*` any).
    pub group: String,
    /// `res`, `res/sub` or `*`.
    pub resource: String,
    pub cluster_scoped: bool,
    /// One per [`Matrix::verbs`] entry.
    pub cells: Vec<Access>,
}

/// One grant behind the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatrixGrant {
    pub via: Via,
    /// `namespace team-a`, `cluster-wide`.
    pub scope: String,
    /// A bootstrap-policy grant every cluster has (e.g. `system:basic-user`).
    pub builtin: bool,
    /// The role does not exist (or could not be read): the grant gives nothing.
    pub missing_role: bool,
}

/// A ServiceAccount's effective permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Matrix {
    pub namespace: String,
    pub service_account: String,
    /// The ServiceAccount object exists in the snapshot.
    pub exists: bool,
    /// Column headers.
    pub verbs: Vec<String>,
    pub rows: Vec<MatrixRow>,
    /// Non-resource URLs and their verbs, from cluster-wide grants (`get /healthz`).
    pub non_resource: Vec<String>,
    /// The grants that apply in the namespace or cluster-wide.
    pub grants: Vec<MatrixGrant>,
    /// Namespaces where RoleBindings give it more (not shown in the matrix).
    pub other_namespaces: Vec<String>,
}

/// Rules looked up by the (group, resource) pairs they name, so that a cell only checks the
/// rules that can match it: with one row per named resource, scanning every rule for every
/// cell made `--sa` quadratic in the number of rules.
struct RuleIndex<'a> {
    rules: &'a [Rule],
    by_pair: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> RuleIndex<'a> {
    fn new(rules: &'a [Rule]) -> RuleIndex<'a> {
        let mut by_pair: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (i, r) in rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_resource_rule())
        {
            for g in &r.api_groups {
                for res in &r.resources {
                    let entry = by_pair.entry((g.as_str(), res.as_str())).or_default();
                    if entry.last() != Some(&i) {
                        entry.push(i);
                    }
                }
            }
        }
        RuleIndex { rules, by_pair }
    }

    /// The rules that allow `req` for some name, in rule order: those naming its group (or
    /// `*`) and its resource, `*`, or `*/<subresource>`, then checked exactly.
    fn matching(&self, req: &Request) -> Vec<&'a Rule> {
        let combined = req.combined_resource();
        let any_sub = req.subresource.as_ref().map(|sub| format!("*/{sub}"));
        let mut resources = vec![combined.as_str(), WILDCARD];
        if let Some(s) = &any_sub {
            resources.push(s);
        }
        let mut found: Vec<usize> = [req.group.as_str(), WILDCARD]
            .iter()
            .flat_map(|g| resources.iter().map(move |r| (*g, *r)))
            .filter_map(|key| self.by_pair.get(&key))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .map(|i| &self.rules[i])
            .filter(|r| r.allows_ignoring_name(req))
            .collect()
    }
}

fn cell(cluster: &RuleIndex, namespace: &RuleIndex, req: &Request, cluster_scoped: bool) -> Access {
    let mut names: Vec<String> = Vec::new();
    let mut scan = |index: &RuleIndex| -> bool {
        for r in index.matching(req) {
            if r.resource_names.is_empty() {
                return true;
            }
            if crate::rbac::matching::verb_carries_name(&req.verb) {
                for n in &r.resource_names {
                    if !names.contains(n) {
                        names.push(n.clone());
                    }
                }
            }
        }
        false
    };
    if scan(cluster) {
        return Access::Cluster;
    }
    if !cluster_scoped && scan(namespace) {
        return Access::Namespace;
    }
    if names.is_empty() {
        Access::None
    } else {
        names.sort();
        Access::Names(names)
    }
}

/// The matrix of ServiceAccount `namespace`/`service_account`.
pub fn access_matrix(snapshot: &Snapshot, namespace: &str, service_account: &str) -> Matrix {
    let resolution = resolve::resolve(snapshot);
    let subject = resolve::service_account(namespace, service_account);
    let sg = resolution.subject(&subject);
    let grants: Vec<Grant<'_>> = sg.map(|s| s.grants.clone()).unwrap_or_default();
    let exists = snapshot
        .service_accounts
        .iter()
        .any(|m| m.name == service_account && m.namespace.as_deref() == Some(namespace));

    let here: Vec<&Grant<'_>> = grants.iter().filter(|g| g.applies_in(namespace)).collect();
    let rules_cluster: Vec<Rule> = here
        .iter()
        .filter(|g| g.cluster_binding)
        .flat_map(|g| g.effective_rules())
        .collect();
    let rules_ns: Vec<Rule> = here
        .iter()
        .filter(|g| !g.cluster_binding)
        .flat_map(|g| g.effective_rules())
        .collect();
    let own_rules: Vec<Rule> = here
        .iter()
        .filter(|g| !g.builtin)
        .flat_map(|g| g.effective_rules())
        .collect();

    // Columns.
    let mut verbs: Vec<String> = STANDARD_VERBS.iter().map(|v| v.to_string()).collect();
    let extra: BTreeSet<&str> = own_rules
        .iter()
        .filter(|r| r.is_resource_rule())
        .flat_map(|r| r.verbs.iter().map(String::as_str))
        .filter(|v| *v != WILDCARD && !STANDARD_VERBS.contains(v))
        .collect();
    verbs.extend(extra.into_iter().map(str::to_string));

    // Rows.
    let mut kinds: Vec<(String, String)> = KNOWN_KINDS
        .iter()
        .map(|(g, r)| (g.to_string(), r.to_string()))
        .collect();
    let known: HashSet<(String, String)> = kinds.iter().cloned().collect();
    let mut named: BTreeSet<(String, String)> = BTreeSet::new();
    for r in own_rules.iter().filter(|r| r.is_resource_rule()) {
        for g in &r.api_groups {
            for res in &r.resources {
                named.insert((g.clone(), res.clone()));
            }
        }
    }
    kinds.extend(named.into_iter().filter(|k| !known.contains(k)));
    let (cluster_index, namespace_index) =
        (RuleIndex::new(&rules_cluster), RuleIndex::new(&rules_ns));
    let rows = kinds
        .into_iter()
        .map(|(group, resource)| {
            let cluster_scoped = is_cluster_scoped(&group, &resource);
            let cells = verbs
                .iter()
                .map(|v| {
                    let req = Request::parse(v, &group, &resource);
                    cell(&cluster_index, &namespace_index, &req, cluster_scoped)
                })
                .collect();
            let kind = if group == WILDCARD && resource == WILDCARD {
                WILDCARD.to_string()
            } else {
                group_resource(&group, &resource)
            };
            MatrixRow {
                kind,
                group,
                resource,
                cluster_scoped,
                cells,
            }
        })
        .collect();

    let mut non_resource: Vec<String> = Vec::new();
    for r in here
        .iter()
        .filter(|g| g.cluster_binding && !g.builtin)
        .flat_map(|g| g.rules().iter())
        .filter(|r| r.is_non_resource_rule())
    {
        for u in &r.non_resource_urls {
            let line = format!("{} {u}", r.verbs.join(","));
            if !non_resource.contains(&line) {
                non_resource.push(line);
            }
        }
    }

    let matrix_grants = here
        .iter()
        .map(|g| MatrixGrant {
            via: g.via(),
            scope: match g.namespace() {
                Some(ns) => format!("namespace {ns}"),
                None => "cluster-wide".into(),
            },
            builtin: g.builtin,
            missing_role: g.role.is_none(),
        })
        .collect();
    let other_namespaces: Vec<String> = grants
        .iter()
        .filter_map(|g| g.namespace())
        .filter(|ns| *ns != namespace)
        .map(str::to_string)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    Matrix {
        namespace: namespace.to_string(),
        service_account: service_account.to_string(),
        exists,
        verbs,
        rows,
        non_resource,
        grants: matrix_grants,
        other_namespaces,
    }
}

impl Matrix {
    /// Rows with at least one allowed cell.
    pub fn allowed_rows(&self) -> impl Iterator<Item = &MatrixRow> {
        self.rows
            .iter()
            .filter(|r| r.cells.iter().any(Access::allowed))
    }
}

/// The symbol of a cell: `✓` (in the namespace), `✓*` (every namespace / cluster-wide),
/// `~` (named objects only), `✗`; ASCII `yes`, `yes*`, `names`, `no`.
pub fn symbol(access: &Access, unicode: bool) -> &'static str {
    match (access, unicode) {
        (Access::Namespace, true) => "✓",
        (Access::Cluster, true) => "✓*",
        (Access::Names(_), true) => "~",
        (Access::None, true) => "✗",
        (Access::Namespace, false) => "yes",
        (Access::Cluster, false) => "yes*",
        (Access::Names(_), false) => "names",
        (Access::None, false) => "no",
    }
}

/// A ServiceAccount with namespace, named-object, wildcard-verb, cluster-wide, built-in and
/// other-namespace grants: the matrix's test fixture, shared with its renderer's tests.
#[cfg(test)]
pub(crate) fn sample_snapshot() -> Snapshot {
    use serde_json::json;
    crate::audit::snapshot::from_objects(
        &[
            json!({"kind": "ServiceAccount", "metadata": {"name": "ci", "namespace": "a"}}),
            json!({"kind": "Role", "metadata": {"name": "ci", "namespace": "a"}, "rules": [
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "create"]},
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["helm-state"]},
                {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["*"]},
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["bind"]}
            ]}),
            json!({"kind": "RoleBinding", "metadata": {"name": "ci", "namespace": "a"},
                       "roleRef": {"kind": "Role", "name": "ci"},
                       "subjects": [{"kind": "ServiceAccount", "name": "ci"}]}),
            json!({"kind": "ClusterRole", "metadata": {"name": "node-reader"}, "rules": [
                {"apiGroups": [""], "resources": ["nodes", "configmaps"], "verbs": ["get"]},
                {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}
            ]}),
            json!({"kind": "ClusterRoleBinding", "metadata": {"name": "ci-nodes"},
                       "roleRef": {"kind": "ClusterRole", "name": "node-reader"},
                       "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "a"}]}),
            // a RoleBinding granting nodes (cluster-scoped) is inert
            json!({"kind": "RoleBinding", "metadata": {"name": "inert", "namespace": "a"},
                       "roleRef": {"kind": "ClusterRole", "name": "node-reader"},
                       "subjects": [{"kind": "ServiceAccount", "name": "ci"}]}),
            json!({"kind": "RoleBinding", "metadata": {"name": "elsewhere", "namespace": "b"},
                       "roleRef": {"kind": "ClusterRole", "name": "node-reader"},
                       "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "a"}]}),
            json!({"kind": "ClusterRole", "metadata": {"name": "system:basic-user",
                   "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}}, "rules": [
                {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews"], "verbs": ["create"]}
            ]}),
            json!({"kind": "ClusterRoleBinding", "metadata": {"name": "system:basic-user",
                       "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
                       "roleRef": {"kind": "ClusterRole", "name": "system:basic-user"},
                       "subjects": [{"kind": "Group", "name": "system:authenticated"}]}),
        ],
        "2026-11-27T00:00:00Z",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::snapshot::from_objects;
    use serde_json::json;

    fn snapshot() -> Snapshot {
        sample_snapshot()
    }

    fn row<'a>(m: &'a Matrix, kind: &str) -> &'a MatrixRow {
        m.rows
            .iter()
            .find(|r| r.kind == kind)
            .unwrap_or_else(|| panic!("no row {kind}"))
    }

    fn at<'a>(m: &'a Matrix, kind: &str, verb: &str) -> &'a Access {
        let i = m.verbs.iter().position(|v| v == verb).unwrap();
        &row(m, kind).cells[i]
    }

    #[test]
    fn cells_follow_grants_and_scopes() {
        let m = access_matrix(&snapshot(), "a", "ci");
        assert!(m.exists);
        assert_eq!(&m.verbs[..8], STANDARD_VERBS);
        assert_eq!(&m.verbs[8..], ["bind"], "extra verbs named by the rules");
        assert_eq!(at(&m, "deployments.apps", "create"), &Access::Namespace);
        assert_eq!(at(&m, "deployments.apps", "delete"), &Access::None);
        assert_eq!(
            at(&m, "secrets", "get"),
            &Access::Names(vec!["helm-state".into()])
        );
        assert_eq!(at(&m, "secrets", "list"), &Access::None);
        assert_eq!(at(&m, "configmaps", "get"), &Access::Cluster);
        assert_eq!(at(&m, "widgets.example.com", "patch"), &Access::Namespace);
        assert_eq!(
            at(&m, "roles.rbac.authorization.k8s.io", "bind"),
            &Access::Namespace
        );
        let nodes = row(&m, "nodes");
        assert!(nodes.cluster_scoped);
        assert_eq!(at(&m, "nodes", "get"), &Access::Cluster);
        assert_eq!(at(&m, "pods", "get"), &Access::None);
        // built-in grants count in cells, but name no rows
        assert!(!m.rows.iter().any(|r| r.kind.contains("selfsubject")));
        assert_eq!(m.non_resource, ["get /metrics"]);
        assert_eq!(m.other_namespaces, ["b"]);
        let scopes: Vec<(&str, bool)> = m
            .grants
            .iter()
            .map(|g| (g.scope.as_str(), g.builtin))
            .collect();
        assert_eq!(
            scopes,
            [
                ("namespace a", false),
                ("namespace a", false),
                ("cluster-wide", false),
                ("cluster-wide", true)
            ]
        );
        assert!(m.allowed_rows().any(|r| r.kind == "deployments.apps"));
        assert!(!m.allowed_rows().any(|r| r.kind == "pods"));
    }

    #[test]
    fn inert_namespace_grant_of_a_cluster_scoped_kind() {
        let mut snap = snapshot();
        snap.cluster_role_bindings
            .retain(|b| b.meta.name != "ci-nodes");
        let m = access_matrix(&snap, "a", "ci");
        assert_eq!(
            at(&m, "nodes", "get"),
            &Access::None,
            "a RoleBinding cannot grant nodes"
        );
        assert_eq!(at(&m, "configmaps", "get"), &Access::Namespace);
    }

    #[test]
    fn wildcard_rows() {
        let snap = from_objects(
            &[
                json!({"kind": "ClusterRole", "metadata": {"name": "all"}, "rules": [
                    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
                json!({"kind": "Role", "metadata": {"name": "apps", "namespace": "a"}, "rules": [
                    {"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get"]}]}),
                json!({"kind": "RoleBinding", "metadata": {"name": "apps", "namespace": "a"},
                       "roleRef": {"kind": "Role", "name": "apps"},
                       "subjects": [{"kind": "ServiceAccount", "name": "x"}]}),
                json!({"kind": "RoleBinding", "metadata": {"name": "all", "namespace": "a"},
                       "roleRef": {"kind": "ClusterRole", "name": "all"},
                       "subjects": [{"kind": "ServiceAccount", "name": "y"}]}),
            ],
            "",
        );
        let x = access_matrix(&snap, "a", "x");
        assert!(!x.exists);
        assert_eq!(at(&x, "*.apps", "get"), &Access::Namespace);
        assert_eq!(at(&x, "*.apps", "list"), &Access::None);
        assert_eq!(at(&x, "deployments.apps", "get"), &Access::Namespace);
        let y = access_matrix(&snap, "a", "y");
        assert_eq!(
            y.verbs.len(),
            STANDARD_VERBS.len(),
            "no extra column for `*` verbs"
        );
        assert_eq!(at(&y, "*", "deletecollection"), &Access::Namespace);
        assert_eq!(at(&y, "secrets", "get"), &Access::Namespace);
        let nobody = access_matrix(&snap, "a", "nobody");
        assert!(nobody.grants.is_empty());
        assert_eq!(nobody.allowed_rows().count(), 0);
    }

    /// Every rule checked for every cell: what the index must agree with.
    fn naive_cell(
        cluster: &[Rule],
        namespace: &[Rule],
        req: &Request,
        cluster_scoped: bool,
    ) -> Access {
        let mut names: Vec<String> = Vec::new();
        let mut scan = |rules: &[Rule]| {
            let mut full = false;
            for r in rules.iter().filter(|r| r.allows_ignoring_name(req)) {
                if r.resource_names.is_empty() {
                    full = true;
                } else if crate::rbac::matching::verb_carries_name(&req.verb) {
                    for n in &r.resource_names {
                        if !names.contains(n) {
                            names.push(n.clone());
                        }
                    }
                }
            }
            full
        };
        if scan(cluster) {
            return Access::Cluster;
        }
        if !cluster_scoped && scan(namespace) {
            return Access::Namespace;
        }
        names.sort();
        if names.is_empty() {
            Access::None
        } else {
            Access::Names(names)
        }
    }

    #[test]
    fn the_rule_index_gives_what_checking_every_rule_gives() {
        let named = |g: &[&str], r: &[&str], v: &[&str], n: &[&str]| {
            let mut rule = Rule::resource(g, r, v);
            rule.resource_names = n.iter().map(|s| s.to_string()).collect();
            rule
        };
        let cluster = vec![
            Rule::resource(&["apps"], &["deployments/scale"], &["get"]),
            Rule::resource(&["*"], &["*/status"], &["get", "update"]),
            named(&[""], &["secrets"], &["get"], &["a", "b"]),
            Rule::resource(&[""], &["nodes"], &["*"]),
        ];
        let namespace = vec![
            Rule::resource(
                &["apps", ""],
                &["deployments", "pods", "pods/exec"],
                &["get", "create"],
            ),
            Rule::resource(&["example.com"], &["*"], &["list"]),
            named(&[""], &["secrets"], &["get", "list"], &["c", "a"]),
            named(&[""], &["configmaps"], &["delete"], &["x"]),
            Rule::resource(&["*"], &["*"], &["escalate"]),
            Rule::non_resource(&["/healthz"], &["get"]),
        ];
        let (ci, ni) = (RuleIndex::new(&cluster), RuleIndex::new(&namespace));
        let groups = ["", "apps", "example.com", "*", "other"];
        let resources = [
            "pods",
            "pods/exec",
            "pods/status",
            "pods/",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "secrets",
            "configmaps",
            "nodes",
            "widgets",
            "*",
            "*/status",
        ];
        let verbs = [
            "get", "list", "create", "update", "delete", "escalate", "watch",
        ];
        let mut checked = 0;
        for g in groups {
            for r in resources {
                for v in verbs {
                    let req = Request::parse(v, g, r);
                    for scoped in [false, true] {
                        assert_eq!(
                            cell(&ci, &ni, &req, scoped),
                            naive_cell(&cluster, &namespace, &req, scoped),
                            "{v} {g} {r} cluster-scoped={scoped}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 5 * 13 * 7 * 2);
    }

    #[test]
    fn serializes() {
        let m = access_matrix(&snapshot(), "a", "ci");
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["serviceAccount"], "ci");
        assert_eq!(v["rows"][0]["kind"], "pods");
        assert_eq!(v["rows"][0]["cells"][0], "none");
        let secrets = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "secrets")
            .unwrap();
        assert_eq!(secrets["cells"][0], json!({"names": ["helm-state"]}));
        assert!(is_cluster_scoped("", "nodes/proxy"));
        assert!(!is_cluster_scoped("", "namespaces"));
    }
}
