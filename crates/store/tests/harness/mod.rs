//! The engines the conformance suite runs against, and `engines!`, which
//! instantiates each suite function once per engine as a test on a
//! multi-threaded runtime (so concurrent calls really overlap).

use std::sync::Arc;

use cognate_core::store::Store;
use cognate_store::SqliteStore;

/// A store on a fresh SQLite file; the directory lives as long as the guard.
pub fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("cognate.db")).expect("open sqlite");
    (Arc::new(store), dir)
}

#[macro_export]
macro_rules! engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, _dir) = $crate::harness::sqlite();
                    super::$name(store).await;
                }
            )*
        }
    };
}
