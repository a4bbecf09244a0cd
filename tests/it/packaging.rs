//! Packaging: the krew archive and manifest that `krew/build-release.sh` makes; the committed
//! `plugin-manifest/cicd.yaml`; the binary speaking as `kubectl cicd` (help, version); and shell
//! completion (the scripts of `kubectl cicd completion`, bash's run in bash, and kubectl's own
//! completion through the `kubectl_complete-cicd` hook).
//!
//! The script packs the test build of the binary (`CARGO_BIN_EXE_kubectl-cicd`, given with
//! `--binary`), so no release build runs here.
//! The kubectl test fails when kubectl is missing, unless CICD_SKIP_KUBECTL=1 is set.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common;
use serde_json::Value;

const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
const PLACEHOLDER_SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const PLATFORMS: [(&str, &str); 5] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-cicd"))
}

fn tag() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// Runs `krew/build-release.sh ARGS`; panics with its output when it fails.
fn build_release(args: &[&str]) -> String {
    let out = Command::new(repo().join("krew/build-release.sh"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("krew/build-release.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "krew/build-release.sh {args:?} failed: {:?}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn parse_yaml(text: &str, what: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{what} is not valid YAML: {e}"))
}

fn str_at<'a>(v: &'a Value, pointer: &str, what: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{what}: {pointer} is missing or not a string"))
}

fn is_semver_with_v(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// One platform entry of a manifest, as checked.
#[derive(Debug)]
struct Platform {
    os: String,
    arch: String,
    uri: String,
}

/// Checks a Plugin manifest against krew's structural validation
/// (`pkg/index/validation` ValidatePlugin/validatePlatform) and its review rules
/// (`cmd/validate-krew-manifest` line lengths; the developer guide on descriptions and the
/// LICENSE), and this project's own: name `cicd`, the package's version and repository, a
/// short description of at most 50 characters. Returns the platforms.
fn check_manifest(m: &Value, what: &str) -> Vec<Platform> {
    assert_eq!(
        str_at(m, "/apiVersion", what),
        API_VERSION,
        "{what}: apiVersion"
    );
    assert_eq!(str_at(m, "/kind", what), "Plugin", "{what}: kind");
    let name = str_at(m, "/metadata/name", what);
    assert_eq!(name, "cicd", "{what}: metadata.name");
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "{what}: the name must match ^[\\w-]+$"
    );

    let version = str_at(m, "/spec/version", what);
    assert!(
        is_semver_with_v(version),
        "{what}: version {version:?} is not v<semver>"
    );
    assert_eq!(
        version,
        tag(),
        "{what}: version must be Cargo.toml's, with a v"
    );
    assert_eq!(
        str_at(m, "/spec/homepage", what),
        env!("CARGO_PKG_REPOSITORY"),
        "{what}: homepage is the repository URL of Cargo.toml"
    );

    let short = str_at(m, "/spec/shortDescription", what);
    assert!(
        !short.trim().is_empty(),
        "{what}: shortDescription is empty"
    );
    assert!(
        !short.contains(['\r', '\n']),
        "{what}: shortDescription has a line break"
    );
    assert!(
        short.chars().count() <= 50,
        "{what}: shortDescription has {} characters, at most 50 allowed",
        short.chars().count()
    );

    let description = str_at(m, "/spec/description", what);
    assert!(
        !description.trim().is_empty(),
        "{what}: description is empty"
    );
    for line in description.lines() {
        assert!(
            line.chars().count() <= 80,
            "{what}: description line longer than 80 characters: {line:?}"
        );
    }
    // Usage belongs in --help, not in the description (krew developer guide).
    for usage in ["kubectl cicd", " --", "$ "] {
        assert!(
            !description.contains(usage),
            "{what}: the description holds a usage example ({usage:?})"
        );
    }
    if let Some(caveats) = m.pointer("/spec/caveats") {
        let caveats = caveats.as_str().expect("caveats is a string");
        assert!(
            caveats.lines().all(|l| l.chars().count() <= 80),
            "{what}: caveats lines"
        );
    }

    let platforms = m
        .pointer("/spec/platforms")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{what}: spec.platforms is missing"));
    assert!(!platforms.is_empty(), "{what}: no platform");
    let mut seen = BTreeSet::new();
    let mut checked = Vec::new();
    for (i, p) in platforms.iter().enumerate() {
        let at = format!("{what}: spec.platforms[{i}]");
        let labels = p
            .pointer("/selector/matchLabels")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{at}: selector.matchLabels is missing"));
        let keys: BTreeSet<&str> = labels.keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["arch", "os"]), "{at}: selector keys");
        assert!(
            p.pointer("/selector/matchExpressions").is_none(),
            "{at}: matchExpressions"
        );
        let os = str_at(p, "/selector/matchLabels/os", &at).to_string();
        let arch = str_at(p, "/selector/matchLabels/arch", &at).to_string();
        assert!(
            PLATFORMS.contains(&(os.as_str(), arch.as_str())),
            "{at}: {os}/{arch} is not a platform this project ships"
        );
        assert!(
            seen.insert((os.clone(), arch.clone())),
            "{at}: {os}/{arch} listed twice"
        );

        let uri = str_at(p, "/uri", &at).to_string();
        assert!(!uri.is_empty(), "{at}: uri is empty");
        let sha256 = str_at(p, "/sha256", &at).to_string();
        assert!(
            is_sha256_hex(&sha256),
            "{at}: sha256 {sha256:?} must match ^[a-f0-9]{{64}}$"
        );

        let bin = str_at(p, "/bin", &at).to_string();
        let exe = if os == "windows" {
            "kubectl-cicd.exe"
        } else {
            "kubectl-cicd"
        };
        assert_eq!(bin, exe, "{at}: bin");

        let files: Vec<(String, String)> = p
            .pointer("/files")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{at}: files is missing"))
            .iter()
            .map(|f| {
                let from = str_at(f, "/from", &at).to_string();
                let to = str_at(f, "/to", &at).to_string();
                assert!(
                    !from.is_empty() && !to.is_empty(),
                    "{at}: files need from and to"
                );
                assert!(
                    !to.contains("..") && !to.ends_with('/'),
                    "{at}: `to` must be clean"
                );
                (from, to)
            })
            .collect();
        assert!(
            !files.is_empty(),
            "{at}: files must be unspecified or non-empty"
        );
        assert!(
            files.contains(&(exe.to_string(), ".".to_string())),
            "{at}: files must carry the binary {exe}"
        );
        assert!(
            files.contains(&("LICENSE".to_string(), ".".to_string())),
            "{at}: files must carry the LICENSE"
        );
        checked.push(Platform { os, arch, uri });
    }
    checked
}

#[test]
fn build_release_rejects_what_it_cannot_do() {
    let dist = tempfile::tempdir().unwrap();
    let out = dist.path().to_str().unwrap();
    for args in [
        vec!["--no-such-option"],
        vec!["--binary", "/nonexistent/kubectl-cicd", "--out", out],
        vec![
            "--os",
            "plan9",
            "--binary",
            binary().to_str().unwrap(),
            "--out",
            out,
        ],
        vec!["--all-platforms", "--out", out],
    ] {
        let result = Command::new(repo().join("krew/build-release.sh"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!result.status.success(), "{args:?} should fail");
        assert!(
            String::from_utf8_lossy(&result.stderr).contains("build-release:"),
            "{args:?} should say why"
        );
    }
    let help = build_release(&["--help"]);
    assert!(help.contains("--binary PATH") && help.contains("--all-platforms"));
}

#[test]
fn committed_manifest_is_valid_and_matches_the_template() {
    let path = repo().join("plugin-manifest/cicd.yaml");
    let text = std::fs::read_to_string(&path).expect("plugin-manifest/cicd.yaml exists");
    let platforms = check_manifest(
        &parse_yaml(&text, "plugin-manifest/cicd.yaml"),
        "plugin-manifest/cicd.yaml",
    );

    let listed: BTreeSet<(&str, &str)> = platforms
        .iter()
        .map(|p| (p.os.as_str(), p.arch.as_str()))
        .collect();
    assert_eq!(listed, BTreeSet::from(PLATFORMS), "the five platforms");
    for p in &platforms {
        let expected = format!(
            "{}/releases/download/{tag}/kubectl-cicd-{tag}-{}-{}.tar.gz",
            env!("CARGO_PKG_REPOSITORY"),
            p.os,
            p.arch,
            tag = tag()
        );
        assert_eq!(p.uri, expected, "{}/{}: release download URI", p.os, p.arch);
    }
    // Until a release exists the sha256 values are placeholders, and say so.
    for line in text
        .lines()
        .filter(|l| l.trim_start().starts_with("sha256:"))
    {
        if line.contains(PLACEHOLDER_SHA) {
            assert!(
                line.contains("# placeholder"),
                "unmarked placeholder sha256: {line}"
            );
        }
    }

    // The file is the template rendered (krew/.krew.yaml is the one source of the text).
    let dist = tempfile::tempdir().unwrap();
    build_release(&[
        "--all-platforms",
        "--placeholder-sha",
        "--out",
        dist.path().to_str().unwrap(),
    ]);
    let rendered = std::fs::read_to_string(dist.path().join("cicd.yaml")).unwrap();
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with('#') && !l.trim_start().starts_with("sha256:"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        strip(&text),
        strip(&rendered),
        "plugin-manifest/cicd.yaml differs from krew/.krew.yaml; regenerate it with\n  \
         krew/build-release.sh --all-platforms --placeholder-sha --out /tmp/x && cp /tmp/x/cicd.yaml plugin-manifest/"
    );
}

#[test]
fn krew_release_bot_template_fills_every_platform() {
    let text = std::fs::read_to_string(repo().join("krew/.krew.yaml")).unwrap();
    assert!(
        text.contains("version: {{ .TagName }}"),
        "the version comes from the tag"
    );
    let calls: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("addURIAndSha"))
        .collect();
    assert_eq!(
        calls.len(),
        PLATFORMS.len(),
        "one {{{{addURIAndSha}}}} per platform"
    );
    for (os, arch) in PLATFORMS {
        let expected = format!(
            "    {{{{addURIAndSha \"{}/releases/download/{{{{ .TagName }}}}/kubectl-cicd-{{{{ .TagName }}}}-{os}-{arch}.tar.gz\" .TagName }}}}",
            env!("CARGO_PKG_REPOSITORY")
        );
        assert!(
            calls.contains(&expected.as_str()),
            "no addURIAndSha line for {os}/{arch}:\n{expected}"
        );
    }
}

/// The directory holding the `kubectl` that PATH finds.
fn kubectl_dir() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("kubectl").is_file())
        .expect("kubectl is on PATH")
}

