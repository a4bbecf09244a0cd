//! `kubectl cicd rotate NAME`: a new token for an identity `init` made, verified as `init`
//! verifies, a rewritten kubeconfig, and only then the old token revoked.
//!
//! Secret tokens: the new token lives in a new Secret `<name>-token-<5 random characters>`
//! (the old one keeps working until the new kubeconfig is on disk); the ServiceAccount's
//! `kubectl-cicd.io/token-secret` annotation then names it, and every other token Secret of the
//! identity is deleted, which revokes its token. TokenRequest tokens cannot be revoked one by
//! one: they stay valid until they expire, unless the ServiceAccount is deleted.
//!
//! Order and failure: read, issue, verify, write the kubeconfig, record on the ServiceAccount,
//! revoke. A failure before the kubeconfig is written leaves the current token and kubeconfig
//! working (the unused new token Secret is removed again when possible); after it, the new
//! kubeconfig works and the message names the old token Secrets still to delete. Running
//! rotate again always ends with one new token and the others deleted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::cli::{GlobalFlags, RotateFlags, TokenKind};
use crate::cluster::{Cluster, IdentityLock, Namespaces};
use crate::error::{Error, Result};
use crate::issue::token::{DEFAULT_REQUEST_DURATION, Issued, check_token_flags};
use crate::issue::write::{DEFAULT_OUTPUT, Output, TokenNote, validate_server_flag};
use crate::issue::{tls, token, verify, write};
use crate::managed::{
    self, IDENTITY_LABEL, INTENDED_RULES, MANAGED_BY, MANAGED_BY_LABEL, Provenance,
    TOKEN_EXPIRES_AT, TOKEN_ISSUED_AT, TOKEN_KIND, TOKEN_SECRET, TokenRecord, is_ours,
};
use crate::progress::Progress;
use crate::rbac::Rule;
use crate::run_lock;
use crate::target::Target;
use crate::timestamp::rfc3339;
use crate::ui::{Prompts, Ui};

pub async fn run(global: &GlobalFlags, flags: &RotateFlags) -> Result<()> {
    let mut progress = Progress::default();
    let result = crate::interrupt::stoppable(run_with(global, flags, &mut progress)).await;
    progress.finish(result, Prompts::Ask).await
}

fn check_flags(flags: &RotateFlags) -> Result<()> {
    check_token_flags(flags.token, flags.token_duration)?;
    if let Some(server) = &flags.server {
        validate_server_flag(server)?;
    }
    Ok(())
}

async fn run_with(
    global: &GlobalFlags,
    flags: &RotateFlags,
    progress: &mut Progress,
) -> Result<()> {
    check_flags(flags)?;
    let name = flags.name.as_str();
    let target = tls::pipeline_target(
        global,
        Ui::detect(Prompts::Ask).with_verbosity(flags.verbosity.level()),
        flags.insecure_skip_tls_verify,
    )?;
    let ns = target.namespace().to_string();
    let (ui, source) = (&target.ui, &target.source);
    *progress = Progress::new(&ns);
    progress.note("Your kubeconfig was not changed and the current token still works.");

    let path = flags
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT));
    let mut overwrite = flags.force;
    if !overwrite && path.symlink_metadata().is_ok() && ui.interactive() {
        overwrite = ui.confirm(
            &format!(
                "{} exists (the old kubeconfig?). Overwrite it?",
                path.display()
            ),
            true,
        )?;
        if !overwrite {
            return Err(Error::Cancelled);
        }
    }
    write::check_output(&path, overwrite, &source.files)?;

    let cluster = target.connect()?;
    let me = cluster.whoami().await?;
    progress.connected();
    ui.ok(format!("Connected as {}", me.username));

    // From here on no other run may change the identity (two rotations at once would each
    // revoke the other's token).
    let lock = run_lock::take(ui, &cluster, &ns, name, &me.username).await?;
    progress.hold_lock(&cluster, &lock);
    let output = Output {
        path,
        overwrite,
        server: flags.server.clone(),
    };
    let result = rotate_locked(
        &target,
        &cluster,
        flags,
        &output,
        &me.username,
        &lock,
        progress,
    )
    .await;
    run_lock::give_back(ui, &cluster, lock).await;
    progress.lock_released();
    result
}

