//! Sign-in over HTTP against the real server: InitiateAuth,
//! AdminInitiateAuth, RespondToAuthChallenge, AdminRespondToAuthChallenge,
//! secret hashes, PreventUserExistenceErrors and the tokens issued.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{attr, jwt_claims, jwt_header, secret_hash, Server, PASSWORD};
use serde_json::{json, Value};

const SESSION_EXPIRED: &str = "Invalid session for the user, session is expired.";
/// A session answered once (AWS's answer to its reuse).
const SESSION_USED: &str = "Invalid session for the user, session can only be used once.";
const INCORRECT: &str = "Incorrect username or password.";

fn user_password(client: &str, username: &str, password: &str) -> Value {
    json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
           "AuthParameters": {"USERNAME": username, "PASSWORD": password}})
}

fn admin_auth(pool: &str, client: &str, flow: &str, username: &str, password: &str) -> Value {
    json!({"UserPoolId": pool, "AuthFlow": flow, "ClientId": client,
           "AuthParameters": {"USERNAME": username, "PASSWORD": password}})
}

fn refresh(client: &str, token: &Value) -> Value {
    json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
           "AuthParameters": {"REFRESH_TOKEN": token}})
}

fn assert_tokens(v: &Value, with_refresh: bool) {
    let r = &v["AuthenticationResult"];
    assert!(r["AccessToken"].is_string(), "{v}");
    assert!(r["IdToken"].is_string(), "{v}");
    assert_eq!(r["TokenType"], "Bearer");
    assert_eq!(r["ExpiresIn"], 3600);
    assert_eq!(r["RefreshToken"].is_string(), with_refresh, "{v}");
    assert_eq!(v["ChallengeParameters"], json!({}), "{v}");
    assert!(v.get("ChallengeName").is_none() || v["ChallengeName"].is_null());
}

/// A user created by an admin with a temporary password (FORCE_CHANGE_PASSWORD).
fn temp_user(s: &Server, pool: &str, username: &str, temp: &str) {
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": username, "TemporaryPassword": temp,
               "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": format!("{username}@example.com")}]}),
    );
}

// ---------------------------------------------------------------- InitiateAuth

#[test]
fn user_password_auth_issues_tokens() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(
        &pool,
        "alice",
        json!([{"Name": "email", "Value": "alice@example.com"}]),
    );
    let v = s.ok("InitiateAuth", user_password(&client, "alice", PASSWORD));
    assert_tokens(&v, true);
    let r = &v["AuthenticationResult"];
    let issuer = format!("{}/{pool}", s.url);

    let access = jwt_claims(r["AccessToken"].as_str().unwrap());
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["iss"], issuer.as_str());
    assert_eq!(access["client_id"], client.as_str());
    assert_eq!(access["username"], "alice");
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        3600
    );
    let id = jwt_claims(r["IdToken"].as_str().unwrap());
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["iss"], issuer.as_str());
    assert_eq!(id["aud"], client.as_str());
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["sub"], access["sub"]);

    // The tokens are signed by a key of the pool's JWKS.
    let jwks: Value = s
        .http()
        .get(format!("{issuer}/.well-known/jwks.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    // Like Cognito, ID and access tokens are signed with different keys.
    assert_ne!(
        jwt_header(r["AccessToken"].as_str().unwrap())["kid"],
        jwt_header(r["IdToken"].as_str().unwrap())["kid"]
    );
    for token in [&r["AccessToken"], &r["IdToken"]] {
        let h = jwt_header(token.as_str().unwrap());
        assert_eq!(h["alg"], "RS256");
        assert!(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kid"] == h["kid"]),
            "kid {} not in {jwks}",
            h["kid"]
        );
    }
}

#[test]
fn token_validity_of_the_client_applies() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let mut extra = common::password_flows();
    extra["AccessTokenValidity"] = json!(2);
    extra["IdTokenValidity"] = json!(30);
    extra["TokenValidityUnits"] = json!({"AccessToken": "hours", "IdToken": "minutes"});
    let client = s.create_client(&pool, extra);
    s.admin_user(&pool, "val", json!([]));
    let r = s.login(&client, "val", PASSWORD);
    assert_eq!(r["ExpiresIn"], 7200);
    let access = jwt_claims(r["AccessToken"].as_str().unwrap());
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        7200
    );
    let id = jwt_claims(r["IdToken"].as_str().unwrap());
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        1800
    );
}

