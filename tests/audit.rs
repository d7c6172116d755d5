//! The audit log and the log secret scanner: real journeys against the real
//! binary logging at debug level as JSON lines; every secret the journeys
//! used (passwords, temporary passwords, tokens or any 40-character slice
//! of one, codes outside the development outbox's delivery line, TOTP
//! secrets, client secrets, the SigV4 secret key, the pools' private keys)
//! must be absent from every line, and each security event must be one
//! audit line with its fields. Also AdminListUserAuthEvents and the two
//! feedback operations, which read the recorded sign-ins.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::{secret_hash, Server, Signer, LOG_FILE_ENV, PASSWORD};
use serde_json::{json, Value};

const ADMIN: (&str, &str) = ("AKIDAUDITADMIN", "audit-admin-secret-key-0123456789abcdef");

/// Secrets a journey used, by kind.
#[derive(Default)]
struct Secrets {
    /// Passwords, client secrets, the SigV4 secret key, TOTP secrets:
    /// found anywhere in a line.
    exact: Vec<(String, String)>,
    /// Tokens and private keys: any 40-character slice of one.
    long: Vec<(String, String)>,
    /// One-time codes: a string value of a line that contains the code
    /// between non-digits (the development delivery line's `code` excepted).
    codes: Vec<String>,
}

impl Secrets {
    fn exact(&mut self, what: &str, value: &str) {
        assert!(!value.is_empty());
        self.exact.push((what.to_owned(), value.to_owned()));
    }
    fn long(&mut self, what: &str, value: &str) {
        assert!(value.len() >= 40, "{what} is shorter than 40");
        self.long.push((what.to_owned(), value.to_owned()));
    }
    fn tokens(&mut self, result: &Value) {
        for name in ["AccessToken", "IdToken", "RefreshToken"] {
            if let Some(t) = result[name].as_str() {
                self.long(name, t);
            }
        }
    }
}

/// The line of the development outbox that carries a code by design.
const DEV_DELIVERY: &str =
    "development delivery (no mail server configured): message written to the outbox";

/// What a log holds that it must not: a description of each finding.
fn scan(log: &str, secrets: &Secrets) -> Vec<String> {
    let mut found = Vec::new();
    // 40-character windows of every run of token characters in the log.
    let mut windows: HashSet<&[u8]> = HashSet::new();
    for run in log.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.+/=".contains(c))) {
        let b = run.as_bytes();
        if b.len() >= 40 {
            for w in b.windows(40) {
                windows.insert(w);
            }
        }
    }
    for (i, line) in log.lines().enumerate() {
        for (what, value) in &secrets.exact {
            if line.contains(value.as_str()) {
                found.push(format!("{what} in line {}: {line}", i + 1));
            }
        }
        let Ok(mut v) = serde_json::from_str::<Value>(line) else {
            if !line.trim().is_empty() {
                found.push(format!("line {} is not JSON: {line}", i + 1));
            }
            continue;
        };
        let dev_delivery = v["message"] == DEV_DELIVERY;
        if let Some(o) = v.as_object_mut() {
            // Its fraction of a second is six digits, like a code.
            o.remove("timestamp");
            if dev_delivery {
                o.remove("code");
            }
        }
        let mut strings = Vec::new();
        collect_strings(&v, &mut strings);
        for code in &secrets.codes {
            for s in &strings {
                if contains_number(s, code) {
                    found.push(format!("code {code} in line {}: {line}", i + 1));
                }
            }
        }
    }
    for (what, value) in &secrets.long {
        let b = value.as_bytes();
        if b.windows(40).any(|w| windows.contains(w)) {
            found.push(format!("a 40-character slice of {what} is in the log"));
        }
    }
    found
}

