//! CreateUserPoolDomain, DescribeUserPoolDomain, DeleteUserPoolDomain, and
//! finding the pool that serves a request's host name or path prefix.

use super::UserPools;
use crate::error::{Error, Result, StoreError};
use crate::model::PoolDomain;

/// A prefix domain label: `^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`.
pub fn is_domain_label(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.len() <= 63
        && b.first().is_some_and(ok)
        && b.last().is_some_and(ok)
        && b.iter().all(|c| ok(c) || *c == b'-')
}

/// A custom domain: a host name of at least two labels.
pub fn is_custom_domain(s: &str) -> bool {
    s.len() <= 253 && s.contains('.') && s.split('.').all(is_domain_label)
}

fn no_such_domain() -> Error {
    Error::invalid_parameter("No such domain or user pool exists.")
}

/// ManagedLoginVersion is 1 (the classic hosted UI) or 2 (managed login),
/// and managed login "requires that your user pool be configured for any
/// feature plan other than Lite" (the model; the text is cognate's).
fn check_managed_login(pool: &crate::model::UserPool, version: Option<i64>) -> Result<()> {
    match version {
        None | Some(1) => Ok(()),
        Some(2) if pool.settings.user_pool_tier == "LITE" => Err(Error::new(
            crate::error::ErrorKind::FeatureUnavailableInTier,
            "Managed login (ManagedLoginVersion 2) is not available in the LITE feature plan.",
        )),
        Some(2) => Ok(()),
        Some(_) => Err(Error::invalid_parameter(
            "ManagedLoginVersion must be 1 or 2.",
        )),
    }
}

impl UserPools {
    /// Creates a prefix domain (`certificate_arn` absent) or a custom
    /// domain. A pool has at most one domain.
    pub async fn create_user_pool_domain(
        &self,
        pool_id: &str,
        domain: &str,
        certificate_arn: Option<String>,
        managed_login_version: Option<i64>,
    ) -> Result<PoolDomain> {
        let pool = self.pool(pool_id).await?;
        let valid = if certificate_arn.is_some() {
            is_custom_domain(domain)
        } else {
            is_domain_label(domain)
        };
        if !valid {
            return Err(Error::invalid_parameter(format!(
                "Domain {domain} is not a valid {} domain.",
                if certificate_arn.is_some() {
                    "custom"
                } else {
                    "prefix"
                }
            )));
        }
        if !self.store.domains_of_pool(pool_id).await?.is_empty() {
            return Err(Error::invalid_parameter(format!(
                "User pool {pool_id} already has a domain configured."
            )));
        }
        check_managed_login(&pool, managed_login_version)?;
        let record = PoolDomain {
            domain: domain.to_owned(),
            pool_id: pool_id.to_owned(),
            certificate_arn,
            managed_login_version,
            created: self.now(),
        };
        match self.store.insert_domain(&record).await {
            Ok(()) => Ok(record),
            Err(StoreError::Conflict(_)) => Err(Error::invalid_parameter(
                "Domain already associated with another user pool.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The domain, or `None` (DescribeUserPoolDomain answers an empty description).
    pub async fn describe_user_pool_domain(&self, domain: &str) -> Result<Option<PoolDomain>> {
        Ok(self.store.get_domain(domain).await?)
    }

    pub async fn delete_user_pool_domain(&self, pool_id: &str, domain: &str) -> Result<()> {
        self.pool(pool_id).await?;
        match self.store.get_domain(domain).await? {
            Some(d) if d.pool_id == pool_id => {
                self.store.delete_domain(domain).await?;
                Ok(())
            }
            _ => Err(no_such_domain()),
        }
    }

    /// UpdateUserPoolDomain: a custom domain's certificate and the
    /// managed-login version. The domain must belong to the pool.
    pub async fn update_user_pool_domain(
        &self,
        pool_id: &str,
        domain: &str,
        certificate_arn: Option<String>,
        managed_login_version: Option<i64>,
    ) -> Result<PoolDomain> {
        let pool = self.pool(pool_id).await?;
        let mut record = match self.store.get_domain(domain).await? {
            Some(d) if d.pool_id == pool_id => d,
            _ => return Err(no_such_domain()),
        };
        check_managed_login(&pool, managed_login_version)?;
        if let Some(v) = managed_login_version {
            record.managed_login_version = Some(v);
        }
        if let Some(arn) = certificate_arn {
            if record.certificate_arn.is_none() {
                return Err(Error::invalid_parameter(
                    "A prefix domain has no certificate to update.",
                ));
            }
            record.certificate_arn = Some(arn);
        }
        if !self.store.update_domain(&record).await? {
            return Err(no_such_domain());
        }
        Ok(record)
    }

    /// Makes a prefix domain declared in the config file the pool's domain
    /// (replacing another one the pool had).
    pub async fn reconcile_user_pool_domain(&self, pool_id: &str, domain: &str) -> Result<()> {
        for d in self.store.domains_of_pool(pool_id).await? {
            if d.domain == domain && d.certificate_arn.is_none() {
                return Ok(());
            }
            self.store.delete_domain(&d.domain).await?;
        }
        self.create_user_pool_domain(pool_id, domain, None, None)
            .await
            .map(|_| ())
    }

    /// The domain of a pool, if it has one.
    pub async fn domain_of_pool(&self, pool_id: &str) -> Result<Option<PoolDomain>> {
        Ok(self
            .store
            .domains_of_pool(pool_id)
            .await?
            .into_iter()
            .next())
    }

    /// The domain serving a request's `Host` (port removed): a custom domain
    /// by its exact name, else a prefix domain by the first label.
    pub async fn domain_for_host(&self, host: &str) -> Result<Option<PoolDomain>> {
        let host = host.to_ascii_lowercase();
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host.as_str(),
        };
        if is_custom_domain(name) {
            if let Some(d) = self.store.get_domain(name).await? {
                if d.certificate_arn.is_some() {
                    return Ok(Some(d));
                }
            }
        }
        // An IP address is no `<prefix>.<host>` (`127.0.0.1` is not domain `127`).
        if name.parse::<std::net::Ipv4Addr>().is_ok() || name.starts_with('[') {
            return Ok(None);
        }
        let Some((prefix, _)) = name.split_once('.') else {
            return Ok(None);
        };
        Ok(self
            .store
            .get_domain(prefix)
            .await?
            .filter(|d| d.certificate_arn.is_none()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names() {
        assert!(is_domain_label("my-app1"));
        assert!(!is_domain_label("-a"));
        assert!(!is_domain_label("A"));
        assert!(!is_domain_label(""));
        assert!(!is_domain_label(&"a".repeat(64)));
        assert!(is_custom_domain("auth.example.com"));
        assert!(!is_custom_domain("example"));
        assert!(!is_custom_domain("auth..example.com"));
    }
}
