//! Command-line interface: kubectl-style global flags and the subcommands.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::audit::exceptions::{Ignore, parse_ignore};
use crate::auditlog::Source;
use crate::names::parse_name;

/// kubectl cicd: least-privilege CI/CD access to a Kubernetes namespace.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl cicd",
    bin_name = "kubectl cicd",
    version,
    about = "Least-privilege CI/CD access to a Kubernetes namespace",
    long_about = "Create a least-privilege identity for a CI/CD pipeline (ServiceAccount, Role, RoleBinding, token) \
                  and write the kubeconfig the pipeline deploys with; audit who can change what in a cluster.",
    after_help = crate::error::exit::HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// The flags every kubectl command understands.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Global Options")]
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
    /// How long to wait for an answer of the API server before trying again, as kubectl takes it: 30s, 1m, 30 (seconds), or 0 for no timeout; a request gives up after that plus 20s of retries (default: 60s in all).
    #[arg(long, global = true, value_parser = parse_request_timeout, value_name = "DURATION")]
    pub request_timeout: Option<Duration>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a least-privilege ServiceAccount, Role and RoleBinding for a pipeline and write its kubeconfig.
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitFlags),
    /// Review who can change what: RBAC findings per identity, as a table, JSON, SARIF or Markdown.
    #[command(after_help = AUDIT_EXAMPLES)]
    Audit(AuditFlags),
    /// List the CI/CD identities init made: kinds granted, token, its age, expiry and last use, who made them.
    #[command(after_help = LIST_EXAMPLES)]
    List(ListFlags),
    /// Give an identity a new token: verify it, rewrite the kubeconfig, then revoke the old token.
    #[command(after_help = ROTATE_EXAMPLES)]
    Rotate(RotateFlags),
    /// Delete an identity init made: its RoleBinding, Role, token Secrets and ServiceAccount.
    #[command(after_help = DELETE_EXAMPLES)]
    Delete(DeleteFlags),
    /// Shrink an identity's Role to what its pipeline used, from the API server's audit log: a diff, then --apply.
    #[command(after_help = TIGHTEN_EXAMPLES)]
    Tighten(TightenFlags),
    /// Argo CD, namespace-scoped: install a compliant one from upstream's manifest, grant it deploy rights elsewhere.
    #[command(subcommand)]
    Argocd(ArgocdCommand),
    /// Print a shell completion script, or the hook that lets kubectl's own completion complete kubectl cicd.
    #[command(after_help = COMPLETION_EXAMPLES)]
    Completion(CompletionFlags),
    /// Print the plugin's version (the line of --version) and the API server's, when the current context answers.
    Version(VersionFlags),
}

