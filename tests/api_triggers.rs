//! Lambda triggers end to end: the real `cognate` binary invokes functions
//! served by a small HTTP server on 127.0.0.1 that speaks the Lambda
//! Invoke API (`POST /2015-03-31/functions/{function}/invocations`, errors
//! with `X-Amz-Function-Error`) and, for the config file's plain-URL map,
//! takes the event at `/hook/{function}`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hosted;

use std::time::Duration;

use common::lambda::{arn, Answer, FakeLambda};
use common::{attr, jwt_claims, password_flows, Server, PASSWORD};
use serde_json::{json, Value};

/// A server invoking functions through the fake's Lambda Invoke API.
pub fn server_for(lambda: &FakeLambda, timeout_ms: u64) -> Server {
    Server::start_with_args(
        &[
            "--lambda-endpoint".into(),
            lambda.url.clone(),
            "--lambda-timeout-ms".into(),
            timeout_ms.to_string(),
        ],
        None,
    )
}

/// A pool with these LambdaConfig members (function names become ARNs)
/// verifying email, and a client allowing the password flows.
pub fn pool_with(srv: &Server, triggers: &[(&str, &str)]) -> (String, String) {
    let mut config = serde_json::Map::new();
    for (trigger, function) in triggers {
        config.insert((*trigger).into(), json!(arn(function)));
    }
    let pool = srv.create_pool(
        "triggers",
        json!({"AutoVerifiedAttributes": ["email"], "LambdaConfig": config}),
    );
    let client = srv.create_client(&pool, password_flows());
    (pool, client)
}

fn sign_up(srv: &Server, client: &str, username: &str, email: &str) -> (u16, Value) {
    srv.call(
        "SignUp",
        json!({"ClientId": client, "Username": username, "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": email}],
               "ValidationData": [{"Name": "invite", "Value": "xyz"}],
               "ClientMetadata": {"source": "test"}}),
    )
}

// ------------------------------------------------- PreSignUp, PostConfirmation

#[test]
fn pre_sign_up_refusal_creates_no_user_and_auto_confirm_confirms() {
    let lambda = FakeLambda::start(|_, event| {
        let email = event["request"]["userAttributes"]["email"]
            .as_str()
            .unwrap_or_default();
        if email.ends_with("@blocked.example") {
            Answer::Fail("Sign-ups from this domain are closed".into())
        } else if email.ends_with("@trusted.example") {
            Answer::Respond(json!({"autoConfirmUser": true, "autoVerifyEmail": true}))
        } else {
            Answer::Respond(json!({}))
        }
    });
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(&srv, &[("PreSignUp", "pre-sign-up")]);

    // A refusal answers Cognito's error and leaves no user behind.
    let (status, v) = sign_up(&srv, &client, "mallory", "m@blocked.example");
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["__type"], "UserLambdaValidationException");
    assert_eq!(
        v["message"],
        "PreSignUp failed with error Sign-ups from this domain are closed."
    );
    srv.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "mallory"}),
        "UserNotFoundException",
    );
    assert!(srv.messages_for(&pool, "mallory").is_empty());
    // The name is free: a later allowed sign-up takes it.
    let (status, v) = sign_up(&srv, &client, "mallory", "m@example.com");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["UserConfirmed"], false);

    // autoConfirmUser + autoVerifyEmail: confirmed, verified, no code sent.
    let (status, v) = sign_up(&srv, &client, "trudy", "t@trusted.example");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["UserConfirmed"], true);
    assert!(v.get("CodeDeliveryDetails").is_none(), "{v}");
    let user = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "trudy"}),
    );
    assert_eq!(user["UserStatus"], "CONFIRMED");
    assert_eq!(
        attr(&user["UserAttributes"], "email_verified"),
        Some("true")
    );
    assert!(srv.messages_for(&pool, "trudy").is_empty());
    srv.login(&client, "trudy", PASSWORD);

    // The event as Cognito sends it, through the Invoke API path of the ARN.
    let events = lambda.events();
    let (function, event) = events.last().unwrap();
    assert_eq!(function, &arn("pre-sign-up"));
    assert_eq!(event["version"], "1");
    assert_eq!(event["triggerSource"], "PreSignUp_SignUp");
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(event["userPoolId"], pool.as_str());
    assert_eq!(event["userName"], "trudy");
    assert_eq!(event["callerContext"]["clientId"], client.as_str());
    assert!(event["callerContext"]["awsSdkVersion"].is_string());
    assert_eq!(
        event["request"]["userAttributes"]["email"],
        "t@trusted.example"
    );
    assert_eq!(event["request"]["validationData"]["invite"], "xyz");
    assert_eq!(event["request"]["clientMetadata"]["source"], "test");
    assert_eq!(event["response"]["autoConfirmUser"], false);

    // AdminCreateUser runs it too (PreSignUp_AdminCreateUser), and a refusal creates nothing.
    srv.err_msg(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "eve", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "e@blocked.example"}]}),
        "UserLambdaValidationException",
        "PreSignUp failed with error Sign-ups from this domain are closed.",
    );
    srv.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "eve"}),
        "UserNotFoundException",
    );
    srv.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "victor", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "v@trusted.example"}]}),
    );
    let user = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "victor"}),
    );
    assert_eq!(user["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(
        attr(&user["UserAttributes"], "email_verified"),
        Some("true")
    );
    let admin_events = lambda.events_of("PreSignUp_AdminCreateUser");
    assert_eq!(admin_events.len(), 2);
    assert_eq!(
        admin_events[1]["callerContext"]["clientId"],
        "CLIENT_ID_NOT_APPLICABLE"
    );
}

