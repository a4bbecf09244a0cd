//! `cicd-sandbox`: a Kubernetes-compatible API server for kubectl-cicd's tests and demos.
//!
//! HTTPS with a CA made at start, bearer-token users, discovery (legacy and aggregated),
//! generic storage for registered types, RBAC authorization and escalation prevention,
//! self-reviews, TokenRequest, a token controller for legacy token Secrets, server-side
//! apply, metadata-only lists, a request log (also as an audit log) and fault injection. It is
//! test infrastructure and never ships with the plugin.
//!
//! ```no_run
//! let sandbox = cicd_sandbox::Sandbox::start(cicd_sandbox::Config::default()).unwrap();
//! let kubeconfig = sandbox.kubeconfig("alice", "team-a");
//! ```

pub mod apply;
pub mod audit_log;
pub mod auth;
pub mod bootstrap;
mod controller;
pub mod kubeconfig;
mod objects;
mod openapi;
mod paging;
pub mod patch;
mod protobuf;
pub mod rbac;
pub mod registry;
mod request;
mod reviews;
pub mod seed;
mod server;
pub mod state;
pub mod status;
pub mod store;
mod subresources;
mod table;
mod tls;
mod util;
pub mod validation;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;

pub use auth::StaticUser;
pub use registry::{Registry, ResourceType};
pub use state::{Fault, FaultAction, LogEntry};

use state::{Shared, State};

