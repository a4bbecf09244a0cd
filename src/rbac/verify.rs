//! Verification of a new identity: given the rules `init` meant to grant and
//! the rules a SelfSubjectRulesReview returned *as that identity*, check that
//!
//! * (a) every intended tuple is granted (server coverage semantics, so a
//!   review that returns exactly the intended Role passes), and
//! * (b) no risky grant that was not asked for is present (the blocking
//!   categories of the risk catalogue, wildcards included).
//!
//! Grants beyond the intended ones are listed in [`Verification::extra`]
//! (informational). The defaults every real cluster gives every authenticated
//! user or ServiceAccount ([`baseline_rules`]) are never counted as extra.

use crate::rbac::compact::server_compact;
use crate::rbac::covers::{any_covers, breakdown, covers};
use crate::rbac::gofmt::compact_string;
use crate::rbac::matching::{Request, rules_allow_ignoring_name};
use crate::rbac::risk::{Risk, RiskCategory, risky_findings};
use crate::rbac::rule::Rule;
use serde::Serialize;

/// What a fresh identity holds on any cluster, from the bootstrap policy
/// (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`):
/// `system:basic-user` and `system:discovery` / `system:public-info-viewer`
/// (bound to `system:authenticated`), and `system:service-account-issuer-discovery`
/// (bound to `system:serviceaccounts`).
pub fn baseline_rules() -> Vec<Rule> {
    vec![
        Rule::resource(
            &["authorization.k8s.io"],
            &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            &["create"],
        ),
        Rule::resource(
            &["authentication.k8s.io"],
            &["selfsubjectreviews"],
            &["create"],
        ),
        Rule::non_resource(
            &[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/readyz",
                "/openapi",
                "/openapi/*",
                "/version",
                "/version/",
            ],
            &["get"],
        ),
        Rule::non_resource(
            &[
                "/.well-known/openid-configuration",
                "/.well-known/openid-configuration/",
                "/openid/v1/jwks",
                "/openid/v1/jwks/",
            ],
            &["get"],
        ),
    ]
}

/// One line of the can/cannot table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRow {
    /// `create`, `get`, ...
    pub verb: String,
    /// `deployments.apps`, `secrets "name"`, `/healthz`.
    pub target: String,
    /// Whether the identity holds it.
    pub allowed: bool,
    /// Whether `init` meant to grant it.
    pub wanted: bool,
}

impl CheckRow {
    fn new(verb: &str, target: String, allowed: bool, wanted: bool) -> Self {
        CheckRow {
            verb: verb.to_string(),
            target,
            allowed,
            wanted,
        }
    }

    fn for_request(req: &Request, allowed: bool, wanted: bool) -> Self {
        let target = req.to_string()[req.verb.len() + 1..].to_string();
        CheckRow::new(&req.verb, target, allowed, wanted)
    }

    /// `create deployments.apps`.
    pub fn action(&self) -> String {
        format!("{} {}", self.verb, self.target)
    }

    /// True when what is held is what was wanted.
    pub fn ok(&self) -> bool {
        self.allowed == self.wanted
    }

    /// `ok`, `MISSING` or `UNEXPECTED`.
    pub fn result(&self) -> &'static str {
        match (self.allowed, self.wanted) {
            (true, true) | (false, false) => "ok",
            (false, true) => "MISSING",
            (true, false) => "UNEXPECTED",
        }
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Intended tuples, then risky probes, then unexpected risky actions.
    pub rows: Vec<CheckRow>,
    /// Intended rules not granted, worded like the server's escalation error.
    pub missing: Vec<Rule>,
    /// Risky grants present that were not asked for (blocking categories only).
    pub unexpected_risky: Vec<Risk>,
    /// Everything else granted beyond the intended rules and the baseline.
    pub extra: Vec<Rule>,
}

impl Verification {
    /// True when (a) nothing intended is missing and (b) nothing risky is extra.
    pub fn passed(&self) -> bool {
        self.missing.is_empty() && self.unexpected_risky.is_empty()
    }

    /// One line for humans.
    pub fn summary(&self) -> String {
        let wanted = self.rows.iter().filter(|r| r.wanted).count();
        let present = self.rows.iter().filter(|r| r.wanted && r.allowed).count();
        let mut parts = vec![format!("{present} of {wanted} wanted permissions granted")];
        if !self.unexpected_risky.is_empty() {
            let mut cats: Vec<&str> = self
                .unexpected_risky
                .iter()
                .map(|r| r.category.id())
                .collect();
            cats.dedup();
            parts.push(format!("unexpected risky grants: {}", cats.join(", ")));
        } else {
            parts.push("no unexpected risky grants".to_string());
        }
        if !self.extra.is_empty() {
            parts.push(format!("{} other extra rule(s)", self.extra.len()));
        }
        parts.join("; ")
    }
}

