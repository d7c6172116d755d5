//! Groups: list, create, edit (description, precedence), members, delete.

use axum::extract::{Path, Query};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::pools::{crumbs_pool, describe};
use crate::{encode, form_error, js, Auth, Fields, Posted, Shared};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/console/pools/{pool}/groups", get(list).post(create))
        .route(
            "/console/pools/{pool}/groups/{group}",
            get(view).post(update),
        )
        .route(
            "/console/pools/{pool}/groups/{group}/members",
            post(add_member),
        )
        .route(
            "/console/pools/{pool}/groups/{group}/members/remove",
            post(remove_member),
        )
        .route(
            "/console/pools/{pool}/groups/{group}/delete",
            get(delete_form).post(delete),
        )
}

const FIELDS: &[(&str, &str)] = &[
    ("group_name", "groupName"),
    ("description", "description"),
    ("precedence", "precedence"),
    ("username", "username"),
    ("username", "user"),
];

fn groups_href(pool_id: &str) -> String {
    format!("/console/pools/{}/groups", encode(pool_id))
}

fn group_href(pool_id: &str, group: &str) -> String {
    format!("{}/{}", groups_href(pool_id), encode(group))
}

#[derive(Deserialize)]
struct PageQuery {
    token: Option<String>,
}

fn precedence(form: &Fields, request: &mut Value) {
    if let Some(text) = form.opt("precedence") {
        request["Precedence"] = text
            .parse::<i64>()
            .map(|n| json!(n))
            .unwrap_or_else(|_| json!(text));
    }
}

async fn list(auth: Auth, Path(pool_id): Path<String>, Query(q): Query<PageQuery>) -> Response {
    render_list(&auth, &pool_id, q.token.as_deref(), Value::Null, None).await
}

async fn render_list(
    auth: &Auth,
    pool_id: &str,
    token: Option<&str>,
    values: Value,
    err: Option<minijinja::Value>,
) -> Response {
    let pool = match describe(auth, pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let name = pool["Name"].as_str().unwrap_or_default();
    let mut request = json!({"UserPoolId": pool_id, "Limit": 60});
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        request["NextToken"] = json!(t);
    }
    let answer = match auth.call("ListGroups", request).await {
        Ok(a) => a,
        Err(e) => return auth.failed(&e),
    };
    let groups: Vec<Value> = answer["Groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            let n = g["GroupName"].as_str().unwrap_or_default();
            json!({"name": n, "href": group_href(pool_id, n), "description": g["Description"], "precedence": g["Precedence"]})
        })
        .collect();
    let next = answer["NextToken"]
        .as_str()
        .map(|t| format!("{}?token={}", groups_href(pool_id), encode(t)));
    let mut crumbs = crumbs_pool(pool_id, name);
    crumbs.push(json!({"label": "Groups"}));
    auth.page(
        "groups.html",
        context! {
            title => format!("Groups of {name}"), crumbs => js(crumbs), tab => "groups",
            base => format!("/console/pools/{}", encode(pool_id)),
            groups => js(groups), next => next, v => js(values), err => err,
            action => groups_href(pool_id),
        },
    )
}

async fn create(Path(pool_id): Path<String>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let group = form.get("group_name").trim().to_owned();
    let mut request = json!({"UserPoolId": pool_id, "GroupName": group});
    if let Some(d) = form.opt("description") {
        request["Description"] = json!(d);
    }
    precedence(&form, &mut request);
    match auth.call("CreateGroup", request).await {
        Ok(_) => {
            auth.audit("CreateGroup", &pool_id, &group);
            auth.done(
                &group_href(&pool_id, &group),
                format!("Group {group} created."),
            )
        }
        Err(e) => {
            render_list(
                &auth,
                &pool_id,
                None,
                Value::Object(form.values()),
                Some(form_error(&e, FIELDS)),
            )
            .await
        }
    }
}

