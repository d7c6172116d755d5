//! The hosted UI's pages against a real server: login (messages, lockout
//! shared with the API, session cookie, CSRF), authorization errors and
//! open-redirect attempts, escaping, logout, the new-password and TOTP
//! steps, sign-up with the emailed code, forgot password, the domain by
//! Host header, and threat protection's blocks on the login page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hosted;

use common::Server;
use hosted::*;
use serde_json::json;

#[test]
fn login_page_is_accessible_html() {
    let s = start();
    let mut b = Browser::new(&s);
    let r = b.authorize(&[("state", "s")]);
    assert_eq!(r.status, 302);
    let loc = r.location.clone().unwrap();
    assert!(loc.starts_with("/domains/hosted-test/login?"), "{loc}");
    let page = b.follow(&r);
    assert_eq!(page.status, 200);
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let html = &page.body;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("name=\"viewport\""));
    for (id, name) in [
        ("signInFormUsername", "username"),
        ("signInFormPassword", "password"),
    ] {
        assert!(
            html.contains(&format!(
                "<label class=\"label-customizable\" for=\"{id}\">"
            )),
            "{id}"
        );
        assert!(
            html.contains(&format!("id=\"{id}\"")) && html.contains(&format!("name=\"{name}\""))
        );
    }
    assert!(html.contains("type=\"password\""));
    assert!(html.contains("<button type=\"submit\" name=\"signInSubmitButton\""));
    assert!(html.contains("id=\"forgotPasswordLink\"") && html.contains("id=\"signupLink\""));
    for class in [
        "background-customizable",
        "banner-customizable",
        "submitButton-customizable",
        "inputField-customizable",
        "redirect-customizable",
        "legalText-customizable",
    ] {
        assert!(html.contains(class), "{class}");
    }
    let (action, hidden) = form(html, "signInSubmitButton");
    assert!(
        action.starts_with("/domains/hosted-test/login?"),
        "{action}"
    );
    assert!(action.contains("state=s"), "{action}");
    let csrf = hidden.iter().find(|(k, _)| k == "_csrf").unwrap();
    assert_eq!(b.cookies["XSRF-TOKEN"], csrf.1);
    let cookie = page.cookie_attrs("XSRF-TOKEN").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[test]
fn wrong_password_lockout_and_csrf() {
    let s = start();
    let mut b = Browser::new(&s);
    let r = b.sign_in(&[], "alice", "wrong-Passw0rd!");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.error().as_deref(),
        Some("Incorrect username or password.")
    );
    assert!(r.body.contains("role=\"alert\""));
    assert!(r.body.contains("errorMessage-customizable"));
    // The username is kept, escaped.
    let login_url = r.url.clone();
    let page = b.get(&login_url);
    let r = b.submit(
        &page,
        "signInSubmitButton",
        &[
            ("username", "\"><script>alert(1)</script>"),
            ("password", "x"),
        ],
    );
    assert!(!r.body.contains("<script>alert(1)"), "reflected unescaped");
    assert!(r.body.contains("&lt;script&gt;"), "{}", r.body);

    // CSRF: a POST without the token, or with another one, is refused.
    let (action, _) = form(&page.body, "signInSubmitButton");
    let no_token = b.post(
        &action,
        &[
            ("username".into(), "alice".into()),
            ("password".into(), "Passw0rd!".into()),
        ],
    );
    assert_eq!(no_token.status, 403);
    let other = b.post(
        &action,
        &[
            ("username".into(), "alice".into()),
            ("password".into(), "Passw0rd!".into()),
            ("_csrf".into(), "forged-token-forged-token-forged".into()),
        ],
    );
    assert_eq!(other.status, 403);
    let mut fresh = Browser::new(&s);
    let no_cookie = fresh.post(
        &action,
        &[
            ("username".into(), "alice".into()),
            ("password".into(), "Passw0rd!".into()),
            ("_csrf".into(), b.cookies["XSRF-TOKEN"].clone()),
        ],
    );
    assert_eq!(no_cookie.status, 403, "token without its cookie");
    let neither = fresh.post(
        &action,
        &[
            ("username".into(), "alice".into()),
            ("password".into(), "Passw0rd!".into()),
        ],
    );
    assert_eq!(neither.status, 403, "neither token nor cookie");

    // Lockout is the API's: after five failures the account is locked
    // ("Password attempts exceeded"), for the page and the API alike.
    for _ in 0..4 {
        let r = b.submit(
            &page,
            "signInSubmitButton",
            &[("username", "alice"), ("password", "bad")],
        );
        assert_eq!(
            r.error().as_deref(),
            Some("Incorrect username or password.")
        );
    }
    let r = b.submit(
        &page,
        "signInSubmitButton",
        &[("username", "alice"), ("password", "Passw0rd!")],
    );
    assert_eq!(
        r.error().as_deref(),
        Some("Password attempts exceeded"),
        "locked even with the right password"
    );
    let (status, v) = s.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": WEB, "AuthParameters": {"USERNAME": "alice", "PASSWORD": "bad"}}),
    );
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("Password attempts exceeded"))
    );
}

