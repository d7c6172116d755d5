//! Code-based challenges over HTTP against the real server: SMS and email
//! MFA (SetUserPoolMfaConfig, preferences, SMS_MFA / EMAIL_OTP,
//! SELECT_MFA_TYPE, MFA_SETUP's factors), the legacy MFAOptions, and
//! USER_AUTH choice-based sign-in (SELECT_CHALLENGE, PASSWORD,
//! PASSWORD_SRP, EMAIL_OTP and SMS_OTP first factors); one session answered
//! by 24 concurrent requests; and, in process on the manual clock, the
//! expiry of a code with its session.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Server, PASSWORD};
use serde_json::{json, Value};

const PHONE: &str = "+15555550100";

fn flows() -> Value {
    json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                                 "ALLOW_USER_SRP_AUTH", "ALLOW_USER_AUTH",
                                 "ALLOW_REFRESH_TOKEN_AUTH"]})
}

/// A pool whose MFA configuration is `mfa` (SetUserPoolMfaConfig's body
/// without the pool id), an app client with every flow this file uses.
fn pool_with(s: &Server, pool_extra: Value, mfa: Value) -> (String, String) {
    let pool = s.create_pool("codes", pool_extra);
    if !mfa.is_null() {
        let mut body = mfa;
        body["UserPoolId"] = json!(pool);
        s.ok("SetUserPoolMfaConfig", body);
    }
    let client = s.create_client(&pool, flows());
    (pool, client)
}

fn sms_and_email() -> Value {
    json!({"MfaConfiguration": "OPTIONAL",
           "SmsMfaConfiguration": {"SmsAuthenticationMessage": "SMS code {####} here"},
           "EmailMfaConfiguration": {"Message": "Email code {####} here", "Subject": "Sign-in code"},
           "SoftwareTokenMfaConfiguration": {"Enabled": true}})
}

fn user_with_contacts(s: &Server, pool: &str, name: &str) {
    s.admin_user(
        pool,
        name,
        json!([{"Name": "email", "Value": format!("{name}@example.com")},
               {"Name": "email_verified", "Value": "true"},
               {"Name": "phone_number", "Value": PHONE},
               {"Name": "phone_number_verified", "Value": "true"}]),
    );
}

fn password_start(s: &Server, client: &str, user: &str) -> Value {
    s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD}}),
    )
}

fn respond(
    s: &Server,
    client: &str,
    name: &str,
    session: &Value,
    responses: Value,
) -> (u16, Value) {
    s.call(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": name, "Session": session,
               "ChallengeResponses": responses}),
    )
}

/// The latest outbox message of a user.
fn last_message(s: &Server, pool: &str, user: &str) -> Value {
    s.messages_for(pool, user)
        .last()
        .cloned()
        .expect("a message")
}

/// The code of a user's latest outbox message.
fn last_code(s: &Server, pool: &str, user: &str) -> String {
    last_message(s, pool, user)["code"]
        .as_str()
        .expect("a code")
        .to_owned()
}

fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[test]
fn pool_mfa_config_takes_sms_and_email() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let v = s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SmsMfaConfiguration": {"SmsAuthenticationMessage": "Code {####}",
                                       "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::000000000000:role/sns", "ExternalId": "x"}},
               "EmailMfaConfiguration": {"Message": "Your code is {####}", "Subject": "Code"}}),
    );
    assert_eq!(
        v["SmsMfaConfiguration"]["SmsAuthenticationMessage"],
        "Code {####}"
    );
    assert_eq!(
        v["SmsMfaConfiguration"]["SmsConfiguration"]["ExternalId"],
        "x"
    );
    assert_eq!(v["EmailMfaConfiguration"]["Subject"], "Code");
    // Not named in the call: not shown (as AWS does); the SNS region is the pool's.
    assert!(v.get("SoftwareTokenMfaConfiguration").is_none(), "{v}");
    assert_eq!(
        v["SmsMfaConfiguration"]["SmsConfiguration"]["SnsRegion"],
        "us-east-1"
    );
    let got = s.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert_eq!(got, v);
    // UpdateUserPool does not touch the factors.
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL"}),
    );
    let got = s.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert_eq!(
        got["EmailMfaConfiguration"]["Message"],
        "Your code is {####}"
    );
    // Leaving a factor out turns it off.
    let v = s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    assert!(v.get("SmsMfaConfiguration").is_none(), "{v}");
    assert!(v.get("EmailMfaConfiguration").is_none(), "{v}");
    // A template without the code placeholder is refused.
    s.err(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON",
               "SmsMfaConfiguration": {"SmsAuthenticationMessage": "no code here"}}),
        "InvalidParameterException",
    );
    // Email MFA needs the ESSENTIALS or PLUS tier.
    let lite = s.create_pool("lite", json!({"UserPoolTier": "LITE"}));
    s.err(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": lite, "MfaConfiguration": "OPTIONAL",
               "EmailMfaConfiguration": {"Message": "Code {####}"}}),
        "FeatureUnavailableInTierException",
    );
}

