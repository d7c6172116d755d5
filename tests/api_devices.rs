//! Remembered devices (issue 13): device authentication at sign-in,
//! DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER, over the wire of the real
//! binary (SQLite, or PostgreSQL with `COGNATE_TEST_ENGINE=postgres`), the
//! test acting as the client with `cognate_crypto::srp`'s client side (as
//! amazon-cognito-identity-js computes it: the device group key for the
//! pool name, the device key for the user id). A remembered device takes
//! the place of the MFA step (SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP,
//! SELECT_MFA_TYPE); a device that is only confirmed is
//! proven after the code; an unknown, forgotten or another user's device
//! answers ResourceNotFoundException after the password, and the same
//! PASSWORD_VERIFIER answered again without it goes on to MFA. The
//! session rules that depend on time run in process on the manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use base64::Engine;
use cognate_core::clock::Clock;
use cognate_core::error::ErrorKind;
use cognate_core::model::PoolSettings;
use cognate_core::service::{AuthFlowInput, AuthOutcome, ChallengeInput};
use common::{Server, PASSWORD};
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The TOTP step of now (30-second steps since the epoch): the server's
/// clock is the system's.
fn step_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 30
}

fn totp(secret: &str, step: i64) -> String {
    let key = cognate_crypto::totp::base32_decode(secret).unwrap();
    cognate_crypto::totp::code_at(&key, step)
}