#[test]
fn initiate_auth_errors() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(&pool, "bob", json!([]));
    s.err_msg(
        "InitiateAuth",
        user_password(&client, "bob", "Wrong-Passw0rd"),
        "NotAuthorizedException",
        INCORRECT,
    );
    s.err_msg(
        "InitiateAuth",
        user_password(&client, "nobody", PASSWORD),
        "UserNotFoundException",
        "User does not exist.",
    );
    s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "unconfirmed", "Password": PASSWORD}),
    );
    s.err_msg(
        "InitiateAuth",
        user_password(&client, "unconfirmed", PASSWORD),
        "UserNotConfirmedException",
        "User is not confirmed.",
    );
    // A wrong password is reported before the unconfirmed state.
    s.err_msg(
        "InitiateAuth",
        user_password(&client, "unconfirmed", "Wrong-Passw0rd"),
        "NotAuthorizedException",
        INCORRECT,
    );
    s.err_msg(
        "InitiateAuth",
        user_password("nosuchclient00000000000000", "bob", PASSWORD),
        "ResourceNotFoundException",
        "User pool client nosuchclient00000000000000 does not exist.",
    );
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "bob"}}),
        "InvalidParameterException",
        "Missing required parameter PASSWORD",
    );
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client}),
        "InvalidParameterException",
        "Missing required parameter USERNAME",
    );
    let m = s.err(
        "InitiateAuth",
        json!({"AuthFlow": "FOO", "ClientId": client}),
        "InvalidParameterException",
    );
    assert!(
        m.starts_with("1 validation error detected: Value 'FOO' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: ["),
        "{m}"
    );
    s.err_msg(
        "InitiateAuth",
        json!({"ClientId": client}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'authFlow' failed to satisfy constraint: Member must not be null",
    );
    // Admin flows are not for InitiateAuth.
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "bob", "PASSWORD": PASSWORD}}),
        "InvalidParameterException",
        "Initiate Auth method not supported.",
    );
}

#[test]
fn flows_must_be_enabled_on_the_client() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    s.admin_user(&pool, "carl", json!([]));
    // No ExplicitAuthFlows: only SRP, custom and refresh are allowed.
    let default_client = s.create_client(&pool, json!({}));
    s.err_msg(
        "InitiateAuth",
        user_password(&default_client, "carl", PASSWORD),
        "InvalidParameterException",
        "USER_PASSWORD_AUTH flow not enabled for this client",
    );
    let admin_only = s.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    s.err_msg(
        "InitiateAuth",
        user_password(&admin_only, "carl", PASSWORD),
        "InvalidParameterException",
        "USER_PASSWORD_AUTH flow not enabled for this client",
    );
    let user_only = s.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    s.err_msg(
        "AdminInitiateAuth",
        admin_auth(
            &pool,
            &user_only,
            "ADMIN_USER_PASSWORD_AUTH",
            "carl",
            PASSWORD,
        ),
        "InvalidParameterException",
        "Auth flow not enabled for this client",
    );
    // Without ALLOW_REFRESH_TOKEN_AUTH (new-style flows) refresh is refused.
    let no_refresh = s.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"]}),
    );
    let tokens = s.login(&no_refresh, "carl", PASSWORD);
    s.err_msg(
        "InitiateAuth",
        refresh(&no_refresh, &tokens["RefreshToken"]),
        "InvalidParameterException",
        "REFRESH_TOKEN_AUTH flow not enabled for this client",
    );
    // Legacy flow names are honoured.
    let legacy = s.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"]}),
    );
    s.login(&legacy, "carl", PASSWORD);
    assert_tokens(
        &s.ok(
            "AdminInitiateAuth",
            admin_auth(&pool, &legacy, "ADMIN_NO_SRP_AUTH", "carl", PASSWORD),
        ),
        true,
    );
}

