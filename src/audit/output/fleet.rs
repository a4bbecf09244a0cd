//! A fleet's report in every format: each cluster as its own report would show it, every
//! finding carrying its cluster and context, the clusters that could not be audited as gaps,
//! and a summary over the fleet.

use serde_json::{Value, json};

use super::{Context, SEVERITIES, Verdict, failing, open_counts, severity_name, verdict};
use crate::audit::Audited;
use crate::audit::fleet::Member;
use crate::audit::model::Severity;
use crate::cli::AuditFormat;

/// What the renderers need.
pub struct Fleet<'a> {
    pub members: &'a [Member],
    pub fail_on: Option<Severity>,
    pub allow_gaps: bool,
}

/// How a fleet's run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetVerdict {
    /// As one cluster's would: failing findings anywhere, else gaps anywhere, else pass.
    Cluster(Verdict),
    /// No failing finding, but some clusters could not be audited at all.
    ClustersMissing,
}

impl Fleet<'_> {
    fn audited(&self) -> impl Iterator<Item = (&str, &Audited)> {
        self.members
            .iter()
            .filter_map(|m| m.outcome.as_ref().ok().map(|a| (m.context.as_str(), a)))
    }

    fn missing(&self) -> impl Iterator<Item = (&str, &str)> {
        self.members.iter().filter_map(|m| {
            m.outcome
                .as_ref()
                .err()
                .map(|e| (m.context.as_str(), e.as_str()))
        })
    }

    fn ctx<'a>(&self, a: &'a Audited) -> Context<'a> {
        member_ctx(a, self.fail_on, self.allow_gaps)
    }

    /// Findings first (in any cluster), then clusters not audited, then gaps.
    pub fn verdict(&self) -> FleetVerdict {
        let each: Vec<Verdict> = self
            .audited()
            .map(|(_, a)| verdict(&a.report, self.fail_on, self.allow_gaps))
            .collect();
        let failing: usize = each
            .iter()
            .map(|v| match v {
                Verdict::Fail(n) => *n,
                _ => 0,
            })
            .sum();
        if failing > 0 {
            FleetVerdict::Cluster(Verdict::Fail(failing))
        } else if self.missing().next().is_some() && !self.allow_gaps {
            FleetVerdict::ClustersMissing
        } else if each.contains(&Verdict::Incomplete) {
            FleetVerdict::Cluster(Verdict::Incomplete)
        } else {
            FleetVerdict::Cluster(Verdict::Pass)
        }
    }

    /// One sentence on the fleet's gate.
    pub fn gate_text(&self) -> String {
        let missing: Vec<&str> = self.missing().map(|(c, _)| c).collect();
        let audited = self.audited().count();
        let clusters = format!("{audited} of {} clusters audited", self.members.len());
        match self.verdict() {
            FleetVerdict::Cluster(Verdict::Fail(n)) => format!(
                "FAIL: {n} open finding{} at or above {} ({clusters})",
                if n == 1 { "" } else { "s" },
                self.fail_on.map(severity_name).unwrap_or("none")
            ),
            FleetVerdict::ClustersMissing => format!(
                "NOT ALL CLUSTERS (exit {}): no failing finding in the {clusters}, but {} could not be audited. \
                 Fix the contexts, or pass --allow-gaps to accept that",
                crate::error::exit::CLUSTERS_MISSING,
                missing.join(", ")
            ),
            FleetVerdict::Cluster(Verdict::Incomplete) => format!(
                "INCOMPLETE (exit {}): no failing finding ({clusters}), but some RBAC objects could not be read; \
                 see each cluster's gaps, or pass --allow-gaps to accept them",
                crate::error::exit::INCOMPLETE
            ),
            FleetVerdict::Cluster(Verdict::Pass) if missing.is_empty() => {
                format!("PASS: no failing finding ({clusters})")
            }
            FleetVerdict::Cluster(Verdict::Pass) => format!(
                "PASS: no failing finding ({clusters}; not audited, accepted with --allow-gaps: {})",
                missing.join(", ")
            ),
        }
    }
}

fn member_ctx(a: &Audited, fail_on: Option<Severity>, allow_gaps: bool) -> Context<'_> {
    Context {
        server: &a.server,
        context: &a.context,
        fail_on,
        requests: a.requests,
        matrix: None,
        allow_gaps,
    }
}

/// One cluster's document in the fleet's JSON: its report, every finding carrying its cluster
/// and context.
pub fn cluster_json(
    a: &Audited,
    context: &str,
    fail_on: Option<Severity>,
    allow_gaps: bool,
) -> Value {
    let mut doc = super::json::to_value(&a.report, &member_ctx(a, fail_on, allow_gaps));
    for f in doc["findings"].as_array_mut().into_iter().flatten() {
        f["cluster"] = json!(a.report.cluster);
        f["context"] = json!(context);
    }
    doc
}