#[test]
fn post_confirmation_runs_after_confirm_sign_up_and_forgot_password() {
    let lambda = FakeLambda::start(|_, _| Answer::Respond(json!({})));
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(&srv, &[("PostConfirmation", "post-confirmation")]);
    srv.sign_up_confirmed(&pool, &client, "carol", "carol@example.com");
    let events = lambda.events_of("PostConfirmation_ConfirmSignUp");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["userName"], "carol");
    assert_eq!(e["callerContext"]["clientId"], client.as_str());
    assert_eq!(
        e["request"]["userAttributes"]["cognito:user_status"],
        "CONFIRMED"
    );
    assert_eq!(e["request"]["userAttributes"]["email_verified"], "true");
    assert!(e["request"]["userAttributes"]["sub"].is_string());

    srv.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "carol"}),
    );
    let code = srv.last_code(&pool, "carol");
    srv.ok(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "carol", "ConfirmationCode": code,
               "Password": "N3w-Passw0rd!"}),
    );
    assert_eq!(
        lambda
            .events_of("PostConfirmation_ConfirmForgotPassword")
            .len(),
        1
    );

    // AdminConfirmSignUp runs it as well.
    sign_up(&srv, &client, "dave", "dave@example.com");
    srv.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "dave"}),
    );
    let events = lambda.events_of("PostConfirmation_ConfirmSignUp");
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["userName"], "dave");
}

#[test]
fn timeouts_unreachable_functions_and_malformed_answers() {
    let lambda = FakeLambda::start(|function, _| match function {
        f if f.ends_with(":slow") => Answer::Slow(Duration::from_millis(1500), json!({})),
        f if f.ends_with(":garbled") => Answer::Raw("this is not JSON".into()),
        f if f.ends_with(":wrong-type") => Answer::Respond(json!({"autoConfirmUser": "yes"})),
        _ => Answer::Respond(json!({})),
    });
    let srv = server_for(&lambda, 300);
    for (function, error) in [
        ("slow", "UnexpectedLambdaException"),
        ("garbled", "InvalidLambdaResponseException"),
        ("wrong-type", "InvalidLambdaResponseException"),
    ] {
        let (pool, client) = pool_with(&srv, &[("PreSignUp", function)]);
        let (status, v) = sign_up(&srv, &client, "frank", "f@example.com");
        assert_eq!(status, 400, "{function}: {v}");
        assert_eq!(v["__type"], error, "{function}: {v}");
        if function == "slow" {
            assert_eq!(
                v["message"],
                "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function."
            );
        }
        srv.err(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "frank"}),
            "UserNotFoundException",
        );
    }
    // A server without a Lambda endpoint cannot run a trigger: UnexpectedLambdaException.
    let bare = Server::start();
    let (_pool, client) = pool_with(&bare, &[("PreSignUp", "anything")]);
    let (_, v) = sign_up(&bare, &client, "gina", "g@example.com");
    assert_eq!(v["__type"], "UnexpectedLambdaException", "{v}");
}

#[test]
fn lambda_config_is_stored_and_echoed_as_cognito_does() {
    let lambda = FakeLambda::start(|_, _| Answer::Respond(json!({})));
    let srv = server_for(&lambda, 5000);
    let pool = srv.create_pool(
        "cfg",
        json!({"LambdaConfig": {"PreTokenGeneration": arn("legacy"), "PreSignUp": arn("p")}}),
    );
    let described = srv.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    let config = &described["UserPool"]["LambdaConfig"];
    assert_eq!(config["PreSignUp"], arn("p"));
    assert_eq!(
        config["PreTokenGenerationConfig"],
        json!({"LambdaVersion": "V1_0", "LambdaArn": arn("legacy")})
    );
    srv.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "LambdaConfig": {
            "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": arn("v2")}}}),
    );
    let described = srv.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    let config = &described["UserPool"]["LambdaConfig"];
    assert_eq!(config["PreTokenGeneration"], arn("v2"));
    assert_eq!(config["PreTokenGenerationConfig"]["LambdaVersion"], "V2_0");
    assert!(config.get("PreSignUp").is_none(), "{config}");
}

#[test]
fn concurrent_sign_ups_through_a_trigger_create_one_user() {
    let lambda = FakeLambda::start(|_, _| {
        Answer::Slow(Duration::from_millis(20), json!({"autoConfirmUser": true}))
    });
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(&srv, &[("PreSignUp", "pre")]);
    let url = srv.url.clone();
    let results: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let url = url.clone();
                let client = client.clone();
                s.spawn(move || {
                    let r = reqwest::blocking::Client::new()
                        .post(format!("{url}/"))
                        .header("Content-Type", common::CONTENT_TYPE)
                        .header(
                            "X-Amz-Target",
                            format!("{}SignUp", common::TARGET_PREFIX),
                        )
                        .body(
                            json!({"ClientId": client, "Username": "same", "Password": PASSWORD,
                                   "UserAttributes": [{"Name": "email", "Value": format!("s{i}@example.com")}]})
                            .to_string(),
                        )
                        .send()
                        .unwrap();
                    let status = r.status().as_u16();
                    (status, r.json::<Value>().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(created, 1, "{results:?}");
    for (status, v) in &results {
        if *status != 200 {
            assert_eq!(v["__type"], "UsernameExistsException", "{v}");
        }
    }
    let user = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "same"}),
    );
    assert_eq!(user["UserStatus"], "CONFIRMED");
}

fn claims(token: &Value) -> Value {
    jwt_claims(token.as_str().unwrap())
}

// ------------------------------------------------------ PreTokenGeneration

