//! kube errors turned into [`crate::error::Error`] variants people can act on.
//!
//! Nothing here copies a request or header into a message, so tokens cannot leak through it;
//! exec plugin output is reduced to its exit status and stderr.

use std::error::Error as StdError;

use kube::client::AuthError;

use super::limits::Limit;

use crate::error::Error;

/// What kind of failure happened below HTTP (no response was received).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TransportClass {
    /// The server's certificate did not verify (unknown CA, wrong name, expired).
    Tls(String),
    /// Nothing listens there (yet).
    Refused,
    /// The name does not resolve.
    Dns(String),
    /// Connect or read timed out.
    Timeout,
    /// The connection broke or closed before the answer came.
    Closed,
    /// Our own bound on the request's time or size ([`super::limits`]).
    Limit(Limit),
    /// Something else (credential plugin, proxy, ...).
    Other(String),
}

/// The error and everything it wraps, including the inner error of `std::io::Error`s (whose
/// `source()` skips it).
fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    const MAX: usize = 24;
    let mut out: Vec<&(dyn StdError + 'static)> = Vec::new();
    let mut stack = vec![err];
    while let Some(e) = stack.pop() {
        if out.len() >= MAX {
            break;
        }
        out.push(e);
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            let inner: &(dyn StdError + 'static) = inner;
            stack.push(inner);
            continue;
        }
        if let Some(next) = e.source() {
            stack.push(next);
        }
    }
    out
}

/// The innermost message of a chain: usually the most specific one.
fn innermost(err: &(dyn StdError + 'static)) -> String {
    chain(err)
        .last()
        .map(|e| e.to_string())
        .unwrap_or_else(|| err.to_string())
}

pub(crate) fn classify_transport(err: &(dyn StdError + 'static)) -> TransportClass {
    let links = chain(err);
    if let Some(limit) = links.iter().find_map(|e| e.downcast_ref::<Limit>()) {
        return TransportClass::Limit(limit.clone());
    }
    for e in &links {
        if e.downcast_ref::<kube::Error>()
            .is_some_and(|k| matches!(k, kube::Error::Auth(_)))
        {
            return TransportClass::Other(e.to_string());
        }
    }
    for e in &links {
        let text = e.to_string();
        let lower = text.to_lowercase();
        if lower.contains("certificate") || lower.contains("unknownissuer") {
            return TransportClass::Tls(text);
        }
    }
    for e in &links {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionRefused => return TransportClass::Refused,
                TimedOut => return TransportClass::Timeout,
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
                    return TransportClass::Closed;
                }
                _ => {}
            }
        }
    }
    for e in &links {
        let lower = e.to_string().to_lowercase();
        if lower.contains("dns error") || lower.contains("failed to lookup address") {
            return TransportClass::Dns(innermost(err));
        }
        if lower.contains("connection refused") {
            return TransportClass::Refused;
        }
        if lower.contains("timed out") || lower.contains("deadline has elapsed") {
            return TransportClass::Timeout;
        }
        if lower.contains("connection closed before message completed")
            || lower.contains("connection reset")
            || lower.contains("incomplete message")
            || lower.contains("close_notify")
        {
            return TransportClass::Closed;
        }
    }
    TransportClass::Other(innermost(err))
}

/// Maps an error from a request made while doing `context` (e.g. "applying Role team-a/ci").
pub(crate) fn map(err: kube::Error, server: &str, proxy: Option<&str>, context: &str) -> Error {
    match err {
        kube::Error::Api(status) => {
            let code = status.code;
            let reason = status.reason.clone();
            let message = if status.message.is_empty() {
                format!("{reason} (HTTP {code})")
            } else {
                status.message.clone()
            };
            match code {
                401 => Error::Unauthorized {
                    server: server.to_string(),
                },
                403 => Error::Forbidden {
                    message,
                    hint: format!(
                        "This happened while {context}. Ask an administrator of the namespace or cluster for that permission, or use a context whose user has it."
                    ),
                },
                429 => Error::Api {
                    context: context.to_string(),
                    code,
                    reason: if reason.is_empty() {
                        "TooManyRequests".into()
                    } else {
                        reason
                    },
                    message: format!(
                        "the API server is overloaded (429 Too Many Requests) and still was after retrying: {}. Try again in a minute",
                        message.trim().trim_end_matches('.')
                    ),
                },
                // Writing into a namespace that does not exist (or reading the namespace).
                404 if status
                    .details
                    .as_ref()
                    .is_some_and(|d| d.kind == "namespaces" && d.group.is_empty()) =>
                {
                    Error::NoNamespace {
                        namespace: status
                            .details
                            .as_ref()
                            .map(|d| d.name.clone())
                            .unwrap_or_default(),
                    }
                }
                _ => Error::Api {
                    context: context.to_string(),
                    code,
                    reason,
                    message,
                },
            }
        }
        kube::Error::Auth(auth) => credentials_error(&auth, "of this context"),
        kube::Error::SerdeError(e) => Error::BadResponse {
            context: context.to_string(),
            message: format!(
                "the server's answer could not be read ({e}): is {server} a Kubernetes API server?"
            ),
        },
        other => transport_error(&other, server, proxy, context),
    }
}

