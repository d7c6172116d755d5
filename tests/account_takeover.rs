//! Threat protection's account takeover against a real server: the risk
//! levels recorded on auth events (cognate's score: a known address, a
//! known network, a known device, feedback), the configured action per
//! level in ENFORCED pools (NO_ACTION, MFA_IF_CONFIGURED, MFA_REQUIRED,
//! BLOCK), the notification emails and their one-click feedback links,
//! places from a geo-IP database, and concurrent sign-ins from a blocked
//! risk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{password_flows, Server, PASSWORD};
use serde_json::{json, Value};

const HOME: &str = "192.0.2.10";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// A PLUS pool in `mode` with email MFA offered (OPTIONAL), a client, and
/// the user `ann` (CONFIRMED, with an email address, no MFA of her own).
fn fixture(s: &Server, mode: &str) -> (String, String) {
    let pool = s.create_pool(
        "takeover",
        json!({"UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": mode}}),
    );
    s.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "EmailMfaConfiguration": {"Message": "Code {####}", "Subject": "Code"}}),
    );
    let client = s.create_client(&pool, password_flows());
    s.admin_user(
        &pool,
        "ann",
        json!([{"Name": "email", "Value": "ann@example.com"},
               {"Name": "email_verified", "Value": "true"}]),
    );
    (pool, client)
}

/// AdminInitiateAuth for `ann` as a server states her address and browser.
fn sign_in(pool: &str, client: &str, ip: &str, user_agent: &str) -> Value {
    json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
           "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
           "ContextData": {"IpAddress": ip, "ServerName": "app.example.com",
                           "ServerPath": "/login",
                           "HttpHeaders": [{"headerName": "User-Agent", "headerValue": user_agent}]}})
}

#[track_caller]
fn signs_in(s: &Server, pool: &str, client: &str, ip: &str, user_agent: &str) {
    let v = s.ok("AdminInitiateAuth", sign_in(pool, client, ip, user_agent));
    assert!(v["AuthenticationResult"]["AccessToken"].is_string(), "{v}");
}

/// ann's events, newest first.
fn events(s: &Server, pool: &str) -> Vec<Value> {
    s.ok(
        "AdminListUserAuthEvents",
        json!({"UserPoolId": pool, "Username": "ann"}),
    )["AuthEvents"]
        .as_array()
        .unwrap()
        .clone()
}

fn risk_configuration(s: &Server, pool: &str, actions: Value, notify: Value) {
    s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "AccountTakeoverRiskConfiguration": {
            "Actions": actions, "NotifyConfiguration": notify}}),
    );
}

fn notifications(s: &Server, pool: &str) -> Vec<Value> {
    s.messages_for(pool, "ann")
        .into_iter()
        .filter(|m| m["kind"] == "risk_notification")
        .collect()
}

/// The first link of an HTML body (the template's "this was me").
fn first_link(html: &str) -> String {
    let start = html.find("href=\"").unwrap() + 6;
    let end = html[start..].find('"').unwrap();
    html[start..start + end].replace("&amp;", "&")
}

/// A server with [`fixture`]'s pool in `mode` whose takeover actions are
/// `actions` (cognate's notification texts).
fn configured(mode: &str, actions: Value) -> (Server, String, String) {
    let s = Server::start();
    let (pool, client) = fixture(&s, mode);
    risk_configuration(
        &s,
        &pool,
        actions,
        json!({"SourceArn": "arn:aws:ses:us-east-1:111111111111:identity/security@example.com"}),
    );
    (s, pool, client)
}

