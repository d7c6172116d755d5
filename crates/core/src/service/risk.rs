//! Threat protection (SetRiskConfiguration), as far as cognate acts on it.
//!
//! - IP address exceptions (RiskExceptionConfiguration): the CIDR ranges
//!   are checked when they are set, and in a pool whose AdvancedSecurityMode
//!   is ENFORCED a sign-in from an always-block range is refused before any
//!   credential is looked at. The address is the end user's
//!   ([`audit::user_ip`]): the request's source, or what AdminInitiateAuth's
//!   ContextData states.
//! - Compromised credentials (CompromisedCredentialsRiskConfiguration): a
//!   password given in plaintext (a password sign-in, a sign-up, a new
//!   password) is looked up in the server's list of compromised passwords
//!   (`crate::compromised`) in a pool with AdvancedSecurityMode AUDIT or
//!   ENFORCED, for the events of the configuration's EventFilter (all
//!   when it has none). A find is recorded on the user's auth event; where
//!   the pool is ENFORCED and the EventAction is BLOCK, a sign-in sets the
//!   user RESET_REQUIRED and answers PasswordResetRequiredException, as
//!   Cognito documents, and a sign-up or new password is refused.
//!
//! cognate scores no risk, so the always-allow list (SkippedIPRangeList)
//! has nothing to skip; it is checked and stored.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use super::UserPools;
use crate::audit;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{RiskConfiguration, UserPool};

/// The lists of a RiskExceptionConfiguration.
const LISTS: [&str; 2] = ["BlockedIPRangeList", "SkippedIPRangeList"];

/// One range in CIDR notation; a bare address is a range of one.
fn range(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Refuses a RiskExceptionConfiguration whose ranges are not CIDR ranges.
pub fn check_exceptions(exceptions: &Value) -> Result<()> {
    for list in LISTS {
        for entry in exceptions[list].as_array().into_iter().flatten() {
            let text = entry.as_str().unwrap_or_default();
            if range(text).is_none() {
                return Err(Error::invalid_parameter(format!(
                    "{list} has an entry that is not an IP address range in CIDR notation: '{}'.",
                    text.chars().take(64).collect::<String>()
                )));
            }
        }
    }
    Ok(())
}

/// Whether the pool enforces threat protection (AdvancedSecurityMode
/// ENFORCED; AUDIT only records).
fn enforced(pool: &UserPool) -> bool {
    pool.settings
        .user_pool_add_ons
        .as_ref()
        .and_then(|a| a.get("AdvancedSecurityMode"))
        .and_then(Value::as_str)
        == Some("ENFORCED")
}

/// Whether `ip` is in one of the `list` ranges of `exceptions`.
fn listed(exceptions: &Value, list: &str, ip: IpAddr) -> bool {
    exceptions[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str().and_then(range))
        .any(|net| net.contains(&ip) || ip.to_canonical() != ip && net.contains(&ip.to_canonical()))
}

/// The risk configuration that applies to a client: its own, else the pool's.
fn configuration<'a>(pool: &'a UserPool, client_id: Option<&str>) -> Option<&'a RiskConfiguration> {
    client_id
        .and_then(|id| {
            pool.risk_configurations
                .iter()
                .find(|r| r.client_id.as_deref() == Some(id))
        })
        .or_else(|| {
            pool.risk_configurations
                .iter()
                .find(|r| r.client_id.is_none())
        })
}

/// The user events the compromised-credentials check watches
/// (CompromisedCredentialsRiskConfiguration's EventFilter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CredentialEvent {
    SignIn,
    SignUp,
    /// A new password: ChangePassword, ConfirmForgotPassword, the
    /// NEW_PASSWORD_REQUIRED challenge.
    PasswordChange,
}

impl CredentialEvent {
    fn filter_name(self) -> &'static str {
        match self {
            CredentialEvent::SignIn => "SIGN_IN",
            CredentialEvent::SignUp => "SIGN_UP",
            CredentialEvent::PasswordChange => "PASSWORD_CHANGE",
        }
    }
}

/// The refusal of a compromised password at a sign-up or a password
/// change (the text is cognate's: AWS does not publish it).
fn compromised_password() -> Error {
    Error::new(
        ErrorKind::InvalidPassword,
        "Password did not conform with policy: Password was found in a list of compromised passwords",
    )
}

