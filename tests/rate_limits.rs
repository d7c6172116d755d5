//! Rate limits against the real binary with small configured limits: a
//! burst of concurrent sign-ins from one address is cut at the burst with
//! TooManyRequestsException while another address (and, behind a trusted
//! proxy, another X-Forwarded-For client) goes on; the bucket refills at
//! its rate (in process, on a manual clock); per-user code issue and entry answer LimitExceededException,
//! for unknown names exactly as for users (no existence oracle).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{Server, CONTENT_TYPE, DUMMY_AUTHORIZATION, PASSWORD, TARGET_PREFIX};
use serde_json::{json, Value};

/// Calls an operation from `from` (a loopback address), with extra headers.
fn call_from(
    s: &Server,
    from: &str,
    headers: &[(&str, &str)],
    op: &str,
    body: &Value,
) -> (u16, Value) {
    let http = reqwest::blocking::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut req = http
        .post(format!("{}/", s.url))
        .header("Content-Type", CONTENT_TYPE)
        .header("Authorization", DUMMY_AUTHORIZATION)
        .header("X-Amz-Target", format!("{TARGET_PREFIX}{op}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.body(body.to_string()).send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap())
}

fn sign_in_body(client: &str, username: &str) -> Value {
    json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
           "AuthParameters": {"USERNAME": username, "PASSWORD": PASSWORD}})
}

/// `n` concurrent sign-ins of unknown users from `from`: how many were
/// refused with TooManyRequestsException (the rest must be UserNotFound).
fn burst(s: &Server, from: &str, headers: &[(&str, &str)], client: &str, n: usize) -> usize {
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                scope.spawn(move || {
                    call_from(
                        s,
                        from,
                        headers,
                        "InitiateAuth",
                        &sign_in_body(client, &format!("ghost{i}")),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut refused = 0;
    for (status, v) in &answers {
        assert_eq!(*status, 400, "{v}");
        match v["__type"].as_str().unwrap() {
            "TooManyRequestsException" => {
                assert_eq!(v["message"], "Too many requests");
                refused += 1;
            }
            "UserNotFoundException" => {}
            other => panic!("unexpected {other}: {v}"),
        }
    }
    refused
}

// The per-IP sign-in bucket refills at one per 100 minutes, so the counts
// below are exact however long the test runs; refilling is tested in
// process on the manual clock.
const LIMITS: &str = "rate_limits:
  sign_in_per_ip: {per_minute: 0.01, burst: 10}
  code_issue_per_user: {per_minute: 1, burst: 3}
  code_entry_per_user: {per_minute: 1, burst: 4}
";

#[test]
fn sign_ins_over_the_per_ip_burst_are_refused() {
    let s = Server::start_with_config(LIMITS);
    let (pool, client) = s.pool_and_client();
    s.admin_user(&pool, "alice", json!([]));
    // 40 in flight at once from 127.0.0.1: exactly 10 pass, the rest are
    // refused.
    assert_eq!(burst(&s, "127.0.0.1", &[], &client, 40), 30);
    // A client-supplied X-Forwarded-For changes nothing without a trusted
    // proxy: a burst of spoofed clients is refused as the address's own.
    let spoofed = burst(
        &s,
        "127.0.0.1",
        &[("X-Forwarded-For", "203.0.113.9")],
        &client,
        8,
    );
    assert_eq!(spoofed, 8);
    // Another address is unaffected, and its user signs in.
    let (status, v) = call_from(
        &s,
        "127.0.0.2",
        &[],
        "InitiateAuth",
        &sign_in_body(&client, "alice"),
    );
    assert_eq!(status, 200, "{v}");
    // Refreshing tokens is not a sign-in: not limited on an exhausted address.
    let (_, v) = call_from(
        &s,
        "127.0.0.3",
        &[],
        "InitiateAuth",
        &sign_in_body(&client, "alice"),
    );
    let refresh = v["AuthenticationResult"]["RefreshToken"].clone();
    assert_eq!(burst(&s, "127.0.0.1", &[], &client, 20), 20);
    for _ in 0..5 {
        let (status, r) = call_from(
            &s,
            "127.0.0.1",
            &[],
            "InitiateAuth",
            &json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
                    "AuthParameters": {"REFRESH_TOKEN": refresh}}),
        );
        assert_eq!(status, 200, "{r}");
    }
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let limits = "rate_limits:\n  sign_in_per_ip: {per_minute: 6, burst: 10}\n";
    let s = Server::start_with_args(&["--trust-forwarded-for".to_owned()], Some(limits));
    let (_pool, client) = s.pool_and_client();
    let first = [("X-Forwarded-For", "198.51.100.7, 203.0.113.1")];
    let refused = burst(&s, "127.0.0.1", &first, &client, 30);
    assert!((18..=20).contains(&refused), "{refused} of 30 refused");
    // The proxy's peer address is the same; the client it reports differs.
    let second = [("X-Forwarded-For", "198.51.100.7, 203.0.113.2")];
    assert_eq!(burst(&s, "127.0.0.1", &second, &client, 5), 0);
    // Only the last address counts (the first is whatever the client sent).
    let spoofed = [("X-Forwarded-For", "192.0.2.99, 203.0.113.1")];
    assert_eq!(burst(&s, "127.0.0.1", &spoofed, &client, 3), 3);
}

#[test]
fn per_user_code_limits_answer_limit_exceeded_for_known_and_unknown_names_alike() {
    let s = Server::start_with_config(LIMITS);
    let pool = s.create_pool("codes", json!({"AutoVerifiedAttributes": ["email"]}));
    let mut flows = common::password_flows();
    common::merge(&mut flows, json!({"PreventUserExistenceErrors": "ENABLED"}));
    let client = s.create_client(&pool, flows);
    s.sign_up_confirmed(&pool, &client, "bob", "bob@example.com");
    s.sign_up_confirmed(&pool, &client, "carol", "carol@example.com");
    for name in ["bob", "nobody"] {
        for _ in 0..3 {
            s.ok(
                "ForgotPassword",
                json!({"ClientId": client, "Username": name}),
            );
        }
        s.err_msg(
            "ForgotPassword",
            json!({"ClientId": client, "Username": name}),
            "LimitExceededException",
            "Attempt limit exceeded, please try after some time.",
        );
    }
    // Another user is unaffected.
    s.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "carol"}),
    );

    // Code entry: the per-user limit refuses the try after the burst (4)
    // before the code is judged, known user or not (carol spent one on
    // ConfirmSignUp).
    for (name, first_refused) in [("carol", 3), ("nobody", 4)] {
        let mut types = Vec::new();
        for _ in 0..5 {
            let (_, v) = s.call(
                "ConfirmForgotPassword",
                json!({"ClientId": client, "Username": name, "ConfirmationCode": "000000",
                       "Password": "New-Passw0rd!"}),
            );
            types.push(v["__type"].as_str().unwrap().to_owned());
        }
        assert!(
            types[first_refused..]
                .iter()
                .all(|t| t == "LimitExceededException"),
            "{name}: {types:?}"
        );
        assert!(
            types[..first_refused]
                .iter()
                .all(|t| t != "LimitExceededException"),
            "{name}: {types:?}"
        );
    }
}