#[test]
fn sms_mfa_sign_in() {
    let s = Server::start();
    let (pool, client) = pool_with(&s, json!({}), sms_and_email());
    user_with_contacts(&s, &pool, "sam");
    // Without a factor enabled, OPTIONAL MFA asks nothing.
    assert!(password_start(&s, &client, "sam")["AuthenticationResult"].is_object());
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "sam",
               "SMSMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "sam"}),
    );
    assert_eq!(user["UserMFASettingList"], json!(["SMS_MFA"]));
    assert_eq!(user["PreferredMfaSetting"], "SMS_MFA");

    let start = password_start(&s, &client, "sam");
    assert_eq!(start["ChallengeName"], "SMS_MFA", "{start}");
    assert_eq!(
        start["ChallengeParameters"],
        json!({"CODE_DELIVERY_DELIVERY_MEDIUM": "SMS", "CODE_DELIVERY_DESTINATION": "+*******0100"})
    );
    let msg = last_message(&s, &pool, "sam");
    assert_eq!(msg["medium"], "SMS");
    assert_eq!(msg["destination"], PHONE);
    let code = msg["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(msg["body"], format!("SMS code {code} here"));

    let (status, body) = respond(
        &s,
        &client,
        "SMS_MFA",
        &start["Session"],
        json!({"USERNAME": "sam", "SMS_MFA_CODE": wrong(&code)}),
    );
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("CodeMismatchException")),
        "{body}"
    );
    assert_eq!(body["message"], "Invalid code or auth state for the user.");
    // The same session takes the right code after a wrong one.
    let (status, body) = respond(
        &s,
        &client,
        "SMS_MFA",
        &start["Session"],
        json!({"USERNAME": "sam", "SMS_MFA_CODE": code}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["AuthenticationResult"]["AccessToken"].is_string());
    // Used once.
    let (status, body) = respond(
        &s,
        &client,
        "SMS_MFA",
        &start["Session"],
        json!({"USERNAME": "sam", "SMS_MFA_CODE": code}),
    );
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "NotAuthorizedException");
    assert_eq!(
        body["message"],
        "Invalid session for the user, session can only be used once."
    );
    // A code is not answered under another challenge's name either.
    let start = password_start(&s, &client, "sam");
    let (_, body) = respond(
        &s,
        &client,
        "EMAIL_OTP",
        &start["Session"],
        json!({"USERNAME": "sam", "EMAIL_OTP_CODE": "000000"}),
    );
    assert_eq!(body["__type"], "InvalidParameterException", "{body}");
    // AdminInitiateAuth reaches the same step.
    let v = s.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "sam", "PASSWORD": PASSWORD}}),
    );
    assert_eq!(v["ChallengeName"], "SMS_MFA");
    let code = last_code(&s, &pool, "sam");
    let v = s.ok(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "SMS_MFA",
               "Session": v["Session"],
               "ChallengeResponses": {"USERNAME": "sam", "SMS_MFA_CODE": code}}),
    );
    assert!(v["AuthenticationResult"]["IdToken"].is_string());
}

