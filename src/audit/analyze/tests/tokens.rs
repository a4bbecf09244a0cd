//! Token Secrets: long-lived and stale.

use super::*;

#[test]
fn tokens_long_lived_and_stale() {
    let token = |name: &str, created: &str, labels: Value| {
        json!({"kind": "Secret", "type": "kubernetes.io/service-account-token",
               "metadata": {"name": name, "namespace": "x", "creationTimestamp": created,
                            "labels": labels,
                            "annotations": {"kubernetes.io/service-account.name": "ci"}}})
    };
    let objects = vec![
        sa("x", "ci"),
        token("fresh", "2026-11-01T00:00:00Z", json!({})),
        token("old-unused", "2026-01-01T00:00:00Z", json!({})),
        token(
            "used-long-ago",
            "2025-01-01T00:00:00Z",
            json!({"kubernetes.io/legacy-token-last-used": "2026-03-01"}),
        ),
        token(
            "used-recently",
            "2025-01-01T00:00:00Z",
            json!({"kubernetes.io/legacy-token-last-used": "2026-11-20"}),
        ),
        token(
            "invalidated",
            "2025-01-01T00:00:00Z",
            json!({"kubernetes.io/legacy-token-invalid-since": "2026-10-01"}),
        ),
    ];
    let findings = run(&objects, &all());
    let long = of(&findings, "long-lived-token", "ci");
    assert_eq!(long.len(), 5);
    let fresh = long
        .iter()
        .find(|f| f.evidence.contains("x/fresh"))
        .unwrap();
    assert!(
        fresh
            .evidence
            .contains("created 2026-11-01T00:00:00Z (26 days ago)"),
        "{}",
        fresh.evidence
    );
    assert!(fresh.evidence.contains("no recorded use"));
    let used = long
        .iter()
        .find(|f| f.evidence.contains("x/used-recently"))
        .unwrap();
    assert!(
        used.evidence.contains("last used 2026-11-20 (7 days ago)"),
        "{}",
        used.evidence
    );
    let invalid = long
        .iter()
        .find(|f| f.evidence.contains("x/invalidated"))
        .unwrap();
    assert!(invalid.evidence.contains("invalid since 2026-10-01"));
    assert!(
        fresh
            .remediation
            .contains("kubectl delete secret -n x fresh")
    );
    let unused = of(&findings, "unused-identity", "ci");
    assert_eq!(unused.len(), 1);
    let e = &unused[0].evidence;
    assert!(
        e.contains("old-unused has no recorded use") && e.contains("330 days ago"),
        "{e}"
    );
    assert!(
        e.contains("used-long-ago was last used on 2026-03-01"),
        "{e}"
    );
    assert!(
        e.contains("invalidated was invalidated on 2026-10-01"),
        "{e}"
    );
    assert!(!e.contains("fresh") && !e.contains("used-recently"), "{e}");
    // an exception on the Secret accepts the token finding
    let mut objects = objects;
    objects[1]["metadata"]["annotations"]["kubectl-cicd.io/ignore"] = json!("long-lived-token");
    objects[1]["metadata"]["annotations"]["kubectl-cicd.io/ignore-reason"] =
        json!("legacy runner, rotation planned");
    let findings = run(&objects, &all());
    let accepted: Vec<&Finding> = of(&findings, "long-lived-token", "ci")
        .into_iter()
        .filter(|f| f.accepted.is_some())
        .collect();
    assert_eq!(accepted.len(), 1);
    assert!(accepted[0].evidence.contains("x/fresh"));
    // a custom threshold
    let strict = analyze(
        &from_objects(&objects, NOW),
        &all(),
        &Options {
            unused_token_days: 10,
            ..Options::default()
        },
    );
    assert!(
        of(&strict, "unused-identity", "ci")[0]
            .evidence
            .contains("fresh")
    );
}