#[test]
fn authorize_errors_never_redirect_to_unregistered_uris() {
    let s = start();
    let mut b = Browser::new(&s);
    // A redirect_uri the client does not list: to the domain's error page,
    // as Cognito does (`/error?error=redirect_mismatch&client_id=<id>`).
    let error_page = format!("/domains/{DOMAIN}/error?error=redirect_mismatch&client_id={WEB}");
    for bad in [
        "http://evil.example.com/callback",
        "http://localhost:3000/callback/",
        "http://localhost:3000/callback?x=1",
        "http://localhost:3000/callback.evil.com",
        "http://localhost:3000/callback#frag",
        "//evil.example.com",
    ] {
        let r = b.authorize(&[("redirect_uri", bad), ("state", "s")]);
        assert_eq!(r.status, 302, "{bad}: {}", r.body);
        assert_eq!(r.location.as_deref(), Some(error_page.as_str()), "{bad}");
        let login = b.get(&format!(
            "{}/login?response_type=code&client_id={WEB}&redirect_uri={}",
            b.base(),
            serde_urlencoded::to_string([("", bad)])
                .unwrap()
                .trim_start_matches('=')
        ));
        assert_eq!(login.status, 302, "login page with {bad}");
        assert_eq!(login.location.as_deref(), Some(error_page.as_str()));
    }
    let page = b.get(&format!("{}{error_page}", s.url));
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(page
        .body
        .contains("<h1>An error was encountered with the requested page.</h1>"));
    assert_eq!(page.error().as_deref(), Some("redirect_mismatch"));
    let escaped = b.get(&format!("{}/error?error=%3Cb%3Ex", b.base()));
    assert!(escaped.body.contains("&lt;b&gt;x"), "{}", escaped.body);
    // No redirect_uri at all, or an unknown client: a page, never a redirect.
    let r = b.authorize(&[("redirect_uri", ""), ("state", "s")]);
    assert_eq!(r.status, 400);
    assert!(r.location.is_none());
    assert!(r.error().is_some());
    let r = b.authorize(&[("client_id", "nosuchclient")]);
    assert_eq!(r.status, 400);
    assert!(r.location.is_none());

    // With a registered redirect URI, errors go back to it with the state.
    let r = b.authorize(&[("response_type", "id_token"), ("state", "a b")]);
    assert_eq!(r.status, 302);
    let p = r.redirect_params();
    assert_eq!(p["error"], "unsupported_response_type");
    assert_eq!(p["state"], "a b");
    // An unknown scope: Cognito's invalid_request with the code as its
    // description, in Cognito's order of parameters.
    let r = b.authorize(&[("scope", "openid admin:everything"), ("state", "S1")]);
    assert_eq!(
        r.location.as_deref(),
        Some(
            format!("{CALLBACK}?error_description=invalid_scope&state=S1&error=invalid_request")
                .as_str()
        )
    );
    let r = b.authorize(&[("code_challenge_method", "S256")]);
    assert_eq!(r.redirect_params()["error"], "invalid_request");
    // Cognito supports S256 only: plain, or no method, is refused.
    let (_, challenge) = pkce();
    for method in ["plain", ""] {
        let r = b.authorize(&[
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", method),
            ("state", "pk"),
        ]);
        let p = r.redirect_params();
        assert_eq!(
            (p["error"].as_str(), p["state"].as_str()),
            ("invalid_request", "pk"),
            "{method:?}"
        );
    }
    let r = b.authorize(&[
        ("code_challenge", "short"),
        ("code_challenge_method", "S256"),
    ]);
    assert_eq!(r.redirect_params()["error"], "invalid_request");
    let r = b.authorize(&[
        ("code_challenge", "x".repeat(43).as_str()),
        ("code_challenge_method", "S512"),
    ]);
    assert_eq!(r.redirect_params()["error"], "invalid_request");
    // A callback with its own query keeps it.
    let r = b.authorize(&[
        ("redirect_uri", "https://app.example.com/cb?tenant=1"),
        ("response_type", "id_token"),
    ]);
    assert!(r
        .location
        .unwrap()
        .starts_with("https://app.example.com/cb?tenant=1&error_description="));

    // A reflected parameter is escaped in the page.
    let r = b.authorize(&[("state", "\"><script>alert('x')</script>")]);
    let page = b.follow(&r);
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>"), "{}", page.body);
    // And the state comes back intact.
    let r = b.submit(
        &page,
        "signInSubmitButton",
        &[("username", "alice"), ("password", "Passw0rd!")],
    );
    assert_eq!(
        r.redirect_params()["state"],
        "\"><script>alert('x')</script>"
    );
}

