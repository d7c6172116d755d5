//! Issue #15's token attacks against the real `cognate` binary: the user
//! APIs (GetUser, GlobalSignOut, AssociateSoftwareToken, `/oauth2/userInfo`) and the gateway (a
//! `cognito` authorizer of the pool and a `jwt` authorizer of the same pool
//! over HTTP, each allowing one app client, with routes asking for an ID or
//! an access token). Every row of the shared table
//! (`crates/token/tests/forge/mod.rs`) is refused: the user APIs answer
//! `NotAuthorizedException` (HTTP 400; `InvalidParameterException` when the
//! token breaks the member's constraints, 1 to 16 384 characters of
//! `[A-Za-z0-9-_=.]`, which are checked first), userInfo 401
//! `invalid_token` (400 `invalid_request` for a header that is not text), the
//! gateway 401 with
//! exactly one count of the row's reason in its metrics (431 and no count
//! for a token larger than `max_header_bytes`); a URL named by `jku` or
//! `x5u` is never fetched. Real tokens come from the hosted UI's implicit
//! grant and from USER_PASSWORD_AUTH; re-signed variants use the pool's
//! keys read from its database. Then the state attacks: tokens of a user
//! who signed out, was disabled or was deleted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "../crates/token/tests/forge/mod.rs"]
mod forge;
mod hosted;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Server;
use forge::{attacks, Attack, Ctx, Key, Want};
use hosted::{Browser, CALLBACK, DOMAIN, POOL, WEB};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};

const PASSWORD: &str = "Passw0rd!";
const OTHER_CLIENT: &str = "atkotherclient1";
const OTHER_POOL: &str = "us-east-1_AtkOther1";
const OTHER_POOL_CLIENT: &str = "atkpoolbclient1";
const OTHER_DOMAIN: &str = "atk-other";
/// The gateway's default `max_header_bytes`.
const MAX_HEADER_BYTES: usize = 32 * 1024;

fn config(url: &str, gateway_port: u16) -> String {
    let user = |name: &str| {
        format!(
            "      - {{username: {name}, password: \"{PASSWORD}\", attributes: {{email: {name}@example.com, email_verified: \"true\"}}}}\n"
        )
    };
    let users: String = ["alice", "carol", "dave", "erin"]
        .iter()
        .map(|u| user(u))
        .collect();
    let routes = |authorizer: &str| {
        format!(
            r#"        - {{method: GET, path: /id, authorizer: {authorizer}, token_use: id, integration: {{type: mock, body: {{ok: true}}}}}}
        - {{method: GET, path: /access, authorizer: {authorizer}, token_use: access, integration: {{type: mock, body: {{ok: true}}}}}}
"#
        )
    };
    format!(
        r#"pools:
  - id: {POOL}
    name: attacks
    domain: {DOMAIN}
    clients:
      - id: {WEB}
        name: web
        allowed_oauth_flows_user_pool_client: true
        allowed_oauth_flows: [implicit]
        allowed_oauth_scopes: [openid, email, aws.cognito.signin.user.admin]
        callback_urls: [{CALLBACK}]
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
      - id: {OTHER_CLIENT}
        name: other
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH]
    users:
{users}  - id: {OTHER_POOL}
    name: other
    domain: {OTHER_DOMAIN}
    clients:
      - id: {OTHER_POOL_CLIENT}
        name: web
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH]
    users:
{mallory}gateway:
  listen: 127.0.0.1:{gateway_port}
  apis:
    - name: cognito
      authorizers:
        pool: {{type: cognito, pools: [{POOL}], clients: [{WEB}]}}
      routes:
{cognito_routes}    - name: jwt
      stage: jwt
      authorizers:
        pool: {{type: jwt, issuer: "{url}/{POOL}", audience: [{WEB}], jwks_uri: "{url}/{POOL}/.well-known/jwks.json"}}
      routes:
{jwt_routes}"#,
        mallory = user("mallory"),
        cognito_routes = routes("pool"),
        jwt_routes = routes("pool"),
    )
}

