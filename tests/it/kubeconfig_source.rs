//! Reading the source context (as kubectl does) and writing the CI kubeconfig, against the
//! sandbox. No test prints a token: assertion messages use the redacted types.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use cicd_sandbox::Sandbox;
use kubectl_cicd::cluster::Cluster;
use kubectl_cicd::error::Error;
use kubectl_cicd::kubeconfig::{
    CiKubeconfig, Credentials, NamespaceOrigin, SecretToken, SourceEnv, SourceSelection,
    load_source_with, render, with_token, write_private_file,
};

use crate::common;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn env_of(paths: &[&Path]) -> SourceEnv {
    SourceEnv {
        kubeconfig: Some(std::env::join_paths(paths).unwrap()),
        home: None,
    }
}

fn sel(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    namespace: Option<&str>,
) -> SourceSelection {
    SourceSelection {
        kubeconfig: kubeconfig.map(Path::to_path_buf),
        context: context.map(str::to_string),
        namespace: namespace.map(str::to_string),
    }
}

/// The message of a kubeconfig error; fails the test for any other outcome.
#[track_caller]
fn kubeconfig_error(result: Result<kubectl_cicd::kubeconfig::SourceContext, Error>) -> String {
    match result {
        Err(Error::Kubeconfig(msg)) => msg,
        Err(other) => panic!("expected a kubeconfig error, got {other:?}"),
        Ok(ctx) => panic!("expected a kubeconfig error, got {ctx:?}"),
    }
}

/// A second file whose names collide with the sandbox file's: `sandbox` cluster (a dead
/// server), `alice` user (a wrong token), plus its own context and current-context.
const SECOND_FILE: &str = "apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster:
    server: https://127.0.0.1:1
- name: elsewhere
  cluster:
    server: https://elsewhere.example:6443
    tls-server-name: api.elsewhere.example
    proxy-url: http://proxy.example:3128
users:
- name: alice
  user:
    token: not-alices-token
- name: carol
  user:
    token: carol-token
contexts:
- name: b-ctx
  context:
    cluster: sandbox
    user: alice
    namespace: demo
- name: carol@elsewhere
  context:
    cluster: elsewhere
    user: carol
current-context: carol@elsewhere
";

#[tokio::test]
async fn kubeconfig_list_is_merged_first_wins_and_missing_files_are_skipped() {
    let server = common::env();
    let sb = server.sandbox();
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.yaml", &sb.kubeconfig("alice", "team-a"));
    let b = write(dir.path(), "b.yaml", SECOND_FILE);
    let missing = dir.path().join("missing.yaml");
    let env = env_of(&[&missing, &a, &b]);

    // current-context from the first file that sets it.
    let src = load_source_with(&sel(None, None, None), &env).unwrap();
    server.assert_no_token_in(&format!("{src:?}"));
    assert_eq!(src.context_name, "alice@sandbox");
    assert_eq!(src.files, vec![a.clone(), b.clone()]);
    assert_eq!(src.server, sb.url());

    // A context only the second file has, using the cluster and user names both define:
    // the first file's entries win.
    let src = load_source_with(&sel(None, Some("b-ctx"), None), &env).unwrap();
    assert_eq!(src.cluster_name, "sandbox");
    assert_eq!(
        src.server,
        sb.url(),
        "the first file's `sandbox` cluster wins"
    );
    assert_eq!(src.namespace, "demo");
    let who = Cluster::connect(src.config.clone())
        .unwrap()
        .whoami()
        .await
        .unwrap();
    assert_eq!(who.username, "alice", "the first file's `alice` user wins");

    // The other order: the second file's entries win.
    let src = load_source_with(&sel(None, None, None), &env_of(&[&b, &a])).unwrap();
    assert_eq!(src.context_name, "carol@elsewhere");
    assert_eq!(
        src.tls_server_name.as_deref(),
        Some("api.elsewhere.example")
    );
    assert_eq!(src.proxy_url.as_deref(), Some("http://proxy.example:3128"));
    let src =
        load_source_with(&sel(None, Some("alice@sandbox"), None), &env_of(&[&b, &a])).unwrap();
    assert_eq!(src.server, "https://127.0.0.1:1");
}

