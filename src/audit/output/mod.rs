//! Rendering a [`Report`]: a table for people, JSON and SARIF for pipelines, Markdown for
//! auditors, and the `--sa` access matrix. Pure functions from the report to text; `audit::run`
//! decides where the text goes.

pub mod fleet;
pub mod json;
pub mod markdown;
pub mod matrix;
pub mod sarif;
pub mod table;

use crate::audit::matrix::Matrix;
use crate::audit::model::{BaselineState, Finding, Report, Scope, Severity, SubjectRef};

/// Every severity, most severe first.
pub const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

/// What the renderers need besides the report.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// API server URL.
    pub server: &'a str,
    /// The kubeconfig context used.
    pub context: &'a str,
    /// `--fail-on`; `None` for `--fail-on none`.
    pub fail_on: Option<Severity>,
    /// Requests sent to the API server.
    pub requests: usize,
    /// `--sa`: the identity's access matrix.
    pub matrix: Option<&'a Matrix>,
    /// `--allow-gaps`: collections that could not be read do not fail the run.
    pub allow_gaps: bool,
}

/// The tool's name and version, for reports.
pub const TOOL_NAME: &str = env!("CARGO_PKG_NAME");
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Where the rules are documented.
pub const RULES_DOC: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/blob/main/docs/audit-rules.md"
);

pub use crate::audit::rules::severity_name;

/// Does this finding fail the run at `fail_on`? Accepted findings never do, and with a
/// baseline only new ones do.
pub fn gates(f: &Finding, fail_on: Option<Severity>) -> bool {
    f.accepted.is_none()
        && f.baseline.is_none_or(|b| b == BaselineState::New)
        && fail_on.is_some_and(|t| f.severity <= t)
}

/// Open findings at or above `--fail-on`.
pub fn failing(report: &Report, fail_on: Option<Severity>) -> usize {
    report.findings.iter().filter(|f| gates(f, fail_on)).count()
}

/// Open findings per severity, most severe first (all five, zeros included).
pub fn open_counts(findings: &[Finding]) -> [(Severity, usize); 5] {
    SEVERITIES.map(|s| {
        (
            s,
            findings
                .iter()
                .filter(|f| f.accepted.is_none() && f.severity == s)
                .count(),
        )
    })
}

/// The report with every string from the cluster made safe for a terminal and kept on one
/// line ([`crate::text::one_line`]): what the human renderers (table, Markdown) print. JSON
/// and SARIF render the report as it is.
pub fn printable_report(report: &Report) -> Report {
    let clean = |s: &str| crate::text::one_line(s);
    let subject = |s: &SubjectRef| SubjectRef {
        kind: clean(&s.kind),
        name: clean(&s.name),
        namespace: s.namespace.as_deref().map(clean),
    };
    let mut out = report.clone();
    out.scope.namespaces = report.scope.namespaces.iter().map(|n| clean(n)).collect();
    out.scope.service_account = report.scope.service_account.as_deref().map(clean);
    out.generated_at = clean(&report.generated_at);
    out.generated_by = clean(&report.generated_by);
    out.cluster = clean(&report.cluster);
    out.gaps = report.gaps.iter().map(|g| clean(g)).collect();
    for f in &mut out.findings {
        f.rule = clean(&f.rule);
        f.subject = subject(&f.subject);
        for v in &mut f.via {
            v.binding = clean(&v.binding);
            v.role = clean(&v.role);
        }
        f.evidence = clean(&f.evidence);
        f.remediation = clean(&f.remediation);
        if let Some(a) = &mut f.accepted {
            a.reason = clean(&a.reason);
            a.source = clean(&a.source);
        }
        if let Some(at) = &mut f.location {
            at.file = clean(&at.file);
        }
    }
    for f in &mut out.fixed {
        f.rule = clean(&f.rule);
        f.subject = subject(&f.subject);
    }
    out.baseline_file = report.baseline_file.as_deref().map(clean);
    out
}

/// `ServiceAccount team-a/ci`, `User alice`, `ClusterRole edit`.
pub fn subject_text(s: &SubjectRef) -> String {
    match &s.namespace {
        Some(ns) => format!("{} {ns}/{}", s.kind, s.name),
        None => format!("{} {}", s.kind, s.name),
    }
}

