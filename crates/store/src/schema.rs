//! The schema, its migrations, and the checks that decide whether a file is ours to open.
//!
//! docs/data-model.md describes every table and column; keep it true when adding a migration.

use std::io::Read;
use std::path::Path;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, Transaction};
use rusqlite_migration::{HookResult, M, Migrations};

use crate::error::{StoreError, display};

/// `PRAGMA application_id` of every Lectern school file: "LECT" in ASCII.
pub const APPLICATION_ID: i32 = 0x4C45_4354;

/// The schema version this build writes (the number of migrations).
pub const SCHEMA_VERSION: i64 = 12;

/// Name of a school that was just created.
pub const DEFAULT_SCHOOL_NAME: &str = "My school";

/// How long any connection waits for a lock held by another connection.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const V1: &str = r#"
PRAGMA application_id = 1279607636; -- 0x4C454354, "LECT": marks the file as Lectern's

CREATE TABLE school (
    id             INTEGER PRIMARY KEY CHECK (id = 1), -- exactly one row
    name           TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    is_demo        INTEGER NOT NULL DEFAULT 0 CHECK (is_demo IN (0, 1)),
    created_at_ms  INTEGER NOT NULL,
    install_secret BLOB    NOT NULL CHECK (length(install_secret) = 32)
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE courses (
    id             TEXT    PRIMARY KEY,
    title          TEXT    NOT NULL,
    level          TEXT    NOT NULL CHECK (level IN ('beginner', 'intermediate', 'advanced')),
    price_cents    INTEGER NOT NULL CHECK (price_cents >= 0),
    currency       TEXT    NOT NULL CHECK (length(currency) = 3),
    length_minutes INTEGER NOT NULL CHECK (length_minutes > 0),
    track          TEXT    NOT NULL,
    track_position INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX courses_by_track ON courses (track, track_position);

CREATE TABLE course_tags (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (course_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX course_tags_by_tag ON course_tags (tag);

CREATE TABLE learners (
    id            TEXT    PRIMARY KEY,
    joined_at_ms  INTEGER NOT NULL,
    display_name  TEXT
) STRICT;

CREATE TABLE purchases (
    id              INTEGER PRIMARY KEY,
    order_id        TEXT    NOT NULL UNIQUE,
    learner_id      TEXT    NOT NULL REFERENCES learners (id),
    course_id       TEXT    NOT NULL REFERENCES courses (id),
    purchased_at_ms INTEGER NOT NULL,
    amount_cents    INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency        TEXT    NOT NULL CHECK (length(currency) = 3),
    source          TEXT    NOT NULL CHECK (source IN ('demo', 'import', 'feed', 'manual')),
    ref_code        TEXT
) STRICT;
CREATE INDEX purchases_by_learner ON purchases (learner_id, purchased_at_ms);
CREATE INDEX purchases_by_course ON purchases (course_id, purchased_at_ms);
CREATE INDEX purchases_by_time ON purchases (purchased_at_ms);

CREATE TABLE live_sessions (
    id            INTEGER PRIMARY KEY,
    title         TEXT    NOT NULL,
    course_id     TEXT    REFERENCES courses (id),
    started_at_ms INTEGER NOT NULL,
    ended_at_ms   INTEGER CHECK (ended_at_ms IS NULL OR ended_at_ms >= started_at_ms)
) STRICT;
CREATE INDEX live_sessions_by_start ON live_sessions (started_at_ms);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES live_sessions (id),
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    kind       TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    actor      TEXT,
    at_ms      INTEGER NOT NULL,
    payload    TEXT    NOT NULL CHECK (json_valid(payload)),
    client_id  TEXT    NOT NULL UNIQUE,
    UNIQUE (session_id, seq)
) STRICT;
CREATE INDEX events_by_session_kind ON events (session_id, kind, actor);
CREATE INDEX events_by_actor ON events (actor, at_ms);

-- The event log is append-only: replays, audits and statistics rely on it never changing.
-- A later privacy feature (erasing a learner) will add its own deliberate erase path in a new
-- migration, instead of loosening these triggers.
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: events cannot be changed');
END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted');
END;
"#;

/// Version 2: moderator links for teaching assistants (tokens stored only as SHA-256 hashes).
const V2_MODERATOR_LINKS: &str = r#"
CREATE TABLE moderator_links (
    id            INTEGER PRIMARY KEY,
    label         TEXT    NOT NULL CHECK (length(label) BETWEEN 1 AND 400),
    token_hash    BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL CHECK (expires_at_ms > created_at_ms),
    revoked_at_ms INTEGER
) STRICT;
"#;

/// Version 3: consented email hashes of imported learners, and stored purchase-prediction
/// models (the blob is the model's serde JSON; `format_version` says which layout it has).
const V3_IMPORT_AND_MODELS: &str = r#"
ALTER TABLE learners ADD COLUMN email_hash TEXT
    CHECK (email_hash IS NULL OR (length(email_hash) = 64 AND email_hash NOT GLOB '*[^0-9a-f]*'));

CREATE TABLE models (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('logistic', 'forest')),
    version        INTEGER NOT NULL CHECK (version >= 1),
    created_at_ms  INTEGER NOT NULL,
    data_from_ms   INTEGER NOT NULL,
    data_to_ms     INTEGER NOT NULL CHECK (data_to_ms >= data_from_ms),
    metrics        TEXT    NOT NULL CHECK (json_valid(metrics)),
    blob           BLOB    NOT NULL,
    format_version INTEGER NOT NULL,
    UNIQUE (kind, version)
) STRICT;
"#;

/// Version 5: who taught a class (optional), so classes can be compared per instructor too.
const V5_SESSION_INSTRUCTOR: &str = r#"
ALTER TABLE live_sessions ADD COLUMN instructor TEXT
    CHECK (instructor IS NULL OR length(instructor) BETWEEN 1 AND 800);
"#;

/// Shops export purchases with a time or with a date alone; a date alone is the school's local
/// date (stored as that date's 00:00 UTC), and attribution must know which it was.
const V6_PURCHASE_DATE_ONLY: &str = r#"
ALTER TABLE purchases ADD COLUMN date_only INTEGER NOT NULL DEFAULT 0 CHECK (date_only IN (0, 1));
"#;

/// The last moment the studio knew a live class's room was running (written every few seconds
/// while it is live): after a crash, everyone still connected is recorded as leaving then.
const V7_SESSION_ALIVE: &str = r#"
ALTER TABLE live_sessions ADD COLUMN alive_at_ms INTEGER
    CHECK (alive_at_ms IS NULL OR alive_at_ms >= started_at_ms);
"#;

/// Who voted in an anonymous poll that is still open, kept apart from the event log (whose
/// ballot events name no voter) so a restart still allows one vote per viewer; a poll's rows go
/// when it closes and its voters are logged as a set. Ballots logged before this version named
/// their voter: that link is removed from them (their voters are not known any more).
const V8_ANONYMOUS_VOTERS: &str = r#"
CREATE TABLE anonymous_voters (
    session_id INTEGER NOT NULL REFERENCES live_sessions (id),
    poll       INTEGER NOT NULL CHECK (poll >= 1),
    viewer     TEXT    NOT NULL CHECK (length(viewer) BETWEEN 1 AND 128),
    PRIMARY KEY (session_id, poll, viewer)
) STRICT, WITHOUT ROWID;
INSERT INTO erase_permit (one) VALUES (1);
UPDATE events
SET actor = NULL,
    client_id = 'anonymous-ballot/' || id,
    payload = json_set(json_remove(payload, '$.event.viewer'), '$.by', json('null'), '$.client_id', json('null'))
WHERE kind = 'anonymous_ballot_cast';
DELETE FROM erase_permit;
"#;

/// Whether a class is recorded (on unless the instructor turned it off when starting it), so a
/// class resumed after a crash keeps the choice.
const V11_SESSION_RECORDED: &str = r#"
ALTER TABLE live_sessions ADD COLUMN recorded INTEGER NOT NULL DEFAULT 1 CHECK (recorded IN (0, 1));
"#;

/// Every migration, oldest first.
pub static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| Migrations::new(steps()));

/// The migration steps, oldest first. Never edit a released one: append a new `M` (and bump
/// [`SCHEMA_VERSION`]).
pub fn steps() -> Vec<M<'static>> {
    vec![
        M::up_with_hook(V1, |tx: &Transaction<'_>| -> HookResult {
            insert_school_row(tx)?;
            Ok(())
        }),
        M::up(V2_MODERATOR_LINKS),
        M::up(V3_IMPORT_AND_MODELS),
        M::up(crate::privacy::V4_ERASE_PATH),
        M::up(V5_SESSION_INSTRUCTOR),
        M::up(V6_PURCHASE_DATE_ONLY),
        M::up(V7_SESSION_ALIVE),
        M::up(V8_ANONYMOUS_VOTERS),
        M::up(crate::faq::V9_FAQ),
        M::up(crate::replay::V10_REPLAY),
        M::up(V11_SESSION_RECORDED),
        M::up(crate::replay::V12_REPLAY_WATCH),
    ]
}

