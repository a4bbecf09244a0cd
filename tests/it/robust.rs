//! Hardening, end to end through the binary: outputs that must not be written, signals
//! part-way, cluster text that must not drive a terminal or a report, passwords in URLs,
//! insecure TLS, servers that drip or never stop, inputs that used to panic, and validation
//! that must come before any change. Misbehaving servers are tiny HTTP servers on 127.0.0.1
//! inside the test, each bounded in time.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Env, Run, env};
use cicd_sandbox::{Fault, FaultAction};
use serde_json::json;

const INIT: &[&str] = &["init", "--preset", "web-app", "--yes"];

/// The plugin as `kubectl-cicd ARGS` with KUBECONFIG, started in the background.
fn spawn(env: &Env, kubeconfig: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kubectl-cicd"))
        .args(args)
        .current_dir(env.dir.path())
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", env.dir.path())
        .env("NO_COLOR", "1")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl-cicd runs")
}

/// Waits for `child` at most `limit` (killing it after that) and says how long it ran.
fn wait_bounded(env: &Env, mut child: Child, limit: Duration) -> (Run, Duration) {
    let started = Instant::now();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let status = child.wait().unwrap();
            let run = env.finish(Output {
                status,
                stdout: out_reader.join().unwrap(),
                stderr: err_reader.join().unwrap(),
            });
            panic!("still running after {limit:?}, killed: {run:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = started.elapsed();
    let run = env.finish(Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    });
    (run, took)
}

fn plugin(env: &Env, user: &str, args: &[&str]) -> Run {
    let run = env.plugin_as(user, args);
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    run
}

fn alice_text(env: &Env) -> String {
    std::fs::read_to_string(env.kubeconfig("alice")).unwrap()
}

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Requests that changed something in the sandbox.
fn changes(env: &Env) -> Vec<String> {
    env.sandbox()
        .request_log()
        .into_iter()
        .filter(|e| e.changed)
        .map(|e| format!("{} {}", e.method, e.path))
        .collect()
}

/// Files in the test folder whose name marks a temporary or probe file of the writer.
fn leftovers(env: &Env) -> Vec<String> {
    std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".probe-"))
        .collect()
}

