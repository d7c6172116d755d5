//! The admin console against the real binary over HTTP: development mode,
//! sign-in with configured keys (wrong secret, rate limit, cookie
//! attributes), CSRF, pool-limited keys, changes visible through the JSON
//! API, the API's validation messages, and the console closed beyond
//! loopback without credentials.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, Signer};
use serde_json::json;

const ADMIN: (&str, &str) = ("AKIDCONSOLE01", "console-secret-0001");
const LIMITED: (&str, &str) = ("AKIDLIMITED01", "limited-secret-0001");
const MINE: &str = "us-east-1_Mine1";
const OTHER: &str = "us-east-1_Other1";

fn config() -> String {
    format!(
        r#"
admin:
  credentials:
    - access_key_id: {}
      secret_access_key: {}
    - access_key_id: {}
      secret_access_key: {}
      pools: [{MINE}]
pools:
  - id: {MINE}
    name: mine
  - id: {OTHER}
    name: other
"#,
        ADMIN.0, ADMIN.1, LIMITED.0, LIMITED.1
    )
}

fn signed_server() -> Server {
    Server::start_signed(Some(&config()), &[], Signer::new(ADMIN.0, ADMIN.1))
}

/// A browser of the console: no redirects followed, one cookie kept.
struct Browser {
    base: String,
    http: reqwest::blocking::Client,
    cookie: Option<String>,
    /// Sent as X-Forwarded-For (a server that trusts its proxy).
    forwarded_for: Option<&'static str>,
}

struct Page {
    status: u16,
    location: Option<String>,
    set_cookie: Vec<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Page {
    /// The CSRF token of the page's first form.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a CSRF field");
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    /// The body with HTML's escapes undone (to compare with API messages).
    fn text(&self) -> String {
        self.body
            .replace("&#x27;", "'")
            .replace("&#x2f;", "/")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }
}

impl Browser {
    fn new(s: &Server) -> Browser {
        Browser {
            base: s.url.clone(),
            http: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            cookie: None,
            forwarded_for: None,
        }
    }

    fn send(&mut self, req: reqwest::blocking::RequestBuilder) -> Page {
        let req = match &self.cookie {
            Some(c) => req.header("cookie", format!("cognate_console={c}")),
            None => req,
        };
        let req = match self.forwarded_for {
            Some(ip) => req.header("x-forwarded-for", ip),
            None => req,
        };
        let r = req.send().unwrap();
        let set_cookie: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &set_cookie {
            let value = c
                .strip_prefix("cognate_console=")
                .unwrap()
                .split(';')
                .next()
                .unwrap();
            self.cookie = (!value.is_empty()).then(|| value.to_owned());
        }
        Page {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned()),
            set_cookie,
            headers: r.headers().clone(),
            body: r.text().unwrap(),
        }
    }

    fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap());
        self.send(req)
    }

    /// Signs in with a key (through the form, with its CSRF token).
    fn sign_in(&mut self, key: &str, secret: &str) -> Page {
        let form = self.get("/console/sign-in");
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/console/sign-in",
            &[
                ("csrf", &csrf),
                ("access_key_id", key),
                ("secret_access_key", secret),
                ("next", "/console/pools"),
            ],
        )
    }
}

#[test]
fn development_mode_opens_without_sign_in_under_a_banner() {
    let s = Server::start();
    let mut b = Browser::new(&s);
    // The first visit gets a development session and comes back.
    let first = b.get("/console/pools");
    assert_eq!(first.status, 303);
    assert_eq!(first.location.as_deref(), Some("/console/pools"));
    assert!(b.cookie.is_some());
    let page = b.get("/console/pools");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Development mode"), "{}", page.body);
    // Security headers on every console page.
    let h = &page.headers;
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    // The sign-in page is not needed.
    assert_eq!(b.get("/console/sign-in").status, 303);
}

#[test]
fn sign_in_refuses_a_wrong_secret_and_gives_a_strict_cookie_for_the_right_one() {
    let s = signed_server();
    let mut b = Browser::new(&s);
    // Without a session: to the sign-in page, remembering where to go.
    let page = b.get("/console/pools/us-east-1_Mine1");
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location.as_deref(),
        Some("/console/sign-in?next=%2Fconsole%2Fpools%2Fus-east-1_Mine1")
    );

    let wrong = b.sign_in(ADMIN.0, "not-the-secret");
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("not correct"), "{}", wrong.body);
    assert!(!wrong.body.contains("not-the-secret"));
    assert_eq!(b.get("/console/pools").status, 303, "still signed out");
    let unknown = b.sign_in("AKIDUNKNOWN01", ADMIN.1);
    assert_eq!(unknown.status, 401);

    let before = b.cookie.clone();
    let ok = b.sign_in(ADMIN.0, ADMIN.1);
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location.as_deref(), Some("/console/pools"));
    let cookie = &ok.set_cookie[0];
    for part in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "http public URL: {cookie}");
    assert_ne!(b.cookie, before, "a new session id at sign-in");
    let page = b.get("/console/pools");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(ADMIN.0));
    assert!(!page.body.contains("Development mode"));
    assert!(page.body.contains("mine") && page.body.contains("other"));

    // Sign-out ends the session.
    let csrf = page.csrf();
    let out = b.post("/console/sign-out", &[("csrf", &csrf)]);
    assert_eq!(out.status, 303);
    assert_eq!(b.get("/console/pools").status, 303);
}

