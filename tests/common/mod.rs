//! Shared by the plugin's integration tests: a sandbox with kubeconfigs, the plugin binary,
//! the real kubectl, and the leak check every captured output goes through.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cicd_sandbox::{Config, Sandbox};

pub struct Env {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
}

pub fn env() -> Env {
    env_with(Config::default())
}

pub fn env_with(config: Config) -> Env {
    let sandbox = Sandbox::start(config).expect("sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    sandbox.write_kubeconfigs(dir.path()).expect("kubeconfigs");
    Env { sandbox, dir }
}

/// What a run printed, checked for leaked tokens on the way in.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Env {
    pub fn kubeconfig(&self, user: &str) -> PathBuf {
        self.dir.path().join(format!("{user}.kubeconfig"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Fails the test if any token the sandbox minted appears in `text`.
    pub fn assert_no_token_in(&self, text: &str) {
        for token in self.sandbox.minted_tokens() {
            assert!(
                !text.contains(&token),
                "a minted ServiceAccount token leaked into captured output"
            );
        }
    }

    fn finish(&self, out: Output) -> Run {
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.assert_no_token_in(&run.stdout);
        self.assert_no_token_in(&run.stderr);
        run
    }

    /// `kubectl-cicd ARGS` in the test folder with KUBECONFIG pointing at `kubeconfig`.
    pub fn plugin(&self, kubeconfig: &Path, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-cicd"))
            .args(args)
            .current_dir(self.dir.path())
            .env("KUBECONFIG", kubeconfig)
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("kubectl-cicd runs");
        self.finish(out)
    }

    pub fn plugin_as(&self, user: &str, args: &[&str]) -> Run {
        self.plugin(&self.kubeconfig(user), args)
    }

    /// The real kubectl, with a discovery cache of its own per kubeconfig.
    pub fn kubectl(&self, kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        use std::io::Write;
        let cache = self.dir.path().join(format!(
            "kubectl-cache-{}",
            kubeconfig.file_name().unwrap().to_string_lossy()
        ));
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
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
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs (set CICD_SKIP_KUBECTL=1 to skip kubectl tests)");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().expect("kubectl finishes");
        self.finish(out)
    }
}

/// kubectl tests run unless CICD_SKIP_KUBECTL=1; a missing kubectl fails them.
pub fn kubectl_wanted() -> bool {
    if std::env::var("CICD_SKIP_KUBECTL").is_ok_and(|v| v == "1") {
        eprintln!("CICD_SKIP_KUBECTL=1: skipping the kubectl part of this test");
        return false;
    }
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "kubectl is not installed: these tests need the real kubectl (set CICD_SKIP_KUBECTL=1 to skip them)"
    );
    true
}
