//! Severity adjustments, as findings show them (wide grants, named resources, inert grants,
//! full control) and as the severity module computes them.

use super::*;

#[test]
fn severity_is_raised_for_wide_grants_and_lowered_for_named_ones() {
    let secrets = [r(&[""], &["secrets"], &["get"])];
    let sev = |findings: &[Finding], id: &str| of(findings, id, "ci")[0].severity;
    assert_eq!(
        sev(&fired(&secrets, false).1, "secrets-read"),
        Severity::High
    );
    assert_eq!(
        sev(&fired(&secrets, true).1, "secrets-read"),
        Severity::Critical
    );
    let named = [r(&[""], &["secrets"], &["get", "list"]).with_names(["helm-state"])];
    let (ids, findings) = fired(&named, false);
    assert!(ids.contains("secrets-read"));
    let f = of(&findings, "secrets-read", "ci")[0];
    assert_eq!(f.severity, Severity::Medium);
    assert!(
        f.evidence.contains("get secrets (only helm-state)"),
        "{}",
        f.evidence
    );
    assert!(
        !f.evidence.contains("list"),
        "list carries no name: {}",
        f.evidence
    );
    // a privileged namespace counts as wide
    let objects = vec![
        sa("x", "ci"),
        cluster_role("reader", &secrets),
        rb(
            "kube-system",
            "r",
            "ClusterRole",
            "reader",
            sa_subject("x", "ci"),
        ),
    ];
    assert_eq!(
        sev(&run(&objects, &all()), "secrets-read"),
        Severity::Critical
    );
    // rules about cluster-scoped kinds are not raised
    let (_, findings) = fired(&[r(&[""], &["nodes/proxy"], &["get"])], true);
    assert_eq!(sev(&findings, "node-proxy"), Severity::Critical);
    let (_, findings) = fired(&[r(&[""], &["nodes"], &["patch"])], true);
    assert_eq!(sev(&findings, "node-write"), Severity::Medium);
}

#[test]
fn cluster_scoped_kinds_granted_by_a_rolebinding_are_inert() {
    for rules in [
        vec![r(&[""], &["nodes/proxy"], &["get"])],
        vec![r(&[""], &["persistentvolumes"], &["create"])],
        vec![r(
            &["admissionregistration.k8s.io"],
            &["mutatingwebhookconfigurations"],
            &["create"],
        )],
        vec![r(&[RBAC], &["clusterroles"], &["escalate"])],
        vec![r(&[""], &["users"], &["impersonate"])],
    ] {
        let (ids, _) = fired(&rules, false);
        assert!(ids.is_empty(), "{rules:?}: {ids:?}");
        let (ids, _) = fired(&rules, true);
        assert!(!ids.is_empty(), "{rules:?}");
    }
    // but a RoleBinding grants its own namespace object, and `bind` on clusterroles
    let (ids, _) = fired(&[r(&[""], &["namespaces"], &["patch"])], false);
    assert!(ids.contains("namespace-write"));
    let (ids, _) = fired(&[r(&[RBAC], &["clusterroles"], &["bind"])], false);
    assert!(ids.contains("escalate-bind-impersonate"));
    let (ids, _) = fired(&[r(&[""], &["serviceaccounts"], &["impersonate"])], false);
    assert!(ids.contains("escalate-bind-impersonate"));
}

#[test]
fn full_control_is_reported_once() {
    let all_rules = [r(&["*"], &["*"], &["*"])];
    let (ids, findings) = fired(&all_rules, true);
    assert_eq!(
        ids,
        BTreeSet::from(["cluster-admin-binding".to_string()]),
        "{findings:#?}"
    );
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.via[0].binding, "ClusterRoleBinding probe");
    assert_eq!(f.via[0].role, "ClusterRole probe");
    let (ids, findings) = fired(&all_rules, false);
    assert_eq!(
        ids,
        BTreeSet::from(["wildcard".to_string()]),
        "{findings:#?}"
    );
    assert!(
        findings[0]
            .evidence
            .contains("full control of the namespace")
    );
    assert_eq!(findings[0].severity, Severity::High);
    // partial wildcards report what they imply
    let (ids, _) = fired(&[r(&[""], &["*"], &["get"])], false);
    assert!(
        ids.contains("wildcard") && ids.contains("secrets-read"),
        "{ids:?}"
    );
    let (ids, _) = fired(&[r(&["apps"], &["deployments"], &["*"])], false);
    assert!(
        ids.contains("wildcard") && ids.contains("workload-create"),
        "{ids:?}"
    );
    // non-resource wildcard: only cluster-wide it means anything
    let (ids, _) = fired(&[Rule::non_resource(&["*"], &["get"])], true);
    assert!(ids.contains("wildcard"), "{ids:?}");
    let (ids, _) = fired(&[Rule::non_resource(&["*"], &["get"])], false);
    assert!(ids.is_empty(), "{ids:?}");
}

/// The adjustments themselves, at their edges: raising stops at critical, and a raised then
/// lowered severity ends one below critical.
#[test]
fn the_adjustments_at_their_edges() {
    use crate::audit::analyze::severity as s;
    let check = |rule| {
        rules::permission_checks()
            .iter()
            .find(|c| c.rule == rule)
            .expect("a permission rule")
    };
    let secrets = check(rules::SECRETS_READ);
    assert_eq!(s::permission(secrets, false, false), Severity::High);
    assert_eq!(s::permission(secrets, true, false), Severity::Critical);
    assert_eq!(s::permission(secrets, false, true), Severity::Medium);
    assert_eq!(s::permission(secrets, true, true), Severity::High);
    let node_proxy = check(rules::NODE_PROXY);
    assert_eq!(s::permission(node_proxy, true, false), Severity::Critical);
    assert_eq!(s::permission(node_proxy, true, true), Severity::High);
    assert_eq!(s::wildcard(false), Severity::High);
    assert_eq!(s::wildcard(true), Severity::Critical);
    assert_eq!(s::broad_group(false), Severity::High);
    assert_eq!(s::broad_group(true), Severity::Medium);
    let high = Severity::High;
    assert_eq!(
        s::for_subject(high, true, PeoplePolicy::Info),
        Severity::Info
    );
    assert_eq!(s::for_subject(high, true, PeoplePolicy::Rate), high);
    assert_eq!(s::for_subject(high, false, PeoplePolicy::Info), high);
}
