//! Sign-in through an external OpenID Connect provider, with a REAL
//! provider: a second cognate server whose pool is the upstream IdP
//! (discovery, authorize, token, JWKS, userInfo). The downstream pool
//! (tests/hosted's pool) has the OIDC provider `Upstream` configured by its
//! issuer only, so its endpoints are discovered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hosted;

use common::lambda::{arn, Answer, FakeLambda};
use common::{free_port, jwt_claims, Server};
use hosted::*;
use serde_json::{json, Value};

const UP_POOL: &str = "us-east-1_Upstream1";
const UP_DOMAIN: &str = "upstream";
const UP_CLIENT: &str = "idpclient1";
const UP_SECRET: &str = "idpclientsecret00000000000000000001";

struct Pair {
    up: Server,
    down: Server,
    bob_sub: String,
}

fn start_pair() -> Pair {
    start_pair_with("")
}

/// [`start_pair`] with `extra` YAML before the downstream server's config
/// (e.g. its `lambda:` section).
fn start_pair_with(extra: &str) -> Pair {
    let port = free_port();
    let callback = format!("http://127.0.0.1:{port}/domains/{DOMAIN}/oauth2/idpresponse");
    let up = Server::start_with_config(&format!(
        r#"
pools:
  - id: {UP_POOL}
    name: upstream
    domain: {UP_DOMAIN}
    clients:
      - id: {UP_CLIENT}
        name: Downstream pool
        secret: {UP_SECRET}
        allowed_oauth_flows_user_pool_client: true
        allowed_oauth_flows: [code]
        allowed_oauth_scopes: [openid, email, profile]
        callback_urls: ["{callback}"]
    users:
      - username: bob
        password: Passw0rd!
        attributes: {{email: bob@example.org, email_verified: "true", name: Bob Upstream}}
"#
    ));
    let down = Server::start_with_config_on(port, &format!("{extra}\n{}", config()));
    let issuer = format!("{}/{UP_POOL}", up.url);
    down.ok(
        "CreateIdentityProvider",
        json!({
            "UserPoolId": POOL,
            "ProviderName": "Upstream",
            "ProviderType": "OIDC",
            "ProviderDetails": {
                "client_id": UP_CLIENT,
                "client_secret": UP_SECRET,
                "attributes_request_method": "GET",
                "oidc_issuer": issuer,
                "authorize_scopes": "openid email profile"
            },
            "AttributeMapping": {"email": "email", "email_verified": "email_verified", "name": "name"},
            "IdpIdentifiers": ["upstream.example.org"]
        }),
    );
    down.ok(
        "UpdateUserPoolClient",
        json!({
            "UserPoolId": POOL,
            "ClientId": WEB,
            "ClientName": "Web App",
            "AllowedOAuthFlowsUserPoolClient": true,
            "AllowedOAuthFlows": ["code", "implicit"],
            "AllowedOAuthScopes": ["openid", "email", "profile"],
            "CallbackURLs": [CALLBACK],
            "SupportedIdentityProviders": ["COGNITO", "Upstream"]
        }),
    );
    let bob = up.ok(
        "AdminGetUser",
        json!({"UserPoolId": UP_POOL, "Username": "bob"}),
    );
    let bob_sub = common::attr(&bob["UserAttributes"], "sub")
        .unwrap()
        .to_owned();
    Pair { up, down, bob_sub }
}

/// A browser on the upstream server, signed in as bob.
fn upstream_browser(up: &Server) -> Browser {
    Browser::new(up)
}

/// Downstream authorize with the provider: the provider's authorize URL.
fn to_provider(down: &mut Browser, params: &[(&str, &str)]) -> String {
    let mut all = vec![("identity_provider", "Upstream")];
    all.extend_from_slice(params);
    let r = down.authorize(&all);
    assert_eq!(r.status, 302, "{}", r.body);
    r.location.unwrap()
}

/// At the provider: signs bob in (once) and returns the redirect back
/// to the downstream `/oauth2/idpresponse`.
fn at_provider(up: &mut Browser, provider_url: &str) -> String {
    let r = up.get(provider_url);
    assert_eq!(r.status, 302, "{}", r.body);
    let loc = r.location.clone().unwrap();
    if loc.contains("/oauth2/idpresponse") {
        return loc;
    }
    let login = up.get(&loc);
    assert_eq!(login.status, 200, "{}", login.body);
    let back = up.submit(
        &login,
        "signInSubmitButton",
        &[("username", "bob"), ("password", "Passw0rd!")],
    );
    assert_eq!(back.status, 302, "{}", back.body);
    back.location.unwrap()
}

fn query_of(url: &str) -> std::collections::BTreeMap<String, String> {
    serde_urlencoded::from_str(url.split_once('?').map(|(_, q)| q).unwrap_or("")).unwrap()
}

fn exchange(down: &Server, code: &str) -> Value {
    let (status, v) = token(
        down,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", WEB),
            ("redirect_uri", CALLBACK),
            ("code", code),
        ],
        None,
    );
    assert_eq!(status, 200, "{v}");
    v
}

/// One whole federated sign-in; returns the redirect to the client.
fn federated_sign_in(p: &Pair, params: &[(&str, &str)]) -> Page {
    let mut d = Browser::new(&p.down);
    let mut u = upstream_browser(&p.up);
    let provider_url = to_provider(&mut d, params);
    let back = at_provider(&mut u, &provider_url);
    d.get(&back)
}

