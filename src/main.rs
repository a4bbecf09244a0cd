//! `kubectl-cicd`: run as `kubectl cicd ...` once on PATH.

use std::process::ExitCode;

use clap::Parser;

use kubectl_cicd::cli::{Cli, Command};
use kubectl_cicd::error::{Error, exit};
use kubectl_cicd::text::printable;

fn main() -> ExitCode {
    // kubectl's plugin completion, through the kubectl_complete-cicd hook: not a command.
    let mut args = std::env::args_os().skip(1);
    let first = args.next();
    // The guard between kube and an exec credential plugin (see exec_guard): not a command.
    if first
        .as_ref()
        .is_some_and(|a| a == kubectl_cicd::exec_guard::GUARD_ARG)
    {
        return kubectl_cicd::exec_guard::run(args);
    }
    if first.is_some_and(|a| a == kubectl_cicd::completion::COMPLETE_ARG) {
        let words: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
        for line in kubectl_cicd::completion::kubectl_answers(&words) {
            println!("{line}");
        }
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    runtime.block_on(async {
        let global = &cli.global;
        match &cli.command {
            // audit's exit codes gate pipelines: any error is exit::USAGE ("could not audit").
            Command::Audit(flags) => match kubectl_cicd::audit::run(global, flags).await {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!(
                        "{}",
                        kubectl_cicd::ui::fit_to_stderr(&format!(
                            "error: {}",
                            printable(&e.to_string())
                        ))
                    );
                    ExitCode::from(exit::USAGE)
                }
            },
            Command::Init(flags) => finish(kubectl_cicd::init::run(global, flags).await),
            Command::List(flags) => finish(kubectl_cicd::lifecycle::list::run(global, flags).await),
            Command::Rotate(flags) => {
                finish(kubectl_cicd::lifecycle::rotate::run(global, flags).await)
            }
            Command::Delete(flags) => {
                finish(kubectl_cicd::lifecycle::delete::run(global, flags).await)
            }
            Command::Tighten(flags) => finish(kubectl_cicd::tighten::run(global, flags).await),
            Command::Argocd(command) => finish(kubectl_cicd::argocd::run(global, command).await),
            Command::Completion(flags) => print_completion(flags),
            Command::Version(flags) => {
                use clap::CommandFactory;
                let line = Cli::command().render_version();
                kubectl_cicd::version::run(global, flags, &line).await;
                ExitCode::SUCCESS
            }
        }
    })
}

fn print_completion(flags: &kubectl_cicd::cli::CompletionFlags) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match kubectl_cicd::completion::write_script(flags.shell, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the completion script: {e}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// Prints the error, if any, and gives the exit code it calls for.
fn finish(result: Result<(), Error>) -> ExitCode {
    if let Err(e) = &result
        && matches!(e.exit_code(), 130 | 143)
    {
        // A prompt or spinner stopped half-way leaves the cursor hidden.
        kubectl_cicd::interrupt::restore_terminal();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Cancelled) => {
            eprintln!("{}", Error::Cancelled);
            ExitCode::from(Error::Cancelled.exit_code())
        }
        Err(e) => {
            // Messages may quote the cluster (names, the server's own text).
            eprintln!(
                "{}",
                kubectl_cicd::ui::fit_to_stderr(&format!("error: {}", printable(&e.to_string())))
            );
            ExitCode::from(e.exit_code())
        }
    }
}
