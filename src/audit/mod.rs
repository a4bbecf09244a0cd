//! `kubectl cicd audit`: a read-only review of who can change what, aimed at CI/CD identities.
//!
//! One path: read the objects (from the cluster, [`gather`]: every list at once, Secrets
//! metadata-only, refusals kept as gaps; from files, [`files`]; or both), turn them into a
//! [`model::Snapshot`] ([`snapshot`]), analyse it ([`analyze`], pure, with the rule [`rules`]
//! catalogue, [`resolve`]d bindings and [`exceptions`], and with `--audit-log` what
//! ServiceAccounts did, from [`crate::auditlog`]), compare it with a [`baseline`] when given,
//! and render the [`model::Report`] ([`output`]). Every context of a kubeconfig is audited the
//! same way, each on its own ([`fleet`]). Nothing is ever written to a cluster.
//! The exit codes gate pipelines (`error::exit`): 0 no open finding at or above `--fail-on`,
//! 1 findings, 2 could not audit, 3 incomplete (a collection could not be read and
//! `--allow-gaps` was not given: a gate must not pass on data it did not see), 4 some clusters
//! of a fleet could not be audited at all.

pub mod analyze;
pub mod baseline;
pub mod exceptions;
pub mod files;
pub mod fleet;
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
use crate::cluster::Namespaces;
use crate::error::{Error, Result, exit};
use crate::kubeconfig::SourceContext;
use crate::target::Target;
use crate::ui::{Prompts, Ui};

use baseline::Baseline;
use files::FileObjects;
use model::{Report, Scope, Severity, Snapshot};

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
    let mut snapshot = gathered.snapshot;
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

/// One audited cluster (or set of files), ready to render.
pub struct Audited {
    pub report: Report,
    /// The API server's URL; empty for files.
    pub server: String,
    /// The kubeconfig context; empty for files.
    pub context: String,
    pub requests: usize,
    /// `--sa`: the identity's access matrix.
    pub matrix: Option<matrix::Matrix>,
}

/// Runs the audit and prints the report; returns the exit code ([`exit::SUCCESS`],
/// [`exit::FAILURE`], [`exit::INCOMPLETE`] or, for a fleet, [`exit::CLUSTERS_MISSING`]).
/// Errors mean the audit could not run ([`exit::USAGE`]).
pub async fn run(global: &GlobalFlags, flags: &AuditFlags) -> Result<u8> {
    let ui = Ui::detect(Prompts::Never);
    let baseline = flags.baseline.as_deref().map(Baseline::read).transpose()?;
    if flags.all_contexts || !flags.contexts.is_empty() {
        return fleet::run(global, flags, &ui, baseline.as_ref()).await;
    }
    let mut audited = if !flags.filenames.is_empty() && !flags.with_cluster {
        audit_files(global, flags, &ui).await?
    } else {
        let target = Target::resolve(
            global,
            flags.namespaces.all_namespaces,
            Ui::detect(Prompts::Never),
        )?;
        // Namespaced objects of the files without a namespace go where kubectl would put them.
        let from_files = (!flags.filenames.is_empty())
            .then(|| files::read(&flags.filenames, target.namespace()))
            .transpose()?;
        audit_cluster(&target.source, target.namespaces(), flags, &ui, from_files).await?
    };
    if let Some(b) = &baseline {
        audited.report.fixed = b.compare(Some(&audited.context), &mut audited.report.findings);
        audited.report.baseline_file = Some(b.file.clone());
    }
    print(&audited, flags, &ui)
}

/// The scope of an audit of namespace `namespace`, or of all with `all_namespaces`.
fn scope(namespace: &str, all_namespaces: bool, flags: &AuditFlags) -> Scope {
    Scope {
        namespaces: if all_namespaces {
            Vec::new()
        } else {
            vec![namespace.to_string()]
        },
        all_namespaces,
        service_account: flags.sa.clone(),
    }
}

