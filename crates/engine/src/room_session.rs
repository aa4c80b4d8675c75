//! One person's connection to the live room, whatever carries it.
//!
//! The session logic lives here once: the hello, who the person is in the class (a [`Seat`]),
//! the join and its welcome snapshot, catch-up from the log by sequence number after a
//! reconnect, the audience filter ([`Audience::includes`]), acks after commit, replies, and
//! leaving when the person's last connection closes. The hosts only adapt a transport to
//! [`RoomTransport`]: `lectern-server`'s `/room` WebSocket, and the desktop window's Tauri IPC
//! channel ([`Studio::connect_room`]). Neither has a copy of the stream.
//!
//! ```text
//! transport --Hello--> Studio::serve_room(seat, hello, transport)
//!     join -> Welcome [-> missed events -> CaughtUp] -> loop {
//!         room deliveries (audience-filtered, in seq order)  -> feed ... flush
//!         transport frames -> Room input -> Reply* + Ack     -> send
//!         class ended / TA link revoked / fell behind        -> close
//!     } -> Leave (when it was the viewer's last connection)
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use lectern_room::{
    Action, ClientId, Close, CloseCode, Hello, Input, Reply, Role, RoomError, ServerFrame,
    Snapshot, ViewerId, Welcome, parse_client_frame,
};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;

use crate::api::StudioEvent;
use crate::browser_keys::KeyRefusal;
use crate::live::{Delivery, LiveRoom};
use crate::moderators::ModeratorGrant;
use crate::{ApiError, Studio};

/// The instructor's viewer id in every room (viewers' ids start with `v-`).
pub const INSTRUCTOR: &str = "instructor";
/// Most events sent to a reconnecting client from the log: the last ones before its welcome.
/// Older ones it missed are in the welcome's snapshot already, and a flood of reconnects
/// claiming `last_seq: 0` costs one short read each.
pub const MAX_MISSED: u32 = 500;
/// Frames the desktop window may have waiting for the room before it is told to slow down.
const IPC_INBOX: usize = 64;

/// Who a connection is in the class, as its host established it.
#[derive(Debug, Clone)]
pub enum Seat {
    /// The owner: the desktop window, or a browser that showed the owner key.
    Instructor,
    /// A TA, by a moderator link that is valid now.
    Ta(ModeratorGrant),
    /// A student, known by the key their browser keeps (issued by the school), connecting from
    /// `address` when the host knows it (fresh keys are counted per address).
    Viewer {
        /// The network address the connection comes from.
        address: Option<std::net::IpAddr>,
    },
}

/// A frame from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A JSON text frame: an action.
    Text(String),
    /// A binary frame (refused: frames are JSON text).
    Binary,
}

/// What carries a room connection: the host's side of it.
///
/// `feed` queues a frame, `flush` sends what is queued (a burst of events costs one write);
/// each returns `false` once the peer is gone or stopped reading. `recv` resolves with the
/// client's next frame, or `None` when it has gone.
pub trait RoomTransport: Send {
    /// Queue one frame (JSON text).
    fn feed(&mut self, text: String) -> impl Future<Output = bool> + Send;
    /// Send what is queued.
    fn flush(&mut self) -> impl Future<Output = bool> + Send;
    /// The client's next frame; `None` once it has gone.
    fn recv(&mut self) -> impl Future<Output = Option<Incoming>> + Send;
    /// End the connection with a reason.
    fn close(&mut self, close: Close) -> impl Future<Output = ()> + Send;
}

/// Queue and flush one frame; false once the peer is gone.
async fn send(transport: &mut impl RoomTransport, text: String) -> bool {
    transport.feed(text).await && transport.flush().await
}

fn frame_text(frame: &ServerFrame) -> String {
    // These frames are plain data: encoding cannot fail.
    serde_json::to_string(frame).unwrap_or_default()
}

/// Open connections per viewer, so a viewer leaves only when their last one closes.
#[derive(Default)]
pub(crate) struct Presence {
    open: Mutex<HashMap<(i64, ViewerId), usize>>,
}

