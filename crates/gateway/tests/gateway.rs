//! The gateway in-process on real sockets: routing, authorizers, claim
//! headers, proxying, CORS, metrics and config errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::routing::any;
use axum::{Json, Router};
use cognate_crypto::SigningKey;
use cognate_gateway::{Gateway, GatewayConfig, LocalPools};
use cognate_token::{JwksSource, KeySet, Revocation, StaticJwks};
use serde_json::{json, Value};

const POOL: &str = "us-east-1_Example";
const CLIENT: &str = "3c4v73qlc19bp0mevm94f5a4co";

struct Local {
    base: String,
    keys: KeySet,
}

impl LocalPools for Local {
    fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.base)
    }
    fn jwks(&self, _pool_id: &str) -> Arc<dyn JwksSource> {
        Arc::new(StaticJwks(self.keys.clone()))
    }
    fn revocation(&self, _pool_id: &str) -> Option<Arc<dyn Revocation>> {
        None
    }
}

/// Answers with what it received: method, path, query, headers, body.
async fn echo_upstream() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route(
            "/slow",
            any(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/closing",
            any(|| async { ([(axum::http::header::CONNECTION, "close")], "bye") }),
        )
        .fallback(any(|req: Request| async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let headers: serde_json::Map<String, Value> = parts
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("<bytes>"))))
                .collect();
            Json(json!({
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "query": parts.uri.query(),
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            }))
        }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

struct Env {
    base: String,
    id_key: SigningKey,
    access_key: SigningKey,
    http: reqwest::Client,
}

impl Env {
    fn issuer(&self) -> String {
        format!("http://issuer.test/{POOL}")
    }

    fn id_token(&self, patch: Value) -> String {
        let now = cognate_token::now_secs();
        let mut c = json!({
            "sub": "user-1", "aud": CLIENT, "iss": self.issuer(), "token_use": "id",
            "cognito:username": "joe", "email": "joe@example.com", "email_verified": true,
            "cognito:groups": ["users"], "iat": now, "auth_time": now, "exp": now + 3600,
        });
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        self.id_key.sign(&c).unwrap()
    }

    fn access_token(&self, scope: &str) -> String {
        let now = cognate_token::now_secs();
        self.access_key
            .sign(&json!({
                "sub": "user-1", "client_id": CLIENT, "iss": self.issuer(), "token_use": "access",
                "scope": scope, "username": "joe", "iat": now, "auth_time": now, "exp": now + 3600,
            }))
            .unwrap()
    }

