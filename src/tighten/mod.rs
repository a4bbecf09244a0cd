//! `kubectl cicd tighten NAME --audit-log FILE...`: shrink a CI identity's Role to what the API
//! server's audit log shows its pipeline did.
//!
//! One path: find the identity (its ServiceAccount, Role and RoleBinding, made by kubectl-cicd),
//! read its requests from the logs ([`evidence`]), build the least Role that still allows every
//! request the current Role allowed ([`crate::auditlog::role`]), and show it with what it takes away, what
//! was denied and how far the evidence reaches ([`report`]). It changes nothing unless
//! `--apply`: then, as `init` does, it checks the caller may write the Role (the escalation
//! pre-check), takes the identity's lock, server-side applies the Role with its provenance and
//! a record of the tightening, and verifies with the identity's own token when the pipeline's
//! kubeconfig is at hand. It never grants what the Role does not grant now.

pub mod evidence;
pub mod report;

use std::path::{Path, PathBuf};

use k8s_openapi::api::rbac::v1::{PolicyRule, Role};

use crate::auditlog::Source;
use crate::auditlog::time::format;
use crate::cli::{GlobalFlags, TightenFlags};
use crate::cluster::{Cluster, IdentityLock};
use crate::error::{Error, Result};
use crate::issue::verify;
use crate::kubeconfig::{self, SecretToken};
use crate::managed::{
    self, CREATED_AT, CREATED_BY, IDENTITY_LABEL, INTENDED_RULES, MANAGED_BY, MANAGED_BY_LABEL,
    Provenance, TIGHTENED_AT, TIGHTENED_BY, TIGHTENED_FROM, TightenedFrom, is_ours,
};
use crate::progress::Progress;
use crate::rbac::{self, Request, Rule};
use crate::run_lock;
use crate::target::Target;
use crate::ui::{Prompts, Ui};

use crate::auditlog::role::{self, Proposal};
use evidence::Evidence;

/// The pipeline's kubeconfig as `init` writes it by default, used for verification when it is
/// in the current folder and no `--ci-kubeconfig` was given.
pub const DEFAULT_CI_KUBECONFIG: &str = crate::issue::write::DEFAULT_OUTPUT;

pub async fn run(global: &GlobalFlags, flags: &TightenFlags) -> Result<()> {
    let mut progress = Progress::default();
    let result = crate::interrupt::stoppable(run_with(global, flags, &mut progress)).await;
    progress.finish(result, Prompts::unless(flags.yes)).await
}

/// Refuses, before any request, flag values the run would refuse later.
fn check_flags(flags: &TightenFlags) -> Result<()> {
    crate::auditlog::read::check_sources(&flags.audit_logs)?;
    for source in &flags.audit_logs {
        if let Source::File(path) = source
            && let Err(e) = std::fs::metadata(path)
        {
            return Err(Error::AuditLog(format!(
                "cannot read audit log {}: {e}",
                path.display()
            )));
        }
    }
    if let Some(path) = &flags.ci_kubeconfig
        && !path.is_file()
    {
        return Err(Error::Usage(format!(
            "--ci-kubeconfig {}: no such file (the pipeline's kubeconfig, as kubectl cicd init wrote it)",
            path.display()
        )));
    }
    Ok(())
}

