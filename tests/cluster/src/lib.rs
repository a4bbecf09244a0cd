//! `cicd-cluster`: a real Kubernetes control plane for kubectl-cicd's tests.
//!
//! etcd, kube-apiserver and kube-controller-manager, built from the official Go modules
//! (`k8s.io/kubernetes` v1.37.2, etcd v3.7.3; see `go.mod`) into one binary that runs as each
//! of them, started as three processes on free 127.0.0.1 ports. It offers what the sandbox
//! offers, with the real server's behaviour: static token users admin/alice/bob, the seeded
//! namespaces and grants, kubeconfigs, and the audit log as the request log. It is test
//! infrastructure and never ships with the plugin.
//!
//! ```no_run
//! let cluster = cicd_cluster::Cluster::start(cicd_cluster::Options::default()).unwrap();
//! let kubeconfig = cluster.kubeconfig("alice", "team-a");
//! ```

mod audit_log;
pub mod binary;
mod files;
mod process;
mod seed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use audit_log::AuditEvent;
pub use files::USERS;

use process::Part;

/// How to start a control plane.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Folder for the kubeconfigs, certificates, logs and etcd's data (default: a new folder
    /// under the build cache, removed when the cluster stops).
    pub dir: Option<PathBuf>,
    /// Objects applied as the administrator after the defaults (CRDs first).
    pub seed_objects: Vec<Value>,
    /// Cap on TokenRequest expiry, as `--service-account-max-token-expiration`.
    pub max_token_expiration: Option<Duration>,
    /// Log requests at `Metadata` level only, without the bodies of Secrets and issued tokens
    /// (no `minted_tokens`, no Secret-data flag): for benchmarks, where those bodies would make
    /// the log, and the server's work, grow with every read of many Secrets.
    pub audit_metadata_only: bool,
}

/// How long kube-apiserver may take to answer `/readyz` (start-up on two busy cores has been
/// seen to take over 30 s upstream).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

struct Ports {
    etcd: u16,
    peer: u16,
    api: u16,
}

/// A running control plane. Dropping it stops the three processes.
pub struct Cluster {
    dir: PathBuf,
    remove_dir: bool,
    url: String,
    ca_pem: String,
    tokens: BTreeMap<String, String>,
    parts: Vec<Part>,
    client: kube::Client,
    runtime: tokio::runtime::Runtime,
    started_in: Duration,
}

impl Cluster {
    /// Builds the binary if needed, starts etcd, kube-apiserver and kube-controller-manager,
    /// waits until they serve, and seeds the defaults and `options.seed_objects`.
    pub fn start(options: Options) -> Result<Cluster, String> {
        let binary = binary::ensure_built()?;
        let mut last_error = String::new();
        // A port picked as free can be taken by another process before the server binds it;
        // start again with new ports then.
        for _ in 0..3 {
            match Cluster::start_once(&binary, &options) {
                Ok(cluster) => return Ok(cluster),
                Err(e) if e.contains("address already in use") => last_error = e,
                Err(e) => return Err(e),
            }
        }
        Err(last_error)
    }

