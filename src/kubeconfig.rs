//! kubeconfig files: reading the user's source context as kubectl does, and writing the CI
//! pipeline's kubeconfig.
//!
//! Reading goes through kube's own loader (`Kubeconfig::read_from`, which resolves relative
//! file references against each file's folder, and `Kubeconfig::merge`, first-wins per name as
//! client-go merges `KUBECONFIG`), with checks in front of it so every mistake gets a message
//! that names the file, the entry and what to do. The `kube::Config` is built once here and
//! handed to [`crate::cluster::Cluster::connect`].
//!
//! Tokens never appear in Debug output or error messages: they travel as [`SecretToken`].

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use kube::config::{AuthInfo, Kubeconfig, KubeconfigError};
use serde::Serialize;

use crate::error::{Error, Result};

/// The exec credential API version whose `interactiveMode` client-go requires.
const EXEC_API_V1: &str = "client.authentication.k8s.io/v1";

/// A bearer token. Its `Debug` prints `<redacted>`, it has no `Display` and no `Serialize`:
/// the only way to the text is [`SecretToken::expose`], which makes every use visible.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn new(token: impl Into<String>) -> Self {
        SecretToken(token.into())
    }

    /// The token itself: only for an `Authorization` header or the kubeconfig being written.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for SecretToken {
    fn from(s: String) -> Self {
        SecretToken(s)
    }
}

/// The kubectl-style global flags that pick the source context.
#[derive(Clone, Debug, Default)]
pub struct SourceSelection {
    /// `--kubeconfig`
    pub kubeconfig: Option<PathBuf>,
    /// `--context`
    pub context: Option<String>,
    /// `-n/--namespace`
    pub namespace: Option<String>,
}

/// What the loader reads from the process environment. [`load_source`] takes it from the
/// process; tests pass their own to [`load_source_with`].
#[derive(Clone, Debug, Default)]
pub struct SourceEnv {
    /// The value of `KUBECONFIG` (paths joined with ':' on unix, ';' on Windows).
    pub kubeconfig: Option<OsString>,
    /// The home folder, for `~/.kube/config`.
    pub home: Option<PathBuf>,
}

impl SourceEnv {
    pub fn from_process() -> Self {
        SourceEnv {
            kubeconfig: std::env::var_os("KUBECONFIG"),
            home: dirs::home_dir(),
        }
    }
}

/// Where the namespace came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamespaceOrigin {
    /// `-n/--namespace`
    Flag,
    /// The context's `namespace`.
    Context,
    /// Neither was given: `default`, as kubectl does.
    Default,
}

impl fmt::Display for NamespaceOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NamespaceOrigin::Flag => "from --namespace",
            NamespaceOrigin::Context => "from the context",
            NamespaceOrigin::Default => "the default",
        })
    }
}

/// What kind of credentials the source user entry holds (for display; never the secret itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// `token:` inline.
    Token,
    /// `tokenFile:`
    TokenFile { path: String },
    /// `client-certificate(-data)` with a key.
    ClientCertificate,
    /// An exec credential plugin (kubelogin, cloud CLIs, ...).
    Exec {
        command: String,
        api_version: Option<String>,
    },
    /// A legacy `auth-provider` (oidc, gcp, ...).
    AuthProvider { name: String },
    /// `username`/`password`.
    Basic { username: String },
    /// No user, or a user entry without credentials.
    None,
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token => f.write_str("bearer token"),
            Credentials::TokenFile { path } => write!(f, "bearer token from file {path}"),
            Credentials::ClientCertificate => f.write_str("client certificate"),
            Credentials::Exec { command, .. } => write!(f, "exec plugin `{command}`"),
            Credentials::AuthProvider { name } => write!(f, "auth-provider `{name}`"),
            Credentials::Basic { username } => write!(f, "basic auth as {username}"),
            Credentials::None => f.write_str("no credentials"),
        }
    }
}

