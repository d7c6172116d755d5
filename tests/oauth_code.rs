//! The authorization code grant (with PKCE S256), the implicit
//! grant, the refresh_token grant, userInfo, revocation and the discovery
//! document, driven through the real hosted login page of a real server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hosted;

use common::{jwt_claims, Server};
use hosted::*;
use serde_json::{json, Value};

/// Signs alice in with the code flow; returns the code.
fn code_for(b: &mut Browser, params: &[(&str, &str)]) -> String {
    let r = if b.cookies.contains_key("cognito") {
        b.authorize(params)
    } else {
        b.sign_in(params, "alice", "Passw0rd!")
    };
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(
        r.location.as_deref().unwrap().starts_with(CALLBACK),
        "{:?}",
        r.location
    );
    r.redirect_params()["code"].clone()
}

/// Redeems `code` at the token endpoint as the public `client`, with the
/// callback it was issued for.
fn redeem_code(s: &Server, client: &str, code: &str) -> (u16, Value) {
    token(
        s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("redirect_uri", CALLBACK),
            ("code", code),
        ],
        None,
    )
}

#[test]
fn code_flow_with_pkce() {
    let s = start();
    let mut b = Browser::new(&s);
    let (verifier, challenge) = pkce();
    let params = [
        ("scope", "openid email profile https://api.example.com/read"),
        ("state", "st-1"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let r = b.sign_in(&params, "alice", "Passw0rd!");
    assert_eq!(r.status, 302, "{}", r.body);
    let p = r.redirect_params();
    assert_eq!(p["state"], "st-1");
    assert!(r
        .location
        .as_deref()
        .unwrap()
        .starts_with(&format!("{CALLBACK}?code=")));
    let session = r.cookie_attrs("cognito").expect("session cookie");
    for attr in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/domains/hosted-test",
        "Max-Age=3600",
    ] {
        assert!(session.contains(attr), "{session} lacks {attr}");
    }
    assert!(!session.contains("Secure"), "http public URL: no Secure");

    // A wrong verifier fails, and uses the code up.
    let code = p["code"].clone();
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", WEB),
        ("redirect_uri", CALLBACK),
        ("code", code.as_str()),
    ];
    let mut form = base.to_vec();
    form.push((
        "code_verifier",
        "wrong-verifier-wrong-verifier-wrong-verifier-00",
    ));
    let (status, v) = token(&s, &form, None);
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let mut form = base.to_vec();
    form.push(("code_verifier", verifier.as_str()));
    let (status, v) = token(&s, &form, None);
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "used up: {v}"
    );

    // The session cookie skips the login page: straight back with a new code.
    let code = code_for(&mut b, &params);
    let (status, _) = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", WEB),
            ("code", code.as_str()),
            ("code_verifier", verifier.as_str()),
        ],
        None,
    );
    assert_eq!(status, 400, "redirect_uri is required");
    let code = code_for(&mut b, &params);
    let (status, v) = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", WEB),
            ("redirect_uri", "https://app.example.com/cb?tenant=1"),
            ("code", code.as_str()),
            ("code_verifier", verifier.as_str()),
        ],
        None,
    );
    // Cognito's answer to another redirect_uri: unauthorized_client, with
    // the one description its guide documents.
    assert_eq!(status, 400, "wrong redirect_uri: {v}");
    assert_eq!(
        v,
        json!({"error": "unauthorized_client", "error_description": "invalid_redirect"})
    );
    let code = code_for(&mut b, &params);
    let (status, v) = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("redirect_uri", CALLBACK),
            ("code", code.as_str()),
            ("code_verifier", verifier.as_str()),
        ],
        Some((CONFIDENTIAL, CONFIDENTIAL_SECRET)),
    );
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "another client: {v}"
    );
    let code = code_for(&mut b, &params);
    let (status, _) = redeem_code(&s, WEB, &code);
    assert_eq!(status, 400, "verifier missing");

    // The right verifier: tokens, once.
    let code = code_for(&mut b, &params);
    let mut form = base.to_vec();
    form[3] = ("code", code.as_str());
    form.push(("code_verifier", verifier.as_str()));
    let (status, v) = token(&s, &form, None);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    let access = jwt_claims(v["access_token"].as_str().unwrap());
    assert_eq!(
        access["scope"],
        "openid email profile https://api.example.com/read"
    );
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["client_id"], WEB);
    assert_eq!(access["username"], "alice");
    assert_eq!(access["version"], 2);
    let id = jwt_claims(v["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], WEB);
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["iss"], format!("{}/{POOL}", s.url));
    assert_eq!(id["at_hash"], at_hash(v["access_token"].as_str().unwrap()));
    assert_eq!(id["origin_jti"], access["origin_jti"]);
    assert!(v["refresh_token"].as_str().unwrap().len() > 100);
    let (status, v) = token(&s, &form, None);
    assert_eq!(status, 400, "replayed: {v}");
    assert_eq!(
        v,
        json!({"error": "invalid_grant"}),
        "no description of ours"
    );

    // No openid: no ID token.
    let code = code_for(&mut b, &[("scope", READ)]);
    let (status, v) = redeem_code(&s, WEB, &code);
    assert_eq!(status, 200, "{v}");
    assert!(v.get("id_token").is_none(), "{v}");
    assert_eq!(
        jwt_claims(v["access_token"].as_str().unwrap())["scope"],
        READ
    );

    // A confidential client must authenticate.
    let code = code_for(&mut b, &[("client_id", CONFIDENTIAL)]);
    let (status, v) = redeem_code(&s, CONFIDENTIAL, &code);
    assert_eq!(
        (status, v["error"].as_str()),
        (401, Some("invalid_client")),
        "{v}"
    );
    let code = code_for(&mut b, &[("client_id", CONFIDENTIAL)]);
    let (status, v) = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("redirect_uri", CALLBACK),
            ("code", code.as_str()),
        ],
        Some((CONFIDENTIAL, CONFIDENTIAL_SECRET)),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        jwt_claims(v["access_token"].as_str().unwrap())["scope"],
        "openid email"
    );
}