#[test]
fn code_flow_through_the_provider_creates_the_federated_user() {
    let p = start_pair();
    let mut d = Browser::new(&p.down);
    // The login page offers the provider.
    let r = d.authorize(&[]);
    let login = d.follow(&r);
    assert!(login.body.contains("id=\"idp-Upstream\""), "{}", login.body);
    assert!(login.body.contains("identity_provider=Upstream"));

    let provider_url = to_provider(
        &mut d,
        &[("state", "client-state"), ("nonce", "client-nonce")],
    );
    assert!(
        provider_url.starts_with(&format!(
            "{}/domains/{UP_DOMAIN}/oauth2/authorize?",
            p.up.url
        )),
        "discovered authorize endpoint: {provider_url}"
    );
    let q = query_of(&provider_url);
    assert_eq!(q["client_id"], UP_CLIENT);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(
        q["redirect_uri"],
        format!("{}/domains/{DOMAIN}/oauth2/idpresponse", p.down.url)
    );
    assert!(q["state"].len() >= 40 && q["nonce"].len() >= 40, "{q:?}");

    let mut u = upstream_browser(&p.up);
    let back = at_provider(&mut u, &provider_url);
    let done = d.get(&back);
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(done.location.as_deref().unwrap().starts_with(CALLBACK));
    assert!(done.cookie_attrs("cognito").is_some(), "a hosted session");
    let params = done.redirect_params();
    assert_eq!(params["state"], "client-state");
    let tokens = exchange(&p.down, &params["code"]);
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    let username = format!("Upstream_{}", p.bob_sub);
    assert_eq!(id["cognito:username"], username.as_str());
    assert_eq!(id["nonce"], "client-nonce");
    assert_eq!(id["email"], "bob@example.org");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "Bob Upstream");
    assert_eq!(id["iss"], format!("{}/{POOL}", p.down.url).as_str());
    let identities = id["identities"].as_array().expect("identities array");
    assert_eq!(identities.len(), 1);
    let i = &identities[0];
    assert_eq!(i["userId"], p.bob_sub.as_str());
    assert_eq!(i["providerName"], "Upstream");
    assert_eq!(i["providerType"], "OIDC");
    assert_eq!(i["primary"], "true");
    assert!(i["issuer"].is_null());
    assert!(i["dateCreated"].as_str().unwrap().parse::<i64>().is_ok());
    // The access token is good at the downstream userInfo endpoint.
    let me: Value = p
        .down
        .http()
        .get(format!("{}/oauth2/userInfo", d.base()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["username"], username.as_str(), "{me}");
    assert_eq!(me["email"], "bob@example.org");
    let user = p.down.ok(
        "AdminGetUser",
        json!({"UserPoolId": POOL, "Username": username}),
    );
    assert_eq!(user["UserStatus"], "EXTERNAL_PROVIDER");
    // The attribute as Cognito writes it: members in its order, `primary` a
    // boolean and `dateCreated` a number (the token's claim has strings).
    let identities = common::attr(&user["UserAttributes"], "identities").unwrap();
    let prefix = format!(
        "[{{\"userId\":\"{}\",\"providerName\":\"Upstream\",\"providerType\":\"OIDC\",\"issuer\":null,\"primary\":true,\"dateCreated\":",
        p.bob_sub
    );
    assert!(identities.starts_with(&prefix), "{identities}");
    let parsed: Value = serde_json::from_str(identities).unwrap();
    assert!(parsed[0]["dateCreated"].is_i64(), "{identities}");

    // The provider's redirect cannot be used twice: the state is single-use.
    let replay = Browser::new(&p.down).get(&back);
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert!(replay.location.is_none());

    // A second sign-in is the same user; the browser's session also serves.
    let again = federated_sign_in(&p, &[]);
    assert_eq!(again.status, 302, "{}", again.body);
    let listed = p.down.ok("ListUsers", json!({"UserPoolId": POOL}));
    let federated: Vec<&Value> = listed["Users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["Username"].as_str().unwrap().starts_with("Upstream_"))
        .collect();
    assert_eq!(federated.len(), 1);

    // idp_identifier names the provider too.
    let r = d.authorize(&[("idp_identifier", "upstream.example.org")]);
    assert_eq!(r.status, 302);
    // (The browser has a session now, so it goes straight back.)
    assert!(r.location.unwrap().starts_with(CALLBACK));
    let r = Browser::new(&p.down).authorize(&[("idp_identifier", "upstream.example.org")]);
    assert!(r.location.unwrap().starts_with(&p.up.url));
}

#[test]
fn implicit_flow_through_the_provider() {
    let p = start_pair();
    let done = federated_sign_in(
        &p,
        &[
            ("response_type", "token"),
            ("scope", "openid email"),
            ("state", "s1"),
        ],
    );
    assert_eq!(done.status, 302, "{}", done.body);
    let loc = done.location.as_deref().unwrap();
    assert!(loc.starts_with(&format!("{CALLBACK}#")), "{loc}");
    let params = done.redirect_params();
    assert_eq!(params["state"], "s1");
    let id = jwt_claims(&params["id_token"]);
    assert_eq!(id["identities"][0]["providerName"], "Upstream");
}

#[test]
fn bad_and_missing_state_is_a_page() {
    let p = start_pair();
    let mut d = Browser::new(&p.down);
    for q in ["code=abc&state=forged", "code=abc", "state=&code=abc"] {
        let r = d.get(&format!("{}/oauth2/idpresponse?{q}", d.base()));
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert!(r.location.is_none());
    }
}

#[test]
fn provider_error_goes_back_to_the_client() {
    let p = start_pair();
    let mut d = Browser::new(&p.down);
    let provider_url = to_provider(&mut d, &[("state", "cs")]);
    let state = query_of(&provider_url)["state"].clone();
    let r = d.get(&format!(
        "{}/oauth2/idpresponse?error=access_denied&error_description=User+cancelled&state={state}",
        d.base()
    ));
    assert_eq!(r.status, 302, "{}", r.body);
    let params = r.redirect_params();
    assert!(r.location.unwrap().starts_with(CALLBACK));
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["error_description"], "User cancelled");
    assert_eq!(params["state"], "cs");
}

#[test]
fn an_id_token_with_another_nonce_is_refused() {
    let p = start_pair();
    let mut d = Browser::new(&p.down);
    let mut u = upstream_browser(&p.up);
    // Two sign-ins begin; the provider's answer to the first comes back
    // with the state of the second: its ID token has the first's nonce.
    let first = to_provider(&mut d, &[]);
    let second = to_provider(&mut d, &[("state", "second")]);
    let back = at_provider(&mut u, &first);
    let code = query_of(&back)["code"].clone();
    let state = query_of(&second)["state"].clone();
    let r = d.get(&format!(
        "{}/oauth2/idpresponse?code={code}&state={state}",
        d.base()
    ));
    assert_eq!(r.status, 302, "{}", r.body);
    let params = r.redirect_params();
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["state"], "second");
    assert!(!params.contains_key("code"));
    assert!(!r.set_cookies.iter().any(|c| c.starts_with("cognito=")));
}

#[test]
fn an_unknown_or_unsupported_provider_is_refused() {
    let p = start_pair();
    let mut d = Browser::new(&p.down);
    let r = d.authorize(&[("identity_provider", "Nobody"), ("state", "x")]);
    let params = r.redirect_params();
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["state"], "x");
    // COGNITO is the login page.
    let r = d.authorize(&[("identity_provider", "COGNITO")]);
    assert!(r.location.unwrap().contains("/login?"));
    // A client that does not list the provider.
    let r = d.authorize(&[("identity_provider", "Upstream"), ("client_id", CODE_ONLY)]);
    assert_eq!(r.redirect_params()["error"], "invalid_request");
}

