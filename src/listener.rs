//! The main listener (the API, OAuth endpoints, hosted UI, JWKS, health):
//! HTTP/1.1 connections served by hyper with the limits of `--max-*` and
//! `--*-timeout-ms`, and the graceful shutdown.
//!
//! - **Connections**: a semaphore of `max_connections` permits is taken
//!   before each accept, so a full server stops accepting and new
//!   connections wait in the kernel's listen backlog until one closes.
//! - **Idle and slow heads**: a connection that sends nothing for
//!   `idle_timeout` (before its first request, or kept alive after a
//!   response) is closed; once the first byte of a request head has come,
//!   the whole head must follow within `header_read_timeout` (slowloris).
//!   hyper has one timer for both (its header-read timer starts when the
//!   connection becomes idle), so [`HeadTimer`] gives that timer the idle
//!   deadline and moves it to the head deadline when [`Counted`] sees the
//!   first byte read.
//! - **Heads**: a request line and headers above `max_header_bytes` (or
//!   more than 100 headers) answer 431 (hyper).
//! - **Requests**: a request that has not produced its response (its body
//!   read included) within `request_timeout` answers 504, in Cognito's
//!   JSON shape (`InternalErrorException`) on the API.
//! - **Shutdown**: the listening socket is closed at once (new connections
//!   are refused), idle connections are closed, open requests get
//!   `shutdown_grace` to finish, then whatever is left is dropped.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::cli::ListenerArgs;

/// The limits of the main listener (`ListenerArgs`, in typed units).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_header_bytes: usize,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
    /// Whether the client address is read from X-Forwarded-For (cognate
    /// runs behind a proxy that sets it); else the peer address is it.
    pub trust_forwarded_for: bool,
}

impl From<&ListenerArgs> for Limits {
    fn from(a: &ListenerArgs) -> Limits {
        Limits {
            max_connections: a.max_connections as usize,
            header_read_timeout: Duration::from_millis(a.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(a.idle_timeout_ms),
            max_header_bytes: a.max_header_bytes as usize,
            request_timeout: Duration::from_millis(a.request_timeout_ms),
            shutdown_grace: Duration::from_secs(a.shutdown_grace_secs),
            trust_forwarded_for: a.trust_forwarded_for,
        }
    }
}

/// hyper's default read buffer (8 KiB + 100 × 4 KiB); raised when the
/// header limit is above it, so that the limit, not the buffer, decides.
const DEFAULT_MAX_BUF: usize = 8192 + 4096 * 100;

/// Serves `app` on `listener` until `shutdown` resolves, then drains (see
/// the module doc). Returns once every connection is closed or the grace
/// is over.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        // A permit first: a full server accepts nothing until one is free.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, _)) => {
                connections.spawn(connection(
                    stream,
                    app.clone(),
                    limits,
                    stopping.clone(),
                    permit,
                ));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off a little.
                tracing::warn!(error = %e, "accept failed");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = &mut shutdown => break,
                }
            }
        }
    }
    // New connections are refused from here on.
    drop(listener);
    let _ = stop.send(true);
    let open = connections.len();
    if open > 0 {
        tracing::info!(
            connections = open,
            grace_secs = limits.shutdown_grace.as_secs(),
            "closing open connections (requests in progress may finish)"
        );
    }
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "shutdown grace over: closing the connections still open"
        );
        connections.shutdown().await;
    }
}

