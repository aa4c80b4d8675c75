//! The one error type of the store, with stable codes for the layers above.

use std::path::Path;
use std::sync::Arc;

use rusqlite::ErrorCode;

/// Everything that can go wrong in the store.
///
/// Each variant has a stable snake_case [`code`](StoreError::code) that the engine passes on to
/// the UI, so no caller ever matches on a message. Sources are behind `Arc` so one failure (a
/// failed group commit) can be handed to every request of the group.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file is not a SQLite database at all (damaged, or another kind of file).
    #[error(
        "{file} is not a database file: it may be damaged or be some other kind of file. \
         Choose a Lectern school file, or restore one from a backup."
    )]
    NotADatabase {
        /// The file, as shown to the user.
        file: String,
    },

    /// A valid SQLite database that does not belong to Lectern; it is never modified.
    #[error(
        "{file} is a database of some other program, not a Lectern school. \
         Lectern left it untouched; choose a Lectern school file instead."
    )]
    ForeignDatabase {
        /// The file, as shown to the user.
        file: String,
    },

    /// A Lectern database written by a newer version of Lectern.
    #[error(
        "{file} was saved by a newer version of Lectern (data format {found}; this version \
         understands up to {supported}). Update Lectern to open it."
    )]
    DatabaseTooNew {
        /// The file, as shown to the user.
        file: String,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },

    /// SQLite found damaged pages or structures.
    #[error("The school file is damaged ({detail}). Restore it from a backup.")]
    DatabaseCorrupt {
        /// What SQLite reported.
        detail: String,
    },

    /// Another process (or another open handle) holds the school, or SQLite stayed busy.
    #[error(
        "The school file is in use by another Lectern window or program ({detail}). \
         Close it there, then try again."
    )]
    DatabaseLocked {
        /// What held it.
        detail: String,
    },

    /// The disk (or the configured size limit of the file) is full.
    #[error("The disk is full, so nothing more could be saved. Free some space, then try again.")]
    DiskFull,

    /// A file, session or other record that does not exist.
    #[error("{what} was not found.")]
    NotFound {
        /// What was looked for, as a phrase ("the session 42").
        what: String,
    },

    /// A request the store refuses before touching the file.
    #[error("Invalid input: {reason}.")]
    InvalidInput {
        /// Why, as a phrase.
        reason: String,
    },

    /// An operating-system error outside SQLite (creating, renaming, locking files).
    #[error("Could not {context}: {source}. Check that the folder exists and is writable.")]
    Io {
        /// What the store was doing, as a verb phrase ("rename the backup into place").
        context: String,
        /// The operating system's error.
        #[source]
        source: Arc<std::io::Error>,
    },

    /// The schema migration failed; the file was left as it was.
    #[error("Could not upgrade the school file ({detail}); it was left unchanged.")]
    MigrationFailed {
        /// What failed.
        detail: String,
    },

    /// Any other storage failure.
    #[error("The school file could not be read or written: {message}.")]
    Storage {
        /// What failed.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },

    /// The writer thread has stopped (the store was closed), so nothing more can be written.
    #[error("The school file is closed, so nothing more can be saved. Reopen the school.")]
    WriterStopped,
}

impl StoreError {
    /// A stable snake_case code for this error, for APIs and UIs.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotADatabase { .. } => "not_a_database",
            StoreError::ForeignDatabase { .. } => "foreign_database",
            StoreError::DatabaseTooNew { .. } => "database_too_new",
            StoreError::DatabaseCorrupt { .. } => "database_corrupt",
            StoreError::DatabaseLocked { .. } => "database_locked",
            StoreError::DiskFull => "disk_full",
            StoreError::NotFound { .. } => "not_found",
            StoreError::InvalidInput { .. } => "invalid_input",
            StoreError::Io { .. } => "io",
            StoreError::MigrationFailed { .. } => "migration_failed",
            StoreError::Storage { .. } => "storage",
            StoreError::WriterStopped => "writer_stopped",
        }
    }

    /// An [`StoreError::InvalidInput`] with the given reason.
    pub fn invalid(reason: impl Into<String>) -> StoreError {
        StoreError::InvalidInput {
            reason: reason.into(),
        }
    }

    /// A [`StoreError::NotFound`] for the given thing.
    pub fn not_found(what: impl Into<String>) -> StoreError {
        StoreError::NotFound { what: what.into() }
    }

    /// A [`StoreError::Storage`] with a message and no source.
    pub fn storage(message: impl Into<String>) -> StoreError {
        StoreError::Storage {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }

    /// Maps a rusqlite error met while working on `path`, so messages can name the file.
    pub(crate) fn sqlite_at(err: rusqlite::Error, path: &Path) -> StoreError {
        match err.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
                file: display(path),
            },
            _ => StoreError::from(err),
        }
    }
}

/// How a path is shown in messages.
pub(crate) fn display(path: &Path) -> String {
    path.display().to_string()
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::DatabaseLocked {
                    detail: err.to_string(),
                }
            }
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
                file: "The school file".to_owned(),
            },
            Some(ErrorCode::DatabaseCorrupt) => StoreError::DatabaseCorrupt {
                detail: err.to_string(),
            },
            Some(ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) => StoreError::Io {
                context: "read or write the school file".to_owned(),
                source: Arc::new(std::io::Error::other(err.to_string())),
            },
            _ => StoreError::Storage {
                message: err.to_string(),
                source: Some(Arc::new(err)),
            },
        }
    }
}

impl From<rusqlite_migration::Error> for StoreError {
    fn from(err: rusqlite_migration::Error) -> Self {
        match err {
            rusqlite_migration::Error::RusqliteError { err, .. } => match StoreError::from(err) {
                // Storage failures during a migration are reported as a failed upgrade; the
                // environmental ones (full, locked, corrupt) keep their own code.
                StoreError::Storage { message, .. } => {
                    StoreError::MigrationFailed { detail: message }
                }
                other => other,
            },
            other => StoreError::MigrationFailed {
                detail: other.to_string(),
            },
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Storage {
            message: format!("a stored JSON value could not be read ({err})"),
            source: Some(Arc::new(err)),
        }
    }
}