fn collect_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Whether `code` is in `s` with no digit right before or after it.
fn contains_number(s: &str, code: &str) -> bool {
    s.match_indices(code).any(|(i, _)| {
        let before = s[..i].chars().last();
        let after = s[i + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[test]
fn the_scanner_finds_planted_secrets() {
    let token = "eyJraWQiOiJhYmMiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
    let mut secrets = Secrets::default();
    secrets.exact("password", "Hunter2-Secret!");
    secrets.long("access token", token);
    secrets.codes.push("482913".into());
    let clean = [
        r#"{"timestamp":"2026-01-01T00:00:00.482913Z","level":"INFO","message":"request","micros":482913}"#,
        r#"{"timestamp":"x","level":"INFO","message":"development delivery (no mail server configured): message written to the outbox","code":"482913"}"#,
    ]
    .join("\n");
    assert_eq!(scan(&clean, &secrets), Vec::<String>::new());
    for planted in [
        r#"{"message":"login","detail":"password was Hunter2-Secret!"}"#.to_owned(),
        format!(r#"{{"message":"bad token","token":"{token}"}}"#),
        // A slice of the token (its middle 45 characters).
        format!(r#"{{"message":"x","part":"{}"}}"#, &token[30..75]),
        r#"{"message":"confirm","code":"482913"}"#.to_owned(),
        r#"{"message":"development delivery (no mail server configured): message written to the outbox","code":"1","note":"code 482913"}"#.to_owned(),
        "not json: Hunter2-Secret!".to_owned(),
    ] {
        let log = format!("{clean}\n{planted}\n");
        assert!(
            !scan(&log, &secrets).is_empty(),
            "the scanner missed: {planted}"
        );
    }
}

fn start_logged(log: &Path) -> Server {
    let log = log.to_str().unwrap().to_owned();
    Server::start_signed(
        None,
        &[
            (LOG_FILE_ENV, &log),
            ("COGNATE_ADMIN_ACCESS_KEY_ID", ADMIN.0),
            ("COGNATE_ADMIN_SECRET_ACCESS_KEY", ADMIN.1),
        ],
        Signer::new(ADMIN.0, ADMIN.1),
    )
}

/// A six-digit code that is not `code`.
fn wrong_code_for(code: &str) -> &'static str {
    if code == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// The TOTP code of the current step plus `ahead`.
fn totp_at(secret: &str, ahead: i64) -> String {
    let key = cognate_crypto::totp::base32_decode(secret).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    cognate_crypto::totp::code_at(&key, now / 30 + ahead)
}

/// Every audit line of the log, parsed.
fn audit_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "audit")
        .collect()
}

#[test]
fn journeys_leave_no_secret_in_the_logs_and_audit_every_security_event() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("cognate.log");
    let mut s = start_logged(&log_path);
    let mut secrets = Secrets::default();
    secrets.exact("SigV4 secret key", ADMIN.1);

    let pool = s.create_pool(
        "audit",
        json!({"UserPoolTier": "PLUS", "AutoVerifiedAttributes": ["email"],
               "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}}),
    );
    s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    let client = s.create_client(&pool, common::password_flows());
    let secret_client = s.create_client_full(
        &pool,
        json!({"GenerateSecret": true,
               "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    let secret_client_id = secret_client["ClientId"].as_str().unwrap().to_owned();
    let client_secret = secret_client["ClientSecret"].as_str().unwrap().to_owned();
    secrets.exact("client secret", &client_secret);

    // Sign-up and confirmation.
    let password = "Journey-Passw0rd!";
    secrets.exact("password", password);
    let signed_up = s.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "alice", "Password": password,
               "UserAttributes": [{"Name": "email", "Value": "alice@example.com"}]}),
    );
    let alice_sub = signed_up["UserSub"].as_str().unwrap().to_owned();
    let code = s.last_code(&pool, "alice");
    secrets.codes.push(code.clone());
    s.err(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "alice", "ConfirmationCode": wrong_code_for(&code)}),
        "CodeMismatchException",
    );
    s.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "alice", "ConfirmationCode": code}),
    );

    // A wrong password, an unknown user, then the right password; refresh.
    let wrong = "Wrong-Passw0rd!";
    secrets.exact("wrong password", wrong);
    s.err(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": wrong}}),
        "NotAuthorizedException",
    );
    s.err(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "nobody", "PASSWORD": wrong}}),
        "UserNotFoundException",
    );
    let tokens = s.login(&client, "alice", password);
    secrets.tokens(&tokens);
    let refreshed = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
               "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]}}),
    );
    secrets.tokens(&refreshed["AuthenticationResult"]);
    let access = tokens["AccessToken"].as_str().unwrap().to_owned();

    // TOTP: set up, then a sign-in with a wrong and a right code.
    let associated = s.ok("AssociateSoftwareToken", json!({"AccessToken": access}));
    let totp_secret = associated["SecretCode"].as_str().unwrap().to_owned();
    secrets.exact("TOTP secret", &totp_secret);
    let totp = totp_at(&totp_secret, 0);
    secrets.codes.push(totp.clone());
    s.ok(
        "VerifySoftwareToken",
        json!({"AccessToken": access, "UserCode": totp}),
    );
    s.ok(
        "SetUserMFAPreference",
        json!({"AccessToken": access,
               "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );
    let challenge = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": password}}),
    );
    assert_eq!(challenge["ChallengeName"], "SOFTWARE_TOKEN_MFA");
    let next = totp_at(&totp_secret, 1);
    let wrong_code = ["000000", "111111", "222222"]
        .into_iter()
        .find(|c| *c != totp && *c != next && *c != totp_at(&totp_secret, -1))
        .unwrap();
    s.err(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA",
               "Session": challenge["Session"],
               "ChallengeResponses": {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": wrong_code}}),
        "CodeMismatchException",
    );
    // The current step's code was used by VerifySoftwareToken: the next
    // step's is accepted too (one step of skew).
    let next = totp_at(&totp_secret, 1);
    secrets.codes.push(next.clone());
    let done = s.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "SOFTWARE_TOKEN_MFA",
               "Session": challenge["Session"],
               "ChallengeResponses": {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": next}}),
    );
    secrets.tokens(&done["AuthenticationResult"]);
    if let Some(session) = challenge["Session"].as_str() {
        secrets.long("challenge session", session);
    }

    // Forgotten password and its reset.
    s.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "alice"}),
    );
    let reset_code = s.last_code(&pool, "alice");
    secrets.codes.push(reset_code.clone());
    let new_password = "Reset-Passw0rd!";
    secrets.exact("new password", new_password);
    s.err(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "alice",
               "ConfirmationCode": wrong_code_for(&reset_code), "Password": new_password}),
        "CodeMismatchException",
    );
    s.ok(
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "alice", "ConfirmationCode": reset_code,
               "Password": new_password}),
    );

    // An admin-created user with a temporary password.
    let temporary = "Temp-Passw0rd!";
    secrets.exact("temporary password", temporary);
    s.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "bob", "TemporaryPassword": temporary,
               "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]}),
    );
    let started = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "bob", "PASSWORD": temporary}}),
    );
    assert_eq!(started["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let bob_password = "Bob-Final-Passw0rd!";
    secrets.exact("bob's password", bob_password);
    let bob = s.ok(
        "RespondToAuthChallenge",
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": started["Session"],
               "ChallengeResponses": {"USERNAME": "bob", "NEW_PASSWORD": bob_password}}),
    );
    secrets.tokens(&bob["AuthenticationResult"]);

    // A client with a secret.
    s.admin_user(&pool, "carol", json!([]));
    secrets.exact("carol's password", PASSWORD);
    let hash = secret_hash(&client_secret, "carol", &secret_client_id);
    secrets.exact("SECRET_HASH", &hash);
    let carol = s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": secret_client_id,
               "AuthParameters": {"USERNAME": "carol", "PASSWORD": PASSWORD, "SECRET_HASH": hash}}),
    );
    secrets.tokens(&carol["AuthenticationResult"]);
    s.ok(
        "RevokeToken",
        json!({"ClientId": secret_client_id, "ClientSecret": client_secret,
               "Token": carol["AuthenticationResult"]["RefreshToken"]}),
    );

    // Admin actions.
    s.ok(
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "carol"}),
    );
    s.ok(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": pool, "Username": "bob"}),
    );

    // The recorded sign-ins (AUDIT mode): newest first, with feedback.
    let events = s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "alice"}),
    )["AuthEvents"]
        .as_array()
        .unwrap()
        .clone();
    let kinds: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["EventType"].as_str().unwrap().to_owned(),
                e["EventResponse"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("PasswordChange", "Pass"),
        ("ForgotPassword", "Pass"),
        ("SignIn", "Pass"),
        ("SignIn", "Fail"),
        ("SignIn", "Pass"),
        ("SignIn", "Fail"),
        ("SignUp", "Pass"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(kinds, expected, "{events:?}");
    assert_eq!(
        events[2]["ChallengeResponses"],
        json!([{"ChallengeName": "Password", "ChallengeResponse": "Success"},
               {"ChallengeName": "Mfa", "ChallengeResponse": "Success"}])
    );
    assert_eq!(
        events[3]["ChallengeResponses"],
        json!([{"ChallengeName": "Password", "ChallengeResponse": "Success"},
               {"ChallengeName": "Mfa", "ChallengeResponse": "Failure"}])
    );
    assert_eq!(
        events[5]["ChallengeResponses"],
        json!([{"ChallengeName": "Password", "ChallengeResponse": "Failure"}])
    );
    assert_eq!(events[5]["EventContextData"]["IpAddress"], "127.0.0.1");
    // The test's HTTP client sends no User-Agent.
    assert_eq!(events[5]["EventContextData"]["DeviceName"], "unknown");
    assert_eq!(events[5]["EventRisk"]["RiskDecision"], "NoRisk");
    for e in &events {
        secrets.exact("feedback token", e["FeedbackToken"].as_str().unwrap());
    }

    // Feedback: by the admin, and by the user with the event's token.
    let failed = events[5]["EventId"].as_str().unwrap().to_owned();
    s.ok(
        "AdminUpdateAuthEventFeedback",
        json!({"UserPoolId": pool, "Username": "alice", "EventId": failed,
               "FeedbackValue": "Invalid"}),
    );
    let passed = events[4]["EventId"].as_str().unwrap().to_owned();
    s.err(
        "UpdateAuthEventFeedback",
        json!({"UserPoolId": pool, "Username": "alice", "EventId": passed,
               "FeedbackToken": events[5]["FeedbackToken"], "FeedbackValue": "Valid"}),
        "NotAuthorizedException",
    );
    s.ok(
        "UpdateAuthEventFeedback",
        json!({"UserPoolId": pool, "Username": "alice", "EventId": passed,
               "FeedbackToken": events[4]["FeedbackToken"], "FeedbackValue": "Valid"}),
    );
    let events = s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "alice", "MaxResults": 5}),
    );
    assert_eq!(events["AuthEvents"].as_array().unwrap().len(), 5);
    assert_eq!(
        events["AuthEvents"][4]["EventFeedback"]["FeedbackValue"],
        "Valid"
    );
    assert_eq!(events["AuthEvents"][4]["EventFeedback"]["Provider"], "User");
    let rest = s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "alice", "MaxResults": 5,
               "NextToken": events["NextToken"]}),
    );
    assert_eq!(rest["AuthEvents"].as_array().unwrap().len(), 2);
    assert_eq!(
        rest["AuthEvents"][0]["EventFeedback"]["FeedbackValue"],
        "Invalid"
    );
    assert_eq!(rest["AuthEvents"][0]["EventFeedback"]["Provider"], "Admin");
    assert!(rest.get("NextToken").is_none(), "{rest}");

    // The pools' private keys.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let keys = rt.block_on(async { s.store().await.list_keys(&pool).await.unwrap() });
    use base64::Engine;
    for key in keys {
        secrets.long(
            "private key",
            &base64::engine::general_purpose::STANDARD.encode(&key.pkcs8),
        );
    }

    s.stop();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("\"level\":\"DEBUG\""), "not at debug level");
    let outbox = std::fs::read_to_string(s.data_dir.join("outbox.jsonl")).unwrap();
    assert!(outbox.contains(&reset_code), "the outbox holds the codes");
    let findings = scan(&log, &secrets);
    assert!(
        findings.is_empty(),
        "secrets in the log:\n{}",
        findings.join("\n")
    );

    // The audit lines.
    let audit = audit_lines(&log);
    let find = |event: &str, pred: &dyn Fn(&Value) -> bool| -> Value {
        audit
            .iter()
            .find(|a| a["event"] == event && pred(a))
            .cloned()
            .unwrap_or_else(|| panic!("no {event} audit line in {audit:#?}"))
    };
    let wrong_password = find("sign_in", &|a| a["reason"] == "wrong_password");
    assert_eq!(wrong_password["sub"], alice_sub.as_str());
    assert_eq!(wrong_password["outcome"], "failure");
    assert_eq!(wrong_password["pool_id"], pool.as_str());
    assert_eq!(wrong_password["client_id"], client.as_str());
    assert_eq!(wrong_password["source_ip"], "127.0.0.1");
    assert!(wrong_password["request_id"]
        .as_str()
        .is_some_and(|r| r.len() == 36));
    let unknown = find("sign_in", &|a| a["reason"] == "unknown_user");
    assert!(unknown.get("sub").is_none(), "{unknown}");
    find("sign_in", &|a| {
        a["reason"] == "mfa_failure" && a["sub"] == alice_sub.as_str()
    });
    find("sign_in", &|a| {
        a["outcome"] == "success" && a["sub"] == alice_sub.as_str()
    });
    // A wrong code is audited as a failure of its step, with the user.
    for event in ["confirm_sign_up", "confirm_forgot_password"] {
        let failed = find(event, &|a| a["outcome"] == "failure");
        assert_eq!(failed["reason"], "code_mismatch", "{failed}");
        assert_eq!(failed["sub"], alice_sub.as_str());
        find(event, &|a| a["outcome"] == "success");
    }
    for event in [
        "sign_up",
        "confirm_sign_up",
        "verify_software_token",
        "set_user_mfa_preference",
        "forgot_password",
        "confirm_forgot_password",
        "admin_set_user_password",
        "revoke_token",
        "admin_user_global_sign_out",
        "create_user_pool",
        "create_user_pool_client",
        "admin_update_auth_event_feedback",
        "update_auth_event_feedback",
    ] {
        find(event, &|_| true);
    }
    let disabled = find("admin_disable_user", &|_| true);
    assert_eq!(disabled["access_key_id"], ADMIN.0);
    let created = find("admin_create_user", &|_| true);
    assert_eq!(created["access_key_id"], ADMIN.0);
    // Client calls carry no access key.
    assert!(wrong_password.get("access_key_id").is_none());
}

