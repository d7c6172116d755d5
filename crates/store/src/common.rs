//! What the two engines share: the indexed columns of a user row, how a
//! user is rebuilt from its row, ListUsers filters as SQL and their
//! cursors, and the lockout arithmetic. SQL here is written with `?N`
//! placeholders; the PostgreSQL engine rewrites them to `$N`.

use cognate_core::clock::Millis;
use cognate_core::error::StoreError;
use cognate_core::model::{AliasKey, CodeRecord, FilterAttribute, RevokedOrigin, User, UserFilter};

use cognate_core::store::{CodeUse, LockoutPolicy, SignInFailures, StoreResult};
use cognate_crypto::digest::constant_time_eq;

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(backend)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(backend)
}

/// How case-insensitive filter columns are stored and compared. Folded in
/// Rust, not with SQL `lower()`, so both engines (and every locale) agree.
pub(crate) fn fold(value: &str) -> String {
    value.to_lowercase()
}

/// The columns of a user row besides its keys: what ListUsers filters on,
/// folded where the filter ignores case (not email: Cognito compares it
/// exactly), and the document.
pub(crate) struct UserColumns {
    pub username: String,
    pub sub: String,
    pub status: &'static str,
    pub enabled: i64,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub data: String,
}

pub(crate) fn user_columns(user: &User) -> StoreResult<UserColumns> {
    let folded = |n: &str| user.attribute(n).map(fold);
    Ok(UserColumns {
        username: user.username.clone(),
        sub: user.sub.clone(),
        status: user.status.as_str(),
        enabled: i64::from(user.enabled),
        // ListUsers compares email exactly, as Cognito does.
        email: user.attribute("email").map(str::to_owned),
        phone_number: user.attribute("phone_number").map(str::to_owned),
        preferred_username: folded("preferred_username"),
        name: folded("name"),
        given_name: folded("given_name"),
        family_name: folded("family_name"),
        data: to_json(user)?,
    })
}

/// Inserts a user row: `?1` pool, `?2` username key, `?3..?13` the
/// [`UserColumns`] in their order, version 1.
pub(crate) const INSERT_USER: &str =
    "INSERT INTO users (pool_id, username_key, username, sub, status, enabled, email,
     phone_number, preferred_username, name, given_name, family_name, data, version)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1)";

/// Replaces a user row if it is still at version `?14` (compare-and-swap);
/// parameters as [`INSERT_USER`]. The hot state columns are not written.
pub(crate) const UPDATE_USER: &str =
    "UPDATE users SET username = ?3, sub = ?4, status = ?5, enabled = ?6, email = ?7,
     phone_number = ?8, preferred_username = ?9, name = ?10, given_name = ?11,
     family_name = ?12, data = ?13, version = version + 1
     WHERE pool_id = ?1 AND username_key = ?2 AND version = ?14";

/// The columns every user read selects, in this order, from `users u`.
pub(crate) const USER_SELECT_SQLITE: &str =
    "SELECT u.data, u.version, u.tokens_valid_after, u.totp_last_step,
    (SELECT group_concat(r.origin_jti || ' ' || r.until, ',') FROM revoked_sessions r
      WHERE r.pool_id = u.pool_id AND r.username_key = u.username_key)
    FROM users u";

/// [`USER_SELECT_SQLITE`] in PostgreSQL's dialect.
pub(crate) const USER_SELECT_PG: &str =
    "SELECT u.data, u.version, u.tokens_valid_after, u.totp_last_step,
    (SELECT string_agg(r.origin_jti || ' ' || r.until::text, ',') FROM revoked_sessions r
      WHERE r.pool_id = u.pool_id AND r.username_key = u.username_key)
    FROM users u";

/// Rewrites the `?N` placeholders of SQL written for SQLite (as here) to
/// PostgreSQL's `$N`. Quoted strings and identifiers are left as they are.
pub(crate) fn pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '?' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
                _ => out.push(c),
            },
        }
    }
    out
}

