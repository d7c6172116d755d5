//! The `http` integration: a reverse proxy over hyper's HTTP/1.1 client
//! connections, streaming bodies both ways, with hop-by-hop headers removed,
//! `X-Forwarded-For/Proto/Host` set and a timeout to the response headers.
//!
//! Upstream connections are kept alive: a client connection keeps the
//! upstream connection of its last request (`Affinity`) and gives it back to
//! its thread's idle pool when it closes; each gateway worker thread has its
//! own pool (`IDLE`), so neither a lock nor another thread is involved.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

type Sender = SendRequest<Incoming>;

/// Idle upstream connections kept per upstream and thread.
const IDLE_MAX: usize = 256;
/// An idle upstream connection older than this is closed rather than reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

thread_local! {
    /// This thread's idle upstream connections by origin.
    static IDLE: RefCell<HashMap<String, Vec<(Instant, Sender)>>> = RefCell::new(HashMap::new());
}

fn idle_take(origin: &str) -> Option<Sender> {
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.get_mut(origin)?;
        while let Some((since, sender)) = list.pop() {
            if since.elapsed() < IDLE_TIMEOUT && sender.is_ready() {
                return Some(sender);
            }
        }
        None
    })
}

fn idle_put(origin: &str, sender: Sender) {
    if !sender.is_ready() {
        return;
    }
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = match idle.get_mut(origin) {
            Some(list) => list,
            None => idle.entry(origin.to_owned()).or_default(),
        };
        list.retain(|(since, s)| since.elapsed() < IDLE_TIMEOUT && !s.is_closed());
        if list.len() < IDLE_MAX {
            list.push((Instant::now(), sender));
        }
    });
}

/// The upstream connection a client connection used last, reused for its
/// next request to the same upstream; back to the thread's idle pool when
/// the client connection closes.
#[derive(Default)]
pub struct Affinity(Mutex<Option<(String, Sender)>>);

impl Affinity {
    fn take(&self, origin: &str) -> Option<Sender> {
        let mut slot = self.0.lock().ok()?;
        match slot.take() {
            Some((o, s)) if o == origin => Some(s),
            Some((o, s)) => {
                idle_put(&o, s);
                None
            }
            None => None,
        }
    }

    fn put(&self, origin: &str, sender: Sender) {
        let displaced = match self.0.lock() {
            Ok(mut slot) if slot.is_none() => {
                *slot = Some((origin.to_owned(), sender));
                return;
            }
            _ => sender,
        };
        idle_put(origin, displaced);
    }
}

impl Drop for Affinity {
    fn drop(&mut self) {
        if let Some((origin, sender)) = self.0.get_mut().ok().and_then(|s| s.take()) {
            idle_put(&origin, sender);
        }
    }
}

async fn connect(upstream: &Upstream) -> Result<Sender, ProxyError> {
    let stream = match tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect(upstream.connect_to.as_str()),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, upstream = %upstream.origin, "cannot connect upstream");
            return Err(ProxyError::Upstream);
        }
        Err(_) => {
            tracing::warn!(upstream = %upstream.origin, "connecting upstream timed out");
            return Err(ProxyError::Upstream);
        }
    };
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, upstream = %upstream.origin, "upstream handshake failed");
            ProxyError::Upstream
        })?;
    // Driven on this thread (the gateway's workers are single-threaded).
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends `req` on a kept-alive connection, or a new one; a request that a
/// reused connection closed before taking is sent again on a new one.
async fn send(
    upstream: &Upstream,
    affinity: &Affinity,
    mut req: Request<Incoming>,
) -> Result<Response<Incoming>, ProxyError> {
    let mut kept = affinity
        .take(&upstream.origin)
        .or_else(|| idle_take(&upstream.origin));
    loop {
        let reused = kept.is_some();
        let mut sender = match kept.take() {
            Some(s) => s,
            None => connect(upstream).await?,
        };
        if sender.ready().await.is_err() {
            if reused {
                continue;
            }
            return Err(ProxyError::Upstream);
        }
        match sender.try_send_request(req).await {
            Ok(response) => {
                affinity.put(&upstream.origin, sender);
                return Ok(response);
            }
            Err(mut e) => match e.take_message() {
                Some(unsent) if reused => req = unsent,
                _ => {
                    tracing::warn!(error = %e.error(), upstream = %upstream.origin, "upstream request failed");
                    return Err(ProxyError::Upstream);
                }
            },
        }
    }
}

