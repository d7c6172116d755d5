//! User pools: list, create (reviewed defaults), view, edit, delete.

use axum::extract::{Path, Query};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::{date, encode, form_error, js, Auth, Fields, Posted, Shared};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/console/pools", get(list))
        .route("/console/pools/new", get(new_form).post(create))
        .route("/console/pools/{pool}", get(view))
        .route("/console/pools/{pool}/edit", get(edit_form).post(update))
        .route(
            "/console/pools/{pool}/delete",
            get(delete_form).post(delete),
        )
        .route("/console/pools/{pool}/domain", post(create_domain))
        .route(
            "/console/pools/{pool}/domain/delete",
            get(delete_domain_form).post(delete_domain),
        )
}

/// The members of CreateUserPool/UpdateUserPool the error of a field names.
const FIELDS: &[(&str, &str)] = &[
    ("pool_name", "poolName"),
    ("min_length", "minimumLength"),
    ("temp_days", "temporaryPasswordValidityDays"),
    ("reply_to", "replyToEmailAddress"),
    ("pool_name", "name"),
];

pub(crate) fn crumbs_pool(pool_id: &str, name: &str) -> Vec<Value> {
    vec![
        json!({"label": "User pools", "href": "/console/pools"}),
        json!({"label": name, "href": format!("/console/pools/{}", encode(pool_id))}),
    ]
}

#[derive(Deserialize)]
struct PageQuery {
    next: Option<String>,
}

async fn list(auth: Auth, Query(q): Query<PageQuery>) -> Response {
    let mut request = json!({"MaxResults": 60});
    if let Some(next) = q.next.as_deref().filter(|n| !n.is_empty()) {
        request["NextToken"] = json!(next);
    }
    let answer = match auth.call("ListUserPools", request).await {
        Ok(a) => a,
        Err(e) => return auth.failed(&e),
    };
    let mut pools = Vec::new();
    for p in answer["UserPools"].as_array().into_iter().flatten() {
        let id = p["Id"].as_str().unwrap_or_default();
        // The user count is DescribeUserPool's estimate.
        let users = match auth
            .call("DescribeUserPool", json!({"UserPoolId": id}))
            .await
        {
            Ok(d) => d["UserPool"]["EstimatedNumberOfUsers"].clone(),
            Err(_) => Value::Null,
        };
        pools.push(json!({
            "id": id,
            "href": format!("/console/pools/{}", encode(id)),
            "name": p["Name"],
            "users": users,
            "created": date(&p["CreationDate"]),
        }));
    }
    let next = answer["NextToken"]
        .as_str()
        .map(|t| format!("/console/pools?next={}", encode(t)));
    auth.page(
        "pools.html",
        context! { title => "User pools", pools => js(pools), next => next },
    )
}

/// The create form's defaults (as Cognito's console proposes them).
fn defaults() -> Value {
    json!({
        "sign_in": "username",
        "min_length": "8",
        "upper": "on", "lower": "on", "numbers": "on", "symbols": "on",
        "temp_days": "7",
        "mfa": "OFF",
        "self_signup": "on",
        "required": ["email"],
        "auto_verify": "on",
        "recovery": "on",
    })
}

async fn new_form(auth: Auth) -> Response {
    render_form(&auth, defaults(), None, None)
}

fn render_form(
    auth: &Auth,
    values: Value,
    err: Option<minijinja::Value>,
    pool: Option<(&str, &str)>,
) -> Response {
    let (title, action, crumbs) = match pool {
        None => (
            "Create user pool".to_owned(),
            "/console/pools/new".to_owned(),
            vec![
                json!({"label": "User pools", "href": "/console/pools"}),
                json!({"label": "Create"}),
            ],
        ),
        Some((id, name)) => {
            let mut crumbs = crumbs_pool(id, name);
            crumbs.push(json!({"label": "Edit"}));
            (
                format!("Edit {name}"),
                format!("/console/pools/{}/edit", encode(id)),
                crumbs,
            )
        }
    };
    auth.page(
        "pool_form.html",
        context! {
            title => title, action => action, crumbs => js(crumbs), v => js(values), err => err,
            editing => pool.is_some(),
            attributes => ["email", "phone_number", "name", "given_name", "family_name", "preferred_username", "birthdate", "address"],
        },
    )
}