/// Creates the single school row, inside the migration that creates the table, so a school
/// file never exists without its install secret.
fn insert_school_row(tx: &Transaction<'_>) -> Result<(), rusqlite::Error> {
    let secret = random_secret().map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    tx.execute(
        "INSERT INTO school (id, name, is_demo, created_at_ms, install_secret)
         VALUES (1, ?1, 0, ?2, ?3)",
        rusqlite::params![DEFAULT_SCHOOL_NAME, now_ms(), secret.as_slice()],
    )?;
    Ok(())
}

fn random_secret() -> Result<[u8; 32], std::io::Error> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(secret)
}

/// Milliseconds since the Unix epoch, by the system clock.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What the first bytes of a path say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    /// No file there.
    Missing,
    /// A zero-length file (SQLite treats it as an empty database).
    Empty,
    /// Starts with the SQLite magic string.
    Sqlite,
}

/// Looks at the file's first bytes, without opening it with SQLite, so a garbage file is
/// rejected before anything (even a lock file) is created beside it.
pub(crate) fn read_header(path: &Path) -> Result<Header, StoreError> {
    const MAGIC: &[u8; 16] = b"SQLite format 3\0";
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Header::Missing),
        Err(e) => return Err(StoreError::io(format!("open {}", display(path)), e)),
    };
    let mut head = Vec::with_capacity(16);
    (&mut file)
        .take(16)
        .read_to_end(&mut head)
        .map_err(|e| StoreError::io(format!("read {}", display(path)), e))?;
    if head.is_empty() {
        Ok(Header::Empty)
    } else if head.as_slice() == MAGIC {
        Ok(Header::Sqlite)
    } else {
        Err(StoreError::NotADatabase {
            file: display(path),
        })
    }
}

