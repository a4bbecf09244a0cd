//! The real wizard in a pseudo-terminal: confirm the context, pick kinds, accept,
//! and the kubeconfig it writes works.

use std::process::Command;

use crate::common::{env, kubectl_wanted};
use rexpect::session::{Options, spawn_with_options};

const TIMEOUT_MS: u64 = 30_000;

/// Sends keys without a newline (rexpect buffers them until flushed).
fn press(p: &mut rexpect::session::PtySession, keys: &str) {
    p.send(keys).unwrap();
    p.flush().unwrap();
}

#[test]
fn the_wizard_walks_through_and_writes_a_working_kubeconfig() {
    let env = env();
    // A pseudo-terminal starts with no size; give it one as a terminal window would.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "stty cols 120 rows 40 && exec '{}' init",
            env!("CARGO_BIN_EXE_kubectl-cicd")
        ))
        .current_dir(env.dir.path())
        .env("KUBECONFIG", env.kubeconfig("alice"))
        .env("HOME", env.dir.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut p = spawn_with_options(
        cmd,
        Options::new()
            .timeout_ms(Some(TIMEOUT_MS))
            .strip_ansi_escape_codes(true),
    )
    .expect("the wizard starts in a pseudo-terminal");
    let mut seen = String::new();
    let mut expect = |p: &mut rexpect::session::PtySession, text: &str| {
        let before = p
            .exp_string(text)
            .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}\nso far:\n{seen}"));
        seen.push_str(&before);
        seen.push_str(text);
    };

    expect(&mut p, "namespace  team-a");
    expect(&mut p, "Set up CI/CD access in this context and namespace?");
    press(&mut p, "y");
    expect(&mut p, "Name for the ServiceAccount, Role and RoleBinding");
    p.send_line("deployer").unwrap();
    expect(&mut p, "Start from a preset");
    press(&mut p, "\r"); // web-app, the default
    expect(&mut p, "Filter the kinds by a word");
    p.send_line("cronjob").unwrap();
    expect(&mut p, "cronjobs.batch (CronJob)");
    press(&mut p, " "); // tick it
    press(&mut p, "\r");
    expect(&mut p, "Look for more kinds?");
    press(&mut p, "n");
    expect(&mut p, "Which of these may the pipeline only read");
    press(&mut p, "\r");
    expect(&mut p, "How should the pipeline's token be made?");
    press(&mut p, "\r"); // a Secret token
    expect(&mut p, "Write the pipeline's kubeconfig to");
    press(&mut p, "\r");
    expect(&mut p, "Apply these objects?");
    press(&mut p, "y");
    expect(&mut p, "Verified with the new token");
    expect(&mut p, "Wrote kubeconfig_ci_cd.yaml");
    let rest = p.exp_eof().unwrap_or_default();
    seen.push_str(&rest);
    env.assert_no_token_in(&seen);

    let role = env
        .sandbox()
        .object("rbac.authorization.k8s.io", "roles", "team-a", "deployer")
        .expect("role created");
    let text = role["rules"].to_string();
    for resource in ["cronjobs", "deployments", "services", "configmaps"] {
        assert!(text.contains(resource), "{resource} in {text}");
    }
    let written = env.path("kubeconfig_ci_cd.yaml");
    assert!(written.exists());
    if kubectl_wanted() {
        let can = env.kubectl(
            &written,
            &["auth", "can-i", "create", "cronjobs.batch"],
            None,
        );
        assert_eq!(can.stdout.trim(), "yes", "{can:?}");
    }
}

/// `argocd grant` on a terminal asks what the flags did not say: the namespaces, the kinds
/// (the same preset, filter and tick steps as init), read-only ones, the server, and to confirm.
#[test]
fn the_grant_wizard_asks_for_what_the_flags_left_out() {
    let env = env();
    env.seed(vec![serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "alice-admin", "namespace": "demo"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
    })]);
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "stty cols 140 rows 40 && exec '{}' argocd grant -n team-a",
            env!("CARGO_BIN_EXE_kubectl-cicd")
        ))
        .current_dir(env.dir.path())
        .env("KUBECONFIG", env.kubeconfig("alice"))
        .env("HOME", env.dir.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut p = spawn_with_options(
        cmd,
        Options::new()
            .timeout_ms(Some(TIMEOUT_MS))
            .strip_ansi_escape_codes(true),
    )
    .expect("the wizard starts in a pseudo-terminal");
    let mut seen = String::new();
    let mut expect = |p: &mut rexpect::session::PtySession, text: &str| {
        let before = p
            .exp_string(text)
            .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}\nso far:\n{seen}"));
        seen.push_str(&before);
        seen.push_str(text);
    };
    expect(&mut p, "Namespaces Argo CD may deploy into");
    p.send_line("demo").unwrap();
    expect(&mut p, "Start from a preset");
    press(&mut p, "\r"); // web-app, the default
    expect(&mut p, "Filter the kinds by a word");
    p.send_line("cronjob").unwrap();
    expect(&mut p, "cronjobs.batch (CronJob)");
    press(&mut p, " ");
    press(&mut p, "\r");
    expect(&mut p, "Look for more kinds?");
    press(&mut p, "n");
    expect(&mut p, "Which of these may Argo CD only read");
    press(&mut p, "\r");
    expect(&mut p, "Bind argocd-server too");
    press(&mut p, "y");
    expect(&mut p, "Create these grants?");
    press(&mut p, "y");
    expect(
        &mut p,
        "Namespace demo: Role argocd-team-a created, RoleBinding argocd-team-a created",
    );
    let _ = p.exp_eof();

    let binding = env
        .sandbox()
        .object(
            "rbac.authorization.k8s.io",
            "rolebindings",
            "demo",
            "argocd-team-a",
        )
        .expect("binding created");
    let subjects: Vec<&str> = binding["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["argocd-application-controller", "argocd-server"]);
    let role = env
        .sandbox()
        .object(
            "rbac.authorization.k8s.io",
            "roles",
            "demo",
            "argocd-team-a",
        )
        .expect("role created");
    let text = role["rules"].to_string();
    for resource in ["cronjobs", "deployments", "services", "configmaps"] {
        assert!(text.contains(resource), "{resource} in {text}");
    }
}
