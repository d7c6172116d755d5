//! Password work (argon2id, SRP verifiers) on a few dedicated threads, one
//! per core, each keeping its argon2 working memory between jobs. This keeps
//! hashing off the async workers, bounds concurrent hashes to the cores that
//! can run them, and keeps memory at one block set per thread instead of a
//! fresh 19 MiB per hash. The queue in front of them is bounded: past
//! [`QUEUE_PER_THREAD`] waiting jobs per thread a new one is refused at once
//! with TooManyRequestsException (shedding, instead of answering everyone
//! late), and a job whose caller has gone away is skipped.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use cognate_crypto::{HashMemory, PasswordHasher};
use tokio::sync::oneshot;

use crate::error::{Error, ErrorKind, Result};

/// Waiting hash jobs per hashing thread before new ones are shed: at about
/// 20-50 ms a hash, a few seconds of work at most.
pub const QUEUE_PER_THREAD: usize = 64;

type Job = Box<dyn FnOnce(&PasswordHasher, &mut HashMemory) + Send>;

/// The hashing threads.
pub struct HashWorkers {
    jobs: Mutex<mpsc::SyncSender<Job>>,
    hasher: Arc<PasswordHasher>,
}

impl HashWorkers {
    pub fn new(hasher: PasswordHasher, threads: usize) -> Self {
        Self::with_queue(hasher, threads, threads.max(1) * QUEUE_PER_THREAD)
    }

    /// With `queue` waiting jobs at most.
    pub fn with_queue(hasher: PasswordHasher, threads: usize, queue: usize) -> Self {
        let hasher = Arc::new(hasher);
        let (tx, rx) = mpsc::sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let hasher = hasher.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("cognate-hash-{i}"))
                .spawn(move || {
                    let mut memory = HashMemory::default();
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&hasher, &mut memory),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a hashing thread");
            }
        }
        HashWorkers {
            jobs: Mutex::new(tx),
            hasher,
        }
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Runs `f` on a hashing thread and waits for its result.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&PasswordHasher, &mut HashMemory) -> R + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |hasher, memory| {
            if tx.is_closed() {
                // The request was given up while it waited.
                return;
            }
            let _ = tx.send(f(hasher, memory));
        });
        self.jobs
            .lock()
            .map_err(|_| Error::internal("hash queue poisoned"))?
            .try_send(job)
            .map_err(|e| match e {
                mpsc::TrySendError::Full(_) => {
                    Error::new(ErrorKind::TooManyRequests, "Too many requests")
                }
                mpsc::TrySendError::Disconnected(_) => Error::internal("hashing threads stopped"),
            })?;
        rx.await
            .map_err(|_| Error::internal("hashing job was dropped"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use cognate_crypto::PasswordParams;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_sheds_with_too_many_requests() {
        let hasher = PasswordHasher::new(PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        let workers = Arc::new(HashWorkers::with_queue(hasher, 1, 2));
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        // One job holds the thread; two wait in the queue.
        let mut held = Vec::new();
        for _ in 0..3 {
            let (w, r) = (workers.clone(), release_rx.clone());
            held.push(tokio::spawn(async move {
                w.run(move |_, _| {
                    let _ = r.lock().unwrap().recv();
                })
                .await
            }));
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let err = workers.run(|_, _| ()).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooManyRequests);
        for _ in 0..3 {
            release_tx.send(()).unwrap();
        }
        for h in held {
            h.await.unwrap().unwrap();
        }
        workers
            .run(|_, _| ())
            .await
            .expect("accepted again once drained");
    }
}