const COMPLETION_EXAMPLES: &str = "Examples:
  # Complete `kubectl cicd ...` through kubectl's own completion (kubectl 1.26 or newer, with
  # kubectl's completion set up): put the hook next to kubectl-cicd on PATH
  dir=$(dirname \"$(command -v kubectl-cicd)\")
  kubectl cicd completion kubectl-plugin > \"$dir/kubectl_complete-cicd\"
  chmod +x \"$dir/kubectl_complete-cicd\"

  # Complete the kubectl-cicd command itself, in bash (zsh, fish and powershell alike)
  source <(kubectl cicd completion bash)

See docs/completion.md for each shell.";

/// `kubectl cicd version` flags.
#[derive(Debug, Clone, Args)]
pub struct VersionFlags {
    /// Only the plugin's version; do not ask the API server.
    #[arg(long)]
    pub client: bool,
}

/// `kubectl cicd completion` flags.
#[derive(Debug, Clone, Args)]
pub struct CompletionFlags {
    /// The shell, or kubectl-plugin for the kubectl_complete-cicd hook that kubectl calls.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// A bash script completing the kubectl-cicd command.
    Bash,
    /// A zsh script completing the kubectl-cicd command.
    Zsh,
    /// A fish script completing the kubectl-cicd command.
    Fish,
    /// A PowerShell script completing the kubectl-cicd command.
    Powershell,
    /// The executable kubectl_complete-cicd (a POSIX sh script) that kubectl 1.26+ runs to complete kubectl cicd.
    KubectlPlugin,
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

const AUDIT_EXAMPLES: &str = concat!(
    "Examples:
  # Audit the current namespace (and the cluster-wide bindings that reach into it)
  kubectl cicd audit

  # Every namespace, as JSON; exit 1 when any open finding is critical
  kubectl cicd audit -A -o json --fail-on critical > audit.json

  # SARIF for GitHub code scanning
  kubectl cicd audit -A -o sarif > audit.sarif

  # One pipeline identity: what it may do (kinds x verbs) and its findings
  kubectl cicd audit -n shop --sa ci-cd

  # A report to attach as evidence, with a documented exception
  kubectl cicd audit -o markdown --ignore secrets-read:shop/helm-deployer > audit.md

  # A pull request's manifests, before they are applied; SARIF points at file and line
  helm template my-chart ./chart > rendered.yaml
  kubectl cicd audit -f rendered.yaml -f k8s/ -o sarif > audit.sarif

  # Only what is new since an accepted report
  kubectl cicd audit -A -o json > baseline.json
  kubectl cicd audit -A --baseline baseline.json --fail-on high

  # Every cluster of the kubeconfig, four at a time
  kubectl cicd audit --all-contexts -A -o json > fleet.json

  # What CI identities' Roles grant that the API server's audit log shows no use of
  kubectl cicd audit -n shop --audit-log audit.log --audit-log audit-2026-01-05.log.gz

",
    crate::error::exit_codes_help!()
);

/// `-A`: every namespace instead of one (audit, list). It excludes `-n`; clap sees that only
/// when both follow the subcommand, and [`crate::target::Target::resolve`] checks it again.
#[derive(Debug, Clone, Args, Default)]
pub struct AllNamespacesFlag {
    /// Every namespace (audit: default is the current namespace, plus the cluster-wide bindings that reach into it).
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
}

/// `kubectl cicd audit` flags.
#[derive(Debug, Clone, Args)]
pub struct AuditFlags {
    #[command(flatten)]
    pub namespaces: AllNamespacesFlag,
    /// Show one ServiceAccount of the namespace: its effective permissions (kinds x verbs) and its findings.
    #[arg(long, value_name = "NAME", value_parser = parse_name, conflicts_with = "all_namespaces")]
    pub sa: Option<String>,
    /// Output format: table for people, json and sarif for pipelines, markdown for auditors.
    #[arg(short = 'o', long, value_enum, default_value_t = AuditFormat::Table)]
    pub output: AuditFormat,
    /// Exit 1 when an open (not accepted) finding has this severity or a higher one.
    #[arg(long, value_enum, default_value_t = FailOn::High, value_name = "SEVERITY")]
    pub fail_on: FailOn,
    /// Decide on what could be read: without it, an audit that could not list some of the RBAC
    /// objects (ClusterRoleBindings, say) exits 3 instead of 0.
    #[arg(long)]
    pub allow_gaps: bool,
    /// Accept a rule's findings, everywhere or for one object or identity; repeatable.
    ///
    /// RULE accepts every finding of the rule; RULE:NAMESPACE/NAME those about one
    /// ServiceAccount or namespaced object, RULE:NAME those about a user, group or
    /// cluster-scoped object. Accepted findings are still shown, as accepted, and never fail
    /// the run. Objects can carry the exception themselves: the annotations
    /// kubectl-cicd.io/ignore: "RULE,RULE" and kubectl-cicd.io/ignore-reason.
    #[arg(long, value_name = "RULE[:NAMESPACE/NAME]", value_parser = parse_ignore)]
    pub ignore: Vec<Ignore>,
    /// Audit the RBAC objects of files instead of a cluster (YAML or JSON, `helm template` or
    /// `kustomize build` output); a folder is read recursively, - is stdin; repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<PathBuf>,
    /// With -f: judge the files' objects together with the live cluster's (a binding in the
    /// files to a ClusterRole of the cluster is judged with its real rules).
    #[arg(long, requires = "filenames")]
    pub with_cluster: bool,
    /// Compare with an earlier `audit -o json` report: each finding is new or unchanged, and the
    /// baseline's gone ones are listed as fixed; --fail-on counts only new findings.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Audit every context of the kubeconfig, each its own cluster.
    #[arg(long, conflicts_with_all = ["contexts", "context", "filenames", "sa"])]
    pub all_contexts: bool,
    /// Audit these contexts of the kubeconfig (comma-separated), each its own cluster.
    #[arg(long, value_delimiter = ',', value_name = "NAMES", conflicts_with_all = ["context", "filenames", "sa"])]
    pub contexts: Vec<String>,
    /// With --all-contexts or --contexts: how many clusters to read at once.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// The API server's audit log (audit.k8s.io/v1 Event JSON lines, plain or gzip, - for
    /// stdin); repeatable. Reports what the Roles of CI identities grant that their requests in
    /// the log never used (unused-permission).
    #[arg(long = "audit-log", value_name = "FILE", value_parser = parse_log_source)]
    pub audit_logs: Vec<Source>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Findings grouped by identity, with why and how to fix each.
    Table,
    /// The report as JSON (schema in docs/audit-output.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// A Markdown report to attach as audit evidence.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    /// Never exit 1 because of findings.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresetName {
    /// deployments, services, ingresses, horizontalpodautoscalers, configmaps
    WebApp,
    /// web-app plus secrets (Helm release storage) and replicasets
    Helm,
    /// exactly the Welkin user demo's ci-cd Role
    WelkinDemo,
}

/// A verb `--verbs` may grant: the standard ones of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    Deletecollection,
}

impl Verb {
    /// As RBAC spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::Deletecollection => "deletecollection",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenKind {
    /// A long-lived token in a kubernetes.io/service-account-token Secret, revoked by deleting the Secret.
    Secret,
    /// A time-bound token from the TokenRequest API (see --token-duration).
    Request,
}

/// The kinds a Role grants, and whether risky ones may be among them: `init` and
/// `argocd grant` take the same flags.
#[derive(Debug, Clone, Args, Default)]
pub struct RoleFlags {
    /// Pre-select the kinds of a preset.
    #[arg(long, value_enum)]
    pub preset: Option<PresetName>,
    /// Kinds to grant, as kubectl names them (deployments.apps, Deployment, deploy), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub kinds: Vec<String>,
    /// Verbs granted on --kinds (default: get,list,watch,create,update,patch,delete).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    pub verbs: Vec<Verb>,
    /// Kinds granted get, list and watch only.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub read_only_kinds: Vec<String>,
    /// Allow risky permissions (secrets, pods/exec, tokens, RBAC writes, wildcards).
    #[arg(long)]
    pub allow_risky: bool,
}

#[derive(Debug, Clone, Args)]
pub struct InitFlags {
    /// Name of the ServiceAccount, Role and RoleBinding.
    #[arg(long, value_name = "NAME", value_parser = parse_name)]
    pub name: Option<String>,
    #[command(flatten)]
    pub role: RoleFlags,
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
    /// Print the ServiceAccount, Role and RoleBinding as YAML and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Answer yes to every question; fail instead of asking for anything a flag did not give.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Write a kubeconfig that skips TLS verification when the context does and has no CA (refused otherwise).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    #[command(flatten)]
    pub verbosity: VerbosityFlags,
}

const LIST_EXAMPLES: &str = "Examples:
  # The identities in the current namespace
  kubectl cicd list

  # In every namespace, as JSON
  kubectl cicd list -A -o json

  # More columns (token Secrets, objects, tool version, problems), no header, for grep and awk
  kubectl cicd list -A -o wide --no-headers

Identities are found by the label app.kubernetes.io/managed-by=kubectl-cicd; token Secrets are
read as metadata only.";

const ROTATE_EXAMPLES: &str = "Examples:
  # A new Secret token for ci-cd; the old token Secret is deleted once the new kubeconfig is written
  kubectl cicd rotate ci-cd --force

  # Switch to a one-week TokenRequest token, written elsewhere
  kubectl cicd rotate ci-cd --token request --token-duration 168h --output ci-cd.kubeconfig

A Secret token is revoked by deleting its Secret, which rotate does last. TokenRequest tokens
cannot be revoked one by one: they stay valid until they expire, unless the ServiceAccount is
deleted (kubectl cicd delete, then init again), which revokes all of its tokens.";

const DELETE_EXAMPLES: &str = "Examples:
  # Show what would go and ask
  kubectl cicd delete ci-cd

  # Without asking (in a script)
  kubectl cicd delete ci-cd -n shop --yes

Only objects labelled app.kubernetes.io/managed-by=kubectl-cicd and kubectl-cicd.io/identity=NAME
are deleted.";

/// `kubectl cicd list` flags.
#[derive(Debug, Clone, Args)]
pub struct ListFlags {
    #[command(flatten)]
    pub namespaces: AllNamespacesFlag,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
    /// Leave out the table's header line (table and wide).
    #[arg(long)]
    pub no_headers: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// One line per identity.
    Table,
    /// The table with more columns: the token Secrets, which objects exist, the tool version, problems.
    Wide,
    /// Every field, for scripts.
    Json,
    /// Every field, as YAML.
    Yaml,
}

/// `-q` and `-v` of the commands that issue a kubeconfig.
#[derive(Debug, Clone, Copy, Args, Default)]
pub struct VerbosityFlags {
    /// Print only warnings, errors and, on stdout, the path of the kubeconfig written.
    #[arg(short = 'q', long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print the details too: everything you may grant, the whole objects, every verified check.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

impl VerbosityFlags {
    pub fn level(&self) -> crate::ui::Verbosity {
        use crate::ui::Verbosity;
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, true) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        }
    }
}