/// The context the user runs `kubectl cicd` in, resolved as kubectl resolves it.
#[derive(Clone)]
pub struct SourceContext {
    /// The kubeconfig files that were read, in merge order.
    pub files: Vec<PathBuf>,
    pub context_name: String,
    pub cluster_name: String,
    /// The cluster's `server` URL.
    pub server: String,
    /// The context's user entry; `None` when the context names no user.
    pub user_name: Option<String>,
    pub namespace: String,
    pub namespace_origin: NamespaceOrigin,
    /// The cluster CA in PEM, from `certificate-authority-data` or the `certificate-authority` file.
    pub ca_pem: Option<Vec<u8>>,
    /// The `certificate-authority` file the CA was read from (absolute), when it came from one.
    pub ca_file: Option<PathBuf>,
    pub insecure_skip_tls_verify: bool,
    pub tls_server_name: Option<String>,
    /// The cluster entry's `proxy-url` (not `HTTPS_PROXY`, which kube reads by itself).
    pub proxy_url: Option<String>,
    pub credentials: Credentials,
    /// Ready to hand to `Cluster::connect`: this context, with `namespace` as default namespace.
    pub config: kube::Config,
}

impl fmt::Debug for SourceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceContext")
            .field("files", &self.files)
            .field("context_name", &self.context_name)
            .field("cluster_name", &self.cluster_name)
            .field("server", &self.server)
            .field("user_name", &self.user_name)
            .field("namespace", &self.namespace)
            .field("namespace_origin", &self.namespace_origin)
            .field(
                "ca_pem",
                &self.ca_pem.as_ref().map(|c| format!("{} bytes", c.len())),
            )
            .field("ca_file", &self.ca_file)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("tls_server_name", &self.tls_server_name)
            .field("proxy_url", &self.proxy_url)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// Loads the source context from the process environment (see [`load_source_with`]).
pub fn load_source(sel: &SourceSelection) -> Result<SourceContext> {
    load_source_with(sel, &SourceEnv::from_process())
}

