//! The window's capture as the broadcast's source: the window encodes (WebCodecs) and sends
//! each chunk as raw bytes (`window_frame`, the format in `lectern_engine::capture`); viewers'
//! keyframe requests come back on the channel given to `start_window_source`. One call each on
//! the `Studio`.

use lectern_engine::capture::StartWindowSource;
use lectern_engine::{ApiError, BroadcastStatus, Studio};
use tauri::State;
use tauri::ipc::{Channel, InvokeBody, Request};

#[tauri::command]
pub async fn start_window_source(
    studio: State<'_, Studio>,
    args: StartWindowSource,
    keyframes: Channel<bool>,
) -> Result<BroadcastStatus, ApiError> {
    studio
        .start_window_source(args, move || keyframes.send(true).is_ok())
        .await
}

#[tauri::command]
pub fn window_frame(studio: State<'_, Studio>, request: Request<'_>) -> Result<(), ApiError> {
    studio.push_window_frame(raw_body(&request))
}

/// The raw bytes of a binary invoke (a JSON body is no frame: empty, refused by the engine).
fn raw_body<'a>(request: &'a Request<'_>) -> &'a [u8] {
    match request.body() {
        InvokeBody::Raw(bytes) => bytes,
        InvokeBody::Json(_) => &[],
    }
}
