//! Accepting findings: ignore annotations (with and without a reason) and `--ignore` flags.

use super::*;

fn secrets_identity(
    sa_annotations: Value,
    rb_annotations: Value,
    second_binding: bool,
) -> Vec<Value> {
    let mut account = sa("x", "ci");
    account["metadata"]["annotations"] = sa_annotations;
    let mut binding = rb("x", "read", "Role", "read", sa_subject("x", "ci"));
    binding["metadata"]["annotations"] = rb_annotations;
    let mut out = vec![
        account,
        role("x", "read", &[r(&[""], &["secrets"], &["get"])]),
        binding,
    ];
    if second_binding {
        out.push(cluster_role(
            "read-too",
            &[r(&[""], &["secrets"], &["list"])],
        ));
        out.push(rb(
            "x",
            "read-too",
            "ClusterRole",
            "read-too",
            sa_subject("x", "ci"),
        ));
    }
    out
}

#[test]
fn annotation_exceptions_with_a_reason_accept_without_one_are_reported() {
    let ok = json!({"kubectl-cicd.io/ignore": "secrets-read",
                    "kubectl-cicd.io/ignore-reason": "Helm release state"});
    let bad = json!({"kubectl-cicd.io/ignore": "secrets-read"});
    // on the ServiceAccount
    let findings = run(&secrets_identity(ok.clone(), json!({}), true), &all());
    let f = of(&findings, "secrets-read", "ci")[0];
    let a = f.accepted.as_ref().expect("accepted");
    assert_eq!(a.reason, "Helm release state");
    assert_eq!(
        a.source,
        "annotation kubectl-cicd.io/ignore on ServiceAccount x/ci"
    );
    assert!(of(&findings, "invalid-exception", "ci").is_empty());
    // on the binding: accepted only when every grant behind the finding is covered
    let findings = run(&secrets_identity(json!({}), ok.clone(), false), &all());
    let a = of(&findings, "secrets-read", "ci")[0]
        .accepted
        .clone()
        .expect("accepted");
    assert_eq!(
        a.source,
        "annotation kubectl-cicd.io/ignore on RoleBinding x/read"
    );
    let findings = run(&secrets_identity(json!({}), ok, true), &all());
    assert!(
        of(&findings, "secrets-read", "ci")[0].accepted.is_none(),
        "RoleBinding x/read-too still grants it"
    );
    // without a reason: not applied, and reported
    let findings = run(&secrets_identity(bad, json!({}), false), &all());
    assert!(of(&findings, "secrets-read", "ci")[0].accepted.is_none());
    let invalid = of(&findings, "invalid-exception", "ci");
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0].subject.kind, "ServiceAccount");
    assert!(
        invalid[0]
            .evidence
            .contains("has no kubectl-cicd.io/ignore-reason annotation"),
        "{}",
        invalid[0].evidence
    );
    assert!(
        invalid[0]
            .remediation
            .contains("kubectl annotate serviceaccount ci -n x")
    );
    // unknown ids are reported; the known ones still apply
    let odd = json!({"kubectl-cicd.io/ignore": "secrets-read,secret-read",
                     "kubectl-cicd.io/ignore-reason": "Helm"});
    let findings = run(&secrets_identity(json!({}), odd, false), &all());
    assert!(of(&findings, "secrets-read", "ci")[0].accepted.is_some());
    let invalid = of(&findings, "invalid-exception", "read");
    assert_eq!(invalid[0].subject.kind, "RoleBinding");
    assert!(
        invalid[0]
            .evidence
            .contains("names unknown rule secret-read")
    );
}

#[test]
fn annotation_on_the_role_accepts() {
    let mut objects = secrets_identity(json!({}), json!({}), false);
    objects[1]["metadata"]["annotations"] = json!({"kubectl-cicd.io/ignore": "secrets-read",
        "kubectl-cicd.io/ignore-reason": "reviewed 2026-11"});
    let findings = run(&objects, &all());
    let a = of(&findings, "secrets-read", "ci")[0]
        .accepted
        .clone()
        .unwrap();
    assert_eq!(a.source, "annotation kubectl-cicd.io/ignore on Role x/read");
}

#[test]
fn ignore_flags_with_and_without_target() {
    let objects = {
        let mut o = secrets_identity(json!({}), json!({}), false);
        o.push(sa("x", "other"));
        o.push(rb(
            "x",
            "read-other",
            "Role",
            "read",
            sa_subject("x", "other"),
        ));
        o
    };
    let with = |flags: &[&str]| {
        analyze(
            &from_objects(&objects, NOW),
            &all(),
            &Options {
                ignores: flags.iter().map(|f| parse_ignore(f).unwrap()).collect(),
                ..Options::default()
            },
        )
    };
    let findings = with(&["secrets-read"]);
    assert!(of(&findings, "secrets-read", "ci")[0].accepted.is_some());
    assert!(of(&findings, "secrets-read", "other")[0].accepted.is_some());
    let findings = with(&["secrets-read:x/ci"]);
    let a = of(&findings, "secrets-read", "ci")[0]
        .accepted
        .clone()
        .unwrap();
    assert_eq!(a.source, "--ignore secrets-read:x/ci");
    assert!(of(&findings, "secrets-read", "other")[0].accepted.is_none());
    // by an object involved: the Role both share
    let findings = with(&["secrets-read:x/read"]);
    assert!(of(&findings, "secrets-read", "other")[0].accepted.is_some());
    // another rule: nothing
    let findings = with(&["wildcard"]);
    assert!(findings.iter().all(|f| f.accepted.is_none()));
    let summary = summarize(&with(&["secrets-read:x/ci"]));
    assert_eq!(summary.accepted, 1);
}
