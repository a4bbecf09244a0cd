//! Fault recovery: a fault injected at each step of `init`, `rotate` and `delete` (500, 429,
//! a dropped connection, an answer slower than `--request-timeout`, 409). Either the command
//! recovers (its retries say so on stderr), or it exits 1 saying which objects exist and that
//! running it again finishes the job; then it is run again and must converge. A kubeconfig is
//! never written before verification, and never half-written.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{Env, Run, env_with};
use cicd_sandbox::{Config, Fault, FaultAction};

const TIMEOUT: &str = "1s";

fn faults() -> Vec<(&'static str, FaultAction)> {
    vec![
        ("500", FaultAction::Status(500)),
        (
            "429",
            FaultAction::TooManyRequests {
                retry_after_secs: 1,
            },
        ),
        ("dropped connection", FaultAction::DropConnection),
        (
            "slower than the timeout",
            FaultAction::Delay(Duration::from_secs(3)),
        ),
        ("409", FaultAction::Conflict),
    ]
}

/// What the retry layer prints before it tries again.
fn retry_line(action: &FaultAction) -> &'static str {
    match action {
        FaultAction::Status(_) => "API server error (500), retrying in",
        FaultAction::TooManyRequests { .. } => "API server busy (429), retrying in 1s",
        FaultAction::DropConnection => {
            "the connection to the API server closed before it answered, retrying in"
        }
        FaultAction::Delay(_) => "the API server did not answer in time, retrying in",
        FaultAction::Conflict => "API server reported a conflict (409), retrying in",
    }
}

fn fresh() -> Env {
    env_with(Config {
        token_controller_delay: Duration::from_millis(300),
        ..Config::default()
    })
}

/// Runs the plugin as alice; with `inject_after`, the fault is injected only once a request
/// matching that method and path prefix has been logged (to reach a later request on a path
/// an earlier step also uses).
fn run_faulted(env: &Env, args: &[&str], fault: Fault, inject_after: Option<(&str, &str)>) -> Run {
    env.sandbox().clear_request_log();
    match inject_after {
        None => {
            env.sandbox().inject_fault(fault);
            env.plugin_as("alice", args)
        }
        Some((method, prefix)) => std::thread::scope(|s| {
            let handle = s.spawn(|| env.plugin_as("alice", args));
            let started = Instant::now();
            loop {
                let seen = env
                    .sandbox()
                    .request_log()
                    .iter()
                    .any(|e| e.method == method && e.path.starts_with(prefix));
                if seen {
                    env.sandbox().inject_fault(fault);
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "{method} {prefix} never came"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            handle.join().expect("the plugin ran")
        }),
    }
}

/// The error and the state lines of a failed run.
fn said(run: &Run) -> String {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("error") || l.starts_with("Stopped") || l.starts_with("Nothing"))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn no_leftovers(dir: &Path) {
    let junk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".probe-"))
        .collect();
    assert!(junk.is_empty(), "half-written files: {junk:?}");
}

/// The status the faulted request is logged with (0: abandoned or cut).
fn faulted_status(action: &FaultAction) -> u16 {
    match action {
        FaultAction::Status(code) => *code,
        FaultAction::TooManyRequests { .. } => 429,
        FaultAction::Conflict => 409,
        FaultAction::DropConnection | FaultAction::Delay(_) => 0,
    }
}

/// Whether the retry layer gets past `action` on this request: a 409 only on a server-side
/// apply (PATCH); a create (POST of a token Secret) is not idempotent, so only a 429 (refused
/// before any work) is retried there.
fn recovers(action: &FaultAction, method: &str, path: &str) -> bool {
    match action {
        FaultAction::Conflict => method == "PATCH",
        FaultAction::TooManyRequests { .. } => true,
        _ => !(method == "POST" && path == SECRETS),
    }
}

/// The fault reached the request it was meant for (`path` may end in `*`).
fn assert_fault_hit(env: &Env, method: &str, path: &str, action: &FaultAction, step: &str) {
    let log = env.sandbox().request_log();
    let matches = |p: &str| {
        let p = p.split('?').next().unwrap_or(p);
        match path.strip_suffix('*') {
            Some(prefix) => p.starts_with(prefix),
            None => p == path,
        }
    };
    assert!(
        log.iter()
            .any(|e| e.method == method && matches(&e.path) && e.status == faulted_status(action)),
        "{step}: the fault did not hit {method} {path}: {log:?}"
    );
}