/// What an open SQLite file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An empty database: ours to initialise.
    Blank,
    /// A Lectern school at this schema version (not above ours).
    Lectern,
}

/// Tells a Lectern file from a blank one and from someone else's, without writing anything.
pub(crate) fn inspect(conn: &Connection, path: &Path) -> Result<Kind, StoreError> {
    let read = |sql: &str| -> Result<i64, StoreError> {
        conn.query_row(sql, [], |row| row.get::<_, i64>(0))
            .map_err(|e| StoreError::sqlite_at(e, path))
    };
    let app_id = read("PRAGMA application_id")?;
    let version = read("PRAGMA user_version")?;
    let objects = read("SELECT count(*) FROM sqlite_schema")?;
    if app_id == i64::from(APPLICATION_ID) {
        if version > SCHEMA_VERSION {
            return Err(StoreError::DatabaseTooNew {
                file: display(path),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(Kind::Lectern)
    } else if app_id == 0 && version == 0 && objects == 0 {
        Ok(Kind::Blank)
    } else {
        Err(StoreError::ForeignDatabase {
            file: display(path),
        })
    }
}

/// Per-connection settings every connection gets (they do not write to the file).
pub(crate) fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // FULL: a commit is on disk before it is acknowledged; measured ~800 commits/s, which the
    // grouped commits of the writer make up for.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Opens a read-write connection (creating the file only when `create`).
pub(crate) fn open_rw(path: &Path, create: bool) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
        crate::files::create_private(path)
            .map_err(|e| StoreError::io(format!("creating {}", display(path)), e))?;
    }
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| StoreError::sqlite_at(e, path))?;
    configure(&conn).map_err(|e| match e {
        StoreError::NotADatabase { .. } => StoreError::NotADatabase {
            file: display(path),
        },
        other => other,
    })?;
    Ok(conn)
}

/// Opens a read-only connection for the reader pool.
pub(crate) fn open_ro(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| StoreError::sqlite_at(e, path))?;
    configure(&conn)?;
    Ok(conn)
}

/// Checks the file, migrates it to the latest schema in one transaction, and switches it to WAL.
///
/// Nothing is written unless the file is blank or already Lectern's.
pub(crate) fn prepare(
    conn: &mut Connection,
    path: &Path,
    migrations: &Migrations<'_>,
) -> Result<(), StoreError> {
    inspect(conn, path)?;
    // rusqlite_migration runs all pending migrations in a single transaction: a failure rolls
    // every one of them back and leaves the file as it was.
    migrations.to_latest(conn)?;
    // After the migration, not before: changing the journal mode writes to the file header, and
    // a file that failed to migrate must stay byte-for-byte as it was.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::storage(format!(
            "the school file could not be switched to write-ahead logging (journal mode is {mode})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() {
        assert!(MIGRATIONS.validate().is_ok(), "{:?}", MIGRATIONS.validate());
    }

    #[test]
    fn schema_version_matches_migration_count() {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        MIGRATIONS.to_latest(&mut conn).expect("migrate");
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("user_version");
        assert_eq!(v, SCHEMA_VERSION);
    }
}