async fn render_group(
    auth: &Auth,
    pool_id: &str,
    group: &str,
    values: Option<Value>,
    err: Option<minijinja::Value>,
    member_err: Option<minijinja::Value>,
) -> Response {
    let pool = match describe(auth, pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let g = match auth
        .call(
            "GetGroup",
            json!({"UserPoolId": pool_id, "GroupName": group}),
        )
        .await
    {
        Ok(a) => a["Group"].clone(),
        Err(e) => return auth.failed(&e),
    };
    let members = match auth
        .call(
            "ListUsersInGroup",
            json!({"UserPoolId": pool_id, "GroupName": group, "Limit": 60}),
        )
        .await
    {
        Ok(a) => a["Users"].as_array().cloned().unwrap_or_default(),
        Err(e) => return auth.failed(&e),
    };
    let members: Vec<Value> = members
        .iter()
        .map(|u| {
            let n = u["Username"].as_str().unwrap_or_default();
            json!({"username": n, "href": format!("/console/pools/{}/users/{}", encode(pool_id), encode(n)), "status": u["UserStatus"]})
        })
        .collect();
    let values = values.unwrap_or_else(|| {
        json!({
            "description": g["Description"],
            "precedence": g["Precedence"].as_i64().map(|p| p.to_string()),
        })
    });
    let name = pool["Name"].as_str().unwrap_or_default();
    let mut crumbs = crumbs_pool(pool_id, name);
    crumbs.push(json!({"label": "Groups", "href": groups_href(pool_id)}));
    crumbs.push(json!({"label": group}));
    auth.page(
        "group.html",
        context! {
            title => group, crumbs => js(crumbs), group => js(g), members => js(members), v => js(values),
            err => err, member_err => member_err, base => group_href(pool_id, group),
        },
    )
}

async fn view(auth: Auth, Path((pool_id, group)): Path<(String, String)>) -> Response {
    render_group(&auth, &pool_id, &group, None, None, None).await
}

async fn update(Path((pool_id, group)): Path<(String, String)>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let mut request = json!({
        "UserPoolId": pool_id,
        "GroupName": group,
        "Description": form.get("description").trim(),
    });
    precedence(&form, &mut request);
    match auth.call("UpdateGroup", request).await {
        Ok(_) => {
            auth.audit("UpdateGroup", &pool_id, &group);
            auth.done(&group_href(&pool_id, &group), "Group updated.")
        }
        Err(e) => {
            render_group(
                &auth,
                &pool_id,
                &group,
                Some(Value::Object(form.values())),
                Some(form_error(&e, FIELDS)),
                None,
            )
            .await
        }
    }
}

async fn add_member(Path((pool_id, group)): Path<(String, String)>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let username = form.get("username").trim().to_owned();
    match auth
        .call(
            "AdminAddUserToGroup",
            json!({"UserPoolId": pool_id, "GroupName": group, "Username": username}),
        )
        .await
    {
        Ok(_) => {
            auth.audit(
                "AdminAddUserToGroup",
                &pool_id,
                &format!("{group}/{username}"),
            );
            auth.done(
                &group_href(&pool_id, &group),
                format!("{username} added to {group}."),
            )
        }
        Err(e) => {
            let err = form_error(&e, &[("username", "")]);
            render_group(&auth, &pool_id, &group, None, None, Some(err)).await
        }
    }
}

async fn remove_member(Path((pool_id, group)): Path<(String, String)>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let username = form.get("username").to_owned();
    match auth
        .call(
            "AdminRemoveUserFromGroup",
            json!({"UserPoolId": pool_id, "GroupName": group, "Username": username}),
        )
        .await
    {
        Ok(_) => {
            auth.audit(
                "AdminRemoveUserFromGroup",
                &pool_id,
                &format!("{group}/{username}"),
            );
            auth.done(
                &group_href(&pool_id, &group),
                format!("{username} removed from {group}."),
            )
        }
        Err(e) => auth.done(
            &group_href(&pool_id, &group),
            format!("{}: {}", e.type_name, e.message),
        ),
    }
}

async fn delete_form(auth: Auth, Path((pool_id, group)): Path<(String, String)>) -> Response {
    confirm(&auth, &pool_id, &group, None)
}

fn confirm(auth: &Auth, pool_id: &str, group: &str, err: Option<minijinja::Value>) -> Response {
    auth.page(
        "confirm.html",
        context! {
            title => format!("Delete group {group}"),
            message => format!("The group {group} is deleted; its members stay, without it. Tokens issued before keep the group until they expire."),
            err => err,
            action => format!("{}/delete", group_href(pool_id, group)),
            cancel => group_href(pool_id, group),
            button => "Delete group",
        },
    )
}

async fn delete(Path((pool_id, group)): Path<(String, String)>, posted: Posted) -> Response {
    let Posted { auth, .. } = posted;
    match auth
        .call(
            "DeleteGroup",
            json!({"UserPoolId": pool_id, "GroupName": group}),
        )
        .await
    {
        Ok(_) => {
            auth.audit("DeleteGroup", &pool_id, &group);
            auth.done(&groups_href(&pool_id), format!("Group {group} deleted."))
        }
        Err(e) => confirm(&auth, &pool_id, &group, Some(form_error(&e, &[]))),
    }
}
