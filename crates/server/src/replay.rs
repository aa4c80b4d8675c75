//! Replays of past classes: the page (`/replay/{session}`), its recording
//! (`/recordings/{session}.webm`, with byte ranges so the video can seek), its timeline
//! (`GET /api/v1/replay/{session}`) and students' reactions and questions while watching
//! (`POST /api/v1/replay/{session}/action`). Public like `/watch`, behind the same Host and
//! Origin guard and CSP, but each needs the replay link's key (`?r=`; the page reads it from
//! `#r=` in its address): session ids are consecutive, and a class is only for those given its
//! link. Only a finalized recording of an ended class is served.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use lectern_engine::replay::ReplayAction;
use lectern_engine::{ApiError, ErrorCode};
use tower::ServiceExt;

use crate::api::{AppState, error_response};

/// The replay link's key (`?r=`), which every replay request carries (see
/// `Studio::replay_key`).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ReplayKey {
    r: Option<String>,
}

fn session(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no replay {raw}")))
}

/// `GET /replay/{session}`: the replay page (it reads the session from its address).
pub(crate) async fn page() -> Response {
    crate::assets::serve("replay.html")
}

/// `GET /recordings/{file}`: a finalized recording of an ended class, with `Range` support
/// (206 with `Content-Range`, 416 for a range outside the file, `Accept-Ranges: bytes`), by
/// `tower-http`'s `ServeFile`.
pub(crate) async fn recording(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(key): Query<ReplayKey>,
    request: Request,
) -> Response {
    let checked = match lectern_engine::replay::session_of(&file) {
        Some(id) => state.studio.check_replay_key(id, key.r.as_deref()).await,
        None => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no recording {file}"),
        )),
    };
    if let Err(err) = checked {
        return error_response(err).into_response();
    }
    let path = match state.studio.recording_file(&file).await {
        Ok(path) => path,
        Err(err) => return error_response(err).into_response(),
    };
    // The type comes from the name: `.webm` is `video/webm`.
    let served = tower_http::services::ServeFile::new(&path)
        .oneshot(request)
        .await;
    match served {
        Ok(response) => {
            let mut response = response.map(axum::body::Body::new);
            // A finished recording never changes; it may be deleted, so not immutable.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        Err(err) => {
            error_response(ApiError::internal(format!("reading {file}: {err}"))).into_response()
        }
    }
}

/// `GET /api/v1/replay/{session}`: the video's address and the timeline as students saw it.
pub(crate) async fn timeline(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(key): Query<ReplayKey>,
) -> Response {
    let result = async {
        let id = session(&raw)?;
        state.studio.check_replay_key(id, key.r.as_deref()).await?;
        state.studio.replay(id).await
    }
    .await;
    match result {
        Ok(replay) => Json(replay).into_response(),
        Err(err) => error_response(err).into_response(),
    }
}

/// `POST /api/v1/replay/{session}/action`: what a student does during a replay (a reaction, a question, a stretch watched, an offer seen or clicked), stored
/// apart from the class's log.
pub(crate) async fn action(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
    Query(key): Query<ReplayKey>,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let id = session(&raw)?;
        state.studio.check_replay_key(id, key.r.as_deref()).await?;
        let action: ReplayAction = serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid(format!("bad replay action: {e}")))?;
        state
            .studio
            .replay_action(id, action, Some(peer.ip()))
            .await
    }
    .await;
    match result {
        Ok(done) => Json(done).into_response(),
        Err(err) => error_response(err).into_response(),
    }
}
