//! `kubectl cicd list`, `rotate` and `delete` end to end, on the sandbox and on the real control
//! plane, and a test that the leak check every captured output goes through does catch a leak.

use std::path::Path;

use crate::common::{Env, Run, kubectl_wanted};
use serde_json::{Value, json};

fn init(env: &Env, args: &[&str]) -> Run {
    let mut all = vec!["init", "--yes"];
    all.extend_from_slice(args);
    let run = env.plugin_as("alice", &all);
    assert!(run.ok(), "{run:?}");
    run
}

fn list_json(env: &Env, user: &str, extra: &[&str]) -> Value {
    let mut args = vec!["list", "-o", "json"];
    args.extend_from_slice(extra);
    let run = env.plugin_as(user, &args);
    assert!(run.ok(), "{run:?}");
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"))
}

fn token_secrets(env: &Env, ns: &str, identity: &str) -> Vec<String> {
    let mut names: Vec<String> = env
        .objects("", "secrets", ns)
        .into_iter()
        .filter(|s| s["metadata"]["labels"]["kubectl-cicd.io/identity"] == identity)
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn sa_annotation(env: &Env, name: &str, key: &str) -> Value {
    env.object("", "serviceaccounts", env.ns(), name)
        .expect("service account")["metadata"]["annotations"][key]
        .clone()
}

/// Whether the token in `kubeconfig` is refused (401) within the API server's authentication
/// cache time: kube-apiserver keeps a successful token authentication for 10 s, so a token
/// revoked a moment ago is still accepted that long (the sandbox refuses it at once).
fn revoked(env: &Env, kubeconfig: &Path) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while authenticates(env, kubeconfig) {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    true
}

/// Whether the token in `kubeconfig` still authenticates, asked through the plugin itself: a
/// robot may not list ServiceAccounts (403, so the token works), a revoked token gets 401.
fn authenticates(env: &Env, kubeconfig: &Path) -> bool {
    let run = env.plugin(kubeconfig, &["list"]);
    assert!(!run.ok(), "a robot may not list ServiceAccounts: {run:?}");
    if run.stderr.contains("401 Unauthorized") {
        return false;
    }
    assert!(run.stderr.contains("forbidden"), "{run:?}");
    true
}

on_both_servers! {
fn list_shows_each_identity_its_kinds_token_and_maker_reading_secrets_as_metadata_only(env) {
    init(
        &env,
        &["--preset", "web-app", "--read-only-kinds", "services"],
    );
    init(
        &env,
        &[
            "--name",
            "deployer",
            "--kinds",
            "deployments.apps",
            "--token",
            "request",
            "--token-duration",
            "2h",
            "--output",
            "deployer.yaml",
        ],
    );
    // Something that is not ours stays out of the list.
    env.seed(vec![json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "hand-made", "namespace": env.ns()},
        })]);
    // Using the Secret token makes the API server stamp its last use.
    assert!(authenticates(&env, &env.path("kubeconfig_ci_cd.yaml")));

    env.clear_request_log();
    let table = env.plugin_as("alice", &["list"]);
    assert!(table.ok(), "{table:?}");
    let log = env.request_log();
    assert_eq!(log.len(), 4, "four lists: {log:?}");
    assert!(
        log.iter().all(|e| !e.secret_data),
        "list reads no Secret data: {log:?}"
    );
    let changed = env.changed_objects();
    assert!(changed.is_empty(), "list changes nothing: {changed:?}");
    let secrets_list = log
        .iter()
        .find(|e| e.path.starts_with(&format!("/api/v1/namespaces/{}/secrets", env.ns())))
        .expect("secrets listed");
    assert!(secrets_list.metadata_only, "{secrets_list:?}");
    assert!(
        secrets_list
            .path
            .contains("labelSelector=app.kubernetes.io%2Fmanaged-by%3Dkubectl-cicd"),
        "{secrets_list:?}"
    );

    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{table:?}");
    // Columns are as wide as their widest cell (the test's namespace name varies in length).
    assert_eq!(
        lines[0].split_whitespace().take(4).collect::<Vec<_>>(),
        ["NAMESPACE", "NAME", "KINDS", "TOKEN"],
        "{table:?}"
    );
    let header = lines[0];
    let column = |name: &str| header.find(name).expect("a column");
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.get(column("NAME")..).is_some_and(|rest| !rest.starts_with(' '))),
        "rows line up under the header: {table:?}"
    );
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let ci = lines.iter().find(|l| l.contains(" ci-cd ")).unwrap();
    assert!(ci.contains("services(ro)"), "{ci}");
    assert!(ci.contains("deployments.apps"), "{ci}");
    assert!(ci.contains(" secret "), "{ci}");
    assert!(ci.contains("never"), "{ci}");
    assert!(ci.contains(&today), "last used today: {ci}");
    assert!(ci.contains("alice"), "{ci}");
    let deployer = lines.iter().find(|l| l.contains(" deployer ")).unwrap();
    assert!(deployer.contains(" request "), "{deployer}");
    assert!(
        ["in 2h", "in 1h", "in 119m"]
            .iter()
            .any(|t| deployer.contains(t)),
        "expires in two hours: {deployer}"
    );
    assert!(!table.stdout.contains("hand-made"));

    let json = list_json(&env, "alice", &[]);
    assert_eq!(json["kind"], "IdentityList");
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let ci = &items[0];
    assert_eq!(ci["name"], "ci-cd");
    assert_eq!(ci["namespace"], env.ns());
    assert_eq!(ci["createdBy"], "alice");
    assert_eq!(ci["token"]["kind"], "secret");
    let secrets = ci["token"]["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 1, "{ci:#}");
    assert!(
        secrets[0].as_str().unwrap().starts_with("ci-cd-token-"),
        "a token Secret name with a fresh suffix: {ci:#}"
    );
    assert_eq!(ci["token"]["expiresAt"], Value::Null);
    assert_eq!(ci["token"]["lastUsed"], today.as_str());
    assert_eq!(
        ci["objects"],
        json!({"serviceAccount": true, "role": true, "roleBinding": true})
    );
    assert_eq!(ci["problems"], json!([]));
    let services = ci["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["resource"] == "services")
        .unwrap();
    assert_eq!(services["verbs"], json!(["get", "list", "watch"]));
    let deployer = &items[1];
    assert_eq!(deployer["token"]["kind"], "request");
    let expires: jiff::Timestamp = deployer["token"]["expiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let in_two_hours = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2);
    assert!((expires.as_second() - in_two_hours.as_second()).abs() < 120);
    assert_eq!(
        deployer["token"]["expiresAt"],
        sa_annotation(&env, "deployer", "kubectl-cicd.io/token-expires-at"),
        "init records the expiry on the ServiceAccount"
    );

    // All namespaces: alice may not list cluster-wide; the administrator may.
    let denied = env.plugin_as("alice", &["list", "-A"]);
    assert_eq!(denied.code, Some(1), "{denied:?}");
    assert!(denied.stderr.contains("at the cluster scope"), "{denied:?}");
    assert!(
        denied.stderr.contains("kubectl cicd list -n NAMESPACE"),
        "{denied:?}"
    );
    let all = list_json(&env, "admin", &["-A"]);
    let here = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["namespace"] == env.ns())
        .count();
    assert_eq!(here, 2, "{all}");
    let none = env.plugin_as("admin", &["list"]);
    assert!(none.ok() && none.stdout.is_empty(), "{none:?}");
    assert!(
        none.stderr
            .contains(&format!("No identities made by kubectl-cicd in namespace {}", env.other_ns()))
    );
}
}

on_both_servers! {
fn list_points_at_half_made_identities(env) {
    // As if init had stopped after the ServiceAccount, plus a second token Secret.
    env.seed(vec![json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "half", "namespace": env.ns(),
                "labels": {"app.kubernetes.io/managed-by": "kubectl-cicd", "kubectl-cicd.io/identity": "half"},
                "annotations": {"kubectl-cicd.io/token": "secret", "kubectl-cicd.io/created-by": "alice"}},
        })]);
    let json = list_json(&env, "alice", &[]);
    let half = &json["items"][0];
    assert_eq!(half["name"], "half");
    let problems = half["problems"].to_string();
    assert!(problems.contains("Role half is missing"), "{problems}");
    assert!(
        problems.contains("RoleBinding half is missing"),
        "{problems}"
    );
    assert!(problems.contains("token Secret is missing"), "{problems}");
    let table = env.plugin_as("alice", &["list"]);
    assert!(
        table
            .stderr
            .contains(&format!("warning: {}/half: Role half is missing: run kubectl cicd init again", env.ns())),
        "{table:?}"
    );
}
}