impl UserPools {
    /// The compromised-credentials check of a password given in plaintext
    /// (see the module's documentation): whether it blocks `event`. A find
    /// is marked for the user's auth event of this request. A list that
    /// cannot be read lets the password through, with a warning logged.
    pub(crate) async fn compromised_password_blocks(
        &self,
        pool: &UserPool,
        client_id: Option<&str>,
        event: CredentialEvent,
        password: &str,
    ) -> bool {
        let Some(list) = self.compromised.clone() else {
            return false;
        };
        if !super::auth_events::records_auth_events(pool) {
            return false;
        }
        let config =
            configuration(pool, client_id).and_then(|c| c.compromised_credentials.as_ref());
        let watched = config
            .and_then(|c| c.get("EventFilter"))
            .and_then(Value::as_array)
            .is_none_or(|events| {
                events
                    .iter()
                    .any(|e| e.as_str() == Some(event.filter_name()))
            });
        if !watched {
            return false;
        }
        let password = password.to_owned();
        let found = match tokio::task::spawn_blocking(move || list.contains(&password)).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "looking a password up in the compromised-password list failed");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "looking a password up in the compromised-password list failed");
                false
            }
        };
        if !found {
            return false;
        }
        audit::mark_compromised_credentials();
        let blocks = enforced(pool)
            && config
                .and_then(|c| c.pointer("/Actions/EventAction"))
                .and_then(Value::as_str)
                == Some("BLOCK");
        let mut line = audit::Event::new("compromised_credentials", &pool.id);
        line.client_id = client_id;
        if blocks {
            line = line.failed("blocked");
        }
        line.emit();
        blocks
    }

    /// Refuses a new password (a sign-up's, or a change's) that the
    /// compromised-credentials check blocks for `event`.
    pub(crate) async fn refuse_compromised_password(
        &self,
        pool: &UserPool,
        client_id: Option<&str>,
        event: CredentialEvent,
        password: &str,
    ) -> Result<()> {
        if self
            .compromised_password_blocks(pool, client_id, event, password)
            .await
        {
            return Err(compromised_password());
        }
        Ok(())
    }

    /// Refuses a sign-in from an always-block range of the client's risk
    /// configuration (its own, else the pool's) where threat protection
    /// is enforced.
    pub(crate) fn check_blocked_ip(&self, pool: &UserPool, client_id: &str) -> Result<()> {
        if !enforced(pool) {
            return Ok(());
        }
        let Some(ip) = audit::user_ip() else {
            return Ok(());
        };
        let config = configuration(pool, Some(client_id));
        let Some(exceptions) = config.and_then(|c| c.risk_exception.as_ref()) else {
            return Ok(());
        };
        if listed(exceptions, "BlockedIPRangeList", ip) {
            audit::Event::new("sign_in", &pool.id)
                .client(client_id)
                .failed("blocked_ip")
                .emit();
            return Err(Error::new(
                ErrorKind::NotAuthorized,
                "Unable to login because of security reasons.",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_are_cidr() {
        check_exceptions(
            &json!({"BlockedIPRangeList": ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"],
                                 "SkippedIPRangeList": []}),
        )
        .unwrap();
        for bad in ["192.0.2.0/33", "example.com", "", "10.0.0.0/8/1"] {
            let e = check_exceptions(&json!({"SkippedIPRangeList": [bad]})).unwrap_err();
            assert!(e.to_string().contains("SkippedIPRangeList"), "{bad}: {e}");
        }
    }

    #[test]
    fn addresses_are_matched_by_range() {
        let ex = json!({"BlockedIPRangeList": ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"]});
        let yes = [
            "192.0.2.200",
            "2001:db8::1",
            "198.51.100.7",
            "::ffff:192.0.2.9",
        ];
        let no = ["192.0.3.1", "2001:db9::1", "198.51.100.8", "127.0.0.1"];
        for ip in yes {
            assert!(
                listed(&ex, "BlockedIPRangeList", ip.parse().unwrap()),
                "{ip}"
            );
        }
        for ip in no {
            assert!(
                !listed(&ex, "BlockedIPRangeList", ip.parse().unwrap()),
                "{ip}"
            );
        }
    }
}
