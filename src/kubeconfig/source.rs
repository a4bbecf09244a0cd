//! Reading the user's source context as kubectl does.
//!
//! Reading goes through kube's own loader (`Kubeconfig::read_from`, which resolves relative
//! file references against each file's folder, and `Kubeconfig::merge`, first-wins per name as
//! client-go merges `KUBECONFIG`), with checks in front of it so every mistake gets a message
//! that names the file, the entry and what to do. The `kube::Config` is built once here and
//! handed to [`crate::cluster::Cluster::connect`].

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use kube::config::{AuthInfo, Kubeconfig, KubeconfigError};

use crate::error::{Error, Result};

/// The exec credential API version whose `interactiveMode` client-go requires.
const EXEC_API_V1: &str = "client.authentication.k8s.io/v1";

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

/// The names of every context of the kubeconfig (the same files [`load_source`] reads), in
/// the files' order, each once.
pub fn context_names(sel: &SourceSelection) -> Result<Vec<String>> {
    let files = kubeconfig_files(sel, &SourceEnv::from_process())?;
    let mut names: Vec<String> = Vec::new();
    for file in &files {
        let one = Kubeconfig::read_from(file).map_err(|e| read_error(file, e))?;
        for c in one.contexts {
            if !names.contains(&c.name) {
                names.push(c.name);
            }
        }
    }
    Ok(names)
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

/// The bearer token of a pipeline's kubeconfig, as `init` and `rotate` write it: the token of
/// its current context's user. Errors name the file, never its content.
pub fn ci_token(path: &Path) -> Result<super::SecretToken> {
    use secrecy::ExposeSecret as _;
    let kc = Kubeconfig::read_from(path).map_err(|e| read_error(path, e))?;
    let unusable = |why: &str| {
        Error::Kubeconfig(format!(
            "{} has no token to verify with: {why}. Pass the pipeline's kubeconfig as kubectl cicd init wrote it",
            path.display()
        ))
    };
    let context_name = kc
        .current_context
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| unusable("it sets no current-context"))?;
    let user = kc
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.user.clone())
        .ok_or_else(|| unusable("its current context names no user"))?;
    let token = kc
        .auth_infos
        .iter()
        .find(|a| a.name == user)
        .and_then(|a| a.auth_info.as_ref())
        .and_then(|a| a.token.as_ref())
        .map(|t| t.expose_secret().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unusable("its user has no token"))?;
    if !token_is_sendable(&token) {
        return Err(unusable(
            "its token holds a line break or another control character",
        ));
    }
    Ok(super::SecretToken::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "secret", expected a map"#),
            r#"invalid type: string "…", expected a map"#
        );
        assert_eq!(redact_quoted("no quotes"), "no quotes");
        assert_eq!(redact_quoted("open \"tail"), "open \"…");
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