/// TIMESTAMP as Cognito's SRP clients send it (`Tue Sep 3 09:05:07 UTC 2024`)
/// for `secs` since the epoch, or now.
fn srp_timestamp(secs: Option<i64>) -> String {
    let mut cmd = std::process::Command::new("date");
    cmd.arg("-u");
    if let Some(secs) = secs {
        cmd.arg("-d").arg(format!("@{secs}"));
    }
    let out = cmd
        .arg("+%a %b %-d %H:%M:%S UTC %Y")
        .output()
        .expect("date");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    let hex = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// What a client keeps of a device it confirmed.
#[derive(Clone, Debug)]
struct DeviceSecret {
    key: String,
    group: String,
    password: String,
}

/// The DeviceSecretVerifierConfig a client sends for a new device (base64 of
/// the salt's and the verifier's bytes), and the secret it keeps.
fn device_verifier(key: &str, group: &str) -> (Value, DeviceSecret) {
    let password = B64.encode(cognate_crypto::random::bytes(40));
    let salt = cognate_crypto::random::bytes(16);
    let (_salt_hex, verifier_hex) =
        cognate_crypto::srp::make_verifier(group, key, &password, &salt);
    let config = json!({
        "Salt": B64.encode(&salt),
        "PasswordVerifier": B64.encode(hex_bytes(&verifier_hex)),
    });
    let secret = DeviceSecret {
        key: key.to_owned(),
        group: group.to_owned(),
        password,
    };
    (config, secret)
}

/// The answer to DEVICE_PASSWORD_VERIFIER for its challenge parameters.
fn device_claim(
    dev: &DeviceSecret,
    password: &str,
    a: &[u8],
    params: &Value,
    timestamp: &str,
) -> String {
    cognate_crypto::srp::client_claim(
        &dev.group,
        &dev.key,
        password,
        params["SALT"].as_str().unwrap(),
        a,
        params["SRP_B"].as_str().unwrap(),
        params["SECRET_BLOCK"].as_str().unwrap(),
        timestamp,
    )
    .unwrap()
}

struct Fixture {
    s: Server,
    pool: String,
    client: String,
}

/// A pool with TOTP MFA (`mfa`) and device tracking as given, an app client
/// with password and SRP sign-in, and users alice and bob.
fn fixture(mfa: &str, device_configuration: Value) -> Fixture {
    let s = Server::start();
    let pool = s.create_pool(
        "devices",
        json!({"DeviceConfiguration": device_configuration}),
    );
    if mfa != "OFF" {
        s.ok(
            "SetUserPoolMfaConfig",
            json!({"UserPoolId": pool, "MfaConfiguration": mfa,
                   "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
        );
    }
    let client = s.create_client(
        &pool,
        json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
                                     "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    for user in ["alice", "bob"] {
        s.ok(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": user, "MessageAction": "SUPPRESS"}),
        );
        s.ok(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": user, "Password": PASSWORD, "Permanent": true}),
        );
    }
    Fixture { s, pool, client }
}

impl Fixture {
    /// USER_PASSWORD_AUTH, with a DEVICE_KEY when given: (status, body).
    fn password(&self, user: &str, password: &str, device: Option<&str>) -> (u16, Value) {
        let mut params = json!({"USERNAME": user, "PASSWORD": password});
        if let Some(d) = device {
            params["DEVICE_KEY"] = json!(d);
        }
        self.s.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": self.client,
                   "AuthParameters": params}),
        )
    }

    fn respond(&self, challenge: &str, session: Option<&str>, responses: Value) -> (u16, Value) {
        let mut body = json!({"ClientId": self.client, "ChallengeName": challenge,
                              "ChallengeResponses": responses});
        if let Some(session) = session {
            body["Session"] = json!(session);
        }
        self.s.call("RespondToAuthChallenge", body)
    }

    /// Answers DEVICE_SRP_AUTH (`session`) and then DEVICE_PASSWORD_VERIFIER
    /// with the device password `password`: the last answer.
    fn prove_device(
        &self,
        user: &str,
        session: &str,
        dev: &DeviceSecret,
        password: &str,
    ) -> (u16, Value) {
        let a = cognate_crypto::random::bytes(32);
        let verifier = self.s.ok(
            "RespondToAuthChallenge",
            json!({"ClientId": self.client, "ChallengeName": "DEVICE_SRP_AUTH", "Session": session,
                   "ChallengeResponses": {"USERNAME": user, "DEVICE_KEY": dev.key,
                                          "SRP_A": cognate_crypto::srp::client_public(&a)}}),
        );
        assert_eq!(
            verifier["ChallengeName"], "DEVICE_PASSWORD_VERIFIER",
            "{verifier}"
        );
        let params = &verifier["ChallengeParameters"];
        let timestamp = srp_timestamp(None);
        self.respond(
            "DEVICE_PASSWORD_VERIFIER",
            verifier["Session"].as_str(),
            json!({"USERNAME": user, "DEVICE_KEY": dev.key, "TIMESTAMP": timestamp,
                   "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
                   "PASSWORD_CLAIM_SIGNATURE": device_claim(dev, password, &a, params, &timestamp)}),
        )
    }

    /// USER_SRP_AUTH up to the PASSWORD_VERIFIER answer, which names
    /// `device`: (status, body) of that answer, and the answer's request
    /// (to send again).
    fn srp(&self, user: &str, password: &str, device: Option<&str>) -> ((u16, Value), Value) {
        let a = cognate_crypto::random::bytes(32);
        let start = self.s.ok(
            "InitiateAuth",
            json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": self.client,
                   "AuthParameters": {"USERNAME": user,
                                      "SRP_A": cognate_crypto::srp::client_public(&a)}}),
        );
        let p = &start["ChallengeParameters"];
        let pool_name = self.pool.split('_').nth(1).unwrap();
        let user_id = p["USER_ID_FOR_SRP"].as_str().unwrap();
        let timestamp = srp_timestamp(None);
        let signature = cognate_crypto::srp::client_claim(
            pool_name,
            user_id,
            password,
            p["SALT"].as_str().unwrap(),
            &a,
            p["SRP_B"].as_str().unwrap(),
            p["SECRET_BLOCK"].as_str().unwrap(),
            &timestamp,
        )
        .unwrap();
        let mut responses = json!({"USERNAME": user_id, "TIMESTAMP": timestamp,
                                   "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
                                   "PASSWORD_CLAIM_SIGNATURE": signature});
        if let Some(d) = device {
            responses["DEVICE_KEY"] = json!(d);
        }
        let body = json!({"ClientId": self.client, "ChallengeName": "PASSWORD_VERIFIER",
                          "Session": start["Session"], "ChallengeResponses": responses});
        (self.s.call("RespondToAuthChallenge", body.clone()), body)
    }
}

fn challenge(resp: &(u16, Value)) -> (&str, &str) {
    assert_eq!(resp.0, 200, "{}", resp.1);
    (
        resp.1["ChallengeName"].as_str().unwrap_or_default(),
        resp.1["Session"].as_str().unwrap_or_default(),
    )
}

