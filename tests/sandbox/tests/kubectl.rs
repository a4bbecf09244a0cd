//! The real kubectl against the sandbox: what it prints is what a user of a real cluster sees.
//!
//! Every case runs with each versioned kubectl installed beside the `kubectl` dispatcher
//! (`kubectl.1.27` … `kubectl.1.33`), each version on a sandbox of its own, in parallel
//! threads. These tests fail when no versioned kubectl is found, unless CICD_SKIP_KUBECTL=1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cicd_sandbox::{Config, Sandbox};

struct Env {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
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

/// Runs `case` once with every installed kubectl version, each on its own sandbox, in
/// parallel; fails listing every version that failed and why.
fn for_every_kubectl(case: fn(&Env)) {
    if std::env::var("CICD_SKIP_KUBECTL").is_ok_and(|v| v == "1") {
        eprintln!("CICD_SKIP_KUBECTL=1: skipping a kubectl test");
        return;
    }
    let versions = versioned_kubectls();
    assert!(
        !versions.is_empty(),
        "no versioned kubectl (kubectl.1.27 … kubectl.1.33) beside the kubectl dispatcher: these tests need the real kubectl (set CICD_SKIP_KUBECTL=1 to skip them)"
    );
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = versions
            .iter()
            .map(|(version, bin)| {
                let handle = scope.spawn(move || {
                    let sandbox = Sandbox::start(Config::default()).expect("sandbox starts");
                    let dir = tempfile::tempdir().expect("temp dir");
                    sandbox.write_kubeconfigs(dir.path()).expect("kubeconfigs");
                    case(&Env {
                        sandbox,
                        dir,
                        bin: bin.clone(),
                        version: version.clone(),
                    });
                });
                (version, handle)
            })
            .collect();
        runs.into_iter()
            .filter_map(|(version, handle)| {
                let payload = handle.join().err()?;
                let why = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Some(format!("kubectl {version}: {why}"))
            })
            .collect()
    });
    eprintln!(
        "{} of {} kubectl versions passed",
        versions.len() - failures.len(),
        versions.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

impl Env {
    /// kubectl 1.27 asks for SelfSubjectReview in v1alpha1 and v1beta1 only, which a 1.37
    /// server does not enable by default (`genericBetaAPIGroupVersionsDisabledByDefault`).
    fn knows_self_subject_review_v1(&self) -> bool {
        self.version != "1.27"
    }

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
        let mut cmd = Command::new(&self.bin);
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
    for_every_kubectl(admin_sets_up_a_service_account_and_its_token_gets_exactly_the_role_case);
}

fn admin_sets_up_a_service_account_and_its_token_gets_exactly_the_role_case(env: &Env) {
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
    for_every_kubectl(bob_cannot_grant_what_he_does_not_hold_case);
}

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
    for_every_kubectl(token_controller_fills_token_secrets_and_the_token_works_case);
}

fn token_controller_fills_token_secrets_and_the_token_works_case(env: &Env) {
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
    if env.knows_self_subject_review_v1() {
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
    } else {
        let denied = env.kubectl_with(
            &ci,
            &env.dir.path().join("cache-ci"),
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
    for_every_kubectl(unknown_tokens_are_unauthorized_case);
}

fn unknown_tokens_are_unauthorized_case(env: &Env) {
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
    for_every_kubectl(kubectl_apply_validates_and_reapplies_unchanged_case);
}

fn kubectl_apply_validates_and_reapplies_unchanged_case(env: &Env) {
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

/// `auth whoami` and `auth can-i --list` as alice, admin of team-a only.
#[test]
fn alice_sees_who_she_is_and_what_she_may_do() {
    for_every_kubectl(alice_sees_who_she_is_and_what_she_may_do_case);
}

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

/// `create deployment` and `create configmap` (protobuf bodies from kubectl 1.32 on), read back.
#[test]
fn created_deployments_and_config_maps_read_back_as_sent() {
    for_every_kubectl(created_deployments_and_config_maps_read_back_as_sent_case);
}

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
        .sandbox
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
    let stored = env
        .sandbox
        .object("", "secrets", "team-a", "s")
        .expect("stored");
    assert_eq!(stored["data"]["password"], "aHVudGVyMg==");
    assert_eq!(stored["type"], "Opaque");

    // kubectl 1.32 and later send built-in kinds as protobuf; the sandbox read them all.
    let sent: Vec<String> = env
        .sandbox
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

/// `get --chunk-size` pages through the list with `limit` and `continue` and shows all of it.
#[test]
fn get_with_chunk_size_pages_through_everything() {
    for_every_kubectl(get_with_chunk_size_pages_through_everything_case);
}

fn get_with_chunk_size_pages_through_everything_case(env: &Env) {
    let objects = (0..7)
        .map(|i| {
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{i}"), "namespace": "team-a"}})
        })
        .collect();
    env.sandbox.seed(objects).unwrap();
    env.sandbox.clear_request_log();
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
        .sandbox
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
