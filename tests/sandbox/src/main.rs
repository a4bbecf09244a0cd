//! `cicd-sandbox`: run the sandbox API server, or run a command against it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use cicd_sandbox::{Config, Sandbox};

#[derive(Parser)]
#[command(
    name = "cicd-sandbox",
    version,
    about = "A Kubernetes-compatible RBAC API server for kubectl-cicd's tests and demos"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve until Ctrl-C, writing admin/alice/bob kubeconfigs into --dir.
    Serve {
        #[command(flatten)]
        server: ServerArgs,
        /// Port on 127.0.0.1 (default: a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Start the sandbox, run CMD with KUBECONFIG pointing at a user's kubeconfig, then stop.
    /// Exits with CMD's exit code.
    Run {
        #[command(flatten)]
        server: ServerArgs,
        /// Whose kubeconfig KUBECONFIG points at: admin, alice or bob.
        #[arg(long = "as", default_value = "admin", value_parser = ["admin", "alice", "bob"])]
        user: String,
        /// The command and its arguments.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

#[derive(Args)]
struct ServerArgs {
    /// Folder for the kubeconfigs (default: a new temporary folder).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Multi-document YAML of objects to create as the administrator before serving.
    #[arg(long = "seed", value_name = "FILE")]
    seeds: Vec<PathBuf>,
    /// Answer only legacy discovery, as servers before 1.26 do.
    #[arg(long)]
    no_aggregated_discovery: bool,
    /// How long the token controller waits before filling a token Secret (e.g. 1s, 500ms).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    token_controller_delay: Duration,
    /// Cap TokenRequest expiry (e.g. 1h), as --service-account-max-token-expiration does.
    #[arg(long, value_parser = parse_duration)]
    max_token_expiration: Option<Duration>,
    /// How long a deleted namespace stays Terminating before it and its objects are gone (e.g. 2s).
    #[arg(long, value_parser = parse_duration, default_value = "500ms")]
    namespace_deletion_delay: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 500ms, 10s, 5m or 1h"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(format!("'{s}' is not a duration like 500ms, 10s, 5m or 1h")),
    })
}

fn start(args: &ServerArgs, port: u16) -> Result<(Sandbox, PathBuf), String> {
    let mut config = Config {
        port,
        aggregated_discovery: !args.no_aggregated_discovery,
        token_controller_delay: args.token_controller_delay,
        max_token_expiration: args.max_token_expiration,
        namespace_deletion_delay: args.namespace_deletion_delay,
        ..Config::default()
    };
    config.seed_objects = cicd_sandbox::seed::read_files(&args.seeds)?;
    let sandbox = Sandbox::start(config)?;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("cicd-sandbox-{}", std::process::id())),
    };
    sandbox
        .write_kubeconfigs(&dir)
        .map_err(|e| format!("cannot write kubeconfigs into {}: {e}", dir.display()))?;
    Ok((sandbox, dir))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { server, port } => serve(&server, port),
        Command::Run {
            server,
            user,
            command,
        } => run(&server, &user, &command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cicd-sandbox: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: &ServerArgs, port: u16) -> Result<ExitCode, String> {
    let (sandbox, dir) = start(args, port)?;
    println!("cicd-sandbox is serving at {}", sandbox.url());
    println!("kubeconfigs in {}:", dir.display());
    println!("  admin.kubeconfig  cluster administrator (system:masters), namespace demo");
    println!("  alice.kubeconfig  admin of namespace team-a");
    println!(
        "  bob.kubeconfig    deployments and services in team-a, may write roles and rolebindings"
    );
    println!();
    println!(
        "try:  KUBECONFIG={}/alice.kubeconfig kubectl auth can-i --list",
        dir.display()
    );
    println!("stop with Ctrl-C");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    drop(sandbox);
    Ok(ExitCode::SUCCESS)
}

fn run(args: &ServerArgs, user: &str, command: &[String]) -> Result<ExitCode, String> {
    let (sandbox, dir) = start(args, 0)?;
    let kubeconfig = dir.join(format!("{user}.kubeconfig"));
    let here = std::env::current_dir().ok();
    let before = here.as_deref().map(file_names).unwrap_or_default();
    let url = sandbox.url().to_string();
    let status = std::process::Command::new(&command[0])
        .args(&command[1..])
        .env("KUBECONFIG", &kubeconfig)
        .env("CICD_SANDBOX_DIR", &dir)
        .env("CICD_SANDBOX_URL", sandbox.url())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", command[0]))?;
    drop(sandbox);
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
        if let Some(here) = &here {
            remove_dead_kubeconfigs(here, &before, &url);
        }
    }
    Ok(match status.code() {
        Some(c) => ExitCode::from(c.clamp(0, 255) as u8),
        None => ExitCode::from(1),
    })
}

fn file_names(dir: &std::path::Path) -> std::collections::BTreeSet<std::ffi::OsString> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default()
}

/// Removes the kubeconfigs the command wrote into the working directory for this sandbox
/// (`kubeconfig_ci_cd.yaml` of the README's demo): they point at a server that is gone, and
/// would make the next `init` refuse to overwrite them. Only files that did not exist before
/// the command and that name the sandbox's address, each said on stderr.
fn remove_dead_kubeconfigs(
    dir: &std::path::Path,
    before: &std::collections::BTreeSet<std::ffi::OsString>,
    url: &str,
) {
    for name in file_names(dir).difference(before) {
        let path = dir.join(name);
        let small =
            std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() < 1024 * 1024);
        if !small {
            continue;
        }
        let points_here = std::fs::read_to_string(&path)
            .is_ok_and(|text| text.contains("apiVersion: v1") && text.contains(url));
        if points_here && std::fs::remove_file(&path).is_ok() {
            eprintln!(
                "cicd-sandbox: removed {}: a kubeconfig for this sandbox, which has stopped",
                path.display()
            );
        }
    }
}
