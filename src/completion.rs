//! Shell completion, two ways:
//!
//! - `kubectl cicd completion bash|zsh|fish|powershell`: clap_complete's script for the
//!   `kubectl-cicd` command, for running the binary by its own name.
//! - `kubectl cicd completion kubectl-plugin`: the `kubectl_complete-cicd` hook. kubectl 1.26 and
//!   newer complete `kubectl cicd ...` in every shell kubectl completes: for a plugin `cicd`,
//!   kubectl's completion runs the executable `kubectl_complete-cicd` found on PATH with the
//!   words after `kubectl cicd` (the last one is the word being completed, possibly empty) and
//!   reads one candidate per line, `value<TAB>description`, optionally closed by a line
//!   `:<directive>` (Cobra's ShellCompDirective). The hook runs `kubectl-cicd __complete`, which
//!   answers from the same clap definition as `--help` ([`kubectl_answers`]).

use std::io::Write;

use clap::{Arg, ArgAction, Command, CommandFactory};
use clap_complete::Shell;

use crate::cli::{Cli, CompletionShell};

/// The name the standalone scripts complete: the binary as PATH has it.
pub const BINARY: &str = "kubectl-cicd";

/// The name the bash script is generated for (see [`write_script`]).
const BASH_NAME: &str = "kubectl_cicd";

/// The hidden first argument the `kubectl_complete-cicd` hook calls the binary with.
pub const COMPLETE_ARG: &str = "__complete";

/// The `kubectl_complete-cicd` hook.
pub const KUBECTL_PLUGIN_HOOK: &str = "#!/bin/sh
# kubectl_complete-cicd: kubectl (1.26 or newer) runs this to complete `kubectl cicd ...`,
# with the words after `kubectl cicd`, the last being the one to complete.
# Made by `kubectl cicd completion kubectl-plugin`; keep it on PATH, next to kubectl-cicd.
exec kubectl-cicd __complete \"$@\"
";

// Cobra's ShellCompDirective values (spf13/cobra completions.go).
/// Let the shell complete file names when no candidate is given.
const DIRECTIVE_DEFAULT: u32 = 0;
/// Do not add a space after the candidate (a `--flag=` prefix is being completed).
const DIRECTIVE_NO_SPACE: u32 = 2;
/// Offer no file names.
const DIRECTIVE_NO_FILE_COMP: u32 = 4;

/// Writes the script for `shell` to `out`.
pub fn write_script(shell: CompletionShell, out: &mut dyn Write) -> std::io::Result<()> {
    let shell = match shell {
        CompletionShell::KubectlPlugin => return out.write_all(KUBECTL_PLUGIN_HOOK.as_bytes()),
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    if shell == Shell::Bash {
        // clap_complete's bash script never matches a subcommand's options when the binary's
        // name has a hyphen (clap-rs/clap#6421): generate it for `kubectl_cicd` and register
        // the function for `kubectl-cicd` (the script uses the name nowhere else; the words
        // typed are matched through "$1").
        let mut cmd = Cli::command().name(BASH_NAME);
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, BASH_NAME, &mut buf);
        let script = String::from_utf8_lossy(&buf)
            .replace(&format!(" {BASH_NAME}\n"), &format!(" {BINARY}\n"));
        return out.write_all(script.as_bytes());
    }
    // Named as the binary: clap_complete derives the scripts' function names from the
    // command's name, which must not hold a space ("kubectl cicd").
    let mut cmd = Cli::command().name(BINARY);
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, BINARY, &mut buf);
    out.write_all(&buf)
}

