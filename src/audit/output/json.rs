//! `-o json`: the report in a documented, stable schema (docs/audit-output.md).
//!
//! The wire form is spelled out here, separate from the model, so that a change inside the
//! analysis cannot change the schema by accident; keys are camelCase as in Kubernetes
//! objects, and every key is always present (`null` when it has no value).

use serde::Serialize;

use super::{Context, failing, open_counts, severity_name};
use crate::audit::model::{BaselineState, Finding, Report};

/// `apiVersion` of the document; bumped only for incompatible changes.
pub const API_VERSION: &str = "audit.kubectl-cicd.io/v1";
pub const KIND: &str = "AuditReport";
/// `kind` of a fleet's report (`--all-contexts`, `--contexts`): one `AuditReport` per cluster.
pub const FLEET_KIND: &str = "FleetAuditReport";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    api_version: &'static str,
    kind: &'static str,
    tool: Tool,
    cluster: &'a str,
    server: &'a str,
    context: &'a str,
    generated_at: &'a str,
    generated_by: &'a str,
    scope: ScopeOut<'a>,
    gaps: &'a [String],
    findings: Vec<FindingOut<'a>>,
    /// `--baseline`: the file, and the baseline's findings that are gone (fixed); else null.
    baseline: Option<BaselineOut<'a>>,
    summary: SummaryOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    matrix: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScopeOut<'a> {
    namespaces: &'a [String],
    all_namespaces: bool,
    service_account: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FindingOut<'a> {
    rule: &'a str,
    severity: &'static str,
    subject: SubjectOut<'a>,
    via: Vec<ViaOut<'a>>,
    evidence: &'a str,
    remediation: &'a str,
    accepted: Option<AcceptedOut<'a>>,
    /// `audit -f`: the file and line of the object; null for a cluster's objects.
    location: Option<LocationOut<'a>>,
    /// `--baseline`: `new`, `unchanged` or (in `baseline.fixed`) `absent`; else null.
    baseline_state: Option<&'static str>,
}

#[derive(Serialize)]
struct LocationOut<'a> {
    file: &'a str,
    line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BaselineOut<'a> {
    file: &'a str,
    new: usize,
    unchanged: usize,
    fixed: Vec<FindingOut<'a>>,
}

#[derive(Serialize)]
struct SubjectOut<'a> {
    kind: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
}

#[derive(Serialize)]
struct ViaOut<'a> {
    binding: &'a str,
    role: &'a str,
}

#[derive(Serialize)]
struct AcceptedOut<'a> {
    reason: &'a str,
    source: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryOut {
    /// Open findings per severity; all five keys always present.
    by_severity: serde_json::Map<String, serde_json::Value>,
    open: usize,
    accepted: usize,
    /// Identities and objects with at least one finding.
    subjects: usize,
    /// `--fail-on`, `none` included.
    fail_on: &'static str,
    /// Open findings at or above `failOn`: the run exits 1 when this is not 0.
    failing: usize,
}

fn finding(f: &Finding) -> FindingOut<'_> {
    FindingOut {
        rule: &f.rule,
        severity: severity_name(f.severity),
        subject: SubjectOut {
            kind: &f.subject.kind,
            name: &f.subject.name,
            namespace: f.subject.namespace.as_deref(),
        },
        via: f
            .via
            .iter()
            .map(|v| ViaOut {
                binding: &v.binding,
                role: &v.role,
            })
            .collect(),
        evidence: &f.evidence,
        remediation: &f.remediation,
        accepted: f.accepted.as_ref().map(|a| AcceptedOut {
            reason: &a.reason,
            source: &a.source,
        }),
        location: f.location.as_ref().map(|l| LocationOut {
            file: &l.file,
            line: l.line,
        }),
        baseline_state: f.baseline.map(|b| match b {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Absent => "absent",
        }),
    }
}

fn count(report: &Report, state: BaselineState) -> usize {
    report
        .findings
        .iter()
        .filter(|f| f.baseline == Some(state))
        .count()
}