// Finding 5: devices, stdout, `-` and the source kubeconfig are never written. The special
// files are made in the test folder (a FIFO, links to it and to this process's stdout), so
// that even a build with the bug could not replace the machine's /dev/null.
#[cfg(unix)]
#[test]
fn outputs_that_are_not_plain_new_files_are_refused_before_anything_changes() {
    use std::os::unix::fs::FileTypeExt;
    let env = env();
    let fifo = env.path("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink(&fifo, env.path("link-to-pipe")).unwrap();
    std::os::unix::fs::symlink("/proc/self/fd/1", env.path("stdout")).unwrap();
    let alice = env.kubeconfig("alice").display().to_string();
    let before = alice_text(&env);
    for (output, says) in [
        ("pipe", "is not a regular file (a device, pipe or socket)"),
        (
            "link-to-pipe",
            "is not a regular file (a device, pipe or socket)",
        ),
        ("stdout", "is not a regular file (a device, pipe or socket)"),
        ("-", "would print the pipeline's token to stdout"),
        (
            alice.as_str(),
            "is the kubeconfig this command reads your own context from",
        ),
    ] {
        let mut args = INIT.to_vec();
        args.extend(["--output", output, "--force"]);
        let run = plugin(&env, "alice", &args);
        assert_eq!(run.code, Some(2), "{output}: {run:?}");
        assert!(run.stderr.contains(says), "{output}: {run:?}");
        assert!(!run.stderr.contains("pass --force"), "{output}: {run:?}");
    }
    let pipe = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(pipe.file_type().is_fifo(), "the FIFO is still a FIFO");
    for link in ["link-to-pipe", "stdout"] {
        let meta = std::fs::symlink_metadata(env.path(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} is still a link");
    }
    assert_eq!(
        alice_text(&env),
        before,
        "the source kubeconfig is untouched"
    );
    assert!(!env.path("-").exists(), "no file named -");
    assert_eq!(
        changes(&env),
        Vec::<String>::new(),
        "nothing changed in the cluster"
    );
}

// Finding 6: SIGTERM and Ctrl-C part-way give the part-way report and the shell's exit code.
#[test]
fn a_signal_part_way_reports_what_exists_and_leaves_no_temporary_file() {
    // Each signal on a fresh server: a second run would first read the token Secret the first
    // one recorded (held back by the fault below) and reuse it.
    for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
        let env = env();
        // The filled token Secret is read slowly: every object exists by then.
        env.sandbox().inject_fault(Fault::new(
            Some("GET"),
            "/api/v1/namespaces/team-a/secrets/*",
            20,
            FaultAction::Delay(Duration::from_secs(20)),
        ));
        let child = spawn(&env, &env.kubeconfig("alice"), INIT);
        let started = Instant::now();
        while !env
            .sandbox()
            .request_log()
            .iter()
            // The token Secret is created (POST) under a fresh name: every object exists then.
            .any(|e| e.method == "POST" && e.path.starts_with("/api/v1/namespaces/team-a/secrets"))
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{signal}: init applied its objects and token Secret"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        let killed = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let (run, took) = wait_bounded(&env, child, Duration::from_secs(15));
        env.sandbox().clear_faults();
        assert_eq!(run.code, Some(code), "{signal}: {run:?}");
        assert!(
            took < Duration::from_secs(10),
            "{signal}: stopped at once ({took:?})"
        );
        assert!(run.stderr.contains("stopped by"), "{run:?}");
        assert!(
            run.stderr.contains("Stopped part-way. In namespace team-a, these exist now: ServiceAccount ci-cd, Role ci-cd, RoleBinding ci-cd"),
            "{run:?}"
        );
        assert!(run.stderr.contains("No kubeconfig was written."), "{run:?}");
        assert!(
            run.stderr
                .contains("Run the same command again to finish the job"),
            "{run:?}"
        );
        assert!(!env.path("kubeconfig_ci_cd.yaml").exists());
        assert_eq!(leftovers(&env), Vec::<String>::new());
        // A re-run finishes the job.
        let run = plugin(&env, "alice", INIT);
        assert!(run.ok(), "{signal}: {run:?}");
        assert_eq!(leftovers(&env), Vec::<String>::new());
    }
}

// Finding 8: text from the cluster cannot drive the terminal nor the Markdown report.
#[test]
fn cluster_text_is_escaped_in_human_output_and_exact_in_json() {
    let env = env();
    let evil = "\u{1b}[2J\u{1b}[HNo findings.\r</details><a href=\"javascript:alert(1)\">x</a> [click](javascript:alert(1))";
    env.sandbox()
        .seed(vec![json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "evil", "namespace": "team-a"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": evil}],
        })])
        .unwrap();
    let table = plugin(&env, "admin", &["audit", "-n", "team-a"]);
    assert!(matches!(table.code, Some(0 | 1)), "{table:?}");
    for text in [&table.stdout, &table.stderr] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\r'),
            "{table:?}"
        );
    }
    assert!(
        table.stdout.contains("\\u{1b}[2J"),
        "shown, escaped: {}",
        table.stdout
    );

    let md = plugin(&env, "admin", &["audit", "-n", "team-a", "-o", "markdown"]);
    assert!(!md.stdout.contains('\u{1b}'), "{}", md.stdout);
    assert!(!md.stdout.contains("</details>"), "{}", md.stdout);
    assert!(!md.stdout.contains("<a href"), "{}", md.stdout);
    assert!(!md.stdout.contains(" [click]("), "no link: {}", md.stdout);
    assert!(
        md.stdout.contains("\\[click\\](javascript:"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("&lt;/details&gt;"), "{}", md.stdout);

    let js = plugin(&env, "admin", &["audit", "-n", "team-a", "-o", "json"]);
    let report: serde_json::Value = serde_json::from_str(&js.stdout).unwrap();
    assert!(
        js.stdout.contains("\\u001b[2J"),
        "JSON keeps the exact name, escaped by JSON"
    );
    let exact = serde_json::to_string(evil).unwrap();
    assert!(
        serde_json::to_string(&report).unwrap().contains(&exact),
        "a field holds the name exactly"
    );
}

