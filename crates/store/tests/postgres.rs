//! What only the PostgreSQL engine has: migrations applied by one of many
//! instances starting at once, the schema's collations, connection errors.
//! Needs `COGNATE_TEST_POSTGRES_URL` (see `scripts/pg-test-cluster.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
mod harness;

use cognate_store::PostgresStore;
use futures_util::future::join_all;
use harness::PgDatabase;

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_at_once_apply_each_migration_once() {
    let db = PgDatabase::create().await;
    let starts = (0..8).map(|_| {
        let url = db.url.clone();
        tokio::spawn(async move { PostgresStore::connect(&url).await })
    });
    let stores: Vec<PostgresStore> = join_all(starts)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("connect"))
        .collect();
    // Every migration file, in order: (version, name).
    let mut files: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
            .expect("migrations directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".sql").map(str::to_owned))
            .collect();
    files.sort();
    let expected: Vec<(i64, String)> = files
        .into_iter()
        .enumerate()
        .map(|(i, name)| (i as i64 + 1, name))
        .collect();
    let latest = expected.len() as i64;
    for store in &stores {
        assert_eq!(store.schema_version().await.expect("version"), latest);
    }
    let c = client(&db.url).await;
    let rows = c
        .query(
            "SELECT version, name FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("migrations");
    let applied: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(applied, expected);
    // A later start finds nothing to do.
    let again = PostgresStore::connect(&db.url).await.expect("reconnect");
    assert_eq!(again.schema_version().await.expect("version"), latest);
    drop((stores, again));
    db.drop().await;
}

#[tokio::test]
async fn a_database_of_a_newer_cognate_is_refused() {
    let db = PgDatabase::create().await;
    drop(PostgresStore::connect(&db.url).await.expect("connect"));
    client(&db.url)
        .await
        .batch_execute(
            "INSERT INTO schema_migrations (version, name, applied) VALUES (99, '0099_future', 0)",
        )
        .await
        .expect("insert");
    let err = PostgresStore::connect(&db.url)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("newer"), "{err}");
    db.drop().await;
}

#[tokio::test]
async fn every_compared_text_column_orders_by_bytes() {
    let db = PgDatabase::create().await;
    drop(PostgresStore::connect(&db.url).await.expect("connect"));
    let rows = client(&db.url)
        .await
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND data_type = 'text'
               AND table_name <> 'schema_migrations'
               AND column_name NOT IN ('data', 'css', 'scope')
               AND coalesce(collation_name, '') <> 'C'
             ORDER BY 1, 2",
            &[],
        )
        .await
        .expect("columns");
    let loose: Vec<String> = rows
        .iter()
        .map(|r| format!("{}.{}", r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect();
    assert!(
        loose.is_empty(),
        "TEXT columns without COLLATE \"C\": {loose:?}"
    );
    db.drop().await;
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_are_errors() {
    assert!(PostgresStore::connect("postgres://[nope").await.is_err());
    // Nothing listens on port 1.
    let err = PostgresStore::connect("postgres://postgres@127.0.0.1:1/db")
        .await
        .err()
        .expect("unreachable");
    assert!(!err.to_string().is_empty());
}
