//! Create/Describe/Update/DeleteUserPoolDomain, and
//! the hosted UI's branding: SetUICustomization, GetUICustomization.

use cognate_core::model::PoolDomain;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::shapes::parse;
use crate::validate::{self, Validator};

const DOMAIN_PATTERN: &str = "^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$";

/// The Domain member: a prefix, or (with a CustomDomainConfig) a host name.
fn domain(v: &mut Validator, value: &str, custom: bool) {
    let ok = if custom {
        cognate_core::service::domains::is_custom_domain(value)
    } else {
        cognate_core::service::domains::is_domain_label(value)
    };
    let max = if custom { 253 } else { 63 };
    v.len("domain", value, 1, max)
        .pattern("domain", value, ok, DOMAIN_PATTERN);
}

/// Where the domain's CNAME would point: this server's host name.
fn cloudfront_domain(svc: &UserPools) -> String {
    let url = &svc.config().public_url;
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    host.rsplit_once(':').map_or(host, |(h, _)| h).to_owned()
}

fn description_out(svc: &UserPools, d: &PoolDomain) -> Value {
    let mut m = Map::new();
    m.insert("UserPoolId".into(), json!(d.pool_id));
    m.insert("AWSAccountId".into(), json!(svc.config().account_id));
    m.insert("Domain".into(), json!(d.domain));
    m.insert("S3Bucket".into(), json!("cognate-hosted-ui"));
    m.insert(
        "CloudFrontDistribution".into(),
        json!(cloudfront_domain(svc)),
    );
    m.insert(
        "Version".into(),
        json!(crate::shapes::version_stamp(d.created)),
    );
    m.insert("Status".into(), json!("ACTIVE"));
    // A prefix domain has an empty CustomDomainConfig, as AWS reports it.
    m.insert(
        "CustomDomainConfig".into(),
        match &d.certificate_arn {
            Some(arn) => json!({"CertificateArn": arn}),
            None => json!({}),
        },
    );
    if let Some(v) = d.managed_login_version {
        m.insert("ManagedLoginVersion".into(), json!(v));
    }
    Value::Object(m)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CustomDomainConfig {
    certificate_arn: String,
}

fn certificate(v: &mut Validator, config: Option<&CustomDomainConfig>) {
    if let Some(c) = config {
        v.len(
            "customDomainConfig.certificateArn",
            &c.certificate_arn,
            20,
            2048,
        );
    }
}

/// The answer of CreateUserPoolDomain and UpdateUserPoolDomain.
fn change_out(svc: &UserPools, d: &PoolDomain) -> Value {
    let mut out = Map::new();
    if let Some(v) = d.managed_login_version {
        out.insert("ManagedLoginVersion".into(), json!(v));
    }
    if d.certificate_arn.is_some() {
        out.insert("CloudFrontDomain".into(), json!(cloudfront_domain(svc)));
    }
    Value::Object(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateDomainRequest {
    domain: String,
    user_pool_id: String,
    custom_domain_config: Option<CustomDomainConfig>,
    managed_login_version: Option<i64>,
}

pub async fn create_user_pool_domain(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: CreateDomainRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    let custom = req.custom_domain_config.is_some();
    if custom {
        domain(&mut v, &req.domain, true);
    } else {
        v.len("domain", &req.domain, 1, 63);
    }
    certificate(&mut v, req.custom_domain_config.as_ref());
    v.finish()?;
    // A prefix with other characters: AWS answers in its own words, not the
    // model's (as users captured it).
    if !custom && !cognate_core::service::domains::is_domain_label(&req.domain) {
        return Err(ApiError::invalid_parameter(format!(
            "The domain name contains an invalid character. Domain names can only contain lower-case letters, numbers, and hyphens. Please enter a different name that follows this format: {DOMAIN_PATTERN}"
        )));
    }
    let d = svc
        .create_user_pool_domain(
            &req.user_pool_id,
            &req.domain,
            req.custom_domain_config.map(|c| c.certificate_arn),
            req.managed_login_version,
        )
        .await?;
    Ok(change_out(svc, &d))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeDomainRequest {
    domain: String,
}

pub async fn describe_user_pool_domain(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DescribeDomainRequest = parse(body)?;
    let mut v = Validator::new();
    v.len("domain", &req.domain, 1, 253);
    v.finish()?;
    let d = svc.describe_user_pool_domain(&req.domain).await?;
    Ok(json!({
        "DomainDescription": d.map_or_else(|| json!({}), |d| description_out(svc, &d)),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteDomainRequest {
    domain: String,
    user_pool_id: String,
}

pub async fn delete_user_pool_domain(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: DeleteDomainRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.len("domain", &req.domain, 1, 253);
    v.finish()?;
    svc.delete_user_pool_domain(&req.user_pool_id, &req.domain)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateDomainRequest {
    domain: String,
    user_pool_id: String,
    custom_domain_config: Option<CustomDomainConfig>,
    managed_login_version: Option<i64>,
}

pub async fn update_user_pool_domain(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: UpdateDomainRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.len("domain", &req.domain, 1, 253);
    certificate(&mut v, req.custom_domain_config.as_ref());
    v.finish()?;
    let d = svc
        .update_user_pool_domain(
            &req.user_pool_id,
            &req.domain,
            req.custom_domain_config.map(|c| c.certificate_arn),
            req.managed_login_version,
        )
        .await?;
    Ok(change_out(svc, &d))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetUiRequest {
    user_pool_id: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default, rename = "CSS")]
    css: Option<String>,
    /// A blob: base64 on the wire.
    #[serde(default)]
    image_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetUiRequest {
    user_pool_id: String,
    #[serde(default)]
    client_id: Option<String>,
}

/// The `UICustomization` member; the logo is served at `ImageUrl`.
fn ui_out(
    svc: &UserPools,
    pool_id: &str,
    client_id: &str,
    ui: Option<&cognate_core::model::UiCustomization>,
) -> Value {
    let mut m = Map::new();
    m.insert("UserPoolId".into(), json!(pool_id));
    m.insert("ClientId".into(), json!(client_id));
    if let Some(ui) = ui {
        if ui.image.is_some() {
            m.insert(
                "ImageUrl".into(),
                json!(format!(
                    "{}/ui-assets/{pool_id}/{client_id}/logo?v={}",
                    svc.config().public_url,
                    ui.modified
                )),
            );
        }
        // As AWS answers (its examples): the CSS and its version stamp, no
        // dates; the stamp stays once the CSS is removed (the Terraform
        // provider notes it as an artifact of AWS's).
        if let Some(css) = &ui.css {
            m.insert("CSS".into(), json!(css));
        }
        m.insert(
            "CSSVersion".into(),
            json!(crate::shapes::version_stamp(ui.modified)),
        );
    }
    Value::Object(m)
}

fn client_id_member(v: &mut Validator, client_id: Option<&str>) {
    if let Some(c) = client_id.filter(|c| *c != "ALL") {
        validate::client_id(v, c);
    }
}

pub async fn set_ui_customization(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    use base64::Engine;
    let req: SetUiRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    client_id_member(&mut v, req.client_id.as_deref());
    v.finish()?;
    let image = match &req.image_file {
        Some(b64) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| {
                    ApiError::from(cognate_core::Error::invalid_parameter(
                        "ImageFile is not valid base64.",
                    ))
                })?,
        ),
        None => None,
    };
    let ui = svc
        .set_ui_customization(&req.user_pool_id, req.client_id.as_deref(), req.css, image)
        .await?;
    Ok(json!({
        "UICustomization": ui_out(svc, &ui.pool_id, &ui.client_id, Some(&ui)),
    }))
}

pub async fn get_ui_customization(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: GetUiRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    client_id_member(&mut v, req.client_id.as_deref());
    v.finish()?;
    let (target, ui) = svc
        .get_ui_customization(&req.user_pool_id, req.client_id.as_deref())
        .await?;
    Ok(json!({
        "UICustomization": ui_out(svc, &req.user_pool_id, &target, ui.as_ref()),
    }))
}