#[test]
fn session_cookie_logout_and_revocation_of_the_session() {
    let s = start();
    let mut b = Browser::new(&s);
    let r = b.sign_in(&[], "alice", "Passw0rd!");
    assert_eq!(r.status, 302);
    // Signed in: no login page again.
    let r = b.authorize(&[("state", "2")]);
    assert!(r.location.unwrap().starts_with(CALLBACK));
    let login = b.get(&format!(
        "{}/login?response_type=code&client_id={WEB}&redirect_uri={CALLBACK}",
        b.base()
    ));
    assert_eq!(
        login.status, 302,
        "the login page passes a signed-in browser on"
    );

    // A tampered cookie is ignored.
    let good = b.cookies["cognito"].clone();
    b.cookies.insert("cognito".into(), format!("{}x", good));
    assert!(b.authorize(&[]).location.unwrap().contains("/login?"));
    b.cookies.insert("cognito".into(), good.clone());

    // Logout to a registered sign-out URL clears the session.
    let r = b.get(&format!(
        "{}/logout?client_id={WEB}&logout_uri={SIGNED_OUT}",
        b.base()
    ));
    assert_eq!(r.status, 302);
    assert_eq!(r.location.as_deref(), Some(SIGNED_OUT));
    assert!(r.cookie_attrs("cognito").unwrap().contains("Max-Age=0"));
    assert!(b.authorize(&[]).location.unwrap().contains("/login?"));
    let r = b.get(&format!(
        "{}/logout?client_id={WEB}&logout_uri=http://evil.example.com/",
        b.base()
    ));
    assert_eq!(r.status, 400);
    assert!(r.location.is_none());

    // Logout with redirect_uri: back to the login page.
    b.sign_in(&[], "alice", "Passw0rd!");
    let r = b.get(&format!(
        "{}/logout?client_id={WEB}&response_type=code&redirect_uri={CALLBACK}&state=q",
        b.base()
    ));
    assert_eq!(r.status, 302);
    assert!(r
        .location
        .as_deref()
        .unwrap()
        .starts_with("/domains/hosted-test/login?"));
    assert!(!b.cookies.contains_key("cognito"));
    let r = b.get(&format!(
        "{}/logout?client_id={WEB}&response_type=code&redirect_uri=http://evil.example.com/",
        b.base()
    ));
    assert_eq!(r.status, 302);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/domains/{DOMAIN}/error?error=redirect_mismatch&client_id={WEB}").as_str())
    );

    // A disabled user's session, or one from before a global sign-out, is refused.
    b.sign_in(&[], "alice", "Passw0rd!");
    s.ok(
        "AdminDisableUser",
        json!({"UserPoolId": POOL, "Username": "alice"}),
    );
    assert!(b.authorize(&[]).location.unwrap().contains("/login?"));
    s.ok(
        "AdminEnableUser",
        json!({"UserPoolId": POOL, "Username": "alice"}),
    );
    b.sign_in(&[], "alice", "Passw0rd!");
    assert!(b.authorize(&[]).location.unwrap().starts_with(CALLBACK));
    std::thread::sleep(std::time::Duration::from_millis(5));
    s.ok(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": POOL, "Username": "alice"}),
    );
    assert!(b.authorize(&[]).location.unwrap().contains("/login?"));
    // A session is for its pool's domain only: the cookie's path says so.
    let c = b
        .sign_in(&[], "alice", "Passw0rd!")
        .cookie_attrs("cognito")
        .unwrap();
    assert!(c.contains("Path=/domains/hosted-test;"), "{c}");
}