// Finding 9: a password in the server or proxy URL is never printed nor put in a report.
#[test]
fn passwords_in_server_and_proxy_urls_are_never_shown() {
    let env = env();
    let url = env.sandbox().url().to_string();
    let with_password = url.replace("https://", "https://robot:s3cret-pw@");
    let server_kc = write(
        &env,
        "password-server.kubeconfig",
        &alice_text(&env).replace(&url, &with_password),
    );
    let mut outputs = Vec::new();
    for format in ["table", "json", "sarif", "markdown"] {
        // alice cannot read the cluster-wide objects: accepting that gap, the audit passes or
        // finds something, and either way its output is what is checked here.
        let run = env.plugin(&server_kc, &["audit", "-o", format, "--allow-gaps"]);
        assert!(matches!(run.code, Some(0 | 1)), "{format}: {run:?}");
        outputs.push(run);
    }
    let run = env.plugin(&server_kc, INIT);
    assert!(run.ok(), "{run:?}");
    let written = std::fs::read_to_string(env.path("kubeconfig_ci_cd.yaml")).unwrap();
    assert!(
        !written.contains("s3cret-pw") && written.contains(&format!("server: {url}")),
        "{written}"
    );
    outputs.push(run);
    let port = closed_port();
    let proxied = alice_text(&env).replace(
        &format!("    server: {url}\n"),
        &format!("    server: {url}\n    proxy-url: http://robot:s3cret-pw@127.0.0.1:{port}\n"),
    );
    let proxy_kc = write(&env, "password-proxy.kubeconfig", &proxied);
    let run = env.plugin(&proxy_kc, &["list"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    // Finding 15: a dead proxy is named as the proxy, not as the API server refusing.
    assert!(
        run.stderr.contains(&format!(
            "the proxy http://…@127.0.0.1:{port}/ refused the connection"
        )),
        "{run:?}"
    );
    outputs.push(run);
    for run in &outputs {
        assert!(
            !run.stdout.contains("s3cret-pw") && !run.stderr.contains("s3cret-pw"),
            "{run:?}"
        );
    }
    assert!(
        outputs[1].stdout.contains("https://…@127.0.0.1"),
        "{}",
        outputs[1].stdout
    );
}

fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// alice's kubeconfig with `insecure-skip-tls-verify: true`, with or without its CA.
fn insecure_kubeconfig(env: &Env, keep_ca: bool) -> PathBuf {
    let text = alice_text(env);
    let ca_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("certificate-authority-data:"))
        .unwrap()
        .to_string();
    let replaced = if keep_ca {
        text.replace(
            &ca_line,
            &format!("{ca_line}\n    insecure-skip-tls-verify: true"),
        )
    } else {
        text.replace(&ca_line, "    insecure-skip-tls-verify: true")
    };
    write(
        env,
        if keep_ca {
            "insecure-ca.kubeconfig"
        } else {
            "insecure.kubeconfig"
        },
        &replaced,
    )
}

// Finding 10: an insecure CI kubeconfig only when asked; the CA is kept; --server is checked.
#[test]
fn insecure_tls_is_refused_unless_asked_and_the_ca_is_kept() {
    let env = env();
    let insecure = insecure_kubeconfig(&env, false);
    let run = env.plugin(&insecure, INIT);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .contains("skips TLS verification (insecure-skip-tls-verify: true) and has no CA")
            && run.stderr.contains("pass --insecure-skip-tls-verify"),
        "{run:?}"
    );
    assert!(
        env.sandbox().request_log().is_empty(),
        "refused before any request"
    );

    let mut args = INIT.to_vec();
    args.push("--insecure-skip-tls-verify");
    let run = env.plugin(&insecure, &args);
    assert!(run.ok(), "{run:?}");
    assert!(run.stderr.contains("will skip TLS verification"), "{run:?}");
    let written = std::fs::read_to_string(env.path("kubeconfig_ci_cd.yaml")).unwrap();
    assert!(
        written.contains("insecure-skip-tls-verify: true"),
        "{written}"
    );

    let both = insecure_kubeconfig(&env, true);
    let mut args = INIT.to_vec();
    args.push("--force");
    let run = env.plugin(&both, &args);
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stderr
            .contains("verifies the API server with the context's CA instead"),
        "{run:?}"
    );
    let written = std::fs::read_to_string(env.path("kubeconfig_ci_cd.yaml")).unwrap();
    assert!(written.contains("certificate-authority-data:"), "{written}");
    assert!(!written.contains("insecure-skip-tls-verify"), "{written}");

    env.sandbox().clear_request_log();
    for server in [
        "http://api.example.com:6443",
        "api.example.com:6443",
        "not a url",
        "https://",
    ] {
        let mut args = INIT.to_vec();
        args.extend(["--server", server, "--force"]);
        let run = plugin(&env, "alice", &args);
        assert_eq!(run.code, Some(2), "{server}: {run:?}");
        assert!(
            run.stderr.contains("give the API server's https:// URL"),
            "{server}: {run:?}"
        );
    }
    assert!(
        env.sandbox().request_log().is_empty(),
        "refused before any request"
    );
}

