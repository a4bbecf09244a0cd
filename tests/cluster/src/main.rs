//! `cicd-cluster`: run a real control plane (etcd, kube-apiserver, kube-controller-manager),
//! or run a command against one. The same contract as `cicd-sandbox serve|run`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use cicd_cluster::{Cluster, Options};

#[derive(Parser)]
#[command(
    name = "cicd-cluster",
    version,
    about = "A real Kubernetes control plane (kube-apiserver 1.37, kube-controller-manager, etcd) for kubectl-cicd's tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the control-plane binary from the Go modules if its sources changed, and print its
    /// path (the first build takes several minutes; later ones reuse it).
    Build,
    /// Serve until Ctrl-C, writing admin/alice/bob kubeconfigs into --dir.
    Serve {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Start the control plane, run CMD with KUBECONFIG pointing at a user's kubeconfig, then
    /// stop. Exits with CMD's exit code.
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
    /// Folder for the kubeconfigs, certificates, logs and etcd's data (default: a new
    /// temporary folder, removed at exit).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Multi-document YAML of objects to apply as the administrator before serving (CRDs
    /// before their objects).
    #[arg(long = "seed", value_name = "FILE")]
    seeds: Vec<PathBuf>,
    /// Cap TokenRequest expiry in seconds, as --service-account-max-token-expiration.
    #[arg(long, value_name = "SECONDS")]
    max_token_expiration: Option<u64>,
}

fn start(args: &ServerArgs) -> Result<Cluster, String> {
    let mut options = Options {
        dir: args.dir.clone(),
        max_token_expiration: args.max_token_expiration.map(Duration::from_secs),
        ..Options::default()
    };
    options.seed_objects = cicd_sandbox::seed::read_files(&args.seeds)?;
    let cluster = Cluster::start(options)?;
    cluster.write_kubeconfigs(cluster.dir()).map_err(|e| {
        format!(
            "cannot write kubeconfigs into {}: {e}",
            cluster.dir().display()
        )
    })?;
    Ok(cluster)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build => cicd_cluster::binary::ensure_built().map(|path| {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }),
        Command::Serve { server } => serve(&server),
        Command::Run {
            server,
            user,
            command,
        } => run(&server, &user, &command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cicd-cluster: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: &ServerArgs) -> Result<ExitCode, String> {
    let cluster = start(args)?;
    let dir = cluster.dir().display().to_string();
    println!(
        "cicd-cluster is serving at {} (started in {:.1} s)",
        cluster.url(),
        cluster.started_in().as_secs_f64()
    );
    let memory: Vec<String> = cluster
        .resident_kb()
        .iter()
        .map(|(part, kb)| format!("{part} {} MB", kb / 1024))
        .collect();
    println!("resident memory: {}", memory.join(", "));
    println!("kubeconfigs in {dir}:");
    println!("  admin.kubeconfig  cluster administrator (system:masters), namespace demo");
    println!("  alice.kubeconfig  admin of namespace team-a");
    println!(
        "  bob.kubeconfig    deployments and services in team-a, may write roles and rolebindings"
    );
    println!("audit log (the request log): {dir}/audit.log");
    println!();
    println!("try:  KUBECONFIG={dir}/alice.kubeconfig kubectl auth can-i --list");
    println!("stop with Ctrl-C");
    cluster.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    drop(cluster);
    Ok(ExitCode::SUCCESS)
}

fn run(args: &ServerArgs, user: &str, command: &[String]) -> Result<ExitCode, String> {
    let cluster = start(args)?;
    let kubeconfig = cluster.dir().join(format!("{user}.kubeconfig"));
    let mut child = std::process::Command::new(&command[0])
        .args(&command[1..])
        .env("KUBECONFIG", &kubeconfig)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", command[0]))?;
    // Ctrl-C reaches the command too (same process group); wait for it to finish, then stop.
    let status = cluster.block_on(async {
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Ok(status);
            }
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    });
    drop(cluster);
    let status: std::process::ExitStatus =
        status.map_err(|e: std::io::Error| format!("waiting for {}: {e}", command[0]))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}
