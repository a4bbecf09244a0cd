//! The real kubectl against the sandbox: what it prints is what a user of a real cluster sees.
//!
//! These tests fail when kubectl is missing, unless CICD_SKIP_KUBECTL=1 is set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cicd_sandbox::{Config, Sandbox};

struct Env {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
}

/// Starts a sandbox with kubeconfigs written, or `None` when kubectl tests are switched off.
fn env() -> Option<Env> {
    if std::env::var("CICD_SKIP_KUBECTL").is_ok_and(|v| v == "1") {
        eprintln!("CICD_SKIP_KUBECTL=1: skipping a kubectl test");
        return None;
    }
    let found = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "kubectl is not installed: these tests need the real kubectl (set CICD_SKIP_KUBECTL=1 to skip them)"
    );
    let sandbox = Sandbox::start(Config::default()).expect("sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    sandbox.write_kubeconfigs(dir.path()).expect("kubeconfigs");
    Some(Env { sandbox, dir })
}

impl Env {
    fn kubeconfig(&self, user: &str) -> PathBuf {
        self.dir.path().join(format!("{user}.kubeconfig"))
    }

    /// kubectl as `user`, with a discovery cache of its own per user.
    fn kubectl(&self, user: &str, args: &[&str]) -> Output {
        self.kubectl_with(
            &self.kubeconfig(user),
            &self.dir.path().join(format!("cache-{user}")),
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
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
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
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kubectl runs");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().expect("kubectl finishes")
    }

    /// A kubeconfig for a bearer token (a ServiceAccount's), written next to the others.
    fn token_kubeconfig(&self, name: &str, token: &str, namespace: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.kubeconfig"));
        let text = cicd_sandbox::kubeconfig::render(
            self.sandbox.url(),
            self.sandbox.ca_pem(),
            name,
            token,
            namespace,
        );
        std::fs::write(&path, text).unwrap();
        path
    }
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

/// Acceptance 1 and 2: the admin sets up a ServiceAccount, and its token gets exactly what was granted.
#[test]
fn admin_sets_up_a_service_account_and_its_token_gets_exactly_the_role() {
    let Some(env) = env() else { return };
    let namespaces = ok(env.kubectl("admin", &["get", "ns"]));
    assert!(
        folded_rows(&namespaces)[0].starts_with("NAME STATUS AGE"),
        "{namespaces}"
    );
    assert!(namespaces.contains("team-a"), "{namespaces}");

    ok(env.kubectl("admin", &["create", "namespace", "x"]));
    ok(env.kubectl("admin", &["-n", "x", "create", "serviceaccount", "ci"]));
    let role = ok(env.kubectl(
        "admin",
        &[
            "-n",
            "x",
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
            "x",
            "create",
            "rolebinding",
            "rb",
            "--role=r",
            "--serviceaccount=x:ci",
        ],
    ));
    let token = ok(env.kubectl(
        "admin",
        &["-n", "x", "create", "token", "ci", "--duration=1h"],
    ))
    .trim()
    .to_string();
    assert_eq!(token.split('.').count(), 3, "a JWT-shaped token");

    let role_json: serde_json::Value = serde_json::from_str(&ok(
        env.kubectl("admin", &["-n", "x", "get", "role", "r", "-o", "json"])
    ))
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
        &["-n", "x", "get", "rolebinding", "rb", "-o", "json"],
    )))
    .unwrap();
    assert_eq!(binding["subjects"][0]["name"], "ci");
    assert_eq!(binding["roleRef"]["name"], "r");
    let sa: serde_json::Value = serde_json::from_str(&ok(
        env.kubectl("admin", &["-n", "x", "get", "sa", "ci", "-o", "json"])
    ))
    .unwrap();
    assert_eq!(sa["metadata"]["namespace"], "x");
    assert!(!sa["metadata"]["uid"].as_str().unwrap().is_empty());

    let ci = env.token_kubeconfig("ci", &token, "x");
    let cache = env.dir.path().join("cache-ci");
    let list = ok(env.kubectl_with(&ci, &cache, &["auth", "can-i", "--list", "-n", "x"], None));
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
        &["auth", "can-i", "list", "deployments", "-n", "x"],
        None,
    );
    assert_eq!((stdout(&yes).trim(), yes.status.code()), ("yes", Some(0)));
    let no = env.kubectl_with(
        &ci,
        &cache,
        &["auth", "can-i", "delete", "deployments", "-n", "x"],
        None,
    );
    assert_eq!((stdout(&no).trim(), no.status.code()), ("no", Some(1)));

    let secrets = env.kubectl_with(&ci, &cache, &["get", "secrets", "-n", "x"], None);
    assert!(!secrets.status.success());
    assert_eq!(
        stderr(&secrets).trim(),
        "Error from server (Forbidden): secrets is forbidden: User \"system:serviceaccount:x:ci\" cannot list resource \"secrets\" in API group \"\" in the namespace \"x\""
    );
}

/// Acceptance 3: bob may write roles, but only with rules he holds himself.
#[test]
fn bob_cannot_grant_what_he_does_not_hold() {
    let Some(env) = env() else { return };
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
        env.sandbox
            .object("rbac.authorization.k8s.io", "roles", "team-a", "leak")
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

/// Acceptance 4: the token controller fills a token Secret and the token authenticates.
#[test]
fn token_controller_fills_token_secrets_and_the_token_works() {
    let Some(env) = env() else { return };
    let cache = env.dir.path().join("cache-admin");
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
    let whoami = ok(env.kubectl_with(
        &ci,
        &env.dir.path().join("cache-ci"),
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
        None,
    ));
    assert_eq!(whoami, "system:serviceaccount:team-a:ci");

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

    // Deleting the Secret revokes its token.
    ok(env.kubectl("admin", &["-n", "team-a", "delete", "secret", "ci-token"]));
    let after = env.kubectl_with(
        &ci,
        &env.dir.path().join("cache-ci"),
        &["auth", "whoami"],
        None,
    );
    assert!(!after.status.success());
    assert!(
        stderr(&after).contains("You must be logged in to the server"),
        "{}",
        stderr(&after)
    );
}

/// Acceptance 5: an unknown token is a 401 that kubectl words as the real server makes it.
#[test]
fn unknown_tokens_are_unauthorized() {
    let Some(env) = env() else { return };
    // Warm the discovery cache first, as a user who was logged in before would have it.
    let cache = env.dir.path().join("cache-admin");
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

/// Acceptance 6: `kubectl apply` with validation on, then again unchanged; server-side apply too.
#[test]
fn kubectl_apply_validates_and_reapplies_unchanged() {
    let Some(env) = env() else { return };
    let admin = env.kubeconfig("admin");
    let cache = env.dir.path().join("cache-admin");
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
        env.sandbox
            .object("apps", "deployments", "demo", "api")
            .unwrap()["metadata"]["resourceVersion"]
            .clone()
    };
    let before = rv(&env);
    ok(env.kubectl_with(
        &admin,
        &cache,
        &["apply", "--server-side", "-f", "-"],
        Some(&ssa),
    ));
    assert_eq!(
        rv(&env),
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
