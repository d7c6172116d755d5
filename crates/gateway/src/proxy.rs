//! The `http` integration: a reverse proxy over hyper-util's pooled client
//! (keep-alive), streaming bodies both ways, with hop-by-hop headers removed,
//! `X-Forwarded-For/Proto/Host` set and a timeout to the response headers.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub type HttpClient = Client<HttpConnector, Body>;

thread_local! {
    /// One connection pool per thread: a pooled upstream connection is
    /// driven by a task of the thread that opened it, so requests of a
    /// gateway worker never wake another thread to reach their upstream.
    static CLIENT: HttpClient = client();
}

fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(connector)
}

/// Where an `http` integration sends requests.
#[derive(Clone, Debug)]
pub struct Upstream {
    /// `http://host:port`
    pub origin: String,
    authority: Authority,
    /// The `Host` header sent upstream (`host[:port]`, the port left out
    /// when it is 80), made once rather than by the client per request.
    host: HeaderValue,
    /// Base path without a trailing slash ("" for none).
    pub base_path: String,
    pub timeout: Duration,
}

impl Upstream {
    pub fn parse(url: &str, timeout: Duration) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|_| format!("invalid integration url `{url}`"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!(
                "integration url `{url}`: only http:// upstreams are supported"
            ));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("integration url `{url}` has no host"))?;
        if uri.query().is_some() {
            return Err(format!("integration url `{url}` must not have a query"));
        }
        let host = match authority.port_u16() {
            Some(port) if port != 80 => format!("{}:{port}", authority.host()),
            _ => authority.host().to_owned(),
        };
        Ok(Upstream {
            origin: format!("http://{authority}"),
            host: HeaderValue::try_from(host)
                .map_err(|_| format!("integration url `{url}` has an invalid host"))?,
            authority: authority.clone(),
            base_path: uri.path().trim_end_matches('/').to_owned(),
            timeout,
        })
    }

    /// The upstream URI of `incoming` without `stage_prefix`: the incoming
    /// path and query are reused as they are (no copy) when there is
    /// neither a stage nor a base path to change.
    fn uri(&self, incoming: &Uri, stage_prefix: &str) -> Result<Uri, http::Error> {
        let full = incoming.path();
        let path = full.strip_prefix(stage_prefix).unwrap_or(full);
        let reuse = self.base_path.is_empty() && path.len() == full.len() && !path.is_empty();
        let path_and_query = match incoming.path_and_query() {
            Some(pq) if reuse => pq.clone(),
            _ => {
                let query = incoming.query();
                let mut s = String::with_capacity(
                    self.base_path.len() + path.len() + 1 + query.map_or(0, |q| q.len() + 1),
                );
                s.push_str(&self.base_path);
                s.push_str(if path.is_empty() { "/" } else { path });
                if let Some(q) = query {
                    s.push('?');
                    s.push_str(q);
                }
                PathAndQuery::try_from(s)?
            }
        };
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(Scheme::HTTP);
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Ok(Uri::from_parts(parts)?)
    }
}

