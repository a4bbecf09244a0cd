//! `kubectl cicd init` end to end, on the sandbox and on the real control plane, judged with the
//! real kubectl. Bad input (names, kinds, kubeconfigs, outputs, durations, unreachable servers)
//! is in `bad_input.rs`.

use std::time::Duration;

use crate::common::{self, env_with, kubectl_wanted};
use cicd_sandbox::Config;

const WRITE_VERBS: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

on_both_servers! {
fn alice_gets_a_working_least_privilege_kubeconfig_from_the_web_app_preset(env) {
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");
    assert!(run.stdout.is_empty(), "human text goes to stderr: {run:?}");
    let written = env.path("kubeconfig_ci_cd.yaml");
    let meta = std::fs::metadata(&written).expect("kubeconfig written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(
        text.contains("certificate-authority-data:"),
        "{}",
        "the CA is embedded"
    );
    assert!(!text.contains("insecure-skip-tls-verify"));
    assert!(text.contains(&format!("namespace: {}", env.ns())));

    // The next steps show docs/github-actions.md's pattern: the secret reaches the shell
    // through env: and printenv (never pasted into the script), and $GITHUB_ENV carries
    // KUBECONFIG to the later steps (an export would not).
    let github_actions = include_str!("../../docs/github-actions.md");
    for line in [
        "KUBECONFIG_FILE: ${{ secrets.KUBECONFIG_FILE }}",
        "printenv KUBECONFIG_FILE > \"$RUNNER_TEMP/kubeconfig\"",
        "printf 'KUBECONFIG=%s\\n' \"$RUNNER_TEMP/kubeconfig\" >> \"$GITHUB_ENV\"",
    ] {
        assert!(
            run.stderr.contains(line),
            "next steps lack {line:?}: {run:?}"
        );
        assert!(
            github_actions.contains(line),
            "docs/github-actions.md lacks {line:?}"
        );
    }
    assert!(run.stderr.contains("type File, key KUBECONFIG"), "{run:?}");
    assert!(!run.stderr.contains("echo \"${{"), "{run:?}");
    assert!(!run.stderr.contains("export KUBECONFIG"), "{run:?}");

    // The objects carry the labels and annotations audit, rotate and delete rely on.
    let role = env
        .object("rbac.authorization.k8s.io", "roles", env.ns(), "ci-cd")
        .expect("role");
    assert_eq!(
        role["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kubectl-cicd"
    );
    assert_eq!(
        role["metadata"]["annotations"]["kubectl-cicd.io/created-by"],
        "alice"
    );
    assert!(role["metadata"]["managedFields"][0]["manager"] == "kubectl-cicd");
    assert!(!role.to_string().contains('*'), "no wildcard in the Role");

    if !kubectl_wanted() {
        return;
    }
    let can = |args: &[&str]| env.kubectl(&written, &[&["auth", "can-i"], args].concat(), None);
    let yes = can(&["create", "deployments"]);
    assert_eq!((yes.stdout.trim(), yes.code), ("yes", Some(0)), "{yes:?}");
    let no = can(&["get", "secrets"]);
    assert_eq!((no.stdout.trim(), no.code), ("no", Some(1)), "{no:?}");
    let created = env.kubectl(
        &written,
        &["create", "deployment", "web", "--image=nginx"],
        None,
    );
    assert!(created.ok(), "{created:?}");
    assert_eq!(created.stdout.trim(), "deployment.apps/web created");
    let secrets = env.kubectl(&written, &["get", "secrets"], None);
    assert_eq!(
        secrets.stderr.trim(),
        format!(
            "Error from server (Forbidden): secrets is forbidden: User \"system:serviceaccount:{ns}:ci-cd\" cannot list resource \"secrets\" in API group \"\" in the namespace \"{ns}\"",
            ns = env.ns()
        )
    );
}
}

on_both_servers! {
fn bob_is_stopped_before_any_write_with_the_servers_words(env) {
    env.clear_request_log();
    let run = env.plugin_as(
        "bob",
        &[
            "init",
            "--kinds",
            "deployments.apps,secrets",
            "--allow-risky",
            "--yes",
        ],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:["),
        "{run:?}"
    );
    assert!(run.stderr.contains("Nothing was created"), "{run:?}");
    let log = env.request_log();
    let writes: Vec<_> = log
        .iter()
        .filter(|e| WRITE_VERBS.contains(&e.verb.as_str()) && !e.path.contains("reviews"))
        .collect();
    assert!(writes.is_empty(), "bob's run wrote: {writes:?}");
    let changed = env.changed_objects();
    assert!(changed.is_empty(), "bob's run changed: {changed:?}");
    assert!(
        log.iter().any(|e| e.user == "bob" && e.path.contains("selfsubjectrulesreviews")),
        "bob's run did ask the server what he holds: {log:?}"
    );
    assert!(!env.path("kubeconfig_ci_cd.yaml").exists());
}
}

on_both_servers! {
fn a_second_identical_run_changes_nothing_and_still_verifies(env) {
    let args = ["init", "--preset", "web-app", "--yes", "--force"];
    let first = env.plugin_as("alice", &args);
    assert!(first.ok(), "{first:?}");
    env.clear_request_log();
    let second = env.plugin_as("alice", &args);
    assert!(second.ok(), "{second:?}");
    assert!(second.stderr.contains("unchanged"), "{second:?}");
    assert!(second.stderr.contains("Verified"), "{second:?}");
    let changed = env.changed_objects();
    assert!(changed.is_empty(), "the second run changed: {changed:?}");
}
}

on_both_servers! {
fn the_non_interactive_path_stays_within_the_request_budget(env) {
    env.clear_request_log();
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");
    let log = env.request_log();
    let lines: Vec<String> = log
        .iter()
        .map(|e| format!("{} {} {}", e.verb, e.path, e.status))
        .collect();
    eprintln!(
        "init made {} API requests:\n{}",
        log.len(),
        lines.join("\n")
    );
    assert!(
        log.len() <= kubectl_cicd::init::REQUEST_BUDGET,
        "{} requests:\n{}",
        log.len(),
        lines.join("\n")
    );
    let discovery: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("get /api") && !l.contains("/namespaces/"))
        .collect();
    assert_eq!(
        discovery.len(),
        2,
        "aggregated discovery only: {discovery:?}"
    );
}
}

#[test]
fn without_aggregated_discovery_init_falls_back_to_legacy_discovery() {
    let env = env_with(Config {
        aggregated_discovery: false,
        ..Config::default()
    });
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");
}

on_both_servers! {
fn dry_run_prints_yaml_that_kubectl_applies(env) {
    let run = env.plugin_as(
        "alice",
        &["init", "--preset", "web-app", "--dry-run", "--yes"],
    );
    assert!(run.ok(), "{run:?}");
    assert!(run.stdout.starts_with("---\n"), "{run:?}");
    assert!(
        env.object("", "serviceaccounts", env.ns(), "ci-cd").is_none(),
        "dry run created nothing"
    );
    assert!(!env.path("kubeconfig_ci_cd.yaml").exists());
    if !kubectl_wanted() {
        return;
    }
    let applied = env.kubectl(
        &env.kubeconfig("alice"),
        &["apply", "-f", "-"],
        Some(&run.stdout),
    );
    assert!(applied.ok(), "{applied:?}");
    for object in [
        "serviceaccount/ci-cd",
        "role.rbac.authorization.k8s.io/ci-cd",
        "rolebinding.rbac.authorization.k8s.io/ci-cd",
    ] {
        assert!(
            applied.stdout.contains(&format!("{object} created")),
            "{applied:?}"
        );
    }
}
}

#[test]
fn request_tokens_show_the_expiry_the_server_granted() {
    let env = env_with(Config {
        max_token_expiration: Some(Duration::from_secs(1800)),
        ..Config::default()
    });
    let run = env.plugin_as(
        "alice",
        &[
            "init",
            "--preset",
            "web-app",
            "--token",
            "request",
            "--token-duration",
            "1h",
            "--yes",
        ],
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stderr.contains("shortened"),
        "the cap is reported: {run:?}"
    );
    let expiry = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(1800);
    let shown = run
        .stderr
        .lines()
        .find_map(|l| l.split("valid until ").nth(1))
        .expect("expiry shown")
        .trim()
        .parse::<jiff::Timestamp>()
        .expect("an RFC 3339 time");
    assert!(
        (shown.as_second() - expiry.as_second()).abs() < 120,
        "shown {shown}, cap ends near {expiry}"
    );
    assert!(
        env.object("", "secrets", env.ns(), "ci-cd-token").is_none(),
        "no token Secret for request tokens"
    );
}

on_both_servers! {
fn risky_kinds_need_allow_risky(env) {
    let run = env.plugin_as("alice", &["init", "--kinds", "deploy,secrets", "--yes"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("--allow-risky"), "{run:?}");
    assert!(env.object("", "serviceaccounts", env.ns(), "ci-cd").is_none());
}
}

on_both_servers! {
fn an_exec_credential_plugin_source_works(env) {
    let token = env.user_token("alice");
    let script = env.path("fake-kubelogin.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n"
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let alice = std::fs::read_to_string(env.kubeconfig("alice")).unwrap();
    let exec_user = format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
        script.display()
    );
    let with_exec = alice.replace(&format!("    token: {token}\n"), &exec_user);
    assert_ne!(with_exec, alice, "the token line was replaced");
    let kubeconfig = env.path("exec.kubeconfig");
    std::fs::write(&kubeconfig, with_exec).unwrap();
    let run = env.plugin(&kubeconfig, &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");
    assert!(run.stderr.contains("exec plugin"), "{run:?}");
}
}

on_both_servers! {
fn a_binding_with_another_role_ref_is_replaced(env) {
    env.seed(vec![serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        // Ours (labelled): a foreign binding is refused, see tests/it/trust.rs.
        "metadata": {"name": "ci-cd", "namespace": env.ns(), "labels": {
            "app.kubernetes.io/managed-by": "kubectl-cicd", "kubectl-cicd.io/identity": "ci-cd"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "ci-cd", "namespace": env.ns()}],
    })]);
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");
    assert!(run.stderr.contains("RoleBinding ci-cd replaced"), "{run:?}");
    let binding = env
        .object("rbac.authorization.k8s.io", "rolebindings", env.ns(), "ci-cd")
        .unwrap();
    assert_eq!(binding["roleRef"]["kind"], "Role");
    assert_eq!(binding["roleRef"]["name"], "ci-cd");
}
}

on_both_servers! {
fn verification_refuses_an_identity_that_can_do_more_than_asked(env) {
    // Someone granted every ServiceAccount of the namespace read access to secrets: the new
    // identity would hold a risky permission nobody asked for.
    env.seed(vec![
        serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "leaky", "namespace": env.ns()},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}],
        }),
        serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "leaky", "namespace": env.ns()},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "leaky"},
            "subjects": [{"kind": "Group", "name": format!("system:serviceaccounts:{}", env.ns())}],
        }),
    ]);
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("verification failed, so no kubeconfig was written"),
        "{run:?}"
    );
    assert!(run.stderr.contains("secrets"), "{run:?}");
    assert!(!env.path("kubeconfig_ci_cd.yaml").exists());
}
}

