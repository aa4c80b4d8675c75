//! Errors as every host shows them: a stable code and a sentence for people.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Stable, machine-readable error codes. A UI matches on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request was malformed or a value is out of its allowed range.
    InvalidInput,
    /// The thing asked for does not exist.
    NotFound,
    /// No school is open yet (first run): open the demo or create one.
    NoSchool,
    /// Missing or wrong credentials.
    Unauthorized,
    /// Credentials are fine but the action is not allowed (or a cross-site request).
    Forbidden,
    /// The request body is over the limit.
    PayloadTooLarge,
    /// The studio is not in a state that allows it (a class already live, none live).
    Conflict,
    /// The school file was written by a newer Lectern.
    DatabaseTooNew,
    /// The file is not an SQLite database at all (or is damaged beyond recognition).
    NotADatabase,
    /// The file is an SQLite database that belongs to some other program.
    ForeignDatabase,
    /// SQLite reports corruption inside the school file.
    DatabaseCorrupt,
    /// Another process has this school open.
    DatabaseLocked,
    /// The disk is full; nothing was half-written.
    DiskFull,
    /// Another storage failure.
    Storage,
    /// A bug or an unexpected failure; the message says what we were doing.
    Internal,
    /// The sales feed could not be reached (network, 5xx, 429), after retries.
    FeedUnreachable,
    /// The sales feed refused the request (4xx: a wrong token, a wrong URL).
    FeedRefused,
    /// The sales feed answered with something that is not a purchases feed.
    FeedInvalid,
    /// The studio's upload budget is full: a new viewer waits (or watches through the relay).
    OverCapacity,
    /// One address opened too many connections too fast (or holds too many): retry later.
    TooManyConnections,
    /// A server the studio would ask is on this machine or a private network, and private
    /// addresses were not allowed for it.
    PrivateAddress,
}

impl ErrorCode {
    /// The code as it appears on the wire (`"no_school"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NoSchool => "no_school",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Conflict => "conflict",
            ErrorCode::DatabaseTooNew => "database_too_new",
            ErrorCode::NotADatabase => "not_a_database",
            ErrorCode::ForeignDatabase => "foreign_database",
            ErrorCode::DatabaseCorrupt => "database_corrupt",
            ErrorCode::DatabaseLocked => "database_locked",
            ErrorCode::DiskFull => "disk_full",
            ErrorCode::Storage => "storage",
            ErrorCode::Internal => "internal",
            ErrorCode::FeedUnreachable => "feed_unreachable",
            ErrorCode::FeedRefused => "feed_refused",
            ErrorCode::FeedInvalid => "feed_invalid",
            ErrorCode::OverCapacity => "over_capacity",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::PrivateAddress => "private_address",
        }
    }
}

/// The error every API call returns: `{ "code": "no_school", "message": "..." }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message} ({})", code.as_str())]
pub struct ApiError {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// `invalid_input` with a message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// `internal`, saying what we were doing.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

impl From<lectern_store::StoreError> for ApiError {
    fn from(err: lectern_store::StoreError) -> Self {
        let code = match err.code() {
            "not_a_database" => ErrorCode::NotADatabase,
            "foreign_database" => ErrorCode::ForeignDatabase,
            "database_too_new" => ErrorCode::DatabaseTooNew,
            "database_corrupt" => ErrorCode::DatabaseCorrupt,
            "database_locked" => ErrorCode::DatabaseLocked,
            "disk_full" => ErrorCode::DiskFull,
            "not_found" => ErrorCode::NotFound,
            "invalid_input" => ErrorCode::InvalidInput,
            _ => ErrorCode::Storage,
        };
        ApiError::new(code, err.to_string())
    }
}
