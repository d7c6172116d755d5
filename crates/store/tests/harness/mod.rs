//! The engines the conformance suite runs against, and `engines!`, which
//! instantiates each suite function once per engine as a test on a
//! multi-threaded runtime (so concurrent calls really overlap).
//!
//! PostgreSQL: the server is `COGNATE_TEST_POSTGRES_URL` (e.g.
//! `postgres://postgres@127.0.0.1:PORT/postgres`, as printed by
//! `scripts/pg-test-cluster.sh start`); each test gets a database of its own,
//! dropped when it passes. Without the variable the PostgreSQL tests fail.

use std::sync::Arc;

use cognate_core::store::Store;
use cognate_store::{PostgresStore, SqliteStore};

/// A store on a fresh SQLite file; the directory lives as long as the guard.
pub fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("cognate.db")).expect("open sqlite");
    (Arc::new(store), dir)
}

/// The PostgreSQL server of the tests.
pub fn postgres_server_url() -> String {
    match std::env::var("COGNATE_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "COGNATE_TEST_POSTGRES_URL is not set, so the PostgreSQL engine cannot be tested. \
             Start a throw-away PostgreSQL server with\n    \
             eval \"$(bash scripts/pg-test-cluster.sh start)\"\n\
             (it sets COGNATE_TEST_POSTGRES_URL; `bash scripts/pg-test-cluster.sh stop` removes it), \
             or run scripts/test.sh, which does both."
        ),
    }
}

/// `url` with its database name replaced by `name` (URL or `key=value` form).
pub fn with_dbname(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return format!("{url} dbname={name}");
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to COGNATE_TEST_POSTGRES_URL {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// A database of the test server, dropped by [`PgDatabase::drop`].
pub struct PgDatabase {
    server: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create() -> PgDatabase {
        let server = postgres_server_url();
        let name = format!(
            "cognate_test_{}",
            &cognate_crypto::random::uuid().replace('-', "")[..16]
        );
        // A database whose own collation is not byte order (ICU's en-US,
        // where "B" < "bz" < "B\u{10FFFF}"), so that the tests see whether
        // the schema's COLLATE "C" columns are what keeps listings in byte
        // order; a server without ICU gets its default.
        let admin = admin(&server).await;
        let icu = admin
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
            ))
            .await;
        if icu.is_err() {
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        }
        let url = with_dbname(&server, &name);
        PgDatabase { server, name, url }
    }

    pub async fn drop(self) {
        let _ = admin(&self.server)
            .await
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}

/// A store on a fresh PostgreSQL database.
pub async fn postgres() -> (Arc<dyn Store>, PgDatabase) {
    let db = PgDatabase::create().await;
    let store = PostgresStore::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", db.url));
    (Arc::new(store), db)
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
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, db) = $crate::harness::postgres().await;
                    super::$name(store).await;
                    db.drop().await;
                }
            )*
        }
    };
}
