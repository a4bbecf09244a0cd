//! Cluster access: everything that talks to the Kubernetes API goes through [`Cluster`].
//!
//! One `kube::Client` per run (building a client runs exec credential plugins again), with
//! bounded retries for transient failures built on kube's own `RetryPolicy`. Each job has its
//! own small module: self-reviews, discovery and kind names, object reads and server-side
//! apply, tokens. kube errors become [`crate::error::Error`] variants people can act on.

pub mod discovery;
pub mod dynamic;
mod errors;
pub mod limits;
pub mod lists;
pub mod lock;
pub mod managed;
pub mod objects;
pub mod retry;
pub mod reviews;
pub mod tokens;

use tower::buffer::BufferLayer;
use tower::retry::RetryLayer;

use limits::LimitsLayer;

use crate::error::Result;

pub use discovery::{Discovered, DiscoveryMode, ServedKind};
pub use lists::{Listed, RequestCounter};
pub use lock::IdentityLock;
pub use managed::Namespaces;
pub use objects::AppliedRoleBinding;
pub use retry::RetrySettings;
pub use reviews::{Caller, RulesReview};
pub use tokens::{IssuedToken, ServiceAccountToken};

/// The field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "kubectl-cicd";

/// A connection to one cluster as one identity. Cheap to clone (the client is shared).
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    /// The API server URL without any `user:password@`, for messages and reports.
    server: String,
    /// The proxy requests go through (proxy-url or HTTPS_PROXY), without any password.
    proxy: Option<String>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// `kubectl-cicd/vVERSION (OS/ARCH)`, in the shape kubectl gives its own.
pub fn user_agent() -> String {
    format!(
        "kubectl-cicd/v{} ({}/{})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

impl Cluster {
    /// Builds the run's client with the default [`RetrySettings`]. Must be called inside a
    /// Tokio runtime (the client spawns its request buffer there). Runs the exec credential
    /// plugin, if the context has one.
    pub fn connect(config: kube::Config) -> Result<Cluster> {
        Self::connect_with(config, RetrySettings::default())
    }

    /// [`Cluster::connect`] with explicit retry bounds.
    pub fn connect_with(mut config: kube::Config, retry: RetrySettings) -> Result<Cluster> {
        let server =
            crate::text::redact_userinfo(config.cluster_url.to_string().trim_end_matches('/'));
        let proxy = config
            .proxy_url
            .as_ref()
            .map(|p| crate::text::redact_userinfo(&p.to_string()));
        // kube panics on a token no header can carry: refuse it here, with a message.
        if let Some(token) = &config.auth_info.token {
            use secrecy::ExposeSecret as _;
            if !crate::kubeconfig::token_is_sendable(token.expose_secret()) {
                return Err(crate::error::Error::Kubeconfig(
                    "the bearer token contains a line break or another control character, so it cannot be sent: \
                     copy the token again without the line break"
                        .into(),
                ));
            }
        }
        let user = user_label(&config);
        if let Some(exec) = &mut config.auth_info.exec {
            crate::exec_guard::wrap(exec);
        }
        // The overall bound of one request, over every attempt, the waits between them and the
        // whole answer: with --request-timeout (which bounds each attempt's reads), that plus
        // the retries' longest total wait; else the default.
        let deadline = config
            .read_timeout
            .map(|t| t.saturating_add(retry.max_total_wait))
            .unwrap_or(retry.deadline);
        // kube's built-in retry (`RetryPolicy::server_retry`: 15 retries, any Retry-After) is
        // replaced by our bounded one below.
        config.default_retry = false;
        if config
            .connect_timeout
            .is_none_or(|t| t > retry.connect_timeout)
        {
            config.connect_timeout = Some(retry.connect_timeout);
        }
        if config.read_timeout.is_none() {
            config.read_timeout = Some(retry.read_timeout);
            // Count the read timeout from when the request is sent, not from when a pooled
            // connection went idle.
            config.reset_reader_on_write = true;
        }
        // The API server's audit log records the User-Agent: an auditor reading it sees which
        // requests kubectl-cicd made, as kubectl's own carry `kubectl/VERSION`.
        config.headers.push((
            http::header::USER_AGENT,
            http::HeaderValue::from_str(&user_agent()).expect("a header-safe user agent"),
        ));
        let builder = kube::client::ClientBuilder::try_from(config)
            .map_err(|e| errors::build_error(e, &server, &user))?;
        let client = builder
            // RetryLayer needs a Clone service; the boxed default stack is not, a buffer is.
            .with_layer(&BufferLayer::new(64))
            .with_layer(&RetryLayer::new(retry::TransientRetry::new(&retry)))
            .with_layer(&LimitsLayer::new(deadline, retry.max_response_bytes))
            .build();
        Ok(Cluster {
            client,
            server,
            proxy,
        })
    }

    /// The API server URL, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The underlying client (prefer the methods of this module: they map errors and count).
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    pub(crate) fn err(
        &self,
        e: kube::Error,
        context: impl FnOnce() -> String,
    ) -> crate::error::Error {
        errors::map(e, &self.server, self.proxy.as_deref(), &context())
    }
}

fn user_label(config: &kube::Config) -> String {
    match &config.auth_info.exec {
        Some(exec) => format!(
            "of this context (exec plugin `{}`)",
            exec.command.as_deref().unwrap_or("?")
        ),
        None => "of this context".to_string(),
    }
}
