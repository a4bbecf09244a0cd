//! `kubectl cicd init`: from the current kubeconfig context to a verified
//! `kubeconfig_ci_cd.yaml`.
//!
//! The wizard and the flags produce the same [`plan::Choices`]; everything after that is
//! one path: plan, refuse what the server would refuse, preview, apply, token, verify,
//! write. Nothing is written to the cluster before every check that can run first has run,
//! and no kubeconfig is written before the new identity has been verified. A failure part-way
//! says which objects exist and that running init again finishes the job ([`Progress`]).

pub mod choices;
pub mod objects;
pub mod plan;
mod report;
pub mod wizard;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::cli::{GlobalFlags, InitFlags};
use crate::cluster::{Cluster, IdentityLock};
use crate::error::{Error, Result};
use crate::issue::token::Issued;
use crate::issue::write::{Output, TokenNote};
use crate::issue::{tls, token, verify, write};
use crate::k8s::SA_NAME_ANNOTATION;
use crate::managed::{
    self, IDENTITY_LABEL, MANAGED_BY, MANAGED_BY_LABEL, Provenance, TOKEN_SECRET, TokenRecord,
};
use crate::progress::Progress;
use crate::rbac::{self, Rule};
use crate::run_lock;
use crate::target::Target;
use crate::timestamp::rfc3339;
use crate::ui::{Prompts, Ui, Verbosity};

use objects::{Desired, Existing};
use plan::{Plan, TokenPlan};

/// The most API requests a non-interactive `init` of a new identity with a Secret token
/// sends: who the caller is and what it holds, discovery (two documents), the lock's create and
/// delete, three reads of what exists and three applies, the token Secret's create and the
/// reads until it is filled, and who the new token is and what it holds. The integration tests
/// hold a run to it on both test servers.
pub const REQUEST_BUDGET: usize = 17;

pub async fn run(global: &GlobalFlags, flags: &InitFlags) -> Result<()> {
    let mut progress = Progress::default();
    progress.note("No kubeconfig was written.");
    let result = crate::interrupt::stoppable(run_with(global, flags, &mut progress)).await;
    progress.finish(result, Prompts::unless(flags.yes)).await
}

async fn run_with(global: &GlobalFlags, flags: &InitFlags, progress: &mut Progress) -> Result<()> {
    check_flags(flags)?;
    let target = tls::pipeline_target(
        global,
        Ui::detect(Prompts::unless(flags.yes)).with_verbosity(flags.verbosity.level()),
        flags.insecure_skip_tls_verify,
    )?;
    let namespace = target.namespace().to_string();
    let (ui, source) = (&target.ui, &target.source);
    *progress = Progress::new(&namespace);
    progress.note("No kubeconfig was written.");
    report::context(ui, source);
    if ui.interactive()
        && !ui.confirm("Set up CI/CD access in this context and namespace?", true)?
    {
        return Err(Error::Cancelled);
    }
    if !ui.interactive() && !flags.dry_run {
        refuse_unwritable_output(flags, &source.files)?;
    }

    let cluster = target.connect()?;
    let me = cluster.whoami().await?;
    progress.connected();
    ui.ok(format!(
        "Connected as {} (groups: {})",
        me.username,
        me.groups.join(", ")
    ));
    let review = cluster.rules_review(&namespace).await?;
    let held = verify::held_rules(&review);
    report::held_permissions(ui, &review);
    refuse_empty_namespace(&cluster, &namespace, &held).await?;
    if ui.interactive() && !review.incomplete {
        // No question is worth asking when no answer could be carried out.
        plan::check_writer_first(&held, &namespace)?;
    }
    let discovered = cluster.discover().await?;

    let choices = if ui.interactive() {
        wizard::ask(ui, flags, &discovered.kinds, &held, &source.files)?
    } else {
        choices::from_flags(flags, &discovered.kinds)?
    };
    for s in &choices.skipped {
        ui.warn(format!(
            "not granted: {} ({})",
            rbac::rule::group_resource(&s.want.group, &s.want.resource),
            s.reason
        ));
    }
    let plan = Plan::new(&namespace, choices)?;
    if !flags.dry_run {
        // The wizard's answer, checked as the flags were before any request.
        write::check_output(&plan.choices.output, plan.choices.overwrite, &source.files)?;
    }
    for d in &plan.role.dropped {
        ui.warn(format!("not granted: {d}"));
    }
    plan::check_grantable(&plan, &me.username, &me.groups, &held)?;

    // From here on no other run may change the identity: two inits at once would each verify
    // what the other may overwrite. A dry run changes nothing and takes no lock.
    let lock = if flags.dry_run {
        None
    } else {
        run_lock::take(ui, &cluster, &namespace, plan.name(), &me.username).await?
    };
    progress.hold_lock(&cluster, &lock);
    let result = apply_and_write(
        &target,
        &cluster,
        flags,
        &plan,
        &me.username,
        &lock,
        progress,
    )
    .await;
    run_lock::give_back(ui, &cluster, lock).await;
    progress.lock_released();
    result
}