on_both_servers! {
fn server_override_goes_into_the_kubeconfig(env) {
    let run = env.plugin_as(
        "alice",
        &[
            "init",
            "--preset",
            "web-app",
            "--server",
            "https://api.example.org:6443",
            "--output",
            "ci.yaml",
            "--yes",
        ],
    );
    assert!(run.ok(), "{run:?}");
    let text = std::fs::read_to_string(env.path("ci.yaml")).unwrap();
    assert!(
        text.contains("server: https://api.example.org:6443"),
        "{text}"
    );
    assert!(
        text.contains(&format!("current-context: ci-cd@{}", env.cluster_name())),
        "{text}"
    );
}
}

/// An auditor reading the API server's audit log can tell the plugin's requests apart.
#[test]
fn the_audit_log_names_the_plugin_as_the_client() {
    let Some(env) = common::real_env() else {
        return;
    };
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");
    let log = env.request_log();
    let by_alice: Vec<_> = log.iter().filter(|e| e.user == "alice").collect();
    assert!(by_alice.len() >= 10, "{log:#?}");
    let version = env!("CARGO_PKG_VERSION");
    for e in by_alice {
        let agent = e.user_agent.as_deref().unwrap_or_default();
        assert!(
            agent.starts_with(&format!("kubectl-cicd/v{version} (")),
            "{e:?}"
        );
    }
}