/// `-f` alone: the files' objects, no cluster. Every namespace of the files is audited, or
/// `-n`'s only. Roles the files' bindings refer to but do not hold are gaps, not findings:
/// they may well exist in the cluster (the default ClusterRoles always do).
async fn audit_files(global: &GlobalFlags, flags: &AuditFlags, ui: &Ui) -> Result<Audited> {
    if let Some(ns) = &global.namespace {
        crate::names::validate_namespace(ns)?;
    }
    let read = files::read(
        &flags.filenames,
        global.namespace.as_deref().unwrap_or("default"),
    )?;
    ui.ok(format!(
        "Read {} objects from {} file{}",
        read.objects,
        read.files,
        if read.files == 1 { "" } else { "s" }
    ));
    let sources = read.sources;
    let mut snapshot = read.snapshot;
    snapshot.taken_at = crate::timestamp::now();
    let unresolved = unresolved_roles(&snapshot);
    snapshot.gaps.extend(unresolved.iter().map(|(role, by)| {
        format!(
            "{role}: not in the files (bound by {by}); what it grants was not judged. \
             Pass --with-cluster to judge it with the cluster's own"
        )
    }));
    // Without -n every namespace of the files; --sa's ServiceAccount is then in `default`,
    // where objects without a namespace went.
    let namespace = global.namespace.clone().unwrap_or_else(|| "default".into());
    let scope = scope(
        &namespace,
        global.namespace.is_none() && flags.sa.is_none(),
        flags,
    );
    let usage = read_usage(ui, flags).await?;
    let mut report = analyse(&snapshot, scope, flags, usage, "files".into(), local_user());
    // A role the files do not hold is a gap (above), not a missing role.
    report.findings.retain(|f| {
        f.rule != rules::MISSING_ROLE.id
            || !f
                .via
                .iter()
                .any(|v| unresolved.iter().any(|(r, _)| *r == v.role))
    });
    report.summary = analyze::summarize(&report.findings);
    locate(&mut report, Some(&sources));
    if !binding_names_sa(&snapshot, &namespace, flags) {
        check_sa_exists(&snapshot, &namespace, flags, " in the files")?;
    }
    let matrix = sa_matrix(&snapshot, &namespace, flags);
    Ok(Audited {
        report,
        server: String::new(),
        context: String::new(),
        requests: 0,
        matrix,
    })
}

/// The roles that bindings refer to and the snapshot lacks, each with its first binder:
/// `("ClusterRole edit", "RoleBinding shop/deploy")`.
fn unresolved_roles(snapshot: &Snapshot) -> Vec<(String, String)> {
    use std::collections::HashSet;
    fn held(roles: &[model::RoleData]) -> HashSet<(&str, Option<&str>)> {
        roles
            .iter()
            .map(|r| (r.meta.name.as_str(), r.meta.namespace.as_deref()))
            .collect()
    }
    let (roles, cluster_roles) = (held(&snapshot.roles), held(&snapshot.cluster_roles));
    let mut out: Vec<(String, String)> = Vec::new();
    let mut named: HashSet<String> = HashSet::new();
    for b in snapshot
        .role_bindings
        .iter()
        .chain(&snapshot.cluster_role_bindings)
    {
        let (held, namespace) = match b.role_ref.kind.as_str() {
            "ClusterRole" => (&cluster_roles, None),
            _ => (&roles, b.meta.namespace.as_deref()),
        };
        if held.contains(&(b.role_ref.name.as_str(), namespace)) {
            continue;
        }
        let role = resolve::object_label(&b.role_ref.kind, namespace, &b.role_ref.name);
        if named.insert(role.clone()) {
            let kind = if b.meta.namespace.is_some() {
                "RoleBinding"
            } else {
                "ClusterRoleBinding"
            };
            out.push((
                role,
                resolve::object_label(kind, b.meta.namespace.as_deref(), &b.meta.name),
            ));
        }
    }
    out
}

/// Points each finding at the file and line of its object, when it came from a file.
fn locate(report: &mut Report, sources: Option<&files::Sources>) {
    if let Some(sources) = sources {
        for f in &mut report.findings {
            f.location = sources.locate(f);
        }
    }
}