    async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let h = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            h,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

fn config(upstream: SocketAddr) -> GatewayConfig {
    let yaml = format!(
        r#"
apis:
  - name: demo
    stage: dev
    cors: {{allow_origins: ["https://app.example.com"], allow_headers: [authorization, content-type], max_age: 600}}
    authorizers:
      pool: {{type: cognito, pools: [{POOL}], clients: [{CLIENT}]}}
    routes:
      - {{method: GET, path: /ping, integration: {{type: mock, status: 200, body: {{pong: true}}}}}}
      - {{method: ANY, path: "/items/{{id}}", authorizer: pool, integration: {{type: http, url: "http://{upstream}/base"}}}}
      - {{method: GET, path: /optional, auth: optional, authorizer: pool, integration: {{type: http, url: "http://{upstream}"}}}}
      - {{method: GET, path: /admin, authorizer: pool, groups: [admin], integration: {{type: http, url: "http://{upstream}"}}}}
      - {{method: GET, path: /read, authorizer: pool, scopes: ["https://api.example.com/read"], integration: {{type: http, url: "http://{upstream}"}}}}
      - {{method: GET, path: /noauthz, authorizer: pool, forward_authorization: false, integration: {{type: http, url: "http://{upstream}"}}}}
      - {{method: GET, path: /some-claims, authorizer: pool, claim_headers: [sub, "cognito:username"], claims_json: false, integration: {{type: http, url: "http://{upstream}"}}}}
      - {{method: GET, path: /json-claims, auth: optional, authorizer: pool, claim_headers: none, integration: {{type: http, url: "http://{upstream}"}}}}
      - {{method: GET, path: /slow, integration: {{type: http, url: "http://{upstream}", timeout_ms: 200}}}}
      - {{method: GET, path: /down, integration: {{type: http, url: "http://127.0.0.1:9"}}}}
      - {{method: ANY, path: "/{{proxy+}}", integration: {{type: http, url: "http://{upstream}"}}}}
"#
    );
    serde_norway::from_str(&yaml).unwrap()
}

async fn start() -> Env {
    let upstream = echo_upstream().await;
    let id_key = SigningKey::generate().unwrap();
    let access_key = SigningKey::generate().unwrap();
    let keys = KeySet::from_jwks_json(&json!({"keys": [id_key.jwk(), access_key.jwk()]})).unwrap();
    let local = Arc::new(Local {
        base: "http://issuer.test".into(),
        keys,
    });
    let gateway = Gateway::build(&config(upstream), Some(local)).unwrap();
    // The real listener: two worker threads on one port. Dropping the
    // shutdown sender leaves them running until the test process ends.
    let (_, shutdown) = tokio::sync::watch::channel(false);
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let running = cognate_gateway::spawn(gateway, addr, 2, shutdown).unwrap();
    let base = format!("http://{}", running.local_addr);
    Env {
        base,
        id_key,
        access_key,
        http: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn required_route_refuses_without_a_valid_token_and_forwards_claims_with_one() {
    let env = start().await;
    let (status, headers, body) = env.get("/dev/items/42", &[]).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"message": "Unauthorized"}));
    assert_eq!(headers["x-amzn-errortype"], "UnauthorizedException");
    assert_eq!(headers["content-type"], "application/json");
    // No token: a bare challenge, without an error code (RFC 6750, 3.1).
    assert_eq!(headers["www-authenticate"], "Bearer");

