//! The AWS JSON 1.1 adapter of the `cognito-idp` protocol: `POST /` with
//! `X-Amz-Target`, PascalCase request and response shapes, Cognito's error
//! framing. This is the only layer that knows the wire shapes. The IAM
//! operations are signature-checked (`sigv4`, `access`) before anything else.

pub mod access;
pub mod error;
pub mod java_order;
pub mod model;
pub mod operation;
mod ops;
pub mod shapes;
pub mod sigv4;
mod upload;
pub mod validate;

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use cognate_core::UserPools;

pub use error::ApiError;

/// Content type of requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Largest request body accepted: 2 MiB, the request-size limit AWS
/// documents for the managed login branding operations (the largest
/// requests of the API: styles with their images).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// What the `POST /` handler needs.
#[derive(Clone)]
struct Api {
    service: Arc<UserPools>,
    admin: Arc<sigv4::AdminAuth>,
}

/// The router serving `POST /` (and CORS preflights for browser SDKs), and
/// the pre-signed upload URLs of user import jobs. `admin` checks the
/// signatures of the IAM operations.
pub fn router(service: Arc<UserPools>, admin: Arc<sigv4::AdminAuth>) -> Router {
    let api = Router::new()
        .route("/", post(handle).options(preflight))
        .with_state(Api {
            service: service.clone(),
            admin,
        });
    Router::new()
        .route(
            "/import-jobs/{job_id}",
            axum::routing::put(upload::put_csv).layer(axum::extract::DefaultBodyLimit::max(
                cognate_core::service::MAX_CSV_BYTES,
            )),
        )
        .with_state(service)
        .merge(api)
}

fn with_common_headers(mut response: Response, request_id: &str) -> Response {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", v);
    }
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"),
    );
    response
}

async fn preflight() -> Response {
    let mut response = StatusCode::OK.into_response();
    let h = response.headers_mut();
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    h.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        "access-control-allow-headers",
        HeaderValue::from_static(
            "content-type, x-amz-target, x-amz-user-agent, cache-control, authorization, x-amz-date, x-amz-security-token, amz-sdk-invocation-id, amz-sdk-request, x-amz-content-sha256",
        ),
    );
    h.insert("access-control-max-age", HeaderValue::from_static("86400"));
    response
}

async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "SerializationException",
            format!("Request body is larger than {MAX_BODY} bytes."),
        )
    })
}