#[test]
fn kubeconfig_flag_beats_the_environment_and_home() {
    let server = common::env();
    let sb = server.sandbox();
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.yaml", &sb.kubeconfig("alice", "team-a"));
    let b = write(dir.path(), "b.yaml", SECOND_FILE);
    let src = load_source_with(&sel(Some(&a), None, None), &env_of(&[&b])).unwrap();
    assert_eq!(src.context_name, "alice@sandbox");
    assert_eq!(src.files, vec![a]);

    // No flag, no KUBECONFIG: ~/.kube/config.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".kube")).unwrap();
    write(&home.path().join(".kube"), "config", SECOND_FILE);
    let env = SourceEnv {
        kubeconfig: None,
        home: Some(home.path().to_path_buf()),
    };
    let src = load_source_with(&sel(None, None, None), &env).unwrap();
    assert_eq!(src.context_name, "carol@elsewhere");
    // An empty KUBECONFIG counts as unset.
    let env = SourceEnv {
        kubeconfig: Some(OsString::new()),
        home: Some(home.path().to_path_buf()),
    };
    assert_eq!(
        load_source_with(&sel(None, None, None), &env)
            .unwrap()
            .context_name,
        "carol@elsewhere"
    );
}

#[test]
fn context_selection_and_namespace_origin() {
    let server = common::env();
    let sb = server.sandbox();
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.yaml", &sb.kubeconfig("alice", "team-a"));
    let b = write(dir.path(), "b.yaml", SECOND_FILE);
    let env = env_of(&[&a, &b]);

    let src = load_source_with(&sel(None, None, None), &env).unwrap();
    assert_eq!(
        (src.namespace.as_str(), src.namespace_origin),
        ("team-a", NamespaceOrigin::Context)
    );
    assert_eq!(src.config.default_namespace, "team-a");
    assert_eq!(src.user_name.as_deref(), Some("alice"));
    assert_eq!(src.credentials, Credentials::Token);

    let src = load_source_with(&sel(None, None, Some("shop")), &env).unwrap();
    assert_eq!(
        (src.namespace.as_str(), src.namespace_origin),
        ("shop", NamespaceOrigin::Flag)
    );
    assert_eq!(src.config.default_namespace, "shop");

    let src = load_source_with(&sel(None, Some("carol@elsewhere"), None), &env).unwrap();
    assert_eq!(src.cluster_name, "elsewhere");
    assert_eq!(src.server, "https://elsewhere.example:6443");
    assert_eq!(
        (src.namespace.as_str(), src.namespace_origin),
        ("default", NamespaceOrigin::Default)
    );
    assert_eq!(src.ca_pem, None);
    assert!(!src.insecure_skip_tls_verify);
}

#[tokio::test]
async fn certificate_authority_file_is_read_relative_to_the_kubeconfig() {
    let server = common::env();
    let sb = server.sandbox();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("conf/pki")).unwrap();
    write(&dir.path().join("conf/pki"), "ca.pem", sb.ca_pem());
    let token = sb.user_token("alice").unwrap();
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: sb
  cluster:
    server: {}
    certificate-authority: pki/ca.pem
users:
- name: alice
  user:
    token: {token}
contexts:
- name: alice@sb
  context: {{cluster: sb, user: alice, namespace: team-a}}
current-context: alice@sb
",
        sb.url()
    );
    let kc = write(&dir.path().join("conf"), "kubeconfig", &text);
    let src = load_source_with(&sel(Some(&kc), None, None), &SourceEnv::default()).unwrap();
    assert_eq!(src.ca_pem.as_deref(), Some(sb.ca_pem().as_bytes()));
    assert_eq!(
        src.ca_file.as_deref(),
        Some(dir.path().join("conf/pki/ca.pem").as_path())
    );
    let who = Cluster::connect(src.config.clone())
        .unwrap()
        .whoami()
        .await
        .unwrap();
    assert_eq!(who.username, "alice");

    // A CA file that is not there: a clear error naming it.
    std::fs::remove_file(dir.path().join("conf/pki/ca.pem")).unwrap();
    let msg = kubeconfig_error(load_source_with(
        &sel(Some(&kc), None, None),
        &SourceEnv::default(),
    ));
    server.assert_no_token_in(&msg);
    assert!(
        msg.contains("pki/ca.pem") && msg.contains("certificate-authority"),
        "{msg}"
    );
}

