//! The objects `kubectl cicd init` creates, per preset, and init's risk categories.

use super::*;

/// The objects `kubectl cicd init --preset NAME --yes` creates in team-a (ServiceAccount,
/// Role with its intended-rules annotation, RoleBinding, token Secret).
fn init_objects(preset: &str) -> Vec<Value> {
    use crate::init::objects::desired;
    use crate::init::plan::{Choices, Plan, TokenPlan};
    use crate::issue::write::DEFAULT_OUTPUT;
    use crate::managed::{Provenance, TokenRecord};
    use crate::rbac::{ServedKind, presets};
    let preset = presets::by_name(preset).expect("preset");
    let served: Vec<ServedKind> = preset
        .wants
        .iter()
        .map(|w| {
            ServedKind::new(
                &w.group,
                "v1",
                &w.resource,
                &w.resource,
                true,
                crate::rbac::READ_WRITE_VERBS,
            )
        })
        .collect();
    let resolution = preset.resolve(&served);
    let plan = Plan::new(
        "team-a",
        Choices {
            name: "ci-cd".into(),
            selections: resolution.selections,
            skipped: resolution.skipped,
            token: TokenPlan::Secret,
            output: DEFAULT_OUTPUT.into(),
            overwrite: false,
            allow_risky: true,
            server: None,
        },
    )
    .expect("plan");
    let d = desired(
        &plan,
        &Provenance {
            created_by: "alice".into(),
            created_at: NOW.into(),
        },
        &TokenRecord::secret(&plan.fresh_token_secret_name()),
    );
    let mut out = vec![
        serde_json::to_value(&d.service_account).unwrap(),
        serde_json::to_value(&d.role).unwrap(),
        serde_json::to_value(&d.role_binding).unwrap(),
    ];
    // The API server stamps the creation time; the token controller fills the rest.
    out.extend(d.token_secret.map(|s| {
        let mut secret = serde_json::to_value(&s).unwrap();
        secret["metadata"]["creationTimestamp"] = json!(NOW);
        secret
    }));
    out
}

#[test]
fn a_web_app_identity_has_no_finding_at_medium_or_above() {
    let objects = sandbox_objects(&init_objects("web-app"));
    for scope in [only_sa("team-a", "ci-cd"), in_ns("team-a")] {
        let findings = run(&objects, &scope);
        let ci: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.subject.name == "ci-cd")
            .collect();
        for f in &ci {
            assert!(f.severity > Severity::Medium, "below medium: {f:#?}");
        }
        let ids: BTreeSet<&str> = ci.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(
            ids,
            BTreeSet::from(["workload-create", "network-write", "long-lived-token"]),
            "{ci:#?}"
        );
    }
    // The same token Secret, not rotated for longer than 90 days, is medium again.
    let mut stale = objects.clone();
    for o in &mut stale {
        if o["kind"] == "Secret" {
            o["metadata"]["creationTimestamp"] = json!("2026-08-01T00:00:00Z");
        }
    }
    let findings = run(&stale, &only_sa("team-a", "ci-cd"));
    let token = of(&findings, "long-lived-token", "ci-cd")[0];
    assert_eq!(token.severity, Severity::Medium, "{}", token.evidence);
    assert!(
        token.remediation.contains("kubectl cicd rotate ci-cd"),
        "{}",
        token.remediation
    );
    // and the whole namespace gates nothing at high: alice and bob are people (info)
    let findings = run(&objects, &in_ns("team-a"));
    assert!(
        findings.iter().all(|f| f.severity > Severity::High),
        "{findings:#?}"
    );
}

#[test]
fn the_welkin_demo_role_is_flagged_secrets_read_at_high_with_the_helm_explanation() {
    let objects = sandbox_objects(&init_objects("welkin-demo"));
    let findings = run(&objects, &only_sa("team-a", "ci-cd"));
    let secrets = of(&findings, "secrets-read", "ci-cd");
    assert_eq!(secrets.len(), 1, "{findings:#?}");
    let f = secrets[0];
    assert_eq!(f.severity, Severity::High);
    assert!(
        f.evidence
            .contains("get, list, watch secrets in namespace team-a"),
        "{}",
        f.evidence
    );
    assert!(
        f.evidence
            .contains("RoleBinding team-a/ci-cd to Role team-a/ci-cd")
    );
    for needle in [
        "Helm 3 stores each release's state in Secrets",
        "Welkin",
        "`helm` preset",
        "dedicated namespace",
    ] {
        assert!(
            f.remediation.contains(needle),
            "{needle}: {}",
            f.remediation
        );
    }
    assert!(
        findings.iter().all(|f| f.severity > Severity::Critical),
        "{findings:#?}"
    );
    assert!(
        of(&findings, "drift", "ci-cd").is_empty(),
        "init's intent matches"
    );
    let tok = of(&findings, "token-create", "ci-cd");
    assert!(tok[0].remediation.contains("Helm"), "{tok:#?}");
}

/// Every risk category `init` knows is audited too.
#[test]
fn every_init_risk_category_is_audited() {
    for &cat in RiskCategory::ALL {
        let rule = match cat.probe() {
            Some(p) => Rule::new([p.verb.as_str()])
                .with_groups([p.group.as_str()])
                .with_resources([p.combined_resource()]),
            None => r(&["apps"], &["deployments"], &["*"]),
        };
        let (ids, findings) = fired(std::slice::from_ref(&rule), true);
        assert!(
            findings.iter().any(|f| f.severity < Severity::Info),
            "{cat} ({rule}) is not audited: {ids:?}"
        );
    }
}