struct Step {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    /// Inject once this request (method, path prefix) was seen.
    after: Option<(&'static str, &'static str)>,
    /// What a failure says exists; `None` where every fault is recovered from, so that there
    /// is no failure to check (a step whose fault stops init must name its state).
    state: Option<&'static str>,
}

const SA: &str = "/api/v1/namespaces/team-a/serviceaccounts/ci-cd";
const ROLE: &str = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles/ci-cd";
const BINDING: &str = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/ci-cd";
/// Token Secrets are named `ci-cd-token-<random suffix>`.
const TOKEN_SECRET: &str = "/api/v1/namespaces/team-a/secrets/ci-cd-token-*";
/// Token Secrets are created (POST), never applied: an existing one is never adopted.
const SECRETS: &str = "/api/v1/namespaces/team-a/secrets";
const SSR: &str = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
const SSRR: &str = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";

const NOTHING: &str = "Nothing was changed in the cluster. No kubeconfig was written. This looks like a passing problem of the API server or the network: run the same command again.";
const ALL_FOUR: &str = "Stopped part-way. In namespace team-a, these exist now: ServiceAccount ci-cd, Role ci-cd, RoleBinding ci-cd, Secret ci-cd-token-";
/// The token Secret's create failed: its random name follows, said to be unsure.
const UNSURE_SECRET: &str = "Stopped part-way. In namespace team-a, these exist now: ServiceAccount ci-cd, Role ci-cd, RoleBinding ci-cd; Secret ci-cd-token-";
const THREE: &str = "Stopped part-way. In namespace team-a, these exist now: ServiceAccount ci-cd, Role ci-cd, RoleBinding ci-cd. No kubeconfig was written.";

fn init_steps(request_token: bool) -> Vec<Step> {
    let mut steps = vec![
        Step {
            name: "SelfSubjectReview",
            method: "POST",
            path: SSR,
            after: None,
            state: Some(NOTHING),
        },
        Step {
            name: "SelfSubjectRulesReview",
            method: "POST",
            path: SSRR,
            after: None,
            state: Some(NOTHING),
        },
        Step {
            name: "discovery /api",
            method: "GET",
            path: "/api",
            after: None,
            state: Some(NOTHING),
        },
        Step {
            name: "discovery /apis",
            method: "GET",
            path: "/apis",
            after: None,
            state: Some(NOTHING),
        },
        Step {
            name: "read existing ServiceAccount",
            method: "GET",
            path: SA,
            after: None,
            state: Some(NOTHING),
        },
        Step {
            name: "apply ServiceAccount",
            method: "PATCH",
            path: SA,
            after: None,
            state: None,
        },
        Step {
            name: "apply Role",
            method: "PATCH",
            path: ROLE,
            after: None,
            state: None,
        },
        Step {
            name: "apply RoleBinding",
            method: "PATCH",
            path: BINDING,
            after: None,
            state: None,
        },
    ];
    if request_token {
        steps.push(Step {
            name: "TokenRequest",
            method: "POST",
            path: "/api/v1/namespaces/team-a/serviceaccounts/ci-cd/token",
            after: None,
            state: Some(THREE),
        });
        steps.push(Step {
            name: "verification SelfSubjectRulesReview (request token)",
            method: "POST",
            path: SSRR,
            after: Some(("POST", SSRR)),
            state: Some(THREE),
        });
    } else {
        steps.push(Step {
            name: "create token Secret",
            method: "POST",
            path: SECRETS,
            after: None,
            state: Some(UNSURE_SECRET),
        });
        steps.push(Step {
            name: "token Secret poll",
            method: "GET",
            path: TOKEN_SECRET,
            after: None,
            state: Some(ALL_FOUR),
        });
        steps.push(Step {
            name: "verification SelfSubjectRulesReview",
            method: "POST",
            path: SSRR,
            after: Some(("POST", SSRR)),
            state: Some(ALL_FOUR),
        });
    }
    steps
}