#[test]
fn refresh_token_auth() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(&pool, "dora", json!([]));
    let first = s.login(&client, "dora", PASSWORD);
    let v = s.ok("InitiateAuth", refresh(&client, &first["RefreshToken"]));
    assert_tokens(&v, false);
    let r = &v["AuthenticationResult"];
    let old = jwt_claims(first["AccessToken"].as_str().unwrap());
    let new = jwt_claims(r["AccessToken"].as_str().unwrap());
    assert_eq!(new["sub"], old["sub"]);
    assert_eq!(new["username"], "dora");
    assert_ne!(new["jti"], old["jti"]);
    s.ok("GetUser", json!({"AccessToken": r["AccessToken"]}));

    // The legacy REFRESH_TOKEN flow name is an alias.
    let v = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN", "ClientId": client,
               "AuthParameters": {"REFRESH_TOKEN": first["RefreshToken"]}}),
    );
    assert_tokens(&v, false);

    // The admin variant.
    let v = s.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
               "AuthParameters": {"REFRESH_TOKEN": first["RefreshToken"]}}),
    );
    assert_tokens(&v, false);

    s.err_msg(
        "InitiateAuth",
        refresh(&client, &json!("not-a-refresh-token")),
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
    // A refresh token only works with the client it was issued to.
    let other = s.create_client(&pool, common::password_flows());
    s.err_msg(
        "InitiateAuth",
        refresh(&other, &first["RefreshToken"]),
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client, "AuthParameters": {}}),
        "InvalidParameterException",
        "Missing required parameter REFRESH_TOKEN",
    );
    // A deleted user's refresh token no longer works.
    s.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "dora"}),
    );
    s.err(
        "InitiateAuth",
        refresh(&client, &first["RefreshToken"]),
        "NotAuthorizedException",
    );
}

// ---------------------------------------------------------------- AdminInitiateAuth

#[test]
fn admin_initiate_auth_flows_and_errors() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(&pool, "eve", json!([]));
    for flow in ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"] {
        let v = s.ok(
            "AdminInitiateAuth",
            admin_auth(&pool, &client, flow, "eve", PASSWORD),
        );
        assert_tokens(&v, true);
    }
    s.err_msg(
        "AdminInitiateAuth",
        admin_auth(
            &pool,
            &client,
            "ADMIN_USER_PASSWORD_AUTH",
            "eve",
            "Wrong-Passw0rd",
        ),
        "NotAuthorizedException",
        INCORRECT,
    );
    s.err_msg(
        "AdminInitiateAuth",
        admin_auth(
            &pool,
            &client,
            "ADMIN_USER_PASSWORD_AUTH",
            "ghost",
            PASSWORD,
        ),
        "UserNotFoundException",
        "User does not exist.",
    );
    s.err_msg(
        "AdminInitiateAuth",
        admin_auth(&pool, &client, "USER_PASSWORD_AUTH", "eve", PASSWORD),
        "InvalidParameterException",
        "Initiate Auth method not supported.",
    );
    s.err_msg(
        "AdminInitiateAuth",
        json!({"AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "eve", "PASSWORD": PASSWORD}}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
    );
    s.err_msg(
        "AdminInitiateAuth",
        admin_auth(
            "us-east-1_none",
            &client,
            "ADMIN_USER_PASSWORD_AUTH",
            "eve",
            PASSWORD,
        ),
        "ResourceNotFoundException",
        "User pool us-east-1_none does not exist.",
    );
    // The client must belong to the pool.
    let other_pool = s.create_pool("other", json!({}));
    s.err_msg(
        "AdminInitiateAuth",
        admin_auth(
            &other_pool,
            &client,
            "ADMIN_USER_PASSWORD_AUTH",
            "eve",
            PASSWORD,
        ),
        "ResourceNotFoundException",
        &format!("User pool client {client} does not exist."),
    );
    s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "unconf", "Password": PASSWORD}),
    );
    s.err_msg(
        "AdminInitiateAuth",
        admin_auth(
            &pool,
            &client,
            "ADMIN_USER_PASSWORD_AUTH",
            "unconf",
            PASSWORD,
        ),
        "UserNotConfirmedException",
        "User is not confirmed.",
    );
}

// ---------------------------------------------------------------- PreventUserExistenceErrors

