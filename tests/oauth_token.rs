//! `POST /oauth2/token` with the client_credentials grant against the real
//! server: client authentication (Basic header or body), scopes, the
//! token's claims, RFC 6749 errors, the discovery document, and the
//! gateway's scope checks accepting the token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use common::{jwt_claims, jwt_header, Server};
use serde_json::{json, Value};

const POOL: &str = "us-east-1_OAuthTok1";
const MACHINE: &str = "machine1";
const SECRET: &str = "machinesecret0000000000000000001";
const READ: &str = "https://api.example.com/read";
const WRITE: &str = "https://api.example.com/write";

fn config(gateway_port: u16) -> String {
    format!(
        r#"
pools:
  - id: {POOL}
    name: m2m
    domain: m2m-test
    resource_servers:
      - identifier: https://api.example.com
        name: api
        scopes:
          - {{name: read, description: Read}}
          - {{name: write, description: Write}}
          - {{name: admin, description: Admin}}
    clients:
      - id: {MACHINE}
        name: machine
        secret: {SECRET}
        allowed_oauth_flows_user_pool_client: true
        allowed_oauth_flows: [client_credentials]
        allowed_oauth_scopes: [{READ}, {WRITE}]
      - id: webclient1
        name: web
        secret: websecret
        allowed_oauth_flows_user_pool_client: true
        allowed_oauth_flows: [code]
        allowed_oauth_scopes: [openid]
        callback_urls: [http://localhost:3000/cb]
      - id: publicclient1
        name: public
gateway:
  listen: 127.0.0.1:{gateway_port}
  apis:
    - name: api
      stage: dev
      authorizers:
        pool: {{type: cognito, pools: [{POOL}]}}
      routes:
        - {{method: GET, path: /read, authorizer: pool, scopes: ["{READ}"], integration: {{type: mock, body: {{ok: true}}}}}}
        - {{method: GET, path: /admin, authorizer: pool, scopes: ["https://api.example.com/admin"], integration: {{type: mock, body: {{ok: true}}}}}}
"#
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

struct Call<'a> {
    s: &'a Server,
    url: String,
    auth: Option<String>,
    host: Option<String>,
    content_type: &'a str,
}

impl<'a> Call<'a> {
    fn new(s: &'a Server) -> Self {
        Call {
            s,
            url: format!("{}/domains/m2m-test/oauth2/token", s.url),
            auth: None,
            host: None,
            content_type: "application/x-www-form-urlencoded",
        }
    }

    fn send(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = self
            .s
            .http()
            .post(&self.url)
            .header("Content-Type", self.content_type)
            .body(body);
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        if let Some(h) = &self.host {
            req = req.header("Host", h);
        }
        let r = req.send().unwrap();
        let status = r.status().as_u16();
        let text = r.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {status} {text}")),
        )
    }
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An error answer: Cognito's body is `{"error": ...}` alone.
#[track_caller]
fn expect_error(got: (u16, Value), status: u16, error: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1, json!({ "error": error }));
}

#[test]
fn client_credentials_grant() {
    let gateway_port = free_port();
    let s = Server::start_with_config(&config(gateway_port));

    // Basic authentication, no scope: all the client's custom scopes.
    let mut c = Call::new(&s);
    c.auth = Some(basic(MACHINE, SECRET));
    let (status, v) = c.send(&[("grant_type", "client_credentials")]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert!(v.get("refresh_token").is_none() && v.get("id_token").is_none());
    let token = v["access_token"].as_str().unwrap().to_owned();
    let claims = jwt_claims(&token);
    assert_eq!(claims["sub"], MACHINE);
    assert_eq!(claims["client_id"], MACHINE);
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["version"], 2);
    assert_eq!(claims["iss"], format!("{}/{POOL}", s.url));
    assert_eq!(claims["scope"], format!("{READ} {WRITE}"));
    assert!(claims["jti"].is_string());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(claims.get("username").is_none(), "{claims}");
    assert!(claims.get("aud").is_none(), "{claims}");
    // Signed by a key of the pool's JWKS.
    let kid = jwt_header(&token)["kid"].as_str().unwrap().to_owned();
    let jwks: Value = s
        .http()
        .get(format!("{}/{POOL}/.well-known/jwks.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kid"] == kid.as_str()));

    // Body authentication, a requested subset.
    let c = Call::new(&s);
    let (status, v) = c.send(&[
        ("grant_type", "client_credentials"),
        ("client_id", MACHINE),
        ("client_secret", SECRET),
        ("scope", READ),
    ]);
    assert_eq!(status, 200, "{v}");
    let read_only = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&read_only)["scope"], READ);

    // By host name: `<domain>.<any host>`.
    let mut c = Call::new(&s);
    c.url = format!("{}/oauth2/token", s.url);
    c.host = Some(format!("m2m-test.auth.localhost:{}", s.port));
    c.auth = Some(basic(MACHINE, SECRET));
    let (status, v) = c.send(&[("grant_type", "client_credentials")]);
    assert_eq!(status, 200, "{v}");
    c.host = Some("unknown.auth.localhost".into());
    let (status, _) = c.send(&[("grant_type", "client_credentials")]);
    assert_eq!(status, 404);
    c.host = None; // Host: 127.0.0.1:<port>
    let (status, _) = c.send(&[("grant_type", "client_credentials")]);
    assert_eq!(status, 404);

    // Errors.
    let mut c = Call::new(&s);
    c.auth = Some(basic(MACHINE, "wrong"));
    expect_error(
        c.send(&[("grant_type", "client_credentials")]),
        401,
        "invalid_client",
    );
    c.auth = Some(basic("nobody", SECRET));
    expect_error(
        c.send(&[("grant_type", "client_credentials")]),
        401,
        "invalid_client",
    );
    c.auth = None;
    expect_error(
        c.send(&[("grant_type", "client_credentials")]),
        401,
        "invalid_client",
    );
    expect_error(
        c.send(&[("grant_type", "client_credentials"), ("client_id", MACHINE)]),
        401,
        "invalid_client",
    );
    c.auth = Some(basic(MACHINE, SECRET));
    expect_error(c.send(&[]), 400, "invalid_request");
    expect_error(
        c.send(&[("grant_type", "password")]),
        400,
        "unsupported_grant_type",
    );
    expect_error(
        c.send(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://api.example.com/admin"),
        ]),
        400,
        "invalid_scope",
    );
    expect_error(
        c.send(&[("grant_type", "client_credentials"), ("scope", "openid")]),
        400,
        "invalid_scope",
    );
    expect_error(
        c.send(&[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
        ]),
        400,
        "invalid_request",
    );
    c.content_type = "application/json";
    expect_error(
        c.send(&[("grant_type", "client_credentials")]),
        400,
        "invalid_request",
    );
    let mut c = Call::new(&s);
    c.auth = Some(basic("webclient1", "websecret"));
    expect_error(
        c.send(&[("grant_type", "client_credentials")]),
        400,
        "unauthorized_client",
    );
    let c = Call::new(&s);
    expect_error(
        c.send(&[
            ("grant_type", "client_credentials"),
            ("client_id", "publicclient1"),
        ]),
        400,
        "unauthorized_client",
    );

    // Discovery names the token endpoint.
    let doc: Value = s
        .http()
        .get(format!("{}/{POOL}/.well-known/openid-configuration", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/domains/m2m-test/oauth2/token", s.url)
    );

    // The gateway's scope checks accept the token.
    let gw = format!("http://127.0.0.1:{gateway_port}/dev");
    let get = |path: &str, token: &str| {
        s.http()
            .get(format!("{gw}{path}"))
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(get("/read", &token), 200);
    assert_eq!(get("/read", &read_only), 200);
    assert_eq!(get("/admin", &token), 403);

    // Deleting the client revokes its tokens at the gateway (within a second).
    s.ok(
        "DeleteUserPoolClient",
        json!({"UserPoolId": POOL, "ClientId": MACHINE}),
    );
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert_eq!(get("/read", &token), 401);
}

#[test]
fn a_deleted_scope_is_left_out_of_the_token() {
    let s = Server::start_with_config(&config(free_port()));
    // The resource server drops `write`; the client still lists it.
    s.ok(
        "UpdateResourceServer",
        serde_json::json!({"UserPoolId": POOL, "Identifier": "https://api.example.com",
                           "Name": "api", "Scopes": [
                               {"ScopeName": "read", "ScopeDescription": "Read"},
                               {"ScopeName": "admin", "ScopeDescription": "Admin"}]}),
    );
    let mut c = Call::new(&s);
    c.auth = Some(basic(MACHINE, SECRET));
    // AWS's developer guide: a deleted scope "is ignored and is not
    // included in the access token".
    let both = format!("{READ} {WRITE}");
    let (status, v) = c.send(&[("grant_type", "client_credentials"), ("scope", &both)]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        jwt_claims(v["access_token"].as_str().unwrap())["scope"],
        READ
    );
    let (status, v) = c.send(&[("grant_type", "client_credentials")]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        jwt_claims(v["access_token"].as_str().unwrap())["scope"],
        READ
    );
    // A scope the client never had is ignored (AWS's token endpoint
    // guide); with nothing else asked, the request is refused.
    let (status, v) = c.send(&[
        ("grant_type", "client_credentials"),
        ("scope", &format!("https://api.example.com/admin {READ}")),
    ]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        jwt_claims(v["access_token"].as_str().unwrap())["scope"],
        READ
    );
    expect_error(
        c.send(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://api.example.com/admin"),
        ]),
        400,
        "invalid_scope",
    );
}
