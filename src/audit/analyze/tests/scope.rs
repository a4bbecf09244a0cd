//! What `-n` and `--sa` scopes audit.

use super::*;

fn scoped_objects() -> Vec<Value> {
    let secrets = [r(&[""], &["secrets"], &["get"])];
    vec![
        sa("a", "ci"),
        sa("b", "ci"),
        sa("b", "wide"),
        role("a", "read", &secrets),
        role("b", "read", &secrets),
        rb("a", "ci", "Role", "read", sa_subject("a", "ci")),
        rb("b", "ci", "Role", "read", sa_subject("b", "ci")),
        // a's ServiceAccount also reads in b: audited with a
        rb("b", "a-ci", "Role", "read", sa_subject("a", "ci")),
        cluster_role("reader", &[r(&[""], &["configmaps"], &["get"])]),
        crb("b-wide", "reader", sa_subject("b", "wide")),
        rb(
            "a",
            "carol",
            "Role",
            "read",
            json!([{"kind": "User", "name": "carol"}]),
        ),
        rb(
            "b",
            "dave",
            "Role",
            "read",
            json!([{"kind": "User", "name": "dave"}]),
        ),
        rb(
            "a",
            "gone",
            "Role",
            "gone",
            json!([{"kind": "User", "name": "carol"}]),
        ),
        rb(
            "b",
            "gone",
            "Role",
            "gone",
            json!([{"kind": "User", "name": "dave"}]),
        ),
    ]
}

#[test]
fn namespace_scope() {
    let findings = run(&scoped_objects(), &in_ns("a"));
    assert_eq!(
        subjects(&findings),
        BTreeSet::from([
            "ServiceAccount a/ci".to_string(),
            "User carol".to_string(),
            "RoleBinding a/gone".to_string()
        ]),
        "{findings:#?}"
    );
    let f = of(&findings, "secrets-read", "ci")[0];
    assert!(
        f.evidence
            .contains("in namespace b through RoleBinding b/a-ci"),
        "{}",
        f.evidence
    );
    let findings = run(&scoped_objects(), &in_ns("b"));
    assert_eq!(
        subjects(&findings),
        BTreeSet::from([
            "ServiceAccount b/ci".to_string(),
            "ServiceAccount b/wide".to_string(),
            "User dave".to_string(),
            "RoleBinding b/gone".to_string()
        ]),
        "{findings:#?}"
    );
    assert!(!of(&findings, "cluster-wide-binding", "wide").is_empty());
    // a ClusterRoleBinding reaching into a namespace is audited there
    let findings = run(&scoped_objects(), &all());
    assert_eq!(subjects(&findings).len(), 7);
    assert!(
        run(&scoped_objects(), &Scope::default()).is_empty(),
        "empty scope"
    );
}

#[test]
fn service_account_scope() {
    let findings = run(&scoped_objects(), &only_sa("a", "ci"));
    assert_eq!(
        subjects(&findings),
        BTreeSet::from(["ServiceAccount a/ci".to_string()])
    );
    let findings = run(
        &scoped_objects(),
        &Scope {
            service_account: Some("ci".into()),
            ..Scope::default()
        },
    );
    assert_eq!(
        subjects(&findings),
        BTreeSet::from([
            "ServiceAccount a/ci".to_string(),
            "ServiceAccount b/ci".to_string()
        ]),
        "no namespace given: that name in any namespace"
    );
    // --sa sees a missing-role binding naming it, its token, and a broad-group binding
    let mut objects = scoped_objects();
    objects.push(rb("a", "ci-gone", "Role", "gone", sa_subject("a", "ci")));
    objects.push(rb(
        "a",
        "everyone",
        "Role",
        "read",
        json!([{"kind": "Group", "name": "system:serviceaccounts:a"}]),
    ));
    objects.push(
        json!({"kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "ci-token", "namespace": "a",
                     "annotations": {"kubernetes.io/service-account.name": "ci"}}}),
    );
    let findings = run(&objects, &only_sa("a", "ci"));
    let labels = subjects(&findings);
    assert!(labels.contains("RoleBinding a/ci-gone"), "{labels:?}");
    assert!(labels.contains("RoleBinding a/everyone"), "{labels:?}");
    let everyone = of(&findings, "broad-group-binding", "everyone");
    assert!(
        everyone[0]
            .evidence
            .ends_with("It reaches the audited ServiceAccount ci.")
    );
    assert!(!labels.contains("RoleBinding a/gone"), "{labels:?}");
    assert!(!of(&findings, "long-lived-token", "ci").is_empty());
}
