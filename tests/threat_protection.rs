//! Threat protection's compromised-credentials check against a real server
//! started with `--compromised-passwords`: which events are checked, what
//! BLOCK does (RESET_REQUIRED, PasswordResetRequiredException, refused new
//! passwords), what AUDIT and NO_ACTION record, and the answer under
//! concurrent sign-ins.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{password_flows, Server};
use serde_json::{json, Value};

/// Passwords that meet the default policy and are on the test's list.
const LEAKED: &str = "Summer2024!";
const LEAKED_TOO: &str = "Password1!";
/// A password that meets the policy and is not on the list.
const FRESH: &str = "Fresh-Unlisted-9z";

/// A server with the list, and the directory holding it.
fn server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let list = common::pwned_list(dir.path(), &[LEAKED, LEAKED_TOO], 2000);
    let s = Server::start_with_flags(&["--compromised-passwords", list.to_str().unwrap()]);
    (s, dir)
}

/// A pool in `mode` with a client, and `config` as the pool's
/// CompromisedCredentialsRiskConfiguration (if any).
fn new_pool(s: &Server, mode: &str, config: Option<Value>) -> (String, String) {
    let pool = s.create_pool(
        "threats",
        json!({"UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": mode},
               "AutoVerifiedAttributes": ["email"]}),
    );
    let client = s.create_client(&pool, password_flows());
    if let Some(config) = config {
        s.ok(
            "SetRiskConfiguration",
            json!({"UserPoolId": pool, "CompromisedCredentialsRiskConfiguration": config}),
        );
    }
    (pool, client)
}

fn block(events: &[&str]) -> Value {
    json!({"EventFilter": events, "Actions": {"EventAction": "BLOCK"}})
}

/// A CONFIRMED user whose password (set by an administrator, which is not
/// checked) is `password`.
fn user_with(s: &Server, pool: &str, name: &str, password: &str) {
    s.admin_user(
        pool,
        name,
        json!([{"Name": "email", "Value": format!("{name}@example.com")},
                                    {"Name": "email_verified", "Value": "true"}]),
    );
    s.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": name, "Password": password, "Permanent": true}),
    );
}

fn sign_in(client: &str, name: &str, password: &str) -> Value {
    json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
           "AuthParameters": {"USERNAME": name, "PASSWORD": password}})
}

fn status(s: &Server, pool: &str, name: &str) -> String {
    s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": name}),
    )["UserStatus"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn events(s: &Server, pool: &str, name: &str) -> Vec<Value> {
    s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": name}),
    )["AuthEvents"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn blocked_credentials_need_a_reset_and_a_password_off_the_list() {
    let (s, _dir) = server();
    let (pool, client) = new_pool(
        &s,
        "ENFORCED",
        Some(block(&["SIGN_IN", "SIGN_UP", "PASSWORD_CHANGE"])),
    );
    user_with(&s, &pool, "ann", LEAKED);

    // The proven password is on the list: the user must reset it.
    s.err_msg(
        "InitiateAuth",
        sign_in(&client, "ann", LEAKED),
        "PasswordResetRequiredException",
        "Password reset required for the user",
    );
    assert_eq!(status(&s, &pool, "ann"), "RESET_REQUIRED");
    // AdminInitiateAuth's password flow is checked the same way.
    s.err(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "ann", "PASSWORD": LEAKED}}),
        "PasswordResetRequiredException",
    );
    // A wrong password is just wrong: nothing about the list is told.
    s.err_msg(
        "InitiateAuth",
        sign_in(&client, "ann", "Wrong-Passw0rd!"),
        "NotAuthorizedException",
        "Incorrect username or password.",
    );

    // Newest first: the wrong password, the admin sign-in of a user
    // already RESET_REQUIRED (not checked again), the blocked sign-in.
    let events = events(&s, &pool, "ann");
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        events[1]["EventRisk"]["CompromisedCredentialsDetected"],
        false
    );
    let blocked = &events[2];
    assert_eq!(blocked["EventType"], "SignIn", "{blocked}");
    assert_eq!(blocked["EventResponse"], "Fail", "{blocked}");
    assert_eq!(
        blocked["EventRisk"],
        json!({"RiskDecision": "Block", "CompromisedCredentialsDetected": true})
    );
    assert_eq!(
        blocked["ChallengeResponses"],
        json!([{"ChallengeName": "Password", "ChallengeResponse": "Success"}])
    );

    // The reset: a password on the list is refused, the code stays usable.
    s.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "ann"}),
    );
    let code = s.last_code(&pool, "ann");
    let confirm = |password: &str| {
        json!({"ClientId": client, "Username": "ann", "ConfirmationCode": code,
               "Password": password})
    };
    s.err_msg(
        "ConfirmForgotPassword",
        confirm(LEAKED_TOO),
        "InvalidPasswordException",
        "Password did not conform with policy: Password was found in a list of compromised passwords",
    );
    assert_eq!(status(&s, &pool, "ann"), "RESET_REQUIRED");
    s.ok("ConfirmForgotPassword", confirm(FRESH));
    let tokens = s.login(&client, "ann", FRESH);

    // ChangePassword to a listed password is refused; the old one stays.
    s.err(
        "ChangePassword",
        json!({"AccessToken": tokens["AccessToken"], "PreviousPassword": FRESH,
               "ProposedPassword": LEAKED}),
        "InvalidPasswordException",
    );
    s.login(&client, "ann", FRESH);

    // SignUp with a listed password creates no user.
    s.err(
        "SignUp",
        json!({"ClientId": client, "Username": "bob", "Password": LEAKED_TOO,
               "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]}),
        "InvalidPasswordException",
    );
    s.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "bob"}),
        "UserNotFoundException",
    );
    s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "bob", "Password": FRESH,
               "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]}),
    );
}

