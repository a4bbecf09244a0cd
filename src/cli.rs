//! Command-line interface: kubectl-style global flags and the subcommands.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kubectl cicd: least-privilege CI/CD access to a Kubernetes namespace.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl cicd",
    bin_name = "kubectl cicd",
    version,
    about = "Least-privilege CI/CD access to a Kubernetes namespace",
    long_about = "Create a least-privilege identity for a CI/CD pipeline (ServiceAccount, Role, RoleBinding, token) \
                  and write the kubeconfig the pipeline deploys with."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// The flags every kubectl command understands.
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalFlags {
    /// Path to the kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace (default: the context's namespace, else "default").
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a least-privilege ServiceAccount, Role and RoleBinding for a pipeline and write its kubeconfig.
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitFlags),
}

const INIT_EXAMPLES: &str = "Examples:
  # Walk through it interactively in the current context and namespace
  kubectl cicd init

  # The same without questions: a web app's deployment identity in namespace shop
  kubectl cicd init -n shop --preset web-app --yes

  # Choose kinds yourself, read-only access to configmaps, a one-month TokenRequest token
  kubectl cicd init --kinds deployments.apps,services --read-only-kinds configmaps --token request --token-duration 720h --yes

  # Print the objects instead of creating them
  kubectl cicd init --preset helm --allow-risky --dry-run | kubectl apply -f -";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresetName {
    /// deployments, services, ingresses, horizontalpodautoscalers, configmaps
    WebApp,
    /// web-app plus secrets (Helm release storage) and replicasets
    Helm,
    /// exactly the Welkin user demo's ci-cd Role
    WelkinDemo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenKind {
    /// A long-lived token in a kubernetes.io/service-account-token Secret, revoked by deleting the Secret.
    Secret,
    /// A time-bound token from the TokenRequest API (see --token-duration).
    Request,
}

#[derive(Debug, Clone, Args)]
pub struct InitFlags {
    /// Name of the ServiceAccount, Role and RoleBinding.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Pre-select the kinds of a preset.
    #[arg(long, value_enum)]
    pub preset: Option<PresetName>,
    /// Kinds to grant, as kubectl names them (deployments.apps, Deployment, deploy), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub kinds: Vec<String>,
    /// Verbs granted on --kinds (default: get,list,watch,create,update,patch,delete).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub verbs: Vec<String>,
    /// Kinds granted get, list and watch only.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub read_only_kinds: Vec<String>,
    /// How the pipeline's token is made.
    #[arg(long, value_enum)]
    pub token: Option<TokenKind>,
    /// Lifetime of a --token request token, e.g. 720h, 90m (the server may cap it; at least 10m).
    #[arg(long, value_parser = parse_go_duration, value_name = "DURATION")]
    pub token_duration: Option<Duration>,
    /// Where to write the pipeline's kubeconfig.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// API server URL to put into the kubeconfig, when the pipeline reaches the cluster by another address.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Allow risky permissions (secrets, pods/exec, tokens, RBAC writes, wildcards).
    #[arg(long)]
    pub allow_risky: bool,
    /// Print the ServiceAccount, Role and RoleBinding as YAML and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Answer yes to every question; fail instead of asking for anything a flag did not give.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Go's `time.ParseDuration` subset kubectl users know: `720h`, `1h30m`, `90m`, `3600s`.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "'{text}' is not a duration: use a number with a unit, e.g. 720h, 1h30m, 90m or 3600s"
        )
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(bad()),
        };
        total += value * seconds;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn go_durations_parse() {
        assert_eq!(
            parse_go_duration("720h"),
            Ok(Duration::from_secs(720 * 3600))
        );
        assert_eq!(parse_go_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("600s"), Ok(Duration::from_secs(600)));
        assert!(parse_go_duration("10").is_err());
        assert!(parse_go_duration("1d").is_err());
        assert!(parse_go_duration("").is_err());
    }

    #[test]
    fn the_cli_is_well_formed_and_speaks_as_kubectl_cicd() {
        Cli::command().debug_assert();
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("Usage: kubectl cicd"), "{help}");
        assert!(help.contains("init"), "{help}");
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "kubectl-cicd",
            "init",
            "-n",
            "shop",
            "--context",
            "prod",
            "--kinds",
            "deploy,svc",
        ])
        .unwrap();
        assert_eq!(cli.global.namespace.as_deref(), Some("shop"));
        assert_eq!(cli.global.context.as_deref(), Some("prod"));
        let Command::Init(flags) = cli.command;
        assert_eq!(flags.kinds, vec!["deploy", "svc"]);
    }
}
