//! The real kubectl against both servers, the sandbox and the real control plane: what it
//! prints is what a user of a real cluster sees.
//!
//! Every case runs with each versioned kubectl installed beside the `kubectl` dispatcher
//! (`kubectl.1.27` … `kubectl.1.33`): on the sandbox each version gets a sandbox of its own,
//! in parallel threads; on the real control plane (one for the whole suite) the versions run one
//! after another, each in fresh namespaces that stand in for `team-a` and `demo`. The cases are
//! written for `team-a` and `demo`: on the real server those two names are replaced by the
//! run's own namespaces in everything sent to kubectl, and put back in what kubectl prints.
//! These tests fail when no versioned kubectl is found, unless CICD_SKIP_KUBECTL=1, and when the
//! real control plane cannot start, unless CICD_SKIP_REAL=1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use serde_json::Value;

struct Env {
    /// The server and the test's folder and namespaces.
    base: common::Env,
    /// The versioned kubectl binary this run uses.
    bin: PathBuf,
    /// `1.27`, `1.33`, ...
    version: String,
}

/// The versioned kubectl binaries beside the dispatcher, oldest first.
fn versioned_kubectls() -> Vec<(String, PathBuf)> {
    let dispatcher = Command::new("sh")
        .args(["-c", "command -v kubectl"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let Some(dir) = dispatcher
        .and_then(|d| std::fs::canonicalize(d).ok())
        .and_then(|d| d.parent().map(Path::to_path_buf))
    else {
        return Vec::new();
    };
    let mut found: Vec<(u32, String, PathBuf)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix("kubectl.")?.to_string();
            let minor: u32 = version.strip_prefix("1.")?.parse().ok()?;
            Some((minor, version, e.path()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, v, p)| (v, p)).collect()
}

fn kubectl_versions() -> Option<Vec<(String, PathBuf)>> {
    if std::env::var("CICD_SKIP_KUBECTL").is_ok_and(|v| v == "1") {
        eprintln!("CICD_SKIP_KUBECTL=1: skipping a kubectl test");
        return None;
    }
    let versions = versioned_kubectls();
    assert!(
        !versions.is_empty(),
        "no versioned kubectl (kubectl.1.27 … kubectl.1.33) beside the kubectl dispatcher: these tests need the real kubectl (set CICD_SKIP_KUBECTL=1 to skip them)"
    );
    Some(versions)
}

/// Runs `case` with `version` on `base`, catching a failure as its text.
fn attempt(case: fn(&Env), base: common::Env, version: &str, bin: &Path) -> Option<String> {
    let env = Env {
        base,
        bin: bin.to_path_buf(),
        version: version.to_string(),
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&env)));
    let payload = outcome.err()?;
    let why = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    Some(format!("kubectl {version}: {why}"))
}

/// Runs `case` once with every installed kubectl version on the sandbox (each on its own, in
/// parallel); fails listing every version that failed and why.
fn on_sandbox_with_every_kubectl(case: fn(&Env)) {
    let Some(versions) = kubectl_versions() else {
        return;
    };
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = versions
            .iter()
            .map(|(version, bin)| scope.spawn(move || attempt(case, common::env(), version, bin)))
            .collect();
        runs.into_iter()
            .filter_map(|handle| handle.join().expect("the case thread ends"))
            .collect()
    });
    report(versions.len(), failures, "the sandbox");
}

/// The same on the real control plane, one version after another.
fn on_real_with_every_kubectl(case: fn(&Env)) {
    let Some(versions) = kubectl_versions() else {
        return;
    };
    let mut failures = Vec::new();
    for (version, bin) in &versions {
        let Some(base) = common::real_env() else {
            return;
        };
        failures.extend(attempt(case, base, version, bin));
    }
    report(versions.len(), failures, "the real control plane");
}

