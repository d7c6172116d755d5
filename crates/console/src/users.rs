//! Users: list with search (ListUsers' Filter) and paging
//! (PaginationToken: a keyset cursor, never an offset), create, view,
//! confirm, disable/enable, reset password, sign out everywhere, delete
//! (disable, reset, sign-out and delete ask on a confirm page first).

use axum::extract::{Path, Query};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::pools::{crumbs_pool, describe};
use crate::{date, encode, form_error, js, Auth, Posted, Shared};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/console/pools/{pool}/users", get(list))
        .route(
            "/console/pools/{pool}/users/new",
            get(new_form).post(create),
        )
        .route("/console/pools/{pool}/users/{username}", get(view))
        .route(
            "/console/pools/{pool}/users/{username}/action",
            post(action),
        )
        .route(
            "/console/pools/{pool}/users/{username}/sessions/revoke",
            post(revoke_session),
        )
        .route(
            "/console/pools/{pool}/users/{username}/delete",
            get(delete_form).post(delete),
        )
        .route(
            "/console/pools/{pool}/users/{username}/confirm/{action}",
            get(confirm_action),
        )
}

/// The actions that ask first: (form value, title, what happens, button).
const CONFIRMED_ACTIONS: &[(&str, &str, &str, &str)] = &[
    (
        "disable",
        "Disable user",
        "The user cannot sign in while disabled, and every token they hold stops working at once. You can enable them again.",
        "Disable user",
    ),
    (
        "reset_password",
        "Reset password",
        "The user's password stops working: they must choose a new one with a code sent to their verified email or phone before they can sign in again.",
        "Reset password",
    ),
    (
        "sign_out",
        "Sign out everywhere",
        "Every refresh token of the user is revoked and their ID and access tokens stop working; they must sign in again on every device.",
        "Sign out everywhere",
    ),
];

/// The confirm page of a destructive action (it posts to `action`).
async fn confirm_action(
    auth: Auth,
    Path((pool_id, username, action)): Path<(String, String, String)>,
) -> Response {
    let Some((value, title, message, button)) =
        CONFIRMED_ACTIONS.iter().find(|(v, ..)| *v == action)
    else {
        return auth.failed(&cognate_aws_json::ApiError::invalid_parameter(
            "Unknown action.",
        ));
    };
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let name = pool["Name"].as_str().unwrap_or_default();
    let mut crumbs = crumbs_pool(&pool_id, name);
    crumbs.push(json!({"label": "Users", "href": users_href(&pool_id)}));
    crumbs.push(json!({"label": &username, "href": user_href(&pool_id, &username)}));
    crumbs.push(json!({"label": title}));
    auth.page(
        "confirm.html",
        context! {
            title => format!("{title}: {username}"),
            crumbs => js(crumbs),
            message => *message,
            action => format!("{}/action", user_href(&pool_id, &username)),
            hidden => js(json!([{"name": "do", "value": value}])),
            cancel => user_href(&pool_id, &username),
            button => *button,
        },
    )
}

/// What the search box can look in: (form value, filter attribute, label).
const SEARCH: &[(&str, &str, &str)] = &[
    ("username", "username", "Username"),
    ("email", "email", "Email"),
    ("phone_number", "phone_number", "Phone number"),
    ("sub", "sub", "User ID (sub)"),
    ("status", "cognito:user_status", "Confirmation status"),
];

const FIELDS: &[(&str, &str)] = &[
    ("temporary_password", "password"),
    ("email", "email"),
    ("username", "username"),
];

#[derive(Deserialize, Default)]
struct ListQuery {
    by: Option<String>,
    q: Option<String>,
    exact: Option<String>,
    token: Option<String>,
}

fn users_href(pool_id: &str) -> String {
    format!("/console/pools/{}/users", encode(pool_id))
}

fn user_href(pool_id: &str, username: &str) -> String {
    format!("{}/{}", users_href(pool_id), encode(username))
}

/// A filter value in ListUsers' quoted form.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn attribute<'a>(user: &'a Value, name: &str) -> Option<&'a str> {
    user["Attributes"]
        .as_array()
        .or_else(|| user["UserAttributes"].as_array())
        .into_iter()
        .flatten()
        .find(|a| a["Name"] == name)
        .and_then(|a| a["Value"].as_str())
}