/// A kubelogin-style exec plugin: prints an ExecCredential with the token, counts its runs.
fn exec_plugin(dir: &Path, token: &str) -> (PathBuf, PathBuf) {
    let counter = dir.join("runs");
    let script = dir.join("fake-kubelogin");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> '{}'\ncat <<EOF\n{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}}}\nEOF\n",
            counter.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (script, counter)
}

fn exec_kubeconfig(sb: &Sandbox, command: &Path, interactive: Option<&str>) -> String {
    let interactive = interactive
        .map(|m| format!("\n      interactiveMode: {m}"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: sb
  cluster:
    server: {}
    certificate-authority-data: {}
users:
- name: oidc
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: {}
      args: [get-token, --oidc-issuer-url=https://issuer.example]{interactive}
contexts:
- name: oidc@sb
  context: {{cluster: sb, user: oidc, namespace: team-a}}
current-context: oidc@sb
",
        sb.url(),
        base64_encode(sb.ca_pem().as_bytes()),
        command.display()
    )
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn exec_credential_plugin_user_works() {
    let server = common::env();
    let sb = server.sandbox();
    let dir = tempfile::tempdir().unwrap();
    let (script, counter) = exec_plugin(dir.path(), &sb.user_token("alice").unwrap());
    let kc = write(
        dir.path(),
        "kubeconfig",
        &exec_kubeconfig(sb, &script, Some("Never")),
    );

    let src = load_source_with(&sel(Some(&kc), None, None), &SourceEnv::default()).unwrap();
    assert_eq!(
        src.credentials,
        Credentials::Exec {
            command: script.display().to_string(),
            api_version: Some("client.authentication.k8s.io/v1".into())
        }
    );
    assert!(src.credentials.to_string().contains("fake-kubelogin"));
    server.assert_no_token_in(&format!("{src:?} {}", src.credentials));
    assert!(
        !std::fs::exists(&counter).unwrap(),
        "loading must not run the plugin"
    );

    let cluster = Cluster::connect(src.config.clone()).unwrap();
    let runs_at_connect = std::fs::read_to_string(&counter).unwrap().lines().count();
    let who = cluster.whoami().await.unwrap();
    assert_eq!(who.username, "alice");
    cluster.rules_review("team-a").await.unwrap();
    let runs = std::fs::read_to_string(&counter).unwrap().lines().count();
    assert_eq!(
        runs, runs_at_connect,
        "requests reuse the credential: no plugin run per request"
    );
    assert!(
        runs_at_connect <= 3,
        "the plugin ran {runs_at_connect} times to build one client"
    );
    eprintln!("exec plugin runs to build one client: {runs_at_connect}");
}

#[test]
fn exec_plugin_v1_without_interactive_mode_is_refused_as_kubectl_does() {
    let server = common::env();
    let sb = server.sandbox();
    let dir = tempfile::tempdir().unwrap();
    let (script, _) = exec_plugin(dir.path(), "x");
    let kc = write(
        dir.path(),
        "kubeconfig",
        &exec_kubeconfig(sb, &script, None),
    );
    let msg = kubeconfig_error(load_source_with(
        &sel(Some(&kc), None, None),
        &SourceEnv::default(),
    ));
    assert!(
        msg.contains("interactiveMode must be specified for user \"oidc\""),
        "{msg}"
    );
}

#[tokio::test]
async fn failing_exec_plugin_is_a_credentials_error_without_its_output() {
    let server = common::env();
    let sb = server.sandbox();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("broken-login");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'secret-on-stdout'\necho 'login expired: run kubelogin' >&2\nexit 3\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let kc = write(
        dir.path(),
        "kubeconfig",
        &exec_kubeconfig(sb, &script, Some("Never")),
    );
    let src = load_source_with(&sel(Some(&kc), None, None), &SourceEnv::default()).unwrap();
    let err = Cluster::connect(src.config.clone()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Credentials { .. }), "{msg}");
    assert!(msg.contains("login expired: run kubelogin"), "{msg}");
    assert!(!msg.contains("secret-on-stdout"), "{msg}");
    server.assert_no_token_in(&msg);
}

#[test]
fn missing_kubeconfig_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("nope.yaml");
    let msg = kubeconfig_error(load_source_with(
        &sel(Some(&nowhere), None, None),
        &SourceEnv::default(),
    ));
    assert!(
        msg.contains("nope.yaml") && msg.contains("--kubeconfig"),
        "{msg}"
    );

    let msg = kubeconfig_error(load_source_with(
        &sel(None, None, None),
        &env_of(&[&nowhere]),
    ));
    assert!(
        msg.contains("KUBECONFIG") && msg.contains("nope.yaml"),
        "{msg}"
    );

    let env = SourceEnv {
        kubeconfig: None,
        home: Some(dir.path().to_path_buf()),
    };
    let msg = kubeconfig_error(load_source_with(&sel(None, None, None), &env));
    assert!(
        msg.contains(".kube/config") && msg.contains("does not exist"),
        "{msg}"
    );
}

#[test]
fn a_file_that_is_not_yaml_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "broken",
        "apiVersion: v1\nusers:\n- name: x\n  user:\n    token: \"sha256~supersecret\n  [ {{\n",
    );
    let msg = kubeconfig_error(load_source_with(
        &sel(Some(&bad), None, None),
        &SourceEnv::default(),
    ));
    assert!(
        msg.contains("broken") && msg.contains("not a valid kubeconfig"),
        "{msg}"
    );
    assert!(
        !msg.contains("supersecret"),
        "the error echoed the file: {msg}"
    );

    let not_a_map = write(dir.path(), "list", "- just\n- a list\n");
    let msg = kubeconfig_error(load_source_with(
        &sel(Some(&not_a_map), None, None),
        &SourceEnv::default(),
    ));
    assert!(msg.contains("not a valid kubeconfig"), "{msg}");
}