/// A user's sign-in aliases as rows (kind, value), in the order they are
/// stored and compared.
pub(crate) fn alias_rows(aliases: &[AliasKey]) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = aliases
        .iter()
        .map(|a| (a.kind.clone(), a.value.clone()))
        .collect();
    rows.sort();
    rows
}

/// The failed sign-ins after one more at `now`, from the row before it
/// (failures, last failure, lock): the count starts again at 1 after
/// `policy.reset_ms` of quiet, and a lock never shortens.
pub(crate) fn next_failures(
    before: Option<(i64, i64, Option<i64>)>,
    now: Millis,
    policy: &LockoutPolicy,
) -> SignInFailures {
    let (failures, locked_until) = match before {
        Some((n, last, lock)) if now - last <= policy.reset_ms => (n as u32 + 1, lock),
        _ => (1, None),
    };
    let locked_until = match policy.lock_ms(failures) {
        Some(ms) => Some(locked_until.map_or(now + ms, |l| l.max(now + ms))),
        None => locked_until,
    };
    SignInFailures {
        failures,
        locked_until,
    }
}

/// What a guess at a code does to the stored code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeStep {
    Keep,
    Delete,
    CountMiss,
}

/// Judges a guess against the stored code (compared in constant time).
pub(crate) fn judge_code(
    stored: Option<&CodeRecord>,
    guess: &CodeRecord,
    now: Millis,
    max_attempts: u32,
) -> (CodeUse, CodeStep) {
    match stored {
        None => (CodeUse::Expired, CodeStep::Keep),
        Some(r) if r.expires <= now => (CodeUse::Expired, CodeStep::Delete),
        Some(r) if r.attempts >= max_attempts => (CodeUse::LimitExceeded, CodeStep::Keep),
        Some(r) if constant_time_eq(r.code_hash.as_bytes(), guess.code_hash.as_bytes()) => {
            (CodeUse::Accepted, CodeStep::Delete)
        }
        Some(r) => (CodeUse::Mismatch(r.attempts + 1), CodeStep::CountMiss),
    }
}

/// A user from its row: the document plus the hot state kept beside it.
pub(crate) fn user_from_parts(
    data: &str,
    version: i64,
    tokens_valid_after: Option<i64>,
    totp_last_step: Option<i64>,
    revoked: Option<&str>,
) -> StoreResult<User> {
    let mut user: User = from_json(data)?;
    user.version = version;
    user.tokens_valid_after = tokens_valid_after;
    user.totp_last_step = totp_last_step;
    user.revoked_origins = revoked
        .unwrap_or_default()
        .split(',')
        .filter_map(|item| {
            let (origin_jti, until) = item.split_once(' ')?;
            Some(RevokedOrigin {
                origin_jti: origin_jti.to_owned(),
                until: until.parse().ok()?,
            })
        })
        .collect();
    Ok(user)
}

/// A value bound to a statement.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SqlValue {
    Text(String),
    Int(i64),
}

/// A ListUsers query: SQL (with `?N` placeholders) and its values, and how
/// the cursor of a row is made.
pub(crate) struct ListQuery {
    pub sql: String,
    pub values: Vec<SqlValue>,
    /// Sorted by (column, username_key) rather than username_key alone.
    pub by_column: Option<&'static str>,
}

/// One past the largest character: `prefix..prefix+MAX` is every string
/// that starts with `prefix` in byte order (both engines compare bytes:
/// SQLite's BINARY collation, PostgreSQL's `COLLATE "C"` columns).
const AFTER_PREFIX: char = '\u{10FFFF}';