/// What `kubectl cicd <words> <to_complete><TAB>` may become: the lines kubectl's plugin
/// completion reads (candidates, then `:<directive>`). `words` are the arguments after
/// `kubectl cicd`; the last one is the word being completed (kubectl passes an empty one for a
/// new word).
pub fn kubectl_answers(words: &[String]) -> Vec<String> {
    let (to_complete, before) = match words.split_last() {
        Some((last, before)) => (last.as_str(), before),
        None => ("", &[][..]),
    };
    let mut root = Cli::command();
    root.build();
    let mut cmd = &root;
    let mut used: Vec<String> = Vec::new();
    // The flag whose value the next word is.
    let mut pending: Option<&Arg> = None;
    let mut positionals = 0usize;
    let mut only_positionals = false;
    for word in before {
        if pending.take().is_some() {
            continue;
        }
        if only_positionals {
            positionals += 1;
            continue;
        }
        if word == "--" {
            only_positionals = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, _)) => (name, true),
                None => (long, false),
            };
            if let Some(arg) = find_long(cmd, name) {
                used.push(arg.get_id().to_string());
                if takes_value(arg) && !inline {
                    pending = Some(arg);
                }
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            // A cluster such as -Ay, or -nshop (value attached), or -n (value next).
            for (i, c) in shorts.char_indices() {
                let Some(arg) = cmd.get_arguments().find(|a| a.get_short() == Some(c)) else {
                    break;
                };
                used.push(arg.get_id().to_string());
                if takes_value(arg) {
                    if i + c.len_utf8() == shorts.len() {
                        pending = Some(arg);
                    }
                    break;
                }
            }
        } else if positionals == 0
            && let Some(sub) = cmd.find_subcommand(word)
        {
            cmd = sub;
            used.clear();
        } else {
            positionals += 1;
        }
    }

    let mut lines = Vec::new();
    let directive = if let Some(arg) = pending {
        value_candidates(arg, "", to_complete, &mut lines)
    } else if let Some((name, value)) = to_complete
        .strip_prefix("--")
        .and_then(|l| l.split_once('='))
    {
        match find_long(cmd, name).filter(|a| takes_value(a)) {
            Some(arg) => value_candidates(arg, &format!("--{name}="), value, &mut lines),
            None => DIRECTIVE_NO_FILE_COMP,
        }
    } else if to_complete.starts_with('-') && !only_positionals {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let repeatable = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
            if used.iter().any(|u| u == arg.get_id().as_str()) && !repeatable {
                continue;
            }
            let help = first_line(arg.get_help().map(|h| h.to_string()));
            if let Some(long) = arg.get_long() {
                push(&mut lines, &format!("--{long}"), &help, to_complete);
            }
            if let Some(short) = arg.get_short() {
                push(&mut lines, &format!("-{short}"), &help, to_complete);
            }
        }
        DIRECTIVE_NO_FILE_COMP
    } else {
        if positionals == 0 && cmd.has_subcommands() {
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let about = first_line(sub.get_about().map(|h| h.to_string()));
                push(&mut lines, sub.get_name(), &about, to_complete);
            }
        }
        // A positional with known values (completion's SHELL); identity names (rotate,
        // delete) would need the cluster, so they are not offered.
        match cmd.get_positionals().nth(positionals) {
            Some(arg) if !arg.get_possible_values().is_empty() => {
                value_candidates(arg, "", to_complete, &mut lines)
            }
            _ => DIRECTIVE_NO_FILE_COMP,
        }
    };
    lines.push(format!(":{directive}"));
    lines
}

fn find_long<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| a.get_long() == Some(name))
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

/// Candidates for the value of `arg`; returns the directive.
fn value_candidates(arg: &Arg, prefix: &str, typed: &str, lines: &mut Vec<String>) -> u32 {
    let values = arg.get_possible_values();
    if !values.is_empty() {
        for value in values.iter().filter(|v| !v.is_hide_set()) {
            let help = first_line(value.get_help().map(|h| h.to_string()));
            push(
                lines,
                &format!("{prefix}{}", value.get_name()),
                &help,
                &format!("{prefix}{typed}"),
            );
        }
        return if prefix.is_empty() {
            DIRECTIVE_NO_FILE_COMP
        } else {
            DIRECTIVE_NO_FILE_COMP | DIRECTIVE_NO_SPACE
        };
    }
    // Paths (--kubeconfig, --output, --audit-log) are left to the shell's file completion.
    let is_path = arg
        .get_value_names()
        .is_some_and(|names| names.iter().any(|n| matches!(n.as_str(), "PATH" | "FILE")));
    if is_path && prefix.is_empty() {
        DIRECTIVE_DEFAULT
    } else {
        DIRECTIVE_NO_FILE_COMP
    }
}