#[test]
fn pre_token_generation_v1_through_a_plain_url_adds_a_claim_and_a_group_the_gateway_checks() {
    let lambda = FakeLambda::start(|_, event| {
        assert_eq!(event["version"], "1");
        Answer::Respond(json!({"claimsOverrideDetails": {
            "claimsToAddOrOverride": {"tenant": "acme", "sub": "forged", "token_use": "access"},
            "claimsToSuppress": ["email"],
            "groupOverrideDetails": {
                "groupsToOverride": ["admins"],
                "iamRolesToOverride": ["arn:aws:iam::123456789012:role/admin"],
                "preferredRole": "arn:aws:iam::123456789012:role/admin"
            }
        }}))
    });
    let gateway_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pool = "us-east-1_Triggers1";
    let client = "triggersclient1";
    let yaml = format!(
        r#"
lambda:
  functions:
    "{arn}": "{url}/hook/pre-token"
pools:
  - id: {pool}
    name: triggers
    clients:
      - id: {client}
        name: web
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
    users:
      - {{username: alice, password: "{PASSWORD}", attributes: {{email: alice@example.com}}}}
gateway:
  listen: 127.0.0.1:{gateway_port}
  apis:
    - name: admin
      stage: dev
      authorizers:
        pool: {{type: cognito, pools: [{pool}], clients: [{client}]}}
      routes:
        - {{method: GET, path: /admin, authorizer: pool, token_use: access, groups: [admins], integration: {{type: mock, body: {{ok: true}}}}}}
"#,
        arn = arn("pre-token"),
        url = lambda.url,
    );
    let srv = Server::start_with_args(&[], Some(&yaml));
    // Before the trigger is configured: no group, the gateway refuses.
    let plain = srv.login(client, "alice", PASSWORD);
    let gateway = format!("http://127.0.0.1:{gateway_port}/dev/admin");
    let status = |token: &Value| {
        srv.http()
            .get(&gateway)
            .header(
                "Authorization",
                format!("Bearer {}", token.as_str().unwrap()),
            )
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(status(&plain["AccessToken"]), 403);
    assert!(lambda.events().is_empty());

    srv.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "LambdaConfig": {"PreTokenGeneration": arn("pre-token")}}),
    );
    let tokens = srv.login(client, "alice", PASSWORD);
    let id = claims(&tokens["IdToken"]);
    assert_eq!(id["tenant"], "acme");
    assert_ne!(id["sub"], "forged");
    assert_eq!(id["token_use"], "id");
    assert!(id.get("email").is_none(), "{id}");
    assert_eq!(id["cognito:groups"], json!(["admins"]));
    assert_eq!(
        id["cognito:preferred_role"],
        "arn:aws:iam::123456789012:role/admin"
    );
    let access = claims(&tokens["AccessToken"]);
    assert_eq!(access["cognito:groups"], json!(["admins"]));
    assert!(
        access.get("tenant").is_none(),
        "V1_0 leaves the access token's claims"
    );
    assert_eq!(status(&tokens["AccessToken"]), 200);

    let events = lambda.events();
    let (function, event) = &events[0];
    assert_eq!(function, "pre-token", "the plain URL's path names the hook");
    assert_eq!(event["triggerSource"], "TokenGeneration_Authentication");
    assert_eq!(
        event["request"]["userAttributes"]["email"],
        "alice@example.com"
    );
    assert_eq!(
        event["request"]["groupConfiguration"]["groupsToOverride"],
        json!([])
    );

    // A refresh runs it again, as TokenGeneration_RefreshTokens.
    let refreshed = srv.ok(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
               "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]}}),
    );
    assert_eq!(
        claims(&refreshed["AuthenticationResult"]["IdToken"])["tenant"],
        "acme"
    );
    assert_eq!(lambda.events_of("TokenGeneration_RefreshTokens").len(), 1);
    // So does GetTokensFromRefreshToken, with its ClientMetadata.
    let refreshed = srv.ok(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": tokens["RefreshToken"],
               "ClientMetadata": {"app": "web"}}),
    );
    assert_eq!(
        claims(&refreshed["AuthenticationResult"]["IdToken"])["tenant"],
        "acme"
    );
    let refreshes = lambda.events_of("TokenGeneration_RefreshTokens");
    assert_eq!(refreshes.len(), 2);
    assert_eq!(
        refreshes[1]["request"]["clientMetadata"],
        json!({"app": "web"})
    );
    assert!(refreshes[0]["request"].get("clientMetadata").is_none());
}

#[test]
fn pre_token_generation_v2_changes_both_tokens_and_the_scopes() {
    let lambda = FakeLambda::start(|_, event| {
        assert_eq!(event["version"], "2");
        assert_eq!(
            event["request"]["scopes"],
            json!(["aws.cognito.signin.user.admin"])
        );
        Answer::Respond(json!({"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {"claimsToAddOrOverride": {"roles": ["reader", "writer"]}},
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"plan": "gold", "client_id": "forged"},
                "claimsToSuppress": ["username"],
                "scopesToAdd": ["orders/read"],
                "scopesToSuppress": ["aws.cognito.signin.user.admin"]
            }
        }}))
    });
    let srv = server_for(&lambda, 5000);
    let pool = srv.create_pool(
        "v2",
        json!({"LambdaConfig": {"PreTokenGenerationConfig": {
            "LambdaVersion": "V2_0", "LambdaArn": arn("pre-token-v2")}}}),
    );
    let client = srv.create_client(&pool, password_flows());
    srv.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "nina", "TemporaryPassword": "Temp-Passw0rd!",
               "MessageAction": "SUPPRESS"}),
    );
    let challenge = srv.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "nina", "PASSWORD": "Temp-Passw0rd!"}}),
    );
    assert_eq!(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let done = srv.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": challenge["Session"],
               "ChallengeResponses": {"USERNAME": "nina", "NEW_PASSWORD": PASSWORD}}),
    );
    let result = &done["AuthenticationResult"];
    let access = claims(&result["AccessToken"]);
    assert_eq!(access["plan"], "gold");
    assert_eq!(access["client_id"], client.as_str());
    assert_eq!(access["scope"], "orders/read");
    assert_eq!(access["username"], "nina", "reserved claims stay");
    let id = claims(&result["IdToken"]);
    assert_eq!(id["roles"], json!(["reader", "writer"]));
    assert!(id.get("plan").is_none());
    assert_eq!(
        lambda
            .events_of("TokenGeneration_NewPasswordChallenge")
            .len(),
        1
    );
    // A token whose admin scope was suppressed cannot call the user APIs.
    srv.err(
        "GetUser",
        json!({"AccessToken": result["AccessToken"]}),
        "NotAuthorizedException",
    );
}

// ------------------------------------------------------------ UserMigration

