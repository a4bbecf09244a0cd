//! Exec credential plugins, run through kubectl-cicd itself so that a token no HTTP header can
//! carry is refused with a message instead of crashing the run.
//!
//! kube runs the plugin while it builds the client and, for a token without an expiry, hands
//! it to a header constructor that panics on a line break or DEL. So the context's exec entry
//! is rewritten to run this binary with [`GUARD_ARG`], which runs the real plugin with the same
//! arguments, environment (`KUBERNETES_EXEC_INFO` included), stdin and stderr, checks the
//! token in its answer and passes the answer on unchanged, or fails with a reason on stderr
//! (which kube reports as the plugin's failure).

use std::ffi::OsString;
use std::io::Write as _;
use std::process::{Command, ExitCode, Stdio};

use kube::config::ExecConfig;

/// The hidden first argument that makes `kubectl-cicd` the guard of a plugin.
pub const GUARD_ARG: &str = "__exec-credential-guard";

/// Makes `exec` run its plugin through the guard. Leaves it alone when this process is not
/// the kubectl-cicd binary (a program using the library) or its path is unknown: the plugin
/// then runs directly.
pub fn wrap(exec: &mut ExecConfig) {
    let me = std::env::current_exe()
        .ok()
        .filter(|p| p.file_stem().is_some_and(|s| s == env!("CARGO_PKG_NAME")));
    if let (Some(me), Some(command)) = (me, exec.command.clone()) {
        wrap_with(exec, &me.to_string_lossy(), command);
    }
}

fn wrap_with(exec: &mut ExecConfig, me: &str, command: String) {
    let mut args = vec![GUARD_ARG.to_string(), command];
    args.extend(exec.args.clone().unwrap_or_default());
    exec.command = Some(me.to_string());
    exec.args = Some(args);
}

/// The guard process: `args` are the plugin's command and arguments.
pub fn run(mut args: impl Iterator<Item = OsString>) -> ExitCode {
    let Some(command) = args.next() else {
        eprintln!("{GUARD_ARG}: no plugin command given");
        return ExitCode::from(2);
    };
    let shown = command.to_string_lossy().into_owned();
    let output = Command::new(&command)
        .args(args)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "the exec plugin `{shown}` could not be started: {e} (is it installed and on PATH?)"
            );
            return ExitCode::from(127);
        }
    };
    if !output.status.success() {
        return ExitCode::from(output.status.code().unwrap_or(1).clamp(1, 255) as u8);
    }
    if !answer_is_sendable(&output.stdout) {
        eprintln!(
            "the token the exec plugin `{shown}` returned contains a line break or another control character, \
             so it cannot be sent: log in again, or fix the plugin"
        );
        return ExitCode::from(1);
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(&output.stdout)
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}

/// Whether the ExecCredential's `status.token`, if any, can go into a header. An answer that
/// is not JSON passes: kube reports that itself.
fn answer_is_sendable(stdout: &[u8]) -> bool {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(stdout) else {
        return true;
    };
    match answer.pointer("/status/token") {
        Some(serde_json::Value::String(token)) => crate::kubeconfig::token_is_sendable(token),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_with_line_breaks_or_del_are_caught() {
        let ok = br#"{"status":{"token":"abc.def"}}"#;
        assert!(answer_is_sendable(ok));
        for bad in ["abc\r\n", "a\nb", "ab\u{7f}"] {
            let json = serde_json::json!({"status": {"token": bad}}).to_string();
            assert!(!answer_is_sendable(json.as_bytes()), "{bad:?}");
        }
        assert!(answer_is_sendable(b"not json"));
    }

    #[test]
    fn the_plugin_runs_behind_the_guard_with_its_arguments() {
        let mut exec: ExecConfig = serde_json::from_value(serde_json::json!({
            "command": "kubelogin",
            "args": ["get-token"],
        }))
        .expect("an exec entry");
        wrap_with(&mut exec, "/usr/bin/kubectl-cicd", "kubelogin".into());
        assert_eq!(
            exec.args.as_deref(),
            Some(
                &[
                    GUARD_ARG.to_string(),
                    "kubelogin".into(),
                    "get-token".into()
                ][..]
            )
        );
        assert_eq!(exec.command.as_deref(), Some("/usr/bin/kubectl-cicd"));
    }
}
