//! The HTTP side of federation (`core/src/service/federation.rs`): the
//! redirect of `/oauth2/authorize?identity_provider=…` (or
//! `idp_identifier=…`) to the provider, `/oauth2/idpresponse` (the
//! provider's redirect back, which continues the original authorization
//! request), `/saml2/idpresponse` (a SAML provider's post of its
//! response, likewise), and [`HttpProviders`], the HTTP client through which the
//! service reaches providers (reqwest: no redirects followed, a 10 s
//! timeout, answers bounded).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use cognate_core::service::federation::{
    ProviderHttp, ProviderRequest, ProviderResponse, MAX_PROVIDER_RESPONSE,
};
use cognate_core::service::hosted::ValidAuthorize;
use cognate_core::UserPools;

use crate::web::{query_pairs, redirect, Site};

/// Reaches identity providers over HTTP(S).
pub struct HttpProviders {
    client: reqwest::Client,
}

impl HttpProviders {
    pub fn new() -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(HttpProviders { client })
    }
}

#[async_trait::async_trait]
impl ProviderHttp for HttpProviders {
    async fn send(&self, request: ProviderRequest) -> Result<ProviderResponse, String> {
        let mut builder = if request.method == "POST" {
            let body = serde_urlencoded::to_string(&request.form).map_err(|e| e.to_string())?;
            self.client
                .post(&request.url)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
        } else {
            self.client.get(&request.url)
        };
        builder = builder.header(header::ACCEPT, "application/json");
        if let Some(token) = &request.bearer {
            builder = builder.bearer_auth(token);
        }
        let mut response = builder.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_PROVIDER_RESPONSE {
                break;
            }
        }
        Ok(ProviderResponse { status, body })
    }
}

/// This domain's `/oauth2/idpresponse`, the redirect URI sent to providers:
/// under the path prefix of the public URL, or on the host the request came to.
fn callback_url(svc: &UserPools, site: &Site, headers: &HeaderMap) -> String {
    let public_url = &svc.config().public_url;
    if !site.base_path.is_empty() {
        return format!("{public_url}{}/oauth2/idpresponse", site.base_path);
    }
    let scheme = if public_url.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    format!("{scheme}://{host}/oauth2/idpresponse")
}

/// The answer to `/oauth2/authorize` that names a provider: the redirect
/// to the provider, or the error for the client.
pub(crate) async fn to_provider(
    svc: &UserPools,
    site: &Site,
    headers: &HeaderMap,
    valid: &ValidAuthorize,
    request: Vec<(String, String)>,
    identity_provider: Option<&str>,
    idp_identifier: Option<&str>,
) -> Response {
    let callback = callback_url(svc, site, headers);
    match svc
        .federation_begin(valid, request, identity_provider, idp_identifier, &callback)
        .await
    {
        Ok(url) => redirect(&url),
        Err(e) => crate::pages::authorize_error(e),
    }
}

/// `GET /oauth2/idpresponse`: the provider's answer; continues the
/// original authorization request with a new hosted session.
pub(crate) async fn idp_response(
    State(svc): State<Arc<UserPools>>,
    site: Site,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = query_pairs(query.as_deref());
    complete(&svc, &site, &pairs).await
}

/// `POST /oauth2/idpresponse`: the same answer as a form post (Sign in
/// with Apple's `response_mode=form_post`, with its `user` member).
pub(crate) async fn idp_response_post(
    State(svc): State<Arc<UserPools>>,
    site: Site,
    body: bytes::Bytes,
) -> Response {
    let Some(pairs) = crate::web::form_pairs(&body) else {
        return crate::pages::error_page(
            axum::http::StatusCode::BAD_REQUEST,
            "The form is not valid.",
        );
    };
    complete(&svc, &site, &pairs).await
}

/// The largest form `/saml2/idpresponse` reads: a response of
/// saml_response's largest size, base64- and form-encoded.
const MAX_SAML_FORM: usize = 512 * 1024;

/// `POST /saml2/idpresponse`: a SAML provider's response (HTTP-POST
/// binding: `SAMLResponse`, `RelayState`); continues the original
/// authorization request with a new hosted session. A RelayState that
/// holds an authorization request's parameters (`client_id=…`) is an
/// IdP-initiated sign-in.
pub(crate) async fn saml_response(
    State(svc): State<Arc<UserPools>>,
    site: Site,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let pairs: Option<Vec<(String, String)>> = (body.len() <= MAX_SAML_FORM)
        .then(|| serde_urlencoded::from_bytes(&body).ok())
        .flatten();
    let Some(pairs) = pairs else {
        return crate::pages::error_page(
            axum::http::StatusCode::BAD_REQUEST,
            "The form is not valid.",
        );
    };
    let saml_response = crate::web::param(&pairs, "SAMLResponse");
    let relay_state = crate::web::param(&pairs, "RelayState");
    let relay: Option<Vec<(String, String)>> = relay_state
        .filter(|r| r.contains("client_id="))
        .and_then(|r| serde_urlencoded::from_str(r).ok());
    let result = match relay {
        Some(relay) => {
            let callback = callback_url(&svc, &site, &headers);
            let acs = callback.replace("/oauth2/idpresponse", "/saml2/idpresponse");
            svc.saml_idp_initiated(&site.pool_id, saml_response, &relay, &acs)
                .await
        }
        None => {
            svc.saml_complete(&site.pool_id, saml_response, relay_state)
                .await
        }
    };
    finish(&svc, &site, result).await
}

/// `GET /saml2/logout` (or a form POST): a SAML provider's answer to our
/// LogoutRequest (`SAMLResponse`, `RelayState`): on to the `logout_uri`
/// the sign-out began with. The RelayState is used once.
pub(crate) async fn saml_logout(
    State(svc): State<Arc<UserPools>>,
    site: Site,
    method: axum::http::Method,
    RawQuery(query): RawQuery,
    body: bytes::Bytes,
) -> Response {
    let pairs = if method == axum::http::Method::POST {
        crate::web::form_pairs(&body).unwrap_or_default()
    } else {
        query_pairs(query.as_deref())
    };
    match svc
        .saml_logout_complete(&site.pool_id, crate::web::param(&pairs, "RelayState"))
        .await
    {
        Ok(Some(logout_uri)) => redirect(&logout_uri),
        Ok(None) => crate::pages::error_page(
            axum::http::StatusCode::BAD_REQUEST,
            "The sign-out is not valid, has expired or was already completed.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "SAML sign-out failed");
            crate::pages::error_page(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "An error was encountered with the requested page.",
            )
        }
    }
}

async fn complete(svc: &Arc<UserPools>, site: &Site, pairs: &[(String, String)]) -> Response {
    let result = svc.federation_complete(&site.pool_id, pairs).await;
    finish(svc, site, result).await
}

async fn finish(
    svc: &Arc<UserPools>,
    site: &Site,
    result: Result<
        (ValidAuthorize, cognate_core::service::hosted::HostedSession),
        cognate_core::service::hosted::AuthorizeError,
    >,
) -> Response {
    match result {
        Ok((valid, session)) => {
            crate::pages::grant_response(svc, site, &valid, &session, true).await
        }
        Err(e) => crate::pages::authorize_error(e),
    }
}
