//! CreateResourceServer, DescribeResourceServer, ListResourceServers,
//! UpdateResourceServer, DeleteResourceServer.

use cognate_core::model::{ResourceServer, ResourceServerScope};
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::shapes::parse;
use crate::validate::{self, Validator};

fn server_out(s: &ResourceServer) -> Value {
    json!({
        "UserPoolId": s.pool_id,
        "Identifier": s.identifier,
        "Name": s.name,
        "Scopes": s.scopes.iter().map(|sc| json!({
            "ScopeName": sc.name,
            "ScopeDescription": sc.description,
        })).collect::<Vec<_>>(),
    })
}

/// `[\x21\x23-\x5B\x5D-\x7E]+`: printable ASCII except space, `"` and `\`.
fn is_identifier_char(c: char) -> bool {
    c.is_ascii_graphic() && c != '"' && c != '\\'
}

fn identifier(v: &mut Validator, value: &str) {
    v.len("identifier", value, 1, 256).pattern(
        "identifier",
        value,
        value.chars().all(is_identifier_char),
        "[\\x21\\x23-\\x5B\\x5D-\\x7E]+",
    );
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScopeIn {
    scope_name: String,
    scope_description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServerRequest {
    user_pool_id: String,
    identifier: String,
    name: String,
    scopes: Option<Vec<ScopeIn>>,
}

fn check_server_request(
    req: ServerRequest,
) -> Result<(ServerRequest, Vec<ResourceServerScope>), ApiError> {
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    identifier(&mut v, &req.identifier);
    v.len("name", &req.name, 1, 256).pattern(
        "name",
        &req.name,
        req.name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c)),
        "[\\w\\s+=,.@-]+",
    );
    let mut scopes = Vec::new();
    if let Some(list) = &req.scopes {
        if list.len() > 100 {
            v.pattern(
                "scopes",
                "",
                false,
                "Member must have length less than or equal to 100",
            );
        }
        for (i, s) in list.iter().enumerate() {
            let member = format!("scopes.{}.member.scopeName", i + 1);
            v.len(&member, &s.scope_name, 1, 256).pattern(
                &member,
                &s.scope_name,
                s.scope_name
                    .chars()
                    .all(|c| is_identifier_char(c) && c != '/'),
                "[\\x21\\x23-\\x2E\\x30-\\x5B\\x5D-\\x7E]+",
            );
            v.len(
                &format!("scopes.{}.member.scopeDescription", i + 1),
                &s.scope_description,
                1,
                256,
            );
            scopes.push(ResourceServerScope {
                name: s.scope_name.clone(),
                description: s.scope_description.clone(),
            });
        }
    }
    v.finish()?;
    Ok((req, scopes))
}

pub async fn create_resource_server(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let (req, scopes) = check_server_request(parse(body)?)?;
    let s = svc
        .create_resource_server(&req.user_pool_id, &req.identifier, &req.name, scopes)
        .await?;
    Ok(json!({"ResourceServer": server_out(&s)}))
}

pub async fn update_resource_server(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let (req, scopes) = check_server_request(parse(body)?)?;
    let s = svc
        .update_resource_server(&req.user_pool_id, &req.identifier, &req.name, scopes)
        .await?;
    Ok(json!({"ResourceServer": server_out(&s)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServerIdRequest {
    user_pool_id: String,
    identifier: String,
}

fn check_server_id(req: &ServerIdRequest) -> Result<(), ApiError> {
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    identifier(&mut v, &req.identifier);
    v.finish()
}

pub async fn describe_resource_server(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ServerIdRequest = parse(body)?;
    check_server_id(&req)?;
    let s = svc
        .describe_resource_server(&req.user_pool_id, &req.identifier)
        .await?;
    Ok(json!({"ResourceServer": server_out(&s)}))
}

pub async fn delete_resource_server(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ServerIdRequest = parse(body)?;
    check_server_id(&req)?;
    svc.delete_resource_server(&req.user_pool_id, &req.identifier)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListServersRequest {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub async fn list_resource_servers(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ListServersRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.range("maxResults", req.max_results, 1, 50).opt_len(
        "nextToken",
        req.next_token.as_deref(),
        1,
        131_072,
    );
    v.finish()?;
    let page = svc
        .list_resource_servers(
            &req.user_pool_id,
            req.max_results.unwrap_or(50) as usize,
            req.next_token.as_deref(),
        )
        .await?;
    let mut out = json!({
        "ResourceServers": page.items.iter().map(server_out).collect::<Vec<_>>(),
    });
    if let (Some(next), Some(obj)) = (page.next, out.as_object_mut()) {
        obj.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}
