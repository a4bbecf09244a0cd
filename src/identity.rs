//! What `init` and `rotate` share: the source context (with `--request-timeout`), getting a
//! token for the pipeline, proving it works and holds nothing risky, writing the kubeconfig
//! and saying what to do next. And [`Progress`], which turns an error part-way through a
//! command into a statement of what exists now and how to finish.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;

use crate::cli::GlobalFlags;
use crate::cluster::{Cluster, IdentityLock, RulesReview, SA_NAME_ANNOTATION};
use crate::error::{Error, Result};
use crate::kubeconfig::{self, CiKubeconfig, SecretToken, SourceContext, SourceSelection};
use crate::rbac::{self, Rule};
use crate::ui::Ui;

/// How long to wait for the token controller to fill a token Secret.
pub const TOKEN_SECRET_TIMEOUT: Duration = Duration::from_secs(60);

/// The source context as kubectl would pick it, with `--request-timeout` applied.
pub fn load_context(global: &GlobalFlags) -> Result<SourceContext> {
    let mut source = kubeconfig::load_source(&SourceSelection {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        namespace: global.namespace.clone(),
    })?;
    if let Some(timeout) = global.request_timeout.filter(|t| !t.is_zero()) {
        source.config.read_timeout = Some(timeout);
        source.config.reset_reader_on_write = true;
        if source.config.connect_timeout.is_none_or(|t| t > timeout) {
            source.config.connect_timeout = Some(timeout);
        }
    }
    Ok(source)
}

