//! What hangs off an app client: its secrets (Add/List/
//! DeleteUserPoolClientSecret), terms documents (Create/Describe/List/
//! Update/DeleteTerms, DescribeTermsByClient) and managed login branding
//! styles (Create/Describe/DescribeByClient/Update/
//! DeleteManagedLoginBranding). The model's member constraints are checked
//! before these run (`model.rs`).

use std::collections::BTreeMap;

use base64::Engine;
use cognate_core::model::{BrandingAsset, ClientSecret, ManagedLoginBranding, Terms};
use cognate_core::service::{merged_style_settings, BrandingInput, TermsInput};
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::shapes::{parse, timestamp};

/// The largest image of a branding asset (`AssetBytesType` max).
const MAX_ASSET_BYTES: usize = 1_000_000;

// ---------------------------------------------------------------- secrets

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddUserPoolClientSecretRequest {
    user_pool_id: String,
    client_id: String,
    client_secret: Option<String>,
}

fn secret_out(s: &ClientSecret, with_value: bool) -> Value {
    let mut m = Map::new();
    m.insert("ClientSecretId".into(), json!(s.id));
    if with_value {
        m.insert("ClientSecretValue".into(), json!(s.value));
    }
    m.insert("ClientSecretCreateDate".into(), timestamp(s.created));
    Value::Object(m)
}

