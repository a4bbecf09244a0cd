//! The audit's rule catalogue: stable ids, severities, what each rule means, how to fix it,
//! and which rules of other RBAC auditors it covers. `docs/audit-rules.md` is the long form
//! of this file (a test keeps the two in step).
//!
//! Permission rules are decided by probing a grant's rules with concrete requests
//! ([`PermissionCheck`]), through the same matching the API server uses
//! ([`crate::rbac::matching`]), so wildcards, `*/sub` resources and `resourceNames` count
//! exactly as they do on a real cluster.

use super::model::Severity;

/// One audit rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable id (`secrets-read`); used in JSON, SARIF, `--ignore` and annotations.
    pub id: &'static str,
    /// The rule's default severity. A finding may differ, by the documented adjustments
    /// (see [`crate::audit::analyze`]; they are made in `src/audit/analyze/severity.rs`).
    pub severity: Severity,
    /// One line.
    pub title: &'static str,
    /// Why a reviewer cares.
    pub why: &'static str,
    /// How to fix it, in general; findings carry a remediation naming the exact objects.
    pub fix: &'static str,
    /// Rules of other tools this one covers: `KubiScan: risky-get-secrets`,
    /// `rbac-tool: Secret Readers`, `krane: risky-get-secrets`, `rbac-police: retrieve_secrets`,
    /// `kubescape: C-0015`.
    pub covers: &'static [&'static str],
}

/// The severities in order, with their names (as JSON spells them).
pub const SEVERITIES: &[(Severity, &str)] = &[
    (Severity::Critical, "critical"),
    (Severity::High, "high"),
    (Severity::Medium, "medium"),
    (Severity::Low, "low"),
    (Severity::Info, "info"),
];

/// `critical`, `high`, `medium`, `low`, `info`.
pub fn severity_name(severity: Severity) -> &'static str {
    SEVERITIES
        .iter()
        .find(|(s, _)| *s == severity)
        .map(|(_, n)| *n)
        .unwrap_or("info")
}

/// Parses a severity name (case-insensitive).
pub fn parse_severity(text: &str) -> Option<Severity> {
    SEVERITIES
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(text.trim()))
        .map(|(s, _)| *s)
}

/// One level more severe (critical stays critical).
pub fn raised(severity: Severity) -> Severity {
    match severity {
        Severity::Critical | Severity::High => Severity::Critical,
        Severity::Medium => Severity::High,
        Severity::Low => Severity::Medium,
        Severity::Info => Severity::Low,
    }
}

/// One level less severe (info stays info).
pub fn lowered(severity: Severity) -> Severity {
    match severity {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Info,
    }
}

/// The whole catalogue, most severe first.
pub fn catalogue() -> &'static [RuleInfo] {
    CATALOGUE
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    CATALOGUE.iter().find(|r| r.id == id)
}

/// A set of probe requests: every verb on every resource of one API group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeSet {
    pub verbs: &'static [&'static str],
    /// API group, `""` for core.
    pub group: &'static str,
    /// `res` or `res/sub`.
    pub resources: &'static [&'static str],
    /// Cluster-scoped: only a ClusterRoleBinding can grant it (a RoleBinding's grant of a
    /// cluster-scoped resource is inert).
    pub cluster: bool,
}

/// A permission rule: it fires when a grant allows any of its probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionCheck {
    /// The catalogue rule a hit reports.
    pub rule: &'static RuleInfo,
    pub probes: &'static [ProbeSet],
    /// Raise the severity one level when a contributing grant reaches every namespace or a
    /// privileged namespace (`kube-system`): false for rules about cluster-scoped objects,
    /// which are cluster-wide by nature.
    pub raise_when_wide: bool,
    /// Only grants effective in a privileged namespace count (`kube-system-write`).
    pub privileged_namespaces_only: bool,
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const CHANGE: &[&str] = &["create", "update", "patch"];
const UPDATE: &[&str] = &["update", "patch"];
const ANY: &[&str] = &["get", "create", "update", "patch", "delete"];
const RBAC: &str = "rbac.authorization.k8s.io";

const fn ns(
    verbs: &'static [&'static str],
    group: &'static str,
    resources: &'static [&'static str],
) -> ProbeSet {
    ProbeSet {
        verbs,
        group,
        resources,
        cluster: false,
    }
}

const fn cl(
    verbs: &'static [&'static str],
    group: &'static str,
    resources: &'static [&'static str],
) -> ProbeSet {
    ProbeSet {
        verbs,
        group,
        resources,
        cluster: true,
    }
}

const fn check(rule: &'static RuleInfo, probes: &'static [ProbeSet]) -> PermissionCheck {
    PermissionCheck {
        rule,
        probes,
        raise_when_wide: true,
        privileged_namespaces_only: false,
    }
}

const fn cluster_check(rule: &'static RuleInfo, probes: &'static [ProbeSet]) -> PermissionCheck {
    PermissionCheck {
        rule,
        probes,
        raise_when_wide: false,
        privileged_namespaces_only: false,
    }
}

/// The permission rules and their probes, in catalogue order.
pub fn permission_checks() -> &'static [PermissionCheck] {
    PERMISSION_CHECKS
}

/// The probes of permission rule `id`.
pub fn permission_check(id: &str) -> Option<&'static PermissionCheck> {
    PERMISSION_CHECKS.iter().find(|c| c.rule.id == id)
}