#[test]
fn prevent_user_existence_errors_enabled() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({"AutoVerifiedAttributes": ["email"]}));
    let mut extra = common::password_flows();
    extra["PreventUserExistenceErrors"] = json!("ENABLED");
    let client = s.create_client(&pool, extra);
    let c = s.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    assert_eq!(c["UserPoolClient"]["PreventUserExistenceErrors"], "ENABLED");
    s.admin_user(&pool, "fay", json!([]));
    s.err_msg(
        "InitiateAuth",
        user_password(&client, "nobody", PASSWORD),
        "NotAuthorizedException",
        INCORRECT,
    );
    s.err_msg(
        "InitiateAuth",
        user_password(&client, "fay", "Wrong-Passw0rd"),
        "NotAuthorizedException",
        INCORRECT,
    );
    s.err_msg(
        "AdminInitiateAuth",
        admin_auth(
            &pool,
            &client,
            "ADMIN_USER_PASSWORD_AUTH",
            "nobody",
            PASSWORD,
        ),
        "NotAuthorizedException",
        INCORRECT,
    );
    s.login(&client, "fay", PASSWORD);
    // ConfirmSignUp and ResendConfirmationCode do not reveal unknown users either.
    s.err(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "nobody", "ConfirmationCode": "123456"}),
        "CodeMismatchException",
    );
    let v = s.ok(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "nobody"}),
    );
    assert!(v["CodeDeliveryDetails"].is_object(), "{v}");

    // LEGACY (the default) reveals them.
    let mut extra = common::password_flows();
    extra["PreventUserExistenceErrors"] = json!("LEGACY");
    let legacy = s.create_client(&pool, extra);
    s.err_msg(
        "InitiateAuth",
        user_password(&legacy, "nobody", PASSWORD),
        "UserNotFoundException",
        "User does not exist.",
    );
}

// ---------------------------------------------------------------- SECRET_HASH

#[test]
fn clients_with_a_secret_need_a_secret_hash() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({"AutoVerifiedAttributes": ["email"]}));
    let mut extra = common::password_flows();
    extra["ExplicitAuthFlows"]
        .as_array_mut()
        .unwrap()
        .push(json!("ALLOW_USER_SRP_AUTH"));
    extra["GenerateSecret"] = json!(true);
    let c = s.create_client_full(&pool, extra);
    let client = c["ClientId"].as_str().unwrap().to_owned();
    let secret = c["ClientSecret"].as_str().unwrap().to_owned();
    let missing = format!("Client {client} is configured for secret but secret was not received");
    let wrong = format!("Unable to verify secret hash for client {client}");

    // SignUp / ConfirmSignUp / ResendConfirmationCode.
    s.err_msg(
        "SignUp",
        json!({"ClientId": client, "Username": "gus", "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "gus@example.com"}]}),
        "NotAuthorizedException",
        &missing,
    );
    s.err_msg(
        "SignUp",
        json!({"ClientId": client, "Username": "gus", "Password": PASSWORD,
               "SecretHash": secret_hash(&secret, "someone-else", &client),
               "UserAttributes": [{"Name": "email", "Value": "gus@example.com"}]}),
        "NotAuthorizedException",
        &wrong,
    );
    let hash = secret_hash(&secret, "gus", &client);
    s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "gus", "Password": PASSWORD, "SecretHash": hash,
               "UserAttributes": [{"Name": "email", "Value": "gus@example.com"}]}),
    );
    s.err_msg(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "gus"}),
        "NotAuthorizedException",
        &missing,
    );
    s.ok(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "gus", "SecretHash": hash}),
    );
    let code = s.last_code(&pool, "gus");
    s.err_msg(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "gus", "ConfirmationCode": code}),
        "NotAuthorizedException",
        &missing,
    );
    s.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "gus", "ConfirmationCode": code, "SecretHash": hash}),
    );

    // InitiateAuth.
    s.err_msg(
        "InitiateAuth",
        user_password(&client, "gus", PASSWORD),
        "NotAuthorizedException",
        &missing,
    );
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "gus", "PASSWORD": PASSWORD,
                                  "SECRET_HASH": secret_hash("not-the-secret", "gus", &client)}}),
        "NotAuthorizedException",
        &wrong,
    );
    let v = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "gus", "PASSWORD": PASSWORD, "SECRET_HASH": hash}}),
    );
    assert_tokens(&v, true);
    let rt = v["AuthenticationResult"]["RefreshToken"].clone();

    // AdminInitiateAuth, whose missing SECRET_HASH Cognito words as its
    // SRP and challenge flows (captures of ADMIN_NO_SRP_AUTH and
    // USER_SRP_AUTH).
    let missing_parameter =
        format!("Client {client} is configured with secret but SECRET_HASH was not received");
    s.err_msg(
        "AdminInitiateAuth",
        admin_auth(&pool, &client, "ADMIN_USER_PASSWORD_AUTH", "gus", PASSWORD),
        "NotAuthorizedException",
        &missing_parameter,
    );
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "gus", "SRP_A": "abc1"}}),
        "NotAuthorizedException",
        &missing_parameter,
    );
    s.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "gus", "PASSWORD": PASSWORD, "SECRET_HASH": hash}}),
    );

    // REFRESH_TOKEN_AUTH: the hash is computed with the username.
    s.err_msg(
        "InitiateAuth",
        refresh(&client, &rt),
        "NotAuthorizedException",
        &missing,
    );
    s.err_msg(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
               "AuthParameters": {"REFRESH_TOKEN": rt, "SECRET_HASH": secret_hash(&secret, "x", &client)}}),
        "NotAuthorizedException",
        &wrong,
    );
    let v = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
               "AuthParameters": {"REFRESH_TOKEN": rt, "SECRET_HASH": hash}}),
    );
    assert_tokens(&v, false);
}