pub async fn add_user_pool_client_secret(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: AddUserPoolClientSecretRequest = parse(body)?;
    let added = svc
        .add_user_pool_client_secret(&req.user_pool_id, &req.client_id, req.client_secret)
        .await?;
    // The value is returned only when cognate generated it.
    Ok(json!({"ClientSecretDescriptor": secret_out(&added.secret, added.generated)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientRequest {
    user_pool_id: String,
    client_id: String,
}

pub async fn list_user_pool_client_secrets(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: ClientRequest = parse(body)?;
    let secrets = svc
        .list_user_pool_client_secrets(&req.user_pool_id, &req.client_id)
        .await?;
    let list: Vec<Value> = secrets.iter().map(|s| secret_out(s, false)).collect();
    Ok(json!({"ClientSecrets": list}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteUserPoolClientSecretRequest {
    user_pool_id: String,
    client_id: String,
    client_secret_id: String,
}

pub async fn delete_user_pool_client_secret(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: DeleteUserPoolClientSecretRequest = parse(body)?;
    svc.delete_user_pool_client_secret(&req.user_pool_id, &req.client_id, &req.client_secret_id)
        .await?;
    Ok(json!({}))
}

// ------------------------------------------------------------------ terms

fn terms_out(pool_id: &str, t: &Terms) -> Value {
    json!({
        "TermsId": t.terms_id,
        "UserPoolId": pool_id,
        "ClientId": t.client_id,
        "TermsName": t.terms_name,
        "TermsSource": t.terms_source,
        "Enforcement": t.enforcement,
        "Links": t.links,
        "CreationDate": timestamp(t.created),
        "LastModifiedDate": timestamp(t.modified),
    })
}

/// `Links` must hold at least one language (the model's `min`, which the
/// generic check does not apply to maps).
fn check_links(links: Option<&BTreeMap<String, String>>) -> Result<(), ApiError> {
    match links {
        Some(l) if l.is_empty() => Err(ApiError::invalid_parameter(
            "1 validation error detected: Value '{}' at 'links' failed to satisfy constraint: Member must have length greater than or equal to 1",
        )),
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateTermsRequest {
    user_pool_id: String,
    client_id: String,
    terms_name: String,
    terms_source: String,
    enforcement: String,
    links: Option<BTreeMap<String, String>>,
}

pub async fn create_terms(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: CreateTermsRequest = parse(body)?;
    check_links(req.links.as_ref())?;
    let terms = svc
        .create_terms(
            &req.user_pool_id,
            &req.client_id,
            TermsInput {
                terms_name: Some(req.terms_name),
                terms_source: Some(req.terms_source),
                enforcement: Some(req.enforcement),
                links: req.links,
            },
        )
        .await?;
    Ok(json!({"Terms": terms_out(&req.user_pool_id, &terms)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TermsIdRequest {
    user_pool_id: String,
    terms_id: String,
}

pub async fn describe_terms(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: TermsIdRequest = parse(body)?;
    let terms = svc.describe_terms(&req.user_pool_id, &req.terms_id).await?;
    Ok(json!({"Terms": terms_out(&req.user_pool_id, &terms)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeTermsByClientRequest {
    user_pool_id: String,
    client_id: String,
    terms_name: String,
}

pub async fn describe_terms_by_client(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DescribeTermsByClientRequest = parse(body)?;
    let terms = svc
        .describe_terms_by_client(&req.user_pool_id, &req.client_id, &req.terms_name)
        .await?;
    Ok(json!({"Terms": terms_out(&req.user_pool_id, &terms)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTermsRequest {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub async fn list_terms(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ListTermsRequest = parse(body)?;
    let page = svc
        .list_terms(
            &req.user_pool_id,
            req.max_results.unwrap_or(60).clamp(1, 60) as usize,
            req.next_token.as_deref().filter(|t| !t.is_empty()),
        )
        .await?;
    let list: Vec<Value> = page
        .items
        .iter()
        .map(|t| {
            json!({
                "TermsId": t.terms_id,
                "TermsName": t.terms_name,
                "Enforcement": t.enforcement,
                "CreationDate": timestamp(t.created),
                "LastModifiedDate": timestamp(t.modified),
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert("Terms".into(), json!(list));
    if let Some(next) = page.next {
        out.insert("NextToken".into(), json!(next));
    }
    Ok(Value::Object(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateTermsRequest {
    user_pool_id: String,
    terms_id: String,
    terms_name: Option<String>,
    terms_source: Option<String>,
    enforcement: Option<String>,
    links: Option<BTreeMap<String, String>>,
}

pub async fn update_terms(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: UpdateTermsRequest = parse(body)?;
    check_links(req.links.as_ref())?;
    let terms = svc
        .update_terms(
            &req.user_pool_id,
            &req.terms_id,
            TermsInput {
                terms_name: req.terms_name,
                terms_source: req.terms_source,
                enforcement: req.enforcement,
                links: req.links,
            },
        )
        .await?;
    Ok(json!({"Terms": terms_out(&req.user_pool_id, &terms)}))
}

pub async fn delete_terms(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: TermsIdRequest = parse(body)?;
    svc.delete_terms(&req.user_pool_id, &req.terms_id).await?;
    Ok(json!({}))
}

// --------------------------------------------------------------- branding

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssetType {
    category: String,
    color_mode: String,
    extension: String,
    bytes: Option<String>,
    resource_id: Option<String>,
}

fn assets_in(list: Option<Vec<AssetType>>) -> Result<Option<Vec<BrandingAsset>>, ApiError> {
    let Some(list) = list else { return Ok(None) };
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.into_iter().enumerate() {
        if let Some(b64) = &a.bytes {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| {
                    ApiError::serialization(format!(
                        "Invalid request: assets.{}.member.bytes is not valid Base64.",
                        i + 1
                    ))
                })?;
            if decoded.len() > MAX_ASSET_BYTES {
                return Err(ApiError::invalid_parameter(format!(
                    "1 validation error detected: Value at 'assets.{}.member.bytes' failed to satisfy constraint: Member must have length less than or equal to {MAX_ASSET_BYTES}",
                    i + 1
                )));
            }
        }
        out.push(BrandingAsset {
            category: a.category,
            color_mode: a.color_mode,
            extension: a.extension,
            bytes: a.bytes,
            resource_id: a.resource_id,
        });
    }
    Ok(Some(out))
}

/// A style as the API shows it; `merged` (ReturnMergedResources) shows its
/// Settings over Cognito's default style document.
fn branding_out(pool_id: &str, b: &ManagedLoginBranding, merged: bool) -> Value {
    let mut m = Map::new();
    m.insert("ManagedLoginBrandingId".into(), json!(b.branding_id));
    m.insert("UserPoolId".into(), json!(pool_id));
    m.insert(
        "UseCognitoProvidedValues".into(),
        json!(b.use_cognito_provided_values),
    );
    if merged {
        m.insert(
            "Settings".into(),
            merged_style_settings(b.settings.as_ref()),
        );
    } else if let Some(settings) = &b.settings {
        m.insert("Settings".into(), settings.clone());
    }
    let assets: Vec<Value> = b
        .assets
        .iter()
        .map(|a| {
            let mut o = Map::new();
            o.insert("Category".into(), json!(a.category));
            o.insert("ColorMode".into(), json!(a.color_mode));
            o.insert("Extension".into(), json!(a.extension));
            if let Some(bytes) = &a.bytes {
                o.insert("Bytes".into(), json!(bytes));
            }
            if let Some(id) = &a.resource_id {
                o.insert("ResourceId".into(), json!(id));
            }
            Value::Object(o)
        })
        .collect();
    m.insert("Assets".into(), json!(assets));
    m.insert("CreationDate".into(), timestamp(b.created));
    m.insert("LastModifiedDate".into(), timestamp(b.modified));
    Value::Object(m)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateManagedLoginBrandingRequest {
    user_pool_id: String,
    client_id: String,
    use_cognito_provided_values: Option<bool>,
    settings: Option<Value>,
    assets: Option<Vec<AssetType>>,
}

pub async fn create_managed_login_branding(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: CreateManagedLoginBrandingRequest = parse(body)?;
    let input = BrandingInput {
        use_cognito_provided_values: req.use_cognito_provided_values.unwrap_or(false),
        settings: req.settings,
        assets: assets_in(req.assets)?,
    };
    let style = svc
        .create_managed_login_branding(&req.user_pool_id, &req.client_id, input)
        .await?;
    Ok(json!({"ManagedLoginBranding": branding_out(&req.user_pool_id, &style, false)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeManagedLoginBrandingRequest {
    user_pool_id: String,
    managed_login_branding_id: String,
    return_merged_resources: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeBrandingByClientRequest {
    user_pool_id: String,
    client_id: String,
    return_merged_resources: Option<bool>,
}

pub async fn describe_managed_login_branding(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: DescribeManagedLoginBrandingRequest = parse(body)?;
    let style = svc
        .describe_managed_login_branding(&req.user_pool_id, &req.managed_login_branding_id)
        .await?;
    let merged = req.return_merged_resources.unwrap_or(false);
    Ok(json!({"ManagedLoginBranding": branding_out(&req.user_pool_id, &style, merged)}))
}

pub async fn describe_managed_login_branding_by_client(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: DescribeBrandingByClientRequest = parse(body)?;
    let style = svc
        .describe_managed_login_branding_by_client(&req.user_pool_id, &req.client_id)
        .await?;
    let merged = req.return_merged_resources.unwrap_or(false);
    Ok(json!({"ManagedLoginBranding": branding_out(&req.user_pool_id, &style, merged)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateManagedLoginBrandingRequest {
    user_pool_id: String,
    managed_login_branding_id: String,
    use_cognito_provided_values: Option<bool>,
    settings: Option<Value>,
    assets: Option<Vec<AssetType>>,
}

pub async fn update_managed_login_branding(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: UpdateManagedLoginBrandingRequest = parse(body)?;
    let input = BrandingInput {
        use_cognito_provided_values: req.use_cognito_provided_values.unwrap_or(false),
        settings: req.settings,
        assets: assets_in(req.assets)?,
    };
    let style = svc
        .update_managed_login_branding(&req.user_pool_id, &req.managed_login_branding_id, input)
        .await?;
    Ok(json!({"ManagedLoginBranding": branding_out(&req.user_pool_id, &style, false)}))
}

pub async fn delete_managed_login_branding(
    svc: &UserPools,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req: DescribeManagedLoginBrandingRequest = parse(body)?;
    svc.delete_managed_login_branding(&req.user_pool_id, &req.managed_login_branding_id)
        .await?;
    Ok(json!({}))
}