#[test]
fn failed_sign_ins_are_rate_limited() {
    let s = signed_server();
    let mut b = Browser::new(&s);
    for _ in 0..5 {
        assert_eq!(b.sign_in(ADMIN.0, "wrong").status, 401);
    }
    // Now even the right secret waits.
    let limited = b.sign_in(ADMIN.0, ADMIN.1);
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.body.contains("Too many failed sign-in attempts"));
    assert_eq!(b.get("/console/pools").status, 303);
}

#[test]
fn the_sign_in_limit_holds_with_many_attempts_in_flight() {
    let s = signed_server();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(24));
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|_| {
                let barrier = barrier.clone();
                let s = &s;
                scope.spawn(move || {
                    let mut b = Browser::new(s);
                    let csrf = b.get("/console/sign-in").csrf();
                    barrier.wait();
                    b.post(
                        "/console/sign-in",
                        &[
                            ("csrf", &csrf),
                            ("access_key_id", ADMIN.0),
                            ("secret_access_key", "wrong"),
                        ],
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        19,
        "{statuses:?}"
    );
}

#[test]
fn a_post_without_or_with_a_wrong_csrf_token_is_refused() {
    let s = signed_server();
    let mut b = Browser::new(&s);
    assert_eq!(b.sign_in(ADMIN.0, ADMIN.1).status, 303);
    let form = b.get("/console/pools/new");
    assert_eq!(form.status, 200);
    let csrf = form.csrf();

    let none = b.post("/console/pools/new", &[("pool_name", "csrf-none")]);
    assert_eq!(none.status, 403);
    let wrong = b.post(
        "/console/pools/new",
        &[
            ("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ("pool_name", "csrf-wrong"),
        ],
    );
    assert_eq!(wrong.status, 403);
    // Another session's token is not this one's.
    let mut other = Browser::new(&s);
    other.sign_in(ADMIN.0, ADMIN.1);
    let theirs = other.get("/console/pools/new").csrf();
    let cross = b.post(
        "/console/pools/new",
        &[("csrf", &theirs), ("pool_name", "csrf-cross")],
    );
    assert_eq!(cross.status, 403);
    // Without any session a form is refused too (no redirect for a POST).
    let mut stranger = Browser::new(&s);
    assert_eq!(
        stranger
            .post(
                "/console/pools/new",
                &[("csrf", &csrf), ("pool_name", "csrf-stranger")]
            )
            .status,
        403
    );
    let names: Vec<String> = s.ok("ListUserPools", json!({"MaxResults": 60}))["UserPools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("csrf-")), "{names:?}");
}

#[test]
fn a_pool_created_in_the_console_is_the_apis_and_validation_errors_are_the_apis() {
    let s = signed_server();
    let mut b = Browser::new(&s);
    b.sign_in(ADMIN.0, ADMIN.1);
    let csrf = b.get("/console/pools/new").csrf();
    let created = b.post(
        "/console/pools/new",
        &[
            ("csrf", &csrf),
            ("pool_name", "from-console"),
            ("sign_in", "email"),
            ("min_length", "10"),
            ("upper", "on"),
            ("numbers", "on"),
            ("temp_days", "3"),
            ("mfa", "OPTIONAL"),
            ("required", "email"),
            ("auto_verify", "on"),
        ],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let at = created.location.unwrap();
    let id = at.strip_prefix("/console/pools/").unwrap().to_owned();
    let pool = &s.ok("DescribeUserPool", json!({"UserPoolId": id}))["UserPool"];
    assert_eq!(pool["Name"], "from-console");
    assert_eq!(pool["UsernameAttributes"], json!(["email"]));
    assert_eq!(pool["MfaConfiguration"], "OPTIONAL");
    let policy = &pool["Policies"]["PasswordPolicy"];
    assert_eq!(policy["MinimumLength"], 10);
    assert_eq!(policy["RequireUppercase"], true);
    assert_eq!(policy["RequireLowercase"], false);
    assert_eq!(policy["TemporaryPasswordValidityDays"], 3);
    let view = b.get(&at);
    assert_eq!(view.status, 200);
    assert!(view.body.contains("User pool from-console created."));
    assert!(view
        .text()
        .contains(&format!("{}/{id}/.well-known/jwks.json", s.url)));

    // A name the model refuses: the console shows the API's own message.
    let bad = "bad/name";
    let api = s.err(
        "CreateUserPool",
        json!({"PoolName": bad}),
        "InvalidParameterException",
    );
    let csrf = b.get("/console/pools/new").csrf();
    let page = b.post(
        "/console/pools/new",
        &[
            ("csrf", &csrf),
            ("pool_name", bad),
            ("min_length", "8"),
            ("temp_days", "7"),
        ],
    );
    assert_eq!(page.status, 200);
    assert!(page.text().contains(&api), "{api} not in {}", page.body);
    assert!(
        page.body.contains("class=\"field-error\""),
        "beside the field"
    );

    // Edit through UpdateUserPool keeps what the form does not show.
    let csrf = b.get(&format!("{at}/edit")).csrf();
    let edited = b.post(
        &format!("{at}/edit"),
        &[
            ("csrf", &csrf),
            ("pool_name", "renamed"),
            ("min_length", "12"),
            ("temp_days", "3"),
            ("mfa", "OPTIONAL"),
        ],
    );
    assert_eq!(edited.status, 303, "{}", edited.body);
    let pool = &s.ok("DescribeUserPool", json!({"UserPoolId": id}))["UserPool"];
    assert_eq!(pool["Name"], "renamed");
    assert_eq!(pool["Policies"]["PasswordPolicy"]["MinimumLength"], 12);
    assert_eq!(pool["AutoVerifiedAttributes"], json!(["email"]));
    assert_eq!(
        pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
        true
    );

    // Delete asks for the typed name.
    let csrf = b.get(&format!("{at}/delete")).csrf();
    let wrong = b.post(
        &format!("{at}/delete"),
        &[("csrf", &csrf), ("confirm", "nope")],
    );
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("does not match"));
    s.ok("DescribeUserPool", json!({"UserPoolId": id}));
    let gone = b.post(
        &format!("{at}/delete"),
        &[("csrf", &csrf), ("confirm", "renamed")],
    );
    assert_eq!(gone.status, 303);
    s.err(
        "DescribeUserPool",
        json!({"UserPoolId": id}),
        "ResourceNotFoundException",
    );
}

#[test]
fn a_pool_limited_key_sees_and_manages_only_its_pools() {
    let s = signed_server();
    let mut b = Browser::new(&s);
    assert_eq!(b.sign_in(LIMITED.0, LIMITED.1).status, 303);
    let list = b.get("/console/pools");
    assert_eq!(list.status, 200);
    assert!(list.body.contains(MINE), "{}", list.body);
    assert!(!list.body.contains(OTHER), "{}", list.body);
    assert!(!list.body.contains("Create user pool"));
    assert_eq!(b.get(&format!("/console/pools/{MINE}")).status, 200);
    let other = b.get(&format!("/console/pools/{OTHER}"));
    assert_eq!(other.status, 400);
    assert!(
        other.body.contains("AccessDeniedException"),
        "{}",
        other.body
    );
    // Changes to another pool are refused by the same rule.
    let csrf = list.csrf();
    let denied = b.post(
        &format!("/console/pools/{OTHER}/groups"),
        &[("csrf", &csrf), ("group_name", "nope")],
    );
    assert!(denied.body.contains("AccessDeniedException"));
    s.err(
        "GetGroup",
        json!({"UserPoolId": OTHER, "GroupName": "nope"}),
        "ResourceNotFoundException",
    );
    // Its own pool: a group created in the console is the API's.
    let created = b.post(
        &format!("/console/pools/{MINE}/groups"),
        &[
            ("csrf", &csrf),
            ("group_name", "admins"),
            ("precedence", "1"),
        ],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let g = s.ok(
        "GetGroup",
        json!({"UserPoolId": MINE, "GroupName": "admins"}),
    );
    assert_eq!(g["Group"]["Precedence"], 1);
}

#[test]
fn users_sessions_a_client_secret_and_a_domain_through_the_console() {
    let s = Server::start();
    let pool = s.create_pool("people", json!({}));
    for i in 0..55 {
        s.admin_user(
            &pool,
            &format!("user{i:02}"),
            json!([{"Name": "email", "Value": format!("u{i:02}@example.com")}]),
        );
    }
    let mut b = Browser::new(&s);
    b.get("/console/pools");
    let first = b.get(&format!("/console/pools/{pool}/users"));
    assert_eq!(first.status, 200);
    assert_eq!(
        first
            .body
            .matches("<tr><td data-label=\"Username\">")
            .count(),
        50
    );
    let text = first.text();
    let next = text
        .split("href=\"")
        .filter(|h| h.contains("token="))
        .map(|h| h[..h.find('"').unwrap()].to_owned())
        .next()
        .expect("a next page");
    let second = b.get(&next);
    assert_eq!(
        second
            .body
            .matches("<tr><td data-label=\"Username\">")
            .count(),
        5
    );
    assert!(second.body.contains("user54"));
    let found = b.get(&format!("/console/pools/{pool}/users?by=email&q=u07%40"));
    assert_eq!(
        found
            .body
            .matches("<tr><td data-label=\"Username\">")
            .count(),
        1
    );
    assert!(found.body.contains("user07"));

    // Create with a temporary password: FORCE_CHANGE_PASSWORD.
    let csrf = b.get(&format!("/console/pools/{pool}/users/new")).csrf();
    let created = b.post(
        &format!("/console/pools/{pool}/users/new"),
        &[
            ("csrf", &csrf),
            ("username", "carol"),
            ("email", "carol@example.com"),
            ("temporary_password", "Temp0rary!pass"),
        ],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "carol"}),
    );
    assert_eq!(user["UserStatus"], "FORCE_CHANGE_PASSWORD");
    let view = b.get(created.location.as_deref().unwrap());
    assert!(view.body.contains("FORCE_CHANGE_PASSWORD"), "{}", view.body);
    // A session appears, and can be revoked (with session tracking on).
    s.ok(
        "SetUserPoolSessionConfiguration",
        json!({"UserPoolId": pool, "UserSessionTracking": "ENABLED", "TokenSession": {"MaxPerUser": 10}}),
    );
    let client = s.create_client(&pool, json!({"ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}));
    let tokens = s.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "user01", "PASSWORD": common::PASSWORD}}),
    )["AuthenticationResult"]
        .clone();
    let user01 = b.get(&format!("/console/pools/{pool}/users/user01"));
    assert!(user01.body.contains(&client), "{}", user01.body);
    let session = s.ok(
        "AdminListUserSessions",
        json!({"UserPoolId": pool, "Username": "user01"}),
    )["Sessions"][0]["SessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let csrf = user01.csrf();
    let revoked = b.post(
        &format!("/console/pools/{pool}/users/user01/sessions/revoke"),
        &[("csrf", &csrf), ("session_id", &session)],
    );
    assert_eq!(revoked.status, 303);
    s.err(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
               "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]}}),
        "NotAuthorizedException",
    );

    // An app client with a secret: shown once, the secret the API has.
    let csrf = b.get(&format!("/console/pools/{pool}/clients/new")).csrf();
    let created = b.post(
        &format!("/console/pools/{pool}/clients/new"),
        &[
            ("csrf", &csrf),
            ("client_name", "backend"),
            ("generate_secret", "on"),
            ("flows", "ALLOW_REFRESH_TOKEN_AUTH"),
            ("access_validity", "60"),
            ("id_validity", "60"),
            ("refresh_validity", "30"),
        ],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let at = created.location.unwrap();
    let first = b.get(&at);
    assert!(
        first.body.contains("id=\"client-secret\""),
        "{}",
        first.body
    );
    let client_id = at.rsplit('/').next().unwrap();
    let described = s.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client_id}),
    );
    let secret = described["UserPoolClient"]["ClientSecret"]
        .as_str()
        .unwrap();
    assert!(first.body.contains(secret));
    let again = b.get(&at);
    assert_eq!(again.status, 200);
    assert!(!again.body.contains(secret), "the secret is shown once");

    // The pool page lists the kids of its JWKS.
    let jwks: serde_json::Value = s
        .http()
        .get(format!("{}/{pool}/.well-known/jwks.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let view = b.get(&format!("/console/pools/{pool}"));
    for key in jwks["keys"].as_array().unwrap() {
        assert!(view.text().contains(key["kid"].as_str().unwrap()));
    }

    // A domain: the hosted UI's login page of a client with a callback URL.
    let view = b.get(&format!("/console/pools/{pool}"));
    let csrf = view.csrf();
    let made = b.post(
        &format!("/console/pools/{pool}/domain"),
        &[("csrf", &csrf), ("domain", "console-people")],
    );
    assert_eq!(made.status, 303);
    let d = s.ok(
        "DescribeUserPoolDomain",
        json!({"Domain": "console-people"}),
    );
    assert_eq!(d["DomainDescription"]["UserPoolId"], pool);
    let hosted = s.create_client(
        &pool,
        json!({"ClientName": "web", "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid"],
               "AllowedOAuthFlowsUserPoolClient": true, "SupportedIdentityProviders": ["COGNITO"],
               "CallbackURLs": ["http://localhost:9/cb"]}),
    );
    let page = b
        .get(&format!("/console/pools/{pool}/clients/{hosted}"))
        .text();
    let login = format!(
        "{}/domains/console-people/login?client_id={hosted}&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A9%2Fcb",
        s.url
    );
    assert!(page.contains(&login), "{page}");
    let r = s.http().get(&login).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "the login page answers");

    // Disable, through the API's operation.
    let csrf = view.csrf();
    let r = b.post(
        &format!("/console/pools/{pool}/users/carol/action"),
        &[("csrf", &csrf), ("do", "disable")],
    );
    assert_eq!(r.status, 303);
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "carol"}),
    );
    assert_eq!(user["Enabled"], false);
}

