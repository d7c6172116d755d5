//! An axum app served on 127.0.0.1 from a thread and runtime of its own:
//! the fakes of the tests (a Lambda service, identity providers) that the
//! `cognate` binary calls over real HTTP.

/// A served app; it stops (and its port refuses connections) when dropped
/// or [`stop`](Background::stop)ped.
pub struct Background {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Serves `app` on a free port.
    pub fn serve(app: axum::Router) -> Background {
        Self::serve_at(|_| app)
    }

    /// Serves the app `build` makes for its own URL (a fake whose answers
    /// name it, e.g. an identity provider's issuer) on a free port.
    pub fn serve_at(build: impl FnOnce(&str) -> axum::Router) -> Background {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = build(&url);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Background {
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops serving (connections are refused from now on).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
    }
}