const PERMISSION_CHECKS: &[PermissionCheck] = &[
    check(
        ESCALATE_BIND_IMPERSONATE,
        &[
            ns(&["escalate", "bind"], RBAC, &["roles"]),
            // `bind` on clusterroles is checked in the RoleBinding's namespace
            // (rolebinding/policybased/storage.go), so a RoleBinding can grant it.
            ns(&["bind"], RBAC, &["clusterroles"]),
            cl(&["escalate"], RBAC, &["clusterroles"]),
            cl(&["impersonate"], "", &["users", "groups"]),
            // ServiceAccount impersonation is authorized in the account's namespace.
            ns(&["impersonate"], "", &["serviceaccounts"]),
            cl(
                &["impersonate"],
                "authentication.k8s.io",
                &["uids", "userextras"],
            ),
        ],
    ),
    cluster_check(NODE_PROXY, &[cl(ANY, "", &["nodes/proxy"])]),
    cluster_check(
        WEBHOOK_WRITE,
        &[
            cl(
                WRITE,
                "admissionregistration.k8s.io",
                &[
                    "mutatingwebhookconfigurations",
                    "validatingwebhookconfigurations",
                    "validatingadmissionpolicies",
                    "validatingadmissionpolicybindings",
                    "mutatingadmissionpolicies",
                    "mutatingadmissionpolicybindings",
                ],
            ),
            cl(WRITE, "templates.gatekeeper.sh", &["constrainttemplates"]),
            cl(
                WRITE,
                "mutations.gatekeeper.sh",
                &["assign", "assignmetadata", "modifyset", "assignimage"],
            ),
            ns(WRITE, "config.gatekeeper.sh", &["configs"]),
            cl(WRITE, "kyverno.io", &["clusterpolicies"]),
        ],
    ),
    cluster_check(
        CSR_APPROVE,
        &[
            cl(
                UPDATE,
                "certificates.k8s.io",
                &["certificatesigningrequests/approval"],
            ),
            cl(&["approve"], "certificates.k8s.io", &["signers"]),
        ],
    ),
    check(SECRETS_READ, &[ns(READ, "", &["secrets"])]),
    check(
        RBAC_WRITE,
        &[
            ns(WRITE, RBAC, &["roles", "rolebindings"]),
            cl(WRITE, RBAC, &["clusterroles", "clusterrolebindings"]),
        ],
    ),
    check(
        POD_EXEC,
        &[
            ns(
                &["create", "get"],
                "",
                &["pods/exec", "pods/attach", "pods/portforward"],
            ),
            ns(ANY, "", &["pods/proxy", "services/proxy"]),
            ns(UPDATE, "", &["pods/ephemeralcontainers"]),
        ],
    ),
    check(
        TOKEN_CREATE,
        &[
            ns(&["create"], "", &["serviceaccounts/token"]),
            // A Secret of type kubernetes.io/service-account-token gets a token from the
            // token controller (rbac-police issue_token_secrets counts update/patch too).
            ns(CHANGE, "", &["secrets"]),
        ],
    ),
    cluster_check(
        PV_CREATE,
        &[
            cl(CHANGE, "", &["persistentvolumes"]),
            cl(CHANGE, "storage.k8s.io", &["storageclasses"]),
        ],
    ),
    check(
        NAMESPACE_WRITE,
        // A RoleBinding grants `namespaces` for its own namespace: the request for
        // namespace X carries namespace X (apiserver RequestInfo), so this is not cluster-only.
        &[ns(&["update", "patch", "delete"], "", &["namespaces"])],
    ),
    PermissionCheck {
        rule: KUBE_SYSTEM_WRITE,
        probes: &[
            ns(
                WRITE,
                "",
                &["configmaps", "secrets", "pods", "serviceaccounts"],
            ),
            ns(WRITE, "apps", &["daemonsets", "deployments"]),
            ns(WRITE, RBAC, &["roles", "rolebindings"]),
        ],
        raise_when_wide: false,
        privileged_namespaces_only: true,
    },
    check(
        WORKLOAD_CREATE,
        &[
            ns(&["create", "update", "patch"], "", &["pods"]),
            ns(CHANGE, "", &["replicationcontrollers"]),
            ns(
                CHANGE,
                "apps",
                &["deployments", "replicasets", "statefulsets", "daemonsets"],
            ),
            ns(CHANGE, "batch", &["jobs", "cronjobs"]),
        ],
    ),
    check(
        TRAFFIC_HIJACK,
        &[
            ns(WRITE, "", &["endpoints"]),
            ns(WRITE, "discovery.k8s.io", &["endpointslices"]),
            ns(UPDATE, "", &["services/status", "pods/status"]),
        ],
    ),
    check(
        GITOPS_WRITE,
        &[
            ns(
                WRITE,
                "argoproj.io",
                &["applications", "applicationsets", "appprojects"],
            ),
            ns(WRITE, "kustomize.toolkit.fluxcd.io", &["kustomizations"]),
            ns(WRITE, "helm.toolkit.fluxcd.io", &["helmreleases"]),
            ns(
                WRITE,
                "source.toolkit.fluxcd.io",
                &[
                    "gitrepositories",
                    "ocirepositories",
                    "helmrepositories",
                    "buckets",
                ],
            ),
        ],
    ),
    cluster_check(
        CRD_WRITE,
        &[cl(
            WRITE,
            "apiextensions.k8s.io",
            &["customresourcedefinitions"],
        )],
    ),
    cluster_check(NODE_WRITE, &[cl(WRITE, "", &["nodes", "nodes/status"])]),
    check(
        NETWORK_WRITE,
        &[
            ns(WRITE, "", &["services"]),
            ns(
                WRITE,
                "networking.k8s.io",
                &["ingresses", "networkpolicies"],
            ),
            ns(WRITE, "extensions", &["ingresses", "networkpolicies"]),
            cl(WRITE, "networking.k8s.io", &["ingressclasses"]),
            ns(
                WRITE,
                "gateway.networking.k8s.io",
                &[
                    "gateways",
                    "httproutes",
                    "grpcroutes",
                    "tcproutes",
                    "tlsroutes",
                    "udproutes",
                    "referencegrants",
                ],
            ),
            cl(WRITE, "gateway.networking.k8s.io", &["gatewayclasses"]),
        ],
    ),
    check(
        STORAGE_WRITE,
        &[
            ns(WRITE, "", &["persistentvolumeclaims"]),
            cl(
                WRITE,
                "storage.k8s.io",
                &["volumeattachments", "csidrivers", "csinodes"],
            ),
        ],
    ),
    check(
        QUOTA_WRITE,
        &[ns(WRITE, "", &["resourcequotas", "limitranges"])],
    ),
];