#[test]
fn implicit_flow_returns_tokens_in_the_fragment() {
    let s = start();
    let mut b = Browser::new(&s);
    let r = b.sign_in(
        &[
            ("response_type", "token"),
            ("scope", "openid email"),
            ("state", "xyz"),
            ("nonce", "abc123"),
        ],
        "alice",
        "Passw0rd!",
    );
    assert_eq!(r.status, 302, "{}", r.body);
    let loc = r.location.clone().unwrap();
    assert!(loc.starts_with(&format!("{CALLBACK}#")), "{loc}");
    let p = r.redirect_params();
    assert_eq!(p["token_type"], "Bearer");
    assert_eq!(p["expires_in"], "3600");
    assert_eq!(p["state"], "xyz");
    assert!(!p.contains_key("refresh_token"));
    assert!(!p.contains_key("code"));
    let id = jwt_claims(&p["id_token"]);
    assert_eq!(id["nonce"], "abc123");
    assert_eq!(id["at_hash"], at_hash(&p["access_token"]));
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(jwt_claims(&p["access_token"])["scope"], "openid email");

    // Without openid there is no ID token.
    let r = b.authorize(&[("response_type", "token"), ("scope", READ)]);
    let p = r.redirect_params();
    assert!(
        p.contains_key("access_token") && !p.contains_key("id_token"),
        "{p:?}"
    );

    // The code-only client may not use the implicit grant: the error goes
    // to the registered URI, in the fragment.
    let r = b.authorize(&[
        ("response_type", "token"),
        ("client_id", CODE_ONLY),
        ("state", "s1"),
    ]);
    assert_eq!(r.status, 302);
    let loc = r.location.clone().unwrap();
    assert!(loc.starts_with(&format!("{CALLBACK}#")), "{loc}");
    let p = r.redirect_params();
    assert_eq!(
        (p["error"].as_str(), p["state"].as_str()),
        ("unauthorized_client", "s1")
    );
}

