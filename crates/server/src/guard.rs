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
#[derive(Debug, Clone)]
pub(crate) struct HostPolicy {
    pub(crate) extra_names: Vec<String>,
    /// The studio, asked for the external WHEP origin its viewer pages may connect to.
    pub(crate) studio: Option<lectern_engine::Studio>,
    /// Other sites whose viewer pages may play from this WHEP (studios this one is the relay
    /// server of): `http://host:port`, lower-case, no trailing slash.
    pub(crate) whep_origins: Vec<String>,
    /// `https` when the server speaks TLS itself, else `http`: a page of this studio has the
    /// origin `scheme://Host`.
    pub(crate) scheme: &'static str,
    /// The origin of `--public-url` (a reverse proxy in front): its pages are this studio's.
    pub(crate) public_origin: Option<String>,
}

impl Default for HostPolicy {
    fn default() -> Self {
        HostPolicy {
            extra_names: vec![],
            studio: None,
            whep_origins: vec![],
            scheme: "http",
            public_origin: None,
        }
    }
}

/// `--public-url`, checked: an `http(s)://host[:port]` origin, nothing after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicUrl {
    /// As given, with one trailing slash (`https://class.school.example/`).
    pub(crate) url: String,
    /// Lower-case, no trailing slash (`https://class.school.example`).
    pub(crate) origin: String,
    /// The host name, accepted as `Host`.
    pub(crate) host: String,
}

impl PublicUrl {
    pub(crate) fn parse(given: &str) -> Result<PublicUrl, String> {
        let refuse = || {
            format!(
                "--public-url must be an address like https://class.school.example (scheme and \
                 host, an optional port, no path, query or fragment); got {given:?}"
            )
        };
        let trimmed = given.trim().trim_end_matches('/');
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"))
            .ok_or_else(refuse)?;
        let valid = !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        if !valid {
            return Err(refuse());
        }
        let host = host_name(rest).to_ascii_lowercase();
        if host.is_empty() {
            return Err(refuse());
        }
        Ok(PublicUrl {
            url: format!("{trimmed}/"),
            origin: trimmed.to_ascii_lowercase(),
            host,
        })
    }
}

/// WHEP is keyless: OBS-like players (no `Origin`) and this studio's own pages use it, and the
/// viewer pages of the studios this one relays for, when named in [`HostPolicy::whep_origins`].
/// Any other web page is refused, so a page open in a student's browser can neither pull the
/// class nor flood it with sessions.
fn is_whep(path: &str) -> bool {
    path == "/whep" || path.starts_with("/whep/")
}

/// An origin as compared: lower-case, without a trailing slash.
pub(crate) fn normal_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Headers that let an allowed origin's page use this WHEP endpoint.
fn add_whep_cors(headers: &mut HeaderMap, origin: &HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Location, Link, Retry-After, Accept-Patch, ETag"),
    );
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

