//! The studio API over HTTP: `POST /api/v1/<command>`, the event WebSocket, and `/api/v1/public`.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_engine::api::{self, StudioEvent};
use lectern_engine::{ApiError, ErrorCode, Studio};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

/// Largest request body, in bytes.
pub(crate) const MAX_BODY: usize = 64 * 1024;
/// Commands that carry a whole file (CSV imports) may send up to this much.
pub(crate) const MAX_FILE_BODY: usize = 52 * 1024 * 1024;
const FILE_COMMANDS: &[&str] = &["preview_import", "import_data", "import_faq"];
/// Largest message a browser may send on the event socket.
const MAX_WS_MESSAGE: usize = 4 * 1024;
/// How long a new event socket may take to authenticate.
const AUTH_DEADLINE: Duration = Duration::from_secs(5);

/// What every handler needs.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) studio: Studio,
    pub(crate) key: std::sync::Arc<str>,
    pub(crate) gate: std::sync::Arc<crate::limits::Gate>,
}

/// The HTTP status for an error code (WHIP-style statuses where they apply).
pub(crate) fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput | ErrorCode::PrivateAddress => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::NoSchool | ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::DatabaseLocked | ErrorCode::OverCapacity => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
        ErrorCode::TooManyConnections => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::FeedUnreachable | ErrorCode::FeedRefused | ErrorCode::FeedInvalid => {
            StatusCode::BAD_GATEWAY
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `{ "code": ..., "message": ... }` with the matching status.
pub(crate) fn error_response(err: ApiError) -> (StatusCode, Json<ApiError>) {
    (status_of(err.code), Json(err))
}

/// Who is calling: the instructor (owner key) or a TA (moderator link).
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    Owner,
    Moderator(lectern_engine::moderators::ModeratorGrant),
}

/// Resolve a credential: the owner key, or a moderator token that is valid now.
pub(crate) async fn caller(state: &AppState, given: &str) -> Result<Caller, ApiError> {
    let given = given.trim();
    if lectern_engine::same_secret(given.as_bytes(), state.key.as_bytes()) {
        return Ok(Caller::Owner);
    }
    if given.starts_with(lectern_engine::moderators::TOKEN_PREFIX) {
        return state
            .studio
            .moderator_grant(given)
            .await
            .map(Caller::Moderator);
    }
    Err(ApiError::new(
        ErrorCode::Unauthorized,
        "the studio key is not valid",
    ))
}

async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "the studio key is required (Authorization: Bearer)",
            )
        })?;
    caller(state, given).await
}

/// `POST /api/v1/<command>`: the same commands the desktop window invokes. The body is read
/// only after the caller, the command and the content type are accepted, and only up to that
/// command's limit: a stranger cannot make the studio buffer 52 MiB.
pub(crate) async fn call(
    State(state): State<AppState>,
    Path(command): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match call_inner(&state, &command, &headers, body).await {
        Ok(value) => Json(value).into_response(),
        Err((status, err)) => (status, Json(err)).into_response(),
    }
}

async fn call_inner(
    state: &AppState,
    command: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<serde_json::Value, (StatusCode, ApiError)> {
    let plain = |err: ApiError| (status_of(err.code), err);
    let caller = authorize(state, headers).await.map_err(plain)?;
    if !api::COMMANDS.contains(&command) {
        return Err(plain(ApiError::new(
            ErrorCode::NotFound,
            format!("no such command: {command}"),
        )));
    }
    if matches!(caller, Caller::Moderator(_))
        && !lectern_engine::moderators::MODERATOR_COMMANDS.contains(&command)
    {
        return Err(plain(ApiError::new(
            ErrorCode::Forbidden,
            format!("a moderator link cannot {command}: that is the instructor's"),
        )));
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json_type {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::invalid("the body must be application/json"),
        ));
    }
    let limit = if FILE_COMMANDS.contains(&command) {
        MAX_FILE_BODY
    } else {
        MAX_BODY
    };
    let too_large = || {
        plain(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is over {limit} bytes"),
        ))
    };
    // A declared length over the limit is refused before a byte of the body is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let body = axum::body::to_bytes(body, limit).await.map_err(|e| {
        let over = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if over {
            too_large()
        } else {
            plain(ApiError::invalid(format!("reading the body: {e}")))
        }
    })?;
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| plain(ApiError::invalid(format!("the body is not JSON: {e}"))))?
    };
    if matches!(caller, Caller::Moderator(_)) && command == "overview" {
        let _: api::NoArgs = serde_json::from_value(args).map_err(|e| {
            plain(ApiError::invalid(format!(
                "bad arguments for overview: {e}"
            )))
        })?;
        let overview = state
            .studio
            .overview(api::NoArgs {})
            .await
            .map_err(plain)?
            .for_moderator();
        return serde_json::to_value(overview)
            .map_err(|e| plain(ApiError::internal(format!("encoding the overview: {e}"))));
    }
    api::dispatch(&state.studio, command, args)
        .await
        .map_err(plain)
}

/// `GET /api/v1/public`: what a student's page may know.
pub(crate) async fn public(State(state): State<AppState>) -> Response {
    match state.studio.public_info().await {
        Ok(info) => Json(info).into_response(),
        Err(err) => error_response(err).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientHello {
    Auth { key: String },
}

/// `GET /api/v1/events`: a WebSocket of [`StudioEvent`]s after an auth message.
pub(crate) async fn events(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    ws.max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        .max_write_buffer_size(1 << 20)
        .on_upgrade(move |socket| event_session(socket, state))
}

async fn close(mut socket: WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

async fn event_session(mut socket: WebSocket, state: AppState) {
    let first = tokio::time::timeout(AUTH_DEADLINE, socket.recv()).await;
    let key = match first {
        Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str::<ClientHello>(&text) {
            Ok(ClientHello::Auth { key }) => Some(key),
            Err(_) => None,
        },
        _ => None,
    };
    let caller = match key {
        Some(key) => caller(&state, &key).await.ok(),
        None => None,
    };
    let Some(caller) = caller else {
        return close(socket, 4401, "unauthorized").await;
    };
    // Subscribe before saying ready, so nothing between the two is missed.
    let mut events = state.studio.subscribe();
    if socket
        .send(Message::Text(r#"{"type":"ready"}"#.into()))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            event = events.recv() => {
                let event = match event {
                    Ok(event) => event,
                    // A slow screen missed events: tell it to refetch rather than pretend.
                    Err(RecvError::Lagged(_)) => StudioEvent::SchoolChanged,
                    Err(RecvError::Closed) => break,
                };
                if let Caller::Moderator(grant) = &caller {
                    match &event {
                        StudioEvent::SchoolChanged => {}
                        StudioEvent::ModeratorLinkRevoked { id } if *id == grant.link_id => {
                            return close(socket, 4401, "this moderator link was revoked").await;
                        }
                        // Network addresses and backups are the instructor's business.
                        _ => continue,
                    }
                }
                let Ok(text) = serde_json::to_string(&event) else { continue };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    }
}