/// Most severe first. Each rule is also a constant of its own ([`WILDCARD`], ...), which is
/// how the analysis names a rule: a misspelt name does not compile.
const CATALOGUE: &[RuleInfo] = &[
    *CLUSTER_ADMIN_BINDING,
    *ESCALATE_BIND_IMPERSONATE,
    *NODE_PROXY,
    *WEBHOOK_WRITE,
    *CSR_APPROVE,
    *CLUSTER_WIDE_BINDING,
    *WILDCARD,
    *SECRETS_READ,
    *RBAC_WRITE,
    *POD_EXEC,
    *TOKEN_CREATE,
    *PV_CREATE,
    *NAMESPACE_WRITE,
    *KUBE_SYSTEM_WRITE,
    *PULL_CONTROLLER_CLUSTER_WIDE,
    *BROAD_GROUP_BINDING,
    *WORKLOAD_CREATE,
    *LONG_LIVED_TOKEN,
    *MISSING_ROLE,
    *DRIFT,
    *TRAFFIC_HIJACK,
    *GITOPS_WRITE,
    *CRD_WRITE,
    *NODE_WRITE,
    *DEFAULT_SA_BOUND,
    *INVALID_EXCEPTION,
    *NETWORK_WRITE,
    *STORAGE_WRITE,
    *QUOTA_WRITE,
    *UNUSED_PERMISSION,
    *UNUSED_IDENTITY,
    *CLOUD_IDENTITY,
    *MANY_ROLES,
    *MANY_SUBJECTS,
];

pub const CLUSTER_ADMIN_BINDING: &RuleInfo = &RuleInfo {
    id: "cluster-admin-binding",
    severity: Severity::Critical,
    title: "Full control of the cluster through a ClusterRoleBinding",
    why: "A ClusterRoleBinding to cluster-admin, or to any role granting every verb on every resource in every API group, makes the subject administrator of the whole cluster: every Secret, every namespace, RBAC itself. A leaked token of this identity is a cluster takeover.",
    fix: "Replace the ClusterRoleBinding with a RoleBinding to a least-privilege Role in the namespace the identity works in (`kubectl cicd init` builds one); keep cluster-admin for break-glass humans.",
    covers: &[
        "KubiScan: risky-any-verb",
        "krane: subjects-with-open-cluster-wide-access",
        "rbac-police: cluster_admin",
        "kubescape: C-0035",
        "kubescape: C-0185",
    ],
};

pub const ESCALATE_BIND_IMPERSONATE: &RuleInfo = &RuleInfo {
    id: "escalate-bind-impersonate",
    severity: Severity::Critical,
    title: "Can escalate, bind or impersonate",
    why: "`escalate` writes Roles with permissions the holder lacks, `bind` binds Roles it does not hold (admin, cluster-admin), `impersonate` acts as other users, groups or ServiceAccounts: each bypasses RBAC's escalation prevention.",
    fix: "Remove the escalate, bind and impersonate verbs from the role (and any `*` verbs that include them); a deploy pipeline needs none of them.",
    covers: &[
        "KubiScan: risky-impersonate-groups",
        "KubiScan: risky-any-verb-users",
        "KubiScan: risky-any-verb-groups",
        "KubiScan: risky-any-resource-impersonate",
        "KubiScan: risky-create-rolebinding-role",
        "KubiScan: risky-create-rolebinding-clusterrole",
        "KubiScan: risky-create-clusterrolebinding-clusterrole",
        "rbac-tool: Identify Privileges Escalators - via impersonate",
        "rbac-tool: Identify Privileges Escalators - via bind or escalate",
        "krane: risky-impersonate-privileged-groups",
        "krane: risky-any-verb-users",
        "krane: risky-any-verb-groups",
        "krane: risky-any-resource-impersonate",
        "krane: risky-create-rolebinding-role",
        "krane: risky-create-rolebinding-clusterrole",
        "rbac-police: bind_roles",
        "rbac-police: escalate_roles",
        "rbac-police: impersonate",
        "kubescape: C-0065",
        "kubescape: C-0191",
    ],
};

pub const NODE_PROXY: &RuleInfo = &RuleInfo {
    id: "node-proxy",
    severity: Severity::Critical,
    title: "Can reach the kubelet API through nodes/proxy",
    why: "nodes/proxy forwards requests to the kubelet, whose API runs commands in any container on the node, outside the API server's audit log and admission control.",
    fix: "Remove nodes/proxy from the ClusterRole; monitoring agents that need kubelet metrics should read nodes/metrics or /metrics instead.",
    covers: &["rbac-police: nodes_proxy", "kubescape: C-0279"],
};

pub const WEBHOOK_WRITE: &RuleInfo = &RuleInfo {
    id: "webhook-write",
    severity: Severity::Critical,
    title: "Can change admission control",
    why: "Admission webhooks and policies see, and mutating ones change, every object written to the cluster, Secrets included; deleting them switches policy enforcement (Gatekeeper, Kyverno, ValidatingAdmissionPolicies) off.",
    fix: "Remove write access to admissionregistration.k8s.io webhook configurations and admission policies, and to policy-engine objects (Gatekeeper ConstraintTemplates and mutations, Kyverno ClusterPolicies); only the platform team installs them.",
    covers: &[
        "rbac-tool: Installing or Modifying Admission Controllers",
        "rbac-tool: Open Policy Agent (OPA) GateKeeper Administration",
        "rbac-police: control_webhooks",
        "kubescape: C-0036",
        "kubescape: C-0039",
        "kubescape: C-0281",
    ],
};

