//! `audit --all-contexts` and `--contexts a,b,c`: every cluster of a kubeconfig, each audited
//! as `audit` audits one, at most `--parallel` at a time. A cluster that cannot be audited
//! (unreachable, refused credentials, no right to list anything) is a stated gap of the fleet,
//! and the others are still reported.

use std::io::Write;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::baseline::Baseline;
use super::output::{self, Verdict};
use super::{Audited, audit_cluster, fail_on_severity, finish_write, write_stdout};
use crate::cli::{AuditFlags, AuditFormat, GlobalFlags};
use crate::error::{Error, Result, exit};
use crate::kubeconfig::{self, SourceSelection};
use crate::target::Target;
use crate::ui::Ui;

/// One context of the fleet: its audit, or why it could not be audited.
pub struct Member {
    pub context: String,
    pub outcome: std::result::Result<Audited, String>,
    /// With `-o json`, the cluster's document, made as soon as its audit ends (so that it
    /// overlaps the other clusters' audits instead of following them all).
    pub json: Option<serde_json::Value>,
}

/// Audits the fleet, prints the report and returns the exit code.
pub async fn run(
    global: &GlobalFlags,
    flags: &AuditFlags,
    ui: &Ui,
    baseline: Option<&Baseline>,
) -> Result<u8> {
    let contexts = contexts(global, flags)?;
    ui.say(format!(
        "Auditing {} contexts, {} at a time: {}",
        contexts.len(),
        flags.parallel.min(contexts.len() as u16),
        contexts.join(", ")
    ));
    let limit = Arc::new(Semaphore::new(usize::from(flags.parallel)));
    let baseline = baseline.cloned().map(Arc::new);
    let fail_on = fail_on_severity(flags.fail_on);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, context) in contexts.iter().cloned().enumerate() {
        let (global, flags, limit) = (global.clone(), flags.clone(), limit.clone());
        let baseline = baseline.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            // One line per cluster in the fleet's summaries.
            let mut outcome = audit_one(&global, &flags, &context)
                .await
                .map_err(|e| e.to_string().replace('\n', " "));
            let mut json = None;
            if let Ok(a) = &mut outcome {
                if let Some(b) = &baseline {
                    a.report.fixed = b.compare(Some(&context), &mut a.report.findings);
                    a.report.baseline_file = Some(b.file.clone());
                }
                if flags.output == AuditFormat::Json {
                    json = Some(output::fleet::cluster_json(
                        a,
                        &context,
                        fail_on,
                        flags.allow_gaps,
                    ));
                }
            }
            (
                index,
                Member {
                    context,
                    outcome,
                    json,
                },
            )
        });
    }
    let mut members: Vec<Option<Member>> = (0..contexts.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, member) = joined.map_err(|e| Error::Internal {
            context: "auditing the fleet".into(),
            message: format!("an audit task failed: {e}"),
        })?;
        members[index] = Some(member);
    }
    let members: Vec<Member> = members.into_iter().flatten().collect();
    for m in &members {
        if let Err(why) = &m.outcome {
            ui.warn(format!("context {}: not audited: {why}", m.context));
        }
    }

    let fleet = output::fleet::Fleet {
        members: &members,
        fail_on,
        allow_gaps: flags.allow_gaps,
    };
    if flags.output == AuditFormat::Json {
        // Streamed, as a single cluster's report is.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        finish_write(output::fleet::write_json(&fleet, &mut out).and_then(|()| out.flush()))?;
    } else {
        write_stdout(&output::fleet::render(&fleet, flags.output))?;
    }
    let verdict = fleet.verdict();
    ui.say(fleet.gate_text());
    Ok(match verdict {
        output::fleet::FleetVerdict::Cluster(Verdict::Fail(_)) => exit::FAILURE,
        output::fleet::FleetVerdict::ClustersMissing => exit::CLUSTERS_MISSING,
        output::fleet::FleetVerdict::Cluster(Verdict::Incomplete) => exit::INCOMPLETE,
        output::fleet::FleetVerdict::Cluster(Verdict::Pass) => exit::SUCCESS,
    })
}

/// The contexts to audit: `--contexts` (each must exist) or every one.
fn contexts(global: &GlobalFlags, flags: &AuditFlags) -> Result<Vec<String>> {
    let known = kubeconfig::context_names(&SourceSelection {
        kubeconfig: global.kubeconfig.clone(),
        context: None,
        namespace: None,
    })?;
    if flags.all_contexts {
        if known.is_empty() {
            return Err(Error::Kubeconfig(
                "the kubeconfig defines no context: there is nothing to audit".into(),
            ));
        }
        return Ok(known);
    }
    let mut asked: Vec<String> = Vec::new();
    for c in flags
        .contexts
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
    {
        if !known.iter().any(|k| k == c) {
            return Err(Error::Usage(format!(
                "--contexts: the kubeconfig has no context {:?} (it has: {})",
                c,
                known.join(", ")
            )));
        }
        if !asked.iter().any(|a| a == c) {
            asked.push(c.to_string());
        }
    }
    if asked.is_empty() {
        return Err(Error::Usage(
            "--contexts needs at least one context name (or use --all-contexts)".into(),
        ));
    }
    Ok(asked)
}

async fn audit_one(global: &GlobalFlags, flags: &AuditFlags, context: &str) -> Result<Audited> {
    let target = Target::for_context(
        global,
        context,
        flags.namespaces.all_namespaces,
        Ui::lines_only(),
    )?;
    audit_cluster(&target.source, target.namespaces(), flags, &target.ui, None).await
}