async fn run_with(
    global: &GlobalFlags,
    flags: &TightenFlags,
    progress: &mut Progress,
) -> Result<()> {
    check_flags(flags)?;
    let name = flags.name.as_str();
    let target = Target::resolve(global, false, Ui::detect(Prompts::unless(flags.yes)))?;
    let ns = target.namespace().to_string();
    let ui = &target.ui;
    *progress = Progress::new(&ns);
    progress.note("The Role was not changed.");

    let cluster = target.connect()?;
    let me = cluster.whoami().await?;
    progress.connected();
    ui.ok(format!("Connected as {}", me.username));
    let stored = identity(&cluster, &ns, name).await?;
    let current = rules_of(&stored);

    let evidence = evidence::read(ui, &flags.audit_logs, &ns, name).await?;
    report::evidence(ui, &evidence);
    let proposal = role::propose(&current, &ns, &evidence.usage, flags.names).map_err(|m| {
        Error::Internal {
            context: format!("building the tightened Role {ns}/{name}"),
            message: m,
        }
    })?;
    if proposal.rules.is_empty() {
        report::elsewhere(ui, &proposal);
        return Err(Error::AuditLog(format!(
            "none of the requests of {} in the audit logs went through Role {ns}/{name} (see above: they were \
             allowed by other grants), so the logs show nothing the Role grants being used, and tighten will not \
             take everything away. Nothing was changed",
            evidence.subject
        )));
    }
    report::diff(ui, &format!("Role {ns}/{name}"), &current, &proposal.rules);
    report::taken_away(ui, &proposal);
    report::denied(ui, &evidence.usage, &ns);
    report::elsewhere(ui, &proposal);
    if proposal.unchanged() {
        if flags.dry_run {
            crate::ui::print_data(&crate::preview::yaml(&stored));
        }
        ui.say("Nothing was changed.");
        return Ok(());
    }

    let provenance = provenance_of(&stored, &me.username);
    let desired = desired_role(
        &ns,
        name,
        &provenance,
        &proposal,
        &evidence,
        &me.username,
        flags.names,
    );
    if flags.dry_run {
        crate::ui::print_data(&crate::preview::yaml(&desired));
        ui.say("Dry run: nothing was changed.");
        return Ok(());
    }
    if !flags.apply {
        ui.say(format!(
            "\nNothing was changed. To apply the proposed Role, run the same command with --apply{}",
            if ui.interactive() {
                " (it asks first)"
            } else {
                ""
            }
        ));
        return Ok(());
    }

    let review = cluster.rules_review(&ns).await?;
    let held = verify::held_rules(&review);
    check_grantable(&me.username, &me.groups, &held, &ns, name, &proposal.rules)?;
    let token = ci_token(ui, &target, flags, &ns, name).await?;
    if ui.interactive()
        && !ui.confirm(
            &format!("Apply the tightened Role {ns}/{name}?"),
            evidence_is_long(&evidence),
        )?
    {
        return Err(Error::Cancelled);
    }

    // From here on no other run may change the identity: init would put back what this takes
    // away, or this would take away what init just granted.
    let lock = run_lock::take(ui, &cluster, &ns, name, &me.username).await?;
    progress.hold_lock(&cluster, &lock);
    let result = apply_locked(
        &target,
        &cluster,
        &lock,
        Applying {
            current: &current,
            desired: &desired,
            proposal: &proposal,
            token: token.as_ref(),
        },
        progress,
    )
    .await;
    run_lock::give_back(ui, &cluster, lock).await;
    progress.lock_released();
    result
}

/// What `--apply` writes and checks.
struct Applying<'a> {
    /// The rules the proposal was built from.
    current: &'a [Rule],
    desired: &'a Role,
    proposal: &'a Proposal,
    token: Option<&'a SecretToken>,
}

async fn apply_locked(
    target: &Target,
    cluster: &Cluster,
    lock: &Option<IdentityLock>,
    a: Applying<'_>,
    progress: &mut Progress,
) -> Result<()> {
    let ui = &target.ui;
    let ns = target.namespace();
    let name = a.desired.metadata.name.clone().unwrap_or_default();
    // What was shown is what gets written: a Role changed meanwhile is not overwritten.
    let now = identity(cluster, ns, &name).await?;
    if rules_of(&now) != a.current {
        return Err(Error::Identity(format!(
            "Role {ns}/{name} changed while tighten ran (someone applied new rules), so its rules were not \
             replaced: run the same command again to build the proposal from the Role as it is now"
        )));
    }
    run_lock::check_held(lock)?;
    let what = format!("Role {name}");
    progress.attempt(what.clone());
    let spinner =
        ui.spinner("Applying the tightened Role (server-side apply, field manager kubectl-cicd)");
    let stored = match cluster.apply(a.desired).await {
        Ok(r) => r,
        Err(e) => {
            spinner.fail();
            return Err(e);
        }
    };
    progress.exists(what);
    progress.note("The tightened Role is in place.");
    spinner.finish(&format!("Role {name} tightened"));
    let stored_rules = rules_of(&stored);
    if rbac::compact(&stored_rules) != rbac::compact(&a.proposal.rules) {
        return Err(Error::Unverified(format!(
            "the API server stored other rules for Role {ns}/{name} than were applied (an admission webhook \
             changing Roles?): check them with kubectl get role -n {ns} {name} -o yaml"
        )));
    }

    let Some(token) = a.token else {
        ui.warn(format!(
            "not verified with the identity's own token: pass the pipeline's kubeconfig with --ci-kubeconfig \
             (kubectl cicd init wrote it as {DEFAULT_CI_KUBECONFIG}) to prove what {name} may do now"
        ));
        return Ok(());
    };
    let proof = verify::prove(
        ui,
        &target.source,
        ns,
        &name,
        &a.proposal.rules,
        &a.proposal.taken_away,
        token,
    )
    .await?;
    if let Err(who) = &proof.identity {
        return Err(Error::Unverified(format!(
            "the pipeline's token now authenticates as {who}, not as system:serviceaccount:{ns}:{name}, \
             so what the identity may do was not verified. The tightened Role is in place"
        )));
    }
    if !proof.verification.passed() {
        return Err(Error::Unverified(format!(
            "verification with the identity's token failed: {}. The tightened Role is in place; \
             if a pipeline step now fails, kubectl cicd init --name {name} -n {ns} with the kinds it needs sets the Role again",
            proof.verification.summary()
        )));
    }
    if !proof.still_held.is_empty() {
        let held: Vec<String> = role::taken_away_by_target(&proof.still_held)
            .into_iter()
            .map(|(t, v)| format!("{t}: {}", v.join(" ")))
            .collect();
        ui.warn(format!(
            "{name} still holds some of what its Role no longer grants, through another binding: {}. \
             kubectl cicd audit -n {ns} --sa {name} shows where from",
            held.join("; ")
        ));
    } else {
        ui.ok("Verified with the identity's token: it holds the tightened Role and none of what was taken away");
    }
    Ok(())
}

