//! The bad-input matrix, end to end through the binary: each case must end with a clear
//! message and its exit code (2 bad input, 1 refused or failed), and change nothing. Run with
//! `--nocapture` to see the table of what the user reads.

use std::path::PathBuf;

use crate::common::{Env, Run};
use base64::Engine;
use cicd_sandbox::{Config, Fault, FaultAction, Sandbox};

/// Which kubeconfig a case runs with.
enum Kubeconfig {
    User(&'static str),
    /// Made for the case from the sandbox (and its folder).
    Made(fn(&Env) -> PathBuf),
}

struct Case {
    name: &'static str,
    kubeconfig: Kubeconfig,
    args: &'static [&'static str],
    /// Extra preparation (faults, files).
    prepare: Option<fn(&Env)>,
    code: i32,
    says: &'static [&'static str],
    /// Refused before any request reached the server.
    before_any_request: bool,
    /// Prepared with the sandbox's fault injection: skipped on the real control plane.
    needs_sandbox: bool,
}

fn alice_text(env: &Env) -> String {
    std::fs::read_to_string(env.kubeconfig("alice")).unwrap()
}

fn made(env: &Env, name: &str, text: &str) -> PathBuf {
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn closed_port_kubeconfig(env: &Env) -> PathBuf {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let text = alice_text(env).replace(env.url(), &format!("https://127.0.0.1:{port}"));
    made(env, "closed.kubeconfig", &text)
}

fn other_ca_kubeconfig(env: &Env) -> PathBuf {
    let other = Sandbox::start(Config::default()).expect("a second sandbox");
    let b64 = base64::engine::general_purpose::STANDARD;
    let text = alice_text(env).replace(&b64.encode(env.ca_pem()), &b64.encode(other.ca_pem()));
    made(env, "other-ca.kubeconfig", &text)
}

fn revoked_token_kubeconfig(env: &Env) -> PathBuf {
    let token = env.user_token("alice");
    let text = alice_text(env).replace(&token, "sandbox-expired-token");
    made(env, "expired.kubeconfig", &text)
}

fn no_current_context_kubeconfig(env: &Env) -> PathBuf {
    let context = format!("current-context: alice@{}\n", env.cluster_name());
    let text = alice_text(env).replace(&context, "");
    made(env, "no-context.kubeconfig", &text)
}

fn missing_kubeconfig(env: &Env) -> PathBuf {
    env.path("does-not-exist.kubeconfig")
}

fn not_yaml_kubeconfig(env: &Env) -> PathBuf {
    made(
        env,
        "broken.kubeconfig",
        "apiVersion: v1\nclusters: [ {\n  - :: not yaml\n",
    )
}

fn forbid_self_review(env: &Env) {
    env.sandbox().inject_fault(Fault::new(
        Some("POST"),
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        50,
        FaultAction::Status(403),
    ));
}

fn existing_output(env: &Env) {
    std::fs::write(env.path("kubeconfig_ci_cd.yaml"), "keep me").unwrap();
}

fn locked_folder(env: &Env) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = env.path("locked");
        std::fs::create_dir_all(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
    }
}

/// A folder this process may not create files in: a 0500 folder, or (root ignores mode bits)
/// sysfs.
fn unwritable_output(env: &Env) -> String {
    let locked = env.path("locked");
    let probe = locked.join("probe");
    if std::fs::File::create(&probe).is_ok() {
        let _ = std::fs::remove_file(&probe);
        "/sys/kernel/kubeconfig_ci_cd.yaml".to_string()
    } else {
        locked.join("kubeconfig_ci_cd.yaml").display().to_string()
    }
}

const INIT: &[&str] = &["init", "--preset", "web-app", "--yes"];