/// A local HTTP server standing for the attacker's: counts connections.
struct Spy {
    url: String,
    hits: Arc<AtomicUsize>,
}

fn spy() -> Spy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut s) = stream {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
            }
        }
    });
    Spy { url, hits }
}

struct Env {
    s: Server,
    gateway: String,
    spy: Spy,
}

fn start() -> Env {
    let port = common::free_port();
    let gateway_port = common::free_port();
    let s = Server::start_with_config_on(
        port,
        &config(&format!("http://127.0.0.1:{port}"), gateway_port),
    );
    let gateway = format!("http://127.0.0.1:{gateway_port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.http().get(format!("{gateway}/metrics")).send().is_err() {
        assert!(Instant::now() < deadline, "the gateway did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Env {
        s,
        gateway,
        spy: spy(),
    }
}

/// Tokens of the implicit grant (openid, so userInfo answers): (access, id).
fn oauth_tokens(s: &Server, user: &str) -> (String, String) {
    let mut b = Browser::new(s);
    let r = b.sign_in(
        &[
            ("response_type", "token"),
            ("scope", "openid email aws.cognito.signin.user.admin"),
        ],
        user,
        PASSWORD,
    );
    assert_eq!(r.status, 302, "{}", r.body);
    let p = r.redirect_params();
    (p["access_token"].clone(), p["id_token"].clone())
}

/// USER_PASSWORD_AUTH tokens: (access, id).
fn api_tokens(s: &Server, client: &str, user: &str) -> (String, String) {
    let r = s.login(client, user, PASSWORD);
    (
        r["AccessToken"].as_str().unwrap().to_owned(),
        r["IdToken"].as_str().unwrap().to_owned(),
    )
}

/// A pool's newest key of `purpose` (`id` or `access`), from its database.
fn pool_key(s: &Server, pool: &str, purpose: &str) -> Key {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let keys = rt.block_on(async { s.store().await.list_keys(pool).await.unwrap() });
    let k = keys.iter().rev().find(|k| k.purpose == purpose).unwrap();
    Key::new(&k.kid, &k.pkcs8)
}

fn ctx(env: &Env) -> Ctx {
    let s = &env.s;
    let (access, id) = oauth_tokens(s, "alice");
    let (other_client_access, other_client_id) = api_tokens(s, OTHER_CLIENT, "alice");
    let (other_pool_access, other_pool_id) = api_tokens(s, OTHER_POOL_CLIENT, "mallory");
    let jwks: Value = s
        .http()
        .get(format!("{}/{POOL}/.well-known/jwks.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    Ctx {
        issuer: format!("{}/{POOL}", s.url),
        now: cognate_token::now_secs(),
        id_token: id,
        access_token: access,
        id_key: pool_key(s, POOL, "id"),
        access_key: pool_key(s, POOL, "access"),
        jwks,
        other_pool_id_token: other_pool_id,
        other_pool_access_token: other_pool_access,
        other_pool_key: pool_key(s, OTHER_POOL, "access"),
        other_client_id_token: other_client_id,
        other_client_access_token: other_client_access,
        attacker: Key::generate("attacker-key-1"),
        spy_url: env.spy.url.clone(),
    }
}

/// The Authorization header of a token, when HTTP can carry it at all.
fn bearer(token: &str) -> Option<HeaderValue> {
    HeaderValue::from_bytes(format!("Bearer {token}").as_bytes()).ok()
}

/// The user APIs' answer to a refused token: the member's constraints
/// (1 to 16 384 characters of `[A-Za-z0-9-_=.]`) are checked first.
fn api_error(token: &str) -> &'static str {
    let pattern_ok = (1..=16_384).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=.".contains(&b));
    if pattern_ok {
        "NotAuthorizedException"
    } else {
        "InvalidParameterException"
    }
}

/// userInfo's error for a refused token: `invalid_request` when the
/// header is not text (RFC 6750: no token was sent), else `invalid_token`.
fn userinfo_error(token: &str) -> &'static str {
    if token.is_ascii() {
        "invalid_token"
    } else {
        "invalid_request"
    }
}