/// `kubectl-cicd ARGS` with no terminal and no kubeconfig: (exit code, stdout, stderr).
fn plugin(args: &[&str]) -> (Option<i32>, String, String) {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(binary())
        .args(args)
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("kubectl-cicd runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SUBCOMMANDS: [&str; 6] = ["init", "audit", "list", "rotate", "delete", "tighten"];

#[test]
fn help_and_version_speak_as_kubectl_cicd() {
    let (code, help, _) = plugin(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(
        help.contains("Usage: kubectl cicd [OPTIONS] <COMMAND>"),
        "{help}"
    );
    for sub in SUBCOMMANDS.iter().chain(&["completion"]) {
        assert!(
            help.lines().any(|l| l.starts_with(&format!("  {sub} "))),
            "kubectl cicd --help does not list {sub}:\n{help}"
        );
    }
    // kubectl's global flags, spelt as kubectl spells them.
    for flag in [
        "      --kubeconfig <PATH>",
        "      --context <NAME>",
        "  -n, --namespace <NS>",
        "      --request-timeout <DURATION>",
    ] {
        assert!(
            help.lines().any(|l| l == flag),
            "kubectl cicd --help lacks {flag:?}:\n{help}"
        );
    }
    assert!(!help.contains("kubectl-cicd "), "{help}");

    for sub in SUBCOMMANDS.iter().chain(&["completion"]) {
        for args in [vec![*sub, "--help"], vec!["help", *sub]] {
            let (code, text, _) = plugin(&args);
            assert_eq!(code, Some(0), "{args:?}");
            assert!(
                text.contains(&format!("Usage: kubectl cicd {sub} ")),
                "{args:?}:\n{text}"
            );
            assert!(
                text.contains("--kubeconfig <PATH>") && text.contains("-n, --namespace <NS>"),
                "{args:?} lacks the global flags:\n{text}"
            );
        }
    }

    let (code, version, _) = plugin(&["--version"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        version,
        format!("kubectl cicd {}\n", env!("CARGO_PKG_VERSION"))
    );

    // Usage errors say it the same way.
    let (code, _, err) = plugin(&["rotate"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("Usage: kubectl cicd rotate"), "{err}");
}

#[test]
fn completion_scripts_generate_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, script, err) = plugin(&["completion", shell]);
        assert_eq!(code, Some(0), "completion {shell}: {err}");
        assert!(!script.trim().is_empty(), "completion {shell} is empty");
        assert!(
            script.contains("kubectl-cicd"),
            "completion {shell} does not complete kubectl-cicd"
        );
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "completion {shell} lacks {sub}");
        }
    }
    let (code, hook, _) = plugin(&["completion", "kubectl-plugin"]);
    assert_eq!(code, Some(0));
    assert!(hook.starts_with("#!/bin/sh\n"), "{hook}");
    assert!(
        hook.contains("exec kubectl-cicd __complete \"$@\""),
        "{hook}"
    );

    let (code, _, err) = plugin(&["completion", "tcsh"]);
    assert_eq!(code, Some(2), "{err}");
}

