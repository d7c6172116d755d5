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
    assert!(common::attr(&user["UserAttributes"], "identities").is_some());

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
