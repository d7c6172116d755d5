//! The gateway's defences, on real sockets with raw HTTP/1.1 written by
//! hand (an HTTP client library would normalise the very paths and headers
//! under test): the verified claim headers always reach the backend whatever
//! the client's `Connection` header names; a route is matched on the path
//! that is forwarded; spoofed `x_cognate_*` spellings never reach the
//! backend; metric labels stay bounded; the listener's limits hold.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::routing::any;
use axum::{Json, Router};
use cognate_crypto::SigningKey;
use cognate_gateway::{Gateway, GatewayConfig, LocalPools};
use cognate_token::{JwksSource, KeySet, Revocation, StaticJwks};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const POOL: &str = "us-east-1_Example";
const CLIENT: &str = "3c4v73qlc19bp0mevm94f5a4co";

struct Local {
    keys: KeySet,
}

impl LocalPools for Local {
    fn issuer(&self, pool_id: &str) -> String {
        format!("http://issuer.test/{pool_id}")
    }
    fn jwks(&self, _pool_id: &str) -> Arc<dyn JwksSource> {
        Arc::new(StaticJwks(self.keys.clone()))
    }
    fn revocation(&self, _pool_id: &str) -> Option<Arc<dyn Revocation>> {
        None
    }
}

/// Requests in flight at the upstream now, and the most seen at once.
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    most: AtomicUsize,
}

/// Answers with what it received: method, raw path, query, headers, body
/// and trailers; `/slow` waits 100 ms first and counts requests in flight.
async fn echo_upstream() -> (SocketAddr, Arc<InFlight>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inflight = Arc::new(InFlight::default());
    let counted = inflight.clone();
    let app = Router::new()
        .route(
            "/slow",
            any(move || {
                let c = counted.clone();
                async move {
                    let n = c.now.fetch_add(1, Ordering::SeqCst) + 1;
                    c.most.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    c.now.fetch_sub(1, Ordering::SeqCst);
                    "slow"
                }
            }),
        )
        .fallback(any(|req: Request| async move {
            let (parts, body) = req.into_parts();
            let collected = body.collect().await.unwrap();
            let trailers: serde_json::Map<String, Value> = collected
                .trailers()
                .map(|t| {
                    t.iter()
                        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("<bytes>"))))
                        .collect()
                })
                .unwrap_or_default();
            let body = collected.to_bytes();
            let headers: serde_json::Map<String, Value> = parts
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("<bytes>"))))
                .collect();
            Json(json!({
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "query": parts.uri.query(),
                "headers": headers,
                "trailers": trailers,
                "body": String::from_utf8_lossy(&body),
            }))
        }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, inflight)
}

struct Env {
    addr: SocketAddr,
    key: SigningKey,
    upstream: Arc<InFlight>,
}

impl Env {
    fn token(&self) -> String {
        let now = cognate_token::now_secs();
        self.key
            .sign(&json!({
                "sub": "user-1", "aud": CLIENT, "iss": format!("http://issuer.test/{POOL}"),
                "token_use": "id", "cognito:username": "joe", "iat": now, "auth_time": now,
                "exp": now + 3600,
            }))
            .unwrap()
    }

    async fn metrics(&self) -> String {
        let r = send(self.addr, &request("GET", "/metrics", &[])).await;
        assert_eq!(r.status, 200);
        String::from_utf8(r.body).unwrap()
    }
}