/// Everything after the lock is taken: read, issue, verify, write, record, revoke.
async fn rotate_locked(
    target: &Target,
    cluster: &Cluster,
    flags: &RotateFlags,
    output: &Output,
    me: &str,
    lock: &Option<IdentityLock>,
    progress: &mut Progress,
) -> Result<()> {
    let (ui, source) = (&target.ui, &target.source);
    let name = flags.name.as_str();
    let path = output.path.as_path();
    let ns = source.namespace.clone();
    let sa = owned(
        cluster.get_service_account(&ns, name).await?,
        "ServiceAccount",
        &ns,
        name,
    )?;
    let role = owned(cluster.get_role(&ns, name).await?, "Role", &ns, name)?;
    owned(
        cluster.get_role_binding(&ns, name).await?,
        "RoleBinding",
        &ns,
        name,
    )?;
    let intended: Vec<Rule> = role
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(INTENDED_RULES))
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_else(|| {
            role.rules
                .iter()
                .flatten()
                .cloned()
                .map(Rule::from)
                .collect()
        });

    let before = TokenRecord::from_meta(&sa.metadata);
    let kind = match (flags.token, before.kind.as_deref()) {
        (Some(k), _) => k,
        (None, Some("request")) => TokenKind::Request,
        (None, _) => TokenKind::Secret,
    };
    if kind == TokenKind::Secret && flags.token_duration.is_some() {
        return Err(Error::Usage(format!(
            "--token-duration applies to request tokens, and {name} has a Secret token: pass --token request to switch to one"
        )));
    }

    let old_secrets: Vec<(String, Option<String>)> = cluster
        .list_labelled_metadata::<Secret>(Namespaces::One(&ns), &managed::selector(Some(name)))
        .await?
        .into_iter()
        .filter(|s| is_ours(&s.metadata, Some(name)))
        .filter(|s| managed::is_token_secret_of_its_identity(&s.metadata))
        .filter_map(|s| s.metadata.name.clone().map(|n| (n, s.metadata.uid.clone())))
        .collect();
    for (secret, _) in &old_secrets {
        progress.existed(format!("Secret {secret}"));
    }
    let old_names: Vec<&str> = old_secrets.iter().map(|(n, _)| n.as_str()).collect();

    // Issue and verify; remove an unused new token Secret again if that fails.
    let new_secret =
        (kind == TokenKind::Secret).then(|| managed::fresh_secret_name(name, &old_names));
    let issued = match issue_and_verify(
        ui,
        cluster,
        source,
        &ns,
        name,
        kind,
        flags,
        new_secret.as_deref(),
        me,
        &intended,
        progress,
    )
    .await
    {
        Ok(issued) => issued,
        Err(e) => {
            if let Some(secret) = &new_secret {
                remove_unused(cluster, &ns, secret, progress).await;
            }
            return Err(e);
        }
    };

    // Only the lock's holder may write: a second run would revoke this token.
    if let Err(e) = run_lock::check_held(lock)
        .and_then(|()| write::write_kubeconfig(source, &ns, name, &issued, output))
    {
        if let Some(secret) = &new_secret {
            remove_unused(cluster, &ns, secret, progress).await;
        }
        return Err(e);
    }
    progress.note(format!(
        "The new kubeconfig {} was written and works (a re-run needs --force to replace it); the old token still works until it is revoked.",
        path.display()
    ));

    // Record the token on the ServiceAccount.
    let expires = issued.expires_at.map(rfc3339);
    let record = match (&new_secret, &expires) {
        (Some(secret), _) => TokenRecord::secret(secret),
        (None, Some(until)) => TokenRecord::request(Some((crate::timestamp::now(), until.clone()))),
        (None, None) => TokenRecord::request(None),
    };
    run_lock::check_held(lock)?;
    let what = format!("ServiceAccount {name}");
    progress.attempt(what.clone());
    cluster
        .apply(&recorded_service_account(&sa, &record))
        .await?;
    progress.exists(what);

    // Revoke: every other token Secret of the identity.
    let mut revoked = Vec::new();
    for (secret, uid) in &old_secrets {
        if Some(secret) == new_secret.as_ref() {
            continue;
        }
        let what = format!("Secret {secret}");
        progress.attempt(what.clone());
        cluster
            .delete_exact::<Secret>(&ns, secret, uid.as_deref())
            .await?;
        progress.deleted(what);
        revoked.push(secret.clone());
    }
    if !revoked.is_empty() {
        ui.ok(format!(
            "Revoked the old token: deleted token Secret {}",
            revoked.join(", ")
        ));
        ui.dim(format!("  ({})", super::AUTH_CACHE_NOTE));
    }
    if before.kind.as_deref() == Some("request") {
        let until = before
            .expires_at
            .as_deref()
            .map(|t| format!("until {t}, when it expires"))
            .unwrap_or_else(|| "until it expires".into());
        ui.warn(format!(
            "the previous TokenRequest token cannot be revoked on its own: it stays valid {until}. \
             Deleting the ServiceAccount revokes all of its tokens at once: kubectl cicd delete {name}, then kubectl cicd init again"
        ));
    }

    let secret_name = new_secret.clone().unwrap_or_default();
    let note = match &expires {
        Some(expires_at) => TokenNote::Request {
            expires_at,
            identity: name,
        },
        None => TokenNote::Secret {
            namespace: &ns,
            secret: &secret_name,
            identity: name,
        },
    };
    write::next_steps(ui, path, &note);
    Ok(())
}