async fn list(auth: Auth, Path(pool_id): Path<String>, Query(q): Query<ListQuery>) -> Response {
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let name = pool["Name"].as_str().unwrap_or_default().to_owned();
    let by = q.by.clone().unwrap_or_else(|| "username".into());
    let text = q.q.clone().unwrap_or_default();
    let exact = q.exact.is_some() || by == "status";
    let mut request = json!({"UserPoolId": pool_id, "Limit": 50});
    if !text.trim().is_empty() {
        let attr = SEARCH
            .iter()
            .find(|(v, _, _)| *v == by)
            .map(|(_, a, _)| *a)
            .unwrap_or("username");
        let op = if exact { "=" } else { "^=" };
        request["Filter"] = json!(format!("{attr} {op} {}", quoted(text.trim())));
    }
    if let Some(t) = q.token.as_deref().filter(|t| !t.is_empty()) {
        request["PaginationToken"] = json!(t);
    }
    let (users, next, err) = match auth.call("ListUsers", request).await {
        Ok(a) => {
            let users: Vec<Value> = a["Users"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|u| {
                    let username = u["Username"].as_str().unwrap_or_default();
                    json!({
                        "username": username,
                        "href": user_href(&pool_id, username),
                        "email": attribute(u, "email"),
                        "status": u["UserStatus"],
                        "enabled": u["Enabled"],
                        "created": date(&u["UserCreateDate"]),
                    })
                })
                .collect();
            let next = a["PaginationToken"].as_str().map(|t| {
                format!(
                    "{}?by={}&q={}{}&token={}",
                    users_href(&pool_id),
                    encode(&by),
                    encode(&text),
                    if q.exact.is_some() { "&exact=on" } else { "" },
                    encode(t)
                )
            });
            (users, next, None)
        }
        Err(e) => (Vec::new(), None, Some(form_error(&e, &[("q", "filter")]))),
    };
    let mut crumbs = crumbs_pool(&pool_id, &name);
    crumbs.push(json!({"label": "Users"}));
    let search: Vec<Value> = SEARCH
        .iter()
        .map(|(v, _, l)| json!({"value": v, "label": l}))
        .collect();
    auth.page(
        "users.html",
        context! {
            title => format!("Users of {name}"), crumbs => js(crumbs), tab => "users",
            base => format!("/console/pools/{}", encode(&pool_id)),
            users => js(users), next => next, err => err, search => js(search),
            by => by, q => text, exact => q.exact.is_some(),
            first_page => q.token.as_deref().is_some_and(|t| !t.is_empty()).then(|| users_href(&pool_id)),
        },
    )
}

fn render_new(
    auth: &Auth,
    pool_id: &str,
    name: &str,
    values: Value,
    err: Option<minijinja::Value>,
) -> Response {
    let mut crumbs = crumbs_pool(pool_id, name);
    crumbs.push(json!({"label": "Users", "href": users_href(pool_id)}));
    crumbs.push(json!({"label": "Create user"}));
    auth.page(
        "user_new.html",
        context! {
            title => "Create user", crumbs => js(crumbs), v => js(values), err => err,
            action => format!("{}/new", users_href(pool_id)),
            cancel => users_href(pool_id),
        },
    )
}

async fn new_form(auth: Auth, Path(pool_id): Path<String>) -> Response {
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let name = pool["Name"].as_str().unwrap_or_default();
    render_new(&auth, &pool_id, name, json!({"email_verified": "on"}), None)
}

async fn create(Path(pool_id): Path<String>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let username = form.get("username").trim().to_owned();
    let mut request = json!({"UserPoolId": pool_id, "Username": username});
    let mut attributes = Vec::new();
    if let Some(email) = form.opt("email") {
        attributes.push(json!({"Name": "email", "Value": email}));
        if form.checked("email_verified") {
            attributes.push(json!({"Name": "email_verified", "Value": "true"}));
        }
    }
    if let Some(phone) = form.opt("phone_number") {
        attributes.push(json!({"Name": "phone_number", "Value": phone}));
    }
    if !attributes.is_empty() {
        request["UserAttributes"] = Value::Array(attributes);
    }
    if !form.get("temporary_password").is_empty() {
        request["TemporaryPassword"] = json!(form.get("temporary_password"));
    }
    if form.checked("send_invitation") {
        request["DesiredDeliveryMediums"] = json!(["EMAIL"]);
    } else {
        request["MessageAction"] = json!("SUPPRESS");
    }
    match auth.call("AdminCreateUser", request).await {
        Ok(a) => {
            let created = a["User"]["Username"]
                .as_str()
                .unwrap_or(&username)
                .to_owned();
            auth.audit("AdminCreateUser", &pool_id, &created);
            auth.done(
                &user_href(&pool_id, &created),
                format!("User {created} created."),
            )
        }
        Err(e) => {
            let pool = match describe(&auth, &pool_id).await {
                Ok(p) => p,
                Err(r) => return r,
            };
            let name = pool["Name"].as_str().unwrap_or_default();
            render_new(
                &auth,
                &pool_id,
                name,
                Value::Object(form.values()),
                Some(form_error(&e, FIELDS)),
            )
        }
    }
}