#[test]
fn audit_mode_records_each_level_and_takes_no_action() {
    // A pool-wide action that AUDIT must not take.
    let (s, pool, client) = configured(
        "AUDIT",
        json!({"HighAction": {"EventAction": "BLOCK", "Notify": true}}),
    );
    signs_in(&s, &pool, &client, HOME, FIREFOX);
    signs_in(&s, &pool, &client, HOME, "curl/8.5.0");
    signs_in(&s, &pool, &client, "192.0.2.99", FIREFOX);
    signs_in(&s, &pool, &client, "203.0.113.5", FIREFOX);
    signs_in(&s, &pool, &client, "198.51.100.6", "Wget/1.21.3");
    let risks: Vec<(String, Option<String>)> = events(&s, &pool)
        .iter()
        .map(|e| {
            assert_eq!(e["EventResponse"], "Pass");
            (
                e["EventRisk"]["RiskDecision"].as_str().unwrap().to_owned(),
                e["EventRisk"]["RiskLevel"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let expect = |d: &str, l: Option<&str>| (d.to_owned(), l.map(str::to_owned));
    assert_eq!(
        risks,
        vec![
            expect("AccountTakeover", Some("High")),
            expect("AccountTakeover", Some("Medium")),
            expect("AccountTakeover", Some("Low")),
            expect("NoRisk", None),
            expect("NoRisk", None),
        ]
    );
    let newest = &events(&s, &pool)[0];
    assert_eq!(newest["EventContextData"]["IpAddress"], "198.51.100.6");
    assert_eq!(newest["EventContextData"]["DeviceName"], "Wget");
    assert!(notifications(&s, &pool).is_empty());
}

#[test]
fn enforced_actions_notifications_and_feedback_links() {
    let s = Server::start();
    let (pool, client) = fixture(&s, "ENFORCED");
    risk_configuration(
        &s,
        &pool,
        json!({"LowAction": {"EventAction": "NO_ACTION", "Notify": true},
               "MediumAction": {"EventAction": "MFA_IF_CONFIGURED", "Notify": true},
               "HighAction": {"EventAction": "BLOCK", "Notify": true}}),
        json!({"SourceArn": "arn:aws:ses:us-east-1:111111111111:identity/security@example.com",
               "ReplyTo": "help@example.com",
               "BlockEmail": {"Subject": "Blocked: {username}",
                   "HtmlBody": "<p>{device-name} at {ip-address} on {login-time}</p>\
                                <a href=\"{one-click-link-valid}\">me</a> \
                                <a href=\"{one-click-link-invalid}\">not me</a>",
                   "TextBody": "Blocked {event-id} {feedback-token}"}}),
    );
    // The first sign-in has nothing to be compared with.
    signs_in(&s, &pool, &client, HOME, FIREFOX);
    assert!(notifications(&s, &pool).is_empty());

    // Low: let in, with the NoActionEmail (cognate's text, none given).
    signs_in(&s, &pool, &client, "192.0.2.99", FIREFOX);
    let sent = notifications(&s, &pool);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["destination"], "ann@example.com");
    assert!(sent[0]["body"].as_str().unwrap().contains("192.0.2.99"));

    // Medium: a second factor she has (her email) though she never turned
    // MFA on, recorded InProgress until she answers.
    let abandoned = s.ok(
        "AdminInitiateAuth",
        sign_in(&pool, &client, "203.0.113.5", FIREFOX),
    );
    assert_eq!(abandoned["ChallengeName"], "EMAIL_OTP", "{abandoned}");
    assert_eq!(events(&s, &pool)[0]["EventResponse"], "InProgress");
    // A challenge no one answered does not make the address known.
    let v = s.ok(
        "AdminInitiateAuth",
        sign_in(&pool, &client, "203.0.113.5", FIREFOX),
    );
    assert_eq!(v["ChallengeName"], "EMAIL_OTP", "{v}");
    let pending = &events(&s, &pool)[0];
    assert_eq!(pending["EventResponse"], "InProgress");
    assert_eq!(pending["EventRisk"]["RiskLevel"], "Medium");
    let event_id = pending["EventId"].clone();
    let code = s
        .messages_for(&pool, "ann")
        .into_iter()
        .rfind(|m| m["kind"] == "mfa")
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(notifications(&s, &pool).len(), 3, "two MfaEmails");
    // The answer comes from the app's server (127.0.0.1): the event keeps
    // the address and device assessed.
    let done = s.ok(
        "AdminRespondToAuthChallenge",
        json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "EMAIL_OTP",
               "Session": v["Session"],
               "ChallengeResponses": {"USERNAME": "ann", "EMAIL_OTP_CODE": code}}),
    );
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());
    let finished = &events(&s, &pool)[0];
    assert_eq!(finished["EventId"], event_id);
    assert_eq!(finished["EventResponse"], "Pass");
    assert_eq!(finished["EventRisk"]["RiskDecision"], "AccountTakeover");
    assert_eq!(finished["EventContextData"]["IpAddress"], "203.0.113.5");
    assert_eq!(
        finished["ChallengeResponses"],
        json!([{"ChallengeName": "Password", "ChallengeResponse": "Success"},
               {"ChallengeName": "Mfa", "ChallengeResponse": "Success"}])
    );

    // High: blocked, with the BlockEmail; the device name the attacker's
    // User-Agent gives stays text in the HTML.
    s.err_msg(
        "AdminInitiateAuth",
        sign_in(
            &pool,
            &client,
            "198.51.100.4",
            "<img src=x onerror=alert(1)>",
        ),
        "NotAuthorizedException",
        "Unable to login because of security reasons.",
    );
    let blocked = &events(&s, &pool)[0];
    assert_eq!(blocked["EventResponse"], "Fail");
    assert_eq!(
        blocked["EventRisk"],
        json!({"RiskDecision": "Block", "RiskLevel": "High",
               "CompromisedCredentialsDetected": false})
    );
    let mail = notifications(&s, &pool).pop().unwrap();
    assert_eq!(mail["subject"], "Blocked: ann");
    let html = mail["html_body"].as_str().unwrap();
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("198.51.100.4"), "{html}");
    assert_eq!(
        mail["body"].as_str().unwrap(),
        format!(
            "Blocked {} {}",
            blocked["EventId"].as_str().unwrap(),
            blocked["FeedbackToken"].as_str().unwrap()
        )
    );
    // The same address and device keep being blocked.
    s.err(
        "AdminInitiateAuth",
        sign_in(
            &pool,
            &client,
            "198.51.100.4",
            "<img src=x onerror=alert(1)>",
        ),
        "NotAuthorizedException",
    );

    // "This was me": the page asks first, the button records it.
    let valid = first_link(html);
    assert!(
        valid.starts_with(&format!("{}/risk-feedback?", s.url)),
        "{valid}"
    );
    let page = s.http().get(&valid).send().unwrap();
    assert_eq!(page.status(), 200);
    let form = page.text().unwrap();
    assert!(form.contains("This was me"), "{form}");
    let before = events(&s, &pool);
    assert!(before.iter().all(|e| e["EventFeedback"].is_null()));
    let query = valid.split_once('?').unwrap().1.to_owned();
    let posted = s
        .http()
        .post(format!("{}/risk-feedback", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query.clone())
        .send()
        .unwrap();
    assert_eq!(posted.status(), 200);
    assert!(posted.text().unwrap().contains("recorded"));
    let marked = events(&s, &pool)
        .into_iter()
        .find(|e| e["EventId"] == blocked["EventId"])
        .unwrap();
    assert_eq!(marked["EventFeedback"]["FeedbackValue"], "Valid");
    assert_eq!(marked["EventFeedback"]["Provider"], "User");
    // Her address now: no risk.
    signs_in(&s, &pool, &client, "198.51.100.4", FIREFOX);

    // A link whose token was tampered with records nothing.
    let forged = query
        .replace("value=Valid", "value=Invalid")
        .replace("token=", "token=x");
    let refused = s
        .http()
        .post(format!("{}/risk-feedback", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(forged)
        .send()
        .unwrap();
    assert_eq!(refused.status(), 400);
    let still = events(&s, &pool)
        .into_iter()
        .find(|e| e["EventId"] == blocked["EventId"])
        .unwrap();
    assert_eq!(still["EventFeedback"]["FeedbackValue"], "Valid");

    // "This was not me" (an administrator's here) makes that address High
    // wherever it signed in before.
    let low = events(&s, &pool)
        .into_iter()
        .find(|e| e["EventContextData"]["IpAddress"] == "192.0.2.99")
        .unwrap();
    s.ok(
        "AdminUpdateAuthEventFeedback",
        json!({"UserPoolId": pool, "Username": "ann", "EventId": low["EventId"],
               "FeedbackValue": "Invalid"}),
    );
    s.err_msg(
        "AdminInitiateAuth",
        sign_in(&pool, &client, "192.0.2.99", FIREFOX),
        "NotAuthorizedException",
        "Unable to login because of security reasons.",
    );
}

#[test]
fn mfa_required_blocks_a_user_without_a_factor_and_mfa_if_configured_lets_her_in() {
    let s = Server::start();
    let pool = s.create_pool(
        "no-mfa",
        json!({"UserPoolTier": "PLUS",
               "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}),
    );
    let client = s.create_client(&pool, password_flows());
    s.admin_user(
        &pool,
        "ann",
        json!([{"Name": "email", "Value": "ann@example.com"}]),
    );
    // MFA is OFF: no factor is possible.
    risk_configuration(
        &s,
        &pool,
        json!({"LowAction": {"EventAction": "MFA_IF_CONFIGURED", "Notify": false},
               "HighAction": {"EventAction": "MFA_REQUIRED", "Notify": false}}),
        json!({"SourceArn": "arn:aws:ses:us-east-1:111111111111:identity/example.com"}),
    );
    signs_in(&s, &pool, &client, HOME, FIREFOX);
    signs_in(&s, &pool, &client, "192.0.2.50", FIREFOX);
    s.err_msg(
        "AdminInitiateAuth",
        sign_in(&pool, &client, "203.0.113.9", "curl/8.5.0"),
        "NotAuthorizedException",
        "Unable to login because of security reasons.",
    );
    // An address of the always-allow list is not assessed.
    s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool,
               "AccountTakeoverRiskConfiguration": {"Actions": {
                   "HighAction": {"EventAction": "BLOCK", "Notify": false}}},
               "RiskExceptionConfiguration": {"SkippedIPRangeList": ["203.0.113.0/24"]}}),
    );
    signs_in(&s, &pool, &client, "203.0.113.9", "curl/8.5.0");
    assert_eq!(events(&s, &pool)[0]["EventRisk"]["RiskDecision"], "NoRisk");
    assert!(notifications(&s, &pool).is_empty());
}

#[test]
fn concurrent_sign_ins_at_a_blocked_risk_all_get_no_tokens() {
    let (s, pool, client) = configured(
        "ENFORCED",
        json!({"HighAction": {"EventAction": "BLOCK", "Notify": false}}),
    );
    signs_in(&s, &pool, &client, HOME, FIREFOX);
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let (s, pool, client) = (&s, &pool, &client);
                scope.spawn(move || {
                    s.call(
                        "AdminInitiateAuth",
                        sign_in(pool, client, &format!("203.0.113.{}", i + 1), "curl/8.5.0"),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, body) in &answers {
        assert_eq!(*status, 400, "{body}");
        assert_eq!(
            body["message"],
            "Unable to login because of security reasons."
        );
    }
    let blocked = events(&s, &pool)
        .into_iter()
        .filter(|e| e["EventRisk"]["RiskDecision"] == "Block")
        .count();
    assert_eq!(blocked, 24);
    // Her own address still signs in.
    signs_in(&s, &pool, &client, HOME, FIREFOX);
}

/// A server placing three networks with a geo-IP database.
fn placed_server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let place = |network, city, country, time_zone| common::mmdb::Place {
        network,
        city,
        country,
        time_zone,
    };
    let db = common::mmdb::write(
        dir.path(),
        "places.mmdb",
        &[
            place("192.0.2.0/24", "Paris", "France", "Europe/Paris"),
            place("198.51.100.0/24", "Lyon", "France", "Europe/Paris"),
            place("203.0.113.0/24", "Sydney", "Australia", "Australia/Sydney"),
        ],
    );
    let s = Server::start_with_flags(&["--geoip-database", db.to_str().unwrap()]);
    (s, dir)
}

#[test]
fn a_geo_ip_database_places_events_notifications_and_a_known_country() {
    let (s, _dir) = placed_server();
    let (pool, client) = fixture(&s, "ENFORCED");
    let notice = json!({"EventAction": "NO_ACTION", "Notify": true});
    risk_configuration(
        &s,
        &pool,
        json!({"LowAction": notice, "MediumAction": notice, "HighAction": notice}),
        json!({"SourceArn": "arn:aws:ses:us-east-1:111111111111:identity/example.com",
               "NoActionEmail": {"Subject": "New sign-in",
                                 "TextBody": "{city}|{country}|{ip-address}"}}),
    );
    s.ok(
        "SetUserPoolSessionConfiguration",
        json!({"UserPoolId": pool, "UserSessionTracking": "ENABLED",
               "TokenSession": {"MaxPerUser": 20}}),
    );
    signs_in(&s, &pool, &client, HOME, FIREFOX);
    let first = &events(&s, &pool)[0];
    assert_eq!(
        first["EventContextData"],
        json!({"IpAddress": HOME, "DeviceName": "Firefox on Linux", "City": "Paris",
               "Country": "France", "Timezone": "Europe/Paris"})
    );
    // A new network on a new device, in a country she signed in from:
    // Medium, not High.
    signs_in(&s, &pool, &client, "198.51.100.4", "Wget/1.21.3");
    // A new network, device and country: High.
    signs_in(&s, &pool, &client, "203.0.113.9", "curl/8.5.0");
    // An address the database does not place.
    signs_in(&s, &pool, &client, "100.64.0.1", "HTTPie/3.2");
    let all = events(&s, &pool);
    let levels: Vec<&str> = all
        .iter()
        .map(|e| e["EventRisk"]["RiskLevel"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(levels, ["High", "High", "Medium", "-"]);
    assert!(
        all[0]["EventContextData"].get("City").is_none(),
        "{}",
        all[0]
    );
    // The sessions' LastLocation, by the same database.
    let sessions = s.ok(
        "AdminListUserSessions",
        json!({"UserPoolId": pool, "Username": "ann"}),
    )["Sessions"]
        .as_array()
        .unwrap()
        .clone();
    let located = |ip: &str| {
        sessions
            .iter()
            .find(|x| x["LastIPAddress"] == ip)
            .unwrap_or_else(|| panic!("a session from {ip}: {sessions:?}"))["LastLocation"]
            .clone()
    };
    assert_eq!(located(HOME), json!({"City": "Paris", "Country": "France"}));
    assert_eq!(
        located("203.0.113.9"),
        json!({"City": "Sydney", "Country": "Australia"})
    );
    assert_eq!(located("100.64.0.1"), json!({"Country": "unknown"}));
    let bodies: Vec<String> = notifications(&s, &pool)
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        bodies,
        [
            "Lyon|France|198.51.100.4",
            "Sydney|Australia|203.0.113.9",
            "||100.64.0.1"
        ]
    );
}

#[test]
fn a_file_that_is_not_a_geo_ip_database_stops_the_server_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-database.mmdb");
    std::fs::write(&path, "just text").unwrap();
    let stderr = common::refused_start(&["--geoip-database", path.to_str().unwrap()], &[]);
    assert!(
        stderr.contains("not-a-database.mmdb: not a MaxMind DB"),
        "{stderr}"
    );
}