#[test]
fn a_linked_identity_signs_in_as_the_native_user() {
    let p = start_pair();
    p.down.ok(
        "AdminLinkProviderForUser",
        json!({
            "UserPoolId": POOL,
            "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": "alice"},
            "SourceUser": {"ProviderName": "Upstream", "ProviderAttributeName": "Cognito_Subject",
                           "ProviderAttributeValue": p.bob_sub}
        }),
    );
    let done = federated_sign_in(&p, &[]);
    assert_eq!(done.status, 302, "{}", done.body);
    let tokens = exchange(&p.down, &done.redirect_params()["code"]);
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(
        id["email"], "alice@example.com",
        "the native user's attributes"
    );
    assert_eq!(id["identities"][0]["userId"], p.bob_sub.as_str());
    let listed = p.down.ok("ListUsers", json!({"UserPoolId": POOL}));
    assert!(!listed["Users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["Username"].as_str().unwrap().starts_with("Upstream_")));

    // Disabling the provider for the identity removes the link: the next
    // sign-in makes a federated user of its own.
    p.down.ok(
        "AdminDisableProviderForUser",
        json!({"UserPoolId": POOL, "User": {"ProviderName": "Upstream",
            "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": p.bob_sub}}),
    );
    let alice = p.down.ok(
        "AdminGetUser",
        json!({"UserPoolId": POOL, "Username": "alice"}),
    );
    assert!(common::attr(&alice["UserAttributes"], "identities").is_none());
    let done = federated_sign_in(&p, &[]);
    let tokens = exchange(&p.down, &done.redirect_params()["code"]);
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        id["cognito:username"],
        format!("Upstream_{}", p.bob_sub).as_str()
    );
}

/// An OIDC identity linked by a user pool attribute its AttributeMapping
/// fills (ProviderAttributeName `email`, as AWS documents for OIDC) signs
/// in as the native user; an identity whose mapped email differs does not.
#[test]
fn an_identity_linked_by_a_mapped_attribute_signs_in_as_the_native_user() {
    let p = start_pair();
    let link = |value: &str| {
        p.down.ok(
            "AdminLinkProviderForUser",
            json!({
                "UserPoolId": POOL,
                "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": "alice"},
                "SourceUser": {"ProviderName": "Upstream", "ProviderAttributeName": "email",
                               "ProviderAttributeValue": value}
            }),
        )
    };
    // A link naming another address: bob signs in as a federated user.
    link("someone-else@example.org");
    let done = federated_sign_in(&p, &[]);
    let tokens = exchange(&p.down, &done.redirect_params()["code"]);
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        id["cognito:username"],
        format!("Upstream_{}", p.bob_sub).as_str()
    );
    // A federated user can be a DestinationUser too (its provider and user
    // id), as AWS allows; one that does not exist is UserNotFoundException.
    let link_to = |destination: &str| {
        p.down.call(
            "AdminLinkProviderForUser",
            json!({
                "UserPoolId": POOL,
                "DestinationUser": {"ProviderName": "Upstream", "ProviderAttributeValue": destination},
                "SourceUser": {"ProviderName": "Upstream", "ProviderAttributeName": "Cognito_Subject",
                               "ProviderAttributeValue": "another-subject"}
            }),
        )
    };
    let (status, v) = link_to("no-such-subject");
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("UserNotFoundException")),
        "{v}"
    );
    let (status, v) = link_to(&p.bob_sub);
    assert_eq!(status, 200, "{v}");
    p.down.ok(
        "AdminDisableProviderForUser",
        json!({"UserPoolId": POOL, "User": {"ProviderName": "Upstream",
            "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "another-subject"}}),
    );
    p.down.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": POOL, "Username": format!("Upstream_{}", p.bob_sub)}),
    );
    // Linked by bob's mapped email: the native user signs in.
    link("bob@example.org");
    let done = federated_sign_in(&p, &[]);
    assert_eq!(done.status, 302, "{}", done.body);
    let tokens = exchange(&p.down, &done.redirect_params()["code"]);
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["identities"][0]["userId"], p.bob_sub.as_str());
}