#[test]
fn email_mfa_wrong_codes_end_the_session() {
    let s = Server::start();
    let (pool, client) = pool_with(&s, json!({}), sms_and_email());
    user_with_contacts(&s, &pool, "eve");
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "eve", "EmailMfaSettings": {"Enabled": true}}),
    );
    let start = password_start(&s, &client, "eve");
    assert_eq!(start["ChallengeName"], "EMAIL_OTP", "{start}");
    assert_eq!(
        start["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"],
        "EMAIL"
    );
    assert_eq!(
        start["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"],
        "e***@e***"
    );
    let msg = last_message(&s, &pool, "eve");
    assert_eq!(msg["medium"], "EMAIL");
    assert_eq!(msg["subject"], "Sign-in code");
    let code = msg["code"].as_str().unwrap().to_owned();
    assert_eq!(msg["body"], format!("Email code {code} here"));
    // A missing code leaves the session as it was.
    let (_, body) = respond(
        &s,
        &client,
        "EMAIL_OTP",
        &start["Session"],
        json!({"USERNAME": "eve"}),
    );
    assert_eq!(body["message"], "Missing required parameter EMAIL_OTP_CODE");
    for _ in 0..3 {
        let (_, body) = respond(
            &s,
            &client,
            "EMAIL_OTP",
            &start["Session"],
            json!({"USERNAME": "eve", "EMAIL_OTP_CODE": wrong(&code)}),
        );
        assert_eq!(body["__type"], "CodeMismatchException", "{body}");
    }
    // Three wrong codes: the right one comes too late.
    let (_, body) = respond(
        &s,
        &client,
        "EMAIL_OTP",
        &start["Session"],
        json!({"USERNAME": "eve", "EMAIL_OTP_CODE": code}),
    );
    assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
    // Turning email off ends the challenge.
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "eve", "EmailMfaSettings": {"Enabled": false}}),
    );
    assert!(password_start(&s, &client, "eve")["AuthenticationResult"].is_object());
}

#[test]
fn several_factors_select_mfa_type() {
    let s = Server::start();
    let (pool, client) = pool_with(&s, json!({}), sms_and_email());
    user_with_contacts(&s, &pool, "sel");
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "sel",
               "SMSMfaSettings": {"Enabled": true}, "EmailMfaSettings": {"Enabled": true}}),
    );
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "sel"}),
    );
    assert_eq!(user["UserMFASettingList"], json!(["SMS_MFA", "EMAIL_OTP"]));
    assert!(user.get("PreferredMfaSetting").is_none(), "{user}");
    let start = password_start(&s, &client, "sel");
    assert_eq!(start["ChallengeName"], "SELECT_MFA_TYPE", "{start}");
    assert_eq!(
        start["ChallengeParameters"]["MFAS_CAN_CHOOSE"],
        "[\"SMS_MFA\",\"EMAIL_OTP\"]"
    );
    let (_, body) = respond(
        &s,
        &client,
        "SELECT_MFA_TYPE",
        &start["Session"],
        json!({"USERNAME": "sel", "ANSWER": "SOFTWARE_TOKEN_MFA"}),
    );
    assert_eq!(body["__type"], "InvalidParameterException", "{body}");
    let (status, next) = respond(
        &s,
        &client,
        "SELECT_MFA_TYPE",
        &start["Session"],
        json!({"USERNAME": "sel", "ANSWER": "EMAIL_OTP"}),
    );
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["ChallengeName"], "EMAIL_OTP");
    let code = last_code(&s, &pool, "sel");
    let (status, done) = respond(
        &s,
        &client,
        "EMAIL_OTP",
        &next["Session"],
        json!({"USERNAME": "sel", "EMAIL_OTP_CODE": code}),
    );
    assert_eq!(status, 200, "{done}");
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());
    // A preference picks the factor without asking.
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "sel",
               "SMSMfaSettings": {"PreferredMfa": true}}),
    );
    assert_eq!(
        password_start(&s, &client, "sel")["ChallengeName"],
        "SMS_MFA"
    );
    // Only one factor may be preferred.
    s.err(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "sel",
               "SMSMfaSettings": {"PreferredMfa": true},
               "EmailMfaSettings": {"PreferredMfa": true}}),
        "InvalidParameterException",
    );
}