#[test]
fn the_console_is_closed_beyond_loopback_without_credentials() {
    let port = common::free_port();
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
    cmd.args([
        "serve",
        "--listen",
        &format!("0.0.0.0:{port}"),
        "--log",
        "warn",
        "--insecure-unsigned-admin",
    ])
    .arg("--data-dir")
    .arg(tmp.path())
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    for var in [
        "COGNATE_CONFIG",
        "COGNATE_DATABASE_URL",
        "COGNATE_ADMIN_ACCESS_KEY_ID",
        "COGNATE_ADMIN_SECRET_ACCESS_KEY",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().unwrap();
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while http
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .map(|r| r.status().as_u16() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    for path in ["/console/", "/console/pools", "/console/sign-in"] {
        let r = http
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "{path}");
        assert!(r.headers().get("set-cookie").is_none());
        assert!(r.text().unwrap().contains("--insecure-unsigned-admin"));
    }
    let r = http
        .post(format!("http://127.0.0.1:{port}/console/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("access_key_id=x&secret_access_key=y")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_gateway_page_lists_each_route_with_its_url_and_a_limited_key_only_its_pools() {
    let yaml = format!(
        r#"{}
gateway:
  listen: 127.0.0.1:0
  apis:
    - name: todo
      stage: dev
      authorizers:
        mine: {{type: cognito, pools: [{MINE}]}}
      routes:
        - {{method: GET, path: /tasks, authorizer: mine, scopes: [todo/read], integration: {{type: http, url: "http://127.0.0.1:9"}}}}
        - {{method: get, path: /public, integration: {{type: mock, body: {{ok: true}}}}}}
    - name: reports
      authorizers:
        other: {{type: cognito, pools: [{OTHER}]}}
      routes:
        - {{method: ANY, path: "/reports/{{proxy+}}", authorizer: other, groups: [auditors], integration: {{type: http, url: "http://127.0.0.1:9"}}}}
"#,
        config()
    );
    let s = Server::start_signed(Some(&yaml), &[], Signer::new(ADMIN.0, ADMIN.1));
    let mut b = Browser::new(&s);
    assert_eq!(b.sign_in(ADMIN.0, ADMIN.1).status, 303);
    let page = b.get("/console/gateway");
    assert_eq!(page.status, 200, "{}", page.body);
    let text = page.text();
    // Each route's URL on the gateway's real address, with its stage.
    let url = |path: &str| {
        let at = text
            .find(path)
            .unwrap_or_else(|| panic!("{path} in {text}"));
        let start = text[..at].rfind("http://").unwrap();
        text[start..at + path.len()].to_owned()
    };
    let tasks = url("/dev/tasks");
    assert!(tasks.starts_with("http://127.0.0.1:") && !tasks.contains(":0/"));
    // The URL works: the public route answers through the gateway.
    let public = reqwest::blocking::get(url("/dev/public")).unwrap();
    assert_eq!(public.status(), 200);
    assert!(text.contains("/reports/{proxy+}"));
    assert!(text.contains("todo/read") && text.contains("auditors"));
    assert!(text.contains("required") && text.contains("none"));
    assert!(text.contains(MINE) && text.contains(OTHER));
    // A key limited to one pool sees the routes of its pool's authorizer.
    let mut limited = Browser::new(&s);
    assert_eq!(limited.sign_in(LIMITED.0, LIMITED.1).status, 303);
    let text = limited.get("/console/gateway").text();
    assert!(text.contains("/dev/tasks"), "{text}");
    assert!(
        !text.contains("/reports/") && !text.contains(OTHER),
        "{text}"
    );
}

#[test]
fn the_sign_in_limit_is_per_client_address() {
    let s = Server::start_signed(
        Some(&config()),
        &[("COGNATE_TRUST_FORWARDED_FOR", "true")],
        Signer::new(ADMIN.0, ADMIN.1),
    );
    let mut guesser = Browser::new(&s);
    guesser.forwarded_for = Some("203.0.113.7");
    for _ in 0..5 {
        assert_eq!(guesser.sign_in(ADMIN.0, "wrong").status, 401);
    }
    assert_eq!(guesser.sign_in(ADMIN.0, ADMIN.1).status, 429);
    // Another client is not made to wait by someone else's guesses.
    let mut admin = Browser::new(&s);
    admin.forwarded_for = Some("198.51.100.20");
    let signed_in = admin.sign_in(ADMIN.0, ADMIN.1);
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
}

/// The number in the element of id `id` of a page.
fn number_of(page: &Page, id: &str) -> u64 {
    let marker = format!("id=\"{id}\">");
    let at = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {}", page.body));
    let rest = &page.body[at + marker.len()..];
    rest[..rest.find('<').unwrap()].trim().parse().unwrap()
}

#[test]
fn the_dashboard_counts_sign_ins_and_token_checks_since_start() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(&pool, "dana", json!([]));
    let mut b = Browser::new(&s);
    b.get("/console/dashboard");
    let before = b.get("/console/dashboard");
    assert_eq!(before.status, 200, "{}", before.body);
    assert_eq!(number_of(&before, "sign-ins-ok"), 0);
    assert_eq!(number_of(&before, "sign-ins-failed"), 0);

    // Two good sign-ins, three wrong passwords, one unknown user.
    let tokens = s.login(&client, "dana", common::PASSWORD);
    s.login(&client, "dana", common::PASSWORD);
    for _ in 0..3 {
        s.err(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": "dana", "PASSWORD": "Wrong-passw0rd!"}}),
            "NotAuthorizedException",
        );
    }
    s.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "nobody", "PASSWORD": "Wrong-passw0rd!"}}),
    );
    // Token checks: one valid, one not a token, one revoked by a sign-out.
    s.ok("GetUser", json!({"AccessToken": tokens["AccessToken"]}));
    s.err(
        "GetUser",
        json!({"AccessToken": "not.a.token"}),
        "NotAuthorizedException",
    );
    s.ok(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": pool, "Username": "dana"}),
    );
    s.err(
        "GetUser",
        json!({"AccessToken": tokens["AccessToken"]}),
        "NotAuthorizedException",
    );

    let page = b.get("/console/dashboard");
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(number_of(&page, "sign-ins-ok"), 2);
    assert_eq!(number_of(&page, "sign-ins-failed"), 4);
    assert_eq!(number_of(&page, "c-event-sign_in-success"), 2);
    assert_eq!(number_of(&page, "c-event-sign_in-wrong_password"), 3);
    assert_eq!(number_of(&page, "c-event-sign_in-unknown_user"), 1);
    assert_eq!(number_of(&page, "tokens-ok"), 1);
    assert_eq!(number_of(&page, "tokens-refused"), 2);
    assert_eq!(number_of(&page, "c-token-access_token-valid"), 1);
    assert_eq!(number_of(&page, "c-token-access_token-malformed"), 1);
    assert_eq!(number_of(&page, "c-token-access_token-revoked"), 1);
    assert_eq!(
        number_of(&page, "c-event-admin_user_global_sign_out-success"),
        1
    );
    // No user input is a label: the unknown name is nowhere on the page.
    assert!(!page.body.contains("nobody"));
}

