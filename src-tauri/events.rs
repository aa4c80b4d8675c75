//! Engine events to the window: every `StudioEvent` becomes a `studio-event` Tauri event.

use lectern_engine::Studio;
use lectern_engine::api::StudioEvent;
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

/// The Tauri event name the UI's platform seam listens to.
pub const STUDIO_EVENT: &str = "studio-event";

/// Forward engine events to the window until the engine stops.
pub fn forward(app: AppHandle, studio: &Studio) {
    let mut events = studio.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                // The window fell behind: have it refetch rather than miss a change.
                Err(RecvError::Lagged(_)) => StudioEvent::SchoolChanged,
                Err(RecvError::Closed) => break,
            };
            if let Err(err) = app.emit(STUDIO_EVENT, &event) {
                tracing::warn!(error = %err, "forwarding an event to the window");
            }
        }
    });
}