#[test]
fn legacy_mfa_options_and_required_mfa() {
    let s = Server::start();
    let (pool, client) = pool_with(&s, json!({}), sms_and_email());
    user_with_contacts(&s, &pool, "leg");
    s.ok(
        "AdminSetUserSettings",
        json!({"UserPoolId": pool, "Username": "leg",
               "MFAOptions": [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]}),
    );
    let user = s.ok(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "leg"}),
    );
    assert_eq!(user["UserMFASettingList"], json!(["SMS_MFA"]));
    assert_eq!(
        password_start(&s, &client, "leg")["ChallengeName"],
        "SMS_MFA"
    );

    // MFA required: a user with a phone number gets SMS_MFA; a user with
    // nothing to receive codes on sets up a factor the pool offers.
    let (pool, client) = pool_with(
        &s,
        json!({}),
        json!({"MfaConfiguration": "ON",
               "SmsMfaConfiguration": {"SmsAuthenticationMessage": "Code {####}"},
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    user_with_contacts(&s, &pool, "req");
    assert_eq!(
        password_start(&s, &client, "req")["ChallengeName"],
        "SMS_MFA"
    );
    s.admin_user(&pool, "bare", json!([]));
    let start = password_start(&s, &client, "bare");
    assert_eq!(start["ChallengeName"], "MFA_SETUP", "{start}");
    assert_eq!(
        start["ChallengeParameters"]["MFAS_CAN_SETUP"],
        "[\"SMS_MFA\",\"SOFTWARE_TOKEN_MFA\"]"
    );
}

#[test]
fn concurrent_answers_give_tokens_once() {
    let s = Server::start();
    let (pool, client) = pool_with(&s, json!({}), sms_and_email());
    user_with_contacts(&s, &pool, "race");
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "race", "SMSMfaSettings": {"Enabled": true}}),
    );
    let start = password_start(&s, &client, "race");
    assert_eq!(start["ChallengeName"], "SMS_MFA");
    let code = last_code(&s, &pool, "race");
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|_| {
                scope.spawn(|| {
                    respond(
                        &s,
                        &client,
                        "SMS_MFA",
                        &start["Session"],
                        json!({"USERNAME": "race", "SMS_MFA_CODE": code}),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners = answers
        .iter()
        .filter(|(status, body)| *status == 200 && body["AuthenticationResult"].is_object())
        .count();
    assert_eq!(winners, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 400, "{body}");
        assert!(
            matches!(
                body["__type"].as_str(),
                Some("NotAuthorizedException" | "TooManyRequestsException")
            ),
            "{body}"
        );
    }
}

/// A pool allowing USER_AUTH with PASSWORD, EMAIL_OTP and SMS_OTP, and a
/// user with a verified email address and phone number.
fn user_auth_pool(s: &Server, mfa: Value) -> (String, String) {
    let (pool, client) = pool_with(
        s,
        json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]}}}),
        mfa,
    );
    user_with_contacts(s, &pool, "pat");
    (pool, client)
}

fn user_auth(s: &Server, client: &str, params: Value) -> (u16, Value) {
    s.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_AUTH", "ClientId": client, "AuthParameters": params}),
    )
}

