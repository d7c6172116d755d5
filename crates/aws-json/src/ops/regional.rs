//! The operations that only make sense on AWS's infrastructure:
//! CreateUserPoolReplica, ListUserPoolReplicas, UpdateUserPoolReplica,
//! DeleteUserPoolReplica, GetProvisionedLimit, UpdateProvisionedLimit.

use std::collections::BTreeMap;

use cognate_core::service::regional::Replica;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::parse;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReplicaRequest {
    user_pool_id: String,
    region_name: Option<String>,
}

fn replica_out(r: &Replica) -> Value {
    json!({"RegionName": r.region, "Status": r.status, "Role": r.role, "UserPoolArn": r.arn})
}

pub async fn list_user_pool_replicas(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ReplicaRequest = parse(body)?;
    let replicas = svc.list_user_pool_replicas(&req.user_pool_id).await?;
    Ok(json!({"UserPoolReplicas": replicas.iter().map(replica_out).collect::<Vec<_>>()}))
}

pub async fn create_user_pool_replica(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ReplicaRequest = parse(body)?;
    let r = svc
        .create_user_pool_replica(&req.user_pool_id, req.region_name.as_deref().unwrap_or(""))
        .await?;
    Ok(json!({"UserPoolReplica": replica_out(&r)}))
}

/// UpdateUserPoolReplica and DeleteUserPoolReplica.
pub async fn change_user_pool_replica(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ReplicaRequest = parse(body)?;
    let r = svc
        .change_user_pool_replica(&req.user_pool_id, req.region_name.as_deref().unwrap_or(""))
        .await?;
    Ok(json!({"UserPoolReplica": replica_out(&r)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LimitDefinition {
    limit_class: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LimitRequest {
    limit_definition: LimitDefinition,
    requested_limit_value: Option<i64>,
}

/// GetProvisionedLimit and UpdateProvisionedLimit.
pub async fn provisioned_limit(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: LimitRequest = parse(body)?;
    let def = &req.limit_definition;
    let value = svc.provisioned_limit(
        &def.limit_class,
        def.attributes.get("Category").map(String::as_str),
        req.requested_limit_value,
    )?;
    Ok(json!({"Limit": {
        "LimitDefinition": {"LimitClass": def.limit_class, "Attributes": def.attributes},
        "ProvisionedLimitValue": value,
        "FreeLimitValue": value,
    }}))
}