/// What a misbehaving server does after reading a request.
#[derive(Clone, Copy)]
enum Misbehaviour {
    /// Headers, then one byte of the body every 500 ms.
    Drip,
    /// Headers, then body bytes as fast as the socket takes them.
    Endless,
}

/// A plain-HTTP server on 127.0.0.1 that misbehaves for at most 60 s per connection.
fn misbehaving_server(how: Misbehaviour) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                if conn.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let started = Instant::now();
                let chunk = vec![b' '; 64 * 1024];
                while started.elapsed() < Duration::from_secs(60) {
                    let sent = match how {
                        Misbehaviour::Drip => {
                            std::thread::sleep(Duration::from_millis(500));
                            conn.write_all(b"1\r\n \r\n")
                        }
                        Misbehaviour::Endless => conn
                            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                            .and_then(|()| conn.write_all(&chunk))
                            .and_then(|()| conn.write_all(b"\r\n")),
                    };
                    if sent.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn kubeconfig_for_port(env: &Env, name: &str, port: u16) -> PathBuf {
    write(
        env,
        name,
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: slow\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             users:\n- name: u\n  user:\n    token: not-a-real-token\ncontexts:\n- name: slow\n  context:\n    cluster: slow\n    user: u\n    namespace: team-a\n\
             current-context: slow\n"
        ),
    )
}

// Finding 11: a server that drips bytes (so no read ever times out) is given up on at the
// overall deadline.
#[test]
fn a_server_that_drips_bytes_is_given_up_on_at_the_deadline() {
    let env = env();
    let port = misbehaving_server(Misbehaviour::Drip);
    let kc = kubeconfig_for_port(&env, "drip.kubeconfig", port);
    let child = spawn(&env, &kc, &["list", "--request-timeout", "3s"]);
    let (run, took) = wait_bounded(&env, child, Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("did not finish answering within 23s"),
        "{run:?}"
    );
    // --request-timeout 3s plus the retries' 20 s.
    assert!(took < Duration::from_secs(28), "gave up after {took:?}");
}

// Finding 11, the default: without --request-timeout the overall deadline still holds.
#[tokio::test]
async fn the_default_deadline_bounds_a_dripping_server_too() {
    use kubectl_cicd::cluster::{Cluster, RetrySettings};
    let port = misbehaving_server(Misbehaviour::Drip);
    let mut config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    config.default_namespace = "team-a".into();
    let settings = RetrySettings {
        deadline: Duration::from_secs(2),
        announce: false,
        ..RetrySettings::default()
    };
    assert_eq!(RetrySettings::default().deadline, Duration::from_secs(60));
    let cluster = Cluster::connect_with(config, settings).unwrap();
    let started = Instant::now();
    let err = cluster
        .get_service_account("team-a", "x")
        .await
        .expect_err("given up");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.to_string()
            .contains("did not finish answering within 2s"),
        "{err}"
    );
}