fn form_values(form: &Fields) -> Value {
    let mut v = Value::Object(form.values());
    v["required"] = json!(form.all("required"));
    v
}

fn password_policy(form: &Fields) -> Value {
    let number = |name: &str, fallback: i64| -> Value {
        match form.opt(name) {
            None => json!(fallback),
            // A non-number goes to the API as given, which names the problem.
            Some(text) => text
                .parse::<i64>()
                .map(|n| json!(n))
                .unwrap_or_else(|_| json!(text)),
        }
    };
    json!({
        "MinimumLength": number("min_length", 8),
        "RequireUppercase": form.checked("upper"),
        "RequireLowercase": form.checked("lower"),
        "RequireNumbers": form.checked("numbers"),
        "RequireSymbols": form.checked("symbols"),
        "TemporaryPasswordValidityDays": number("temp_days", 7),
    })
}

fn email_configuration(form: &Fields) -> Value {
    let mut email = json!({"EmailSendingAccount": "COGNITO_DEFAULT"});
    if let Some(reply) = form.opt("reply_to") {
        email["ReplyToEmailAddress"] = json!(reply);
    }
    email
}

/// MFA with an authenticator app (TOTP), as Cognito's console sets it.
async fn set_mfa(auth: &Auth, pool_id: &str, mfa: &str) -> Result<(), cognate_aws_json::ApiError> {
    let request = if mfa == "OFF" {
        json!({"UserPoolId": pool_id, "MfaConfiguration": "OFF"})
    } else {
        json!({
            "UserPoolId": pool_id,
            "MfaConfiguration": mfa,
            "SoftwareTokenMfaConfiguration": {"Enabled": true},
        })
    };
    auth.call("SetUserPoolMfaConfig", request).await.map(|_| ())
}

