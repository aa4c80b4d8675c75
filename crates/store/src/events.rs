//! The event log of live sessions: append-only, numbered per session in commit order.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// Largest accepted payload, as serialized JSON.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Longest accepted event kind.
pub const MAX_KIND_BYTES: usize = 64;
/// Longest accepted client id or actor.
pub const MAX_ID_BYTES: usize = 128;
/// Most events one `events_after` call returns, whatever limit is asked for.
pub const MAX_PAGE: u32 = 10_000;

/// An event to append; the store assigns `id` and `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// The live session it belongs to.
    pub session_id: i64,
    /// What happened: the room event's kind, `lectern_room::EventKind::name` (`viewer_joined`,
    /// `chat_sent`, ...).
    pub kind: String,
    /// Who did it (a learner id), or `None` for the studio itself.
    pub actor: Option<String>,
    /// When it happened, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Kind-specific data.
    pub payload: serde_json::Value,
    /// Unique id chosen by the sender, so a retried batch is stored once.
    pub client_id: String,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Row id, increasing in commit order across all sessions.
    pub id: i64,
    /// The live session it belongs to.
    pub session_id: i64,
    /// Position in its session: 1, 2, 3, ... in commit order, without gaps.
    pub seq: i64,
    /// What happened.
    pub kind: String,
    /// Who did it, or `None` for the studio itself.
    pub actor: Option<String>,
    /// When it happened, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Kind-specific data.
    pub payload: serde_json::Value,
    /// The sender's unique id.
    pub client_id: String,
}

/// A validated event with its payload already serialized (validation happens before the
/// request reaches the writer, so bad input never costs a transaction).
#[derive(Debug)]
pub(crate) struct CheckedEvent {
    event: NewEvent,
    payload_text: String,
}

pub(crate) fn check(events: Vec<NewEvent>) -> Result<Vec<CheckedEvent>, StoreError> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let at = |what: &str| StoreError::invalid(format!("event {i}: {what}"));
            if event.client_id.is_empty() {
                return Err(at("the client_id is empty"));
            }
            if event.client_id.len() > MAX_ID_BYTES {
                return Err(at(&format!(
                    "the client_id is longer than {MAX_ID_BYTES} bytes"
                )));
            }
            if event.kind.is_empty() {
                return Err(at("the kind is empty"));
            }
            if event.kind.len() > MAX_KIND_BYTES {
                return Err(at(&format!(
                    "the kind is longer than {MAX_KIND_BYTES} bytes"
                )));
            }
            if let Some(actor) = &event.actor
                && (actor.is_empty() || actor.len() > MAX_ID_BYTES)
            {
                return Err(at(&format!(
                    "the actor must be 1 to {MAX_ID_BYTES} bytes long"
                )));
            }
            let payload_text = serde_json::to_string(&event.payload)
                .map_err(|e| at(&format!("the payload is not valid JSON ({e})")))?;
            if payload_text.len() > MAX_PAYLOAD_BYTES {
                return Err(at(&format!(
                    "the payload is {} bytes, more than the {MAX_PAYLOAD_BYTES} allowed",
                    payload_text.len()
                )));
            }
            Ok(CheckedEvent {
                event,
                payload_text,
            })
        })
        .collect()
}

const COLUMNS: &str = "id, session_id, seq, kind, actor, at_ms, payload, client_id";

fn record(row: &Row<'_>) -> rusqlite::Result<(EventRecord, String)> {
    let payload: String = row.get(6)?;
    Ok((
        EventRecord {
            id: row.get(0)?,
            session_id: row.get(1)?,
            seq: row.get(2)?,
            kind: row.get(3)?,
            actor: row.get(4)?,
            at_ms: row.get(5)?,
            payload: serde_json::Value::Null,
            client_id: row.get(7)?,
        },
        payload,
    ))
}

fn with_payload((mut rec, text): (EventRecord, String)) -> Result<EventRecord, StoreError> {
    rec.payload = serde_json::from_str(&text)?;
    Ok(rec)
}

/// Appends inside the writer's transaction. Every event of the batch is stored, or none.
pub(crate) fn append_in(
    tx: &Transaction<'_>,
    events: Vec<CheckedEvent>,
) -> Result<Vec<EventRecord>, StoreError> {
    let mut existing = tx.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events WHERE client_id = ?1"
    ))?;
    let mut session = tx.prepare_cached("SELECT 1 FROM live_sessions WHERE id = ?1")?;
    // One writer and a UNIQUE (session_id, seq) index: MAX(seq) + 1 is an index lookup and is
    // always the next number in commit order; a rolled-back request frees its numbers again.
    let mut next_seq =
        tx.prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE session_id = ?1")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO events (session_id, seq, kind, actor, at_ms, payload, client_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
    )?;
    let mut out = Vec::with_capacity(events.len());
    for CheckedEvent {
        event,
        payload_text,
    } in events
    {
        if let Some(found) = existing.query_row([&event.client_id], record).optional()? {
            out.push(with_payload(found)?);
            continue;
        }
        if !session.exists([event.session_id])? {
            return Err(StoreError::not_found(format!(
                "The live session {}",
                event.session_id
            )));
        }
        let seq: i64 = next_seq.query_row([event.session_id], |r| r.get(0))?;
        let id: i64 = insert.query_row(
            params![
                event.session_id,
                seq,
                event.kind,
                event.actor,
                event.at_ms,
                payload_text,
                event.client_id
            ],
            |r| r.get(0),
        )?;
        out.push(EventRecord {
            id,
            session_id: event.session_id,
            seq,
            kind: event.kind,
            actor: event.actor,
            at_ms: event.at_ms,
            payload: event.payload,
            client_id: event.client_id,
        });
    }
    Ok(out)
}

/// Events of a session with `seq > after_seq`, oldest first.
pub(crate) fn after(
    conn: &Connection,
    session_id: i64,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<EventRecord>, StoreError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM live_sessions WHERE id = ?1")?
        .exists([session_id])?;
    if !exists {
        return Err(StoreError::not_found(format!(
            "The live session {session_id}"
        )));
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events WHERE session_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![session_id, after_seq, limit.min(MAX_PAGE)], record)?;
    rows.map(|row| with_payload(row?)).collect()
}
