//! Recordings and replay: when each class's recording file started (so the log's times become
//! offsets into the video), and what students did while watching a replay (reactions,
//! questions). Replay events live in their own table, never in the event log, so a replay
//! never changes a live class's numbers (engagement, experiments, reports).

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::store::Store;

/// Version 10: recordings' start times and replay events.
pub(crate) const V10_REPLAY: &str = r#"
CREATE TABLE recordings (
    file          TEXT    PRIMARY KEY CHECK (length(file) BETWEEN 1 AND 200),
    session_id    INTEGER NOT NULL REFERENCES live_sessions (id),
    started_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX recordings_by_session ON recordings (session_id);
CREATE TABLE replay_events (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES live_sessions (id),
    viewer     TEXT    NOT NULL CHECK (length(viewer) BETWEEN 1 AND 128),
    kind       TEXT    NOT NULL CHECK (kind IN ('reaction', 'question')),
    payload    TEXT    NOT NULL CHECK (json_valid(payload) AND length(payload) <= 8000),
    offset_ms  INTEGER NOT NULL CHECK (offset_ms >= 0),
    at_ms      INTEGER NOT NULL,
    client_id  TEXT    NOT NULL UNIQUE CHECK (length(client_id) BETWEEN 1 AND 128)
) STRICT;
CREATE INDEX replay_events_by_session ON replay_events (session_id, offset_ms);
CREATE INDEX replay_events_by_viewer ON replay_events (viewer);
"#;

/// Version 12: replay events also say how long a student watched (`watch`, `{"watched_ms"}`
/// per stretch of playing) and which offer card they saw or clicked in the replay
/// (`offer_seen`, `offer_click`, `{"offer", "variant"}`). SQLite cannot widen a CHECK in place:
/// the table is rebuilt with its rows.
pub(crate) const V12_REPLAY_WATCH: &str = r#"
CREATE TABLE replay_events_v12 (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES live_sessions (id),
    viewer     TEXT    NOT NULL CHECK (length(viewer) BETWEEN 1 AND 128),
    kind       TEXT    NOT NULL
        CHECK (kind IN ('reaction', 'question', 'watch', 'offer_seen', 'offer_click')),
    payload    TEXT    NOT NULL CHECK (json_valid(payload) AND length(payload) <= 8000),
    offset_ms  INTEGER NOT NULL CHECK (offset_ms >= 0),
    at_ms      INTEGER NOT NULL,
    client_id  TEXT    NOT NULL UNIQUE CHECK (length(client_id) BETWEEN 1 AND 128)
) STRICT;
INSERT INTO replay_events_v12 (id, session_id, viewer, kind, payload, offset_ms, at_ms, client_id)
    SELECT id, session_id, viewer, kind, payload, offset_ms, at_ms, client_id FROM replay_events;
DROP TABLE replay_events;
ALTER TABLE replay_events_v12 RENAME TO replay_events;
CREATE INDEX replay_events_by_session ON replay_events (session_id, offset_ms);
CREATE INDEX replay_events_by_viewer ON replay_events (viewer);
"#;

/// The recording file `file` (its name in the recordings folder) of a session and when it
/// started (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingStart {
    /// The file's name in the recordings folder (`12.webm`, `12-2.webm`).
    pub file: String,
    /// The session it recorded.
    pub session_id: i64,
    /// When it started (Unix ms): the log's times minus this are offsets into the video.
    pub started_at_ms: i64,
}

/// What a student did while watching a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayEvent {
    /// The session replayed.
    pub session_id: i64,
    /// Who (pseudonymous viewer id).
    pub viewer: String,
    /// `reaction` or `question`.
    pub kind: String,
    /// What (JSON).
    pub payload: serde_json::Value,
    /// Where in the recording (ms from its start).
    pub offset_ms: i64,
    /// When (Unix ms).
    pub at_ms: i64,
    /// The sender's unique id: a retried event is stored once.
    pub client_id: String,
}

fn row_to_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReplayEvent> {
    let payload: String = r.get(3)?;
    Ok(ReplayEvent {
        session_id: r.get(0)?,
        viewer: r.get(1)?,
        kind: r.get(2)?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        offset_ms: r.get(4)?,
        at_ms: r.get(5)?,
        client_id: r.get(6)?,
    })
}