/// Decides, before anything is sent, whether the pipeline's kubeconfig may skip TLS
/// verification, and sets `source.insecure_skip_tls_verify` to that decision (the token is
/// verified, and the kubeconfig written, the same way). A context that skips verification
/// gives a kubeconfig that verifies with the context's CA when it has one; without a CA it is
/// refused unless `allow_insecure` (`--insecure-skip-tls-verify`).
pub fn decide_tls(ui: &Ui, source: &mut SourceContext, allow_insecure: bool) -> Result<()> {
    if !source.insecure_skip_tls_verify {
        return Ok(());
    }
    if allow_insecure {
        ui.warn(
            "the pipeline's kubeconfig will skip TLS verification (insecure-skip-tls-verify, as you asked): \
             anyone between the pipeline and the API server can read its token",
        );
        return Ok(());
    }
    if source.ca_pem.is_some() {
        ui.warn(format!(
            "context {} skips TLS verification; the pipeline's kubeconfig verifies the API server with the context's CA instead",
            source.context_name
        ));
        source.insecure_skip_tls_verify = false;
        return Ok(());
    }
    Err(Error::Usage(format!(
        "context {} skips TLS verification (insecure-skip-tls-verify: true) and has no CA, so the pipeline's kubeconfig \
         could not verify the API server and its token could be read on the way. Add the cluster's CA to your kubeconfig \
         (certificate-authority-data), or pass --insecure-skip-tls-verify to write an insecure kubeconfig anyway",
        source.context_name
    )))
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

/// Takes the lock of identity `ns/name` for this run (see [`crate::cluster::lock`]). Without
/// the right to create Leases in the namespace the run goes on unlocked, and says so.
pub async fn lock(
    ui: &Ui,
    cluster: &Cluster,
    ns: &str,
    name: &str,
    me: &str,
) -> Result<Option<IdentityLock>> {
    let holder = format!("{me}, kubectl-cicd pid {}", std::process::id());
    let lock = cluster.lock_identity(ns, name, &holder).await?;
    if lock.is_none() {
        ui.warn(format!(
            "you may not create Leases (coordination.k8s.io) in namespace {ns}, so identity {name} is not locked \
             while this run changes it: make sure no other kubectl cicd run works on it at the same time"
        ));
    }
    Ok(lock)
}

/// Gives the lock back; a failure only warns (the Lease expires by itself).
pub async fn unlock(ui: &Ui, cluster: &Cluster, lock: Option<IdentityLock>) {
    if let Some(lock) = lock
        && let Err(e) = cluster.unlock_identity(lock).await
    {
        ui.warn(e.to_string());
    }
}

/// Fails when the run's lock may have run out (see [`IdentityLock::check_held`]).
pub fn check_lock(lock: &Option<IdentityLock>) -> Result<()> {
    lock.as_ref().map_or(Ok(()), IdentityLock::check_held)
}

/// The pipeline's new token.
pub struct Issued {
    pub token: SecretToken,
    /// When a TokenRequest token expires (as the server granted it); `None` for Secret tokens.
    pub expires_at: Option<jiff::Timestamp>,
    /// The cluster CA the token Secret carries, for clusters whose kubeconfig has none.
    pub ca_pem: Option<Vec<u8>>,
}

/// The token of token Secret `secret`: with `reuse`, of the existing Secret of that name (the
/// one in use, still valid); else of a new Secret created with those labels and annotations,
/// once the token controller has filled it. Records the Secret in `progress` once it exists.
pub async fn secret_token(
    ui: &Ui,
    cluster: &Cluster,
    secret: &Secret,
    reuse: bool,
    progress: &mut Progress,
) -> Result<Issued> {
    let meta = &secret.metadata;
    let ns = meta.namespace.clone().unwrap_or_default();
    let name = meta.name.clone().unwrap_or_default();
    let annotations: BTreeMap<String, String> = meta.annotations.clone().unwrap_or_default();
    let sa = annotations
        .get(SA_NAME_ANNOTATION)
        .cloned()
        .unwrap_or_default();
    let spinner = ui.spinner(&format!(
        "Waiting for the token controller to fill Secret {name}"
    ));
    let result = async {
        let already = if reuse {
            cluster.filled_token(&ns, &name).await?
        } else {
            progress.attempt(format!("Secret {name}"));
            cluster
                .create_token_secret(
                    &ns,
                    &name,
                    &sa,
                    &meta.labels.clone().unwrap_or_default(),
                    &annotations,
                )
                .await?;
            None
        };
        progress.exists(format!("Secret {name}"));
        match already {
            Some(filled) => Ok(filled),
            None => {
                cluster
                    .wait_for_token(&ns, &name, TOKEN_SECRET_TIMEOUT, || {})
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

/// A TokenRequest token for ServiceAccount `ns/sa`, valid for `duration` or less (the server
/// may cap it; then a warning says so).
pub async fn request_token(
    ui: &Ui,
    cluster: &Cluster,
    ns: &str,
    sa: &str,
    duration: Duration,
) -> Result<Issued> {
    let issued = cluster.request_token(ns, sa, Some(duration)).await?;
    ui.ok(format!(
        "TokenRequest token issued, valid until {}",
        issued.expires_at
    ));
    let granted = issued.expires_at.as_second() - jiff::Timestamp::now().as_second();
    if granted + 60 < duration.as_secs() as i64 {
        ui.warn(format!(
            "the API server shortened the token's lifetime to about {}h (it caps TokenRequest durations)",
            granted / 3600
        ));
    }
    Ok(Issued {
        token: issued.token,
        expires_at: Some(issued.expires_at),
        ca_pem: None,
    })
}

/// Proves, as the new identity, that it is `system:serviceaccount:<namespace>:<name>` (a
/// SelfSubjectReview with the new token) and that it holds what `intended` grants and none of
/// the risky rest (a SelfSubjectRulesReview).
pub async fn verify(
    ui: &Ui,
    source: &SourceContext,
    namespace: &str,
    name: &str,
    intended: &[Rule],
    token: &SecretToken,
) -> Result<()> {
    let subject = format!("system:serviceaccount:{namespace}:{name}");
    let as_robot = Cluster::connect(kubeconfig::with_token(source, token.expose()))?;
    // Who first: another identity with the same rights would pass the rules check below.
    let who = as_robot.whoami().await.map_err(|e| match e {
        Error::Api {
            code,
            reason,
            message,
            ..
        } => Error::Api {
            context: format!("verifying the new token (SelfSubjectReview, expecting {subject})"),
            code,
            reason,
            message,
        },
        other => other,
    })?;
    if who.username != subject {
        return Err(Error::Verification(format!(
            "the new token authenticates as {}, not as {subject}: it is another identity's token. \
             Check the token Secret's {SA_NAME_ANNOTATION} annotation, then run the command again",
            who.username
        )));
    }
    // kube-apiserver authorizes from an informer's cache of the RBAC objects, so a RoleBinding
    // written a moment ago may not count yet: while rules are only missing (nothing risky is
    // extra), ask again a few times before calling the identity short of rights.
    let mut attempt = 0;
    let verification = loop {
        let review = as_robot
            .rules_review(namespace)
            .await
            .map_err(|e| match e {
                Error::Api {
                    code,
                    reason,
                    message,
                    ..
                } => Error::Api {
                    context: format!(
                        "verifying the new token (SelfSubjectRulesReview as {subject})"
                    ),
                    code,
                    reason,
                    message,
                },
                other => other,
            })?;
        let verification = rbac::verify(intended, &held_rules(&review));
        attempt += 1;
        if verification.passed()
            || !verification.unexpected_risky.is_empty()
            || attempt >= VERIFY_ATTEMPTS
        {
            break verification;
        }
        tokio::time::sleep(VERIFY_RETRY_WAIT).await;
    };
    verification_report(ui, &subject, &verification);
    if !verification.passed() {
        return Err(Error::Verification(verification.summary()));
    }
    ui.ok("Verified with the new token");
    Ok(())
}

/// How often verification asks for the new identity's rules while some are missing, and the
/// wait between: RBAC changes reach kube-apiserver's authorizer within well under a second.
const VERIFY_ATTEMPTS: u32 = 4;
const VERIFY_RETRY_WAIT: std::time::Duration = std::time::Duration::from_millis(750);

/// The can / cannot summary of the new identity.
pub fn verification_report(ui: &Ui, subject: &str, v: &rbac::Verification) {
    ui.heading(format!("What {subject} can do"));
    let mut can: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut cannot = Vec::new();
    for row in &v.rows {
        match (row.wanted, row.allowed) {
            (true, true) => can.entry(&row.target).or_default().push(&row.verb),
            (false, false) => cannot.push(row.action()),
            (true, false) => ui.say(format!("  MISSING     {}", row.action())),
            (false, true) => ui.say(format!("  UNEXPECTED  {}", row.action())),
        }
    }
    for (target, verbs) in can {
        ui.say(format!("  can     {target}: {}", verbs.join(" ")));
    }
    if !cannot.is_empty() {
        ui.say(wrap("  cannot ", &cannot, 100));
    }
}

/// `head` then `items` comma-separated and wrapped at `width`; continuation lines indented.
pub fn wrap(head: &str, items: &[String], width: usize) -> String {
    let mut lines = vec![head.trim_end().to_string()];
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            item.clone()
        };
        let last = lines.last_mut().expect("one line at least");
        if last.chars().count() + 1 + piece.len() > width && i > 0 {
            lines.push(format!("      {piece}"));
        } else {
            last.push(' ');
            last.push_str(&piece);
        }
    }
    lines.join("\n")
}

/// Where and how the pipeline's kubeconfig is written.
#[derive(Clone, Debug)]
pub struct Output {
    pub path: PathBuf,
    /// Replace an existing file.
    pub overwrite: bool,
    /// The API server URL to write instead of the source context's.
    pub server: Option<String>,
}

/// Refuses, before anything is sent, an output that cannot or must not be written: one of the
/// kubeconfig files the run reads (`sources`), a device, an existing file without `--force`,
/// a missing folder, a folder nobody may write to.
pub fn check_output(path: &Path, force: bool, sources: &[PathBuf]) -> Result<()> {
    kubeconfig::check_not_a_source(path, sources)?;
    kubeconfig::check_private_file(path, force)
}

/// Writes the pipeline's kubeconfig (one cluster, one token user, one context with the
/// namespace; atomically, mode 0600): the shape `init` and `rotate` both write.
pub fn write_kubeconfig(
    source: &SourceContext,
    namespace: &str,
    name: &str,
    issued: &Issued,
    output: &Output,
) -> Result<PathBuf> {
    let ci = CiKubeconfig {
        cluster_name: source.cluster_name.clone(),
        // The pipeline authenticates with its token: a user:password in the URL stays behind.
        server: crate::text::strip_userinfo(output.server.as_deref().unwrap_or(&source.server)),
        ca_pem: source.ca_pem.clone().or_else(|| issued.ca_pem.clone()),
        insecure_skip_tls_verify: source.insecure_skip_tls_verify,
        tls_server_name: source.tls_server_name.clone(),
        proxy_url: source.proxy_url.clone(),
        user_name: name.to_string(),
        context_name: format!("{name}@{}", source.cluster_name),
        namespace: namespace.to_string(),
        token: issued.token.clone(),
    };
    kubeconfig::write_private_file(&output.path, &kubeconfig::render(&ci), output.overwrite)?;
    Ok(output.path.clone())
}

/// The token in the kubeconfig just written, for the last words of a run.
pub enum TokenNote<'a> {
    Secret {
        namespace: &'a str,
        secret: &'a str,
        identity: &'a str,
    },
    Request {
        expires_at: &'a str,
        identity: &'a str,
    },
}

/// How to store the kubeconfig in a pipeline, and how long the token lives.
pub fn next_steps(ui: &Ui, path: &Path, note: &TokenNote) {
    let file = path.display();
    // The commands below are copied into a shell: the path is one quoted word there, and
    // never taken for an option.
    let text = path.to_string_lossy();
    let word = if text.starts_with('-') {
        crate::text::shell_quote(&format!("./{text}"))
    } else {
        crate::text::shell_quote(&text)
    };
    ui.heading("Next steps");
    ui.ok(format!(
        "Wrote {file} (mode 0600). It holds a token: treat it as a password, never commit it."
    ));
    ui.say(format!(
        "\n  GitHub Actions: store it as an environment secret,\n\
         \x20     gh secret set KUBECONFIG_FILE --env production < {word}\n\
         \x20   and hand it to the deploy job in a step before kubectl or helm:"
    ));
    // The secret reaches the shell as an environment variable, never pasted into the script,
    // and $GITHUB_ENV carries KUBECONFIG to the later steps (docs/github-actions.md).
    ui.say(
        "      - env:\n\
         \x20         KUBECONFIG_FILE: ${{ secrets.KUBECONFIG_FILE }}\n\
         \x20       run: |\n\
         \x20         umask 077\n\
         \x20         printenv KUBECONFIG_FILE > \"$RUNNER_TEMP/kubeconfig\"\n\
         \x20         printf 'KUBECONFIG=%s\\n' \"$RUNNER_TEMP/kubeconfig\" >> \"$GITHUB_ENV\"\n\
         \n  GitLab CI: Settings > CI/CD > Variables: type File, key KUBECONFIG, the file's content as\n\
         \x20   value, Protected, environment scope production. kubectl and helm in the job find it\n\
         \x20   through $KUBECONFIG; never copy $KUBECONFIG in a variables: block (that copies the token).\n",
    );
    ui.say(format!(
        "  Whole examples: docs/github-actions.md and docs/gitlab-ci.md in {}\n",
        env!("CARGO_PKG_REPOSITORY")
    ));
    match note {
        TokenNote::Request {
            expires_at,
            identity,
        } => ui.say(format!(
            "  The token expires at {expires_at}: before then, run kubectl cicd rotate {identity} --force for a new one."
        )),
        TokenNote::Secret {
            namespace,
            secret,
            identity,
        } => ui.say(format!(
            "  The token does not expire. Revoke it by deleting Secret {secret} in namespace {namespace}\n  \
             (or replace it: kubectl cicd rotate {identity} --force)."
        )),
    }
    ui.say(format!("  Then delete the local copy: rm {word}"));
}

/// What a command has done so far, so that an error part-way can say what exists now and
/// that running the same command again finishes the job.
#[derive(Debug, Default)]
pub struct Progress {
    namespace: String,
    /// The API server has answered once: a later network failure is likely passing.
    connected: bool,
    /// Something was written or deleted.
    changed: bool,
    /// Objects that exist now (`ServiceAccount ci-cd`), in the order learnt.
    exists: Vec<String>,
    /// Objects this run deleted.
    gone: Vec<String>,
    /// A write whose outcome is unknown (its request failed).
    unsure: Option<String>,
    /// The local side, e.g. "No kubeconfig was written."
    note: Option<String>,
    /// The identity's lock while the run holds it. A signal ends the run by dropping its
    /// future, and the lock's release with it: the command gives it back from here instead,
    /// so that running it again is not refused until the lock expires.
    held_lock: Option<(Cluster, IdentityLock)>,
}

impl Progress {
    /// The run now holds `lock`.
    pub fn hold_lock(&mut self, cluster: &Cluster, lock: &Option<IdentityLock>) {
        self.held_lock = lock.clone().map(|l| (cluster.clone(), l));
    }

    /// The run gave its lock back.
    pub fn lock_released(&mut self) {
        self.held_lock = None;
    }

    /// Gives back a lock the run still held when it ended early.
    pub async fn release_lock(&mut self, ui: &Ui) {
        if let Some((cluster, lock)) = self.held_lock.take() {
            unlock(ui, &cluster, Some(lock)).await;
        }
    }

    pub fn new(namespace: &str) -> Progress {
        Progress {
            namespace: namespace.to_string(),
            ..Progress::default()
        }
    }

    /// The API server answered.
    pub fn connected(&mut self) {
        self.connected = true;
    }

    /// `what` is about to be written or deleted.
    pub fn attempt(&mut self, what: impl Into<String>) {
        self.unsure = Some(what.into());
    }

    /// `what` exists now (read, or written by this run).
    pub fn exists(&mut self, what: impl Into<String>) {
        let what = what.into();
        if self.unsure.as_deref() == Some(what.as_str()) {
            self.unsure = None;
            self.changed = true;
        }
        self.gone.retain(|g| *g != what);
        if !self.exists.contains(&what) {
            self.exists.push(what);
        }
    }

    /// `what` existed before this run (nothing was changed by learning it).
    pub fn existed(&mut self, what: impl Into<String>) {
        let what = what.into();
        if !self.exists.contains(&what) {
            self.exists.push(what);
        }
    }

    /// `what` was deleted (or was already gone).
    pub fn deleted(&mut self, what: impl Into<String>) {
        let what = what.into();
        if self.unsure.as_deref() == Some(what.as_str()) {
            self.unsure = None;
        }
        self.changed = true;
        self.exists.retain(|e| *e != what);
        if !self.gone.contains(&what) {
            self.gone.push(what);
        }
    }

    /// The local side of the state, said after the objects.
    pub fn note(&mut self, text: impl Into<String>) {
        self.note = Some(text.into());
    }

    /// Whether another try may well succeed as it is.
    fn passing(&self, e: &Error) -> bool {
        match e {
            // An answer over the size cap would be as large the next time.
            Error::Api { reason, .. } if reason == "ResponseTooLarge" => false,
            Error::Api { code, .. } => matches!(code, 0 | 409 | 429 | 500..=599),
            Error::Unreachable { .. } => self.connected,
            _ => false,
        }
    }

    /// `e`, with what exists now and how to finish when the run stopped part-way (or when a
    /// passing failure stopped it before any change).
    pub fn explain(&self, e: Error) -> Error {
        // A namespace that does not exist holds nothing: the write that found out created nothing.
        if matches!(
            e,
            Error::Partial { .. } | Error::Cancelled | Error::NoNamespace { .. }
        ) {
            return e;
        }
        let passing = self.passing(&e);
        let interrupted = matches!(e, Error::Interrupted(_));
        let note = self
            .note
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        if !self.changed && self.unsure.is_none() && interrupted {
            return Error::Partial {
                cause: Box::new(e),
                state: format!("Nothing was changed in the cluster.{note}"),
            };
        }
        if !self.changed && self.unsure.is_none() {
            if !passing {
                return e;
            }
            return Error::Partial {
                cause: Box::new(e),
                state: format!(
                    "Nothing was changed in the cluster.{note} This looks like a passing problem of the API server or the network: run the same command again."
                ),
            };
        }
        let mut parts = Vec::new();
        if self.exists.is_empty() {
            parts.push("none of the objects exist now".to_string());
        } else {
            parts.push(format!("these exist now: {}", self.exists.join(", ")));
        }
        if !self.gone.is_empty() {
            parts.push(format!("deleted: {}", self.gone.join(", ")));
        }
        if let Some(u) = &self.unsure {
            parts.push(format!(
                "{u} may or may not have been changed (its request failed)"
            ));
        }
        let hint = if interrupted {
            "Run the same command again to finish the job; it carries on from what exists."
        } else if passing {
            "This looks like a passing problem of the API server or the network: run the same command again to finish the job; it carries on from what exists."
        } else {
            "Fix the cause above, then run the same command again to finish the job; it carries on from what exists."
        };
        Error::Partial {
            cause: Box::new(e),
            state: format!(
                "Stopped part-way. In namespace {}, {}.{note} {hint}",
                self.namespace,
                parts.join("; ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> Error {
        Error::Api {
            context: "applying Role team-a/ci-cd".into(),
            code,
            reason: "InternalError".into(),
            message: "boom".into(),
        }
    }

    #[test]
    fn nothing_changed_and_a_lasting_error_is_left_alone() {
        let p = Progress::new("team-a");
        let e = p.explain(Error::Usage("bad".into()));
        assert!(matches!(e, Error::Usage(_)));
        let e = p.explain(api(403));
        assert!(matches!(e, Error::Api { .. }));
    }

    #[test]
    fn nothing_changed_and_a_passing_error_says_so() {
        let mut p = Progress::new("team-a");
        p.note("No kubeconfig was written.");
        let text = p.explain(api(409)).to_string();
        assert!(
            text.starts_with("applying Role team-a/ci-cd: boom\n"),
            "{text}"
        );
        assert!(text.contains("Nothing was changed in the cluster. No kubeconfig was written. This looks like a passing problem"), "{text}");
        assert_eq!(p.explain(api(500)).exit_code(), 1);
    }

    #[test]
    fn part_way_lists_what_exists_what_went_and_what_is_unsure() {
        let mut p = Progress::new("team-a");
        p.connected();
        p.existed("ServiceAccount ci-cd");
        p.attempt("Role ci-cd");
        p.exists("Role ci-cd");
        p.attempt("RoleBinding ci-cd");
        p.note("No kubeconfig was written.");
        let text = p.explain(api(409)).to_string();
        assert!(
            text.contains("Stopped part-way. In namespace team-a, these exist now: ServiceAccount ci-cd, Role ci-cd; RoleBinding ci-cd may or may not have been changed (its request failed). No kubeconfig was written. This looks like a passing problem"),
            "{text}"
        );

        let mut p = Progress::new("team-a");
        p.existed("RoleBinding ci-cd");
        p.existed("Role ci-cd");
        p.attempt("RoleBinding ci-cd");
        p.deleted("RoleBinding ci-cd");
        let text = p
            .explain(Error::Forbidden {
                message: "no".into(),
                hint: "ask".into(),
            })
            .to_string();
        assert!(
            text.contains("these exist now: Role ci-cd; deleted: RoleBinding ci-cd. Fix the cause above, then run the same command again"),
            "{text}"
        );
    }
}