#[test]
fn auth_events_need_advanced_security() {
    let s = Server::start();
    let (pool, client) = s.pool_and_client();
    s.admin_user(&pool, "dave", json!([]));
    s.login(&client, "dave", PASSWORD);
    s.err(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "dave"}),
        "UserPoolAddOnNotEnabledException",
    );
    s.err(
        "AdminUpdateAuthEventFeedback",
        json!({"UserPoolId": pool, "Username": "dave", "EventId": "e1", "FeedbackValue": "Valid"}),
        "UserPoolAddOnNotEnabledException",
    );
    // Turned on later: sign-ins from then on are recorded.
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "UserPoolTier": "PLUS", "AutoVerifiedAttributes": ["email"],
               "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}),
    );
    let empty = s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "dave"}),
    );
    assert_eq!(empty["AuthEvents"], json!([]));
    s.login(&client, "dave", PASSWORD);
    let events = s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "dave"}),
    );
    assert_eq!(events["AuthEvents"].as_array().unwrap().len(), 1);
    s.err(
        "AdminUpdateAuthEventFeedback",
        json!({"UserPoolId": pool, "Username": "dave", "EventId": "no-such-event",
               "FeedbackValue": "Valid"}),
        "ResourceNotFoundException",
    );
    s.err(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "nobody"}),
        "UserNotFoundException",
    );
}

#[test]
fn a_user_keeps_only_the_newest_auth_events_under_concurrent_sign_ins() {
    let s = Server::start();
    let pool = s.create_pool(
        "bounded",
        json!({"UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}}),
    );
    let client = s.create_client(&pool, common::password_flows());
    s.admin_user(&pool, "erin", json!([]));
    // 60 sign-ins, 12 at a time: more than the 50 kept.
    std::thread::scope(|scope| {
        for _ in 0..12 {
            scope.spawn(|| {
                for _ in 0..5 {
                    s.login(&client, "erin", PASSWORD);
                }
            });
        }
    });
    let events = s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "erin"}),
    );
    let events = events["AuthEvents"].as_array().unwrap();
    assert_eq!(events.len(), 50);
    let ids: HashSet<&str> = events
        .iter()
        .map(|e| e["EventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 50);
    // Deleting the user deletes the events with it.
    s.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "erin"}),
    );
    s.admin_user(&pool, "erin", json!([]));
    let events = s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "erin"}),
    );
    assert_eq!(events["AuthEvents"], json!([]));
}