fn assert_error(resp: &(u16, Value), error_type: &str, message: &str) {
    assert_eq!(resp.0, 400, "{}", resp.1);
    assert_eq!(resp.1["__type"], error_type, "{}", resp.1);
    assert_eq!(resp.1["message"], message, "{}", resp.1);
}

fn tokens(resp: &(u16, Value)) -> &Value {
    assert_eq!(resp.0, 200, "{}", resp.1);
    let result = &resp.1["AuthenticationResult"];
    assert!(result["AccessToken"].is_string(), "no tokens: {}", resp.1);
    result
}

#[test]
fn a_remembered_device_takes_the_place_of_totp_once_its_secret_is_proven() {
    let f = fixture(
        "OPTIONAL",
        json!({"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": true}),
    );
    // First sign-in: no factor yet; a new device is handed out.
    let first = f.password("alice", PASSWORD, None);
    let result = tokens(&first).clone();
    let access = result["AccessToken"].as_str().unwrap().to_owned();
    let key = result["NewDeviceMetadata"]["DeviceKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = result["NewDeviceMetadata"]["DeviceGroupKey"]
        .as_str()
        .unwrap()
        .to_owned();
    // TOTP becomes alice's factor.
    let secret =
        f.s.ok("AssociateSoftwareToken", json!({"AccessToken": access}))["SecretCode"]
            .as_str()
            .unwrap()
            .to_owned();
    let base = step_now();
    f.s.ok(
        "VerifySoftwareToken",
        json!({"AccessToken": access, "UserCode": totp(&secret, base)}),
    );
    f.s.ok(
        "SetUserMFAPreference",
        json!({"AccessToken": access,
               "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );
    // The device is confirmed; on this pool the user is asked to remember it.
    let (config, dev) = device_verifier(&key, &group);
    let confirmed = f.s.ok(
        "ConfirmDevice",
        json!({"AccessToken": access, "DeviceKey": key, "DeviceName": "laptop",
               "DeviceSecretVerifierConfig": config}),
    );
    assert_eq!(confirmed["UserConfirmationNecessary"], true);

    // Confirmed, not remembered: the code is asked, then the device proven.
    let signed = f.password("alice", PASSWORD, Some(&key));
    let (name, session) = challenge(&signed);
    assert_eq!(name, "SOFTWARE_TOKEN_MFA");
    let after_code = f.respond(
        "SOFTWARE_TOKEN_MFA",
        Some(session),
        json!({"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": totp(&secret, base + 1),
               "DEVICE_KEY": key}),
    );
    let (name, session) = challenge(&after_code);
    assert_eq!(name, "DEVICE_SRP_AUTH");
    let proven = f.prove_device("alice", session, &dev, &dev.password);
    assert!(
        tokens(&proven)["NewDeviceMetadata"].is_null(),
        "{}",
        proven.1
    );

    // Remembered: the device takes the place of the code.
    f.s.ok(
        "UpdateDeviceStatus",
        json!({"AccessToken": access, "DeviceKey": key, "DeviceRememberedStatus": "remembered"}),
    );
    let signed = f.password("alice", PASSWORD, Some(&key));
    let (name, session) = challenge(&signed);
    assert_eq!(name, "DEVICE_SRP_AUTH");
    assert_eq!(signed.1["ChallengeParameters"], json!({}));
    // A bad SRP_A is a fixable mistake: the session stays.
    assert_error(
        &f.respond(
            "DEVICE_SRP_AUTH",
            Some(session),
            json!({"USERNAME": "alice", "DEVICE_KEY": key, "SRP_A": "0"}),
        ),
        "InvalidParameterException",
        "Invalid SRP_A value.",
    );
    // The wrong device secret is refused, and the exchange is used up.
    let a = cognate_crypto::random::bytes(32);
    let verifier = f.s.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": f.client, "ChallengeName": "DEVICE_SRP_AUTH", "Session": session,
               "ChallengeResponses": {"USERNAME": "alice", "DEVICE_KEY": key,
                                      "SRP_A": cognate_crypto::srp::client_public(&a)}}),
    );
    let params = verifier["ChallengeParameters"].clone();
    assert_eq!(params["USERNAME"], "alice");
    let ts = srp_timestamp(None);
    let answer = |password: &str| {
        json!({"USERNAME": "alice", "DEVICE_KEY": key, "TIMESTAMP": ts,
               "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
               "PASSWORD_CLAIM_SIGNATURE": device_claim(&dev, password, &a, &params, &ts)})
    };
    assert_error(
        &f.respond(
            "DEVICE_PASSWORD_VERIFIER",
            verifier["Session"].as_str(),
            answer("guess"),
        ),
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    assert_error(
        &f.respond(
            "DEVICE_PASSWORD_VERIFIER",
            verifier["Session"].as_str(),
            answer(&dev.password),
        ),
        "NotAuthorizedException",
        "Invalid session for the user, session can only be used once.",
    );
    // The DEVICE_SRP_AUTH session is single use too.
    assert_error(
        &f.respond(
            "DEVICE_SRP_AUTH",
            Some(session),
            json!({"USERNAME": "alice", "DEVICE_KEY": key,
                   "SRP_A": cognate_crypto::srp::client_public(&a)}),
        ),
        "NotAuthorizedException",
        "Invalid session for the user, session can only be used once.",
    );
    // ... and needs its Session: a device secret alone signs no one in.
    assert_error(
        &f.respond(
            "DEVICE_SRP_AUTH",
            None,
            json!({"USERNAME": "alice", "DEVICE_KEY": key,
                   "SRP_A": cognate_crypto::srp::client_public(&a)}),
        ),
        "NotAuthorizedException",
        "Invalid session for the user, session is expired.",
    );
    // The right secret: tokens, no code, no new device.
    let signed = f.password("alice", PASSWORD, Some(&key));
    let (_, session) = challenge(&signed);
    let proven = f.prove_device("alice", session, &dev, &dev.password);
    let result = tokens(&proven);
    assert!(result["NewDeviceMetadata"].is_null());
    assert!(result["RefreshToken"].is_string());
    // USER_SRP_AUTH names the device in its PASSWORD_VERIFIER answer.
    let (answered, _) = f.srp("alice", PASSWORD, Some(&key));
    let (name, session) = challenge(&answered);
    assert_eq!(name, "DEVICE_SRP_AUTH");
    tokens(&f.prove_device("alice", session, &dev, &dev.password));

    // An unknown device after a proven password: ResourceNotFound, and the
    // same answer without the key goes on to the code (the session stays).
    // amazon-cognito-identity-js sends the key as null then.
    let unknown = "us-east-1_00000000-0000-0000-0000-000000000000";
    let (answered, mut request) = f.srp("alice", PASSWORD, Some(unknown));
    assert_error(
        &answered,
        "ResourceNotFoundException",
        "Device does not exist.",
    );
    request["ChallengeResponses"]["DEVICE_KEY"] = Value::Null;
    let again = f.s.call("RespondToAuthChallenge", request);
    assert_eq!(challenge(&again).0, "SOFTWARE_TOKEN_MFA");
    assert_error(
        &f.password("alice", PASSWORD, Some(unknown)),
        "ResourceNotFoundException",
        "Device does not exist.",
    );
    // A wrong password with an unknown device says nothing about devices.
    assert_error(
        &f.password("alice", "Wrong-passw0rd", Some(unknown)),
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    // Another user's device is no device of bob's.
    assert_error(
        &f.password("bob", PASSWORD, Some(&key)),
        "ResourceNotFoundException",
        "Device does not exist.",
    );

    // Forgotten: refused by name, and the code is asked again without it.
    f.s.ok(
        "ForgetDevice",
        json!({"AccessToken": access, "DeviceKey": key}),
    );
    assert_error(
        &f.password("alice", PASSWORD, Some(&key)),
        "ResourceNotFoundException",
        "Device does not exist.",
    );
    let signed = f.password("alice", PASSWORD, None);
    assert_eq!(challenge(&signed).0, "SOFTWARE_TOKEN_MFA");
}

/// A remembered device skips MFA whatever the factor: SMS_MFA, EMAIL_OTP
/// and the SELECT_MFA_TYPE choice give way to DEVICE_SRP_AUTH, and no code
/// is sent; a device that is only confirmed still gets the code first.
#[test]
fn a_remembered_device_takes_the_place_of_sms_email_and_the_mfa_choice() {
    let f = fixture(
        "OPTIONAL",
        json!({"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": true}),
    );
    f.s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": f.pool, "MfaConfiguration": "OPTIONAL",
               "SmsMfaConfiguration": {"SmsAuthenticationMessage": "Code {####}"},
               "EmailMfaConfiguration": {"Message": "Code {####}", "Subject": "Code"},
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    f.s.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": f.pool, "Username": "alice",
               "UserAttributes": [{"Name": "email", "Value": "alice@example.com"},
                                  {"Name": "email_verified", "Value": "true"},
                                  {"Name": "phone_number", "Value": "+15555550199"},
                                  {"Name": "phone_number_verified", "Value": "true"}]}),
    );
    let first = f.password("alice", PASSWORD, None);
    let result = tokens(&first).clone();
    let access = result["AccessToken"].as_str().unwrap().to_owned();
    let key = result["NewDeviceMetadata"]["DeviceKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = result["NewDeviceMetadata"]["DeviceGroupKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let (config, dev) = device_verifier(&key, &group);
    f.s.ok(
        "ConfirmDevice",
        json!({"AccessToken": access, "DeviceKey": key, "DeviceName": "phone",
               "DeviceSecretVerifierConfig": config}),
    );
    let sent = |f: &Fixture| f.s.messages_for(&f.pool, "alice").len();
    let set = |settings: Value| {
        let mut body = settings;
        body["UserPoolId"] = json!(f.pool);
        body["Username"] = json!("alice");
        f.s.ok("AdminSetUserMFAPreference", body);
    };

    // Confirmed, not remembered: the email code is asked, then the device proven.
    set(json!({"EmailMfaSettings": {"Enabled": true, "PreferredMfa": true}}));
    let before = sent(&f);
    let signed = f.password("alice", PASSWORD, Some(&key));
    let (name, session) = challenge(&signed);
    assert_eq!(name, "EMAIL_OTP");
    assert_eq!(sent(&f), before + 1);
    let code = f.s.last_code(&f.pool, "alice");
    let after_code = f.respond(
        "EMAIL_OTP",
        Some(session),
        json!({"USERNAME": "alice", "EMAIL_OTP_CODE": code, "DEVICE_KEY": key}),
    );
    let (name, session) = challenge(&after_code);
    assert_eq!(name, "DEVICE_SRP_AUTH");
    tokens(&f.prove_device("alice", session, &dev, &dev.password));

    f.s.ok(
        "UpdateDeviceStatus",
        json!({"AccessToken": access, "DeviceKey": key, "DeviceRememberedStatus": "remembered"}),
    );
    // Remembered: EMAIL_OTP, SMS_MFA and SELECT_MFA_TYPE each give way to
    // the device, and no code is sent.
    for (settings, factor) in [
        (
            json!({"EmailMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
            "EMAIL_OTP",
        ),
        (
            json!({"SMSMfaSettings": {"Enabled": true, "PreferredMfa": true},
                   "EmailMfaSettings": {"Enabled": false}}),
            "SMS_MFA",
        ),
        (
            json!({"SMSMfaSettings": {"Enabled": true, "PreferredMfa": false},
                   "EmailMfaSettings": {"Enabled": true, "PreferredMfa": false}}),
            "SELECT_MFA_TYPE",
        ),
    ] {
        set(settings);
        // Without the device, the factor is asked.
        let plain = f.password("alice", PASSWORD, None);
        assert_eq!(challenge(&plain).0, factor, "{}", plain.1);
        let before = sent(&f);
        let signed = f.password("alice", PASSWORD, Some(&key));
        let (name, session) = challenge(&signed);
        assert_eq!(name, "DEVICE_SRP_AUTH", "{factor}: {}", signed.1);
        assert_eq!(sent(&f), before, "{factor}: no code sent");
        let proven = f.prove_device("alice", session, &dev, &dev.password);
        let result = tokens(&proven);
        assert!(result["NewDeviceMetadata"].is_null(), "{factor}");
        // The same through USER_SRP_AUTH.
        let (answered, _) = f.srp("alice", PASSWORD, Some(&key));
        assert_eq!(challenge(&answered).0, "DEVICE_SRP_AUTH", "{factor}");
    }
}

#[test]
fn without_challenge_required_on_new_device_a_remembered_device_is_proven_after_the_code() {
    let f = fixture(
        "ON",
        json!({"ChallengeRequiredOnNewDevice": false, "DeviceOnlyRememberedOnUserPrompt": false}),
    );
    // MFA ON: the first sign-in sets TOTP up through MFA_SETUP.
    let base = step_now();
    let signed = f.password("alice", PASSWORD, None);
    let (name, session) = challenge(&signed);
    assert_eq!(name, "MFA_SETUP");
    let assoc =
        f.s.ok("AssociateSoftwareToken", json!({"Session": session}));
    let secret = assoc["SecretCode"].as_str().unwrap().to_owned();
    let verified = f.s.ok(
        "VerifySoftwareToken",
        json!({"Session": assoc["Session"], "UserCode": totp(&secret, base)}),
    );
    let done = f.respond(
        "MFA_SETUP",
        verified["Session"].as_str(),
        json!({"USERNAME": "alice"}),
    );
    let result = tokens(&done).clone();
    let access = result["AccessToken"].as_str().unwrap();
    let key = result["NewDeviceMetadata"]["DeviceKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = result["NewDeviceMetadata"]["DeviceGroupKey"]
        .as_str()
        .unwrap();
    let (config, dev) = device_verifier(&key, group);
    // Remembered at confirmation (DeviceOnlyRememberedOnUserPrompt off).
    let confirmed = f.s.ok(
        "ConfirmDevice",
        json!({"AccessToken": access, "DeviceKey": key, "DeviceSecretVerifierConfig": config}),
    );
    assert_eq!(confirmed["UserConfirmationNecessary"], false);
    let device = f.s.ok(
        "AdminGetDevice",
        json!({"UserPoolId": f.pool, "Username": "alice", "DeviceKey": key}),
    );
    assert!(device["Device"]["DeviceAttributes"]
        .as_array()
        .unwrap()
        .contains(&json!({"Name": "dev:device_remembered_status", "Value": "remembered"})));
    // The pool does not let devices skip MFA: the code first, then the device.
    let signed = f.password("alice", PASSWORD, Some(&key));
    let (name, session) = challenge(&signed);
    assert_eq!(name, "SOFTWARE_TOKEN_MFA");
    let after_code = f.respond(
        "SOFTWARE_TOKEN_MFA",
        Some(session),
        json!({"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": totp(&secret, base + 1),
               "DEVICE_KEY": key}),
    );
    let (name, session) = challenge(&after_code);
    assert_eq!(name, "DEVICE_SRP_AUTH");
    tokens(&f.prove_device("alice", session, &dev, &dev.password));
}

#[test]
fn device_authentication_without_mfa_and_devices_without_a_verifier() {
    let f = fixture(
        "OFF",
        json!({"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": false}),
    );
    let first = f.password("alice", PASSWORD, None);
    let result = tokens(&first).clone();
    let access = result["AccessToken"].as_str().unwrap();
    let key = result["NewDeviceMetadata"]["DeviceKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = result["NewDeviceMetadata"]["DeviceGroupKey"]
        .as_str()
        .unwrap();
    let (config, dev) = device_verifier(&key, group);
    // Only the key this sign-in was given can be confirmed (AWS's refusal).
    let forged = f.s.call(
        "ConfirmDevice",
        json!({"AccessToken": access,
               "DeviceKey": "us-east-1_0b0b0b0b-0000-4000-8000-000000000000",
               "DeviceSecretVerifierConfig": config}),
    );
    assert_error(
        &forged,
        "InvalidParameterException",
        "Invalid device key given.",
    );
    f.s.ok(
        "ConfirmDevice",
        json!({"AccessToken": access, "DeviceKey": key, "DeviceSecretVerifierConfig": config}),
    );
    // A confirmed device is proven even where no MFA is asked.
    let signed = f.password("alice", PASSWORD, Some(&key));
    let (name, session) = challenge(&signed);
    assert_eq!(name, "DEVICE_SRP_AUTH");
    // DEVICE_SRP_AUTH for another device than the session's is refused.
    let other = f.respond(
        "DEVICE_SRP_AUTH",
        Some(session),
        json!({"USERNAME": "alice", "DEVICE_KEY": "us-east-1_11111111-1111-1111-1111-111111111111",
               "SRP_A": cognate_crypto::srp::client_public(&[7; 32])}),
    );
    assert_error(
        &other,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    let signed = f.password("alice", PASSWORD, Some(&key));
    let (_, session) = challenge(&signed);
    tokens(&f.prove_device("alice", session, &dev, &dev.password));
    // A device confirmed without a verifier cannot be proven: tokens.
    let second = f.password("bob", PASSWORD, None);
    let result = tokens(&second).clone();
    let bob_key = result["NewDeviceMetadata"]["DeviceKey"]
        .as_str()
        .unwrap()
        .to_owned();
    f.s.ok(
        "ConfirmDevice",
        json!({"AccessToken": result["AccessToken"], "DeviceKey": bob_key}),
    );
    let signed = f.password("bob", PASSWORD, Some(&bob_key));
    assert!(tokens(&signed)["NewDeviceMetadata"].is_null());
}

#[test]
fn concurrent_answers_to_one_device_challenge_sign_in_once() {
    let f = fixture(
        "OFF",
        json!({"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": false}),
    );
    let first = f.password("alice", PASSWORD, None);
    let result = tokens(&first).clone();
    let key = result["NewDeviceMetadata"]["DeviceKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = result["NewDeviceMetadata"]["DeviceGroupKey"]
        .as_str()
        .unwrap();
    let (config, dev) = device_verifier(&key, group);
    f.s.ok(
        "ConfirmDevice",
        json!({"AccessToken": result["AccessToken"], "DeviceKey": key,
               "DeviceSecretVerifierConfig": config}),
    );
    let signed = f.password("alice", PASSWORD, Some(&key));
    let (_, session) = challenge(&signed);
    let a = cognate_crypto::random::bytes(32);
    let srp_a = cognate_crypto::srp::client_public(&a);
    // 24 answers to one DEVICE_SRP_AUTH session: one exchange starts.
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|_| {
                scope.spawn(|| {
                    f.respond(
                        "DEVICE_SRP_AUTH",
                        Some(session),
                        json!({"USERNAME": "alice", "DEVICE_KEY": key, "SRP_A": srp_a}),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let started: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(started.len(), 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 400);
        assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
    }
    let params = &started[0]["ChallengeParameters"];
    let ts = srp_timestamp(None);
    let responses = json!({"USERNAME": "alice", "DEVICE_KEY": key, "TIMESTAMP": ts,
                           "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
                           "PASSWORD_CLAIM_SIGNATURE": device_claim(&dev, &dev.password, &a, params, &ts)});
    // 24 copies of the right proof: one set of tokens.
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|_| {
                scope.spawn(|| {
                    f.respond(
                        "DEVICE_PASSWORD_VERIFIER",
                        started[0]["Session"].as_str(),
                        responses.clone(),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let signed_in = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(signed_in, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 400);
        // Taken by the winner: gone, or already marked as used.
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            [
                "Invalid session for the user, session can only be used once.",
                "Invalid session for the user, session is expired."
            ]
            .contains(&message),
            "{body}"
        );
    }
}

/// In process on the manual clock: the exchange expires with the client's
/// AuthSessionValidity, and TIMESTAMP must be within 15 minutes of now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_exchange_expires_and_checks_its_timestamp() {
    let w = common::inproc::world().await;
    let (pool, _) = w.svc.describe_user_pool(&w.pool_id).await.unwrap();
    let mut settings: PoolSettings = pool.settings.clone();
    settings.device_configuration = Some(
        json!({"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": false}),
    );
    w.svc
        .update_user_pool(&w.pool_id, None, settings, true)
        .await
        .unwrap();
    let sign_in = |device: Option<String>| {
        let mut parameters = BTreeMap::new();
        parameters.insert("USERNAME".to_owned(), "alice".to_owned());
        parameters.insert("PASSWORD".to_owned(), "Passw0rd!x".to_owned());
        if let Some(d) = device {
            parameters.insert("DEVICE_KEY".to_owned(), d);
        }
        w.svc.initiate_auth(AuthFlowInput {
            admin_pool_id: Some(w.pool_id.clone()),
            client_id: w.client_id.clone(),
            flow: "ADMIN_USER_PASSWORD_AUTH".into(),
            parameters,
            client_metadata: Default::default(),
        })
    };
    let AuthOutcome::Authenticated(first) = sign_in(None).await.unwrap() else {
        panic!("no tokens")
    };
    let meta = first.new_device.expect("a new device");
    let (config, dev) = device_verifier(&meta.device_key, &meta.device_group_key);
    w.svc
        .confirm_device(
            &first.access_token,
            &meta.device_key,
            None,
            config["Salt"].as_str().map(str::to_owned),
            config["PasswordVerifier"].as_str().map(str::to_owned),
        )
        .await
        .unwrap();
    let respond = |name: &str, session: &str, responses: Value| {
        let responses: BTreeMap<String, String> = serde_json::from_value(responses).unwrap();
        w.svc.respond_to_auth_challenge(ChallengeInput {
            admin_pool_id: Some(w.pool_id.clone()),
            client_id: w.client_id.clone(),
            challenge_name: name.to_owned(),
            session: Some(session.to_owned()),
            responses,
            client_metadata: Default::default(),
        })
    };
    // Up to the DEVICE_PASSWORD_VERIFIER challenge: (a, its parameters, session).
    let exchange = || async {
        let AuthOutcome::Challenge { name, session, .. } =
            sign_in(Some(dev.key.clone())).await.unwrap()
        else {
            panic!("no device challenge")
        };
        assert_eq!(name, "DEVICE_SRP_AUTH");
        let a = cognate_crypto::random::bytes(32);
        let outcome = respond(
            "DEVICE_SRP_AUTH",
            &session,
            json!({"USERNAME": "alice", "DEVICE_KEY": dev.key,
                   "SRP_A": cognate_crypto::srp::client_public(&a)}),
        )
        .await
        .unwrap();
        let AuthOutcome::Challenge {
            name,
            session,
            parameters,
        } = outcome
        else {
            panic!("no verifier challenge")
        };
        assert_eq!(name, "DEVICE_PASSWORD_VERIFIER");
        (a, serde_json::to_value(parameters).unwrap(), session)
    };
    let answer = |a: &[u8], params: &Value, ts: &str| {
        json!({"USERNAME": "alice", "DEVICE_KEY": dev.key, "TIMESTAMP": ts,
               "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
               "PASSWORD_CLAIM_SIGNATURE": device_claim(&dev, &dev.password, a, params, ts)})
    };
    let now_secs = || w.clock.now_millis() / 1000;
    // The client's AuthSessionValidity (3 minutes) ends the exchange.
    let (a, params, session) = exchange().await;
    w.clock.advance_millis(3 * 60_000);
    let ts = srp_timestamp(Some(now_secs()));
    let err = respond(
        "DEVICE_PASSWORD_VERIFIER",
        &session,
        answer(&a, &params, &ts),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotAuthorized);
    assert_eq!(
        err.message,
        "Invalid session for the user, session is expired."
    );
    // A TIMESTAMP 16 minutes off is refused (and the exchange kept).
    let (a, params, session) = exchange().await;
    let ts = srp_timestamp(Some(now_secs() - 16 * 60));
    let err = respond(
        "DEVICE_PASSWORD_VERIFIER",
        &session,
        answer(&a, &params, &ts),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidParameter);
    assert_eq!(err.message, "TIMESTAMP format or value is invalid.");
    let ts = srp_timestamp(Some(now_secs() - 14 * 60));
    let outcome = respond(
        "DEVICE_PASSWORD_VERIFIER",
        &session,
        answer(&a, &params, &ts),
    )
    .await
    .unwrap();
    let AuthOutcome::Authenticated(result) = outcome else {
        panic!("no tokens")
    };
    assert!(result.new_device.is_none());
    // The device's last authentication is the clock's now.
    let device = w
        .svc
        .get_device(
            cognate_core::service::devices::DeviceOwner::Token(&result.access_token),
            &dev.key,
        )
        .await
        .unwrap();
    assert_eq!(device.device.last_authenticated, w.clock.now_millis());
}