async fn create(posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let name = form.get("pool_name").trim().to_owned();
    let mut request = json!({
        "PoolName": name,
        "Policies": {"PasswordPolicy": password_policy(&form)},
        "MfaConfiguration": "OFF",
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": !form.checked("self_signup")},
        "EmailConfiguration": email_configuration(&form),
        "DeletionProtection": if form.checked("deletion_protection") { "ACTIVE" } else { "INACTIVE" },
    });
    match form.get("sign_in") {
        "email" => request["UsernameAttributes"] = json!(["email"]),
        "username_email" => request["AliasAttributes"] = json!(["email"]),
        _ => {}
    }
    let required = form.all("required");
    if !required.is_empty() {
        request["Schema"] = Value::Array(
            required
                .iter()
                .map(|a| json!({"Name": a, "AttributeDataType": "String", "Mutable": true, "Required": true}))
                .collect(),
        );
    }
    if form.checked("auto_verify") {
        request["AutoVerifiedAttributes"] = json!(["email"]);
    }
    if form.checked("recovery") {
        request["AccountRecoverySetting"] =
            json!({"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]});
    }
    let answer = match auth.call("CreateUserPool", request).await {
        Ok(a) => a,
        Err(e) => {
            return render_form(
                &auth,
                form_values(&form),
                Some(form_error(&e, FIELDS)),
                None,
            )
        }
    };
    let id = answer["UserPool"]["Id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    auth.audit("CreateUserPool", &id, &name);
    let mfa = form.get("mfa");
    if mfa == "OPTIONAL" || mfa == "ON" {
        if let Err(e) = set_mfa(&auth, &id, mfa).await {
            return auth.done(
                &format!("/console/pools/{}", encode(&id)),
                format!(
                    "User pool {name} created, but MFA was not set: {}",
                    e.message
                ),
            );
        }
        auth.audit("SetUserPoolMfaConfig", &id, mfa);
    }
    auth.done(
        &format!("/console/pools/{}", encode(&id)),
        format!("User pool {name} created."),
    )
}

pub(crate) async fn describe(auth: &Auth, pool_id: &str) -> Result<Value, Response> {
    match auth
        .call("DescribeUserPool", json!({"UserPoolId": pool_id}))
        .await
    {
        Ok(a) => Ok(a["UserPool"].clone()),
        Err(e) => Err(auth.failed(&e)),
    }
}

async fn view(auth: Auth, Path(pool_id): Path<String>) -> Response {
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let clients = match auth
        .call(
            "ListUserPoolClients",
            json!({"UserPoolId": pool_id, "MaxResults": 60}),
        )
        .await
    {
        Ok(a) => a["UserPoolClients"].as_array().cloned().unwrap_or_default(),
        Err(e) => return auth.failed(&e),
    };
    let clients: Vec<Value> = clients
        .iter()
        .map(|c| {
            let id = c["ClientId"].as_str().unwrap_or_default();
            json!({
                "id": id,
                "name": c["ClientName"],
                "href": format!("/console/pools/{}/clients/{}", encode(&pool_id), encode(id)),
            })
        })
        .collect();
    // The published signing keys: the pool's public JWKS (read after the
    // grant allowed DescribeUserPool above).
    let keys: Vec<Value> = auth
        .console
        .service
        .jwks(&pool_id)
        .await
        .map(|keys| {
            keys.iter()
                .map(|k| json!({"kid": k.kid, "alg": k.alg, "kty": k.kty}))
                .collect()
        })
        .unwrap_or_default();
    let name = pool["Name"].as_str().unwrap_or_default().to_owned();
    let issuer = format!("{}/{}", auth.console.service.config().public_url, pool_id);
    let sign_in = if pool["UsernameAttributes"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
    {
        format!(
            "Email or phone as username ({})",
            join(&pool["UsernameAttributes"])
        )
    } else if pool["AliasAttributes"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
    {
        format!("Username, or alias: {}", join(&pool["AliasAttributes"]))
    } else {
        "Username".to_owned()
    };
    let required: Vec<String> = pool["SchemaAttributes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["Required"].as_bool() == Some(true))
        .filter_map(|a| a["Name"].as_str().map(str::to_owned))
        .collect();
    let base = format!("/console/pools/{}", encode(&pool_id));
    auth.page(
        "pool.html",
        context! {
            title => &name,
            crumbs => js(crumbs_pool(&pool_id, &name)),
            tab => "overview",
            base => &base,
            pool => js(&pool),
            id => &pool_id,
            name => &name,
            created => date(&pool["CreationDate"]),
            modified => date(&pool["LastModifiedDate"]),
            issuer => &issuer,
            jwks => format!("{issuer}/.well-known/jwks.json"),
            discovery => format!("{issuer}/.well-known/openid-configuration"),
            sign_in => sign_in,
            required => required.join(", "),
            self_signup => pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"].as_bool() != Some(true),
            policy => js(&pool["Policies"]["PasswordPolicy"]),
            clients => js(clients),
            keys => js(keys),
            hosted_ui => pool["Domain"].as_str().map(|d| hosted_ui_base(&auth, d)),
        },
    )
}

fn join(list: &Value) -> String {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The edit form's values from the pool's description.
fn values_of(pool: &Value) -> Value {
    let policy = &pool["Policies"]["PasswordPolicy"];
    let on = |v: &Value| {
        if v.as_bool() == Some(true) {
            json!("on")
        } else {
            Value::Null
        }
    };
    json!({
        "pool_name": pool["Name"],
        "min_length": policy["MinimumLength"].to_string(),
        "upper": on(&policy["RequireUppercase"]),
        "lower": on(&policy["RequireLowercase"]),
        "numbers": on(&policy["RequireNumbers"]),
        "symbols": on(&policy["RequireSymbols"]),
        "temp_days": policy["TemporaryPasswordValidityDays"].to_string(),
        "mfa": pool["MfaConfiguration"],
        "self_signup": if pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"].as_bool() == Some(true) { Value::Null } else { json!("on") },
        "reply_to": pool["EmailConfiguration"]["ReplyToEmailAddress"],
        "deletion_protection": if pool["DeletionProtection"] == "ACTIVE" { json!("on") } else { Value::Null },
    })
}

async fn edit_form(auth: Auth, Path(pool_id): Path<String>) -> Response {
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let name = pool["Name"].as_str().unwrap_or_default().to_owned();
    render_form(&auth, values_of(&pool), None, Some((&pool_id, &name)))
}

/// UpdateUserPool's members: what it does not name returns to its
/// default, so the edit sends the pool's current settings with the form's
/// changes (as Cognito's console does).
const UPDATABLE: &[&str] = &[
    "Policies",
    "DeletionProtection",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "UserPoolAddOns",
    "AccountRecoverySetting",
    "UserPoolTier",
];

async fn update(Path(pool_id): Path<String>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let old_name = pool["Name"].as_str().unwrap_or_default().to_owned();
    let mut request = Map::new();
    request.insert("UserPoolId".into(), json!(pool_id));
    for key in UPDATABLE {
        if let Some(v) = pool.get(*key).filter(|v| !v.is_null()) {
            request.insert((*key).into(), v.clone());
        }
    }
    let mut request = Value::Object(request);
    let name = form.get("pool_name").trim().to_owned();
    if name != old_name {
        request["PoolName"] = json!(name);
    }
    let mut policies = pool["Policies"].clone();
    if !policies.is_object() {
        policies = json!({});
    }
    policies["PasswordPolicy"] = password_policy(&form);
    request["Policies"] = policies;
    let mut admin_create = pool["AdminCreateUserConfig"].clone();
    if !admin_create.is_object() {
        admin_create = json!({});
    }
    admin_create["AllowAdminCreateUserOnly"] = json!(!form.checked("self_signup"));
    // The legacy name of the password policy's TemporaryPasswordValidityDays:
    // a request may not give both.
    if let Some(m) = admin_create.as_object_mut() {
        m.remove("UnusedAccountValidityDays");
    }
    request["AdminCreateUserConfig"] = admin_create;
    let mut email = pool["EmailConfiguration"].clone();
    if !email.is_object() {
        email = json!({"EmailSendingAccount": "COGNITO_DEFAULT"});
    }
    match form.opt("reply_to") {
        Some(reply) => email["ReplyToEmailAddress"] = json!(reply),
        None => {
            if let Some(m) = email.as_object_mut() {
                m.remove("ReplyToEmailAddress");
            }
        }
    }
    request["EmailConfiguration"] = email;
    request["DeletionProtection"] = json!(if form.checked("deletion_protection") {
        "ACTIVE"
    } else {
        "INACTIVE"
    });
    // MFA has its own operation (it also turns the authenticator app on).
    if let Some(m) = request.as_object_mut() {
        m.remove("MfaConfiguration");
    }
    let shown = if name.is_empty() {
        old_name.clone()
    } else {
        name.clone()
    };
    if let Err(e) = auth.call("UpdateUserPool", request).await {
        let mut values = form_values(&form);
        values["mfa"] = json!(form.get("mfa"));
        return render_form(
            &auth,
            values,
            Some(form_error(&e, FIELDS)),
            Some((&pool_id, &old_name)),
        );
    }
    auth.audit("UpdateUserPool", &pool_id, &shown);
    let mfa = form.get("mfa");
    if !mfa.is_empty() && pool["MfaConfiguration"].as_str() != Some(mfa) {
        if let Err(e) = set_mfa(&auth, &pool_id, mfa).await {
            let mut values = form_values(&form);
            values["mfa"] = json!(mfa);
            return render_form(
                &auth,
                values,
                Some(form_error(&e, FIELDS)),
                Some((&pool_id, &old_name)),
            );
        }
        auth.audit("SetUserPoolMfaConfig", &pool_id, mfa);
    }
    auth.done(
        &format!("/console/pools/{}", encode(&pool_id)),
        format!("User pool {shown} updated."),
    )
}

async fn delete_form(auth: Auth, Path(pool_id): Path<String>) -> Response {
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    confirm_delete(&auth, &pool_id, &pool, None, false)
}

fn confirm_delete(
    auth: &Auth,
    pool_id: &str,
    pool: &Value,
    err: Option<minijinja::Value>,
    mismatch: bool,
) -> Response {
    let name = pool["Name"].as_str().unwrap_or_default();
    let mut crumbs = crumbs_pool(pool_id, name);
    crumbs.push(json!({"label": "Delete"}));
    auth.page(
        "confirm.html",
        context! {
            title => format!("Delete user pool {name}"),
            crumbs => js(crumbs),
            message => format!("Deleting the pool {name} ({pool_id}) deletes its users, groups and app clients for good; its tokens stop working."),
            typed => name,
            mismatch => mismatch,
            err => err,
            action => format!("/console/pools/{}/delete", encode(pool_id)),
            cancel => format!("/console/pools/{}", encode(pool_id)),
            button => "Delete user pool",
        },
    )
}

async fn delete(Path(pool_id): Path<String>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let name = pool["Name"].as_str().unwrap_or_default().to_owned();
    if form.get("confirm").trim() != name {
        return confirm_delete(&auth, &pool_id, &pool, None, true);
    }
    if let Err(e) = auth
        .call("DeleteUserPool", json!({"UserPoolId": pool_id}))
        .await
    {
        return confirm_delete(&auth, &pool_id, &pool, Some(form_error(&e, &[])), false);
    }
    auth.audit("DeleteUserPool", &pool_id, &name);
    auth.done("/console/pools", format!("User pool {name} deleted."))
}

/// The base URL of a domain's hosted UI (path form, as on this server).
pub(crate) fn hosted_ui_base(auth: &Auth, domain: &str) -> String {
    format!(
        "{}/domains/{}",
        auth.console.service.config().public_url,
        encode(domain)
    )
}

async fn create_domain(Path(pool_id): Path<String>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let domain = form.get("domain").trim().to_owned();
    let href = format!("/console/pools/{}", encode(&pool_id));
    match auth
        .call(
            "CreateUserPoolDomain",
            json!({"UserPoolId": pool_id, "Domain": domain}),
        )
        .await
    {
        Ok(_) => {
            auth.audit("CreateUserPoolDomain", &pool_id, &domain);
            auth.done(&href, format!("Domain {domain} created."))
        }
        Err(e) => auth.done(&href, format!("{}: {}", e.type_name, e.message)),
    }
}

async fn delete_domain_form(auth: Auth, Path(pool_id): Path<String>) -> Response {
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let domain = pool["Domain"].as_str().unwrap_or_default();
    auth.page(
        "confirm.html",
        context! {
            title => format!("Delete domain {domain}"),
            message => "The hosted UI and the OAuth 2.0 endpoints of this domain stop answering; app clients and users stay.",
            action => format!("/console/pools/{}/domain/delete", encode(&pool_id)),
            cancel => format!("/console/pools/{}", encode(&pool_id)),
            button => "Delete domain",
        },
    )
}

async fn delete_domain(Path(pool_id): Path<String>, posted: Posted) -> Response {
    let Posted { auth, .. } = posted;
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let domain = pool["Domain"].as_str().unwrap_or_default().to_owned();
    let href = format!("/console/pools/{}", encode(&pool_id));
    match auth
        .call(
            "DeleteUserPoolDomain",
            json!({"UserPoolId": pool_id, "Domain": domain}),
        )
        .await
    {
        Ok(_) => {
            auth.audit("DeleteUserPoolDomain", &pool_id, &domain);
            auth.done(&href, format!("Domain {domain} deleted."))
        }
        Err(e) => auth.done(&href, format!("{}: {}", e.type_name, e.message)),
    }
}
