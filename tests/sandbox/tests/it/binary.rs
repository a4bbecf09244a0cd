//! The `cicd-sandbox` binary: `run` seeds, runs a command against the server and passes its
//! exit code through; `serve` writes private kubeconfigs and says where it listens.
//!
//! The kubectl test fails when kubectl is missing, unless CICD_SKIP_KUBECTL=1 is set.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common;

const BIN: &str = env!("CARGO_BIN_EXE_cicd-sandbox");

const SEED: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: seeded
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: greeting
  namespace: seeded
data:
  hello: world
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata:
    name: robot
    namespace: seeded
";

/// Whether to drive kubectl; panics when it is missing and tests were not told to skip it.
fn kubectl_wanted() -> bool {
    if std::env::var("CICD_SKIP_KUBECTL").is_ok_and(|v| v == "1") {
        eprintln!("CICD_SKIP_KUBECTL=1: checking the kubeconfig instead of running kubectl");
        return false;
    }
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "kubectl is not installed: this test needs the real kubectl (set CICD_SKIP_KUBECTL=1 to skip it)"
    );
    true
}

#[test]
fn run_seeds_the_server_and_runs_the_command_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, SEED).unwrap();
    let script = if kubectl_wanted() {
        "kubectl --cache-dir \"$HOME/cache\" get configmap greeting -n seeded -o 'jsonpath={.data.hello}' \
         && kubectl --cache-dir \"$HOME/cache\" get serviceaccount robot -n seeded -o name"
    } else {
        "test -f \"$KUBECONFIG\" && printf world && echo serviceaccount/robot"
    };
    let out = Command::new(BIN)
        .arg("run")
        .arg("--seed")
        .arg(&seed)
        .args(["--", "sh", "-c", script])
        .env("HOME", dir.path())
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "worldserviceaccount/robot\n");
}

#[test]
fn run_passes_the_commands_exit_code_through() {
    let out = Command::new(BIN)
        .args(["run", "--", "sh", "-c", "exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let out = Command::new(BIN)
        .args(["run", "--as", "bob", "--", "sh", "-c"])
        .arg("test \"$(basename \"$KUBECONFIG\")\" = bob.kubeconfig && grep -q 'token: sandbox-bob-' \"$KUBECONFIG\"")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn run_removes_the_kubeconfigs_it_made_for_the_stopped_sandbox_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.yaml"),
        "apiVersion: v1\nkind: Config\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["run", "--", "sh", "-c"])
        .arg(
            "printf 'apiVersion: v1\\nclusters:\\n- cluster:\\n    server: %s\\n' \"$CICD_SANDBOX_URL\" > kubeconfig_ci_cd.yaml \
             && printf 'apiVersion: v1\\nserver: https://elsewhere:6443\\n' > other.yaml \
             && test -f kubeconfig_ci_cd.yaml",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !dir.path().join("kubeconfig_ci_cd.yaml").exists(),
        "the demo's kubeconfig goes with the sandbox: {stderr}"
    );
    assert!(
        stderr.contains("removed") && stderr.contains("kubeconfig_ci_cd.yaml"),
        "and says so: {stderr}"
    );
    assert!(
        dir.path().join("other.yaml").exists(),
        "another server's: kept"
    );
    assert!(dir.path().join("mine.yaml").exists(), "there before: kept");
}

#[test]
fn run_fails_cleanly_on_a_bad_seed() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, "apiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n").unwrap();
    let out = Command::new(BIN)
        .arg("run")
        .arg("--seed")
        .arg(&seed)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no resource type serves Gizmo in v1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Kills the child when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_writes_private_kubeconfigs_and_prints_its_url() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Child(
        Command::new(BIN)
            .arg("serve")
            .arg("--dir")
            .arg(dir.path())
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("serve prints where it listens");
    let url = first
        .strip_prefix("cicd-sandbox is serving at ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    let port: u16 = url
        .strip_prefix("https://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not a local https URL: {url}"));
    assert_ne!(port, 0);

    for user in ["admin", "alice", "bob"] {
        let path = dir.path().join(format!("{user}.kubeconfig"));
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777
        };
        assert_eq!(mode, 0o600, "{user}.kubeconfig");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&format!("server: {url}\n")), "{text}");
    }
    let alice = std::fs::read_to_string(dir.path().join("alice.kubeconfig")).unwrap();
    let client = common::client_from_kubeconfig(&alice, true).await;
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, "v1.30.0");
    drop(child);
}
