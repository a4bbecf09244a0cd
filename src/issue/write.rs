//! The pipeline's kubeconfig: where it may be written, writing it (atomically, mode 0600) and
//! what to do with it next.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::kubeconfig::{self, CiKubeconfig, SourceContext};
use crate::ui::{Ui, Verbosity};

use super::token::Issued;

/// Where `init` and `rotate` write the pipeline's kubeconfig unless `--output` says otherwise.
pub const DEFAULT_OUTPUT: &str = "kubeconfig_ci_cd.yaml";

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
    if ui.verbosity() == Verbosity::Quiet {
        // The one result, for scripts: KUBECONFIG=$(kubectl cicd init -q --yes ...).
        crate::ui::print_data(&format!("{}\n", crate::text::one_line(&text)));
        return;
    }
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

/// Refuses a `--server` that is not an `https://` URL with a host: the pipeline's kubeconfig
/// must reach the API server over verified TLS.
pub fn validate_server_flag(server: &str) -> Result<()> {
    let shown = crate::text::one_line(&crate::text::redact_userinfo(server));
    let bad = |why: &str| {
        Error::Usage(format!(
            "--server {shown:?} {why}: give the API server's https:// URL, e.g. https://api.example.com:6443"
        ))
    };
    let uri: http::Uri = server.parse().map_err(|_| bad("is not a URL"))?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") => return Err(bad("uses plain http, which sends the token unencrypted")),
        Some(_) => return Err(bad("is not an https:// URL")),
        None => return Err(bad("has no scheme")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    Ok(())
}