/// Managed login (ManagedLoginVersion 2) honours `prompt` and
/// `login_hint` as AWS's authorize endpoint guide describes; the classic
/// hosted UI ignores them.
#[test]
fn managed_login_prompt_and_login_hint() {
    let s = start();
    let mut b = Browser::new(&s);
    // Classic hosted UI: prompt=none still goes to the login page.
    let r = b.authorize(&[("prompt", "none"), ("state", "c")]);
    assert!(r.location.unwrap().contains("/login?"));
    let r = b.authorize(&[("login_hint", "alice")]);
    let page = b.follow(&r);
    assert!(page
        .body
        .contains("name=\"username\" type=\"text\" value=\"\""));

    s.ok(
        "UpdateUserPoolDomain",
        json!({"UserPoolId": POOL, "Domain": DOMAIN, "ManagedLoginVersion": 2}),
    );
    // prompt=none without a session: back to the client with login_required.
    let r = b.authorize(&[("prompt", "none"), ("state", "n1")]);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{CALLBACK}?error=login_required&state=n1").as_str())
    );
    let r = b.authorize(&[("prompt", "none"), ("response_type", "token")]);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{CALLBACK}#error=login_required").as_str())
    );
    // login_hint fills the username in (escaped).
    let r = b.authorize(&[("login_hint", "alice\"><b>")]);
    let page = b.follow(&r);
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("name=\"username\" type=\"text\" value=\"alice&quot;&gt;&lt;b&gt;\""),
        "{}",
        page.body
    );
    // With a session, prompt=none answers at once; prompt=login asks again,
    // on the login page too.
    let r = b.sign_in(&[], "alice", "Passw0rd!");
    assert!(r.location.unwrap().starts_with(CALLBACK));
    let r = b.authorize(&[("prompt", "none")]);
    assert!(r.redirect_params().contains_key("code"));
    let r = b.authorize(&[("prompt", "login")]);
    let loc = r.location.clone().unwrap();
    assert!(
        loc.contains("/login?") && loc.contains("prompt=login"),
        "{loc}"
    );
    let page = b.follow(&r);
    assert_eq!(page.status, 200, "the login page, not a code");
    let r = b.submit(
        &page,
        "signInSubmitButton",
        &[("username", "alice"), ("password", "Passw0rd!")],
    );
    assert!(r.redirect_params().contains_key("code"));
}

#[test]
fn domain_by_host_header() {
    let s = start();
    let mut b = Browser::new(&s);
    b.host = Some(format!("{DOMAIN}.auth.localhost:{}", s.port));
    let r = b.authorize(&[]);
    assert_eq!(r.status, 302);
    assert!(
        r.location.as_deref().unwrap().starts_with("/login?"),
        "{:?}",
        r.location
    );
    let page = b.follow(&r);
    assert_eq!(page.status, 200);
    assert!(page.cookie_attrs("XSRF-TOKEN").unwrap().contains("Path=/;"));
    let r = b.submit(
        &page,
        "signInSubmitButton",
        &[("username", "alice"), ("password", "Passw0rd!")],
    );
    assert_eq!(r.status, 302);
    assert!(r.location.as_deref().unwrap().starts_with(CALLBACK));
    assert!(r.cookie_attrs("cognito").unwrap().contains("Path=/;"));
    b.host = Some(format!("other.auth.localhost:{}", s.port));
    assert_eq!(b.authorize(&[]).status, 404);
}

