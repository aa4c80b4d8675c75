//! `GET /room`: the live room over a WebSocket, for students, TAs and the instructor's browser.
//!
//! The connection says hello first (name, the key its browser keeps, optionally the owner key
//! and the last sequence number it saw); the server derives a pseudonymous viewer id, joins it
//! to the live class's room, and answers with a snapshot numbered by the log. From then on it
//! forwards every committed event the viewer may see (`Event::audience`), in commit order, and
//! turns each client frame into a room input. See `docs/protocol.md`.
//!
//! A TA connects with a moderator link's token as `key` and joins as `ta-<link id>`; revoking the
//! link closes its connections with 4401.
//!
//! Each address may hold a bounded number of sockets and open them at a bounded rate
//! (`crate::limits`); a write that makes no progress within the write deadline ends the
//! connection, so a client that never reads cannot hold its task and socket.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::SinkExt;
use lectern_engine::live::{Delivery, LiveRoom};
use lectern_room::{Audience, Input, MAX_FRAME_BYTES, Reply, Role, ViewerId, parse_client_frame};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::api::{AppState, Caller};
use lectern_engine::api::StudioEvent;

/// The instructor's viewer id in every room (viewers' ids start with `v-`).
const INSTRUCTOR: &str = "instructor";
/// How long a new connection may take to say hello.
const HELLO_DEADLINE: Duration = Duration::from_secs(5);
/// Most events sent to a reconnecting client from the log; past that it relies on the snapshot.
const MAX_MISSED: u32 = 5_000;

/// Open connections per viewer, so a viewer leaves only when their last tab closes.
#[derive(Default)]
pub(crate) struct Presence {
    open: Mutex<HashMap<(i64, ViewerId), usize>>,
}

impl Presence {
    fn arrive(&self, session: i64, viewer: &ViewerId) {
        if let Ok(mut open) = self.open.lock() {
            *open.entry((session, viewer.clone())).or_default() += 1;
        }
    }