/// Everything after the lock is taken: read what exists, refuse what is not ours, preview,
/// apply, token, verify, write.
async fn apply_and_write(
    target: &Target,
    cluster: &Cluster,
    flags: &InitFlags,
    plan: &Plan,
    me: &str,
    lock: &Option<IdentityLock>,
    progress: &mut Progress,
) -> Result<()> {
    let (ui, source) = (&target.ui, &target.source);
    let namespace = plan.namespace.clone();
    let existing = existing(cluster, &namespace, plan.name()).await?;
    for (kind, there) in [
        ("ServiceAccount", existing.service_account.is_some()),
        ("Role", existing.role.is_some()),
        ("RoleBinding", existing.role_binding.is_some()),
    ] {
        if there {
            progress.existed(format!("{kind} {}", plan.name()));
        }
    }
    let provenance = existing.provenance().unwrap_or_else(|| Provenance {
        created_by: me.to_string(),
        created_at: crate::timestamp::now(),
    });
    let record = token_record(plan, &existing);
    let desired = objects::desired(plan, &provenance, &record);
    if flags.dry_run {
        crate::ui::print_data(&objects::yaml_stream(&desired));
        ui.say("Dry run: nothing was changed.");
        return Ok(());
    }
    report::preview(
        ui,
        &desired,
        &existing,
        ui.interactive() || ui.verbosity() == Verbosity::Verbose,
    );
    if ui.interactive() && !ui.confirm("Apply these objects?", true)? {
        return Err(Error::Cancelled);
    }

    run_lock::check_held(lock)?;
    apply(ui, cluster, &desired, &existing, progress).await?;
    let issued = obtain_token(ui, cluster, plan, &desired, &existing, progress).await?;
    verify::verify(
        ui,
        source,
        &plan.namespace,
        plan.name(),
        &plan.role.rules,
        &issued.token,
    )
    .await?;
    if let Some(expires_at) = issued.expires_at {
        // The server keeps no record of TokenRequest tokens: the ServiceAccount does.
        let issued_at = crate::timestamp::now();
        let record = TokenRecord::request(Some((issued_at, rfc3339(expires_at))));
        let sa = objects::desired(plan, &provenance, &record).service_account;
        let what = format!("ServiceAccount {}", plan.name());
        progress.attempt(what.clone());
        cluster.apply(&sa).await?;
        progress.exists(what);
    }
    let output = Output {
        path: plan.choices.output.clone(),
        overwrite: plan.choices.overwrite,
        server: plan.choices.server.clone(),
    };
    run_lock::check_held(lock)?;
    let path = write::write_kubeconfig(source, &plan.namespace, plan.name(), &issued, &output)?;
    let expires = issued.expires_at.map(rfc3339);
    let secret = desired
        .token_secret
        .as_ref()
        .and_then(|s| s.metadata.name.clone())
        .unwrap_or_default();
    let note = match &expires {
        Some(expires_at) => TokenNote::Request {
            expires_at,
            identity: plan.name(),
        },
        None => TokenNote::Secret {
            namespace: &plan.namespace,
            secret: &secret,
            identity: plan.name(),
        },
    };
    write::next_steps(ui, &path, &note);
    Ok(())
}

/// What the ServiceAccount should record about the token before a new one is obtained: the
/// token Secret in use, while it exists (kept across re-runs and rotations), else a new one
/// under a fresh name; or the last TokenRequest's times.
fn token_record(plan: &Plan, existing: &Existing) -> TokenRecord {
    match plan.choices.token {
        TokenPlan::Secret => {
            let name = existing
                .token_secret
                .as_ref()
                .and_then(|meta| meta.name.clone())
                .unwrap_or_else(|| plan.fresh_token_secret_name());
            TokenRecord::secret(&name)
        }
        TokenPlan::Request { .. } => {
            let before = existing.token_record();
            let issued = match (before.kind.as_deref(), before.issued_at, before.expires_at) {
                (Some("request"), Some(at), Some(until)) => Some((at, until)),
                _ => None,
            };
            TokenRecord::request(issued)
        }
    }
}

/// Refuses, before anything is read or sent, flag values the run would refuse later.
fn check_flags(flags: &InitFlags) -> Result<()> {
    token::check_token_flags(flags.token, flags.token_duration)?;
    if let Some(server) = &flags.server {
        write::validate_server_flag(server)?;
    }
    Ok(())
}

