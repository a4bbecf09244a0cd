//! `kubectl cicd audit`: a read-only review of who can change what, aimed at CI/CD identities.
//!
//! One path: read the cluster ([`gather`]: every list at once, Secrets metadata-only, refusals
//! kept as gaps), turn the objects into a [`model::Snapshot`] ([`snapshot`]), analyse it
//! ([`analyze`], pure, with the rule [`rules`] catalogue, [`resolve`]d bindings and
//! [`exceptions`], and with `--audit-log` what ServiceAccounts did, from [`crate::auditlog`]),
//! and render the [`model::Report`] ([`output`]). Nothing is ever written to the cluster. The
//! exit code gates pipelines: 0 no open finding at or above `--fail-on`,
//! 1 findings, 2 could not audit, 3 incomplete (a collection could not be read and
//! `--allow-gaps` was not given: a gate must not pass on data it did not see).

pub mod analyze;
pub mod exceptions;
pub mod gather;
pub mod matrix;
pub mod model;
pub mod output;
pub mod resolve;
pub mod rules;
pub mod snapshot;

use std::io::Write;
use std::time::Instant;

use crate::cli::{AuditFlags, AuditFormat, FailOn, GlobalFlags};
use crate::error::{Error, Result, exit};
use crate::target::Target;
use crate::ui::{Prompts, Ui};

use model::{Report, Scope, Severity};

pub fn fail_on_severity(f: FailOn) -> Option<Severity> {
    match f {
        FailOn::Critical => Some(Severity::Critical),
        FailOn::High => Some(Severity::High),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::Low => Some(Severity::Low),
        FailOn::None => None,
    }
}

/// Runs the audit and prints the report; returns the exit code ([`exit::SUCCESS`],
/// [`exit::FAILURE`] or [`exit::INCOMPLETE`]). Errors mean the audit could not run
/// ([`exit::USAGE`]).
pub async fn run(global: &GlobalFlags, flags: &AuditFlags) -> Result<u8> {
    let target = Target::resolve(
        global,
        flags.namespaces.all_namespaces,
        Ui::detect(Prompts::Never),
    )?;
    let (ui, source) = (&target.ui, &target.source);
    let namespace = target.namespace().to_string();
    let all_namespaces = target.all_namespaces;
    let scope = Scope {
        namespaces: if all_namespaces {
            Vec::new()
        } else {
            vec![namespace.clone()]
        },
        all_namespaces,
        service_account: flags.sa.clone(),
    };

    let cluster = target.connect()?;
    let started = Instant::now();
    let spinner = ui.spinner(&format!(
        "Reading ServiceAccounts, Roles, bindings and token Secret metadata ({}) from {}",
        output::scope_text(&Scope {
            service_account: None,
            ..scope.clone()
        }),
        cluster.server()
    ));
    let gathered = match gather::gather(&cluster, target.namespaces()).await {
        Ok(g) => g,
        Err(e) => {
            spinner.fail();
            return Err(e);
        }
    };
    let elapsed = started.elapsed();
    spinner.finish(&format!(
        "Read {} objects in {} requests ({:.2} s)",
        gathered.objects.len(),
        gathered.requests,
        elapsed.as_secs_f64()
    ));
    if flags.output != AuditFormat::Table {
        // The table shows them at its top; data on stdout needs them said here too.
        for gap in &gathered.gaps {
            ui.warn(format!("not audited: {gap}"));
        }
    }

    let usage = if flags.audit_logs.is_empty() {
        None
    } else {
        Some(read_usage(ui, &flags.audit_logs).await?)
    };

    let taken_at = crate::timestamp::now();
    let mut snapshot = snapshot::from_objects(&gathered.objects, &taken_at);
    snapshot.gaps.extend(gathered.gaps.iter().cloned());

    let options = analyze::Options {
        ignores: flags.ignore.clone(),
        usage,
        ..Default::default()
    };
    let findings = analyze::analyze(&snapshot, &scope, &options);
    let summary = analyze::summarize(&findings);
    let generated_by = match &gathered.caller {
        Some(me) => me.username.clone(),
        None => source
            .user_name
            .clone()
            .map(|u| format!("{u} (kubeconfig user; the server does not serve SelfSubjectReview)"))
            .unwrap_or_else(|| "unknown".into()),
    };
    let report = Report {
        scope,
        generated_at: taken_at,
        generated_by,
        cluster: source.cluster_name.clone(),
        findings,
        gaps: snapshot.gaps.clone(),
        summary,
    };
    let matrix = flags
        .sa
        .as_ref()
        .map(|sa| matrix::access_matrix(&snapshot, &namespace, sa));
    if let Some(sa) = &flags.sa
        && !snapshot
            .service_accounts
            .iter()
            .any(|m| &m.name == sa && m.namespace.as_deref() == Some(namespace.as_str()))
    {
        ui.warn(format!(
            "ServiceAccount {namespace}/{sa} was not found{}: the matrix shows what bindings to that name grant",
            if gathered.counts.service_accounts.is_none() {
                " (ServiceAccounts could not be listed)"
            } else {
                ""
            }
        ));
    }

    let fail_on = fail_on_severity(flags.fail_on);
    let ctx = output::Context {
        server: cluster.server(),
        context: &source.context_name,
        fail_on,
        requests: gathered.requests,
        matrix: matrix.as_ref(),
        allow_gaps: flags.allow_gaps,
    };
    let text = match flags.output {
        AuditFormat::Table => output::table::render(&report, &ctx, crate::ui::stdout_color()),
        AuditFormat::Json => output::json::render(&report, &ctx),
        AuditFormat::Sarif => output::sarif::render(&report, &ctx),
        AuditFormat::Markdown => output::markdown::render(&report, &ctx),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`| head`) is not worth a panic, but the report did not get out.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(Error::Terminal(format!("cannot write the report: {e}")));
        }
    }
    drop(stdout);

    if flags.output != AuditFormat::Table {
        ui.say(output::gate_text(&report, fail_on, flags.allow_gaps));
    }
    Ok(match output::verdict(&report, fail_on, flags.allow_gaps) {
        output::Verdict::Fail(_) => exit::FAILURE,
        output::Verdict::Incomplete => exit::INCOMPLETE,
        output::Verdict::Pass => exit::SUCCESS,
    })
}

/// What every ServiceAccount did, from the audit logs (`--audit-log`), read in a blocking task.
async fn read_usage(
    ui: &Ui,
    sources: &[crate::auditlog::Source],
) -> Result<crate::auditlog::Usages> {
    crate::auditlog::read::check_sources(sources)?;
    let spinner = ui.spinner("Reading the audit logs for what ServiceAccounts did");
    let owned = sources.to_vec();
    let read = tokio::task::spawn_blocking(move || crate::auditlog::service_accounts(&owned))
        .await
        .map_err(|e| Error::Internal {
            context: "reading the audit logs".into(),
            message: e.to_string(),
        })
        .and_then(|r| r);
    match read {
        Ok(usages) => {
            let n = usages.by_user.len();
            spinner.finish(&format!(
                "Read the audit logs: requests of {n} ServiceAccount{}",
                if n == 1 { "" } else { "s" }
            ));
            Ok(usages)
        }
        Err(e) => {
            spinner.fail();
            Err(e)
        }
    }
}