async fn view(auth: Auth, Path((pool_id, username)): Path<(String, String)>) -> Response {
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let user = match auth
        .call(
            "AdminGetUser",
            json!({"UserPoolId": pool_id, "Username": username}),
        )
        .await
    {
        Ok(u) => u,
        Err(e) => return auth.failed(&e),
    };
    let groups = match auth
        .call(
            "AdminListGroupsForUser",
            json!({"UserPoolId": pool_id, "Username": username, "Limit": 60}),
        )
        .await
    {
        Ok(g) => g["Groups"].as_array().cloned().unwrap_or_default(),
        Err(e) => return auth.failed(&e),
    };
    let groups: Vec<Value> = groups
        .iter()
        .map(|g| {
            let n = g["GroupName"].as_str().unwrap_or_default();
            json!({"name": n, "href": format!("/console/pools/{}/groups/{}", encode(&pool_id), encode(n))})
        })
        .collect();
    // The user's token sessions (one per live refresh token).
    let mut tracking = true;
    let sessions: Vec<Value> = match auth
        .call(
            "AdminListUserSessions",
            json!({"UserPoolId": pool_id, "Username": username}),
        )
        .await
    {
        Ok(a) => a["Sessions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                json!({
                    "id": s["SessionId"],
                    "client": s["ClientId"],
                    "created": date(&s["CreateDate"]),
                    "active": date(&s["LastActiveDate"]),
                })
            })
            .collect(),
        // Session tracking is a setting of the pool (SetUserPoolSessionConfiguration).
        Err(e) if e.type_name == "OperationNotEnabledException" => {
            tracking = false;
            Vec::new()
        }
        Err(e) => return auth.failed(&e),
    };
    // The user's recorded auth events (kept when the pool's threat
    // protection, AdvancedSecurityMode, is AUDIT or ENFORCED).
    let mut recorded = true;
    let events: Vec<Value> = match auth
        .call(
            "AdminListUserAuthEvents",
            json!({"UserPoolId": pool_id, "Username": username, "MaxResults": 20}),
        )
        .await
    {
        Ok(a) => a["AuthEvents"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let challenges: Vec<String> = e["ChallengeResponses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        format!(
                            "{}: {}",
                            c["ChallengeName"].as_str().unwrap_or_default(),
                            c["ChallengeResponse"].as_str().unwrap_or_default()
                        )
                    })
                    .collect();
                json!({
                    "at": date(&e["CreationDate"]),
                    "type": e["EventType"],
                    "response": e["EventResponse"],
                    "challenges": challenges.join(", "),
                    "ip": e["EventContextData"]["IpAddress"],
                    "feedback": e["EventFeedback"]["FeedbackValue"],
                    "risk": risk_text(&e["EventRisk"]),
                    "place": place_text(&e["EventContextData"]),
                })
            })
            .collect(),
        Err(e) if e.type_name == "UserPoolAddOnNotEnabledException" => {
            recorded = false;
            Vec::new()
        }
        Err(e) => return auth.failed(&e),
    };
    // This console's changes to the user.
    let changes = auth.console.activity.recent(&auth.session.grant, 20, |c| {
        c.pool_id == pool_id
            && (c.object == username || c.object.starts_with(&format!("{username}/")))
    });
    let name = pool["Name"].as_str().unwrap_or_default();
    let mut crumbs = crumbs_pool(&pool_id, name);
    crumbs.push(json!({"label": "Users", "href": users_href(&pool_id)}));
    crumbs.push(json!({"label": &username}));
    auth.page(
        "user.html",
        context! {
            title => &username, crumbs => js(crumbs), user => js(&user), groups => js(groups),
            sessions => js(sessions), tracking => tracking,
            events => js(events), recorded => recorded,
            changes => js(crate::activity::rows(&changes)),
            sub => attribute(&user, "sub"),
            created => date(&user["UserCreateDate"]),
            modified => date(&user["UserLastModifiedDate"]),
            base => user_href(&pool_id, &username),
        },
    )
}

