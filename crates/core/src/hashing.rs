//! Password work (argon2id, SRP verifiers) on a few dedicated threads, one
//! per core, each keeping its argon2 working memory between jobs. This keeps
//! hashing off the async workers, bounds concurrent hashes to the cores that
//! can run them, and keeps memory at one block set per thread instead of a
//! fresh 19 MiB per hash.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use cognate_crypto::{HashMemory, PasswordHasher};
use tokio::sync::oneshot;

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce(&PasswordHasher, &mut HashMemory) + Send>;

/// The hashing threads.
pub struct HashWorkers {
    jobs: Mutex<mpsc::Sender<Job>>,
    hasher: Arc<PasswordHasher>,
}

impl HashWorkers {
    pub fn new(hasher: PasswordHasher, threads: usize) -> Self {
        let hasher = Arc::new(hasher);
        let (tx, rx) = mpsc::channel::<Job>();
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
            let _ = tx.send(f(hasher, memory));
        });
        self.jobs
            .lock()
            .map_err(|_| Error::internal("hash queue poisoned"))?
            .send(job)
            .map_err(|_| Error::internal("hashing threads stopped"))?;
        rx.await
            .map_err(|_| Error::internal("hashing job was dropped"))
    }
}
