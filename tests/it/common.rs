//! Shared by the plugin's integration tests: a test server with kubeconfigs, the plugin binary,
//! the real kubectl, and the leak check every captured output goes through.
//!
//! A test runs on the sandbox (`env()`, a fresh server per test), on the real control plane
//! (`real_env()`), or on both (`on_both_servers!`). The real control plane is started once for
//! the whole suite (the one test binary) on first use; its tests run one at a time, each in a
//! namespace of its own in which alice is `admin` and bob holds his limited Role, as in the
//! sandbox's `team-a`. `env.ns()` names it.
//! The request log is the sandbox's own log or the real server's audit log.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use cicd_cluster::Cluster;
use cicd_sandbox::{Config, Sandbox};
use serde_json::{Value, json};

/// Defines the test twice: `NAME::sandbox` and `NAME::real`. The body sees `env`.
macro_rules! on_both_servers {
    ($(#[$attr:meta])* fn $name:ident($env:ident) $body:block) => {
        $(#[$attr])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sandbox() {
                let $env = crate::common::env();
                $body
            }

            #[test]
            fn real() {
                let Some($env) = crate::common::real_env() else {
                    return;
                };
                $body
            }
        }
    };
}

pub enum Server {
    Sandbox(Sandbox),
    Real(&'static Cluster),
}

pub struct Env {
    pub server: Server,
    pub dir: tempfile::TempDir,
    namespace: String,
    other_namespace: String,
    /// Real tests run one at a time on the suite's one control plane.
    _serial: Option<MutexGuard<'static, ()>>,
    /// Where the request log starts for `request_log`: entries (sandbox) or audit events (real).
    log_start: Mutex<usize>,
    /// resourceVersions in the test namespace when the log was last cleared (real server).
    versions_at_start: Mutex<BTreeMap<String, String>>,
}

pub fn env() -> Env {
    env_with(Config::default())
}

pub fn env_with(config: Config) -> Env {
    let sandbox = Sandbox::start(config).expect("sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    sandbox.write_kubeconfigs(dir.path()).expect("kubeconfigs");
    Env {
        server: Server::Sandbox(sandbox),
        dir,
        namespace: "team-a".into(),
        other_namespace: "demo".into(),
        _serial: None,
        log_start: Mutex::new(0),
        versions_at_start: Mutex::new(BTreeMap::new()),
    }
}

/// Whether the real control plane is wanted: yes unless CICD_SKIP_REAL=1.
pub fn real_wanted() -> bool {
    if std::env::var("CICD_SKIP_REAL").is_ok_and(|v| v == "1") {
        eprintln!("CICD_SKIP_REAL=1: skipping a test on the real control plane");
        return false;
    }
    true
}

/// The suite's real control plane, started on first use and shared by every real test.
pub fn real_cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    let started = CLUSTER.get_or_init(|| {
        let cluster = Cluster::start(cicd_cluster::Options::default())?;
        eprintln!(
            "real control plane at {} started in {:.1} s",
            cluster.url(),
            cluster.started_in().as_secs_f64()
        );
        Ok(cluster)
    });
    match started {
        Ok(cluster) => cluster,
        Err(e) => panic!(
            "the real control plane did not start (set CICD_SKIP_REAL=1 to skip the tests that need it):\n{e}"
        ),
    }
}

/// A fresh namespace on the real control plane with alice and bob granted in it as in the
/// sandbox's team-a, and kubeconfigs defaulting to it; `None` with CICD_SKIP_REAL=1.
pub fn real_env() -> Option<Env> {
    if !real_wanted() {
        return None;
    }
    static SERIAL: Mutex<()> = Mutex::new(());
    let serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let cluster = real_cluster();
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let namespace = format!("t{n}-{}", std::process::id());
    let other_namespace = format!("{namespace}-demo");
    let mut objects = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other_namespace}}),
    ];
    for mut grant in cicd_sandbox::seed::team_a_rbac() {
        grant["metadata"]["namespace"] = json!(namespace);
        objects.push(grant);
    }
    cluster.seed(objects).expect("the test namespace is seeded");
    let dir = tempfile::tempdir().expect("temp dir");
    for (user, ns) in [
        ("admin", &other_namespace[..]),
        ("alice", &namespace[..]),
        ("bob", &namespace[..]),
    ] {
        cicd_sandbox::write_private(
            &dir.path().join(format!("{user}.kubeconfig")),
            &cluster.kubeconfig(user, ns),
        )
        .expect("kubeconfig written");
    }
    let env = Env {
        server: Server::Real(cluster),
        dir,
        namespace,
        other_namespace,
        _serial: Some(serial),
        log_start: Mutex::new(0),
        versions_at_start: Mutex::new(BTreeMap::new()),
    };
    // What the controllers add to every namespace: the `default` ServiceAccount and the
    // `kube-root-ca.crt` ConfigMap (the sandbox has both from the start).
    env.wait_for(|| {
        env.object("", "serviceaccounts", env.ns(), "default")
            .is_some()
            && env
                .object("", "configmaps", env.ns(), "kube-root-ca.crt")
                .is_some()
    });
    env.clear_request_log();
    Some(env)
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Server::Real(cluster) = &self.server {
            for ns in [&self.namespace, &self.other_namespace] {
                let path = format!("/api/v1/namespaces/{ns}");
                let _ = cluster.block_on(async {
                    let req = http::Request::delete(path).body(Vec::new()).unwrap();
                    cluster.admin_client().request_text(req).await
                });
            }
        }
    }
}