/// `kubectl cicd rotate` flags.
#[derive(Debug, Clone, Args)]
pub struct RotateFlags {
    /// The identity (its ServiceAccount's name).
    #[arg(value_name = "NAME", value_parser = parse_name)]
    pub name: String,
    /// The kind of the new token (default: the kind the identity has now).
    #[arg(long, value_enum)]
    pub token: Option<TokenKind>,
    /// Lifetime of a request token, e.g. 720h (the server may cap it; at least 10m).
    #[arg(long, value_parser = parse_go_duration, value_name = "DURATION")]
    pub token_duration: Option<Duration>,
    /// Where to write the new kubeconfig.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Overwrite the output file if it exists (usually the old kubeconfig).
    #[arg(long)]
    pub force: bool,
    /// API server URL to put into the kubeconfig, when the pipeline reaches the cluster by another address.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Write a kubeconfig that skips TLS verification when the context does and has no CA (refused otherwise).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    #[command(flatten)]
    pub verbosity: VerbosityFlags,
}

const TIGHTEN_EXAMPLES: &str = "Examples:
  # What the pipeline of ci-cd used, and the smaller Role that still allows it (changes nothing)
  kubectl cicd tighten ci-cd -n shop --audit-log audit.log --audit-log audit-2026-01-05.log.gz

  # Apply it, and verify with the pipeline's own kubeconfig
  kubectl cicd tighten ci-cd -n shop --audit-log audit.log --apply --ci-kubeconfig kubeconfig_ci_cd.yaml

  # From a log on stdin, limited to the objects the requests named, as YAML to review
  zcat audit-*.log.gz | kubectl cicd tighten ci-cd --audit-log - --names --dry-run > role.yaml

