//! `-o sarif`: SARIF 2.1.0 that GitHub code scanning accepts.
//!
//! What GitHub reads (its "SARIF support for code scanning" page, and the GH10xx checks of
//! the SARIF multitool): `tool.driver.name`, the rules as `reportingDescriptor`s with
//! `shortDescription`, `fullDescription`, `help` and the properties `tags`, `precision`,
//! `problem.severity` and `security-severity` (a number as a string: 9.0 and above is
//! critical, 7.0 high, 4.0 medium, 0.1 low); per result `ruleId`, `ruleIndex`, `level`, a fully
//! formatted `message.text`, and a location with `physicalLocation.artifactLocation.uri` (a
//! relative URI) and `region.startLine`. Kubernetes objects are not files, so the URI is a
//! stable pseudo-path `kubernetes/<namespace>/<Kind>/<name>` (`_cluster` for cluster-scoped
//! subjects: `_` cannot begin a namespace name) next to a logical location naming the object.
//! Accepted findings carry a `suppression` (kind `external`, status `accepted`, the reason as
//! justification), so consumers do not count them as open. Gaps become tool execution
//! notifications. `partialFingerprints` holds a hash of rule and subject, so an alert keeps
//! its identity from run to run.

use serde_json::{Value, json};

use super::{Context, scope_text, severity_name, via_text};
use crate::audit::model::{BaselineState, Finding, Report, Severity, SubjectRef};

pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// SARIF `level` of a severity. This only maps: a finding's severity is decided by the
/// analysis, every adjustment in `src/audit/analyze/severity.rs`.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (CVSS-like score); `None` for info, which is no security alert.
pub fn security_severity(s: Severity) -> Option<&'static str> {
    match s {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("3.0"),
        Severity::Info => None,
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `:` `@` (valid in a
/// path segment), so any object name makes a valid relative URI.
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `kubernetes/team-a/ServiceAccount/ci`, `kubernetes/_cluster/User/alice`.
pub fn artifact_uri(s: &SubjectRef) -> String {
    format!(
        "kubernetes/{}/{}/{}",
        s.namespace
            .as_deref()
            .map(segment)
            .unwrap_or("_cluster".into()),
        segment(&s.kind),
        segment(&s.name)
    )
}

/// A file path as a relative URI reference (`/` separators, each segment escaped), as GitHub
/// expects for a file of the repository; an absolute path becomes a `file://` URI.
pub fn file_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let escaped: Vec<String> = path.split('/').map(segment).collect();
    let joined = escaped.join("/");
    let joined = joined.strip_prefix("./").unwrap_or(&joined).to_string();
    if path.starts_with('/') {
        format!("file://{joined}")
    } else {
        joined
    }
}

/// A fleet's result: its pseudo-path, name and fingerprint qualified by the context it was
/// found in (the same finding in two clusters is two results), and the cluster and context
/// among its properties.
pub fn qualify(result: &mut Value, context: &str, cluster: &str) {
    let location = &mut result["locations"][0];
    if let Some(uri) = location["physicalLocation"]["artifactLocation"]["uri"].as_str()
        && let Some(rest) = uri.strip_prefix("kubernetes/")
    {
        let qualified = format!("kubernetes/{}/{rest}", segment(context));
        location["physicalLocation"]["artifactLocation"]["uri"] = json!(qualified);
    }
    if let Some(name) = location["logicalLocations"][0]["fullyQualifiedName"].as_str() {
        let qualified = format!("{context}/{name}");
        location["logicalLocations"][0]["fullyQualifiedName"] = json!(qualified);
    }
    if let Some(fp) = result["partialFingerprints"]["kubectlCicdFinding/v1"].as_str() {
        let qualified = format!("{:016x}", fnv1a(&format!("{context}\n{fp}")));
        result["partialFingerprints"]["kubectlCicdFinding/v1"] = json!(qualified);
    }
    result["properties"]["context"] = json!(context);
    result["properties"]["cluster"] = json!(cluster);
}

/// 64-bit FNV-1a: stable across runs, platforms and versions (unlike std's hasher).
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn rule_descriptor(info: &crate::audit::rules::RuleInfo) -> Value {
    let sev = info.severity;
    let mut properties = json!({
        "tags": ["security", "kubernetes", "rbac", severity_name(sev)],
        "precision": "very-high",
        "problem.severity": match sev {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "recommendation",
        },
    });
    if !info.covers.is_empty() {
        properties["covers"] = json!(info.covers);
    }
    if let Some(score) = security_severity(sev) {
        properties["security-severity"] = json!(score);
    }
    json!({
        "id": info.id,
        "name": info.id,
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.why},
        "help": {
            "text": format!("{}\n\nWhy: {}\n\nFix: {}", info.title, info.why, info.fix),
            "markdown": format!("**{}**\n\n**Why:** {}\n\n**Fix:** {}\n\n[Rule documentation]({}#{})",
                info.title, info.why, info.fix, super::RULES_DOC, info.id),
        },
        "helpUri": format!("{}#{}", super::RULES_DOC, info.id),
        "defaultConfiguration": {"level": level(sev)},
        "properties": properties,
    })
}