/// Loads the source context as kubectl does: the `--kubeconfig` file, else every file in
/// `KUBECONFIG` (missing ones skipped, merged first-wins), else `~/.kube/config`; the context
/// from `--context`, else `current-context`; the namespace from `-n`, else the context's, else
/// `default`.
pub fn load_source_with(sel: &SourceSelection, env: &SourceEnv) -> Result<SourceContext> {
    let files = kubeconfig_files(sel, env)?;
    let mut merged = Kubeconfig::default();
    for file in &files {
        let one = Kubeconfig::read_from(file).map_err(|e| read_error(file, e))?;
        merged = merged.merge(one).map_err(|e| {
            Error::Kubeconfig(format!(
                "cannot merge {} with the files before it ({e}): check the KUBECONFIG list",
                file.display()
            ))
        })?;
    }
    let where_ = describe_files(&files);

    let context_name = match sel
        .context
        .clone()
        .or_else(|| merged.current_context.clone().filter(|c| !c.is_empty()))
    {
        Some(c) => c,
        None => {
            return Err(Error::Kubeconfig(format!(
                "{where_} sets no current-context and no --context was given. \
                 Pass --context NAME ({}) or run `kubectl config use-context NAME`",
                list_names("contexts", merged.contexts.iter().map(|c| c.name.as_str()))
            )));
        }
    };
    let context = merged
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.clone())
        .ok_or_else(|| {
            Error::Kubeconfig(format!(
                "context \"{context_name}\" was not found in {where_}; {}. \
                 Pass one of them with --context, or check KUBECONFIG",
                list_names(
                    "contexts defined there",
                    merged.contexts.iter().map(|c| c.name.as_str())
                )
            ))
        })?;

    let cluster_name = context.cluster.clone();
    let cluster = merged
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.cluster.clone())
        .ok_or_else(|| {
            Error::Kubeconfig(format!(
                "context \"{context_name}\" uses cluster \"{cluster_name}\", which is not defined in {where_} ({}). \
                 Fix the context or add the cluster (`kubectl config set-cluster`)",
                list_names("clusters", merged.clusters.iter().map(|c| c.name.as_str()))
            ))
        })?;
    let server = cluster.server.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
        Error::Kubeconfig(format!(
            "cluster \"{cluster_name}\" in {where_} has no server URL: set it with `kubectl config set-cluster {cluster_name} --server=https://...`"
        ))
    })?;

    check_server_url(&server, &cluster_name, &where_)?;

    let user_name = context.user.clone().filter(|u| !u.is_empty());
    let auth_info = match &user_name {
        None => AuthInfo::default(),
        Some(user) => merged
            .auth_infos
            .iter()
            .find(|u| &u.name == user)
            .map(|u| u.auth_info.clone().unwrap_or_default())
            .ok_or_else(|| {
                Error::Kubeconfig(format!(
                    "context \"{context_name}\" uses user \"{user}\", which is not defined in {where_} ({}). \
                     Log in again (your cluster's login command writes the user entry) or fix the context",
                    list_names("users", merged.auth_infos.iter().map(|u| u.name.as_str()))
                ))
            })?,
    };
    if let Some(exec) = &auth_info.exec
        && exec.api_version.as_deref() == Some(EXEC_API_V1)
        && exec.interactive_mode.is_none()
    {
        return Err(Error::Kubeconfig(format!(
            "interactiveMode must be specified for user \"{}\" to use exec authentication plugin (as kubectl requires for {EXEC_API_V1}): \
             add `interactiveMode: IfAvailable` (or Never) under its exec entry",
            user_name.as_deref().unwrap_or("")
        )));
    }
    let credentials = credentials_of(&auth_info);
    let shown_user = user_name.as_deref().unwrap_or("");
    if let Some(token) = &auth_info.token {
        use secrecy::ExposeSecret as _;
        check_token(
            token.expose_secret(),
            &format!("the token of user \"{shown_user}\" in {where_}"),
        )?;
    }
    // client-go trims the token file's content (a trailing CRLF is common); kube does not.
    let file_token = match (&auth_info.token, &auth_info.token_file) {
        (None, Some(path)) => Some(read_token_file(path, shown_user)?),
        _ => None,
    };

    let (namespace, namespace_origin) = match (&sel.namespace, &context.namespace) {
        (Some(ns), _) if !ns.is_empty() => (ns.clone(), NamespaceOrigin::Flag),
        (_, Some(ns)) if !ns.is_empty() => (ns.clone(), NamespaceOrigin::Context),
        _ => ("default".to_string(), NamespaceOrigin::Default),
    };

    let (ca_pem, ca_file) = if let Some(data) = cluster
        .certificate_authority_data
        .as_deref()
        .filter(|d| !d.is_empty())
    {
        let pem = B64.decode(data.trim()).map_err(|e| {
            Error::Kubeconfig(format!(
                "certificate-authority-data of cluster \"{cluster_name}\" in {where_} is not valid base64 ({e}): \
                 it must hold the base64 of the CA's PEM"
            ))
        })?;
        (Some(pem), None)
    } else if let Some(path) = cluster
        .certificate_authority
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        // `Kubeconfig::read_from` already made the path absolute, relative to its file.
        let path = PathBuf::from(path);
        let pem = std::fs::read(&path).map_err(|e| {
            Error::Kubeconfig(format!(
                "cannot read the certificate-authority file {} of cluster \"{cluster_name}\": {e}. \
                 Relative paths are taken from the kubeconfig file's folder",
                path.display()
            ))
        })?;
        (Some(pem), Some(path))
    } else {
        (None, None)
    };

    let tls_server_name = cluster.tls_server_name.clone().filter(|s| !s.is_empty());
    let proxy_url = cluster.proxy_url.clone().filter(|s| !s.is_empty());
    let insecure_skip_tls_verify = cluster.insecure_skip_tls_verify.unwrap_or(false);

    // The one kube::Config of this run, from kube's own loader with the chosen context.
    merged.current_context = Some(context_name.clone());
    let mut config = kube::Config::try_from(merged).map_err(|e| {
        Error::Kubeconfig(format!(
            "context \"{context_name}\" in {where_} cannot be used: {}",
            redact_quoted(&e.to_string())
        ))
    })?;
    config.default_namespace = namespace.clone();
    if let Some(token) = file_token {
        config.auth_info.token = Some(secrecy::SecretString::from(token));
        config.auth_info.token_file = None;
    }

    Ok(SourceContext {
        files,
        context_name,
        cluster_name,
        server,
        user_name,
        namespace,
        namespace_origin,
        ca_pem,
        ca_file,
        insecure_skip_tls_verify,
        tls_server_name,
        proxy_url,
        credentials,
        config,
    })
}