#[test]
fn no_current_context_and_no_flag() {
    let dir = tempfile::tempdir().unwrap();
    let text = SECOND_FILE.replace("current-context: carol@elsewhere\n", "");
    let kc = write(dir.path(), "kc", &text);
    let msg = kubeconfig_error(load_source_with(
        &sel(Some(&kc), None, None),
        &SourceEnv::default(),
    ));
    assert!(
        msg.contains("no current-context") && msg.contains("--context"),
        "{msg}"
    );
    assert!(
        msg.contains("b-ctx") && msg.contains("carol@elsewhere"),
        "{msg}"
    );
    // An empty file has no contexts at all.
    let empty = write(dir.path(), "empty", "");
    let msg = kubeconfig_error(load_source_with(
        &sel(Some(&empty), None, None),
        &SourceEnv::default(),
    ));
    assert!(msg.contains("no current-context"), "{msg}");
}

#[test]
fn unknown_context_lists_the_existing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let kc = write(dir.path(), "kc", SECOND_FILE);
    let msg = kubeconfig_error(load_source_with(
        &sel(Some(&kc), Some("prod"), None),
        &SourceEnv::default(),
    ));
    assert!(msg.contains("context \"prod\" was not found"), "{msg}");
    assert!(msg.contains("b-ctx, carol@elsewhere"), "{msg}");
}

#[test]
fn missing_cluster_or_user_entries() {
    let dir = tempfile::tempdir().unwrap();
    let text = SECOND_FILE.replace(
        "    cluster: elsewhere\n    user: carol",
        "    cluster: gone\n    user: carol",
    );
    let kc = write(dir.path(), "kc", &text);
    let msg = kubeconfig_error(load_source_with(
        &sel(Some(&kc), None, None),
        &SourceEnv::default(),
    ));
    assert!(
        msg.contains("cluster \"gone\"") && msg.contains("not defined"),
        "{msg}"
    );
    assert!(msg.contains("sandbox, elsewhere"), "{msg}");

    let text = SECOND_FILE.replace(
        "    cluster: elsewhere\n    user: carol",
        "    cluster: elsewhere\n    user: dave",
    );
    let kc = write(dir.path(), "kc2", &text);
    let msg = kubeconfig_error(load_source_with(
        &sel(Some(&kc), None, None),
        &SourceEnv::default(),
    ));
    assert!(
        msg.contains("user \"dave\"") && msg.contains("not defined"),
        "{msg}"
    );
    assert!(msg.contains("alice, carol"), "{msg}");
    assert!(!msg.contains("carol-token"), "{msg}");
}