/// `GET /dev/echo` (and `POST`) need a token; everything else under `/dev`
/// is public, proxied to the same upstream. `extra` adds top-level keys.
async fn start(extra: &str) -> Env {
    let (upstream, inflight) = echo_upstream().await;
    let key = SigningKey::generate().unwrap();
    let keys = KeySet::from_jwks_json(&json!({"keys": [key.jwk()]})).unwrap();
    let yaml = format!(
        r#"
{extra}
apis:
  - name: demo
    stage: dev
    authorizers:
      pool: {{type: cognito, pools: [{POOL}], clients: [{CLIENT}]}}
    routes:
      - {{method: GET, path: /echo, authorizer: pool, integration: {{type: http, url: "http://{upstream}"}}}}
      - {{method: POST, path: /echo, authorizer: pool, integration: {{type: http, url: "http://{upstream}"}}}}
      - {{method: GET, path: "/items/{{id}}", authorizer: pool, integration: {{type: http, url: "http://{upstream}"}}}}
      - {{method: ANY, path: "/{{proxy+}}", integration: {{type: http, url: "http://{upstream}"}}}}
"#
    );
    let config: GatewayConfig = serde_norway::from_str(&yaml).unwrap();
    let gateway = Gateway::build(&config, Some(Arc::new(Local { keys }))).unwrap();
    // Dropping the shutdown sender leaves the workers running until the
    // test process ends.
    let (_, shutdown) = tokio::sync::watch::channel(false);
    let workers = config.workers.unwrap_or(2);
    let running =
        cognate_gateway::spawn(gateway, "127.0.0.1:0".parse().unwrap(), workers, shutdown).unwrap();
    Env {
        addr: running.local_addr,
        key,
        upstream: inflight,
    }
}

/// A request as bytes: `headers` are written as given (any spelling).
fn request(method: &str, target: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut r = format!("{method} {target} HTTP/1.1\r\nHost: gateway.test\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Reads one response (with a `Content-Length`, or up to the end of the
/// connection); `None` when the connection ends before a status line.
async fn read_reply(s: &mut TcpStream) -> Option<Reply> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let read = async {
        loop {
            let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n");
            if let Some(end) = head_end {
                let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                let length = head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().unwrap())
                });
                if let Some(len) = length {
                    if buf.len() >= end + 4 + len {
                        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                        let body = buf[end + 4..end + 4 + len].to_vec();
                        return Some(Reply { status, head, body });
                    }
                }
            }
            let n = s.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
                let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                let body = buf[end + 4..].to_vec();
                return Some(Reply { status, head, body });
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("no answer within 10 s")
}

/// One request on a new connection.
async fn send(addr: SocketAddr, bytes: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    read_reply(&mut s).await.expect("connection closed")
}

/// Every header of an echo whose name, `_` read as `-`, starts with
/// `x-cognate-`.
fn cognate_headers(echo: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = echo["headers"]
        .as_object()
        .unwrap()
        .iter()
        .chain(echo["trailers"].as_object().unwrap())
        .filter(|(k, _)| {
            k.replace('_', "-")
                .to_ascii_lowercase()
                .starts_with("x-cognate-")
        })
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    found.sort();
    found
}

