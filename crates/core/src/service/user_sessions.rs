//! A user's sessions: AdminListUserSessions, ListUserSessions,
//! AdminRevokeUserSession and RevokeUserSession, and the SSO session
//! records of the hosted UI.
//!
//! - A **token session** is one sign-in's refresh token (with refresh token
//!   rotation, its latest token: the family shares the sign-in's
//!   `origin_jti`); its id is `tkn` and the first 25 hex digits of the
//!   SHA-256 of the sign-in's `origin_jti`, stable for as long as the
//!   session lives, across rotations. While the pool tracks sessions, a new
//!   sign-in of a user who already has the pool's `MaxPerUser` live token
//!   sessions evicts the least recently used first (one store transaction
//!   per sign-in, `put_refresh_token_limited`); a session's last activity
//!   is its latest sign-in, refresh or rotation.
//! - An **SSO session** (`sso` and 25 random lowercase letters and digits)
//!   is a sign-in on the hosted UI while the pool tracks sessions: a store
//!   record that the browser's session cookie names, so the cookie works
//!   only while the record exists. The refresh tokens granted through it
//!   name it (their OriginSessionId); its last activity is its latest
//!   sign-in, token grant, refresh or rotation.
//!
//! Revoking a session deletes it; with `RevokeAssociatedSessions: LINKED`,
//! revoking an SSO session also revokes the token sessions that came
//! through it, and revoking a token session also deletes its SSO session.
//! Listing needs session tracking enabled on the pool, as in Cognito.

use super::account::MAX_ACCESS_TOKEN_MS;
use super::UserPools;
use crate::clock::Millis;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{RefreshTokenRecord, SsoSession, User, UserPool};

/// Cognito answers a user's sessions in one page of at most this many.
pub const MAX_SESSIONS: usize = 125;

/// Which kind of session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    Token,
    Sso,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Token => "TOKEN",
            SessionKind::Sso => "SSO",
        }
    }
}

/// One session of a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSession {
    pub id: String,
    pub kind: SessionKind,
    pub client_id: String,
    pub created: Millis,
    /// The session's latest activity (see the module's documentation).
    pub last_active: Millis,
    /// The user's address at that activity.
    pub last_ip: Option<String>,
    /// The device of that activity ([`crate::audit::device_of`]).
    pub device: Option<String>,
    /// For a token session, the SSO session it came through.
    pub origin_session_id: Option<String>,
    /// Whether the access token that asked belongs to this session.
    pub current: bool,
}

/// Whether RevokeUserSession also revokes the linked sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Associated {
    #[default]
    None,
    Linked,
}

fn session_id(token: &RefreshTokenRecord) -> String {
    let digest = cognate_crypto::digest::sha256_hex(token.origin_jti.as_bytes());
    format!("tkn{}", digest.get(..25).unwrap_or(&digest))
}

/// A new SSO session id: `sso` and 25 random lowercase letters and digits.
pub(crate) fn new_sso_session_id() -> String {
    format!("sso{}", cognate_crypto::random::lower_alnum(25))
}

fn tracking_enabled(pool: &UserPool) -> Result<()> {
    if !pool.sessions.tracking {
        return Err(Error::new(
            ErrorKind::OperationNotEnabled,
            format!("Session tracking is not enabled for user pool {}.", pool.id),
        ));
    }
    Ok(())
}

fn not_found(session_id: &str) -> Error {
    Error::new(
        ErrorKind::ResourceNotFound,
        format!("Session {session_id} does not exist."),
    )
}

/// The address and the device of the request being served, as sessions record them.
pub(crate) fn activity_source() -> (Option<String>, String) {
    (
        crate::audit::user_ip().map(|ip| ip.to_string()),
        crate::audit::user_device(),
    )
}

impl UserPools {
    /// Stores the refresh token of a new sign-in; with session tracking
    /// on, within the pool's MaxPerUser (the least recently used sessions
    /// are revoked first, with their access tokens).
    pub(crate) async fn store_sign_in_refresh_token(
        &self,
        pool: &UserPool,
        record: RefreshTokenRecord,
    ) -> Result<()> {
        if !pool.sessions.tracking {
            self.store.put_refresh_token(&record).await?;
            return Ok(());
        }
        let max = usize::try_from(pool.sessions.max_per_user.max(1)).unwrap_or(usize::MAX);
        let now = self.now();
        let evicted = self
            .store
            .put_refresh_token_limited(&record, now, max, now + MAX_ACCESS_TOKEN_MS)
            .await?;
        if evicted > 0 {
            tracing::debug!(target: "cognate::sessions", evicted, "token sessions over MaxPerUser evicted");
        }
        Ok(())
    }

    /// Opens an SSO session for a hosted-UI sign-in of `user` for
    /// `client_id`, lasting until `expires`; `None` while the pool does
    /// not track sessions.
    pub(crate) async fn open_sso_session(
        &self,
        pool: &UserPool,
        user: &User,
        client_id: &str,
        expires: Millis,
    ) -> Result<Option<String>> {
        if !pool.sessions.tracking {
            return Ok(None);
        }
        let now = self.now();
        let (last_ip, device) = activity_source();
        let session = SsoSession {
            session_id: new_sso_session_id(),
            pool_id: pool.id.clone(),
            username_key: user.username_key.clone(),
            sub: user.sub.clone(),
            client_id: client_id.to_owned(),
            created: now,
            last_active: now,
            expires,
            last_ip,
            last_device: Some(device),
        };
        self.store.put_sso_session(&session).await?;
        Ok(Some(session.session_id))
    }