The logs are the API server's audit log (audit.k8s.io/v1 Event JSON lines, plain or gzip), as
kube-apiserver writes it with --audit-log-path; docs/tighten.md says how to get them from managed
clusters. tighten only takes permissions away: it never grants what the Role does not grant now.

Exit codes: 0 done (or nothing to take away), 1 refused or failed, 2 bad input (flags, logs that
are not audit logs or hold no allowed request of the identity), 130 cancelled.";

/// `kubectl cicd tighten` flags.
#[derive(Debug, Clone, Args)]
pub struct TightenFlags {
    /// The identity (its ServiceAccount's name).
    #[arg(value_name = "NAME", value_parser = parse_name)]
    pub name: String,
    /// An audit log: audit.k8s.io/v1 Event JSON lines, plain or gzip, - for stdin; repeatable.
    #[arg(long = "audit-log", value_name = "FILE", required = true, value_parser = parse_log_source)]
    pub audit_logs: Vec<Source>,
    /// Limit the Role to the objects the requests named (resourceNames), where every request named one.
    #[arg(long)]
    pub names: bool,
    /// Apply the proposed Role: escalation pre-check, server-side apply, verification.
    #[arg(long, conflicts_with = "dry_run")]
    pub apply: bool,
    /// Print the proposed Role as YAML and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The pipeline's kubeconfig, to verify with its token after --apply (default: ./kubeconfig_ci_cd.yaml if it is there).
    #[arg(long, value_name = "PATH")]
    pub ci_kubeconfig: Option<PathBuf>,
    /// Apply without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// `--audit-log FILE`, or `-` for stdin.
pub fn parse_log_source(text: &str) -> Result<Source, String> {
    if text.is_empty() {
        return Err("an empty path: give an audit log file, or - for stdin".into());
    }
    Ok(Source::parse(text))
}

/// `kubectl cicd delete` flags.
#[derive(Debug, Clone, Args)]
pub struct DeleteFlags {
    /// The identity (its ServiceAccount's name).
    #[arg(value_name = "NAME", value_parser = parse_name)]
    pub name: String,
    /// Delete without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// `kubectl cicd argocd ...`.
#[derive(Debug, Subcommand)]
pub enum ArgocdCommand {
    /// Make upstream's namespace-install manifest compliant for one namespace: print it, or apply it.
    #[command(after_help = ARGOCD_INSTALL_EXAMPLES)]
    Install(ArgocdInstallFlags),
    /// Give Argo CD's application controller least-privilege deploy rights in other namespaces.
    #[command(after_help = ARGOCD_GRANT_EXAMPLES)]
    Grant(ArgocdGrantFlags),
}

const ARGOCD_INSTALL_EXAMPLES: &str = "Examples:
  # The compliant manifest for namespace argocd, on stdout; what changed, on stderr
  kubectl cicd argocd install -f namespace-install.yaml -n argocd > argocd.yaml