fn transport_error(
    err: &(dyn StdError + 'static),
    server: &str,
    proxy: Option<&str>,
    context: &str,
) -> Error {
    let server = server.to_string();
    match classify_transport(err) {
        TransportClass::Tls(detail) => Error::Tls { server, detail },
        // Through a proxy, the connection that was refused is the one to the proxy.
        TransportClass::Refused => match proxy {
            Some(proxy) => Error::Unreachable {
                server,
                detail: format!(
                    "the proxy {proxy} refused the connection while {context} (nothing listens there). \
                     Check the cluster's proxy-url and HTTPS_PROXY, or add the API server to NO_PROXY"
                ),
            },
            None => Error::Unreachable {
                server,
                detail: format!(
                    "connection refused while {context} (nothing listens at that address and port)"
                ),
            },
        },
        TransportClass::Limit(Limit::Deadline(d)) => Error::Unreachable {
            server,
            detail: format!(
                "the API server did not finish answering within {}s while {context}, retries included. \
                 Pass --request-timeout (e.g. 2m) to allow a slow server longer",
                d.as_secs_f64()
            ),
        },
        TransportClass::Limit(Limit::TooLarge(cap)) => Error::BadResponse {
            context: context.to_string(),
            message: format!(
                "the answer of {server} is larger than {} MiB, far more than any page of a real API server: \
                 is it a Kubernetes API server?",
                cap / (1024 * 1024)
            ),
        },
        TransportClass::Dns(detail) => Error::Unreachable {
            server,
            detail: format!("the host name does not resolve ({detail})"),
        },
        TransportClass::Timeout => Error::Unreachable {
            server,
            detail: format!("timed out while {context}"),
        },
        TransportClass::Closed => Error::Unreachable {
            server,
            detail: format!(
                "the connection was closed before the server answered, while {context}"
            ),
        },
        TransportClass::Other(detail) => {
            if let Some(kube::Error::Auth(auth)) = chain(err)
                .iter()
                .find_map(|e| e.downcast_ref::<kube::Error>())
            {
                return credentials_error(auth, "of this context");
            }
            Error::Unreachable {
                server,
                detail: format!("{detail} (while {context})"),
            }
        }
    }
}

/// Errors from building the client: bad CA data, unsupported proxy, failing exec plugin.
pub(crate) fn build_error(err: kube::Error, server: &str, user: &str) -> Error {
    match err {
        kube::Error::Auth(auth) => credentials_error(&auth, user),
        kube::Error::ProxyProtocolDisabled { proxy_url, .. }
        | kube::Error::ProxyProtocolUnsupported { proxy_url } => Error::Kubeconfig(format!(
            "the proxy {} (from the cluster's proxy-url or HTTPS_PROXY) uses a protocol kubectl-cicd does not support: \
             use an http:// or https:// proxy, or add the API server to NO_PROXY",
            redact_userinfo(&proxy_url.to_string())
        )),
        kube::Error::RustlsTls(e) => Error::Kubeconfig(format!(
            "the TLS settings of the cluster at {server} cannot be used: {e}. \
             Check certificate-authority(-data) and the client certificate and key of the user entry"
        )),
        kube::Error::InferKubeconfig(e) => Error::Kubeconfig(e.to_string()),
        other => Error::Kubeconfig(format!("cannot set up a client for {server}: {other}")),
    }
}

fn credentials_error(auth: &AuthError, user: &str) -> Error {
    let detail = match auth {
        // Never the plugin's stdout (it may hold a token) nor its command line (its env).
        AuthError::AuthExecRun { out, .. } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stderr = stderr.trim();
            if stderr.is_empty() {
                format!("the exec plugin failed ({})", out.status)
            } else {
                format!("the exec plugin failed ({}): {stderr}", out.status)
            }
        }
        AuthError::AuthExecStart(e) => {
            format!("the exec plugin could not be started: {e} (is it installed and on PATH?)")
        }
        AuthError::AuthExecParse(_) => {
            "the exec plugin's output is not an ExecCredential (JSON with status.token)".to_string()
        }
        AuthError::ExecPluginFailed => "the exec plugin returned no credentials".to_string(),
        AuthError::MalformedTokenExpirationDate(e) => {
            format!("the exec plugin returned a malformed expirationTimestamp ({e})")
        }
        other => other.to_string(),
    };
    Error::Credentials {
        user: user.to_string(),
        detail,
    }
}

use crate::text::redact_userinfo;

/// `true` for a 404 answer.
pub(crate) fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds_classify() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "nope");
        assert_eq!(classify_transport(&refused), TransportClass::Refused);
        let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "eof");
        assert_eq!(classify_transport(&eof), TransportClass::Closed);
        let tls = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "invalid peer certificate: UnknownIssuer",
        );
        assert!(matches!(classify_transport(&tls), TransportClass::Tls(_)));
    }

    #[test]
    fn proxy_passwords_are_not_shown() {
        assert_eq!(
            redact_userinfo("http://user:pw@proxy:3128/"),
            "http://…@proxy:3128/"
        );
        assert_eq!(redact_userinfo("http://proxy:3128/"), "http://proxy:3128/");
    }
}