    fn start_once(binary: &Path, options: &Options) -> Result<Cluster, String> {
        let started = Instant::now();
        let (dir, remove_dir) = match &options.dir {
            Some(d) => (d.clone(), false),
            None => (new_run_dir()?, true),
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;

        let pki = std::process::Command::new(binary)
            .arg("pki")
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        if !pki.status.success() {
            return Err(format!(
                "cannot make the certificates: {}",
                String::from_utf8_lossy(&pki.stderr)
            ));
        }
        let ca_pem = std::fs::read_to_string(dir.join("ca.crt"))
            .map_err(|e| format!("cannot read ca.crt: {e}"))?;
        let tokens = files::write_tokens(&dir)?;
        std::fs::write(
            dir.join("audit-policy.yaml"),
            files::audit_policy(!options.audit_metadata_only),
        )
        .map_err(|e| format!("cannot write the audit policy: {e}"))?;

        let etcd_port = process::free_port()?;
        let peer_port = process::free_port()?;
        let api_port = process::free_port()?;
        let url = format!("https://127.0.0.1:{api_port}");
        write_kubeconfig_file(
            &dir.join("controller-manager.kubeconfig"),
            &url,
            &ca_pem,
            files::CONTROLLER_MANAGER_USER,
            &tokens[files::CONTROLLER_MANAGER_USER],
            "default",
        )?;
        write_kubeconfig_file(
            &dir.join("launcher.kubeconfig"),
            &url,
            &ca_pem,
            files::LAUNCHER_USER,
            &tokens[files::LAUNCHER_USER],
            "default",
        )?;

        let client = runtime.block_on(client_for(&dir.join("launcher.kubeconfig")))?;
        let mut cluster = Cluster {
            dir: dir.clone(),
            remove_dir,
            url,
            ca_pem,
            tokens,
            parts: Vec::new(),
            client,
            runtime,
            started_in: Duration::ZERO,
        };
        let ports = Ports {
            etcd: etcd_port,
            peer: peer_port,
            api: api_port,
        };
        if let Err(e) = cluster.boot(binary, options, ports) {
            // Dropping the cluster stops what did start; its logs stay for the reader.
            cluster.remove_dir = false;
            return Err(format!(
                "{e}
(logs kept in {})",
                dir.display()
            ));
        }
        cluster.started_in = started.elapsed();
        Ok(cluster)
    }

    fn boot(&mut self, binary: &Path, options: &Options, ports: Ports) -> Result<(), String> {
        let dir = self.dir.clone();
        self.parts.push(Part::start(
            binary,
            "etcd",
            &etcd_flags(&dir, ports.etcd, ports.peer),
            &dir,
        )?);
        self.parts.push(Part::start(
            binary,
            "kube-apiserver",
            &apiserver_flags(&dir, ports.etcd, ports.api, options),
            &dir,
        )?);
        self.wait_ready()?;
        self.parts.push(Part::start(
            binary,
            "kube-controller-manager",
            &controller_manager_flags(&dir),
            &dir,
        )?);
        self.wait_for_controllers()?;
        let mut objects = seed::defaults();
        objects.extend(options.seed_objects.iter().cloned());
        self.seed(objects)?;
        self.wait_for_default_service_accounts(&["team-a", "demo"])
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            for part in &mut self.parts {
                part.check_running()?;
            }
            let ready = self.runtime.block_on(async {
                let req = http::Request::get("/readyz").body(Vec::new()).unwrap();
                self.client.request_text(req).await
            });
            match ready {
                Ok(text) if text.trim() == "ok" => return Ok(()),
                _ if Instant::now() > deadline => {
                    return Err(format!(
                        "kube-apiserver did not become ready within {} s; the end of its log:\n{}",
                        READY_TIMEOUT.as_secs(),
                        process::log_tail(&self.dir.join("kube-apiserver.log"), 30)
                    ));
                }
                _ => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }

    /// Waits for the controllers the tests rely on: the ServiceAccount controller (the
    /// `default` ServiceAccount) and the ClusterRole aggregation (`admin` gets its rules).
    fn wait_for_controllers(&mut self) -> Result<(), String> {
        self.wait_for("the ClusterRole aggregation controller", |c| {
            let role = c.get_json("/apis/rbac.authorization.k8s.io/v1/clusterroles/admin")?;
            Some(role["rules"].as_array().is_some_and(|r| !r.is_empty()))
        })?;
        self.wait_for_default_service_accounts(&["default"])
    }

    fn wait_for_default_service_accounts(&mut self, namespaces: &[&str]) -> Result<(), String> {
        for ns in namespaces {
            let path = format!("/api/v1/namespaces/{ns}/serviceaccounts/default");
            self.wait_for("the ServiceAccount controller", |c| {
                Some(c.get_json(&path).is_some())
            })?;
        }
        Ok(())
    }

    fn wait_for(
        &mut self,
        what: &str,
        mut done: impl FnMut(&Cluster) -> Option<bool>,
    ) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            for part in &mut self.parts {
                part.check_running()?;
            }
            if done(self) == Some(true) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{what} did not act within {} s; the end of the controller manager's log:\n{}",
                    READY_TIMEOUT.as_secs(),
                    process::log_tail(&self.dir.join("kube-controller-manager.log"), 30)
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// GET `path` as a superuser (the launcher's own, unlogged identity), as JSON; `None` on
    /// any error (404 included).
    pub fn get_json(&self, path: &str) -> Option<Value> {
        self.runtime.block_on(async {
            let req = http::Request::get(path).body(Vec::new()).ok()?;
            let text = self.client.request_text(req).await.ok()?;
            serde_json::from_str(&text).ok()
        })
    }

    /// Applies objects as a superuser (server-side apply), CRDs first and waited for
    /// until established, then the rest.
    pub fn seed(&self, objects: Vec<Value>) -> Result<(), String> {
        self.runtime
            .block_on(seed::apply_all(&self.client, objects, seed::Mode::Apply))
    }

    /// Creates many objects as the administrator, several requests at once (the benchmark's
    /// synthetic cluster). Faster than `seed` for new objects; fails on any that exists.
    pub fn create_many(&self, objects: Vec<Value>) -> Result<(), String> {
        self.runtime
            .block_on(seed::apply_all(&self.client, objects, seed::Mode::Create))
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The folder holding the kubeconfigs, logs and etcd's data.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How long `start` took, build excluded.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// Resident memory of each process, in kilobytes.
    pub fn resident_kb(&self) -> Vec<(&'static str, u64)> {
        self.parts
            .iter()
            .filter_map(|p| p.resident_kb().map(|kb| (p.name, kb)))
            .collect()
    }

    /// The bearer token of a static user (`admin`, `alice`, `bob`).
    pub fn user_token(&self, user: &str) -> Option<String> {
        self.tokens.get(user).cloned()
    }

    /// The bearer tokens of every static user (the controller manager's and the launcher's
    /// too), for leak checks.
    pub fn user_tokens(&self) -> Vec<String> {
        self.tokens.values().cloned().collect()
    }

    /// A kubeconfig (YAML) for a static user, defaulting to `namespace`.
    pub fn kubeconfig(&self, user: &str, namespace: &str) -> String {
        cicd_sandbox::kubeconfig::render_for(
            "cicd-cluster",
            &self.url,
            &self.ca_pem,
            user,
            self.tokens
                .get(user)
                .map(String::as_str)
                .unwrap_or_default(),
            namespace,
        )
    }

    /// Writes `admin.kubeconfig` (namespace `demo`), `alice.kubeconfig` and `bob.kubeconfig`
    /// (namespace `team-a`) into `dir`, mode 0600: the same files the sandbox writes.
    pub fn write_kubeconfigs(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut out = Vec::new();
        for (user, ns) in [("admin", "demo"), ("alice", "team-a"), ("bob", "team-a")] {
            let path = dir.join(format!("{user}.kubeconfig"));
            cicd_sandbox::write_private(&path, &self.kubeconfig(user, ns))?;
            out.push(path);
        }
        Ok(out)
    }

    /// The audit log file (`audit.k8s.io/v1` events, one JSON object a line).
    pub fn audit_log_path(&self) -> PathBuf {
        self.dir.join("audit.log")
    }

    /// Every completed request so far, oldest first, from the audit log. The controller
    /// manager's own requests are left out (the launcher's are not logged).
    pub fn audit_events(&self) -> Vec<AuditEvent> {
        audit_log::read(&self.audit_log_path())
            .into_iter()
            .filter(|e| e.user != files::CONTROLLER_MANAGER_USER)
            .collect()
    }

    /// Every ServiceAccount token the server issued so far (TokenRequest replies and the
    /// token controller's legacy token Secrets), for leak checks.
    pub fn minted_tokens(&self) -> Vec<String> {
        audit_log::minted_tokens(&self.audit_log_path())
    }

    /// Runs a future on the cluster's runtime (for callers without one of their own).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// A kube client for a superuser (the launcher's own identity, left out of the audit log).
    pub fn admin_client(&self) -> kube::Client {
        self.client.clone()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for part in self.parts.iter_mut().rev() {
            part.stop(Duration::from_secs(10));
        }
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

async fn client_for(kubeconfig: &Path) -> Result<kube::Client, String> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).map_err(|e| e.to_string())?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| e.to_string())?;
    config.read_timeout = Some(Duration::from_secs(60));
    // The launcher says who it is in the User-Agent too.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static("cicd-cluster"),
    ));
    kube::Client::try_from(config).map_err(|e| e.to_string())
}