/// How to start a sandbox.
#[derive(Clone, Debug)]
pub struct Config {
    /// 0 picks a free port.
    pub port: u16,
    /// Serve aggregated discovery (apidiscovery.k8s.io/v2) when asked, as kube-apiserver 1.30+ does.
    pub aggregated_discovery: bool,
    /// How long the token controller waits before filling a token Secret.
    pub token_controller_delay: Duration,
    /// Cap on TokenRequest expiry, as `--service-account-max-token-expiration`.
    pub max_token_expiration: Option<Duration>,
    /// How long a deleted namespace stays Terminating before the namespace controller has
    /// removed what it holds and the namespace itself.
    pub namespace_deletion_delay: Duration,
    pub registry: Registry,
    /// Objects created as the cluster administrator before serving.
    pub seed_objects: Vec<Value>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            aggregated_discovery: true,
            token_controller_delay: Duration::from_secs(1),
            max_token_expiration: None,
            namespace_deletion_delay: Duration::from_millis(500),
            registry: Registry::standard(),
            seed_objects: Vec::new(),
        }
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sandbox {
    /// Starts the server on its own thread and returns once it accepts connections.
    pub fn start(config: Config) -> Result<Sandbox, String> {
        let tls = tls::generate()?;
        let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", config.port))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();

        let mut state = State::new(config.registry, seed::default_users());
        state.aggregated_discovery = config.aggregated_discovery;
        state.token_controller_delay = config.token_controller_delay;
        state.max_token_expiration = config.max_token_expiration;
        state.namespace_deletion_delay = config.namespace_deletion_delay;
        seed::seed_defaults(&mut state)?;
        for obj in config.seed_objects {
            seed::create_as_admin(&mut state, obj)?;
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            signer: auth::TokenSigner::default(),
            ca_pem: tls.ca_pem,
            url: format!("https://127.0.0.1:{port}"),
        });

        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let server_shared = shared.clone();
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.server_config);
        let thread = std::thread::Builder::new()
            .name("cicd-sandbox".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    tokio::spawn(controller::run(server_shared.clone()));
                    tokio::select! {
                        _ = accept_loop(listener, acceptor, server_shared) => {}
                        _ = stop_rx => {}
                    }
                });
            })
            .map_err(|e| format!("cannot start the sandbox thread: {e}"))?;
        Ok(Sandbox {
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    pub fn ca_pem(&self) -> &str {
        &self.shared.ca_pem
    }

    /// The bearer token of a seeded user (`admin`, `alice`, `bob`).
    pub fn user_token(&self, user: &str) -> Option<String> {
        self.shared
            .lock()
            .users
            .iter()
            .find(|u| u.name == user)
            .map(|u| u.token.clone())
    }

    /// The bearer tokens of every static user, seeded or added, for leak checks.
    pub fn user_tokens(&self) -> Vec<String> {
        self.shared
            .lock()
            .users
            .iter()
            .map(|u| u.token.clone())
            .collect()
    }

    /// Adds a user with a static token.
    pub fn add_user(&self, user: StaticUser) {
        self.shared.lock().users.push(user);
    }

    /// A kubeconfig (YAML) for a seeded user, defaulting to `namespace`.
    pub fn kubeconfig(&self, user: &str, namespace: &str) -> String {
        let token = self.user_token(user).unwrap_or_default();
        kubeconfig::render(self.url(), self.ca_pem(), user, &token, namespace)
    }

    /// Writes `admin.kubeconfig` (namespace `demo`), `alice.kubeconfig` and `bob.kubeconfig`
    /// (namespace `team-a`) into `dir`, mode 0600.
    pub fn write_kubeconfigs(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut out = Vec::new();
        for (user, ns) in [("admin", "demo"), ("alice", "team-a"), ("bob", "team-a")] {
            let path = dir.join(format!("{user}.kubeconfig"));
            write_private(&path, &self.kubeconfig(user, ns))?;
            out.push(path);
        }
        Ok(out)
    }

    pub fn request_log(&self) -> Vec<LogEntry> {
        self.shared.lock().log.clone()
    }

    /// The request log as the API server's audit log (`audit.k8s.io/v1` Events, one JSON
    /// object a line; see [`audit_log`]), from its `first` entry on (0 for all of it).
    pub fn audit_log(&self, first: usize) -> String {
        let st = self.shared.lock();
        audit_log::render(st.log.get(first..).unwrap_or_default())
    }

    pub fn clear_request_log(&self) {
        self.shared.lock().log.clear();
    }

    /// Serves `body` at `path` (e.g. `/files/namespace-install.yaml`) to anyone, with no
    /// authentication: a test hook standing for a web server that hosts a manifest.
    pub fn serve_file(&self, path: &str, body: &[u8]) {
        self.shared
            .lock()
            .files
            .insert(path.to_string(), state::ServedFile::Body(body.to_vec()));
    }

    /// Answers GET `path` with a 302 to `location` (a test hook, as [`Sandbox::serve_file`]).
    pub fn serve_redirect(&self, path: &str, location: &str) {
        self.shared.lock().files.insert(
            path.to_string(),
            state::ServedFile::Redirect(location.to_string()),
        );
    }

    pub fn inject_fault(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    pub fn set_aggregated_discovery(&self, on: bool) {
        self.shared.lock().aggregated_discovery = on;
    }

    pub fn set_max_token_expiration(&self, max: Option<Duration>) {
        self.shared.lock().max_token_expiration = max;
    }

    /// Moves the sandbox's clock forward as if `by` had passed, for token issue and expiry and
    /// the last-used stamps of legacy tokens (object timestamps keep the real time).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.lock().clock_offset += by;
    }

    /// Serves another type from now on (a CRD being installed).
    pub fn register_type(&self, t: ResourceType) {
        self.shared.lock().registry.register(t);
    }

    /// Creates objects as the cluster administrator (`system:masters`), through the same
    /// admission path as requests. The administrator skips the RBAC checks, so seeding never
    /// builds the RBAC snapshot, and the ClusterRole aggregation runs only for the writes it
    /// can see: seeding is linear (the 26,500 objects of `benches/audit.rs` take about half a
    /// second).
    pub fn seed(&self, objects: Vec<Value>) -> Result<(), String> {
        let mut st = self.shared.lock();
        for obj in objects {
            seed::create_as_admin(&mut st, obj)?;
        }
        Ok(())
    }

    /// A stored object, read directly (no request, nothing logged).
    pub fn object(
        &self,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        self.shared
            .lock()
            .store
            .get(&store::type_key(group, resource), namespace, name)
            .cloned()
    }

    pub fn objects(&self, group: &str, resource: &str) -> Vec<Value> {
        self.shared.lock().store.list_cloned(group, resource)
    }

    /// Every ServiceAccount token issued so far (TokenRequest and token controller), for leak checks.
    pub fn minted_tokens(&self) -> Vec<String> {
        self.shared.lock().minted_tokens.clone()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Arc<Shared>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = service_fn(move |req| server::serve(shared.clone(), req));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// Writes a file readable only by its owner, atomically (temporary file, then rename).
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
