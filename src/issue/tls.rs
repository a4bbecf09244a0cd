//! Whether the pipeline's kubeconfig may skip TLS verification, decided before anything is
//! sent.

use crate::cli::GlobalFlags;
use crate::error::{Error, Result};
use crate::kubeconfig::SourceContext;
use crate::target::Target;
use crate::ui::Ui;

/// The target of a command that writes a pipeline's kubeconfig (`init`, `rotate`): one
/// namespace, and the TLS decision below taken before anything is sent.
pub fn pipeline_target(global: &GlobalFlags, ui: Ui, allow_insecure: bool) -> Result<Target> {
    let mut target = Target::resolve(global, false, ui)?;
    decide_tls(&target.ui, &mut target.source, allow_insecure)?;
    Ok(target)
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
