//! The hosted UI's code-based MFA pages against a real server: the
//! EMAIL_OTP and SMS_MFA code page (masked destination, wrong code → the
//! page again, the session's three wrong codes → sign in again), the
//! SELECT_MFA_TYPE choice page (a factor not offered is refused), CSRF
//! refusal and a tampered page state, and no reflection of posted values.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hosted;

use common::Server;
use hosted::*;
use serde_json::json;

const PHONE: &str = "+15555550142";

/// The hosted pool with SMS, email and TOTP MFA offered, and alice with a
/// phone number.
fn start_mfa() -> Server {
    let s = start();
    s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": POOL, "MfaConfiguration": "OPTIONAL",
               "SmsMfaConfiguration": {"SmsAuthenticationMessage": "SMS code {####}"},
               "EmailMfaConfiguration": {"Message": "Email code {####}", "Subject": "Code"},
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    s.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": POOL, "Username": "alice",
               "UserAttributes": [{"Name": "phone_number", "Value": PHONE},
                                  {"Name": "phone_number_verified", "Value": "true"}]}),
    );
    s
}

fn enable(s: &Server, settings: serde_json::Value) {
    let mut body = settings;
    body["UserPoolId"] = json!(POOL);
    body["Username"] = json!("alice");
    s.ok("AdminSetUserMFAPreference", body);
}

fn other_code(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

fn messages(s: &Server) -> usize {
    s.messages_for(POOL, "alice").len()
}

#[test]
fn email_code_page_wrong_codes_and_sign_in() {
    let s = start_mfa();
    enable(&s, json!({"EmailMfaSettings": {"Enabled": true}}));
    let mut b = Browser::new(&s);
    let page = b.sign_in(&[("state", "otp")], "alice", "Passw0rd!");
    assert_eq!(page.status, 200, "{:?} {}", page.location, page.body);
    assert!(!b.cookies.contains_key("cognito"), "not signed in yet");
    assert!(page.body.contains("id=\"authCodeInput\""), "{}", page.body);
    assert!(page.body.contains("autocomplete=\"one-time-code\""));
    assert!(page.body.contains("maxlength=\"8\""));
    assert!(page.body.contains("name=\"viewport\""));
    // The destination as Cognito masks it (CODE_DELIVERY_DESTINATION).
    let said = element_text(&page.body, "codeDeliveryMessage").unwrap();
    assert!(said.contains("by email"), "{said}");
    assert_eq!(
        element_text(&page.body, "codeDestination").as_deref(),
        Some("a***@e***"),
        "{said}"
    );
    let msg = s.messages_for(POOL, "alice").last().cloned().unwrap();
    assert_eq!(msg["medium"], "EMAIL");
    let code = msg["code"].as_str().unwrap().to_owned();
    assert_eq!(msg["body"], format!("Email code {code}"));

    // Two wrong codes: the page again, with Cognito's message.
    let r = b.submit(&page, "codeSubmitButton", &[("code", &other_code(&code))]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.error().as_deref(),
        Some("Invalid code or auth state for the user.")
    );
    assert!(r.body.contains("id=\"authCodeInput\""));
    let r = b.submit(&r, "codeSubmitButton", &[("code", "12")]);
    assert_eq!(
        r.error().as_deref(),
        Some("Invalid code or auth state for the user.")
    );
    // The third ends the session: back to the login page.
    let r = b.submit(&r, "codeSubmitButton", &[("code", &other_code(&code))]);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("name=\"signInSubmitButton\""), "{}", r.body);
    assert_eq!(
        r.error().as_deref(),
        Some(cognate_core::service::hosted::CODE_TRIES_SPENT)
    );
    assert!(!b.cookies.contains_key("cognito"));

    // The right code, now dead with its session, does not sign in either.
    let again = b.sign_in(&[("state", "otp")], "alice", "Passw0rd!");
    let fresh = s.last_code(POOL, "alice");
    assert_ne!(fresh, code);
    let stale_form = form(&page.body, "codeSubmitButton").1;
    let (action, _) = form(&again.body, "codeSubmitButton");
    let mut stale: Vec<(String, String)> = stale_form;
    stale.retain(|(k, _)| k != "_csrf");
    stale.push(("_csrf".into(), b.cookies["XSRF-TOKEN"].clone()));
    stale.push(("code".into(), code.clone()));
    let r = b.post(&action, &stale);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.error().as_deref(),
        Some("Invalid session for the user, session is expired.")
    );

    // The new code of the new session signs in.
    let r = b.submit(&again, "codeSubmitButton", &[("code", &fresh)]);
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(r.location.as_deref().unwrap().starts_with(CALLBACK));
    assert_eq!(r.redirect_params()["state"], "otp");
    assert!(r.redirect_params().contains_key("code"));
    assert!(b.cookies.contains_key("cognito"));
    // And the browser stays signed in.
    let r = b.authorize(&[]);
    assert!(r.location.as_deref().unwrap().starts_with(CALLBACK));
}