on_both_servers! {
fn rotating_a_secret_token_revokes_the_old_kubeconfig_and_init_keeps_the_new_secret(env) {
    init(&env, &["--preset", "web-app"]);
    let first = env.path("kubeconfig_ci_cd.yaml");
    let old = env.path("old.yaml");
    std::fs::copy(&first, &old).unwrap();

    // Without --force the existing kubeconfig is kept, before any request.
    env.clear_request_log();
    let refused = env.plugin_as("alice", &["rotate", "ci-cd"]);
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains("already exists: pass --force"),
        "{refused:?}"
    );
    assert!(env.request_log().is_empty());

    let run = env.plugin_as("alice", &["rotate", "ci-cd", "--force"]);
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stderr.contains("Verified with the new token"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("Revoked the old token: deleted token Secret ci-cd-token"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("may still accept the old token for up to 10 seconds"),
        "{run:?}"
    );
    let secrets = token_secrets(&env, env.ns(), "ci-cd");
    assert_eq!(secrets.len(), 1, "{secrets:?}");
    let new_secret = secrets[0].clone();
    assert!(new_secret.starts_with("ci-cd-token-"), "{new_secret}");
    assert_eq!(
        sa_annotation(&env, "ci-cd", "kubectl-cicd.io/token-secret"),
        new_secret.as_str()
    );
    assert!(
        run.stderr
            .contains(&format!("Token Secret {new_secret} is filled")),
        "{run:?}"
    );
    let text = std::fs::read_to_string(&first).unwrap();
    assert_ne!(text, std::fs::read_to_string(&old).unwrap());
    assert!(
        text.contains(&format!("current-context: ci-cd@{}", env.cluster_name())),
        "{text}"
    );
    assert!(text.contains(&format!("namespace: {}", env.ns())), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The old kubeconfig stops working, the new one works.
    assert!(revoked(&env, &old));
    assert!(authenticates(&env, &first));
    if kubectl_wanted() {
        let stale = env.kubectl(&old, &["get", "deployments"], None);
        assert_eq!(stale.code, Some(1), "{stale:?}");
        assert!(
            stale
                .stderr
                .contains("error: You must be logged in to the server"),
            "{stale:?}"
        );
        let fresh = env.kubectl(&first, &["auth", "can-i", "create", "deployments"], None);
        assert_eq!(fresh.stdout.trim(), "yes", "{fresh:?}");
    }

    // init again with the same answers keeps the rotated Secret (no second token appears).
    let again = env.plugin_as(
        "alice",
        &["init", "--preset", "web-app", "--yes", "--force"],
    );
    assert!(again.ok(), "{again:?}");
    assert!(
        again
            .stderr
            .contains(&format!("Token Secret {new_secret} is filled")),
        "{again:?}"
    );
    assert_eq!(token_secrets(&env, env.ns(), "ci-cd"), vec![new_secret]);
    assert!(authenticates(&env, &first));
}
}

on_both_servers! {
fn rotating_request_tokens_records_the_expiry_and_says_what_cannot_be_revoked(env) {
    init(
        &env,
        &[
            "--preset",
            "web-app",
            "--token",
            "request",
            "--token-duration",
            "1h",
        ],
    );
    let before = sa_annotation(&env, "ci-cd", "kubectl-cicd.io/token-expires-at");
    assert!(before.is_string(), "init records the expiry");
    let old = env.path("old.yaml");
    std::fs::copy(env.path("kubeconfig_ci_cd.yaml"), &old).unwrap();

    let run = env.plugin_as(
        "alice",
        &["rotate", "ci-cd", "--token-duration", "3h", "--force"],
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stderr
            .contains("the previous TokenRequest token cannot be revoked on its own"),
        "{run:?}"
    );
    assert!(run.stderr.contains("kubectl cicd delete ci-cd"), "{run:?}");
    let after = sa_annotation(&env, "ci-cd", "kubectl-cicd.io/token-expires-at");
    let after_t: jiff::Timestamp = after.as_str().unwrap().parse().unwrap();
    let in_three = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(3);
    assert!(
        (after_t.as_second() - in_three.as_second()).abs() < 120,
        "{after}"
    );
    assert_eq!(
        sa_annotation(&env, "ci-cd", "kubectl-cicd.io/token"),
        "request"
    );
    // As said: the old TokenRequest token still works until it expires.
    assert!(authenticates(&env, &old));
    assert!(authenticates(&env, &env.path("kubeconfig_ci_cd.yaml")));

    // Switching to a Secret token; then back to request tokens, which deletes the Secret.
    let to_secret = env.plugin_as(
        "alice",
        &["rotate", "ci-cd", "--token", "secret", "--force"],
    );
    assert!(to_secret.ok(), "{to_secret:?}");
    assert_eq!(token_secrets(&env, env.ns(), "ci-cd").len(), 1);
    assert_eq!(
        sa_annotation(&env, "ci-cd", "kubectl-cicd.io/token"),
        "secret"
    );
    assert!(sa_annotation(&env, "ci-cd", "kubectl-cicd.io/token-expires-at").is_null());
    let secret_kubeconfig = env.path("secret.yaml");
    std::fs::copy(env.path("kubeconfig_ci_cd.yaml"), &secret_kubeconfig).unwrap();
    let to_request = env.plugin_as(
        "alice",
        &["rotate", "ci-cd", "--token", "request", "--force"],
    );
    assert!(to_request.ok(), "{to_request:?}");
    assert!(token_secrets(&env, env.ns(), "ci-cd").is_empty());
    assert!(revoked(&env, &secret_kubeconfig));
}
}

on_both_servers! {
fn rotate_refuses_what_it_cannot_rotate(env) {
    env.seed(vec![json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "hand-made", "namespace": env.ns()},
        })]);
    let nobody = format!(
        "no identity nobody in namespace {}: there is no ServiceAccount nobody",
        env.ns()
    );
    let hand_made = format!(
        "ServiceAccount {}/hand-made was not made by kubectl-cicd",
        env.ns()
    );
    let cases: &[(&[&str], i32, &str)] = &[
        (&["rotate", "nobody"], 1, &nobody),
        (&["rotate", "hand-made"], 1, &hand_made),
        (&["rotate", "Bad_Name"], 2, "invalid value 'Bad_Name' for '<NAME>'"),
        (
            &["rotate", "x", "--token", "secret", "--token-duration", "1h"],
            2,
            "--token-duration applies to --token request",
        ),
        (
            &["rotate", "x", "--token-duration", "5m"],
            2,
            "less than 10 minutes",
        ),
    ];
    for (args, code, message) in cases {
        let run = env.plugin_as("alice", args);
        assert_eq!(run.code, Some(*code), "{args:?}: {run:?}");
        assert!(run.stderr.contains(message), "{args:?}: {run:?}");
    }
    // Nothing but the run's lock (a Lease taken and given back) was written.
    assert!(env.changed_objects().is_empty());
    assert!(
        env.objects("coordination.k8s.io", "leases", env.ns()).is_empty(),
        "every lock was given back"
    );
}
}