/// Every fault at one init step; prints the table row of each case.
fn init_step(index: usize, request_token: bool) {
    let step = &init_steps(request_token)[index];
    let mut args = vec![
        "init",
        "--preset",
        "web-app",
        "--yes",
        "--force",
        "--request-timeout",
        TIMEOUT,
    ];
    if request_token {
        args.extend(["--token", "request", "--token-duration", "1h"]);
    }
    for (fault_name, action) in faults() {
        let env = fresh();
        let fault = Fault::new(Some(step.method), step.path, 1, action.clone());
        let run = run_faulted(&env, &args, fault, step.after);
        let kubeconfig = env.path("kubeconfig_ci_cd.yaml");
        let recovers = recovers(&action, step.method, step.path);
        assert_fault_hit(&env, step.method, step.path, &action, step.name);
        if recovers {
            assert!(run.ok(), "init, {} / {fault_name}: {run:?}", step.name);
            assert!(
                run.stderr.contains(retry_line(&action)),
                "init, {} / {fault_name}: {run:?}",
                step.name
            );
            assert!(
                run.stderr.contains("Verified with the new token"),
                "{run:?}"
            );
            println!(
                "| init | {} | {fault_name} | recovers: `{}` |",
                step.name,
                run.stderr
                    .lines()
                    .find(|l| l.contains("retrying in"))
                    .unwrap_or("")
                    .trim()
            );
        } else {
            assert_eq!(
                run.code,
                Some(1),
                "init, {} / {fault_name}: {run:?}",
                step.name
            );
            let Some(state) = step.state else {
                panic!(
                    "init, {} / {fault_name}: stopped init, but the step names no state to check: {run:?}",
                    step.name
                );
            };
            assert!(
                run.stderr.contains(state),
                "init, {} / {fault_name}: expected {state:?} in {run:?}",
                step.name
            );
            assert!(!kubeconfig.exists(), "no kubeconfig before verification");
            no_leftovers(env.dir.path());
            println!(
                "| init | {} | {fault_name} | exit 1: `{}` |",
                step.name,
                said(&run)
            );
            // The re-run finishes the job.
            let again = env.plugin_as("alice", &args);
            assert!(
                again.ok(),
                "re-run after {} / {fault_name}: {again:?}",
                step.name
            );
        }
        assert!(kubeconfig.exists());
        no_leftovers(env.dir.path());
        let secrets = env
            .sandbox()
            .objects("", "secrets")
            .into_iter()
            .filter(|s| s["metadata"]["labels"]["kubectl-cicd.io/identity"] == "ci-cd")
            .count();
        assert_eq!(
            secrets,
            usize::from(!request_token),
            "one token Secret at most"
        );
    }
}

#[test]
fn init_fault_at_self_subject_review() {
    init_step(0, false);
}

#[test]
fn init_fault_at_rules_review() {
    init_step(1, false);
}

#[test]
fn init_fault_at_discovery() {
    init_step(2, false);
    init_step(3, false);
}

#[test]
fn init_fault_at_reading_existing_objects() {
    init_step(4, false);
}

#[test]
fn init_fault_at_apply_service_account() {
    init_step(5, false);
}

#[test]
fn init_fault_at_apply_role() {
    init_step(6, false);
}

#[test]
fn init_fault_at_apply_role_binding() {
    init_step(7, false);
}

#[test]
fn init_fault_at_apply_token_secret() {
    init_step(8, false);
}

#[test]
fn init_fault_at_token_secret_poll() {
    init_step(9, false);
}

#[test]
fn init_fault_at_verification() {
    init_step(10, false);
}

#[test]
fn init_fault_at_token_request() {
    init_step(8, true);
}

#[test]
fn init_fault_at_verification_of_a_request_token() {
    init_step(9, true);
}