#[test]
fn sms_code_page() {
    let s = start_mfa();
    enable(&s, json!({"SMSMfaSettings": {"Enabled": true}}));
    let mut b = Browser::new(&s);
    let page = b.sign_in(&[], "alice", "Passw0rd!");
    assert_eq!(page.status, 200, "{:?}", page.location);
    assert!(element_text(&page.body, "codeDeliveryMessage")
        .unwrap()
        .contains("by SMS"));
    assert_eq!(
        element_text(&page.body, "codeDestination").as_deref(),
        Some("+*******0142")
    );
    let msg = s.messages_for(POOL, "alice").last().cloned().unwrap();
    assert_eq!(msg["medium"], "SMS");
    assert_eq!(msg["destination"], PHONE);
    let code = msg["code"].as_str().unwrap().to_owned();
    let r = b.submit(&page, "codeSubmitButton", &[("code", &code)]);
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(r.location.unwrap().starts_with(CALLBACK));
}

#[test]
fn select_mfa_type_page() {
    let s = start_mfa();
    enable(
        &s,
        json!({"SMSMfaSettings": {"Enabled": true}, "EmailMfaSettings": {"Enabled": true}}),
    );
    let before = messages(&s);
    let mut b = Browser::new(&s);
    let page = b.sign_in(&[("state", "sel")], "alice", "Passw0rd!");
    assert_eq!(page.status, 200, "{:?}", page.location);
    assert_eq!(messages(&s), before, "no code before the choice");
    assert!(page.body.contains("name=\"selectMfaSubmitButton\""));
    for (value, label) in [("SMS_MFA", "Text message (SMS)"), ("EMAIL_OTP", "Email")] {
        assert!(
            page.body.contains(&format!(
                "id=\"mfaType{value}\" type=\"radio\" name=\"mfa_type\" value=\"{value}\""
            )),
            "{value}: {}",
            page.body
        );
        assert!(page.body.contains(&format!(">{label}</label>")), "{label}");
    }
    assert!(!page.body.contains("SOFTWARE_TOKEN_MFA"), "not offered");
    // A factor not offered, or a posted value with markup: the page again,
    // nothing reflected.
    let r = b.submit(
        &page,
        "selectMfaSubmitButton",
        &[("mfa_type", "SOFTWARE_TOKEN_MFA")],
    );
    assert_eq!(r.status, 200);
    assert!(r.error().is_some());
    assert!(r.body.contains("name=\"selectMfaSubmitButton\""));
    let r = b.submit(
        &r,
        "selectMfaSubmitButton",
        &[("mfa_type", "<script>alert(1)</script>")],
    );
    assert!(r.body.contains("name=\"selectMfaSubmitButton\""));
    assert!(!r.body.contains("<script>alert(1)"));
    assert!(!r.body.contains("&lt;script&gt;"), "not reflected at all");
    assert_eq!(messages(&s), before);
    // Email chosen: its code page, then signed in.
    let r = b.submit(&r, "selectMfaSubmitButton", &[("mfa_type", "EMAIL_OTP")]);
    assert_eq!(r.status, 200, "{:?}", r.location);
    assert!(r.body.contains("id=\"authCodeInput\""), "{}", r.body);
    let msg = s.messages_for(POOL, "alice").last().cloned().unwrap();
    assert_eq!(msg["medium"], "EMAIL");
    let code = msg["code"].as_str().unwrap().to_owned();
    let r = b.submit(&r, "codeSubmitButton", &[("code", &code)]);
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(r.redirect_params()["state"], "sel");
}