#[test]
fn user_migration_moves_a_user_in_on_first_sign_in() {
    let lambda = FakeLambda::start(|_, event| {
        let name = event["userName"].as_str().unwrap_or_default().to_owned();
        match event["triggerSource"].as_str() {
            Some("UserMigration_Authentication") => {
                if event["request"]["password"] == "Legacy-Passw0rd!" {
                    Answer::Slow(
                        Duration::from_millis(10),
                        json!({
                            "userAttributes": {"email": format!("{name}@legacy.example"), "email_verified": "true"},
                            "finalUserStatus": "CONFIRMED",
                            "messageAction": "SUPPRESS"
                        }),
                    )
                } else {
                    Answer::Fail("Bad password".into())
                }
            }
            Some("UserMigration_ForgotPassword") => Answer::Respond(json!({
                "userAttributes": {"email": format!("{name}@legacy.example"), "email_verified": "true"},
                "messageAction": "SUPPRESS"
            })),
            _ => Answer::Respond(json!({})),
        }
    });
    let mut lambda = lambda;
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(&srv, &[("UserMigration", "migrate")]);
    let login = |user: &str, password: &str| {
        srv.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": user, "PASSWORD": password}}),
        )
    };

    // The legacy system refuses: Cognito's error, and no user.
    let (_, v) = login("olga", "Wrong-Passw0rd!");
    assert_eq!(v["__type"], "UserLambdaValidationException", "{v}");
    assert_eq!(
        v["message"],
        "UserMigration failed with error Bad password."
    );
    srv.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "olga"}),
        "UserNotFoundException",
    );

    // The right password: the user moves in and gets tokens.
    let (status, v) = login("olga", "Legacy-Passw0rd!");
    assert_eq!(status, 200, "{v}");
    assert!(v["AuthenticationResult"]["IdToken"].is_string());
    let user = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "olga"}),
    );
    assert_eq!(user["UserStatus"], "CONFIRMED");
    assert_eq!(
        attr(&user["UserAttributes"], "email"),
        Some("olga@legacy.example")
    );
    let event = &lambda.events_of("UserMigration_Authentication")[1];
    assert_eq!(event["userName"], "olga");
    assert_eq!(event["callerContext"]["clientId"], client.as_str());

    // Dozens of first sign-ins at once: all succeed, one user.
    let results: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| s.spawn(|| login("pavel", "Legacy-Passw0rd!").0))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().all(|s| *s == 200), "{results:?}");
    let listed = srv.ok(
        "ListUsers",
        json!({"UserPoolId": pool, "Filter": "username = \"pavel\""}),
    );
    assert_eq!(listed["Users"].as_array().unwrap().len(), 1);

    // ForgotPassword of an unknown user migrates it as RESET_REQUIRED and sends a code.
    let v = srv.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "quinn"}),
    );
    assert_eq!(v["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");
    let user = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "quinn"}),
    );
    assert_eq!(user["UserStatus"], "RESET_REQUIRED");
    let code = srv.last_code(&pool, "quinn");
    srv.ok(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "quinn", "ConfirmationCode": code,
               "Password": PASSWORD}),
    );

    // With the legacy system gone, the migrated passwords still work.
    lambda.stop();
    let (status, v) = login("olga", "Legacy-Passw0rd!");
    assert_eq!(status, 200, "{v}");
    srv.login(&client, "quinn", PASSWORD);
    let (_, v) = login("olga", "Wrong-Passw0rd!");
    assert_eq!(v["__type"], "NotAuthorizedException", "{v}");
}

#[test]
fn user_migration_force_alias_creation_takes_a_verified_email() {
    let lambda = FakeLambda::start(|_, event| match event["triggerSource"].as_str() {
        Some("UserMigration_Authentication") => Answer::Respond(json!({
            "userAttributes": {"email": "shared@legacy.example", "email_verified": "true"},
            "finalUserStatus": "CONFIRMED",
            "messageAction": "SUPPRESS",
            "forceAliasCreation": event["userName"] == "forced"
        })),
        _ => Answer::Respond(json!({})),
    });
    let srv = server_for(&lambda, 5000);
    let pool = srv.create_pool(
        "migrate-aliases",
        json!({"AliasAttributes": ["email"],
               "LambdaConfig": {"UserMigration": arn("migrate")}}),
    );
    let client = srv.create_client(&pool, password_flows());
    srv.admin_user(
        &pool,
        "holder",
        json!([{"Name": "email", "Value": "shared@legacy.example"},
               {"Name": "email_verified", "Value": "true"}]),
    );
    let login = |user: &str| {
        srv.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": user, "PASSWORD": "Legacy-Passw0rd!"}}),
        )
    };
    // Without forceAliasCreation the migration fails on the taken alias.
    let (status, v) = login("plain");
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("AliasExistsException")),
        "{v}"
    );
    srv.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "plain"}),
        "UserNotFoundException",
    );
    // With it, the migrated user takes the alias; the holder keeps the
    // email, unverified.
    let (status, v) = login("forced");
    assert_eq!(status, 200, "{v}");
    let owner = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "shared@legacy.example"}),
    );
    assert_eq!(owner["Username"], "forced");
    let holder = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "holder"}),
    );
    assert_eq!(
        attr(&holder["UserAttributes"], "email_verified"),
        Some("false")
    );
}

/// A user's verified email address, when the pool signs users in with it,
/// shows in the events' userAttributes as `cognito:email_alias`, as in
/// Cognito's events; an unverified one does not.
#[test]
fn events_name_the_aliases_a_user_signs_in_with() {
    let lambda = FakeLambda::start(|_, _| Answer::Respond(json!({})));
    let srv = server_for(&lambda, 5000);
    let pool = srv.create_pool(
        "alias-events",
        json!({"AliasAttributes": ["email"],
               "LambdaConfig": {"PostAuthentication": arn("post-auth")}}),
    );
    let client = srv.create_client(&pool, password_flows());
    srv.admin_user(
        &pool,
        "vera",
        json!([{"Name": "email", "Value": "vera@example.com"},
               {"Name": "email_verified", "Value": "true"},
               {"Name": "phone_number", "Value": "+15555550100"},
               {"Name": "phone_number_verified", "Value": "true"}]),
    );
    srv.admin_user(
        &pool,
        "uma",
        json!([{"Name": "email", "Value": "uma@example.com"}]),
    );
    srv.login(&client, "vera", PASSWORD);
    srv.login(&client, "uma", PASSWORD);
    let events = lambda.events_of("PostAuthentication_Authentication");
    let of = |name: &str| {
        events
            .iter()
            .find(|e| e["userName"] == name)
            .map(|e| e["request"]["userAttributes"].clone())
            .unwrap()
    };
    let vera = of("vera");
    assert_eq!(vera["cognito:email_alias"], "vera@example.com", "{vera}");
    // The phone number is not one of this pool's aliases.
    assert!(vera.get("cognito:phone_number_alias").is_none(), "{vera}");
    let uma = of("uma");
    assert!(uma.get("cognito:email_alias").is_none(), "{uma}");
}