    /// Whether an SSO session still exists (unexpired).
    pub(crate) async fn sso_session_live(&self, pool_id: &str, session_id: &str) -> Result<bool> {
        let now = self.now();
        Ok(self
            .store
            .get_sso_session(pool_id, session_id)
            .await?
            .is_some_and(|s| s.expires > now))
    }

    /// Records activity (a grant, refresh or rotation) on an SSO session.
    pub(crate) async fn touch_sso_session(&self, pool_id: &str, session_id: &str) -> Result<()> {
        let (ip, device) = activity_source();
        self.store
            .touch_sso_session(
                pool_id,
                session_id,
                self.now(),
                ip.as_deref(),
                Some(&device),
            )
            .await?;
        Ok(())
    }

    async fn sessions_of_user(
        &self,
        pool: &UserPool,
        user: &User,
        current_origin: Option<&str>,
    ) -> Result<Vec<UserSession>> {
        let now = self.now();
        let tokens = self
            .store
            .list_live_refresh_tokens(&pool.id, &user.username_key, now, MAX_SESSIONS)
            .await?;
        let sso = self
            .store
            .list_live_sso_sessions(&pool.id, &user.username_key, now, MAX_SESSIONS)
            .await?;
        let mut sessions: Vec<UserSession> = Vec::new();
        // Retries within a rotation's grace period leave several live
        // tokens of one session: it is listed once, with its latest activity.
        for t in &tokens {
            let id = session_id(t);
            if let Some(seen) = sessions.iter_mut().find(|s| s.id == id) {
                if t.last_active > seen.last_active {
                    seen.last_active = t.last_active;
                    seen.last_ip = t.last_ip.clone();
                    seen.device = t.last_device.clone();
                }
                continue;
            }
            sessions.push(UserSession {
                id,
                kind: SessionKind::Token,
                client_id: t.client_id.clone(),
                created: t.created,
                last_active: t.last_active.max(t.created),
                last_ip: t.last_ip.clone(),
                device: t.last_device.clone(),
                origin_session_id: t.sso_session_id.clone(),
                current: current_origin == Some(t.origin_jti.as_str()),
            });
        }
        sessions.extend(sso.into_iter().map(|s| UserSession {
            id: s.session_id,
            kind: SessionKind::Sso,
            client_id: s.client_id,
            created: s.created,
            last_active: s.last_active,
            last_ip: s.last_ip,
            device: s.last_device,
            origin_session_id: None,
            current: false,
        }));
        // Newest first, as both of AWS's examples list them.
        sessions.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
        sessions.truncate(MAX_SESSIONS);
        Ok(sessions)
    }

    pub async fn admin_list_user_sessions(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<Vec<UserSession>> {
        let pool = self.pool(pool_id).await?;
        tracking_enabled(&pool)?;
        let user = self.admin_user(&pool, username).await?;
        self.sessions_of_user(&pool, &user, None).await
    }

    pub async fn list_user_sessions(&self, access_token: &str) -> Result<Vec<UserSession>> {
        let (pool_id, claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        tracking_enabled(&pool)?;
        self.sessions_of_user(&pool, &user, claims.origin_jti.as_deref())
            .await
    }

    pub async fn admin_revoke_user_session(
        &self,
        pool_id: &str,
        username: &str,
        session_id: &str,
        associated: Associated,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        self.revoke_session(&pool, &user, session_id, associated, None)
            .await
    }

    /// Revokes another session of the caller; its own is refused.
    pub async fn revoke_user_session(
        &self,
        access_token: &str,
        session_id: &str,
        associated: Associated,
    ) -> Result<()> {
        let (pool_id, claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        self.revoke_session(
            &pool,
            &user,
            session_id,
            associated,
            claims.origin_jti.as_deref(),
        )
        .await
    }

    async fn revoke_session(
        &self,
        pool: &UserPool,
        user: &User,
        session_id: &str,
        associated: Associated,
        current_origin: Option<&str>,
    ) -> Result<()> {
        let linked = associated == Associated::Linked;
        let revoked_until = self.now() + MAX_ACCESS_TOKEN_MS;
        if session_id.starts_with("sso") {
            if linked && current_origin.is_some() {
                // The caller's own token session may not go with it.
                let tokens = self
                    .store
                    .list_live_refresh_tokens(&pool.id, &user.username_key, self.now(), usize::MAX)
                    .await?;
                if tokens.iter().any(|t| {
                    t.sso_session_id.as_deref() == Some(session_id)
                        && current_origin == Some(t.origin_jti.as_str())
                }) {
                    return Err(own_session());
                }
            }
            let found = self
                .store
                .revoke_sso_session(
                    &pool.id,
                    &user.username_key,
                    session_id,
                    linked,
                    revoked_until,
                )
                .await?;
            return if found {
                Ok(())
            } else {
                Err(not_found(session_id))
            };
        }
        let tokens = self
            .store
            .list_live_refresh_tokens(&pool.id, &user.username_key, self.now(), usize::MAX)
            .await?;
        let Some(token) = tokens.iter().find(|t| self::session_id(t) == session_id) else {
            return Err(not_found(session_id));
        };
        if current_origin == Some(token.origin_jti.as_str()) {
            return Err(own_session());
        }
        self.store
            .revoke_refresh_token(&token.token_hash, revoked_until)
            .await?;
        if let (true, Some(parent)) = (linked, &token.sso_session_id) {
            // Only the parent SSO session, not its other token sessions.
            self.store
                .revoke_sso_session(&pool.id, &user.username_key, parent, false, revoked_until)
                .await?;
        }
        Ok(())
    }
}

fn own_session() -> Error {
    Error::invalid_parameter("The session of the calling access token cannot be revoked.")
}
