//! The seeds' gateway journeys end to end: the real `cognate` binary (user
//! pool + gateway in one process) in front of the example backends, which
//! run in this test process on their own ports. Real tokens come from
//! AdminInitiateAuth; attack tokens are forged with the pool's own keys
//! (read from the database) or with strangers' keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cognate_crypto::SigningKey;
use cognate_token::{IssuerConfig, Verifier};
use serde_json::{json, Value};

const POOL: &str = "us-east-1_GwTest1";
const OTHER_POOL: &str = "us-east-1_GwOther1";
const CLIENT: &str = "gwtestclient00000000000001";
const OTHER_CLIENT: &str = "gwotherclient0000000000001";
const PASSWORD: &str = "Passw0rd!Long";

struct Cognate {
    child: Child,
    url: String,
    gateway: String,
    data_dir: PathBuf,
    _tmp: tempfile::TempDir,
    /// Dropped after the process is killed (`Drop for Cognate`).
    db: Option<common::TestDatabase>,
}

impl Drop for Cognate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn config(todo: SocketAddr, demo: SocketAddr, header: SocketAddr) -> String {
    format!(
        r#"
pools:
  - id: {POOL}
    name: gateway-test
    clients:
      - id: {CLIENT}
        name: web
        explicit_auth_flows: [ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
      - id: {OTHER_CLIENT}
        name: other
        explicit_auth_flows: [ALLOW_ADMIN_USER_PASSWORD_AUTH]
    users:
      - {{username: alice, password: "{PASSWORD}", attributes: {{email: alice@example.com, name: Alice Liddell}}}}
      - {{username: bob, password: "{PASSWORD}", attributes: {{email: bob@example.com}}}}
  - id: {OTHER_POOL}
    name: other
    clients:
      - id: {OTHER_CLIENT}x
        name: web
        explicit_auth_flows: [ALLOW_ADMIN_USER_PASSWORD_AUTH]
    users:
      - {{username: mallory, password: "{PASSWORD}"}}
gateway:
  apis:
    - name: todo
      stage: dev
      authorizers:
        todo-pool: {{type: cognito, pools: [{POOL}], clients: [{CLIENT}]}}
      routes:
        - {{method: GET, path: /tasks, authorizer: todo-pool, integration: {{type: http, url: "http://{todo}"}}}}
        - {{method: POST, path: /tasks, authorizer: todo-pool, integration: {{type: http, url: "http://{todo}"}}}}
        - {{method: GET, path: /me, authorizer: todo-pool, token_use: access, integration: {{type: mock, body: {{ok: true}}}}}}
        - {{method: GET, path: /public, integration: {{type: http, url: "http://{demo}"}}}}
        - {{method: GET, path: /optional, integration: {{type: http, url: "http://{demo}"}}}}
        - {{method: GET, path: /strict, integration: {{type: http, url: "http://{demo}"}}}}
        - {{method: GET, path: /header, integration: {{type: http, url: "http://{header}"}}}}
        - {{method: GET, path: /stats, integration: {{type: http, url: "http://{header}"}}}}
"#
    )
}

async fn start() -> (Cognate, reqwest::Client) {
    let port = free_port();
    let gateway_port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let issuer = format!("{url}/{POOL}");
    let verifier = || {
        Arc::new(
            Verifier::builder()
                .issuer(IssuerConfig::cognito(&issuer, &[CLIENT]))
                .build(),
        )
    };
    let todo = serve(todo_api::app()).await;
    let demo = serve(auth_demo::app(verifier())).await;
    let header = serve(header_service::app(verifier())).await;

    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cognate.yaml");
    std::fs::write(&cfg, config(todo, demo, header)).unwrap();
    let data_dir = tmp.path().join("data");
    let db = common::TestDatabase::for_engine();
    let mut command = Command::new(env!("CARGO_BIN_EXE_cognate"));
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--gateway-listen", &format!("127.0.0.1:{gateway_port}")])
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--config")
        .arg(&cfg)
        .args(["--public-url", &url, "--log", "warn"])
        .args(["--argon2-memory-kib", "1024", "--argon2-iterations", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .env_remove("COGNATE_GATEWAY_LISTEN")
        .env_remove("COGNATE_DATABASE_URL");
    if let Some(db) = &db {
        command.arg("--database").arg(&db.url);
    }
    let child = command.spawn().unwrap();
    let server = Cognate {
        child,
        url,
        gateway: format!("http://127.0.0.1:{gateway_port}"),
        data_dir,
        _tmp: tmp,
        db,
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let up = http
            .get(format!("{}/health", server.url))
            .send()
            .await
            .is_ok()
            && http
                .get(format!("{}/metrics", server.gateway))
                .send()
                .await
                .is_ok();
        if up {
            break;
        }
        assert!(Instant::now() < deadline, "cognate did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (server, http)
}

async fn login(
    http: &reqwest::Client,
    server: &Cognate,
    pool: &str,
    client: &str,
    user: &str,
) -> Value {
    let resp = http
        .post(&server.url)
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.AdminInitiateAuth",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .header("authorization", common::DUMMY_AUTHORIZATION)
        .body(
            json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert!(body["AuthenticationResult"].is_object(), "{body}");
    body["AuthenticationResult"].clone()
}

async fn get(http: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> (u16, String, Value) {
    let mut req = http.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    (
        status,
        ct,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn payload(token: &str) -> Value {
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

/// The pool's own ID-token signing key, from the database.
async fn pool_id_key(server: &Cognate) -> SigningKey {
    let store = common::open_store(&server.data_dir, server.db.as_ref()).await;
    let keys = store.list_keys(POOL).await.unwrap();
    let k = keys.iter().rev().find(|k| k.purpose == "id").unwrap();
    SigningKey::from_pkcs8(&k.kid, &k.pkcs8).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_gateway_journeys_and_attacks() {
    let (server, http) = start().await;
    let gw = |path: &str| format!("{}/dev{path}", server.gateway);

    // --- 001: the TODO API behind a Cognito authorizer.
    let (status, _, body) = get(&http, &gw("/tasks"), &[]).await;
    assert_eq!((status, body), (401, json!({"message": "Unauthorized"})));

    let alice = login(&http, &server, POOL, CLIENT, "alice").await;
    let bob = login(&http, &server, POOL, CLIENT, "bob").await;
    let alice_id = alice["IdToken"].as_str().unwrap().to_owned();
    let bob_id = bob["IdToken"].as_str().unwrap().to_owned();
    let alice_sub = payload(&alice_id)["sub"].as_str().unwrap().to_owned();
    let bob_sub = payload(&bob_id)["sub"].as_str().unwrap().to_owned();

    let (status, _, body) = get(&http, &gw("/tasks"), &[("authorization", &alice_id)]).await;
    assert_eq!((status, body), (200, json!({"tasks": []})));
    for (token, title) in [
        (&alice_id, "buy milk"),
        (&alice_id, "walk the dog"),
        (&bob_id, "fix bike"),
    ] {
        let resp = http
            .post(gw("/tasks"))
            .header("authorization", format!("Bearer {token}"))
            .json(&json!({"title": title}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    let titles = |body: &Value| -> Vec<String> {
        body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, _, body) = get(&http, &gw("/tasks"), &[("authorization", &alice_id)]).await;
    assert_eq!(titles(&body), ["buy milk", "walk the dog"]);
    let (_, _, body) = get(&http, &gw("/tasks"), &[("authorization", &bob_id)]).await;
    assert_eq!(titles(&body), ["fix bike"]);

    // Forged claim headers are stripped: bob cannot read alice's tasks, and
    // a forged sub without a token gets nothing.
    let forged = [
        ("x-cognate-claim-sub", alice_sub.as_str()),
        ("X-Cognate-Claims", r#"{"sub":"x"}"#),
    ];
    let (_, _, body) = get(
        &http,
        &gw("/tasks"),
        &[&[("authorization", bob_id.as_str())][..], &forged].concat(),
    )
    .await;
    assert_eq!(titles(&body), ["fix bike"]);
    assert_eq!(get(&http, &gw("/tasks"), &forged).await.0, 401);

    // --- 002: public / optional / strict, validated by the backend itself.
    let none: &[(&str, &str)] = &[];
    let with = [("authorization", alice_id.as_str())];
    assert_eq!(
        get(&http, &gw("/public"), &with).await.2,
        json!({"userId": "N/A"})
    );
    assert_eq!(
        get(&http, &gw("/optional"), none).await.2,
        json!({"userId": "N/A"})
    );
    assert_eq!(
        get(&http, &gw("/optional"), &with).await.2,
        json!({"userId": alice_sub})
    );
    assert_eq!(
        get(&http, &gw("/strict"), &with).await.2,
        json!({"userId": alice_sub})
    );
    let (status, ct, body) = get(&http, &gw("/strict"), none).await;
    assert_eq!(status, 401);
    assert_eq!(ct, "application/problem+json");
    assert_eq!(body["title"], "Unauthorized");

    // --- 000: the header's two states; bad and expired tokens are counted.
    let key = pool_id_key(&server).await;
    let now = cognate_token::now_secs();
    let mut expired_claims = payload(&alice_id);
    expired_claims["exp"] = json!(now - 3600);
    expired_claims["iat"] = json!(now - 7200);
    let expired = key.sign(&expired_claims).unwrap();

    let (_, _, body) = get(&http, &gw("/header"), none).await;
    assert_eq!(body["state"], "anonymous");
    let (_, _, body) = get(&http, &gw("/header"), &with).await;
    assert_eq!(
        (body["state"].as_str(), body["user"].as_str()),
        (Some("logged_in"), Some("Alice Liddell"))
    );
    let (_, _, body) = get(&http, &gw("/header"), &[("authorization", &expired)]).await;
    assert_eq!(body["state"], "anonymous");
    let (_, _, body) = get(
        &http,
        &gw("/header"),
        &[("authorization", "Bearer not.a.token")],
    )
    .await;
    assert_eq!(body["state"], "anonymous");
    let (_, _, stats) = get(&http, &gw("/stats"), none).await;
    assert_eq!(
        stats,
        json!({"loggedIn": 1, "anonymous": 1, "expired": 1, "invalid": 1})
    );

    // --- Attacks on the gateway's required route, each with its metric.
    let parts: Vec<&str> = alice_id.split('.').collect();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let alg_none = format!("{}.{}.", b64(&json!({"alg": "none"})), parts[1]);
    let hs256 = {
        let header = b64(&json!({"kid": key.kid(), "alg": "HS256"}));
        let input = format!("{header}.{}", parts[1]);
        let jwks: Value = http
            .get(format!("{}/{POOL}/.well-known/jwks.json", server.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mac =
            cognate_crypto::digest::hmac_sha256(jwks.to_string().as_bytes(), input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac))
    };
    let stranger = SigningKey::generate().unwrap();
    let unknown_kid = stranger.sign(&payload(&alice_id)).unwrap();
    let mut tampered_claims = payload(&alice_id);
    tampered_claims["sub"] = json!(bob_sub);
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);
    let other_pool = login(
        &http,
        &server,
        OTHER_POOL,
        &format!("{OTHER_CLIENT}x"),
        "mallory",
    )
    .await;
    let other_client = login(&http, &server, POOL, OTHER_CLIENT, "alice").await;
    let mut future_claims = payload(&alice_id);
    future_claims["nbf"] = json!(now + 3600);
    let not_yet_valid = key.sign(&future_claims).unwrap();
    let access = alice["AccessToken"].as_str().unwrap();

    let attacks: Vec<(&str, String, &str)> = vec![
        ("alg none", alg_none, "bad_signature"),
        ("HS256 with the public key", hs256, "bad_signature"),
        ("tampered payload", tampered, "bad_signature"),
        ("unknown kid", unknown_kid, "unknown_kid"),
        ("expired", expired, "expired"),
        ("not yet valid", not_yet_valid, "not_yet_valid"),
        (
            "other pool",
            other_pool["IdToken"].as_str().unwrap().to_owned(),
            "wrong_issuer",
        ),
        (
            "other client",
            other_client["IdToken"].as_str().unwrap().to_owned(),
            "wrong_audience",
        ),
        (
            "access token where an ID token is expected",
            access.to_owned(),
            "wrong_token_use",
        ),
        ("garbage", "garbage".into(), "malformed"),
    ];
    for (what, token, _) in &attacks {
        let (status, _, body) = get(&http, &gw("/tasks"), &[("authorization", token)]).await;
        assert_eq!(
            (status, body),
            (401, json!({"message": "Unauthorized"})),
            "{what}"
        );
    }
    // An ID token where an access token is required.
    assert_eq!(get(&http, &gw("/me"), &with).await.0, 401);
    assert_eq!(
        get(&http, &gw("/me"), &[("authorization", access)]).await.0,
        200
    );

    let (_, _, metrics) = get(&http, &format!("{}/metrics", server.gateway), none).await;
    let metrics = metrics.as_str().unwrap().to_owned();
    let count = |outcome: &str| -> u64 {
        let prefix = format!(
            "cognate_gateway_token_outcomes_total{{api=\"todo\",authorizer=\"todo-pool\",outcome=\"{outcome}\"}} "
        );
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {outcome} in\n{metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(count("bad_signature"), 3);
    assert_eq!(count("unknown_kid"), 1);
    assert_eq!(count("expired"), 1);
    assert_eq!(count("not_yet_valid"), 1);
    assert_eq!(count("wrong_issuer"), 1);
    assert_eq!(count("wrong_audience"), 1);
    assert_eq!(count("wrong_token_use"), 2);
    assert_eq!(count("malformed"), 1);
    assert_eq!(count("missing"), 2);
    assert_eq!(count("ok"), 8);
    assert!(metrics.contains(
        r#"cognate_gateway_requests_total{api="todo",method="GET",route="/dev/tasks",status="401"} 12"#
    ), "{metrics}");

    // --- Revocation: after GlobalSignOut, bob's tokens are refused (within
    // the one-second freshness of the gateway's revocation state).
    assert_eq!(
        get(&http, &gw("/tasks"), &[("authorization", &bob_id)])
            .await
            .0,
        200
    );
    let resp = http
        .post(&server.url)
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.GlobalSignOut",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body(json!({"AccessToken": bob["AccessToken"]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, body) = get(&http, &gw("/tasks"), &[("authorization", &bob_id)]).await;
    assert_eq!((status, body), (401, json!({"message": "Unauthorized"})));
    assert_eq!(
        get(&http, &gw("/tasks"), &with).await.0,
        200,
        "alice is not affected"
    );
    let (_, _, metrics) = get(&http, &format!("{}/metrics", server.gateway), none).await;
    assert!(metrics.as_str().unwrap().contains(
        r#"cognate_gateway_token_outcomes_total{api="todo",authorizer="todo-pool",outcome="revoked"} 1"#
    ));
}