fn ci_for(sb: &Sandbox, token: &str) -> CiKubeconfig {
    CiKubeconfig {
        cluster_name: "sandbox".into(),
        server: sb.url().to_string(),
        ca_pem: Some(sb.ca_pem().as_bytes().to_vec()),
        insecure_skip_tls_verify: false,
        tls_server_name: None,
        proxy_url: None,
        user_name: "ci-cd".into(),
        context_name: "ci-cd@sandbox".into(),
        namespace: "team-a".into(),
        token: SecretToken::new(token),
    }
}

#[tokio::test]
async fn rendered_kubeconfig_parses_back_and_reaches_the_sandbox() {
    let server = common::env();
    let sb = server.sandbox();
    let ci = ci_for(sb, &sb.user_token("bob").unwrap());
    server.assert_no_token_in(&format!("{ci:?}"));
    let yaml = render(&ci);

    let parsed = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    assert_eq!(parsed.api_version.as_deref(), Some("v1"));
    assert_eq!(parsed.kind.as_deref(), Some("Config"));
    assert_eq!(parsed.current_context.as_deref(), Some("ci-cd@sandbox"));
    assert_eq!(parsed.clusters.len(), 1);
    let cluster = parsed.clusters[0].cluster.as_ref().unwrap();
    assert_eq!(cluster.server.as_deref(), Some(sb.url()));
    assert!(cluster.certificate_authority_data.is_some());
    assert_eq!(cluster.insecure_skip_tls_verify, None);
    let ctx = parsed.contexts[0].context.as_ref().unwrap();
    assert_eq!(
        (
            ctx.cluster.as_str(),
            ctx.user.as_deref(),
            ctx.namespace.as_deref()
        ),
        ("sandbox", Some("ci-cd"), Some("team-a"))
    );
    // The exact shape of spec section 10.
    let expected_keys = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "users:",
        "contexts:",
        "current-context: ci-cd@sandbox",
    ];
    let mut last = 0;
    for key in expected_keys {
        let at = yaml
            .find(key)
            .unwrap_or_else(|| panic!("{key} missing from the rendered kubeconfig"));
        assert!(at >= last, "{key} out of order");
        last = at;
    }
    assert!(
        yaml.contains("- name: sandbox\n  cluster:\n    server: "),
        "unexpected shape"
    );
    assert!(!yaml.contains("insecure"));

    let config = kube::Config::try_from(parsed).unwrap();
    let who = Cluster::connect(config).unwrap().whoami().await.unwrap();
    assert_eq!(who.username, "bob");

    // Through a file and kube's own loader, too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig_ci_cd.yaml");
    write_private_file(&path, &yaml, false).unwrap();
    let src = load_source_with(&sel(Some(&path), None, None), &SourceEnv::default()).unwrap();
    assert_eq!(src.namespace_origin, NamespaceOrigin::Context);
    assert_eq!(src.ca_pem.as_deref(), Some(sb.ca_pem().as_bytes()));
}

#[test]
fn rendered_kubeconfig_keeps_tls_settings_and_is_insecure_only_when_asked() {
    let server = common::env();
    let sb = server.sandbox();
    let mut ci = ci_for(sb, "t");
    ci.tls_server_name = Some("api.internal".into());
    ci.proxy_url = Some("http://proxy:3128".into());
    let yaml = render(&ci);
    assert!(yaml.contains("tls-server-name: api.internal"), "{yaml}");
    assert!(yaml.contains("proxy-url: http://proxy:3128"), "{yaml}");

    ci.insecure_skip_tls_verify = true;
    let yaml = render(&ci);
    let parsed = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    let cluster = parsed.clusters[0].cluster.as_ref().unwrap();
    assert_eq!(cluster.insecure_skip_tls_verify, Some(true));
    assert_eq!(
        cluster.certificate_authority_data, None,
        "kubectl refuses a CA together with insecure"
    );
}

