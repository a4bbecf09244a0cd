//! Shared helpers for the API tests: kube clients for sandbox users, error unpacking, raw
//! requests and polling with a deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use cicd_sandbox::{Config, Sandbox};
use http_body_util::BodyExt;
use hyper::http;
use kube::Client;
use kube::core::Status;
use serde_json::Value;

pub fn start() -> Sandbox {
    start_with(Config::default())
}

pub fn start_with(config: Config) -> Sandbox {
    Sandbox::start(config).expect("sandbox starts")
}

/// A kube client from a kubeconfig (YAML), as a user of the plugin would build one.
pub async fn client_from_kubeconfig(yaml: &str, retry: bool) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(yaml).expect("kubeconfig parses");
    let mut config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("kubeconfig loads");
    config.default_retry = retry;
    Client::try_from(config).expect("client builds")
}

/// A client for a seeded user (`admin`, `alice`, `bob`) defaulting to `namespace`.
pub async fn client(sandbox: &Sandbox, user: &str, namespace: &str) -> Client {
    client_from_kubeconfig(&sandbox.kubeconfig(user, namespace), true).await
}

/// As [`client`], without kube's default retries of 429, 503 and 504.
pub async fn client_without_retries(sandbox: &Sandbox, user: &str, namespace: &str) -> Client {
    client_from_kubeconfig(&sandbox.kubeconfig(user, namespace), false).await
}

/// A client authenticating with a bearer token (a ServiceAccount's).
pub async fn token_client(sandbox: &Sandbox, token: &str, namespace: &str) -> Client {
    let yaml = cicd_sandbox::kubeconfig::render(
        sandbox.url(),
        sandbox.ca_pem(),
        "token-user",
        token,
        namespace,
    );
    client_from_kubeconfig(&yaml, true).await
}

/// The Status of a failed call; panics when the call succeeded or failed some other way.
#[track_caller]
pub fn status<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> Status {
    match result {
        Err(kube::Error::Api(s)) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// What a raw request got back: code, headers and body text.
pub struct RawReply {
    pub code: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl RawReply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("reply is not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Sends a request through the client's stack (auth, TLS) and returns whatever came back,
/// error statuses included.
pub async fn raw(
    client: &Client,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl AsRef<[u8]>,
) -> RawReply {
    let mut builder = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder
        .body(kube::client::Body::from(body.as_ref().to_vec()))
        .expect("request builds");
    let response = client.send(request).await.expect("request is answered");
    let code = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    RawReply {
        code,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Polls `check` until it returns `Some`, failing after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Converts a JSON value into a typed object.
pub fn typed<K: serde::de::DeserializeOwned>(v: Value) -> K {
    serde_json::from_value(v).expect("valid object")
}