pub const CSR_APPROVE: &RuleInfo = &RuleInfo {
    id: "csr-approve",
    severity: Severity::Critical,
    title: "Can approve certificate signing requests",
    why: "Approving CertificateSigningRequests issues client certificates: with the kube-apiserver-client signer that can be a certificate for any user or group, e.g. system:masters.",
    fix: "Remove update on certificatesigningrequests/approval and approve on signers; certificate approval belongs to the control plane.",
    covers: &["rbac-police: approve_csrs", "kubescape: C-0280"],
};

pub const CLUSTER_WIDE_BINDING: &RuleInfo = &RuleInfo {
    id: "cluster-wide-binding",
    severity: Severity::High,
    title: "ServiceAccount bound through a ClusterRoleBinding",
    why: "A ClusterRoleBinding applies its role in every namespace, present and future. A CI/CD identity on a compliance-minded platform should be confined to the namespaces it deploys to; cluster-wide rights are out of policy there.",
    fix: "Replace the ClusterRoleBinding with RoleBindings (to the same ClusterRole if needed) in the namespaces the identity deploys to.",
    covers: &["krane: subjects-with-open-cluster-wide-access"],
};

pub const WILDCARD: &RuleInfo = &RuleInfo {
    id: "wildcard",
    severity: Severity::High,
    title: "Holds a wildcard rule",
    why: "A `*` in verbs, resources or API groups grants every current and future verb, resource or API group, including all the risky ones (Secrets, exec, escalate, impersonate); nobody can tell from the role what it really allows.",
    fix: "Replace each wildcard with the verbs, resources and API groups the identity needs (`kubectl cicd init` builds such a Role from the kinds you tick).",
    covers: &[
        "KubiScan: risky-any-verb",
        "KubiScan: risky-any-verb-secrets",
        "KubiScan: risky-any-verb-pods",
        "KubiScan: risky-any-verb-deployments",
        "KubiScan: risky-any-verb-daemonsets",
        "KubiScan: risky-any-verb-statefulsets",
        "KubiScan: risky-any-verb-replicationcontrollers",
        "KubiScan: risky-any-verb-replicasets",
        "KubiScan: risky-any-verb-cronjobs",
        "KubiScan: risky-any-verb-jobs",
        "KubiScan: risky-any-verb-roles",
        "KubiScan: risky-any-verb-clusterroles",
        "KubiScan: risky-any-verb-rolebindings",
        "KubiScan: risky-any-verb-clusterrolebindings",
        "KubiScan: risky-any-verb-users",
        "KubiScan: risky-any-verb-groups",
        "KubiScan: risky-any-resource-delete",
        "KubiScan: risky-any-resource-create",
        "KubiScan: risky-any-resource-list",
        "KubiScan: risky-any-resource-get",
        "KubiScan: risky-any-resource-impersonate",
        "krane: subjects-with-open-ns-level-access",
        "krane: risky-any-verb-secrets",
        "krane: risky-any-verb-pods",
        "krane: risky-any-verb-deployments",
        "krane: risky-any-verb-daemonsets",
        "krane: risky-any-verb-statefulsets",
        "krane: risky-any-verb-replicationcontrollers",
        "krane: risky-any-verb-replicasets",
        "krane: risky-any-verb-cronjobs",
        "krane: risky-any-verb-jobs",
        "krane: risky-any-verb-roles",
        "krane: risky-any-verb-clusterroles",
        "krane: risky-any-verb-rolebindings",
        "krane: risky-any-verb-clusterrolebindings",
        "krane: risky-any-verb-users",
        "krane: risky-any-verb-groups",
        "krane: risky-any-resource-delete",
        "krane: risky-any-resource-deletecollection",
        "krane: risky-any-resource-create",
        "krane: risky-any-resource-list",
        "krane: risky-any-resource-get",
        "krane: risky-any-resource-impersonate",
        "rbac-police: cluster_admin",
        "kubescape: C-0187",
    ],
};

pub const SECRETS_READ: &RuleInfo = &RuleInfo {
    id: "secrets-read",
    severity: Severity::High,
    title: "Can read Secrets",
    why: "get, list or watch on Secrets returns their data: registry credentials, TLS keys, database passwords and any ServiceAccount token Secret of the namespace (which makes the holder every ServiceAccount there). Helm 3 needs it, because it stores each release's state in a Secret of the release namespace; plain `kubectl apply` does not.",
    fix: "Remove get, list and watch on secrets. For a Helm pipeline, either accept it knowingly (the `helm` preset of init, recorded with a kubectl-cicd.io/ignore annotation and reason) or deploy from a dedicated namespace that holds no other Secrets.",
    covers: &[
        "KubiScan: risky-get-secrets",
        "KubiScan: risky-list-secrets",
        "KubiScan: risky-any-verb-secrets",
        "rbac-tool: Secret Readers",
        "krane: risky-get-secrets",
        "krane: risky-list-secrets",
        "krane: risky-any-verb-secrets",
        "rbac-police: retrieve_secrets",
        "rbac-police: retrieve_token_secrets",
        "rbac-police: list_secrets",
        "rbac-police: obtain_token_weak_ns",
        "kubescape: C-0015",
        "kubescape: C-0186",
    ],
};