#[test]
fn the_dashboard_shows_a_pool_limited_key_no_cross_pool_counts() {
    let s = signed_server();
    let mut b = Browser::new(&s);
    assert_eq!(b.sign_in(LIMITED.0, LIMITED.1).status, 303);
    let page = b.get("/console/dashboard");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("only to an access key that may manage all pools"));
    assert!(!page.body.contains("id=\"sign-ins-ok\""));
}

#[test]
fn disable_reset_password_and_sign_out_everywhere_ask_on_a_confirm_page_first() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(
        &pool,
        "erin",
        json!([{"Name": "email", "Value": "erin@example.com"}, {"Name": "email_verified", "Value": "true"}]),
    );
    let mut b = Browser::new(&s);
    b.get("/console/pools");
    let user = b.get(&format!("/console/pools/{pool}/users/erin"));
    // The user page links to confirm pages; it has no one-click form for them.
    for action in ["disable", "reset_password", "sign_out"] {
        let href = format!("/console/pools/{pool}/users/erin/confirm/{action}");
        assert!(user.text().contains(&href), "{action}: {}", user.body);
        assert!(
            !user
                .body
                .contains(&format!("name=\"do\" value=\"{action}\"")),
            "{action} is one click"
        );
    }
    let tokens = s.login(&client, "erin", common::PASSWORD);

    // Sign out everywhere: the page says what happens; Cancel changes nothing.
    let page = b.get(&format!(
        "/console/pools/{pool}/users/erin/confirm/sign_out"
    ));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .text()
        .contains("Every refresh token of the user is revoked"));
    assert!(page
        .text()
        .contains(&format!("href=\"/console/pools/{pool}/users/erin\"")));
    s.ok("GetUser", json!({"AccessToken": tokens["AccessToken"]}));
    let done = b.post(
        &format!("/console/pools/{pool}/users/erin/action"),
        &[("csrf", &page.csrf()), ("do", "sign_out")],
    );
    assert_eq!(done.status, 303);
    s.err(
        "GetUser",
        json!({"AccessToken": tokens["AccessToken"]}),
        "NotAuthorizedException",
    );

    // Reset password: RESET_REQUIRED, a code sent.
    let page = b.get(&format!(
        "/console/pools/{pool}/users/erin/confirm/reset_password"
    ));
    assert!(page.text().contains("must choose a new one"));
    assert!(page.body.contains("name=\"do\" value=\"reset_password\""));
    b.post(
        &format!("/console/pools/{pool}/users/erin/action"),
        &[("csrf", &page.csrf()), ("do", "reset_password")],
    );
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "erin"}),
    );
    assert_eq!(user["UserStatus"], "RESET_REQUIRED");

    // Disable.
    let page = b.get(&format!("/console/pools/{pool}/users/erin/confirm/disable"));
    assert!(page.text().contains("cannot sign in while disabled"));
    b.post(
        &format!("/console/pools/{pool}/users/erin/action"),
        &[("csrf", &page.csrf()), ("do", "disable")],
    );
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "erin"}),
    );
    assert_eq!(user["Enabled"], false);
    // An unknown action has no confirm page.
    assert_eq!(
        b.get(&format!("/console/pools/{pool}/users/erin/confirm/drop"))
            .status,
        400
    );
}

