//! A user's token sessions: AdminListUserSessions, ListUserSessions,
//! AdminRevokeUserSession and RevokeUserSession. A token session is one
//! sign-in's refresh token (with refresh token rotation, its latest
//! token: the family shares the sign-in's `origin_jti`); its id is `tkn`
//! and the first 25 hex digits of the SHA-256 of the sign-in's
//! `origin_jti`, stable for as long as the session lives, across
//! rotations. Listing needs session tracking enabled on the pool, as in
//! Cognito. While it is, a new sign-in of a user who already has the
//! pool's `MaxPerUser` live sessions evicts the least recently used first
//! (one store transaction per sign-in, `put_refresh_token_limited`); a
//! session's last activity is its latest sign-in, refresh or rotation.

use super::account::MAX_ACCESS_TOKEN_MS;
use super::UserPools;
use crate::clock::Millis;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{RefreshTokenRecord, User, UserPool};

/// Cognito answers a user's sessions in one page of at most this many.
pub const MAX_SESSIONS: usize = 125;

/// One token session of a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSession {
    pub id: String,
    pub client_id: String,
    pub created: Millis,
    /// The session's latest sign-in, refresh or rotation.
    pub last_active: Millis,
    /// Whether the access token that asked belongs to this session.
    pub current: bool,
}

fn session_id(token: &RefreshTokenRecord) -> String {
    let digest = cognate_crypto::digest::sha256_hex(token.origin_jti.as_bytes());
    format!("tkn{}", digest.get(..25).unwrap_or(&digest))
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

    async fn live_tokens(&self, pool: &UserPool, user: &User) -> Result<Vec<RefreshTokenRecord>> {
        Ok(self
            .store
            .list_live_refresh_tokens(&pool.id, &user.username_key, self.now(), MAX_SESSIONS)
            .await?)
    }

    fn sessions_of(
        tokens: &[RefreshTokenRecord],
        current_origin: Option<&str>,
    ) -> Vec<TokenSession> {
        // Retries within a rotation's grace period leave several live
        // tokens of one session: it is listed once, with its latest activity.
        let mut sessions: Vec<TokenSession> = Vec::new();
        for t in tokens {
            let id = session_id(t);
            if let Some(seen) = sessions.iter_mut().find(|s| s.id == id) {
                seen.last_active = seen.last_active.max(t.last_active);
                continue;
            }
            sessions.push(TokenSession {
                id,
                client_id: t.client_id.clone(),
                created: t.created,
                last_active: t.last_active.max(t.created),
                current: current_origin == Some(t.origin_jti.as_str()),
            });
        }
        sessions
    }

    pub async fn admin_list_user_sessions(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<Vec<TokenSession>> {
        let pool = self.pool(pool_id).await?;
        tracking_enabled(&pool)?;
        let user = self.admin_user(&pool, username).await?;
        let tokens = self.live_tokens(&pool, &user).await?;
        Ok(Self::sessions_of(&tokens, None))
    }

    pub async fn list_user_sessions(&self, access_token: &str) -> Result<Vec<TokenSession>> {
        let (pool_id, claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        tracking_enabled(&pool)?;
        let tokens = self.live_tokens(&pool, &user).await?;
        Ok(Self::sessions_of(&tokens, claims.origin_jti.as_deref()))
    }

    pub async fn admin_revoke_user_session(
        &self,
        pool_id: &str,
        username: &str,
        session_id: &str,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        self.revoke_session(&pool, &user, session_id, None).await
    }

    /// Revokes another session of the caller; its own is refused.
    pub async fn revoke_user_session(&self, access_token: &str, session_id: &str) -> Result<()> {
        let (pool_id, claims, user) = self.user_from_access_token(access_token).await?;
        let pool = self.pool(&pool_id).await?;
        self.revoke_session(&pool, &user, session_id, claims.origin_jti.as_deref())
            .await
    }

    async fn revoke_session(
        &self,
        pool: &UserPool,
        user: &User,
        session_id: &str,
        current_origin: Option<&str>,
    ) -> Result<()> {
        let tokens = self.live_tokens(pool, user).await?;
        let Some(token) = tokens.iter().find(|t| self::session_id(t) == session_id) else {
            return Err(Error::new(
                ErrorKind::ResourceNotFound,
                format!("Session {session_id} does not exist."),
            ));
        };
        if current_origin == Some(token.origin_jti.as_str()) {
            return Err(Error::invalid_parameter(
                "The session of the calling access token cannot be revoked.",
            ));
        }
        self.store
            .revoke_refresh_token(&token.token_hash, self.now() + MAX_ACCESS_TOKEN_MS)
            .await?;
        Ok(())
    }
}
