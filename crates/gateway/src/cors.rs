//! CORS per API: preflight answers and the headers added to responses.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};

use crate::config::CorsConfig;

#[derive(Debug)]
pub struct Cors {
    any_origin: bool,
    origins: Vec<String>,
    methods: Option<HeaderValue>,
    headers: Option<HeaderValue>,
    expose: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
    credentials: bool,
}

fn joined(items: &[String]) -> Result<Option<HeaderValue>, String> {
    if items.is_empty() {
        return Ok(None);
    }
    HeaderValue::from_str(&items.join(","))
        .map(Some)
        .map_err(|_| format!("invalid header value in `{}`", items.join(",")))
}

impl Cors {
    pub fn new(c: &CorsConfig) -> Result<Self, String> {
        Ok(Cors {
            any_origin: c.allow_origins.iter().any(|o| o == "*"),
            origins: c.allow_origins.clone(),
            methods: joined(&c.allow_methods)?,
            headers: joined(&c.allow_headers)?,
            expose: joined(&c.expose_headers)?,
            max_age: c.max_age.map(HeaderValue::from),
            credentials: c.allow_credentials,
        })
    }

    fn allowed_origin(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        let text = origin.to_str().ok()?;
        if self.any_origin && !self.credentials {
            Some(HeaderValue::from_static("*"))
        } else if self.any_origin || self.origins.iter().any(|o| o == text) {
            Some(origin.clone())
        } else {
            None
        }
    }

    /// True for a CORS preflight request.
    pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
        method == Method::OPTIONS
            && headers.contains_key(header::ORIGIN)
            && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    }

    /// The answer to a preflight: 204 with the allowed methods and headers
    /// (the requested ones when none are configured).
    pub fn preflight(&self, req: &HeaderMap) -> (StatusCode, HeaderMap) {
        let mut h = HeaderMap::new();
        let Some(origin) = req.get(header::ORIGIN).and_then(|o| self.allowed_origin(o)) else {
            return (StatusCode::NO_CONTENT, h);
        };
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        let methods = self
            .methods
            .clone()
            .or_else(|| req.get(header::ACCESS_CONTROL_REQUEST_METHOD).cloned());
        if let Some(m) = methods {
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, m);
        }
        let headers = self
            .headers
            .clone()
            .or_else(|| req.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned());
        if let Some(v) = headers {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
        if let Some(v) = &self.max_age {
            h.insert(header::ACCESS_CONTROL_MAX_AGE, v.clone());
        }
        if self.credentials {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        (StatusCode::NO_CONTENT, h)
    }

    /// Adds the CORS headers of an actual response.
    pub fn decorate(&self, origin: Option<&HeaderValue>, out: &mut HeaderMap) {
        let Some(origin) = origin.and_then(|o| self.allowed_origin(o)) else {
            return;
        };
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if let Some(v) = &self.expose {
            out.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
        }
        if self.credentials {
            out.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        out.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}