    /// True when this was the viewer's last connection to the session.
    fn depart(&self, session: i64, viewer: &ViewerId) -> bool {
        let Ok(mut open) = self.open.lock() else {
            return true;
        };
        let key = (session, viewer.clone());
        match open.get_mut(&key) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            _ => {
                open.remove(&key);
                true
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Hello {
    Hello {
        v: u32,
        #[serde(default)]
        name: String,
        browser_key: String,
        /// The owner key: joins as the instructor.
        #[serde(default)]
        key: Option<String>,
        /// The last sequence number this browser saw, to receive what it missed...
        #[serde(default)]
        last_seq: Option<i64>,
        /// ...in this session (a number from another class means nothing here).
        #[serde(default)]
        session: Option<i64>,
        /// An email for purchase attribution, only with `consent` (the room keeps its hash).
        #[serde(default)]
        email: Option<String>,
        /// The viewer ticked the consent box for `email`.
        #[serde(default)]
        consent: bool,
    },
}

/// The socket with its write deadline: every write either progresses within it or the
/// connection ends (`false`), so a client that stops reading frees its task.
struct Client {
    socket: WebSocket,
    deadline: Duration,
}

impl Client {
    async fn send(&mut self, message: Message) -> bool {
        matches!(
            tokio::time::timeout(self.deadline, self.socket.send(message)).await,
            Ok(Ok(()))
        )
    }

    async fn feed(&mut self, message: Message) -> bool {
        matches!(
            tokio::time::timeout(self.deadline, self.socket.feed(message)).await,
            Ok(Ok(()))
        )
    }

    async fn flush(&mut self) -> bool {
        matches!(
            tokio::time::timeout(self.deadline, self.socket.flush()).await,
            Ok(Ok(()))
        )
    }
}

fn may_see(audience: &Audience, role: Role, viewer: &ViewerId) -> bool {
    let staff = matches!(role, Role::Instructor | Role::Ta);
    match audience {
        Audience::Everyone => true,
        Audience::Staff => staff,
        Audience::StaffAnd(who) => staff || who == viewer,
    }
}

fn event_message(delivery: &Delivery) -> String {
    delivery.wire().to_owned()
}

async fn close(mut socket: Client, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
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
            session(Client { socket, deadline }, state).await;
            drop(permit);
        })
}

async fn session(mut socket: Client, state: AppState) {
    let hello = match tokio::time::timeout(HELLO_DEADLINE, socket.socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<Hello>(&text).ok(),
        _ => None,
    };
    let Some(Hello::Hello {
        v,
        name,
        browser_key,
        key,
        last_seq,
        session: seen_session,
        email,
        consent,
    }) = hello
    else {
        return close(socket, 4400, "the first message must be a hello").await;
    };
    if v != lectern_room::PROTOCOL_VERSION {
        return close(socket, 4400, "unsupported protocol version").await;
    }
    let caller = match key {
        Some(given) => match crate::api::caller(&state, &given).await {
            Ok(caller) => Some(caller),
            Err(_) => return close(socket, 4401, "unauthorized").await,
        },
        None => None,
    };
    let (role, moderator_link) = match &caller {
        Some(Caller::Owner) => (Role::Instructor, None),
        Some(Caller::Moderator(grant)) => (Role::Ta, Some(grant.link_id)),
        None => (Role::Viewer, None),
    };
    // A TA is named by their link's label ("Sam (TA)"), whatever the page sent: the class sees
    // who moderates, and two TAs are told apart.
    let name = match &caller {
        Some(Caller::Moderator(grant)) => grant.label.chars().take(40).collect(),
        _ => name,
    };
    let Some(room) = state.studio.live_room().await else {
        return close(socket, 4404, "no class is live").await;
    };
    let viewer = match state.studio.viewer_id(&browser_key).await {
        // The owner key, not the browser, is who the instructor is: a /watch tab in the same
        // browser stays a separate viewer.
        Ok(_) if role == Role::Instructor => ViewerId::from(INSTRUCTOR),
        // A TA is its moderator link, whichever browser it uses.
        Ok(_) if let Some(link) = moderator_link => ViewerId(format!("ta-{link}")),
        Ok(viewer) => viewer,
        Err(_) => return close(socket, 4400, "a browser key is required").await,
    };
    let last_seq = last_seq.filter(|_| seen_session.is_none_or(|s| s == room.session_id()));
    // Subscribe before joining, so nothing between the snapshot and the stream is lost.
    let mut deliveries = room.subscribe();
    let joined = match room
        .submit(Input::Join {
            viewer: viewer.clone(),
            role,
            name,
            fingerprint: None,
        })
        .await
    {
        Ok(joined) => joined,
        Err(_) => return close(socket, 1011, "the room is not available").await,
    };
    let mut snapshot = None;
    for (to, reply) in &joined.replies {
        if to != &viewer {
            continue;
        }
        match reply {
            Reply::Welcome { snapshot: s } => snapshot = Some(s.clone()),
            other => {
                let _ = socket
                    .send(Message::Text(
                        json!({ "type": "reply", "reply": other })
                            .to_string()
                            .into(),
                    ))
                    .await;
                return close(socket, 4403, "refused").await;
            }
        }
    }
    let Some(snapshot) = snapshot else {
        return close(socket, 1011, "the room gave no snapshot").await;
    };
    let snapshot_seq = joined.deliveries.iter().map(|d| d.seq).max().unwrap_or(0);
    state.presence.arrive(room.session_id(), &viewer);
    let welcome = json!({
        "type": "welcome",
        "viewer": viewer,
        "role": role,
        "session": room.session_id(),
        "seq": snapshot_seq,
        "snapshot": snapshot,
    });
    let mut open = socket.send(Message::Text(welcome.to_string().into())).await;
    if open && let Some(last) = last_seq.filter(|&l| l >= 0 && l < snapshot_seq) {
        open = send_missed(
            &mut socket,
            &state,
            &room,
            role,
            &viewer,
            last,
            snapshot_seq,
        )
        .await;
        // Everything up to the snapshot has been sent; live events follow.
        let caught_up = json!({ "type": "caught_up", "seq": snapshot_seq }).to_string();
        open = open && socket.send(Message::Text(caught_up.into())).await;
    }
    // An email given at join is the same consented link as `link_email` after it; a refusal (no
    // consent, not an address, staff) comes back as a reply and the viewer stays joined.
    if open
        && last_seq.is_none()
        && let Some(email) = email
    {
        let action = lectern_room::Action::LinkEmail { email, consent };
        open = act(&mut socket, &room, &viewer, None, action).await;
    }
    let mut last_sent = snapshot_seq;
    let mut studio_events = state.studio.subscribe();
    while open {
        tokio::select! {
            event = studio_events.recv(), if moderator_link.is_some() => {
                if let Ok(StudioEvent::ModeratorLinkRevoked { id }) = event
                    && Some(id) == moderator_link
                {
                    let revoked = CloseFrame { code: 4401, reason: "this moderator link was revoked".into() };
                    let _ = socket.send(Message::Close(Some(revoked))).await;
                    open = false;
                }
            }
            () = room.ended() => {
                let ended = CloseFrame { code: 4410, reason: "the class has ended".into() };
                let _ = socket.send(Message::Close(Some(ended))).await;
                open = false;
            }
            delivery = deliveries.recv() => match delivery {
                Ok(first) => {
                    // Write everything already waiting, then flush once: one syscall for a
                    // burst instead of one per event when the room is busy.
                    let mut next = Some(first);
                    let mut wrote = false;
                    while let Some(delivery) = next.take() {
                        if delivery.seq > last_sent && may_see(&delivery.record.event.audience(), role, &viewer) {
                            last_sent = delivery.seq;
                            open = socket.feed(Message::Text(event_message(&delivery).into())).await;
                            wrote = true;
                        }
                        if !open { break; }
                        match deliveries.try_recv() {
                            Ok(more) => next = Some(more),
                            Err(TryRecvError::Lagged(_)) => {
                                let _ = socket.send(Message::Close(Some(CloseFrame { code: 4408, reason: "fell behind: reconnect".into() }))).await;
                                open = false;
                            }
                            Err(_) => {}
                        }
                    }
                    if open && wrote {
                        open = socket.flush().await;
                    }
                }
                // Too slow to keep up: it reconnects with its last number and catches up from the log.
                Err(RecvError::Lagged(_)) => {
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 4408, reason: "fell behind: reconnect".into() }))).await;
                    open = false;
                }
                Err(RecvError::Closed) => open = false,
            },
            incoming = socket.socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    open = handle_frame(&mut socket, &room, &viewer, &text).await;
                }
                Some(Ok(Message::Binary(_))) => {
                    open = send_rejection(&mut socket, "malformed", "frames are JSON text").await;
                }
                Some(Ok(_)) => {}
                None | Some(Err(_)) => open = false,
            },
        }
    }
    if state.presence.depart(room.session_id(), &viewer) {
        let _ = room.submit(Input::Leave { viewer }).await;
    }
}