impl Presence {
    fn arrive(&self, session: i64, viewer: &ViewerId) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        *open.entry((session, viewer.clone())).or_default() += 1;
    }

    /// True when this was the viewer's last connection to the session.
    fn depart(&self, session: i64, viewer: &ViewerId) -> bool {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
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

/// The desktop window's open room connections: each one's inbox, by id.
#[derive(Default)]
pub(crate) struct IpcConnections {
    next: AtomicU64,
    inboxes: Mutex<HashMap<u64, mpsc::Sender<Incoming>>>,
}

/// A joined connection, between its welcome and its end.
struct Joined {
    room: LiveRoom,
    viewer: ViewerId,
    role: Role,
    moderator_link: Option<i64>,
    /// When the TA's link expires (Unix ms): the connection closes then.
    expires_at_ms: Option<i64>,
    /// Subscribed before the join, so nothing between the snapshot and the stream is lost.
    deliveries: broadcast::Receiver<Arc<Delivery>>,
    /// The snapshot holds every event up to this number.
    welcome_seq: i64,
    /// A browser key issued to this student at this join, sent with the welcome.
    issued_key: Option<String>,
}

impl Joined {
    fn may_see(&self, delivery: &Delivery) -> bool {
        delivery
            .record
            .event
            .audience()
            .includes(self.role, &self.viewer)
    }
}

fn fell_behind() -> Close {
    Close::new(CloseCode::FellBehind, "fell behind: reconnect")
}

impl Studio {
    /// Serve one room connection from its hello to its end: what `/room` and the desktop
    /// window both run. Returns when the connection has ended (closed by either side).
    pub async fn serve_room(&self, seat: Seat, hello: Hello, transport: &mut impl RoomTransport) {
        let (mut joined, snapshot) = match self.join_room(seat, &hello, transport).await {
            Ok(joined) => joined,
            Err(close) => return transport.close(close).await,
        };
        let session = joined.room.session_id();
        self.inner.presence.arrive(session, &joined.viewer);
        if let Err(Some(close)) = self
            .run_session(&mut joined, snapshot, hello, transport)
            .await
        {
            transport.close(close).await;
        }
        if self.inner.presence.depart(session, &joined.viewer) {
            let _ = joined
                .room
                .submit(Input::Leave {
                    viewer: joined.viewer.clone(),
                })
                .await;
        }
    }

    /// Check the hello, find who this is and join the room; a refusal is sent here, the
    /// welcome by `run_session`.
    async fn join_room(
        &self,
        seat: Seat,
        hello: &Hello,
        transport: &mut impl RoomTransport,
    ) -> Result<(Joined, Box<Snapshot>), Close> {
        if hello.v != lectern_room::PROTOCOL_VERSION {
            return Err(Close::new(
                CloseCode::BadHello,
                "unsupported protocol version",
            ));
        }
        let Some(room) = self.live_room().await else {
            return Err(Close::new(CloseCode::NotLive, "no class is live"));
        };
        let mut issued_key = None;
        let expires_at_ms = match &seat {
            Seat::Ta(grant) => Some(grant.expires_at_ms),
            _ => None,
        };
        let (role, viewer, name, moderator_link) = match seat {
            // The owner, not the browser, is who the instructor is: a /watch tab in the same
            // browser stays a separate viewer.
            Seat::Instructor => (
                Role::Instructor,
                ViewerId::from(INSTRUCTOR),
                hello.name.clone(),
                None,
            ),
            // A TA is their moderator link, whichever browser they use, and is named by the
            // link's label ("Sam (TA)") whatever the page sent: the class sees who moderates,
            // and two TAs are told apart.
            Seat::Ta(grant) => (
                Role::Ta,
                ViewerId(format!("ta-{}", grant.link_id)),
                grant.label.chars().take(40).collect(),
                Some(grant.link_id),
            ),
            Seat::Viewer { address } => {
                let (viewer, issued) = self.student(hello, address, transport).await?;
                issued_key = issued;
                if let Some(address) = address {
                    let session = room.session_id();
                    self.inner
                        .browser_keys
                        .gate()
                        .joined(session, &viewer, address);
                }
                (Role::Viewer, viewer, hello.name.clone(), None)
            }
        };
        let deliveries = room.subscribe();
        let joined = room
            .submit(Input::Join {
                viewer: viewer.clone(),
                role,
                name,
                fingerprint: None,
            })
            .await
            .map_err(|_| Close::new(CloseCode::Unavailable, "the room is not available"))?;
        let mut snapshot = None;
        for (to, reply) in joined.replies {
            if to != viewer {
                continue;
            }
            match reply {
                Reply::Welcome { snapshot: s } => snapshot = Some(s),
                other => {
                    send(transport, frame_text(&ServerFrame::Reply { reply: other })).await;
                    return Err(Close::new(CloseCode::Refused, "refused"));
                }
            }
        }
        let snapshot = snapshot
            .ok_or_else(|| Close::new(CloseCode::Unavailable, "the room gave no snapshot"))?;
        let welcome_seq = joined.deliveries.iter().map(|d| d.seq).max().unwrap_or(0);
        Ok((
            Joined {
                room,
                viewer,
                role,
                moderator_link,
                expires_at_ms,
                deliveries,
                welcome_seq,
                issued_key,
            },
            snapshot,
        ))
    }

    /// Who a student is: the viewer their browser key names when this school issued it, else
    /// a new key (when their address may have one) and its viewer.
    async fn student(
        &self,
        hello: &Hello,
        address: Option<std::net::IpAddr>,
        transport: &mut impl RoomTransport,
    ) -> Result<(ViewerId, Option<String>), Close> {
        if let Ok(viewer) = self.viewer_id(&hello.browser_key).await {
            return Ok((viewer, None));
        }
        match self
            .issue_browser_key(address, Some(&hello.browser_key))
            .await
        {
            Ok(Ok((key, viewer))) => Ok((viewer, Some(key))),
            Ok(Err(refusal)) => {
                let message = refusal.message();
                let error = match refusal {
                    KeyRefusal::TooMany { retry_after_ms } => {
                        RoomError::RateLimited { retry_after_ms }
                    }
                    KeyRefusal::AddressBanned => RoomError::Banned,
                };
                let reply = Reply::Rejected {
                    client_id: None,
                    error,
                    message,
                };
                send(transport, frame_text(&ServerFrame::Reply { reply })).await;
                Err(Close::new(CloseCode::Refused, "refused"))
            }
            Err(err) => {
                tracing::warn!(
                    code = err.code.as_str(),
                    "issuing a browser key failed: {}",
                    err.message
                );
                Err(Close::new(
                    CloseCode::Unavailable,
                    "no browser key could be issued",
                ))
            }
        }
    }

    /// From the welcome to the end. `Err(Some(close))` ends the connection with a reason;
    /// `Err(None)` means the transport has gone.
    async fn run_session(
        &self,
        joined: &mut Joined,
        snapshot: Box<Snapshot>,
        hello: Hello,
        transport: &mut impl RoomTransport,
    ) -> Result<(), Option<Close>> {
        let welcome_seq = joined.welcome_seq;
        let welcome = ServerFrame::Welcome(Welcome {
            viewer: joined.viewer.clone(),
            role: joined.role,
            session: joined.room.session_id(),
            seq: welcome_seq,
            snapshot,
            browser_key: joined.issued_key.take(),
        });
        delivered(send(transport, frame_text(&welcome)).await)?;
        // A number from another class means nothing here.
        let last_seq = hello
            .last_seq
            .filter(|_| hello.session.is_none_or(|s| s == joined.room.session_id()));
        if let Some(last) = last_seq.filter(|&l| l >= 0 && l < welcome_seq) {
            self.send_missed(joined, last, transport).await?;
            // Everything up to the snapshot has been sent; live events follow.
            let caught_up = ServerFrame::CaughtUp { seq: welcome_seq };
            delivered(send(transport, frame_text(&caught_up)).await)?;
        }
        // An email given at join is the same consented link as `link_email` after it; a refusal
        // (no consent, not an address, staff) comes back as a reply and the viewer stays joined.
        if last_seq.is_none()
            && let Some(email) = hello.email
        {
            let action = Action::LinkEmail {
                email,
                consent: hello.consent,
            };
            act(joined, None, action, transport).await?;
        }
        // A personal join link names the learner this viewer is, once its signature checks;
        // a bad one is refused in words and the viewer stays joined, unlinked.
        if last_seq.is_none()
            && let Some(link) = hello.learner_link.as_ref()
            && !joined.role.is_staff()
        {
            match self.verify_learner_link(link).await {
                Ok(learner) => {
                    let input = Input::LinkLearner {
                        viewer: joined.viewer.clone(),
                        learner,
                    };
                    if let Err(err) = joined.room.submit(input).await {
                        let error = RoomError::Unavailable {
                            reason: err.message,
                        };
                        reject(transport, None, error).await?;
                    }
                }
                Err(err) => {
                    let error = RoomError::Invalid {
                        reason: err.message,
                    };
                    reject(transport, None, error).await?;
                }
            }
        }
        let mut last_sent = welcome_seq;
        let mut studio_events = self.subscribe();
        // A TA's link that runs out during the class ends its connection then.
        let left = joined
            .expires_at_ms
            .map(|at| u64::try_from(at.saturating_sub(crate::studio::now_ms())).unwrap_or(0));
        let expiry = tokio::time::sleep(std::time::Duration::from_millis(left.unwrap_or(0)));
        tokio::pin!(expiry);
        loop {
            tokio::select! {
                () = &mut expiry, if left.is_some() => {
                    return Err(Some(Close::new(CloseCode::Unauthorized, "this moderator link has expired")));
                }
                event = studio_events.recv(), if joined.moderator_link.is_some() => {
                    if let Ok(StudioEvent::ModeratorLinkRevoked { id }) = event
                        && Some(id) == joined.moderator_link
                    {
                        return Err(Some(Close::new(CloseCode::Unauthorized, "this moderator link was revoked")));
                    }
                }
                () = joined.room.ended() => {
                    return Err(Some(Close::new(CloseCode::Ended, "the class has ended")));
                }
                delivery = joined.deliveries.recv() => match delivery {
                    Ok(first) => forward(joined, first, &mut last_sent, transport).await?,
                    // Too slow to keep up: it reconnects with its last number and catches up
                    // from the log.
                    Err(RecvError::Lagged(_)) => return Err(Some(fell_behind())),
                    Err(RecvError::Closed) => return Err(None),
                },
                incoming = transport.recv() => match incoming {
                    Some(Incoming::Text(text)) => match parse_client_frame(&text) {
                        Ok(frame) => {
                            let address_ban = match &frame.action {
                                Action::Ban { viewer, address: true } => Some(viewer.clone()),
                                _ => None,
                            };
                            let accepted = act(joined, frame.client_id, frame.action, transport).await?;
                            if accepted && let Some(target) = address_ban {
                                let session = joined.room.session_id();
                                self.inner.browser_keys.gate().ban_address_of(session, &target);
                            }
                        }
                        Err(err) => reject(transport, None, err).await?,
                    },
                    Some(Incoming::Binary) => {
                        let err = RoomError::Malformed { reason: "frames are JSON text".into() };
                        reject(transport, None, err).await?;
                    }
                    None => return Err(None),
                },
            }
        }
    }

    /// After a reconnect: the events the client missed, up to the welcome, from the log. A log
    /// that cannot be read ends the connection (`catch_up_failed`) rather than skipping a gap.
    async fn send_missed(
        &self,
        joined: &Joined,
        after: i64,
        transport: &mut impl RoomTransport,
    ) -> Result<(), Option<Close>> {
        let catch_up_failed = |err: ApiError| {
            tracing::warn!(
                code = err.code.as_str(),
                "catch-up from the log failed: {}",
                err.message
            );
            Some(Close::new(
                CloseCode::CatchUpFailed,
                "what you missed could not be read from the school file; reconnecting",
            ))
        };
        let store = self.store().await.map_err(catch_up_failed)?;
        let after = after.max(joined.welcome_seq - i64::from(MAX_MISSED));
        let events = store
            .events_after(joined.room.session_id(), after, MAX_MISSED)
            .await
            .map_err(|e| catch_up_failed(e.into()))?;
        for event in events.into_iter().filter(|e| e.seq <= joined.welcome_seq) {
            let record =
                serde_json::from_value::<lectern_room::Recorded>(event.payload).map_err(|e| {
                    catch_up_failed(ApiError::new(
                        crate::ErrorCode::Storage,
                        format!("event {} is not a room event: {e}", event.seq),
                    ))
                })?;
            let delivery = Delivery::new(event.seq, record);
            if joined.may_see(&delivery) {
                delivered(transport.feed(delivery.wire().to_owned()).await)?;
            }
        }
        delivered(transport.flush().await)
    }
}

fn delivered(ok: bool) -> Result<(), Option<Close>> {
    if ok { Ok(()) } else { Err(None) }
}

/// Write `first` and everything already waiting behind it, then flush once: one write for a
/// burst instead of one per event when the room is busy.
async fn forward(
    joined: &mut Joined,
    first: Arc<Delivery>,
    last_sent: &mut i64,
    transport: &mut impl RoomTransport,
) -> Result<(), Option<Close>> {
    let mut next = Some(first);
    let mut wrote = false;
    while let Some(delivery) = next.take() {
        if delivery.seq > *last_sent && joined.may_see(&delivery) {
            *last_sent = delivery.seq;
            delivered(transport.feed(delivery.wire().to_owned()).await)?;
            wrote = true;
        }
        match joined.deliveries.try_recv() {
            Ok(more) => next = Some(more),
            Err(TryRecvError::Lagged(_)) => return Err(Some(fell_behind())),
            Err(_) => {}
        }
    }
    if wrote {
        delivered(transport.flush().await)?;
    }
    Ok(())
}

/// A refusal of a frame, in the room's own reply shape.
async fn reject(
    transport: &mut impl RoomTransport,
    client_id: Option<ClientId>,
    error: RoomError,
) -> Result<(), Option<Close>> {
    let message = error.to_string();
    let reply = Reply::Rejected {
        client_id,
        error,
        message,
    };
    delivered(send(transport, frame_text(&ServerFrame::Reply { reply })).await)
}

/// Submit one action for the joined person; its replies and its ack go back on the transport.
/// `Ok(true)` when the room took it (no refusal came back).
async fn act(
    joined: &Joined,
    client_id: Option<ClientId>,
    action: Action,
    transport: &mut impl RoomTransport,
) -> Result<bool, Option<Close>> {
    let input = Input::Act {
        viewer: joined.viewer.clone(),
        client_id: client_id.clone(),
        action,
    };
    let submitted = match joined.room.submit(input).await {
        Ok(submitted) => submitted,
        Err(err) => {
            // Nothing was saved, so nothing is acknowledged: the client may send it again.
            let reason = if err.code == crate::ErrorCode::DiskFull {
                "the class cannot save anything right now (the studio's disk is full), so this \
                 was not sent; try again in a moment"
                    .to_owned()
            } else {
                err.message
            };
            let error = RoomError::Unavailable { reason };
            return reject(transport, client_id, error).await.map(|()| false);
        }
    };
    let mut accepted = true;
    for (to, reply) in submitted.replies {
        if to == joined.viewer {
            accepted &= !matches!(reply, Reply::Rejected { .. });
            delivered(
                transport
                    .feed(frame_text(&ServerFrame::Reply { reply }))
                    .await,
            )?;
        }
    }
    // Committed: the sender knows its input is durable (its events also arrive on the stream).
    let seqs: Vec<i64> = submitted.deliveries.iter().map(|d| d.seq).collect();
    if !seqs.is_empty() {
        let ack = ServerFrame::Ack { client_id, seqs };
        delivered(transport.feed(frame_text(&ack)).await)?;
    }
    delivered(transport.flush().await)?;
    Ok(accepted)
}

/// Join the live room from the desktop window.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoomJoin {
    /// The same hello a `/room` WebSocket sends first (its `key` is not needed: the window is
    /// the instructor's).
    pub hello: Hello,
}