/// Refuses a server URL kube could not send a request to: it needs an http(s) scheme and a host.
fn check_server_url(server: &str, cluster: &str, where_: &str) -> Result<()> {
    let shown = crate::text::one_line(&crate::text::redact_userinfo(server));
    let bad = |why: &str| {
        Error::Kubeconfig(format!(
            "the server URL {shown:?} of cluster \"{cluster}\" in {where_} {why}: write it as https://HOST:PORT \
             (kubectl config set-cluster {cluster} --server=https://...)"
        ))
    };
    let uri: http::Uri = server.parse().map_err(|_| bad("is not a URL"))?;
    match uri.scheme_str() {
        Some("https" | "http") => {}
        Some(_) => return Err(bad("has a scheme other than https:// or http://")),
        None => return Err(bad("has no scheme")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    Ok(())
}

/// Whether `token` can travel in an `Authorization` header: no control characters (a line
/// break, carriage return or DEL would end or corrupt the header).
pub fn token_is_sendable(token: &str) -> bool {
    !token.chars().any(|c| c.is_control())
}

/// Refuses a token that cannot be sent, naming where it came from (never the token).
fn check_token(token: &str, what: &str) -> Result<()> {
    if token_is_sendable(token) {
        return Ok(());
    }
    Err(Error::Kubeconfig(format!(
        "{what} contains a line break or another control character, so it cannot be sent (kubectl refuses it too): \
         copy the token again without the line break"
    )))
}

/// The token in `path`, trimmed as client-go trims it.
fn read_token_file(path: &str, user: &str) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Kubeconfig(format!(
            "cannot read the tokenFile {path} of user \"{user}\": {e}"
        ))
    })?;
    let token = text.trim().to_string();
    if token.is_empty() {
        return Err(Error::Kubeconfig(format!(
            "the tokenFile {path} of user \"{user}\" is empty: put the bearer token in it"
        )));
    }
    check_token(&token, &format!("the tokenFile {path} of user \"{user}\""))?;
    Ok(token)
}