fn cases() -> Vec<Case> {
    use Kubeconfig::*;
    vec![
        Case {
            name: "invalid ServiceAccount name",
            kubeconfig: User("alice"),
            args: &["init", "--preset", "web-app", "--yes", "--name", "CI_CD"],
            prepare: None,
            code: 2,
            says: &[
                "invalid value 'CI_CD' for '--name <NAME>': a ServiceAccount name must be lower-case letters",
            ],
            before_any_request: false,
            needs_sandbox: false,
        },
        Case {
            name: "Role name with /",
            kubeconfig: User("alice"),
            args: &["init", "--preset", "web-app", "--yes", "--name", "ci/cd"],
            prepare: None,
            code: 2,
            says: &[
                "invalid value 'ci/cd' for '--name <NAME>'",
                "'/' and '%' are not allowed in Role and RoleBinding names",
            ],
            before_any_request: false,
            needs_sandbox: false,
        },
        Case {
            name: "name with / for rotate and delete",
            kubeconfig: User("alice"),
            args: &["delete", "ci/cd", "--yes"],
            prepare: None,
            code: 2,
            says: &["invalid value 'ci/cd' for '<NAME>'"],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "unknown kind",
            kubeconfig: User("alice"),
            args: &["init", "--kinds", "deploymnets", "--yes"],
            prepare: None,
            code: 2,
            says: &[
                "the server doesn't have a resource type \"deploymnets\": did you mean deployments.apps?",
            ],
            before_any_request: false,
            needs_sandbox: false,
        },
        Case {
            name: "kind not served by the cluster",
            kubeconfig: User("alice"),
            args: &[
                "init",
                "--kinds",
                "kustomizations.kustomize.toolkit.fluxcd.io",
                "--yes",
            ],
            prepare: None,
            code: 2,
            says: &[
                "the server doesn't have a resource type \"kustomizations.kustomize.toolkit.fluxcd.io\"",
                "kubectl api-resources",
            ],
            before_any_request: false,
            needs_sandbox: false,
        },
        Case {
            name: "cluster-scoped kind",
            kubeconfig: User("alice"),
            args: &["init", "--kinds", "nodes", "--yes"],
            prepare: None,
            code: 2,
            says: &["is nodes (Node), which is cluster-scoped"],
            before_any_request: false,
            needs_sandbox: false,
        },
        Case {
            name: "namespace that does not exist (administrator)",
            kubeconfig: User("admin"),
            args: &["init", "--preset", "web-app", "--yes", "-n", "nope"],
            prepare: None,
            code: 2,
            says: &[
                "namespace nope does not exist: check the name (kubectl get namespaces), or create it first",
            ],
            before_any_request: false,
            needs_sandbox: false,
        },
        Case {
            name: "namespace that does not exist (user who may not read it)",
            kubeconfig: User("alice"),
            args: &["init", "--preset", "web-app", "--yes", "-n", "nope"],
            prepare: None,
            code: 2,
            says: &[
                "namespace nope does not exist, or you hold no permissions at all in it: check the name",
                "Nothing was created",
            ],
            before_any_request: false,
            needs_sandbox: false,
        },
        Case {
            name: "no current-context",
            kubeconfig: Made(no_current_context_kubeconfig),
            args: INIT,
            prepare: None,
            code: 2,
            says: &[
                "sets no current-context and no --context was given",
                "(contexts: alice@",
            ],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "kubeconfig missing (KUBECONFIG)",
            kubeconfig: Made(missing_kubeconfig),
            args: INIT,
            prepare: None,
            code: 2,
            says: &[
                "none of the files KUBECONFIG lists exists",
                "does-not-exist.kubeconfig",
            ],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "kubeconfig missing (--kubeconfig)",
            kubeconfig: User("alice"),
            args: &[
                "init",
                "--preset",
                "web-app",
                "--yes",
                "--kubeconfig",
                "/no/such/kubeconfig",
            ],
            prepare: None,
            code: 2,
            says: &[
                "/no/such/kubeconfig does not exist or is not a file: check the --kubeconfig path",
            ],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "kubeconfig not YAML",
            kubeconfig: Made(not_yaml_kubeconfig),
            args: INIT,
            prepare: None,
            code: 2,
            says: &["broken.kubeconfig is not a valid kubeconfig (YAML)"],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "server unreachable",
            kubeconfig: Made(closed_port_kubeconfig),
            args: INIT,
            prepare: None,
            code: 1,
            says: &[
                "cannot reach the API server at https://127.0.0.1:",
                "connection refused",
                "Check the server address, your network or VPN",
            ],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "TLS CA mismatch",
            kubeconfig: Made(other_ca_kubeconfig),
            args: INIT,
            prepare: None,
            code: 1,
            says: &[
                "cannot trust the API server at https://127.0.0.1:",
                "The certificate authority in your kubeconfig does not match the server's certificate",
            ],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "401 (expired or revoked credentials)",
            kubeconfig: Made(revoked_token_kubeconfig),
            args: INIT,
            prepare: None,
            code: 1,
            says: &[
                "rejected your credentials (401 Unauthorized). They may have expired or been revoked: log in again",
            ],
            before_any_request: false,
            needs_sandbox: false,
        },
        Case {
            name: "403 on the self-review",
            kubeconfig: User("alice"),
            args: INIT,
            prepare: Some(forbid_self_review),
            code: 1,
            says: &[
                "the API server refused: forbidden",
                "This happened while asking the API server who you are (SelfSubjectReview)",
            ],
            before_any_request: false,
            needs_sandbox: true,
        },
        Case {
            name: "no terminal and a required flag missing (init)",
            kubeconfig: User("alice"),
            args: &["init"],
            prepare: None,
            code: 2,
            says: &[
                "which kinds the pipeline may change was not given and there is no terminal to ask on: pass --preset web-app|helm|welkin-demo or --kinds LIST",
            ],
            before_any_request: false,
            needs_sandbox: false,
        },
        Case {
            name: "no terminal and a required flag missing (delete)",
            kubeconfig: User("alice"),
            args: &["delete", "ci-cd"],
            prepare: None,
            code: 2,
            says: &[
                "the confirmation to delete identity ci-cd was not given and there is no terminal to ask on: pass --yes",
            ],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "output folder not writable",
            kubeconfig: User("alice"),
            args: &[], // filled in below: --output <unwritable>
            prepare: Some(locked_folder),
            code: 1,
            says: &[
                "cannot write ",
                "permission denied in ",
                "choose a folder you can write to with --output",
            ],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "output folder missing",
            kubeconfig: User("alice"),
            args: &[
                "init",
                "--preset",
                "web-app",
                "--yes",
                "--output",
                "no/such/folder/ci.yaml",
            ],
            prepare: None,
            code: 1,
            says: &[
                "cannot write no/such/folder/ci.yaml: the folder no/such/folder does not exist",
            ],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "output exists without --force (init)",
            kubeconfig: User("alice"),
            args: INIT,
            prepare: Some(existing_output),
            code: 1,
            says: &[
                "kubeconfig_ci_cd.yaml already exists: pass --force to overwrite it, or --output to write elsewhere",
            ],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "output exists without --force (rotate)",
            kubeconfig: User("alice"),
            args: &["rotate", "ci-cd"],
            prepare: Some(existing_output),
            code: 1,
            says: &["kubeconfig_ci_cd.yaml already exists: pass --force"],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "--token-duration under 10 minutes (init)",
            kubeconfig: User("alice"),
            args: &[
                "init",
                "--preset",
                "web-app",
                "--token",
                "request",
                "--token-duration",
                "5m",
                "--yes",
            ],
            prepare: None,
            code: 2,
            says: &[
                "--token-duration 300s is too short: the API server refuses tokens valid for less than 10 minutes",
            ],
            before_any_request: false,
            needs_sandbox: false,
        },
        Case {
            name: "--token-duration under 10 minutes (rotate)",
            kubeconfig: User("alice"),
            args: &[
                "rotate",
                "ci-cd",
                "--token",
                "request",
                "--token-duration",
                "9m",
            ],
            prepare: None,
            code: 2,
            says: &["--token-duration 540s is too short"],
            before_any_request: true,
            needs_sandbox: false,
        },
        Case {
            name: "--token-duration that is not a duration",
            kubeconfig: User("alice"),
            args: &["init", "--token", "request", "--token-duration", "10"],
            prepare: None,
            code: 2,
            says: &["'10' is not a duration: use a number with a unit, e.g. 720h"],
            before_any_request: true,
            needs_sandbox: false,
        },
    ]
}