#[test]
fn concurrent_code_requests_for_one_user_stop_at_the_burst() {
    let s = Server::start_with_config(LIMITS);
    let (pool, client) = s.pool_and_client();
    s.sign_up_confirmed(&pool, &client, "dave", "dave@example.com");
    let answers: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|_| {
                let client = client.clone();
                let s = &s;
                scope.spawn(move || {
                    s.call(
                        "ForgotPassword",
                        json!({"ClientId": client, "Username": "dave"}),
                    )
                    .1
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sent = answers
        .iter()
        .filter(|v| v["CodeDeliveryDetails"].is_object())
        .count();
    let limited = answers
        .iter()
        .filter(|v| v["__type"] == "LimitExceededException")
        .count();
    assert_eq!((sent, limited), (3, 21), "{answers:?}");
}

/// The per-IP bucket refills at its rate, on the service's clock: with one
/// per second and a burst of 3, three sign-ins pass, the fourth is refused,
/// 999 ms later still, at 1000 ms one more passes.
#[tokio::test]
async fn the_per_ip_bucket_refills_at_its_rate_on_the_service_clock() {
    use cognate_core::audit::{scope, RequestContext};
    use cognate_core::ratelimit::{Rate, RateLimitConfig};
    use cognate_core::ErrorKind;
    let limits = RateLimitConfig {
        sign_in_per_ip: Rate::per_second(1.0, 3),
        ..RateLimitConfig::default()
    };
    let world = common::inproc::world_with_limits(&limits).await;
    let from = |ip: &str| RequestContext {
        source_ip: Some(ip.parse().unwrap()),
        ..RequestContext::default()
    };
    let sign_in = |ip: &'static str| {
        let world = &world;
        let context = from(ip);
        async move {
            scope(context, async {
                let mut parameters = std::collections::BTreeMap::new();
                parameters.insert("USERNAME".to_owned(), "alice".to_owned());
                parameters.insert("PASSWORD".to_owned(), "Passw0rd!x".to_owned());
                world
                    .svc
                    .initiate_auth(cognate_core::service::AuthFlowInput {
                        admin_pool_id: Some(world.pool_id.clone()),
                        client_id: world.client_id.clone(),
                        flow: "ADMIN_USER_PASSWORD_AUTH".into(),
                        parameters,
                        client_metadata: Default::default(),
                    })
                    .await
                    .map(|_| ())
                    .map_err(|e| e.kind)
            })
            .await
        }
    };
    for _ in 0..3 {
        assert_eq!(sign_in("192.0.2.1").await, Ok(()));
    }
    assert_eq!(sign_in("192.0.2.1").await, Err(ErrorKind::TooManyRequests));
    // Another address has its own bucket.
    assert_eq!(sign_in("192.0.2.2").await, Ok(()));
    world.clock.advance_millis(999);
    assert_eq!(sign_in("192.0.2.1").await, Err(ErrorKind::TooManyRequests));
    world.clock.advance_millis(1);
    assert_eq!(sign_in("192.0.2.1").await, Ok(()));
    assert_eq!(sign_in("192.0.2.1").await, Err(ErrorKind::TooManyRequests));
    // Refilled up to the burst, not beyond.
    world.clock.advance_millis(60_000);
    for _ in 0..3 {
        assert_eq!(sign_in("192.0.2.1").await, Ok(()));
    }
    assert_eq!(sign_in("192.0.2.1").await, Err(ErrorKind::TooManyRequests));
}
