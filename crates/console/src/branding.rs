//! Hosted-UI branding of a pool's domain: the form of SetUICustomization
//! (CSS and logo, for all app clients or one) and a preview of the login
//! page exactly as the hosted UI renders it.
//!
//! The preview is not a frame of the hosted UI itself: its pages stay
//! unframable (`frame-ancestors 'none'`, X-Frame-Options DENY) for every
//! origin, this console's included. Instead the console asks the hosted
//! UI's own router in-process for the login page of a chosen app client
//! (`/domains/<domain>/login?client_id=...`) and serves that HTML under
//! `/console/.../branding/preview`: for a signed-in admin only, framable
//! by the console's own pages only (`frame-ancestors 'self'`), sandboxed
//! (no scripts, no form submission, cookies dropped), so the preview
//! cannot sign anybody in.

use axum::body::Body;
use axum::extract::{Path, Query, Request};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use minijinja::context;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::pools::{crumbs_pool, describe};
use crate::{encode, form_error, js, Auth, Posted, Shared};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/console/pools/{pool}/branding", get(page).post(save))
        .route("/console/pools/{pool}/branding/preview", get(preview))
}

/// The largest hosted-UI answer read for a preview.
const MAX_PAGE: usize = 1024 * 1024;

#[derive(Deserialize, Default)]
struct TargetQuery {
    /// `ALL` (the pool's default) or an app client id.
    target: Option<String>,
    /// The app client whose login page is previewed.
    client: Option<String>,
}

fn branding_href(pool_id: &str) -> String {
    format!("/console/pools/{}/branding", encode(pool_id))
}

/// An app client as the branding page needs it.
struct ClientInfo {
    id: String,
    name: String,
    /// The login page's query (a callback URL and an OAuth flow), if it has one.
    login_query: Option<String>,
}

async fn clients_of(auth: &Auth, pool_id: &str) -> Result<Vec<ClientInfo>, Response> {
    let list = auth
        .call(
            "ListUserPoolClients",
            json!({"UserPoolId": pool_id, "MaxResults": 60}),
        )
        .await
        .map_err(|e| auth.failed(&e))?;
    let mut out = Vec::new();
    for c in list["UserPoolClients"].as_array().into_iter().flatten() {
        let id = c["ClientId"].as_str().unwrap_or_default().to_owned();
        let described = auth
            .call(
                "DescribeUserPoolClient",
                json!({"UserPoolId": pool_id, "ClientId": id}),
            )
            .await
            .map_err(|e| auth.failed(&e))?;
        let client = &described["UserPoolClient"];
        let flows = &client["AllowedOAuthFlows"];
        let has = |f: &str| flows.as_array().is_some_and(|a| a.iter().any(|x| x == f));
        let response_type = if has("code") {
            Some("code")
        } else if has("implicit") {
            Some("token")
        } else {
            None
        };
        let callback = client["CallbackURLs"][0].as_str();
        let login_query = match (response_type, callback) {
            (Some(rt), Some(cb)) => Some(format!(
                "client_id={}&response_type={rt}&redirect_uri={}",
                encode(&id),
                encode(cb)
            )),
            _ => None,
        };
        out.push(ClientInfo {
            id,
            name: c["ClientName"].as_str().unwrap_or_default().to_owned(),
            login_query,
        });
    }
    Ok(out)
}

async fn page(auth: Auth, Path(pool_id): Path<String>, Query(q): Query<TargetQuery>) -> Response {
    render(&auth, &pool_id, q, None, None).await
}

async fn render(
    auth: &Auth,
    pool_id: &str,
    q: TargetQuery,
    err: Option<minijinja::Value>,
    css_typed: Option<String>,
) -> Response {
    let pool = match describe(auth, pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let name = pool["Name"].as_str().unwrap_or_default().to_owned();
    let base = format!("/console/pools/{}", encode(pool_id));
    let mut crumbs = crumbs_pool(pool_id, &name);
    crumbs.push(json!({"label": "Branding"}));
    let Some(domain) = pool["Domain"].as_str().map(str::to_owned) else {
        return auth.page(
            "branding.html",
            context! { title => format!("Branding of {name}"), crumbs => js(crumbs), tab => "branding", base => base, no_domain => true },
        );
    };
    let clients = match clients_of(auth, pool_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let target = q
        .target
        .filter(|t| t == "ALL" || clients.iter().any(|c| c.id == *t))
        .unwrap_or_else(|| "ALL".into());
    let ui = match auth
        .call(
            "GetUICustomization",
            json!({"UserPoolId": pool_id, "ClientId": target}),
        )
        .await
    {
        Ok(a) => a["UICustomization"].clone(),
        Err(e) => return auth.failed(&e),
    };
    // The previewed client: the one asked for, the target, or the first
    // that has a login page.
    let previewable: Vec<&ClientInfo> =
        clients.iter().filter(|c| c.login_query.is_some()).collect();
    let preview_client = q
        .client
        .as_deref()
        .or((target != "ALL").then_some(target.as_str()))
        .and_then(|id| previewable.iter().find(|c| c.id == id))
        .or(previewable.first())
        .map(|c| c.id.clone());
    let hosted = crate::pools::hosted_ui_base(auth, &domain);
    let login_url = preview_client.as_deref().and_then(|id| {
        clients
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.login_query.as_deref())
            .map(|query| format!("{hosted}/login?{query}"))
    });
    let preview = preview_client
        .as_deref()
        .map(|id| format!("{base}/branding/preview?client={}", encode(id)));
    let options: Vec<Value> = clients
        .iter()
        .map(|c| json!({"id": c.id, "name": c.name, "previewable": c.login_query.is_some()}))
        .collect();
    let inherited = target != "ALL" && ui["ClientId"] == "ALL";
    auth.page(
        "branding.html",
        context! {
            title => format!("Branding of {name}"), crumbs => js(crumbs), tab => "branding", base => &base,
            domain => &domain, target => &target, clients => js(options),
            css => css_typed.or_else(|| ui["CSS"].as_str().map(str::to_owned)).unwrap_or_default(),
            logo => ui["ImageUrl"].as_str().filter(|_| !inherited),
            inherited => inherited,
            modified => crate::date(&ui["LastModifiedDate"]),
            preview => preview, preview_client => preview_client, login_url => login_url,
            err => err,
            action => format!("{base}/branding"),
        },
    )
}

/// Runs a GET on the hosted UI's router (in-process): its status and body.
async fn hosted_get(auth: &Auth, path_and_query: &str) -> Option<(StatusCode, Vec<u8>)> {
    use tower_service::Service;
    let mut router = auth.console.hosted.clone();
    let request = Request::builder()
        .method(Method::GET)
        .uri(path_and_query)
        .body(Body::empty())
        .ok()?;
    std::future::poll_fn(|cx| Service::<Request>::poll_ready(&mut router, cx))
        .await
        .ok()?;
    let response = router.call(request).await.ok()?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), MAX_PAGE)
        .await
        .ok()?;
    Some((status, body.to_vec()))
}