pub const RBAC_WRITE: &RuleInfo = &RuleInfo {
    id: "rbac-write",
    severity: Severity::High,
    title: "Can change RBAC",
    why: "Writing Roles and RoleBindings (or their cluster-wide forms) changes who may do what: the holder can hand its own rights to any other identity, and with escalate or bind, rights it does not hold.",
    fix: "Remove create, update, patch and delete on roles, rolebindings, clusterroles and clusterrolebindings; RBAC changes should go through the platform team or `kubectl cicd init` run by a human.",
    covers: &[
        "KubiScan: risky-any-verb-roles",
        "KubiScan: risky-any-verb-clusterroles",
        "KubiScan: risky-any-verb-rolebindings",
        "KubiScan: risky-any-verb-clusterrolebindings",
        "KubiScan: risky-create-rolebinding-role",
        "KubiScan: risky-create-rolebinding-clusterrole",
        "KubiScan: risky-create-clusterrolebinding-clusterrole",
        "KubiScan: risky-add-rolebinding",
        "rbac-tool: Identify Privileges Escalators - via bind or escalate",
        "krane: subjects-with-rbac-management",
        "krane: risky-any-verb-roles",
        "krane: risky-any-verb-clusterroles",
        "krane: risky-any-verb-rolebindings",
        "krane: risky-any-verb-clusterrolebindings",
        "krane: risky-create-rolebinding-role",
        "krane: risky-create-rolebinding-clusterrole",
        "krane: risky-create-clusterrolebinding",
        "krane: risky-add-rolebinding",
    ],
};

pub const POD_EXEC: &RuleInfo = &RuleInfo {
    id: "pod-exec",
    severity: Severity::High,
    title: "Can get inside running pods",
    why: "exec, attach, port-forward, the pod and service proxies and ephemeral containers reach inside running containers: their files, environment variables and mounted ServiceAccount tokens, past NetworkPolicies.",
    fix: "Remove pods/exec, pods/attach, pods/portforward, pods/proxy, services/proxy and pods/ephemeralcontainers; debugging belongs to people with their own, audited access.",
    covers: &[
        "KubiScan: risky-exec-pods",
        "KubiScan: risky-attach-pods",
        "krane: risky-exec-pods",
        "krane: risky-attach-pods",
        "rbac-police: pods_exec",
        "rbac-police: pods_ephemeral_ctrs",
        "rbac-police: rce_weak_ns",
        "kubescape: C-0002",
        "kubescape: C-0063",
    ],
};

pub const TOKEN_CREATE: &RuleInfo = &RuleInfo {
    id: "token-create",
    severity: Severity::High,
    title: "Can mint ServiceAccount tokens",
    why: "create on serviceaccounts/token mints a token for any ServiceAccount of the namespace; creating (or rewriting) Secrets of type kubernetes.io/service-account-token makes the token controller issue a non-expiring one. Either way the holder acts with every ServiceAccount's permissions.",
    fix: "Remove create on serviceaccounts/token, and create, update and patch on secrets. A pipeline gets its own token from the person who runs `kubectl cicd init`, not by minting one.",
    covers: &[
        "rbac-police: token_request",
        "rbac-police: issue_token_secrets",
        "rbac-police: obtain_token_weak_ns",
        "kubescape: C-0282",
    ],
};

pub const PV_CREATE: &RuleInfo = &RuleInfo {
    id: "pv-create",
    severity: Severity::High,
    title: "Can create PersistentVolumes or StorageClasses",
    why: "A PersistentVolume of type hostPath mounts any directory of a node into a pod, which Pod Security Admission does not check; StorageClasses choose provisioners and their parameters for the whole cluster.",
    fix: "Remove create, update and patch on persistentvolumes and storageclasses; let pipelines create PersistentVolumeClaims against the platform's StorageClasses.",
    covers: &[
        "rbac-tool: Storage & Data - Manipulate Cluster Shared Resources",
        "kubescape: C-0278",
    ],
};

pub const NAMESPACE_WRITE: &RuleInfo = &RuleInfo {
    id: "namespace-write",
    severity: Severity::High,
    title: "Can change or delete Namespaces",
    why: "Relabelling a namespace lifts its Pod Security Admission level (privileged pods, then the node); deleting it removes everything in it.",
    fix: "Remove update, patch and delete on namespaces; namespaces belong to the platform team.",
    covers: &[],
};

pub const KUBE_SYSTEM_WRITE: &RuleInfo = &RuleInfo {
    id: "kube-system-write",
    severity: Severity::High,
    title: "Can write in kube-system",
    why: "kube-system holds the cluster's own components and configuration: the CoreDNS ConfigMap (DNS poisoning), EKS's aws-auth ConfigMap (cluster-admin mapping), controller ServiceAccounts and their tokens.",
    fix: "Remove write access in kube-system (RoleBindings there, or ClusterRoleBindings that reach it); pipelines deploy to their own namespaces.",
    covers: &["rbac-police: eks_modify_aws_auth", "kubescape: C-0037"],
};

pub const PULL_CONTROLLER_CLUSTER_WIDE: &RuleInfo = &RuleInfo {
    id: "pull-controller-cluster-wide",
    severity: Severity::High,
    title: "Pull-style controller (Argo CD, Flux) with cluster-wide rights",
    why: "Argo CD and Flux apply whatever their sources say with their own ServiceAccount; installed with cluster-wide ClusterRoles (the default), anyone who can write to a watched repository or an Application/Kustomization object holds those rights. Compliance-minded platforms count this as non-compliant.",
    fix: "Run the controller namespace-scoped: Argo CD's namespace-install (application controller with `--namespaced`/`application.namespaces`), or Flux multi-tenancy lockdown (`--default-service-account`, tenants' Kustomizations impersonating a namespace ServiceAccount); replace the ClusterRoleBinding with RoleBindings in the target namespaces.",
    covers: &[],
};