/// The token Secret the ServiceAccount records, if it still exists (metadata only). A Secret
/// that is not this identity's own (another ServiceAccount's token, or not made by
/// kubectl-cicd) is refused: handing out its token would log the pipeline in as someone else.
async fn recorded_token_secret(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    record: &TokenRecord,
) -> Result<Option<ObjectMeta>> {
    let Some(secret) = record
        .secret_name
        .as_deref()
        .filter(|_| record.kind.as_deref() == Some("secret"))
        .filter(|s| managed::is_token_secret_name(name, s))
    else {
        return Ok(None);
    };
    // Deleted (revoked): init makes a new one under a new name, never this one again.
    let Some(meta) = cluster.get_secret_metadata(namespace, secret).await? else {
        return Ok(None);
    };
    let owner = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(SA_NAME_ANNOTATION))
        .map(String::as_str)
        .unwrap_or("");
    if owner != name {
        return Err(Error::Identity(format!(
            "Secret {namespace}/{secret}, which ServiceAccount {name} records as its token Secret \
             ({}), holds a token of ServiceAccount {} ({} is {owner:?}), not of {name}: \
             init will not hand out another identity's token, and changed nothing. Check who changed the record, \
             then remove it and run init again for a new token: kubectl annotate -n {namespace} serviceaccount {name} {}-",
            TOKEN_SECRET,
            if owner.is_empty() {
                "(none named)"
            } else {
                owner
            },
            SA_NAME_ANNOTATION,
            TOKEN_SECRET,
        )));
    }
    if !managed::is_ours(&meta, Some(name)) {
        return Err(Error::Identity(format!(
            "Secret {namespace}/{secret}, which ServiceAccount {name} records as its token Secret, was not made by \
             kubectl-cicd (no labels {MANAGED_BY_LABEL}={MANAGED_BY} and {IDENTITY_LABEL}={name}), so init changed nothing. \
             Remove the record and run init again for a new token Secret: kubectl annotate -n {namespace} serviceaccount {name} {}-",
            TOKEN_SECRET,
        )));
    }
    Ok(Some(meta))
}

/// Refuses a ServiceAccount, Role or RoleBinding of the identity's name that kubectl-cicd did
/// not make: init would change it (and replace a RoleBinding, dropping its subjects' access),
/// and `delete` would later remove it. There is no flag to take one over: labelling it says,
/// on the object and in the cluster's audit log, that someone decided it is this identity's.
fn refuse_foreign(existing: &Existing, namespace: &str, name: &str) -> Result<()> {
    let metas = [
        (
            "ServiceAccount",
            "serviceaccount",
            existing.service_account.as_ref().map(|o| &o.metadata),
        ),
        ("Role", "role", existing.role.as_ref().map(|o| &o.metadata)),
        (
            "RoleBinding",
            "rolebinding",
            existing.role_binding.as_ref().map(|o| &o.metadata),
        ),
    ];
    let foreign: Vec<(&str, &str)> = metas
        .iter()
        .filter_map(|(kind, resource, meta)| {
            meta.filter(|m| !managed::is_ours(m, Some(name)))
                .map(|_| (*kind, *resource))
        })
        .collect();
    let Some((kind, _)) = foreign.first() else {
        return Ok(());
    };
    let objects = foreign
        .iter()
        .map(|(kind, _)| format!("{kind} {namespace}/{name}"))
        .collect::<Vec<_>>()
        .join(", ");
    let resources = foreign
        .iter()
        .map(|(_, resource)| *resource)
        .collect::<Vec<_>>()
        .join(",");
    Err(Error::Identity(format!(
        "{objects} already {} and {} not made by kubectl-cicd (no labels {MANAGED_BY_LABEL}={MANAGED_BY} and \
         {IDENTITY_LABEL}={name}), so init changed nothing. Choose another name for the identity (--name), \
         or, if {} really this identity's, label {} yourself and run init again: \
         kubectl label -n {namespace} {resources} {name} {MANAGED_BY_LABEL}={MANAGED_BY} {IDENTITY_LABEL}={name}",
        if foreign.len() == 1 {
            "exists"
        } else {
            "exist"
        },
        if foreign.len() == 1 { "was" } else { "were" },
        if foreign.len() == 1 {
            format!("the {kind} is")
        } else {
            "they are".to_string()
        },
        if foreign.len() == 1 { "it" } else { "them" },
    )))
}

/// Refuses, before any request, an output init could not write at the end.
fn refuse_unwritable_output(flags: &InitFlags, sources: &[std::path::PathBuf]) -> Result<()> {
    let path = flags
        .output
        .clone()
        .unwrap_or_else(|| write::DEFAULT_OUTPUT.into());
    write::check_output(&path, flags.force, sources)
}

