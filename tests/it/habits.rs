//! Output a person can read and kubectl's habits: init's -q and -v, list's formats,
//! `--request-timeout` as kubectl takes it, `audit --sa` of a missing ServiceAccount, the audit
//! table at a terminal's width, one exit-code table, and audit agreeing with init's default.

use std::process::Command;

use crate::common::env;
use rexpect::session::{Options, spawn_with_options};

on_both_servers! {
/// The default report is a screen or two; -q is the path alone on stdout; -v has the details.
fn init_speaks_briefly_by_default_quietly_with_q_and_fully_with_v(env) {
    let normal = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(normal.ok(), "{normal:?}");
    let lines = normal.stderr.lines().count();
    assert!(lines <= 60, "a screen or two, not {lines} lines: {}", normal.stderr);
    assert!(normal.stderr.contains("-v lists them"), "{normal:?}");
    assert!(!normal.stderr.contains("apiVersion:"), "no whole objects: {normal:?}");
    assert!(normal.stderr.contains("Verified with the new token"), "{normal:?}");

    let quiet = env.plugin_as(
        "alice",
        &["init", "--preset", "web-app", "--yes", "--name", "quiet", "--output", "quiet.yaml", "-q"],
    );
    assert!(quiet.ok(), "{quiet:?}");
    let all: Vec<&str> = quiet.stdout.lines().chain(quiet.stderr.lines()).collect();
    assert!(all.len() <= 3, "at most 3 lines: {all:?}");
    assert_eq!(quiet.stdout, "quiet.yaml\n", "the path, for scripts: {quiet:?}");
    assert!(env.path("quiet.yaml").exists());
    env.assert_no_token_in(&format!("{}{}", quiet.stdout, quiet.stderr));

    let verbose = env.plugin_as(
        "alice",
        &["init", "--preset", "web-app", "--yes", "--name", "loud", "--output", "loud.yaml", "-v"],
    );
    assert!(verbose.ok(), "{verbose:?}");
    for detail in ["What you may do (and so grant)", "kind: Role", "  cannot "] {
        assert!(verbose.stderr.contains(detail), "-v shows {detail:?}: {verbose:?}");
    }
    assert!(verbose.stderr.lines().count() > lines, "-v says more than the default");

    let both = env.plugin_as("alice", &["init", "-q", "-v", "--preset", "web-app", "--yes"]);
    assert_eq!(both.code, Some(2), "-q and -v exclude each other: {both:?}");
}
}

on_both_servers! {
/// The identity init made with the default token audits clean below medium: the token
/// Secret is ours and young, and no other ServiceAccount of the namespace is bound.
fn the_web_app_identity_passes_an_audit_at_medium(env) {
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");
    let audit = env.plugin_as(
        "admin",
        &["audit", "-n", env.ns(), "--sa", "ci-cd", "--fail-on", "medium", "-o", "json"],
    );
    let report: serde_json::Value = serde_json::from_str(&audit.stdout)
        .unwrap_or_else(|e| panic!("{e}: {audit:?}"));
    let findings = report["findings"].as_array().unwrap();
    let rules: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(audit.code, Some(0), "no finding at medium or above: {rules:?} {audit:?}");
    assert!(
        rules.contains(&("long-lived-token", "low")),
        "the token is still reported, at low: {rules:?}"
    );
    assert!(rules.contains(&("workload-create", "low")), "{rules:?}");
}
}

on_both_servers! {
fn list_speaks_kubectls_output_flags(env) {
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");

    let wide = env.plugin_as("alice", &["list", "-o", "wide"]);
    assert!(wide.ok(), "{wide:?}");
    let header = wide.stdout.lines().next().unwrap();
    for column in ["NAME", "TOKEN SECRETS", "OBJECTS", "VERSION", "PROBLEMS"] {
        assert!(header.contains(column), "{column} in {header}");
    }
    let row = wide.stdout.lines().find(|l| l.contains(" ci-cd ")).expect("ci-cd's row");
    assert!(row.contains("ci-cd-token-") && row.contains("sa,role,binding"), "{row}");

    let bare = env.plugin_as("alice", &["list", "--no-headers"]);
    assert!(bare.ok(), "{bare:?}");
    assert_eq!(bare.stdout.lines().count(), 1, "one identity, no header: {bare:?}");
    assert!(!bare.stdout.contains("NAMESPACE"), "{bare:?}");

    let yaml = env.plugin_as("alice", &["list", "-o", "yaml"]);
    assert!(yaml.ok(), "{yaml:?}");
    let parsed: serde_json::Value = serde_saphyr::from_str(&yaml.stdout).expect("YAML");
    let json = env.plugin_as("alice", &["list", "-o", "json"]);
    let from_json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(parsed["kind"], "IdentityList");
    assert_eq!(parsed["items"][0]["name"], "ci-cd");
    assert_eq!(
        parsed["items"][0]["token"]["secrets"], from_json["items"][0]["token"]["secrets"],
        "YAML and JSON say the same"
    );
}
}