/// The bash script, sourced into bash, completes `kubectl-cicd WORDS<TAB>`.
#[cfg(unix)]
#[test]
fn bash_completion_completes_commands_flags_and_values() {
    if Command::new("bash").arg("-c").arg("true").output().is_err() {
        eprintln!("no bash: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("kubectl-cicd.bash");
    let (_, text, _) = plugin(&["completion", "bash"]);
    std::fs::write(&script, text).unwrap();
    let complete = |words: &[&str]| -> Vec<String> {
        // What bash does on TAB: COMP_WORDS, COMP_CWORD, then the function with
        // (command, word being completed, word before it).
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let program = format!(
            "source '{}'\n\
             COMP_WORDS=(kubectl-cicd {})\n\
             COMP_CWORD={}\n\
             fn=$(complete -p kubectl-cicd | sed 's/.*-F \\([^ ]*\\) .*/\\1/')\n\
             \"$fn\" kubectl-cicd '{}' '{}'\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            quoted.join(" "),
            words.len(),
            words.last().unwrap(),
            if words.len() > 1 {
                words[words.len() - 2]
            } else {
                "kubectl-cicd"
            },
        );
        let out = Command::new("bash")
            .arg("--norc")
            .arg("-c")
            .arg(&program)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "bash failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let subs = complete(&[""]);
    for sub in SUBCOMMANDS {
        assert!(subs.iter().any(|s| s == sub), "{sub} in {subs:?}");
    }
    assert_eq!(complete(&["ro"]), vec!["rotate"]);
    assert_eq!(complete(&["init", "--pre"]), vec!["--preset"]);
    assert_eq!(
        complete(&["audit", "-o", ""]),
        vec!["table", "json", "sarif", "markdown"]
    );
    assert_eq!(
        complete(&["-n", "shop", "rotate", "--token", "r"]),
        vec!["request"]
    );
}

/// kubectl 1.26+ completes `kubectl cicd ...` itself once `kubectl_complete-cicd` is on PATH:
/// every shell's kubectl completion asks `kubectl __complete cicd WORDS`, which runs the hook.
#[cfg(unix)]
/// README's install puts the plugin in a folder of its own (~/.cargo/bin, krew's bin):
/// `kubectl plugin list` finds it there and exits 0. A build folder such as target/debug on
/// PATH holds `kubectl-cicd.d` too, which kubectl warns about and exits 1 for: README says not
/// to use it, and this shows why.
#[test]
fn kubectl_plugin_list_finds_the_plugin_in_a_folder_of_its_own() {
    if !common::kubectl_wanted() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let own = tempfile::tempdir().unwrap();
    let plugin_path = own.path().join("kubectl-cicd");
    std::fs::copy(binary(), &plugin_path).unwrap();
    std::fs::set_permissions(&plugin_path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let list = |dir: &Path| {
        let path = std::env::join_paths([dir.to_path_buf(), kubectl_dir()]).unwrap();
        Command::new("kubectl")
            .args(["plugin", "list"])
            .env("PATH", &path)
            .env("HOME", dir)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("kubectl runs")
    };
    let out = list(own.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&plugin_path.display().to_string()),
        "{stdout}"
    );

    let build = tempfile::tempdir().unwrap();
    std::fs::copy(&plugin_path, build.path().join("kubectl-cicd")).unwrap();
    std::fs::write(build.path().join("kubectl-cicd.d"), "dependency list\n").unwrap();
    let out = list(build.path());
    assert_eq!(
        out.status.code(),
        Some(1),
        "a build folder makes kubectl warn"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("kubectl-cicd.d"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kubectl_completes_kubectl_cicd_through_the_hook() {
    if !common::kubectl_wanted() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(binary(), dir.path().join("kubectl-cicd")).unwrap();
    let (_, hook, _) = plugin(&["completion", "kubectl-plugin"]);
    let hook_path = dir.path().join("kubectl_complete-cicd");
    std::fs::write(&hook_path, hook).unwrap();
    for file in ["kubectl-cicd", "kubectl_complete-cicd"] {
        std::fs::set_permissions(
            dir.path().join(file),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let path = std::env::join_paths([dir.path().to_path_buf(), kubectl_dir()]).unwrap();
    let complete = |words: &[&str]| -> (Vec<String>, String) {
        let out = Command::new("kubectl")
            .arg("__complete")
            .args(words)
            .env("PATH", &path)
            .env("HOME", dir.path())
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("kubectl runs");
        assert!(out.status.success(), "kubectl __complete {words:?}");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut values: Vec<String> = stdout
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect();
        let directive = values.pop().unwrap_or_default();
        (values, directive)
    };

    // kubectl offers the plugin, then asks the hook for the rest.
    let (values, _) = complete(&["ci"]);
    assert!(values.iter().any(|v| v == "cicd"), "{values:?}");
    let (values, directive) = complete(&["cicd", ""]);
    for sub in SUBCOMMANDS {
        assert!(values.iter().any(|v| v == sub), "{sub} in {values:?}");
    }
    assert_eq!(directive, ":4", "no file names where a command is expected");
    let (values, _) = complete(&["cicd", "audit", "--fail-on", ""]);
    assert_eq!(values, ["critical", "high", "medium", "low", "none"]);
    let (values, _) = complete(&["cicd", "init", "-n", "shop", "--tok"]);
    assert_eq!(values, ["--token", "--token-duration"]);
    // A path: the shell's file completion (directive 0).
    let (values, directive) = complete(&["cicd", "rotate", "ci-cd", "--output", ""]);
    assert!(values.is_empty(), "{values:?}");
    assert_eq!(directive, ":0");
}