/// The document as a JSON value.
pub fn to_value(report: &Report, ctx: &Context) -> serde_json::Value {
    let counts = open_counts(&report.findings);
    let mut subjects: Vec<_> = report.findings.iter().map(|f| &f.subject).collect();
    subjects.sort();
    subjects.dedup();
    let doc = Document {
        api_version: API_VERSION,
        kind: KIND,
        tool: Tool {
            name: super::TOOL_NAME,
            version: super::TOOL_VERSION,
        },
        cluster: &report.cluster,
        server: ctx.server,
        context: ctx.context,
        generated_at: &report.generated_at,
        generated_by: &report.generated_by,
        scope: ScopeOut {
            namespaces: &report.scope.namespaces,
            all_namespaces: report.scope.all_namespaces,
            service_account: report.scope.service_account.as_deref(),
        },
        gaps: &report.gaps,
        findings: report.findings.iter().map(finding).collect(),
        baseline: report.baseline_file.as_deref().map(|file| BaselineOut {
            file,
            new: count(report, BaselineState::New),
            unchanged: count(report, BaselineState::Unchanged),
            fixed: report.fixed.iter().map(finding).collect(),
        }),
        summary: SummaryOut {
            by_severity: counts
                .iter()
                .map(|(s, n)| (severity_name(*s).to_string(), (*n).into()))
                .collect(),
            open: counts.iter().map(|(_, n)| n).sum(),
            accepted: report
                .findings
                .iter()
                .filter(|f| f.accepted.is_some())
                .count(),
            subjects: subjects.len(),
            fail_on: ctx.fail_on.map(severity_name).unwrap_or("none"),
            failing: failing(report, ctx.fail_on),
        },
        matrix: ctx.matrix.map(super::matrix::to_json),
    };
    serde_json::to_value(doc).expect("the report serializes")
}

/// Pretty-printed, with a final newline.
pub fn render(report: &Report, ctx: &Context) -> String {
    let mut text = serde_json::to_string_pretty(&to_value(report, ctx)).expect("serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ctx, sample};
    use super::*;

    fn keys(v: &serde_json::Value) -> Vec<&str> {
        let mut k: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        k.sort();
        k
    }

    /// The schema is a promise (docs/audit-output.md): changing these keys is a breaking change.
    #[test]
    fn the_key_set_is_pinned() {
        let v = to_value(&sample(), &ctx());
        assert_eq!(
            keys(&v),
            [
                "apiVersion",
                "baseline",
                "cluster",
                "context",
                "findings",
                "gaps",
                "generatedAt",
                "generatedBy",
                "kind",
                "scope",
                "server",
                "summary",
                "tool"
            ]
        );
        assert_eq!(
            keys(&v["scope"]),
            ["allNamespaces", "namespaces", "serviceAccount"]
        );
        assert_eq!(
            keys(&v["findings"][0]),
            [
                "accepted",
                "baselineState",
                "evidence",
                "location",
                "remediation",
                "rule",
                "severity",
                "subject",
                "via"
            ]
        );
        assert_eq!(
            keys(&v["findings"][0]["subject"]),
            ["kind", "name", "namespace"]
        );
        assert_eq!(keys(&v["findings"][0]["via"][0]), ["binding", "role"]);
        assert_eq!(keys(&v["findings"][1]["accepted"]), ["reason", "source"]);
        assert_eq!(
            keys(&v["summary"]),
            [
                "accepted",
                "bySeverity",
                "failOn",
                "failing",
                "open",
                "subjects"
            ]
        );
        assert_eq!(
            keys(&v["summary"]["bySeverity"]),
            ["critical", "high", "info", "low", "medium"]
        );
        assert_eq!(v["apiVersion"], API_VERSION);
        assert_eq!(v["summary"]["failing"], 2);
        assert_eq!(v["summary"]["open"], 4);
        assert_eq!(
            v["findings"][4]["subject"]["namespace"],
            serde_json::Value::Null
        );
        assert!(v["findings"][0]["accepted"].is_null());
    }
}
