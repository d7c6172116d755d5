//! The database a test server keeps its state in: the SQLite file of its
//! data directory, or, when `COGNATE_TEST_ENGINE=postgres`, a fresh
//! PostgreSQL database created on `COGNATE_TEST_POSTGRES_URL` (see
//! `scripts/pg-test-cluster.sh`) and dropped with its [`TestDatabase`].

use std::path::Path;
use std::sync::Arc;

use cognate_core::store::Store;
use cognate_store::{PostgresStore, SqliteStore};

/// Whether the tests run on PostgreSQL (`COGNATE_TEST_ENGINE=postgres`);
/// unset or `sqlite` means SQLite.
pub fn on_postgres() -> bool {
    match std::env::var("COGNATE_TEST_ENGINE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Ok("") | Err(_) => false,
        Ok(other) => panic!("COGNATE_TEST_ENGINE={other}: expected sqlite or postgres"),
    }
}

fn postgres_server_url() -> String {
    match std::env::var("COGNATE_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "COGNATE_TEST_ENGINE=postgres needs COGNATE_TEST_POSTGRES_URL (a PostgreSQL server to \
             create test databases on). Start a throw-away one with\n    \
             eval \"$(bash scripts/pg-test-cluster.sh start)\"\n\
             (`bash scripts/pg-test-cluster.sh stop` removes it), or run scripts/test.sh."
        ),
    }
}

/// `url` with its database name replaced by `name`.
fn with_dbname(url: &str, name: &str) -> String {
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

/// Runs `sql` on the server at `url`, on a thread and runtime of its own
/// (so it works from synchronous tests and from inside a runtime alike).
fn run_sql(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("cannot connect to {url}: {e}"))?;
            let task = tokio::spawn(connection);
            let done = client.batch_execute(&sql).await.map_err(|e| e.to_string());
            drop(client);
            let _ = task.await;
            done
        })
    })
    .join()
    .unwrap_or_else(|_| Err("the SQL thread panicked".into()))
}

/// A fresh PostgreSQL database, dropped with this value.
pub struct TestDatabase {
    server: String,
    name: String,
    /// What `--database` is given.
    pub url: String,
}

impl TestDatabase {
    /// A fresh database when the tests run on PostgreSQL; `None` on SQLite.
    pub fn for_engine() -> Option<TestDatabase> {
        on_postgres().then(TestDatabase::create)
    }

    pub fn create() -> TestDatabase {
        let server = postgres_server_url();
        let name = format!(
            "cognate_it_{}",
            &cognate_crypto::random::uuid().replace('-', "")[..16]
        );
        run_sql(&server, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let url = with_dbname(&server, &name);
        TestDatabase { server, name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = run_sql(
            &self.server,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// The store a server with this data directory and database works on,
/// opened in the caller's runtime.
pub async fn open_store(data_dir: &Path, database: Option<&TestDatabase>) -> Arc<dyn Store> {
    match database {
        Some(db) => Arc::new(
            PostgresStore::connect(&db.url)
                .await
                .unwrap_or_else(|e| panic!("connect to {}: {e}", db.url)),
        ),
        None => Arc::new(
            SqliteStore::open(&data_dir.join("cognate.db")).expect("open the server's database"),
        ),
    }
}