/// `--sa`: the ServiceAccount's access matrix.
fn sa_matrix(snapshot: &Snapshot, namespace: &str, flags: &AuditFlags) -> Option<matrix::Matrix> {
    flags
        .sa
        .as_ref()
        .map(|sa| matrix::access_matrix(snapshot, namespace, sa))
}

/// `--sa NAME`: refuses a ServiceAccount the snapshot does not hold (`place`: where it was
/// looked for, for the message), as kubectl refuses `get` of a missing object.
fn check_sa_exists(
    snapshot: &Snapshot,
    namespace: &str,
    flags: &AuditFlags,
    place: &str,
) -> Result<()> {
    let Some(sa) = &flags.sa else {
        return Ok(());
    };
    let exists = snapshot
        .service_accounts
        .iter()
        .any(|m| &m.name == sa && m.namespace.as_deref() == Some(namespace));
    if exists {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "no ServiceAccount {sa} in namespace {namespace}{place}: check the name and namespace \
         (kubectl get serviceaccounts -n {namespace}); bindings that name a missing \
         ServiceAccount are reported by an audit without --sa"
    )))
}

/// Whether a binding of the snapshot names `--sa`'s ServiceAccount: a pull request may grant
/// rights to a ServiceAccount that lives in the cluster, not in its files.
fn binding_names_sa(snapshot: &Snapshot, namespace: &str, flags: &AuditFlags) -> bool {
    let Some(sa) = &flags.sa else {
        return false;
    };
    snapshot
        .role_bindings
        .iter()
        .chain(&snapshot.cluster_role_bindings)
        .flat_map(|b| &b.subjects)
        .any(|s| {
            s.kind == "ServiceAccount"
                && &s.name == sa
                && s.namespace.as_deref().unwrap_or(namespace) == namespace
        })
}

/// Who runs an audit of files: the local user, as the report's `generatedBy`.
fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .map(|u| format!("{u} (local files, no cluster)"))
        .unwrap_or_else(|_| "local files, no cluster".into())
}

/// The analysis of `snapshot` as a report; `usage` is what `--audit-log` shows
/// ServiceAccounts did.
fn analyse(
    snapshot: &Snapshot,
    scope: Scope,
    flags: &AuditFlags,
    usage: Option<crate::auditlog::Usages>,
    cluster: String,
    generated_by: String,
) -> Report {
    let options = analyze::Options {
        ignores: flags.ignore.clone(),
        usage,
        ..Default::default()
    };
    let findings = analyze::analyze(snapshot, &scope, &options);
    let summary = analyze::summarize(&findings);
    Report {
        scope,
        generated_at: snapshot.taken_at.clone(),
        generated_by,
        cluster,
        findings,
        gaps: snapshot.gaps.clone(),
        summary,
        ..Report::default()
    }
}

