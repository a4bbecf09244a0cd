//! Anchor cases of KubiScan and krane, whose rules are named after the verbs and resources
//! they flag.

use super::anchors::{ANY, Case, any_verb, kubi};
use super::*;

pub(super) fn cases() -> Vec<Case> {
    vec![
        (
            vec!["KubiScan: risky-get-secrets", "krane: risky-get-secrets"],
            false,
            vec![kubi("secrets", &["get"])],
            vec!["secrets-read"],
        ),
        (
            vec![
                "KubiScan: risky-list-secrets",
                "krane: risky-list-secrets",
                "kubescape: C-0015",
            ],
            false,
            vec![kubi("secrets", &["list"])],
            vec!["secrets-read"],
        ),
        (
            vec![
                "KubiScan: risky-impersonate-groups",
                "krane: risky-impersonate-privileged-groups",
            ],
            true,
            vec![kubi("groups", &["impersonate"])],
            vec!["escalate-bind-impersonate"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb",
                "krane: subjects-with-open-ns-level-access",
            ],
            false,
            vec![r(ANY, ANY, ANY)],
            vec!["wildcard"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb",
                "krane: subjects-with-open-cluster-wide-access",
                "rbac-police: cluster_admin",
                "kubescape: C-0035",
                "kubescape: C-0185",
            ],
            true,
            vec![r(ANY, ANY, ANY)],
            vec!["cluster-admin-binding"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-secrets",
                "krane: risky-any-verb-secrets",
            ],
            false,
            vec![any_verb("secrets")],
            vec!["wildcard", "secrets-read"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-pods",
                "krane: risky-any-verb-pods",
            ],
            false,
            vec![any_verb("pods")],
            vec!["wildcard", "workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-deployments",
                "krane: risky-any-verb-deployments",
            ],
            false,
            vec![any_verb("deployments")],
            vec!["wildcard", "workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-daemonsets",
                "krane: risky-any-verb-daemonsets",
            ],
            false,
            vec![any_verb("daemonsets")],
            vec!["wildcard", "workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-statefulsets",
                "krane: risky-any-verb-statefulsets",
            ],
            false,
            vec![any_verb("statefulsets")],
            vec!["wildcard", "workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-replicationcontrollers",
                "krane: risky-any-verb-replicationcontrollers",
            ],
            false,
            vec![any_verb("replicationcontrollers")],
            vec!["wildcard", "workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-replicasets",
                "krane: risky-any-verb-replicasets",
            ],
            false,
            vec![any_verb("replicasets")],
            vec!["wildcard", "workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-cronjobs",
                "krane: risky-any-verb-cronjobs",
            ],
            false,
            vec![any_verb("cronjobs")],
            vec!["wildcard", "workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-jobs",
                "krane: risky-any-verb-jobs",
            ],
            false,
            vec![any_verb("jobs")],
            vec!["wildcard", "workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-roles",
                "krane: risky-any-verb-roles",
            ],
            false,
            vec![any_verb("roles")],
            vec!["wildcard", "rbac-write", "escalate-bind-impersonate"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-clusterroles",
                "krane: risky-any-verb-clusterroles",
            ],
            true,
            vec![any_verb("clusterroles")],
            vec!["wildcard", "rbac-write", "escalate-bind-impersonate"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-rolebindings",
                "krane: risky-any-verb-rolebindings",
            ],
            false,
            vec![any_verb("rolebindings")],
            vec!["wildcard", "rbac-write"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-clusterrolebindings",
                "krane: risky-any-verb-clusterrolebindings",
            ],
            true,
            vec![any_verb("clusterrolebindings")],
            vec!["wildcard", "rbac-write"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-users",
                "krane: risky-any-verb-users",
            ],
            true,
            vec![any_verb("users")],
            vec!["wildcard", "escalate-bind-impersonate"],
        ),
        (
            vec![
                "KubiScan: risky-any-verb-groups",
                "krane: risky-any-verb-groups",
            ],
            true,
            vec![any_verb("groups")],
            vec!["wildcard", "escalate-bind-impersonate"],
        ),
        (
            vec![
                "KubiScan: risky-any-resource-delete",
                "krane: risky-any-resource-delete",
            ],
            false,
            vec![r(ANY, ANY, &["delete"])],
            vec!["wildcard"],
        ),
        (
            vec!["krane: risky-any-resource-deletecollection"],
            false,
            vec![r(ANY, ANY, &["deletecollection"])],
            vec!["wildcard"],
        ),
        (
            vec![
                "KubiScan: risky-any-resource-create",
                "krane: risky-any-resource-create",
            ],
            false,
            vec![r(ANY, ANY, &["create"])],
            vec!["wildcard", "workload-create", "token-create", "rbac-write"],
        ),
        (
            vec![
                "KubiScan: risky-any-resource-list",
                "krane: risky-any-resource-list",
            ],
            false,
            vec![r(ANY, ANY, &["list"])],
            vec!["wildcard", "secrets-read"],
        ),
        (
            vec![
                "KubiScan: risky-any-resource-get",
                "krane: risky-any-resource-get",
            ],
            false,
            vec![r(ANY, ANY, &["get"])],
            vec!["wildcard", "secrets-read", "pod-exec"],
        ),
        (
            vec![
                "KubiScan: risky-any-resource-impersonate",
                "krane: risky-any-resource-impersonate",
            ],
            true,
            vec![r(ANY, ANY, &["impersonate"])],
            vec!["wildcard", "escalate-bind-impersonate"],
        ),
        (
            vec![
                "KubiScan: risky-create-deployments",
                "krane: risky-create-deployments",
            ],
            false,
            vec![kubi("deployments", &["create"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-update-deployments",
                "krane: risky-update-deployments",
            ],
            false,
            vec![kubi("deployments", &["update"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-create-daemonsets",
                "krane: risky-create-daemonsets",
            ],
            false,
            vec![kubi("daemonsets", &["create"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-update-daemonsets",
                "krane: risky-update-daemonsets",
            ],
            false,
            vec![kubi("daemonsets", &["update"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-create-statefulsets",
                "krane: risky-create-statefulsets",
            ],
            false,
            vec![kubi("statefulsets", &["create"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-update-statefulsets",
                "krane: risky-update-statefulsets",
            ],
            false,
            vec![kubi("statefulsets", &["update"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-create-replicationcontrollers",
                "krane: risky-create-replicationcontrollers",
            ],
            false,
            vec![kubi("replicationcontrollers", &["create"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-update-replicationcontrollers",
                "krane: risky-update-replicationcontrollers",
            ],
            false,
            vec![kubi("replicationcontrollers", &["update"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-create-replicasets",
                "krane: risky-create-replicasets",
            ],
            false,
            vec![kubi("replicasets", &["create"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-update-replicasets",
                "krane: risky-update-replicasets",
            ],
            false,
            vec![kubi("replicasets", &["update"])],
            vec!["workload-create"],
        ),
        (
            vec!["KubiScan: risky-create-jobs", "krane: risky-create-jobs"],
            false,
            vec![kubi("jobs", &["create"])],
            vec!["workload-create"],
        ),
        (
            vec!["KubiScan: risky-update-jobs", "krane: risky-update-jobs"],
            false,
            vec![kubi("jobs", &["update"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-create-jobs",
                "krane: risky-create-cronjobs",
            ],
            false,
            vec![kubi("cronjobs", &["create"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-update-jobs",
                "krane: risky-update-cronjobs",
            ],
            false,
            vec![kubi("cronjobs", &["update"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-create-rolebinding-role",
                "krane: risky-create-rolebinding-role",
            ],
            false,
            vec![
                r(&[RBAC], &["rolebindings"], &["create"]),
                r(&[RBAC], &["roles"], &["bind"]).with_names(["*"]),
            ],
            vec!["rbac-write", "escalate-bind-impersonate"],
        ),
        (
            vec![
                "KubiScan: risky-create-rolebinding-clusterrole",
                "krane: risky-create-rolebinding-clusterrole",
            ],
            false,
            vec![
                r(&[RBAC], &["rolebindings"], &["create"]),
                r(&[RBAC], &["clusterroles"], &["bind"]),
            ],
            vec!["rbac-write", "escalate-bind-impersonate"],
        ),
        (
            vec!["KubiScan: risky-create-clusterrolebinding-clusterrole"],
            true,
            vec![
                r(&[RBAC], &["clusterrolebindings"], &["create"]),
                r(&[RBAC], &["clusterroles"], &["bind"]),
            ],
            vec!["rbac-write", "escalate-bind-impersonate"],
        ),
        (
            vec!["krane: risky-create-clusterrolebinding"],
            true,
            vec![r(&[RBAC], &["clusterrolebindings"], &["create"])],
            vec!["rbac-write"],
        ),
        (
            vec![
                "KubiScan: risky-create-pod",
                "kubescape: C-0188",
                "krane: subjects-with-privileged-psp-not-scoped-to-ns",
            ],
            false,
            vec![kubi("pods", &["create"])],
            vec!["workload-create"],
        ),
        (
            vec![
                "KubiScan: risky-exec-pods",
                "krane: risky-exec-pods",
                "rbac-police: pods_exec",
                "kubescape: C-0002",
            ],
            false,
            vec![kubi("pods/exec", &["create"]), kubi("pods", &["get"])],
            vec!["pod-exec"],
        ),
        (
            vec!["KubiScan: risky-attach-pods", "krane: risky-attach-pods"],
            false,
            vec![kubi("pods/attach", &["create"]), kubi("pods", &["get"])],
            vec!["pod-exec"],
        ),
        (
            vec![
                "KubiScan: risky-add-rolebinding",
                "krane: risky-add-rolebinding",
                "krane: subjects-with-rbac-management",
            ],
            false,
            vec![kubi("rolebindings", &["get", "patch"])],
            vec!["rbac-write"],
        ),
    ]
}
