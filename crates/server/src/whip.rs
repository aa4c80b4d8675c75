//! WHIP ingest (`/whip`, RFC 9725) and WHEP egress (`/whep`) over the studio's media engine.
//!
//! | request | answer |
//! |---|---|
//! | `POST /whip` `application/sdp`, `Authorization: Bearer <publish key>` | `201`, `Location: /whip/<id>`, the SDP answer |
//! | `PATCH /whip/<id>` `application/trickle-ice-sdpfrag` | `204` |
//! | `DELETE /whip/<id>` | `200` |
//! | `POST /whep` `application/sdp` (receive-only offer, no key) | `201`, `Location: /whep/<id>`, the SDP answer |
//! | `PATCH` / `DELETE /whep/<id>` | `204` / `200` |
//!
//! Refusals: wrong content type 415, missing or wrong key 401, a second publisher 409 (unless
//! the instructor chose "replace"), an offer over 64 KiB 413, a malformed offer 400 with the
//! reason, no shared codec 400 (`unsupported_codec`), an unknown session 404. Bodies are the
//! API's `{"code", "message"}` JSON. `Link: <url>; rel="ice-server"` is sent for each configured
//! STUN/TURN server.

#![allow(
    clippy::result_large_err,
    reason = "the Err side is the HTTP refusal itself, returned once per request"
)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_engine::{ApiError, ErrorCode, Studio};
use lectern_media::{MediaError, PublisherId, ViewerId};

/// The largest offer or trickle fragment accepted.
pub(crate) const MAX_SDP: usize = 64 * 1024;

#[derive(Clone)]
pub(crate) struct MediaState {
    pub studio: Studio,
    /// `Link` header values for STUN/TURN servers (`<stun:host:port>; rel="ice-server"`).
    pub ice_links: Arc<Vec<String>>,
}

fn refuse(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response {
    (status, axum::Json(ApiError::new(code, message))).into_response()
}

fn media_refusal(err: &MediaError) -> Response {
    let status = match err {
        MediaError::PublisherExists => StatusCode::CONFLICT,
        MediaError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        MediaError::BadSdp(_) | MediaError::UnsupportedCodec(_) | MediaError::BadCandidate(_) => {
            StatusCode::BAD_REQUEST
        }
        MediaError::UnknownSession(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!(code = err.code(), "media engine failure: {err}");
    }
    // The media codes are part of the wire contract (docs/protocol.md), next to the API's.
    let body = serde_json::json!({ "code": err.code(), "message": err.to_string() });
    (status, axum::Json(body)).into_response()
}

fn content_type_is(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Read a body of at most [`MAX_SDP`] bytes as UTF-8.
async fn read_sdp(body: Body) -> Result<String, Response> {
    let bytes: Bytes = axum::body::to_bytes(body, MAX_SDP).await.map_err(|_| {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("an SDP body is at most {MAX_SDP} bytes"),
        )
    })?;
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
            "the SDP is not UTF-8",
        )
    })
}

async fn authorize(state: &MediaState, headers: &HeaderMap) -> Result<(), Response> {
    state
        .studio
        .check_publish_key(bearer(headers))
        .await
        .map_err(|err| {
            let status = crate::api::status_of(err.code);
            let mut response = (status, axum::Json(err)).into_response();
            if status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"lectern-whip\""),
                );
            }
            response
        })
}

fn created(state: &MediaState, location: String, answer: String) -> Response {
    let mut response = (StatusCode::CREATED, answer).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/sdp"),
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(
        "accept-patch",
        HeaderValue::from_static("application/trickle-ice-sdpfrag"),
    );
    for link in state.ice_links.iter() {
        if let Ok(value) = HeaderValue::from_str(link) {
            headers.append(header::LINK, value);
        }
    }
    response
}

fn check_offer_type(headers: &HeaderMap) -> Result<(), Response> {
    if content_type_is(headers, "application/sdp") {
        Ok(())
    } else {
        Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::InvalidInput,
            "an offer is sent as application/sdp",
        ))
    }
}

/// `POST /whip`: a publisher's offer.
pub(crate) async fn whip_post(
    State(state): State<MediaState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(refusal) = authorize(&state, &headers).await {
        return refusal;
    }
    if let Err(refusal) = check_offer_type(&headers) {
        return refusal;
    }
    let offer = match read_sdp(body).await {
        Ok(offer) => offer,
        Err(refusal) => return refusal,
    };
    let replace = state.studio.replace_publisher();
    match state.studio.media().publish(&offer, replace).await {
        Ok((id, answer)) => {
            tracing::info!(publisher = %id, "a publisher went live");
            created(&state, format!("/whip/{id}"), answer)
        }
        Err(err) => media_refusal(&err),
    }
}