/// The files to read, in kubectl's order of precedence.
fn kubeconfig_files(sel: &SourceSelection, env: &SourceEnv) -> Result<Vec<PathBuf>> {
    if let Some(path) = &sel.kubeconfig {
        if !path.is_file() {
            return Err(Error::Kubeconfig(format!(
                "{} does not exist or is not a file: check the --kubeconfig path",
                path.display()
            )));
        }
        return Ok(vec![path.clone()]);
    }
    if let Some(value) = &env.kubeconfig {
        let mut seen = BTreeSet::new();
        let listed: Vec<PathBuf> = std::env::split_paths(value)
            .filter(|p| !p.as_os_str().is_empty())
            .filter(|p| seen.insert(p.clone()))
            .collect();
        if !listed.is_empty() {
            // client-go skips files in KUBECONFIG that do not exist.
            let existing: Vec<PathBuf> = listed.iter().filter(|p| p.exists()).cloned().collect();
            if existing.is_empty() {
                return Err(Error::Kubeconfig(format!(
                    "none of the files KUBECONFIG lists exists ({}): fix KUBECONFIG or pass --kubeconfig",
                    listed
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            return Ok(existing);
        }
    }
    let Some(home) = &env.home else {
        return Err(Error::Kubeconfig(
            "no kubeconfig: KUBECONFIG is not set and there is no home folder to find ~/.kube/config in. \
             Pass --kubeconfig PATH"
                .into(),
        ));
    };
    let path = home.join(".kube").join("config");
    if !path.is_file() {
        return Err(Error::Kubeconfig(format!(
            "no kubeconfig: {} does not exist and KUBECONFIG is not set. \
             Log in to your cluster first, or pass --kubeconfig PATH",
            path.display()
        )));
    }
    Ok(vec![path])
}

fn read_error(file: &Path, e: KubeconfigError) -> Error {
    match e {
        KubeconfigError::ReadConfig(io, _) => {
            Error::Kubeconfig(format!("cannot read {}: {io}", file.display()))
        }
        KubeconfigError::Parse(err) => {
            // Never echo the file: a snippet of a kubeconfig may hold a token.
            let plain = err.without_snippet();
            let first_line = plain.to_string().lines().next().unwrap_or("").to_string();
            let at = plain
                .location()
                .filter(|_| !first_line.contains(" line "))
                .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
                .unwrap_or_default();
            Error::Kubeconfig(format!(
                "{} is not a valid kubeconfig (YAML){at}: {}. Check the file, e.g. with `kubectl config view --kubeconfig {}`",
                file.display(),
                redact_quoted(&first_line),
                file.display()
            ))
        }
        other => Error::Kubeconfig(format!(
            "cannot load {}: {}",
            file.display(),
            redact_quoted(&other.to_string())
        )),
    }
}

fn describe_files(files: &[PathBuf]) -> String {
    match files {
        [one] => one.display().to_string(),
        many => format!(
            "the kubeconfig files ({})",
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn list_names<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        format!("{what}: none")
    } else {
        format!("{what}: {}", names.join(", "))
    }
}

/// Replaces quoted text (`"..."`, `'...'`) in a message: parser messages quote values, and a
/// value in a kubeconfig may be a token.
fn redact_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut quote: Option<char> = None;
    for ch in msg.chars() {
        match quote {
            Some(q) if ch == q => {
                out.push('…');
                out.push(ch);
                quote = None;
            }
            Some(_) => {}
            None if ch == '"' || ch == '`' => {
                out.push(ch);
                quote = Some(ch);
            }
            None => out.push(ch),
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    out
}

fn credentials_of(a: &AuthInfo) -> Credentials {
    if let Some(p) = &a.auth_provider {
        return Credentials::AuthProvider {
            name: p.name.clone(),
        };
    }
    if let (Some(u), Some(_)) = (&a.username, &a.password) {
        return Credentials::Basic {
            username: u.clone(),
        };
    }
    if a.token.is_some() {
        return Credentials::Token;
    }
    if let Some(path) = &a.token_file {
        return Credentials::TokenFile { path: path.clone() };
    }
    if a.client_certificate.is_some() || a.client_certificate_data.is_some() {
        return Credentials::ClientCertificate;
    }
    if let Some(exec) = &a.exec {
        return Credentials::Exec {
            command: exec.command.clone().unwrap_or_default(),
            api_version: exec.api_version.clone(),
        };
    }
    Credentials::None
}

/// The source context's server, CA, TLS server name and proxy, authenticating with `token`
/// instead of the user's credentials (to prove a new identity before anything is written).
/// TLS is verified unless `source.insecure_skip_tls_verify`, as the pipeline's kubeconfig will be.
pub fn with_token(source: &SourceContext, token: &str) -> kube::Config {
    let mut config = source.config.clone();
    config.accept_invalid_certs = source.insecure_skip_tls_verify;
    config.auth_info = AuthInfo {
        token: Some(secrecy::SecretString::from(token.to_string())),
        ..AuthInfo::default()
    };
    config
}

/// Everything the CI kubeconfig holds.
#[derive(Clone, Debug)]
pub struct CiKubeconfig {
    pub cluster_name: String,
    pub server: String,
    /// Embedded as `certificate-authority-data` (never as a path: the file travels alone).
    pub ca_pem: Option<Vec<u8>>,
    /// Only when the source context was insecure too.
    pub insecure_skip_tls_verify: bool,
    pub tls_server_name: Option<String>,
    pub proxy_url: Option<String>,
    pub user_name: String,
    pub context_name: String,
    pub namespace: String,
    pub token: SecretToken,
}

#[derive(Serialize)]
struct FileOut<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    clusters: Vec<NamedClusterOut<'a>>,
    users: Vec<NamedUserOut<'a>>,
    contexts: Vec<NamedContextOut<'a>>,
    #[serde(rename = "current-context")]
    current_context: &'a str,
}

#[derive(Serialize)]
struct NamedClusterOut<'a> {
    name: &'a str,
    cluster: ClusterOut<'a>,
}

#[derive(Serialize)]
struct NamedContextOut<'a> {
    name: &'a str,
    context: ContextOut<'a>,
}

#[derive(Serialize)]
struct NamedUserOut<'a> {
    name: &'a str,
    user: UserOut<'a>,
}

#[derive(Serialize)]
struct ClusterOut<'a> {
    server: &'a str,
    #[serde(
        rename = "certificate-authority-data",
        skip_serializing_if = "Option::is_none"
    )]
    certificate_authority_data: Option<String>,
    #[serde(rename = "insecure-skip-tls-verify", skip_serializing_if = "is_false")]
    insecure_skip_tls_verify: bool,
    #[serde(rename = "tls-server-name", skip_serializing_if = "Option::is_none")]
    tls_server_name: Option<&'a str>,
    #[serde(rename = "proxy-url", skip_serializing_if = "Option::is_none")]
    proxy_url: Option<&'a str>,
}