#[test]
fn user_auth_select_challenge_and_email_otp() {
    let s = Server::start();
    let (pool, client) = user_auth_pool(&s, Value::Null);
    let (status, v) = user_auth(&s, &client, json!({"USERNAME": "pat"}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ChallengeName"], "SELECT_CHALLENGE");
    assert_eq!(
        v["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP"])
    );
    assert_eq!(v["ChallengeParameters"], json!({}));
    let (status, next) = respond(
        &s,
        &client,
        "SELECT_CHALLENGE",
        &v["Session"],
        json!({"USERNAME": "pat", "ANSWER": "EMAIL_OTP"}),
    );
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["ChallengeName"], "EMAIL_OTP");
    let msg = last_message(&s, &pool, "pat");
    assert_eq!(msg["kind"], "sign_in_otp");
    let code = msg["code"].as_str().unwrap().to_owned();
    let (status, done) = respond(
        &s,
        &client,
        "EMAIL_OTP",
        &next["Session"],
        json!({"USERNAME": "pat", "EMAIL_OTP_CODE": code}),
    );
    assert_eq!(status, 200, "{done}");
    let token = done["AuthenticationResult"]["AccessToken"].clone();
    assert!(token.is_string());

    let factors = s.ok("GetUserAuthFactors", json!({"AccessToken": token}));
    assert_eq!(
        factors["ConfiguredUserAuthFactors"],
        json!(["PASSWORD", "EMAIL_OTP", "SMS_OTP"])
    );

    // A preferred challenge goes straight to it.
    let (_, v) = user_auth(
        &s,
        &client,
        json!({"USERNAME": "pat", "PREFERRED_CHALLENGE": "SMS_OTP"}),
    );
    assert_eq!(v["ChallengeName"], "SMS_OTP", "{v}");
    assert_eq!(
        v["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"],
        "SMS"
    );
    let code = last_code(&s, &pool, "pat");
    let (status, done) = respond(
        &s,
        &client,
        "SMS_OTP",
        &v["Session"],
        json!({"USERNAME": "pat", "SMS_OTP_CODE": code}),
    );
    assert_eq!(status, 200, "{done}");
    let (_, v) = user_auth(
        &s,
        &client,
        json!({"USERNAME": "pat", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": PASSWORD}),
    );
    assert!(v["AuthenticationResult"]["AccessToken"].is_string(), "{v}");
    let (_, v) = user_auth(
        &s,
        &client,
        json!({"USERNAME": "pat", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": "Wrong0ne!"}),
    );
    assert_eq!(v["__type"], "NotAuthorizedException", "{v}");
    // An unknown answer leaves the session usable.
    let (_, v) = user_auth(&s, &client, json!({"USERNAME": "pat"}));
    let (_, body) = respond(
        &s,
        &client,
        "SELECT_CHALLENGE",
        &v["Session"],
        json!({"USERNAME": "pat", "ANSWER": "WEB_AUTHN"}),
    );
    assert_eq!(body["__type"], "InvalidParameterException", "{body}");
    let (status, done) = respond(
        &s,
        &client,
        "SELECT_CHALLENGE",
        &v["Session"],
        json!({"USERNAME": "pat", "ANSWER": "PASSWORD", "PASSWORD": PASSWORD}),
    );
    assert_eq!(status, 200, "{done}");
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());
    // AdminInitiateAuth takes USER_AUTH too.
    let v = s.ok(
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "USER_AUTH",
               "AuthParameters": {"USERNAME": "pat"}}),
    );
    assert_eq!(v["ChallengeName"], "SELECT_CHALLENGE");
    // Unknown users and clients without ALLOW_USER_AUTH.
    let (_, v) = user_auth(&s, &client, json!({"USERNAME": "nobody"}));
    assert_eq!(v["__type"], "UserNotFoundException", "{v}");
    let plain = s.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    let (_, v) = user_auth(&s, &plain, json!({"USERNAME": "pat"}));
    assert_eq!(v["__type"], "InvalidParameterException");
    assert_eq!(v["message"], "USER_AUTH flow not enabled for this client");
}

#[test]
fn user_auth_password_srp_and_mfa_rules() {
    let s = Server::start();
    let (pool, client) = user_auth_pool(
        &s,
        json!({"MfaConfiguration": "OPTIONAL",
               "EmailMfaConfiguration": {"Message": "Code {####}", "Subject": "Code"}}),
    );
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "pat", "EmailMfaSettings": {"Enabled": true}}),
    );
    // A password first factor is followed by MFA...
    let (_, v) = user_auth(
        &s,
        &client,
        json!({"USERNAME": "pat", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": PASSWORD}),
    );
    assert_eq!(v["ChallengeName"], "EMAIL_OTP", "{v}");
    // ... a one-time code first factor is not.
    let (_, v) = user_auth(
        &s,
        &client,
        json!({"USERNAME": "pat", "PREFERRED_CHALLENGE": "EMAIL_OTP"}),
    );
    assert_eq!(v["ChallengeName"], "EMAIL_OTP", "{v}");
    let code = last_code(&s, &pool, "pat");
    let (status, done) = respond(
        &s,
        &client,
        "EMAIL_OTP",
        &v["Session"],
        json!({"USERNAME": "pat", "EMAIL_OTP_CODE": code}),
    );
    assert_eq!(status, 200, "{done}");
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());

    // SELECT_CHALLENGE → PASSWORD_SRP → PASSWORD_VERIFIER → MFA.
    let (_, v) = user_auth(&s, &client, json!({"USERNAME": "pat"}));
    let a = cognate_crypto::random::bytes(32);
    let (status, verifier) = respond(
        &s,
        &client,
        "SELECT_CHALLENGE",
        &v["Session"],
        json!({"USERNAME": "pat", "ANSWER": "PASSWORD_SRP",
               "SRP_A": cognate_crypto::srp::client_public(&a)}),
    );
    assert_eq!(status, 200, "{verifier}");
    assert_eq!(verifier["ChallengeName"], "PASSWORD_VERIFIER");
    let p = &verifier["ChallengeParameters"];
    let timestamp = srp_timestamp();
    let signature = cognate_crypto::srp::client_claim(
        pool.split('_').nth(1).unwrap(),
        p["USER_ID_FOR_SRP"].as_str().unwrap(),
        PASSWORD,
        p["SALT"].as_str().unwrap(),
        &a,
        p["SRP_B"].as_str().unwrap(),
        p["SECRET_BLOCK"].as_str().unwrap(),
        &timestamp,
    )
    .unwrap();
    let (status, mfa) = respond(
        &s,
        &client,
        "PASSWORD_VERIFIER",
        &verifier["Session"],
        json!({"USERNAME": "pat", "TIMESTAMP": timestamp,
               "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
               "PASSWORD_CLAIM_SIGNATURE": signature}),
    );
    assert_eq!(status, 200, "{mfa}");
    assert_eq!(mfa["ChallengeName"], "EMAIL_OTP", "{mfa}");

    // With MFA required, one-time codes are not offered as first factors.
    s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON",
               "EmailMfaConfiguration": {"Message": "Code {####}"}}),
    );
    let (_, v) = user_auth(&s, &client, json!({"USERNAME": "pat"}));
    assert_eq!(
        v["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP"]),
        "{v}"
    );
    // An unavailable preference falls back to the choice.
    let (_, v) = user_auth(
        &s,
        &client,
        json!({"USERNAME": "pat", "PREFERRED_CHALLENGE": "EMAIL_OTP"}),
    );
    assert_eq!(v["ChallengeName"], "SELECT_CHALLENGE", "{v}");
}

