//! Bounded retries for transient failures, on top of kube's `RetryPolicy`.
//!
//! kube 5's `kube::client::retry::RetryPolicy` is a tower retry `Policy` that retries only
//! responses 429, 503 and 504 (any method, as long as the body can be cloned), with exponential
//! backoff and, when server-aware, the `Retry-After` header (seconds) when it asks for longer
//! than the backoff. It never retries transport errors (refused or reset connections,
//! timeouts) nor 500/502, and it honours any `Retry-After`, however long.
//!
//! [`TransientRetry`] delegates 429/503/504 to it and adds:
//! - 500 and 502, and transport errors that are worth another try (connection refused, reset
//!   or closed before the answer, timeouts) — not TLS, DNS or credential failures;
//! - for everything but 429 (rejected before any work), only idempotent requests: GET, HEAD,
//!   PUT, DELETE, server-side apply, and the POSTs that change nothing stored (self-reviews,
//!   TokenRequest: a token nobody received is harmless);
//! - 409 Conflict on a server-side apply (applying the same intent again is safe);
//! - a cap on `Retry-After` and on the total time spent waiting;
//! - a line on stderr before each wait (`API server busy (429), retrying in 2s`), so a slow
//!   run says why it is slow. It names the status or failure and the request's method and
//!   path, never a header or a body.
//!
//! Backoff delays are jittered (tower's `ExponentialBackoff`: a random extra of up to twice
//! the base delay, within `max_delay`); a `Retry-After` is waited exactly.

use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use kube::client::retry::RetryPolicy;
use tokio::time::{Instant, Sleep};
use tower::BoxError;
use tower::retry::Policy;
use tower::retry::backoff::{Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::HasherRng;

use super::errors::{TransportClass, classify_transport};

/// Retry and timeout bounds of a [`super::Cluster`].
#[derive(Clone, Debug)]
pub struct RetrySettings {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Retries when the connection is refused (a restarting API server comes back within a
    /// second or so; a wrong address never does, so keep this small).
    pub max_refused_retries: u32,
    /// First backoff delay; doubles each retry (with jitter) up to `max_delay`.
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; a server asking for more gets its 429 passed on.
    pub max_retry_after: Duration,
    /// Ceiling on the time one request spends waiting between attempts.
    pub max_total_wait: Duration,
    /// TCP/TLS connect timeout (kube's default is 30 s).
    pub connect_timeout: Duration,
    /// Read timeout per response when the config has none (kube's default is none).
    pub read_timeout: Duration,
    /// Say on stderr why and how long the client waits before each retry.
    pub announce: bool,
    /// The most one request may take in all (attempts, waits, the whole body), when the
    /// config sets no read timeout; with one (`--request-timeout`), the bound is that timeout
    /// plus `max_total_wait`.
    pub deadline: Duration,
    /// The largest answer read ([`super::limits::MAX_RESPONSE_BYTES`]).
    pub max_response_bytes: usize,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_retries: 4,
            max_refused_retries: 2,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(10),
            max_total_wait: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            announce: true,
            deadline: Duration::from_secs(60),
            max_response_bytes: super::limits::MAX_RESPONSE_BYTES,
        }
    }
}

/// The tower retry policy of our client. Tower clones it for each request, so the counters
/// are per request.
#[derive(Clone)]
pub(crate) struct TransientRetry {
    kube: RetryPolicy,
    backoff: ExponentialBackoff,
    settings: RetrySettings,
    retries: u32,
    waited: Duration,
}

impl TransientRetry {
    pub(crate) fn new(settings: &RetrySettings) -> Self {
        let max_delay = settings.max_delay.max(settings.min_delay);
        let kube = RetryPolicy::new(settings.min_delay, max_delay, settings.max_retries, true)
            .unwrap_or_default();
        let backoff =
            ExponentialBackoffMaker::new(settings.min_delay, max_delay, 2.0, HasherRng::new())
                .map(|mut m| m.make_backoff())
                .unwrap_or_else(|_| ExponentialBackoffMaker::default().make_backoff());
        TransientRetry {
            kube,
            backoff,
            settings: settings.clone(),
            retries: 0,
            waited: Duration::ZERO,
        }
    }
}

/// Whether sending the request again cannot do anything the first one did not.
pub(crate) fn is_idempotent(method: &Method, path: &str, content_type: Option<&str>) -> bool {
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE => true,
        Method::PATCH => content_type.is_some_and(|c| c.starts_with("application/apply-patch")),
        Method::POST => {
            let last = path.rsplit('/').next().unwrap_or("");
            last.ends_with("reviews") || last == "token"
        }
        _ => false,
    }
}

fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// `API server busy (429)`, `API server error (500)`, ...: why a retry is needed.
fn status_reason(status: StatusCode) -> String {
    let code = status.as_u16();
    match status {
        StatusCode::TOO_MANY_REQUESTS => format!("API server busy ({code})"),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            format!("API server unavailable ({code})")
        }
        StatusCode::CONFLICT => format!("API server reported a conflict ({code})"),
        _ => format!("API server error ({code})"),
    }
}

/// `2s`, `1.5s`, `350ms` (a `Retry-After: 1` measured a moment later still reads `1s`).
fn human_delay(d: Duration) -> String {
    if d >= Duration::from_millis(950) {
        let tenths = (d.as_millis() + 50) / 100;
        if tenths.is_multiple_of(10) {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        }
    } else {
        format!("{}ms", d.as_millis())
    }
}

