//! App clients: create (no secret by default), view (a new secret shown
//! once), edit, delete.

use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use minijinja::context;
use serde_json::{json, Map, Value};

use crate::pools::{crumbs_pool, describe};
use crate::{encode, form_error, js, Auth, Fields, Posted, Shared};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/console/pools/{pool}/clients/new",
            get(new_form).post(create),
        )
        .route("/console/pools/{pool}/clients/{client}", get(view))
        .route(
            "/console/pools/{pool}/clients/{client}/edit",
            get(edit_form).post(update),
        )
        .route(
            "/console/pools/{pool}/clients/{client}/delete",
            get(delete_form).post(delete),
        )
}

const FLOWS: &[&str] = &[
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_AUTH",
];
const OAUTH_FLOWS: &[&str] = &["code", "implicit", "client_credentials"];
const SCOPES: &[&str] = &[
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

const FIELDS: &[(&str, &str)] = &[
    ("client_name", "clientName"),
    ("access_validity", "accessTokenValidity"),
    ("id_validity", "idTokenValidity"),
    ("refresh_validity", "refreshTokenValidity"),
    ("callback_urls", "callbackURLs"),
    ("callback_urls", "redirect"),
    ("logout_urls", "logoutURLs"),
    ("scopes", "scope"),
    ("oauth_flows", "oauth"),
    ("flows", "explicitAuthFlows"),
];

fn client_href(pool_id: &str, client_id: &str) -> String {
    format!(
        "/console/pools/{}/clients/{}",
        encode(pool_id),
        encode(client_id)
    )
}

async fn pool_name(auth: &Auth, pool_id: &str) -> Result<String, Response> {
    Ok(describe(auth, pool_id).await?["Name"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

fn defaults() -> Value {
    json!({
        "flows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "access_validity": "60",
        "id_validity": "60",
        "refresh_validity": "30",
        "oauth_flows": [],
        "scopes": ["openid", "email", "profile"],
        "prevent_errors": "on",
        "revocation": "on",
    })
}

#[allow(clippy::too_many_arguments)]
fn render_form(
    auth: &Auth,
    pool_id: &str,
    pool_name: &str,
    client: Option<(&str, &str)>,
    values: Value,
    err: Option<minijinja::Value>,
) -> Response {
    let mut crumbs = crumbs_pool(pool_id, pool_name);
    let (title, action) = match client {
        None => {
            crumbs.push(json!({"label": "Create app client"}));
            (
                "Create app client".to_owned(),
                format!("/console/pools/{}/clients/new", encode(pool_id)),
            )
        }
        Some((id, name)) => {
            crumbs.push(json!({"label": name, "href": client_href(pool_id, id)}));
            crumbs.push(json!({"label": "Edit"}));
            (
                format!("Edit {name}"),
                format!("{}/edit", client_href(pool_id, id)),
            )
        }
    };
    auth.page(
        "client_form.html",
        context! {
            title => title, action => action, crumbs => js(crumbs), v => js(values), err => err,
            editing => client.is_some(), flows => js(FLOWS), oauth_flows => js(OAUTH_FLOWS), scopes => js(SCOPES),
            cancel => format!("/console/pools/{}", encode(pool_id)),
        },
    )
}

fn form_values(form: &Fields) -> Value {
    let mut v = Value::Object(form.values());
    v["flows"] = json!(form.all("flows"));
    v["oauth_flows"] = json!(form.all("oauth_flows"));
    v["scopes"] = json!(form.all("scopes"));
    v
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn number(form: &Fields, name: &str, fallback: i64) -> Value {
    match form.opt(name) {
        None => json!(fallback),
        Some(text) => text
            .parse::<i64>()
            .map(|n| json!(n))
            .unwrap_or_else(|_| json!(text)),
    }
}

/// The members the form sets, on top of `base`.
fn apply_form(base: &mut Value, form: &Fields) {
    base["ClientName"] = json!(form.get("client_name").trim());
    base["ExplicitAuthFlows"] = json!(form.all("flows"));
    base["AccessTokenValidity"] = number(form, "access_validity", 60);
    base["IdTokenValidity"] = number(form, "id_validity", 60);
    base["RefreshTokenValidity"] = number(form, "refresh_validity", 30);
    base["TokenValidityUnits"] =
        json!({"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"});
    let oauth_flows = form.all("oauth_flows");
    let callbacks = lines(form.get("callback_urls"));
    let logouts = lines(form.get("logout_urls"));
    let object = base.as_object_mut();
    if let Some(m) = object {
        for key in [
            "AllowedOAuthFlows",
            "AllowedOAuthScopes",
            "CallbackURLs",
            "LogoutURLs",
            "AllowedOAuthFlowsUserPoolClient",
        ] {
            m.remove(key);
        }
    }
    if !oauth_flows.is_empty() {
        base["AllowedOAuthFlows"] = json!(oauth_flows);
        base["AllowedOAuthScopes"] = json!(form.all("scopes"));
        base["AllowedOAuthFlowsUserPoolClient"] = json!(true);
        if base["SupportedIdentityProviders"]
            .as_array()
            .is_none_or(|a| a.is_empty())
        {
            base["SupportedIdentityProviders"] = json!(["COGNITO"]);
        }
    }
    if !callbacks.is_empty() {
        base["CallbackURLs"] = json!(callbacks);
    }
    if !logouts.is_empty() {
        base["LogoutURLs"] = json!(logouts);
    }
    base["PreventUserExistenceErrors"] = json!(if form.checked("prevent_errors") {
        "ENABLED"
    } else {
        "LEGACY"
    });
    base["EnableTokenRevocation"] = json!(form.checked("revocation"));
}

async fn new_form(auth: Auth, Path(pool_id): Path<String>) -> Response {
    let name = match pool_name(&auth, &pool_id).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    render_form(&auth, &pool_id, &name, None, defaults(), None)
}

async fn create(Path(pool_id): Path<String>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let mut request =
        json!({"UserPoolId": pool_id, "GenerateSecret": form.checked("generate_secret")});
    apply_form(&mut request, &form);
    match auth.call("CreateUserPoolClient", request).await {
        Ok(answer) => {
            let client = &answer["UserPoolClient"];
            let id = client["ClientId"].as_str().unwrap_or_default();
            let name = client["ClientName"].as_str().unwrap_or_default();
            auth.audit("CreateUserPoolClient", &pool_id, id);
            if let Some(secret) = client["ClientSecret"].as_str() {
                auth.set_secret(secret.to_owned());
            }
            auth.done(
                &client_href(&pool_id, id),
                format!("App client {name} created."),
            )
        }
        Err(e) => {
            let name = match pool_name(&auth, &pool_id).await {
                Ok(n) => n,
                Err(r) => return r,
            };
            let mut values = form_values(&form);
            if form.checked("generate_secret") {
                values["generate_secret"] = json!("on");
            }
            render_form(
                &auth,
                &pool_id,
                &name,
                None,
                values,
                Some(form_error(&e, FIELDS)),
            )
        }
    }
}

async fn describe_client(auth: &Auth, pool_id: &str, client_id: &str) -> Result<Value, Response> {
    match auth
        .call(
            "DescribeUserPoolClient",
            json!({"UserPoolId": pool_id, "ClientId": client_id}),
        )
        .await
    {
        Ok(a) => Ok(a["UserPoolClient"].clone()),
        Err(e) => Err(auth.failed(&e)),
    }
}

async fn view(auth: Auth, Path((pool_id, client_id)): Path<(String, String)>) -> Response {
    let described = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let pool = described["Name"].as_str().unwrap_or_default().to_owned();
    let mut client = match describe_client(&auth, &pool_id, &client_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let has_secret = client.get("ClientSecret").is_some_and(|s| !s.is_null());
    // The secret is shown once, on the page after its creation.
    if let Some(m) = client.as_object_mut() {
        m.remove("ClientSecret");
    }
    let secret = auth.take_secret();
    // The hosted UI's sign-in page of this client (a preview of the login page).
    let login = match (
        described["Domain"].as_str(),
        client["CallbackURLs"][0].as_str(),
        client["AllowedOAuthFlows"]
            .as_array()
            .and_then(|f| f.iter().find(|f| *f == "code" || *f == "implicit"))
            .and_then(Value::as_str),
    ) {
        (Some(domain), Some(callback), Some(flow)) => Some(format!(
            "{}/login?client_id={}&response_type={}&redirect_uri={}",
            crate::pools::hosted_ui_base(&auth, domain),
            encode(&client_id),
            if flow == "code" { "code" } else { "token" },
            encode(callback)
        )),
        _ => None,
    };
    let name = client["ClientName"].as_str().unwrap_or_default().to_owned();
    let mut crumbs = crumbs_pool(&pool_id, &pool);
    crumbs.push(json!({"label": &name}));
    let base = client_href(&pool_id, &client_id);
    auth.page(
        "client.html",
        context! {
            title => &name, crumbs => js(crumbs), client => js(&client), base => base,
            secret => secret, has_secret => has_secret, login => login,
            created => crate::date(&client["CreationDate"]),
        },
    )
}

fn values_of(client: &Value) -> Value {
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let text = |v: &Value| {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let on = |b: bool| if b { json!("on") } else { Value::Null };
    json!({
        "client_name": client["ClientName"],
        "flows": list(&client["ExplicitAuthFlows"]),
        "access_validity": client["AccessTokenValidity"].to_string(),
        "id_validity": client["IdTokenValidity"].to_string(),
        "refresh_validity": client["RefreshTokenValidity"].to_string(),
        "oauth_flows": list(&client["AllowedOAuthFlows"]),
        "scopes": list(&client["AllowedOAuthScopes"]),
        "callback_urls": text(&client["CallbackURLs"]),
        "logout_urls": text(&client["LogoutURLs"]),
        "prevent_errors": on(client["PreventUserExistenceErrors"] == "ENABLED"),
        "revocation": on(client["EnableTokenRevocation"].as_bool() != Some(false)),
    })
}

/// The description's members in units of minutes/days, as the form shows them.
fn in_form_units(client: &Value) -> Value {
    let mut c = client.clone();
    let unit = |k: &str, default: &str| {
        client["TokenValidityUnits"][k]
            .as_str()
            .unwrap_or(default)
            .to_owned()
    };
    let secs = |n: &Value, u: &str| -> Option<i64> {
        let n = n.as_i64()?;
        Some(match u {
            "seconds" => n,
            "minutes" => n * 60,
            "hours" => n * 3600,
            _ => n * 86_400,
        })
    };
    if let Some(s) = secs(
        &client["AccessTokenValidity"],
        &unit("AccessToken", "hours"),
    ) {
        c["AccessTokenValidity"] = json!(s / 60);
    }
    if let Some(s) = secs(&client["IdTokenValidity"], &unit("IdToken", "hours")) {
        c["IdTokenValidity"] = json!(s / 60);
    }
    if let Some(s) = secs(
        &client["RefreshTokenValidity"],
        &unit("RefreshToken", "days"),
    ) {
        c["RefreshTokenValidity"] = json!(s / 86_400);
    }
    c
}

async fn edit_form(auth: Auth, Path((pool_id, client_id)): Path<(String, String)>) -> Response {
    let pool = match pool_name(&auth, &pool_id).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let client = match describe_client(&auth, &pool_id, &client_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let name = client["ClientName"].as_str().unwrap_or_default().to_owned();
    render_form(
        &auth,
        &pool_id,
        &pool,
        Some((&client_id, &name)),
        values_of(&in_form_units(&client)),
        None,
    )
}

/// UpdateUserPoolClient's members (what it does not name returns to its default).
const UPDATABLE: &[&str] = &[
    "ClientName",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "AnalyticsConfiguration",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
    "RefreshTokenRotation",
];

async fn update(Path((pool_id, client_id)): Path<(String, String)>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let client = match describe_client(&auth, &pool_id, &client_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut request = Map::new();
    request.insert("UserPoolId".into(), json!(pool_id));
    request.insert("ClientId".into(), json!(client_id));
    for key in UPDATABLE {
        if let Some(v) = client.get(*key).filter(|v| !v.is_null()) {
            request.insert((*key).into(), v.clone());
        }
    }
    let mut request = Value::Object(request);
    apply_form(&mut request, &form);
    // A default redirect URI that is no longer a callback URL would be refused.
    let default_kept = request["DefaultRedirectURI"].as_str().is_some_and(|d| {
        request["CallbackURLs"]
            .as_array()
            .is_some_and(|c| c.iter().any(|u| u == d))
    });
    if !default_kept {
        if let Some(m) = request.as_object_mut() {
            m.remove("DefaultRedirectURI");
        }
    }
    if let Err(e) = auth.call("UpdateUserPoolClient", request).await {
        let pool = match pool_name(&auth, &pool_id).await {
            Ok(n) => n,
            Err(r) => return r,
        };
        let name = client["ClientName"].as_str().unwrap_or_default().to_owned();
        return render_form(
            &auth,
            &pool_id,
            &pool,
            Some((&client_id, &name)),
            form_values(&form),
            Some(form_error(&e, FIELDS)),
        );
    }
    auth.audit("UpdateUserPoolClient", &pool_id, &client_id);
    auth.done(&client_href(&pool_id, &client_id), "App client updated.")
}

async fn delete_form(auth: Auth, Path((pool_id, client_id)): Path<(String, String)>) -> Response {
    let client = match describe_client(&auth, &pool_id, &client_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    confirm(&auth, &pool_id, &client_id, &client, None)
}

fn confirm(
    auth: &Auth,
    pool_id: &str,
    client_id: &str,
    client: &Value,
    err: Option<minijinja::Value>,
) -> Response {
    let name = client["ClientName"].as_str().unwrap_or_default();
    auth.page(
        "confirm.html",
        context! {
            title => format!("Delete app client {name}"),
            message => format!("Applications using the client id {client_id} can no longer sign users in, and the tokens issued to it stop working."),
            err => err,
            action => format!("{}/delete", client_href(pool_id, client_id)),
            cancel => client_href(pool_id, client_id),
            button => "Delete app client",
        },
    )
}

async fn delete(Path((pool_id, client_id)): Path<(String, String)>, posted: Posted) -> Response {
    let Posted { auth, .. } = posted;
    match auth
        .call(
            "DeleteUserPoolClient",
            json!({"UserPoolId": pool_id, "ClientId": client_id}),
        )
        .await
    {
        Ok(_) => {
            auth.audit("DeleteUserPoolClient", &pool_id, &client_id);
            auth.done(
                &format!("/console/pools/{}", encode(&pool_id)),
                "App client deleted.",
            )
        }
        Err(e) => match describe_client(&auth, &pool_id, &client_id).await {
            Ok(c) => confirm(&auth, &pool_id, &client_id, &c, Some(form_error(&e, &[]))),
            Err(r) => r,
        },
    }
}
