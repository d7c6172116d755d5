//! Session configuration: Get/SetUserPoolSessionConfiguration and
//! Get/SetUserPoolClientSessionConfiguration, stored in the pool document
//! (one compare-and-swap per change). The sessions themselves, and how
//! MaxPerUser and MaxValidityMinutes apply to them, are `user_sessions`'
//! and `hosted`'s.

use super::UserPools;
use crate::error::{Error, ErrorKind, Result};
use crate::model::SessionConfiguration;

/// SSOSession.MaxValidityMinutes of a client that never set one.
pub const DEFAULT_SSO_MINUTES: u32 = 60;

impl UserPools {
    pub async fn user_pool_session_configuration(
        &self,
        pool_id: &str,
    ) -> Result<SessionConfiguration> {
        Ok(self.pool(pool_id).await?.sessions.clone())
    }

    /// A full replacement of the pool-level settings (clients keep theirs).
    pub async fn set_user_pool_session_configuration(
        &self,
        pool_id: &str,
        tracking: bool,
        max_per_user: u32,
    ) -> Result<SessionConfiguration> {
        let pool = (*self.pool(pool_id).await?).clone();
        let (pool, ()) = self
            .update_pool(pool, |p| {
                tier_allows_sessions(&p.settings.user_pool_tier)?;
                p.sessions.tracking = tracking;
                p.sessions.max_per_user = max_per_user;
                Ok(())
            })
            .await?;
        Ok(pool.sessions)
    }

    /// The client's SSO session validity in minutes.
    pub async fn client_session_configuration(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<u32> {
        let pool = self.pool(pool_id).await?;
        self.client_of(pool_id, client_id).await?;
        Ok(pool
            .sessions
            .client_sso_minutes
            .get(client_id)
            .copied()
            .unwrap_or(DEFAULT_SSO_MINUTES))
    }

    pub async fn set_client_session_configuration(
        &self,
        pool_id: &str,
        client_id: &str,
        minutes: u32,
    ) -> Result<u32> {
        let pool = (*self.pool(pool_id).await?).clone();
        self.client_of(pool_id, client_id).await?;
        self.update_pool(pool, |p| {
            tier_allows_sessions(&p.settings.user_pool_tier)?;
            if !p.sessions.tracking {
                return Err(Error::invalid_parameter(format!(
                    "Session tracking is not enabled for user pool {}.",
                    p.id
                )));
            }
            p.sessions
                .client_sso_minutes
                .insert(client_id.to_owned(), minutes);
            Ok(())
        })
        .await?;
        Ok(minutes)
    }
}

fn tier_allows_sessions(tier: &str) -> Result<()> {
    if tier == "LITE" {
        return Err(Error::new(
            ErrorKind::FeatureUnavailableInTier,
            "This feature is not available in the LITE tier. Upgrade the user pool to the ESSENTIALS or PLUS tier.",
        ));
    }
    Ok(())
}