impl<Res> Policy<Request<Body>, Response<Res>, BoxError> for TransientRetry {
    type Future = Sleep;

    fn retry(
        &mut self,
        req: &mut Request<Body>,
        result: &mut Result<Response<Res>, BoxError>,
    ) -> Option<Self::Future> {
        if self.retries >= self.settings.max_retries {
            return None;
        }
        let content_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let idempotent = is_idempotent(req.method(), req.uri().path(), content_type);
        let is_apply = *req.method() == Method::PATCH
            && content_type.is_some_and(|c| c.starts_with("application/apply-patch"));
        let (sleep, why) = match result {
            Ok(resp) => {
                let status = resp.status();
                let sleep = match status {
                    StatusCode::TOO_MANY_REQUESTS => {
                        if retry_after(resp.headers())
                            .is_some_and(|d| d > self.settings.max_retry_after)
                        {
                            return None;
                        }
                        self.kube.retry(req, result)?
                    }
                    StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT if idempotent => {
                        self.kube.retry(req, result)?
                    }
                    StatusCode::INTERNAL_SERVER_ERROR | StatusCode::BAD_GATEWAY if idempotent => {
                        self.backoff.next_backoff()
                    }
                    StatusCode::CONFLICT if is_apply => self.backoff.next_backoff(),
                    _ => return None,
                };
                (sleep, status_reason(status))
            }
            Err(e) if idempotent => match classify_transport(e.as_ref()) {
                TransportClass::Refused if self.retries < self.settings.max_refused_retries => (
                    self.backoff.next_backoff(),
                    "the API server refused the connection".to_string(),
                ),
                TransportClass::Closed => (
                    self.backoff.next_backoff(),
                    "the connection to the API server closed before it answered".to_string(),
                ),
                TransportClass::Timeout => (
                    self.backoff.next_backoff(),
                    "the API server did not answer in time".to_string(),
                ),
                _ => return None,
            },
            Err(_) => return None,
        };
        let delay = sleep.deadline().saturating_duration_since(Instant::now());
        if self.waited + delay > self.settings.max_total_wait {
            return None;
        }
        self.waited += delay;
        self.retries += 1;
        if self.settings.announce {
            eprintln!(
                "{why}, retrying in {} ({} {})",
                human_delay(delay),
                req.method(),
                req.uri().path()
            );
        }
        Some(sleep)
    }

    fn clone_request(&mut self, req: &Request<Body>) -> Option<Request<Body>> {
        <RetryPolicy as Policy<Request<Body>, Response<Res>, BoxError>>::clone_request(
            &mut self.kube,
            req,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_by_method_and_path() {
        let apply = Some("application/apply-patch+yaml");
        assert!(is_idempotent(
            &Method::GET,
            "/api/v1/namespaces/x/secrets/y",
            None
        ));
        assert!(is_idempotent(
            &Method::PATCH,
            "/apis/rbac.authorization.k8s.io/v1/namespaces/x/roles/r",
            apply
        ));
        assert!(!is_idempotent(
            &Method::PATCH,
            "/api/v1/namespaces/x/pods/p",
            Some("application/json-patch+json")
        ));
        assert!(is_idempotent(
            &Method::POST,
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            None
        ));
        assert!(is_idempotent(
            &Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            None
        ));
        assert!(is_idempotent(
            &Method::POST,
            "/api/v1/namespaces/x/serviceaccounts/ci/token",
            None
        ));
        assert!(!is_idempotent(
            &Method::POST,
            "/api/v1/namespaces/x/secrets",
            None
        ));
    }

    #[test]
    fn waits_are_said_briefly() {
        assert_eq!(human_delay(Duration::from_secs(2)), "2s");
        assert_eq!(human_delay(Duration::from_millis(1460)), "1.5s");
        assert_eq!(human_delay(Duration::from_millis(350)), "350ms");
        assert_eq!(human_delay(Duration::from_millis(999)), "1s");
        assert_eq!(
            status_reason(StatusCode::TOO_MANY_REQUESTS),
            "API server busy (429)"
        );
        assert_eq!(
            status_reason(StatusCode::INTERNAL_SERVER_ERROR),
            "API server error (500)"
        );
    }

    #[tokio::test]
    async fn backoff_is_jittered_and_bounded() {
        let settings = RetrySettings::default();
        let delays: Vec<Duration> = (0..8)
            .map(|_| {
                let mut policy = TransientRetry::new(&settings);
                drop(policy.backoff.next_backoff());
                let sleep = policy.backoff.next_backoff();
                sleep
                    .deadline()
                    .saturating_duration_since(tokio::time::Instant::now())
            })
            .collect();
        // The second delay's base is 2 x min_delay; jitter adds up to twice that, within max.
        for d in &delays {
            assert!(*d <= settings.max_delay, "{d:?}");
            assert!(
                *d + Duration::from_millis(5) >= settings.min_delay * 2,
                "{d:?}"
            );
        }
        let first = delays[0];
        assert!(
            delays
                .iter()
                .any(|d| d.abs_diff(first) > Duration::from_millis(1)),
            "jitter: {delays:?}"
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("3"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("soon"),
        );
        assert_eq!(retry_after(&h), None);
    }
}