/// The identity's Role, after checking that its ServiceAccount (when the caller may read it),
/// Role and RoleBinding exist and were made by kubectl-cicd.
async fn identity(cluster: &Cluster, ns: &str, name: &str) -> Result<Role> {
    // Someone who may change Roles need not be allowed to read ServiceAccounts: the Role and
    // its binding, with our labels, say whose they are then.
    match cluster.get_service_account(ns, name).await {
        Ok(sa) => {
            owned(sa, "ServiceAccount", ns, name)?;
        }
        Err(Error::Forbidden { .. }) => {}
        Err(e) => return Err(e),
    }
    let role = owned(cluster.get_role(ns, name).await?, "Role", ns, name)?;
    owned(
        cluster.get_role_binding(ns, name).await?,
        "RoleBinding",
        ns,
        name,
    )?;
    Ok(role)
}

/// The object, if it exists and carries the identity's labels; else an error saying what to do.
fn owned<K: kube::Resource>(obj: Option<K>, kind: &str, ns: &str, name: &str) -> Result<K> {
    match obj {
        None if kind == "ServiceAccount" => Err(Error::Identity(format!(
            "no identity {name} in namespace {ns}: there is no ServiceAccount {name}. \
             kubectl cicd list -n {ns} shows the identities kubectl-cicd made there. Nothing was changed"
        ))),
        None => Err(Error::Identity(format!(
            "{kind} {name} of identity {name} is missing in namespace {ns}: run kubectl cicd init again to restore it. \
             Nothing was changed"
        ))),
        Some(obj) if !is_ours(obj.meta(), Some(name)) => Err(Error::Identity(format!(
            "{kind} {ns}/{name} was not made by kubectl-cicd (it lacks the labels {MANAGED_BY_LABEL}={MANAGED_BY} and \
             {IDENTITY_LABEL}={name}): tighten changes only identities kubectl cicd init made. Nothing was changed"
        ))),
        Some(obj) => Ok(obj),
    }
}

fn rules_of(role: &Role) -> Vec<Rule> {
    role.rules.iter().flatten().map(Rule::from).collect()
}

/// Who made the identity and when, as its Role records it (else: now, by the caller).
fn provenance_of(role: &Role, me: &str) -> Provenance {
    let a = role.metadata.annotations.as_ref();
    match (
        a.and_then(|a| a.get(CREATED_BY)),
        a.and_then(|a| a.get(CREATED_AT)),
    ) {
        (Some(by), Some(at)) => Provenance {
            created_by: by.clone(),
            created_at: at.clone(),
        },
        _ => Provenance {
            created_by: me.to_string(),
            created_at: crate::timestamp::now(),
        },
    }
}

