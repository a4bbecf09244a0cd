//! An overall deadline and a size cap on every request, retries included.
//!
//! kube's read timeout only bounds the time between two reads, so a server that sends a byte
//! every few seconds would hold a command forever, and an endless body would be buffered until
//! memory runs out. [`LimitsLayer`] sits outside the retry layer: the deadline starts when a
//! request is made and covers every attempt, every wait between them and the whole body; the
//! body is cut off once it passes [`MAX_RESPONSE_BYTES`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};
use tower::{BoxError, Layer, Service};

/// The largest answer read from the API server: 128 MiB. The biggest answer the commands read
/// is a 500-item list page (kubectl's chunk size) of Roles or ClusterRoles; even at 256 KiB per
/// object (a Role of over a thousand rules, with managedFields) such a page is 125 MiB. A
/// cap this high never cuts off a real cluster, and still stops an endless or hostile body
/// long before it exhausts memory.
pub const MAX_RESPONSE_BYTES: usize = 128 * 1024 * 1024;

/// Why a request was cut off.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Limit {
    /// The request, with its retries and its body, took longer than this.
    #[error("the request did not finish within {0:?}")]
    Deadline(Duration),
    /// The answer was larger than this many bytes.
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
}

/// Applies [`Limits`] to a service.
#[derive(Clone, Debug)]
pub struct LimitsLayer {
    deadline: Duration,
    max_bytes: usize,
}

impl LimitsLayer {
    pub fn new(deadline: Duration, max_bytes: usize) -> Self {
        LimitsLayer {
            deadline,
            max_bytes,
        }
    }
}

impl<S> Layer<S> for LimitsLayer {
    type Service = Limits<S>;

    fn layer(&self, inner: S) -> Limits<S> {
        Limits {
            inner,
            deadline: self.deadline,
            max_bytes: self.max_bytes,
        }
    }
}

/// A service whose requests end by a deadline and whose bodies end at a size.
#[derive(Clone, Debug)]
pub struct Limits<S> {
    inner: S,
    deadline: Duration,
    max_bytes: usize,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, B> Service<Request<ReqBody>> for Limits<S>
where
    S: Service<Request<ReqBody>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<LimitedBody<B>>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let deadline = self.deadline;
        let max_bytes = self.max_bytes;
        let until = Instant::now() + deadline;
        let answer = self.inner.call(req);
        Box::pin(async move {
            match tokio::time::timeout_at(until, answer).await {
                Err(_) => Err(Box::new(Limit::Deadline(deadline)) as BoxError),
                Ok(Err(e)) => Err(e.into()),
                Ok(Ok(resp)) => Ok(resp.map(|body| LimitedBody {
                    inner: body,
                    deadline,
                    until: Box::pin(tokio::time::sleep_until(until)),
                    max_bytes,
                    read: 0,
                })),
            }
        })
    }
}

/// A response body that fails once the request's deadline passes or it grows too large.
pub struct LimitedBody<B> {
    inner: B,
    deadline: Duration,
    until: Pin<Box<Sleep>>,
    max_bytes: usize,
    read: usize,
}

impl<B> HttpBody for LimitedBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.until.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(Limit::Deadline(this.deadline)))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.read = this.read.saturating_add(data.len());
                    if this.read > this.max_bytes {
                        return Poll::Ready(Some(Err(Box::new(Limit::TooLarge(this.max_bytes)))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full, StreamBody};

    #[tokio::test]
    async fn a_body_over_the_cap_fails() {
        let body = LimitedBody {
            inner: Full::new(Bytes::from(vec![b'x'; 2048])),
            deadline: Duration::from_secs(5),
            until: Box::pin(tokio::time::sleep(Duration::from_secs(5))),
            max_bytes: 1024,
            read: 0,
        };
        let err = body.collect().await.expect_err("cut off");
        assert_eq!(err.downcast_ref::<Limit>(), Some(&Limit::TooLarge(1024)));
    }

    #[tokio::test]
    async fn a_body_past_the_deadline_fails() {
        let endless = futures_util::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Some((
                Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from_static(b"x"))),
                (),
            ))
        });
        let body = LimitedBody {
            inner: StreamBody::new(Box::pin(endless)),
            deadline: Duration::from_millis(300),
            until: Box::pin(tokio::time::sleep(Duration::from_millis(300))),
            max_bytes: 1024,
            read: 0,
        };
        let err = body.collect().await.expect_err("cut off");
        assert_eq!(
            err.downcast_ref::<Limit>(),
            Some(&Limit::Deadline(Duration::from_millis(300)))
        );
    }
}