/// What a run printed, checked for leaked tokens on the way in.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// One request, from either server's log.
#[derive(Clone, Debug)]
pub struct Request {
    pub user: String,
    pub verb: String,
    /// Path with its query string.
    pub path: String,
    pub status: u16,
    /// Whether the reply carried Secret `data` or `stringData`.
    pub secret_data: bool,
    /// Whether the reply was metadata only (PartialObjectMetadata or its List).
    pub metadata_only: bool,
    /// The client's User-Agent (the real server's audit log records it; the sandbox does not).
    pub user_agent: Option<String>,
}

impl Env {
    pub fn is_real(&self) -> bool {
        matches!(self.server, Server::Real(_))
    }

    /// The namespace alice administers and bob deploys to: `team-a` on the sandbox, a fresh one
    /// per test on the real control plane.
    pub fn ns(&self) -> &str {
        &self.namespace
    }

    /// A second namespace, the administrator's default: `demo` on the sandbox, a fresh one per
    /// test on the real control plane.
    pub fn other_ns(&self) -> &str {
        &self.other_namespace
    }

    /// The sandbox, for what only it has (fault injection, its clock, its switches).
    pub fn sandbox(&self) -> &Sandbox {
        match &self.server {
            Server::Sandbox(s) => s,
            Server::Real(_) => panic!("this test step needs the sandbox"),
        }
    }

    pub fn url(&self) -> &str {
        match &self.server {
            Server::Sandbox(s) => s.url(),
            Server::Real(c) => c.url(),
        }
    }

    pub fn ca_pem(&self) -> &str {
        match &self.server {
            Server::Sandbox(s) => s.ca_pem(),
            Server::Real(c) => c.ca_pem(),
        }
    }

    pub fn user_token(&self, user: &str) -> String {
        match &self.server {
            Server::Sandbox(s) => s.user_token(user),
            Server::Real(c) => c.user_token(user),
        }
        .expect("a seeded user")
    }

    /// A kubeconfig (YAML) for a seeded user, defaulting to `namespace`.
    pub fn kubeconfig_text(&self, user: &str, namespace: &str) -> String {
        match &self.server {
            Server::Sandbox(s) => s.kubeconfig(user, namespace),
            Server::Real(c) => c.kubeconfig(user, namespace),
        }
    }