fn report(versions: usize, failures: Vec<String>, server: &str) {
    eprintln!(
        "{} of {versions} kubectl versions passed on {server}",
        versions - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Defines `NAME::sandbox` and `NAME::real`, each running `CASE` with every kubectl.
macro_rules! with_every_kubectl {
    ($name:ident, $case:ident) => {
        mod $name {
            #[test]
            fn sandbox() {
                super::on_sandbox_with_every_kubectl(super::$case);
            }

            #[test]
            fn real() {
                super::on_real_with_every_kubectl(super::$case);
            }
        }
    };
}

impl Env {
    /// kubectl 1.27 asks for SelfSubjectReview in v1alpha1 and v1beta1 only, which a 1.37
    /// server does not enable by default (`genericBetaAPIGroupVersionsDisabledByDefault`).
    fn knows_self_subject_review_v1(&self) -> bool {
        self.version != "1.27"
    }

    fn dir(&self) -> &Path {
        self.base.dir.path()
    }

    /// `team-a`, `demo` and `scratch` (a namespace a case creates) as this run's own
    /// namespaces; the same names on the sandbox, where each run has a server of its own.
    fn localize(&self, text: &str) -> String {
        if !self.base.is_real() {
            return text.to_string();
        }
        let text = text.replace("team-a", self.base.ns());
        let text = replace_word(&text, "demo", self.base.other_ns());
        replace_word(&text, "scratch", &self.scratch_ns())
    }

    /// This run's namespaces back as `team-a`, `demo` and `scratch`.
    fn globalize(&self, text: &str) -> String {
        if !self.base.is_real() {
            return text.to_string();
        }
        text.replace(&self.scratch_ns(), "scratch")
            .replace(self.base.other_ns(), "demo")
            .replace(self.base.ns(), "team-a")
    }

    fn scratch_ns(&self) -> String {
        format!("{}-scratch", self.base.ns())
    }

    fn kubeconfig(&self, user: &str) -> PathBuf {
        self.base.kubeconfig(user)
    }

    /// kubectl as `user`, with a discovery cache of its own per user.
    fn kubectl(&self, user: &str, args: &[&str]) -> Output {
        self.kubectl_with(
            &self.kubeconfig(user),
            &self.dir().join(format!("cache-{user}")),
            args,
            None,
        )
    }

    fn kubectl_with(
        &self,
        kubeconfig: &Path,
        cache: &Path,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Output {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--cache-dir")
            .arg(cache)
            .args(args.iter().map(|a| self.localize(a)))
            .env("HOME", self.dir())
            .env_remove("KUBECONFIG")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kubectl runs");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(self.localize(input).as_bytes())
                .unwrap();
        }
        let mut out = child.wait_with_output().expect("kubectl finishes");
        out.stdout = self
            .globalize(&String::from_utf8_lossy(&out.stdout))
            .into_bytes();
        out.stderr = self
            .globalize(&String::from_utf8_lossy(&out.stderr))
            .into_bytes();
        out
    }

    /// A kubeconfig for a bearer token (a ServiceAccount's), written next to the others.
    fn token_kubeconfig(&self, name: &str, token: &str, namespace: &str) -> PathBuf {
        let path = self.dir().join(format!("{name}.kubeconfig"));
        let text = cicd_sandbox::kubeconfig::render_for(
            self.base.cluster_name(),
            self.base.url(),
            self.base.ca_pem(),
            name,
            token,
            &self.localize(namespace),
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A stored object, read as the administrator (namespace as the cases name it).
    fn object(&self, group: &str, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        self.base
            .object(group, resource, &self.localize(namespace), name)
    }

    /// Objects created as the administrator (namespaces as the cases name them).
    fn seed(&self, objects: Vec<Value>) {
        let text = self.localize(&serde_json::to_string(&objects).unwrap());
        self.base.seed(serde_json::from_str(&text).unwrap());
    }
}

/// `text` with every whole word `word` replaced by `by`.
fn replace_word(text: &str, word: &str, by: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            out.push_str(word);
        } else {
            out.push_str(by);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "kubectl failed: {}{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Rows of a tab-aligned table with runs of spaces folded to one.
fn folded_rows(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

// Acceptance 1 and 2: the admin sets up a ServiceAccount, and its token gets exactly what was granted.
with_every_kubectl!(
    admin_sets_up_a_service_account_and_its_token_gets_exactly_the_role,
    admin_sets_up_a_service_account_and_its_token_gets_exactly_the_role_case
);

fn admin_sets_up_a_service_account_and_its_token_gets_exactly_the_role_case(env: &Env) {
    let namespaces = ok(env.kubectl("admin", &["get", "ns"]));
    assert!(
        folded_rows(&namespaces)[0].starts_with("NAME STATUS AGE"),
        "{namespaces}"
    );
    assert!(namespaces.contains("team-a"), "{namespaces}");

    ok(env.kubectl("admin", &["create", "namespace", "scratch"]));
    ok(env.kubectl(
        "admin",
        &["-n", "scratch", "create", "serviceaccount", "ci"],
    ));
    let role = ok(env.kubectl(
        "admin",
        &[
            "-n",
            "scratch",
            "create",
            "role",
            "r",
            "--verb=get,list",
            "--resource=deployments.apps,services",
        ],
    ));
    assert_eq!(role.trim(), "role.rbac.authorization.k8s.io/r created");
    ok(env.kubectl(
        "admin",
        &[
            "-n",
            "scratch",
            "create",
            "rolebinding",
            "rb",
            "--role=r",
            "--serviceaccount=scratch:ci",
        ],
    ));
    let token = ok(env.kubectl(
        "admin",
        &["-n", "scratch", "create", "token", "ci", "--duration=1h"],
    ))
    .trim()
    .to_string();
    assert_eq!(token.split('.').count(), 3, "a JWT-shaped token");

    let role_json: serde_json::Value = serde_json::from_str(&ok(env.kubectl(
        "admin",
        &["-n", "scratch", "get", "role", "r", "-o", "json"],
    )))
    .unwrap();
    assert_eq!(role_json["rules"][0]["apiGroups"], serde_json::json!([""]));
    assert_eq!(
        role_json["rules"][0]["resources"],
        serde_json::json!(["services"])
    );
    assert_eq!(
        role_json["rules"][1]["apiGroups"],
        serde_json::json!(["apps"])
    );
    let binding: serde_json::Value = serde_json::from_str(&ok(env.kubectl(
        "admin",
        &["-n", "scratch", "get", "rolebinding", "rb", "-o", "json"],
    )))
    .unwrap();
    assert_eq!(binding["subjects"][0]["name"], "ci");
    assert_eq!(binding["roleRef"]["name"], "r");
    let sa: serde_json::Value = serde_json::from_str(&ok(
        env.kubectl("admin", &["-n", "scratch", "get", "sa", "ci", "-o", "json"])
    ))
    .unwrap();
    assert_eq!(sa["metadata"]["namespace"], "scratch");
    assert!(!sa["metadata"]["uid"].as_str().unwrap().is_empty());

    let ci = env.token_kubeconfig("ci", &token, "scratch");
    let cache = env.dir().join("cache-ci");
    // A real kube-apiserver authorizes from an informer's cache of the RBAC objects: a binding
    // made a moment ago takes effect a moment later (the sandbox applies it at once).
    let deadline = Instant::now() + Duration::from_secs(10);
    let list = loop {
        let list = ok(env.kubectl_with(
            &ci,
            &cache,
            &["auth", "can-i", "--list", "-n", "scratch"],
            None,
        ));
        if list.contains("deployments.apps") || Instant::now() > deadline {
            break list;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let rows = folded_rows(&list);
    assert!(
        rows[0].starts_with("Resources Non-Resource URLs Resource Names Verbs"),
        "{list}"
    );
    assert!(
        rows.contains(&"deployments.apps [] [] [get list]".to_string()),
        "{list}"
    );
    assert!(
        rows.contains(&"services [] [] [get list]".to_string()),
        "{list}"
    );

    let yes = env.kubectl_with(
        &ci,
        &cache,
        &["auth", "can-i", "list", "deployments", "-n", "scratch"],
        None,
    );
    assert_eq!((stdout(&yes).trim(), yes.status.code()), ("yes", Some(0)));
    let no = env.kubectl_with(
        &ci,
        &cache,
        &["auth", "can-i", "delete", "deployments", "-n", "scratch"],
        None,
    );
    assert_eq!((stdout(&no).trim(), no.status.code()), ("no", Some(1)));

    let secrets = env.kubectl_with(&ci, &cache, &["get", "secrets", "-n", "scratch"], None);
    assert!(!secrets.status.success());
    assert_eq!(
        stderr(&secrets).trim(),
        "Error from server (Forbidden): secrets is forbidden: User \"system:serviceaccount:scratch:ci\" cannot list resource \"secrets\" in API group \"\" in the namespace \"scratch\""
    );
}

// Acceptance 3: bob may write roles, but only with rules he holds himself.
with_every_kubectl!(
    bob_cannot_grant_what_he_does_not_hold,
    bob_cannot_grant_what_he_does_not_hold_case
);

fn bob_cannot_grant_what_he_does_not_hold_case(env: &Env) {
    let leak = env.kubectl(
        "bob",
        &[
            "-n",
            "team-a",
            "create",
            "role",
            "leak",
            "--verb=get",
            "--resource=secrets",
        ],
    );
    assert_eq!(leak.status.code(), Some(1));
    assert_eq!(
        stderr(&leak),
        "Error from server (Forbidden): roles.rbac.authorization.k8s.io \"leak\" is forbidden: user \"bob\" (groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}\n"
    );
    assert!(
        env.object("rbac.authorization.k8s.io", "roles", "team-a", "leak")
            .is_none()
    );

    let fine = ok(env.kubectl(
        "bob",
        &[
            "-n",
            "team-a",
            "create",
            "role",
            "deployer",
            "--verb=get,list,create",
            "--resource=deployments.apps",
        ],
    ));
    assert_eq!(
        fine.trim(),
        "role.rbac.authorization.k8s.io/deployer created"
    );

    let bind = env.kubectl(
        "bob",
        &[
            "-n",
            "team-a",
            "create",
            "rolebinding",
            "b",
            "--clusterrole=view",
            "--user=bob",
        ],
    );
    assert!(!bind.status.success());
    let err = stderr(&bind);
    assert!(
        err.starts_with("error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io \"b\" is forbidden: user \"bob\" (groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"bindings\"], Verbs:[\"get\" \"list\" \"watch\"]}\n"),
        "{err}"
    );
    assert!(
        err.contains(
            "\n{APIGroups:[\"\"], Resources:[\"configmaps\"], Verbs:[\"get\" \"list\" \"watch\"]}\n"
        ),
        "{err}"
    );
    assert!(
        !err.contains("{APIGroups:[\"apps\"], Resources:[\"deployments\"]"),
        "bob holds deployments.apps: {err}"
    );
    // Binding to a role whose rules bob holds is allowed.
    ok(env.kubectl(
        "bob",
        &[
            "-n",
            "team-a",
            "create",
            "rolebinding",
            "d",
            "--role=deployer",
            "--user=bob",
        ],
    ));
}

const TOKEN_SECRET: &str = "apiVersion: v1
kind: Secret
metadata:
  name: ci-token
  namespace: team-a
  annotations:
    kubernetes.io/service-account.name: ci
type: kubernetes.io/service-account-token
";

// Acceptance 4: the token controller fills a token Secret and the token authenticates.
with_every_kubectl!(
    token_controller_fills_token_secrets_and_the_token_works,
    token_controller_fills_token_secrets_and_the_token_works_case
);

fn token_controller_fills_token_secrets_and_the_token_works_case(env: &Env) {
    let cache = env.dir().join("cache-admin");
    ok(env.kubectl("admin", &["-n", "team-a", "create", "serviceaccount", "ci"]));
    ok(env.kubectl_with(
        &env.kubeconfig("admin"),
        &cache,
        &["apply", "-f", "-"],
        Some(TOKEN_SECRET),
    ));

    let started = Instant::now();
    let encoded = loop {
        let out = ok(env.kubectl(
            "admin",
            &[
                "-n",
                "team-a",
                "get",
                "secret",
                "ci-token",
                "-o",
                "jsonpath={.data.token}",
            ],
        ));
        if !out.is_empty() {
            break out;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the token controller did not fill the Secret"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    use base64::Engine;
    let token = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .unwrap(),
    )
    .unwrap();
    let annotations = ok(env.kubectl(
        "admin",
        &[
            "-n",
            "team-a",
            "get",
            "secret",
            "ci-token",
            "-o",
            "jsonpath={.metadata.annotations.kubernetes\\.io/service-account\\.uid}",
        ],
    ));
    let sa_uid = ok(env.kubectl(
        "admin",
        &[
            "-n",
            "team-a",
            "get",
            "sa",
            "ci",
            "-o",
            "jsonpath={.metadata.uid}",
        ],
    ));
    assert_eq!(annotations, sa_uid);

    let ci = env.token_kubeconfig("ci", &token, "team-a");
    if env.knows_self_subject_review_v1() {
        let whoami = ok(env.kubectl_with(
            &ci,
            &env.dir().join("cache-ci"),
            &[
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}",
            ],
            None,
        ));
        assert_eq!(whoami, "system:serviceaccount:team-a:ci");
    } else {
        let denied = env.kubectl_with(
            &ci,
            &env.dir().join("cache-ci"),
            &["get", "pods", "-n", "team-a"],
            None,
        );
        assert_eq!(
            stderr(&denied).trim(),
            "Error from server (Forbidden): pods is forbidden: User \"system:serviceaccount:team-a:ci\" cannot list resource \"pods\" in API group \"\" in the namespace \"team-a\""
        );
    }

    // A token Secret without the ServiceAccount annotation is refused as the real server refuses it.
    let bad = TOKEN_SECRET.replace(
        "  annotations:\n    kubernetes.io/service-account.name: ci\n",
        "",
    );
    let refused = env.kubectl_with(
        &env.kubeconfig("admin"),
        &cache,
        &["create", "-f", "-"],
        Some(&bad),
    );
    assert_eq!(
        stderr(&refused).trim(),
        "The Secret \"ci-token\" is invalid: metadata.annotations[kubernetes.io/service-account.name]: Required value"
    );

    // Deleting the Secret revokes its token: at once on the sandbox, within the 10 s a real
    // kube-apiserver keeps a successful authentication in its cache.
    ok(env.kubectl("admin", &["-n", "team-a", "delete", "secret", "ci-token"]));
    let deadline = Instant::now() + Duration::from_secs(15);
    let after = loop {
        let after = env.kubectl_with(&ci, &env.dir().join("cache-ci"), &["auth", "whoami"], None);
        if stderr(&after).contains("You must be logged in to the server")
            || Instant::now() > deadline
        {
            break after;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(!after.status.success());
    assert!(
        stderr(&after).contains("You must be logged in to the server"),
        "{}",
        stderr(&after)
    );
}

// Acceptance 5: an unknown token is a 401 that kubectl words as the real server makes it.
with_every_kubectl!(
    unknown_tokens_are_unauthorized,
    unknown_tokens_are_unauthorized_case
);

fn unknown_tokens_are_unauthorized_case(env: &Env) {
    // Warm the discovery cache first, as a user who was logged in before would have it.
    let cache = env.dir().join("cache-admin");
    ok(env.kubectl("admin", &["get", "ns"]));
    let bogus = env.token_kubeconfig("bogus", "not-a-real-token", "default");
    let out = env.kubectl_with(&bogus, &cache, &["get", "ns"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: You must be logged in to the server (Unauthorized)"
    );
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
";

// Acceptance 6: `kubectl apply` with validation on, then again unchanged; server-side apply too.
with_every_kubectl!(
    kubectl_apply_validates_and_reapplies_unchanged,
    kubectl_apply_validates_and_reapplies_unchanged_case
);

fn kubectl_apply_validates_and_reapplies_unchanged_case(env: &Env) {
    let admin = env.kubeconfig("admin");
    let cache = env.dir().join("cache-admin");
    let first = ok(env.kubectl_with(&admin, &cache, &["apply", "-f", "-"], Some(DEPLOYMENT)));
    assert_eq!(first.trim(), "deployment.apps/web created");
    let second = ok(env.kubectl_with(&admin, &cache, &["apply", "-f", "-"], Some(DEPLOYMENT)));
    assert_eq!(second.trim(), "deployment.apps/web unchanged");

    let changed = DEPLOYMENT.replace("nginx:1.27", "nginx:1.28");
    let third = ok(env.kubectl_with(&admin, &cache, &["apply", "-f", "-"], Some(&changed)));
    assert_eq!(third.trim(), "deployment.apps/web configured");
    let image = ok(env.kubectl(
        "admin",
        &[
            "-n",
            "demo",
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ],
    ));
    assert_eq!(image, "nginx:1.28");

    let ssa = DEPLOYMENT.replace("name: web\n  namespace", "name: api\n  namespace");
    let applied = ok(env.kubectl_with(
        &admin,
        &cache,
        &["apply", "--server-side", "-f", "-"],
        Some(&ssa),
    ));
    assert_eq!(applied.trim(), "deployment.apps/api serverside-applied");
    let rv = |env: &Env| {
        env.object("apps", "deployments", "demo", "api").unwrap()["metadata"]["resourceVersion"]
            .clone()
    };
    let before = rv(env);
    ok(env.kubectl_with(
        &admin,
        &cache,
        &["apply", "--server-side", "-f", "-"],
        Some(&ssa),
    ));
    assert_eq!(
        rv(env),
        before,
        "re-applying identical content changes nothing"
    );

    let listed = ok(env.kubectl("admin", &["-n", "demo", "get", "deployments"]));
    let rows = folded_rows(&listed);
    assert!(
        rows[0].starts_with("NAME READY UP-TO-DATE AVAILABLE AGE"),
        "{listed}"
    );
    assert_eq!(rows.len(), 3, "{listed}");
}

// `auth whoami` and `auth can-i --list` as alice, admin of team-a only.
with_every_kubectl!(
    alice_sees_who_she_is_and_what_she_may_do,
    alice_sees_who_she_is_and_what_she_may_do_case
);

fn alice_sees_who_she_is_and_what_she_may_do_case(env: &Env) {
    let whoami = env.kubectl("alice", &["auth", "whoami"]);
    if env.knows_self_subject_review_v1() {
        let rows = folded_rows(&ok(whoami));
        assert_eq!(rows[0], "ATTRIBUTE VALUE", "{rows:?}");
        assert_eq!(rows[1], "Username alice", "{rows:?}");
        assert!(
            rows.contains(&"Groups [devs system:authenticated]".to_string()),
            "{rows:?}"
        );
    } else {
        assert_eq!(whoami.status.code(), Some(1));
        assert_eq!(
            stderr(&whoami).trim(),
            "error: the selfsubjectreviews API is not enabled in the cluster\nenable APISelfSubjectReview feature gate and authentication.k8s.io/v1alpha1 or authentication.k8s.io/v1beta1 API"
        );
    }

    let list = ok(env.kubectl("alice", &["auth", "can-i", "--list", "-n", "team-a"]));
    let rows = folded_rows(&list);
    assert!(
        rows[0].starts_with("Resources Non-Resource URLs Resource Names Verbs"),
        "{list}"
    );
    let admin_row = "rolebindings.rbac.authorization.k8s.io [] [] [create delete deletecollection get list patch update watch]".to_string();
    assert!(rows.contains(&admin_row), "{list}");
    let elsewhere = ok(env.kubectl("alice", &["auth", "can-i", "--list", "-n", "demo"]));
    assert!(
        !folded_rows(&elsewhere).contains(&admin_row),
        "alice is admin of team-a only: {elsewhere}"
    );
    let no = env.kubectl(
        "alice",
        &["auth", "can-i", "create", "deployments", "-n", "demo"],
    );
    assert_eq!((stdout(&no).trim(), no.status.code()), ("no", Some(1)));
    let yes = env.kubectl(
        "alice",
        &["auth", "can-i", "create", "deployments", "-n", "team-a"],
    );
    assert_eq!((stdout(&yes).trim(), yes.status.code()), ("yes", Some(0)));
}

// `create deployment` and `create configmap` (protobuf bodies from kubectl 1.32 on), read back.
with_every_kubectl!(
    created_deployments_and_config_maps_read_back_as_sent,
    created_deployments_and_config_maps_read_back_as_sent_case
);

fn created_deployments_and_config_maps_read_back_as_sent_case(env: &Env) {
    let made = ok(env.kubectl(
        "alice",
        &[
            "-n",
            "team-a",
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--replicas=3",
            "--port=8080",
        ],
    ));
    assert_eq!(made.trim(), "deployment.apps/web created");
    let d = env
        .object("apps", "deployments", "team-a", "web")
        .expect("stored");
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "web");
    let container = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "nginx:1.27");
    assert_eq!(container["ports"][0]["containerPort"], 8080);
    assert_eq!(d["metadata"]["labels"]["app"], "web");
    assert!(d["metadata"].get("generateName").is_none(), "{d}");

    let made = ok(env.kubectl(
        "alice",
        &[
            "-n",
            "team-a",
            "create",
            "configmap",
            "settings",
            "--from-literal=mode=fast",
            "--from-literal=empty=",
        ],
    ));
    assert_eq!(made.trim(), "configmap/settings created");
    let data = ok(env.kubectl(
        "alice",
        &[
            "-n",
            "team-a",
            "get",
            "cm",
            "settings",
            "-o",
            "jsonpath={.data}",
        ],
    ));
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data, serde_json::json!({"mode": "fast", "empty": ""}));

    let secret = ok(env.kubectl(
        "alice",
        &[
            "-n",
            "team-a",
            "create",
            "secret",
            "generic",
            "s",
            "--from-literal=password=hunter2",
        ],
    ));
    assert_eq!(secret.trim(), "secret/s created");
    let stored = env.object("", "secrets", "team-a", "s").expect("stored");
    assert_eq!(stored["data"]["password"], "aHVudGVyMg==");
    assert_eq!(stored["type"], "Opaque");

    // kubectl 1.32 and later send built-in kinds as protobuf; the sandbox read them all. (The
    // real server's audit log does not record the content type.)
    if let common::Server::Sandbox(sandbox) = &env.base.server {
        let sent: Vec<String> = sandbox
            .request_log()
            .into_iter()
            .filter(|e| e.verb == "create" && e.status == 201)
            .map(|e| e.content_type)
            .collect();
        assert_eq!(sent.len(), 3, "{sent:?}");
        let minor: u32 = env.version.trim_start_matches("1.").parse().unwrap();
        let expected = if minor >= 32 {
            "application/vnd.kubernetes.protobuf"
        } else {
            "application/json"
        };
        assert!(sent.iter().all(|c| c == expected), "{sent:?}");
    }

    let again = env.kubectl(
        "alice",
        &["-n", "team-a", "create", "configmap", "settings"],
    );
    assert_eq!(
        stderr(&again).trim(),
        "error: failed to create configmap: configmaps \"settings\" already exists"
    );
    let denied = env.kubectl("bob", &["-n", "team-a", "create", "configmap", "x"]);
    assert_eq!(
        stderr(&denied).trim(),
        "error: failed to create configmap: configmaps is forbidden: User \"bob\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"team-a\""
    );
}

// `get --chunk-size` pages through the list with `limit` and `continue` and shows all of it.
with_every_kubectl!(
    get_with_chunk_size_pages_through_everything,
    get_with_chunk_size_pages_through_everything_case
);

fn get_with_chunk_size_pages_through_everything_case(env: &Env) {
    let objects = (0..7)
        .map(|i| {
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{i}"), "namespace": "team-a"}})
        })
        .collect();
    env.seed(objects);
    env.base.clear_request_log();
    let names = ok(env.kubectl(
        "alice",
        &[
            "-n",
            "team-a",
            "get",
            "configmaps",
            "--chunk-size=3",
            "-o",
            "name",
        ],
    ));
    let mut expected: Vec<String> = (0..7).map(|i| format!("configmap/cm-{i}")).collect();
    expected.push("configmap/kube-root-ca.crt".into());
    assert_eq!(names.lines().collect::<Vec<_>>(), expected);
    let lists: Vec<String> = env
        .base
        .request_log()
        .into_iter()
        .filter(|e| e.verb == "list" && e.path.contains("/configmaps"))
        .map(|e| e.path)
        .collect();
    assert_eq!(lists.len(), 3, "8 items in pages of 3: {lists:?}");
    assert!(lists.iter().all(|p| p.contains("limit=3")), "{lists:?}");
    assert!(!lists[0].contains("continue="), "{lists:?}");
    assert!(
        lists[1].contains("continue=") && lists[2].contains("continue="),
        "{lists:?}"
    );

    let table = ok(env.kubectl(
        "alice",
        &["-n", "team-a", "get", "configmaps", "--chunk-size=2"],
    ));
    let rows = folded_rows(&table);
    assert!(rows[0].starts_with("NAME DATA AGE"), "{table}");
    assert_eq!(rows.len(), 9, "one header, eight rows, once: {table}");
}

// `kubectl cicd argocd install`'s output, for each release manifest of the fixtures, goes
// through `kubectl apply --dry-run=client` object for object.
with_every_kubectl!(
    argocd_install_output_round_trips_through_kubectl,
    argocd_install_output_round_trips_through_kubectl_case
);

fn argocd_install_output_round_trips_through_kubectl_case(env: &Env) {
    let admin = env.kubeconfig("admin");
    let cache = env.dir().join("cache-admin");
    for name in [
        "v2.4.11/namespace-install.yaml",
        "v2.4.11/ha/namespace-install.yaml",
        "v3.5.1/namespace-install.yaml",
        "v3.5.1/ha/namespace-install.yaml",
        "v2.0.5/install.yaml",
    ] {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/argocd")
            .join(name);
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-cicd"))
            .args(["argocd", "install", "-n", "team-a", "-f"])
            .arg(&fixture)
            .current_dir(env.dir())
            .env("KUBECONFIG", env.dir().join("no-kubeconfig-needed"))
            .env("NO_COLOR", "1")
            .output()
            .expect("kubectl-cicd runs");
        assert!(out.status.success(), "{name}: {out:?}");
        let manifest = String::from_utf8(out.stdout).unwrap();
        let objects = manifest.matches("\n---\n").count() + 1;
        let applied = ok(env.kubectl_with(
            &admin,
            &cache,
            &["apply", "--dry-run=client", "-f", "-"],
            Some(&manifest),
        ));
        let lines = applied
            .lines()
            .filter(|l| l.ends_with(" (dry run)"))
            .count();
        assert_eq!(lines, objects, "{name}:\n{applied}");
    }
}
