//! The PostgreSQL backend: a pool of connections (`deadpool-postgres` over
//! `tokio-postgres`), shared by any number of cognate instances.
//!
//! The rules of `cognate_core::store` hold against concurrent callers, in
//! this process or another: a rule that fits one statement is one
//! conditional statement (`UPDATE ... WHERE version = ...`,
//! `DELETE ... RETURNING`, `INSERT ... ON CONFLICT`, a data-modifying `WITH`);
//! a call that reads and then writes does both in one transaction (READ
//! COMMITTED) after locking the rows it decides on (`SELECT ... FOR UPDATE`,
//! or an upsert that locks the row it returns). Every call is retried whole,
//! a bounded number of times with a small jitter, when the database reports
//! a serialization failure (40001) or a deadlock (40P01), so the same code
//! also runs on SERIALIZABLE databases that speak PostgreSQL's protocol.
//! Constraint violations (unique 23505, foreign key 23503) are
//! [`StoreError::Conflict`], or [`StoreError::AliasTaken`] for an alias.
//!
//! Migrations (`migrations/postgres/NNNN_*.sql`) are applied at connect,
//! each in one transaction that first claims its row in `schema_migrations`,
//! so that of several instances starting at once exactly one applies it
//! (the others wait for it, see the claim taken and go on). No advisory
//! locks and no `LOCK TABLE`.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::time::Duration;

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
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::common::{
    alias_rows, alias_taken_from, backend, from_json, judge_code, list_users_query, next_failures,
    page_of, pg_placeholders, to_json, user_columns, user_from_parts, CodeStep, SqlValue,
    UserColumns, INSERT_USER, UPDATE_USER, USER_SELECT_PG as USER_SELECT,
};

/// Migrations in order; the index + 1 is the schema version.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        "0002_user_import_jobs",
        include_str!("../migrations/postgres/0002_user_import_jobs.sql"),
    ),
    (
        "0003_exact_email",
        include_str!("../migrations/postgres/0003_exact_email.sql"),
    ),
    (
        "0004_client_version",
        include_str!("../migrations/postgres/0004_client_version.sql"),
    ),
    (
        "0005_refresh_rotation",
        include_str!("../migrations/postgres/0005_refresh_rotation.sql"),
    ),
    (
        "0006_auth_events",
        include_str!("../migrations/postgres/0006_auth_events.sql"),
    ),
    (
        "0007_user_identities",
        include_str!("../migrations/postgres/0007_user_identities.sql"),
    ),
    (
        "0008_webauthn_credentials",
        include_str!("../migrations/postgres/0008_webauthn_credentials.sql"),
    ),
    (
        "0009_token_sessions",
        include_str!("../migrations/postgres/0009_token_sessions.sql"),
    ),
    (
        "0010_sso_sessions",
        include_str!("../migrations/postgres/0010_sso_sessions.sql"),
    ),
];

/// Connections per store (per cognate instance).
const POOL_SIZE: usize = 16;
/// How many times a call is tried when the database asks for a retry.
const ATTEMPTS: u32 = 12;

/// The store on a PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
}

/// Why a call failed: the database's error (classified once, by [`PostgresStore::run`]),
/// or the store's own answer.
enum Fail {
    Pg(tokio_postgres::Error),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Self {
        Fail::Pg(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

type Result<T, E = Fail> = std::result::Result<T, E>;

fn is_code(e: &tokio_postgres::Error, code: &SqlState) -> bool {
    e.code() == Some(code)
}

fn is_constraint(e: &tokio_postgres::Error) -> bool {
    is_code(e, &SqlState::UNIQUE_VIOLATION) || is_code(e, &SqlState::FOREIGN_KEY_VIOLATION)
}

/// Serialization failures and deadlocks: the transaction can simply run again.
fn is_retryable(e: &tokio_postgres::Error) -> bool {
    is_code(e, &SqlState::T_R_SERIALIZATION_FAILURE) || is_code(e, &SqlState::T_R_DEADLOCK_DETECTED)
}

/// The database's message and SQLSTATE, for logs. Never its detail, which
/// may quote a row (a user's document, with its password hash).
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

fn map_err(e: tokio_postgres::Error) -> StoreError {
    if is_constraint(&e) {
        StoreError::Conflict(describe(&e))
    } else {
        StoreError::Backend(describe(&e))
    }
}

/// A short random pause before retry number `attempt`.
async fn backoff(attempt: u32) {
    let jitter = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        % 5_000;
    let micros = 1_000 * u64::from(attempt.min(8)) + jitter;
    tokio::time::sleep(Duration::from_micros(micros)).await;
}

/// Runs a (cached) prepared statement; the number of rows it changed.
async fn exec(
    c: &(impl GenericClient + ?Sized),
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.execute(&statement, params).await?)
}

async fn query(
    c: &(impl GenericClient + ?Sized),
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query(&statement, params).await?)
}

async fn query_opt(
    c: &(impl GenericClient + ?Sized),
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&statement, params).await?)
}

/// The `data` documents of a query, parsed.
async fn documents<T: serde::de::DeserializeOwned>(
    c: &(impl GenericClient + ?Sized),
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<T>> {
    let rows = query(c, sql, params).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(from_json(&row.try_get::<_, String>(0)?)?);
    }
    Ok(out)
}

async fn document<T: serde::de::DeserializeOwned>(
    c: &(impl GenericClient + ?Sized),
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<T>> {
    match query_opt(c, sql, params).await? {
        Some(row) => Ok(Some(from_json(&row.try_get::<_, String>(0)?)?)),
        None => Ok(None),
    }
}

/// A user from a row of [`USER_SELECT`].
fn user_of(row: &Row) -> Result<User> {
    let revoked: Option<String> = row.try_get(4)?;
    Ok(user_from_parts(
        &row.try_get::<_, String>(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        revoked.as_deref(),
    )?)
}

async fn one_user(
    c: &(impl GenericClient + ?Sized),
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<User>> {
    query_opt(c, sql, params)
        .await?
        .map(|row| user_of(&row))
        .transpose()
}

fn pool_of(row: &Row) -> Result<UserPool> {
    let mut pool: UserPool = from_json(&row.try_get::<_, String>(0)?)?;
    pool.version = row.try_get(1)?;
    Ok(pool)
}

fn key_of(r: &Row) -> Result<StoredKey> {
    Ok(StoredKey {
        pool_id: r.try_get(0)?,
        kid: r.try_get(1)?,
        purpose: r.try_get(2)?,
        pkcs8: r.try_get(3)?,
        created: r.try_get(4)?,
        signs_from: r.try_get(5)?,
        signs_until: r.try_get(6)?,
        published_until: r.try_get(7)?,
    })
}

fn code_of(r: &Row) -> Result<CodeRecord> {
    Ok(CodeRecord {
        pool_id: r.try_get(0)?,
        username_key: r.try_get(1)?,
        purpose: r.try_get(2)?,
        code_hash: r.try_get(3)?,
        expires: r.try_get(4)?,
        attempts: u32::try_from(r.try_get::<_, i64>(5)?).unwrap_or(u32::MAX),
    })
}

/// The columns [`refresh_of`] reads, in its order.
const REFRESH_COLUMNS: &str = "token_hash, pool_id, client_id, username_key, sub, origin_jti,
     auth_time, created, expires, revoked, scope, rotated_until, device_key, last_active,
     sso_session_id, last_ip, last_device";

/// Stores a refresh token.
async fn insert_refresh(c: &(impl GenericClient + ?Sized), t: &RefreshTokenRecord) -> Result<u64> {
    let revoked = i64::from(t.revoked);
    exec(
        c,
        &format!(
            "INSERT INTO refresh_tokens ({REFRESH_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ),
        &[
            &t.token_hash,
            &t.pool_id,
            &t.client_id,
            &t.username_key,
            &t.sub,
            &t.origin_jti,
            &t.auth_time,
            &t.created,
            &t.expires,
            &revoked,
            &t.scope,
            &t.rotated_until,
            &t.device_key,
            &t.last_active,
            &t.sso_session_id,
            &t.last_ip,
            &t.last_device,
        ],
    )
    .await
}

/// [`insert_refresh`] of a new sign-in's token, in a transaction: a token
/// granted through an SSO session is stored only while that session
/// exists (`Conflict` if it is gone). The session's row is locked (KEY
/// SHARE) until the commit, so a revocation deleting it waits and then
/// sees the token, or went first and the token is refused.
async fn insert_sign_in_refresh(
    tx: &deadpool_postgres::Transaction<'_>,
    t: &RefreshTokenRecord,
) -> Result<()> {
    if let Some(sso) = &t.sso_session_id {
        let held = query_opt(
            tx,
            "SELECT 1 FROM sso_sessions WHERE pool_id = $1 AND session_id = $2 FOR KEY SHARE",
            &[&t.pool_id, sso],
        )
        .await?;
        if held.is_none() {
            return Err(Fail::Store(StoreError::Conflict(
                "the SSO session is gone".to_owned(),
            )));
        }
    }
    insert_refresh(tx, t).await?;
    Ok(())
}

/// Revokes every refresh token of a sign-in session (`origin_jti`) and
/// marks the session revoked until `until` (its access tokens are refused).
async fn revoke_family(
    c: &(impl GenericClient + ?Sized),
    pool_id: &str,
    origin_jti: &str,
    username_key: &str,
    until: Millis,
) -> Result<()> {
    exec(
        c,
        "UPDATE refresh_tokens SET revoked = 1 WHERE pool_id = $1 AND origin_jti = $2",
        &[&pool_id, &origin_jti],
    )
    .await?;
    exec(
        c,
        "INSERT INTO revoked_sessions (pool_id, origin_jti, username_key, until)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (pool_id, origin_jti)
         DO UPDATE SET until = GREATEST(revoked_sessions.until, excluded.until)",
        &[&pool_id, &origin_jti, &username_key, &until],
    )
    .await?;
    Ok(())
}

const SSO_COLUMNS: &str = "pool_id, session_id, username_key, sub, client_id, created,
     last_active, expires, last_ip, last_device";

fn sso_of(r: &Row) -> Result<SsoSession> {
    Ok(SsoSession {
        pool_id: r.try_get(0)?,
        session_id: r.try_get(1)?,
        username_key: r.try_get(2)?,
        sub: r.try_get(3)?,
        client_id: r.try_get(4)?,
        created: r.try_get(5)?,
        last_active: r.try_get(6)?,
        expires: r.try_get(7)?,
        last_ip: r.try_get(8)?,
        last_device: r.try_get(9)?,
    })
}

fn refresh_of(r: &Row) -> Result<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        token_hash: r.try_get(0)?,
        pool_id: r.try_get(1)?,
        client_id: r.try_get(2)?,
        username_key: r.try_get(3)?,
        sub: r.try_get(4)?,
        origin_jti: r.try_get(5)?,
        auth_time: r.try_get(6)?,
        created: r.try_get(7)?,
        expires: r.try_get(8)?,
        revoked: r.try_get::<_, i64>(9)? != 0,
        scope: r.try_get(10)?,
        rotated_until: r.try_get(11)?,
        device_key: r.try_get(12)?,
        last_active: r.try_get(13)?,
        sso_session_id: r.try_get(14)?,
        last_ip: r.try_get(15)?,
        last_device: r.try_get(16)?,
    })
}

/// The parameters of [`INSERT_USER`] / [`UPDATE_USER`] (`?1..?13`).
fn user_params<'a>(
    pool_id: &'a String,
    key: &'a String,
    c: &'a UserColumns,
) -> [&'a (dyn ToSql + Sync); 13] {
    [
        pool_id,
        key,
        &c.username,
        &c.sub,
        &c.status,
        &c.enabled,
        &c.email,
        &c.phone_number,
        &c.preferred_username,
        &c.name,
        &c.given_name,
        &c.family_name,
        &c.data,
    ]
}

