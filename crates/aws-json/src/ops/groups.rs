//! CreateGroup, GetGroup, UpdateGroup, ListGroups, DeleteGroup,
//! AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser,
//! ListUsersInGroup.

use cognate_core::model::Group;
use cognate_core::service::GroupFields;
use cognate_core::UserPools;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::shapes::{self, parse};
use crate::validate::{self, Validator};

fn group_out(g: &Group) -> Value {
    let mut m = Map::new();
    m.insert("GroupName".into(), json!(g.name));
    m.insert("UserPoolId".into(), json!(g.pool_id));
    if let Some(d) = &g.description {
        m.insert("Description".into(), json!(d));
    }
    if let Some(r) = &g.role_arn {
        m.insert("RoleArn".into(), json!(r));
    }
    if let Some(p) = g.precedence {
        m.insert("Precedence".into(), json!(p));
    }
    m.insert("LastModifiedDate".into(), shapes::timestamp(g.modified));
    m.insert("CreationDate".into(), shapes::timestamp(g.created));
    Value::Object(m)
}

fn group_name(v: &mut Validator, name: &str) {
    v.len("groupName", name, 1, 128).pattern(
        "groupName",
        name,
        !name.chars().any(char::is_control),
        "[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
    );
}

fn with_token(mut out: Value, key: &str, next: Option<String>) -> Value {
    if let (Some(next), Some(obj)) = (next, out.as_object_mut()) {
        obj.insert(key.into(), json!(next));
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupRequest {
    group_name: String,
    user_pool_id: String,
    description: Option<String>,
    role_arn: Option<String>,
    precedence: Option<i64>,
}

fn check_group_request(req: &GroupRequest) -> Result<GroupFields, ApiError> {
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    group_name(&mut v, &req.group_name);
    v.opt_len("description", req.description.as_deref(), 0, 2048)
        .opt_len("roleArn", req.role_arn.as_deref(), 20, 2048)
        .range("precedence", req.precedence, 0, i64::from(i32::MAX));
    v.finish()?;
    Ok(GroupFields {
        description: req.description.clone(),
        role_arn: req.role_arn.clone(),
        precedence: req.precedence,
    })
}

pub async fn create_group(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: GroupRequest = parse(body)?;
    let fields = check_group_request(&req)?;
    let g = svc
        .create_group(&req.user_pool_id, &req.group_name, fields)
        .await?;
    Ok(json!({"Group": group_out(&g)}))
}

pub async fn update_group(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: GroupRequest = parse(body)?;
    let fields = check_group_request(&req)?;
    let g = svc
        .update_group(&req.user_pool_id, &req.group_name, fields)
        .await?;
    Ok(json!({"Group": group_out(&g)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupIdRequest {
    group_name: String,
    user_pool_id: String,
}

fn check_group_id(req: &GroupIdRequest) -> Result<(), ApiError> {
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    group_name(&mut v, &req.group_name);
    v.finish()
}

pub async fn get_group(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: GroupIdRequest = parse(body)?;
    check_group_id(&req)?;
    let g = svc.get_group(&req.user_pool_id, &req.group_name).await?;
    Ok(json!({"Group": group_out(&g)}))
}

pub async fn delete_group(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: GroupIdRequest = parse(body)?;
    check_group_id(&req)?;
    svc.delete_group(&req.user_pool_id, &req.group_name).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListGroupsRequest {
    user_pool_id: String,
    limit: Option<i64>,
    next_token: Option<String>,
}

fn page_limit(limit: Option<i64>) -> usize {
    match limit {
        None | Some(0) => 60,
        Some(n) => n as usize,
    }
}

pub async fn list_groups(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: ListGroupsRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    v.range("limit", req.limit, 0, 60);
    v.finish()?;
    let page = svc
        .list_groups(
            &req.user_pool_id,
            page_limit(req.limit),
            req.next_token.as_deref(),
        )
        .await?;
    let groups: Vec<Value> = page.items.iter().map(group_out).collect();
    Ok(with_token(
        json!({"Groups": groups}),
        "NextToken",
        page.next,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MembershipRequest {
    user_pool_id: String,
    username: String,
    group_name: String,
}

fn check_membership(req: &MembershipRequest) -> Result<(), ApiError> {
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::username(&mut v, &req.username);
    group_name(&mut v, &req.group_name);
    v.finish()
}

pub async fn admin_add_user_to_group(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: MembershipRequest = parse(body)?;
    check_membership(&req)?;
    svc.admin_add_user_to_group(&req.user_pool_id, &req.username, &req.group_name)
        .await?;
    Ok(json!({}))
}

pub async fn admin_remove_user_from_group(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: MembershipRequest = parse(body)?;
    check_membership(&req)?;
    svc.admin_remove_user_from_group(&req.user_pool_id, &req.username, &req.group_name)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupsForUserRequest {
    user_pool_id: String,
    username: String,
    limit: Option<i64>,
    next_token: Option<String>,
}

pub async fn admin_list_groups_for_user(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: GroupsForUserRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    validate::username(&mut v, &req.username);
    v.range("limit", req.limit, 0, 60);
    v.finish()?;
    let page = svc
        .admin_list_groups_for_user(
            &req.user_pool_id,
            &req.username,
            page_limit(req.limit),
            req.next_token.as_deref(),
        )
        .await?;
    let groups: Vec<Value> = page.items.iter().map(group_out).collect();
    Ok(with_token(
        json!({"Groups": groups}),
        "NextToken",
        page.next,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UsersInGroupRequest {
    user_pool_id: String,
    group_name: String,
    limit: Option<i64>,
    next_token: Option<String>,
}

pub async fn list_users_in_group(svc: &UserPools, body: &[u8]) -> Result<Value, ApiError> {
    let req: UsersInGroupRequest = parse(body)?;
    let mut v = Validator::new();
    validate::pool_id(&mut v, &req.user_pool_id);
    group_name(&mut v, &req.group_name);
    v.range("limit", req.limit, 0, 60);
    v.finish()?;
    let page = svc
        .list_users_in_group(
            &req.user_pool_id,
            &req.group_name,
            page_limit(req.limit),
            req.next_token.as_deref(),
        )
        .await?;
    let users: Vec<Value> = page
        .items
        .iter()
        .map(|u| shapes::user_type_out(u, None))
        .collect();
    Ok(with_token(json!({"Users": users}), "NextToken", page.next))
}