/// What the user APIs answered to `token`, as `(op, status, __type)`, and
/// userInfo's `(status, error)` (None when HTTP cannot carry the token).
fn user_api_answers(env: &Env, token: &str) -> Vec<(String, u16, String)> {
    let s = &env.s;
    let mut out = Vec::new();
    for op in ["GetUser", "GlobalSignOut", "AssociateSoftwareToken"] {
        let (status, v) = s.call(op, json!({"AccessToken": token}));
        out.push((
            op.to_owned(),
            status,
            v["__type"].as_str().unwrap_or("").to_owned(),
        ));
    }
    if let Some(h) = bearer(token) {
        let r = s
            .http()
            .get(format!("{}/domains/{DOMAIN}/oauth2/userInfo", s.url))
            .header(AUTHORIZATION, h)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let v: Value = r.json().unwrap_or(Value::Null);
        out.push((
            "userInfo".to_owned(),
            status,
            v["error"].as_str().unwrap_or("").to_owned(),
        ));
    }
    out
}

/// The gateway's token outcome counters: (api, outcome) → count.
fn outcomes(env: &Env) -> BTreeMap<(String, String), u64> {
    let text = env
        .s
        .http()
        .get(format!("{}/metrics", env.gateway))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let label = |line: &str, name: &str| -> String {
        let key = format!("{name}=\"");
        let at = line.find(&key).unwrap() + key.len();
        line[at..at + line[at..].find('"').unwrap()].to_owned()
    };
    text.lines()
        .filter(|l| l.starts_with("cognate_gateway_token_outcomes_total{"))
        .map(|l| {
            let count = l.rsplit(' ').next().unwrap().parse().unwrap();
            ((label(l, "api"), label(l, "outcome")), count)
        })
        .collect()
}

const APIS: [(&str, &str); 2] = [("cognito", ""), ("jwt", "/jwt")];

fn gateway_url(env: &Env, prefix: &str, want: Want) -> String {
    let path = match want {
        Want::Id => "/id",
        Want::Access => "/access",
    };
    format!("{}{prefix}{path}", env.gateway)
}

/// The gateway's status for `token` on a route of `prefix`.
fn gateway_status(env: &Env, prefix: &str, want: Want, token: &str) -> Option<u16> {
    let h = bearer(token)?;
    Some(
        env.s
            .http()
            .get(gateway_url(env, prefix, want))
            .header(AUTHORIZATION, h)
            .send()
            .unwrap()
            .status()
            .as_u16(),
    )
}

/// Checks one row everywhere it applies; returns what went wrong.
fn check_row(env: &Env, row: &Attack) -> Vec<String> {
    let mut wrong = Vec::new();
    if row.user_api {
        let want = api_error(&row.token);
        for (op, status, kind) in user_api_answers(env, &row.token) {
            let ok = if op == "userInfo" && row.token.len() + 7 > MAX_HEADER_BYTES {
                // The main listener refuses a head over its limit (431),
                // like the gateway's, before any token is read.
                status == 431
            } else if op == "userInfo" {
                let error = userinfo_error(&row.token);
                let want_status = if error == "invalid_request" { 400 } else { 401 };
                status == want_status && kind == error
            } else {
                status == 400 && kind == want
            };
            if !ok {
                wrong.push(format!(
                    "{}: {op} answered {status} {kind} (expected {})",
                    row.name,
                    if op == "userInfo" {
                        userinfo_error(&row.token)
                    } else {
                        want
                    }
                ));
            }
        }
    }
    for (api, prefix) in APIS {
        let before = outcomes(env);
        let Some(status) = gateway_status(env, prefix, row.want, &row.token) else {
            continue;
        };
        let after = outcomes(env);
        let changed: Vec<(String, u64)> = after
            .iter()
            .filter(|(k, _)| k.0 == api)
            .filter_map(|(k, v)| {
                let d = v - before.get(k).copied().unwrap_or(0);
                (d > 0).then(|| (k.1.clone(), d))
            })
            .collect();
        let (want_status, want_changed) = if row.token.len() + 7 > MAX_HEADER_BYTES {
            (431, vec![])
        } else {
            (401, vec![(row.reason.to_owned(), 1)])
        };
        if status != want_status || changed != want_changed {
            wrong.push(format!(
                "{}: gateway {api} answered {status}, counted {changed:?} (expected {want_status}, {want_changed:?})",
                row.name
            ));
        }
    }
    wrong
}