/// Serves one client connection (HTTP/1.1, keep-alive) while it holds its permit.
async fn connection(
    stream: TcpStream,
    app: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().ok().map(|a| a.ip());
    let trust_forwarded_for = limits.trust_forwarded_for;
    let reads = Arc::new(AtomicU64::new(0));
    let io = TokioIo::new(Counted {
        inner: stream,
        reads: reads.clone(),
    });
    let request_timeout = limits.request_timeout;
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let app = app.clone();
        let context = cognate_core::audit::RequestContext {
            source_ip: source_ip(peer, trust_forwarded_for, req.headers()),
            request_id: Some(cognate_crypto::random::uuid()),
            access_key_id: None,
            user_ip: None,
            user_agent: req
                .headers()
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| {
                    v.chars()
                        .take(cognate_core::audit::MAX_USER_AGENT)
                        .collect()
                }),
            compromised_credentials: Default::default(),
            mfa_answered: Default::default(),
            risk: Default::default(),
        };
        async move {
            Ok::<_, Infallible>(
                cognate_core::audit::scope(context, handle(app, req, request_timeout)).await,
            )
        }
    });
    let conn = http1::Builder::new()
        .timer(HeadTimer {
            reads,
            idle: limits.idle_timeout,
            head: limits.header_read_timeout,
        })
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(DEFAULT_MAX_BUF.max(limits.max_header_bytes + 8192))
        .serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped(&mut stopping) => {
            // Idle: closed now; in a request: closed after its response.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// The client's address: the peer's, or behind a trusted proxy the last
/// address of X-Forwarded-For (the one that proxy appended; earlier ones
/// are whatever the client sent).
fn source_ip(
    peer: Option<std::net::IpAddr>,
    trust_forwarded_for: bool,
    headers: &axum::http::HeaderMap,
) -> Option<std::net::IpAddr> {
    if trust_forwarded_for {
        // The very last entry only: one that does not parse is not
        // replaced by an earlier (client-supplied) one.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|a| a.trim().parse::<std::net::IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer
}

/// Resolves once the stop flag is set.
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    if stopping.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// One request through the routes, within the request timeout.
async fn handle(app: Router, req: Request<Incoming>, timeout: Duration) -> Response<Body> {
    let api = req.uri().path() == "/";
    let oauth = req.uri().path().contains("/oauth2/");
    let method = req.method().clone();
    match tokio::time::timeout(timeout, app.oneshot(req)).await {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(_) => {
            tracing::warn!(%method, api, timeout_ms = timeout.as_millis() as u64, "request timed out");
            timed_out(api, oauth, timeout)
        }
    }
}

/// The 504 of a request over the timeout, in the shape its client reads.
fn timed_out(api: bool, oauth: bool, timeout: Duration) -> Response<Body> {
    let message = format!(
        "The request did not complete within {} ms.",
        timeout.as_millis()
    );
    let (content_type, body) = if api {
        (
            "application/x-amz-json-1.1",
            serde_json::json!({"__type": "InternalErrorException", "message": message}),
        )
    } else if oauth {
        (
            "application/json;charset=UTF-8",
            serde_json::json!({"error": "temporarily_unavailable", "error_description": message}),
        )
    } else {
        ("application/json", serde_json::json!({"message": message}))
    };
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::GATEWAY_TIMEOUT;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if api {
        if let Ok(id) = HeaderValue::from_str(&cognate_crypto::random::uuid()) {
            h.insert("x-amzn-RequestId", id);
        }
        h.insert(
            "x-amzn-ErrorType",
            HeaderValue::from_static("InternalErrorException"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    response
}

/// A client stream that counts its reads that returned bytes.
struct Counted {
    inner: TcpStream,
    reads: Arc<AtomicU64>,
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.reads.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The timer of one connection. hyper (HTTP/1 server) uses its timer only
/// for the header-read timeout, started when it begins waiting for a
/// request head; the sleeps of this timer end at the idle deadline while
/// nothing is read, and `head` after the first byte of the head.
#[derive(Clone)]
struct HeadTimer {
    reads: Arc<AtomicU64>,
    idle: Duration,
    head: Duration,
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, _: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HeadSleep {
            reads: self.reads.clone(),
            seen: self.reads.load(Ordering::Relaxed),
            head: self.head,
            receiving: false,
            sleep: Box::pin(tokio::time::sleep(self.idle)),
        })
    }

    fn sleep_until(&self, _: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep(self.head)
    }
}

/// See [`HeadTimer`].
struct HeadSleep {
    reads: Arc<AtomicU64>,
    /// The read count when the wait began.
    seen: u64,
    head: Duration,
    /// A byte of the head has come: the deadline is the head's.
    receiving: bool,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if !this.receiving && this.reads.load(Ordering::Relaxed) != this.seen {
            this.receiving = true;
            this.sleep
                .as_mut()
                .reset(tokio::time::Instant::now() + this.head);
        }
        this.sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HeadSleep {}
