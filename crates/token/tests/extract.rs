//! Keys fetched over HTTP (JWKS and discovery) and the axum extractors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use cognate_crypto::SigningKey;
use cognate_token::{now_secs, Auth, IssuerConfig, OptionalAuth, Rejection, StrictAuth, Verifier};
use serde_json::{json, Value};
use tower::ServiceExt;

const CLIENT: &str = "3c4v73qlc19bp0mevm94f5a4co";

/// Serves `/<pool>/.well-known/{jwks.json,openid-configuration}` on a free port.
async fn key_server(key: &SigningKey) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = format!("{base}/us-east-1_Example");
    let jwks = json!({"keys": [key.jwk()]});
    let discovery =
        json!({"issuer": issuer, "jwks_uri": format!("{issuer}/.well-known/jwks.json")});
    let app = Router::new()
        .route(
            "/us-east-1_Example/.well-known/jwks.json",
            get(move || async move { Json(jwks) }),
        )
        .route(
            "/us-east-1_Example/.well-known/openid-configuration",
            get(move || async move { Json(discovery) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    issuer
}

fn id_token(key: &SigningKey, iss: &str, exp_in: i64) -> String {
    let now = now_secs();
    key.sign(&json!({
        "sub": "user-1", "aud": CLIENT, "iss": iss, "token_use": "id",
        "cognito:username": "joe", "iat": now, "auth_time": now, "exp": now + exp_in,
    }))
    .unwrap()
}

#[tokio::test]
async fn keys_by_jwks_url_and_by_discovery() {
    let key = SigningKey::generate().unwrap();
    let issuer = key_server(&key).await;
    let token = id_token(&key, &issuer, 3600);
    for config in [
        IssuerConfig::cognito(&issuer, &[CLIENT]),
        IssuerConfig::oidc(&issuer, &[CLIENT]),
    ] {
        let v = Verifier::builder().issuer(config).build();
        assert_eq!(v.verify(&token).await.unwrap().username(), Some("joe"));
    }
    // An issuer that is not reachable: keys unavailable.
    let v = Verifier::builder()
        .issuer(IssuerConfig::cognito(
            "http://127.0.0.1:9/us-east-1_Example",
            &[],
        ))
        .build();
    let t = id_token(&key, "http://127.0.0.1:9/us-east-1_Example", 3600);
    assert_eq!(v.verify(&t).await, Err(Rejection::KeysUnavailable));
}

async fn handler(user: Option<String>) -> Json<Value> {
    Json(json!({"userId": user.unwrap_or_else(|| "N/A".into())}))
}

async fn call(app: &Router, path: &str, auth: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut req = Request::get(path);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        ct,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn optional_and_strict_extractors() {
    let key = SigningKey::generate().unwrap();
    let issuer = key_server(&key).await;
    let verifier = Arc::new(
        Verifier::builder()
            .issuer(IssuerConfig::cognito(&issuer, &[CLIENT]))
            .build(),
    );
    let app = Router::new()
        .route(
            "/optional",
            get(|auth: OptionalAuth| async move {
                handler(auth.user_id().map(str::to_owned)).await
            }),
        )
        .route(
            "/strict",
            get(|auth: StrictAuth| async move { handler(auth.user_id().map(str::to_owned)).await }),
        )
        .with_state(Auth::new(verifier));
    let good = id_token(&key, &issuer, 3600);
    let expired = id_token(&key, &issuer, -3600);
    let bearer = format!("Bearer {good}");

    assert_eq!(
        call(&app, "/optional", None).await.2,
        json!({"userId": "N/A"})
    );
    assert_eq!(
        call(&app, "/optional", Some(&expired)).await.2,
        json!({"userId": "N/A"})
    );
    assert_eq!(
        call(&app, "/optional", Some(&good)).await.2,
        json!({"userId": "user-1"})
    );
    assert_eq!(
        call(&app, "/optional", Some(&bearer)).await.2,
        json!({"userId": "user-1"})
    );
    assert_eq!(
        call(&app, "/strict", Some(&bearer)).await.2,
        json!({"userId": "user-1"})
    );

    for (auth, detail) in [
        (None, "No access token was provided"),
        (Some(expired.as_str()), "The token has expired"),
        (Some("Bearer garbage"), "The token is malformed"),
    ] {
        let (status, ct, body) = call(&app, "/strict", auth).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(ct.as_deref(), Some("application/problem+json"));
        assert_eq!(
            body,
            json!({"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail})
        );
    }
}

#[test]
fn refusals_carry_a_challenge_with_the_reason() {
    use axum::response::IntoResponse;
    use cognate_token::AuthError;
    let challenge = |r: Rejection| {
        let response = AuthError(r).into_response();
        (
            response.status(),
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned()),
        )
    };
    assert_eq!(
        challenge(Rejection::Missing),
        (StatusCode::UNAUTHORIZED, Some("Bearer".into()))
    );
    assert_eq!(
        challenge(Rejection::Expired),
        (
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer scope="" error="invalid_token" error_description="the token has expired""#.into())
        )
    );
    assert_eq!(
        challenge(Rejection::InsufficientScope).0,
        StatusCode::FORBIDDEN
    );
    assert!(challenge(Rejection::InsufficientScope)
        .1
        .unwrap()
        .starts_with(r#"Bearer error="insufficient_scope""#));
    // A server-side failure is not an authentication challenge.
    assert_eq!(
        challenge(Rejection::KeysUnavailable),
        (StatusCode::SERVICE_UNAVAILABLE, None)
    );
    // Every reason has a challenge without token contents.
    for r in Rejection::ALL {
        assert!(r.www_authenticate().starts_with("Bearer"));
    }
}
