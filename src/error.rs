//! The error type of kubectl-cicd's commands, and every exit code the binary uses. Every
//! variant says what happened and what to do next; `main` prints it and exits with
//! [`Error::exit_code`]. (The pure RBAC core has its own small `RbacError`, and kind lookup its
//! `KindLookupError`, each wrapped here.)

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command-line input, caught before anything is sent anywhere.
    #[error("{0}")]
    Usage(String),

    /// A question could not be asked (no terminal, or `--yes`) and no flag answered it.
    #[error("{what} was not given and there is no terminal to ask on: pass {flag}")]
    MissingAnswer { what: String, flag: String },

    /// The kubeconfig cannot be read, or its context cannot be used.
    #[error("cannot read kubeconfig: {0}")]
    Kubeconfig(String),

    /// No answer: refused, unresolvable, timed out.
    #[error(
        "cannot reach the API server at {server}: {detail}\nCheck the server address, your network or VPN, and that the cluster is up."
    )]
    Unreachable { server: String, detail: String },

    /// The server answered, but its TLS certificate does not check out against the kubeconfig's CA.
    #[error(
        "cannot trust the API server at {server}: {detail}\nThe certificate authority in your kubeconfig does not match the server's certificate: check certificate-authority(-data) and tls-server-name of the cluster entry, and that the server address belongs to that cluster."
    )]
    Tls { server: String, detail: String },

    /// The user entry's credentials could not be obtained (exec plugin, token file, client key).
    #[error(
        "cannot get credentials for user {user}: {detail}\nCheck that `kubectl get namespaces` works in this context: log in again (for OIDC, run your kubelogin / oidc-login command) or fix the user entry."
    )]
    Credentials { user: String, detail: String },

    /// 401 from the server.
    #[error(
        "the API server at {server} rejected your credentials (401 Unauthorized). They may have expired or been revoked: log in again (for OIDC, run your kubelogin / oidc-login command) and retry."
    )]
    Unauthorized { server: String },

    /// 403 from the server, with its own message.
    #[error("the API server refused: {message}\n{hint}")]
    Forbidden { message: String, hint: String },

    /// A Role that would grant more than the caller holds: nothing was created.
    #[error("{0}")]
    Escalation(String),

    /// A risky permission asked for without `--allow-risky`: the categories, then each risk.
    #[error("{cause}:\n{risks}")]
    Risky {
        #[source]
        cause: crate::rbac::RbacError,
        /// One line per risk that blocks the run.
        risks: String,
    },

    /// An answer that is not what a Kubernetes API server sends: unreadable, of the wrong
    /// kind, or over the size cap. Trying again would get the same answer.
    #[error("{context}: {message}")]
    BadResponse { context: String, message: String },

    /// A failure inside kubectl-cicd itself (a task that panicked).
    #[error("{context}: {message} (an internal error of kubectl-cicd: please report it)")]
    Internal { context: String, message: String },

    /// Any other answer from the API server: its HTTP status, reason and message.
    #[error("{context}: {message}")]
    Api {
        context: String,
        code: u16,
        reason: String,
        message: String,
    },

    /// The new token could not be obtained.
    #[error("{0}")]
    Token(String),

    /// The new token is not the identity, or does not hold what was intended.
    #[error("verification failed, so no kubeconfig was written: {0}")]
    Verification(String),

    /// A change was applied, but what the server stored or what the identity's own token
    /// shows afterwards is not what was meant (`tighten`): the change stays in place.
    #[error("{0}")]
    Unverified(String),

    /// The output file exists and `--force` was not given.
    #[error("{path} already exists: pass --force to overwrite it, or --output to write elsewhere")]
    OutputExists { path: PathBuf },

    /// A local file could not be written.
    #[error("cannot write {path}: {detail}")]
    Write { path: PathBuf, detail: String },

    /// The terminal failed (a prompt, or writing the report).
    #[error("{0}")]
    Terminal(String),

    /// The user said no, or pressed Esc, at a prompt.
    #[error("cancelled: nothing was changed")]
    Cancelled,

    /// Ctrl-C or SIGTERM while the command ran.
    #[error("stopped by {}", .0.name())]
    Interrupted(crate::interrupt::Signal),

    /// An audit log that cannot be read, is not an audit log, or holds no evidence to act on
    /// (`tighten`, `audit --audit-log`); nothing was changed.
    #[error("{0}")]
    AuditLog(String),

    /// No identity of that name, or objects kubectl-cicd did not make.
    #[error("{0}")]
    Identity(String),

    /// The namespace to work in does not exist (the server said so).
    #[error(
        "namespace {namespace} does not exist: check the name (kubectl get namespaces), or create it first (kubectl create namespace {namespace})"
    )]
    NoNamespace { namespace: String },

    /// The caller holds nothing in the namespace and may not look it up: most likely a typo.
    #[error(
        "namespace {namespace} does not exist, or you hold no permissions at all in it: check the name (kubectl get namespaces, \
         or kubectl auth can-i --list -n {namespace}). Nothing was created"
    )]
    NoAccessInNamespace { namespace: String },

    /// A manifest (`argocd install -f`) could not be read: no such file, stdin failed, or its
    /// URL could not be fetched.
    #[error("cannot read {what}: {detail}")]
    Input { what: String, detail: String },

    /// A manifest that `argocd install` does not take: not YAML, not Kubernetes objects, not
    /// Argo CD's, for another namespace, or an override naming nothing in it.
    #[error("{what}: {detail}")]
    Manifest { what: String, detail: String },

    /// Guardrail findings at or above `--fail-on`: what they are, and what was (not) done.
    #[error("{0}")]
    Guardrails(String),

    /// A command stopped part-way: the cause, then what exists now and how to finish.
    #[error("{cause}\n{state}")]
    Partial {
        #[source]
        cause: Box<Error>,
        state: String,
    },
}