#[test]
fn disabling_the_provider_for_a_federated_user_stops_its_sign_in() {
    let p = start_pair();
    let first = federated_sign_in(&p, &[]);
    assert_eq!(first.status, 302);
    assert!(first.redirect_params().contains_key("code"));
    p.down.ok(
        "AdminDisableProviderForUser",
        json!({"UserPoolId": POOL, "User": {"ProviderName": "Upstream",
            "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": p.bob_sub}}),
    );
    let user = p.down.ok(
        "AdminGetUser",
        json!({"UserPoolId": POOL, "Username": format!("Upstream_{}", p.bob_sub)}),
    );
    assert_eq!(user["Enabled"], false);
    let again = federated_sign_in(&p, &[("state", "z")]);
    let params = again.redirect_params();
    assert_eq!(params["error"], "invalid_request", "{params:?}");
    assert_eq!(params["error_description"], "User is disabled.");
    // An identity that is neither linked nor a federated user.
    p.down.err(
        "AdminDisableProviderForUser",
        json!({"UserPoolId": POOL, "User": {"ProviderName": "Upstream",
            "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "nobody"}}),
        "UserNotFoundException",
    );
}

#[test]
fn concurrent_first_sign_ins_create_one_user() {
    let p = start_pair();
    let mut d = Browser::new(&p.down);
    let mut u = upstream_browser(&p.up);
    // Many sign-ins wait at the provider's answer...
    let answers: Vec<String> = (0..24)
        .map(|_| {
            let provider_url = to_provider(&mut d, &[]);
            at_provider(&mut u, &provider_url)
        })
        .collect();
    // ... and all come back at once.
    let down_url = p.down.url.clone();
    let handles: Vec<_> = answers
        .into_iter()
        .map(|back| {
            let url = down_url.clone();
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap();
                assert!(back.starts_with(&url));
                let r = http.get(&back).send().unwrap();
                (
                    r.status().as_u16(),
                    r.headers()
                        .get("location")
                        .map(|l| l.to_str().unwrap().to_owned()),
                )
            })
        })
        .collect();
    for h in handles {
        let (status, location) = h.join().unwrap();
        assert_eq!(status, 302);
        let location = location.unwrap();
        assert!(
            location.starts_with(&format!("{CALLBACK}?code=")),
            "{location}"
        );
    }
    let listed = p.down.ok("ListUsers", json!({"UserPoolId": POOL}));
    let federated = listed["Users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["Username"].as_str().unwrap().starts_with("Upstream_"))
        .count();
    assert_eq!(federated, 1);
}

/// The downstream server with the fake Lambda's functions `pre-signup`,
/// `post-confirm`, `pre-auth`, `post-auth` and `pre-token` configured as the
/// hosted pool's triggers.
fn pair_with_triggers(lambda: &FakeLambda) -> Pair {
    let names = [
        "pre-signup",
        "post-confirm",
        "pre-auth",
        "post-auth",
        "pre-token",
    ];
    let mut yaml = String::from("lambda:\n  functions:\n");
    for name in names {
        yaml.push_str(&format!(
            "    \"{}\": \"{}/hook/{name}\"\n",
            arn(name),
            lambda.url
        ));
    }
    let p = start_pair_with(&yaml);
    p.down.ok(
        "UpdateUserPool",
        json!({"UserPoolId": POOL, "AutoVerifiedAttributes": ["email"], "LambdaConfig": {
            "PreSignUp": arn("pre-signup"),
            "PostConfirmation": arn("post-confirm"),
            "PreAuthentication": arn("pre-auth"),
            "PostAuthentication": arn("post-auth"),
            "PreTokenGeneration": arn("pre-token"),
        }}),
    );
    p
}

fn federated_users(down: &Server) -> Vec<String> {
    let listed = down.ok("ListUsers", json!({"UserPoolId": POOL}));
    listed["Users"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["Username"].as_str())
        .filter(|name| name.starts_with("Upstream_"))
        .map(str::to_owned)
        .collect()
}

/// A federated sign-in invokes the triggers AWS documents for it: the
/// first one PreSignUp (`PreSignUp_ExternalProvider`, which may refuse it),
/// PostConfirmation and PreTokenGeneration (`TokenGeneration_HostedAuth`);
/// later ones PreAuthentication and PostAuthentication (each may refuse)
/// and PreTokenGeneration.
#[test]
fn federated_sign_ins_invoke_the_documented_triggers() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let refuse_sign_up = Arc::new(AtomicBool::new(true));
    let refuse_auth = Arc::new(AtomicBool::new(false));
    let (signup_flag, auth_flag) = (refuse_sign_up.clone(), refuse_auth.clone());
    let lambda = FakeLambda::start(move |function, event| match function {
        "pre-signup" if signup_flag.load(Ordering::SeqCst) => {
            Answer::Fail("Sign-ups are closed".into())
        }
        "pre-signup" => Answer::Respond(json!({"autoConfirmUser": false,
            "autoVerifyEmail": false, "autoVerifyPhone": false})),
        "pre-auth" if auth_flag.load(Ordering::SeqCst) => Answer::Fail("Not today".into()),
        "pre-token" => Answer::Respond(json!({"claimsOverrideDetails": {
            "claimsToAddOrOverride": {"tenant": "acme"}}})),
        _ => Answer::Respond(event["response"].clone()),
    });
    let p = pair_with_triggers(&lambda);
    let username = format!("Upstream_{}", p.bob_sub);

    // PreSignUp refuses the first sign-in: its error goes back to the
    // client, and no user is made.
    let refused = federated_sign_in(&p, &[]);
    let q = refused.redirect_params();
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(
        q["error_description"],
        "PreSignUp failed with error Sign-ups are closed."
    );
    assert!(federated_users(&p.down).is_empty());
    let signups = lambda.events_of("PreSignUp_ExternalProvider");
    assert_eq!(signups.len(), 1);
    assert_eq!(signups[0]["userName"], username.as_str());
    assert_eq!(signups[0]["callerContext"]["clientId"], WEB);
    assert_eq!(
        signups[0]["request"]["userAttributes"]["email"],
        "bob@example.org"
    );
    assert!(lambda
        .events_of("PostConfirmation_ConfirmSignUp")
        .is_empty());

    // Allowed: the user is made and confirmed, the tokens carry the
    // PreTokenGeneration claim.
    refuse_sign_up.store(false, Ordering::SeqCst);
    let done = federated_sign_in(&p, &[]);
    assert_eq!(done.status, 302, "{}", done.body);
    let tokens = exchange(&p.down, &done.redirect_params()["code"]);
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], username.as_str());
    assert_eq!(id["tenant"], "acme");
    assert_eq!(federated_users(&p.down), vec![username.clone()]);
    let confirmed = lambda.events_of("PostConfirmation_ConfirmSignUp");
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0]["userName"], username.as_str());
    assert_eq!(
        confirmed[0]["request"]["userAttributes"]["cognito:user_status"],
        "EXTERNAL_PROVIDER"
    );
    let token_events = lambda.events_of("TokenGeneration_HostedAuth");
    assert_eq!(token_events.len(), 1);
    assert!(lambda
        .events_of("PreAuthentication_Authentication")
        .is_empty());
    assert!(lambda
        .events_of("PostAuthentication_Authentication")
        .is_empty());

    // A later sign-in: PreAuthentication and PostAuthentication, no sign-up.
    let done = federated_sign_in(&p, &[]);
    exchange(&p.down, &done.redirect_params()["code"]);
    assert_eq!(lambda.events_of("PreSignUp_ExternalProvider").len(), 2);
    assert_eq!(lambda.events_of("PostConfirmation_ConfirmSignUp").len(), 1);
    let pre = lambda.events_of("PreAuthentication_Authentication");
    assert_eq!(pre.len(), 1);
    assert_eq!(pre[0]["userName"], username.as_str());
    assert_eq!(
        lambda.events_of("PostAuthentication_Authentication").len(),
        1
    );
    assert_eq!(lambda.events_of("TokenGeneration_HostedAuth").len(), 2);

    // PreAuthentication refuses: the error goes back to the client.
    refuse_auth.store(true, Ordering::SeqCst);
    let refused = federated_sign_in(&p, &[]);
    let q = refused.redirect_params();
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(
        q["error_description"],
        "PreAuthentication failed with error Not today."
    );
    assert!(!q.contains_key("code"));
    assert_eq!(
        lambda.events_of("PostAuthentication_Authentication").len(),
        1
    );
}