#[test]
fn token_attacks_are_refused_by_the_user_apis_and_the_gateway() {
    let env = start();
    let s = &env.s;
    let c = ctx(&env);
    let rows = attacks(&c);

    // The controls: the real tokens work everywhere they should.
    let user = s.ok("GetUser", json!({"AccessToken": c.access_token}));
    assert_eq!(user["Username"], "alice");
    for (api, prefix) in APIS {
        for (want, token) in [(Want::Id, &c.id_token), (Want::Access, &c.access_token)] {
            assert_eq!(
                gateway_status(&env, prefix, want, token),
                Some(200),
                "{api} {want:?}"
            );
        }
    }
    let info = s
        .http()
        .get(format!("{}/domains/{DOMAIN}/oauth2/userInfo", s.url))
        .bearer_auth(&c.access_token)
        .send()
        .unwrap();
    assert_eq!(info.status(), 200);

    let wrong: Vec<String> = rows.iter().flat_map(|row| check_row(&env, row)).collect();
    assert!(
        wrong.is_empty(),
        "{} of {} rows went wrong:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
    assert_eq!(
        env.spy.hits.load(Ordering::SeqCst),
        0,
        "a jku/x5u was fetched"
    );

    // No attack signed alice out (GlobalSignOut was tried with each).
    s.ok("GetUser", json!({"AccessToken": c.access_token}));

    // The user APIs serve every pool: pool B's token is its own user's
    // there, while pool B's domain does not answer for pool A's token.
    let user = s.ok("GetUser", json!({"AccessToken": c.other_pool_access_token}));
    assert_eq!(user["Username"], "mallory");
    let info = |domain: &str| {
        let r = s
            .http()
            .get(format!("{}/domains/{domain}/oauth2/userInfo", s.url))
            .bearer_auth(&c.access_token)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().unwrap()["error"].clone())
    };
    assert_eq!(info(OTHER_DOMAIN), (401, json!("invalid_token")));
    assert_eq!(info(DOMAIN).0, 200);
}