/// `enableSMSMFA`: the migrated user signs in with SMS MFA from its first
/// sign-in on; without a phone number, or in a pool with MFA off, the
/// migration fails and no user is made.
#[test]
fn user_migration_enable_sms_mfa_turns_on_sms_mfa() {
    let lambda = FakeLambda::start(|_, event| {
        let name = event["userName"].as_str().unwrap_or_default();
        let mut attributes =
            json!({"email": format!("{name}@legacy.example"), "email_verified": "true"});
        if name != "nophone" {
            attributes["phone_number"] = json!("+15555550177");
        }
        Answer::Respond(json!({
            "userAttributes": attributes,
            "finalUserStatus": "CONFIRMED",
            "messageAction": "SUPPRESS",
            "enableSMSMFA": true
        }))
    });
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(&srv, &[("UserMigration", "migrate")]);
    let login = |user: &str| {
        srv.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": user, "PASSWORD": "Legacy-Passw0rd!"}}),
        )
    };
    // MFA is off in the pool: the migration fails.
    let (_, v) = login("early");
    assert_eq!(v["__type"], "InvalidLambdaResponseException", "{v}");
    srv.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "early"}),
        "UserNotFoundException",
    );
    srv.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SmsMfaConfiguration": {"SmsAuthenticationMessage": "Code {####}"}}),
    );
    let (_, v) = login("nophone");
    assert_eq!(v["__type"], "InvalidLambdaResponseException", "{v}");
    let (status, v) = login("mira");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ChallengeName"], "SMS_MFA", "{v}");
    let user = srv.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "mira"}),
    );
    assert_eq!(user["UserMFASettingList"], json!(["SMS_MFA"]));
}

// -------------------------------------------------------------- CUSTOM_AUTH

/// Three questions; three wrong answers fail the sign-in.
fn quiz(_: &str, event: &Value) -> Answer {
    let session = event["request"]["session"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    match event["triggerSource"].as_str().unwrap_or_default() {
        "DefineAuthChallenge_Authentication" => {
            let right = session
                .iter()
                .filter(|r| r["challengeResult"] == true)
                .count();
            let wrong = session
                .iter()
                .filter(|r| r["challengeResult"] == false)
                .count();
            if wrong >= 3 {
                Answer::Respond(json!({"failAuthentication": true, "issueTokens": false}))
            } else if right >= 3 {
                Answer::Respond(json!({"issueTokens": true, "failAuthentication": false}))
            } else {
                Answer::Respond(json!({"challengeName": "CUSTOM_CHALLENGE",
                                       "issueTokens": false, "failAuthentication": false}))
            }
        }
        "CreateAuthChallenge_Authentication" => {
            let n = session
                .iter()
                .filter(|r| r["challengeResult"] == true)
                .count();
            Answer::Respond(json!({
                "publicChallengeParameters": {"question": format!("q{n}")},
                "privateChallengeParameters": {"answer": format!("a{n}")},
                "challengeMetadata": format!("round-{n}")
            }))
        }
        "VerifyAuthChallengeResponse_Authentication" => Answer::Respond(json!({
            "answerCorrect": event["request"]["challengeAnswer"]
                == event["request"]["privateChallengeParameters"]["answer"]
        })),
        _ => Answer::Respond(json!({})),
    }
}

#[test]
fn custom_auth_with_three_challenges() {
    let lambda = FakeLambda::start(quiz);
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(
        &srv,
        &[
            ("DefineAuthChallenge", "define"),
            ("CreateAuthChallenge", "create"),
            ("VerifyAuthChallengeResponse", "verify"),
            ("PostAuthentication", "post-auth"),
        ],
    );
    srv.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client,
               "ExplicitAuthFlows": ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    srv.admin_user(
        &pool,
        "rita",
        json!([{"Name": "email", "Value": "rita@example.com"}]),
    );

    let start = || {
        srv.ok(
            "InitiateAuth",
            json!({"AuthFlow": "CUSTOM_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": "rita"},
                   "ClientMetadata": {"app": "quiz"}}),
        )
    };
    let answer = |session: &Value, text: &str| {
        srv.call(
            "RespondToAuthChallenge",
            json!({"ClientId": client, "ChallengeName": "CUSTOM_CHALLENGE", "Session": session,
                   "ChallengeResponses": {"USERNAME": "rita", "ANSWER": text},
                   "ClientMetadata": {"step": "answer"}}),
        )
    };
    let mut v = start();
    for n in 0..3 {
        assert_eq!(v["ChallengeName"], "CUSTOM_CHALLENGE", "{v}");
        assert_eq!(v["ChallengeParameters"]["question"], format!("q{n}"));
        assert_eq!(v["ChallengeParameters"]["USERNAME"], "rita");
        let session = v["Session"].clone();
        let (status, next) = answer(&session, &format!("a{n}"));
        assert_eq!(status, 200, "{next}");
        // A session is used once.
        let (_, again) = answer(&session, &format!("a{n}"));
        assert_eq!(again["__type"], "NotAuthorizedException", "{again}");
        v = next;
    }
    let tokens = &v["AuthenticationResult"];
    assert_eq!(claims(&tokens["IdToken"])["cognito:username"], "rita");
    assert_eq!(
        lambda.events_of("PostAuthentication_Authentication").len(),
        1
    );
    let defines = lambda.events_of("DefineAuthChallenge_Authentication");
    assert_eq!(defines.len(), 4);
    assert_eq!(
        defines[3]["request"]["session"],
        json!([
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "round-0"},
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "round-1"},
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "round-2"}
        ])
    );
    // InitiateAuth's ClientMetadata does not reach Define/CreateAuthChallenge
    // (the model lists pre sign-up, pre authentication and user migration
    // only); RespondToAuthChallenge's reaches every trigger it invokes.
    assert!(
        defines[0]["request"].get("clientMetadata").is_none(),
        "{}",
        defines[0]
    );
    let creates = lambda.events_of("CreateAuthChallenge_Authentication");
    assert!(
        creates[0]["request"].get("clientMetadata").is_none(),
        "{}",
        creates[0]
    );
    assert_eq!(
        defines[1]["request"]["clientMetadata"],
        json!({"step": "answer"})
    );
    assert_eq!(
        creates[1]["request"]["clientMetadata"],
        json!({"step": "answer"})
    );
    let verifies = lambda.events_of("VerifyAuthChallengeResponse_Authentication");
    assert_eq!(
        verifies[0]["request"]["clientMetadata"],
        json!({"step": "answer"})
    );
    assert_eq!(defines[0]["request"]["userNotFound"], false);
    assert_eq!(
        defines[0]["request"]["userAttributes"]["email"],
        "rita@example.com"
    );

    // Three wrong answers: DefineAuthChallenge fails the sign-in.
    let mut v = start();
    for i in 0..3 {
        let (status, next) = answer(&v["Session"], "wrong");
        if i < 2 {
            assert_eq!(status, 200, "{next}");
            assert_eq!(next["ChallengeParameters"]["question"], "q0");
        } else {
            assert_eq!(next["__type"], "NotAuthorizedException", "{next}");
            assert_eq!(next["message"], "Incorrect username or password.");
        }
        v = next;
    }

    // AdminInitiateAuth too; a client without ALLOW_CUSTOM_AUTH is refused.
    let v = srv.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "AuthFlow": "CUSTOM_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "rita"}}),
    );
    assert_eq!(v["ChallengeName"], "CUSTOM_CHALLENGE");
    let other = srv.create_client(&pool, password_flows());
    srv.err(
        "InitiateAuth",
        json!({"AuthFlow": "CUSTOM_AUTH", "ClientId": other,
               "AuthParameters": {"USERNAME": "rita"}}),
        "InvalidParameterException",
    );
}