fn run_case(env: &Env, case: &Case) -> Run {
    if !env.is_real() {
        env.sandbox().clear_faults();
    }
    env.clear_request_log();
    let _ = std::fs::remove_file(env.path("kubeconfig_ci_cd.yaml"));
    if let Some(prepare) = case.prepare {
        prepare(env);
    }
    let kubeconfig = match &case.kubeconfig {
        Kubeconfig::User(user) => env.kubeconfig(user),
        Kubeconfig::Made(make) => make(env),
    };
    let unwritable;
    let args: Vec<&str> = if case.name == "output folder not writable" {
        unwritable = unwritable_output(env);
        vec![
            "init",
            "--preset",
            "web-app",
            "--yes",
            "--output",
            &unwritable,
        ]
    } else {
        case.args.to_vec()
    };
    env.plugin(&kubeconfig, &args)
}

on_both_servers! {
fn every_bad_input_gets_a_clear_message_and_its_exit_code(env) {
    let mut table = vec![
        "| case | exit | the user reads (first lines of stderr) |".to_string(),
        "|---|---|---|".to_string(),
    ];
    let mut failures = Vec::new();
    for case in cases() {
        if case.needs_sandbox && env.is_real() {
            continue;
        }
        let run = run_case(&env, &case);
        let log = env.request_log();
        let mut problems = Vec::new();
        if run.code != Some(case.code) {
            problems.push(format!("exit {:?}, expected {}", run.code, case.code));
        }
        for text in case.says {
            if !run.stderr.contains(text) {
                problems.push(format!("missing {text:?}"));
            }
        }
        if !run.stdout.is_empty() {
            problems.push("stdout is not empty".into());
        }
        let changed = env.changed_objects();
        if !changed.is_empty() {
            problems.push(format!("the cluster changed: {changed:?}"));
        }
        if case.before_any_request && !log.is_empty() {
            problems.push(format!("requests were sent: {log:?}"));
        }
        if case.name.starts_with("output exists")
            && std::fs::read_to_string(env.path("kubeconfig_ci_cd.yaml")).unwrap_or_default()
                != "keep me"
        {
            problems.push("the existing output was touched".into());
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n{run:?}", case.name, problems.join("; ")));
        }
        let shown: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter(|l| !l.contains("retrying in"))
            .skip_while(|l| !l.starts_with("error"))
            .take(3)
            .collect();
        table.push(format!(
            "| {} | {} | `{}` |",
            case.name,
            run.code.map(|c| c.to_string()).unwrap_or_default(),
            shown.join(" ").replace('|', "\\|")
        ));
    }
    println!("{}", table.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        !env.path("kubeconfig_ci_cd.yaml").exists()
            || std::fs::read_to_string(env.path("kubeconfig_ci_cd.yaml")).unwrap() == "keep me"
    );
}
}
