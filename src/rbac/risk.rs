//! The risk catalogue: which grants a security reviewer flags for a
//! namespace CI/CD robot, and why. Categories that [`RiskCategory::blocks_init`]
//! make `init` refuse unless `--allow-risky`; the others are notices shown in
//! the preview and in `audit`.
//!
//! Sources for the list: the Kubernetes "Role Based Access Control Good
//! Practices" page (secrets, workload creation, persistent volume creation,
//! nodes/proxy, escalate/bind, impersonate, CSR approval, token request,
//! admission webhooks, namespace modification), the `escalate`/`bind` checks in
//! `pkg/registry/rbac/role/policybased/storage.go` and
//! `pkg/registry/rbac/rolebinding/policybased/storage.go`, CVE-2021-25740
//! (endpoints write, removed from the aggregated `edit` role), CVE-2020-8554
//! (Service externalIPs) and the ingress-nginx annotation CVEs.

use crate::rbac::RBAC_GROUP;
use crate::rbac::error::RbacError;
use crate::rbac::matching::Request;
use crate::rbac::rule::Rule;
use serde::Serialize;

/// A kind of risky grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskCategory {
    /// Any `*` in verbs, groups, resources or URLs.
    Wildcard,
    /// Any access to Secrets.
    Secrets,
    /// `pods/exec`.
    PodExec,
    /// `pods/attach`.
    PodAttach,
    /// `pods/portforward`.
    PodPortForward,
    /// `pods/proxy`, `services/proxy`, `nodes/proxy`.
    Proxy,
    /// Writing `pods/ephemeralcontainers`.
    EphemeralContainers,
    /// `create serviceaccounts/token`.
    TokenRequest,
    /// Writing Roles and RoleBindings.
    RbacWrite,
    /// Writing ClusterRoles and ClusterRoleBindings.
    ClusterRbacWrite,
    /// The `escalate` verb.
    Escalate,
    /// The `bind` verb.
    Bind,
    /// The `impersonate` verb.
    Impersonate,
    /// Changing or deleting Namespaces.
    NamespaceWrite,
    /// Writing ResourceQuotas and LimitRanges.
    QuotaWrite,
    /// Writing Endpoints and EndpointSlices.
    EndpointsWrite,
    /// Writing admission webhooks and admission policies.
    AdmissionWrite,
    /// Writing CustomResourceDefinitions.
    CrdWrite,
    /// Approving or signing CertificateSigningRequests.
    CsrApproval,
    /// Creating or changing PersistentVolumes.
    PersistentVolumeWrite,
    /// Changing Nodes.
    NodeWrite,
    /// Writing Argo CD / Flux objects that a controller applies.
    GitOpsWrite,
    /// Creating or changing workloads (notice).
    WorkloadWrite,
    /// Creating or changing Services (notice).
    ServiceWrite,
    /// Creating or changing Ingresses (notice).
    IngressWrite,
    /// Writing NetworkPolicies (notice).
    NetworkPolicyWrite,
}

const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const CHANGE: &[&str] = &["create", "update", "patch"];
const ANY: &[&str] = &[];

