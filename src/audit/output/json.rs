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

// The fields of every struct below are in the alphabetical order of their keys: the document
// is written as it is serialized, in that order, and keys in order are what readers (and
// diffs of two reports) have always seen.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    api_version: &'static str,
    /// `--baseline`: the file, and the baseline's findings that are gone (fixed); else null.
    baseline: Option<BaselineOut<'a>>,
    cluster: &'a str,
    context: &'a str,
    findings: Vec<FindingOut<'a>>,
    gaps: &'a [String],
    generated_at: &'a str,
    generated_by: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    matrix: Option<serde_json::Value>,
    scope: ScopeOut<'a>,
    server: &'a str,
    summary: SummaryOut,
    tool: Tool,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScopeOut<'a> {
    all_namespaces: bool,
    namespaces: &'a [String],
    service_account: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FindingOut<'a> {
    accepted: Option<AcceptedOut<'a>>,
    /// `--baseline`: `new`, `unchanged` or (in `baseline.fixed`) `absent`; else null.
    baseline_state: Option<&'static str>,
    evidence: &'a str,
    /// `audit -f`: the file and line of the object; null for a cluster's objects.
    location: Option<LocationOut<'a>>,
    remediation: &'a str,
    rule: &'a str,
    severity: &'static str,
    subject: SubjectOut<'a>,
    via: Vec<ViaOut<'a>>,
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
    fixed: Vec<FindingOut<'a>>,
    new: usize,
    unchanged: usize,
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
    accepted: usize,
    /// Open findings per severity; all five keys always present.
    by_severity: serde_json::Map<String, serde_json::Value>,
    /// `--fail-on`, `none` included.
    fail_on: &'static str,
    /// Open findings at or above `failOn`: the run exits 1 when this is not 0.
    failing: usize,
    open: usize,
    /// Identities and objects with at least one finding.
    subjects: usize,
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

/// The document, borrowing the report.
fn document<'a>(report: &'a Report, ctx: &'a Context) -> Document<'a> {
    let counts = open_counts(&report.findings);
    let mut subjects: Vec<_> = report.findings.iter().map(|f| &f.subject).collect();
    subjects.sort();
    subjects.dedup();
    Document {
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
    }
}

/// The document as a JSON value.
pub fn to_value(report: &Report, ctx: &Context) -> serde_json::Value {
    serde_json::to_value(document(report, ctx)).expect("the report serializes")
}

/// Writes the document pretty-printed, with a final newline, as it is serialized: no copy of
/// the whole report is built first (a report of an -A audit of a large cluster holds tens of
/// thousands of findings).
pub fn write(report: &Report, ctx: &Context, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report, ctx))?;
    out.write_all(b"\n")
}

/// Pretty-printed, with a final newline.
pub fn render(report: &Report, ctx: &Context) -> String {
    let mut out = Vec::new();
    write(report, ctx, &mut out).expect("the report serializes");
    String::from_utf8(out).expect("JSON is UTF-8")
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

    /// Written as serialized, the document's keys come in the same (sorted) order as in its
    /// JSON value.
    #[test]
    fn the_written_document_is_its_json_value_pretty_printed() {
        let (report, ctx) = (sample(), ctx());
        let value = to_value(&report, &ctx);
        assert_eq!(
            render(&report, &ctx),
            format!("{}\n", serde_json::to_string_pretty(&value).unwrap())
        );
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