fn identity_secrets(env: &Env) -> Vec<String> {
    env.sandbox()
        .objects("", "secrets")
        .into_iter()
        .filter(|s| s["metadata"]["labels"]["kubectl-cicd.io/identity"] == "ci-cd")
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// `rotate` faulted at each step, then run again: one new token Secret, recorded on the
/// ServiceAccount, in the kubeconfig, and the first token revoked.
#[test]
fn rotate_recovers_or_says_how_to_finish() {
    let steps: &[(&str, &str, &str)] = &[
        (
            "list token Secrets",
            "GET",
            "/api/v1/namespaces/team-a/secrets",
        ),
        ("create new token Secret", "POST", SECRETS),
        ("new token Secret poll", "GET", TOKEN_SECRET),
        ("verification SelfSubjectRulesReview", "POST", SSRR),
        ("record on the ServiceAccount", "PATCH", SA),
        ("delete old token Secret", "DELETE", TOKEN_SECRET),
    ];
    let args = ["rotate", "ci-cd", "--force", "--request-timeout", TIMEOUT];
    for (name, method, path) in steps {
        for (fault_name, action) in faults() {
            let env = fresh();
            let init = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
            assert!(init.ok(), "{init:?}");
            let first = std::fs::read_to_string(env.path("kubeconfig_ci_cd.yaml")).unwrap();
            let fault = Fault::new(Some(method), path, 1, action.clone());
            let run = run_faulted(&env, &args, fault, None);
            assert_fault_hit(&env, method, path, &action, name);
            let recovers = recovers(&action, method, path);
            if recovers {
                assert!(run.ok(), "rotate, {name} / {fault_name}: {run:?}");
                assert!(run.stderr.contains(retry_line(&action)), "{run:?}");
                println!("| rotate | {name} | {fault_name} | recovers |");
            } else {
                assert_eq!(run.code, Some(1), "rotate, {name} / {fault_name}: {run:?}");
                assert!(
                    run.stderr.contains("run the same command again"),
                    "rotate, {name} / {fault_name}: {run:?}"
                );
                let written = std::fs::read_to_string(env.path("kubeconfig_ci_cd.yaml")).unwrap();
                if *method == "DELETE" {
                    assert!(run.stderr.contains("The new kubeconfig"), "{run:?}");
                    assert!(run.stderr.contains("Secret ci-cd-token"), "{run:?}");
                } else {
                    assert_eq!(written, first, "kubeconfig unchanged before verification");
                    assert!(
                        run.stderr.contains("Your kubeconfig was not changed"),
                        "{run:?}"
                    );
                }
                no_leftovers(env.dir.path());
                println!(
                    "| rotate | {name} | {fault_name} | exit 1: `{}` |",
                    said(&run)
                );
                let again = env.plugin_as("alice", &args);
                assert!(again.ok(), "re-run after {name} / {fault_name}: {again:?}");
            }
            let secrets = identity_secrets(&env);
            assert_eq!(secrets.len(), 1, "{name} / {fault_name}: {secrets:?}");
            assert!(secrets[0].starts_with("ci-cd-token-"), "{secrets:?}");
            let sa = env
                .sandbox()
                .object("", "serviceaccounts", "team-a", "ci-cd")
                .unwrap();
            assert_eq!(
                sa["metadata"]["annotations"]["kubectl-cicd.io/token-secret"],
                secrets[0].as_str()
            );
            let now = std::fs::read_to_string(env.path("kubeconfig_ci_cd.yaml")).unwrap();
            assert_ne!(now, first, "{name} / {fault_name}: a new kubeconfig");
        }
    }
}

/// `delete` faulted at each step, then run again: nothing labelled remains.
#[test]
fn delete_recovers_or_says_how_to_finish() {
    let steps: &[(&str, &str, &str)] = &[
        (
            "list ServiceAccounts",
            "GET",
            "/api/v1/namespaces/team-a/serviceaccounts",
        ),
        (
            "list token Secrets",
            "GET",
            "/api/v1/namespaces/team-a/secrets",
        ),
        ("delete RoleBinding", "DELETE", BINDING),
        ("delete Role", "DELETE", ROLE),
        ("delete token Secret", "DELETE", TOKEN_SECRET),
        ("delete ServiceAccount", "DELETE", SA),
    ];
    let args = ["delete", "ci-cd", "--yes", "--request-timeout", TIMEOUT];
    for (name, method, path) in steps {
        for (fault_name, action) in faults() {
            let env = fresh();
            let init = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
            assert!(init.ok(), "{init:?}");
            let fault = Fault::new(Some(method), path, 1, action.clone());
            let run = run_faulted(&env, &args, fault, None);
            assert_fault_hit(&env, method, path, &action, name);
            let recovers = !matches!(action, FaultAction::Conflict);
            if recovers {
                assert!(run.ok(), "delete, {name} / {fault_name}: {run:?}");
                assert!(run.stderr.contains(retry_line(&action)), "{run:?}");
                println!("| delete | {name} | {fault_name} | recovers |");
            } else {
                assert_eq!(run.code, Some(1), "delete, {name} / {fault_name}: {run:?}");
                assert!(
                    run.stderr.contains("run the same command again"),
                    "delete, {name} / {fault_name}: {run:?}"
                );
                println!(
                    "| delete | {name} | {fault_name} | exit 1: `{}` |",
                    said(&run)
                );
                let again = env.plugin_as("alice", &args);
                assert!(again.ok(), "re-run after {name} / {fault_name}: {again:?}");
            }
            for (group, resource) in [
                ("", "serviceaccounts"),
                ("rbac.authorization.k8s.io", "roles"),
                ("rbac.authorization.k8s.io", "rolebindings"),
            ] {
                assert!(
                    env.sandbox()
                        .object(group, resource, "team-a", "ci-cd")
                        .is_none(),
                    "{name} / {fault_name}: {resource} left"
                );
            }
            assert!(identity_secrets(&env).is_empty());
        }
    }
}
