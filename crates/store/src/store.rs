//! The `Store` handle: opening a school file, the writer, the readers, and the queries.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use rusqlite_migration::Migrations;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::error::{StoreError, display};
use crate::events::{self, EventRecord, NewEvent};
use crate::files;
use crate::lock::SchoolLock;
use crate::schema::{self, Header};
use crate::writer::{self, Message, StatsCounters, WriteJob, WriterStats};

/// Read-only connections kept for reuse; more may be open at once, the extra are closed after use.
const MAX_IDLE_READERS: usize = 4;
/// Longest school name, in characters.
pub const MAX_SCHOOL_NAME_CHARS: usize = 120;
/// Longest session title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest instructor name of a session, in characters.
pub const MAX_INSTRUCTOR_CHARS: usize = 200;
/// Longest setting key, in bytes.
pub const MAX_SETTING_KEY_BYTES: usize = 128;
/// Largest setting value, in bytes.
pub const MAX_SETTING_VALUE_BYTES: usize = 64 * 1024;

/// The school's profile (one per file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolProfile {
    /// Display name of the school.
    pub name: String,
    /// Whether this is the generated demo school.
    pub is_demo: bool,
    /// When the school file was created, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// How many rows the main tables hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Courses in the catalog.
    pub courses: u64,
    /// Learners known to the school.
    pub learners: u64,
    /// Purchases (orders of one course each).
    pub purchases: u64,
    /// Live sessions, past and current.
    pub sessions: u64,
    /// Events in all live sessions.
    pub events: u64,
}

/// A live session as listed in the studio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Session id.
    pub id: i64,
    /// Session title.
    pub title: String,
    /// Title of the course it is tied to, if any.
    pub course_title: Option<String>,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// When it ended, if it has.
    pub ended_at_ms: Option<i64>,
    /// Distinct actors with a `join` event.
    pub viewers: u64,
    /// Events in its log.
    pub events: u64,
}

/// A course of the catalog with its tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogCourse {
    /// Catalog id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `beginner`, `intermediate` or `advanced`.
    pub level: String,
    /// Price in cents of `currency`.
    pub price_cents: i64,
    /// ISO currency code.
    pub currency: String,
    /// Length in minutes.
    pub length_minutes: i64,
    /// Topics, sorted.
    pub tags: Vec<String>,
}

/// One purchase, reduced to what recommenders need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseLine {
    /// The learner (pseudonymous).
    pub learner_id: String,
    /// The course bought.
    pub course_id: String,
    /// When (Unix ms).
    pub purchased_at_ms: i64,
    /// Amount paid, in cents.
    pub amount_cents: i64,
}

/// A live session's time span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSpan {
    /// Session id.
    pub id: i64,
    /// Start (Unix ms).
    pub started_at_ms: i64,
    /// End (Unix ms), if it has ended.
    pub ended_at_ms: Option<i64>,
    /// The course taught, if the class named one.
    pub course_id: Option<String>,
}

/// One event of a session's log, without its payload: what activity measures need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityLine {
    /// The session.
    pub session_id: i64,
    /// The event's kind.
    pub kind: String,
    /// Who did it, if anyone.
    pub actor: Option<String>,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// The per-install secret, for keyed pseudonyms (HMAC). Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct InstallSecret([u8; 32]);

impl InstallSecret {
    /// The raw 32 bytes. Never log or display them.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for InstallSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstallSecret(..)")
    }
}

/// A handle on an open school file. Cheap to clone; all clones share one writer thread and one
/// pool of read-only connections.
///
/// Dropping the last clone finishes queued writes and stops the writer (blocking briefly);
/// [`Store::close`] does the same without blocking the async runtime and reports errors.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

struct Inner {
    path: PathBuf,
    sender: mpsc::Sender<Message>,
    writer: Mutex<Option<JoinHandle<Result<(), StoreError>>>>,
    readers: Mutex<Vec<Connection>>,
    stats: Arc<StatsCounters>,
}

