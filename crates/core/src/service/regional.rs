//! The operations that only make sense on AWS's infrastructure, answered as
//! AWS answers them for a pool and an account without the feature:
//! multi-Region replicas (a pool is only ever its own primary) and
//! provisioned request-rate limits (cognate enforces none, so an account's
//! provisioned value is the free default and cannot be raised).

use serde::Serialize;

use super::UserPools;
use crate::error::{Error, ErrorKind, Result};

/// One entry of ListUserPoolReplicas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Replica {
    pub region: String,
    pub status: &'static str,
    pub role: &'static str,
    pub arn: String,
}

/// The API categories of Cognito's request-rate quotas with their default
/// (free) rates in requests per second, as AWS's quota page documents them.
pub const API_CATEGORIES: &[(&str, i64)] = &[
    ("UserAuthentication", 120),
    ("UserCreation", 50),
    ("UserFederation", 25),
    ("UserAccountRecovery", 30),
    ("UserRead", 120),
    ("UserUpdate", 25),
    ("UserResourceRead", 50),
    ("UserResourceUpdate", 25),
    ("UserList", 30),
    ("UserToken", 120),
    ("ClientAuthentication", 150),
];

impl UserPools {
    /// ListUserPoolReplicas: the pool itself, the primary in this server's region.
    pub async fn list_user_pool_replicas(&self, pool_id: &str) -> Result<Vec<Replica>> {
        self.pool(pool_id).await?;
        Ok(vec![Replica {
            region: self.config.region.clone(),
            status: "ACTIVE",
            role: "PRIMARY",
            arn: self.pool_arn(pool_id),
        }])
    }

    /// CreateUserPoolReplica: refused, a cognate pool lives in one place.
    pub async fn create_user_pool_replica(&self, pool_id: &str, region: &str) -> Result<Replica> {
        self.pool(pool_id).await?;
        if region == self.config.region {
            return Err(Error::invalid_parameter(format!(
                "User pool {pool_id} is already in {region}."
            )));
        }
        Err(Error::new(
            ErrorKind::OperationNotEnabled,
            "Multi-Region replication is not available for this user pool.",
        ))
    }

    /// UpdateUserPoolReplica / DeleteUserPoolReplica: there is no secondary to change.
    pub async fn change_user_pool_replica(&self, pool_id: &str, region: &str) -> Result<Replica> {
        self.pool(pool_id).await?;
        if region == self.config.region {
            return Err(Error::invalid_parameter(format!(
                "{region} is the primary Region of user pool {pool_id}, not a replica."
            )));
        }
        Err(Error::new(
            ErrorKind::ResourceNotFound,
            format!("User pool {pool_id} has no replica in {region}."),
        ))
    }

    /// GetProvisionedLimit / UpdateProvisionedLimit: the category's free
    /// rate, which is also the most an account can have here. `requested`
    /// is UpdateProvisionedLimit's value.
    pub fn provisioned_limit(
        &self,
        limit_class: &str,
        category: Option<&str>,
        requested: Option<i64>,
    ) -> Result<i64> {
        if limit_class != "API_CATEGORY" {
            return Err(Error::invalid_parameter(format!(
                "Invalid limit class: {limit_class}"
            )));
        }
        let Some(category) = category else {
            return Err(Error::invalid_parameter(
                "LimitDefinition.Attributes must name the API category (Category).",
            ));
        };
        let Some((_, free)) = API_CATEGORIES.iter().find(|(c, _)| *c == category) else {
            return Err(Error::new(
                ErrorKind::ResourceNotFound,
                format!("No provisioned limit exists for category {category}."),
            ));
        };
        match requested {
            Some(v) if v < *free => Err(Error::invalid_parameter(format!(
                "The requested limit value {v} is below the default limit {free} for {category}."
            ))),
            Some(v) if v > *free => Err(Error::new(
                ErrorKind::ServiceQuotaExceeded,
                format!(
                    "The requested limit value {v} exceeds the account's maximum of {free} for {category}."
                ),
            )),
            _ => Ok(*free),
        }
    }
}