fn row_of(sub: &Rule, allowed: bool) -> CheckRow {
    match (
        sub.api_groups.first(),
        sub.resources.first(),
        sub.non_resource_urls.first(),
    ) {
        (Some(group), Some(resource), _) => {
            let mut req = Request::parse(&sub.verbs[0], group, resource);
            req.name = sub.resource_names.first().cloned();
            CheckRow::for_request(&req, allowed, true)
        }
        (_, _, Some(url)) => CheckRow::new(&sub.verbs[0], url.clone(), allowed, true),
        _ => CheckRow::new("", compact_string(sub), allowed, true),
    }
}

/// Splits mixed rules into their resource and non-resource parts.
pub fn review_shape(rules: &[Rule]) -> Vec<Rule> {
    rules
        .iter()
        .flat_map(|r| r.resource_part().into_iter().chain(r.non_resource_part()))
        .collect()
}

fn push_row(rows: &mut Vec<CheckRow>, row: CheckRow) {
    if !rows
        .iter()
        .any(|r| r.verb == row.verb && r.target == row.target)
    {
        rows.push(row);
    }
}

/// Risky findings in `granted` that `intended` did not ask for.
fn unexpected_risks(intended: &[Rule], granted: &[Rule]) -> Vec<Risk> {
    risky_findings(granted)
        .into_iter()
        .filter(Risk::blocks_init)
        .filter_map(|mut risk| {
            if risk.category == RiskCategory::Wildcard {
                return covers(intended, std::slice::from_ref(&risk.rule))
                    .is_err()
                    .then_some(risk);
            }
            risk.actions
                .retain(|a| !rules_allow_ignoring_name(intended, a));
            (!risk.actions.is_empty()).then_some(risk)
        })
        .collect()
}

