//! Findings about bindings and managed Roles: broad groups and drift.

use super::*;

#[test]
fn broad_groups_reach_every_service_account_and_are_reported_on_the_binding() {
    let objects = vec![
        sa("a", "one"),
        sa("b", "two"),
        cluster_role("secrets", &[r(&[""], &["secrets"], &["list"])]),
        crb(
            "everyone",
            "secrets",
            json!([{"kind": "Group", "name": "system:serviceaccounts"}]),
        ),
        rb(
            "a",
            "own",
            "ClusterRole",
            "secrets",
            json!([{"kind": "Group", "name": "system:serviceaccounts:a"}]),
        ),
    ];
    let findings = run(&objects, &all());
    let everyone = of(&findings, "broad-group-binding", "everyone");
    assert_eq!(everyone[0].severity, Severity::High);
    assert_eq!(everyone[0].subject.kind, "ClusterRoleBinding");
    assert!(
        everyone[0]
            .evidence
            .contains("every ServiceAccount of the cluster")
    );
    assert!(
        everyone[0].evidence.contains("which includes secrets-read"),
        "{}",
        everyone[0].evidence
    );
    let own = of(&findings, "broad-group-binding", "own");
    assert_eq!(
        own[0].severity,
        Severity::Medium,
        "its own namespace's ServiceAccounts"
    );
    let two = of(&findings, "secrets-read", "two")[0];
    assert_eq!(
        two.via[0].binding,
        "ClusterRoleBinding everyone (Group system:serviceaccounts)"
    );
    assert_eq!(two.severity, Severity::Critical);
    assert_eq!(of(&findings, "secrets-read", "one")[0].via.len(), 2);
    // group grants are not the account's own bindings
    assert!(of(&findings, "cluster-wide-binding", "two").is_empty());
    assert!(!of(&findings, "unused-identity", "two").is_empty());
}

#[test]
fn drift_against_the_recorded_intent() {
    let intended = vec![r(&["apps"], &["deployments"], &["get", "create"])];
    let managed = |name: &str, rules: &[Rule], annotation: Option<String>| {
        let mut v = role("x", name, rules);
        v["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "kubectl-cicd",
                                         "kubectl-cicd.io/identity": name});
        if let Some(a) = annotation {
            v["metadata"]["annotations"] = json!({"kubectl-cicd.io/intended-rules": a});
        }
        v
    };
    let json_of = |rules: &[Rule]| serde_json::to_string(rules).unwrap();
    let objects = vec![
        // same rules, different order and split: no drift
        managed(
            "same",
            &[
                r(&["apps"], &["deployments"], &["create"]),
                r(&["apps"], &["deployments"], &["get"]),
            ],
            Some(json_of(&intended)),
        ),
        managed(
            "changed",
            &[
                r(&["apps"], &["deployments"], &["get"]),
                r(&[""], &["secrets"], &["get"]),
            ],
            Some(json_of(&intended)),
        ),
        managed("unknown", &intended, None),
        managed("garbled", &intended, Some("not json".into())),
        // not managed: never drift
        role("x", "hand-made", &intended),
    ];
    let findings = run(&objects, &in_ns("x"));
    let drift: BTreeMap<&str, &Finding> = findings
        .iter()
        .filter(|f| f.rule == "drift")
        .map(|f| (f.subject.name.as_str(), f))
        .collect();
    assert_eq!(
        drift.keys().copied().collect::<Vec<_>>(),
        ["changed", "garbled", "unknown"]
    );
    let changed = drift["changed"];
    assert_eq!(changed.subject.kind, "Role");
    assert!(changed.evidence.contains(r#"holds {APIGroups:[""], Resources:["secrets"], Verbs:["get"]} that init did not grant"#), "{}", changed.evidence);
    assert!(changed.evidence.contains(r#"lacks {APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]} that init granted"#), "{}", changed.evidence);
    assert!(
        changed
            .remediation
            .contains("kubectl cicd init --name changed -n x")
    );
    assert!(
        drift["unknown"]
            .evidence
            .contains("no kubectl-cicd.io/intended-rules annotation")
    );
    assert!(drift["garbled"].evidence.contains("not a list of rules"));
}