#[derive(Serialize)]
struct UserOut<'a> {
    token: &'a str,
}

#[derive(Serialize)]
struct ContextOut<'a> {
    cluster: &'a str,
    user: &'a str,
    namespace: &'a str,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The CI kubeconfig as YAML, in the shape client-go writes (clusters, users, contexts,
/// current-context), the CA embedded, insecure only when the source context was.
pub fn render(ci: &CiKubeconfig) -> String {
    // kubectl refuses a cluster with both a CA and insecure-skip-tls-verify.
    let ca = if ci.insecure_skip_tls_verify {
        None
    } else {
        ci.ca_pem.as_ref().map(|pem| B64.encode(pem))
    };
    let doc = FileOut {
        api_version: "v1",
        kind: "Config",
        clusters: vec![NamedClusterOut {
            name: &ci.cluster_name,
            cluster: ClusterOut {
                server: &ci.server,
                certificate_authority_data: ca,
                insecure_skip_tls_verify: ci.insecure_skip_tls_verify,
                tls_server_name: ci.tls_server_name.as_deref(),
                proxy_url: ci.proxy_url.as_deref(),
            },
        }],
        users: vec![NamedUserOut {
            name: &ci.user_name,
            user: UserOut {
                token: ci.token.expose(),
            },
        }],
        contexts: vec![NamedContextOut {
            name: &ci.context_name,
            context: ContextOut {
                cluster: &ci.cluster_name,
                user: &ci.user_name,
                namespace: &ci.namespace,
            },
        }],
        current_context: &ci.context_name,
    };
    // Plain structs of strings and bools always serialize.
    serde_saphyr::to_string(&doc).expect("a kubeconfig of strings serializes")
}

/// Writes `contents` to `path` atomically with mode 0600: a temporary file in the same folder,
/// created 0600 (never readable by others, not even for an instant), written, synced, then
/// renamed over `path` (`force`) or linked to it only if `path` does not exist yet.
pub fn write_private_file(path: &Path, contents: &str, force: bool) -> Result<()> {
    let dir = output_folder(path, force)?;
    let (tmp, mut file) = create_private_beside(path, &dir, "tmp")?;
    let written = file
        .write_all(contents.as_bytes())
        .and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_error(path, io_detail(&e, &dir)));
    }

    let placed = if force {
        std::fs::rename(&tmp, path)
    } else {
        // A hard link fails if `path` appeared meanwhile: never clobber without --force.
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => std::fs::remove_file(&tmp).or(Ok(())),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
            // File systems without hard links: check, then rename (a tiny race remains).
            Err(_) if path.symlink_metadata().is_ok() => {
                Err(std::io::ErrorKind::AlreadyExists.into())
            }
            Err(_) => std::fs::rename(&tmp, path),
        }
    };
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&tmp);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(Error::OutputExists {
                path: path.to_path_buf(),
            });
        }
        return Err(write_error(path, io_detail(&e, &dir)));
    }
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        // Make the rename itself durable.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Checks, before anything else happens, that [`write_private_file`] could write `path`: the
/// folder exists and takes a new file (a probe file is created and removed), `path` is not a
/// folder, and it does not exist unless `force`.
pub fn check_private_file(path: &Path, force: bool) -> Result<()> {
    let dir = output_folder(path, force)?;
    let (probe, file) = create_private_beside(path, &dir, "probe")?;
    let replaceable = replaceable_in(path, &dir, &file);
    drop(file);
    let _ = std::fs::remove_file(&probe);
    replaceable
}

