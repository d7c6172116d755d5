//! Threat protection's IP address exceptions (SetRiskConfiguration's
//! RiskExceptionConfiguration): the CIDR ranges are checked when they are
//! set, and in a pool whose AdvancedSecurityMode is ENFORCED a sign-in from
//! an always-block range is refused before any credential is looked at.
//! The address is the end user's ([`audit::user_ip`]): the request's
//! source, or what AdminInitiateAuth's ContextData states.
//!
//! cognate scores no risk, so the always-allow list (SkippedIPRangeList)
//! has nothing to skip; it is checked and stored.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use super::UserPools;
use crate::audit;
use crate::error::{Error, ErrorKind, Result};
use crate::model::UserPool;

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

impl UserPools {
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
        let config = pool
            .risk_configurations
            .iter()
            .find(|r| r.client_id.as_deref() == Some(client_id))
            .or_else(|| {
                pool.risk_configurations
                    .iter()
                    .find(|r| r.client_id.is_none())
            });
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
