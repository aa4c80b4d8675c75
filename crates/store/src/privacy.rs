//! Privacy: erasing one viewer, exporting what is kept about them, and redacting old chat.
//!
//! The event log is append-only (triggers refuse UPDATE and DELETE). Erasure is the one
//! deliberate exception: migration 4 makes the triggers stand aside only while the
//! `erase_permit` table holds a row, and only the functions here insert that row, inside the
//! same transaction as the erasure (so a crash leaves either everything or nothing erased, and
//! never an open permit).
//!
//! **Erasing a viewer** deletes every event they caused, and in every other event that names
//! them (a message they wrote that staff pinned, a timeout, a card shown to them) replaces their
//! id with `"erased"` and drops the text and name next to it. With `secure_delete` on, SQLite
//! overwrites the freed content; a truncating WAL checkpoint then removes the old copies from
//! the write-ahead log, so the text is gone from the files themselves.
//!
//! **Chat retention** replaces the text of chat messages older than a cut-off with nothing,
//! keeping the events themselves, so counts (engagement, chat per minute) stay as they were.

use lectern_room::EventKind;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use crate::{Store, StoreError};

/// Migration 4: the erase path (see the module docs).
pub(crate) const V4_ERASE_PATH: &str = r#"
CREATE TABLE erase_permit (
    one INTEGER PRIMARY KEY CHECK (one = 1)
) STRICT;
CREATE TABLE erasures (
    id             INTEGER PRIMARY KEY,
    at_ms          INTEGER NOT NULL,
    what           TEXT    NOT NULL CHECK (what IN ('viewer', 'chat_retention')),
    events_deleted INTEGER NOT NULL,
    events_redacted INTEGER NOT NULL
) STRICT;
DROP TRIGGER events_are_append_only_update;
DROP TRIGGER events_are_append_only_delete;
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
WHEN NOT EXISTS (SELECT 1 FROM erase_permit)
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: events cannot be changed');
END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
WHEN NOT EXISTS (SELECT 1 FROM erase_permit)
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted');
END;
"#;

/// What an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Erased {
    /// Events removed (those the viewer caused).
    pub deleted: u64,
    /// Other events from which their id, names and texts were removed.
    pub redacted: u64,
    /// Purchases that named them (as the buyer, or in a checkout reference code): kept for the
    /// school's sales, under an anonymous buyer `erased-N` / without their id in the code.
    pub purchases: u64,
    /// Their learner row (1 or 0): removed, with its name and email hash.
    pub learners: u64,
}

/// Replace every object member equal to `id` with `"erased"` (engagement reads that id as
/// nobody: `lectern_insights::engagement::ERASED_VIEWER`) and drop text-like members of
/// that object. Returns whether anything changed.
fn scrub(value: &mut Value, id: &str) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = false;
            let names_them = map.values().any(|v| v.as_str() == Some(id));
            if names_them {
                for v in map.values_mut() {
                    if v.as_str() == Some(id) {
                        *v = Value::String("erased".into());
                    }
                }
                for key in ["text", "name", "display_name", "email"] {
                    if map.remove(key).is_some() {
                        map.insert(key.to_owned(), Value::Null);
                    }
                }
                changed = true;
            }
            for v in map.values_mut() {
                changed |= scrub(v, id);
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |acc, v| scrub(v, id) | acc),
        Value::String(s) if s == id => {
            *s = "erased".into();
            true
        }
        _ => false,
    }
}

/// Drop the `text` of every message object in a chat payload.
fn drop_texts(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = false;
            if let Some(text) = map.get_mut("text")
                && !text.is_null()
            {
                *text = Value::Null;
                changed = true;
            }
            for v in map.values_mut() {
                changed |= drop_texts(v);
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |acc, v| drop_texts(v) | acc),
        _ => false,
    }
}

