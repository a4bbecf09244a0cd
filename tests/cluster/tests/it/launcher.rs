//! The launcher end to end: a real v1.37 control plane whose controllers run, and no process
//! left behind however the launcher ends.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn kubectl(kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .expect("kubectl runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `cicd-cluster serve --dir DIR`, returned once it says it serves.
fn serve(dir: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cicd-cluster"))
        .args(["serve", "--dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cicd-cluster runs");
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let first = lines.next().expect("a first line").unwrap();
    assert!(
        first.starts_with("cicd-cluster is serving at https://127.0.0.1:"),
        "{first}"
    );
    let memory = lines.next().expect("a second line").unwrap();
    for part in ["etcd", "kube-apiserver", "kube-controller-manager"] {
        assert!(
            memory.contains(&format!("{part} ")) && memory.contains(" MB"),
            "{memory}"
        );
    }
    // Drain the rest so the launcher never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

/// The control-plane processes whose command line names `dir`.
fn parts_of(dir: &Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains("cicd-control-plane") && cmdline.contains(&needle) {
            pids.push(pid);
        }
    }
    pids
}

fn wait_until_gone(dir: &Path, within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let left = parts_of(dir);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_real_v1_37_server_whose_controllers_run_and_a_killed_launcher_leaves_nothing() {
    if !crate::real_wanted() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut launcher = serve(dir.path());
    let admin = dir.path().join("admin.kubeconfig");
    let alice = dir.path().join("alice.kubeconfig");
    assert_eq!(
        parts_of(dir.path()).len(),
        3,
        "etcd, kube-apiserver, kube-controller-manager"
    );

    let (ok, version, err) = kubectl(&admin, &["version", "-o", "json"]);
    assert!(ok, "{err}");
    let version: serde_json::Value = serde_json::from_str(&version).unwrap();
    assert_eq!(
        version["serverVersion"]["gitVersion"], "v1.37.2",
        "{version:#}"
    );
    assert_eq!(kubectl(&admin, &["get", "--raw", "/readyz"]).1, "ok");

    // The ClusterRole aggregation ran: alice, bound to `admin` in team-a, holds its rules.
    let (ok, rules, err) = kubectl(&alice, &["auth", "can-i", "--list"]);
    assert!(ok, "{err}");
    for resource in [
        "deployments.apps",
        "rolebindings.rbac.authorization.k8s.io",
        "secrets",
    ] {
        assert!(
            rules.lines().any(|l| l.starts_with(resource)),
            "{resource}:\n{rules}"
        );
    }
    let (_, no, _) = kubectl(&alice, &["auth", "can-i", "list", "nodes"]);
    assert_eq!(no.trim(), "no");

    // The real token controller fills a legacy token Secret with a JWT for the ServiceAccount.
    let (ok, _, err) = kubectl(
        &admin,
        &["-n", "team-a", "create", "serviceaccount", "probe"],
    );
    assert!(ok, "{err}");
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: probe-token\n  namespace: team-a\n  annotations: {kubernetes.io/service-account.name: probe}\ntype: kubernetes.io/service-account-token\n";
    std::fs::write(dir.path().join("secret.yaml"), secret).unwrap();
    let secret_file = dir.path().join("secret.yaml");
    let (ok, _, err) = kubectl(&admin, &["apply", "-f", secret_file.to_str().unwrap()]);
    assert!(ok, "{err}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let token = loop {
        let (_, data, _) = kubectl(
            &admin,
            &[
                "-n",
                "team-a",
                "get",
                "secret",
                "probe-token",
                "-o",
                "jsonpath={.data.token}",
            ],
        );
        if !data.is_empty() {
            break data;
        }
        assert!(
            Instant::now() < deadline,
            "the token controller filled no token"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    use base64::Engine;
    let jwt = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .unwrap(),
    )
    .unwrap();
    let claims = jwt.split('.').nth(1).expect("a JWT");
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
    assert_eq!(
        claims["sub"], "system:serviceaccount:team-a:probe",
        "{claims:#}"
    );
    assert_eq!(claims["iss"], "kubernetes/serviceaccount", "{claims:#}");

    // SIGKILL: the launcher cannot clean up, and the parts still end themselves.
    launcher.kill().unwrap();
    launcher.wait().unwrap();
    let left = wait_until_gone(dir.path(), Duration::from_secs(20));
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

#[test]
fn ctrl_c_stops_the_launcher_and_every_part() {
    if !crate::real_wanted() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut launcher = serve(dir.path());
    assert_eq!(parts_of(dir.path()).len(), 3);
    let status = Command::new("kill")
        .args(["-INT", &launcher.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = launcher.wait().unwrap();
    assert!(code.success(), "{code}");
    let left = wait_until_gone(dir.path(), Duration::from_secs(5));
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

#[test]
fn run_passes_a_users_kubeconfig_and_the_commands_exit_code() {
    if !crate::real_wanted() {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_cicd-cluster"))
        .args([
            "run",
            "--as",
            "bob",
            "--",
            "sh",
            "-c",
            "kubectl auth whoami -o jsonpath='{.status.userInfo.username}'; exit 7",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "bob", "{out:?}");
}
