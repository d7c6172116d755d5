//! GetDerivedToken: the token exchange of RFC 8693 by API
//! (`core::service::derived_token`). The model's constraints are checked
//! before this runs, so the enum members are known values here.

use cognate_core::service::derived_token::{
    ClientProof, DerivedTokenRequest, IssuedKind, PresentedKind,
};
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::parse;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetDerivedTokenRequest {
    client_id: String,
    client_secret: Option<String>,
    subject_token: String,
    subject_token_type: String,
    subject_token_provider_name: Option<String>,
    actor_token: Option<String>,
    actor_token_type: Option<String>,
    actor_token_provider_name: Option<String>,
    scopes: Option<Vec<String>>,
    audiences: Option<Vec<String>>,
    resources: Option<Vec<String>>,
    requested_token_type: Option<String>,
}

fn invalid(message: &str) -> ApiError {
    ApiError::from(cognate_core::Error::invalid_parameter(message))
}

/// GetDerivedToken. `signed`: the call carried a verified SigV4 signature
/// (IAM credentials), so the client's secret is not required.
pub async fn get_derived_token(
    svc: &UserPools,
    body: &[u8],
    signed: bool,
) -> Result<Value, ApiError> {
    let req: GetDerivedTokenRequest = parse(body)?;
    let subject_token_type = PresentedKind::from_api(&req.subject_token_type)
        .ok_or_else(|| invalid("Invalid SubjectTokenType."))?;
    let actor_token_type = req
        .actor_token_type
        .as_deref()
        .map(|t| PresentedKind::from_api(t).ok_or_else(|| invalid("Invalid ActorTokenType.")))
        .transpose()?;
    let requested = req
        .requested_token_type
        .as_deref()
        .map(|t| IssuedKind::from_api(t).ok_or_else(|| invalid("Invalid RequestedTokenType.")))
        .transpose()?;
    let proof = if signed {
        ClientProof::Iam
    } else {
        ClientProof::Secret(req.client_secret.as_deref())
    };
    let issued = svc
        .get_derived_token(DerivedTokenRequest {
            client_id: &req.client_id,
            proof,
            subject_token: &req.subject_token,
            subject_token_type,
            subject_token_provider: req.subject_token_provider_name.as_deref(),
            actor_token: req.actor_token.as_deref(),
            actor_token_type,
            actor_token_provider: req.actor_token_provider_name.as_deref(),
            scopes: req.scopes.as_deref(),
            audience: req
                .audiences
                .as_deref()
                .and_then(<[String]>::first)
                .map(String::as_str),
            resource: req
                .resources
                .as_deref()
                .and_then(<[String]>::first)
                .map(String::as_str),
            requested,
        })
        .await?;
    Ok(json!({
        "IssuedToken": issued.issued_token,
        "IssuedTokenType": issued.issued_kind.api_name(),
        "TokenType": issued.issued_kind.token_type(),
        "ExpiresIn": issued.expires_in,
        "Scopes": issued.scopes,
    }))
}