on_both_servers! {
fn delete_shows_what_goes_asks_and_revokes(env) {
    init(&env, &["--preset", "web-app"]);
    let kubeconfig = env.path("kubeconfig_ci_cd.yaml");

    env.clear_request_log();
    let no_yes = env.plugin_as("alice", &["delete", "ci-cd"]);
    assert_eq!(no_yes.code, Some(2), "{no_yes:?}");
    assert!(no_yes.stderr.contains("pass --yes"), "{no_yes:?}");
    assert!(
        env.request_log().is_empty(),
        "asked nothing of the server"
    );

    let run = env.plugin_as("alice", &["delete", "ci-cd", "--yes"]);
    assert!(run.ok(), "{run:?}");
    let shown = run.stderr.find("  RoleBinding ci-cd").expect("shown");
    let deleted = run
        .stderr
        .find("Deleted RoleBinding ci-cd")
        .expect("deleted");
    assert!(shown < deleted);
    for line in [
        "Deleted RoleBinding ci-cd",
        "Deleted Role ci-cd",
        "Deleted Secret ci-cd-token",
        "Deleted ServiceAccount ci-cd",
    ] {
        assert!(run.stderr.contains(line), "{line}: {run:?}");
    }
    let order: Vec<String> = env.request_log()
        .into_iter()
        .filter(|e| e.verb == "delete")
        .map(|e| e.path.split('/').rev().nth(1).unwrap().to_string())
        .collect();
    assert_eq!(
        order,
        // Then the run gives back its lock.
        vec![
            "rolebindings",
            "roles",
            "secrets",
            "serviceaccounts",
            "leases"
        ]
    );
    for (group, resource) in [
        ("", "serviceaccounts"),
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "rolebindings"),
    ] {
        assert!(
            env.object(group, resource, env.ns(), "ci-cd")
                .is_none()
        );
    }
    assert!(token_secrets(&env, env.ns(), "ci-cd").is_empty());
    assert!(revoked(&env, &kubeconfig));

    let gone = env.plugin_as("alice", &["delete", "ci-cd", "--yes"]);
    assert_eq!(gone.code, Some(1), "{gone:?}");
    assert!(
        gone.stderr
            .contains(&format!("no objects of identity ci-cd made by kubectl-cicd in namespace {}", env.ns())),
        "{gone:?}"
    );
}
}