/// The fleet's JSON, pretty-printed with a final newline, written as it is serialized.
pub fn write_json(fleet: &Fleet, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(fleet))?;
    out.write_all(b"\n")
}

/// The fleet in `format`.
pub fn render(fleet: &Fleet, format: AuditFormat) -> String {
    match format {
        AuditFormat::Json => {
            let mut out = Vec::new();
            write_json(fleet, &mut out).expect("the report serializes");
            String::from_utf8(out).expect("JSON is UTF-8")
        }
        AuditFormat::Sarif => {
            let mut text =
                serde_json::to_string_pretty(&to_sarif(fleet)).expect("the report serializes");
            text.push('\n');
            text
        }
        AuditFormat::Table => sections(fleet, |a, ctx| super::table::for_stdout(&a.report, ctx)),
        AuditFormat::Markdown => {
            let mut out = String::from("# Fleet audit\n\n");
            out.push_str(&markdown_summary(fleet));
            out.push_str(&sections(fleet, |a, ctx| {
                super::markdown::render(&a.report, ctx)
            }));
            out
        }
    }
}

/// Each cluster's own rendering under a heading, then the fleet summary.
fn sections(fleet: &Fleet, each: impl Fn(&Audited, &Context) -> String) -> String {
    let mut out = String::new();
    for (context, a) in fleet.audited() {
        out.push_str(&format!(
            "\n=== context {} (cluster {}) ===\n\n",
            crate::text::one_line(context),
            crate::text::one_line(&a.report.cluster)
        ));
        out.push_str(&each(a, &fleet.ctx(a)));
    }
    out.push_str("\n=== fleet ===\n\n");
    out.push_str(&summary_lines(fleet));
    out.push_str(&fleet.gate_text());
    out.push('\n');
    out
}

fn summary_lines(fleet: &Fleet) -> String {
    let mut out = String::new();
    for (context, a) in fleet.audited() {
        let counts = open_counts(&a.report.findings);
        out.push_str(&format!(
            "{:<24} {}, {} gap{}\n",
            crate::text::one_line(context),
            counts
                .iter()
                .map(|(s, n)| format!("{n} {}", severity_name(*s)))
                .collect::<Vec<_>>()
                .join(", "),
            a.report.gaps.len(),
            if a.report.gaps.len() == 1 { "" } else { "s" }
        ));
    }
    for (context, why) in fleet.missing() {
        out.push_str(&format!(
            "{:<24} NOT AUDITED: {}\n",
            crate::text::one_line(context),
            crate::text::one_line(why)
        ));
    }
    out
}

fn markdown_summary(fleet: &Fleet) -> String {
    let cell = |s: &str| super::markdown::cell(s);
    let mut out = String::from("| Context | Cluster | ");
    out.push_str(
        &SEVERITIES
            .iter()
            .map(|s| severity_name(*s))
            .collect::<Vec<_>>()
            .join(" | "),
    );
    out.push_str(" | Gaps |\n|---|---|");
    out.push_str(&"---|".repeat(SEVERITIES.len() + 1));
    out.push('\n');
    for (context, a) in fleet.audited() {
        let counts = open_counts(&a.report.findings);
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(context),
            cell(&a.report.cluster),
            counts
                .iter()
                .map(|(_, n)| n.to_string())
                .collect::<Vec<_>>()
                .join(" | "),
            a.report.gaps.len()
        ));
    }
    for (context, why) in fleet.missing() {
        out.push_str(&format!(
            "| {} | not audited: {} |{}\n",
            cell(context),
            cell(why),
            " |".repeat(SEVERITIES.len())
        ));
    }
    out.push_str(&format!("\n{}\n", cell(&fleet.gate_text())));
    out
}

/// `kind: FleetAuditReport`: each audited cluster's `AuditReport` (its findings carrying
/// `cluster` and `context`), the clusters not audited, and the fleet's summary.
pub fn to_json(fleet: &Fleet) -> Value {
    serde_json::to_value(document(fleet)).expect("the report serializes")
}

/// The fleet's JSON document. Its fields are in the order of their names, as in a JSON
/// object made with `json!`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct FleetDocument<'a> {
    api_version: &'static str,
    clusters: Vec<std::borrow::Cow<'a, Value>>,
    generated_at: String,
    kind: &'static str,
    not_audited: Vec<Value>,
    summary: Value,
    tool: Value,
}

