//! The embedded SQLite backend: one file in WAL mode, one writer connection
//! and a few reader connections. Calls are short indexed statements, run
//! directly on the calling task.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use cognate_core::clock::Millis;
use cognate_core::error::StoreError;
use cognate_core::model::{
    AppClient, AuthorizationCode, ChallengeSession, CodeRecord, FilterAttribute, Group, PoolDomain,
    RefreshTokenRecord, ResourceServer, StoredKey, UiCustomization, User, UserFilter, UserPool,
};
use cognate_core::store::{Store, StoreResult};
use rusqlite::{params, Connection, OptionalExtension, Row};

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
];

const READERS: usize = 4;

pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn map_err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(e.to_string())
        }
        _ => backend(e),
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;",
    )
    .map_err(backend)?;
    Ok(conn)
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(backend)
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(backend)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut writer = open_connection(path)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    fn writer(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        self.writer
            .lock()
            .map_err(|_| backend("writer lock poisoned"))
    }

    fn reader(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(guard) = self.readers[(start + i) % self.readers.len()].try_lock() {
                return Ok(guard);
            }
        }
        self.readers[start % self.readers.len()]
            .lock()
            .map_err(|_| backend("reader lock poisoned"))
    }

    /// The schema version (number of applied migrations).
    pub fn schema_version(&self) -> StoreResult<i64> {
        self.reader()?
            .query_row("SELECT max(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .map_err(backend)
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
        let tx = conn.transaction().map_err(backend)?;
        tx.execute_batch(sql).map_err(backend)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied) VALUES (?1, ?2, strftime('%s','now'))",
            params![i as i64 + 1, name],
        )
        .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<String> {
    row.get::<_, String>(0)
}

fn users_from(rows: Vec<String>) -> StoreResult<Vec<User>> {
    rows.iter().map(|d| from_json(d)).collect()
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
    })
}

const USER_COLUMNS: &str = "pool_id, username_key, username, sub, status, enabled, email, phone_number, preferred_username, name, given_name, family_name, data";