/// `POST /whep`: a viewer's receive-only offer.
pub(crate) async fn whep_post(
    State(state): State<MediaState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(refusal) = check_offer_type(&headers) {
        return refusal;
    }
    if let Err(err) = state.studio.admit_viewer() {
        let mut response = (crate::api::status_of(err.code), axum::Json(err)).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("15"));
        return response;
    }
    let offer = match read_sdp(body).await {
        Ok(offer) => offer,
        Err(refusal) => return refusal,
    };
    // Subscribed before the viewer exists, so its end cannot be missed.
    let gone = state.studio.media().viewers_gone();
    match state.studio.media().subscribe(&offer).await {
        Ok((id, answer)) => {
            let issued = follow_presence(&state, &headers, peer.ip(), id, gone).await;
            let mut response = created(&state, format!("/whep/{id}"), answer);
            if let Some(value) = issued.and_then(|key| HeaderValue::from_str(&key).ok()) {
                response.headers_mut().insert(BROWSER_KEY_HEADER, value);
            }
            response
        }
        Err(err) => media_refusal(&err),
    }
}

/// The header our viewer page sends with its offer: the browser key the school issued it (the
/// same as its room hello's), so that its video counts as presence for the same pseudonymous
/// viewer. A page without a key the school signed sends it empty and is issued one in the
/// answer's header of the same name (counted against its address, as the room counts them).
/// Players that send no such header are not counted.
pub const BROWSER_KEY_HEADER: &str = "x-lectern-browser-key";

/// While a class is live, record that this browser's video started, and that it stopped when
/// the media engine lets the session go. Returns a browser key issued to it, if one was.
async fn follow_presence(
    state: &MediaState,
    headers: &HeaderMap,
    address: IpAddr,
    id: ViewerId,
    mut gone: tokio::sync::broadcast::Receiver<ViewerId>,
) -> Option<String> {
    let key = headers
        .get(BROWSER_KEY_HEADER)
        .and_then(|v| v.to_str().ok())?;
    let (viewer, issued) = match state.studio.viewer_id(key).await {
        Ok(viewer) => (viewer, None),
        Err(_) => match state
            .studio
            .issue_browser_key(Some(address), Some(key))
            .await
        {
            Ok(Ok((key, viewer))) => (viewer, Some(key)),
            // Watching is not refused for want of a key; it is just not counted.
            _ => return None,
        },
    };
    let Some(room) = state.studio.live_room().await else {
        return issued;
    };
    let media = move |watching| lectern_room::Input::Media {
        viewer: viewer.clone(),
        watching,
    };
    if room.submit(media(true)).await.is_err() {
        return issued;
    }
    let studio = state.studio.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = room.ended() => return,
                next = gone.recv() => match next {
                    Ok(left) if left == id => break,
                    Ok(_) => {}
                    // Missed some: the session may be among them; ask the engine.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        if !studio.media().status().viewers.iter().any(|v| v.id == id) {
                            break;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        let _ = room.submit(media(false)).await;
    });
    issued
}

/// The `a=candidate:` lines of a trickle fragment (RFC 8840).
fn candidates(fragment: &str) -> Vec<&str> {
    fragment
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("a="))
        .filter(|l| l.starts_with("candidate:"))
        .collect()
}

async fn trickle(
    state: &MediaState,
    id: lectern_media::SessionId,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    if !content_type_is(headers, "application/trickle-ice-sdpfrag") {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::InvalidInput,
            "trickle ICE is sent as application/trickle-ice-sdpfrag",
        );
    }
    let fragment = match read_sdp(body).await {
        Ok(fragment) => fragment,
        Err(refusal) => return refusal,
    };
    for candidate in candidates(&fragment) {
        if let Err(err) = state.studio.media().add_ice_candidate(id, candidate).await {
            return media_refusal(&err);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

fn unknown(id: &str) -> Response {
    media_refusal(&MediaError::UnknownSession(id.to_owned()))
}

/// `PATCH /whip/{id}`.
pub(crate) async fn whip_patch(
    State(state): State<MediaState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(refusal) = authorize(&state, &headers).await {
        return refusal;
    }
    match id.parse::<PublisherId>() {
        Ok(publisher) => trickle(&state, publisher.into(), &headers, body).await,
        Err(_) => unknown(&id),
    }
}

/// `DELETE /whip/{id}`.
pub(crate) async fn whip_delete(
    State(state): State<MediaState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = authorize(&state, &headers).await {
        return refusal;
    }
    let Ok(publisher) = id.parse::<PublisherId>() else {
        return unknown(&id);
    };
    match state.studio.media().stop(publisher).await {
        Ok(()) => {
            tracing::info!(publisher = %publisher, "the publisher left");
            StatusCode::OK.into_response()
        }
        Err(err) => media_refusal(&err),
    }
}

/// `PATCH /whep/{id}`: the viewer's session id is its credential (64 random bits).
pub(crate) async fn whep_patch(
    State(state): State<MediaState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match id.parse::<ViewerId>() {
        Ok(viewer) => trickle(&state, viewer.into(), &headers, body).await,
        Err(_) => unknown(&id),
    }
}

/// `DELETE /whep/{id}`.
pub(crate) async fn whep_delete(
    State(state): State<MediaState>,
    Path(id): Path<String>,
) -> Response {
    let Ok(viewer) = id.parse::<ViewerId>() else {
        return unknown(&id);
    };
    match state.studio.media().stop(viewer).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(err) => media_refusal(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::candidates;

    #[test]
    fn a_trickle_fragment_yields_its_candidate_lines() {
        let fragment = "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0\r\na=end-of-candidates\r\n";
        assert_eq!(
            candidates(fragment),
            vec!["candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0"]
        );
    }
}
