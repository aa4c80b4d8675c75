//! A live session's room, run as one task: the IO shell around the pure `lectern_room::Room`.
//!
//! Inputs from every connection queue up; the task takes what is queued (a batch), lets the room
//! decide each one with the current time, appends all resulting events to the event log in ONE
//! grouped write, and only after the commit fans them out (numbered by the log's per-session
//! sequence) and answers the senders. So every event a screen sees is already durable, screens
//! see events in commit order with no gap, and a busy class costs one fsync per batch rather than
//! per message. Timers (poll deadlines, the reactions second) fire as `Input::Tick`.
//!
//! If a write fails, the room's state is rebuilt from the log, so memory never holds a fact the
//! file does not.
//!
//! Each person's connection to it is a session in `room_session.rs`.
//!
//! Not yet: a test of timers under a simulated clock.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lectern_room::{Event, Input, Output, PollId, Recorded, Reply, Room, Timestamp, ViewerId};
use lectern_store::{NewEvent, Store};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::{ApiError, ErrorCode};

/// How many queued inputs one write may carry.
const MAX_BATCH: usize = 128;
/// Inputs waiting for the room before senders are told to slow down.
const QUEUE: usize = 1024;
/// Deliveries a slow subscriber may fall behind before it must resync from the log.
const FANOUT: usize = 4096;
/// How often a live room records that it still runs (`live_sessions.alive_at_ms`): after a
/// crash, presence ends at most this long after the studio stopped.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// The time source: milliseconds since the Unix epoch.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Timestamp(u64::try_from(ms).unwrap_or(u64::MAX))
    })
}

/// A committed event with its place in the session's log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// The event's sequence number in its session (1, 2, 3... in commit order).
    pub seq: i64,
    /// The event and its context; `record.event.audience()` says who may see it.
    pub record: Recorded,
    /// The wire text, made once and shared by every connection that sends it.
    #[serde(skip)]
    wire: std::sync::OnceLock<String>,
}

impl Delivery {
    /// A committed event numbered `seq`.
    pub fn new(seq: i64, record: Recorded) -> Delivery {
        Delivery {
            seq,
            record,
            wire: std::sync::OnceLock::new(),
        }
    }

    /// `{"type":"event","seq":N,"record":{...}}`, as every room connection sends it (see
    /// docs/protocol.md), serialised once however many viewers receive it.
    pub fn wire(&self) -> &str {
        // The same text as `ServerFrame::Event`, without copying the record into one.
        #[derive(Serialize)]
        #[serde(tag = "type", rename = "event")]
        struct EventFrame<'a> {
            seq: i64,
            record: &'a Recorded,
        }
        self.wire.get_or_init(|| {
            serde_json::to_string(&EventFrame {
                seq: self.seq,
                record: &self.record,
            })
            .unwrap_or_default()
        })
    }
}

/// What one input led to, once committed.
#[derive(Debug, Clone, Default)]
pub struct Submitted {
    /// The events it caused, committed and already fanned out.
    pub deliveries: Vec<Arc<Delivery>>,
    /// Direct answers (the join snapshot, a refusal, "already applied").
    pub replies: Vec<(ViewerId, Reply)>,
}

struct Command {
    input: Input,
    done: oneshot::Sender<Result<Submitted, ApiError>>,
}

/// A running room. Cheap to clone.
#[derive(Clone)]
pub struct LiveRoom {
    session_id: i64,
    commands: mpsc::Sender<Command>,
    deliveries: broadcast::Sender<Arc<Delivery>>,
    ended: watch::Sender<bool>,
}

impl std::fmt::Debug for LiveRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveRoom")
            .field("session_id", &self.session_id)
            .finish()
    }
}

fn storage(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Storage, message)
}