/// Where an `http` integration sends requests.
#[derive(Clone, Debug)]
pub struct Upstream {
    /// `http://host:port`
    pub origin: String,
    /// `host:port` to connect to (port 80 when the URL has none).
    connect_to: String,
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
            connect_to: format!(
                "{}:{}",
                authority.host(),
                authority.port_u16().unwrap_or(80)
            ),
            base_path: uri.path().trim_end_matches('/').to_owned(),
            timeout,
        })
    }

    /// The upstream path and query of `incoming` without `stage_prefix`
    /// (origin form: the upstream connection is already to this origin):
    /// the incoming path and query are reused as they are (no copy) when
    /// there is neither a stage nor a base path to change.
    fn path(&self, incoming: &Uri, stage_prefix: &str) -> Result<PathAndQuery, http::Error> {
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
        Ok(path_and_query)
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
/// case allocates nothing). Without its `Trailer` header a request's
/// trailer fields are not sent upstream either (hyper's client only writes
/// the trailers a `Trailer` header declares).
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

/// Sends `req` to `upstream` at the request path without `stage_prefix`,
/// and streams the answer. The caller has already removed the request's
/// hop-by-hop headers (`remove_hop_by_hop`) before it added the claim
/// headers; they are not looked at again here, so a `Connection` token
/// cannot remove a header the gateway added.
pub async fn forward(
    upstream: &Upstream,
    affinity: &Affinity,
    stage_prefix: &str,
    mut req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Incoming>, ProxyError> {
    let path = upstream
        .path(req.uri(), stage_prefix)
        .map_err(|_| ProxyError::Upstream)?;
    *req.uri_mut() = Uri::from(path);
    *req.version_mut() = http::Version::HTTP_11;
    let headers = req.headers_mut();
    let host = headers.insert(header::HOST, upstream.host.clone());
    let ip = peer.ip();
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
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    if let Some(host) = host {
        headers.insert(X_FORWARDED_HOST, host);
    }
    let mut response =
        match tokio::time::timeout(upstream.timeout, send(upstream, affinity, req)).await {
            Err(_) => return Err(ProxyError::Timeout),
            Ok(r) => r?,
        };
    remove_hop_by_hop(response.headers_mut());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(url: &str) -> Upstream {
        Upstream::parse(url, Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn upstream_path_strips_the_stage_and_prepends_the_base_path() {
        let cases = [
            // (upstream, stage, incoming, expected)
            ("http://10.0.0.1:8080", "", "/items/1?x=1", "/items/1?x=1"),
            (
                "http://10.0.0.1:8080",
                "/dev",
                "/dev/items/1?x=1",
                "/items/1?x=1",
            ),
            ("http://10.0.0.1:8080", "/dev", "/dev", "/"),
            ("http://10.0.0.1:8080", "/dev", "/dev?q", "/?q"),
            ("http://up/base/", "", "/items", "/base/items"),
            (
                "http://up/base",
                "/dev",
                "/dev/items?a=b",
                "/base/items?a=b",
            ),
            ("http://up/base", "/dev", "/dev", "/base/"),
        ];
        for (url, stage, incoming, expected) in cases {
            let incoming: Uri = incoming.parse().unwrap();
            let got = upstream(url).path(&incoming, stage).unwrap();
            assert_eq!(got.as_str(), expected, "{url} {stage} {incoming}");
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
