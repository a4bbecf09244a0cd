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
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Init(flags) => kubectl_cicd::init::run(&cli.global, flags).await,
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