#[test]
fn secret_hash_in_challenge_responses() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let mut extra = common::password_flows();
    extra["GenerateSecret"] = json!(true);
    let c = s.create_client_full(&pool, extra);
    let client = c["ClientId"].as_str().unwrap().to_owned();
    let secret = c["ClientSecret"].as_str().unwrap().to_owned();
    let hash = secret_hash(&secret, "hana", &client);
    temp_user(&s, &pool, "hana", "Temp-Passw0rd");
    let v = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "hana", "PASSWORD": "Temp-Passw0rd", "SECRET_HASH": hash}}),
    );
    assert_eq!(v["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let session = v["Session"].clone();
    s.err_msg(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "hana", "NEW_PASSWORD": "N3w-Password"}}),
        "NotAuthorizedException",
        &format!("Client {client} is configured with secret but SECRET_HASH was not received"),
    );
    // The session survives a missing secret hash only if the server keeps it; start over to be safe.
    let v = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "hana", "PASSWORD": "Temp-Passw0rd", "SECRET_HASH": hash}}),
    );
    let v = s.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": v["Session"],
               "ChallengeResponses": {"USERNAME": "hana", "NEW_PASSWORD": "N3w-Password",
                                      "SECRET_HASH": hash}}),
    );
    assert_tokens(&v, true);
}

// ---------------------------------------------------------------- NEW_PASSWORD_REQUIRED

#[test]
fn new_password_required_via_respond_to_auth_challenge() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    temp_user(&s, &pool, "ian", "Temp-Passw0rd");
    let v = s.ok(
        "InitiateAuth",
        user_password(&client, "ian", "Temp-Passw0rd"),
    );
    assert_eq!(v["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    assert!(v.get("AuthenticationResult").is_none() || v["AuthenticationResult"].is_null());
    let session = v["Session"].as_str().unwrap().to_owned();
    assert!(session.len() >= 20, "{session}");
    let p = &v["ChallengeParameters"];
    assert_eq!(p["USER_ID_FOR_SRP"], "ian");
    let required: Value = serde_json::from_str(p["requiredAttributes"].as_str().unwrap()).unwrap();
    assert_eq!(required, json!([]));
    let current: Value = serde_json::from_str(p["userAttributes"].as_str().unwrap()).unwrap();
    assert_eq!(current["email"], "ian@example.com");

    let respond = |session: &str, password: &str| {
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "ian", "NEW_PASSWORD": password,
                                      "userAttributes.given_name": "Ian"}})
    };

    // A weak password is refused, and the session stays usable.
    let m = s.err(
        "RespondToAuthChallenge",
        respond(&session, "weak"),
        "InvalidPasswordException",
    );
    assert_eq!(
        m,
        "Password does not conform to policy: Password not long enough"
    );
    // Missing NEW_PASSWORD is refused, and the session stays usable.
    s.err_msg(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "ian"}}),
        "InvalidParameterException",
        "Missing required parameter NEW_PASSWORD",
    );
    let v = s.ok("RespondToAuthChallenge", respond(&session, "N3w-Password"));
    assert_tokens(&v, true);
    let id = jwt_claims(v["AuthenticationResult"]["IdToken"].as_str().unwrap());
    assert_eq!(id["given_name"], "Ian");

    // The session is single use.
    s.err_msg(
        "RespondToAuthChallenge",
        respond(&session, "An0ther-Password"),
        "NotAuthorizedException",
        SESSION_USED,
    );
    let u = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "ian"}),
    );
    assert_eq!(u["UserStatus"], "CONFIRMED");
    assert_eq!(attr(&u["UserAttributes"], "given_name"), Some("Ian"));
    s.login(&client, "ian", "N3w-Password");
    s.err_msg(
        "InitiateAuth",
        user_password(&client, "ian", "Temp-Passw0rd"),
        "NotAuthorizedException",
        INCORRECT,
    );
}