/// A signed-in console on a server whose public URL is https (behind a
/// TLS-terminating proxy): the session cookie carries `Secure`, while the
/// requests still reach the http loopback listener.
#[test]
fn under_an_https_public_url_the_session_cookie_is_secure() {
    let port = common::free_port();
    let tmp = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::for_engine();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--public-url",
        "https://auth.example.test",
        "--log",
        "warn",
    ])
    .arg("--data-dir")
    .arg(tmp.path())
    .env("COGNATE_ADMIN_ACCESS_KEY_ID", ADMIN.0)
    .env("COGNATE_ADMIN_SECRET_ACCESS_KEY", ADMIN.1)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if let Some(db) = &database {
        cmd.arg("--database").arg(&db.url);
    }
    for var in [
        "COGNATE_CONFIG",
        "COGNATE_DATABASE_URL",
        "COGNATE_PUBLIC_URL",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::blocking::get(format!("{base}/health"))
        .map(|r| r.status().as_u16() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut b = Browser {
        base: base.clone(),
        http: reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookie: None,
        forwarded_for: None,
    };
    // The pre-sign-in cookie (it carries the form's CSRF token) ...
    let form = b.get("/console/sign-in");
    assert_eq!(form.status, 200, "{}", form.body);
    let attributes =
        |c: &str| -> Vec<String> { c.split(';').skip(1).map(|a| a.trim().to_owned()).collect() };
    assert!(attributes(&form.set_cookie[0]).contains(&"Secure".to_owned()));
    // ... and the signed-in one are Secure, HttpOnly and SameSite=Strict.
    let signed_in = b.sign_in(ADMIN.0, ADMIN.1);
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let cookie = attributes(&signed_in.set_cookie[0]);
    for a in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(&a.to_owned()), "{a} in {cookie:?}");
    }
    assert_eq!(b.get("/console/pools").status, 200);
    // Signing out clears it with the same attributes.
    let pools = b.get("/console/pools");
    let out = b.post("/console/sign-out", &[("csrf", &pools.csrf())]);
    assert!(attributes(&out.set_cookie[0]).contains(&"Secure".to_owned()));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn signing_keys_are_listed_and_rotate_now_asks_first_then_publishes_new_keys() {
    let s = signed_server();
    let mut b = Browser::new(&s);
    assert_eq!(b.sign_in(ADMIN.0, ADMIN.1).status, 303);
    let jwks = |s: &Server| -> Vec<String> {
        let v: serde_json::Value = s
            .http()
            .get(format!("{}/{MINE}/.well-known/jwks.json", s.url))
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let old = jwks(&s);
    assert_eq!(old.len(), 2);
    let page = b.get(&format!("/console/pools/{MINE}/keys"));
    assert_eq!(page.status, 200, "{}", page.body);
    for kid in &old {
        assert!(page.text().contains(kid.as_str()), "{kid}");
    }
    assert_eq!(page.body.matches(">signing</span>").count(), 2);
    assert!(page.body.contains("ID tokens") && page.body.contains("access tokens"));

    // "Rotate now" is a link to a confirm page; a GET changes nothing.
    assert!(page
        .text()
        .contains(&format!("href=\"/console/pools/{MINE}/keys/rotate\"")));
    let confirm = b.get(&format!("/console/pools/{MINE}/keys/rotate"));
    assert_eq!(confirm.status, 200);
    assert!(confirm
        .text()
        .contains("sign tokens from 10 minutes from now"));
    assert_eq!(jwks(&s), old);
    // Without its CSRF token the rotation is refused.
    let refused = b.post(&format!("/console/pools/{MINE}/keys/rotate"), &[]);
    assert_eq!(refused.status, 403);
    assert_eq!(jwks(&s), old);

    let done = b.post(
        &format!("/console/pools/{MINE}/keys/rotate"),
        &[("csrf", &confirm.csrf())],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    let after = jwks(&s);
    assert_eq!(after.len(), 4, "the new keys are published at once");
    let new: Vec<&String> = after.iter().filter(|k| !old.contains(k)).collect();
    assert_eq!(new.len(), 2);
    let page = b.get(done.location.as_deref().unwrap());
    assert!(
        page.text()
            .contains(&format!("New keys {} and {} published", new[0], new[1]))
            || page
                .text()
                .contains(&format!("New keys {} and {} published", new[1], new[0])),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("published, signs from").count(), 2);
    assert_eq!(
        page.body.matches(">signing</span>").count(),
        2,
        "the old keys sign until the lead ends"
    );
    // A token issued now is still signed by an old key.
    let client = s.create_client(MINE, common::password_flows());
    s.admin_user(MINE, "kim", json!([]));
    let t = s.login(&client, "kim", common::PASSWORD);
    let kid = common::jwt_header(t["AccessToken"].as_str().unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(old.contains(&kid));

    // A key limited to another pool cannot see or rotate these keys.
    let mut limited = Browser::new(&s);
    assert_eq!(limited.sign_in(LIMITED.0, LIMITED.1).status, 303);
    assert_eq!(
        limited.get(&format!("/console/pools/{OTHER}/keys")).status,
        400
    );
    let csrf = limited.get(&format!("/console/pools/{MINE}/keys")).csrf();
    let r = limited.post(
        &format!("/console/pools/{OTHER}/keys/rotate"),
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let other: serde_json::Value = s
        .http()
        .get(format!("{}/{OTHER}/.well-known/jwks.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(other["keys"].as_array().unwrap().len(), 2);
}

#[test]
fn a_users_auth_events_and_the_admins_own_changes_are_shown() {
    // The test password is on the server's list of compromised passwords:
    // in an AUDIT pool the sign-in goes through and its event says so.
    let dir = tempfile::tempdir().unwrap();
    let list = common::pwned_list(dir.path(), &[common::PASSWORD], 0);
    let s = Server::start_signed(
        Some(&config()),
        &[("COGNATE_COMPROMISED_PASSWORDS", list.to_str().unwrap())],
        Signer::new(ADMIN.0, ADMIN.1),
    );
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": MINE, "UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}}),
    );
    let mut b = Browser::new(&s);
    assert_eq!(b.sign_in(ADMIN.0, ADMIN.1).status, 303);
    // Users created in the console, in both pools.
    for pool in [MINE, OTHER] {
        let csrf = b.get(&format!("/console/pools/{pool}/users/new")).csrf();
        let r = b.post(
            &format!("/console/pools/{pool}/users/new"),
            &[
                ("csrf", &csrf),
                ("username", "fay"),
                ("temporary_password", "Temp0rary!pass"),
            ],
        );
        assert_eq!(r.status, 303, "{}", r.body);
    }
    s.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": MINE, "Username": "fay", "Password": common::PASSWORD, "Permanent": true}),
    );
    let client = s.create_client(MINE, common::password_flows());
    s.login(&client, "fay", common::PASSWORD);
    s.err(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "fay", "PASSWORD": "Wrong-passw0rd!"}}),
        "NotAuthorizedException",
    );

    // The user page: the recorded events (AdminListUserAuthEvents) ...
    let page = b.get(&format!("/console/pools/{MINE}/users/fay"));
    assert_eq!(page.status, 200, "{}", page.body);
    let events = s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": MINE, "Username": "fay"}),
    )["AuthEvents"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events, 2);
    let table = &page.body[page
        .body
        .find("id=\"auth-events\"")
        .expect("an events table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(
        table.matches("<tr><td data-label=\"Time\">").count(),
        events
    );
    assert!(
        table.contains(">Pass</span>") && table.contains(">Fail</span>"),
        "{table}"
    );
    assert!(
        table.contains("Password: Success") && table.contains("Password: Failure"),
        "{table}"
    );
    assert!(table.contains("127.0.0.1"));
    // The successful sign-in's password is on the list; the wrong one is not looked up.
    assert_eq!(
        table
            .matches("<td data-label=\"Risk\">Compromised password</td>")
            .count(),
        1,
        "{table}"
    );
    // ... and this console's changes to the user, with the admin's key.
    let changes = &page.body[page
        .body
        .find("id=\"user-changes\"")
        .expect("a changes table")..];
    assert!(
        changes.contains("AdminCreateUser") && changes.contains(ADMIN.0),
        "{changes}"
    );
    // A pool that records no events says why.
    let other = b.get(&format!("/console/pools/{OTHER}/users/fay"));
    assert!(
        other.text().contains("AdvancedSecurityMode"),
        "{}",
        other.body
    );

    // The activity page: every change, newest first, with its actor.
    let activity = b.get("/console/activity");
    assert_eq!(activity.status, 200);
    let text = activity.text();
    let mine_at = text.find(&format!(">{MINE}</a>")).unwrap();
    let other_at = text.find(&format!(">{OTHER}</a>")).unwrap();
    assert!(other_at < mine_at, "newest first");
    assert_eq!(text.matches("AdminCreateUser").count(), 2);
    // A pool-limited key sees the changes of its pools only.
    let mut limited = Browser::new(&s);
    assert_eq!(limited.sign_in(LIMITED.0, LIMITED.1).status, 303);
    let text = limited.get("/console/activity").text();
    assert!(text.contains(&format!(">{MINE}</a>")), "{text}");
    assert!(!text.contains(OTHER), "{text}");
}

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";

