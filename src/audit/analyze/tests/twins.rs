//! Every rule on its twin objects (tests/fixtures/audit/twins.yaml), the sandbox's default
//! cluster, and the order and summary of the findings.

use super::*;

/// Every catalogue rule fires on its positive twin and not on its negative twin, with the
/// fixture seeded into a sandbox-like cluster (its defaults included), and its audit log.
#[test]
fn every_rule_fires_on_its_positive_twin_and_not_on_its_negative() {
    let snapshot = from_objects(&sandbox_objects(&twins()), NOW);
    let findings = analyze(&snapshot, &all(), &twins_options());
    let on = |f: &Finding, who: &str| {
        f.subject.name == who || f.subject.namespace.as_deref() == Some(who)
    };
    let mut problems = Vec::new();
    for rule in rules::catalogue() {
        let pos = format!("pos-{}", rule.id);
        let neg = format!("neg-{}", rule.id);
        if !findings.iter().any(|f| f.rule == rule.id && on(f, &pos)) {
            problems.push(format!("{} does not fire on {pos}", rule.id));
        }
        for f in findings.iter().filter(|f| f.rule == rule.id && on(f, &neg)) {
            problems.push(format!("{} fires on {neg}: {}", rule.id, f.evidence));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // the twins are open findings, the annotated negative exception is accepted
    let accepted: Vec<&Finding> = findings.iter().filter(|f| f.accepted.is_some()).collect();
    assert_eq!(accepted.len(), 1, "{accepted:#?}");
    assert_eq!(accepted[0].subject.name, "neg-invalid-exception");
}

#[test]
fn the_twins_parse_through_from_objects_alone() {
    // Without the sandbox: the fixture's own objects are enough for the rules that do
    // not need the sandbox's built-in roles (all of them: the fixture defines its own).
    let objects: Vec<Value> = twins();
    let snap = from_objects(&objects, NOW);
    assert!(snap.service_accounts.len() > 50);
    assert_eq!(snap.token_secrets.len(), 1);
    let findings = analyze(&snap, &all(), &twins_options());
    for rule in rules::catalogue() {
        let pos = format!("pos-{}", rule.id);
        assert!(
            findings.iter().any(|f| f.rule == rule.id
                && (f.subject.name == pos || f.subject.namespace.as_deref() == Some(&pos))),
            "{}",
            rule.id
        );
    }
}

#[test]
fn a_default_cluster_is_quiet() {
    let findings = run(&sandbox_objects(&[]), &all());
    for f in &findings {
        assert_eq!(f.severity, Severity::Info, "{f:#?}");
        assert_eq!(f.subject.kind, "User", "only people, at info: {f:#?}");
        assert!(
            ["alice", "bob"].contains(&f.subject.name.as_str()),
            "{f:#?}"
        );
    }
    // alice is admin of team-a (through the aggregated admin ClusterRole)
    let alice = ids_for(&findings, "alice");
    for id in ["secrets-read", "pod-exec", "rbac-write", "workload-create"] {
        assert!(alice.contains(id), "{alice:?}");
    }
    // system:masters, system:authenticated, the default ServiceAccounts: nothing
    assert!(
        !findings
            .iter()
            .any(|f| f.subject.name.starts_with("system:")
                || f.subject.name == "default"
                || f.subject.name == "cluster-admin")
    );
    // the same, rated: alice's admin grant is high
    let rated = analyze(
        &from_objects(&sandbox_objects(&[]), NOW),
        &all(),
        &Options {
            people: PeoplePolicy::Rate,
            ..Options::default()
        },
    );
    assert!(of(&rated, "secrets-read", "alice")[0].severity == Severity::High);
    let skipped = analyze(
        &from_objects(&sandbox_objects(&[]), NOW),
        &all(),
        &Options {
            people: PeoplePolicy::Skip,
            ..Options::default()
        },
    );
    assert!(skipped.is_empty(), "{skipped:#?}");
}

#[test]
fn findings_are_sorted_and_summarized() {
    let findings = run(&sandbox_objects(&twins()), &all());
    let keys: Vec<(Severity, &SubjectRef, &str)> = findings
        .iter()
        .map(|f| (f.severity, &f.subject, f.rule.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    for f in &findings {
        assert!(
            !f.evidence.is_empty() && !f.remediation.is_empty(),
            "{f:#?}"
        );
        assert!(
            !f.evidence.contains('\n') && !f.remediation.contains('\n'),
            "{f:#?}"
        );
        assert!(rules::rule(&f.rule).is_some());
    }
    let s = summarize(&findings);
    assert_eq!(s.by_severity.len(), 5);
    let open: usize = s.by_severity.values().sum();
    assert_eq!(open + s.accepted, findings.len());
    assert!(s.by_severity["critical"] > 0 && s.by_severity["info"] > 0);
    let distinct: BTreeSet<&SubjectRef> = findings.iter().map(|f| &f.subject).collect();
    assert_eq!(s.subjects, distinct.len());
    let empty = summarize(&[]);
    assert_eq!(empty.accepted, 0);
    assert_eq!(empty.subjects, 0);
    assert_eq!(empty.by_severity["high"], 0);
    // deterministic
    // deterministic, whatever order the lists come in
    let objects = sandbox_objects(&twins());
    let once = run(&objects, &all());
    let reversed: Vec<Value> = objects.into_iter().rev().collect();
    assert_eq!(once, run(&reversed, &all()));
}