fn srp_timestamp() -> String {
    let out = std::process::Command::new("date")
        .arg("-u")
        .arg("+%a %b %-d %H:%M:%S UTC %Y")
        .output()
        .expect("date");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// In process, on the manual clock: a code lives as long as its session
/// (the client's AuthSessionValidity, 3 minutes by default).
mod expiry {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use cognate_core::clock::{Clock, ManualClock};
    use cognate_core::delivery::{MessageSink, OutgoingMessage};
    use cognate_core::model::{Attribute, ClientSettings, PoolSettings};
    use cognate_core::service::pools::NewPool;
    use cognate_core::service::{
        AuthFlowInput, AuthOutcome, ChallengeInput, MfaPreferences, NewClient, SmsMfaConfig,
    };
    use cognate_core::{ServiceConfig, UserPools};
    use cognate_crypto::{PasswordHasher, PasswordParams};

    #[derive(Default)]
    struct Captured(Mutex<Vec<OutgoingMessage>>);

    struct Sink(Arc<Captured>);

    #[async_trait]
    impl MessageSink for Sink {
        async fn deliver(&self, message: &OutgoingMessage) -> Result<(), String> {
            self.0 .0.lock().unwrap().push(message.clone());
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_code_expires_with_its_session() {
        let dir = tempfile::tempdir().unwrap();
        let db = super::common::TestDatabase::for_engine();
        let store = super::common::open_store(dir.path(), db.as_ref()).await;
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let sink = Arc::new(Captured::default());
        let svc = UserPools::new(
            store,
            clock.clone() as Arc<dyn Clock>,
            PasswordHasher::new(PasswordParams {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            })
            .unwrap(),
            Arc::new(Sink(sink.clone())),
            ServiceConfig {
                public_url: "http://cognate.test".into(),
                region: "us-east-1".into(),
                account_id: "000000000000".into(),
            },
        );
        let pool = svc
            .create_user_pool(NewPool {
                id: None,
                name: "expiry".into(),
                alias_attributes: vec![],
                username_attributes: vec![],
                username_case_sensitive: None,
                schema: vec![],
                settings: PoolSettings::default(),
            })
            .await
            .unwrap();
        svc.set_user_pool_mfa_config(
            &pool.id,
            Some("OPTIONAL".into()),
            None,
            Some(SmsMfaConfig::default()),
            None,
            Default::default(),
        )
        .await
        .unwrap();
        let mut settings = ClientSettings::named("app");
        settings.explicit_auth_flows = Some(vec!["ALLOW_ADMIN_USER_PASSWORD_AUTH".into()]);
        let client = svc
            .create_user_pool_client(NewClient {
                pool_id: pool.id.clone(),
                client_id: None,
                generate_secret: false,
                client_secret: None,
                settings,
            })
            .await
            .unwrap();
        svc.seed_user(
            &pool.id,
            "tim",
            Some("Passw0rd!x"),
            true,
            vec![Attribute::new("phone_number", "+15555550100")],
        )
        .await
        .unwrap();
        let mut prefs = MfaPreferences::default();
        prefs.sms.enabled = Some(true);
        svc.admin_set_user_mfa_preference(&pool.id, "tim", prefs)
            .await
            .unwrap();

        let start = || async {
            let mut parameters = BTreeMap::new();
            parameters.insert("USERNAME".to_owned(), "tim".to_owned());
            parameters.insert("PASSWORD".to_owned(), "Passw0rd!x".to_owned());
            match svc
                .initiate_auth(AuthFlowInput {
                    admin_pool_id: Some(pool.id.clone()),
                    client_id: client.client_id.clone(),
                    flow: "ADMIN_USER_PASSWORD_AUTH".into(),
                    parameters,
                    client_metadata: Default::default(),
                })
                .await
                .unwrap()
            {
                AuthOutcome::Challenge { name, session, .. } => {
                    assert_eq!(name, "SMS_MFA");
                    session
                }
                other => panic!("no challenge: {other:?}"),
            }
        };
        let answer = |session: String| {
            let code = sink.0.lock().unwrap().last().unwrap().code.clone();
            let mut responses = BTreeMap::new();
            responses.insert("USERNAME".to_owned(), "tim".to_owned());
            responses.insert("SMS_MFA_CODE".to_owned(), code);
            svc.respond_to_auth_challenge(ChallengeInput {
                admin_pool_id: Some(pool.id.clone()),
                client_id: client.client_id.clone(),
                challenge_name: "SMS_MFA".into(),
                session: Some(session),
                responses,
                client_metadata: Default::default(),
            })
        };
        // One millisecond before three minutes: accepted.
        let session = start().await;
        clock.advance_millis(3 * 60_000 - 1);
        assert!(matches!(
            answer(session).await.unwrap(),
            AuthOutcome::Authenticated(_)
        ));
        // At three minutes: the session, and its code, are gone.
        let session = start().await;
        clock.advance_millis(3 * 60_000);
        let e = answer(session).await.unwrap_err();
        assert_eq!(e.kind, cognate_core::error::ErrorKind::NotAuthorized);
        assert_eq!(
            e.message,
            "Invalid session for the user, session is expired."
        );
        // The message is the pool's default SMS template.
        let last = sink.0.lock().unwrap().last().unwrap().clone();
        assert_eq!(last.medium, "SMS");
        assert_eq!(last.kind, "mfa");
        assert_eq!(
            last.body,
            format!("Your authentication code is {}. ", last.code)
        );
    }
}

/// As the model documents AccountRecoverySetting: a channel that is also
/// the user's MFA factor does not qualify for a reset code: the phone
/// while SMS MFA is on, the email address while email MFA is.
#[test]
fn an_mfa_factor_is_no_recovery_channel() {
    let s = Server::start();
    let (pool, client) = pool_with(
        &s,
        json!({"AccountRecoverySetting": {"RecoveryMechanisms": [
            {"Name": "verified_phone_number", "Priority": 1},
            {"Name": "verified_email", "Priority": 2}]}}),
        sms_and_email(),
    );
    user_with_contacts(&s, &pool, "hal");
    let forgot = |s: &Server| {
        s.ok(
            "ForgotPassword",
            json!({"ClientId": client, "Username": "hal"}),
        )["CodeDeliveryDetails"]["DeliveryMedium"]
            .clone()
    };
    assert_eq!(forgot(&s), "SMS");
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "hal", "SMSMfaSettings": {"Enabled": true}}),
    );
    assert_eq!(forgot(&s), "EMAIL");
    s.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "hal", "EmailMfaSettings": {"Enabled": true}}),
    );
    // Neither channel qualifies now.
    let (_, body) = s.call(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "hal"}),
    );
    assert_eq!(body["__type"], "InvalidParameterException", "{body}");
}