  # Straight from a release, applied (server-side, field manager kubectl-cicd)
  kubectl cicd argocd install -n argocd --apply \\
    -f https://raw.githubusercontent.com/argoproj/argo-cd/v3.5.1/manifests/namespace-install.yaml

  # Check it against the API server without changing anything
  kubectl cicd argocd install -f namespace-install.yaml -n argocd --dry-run

  # More memory for the repo server, the rest as the guide says
  kubectl cicd argocd install -f ha/namespace-install.yaml -n argocd \\
    --resources repo-server:requests.memory=256Mi,limits.memory=1Gi -o argocd.yaml

Cluster-scoped objects are left out; CRDs go to --crds-output for the administrator.
Exit codes: 0 done, 1 a guardrail at or above --fail-on (the manifest is still written) or a
refusal, 2 bad input. See docs/argocd.md.";

const ARGOCD_GRANT_EXAMPLES: &str = "Examples:
  # Let the Argo CD of namespace argocd deploy a web app into namespace shop
  kubectl cicd argocd grant -n argocd --to shop --preset web-app --yes

  # Two namespaces, chosen kinds, and the server's ServiceAccount too (for the UI)
  kubectl cicd argocd grant -n argocd --to shop,blog --kinds deploy,svc,cm --server --yes

  # Interactively, on a terminal
  kubectl cicd argocd grant -n argocd

kubectl cicd list -n shop shows the grant; kubectl cicd delete NAME -n shop removes it.";

/// `kubectl cicd argocd install` flags.
#[derive(Debug, Clone, Args)]
pub struct ArgocdInstallFlags {
    /// The manifest: a file, - for stdin, or an https:// URL (upstream's namespace-install.yaml, ha/namespace-install.yaml or install.yaml).
    #[arg(short = 'f', long = "filename", value_name = "FILE|URL")]
    pub filename: String,
    /// Write the manifest to this file instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where the manifest's CustomResourceDefinitions go, for the administrator (only written when it has some).
    #[arg(long, value_name = "FILE", default_value = "argocd-crds.yaml")]
    pub crds_output: PathBuf,
    /// What to do with a RoleBinding whose Role neither the manifest nor the namespace has (v2.1-v2.7's argocd-redis).
    #[arg(long, value_enum, default_value_t = RedisRole::Drop, value_name = "HOW")]
    pub redis_role: RedisRole,
    /// Override requests or limits of a component (its workload's name without argocd-), or of one container: COMPONENT[/CONTAINER]:FIELD=QUANTITY,... with FIELD requests.cpu, requests.memory, limits.cpu or limits.memory; repeatable.
    #[arg(long, value_name = "SPEC")]
    pub resources: Vec<String>,
    /// Overrides from a YAML file: COMPONENT or COMPONENT/CONTAINER mapped to {requests: {cpu, memory}, limits: {cpu, memory}} (--resources wins).
    #[arg(long, value_name = "FILE")]
    pub resources_file: Option<PathBuf>,
    /// Replace requests and limits the manifest already sets (default: keep them, fill in the rest).
    #[arg(long)]
    pub overwrite_resources: bool,
    /// Accept a manifest that names another namespace, and move it to -n.
    #[arg(long)]
    pub force: bool,
    /// Exit 1 when a guardrail finding has this severity or a higher one (with --apply: apply nothing).
    #[arg(long, value_enum, default_value_t = FailOn::High, value_name = "SEVERITY")]
    pub fail_on: FailOn,
    /// Apply the manifest to the namespace (server-side apply, field manager kubectl-cicd), after checking you may.
    #[arg(long)]
    pub apply: bool,
    /// Everything --apply does, as a server-side dry run: nothing is changed.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// What `argocd install` does with a RoleBinding whose Role is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RedisRole {
    /// Leave the binding out, as Argo CD itself did from v2.8.0 on.
    Drop,
    /// Add the Role it names, with no rules: the binding stays and grants nothing.
    Empty,
    /// Add the Role Argo CD v2.0 shipped: use of OpenShift's nonroot SecurityContextConstraints.
    OpenshiftScc,
}

impl RedisRole {
    pub fn as_str(self) -> &'static str {
        match self {
            RedisRole::Drop => "drop",
            RedisRole::Empty => "empty",
            RedisRole::OpenshiftScc => "openshift-scc",
        }
    }
}

/// `kubectl cicd argocd grant` flags. `-n` is Argo CD's own namespace.
#[derive(Debug, Clone, Args)]
pub struct ArgocdGrantFlags {
    /// The namespaces Argo CD may deploy into, comma-separated (asked for on a terminal).
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub to: Vec<String>,
    /// Name of the Role and RoleBinding in each of them (default: argocd-<Argo CD's namespace>).
    #[arg(long, value_name = "NAME", value_parser = parse_name)]
    pub name: Option<String>,
    #[command(flatten)]
    pub role: RoleFlags,
    /// Bind argocd-server too (the UI's live view, logs and deletes), not only argocd-application-controller.
    #[arg(long)]
    pub server: bool,
    /// Check everything, send the writes as a server-side dry run and print the objects: nothing is changed.
    #[arg(long)]
    pub dry_run: bool,
    /// Answer yes to every question; fail instead of asking for anything a flag did not give.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// What `--request-timeout 0` stands for: kubectl's "no timeout", as a bound no request reaches
/// (a year), so that every deadline computed from it stays a plain duration.
pub const NO_REQUEST_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// `--request-timeout` as kubectl (client-go's `clientcmd.ParseTimeout`) reads it: a whole
/// number of seconds (`30`), `0` for no timeout, or a Go duration (`30s`, `1m30s`).
pub fn parse_request_timeout(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let duration = if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        match trimmed.parse::<u64>() {
            Ok(seconds) if (seconds as f64) <= MAX_GO_DURATION_SECS => Duration::from_secs(seconds),
            _ => {
                return Err(format!(
                    "'{text}' is too long a timeout: at most 9223372036 seconds, as kubectl takes it"
                ));
            }
        }
    } else {
        match go_duration(trimmed) {
            Ok(duration) => duration,
            Err(DurationError::TooLong) => return Err(too_long(text)),
            Err(DurationError::Malformed) => {
                return Err(format!(
                    "'{text}' is not a timeout: use whole seconds (30), a number with a unit (30s, 2m, 1h), or 0 for no timeout"
                ));
            }
        }
    };
    Ok(if duration.is_zero() {
        NO_REQUEST_TIMEOUT
    } else {
        duration
    })
}

/// Go's `time.ParseDuration` subset kubectl users know: `720h`, `1h30m`, `90m`, `3600s`.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    go_duration(text.trim()).map_err(|e| match e {
        DurationError::TooLong => too_long(text),
        DurationError::Malformed => format!(
            "'{text}' is not a duration: use a number with a unit, e.g. 720h, 1h30m, 90m or 3600s"
        ),
    })
}