on_both_servers! {
/// `kubectl scale` needs the scale subresource, which `deployments.apps` alone does not
/// grant: `--kinds deployments.apps/scale` resolves against discovery, becomes a rule on
/// `deployments/scale` (get, update, patch), passes the escalation check, and is verified
/// with the new token; the real kubectl then scales. `kubectl rollout status` reads and
/// watches the Deployment itself (`deployments.apps` grants get, list and watch): it is not
/// refused, and waits for pods no node will run here.
fn the_scale_subresource_is_granted_verified_and_kubectl_scale_works(env) {
    let run = env.plugin_as(
        "alice",
        &["init", "--kinds", "deployments.apps,deployments.apps/scale", "--yes"],
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stderr.contains("can     deployments.apps/scale: get patch update"),
        "the verification checks the subresource: {run:?}"
    );
    let role = env
        .object("rbac.authorization.k8s.io", "roles", env.ns(), "ci-cd")
        .expect("role");
    let rules = role["rules"].as_array().unwrap();
    let scale = rules
        .iter()
        .find(|r| r["resources"] == serde_json::json!(["deployments/scale"]))
        .unwrap_or_else(|| panic!("a rule on deployments/scale: {rules:?}"));
    assert_eq!(scale["apiGroups"], serde_json::json!(["apps"]));
    assert_eq!(scale["verbs"], serde_json::json!(["get", "patch", "update"]));

    let status = env.plugin_as(
        "alice",
        &[
            "init", "--name", "reader", "--kinds", "deployments.apps/status", "--yes",
            "--output", "reader.yaml",
        ],
    );
    assert!(status.ok(), "{status:?}");
    assert!(status.stderr.contains("can     deployments.apps/status: get"), "{status:?}");

    let unserved = env.plugin_as("alice", &["init", "--kinds", "services/scale", "--yes", "--force"]);
    assert_eq!(unserved.code, Some(2), "{unserved:?}");
    assert!(
        unserved.stderr.contains("the server doesn't serve \"services/scale\""),
        "{unserved:?}"
    );

    if !kubectl_wanted() {
        return;
    }
    let written = env.path("kubeconfig_ci_cd.yaml");
    let created = env.kubectl(
        &written,
        &["create", "deployment", "web", "--image=nginx", "--replicas=1"],
        None,
    );
    assert!(created.ok(), "{created:?}");
    let scaled = env.kubectl(&written, &["scale", "deployment", "web", "--replicas=2"], None);
    assert!(scaled.ok(), "{scaled:?}");
    assert_eq!(scaled.stdout.trim(), "deployment.apps/web scaled");
    let replicas = env.kubectl(
        &written,
        &["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"],
        None,
    );
    assert_eq!(replicas.stdout.trim(), "2", "{replicas:?}");
    let rollout = env.kubectl(
        &written,
        &["rollout", "status", "deployment/web", "--timeout=3s"],
        None,
    );
    // `rollout status` reads the Deployment and lists and watches it (an informer): the
    // verbs `deployments.apps` grants. Neither server finishes a rollout here: the real
    // control plane runs no deployment controller (the spec update is never observed, and no
    // node would run the pods), and the sandbox has none either and answers watches 405.
    let said = format!("{}{}", rollout.stdout, rollout.stderr);
    assert!(!said.to_lowercase().contains("forbidden"), "{rollout:?}");
    assert!(said.contains("Waiting for deployment"), "{rollout:?}");
    if matches!(env.server, crate::common::Server::Real(_)) {
        assert!(!said.contains("Failed to watch"), "the watch is allowed: {rollout:?}");
    }
}
}