// Finding 12: an endless body is cut off at the cap, quickly and without exhausting memory.
#[test]
fn an_endless_body_is_cut_off_at_the_cap() {
    let env = env();
    let port = misbehaving_server(Misbehaviour::Endless);
    let kc = kubeconfig_for_port(&env, "endless.kubeconfig", port);
    let child = spawn(&env, &kc, &["list"]);
    let (run, took) = wait_bounded(&env, child, Duration::from_secs(40));
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("is larger than 128 MiB"), "{run:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}

// Finding 13: none of these panics; each is a message and exit 2 (1 for the plugin's failure).
#[test]
fn bad_urls_tokens_and_durations_are_messages_not_panics() {
    let env = env();
    let alice = alice_text(&env);
    let url = env.sandbox().url().to_string();
    let token = env.sandbox().user_token("alice").unwrap();
    let no_scheme = write(
        &env,
        "no-scheme.kubeconfig",
        &alice.replace(&url, url.trim_start_matches("https://")),
    );
    let crlf = write(
        &env,
        "crlf.kubeconfig",
        &alice.replace(&token, &format!("\"{token}\\r\\n\"")),
    );
    let del = write(
        &env,
        "del.kubeconfig",
        &alice.replace(&token, &format!("\"{token}\\x7f\"")),
    );
    let plugin_path = env.path("crlf-plugin.sh");
    std::fs::write(
        &plugin_path,
        format!(
            "#!/bin/sh\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\\\\r\\\\n\"}}}}'\n"
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&plugin_path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let exec = write(
        &env,
        "exec.kubeconfig",
        &alice.replace(
            &format!("token: {token}"),
            &format!(
                "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never",
                plugin_path.display()
            ),
        ),
    );
    for (kc, code, says) in [
        (
            &no_scheme,
            2,
            "has no scheme: write it as https://HOST:PORT",
        ),
        (
            &crlf,
            2,
            "contains a line break or another control character",
        ),
        (
            &del,
            2,
            "contains a line break or another control character",
        ),
        (
            &exec,
            1,
            "returned contains a line break or another control character",
        ),
    ] {
        let run = env.plugin(kc, &["list"]);
        assert!(!run.stderr.contains("panicked"), "{run:?}");
        assert_eq!(run.code, Some(code), "{}: {run:?}", kc.display());
        assert!(run.stderr.contains(says), "{}: {run:?}", kc.display());
    }
    for args in [
        &["list", "--request-timeout", "18446744073709551616s"][..],
        &[
            "init",
            "--yes",
            "--preset",
            "web-app",
            "--token",
            "request",
            "--token-duration",
            "18446744073709551616s",
        ][..],
        &[
            "rotate",
            "ci-cd",
            "--token",
            "request",
            "--token-duration",
            "99999999999999999999h",
        ][..],
    ] {
        let run = plugin(&env, "alice", args);
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("too long a duration"),
            "{args:?}: {run:?}"
        );
    }
}

// Finding 15: validation that must come before any change, and messages that must be right.
#[test]
fn validation_comes_first_and_says_the_right_thing() {
    let env = env();
    let long = "a".repeat(64);
    let dotted = format!("{}.{}", "a".repeat(40), "b".repeat(30));
    for (extra, says) in [
        (vec!["--output", "x/"], "that names a folder, not a file"),
        (
            vec!["--token", "request", "--token-duration", "1193047h"],
            "is too long: the API server refuses TokenRequest durations over 2^32 seconds",
        ),
        (
            vec!["--name", long.as_str()],
            "at most 63 characters, as it is also a label value",
        ),
        (
            vec!["--name", dotted.as_str()],
            "at most 63 characters, as it is also a label value",
        ),
    ] {
        std::fs::create_dir_all(env.path("x")).unwrap();
        let mut args = INIT.to_vec();
        args.extend(extra.iter().copied());
        let run = plugin(&env, "alice", &args);
        assert_eq!(run.code.map(|c| c != 0), Some(true), "{extra:?}: {run:?}");
        assert!(run.stderr.contains(says), "{extra:?}: {run:?}");
    }
    assert_eq!(changes(&env), Vec::<String>::new(), "nothing was created");

    // A mistyped namespace, as a namespace admin who may not read namespaces.
    let run = plugin(
        &env,
        "alice",
        &["init", "--preset", "web-app", "--yes", "-n", "team-b"],
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains(
            "error: namespace team-b does not exist, or you hold no permissions at all in it"
        ),
        "{run:?}"
    );
    assert!(run.stderr.lines().count() < 15, "short: {run:?}");
    assert!(!run.stderr.contains("attempting to grant"), "{run:?}");

    // A CRLF tokenFile works, as with kubectl.
    let token = env.sandbox().user_token("alice").unwrap();
    let token_file = env.path("alice.token");
    std::fs::write(&token_file, format!("{token}\r\n")).unwrap();
    let kc = write(
        &env,
        "token-file.kubeconfig",
        &alice_text(&env).replace(
            &format!("token: {token}"),
            &format!("tokenFile: {}", token_file.display()),
        ),
    );
    let run = env.plugin(&kc, &["list"]);
    assert!(run.ok(), "{run:?}");

    // The suggested commands quote the path for a shell.
    let out_dir = env.path("my dir");
    std::fs::create_dir_all(&out_dir).unwrap();
    let output = out_dir.join("ci's.yaml").display().to_string();
    let mut args = INIT.to_vec();
    args.extend(["--output", output.as_str()]);
    let run = plugin(&env, "alice", &args);
    assert!(run.ok(), "{run:?}");
    let quoted = format!("'{}'", output.replace('\'', "'\\''"));
    assert!(run.stderr.contains(&format!("rm {quoted}")), "{run:?}");
    assert!(
        run.stderr.contains(&format!("--env production < {quoted}")),
        "{run:?}"
    );
}

// Finding 15: in a sticky folder, another user's file is refused before anything changes.
// Needs root, to run the plugin as another user (nobody) against a file root owns.
#[cfg(unix)]
#[test]
fn another_users_file_in_a_sticky_folder_is_refused_up_front() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let env = env();
    let probe = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&probe.stdout).trim() != "0" {
        eprintln!("not root: cannot run the plugin as another user; skipping this case");
        return;
    }
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let kc = shared.path().join("alice.kubeconfig");
    std::fs::write(&kc, alice_text(&env)).unwrap();
    std::fs::set_permissions(&kc, std::fs::Permissions::from_mode(0o644)).unwrap();
    let sticky = shared.path().join("tmp");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let target = sticky.join("kubeconfig_ci_cd.yaml");
    std::fs::write(&target, "root's file").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-cicd"))
        .args(INIT)
        .args(["--force", "--output"])
        .arg(&target)
        .current_dir(shared.path())
        .env("KUBECONFIG", &kc)
        .env("HOME", shared.path())
        .env("NO_COLOR", "1")
        .uid(65534)
        .gid(65534)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let run = env.finish(out);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("it belongs to another user, and in the sticky folder"),
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "root's file");
    assert_eq!(
        changes(&env),
        Vec::<String>::new(),
        "refused before any change"
    );
}

