//! Prometheus metrics of the gateway: requests by API, route template,
//! method and status; latency histogram by API and route; token outcomes by
//! API, authorizer and reason. Labels are bounded: templates, never paths;
//! a fixed set of methods (`method_label`), never the client's.

use std::sync::RwLock;

use cognate_token::Rejection;
use http::{Method, StatusCode};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub duration: HistogramVec,
    pub token_outcomes: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "cognate_gateway_requests_total",
                "Requests answered by the gateway, by API, route template, method and status.",
            ),
            &["api", "route", "method", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "cognate_gateway_request_duration_seconds",
                "Time from request to response headers, by API and route template.",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["api", "route"],
        )?;
        let token_outcomes = IntCounterVec::new(
            Opts::new(
                "cognate_gateway_token_outcomes_total",
                "Outcomes of token checks, by API, authorizer and outcome (ok or the reason of refusal).",
            ),
            &["api", "authorizer", "outcome"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(token_outcomes.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            duration,
            token_outcomes,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The `method` label of a request: the methods a route can name, or
/// `other` (extension methods are unbounded, labels must not be).
pub fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Request counters kept per route for (method label, status) pairs seen so far;
/// past this many a route's rarer pairs go through the labelled lookup.
const SEEN_REQUEST_SERIES: usize = 16;

/// One route's series, resolved once so that a request does not hash its
/// label values again: the latency histogram, the token outcomes (`ok` then
/// `Rejection::ALL`, empty without an authorizer) and the request counters
/// by (method label, status) seen so far.
#[derive(Default)]
pub struct RouteMetrics {
    pub duration: Option<Histogram>,
    outcomes: Vec<IntCounter>,
    requests: RwLock<Vec<(&'static str, StatusCode, IntCounter)>>,
}

impl RouteMetrics {
    pub fn new(metrics: &Metrics, api: &str, route: &str, authorizer: Option<&str>) -> Self {
        let outcomes = match authorizer {
            None => Vec::new(),
            Some(az) => std::iter::once("ok")
                .chain(Rejection::ALL.iter().map(|r| r.reason()))
                .map(|outcome| {
                    metrics
                        .token_outcomes
                        .with_label_values(&[api, az, outcome])
                })
                .collect(),
        };
        RouteMetrics {
            duration: Some(metrics.duration.with_label_values(&[api, route])),
            outcomes,
            requests: RwLock::new(Vec::new()),
        }
    }

    /// Counts a token outcome: `None` is `ok`.
    pub fn count_outcome(&self, rejection: Option<Rejection>) {
        let index = match rejection {
            None => Some(0),
            Some(r) => Rejection::ALL.iter().position(|x| *x == r).map(|i| i + 1),
        };
        if let Some(c) = index.and_then(|i| self.outcomes.get(i)) {
            c.inc();
        }
    }

    pub fn count_request(
        &self,
        metrics: &Metrics,
        api: &str,
        route: &str,
        method: &Method,
        status: StatusCode,
    ) {
        let method = method_label(method);
        if let Ok(seen) = self.requests.read() {
            if let Some((_, _, c)) = seen.iter().find(|(m, s, _)| *m == method && *s == status) {
                c.inc();
                return;
            }
        }
        let counter = metrics
            .requests
            .with_label_values(&[api, route, method, status.as_str()]);
        counter.inc();
        if let Ok(mut seen) = self.requests.write() {
            if seen.len() < SEEN_REQUEST_SERIES
                && !seen.iter().any(|(m, s, _)| *m == method && *s == status)
            {
                seen.push((method, status, counter));
            }
        }
    }

    pub fn observe_duration(&self, seconds: f64) {
        if let Some(h) = &self.duration {
            h.observe(seconds);
        }
    }
}
