//! `kubectl cicd init`: from the current kubeconfig context to a verified
//! `kubeconfig_ci_cd.yaml`.
//!
//! The wizard and the flags produce the same [`plan::Choices`]; everything after that is
//! one path: plan, refuse what the server would refuse, preview, apply, token, verify,
//! write. Nothing is written to the cluster before every check that can run first has run,
//! and no kubeconfig is written before the new identity has been verified.

pub mod choices;
pub mod objects;
pub mod plan;
mod report;
pub mod wizard;

use std::time::Duration;

use crate::cli::{GlobalFlags, InitFlags};
use crate::cluster::{Cluster, RulesReview};
use crate::error::{Error, Result};
use crate::kubeconfig::{self, CiKubeconfig, SecretToken, SourceContext, SourceSelection};
use crate::rbac::{self, Rule};
use crate::ui::Ui;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use objects::{Desired, Existing, Provenance};
use plan::{Plan, TokenPlan};

/// How long to wait for the token controller to fill a token Secret.
const TOKEN_SECRET_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn run(global: &GlobalFlags, flags: &InitFlags) -> Result<()> {
    let ui = Ui::detect(flags.yes);
    let source = kubeconfig::load_source(&SourceSelection {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        namespace: global.namespace.clone(),
    })?;
    let namespace = source.namespace.clone();
    plan::validate_namespace(&namespace)?;
    report::context(&ui, &source);
    if ui.interactive()
        && !ui.confirm("Set up CI/CD access in this context and namespace?", true)?
    {
        return Err(Error::Cancelled);
    }
    if !ui.interactive() && !flags.dry_run {
        refuse_existing_output(flags)?;
    }

    let cluster = Cluster::connect(source.config.clone())?;
    let me = cluster.whoami().await?;
    ui.ok(format!(
        "Connected as {} (groups: {})",
        me.username,
        me.groups.join(", ")
    ));
    let review = cluster.rules_review(&namespace).await?;
    let held = held_rules(&review);
    report::grantable(&ui, &review);
    let discovered = cluster.discover().await?;

    let choices = if ui.interactive() {
        wizard::ask(&ui, flags, &discovered.kinds, &held)?
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
    for d in &plan.role.dropped {
        ui.warn(format!("not granted: {d}"));
    }
    plan::check_grantable(&plan, &me.username, &me.groups, &held)?;

    let existing = existing(&cluster, &namespace, plan.name()).await?;
    let provenance = existing.provenance().unwrap_or_else(|| Provenance {
        created_by: me.username.clone(),
        created_at: jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
    });
    let desired = objects::desired(&plan, &provenance);
    if flags.dry_run {
        print!("{}", objects::yaml_stream(&desired));
        ui.say("Dry run: nothing was changed.");
        return Ok(());
    }
    report::preview(&ui, &desired, &existing);
    if ui.interactive() && !ui.confirm("Apply these objects?", true)? {
        return Err(Error::Cancelled);
    }

    apply(&ui, &cluster, &desired, &existing).await?;
    let issued = obtain_token(&ui, &cluster, &plan, &desired).await?;
    verify(&ui, &source, &plan, &issued.token).await?;
    let path = write_kubeconfig(&source, &plan, &issued)?;
    report::next_steps(&ui, &plan, &path, issued.expires_at.as_deref());
    Ok(())
}

fn refuse_existing_output(flags: &InitFlags) -> Result<()> {
    let path = flags
        .output
        .clone()
        .unwrap_or_else(|| plan::DEFAULT_OUTPUT.into());
    if path.exists() && !flags.force {
        return Err(Error::OutputExists { path });
    }
    Ok(())
}

async fn apply(ui: &Ui, cluster: &Cluster, d: &Desired, existing: &Existing) -> Result<()> {
    let spinner = ui.spinner("Applying ServiceAccount, Role and RoleBinding (server-side apply, field manager kubectl-cicd)");
    let result = async {
        let sa = cluster.apply(&d.service_account).await?;
        let role = cluster.apply(&d.role).await?;
        let binding = cluster
            .replace_role_binding_if_role_ref_changed(&d.role_binding)
            .await?;
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
                .map(|(kind, how)| {
                    format!(
                        "{kind} {} {how}",
                        d.role.metadata.name.as_deref().unwrap_or("")
                    )
                })
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

/// The token for the pipeline, and when it expires (if it does).
struct Issued {
    token: SecretToken,
    expires_at: Option<String>,
    /// The cluster CA the token Secret carries, for clusters whose kubeconfig has none.
    ca_pem: Option<Vec<u8>>,
}

async fn obtain_token(
    ui: &Ui,
    cluster: &Cluster,
    plan: &Plan,
    desired: &Desired,
) -> Result<Issued> {
    match (&desired.token_secret, plan.choices.token) {
        (Some(secret), TokenPlan::Secret) => {
            let name = plan.token_secret_name();
            let spinner = ui.spinner(&format!(
                "Waiting for the token controller to fill Secret {name}"
            ));
            let meta = &secret.metadata;
            let result = async {
                let already = cluster
                    .ensure_token_secret(
                        &plan.namespace,
                        &name,
                        plan.name(),
                        &meta.labels.clone().unwrap_or_default(),
                        &meta.annotations.clone().unwrap_or_default(),
                    )
                    .await?;
                match already {
                    Some(filled) => Ok(filled),
                    None => {
                        cluster
                            .wait_for_token(&plan.namespace, &name, TOKEN_SECRET_TIMEOUT, || {})
                            .await
                    }
                }
            }
            .await;
            match result {
                Ok(filled) => {
                    spinner.finish(&format!("Token Secret {name} is filled"));
                    Ok(Issued {
                        token: filled.token,
                        expires_at: None,
                        ca_pem: filled.ca_pem,
                    })
                }
                Err(e) => {
                    spinner.fail();
                    Err(e)
                }
            }
        }
        (_, TokenPlan::Request { duration }) => {
            let issued = cluster
                .request_token(&plan.namespace, plan.name(), Some(duration))
                .await?;
            let expires = issued.expires_at.to_string();
            ui.ok(format!("TokenRequest token issued, valid until {expires}"));
            let granted = issued.expires_at.as_second() - jiff::Timestamp::now().as_second();
            if granted + 60 < duration.as_secs() as i64 {
                ui.warn(format!(
                    "the API server shortened the token's lifetime to about {}h (it caps TokenRequest durations)",
                    granted / 3600
                ));
            }
            Ok(Issued {
                token: issued.token,
                expires_at: Some(expires),
                ca_pem: None,
            })
        }
        (None, TokenPlan::Secret) => unreachable!("a Secret token plan always has its Secret"),
    }
}

/// Proves the new identity holds what was asked and none of the risky rest.
async fn verify(ui: &Ui, source: &SourceContext, plan: &Plan, token: &SecretToken) -> Result<()> {
    let as_robot = Cluster::connect(kubeconfig::with_token(source, token.expose()))?;
    let review = as_robot.rules_review(&plan.namespace).await?;
    let granted = held_rules(&review);
    let verification = rbac::verify(&plan.role.rules, &granted);
    let subject = format!("system:serviceaccount:{}:{}", plan.namespace, plan.name());
    report::verification(ui, &subject, &verification);
    if !verification.passed() {
        return Err(Error::Verification(verification.summary()));
    }
    ui.ok("Verified with the new token");
    Ok(())
}

fn write_kubeconfig(
    source: &SourceContext,
    plan: &Plan,
    issued: &Issued,
) -> Result<std::path::PathBuf> {
    let ci = CiKubeconfig {
        cluster_name: source.cluster_name.clone(),
        server: plan
            .choices
            .server
            .clone()
            .unwrap_or_else(|| source.server.clone()),
        ca_pem: source.ca_pem.clone().or_else(|| issued.ca_pem.clone()),
        insecure_skip_tls_verify: source.insecure_skip_tls_verify,
        tls_server_name: source.tls_server_name.clone(),
        proxy_url: source.proxy_url.clone(),
        user_name: plan.name().to_string(),
        context_name: format!("{}@{}", plan.name(), source.cluster_name),
        namespace: plan.namespace.clone(),
        token: issued.token.clone(),
    };
    let path = plan.choices.output.clone();
    kubeconfig::write_private_file(&path, &kubeconfig::render(&ci), plan.choices.overwrite)?;
    Ok(path)
}

/// A SelfSubjectRulesReview's rules in the core's terms.
pub fn held_rules(review: &RulesReview) -> Vec<Rule> {
    review
        .resource_rules
        .iter()
        .map(Rule::from)
        .chain(review.non_resource_rules.iter().map(Rule::from))
        .collect()
}

/// The identity's objects as they are now (three reads; absent ones are `None`).
async fn existing(cluster: &Cluster, namespace: &str, name: &str) -> Result<Existing> {
    Ok(Existing {
        service_account: cluster.get_service_account(namespace, name).await?,
        role: cluster.get_role(namespace, name).await?,
        role_binding: cluster.get_role_binding(namespace, name).await?,
    })
}