impl Browser {
    /// Posts a `multipart/form-data` form; `files` are (field, file name, content).
    fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Page {
        let boundary = "----cognateTestBoundary7MA4YWxk";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, filename, data) in files {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(req)
    }
}

#[test]
fn branding_is_set_through_the_api_and_previewed_as_the_hosted_ui_renders_it() {
    let s = Server::start();
    let pool = s.create_pool("brand", json!({}));
    let mut b = Browser::new(&s);
    b.get("/console/pools");
    // Without a domain the page says what to do first.
    let page = b.get(&format!("/console/pools/{pool}/branding"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.text().contains("needs a domain first"));
    s.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "brand-preview"}),
    );
    let web = s.create_client(
        &pool,
        json!({"ClientName": "web", "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid"],
               "AllowedOAuthFlowsUserPoolClient": true, "SupportedIdentityProviders": ["COGNITO"],
               "CallbackURLs": ["http://localhost:9/cb"]}),
    );
    let page = b.get(&format!("/console/pools/{pool}/branding"));
    let preview = format!("/console/pools/{pool}/branding/preview?client={web}");
    assert!(
        page.text().contains(&format!("src=\"{preview}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("sandbox"));
    assert!(page.body.contains("enctype=\"multipart/form-data\""));

    // The preview is the hosted UI's login page, framable by the console
    // only, sandboxed, without the hosted UI's cookies.
    let shown = b.get(&preview);
    assert_eq!(shown.status, 200, "{}", shown.body);
    let real = s
        .http()
        .get(format!(
            "{}/domains/brand-preview/login?client_id={web}&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A9%2Fcb",
            s.url
        ))
        .send()
        .unwrap();
    assert_eq!(real.headers()["x-frame-options"], "DENY");
    assert!(real.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let real_body = real.text().unwrap();
    assert!(shown.body.contains("name=\"password\""), "{}", shown.body);
    assert_eq!(
        shown.body.matches("<input").count(),
        real_body.matches("<input").count()
    );
    let csp = shown.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("sandbox;"), "{csp}");
    assert!(
        csp.contains("frame-ancestors 'self'")
            && csp.contains("script-src 'none'")
            && csp.contains("form-action 'none'")
    );
    assert_eq!(shown.headers["x-frame-options"], "SAMEORIGIN");
    assert!(shown.set_cookie.is_empty());
    // Other console pages stay unframable.
    assert_eq!(page.headers["x-frame-options"], "DENY");

    // CSS and a logo through SetUICustomization.
    let css = ".banner-customizable {background-color: #0b3d91;}";
    let saved = b.post_multipart(
        &format!("/console/pools/{pool}/branding"),
        &[("csrf", &page.csrf()), ("target", "ALL"), ("css", css)],
        &[("logo", "logo.png", PNG)],
    );
    assert_eq!(saved.status, 303, "{}", saved.body);
    let ui = s.ok("GetUICustomization", json!({"UserPoolId": pool}))["UICustomization"].clone();
    assert_eq!(ui["CSS"], css);
    let logo_url = ui["ImageUrl"].as_str().expect("a logo").to_owned();
    let logo = s.http().get(&logo_url).send().unwrap().bytes().unwrap();
    assert_eq!(&logo[..], PNG);
    let shown = b.get(&preview);
    assert!(shown.text().contains("/style.css?v="), "{}", shown.body);
    assert!(shown.text().contains("/logo?v="), "{}", shown.body);

    // Saving the CSS alone keeps the logo; "Remove the logo" removes it.
    let page = b.get(&format!("/console/pools/{pool}/branding"));
    assert!(page.body.contains("id=\"current-logo\""));
    let css2 = ".submitButton-customizable {background-color: #0b3d91;}";
    b.post_multipart(
        &format!("/console/pools/{pool}/branding"),
        &[("csrf", &page.csrf()), ("target", "ALL"), ("css", css2)],
        &[("logo", "", b"")],
    );
    let ui = s.ok("GetUICustomization", json!({"UserPoolId": pool}))["UICustomization"].clone();
    assert_eq!(ui["CSS"], css2);
    let kept = s
        .http()
        .get(ui["ImageUrl"].as_str().expect("the logo is kept"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(&kept[..], PNG);
    b.post_multipart(
        &format!("/console/pools/{pool}/branding"),
        &[
            ("csrf", &page.csrf()),
            ("target", "ALL"),
            ("css", css2),
            ("remove_logo", "on"),
        ],
        &[],
    );
    let ui = s.ok("GetUICustomization", json!({"UserPoolId": pool}))["UICustomization"].clone();
    assert!(ui["ImageUrl"].is_null(), "{ui}");

    // The API's own message for a file that is no image, beside the field.
    let bad = b.post_multipart(
        &format!("/console/pools/{pool}/branding"),
        &[
            ("csrf", &page.csrf()),
            ("target", web.as_str()),
            ("css", css),
        ],
        &[("logo", "logo.gif", b"GIF89a....")],
    );
    assert_eq!(bad.status, 200);
    assert!(
        bad.text()
            .contains("Logo image must be a PNG or JPEG file."),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("field invalid") || bad.body.contains("class=\"field invalid\""));
    // Without its CSRF token the form is refused.
    let refused = b.post_multipart(
        &format!("/console/pools/{pool}/branding"),
        &[("target", "ALL"), ("css", "")],
        &[],
    );
    assert_eq!(refused.status, 403);
}