#[test]
fn new_password_required_page() {
    let s = start();
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": POOL, "Username": "bob", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]}),
    );
    let mut b = Browser::new(&s);
    let page = b.sign_in(&[("state", "np")], "bob", "Temp0rary!");
    assert_eq!(page.status, 200, "{:?}", page.location);
    for name in ["new_password", "confirm_password"] {
        assert!(page.body.contains(&format!("name=\"{name}\"")), "{name}");
        assert!(
            page.body.contains(&format!("for=\"{name}\"")),
            "label for {name}"
        );
    }
    let (_, hidden) = form(&page.body, "changePasswordSubmitButton");
    assert!(hidden.iter().any(|(k, v)| k == "session" && !v.is_empty()));
    let r = b.submit(
        &page,
        "changePasswordSubmitButton",
        &[
            ("new_password", "N3w-Passw0rd!"),
            ("confirm_password", "different"),
        ],
    );
    assert_eq!(
        r.error().as_deref(),
        Some("Password does not match the confirm password.")
    );
    let r = b.submit(
        &r,
        "changePasswordSubmitButton",
        &[("new_password", "short"), ("confirm_password", "short")],
    );
    assert!(
        r.error()
            .unwrap()
            .starts_with("Password does not conform to policy"),
        "{:?}",
        r.error()
    );
    let r = b.submit(
        &r,
        "changePasswordSubmitButton",
        &[
            ("new_password", "N3w-Passw0rd!"),
            ("confirm_password", "N3w-Passw0rd!"),
        ],
    );
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(r.redirect_params()["state"], "np");
    assert!(r.redirect_params().contains_key("code"));
    s.login(WEB, "bob", "N3w-Passw0rd!");
    // The hosted challenge session cannot be answered through the API.
    let mut b = Browser::new(&s);
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": POOL, "Username": "carol", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}),
    );
    let page = b.sign_in(&[], "carol", "Temp0rary!");
    let (_, hidden) = form(&page.body, "changePasswordSubmitButton");
    let session = hidden
        .iter()
        .find(|(k, _)| k == "session")
        .unwrap()
        .1
        .clone();
    let (status, v) = s.call(
        "RespondToAuthChallenge",
        json!({"ClientId": WEB, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "carol", "NEW_PASSWORD": "N3w-Passw0rd!"}}),
    );
    assert_eq!(status, 400, "{v}");
}

fn totp_code(secret: &str, offset_steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let key = cognate_crypto::totp::base32_decode(secret).unwrap();
    cognate_crypto::totp::code_at(&key, now / 30 + offset_steps)
}

