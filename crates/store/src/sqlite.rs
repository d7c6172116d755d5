//! The embedded SQLite backend: one file in WAL mode, one writer connection
//! and a few reader connections, each owned by a thread of its own that
//! takes jobs from a queue ([`Workers`]). No call runs on an async worker;
//! a call that reads and then writes does both inside one `BEGIN IMMEDIATE`
//! transaction on the writer, so the rules of `cognate_core::store` hold
//! against concurrent callers.
//!
//! Durability: `synchronous = FULL` by default (a commit is on disk before
//! the caller hears of it, surviving a crash of the process or of the
//! machine); `NORMAL` ([`Durability::Normal`]) survives a crash of the
//! process but may lose the last commits on power loss.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use cognate_core::clock::Millis;
use cognate_core::error::StoreError;
use cognate_core::model::{
    AliasKey, AppClient, AuthorizationCode, ChallengeSession, CodeRecord, Group, LinkedIdentity,
    PoolDomain, RefreshTokenRecord, ResourceServer, SsoSession, StoredKey, UiCustomization, User,
    UserFilter, UserImportJob, UserPool, WebAuthnCredential,
};
use cognate_core::store::{
    CodeUse, CredentialAdd, IdentityLink, ImportOutcome, ImportUser, LockoutPolicy, SignInFailures,
    Store, StoreResult, UserPage, Write,
};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use crate::common::{
    alias_rows, alias_taken_from, backend, from_json, judge_code, list_users_query, next_failures,
    page_of, to_json, user_columns, user_from_parts, CodeStep, SqlValue, INSERT_USER, UPDATE_USER,
    USER_SELECT_SQLITE as USER_SELECT,
};

/// Migrations in order; the index + 1 is the schema version.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        "0002_groups",
        include_str!("../migrations/sqlite/0002_groups.sql"),
    ),
    (
        "0003_oauth",
        include_str!("../migrations/sqlite/0003_oauth.sql"),
    ),
    (
        "0004_hosted_ui",
        include_str!("../migrations/sqlite/0004_hosted_ui.sql"),
    ),
    (
        "0005_rules",
        include_str!("../migrations/sqlite/0005_rules.sql"),
    ),
    (
        "0006_key_rotation",
        include_str!("../migrations/sqlite/0006_key_rotation.sql"),
    ),
    (
        "0007_user_import_jobs",
        include_str!("../migrations/sqlite/0007_user_import_jobs.sql"),
    ),
    (
        "0008_exact_email",
        include_str!("../migrations/sqlite/0008_exact_email.sql"),
    ),
    (
        "0009_client_version",
        include_str!("../migrations/sqlite/0009_client_version.sql"),
    ),
    (
        "0010_refresh_rotation",
        include_str!("../migrations/sqlite/0010_refresh_rotation.sql"),
    ),
    (
        "0011_auth_events",
        include_str!("../migrations/sqlite/0011_auth_events.sql"),
    ),
    (
        "0012_user_identities",
        include_str!("../migrations/sqlite/0012_user_identities.sql"),
    ),
    (
        "0013_webauthn_credentials",
        include_str!("../migrations/sqlite/0013_webauthn_credentials.sql"),
    ),
    (
        "0014_token_sessions",
        include_str!("../migrations/sqlite/0014_token_sessions.sql"),
    ),
    (
        "0015_sso_sessions",
        include_str!("../migrations/sqlite/0015_sso_sessions.sql"),
    ),
];

const READERS: usize = 4;

/// How far a commit is on its way to the disk when the caller hears of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: on disk (fsync) at every commit.
    #[default]
    Full,
    /// `synchronous = NORMAL`: in the WAL in the OS's cache; a crash of the
    /// process loses nothing, a power loss may lose the last commits.
    Normal,
}

pub struct SqliteStore {
    readers: Workers,
    writer: Workers,
    path: PathBuf,
}

/// Work for a connection's thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Threads that each own one connection and take jobs from one queue: the
/// async workers only queue a job and await its answer, never block on
/// SQLite (or on a lock around a connection).
struct Workers {
    queue: crossbeam_channel::Sender<Job>,
}

impl Workers {
    fn spawn(name: &str, connections: Vec<Connection>) -> Result<Self, StoreError> {
        let (queue, jobs) = crossbeam_channel::unbounded::<Job>();
        for (i, mut conn) in connections.into_iter().enumerate() {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-{name}-{i}"))
                .spawn(move || {
                    // Ends when the store (every sender) is dropped.
                    while let Ok(job) = jobs.recv() {
                        job(&mut conn);
                    }
                })
                .map_err(backend)?;
        }
        Ok(Workers { queue })
    }

    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.queue
            .send(Box::new(move |conn: &mut Connection| {
                let _ = answer.send(f(conn));
            }))
            .map_err(|_| backend("the database threads have stopped"))?;
        answered
            .await
            .map_err(|_| backend("a database thread stopped during a call"))?
    }
}