impl Store {
    /// Everything the log keeps that names `viewer`: the events they caused and those that
    /// mention them, oldest first, as `(session, seq, kind, payload)`.
    pub async fn viewer_events(
        &self,
        viewer: &str,
    ) -> Result<Vec<(i64, i64, String, Value)>, StoreError> {
        let viewer = check_viewer(viewer)?;
        self.read(move |conn| {
            let pattern = format!("%\"{viewer}\"%");
            let mut stmt = conn.prepare(
                "SELECT session_id, seq, kind, payload FROM events
                 WHERE actor = ?1 OR payload LIKE ?2 ORDER BY id",
            )?;
            let rows = stmt
                .query_map(params![viewer, pattern], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows
                .into_iter()
                .map(|(s, q, k, p)| (s, q, k, serde_json::from_str(&p).unwrap_or(Value::Null)))
                .collect())
        })
        .await
    }

    /// Erase a viewer (see the module docs), then checkpoint the WAL so the old text is gone
    /// from the files too.
    pub async fn erase_viewer(&self, viewer: &str, at_ms: i64) -> Result<Erased, StoreError> {
        let viewer = check_viewer(viewer)?;
        let erased = self
            .write(move |tx| {
                tx.execute_batch("PRAGMA secure_delete = ON; INSERT INTO erase_permit (one) VALUES (1);")?;
                let deleted = tx.execute("DELETE FROM events WHERE actor = ?1", [&viewer])? as u64;
                tx.execute("DELETE FROM anonymous_voters WHERE viewer = ?1", [&viewer])?;
                // What they did while watching replays (their own table, not the log).
                let deleted = deleted + tx.execute("DELETE FROM replay_events WHERE viewer = ?1", [&viewer])? as u64;
                let pattern = format!("%\"{viewer}\"%");
                let mentions: Vec<(i64, String)> = tx
                    .prepare("SELECT id, payload FROM events WHERE payload LIKE ?1")?
                    .query_map([pattern], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                let mut redacted = 0;
                for (id, payload) in mentions {
                    let Ok(mut value) = serde_json::from_str::<Value>(&payload) else { continue };
                    if scrub(&mut value, &viewer) {
                        tx.execute("UPDATE events SET payload = ?2 WHERE id = ?1", params![id, value.to_string()])?;
                        redacted += 1;
                    }
                }
                tx.execute(
                    "INSERT INTO erasures (at_ms, what, events_deleted, events_redacted) VALUES (?1, 'viewer', ?2, ?3)",
                    params![at_ms, deleted as i64, redacted as i64],
                )?;
                let erasure = tx.last_insert_rowid();
                tx.execute_batch("DELETE FROM erase_permit;")?;
                // A learner row under their viewer id (a sale marked by hand for a viewer):
                // its purchases stay for the school's sales, under an anonymous buyer.
                let joined: Option<i64> = tx
                    .query_row("SELECT joined_at_ms FROM learners WHERE id = ?1", [&viewer], |r| r.get(0))
                    .optional()?;
                let mut purchases = 0;
                let mut learners = 0;
                if let Some(joined) = joined {
                    let anonymous = format!("erased-{erasure}");
                    tx.execute(
                        "INSERT INTO learners (id, joined_at_ms) VALUES (?1, ?2)",
                        params![anonymous, joined],
                    )?;
                    purchases += tx.execute(
                        "UPDATE purchases SET learner_id = ?2 WHERE learner_id = ?1",
                        params![viewer, anonymous],
                    )? as u64;
                    learners = tx.execute("DELETE FROM learners WHERE id = ?1", [&viewer])? as u64;
                }
                // A checkout reference code `<offer>.<variant>.<viewer>` names them last.
                purchases += tx.execute(
                    "UPDATE purchases SET ref_code = substr(ref_code, 1, length(ref_code) - length(?1)) || 'erased'
                     WHERE ref_code IS NOT NULL AND substr(ref_code, -length(?1) - 1) = '.' || ?1",
                    [&viewer],
                )? as u64;
                Ok(Erased { deleted, redacted, purchases, learners })
            })
            .await?;
        self.checkpoint_truncate().await?;
        Ok(erased)
    }

    /// Remove the text of chat messages written before `cutoff_ms`, keeping the events.
    pub async fn redact_chat_before(&self, cutoff_ms: i64, at_ms: i64) -> Result<u64, StoreError> {
        let redacted = self
            .write(move |tx| {
                tx.execute_batch("PRAGMA secure_delete = ON; INSERT INTO erase_permit (one) VALUES (1);")?;
                // The room's own names of the kinds whose record carries a chat text.
                let kinds = EventKind::WITH_TEXT
                    .iter()
                    .map(|k| format!("'{}'", k.name()))
                    .collect::<Vec<_>>()
                    .join(", ");
                let rows: Vec<(i64, String)> = tx
                    .prepare(&format!(
                        "SELECT id, payload FROM events WHERE at_ms < ?1 AND kind IN ({kinds})"
                    ))?
                    .query_map([cutoff_ms], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                let mut redacted = 0u64;
                for (id, payload) in rows {
                    let Ok(mut value) = serde_json::from_str::<Value>(&payload) else { continue };
                    if drop_texts(&mut value) {
                        tx.execute("UPDATE events SET payload = ?2 WHERE id = ?1", params![id, value.to_string()])?;
                        redacted += 1;
                    }
                }
                tx.execute(
                    "INSERT INTO erasures (at_ms, what, events_deleted, events_redacted) VALUES (?1, 'chat_retention', 0, ?2)",
                    params![at_ms, redacted as i64],
                )?;
                tx.execute_batch("DELETE FROM erase_permit;")?;
                Ok(redacted)
            })
            .await?;
        if redacted > 0 {
            self.checkpoint_truncate().await?;
        }
        Ok(redacted)
    }

    /// Copy the WAL into the database and truncate it to nothing. The pool's readers are
    /// read-only, so a short-lived read-write connection does it; it waits for readers to finish.
    async fn checkpoint_truncate(&self) -> Result<(), StoreError> {
        let path = self.path().to_owned();
        let done = tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            let conn = rusqlite::Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            let (busy, _, _): (i64, i64, i64) =
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            if busy != 0 {
                return Err(StoreError::storage(
                    "the write-ahead log could not be emptied: readers were busy; try again",
                ));
            }
            Ok(())
        })
        .await;
        done.unwrap_or_else(|_| Err(StoreError::storage("the checkpoint was cancelled")))
    }
}

