//! Signing keys of a pool: kid, purpose, created, signing window and how
//! long each stays published, and "Rotate now" (after a confirm page),
//! which calls `UserPools::rotate_keys`, the domain function behind
//! `cognate rotate-keys` and the config file's rotation schedule. Cognito
//! has no API operation for this, so it is the one console change that is
//! not an AWS JSON call; the pool is first described through the API with
//! the session's grant, so a pool-limited key rotates only its pools.

use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use minijinja::context;
use serde_json::{json, Value};

use crate::pools::{crumbs_pool, describe};
use crate::{encode, form_error, js, Auth, Posted, Shared};

/// New keys are published this long before they sign (the default of
/// `cognate rotate-keys --publish-lead-secs`), so every JWKS consumer
/// learns them before it sees a token they signed.
pub const ROTATE_LEAD_MS: i64 = 600 * 1000;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/console/pools/{pool}/keys", get(list))
        .route(
            "/console/pools/{pool}/keys/rotate",
            get(rotate_form).post(rotate),
        )
}

fn keys_href(pool_id: &str) -> String {
    format!("/console/pools/{}/keys", encode(pool_id))
}

fn ms_date(ms: i64) -> String {
    crate::date(&json!(ms.div_euclid(1000)))
}

async fn list(auth: Auth, Path(pool_id): Path<String>) -> Response {
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let keys = match auth.console.service.signing_keys(&pool_id).await {
        Ok(k) => k,
        Err(e) => return auth.failed(&e.into()),
    };
    let now = auth.console.service.now_millis();
    let rows: Vec<Value> = keys
        .iter()
        .map(|k| {
            let published = k.published_until.is_none_or(|u| now < u);
            let (state, badge) = if k.signs_from > now {
                (
                    format!("published, signs from {}", ms_date(k.signs_from)),
                    "warn",
                )
            } else if k.signs_until.is_none_or(|u| now < u) {
                ("signing".to_owned(), "ok")
            } else if published {
                ("replaced, verifies only".to_owned(), "")
            } else {
                ("retired".to_owned(), "off")
            };
            json!({
                "kid": k.kid,
                "purpose": if k.purpose == "id" { "ID tokens" } else { "access tokens" },
                "created": ms_date(k.created),
                "signs_from": ms_date(k.signs_from),
                "published_until": match k.published_until {
                    Some(u) => ms_date(u),
                    None => "while it signs".to_owned(),
                },
                "state": state,
                "badge": badge,
            })
        })
        .collect();
    let name = pool["Name"].as_str().unwrap_or_default();
    let mut crumbs = crumbs_pool(&pool_id, name);
    crumbs.push(json!({"label": "Signing keys"}));
    auth.page(
        "keys.html",
        context! {
            title => format!("Signing keys of {name}"), crumbs => js(crumbs), tab => "keys",
            base => format!("/console/pools/{}", encode(&pool_id)),
            keys => js(rows), id => &pool_id,
            jwks => format!("{}/{}/.well-known/jwks.json", auth.console.service.config().public_url, pool_id),
        },
    )
}

async fn rotate_form(auth: Auth, Path(pool_id): Path<String>) -> Response {
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    confirm(&auth, &pool_id, &pool, None)
}

fn confirm(auth: &Auth, pool_id: &str, pool: &Value, err: Option<minijinja::Value>) -> Response {
    let name = pool["Name"].as_str().unwrap_or_default();
    let mut crumbs = crumbs_pool(pool_id, name);
    crumbs.push(json!({"label": "Signing keys", "href": keys_href(pool_id)}));
    crumbs.push(json!({"label": "Rotate"}));
    auth.page(
        "confirm.html",
        context! {
            title => format!("Rotate the signing keys of {name}"),
            crumbs => js(crumbs),
            message => format!(
                "New ID and access keys are published in the JWKS now and sign tokens from {} minutes from now. \
                 The current keys stop signing then and stay published until every token they signed has expired, \
                 so no live token is refused.",
                ROTATE_LEAD_MS / 60_000
            ),
            err => err,
            action => format!("{}/rotate", keys_href(pool_id)),
            cancel => keys_href(pool_id),
            button => "Rotate now",
        },
    )
}

async fn rotate(Path(pool_id): Path<String>, posted: Posted) -> Response {
    let Posted { auth, .. } = posted;
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match auth
        .console
        .service
        .rotate_keys(&pool_id, ROTATE_LEAD_MS, None)
        .await
    {
        Ok(Some(keys)) => {
            let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
            auth.audit("RotateSigningKeys", &pool_id, &kids.join(","));
            let signs_from = keys.first().map(|k| k.signs_from).unwrap_or_default();
            auth.done(
                &keys_href(&pool_id),
                format!(
                    "New keys {} published; they sign from {}.",
                    kids.join(" and "),
                    ms_date(signs_from)
                ),
            )
        }
        Ok(None) => auth.done(&keys_href(&pool_id), "Nothing was rotated."),
        Err(e) => confirm(&auth, &pool_id, &pool, Some(form_error(&e.into(), &[]))),
    }
}
