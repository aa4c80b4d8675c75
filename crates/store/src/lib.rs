//! `lectern-store`: the school file. One SQLite file per school holds the catalog, learners,
//! purchases, live sessions and their event log.
//!
//! What it is for:
//! - opening a school file safely: it refuses files that are not Lectern's (never migrating
//!   someone else's database), files from a newer Lectern, and a school that another Lectern
//!   process has open (an advisory lock on `<file>.lock`);
//! - schema migrations, all-or-nothing;
//! - durable writes through **one writer thread** that groups whatever is queued into one
//!   transaction (a SAVEPOINT per request) and acknowledges each request only after COMMIT,
//!   with `synchronous=FULL` in WAL mode: an acknowledged write survives `kill -9` and power loss;
//! - the append-only event log of live sessions, numbered 1, 2, 3, ... per session in commit
//!   order, idempotent by the sender's `client_id`;
//! - reads on read-only connections beside the writer;
//! - online backup, and restore from a validated backup;
//! - the deterministic demo school ([`demo::generate`]).
//!
//! What it is not for: no HTTP, no Tauri, no domain rules (chat moderation, polls, offers are
//! the engine's). Callers run their own SQL through [`Store::write`] and [`Store::read`].
//!
//! The tables are described column by column in `docs/data-model.md`.
//!
//! # Example
//!
//! ```no_run
//! # async fn example() -> Result<(), lectern_store::StoreError> {
//! use lectern_store::{NewEvent, Store};
//!
//! let store = Store::open(std::path::Path::new("school.lectern"))?;
//! let session = store.create_session("Office hours", None, 1_793_491_200_000).await?;
//! let stored = store
//!     .append(vec![NewEvent {
//!         session_id: session,
//!         kind: "chat".into(),
//!         actor: Some("lrn_8f3a0c21d9e4".into()),
//!         at_ms: 1_793_491_260_000,
//!         payload: serde_json::json!({ "text": "Hello!" }),
//!         client_id: "c-1".into(),
//!     }])
//!     .await?; // resolves after COMMIT
//! assert_eq!(stored[0].seq, 1);
//! store.close().await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - `store.rs`: the [`Store`] handle, opening, the reader pool, the queries.
//! - `writer.rs`: the writer thread and grouped commits.
//! - `schema.rs`: migrations and the checks that tell our files from others.
//! - `events.rs`: the event log types and SQL.
//! - `backup.rs`: online backup and [`restore`].
//! - `lock.rs`: the sidecar lock file.
//! - `import.rs`: CSV import of the catalog, learners and purchases ([`preview`], [`Store::import`]).
//! - `models.rs`: stored purchase-prediction models ([`Store::save_model`], [`Store::latest_model`]).
//! - `audience.rs`: learners and purchase lines for the audience measures ([`Store::audience_rows`]).
//! - `demo.rs`: the demo school generator.
#![deny(missing_docs)]

mod audience;
mod backup;
pub mod demo;
mod error;
mod events;
mod faq;
mod files;
mod import;
mod lock;
mod models;
mod moderators;
mod privacy;
mod replay;
mod schema;
mod store;
mod writer;

pub use audience::{AudienceRows, JoinedLearner, OrderLine};
pub use backup::restore;
pub use error::StoreError;
pub use events::{
    EventRecord, MAX_ID_BYTES, MAX_KIND_BYTES, MAX_PAGE, MAX_PAYLOAD_BYTES, NewEvent,
};
pub use faq::{FaqEntry, MAX_FAQ_ENTRIES};
pub use import::{
    ImportErrorCode, ImportKind, ImportPreview, ImportReport, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS,
    MAX_LISTED_ERRORS, RowError, format_utc, preview,
};
pub use models::{
    LatestModel, MAX_MODEL_BYTES, MODELS_KEPT, ModelInfo, ModelKind, ModelMetrics, ModelSave,
    StaleModel,
};
pub use moderators::{MAX_LINK_LABEL_CHARS, ModeratorLink};
pub use privacy::Erased;
pub use replay::{RecordingStart, ReplayEvent};
pub use schema::{APPLICATION_ID, DEFAULT_SCHOOL_NAME, SCHEMA_VERSION};
pub use store::{
    CatalogCourse, Counts, InstallSecret, MAX_INSTRUCTOR_CHARS, MAX_SCHOOL_NAME_CHARS,
    MAX_SETTING_KEY_BYTES, MAX_SETTING_VALUE_BYTES, MAX_TITLE_CHARS, PurchaseLine, SchoolProfile,
    SessionSummary, Store,
};
pub use writer::WriterStats;

/// Re-exported so callers of [`Store::write`] and [`Store::read`] use the same rusqlite.
pub use rusqlite;

/// Test support: not part of the stable API.
#[doc(hidden)]
pub mod testing {
    pub use crate::schema::{MIGRATIONS, steps};
    pub use rusqlite_migration::{M, Migrations};
}