fn result(f: &Finding, rule_index: Option<usize>) -> Value {
    let mut message = f.evidence.trim_end().to_string();
    if !message.ends_with('.') {
        message.push('.');
    }
    if !f.via.is_empty() {
        message.push_str(&format!(" Via {}.", via_text(f)));
    }
    message.push_str(&format!(" Fix: {}", f.remediation));
    let fqn = match &f.subject.namespace {
        Some(ns) => format!("{ns}/{}/{}", f.subject.kind, f.subject.name),
        None => format!("{}/{}", f.subject.kind, f.subject.name),
    };
    // From files: the file and line of the object. From a cluster, objects are not files:
    // a stable pseudo-path per subject, line 1.
    let physical = match &f.location {
        Some(at) => json!({
            "artifactLocation": {"uri": file_uri(&at.file)},
            "region": {"startLine": at.line.max(1)},
        }),
        None => json!({
            "artifactLocation": {"uri": artifact_uri(&f.subject)},
            "region": {"startLine": 1},
        }),
    };
    let mut out = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": message},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{
                "name": f.subject.name,
                "fullyQualifiedName": fqn,
                "kind": "resource",
            }],
        }],
        "partialFingerprints": {
            "kubectlCicdFinding/v1": format!("{:016x}", fnv1a(&format!(
                "{}\n{}\n{}\n{}",
                f.rule,
                f.subject.kind,
                f.subject.namespace.as_deref().unwrap_or(""),
                f.subject.name
            ))),
        },
        "properties": {
            "severity": severity_name(f.severity),
            "subject": {
                "kind": f.subject.kind,
                "name": f.subject.name,
                "namespace": f.subject.namespace,
            },
            "via": f.via.iter().map(|v| json!({"binding": v.binding, "role": v.role})).collect::<Vec<_>>(),
        },
    });
    if let Some(i) = rule_index {
        out["ruleIndex"] = json!(i);
    }
    if let Some(state) = f.baseline {
        out["baselineState"] = json!(match state {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Absent => "absent",
        });
    }
    if let Some(a) = &f.accepted {
        out["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("{} ({})", a.reason, a.source),
        }]);
    }
    out
}

/// The SARIF log as a JSON value.
pub fn to_value(report: &Report, ctx: &Context) -> Value {
    let catalogue = crate::audit::rules::catalogue();
    let rules: Vec<Value> = catalogue.iter().map(rule_descriptor).collect();
    // With a baseline, the fixed findings are results too, as `absent` (never failing).
    let results: Vec<Value> = report
        .findings
        .iter()
        .chain(&report.fixed)
        .map(|f| result(f, catalogue.iter().position(|r| r.id == f.rule)))
        .collect();
    let notifications: Vec<Value> = report
        .gaps
        .iter()
        .map(|g| json!({"level": "warning", "message": {"text": format!("Not audited: {g}")}}))
        .collect();
    let category = format!(
        "kubectl-cicd-audit/{}/{}/",
        report.cluster,
        if report.scope.all_namespaces {
            "all-namespaces".to_string()
        } else {
            report.scope.namespaces.join(",")
        }
    );
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": super::TOOL_NAME,
                "version": super::TOOL_VERSION,
                "semanticVersion": super::TOOL_VERSION,
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "automationDetails": {"id": category},
            "invocations": [{
                "executionSuccessful": true,
                "endTimeUtc": report.generated_at,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {
                "cluster": report.cluster,
                "server": ctx.server,
                "scope": scope_text(&report.scope),
                "generatedBy": report.generated_by,
                "gaps": report.gaps,
                "requests": ctx.requests,
            },
        }],
    })
}

pub fn render(report: &Report, ctx: &Context) -> String {
    let mut text = serde_json::to_string_pretty(&to_value(report, ctx)).expect("serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ctx, sample};
    use super::*;

    #[test]
    fn uris_are_relative_stable_and_escaped() {
        let sa = SubjectRef {
            kind: "ServiceAccount".into(),
            name: "ci".into(),
            namespace: Some("team-a".into()),
        };
        assert_eq!(artifact_uri(&sa), "kubernetes/team-a/ServiceAccount/ci");
        let group = SubjectRef {
            kind: "Group".into(),
            name: "system:serviceaccounts a/b%".into(),
            namespace: None,
        };
        assert_eq!(
            artifact_uri(&group),
            "kubernetes/_cluster/Group/system:serviceaccounts%20a%2Fb%25"
        );
    }

    #[test]
    fn results_carry_level_location_fingerprint_and_suppressions() {
        let v = to_value(&sample(), &ctx());
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 5);
        let r = &results[0];
        assert_eq!(r["ruleId"], "secrets-read");
        assert_eq!(r["level"], "error");
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "kubernetes/team-a/ServiceAccount/ci"
        );
        assert_eq!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
        assert!(r.get("suppressions").is_none());
        let accepted = &results[1];
        assert_eq!(accepted["suppressions"][0]["kind"], "external");
        assert_eq!(accepted["suppressions"][0]["status"], "accepted");
        assert_eq!(
            accepted["suppressions"][0]["justification"],
            "Helm needs it | for now (--ignore wildcard:team-a/ci)"
        );
        assert_ne!(
            r["partialFingerprints"], accepted["partialFingerprints"],
            "different rules, different fingerprints"
        );
        let notes = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"];
        assert_eq!(notes[0]["level"], "warning");
    }

    #[test]
    fn levels_and_scores_follow_severity() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Info), "note");
        assert_eq!(security_severity(Severity::High), Some("8.0"));
        assert_eq!(security_severity(Severity::Info), None);
    }
}