pub const BROAD_GROUP_BINDING: &RuleInfo = &RuleInfo {
    id: "broad-group-binding",
    severity: Severity::High,
    title: "Binding to everyone: system:authenticated, system:unauthenticated or all ServiceAccounts",
    why: "A binding to system:authenticated, system:unauthenticated (anonymous requests), system:serviceaccounts or system:serviceaccounts:<namespace> grants its role to every such identity, present and future, including every pipeline's and every workload's ServiceAccount.",
    fix: "Bind the role to the specific ServiceAccounts, users or groups that need it.",
    covers: &[],
};

pub const WORKLOAD_CREATE: &RuleInfo = &RuleInfo {
    id: "workload-create",
    severity: Severity::Medium,
    title: "Can create or change workloads",
    why: "Whoever creates pods, or controllers that create them (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs, ReplicationControllers), can run a pod as any ServiceAccount of the namespace and mount any Secret or ConfigMap there: workload creation implies all that access. Expected for a deploy pipeline; a reason to keep each pipeline's namespace free of more powerful ServiceAccounts.",
    fix: "Keep only the controller kinds the pipeline deploys (usually Deployments), never bare pods; keep more powerful ServiceAccounts and unrelated Secrets out of the namespace; enforce Pod Security Admission `restricted` on it.",
    covers: &[
        "KubiScan: risky-any-verb-pods",
        "KubiScan: risky-any-verb-deployments",
        "KubiScan: risky-any-verb-daemonsets",
        "KubiScan: risky-any-verb-statefulsets",
        "KubiScan: risky-any-verb-replicationcontrollers",
        "KubiScan: risky-any-verb-replicasets",
        "KubiScan: risky-any-verb-cronjobs",
        "KubiScan: risky-any-verb-jobs",
        "KubiScan: risky-create-deployments",
        "KubiScan: risky-update-deployments",
        "KubiScan: risky-create-daemonsets",
        "KubiScan: risky-update-daemonsets",
        "KubiScan: risky-create-statefulsets",
        "KubiScan: risky-update-statefulsets",
        "KubiScan: risky-create-replicationcontrollers",
        "KubiScan: risky-update-replicationcontrollers",
        "KubiScan: risky-create-replicasets",
        "KubiScan: risky-update-replicasets",
        "KubiScan: risky-create-jobs",
        "KubiScan: risky-update-jobs",
        "KubiScan: risky-create-pod",
        "rbac-tool: Workload Creators & Editors",
        "krane: subjects-with-privileged-psp-not-scoped-to-ns",
        "krane: risky-any-verb-pods",
        "krane: risky-any-verb-deployments",
        "krane: risky-any-verb-daemonsets",
        "krane: risky-any-verb-statefulsets",
        "krane: risky-any-verb-replicationcontrollers",
        "krane: risky-any-verb-replicasets",
        "krane: risky-any-verb-cronjobs",
        "krane: risky-any-verb-jobs",
        "krane: risky-create-deployments",
        "krane: risky-update-deployments",
        "krane: risky-create-daemonsets",
        "krane: risky-update-daemonsets",
        "krane: risky-create-statefulsets",
        "krane: risky-update-statefulsets",
        "krane: risky-create-replicationcontrollers",
        "krane: risky-update-replicationcontrollers",
        "krane: risky-create-replicasets",
        "krane: risky-update-replicasets",
        "krane: risky-create-jobs",
        "krane: risky-update-jobs",
        "krane: risky-create-cronjobs",
        "krane: risky-update-cronjobs",
        "rbac-police: assign_sa",
        "rbac-police: modify_pods",
        "rbac-police: rce_weak_ns",
        "rbac-police: obtain_token_weak_ns",
        "kubescape: C-0188",
    ],
};

pub const LONG_LIVED_TOKEN: &RuleInfo = &RuleInfo {
    id: "long-lived-token",
    severity: Severity::Medium,
    title: "Long-lived ServiceAccount token Secret",
    why: "A Secret of type kubernetes.io/service-account-token holds a token that never expires and survives its pipeline: copied into CI settings, laptops and logs, it stays valid until someone deletes the Secret. Since Kubernetes 1.24 none are created automatically.",
    fix: "Give the pipeline short-lived tokens (`kubectl cicd init --token request`, or `kubectl create token --duration`), rotate with `kubectl cicd rotate`, then delete the Secret.",
    covers: &[],
};

pub const MISSING_ROLE: &RuleInfo = &RuleInfo {
    id: "missing-role",
    severity: Severity::Medium,
    title: "Binding to a role that does not exist",
    why: "A binding whose Role or ClusterRole is missing grants nothing today, but whoever later creates a role of that name silently grants it to the binding's subjects: a dormant grant nobody reviews.",
    fix: "Delete the binding, or create the role it was meant to reference.",
    covers: &["krane: subjects-with-non-existing-roles"],
};

pub const DRIFT: &RuleInfo = &RuleInfo {
    id: "drift",
    severity: Severity::Medium,
    title: "Role managed by kubectl-cicd drifted from its recorded intent",
    why: "`kubectl cicd init` (and `kubectl cicd argocd grant`) records the rules it granted in the Role's kubectl-cicd.io/intended-rules annotation; rules that differ were changed by hand or by another tool after the review that approved them.",
    fix: "Re-run `kubectl cicd init` (for a grant, `kubectl cicd argocd grant`) with the intended kinds (it restores the Role), or, if the change is wanted, re-run it with the new kinds so the intent is recorded.",
    covers: &[],
};

pub const TRAFFIC_HIJACK: &RuleInfo = &RuleInfo {
    id: "traffic-hijack",
    severity: Severity::Medium,
    title: "Can redirect Service traffic",
    why: "Writing Endpoints or EndpointSlices points a Service at arbitrary addresses (CVE-2021-25740); services/status sets load-balancer IPs (CVE-2020-8554, unfixed); pods/status can make a pod match other Services' selectors. Each intercepts traffic meant for someone else.",
    fix: "Remove write access to endpoints, endpointslices, services/status and pods/status; Services manage their endpoints themselves.",
    covers: &[
        "rbac-tool: Networking - Manipulate Networking and Network Access related resources",
        "rbac-police: modify_service_status_cve_2020_8554",
        "rbac-police: modify_pod_status",
    ],
};

