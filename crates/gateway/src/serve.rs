//! How the gateway listens: one thread per worker, each with its own
//! single-threaded tokio runtime and its own listening socket on the same
//! address (`SO_REUSEPORT`, the kernel spreads connections over them), like
//! nginx's worker processes. A request, its token check and its upstream
//! connection (`proxy`'s per-thread pool) stay on one thread, so no request
//! wakes another thread on its way through.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::watch;

use crate::Gateway;

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
    let router = gateway.into_router();
    let mut handles = Vec::with_capacity(workers);
    for (i, socket) in sockets.into_iter().enumerate() {
        let router = router.clone();
        let mut shutdown = shutdown.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = std::thread::Builder::new()
            .name(format!("cognate-gateway-{i}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(socket) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!(error = %e, "gateway worker cannot listen");
                            return;
                        }
                    };
                    let service =
                        router.into_make_service_with_connect_info::<std::net::SocketAddr>();
                    let stop = async move {
                        let _ = shutdown.wait_for(|stop| *stop).await;
                    };
                    if let Err(e) = axum::serve(listener, service)
                        .with_graceful_shutdown(stop)
                        .await
                    {
                        tracing::error!(error = %e, "gateway worker failed");
                    }
                });
            })?;
        handles.push(handle);
    }
    Ok(Running {
        local_addr,
        workers: handles,
    })
}