/// In a sticky folder (such as /tmp) only the owner of a file, of the folder, or root may
/// replace it: refuse up front what the final rename would refuse. `probe` is a file this
/// process just created there, so its owner is this process's user.
#[cfg(unix)]
fn replaceable_in(path: &Path, dir: &Path, probe: &std::fs::File) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let (Ok(target), Ok(folder), Ok(me)) =
        (path.symlink_metadata(), dir.metadata(), probe.metadata())
    else {
        return Ok(());
    };
    let sticky = folder.mode() & 0o1000 != 0;
    if sticky_forbids(sticky, me.uid(), target.uid(), folder.uid()) {
        return Err(write_error(
            path,
            format!(
                "it belongs to another user, and in the sticky folder {} only its owner may replace it: \
                 choose another --output",
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// The kernel's rule for renaming over a file in a sticky folder, for user `me`.
fn sticky_forbids(sticky: bool, me: u32, file_owner: u32, folder_owner: u32) -> bool {
    sticky && me != 0 && file_owner != me && folder_owner != me
}

#[cfg(not(unix))]
fn replaceable_in(_path: &Path, _dir: &Path, _probe: &std::fs::File) -> Result<()> {
    Ok(())
}

/// Refuses to write the pipeline's kubeconfig over one of the kubeconfig files this run
/// reads: that would replace the user's own credentials with the pipeline's.
pub fn check_not_a_source(path: &Path, sources: &[PathBuf]) -> Result<()> {
    let Ok(target) = std::fs::canonicalize(path) else {
        return Ok(());
    };
    if sources
        .iter()
        .filter_map(|s| std::fs::canonicalize(s).ok())
        .any(|s| s == target)
    {
        return Err(Error::Usage(format!(
            "--output {} is the kubeconfig this command reads your own context from: writing the pipeline's \
             kubeconfig there would replace your credentials. Choose another --output",
            path.display()
        )));
    }
    Ok(())
}

fn write_error(path: &Path, detail: String) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        detail,
    }
}

/// The folder `path` goes into, once it is clear a file may be put there: the folder exists,
/// `path` is not a folder, and it does not exist yet unless `force`.
fn output_folder(path: &Path, force: bool) -> Result<PathBuf> {
    if path.as_os_str() == "-" {
        // kubectl's habit would be stdout; a token is never printed (docs/init.md).
        return Err(Error::Usage(
            "--output - would print the pipeline's token to stdout, and kubectl-cicd never prints a token: \
             give a file name (it is written with mode 0600), then use the file"
                .into(),
        ));
    }
    if path.file_name().is_none() || path.as_os_str().to_string_lossy().ends_with('/') {
        return Err(write_error(
            path,
            "that names a folder, not a file: give a file name with --output, e.g. ci/kubeconfig_ci_cd.yaml"
                .into(),
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(write_error(
            path,
            format!(
                "the folder {} does not exist: create it first or choose another --output",
                dir.display()
            ),
        ));
    }
    if path.is_dir() {
        return Err(write_error(
            path,
            "it is a folder: give a file name with --output".into(),
        ));
    }
    // A device, pipe or socket (/dev/null, /dev/stdout) would be replaced by a regular file
    // holding the token: refused even with --force.
    // A link to one (/dev/stdout) counts as one.
    let special = |m: std::fs::Metadata| !m.file_type().is_file() && !m.file_type().is_symlink();
    if path.symlink_metadata().is_ok_and(special) || path.metadata().is_ok_and(special) {
        return Err(Error::Usage(format!(
            "--output {} is not a regular file (a device, pipe or socket): the kubeconfig is written only to a \
             regular file, even with --force. Choose a file name",
            path.display()
        )));
    }
    if !force && path.symlink_metadata().is_ok() {
        return Err(Error::OutputExists {
            path: path.to_path_buf(),
        });
    }
    Ok(dir)
}

/// A new, empty file next to `path` (`.<name>.<purpose>-<pid>-<unique>`), created with mode
/// 0600 and never over an existing one.
fn create_private_beside(
    path: &Path,
    dir: &Path,
    purpose: &str,
) -> Result<(PathBuf, std::fs::File)> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let beside = dir.join(format!(
        ".{name}.{purpose}-{}-{}",
        std::process::id(),
        unique_suffix()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(&beside)
        .map_err(|e| write_error(path, io_detail(&e, dir)))?;
    Ok((beside, file))
}

fn io_detail(e: &std::io::Error, dir: &Path) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => format!(
            "permission denied in {}: choose a folder you can write to with --output",
            dir.display()
        ),
        _ => format!("{e}"),
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos:x}{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_redacted_in_debug() {
        let t = SecretToken::new("abc.def");
        assert_eq!(format!("{t:?}"), "<redacted>");
        let ci = CiKubeconfig {
            cluster_name: "c".into(),
            server: "https://x".into(),
            ca_pem: None,
            insecure_skip_tls_verify: false,
            tls_server_name: None,
            proxy_url: None,
            user_name: "u".into(),
            context_name: "u@c".into(),
            namespace: "ns".into(),
            token: t,
        };
        assert!(!format!("{ci:?}").contains("abc.def"));
    }

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "secret", expected a map"#),
            r#"invalid type: string "…", expected a map"#
        );
        assert_eq!(redact_quoted("no quotes"), "no quotes");
        assert_eq!(redact_quoted("open \"tail"), "open \"…");
    }

    #[test]
    fn sticky_folders_let_only_owners_and_root_replace_a_file() {
        assert!(
            sticky_forbids(true, 1000, 1001, 0),
            "another user's file in /tmp"
        );
        assert!(!sticky_forbids(true, 1000, 1000, 0), "one's own file");
        assert!(!sticky_forbids(true, 1000, 1001, 1000), "one's own folder");
        assert!(!sticky_forbids(true, 0, 1001, 0), "root");
        assert!(!sticky_forbids(false, 1000, 1001, 0), "not sticky");
    }

    /// A kubeconfig of one context, as JSON (a subset of YAML), with the given values.
    fn kubeconfig_text(server: &str, token: &str, name: &str, namespace: &str, ca: &str) -> String {
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca}}],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
            "current-context": name,
        })
        .to_string()
    }

    fn read(text: &[u8]) -> Result<SourceContext> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, text).unwrap();
        load_source_with(
            &SourceSelection {
                kubeconfig: Some(path),
                ..SourceSelection::default()
            },
            &SourceEnv::default(),
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Whatever the file holds: no panic while reading it nor while building the client,
        /// the token never in a message, and no control character in what is printed.
        #[test]
        fn the_reader_never_panics_nor_leaks_the_token(
            server in proptest::prop_oneof![
                proptest::prelude::any::<String>(),
                "(https?://)?[a-z0-9.:@/\\[\\]%-]{0,30}",
            ],
            token in "[ -~\r\n\t\u{7f}\u{80}-\u{10ffff}]{0,40}",
            name in proptest::prelude::any::<String>(),
            namespace in proptest::prelude::any::<String>(),
            ca in proptest::prelude::any::<String>(),
        ) {
            let token = format!("tok-{token}-en");
            match read(kubeconfig_text(&server, &token, &name, &namespace, &ca).as_bytes()) {
                Ok(source) => {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    let _guard = runtime.enter();
                    if let Err(e) = crate::cluster::Cluster::connect(source.config.clone()) {
                        let text = e.to_string();
                        proptest::prop_assert!(!text.contains(&token));
                    }
                }
                Err(e) => {
                    let text = e.to_string();
                    proptest::prop_assert!(!text.contains(&token), "{}", text);
                    let shown = crate::text::printable(&text);
                    proptest::prop_assert!(!shown.chars().any(crate::text::is_unsafe));
                }
            }
        }

        #[test]
        fn any_bytes_are_read_or_refused_without_a_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
        ) {
            let _ = read(&bytes);
        }
    }
}