    let token = env.id_token(json!({}));
    let (status, _, body) = env
        .get(
            "/dev/items/42?x=1&y=2",
            &[
                ("authorization", &format!("Bearer {token}")),
                ("x-cognate-claim-sub", "forged-admin"),
                ("X-Cognate-Claims", r#"{"sub":"forged"}"#),
                ("x-forwarded-for", "10.0.0.1"),
                ("connection", "keep-alive, x-hop"),
                ("x-hop", "drop me"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let h = &body["headers"];
    assert_eq!(body["path"], "/base/items/42");
    assert_eq!(body["query"], "x=1&y=2");
    assert_eq!(h["x-cognate-claim-sub"], "user-1");
    assert_eq!(h["x-cognate-claim-cognito-username"], "joe");
    assert_eq!(h["x-cognate-claim-cognito-groups"], "users");
    assert_eq!(h["x-cognate-claim-email-verified"], "true");
    let all: Value = serde_json::from_str(h["x-cognate-claims"].as_str().unwrap()).unwrap();
    assert_eq!(all["sub"], "user-1");
    assert_eq!(all["cognito:groups"], json!(["users"]));
    assert_eq!(h["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert!(h["x-forwarded-host"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    assert!(h.get("x-hop").is_none());
    assert_eq!(h["authorization"], format!("Bearer {token}"));

    // The raw token (no Bearer) works too; a POST body is streamed through.
    let resp = env
        .http
        .post(format!("{}/dev/items/7", env.base))
        .header("authorization", &token)
        .body("hello upstream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["method"], "POST");
    assert_eq!(body["body"], "hello upstream");

    // An access token where the Cognito authorizer expects an ID token, an
    // expired token, a token of another client.
    let access = env.access_token("aws.cognito.signin.user.admin");
    let expired = env.id_token(json!({"exp": cognate_token::now_secs() - 3600}));
    let other_client = env.id_token(json!({"aud": "someotherclient"}));
    // Each refusal keeps the body and says why in API Gateway's challenge.
    for (t, why) in [
        (&access, "the token does not have the required token_use"),
        (&expired, "the token has expired"),
        (&other_client, "the token does not have a valid audience"),
        (&"garbage".to_owned(), "the token is malformed"),
    ] {
        let (status, headers, body) = env.get("/dev/items/1", &[("authorization", t)]).await;
        assert_eq!(status, 401);
        assert_eq!(body, json!({"message": "Unauthorized"}));
        assert_eq!(
            headers["www-authenticate"],
            format!(r#"Bearer scope="" error="invalid_token" error_description="{why}""#).as_str()
        );
    }
    let m = env.metrics().await;
    for line in [
        r#"cognate_gateway_token_outcomes_total{api="demo",authorizer="pool",outcome="ok"} 2"#,
        r#"cognate_gateway_token_outcomes_total{api="demo",authorizer="pool",outcome="missing"} 1"#,
        r#"cognate_gateway_token_outcomes_total{api="demo",authorizer="pool",outcome="wrong_token_use"} 1"#,
        r#"cognate_gateway_token_outcomes_total{api="demo",authorizer="pool",outcome="expired"} 1"#,
        r#"cognate_gateway_token_outcomes_total{api="demo",authorizer="pool",outcome="wrong_audience"} 1"#,
        r#"cognate_gateway_token_outcomes_total{api="demo",authorizer="pool",outcome="malformed"} 1"#,
        r#"cognate_gateway_token_outcomes_total{api="demo",authorizer="pool",outcome="bad_signature"} 0"#,
        r#"cognate_gateway_requests_total{api="demo",method="GET",route="/dev/items/{id}",status="401"} 5"#,
        r#"cognate_gateway_request_duration_seconds_count{api="demo",route="/dev/items/{id}"} 7"#,
    ] {
        assert!(m.contains(line), "missing `{line}` in\n{m}");
    }
}

#[tokio::test]
async fn optional_scopes_groups_and_authorization_forwarding() {
    let env = start().await;
    let token = env.id_token(json!({}));

    // Optional: anonymous without or with a bad token (no claim headers), claims with a good one.
    for t in [None, Some("garbage")] {
        let headers: Vec<(&str, &str)> = t
            .map(|t| vec![("authorization", t), ("x-cognate-claim-sub", "forged")])
            .unwrap_or_default();
        let (status, _, body) = env.get("/dev/optional", &headers).await;
        assert_eq!(status, 200);
        assert!(
            body["headers"].get("x-cognate-claim-sub").is_none(),
            "{body}"
        );
    }
    let (_, _, body) = env.get("/dev/optional", &[("authorization", &token)]).await;
    assert_eq!(body["headers"]["x-cognate-claim-sub"], "user-1");

    // Groups: 403 when the user is in none of them.
    let (status, headers, body) = env.get("/dev/admin", &[("authorization", &token)]).await;
    assert_eq!((status, body), (403, json!({"message": "Forbidden"})));
    assert_eq!(headers["x-amzn-errortype"], "ForbiddenException");
    assert_eq!(
        headers["www-authenticate"],
        r#"Bearer error="insufficient_scope" error_description="the user is not in a required group""#
    );
    let admin = env.id_token(json!({"cognito:groups": ["users", "admin"]}));
    assert_eq!(
        env.get("/dev/admin", &[("authorization", &admin)]).await.0,
        200
    );

    // Scopes: the route needs an access token with the scope.
    assert_eq!(
        env.get("/dev/read", &[("authorization", &token)]).await.0,
        401
    );
    let plain = env.access_token("aws.cognito.signin.user.admin");
    assert_eq!(
        env.get("/dev/read", &[("authorization", &plain)]).await.0,
        403
    );
    let read = env.access_token("openid https://api.example.com/read");
    assert_eq!(
        env.get("/dev/read", &[("authorization", &read)]).await.0,
        200
    );

    // forward_authorization: false drops the token header.
    let (_, _, body) = env.get("/dev/noauthz", &[("authorization", &token)]).await;
    assert!(body["headers"].get("authorization").is_none());
    assert_eq!(body["headers"]["x-cognate-claim-sub"], "user-1");

    // claim_headers / claims_json choose what the backend gets; a forged
    // claim header is still removed whatever the route forwards.
    let forged = [
        ("authorization", token.as_str()),
        ("x-cognate-claim-email", "forged@example.com"),
        ("x-cognate-claims", r#"{"sub":"forged"}"#),
    ];
    let (status, _, body) = env.get("/dev/some-claims", &forged).await;
    assert_eq!(status, 200);
    let cognate: Vec<&str> = body["headers"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| k.starts_with("x-cognate-"))
        .collect();
    assert_eq!(
        cognate,
        ["x-cognate-claim-cognito-username", "x-cognate-claim-sub"],
        "{body}"
    );
    let (status, _, body) = env.get("/dev/json-claims", &forged).await;
    assert_eq!(status, 200);
    assert!(body["headers"].get("x-cognate-claim-sub").is_none());
    assert!(body["headers"].get("x-cognate-claim-email").is_none());
    let claims: Value =
        serde_json::from_str(body["headers"]["x-cognate-claims"].as_str().unwrap()).unwrap();
    assert_eq!(claims["sub"], "user-1");
    // Anonymous on an optional route: nothing of the forged headers passes.
    let (status, _, body) = env.get("/dev/json-claims", &forged[1..]).await;
    assert_eq!(status, 200);
    assert!(body["headers"].get("x-cognate-claims").is_none(), "{body}");
    assert!(body["headers"].get("x-cognate-claim-email").is_none());

    let m = env.metrics().await;
    assert!(m.contains(r#"outcome="missing_group"} 1"#), "{m}");
    assert!(m.contains(r#"outcome="insufficient_scope"} 1"#), "{m}");
}

#[tokio::test]
async fn mock_proxy_errors_cors_and_unknown_routes() {
    let env = start().await;
    let (status, headers, body) = env.get("/dev/ping", &[]).await;
    assert_eq!((status, body), (200, json!({"pong": true})));
    assert_eq!(headers["content-type"], "application/json");

    // Greedy proxy route.
    let (status, _, body) = env.get("/dev/a/b/c", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body["path"], "/a/b/c");

    assert_eq!(env.get("/dev/slow", &[]).await.0, 504);
    assert_eq!(env.get("/dev/down", &[]).await.0, 502);
    let (status, _, body) = env.get("/other", &[]).await;
    assert_eq!((status, body), (404, json!({"message": "Not Found"})));

    // CORS: preflight without auth, and the origin on actual answers.
    let resp = env
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/dev/items/1", env.base),
        )
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(
        resp.headers()["access-control-allow-headers"],
        "authorization,content-type"
    );
    assert_eq!(resp.headers()["access-control-max-age"], "600");
    let (_, headers, _) = env
        .get("/dev/ping", &[("origin", "https://app.example.com")])
        .await;
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let (_, headers, _) = env
        .get("/dev/ping", &[("origin", "https://evil.example.com")])
        .await;
    assert!(headers.get("access-control-allow-origin").is_none());
}

#[test]
fn config_errors_name_the_key() {
    let build = |yaml: &str| -> String {
        let c: GatewayConfig = serde_norway::from_str(yaml).unwrap();
        let local: Arc<dyn LocalPools> = Arc::new(Local {
            base: "http://x".into(),
            keys: KeySet::default(),
        });
        match Gateway::build(&c, Some(local)) {
            Ok(_) => String::new(),
            Err(e) => e.0,
        }
    };
    let mock = "integration: {type: mock}";
    let e = build("workers: 100000");
    assert!(e.contains("gateway.workers") && e.contains("256"), "{e}");
    assert_eq!(build("workers: 2"), "");
    let e = build(&format!(
        "apis: [{{name: a, routes: [{{method: GET, path: /x, authorizer: nope, {mock}}}]}}]"
    ));
    assert!(
        e.contains("gateway.apis[0].routes[0].authorizer") && e.contains("nope"),
        "{e}"
    );
    let e = build(&format!("apis: [{{name: a, routes: [{{method: GET, path: /x, {mock}}}, {{method: GET, path: /x, {mock}}}]}}]"));
    assert!(
        e.contains("routes[1]") && e.contains("already declared"),
        "{e}"
    );
    let e = build(&format!("apis: [{{name: a, routes: [{{method: GET, path: \"/x/{{id}}\", {mock}}}, {{method: GET, path: \"/x/{{name}}\", {mock}}}]}}]"));
    assert!(
        e.contains("routes[1].path") && e.contains("conflicts"),
        "{e}"
    );
    let e = build(&format!(
        "apis: [{{name: a, routes: [{{method: GET, path: \"/{{p+}}/x\", {mock}}}]}}]"
    ));
    assert!(e.contains("greedy"), "{e}");
    let e = build(&format!(
        "apis: [{{name: a, routes: [{{method: FETCH, path: /x, {mock}}}]}}]"
    ));
    assert!(e.contains("routes[0].method"), "{e}");
    let e = build("apis: [{name: a, routes: [{method: GET, path: /x, integration: {type: http, url: \"https://x\"}}]}]");
    assert!(e.contains("only http://"), "{e}");
    let e = build(&format!(
        "apis: [{{name: a, routes: [{{method: GET, path: /x, auth: required, {mock}}}]}}]"
    ));
    assert!(e.contains("needs an authorizer"), "{e}");
    let e = build(&format!(
        "apis: [{{name: a, routes: [{{method: GET, path: /x, claim_headers: [sub, \"\"], {mock}}}]}}]"
    ));
    assert!(
        e.contains("routes[0].claim_headers") && e.contains("not a claim name"),
        "{e}"
    );
    let e = serde_norway::from_str::<GatewayConfig>(&format!(
        "apis: [{{name: a, routes: [{{method: GET, path: /x, claim_headers: some, {mock}}}]}}]"
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("`all`, `none` or a list of claim names"), "{e}");
    assert_eq!(build(&format!("apis: [{{name: a, stage: v1, routes: [{{method: ANY, path: \"/{{proxy+}}\", {mock}}}]}}]")), "");

    // Unknown keys are refused at parse time.
    assert!(serde_norway::from_str::<GatewayConfig>("apis: [{name: a, colour: blue}]").is_err());
    assert!(serde_norway::from_str::<GatewayConfig>(
        "apis: [{name: a, authorizers: {x: {type: cognito, pools: [p], colour: blue}}}]"
    )
    .is_err());
}

#[tokio::test]
async fn upstream_connections_are_reused_and_replaced_when_the_upstream_closes_them() {
    let env = start().await;
    // The upstream closes its connection after each `/closing` answer; the
    // next request on the same client connection must not see a 502.
    for i in 0..6 {
        let path = if i % 2 == 0 {
            "/dev/closing"
        } else {
            "/dev/plain"
        };
        let (status, _, body) = env.get(path, &[]).await;
        assert_eq!(status, 200, "{path} #{i}: {body}");
    }
    // A large body streams through both ways on a kept-alive connection.
    let big = "x".repeat(600_000);
    for _ in 0..3 {
        let resp = env
            .http
            .post(format!("{}/dev/upload", env.base))
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let echoed: Value = resp.json().await.unwrap();
        assert_eq!(echoed["body"].as_str().unwrap().len(), big.len());
        assert_eq!(echoed["method"], "POST");
    }
}