/// The path (and query) of a URL of this server's public URL.
fn local_path<'a>(auth: &Auth, url: &'a str) -> Option<&'a str> {
    url.strip_prefix(auth.console.service.config().public_url.as_str())
        .filter(|p| p.starts_with('/'))
}

async fn save(Path(pool_id): Path<String>, posted: Posted) -> Response {
    let Posted { auth, form } = posted;
    let target = form.opt("target").unwrap_or("ALL").to_owned();
    let css = form.get("css").to_owned();
    let mut request = json!({"UserPoolId": pool_id, "ClientId": target, "CSS": css});
    let engine = base64::engine::general_purpose::STANDARD;
    if let Some(logo) = form.file("logo") {
        request["ImageFile"] = json!(engine.encode(logo));
    } else if !form.checked("remove_logo") {
        // SetUICustomization replaces the whole customization: keep the
        // target's own logo (read back from where the hosted UI serves it).
        let current = auth
            .call(
                "GetUICustomization",
                json!({"UserPoolId": pool_id, "ClientId": target}),
            )
            .await;
        if let Ok(current) = current {
            let ui = &current["UICustomization"];
            let own = ui["ClientId"].as_str() == Some(target.as_str());
            if let Some(path) = ui["ImageUrl"]
                .as_str()
                .filter(|_| own)
                .and_then(|u| local_path(&auth, u))
            {
                match hosted_get(&auth, path).await {
                    Some((StatusCode::OK, bytes)) => {
                        request["ImageFile"] = json!(engine.encode(bytes))
                    }
                    _ => {
                        tracing::warn!(pool_id = %pool_id, "console: the current logo could not be read back")
                    }
                }
            }
        }
    }
    let back = TargetQuery {
        target: Some(target.clone()),
        client: None,
    };
    match auth.call("SetUICustomization", request).await {
        Ok(_) => {
            auth.audit("SetUICustomization", &pool_id, &target);
            auth.done(
                &format!("{}?target={}", branding_href(&pool_id), encode(&target)),
                "Branding saved: the hosted UI shows it at once.",
            )
        }
        Err(e) => {
            let err = form_error(&e, &[("logo", "image"), ("logo", "logo"), ("css", "css")]);
            render(&auth, &pool_id, back, Some(err), Some(css)).await
        }
    }
}

/// The login page of `client` as the hosted UI renders it, for the
/// branding page's sandboxed frame.
async fn preview(
    auth: Auth,
    Path(pool_id): Path<String>,
    Query(q): Query<TargetQuery>,
) -> Response {
    let pool = match describe(&auth, &pool_id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(domain) = pool["Domain"].as_str() else {
        return auth.failed(&cognate_aws_json::ApiError::invalid_parameter(
            "The user pool has no domain.",
        ));
    };
    let clients = match clients_of(&auth, &pool_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(query) = clients
        .iter()
        .find(|c| Some(c.id.as_str()) == q.client.as_deref())
        .and_then(|c| c.login_query.as_deref())
    else {
        return auth.failed(&cognate_aws_json::ApiError::invalid_parameter(
            "This app client has no hosted UI login page (it needs a callback URL and the code or implicit grant).",
        ));
    };
    let path = format!("/domains/{}/login?{query}", encode(domain));
    let Some((status, body)) = hosted_get(&auth, &path).await else {
        return (StatusCode::BAD_GATEWAY, "The hosted UI did not answer.").into_response();
    };
    let origin = origin(&auth.console.service.config().public_url);
    let csp = format!(
        "sandbox; default-src 'none'; style-src 'self' 'unsafe-inline' {origin}; img-src 'self' data: {origin}; \
         font-src 'self' {origin}; script-src 'none'; form-action 'none'; frame-ancestors 'self'; base-uri 'none'"
    );
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    response
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return String::new();
    };
    if scheme != "http" && scheme != "https" {
        return String::new();
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Only characters a header value and a CSP source may hold.
    if host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        format!("{scheme}://{host}")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_public_urls() {
        assert_eq!(origin("http://127.0.0.1:9229"), "http://127.0.0.1:9229");
        assert_eq!(
            origin("https://auth.example.com/base"),
            "https://auth.example.com"
        );
        assert_eq!(origin("https://a b;c"), "");
        assert_eq!(origin("nothing"), "");
    }
}