pub const GITOPS_WRITE: &RuleInfo = &RuleInfo {
    id: "gitops-write",
    severity: Severity::Medium,
    title: "Can write Argo CD or Flux objects",
    why: "Argo CD Applications and Flux Kustomizations or HelmReleases are applied by the controller with its own, often cluster-wide, ServiceAccount: writing them borrows the controller's power, whatever the writer's own RBAC says.",
    fix: "Let the push pipeline deploy directly, or restrict the controller (Argo CD AppProjects limiting destinations and kinds; Flux impersonating a namespace ServiceAccount) before granting writes on its objects.",
    covers: &[],
};

pub const CRD_WRITE: &RuleInfo = &RuleInfo {
    id: "crd-write",
    severity: Severity::Medium,
    title: "Can change CustomResourceDefinitions",
    why: "CRDs are cluster-wide API types: changing or deleting one changes or deletes every object of that type in every namespace, and can break the controllers that serve it.",
    fix: "Remove write access to customresourcedefinitions; CRDs are installed by the platform team (or by Helm with `--skip-crds` for tenants).",
    covers: &["rbac-tool: Installing or Modifying Cluster Extensions (CRDs)"],
};

pub const NODE_WRITE: &RuleInfo = &RuleInfo {
    id: "node-write",
    severity: Severity::Medium,
    title: "Can change or delete Nodes",
    why: "Creating Node objects or changing node labels, taints or status steers where pods run (attracting privileged pods onto a compromised or fake node) or drains the cluster.",
    fix: "Remove create, update, patch and delete on nodes and nodes/status.",
    covers: &["rbac-police: modify_node_status", "rbac-police: steal_pods"],
};

pub const DEFAULT_SA_BOUND: &RuleInfo = &RuleInfo {
    id: "default-sa-bound",
    severity: Severity::Medium,
    title: "The namespace's default ServiceAccount holds RBAC grants",
    why: "Every pod that names no ServiceAccount runs as `default`: grants to it go to every such workload, and a pipeline using it shares its identity with them.",
    fix: "Bind the role to a dedicated ServiceAccount (`kubectl cicd init` creates one) and remove the bindings of `default`.",
    covers: &["kubescape: C-0189"],
};

pub const INVALID_EXCEPTION: &RuleInfo = &RuleInfo {
    id: "invalid-exception",
    severity: Severity::Medium,
    title: "Exception annotation without a reason or with unknown rules",
    why: "An exception is only documented when it says why: a kubectl-cicd.io/ignore annotation without kubectl-cicd.io/ignore-reason, or naming rules that do not exist, is not applied, and is reported so the gap in the record is visible.",
    fix: "Add a kubectl-cicd.io/ignore-reason annotation saying why the finding is accepted, and list only rule ids from `docs/audit-rules.md`; or remove the annotation.",
    covers: &[],
};

pub const NETWORK_WRITE: &RuleInfo = &RuleInfo {
    id: "network-write",
    severity: Severity::Low,
    title: "Can change Services, Ingresses, NetworkPolicies or Gateway API objects",
    why: "Expected for a deploy pipeline, and still worth knowing: NetworkPolicy writes can remove the namespace's isolation, Services with externalIPs can capture cluster traffic (CVE-2020-8554) unless admission blocks them, and Ingress annotations have leaked controller secrets on some ingress controllers.",
    fix: "Grant only the kinds the pipeline deploys; keep NetworkPolicies with the platform team where possible, and block Service externalIPs in admission.",
    covers: &[
        "rbac-tool: Networking - Manipulate Networking and Network Access related resources",
        "rbac-tool: Networking - Manipulate Gateway API Resources",
    ],
};

pub const STORAGE_WRITE: &RuleInfo = &RuleInfo {
    id: "storage-write",
    severity: Severity::Low,
    title: "Can change PersistentVolumeClaims or cluster storage attachments",
    why: "PersistentVolumeClaims consume the platform's storage and, once deleted, take their data along; VolumeAttachments, CSIDrivers and CSINodes are cluster-wide storage plumbing.",
    fix: "Grant PersistentVolumeClaim writes only to pipelines that deploy stateful workloads, and never the cluster-wide storage.k8s.io kinds.",
    covers: &["rbac-tool: Storage & Data - Manipulate Cluster Shared Resources"],
};

pub const QUOTA_WRITE: &RuleInfo = &RuleInfo {
    id: "quota-write",
    severity: Severity::Low,
    title: "Can change ResourceQuotas or LimitRanges",
    why: "Quotas and limit ranges are the platform's guard rails for the namespace: whoever writes them lifts the limits set for everyone sharing the cluster.",
    fix: "Remove write access to resourcequotas and limitranges.",
    covers: &[],
};

pub const UNUSED_PERMISSION: &RuleInfo = &RuleInfo {
    id: "unused-permission",
    severity: Severity::Low,
    title: "Role grants what its pipeline never used",
    why: "The Role of a CI identity made by kubectl-cicd grants verbs or kinds that none of the identity's requests in the API server's audit log (passed with --audit-log) used: rights nobody needs are rights whoever gets hold of the token has for free.",
    fix: "Shrink the Role to what was used: kubectl cicd tighten NAME -n NAMESPACE --audit-log FILE shows the smaller Role as a diff, and applies it with --apply. Pass logs that cover every kind of run (releases and rollbacks too) before trusting the gap.",
    covers: &[],
};

