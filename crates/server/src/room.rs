//! `GET /room`: the live room over a WebSocket, for students, TAs and the instructor's browser.
//!
//! A thin adapter of the engine's room session (`lectern_engine::room_session`): this file reads
//! the hello within a deadline, decides the seat from its key (the owner key, a moderator
//! link's token, or none for a student), and carries frames between the socket and
//! [`Studio::serve_room`](lectern_engine::Studio::serve_room). See `docs/protocol.md`.
//!
//! Each address may hold a bounded number of sockets and open them at a bounded rate
//! (`crate::limits`); a write that makes no progress within the write deadline ends the
//! connection, so a client that never reads cannot hold its task and socket.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::SinkExt;
use lectern_engine::room_session::{Incoming, RoomTransport, Seat};
use lectern_room::{Close, CloseCode, Hello, MAX_FRAME_BYTES};

use crate::api::{AppState, Caller};

/// How long a new connection may take to say hello.
const HELLO_DEADLINE: Duration = Duration::from_secs(5);

/// The socket with its write deadline: every write either progresses within it or the
/// connection ends (`false`), so a client that stops reading frees its task.
struct Client {
    socket: WebSocket,
    deadline: Duration,
}

impl RoomTransport for Client {
    async fn feed(&mut self, text: String) -> bool {
        matches!(
            tokio::time::timeout(self.deadline, self.socket.feed(Message::Text(text.into()))).await,
            Ok(Ok(()))
        )
    }

    async fn flush(&mut self) -> bool {
        matches!(
            tokio::time::timeout(self.deadline, self.socket.flush()).await,
            Ok(Ok(()))
        )
    }

    async fn recv(&mut self) -> Option<Incoming> {
        loop {
            match self.socket.recv().await {
                Some(Ok(Message::Text(text))) => return Some(Incoming::Text(text.to_string())),
                Some(Ok(Message::Binary(_))) => return Some(Incoming::Binary),
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return None,
            }
        }
    }

    async fn close(&mut self, close: Close) {
        let frame = CloseFrame {
            code: close.code.number(),
            reason: close.reason.into(),
        };
        let _ = tokio::time::timeout(self.deadline, self.socket.send(Message::Close(Some(frame))))
            .await;
    }
}

/// `GET /room`.
pub(crate) async fn room(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    // Counted against its address until the socket closes; refused with 429 before upgrading.
    let permit = match state.gate.open_socket(peer.ip(), Instant::now()) {
        Ok(permit) => permit,
        Err(refusal) => return crate::limits::refusal_response(refusal),
    };
    let deadline = state.gate.limits().write_deadline;
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .max_write_buffer_size(1 << 20)
        .on_upgrade(move |socket| async move {
            session(Client { socket, deadline }, state, peer).await;
            drop(permit);
        })
}

async fn session(mut client: Client, state: AppState, peer: SocketAddr) {
    let hello = match tokio::time::timeout(HELLO_DEADLINE, client.socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<Hello>(&text).ok(),
        _ => None,
    };
    let Some(hello) = hello else {
        let close = Close::new(CloseCode::BadHello, "the first message must be a hello");
        return client.close(close).await;
    };
    let seat = match &hello.key {
        Some(given) => match crate::api::caller(&state, given).await {
            Ok(Caller::Owner) => Seat::Instructor,
            Ok(Caller::Moderator(grant)) => Seat::Ta(grant),
            Err(_) => {
                let close = Close::new(CloseCode::Unauthorized, "unauthorized");
                return client.close(close).await;
            }
        },
        None => Seat::Viewer {
            address: Some(peer.ip()),
        },
    };
    state.studio.serve_room(seat, hello, &mut client).await;
}