fn check_file(file: &str) -> Result<String, StoreError> {
    let ok = !file.is_empty()
        && file.len() <= 200
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok && !file.starts_with('.') {
        Ok(file.to_owned())
    } else {
        Err(StoreError::invalid(format!(
            "not a recording file name: {file:?}"
        )))
    }
}

impl Store {
    /// Note that the recording `file` of `session_id` started at `started_at_ms`.
    pub async fn add_recording(&self, start: RecordingStart) -> Result<(), StoreError> {
        let file = check_file(&start.file)?;
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO recordings (file, session_id, started_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (file) DO UPDATE SET session_id = excluded.session_id,
                     started_at_ms = excluded.started_at_ms",
                params![file, start.session_id, start.started_at_ms],
            )?;
            Ok(())
        })
        .await
    }

    /// The recordings of a session, oldest first.
    pub async fn recordings(&self, session_id: i64) -> Result<Vec<RecordingStart>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT file, session_id, started_at_ms FROM recordings WHERE session_id = ?1
                     ORDER BY started_at_ms, file",
                )?
                .query_map([session_id], |r| {
                    Ok(RecordingStart {
                        file: r.get(0)?,
                        session_id: r.get(1)?,
                        started_at_ms: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Every recording the school knows of, oldest first (retention goes through them).
    pub async fn all_recordings(&self) -> Result<Vec<RecordingStart>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT file, session_id, started_at_ms FROM recordings ORDER BY started_at_ms",
                )?
                .query_map([], |r| {
                    Ok(RecordingStart {
                        file: r.get(0)?,
                        session_id: r.get(1)?,
                        started_at_ms: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Forget a recording (its file was deleted). Returns whether it was known.
    pub async fn remove_recording(&self, file: &str) -> Result<bool, StoreError> {
        let file = check_file(file)?;
        self.write(move |tx| Ok(tx.execute("DELETE FROM recordings WHERE file = ?1", [file])? > 0))
            .await
    }

    /// Store a replay event; a retry (same client id) is stored once. Returns whether it was new.
    pub async fn add_replay_event(&self, event: ReplayEvent) -> Result<bool, StoreError> {
        if !(1..=128).contains(&event.viewer.len()) || !(1..=128).contains(&event.client_id.len()) {
            return Err(StoreError::invalid(
                "a replay event needs a viewer and a client id",
            ));
        }
        if !matches!(
            event.kind.as_str(),
            "reaction" | "question" | "watch" | "offer_seen" | "offer_click"
        ) {
            return Err(StoreError::invalid(
                "a replay event is a reaction, a question, a stretch watched or an offer seen or clicked",
            ));
        }
        let payload = event.payload.to_string();
        if payload.len() > 8000 {
            return Err(StoreError::invalid("a replay event is at most 8000 bytes"));
        }
        self.write(move |tx| {
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT id FROM replay_events WHERE client_id = ?1",
                    [&event.client_id],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO replay_events (session_id, viewer, kind, payload, offset_ms, at_ms, client_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    event.session_id,
                    event.viewer,
                    event.kind,
                    payload,
                    event.offset_ms.max(0),
                    event.at_ms,
                    event.client_id
                ],
            )?;
            Ok(true)
        })
        .await
    }

    /// What one viewer did during replays, by time (their data export).
    pub async fn viewer_replay_events(&self, viewer: &str) -> Result<Vec<ReplayEvent>, StoreError> {
        let viewer = viewer.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT session_id, viewer, kind, payload, offset_ms, at_ms, client_id
                     FROM replay_events WHERE viewer = ?1 ORDER BY at_ms, id",
                )?
                .query_map([viewer], row_to_event)?
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A session's replay events, by offset.
    pub async fn replay_events(&self, session_id: i64) -> Result<Vec<ReplayEvent>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT session_id, viewer, kind, payload, offset_ms, at_ms, client_id
                     FROM replay_events WHERE session_id = ?1 ORDER BY offset_ms, id",
                )?
                .query_map([session_id], row_to_event)?
                .collect::<Result<_, _>>()?)
        })
        .await
    }
}