/// (category, groups, resources, verbs; empty verbs = any verb)
type Entry = (
    RiskCategory,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const CATALOGUE: &[Entry] = &[
    (RiskCategory::Secrets, &[""], &["secrets"], ANY),
    (RiskCategory::PodExec, &[""], &["pods/exec"], ANY),
    (RiskCategory::PodAttach, &[""], &["pods/attach"], ANY),
    (
        RiskCategory::PodPortForward,
        &[""],
        &["pods/portforward"],
        ANY,
    ),
    (
        RiskCategory::Proxy,
        &[""],
        &["pods/proxy", "services/proxy", "nodes/proxy"],
        ANY,
    ),
    (
        RiskCategory::EphemeralContainers,
        &[""],
        &["pods/ephemeralcontainers"],
        &["update", "patch"],
    ),
    (
        RiskCategory::TokenRequest,
        &[""],
        &["serviceaccounts/token"],
        &["create"],
    ),
    (
        RiskCategory::RbacWrite,
        &[RBAC_GROUP],
        &["roles", "rolebindings"],
        WRITE,
    ),
    (
        RiskCategory::ClusterRbacWrite,
        &[RBAC_GROUP],
        &["clusterroles", "clusterrolebindings"],
        WRITE,
    ),
    (
        RiskCategory::Escalate,
        &[RBAC_GROUP],
        &["roles", "clusterroles"],
        &["escalate"],
    ),
    (
        RiskCategory::Bind,
        &[RBAC_GROUP],
        &["roles", "clusterroles"],
        &["bind"],
    ),
    (
        RiskCategory::Impersonate,
        &[""],
        &["users", "groups", "serviceaccounts"],
        &["impersonate"],
    ),
    (
        RiskCategory::Impersonate,
        &["authentication.k8s.io"],
        &["uids", "userextras"],
        &["impersonate"],
    ),
    (
        RiskCategory::NamespaceWrite,
        &[""],
        &["namespaces"],
        &["update", "patch", "delete"],
    ),
    (
        RiskCategory::QuotaWrite,
        &[""],
        &["resourcequotas", "limitranges"],
        WRITE,
    ),
    (RiskCategory::EndpointsWrite, &[""], &["endpoints"], WRITE),
    (
        RiskCategory::EndpointsWrite,
        &["discovery.k8s.io"],
        &["endpointslices"],
        WRITE,
    ),
    (
        RiskCategory::AdmissionWrite,
        &["admissionregistration.k8s.io"],
        &[
            "mutatingwebhookconfigurations",
            "validatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
            "mutatingadmissionpolicies",
            "mutatingadmissionpolicybindings",
        ],
        WRITE,
    ),
    (
        RiskCategory::CrdWrite,
        &["apiextensions.k8s.io"],
        &["customresourcedefinitions"],
        WRITE,
    ),
    (
        RiskCategory::CsrApproval,
        &["certificates.k8s.io"],
        &["certificatesigningrequests/approval"],
        &["update", "patch"],
    ),
    (
        RiskCategory::CsrApproval,
        &["certificates.k8s.io"],
        &["signers"],
        &["approve", "sign"],
    ),
    (
        RiskCategory::PersistentVolumeWrite,
        &[""],
        &["persistentvolumes"],
        CHANGE,
    ),
    (
        RiskCategory::NodeWrite,
        &[""],
        &["nodes", "nodes/status"],
        WRITE,
    ),
    (
        RiskCategory::GitOpsWrite,
        &["argoproj.io"],
        &["applications", "applicationsets", "appprojects"],
        WRITE,
    ),
    (
        RiskCategory::GitOpsWrite,
        &["kustomize.toolkit.fluxcd.io"],
        &["kustomizations"],
        WRITE,
    ),
    (
        RiskCategory::GitOpsWrite,
        &["helm.toolkit.fluxcd.io"],
        &["helmreleases"],
        WRITE,
    ),
    (
        RiskCategory::WorkloadWrite,
        &[""],
        &["pods", "replicationcontrollers"],
        CHANGE,
    ),
    (
        RiskCategory::WorkloadWrite,
        &["apps"],
        &["deployments", "statefulsets", "daemonsets", "replicasets"],
        CHANGE,
    ),
    (
        RiskCategory::WorkloadWrite,
        &["batch"],
        &["jobs", "cronjobs"],
        CHANGE,
    ),
    (RiskCategory::ServiceWrite, &[""], &["services"], CHANGE),
    (
        RiskCategory::IngressWrite,
        &["networking.k8s.io"],
        &["ingresses"],
        CHANGE,
    ),
    (
        RiskCategory::NetworkPolicyWrite,
        &["networking.k8s.io"],
        &["networkpolicies"],
        WRITE,
    ),
];

impl RiskCategory {
    /// Every category, in report order.
    pub const ALL: &'static [RiskCategory] = &[
        RiskCategory::Wildcard,
        RiskCategory::Secrets,
        RiskCategory::PodExec,
        RiskCategory::PodAttach,
        RiskCategory::PodPortForward,
        RiskCategory::Proxy,
        RiskCategory::EphemeralContainers,
        RiskCategory::TokenRequest,
        RiskCategory::RbacWrite,
        RiskCategory::ClusterRbacWrite,
        RiskCategory::Escalate,
        RiskCategory::Bind,
        RiskCategory::Impersonate,
        RiskCategory::NamespaceWrite,
        RiskCategory::QuotaWrite,
        RiskCategory::EndpointsWrite,
        RiskCategory::AdmissionWrite,
        RiskCategory::CrdWrite,
        RiskCategory::CsrApproval,
        RiskCategory::PersistentVolumeWrite,
        RiskCategory::NodeWrite,
        RiskCategory::GitOpsWrite,
        RiskCategory::WorkloadWrite,
        RiskCategory::ServiceWrite,
        RiskCategory::IngressWrite,
        RiskCategory::NetworkPolicyWrite,
    ];

    /// Stable identifier (kebab-case), for JSON, SARIF and flags.
    pub fn id(self) -> &'static str {
        match self {
            RiskCategory::Wildcard => "wildcard",
            RiskCategory::Secrets => "secrets",
            RiskCategory::PodExec => "pod-exec",
            RiskCategory::PodAttach => "pod-attach",
            RiskCategory::PodPortForward => "pod-port-forward",
            RiskCategory::Proxy => "proxy",
            RiskCategory::EphemeralContainers => "ephemeral-containers",
            RiskCategory::TokenRequest => "token-request",
            RiskCategory::RbacWrite => "rbac-write",
            RiskCategory::ClusterRbacWrite => "cluster-rbac-write",
            RiskCategory::Escalate => "escalate",
            RiskCategory::Bind => "bind",
            RiskCategory::Impersonate => "impersonate",
            RiskCategory::NamespaceWrite => "namespace-write",
            RiskCategory::QuotaWrite => "quota-write",
            RiskCategory::EndpointsWrite => "endpoints-write",
            RiskCategory::AdmissionWrite => "admission-write",
            RiskCategory::CrdWrite => "crd-write",
            RiskCategory::CsrApproval => "csr-approval",
            RiskCategory::PersistentVolumeWrite => "persistent-volume-write",
            RiskCategory::NodeWrite => "node-write",
            RiskCategory::GitOpsWrite => "gitops-write",
            RiskCategory::WorkloadWrite => "workload-write",
            RiskCategory::ServiceWrite => "service-write",
            RiskCategory::IngressWrite => "ingress-write",
            RiskCategory::NetworkPolicyWrite => "network-policy-write",
        }
    }

    /// One line saying why a reviewer cares.
    pub fn explanation(self) -> &'static str {
        match self {
            RiskCategory::Wildcard => {
                "a wildcard grants every current and future verb, resource or API group, including all the risky ones below; list what the pipeline needs instead"
            }
            RiskCategory::Secrets => {
                "reads or writes every credential in the namespace (registry and TLS keys, ServiceAccount tokens); Helm 3 needs it because it stores release state in Secrets, plain kubectl apply does not"
            }
            RiskCategory::PodExec => {
                "runs commands inside running containers: their files, environment and mounted tokens are exposed"
            }
            RiskCategory::PodAttach => {
                "attaches to running containers' processes and their input/output"
            }
            RiskCategory::PodPortForward => {
                "opens network tunnels into pods, past NetworkPolicies and Ingress authentication"
            }
            RiskCategory::Proxy => {
                "sends arbitrary requests to pods, services or the kubelet through the API server; nodes/proxy reaches the kubelet API, which can exec into any pod on the node"
            }
            RiskCategory::EphemeralContainers => {
                "adds a container of any image to a running pod: exec by another name"
            }
            RiskCategory::TokenRequest => {
                "mints tokens for every ServiceAccount in the namespace and so acts with their permissions"
            }
            RiskCategory::RbacWrite => {
                "changes who may do what in the namespace; with escalate or bind, or the privileges it grants, the robot can extend its own access"
            }
            RiskCategory::ClusterRbacWrite => {
                "changes cluster-wide permissions; a namespace CI robot never needs it"
            }
            RiskCategory::Escalate => {
                "lets the holder write Roles with permissions it does not hold itself (bypasses escalation prevention)"
            }
            RiskCategory::Bind => {
                "lets the holder bind Roles or ClusterRoles it does not hold itself, e.g. admin or cluster-admin"
            }
            RiskCategory::Impersonate => {
                "acts as other users, groups or ServiceAccounts with all their permissions"
            }
            RiskCategory::NamespaceWrite => {
                "relabels or deletes the namespace: lifts its Pod Security level or removes everything in it"
            }
            RiskCategory::QuotaWrite => {
                "lifts the resource limits the platform set for the namespace"
            }
            RiskCategory::EndpointsWrite => {
                "points Services at arbitrary addresses to intercept their traffic (CVE-2021-25740)"
            }
            RiskCategory::AdmissionWrite => {
                "intercepts or changes every object written to the cluster, or switches policy checks off"
            }
            RiskCategory::CrdWrite => {
                "changes or deletes API types cluster-wide, and with them every object of that type"
            }
            RiskCategory::CsrApproval => {
                "issues client certificates, e.g. for system:masters or node identities"
            }
            RiskCategory::PersistentVolumeWrite => {
                "creates hostPath volumes that mount node directories into pods"
            }
            RiskCategory::NodeWrite => {
                "changes node labels, taints or status: steers workloads or drains the cluster"
            }
            RiskCategory::GitOpsWrite => {
                "Argo CD / Flux objects are applied by a controller with its own, often cluster-wide, ServiceAccount: writing them borrows its power"
            }
            RiskCategory::WorkloadWrite => {
                "a pod runs as any ServiceAccount of the namespace and mounts any Secret or ConfigMap there: workload creation implies that access (expected for a deploy pipeline)"
            }
            RiskCategory::ServiceWrite => {
                "Services with externalIPs can capture cluster traffic for those addresses (CVE-2020-8554) unless admission blocks them"
            }
            RiskCategory::IngressWrite => {
                "Ingress annotations are a known path to controller secrets on some ingress controllers (ingress-nginx CVE-2021-25742, CVE-2025-1974)"
            }
            RiskCategory::NetworkPolicyWrite => "can remove the namespace's network isolation",
        }
    }

    /// True when `init` refuses the grant unless `--allow-risky`.
    pub fn blocks_init(self) -> bool {
        !matches!(
            self,
            RiskCategory::WorkloadWrite
                | RiskCategory::ServiceWrite
                | RiskCategory::IngressWrite
                | RiskCategory::NetworkPolicyWrite
        )
    }

    /// The verb a rule must literally list to fall in this category whatever
    /// its resources (`escalate`, `bind`, `impersonate`).
    fn literal_verb(self) -> Option<&'static str> {
        match self {
            RiskCategory::Escalate => Some("escalate"),
            RiskCategory::Bind => Some("bind"),
            RiskCategory::Impersonate => Some("impersonate"),
            _ => None,
        }
    }

    /// A typical action of the category, for can/cannot tables
    /// (`None` for [`RiskCategory::Wildcard`]).
    pub fn probe(self) -> Option<Request> {
        let (_, groups, resources, verbs) = CATALOGUE.iter().find(|e| e.0 == self)?;
        let interactive = matches!(
            self,
            RiskCategory::PodExec | RiskCategory::PodAttach | RiskCategory::PodPortForward
        );
        let default_verb = if interactive { "create" } else { "get" };
        Some(Request::parse(
            verbs.first().copied().unwrap_or(default_verb),
            groups[0],
            resources[0],
        ))
    }
}