fn check_viewer(viewer: &str) -> Result<String, StoreError> {
    let ok = !viewer.is_empty()
        && viewer.len() <= 64
        && viewer
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok && viewer != "instructor" {
        Ok(viewer.to_owned())
    } else {
        Err(StoreError::invalid(
            "a viewer id is 1 to 64 letters, digits, '-' or '_' (and not the instructor)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{drop_texts, scrub};
    use serde_json::json;

    #[test]
    fn scrubbing_replaces_the_id_and_drops_texts_beside_it() {
        let mut v = json!({"event": {"type": "message_pinned", "message": {"id": 4, "author": "v-1", "name": "Ann", "text": "secret"}, "by": "instructor"}});
        assert!(scrub(&mut v, "v-1"));
        assert_eq!(
            v["event"]["message"],
            json!({"id": 4, "author": "erased", "name": null, "text": null})
        );
        assert_eq!(v["event"]["by"], "instructor");
        let mut other = json!({"event": {"message": {"author": "v-2", "text": "keep"}}});
        assert!(!scrub(&mut other, "v-1"));
        assert_eq!(other["event"]["message"]["text"], "keep");
    }

    #[test]
    fn retention_drops_texts_only() {
        let mut v = json!({"event": {"type": "chat_sent", "message": {"id": 1, "author": "v-1", "text": "hi"}}});
        assert!(drop_texts(&mut v));
        assert_eq!(
            v["event"]["message"],
            json!({"id": 1, "author": "v-1", "text": null})
        );
        assert!(!drop_texts(&mut v), "twice changes nothing");
    }
}
