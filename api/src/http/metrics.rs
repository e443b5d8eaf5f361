//! Prometheus request metrics whose label values come from closed sets: the method from the
//! methods the API knows (anything else is `other`), the endpoint from the route table's
//! templates (a path no route matches is `unmatched`), and the status the server itself chose.
//! Nothing a caller sends can add a series, so `/metrics` stays the same size however it is
//! probed.
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use std::time::Instant;

/// The `endpoint` label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The `method` label of a method outside [`method_label`]'s list.
pub const OTHER_METHOD: &str = "other";

/// The request counters and latency histograms of one server, in a registry of its own.
pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
}

impl HttpMetrics {
    /// Creates the metric families under `namespace` (`{namespace}_http_requests_total`,
    /// `{namespace}_http_requests_duration_seconds`).
    ///
    /// # Errors
    /// Fails only when the metric definitions are invalid.
    pub fn new(namespace: &str) -> prometheus::Result<Self> {
        let registry = Registry::new();
        let labels = ["endpoint", "method", "status"];
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered").namespace(namespace),
            &labels,
        )?;
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "http_requests_duration_seconds",
                "Time from receiving a request to its response head",
            )
            .namespace(namespace),
            &labels,
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(durations.clone()))?;
        Ok(Self {
            registry,
            requests,
            durations,
        })
    }

    /// Counts one answered request.
    pub fn observe(&self, endpoint: &str, method: &Method, status: StatusCode, seconds: f64) {
        let labels = [endpoint, method_label(method), status_label(&status)];
        self.requests.with_label_values(&labels).inc();
        self.durations.with_label_values(&labels).observe(seconds);
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(error = %err, "could not encode metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// The `method` label: the method's name when the API knows it, else [`OTHER_METHOD`].
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => OTHER_METHOD,
    }
}

/// The `status` label: the three digits of a status the server chose.
fn status_label(status: &StatusCode) -> &str {
    // `StatusCode` is always three digits (100-999) and chosen by the server, never echoed from
    // a caller; codes without a registered meaning still fold into one value.
    match status.canonical_reason() {
        Some(_) => status.as_str(),
        None => "other",
    }
}

/// Middleware: times each request and counts it under closed-set labels.
///
/// # Errors
/// Passes the inner service's errors through (they are counted under their status).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<HttpMetrics>>().cloned();
    let method = req.method().clone();
    let outcome = next.call(req).await;
    if let Some(metrics) = metrics {
        let (endpoint, status) = match &outcome {
            Ok(response) => (
                response.request().match_pattern(),
                response.response().status(),
            ),
            Err(err) => (None, err.as_response_error().status_code()),
        };
        let endpoint = endpoint.unwrap_or_else(|| UNMATCHED.to_owned());
        metrics.observe(&endpoint, &method, status, started.elapsed().as_secs_f64());
    }
    outcome
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn exposition(
    metrics: web::Data<HttpMetrics>,
    state: web::Data<crate::state::AppState>,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render() + &state.work.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_fold_into_one_label() {
        for token in ["FOO", "PROPFIND", "X".repeat(300).as_str()] {
            let method = Method::from_bytes(token.as_bytes()).unwrap_or(Method::CONNECT);
            assert_eq!(method_label(&method), OTHER_METHOD, "{token}");
        }
        assert_eq!(method_label(&Method::PATCH), "PATCH");
    }

    #[test]
    fn the_exposition_holds_only_closed_set_labels() {
        let metrics = HttpMetrics::new("t").unwrap();
        for i in 0..50 {
            let method = Method::from_bytes(format!("M{i}").as_bytes()).unwrap();
            metrics.observe(UNMATCHED, &method, StatusCode::NOT_FOUND, 0.001);
        }
        let text = metrics.render();
        assert!(!text.contains("M1"), "{text}");
        assert!(text.contains(
            r#"t_http_requests_total{endpoint="unmatched",method="other",status="404"} 50"#
        ));
    }
}
