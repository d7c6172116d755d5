//! The hosted UI and OAuth endpoints (`cognate-oauth`'s router): query
//! strings of `/oauth2/authorize` and the pages, the forms of the login,
//! sign-up, confirm, password and MFA pages and of `/oauth2/token` and
//! `/oauth2/revoke`, cookies and `Authorization` headers, against a real
//! service with a domain. No answer may be a 5xx.
//!
//! Input: an HTTP/1.1-like request: `METHOD TARGET` on the first line,
//! then `Name: value` header lines, an empty line, and the body.
#![no_main]

use axum::body::Body;
use axum::http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

fn request(data: &[u8]) -> Option<Request<Body>> {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &b""[..]),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split('\n');
    let (method, target) = lines.next()?.split_once(' ')?;
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).ok()?)
        .uri(target);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(name.trim(), value.trim());
    }
    builder.body(Body::from(body.to_vec())).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = request(data) else {
        return;
    };
    let w = cognate_fuzz::world();
    w.rt.block_on(async {
        let router = cognate_oauth::router(w.svc.clone());
        let uri = request.uri().clone();
        let response = match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        assert!(
            !response.status().is_server_error(),
            "{uri} answered {}",
            response.status()
        );
        let _ = axum::body::to_bytes(response.into_body(), 1 << 20).await;
    });
});
