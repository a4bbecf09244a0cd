//! The pipeline's token: from a token Secret the token controller fills, or from TokenRequest.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;

use crate::cli::TokenKind;
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::k8s::SA_NAME_ANNOTATION;
use crate::kubeconfig::SecretToken;
use crate::progress::Progress;
use crate::ui::Ui;

/// How long to wait for the token controller to fill a token Secret.
pub const TOKEN_SECRET_TIMEOUT: Duration = Duration::from_secs(60);

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

/// 30 days: long enough for a pipeline secret, short enough to force rotation.
pub const DEFAULT_REQUEST_DURATION: Duration = Duration::from_secs(720 * 3600);
pub const MIN_REQUEST_DURATION: Duration = Duration::from_secs(600);
/// The API server refuses a TokenRequest for more than 2^32 seconds (about 136 years).
pub const MAX_REQUEST_DURATION: Duration = Duration::from_secs(1 << 32);

/// Refuses a TokenRequest lifetime the API server would refuse (10 minutes to 2^32 seconds).
pub fn validate_request_duration(duration: Duration) -> Result<()> {
    if duration < MIN_REQUEST_DURATION {
        return Err(Error::Usage(format!(
            "--token-duration {}s is too short: the API server refuses tokens valid for less than 10 minutes (use e.g. 1h or 720h)",
            duration.as_secs()
        )));
    }
    if duration > MAX_REQUEST_DURATION {
        return Err(Error::Usage(format!(
            "--token-duration {}h is too long: the API server refuses TokenRequest durations over 2^32 seconds (about 136 years); use e.g. 720h",
            duration.as_secs() / 3600
        )));
    }
    Ok(())
}

/// The token flags' rules, the same for `init` and `rotate`: `--token-duration` is a
/// TokenRequest token's lifetime, so not for `--token secret`, and within what the API server
/// takes.
pub fn check_token_flags(kind: Option<TokenKind>, duration: Option<Duration>) -> Result<()> {
    if kind == Some(TokenKind::Secret) && duration.is_some() {
        return Err(Error::Usage(
            "--token-duration applies to --token request; a Secret token does not expire (rotate it instead)".into(),
        ));
    }
    if let Some(duration) = duration {
        validate_request_duration(duration)?;
    }
    Ok(())
}