/// The live cluster of `source` (`place`: one namespace or all), with `files`' objects in
/// place of the cluster's objects of the same kind, namespace and name.
pub async fn audit_cluster(
    source: &SourceContext,
    place: Namespaces<'_>,
    flags: &AuditFlags,
    ui: &Ui,
    files: Option<FileObjects>,
) -> Result<Audited> {
    let (namespace, all_namespaces) = match place {
        Namespaces::One(ns) => (ns.to_string(), false),
        Namespaces::All => (source.namespace.clone(), true),
    };
    let scope = scope(&namespace, all_namespaces, flags);
    let cluster = crate::cluster::Cluster::connect(source.config.clone())?;
    let started = Instant::now();
    let spinner = ui.spinner(&format!(
        "Reading ServiceAccounts, Roles, bindings and token Secret metadata ({}) from {}",
        output::scope_text(&Scope {
            service_account: None,
            ..scope.clone()
        }),
        cluster.server()
    ));
    let mut gathered = match gather::gather(&cluster, place).await {
        Ok(g) => g,
        Err(e) => {
            spinner.fail();
            return Err(e);
        }
    };
    let elapsed = started.elapsed();
    spinner.finish(&format!(
        "Read {} objects in {} requests ({:.2} s)",
        gathered.objects,
        gathered.requests,
        elapsed.as_secs_f64()
    ));
    if flags.output != AuditFormat::Table {
        // The table shows them at its top; data on stdout needs them said here too.
        for gap in &gathered.gaps {
            ui.warn(format!("not audited: {gap}"));
        }
    }

    let mut snapshot = std::mem::take(&mut gathered.snapshot);
    let sources = files.map(|read| {
        snapshot::remove_objects(&mut snapshot, |kind, ns, name| {
            read.sources.holds(kind, ns, name)
        });
        snapshot::append(&mut snapshot, read.snapshot);
        read.sources
    });
    snapshot.gaps.extend(gathered.gaps.iter().cloned());
    let usage = read_usage(ui, flags).await?;

    let generated_by = match &gathered.caller {
        Some(me) => me.username.clone(),
        None => source
            .user_name
            .clone()
            .map(|u| format!("{u} (kubeconfig user; the server does not serve SelfSubjectReview)"))
            .unwrap_or_else(|| "unknown".into()),
    };
    let mut report = analyse(
        &snapshot,
        scope,
        flags,
        usage,
        source.cluster_name.clone(),
        generated_by,
    );
    locate(&mut report, sources.as_ref());
    if gathered.counts.service_accounts.is_some() {
        check_sa_exists(&snapshot, &namespace, flags, "")?;
    } else if let Some(sa) = &flags.sa {
        ui.warn(format!(
            "ServiceAccounts could not be listed, so whether {namespace}/{sa} exists is unknown: \
             the matrix shows what bindings to that name grant"
        ));
    }
    let matrix = sa_matrix(&snapshot, &namespace, flags);
    Ok(Audited {
        report,
        server: cluster.server().to_string(),
        context: source.context_name.clone(),
        requests: gathered.requests,
        matrix,
    })
}

/// Renders one audit to stdout and says how the gate ends; returns the exit code.
fn print(audited: &Audited, flags: &AuditFlags, ui: &Ui) -> Result<u8> {
    let fail_on = fail_on_severity(flags.fail_on);
    let report = &audited.report;
    let ctx = output::Context {
        server: &audited.server,
        context: &audited.context,
        fail_on,
        requests: audited.requests,
        matrix: audited.matrix.as_ref(),
        allow_gaps: flags.allow_gaps,
    };
    let text = match flags.output {
        AuditFormat::Table => output::table::for_stdout(report, &ctx),
        AuditFormat::Json => {
            // Streamed: the largest output, and pipelines read it.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            finish_write(output::json::write(report, &ctx, &mut out).and_then(|()| out.flush()))?;
            String::new()
        }
        AuditFormat::Sarif => output::sarif::render(report, &ctx),
        AuditFormat::Markdown => output::markdown::render(report, &ctx),
    };
    write_stdout(&text)?;
    if flags.output != AuditFormat::Table {
        ui.say(output::gate_text(report, fail_on, flags.allow_gaps));
    }
    Ok(match output::verdict(report, fail_on, flags.allow_gaps) {
        output::Verdict::Fail(_) => exit::FAILURE,
        output::Verdict::Incomplete => exit::INCOMPLETE,
        output::Verdict::Pass => exit::SUCCESS,
    })
}

/// Writes the report; a closed pipe (`| head`) ends it quietly, other errors are errors.
pub fn write_stdout(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    finish_write(
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush()),
    )
}

fn finish_write(written: std::io::Result<()>) -> Result<()> {
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Terminal(format!("cannot write the report: {e}")))
        }
        _ => Ok(()),
    }
}

/// What every ServiceAccount did, from the audit logs (`--audit-log`), read in a blocking task.
async fn read_usage(ui: &Ui, flags: &AuditFlags) -> Result<Option<crate::auditlog::Usages>> {
    let sources = flags.audit_logs.as_slice();
    if sources.is_empty() {
        return Ok(None);
    }
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
            Ok(Some(usages))
        }
        Err(e) => {
            spinner.fail();
            Err(e)
        }
    }
}