/// The object, if it exists and carries the identity's labels; else an error saying what to do.
fn owned<K: kube::Resource>(obj: Option<K>, kind: &str, ns: &str, name: &str) -> Result<K> {
    match obj {
        None if kind == "ServiceAccount" => Err(Error::Identity(format!(
            "no identity {name} in namespace {ns}: there is no ServiceAccount {name}. \
             kubectl cicd list -n {ns} shows the identities kubectl-cicd made there"
        ))),
        None => Err(Error::Identity(format!(
            "{kind} {name} of identity {name} is missing in namespace {ns}: run kubectl cicd init again to restore it, then rotate"
        ))),
        Some(obj) if !is_ours(obj.meta(), Some(name)) => Err(Error::Identity(format!(
            "{kind} {ns}/{name} was not made by kubectl-cicd (it lacks the labels {MANAGED_BY_LABEL}={MANAGED_BY} and \
             {IDENTITY_LABEL}={name}): rotate only replaces tokens of identities kubectl cicd init made"
        ))),
        Some(obj) => Ok(obj),
    }
}

#[allow(clippy::too_many_arguments)]
async fn issue_and_verify(
    ui: &Ui,
    cluster: &Cluster,
    source: &crate::kubeconfig::SourceContext,
    ns: &str,
    name: &str,
    kind: TokenKind,
    flags: &RotateFlags,
    new_secret: Option<&str>,
    me: &str,
    intended: &[Rule],
    progress: &mut Progress,
) -> Result<Issued> {
    let issued = match (kind, new_secret) {
        (TokenKind::Secret, Some(secret)) => {
            let provenance = Provenance {
                created_by: me.to_string(),
                created_at: crate::timestamp::now(),
            };
            let secret = managed::token_secret(ns, name, secret, &provenance);
            token::secret_token(ui, cluster, &secret, false, progress).await?
        }
        _ => {
            let duration = flags.token_duration.unwrap_or(DEFAULT_REQUEST_DURATION);
            token::request_token(ui, cluster, ns, name, duration).await?
        }
    };
    verify::verify(ui, source, ns, name, intended, &issued.token).await?;
    Ok(issued)
}

/// Deletes a new token Secret nobody received, best effort, and says so in `progress`.
async fn remove_unused(cluster: &Cluster, ns: &str, secret: &str, progress: &mut Progress) {
    let what = format!("Secret {secret}");
    if cluster.delete_secret(ns, secret).await.is_ok() {
        progress.deleted(what);
        progress.note(
            "Your kubeconfig was not changed and the current token still works; the unused new token Secret was deleted again.",
        );
    }
}

/// The ServiceAccount as kubectl-cicd applies it, with `record` as its token annotations: our
/// labels and `kubectl-cicd.io/` annotations as they are (server-side apply removes what the
/// field manager applied before and leaves out now), the token ones replaced.
pub fn recorded_service_account(sa: &ServiceAccount, record: &TokenRecord) -> ServiceAccount {
    let token_keys = [TOKEN_KIND, TOKEN_SECRET, TOKEN_ISSUED_AT, TOKEN_EXPIRES_AT];
    let labels: BTreeMap<String, String> = sa
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| *k == MANAGED_BY_LABEL || *k == IDENTITY_LABEL)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut annotations: BTreeMap<String, String> = sa
        .metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("kubectl-cicd.io/") && !token_keys.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in record.annotations() {
        annotations.insert(k.to_string(), v);
    }
    ServiceAccount {
        metadata: ObjectMeta {
            name: sa.metadata.name.clone(),
            namespace: sa.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::CREATED_BY;

    #[test]
    fn the_recorded_service_account_keeps_our_fields_and_replaces_the_token_ones() {
        let sa = ServiceAccount {
            metadata: ObjectMeta {
                name: Some("ci-cd".into()),
                namespace: Some("team-a".into()),
                labels: Some(BTreeMap::from([
                    (MANAGED_BY_LABEL.into(), MANAGED_BY.into()),
                    (IDENTITY_LABEL.into(), "ci-cd".into()),
                    ("team".into(), "web".into()),
                ])),
                annotations: Some(BTreeMap::from([
                    (CREATED_BY.into(), "alice".into()),
                    (TOKEN_KIND.into(), "secret".into()),
                    (TOKEN_SECRET.into(), "ci-cd-token".into()),
                    ("other.io/x".into(), "y".into()),
                ])),
                uid: Some("u".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let out =
            recorded_service_account(&sa, &TokenRecord::request(Some(("a".into(), "b".into()))));
        let labels = out.metadata.labels.unwrap();
        assert_eq!(labels.len(), 2);
        let a = out.metadata.annotations.unwrap();
        assert_eq!(a[CREATED_BY], "alice");
        assert_eq!(a[TOKEN_KIND], "request");
        assert_eq!(a[TOKEN_EXPIRES_AT], "b");
        assert!(!a.contains_key(TOKEN_SECRET) && !a.contains_key("other.io/x"));
        assert!(out.metadata.uid.is_none());
    }
}