fn push(lines: &mut Vec<String>, value: &str, help: &str, typed: &str) {
    if !value.starts_with(typed) {
        return;
    }
    if help.is_empty() {
        lines.push(value.to_string());
    } else {
        lines.push(format!("{value}\t{help}"));
    }
}

/// The first line of a help text, without a closing full stop, on one line.
fn first_line(help: Option<String>) -> String {
    let help = help.unwrap_or_default();
    let line = help.lines().next().unwrap_or("").trim();
    line.strip_suffix('.').unwrap_or(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(words: &[&str]) -> Vec<String> {
        kubectl_answers(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>())
    }

    fn values(lines: &[String]) -> Vec<&str> {
        lines
            .iter()
            .filter(|l| !l.starts_with(':'))
            .map(|l| l.split('\t').next().unwrap())
            .collect()
    }

    #[test]
    fn a_new_word_offers_the_subcommands() {
        let lines = answers(&[""]);
        let got = values(&lines);
        for sub in [
            "init",
            "audit",
            "list",
            "rotate",
            "delete",
            "tighten",
            "completion",
        ] {
            assert!(got.contains(&sub), "{sub} in {lines:?}");
        }
        assert_eq!(lines.last().unwrap(), ":4");
        assert_eq!(values(&answers(&["ro"])), vec!["rotate"]);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("init\tCreate a least-privilege"))
        );
    }

    #[test]
    fn flags_of_the_subcommand_and_the_global_ones() {
        let got = answers(&["init", "--p"]);
        assert_eq!(values(&got), vec!["--preset"]);
        let got = answers(&["-n", "shop", "audit", "-"]);
        let v = values(&got);
        for flag in [
            "--all-namespaces",
            "-A",
            "--fail-on",
            "--kubeconfig",
            "--context",
        ] {
            assert!(v.contains(&flag), "{flag} in {got:?}");
        }
        // A flag given once is not offered again; a repeatable one is.
        let v = answers(&["audit", "--fail-on", "low", "--ignore", "x", "--"]);
        assert!(!values(&v).contains(&"--fail-on"), "{v:?}");
        assert!(values(&v).contains(&"--ignore"), "{v:?}");
    }

    #[test]
    fn values_of_enum_flags_and_files_for_paths() {
        assert_eq!(
            values(&answers(&["audit", "-o", ""])),
            vec!["table", "json", "sarif", "markdown"]
        );
        assert_eq!(
            values(&answers(&["init", "--preset", "w"])),
            vec!["web-app", "welkin-demo"]
        );
        let got = answers(&["list", "--output=j"]);
        assert_eq!(got, vec!["--output=json\tEvery field, for scripts", ":6"]);
        let got = answers(&["init", "--kubeconfig", ""]);
        assert_eq!(got, vec![":0"], "the shell completes file names");
        let got = answers(&["tighten", "ci-cd", "--audit-log", ""]);
        assert_eq!(got, vec![":0"], "audit logs are files too");
        let got = answers(&["completion", ""]);
        assert_eq!(
            values(&got),
            vec!["bash", "zsh", "fish", "powershell", "kubectl-plugin"]
        );
    }

    #[test]
    fn nothing_for_identity_names_and_free_text() {
        assert_eq!(answers(&["rotate", ""]), vec![":4"]);
        assert_eq!(answers(&["delete", "ci-cd", ""]), vec![":4"]);
        assert_eq!(answers(&["init", "--name", ""]), vec![":4"]);
    }
}