impl Inner {
    fn stop_writer(&self) -> Result<(), StoreError> {
        // Readers first, so the writer's connection is the last one and checkpoints the WAL.
        self.readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(handle) = handle else {
            return Ok(());
        };
        // A send error means the thread is already gone; join tells how it ended.
        let _ = self.sender.send(Message::Shutdown);
        handle
            .join()
            .unwrap_or_else(|_| Err(StoreError::storage("the writer thread panicked")))
    }

    fn with_reader<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => schema::open_ro(&self.path)?,
        };
        let result = f(&conn);
        // A connection left inside a transaction would pin an old snapshot: do not reuse it.
        if conn.is_autocommit() {
            let mut pool = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if pool.len() < MAX_IDLE_READERS {
                pool.push(conn);
            }
        }
        result
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Err(err) = self.stop_writer() {
            tracing::warn!(code = err.code(), error = %err, "closing the school file failed");
        }
    }
}

/// How `open_with` treats a missing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    CreateOrOpen,
    ExistingOnly,
}

impl Store {
    /// Creates the school file if missing, or opens it; applies pending migrations
    /// (all-or-nothing) and starts the writer thread.
    ///
    /// Refuses files that are not Lectern's ([`StoreError::ForeignDatabase`],
    /// [`StoreError::NotADatabase`]) or too new, and a school another process has open
    /// ([`StoreError::DatabaseLocked`]); in each case the file is left untouched.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, Mode::CreateOrOpen, None, &schema::MIGRATIONS)
    }

    /// Opens a school file only if it exists and is a Lectern database; never creates one.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, Mode::ExistingOnly, None, &schema::MIGRATIONS)
    }

    /// Opens like [`Store::open`] but caps the file at `max_pages` pages, to simulate a full
    /// disk in tests.
    #[doc(hidden)]
    pub fn open_with_page_limit(path: &Path, max_pages: u32) -> Result<Store, StoreError> {
        Store::open_with(
            path,
            Mode::CreateOrOpen,
            Some(max_pages),
            &schema::MIGRATIONS,
        )
    }

    /// Opens with a different migration list, to test that a failing migration changes nothing.
    #[doc(hidden)]
    pub fn open_with_migrations(
        path: &Path,
        migrations: &Migrations<'_>,
    ) -> Result<Store, StoreError> {
        Store::open_with(path, Mode::CreateOrOpen, None, migrations)
    }

    fn open_with(
        path: &Path,
        mode: Mode,
        max_pages: Option<u32>,
        migrations: &Migrations<'_>,
    ) -> Result<Store, StoreError> {
        let header = schema::read_header(path)?;
        match (header, mode) {
            (Header::Missing, Mode::ExistingOnly) => {
                return Err(StoreError::not_found(format!(
                    "The school file {}",
                    display(path)
                )));
            }
            (Header::Empty, Mode::ExistingOnly) => {
                return Err(StoreError::NotADatabase {
                    file: display(path),
                });
            }
            _ => {}
        }
        let lock = SchoolLock::acquire(path)?;
        let prepared = (|| {
            let mut conn = schema::open_rw(path, mode == Mode::CreateOrOpen)?;
            schema::prepare(&mut conn, path, migrations)?;
            if let Some(pages) = max_pages {
                conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
            }
            Ok(conn)
        })();
        let conn = match prepared {
            Ok(conn) => conn,
            Err(err) => {
                if header == Header::Missing {
                    // We created it: a failed open leaves nothing behind.
                    files::remove_db_files(path);
                }
                lock.release_after_failure();
                return Err(err);
            }
        };
        let (sender, receiver) = mpsc::channel();
        let stats = Arc::new(StatsCounters::default());
        let thread_stats = Arc::clone(&stats);
        let handle = std::thread::Builder::new()
            .name("lectern-store-writer".to_owned())
            .spawn(move || writer::run(conn, lock, receiver, thread_stats))
            .map_err(|e| StoreError::io("start the writer thread", e))?;
        tracing::debug!(path = %path.display(), "school file opened");
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                sender,
                writer: Mutex::new(Some(handle)),
                readers: Mutex::new(Vec::new()),
                stats,
            }),
        })
    }

    /// The school file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Appends events through the single writer, all of the batch or none.
    ///
    /// Resolves only after COMMIT. Idempotent by `client_id`: an event whose `client_id` is
    /// already stored is not stored again, and the stored record is returned in its place.
    /// Each new event gets the next `seq` of its session, in commit order, without gaps.
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<EventRecord>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let checked = events::check(events)?;
        self.write(move |tx| events::append_in(tx, checked)).await
    }

    /// Appends a live room's events in one commit with what the room keeps apart from the log:
    /// `voters` of anonymous polls (session, poll, viewer) are added, and the voters of
    /// `settled` polls (whose voters the events now record as a set) are forgotten.
    pub async fn append_room(
        &self,
        events: Vec<NewEvent>,
        voters: Vec<(i64, u64, String)>,
        settled: Vec<(i64, u64)>,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let checked = events::check(events)?;
        if voters.iter().any(|(_, _, v)| v.is_empty() || v.len() > 128) {
            return Err(StoreError::invalid("a voter id has 1 to 128 bytes"));
        }
        self.write(move |tx| {
            let stored = events::append_in(tx, checked)?;
            for (session, poll, viewer) in &voters {
                tx.execute(
                    "INSERT OR IGNORE INTO anonymous_voters (session_id, poll, viewer) VALUES (?1, ?2, ?3)",
                    params![session, *poll as i64, viewer],
                )?;
            }
            for (session, poll) in &settled {
                tx.execute(
                    "DELETE FROM anonymous_voters WHERE session_id = ?1 AND poll = ?2",
                    params![session, *poll as i64],
                )?;
            }
            Ok(stored)
        })
        .await
    }

    /// The voters of a session's open anonymous polls, as `(poll, viewer)` (see
    /// [`Store::append_room`]).
    pub async fn anonymous_voters(
        &self,
        session_id: i64,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT poll, viewer FROM anonymous_voters WHERE session_id = ?1 ORDER BY poll, viewer",
            )?;
            let rows = stmt
                .query_map([session_id], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows
                .into_iter()
                .map(|(p, v)| (u64::try_from(p).unwrap_or(0), v))
                .collect())
        })
        .await
    }

    /// Runs a write on the writer thread, inside the current grouped transaction and its own
    /// SAVEPOINT: if `f` fails, only its own changes are undone. Resolves after COMMIT.
    ///
    /// Dropping the returned future does not cancel the write once it is queued.
    pub async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Transaction<'_>) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.inner
            .sender
            .send(Message::Write(Box::new(WriteJob { f, reply })))
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Runs a read on a read-only connection, on tokio's blocking pool. WAL lets reads run
    /// beside the writer; wrap several statements in a transaction for one consistent snapshot.
    pub async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        match tokio::task::spawn_blocking(move || inner.with_reader(f)).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(StoreError::storage(
                "the read was cancelled because the program is shutting down",
            )),
        }
    }

    /// Runs `f` inside one read transaction, so its statements see a single snapshot.
    async fn read_snapshot<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let result = f(&tx)?;
            tx.finish()?;
            Ok(result)
        })
        .await
    }

    /// The school's profile.
    pub async fn school(&self) -> Result<SchoolProfile, StoreError> {
        self.read(|conn| {
            Ok(conn.query_row(
                "SELECT name, is_demo, created_at_ms FROM school WHERE id = 1",
                [],
                |row| {
                    Ok(SchoolProfile {
                        name: row.get(0)?,
                        is_demo: row.get(1)?,
                        created_at_ms: row.get(2)?,
                    })
                },
            )?)
        })
        .await
    }

    /// The per-install secret (32 random bytes made when the file was created).
    pub async fn install_secret(&self) -> Result<InstallSecret, StoreError> {
        self.read(|conn| {
            let bytes: Vec<u8> = conn.query_row(
                "SELECT install_secret FROM school WHERE id = 1",
                [],
                |row| row.get(0),
            )?;
            let secret: [u8; 32] = bytes
                .try_into()
                .map_err(|_| StoreError::storage("the install secret is not 32 bytes long"))?;
            Ok(InstallSecret(secret))
        })
        .await
    }

    /// Renames the school (1 to 120 characters after trimming).
    pub async fn set_school_name(&self, name: &str) -> Result<(), StoreError> {
        let name = check_text("the school name", name, MAX_SCHOOL_NAME_CHARS)?;
        self.write(move |tx| {
            tx.execute("UPDATE school SET name = ?1 WHERE id = 1", [name])?;
            Ok(())
        })
        .await
    }

    /// Row counts of the main tables, from one snapshot.
    pub async fn counts(&self) -> Result<Counts, StoreError> {
        self.read_snapshot(|conn| {
            let count = |table: &str| -> Result<u64, StoreError> {
                let n: i64 =
                    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
                Ok(non_negative(n))
            };
            Ok(Counts {
                courses: count("courses")?,
                learners: count("learners")?,
                purchases: count("purchases")?,
                sessions: count("live_sessions")?,
                events: count("events")?,
            })
        })
        .await
    }

    /// The newest live sessions first, with their viewer and event counts.
    pub async fn recent_sessions(&self, limit: u32) -> Result<Vec<SessionSummary>, StoreError> {
        self.read_snapshot(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT s.id, s.title, c.title, s.started_at_ms, s.ended_at_ms,
                        (SELECT count(DISTINCT e.actor) FROM events e
                          WHERE e.session_id = s.id AND e.kind = ?2 AND e.actor IS NOT NULL),
                        (SELECT count(*) FROM events e WHERE e.session_id = s.id)
                   FROM live_sessions s LEFT JOIN courses c ON c.id = s.course_id
                  ORDER BY s.started_at_ms DESC, s.id DESC
                  LIMIT ?1",
            )?;
            let joined = lectern_room::EventKind::ViewerJoined.name();
            let rows = stmt.query_map(params![limit, joined], |row| {
                Ok(SessionSummary {
                    id: row.get(0)?,
                    title: row.get(1)?,
                    course_title: row.get(2)?,
                    started_at_ms: row.get(3)?,
                    ended_at_ms: row.get(4)?,
                    viewers: non_negative(row.get(5)?),
                    events: non_negative(row.get(6)?),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// The catalog: every course with its tags, by id.
    pub async fn catalog(&self) -> Result<Vec<CatalogCourse>, StoreError> {
        self.read_snapshot(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT c.id, c.title, c.level, c.price_cents, c.currency, c.length_minutes,
                        COALESCE((SELECT group_concat(t.tag, char(31)) FROM
                                   (SELECT tag FROM course_tags WHERE course_id = c.id ORDER BY tag) t), '')
                   FROM courses c ORDER BY c.id",
            )?;
            let rows = stmt.query_map([], |row| {
                let tags: String = row.get(6)?;
                Ok(CatalogCourse {
                    id: row.get(0)?,
                    title: row.get(1)?,
                    level: row.get(2)?,
                    price_cents: row.get(3)?,
                    currency: row.get(4)?,
                    length_minutes: row.get(5)?,
                    tags: tags.split('\u{1f}').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Every purchase as (learner, course, time), oldest first: what recommenders learn from.
    pub async fn purchase_history(&self) -> Result<Vec<PurchaseLine>, StoreError> {
        self.read_snapshot(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT learner_id, course_id, purchased_at_ms, amount_cents FROM purchases
                  ORDER BY purchased_at_ms, order_id",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(PurchaseLine {
                    learner_id: row.get(0)?,
                    course_id: row.get(1)?,
                    purchased_at_ms: row.get(2)?,
                    amount_cents: row.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Every live session's span, oldest first.
    pub async fn session_spans(&self) -> Result<Vec<SessionSpan>, StoreError> {
        self.read_snapshot(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, started_at_ms, ended_at_ms, course_id FROM live_sessions
                  ORDER BY started_at_ms, id",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(SessionSpan {
                    id: row.get(0)?,
                    started_at_ms: row.get(1)?,
                    ended_at_ms: row.get(2)?,
                    course_id: row.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Every session's events without payloads, in log order: what activity measures read.
    pub async fn activity(&self) -> Result<Vec<ActivityLine>, StoreError> {
        self.read_snapshot(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT session_id, kind, actor, at_ms FROM events ORDER BY session_id, seq",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(ActivityLine {
                    session_id: row.get(0)?,
                    kind: row.get(1)?,
                    actor: row.get(2)?,
                    at_ms: row.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Starts a live session (optionally tied to a course) and returns its id.
    pub async fn create_session(
        &self,
        title: &str,
        course_id: Option<&str>,
        started_at_ms: i64,
    ) -> Result<i64, StoreError> {
        let title = check_text("the session title", title, MAX_TITLE_CHARS)?;
        let course_id = course_id.map(str::to_owned);
        self.write(move |tx| {
            if let Some(course) = &course_id {
                let known = tx
                    .prepare_cached("SELECT 1 FROM courses WHERE id = ?1")?
                    .exists([course])?;
                if !known {
                    return Err(StoreError::not_found(format!("The course {course:?}")));
                }
            }
            Ok(tx.query_row(
                "INSERT INTO live_sessions (title, course_id, started_at_ms) VALUES (?1, ?2, ?3)
                 RETURNING id",
                params![title, course_id, started_at_ms],
                |r| r.get(0),
            )?)
        })
        .await
    }

    /// Records who teaches a session (1-200 characters after trimming).
    pub async fn set_session_instructor(
        &self,
        session_id: i64,
        instructor: &str,
    ) -> Result<(), StoreError> {
        let instructor = check_text("the instructor's name", instructor, MAX_INSTRUCTOR_CHARS)?;
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE live_sessions SET instructor = ?2 WHERE id = ?1",
                params![session_id, instructor],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found(format!("The class {session_id}")));
            }
            Ok(())
        })
        .await
    }

    /// Whether the class `session_id` is recorded (on unless turned off when it started).
    pub async fn set_session_recorded(
        &self,
        session_id: i64,
        recorded: bool,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE live_sessions SET recorded = ?2 WHERE id = ?1",
                params![session_id, recorded],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found(format!("The class {session_id}")));
            }
            Ok(())
        })
        .await
    }

    /// Whether the class `session_id` is recorded ([`Store::set_session_recorded`]).
    pub async fn session_recorded(&self, session_id: i64) -> Result<bool, StoreError> {
        self.read(move |conn| {
            conn.query_row(
                "SELECT recorded FROM live_sessions WHERE id = ?1",
                params![session_id],
                |row| row.get::<_, bool>(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::not_found(format!("The class {session_id}")))
        })
        .await
    }

    /// Records that the room of a live session was running at `at_ms` (see
    /// [`Store::session_alive_at`]). A session that has ended is left as it is.
    pub async fn mark_session_alive(&self, session_id: i64, at_ms: i64) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE live_sessions SET alive_at_ms = max(?2, started_at_ms, coalesce(alive_at_ms, 0))
                 WHERE id = ?1 AND ended_at_ms IS NULL",
                params![session_id, at_ms],
            )?;
            Ok(())
        })
        .await
    }

    /// The last moment a session's room is known to have run: its last heartbeat or its last
    /// event, whichever is later (its start when it has neither).
    pub async fn session_alive_at(&self, session_id: i64) -> Result<i64, StoreError> {
        self.read(move |conn| {
            let known: Option<i64> = conn
                .query_row(
                    "SELECT max(started_at_ms, coalesce(alive_at_ms, 0),
                                coalesce((SELECT max(at_ms) FROM events WHERE session_id = ?1), 0))
                     FROM live_sessions WHERE id = ?1",
                    [session_id],
                    |r| r.get(0),
                )
                .optional()?;
            known.ok_or_else(|| StoreError::not_found(format!("The live session {session_id}")))
        })
        .await
    }

    /// Marks a live session as ended (the first end time stands; ending twice is a no-op).
    pub async fn end_session(&self, session_id: i64, ended_at_ms: i64) -> Result<(), StoreError> {
        self.write(move |tx| {
            let started: Option<i64> = tx
                .query_row(
                    "SELECT started_at_ms FROM live_sessions WHERE id = ?1",
                    [session_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(started) = started else {
                return Err(StoreError::not_found(format!(
                    "The live session {session_id}"
                )));
            };
            if ended_at_ms < started {
                return Err(StoreError::invalid(
                    "a session cannot end before it started",
                ));
            }
            tx.execute(
                "UPDATE live_sessions SET ended_at_ms = ?2 WHERE id = ?1 AND ended_at_ms IS NULL",
                params![session_id, ended_at_ms],
            )?;
            Ok(())
        })
        .await
    }

    /// Events of a session with `seq > after_seq`, in seq order, at most `limit`
    /// (and at most [`MAX_PAGE`](crate::MAX_PAGE)). Unknown session: [`StoreError::NotFound`].
    pub async fn events_after(
        &self,
        session_id: i64,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.read(move |conn| events::after(conn, session_id, after_seq, limit))
            .await
    }

    /// A setting's value, if set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = check_setting_key(key)?;
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    /// Sets (or replaces) a setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let key = check_setting_key(key)?;
        if value.len() > MAX_SETTING_VALUE_BYTES {
            return Err(StoreError::invalid(format!(
                "a setting value may be at most {MAX_SETTING_VALUE_BYTES} bytes"
            )));
        }
        let value = value.to_owned();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )?;
            Ok(())
        })
        .await
    }

    /// Copies the open school to a new file `dest` with SQLite's online backup, while writes go
    /// on; `progress(done_pages, total_pages)` is called after each step. The copy is one
    /// consistent snapshot. It is written beside `dest` under a temporary name and renamed into
    /// place, so a failed backup leaves no half file. Returns the size of the backup in bytes.
    pub async fn backup_to(
        &self,
        dest: &Path,
        progress: impl FnMut(u64, u64) + Send + 'static,
    ) -> Result<u64, StoreError> {
        let source = self.inner.path.clone();
        let dest = dest.to_path_buf();
        match tokio::task::spawn_blocking(move || crate::backup::backup(&source, &dest, progress))
            .await
        {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(StoreError::storage(
                "the backup was cancelled because the program is shutting down",
            )),
        }
    }

    /// How many write transactions were committed and how many requests they carried.
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.stats.snapshot()
    }

    /// Finishes the queued writes and stops the writer thread (releasing the school for other
    /// processes). Other clones can still read; their writes fail with `WriterStopped`.
    pub async fn close(self) -> Result<(), StoreError> {
        let inner = self.inner;
        match tokio::task::spawn_blocking(move || inner.stop_writer()).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(StoreError::storage(
                "closing was cancelled because the program is shutting down",
            )),
        }
    }
}

/// SQLite counts are `i64` and never negative.
fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Trims and length-checks a user-visible text.
fn check_text(what: &str, text: &str, max_chars: usize) -> Result<String, StoreError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(StoreError::invalid(format!("{what} is empty")));
    }
    if text.chars().count() > max_chars {
        return Err(StoreError::invalid(format!(
            "{what} is longer than {max_chars} characters"
        )));
    }
    Ok(text.to_owned())
}

fn check_setting_key(key: &str) -> Result<String, StoreError> {
    if key.is_empty() || key.len() > MAX_SETTING_KEY_BYTES {
        return Err(StoreError::invalid(format!(
            "a setting key must be 1 to {MAX_SETTING_KEY_BYTES} bytes long"
        )));
    }
    Ok(key.to_owned())
}
