//! The live room in the desktop window: the IPC transport of the engine's room session. The
//! window joins as the instructor (it is the owner's own window); frames reach it through a
//! Tauri channel as the same JSON text a `/room` WebSocket carries, and its frames go back
//! through `room_send`. One line each, like the other commands.

use lectern_engine::room_session::{RoomConnected, RoomJoin, RoomLeave, RoomSend, Seat};
use lectern_engine::{ApiError, Studio};
use tauri::State;
use tauri::ipc::{Channel, InvokeResponseBody};

#[tauri::command]
pub async fn room_join(
    studio: State<'_, Studio>,
    args: RoomJoin,
    frames: Channel,
) -> Result<RoomConnected, ApiError> {
    Ok(
        studio.connect_room(Seat::Instructor, args.hello, move |text| {
            frames.send(InvokeResponseBody::Json(text)).is_ok()
        }),
    )
}

#[tauri::command]
pub async fn room_send(studio: State<'_, Studio>, args: RoomSend) -> Result<(), ApiError> {
    studio.room_send(args).await
}

#[tauri::command]
pub async fn room_leave(studio: State<'_, Studio>, args: RoomLeave) -> Result<(), ApiError> {
    studio.room_leave(args).await
}
