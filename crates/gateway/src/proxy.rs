//! The `http` integration: a reverse proxy over hyper-util's pooled client
//! (keep-alive), streaming bodies both ways, with hop-by-hop headers removed,
//! `X-Forwarded-For/Proto/Host` set and a timeout to the response headers.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub type HttpClient = Client<HttpConnector, Body>;

pub fn client() -> HttpClient {
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
        Ok(Upstream {
            origin: format!("http://{authority}"),
            base_path: uri.path().trim_end_matches('/').to_owned(),
            timeout,
        })
    }

    fn uri(&self, path: &str, query: Option<&str>) -> Result<Uri, http::Error> {
        let mut s = String::with_capacity(
            self.origin.len()
                + self.base_path.len()
                + path.len()
                + query.map_or(0, |q| q.len() + 1),
        );
        s.push_str(&self.origin);
        s.push_str(&self.base_path);
        s.push_str(if path.is_empty() { "/" } else { path });
        if let Some(q) = query {
            s.push('?');
            s.push_str(q);
        }
        Ok(Uri::try_from(s)?)
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

/// Removes hop-by-hop headers, including those the `Connection` header names.
pub fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in &HOP_BY_HOP {
        headers.remove(n);
    }
}

pub enum ProxyError {
    Timeout,
    Upstream,
}

/// Sends `req` (whose headers were prepared by the caller) to `upstream`
/// at `path` (the request path without the stage) and streams the answer.
pub async fn forward(
    client: &HttpClient,
    upstream: &Upstream,
    path: &str,
    mut req: Request<Body>,
    peer: Option<SocketAddr>,
) -> Result<Response, ProxyError> {
    let query = req.uri().query().map(str::to_owned);
    *req.uri_mut() = upstream
        .uri(path, query.as_deref())
        .map_err(|_| ProxyError::Upstream)?;
    *req.version_mut() = http::Version::HTTP_11;
    let headers = req.headers_mut();
    remove_hop_by_hop(headers);
    let host = headers.remove(header::HOST);
    if let Some(ip) = peer.map(|p| p.ip().to_string()) {
        let value = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(prior) => format!("{prior}, {ip}"),
            None => ip,
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert("x-forwarded-for", v);
        }
    }
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    if let Some(host) = host {
        headers.insert("x-forwarded-host", host);
    }
    let response = match tokio::time::timeout(upstream.timeout, client.request(req)).await {
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