on_both_servers! {
fn delete_touches_nothing_without_our_labels(env) {
    let ours = json!({"app.kubernetes.io/managed-by": "kubectl-cicd", "kubectl-cicd.io/identity": "ci-cd"});
    env.seed(vec![
            // Half an identity: init stopped after the ServiceAccount and its token Secret...
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "ci-cd", "namespace": env.ns(), "labels": ours}}),
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                   "metadata": {"name": "ci-cd-token", "namespace": env.ns(), "labels": ours,
                                "annotations": {"kubernetes.io/service-account.name": "ci-cd"}}}),
            // ...and objects of the same names that someone else made.
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                   "metadata": {"name": "ci-cd", "namespace": env.ns()},
                   "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "ci-cd", "namespace": env.ns(),
                                "labels": {"app.kubernetes.io/managed-by": "Helm"}},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ci-cd"},
                   "subjects": [{"kind": "ServiceAccount", "name": "ci-cd", "namespace": env.ns()}]}),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "ci-cd", "namespace": env.ns(), "labels": ours}}),
            // The same identity's objects in another namespace.
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "ci-cd", "namespace": env.other_ns(), "labels": ours}}),
        ]);
    let run = env.plugin_as("alice", &["delete", "ci-cd", "--yes"]);
    assert!(run.ok(), "{run:?}");
    assert!(!run.stderr.contains("Role ci-cd"), "{run:?}");
    assert!(!run.stderr.contains("RoleBinding"), "{run:?}");
    assert!(
        env.object("", "serviceaccounts", env.ns(), "ci-cd")
            .is_none()
    );
    assert!(
        env.object("", "secrets", env.ns(), "ci-cd-token")
            .is_none()
    );
    assert!(
        env.object("rbac.authorization.k8s.io", "roles", env.ns(), "ci-cd")
            .is_some(),
        "the unlabelled Role of the same name survives"
    );
    assert!(
        env.object(
                "rbac.authorization.k8s.io",
                "rolebindings",
                env.ns(),
                "ci-cd"
            )
            .is_some(),
        "a RoleBinding managed by someone else survives"
    );
    assert!(
        env.object("", "configmaps", env.ns(), "ci-cd")
            .is_some()
    );
    assert!(
        env.object("", "serviceaccounts", env.other_ns(), "ci-cd")
            .is_some()
    );
}
}

on_both_servers! {
fn the_leak_check_catches_a_leaked_token(env) {
    init(&env, &["--preset", "web-app"]);
    let minted = env.minted_tokens();
    assert!(!minted.is_empty(), "init minted a token");
    // Clean text passes.
    env.assert_no_token_in("nothing secret here");
    // A minted token anywhere in captured text fails the test that captured it.
    for token in &minted {
        let leaked = format!("stderr line before\nAuthorization: Bearer {token}\nafter");
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            env.assert_no_token_in(&leaked)
        }));
        let message = caught.expect_err("the leak check must fire");
        let text = message
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| message.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(text.contains("leaked into captured output"), "{text}");
        assert!(
            !text.contains(token.as_str()),
            "the alarm does not repeat the token"
        );
    }
}
}