/// Every exit code of kubectl-cicd. clap exits 2 on a usage error before any of this runs.
/// [`exit::HELP`] as a literal, for `concat!` into a command's help.
macro_rules! exit_codes_help {
    () => {
        "Exit codes (every command):
  0    done; audit: no open finding at or above --fail-on
  1    failed or refused; audit: open findings at or above --fail-on
  2    bad input (flags, kubeconfig, namespace, files), found before anything changed;
       audit: the audit could not run
  3    audit: no failing finding, but some RBAC objects could not be read (--allow-gaps accepts it)
  4    audit --all-contexts or --contexts: some clusters could not be audited (--allow-gaps accepts it)
  130  cancelled at a prompt, or stopped by Ctrl-C (128 + SIGINT)
  143  stopped by SIGTERM (128 + its number; other signals likewise)"
    };
}
pub(crate) use exit_codes_help;

pub mod exit {
    /// Done; `audit`: no open finding at or above `--fail-on`.
    pub const SUCCESS: u8 = 0;
    /// A command failed; `audit`: open findings at or above `--fail-on`.
    pub const FAILURE: u8 = 1;
    /// Bad input (flags, kubeconfig, namespace, audit logs, a manifest), found before anything
    /// changed; `audit`: the audit could not run at all, for any reason.
    pub const USAGE: u8 = 2;
    /// `audit` only: no failing finding in what could be read, but some RBAC objects could
    /// not be read and `--allow-gaps` was not given.
    pub const INCOMPLETE: u8 = 3;
    /// `audit --all-contexts` or `--contexts` only: no failing finding in what could be read,
    /// but some clusters could not be audited at all and `--allow-gaps` was not given.
    pub const CLUSTERS_MISSING: u8 = 4;
    /// Cancelled at a prompt (as Ctrl-C at a prompt, 128 + SIGINT).
    pub const CANCELLED: u8 = 130;
    /// Stopped by a signal: 128 + its number (130 for SIGINT, 143 for SIGTERM).
    pub const SIGNAL_BASE: u8 = 128;

    /// The table above for people: the end of `kubectl cicd --help` and `audit --help`, and
    /// docs/exit-codes.md (a test keeps them the same).
    pub const HELP: &str = exit_codes_help!();
}

impl Error {
    /// The process exit code for this error (`audit` exits [`exit::USAGE`] on any error).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_)
            | Error::MissingAnswer { .. }
            | Error::Kubeconfig(_)
            | Error::AuditLog(_)
            | Error::NoNamespace { .. }
            | Error::NoAccessInNamespace { .. }
            | Error::Input { .. }
            | Error::Manifest { .. } => exit::USAGE,
            Error::Cancelled => exit::CANCELLED,
            Error::Interrupted(signal) => signal.exit_code(),
            Error::Partial { cause, .. } => cause.exit_code(),
            _ => exit::FAILURE,
        }
    }

    /// Whether running the same command again may well succeed as it is: the server or the
    /// network had a passing problem (a conflict, throttling, a 5xx), or the connection failed
    /// after the server had answered once (`connected`).
    pub fn is_passing(&self, connected: bool) -> bool {
        match self {
            Error::Api { code, .. } => matches!(code, 409 | 429 | 500..=599),
            Error::Unreachable { .. } => connected,
            _ => false,
        }
    }
}