    /// The name kubeconfigs give the test server's cluster.
    pub fn cluster_name(&self) -> &'static str {
        match &self.server {
            Server::Sandbox(_) => cicd_sandbox::kubeconfig::CLUSTER_NAME,
            Server::Real(_) => "cicd-cluster",
        }
    }

    /// Creates (sandbox) or applies (real) objects as the administrator. As on the sandbox,
    /// seeding is not one of the requests `changed_objects` reports.
    pub fn seed(&self, objects: Vec<Value>) {
        match &self.server {
            Server::Sandbox(s) => s.seed(objects).expect("seed objects are accepted"),
            Server::Real(c) => {
                c.seed(objects).expect("seed objects are accepted");
                let now = self.resource_versions(c);
                let mut start = self.versions_at_start.lock().unwrap();
                for (key, version) in now {
                    start.entry(key).or_insert(version);
                }
            }
        }
    }

    /// A stored object, read as the administrator.
    pub fn object(
        &self,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        match &self.server {
            Server::Sandbox(s) => s.object(group, resource, namespace, name),
            Server::Real(c) => c.get_json(&object_path(group, resource, namespace, name)),
        }
    }

    /// The objects of one kind in a namespace, read as the administrator.
    pub fn objects(&self, group: &str, resource: &str, namespace: &str) -> Vec<Value> {
        match &self.server {
            Server::Sandbox(s) => s
                .objects(group, resource)
                .into_iter()
                .filter(|o| o["metadata"]["namespace"] == namespace)
                .collect(),
            Server::Real(c) => {
                let path = object_path(group, resource, namespace, "");
                let list = c.get_json(path.trim_end_matches('/')).unwrap_or_default();
                list["items"].as_array().cloned().unwrap_or_default()
            }
        }
    }

    /// Every ServiceAccount token the server issued so far, for leak checks.
    pub fn minted_tokens(&self) -> Vec<String> {
        match &self.server {
            Server::Sandbox(s) => s.minted_tokens(),
            Server::Real(c) => c.minted_tokens(),
        }
    }

    /// The bearer tokens of the server's static users: those of the source kubeconfigs
    /// (admin, alice, bob) and of any user a test added (carol), for leak checks.
    pub fn user_tokens(&self) -> Vec<String> {
        match &self.server {
            Server::Sandbox(s) => s.user_tokens(),
            Server::Real(c) => c.user_tokens(),
        }
    }

    /// Starts the request log afresh, and on the real server notes the resourceVersions in the
    /// test namespace for `changed_objects`.
    pub fn clear_request_log(&self) {
        match &self.server {
            Server::Sandbox(s) => s.clear_request_log(),
            Server::Real(c) => {
                *self.versions_at_start.lock().unwrap() = self.resource_versions(c);
                *self.log_start.lock().unwrap() = settled_audit_events(c).len();
            }
        }
    }

    /// The requests since the log was last cleared, oldest first.
    pub fn request_log(&self) -> Vec<Request> {
        match &self.server {
            Server::Sandbox(s) => s
                .request_log()
                .into_iter()
                .map(|e| Request {
                    metadata_only: e.accept.contains("as=PartialObjectMetadata"),
                    user: e.user,
                    verb: e.verb,
                    path: e.path,
                    status: e.status,
                    secret_data: e.secret_data,
                    user_agent: None,
                })
                .collect(),
            Server::Real(c) => settled_audit_events(c)
                .into_iter()
                .skip(*self.log_start.lock().unwrap())
                // Not the server's own (system:apiserver stamps a legacy token's last use when
                // the token authenticates); the launcher's are not logged at all.
                .filter(|e| e.user != "system:apiserver")
                .map(|e| Request {
                    metadata_only: e.response_kind.starts_with("PartialObjectMetadata"),
                    user: e.user,
                    verb: e.verb,
                    path: e.request_uri,
                    status: e.code,
                    secret_data: e.secret_data,
                    user_agent: Some(e.user_agent),
                })
                .collect(),
        }
    }

    /// Where the server's audit log is now, for [`Env::audit_log_since`]: the real server's
    /// file length once it has stopped growing, or the sandbox's number of logged requests.
    pub fn audit_log_mark(&self) -> u64 {
        match &self.server {
            Server::Sandbox(s) => s.request_log().len() as u64,
            Server::Real(c) => settled_audit_log_len(c),
        }
    }

    /// The server's audit log (`audit.k8s.io/v1` Events, one JSON object a line) from `mark`
    /// on, as a file `name` in the test folder: the real server's own lines, or the sandbox's
    /// request log written as audit events.
    pub fn audit_log_since(&self, mark: u64, name: &str) -> PathBuf {
        let path = self.path(name);
        let text = match &self.server {
            Server::Sandbox(s) => s.audit_log(mark as usize).into_bytes(),
            Server::Real(c) => {
                settled_audit_log_len(c);
                let all = std::fs::read(c.audit_log_path()).expect("the audit log is readable");
                all.get(mark as usize..).unwrap_or_default().to_vec()
            }
        };
        std::fs::write(&path, text).expect("audit log copy written");
        path
    }

    /// The server's whole audit log as a file: the real server's own (the whole suite's, once
    /// it has stopped growing), or the sandbox's request log written as audit events.
    pub fn audit_log_file(&self) -> PathBuf {
        match &self.server {
            Server::Sandbox(_) => self.audit_log_since(0, "audit.log"),
            Server::Real(c) => {
                settled_audit_log_len(c);
                c.audit_log_path()
            }
        }
    }

    /// Objects the requests since the log was last cleared changed: from the sandbox's log, or
    /// on the real server the objects of the test namespace whose resourceVersion moved (or
    /// that came or went).
    pub fn changed_objects(&self) -> Vec<String> {
        match &self.server {
            Server::Sandbox(s) => s
                .request_log()
                .into_iter()
                .filter(|e| e.changed)
                // A run's lock (a Lease) is taken and given back: tests check that it is gone.
                .filter(|e| !e.path.contains("/leases"))
                .map(|e| format!("{} {}", e.method, e.path))
                .collect(),
            Server::Real(c) => {
                let before = self.versions_at_start.lock().unwrap();
                let after = self.resource_versions(c);
                let mut changed: Vec<String> = after
                    .iter()
                    .filter(|(k, v)| before.get(*k) != Some(v))
                    .map(|(k, _)| k.clone())
                    .collect();
                changed.extend(before.keys().filter(|k| !after.contains_key(*k)).cloned());
                changed
            }
        }
    }

    fn resource_versions(&self, cluster: &Cluster) -> BTreeMap<String, String> {
        let mut versions = BTreeMap::new();
        for (group, resource) in [
            ("", "serviceaccounts"),
            ("", "secrets"),
            ("", "configmaps"),
            ("rbac.authorization.k8s.io", "roles"),
            ("rbac.authorization.k8s.io", "rolebindings"),
        ] {
            let path = object_path(group, resource, &self.namespace, "");
            let list = cluster
                .get_json(path.trim_end_matches('/'))
                .unwrap_or_default();
            for item in list["items"].as_array().into_iter().flatten() {
                let name = item["metadata"]["name"].as_str().unwrap_or_default();
                let version = item["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default();
                versions.insert(format!("{resource}/{name}"), version.to_string());
            }
        }
        versions
    }

    /// On the real control plane, waits until no namespace is still terminating (earlier tests'
    /// namespaces, which cluster-wide reads would otherwise see come and go); at most 60 s.
    pub fn wait_for_settled_namespaces(&self) {
        let Server::Real(cluster) = &self.server else {
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let list = cluster.get_json("/api/v1/namespaces").unwrap_or_default();
            let terminating = list["items"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|ns| ns["status"]["phase"] == "Terminating");
            if !terminating || Instant::now() > deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// On the real control plane, waits (up to 30 s) until its RBAC authorizer, which reads
    /// bindings from a cache, lets `user` (in `groups`) do `verb` on `group`/`resource` in
    /// `namespace`: a binding seeded a moment ago takes effect a moment later. The sandbox
    /// authorizes from its store at once.
    pub fn wait_until_allowed(
        &self,
        user: &str,
        groups: &[&str],
        verb: &str,
        group: &str,
        resource: &str,
        namespace: &str,
    ) {
        let Server::Real(cluster) = &self.server else {
            return;
        };
        let review = json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"user": user, "groups": groups, "resourceAttributes": {
                "namespace": namespace, "verb": verb, "group": group, "resource": resource}},
        });
        self.wait_for(|| {
            let answer = cluster.block_on(async {
                let req = http::Request::post("/apis/authorization.k8s.io/v1/subjectaccessreviews")
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(&review).unwrap())
                    .unwrap();
                cluster.admin_client().request_text(req).await
            });
            answer
                .ok()
                .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                .is_some_and(|v| v["status"]["allowed"] == true)
        });
    }

    /// Polls `done` for up to 30 s.
    pub fn wait_for(&self, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `sh -c "stty cols COLS rows 40 && SCRIPT"` as `user` in the test's folder, without
    /// colour: for a pseudo-terminal, which starts with no size. SCRIPT runs the plugin,
    /// e.g. `exec "$PLUGIN" init` (`$PLUGIN` is the binary under test).
    pub fn terminal_command(&self, user: &str, cols: usize, script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("stty cols {cols} rows 40 && {script}"))
            .current_dir(self.dir.path())
            .env("PLUGIN", env!("CARGO_BIN_EXE_kubectl-cicd"))
            .env("KUBECONFIG", self.kubeconfig(user))
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env("TERM", "xterm");
        cmd
    }

    pub fn kubeconfig(&self, user: &str) -> PathBuf {
        self.dir.path().join(format!("{user}.kubeconfig"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The one leak check: fails the test if any token the server minted, or the bearer token
    /// of any of its users (those of the source kubeconfigs), appears in `text`. The message
    /// never repeats the token.
    #[track_caller]
    pub fn assert_no_token_in(&self, text: &str) {
        for token in self.minted_tokens() {
            assert!(
                token.is_empty() || !text.contains(&token),
                "a minted ServiceAccount token leaked into captured output"
            );
        }
        for token in self.user_tokens() {
            assert!(
                token.is_empty() || !text.contains(&token),
                "a user's own token (from a source kubeconfig) leaked into captured output"
            );
        }
    }

    /// What a finished child printed, through the leak check.
    #[track_caller]
    pub fn finish(&self, out: Output) -> Run {
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.assert_no_token_in(&run.stdout);
        self.assert_no_token_in(&run.stderr);
        run
    }

    /// `kubectl-cicd ARGS` in the test folder with KUBECONFIG pointing at `kubeconfig`.
    pub fn plugin(&self, kubeconfig: &Path, args: &[&str]) -> Run {
        self.plugin_with_env(kubeconfig, args, &[("NO_COLOR", Some("1"))])
    }

    /// As [`Env::plugin`], with `vars` set (`Some`) or removed (`None`) in the child's
    /// environment instead of NO_COLOR=1: the tests share one process, whose own environment
    /// is never changed.
    pub fn plugin_with_env(
        &self,
        kubeconfig: &Path,
        args: &[&str],
        vars: &[(&str, Option<&str>)],
    ) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-cicd"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("KUBECONFIG", kubeconfig)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        for (name, value) in vars {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        self.finish(cmd.output().expect("kubectl-cicd runs"))
    }

    pub fn plugin_as(&self, user: &str, args: &[&str]) -> Run {
        self.plugin(&self.kubeconfig(user), args)
    }

    /// The real kubectl, with a discovery cache of its own per kubeconfig.
    pub fn kubectl(&self, kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        use std::io::Write;
        let cache = self.dir.path().join(format!(
            "kubectl-cache-{}",
            kubeconfig.file_name().unwrap().to_string_lossy()
        ));
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--cache-dir")
            .arg(cache)
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs (set CICD_SKIP_KUBECTL=1 to skip kubectl tests)");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().expect("kubectl finishes");
        self.finish(out)
    }
}

/// The API path of an object (or, with an empty name, of its list).
pub fn object_path(group: &str, resource: &str, namespace: &str, name: &str) -> String {
    let prefix = if group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{group}/v1")
    };
    let ns = if namespace.is_empty() {
        String::new()
    } else {
        format!("/namespaces/{namespace}")
    };
    format!("{prefix}{ns}/{resource}/{name}")
}

/// The audit log once it has stopped growing: kube-apiserver writes a request's event as its
/// reply completes, so the last events of a command that just ended may land a moment later.
fn settled_audit_events(cluster: &Cluster) -> Vec<cicd_cluster::AuditEvent> {
    settled_audit_log_len(cluster);
    cluster.audit_events()
}

/// The audit log's length once it has stopped growing (see [`settled_audit_events`]).
fn settled_audit_log_len(cluster: &Cluster) -> u64 {
    let size = || {
        std::fs::metadata(cluster.audit_log_path())
            .map(|m| m.len())
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut last = size();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let now = size();
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

/// kubectl tests run unless CICD_SKIP_KUBECTL=1; a missing kubectl fails them.
pub fn kubectl_wanted() -> bool {
    if std::env::var("CICD_SKIP_KUBECTL").is_ok_and(|v| v == "1") {
        eprintln!("CICD_SKIP_KUBECTL=1: skipping the kubectl part of this test");
        return false;
    }
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "kubectl is not installed: these tests need the real kubectl (set CICD_SKIP_KUBECTL=1 to skip them)"
    );
    true
}