#[test]
fn the_new_password_challenge_refuses_a_listed_password_and_can_be_answered_again() {
    let (s, _dir) = server();
    let (pool, client) = new_pool(&s, "ENFORCED", Some(block(&["PASSWORD_CHANGE"])));
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "cat", "MessageAction": "SUPPRESS",
               "TemporaryPassword": "Temp-Passw0rd!"}),
    );
    let challenge = s.ok("InitiateAuth", sign_in(&client, "cat", "Temp-Passw0rd!"));
    assert_eq!(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let answer = |password: &str| {
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": challenge["Session"],
               "ChallengeResponses": {"USERNAME": "cat", "NEW_PASSWORD": password}})
    };
    s.err(
        "RespondToAuthChallenge",
        answer(LEAKED),
        "InvalidPasswordException",
    );
    let done = s.ok("RespondToAuthChallenge", answer(FRESH));
    assert!(
        done["AuthenticationResult"]["AccessToken"].is_string(),
        "{done}"
    );
}

#[test]
fn audit_and_no_action_record_the_find_and_let_the_user_in() {
    let (s, _dir) = server();
    // AUDIT: even a BLOCK configuration only records.
    let (pool, client) = new_pool(&s, "AUDIT", Some(block(&["SIGN_IN"])));
    user_with(&s, &pool, "dan", LEAKED);
    s.login(&client, "dan", LEAKED);
    assert_eq!(status(&s, &pool, "dan"), "CONFIRMED");
    assert_eq!(
        events(&s, &pool, "dan")[0]["EventRisk"],
        json!({"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": true})
    );

    // ENFORCED with NO_ACTION: the same.
    let (pool, client) = new_pool(
        &s,
        "ENFORCED",
        Some(json!({"Actions": {"EventAction": "NO_ACTION"}})),
    );
    user_with(&s, &pool, "eve", LEAKED);
    s.login(&client, "eve", LEAKED);
    let event = &events(&s, &pool, "eve")[0];
    assert_eq!(event["EventResponse"], "Pass");
    assert_eq!(event["EventRisk"]["CompromisedCredentialsDetected"], true);

    // A password off the list is not marked.
    user_with(&s, &pool, "fay", FRESH);
    s.login(&client, "fay", FRESH);
    assert_eq!(
        events(&s, &pool, "fay")[0]["EventRisk"],
        json!({"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": false})
    );
}

