//! `kubectl-cicd`: run as `kubectl cicd ...` once on PATH.

use std::process::ExitCode;

use clap::Parser;

use kubectl_cicd::cli::{Cli, Command};
use kubectl_cicd::error::Error;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    if let Command::Audit(flags) = &cli.command {
        // audit: 0 clean, 1 findings at or above --fail-on, 2 could not audit (any error).
        return match runtime.block_on(kubectl_cicd::audit::run(&cli.global, flags)) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(kubectl_cicd::audit::EXIT_CANNOT_AUDIT)
            }
        };
    }
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Init(flags) => kubectl_cicd::init::run(&cli.global, flags).await,
            Command::Audit(_) => unreachable!("audit returned above"),
            Command::List(flags) => kubectl_cicd::lifecycle::list::run(&cli.global, flags).await,
            Command::Rotate(flags) => {
                kubectl_cicd::lifecycle::rotate::run(&cli.global, flags).await
            }
            Command::Delete(flags) => {
                kubectl_cicd::lifecycle::delete::run(&cli.global, flags).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Cancelled) => {
            eprintln!("{}", Error::Cancelled);
            ExitCode::from(Error::Cancelled.exit_code())
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
