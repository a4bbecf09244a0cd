//! The other tools' rules listed in the catalogue's `covers` fire the rules that claim them,
//! on roles written the way those tools describe them (cited in docs/audit-rules.md); the
//! KubiScan and krane cases are in `anchors_kubiscan`.

use super::*;

pub(super) const ANY: &[&str] = &["*"];

/// (anchors, through a ClusterRoleBinding, rules, expected rule ids)
pub(super) type Case = (Vec<&'static str>, bool, Vec<Rule>, Vec<&'static str>);

pub(super) fn any_verb(res: &str) -> Rule {
    r(ANY, &[res], &["*"])
}

pub(super) fn kubi(res: &str, verbs: &[&str]) -> Rule {
    r(ANY, &[res], verbs)
}

/// rbac-tool, rbac-police and kubescape.
fn other_cases() -> Vec<Case> {
    vec![
        (
            vec!["rbac-tool: Secret Readers", "kubescape: C-0186"],
            false,
            vec![r(&[""], &["secrets"], &["get"])],
            vec!["secrets-read"],
        ),
        (
            vec!["rbac-tool: Workload Creators & Editors"],
            false,
            vec![r(&["batch"], &["jobs"], &["patch"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "rbac-tool: Identify Privileges Escalators - via impersonate",
                "rbac-police: impersonate",
                "kubescape: C-0065",
            ],
            false,
            vec![r(&[""], &["serviceaccounts"], &["impersonate"])],
            vec!["escalate-bind-impersonate"],
        ),
        (
            vec![
                "rbac-tool: Identify Privileges Escalators - via bind or escalate",
                "rbac-police: escalate_roles",
                "kubescape: C-0191",
            ],
            true,
            vec![r(&[RBAC], &["clusterroles"], &["escalate", "create"])],
            vec!["escalate-bind-impersonate", "rbac-write"],
        ),
        (
            vec![
                "rbac-tool: Storage & Data - Manipulate Cluster Shared Resources",
                "kubescape: C-0278",
            ],
            true,
            vec![
                r(&[""], &["persistentvolumes"], &["create"]),
                r(&["storage.k8s.io"], &["storageclasses"], &["patch"]),
            ],
            vec!["pv-create"],
        ),
        (
            vec!["rbac-tool: Storage & Data - Manipulate Cluster Shared Resources"],
            false,
            vec![r(&[""], &["persistentvolumeclaims"], &["delete"])],
            vec!["storage-write"],
        ),
        (
            vec![
                "rbac-tool: Networking - Manipulate Networking and Network Access related resources",
            ],
            false,
            vec![
                r(&["networking.k8s.io"], &["networkpolicies"], &["delete"]),
                r(&[""], &["endpoints"], &["update"]),
            ],
            vec!["network-write", "traffic-hijack"],
        ),
        (
            vec!["rbac-tool: Networking - Manipulate Gateway API Resources"],
            false,
            vec![r(
                &["gateway.networking.k8s.io"],
                &["httproutes"],
                &["create"],
            )],
            vec!["network-write"],
        ),
        (
            vec![
                "rbac-tool: Installing or Modifying Admission Controllers",
                "rbac-police: control_webhooks",
                "kubescape: C-0036",
                "kubescape: C-0039",
                "kubescape: C-0281",
            ],
            true,
            vec![r(
                &["admissionregistration.k8s.io"],
                &[
                    "mutatingwebhookconfigurations",
                    "validatingwebhookconfigurations",
                ],
                &["patch"],
            )],
            vec!["webhook-write"],
        ),
        (
            vec!["rbac-tool: Installing or Modifying Cluster Extensions (CRDs)"],
            true,
            vec![r(
                &["apiextensions.k8s.io"],
                &["customresourcedefinitions"],
                &["delete"],
            )],
            vec!["crd-write"],
        ),
        (
            vec!["rbac-tool: Open Policy Agent (OPA) GateKeeper Administration"],
            true,
            vec![r(
                &["templates.gatekeeper.sh"],
                &["constrainttemplates"],
                &["create"],
            )],
            vec!["webhook-write"],
        ),
        (
            vec!["rbac-police: approve_csrs", "kubescape: C-0280"],
            true,
            vec![
                r(
                    &["certificates.k8s.io"],
                    &["certificatesigningrequests/approval"],
                    &["update"],
                ),
                r(&["certificates.k8s.io"], &["signers"], &["approve"]),
            ],
            vec!["csr-approve"],
        ),
        (
            vec![
                "rbac-police: assign_sa",
                "rbac-police: modify_pods",
                "rbac-police: rce_weak_ns",
            ],
            false,
            vec![r(&[""], &["pods"], &["update"])],
            vec!["workload-create"],
        ),
        (
            vec!["rbac-police: bind_roles"],
            true,
            vec![r(&[RBAC], ANY, &["bind"])],
            vec!["escalate-bind-impersonate"],
        ),
        (
            vec!["rbac-police: eks_modify_aws_auth", "kubescape: C-0037"],
            true,
            vec![r(&[""], &["configmaps"], &["patch"])],
            vec!["kube-system-write"],
        ),
        (
            vec!["rbac-police: issue_token_secrets"],
            false,
            vec![r(&[""], &["secrets"], &["create"])],
            vec!["token-create"],
        ),
        (
            vec![
                "rbac-police: list_secrets",
                "rbac-police: retrieve_secrets",
                "rbac-police: retrieve_token_secrets",
            ],
            true,
            vec![r(&[""], &["secrets"], &["list"])],
            vec!["secrets-read"],
        ),
        (
            vec!["rbac-police: modify_node_status", "rbac-police: steal_pods"],
            true,
            vec![
                r(&[""], &["nodes/status"], &["patch"]),
                r(&[""], &["pods"], &["delete"]),
            ],
            vec!["node-write"],
        ),
        (
            vec!["rbac-police: modify_pod_status"],
            false,
            vec![r(&[""], &["pods/status"], &["patch"])],
            vec!["traffic-hijack"],
        ),
        (
            vec!["rbac-police: modify_service_status_cve_2020_8554"],
            false,
            vec![r(&[""], &["services/status"], &["update"])],
            vec!["traffic-hijack"],
        ),
        (
            vec!["rbac-police: nodes_proxy", "kubescape: C-0279"],
            true,
            vec![r(&[""], &["nodes/proxy"], &["create"])],
            vec!["node-proxy"],
        ),
        (
            vec!["rbac-police: obtain_token_weak_ns"],
            false,
            vec![
                r(&[""], &["secrets"], &["get"]),
                r(&[""], &["serviceaccounts/token"], &["create"]),
                r(&["apps"], &["deployments"], &["create"]),
            ],
            vec!["secrets-read", "token-create", "workload-create"],
        ),
        (
            vec!["rbac-police: pods_ephemeral_ctrs"],
            false,
            vec![r(&[""], &["pods/ephemeralcontainers"], &["patch"])],
            vec!["pod-exec"],
        ),
        (
            vec!["rbac-police: rce_weak_ns"],
            false,
            vec![r(&[""], &["pods/exec"], &["create"])],
            vec!["pod-exec"],
        ),
        (
            vec!["rbac-police: token_request", "kubescape: C-0282"],
            false,
            vec![r(&[""], &["serviceaccounts/token"], &["create"])],
            vec!["token-create"],
        ),
        (
            vec!["kubescape: C-0063"],
            false,
            vec![r(&[""], &["pods/portforward"], &["create"])],
            vec!["pod-exec"],
        ),
        (
            vec!["kubescape: C-0187"],
            false,
            vec![r(&[""], ANY, &["get"])],
            vec!["wildcard"],
        ),
    ]
}

#[test]
fn anchor_rules_map_onto_ours() {
    let table: Vec<Case> = [super::anchors_kubiscan::cases(), other_cases()].concat();
    let mut tested: BTreeSet<&str> = BTreeSet::new();
    for (anchors, cluster, rules_, expected) in &table {
        let (ids, findings) = fired(rules_, *cluster);
        for id in expected {
            assert!(
                ids.contains(*id),
                "{anchors:?}: {id} missing from {ids:?}\n{findings:#?}"
            );
        }
        for anchor in anchors {
            assert!(
                expected
                    .iter()
                    .any(|id| rules::rule(id).unwrap().covers.contains(anchor)),
                "{anchor} is not in the covers of {expected:?}"
            );
            tested.insert(anchor);
        }
    }
    // Every anchor the catalogue claims is tested here or by a metadata test above.
    let metadata_anchors = [
        "krane: subjects-with-non-existing-roles", // unused_identities_skip_default_and_bound_accounts
        "krane: subjects-with-many-roles",         // many_roles_and_subjects_thresholds
        "krane: namespaces-with-many-subjects",    // many_roles_and_subjects_thresholds
        "rbac-police: providerIAM",                // cloud_identity_and_default_service_account
        "kubescape: C-0189",                       // cloud_identity_and_default_service_account
    ];
    for rule in rules::catalogue() {
        for anchor in rule.covers {
            assert!(
                tested.contains(anchor) || metadata_anchors.contains(anchor),
                "{anchor} (claimed by {}) has no test",
                rule.id
            );
        }
    }
}