fn user_params(user: &User) -> StoreResult<[Box<dyn rusqlite::ToSql>; 13]> {
    let attr = |n: &str| user.attribute(n).map(str::to_owned);
    Ok([
        Box::new(user.pool_id.clone()),
        Box::new(user.username_key.clone()),
        Box::new(user.username.clone()),
        Box::new(user.sub.clone()),
        Box::new(user.status.as_str()),
        Box::new(user.enabled),
        Box::new(attr("email")),
        Box::new(attr("phone_number")),
        Box::new(attr("preferred_username")),
        Box::new(attr("name")),
        Box::new(attr("given_name")),
        Box::new(attr("family_name")),
        Box::new(to_json(user)?),
    ])
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_pool(&self, pool: &UserPool, keys: &[StoredKey]) -> StoreResult<()> {
        let data = to_json(pool)?;
        let mut conn = self.writer()?;
        let tx = conn.transaction().map_err(backend)?;
        tx.execute(
            "INSERT INTO user_pools (id, name, created, data) VALUES (?1, ?2, ?3, ?4)",
            params![pool.id, pool.name, pool.created, data],
        )
        .map_err(map_err)?;
        for k in keys {
            tx.execute(
                "INSERT INTO signing_keys (pool_id, kid, purpose, pkcs8, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![k.pool_id, k.kid, k.purpose, k.pkcs8, k.created],
            )
            .map_err(map_err)?;
        }
        tx.commit().map_err(backend)
    }

    async fn get_pool(&self, pool_id: &str) -> StoreResult<Option<UserPool>> {
        let data: Option<String> = self
            .reader()?
            .prepare_cached("SELECT data FROM user_pools WHERE id = ?1")
            .and_then(|mut s| s.query_row([pool_id], |r| r.get(0)).optional())
            .map_err(backend)?;
        data.map(|d| from_json(&d)).transpose()
    }

    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<UserPool>> {
        let rows: Vec<String> = {
            let conn = self.reader()?;
            let mut stmt = conn
                .prepare_cached("SELECT data FROM user_pools WHERE id > ?1 ORDER BY id LIMIT ?2")
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![after.unwrap_or(""), limit as i64], |r| r.get(0))
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        rows.iter().map(|d| from_json(d)).collect()
    }

    async fn update_pool(&self, pool: &UserPool) -> StoreResult<bool> {
        let data = to_json(pool)?;
        let n = self
            .writer()?
            .execute(
                "UPDATE user_pools SET name = ?2, data = ?3 WHERE id = ?1",
                params![pool.id, pool.name, data],
            )
            .map_err(map_err)?;
        Ok(n > 0)
    }

    async fn delete_pool(&self, pool_id: &str) -> StoreResult<bool> {
        let n = self
            .writer()?
            .execute("DELETE FROM user_pools WHERE id = ?1", [pool_id])
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        self.reader()?
            .query_row(
                "SELECT count(*) FROM users WHERE pool_id = ?1",
                [pool_id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(backend)
    }

    async fn list_keys(&self, pool_id: &str) -> StoreResult<Vec<StoredKey>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT pool_id, kid, purpose, pkcs8, created FROM signing_keys WHERE pool_id = ?1 ORDER BY created, kid",
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
                })
            })
            .map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)
    }

    async fn insert_client(&self, client: &AppClient) -> StoreResult<()> {
        let data = to_json(client)?;
        self.writer()?
            .execute(
                "INSERT INTO app_clients (client_id, pool_id, data) VALUES (?1, ?2, ?3)",
                params![client.client_id, client.pool_id, data],
            )
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<AppClient>> {
        let data: Option<String> = self
            .reader()?
            .prepare_cached("SELECT data FROM app_clients WHERE client_id = ?1")
            .and_then(|mut s| s.query_row([client_id], |r| r.get(0)).optional())
            .map_err(backend)?;
        data.map(|d| from_json(&d)).transpose()
    }

    async fn list_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AppClient>> {
        let rows: Vec<String> = {
            let conn = self.reader()?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT data FROM app_clients WHERE pool_id = ?1 AND client_id > ?2 ORDER BY client_id LIMIT ?3",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![pool_id, after.unwrap_or(""), limit as i64], |r| {
                    r.get(0)
                })
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        rows.iter().map(|d| from_json(d)).collect()
    }

    async fn update_client(&self, client: &AppClient) -> StoreResult<bool> {
        let data = to_json(client)?;
        let n = self
            .writer()?
            .execute(
                "UPDATE app_clients SET data = ?3 WHERE client_id = ?1 AND pool_id = ?2",
                params![client.client_id, client.pool_id, data],
            )
            .map_err(map_err)?;
        Ok(n > 0)
    }

    async fn delete_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool> {
        let n = self
            .writer()?
            .execute(
                "DELETE FROM app_clients WHERE client_id = ?1 AND pool_id = ?2",
                params![client_id, pool_id],
            )
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        let p = user_params(user)?;
        let refs: Vec<&dyn rusqlite::ToSql> = p.iter().map(|b| b.as_ref()).collect();
        self.writer()?
            .prepare_cached(&format!(
                "INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ))
            .and_then(|mut s| s.execute(refs.as_slice()))
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_user(&self, pool_id: &str, username_key: &str) -> StoreResult<Option<User>> {
        let data: Option<String> = self
            .reader()?
            .prepare_cached("SELECT data FROM users WHERE pool_id = ?1 AND username_key = ?2")
            .and_then(|mut s| {
                s.query_row([pool_id, username_key], user_from_row)
                    .optional()
            })
            .map_err(backend)?;
        data.map(|d| from_json(&d)).transpose()
    }

    async fn get_user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<User>> {
        let data: Option<String> = self
            .reader()?
            .prepare_cached("SELECT data FROM users WHERE pool_id = ?1 AND sub = ?2")
            .and_then(|mut s| s.query_row([pool_id, sub], user_from_row).optional())
            .map_err(backend)?;
        data.map(|d| from_json(&d)).transpose()
    }

    async fn find_users_by_attribute(
        &self,
        pool_id: &str,
        name: &str,
        value: &str,
        ignore_case: bool,
    ) -> StoreResult<Vec<User>> {
        let column = match name {
            "email" => "email",
            "phone_number" => "phone_number",
            "preferred_username" => "preferred_username",
            other => return Err(backend(format!("attribute {other} is not indexed"))),
        };
        let sql = if ignore_case {
            format!("SELECT data FROM users WHERE pool_id = ?1 AND lower({column}) = lower(?2) ORDER BY username_key")
        } else {
            format!(
                "SELECT data FROM users WHERE pool_id = ?1 AND {column} = ?2 ORDER BY username_key"
            )
        };
        let rows: Vec<String> = {
            let conn = self.reader()?;
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let rows = stmt
                .query_map([pool_id, value], user_from_row)
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        users_from(rows)
    }

    async fn update_user(&self, user: &User) -> StoreResult<bool> {
        let p = user_params(user)?;
        let refs: Vec<&dyn rusqlite::ToSql> = p.iter().map(|b| b.as_ref()).collect();
        let n = self
            .writer()?
            .prepare_cached(
                "UPDATE users SET username = ?3, sub = ?4, status = ?5, enabled = ?6, email = ?7,
                 phone_number = ?8, preferred_username = ?9, name = ?10, given_name = ?11,
                 family_name = ?12, data = ?13 WHERE pool_id = ?1 AND username_key = ?2",
            )
            .and_then(|mut s| s.execute(refs.as_slice()))
            .map_err(map_err)?;
        Ok(n > 0)
    }

    async fn delete_user(&self, pool_id: &str, username_key: &str) -> StoreResult<bool> {
        let mut conn = self.writer()?;
        let tx = conn.transaction().map_err(backend)?;
        let sub: Option<String> = tx
            .query_row(
                "SELECT sub FROM users WHERE pool_id = ?1 AND username_key = ?2",
                [pool_id, username_key],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        let Some(sub) = sub else {
            return Ok(false);
        };
        tx.execute(
            "DELETE FROM users WHERE pool_id = ?1 AND username_key = ?2",
            [pool_id, username_key],
        )
        .map_err(backend)?;
        tx.execute(
            "DELETE FROM codes WHERE pool_id = ?1 AND username_key = ?2",
            [pool_id, username_key],
        )
        .map_err(backend)?;
        tx.execute(
            "DELETE FROM group_members WHERE pool_id = ?1 AND username_key = ?2",
            [pool_id, username_key],
        )
        .map_err(backend)?;
        tx.execute(
            "DELETE FROM refresh_tokens WHERE pool_id = ?1 AND sub = ?2",
            [pool_id, sub.as_str()],
        )
        .map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(true)
    }

    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<User>> {
        let mut sql =
            String::from("SELECT data FROM users WHERE pool_id = ?1 AND username_key > ?2");
        let mut value = None;
        if let Some(f) = filter {
            // (column, compare case-insensitively)
            let (column, fold) = match f.attribute {
                FilterAttribute::Username => ("username", false),
                FilterAttribute::Email => ("email", true),
                FilterAttribute::PhoneNumber => ("phone_number", false),
                FilterAttribute::Name => ("name", true),
                FilterAttribute::GivenName => ("given_name", true),
                FilterAttribute::FamilyName => ("family_name", true),
                FilterAttribute::PreferredUsername => ("preferred_username", true),
                FilterAttribute::Sub => ("sub", false),
                FilterAttribute::UserStatus => ("status", true),
                FilterAttribute::Enabled => (
                    "(CASE enabled WHEN 1 THEN 'Enabled' ELSE 'Disabled' END)",
                    false,
                ),
            };
            let lhs = if fold {
                format!("lower({column})")
            } else {
                column.to_owned()
            };
            let v = if fold {
                f.value.to_lowercase()
            } else {
                f.value.clone()
            };
            if f.prefix {
                sql.push_str(&format!(" AND substr({lhs}, 1, length(?4)) = ?4"));
            } else {
                sql.push_str(&format!(" AND {lhs} = ?4"));
            }
            value = Some(v);
        }
        sql.push_str(" ORDER BY username_key LIMIT ?3");
        let rows: Vec<String> = {
            let conn = self.reader()?;
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let rows = match &value {
                Some(v) => stmt.query_map(
                    params![pool_id, after.unwrap_or(""), limit as i64, v],
                    user_from_row,
                ),
                None => stmt.query_map(
                    params![pool_id, after.unwrap_or(""), limit as i64],
                    user_from_row,
                ),
            }
            .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        users_from(rows)
    }

    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()> {
        self.writer()?
            .execute(
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
    }

    async fn get_code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> StoreResult<Option<CodeRecord>> {
        self.reader()?
            .prepare_cached(
                "SELECT pool_id, username_key, purpose, code_hash, expires, attempts FROM codes
                 WHERE pool_id = ?1 AND username_key = ?2 AND purpose = ?3",
            )
            .and_then(|mut s| {
                s.query_row([pool_id, username_key, purpose], code_from_row)
                    .optional()
            })
            .map_err(backend)
    }

    async fn bump_code_attempts(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> StoreResult<u32> {
        let n: Option<i64> = self
            .writer()?
            .query_row(
                "UPDATE codes SET attempts = attempts + 1
                 WHERE pool_id = ?1 AND username_key = ?2 AND purpose = ?3 RETURNING attempts",
                [pool_id, username_key, purpose],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        Ok(n.unwrap_or(0) as u32)
    }

    async fn delete_code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> StoreResult<()> {
        self.writer()?
            .execute(
                "DELETE FROM codes WHERE pool_id = ?1 AND username_key = ?2 AND purpose = ?3",
                [pool_id, username_key, purpose],
            )
            .map_err(backend)?;
        Ok(())
    }

    async fn put_session(&self, session: &ChallengeSession) -> StoreResult<()> {
        let data = to_json(session)?;
        self.writer()?
            .execute(
                "INSERT OR REPLACE INTO challenge_sessions (handle_hash, pool_id, expires, data) VALUES (?1, ?2, ?3, ?4)",
                params![session.handle_hash, session.pool_id, session.expires, data],
            )
            .map_err(map_err)?;
        Ok(())
    }

    async fn take_session(&self, handle_hash: &str) -> StoreResult<Option<ChallengeSession>> {
        let data: Option<String> = self
            .writer()?
            .query_row(
                "DELETE FROM challenge_sessions WHERE handle_hash = ?1 RETURNING data",
                [handle_hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        data.map(|d| from_json(&d)).transpose()
    }

    async fn put_refresh_token(&self, t: &RefreshTokenRecord) -> StoreResult<()> {
        self.writer()?
            .prepare_cached(
                "INSERT INTO refresh_tokens (token_hash, pool_id, client_id, username_key, sub, origin_jti,
                 auth_time, created, expires, revoked, scope)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .and_then(|mut s| {
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
                    t.scope
                ])
            })
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>> {
        self.reader()?
            .prepare_cached(
                "SELECT token_hash, pool_id, client_id, username_key, sub, origin_jti, auth_time, created,
                 expires, revoked, scope FROM refresh_tokens WHERE token_hash = ?1",
            )
            .and_then(|mut s| s.query_row([token_hash], refresh_from_row).optional())
            .map_err(backend)
    }

    async fn revoke_refresh_token(&self, token_hash: &str) -> StoreResult<bool> {
        let n = self
            .writer()?
            .execute(
                "UPDATE refresh_tokens SET revoked = 1 WHERE token_hash = ?1",
                [token_hash],
            )
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn revoke_user_refresh_tokens(
        &self,
        pool_id: &str,
        sub: &str,
    ) -> StoreResult<Vec<String>> {
        let conn = self.writer()?;
        let mut stmt = conn
            .prepare_cached(
                "UPDATE refresh_tokens SET revoked = 1 WHERE pool_id = ?1 AND sub = ?2 AND revoked = 0
                 RETURNING origin_jti",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([pool_id, sub], |r| r.get::<_, String>(0))
            .map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)
    }

    async fn insert_group(&self, group: &Group) -> StoreResult<()> {
        let data = to_json(group)?;
        self.writer()?
            .execute(
                "INSERT INTO groups (pool_id, name, data) VALUES (?1, ?2, ?3)",
                params![group.pool_id, group.name, data],
            )
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        let data: Option<String> = self
            .reader()?
            .prepare_cached("SELECT data FROM groups WHERE pool_id = ?1 AND name = ?2")
            .and_then(|mut s| s.query_row([pool_id, name], |r| r.get(0)).optional())
            .map_err(backend)?;
        data.map(|d| from_json(&d)).transpose()
    }

    async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Group>> {
        let rows: Vec<String> = {
            let conn = self.reader()?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT data FROM groups WHERE pool_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![pool_id, after.unwrap_or(""), limit as i64], |r| {
                    r.get(0)
                })
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        rows.iter().map(|d| from_json(d)).collect()
    }

    async fn update_group(&self, group: &Group) -> StoreResult<bool> {
        let data = to_json(group)?;
        let n = self
            .writer()?
            .execute(
                "UPDATE groups SET data = ?3 WHERE pool_id = ?1 AND name = ?2",
                params![group.pool_id, group.name, data],
            )
            .map_err(map_err)?;
        Ok(n > 0)
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool> {
        let n = self
            .writer()?
            .execute(
                "DELETE FROM groups WHERE pool_id = ?1 AND name = ?2",
                [pool_id, name],
            )
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn add_user_to_group(
        &self,
        pool_id: &str,
        name: &str,
        username_key: &str,
    ) -> StoreResult<()> {
        self.writer()?
            .execute(
                "INSERT OR IGNORE INTO group_members (pool_id, group_name, username_key) VALUES (?1, ?2, ?3)",
                [pool_id, name, username_key],
            )
            .map_err(map_err)?;
        Ok(())
    }

    async fn remove_user_from_group(
        &self,
        pool_id: &str,
        name: &str,
        username_key: &str,
    ) -> StoreResult<()> {
        self.writer()?
            .execute(
                "DELETE FROM group_members WHERE pool_id = ?1 AND group_name = ?2 AND username_key = ?3",
                [pool_id, name, username_key],
            )
            .map_err(backend)?;
        Ok(())
    }

    async fn groups_of_user(&self, pool_id: &str, username_key: &str) -> StoreResult<Vec<Group>> {
        let rows: Vec<String> = {
            let conn = self.reader()?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT g.data FROM group_members m JOIN groups g
                     ON g.pool_id = m.pool_id AND g.name = m.group_name
                     WHERE m.pool_id = ?1 AND m.username_key = ?2 ORDER BY g.name",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([pool_id, username_key], |r| r.get(0))
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        rows.iter().map(|d| from_json(d)).collect()
    }

    async fn users_in_group(
        &self,
        pool_id: &str,
        name: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<User>> {
        let rows: Vec<String> = {
            let conn = self.reader()?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT u.data FROM group_members m JOIN users u
                     ON u.pool_id = m.pool_id AND u.username_key = m.username_key
                     WHERE m.pool_id = ?1 AND m.group_name = ?2 AND m.username_key > ?3
                     ORDER BY m.username_key LIMIT ?4",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(
                    params![pool_id, name, after.unwrap_or(""), limit as i64],
                    user_from_row,
                )
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        users_from(rows)
    }

    async fn insert_domain(&self, domain: &PoolDomain) -> StoreResult<()> {
        let data = to_json(domain)?;
        self.writer()?
            .execute(
                "INSERT INTO pool_domains (domain, pool_id, data) VALUES (?1, ?2, ?3)",
                params![domain.domain, domain.pool_id, data],
            )
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_domain(&self, domain: &str) -> StoreResult<Option<PoolDomain>> {
        let data: Option<String> = self
            .reader()?
            .prepare_cached("SELECT data FROM pool_domains WHERE domain = ?1")
            .and_then(|mut s| s.query_row([domain], |r| r.get(0)).optional())
            .map_err(backend)?;
        data.map(|d| from_json(&d)).transpose()
    }

    async fn domains_of_pool(&self, pool_id: &str) -> StoreResult<Vec<PoolDomain>> {
        let rows: Vec<String> = {
            let conn = self.reader()?;
            let mut stmt = conn
                .prepare_cached("SELECT data FROM pool_domains WHERE pool_id = ?1 ORDER BY domain")
                .map_err(backend)?;
            let rows = stmt.query_map([pool_id], |r| r.get(0)).map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        rows.iter().map(|d| from_json(d)).collect()
    }

    async fn delete_domain(&self, domain: &str) -> StoreResult<bool> {
        let n = self
            .writer()?
            .execute("DELETE FROM pool_domains WHERE domain = ?1", [domain])
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn update_domain(&self, domain: &PoolDomain) -> StoreResult<bool> {
        let data = to_json(domain)?;
        let n = self
            .writer()?
            .execute(
                "UPDATE pool_domains SET data = ?2 WHERE domain = ?1",
                params![domain.domain, data],
            )
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn put_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()> {
        let data = to_json(code)?;
        self.writer()?
            .execute(
                "INSERT INTO authorization_codes (code_hash, pool_id, expires, data) VALUES (?1, ?2, ?3, ?4)",
                params![code.code_hash, code.pool_id, code.expires, data],
            )
            .map_err(map_err)?;
        Ok(())
    }

    async fn take_authorization_code(
        &self,
        code_hash: &str,
    ) -> StoreResult<Option<AuthorizationCode>> {
        let data: Option<String> = self
            .writer()?
            .prepare_cached("DELETE FROM authorization_codes WHERE code_hash = ?1 RETURNING data")
            .and_then(|mut s| s.query_row([code_hash], |r| r.get(0)).optional())
            .map_err(backend)?;
        data.map(|d| from_json(&d)).transpose()
    }

    async fn server_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        let conn = self.writer()?;
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
    }

    async fn put_ui_customization(&self, ui: &UiCustomization) -> StoreResult<()> {
        self.writer()?
            .execute(
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
    }

    async fn get_ui_customization(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<UiCustomization>> {
        self.reader()?
            .prepare_cached(
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
    }

    async fn delete_ui_customization(&self, pool_id: &str, client_id: &str) -> StoreResult<bool> {
        let n = self
            .writer()?
            .execute(
                "DELETE FROM ui_customizations WHERE pool_id = ?1 AND client_id = ?2",
                params![pool_id, client_id],
            )
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn insert_resource_server(&self, server: &ResourceServer) -> StoreResult<()> {
        let data = to_json(server)?;
        self.writer()?
            .execute(
                "INSERT INTO resource_servers (pool_id, identifier, data) VALUES (?1, ?2, ?3)",
                params![server.pool_id, server.identifier, data],
            )
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>> {
        let data: Option<String> = self
            .reader()?
            .prepare_cached(
                "SELECT data FROM resource_servers WHERE pool_id = ?1 AND identifier = ?2",
            )
            .and_then(|mut s| s.query_row([pool_id, identifier], |r| r.get(0)).optional())
            .map_err(backend)?;
        data.map(|d| from_json(&d)).transpose()
    }

    async fn list_resource_servers(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ResourceServer>> {
        let rows: Vec<String> = {
            let conn = self.reader()?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT data FROM resource_servers WHERE pool_id = ?1 AND identifier > ?2 \
                     ORDER BY identifier LIMIT ?3",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![pool_id, after.unwrap_or(""), limit as i64], |r| {
                    r.get(0)
                })
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        rows.iter().map(|d| from_json(d)).collect()
    }

    async fn update_resource_server(&self, server: &ResourceServer) -> StoreResult<bool> {
        let data = to_json(server)?;
        let n = self
            .writer()?
            .execute(
                "UPDATE resource_servers SET data = ?3 WHERE pool_id = ?1 AND identifier = ?2",
                params![server.pool_id, server.identifier, data],
            )
            .map_err(map_err)?;
        Ok(n > 0)
    }

    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool> {
        let n = self
            .writer()?
            .execute(
                "DELETE FROM resource_servers WHERE pool_id = ?1 AND identifier = ?2",
                [pool_id, identifier],
            )
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn purge_expired(&self, now: Millis) -> StoreResult<u64> {
        let conn = self.writer()?;
        let mut n = 0;
        for sql in [
            "DELETE FROM challenge_sessions WHERE expires <= ?1",
            "DELETE FROM codes WHERE expires <= ?1",
            "DELETE FROM refresh_tokens WHERE expires <= ?1",
            "DELETE FROM authorization_codes WHERE expires <= ?1",
        ] {
            n += conn.execute(sql, [now]).map_err(backend)? as u64;
        }
        Ok(n)
    }
}