/// Builds ListUsers as an index range scan (never `substr()` over every
/// row): an exact filter reads `(pool, column = v)` in username order; a
/// prefix filter reads the range `[v, v+MAX)` in (column, username) order;
/// no filter reads the pool in username order. Pages continue after the
/// cursor (keyset pagination), so the millionth user costs what the first does.
pub(crate) fn list_users_query(
    select: &str,
    pool_id: &str,
    filter: Option<&UserFilter>,
    cursor: Option<&str>,
    limit: usize,
) -> StoreResult<ListQuery> {
    let mut values = vec![SqlValue::Text(pool_id.to_owned())];
    let push = |values: &mut Vec<SqlValue>, v: SqlValue| {
        values.push(v);
        format!("?{}", values.len())
    };
    let mut conditions = vec!["u.pool_id = ?1".to_owned()];
    let mut by_column = None;
    match filter {
        None => {}
        Some(UserFilter {
            attribute: FilterAttribute::Enabled,
            prefix,
            value,
        }) => {
            let wanted: Vec<i64> = [("Enabled", 1), ("Disabled", 0)]
                .into_iter()
                .filter(|(label, _)| {
                    if *prefix {
                        label.starts_with(value.as_str())
                    } else {
                        label == value
                    }
                })
                .map(|(_, v)| v)
                .collect();
            match wanted.as_slice() {
                [] => conditions.push("1 = 0".to_owned()),
                [one] => {
                    let p = push(&mut values, SqlValue::Int(*one));
                    conditions.push(format!("u.enabled = {p}"));
                }
                _ => {}
            }
        }
        Some(f) => {
            let (column, value) = filter_column(f);
            if f.prefix {
                let lo = push(&mut values, SqlValue::Text(value.clone()));
                let hi = push(
                    &mut values,
                    SqlValue::Text(format!("{value}{AFTER_PREFIX}")),
                );
                conditions.push(format!("u.{column} >= {lo} AND u.{column} < {hi}"));
                by_column = Some(column);
            } else {
                let p = push(&mut values, SqlValue::Text(value));
                conditions.push(format!("u.{column} = {p}"));
            }
        }
    }
    match (cursor.map(decode_cursor).transpose()?, by_column) {
        (None, _) => {}
        (Some((Some(value), key)), Some(column)) => {
            let v = push(&mut values, SqlValue::Text(value));
            let k = push(&mut values, SqlValue::Text(key));
            conditions.push(format!(
                "(u.{column} > {v} OR (u.{column} = {v} AND u.username_key > {k}))"
            ));
        }
        (Some((None, key)), None) => {
            let k = push(&mut values, SqlValue::Text(key));
            conditions.push(format!("u.username_key > {k}"));
        }
        // A cursor of another kind of listing.
        _ => return Err(StoreError::InvalidCursor),
    }
    let order = match by_column {
        Some(column) => format!("u.{column}, u.username_key"),
        None => "u.username_key".to_owned(),
    };
    let lim = push(&mut values, SqlValue::Int(limit as i64 + 1));
    Ok(ListQuery {
        sql: format!(
            "{select} WHERE {} ORDER BY {order} LIMIT {lim}",
            conditions.join(" AND ")
        ),
        values,
        by_column,
    })
}

/// The column a filter reads and the value as stored there.
fn filter_column(f: &UserFilter) -> (&'static str, String) {
    match f.attribute {
        FilterAttribute::Username => ("username", f.value.clone()),
        FilterAttribute::UsernameKey => ("username_key", f.value.clone()),
        FilterAttribute::Email => ("email", f.value.clone()),
        FilterAttribute::PhoneNumber => ("phone_number", f.value.clone()),
        FilterAttribute::Name => ("name", fold(&f.value)),
        FilterAttribute::GivenName => ("given_name", fold(&f.value)),
        FilterAttribute::FamilyName => ("family_name", fold(&f.value)),
        FilterAttribute::PreferredUsername => ("preferred_username", fold(&f.value)),
        FilterAttribute::Sub => ("sub", f.value.clone()),
        FilterAttribute::UserStatus => ("status", f.value.to_uppercase()),
        FilterAttribute::Enabled => ("enabled", f.value.clone()),
    }
}

/// The column value of a listed user that a prefix listing sorts by.
pub(crate) fn sort_value(user: &User, column: &str) -> String {
    let value = match column {
        "username" => Some(user.username.clone()),
        "username_key" => Some(user.username_key.clone()),
        "name" | "given_name" | "family_name" | "preferred_username" => {
            user.attribute(column).map(fold)
        }
        "email" | "phone_number" => user.attribute(column).map(str::to_owned),
        "sub" => Some(user.sub.clone()),
        "status" => Some(user.status.as_str().to_owned()),
        _ => None,
    };
    value.unwrap_or_default()
}

