//! Reading a manifest as `kubectl apply -f` does: a file, `-` for stdin, or an `https://`
//! URL. A URL is fetched with the HTTP stack already in the binary for the API server
//! (hyper, rustls with ring, the system's root certificates; `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` as OpenSSL reads them), through `HTTPS_PROXY` when it is set, following up
//! to five redirects. Every source is capped at [`MAX_MANIFEST_BYTES`].

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;

use super::manifest::MAX_MANIFEST_BYTES;
use crate::error::{Error, Result};

/// How long a URL may take to arrive, whole, when `--request-timeout` does not say.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(60);

const MAX_REDIRECTS: usize = 5;

/// The manifest's text and how to name where it came from.
pub struct Source {
    /// `namespace-install.yaml`, `stdin`, `https://…`.
    pub label: String,
    pub text: String,
}

/// Reads `-f`'s argument.
pub async fn read(filename: &str, timeout: Option<Duration>) -> Result<Source> {
    let (label, bytes) = if filename == "-" {
        ("stdin".to_string(), read_stdin()?)
    } else if let Some(rest) = filename.strip_prefix("http://") {
        return Err(Error::Input {
            what: filename.to_string(),
            detail: format!(
                "plain http is not accepted: a manifest fetched without TLS can be changed on the way. Use https://{rest}"
            ),
        });
    } else if filename.starts_with("https://") {
        let url = crate::text::redact_userinfo(filename);
        let bytes = fetch(filename, timeout.unwrap_or(DEFAULT_FETCH_TIMEOUT))
            .await
            .map_err(|detail| Error::Input {
                what: url.clone(),
                detail,
            })?;
        (url, bytes)
    } else {
        (filename.to_string(), read_file(filename)?)
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::Manifest {
        what: label.clone(),
        detail: "it is not text (not UTF-8), so not a YAML manifest".into(),
    })?;
    Ok(Source { label, text })
}

fn too_large() -> String {
    format!(
        "it is larger than {} MiB, more than any Argo CD manifest",
        MAX_MANIFEST_BYTES / 1024 / 1024
    )
}

fn read_file(path: &str) -> Result<Vec<u8>> {
    let input = |detail: String| Error::Input {
        what: path.to_string(),
        detail,
    };
    let file = std::fs::File::open(path).map_err(|e| {
        input(match e.kind() {
            std::io::ErrorKind::NotFound => {
                "no such file (pass a path, - for stdin, or an https:// URL)".into()
            }
            _ => e.to_string(),
        })
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| input(e.to_string()))?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(input(too_large()));
    }
    Ok(bytes)
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_MANIFEST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Input {
            what: "stdin".into(),
            detail: e.to_string(),
        })?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(Error::Input {
            what: "stdin".into(),
            detail: too_large(),
        });
    }
    Ok(bytes)
}

/// GETs `url` within `timeout`, through `HTTPS_PROXY` when it applies.
async fn fetch(url: &str, timeout: Duration) -> std::result::Result<Vec<u8>, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("it is not a URL ({e})"))?;
    let tls = || {
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("no trusted root certificates to check the server with: {e}"))
            .map(|b| b.https_only().enable_http1())
    };
    let proxy = hyper_util::client::proxy::matcher::Matcher::from_env().intercept(&uri);
    let work = async {
        match proxy {
            Some(proxy) => {
                let mut tunnel = hyper_util::client::legacy::connect::proxy::Tunnel::new(
                    proxy.uri().clone(),
                    HttpConnector::new(),
                );
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let client = Client::builder(TokioExecutor::new())
                    .build::<_, Empty<Bytes>>(tls()?.wrap_connector(tunnel));
                get(&client, uri).await
            }
            None => {
                let mut http = HttpConnector::new();
                http.enforce_http(false);
                let client = Client::builder(TokioExecutor::new())
                    .build::<_, Empty<Bytes>>(tls()?.wrap_connector(http));
                get(&client, uri).await
            }
        }
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| {
        format!(
            "no complete answer within {} s (--request-timeout sets how long to wait)",
            timeout.as_secs()
        )
    })?
}

/// GET, following redirects; the body of the final 200, at most [`MAX_MANIFEST_BYTES`].
async fn get<C>(
    client: &Client<C, Empty<Bytes>>,
    mut uri: http::Uri,
) -> std::result::Result<Vec<u8>, String>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    for _ in 0..=MAX_REDIRECTS {
        if uri.scheme_str() != Some("https") {
            return Err(format!(
                "it redirects to {}, which is not https",
                crate::text::redact_userinfo(&uri.to_string())
            ));
        }
        let request = http::Request::get(uri.clone())
            .header(http::header::USER_AGENT, crate::cluster::user_agent())
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = client.request(request).await.map_err(|e| describe(&e))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| format!("the server answered {status} without a Location"))?;
            uri = resolve(&uri, location)?;
            continue;
        }
        if status != http::StatusCode::OK {
            return Err(format!(
                "the server answered {status}: check the URL (for a GitHub file, the raw.githubusercontent.com address of the tag)"
            ));
        }
        let body = Limited::new(response.into_body(), MAX_MANIFEST_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    format!("the answer broke off: {e}")
                }
            })?;
        return Ok(body.to_bytes().to_vec());
    }
    Err(format!("more than {MAX_REDIRECTS} redirects"))
}

/// A `Location` against the URL that answered with it.
fn resolve(base: &http::Uri, location: &str) -> std::result::Result<http::Uri, String> {
    let bad = || format!("the server redirects to {location:?}, which is not a URL");
    if location.contains("://") {
        return location.parse().map_err(|_| bad());
    }
    let authority = base.authority().ok_or_else(bad)?;
    let path = if location.starts_with('/') {
        location.to_string()
    } else {
        let dir = base.path().rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        format!("{dir}/{location}")
    };
    format!("https://{authority}{path}")
        .parse()
        .map_err(|_| bad())
}

/// The client's error with its causes, which say what went wrong (refused, DNS, TLS).
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut text = if e.is_connect() {
        "cannot connect".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_resolve_against_the_url_that_answered() {
        let base: http::Uri = "https://example.com/a/b/file.yaml".parse().unwrap();
        assert_eq!(
            resolve(&base, "/x/y.yaml").unwrap().to_string(),
            "https://example.com/x/y.yaml"
        );
        assert_eq!(
            resolve(&base, "other.yaml").unwrap().to_string(),
            "https://example.com/a/b/other.yaml"
        );
        assert_eq!(
            resolve(&base, "https://cdn.example.org/f")
                .unwrap()
                .to_string(),
            "https://cdn.example.org/f"
        );
    }

    #[tokio::test]
    async fn plain_http_and_missing_files_are_refused_with_what_to_do() {
        let e = read("http://example.com/x.yaml", None).await.err().unwrap();
        assert!(
            e.to_string().contains("Use https://example.com/x.yaml"),
            "{e}"
        );
        assert_eq!(e.exit_code(), 2);
        let e = read("/no/such/manifest.yaml", None).await.err().unwrap();
        assert!(e.to_string().contains("no such file"), "{e}");
    }

    #[tokio::test]
    async fn an_unreachable_url_says_so() {
        // Port 1 on the loopback interface: nothing listens there.
        let e = read("https://127.0.0.1:1/namespace-install.yaml", None)
            .await
            .err()
            .unwrap();
        let text = e.to_string();
        assert!(
            text.starts_with(
                "cannot read https://127.0.0.1:1/namespace-install.yaml: cannot connect"
            ),
            "{text}"
        );
    }
}