#[test]
fn csrf_and_tampered_state_are_refused() {
    let s = start_mfa();
    enable(&s, json!({"EmailMfaSettings": {"Enabled": true}}));
    let mut b = Browser::new(&s);
    let page = b.sign_in(&[], "alice", "Passw0rd!");
    assert_eq!(page.status, 200);
    let code = s.last_code(POOL, "alice");
    let (action, hidden) = form(&page.body, "codeSubmitButton");
    assert!(action.contains("/login/code?"), "{action}");
    let field = |name: &str| {
        hidden
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let (session, state) = (field("session"), field("state"));
    // Without the CSRF token, or with another one: 403, and the session
    // stays unanswered.
    for csrf in [None, Some("forged-token-forged-token-forged")] {
        let mut fields = vec![
            ("session".to_owned(), session.clone()),
            ("state".to_owned(), state.clone()),
            ("code".to_owned(), code.clone()),
        ];
        if let Some(c) = csrf {
            fields.push(("_csrf".into(), c.into()));
        }
        assert_eq!(b.post(&action, &fields).status, 403);
    }
    let mut fresh = Browser::new(&s);
    let r = fresh.post(
        &action,
        &[
            ("session".into(), session.clone()),
            ("state".into(), state.clone()),
            ("code".into(), code.clone()),
            ("_csrf".into(), b.cookies["XSRF-TOKEN"].clone()),
        ],
    );
    assert_eq!(r.status, 403, "a token without its cookie");
    // A state altered, or of another session: the login page, not signed in.
    let csrf = b.cookies["XSRF-TOKEN"].clone();
    let mut bad_state = state.clone();
    bad_state.insert(3, 'x');
    for (sess, st) in [
        (session.as_str(), bad_state.as_str()),
        ("\"><script>alert(1)</script>", state.as_str()),
    ] {
        let r = b.post(
            &action,
            &[
                ("session".into(), sess.into()),
                ("state".into(), st.into()),
                ("code".into(), code.clone()),
                ("_csrf".into(), csrf.clone()),
            ],
        );
        assert_eq!(r.status, 200);
        assert!(r.body.contains("name=\"signInSubmitButton\""));
        assert!(!r.body.contains("<script>alert(1)"));
        assert!(!b.cookies.contains_key("cognito"));
    }
    // The untouched page still works.
    let r = b.submit(&page, "codeSubmitButton", &[("code", &code)]);
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(b.cookies.contains_key("cognito"));
}

#[test]
fn branding_css_reaches_the_code_page() {
    let s = start_mfa();
    enable(&s, json!({"EmailMfaSettings": {"Enabled": true}}));
    s.ok(
        "SetUICustomization",
        json!({"UserPoolId": POOL, "ClientId": WEB,
               "CSS": ".submitButton-customizable { background-color: #123456; }"}),
    );
    let mut b = Browser::new(&s);
    let page = b.sign_in(&[], "alice", "Passw0rd!");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"authCodeInput\""));
    assert!(
        page.body.contains("<link rel=\"stylesheet\" href=\""),
        "{}",
        page.body
    );
}

/// The hosted pool as a passwordless one: ESSENTIALS tier, codes by email
/// and SMS allowed as first factors, the web client allowing USER_AUTH,
/// and alice with a verified phone number.
/// The web client allowing USER_AUTH, with PreventUserExistenceErrors
/// `prevent`.
fn passwordless_web_client(s: &Server, prevent: &str) {
    s.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": POOL, "ClientId": WEB, "ClientName": "Web App",
               "AllowedOAuthFlowsUserPoolClient": true,
               "AllowedOAuthFlows": ["code", "implicit"],
               "AllowedOAuthScopes": ["openid", "email", "profile"],
               "CallbackURLs": [CALLBACK],
               "PreventUserExistenceErrors": prevent,
               "ExplicitAuthFlows": ["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
}

fn start_passwordless() -> Server {
    let s = start();
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": POOL, "AutoVerifiedAttributes": ["email"],
               "UserPoolTier": "ESSENTIALS",
               "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"]}}}),
    );
    passwordless_web_client(&s, "LEGACY");
    s.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": POOL, "Username": "alice",
               "UserAttributes": [{"Name": "phone_number", "Value": PHONE},
                                  {"Name": "phone_number_verified", "Value": "true"}]}),
    );
    s
}