// Finding 6, the wizard: Ctrl-C at a prompt cancels with 130 and shows the cursor again.
#[test]
fn ctrl_c_in_the_wizard_restores_the_cursor() {
    use rexpect::session::{Options, spawn_with_options};
    let env = env();
    let cmd = env.terminal_command("alice", 120, "\"$PLUGIN\" init; echo \"exit=$?\"");
    let mut p = spawn_with_options(cmd, Options::new().timeout_ms(Some(30_000)))
        .expect("the wizard starts in a pseudo-terminal");
    p.exp_string("Set up CI/CD access in this context and namespace?")
        .unwrap();
    p.send("y").unwrap();
    p.flush().unwrap();
    p.exp_string("Name for the ServiceAccount, Role and RoleBinding")
        .unwrap();
    p.send_line("deployer").unwrap();
    let before = p.exp_string("Start from a preset").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send("\u{3}").unwrap();
    p.flush().unwrap();
    let rest = p.exp_string("exit=").unwrap();
    let code = p.exp_regex("[0-9]+").unwrap().1;
    let all = format!("{before}{rest}");
    env.assert_no_token_in(&all);
    assert_eq!(code, "130", "{all:?}");
    let hidden = rest.rfind("\u{1b}[?25l");
    let shown = rest.rfind("\u{1b}[?25h");
    assert!(
        shown.is_some() && shown > hidden,
        "the cursor is shown again after the last hide: {rest:?}"
    );
}
