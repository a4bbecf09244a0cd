//! ServiceAccount tokens: short-lived ones from TokenRequest, long-lived ones from a
//! `kubernetes.io/service-account-token` Secret that the token controller fills.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};

use super::Cluster;
use crate::error::{Error, Result};
use crate::kubeconfig::SecretToken;

pub use crate::k8s::{SA_NAME_ANNOTATION, SA_TOKEN_TYPE};

/// A token the token controller put into a Secret.
#[derive(Clone, Debug)]
pub struct ServiceAccountToken {
    pub token: SecretToken,
    /// The cluster CA the controller wrote next to it (`ca.crt`), PEM.
    pub ca_pem: Option<Vec<u8>>,
}

/// A token from TokenRequest.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub token: SecretToken,
    /// From the reply: the server may cap the duration asked for
    /// (`--service-account-max-token-expiration`).
    pub expires_at: Timestamp,
}

/// The token of a filled token Secret; `None` while the controller has not filled it.
fn token_of(secret: &Secret) -> Option<ServiceAccountToken> {
    let data = secret.data.as_ref()?;
    let token = data.get("token").filter(|t| !t.0.is_empty())?;
    let token = String::from_utf8(token.0.clone()).ok()?;
    Some(ServiceAccountToken {
        token: SecretToken::new(token),
        ca_pem: data
            .get("ca.crt")
            .map(|c| c.0.clone())
            .filter(|c| !c.is_empty()),
    })
}

impl Cluster {
    /// Creates a `kubernetes.io/service-account-token` Secret for `sa_name` (one POST; the
    /// token controller fills it later: [`Cluster::wait_for_token`]). A create, never an apply:
    /// a Secret of that name that exists already is refused (409), never adopted, so its token
    /// is never handed out as this one.
    pub async fn create_token_secret(
        &self,
        ns: &str,
        secret_name: &str,
        sa_name: &str,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) -> Result<()> {
        let mut annotations = annotations.clone();
        annotations.insert(SA_NAME_ANNOTATION.to_string(), sa_name.to_string());
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(secret_name.to_string()),
                namespace: Some(ns.to_string()),
                labels: (!labels.is_empty()).then(|| labels.clone()),
                annotations: Some(annotations),
                ..Default::default()
            },
            type_: Some(SA_TOKEN_TYPE.to_string()),
            ..Default::default()
        };
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        let params = PostParams {
            field_manager: Some(super::FIELD_MANAGER.to_string()),
            ..PostParams::default()
        };
        api.create(&params, &secret).await.map(drop).map_err(|e| {
            self.err(e, || {
                format!("creating the token Secret {ns}/{secret_name}")
            })
        })
    }

    /// The token in Secret `ns/secret_name` if the token controller has filled it; `None`
    /// when it has not yet, or when the Secret is gone.
    pub async fn filled_token(
        &self,
        ns: &str,
        secret_name: &str,
    ) -> Result<Option<ServiceAccountToken>> {
        Ok(self
            .get_secret(ns, secret_name)
            .await?
            .as_ref()
            .and_then(token_of))
    }

    /// Polls the token Secret until the token controller has filled `data.token`: first after
    /// 0.5 s, then 1 s, 2 s, 4 s, 4 s ... until `timeout`. `on_wait` runs before each pause
    /// (for a spinner). Fails with a message naming the token controller when time runs out.
    pub async fn wait_for_token(
        &self,
        ns: &str,
        secret_name: &str,
        timeout: Duration,
        mut on_wait: impl FnMut(),
    ) -> Result<ServiceAccountToken> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = Duration::from_millis(500);
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::Token(format!(
                    "the token Secret {ns}/{secret_name} was not filled within {timeout:?}. \
                     Kubernetes' token controller, part of kube-controller-manager, fills \
                     `{SA_TOKEN_TYPE}` Secrets: check that kube-controller-manager is running and healthy \
                     (and started with --service-account-private-key-file), that the ServiceAccount \
                     named in the Secret's {SA_NAME_ANNOTATION} annotation exists, and see \
                     `kubectl -n {ns} describe secret {secret_name}`. Or use a short-lived token (TokenRequest) instead"
                )));
            }
            on_wait();
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_secs(4));
            match api.get(secret_name).await {
                Ok(secret) => {
                    if let Some(token) = token_of(&secret) {
                        return Ok(token);
                    }
                }
                Err(e) if super::errors::is_not_found(&e) => {
                    return Err(Error::Token(format!(
                        "the token Secret {ns}/{secret_name} disappeared while waiting for its token. \
                         The token controller deletes token Secrets whose ServiceAccount does not exist \
                         (or was recreated with another uid): check the ServiceAccount, then run again"
                    )));
                }
                Err(e) => {
                    return Err(self.err(e, || {
                        format!("waiting for the token in Secret {ns}/{secret_name}")
                    }));
                }
            }
        }
    }

    /// A token for `sa` from TokenRequest (`kubectl create token`), one POST. `duration` is
    /// what is asked for (the server's default, usually 1 h, when `None`; at least 10 min);
    /// [`IssuedToken::expires_at`] is what was granted.
    pub async fn request_token(
        &self,
        ns: &str,
        sa: &str,
        duration: Option<Duration>,
    ) -> Result<IssuedToken> {
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), ns);
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: Vec::new(),
                expiration_seconds: duration
                    .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
                ..Default::default()
            },
            ..Default::default()
        };
        let reply = api
            .create_token_request(sa, &PostParams::default(), &request)
            .await
            .map_err(|e| {
                self.err(e, || {
                    format!("requesting a token for ServiceAccount {ns}/{sa}")
                })
            })?;
        let status = reply.status.ok_or_else(|| Error::Token(format!(
            "the API server answered the TokenRequest for ServiceAccount {ns}/{sa} without a token: try again, or use a token Secret"
        )))?;
        if status.token.is_empty() {
            return Err(Error::Token(format!(
                "the API server issued an empty token for ServiceAccount {ns}/{sa}: try again, or use a token Secret"
            )));
        }
        Ok(IssuedToken {
            token: SecretToken::new(status.token),
            expires_at: status.expiration_timestamp.0,
        })
    }
}