/// `namespace team-a`, `all namespaces`, with `--sa` when given.
pub fn scope_text(scope: &Scope) -> String {
    let base = if scope.all_namespaces {
        "all namespaces".to_string()
    } else {
        match scope.namespaces.as_slice() {
            [one] => format!("namespace {one}"),
            many => format!("namespaces {}", many.join(", ")),
        }
    };
    match &scope.service_account {
        Some(sa) => format!("{base}, ServiceAccount {sa}"),
        None => base,
    }
}

/// How a finding's rights reach its subject: `RoleBinding team-a/x → Role team-a/x; ...`.
pub fn via_text(f: &Finding) -> String {
    f.via
        .iter()
        .map(|v| format!("{} → {}", v.binding, v.role))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The rule's one-line title, why and fix from the catalogue (empty for an unknown id).
pub fn rule_texts(id: &str) -> (&'static str, &'static str, &'static str) {
    match crate::audit::rules::rule(id) {
        Some(info) => (info.title, info.why, info.fix),
        None => ("", "", ""),
    }
}

/// Findings grouped by subject: subjects with the most severe open finding first, then by
/// name; within a subject, open before accepted, most severe first, then by rule.
pub fn by_subject(findings: &[Finding]) -> Vec<(&SubjectRef, Vec<&Finding>)> {
    let mut groups: Vec<(&SubjectRef, Vec<&Finding>)> = Vec::new();
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| a.subject.cmp(&b.subject));
    for f in sorted {
        match groups.last_mut() {
            Some((s, list)) if *s == &f.subject => list.push(f),
            _ => groups.push((&f.subject, vec![f])),
        }
    }
    for (_, list) in &mut groups {
        list.sort_by(|a, b| {
            (a.accepted.is_some(), a.severity, &a.rule, &a.evidence).cmp(&(
                b.accepted.is_some(),
                b.severity,
                &b.rule,
                &b.evidence,
            ))
        });
    }
    let worst = |list: &Vec<&Finding>| {
        list.iter()
            .map(|f| (f.accepted.is_some(), f.severity))
            .min()
            .unwrap_or((true, Severity::Info))
    };
    groups.sort_by(|a, b| worst(&a.1).cmp(&worst(&b.1)).then_with(|| a.0.cmp(b.0)));
    groups
}

/// How the run ends, as its exit code says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No open finding at or above `--fail-on`, and everything was read (or gaps accepted).
    Pass,
    /// This many open findings at or above `--fail-on`: they count even when data is missing.
    Fail(usize),
    /// No such finding in what could be read, but some collections could not be read.
    Incomplete,
}

/// The verdict: findings first (known bad beats unknown), then gaps unless accepted.
pub fn verdict(report: &Report, fail_on: Option<Severity>, allow_gaps: bool) -> Verdict {
    match failing(report, fail_on) {
        0 if !report.gaps.is_empty() && !allow_gaps => Verdict::Incomplete,
        0 => Verdict::Pass,
        n => Verdict::Fail(n),
    }
}

