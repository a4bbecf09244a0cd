//! `kubectl cicd init` end to end against the sandbox, judged with the real kubectl. Bad input
//! (names, kinds, kubeconfigs, outputs, durations, unreachable servers) is in `bad_input.rs`.

mod common;

use std::time::Duration;

use cicd_sandbox::Config;
use common::{env, env_with, kubectl_wanted};

const WRITE_VERBS: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

#[test]
fn alice_gets_a_working_least_privilege_kubeconfig_from_the_web_app_preset() {
    let env = env();
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
    assert!(text.contains("namespace: team-a"));

    // The next steps show docs/github-actions.md's pattern: the secret reaches the shell
    // through env: and printenv (never pasted into the script), and $GITHUB_ENV carries
    // KUBECONFIG to the later steps (an export would not).
    let github_actions = include_str!("../docs/github-actions.md");
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
        .sandbox
        .object("rbac.authorization.k8s.io", "roles", "team-a", "ci-cd")
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
        "Error from server (Forbidden): secrets is forbidden: User \"system:serviceaccount:team-a:ci-cd\" cannot list resource \"secrets\" in API group \"\" in the namespace \"team-a\""
    );
}

#[test]
fn bob_is_stopped_before_any_write_with_the_servers_words() {
    let env = env();
    env.sandbox.clear_request_log();
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
    let writes: Vec<_> = env
        .sandbox
        .request_log()
        .into_iter()
        .filter(|e| {
            (WRITE_VERBS.contains(&e.verb.as_str()) && !e.path.contains("reviews")) || e.changed
        })
        .collect();
    assert!(writes.is_empty(), "bob's run wrote: {writes:?}");
    assert!(
        !env.sandbox.request_log().is_empty(),
        "bob's run did ask the server what he holds"
    );
    assert!(!env.path("kubeconfig_ci_cd.yaml").exists());
}

#[test]
fn a_second_identical_run_changes_nothing_and_still_verifies() {
    let env = env();
    let args = ["init", "--preset", "web-app", "--yes", "--force"];
    let first = env.plugin_as("alice", &args);
    assert!(first.ok(), "{first:?}");
    env.sandbox.clear_request_log();
    let second = env.plugin_as("alice", &args);
    assert!(second.ok(), "{second:?}");
    assert!(second.stderr.contains("unchanged"), "{second:?}");
    assert!(second.stderr.contains("Verified"), "{second:?}");
    let changed: Vec<_> = env
        .sandbox
        .request_log()
        .into_iter()
        .filter(|e| e.changed)
        // The run's lock (a Lease) is taken and given back: it leaves nothing behind.
        .filter(|e| !e.path.contains("/leases"))
        .collect();
    assert!(changed.is_empty(), "the second run changed: {changed:?}");
}

#[test]
fn the_non_interactive_path_stays_within_seventeen_requests() {
    let env = env();
    env.sandbox.clear_request_log();
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");
    let log = env.sandbox.request_log();
    let lines: Vec<String> = log
        .iter()
        .map(|e| format!("{} {} {}", e.method, e.path, e.status))
        .collect();
    eprintln!(
        "init made {} API requests:\n{}",
        log.len(),
        lines.join("\n")
    );
    // 17: the lock's create and delete, and the SelfSubjectReview that checks who the new
    // token is, on top of the 14 before them.
    assert!(
        log.len() <= 17,
        "{} requests:\n{}",
        log.len(),
        lines.join("\n")
    );
    let discovery: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("GET /api") && !l.contains("/namespaces/"))
        .collect();
    assert_eq!(
        discovery.len(),
        2,
        "aggregated discovery only: {discovery:?}"
    );
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

#[test]
fn dry_run_prints_yaml_that_kubectl_applies() {
    let env = env();
    let run = env.plugin_as(
        "alice",
        &["init", "--preset", "web-app", "--dry-run", "--yes"],
    );
    assert!(run.ok(), "{run:?}");
    assert!(run.stdout.starts_with("---\n"), "{run:?}");
    assert!(
        env.sandbox
            .object("", "serviceaccounts", "team-a", "ci-cd")
            .is_none(),
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
        env.sandbox
            .object("", "secrets", "team-a", "ci-cd-token")
            .is_none(),
        "no token Secret for request tokens"
    );
}

#[test]
fn risky_kinds_need_allow_risky() {
    let env = env();
    let run = env.plugin_as("alice", &["init", "--kinds", "deploy,secrets", "--yes"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("--allow-risky"), "{run:?}");
    assert!(
        env.sandbox
            .object("", "serviceaccounts", "team-a", "ci-cd")
            .is_none()
    );
}

#[test]
fn an_exec_credential_plugin_source_works() {
    let env = env();
    let token = env.sandbox.user_token("alice").unwrap();
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

#[test]
fn a_binding_with_another_role_ref_is_replaced() {
    let env = env();
    env.sandbox
        .seed(vec![serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            // Ours (labelled): a foreign binding is refused, see tests/trust.rs.
            "metadata": {"name": "ci-cd", "namespace": "team-a", "labels": {
                "app.kubernetes.io/managed-by": "kubectl-cicd", "kubectl-cicd.io/identity": "ci-cd"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "ci-cd", "namespace": "team-a"}],
        })])
        .unwrap();
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");
    assert!(run.stderr.contains("RoleBinding ci-cd replaced"), "{run:?}");
    let binding = env
        .sandbox
        .object(
            "rbac.authorization.k8s.io",
            "rolebindings",
            "team-a",
            "ci-cd",
        )
        .unwrap();
    assert_eq!(binding["roleRef"]["kind"], "Role");
    assert_eq!(binding["roleRef"]["name"], "ci-cd");
}

#[test]
fn verification_refuses_an_identity_that_can_do_more_than_asked() {
    let env = env();
    // Someone granted every ServiceAccount of team-a read access to secrets: the new
    // identity would hold a risky permission nobody asked for.
    env.sandbox
        .seed(vec![
            serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "leaky", "namespace": "team-a"},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}],
            }),
            serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "leaky", "namespace": "team-a"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "leaky"},
                "subjects": [{"kind": "Group", "name": "system:serviceaccounts:team-a"}],
            }),
        ])
        .unwrap();
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

#[test]
fn server_override_goes_into_the_kubeconfig() {
    let env = env();
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
    assert!(text.contains("current-context: ci-cd@sandbox"), "{text}");
}