#[test]
fn attacks_in_flight_together_are_all_refused_and_counted() {
    let env = start();
    let c = ctx(&env);
    let rows: Vec<Attack> = attacks(&c)
        .into_iter()
        .filter(|r| r.token.len() + 7 <= MAX_HEADER_BYTES && bearer(&r.token).is_some())
        .collect();
    let before = outcomes(&env);
    let threads = 24;
    let wrong: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (env, rows, c) = (&env, &rows, &c);
                scope.spawn(move || {
                    let mut wrong = Vec::new();
                    // Each thread sends every row to one API, from its own
                    // offset, and the valid token between attacks.
                    let (api, prefix) = APIS[t % 2];
                    for k in 0..rows.len() {
                        let row = &rows[(k + t * 5) % rows.len()];
                        let good = match row.want {
                            Want::Id => &c.id_token,
                            Want::Access => &c.access_token,
                        };
                        if gateway_status(env, prefix, row.want, good) != Some(200) {
                            wrong.push(format!("{api}: the valid token was refused"));
                        }
                        if gateway_status(env, prefix, row.want, &row.token) != Some(401) {
                            wrong.push(format!("{api}: {}", row.name));
                        }
                        if row.user_api && k % 4 == t % 4 {
                            let (status, v) =
                                env.s.call("GetUser", json!({"AccessToken": row.token}));
                            if status != 400 || v["__type"] != api_error(&row.token) {
                                wrong.push(format!("GetUser: {}: {status} {v}", row.name));
                            }
                        }
                    }
                    wrong
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
    let after = outcomes(&env);
    let per_api = threads as u64 / 2;
    for (api, _) in APIS {
        let mut expected: BTreeMap<String, u64> = BTreeMap::new();
        for row in &rows {
            *expected.entry(row.reason.to_owned()).or_default() += per_api;
        }
        expected.insert("ok".into(), per_api * rows.len() as u64);
        for (k, v) in &after {
            if k.0 != api {
                continue;
            }
            let d = v - before.get(k).copied().unwrap_or(0);
            assert_eq!(d, expected.get(&k.1).copied().unwrap_or(0), "{api} {}", k.1);
        }
    }
    assert_eq!(env.spy.hits.load(Ordering::SeqCst), 0);
    env.s.ok("GetUser", json!({"AccessToken": c.access_token}));
}

#[test]
fn tokens_of_a_signed_out_disabled_or_deleted_user_are_refused() {
    let env = start();
    let s = &env.s;
    // Each user's tokens work, then the user signs out, is disabled or is
    // deleted; the gateway sees the tokens only afterwards (its view of a
    // user is at most a second old, and it has none yet).
    let cases = [
        (
            "carol",
            "signed out",
            "NotAuthorizedException",
            "Access Token has been revoked",
        ),
        (
            "dave",
            "disabled",
            "NotAuthorizedException",
            "User is disabled.",
        ),
        (
            "erin",
            "deleted",
            "UserNotFoundException",
            "User does not exist.",
        ),
    ];
    let mut tokens = Vec::new();
    for (user, what, _, _) in cases {
        let (access, id) = oauth_tokens(s, user);
        assert_eq!(
            s.ok("GetUser", json!({"AccessToken": access}))["Username"],
            user
        );
        match what {
            "signed out" => {
                s.ok("GlobalSignOut", json!({"AccessToken": access}));
            }
            "disabled" => {
                s.ok(
                    "AdminDisableUser",
                    json!({"UserPoolId": POOL, "Username": user}),
                );
            }
            _ => {
                s.ok(
                    "AdminDeleteUser",
                    json!({"UserPoolId": POOL, "Username": user}),
                );
            }
        }
        tokens.push((access, id));
    }
    let before = outcomes(&env);
    for ((user, what, kind, message), (access, id)) in cases.iter().zip(&tokens) {
        // GetUser declares UserNotFoundException (Cognito's answer for a
        // deleted user's token); GlobalSignOut and AssociateSoftwareToken
        // do not, so they answer NotAuthorizedException.
        for op in ["GetUser", "GlobalSignOut", "AssociateSoftwareToken"] {
            let kind = if op == "GetUser" {
                *kind
            } else {
                "NotAuthorizedException"
            };
            let (status, v) = s.call(op, json!({"AccessToken": access}));
            assert_eq!(
                (status, v["__type"].as_str(), v["message"].as_str()),
                (400, Some(kind), Some(*message)),
                "{op}, {user} {what}"
            );
        }
        let r = s
            .http()
            .get(format!("{}/domains/{DOMAIN}/oauth2/userInfo", s.url))
            .bearer_auth(access)
            .send()
            .unwrap();
        assert_eq!(r.status(), 401, "userInfo, {user} {what}");
        for (want, token) in [(Want::Access, access), (Want::Id, id)] {
            assert_eq!(
                gateway_status(&env, "", want, token),
                Some(401),
                "gateway, {user} {what}, {want:?}"
            );
        }
    }
    let after = outcomes(&env);
    let delta = |outcome: &str| {
        let k = ("cognito".to_owned(), outcome.to_owned());
        after[&k] - before.get(&k).copied().unwrap_or(0)
    };
    assert_eq!(delta("revoked"), 6);
    assert_eq!(delta("ok"), 0);
}