enum DurationError {
    Malformed,
    TooLong,
}

fn too_long(text: &str) -> String {
    format!(
        "'{text}' is too long a duration: at most 2562047h (about 292 years), as kubectl takes it"
    )
}

fn go_duration(mut rest: &str) -> Result<Duration, DurationError> {
    let bad = || DurationError::Malformed;
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
            "us" | "µs" | "μs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return Err(bad()),
        };
        total += value * seconds;
        rest = &rest[unit_len..];
    }
    // Go's durations are int64 nanoseconds: about 292 years at most, as kubectl takes them.
    if total > MAX_GO_DURATION_SECS {
        return Err(DurationError::TooLong);
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

const MAX_GO_DURATION_SECS: f64 = 9_223_372_036.854_775;

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
        for huge in [
            "18446744073709551616s",
            "1e30s",
            "99999999999999999999h",
            "2562048h",
        ] {
            let e = parse_go_duration(huge).expect_err(huge);
            assert!(
                e.contains("too long") || e.contains("not a duration"),
                "{e}"
            );
        }
        assert!(parse_go_duration("2562047h").is_ok());
    }

    #[test]
    fn request_timeouts_parse_as_kubectl_parses_them() {
        assert_eq!(parse_request_timeout("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_request_timeout("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_request_timeout("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(
            parse_request_timeout("500ms"),
            Ok(Duration::from_millis(500))
        );
        for none in ["0", "0s", "00"] {
            assert_eq!(
                parse_request_timeout(none),
                Ok(NO_REQUEST_TIMEOUT),
                "{none}"
            );
        }
        for bad in ["", "-1", "1d", "thirty", "30 s"] {
            let e = parse_request_timeout(bad).expect_err(bad);
            assert!(e.contains("not a timeout"), "{bad}: {e}");
        }
        for huge in [
            "18446744073709551616",
            "18446744073709551616s",
            "9223372037",
        ] {
            let e = parse_request_timeout(huge).expect_err(huge);
            assert!(e.contains("too long"), "{huge}: {e}");
        }
    }

    #[test]
    fn the_cli_is_well_formed_and_speaks_as_kubectl_cicd() {
        Cli::command().debug_assert();
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("Usage: kubectl cicd"), "{help}");
        assert!(help.contains("init"), "{help}");
        assert!(help.contains("audit"), "{help}");
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
        let Command::Init(flags) = cli.command else {
            panic!("init parses as init");
        };
        assert_eq!(flags.role.kinds, vec!["deploy", "svc"]);
    }

    #[test]
    fn audit_flags_parse_with_their_defaults() {
        let cli = Cli::try_parse_from(["kubectl-cicd", "audit"]).unwrap();
        let Command::Audit(flags) = cli.command else {
            panic!("audit parses as audit");
        };
        assert_eq!(flags.output, AuditFormat::Table);
        assert_eq!(flags.fail_on, FailOn::High);
        assert!(!flags.namespaces.all_namespaces && flags.sa.is_none() && flags.ignore.is_empty());

        let cli = Cli::try_parse_from([
            "kubectl-cicd",
            "audit",
            "-A",
            "-o",
            "sarif",
            "--fail-on",
            "none",
            "--ignore",
            "wildcard",
            "--ignore",
            "secrets-read:team-a/ci",
        ])
        .unwrap();
        let Command::Audit(flags) = cli.command else {
            panic!("audit parses as audit");
        };
        assert!(flags.namespaces.all_namespaces);
        assert_eq!(flags.output, AuditFormat::Sarif);
        assert_eq!(flags.fail_on, FailOn::None);
        assert_eq!(
            flags.ignore,
            vec![
                parse_ignore("wildcard").unwrap(),
                parse_ignore("secrets-read:team-a/ci").unwrap()
            ]
        );
    }

    #[test]
    fn audit_refuses_conflicting_flags_and_unknown_values() {
        for args in [
            &["kubectl-cicd", "audit", "-A", "-n", "x"][..],
            &["kubectl-cicd", "audit", "-A", "--sa", "ci"][..],
            &["kubectl-cicd", "audit", "--fail-on", "severe"][..],
            &["kubectl-cicd", "audit", "-o", "yaml"][..],
            &["kubectl-cicd", "audit", "--ignore", "no-such-rule"][..],
            &["kubectl-cicd", "audit", "--sa", "Not_A_Name"][..],
            &["kubectl-cicd", "init", "--name", "CI_CD"][..],
            &[
                "kubectl-cicd",
                "init",
                "--kinds",
                "deploy",
                "--verbs",
                "get,frobnicate",
            ][..],
            &["kubectl-cicd", "delete", "ci/cd"][..],
        ] {
            let err = Cli::try_parse_from(args).expect_err("refused");
            assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
        }
    }
}