/// A page from the up-to-`limit + 1` rows read: the extra row only says
/// that there is a next page, whose cursor is the page's last row.
pub(crate) fn page_of(
    mut users: Vec<User>,
    limit: usize,
    by_column: Option<&str>,
) -> cognate_core::store::UserPage {
    let next = if users.len() > limit {
        users.truncate(limit);
        users.last().map(|last| {
            encode_cursor(
                by_column.map(|c| sort_value(last, c)).as_deref(),
                &last.username_key,
            )
        })
    } else {
        None
    };
    cognate_core::store::UserPage { users, next }
}

/// `k:<key>` or `v:<value>\0<key>`.
fn encode_cursor(value: Option<&str>, key: &str) -> String {
    match value {
        Some(v) => format!("v:{v}\u{0}{key}"),
        None => format!("k:{key}"),
    }
}

fn decode_cursor(cursor: &str) -> StoreResult<(Option<String>, String)> {
    if let Some(key) = cursor.strip_prefix("k:") {
        return Ok((None, key.to_owned()));
    }
    if let Some((value, key)) = cursor
        .strip_prefix("v:")
        .and_then(|rest| rest.split_once('\u{0}'))
    {
        return Ok((Some(value.to_owned()), key.to_owned()));
    }
    Err(StoreError::InvalidCursor)
}

/// An authentication event from its row: the document and the feedback columns.
pub(crate) fn auth_event_of(
    data: &str,
    value: Option<String>,
    provider: Option<String>,
    date: Option<i64>,
) -> Result<cognate_core::audit::AuthEventRecord, StoreError> {
    let mut event: cognate_core::audit::AuthEventRecord = from_json(data)?;
    event.feedback = match (value, provider, date) {
        (Some(value), Some(provider), Some(date)) => Some(cognate_core::audit::AuthEventFeedback {
            value,
            provider,
            date,
        }),
        _ => None,
    };
    Ok(event)
}

/// The previous holder of an alias taken with ForceAliasCreation: the
/// attribute stays, unverified (`<kind>_verified` = `false`), modified at
/// `modified`.
pub(crate) fn alias_taken_from(mut user: User, kind: &str, modified: i64) -> User {
    user.set_attribute(&format!("{kind}_verified"), Some("false"));
    user.modified = modified;
    user
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            pg_placeholders("SELECT '?1', \"a?2\" FROM t WHERE a = ?1 AND b < ?12 AND c = ?"),
            "SELECT '?1', \"a?2\" FROM t WHERE a = $1 AND b < $12 AND c = ?"
        );
    }

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        assert_eq!(
            decode_cursor(&encode_cursor(None, "bob")).ok(),
            Some((None, "bob".to_owned()))
        );
        assert_eq!(
            decode_cursor(&encode_cursor(Some("b@x"), "bob")).ok(),
            Some((Some("b@x".to_owned()), "bob".to_owned()))
        );
        assert!(decode_cursor("bob").is_err());
    }

    #[test]
    fn a_prefix_filter_is_a_range_on_its_column() {
        let filter = UserFilter {
            attribute: FilterAttribute::Email,
            prefix: true,
            value: "Jo".into(),
        };
        let q = list_users_query("SELECT", "p", Some(&filter), None, 10).expect("query");
        assert!(
            q.sql.contains("u.email >= ?2 AND u.email < ?3"),
            "{}",
            q.sql
        );
        assert!(q.sql.ends_with("ORDER BY u.email, u.username_key LIMIT ?4"));
        // Email compares exactly (no folding).
        assert_eq!(q.values[1], SqlValue::Text("Jo".into()));
        assert!(!q.sql.contains("substr"));
        // A cursor of an unfiltered listing does not continue a filtered one.
        assert!(list_users_query("SELECT", "p", Some(&filter), Some("k:bob"), 10).is_err());
    }
}