/// On a managed login domain the login page offers sign-in with a code by
/// email or SMS (USER_AUTH's EMAIL_OTP and SMS_OTP first factors) and with
/// a passkey (refused here: alice has none): the code
/// goes to the user's verified address, the code page takes it (a wrong
/// one shows the page again) and the browser is signed in. The classic
/// hosted UI offers no such sign-in, as on AWS.
#[test]
fn managed_login_offers_sign_in_with_a_code() {
    let s = start_passwordless();
    let mut b = Browser::new(&s);
    let r = b.authorize(&[]);
    let login = b.follow(&r);
    assert!(
        !login.body.contains("codeSignInForm"),
        "classic hosted UI: passwords only"
    );
    s.ok(
        "UpdateUserPoolDomain",
        json!({"UserPoolId": POOL, "Domain": DOMAIN, "ManagedLoginVersion": 2}),
    );
    let r = b.authorize(&[("state", "pw-less")]);
    let login = b.follow(&r);
    assert!(
        login.body.contains("id=\"codeSignIn-EMAIL_OTP\""),
        "{}",
        login.body
    );
    assert!(login.body.contains("id=\"codeSignIn-SMS_OTP\""));
    assert!(login.body.contains("id=\"codeSignIn-WEB_AUTHN\""));
    // alice has no passkey (e2e/test_webauthn.py signs in with one).
    let r = b.submit(
        &login,
        "factor",
        &[("username", "alice"), ("factor", "WEB_AUTHN")],
    );
    assert_eq!(
        r.error().as_deref(),
        Some("You have no passkey to sign in with: sign in with your password.")
    );
    assert!(!r.body.contains("passkeyForm"));

    // By email.
    let before = messages(&s);
    let page = b.submit(
        &login,
        "factor",
        &[("username", "alice"), ("factor", "EMAIL_OTP")],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"authCodeInput\""), "{}", page.body);
    let said = element_text(&page.body, "codeDeliveryMessage").unwrap();
    assert!(said.contains("by email"), "{said}");
    assert_eq!(messages(&s), before + 1);
    let msg = s.messages_for(POOL, "alice").last().cloned().unwrap();
    assert_eq!(msg["medium"], "EMAIL");
    let code = msg["code"].as_str().unwrap().to_owned();
    let r = b.submit(&page, "codeSubmitButton", &[("code", &other_code(&code))]);
    assert_eq!(
        r.error().as_deref(),
        Some("Invalid code or auth state for the user.")
    );
    let r = b.submit(&r, "codeSubmitButton", &[("code", &code)]);
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(r.location.as_deref().unwrap().starts_with(CALLBACK));
    assert_eq!(r.redirect_params()["state"], "pw-less");
    let (status, tokens) = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", WEB),
            ("redirect_uri", CALLBACK),
            ("code", &r.redirect_params()["code"]),
        ],
        None,
    );
    assert_eq!(status, 200, "{tokens}");
    let id = common::jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "alice");
    assert!(b.cookies.contains_key("cognito"));

    // By SMS, in another browser.
    let mut b = Browser::new(&s);
    let r = b.authorize(&[]);
    let login = b.follow(&r);
    let page = b.submit(
        &login,
        "factor",
        &[("username", "alice"), ("factor", "SMS_OTP")],
    );
    let said = element_text(&page.body, "codeDeliveryMessage").unwrap();
    assert!(said.contains("by SMS"), "{said}");
    let msg = s.messages_for(POOL, "alice").last().cloned().unwrap();
    assert_eq!(msg["medium"], "SMS");
    let r = b.submit(
        &page,
        "codeSubmitButton",
        &[("code", msg["code"].as_str().unwrap())],
    );
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(b.cookies.contains_key("cognito"));

    // A factor the page does not offer, an unknown user and an empty
    // name are refused on the login page, and no code is sent.
    let mut b = Browser::new(&s);
    let r = b.authorize(&[]);
    let login = b.follow(&r);
    let before = messages(&s);
    for (username, factor) in [
        ("alice", "PASSWORD"),
        ("nobody", "EMAIL_OTP"),
        ("", "EMAIL_OTP"),
    ] {
        let r = b.submit(
            &login,
            "factor",
            &[("username", username), ("factor", factor)],
        );
        assert_eq!(r.status, 200);
        assert!(r.error().is_some(), "{username} {factor}: {}", r.body);
        assert!(!r.body.contains("authCodeInput"));
    }
    assert_eq!(messages(&s), before);
    assert!(!b.cookies.contains_key("cognito"));
}

/// Where the client prevents user-existence errors, the managed login page
/// answers a passwordless sign-in of an unknown user, or of a user without
/// that factor, as it answers a known user's: the code page with a
/// destination (nothing is sent and no code works) or the passkey page.
#[test]
fn managed_login_passwordless_does_not_tell_unknown_users() {
    let s = start_passwordless();
    s.ok(
        "UpdateUserPoolDomain",
        json!({"UserPoolId": POOL, "Domain": DOMAIN, "ManagedLoginVersion": 2}),
    );
    passwordless_web_client(&s, "ENABLED");
    let mut b = Browser::new(&s);
    let r = b.authorize(&[]);
    let login = b.follow(&r);
    let before = messages(&s);
    for (username, factor) in [
        ("nobody", "EMAIL_OTP"),
        ("nobody", "SMS_OTP"),
        ("nobody", "WEB_AUTHN"),
        // alice has no passkey.
        ("alice", "WEB_AUTHN"),
    ] {
        let page = b.submit(
            &login,
            "factor",
            &[("username", username), ("factor", factor)],
        );
        assert_eq!(page.status, 200, "{username} {factor}: {}", page.body);
        assert_eq!(page.error(), None, "{username} {factor}");
        if factor == "WEB_AUTHN" {
            assert!(page.body.contains("passkeyForm"), "{}", page.body);
            continue;
        }
        let said = element_text(&page.body, "codeDeliveryMessage").unwrap();
        let medium = if factor == "SMS_OTP" {
            "by SMS"
        } else {
            "by email"
        };
        assert!(said.contains(medium), "{said}");
        let r = b.submit(&page, "codeSubmitButton", &[("code", "123456")]);
        assert_eq!(
            r.error().as_deref(),
            Some("Invalid code or auth state for the user.")
        );
    }
    assert_eq!(messages(&s), before, "nothing is sent");
    assert!(!b.cookies.contains_key("cognito"));
}