/// Checks the rules a SelfSubjectRulesReview returned for the new identity
/// (`granted`) against what `init` meant to grant (`intended`).
///
/// Both sides are first put in review shape (mixed rules split into their
/// resource and non-resource parts, as a SelfSubjectRulesReview returns
/// them), which allows the same requests and avoids a quirk of the server's
/// coverage check: an owner rule that lists `resourceNames` next to URLs never
/// covers those URLs.
pub fn verify(intended: &[Rule], granted: &[Rule]) -> Verification {
    let intended = &review_shape(intended);
    let granted = &review_shape(granted);
    let mut rows: Vec<CheckRow> = Vec::new();

    for sub in intended.iter().flat_map(breakdown) {
        let row = row_of(&sub, any_covers(granted, &sub));
        push_row(&mut rows, row);
    }

    for probe in RiskCategory::ALL
        .iter()
        .filter(|c| c.blocks_init())
        .filter_map(|c| c.probe())
    {
        let row = CheckRow::for_request(
            &probe,
            rules_allow_ignoring_name(granted, &probe),
            rules_allow_ignoring_name(intended, &probe),
        );
        push_row(&mut rows, row);
    }

    let unexpected_risky = unexpected_risks(intended, granted);
    for risk in &unexpected_risky {
        if risk.actions.is_empty() {
            let row = CheckRow::new("*", compact_string(&risk.rule), true, false);
            push_row(&mut rows, row);
        }
        for action in &risk.actions {
            let row = CheckRow::for_request(action, true, false);
            push_row(&mut rows, row);
        }
    }

    let missing = covers(granted, intended).err().unwrap_or_default();

    let mut known = intended.to_vec();
    known.extend(baseline_rules());
    let mut extra: Vec<(String, Rule)> = server_compact(
        &granted
            .iter()
            .flat_map(breakdown)
            .filter(|sub| !any_covers(&known, sub))
            .collect::<Vec<_>>(),
    )
    .into_iter()
    .map(|r| (compact_string(&r), r))
    .collect();
    extra.sort_by(|a, b| a.0.cmp(&b.0));
    extra.dedup_by(|a, b| a.0 == b.0);

    Verification {
        rows,
        missing,
        unexpected_risky,
        extra: extra.into_iter().map(|(_, r)| r).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::builder::{Selection, build_role};
    use crate::rbac::kinds::ServedKind;
    use crate::rbac::presets;

    fn web_role() -> Vec<Rule> {
        vec![
            Rule::resource(
                &[""],
                &["configmaps", "services"],
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
            ),
            Rule::resource(
                &["apps"],
                &["deployments"],
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
            ),
        ]
    }

    fn review(extra: &[Rule]) -> Vec<Rule> {
        let mut r = web_role();
        r.extend(baseline_rules());
        r.extend(extra.iter().cloned());
        r
    }

    #[test]
    fn exact_grant_passes_and_baseline_is_not_extra() {
        let v = verify(&web_role(), &review(&[]));
        assert!(v.passed(), "{v:?}");
        assert!(v.missing.is_empty());
        assert!(v.extra.is_empty(), "{:?}", v.extra);
        assert!(v.unexpected_risky.is_empty());
        let wanted: Vec<&CheckRow> = v.rows.iter().filter(|r| r.wanted).collect();
        assert_eq!(wanted.len(), 21);
        assert!(v.rows.iter().all(CheckRow::ok));
        assert!(
            v.summary()
                .starts_with("21 of 21 wanted permissions granted; no unexpected risky grants")
        );
    }

    #[test]
    fn missing_grants_are_reported_like_the_server() {
        let granted = vec![Rule::resource(
            &["apps"],
            &["deployments"],
            &["get", "list", "watch"],
        )];
        let v = verify(&web_role(), &granted);
        assert!(!v.passed());
        let lines: Vec<String> = v.missing.iter().map(compact_string).collect();
        assert_eq!(
            lines,
            [
                r#"{APIGroups:[""], Resources:["configmaps"], Verbs:["create" "delete" "get" "list" "patch" "update" "watch"]}"#,
                r#"{APIGroups:[""], Resources:["services"], Verbs:["create" "delete" "get" "list" "patch" "update" "watch"]}"#,
                r#"{APIGroups:["apps"], Resources:["deployments"], Verbs:["create" "delete" "patch" "update"]}"#,
            ]
        );
        let row = v
            .rows
            .iter()
            .find(|r| r.action() == "create deployments.apps")
            .unwrap();
        assert_eq!(row.result(), "MISSING");
    }

    #[test]
    fn unexpected_risky_grants_fail() {
        let v = verify(
            &web_role(),
            &review(&[Rule::resource(&[""], &["secrets", "pods/exec"], &["get"])]),
        );
        assert!(!v.passed());
        let cats: Vec<RiskCategory> = v.unexpected_risky.iter().map(|r| r.category).collect();
        assert_eq!(cats, [RiskCategory::Secrets, RiskCategory::PodExec]);
        let row = v.rows.iter().find(|r| r.action() == "get secrets").unwrap();
        assert_eq!(row.result(), "UNEXPECTED");
        // the exec probe is "create pods/exec"; "get pods/exec" is listed as found
        assert!(
            v.rows
                .iter()
                .any(|r| r.action() == "get pods/exec" && r.result() == "UNEXPECTED")
        );
        assert_eq!(
            v.extra,
            vec![
                Rule::resource(&[""], &["pods/exec"], &["get"]),
                Rule::resource(&[""], &["secrets"], &["get"])
            ]
        );
        assert!(
            v.summary()
                .contains("unexpected risky grants: secrets, pod-exec")
        );
    }

    #[test]
    fn asked_for_risks_are_fine() {
        // the helm preset asks for secrets: granting them is not unexpected
        let mut intended = web_role();
        intended.push(Rule::resource(
            &[""],
            &["secrets"],
            &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ],
        ));
        let mut granted = intended.clone();
        granted.extend(baseline_rules());
        let v = verify(&intended, &granted);
        assert!(v.passed(), "{v:?}");
        let row = v.rows.iter().find(|r| r.action() == "get secrets").unwrap();
        assert!(row.allowed && row.wanted && row.ok());
    }

    #[test]
    fn partly_asked_risk_reports_only_the_rest() {
        let intended = vec![Rule::resource(&[""], &["secrets"], &["get"]).with_names(["release"])];
        let granted = vec![Rule::resource(&[""], &["secrets"], &["get", "list"])];
        let v = verify(&intended, &granted);
        assert_eq!(v.unexpected_risky.len(), 1);
        assert_eq!(
            v.unexpected_risky[0].actions,
            vec![Request::new("list", "", "secrets")]
        );
        assert!(v.missing.is_empty());
    }

    #[test]
    fn wildcard_grant_is_unexpected() {
        let v = verify(&web_role(), &[Rule::resource(&["*"], &["*"], &["*"])]);
        assert!(!v.passed());
        assert!(
            v.missing.is_empty(),
            "a wildcard covers everything intended"
        );
        assert_eq!(v.unexpected_risky[0].category, RiskCategory::Wildcard);
        assert!(
            v.rows
                .iter()
                .any(|r| r.action().starts_with("* {APIGroups:[\"*\"]")
                    && r.result() == "UNEXPECTED")
        );
        assert_eq!(v.extra, vec![Rule::resource(&["*"], &["*"], &["*"])]);
    }

    #[test]
    fn harmless_extras_are_listed_but_pass() {
        let v = verify(
            &web_role(),
            &review(&[
                Rule::resource(&["batch"], &["jobs"], &["get", "list"]),
                Rule::non_resource(&["/metrics"], &["get"]),
            ]),
        );
        assert!(v.passed());
        let lines: Vec<String> = v.extra.iter().map(compact_string).collect();
        assert_eq!(
            lines,
            [
                r#"{APIGroups:["batch"], Resources:["jobs"], Verbs:["get" "list"]}"#,
                r#"{NonResourceURLs:["/metrics"], Verbs:["get"]}"#
            ]
        );
        assert!(v.summary().contains("2 other extra rule(s)"));
    }

    #[test]
    fn named_intended_rules() {
        let intended =
            vec![Rule::resource(&[""], &["configmaps"], &["get", "update"]).with_names(["app"])];
        let v = verify(&intended, &intended);
        assert!(v.passed());
        assert!(
            v.rows
                .iter()
                .any(|r| r.action() == "update configmaps \"app\"" && r.ok())
        );
    }

    #[test]
    fn baseline_matches_a_real_review_shape() {
        // what `kubectl auth can-i --list` shows for a fresh ServiceAccount
        let v = verify(&[], &baseline_rules());
        assert!(v.passed());
        assert!(v.extra.is_empty());
        assert!(v.rows.iter().all(|r| !r.wanted && !r.allowed));
    }

    #[test]
    fn end_to_end_with_builder_and_preset() {
        let rw = &[
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ];
        let served = vec![
            ServedKind::new("apps", "v1", "deployments", "Deployment", true, rw),
            ServedKind::new(
                "",
                "v1",
                "services",
                "Service",
                true,
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
            ),
            ServedKind::new("networking.k8s.io", "v1", "ingresses", "Ingress", true, rw),
            ServedKind::new(
                "autoscaling",
                "v2",
                "horizontalpodautoscalers",
                "HorizontalPodAutoscaler",
                true,
                rw,
            ),
            ServedKind::new("", "v1", "configmaps", "ConfigMap", true, rw),
        ];
        let res = presets::web_app().resolve(&served);
        assert!(res.skipped.is_empty());
        let built = build_role(&res.selections);
        let mut granted = built.rules.clone();
        granted.extend(baseline_rules());
        let v = verify(&built.rules, &granted);
        assert!(v.passed());
        assert_eq!(v.rows.iter().filter(|r| r.wanted).count(), 35);
        let _ = Selection::new(served[0].clone());
    }

    #[test]
    fn mixed_rules_with_names_verify_against_themselves() {
        let mixed = vec![
            Rule::resource(&[""], &["configmaps"], &["get"])
                .with_names(["a"])
                .with_urls(["/metrics"]),
        ];
        assert!(verify(&mixed, &mixed).passed());
        assert_eq!(
            review_shape(&mixed),
            vec![
                Rule::resource(&[""], &["configmaps"], &["get"]).with_names(["a"]),
                Rule::non_resource(&["/metrics"], &["get"])
            ]
        );
    }

    #[test]
    fn row_text() {
        let url = row_of(&Rule::non_resource(&["/healthz"], &["get"]), true);
        assert_eq!(url.action(), "get /healthz");
        let scale = row_of(
            &Rule::resource(&["apps"], &["deployments/scale"], &["update"]),
            false,
        );
        assert_eq!(
            (scale.verb.as_str(), scale.target.as_str()),
            ("update", "deployments.apps/scale")
        );
        assert_eq!(scale.result(), "MISSING");
        let named = row_of(
            &Rule::resource(&[""], &["secrets"], &["get"]).with_names(["s"]),
            true,
        );
        assert_eq!(named.target, "secrets \"s\"");
        assert_eq!(
            row_of(&Rule::new(["get"]), true).target,
            "{Verbs:[\"get\"]}"
        );
    }
}