#[test]
fn admin_created_users_without_a_password_sign_in_with_codes() {
    let s = Server::start();
    let (pool, client) = pool_with(
        &s,
        json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}}),
        Value::Null,
    );
    // Omitted or blank, no password is made: the user is CONFIRMED at once.
    for (name, extra) in [
        ("nopass", json!({})),
        ("blank", json!({"TemporaryPassword": ""})),
    ] {
        let mut body = json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS",
                              "UserAttributes": [{"Name": "email", "Value": format!("{name}@example.com")},
                                                 {"Name": "email_verified", "Value": "true"}]});
        if let Some(p) = extra.get("TemporaryPassword") {
            body["TemporaryPassword"] = p.clone();
        }
        let v = s.ok("AdminCreateUser", body);
        assert_eq!(v["User"]["UserStatus"], "CONFIRMED", "{name}: {v}");
    }
    // It signs in with an email code, and no password signs it in.
    let (status, v) = user_auth(
        &s,
        &client,
        json!({"USERNAME": "nopass", "PREFERRED_CHALLENGE": "EMAIL_OTP"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ChallengeName"], "EMAIL_OTP");
    let code = last_code(&s, &pool, "nopass");
    let (status, done) = respond(
        &s,
        &client,
        "EMAIL_OTP",
        &v["Session"],
        json!({"USERNAME": "nopass", "EMAIL_OTP_CODE": code}),
    );
    assert_eq!(status, 200, "{done}");
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());
    let (status, v) = s.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "nopass", "PASSWORD": ""}}),
    );
    assert_eq!(status, 400, "{v}");
    // Without an email address or phone number there is no way in: refused.
    let (status, v) = s.call(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "nowhere", "MessageAction": "SUPPRESS"}),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["__type"], "InvalidParameterException");
    // A pool of passwords only makes a temporary password, blank or omitted.
    let (pool, _) = pool_with(&s, json!({}), Value::Null);
    let v = s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "pw", "TemporaryPassword": "", "MessageAction": "SUPPRESS"}),
    );
    assert_eq!(v["User"]["UserStatus"], "FORCE_CHANGE_PASSWORD");
}