// ------------------------- CustomMessage, PreAuthentication, PostAuthentication

#[test]
fn custom_message_and_authentication_triggers() {
    let lambda = FakeLambda::start(|function, event| {
        let source = event["triggerSource"].as_str().unwrap_or_default();
        match (function, source) {
            (_, "CustomMessage_SignUp") => Answer::Respond(json!({
                "emailSubject": "Welcome aboard",
                "emailMessage": format!("Hi {}, your code is {}", event["userName"].as_str().unwrap(),
                                        event["request"]["codeParameter"].as_str().unwrap())
            })),
            (_, "CustomMessage_ForgotPassword") => {
                Answer::Respond(json!({"emailMessage": "no code in here"}))
            }
            (_, "CustomMessage_AdminCreateUser") => Answer::Respond(json!({
                "emailMessage": format!("User {} password {}", event["request"]["usernameParameter"].as_str().unwrap(),
                                        event["request"]["codeParameter"].as_str().unwrap())
            })),
            (_, "PreAuthentication_Authentication")
                if event["request"]["userAttributes"]["email"] == "blocked@example.com" =>
            {
                Answer::Fail("Account on hold".into())
            }
            (_, "PostAuthentication_Authentication")
                if event["request"]["userAttributes"]["email"] == "late@example.com" =>
            {
                Answer::Fail("Audit log unavailable".into())
            }
            _ => Answer::Respond(json!({})),
        }
    });
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(
        &srv,
        &[
            ("CustomMessage", "messages"),
            ("PreAuthentication", "pre-auth"),
            ("PostAuthentication", "post-auth"),
        ],
    );
    // CustomMessage_SignUp replaces subject and body; the code is in it.
    sign_up(&srv, &client, "sam", "sam@example.com");
    let msg = srv.messages_for(&pool, "sam").pop().unwrap();
    let code = msg["code"].as_str().unwrap();
    assert_eq!(msg["subject"], "Welcome aboard");
    assert_eq!(msg["body"], format!("Hi sam, your code is {code}"));
    srv.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "sam", "ConfirmationCode": code}),
    );
    // A body without the code parameter is not used: the default goes out.
    srv.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "sam"}),
    );
    let msg = srv.messages_for(&pool, "sam").pop().unwrap();
    assert_ne!(msg["body"], "no code in here");
    assert!(msg["body"]
        .as_str()
        .unwrap()
        .contains(msg["code"].as_str().unwrap()));
    // The invitation: usernameParameter and codeParameter.
    srv.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "tom", "TemporaryPassword": "Temp-Passw0rd!",
               "DesiredDeliveryMediums": ["EMAIL"],
               "UserAttributes": [{"Name": "email", "Value": "tom@example.com"}]}),
    );
    let msg = srv.messages_for(&pool, "tom").pop().unwrap();
    assert_eq!(msg["body"], "User tom password Temp-Passw0rd!");

    // PreAuthentication refuses before the password is judged; PostAuthentication runs after.
    srv.admin_user(
        &pool,
        "ursula",
        json!([{"Name": "email", "Value": "blocked@example.com"}]),
    );
    srv.admin_user(
        &pool,
        "lara",
        json!([{"Name": "email", "Value": "late@example.com"}]),
    );
    let login = |user: &str| {
        srv.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD}}),
        )
    };
    let (_, v) = login("ursula");
    assert_eq!(v["__type"], "UserLambdaValidationException");
    assert_eq!(
        v["message"],
        "PreAuthentication failed with error Account on hold."
    );
    let (_, v) = login("lara");
    assert_eq!(v["__type"], "UserLambdaValidationException");
    assert_eq!(
        v["message"],
        "PostAuthentication failed with error Audit log unavailable."
    );
    let (status, v) = login("sam");
    assert_eq!(status, 200, "{v}");
    let post = lambda.events_of("PostAuthentication_Authentication");
    let last = post.last().unwrap();
    assert_eq!(last["userName"], "sam");
    assert_eq!(last["request"]["newDeviceUsed"], false);
    assert_eq!(
        lambda
            .events_of("PreAuthentication_Authentication")
            .iter()
            .filter(|e| e["userName"] == "sam")
            .count(),
        1
    );

    // An unknown name: no PreAuthentication for a LEGACY client, and one
    // with userNotFound for a client that prevents existence errors.
    let (_, v) = login("nobody");
    assert_eq!(v["__type"], "UserNotFoundException");
    let unknown = |name: &str| {
        lambda
            .events_of("PreAuthentication_Authentication")
            .into_iter()
            .filter(|e| e["userName"] == name)
            .collect::<Vec<_>>()
    };
    assert!(unknown("nobody").is_empty());
    let mut flows = password_flows();
    flows["PreventUserExistenceErrors"] = json!("ENABLED");
    let enabled = srv.create_client(&pool, flows);
    let (_, v) = srv.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": enabled,
               "AuthParameters": {"USERNAME": "nobody", "PASSWORD": PASSWORD}}),
    );
    assert_eq!(v["__type"], "NotAuthorizedException");
    let events = unknown("nobody");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["request"]["userNotFound"], true);
    assert_eq!(events[0]["request"]["userAttributes"], json!({}));
    assert_eq!(events[0]["callerContext"]["clientId"], enabled.as_str());
}