const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Removes hop-by-hop headers, including those the `Connection` header names
/// (the usual `keep-alive` and `close` options need no lookup, so the common
/// case allocates nothing).
pub fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let mut named: Vec<HeaderName> = Vec::new();
    for value in headers.get_all(header::CONNECTION) {
        let Ok(value) = value.to_str() else { continue };
        for option in value.split(',').map(str::trim) {
            if option.is_empty()
                || option.eq_ignore_ascii_case("keep-alive")
                || option.eq_ignore_ascii_case("close")
            {
                continue;
            }
            if let Ok(name) = HeaderName::from_bytes(option.as_bytes()) {
                named.push(name);
            }
        }
    }
    for n in named {
        headers.remove(n);
    }
    for n in &HOP_BY_HOP {
        headers.remove(n);
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

pub enum ProxyError {
    Timeout,
    Upstream,
}

/// Sends `req` (whose headers were prepared by the caller) to `upstream`
/// at the request path without `stage_prefix`, and streams the answer.
pub async fn forward(
    upstream: &Upstream,
    stage_prefix: &str,
    mut req: Request<Body>,
    peer: Option<SocketAddr>,
) -> Result<Response, ProxyError> {
    let uri = upstream
        .uri(req.uri(), stage_prefix)
        .map_err(|_| ProxyError::Upstream)?;
    *req.uri_mut() = uri;
    *req.version_mut() = http::Version::HTTP_11;
    let headers = req.headers_mut();
    remove_hop_by_hop(headers);
    let host = headers.insert(header::HOST, upstream.host.clone());
    if let Some(ip) = peer.map(|p| p.ip()) {
        let value = match headers.get(X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
            Some(prior) => HeaderValue::try_from(format!("{prior}, {ip}")),
            None => {
                // Formatted on the stack: an address is at most 45 characters.
                let mut buf = [0u8; 64];
                let mut cursor = std::io::Cursor::new(&mut buf[..]);
                let _ = write!(cursor, "{ip}");
                let len = (cursor.position() as usize).min(buf.len());
                HeaderValue::from_bytes(&buf[..len])
            }
        };
        if let Ok(v) = value {
            headers.insert(X_FORWARDED_FOR, v);
        }
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    if let Some(host) = host {
        headers.insert(X_FORWARDED_HOST, host);
    }
    let sent = CLIENT.with(|c| c.request(req));
    let response = match tokio::time::timeout(upstream.timeout, sent).await {
        Err(_) => return Err(ProxyError::Timeout),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, upstream = %upstream.origin, "upstream request failed");
            return Err(ProxyError::Upstream);
        }
        Ok(Ok(r)) => r,
    };
    let (mut parts, body) = response.into_parts();
    remove_hop_by_hop(&mut parts.headers);
    Ok(Response::from_parts(parts, Body::new(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(url: &str) -> Upstream {
        Upstream::parse(url, Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn upstream_uri_strips_the_stage_and_prepends_the_base_path() {
        let cases = [
            // (upstream, stage, incoming, expected)
            (
                "http://10.0.0.1:8080",
                "",
                "/items/1?x=1",
                "http://10.0.0.1:8080/items/1?x=1",
            ),
            (
                "http://10.0.0.1:8080",
                "/dev",
                "/dev/items/1?x=1",
                "http://10.0.0.1:8080/items/1?x=1",
            ),
            (
                "http://10.0.0.1:8080",
                "/dev",
                "/dev",
                "http://10.0.0.1:8080/",
            ),
            (
                "http://10.0.0.1:8080",
                "/dev",
                "/dev?q",
                "http://10.0.0.1:8080/?q",
            ),
            ("http://up/base/", "", "/items", "http://up/base/items"),
            (
                "http://up/base",
                "/dev",
                "/dev/items?a=b",
                "http://up/base/items?a=b",
            ),
            ("http://up/base", "/dev", "/dev", "http://up/base/"),
        ];
        for (url, stage, incoming, expected) in cases {
            let incoming: Uri = incoming.parse().unwrap();
            let got = upstream(url).uri(&incoming, stage).unwrap();
            assert_eq!(got.to_string(), expected, "{url} {stage} {incoming}");
        }
    }

    #[test]
    fn upstream_host_header_leaves_out_the_default_port() {
        assert_eq!(upstream("http://10.0.0.1:8080").host, "10.0.0.1:8080");
        assert_eq!(upstream("http://backend:80/x").host, "backend");
        assert_eq!(upstream("http://[::1]:9000").host, "[::1]:9000");
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_removed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Hop, close"),
        );
        h.append(header::CONNECTION, HeaderValue::from_static("x-other"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-hop", HeaderValue::from_static("1"));
        h.insert("x-other", HeaderValue::from_static("1"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert("x-kept", HeaderValue::from_static("1"));
        remove_hop_by_hop(&mut h);
        let left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["x-kept"]);
    }
}