/// `room_join`'s answer: the desktop window's handle on its connection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RoomConnected {
    /// Names the connection in `room_send` and `room_leave`.
    pub connection: u64,
}

/// A frame from the desktop window to its room connection.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoomSend {
    /// From `room_join`.
    pub connection: u64,
    /// The client frame, as JSON text (as on `/room`).
    pub frame: String,
}

/// Close one of the desktop window's room connections.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoomLeave {
    /// From `room_join`.
    pub connection: u64,
}

/// A room connection carried by messages (the desktop window's IPC channel): frames go out
/// through `deliver`, frames come in through the inbox `room_send` fills.
struct IpcTransport<D> {
    deliver: D,
    inbox: mpsc::Receiver<Incoming>,
    queued: Vec<String>,
}

impl<D: Fn(String) -> bool + Send + Sync> RoomTransport for IpcTransport<D> {
    async fn feed(&mut self, text: String) -> bool {
        self.queued.push(text);
        true
    }

    async fn flush(&mut self) -> bool {
        self.queued.drain(..).all(|text| (self.deliver)(text))
    }

    async fn recv(&mut self) -> Option<Incoming> {
        self.inbox.recv().await
    }

    async fn close(&mut self, close: Close) {
        self.queued.push(frame_text(&close.frame()));
        self.flush().await;
        self.inbox.close();
    }
}