impl std::fmt::Display for RiskCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// One risky grant found in a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// The rule that grants it, as given.
    pub rule: Rule,
    /// What kind of risk.
    pub category: RiskCategory,
    /// Why it matters ([`RiskCategory::explanation`]).
    pub explanation: &'static str,
    /// The risky actions the rule allows (for some name, if it lists names);
    /// empty for [`RiskCategory::Wildcard`].
    pub actions: Vec<Request>,
}

impl Risk {
    /// True when this finding makes `init` refuse without `--allow-risky`.
    pub fn blocks_init(&self) -> bool {
        self.category.blocks_init()
    }
}

impl std::fmt::Display for Risk {
    /// `secrets: get secrets, list secrets: reads or writes every credential ...`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.category)?;
        if self.actions.is_empty() {
            write!(f, "{}", self.rule)?;
        } else {
            let actions: Vec<String> = self.actions.iter().map(Request::to_string).collect();
            f.write_str(&actions.join(", "))?;
        }
        write!(f, ": {}", self.explanation)
    }
}

fn push_unique(out: &mut Vec<Request>, req: Request) {
    if !out.contains(&req) {
        out.push(req);
    }
}

/// The risky actions of `category` that `rule` allows.
fn actions_for(rule: &Rule, category: RiskCategory) -> Vec<Request> {
    let mut out = Vec::new();
    for (_, groups, resources, verbs) in CATALOGUE.iter().filter(|e| e.0 == category) {
        let candidates: Vec<&str> = if verbs.is_empty() {
            rule.verbs.iter().map(String::as_str).collect()
        } else {
            verbs.to_vec()
        };
        for group in *groups {
            for resource in *resources {
                for verb in &candidates {
                    let req = Request::parse(verb, group, resource);
                    if rule.allows_ignoring_name(&req) {
                        push_unique(&mut out, req);
                    }
                }
            }
        }
    }
    if let Some(verb) = category
        .literal_verb()
        .filter(|v| rule.verbs.iter().any(|rv| rv == v))
    {
        for group in &rule.api_groups {
            for resource in &rule.resources {
                push_unique(&mut out, Request::parse(verb, group, resource));
            }
        }
    }
    out
}