#[test]
fn only_the_filtered_events_and_the_clients_own_settings_count() {
    let (s, _dir) = server();
    // The pool blocks sign-ups only: sign-ins are not even checked.
    let (pool, client) = new_pool(&s, "ENFORCED", Some(block(&["SIGN_UP"])));
    user_with(&s, &pool, "gus", LEAKED);
    s.login(&client, "gus", LEAKED);
    assert_eq!(
        events(&s, &pool, "gus")[0]["EventRisk"]["CompromisedCredentialsDetected"],
        false
    );

    // A client with settings of its own blocks sign-ins; the pool's other
    // clients keep the pool's settings.
    let strict = s.create_client(&pool, password_flows());
    s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "ClientId": strict,
               "CompromisedCredentialsRiskConfiguration": block(&["SIGN_IN"])}),
    );
    s.login(&client, "gus", LEAKED);
    s.err(
        "InitiateAuth",
        sign_in(&strict, "gus", LEAKED),
        "PasswordResetRequiredException",
    );

    // A pool without threat protection never looks.
    let (plain, plain_client) = {
        let pool = s.create_pool("plain", json!({}));
        let client = s.create_client(&pool, password_flows());
        (pool, client)
    };
    user_with(&s, &plain, "hal", LEAKED);
    s.login(&plain_client, "hal", LEAKED);
}

#[test]
fn concurrent_sign_ins_with_blocked_credentials_all_get_no_tokens() {
    let (s, _dir) = server();
    let (pool, client) = new_pool(&s, "ENFORCED", Some(block(&["SIGN_IN"])));
    user_with(&s, &pool, "ivy", LEAKED);
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|_| scope.spawn(|| s.call("InitiateAuth", sign_in(&client, "ivy", LEAKED))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (code, body) in &answers {
        assert_eq!(*code, 400, "{body}");
        assert_eq!(body["__type"], "PasswordResetRequiredException", "{body}");
    }
    assert_eq!(status(&s, &pool, "ivy"), "RESET_REQUIRED");
}

#[test]
fn a_list_that_is_not_sorted_digests_stops_the_server_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(&list, format!("{}:1\nnot-a-digest\n", "A".repeat(40))).unwrap();
    let stderr = common::refused_start(
        &["--compromised-passwords", list.to_str().unwrap()],
        &["COGNATE_DATABASE"],
    );
    assert!(
        stderr.contains(&format!("{}, line 2: not a SHA-1 digest", list.display())),
        "{stderr}"
    );
}

/// The TOTP code of `secret` at the 30-second step `offset` steps from now
/// (the server's clock is the system's).
fn totp(secret: &str, offset: i64) -> String {
    let step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 30;
    let key = cognate_crypto::totp::base32_decode(secret).unwrap();
    cognate_crypto::totp::code_at(&key, step + offset)
}

#[test]
fn a_find_at_the_password_step_is_recorded_when_mfa_ends_the_sign_in() {
    let (s, _dir) = server();
    let (pool, client) = new_pool(&s, "AUDIT", Some(block(&["SIGN_IN"])));
    s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    user_with(&s, &pool, "jon", LEAKED);
    let access = s.login(&client, "jon", LEAKED)["AccessToken"].clone();
    let secret = s.ok("AssociateSoftwareToken", json!({"AccessToken": access}))["SecretCode"]
        .as_str()
        .unwrap()
        .to_owned();
    s.ok(
        "VerifySoftwareToken",
        json!({"AccessToken": access, "UserCode": totp(&secret, 0)}),
    );
    s.ok(
        "SetUserMFAPreference",
        json!({"AccessToken": access,
               "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );

    let challenge = s.ok("InitiateAuth", sign_in(&client, "jon", LEAKED));
    assert_eq!(
        challenge["ChallengeName"], "SOFTWARE_TOKEN_MFA",
        "{challenge}"
    );
    let done = s.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA",
               "Session": challenge["Session"],
               "ChallengeResponses": {"USERNAME": "jon", "SOFTWARE_TOKEN_MFA_CODE": totp(&secret, 1)}}),
    );
    assert!(
        done["AuthenticationResult"]["AccessToken"].is_string(),
        "{done}"
    );
    let event = &events(&s, &pool, "jon")[0];
    assert_eq!(
        event["ChallengeResponses"],
        json!([{"ChallengeName": "Password", "ChallengeResponse": "Success"},
               {"ChallengeName": "Mfa", "ChallengeResponse": "Success"}])
    );
    assert_eq!(
        event["EventRisk"],
        json!({"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": true})
    );
}