/// Read a session's room log back, in order.
async fn load(store: &Store, session_id: i64) -> Result<Vec<Recorded>, ApiError> {
    let mut records = vec![];
    let mut after = 0;
    loop {
        let page = store
            .events_after(session_id, after, lectern_store::MAX_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for event in page {
            let record: Recorded = serde_json::from_value(event.payload).map_err(|e| {
                storage(format!(
                    "event {} of session {session_id} is not a room event: {e}",
                    event.seq
                ))
            })?;
            records.push(record);
        }
    }
    Ok(records)
}

/// A session's room as its log and the voters kept apart from it leave it, told its class.
async fn rebuild(store: &Store, session_id: i64) -> Result<Room, ApiError> {
    let records = load(store, session_id).await?;
    let mut room = Room::replay(records.iter());
    // Offers scheduled "at minute N" and timing experiments count from the class's start.
    let started_at_ms: i64 = store
        .read(move |conn| {
            Ok(conn.query_row(
                "SELECT started_at_ms FROM live_sessions WHERE id = ?1",
                [session_id],
                |r| r.get(0),
            )?)
        })
        .await?;
    room.set_class(
        &session_id.to_string(),
        Timestamp(u64::try_from(started_at_ms).unwrap_or(0)),
    );
    let secret = store.install_secret().await?;
    room.set_email_key(crate::studio::email_key(secret.expose())?);
    for (poll, viewer) in store.anonymous_voters(session_id).await? {
        room.restore_voter(PollId(poll), ViewerId(viewer));
    }
    // An offer for one segment still reaches its members only: who they are is recomputed
    // from the school (names are kept across computations). A segment that no longer exists
    // reaches nobody, and says so in the log.
    for segment in room.offer_segments() {
        match crate::audience::segment_audience(store, &segment).await {
            Ok(found) => {
                room.set_segment_members(
                    &segment,
                    found.viewers.into_iter().map(ViewerId).collect(),
                );
            }
            Err(e) => tracing::warn!(
                %segment,
                "an offer's segment was not found again: its card reaches nobody: {}",
                e.message
            ),
        }
    }
    Ok(room)
}

fn new_event(session_id: i64, record: &Recorded, index: usize) -> Result<NewEvent, ApiError> {
    let payload = serde_json::to_value(record)
        .map_err(|e| ApiError::internal(format!("encoding an event: {e}")))?;
    let kind = payload["event"]["type"]
        .as_str()
        .unwrap_or("unknown")
        .to_owned();
    let actor = record.by.as_ref().map(|v| v.0.clone());
    // The room already refuses a retried client id; the log's unique key is a second guard.
    let client_id = match (&record.by, &record.client_id) {
        (Some(by), Some(cid)) => format!("{session_id}/{}/{}/{index}", by.0, cid.0),
        _ => format!("{session_id}/room/{}", random_hex()),
    };
    Ok(NewEvent {
        session_id,
        kind,
        actor,
        at_ms: i64::try_from(record.at.0).unwrap_or(i64::MAX),
        payload,
        client_id,
    })
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    // Falling back to the time keeps ids unique enough if the OS source failed.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Told whether the room's writes reach the school file: `Some(err)` after a write failed (a
/// full disk, a failing drive), `None` after one succeeded. The studio turns the changes into
/// [`crate::api::StudioEvent::StorageProblem`] and `StorageRecovered`.
pub type StorageWatch = Arc<dyn Fn(Option<&ApiError>) + Send + Sync>;

impl LiveRoom {
    /// Open the room of `session_id`, replaying its log, and start its task.
    pub async fn open(store: Store, session_id: i64, clock: Clock) -> Result<LiveRoom, ApiError> {
        LiveRoom::open_watched(store, session_id, clock, Arc::new(|_| {})).await
    }

    /// [`LiveRoom::open`], telling `watch` whether its writes (events and heartbeats) succeed.
    pub async fn open_watched(
        store: Store,
        session_id: i64,
        clock: Clock,
        watch: StorageWatch,
    ) -> Result<LiveRoom, ApiError> {
        let mut room = rebuild(&store, session_id).await?;
        // Nobody is connected to a room just opened. If its log says otherwise, the studio
        // stopped without closing them (a crash, a kill): they left when it was last known to run.
        let lost_at = store.session_alive_at(session_id).await?;
        let lost = room.handle(
            Input::ConnectionsLost,
            Timestamp(u64::try_from(lost_at).unwrap_or(0)),
        );
        let lost = split(lost, None).events;
        if !lost.is_empty() {
            let events = (lost.iter().enumerate())
                .map(|(index, record)| new_event(session_id, record, index))
                .collect::<Result<Vec<_>, _>>()?;
            store.append(events).await?;
        }
        let (commands, queue) = mpsc::channel(QUEUE);
        let (deliveries, _) = broadcast::channel(FANOUT);
        let (ended, ended_rx) = watch::channel(false);
        tokio::spawn(run(
            store,
            session_id,
            room,
            queue,
            deliveries.clone(),
            clock,
            ended_rx,
            watch,
        ));
        Ok(LiveRoom {
            session_id,
            commands,
            deliveries,
            ended,
        })
    }

    /// End the room: its task stops after what is queued, and [`LiveRoom::ended`] fires so
    /// connections can close.
    pub fn end(&self) {
        self.ended.send_replace(true);
    }

    /// Resolves when the room has ended (at once if it already has).
    pub async fn ended(&self) {
        let mut ended = self.ended.subscribe();
        // An error means the room is gone, which is an end too.
        let _ = ended.wait_for(|&e| e).await;
    }

    /// The session this room belongs to.
    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// Every delivery from now on. A receiver that lags gets `Lagged` and must resync from the log.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Delivery>> {
        self.deliveries.subscribe()
    }

    /// Hand an input to the room; resolves once its events are committed and fanned out.
    pub async fn submit(&self, input: Input) -> Result<Submitted, ApiError> {
        let (done, answer) = oneshot::channel();
        self.commands
            .send(Command { input, done })
            .await
            .map_err(|_| ApiError::new(ErrorCode::NotFound, "this live session has closed"))?;
        answer
            .await
            .map_err(|_| ApiError::internal("the live room stopped while handling the input"))?
    }
}

struct Pending {
    done: Option<oneshot::Sender<Result<Submitted, ApiError>>>,
    events: Vec<Recorded>,
    replies: Vec<(ViewerId, Reply)>,
    /// Voters of anonymous polls: kept apart from the log, never sent.
    voters: Vec<(PollId, ViewerId)>,
}

fn split(
    outputs: Vec<Output>,
    done: Option<oneshot::Sender<Result<Submitted, ApiError>>>,
) -> Pending {
    let mut pending = Pending {
        done,
        events: vec![],
        replies: vec![],
        voters: vec![],
    };
    for output in outputs {
        match output {
            Output::Event { record } => pending.events.push(record),
            Output::Reply { to, reply } => pending.replies.push((to, reply)),
            Output::Voter { poll, viewer } => pending.voters.push((poll, viewer)),
        }
    }
    pending
}

/// Why the room's task woke up.
enum Woke {
    Input(Command),
    Timer,
    Heartbeat,
}

#[expect(
    clippy::too_many_arguments,
    reason = "the room task's parts, each moved in once at open"
)]
async fn run(
    store: Store,
    session_id: i64,
    mut room: Room,
    mut queue: mpsc::Receiver<Command>,
    deliveries: broadcast::Sender<Arc<Delivery>>,
    clock: Clock,
    mut ended: watch::Receiver<bool>,
    storage: StorageWatch,
) {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let wait = room
            .next_deadline()
            .map(|deadline| Duration::from_millis(deadline.0.saturating_sub(clock().0)));
        let woke = tokio::select! {
            command = queue.recv() => match command {
                Some(command) => Woke::Input(command),
                None => break,
            },
            _ = ended.wait_for(|&e| e) => break,
            () = tokio::time::sleep(wait.unwrap_or(Duration::ZERO)), if wait.is_some() => Woke::Timer,
            _ = heartbeat.tick() => Woke::Heartbeat,
        };
        let first = match woke {
            Woke::Input(command) => Some(command),
            Woke::Timer => None,
            Woke::Heartbeat => {
                let at = i64::try_from(clock().0).unwrap_or(i64::MAX);
                match store.mark_session_alive(session_id, at).await {
                    Ok(()) => storage(None),
                    Err(err) => {
                        tracing::warn!(session_id, error = %err, "the room's heartbeat could not be written");
                        storage(Some(&ApiError::from(err)));
                    }
                }
                continue;
            }
        };
        let now = clock();
        let mut batch = vec![];
        if first.is_none() {
            batch.push(split(room.handle(Input::Tick, now), None));
        }
        let mut next = first;
        while let Some(command) = next.take() {
            batch.push(split(room.handle(command.input, now), Some(command.done)));
            if batch.len() < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }

        let mut new_events = vec![];
        let mut voters = vec![];
        let mut settled = vec![];
        let mut encoded = Ok(());
        for pending in &batch {
            for (index, record) in pending.events.iter().enumerate() {
                if let Event::AnonymousPollVoters { poll, .. } = &record.event {
                    settled.push((session_id, poll.0));
                }
                match new_event(session_id, record, index) {
                    Ok(event) => new_events.push(event),
                    Err(err) => encoded = Err(err),
                }
            }
            for (poll, viewer) in &pending.voters {
                voters.push((session_id, poll.0, viewer.0.clone()));
            }
        }
        let committed = match encoded {
            Ok(()) if new_events.is_empty() => Ok(vec![]),
            Ok(()) => store
                .append_room(new_events, voters, settled)
                .await
                .map_err(ApiError::from),
            Err(err) => Err(err),
        };
        match committed {
            Ok(stored) => {
                if !stored.is_empty() {
                    storage(None);
                }
                let mut seqs = stored.into_iter().map(|s| s.seq);
                for pending in batch {
                    let mut submitted = Submitted {
                        deliveries: vec![],
                        replies: pending.replies,
                    };
                    for record in pending.events {
                        let seq = seqs.next().unwrap_or_default();
                        let delivery = Arc::new(Delivery::new(seq, record));
                        // Nobody listening is fine.
                        let _ = deliveries.send(delivery.clone());
                        submitted.deliveries.push(delivery);
                    }
                    if let Some(done) = pending.done {
                        let _ = done.send(Ok(submitted));
                    }
                }
            }
            Err(err) => {
                tracing::error!(session_id, error = %err, "the room's events could not be written; rebuilding from the log");
                storage(Some(&err));
                for pending in batch {
                    if let Some(done) = pending.done {
                        let _ = done.send(Err(err.clone()));
                    }
                }
                match rebuild(&store, session_id).await {
                    Ok(rebuilt) => room = rebuilt,
                    Err(err) => {
                        tracing::error!(session_id, error = %err, "the room's log cannot be read; closing the room");
                        break;
                    }
                }
            }
        }
    }
}