#[tokio::test]
async fn with_token_keeps_the_server_and_ca_but_changes_the_identity() {
    let server = common::env();
    let sb = server.sandbox();
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "alice", &sb.kubeconfig("alice", "team-a"));
    let src = load_source_with(&sel(Some(&a), None, None), &SourceEnv::default()).unwrap();
    let config = with_token(&src, &sb.user_token("bob").unwrap());
    server.assert_no_token_in(&format!("{src:?} {config:?}"));
    assert_eq!(config.cluster_url, src.config.cluster_url);
    assert_eq!(config.root_cert, src.config.root_cert);
    assert_eq!(config.default_namespace, "team-a");
    let who = Cluster::connect(config).unwrap().whoami().await.unwrap();
    assert_eq!(who.username, "bob");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn private_file_is_written_atomically_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig_ci_cd.yaml");
    write_private_file(&path, "first\n", false).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\n");
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn existing_file_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig_ci_cd.yaml");
    std::fs::write(&path, "old\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    match write_private_file(&path, "new\n", false) {
        Err(Error::OutputExists { path: p }) => assert_eq!(p, path),
        other => panic!("expected OutputExists, got {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
    let msg = write_private_file(&path, "new\n", false)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("--force"), "{msg}");

    write_private_file(&path, "new\n", true).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    #[cfg(unix)]
    assert_eq!(
        mode(&path),
        0o600,
        "overwriting replaces the file: the old 0644 does not survive"
    );
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn missing_or_unwritable_folders_are_write_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/folder/kubeconfig_ci_cd.yaml");
    match write_private_file(&path, "x", false) {
        Err(Error::Write { path: p, detail }) => {
            assert_eq!(p, path);
            assert!(detail.contains("does not exist"), "{detail}");
        }
        other => panic!("expected a write error, got {other:?}"),
    }

    // A folder nobody may create files in (root ignores mode bits, so use sysfs then).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
        let is_root = std::fs::File::create(locked.join("probe")).is_ok();
        let target = if is_root && Path::new("/sys/kernel").is_dir() {
            PathBuf::from("/sys/kernel/kubeconfig_ci_cd.yaml")
        } else {
            locked.join("kubeconfig_ci_cd.yaml")
        };
        match write_private_file(&target, "x", false) {
            Err(Error::Write { path: p, detail }) => {
                assert_eq!(p, target);
                assert!(!detail.is_empty());
                let shown = Error::Write { path: p, detail }.to_string();
                assert!(shown.starts_with("cannot write "), "{shown}");
            }
            other => panic!("expected a write error, got {other:?}"),
        }
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    }

    let folder = dir.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    assert!(matches!(
        write_private_file(&folder, "x", true),
        Err(Error::Write { .. })
    ));
}

/// A minimal HTTP CONNECT proxy on 127.0.0.1; counts the tunnels it opened.
async fn connect_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let tunnels = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if inbound.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let mut words = head.split_whitespace();
                if words.next() != Some("CONNECT") {
                    let _ = inbound
                        .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                        .await;
                    return;
                }
                let Some(target) = words.next() else { return };
                let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                    let _ = inbound.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if inbound
                    .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await
                    .is_ok()
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (url, tunnels)
}

#[tokio::test]
async fn proxy_url_is_used_by_the_source_and_by_with_token() {
    let server = common::env();
    let sb = server.sandbox();
    let (proxy, tunnels) = connect_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let text = sb.kubeconfig("alice", "team-a").replace(
        "    certificate-authority-data:",
        &format!("    proxy-url: {proxy}\n    certificate-authority-data:"),
    );
    let kc = write(dir.path(), "kc", &text);
    let src = load_source_with(&sel(Some(&kc), None, None), &SourceEnv::default()).unwrap();
    assert_eq!(src.proxy_url.as_deref(), Some(proxy.as_str()));

    let who = Cluster::connect(src.config.clone())
        .unwrap()
        .whoami()
        .await
        .unwrap();
    assert_eq!(who.username, "alice");
    let config = with_token(&src, &sb.user_token("bob").unwrap());
    let who = Cluster::connect(config).unwrap().whoami().await.unwrap();
    assert_eq!(who.username, "bob");
    // kube applies NO_PROXY even to a kubeconfig proxy-url (client-go does not).
    let bypassed = ["NO_PROXY", "no_proxy"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()));
    if !bypassed {
        assert_eq!(
            tunnels.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "both clients went through the proxy"
        );
    }
}