fn map_err(e: rusqlite::Error) -> StoreError {
    if is_constraint(&e) {
        StoreError::Conflict(e.to_string())
    } else {
        backend(e)
    }
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn open_connection(path: &Path, durability: Durability) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(backend)?;
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = {synchronous};
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;"
    ))
    .map_err(backend)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema
    /// up to date, committing every write to disk (`synchronous = FULL`).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, Durability::Full)
    }

    pub fn open_with(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let mut writer = open_connection(path, durability)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path, durability))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SqliteStore {
            readers: Workers::spawn("read", readers)?,
            writer: Workers::spawn("write", vec![writer])?,
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a reader connection, on its thread.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.readers.run(move |conn| f(conn)).await
    }

    /// Runs `f` on the writer connection, on its thread: writes are
    /// serialised there, and a read-then-write runs as one transaction.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.writer.run(f).await
    }

    /// The schema version (number of applied migrations).
    pub async fn schema_version(&self) -> StoreResult<i64> {
        self.read(|c| {
            c.query_row("SELECT max(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .map_err(backend)
        })
        .await
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied INTEGER NOT NULL
        )",
    )
    .map_err(backend)?;
    let current: i64 = conn
        .query_row(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    if current > MIGRATIONS.len() as i64 {
        return Err(backend(format!(
            "database schema version {current} is newer than this cognate ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        tx.execute_batch(sql)
            .map_err(|e| backend(format!("migration {name}: {e}")))?;
        if *name == "0005_rules" {
            refresh_user_rows(&tx)?;
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied) VALUES (?1, ?2, strftime('%s','now'))",
            params![i as i64 + 1, name],
        )
        .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

/// Migration 0005's Rust step: rewrites every user's filter columns (now
/// folded by the application) and fills `user_aliases` from the pool's
/// alias settings. Where old data had one alias twice, the first user (by
/// username key) keeps it.
fn refresh_user_rows(tx: &rusqlite::Transaction<'_>) -> StoreResult<()> {
    let pools: Vec<String> = {
        let mut stmt = tx.prepare("SELECT data FROM user_pools").map_err(backend)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)?
    };
    for pool in pools {
        let pool: UserPool = from_json(&pool)?;
        let users: Vec<String> = {
            let mut stmt = tx
                .prepare("SELECT data FROM users WHERE pool_id = ?1 ORDER BY username_key")
                .map_err(backend)?;
            let rows = stmt.query_map([&pool.id], |r| r.get(0)).map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        for user in users {
            let user: User = from_json(&user)?;
            let c = user_columns(&user)?;
            tx.execute(
                "UPDATE users SET email = ?3, phone_number = ?4, preferred_username = ?5, name = ?6,
                 given_name = ?7, family_name = ?8 WHERE pool_id = ?1 AND username_key = ?2",
                params![
                    user.pool_id,
                    user.username_key,
                    c.email,
                    c.phone_number,
                    c.preferred_username,
                    c.name,
                    c.given_name,
                    c.family_name
                ],
            )
            .map_err(backend)?;
            for alias in pool.alias_keys(&user) {
                tx.execute(
                    "INSERT OR IGNORE INTO user_aliases (pool_id, kind, value, username_key) VALUES (?1, ?2, ?3, ?4)",
                    params![user.pool_id, alias.kind, alias.value, user.username_key],
                )
                .map_err(backend)?;
            }
        }
    }
    Ok(())
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

type UserRow = (String, i64, Option<i64>, Option<i64>, Option<String>);

fn user_of(row: UserRow) -> StoreResult<User> {
    user_from_parts(&row.0, row.1, row.2, row.3, row.4.as_deref())
}

fn one_user(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> StoreResult<Option<User>> {
    let row: Option<UserRow> = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row(params, user_from_row).optional())
        .map_err(backend)?;
    row.map(user_of).transpose()
}

fn code_from_row(row: &Row<'_>) -> rusqlite::Result<CodeRecord> {
    Ok(CodeRecord {
        pool_id: row.get(0)?,
        username_key: row.get(1)?,
        purpose: row.get(2)?,
        code_hash: row.get(3)?,
        expires: row.get(4)?,
        attempts: row.get::<_, i64>(5)? as u32,
    })
}

const INSERT_REFRESH: &str =
    "INSERT INTO refresh_tokens (token_hash, pool_id, client_id, username_key,
     sub, origin_jti, auth_time, created, expires, revoked, scope, rotated_until,
     device_key, last_active, sso_session_id, last_ip, last_device)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

/// [`INSERT_REFRESH`] for a new sign-in: a token granted through an SSO
/// session is stored only while that session exists (none if a
/// revocation got there first).
const INSERT_SIGN_IN_REFRESH: &str =
    "INSERT INTO refresh_tokens (token_hash, pool_id, client_id, username_key,
     sub, origin_jti, auth_time, created, expires, revoked, scope, rotated_until,
     device_key, last_active, sso_session_id, last_ip, last_device)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17
     WHERE ?15 IS NULL
        OR EXISTS (SELECT 1 FROM sso_sessions WHERE pool_id = ?2 AND session_id = ?15)";

/// Stores a new sign-in's refresh token ([`INSERT_SIGN_IN_REFRESH`]);
/// `Conflict` if its user or its SSO session is gone.
fn insert_sign_in_refresh(conn: &Connection, t: &RefreshTokenRecord) -> StoreResult<()> {
    let n = conn
        .prepare_cached(INSERT_SIGN_IN_REFRESH)
        .and_then(|mut s| insert_refresh(&mut s, t))
        .map_err(map_err)?;
    if n == 0 {
        return Err(StoreError::Conflict(
            "the user or the SSO session is gone".to_owned(),
        ));
    }
    Ok(())
}

fn insert_refresh(
    s: &mut rusqlite::CachedStatement<'_>,
    t: &RefreshTokenRecord,
) -> rusqlite::Result<usize> {
    s.execute(params![
        t.token_hash,
        t.pool_id,
        t.client_id,
        t.username_key,
        t.sub,
        t.origin_jti,
        t.auth_time,
        t.created,
        t.expires,
        t.revoked,
        t.scope,
        t.rotated_until,
        t.device_key,
        t.last_active,
        t.sso_session_id,
        t.last_ip,
        t.last_device
    ])
}

/// The columns [`refresh_from_row`] reads, in its order.
const REFRESH_COLUMNS: &str = "token_hash, pool_id, client_id, username_key, sub, origin_jti,
     auth_time, created, expires, revoked, scope, rotated_until, device_key, last_active,
     sso_session_id, last_ip, last_device";

const SSO_COLUMNS: &str = "pool_id, session_id, username_key, sub, client_id, created,
     last_active, expires, last_ip, last_device";

fn sso_from_row(row: &Row<'_>) -> rusqlite::Result<SsoSession> {
    Ok(SsoSession {
        pool_id: row.get(0)?,
        session_id: row.get(1)?,
        username_key: row.get(2)?,
        sub: row.get(3)?,
        client_id: row.get(4)?,
        created: row.get(5)?,
        last_active: row.get(6)?,
        expires: row.get(7)?,
        last_ip: row.get(8)?,
        last_device: row.get(9)?,
    })
}

/// Revokes the refresh tokens of the sign-in sessions `origin_jti IN
/// (subquery)` and marks those sessions revoked until `until`.
fn revoke_families(
    tx: &rusqlite::Transaction<'_>,
    origins: &str,
    params: &[&dyn rusqlite::ToSql],
    until: Millis,
) -> StoreResult<usize> {
    let marked = format!(
        "INSERT INTO revoked_sessions (pool_id, origin_jti, username_key, until)
         SELECT DISTINCT pool_id, origin_jti, username_key, {until} FROM refresh_tokens
         WHERE (pool_id, origin_jti) IN ({origins})
         ON CONFLICT (pool_id, origin_jti) DO UPDATE SET until = max(until, excluded.until)"
    );
    tx.execute(&marked, params).map_err(backend)?;
    tx.execute(
        &format!(
            "UPDATE refresh_tokens SET revoked = 1 WHERE (pool_id, origin_jti) IN ({origins})"
        ),
        params,
    )
    .map_err(backend)
}

fn refresh_from_row(row: &Row<'_>) -> rusqlite::Result<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        token_hash: row.get(0)?,
        pool_id: row.get(1)?,
        client_id: row.get(2)?,
        username_key: row.get(3)?,
        sub: row.get(4)?,
        origin_jti: row.get(5)?,
        auth_time: row.get(6)?,
        created: row.get(7)?,
        expires: row.get(8)?,
        revoked: row.get::<_, i64>(9)? != 0,
        scope: row.get(10)?,
        rotated_until: row.get(11)?,
        device_key: row.get(12)?,
        last_active: row.get(13)?,
        sso_session_id: row.get(14)?,
        last_ip: row.get(15)?,
        last_device: row.get(16)?,
    })
}

/// Documents (`data` column) of a query, parsed.
fn documents<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> StoreResult<Vec<T>> {
    let rows: Vec<String> = {
        let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
        let rows = stmt.query_map(params, |r| r.get(0)).map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)?
    };
    rows.iter().map(|d| from_json(d)).collect()
}

fn document<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> StoreResult<Option<T>> {
    let data: Option<String> = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row(params, |r| r.get(0)).optional())
        .map_err(backend)?;
    data.map(|d| from_json(&d)).transpose()
}

/// A document and the version it was written at (`SELECT data, version`).
fn versioned_document<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    id: &str,
) -> StoreResult<Option<(T, i64)>> {
    let row: Option<(String, i64)> = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(backend)?;
    row.map(|(data, version)| Ok((from_json(&data)?, version)))
        .transpose()
}

/// Moves the aliases among `aliases` whose kind is in `take` to the user
/// `username_key` (inside the caller's transaction, which holds the one
/// writer): a holder that is another user loses the alias row and its
/// `<kind>_verified` (its document is rewritten and its version moves on).
fn take_aliases(
    tx: &Connection,
    pool_id: &str,
    username_key: &str,
    aliases: &[AliasKey],
    take: &[String],
    modified: Millis,
) -> StoreResult<()> {
    for alias in aliases.iter().filter(|a| take.contains(&a.kind)) {
        let holder: Option<String> = tx
            .query_row(
                "SELECT username_key FROM user_aliases WHERE pool_id = ?1 AND kind = ?2 AND value = ?3",
                [pool_id, &alias.kind, &alias.value],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        let Some(holder) = holder.filter(|h| h != username_key) else {
            continue;
        };
        if let Some(previous) = one_user(
            tx,
            &format!("{USER_SELECT} WHERE u.pool_id = ?1 AND u.username_key = ?2"),
            &[&pool_id, &holder],
        )? {
            let version = previous.version;
            let previous = alias_taken_from(previous, &alias.kind, modified);
            let c = user_columns(&previous)?;
            tx.prepare_cached(UPDATE_USER)
                .and_then(|mut s| {
                    s.execute(params![
                        pool_id,
                        holder,
                        c.username,
                        c.sub,
                        c.status,
                        c.enabled,
                        c.email,
                        c.phone_number,
                        c.preferred_username,
                        c.name,
                        c.given_name,
                        c.family_name,
                        c.data,
                        version
                    ])
                })
                .map_err(map_err)?;
        }
        tx.execute(
            "DELETE FROM user_aliases WHERE pool_id = ?1 AND kind = ?2 AND value = ?3",
            [pool_id, &alias.kind, &alias.value],
        )
        .map_err(backend)?;
    }
    Ok(())
}

/// Replaces the alias rows of a user (inside the caller's transaction);
/// `AliasTaken` if another user holds one.
fn put_aliases(
    tx: &Connection,
    pool_id: &str,
    username_key: &str,
    aliases: &[AliasKey],
) -> StoreResult<()> {
    let current: Vec<(String, String)> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT kind, value FROM user_aliases WHERE pool_id = ?1 AND username_key = ?2 ORDER BY kind",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([pool_id, username_key], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)?
    };
    let wanted = alias_rows(aliases);
    if current == wanted {
        return Ok(());
    }
    tx.execute(
        "DELETE FROM user_aliases WHERE pool_id = ?1 AND username_key = ?2",
        [pool_id, username_key],
    )
    .map_err(backend)?;
    for (kind, value) in wanted {
        match tx.execute(
            "INSERT INTO user_aliases (pool_id, kind, value, username_key) VALUES (?1, ?2, ?3, ?4)",
            params![pool_id, kind, value, username_key],
        ) {
            Ok(_) => {}
            Err(e) if is_constraint(&e) => return Err(StoreError::AliasTaken(kind)),
            Err(e) => return Err(backend(e)),
        }
    }
    Ok(())
}

fn insert_keys(tx: &rusqlite::Transaction<'_>, keys: &[StoredKey]) -> StoreResult<()> {
    for k in keys {
        tx.execute(
            "INSERT INTO signing_keys (pool_id, kid, purpose, pkcs8, created, signs_from, signs_until, published_until)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                k.pool_id,
                k.kid,
                k.purpose,
                k.pkcs8,
                k.created,
                k.signs_from,
                k.signs_until,
                k.published_until
            ],
        )
        .map_err(map_err)?;
    }
    Ok(())
}

