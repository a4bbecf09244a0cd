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

#[test]
fn unused_permission_names_what_the_audit_log_shows_no_use_of() {
    use crate::auditlog::{Decision, Event, Usages};
    let managed = |name: &str, rules: &[Rule]| {
        let mut v = role("x", name, rules);
        let labels = json!({"app.kubernetes.io/managed-by": "kubectl-cicd",
                            "kubectl-cicd.io/identity": name});
        v["metadata"]["labels"] = labels.clone();
        v["metadata"]["annotations"] =
            json!({"kubectl-cicd.io/intended-rules": serde_json::to_string(rules).unwrap()});
        let mut binding = rb("x", name, "Role", name, sa_subject("x", name));
        binding["metadata"]["labels"] = labels;
        vec![sa("x", name), v, binding]
    };
    let web = [
        r(&["apps"], &["deployments"], &["get", "create", "delete"]),
        r(&["networking.k8s.io"], &["ingresses"], &["get", "create"]),
    ];
    let mut objects = managed("used", &web);
    objects.extend(managed("idle", &web));
    objects.extend(managed(
        "exact",
        &[r(&["apps"], &["deployments"], &["get"])],
    ));
    // Not made by kubectl-cicd: never this rule.
    objects.push(sa("x", "hand-made"));
    objects.push(role("x", "hand-made", &web));
    objects.push(rb(
        "x",
        "hand-made",
        "Role",
        "hand-made",
        sa_subject("x", "hand-made"),
    ));

    let mut usage = Usages {
        first: Some(1_767_225_600),
        last: Some(1_767_225_600 + 10 * 86_400),
        logs: vec!["audit.log".into(), "old logs/audit-1.log.gz".into()],
        ..Usages::default()
    };
    for (who, verb) in [("used", "get"), ("used", "create"), ("exact", "get")] {
        let user = format!("system:serviceaccount:x:{who}");
        usage.by_user.entry(user.clone()).or_default().add(&Event {
            user,
            stage: "ResponseComplete".into(),
            verb: verb.into(),
            group: "apps".into(),
            resource: "deployments".into(),
            subresource: String::new(),
            namespace: "x".into(),
            name: "web".into(),
            path: String::new(),
            code: 200,
            decision: Decision::Allowed,
            time: Some(1_767_225_600),
        });
    }
    let options = Options {
        usage: Some(usage),
        ..Options::default()
    };
    let findings = analyze(&from_objects(&objects, NOW), &in_ns("x"), &options);
    let unused: BTreeMap<&str, &Finding> = findings
        .iter()
        .filter(|f| f.rule == "unused-permission")
        .map(|f| (f.subject.name.as_str(), f))
        .collect();
    assert_eq!(unused.keys().copied().collect::<Vec<_>>(), ["idle", "used"]);
    let used = unused["used"];
    assert_eq!(used.severity, Severity::Low);
    assert_eq!(used.subject.kind, "ServiceAccount");
    assert!(
        used.evidence.contains("Role x/used grants what the audit log (audit.log, old logs/audit-1.log.gz from 2026-01-01T00:00:00Z to 2026-01-11T00:00:00Z, 2 requests of the identity) shows no use of: deployments.apps (delete), ingresses.networking.k8s.io (get create)."),
        "{}",
        used.evidence
    );
    assert!(
        used.remediation.contains(
            "kubectl cicd tighten used -n x --audit-log audit.log --audit-log 'old logs/audit-1.log.gz'"
        ),
        "{}",
        used.remediation
    );
    assert!(
        unused["idle"]
            .evidence
            .contains("no request of the identity")
    );

    // Without a log, the rule is not checked at all.
    let without = analyze(
        &from_objects(&objects, NOW),
        &in_ns("x"),
        &Options::default(),
    );
    assert!(!without.iter().any(|f| f.rule == "unused-permission"));
}
