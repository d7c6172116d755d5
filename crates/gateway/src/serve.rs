//! How the gateway listens: one thread per worker, each with its own
//! single-threaded tokio runtime and its own listening socket on the same
//! address (`SO_REUSEPORT`, the kernel spreads connections over them), like
//! nginx's worker processes. A request, its token check and its upstream
//! connection (`proxy`'s per-thread pool) stay on one thread, so no request
//! wakes another thread on its way through. Connections are served by
//! hyper's HTTP/1.1 server directly (keep-alive, a header read timeout
//! that also ends idle kept-alive connections, a header size limit).
//!
//! Each worker serves at most its share of `max_connections`; when full it
//! stops accepting, so further connections wait in its listen backlog
//! until one of its connections closes (like nginx's `worker_connections`).
//! Slow clients cannot hold a place for long: a connection that has not
//! sent a whole request head within the header read timeout is closed.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::{ClientConnection, Gateway, Limits};

/// How long open connections may take to finish after shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Pending connections per listening socket.
const BACKLOG: i32 = 1024;

/// The running gateway: its address, and its worker threads to wait for.
pub struct Running {
    pub local_addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
}

impl Running {
    /// Waits until every worker has finished its connections (after the
    /// shutdown signal).
    pub fn join(self) {
        for w in self.workers {
            let _ = w.join();
        }
    }
}

fn listener(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// Binds `addr` once per worker (`workers` 0 means one per core) and
/// serves the gateway until `shutdown` turns true; binding errors are
/// returned before anything is served.
pub fn spawn(
    gateway: Gateway,
    addr: SocketAddr,
    workers: usize,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<Running> {
    let workers = match workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    // The first socket fixes the port (when `addr` asks for any port).
    let first = listener(addr)?;
    let local_addr = first.local_addr()?;
    let mut sockets = vec![first];
    for _ in 1..workers {
        sockets.push(listener(local_addr)?);
    }
    // Each worker's share of the connections, at least one.
    let per_worker = (gateway.limits.max_connections / workers).max(1);
    let gateway = Arc::new(gateway);
    let mut handles = Vec::with_capacity(workers);
    for (i, socket) in sockets.into_iter().enumerate() {
        let gateway = gateway.clone();
        let shutdown = shutdown.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = std::thread::Builder::new()
            .name(format!("cognate-gateway-{i}"))
            .spawn(move || runtime.block_on(accept_loop(gateway, socket, per_worker, shutdown)))?;
        handles.push(handle);
    }
    Ok(Running {
        local_addr,
        workers: handles,
    })
}

/// Accepts connections (at most `max_connections` open at once) until
/// shutdown, then waits (at most `DRAIN_TIMEOUT`) for the open ones to
/// finish their current request.
async fn accept_loop(
    gateway: Arc<Gateway>,
    socket: std::net::TcpListener,
    max_connections: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(socket) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "gateway worker cannot listen");
            return;
        }
    };
    let limits = gateway.limits;
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        if connections.len() >= max_connections {
            // Full: accept nothing until a connection closes.
            tokio::select! {
                _ = connections.join_next() => continue,
                _ = stopped(&mut shutdown) => break,
            }
        }
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(gateway.clone(), limits, stream, peer, shutdown.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off a little.
                    tracing::warn!(error = %e, "gateway accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stopped(&mut shutdown) => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// Resolves once the shutdown flag is set (never, once its sender is gone
/// without setting it).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Serves one client connection (HTTP/1.1, keep-alive).
async fn connection(
    gateway: Arc<Gateway>,
    limits: Limits,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    // One clone of the shared gateway per connection, not per request: its
    // count is the one cache line every worker would otherwise write to.
    let state = Arc::new(ClientConnection::new(gateway, peer));
    let service = service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(crate::handle(state, req).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