/// `Some(reason)` when the request must be refused. `whep`: the WHEP endpoint, which also takes
/// the origins the policy names; the `Host` is always checked.
pub(crate) fn check(policy: &HostPolicy, headers: &HeaderMap, whep: bool) -> Option<&'static str> {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return Some("a Host header is required");
    };
    if !policy.accepts(host) {
        return Some("this Host is not one of this studio's names");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let same = origin
            .strip_prefix(policy.scheme)
            .and_then(|o| o.strip_prefix("://"))
            .is_some_and(|o| o.eq_ignore_ascii_case(host))
            || policy
                .public_origin
                .as_deref()
                .is_some_and(|public| public == normal_origin(origin));
        let listed = whep && policy.whep_origins.contains(&normal_origin(origin));
        if !same && !listed {
            return Some(if whep {
                "this site may not play the class: the studio names the sites it relays for (--allow-whep-origin)"
            } else {
                "cross-site requests are not allowed"
            });
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
    let whep = is_whep(request.uri().path());
    let origin = request.headers().get(header::ORIGIN).cloned();
    if let Some(reason) = check(&policy, request.headers(), whep) {
        tracing::info!(path = %request.uri().path(), reason, "refused a request");
        return error_response(ApiError::new(ErrorCode::Forbidden, reason)).into_response();
    }
    let mut response = if whep && request.method() == axum::http::Method::OPTIONS {
        let mut preflight = axum::http::StatusCode::NO_CONTENT.into_response();
        let h = preflight.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, PATCH, DELETE, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type, If-Match, Authorization"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        preflight
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    if whep && let Some(origin) = origin {
        add_whep_cors(headers, &origin);
    }
    // Viewer pages may also connect to the external WHEP server the class is relayed to.
    let csp = policy
        .studio
        .as_ref()
        .and_then(lectern_engine::Studio::playback_origin)
        .and_then(|origin| {
            HeaderValue::from_str(&CSP.replacen(
                "connect-src 'self'",
                &format!("connect-src 'self' {origin}"),
                1,
            ))
            .ok()
        })
        .unwrap_or(HeaderValue::from_static(CSP));
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
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
            ..HostPolicy::default()
        };
        assert!(check(&p, &headers("127.0.0.1:7878", None), false).is_none());
        assert!(check(&p, &headers("[::1]:7878", None), false).is_none());
        assert!(check(&p, &headers("LOCALHOST:1", None), false).is_none());
        assert!(check(&p, &headers("192.168.1.20:7878", None), false).is_none());
        assert!(check(&p, &headers("studio.lan:7878", None), false).is_none());
        assert!(check(&p, &headers("evil.example:7878", None), false).is_some());
        assert!(check(&p, &headers("localhost.evil.example", None), false).is_some());
        assert!(check(&p, &HeaderMap::new(), false).is_some());
    }

    #[test]
    fn origins() {
        let p = HostPolicy::default();
        let at = |origin| headers("127.0.0.1:7878", Some(origin));
        assert!(check(&p, &at("http://127.0.0.1:7878"), false).is_none());
        assert!(check(&p, &at("http://evil.example"), false).is_some());
        assert!(check(&p, &at("http://127.0.0.1:9999"), false).is_some());
        assert!(check(&p, &at("null"), false).is_some());
        assert!(check(&p, &at("https://127.0.0.1:7878"), false).is_some());
        // WHEP takes its own origin and the ones named, never another or a foreign Host.
        assert!(check(&p, &at("http://evil.example"), true).is_some());
        assert!(check(&p, &at("http://127.0.0.1:7878"), true).is_none());
        let relay = HostPolicy {
            whep_origins: vec![normal_origin("https://School.Example:8443/")],
            ..HostPolicy::default()
        };
        assert!(check(&relay, &at("https://school.example:8443"), true).is_none());
        assert!(check(&relay, &at("https://school.example:8443"), false).is_some());
        assert!(check(&relay, &at("http://evil.example"), true).is_some());
        // Served over TLS, the studio's pages are https://Host; behind a reverse proxy, the
        // public origin's pages are the studio's too.
        let tls = HostPolicy {
            scheme: "https",
            ..HostPolicy::default()
        };
        assert!(check(&tls, &at("https://127.0.0.1:7878"), false).is_none());
        assert!(check(&tls, &at("http://127.0.0.1:7878"), false).is_some());
        let public = PublicUrl::parse("https://Class.School.Example/").unwrap();
        assert_eq!(public.url, "https://Class.School.Example/");
        let proxied = HostPolicy {
            extra_names: vec![public.host.clone()],
            public_origin: Some(public.origin.clone()),
            ..HostPolicy::default()
        };
        let via_proxy = headers("class.school.example", Some("https://class.school.example"));
        assert!(check(&proxied, &via_proxy, false).is_none());
        let rewritten = headers("127.0.0.1:7878", Some("https://class.school.example"));
        assert!(check(&proxied, &rewritten, false).is_none());
        assert!(check(&proxied, &at("https://evil.example"), false).is_some());
        for bad in [
            "class.school.example",
            "https://a.example/studio",
            "https://a.example/?x",
            "ftp://a.example",
            "https://",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
        // Players without a page (OBS, GStreamer) send no Origin.
        assert!(check(&relay, &headers("127.0.0.1:7878", None), true).is_none());
        assert!(
            check(
                &p,
                &headers("evil.example:7878", Some("http://evil.example")),
                true
            )
            .is_some()
        );
    }
}