async fn action(Path((pool_id, username)): Path<(String, String)>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let (operation, done) = match form.get("do") {
        "confirm" => ("AdminConfirmSignUp", "User confirmed."),
        "disable" => (
            "AdminDisableUser",
            "User disabled: sign-in is refused and their tokens stop working.",
        ),
        "enable" => ("AdminEnableUser", "User enabled."),
        "reset_password" => (
            "AdminResetUserPassword",
            "Password reset: the user must set a new one with a code sent to them.",
        ),
        "sign_out" => (
            "AdminUserGlobalSignOut",
            "User signed out everywhere: their refresh tokens are revoked.",
        ),
        _ => {
            return auth.failed(&cognate_aws_json::ApiError::invalid_parameter(
                "Unknown action.",
            ))
        }
    };
    let href = user_href(&pool_id, &username);
    match auth
        .call(
            operation,
            json!({"UserPoolId": pool_id, "Username": username}),
        )
        .await
    {
        Ok(_) => {
            auth.audit(operation, &pool_id, &username);
            auth.done(&href, done)
        }
        Err(e) => auth.done(&href, format!("{}: {}", e.type_name, e.message)),
    }
}

async fn revoke_session(
    Path((pool_id, username)): Path<(String, String)>,
    posted: Posted,
) -> Response {
    let Posted { auth, form } = posted;
    let session = form.get("session_id").to_owned();
    let href = user_href(&pool_id, &username);
    match auth
        .call(
            "AdminRevokeUserSession",
            json!({"UserPoolId": pool_id, "Username": username, "SessionId": session}),
        )
        .await
    {
        Ok(_) => {
            auth.audit(
                "AdminRevokeUserSession",
                &pool_id,
                &format!("{username}/{session}"),
            );
            auth.done(
                &href,
                "Session revoked: its refresh token and tokens stop working.",
            )
        }
        Err(e) => auth.done(&href, format!("{}: {}", e.type_name, e.message)),
    }
}

async fn delete_form(auth: Auth, Path((pool_id, username)): Path<(String, String)>) -> Response {
    confirm(&auth, &pool_id, &username, None)
}

fn confirm(auth: &Auth, pool_id: &str, username: &str, err: Option<minijinja::Value>) -> Response {
    auth.page(
        "confirm.html",
        context! {
            title => format!("Delete user {username}"),
            message => format!("The user {username} and their sessions are deleted for good."),
            err => err,
            action => format!("{}/delete", user_href(pool_id, username)),
            cancel => user_href(pool_id, username),
            button => "Delete user",
        },
    )
}

async fn delete(Path((pool_id, username)): Path<(String, String)>, posted: Posted) -> Response {
    let Posted { auth, .. } = posted;
    match auth
        .call(
            "AdminDeleteUser",
            json!({"UserPoolId": pool_id, "Username": username}),
        )
        .await
    {
        Ok(_) => {
            auth.audit("AdminDeleteUser", &pool_id, &username);
            auth.done(&users_href(&pool_id), format!("User {username} deleted."))
        }
        Err(e) => confirm(&auth, &pool_id, &username, Some(form_error(&e, &[]))),
    }
}

/// Where an auth event's address is (City, Country), as far as the
/// server's geo-IP database tells.
fn place_text(context: &Value) -> String {
    [&context["City"], &context["Country"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the user page shows of an auth event's EventRisk: the
/// account-takeover level, a compromised password, and whether threat
/// protection blocked the sign-in.
fn risk_text(risk: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(level) = risk["RiskLevel"].as_str() {
        parts.push(format!("{level} risk"));
    }
    if risk["CompromisedCredentialsDetected"].as_bool() == Some(true) {
        parts.push("Compromised password".to_owned());
    }
    if !parts.is_empty() && risk["RiskDecision"].as_str() == Some("Block") {
        parts.push("blocked".to_owned());
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::risk_text;
    use serde_json::json;

    #[test]
    fn risk_column_names_level_find_and_block() {
        let text = |risk| risk_text(&risk);
        assert_eq!(
            text(json!({"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": false})),
            ""
        );
        assert_eq!(
            text(
                json!({"RiskDecision": "AccountTakeover", "RiskLevel": "Medium",
                        "CompromisedCredentialsDetected": false})
            ),
            "Medium risk"
        );
        assert_eq!(
            text(json!({"RiskDecision": "Block", "RiskLevel": "High",
                        "CompromisedCredentialsDetected": true})),
            "High risk, Compromised password, blocked"
        );
        assert_eq!(
            text(json!({"RiskDecision": "Block", "CompromisedCredentialsDetected": true})),
            "Compromised password, blocked"
        );
    }
}