#[test]
fn user_auth_as_aws_answers_it_for_new_unknown_and_passwordless_users() {
    let s = Server::start();
    let pool = s.create_pool(
        "ua",
        json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}}),
    );
    let client = s.create_client(&pool, flows());
    let hidden = s.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
               "PreventUserExistenceErrors": "ENABLED"}),
    );
    // A user with a temporary password is offered the password challenges
    // only, SRP first (a user's capture of AWS), whatever it prefers.
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "newbie", "TemporaryPassword": PASSWORD,
               "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "newbie@example.com"},
                                  {"Name": "email_verified", "Value": "true"}]}),
    );
    let (status, v) = user_auth(
        &s,
        &client,
        json!({"USERNAME": "newbie", "PREFERRED_CHALLENGE": "EMAIL_OTP"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ChallengeName"], "SELECT_CHALLENGE");
    assert_eq!(
        v["AvailableChallenges"],
        json!(["PASSWORD_SRP", "PASSWORD"])
    );
    // A passwordless sign-in code has eight digits.
    user_with_contacts(&s, &pool, "pat");
    let (status, v) = user_auth(
        &s,
        &client,
        json!({"USERNAME": "pat", "PREFERRED_CHALLENGE": "EMAIL_OTP"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ChallengeName"], "EMAIL_OTP");
    let code = last_code(&s, &pool, "pat");
    assert!(
        code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    // An unknown user preferring a code gets a simulated code challenge.
    let (status, v) = user_auth(
        &s,
        &hidden,
        json!({"USERNAME": "ghost@example.com", "PREFERRED_CHALLENGE": "EMAIL_OTP"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ChallengeName"], "EMAIL_OTP", "{v}");
    assert_eq!(
        v["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"],
        "EMAIL"
    );
}
