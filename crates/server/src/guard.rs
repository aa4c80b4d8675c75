//! Refuse DNS rebinding and cross-site requests, and set the security headers on every answer.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lectern_engine::{ApiError, ErrorCode};

use crate::api::error_response;

/// The CSP of every page the server sends. No `unsafe-*`: the UI has no inline script or style.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Which `Host` names are ours besides IP literals and `localhost`.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostPolicy {
    pub(crate) extra_names: Vec<String>,
}

impl HostPolicy {
    /// The name part of a `Host` header (`[::1]:8080` -> `::1`), if it is acceptable.
    fn accepts(&self, host_header: &str) -> bool {
        let name = host_name(host_header);
        if name.is_empty() {
            return false;
        }
        // An IP literal cannot be rebound by a DNS answer; only names can.
        if name.parse::<IpAddr>().is_ok() || name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        self.extra_names
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(name))
    }
}

fn host_name(host_header: &str) -> &str {
    if let Some(rest) = host_header.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match host_header.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host_header,
    }
}

/// `Some(reason)` when the request must be refused.
pub(crate) fn check(policy: &HostPolicy, headers: &HeaderMap) -> Option<&'static str> {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return Some("a Host header is required");
    };
    if !policy.accepts(host) {
        return Some("this Host is not one of this studio's names");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .is_some_and(|o| o.eq_ignore_ascii_case(host));
        if !same {
            return Some("cross-site requests are not allowed");
        }
    }
    None
}

/// The middleware: refuse with 403, or pass on and add the security headers.
pub(crate) async fn guard(
    State(policy): State<Arc<HostPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(reason) = check(&policy, request.headers()) {
        tracing::info!(path = %request.uri().path(), reason, "refused a request");
        return error_response(ApiError::new(ErrorCode::Forbidden, reason)).into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn hosts() {
        let p = HostPolicy {
            extra_names: vec!["studio.lan".into()],
        };
        assert!(check(&p, &headers("127.0.0.1:7878", None)).is_none());
        assert!(check(&p, &headers("[::1]:7878", None)).is_none());
        assert!(check(&p, &headers("LOCALHOST:1", None)).is_none());
        assert!(check(&p, &headers("192.168.1.20:7878", None)).is_none());
        assert!(check(&p, &headers("studio.lan:7878", None)).is_none());
        assert!(check(&p, &headers("evil.example:7878", None)).is_some());
        assert!(check(&p, &headers("localhost.evil.example", None)).is_some());
        assert!(check(&p, &HeaderMap::new()).is_some());
    }

    #[test]
    fn origins() {
        let p = HostPolicy::default();
        assert!(
            check(
                &p,
                &headers("127.0.0.1:7878", Some("http://127.0.0.1:7878"))
            )
            .is_none()
        );
        assert!(check(&p, &headers("127.0.0.1:7878", Some("http://evil.example"))).is_some());
        assert!(
            check(
                &p,
                &headers("127.0.0.1:7878", Some("http://127.0.0.1:9999"))
            )
            .is_some()
        );
        assert!(check(&p, &headers("127.0.0.1:7878", Some("null"))).is_some());
        assert!(
            check(
                &p,
                &headers("127.0.0.1:7878", Some("https://127.0.0.1:7878"))
            )
            .is_some()
        );
    }
}