/// A PreSignUp trigger that links the signing-in identity to a native user
/// (AdminLinkProviderForUser, the pattern AWS documents for consolidating
/// users) signs that user in, and no federated user is made.
#[test]
fn a_pre_sign_up_trigger_that_links_the_identity_signs_in_the_native_user() {
    use std::sync::{Arc, Mutex};
    let down_url: Arc<Mutex<Option<String>>> = Arc::default();
    let target = down_url.clone();
    let lambda = FakeLambda::start(move |function, event| {
        if function == "pre-signup" {
            // The function calls the pool's API, as a real one would with
            // the AWS SDK.
            let url = target.lock().unwrap().clone().unwrap();
            let subject = event["userName"]
                .as_str()
                .unwrap()
                .trim_start_matches("Upstream_")
                .to_owned();
            let status = std::thread::spawn(move || {
                reqwest::blocking::Client::new()
                    .post(&url)
                    .header("X-Amz-Target", format!("{}AdminLinkProviderForUser", common::TARGET_PREFIX))
                    .header("Content-Type", common::CONTENT_TYPE)
                    .header("Authorization", common::DUMMY_AUTHORIZATION)
                    .body(json!({
                        "UserPoolId": POOL,
                        "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": "alice"},
                        "SourceUser": {"ProviderName": "Upstream", "ProviderAttributeName": "Cognito_Subject",
                                       "ProviderAttributeValue": subject}
                    }).to_string())
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
            })
            .join()
            .unwrap();
            assert_eq!(status, 200);
        }
        Answer::Respond(event["response"].clone())
    });
    let p = pair_with_triggers(&lambda);
    *down_url.lock().unwrap() = Some(p.down.url.clone());
    let done = federated_sign_in(&p, &[]);
    assert_eq!(done.status, 302, "{}", done.body);
    let tokens = exchange(&p.down, &done.redirect_params()["code"]);
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["identities"][0]["userId"], p.bob_sub.as_str());
    assert!(federated_users(&p.down).is_empty());
    assert!(lambda
        .events_of("PostConfirmation_ConfirmSignUp")
        .is_empty());
    assert_eq!(
        lambda.events_of("PreAuthentication_Authentication").len(),
        1
    );
}

/// The InboundFederation trigger (`InboundFederation_ExternalProvider`)
/// sees the provider's raw attributes at every federated sign-in, and its
/// `userAttributesToMap` are what the AttributeMapping then reads: a new
/// value lands in the user's attribute, an empty map keeps the provider's,
/// and a refusal goes back to the client.
#[test]
fn the_inbound_federation_trigger_reshapes_the_providers_attributes() {
    use std::sync::{Arc, Mutex};
    let answer: Arc<Mutex<Answer>> = Arc::new(Mutex::new(Answer::Respond(json!({}))));
    let current = answer.clone();
    let lambda = FakeLambda::start(move |_, _| current.lock().unwrap().clone());
    let p = start_pair_with(&format!(
        "lambda:\n  functions:\n    \"{}\": \"{}/hook/inbound\"\n",
        arn("inbound"),
        lambda.url
    ));
    p.down.ok(
        "UpdateUserPool",
        json!({"UserPoolId": POOL, "LambdaConfig": {
            "InboundFederation": {"LambdaVersion": "V1_0", "LambdaArn": arn("inbound")}}}),
    );
    let username = format!("Upstream_{}", p.bob_sub);
    let email_of = |down: &Server| {
        let user = down.ok(
            "AdminGetUser",
            json!({"UserPoolId": POOL, "Username": username}),
        );
        common::attr(&user["UserAttributes"], "email")
            .unwrap()
            .to_owned()
    };

    *answer.lock().unwrap() = Answer::Respond(json!({"userAttributesToMap": {
        "sub": p.bob_sub, "email": "robert@example.org", "name": "Robert"}}));
    let done = federated_sign_in(&p, &[]);
    assert_eq!(done.status, 302, "{}", done.body);
    let tokens = exchange(&p.down, &done.redirect_params()["code"]);
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["email"], "robert@example.org");
    assert_eq!(id["name"], "Robert");
    assert_eq!(email_of(&p.down), "robert@example.org");
    let events = lambda.events_of("InboundFederation_ExternalProvider");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["userName"], username.as_str());
    assert_eq!(e["callerContext"]["clientId"], WEB);
    assert_eq!(e["request"]["providerName"], "Upstream");
    assert_eq!(e["request"]["providerType"], "OIDC");
    let attributes = &e["request"]["attributes"];
    assert_eq!(attributes["idToken"]["email"], "bob@example.org");
    assert_eq!(attributes["idToken"]["sub"], p.bob_sub.as_str());
    assert_eq!(attributes["idToken"]["email_verified"], "true");
    assert_eq!(attributes["userInfo"]["name"], "Bob Upstream");
    assert_eq!(attributes["tokenResponse"]["token_type"], "Bearer");
    assert!(attributes["tokenResponse"]["access_token"].is_string());
    assert!(attributes["tokenResponse"]["expires_in"].is_string());

    // An empty map keeps what the provider said (the sign-in updates the
    // mapped attribute back).
    *answer.lock().unwrap() = Answer::Respond(json!({"userAttributesToMap": {}}));
    let done = federated_sign_in(&p, &[]);
    exchange(&p.down, &done.redirect_params()["code"]);
    assert_eq!(email_of(&p.down), "bob@example.org");
    assert_eq!(
        lambda.events_of("InboundFederation_ExternalProvider").len(),
        2
    );

    // Without the username claim the sign-in cannot name its user.
    *answer.lock().unwrap() =
        Answer::Respond(json!({"userAttributesToMap": {"email": "x@example.org"}}));
    let q = federated_sign_in(&p, &[]).redirect_params();
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["error_description"], "The identity provider gave no sub.");

    // A wrong shape, then a refusal, go back to the client.
    *answer.lock().unwrap() = Answer::Respond(json!({"userAttributesToMap": ["email"]}));
    let q = federated_sign_in(&p, &[]).redirect_params();
    assert_eq!(q["error_description"], "Unrecognizable lambda output");
    *answer.lock().unwrap() = Answer::Fail("Not from this tenant".into());
    let q = federated_sign_in(&p, &[]).redirect_params();
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(
        q["error_description"],
        "InboundFederation failed with error Not from this tenant."
    );
    assert!(!q.contains_key("code"));
    assert_eq!(email_of(&p.down), "bob@example.org");
}