fn bind(values: &[SqlValue]) -> Vec<Box<dyn rusqlite::ToSql>> {
    values
        .iter()
        .map(|v| -> Box<dyn rusqlite::ToSql> {
            match v {
                SqlValue::Text(s) => Box::new(s.clone()),
                SqlValue::Int(i) => Box::new(*i),
            }
        })
        .collect()
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_pool(&self, pool: &UserPool, keys: &[StoredKey]) -> StoreResult<()> {
        let data = to_json(pool)?;
        let (id, name, created) = (pool.id.clone(), pool.name.clone(), pool.created);
        let keys = keys.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            tx.execute(
                "INSERT INTO user_pools (id, name, created, data, version) VALUES (?1, ?2, ?3, ?4, 1)",
                params![id, name, created, data],
            )
            .map_err(map_err)?;
            insert_keys(&tx, &keys)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn get_pool(&self, pool_id: &str) -> StoreResult<Option<UserPool>> {
        let pool_id = pool_id.to_owned();
        self.read(move |c| {
            let found: Option<(UserPool, i64)> = versioned_document(
                c,
                "SELECT data, version FROM user_pools WHERE id = ?1",
                &pool_id,
            )?;
            Ok(found.map(|(mut pool, version)| {
                pool.version = version;
                pool
            }))
        })
        .await
    }

    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<UserPool>> {
        let after = after.unwrap_or("").to_owned();
        self.read(move |c| {
            let rows: Vec<(String, i64)> = {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT data, version FROM user_pools WHERE id > ?1 ORDER BY id LIMIT ?2",
                    )
                    .map_err(backend)?;
                let rows = stmt
                    .query_map(params![after, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)?
            };
            rows.into_iter()
                .map(|(data, version)| {
                    let mut pool: UserPool = from_json(&data)?;
                    pool.version = version;
                    Ok(pool)
                })
                .collect()
        })
        .await
    }

    async fn update_pool(&self, pool: &UserPool) -> StoreResult<Write> {
        let data = to_json(pool)?;
        let (id, name, version) = (pool.id.clone(), pool.name.clone(), pool.version);
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE user_pools SET name = ?2, data = ?3, version = version + 1
                     WHERE id = ?1 AND version = ?4",
                    params![id, name, data, version],
                )
                .map_err(map_err)?;
            if n > 0 {
                return Ok(Write::Done);
            }
            let exists = conn
                .query_row("SELECT 1 FROM user_pools WHERE id = ?1", [&id], |_| Ok(()))
                .optional()
                .map_err(backend)?
                .is_some();
            Ok(if exists { Write::Stale } else { Write::Missing })
        })
        .await
    }

    async fn delete_pool(&self, pool_id: &str) -> StoreResult<bool> {
        let pool_id = pool_id.to_owned();
        self.write(move |conn| {
            let n = conn
                .execute("DELETE FROM user_pools WHERE id = ?1", [pool_id])
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        let pool_id = pool_id.to_owned();
        self.read(move |c| {
            c.query_row(
                "SELECT count(*) FROM users WHERE pool_id = ?1",
                [pool_id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }

    async fn list_keys(&self, pool_id: &str) -> StoreResult<Vec<StoredKey>> {
        let pool_id = pool_id.to_owned();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT pool_id, kid, purpose, pkcs8, created, signs_from, signs_until, published_until
                     FROM signing_keys WHERE pool_id = ?1 ORDER BY signs_from, created, kid",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([pool_id], |r| {
                    Ok(StoredKey {
                        pool_id: r.get(0)?,
                        kid: r.get(1)?,
                        purpose: r.get(2)?,
                        pkcs8: r.get(3)?,
                        created: r.get(4)?,
                        signs_from: r.get(5)?,
                        signs_until: r.get(6)?,
                        published_until: r.get(7)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn rotate_keys(
        &self,
        pool_id: &str,
        new_keys: &[StoredKey],
        old_published_until: Millis,
        unless_newer_than: Option<Millis>,
    ) -> StoreResult<bool> {
        let (pool_id, keys) = (pool_id.to_owned(), new_keys.to_vec());
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            if let Some(t) = unless_newer_than {
                let newest: Option<i64> = tx
                    .query_row(
                        "SELECT max(signs_from) FROM signing_keys WHERE pool_id = ?1",
                        [&pool_id],
                        |r| r.get(0),
                    )
                    .map_err(backend)?;
                if newest.is_some_and(|n| n > t) {
                    return Ok(false);
                }
            }
            for k in &keys {
                tx.execute(
                    "UPDATE signing_keys SET signs_until = ?3, published_until = ?4
                     WHERE pool_id = ?1 AND purpose = ?2 AND signs_until IS NULL",
                    params![pool_id, k.purpose, k.signs_from, old_published_until],
                )
                .map_err(backend)?;
            }
            insert_keys(&tx, &keys)?;
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }

    async fn insert_client(&self, client: &AppClient) -> StoreResult<()> {
        let data = to_json(client)?;
        let (client_id, pool_id) = (client.client_id.clone(), client.pool_id.clone());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO app_clients (client_id, pool_id, data) VALUES (?1, ?2, ?3)",
                params![client_id, pool_id, data],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<AppClient>> {
        let client_id = client_id.to_owned();
        self.read(move |c| {
            let found: Option<(AppClient, i64)> = versioned_document(
                c,
                "SELECT data, version FROM app_clients WHERE client_id = ?1",
                &client_id,
            )?;
            Ok(found.map(|(mut client, version)| {
                client.version = version;
                client
            }))
        })
        .await
    }

    async fn list_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AppClient>> {
        let (pool_id, after) = (pool_id.to_owned(), after.unwrap_or("").to_owned());
        self.read(move |c| {
            documents(
                c,
                "SELECT data FROM app_clients WHERE pool_id = ?1 AND client_id > ?2 ORDER BY client_id LIMIT ?3",
                &[&pool_id, &after, &(limit as i64)],
            )
        })
        .await
    }

    async fn update_client(&self, client: &AppClient) -> StoreResult<Write> {
        let data = to_json(client)?;
        let (client_id, pool_id, version) = (
            client.client_id.clone(),
            client.pool_id.clone(),
            client.version,
        );
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE app_clients SET data = ?3, version = version + 1
                     WHERE client_id = ?1 AND pool_id = ?2 AND version = ?4",
                    params![client_id, pool_id, data, version],
                )
                .map_err(map_err)?;
            if n > 0 {
                return Ok(Write::Done);
            }
            let exists = conn
                .query_row(
                    "SELECT 1 FROM app_clients WHERE client_id = ?1 AND pool_id = ?2",
                    [&client_id, &pool_id],
                    |_| Ok(()),
                )
                .optional()
                .map_err(backend)?
                .is_some();
            Ok(if exists { Write::Stale } else { Write::Missing })
        })
        .await
    }

    async fn delete_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool> {
        let (pool_id, client_id) = (pool_id.to_owned(), client_id.to_owned());
        self.write(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM app_clients WHERE client_id = ?1 AND pool_id = ?2",
                    params![client_id, pool_id],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn insert_user(&self, user: &User, aliases: &[AliasKey]) -> StoreResult<()> {
        self.insert_user_taking_aliases(user, aliases, &[]).await
    }

    async fn insert_user_taking_aliases(
        &self,
        user: &User,
        aliases: &[AliasKey],
        take: &[String],
    ) -> StoreResult<()> {
        let c = user_columns(user)?;
        let (pool_id, key) = (user.pool_id.clone(), user.username_key.clone());
        let aliases = aliases.to_vec();
        let (take, modified) = (take.to_vec(), user.modified);
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            tx.prepare_cached(INSERT_USER)
                .and_then(|mut s| {
                    s.execute(params![
                        pool_id,
                        key,
                        c.username,
                        c.sub,
                        c.status,
                        c.enabled,
                        c.email,
                        c.phone_number,
                        c.preferred_username,
                        c.name,
                        c.given_name,
                        c.family_name,
                        c.data
                    ])
                })
                .map_err(map_err)?;
            take_aliases(&tx, &pool_id, &key, &aliases, &take, modified)?;
            put_aliases(&tx, &pool_id, &key, &aliases)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn get_user(&self, pool_id: &str, username_key: &str) -> StoreResult<Option<User>> {
        let (pool_id, key) = (pool_id.to_owned(), username_key.to_owned());
        self.read(move |c| {
            one_user(
                c,
                &format!("{USER_SELECT} WHERE u.pool_id = ?1 AND u.username_key = ?2"),
                &[&pool_id, &key],
            )
        })
        .await
    }

    async fn get_user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<User>> {
        let (pool_id, sub) = (pool_id.to_owned(), sub.to_owned());
        self.read(move |c| {
            one_user(
                c,
                &format!("{USER_SELECT} WHERE u.pool_id = ?1 AND u.sub = ?2"),
                &[&pool_id, &sub],
            )
        })
        .await
    }

    async fn get_user_by_alias(
        &self,
        pool_id: &str,
        kind: &str,
        value: &str,
    ) -> StoreResult<Option<User>> {
        let (pool_id, kind, value) = (pool_id.to_owned(), kind.to_owned(), value.to_owned());
        self.read(move |c| {
            one_user(
                c,
                &format!(
                    "{USER_SELECT} JOIN user_aliases a ON a.pool_id = u.pool_id AND a.username_key = u.username_key
                     WHERE a.pool_id = ?1 AND a.kind = ?2 AND a.value = ?3"
                ),
                &[&pool_id, &kind, &value],
            )
        })
        .await
    }

    async fn update_user(&self, user: &User, aliases: &[AliasKey]) -> StoreResult<Write> {
        self.update_user_taking_aliases(user, aliases, &[]).await
    }

    async fn update_user_taking_aliases(
        &self,
        user: &User,
        aliases: &[AliasKey],
        take: &[String],
    ) -> StoreResult<Write> {
        let c = user_columns(user)?;
        let (pool_id, key, version) = (
            user.pool_id.clone(),
            user.username_key.clone(),
            user.version,
        );
        let aliases = aliases.to_vec();
        let (take, modified) = (take.to_vec(), user.modified);
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let n = tx
                .prepare_cached(UPDATE_USER)
                .and_then(|mut s| {
                    s.execute(params![
                        pool_id,
                        key,
                        c.username,
                        c.sub,
                        c.status,
                        c.enabled,
                        c.email,
                        c.phone_number,
                        c.preferred_username,
                        c.name,
                        c.given_name,
                        c.family_name,
                        c.data,
                        version
                    ])
                })
                .map_err(map_err)?;
            if n == 0 {
                let exists = tx
                    .query_row(
                        "SELECT 1 FROM users WHERE pool_id = ?1 AND username_key = ?2",
                        [&pool_id, &key],
                        |_| Ok(()),
                    )
                    .optional()
                    .map_err(backend)?
                    .is_some();
                return Ok(if exists { Write::Stale } else { Write::Missing });
            }
            take_aliases(&tx, &pool_id, &key, &aliases, &take, modified)?;
            put_aliases(&tx, &pool_id, &key, &aliases)?;
            tx.commit().map_err(backend)?;
            Ok(Write::Done)
        })
        .await
    }

    async fn delete_user(&self, pool_id: &str, username_key: &str) -> StoreResult<bool> {
        let (pool_id, key) = (pool_id.to_owned(), username_key.to_owned());
        // Codes, refresh tokens, memberships, aliases, failures and
        // revocations go with the user (ON DELETE CASCADE).
        self.write(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM users WHERE pool_id = ?1 AND username_key = ?2",
                    [pool_id, key],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        cursor: Option<&str>,
        limit: usize,
    ) -> StoreResult<UserPage> {
        let query = list_users_query(USER_SELECT, pool_id, filter, cursor, limit)?;
        self.read(move |c| {
            let values = bind(&query.values);
            let refs: Vec<&dyn rusqlite::ToSql> = values.iter().map(|b| b.as_ref()).collect();
            let rows: Vec<UserRow> = {
                let mut stmt = c.prepare_cached(&query.sql).map_err(backend)?;
                let rows = stmt
                    .query_map(refs.as_slice(), user_from_row)
                    .map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)?
            };
            let users = rows.into_iter().map(user_of).collect::<StoreResult<_>>()?;
            Ok(page_of(users, limit, query.by_column))
        })
        .await
    }

    async fn import_users(&self, users: &[ImportUser]) -> StoreResult<ImportOutcome> {
        let users = users.to_vec();
        self.write(move |conn| {
            let mut tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut outcome = ImportOutcome::default();
            for item in &users {
                let u = &item.user;
                let c = user_columns(u)?;
                let sp = tx.savepoint().map_err(backend)?;
                let inserted = sp
                    .prepare_cached(
                        "INSERT INTO users (pool_id, username_key, username, sub, status, enabled, email,
                         phone_number, preferred_username, name, given_name, family_name, data, version,
                         tokens_valid_after, totp_last_step)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1, ?14, ?15)",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            u.pool_id,
                            u.username_key,
                            c.username,
                            c.sub,
                            c.status,
                            c.enabled,
                            c.email,
                            c.phone_number,
                            c.preferred_username,
                            c.name,
                            c.given_name,
                            c.family_name,
                            c.data,
                            u.tokens_valid_after,
                            u.totp_last_step
                        ])
                    });
                let skipped = match inserted {
                    Ok(_) => None,
                    Err(e) if is_constraint(&e) => Some("the username or sub exists".to_owned()),
                    Err(e) => return Err(backend(e)),
                };
                let skipped = match skipped {
                    Some(why) => Some(why),
                    None => match put_aliases(&sp, &u.pool_id, &u.username_key, &item.aliases) {
                        Ok(()) => None,
                        Err(StoreError::AliasTaken(kind)) => {
                            Some(format!("another user has this {kind}"))
                        }
                        Err(e) => return Err(e),
                    },
                };
                if skipped.is_none() {
                    for r in &u.revoked_origins {
                        sp.execute(
                            "INSERT INTO revoked_sessions (pool_id, origin_jti, username_key, until)
                             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                            params![u.pool_id, r.origin_jti, u.username_key, r.until],
                        )
                        .map_err(backend)?;
                    }
                }
                let skipped = match skipped {
                    Some(why) => Some(why),
                    None => item.groups.iter().find_map(|g| {
                        match sp.execute(
                            "INSERT INTO group_members (pool_id, group_name, username_key) VALUES (?1, ?2, ?3)
                             ON CONFLICT DO NOTHING",
                            params![u.pool_id, g, u.username_key],
                        ) {
                            Ok(_) => None,
                            Err(_) => Some(format!("no group {g}")),
                        }
                    }),
                };
                match skipped {
                    None => {
                        sp.commit().map_err(backend)?;
                        outcome.inserted += 1;
                    }
                    Some(why) => {
                        drop(sp); // rolls the savepoint back
                        outcome.skipped.push((u.username.clone(), why));
                    }
                }
            }
            tx.commit().map_err(backend)?;
            Ok(outcome)
        })
        .await
    }

    async fn record_sign_in_failure(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
        policy: &LockoutPolicy,
    ) -> StoreResult<Option<SignInFailures>> {
        let (pool_id, key, policy) = (pool_id.to_owned(), username_key.to_owned(), *policy);
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let before: Option<(i64, i64, Option<i64>)> = tx
                .prepare_cached(
                    "SELECT failures, last_failed, locked_until FROM sign_in_failures
                     WHERE pool_id = ?1 AND username_key = ?2",
                )
                .and_then(|mut s| {
                    s.query_row([&pool_id, &key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                        .optional()
                })
                .map_err(backend)?;
            let next = next_failures(before, now, &policy);
            match tx.execute(
                "INSERT INTO sign_in_failures (pool_id, username_key, failures, last_failed, locked_until)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (pool_id, username_key) DO UPDATE SET
                   failures = excluded.failures, last_failed = excluded.last_failed,
                   locked_until = excluded.locked_until",
                params![pool_id, key, next.failures as i64, now, next.locked_until],
            ) {
                Ok(_) => {}
                // The user is gone.
                Err(e) if is_constraint(&e) => return Ok(None),
                Err(e) => return Err(backend(e)),
            }
            tx.commit().map_err(backend)?;
            Ok(Some(next))
        })
        .await
    }

    async fn sign_in_locked_until(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Option<Millis>> {
        let (pool_id, key) = (pool_id.to_owned(), username_key.to_owned());
        self.read(move |c| {
            let lock: Option<Option<i64>> = c
                .prepare_cached(
                    "SELECT locked_until FROM sign_in_failures WHERE pool_id = ?1 AND username_key = ?2",
                )
                .and_then(|mut s| s.query_row([&pool_id, &key], |r| r.get(0)).optional())
                .map_err(backend)?;
            Ok(lock.flatten())
        })
        .await
    }

    async fn clear_sign_in_failures(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
    ) -> StoreResult<bool> {
        let (pool_id, key) = (pool_id.to_owned(), username_key.to_owned());
        self.write(move |conn| {
            conn.prepare_cached(
                "DELETE FROM sign_in_failures WHERE pool_id = ?1 AND username_key = ?2
                 AND (locked_until IS NULL OR locked_until <= ?3)",
            )
            .and_then(|mut s| s.execute(params![pool_id, key, now]))
            .map_err(backend)?;
            let locked = conn
                .prepare_cached(
                    "SELECT 1 FROM sign_in_failures WHERE pool_id = ?1 AND username_key = ?2",
                )
                .and_then(|mut s| s.query_row([&pool_id, &key], |_| Ok(())).optional())
                .map_err(backend)?
                .is_some();
            Ok(!locked)
        })
        .await
    }

    async fn sign_out_user(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
    ) -> StoreResult<bool> {
        let (pool_id, key) = (pool_id.to_owned(), username_key.to_owned());
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let n = tx
                .execute(
                    "UPDATE users SET tokens_valid_after = max(coalesce(tokens_valid_after, 0), ?3)
                     WHERE pool_id = ?1 AND username_key = ?2",
                    params![pool_id, key, now],
                )
                .map_err(backend)?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute(
                "UPDATE refresh_tokens SET revoked = 1 WHERE pool_id = ?1 AND username_key = ?2 AND revoked = 0",
                params![pool_id, key],
            )
            .map_err(backend)?;
            tx.execute(
                "DELETE FROM sso_sessions WHERE pool_id = ?1 AND username_key = ?2",
                params![pool_id, key],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }

    async fn claim_totp_step(
        &self,
        pool_id: &str,
        username_key: &str,
        step: i64,
    ) -> StoreResult<bool> {
        let (pool_id, key) = (pool_id.to_owned(), username_key.to_owned());
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE users SET totp_last_step = ?3 WHERE pool_id = ?1 AND username_key = ?2
                     AND (totp_last_step IS NULL OR totp_last_step < ?3)",
                )
                .and_then(|mut s| s.execute(params![pool_id, key, step]))
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()> {
        let code = code.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO codes (pool_id, username_key, purpose, code_hash, expires, attempts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (pool_id, username_key, purpose)
                 DO UPDATE SET code_hash = excluded.code_hash, expires = excluded.expires, attempts = excluded.attempts",
                params![
                    code.pool_id,
                    code.username_key,
                    code.purpose,
                    code.code_hash,
                    code.expires,
                    code.attempts as i64
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn use_code(
        &self,
        code: &CodeRecord,
        now: Millis,
        max_attempts: u32,
    ) -> StoreResult<CodeUse> {
        let code = code.clone();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let record = tx
                .prepare_cached(
                    "SELECT pool_id, username_key, purpose, code_hash, expires, attempts FROM codes
                     WHERE pool_id = ?1 AND username_key = ?2 AND purpose = ?3",
                )
                .and_then(|mut s| {
                    s.query_row(
                        [&code.pool_id, &code.username_key, &code.purpose],
                        code_from_row,
                    )
                    .optional()
                })
                .map_err(backend)?;
            let (outcome, step) = judge_code(record.as_ref(), &code, now, max_attempts);
            let sql = match step {
                CodeStep::Keep => None,
                CodeStep::Delete => Some(
                    "DELETE FROM codes WHERE pool_id = ?1 AND username_key = ?2 AND purpose = ?3",
                ),
                CodeStep::CountMiss => Some(
                    "UPDATE codes SET attempts = attempts + 1
                     WHERE pool_id = ?1 AND username_key = ?2 AND purpose = ?3",
                ),
            };
            if let Some(sql) = sql {
                tx.execute(sql, [&code.pool_id, &code.username_key, &code.purpose])
                    .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(outcome)
        })
        .await
    }

    async fn delete_code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> StoreResult<()> {
        let (pool_id, key, purpose) = (
            pool_id.to_owned(),
            username_key.to_owned(),
            purpose.to_owned(),
        );
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM codes WHERE pool_id = ?1 AND username_key = ?2 AND purpose = ?3",
                [pool_id, key, purpose],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn put_session(&self, session: &ChallengeSession) -> StoreResult<()> {
        let data = to_json(session)?;
        let (hash, pool_id, expires) = (
            session.handle_hash.clone(),
            session.pool_id.clone(),
            session.expires,
        );
        self.write(move |conn| {
            conn.execute(
                "INSERT OR REPLACE INTO challenge_sessions (handle_hash, pool_id, expires, data) VALUES (?1, ?2, ?3, ?4)",
                params![hash, pool_id, expires, data],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn put_session_once(&self, session: &ChallengeSession, now: Millis) -> StoreResult<bool> {
        let data = to_json(session)?;
        let (hash, pool_id, expires) = (
            session.handle_hash.clone(),
            session.pool_id.clone(),
            session.expires,
        );
        self.write(move |conn| {
            let changed = conn
                .execute(
                    "INSERT INTO challenge_sessions (handle_hash, pool_id, expires, data) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (handle_hash) DO UPDATE SET
                       pool_id = excluded.pool_id, expires = excluded.expires, data = excluded.data
                     WHERE challenge_sessions.expires <= ?5",
                    params![hash, pool_id, expires, data, now],
                )
                .map_err(map_err)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn take_session(&self, handle_hash: &str) -> StoreResult<Option<ChallengeSession>> {
        let hash = handle_hash.to_owned();
        self.write(move |conn| {
            document(
                conn,
                "DELETE FROM challenge_sessions WHERE handle_hash = ?1 RETURNING data",
                &[&hash],
            )
        })
        .await
    }

    async fn put_refresh_token(&self, t: &RefreshTokenRecord) -> StoreResult<()> {
        let t = t.clone();
        self.write(move |conn| insert_sign_in_refresh(conn, &t))
            .await
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        now: Millis,
        grace_ms: Millis,
        new: &RefreshTokenRecord,
    ) -> StoreResult<bool> {
        let (old, new) = (old_hash.to_owned(), new.clone());
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let n = tx
                .execute(
                    "UPDATE refresh_tokens SET rotated_until = coalesce(rotated_until, ?2 + ?3)
                     WHERE token_hash = ?1 AND revoked = 0
                     AND (rotated_until IS NULL OR (?3 > 0 AND rotated_until > ?2))",
                    params![old, now, grace_ms],
                )
                .map_err(backend)?;
            if n == 0 {
                return Ok(false);
            }
            tx.prepare_cached(INSERT_REFRESH)
                .and_then(|mut s| insert_refresh(&mut s, &new))
                .map_err(map_err)?;
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }

    async fn put_refresh_token_limited(
        &self,
        t: &RefreshTokenRecord,
        now: Millis,
        max_sessions: usize,
        revoked_until: Millis,
    ) -> StoreResult<usize> {
        let t = t.clone();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let live: Vec<String> = {
                let mut s = tx
                    .prepare_cached(
                        "SELECT origin_jti FROM refresh_tokens
                         WHERE pool_id = ?1 AND username_key = ?2 AND revoked = 0 AND expires > ?3
                         AND rotated_until IS NULL
                         GROUP BY origin_jti ORDER BY max(last_active), origin_jti",
                    )
                    .map_err(backend)?;
                let rows = s
                    .query_map(params![t.pool_id, t.username_key, now], |r| r.get(0))
                    .map_err(backend)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(backend)?
            };
            let evict = (live.len() + 1).saturating_sub(max_sessions.max(1));
            for origin in live.iter().take(evict) {
                tx.execute(
                    "UPDATE refresh_tokens SET revoked = 1 WHERE pool_id = ?1 AND origin_jti = ?2",
                    params![t.pool_id, origin],
                )
                .map_err(backend)?;
                tx.execute(
                    "INSERT INTO revoked_sessions (pool_id, origin_jti, username_key, until)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (pool_id, origin_jti) DO UPDATE SET until = max(until, excluded.until)",
                    params![t.pool_id, origin, t.username_key, revoked_until],
                )
                .map_err(backend)?;
            }
            insert_sign_in_refresh(&tx, &t)?;
            tx.commit().map_err(backend)?;
            Ok(evict)
        })
        .await
    }

    async fn touch_refresh_token(
        &self,
        token_hash: &str,
        now: Millis,
        ip: Option<&str>,
        device: Option<&str>,
    ) -> StoreResult<()> {
        let hash = token_hash.to_owned();
        let (ip, device) = (ip.map(str::to_owned), device.map(str::to_owned));
        self.write(move |conn| {
            conn.execute(
                "UPDATE refresh_tokens SET last_active = ?2, last_ip = ?3, last_device = ?4
                 WHERE token_hash = ?1 AND last_active <= ?2",
                params![hash, now, ip, device],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>> {
        let hash = token_hash.to_owned();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = ?1"
            ))
            .and_then(|mut s| s.query_row([&hash], refresh_from_row).optional())
            .map_err(backend)
        })
        .await
    }

    async fn list_live_refresh_tokens(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
        limit: usize,
    ) -> StoreResult<Vec<RefreshTokenRecord>> {
        let (pool_id, username_key) = (pool_id.to_owned(), username_key.to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut s = c
                .prepare_cached(&format!(
                    "SELECT {REFRESH_COLUMNS} FROM refresh_tokens
                     WHERE pool_id = ?1 AND username_key = ?2 AND revoked = 0 AND expires > ?3
                     AND rotated_until IS NULL
                     ORDER BY created, token_hash LIMIT ?4"
                ))
                .map_err(backend)?;
            let rows = s
                .query_map(
                    rusqlite::params![pool_id, username_key, now, limit],
                    refresh_from_row,
                )
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn revoke_refresh_token(
        &self,
        token_hash: &str,
        revoked_until: Millis,
    ) -> StoreResult<bool> {
        let hash = token_hash.to_owned();
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            // The token's whole rotation family: every token of its sign-in.
            let n = revoke_families(
                &tx,
                "SELECT pool_id, origin_jti FROM refresh_tokens WHERE token_hash = ?1",
                params![hash],
                revoked_until,
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }

    async fn put_sso_session(&self, x: &SsoSession) -> StoreResult<()> {
        let x = x.clone();
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO sso_sessions ({SSO_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    x.pool_id,
                    x.session_id,
                    x.username_key,
                    x.sub,
                    x.client_id,
                    x.created,
                    x.last_active,
                    x.expires,
                    x.last_ip,
                    x.last_device
                ])
            })
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn get_sso_session(
        &self,
        pool_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SsoSession>> {
        let (pool_id, id) = (pool_id.to_owned(), session_id.to_owned());
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SSO_COLUMNS} FROM sso_sessions WHERE pool_id = ?1 AND session_id = ?2"
            ))
            .and_then(|mut s| s.query_row([&pool_id, &id], sso_from_row).optional())
            .map_err(backend)
        })
        .await
    }

    async fn touch_sso_session(
        &self,
        pool_id: &str,
        session_id: &str,
        now: Millis,
        ip: Option<&str>,
        device: Option<&str>,
    ) -> StoreResult<bool> {
        let (pool_id, id) = (pool_id.to_owned(), session_id.to_owned());
        let (ip, device) = (ip.map(str::to_owned), device.map(str::to_owned));
        self.write(move |conn| {
            conn.execute(
                "UPDATE sso_sessions SET last_active = max(last_active, ?3),
                 last_ip = CASE WHEN last_active <= ?3 THEN ?4 ELSE last_ip END,
                 last_device = CASE WHEN last_active <= ?3 THEN ?5 ELSE last_device END
                 WHERE pool_id = ?1 AND session_id = ?2",
                params![pool_id, id, now, ip, device],
            )
            .map(|n| n > 0)
            .map_err(backend)
        })
        .await
    }

    async fn list_live_sso_sessions(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
        limit: usize,
    ) -> StoreResult<Vec<SsoSession>> {
        let (pool_id, key) = (pool_id.to_owned(), username_key.to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut s = c
                .prepare_cached(&format!(
                    "SELECT {SSO_COLUMNS} FROM sso_sessions
                     WHERE pool_id = ?1 AND username_key = ?2 AND expires > ?3
                     ORDER BY created, session_id LIMIT ?4"
                ))
                .map_err(backend)?;
            let rows = s
                .query_map(params![pool_id, key, now, limit], sso_from_row)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn revoke_sso_session(
        &self,
        pool_id: &str,
        username_key: &str,
        session_id: &str,
        linked: bool,
        revoked_until: Millis,
    ) -> StoreResult<bool> {
        let (pool_id, key, id) = (
            pool_id.to_owned(),
            username_key.to_owned(),
            session_id.to_owned(),
        );
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let n = tx
                .execute(
                    "DELETE FROM sso_sessions WHERE pool_id = ?1 AND username_key = ?2 AND session_id = ?3",
                    params![pool_id, key, id],
                )
                .map_err(backend)?;
            if n == 0 {
                return Ok(false);
            }
            if linked {
                revoke_families(
                    &tx,
                    "SELECT pool_id, origin_jti FROM refresh_tokens
                     WHERE pool_id = ?1 AND username_key = ?2 AND sso_session_id = ?3",
                    params![pool_id, key, id],
                    revoked_until,
                )?;
            }
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }

    async fn insert_group(&self, group: &Group) -> StoreResult<()> {
        let data = to_json(group)?;
        let (pool_id, name) = (group.pool_id.clone(), group.name.clone());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO groups (pool_id, name, data) VALUES (?1, ?2, ?3)",
                params![pool_id, name, data],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        let (pool_id, name) = (pool_id.to_owned(), name.to_owned());
        self.read(move |c| {
            document(
                c,
                "SELECT data FROM groups WHERE pool_id = ?1 AND name = ?2",
                &[&pool_id, &name],
            )
        })
        .await
    }

    async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Group>> {
        let (pool_id, after) = (pool_id.to_owned(), after.unwrap_or("").to_owned());
        self.read(move |c| {
            documents(
                c,
                "SELECT data FROM groups WHERE pool_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3",
                &[&pool_id, &after, &(limit as i64)],
            )
        })
        .await
    }

    async fn update_group(&self, group: &Group) -> StoreResult<bool> {
        let data = to_json(group)?;
        let (pool_id, name) = (group.pool_id.clone(), group.name.clone());
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE groups SET data = ?3 WHERE pool_id = ?1 AND name = ?2",
                    params![pool_id, name, data],
                )
                .map_err(map_err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool> {
        let (pool_id, name) = (pool_id.to_owned(), name.to_owned());
        self.write(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM groups WHERE pool_id = ?1 AND name = ?2",
                    [pool_id, name],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn add_user_to_group(
        &self,
        pool_id: &str,
        name: &str,
        username_key: &str,
    ) -> StoreResult<()> {
        let (pool_id, name, key) = (pool_id.to_owned(), name.to_owned(), username_key.to_owned());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO group_members (pool_id, group_name, username_key) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                [pool_id, name, key],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn remove_user_from_group(
        &self,
        pool_id: &str,
        name: &str,
        username_key: &str,
    ) -> StoreResult<()> {
        let (pool_id, name, key) = (pool_id.to_owned(), name.to_owned(), username_key.to_owned());
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM group_members WHERE pool_id = ?1 AND group_name = ?2 AND username_key = ?3",
                [pool_id, name, key],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn groups_of_user(&self, pool_id: &str, username_key: &str) -> StoreResult<Vec<Group>> {
        let (pool_id, key) = (pool_id.to_owned(), username_key.to_owned());
        self.read(move |c| {
            documents(
                c,
                "SELECT g.data FROM group_members m JOIN groups g
                 ON g.pool_id = m.pool_id AND g.name = m.group_name
                 WHERE m.pool_id = ?1 AND m.username_key = ?2 ORDER BY g.name",
                &[&pool_id, &key],
            )
        })
        .await
    }

    async fn users_in_group(
        &self,
        pool_id: &str,
        name: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<User>> {
        let (pool_id, name, after) = (
            pool_id.to_owned(),
            name.to_owned(),
            after.unwrap_or("").to_owned(),
        );
        self.read(move |c| {
            let rows: Vec<UserRow> = {
                let mut stmt = c
                    .prepare_cached(&format!(
                        "{USER_SELECT} JOIN group_members m
                         ON u.pool_id = m.pool_id AND u.username_key = m.username_key
                         WHERE m.pool_id = ?1 AND m.group_name = ?2 AND m.username_key > ?3
                         ORDER BY m.username_key LIMIT ?4"
                    ))
                    .map_err(backend)?;
                let rows = stmt
                    .query_map(params![pool_id, name, after, limit as i64], user_from_row)
                    .map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)?
            };
            rows.into_iter().map(user_of).collect()
        })
        .await
    }

    async fn insert_domain(&self, domain: &PoolDomain) -> StoreResult<()> {
        let data = to_json(domain)?;
        let (name, pool_id) = (domain.domain.clone(), domain.pool_id.clone());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO pool_domains (domain, pool_id, data) VALUES (?1, ?2, ?3)",
                params![name, pool_id, data],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn get_domain(&self, domain: &str) -> StoreResult<Option<PoolDomain>> {
        let domain = domain.to_owned();
        self.read(move |c| {
            document(
                c,
                "SELECT data FROM pool_domains WHERE domain = ?1",
                &[&domain],
            )
        })
        .await
    }

    async fn domains_of_pool(&self, pool_id: &str) -> StoreResult<Vec<PoolDomain>> {
        let pool_id = pool_id.to_owned();
        self.read(move |c| {
            documents(
                c,
                "SELECT data FROM pool_domains WHERE pool_id = ?1 ORDER BY domain",
                &[&pool_id],
            )
        })
        .await
    }

    async fn delete_domain(&self, domain: &str) -> StoreResult<bool> {
        let domain = domain.to_owned();
        self.write(move |conn| {
            let n = conn
                .execute("DELETE FROM pool_domains WHERE domain = ?1", [domain])
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn update_domain(&self, domain: &PoolDomain) -> StoreResult<bool> {
        let data = to_json(domain)?;
        let name = domain.domain.clone();
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE pool_domains SET data = ?2 WHERE domain = ?1",
                    params![name, data],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn put_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()> {
        let data = to_json(code)?;
        let (hash, pool_id, expires) = (code.code_hash.clone(), code.pool_id.clone(), code.expires);
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO authorization_codes (code_hash, pool_id, expires, data) VALUES (?1, ?2, ?3, ?4)",
                params![hash, pool_id, expires, data],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn take_authorization_code(
        &self,
        code_hash: &str,
    ) -> StoreResult<Option<AuthorizationCode>> {
        let hash = code_hash.to_owned();
        self.write(move |conn| {
            document(
                conn,
                "DELETE FROM authorization_codes WHERE code_hash = ?1 RETURNING data",
                &[&hash],
            )
        })
        .await
    }

    async fn server_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        let (name, candidate) = (name.to_owned(), candidate.to_vec());
        self.write(move |conn| {
            conn.execute(
                "INSERT OR IGNORE INTO server_secrets (name, value) VALUES (?1, ?2)",
                params![name, candidate],
            )
            .map_err(backend)?;
            conn.query_row(
                "SELECT value FROM server_secrets WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .map_err(backend)
        })
        .await
    }

    async fn put_ui_customization(&self, ui: &UiCustomization) -> StoreResult<()> {
        let ui = ui.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO ui_customizations (pool_id, client_id, css, image, created, modified)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (pool_id, client_id) DO UPDATE SET
                   css = excluded.css, image = excluded.image, modified = excluded.modified",
                params![
                    ui.pool_id,
                    ui.client_id,
                    ui.css,
                    ui.image,
                    ui.created,
                    ui.modified
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn get_ui_customization(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<UiCustomization>> {
        let (pool_id, client_id) = (pool_id.to_owned(), client_id.to_owned());
        self.read(move |c| {
            c.prepare_cached(
                "SELECT pool_id, client_id, css, image, created, modified FROM ui_customizations
                 WHERE pool_id = ?1 AND client_id = ?2",
            )
            .and_then(|mut s| {
                s.query_row([pool_id, client_id], |r| {
                    Ok(UiCustomization {
                        pool_id: r.get(0)?,
                        client_id: r.get(1)?,
                        css: r.get(2)?,
                        image: r.get(3)?,
                        created: r.get(4)?,
                        modified: r.get(5)?,
                    })
                })
                .optional()
            })
            .map_err(backend)
        })
        .await
    }

    async fn delete_ui_customization(&self, pool_id: &str, client_id: &str) -> StoreResult<bool> {
        let (pool_id, client_id) = (pool_id.to_owned(), client_id.to_owned());
        self.write(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM ui_customizations WHERE pool_id = ?1 AND client_id = ?2",
                    params![pool_id, client_id],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn insert_resource_server(&self, server: &ResourceServer) -> StoreResult<()> {
        let data = to_json(server)?;
        let (pool_id, identifier) = (server.pool_id.clone(), server.identifier.clone());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO resource_servers (pool_id, identifier, data) VALUES (?1, ?2, ?3)",
                params![pool_id, identifier, data],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn get_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>> {
        let (pool_id, identifier) = (pool_id.to_owned(), identifier.to_owned());
        self.read(move |c| {
            document(
                c,
                "SELECT data FROM resource_servers WHERE pool_id = ?1 AND identifier = ?2",
                &[&pool_id, &identifier],
            )
        })
        .await
    }

    async fn list_resource_servers(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ResourceServer>> {
        let (pool_id, after) = (pool_id.to_owned(), after.unwrap_or("").to_owned());
        self.read(move |c| {
            documents(
                c,
                "SELECT data FROM resource_servers WHERE pool_id = ?1 AND identifier > ?2 \
                 ORDER BY identifier LIMIT ?3",
                &[&pool_id, &after, &(limit as i64)],
            )
        })
        .await
    }

    async fn update_resource_server(&self, server: &ResourceServer) -> StoreResult<bool> {
        let data = to_json(server)?;
        let (pool_id, identifier) = (server.pool_id.clone(), server.identifier.clone());
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE resource_servers SET data = ?3 WHERE pool_id = ?1 AND identifier = ?2",
                    params![pool_id, identifier, data],
                )
                .map_err(map_err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool> {
        let (pool_id, identifier) = (pool_id.to_owned(), identifier.to_owned());
        self.write(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM resource_servers WHERE pool_id = ?1 AND identifier = ?2",
                    [pool_id, identifier],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn insert_import_job(&self, job: &UserImportJob) -> StoreResult<()> {
        let data = to_json(job)?;
        let (pool_id, job_id, created, status) = (
            job.pool_id.clone(),
            job.job_id.clone(),
            job.created,
            job.status.clone(),
        );
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO user_import_jobs (pool_id, job_id, created, status, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![pool_id, job_id, created, status, data],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn get_import_job(
        &self,
        pool_id: &str,
        job_id: &str,
    ) -> StoreResult<Option<UserImportJob>> {
        let (pool_id, job_id) = (pool_id.to_owned(), job_id.to_owned());
        self.read(move |c| {
            document(
                c,
                "SELECT data FROM user_import_jobs WHERE pool_id = ?1 AND job_id = ?2",
                &[&pool_id, &job_id],
            )
        })
        .await
    }

    async fn find_import_job(&self, job_id: &str) -> StoreResult<Option<UserImportJob>> {
        let job_id = job_id.to_owned();
        self.read(move |c| {
            document(
                c,
                "SELECT data FROM user_import_jobs WHERE job_id = ?1",
                &[&job_id],
            )
        })
        .await
    }

    async fn list_import_jobs(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<UserImportJob>> {
        let (pool_id, after) = (pool_id.to_owned(), after.map(str::to_owned));
        self.read(move |c| match &after {
            None => documents(
                c,
                "SELECT data FROM user_import_jobs WHERE pool_id = ?1
                 ORDER BY created DESC, job_id DESC LIMIT ?2",
                &[&pool_id, &(limit as i64)],
            ),
            Some(after) => documents(
                c,
                "SELECT j.data FROM user_import_jobs j, user_import_jobs a
                 WHERE j.pool_id = ?1 AND a.pool_id = ?1 AND a.job_id = ?2
                   AND (j.created < a.created OR (j.created = a.created AND j.job_id < a.job_id))
                 ORDER BY j.created DESC, j.job_id DESC LIMIT ?3",
                &[&pool_id, after, &(limit as i64)],
            ),
        })
        .await
    }

    async fn update_import_job(&self, job: &UserImportJob, from: &[&str]) -> StoreResult<bool> {
        let data = to_json(job)?;
        let (pool_id, job_id, status) =
            (job.pool_id.clone(), job.job_id.clone(), job.status.clone());
        let from: Vec<String> = from.iter().map(|s| (*s).to_owned()).collect();
        self.write(move |conn| {
            // One conditional statement: the transition happens only from `from`.
            let placeholders: Vec<String> =
                (0..from.len()).map(|i| format!("?{}", i + 5)).collect();
            let sql = format!(
                "UPDATE user_import_jobs SET status = ?3, data = ?4
                 WHERE pool_id = ?1 AND job_id = ?2 AND status IN ({})",
                placeholders.join(", ")
            );
            let mut values: Vec<&dyn rusqlite::ToSql> = vec![&pool_id, &job_id, &status, &data];
            values.extend(from.iter().map(|f| f as &dyn rusqlite::ToSql));
            let n = conn.execute(&sql, values.as_slice()).map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn put_import_csv(&self, pool_id: &str, job_id: &str, csv: &[u8]) -> StoreResult<bool> {
        let (pool_id, job_id, csv) = (pool_id.to_owned(), job_id.to_owned(), csv.to_vec());
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE user_import_jobs SET csv = ?3 WHERE pool_id = ?1 AND job_id = ?2 AND status = 'Created'",
                    params![pool_id, job_id, csv],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn has_import_csv(&self, pool_id: &str, job_id: &str) -> StoreResult<bool> {
        let (pool_id, job_id) = (pool_id.to_owned(), job_id.to_owned());
        self.read(move |c| {
            let uploaded: Option<bool> = c
                .query_row(
                    "SELECT csv IS NOT NULL FROM user_import_jobs WHERE pool_id = ?1 AND job_id = ?2",
                    [&pool_id, &job_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            Ok(uploaded.unwrap_or(false))
        })
        .await
    }

    async fn get_import_csv(&self, pool_id: &str, job_id: &str) -> StoreResult<Option<Vec<u8>>> {
        let (pool_id, job_id) = (pool_id.to_owned(), job_id.to_owned());
        self.read(move |c| {
            let csv: Option<Option<Vec<u8>>> = c
                .query_row(
                    "SELECT csv FROM user_import_jobs WHERE pool_id = ?1 AND job_id = ?2",
                    [&pool_id, &job_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            Ok(csv.flatten())
        })
        .await
    }

    async fn link_identity(
        &self,
        link: &LinkedIdentity,
        max_per_user: usize,
    ) -> StoreResult<IdentityLink> {
        let link = link.clone();
        let max = i64::try_from(max_per_user).unwrap_or(i64::MAX);
        // One transaction on the one writer: the count and the insert
        // cannot be split by another link.
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let exists = tx
                .query_row(
                    "SELECT 1 FROM users WHERE pool_id = ?1 AND username_key = ?2",
                    [&link.pool_id, &link.username_key],
                    |_| Ok(()),
                )
                .optional()
                .map_err(backend)?
                .is_some();
            if !exists {
                return Ok(IdentityLink::UserMissing);
            }
            let linked = tx
                .query_row(
                    "SELECT 1 FROM user_identities WHERE pool_id = ?1 AND provider_name = ?2
                     AND attribute_name = ?3 AND attribute_value = ?4",
                    [
                        &link.pool_id,
                        &link.provider_name,
                        &link.attribute_name,
                        &link.attribute_value,
                    ],
                    |_| Ok(()),
                )
                .optional()
                .map_err(backend)?
                .is_some();
            if linked {
                return Ok(IdentityLink::AlreadyLinked);
            }
            let count: i64 = tx
                .query_row(
                    "SELECT count(*) FROM user_identities WHERE pool_id = ?1 AND username_key = ?2",
                    [&link.pool_id, &link.username_key],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if count >= max {
                return Ok(IdentityLink::LimitReached);
            }
            tx.execute(
                "INSERT INTO user_identities (pool_id, provider_name, attribute_name,
                 attribute_value, username_key, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    link.pool_id,
                    link.provider_name,
                    link.attribute_name,
                    link.attribute_value,
                    link.username_key,
                    link.created
                ],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(IdentityLink::Done)
        })
        .await
    }

    async fn unlink_identity(
        &self,
        pool_id: &str,
        provider_name: &str,
        attribute_name: &str,
        attribute_value: &str,
    ) -> StoreResult<bool> {
        let key = [
            pool_id.to_owned(),
            provider_name.to_owned(),
            attribute_name.to_owned(),
            attribute_value.to_owned(),
        ];
        self.write(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM user_identities WHERE pool_id = ?1 AND provider_name = ?2
                     AND attribute_name = ?3 AND attribute_value = ?4",
                    key,
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn identity_owner(
        &self,
        pool_id: &str,
        provider_name: &str,
        attribute_name: &str,
        attribute_value: &str,
    ) -> StoreResult<Option<String>> {
        let key = [
            pool_id.to_owned(),
            provider_name.to_owned(),
            attribute_name.to_owned(),
            attribute_value.to_owned(),
        ];
        self.read(move |c| {
            c.query_row(
                "SELECT username_key FROM user_identities WHERE pool_id = ?1
                 AND provider_name = ?2 AND attribute_name = ?3 AND attribute_value = ?4",
                key,
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn identities_of_user(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Vec<LinkedIdentity>> {
        let (pool_id, username_key) = (pool_id.to_owned(), username_key.to_owned());
        self.read(move |c| {
            let mut s = c
                .prepare_cached(
                    "SELECT provider_name, attribute_name, attribute_value, created
                     FROM user_identities WHERE pool_id = ?1 AND username_key = ?2
                     ORDER BY created, provider_name, attribute_name, attribute_value",
                )
                .map_err(backend)?;
            let rows = s
                .query_map([&pool_id, &username_key], |r| {
                    Ok(LinkedIdentity {
                        pool_id: pool_id.clone(),
                        username_key: username_key.clone(),
                        provider_name: r.get(0)?,
                        attribute_name: r.get(1)?,
                        attribute_value: r.get(2)?,
                        created: r.get(3)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn add_webauthn_credential(
        &self,
        credential: &WebAuthnCredential,
        max_per_user: usize,
    ) -> StoreResult<CredentialAdd> {
        let c = credential.clone();
        let transports = to_json(&c.transports)?;
        let max = i64::try_from(max_per_user).unwrap_or(i64::MAX);
        // One transaction on the one writer: the count and the insert
        // cannot be split by another registration.
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let exists = tx
                .query_row(
                    "SELECT 1 FROM users WHERE pool_id = ?1 AND username_key = ?2",
                    [&c.pool_id, &c.username_key],
                    |_| Ok(()),
                )
                .optional()
                .map_err(backend)?
                .is_some();
            if !exists {
                return Ok(CredentialAdd::UserMissing);
            }
            let taken = tx
                .query_row(
                    "SELECT 1 FROM webauthn_credentials WHERE pool_id = ?1 AND credential_id = ?2",
                    [&c.pool_id, &c.credential_id],
                    |_| Ok(()),
                )
                .optional()
                .map_err(backend)?
                .is_some();
            if taken {
                return Ok(CredentialAdd::Exists);
            }
            let count: i64 = tx
                .query_row(
                    "SELECT count(*) FROM webauthn_credentials WHERE pool_id = ?1 AND username_key = ?2",
                    [&c.pool_id, &c.username_key],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if count >= max {
                return Ok(CredentialAdd::LimitReached);
            }
            tx.execute(
                "INSERT INTO webauthn_credentials (pool_id, credential_id, username_key,
                 public_key, sign_count, friendly_name, relying_party_id,
                 authenticator_attachment, transports, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    c.pool_id,
                    c.credential_id,
                    c.username_key,
                    c.public_key,
                    c.sign_count,
                    c.friendly_name,
                    c.relying_party_id,
                    c.authenticator_attachment,
                    transports,
                    c.created
                ],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(CredentialAdd::Done)
        })
        .await
    }

    async fn webauthn_credentials_of_user(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Vec<WebAuthnCredential>> {
        let (pool_id, username_key) = (pool_id.to_owned(), username_key.to_owned());
        self.read(move |c| {
            let mut s = c
                .prepare_cached(
                    "SELECT credential_id, public_key, sign_count, friendly_name,
                     relying_party_id, authenticator_attachment, transports, created
                     FROM webauthn_credentials WHERE pool_id = ?1 AND username_key = ?2
                     ORDER BY created, credential_id",
                )
                .map_err(backend)?;
            let rows = s
                .query_map([&pool_id, &username_key], |r| {
                    Ok((
                        WebAuthnCredential {
                            pool_id: pool_id.clone(),
                            username_key: username_key.clone(),
                            credential_id: r.get(0)?,
                            public_key: r.get(1)?,
                            sign_count: r.get(2)?,
                            friendly_name: r.get(3)?,
                            relying_party_id: r.get(4)?,
                            authenticator_attachment: r.get(5)?,
                            transports: Vec::new(),
                            created: r.get(7)?,
                        },
                        r.get::<_, String>(6)?,
                    ))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (mut credential, transports) = row.map_err(backend)?;
                credential.transports = from_json(&transports)?;
                out.push(credential);
            }
            Ok(out)
        })
        .await
    }

    async fn delete_webauthn_credential(
        &self,
        pool_id: &str,
        username_key: &str,
        credential_id: &str,
    ) -> StoreResult<bool> {
        let key = [
            pool_id.to_owned(),
            username_key.to_owned(),
            credential_id.to_owned(),
        ];
        self.write(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM webauthn_credentials WHERE pool_id = ?1 AND username_key = ?2
                     AND credential_id = ?3",
                    key,
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn advance_webauthn_sign_count(
        &self,
        pool_id: &str,
        username_key: &str,
        credential_id: &str,
        sign_count: i64,
    ) -> StoreResult<bool> {
        let (pool_id, username_key, credential_id) = (
            pool_id.to_owned(),
            username_key.to_owned(),
            credential_id.to_owned(),
        );
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE webauthn_credentials SET sign_count = ?4
                     WHERE pool_id = ?1 AND username_key = ?2 AND credential_id = ?3
                     AND (sign_count < ?4 OR (sign_count = 0 AND ?4 = 0))",
                    params![pool_id, username_key, credential_id, sign_count],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn add_auth_event(
        &self,
        pool_id: &str,
        username_key: &str,
        event: &cognate_core::audit::AuthEventRecord,
        keep: usize,
    ) -> StoreResult<()> {
        let (pool_id, username_key) = (pool_id.to_owned(), username_key.to_owned());
        let (event_id, created, data) = (event.event_id.clone(), event.created, to_json(event)?);
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let inserted = tx.execute(
                "INSERT INTO auth_events (pool_id, username_key, event_id, created, data)
                 SELECT ?1, ?2, ?3, ?4, ?5
                 WHERE EXISTS (SELECT 1 FROM users WHERE pool_id = ?1 AND username_key = ?2)
                 ON CONFLICT (pool_id, username_key, event_id) DO UPDATE SET data = excluded.data",
                params![pool_id, username_key, event_id, created, data],
            );
            match inserted {
                Ok(_) => {}
                Err(e) if is_constraint(&e) => return Ok(()),
                Err(e) => return Err(backend(e)),
            }
            tx.execute(
                "DELETE FROM auth_events WHERE pool_id = ?1 AND username_key = ?2
                 AND event_id NOT IN (SELECT event_id FROM auth_events
                   WHERE pool_id = ?1 AND username_key = ?2
                   ORDER BY created DESC, event_id DESC LIMIT ?3)",
                params![pool_id, username_key, keep],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn list_auth_events(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Vec<cognate_core::audit::AuthEventRecord>> {
        let (pool_id, username_key) = (pool_id.to_owned(), username_key.to_owned());
        self.read(move |c| {
            let mut s = c
                .prepare_cached(
                    "SELECT data, feedback_value, feedback_provider, feedback_date FROM auth_events
                     WHERE pool_id = ?1 AND username_key = ?2
                     ORDER BY created DESC, event_id DESC",
                )
                .map_err(backend)?;
            let rows = s
                .query_map(params![pool_id, username_key], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    ))
                })
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            rows.into_iter()
                .map(|(data, value, provider, date)| {
                    crate::common::auth_event_of(&data, value, provider, date)
                })
                .collect()
        })
        .await
    }

    async fn set_auth_event_feedback(
        &self,
        pool_id: &str,
        username_key: &str,
        event_id: &str,
        feedback: &cognate_core::audit::AuthEventFeedback,
    ) -> StoreResult<bool> {
        let (pool_id, username_key, event_id) = (
            pool_id.to_owned(),
            username_key.to_owned(),
            event_id.to_owned(),
        );
        let feedback = feedback.clone();
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE auth_events SET feedback_value = ?4, feedback_provider = ?5, feedback_date = ?6
                     WHERE pool_id = ?1 AND username_key = ?2 AND event_id = ?3",
                    params![
                        pool_id,
                        username_key,
                        event_id,
                        feedback.value,
                        feedback.provider,
                        feedback.date
                    ],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn purge_expired(&self, now: Millis) -> StoreResult<u64> {
        self.write(move |conn| {
            let mut n = 0;
            for sql in [
                "DELETE FROM challenge_sessions WHERE expires <= ?1",
                "DELETE FROM codes WHERE expires <= ?1",
                "DELETE FROM refresh_tokens WHERE expires <= ?1",
                "DELETE FROM sso_sessions WHERE expires <= ?1",
                "DELETE FROM authorization_codes WHERE expires <= ?1",
                "DELETE FROM revoked_sessions WHERE until <= ?1",
                "DELETE FROM signing_keys WHERE published_until <= ?1",
            ] {
                n += conn.execute(sql, [now]).map_err(backend)? as u64;
            }
            Ok(n)
        })
        .await
    }
}