impl Studio {
    /// Open a room connection carried by messages, for the desktop window: the instructor's
    /// seat, frames out through `deliver` (false once the window has gone), frames in through
    /// [`Studio::room_send`]. A join that fails ends with a `closed` frame through `deliver`.
    pub fn connect_room(
        &self,
        seat: Seat,
        hello: Hello,
        deliver: impl Fn(String) -> bool + Send + Sync + 'static,
    ) -> RoomConnected {
        let ipc = &self.inner.ipc_rooms;
        let connection = ipc.next.fetch_add(1, Ordering::Relaxed) + 1;
        let (inbox_tx, inbox) = mpsc::channel(IPC_INBOX);
        ipc.inboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(connection, inbox_tx);
        let studio = self.clone();
        tokio::spawn(async move {
            let mut transport = IpcTransport {
                deliver,
                inbox,
                queued: vec![],
            };
            studio.serve_room(seat, hello, &mut transport).await;
            studio
                .inner
                .ipc_rooms
                .inboxes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&connection);
        });
        RoomConnected { connection }
    }

    /// Hand a frame to one of the window's room connections, in order.
    ///
    /// # Errors
    /// `not_found` when the connection has ended; `over_capacity` when it has 64 frames waiting.
    pub async fn room_send(&self, args: RoomSend) -> Result<(), ApiError> {
        let inbox = self
            .inner
            .ipc_rooms
            .inboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&args.connection)
            .cloned()
            .ok_or_else(|| {
                ApiError::new(crate::ErrorCode::NotFound, "this room connection has ended")
            })?;
        inbox
            .try_send(Incoming::Text(args.frame))
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => ApiError::new(
                    crate::ErrorCode::OverCapacity,
                    "too many frames waiting for the room: slow down",
                ),
                mpsc::error::TrySendError::Closed(_) => {
                    ApiError::new(crate::ErrorCode::NotFound, "this room connection has ended")
                }
            })
    }

    /// End one of the window's room connections (the person leaves if it was their last).
    pub async fn room_leave(&self, args: RoomLeave) -> Result<(), ApiError> {
        self.inner
            .ipc_rooms
            .inboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&args.connection);
        Ok(())
    }

    /// End every message-carried room connection: the window that held them reloaded.
    pub fn leave_ipc_rooms(&self) {
        self.inner
            .ipc_rooms
            .inboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