async fn send_missed(
    socket: &mut Client,
    state: &AppState,
    room: &LiveRoom,
    role: Role,
    viewer: &ViewerId,
    after: i64,
    until: i64,
) -> bool {
    let Ok(store) = state.studio.store().await else {
        return true;
    };
    let Ok(events) = store
        .events_after(room.session_id(), after, MAX_MISSED)
        .await
    else {
        return true;
    };
    for event in events.into_iter().filter(|e| e.seq <= until) {
        let Ok(record) = serde_json::from_value::<lectern_room::Recorded>(event.payload) else {
            continue;
        };
        if !may_see(&record.event.audience(), role, viewer) {
            continue;
        }
        let delivery = Delivery::new(event.seq, record);
        if !socket
            .send(Message::Text(event_message(&delivery).into()))
            .await
        {
            return false;
        }
    }
    true
}

async fn send_rejection(socket: &mut Client, code: &str, message: &str) -> bool {
    // The same shape as the room's own refusals: `error` is `{ "code", ...details }`.
    let reply = json!({
        "type": "reply",
        "reply": { "type": "rejected", "client_id": null, "error": { "code": code }, "message": message },
    });
    socket.send(Message::Text(reply.to_string().into())).await
}

async fn handle_frame(socket: &mut Client, room: &LiveRoom, viewer: &ViewerId, text: &str) -> bool {
    let frame = match parse_client_frame(text) {
        Ok(frame) => frame,
        Err(err) => return send_rejection(socket, err.code(), &err.to_string()).await,
    };
    act(socket, room, viewer, frame.client_id, frame.action).await
}

/// Submit one action for `viewer`; its replies and its ack go back on the socket.
async fn act(
    socket: &mut Client,
    room: &LiveRoom,
    viewer: &ViewerId,
    client_id: Option<lectern_room::ClientId>,
    action: lectern_room::Action,
) -> bool {
    let input = Input::Act {
        viewer: viewer.clone(),
        client_id: client_id.clone(),
        action,
    };
    let submitted = match room.submit(input).await {
        Ok(submitted) => submitted,
        Err(err) => return send_rejection(socket, err.code.as_str(), &err.message).await,
    };
    for (to, reply) in &submitted.replies {
        if to == viewer
            && !socket
                .send(Message::Text(
                    json!({ "type": "reply", "reply": reply })
                        .to_string()
                        .into(),
                ))
                .await
        {
            return false;
        }
    }
    // Committed: the sender knows its input is durable (its events also arrive on the stream).
    let seqs: Vec<i64> = submitted.deliveries.iter().map(|d| d.seq).collect();
    if !seqs.is_empty() {
        let ack = json!({ "type": "ack", "client_id": client_id, "seqs": seqs });
        return socket.send(Message::Text(ack.to_string().into())).await;
    }
    true
}