/// The Role to apply: the proposal's rules, our labels, the provenance, the intended rules
/// (now the tightened ones, so audit's drift check agrees), and when, by whom and from what
/// it was tightened.
fn desired_role(
    ns: &str,
    name: &str,
    provenance: &Provenance,
    proposal: &Proposal,
    evidence: &Evidence,
    me: &str,
    names: bool,
) -> Role {
    let intended = serde_json::to_string(&proposal.rules).expect("rules serialize");
    let from = TightenedFrom {
        logs: evidence.sources.iter().map(Source::short_label).collect(),
        from: evidence.scan.first.map(format).unwrap_or_default(),
        to: evidence.scan.last.map(format).unwrap_or_default(),
        allowed: evidence.usage.allowed_requests(),
        denied: evidence.usage.denied_requests(),
        names,
    };
    let from = serde_json::to_string(&from).expect("evidence serializes");
    let extra = [
        (INTENDED_RULES, intended),
        (TIGHTENED_AT, crate::timestamp::now()),
        (TIGHTENED_BY, me.to_string()),
        (TIGHTENED_FROM, from),
    ];
    Role {
        metadata: managed::metadata(ns, name, name, provenance, &extra),
        rules: Some(proposal.rules.iter().map(PolicyRule::from).collect()),
    }
}

/// Refuses, before anything is written, a Role the API server would refuse the caller.
fn check_grantable(
    user: &str,
    groups: &[String],
    held: &[Rule],
    ns: &str,
    name: &str,
    rules: &[Rule],
) -> Result<()> {
    // Server-side apply of an existing object is a patch (and a get, to show it first).
    let needs = [
        Request::new("get", rbac::RBAC_GROUP, "roles"),
        Request::new("patch", rbac::RBAC_GROUP, "roles"),
    ];
    let writer = rbac::Writer {
        user,
        groups,
        held,
        needs: &needs,
    };
    let problems =
        rbac::grant_problems(&writer, name, rules, ns, "change the Role as tighten needs");
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Escalation(format!(
        "{}\n\nNothing was changed. Ask someone who holds these permissions (the namespace's admin) to run \
         kubectl cicd tighten {name} -n {ns} --apply, or to grant them to you.",
        problems.join("\n\n")
    )))
}

/// The pipeline's token, for verification after the change: from `--ci-kubeconfig`, or from
/// `kubeconfig_ci_cd.yaml` in the current folder. It is checked to be the identity's before
/// anything changes: a wrong `--ci-kubeconfig` is an error, a default file of another identity
/// (or with a revoked token) is set aside with a warning.
async fn ci_token(
    ui: &Ui,
    target: &Target,
    flags: &TightenFlags,
    ns: &str,
    name: &str,
) -> Result<Option<SecretToken>> {
    let (path, explicit): (PathBuf, bool) = match &flags.ci_kubeconfig {
        Some(p) => (p.clone(), true),
        None if Path::new(DEFAULT_CI_KUBECONFIG).is_file() => (DEFAULT_CI_KUBECONFIG.into(), false),
        None => return Ok(None),
    };
    let checked = async {
        let token = kubeconfig::ci_token(&path)?;
        let who = verify::token_identity(&target.source, ns, name, &token)
            .await
            .map_err(|e| match e {
                Error::Unauthorized { .. } => Error::Usage(format!(
                    "the token in {} is not accepted any more (401): it was revoked or has expired. \
                     Pass a current kubeconfig of {name} (kubectl cicd rotate {name} writes one). Nothing was changed",
                    path.display()
                )),
                other => other,
            })?;
        match who {
            Ok(_) => Ok(token),
            Err(who) => Err(Error::Usage(format!(
                "the token in {} authenticates as {who}, not as system:serviceaccount:{ns}:{name}: \
                 pass the kubeconfig of identity {name} with --ci-kubeconfig. Nothing was changed",
                path.display()
            ))),
        }
    }
    .await;
    match checked {
        Ok(token) => Ok(Some(token)),
        Err(e) if explicit => Err(e),
        Err(e) => {
            ui.warn(format!(
                "{} is not usable to verify {name} with, so the result will not be verified: {e}",
                path.display()
            ));
            Ok(None)
        }
    }
}

fn evidence_is_long(ev: &Evidence) -> bool {
    matches!((ev.scan.first, ev.scan.last), (Some(a), Some(b)) if b - a >= report::SHORT_EVIDENCE_SECS)
}