#[test]
fn totp_sign_in_and_setup() {
    let s = start();
    s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": POOL, "MfaConfiguration": "OPTIONAL", "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    let access = s.login(WEB, "alice", "Passw0rd!")["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = s.ok("AssociateSoftwareToken", json!({"AccessToken": access}))["SecretCode"]
        .as_str()
        .unwrap()
        .to_owned();
    // The step the verification uses, fixed so that the replay below is
    // of the same step whichever second the test reaches it.
    let verified_code = totp_code(&secret, 0);
    let next_code = totp_code(&secret, 1);
    s.ok(
        "VerifySoftwareToken",
        json!({"AccessToken": access, "UserCode": verified_code}),
    );
    s.ok(
        "SetUserMFAPreference",
        json!({"AccessToken": access, "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );
    let mut b = Browser::new(&s);
    let page = b.sign_in(&[("state", "mfa")], "alice", "Passw0rd!");
    assert_eq!(page.status, 200, "{:?}", page.location);
    assert!(page.body.contains("name=\"totp_code\""));
    assert!(
        !b.cookies.contains_key("cognito"),
        "not signed in before the code"
    );
    let wrong = if next_code == "000000" || verified_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = b.submit(&page, "totpSubmitButton", &[("totp_code", wrong)]);
    assert_eq!(r.status, 200);
    assert!(r.error().is_some());
    // The code of the step VerifySoftwareToken used: the page stays, and says so.
    let r = b.submit(&r, "totpSubmitButton", &[("totp_code", &verified_code)]);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("name=\"totp_code\""));
    assert!(r.error().is_some());
    let r = b.submit(&r, "totpSubmitButton", &[("totp_code", &next_code)]);
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(r.redirect_params()["state"], "mfa");

    // MFA required for everyone: a user without a device sets one up on the page.
    s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": POOL, "MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    s.admin_user(
        POOL,
        "dave",
        json!([{"Name": "email", "Value": "dave@example.com"}]),
    );
    let mut b = Browser::new(&s);
    let page = b.sign_in(&[], "dave", common::PASSWORD);
    assert_eq!(page.status, 200, "{:?}", page.location);
    let secret = element_text(&page.body, "totpSecret").expect("the secret is shown");
    let r = b.submit(&page, "totpSubmitButton", &[("totp_code", "123")]);
    assert!(r.error().is_some());
    assert_eq!(
        element_text(&r.body, "totpSecret").as_deref(),
        Some(secret.as_str())
    );
    let r = b.submit(
        &r,
        "totpSubmitButton",
        &[("totp_code", &totp_code(&secret, 0))],
    );
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(r.location.unwrap().starts_with(CALLBACK));
}

#[test]
fn sign_up_and_confirm_with_the_emailed_code() {
    let s = start();
    let mut b = Browser::new(&s);
    let r = b.authorize(&[("state", "su")]);
    let login = b.follow(&r);
    let (_, _) = form(&login.body, "signInSubmitButton");
    let href = login.body.split("id=\"signupLink\"").nth(1).unwrap();
    let href = unescape(
        href.split("href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap(),
    );
    let page = b.get(&href);
    assert_eq!(page.status, 200);
    for name in ["username", "email", "password"] {
        assert!(page.body.contains(&format!("name=\"{name}\"")), "{name}");
    }
    let r = b.submit(
        &page,
        "signupSubmitButton",
        &[
            ("username", "erin"),
            ("email", "erin@example.com"),
            ("password", "weak"),
        ],
    );
    assert!(
        r.error()
            .unwrap()
            .starts_with("Password did not conform with policy"),
        "{:?}",
        r.error()
    );
    let r = b.submit(
        &page,
        "signupSubmitButton",
        &[
            ("username", "alice"),
            ("email", "x@example.com"),
            ("password", "Passw0rd!"),
        ],
    );
    assert_eq!(r.error().as_deref(), Some("User already exists"));
    let r = b.submit(
        &page,
        "signupSubmitButton",
        &[
            ("username", "erin"),
            ("email", "erin@example.com"),
            ("password", "Passw0rd!"),
        ],
    );
    assert_eq!(r.status, 302, "{}", r.body);
    let loc = r.location.clone().unwrap();
    assert!(loc.starts_with("/domains/hosted-test/confirm?"), "{loc}");
    assert!(loc.contains("username=erin"));
    let confirm = b.follow(&r);
    assert!(confirm.body.contains("name=\"code\""));
    let r = b.submit(&confirm, "confirmSubmitButton", &[("code", "000000")]);
    assert_eq!(
        r.error().as_deref(),
        Some("Invalid verification code provided, please try again.")
    );
    let code = s.last_code(POOL, "erin");
    let r = b.submit(&confirm, "confirmSubmitButton", &[("code", &code)]);
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(r.location.as_deref().unwrap().starts_with(CALLBACK));
    assert_eq!(r.redirect_params()["state"], "su");
    assert!(
        b.cookies.contains_key("cognito"),
        "signed in after confirming"
    );
    s.login(WEB, "erin", "Passw0rd!");

    // An unconfirmed user who signs in with the right password is sent a
    // new code and confirms on the page, then goes on to the client.
    s.ok(
        "SignUp",
        json!({"ClientId": WEB, "Username": "frank", "Password": "Passw0rd!",
               "UserAttributes": [{"Name": "email", "Value": "frank@example.com"}]}),
    );
    let mut b = Browser::new(&s);
    let r = b.sign_in(&[], "frank", "wrong-Passw0rd!");
    assert_eq!(
        r.error().as_deref(),
        Some("Incorrect username or password.")
    );
    let sent = s.messages_for(POOL, "frank").len();
    let r = b.sign_in(&[("state", "fr")], "frank", "Passw0rd!");
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(
        r.location.as_deref().unwrap().contains("/confirm?"),
        "{:?}",
        r.location
    );
    assert_eq!(
        s.messages_for(POOL, "frank").len(),
        sent + 1,
        "a new code was sent"
    );
    let confirm = b.follow(&r);
    let r = b.submit(
        &confirm,
        "confirmSubmitButton",
        &[("code", &s.last_code(POOL, "frank"))],
    );
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(r.redirect_params()["state"], "fr");
    assert!(r.redirect_params().contains_key("code"));
}

#[test]
fn forgot_password_resets_through_the_emailed_code() {
    let s = start();
    let mut b = Browser::new(&s);
    let r = b.authorize(&[]);
    let login = b.follow(&r);
    let href = login
        .body
        .split("id=\"forgotPasswordLink\"")
        .nth(1)
        .unwrap();
    let href = unescape(
        href.split("href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap(),
    );
    let page = b.get(&href);
    assert_eq!(page.status, 200);
    let r = b.submit(&page, "resetSubmitButton", &[("username", "alice")]);
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(r
        .location
        .as_deref()
        .unwrap()
        .contains("/confirmForgotPassword?"));
    let reset = b.follow(&r);
    for name in ["code", "password", "confirm_password"] {
        assert!(reset.body.contains(&format!("name=\"{name}\"")), "{name}");
    }
    let code = s.last_code(POOL, "alice");
    let r = b.submit(
        &reset,
        "confirmResetSubmitButton",
        &[
            ("code", &code),
            ("password", "N3w-Passw0rd!"),
            ("confirm_password", "nope"),
        ],
    );
    assert_eq!(
        r.error().as_deref(),
        Some("Password does not match the confirm password.")
    );
    let r = b.submit(
        &reset,
        "confirmResetSubmitButton",
        &[
            ("code", "999999"),
            ("password", "N3w-Passw0rd!"),
            ("confirm_password", "N3w-Passw0rd!"),
        ],
    );
    assert_eq!(
        r.error().as_deref(),
        Some("Invalid verification code provided, please try again.")
    );
    let r = b.submit(
        &reset,
        "confirmResetSubmitButton",
        &[
            ("code", &code),
            ("password", "N3w-Passw0rd!"),
            ("confirm_password", "N3w-Passw0rd!"),
        ],
    );
    assert_eq!(r.status, 302, "{}", r.body);
    let login = b.follow(&r);
    assert!(login
        .info()
        .unwrap()
        .starts_with("Your password has been reset"));
    let r = b.submit(
        &login,
        "signInSubmitButton",
        &[("username", "alice"), ("password", "N3w-Passw0rd!")],
    );
    assert_eq!(r.status, 302);
    assert!(r.location.unwrap().starts_with(CALLBACK));
}

#[test]
fn unknown_domain_and_pool_paths_are_404() {
    let s = Server::start_with_config(&config());
    let r = s
        .http()
        .get(format!("{}/domains/nope/login", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

/// Writes a UI customization straight into the server's database (the
/// SetUICustomization API and config-file branding come separately).
fn put_branding(
    s: &Server,
    client_id: &str,
    css: Option<&str>,
    image: Option<Vec<u8>>,
    modified: i64,
) {
    let ui = cognate_core::model::UiCustomization {
        pool_id: POOL.into(),
        client_id: client_id.into(),
        css: css.map(str::to_owned),
        image,
        created: modified,
        modified,
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async { s.store().await.put_ui_customization(&ui).await })
        .unwrap();
}

#[test]
fn branding_assets_per_client_or_pool() {
    let s = start();
    let mut b = Browser::new(&s);
    let assets = format!("{}/ui-assets/{POOL}/{WEB}", s.url);
    assert_eq!(b.get(&format!("{assets}/style.css")).status, 404);
    assert_eq!(b.get(&format!("{assets}/logo")).status, 404);
    let r = b.authorize(&[]);
    let login = b.follow(&r);
    assert!(!login.body.contains("/ui-assets/"), "nothing to link yet");

    // The pool's branding (ALL) applies to every client.
    let pool_css = ".submitButton-customizable { background-color: #7d2ae8; }";
    put_branding(&s, "ALL", Some(pool_css), None, 1_000);
    let css = b.get(&format!("{assets}/style.css"));
    assert_eq!(css.status, 200);
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert!(css.headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    // Served as the style sheet's rules rebuilt (ui_css::served).
    assert_eq!(css.body.trim(), pool_css);
    assert_eq!(b.get(&format!("{assets}/logo")).status, 404);
    let login = b.get(&login.url);
    assert!(
        login
            .body
            .contains(&format!("href=\"{}", assets.replace('/', "&#x2f;")))
            || login.body.contains(&format!("href=\"{assets}/style.css")),
        "the page links the CSS: {}",
        login.body
    );

    // The client's own branding wins, with its logo.
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-not-a-real-image".to_vec();
    put_branding(
        &s,
        WEB,
        Some(".banner-customizable { background-color: #000; position: fixed; }"),
        Some(png.clone()),
        2_000,
    );
    assert_eq!(
        b.get(&format!("{assets}/style.css")).body.trim(),
        ".banner-customizable { background-color: #000; }"
    );
    let logo = s.http().get(format!("{assets}/logo")).send().unwrap();
    assert_eq!(logo.status().as_u16(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.bytes().unwrap().to_vec(), png);
    let login = b.get(&login.url);
    assert!(
        login.body.contains("class=\"logo-customizable\""),
        "{}",
        login.body
    );
    assert!(unescape(&login.body).contains(&format!("{assets}/logo?v=2000")));
    assert!(unescape(&login.body).contains(&format!("{assets}/style.css?v=2000")));
    // Another client still gets the pool's.
    let other = format!("{}/ui-assets/{POOL}/{CODE_ONLY}", s.url);
    assert_eq!(b.get(&format!("{other}/style.css")).body.trim(), pool_css);
}

#[test]
fn a_blocked_compromised_password_on_the_login_page_needs_a_reset_with_another() {
    // alice's password and one more are on the server's list.
    let dir = tempfile::tempdir().unwrap();
    let list = common::pwned_list(dir.path(), &["Passw0rd!", "Leaked-Passw0rd!"], 100);
    let s = Server::start_with_args(
        &[
            "--compromised-passwords".to_owned(),
            list.display().to_string(),
        ],
        Some(&config()),
    );
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": POOL, "UserPoolTier": "PLUS", "AutoVerifiedAttributes": ["email"],
               "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}),
    );
    s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": POOL, "CompromisedCredentialsRiskConfiguration": {
            "EventFilter": ["SIGN_IN", "PASSWORD_CHANGE"], "Actions": {"EventAction": "BLOCK"}}}),
    );
    let mut b = Browser::new(&s);
    let login = b.sign_in(&[], "alice", "Passw0rd!");
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(
        login.error().as_deref(),
        Some("Password reset required for the user")
    );
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": POOL, "Username": "alice"}),
    );
    assert_eq!(user["UserStatus"], "RESET_REQUIRED");

    // The reset page refuses another listed password and keeps the code.
    s.ok(
        "ForgotPassword",
        json!({"ClientId": WEB, "Username": "alice"}),
    );
    let code = s.last_code(POOL, "alice");
    let page = b.get(&format!(
        "{}/confirmForgotPassword?client_id={WEB}&response_type=code&redirect_uri={}&username=alice",
        b.base(),
        CALLBACK
    ));
    assert_eq!(page.status, 200, "{}", page.body);
    let refused = b.submit(
        &page,
        "confirmResetSubmitButton",
        &[
            ("code", &code),
            ("password", "Leaked-Passw0rd!"),
            ("confirm_password", "Leaked-Passw0rd!"),
        ],
    );
    assert_eq!(
        refused.error().as_deref(),
        Some("Password did not conform with policy: Password was found in a list of compromised passwords")
    );
    let done = b.submit(
        &page,
        "confirmResetSubmitButton",
        &[
            ("code", &code),
            ("password", "N3w-Passw0rd!"),
            ("confirm_password", "N3w-Passw0rd!"),
        ],
    );
    assert_eq!(done.status, 302, "{}", done.body);
    let mut b = Browser::new(&s);
    let signed = b.sign_in(&[], "alice", "N3w-Passw0rd!");
    assert_eq!(signed.status, 302, "{}", signed.body);
    assert!(signed.redirect_params().contains_key("code"), "{signed:?}");
}

#[test]
fn a_risky_sign_in_on_the_login_page_is_blocked_until_the_user_vouches_for_it() {
    let s = Server::start_with_args(&["--trust-forwarded-for".to_owned()], Some(&config()));
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": POOL, "UserPoolTier": "PLUS", "AutoVerifiedAttributes": ["email"],
               "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}),
    );
    let block = json!({"EventAction": "BLOCK", "Notify": false});
    s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": POOL, "AccountTakeoverRiskConfiguration": {
            "Actions": {"MediumAction": block, "HighAction": block}}}),
    );
    let from = |ip: &str| {
        let mut b = Browser::new(&s);
        b.forwarded_for = Some(ip.to_owned());
        b
    };
    let home = from("192.0.2.10").sign_in(&[], "alice", "Passw0rd!");
    assert_eq!(home.status, 302, "{}", home.body);
    // Another network, her browser: Medium, blocked by the pool.
    let away = from("198.51.100.7").sign_in(&[], "alice", "Passw0rd!");
    assert_eq!(away.status, 200, "{}", away.body);
    assert_eq!(
        away.error().as_deref(),
        Some("Unable to login because of security reasons.")
    );
    let event = s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": POOL, "Username": "alice"}),
    )["AuthEvents"][0]
        .clone();
    assert_eq!(event["EventRisk"]["RiskDecision"], "Block");
    assert_eq!(event["EventRisk"]["RiskLevel"], "Medium");
    assert_eq!(event["EventContextData"]["IpAddress"], "198.51.100.7");
    // She vouches for it (here through an administrator): the address is hers.
    s.ok(
        "AdminUpdateAuthEventFeedback",
        json!({"UserPoolId": POOL, "Username": "alice", "EventId": event["EventId"],
               "FeedbackValue": "Valid"}),
    );
    let again = from("198.51.100.7").sign_in(&[], "alice", "Passw0rd!");
    assert_eq!(again.status, 302, "{}", again.body);
    assert!(again.redirect_params().contains_key("code"), "{again:?}");
}