on_both_servers! {
fn request_timeout_takes_kubectls_forms_and_a_missing_service_account_is_bad_input(env) {
    for timeout in ["30", "0", "1m30s", "20s"] {
        let run = env.plugin_as("alice", &["list", "--request-timeout", timeout]);
        assert!(run.ok(), "--request-timeout {timeout}: {run:?}");
    }
    let bad = env.plugin_as("alice", &["list", "--request-timeout", "soon"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("0 for no timeout"), "{bad:?}");

    let missing = env.plugin_as("admin", &["audit", "-n", env.ns(), "--sa", "no-such-sa"]);
    assert_eq!(missing.code, Some(2), "{missing:?}");
    assert!(
        missing
            .stderr
            .contains(&format!("no ServiceAccount no-such-sa in namespace {}", env.ns())),
        "{missing:?}"
    );
    assert!(missing.stdout.is_empty(), "no report for a missing name: {missing:?}");
}
}

/// One exit-code table: the end of `--help`, and README's.
#[test]
fn the_exit_code_table_is_in_help_and_in_the_readme() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-cicd"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let start = help.find("Exit codes (every command):").expect(&help);
    let table = help[start..].trim_end();
    for code in ["  0 ", "  1 ", "  2 ", "  3 ", "  4 ", "  130 ", "  143 "] {
        assert!(table.contains(code), "{code} in {table}");
    }
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(table),
        "README.md shows the table of --help:\n{table}"
    );
    let audit = Command::new(env!("CARGO_BIN_EXE_kubectl-cicd"))
        .args(["audit", "--help"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&audit.stdout).contains(table),
        "audit --help too"
    );
}

/// At a terminal the audit table is wrapped to its width, at word boundaries; into a pipe it
/// is not, so each finding stays one line for grep.
#[test]
fn the_audit_table_fits_an_80_column_terminal_and_pipes_stay_unwrapped() {
    let env = env();
    let run = env.plugin_as(
        "alice",
        &["init", "--preset", "helm", "--allow-risky", "--yes"],
    );
    assert!(run.ok(), "{run:?}");
    let args = format!("audit -n {} --allow-gaps --fail-on none", env.ns());
    let piped = env.plugin_as("admin", &args.split(' ').collect::<Vec<_>>());
    assert!(piped.ok(), "{piped:?}");
    let longest = piped
        .stdout
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap();
    assert!(
        longest > 200,
        "a pipe gets whole lines ({longest}): {}",
        piped.stdout
    );

    let screen = at_80_columns(&env, &format!("{args} 2>/dev/null"));
    assert!(screen.contains("Summary:"), "{screen}");
    for line in screen.lines() {
        let width = line.chars().count();
        let one_long_word = line.split(' ').any(|w| w.chars().count() > 40);
        assert!(
            width <= 80 || one_long_word,
            "{width} columns: {line:?}\n{screen}"
        );
    }
    let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let tail = |t: &str| {
        let w = words(t);
        w[w.iter().position(|x| x == "Summary:").unwrap()..].to_vec()
    };
    assert_eq!(tail(&screen), tail(&piped.stdout), "wrapping loses no word");
    assert!(
        screen.lines().count() > piped.stdout.lines().count(),
        "the terminal got wrapped lines"
    );
}

on_both_servers! {
/// `version` as kubectl's: the plugin's line, then the server's when the context answers.
fn version_prints_the_plugins_and_the_servers_version(env) {
    let client_line = format!("kubectl cicd {}", env!("CARGO_PKG_VERSION"));
    let run = env.plugin_as("alice", &["version"]);
    assert!(run.ok(), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], client_line, "{run:?}");
    assert!(
        lines.len() == 2 && lines[1].starts_with("Server Version: v1."),
        "{run:?}"
    );
    let client = env.plugin_as("alice", &["version", "--client"]);
    assert_eq!(client.stdout, format!("{client_line}\n"), "{client:?}");
    let nowhere = env.plugin(&env.path("no-such.kubeconfig"), &["version"]);
    assert!(nowhere.ok(), "no cluster is not an error for version: {nowhere:?}");
    assert_eq!(nowhere.stdout, format!("{client_line}\n"));
    assert!(nowhere.stderr.contains("Server Version: unknown"), "{nowhere:?}");
}
}

/// What `kubectl-cicd ARGS` (a shell word list, as admin) shows on an 80-column terminal.
fn at_80_columns(env: &crate::common::Env, args: &str) -> String {
    let cmd = env.terminal_command("admin", 80, &format!("exec \"$PLUGIN\" {args}"));
    let mut p = spawn_with_options(
        cmd,
        Options::new()
            .timeout_ms(Some(30_000))
            .strip_ansi_escape_codes(true),
    )
    .expect("kubectl-cicd starts in a pseudo-terminal");
    p.exp_eof().expect("kubectl-cicd ends").replace('\r', "")
}

/// Messages on stderr (here an error) are wrapped to the terminal too, at word boundaries.
#[test]
fn errors_fit_an_80_column_terminal() {
    let env = env();
    let screen = at_80_columns(&env, &format!("audit -n {} --sa no-such-sa", env.ns()));
    let error = screen
        .find("error: no ServiceAccount no-such-sa")
        .expect(&screen);
    let message = &screen[error..];
    assert!(
        message.lines().count() >= 3,
        "a long message, wrapped: {message}"
    );
    for line in message.lines() {
        assert!(line.chars().count() <= 80, "{line:?}\n{message}");
    }
    let piped = env.plugin_as("admin", &["audit", "-n", env.ns(), "--sa", "no-such-sa"]);
    let piped = &piped.stderr[piped.stderr.find("error:").expect(&piped.stderr)..];
    assert_eq!(piped.lines().count(), 1, "one line in a pipe: {piped}");
    assert_eq!(
        message.split_whitespace().collect::<Vec<_>>(),
        piped.split_whitespace().collect::<Vec<_>>(),
        "the same words"
    );
}
