//! The one error type of kubectl-cicd. Every variant says what happened and what to do next;
//! `main` prints it and exits non-zero.

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

    #[error("cannot read kubeconfig: {0}")]
    Kubeconfig(String),

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

    /// A risky permission asked for without `--allow-risky`.
    #[error("{0}")]
    Risky(String),

    /// Any other answer from the API server.
    #[error("{context}: {message}")]
    Api {
        context: String,
        code: u16,
        reason: String,
        message: String,
    },

    #[error("{0}")]
    Token(String),

    #[error("verification failed, so no kubeconfig was written: {0}")]
    Verification(String),

    #[error("{path} already exists: pass --force to overwrite it, or --output to write elsewhere")]
    OutputExists { path: PathBuf },

    #[error("cannot write {path}: {detail}")]
    Write { path: PathBuf, detail: String },

    #[error("{0}")]
    Terminal(String),

    #[error("cancelled: nothing was changed")]
    Cancelled,

    /// Ctrl-C or SIGTERM while the command ran.
    #[error("stopped by {}", .0.name())]
    Interrupted(crate::interrupt::Signal),

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

    /// A command stopped part-way: the cause, then what exists now and how to finish.
    #[error("{cause}\n{state}")]
    Partial { cause: Box<Error>, state: String },
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_)
            | Error::MissingAnswer { .. }
            | Error::Kubeconfig(_)
            | Error::NoNamespace { .. }
            | Error::NoAccessInNamespace { .. } => 2,
            Error::Cancelled => 130,
            Error::Interrupted(signal) => signal.exit_code(),
            Error::Partial { cause, .. } => cause.exit_code(),
            _ => 1,
        }
    }
}