#[test]
fn refresh_user_info_and_revoke() {
    let s = start();
    let mut b = Browser::new(&s);
    let code = code_for(
        &mut b,
        &[("scope", "openid email https://api.example.com/read")],
    );
    let (status, v) = redeem_code(&s, WEB, &code);
    assert_eq!(status, 200, "{v}");
    let access = v["access_token"].as_str().unwrap().to_owned();
    let refresh = v["refresh_token"].as_str().unwrap().to_owned();

    // The refresh_token grant keeps the scopes; no new refresh token.
    let (status, r) = token(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", WEB),
            ("refresh_token", refresh.as_str()),
        ],
        None,
    );
    assert_eq!(status, 200, "{r}");
    assert!(r.get("refresh_token").is_none());
    let claims = jwt_claims(r["access_token"].as_str().unwrap());
    assert_eq!(claims["scope"], "openid email https://api.example.com/read");
    assert!(r["id_token"].is_string());
    // So does the API's REFRESH_TOKEN_AUTH.
    let api = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": WEB, "AuthParameters": {"REFRESH_TOKEN": refresh}}),
    );
    assert_eq!(
        jwt_claims(api["AuthenticationResult"]["AccessToken"].as_str().unwrap())["scope"],
        "openid email https://api.example.com/read"
    );

    // userInfo, by GET and POST.
    let info_url = format!("{}/domains/{DOMAIN}/oauth2/userInfo", s.url);
    let get = s.http().get(&info_url).bearer_auth(&access).send().unwrap();
    assert_eq!(get.status().as_u16(), 200);
    let info: Value = get.json().unwrap();
    assert_eq!(info["username"], "alice");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["email_verified"], "true");
    assert!(info["sub"].is_string());
    assert!(info.get("name").is_none(), "no profile scope: {info}");
    let post = s
        .http()
        .post(&info_url)
        .bearer_auth(&access)
        .send()
        .unwrap();
    assert_eq!(post.status().as_u16(), 200);
    // Without a Bearer token, with a bad token, and with an API token (no
    // openid): the answers of AWS's developer guide, whose WWW-Authenticate
    // has no auth-scheme.
    let www = |r: &reqwest::blocking::Response| {
        r.headers()["www-authenticate"].to_str().unwrap().to_owned()
    };
    let bad_request =
        "error=\"invalid_request\", error_description=\"Bad OAuth2 request at UserInfo Endpoint\"";
    let none = s.http().get(&info_url).send().unwrap();
    assert_eq!(none.status().as_u16(), 400);
    assert_eq!(www(&none), bad_request);
    let basic = s
        .http()
        .get(&info_url)
        .basic_auth(WEB, Some("x"))
        .send()
        .unwrap();
    assert_eq!(basic.status().as_u16(), 400);
    assert_eq!(www(&basic), bad_request);
    let v: Value = basic.json().unwrap();
    assert_eq!(v["error"], "invalid_request");
    let bad = s
        .http()
        .get(&info_url)
        .bearer_auth("not.a.token")
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    assert_eq!(
        www(&bad),
        "error=\"invalid_token\", error_description=\"Access token is expired, disabled, or deleted, or the user has globally signed out.\""
    );
    let api_token = s.login(WEB, "alice", "Passw0rd!")["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let no_openid = s
        .http()
        .get(&info_url)
        .bearer_auth(&api_token)
        .send()
        .unwrap();
    assert_eq!(no_openid.status().as_u16(), 401);
    assert_eq!(
        www(&no_openid),
        "error=\"invalid_token\", error_description=\"Access token does not contain openid scope\""
    );
    let v: Value = no_openid.json().unwrap();
    assert_eq!(
        (v["error"].as_str(), v["error_description"].as_str()),
        (
            Some("invalid_token"),
            Some("Access token does not contain openid scope")
        )
    );

    // Revocation: the refresh token and the access tokens of its sign-in stop working.
    let revoke_url = format!("{}/domains/{DOMAIN}/oauth2/revoke", s.url);
    let wrong_client = s
        .http()
        .post(&revoke_url)
        .basic_auth(CONFIDENTIAL, Some("wrong"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("token", refresh.as_str())]).unwrap())
        .send()
        .unwrap();
    assert_eq!(wrong_client.status().as_u16(), 401);
    let ok = s
        .http()
        .post(&revoke_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([("token", refresh.as_str()), ("client_id", WEB)]).unwrap(),
        )
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().unwrap(), "");
    let again = s
        .http()
        .post(&revoke_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([("token", refresh.as_str()), ("client_id", WEB)]).unwrap(),
        )
        .send()
        .unwrap();
    assert_eq!(again.status().as_u16(), 200, "revoking twice is fine");
    let (status, r) = token(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", WEB),
            ("refresh_token", refresh.as_str()),
        ],
        None,
    );
    assert_eq!(
        (status, r["error"].as_str()),
        (400, Some("invalid_grant")),
        "{r}"
    );
    let revoked = s.http().get(&info_url).bearer_auth(&access).send().unwrap();
    assert_eq!(revoked.status().as_u16(), 401);
    let jwt = s
        .http()
        .post(&revoke_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([("token", access.as_str()), ("client_id", WEB)]).unwrap(),
        )
        .send()
        .unwrap();
    assert_eq!(jwt.status().as_u16(), 400);
    assert_eq!(
        jwt.json::<Value>().unwrap()["error"],
        "unsupported_token_type"
    );
}