/// Every risky grant in `rules`, rule by rule, categories in
/// [`RiskCategory::ALL`] order.
pub fn risky_findings(rules: &[Rule]) -> Vec<Risk> {
    let mut out = Vec::new();
    for rule in rules {
        for &category in RiskCategory::ALL {
            let actions = if category == RiskCategory::Wildcard {
                Vec::new()
            } else {
                actions_for(rule, category)
            };
            let hit = if category == RiskCategory::Wildcard {
                rule.has_wildcard() && !rule.allows_nothing()
            } else {
                !actions.is_empty()
            };
            if hit {
                out.push(Risk {
                    rule: rule.clone(),
                    category,
                    explanation: category.explanation(),
                    actions,
                });
            }
        }
    }
    out
}

/// The `init` gate: refuses when any finding blocks, unless `allow_risky`.
pub fn gate(findings: &[Risk], allow_risky: bool) -> Result<(), RbacError> {
    let mut categories: Vec<String> = Vec::new();
    for f in findings.iter().filter(|f| f.blocks_init()) {
        let id = f.category.id().to_string();
        if !categories.contains(&id) {
            categories.push(id);
        }
    }
    if allow_risky || categories.is_empty() {
        Ok(())
    } else {
        Err(RbacError::RiskyRules { categories })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats(rules: &[Rule]) -> Vec<RiskCategory> {
        let mut c: Vec<RiskCategory> = risky_findings(rules)
            .into_iter()
            .map(|r| r.category)
            .collect();
        c.dedup();
        c
    }

    #[test]
    fn catalogue_is_consistent() {
        for (cat, groups, resources, _) in CATALOGUE {
            assert!(RiskCategory::ALL.contains(cat));
            assert!(!groups.is_empty() && !resources.is_empty());
        }
        for &c in RiskCategory::ALL {
            assert!(!c.explanation().is_empty());
            assert!(!c.explanation().contains('\n'));
            assert_eq!(c.to_string(), c.id());
            if c != RiskCategory::Wildcard {
                assert!(c.probe().is_some(), "{c} has no catalogue entry");
            }
        }
        assert!(RiskCategory::Wildcard.probe().is_none());
        let ids: std::collections::BTreeSet<&str> =
            RiskCategory::ALL.iter().map(|c| c.id()).collect();
        assert_eq!(ids.len(), RiskCategory::ALL.len());
    }

    #[test]
    fn harmless_rules_have_no_findings() {
        let rules = vec![
            Rule::resource(
                &[""],
                &["configmaps", "pods", "pods/log", "events"],
                &["get", "list", "watch"],
            ),
            Rule::resource(
                &["apps"],
                &["deployments"],
                &["get", "list", "watch", "delete"],
            ),
            Rule::resource(
                &["autoscaling"],
                &["horizontalpodautoscalers"],
                &[
                    "get", "list", "watch", "create", "update", "patch", "delete",
                ],
            ),
            Rule::resource(&[RBAC_GROUP], &["roles", "rolebindings"], &["get", "list"]),
            Rule::non_resource(&["/api", "/api/*", "/healthz"], &["get"]),
        ];
        assert!(
            risky_findings(&rules).is_empty(),
            "{:?}",
            risky_findings(&rules)
        );
    }

    #[test]
    fn secrets_any_verb() {
        let f = risky_findings(&[Rule::resource(
            &[""],
            &["secrets", "configmaps"],
            &["get", "list"],
        )]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].category, RiskCategory::Secrets);
        assert_eq!(
            f[0].actions,
            vec![
                Request::new("get", "", "secrets"),
                Request::new("list", "", "secrets")
            ]
        );
        assert!(f[0].explanation.contains("Helm"));
        assert!(f[0].blocks_init());
        assert_eq!(
            f[0].to_string(),
            format!(
                "secrets: get secrets, list secrets: {}",
                RiskCategory::Secrets.explanation()
            )
        );
    }

    #[test]
    fn named_secret_still_flagged() {
        let f =
            risky_findings(&[Rule::resource(&[""], &["secrets"], &["get"])
                .with_names(["sh.helm.release.v1.web.v1"])]);
        assert_eq!(f[0].category, RiskCategory::Secrets);
    }

    #[test]
    fn pod_subresources() {
        assert_eq!(
            cats(&[Rule::resource(&[""], &["pods/exec"], &["create"])]),
            [RiskCategory::PodExec]
        );
        assert_eq!(
            cats(&[Rule::resource(&[""], &["pods/exec"], &["get"])]),
            [RiskCategory::PodExec]
        );
        assert_eq!(
            cats(&[Rule::resource(&[""], &["pods/attach"], &["create"])]),
            [RiskCategory::PodAttach]
        );
        assert_eq!(
            cats(&[Rule::resource(&[""], &["pods/portforward"], &["create"])]),
            [RiskCategory::PodPortForward]
        );
        assert_eq!(
            cats(&[Rule::resource(&[""], &["services/proxy"], &["get"])]),
            [RiskCategory::Proxy]
        );
        assert_eq!(
            cats(&[Rule::resource(&[""], &["nodes/proxy"], &["get"])]),
            [RiskCategory::Proxy]
        );
        assert_eq!(
            cats(&[Rule::resource(
                &[""],
                &["pods/ephemeralcontainers"],
                &["patch"]
            )]),
            [RiskCategory::EphemeralContainers]
        );
        assert!(
            cats(&[Rule::resource(
                &[""],
                &["pods/ephemeralcontainers"],
                &["get"]
            )])
            .is_empty()
        );
    }

    #[test]
    fn token_request() {
        assert_eq!(
            cats(&[Rule::resource(
                &[""],
                &["serviceaccounts/token"],
                &["create"]
            )]),
            [RiskCategory::TokenRequest]
        );
        assert!(
            cats(&[Rule::resource(
                &[""],
                &["serviceaccounts"],
                &["create", "get"]
            )])
            .is_empty()
        );
    }

    #[test]
    fn rbac_objects() {
        assert_eq!(
            cats(&[Rule::resource(
                &[RBAC_GROUP],
                &["rolebindings"],
                &["create"]
            )]),
            [RiskCategory::RbacWrite]
        );
        assert_eq!(
            cats(&[Rule::resource(&[RBAC_GROUP], &["roles"], &["patch"])]),
            [RiskCategory::RbacWrite]
        );
        assert_eq!(
            cats(&[Rule::resource(
                &[RBAC_GROUP],
                &["clusterrolebindings"],
                &["update"]
            )]),
            [RiskCategory::ClusterRbacWrite]
        );
        assert_eq!(
            cats(&[Rule::resource(
                &[RBAC_GROUP],
                &["clusterroles"],
                &["escalate"]
            )]),
            [RiskCategory::Escalate]
        );
        assert_eq!(
            cats(&[Rule::resource(&[RBAC_GROUP], &["roles"], &["bind"])]),
            [RiskCategory::Bind]
        );
        // roles in the wrong group are not RBAC roles
        assert!(cats(&[Rule::resource(&["example.com"], &["roles"], &["create"])]).is_empty());
    }

    #[test]
    fn escalation_verbs_anywhere() {
        // the verb alone is flagged, whatever resource it sits on
        let f = risky_findings(&[Rule::resource(
            &["example.com"],
            &["widgets"],
            &["escalate", "bind", "impersonate"],
        )]);
        let c: Vec<RiskCategory> = f.iter().map(|r| r.category).collect();
        assert_eq!(
            c,
            [
                RiskCategory::Escalate,
                RiskCategory::Bind,
                RiskCategory::Impersonate
            ]
        );
        assert_eq!(
            f[0].actions,
            vec![Request::new("escalate", "example.com", "widgets")]
        );
    }

    #[test]
    fn impersonation() {
        assert_eq!(
            cats(&[Rule::resource(
                &[""],
                &["serviceaccounts"],
                &["impersonate"]
            )]),
            [RiskCategory::Impersonate]
        );
        assert_eq!(
            cats(&[Rule::resource(
                &["authentication.k8s.io"],
                &["uids"],
                &["impersonate"]
            )]),
            [RiskCategory::Impersonate]
        );
    }

    #[test]
    fn wildcard_rule_hits_everything() {
        let f = risky_findings(&[Rule::resource(&["*"], &["*"], &["*"])]);
        let c: Vec<RiskCategory> = f.iter().map(|r| r.category).collect();
        assert_eq!(c, RiskCategory::ALL);
        assert!(f[0].actions.is_empty());
        let sec = f
            .iter()
            .find(|r| r.category == RiskCategory::Secrets)
            .unwrap();
        assert_eq!(sec.actions, vec![Request::new("*", "", "secrets")]);
        assert!(f[0].to_string().starts_with("wildcard: {APIGroups:[\"*\"]"));
    }

    #[test]
    fn partial_wildcards() {
        assert_eq!(
            cats(&[Rule::resource(&["apps"], &["deployments"], &["*"])]),
            [RiskCategory::Wildcard, RiskCategory::WorkloadWrite]
        );
        assert_eq!(
            cats(&[Rule::resource(&[""], &["*"], &["get"])]),
            [
                RiskCategory::Wildcard,
                RiskCategory::Secrets,
                RiskCategory::PodExec,
                RiskCategory::PodAttach,
                RiskCategory::PodPortForward,
                RiskCategory::Proxy
            ]
        );
        assert_eq!(
            cats(&[Rule::resource(&["*"], &["*/exec"], &["create"])]),
            [RiskCategory::Wildcard, RiskCategory::PodExec]
        );
        assert_eq!(
            cats(&[Rule::non_resource(&["*"], &["get"])]),
            [RiskCategory::Wildcard]
        );
        // a rule that allows nothing is not flagged for its wildcard
        assert!(cats(&[Rule::resource(&["*"], &["*"], &[])]).is_empty());
    }

    #[test]
    fn cluster_level_categories() {
        for (rule, cat) in [
            (
                Rule::resource(&[""], &["namespaces"], &["patch"]),
                RiskCategory::NamespaceWrite,
            ),
            (
                Rule::resource(&[""], &["resourcequotas"], &["update"]),
                RiskCategory::QuotaWrite,
            ),
            (
                Rule::resource(&[""], &["endpoints"], &["create"]),
                RiskCategory::EndpointsWrite,
            ),
            (
                Rule::resource(&["discovery.k8s.io"], &["endpointslices"], &["patch"]),
                RiskCategory::EndpointsWrite,
            ),
            (
                Rule::resource(
                    &["admissionregistration.k8s.io"],
                    &["mutatingwebhookconfigurations"],
                    &["create"],
                ),
                RiskCategory::AdmissionWrite,
            ),
            (
                Rule::resource(
                    &["apiextensions.k8s.io"],
                    &["customresourcedefinitions"],
                    &["delete"],
                ),
                RiskCategory::CrdWrite,
            ),
            (
                Rule::resource(
                    &["certificates.k8s.io"],
                    &["certificatesigningrequests/approval"],
                    &["update"],
                ),
                RiskCategory::CsrApproval,
            ),
            (
                Rule::resource(&["certificates.k8s.io"], &["signers"], &["approve"]),
                RiskCategory::CsrApproval,
            ),
            (
                Rule::resource(&[""], &["persistentvolumes"], &["create"]),
                RiskCategory::PersistentVolumeWrite,
            ),
            (
                Rule::resource(&[""], &["nodes"], &["patch"]),
                RiskCategory::NodeWrite,
            ),
            (
                Rule::resource(&["argoproj.io"], &["applications"], &["create"]),
                RiskCategory::GitOpsWrite,
            ),
            (
                Rule::resource(
                    &["kustomize.toolkit.fluxcd.io"],
                    &["kustomizations"],
                    &["patch"],
                ),
                RiskCategory::GitOpsWrite,
            ),
            (
                Rule::resource(&["helm.toolkit.fluxcd.io"], &["helmreleases"], &["update"]),
                RiskCategory::GitOpsWrite,
            ),
        ] {
            assert_eq!(cats(std::slice::from_ref(&rule)), [cat], "{rule}");
            assert!(cat.blocks_init());
        }
        // reading them is fine
        assert!(
            cats(&[Rule::resource(
                &[""],
                &["namespaces", "nodes", "resourcequotas"],
                &["get", "list"]
            )])
            .is_empty()
        );
    }

    #[test]
    fn notices_do_not_block() {
        let rules = vec![
            Rule::resource(&["apps"], &["deployments"], &["create", "update"]),
            Rule::resource(&[""], &["services"], &["create"]),
            Rule::resource(
                &["networking.k8s.io"],
                &["ingresses", "networkpolicies"],
                &["patch"],
            ),
            Rule::resource(&["batch"], &["jobs"], &["create"]),
        ];
        let f = risky_findings(&rules);
        let c: Vec<RiskCategory> = f.iter().map(|r| r.category).collect();
        assert_eq!(
            c,
            [
                RiskCategory::WorkloadWrite,
                RiskCategory::ServiceWrite,
                RiskCategory::IngressWrite,
                RiskCategory::NetworkPolicyWrite,
                RiskCategory::WorkloadWrite
            ]
        );
        assert!(f.iter().all(|r| !r.blocks_init()));
        assert_eq!(gate(&f, false), Ok(()));
    }

    #[test]
    fn gate_refuses_blocking_findings() {
        let f = risky_findings(&[
            Rule::resource(&[""], &["secrets"], &["get"]),
            Rule::resource(&[""], &["pods/exec", "secrets"], &["create"]),
        ]);
        let err = gate(&f, false).unwrap_err();
        assert_eq!(
            err,
            RbacError::RiskyRules {
                categories: vec!["secrets".into(), "pod-exec".into()]
            }
        );
        assert!(err.to_string().contains("--allow-risky"));
        assert_eq!(gate(&f, true), Ok(()));
        assert_eq!(gate(&[], false), Ok(()));
    }

    #[test]
    fn probes() {
        assert_eq!(
            RiskCategory::Secrets.probe(),
            Some(Request::new("get", "", "secrets"))
        );
        assert_eq!(
            RiskCategory::PodExec.probe(),
            Some(Request::parse("create", "", "pods/exec"))
        );
        assert_eq!(
            RiskCategory::Proxy.probe(),
            Some(Request::parse("get", "", "pods/proxy"))
        );
        assert_eq!(
            RiskCategory::TokenRequest.probe(),
            Some(Request::parse("create", "", "serviceaccounts/token"))
        );
        assert_eq!(
            RiskCategory::RbacWrite.probe(),
            Some(Request::new("create", RBAC_GROUP, "roles"))
        );
        assert_eq!(
            RiskCategory::Impersonate.probe(),
            Some(Request::new("impersonate", "", "users"))
        );
    }

    #[test]
    fn serializes_with_ids() {
        let f = risky_findings(&[Rule::resource(&[""], &["secrets"], &["get"])]);
        let v = serde_json::to_value(&f[0]).unwrap();
        assert_eq!(v["category"], "secrets");
        assert_eq!(v["actions"][0]["verb"], "get");
    }
}