/// The collections named in the gaps: `clusterrolebindings, secrets`.
fn gap_names(report: &Report) -> String {
    report
        .gaps
        .iter()
        .map(|g| g.split(':').next().unwrap_or(g))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One sentence on the gate: `FAIL: 2 open findings at or above high (--fail-on high)`.
pub fn gate_text(report: &Report, fail_on: Option<Severity>, allow_gaps: bool) -> String {
    let threshold = match fail_on {
        None => "--fail-on none never fails on findings".to_string(),
        Some(t) => {
            let name = severity_name(t);
            format!("at or above {name} (--fail-on {name})")
        }
    };
    let gaps = gap_names(report);
    match verdict(report, fail_on, allow_gaps) {
        Verdict::Incomplete => format!(
            "INCOMPLETE (exit {}): no open finding {threshold} in what could be read, but {gaps} could not be read, \
             so rights granted there are unknown. Audit with a context that may list them, or pass --allow-gaps to accept the gaps.",
            crate::error::exit::INCOMPLETE
        ),
        Verdict::Pass if fail_on.is_none() && report.gaps.is_empty() => {
            format!("PASS: {threshold}")
        }
        Verdict::Pass if fail_on.is_none() => {
            format!("PASS: {threshold}; not read, accepted with --allow-gaps: {gaps}")
        }
        Verdict::Pass if report.gaps.is_empty() => format!("PASS: no open finding {threshold}"),
        Verdict::Pass => format!(
            "PASS: no open finding {threshold} in what could be read; not read, accepted with --allow-gaps: {gaps}"
        ),
        Verdict::Fail(1) => format!("FAIL: 1 open finding {threshold}"),
        Verdict::Fail(n) => format!("FAIL: {n} open findings {threshold}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::audit::model::{Accepted, Summary, Via};

    pub fn finding(rule: &str, sev: Severity, kind: &str, ns: Option<&str>, name: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: sev,
            subject: SubjectRef {
                kind: kind.into(),
                name: name.into(),
                namespace: ns.map(Into::into),
            },
            via: vec![Via {
                binding: format!("RoleBinding {}/{name}", ns.unwrap_or("-")),
                role: format!("Role {}/{name}", ns.unwrap_or("-")),
            }],
            evidence: format!("{name} has {rule}"),
            remediation: format!("remove {rule} from {name}"),
            accepted: None,
            location: None,
            baseline: None,
        }
    }

    /// A small report: two ServiceAccounts, a user, an accepted finding, a gap.
    pub fn sample() -> Report {
        let mut accepted = finding(
            "wildcard",
            Severity::High,
            "ServiceAccount",
            Some("team-a"),
            "ci",
        );
        accepted.accepted = Some(Accepted {
            reason: "Helm needs it | for now".into(),
            source: "--ignore wildcard:team-a/ci".into(),
        });
        let findings = vec![
            finding(
                "secrets-read",
                Severity::High,
                "ServiceAccount",
                Some("team-a"),
                "ci",
            ),
            accepted,
            finding(
                "cluster-admin-binding",
                Severity::Critical,
                "ServiceAccount",
                Some("argocd"),
                "argocd-application-controller",
            ),
            finding(
                "unused-identity",
                Severity::Low,
                "ServiceAccount",
                Some("team-a"),
                "old",
            ),
            finding("rbac-write", Severity::Medium, "User", None, "bob"),
        ];
        Report {
            scope: Scope {
                namespaces: vec!["team-a".into()],
                all_namespaces: false,
                service_account: None,
            },
            generated_at: "2026-11-27T12:00:00Z".into(),
            generated_by: "alice".into(),
            cluster: "sandbox".into(),
            findings,
            gaps: vec!["clusterrolebindings: forbidden (no); rights granted cluster-wide by ClusterRoleBindings were not audited".into()],
            summary: Summary {
                by_severity: [("critical", 1), ("high", 1), ("medium", 1), ("low", 1)]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                accepted: 1,
                subjects: 4,
            },
            ..Report::default()
        }
    }

    pub fn ctx() -> Context<'static> {
        Context {
            server: "https://127.0.0.1:6443",
            context: "alice@sandbox",
            fail_on: Some(Severity::High),
            requests: 7,
            matrix: None,
            allow_gaps: false,
        }
    }

    #[test]
    fn gaps_fail_the_gate_unless_accepted_and_findings_come_first() {
        let mut r = sample();
        r.findings.clear();
        assert_eq!(
            verdict(&r, Some(Severity::High), false),
            Verdict::Incomplete
        );
        let text = gate_text(&r, Some(Severity::High), false);
        assert!(
            text.starts_with("INCOMPLETE (exit 3)")
                && text.contains("clusterrolebindings could not be read"),
            "{text}"
        );
        assert!(text.contains("--allow-gaps"), "{text}");
        assert_eq!(verdict(&r, None, false), Verdict::Incomplete);
        assert_eq!(verdict(&r, Some(Severity::High), true), Verdict::Pass);
        let accepted = gate_text(&r, Some(Severity::High), true);
        assert!(
            accepted.starts_with("PASS")
                && accepted.contains("accepted with --allow-gaps: clusterrolebindings"),
            "{accepted}"
        );
        r.gaps.clear();
        assert_eq!(
            gate_text(&r, Some(Severity::High), false),
            "PASS: no open finding at or above high (--fail-on high)"
        );
        let with_findings = sample();
        assert_eq!(
            verdict(&with_findings, Some(Severity::High), false),
            Verdict::Fail(2)
        );
    }

    #[test]
    fn the_gate_counts_open_findings_at_or_above_the_threshold() {
        let r = sample();
        assert_eq!(failing(&r, Some(Severity::Critical)), 1);
        assert_eq!(failing(&r, Some(Severity::High)), 2);
        assert_eq!(failing(&r, Some(Severity::Low)), 4);
        assert_eq!(failing(&r, None), 0);
        assert!(gate_text(&r, Some(Severity::High), false).starts_with("FAIL: 2 open findings"));
    }

    #[test]
    fn subjects_with_the_worst_open_finding_come_first() {
        let r = sample();
        let groups = by_subject(&r.findings);
        let names: Vec<_> = groups.iter().map(|(s, _)| s.name.as_str()).collect();
        assert_eq!(names, ["argocd-application-controller", "ci", "bob", "old"]);
        let ci: Vec<_> = groups[1].1.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(ci, ["secrets-read", "wildcard"], "accepted last");
    }

    /// `md` without its code spans (a run of n backticks up to the next run of exactly n).
    fn outside_code_spans(md: &str) -> String {
        let mut out = String::new();
        let mut rest = md;
        while let Some(start) = rest.find('`') {
            out.push_str(&rest[..start]);
            let run = rest[start..].len() - rest[start..].trim_start_matches('`').len();
            let after = &rest[start + run..];
            let fence = "`".repeat(run);
            let mut search = 0;
            let close = loop {
                match after[search..].find(&fence) {
                    None => break None,
                    Some(i) => {
                        let at = search + i;
                        let len = after[at..].len() - after[at..].trim_start_matches('`').len();
                        if len == run {
                            break Some(at);
                        }
                        search = at + len;
                    }
                }
            };
            match close {
                Some(at) => rest = &after[at + run..],
                None => {
                    out.push_str(&rest[start..]);
                    return out;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Any text, weighted towards what attacks a terminal or a Markdown page.
    fn hostile() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            any::<String>(),
            proptest::collection::vec(
                prop_oneof![
                    Just("\u{1b}[2J".to_string()),
                    Just("\r".to_string()),
                    Just("\n".to_string()),
                    Just("\u{9b}".to_string()),
                    Just("\u{7f}".to_string()),
                    Just("\u{202e}".to_string()),
                    Just("</details>".to_string()),
                    Just("[x](javascript:alert(1))".to_string()),
                    Just("<img src=x>".to_string()),
                    Just("|".to_string()),
                    Just("`".to_string()),
                    Just("```".to_string()),
                    "[a-z]{1,5}",
                ],
                0..12
            )
            .prop_map(|parts| parts.concat()),
        ]
    }

    proptest::proptest! {
        #[test]
        fn human_renderers_show_no_control_character_and_markdown_no_markup(
            name in hostile(),
            namespace in hostile(),
            evidence in hostile(),
            reason in hostile(),
            binding in hostile(),
            gap in hostile(),
            server in hostile(),
            cluster in hostile(),
        ) {
            let mut report = sample();
            report.cluster = cluster;
            report.gaps.push(gap);
            report.generated_by = name.clone();
            for f in &mut report.findings {
                f.subject.name = name.clone();
                f.subject.namespace = Some(namespace.clone());
                f.evidence = evidence.clone();
                f.remediation = evidence.clone();
                f.via[0].binding = binding.clone();
                if let Some(a) = &mut f.accepted {
                    a.reason = reason.clone();
                }
            }
            let ctx = Context { server: &server, context: &name, ..ctx() };
            let table = table::render(&report, &ctx, false);
            proptest::prop_assert!(
                !table.chars().any(|c| c.is_control() && c != '\n')
                    && !table.chars().any(crate::text::is_unsafe),
                "table: {:?}", table
            );
            let md = markdown::render(&report, &ctx);
            proptest::prop_assert!(
                !md.chars().any(|c| c.is_control() && c != '\n')
                    && !md.chars().any(crate::text::is_unsafe),
                "markdown: {:?}", md
            );
            // No HTML tag can open and no link can form from cluster text (code spans show
            // their text literally).
            proptest::prop_assert!(!outside_code_spans(&md).contains('<'), "markdown: {:?}", md);
            let ours = md.rfind("\nRules are documented in [").unwrap();
            let text = outside_code_spans(&md[..ours]);
            let unescaped_link = text
                .match_indices("](")
                .any(|(i, _)| i == 0 || text.as_bytes()[i - 1] != b'\\');
            proptest::prop_assert!(!unescaped_link, "markdown: {:?}", md);
            // JSON keeps the exact text.
            let json = json::render(&report, &ctx);
            let back: serde_json::Value = serde_json::from_str(&json).unwrap();
            proptest::prop_assert!(back.to_string().contains(&serde_json::to_string(&evidence).unwrap()));
        }
    }
}