fn write_kubeconfig_file(
    path: &Path,
    url: &str,
    ca_pem: &str,
    user: &str,
    token: &str,
    namespace: &str,
) -> Result<(), String> {
    let text =
        cicd_sandbox::kubeconfig::render_for("cicd-cluster", url, ca_pem, user, token, namespace);
    cicd_sandbox::write_private(path, &text)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A new folder for one cluster under the build cache. Folders of earlier runs whose process
/// is gone (killed before it could clean up) are removed first.
fn new_run_dir() -> Result<PathBuf, String> {
    let runs = binary::cache_dir().join("runs");
    if let Ok(entries) = std::fs::read_dir(&runs) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = runs.join(format!("{}-{}", std::process::id(), files::random_hex(4)?));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn etcd_flags(dir: &Path, client_port: u16, peer_port: u16) -> Vec<String> {
    let client = format!("http://127.0.0.1:{client_port}");
    let peer = format!("http://127.0.0.1:{peer_port}");
    vec![
        "--name=cicd".into(),
        format!("--data-dir={}", dir.join("etcd").display()),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=cicd={peer}"),
        "--unsafe-no-fsync=true".into(),
        "--log-level=warn".into(),
    ]
}

fn apiserver_flags(dir: &Path, etcd_port: u16, port: u16, options: &Options) -> Vec<String> {
    let d = |f: &str| dir.join(f).display().to_string();
    let issuer = format!("https://127.0.0.1:{port}");
    let mut flags = vec![
        format!("--etcd-servers=http://127.0.0.1:{etcd_port}"),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        format!("--secure-port={port}"),
        format!("--tls-cert-file={}", d("serving.crt")),
        format!("--tls-private-key-file={}", d("serving.key")),
        format!("--cert-dir={}", d("kube-apiserver-certs")),
        format!("--client-ca-file={}", d("ca.crt")),
        format!("--token-auth-file={}", d("tokens.csv")),
        "--anonymous-auth=false".into(),
        "--authorization-mode=RBAC".into(),
        format!("--service-account-issuer={issuer}"),
        format!("--service-account-key-file={}", d("sa.pub")),
        format!("--service-account-signing-key-file={}", d("sa.key")),
        "--service-cluster-ip-range=10.0.0.0/24".into(),
        format!("--audit-policy-file={}", d("audit-policy.yaml")),
        format!("--audit-log-path={}", d("audit.log")),
        "--audit-log-maxbackup=1".into(),
        "--audit-log-maxsize=2000".into(),
        "--profiling=false".into(),
        "--endpoint-reconciler-type=none".into(),
        "--v=1".into(),
    ];
    if let Some(max) = options.max_token_expiration {
        flags.push(format!(
            "--service-account-max-token-expiration={}s",
            max.as_secs()
        ));
    }
    flags
}

fn controller_manager_flags(dir: &Path) -> Vec<String> {
    let d = |f: &str| dir.join(f).display().to_string();
    vec![
        format!("--kubeconfig={}", d("controller-manager.kubeconfig")),
        "--controllers=serviceaccount-token-controller,serviceaccount-controller,\
         namespace-controller,clusterrole-aggregation-controller,garbage-collector-controller,\
         root-ca-certificate-publisher-controller"
            .into(),
        format!("--service-account-private-key-file={}", d("sa.key")),
        format!("--root-ca-file={}", d("ca.crt")),
        "--use-service-account-credentials=false".into(),
        // The default client limit (20 requests/s) lets the token controller fill about ten
        // token Secrets a second (a GET and an UPDATE each): far too slow for test clusters
        // that make thousands.
        "--kube-api-qps=1000".into(),
        "--kube-api-burst=2000".into(),
        "--concurrent-serviceaccount-token-syncs=10".into(),
        "--leader-elect=false".into(),
        "--secure-port=0".into(),
        "--v=1".into(),
    ]
}
