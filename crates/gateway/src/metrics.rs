//! Prometheus metrics of the gateway: requests by API, route template,
//! method and status; latency histogram by API and route; token outcomes by
//! API, authorizer and reason. Labels are bounded: templates, never paths.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
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
