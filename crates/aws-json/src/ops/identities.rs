//! AdminLinkProviderForUser and AdminDisableProviderForUser. The model's
//! constraints are checked before these run (`model::validate`); the
//! members a link needs that the model leaves optional are the service's.

use cognate_core::service::identities::ProviderUser;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::parse;

/// A ProviderUserIdentifierType.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ProviderUserIdentifier {
    provider_name: Option<String>,
    provider_attribute_name: Option<String>,
    provider_attribute_value: Option<String>,
}

impl From<ProviderUserIdentifier> for ProviderUser {
    fn from(p: ProviderUserIdentifier) -> Self {
        ProviderUser {
            provider_name: p.provider_name,
            attribute_name: p.provider_attribute_name,
            attribute_value: p.provider_attribute_value,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LinkRequest {
    user_pool_id: String,
    destination_user: ProviderUserIdentifier,
    source_user: ProviderUserIdentifier,
}

pub async fn admin_link_provider_for_user(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: LinkRequest = parse(body)?;
    svc.admin_link_provider_for_user(
        &req.user_pool_id,
        &req.destination_user.into(),
        &req.source_user.into(),
    )
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DisableRequest {
    user_pool_id: String,
    user: ProviderUserIdentifier,
}

pub async fn admin_disable_provider_for_user(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: DisableRequest = parse(body)?;
    svc.admin_disable_provider_for_user(&req.user_pool_id, &req.user.into())
        .await?;
    Ok(json!({}))
}
