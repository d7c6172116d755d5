//! CreateUserPoolClient, DescribeUserPoolClient, ListUserPoolClients,
//! UpdateUserPoolClient, DeleteUserPoolClient; GetClientToken (the client's own
//! machine-to-machine access token).

use cognate_core::service::NewClient;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::{self, parse, ClientSettingsIn};
use crate::validate::{self, Validator};

#[derive(Deserialize)]
struct CreateUserPoolClientRequest {
    #[serde(rename = "UserPoolId")]
    user_pool_id: String,
    #[serde(rename = "ClientName")]
    client_name: String,
    #[serde(rename = "GenerateSecret")]
    generate_secret: Option<bool>,
    #[serde(rename = "ClientSecret")]
    client_secret: Option<String>,
    #[serde(flatten)]
    settings: ClientSettingsIn,
}

pub async fn create_user_pool_client(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: CreateUserPoolClientRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    if let Some(secret) = &req.client_secret {
        v.len("clientSecret", secret, 24, 64).pattern(
            "clientSecret",
            secret,
            validate::is_client_id(secret),
            "[\\w+]+",
        );
    }
    let mut settings_in = req.settings;
    settings_in.client_name = Some(req.client_name);
    let settings = settings_in.into_settings(&mut v, None);
    v.finish()?;
    let client = svc
        .create_user_pool_client(NewClient {
            pool_id: req.user_pool_id,
            client_id: None,
            generate_secret: req.generate_secret.unwrap_or(false),
            client_secret: req.client_secret,
            settings,
        })
        .await?;
    Ok(json!({"UserPoolClient": shapes::client_out(&client)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientIdRequest {
    user_pool_id: String,
    client_id: String,
}

fn check_ids(req: &ClientIdRequest) -> Result<(), ApiError> {
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::client_id(&mut v, &req.client_id);
    v.finish()
}

pub async fn describe_user_pool_client(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ClientIdRequest = parse(body)?;
    check_ids(&req)?;
    let client = svc
        .describe_user_pool_client(&req.user_pool_id, &req.client_id)
        .await?;
    Ok(json!({"UserPoolClient": shapes::client_out(&client)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUserPoolClientsRequest {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
    client_type: Option<String>,
}

pub async fn list_user_pool_clients(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ListUserPoolClientsRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.range("maxResults", req.max_results, 1, 60).opt_len(
        "nextToken",
        req.next_token.as_deref(),
        1,
        131_072,
    );
    v.finish()?;
    let page = svc
        .list_user_pool_clients(
            &req.user_pool_id,
            req.max_results.unwrap_or(60) as usize,
            req.next_token.as_deref(),
        )
        .await?;
    // Every client of cognate is REGULAR (made by CreateUserPoolClient or
    // the config file): none was registered dynamically (DCR).
    let dynamic_only = req.client_type.as_deref() == Some("DCR");
    let clients: Vec<Value> = page
        .items
        .iter()
        .filter(|_| !dynamic_only)
        .map(|c| {
            json!({"ClientId": c.client_id, "UserPoolId": c.pool_id, "ClientName": c.settings.client_name})
        })
        .collect();
    let mut out = json!({"UserPoolClients": clients});
    if let (Some(next), Some(obj), false) = (page.next, out.as_object_mut(), dynamic_only) {
        obj.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}

#[derive(Deserialize)]
struct UpdateUserPoolClientRequest {
    #[serde(rename = "UserPoolId")]
    user_pool_id: String,
    #[serde(rename = "ClientId")]
    client_id: String,
    #[serde(flatten)]
    settings: ClientSettingsIn,
}

pub async fn update_user_pool_client(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: UpdateUserPoolClientRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::client_id(&mut v, &req.client_id);
    v.finish()?;
    // Update is a full replacement, but a missing ClientName keeps the old name.
    let current = svc
        .describe_user_pool_client(&req.user_pool_id, &req.client_id)
        .await?;
    let mut v = Validator::new();
    let settings = req
        .settings
        .into_settings(&mut v, Some(&current.settings.client_name));
    v.finish()?;
    let client = svc
        .update_user_pool_client(&req.user_pool_id, &req.client_id, settings)
        .await?;
    Ok(json!({"UserPoolClient": shapes::client_out(&client)}))
}

pub async fn delete_user_pool_client(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ClientIdRequest = parse(body)?;
    check_ids(&req)?;
    svc.delete_user_pool_client(&req.user_pool_id, &req.client_id)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetClientTokenRequest {
    client_id: String,
    secret: String,
    scopes: Option<Vec<String>>,
}

/// GetClientToken: a machine-to-machine access token for an app client with
/// `ALLOW_CLIENT_TOKEN_AUTH`, authorized by its secret (not by SigV4).
pub async fn get_client_token(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: GetClientTokenRequest = parse(body)?;
    let token = svc
        .get_client_token(&req.client_id, &req.secret, req.scopes.as_deref())
        .await?;
    Ok(json!({"ClientAuthenticationResult": {
        "AccessToken": token.access_token,
        "ExpiresIn": token.expires_in,
        "TokenType": "Bearer",
    }}))
}