#[test]
fn respond_to_auth_challenge_session_errors() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    temp_user(&s, &pool, "jo", "Temp-Passw0rd");
    temp_user(&s, &pool, "kim", "Temp-Passw0rd");
    let body = |session: &Value, username: &str| {
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": username, "NEW_PASSWORD": "N3w-Password"}})
    };
    // An unknown session.
    let fake = json!("AYABthisisnotarealsessionhandle0123456789");
    s.err_msg(
        "RespondToAuthChallenge",
        body(&fake, "jo"),
        "NotAuthorizedException",
        SESSION_EXPIRED,
    );
    // No session at all.
    s.err_msg(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "ChallengeResponses": {"USERNAME": "jo", "NEW_PASSWORD": "N3w-Password"}}),
        "NotAuthorizedException",
        SESSION_EXPIRED,
    );
    // A session used with another client of the pool.
    let v = s.ok(
        "InitiateAuth",
        user_password(&client, "jo", "Temp-Passw0rd"),
    );
    let session = v["Session"].clone();
    let other = s.create_client(&pool, common::password_flows());
    s.err_msg(
        "RespondToAuthChallenge",
        json!({"ClientId": other, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "jo", "NEW_PASSWORD": "N3w-Password"}}),
        "NotAuthorizedException",
        SESSION_EXPIRED,
    );
    // A session answered for another user.
    let v = s.ok(
        "InitiateAuth",
        user_password(&client, "jo", "Temp-Passw0rd"),
    );
    s.err(
        "RespondToAuthChallenge",
        body(&v["Session"], "kim"),
        "NotAuthorizedException",
    );
    // USERNAME is required.
    let v = s.ok(
        "InitiateAuth",
        user_password(&client, "jo", "Temp-Passw0rd"),
    );
    s.err_msg(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": v["Session"],
               "ChallengeResponses": {"NEW_PASSWORD": "N3w-Password"}}),
        "InvalidParameterException",
        "Missing required parameter USERNAME",
    );
    let m = s.err(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NOT_A_CHALLENGE", "Session": v["Session"]}),
        "InvalidParameterException",
    );
    assert!(
        m.starts_with("1 validation error detected: Value 'NOT_A_CHALLENGE' at 'challengeName'"),
        "{m}"
    );
    s.err_msg(
        "RespondToAuthChallenge",
        json!({"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": v["Session"]}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null",
    );
    s.err(
        "RespondToAuthChallenge",
        json!({"ClientId": "nosuchclient00000000000000", "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": v["Session"]}),
        "ResourceNotFoundException",
    );
}

#[test]
fn new_password_required_via_admin_respond_to_auth_challenge() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    temp_user(&s, &pool, "lea", "Temp-Passw0rd");
    let v = s.ok(
        "AdminInitiateAuth",
        admin_auth(
            &pool,
            &client,
            "ADMIN_USER_PASSWORD_AUTH",
            "lea",
            "Temp-Passw0rd",
        ),
    );
    assert_eq!(v["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let session = v["Session"].clone();
    let body = |password: &str| {
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": session, "ChallengeResponses": {"USERNAME": "lea", "NEW_PASSWORD": password}})
    };
    s.err(
        "AdminRespondToAuthChallenge",
        body("alllowercase1!"),
        "InvalidPasswordException",
    );
    let v = s.ok("AdminRespondToAuthChallenge", body("N3w-Password"));
    assert_tokens(&v, true);
    s.err_msg(
        "AdminRespondToAuthChallenge",
        body("N3w-Password"),
        "NotAuthorizedException",
        SESSION_USED,
    );
    s.ok(
        "AdminInitiateAuth",
        admin_auth(
            &pool,
            &client,
            "ADMIN_USER_PASSWORD_AUTH",
            "lea",
            "N3w-Password",
        ),
    );

    // Admin-specific errors.
    s.err_msg(
        "AdminRespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "lea", "NEW_PASSWORD": "N3w-Password"}}),
        "InvalidParameterException",
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
    );
    s.err_msg(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": "us-east-1_none", "ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": session, "ChallengeResponses": {"USERNAME": "lea", "NEW_PASSWORD": "N3w-Password"}}),
        "ResourceNotFoundException",
        "User pool us-east-1_none does not exist.",
    );
    s.err_msg(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": "AYABthisisnotarealsessionhandle0123456789",
               "ChallengeResponses": {"USERNAME": "lea", "NEW_PASSWORD": "N3w-Password"}}),
        "NotAuthorizedException",
        SESSION_EXPIRED,
    );
}