/// CustomMessage_Authentication: the MFA and sign-in codes (EMAIL_OTP and
/// SMS_MFA second factors, the EMAIL_OTP first factor of USER_AUTH) go
/// through the CustomMessage trigger with the `{####}` code parameter; a
/// function that fails refuses the sign-in before any code is sent.
#[test]
fn custom_message_authentication_for_mfa_and_sign_in_codes() {
    let lambda = FakeLambda::start(|_, event| {
        let source = event["triggerSource"].as_str().unwrap_or_default();
        let code = event["request"]["codeParameter"]
            .as_str()
            .unwrap_or_default();
        match source {
            "CustomMessage_Authentication" if event["userName"] == "nora" => {
                Answer::Fail("Mail templates unavailable".into())
            }
            "CustomMessage_Authentication" => Answer::Respond(json!({
                "emailSubject": "Your sign-in code",
                "emailMessage": format!("Hello {}, sign in with {code}", event["userName"].as_str().unwrap()),
                "smsMessage": format!("SMS sign-in code {code}"),
            })),
            _ => Answer::Respond(json!({})),
        }
    });
    let srv = server_for(&lambda, 5000);
    let mut config = serde_json::Map::new();
    config.insert("CustomMessage".into(), json!(arn("messages")));
    let pool = srv.create_pool(
        "otp-messages",
        json!({"LambdaConfig": config,
               "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}}),
    );
    let client = srv.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_AUTH",
                                     "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    srv.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SmsMfaConfiguration": {"SmsAuthenticationMessage": "Default SMS {####}"},
               "EmailMfaConfiguration": {"Message": "Default email {####}", "Subject": "Default"}}),
    );
    for name in ["mia", "nora"] {
        srv.admin_user(
            &pool,
            name,
            json!([{"Name": "email", "Value": format!("{name}@example.com")},
                   {"Name": "email_verified", "Value": "true"},
                   {"Name": "phone_number", "Value": "+15555550123"},
                   {"Name": "phone_number_verified", "Value": "true"}]),
        );
        srv.ok(
            "AdminSetUserMFAPreference",
            json!({"UserPoolId": pool, "Username": name,
                   "EmailMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
        );
    }
    let login = |user: &str| {
        srv.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                   "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD},
                   "ClientMetadata": {"app": "web"}}),
        )
    };
    // EMAIL_OTP as MFA: subject and body from the function, the code in it.
    let (status, v) = login("mia");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ChallengeName"], "EMAIL_OTP");
    let msg = srv.messages_for(&pool, "mia").pop().unwrap();
    let code = msg["code"].as_str().unwrap().to_owned();
    assert_eq!(msg["subject"], "Your sign-in code");
    assert_eq!(msg["body"], format!("Hello mia, sign in with {code}"));
    let events = lambda.events_of("CustomMessage_Authentication");
    let event = events.last().unwrap();
    assert_eq!(event["userName"], "mia");
    assert_eq!(event["request"]["codeParameter"], "{####}");
    assert_eq!(event["request"]["usernameParameter"], Value::Null);
    assert_eq!(
        event["request"]["userAttributes"]["email"],
        "mia@example.com"
    );
    // Not InitiateAuth's ClientMetadata: the model leaves custom message out.
    assert!(event["request"]["clientMetadata"].is_null(), "{event}");
    assert_eq!(event["callerContext"]["clientId"], client);
    let (status, done) = srv.call(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "EMAIL_OTP", "Session": v["Session"],
               "ChallengeResponses": {"USERNAME": "mia", "EMAIL_OTP_CODE": code}}),
    );
    assert_eq!(status, 200, "{done}");
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());

    // SMS_MFA: the function's SMS text.
    srv.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "mia",
               "SMSMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );
    let (_, v) = login("mia");
    assert_eq!(v["ChallengeName"], "SMS_MFA", "{v}");
    let msg = srv.messages_for(&pool, "mia").pop().unwrap();
    assert_eq!(msg["medium"], "SMS");
    assert_eq!(
        msg["body"],
        format!("SMS sign-in code {}", msg["code"].as_str().unwrap())
    );

    // The EMAIL_OTP first factor of USER_AUTH goes through it too.
    let before = lambda.events_of("CustomMessage_Authentication").len();
    let (status, v) = srv.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "mia", "PREFERRED_CHALLENGE": "EMAIL_OTP"}}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ChallengeName"], "EMAIL_OTP", "{v}");
    assert_eq!(
        lambda.events_of("CustomMessage_Authentication").len(),
        before + 1
    );
    let msg = srv.messages_for(&pool, "mia").pop().unwrap();
    assert_eq!(msg["kind"], "sign_in_otp");
    assert_eq!(
        msg["body"],
        format!("Hello mia, sign in with {}", msg["code"].as_str().unwrap())
    );

    // A function that fails: the sign-in is refused, no code goes out.
    let sent = srv.messages_for(&pool, "nora").len();
    let (status, v) = login("nora");
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["__type"], "UserLambdaValidationException");
    assert_eq!(
        v["message"],
        "CustomMessage failed with error Mail templates unavailable."
    );
    assert_eq!(srv.messages_for(&pool, "nora").len(), sent);
}

