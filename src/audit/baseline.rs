//! `audit --baseline FILE`: an earlier `-o json` report, and each finding now compared with it.
//!
//! A finding is the same as a baseline finding when its rule, its subject (kind, namespace,
//! name), the bindings and roles it comes through, and (across a fleet) its context are the
//! same: never by its text, which may change between versions. A finding is then `unchanged`,
//! or `new` when the baseline has no such finding; a baseline finding without a match now is
//! `absent` (fixed). Only new findings gate the run.

use std::collections::HashMap;

use serde_json::Value;

use super::model::{Accepted, BaselineState, Finding, Severity, SubjectRef, Via};
use crate::error::{Error, Result};

/// What a finding is matched by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    context: Option<String>,
    rule: String,
    subject: (String, Option<String>, String),
    via: Vec<(String, String)>,
}

fn key(context: Option<&str>, f: &Finding) -> Key {
    let mut via: Vec<(String, String)> = f
        .via
        .iter()
        .map(|v| (v.binding.clone(), v.role.clone()))
        .collect();
    via.sort();
    Key {
        context: context.map(str::to_string),
        rule: f.rule.clone(),
        subject: (
            f.subject.kind.clone(),
            f.subject.namespace.clone(),
            f.subject.name.clone(),
        ),
        via,
    }
}

/// The findings of a baseline report, each with the context it was found in (`None` in a
/// single-cluster report).
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    pub file: String,
    findings: Vec<(Option<String>, Finding)>,
    /// The baseline is a fleet report: findings are matched per context.
    pub fleet: bool,
}

impl Baseline {
    /// Reads `path`, a report `kubectl cicd audit -o json` wrote (one cluster or a fleet).
    pub fn read(path: &std::path::Path) -> Result<Baseline> {
        let shown = crate::text::printable(&path.display().to_string()).into_owned();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot read the baseline {shown}: {e}")))?;
        Baseline::parse(&text, &shown)
    }

    /// The baseline in `text`; `file` names it in messages.
    pub fn parse(text: &str, file: &str) -> Result<Baseline> {
        let bad = |why: &str| {
            Error::Usage(format!(
                "--baseline {file}: {why}; give a report written by kubectl cicd audit -o json"
            ))
        };
        let doc: Value = serde_json::from_str(text).map_err(|e| bad(&format!("not JSON ({e})")))?;
        if doc["apiVersion"] != super::output::json::API_VERSION {
            return Err(bad(&format!(
                "apiVersion is {}, not {}",
                doc["apiVersion"],
                super::output::json::API_VERSION
            )));
        }
        let mut findings = Vec::new();
        let fleet = doc["kind"] == super::output::json::FLEET_KIND;
        if fleet {
            for cluster in doc["clusters"].as_array().into_iter().flatten() {
                let context = cluster["context"].as_str().map(str::to_string);
                for f in cluster["findings"].as_array().into_iter().flatten() {
                    findings.push((
                        context.clone(),
                        finding(f)
                            .ok_or_else(|| bad("a finding lacks rule, severity or subject"))?,
                    ));
                }
            }
        } else if doc["kind"] == super::output::json::KIND {
            for f in doc["findings"].as_array().into_iter().flatten() {
                findings.push((
                    None,
                    finding(f).ok_or_else(|| bad("a finding lacks rule, severity or subject"))?,
                ));
            }
        } else {
            return Err(bad(&format!(
                "kind is {}, not an audit report",
                doc["kind"]
            )));
        }
        Ok(Baseline {
            file: file.to_string(),
            findings,
            fleet,
        })
    }

    /// Marks each of `findings` (found in `context` when auditing a fleet) `new` or
    /// `unchanged`, and gives the baseline's findings of that context that are gone now.
    pub fn compare(&self, context: Option<&str>, findings: &mut [Finding]) -> Vec<Finding> {
        let context = context.filter(|_| self.fleet);
        let mut remaining: HashMap<Key, Vec<&Finding>> = HashMap::new();
        for (c, f) in &self.findings {
            if c.as_deref() == context {
                remaining.entry(key(c.as_deref(), f)).or_default().push(f);
            }
        }
        for f in findings.iter_mut() {
            let matched = remaining
                .get_mut(&key(context, f))
                .and_then(|list| list.pop())
                .is_some();
            f.baseline = Some(if matched {
                BaselineState::Unchanged
            } else {
                BaselineState::New
            });
        }
        let mut fixed: Vec<Finding> = remaining
            .into_values()
            .flatten()
            .map(|f| Finding {
                baseline: Some(BaselineState::Absent),
                ..f.clone()
            })
            .collect();
        fixed.sort_by(|a, b| {
            (a.severity, &a.subject, &a.rule).cmp(&(b.severity, &b.subject, &b.rule))
        });
        fixed
    }
}

/// A finding of the JSON report, read back.
fn finding(v: &Value) -> Option<Finding> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let severity = match v["severity"].as_str()? {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" => Severity::Medium,
        "low" => Severity::Low,
        "info" => Severity::Info,
        _ => return None,
    };
    Some(Finding {
        rule: text(&v["rule"])?,
        severity,
        subject: SubjectRef {
            kind: text(&v["subject"]["kind"])?,
            name: text(&v["subject"]["name"])?,
            namespace: text(&v["subject"]["namespace"]),
        },
        via: v["via"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|via| Via {
                binding: text(&via["binding"]).unwrap_or_default(),
                role: text(&via["role"]).unwrap_or_default(),
            })
            .collect(),
        evidence: text(&v["evidence"]).unwrap_or_default(),
        remediation: text(&v["remediation"]).unwrap_or_default(),
        accepted: v["accepted"].as_object().map(|a| Accepted {
            reason: a
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            source: a
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        }),
        location: None,
        baseline: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::output::tests::finding as sample_finding;

    fn report(findings: &[Finding]) -> String {
        let report = crate::audit::model::Report {
            findings: findings.to_vec(),
            ..Default::default()
        };
        crate::audit::output::json::render(&report, &crate::audit::output::tests::ctx())
    }

    #[test]
    fn findings_match_by_rule_subject_and_path_not_by_text() {
        let old = sample_finding(
            "secrets-read",
            Severity::High,
            "ServiceAccount",
            Some("a"),
            "ci",
        );
        let kept = sample_finding(
            "wildcard",
            Severity::High,
            "ServiceAccount",
            Some("a"),
            "ci",
        );
        let baseline = Baseline::parse(&report(&[old.clone(), kept.clone()]), "b.json").unwrap();
        let mut reworded = kept.clone();
        reworded.evidence = "worded differently in a newer version".into();
        let added = sample_finding(
            "pod-exec",
            Severity::High,
            "ServiceAccount",
            Some("a"),
            "ci",
        );
        let mut now = vec![reworded, added];
        let fixed = baseline.compare(None, &mut now);
        assert_eq!(now[0].baseline, Some(BaselineState::Unchanged));
        assert_eq!(now[1].baseline, Some(BaselineState::New));
        assert_eq!(fixed.len(), 1);
        assert_eq!(fixed[0].rule, "secrets-read");
        assert_eq!(fixed[0].baseline, Some(BaselineState::Absent));
    }

    #[test]
    fn a_file_that_is_not_a_report_is_refused() {
        for (text, says) in [
            ("not json", "not JSON"),
            ("{\"apiVersion\": \"v1\", \"kind\": \"List\"}", "apiVersion"),
            (
                "{\"apiVersion\": \"audit.kubectl-cicd.io/v1\", \"kind\": \"Other\"}",
                "not an audit report",
            ),
        ] {
            let e = Baseline::parse(text, "b.json").unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(says), "{e}");
        }
    }
}