#[test]
fn new_password_required_asks_for_missing_required_attributes() {
    let s = Server::start();
    let pool = s.create_pool(
        "req",
        json!({"Schema": [{"Name": "name", "AttributeDataType": "String", "Mutable": true, "Required": true}]}),
    );
    let client = s.create_client(&pool, common::password_flows());
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "max", "TemporaryPassword": "Temp-Passw0rd",
               "MessageAction": "SUPPRESS", "UserAttributes": [{"Name": "name", "Value": "Max"}]}),
    );
    let v = s.ok(
        "InitiateAuth",
        user_password(&client, "max", "Temp-Passw0rd"),
    );
    assert_eq!(v["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    // `name` is already set, so nothing is required.
    let required: Value = serde_json::from_str(
        v["ChallengeParameters"]["requiredAttributes"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(required, json!([]));
    let v = s.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": v["Session"],
               "ChallengeResponses": {"USERNAME": "max", "NEW_PASSWORD": "N3w-Password"}}),
    );
    assert_tokens(&v, true);
}

#[test]
fn email_username_pool_signs_in_by_email() {
    let s = Server::start();
    let pool = s.create_pool("email", json!({"UsernameAttributes": ["email"]}));
    let client = s.create_client(&pool, common::password_flows());
    let v = s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "nia@example.com", "MessageAction": "SUPPRESS",
               "TemporaryPassword": "Temp-Passw0rd"}),
    );
    let username = v["User"]["Username"].as_str().unwrap().to_owned();
    assert_eq!(
        Some(username.as_str()),
        attr(&v["User"]["Attributes"], "sub"),
        "the username of an email-username pool is the sub"
    );
    let v = s.ok(
        "InitiateAuth",
        user_password(&client, "nia@example.com", "Temp-Passw0rd"),
    );
    assert_eq!(v["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    assert_eq!(
        v["ChallengeParameters"]["USER_ID_FOR_SRP"],
        username.as_str()
    );
    let v = s.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": v["Session"],
               "ChallengeResponses": {"USERNAME": "nia@example.com", "NEW_PASSWORD": "N3w-Password"}}),
    );
    assert_tokens(&v, true);
    let r = s.login(&client, "nia@example.com", "N3w-Password");
    assert_eq!(
        jwt_claims(r["AccessToken"].as_str().unwrap())["username"],
        username.as_str()
    );
    // The sub works as a username too.
    s.login(&client, &username, "N3w-Password");
    s.err_msg(
        "InitiateAuth",
        user_password(&client, "nia@example.com", "Wrong-Passw0rd"),
        "NotAuthorizedException",
        INCORRECT,
    );
}

#[test]
fn new_password_required_refuses_an_email_the_user_already_has() {
    let s = Server::start();
    let pool = s.create_pool("np", json!({}));
    let client = s.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    temp_user(&s, &pool, "nina", "Temp-Passw0rd!");
    let start = s.ok(
        "InitiateAuth",
        user_password(&client, "nina", "Temp-Passw0rd!"),
    );
    assert_eq!(start["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let answer = |attributes: Value| {
        let mut responses = json!({"USERNAME": "nina", "NEW_PASSWORD": "N3w-Passw0rd!"});
        for (k, v) in attributes.as_object().unwrap() {
            responses[k] = v.clone();
        }
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": start["Session"], "ChallengeResponses": responses})
    };
    // Echoing back the address it has: AWS's refusal, and the session stays.
    s.err_msg(
        "RespondToAuthChallenge",
        answer(json!({"userAttributes.email": "nina@example.com"})),
        "NotAuthorizedException",
        "Cannot modify an already provided email",
    );
    // Another attribute may be set with the new password.
    let v = s.ok(
        "RespondToAuthChallenge",
        answer(json!({"userAttributes.given_name": "Nina"})),
    );
    assert_tokens(&v, true);
}
