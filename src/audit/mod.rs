//! `kubectl cicd audit`: a read-only review of who can change what, aimed at CI/CD identities.
//!
//! One path: read the cluster ([`gather`]: every list at once, Secrets metadata-only, refusals
//! kept as gaps), turn the objects into a [`model::Snapshot`] ([`snapshot`]), analyse it
//! ([`analyze`], pure, with the rule [`rules`] catalogue, [`resolve`]d bindings and
//! [`exceptions`]), and render the [`model::Report`] ([`output`]). Nothing is ever written to
//! the cluster. The exit code gates pipelines: 0 no open finding at or above `--fail-on`,
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

/// What [`pull_controller_check`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PullControllerCheck {
    /// The `pull-controller-cluster-wide` findings about ServiceAccounts of the namespace.
    pub findings: Vec<model::Finding>,
    /// What could not be read (for a namespace admin, the ClusterRoleBindings that would hold
    /// such a grant): the check is incomplete while this is not empty.
    pub gaps: Vec<String>,
}

/// The audit's pull-controller check, for other commands (`argocd install` runs it on what it
/// applied): the namespace's RBAC read as `audit -n NAMESPACE` reads it, analysed, and only
/// the `pull-controller-cluster-wide` findings kept (a pull-style controller's ServiceAccount
/// holding cluster-wide rights). Read-only.
pub async fn pull_controller_check(
    cluster: &crate::cluster::Cluster,
    namespace: &str,
) -> Result<PullControllerCheck> {
    let gathered = gather::gather(cluster, crate::cluster::Namespaces::One(namespace)).await?;
    let mut snapshot = snapshot::from_objects(&gathered.objects, &crate::timestamp::now());
    snapshot.gaps.extend(gathered.gaps.iter().cloned());
    let scope = Scope {
        namespaces: vec![namespace.to_string()],
        all_namespaces: false,
        service_account: None,
    };
    let findings = analyze::analyze(&snapshot, &scope, &analyze::Options::default())
        .into_iter()
        .filter(|f| f.rule == rules::PULL_CONTROLLER_CLUSTER_WIDE.id)
        .collect();
    Ok(PullControllerCheck {
        findings,
        gaps: snapshot.gaps,
    })
}

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

    let taken_at = crate::timestamp::now();
    let mut snapshot = snapshot::from_objects(&gathered.objects, &taken_at);
    snapshot.gaps.extend(gathered.gaps.iter().cloned());

    let options = analyze::Options {
        ignores: flags.ignore.clone(),
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