#[test]
fn client_metadata_reaches_every_trigger_the_operation_invokes() {
    let lambda = FakeLambda::start(|_, _| Answer::Respond(json!({})));
    let srv = server_for(&lambda, 5000);
    let (pool, client) = pool_with(
        &srv,
        &[
            ("PostConfirmation", "post-confirmation"),
            ("PreAuthentication", "pre-authentication"),
            ("PostAuthentication", "post-authentication"),
            ("PreTokenGeneration", "pre-token"),
            ("CustomMessage", "custom-message"),
        ],
    );
    sign_up(&srv, &client, "erin", "erin@example.com");
    srv.ok(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "erin",
               "ClientMetadata": {"step": "resend"}}),
    );
    srv.ok(
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "erin",
               "ClientMetadata": {"step": "admin-confirm"}}),
    );
    srv.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "erin", "PASSWORD": PASSWORD},
               "ClientMetadata": {"step": "sign-in"}}),
    );
    let metadata = |source: &str| {
        let events = lambda.events_of(source);
        assert!(!events.is_empty(), "no {source} event");
        events
            .last()
            .map(|e| e["request"]["clientMetadata"].clone())
            .unwrap()
    };
    assert_eq!(
        metadata("PostConfirmation_ConfirmSignUp"),
        json!({"step": "admin-confirm"})
    );
    // InitiateAuth passes it to pre authentication only of these (the
    // model: pre sign-up, pre authentication, user migration), as the
    // event's validationData.
    let pre_auth = lambda.events_of("PreAuthentication_Authentication");
    let pre_auth = pre_auth.last().unwrap();
    assert_eq!(
        pre_auth["request"]["validationData"],
        json!({"step": "sign-in"})
    );
    assert!(
        pre_auth["request"].get("clientMetadata").is_none(),
        "{pre_auth}"
    );
    for source in [
        "PostAuthentication_Authentication",
        "TokenGeneration_Authentication",
    ] {
        assert!(metadata(source).is_null(), "{source}");
    }
    assert_eq!(
        metadata("CustomMessage_ResendCode"),
        json!({"step": "resend"})
    );
    // The message trigger of a public operation names its app client, and
    // so does that of an access token's operation (its token's client).
    let resend = lambda.events_of("CustomMessage_ResendCode");
    assert_eq!(
        resend.last().unwrap()["callerContext"]["clientId"],
        client.as_str()
    );
    let token = srv.login(&client, "erin", PASSWORD)["AccessToken"].clone();
    srv.ok(
        "UpdateUserAttributes",
        json!({"AccessToken": token,
               "UserAttributes": [{"Name": "email", "Value": "erin2@example.com"}]}),
    );
    srv.ok(
        "GetUserAttributeVerificationCode",
        json!({"AccessToken": token, "AttributeName": "email"}),
    );
    for source in [
        "CustomMessage_UpdateUserAttribute",
        "CustomMessage_VerifyUserAttribute",
    ] {
        let events = lambda.events_of(source);
        assert_eq!(
            events.last().unwrap()["callerContext"]["clientId"],
            client.as_str(),
            "{source}"
        );
    }
    // A call without ClientMetadata sends none: the member is left out.
    srv.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "erin", "PASSWORD": PASSWORD}}),
    );
    for source in [
        "TokenGeneration_Authentication",
        "PostAuthentication_Authentication",
        "PreAuthentication_Authentication",
    ] {
        let events = lambda.events_of(source);
        let request = &events.last().unwrap()["request"];
        assert!(
            request.get("clientMetadata").is_none(),
            "{source}: {request}"
        );
    }
    let confirmations = lambda.events_of("PostConfirmation_ConfirmSignUp");
    assert_eq!(
        confirmations[0]["callerContext"]["awsSdkVersion"],
        "aws-sdk-unknown-unknown"
    );
}

#[test]
fn post_authentication_runs_for_hosted_ui_sign_ins_and_may_refuse_them() {
    let lambda = FakeLambda::start(|_, event: &Value| {
        if event["userName"] == "alice" && event["request"]["userAttributes"]["name"] == "Mallory" {
            Answer::Fail("not today".into())
        } else {
            Answer::Respond(json!({}))
        }
    });
    let srv = Server::start_with_args(
        &["--lambda-endpoint".into(), lambda.url.clone()],
        Some(&hosted::config()),
    );
    srv.ok(
        "UpdateUserPool",
        json!({"UserPoolId": hosted::POOL, "AutoVerifiedAttributes": ["email"],
               "LambdaConfig": {"PostAuthentication": arn("post-authentication")}}),
    );
    let mut browser = hosted::Browser::new(&srv);
    let page = browser.sign_in(&[], "alice", "Passw0rd!");
    assert_eq!(page.status, 302, "{}", page.body);
    assert!(page.redirect_params().contains_key("code"), "{page:?}");
    let events = lambda.events_of("PostAuthentication_Authentication");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["callerContext"]["clientId"], hosted::WEB);
    assert_eq!(
        events[0]["request"]["userAttributes"]["email"],
        "alice@example.com"
    );

    // A refusal: the login page shows the trigger's error, no code, no session.
    srv.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": hosted::POOL, "Username": "alice",
               "UserAttributes": [{"Name": "name", "Value": "Mallory"}]}),
    );
    let mut browser = hosted::Browser::new(&srv);
    let page = browser.sign_in(&[], "alice", "Passw0rd!");
    assert_ne!(page.status, 302, "{page:?}");
    let error = page.error().unwrap_or_default();
    assert!(error.contains("not today"), "{error} / {}", page.body);
    assert_eq!(
        lambda.events_of("PostAuthentication_Authentication").len(),
        2
    );
}