fn document<'a>(fleet: &Fleet<'a>) -> FleetDocument<'a> {
    use std::borrow::Cow;
    let mut clusters = Vec::new();
    let mut by_severity = serde_json::Map::new();
    for s in SEVERITIES {
        by_severity.insert(severity_name(s).to_string(), json!(0));
    }
    let mut failing_total = 0;
    for m in fleet.members {
        let Ok(a) = &m.outcome else {
            continue;
        };
        let doc = match &m.json {
            Some(doc) => Cow::Borrowed(doc),
            None => Cow::Owned(cluster_json(a, &m.context, fleet.fail_on, fleet.allow_gaps)),
        };
        for (s, n) in open_counts(&a.report.findings) {
            let key = severity_name(s);
            by_severity[key] = json!(by_severity[key].as_u64().unwrap_or(0) + n as u64);
        }
        failing_total += failing(&a.report, fleet.fail_on);
        clusters.push(doc);
    }
    let missing: Vec<Value> = fleet
        .missing()
        .map(|(context, why)| json!({"context": context, "reason": why}))
        .collect();
    FleetDocument {
        api_version: super::json::API_VERSION,
        clusters,
        generated_at: crate::timestamp::now(),
        kind: super::json::FLEET_KIND,
        not_audited: missing,
        summary: json!({
            "contexts": fleet.members.len(),
            "audited": fleet.audited().count(),
            "notAudited": fleet.missing().count(),
            "bySeverity": by_severity,
            "failOn": fleet.fail_on.map(severity_name).unwrap_or("none"),
            "failing": failing_total,
        }),
        tool: json!({"name": super::TOOL_NAME, "version": super::TOOL_VERSION}),
    }
}

/// One SARIF run for the fleet: every cluster's results, each result's location and
/// fingerprint qualified by its context; clusters not audited as error notifications.
pub fn to_sarif(fleet: &Fleet) -> Value {
    let mut log: Option<Value> = None;
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for (context, a) in fleet.audited() {
        let one = super::sarif::to_value(&a.report, &fleet.ctx(a));
        for mut r in one["runs"][0]["results"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            super::sarif::qualify(&mut r, context, &a.report.cluster);
            results.push(r);
        }
        for mut n in one["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let text = n["message"]["text"].as_str().unwrap_or("").to_string();
            n["message"]["text"] = json!(format!("context {context}: {text}"));
            notifications.push(n);
        }
        log.get_or_insert(one);
    }
    for (context, why) in fleet.missing() {
        notifications.push(json!({
            "level": "error",
            "message": {"text": format!("context {context}: not audited: {why}")},
        }));
    }
    let mut log = log.unwrap_or_else(|| {
        super::sarif::to_value(
            &Default::default(),
            &Context {
                server: "",
                context: "",
                fail_on: fleet.fail_on,
                requests: 0,
                matrix: None,
                allow_gaps: fleet.allow_gaps,
            },
        )
    });
    let run = &mut log["runs"][0];
    run["results"] = json!(results);
    run["invocations"][0]["toolExecutionNotifications"] = json!(notifications);
    run["automationDetails"]["id"] = json!("kubectl-cicd-audit/fleet/");
    run["properties"] = json!({
        "contexts": fleet.members.iter().map(|m| m.context.as_str()).collect::<Vec<_>>(),
        "notAudited": fleet.missing().map(|(c, _)| c).collect::<Vec<_>>(),
    });
    log
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn fleet_json_is_written_as_its_document_value_prints() {
        let audited = |context: &str| Audited {
            report: sample(),
            server: "https://127.0.0.1:6443".into(),
            context: context.into(),
            requests: 7,
            matrix: None,
        };
        let (fail_on, allow_gaps) = (Some(Severity::High), false);
        let one = audited("one");
        let members = [
            Member {
                json: Some(cluster_json(&one, "one", fail_on, allow_gaps)),
                context: "one".into(),
                outcome: Ok(one),
            },
            Member {
                context: "two".into(),
                outcome: Ok(audited("two")),
                json: None,
            },
            Member {
                context: "down".into(),
                outcome: Err("connection refused".into()),
                json: None,
            },
        ];
        let fleet = Fleet {
            members: &members,
            fail_on,
            allow_gaps,
        };
        let mut written = Vec::new();
        write_json(&fleet, &mut written).unwrap();
        let written = String::from_utf8(written).unwrap();
        let value = to_json(&fleet);
        // The same keys in the same (sorted) order as a `json!` object of the document.
        let printed = serde_json::to_string_pretty(&value).unwrap() + "\n";
        let mask = |t: &str| {
            t.lines()
                .filter(|l| !l.contains("\"generatedAt\": \"20"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(mask(&written), mask(&printed));
        assert_eq!(
            value["clusters"][0],
            cluster_json(&audited("one"), "one", fail_on, allow_gaps)
        );
        let findings = value["clusters"][1]["findings"].as_array().unwrap();
        assert!(
            findings
                .iter()
                .all(|f| f["context"] == "two" && f["cluster"] == "sandbox")
        );
        assert_eq!(value["notAudited"][0]["context"], "down");
        assert_eq!(value["summary"]["audited"], 2);
    }
}