/// When the caller holds nothing at all in the namespace, the likeliest reason is that it does
/// not exist (a typo in `-n`): say so, before any plan or escalation check, and exit 2. A
/// namespace that exists but grants nothing goes on to the escalation check, which says what
/// is missing.
async fn refuse_empty_namespace(cluster: &Cluster, namespace: &str, held: &[Rule]) -> Result<()> {
    let baseline = rbac::verify::baseline_rules();
    let holds_something = held
        .iter()
        .any(|r| r.non_resource_urls.is_empty() && !baseline.contains(r));
    if holds_something {
        return Ok(());
    }
    match cluster.namespace_exists(namespace).await {
        Some(true) => Ok(()),
        Some(false) => Err(Error::NoNamespace {
            namespace: namespace.to_string(),
        }),
        None => Err(Error::NoAccessInNamespace {
            namespace: namespace.to_string(),
        }),
    }
}

async fn apply(
    ui: &Ui,
    cluster: &Cluster,
    d: &Desired,
    existing: &Existing,
    progress: &mut Progress,
) -> Result<()> {
    let spinner = ui.spinner("Applying ServiceAccount, Role and RoleBinding (server-side apply, field manager kubectl-cicd)");
    let name = d.role.metadata.name.clone().unwrap_or_default();
    let result = async {
        progress.attempt(format!("ServiceAccount {name}"));
        let sa = cluster.apply(&d.service_account).await?;
        progress.exists(format!("ServiceAccount {name}"));
        progress.attempt(format!("Role {name}"));
        let role = cluster.apply(&d.role).await?;
        progress.exists(format!("Role {name}"));
        progress.attempt(format!("RoleBinding {name}"));
        let binding = cluster
            .replace_role_binding_if_role_ref_changed(&d.role_binding)
            .await?;
        progress.exists(format!("RoleBinding {name}"));
        Ok::<_, Error>([
            (
                "ServiceAccount",
                outcome(
                    existing.service_account.as_ref().map(|o| &o.metadata),
                    &sa.metadata,
                    false,
                ),
            ),
            (
                "Role",
                outcome(
                    existing.role.as_ref().map(|o| &o.metadata),
                    &role.metadata,
                    false,
                ),
            ),
            (
                "RoleBinding",
                outcome(
                    existing.role_binding.as_ref().map(|o| &o.metadata),
                    &binding.binding.metadata,
                    binding.replaced,
                ),
            ),
        ])
    }
    .await;
    match result {
        Ok(outcomes) => {
            let said: Vec<String> = outcomes
                .iter()
                .map(|(kind, how)| format!("{kind} {name} {how}"))
                .collect();
            spinner.finish(&said.join(", "));
            Ok(())
        }
        Err(e) => {
            spinner.fail();
            Err(e)
        }
    }
}

/// `created`, `configured` or `unchanged`, as kubectl apply says it.
fn outcome(before: Option<&ObjectMeta>, after: &ObjectMeta, replaced: bool) -> &'static str {
    match before {
        None => "created",
        Some(_) if replaced => "replaced (its roleRef changed)",
        Some(b) if b.resource_version == after.resource_version => "unchanged",
        Some(_) => "configured",
    }
}

async fn obtain_token(
    ui: &Ui,
    cluster: &Cluster,
    plan: &Plan,
    desired: &Desired,
    existing: &Existing,
    progress: &mut Progress,
) -> Result<Issued> {
    match (&desired.token_secret, plan.choices.token) {
        (Some(secret), TokenPlan::Secret) => {
            let reuse = existing.token_secret.is_some();
            token::secret_token(ui, cluster, secret, reuse, progress).await
        }
        (_, TokenPlan::Request { duration }) => {
            token::request_token(ui, cluster, &plan.namespace, plan.name(), duration).await
        }
        (None, TokenPlan::Secret) => unreachable!("a Secret token plan always has its Secret"),
    }
}

/// The identity's objects as they are now (three reads, and the recorded token Secret's
/// metadata when the ServiceAccount is ours and records one; absent ones are `None`).
async fn existing(cluster: &Cluster, namespace: &str, name: &str) -> Result<Existing> {
    let mut existing = Existing {
        service_account: cluster.get_service_account(namespace, name).await?,
        role: cluster.get_role(namespace, name).await?,
        role_binding: cluster.get_role_binding(namespace, name).await?,
        token_secret: None,
    };
    refuse_foreign(&existing, namespace, name)?;
    existing.token_secret =
        recorded_token_secret(cluster, namespace, name, &existing.token_record()).await?;
    Ok(existing)
}