#[test]
fn discovery_lists_the_endpoints() {
    let s = start();
    let doc: Value = s
        .http()
        .get(format!("{}/{POOL}/.well-known/openid-configuration", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let base = format!("{}/domains/{DOMAIN}", s.url);
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/oauth2/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{base}/oauth2/token"));
    assert_eq!(doc["userinfo_endpoint"], format!("{base}/oauth2/userInfo"));
    assert_eq!(doc["revocation_endpoint"], format!("{base}/oauth2/revoke"));
    assert_eq!(doc["end_session_endpoint"], format!("{base}/logout"));
    // Exactly the members Cognito's document has (no claims_supported,
    // grant_types_supported, code_challenge_methods_supported, ...).
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "authorization_endpoint",
            "end_session_endpoint",
            "id_token_signing_alg_values_supported",
            "issuer",
            "jwks_uri",
            "response_types_supported",
            "revocation_endpoint",
            "scopes_supported",
            "subject_types_supported",
            "token_endpoint",
            "token_endpoint_auth_methods_supported",
            "userinfo_endpoint",
        ]
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        doc["scopes_supported"],
        json!(["openid", "email", "phone", "profile"])
    );
    assert_eq!(doc["response_types_supported"], json!(["code", "token"]));
}

/// userInfo of a token of each scope set (AWS's developer guide): `openid`
/// alone gives every attribute the client can read, and the admin scope
/// changes nothing; `profile` the profile attributes without the email.
#[test]
fn user_info_attributes_follow_the_scopes() {
    let s = start();
    let mut b = Browser::new(&s);
    let info_url = format!("{}/domains/{DOMAIN}/oauth2/userInfo", s.url);
    let mut info = |scope: &str| -> Value {
        let code = code_for(&mut b, &[("scope", scope)]);
        let (status, v) = redeem_code(&s, WEB, &code);
        assert_eq!(status, 200, "{v}");
        let r = s
            .http()
            .get(&info_url)
            .bearer_auth(v["access_token"].as_str().unwrap())
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let mut v: Value = r.json().unwrap();
        assert!(v["sub"].is_string());
        v.as_object_mut().unwrap().remove("sub");
        v
    };
    let all = json!({
        "email": "alice@example.com",
        "email_verified": "true",
        "name": "Alice",
        "username": "alice",
    });
    assert_eq!(info("openid"), all);
    assert_eq!(info("openid aws.cognito.signin.user.admin"), all);
    assert_eq!(
        info("openid profile"),
        json!({"name": "Alice", "username": "alice"})
    );
    assert_eq!(
        info("openid email"),
        json!({"email": "alice@example.com", "email_verified": "true", "username": "alice"})
    );
    assert_eq!(info("openid email profile"), all);
}

/// AWS's token endpoint guide: a code granted the `email` scope, for a
/// client that cannot read email_verified, is refused with invalid_grant.
#[test]
fn email_scope_needs_email_verified_readable() {
    let s = start();
    let create = |name: &str, read: Value| {
        s.ok(
            "CreateUserPoolClient",
            json!({"UserPoolId": POOL, "ClientName": name,
                   "AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["code"],
                   "AllowedOAuthScopes": ["openid", "email"], "CallbackURLs": [CALLBACK],
                   "SupportedIdentityProviders": ["COGNITO"], "ReadAttributes": read}),
        )["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let blind = create("blind", json!(["email", "name"]));
    let sighted = create("sighted", json!(["email", "email_verified", "name"]));
    let redeem = |client: &str, scope: &str| {
        let mut b = Browser::new(&s);
        let code = code_for(&mut b, &[("client_id", client), ("scope", scope)]);
        redeem_code(&s, client, &code)
    };
    let (status, v) = redeem(&blind, "openid email");
    assert_eq!((status, v), (400, json!({"error": "invalid_grant"})));
    let (status, v) = redeem(&blind, "openid");
    assert_eq!(status, 200, "{v}");
    let (status, v) = redeem(&sighted, "openid email");
    assert_eq!(status, 200, "{v}");
}