pub const UNUSED_IDENTITY: &RuleInfo = &RuleInfo {
    id: "unused-identity",
    severity: Severity::Low,
    title: "Unused identity or stale token",
    why: "A ServiceAccount that no binding names and that has no token Secret does nothing a reviewer can see (if no pod runs as it, it is clutter that someone may later bind); a token Secret unused for months is a credential nobody needs but anybody holding it can use.",
    fix: "Delete the ServiceAccount, or the stale token Secret (rotate the pipeline to short-lived tokens first if it still uses it).",
    covers: &[],
};

pub const CLOUD_IDENTITY: &RuleInfo = &RuleInfo {
    id: "cloud-identity",
    severity: Severity::Low,
    title: "ServiceAccount mapped to a cloud IAM identity",
    why: "An annotation such as eks.amazonaws.com/role-arn, iam.gke.io/gcp-service-account or azure.workload.identity/client-id lets pods running as this ServiceAccount act in the cloud account; whoever can create pods or tokens for it inherits that cloud role.",
    fix: "Check that the cloud role is least-privilege, and that no pipeline that can create workloads in this namespace should have it.",
    covers: &["rbac-police: providerIAM"],
};

pub const MANY_ROLES: &RuleInfo = &RuleInfo {
    id: "many-roles",
    severity: Severity::Info,
    title: "Identity bound to many roles",
    why: "Many bindings make an identity's effective rights hard to review; it often means rights were added piecemeal and never pruned.",
    fix: "Consolidate into one least-privilege Role per namespace.",
    covers: &["krane: subjects-with-many-roles"],
};

pub const MANY_SUBJECTS: &RuleInfo = &RuleInfo {
    id: "many-subjects",
    severity: Severity::Info,
    title: "Namespace with many bound subjects",
    why: "Many identities with grants in one namespace make it hard to say who can change what there.",
    fix: "Review the namespace's RoleBindings and remove the ones nobody needs.",
    covers: &["krane: namespaces-with-many-subjects"],
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_kebab_case_and_sorted_by_severity() {
        let ids: BTreeSet<&str> = CATALOGUE.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), CATALOGUE.len());
        for r in CATALOGUE {
            assert!(
                r.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
                "{}",
                r.id
            );
            for text in [r.title, r.why, r.fix] {
                assert!(!text.is_empty() && !text.contains('\n'), "{}", r.id);
            }
        }
        let severities: Vec<Severity> = CATALOGUE.iter().map(|r| r.severity).collect();
        let mut sorted = severities.clone();
        sorted.sort();
        assert_eq!(severities, sorted, "catalogue is ordered most severe first");
    }

    #[test]
    fn required_ids_exist() {
        for id in [
            "cluster-admin-binding",
            "cluster-wide-binding",
            "wildcard",
            "secrets-read",
            "escalate-bind-impersonate",
            "rbac-write",
            "pod-exec",
            "token-create",
            "long-lived-token",
            "workload-create",
            "node-proxy",
            "webhook-write",
            "csr-approve",
            "pull-controller-cluster-wide",
            "missing-role",
            "drift",
            "unused-identity",
        ] {
            assert!(rule(id).is_some(), "{id}");
        }
        assert!(rule("nope").is_none());
    }

    #[test]
    fn every_permission_check_is_a_catalogue_rule() {
        for c in PERMISSION_CHECKS {
            assert_eq!(rule(c.rule.id), Some(c.rule), "{}", c.rule.id);
            assert!(!c.probes.is_empty());
            for p in c.probes {
                assert!(!p.verbs.is_empty() && !p.resources.is_empty());
            }
        }
        assert!(permission_check("secrets-read").is_some());
        assert!(permission_check("drift").is_none());
    }

    #[test]
    fn covers_name_a_known_tool() {
        for r in CATALOGUE {
            for c in r.covers {
                let (tool, anchor) = c.split_once(": ").expect(c);
                assert!(
                    ["KubiScan", "rbac-tool", "krane", "rbac-police", "kubescape"].contains(&tool),
                    "{c}"
                );
                assert!(!anchor.is_empty());
            }
        }
    }

    /// docs/audit-rules.md documents every rule with its severity, why, fix and covers.
    #[test]
    fn the_documentation_follows_the_catalogue() {
        let doc = include_str!("../../docs/audit-rules.md");
        for r in CATALOGUE {
            let heading = format!("### `{}`\n", r.id);
            let start = doc
                .find(&heading)
                .unwrap_or_else(|| panic!("docs/audit-rules.md has no section {heading:?}"));
            let rest = &doc[start + heading.len()..];
            let section = &rest[..rest.find("\n### ").unwrap_or(rest.len())];
            let sev = format!("severity **{}**", severity_name(r.severity));
            for needle in [r.title, r.why, r.fix, sev.as_str()] {
                assert!(
                    section.contains(needle),
                    "{}: {needle:?} not in its section",
                    r.id
                );
            }
            for c in r.covers {
                assert!(
                    section.contains(c),
                    "{}: covers {c:?} not in its section",
                    r.id
                );
            }
            assert!(
                doc.contains(&format!(
                    "| [`{0}`](#{0}) | {1} |",
                    r.id,
                    severity_name(r.severity)
                )),
                "{} missing from the table at a glance",
                r.id
            );
        }
    }

    #[test]
    fn severity_helpers() {
        assert_eq!(severity_name(Severity::High), "high");
        assert_eq!(parse_severity("CRITICAL"), Some(Severity::Critical));
        assert_eq!(parse_severity(" low "), Some(Severity::Low));
        assert_eq!(parse_severity("none"), None);
        assert_eq!(raised(Severity::Medium), Severity::High);
        assert_eq!(raised(Severity::Critical), Severity::Critical);
        assert_eq!(lowered(Severity::High), Severity::Medium);
        assert_eq!(lowered(Severity::Info), Severity::Info);
        for (s, n) in SEVERITIES {
            assert_eq!(serde_json::to_value(s).unwrap(), *n);
        }
    }
}