/// How many times the owner of one alias is looked for when it keeps
/// changing under a take (each round waits for the previous taker's commit).
const TAKE_ROUNDS: u32 = 64;

/// Moves the aliases among `aliases` whose kind is in `take` to the user
/// `username_key`, inside the caller's transaction: the alias row is locked
/// (or inserted), its holder's row locked, the holder's `<kind>_verified`
/// set to `false` (version moves on) and the row given to this user. A
/// concurrent taker waits on the row lock; when the row it waited for was
/// deleted, its insert meets the new row (ON CONFLICT) and it looks again.
async fn take_aliases(
    tx: &deadpool_postgres::Transaction<'_>,
    pool_id: &str,
    username_key: &str,
    aliases: &[AliasKey],
    take: &[String],
    modified: i64,
) -> Result<()> {
    for alias in aliases.iter().filter(|a| take.contains(&a.kind)) {
        let mut round = 0;
        loop {
            round += 1;
            if round > TAKE_ROUNDS {
                return Err(StoreError::Backend("alias owner kept changing".into()).into());
            }
            let holder = query_opt(
                tx,
                "SELECT username_key FROM user_aliases
                 WHERE pool_id = $1 AND kind = $2 AND value = $3 FOR UPDATE",
                &[&pool_id, &alias.kind, &alias.value],
            )
            .await?;
            match holder {
                Some(row) => {
                    let holder: String = row.try_get(0)?;
                    if holder == username_key {
                        break;
                    }
                    let previous = one_user(
                        tx,
                        &format!(
                            "{USER_SELECT} WHERE u.pool_id = $1 AND u.username_key = $2 FOR UPDATE OF u"
                        ),
                        &[&pool_id, &holder],
                    )
                    .await?;
                    if let Some(previous) = previous {
                        let version = previous.version;
                        let previous = alias_taken_from(previous, &alias.kind, modified);
                        let cols = user_columns(&previous)?;
                        let mut params =
                            user_params(&previous.pool_id, &previous.username_key, &cols).to_vec();
                        params.push(&version);
                        exec(tx, &pg_placeholders(UPDATE_USER), &params).await?;
                    }
                    exec(
                        tx,
                        "UPDATE user_aliases SET username_key = $4
                         WHERE pool_id = $1 AND kind = $2 AND value = $3",
                        &[&pool_id, &alias.kind, &alias.value, &username_key],
                    )
                    .await?;
                    break;
                }
                None => {
                    let inserted = exec(
                        tx,
                        "INSERT INTO user_aliases (pool_id, kind, value, username_key)
                         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                        &[&pool_id, &alias.kind, &alias.value, &username_key],
                    )
                    .await?;
                    if inserted == 1 {
                        break;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Replaces the alias rows of a user (inside the caller's transaction);
/// `AliasTaken` if another user holds one.
async fn put_aliases(
    tx: &deadpool_postgres::Transaction<'_>,
    pool_id: &str,
    username_key: &str,
    aliases: &[AliasKey],
) -> Result<()> {
    let current: Vec<(String, String)> = query(
        tx,
        "SELECT kind, value FROM user_aliases WHERE pool_id = $1 AND username_key = $2
         ORDER BY kind, value",
        &[&pool_id, &username_key],
    )
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_>>()?;
    let wanted = alias_rows(aliases);
    if current == wanted {
        return Ok(());
    }
    exec(
        tx,
        "DELETE FROM user_aliases WHERE pool_id = $1 AND username_key = $2",
        &[&pool_id, &username_key],
    )
    .await?;
    for (kind, value) in wanted {
        match exec(
            tx,
            "INSERT INTO user_aliases (pool_id, kind, value, username_key) VALUES ($1, $2, $3, $4)",
            &[&pool_id, &kind, &value, &username_key],
        )
        .await
        {
            Ok(_) => {}
            Err(Fail::Pg(e)) if is_code(&e, &SqlState::UNIQUE_VIOLATION) => {
                return Err(StoreError::AliasTaken(kind).into())
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn insert_keys(tx: &deadpool_postgres::Transaction<'_>, keys: &[StoredKey]) -> Result<()> {
    for k in keys {
        exec(
            tx,
            "INSERT INTO signing_keys (pool_id, kid, purpose, pkcs8, created, signs_from, signs_until,
             published_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &k.pool_id,
                &k.kid,
                &k.purpose,
                &k.pkcs8,
                &k.created,
                &k.signs_from,
                &k.signs_until,
                &k.published_until,
            ],
        )
        .await?;
    }
    Ok(())
}

fn parse_url(url: &str) -> Result<tokio_postgres::Config, StoreError> {
    tokio_postgres::Config::from_str(url)
        .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/db`,
    /// `postgresql://...` or libpq's `key=value` form) and brings the
    /// database's schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut config = parse_url(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("cognate");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(15)))
            .build()
            .map_err(backend)?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Whether `url` is a connection string this engine understands (the
    /// message says why not).
    pub fn check_url(url: &str) -> Result<(), String> {
        parse_url(url).map(drop).map_err(|e| match e {
            StoreError::Backend(m) => m,
            other => other.to_string(),
        })
    }

    /// A connection of the pool.
    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(|e| {
            // The pool's error hides the cause (refused, authentication...).
            let mut message = format!("PostgreSQL: {e}");
            let mut root = std::error::Error::source(&e);
            while let Some(next) = root.and_then(|c| c.source()) {
                root = Some(next);
            }
            if let Some(root) = root.map(|c| c.to_string()) {
                if !message.contains(&root) {
                    message = format!("{message}: {root}");
                }
            }
            StoreError::Backend(message)
        })
    }

    /// Runs `f` on a connection, again (on a fresh connection, after a
    /// short random pause) while the database reports a serialization
    /// failure or a deadlock, up to [`ATTEMPTS`] times. `f` runs whole each
    /// time, so a transaction it opens is retried from its start.
    async fn run<T, F, Fut>(&self, f: F) -> StoreResult<T>
    where
        F: Fn(Object) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempt = 1;
        loop {
            let client = self.client().await?;
            match f(client).await {
                Ok(value) => return Ok(value),
                Err(Fail::Pg(e)) if is_retryable(&e) && attempt < ATTEMPTS => {
                    backoff(attempt).await;
                    attempt += 1;
                }
                Err(Fail::Pg(e)) => return Err(map_err(e)),
                Err(Fail::Store(e)) => return Err(e),
            }
        }
    }

    /// The schema version (number of applied migrations).
    pub async fn schema_version(&self) -> StoreResult<i64> {
        self.run(|c| async move {
            let row = query_opt(&c, "SELECT max(version) FROM schema_migrations", &[]).await?;
            Ok(match row {
                Some(r) => r.try_get::<_, Option<i64>>(0)?.unwrap_or(0),
                None => 0,
            })
        })
        .await
    }

    /// Applies the migrations this database lacks.
    async fn migrate(&self) -> StoreResult<()> {
        let mut client = self.client().await?;
        // Two instances creating the table at once may collide in the
        // catalog (a unique violation, or its row type existing): the
        // loser tries again.
        let mut attempt = 1;
        loop {
            match client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (
                        version BIGINT PRIMARY KEY,
                        name    TEXT NOT NULL,
                        applied BIGINT NOT NULL
                    )",
                )
                .await
            {
                Ok(()) => break,
                Err(e)
                    if attempt < ATTEMPTS
                        && (is_retryable(&e)
                            || is_code(&e, &SqlState::UNIQUE_VIOLATION)
                            || is_code(&e, &SqlState::DUPLICATE_TABLE)
                            // The table's row type, created with it (42710).
                            || is_code(&e, &SqlState::DUPLICATE_OBJECT)) =>
                {
                    backoff(attempt).await;
                    attempt += 1;
                }
                Err(e) => {
                    return Err(StoreError::Backend(format!(
                        "creating schema_migrations: {}",
                        describe(&e)
                    )))
                }
            }
        }
        let mut attempt = 1;
        loop {
            let current: i64 = client
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM schema_migrations",
                    &[],
                )
                .await
                .and_then(|r| r.try_get(0))
                .map_err(|e| StoreError::Backend(describe(&e)))?;
            if current > MIGRATIONS.len() as i64 {
                return Err(backend(format!(
                    "database schema version {current} is newer than this cognate ({})",
                    MIGRATIONS.len()
                )));
            }
            let Some((name, sql)) = MIGRATIONS.get(current as usize) else {
                return Ok(());
            };
            let version = current + 1;
            let applied = async {
                let tx = client.transaction().await?;
                // The claim: a second instance's insert waits for this
                // transaction, then fails (unique) once it commits.
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied)
                     VALUES ($1, $2, extract(epoch FROM now())::bigint)",
                    &[&version, name],
                )
                .await?;
                tx.batch_execute(sql).await?;
                tx.commit().await
            }
            .await;
            match applied {
                Ok(()) => attempt = 1,
                // Someone else applied it (or is racing us): look again.
                Err(e)
                    if attempt < ATTEMPTS
                        && (is_retryable(&e) || is_code(&e, &SqlState::UNIQUE_VIOLATION)) =>
                {
                    backoff(attempt).await;
                    attempt += 1;
                }
                Err(e) => {
                    return Err(StoreError::Backend(format!(
                        "migration {name}: {}",
                        describe(&e)
                    )))
                }
            }
        }
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn insert_pool(&self, pool: &UserPool, keys: &[StoredKey]) -> StoreResult<()> {
        let data = to_json(pool)?;
        let (data, pool) = (&data, pool);
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            exec(
                &tx,
                "INSERT INTO user_pools (id, name, created, data, version) VALUES ($1, $2, $3, $4, 1)",
                &[&pool.id, &pool.name, &pool.created, data],
            )
            .await?;
            insert_keys(&tx, keys).await?;
            Ok(tx.commit().await?)
        })
        .await
    }

    async fn get_pool(&self, pool_id: &str) -> StoreResult<Option<UserPool>> {
        self.run(|c| async move {
            query_opt(
                &c,
                "SELECT data, version FROM user_pools WHERE id = $1",
                &[&pool_id],
            )
            .await?
            .map(|r| pool_of(&r))
            .transpose()
        })
        .await
    }

    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<UserPool>> {
        let after = after.unwrap_or("");
        let limit = limit as i64;
        self.run(|c| async move {
            query(
                &c,
                "SELECT data, version FROM user_pools WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &limit],
            )
            .await?
            .iter()
            .map(pool_of)
            .collect()
        })
        .await
    }

    async fn update_pool(&self, pool: &UserPool) -> StoreResult<Write> {
        let data = to_json(pool)?;
        let data = &data;
        self.run(|c| async move {
            let n = exec(
                &c,
                "UPDATE user_pools SET name = $2, data = $3, version = version + 1
                 WHERE id = $1 AND version = $4",
                &[&pool.id, &pool.name, data, &pool.version],
            )
            .await?;
            if n > 0 {
                return Ok(Write::Done);
            }
            let exists = query_opt(&c, "SELECT 1 FROM user_pools WHERE id = $1", &[&pool.id])
                .await?
                .is_some();
            Ok(if exists { Write::Stale } else { Write::Missing })
        })
        .await
    }

    async fn delete_pool(&self, pool_id: &str) -> StoreResult<bool> {
        self.run(|c| async move {
            Ok(exec(&c, "DELETE FROM user_pools WHERE id = $1", &[&pool_id]).await? > 0)
        })
        .await
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        self.run(|c| async move {
            let rows = query(
                &c,
                "SELECT count(*) FROM users WHERE pool_id = $1",
                &[&pool_id],
            )
            .await?;
            let n: i64 = match rows.first() {
                Some(r) => r.try_get(0)?,
                None => 0,
            };
            Ok(n as u64)
        })
        .await
    }

    async fn list_keys(&self, pool_id: &str) -> StoreResult<Vec<StoredKey>> {
        self.run(|c| async move {
            query(
                &c,
                "SELECT pool_id, kid, purpose, pkcs8, created, signs_from, signs_until, published_until
                 FROM signing_keys WHERE pool_id = $1 ORDER BY signs_from, created, kid",
                &[&pool_id],
            )
            .await?
            .iter()
            .map(key_of)
            .collect()
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
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            // Rotations of one pool take turns (the pool row's lock; inserts
            // that refer to the pool are not held up by it).
            exec(
                &tx,
                "SELECT 1 FROM user_pools WHERE id = $1 FOR NO KEY UPDATE",
                &[&pool_id],
            )
            .await?;
            if let Some(t) = unless_newer_than {
                let newest: Option<i64> = match query_opt(
                    &tx,
                    "SELECT max(signs_from) FROM signing_keys WHERE pool_id = $1",
                    &[&pool_id],
                )
                .await?
                {
                    Some(r) => r.try_get(0)?,
                    None => None,
                };
                if newest.is_some_and(|n| n > t) {
                    return Ok(false);
                }
            }
            for k in new_keys {
                exec(
                    &tx,
                    "UPDATE signing_keys SET signs_until = $3, published_until = $4
                     WHERE pool_id = $1 AND purpose = $2 AND signs_until IS NULL",
                    &[&pool_id, &k.purpose, &k.signs_from, &old_published_until],
                )
                .await?;
            }
            insert_keys(&tx, new_keys).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn insert_client(&self, client: &AppClient) -> StoreResult<()> {
        let data = to_json(client)?;
        let data = &data;
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO app_clients (client_id, pool_id, data) VALUES ($1, $2, $3)",
                &[&client.client_id, &client.pool_id, data],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<AppClient>> {
        self.run(|c| async move {
            query_opt(
                &c,
                "SELECT data, version FROM app_clients WHERE client_id = $1",
                &[&client_id],
            )
            .await?
            .map(|r| {
                let mut client: AppClient = from_json(&r.try_get::<_, String>(0)?)?;
                client.version = r.try_get(1)?;
                Ok(client)
            })
            .transpose()
        })
        .await
    }

    async fn list_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AppClient>> {
        let after = after.unwrap_or("");
        let limit = limit as i64;
        self.run(|c| async move {
            documents(
                &c,
                "SELECT data FROM app_clients WHERE pool_id = $1 AND client_id > $2
                 ORDER BY client_id LIMIT $3",
                &[&pool_id, &after, &limit],
            )
            .await
        })
        .await
    }

    async fn update_client(&self, client: &AppClient) -> StoreResult<Write> {
        let data = to_json(client)?;
        let data = &data;
        self.run(|c| async move {
            let n = exec(
                &c,
                "UPDATE app_clients SET data = $3, version = version + 1
                 WHERE client_id = $1 AND pool_id = $2 AND version = $4",
                &[&client.client_id, &client.pool_id, data, &client.version],
            )
            .await?;
            if n > 0 {
                return Ok(Write::Done);
            }
            let exists = query_opt(
                &c,
                "SELECT 1 FROM app_clients WHERE client_id = $1 AND pool_id = $2",
                &[&client.client_id, &client.pool_id],
            )
            .await?
            .is_some();
            Ok(if exists { Write::Stale } else { Write::Missing })
        })
        .await
    }

    async fn delete_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool> {
        self.run(|c| async move {
            let n = exec(
                &c,
                "DELETE FROM app_clients WHERE client_id = $1 AND pool_id = $2",
                &[&client_id, &pool_id],
            )
            .await?;
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
        let cols = user_columns(user)?;
        let sql = pg_placeholders(INSERT_USER);
        let (cols, sql) = (&cols, sql.as_str());
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            exec(
                &tx,
                sql,
                &user_params(&user.pool_id, &user.username_key, cols),
            )
            .await?;
            take_aliases(
                &tx,
                &user.pool_id,
                &user.username_key,
                aliases,
                take,
                user.modified,
            )
            .await?;
            put_aliases(&tx, &user.pool_id, &user.username_key, aliases).await?;
            Ok(tx.commit().await?)
        })
        .await
    }

    async fn get_user(&self, pool_id: &str, username_key: &str) -> StoreResult<Option<User>> {
        self.run(|c| async move {
            one_user(
                &c,
                &format!("{USER_SELECT} WHERE u.pool_id = $1 AND u.username_key = $2"),
                &[&pool_id, &username_key],
            )
            .await
        })
        .await
    }

    async fn get_user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<User>> {
        self.run(|c| async move {
            one_user(
                &c,
                &format!("{USER_SELECT} WHERE u.pool_id = $1 AND u.sub = $2"),
                &[&pool_id, &sub],
            )
            .await
        })
        .await
    }

    async fn get_user_by_alias(
        &self,
        pool_id: &str,
        kind: &str,
        value: &str,
    ) -> StoreResult<Option<User>> {
        self.run(|c| async move {
            one_user(
                &c,
                &format!(
                    "{USER_SELECT} JOIN user_aliases a
                     ON a.pool_id = u.pool_id AND a.username_key = u.username_key
                     WHERE a.pool_id = $1 AND a.kind = $2 AND a.value = $3"
                ),
                &[&pool_id, &kind, &value],
            )
            .await
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
        let cols = user_columns(user)?;
        let sql = pg_placeholders(UPDATE_USER);
        let (cols, sql) = (&cols, sql.as_str());
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            let mut params = user_params(&user.pool_id, &user.username_key, cols).to_vec();
            params.push(&user.version);
            let n = exec(&tx, sql, &params).await?;
            if n == 0 {
                let exists = query_opt(
                    &tx,
                    "SELECT 1 FROM users WHERE pool_id = $1 AND username_key = $2",
                    &[&user.pool_id, &user.username_key],
                )
                .await?
                .is_some();
                return Ok(if exists { Write::Stale } else { Write::Missing });
            }
            take_aliases(
                &tx,
                &user.pool_id,
                &user.username_key,
                aliases,
                take,
                user.modified,
            )
            .await?;
            put_aliases(&tx, &user.pool_id, &user.username_key, aliases).await?;
            tx.commit().await?;
            Ok(Write::Done)
        })
        .await
    }

    async fn delete_user(&self, pool_id: &str, username_key: &str) -> StoreResult<bool> {
        // Codes, refresh tokens, memberships, aliases, failures and
        // revocations go with the user (ON DELETE CASCADE).
        self.run(|c| async move {
            let n = exec(
                &c,
                "DELETE FROM users WHERE pool_id = $1 AND username_key = $2",
                &[&pool_id, &username_key],
            )
            .await?;
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
        let q = list_users_query(USER_SELECT, pool_id, filter, cursor, limit)?;
        let sql = pg_placeholders(&q.sql);
        let (q, sql) = (&q, sql.as_str());
        self.run(|c| async move {
            let params: Vec<&(dyn ToSql + Sync)> = q
                .values
                .iter()
                .map(|v| -> &(dyn ToSql + Sync) {
                    match v {
                        SqlValue::Text(s) => s,
                        SqlValue::Int(i) => i,
                    }
                })
                .collect();
            let users = query(&c, sql, &params)
                .await?
                .iter()
                .map(user_of)
                .collect::<Result<Vec<_>>>()?;
            Ok(page_of(users, limit, q.by_column))
        })
        .await
    }

    async fn import_users(&self, users: &[ImportUser]) -> StoreResult<ImportOutcome> {
        let columns = users
            .iter()
            .map(|u| user_columns(&u.user))
            .collect::<StoreResult<Vec<_>>>()?;
        let sql = pg_placeholders(INSERT_USER);
        let (columns, sql) = (&columns, sql.as_str());
        self.run(|mut c| async move {
            let mut tx = c.transaction().await?;
            let mut outcome = ImportOutcome::default();
            for (item, cols) in users.iter().zip(columns) {
                let u = &item.user;
                let sp = tx.savepoint("import_user").await?;
                let skipped = match exec(&sp, sql, &user_params(&u.pool_id, &u.username_key, cols))
                    .await
                {
                    Ok(_) => None,
                    Err(Fail::Pg(e)) if is_constraint(&e) => {
                        Some("the username or sub exists".to_owned())
                    }
                    Err(e) => return Err(e),
                };
                let skipped = match skipped {
                    Some(why) => Some(why),
                    None => match put_aliases(&sp, &u.pool_id, &u.username_key, &item.aliases).await {
                        Ok(()) => None,
                        Err(Fail::Store(StoreError::AliasTaken(kind))) => {
                            Some(format!("another user has this {kind}"))
                        }
                        Err(e) => return Err(e),
                    },
                };
                let skipped = match skipped {
                    Some(why) => Some(why),
                    None => {
                        exec(
                            &sp,
                            "UPDATE users SET tokens_valid_after = $3, totp_last_step = $4
                             WHERE pool_id = $1 AND username_key = $2",
                            &[&u.pool_id, &u.username_key, &u.tokens_valid_after, &u.totp_last_step],
                        )
                        .await?;
                        for r in &u.revoked_origins {
                            exec(
                                &sp,
                                "INSERT INTO revoked_sessions (pool_id, origin_jti, username_key, until)
                                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                                &[&u.pool_id, &r.origin_jti, &u.username_key, &r.until],
                            )
                            .await?;
                        }
                        let mut missing = None;
                        for g in &item.groups {
                            match exec(
                                &sp,
                                "INSERT INTO group_members (pool_id, group_name, username_key)
                                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                &[&u.pool_id, g, &u.username_key],
                            )
                            .await
                            {
                                Ok(_) => {}
                                Err(Fail::Pg(e)) if is_constraint(&e) => {
                                    missing = Some(format!("no group {g}"));
                                    break;
                                }
                                Err(e) => return Err(e),
                            }
                        }
                        missing
                    }
                };
                match skipped {
                    None => {
                        sp.commit().await?;
                        outcome.inserted += 1;
                    }
                    Some(why) => {
                        sp.rollback().await?;
                        outcome.skipped.push((u.username.clone(), why));
                    }
                }
            }
            tx.commit().await?;
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
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            // The row, locked: created empty (0 failures) if there is none;
            // an existing one is returned as it is (the no-op update locks it).
            let row = match query_opt(
                &tx,
                "INSERT INTO sign_in_failures (pool_id, username_key, failures, last_failed, locked_until)
                 VALUES ($1, $2, 0, $3, NULL)
                 ON CONFLICT (pool_id, username_key) DO UPDATE SET failures = sign_in_failures.failures
                 RETURNING failures, last_failed, locked_until",
                &[&pool_id, &username_key, &now],
            )
            .await
            {
                Ok(row) => row,
                // The user is gone.
                Err(Fail::Pg(e)) if is_code(&e, &SqlState::FOREIGN_KEY_VIOLATION) => return Ok(None),
                Err(e) => return Err(e),
            };
            let before = match row {
                Some(r) => {
                    let failures: i64 = r.try_get(0)?;
                    (failures > 0)
                        .then(|| Ok::<_, Fail>((failures, r.try_get(1)?, r.try_get(2)?)))
                        .transpose()?
                }
                None => None,
            };
            let next = next_failures(before, now, policy);
            exec(
                &tx,
                "UPDATE sign_in_failures SET failures = $3, last_failed = $4, locked_until = $5
                 WHERE pool_id = $1 AND username_key = $2",
                &[
                    &pool_id,
                    &username_key,
                    &i64::from(next.failures),
                    &now,
                    &next.locked_until,
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(Some(next))
        })
        .await
    }

    async fn sign_in_locked_until(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Option<Millis>> {
        self.run(|c| async move {
            match query_opt(
                &c,
                "SELECT locked_until FROM sign_in_failures WHERE pool_id = $1 AND username_key = $2",
                &[&pool_id, &username_key],
            )
            .await?
            {
                Some(r) => Ok(r.try_get(0)?),
                None => Ok(None),
            }
        })
        .await
    }

    async fn clear_sign_in_failures(
        &self,
        pool_id: &str,
        username_key: &str,
        now: Millis,
    ) -> StoreResult<bool> {
        self.run(|c| async move {
            // One conditional delete; then, with a fresh snapshot, whether a
            // lock in force kept the row.
            exec(
                &c,
                "DELETE FROM sign_in_failures WHERE pool_id = $1 AND username_key = $2
                 AND (locked_until IS NULL OR locked_until <= $3)",
                &[&pool_id, &username_key, &now],
            )
            .await?;
            let locked = query_opt(
                &c,
                "SELECT 1 FROM sign_in_failures WHERE pool_id = $1 AND username_key = $2
                 AND locked_until > $3",
                &[&pool_id, &username_key, &now],
            )
            .await?
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
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            // Locks the user: sign-outs of one user take turns.
            let n = exec(
                &tx,
                "UPDATE users SET tokens_valid_after = GREATEST(coalesce(tokens_valid_after, 0), $3)
                 WHERE pool_id = $1 AND username_key = $2",
                &[&pool_id, &username_key, &now],
            )
            .await?;
            if n == 0 {
                return Ok(false);
            }
            exec(
                &tx,
                "UPDATE refresh_tokens SET revoked = 1
                 WHERE pool_id = $1 AND username_key = $2 AND revoked = 0",
                &[&pool_id, &username_key],
            )
            .await?;
            exec(
                &tx,
                "DELETE FROM sso_sessions WHERE pool_id = $1 AND username_key = $2",
                &[&pool_id, &username_key],
            )
            .await?;
            tx.commit().await?;
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
        self.run(|c| async move {
            let n = exec(
                &c,
                "UPDATE users SET totp_last_step = $3 WHERE pool_id = $1 AND username_key = $2
                 AND (totp_last_step IS NULL OR totp_last_step < $3)",
                &[&pool_id, &username_key, &step],
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()> {
        let attempts = i64::from(code.attempts);
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO codes (pool_id, username_key, purpose, code_hash, expires, attempts)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (pool_id, username_key, purpose) DO UPDATE SET
                   code_hash = excluded.code_hash, expires = excluded.expires,
                   attempts = excluded.attempts",
                &[
                    &code.pool_id,
                    &code.username_key,
                    &code.purpose,
                    &code.code_hash,
                    &code.expires,
                    &attempts,
                ],
            )
            .await?;
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
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            let key: [&(dyn ToSql + Sync); 3] = [&code.pool_id, &code.username_key, &code.purpose];
            // Locked: concurrent guesses at one code take turns.
            let stored = query_opt(
                &tx,
                "SELECT pool_id, username_key, purpose, code_hash, expires, attempts FROM codes
                 WHERE pool_id = $1 AND username_key = $2 AND purpose = $3 FOR UPDATE",
                &key,
            )
            .await?
            .map(|r| code_of(&r))
            .transpose()?;
            let (outcome, step) = judge_code(stored.as_ref(), code, now, max_attempts);
            let sql = match step {
                CodeStep::Keep => None,
                CodeStep::Delete => Some(
                    "DELETE FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
                ),
                CodeStep::CountMiss => Some(
                    "UPDATE codes SET attempts = attempts + 1
                     WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
                ),
            };
            if let Some(sql) = sql {
                exec(&tx, sql, &key).await?;
            }
            tx.commit().await?;
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
        self.run(|c| async move {
            exec(
                &c,
                "DELETE FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
                &[&pool_id, &username_key, &purpose],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn put_session(&self, session: &ChallengeSession) -> StoreResult<()> {
        let data = to_json(session)?;
        let data = &data;
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO challenge_sessions (handle_hash, pool_id, expires, data)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (handle_hash) DO UPDATE SET
                   pool_id = excluded.pool_id, expires = excluded.expires, data = excluded.data",
                &[
                    &session.handle_hash,
                    &session.pool_id,
                    &session.expires,
                    data,
                ],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn put_session_once(&self, session: &ChallengeSession, now: Millis) -> StoreResult<bool> {
        let data = to_json(session)?;
        let data = &data;
        self.run(|c| async move {
            let changed = exec(
                &c,
                "INSERT INTO challenge_sessions (handle_hash, pool_id, expires, data)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (handle_hash) DO UPDATE SET
                   pool_id = excluded.pool_id, expires = excluded.expires, data = excluded.data
                 WHERE challenge_sessions.expires <= $5",
                &[
                    &session.handle_hash,
                    &session.pool_id,
                    &session.expires,
                    data,
                    &now,
                ],
            )
            .await?;
            Ok(changed == 1)
        })
        .await
    }

    async fn take_session(&self, handle_hash: &str) -> StoreResult<Option<ChallengeSession>> {
        self.run(|c| async move {
            document(
                &c,
                "DELETE FROM challenge_sessions WHERE handle_hash = $1 RETURNING data",
                &[&handle_hash],
            )
            .await
        })
        .await
    }

    async fn put_refresh_token(&self, t: &RefreshTokenRecord) -> StoreResult<()> {
        self.run(|mut c| async move {
            // Only a token of an SSO session needs the transaction (its
            // lock on the session's row); the common sign-in is one insert.
            if t.sso_session_id.is_none() {
                insert_refresh(&c, t).await?;
                return Ok(());
            }
            let tx = c.transaction().await?;
            insert_sign_in_refresh(&tx, t).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        now: Millis,
        grace_ms: Millis,
        new: &RefreshTokenRecord,
    ) -> StoreResult<bool> {
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            // A share lock on the user: a revocation of the family or a
            // sign-out (which lock the user exclusively) waits for this
            // rotation's commit, so that its statements see the new token.
            let user = query_opt(
                &tx,
                "SELECT 1 FROM users WHERE pool_id = $1 AND username_key = $2 FOR SHARE",
                &[&new.pool_id, &new.username_key],
            )
            .await?;
            if user.is_none() {
                return Ok(false);
            }
            // Concurrent rotations of one token queue on its row; each
            // sees the one before it (grace 0: only the first passes).
            let n = exec(
                &tx,
                "UPDATE refresh_tokens SET rotated_until = coalesce(rotated_until, $2::bigint + $3::bigint)
                 WHERE token_hash = $1 AND revoked = 0
                 AND (rotated_until IS NULL OR ($3::bigint > 0 AND rotated_until > $2::bigint))",
                &[&old_hash, &now, &grace_ms],
            )
            .await?;
            if n == 0 {
                return Ok(false);
            }
            insert_refresh(&tx, new).await?;
            tx.commit().await?;
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
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            // Sign-ins of one user queue here; a rotation (share lock)
            // finishes first, so the count below sees its token.
            query_opt(
                &tx,
                "SELECT 1 FROM users WHERE pool_id = $1 AND username_key = $2 FOR NO KEY UPDATE",
                &[&t.pool_id, &t.username_key],
            )
            .await?;
            let live: Vec<String> = query(
                &tx,
                "SELECT origin_jti FROM refresh_tokens
                 WHERE pool_id = $1 AND username_key = $2 AND revoked = 0 AND expires > $3
                 AND rotated_until IS NULL
                 GROUP BY origin_jti ORDER BY max(last_active), origin_jti",
                &[&t.pool_id, &t.username_key, &now],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
            let evict = (live.len() + 1).saturating_sub(max_sessions.max(1));
            for origin in live.iter().take(evict) {
                revoke_family(&tx, &t.pool_id, origin, &t.username_key, revoked_until).await?;
            }
            insert_sign_in_refresh(&tx, t).await?;
            tx.commit().await?;
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
        self.run(|c| async move {
            exec(
                &c,
                "UPDATE refresh_tokens SET last_active = $2, last_ip = $3, last_device = $4
                 WHERE token_hash = $1 AND last_active <= $2",
                &[&token_hash, &now, &ip, &device],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>> {
        self.run(|c| async move {
            query_opt(
                &c,
                &format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1"),
                &[&token_hash],
            )
            .await?
            .map(|r| refresh_of(&r))
            .transpose()
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
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(|c| async move {
            query(
                &c,
                &format!(
                    "SELECT {REFRESH_COLUMNS} FROM refresh_tokens
                     WHERE pool_id = $1 AND username_key = $2 AND revoked = 0 AND expires > $3
                     AND rotated_until IS NULL
                     ORDER BY created, token_hash LIMIT $4"
                ),
                &[&pool_id, &username_key, &now, &limit],
            )
            .await?
            .iter()
            .map(refresh_of)
            .collect()
        })
        .await
    }

    async fn revoke_refresh_token(
        &self,
        token_hash: &str,
        revoked_until: Millis,
    ) -> StoreResult<bool> {
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            let Some(row) = query_opt(
                &tx,
                "SELECT pool_id, origin_jti, username_key FROM refresh_tokens WHERE token_hash = $1",
                &[&token_hash],
            )
            .await?
            else {
                return Ok(false);
            };
            let (pool_id, origin_jti, username_key): (String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            // Waits for any rotation of the user's tokens under way (it
            // holds a share lock on the user), so the next statement sees
            // every token of the family.
            query_opt(
                &tx,
                "SELECT 1 FROM users WHERE pool_id = $1 AND username_key = $2 FOR NO KEY UPDATE",
                &[&pool_id, &username_key],
            )
            .await?;
            revoke_family(&tx, &pool_id, &origin_jti, &username_key, revoked_until).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn put_sso_session(&self, x: &SsoSession) -> StoreResult<()> {
        self.run(|c| async move {
            exec(
                &c,
                &format!(
                    "INSERT INTO sso_sessions ({SSO_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ),
                &[
                    &x.pool_id,
                    &x.session_id,
                    &x.username_key,
                    &x.sub,
                    &x.client_id,
                    &x.created,
                    &x.last_active,
                    &x.expires,
                    &x.last_ip,
                    &x.last_device,
                ],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn get_sso_session(
        &self,
        pool_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<SsoSession>> {
        self.run(|c| async move {
            query_opt(
                &c,
                &format!(
                    "SELECT {SSO_COLUMNS} FROM sso_sessions WHERE pool_id = $1 AND session_id = $2"
                ),
                &[&pool_id, &session_id],
            )
            .await?
            .map(|r| sso_of(&r))
            .transpose()
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
        self.run(|c| async move {
            let n = exec(
                &c,
                "UPDATE sso_sessions SET last_active = GREATEST(last_active, $3),
                 last_ip = CASE WHEN last_active <= $3 THEN $4 ELSE last_ip END,
                 last_device = CASE WHEN last_active <= $3 THEN $5 ELSE last_device END
                 WHERE pool_id = $1 AND session_id = $2",
                &[&pool_id, &session_id, &now, &ip, &device],
            )
            .await?;
            Ok(n > 0)
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
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(|c| async move {
            query(
                &c,
                &format!(
                    "SELECT {SSO_COLUMNS} FROM sso_sessions
                     WHERE pool_id = $1 AND username_key = $2 AND expires > $3
                     ORDER BY created, session_id LIMIT $4"
                ),
                &[&pool_id, &username_key, &now, &limit],
            )
            .await?
            .iter()
            .map(sso_of)
            .collect()
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
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            // Sign-ins (which store tokens of the SSO session only while
            // it exists) and rotations of the user's tokens take turns
            // with this: the tokens it revokes are every one there is.
            query_opt(
                &tx,
                "SELECT 1 FROM users WHERE pool_id = $1 AND username_key = $2 FOR NO KEY UPDATE",
                &[&pool_id, &username_key],
            )
            .await?;
            let n = exec(
                &tx,
                "DELETE FROM sso_sessions
                 WHERE pool_id = $1 AND username_key = $2 AND session_id = $3",
                &[&pool_id, &username_key, &session_id],
            )
            .await?;
            if n == 0 {
                return Ok(false);
            }
            if linked {
                let origins: Vec<String> = query(
                    &tx,
                    "SELECT DISTINCT origin_jti FROM refresh_tokens
                     WHERE pool_id = $1 AND username_key = $2 AND sso_session_id = $3",
                    &[&pool_id, &username_key, &session_id],
                )
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
                for origin in &origins {
                    revoke_family(&tx, pool_id, origin, username_key, revoked_until).await?;
                }
            }
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn insert_group(&self, group: &Group) -> StoreResult<()> {
        let data = to_json(group)?;
        let data = &data;
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO groups (pool_id, name, data) VALUES ($1, $2, $3)",
                &[&group.pool_id, &group.name, data],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        self.run(|c| async move {
            document(
                &c,
                "SELECT data FROM groups WHERE pool_id = $1 AND name = $2",
                &[&pool_id, &name],
            )
            .await
        })
        .await
    }

    async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Group>> {
        let after = after.unwrap_or("");
        let limit = limit as i64;
        self.run(|c| async move {
            documents(
                &c,
                "SELECT data FROM groups WHERE pool_id = $1 AND name > $2 ORDER BY name LIMIT $3",
                &[&pool_id, &after, &limit],
            )
            .await
        })
        .await
    }

    async fn update_group(&self, group: &Group) -> StoreResult<bool> {
        let data = to_json(group)?;
        let data = &data;
        self.run(|c| async move {
            let n = exec(
                &c,
                "UPDATE groups SET data = $3 WHERE pool_id = $1 AND name = $2",
                &[&group.pool_id, &group.name, data],
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool> {
        self.run(|c| async move {
            let n = exec(
                &c,
                "DELETE FROM groups WHERE pool_id = $1 AND name = $2",
                &[&pool_id, &name],
            )
            .await?;
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
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO group_members (pool_id, group_name, username_key) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&pool_id, &name, &username_key],
            )
            .await?;
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
        self.run(|c| async move {
            exec(
                &c,
                "DELETE FROM group_members WHERE pool_id = $1 AND group_name = $2 AND username_key = $3",
                &[&pool_id, &name, &username_key],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn groups_of_user(&self, pool_id: &str, username_key: &str) -> StoreResult<Vec<Group>> {
        self.run(|c| async move {
            documents(
                &c,
                "SELECT g.data FROM group_members m JOIN groups g
                 ON g.pool_id = m.pool_id AND g.name = m.group_name
                 WHERE m.pool_id = $1 AND m.username_key = $2 ORDER BY g.name",
                &[&pool_id, &username_key],
            )
            .await
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
        let after = after.unwrap_or("");
        let limit = limit as i64;
        let sql = format!(
            "{USER_SELECT} JOIN group_members m
             ON u.pool_id = m.pool_id AND u.username_key = m.username_key
             WHERE m.pool_id = $1 AND m.group_name = $2 AND m.username_key > $3
             ORDER BY m.username_key LIMIT $4"
        );
        let sql = sql.as_str();
        self.run(|c| async move {
            query(&c, sql, &[&pool_id, &name, &after, &limit])
                .await?
                .iter()
                .map(user_of)
                .collect()
        })
        .await
    }

    async fn insert_domain(&self, domain: &PoolDomain) -> StoreResult<()> {
        let data = to_json(domain)?;
        let data = &data;
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO pool_domains (domain, pool_id, data) VALUES ($1, $2, $3)",
                &[&domain.domain, &domain.pool_id, data],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn get_domain(&self, domain: &str) -> StoreResult<Option<PoolDomain>> {
        self.run(|c| async move {
            document(
                &c,
                "SELECT data FROM pool_domains WHERE domain = $1",
                &[&domain],
            )
            .await
        })
        .await
    }

    async fn domains_of_pool(&self, pool_id: &str) -> StoreResult<Vec<PoolDomain>> {
        self.run(|c| async move {
            documents(
                &c,
                "SELECT data FROM pool_domains WHERE pool_id = $1 ORDER BY domain",
                &[&pool_id],
            )
            .await
        })
        .await
    }

    async fn delete_domain(&self, domain: &str) -> StoreResult<bool> {
        self.run(|c| async move {
            let n = exec(&c, "DELETE FROM pool_domains WHERE domain = $1", &[&domain]).await?;
            Ok(n > 0)
        })
        .await
    }

    async fn update_domain(&self, domain: &PoolDomain) -> StoreResult<bool> {
        let data = to_json(domain)?;
        let data = &data;
        self.run(|c| async move {
            let n = exec(
                &c,
                "UPDATE pool_domains SET data = $2 WHERE domain = $1",
                &[&domain.domain, data],
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    async fn put_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()> {
        let data = to_json(code)?;
        let data = &data;
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO authorization_codes (code_hash, pool_id, expires, data)
                 VALUES ($1, $2, $3, $4)",
                &[&code.code_hash, &code.pool_id, &code.expires, data],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn take_authorization_code(
        &self,
        code_hash: &str,
    ) -> StoreResult<Option<AuthorizationCode>> {
        self.run(|c| async move {
            document(
                &c,
                "DELETE FROM authorization_codes WHERE code_hash = $1 RETURNING data",
                &[&code_hash],
            )
            .await
        })
        .await
    }

    async fn server_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&name, &candidate],
            )
            .await?;
            let row = query_opt(
                &c,
                "SELECT value FROM server_secrets WHERE name = $1",
                &[&name],
            )
            .await?;
            match row {
                Some(r) => Ok(r.try_get(0)?),
                None => Err(backend(format!("server secret {name} vanished")).into()),
            }
        })
        .await
    }

    async fn put_ui_customization(&self, ui: &UiCustomization) -> StoreResult<()> {
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO ui_customizations (pool_id, client_id, css, image, created, modified)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (pool_id, client_id) DO UPDATE SET
                   css = excluded.css, image = excluded.image, modified = excluded.modified",
                &[
                    &ui.pool_id,
                    &ui.client_id,
                    &ui.css,
                    &ui.image,
                    &ui.created,
                    &ui.modified,
                ],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn get_ui_customization(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<UiCustomization>> {
        self.run(|c| async move {
            query_opt(
                &c,
                "SELECT pool_id, client_id, css, image, created, modified FROM ui_customizations
                 WHERE pool_id = $1 AND client_id = $2",
                &[&pool_id, &client_id],
            )
            .await?
            .map(|r| {
                Ok(UiCustomization {
                    pool_id: r.try_get(0)?,
                    client_id: r.try_get(1)?,
                    css: r.try_get(2)?,
                    image: r.try_get(3)?,
                    created: r.try_get(4)?,
                    modified: r.try_get(5)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn delete_ui_customization(&self, pool_id: &str, client_id: &str) -> StoreResult<bool> {
        self.run(|c| async move {
            let n = exec(
                &c,
                "DELETE FROM ui_customizations WHERE pool_id = $1 AND client_id = $2",
                &[&pool_id, &client_id],
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    async fn insert_resource_server(&self, server: &ResourceServer) -> StoreResult<()> {
        let data = to_json(server)?;
        let data = &data;
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO resource_servers (pool_id, identifier, data) VALUES ($1, $2, $3)",
                &[&server.pool_id, &server.identifier, data],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn get_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>> {
        self.run(|c| async move {
            document(
                &c,
                "SELECT data FROM resource_servers WHERE pool_id = $1 AND identifier = $2",
                &[&pool_id, &identifier],
            )
            .await
        })
        .await
    }

    async fn list_resource_servers(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ResourceServer>> {
        let after = after.unwrap_or("");
        let limit = limit as i64;
        self.run(|c| async move {
            documents(
                &c,
                "SELECT data FROM resource_servers WHERE pool_id = $1 AND identifier > $2
                 ORDER BY identifier LIMIT $3",
                &[&pool_id, &after, &limit],
            )
            .await
        })
        .await
    }

    async fn update_resource_server(&self, server: &ResourceServer) -> StoreResult<bool> {
        let data = to_json(server)?;
        let data = &data;
        self.run(|c| async move {
            let n = exec(
                &c,
                "UPDATE resource_servers SET data = $3 WHERE pool_id = $1 AND identifier = $2",
                &[&server.pool_id, &server.identifier, data],
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool> {
        self.run(|c| async move {
            let n = exec(
                &c,
                "DELETE FROM resource_servers WHERE pool_id = $1 AND identifier = $2",
                &[&pool_id, &identifier],
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    async fn insert_import_job(&self, job: &UserImportJob) -> StoreResult<()> {
        let data = to_json(job)?;
        let data = data.as_str();
        self.run(|c| async move {
            exec(
                &c,
                "INSERT INTO user_import_jobs (pool_id, job_id, created, status, data) VALUES ($1, $2, $3, $4, $5)",
                &[&job.pool_id, &job.job_id, &job.created, &job.status, &data],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn get_import_job(
        &self,
        pool_id: &str,
        job_id: &str,
    ) -> StoreResult<Option<UserImportJob>> {
        self.run(|c| async move {
            document(
                &c,
                "SELECT data FROM user_import_jobs WHERE pool_id = $1 AND job_id = $2",
                &[&pool_id, &job_id],
            )
            .await
        })
        .await
    }

    async fn find_import_job(&self, job_id: &str) -> StoreResult<Option<UserImportJob>> {
        self.run(|c| async move {
            document(
                &c,
                "SELECT data FROM user_import_jobs WHERE job_id = $1",
                &[&job_id],
            )
            .await
        })
        .await
    }

    async fn list_import_jobs(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<UserImportJob>> {
        let limit = limit as i64;
        self.run(|c| async move {
            match after {
                None => {
                    documents(
                        &c,
                        "SELECT data FROM user_import_jobs WHERE pool_id = $1
                         ORDER BY created DESC, job_id DESC LIMIT $2",
                        &[&pool_id, &limit],
                    )
                    .await
                }
                Some(after) => {
                    documents(
                        &c,
                        "SELECT j.data FROM user_import_jobs j, user_import_jobs a
                         WHERE j.pool_id = $1 AND a.pool_id = $1 AND a.job_id = $2
                           AND (j.created < a.created OR (j.created = a.created AND j.job_id < a.job_id))
                         ORDER BY j.created DESC, j.job_id DESC LIMIT $3",
                        &[&pool_id, &after, &limit],
                    )
                    .await
                }
            }
        })
        .await
    }

    async fn update_import_job(&self, job: &UserImportJob, from: &[&str]) -> StoreResult<bool> {
        let data = to_json(job)?;
        let data = data.as_str();
        let from: Vec<String> = from.iter().map(|f| (*f).to_owned()).collect();
        let from = &from;
        self.run(|c| async move {
            // One conditional statement: the transition happens only from `from`.
            let n = exec(
                &c,
                "UPDATE user_import_jobs SET status = $3, data = $4
                 WHERE pool_id = $1 AND job_id = $2 AND status = ANY($5)",
                &[&job.pool_id, &job.job_id, &job.status, &data, from],
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    async fn put_import_csv(&self, pool_id: &str, job_id: &str, csv: &[u8]) -> StoreResult<bool> {
        self.run(|c| async move {
            let n = exec(
                &c,
                "UPDATE user_import_jobs SET csv = $3 WHERE pool_id = $1 AND job_id = $2 AND status = 'Created'",
                &[&pool_id, &job_id, &csv],
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    async fn has_import_csv(&self, pool_id: &str, job_id: &str) -> StoreResult<bool> {
        self.run(|c| async move {
            let row = query_opt(
                &c,
                "SELECT csv IS NOT NULL FROM user_import_jobs WHERE pool_id = $1 AND job_id = $2",
                &[&pool_id, &job_id],
            )
            .await?;
            Ok(match row {
                Some(r) => r.try_get::<_, bool>(0)?,
                None => false,
            })
        })
        .await
    }

    async fn get_import_csv(&self, pool_id: &str, job_id: &str) -> StoreResult<Option<Vec<u8>>> {
        self.run(|c| async move {
            let row = query_opt(
                &c,
                "SELECT csv FROM user_import_jobs WHERE pool_id = $1 AND job_id = $2",
                &[&pool_id, &job_id],
            )
            .await?;
            Ok(match row {
                Some(r) => r.try_get::<_, Option<Vec<u8>>>(0)?,
                None => None,
            })
        })
        .await
    }

    async fn link_identity(
        &self,
        link: &LinkedIdentity,
        max_per_user: usize,
    ) -> StoreResult<IdentityLink> {
        let max = i64::try_from(max_per_user).unwrap_or(i64::MAX);
        self.run(|mut c| async move {
            let tx = c.transaction().await?;
            // The user's row lock serialises the links of one user, so the
            // count and the insert cannot be split by another link.
            let user = query_opt(
                &tx,
                "SELECT 1 FROM users WHERE pool_id = $1 AND username_key = $2 FOR UPDATE",
                &[&link.pool_id, &link.username_key],
            )
            .await?;
            if user.is_none() {
                return Ok(IdentityLink::UserMissing);
            }
            let count: i64 = query_opt(
                &tx,
                "SELECT count(*) FROM user_identities WHERE pool_id = $1 AND username_key = $2",
                &[&link.pool_id, &link.username_key],
            )
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0);
            let linked = query_opt(
                &tx,
                "SELECT 1 FROM user_identities WHERE pool_id = $1 AND provider_name = $2
                 AND attribute_name = $3 AND attribute_value = $4",
                &[
                    &link.pool_id,
                    &link.provider_name,
                    &link.attribute_name,
                    &link.attribute_value,
                ],
            )
            .await?
            .is_some();
            if linked {
                return Ok(IdentityLink::AlreadyLinked);
            }
            if count >= max {
                return Ok(IdentityLink::LimitReached);
            }
            // Two links of one identity to two users: the primary key
            // decides (the second waits for the first and does nothing).
            let n = exec(
                &tx,
                "INSERT INTO user_identities (pool_id, provider_name, attribute_name,
                 attribute_value, username_key, created) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT DO NOTHING",
                &[
                    &link.pool_id,
                    &link.provider_name,
                    &link.attribute_name,
                    &link.attribute_value,
                    &link.username_key,
                    &link.created,
                ],
            )
            .await?;
            if n == 0 {
                return Ok(IdentityLink::AlreadyLinked);
            }
            tx.commit().await?;
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
        self.run(|c| async move {
            let n = exec(
                &c,
                "DELETE FROM user_identities WHERE pool_id = $1 AND provider_name = $2
                 AND attribute_name = $3 AND attribute_value = $4",
                &[&pool_id, &provider_name, &attribute_name, &attribute_value],
            )
            .await?;
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
        self.run(|c| async move {
            let rows = query(
                &c,
                "SELECT username_key FROM user_identities WHERE pool_id = $1
                 AND provider_name = $2 AND attribute_name = $3 AND attribute_value = $4",
                &[&pool_id, &provider_name, &attribute_name, &attribute_value],
            )
            .await?;
            match rows.first() {
                Some(r) => Ok(Some(r.try_get(0)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn identities_of_user(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Vec<LinkedIdentity>> {
        self.run(|c| async move {
            query(
                &c,
                "SELECT provider_name, attribute_name, attribute_value, created
                 FROM user_identities WHERE pool_id = $1 AND username_key = $2
                 ORDER BY created, provider_name, attribute_name, attribute_value",
                &[&pool_id, &username_key],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(LinkedIdentity {
                    pool_id: pool_id.to_owned(),
                    username_key: username_key.to_owned(),
                    provider_name: r.try_get(0)?,
                    attribute_name: r.try_get(1)?,
                    attribute_value: r.try_get(2)?,
                    created: r.try_get(3)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn add_webauthn_credential(
        &self,
        credential: &WebAuthnCredential,
        max_per_user: usize,
    ) -> StoreResult<CredentialAdd> {
        let c = credential;
        let transports = to_json(&c.transports)?;
        let max = i64::try_from(max_per_user).unwrap_or(i64::MAX);
        let transports = transports.as_str();
        self.run(|mut conn| async move {
            let tx = conn.transaction().await?;
            // The user's row lock serialises the registrations of one user,
            // so the count and the insert cannot be split by another one.
            let user = query_opt(
                &tx,
                "SELECT 1 FROM users WHERE pool_id = $1 AND username_key = $2 FOR UPDATE",
                &[&c.pool_id, &c.username_key],
            )
            .await?;
            if user.is_none() {
                return Ok(CredentialAdd::UserMissing);
            }
            let count: i64 = query_opt(
                &tx,
                "SELECT count(*) FROM webauthn_credentials WHERE pool_id = $1 AND username_key = $2",
                &[&c.pool_id, &c.username_key],
            )
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0);
            let taken = query_opt(
                &tx,
                "SELECT 1 FROM webauthn_credentials WHERE pool_id = $1 AND credential_id = $2",
                &[&c.pool_id, &c.credential_id],
            )
            .await?
            .is_some();
            if taken {
                return Ok(CredentialAdd::Exists);
            }
            if count >= max {
                return Ok(CredentialAdd::LimitReached);
            }
            // One credential id registered by two users at once: the primary
            // key decides (the second waits for the first and does nothing).
            let n = exec(
                &tx,
                "INSERT INTO webauthn_credentials (pool_id, credential_id, username_key,
                 public_key, sign_count, friendly_name, relying_party_id,
                 authenticator_attachment, transports, created)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT DO NOTHING",
                &[
                    &c.pool_id,
                    &c.credential_id,
                    &c.username_key,
                    &c.public_key,
                    &c.sign_count,
                    &c.friendly_name,
                    &c.relying_party_id,
                    &c.authenticator_attachment,
                    &transports,
                    &c.created,
                ],
            )
            .await?;
            if n == 0 {
                return Ok(CredentialAdd::Exists);
            }
            tx.commit().await?;
            Ok(CredentialAdd::Done)
        })
        .await
    }

    async fn webauthn_credentials_of_user(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Vec<WebAuthnCredential>> {
        self.run(|c| async move {
            let rows = query(
                &c,
                "SELECT credential_id, public_key, sign_count, friendly_name,
                 relying_party_id, authenticator_attachment, transports, created
                 FROM webauthn_credentials WHERE pool_id = $1 AND username_key = $2
                 ORDER BY created, credential_id",
                &[&pool_id, &username_key],
            )
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let transports: String = r.try_get(6)?;
                out.push(WebAuthnCredential {
                    pool_id: pool_id.to_owned(),
                    username_key: username_key.to_owned(),
                    credential_id: r.try_get(0)?,
                    public_key: r.try_get(1)?,
                    sign_count: r.try_get(2)?,
                    friendly_name: r.try_get(3)?,
                    relying_party_id: r.try_get(4)?,
                    authenticator_attachment: r.try_get(5)?,
                    transports: from_json(&transports)?,
                    created: r.try_get(7)?,
                });
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
        self.run(|c| async move {
            let n = exec(
                &c,
                "DELETE FROM webauthn_credentials WHERE pool_id = $1 AND username_key = $2
                 AND credential_id = $3",
                &[&pool_id, &username_key, &credential_id],
            )
            .await?;
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
        self.run(|c| async move {
            let n = exec(
                &c,
                "UPDATE webauthn_credentials SET sign_count = $4
                 WHERE pool_id = $1 AND username_key = $2 AND credential_id = $3
                 AND (sign_count < $4 OR (sign_count = 0 AND $4 = 0))",
                &[&pool_id, &username_key, &credential_id, &sign_count],
            )
            .await?;
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
        let data = to_json(event)?;
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let (event_id, created) = (event.event_id.as_str(), event.created);
        self.run(|c| {
            let data = data.clone();
            async move {
                // The user's row is locked (FOR KEY SHARE, as the foreign key
                // would): a delete waits, or has happened and nothing is kept.
                exec(
                    &c,
                    "INSERT INTO auth_events (pool_id, username_key, event_id, created, data)
                     SELECT $1, $2, $3, $4, $5 FROM users
                     WHERE pool_id = $1 AND username_key = $2 FOR KEY SHARE
                     ON CONFLICT (pool_id, username_key, event_id)
                     DO UPDATE SET data = EXCLUDED.data",
                    &[&pool_id, &username_key, &event_id, &created, &data],
                )
                .await?;
                exec(
                    &c,
                    "DELETE FROM auth_events WHERE pool_id = $1 AND username_key = $2
                     AND event_id NOT IN (SELECT event_id FROM auth_events
                       WHERE pool_id = $1 AND username_key = $2
                       ORDER BY created DESC, event_id DESC LIMIT $3)",
                    &[&pool_id, &username_key, &keep],
                )
                .await?;
                Ok(())
            }
        })
        .await
    }

    async fn list_auth_events(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Vec<cognate_core::audit::AuthEventRecord>> {
        self.run(|c| async move {
            query(
                &c,
                "SELECT data, feedback_value, feedback_provider, feedback_date FROM auth_events
                 WHERE pool_id = $1 AND username_key = $2
                 ORDER BY created DESC, event_id DESC",
                &[&pool_id, &username_key],
            )
            .await?
            .iter()
            .map(|r| {
                Ok::<_, Fail>(crate::common::auth_event_of(
                    &r.try_get::<_, String>(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                )?)
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
        self.run(|c| async move {
            let n = exec(
                &c,
                "UPDATE auth_events SET feedback_value = $4, feedback_provider = $5, feedback_date = $6
                 WHERE pool_id = $1 AND username_key = $2 AND event_id = $3",
                &[
                    &pool_id,
                    &username_key,
                    &event_id,
                    &feedback.value,
                    &feedback.provider,
                    &feedback.date,
                ],
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    async fn purge_expired(&self, now: Millis) -> StoreResult<u64> {
        self.run(|c| async move {
            let mut n = 0;
            for sql in [
                "DELETE FROM challenge_sessions WHERE expires <= $1",
                "DELETE FROM codes WHERE expires <= $1",
                "DELETE FROM refresh_tokens WHERE expires <= $1",
                "DELETE FROM sso_sessions WHERE expires <= $1",
                "DELETE FROM authorization_codes WHERE expires <= $1",
                "DELETE FROM revoked_sessions WHERE until <= $1",
                "DELETE FROM signing_keys WHERE published_until <= $1",
            ] {
                n += exec(&c, sql, &[&now]).await?;
            }
            Ok(n)
        })
        .await
    }
}