// ------------------------------------------------------------ social providers

/// The upstream pool's OpenID configuration (its real endpoints).
fn upstream_discovery(p: &Pair) -> Value {
    p.down
        .http()
        .get(format!(
            "{}/{UP_POOL}/.well-known/openid-configuration",
            p.up.url
        ))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// Lets the web client use these providers (besides the login page).
fn support(p: &Pair, providers: &[&str]) {
    let mut all = vec!["COGNITO"];
    all.extend_from_slice(providers);
    p.down.ok(
        "UpdateUserPoolClient",
        json!({
            "UserPoolId": POOL, "ClientId": WEB, "ClientName": "Web App",
            "AllowedOAuthFlowsUserPoolClient": true,
            "AllowedOAuthFlows": ["code", "implicit"],
            "AllowedOAuthScopes": ["openid", "email", "profile"],
            "CallbackURLs": [CALLBACK],
            "SupportedIdentityProviders": all
        }),
    );
}

/// A sign-in through `provider` whose provider side is the upstream
/// cognate (bob signs in there): the code the client gets.
fn sign_in_through_upstream(p: &Pair, provider: &str) -> String {
    let mut d = Browser::new(&p.down);
    let r = d.authorize(&[("identity_provider", provider)]);
    assert_eq!(r.status, 302, "{}", r.body);
    let provider_url = r.location.unwrap();
    let mut u = upstream_browser(&p.up);
    let back = at_provider(&mut u, &provider_url);
    let done = d.get(&back);
    assert_eq!(done.status, 302, "{}", done.body);
    done.redirect_params()["code"].clone()
}

/// Google is an OpenID Connect provider with endpoints of its own (here the
/// upstream pool's, given as the details AWS shows for Google): the ID
/// token signs in `Google_<sub>`; Google's People API is not read.
#[test]
fn google_signs_in_through_its_id_token() {
    let p = start_pair();
    let doc = upstream_discovery(&p);
    let created = p.down.ok(
        "CreateIdentityProvider",
        json!({
            "UserPoolId": POOL, "ProviderName": "Google", "ProviderType": "Google",
            "ProviderDetails": {
                "client_id": UP_CLIENT, "client_secret": UP_SECRET,
                "authorize_scopes": "openid email profile",
                "authorize_url": doc["authorization_endpoint"],
                "token_url": doc["token_endpoint"],
                "oidc_issuer": doc["issuer"],
                "attributes_url": "http://127.0.0.1:9/never-read"
            },
            "AttributeMapping": {"email": "email", "name": "name"}
        }),
    );
    assert_eq!(
        created["IdentityProvider"]["AttributeMapping"]["username"],
        "sub"
    );
    support(&p, &["Google"]);
    let code = sign_in_through_upstream(&p, "Google");
    let id = jwt_claims(exchange(&p.down, &code)["id_token"].as_str().unwrap());
    assert_eq!(
        id["cognito:username"],
        format!("Google_{}", p.bob_sub).as_str()
    );
    assert_eq!(id["email"], "bob@example.org");
    assert_eq!(id["name"], "Bob Upstream");
    assert_eq!(id["identities"][0]["providerType"], "Google");
}

/// Login with Amazon is OAuth 2.0: the access token reads the profile
/// endpoint (here the upstream pool's userInfo), whose answer is mapped.
#[test]
fn login_with_amazon_signs_in_through_its_profile_endpoint() {
    let p = start_pair();
    let doc = upstream_discovery(&p);
    p.down.ok(
        "CreateIdentityProvider",
        json!({
            "UserPoolId": POOL, "ProviderName": "LoginWithAmazon", "ProviderType": "LoginWithAmazon",
            "ProviderDetails": {
                "client_id": UP_CLIENT, "client_secret": UP_SECRET,
                "authorize_scopes": "openid email profile",
                "authorize_url": doc["authorization_endpoint"],
                "token_url": doc["token_endpoint"],
                "attributes_url": doc["userinfo_endpoint"]
            },
            "AttributeMapping": {"username": "sub", "email": "email"}
        }),
    );
    support(&p, &["LoginWithAmazon"]);
    let mut d = Browser::new(&p.down);
    let r = d.authorize(&[("identity_provider", "LoginWithAmazon")]);
    let q = query_of(r.location.as_deref().unwrap());
    assert!(!q.contains_key("nonce"), "OAuth 2.0 only: {q:?}");
    let code = sign_in_through_upstream(&p, "LoginWithAmazon");
    let id = jwt_claims(exchange(&p.down, &code)["id_token"].as_str().unwrap());
    assert_eq!(
        id["cognito:username"],
        format!("LoginWithAmazon_{}", p.bob_sub).as_str()
    );
    assert_eq!(id["email"], "bob@example.org");
}

/// A small provider on 127.0.0.1 for what the upstream pool cannot play:
/// Facebook (a token endpoint taking GET, a Graph `/me` with `fields`) and
/// Sign in with Apple (a form-post answer, an ES256 client secret, ID
/// tokens of its own keys).
struct FakeProvider {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
    _server: common::background::Background,
}

#[derive(Clone)]
struct FakeState {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
    apple_key: (Vec<u8>, Vec<u8>),
    signer: std::sync::Arc<cognate_crypto::jws::SigningKey>,
}

const FB_APP: &str = "fbapp123";
const FB_SECRET: &str = "fbsecret456";
const APPLE_SERVICE: &str = "com.example.web";
const APPLE_TEAM: &str = "TEAM123456";
const APPLE_KEY_ID: &str = "KEY7890123";

impl FakeProvider {
    fn start(apple_key: (Vec<u8>, Vec<u8>)) -> FakeProvider {
        use axum::extract::{Query, State};
        use axum::http::{HeaderMap, StatusCode};
        use axum::response::{IntoResponse, Redirect};
        use axum::routing::{get, post};
        use std::collections::HashMap;
        type Q = Query<HashMap<String, String>>;

        async fn fb_dialog(State(s): State<FakeState>, Query(q): Q) -> impl IntoResponse {
            s.seen
                .lock()
                .unwrap()
                .push(("fb_dialog".into(), serde_json::to_string(&q).unwrap()));
            let query =
                serde_urlencoded::to_string([("code", "fbcode"), ("state", &q["state"])]).unwrap();
            Redirect::to(&format!("{}?{query}", q["redirect_uri"]))
        }
        async fn fb_token(Query(q): Q) -> impl IntoResponse {
            if q.get("client_id").map(String::as_str) != Some(FB_APP)
                || q.get("client_secret").map(String::as_str) != Some(FB_SECRET)
                || q.get("code").map(String::as_str) != Some("fbcode")
            {
                return (StatusCode::BAD_REQUEST, "{}".to_owned());
            }
            (
                StatusCode::OK,
                json!({"access_token": "fbtoken", "token_type": "bearer"}).to_string(),
            )
        }
        async fn fb_me(
            State(s): State<FakeState>,
            headers: HeaderMap,
            Query(q): Q,
        ) -> impl IntoResponse {
            s.seen.lock().unwrap().push((
                "fb_fields".into(),
                q.get("fields").cloned().unwrap_or_default(),
            ));
            if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer fbtoken")
            {
                return (StatusCode::UNAUTHORIZED, "{}".to_owned());
            }
            (
                StatusCode::OK,
                json!({"id": "10158", "email": "carol@example.net", "name": "Carol Graph"})
                    .to_string(),
            )
        }
        async fn apple_authorize(State(s): State<FakeState>, Query(q): Q) -> impl IntoResponse {
            s.seen
                .lock()
                .unwrap()
                .push(("apple_authorize".into(), serde_json::to_string(&q).unwrap()));
            "a page that posts the answer back"
        }
        async fn apple_discovery(State(s): State<FakeState>) -> impl IntoResponse {
            json!({"issuer": s.url, "authorization_endpoint": format!("{}/auth/authorize", s.url),
                   "token_endpoint": format!("{}/auth/token", s.url),
                   "jwks_uri": format!("{}/auth/keys", s.url)})
            .to_string()
        }
        async fn apple_keys(State(s): State<FakeState>) -> impl IntoResponse {
            json!({"keys": [s.signer.jwk()]}).to_string()
        }
        async fn apple_token(State(s): State<FakeState>, body: String) -> impl IntoResponse {
            let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap();
            let secret = form.get("client_secret").cloned().unwrap_or_default();
            let claims = jwt_claims(&secret);
            let nonce = s
                .seen
                .lock()
                .unwrap()
                .iter()
                .rev()
                .find(|(k, _)| k == "apple_authorize")
                .map(|(_, v)| serde_json::from_str::<Value>(v).unwrap()["nonce"].clone())
                .unwrap();
            let good =
                cognate_crypto::jws::es256_jwt_verifies(&secret, &s.apple_key.0, &s.apple_key.1)
                    && claims["iss"] == APPLE_TEAM
                    && claims["sub"] == APPLE_SERVICE
                    && claims["aud"] == "https://appleid.apple.com"
                    && form.get("code").map(String::as_str) == Some("applecode");
            if !good {
                return (
                    StatusCode::BAD_REQUEST,
                    json!({"error": "invalid_client"}).to_string(),
                );
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let id_token = s
                .signer
                .sign(
                    &json!({"iss": s.url, "aud": APPLE_SERVICE, "sub": "001234.apple",
                    "email": "dana@privaterelay.appleid.com", "email_verified": "true",
                    "nonce": nonce, "iat": now, "exp": now + 600}),
                )
                .unwrap();
            (
                StatusCode::OK,
                json!({"access_token": "appletoken", "id_token": id_token,
                                    "token_type": "Bearer"})
                .to_string(),
            )
        }

        let seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>> =
            std::sync::Arc::default();
        let recorded = std::sync::Arc::clone(&seen);
        // The fake's own URL is its issuer.
        let server = common::background::Background::serve_at(move |url| {
            let state = FakeState {
                url: url.to_owned(),
                seen: recorded,
                apple_key,
                signer: std::sync::Arc::new(cognate_crypto::jws::SigningKey::generate().unwrap()),
            };
            axum::Router::new()
                .route("/dialog/oauth", get(fb_dialog))
                .route("/oauth/access_token", get(fb_token))
                .route("/me", get(fb_me))
                .route("/auth/authorize", get(apple_authorize))
                .route("/.well-known/openid-configuration", get(apple_discovery))
                .route("/auth/keys", get(apple_keys))
                .route("/auth/token", post(apple_token))
                .with_state(state)
        });
        FakeProvider {
            url: server.url.clone(),
            seen,
            _server: server,
        }
    }

    fn seen(&self, what: &str) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k == what)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// Facebook: the token endpoint takes a GET (token_request_method), and
/// the Graph profile is read with the mapped fields added to
/// attributes_url (attributes_url_add_attributes), as AWS does.
#[test]
fn facebook_signs_in_through_the_graph_profile() {
    let p = start_pair();
    let fake = FakeProvider::start((vec![0; 32], vec![0; 32]));
    let created = p.down.ok(
        "CreateIdentityProvider",
        json!({
            "UserPoolId": POOL, "ProviderName": "Facebook", "ProviderType": "Facebook",
            "ProviderDetails": {
                "client_id": FB_APP, "client_secret": FB_SECRET,
                "authorize_scopes": "public_profile,email",
                "authorize_url": format!("{}/dialog/oauth", fake.url),
                "token_url": format!("{}/oauth/access_token", fake.url),
                "attributes_url": format!("{}/me?fields=", fake.url)
            },
            "AttributeMapping": {"email": "email", "name": "name"}
        }),
    );
    let details = &created["IdentityProvider"]["ProviderDetails"];
    assert_eq!(details["token_request_method"], "GET");
    assert_eq!(details["attributes_url_add_attributes"], "true");
    support(&p, &["Facebook"]);
    let mut d = Browser::new(&p.down);
    let r = d.authorize(&[("identity_provider", "Facebook"), ("state", "fb")]);
    let to_fb = r.location.unwrap();
    assert!(to_fb.starts_with(&fake.url), "{to_fb}");
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = http.get(&to_fb).send().unwrap();
    let back = back.headers()["location"].to_str().unwrap().to_owned();
    let done = d.get(&back);
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(done.redirect_params()["state"], "fb");
    let id = jwt_claims(
        exchange(&p.down, &done.redirect_params()["code"])["id_token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(id["cognito:username"], "Facebook_10158");
    assert_eq!(id["email"], "carol@example.net");
    assert_eq!(id["name"], "Carol Graph");
    assert_eq!(fake.seen("fb_fields"), vec!["id,email,name".to_owned()]);
    let dialog: Value = serde_json::from_str(&fake.seen("fb_dialog")[0]).unwrap();
    assert_eq!(dialog["scope"], "public_profile,email");
    assert!(dialog.get("nonce").is_none());
}

/// Sign in with Apple: the authorize request asks for a form-post answer,
/// the client secret is an ES256 JWT signed with the developer's key, and
/// the name Apple posts once (`user`) is mapped with the ID token's email.
#[test]
fn sign_in_with_apple_posts_its_answer_and_signs_the_client_secret() {
    let p = start_pair();
    let (pem, x, y) = cognate_crypto::jws::generate_es256_pem().unwrap();
    let fake = FakeProvider::start((x, y));
    p.down.ok(
        "CreateIdentityProvider",
        json!({
            "UserPoolId": POOL, "ProviderName": "SignInWithApple", "ProviderType": "SignInWithApple",
            "ProviderDetails": {
                "client_id": APPLE_SERVICE, "team_id": APPLE_TEAM, "key_id": APPLE_KEY_ID,
                "private_key": pem, "authorize_scopes": "email name",
                "authorize_url": format!("{}/auth/authorize", fake.url),
                "token_url": format!("{}/auth/token", fake.url),
                "oidc_issuer": fake.url
            },
            "AttributeMapping": {"email": "email", "name": "name"}
        }),
    );
    let described = p.down.ok(
        "DescribeIdentityProvider",
        json!({"UserPoolId": POOL, "ProviderName": "SignInWithApple"}),
    );
    assert!(described["IdentityProvider"]["ProviderDetails"]
        .get("private_key")
        .is_none());
    support(&p, &["SignInWithApple"]);
    let mut d = Browser::new(&p.down);
    let r = d.authorize(&[("identity_provider", "SignInWithApple"), ("state", "ap")]);
    let to_apple = r.location.unwrap();
    let q = query_of(&to_apple);
    assert_eq!(q["response_mode"], "form_post");
    assert_eq!(q["client_id"], APPLE_SERVICE);
    reqwest::blocking::get(&to_apple).unwrap();
    // Apple's page posts the answer to the redirect URI.
    let form = vec![
        ("state".to_owned(), q["state"].clone()),
        ("code".to_owned(), "applecode".to_owned()),
        (
            "user".to_owned(),
            json!({"name": {"firstName": "Dana", "lastName": "Lee"},
                   "email": "dana@privaterelay.appleid.com"})
            .to_string(),
        ),
    ];
    let done = d.post(&q["redirect_uri"], &form);
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(done.redirect_params()["state"], "ap");
    let id = jwt_claims(
        exchange(&p.down, &done.redirect_params()["code"])["id_token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(id["cognito:username"], "SignInWithApple_001234.apple");
    assert_eq!(id["email"], "dana@privaterelay.appleid.com");
    assert_eq!(id["name"], "Dana Lee");
    // The same answer again: its state was used.
    let replay = Browser::new(&p.down).post(&q["redirect_uri"], &form);
    assert_eq!(replay.status, 400);
}

/// GetDerivedToken with `SubjectTokenProviderName`: an ID token of the
/// pool's OIDC provider (checked against its JWKS, issuer and client id)
/// is exchanged for a token of the user it signs in as, once that user
/// exists; a token for another audience, or of an unknown provider, is
/// refused.
#[test]
fn an_id_token_of_the_provider_is_exchanged_for_its_users_token() {
    let p = start_pair();
    // bob's ID token from the upstream pool, as the provider gives it.
    let mut d = Browser::new(&p.down);
    let provider_url = to_provider(&mut d, &[]);
    let mut u = upstream_browser(&p.up);
    let back = at_provider(&mut u, &provider_url);
    let q = query_of(&back);
    let (status, upstream) = p
        .down
        .http()
        .post(format!("{}/domains/{UP_DOMAIN}/oauth2/token", p.up.url))
        .basic_auth(UP_CLIENT, Some(UP_SECRET))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("grant_type", "authorization_code"),
                ("code", q["code"].as_str()),
                (
                    "redirect_uri",
                    query_of(&provider_url)["redirect_uri"].as_str(),
                ),
            ])
            .unwrap(),
        )
        .send()
        .map(|r| (r.status().as_u16(), r.json::<Value>().unwrap()))
        .unwrap();
    assert_eq!(status, 200, "{upstream}");
    let id_token = upstream["id_token"].as_str().unwrap().to_owned();

    let exchanger = p.down.ok(
        "CreateUserPoolClient",
        json!({"UserPoolId": POOL, "ClientName": "exchanger",
               "ExplicitAuthFlows": ["ALLOW_TOKEN_EXCHANGE_IMPERSONATION", "ALLOW_REFRESH_TOKEN_AUTH"],
               "AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["code"],
               "AllowedOAuthScopes": ["openid", "email"], "CallbackURLs": [CALLBACK]}),
    )["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let exchange_for = |token: &str, provider: &str| {
        p.down.call(
            "GetDerivedToken",
            json!({"ClientId": exchanger, "SubjectToken": token, "SubjectTokenType": "ID_TOKEN",
                   "SubjectTokenProviderName": provider, "Scopes": ["openid"]}),
        )
    };
    // bob has not signed in downstream yet.
    let (status, v) = exchange_for(&id_token, "Upstream");
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("NotAuthorizedException")),
        "{v}"
    );
    // Now he has (another sign-in through the provider: the code above
    // was the test's to exchange).
    let done = federated_sign_in(&p, &[]);
    assert!(
        done.redirect_params().contains_key("code"),
        "{:?}",
        done.location
    );
    let (status, v) = exchange_for(&id_token, "Upstream");
    assert_eq!(status, 200, "{v}");
    let issued = jwt_claims(v["IssuedToken"].as_str().unwrap());
    assert_eq!(
        issued["username"],
        format!("Upstream_{}", p.bob_sub).as_str()
    );
    assert_eq!(issued["client_id"], exchanger.as_str());
    assert_eq!(issued["iss"], format!("{}/{POOL}", p.down.url).as_str());
    // An unknown provider; a token that is not the provider's ID token.
    let (_, v) = exchange_for(&id_token, "Nobody");
    assert_eq!(v["__type"], "ResourceNotFoundException", "{v}");
    let access = upstream["access_token"].as_str().unwrap();
    let (_, v) = exchange_for(access, "Upstream");
    assert_eq!(v["__type"], "NotAuthorizedException", "{v}");
    let (_, v) = exchange_for(&format!("{id_token}x"), "Upstream");
    assert_eq!(v["__type"], "NotAuthorizedException", "{v}");
}