/// The backend got exactly the gateway's verified claim headers.
fn assert_verified_claims(echo: &Value, what: &str) {
    let h = &echo["headers"];
    assert_eq!(h["x-cognate-claim-sub"], "user-1", "{what}: {echo}");
    assert_eq!(
        h["x-cognate-claim-cognito-username"], "joe",
        "{what}: {echo}"
    );
    let all: Value = serde_json::from_str(
        h["x-cognate-claims"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no x-cognate-claims in {echo}")),
    )
    .unwrap();
    assert_eq!(all["sub"], "user-1", "{what}");
    for (k, v) in cognate_headers(echo) {
        assert!(
            !v.contains("victim"),
            "{what}: {k}: {v} reached the backend"
        );
        assert!(
            k.starts_with("x-cognate-claim"),
            "{what}: {k} reached the backend"
        );
    }
}

#[tokio::test]
async fn connection_header_cannot_remove_the_verified_claim_headers() {
    let env = start("").await;
    let auth = format!("Bearer {}", env.token());
    let auth = auth.as_str();
    let chunked_with_trailer = |connection: &str| {
        let mut r = request(
            "POST",
            "/dev/echo",
            &[
                ("Authorization", auth),
                ("Connection", connection),
                ("Trailer", "x-cognate-claim-sub, X-Cognate-Claims"),
                ("Transfer-Encoding", "chunked"),
            ],
        );
        r.extend_from_slice(
            b"5\r\nhello\r\n0\r\nx-cognate-claim-sub: victim\r\nx-cognate-claims: {\"sub\":\"victim\"}\r\n\r\n",
        );
        r
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "Connection names both claim headers",
            request(
                "GET",
                "/dev/echo",
                &[
                    ("Authorization", auth),
                    ("Connection", "x-cognate-claim-sub, x-cognate-claims"),
                ],
            ),
        ),
        (
            "close and the JSON header",
            request(
                "GET",
                "/dev/echo",
                &[
                    ("Authorization", auth),
                    ("Connection", "close, x-cognate-claims"),
                ],
            ),
        ),
        (
            "mixed case over two Connection lines",
            request(
                "GET",
                "/dev/echo",
                &[
                    ("Authorization", auth),
                    ("Connection", "keep-alive, X-Cognate-Claim-Sub"),
                    (
                        "connection",
                        "X-COGNATE-CLAIMS,x-cognate-claim-cognito-username",
                    ),
                ],
            ),
        ),
        (
            "Upgrade",
            request(
                "GET",
                "/dev/echo",
                &[
                    ("Authorization", auth),
                    (
                        "Connection",
                        "Upgrade, x-cognate-claim-sub, x-cognate-claims",
                    ),
                    ("Upgrade", "websocket"),
                ],
            ),
        ),
        (
            "TE",
            request(
                "GET",
                "/dev/echo",
                &[
                    ("Authorization", auth),
                    ("Connection", "TE, x-cognate-claims, x-cognate-claim-sub"),
                    ("TE", "trailers"),
                ],
            ),
        ),
        (
            "Trailer with forged trailer fields",
            chunked_with_trailer("Trailer, x-cognate-claim-sub, x-cognate-claims"),
        ),
        (
            "forged trailer fields without Connection tricks",
            chunked_with_trailer("keep-alive"),
        ),
        (
            "forged headers named by Connection",
            request(
                "GET",
                "/dev/echo",
                &[
                    ("Authorization", auth),
                    ("x-cognate-claim-sub", "victim"),
                    ("Connection", "x-cognate-claim-sub"),
                ],
            ),
        ),
    ];
    // All in flight at once, each on its own connection.
    let mut tasks = tokio::task::JoinSet::new();
    for (what, bytes) in cases {
        let addr = env.addr;
        tasks.spawn(async move { (what, send(addr, &bytes).await) });
    }
    while let Some(done) = tasks.join_next().await {
        let (what, reply) = done.unwrap();
        assert_eq!(reply.status, 200, "{what}: {}", reply.head);
        let echo = reply.json();
        assert_verified_claims(&echo, what);
        for hop in ["connection", "upgrade", "te", "trailer", "keep-alive"] {
            assert!(
                echo["headers"].get(hop).is_none(),
                "{what}: {hop} forwarded"
            );
        }
    }

    // Other headers a client names in `Connection` are still dropped, and
    // its token header is still checked first.
    let reply = send(
        env.addr,
        &request(
            "GET",
            "/dev/echo",
            &[
                ("Authorization", auth),
                ("Connection", "x-hop"),
                ("x-hop", "1"),
            ],
        ),
    )
    .await;
    let echo = reply.json();
    assert!(echo["headers"].get("x-hop").is_none(), "{echo}");
    assert_verified_claims(&echo, "x-hop");
    let reply = send(
        env.addr,
        &request("GET", "/dev/echo", &[("Connection", "x-cognate-claims")]),
    )
    .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn routes_are_matched_on_the_path_that_is_forwarded() {
    let env = start("").await;
    let auth = format!("Bearer {}", env.token());
    // Forms of `/dev/echo` (protected) that the public `/dev/{proxy+}` must
    // not take: refused without a token, the backend sees `/echo` with one.
    let same = [
        "/dev/%65cho",
        "/dev/ech%6F",
        "/dev/ech%6f",
        "/dev/%65%63%68%6F",
        "/dev/./echo",
        "/dev/x/../echo",
        "/dev/x/y/../../echo",
        "/dev//echo",
        "//dev///echo",
        "/dev/echo/.",
        "/dev/../dev/echo",
        "/%64ev/echo",
        "/dev/%65cho?q=%2F..%2e",
    ];
    // Ambiguous encodings: refused outright, token or not.
    let refused = [
        "/dev/%2e/echo",
        "/dev/%2E/echo",
        "/dev/%2E%2E/dev/echo",
        "/dev/x/%2e%2e/echo",
        "/dev/x/.%2e/echo",
        "/dev/x/%2E./echo",
        "/dev/x%2F..%2Fecho",
        "/dev/x/..%2Fecho",
        "/dev%2Fecho",
        "/dev/%5Cecho",
        "/dev/x/..%5Cecho",
        "/dev/x\\..\\echo",
        "/dev/echo%00",
        "/dev/echo%0a",
        "/dev/ech%6",
        "/dev/ech%zz",
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for (path, expect) in same
        .iter()
        .map(|p| (*p, "same"))
        .chain(refused.iter().map(|p| (*p, "refused")))
    {
        for with_token in [false, true] {
            let addr = env.addr;
            let auth = auth.clone();
            tasks.spawn(async move {
                let headers: Vec<(&str, &str)> = if with_token {
                    vec![("Authorization", auth.as_str())]
                } else {
                    vec![]
                };
                let reply = send(addr, &request("GET", path, &headers)).await;
                (path, expect, with_token, reply)
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        let (path, expect, with_token, reply) = done.unwrap();
        let body = String::from_utf8_lossy(&reply.body).into_owned();
        match (expect, with_token) {
            ("same", false) => assert_eq!(reply.status, 401, "{path}: {body}"),
            ("same", true) => {
                assert_eq!(reply.status, 200, "{path}: {body}");
                let echo = reply.json();
                let expected = if path.ends_with("/.") {
                    "/echo/"
                } else {
                    "/echo"
                };
                assert_eq!(echo["path"], expected, "{path}");
                assert_verified_claims(&echo, path);
                if path.contains('?') {
                    assert_eq!(echo["query"], "q=%2F..%2e", "{path}");
                }
            }
            (_, _) => {
                assert_eq!(reply.status, 400, "{path} (token: {with_token}): {body}");
                assert_eq!(reply.json(), json!({"message": "Bad Request"}), "{path}");
            }
        }
    }

    // The protected template with a parameter: `/dev/items/{id}` is not
    // reachable as `/dev/items/1/` or `/dev/%69tems/1` without a token.
    for path in ["/dev/items/1/", "/dev/%69tems/1", "/dev/items/./1"] {
        let reply = send(env.addr, &request("GET", path, &[])).await;
        assert_eq!(reply.status, 401, "{path}");
    }

    // Public paths still pass, forwarded in one canonical encoding.
    for (path, forwarded) in [
        ("/dev/other", "/other"),
        ("/dev/a/b/../c", "/a/c"),
        ("/dev/%7Euser/file%2Etxt", "/~user/file.txt"),
        ("/dev/a%20b/caf%c3%a9", "/a%20b/caf%C3%A9"),
        ("/dev/x:y@z;p=1,2", "/x:y@z;p=1,2"),
        ("/dev/100%25", "/100%25"),
        ("/dev/q%3Fx%23y", "/q%3Fx%23y"),
        ("/dev/dir/", "/dir/"),
        ("/dev/%7B%22a%22%7D", "/%7B%22a%22%7D"),
        ("/dev/{\"a\"}", "/%7B%22a%22%7D"),
    ] {
        let reply = send(env.addr, &request("GET", path, &[])).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.head);
        assert_eq!(reply.json()["path"], forwarded, "{path}");
    }
    // Bad paths are counted under bounded labels.
    let m = env.metrics().await;
    assert!(
        m.contains(
            r#"cognate_gateway_requests_total{api="",method="GET",route="unmatched",status="400"}"#
        ),
        "{m}"
    );
}

#[tokio::test]
async fn claim_headers_spelled_with_underscores_never_reach_the_backend() {
    let env = start("").await;
    let auth = format!("Bearer {}", env.token());
    let spoofs = [
        ("x_cognate_claim_sub", "victim"),
        ("X_Cognate_Claims", r#"{"sub":"victim"}"#),
        ("x-cognate_claim-email", "victim@example.com"),
        ("X_COGNATE-CLAIM-SUB", "victim"),
        ("x-cognate_claim_cognito_username", "victim"),
        ("x_cognate_anything", "victim"),
    ];
    // With a token on the protected route, and without one on the public one.
    for (path, token) in [("/dev/echo", true), ("/dev/public", false)] {
        let mut headers = spoofs.to_vec();
        if token {
            headers.push(("Authorization", auth.as_str()));
        }
        let reply = send(env.addr, &request("GET", path, &headers)).await;
        assert_eq!(reply.status, 200, "{path}");
        let echo = reply.json();
        let got = cognate_headers(&echo);
        if token {
            assert_verified_claims(&echo, path);
        } else {
            assert_eq!(got, Vec::<(String, String)>::new(), "{path}");
        }
        assert!(
            !echo["headers"].to_string().contains("victim"),
            "{path}: {echo}"
        );
    }
    // Other underscore headers pass as they are.
    let reply = send(
        env.addr,
        &request("GET", "/dev/public", &[("x_request_id", "abc")]),
    )
    .await;
    assert_eq!(reply.json()["headers"]["x_request_id"], "abc");
}

#[tokio::test]
async fn metric_labels_stay_bounded_under_extension_methods() {
    let env = start("").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let addr = env.addr;
        tasks.spawn(async move {
            let routed = send(addr, &request(&format!("FOO{i}"), "/dev/anything", &[])).await;
            let unmatched = send(addr, &request(&format!("BAR{i}"), "/nowhere", &[])).await;
            (routed.status, unmatched.status)
        });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.unwrap(), (200, 404));
    }
    let m = env.metrics().await;
    let series: Vec<&str> = m
        .lines()
        .filter(|l| l.starts_with("cognate_gateway_requests_total{"))
        .collect();
    assert!(
        series.contains(
            &r#"cognate_gateway_requests_total{api="demo",method="other",route="/dev/{proxy+}",status="200"} 50"#
        ),
        "{m}"
    );
    assert!(
        series.contains(
            &r#"cognate_gateway_requests_total{api="",method="other",route="unmatched",status="404"} 50"#
        ),
        "{m}"
    );
    assert!(
        !m.contains("FOO") && !m.contains("BAR"),
        "an extension method became a label:\n{m}"
    );
    assert_eq!(series.len(), 2, "{m}");
}

#[tokio::test]
async fn a_slowloris_client_is_disconnected_at_the_header_read_timeout() {
    let env = start("header_read_timeout_ms: 400").await;
    // A normal request is not affected by the short timeout.
    let reply = send(env.addr, &request("GET", "/dev/ok", &[])).await;
    assert_eq!(reply.status, 200);

    // One header byte every 50 ms: never a complete head.
    let mut s = TcpStream::connect(env.addr).await.unwrap();
    let started = Instant::now();
    let trickle = b"GET /dev/ok HTTP/1.1\r\nHost: gateway.test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut closed_at = None;
    for b in trickle {
        if s.write_all(&[*b]).await.is_err() {
            closed_at = Some(started.elapsed());
            break;
        }
        // Closed by the gateway: the read ends (EOF or reset) at once.
        let mut one = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(50), s.read(&mut one)).await {
            Ok(Ok(_)) | Ok(Err(_)) => {
                closed_at = Some(started.elapsed());
                break;
            }
            Err(_) => {}
        }
    }
    let closed_at = closed_at.expect("the slow client was never disconnected");
    assert!(
        closed_at >= Duration::from_millis(350) && closed_at < Duration::from_millis(2000),
        "disconnected after {closed_at:?}"
    );

    // An idle kept-alive connection is closed after the same time.
    let mut s = TcpStream::connect(env.addr).await.unwrap();
    s.write_all(&request("GET", "/dev/ok", &[])).await.unwrap();
    assert_eq!(read_reply(&mut s).await.unwrap().status, 200);
    let idle = Instant::now();
    assert!(read_reply(&mut s).await.is_none());
    assert!(
        idle.elapsed() < Duration::from_millis(2000),
        "{:?}",
        idle.elapsed()
    );
}

#[tokio::test]
async fn oversized_or_too_many_headers_answer_431() {
    let env = start("max_header_bytes: 8192").await;
    let small = "a".repeat(4000);
    let big = "a".repeat(10_000);
    let reply = send(env.addr, &request("GET", "/dev/ok", &[("x-big", &small)])).await;
    assert_eq!(reply.status, 200);
    let reply = send(env.addr, &request("GET", "/dev/ok", &[("x-big", &big)])).await;
    assert_eq!(reply.status, 431, "{}", reply.head);
    // Many small headers adding up to too much.
    let many: Vec<(String, String)> = (0..90)
        .map(|i| (format!("x-h{i}"), "b".repeat(120)))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        send(env.addr, &request("GET", "/dev/ok", &many))
            .await
            .status,
        431
    );
    // More than 100 headers, however small.
    let names: Vec<String> = (0..120).map(|i| format!("x-n{i}")).collect();
    let count: Vec<(&str, &str)> = names.iter().map(|k| (k.as_str(), "1")).collect();
    assert_eq!(
        send(env.addr, &request("GET", "/dev/ok", &count))
            .await
            .status,
        431
    );

    // The default limit is 32 KiB.
    let env = start("").await;
    let near = "a".repeat(30_000);
    let over = "a".repeat(34_000);
    assert_eq!(
        send(env.addr, &request("GET", "/dev/ok", &[("x-big", &near)]))
            .await
            .status,
        200
    );
    assert_eq!(
        send(env.addr, &request("GET", "/dev/ok", &[("x-big", &over)]))
            .await
            .status,
        431
    );
}

#[tokio::test]
async fn connections_over_the_limit_wait_until_one_closes() {
    let env = start("workers: 1\nmax_connections: 2").await;
    // Two kept-alive connections take both places.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(env.addr).await.unwrap();
        s.write_all(&request("GET", "/dev/ok", &[])).await.unwrap();
        assert_eq!(read_reply(&mut s).await.unwrap().status, 200);
        held.push(s);
    }
    // A third is not served while they stay open...
    let mut third = TcpStream::connect(env.addr).await.unwrap();
    third
        .write_all(&request("GET", "/dev/ok", &[]))
        .await
        .unwrap();
    let mut one = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), third.read(&mut one))
            .await
            .is_err(),
        "served over the limit"
    );
    // ...and is as soon as one closes.
    drop(held.pop());
    let started = Instant::now();
    let reply = read_reply(&mut third).await.unwrap();
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() < Duration::from_secs(3));

    // Dozens of clients at once over two workers with four places: all are
    // served, never more than four at a time.
    let env = start("workers: 2\nmax_connections: 4").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let addr = env.addr;
        tasks.spawn(async move {
            send(
                addr,
                &request("GET", "/dev/slow", &[("Connection", "close")]),
            )
            .await
            .status
        });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.unwrap(), 200);
    }
    let most = env.upstream.most.load(Ordering::SeqCst);
    assert!((1..=4).contains(&most), "{most} requests at once");
}

#[test]
fn limits_are_validated() {
    let build = |yaml: &str| -> String {
        let c: GatewayConfig = serde_norway::from_str(yaml).unwrap();
        match Gateway::build(&c, None) {
            Ok(_) => String::new(),
            Err(e) => e.0,
        }
    };
    assert!(build("max_connections: 0").contains("gateway.max_connections"));
    assert!(build("header_read_timeout_ms: 0").contains("gateway.header_read_timeout_ms"));
    assert!(build("header_read_timeout_ms: 18446744073709551615")
        .contains("gateway.header_read_timeout_ms"));
    assert!(build("max_header_bytes: 100").contains("gateway.max_header_bytes"));
    assert!(build("max_header_bytes: 100000000").contains("gateway.max_header_bytes"));
    assert_eq!(
        build("max_connections: 1\nheader_read_timeout_ms: 1\nmax_header_bytes: 1024"),
        ""
    );
}