/// Checks the signature of an IAM operation (none for the model's public
/// ones); the caller's grant.
fn authenticate(
    api: &Api,
    op: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<sigv4::Grant, ApiError> {
    if !model::knows(op) || model::unauthenticated(op) {
        return Ok(sigv4::Grant::All);
    }
    if optionally_signed(op) && !headers.contains_key(axum::http::header::AUTHORIZATION) {
        // Proven by the app client's secret instead (see `call_as`).
        return Ok(sigv4::Grant::All);
    }
    api.admin.authenticate(
        &sigv4::SignedRequest {
            method: method.as_str(),
            path: uri.path(),
            query: uri.query().unwrap_or_default(),
            headers,
            body,
        },
        api.service.now_millis(),
    )
}

/// Runs `operation` with the JSON request `body` for a caller already
/// authenticated with `grant`: what `POST /` does after the signature
/// check (the grant's pool limits, the model's constraints, dispatch, the
/// grant's filter of the answer). The one path of every admin call, used
/// by `POST /` and the admin console alike.
pub async fn call(
    service: &Arc<UserPools>,
    admin: &sigv4::AdminAuth,
    grant: &sigv4::Grant,
    operation: &str,
    body: &[u8],
) -> Result<serde_json::Value, ApiError> {
    call_as(service, admin, grant, true, operation, body).await
}

/// Operations that IAM credentials or the app client's own secret may
/// authorize (AWS: "you must have IAM credentials, or you must present the
/// requesting app client's ClientId and ... ClientSecret"): a call that
/// carries an `Authorization` header has its signature checked like an
/// admin call's; one without is passed on unsigned.
fn optionally_signed(operation: &str) -> bool {
    operation == "GetDerivedToken"
}

/// [`call`] for a caller that may not have signed: `signed` is false for
/// an [`optionally_signed`] operation called without a signature (no
/// grant applies then; the operation proves its caller itself).
pub async fn call_as(
    service: &Arc<UserPools>,
    admin: &sigv4::AdminAuth,
    grant: &sigv4::Grant,
    signed: bool,
    operation: &str,
    body: &[u8],
) -> Result<serde_json::Value, ApiError> {
    let unsigned = !model::knows(operation)
        || model::unauthenticated(operation)
        || (optionally_signed(operation) && !signed);
    let filter = if unsigned {
        access::Filter::None
    } else {
        access::check(grant, operation, body, admin.region(), admin.account_id())?
    };
    // The model's constraints first, for every operation cognate
    // implements, as AWS does.
    if operation::IMPLEMENTED.contains(&operation) {
        model::validate(operation, body)?;
    }
    let dispatched = async {
        if operation == "GetDerivedToken" {
            ops::derived_token::get_derived_token(service, body, signed).await
        } else {
            operation::dispatch(service, operation, body).await
        }
    };
    // A public call's stated address counts where its client allows it
    // (EnablePropagateAdditionalUserContextData); else the source's.
    let facts = RequestFacts::of(body);
    let user_ip = match facts.stated_user_ip().filter(|_| unsigned) {
        Some((client_id, ip)) => service.propagated_user_ip(&client_id, ip).await,
        None => None,
    };
    let dispatched = async {
        match user_ip {
            Some(ip) => {
                let context = cognate_core::audit::RequestContext {
                    user_ip: Some(ip),
                    ..cognate_core::audit::current()
                };
                cognate_core::audit::scope(context, dispatched).await
            }
            None => dispatched.await,
        }
    };
    // InitiateAuth passes its ClientMetadata to some triggers only.
    let only = matches!(operation, "InitiateAuth" | "AdminInitiateAuth")
        .then_some(cognate_core::triggers::INITIATE_AUTH_METADATA_TRIGGERS);
    let answer = cognate_core::triggers::with_client_metadata(
        facts.client_metadata.unwrap_or_default(),
        facts.client_id,
        only,
        dispatched,
    )
    .await?;
    Ok(access::filter(grant, filter, answer))
}

/// What the dispatch reads of a request body besides the operation: the
/// `ClientId` (public operations) and `ClientMetadata` (a map of strings,
/// as the model checked) for trigger events, and the end user's address a
/// public call states in `UserContextData` (InitiateAuth,
/// RespondToAuthChallenge, SignUp, ConfirmSignUp, ForgotPassword,
/// ConfirmForgotPassword, ResendConfirmationCode). One parse, skipped for
/// bodies that name none of them.
#[derive(Default, serde::Deserialize)]
struct RequestFacts {
    #[serde(rename = "ClientId")]
    client_id: Option<String>,
    #[serde(rename = "ClientMetadata", default)]
    client_metadata: Option<std::collections::BTreeMap<String, String>>,
    #[serde(rename = "UserContextData")]
    user_context_data: Option<UserContextData>,
}

#[derive(serde::Deserialize)]
struct UserContextData {
    #[serde(rename = "IpAddress")]
    ip_address: Option<String>,
}

impl RequestFacts {
    fn of(body: &[u8]) -> RequestFacts {
        let names = |word: &[u8]| body.windows(word.len()).any(|w| w == word);
        if !names(b"ClientId") && !names(b"ClientMetadata") {
            return RequestFacts::default();
        }
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// The stated address, with the app client that must allow it.
    fn stated_user_ip(&self) -> Option<(String, std::net::IpAddr)> {
        let ip = self
            .user_context_data
            .as_ref()?
            .ip_address
            .as_deref()?
            .trim()
            .parse()
            .ok()?;
        Some((self.client_id.clone()?, ip))
    }
}

/// The access key id that signed an admin call (checked by `authorize`
/// before this is read), for the audit log; never the secret.
fn access_key_of(op: &str, headers: &HeaderMap) -> Option<String> {
    if !model::knows(op) || model::unauthenticated(op) {
        return None;
    }
    let value = headers.get("authorization")?.to_str().ok()?;
    let (_, rest) = value.split_once("Credential=")?;
    let key = rest.split('/').next()?.trim();
    (!key.is_empty() && key.len() <= 128 && key.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| key.to_owned())
}

async fn handle(
    State(api): State<Api>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let service = &api.service;
    let started = Instant::now();
    // The listener's request id (the audit log's), else a new one.
    let context = cognate_core::audit::current();
    let request_id = context
        .request_id
        .clone()
        .unwrap_or_else(cognate_crypto::random::uuid);
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let operation = target.strip_prefix(operation::TARGET_PREFIX);
    let result = match operation {
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            if target.is_empty() {
                "Missing X-Amz-Target header.".to_owned()
            } else {
                format!("Unknown operation {target}")
            },
        )),
        Some(op) => match read_body(body).await {
            // The signature first (AWS answers an unsigned or badly signed
            // call before looking at its members).
            Ok(bytes) => match authenticate(&api, op, &method, &uri, &headers, &bytes) {
                Ok(grant) => {
                    let context = cognate_core::audit::RequestContext {
                        request_id: Some(request_id.clone()),
                        access_key_id: access_key_of(op, &headers),
                        ..context
                    };
                    let signed = !optionally_signed(op)
                        || headers.contains_key(axum::http::header::AUTHORIZATION);
                    cognate_core::audit::scope(
                        context,
                        call_as(service, &api.admin, &grant, signed, op, &bytes),
                    )
                    .await
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
    };
    let op_label = operation
        .filter(|op| operation::MODEL_OPERATIONS.contains(op))
        .unwrap_or("unknown");
    let response = match result {
        Ok(value) => {
            let mut r = (StatusCode::OK, value.to_string()).into_response();
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static(CONTENT_TYPE),
            );
            tracing::debug!(operation = op_label, status = 200, micros = started.elapsed().as_micros() as u64, %request_id, "request");
            r
        }
        Err(e) => {
            if e.status.is_server_error() {
                tracing::error!(operation = op_label, status = e.status.as_u16(), error = e.type_name, %request_id, "request failed");
            } else {
                tracing::debug!(operation = op_label, status = e.status.as_u16(), error = e.type_name, micros = started.elapsed().as_micros() as u64, %request_id, "request");
            }
            e.into_response()
        }
    };
    with_common_headers(response, &request_id)
}
