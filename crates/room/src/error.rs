//! Why the room refused an input: typed, with a stable snake_case code.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::Timestamp;

/// A refusal. `code()` is stable and is what UIs match on; the text is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, TS)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RoomError {
    /// Too many messages too fast (about 1 per second, burst 5).
    #[error("you are sending messages too fast; try again in {retry_after_ms} ms")]
    RateLimited {
        /// When a retry would pass.
        retry_after_ms: u64,
    },
    /// Slow mode is on.
    #[error("slow mode is on; try again in {retry_after_ms} ms")]
    SlowMode {
        /// When a retry would pass.
        retry_after_ms: u64,
    },
    /// A text is over its limit (in graphemes, after cleaning).
    #[error("too long: at most {limit} characters")]
    TooLong {
        /// The limit in graphemes.
        limit: usize,
    },
    /// A text is empty after cleaning.
    #[error("empty")]
    Empty,
    /// The sender's role may not do this.
    #[error("your role may not do this")]
    Forbidden,
    /// The sender is timed out.
    #[error("you are timed out")]
    TimedOut {
        /// When the timeout ends.
        until: Timestamp,
    },
    /// The sender is banned.
    #[error("you are banned from this room")]
    Banned,
    /// The sender has not joined (or has left).
    #[error("join the room first")]
    NotJoined,
    /// The poll is not open.
    #[error("this poll is not open")]
    PollClosed,
    /// Another poll is already open.
    #[error("another poll is already open")]
    PollAlreadyOpen,
    /// One ballot per viewer, one upvote per question.
    #[error("you already voted")]
    AlreadyVoted,
    /// No such message, hold, poll, question or viewer.
    #[error("not found")]
    NotFound,
    /// The display name looks like a staff member's or a reserved name.
    #[error("this name is too close to a staff member's name")]
    NameConfusable,
    /// A poll specification or a ballot is not valid.
    #[error("invalid: {reason}")]
    Invalid {
        /// What is wrong, for people.
        reason: String,
    },
    /// A value is outside its allowed range (timeouts, slow mode, ...).
    #[error("out of range: {min}..={max}")]
    OutOfRange {
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// A bounded queue or list is full.
    #[error("full: at most {limit}")]
    Full {
        /// The bound.
        limit: usize,
    },
    /// The broadcast has ended; the room accepts nothing more.
    #[error("the class has ended")]
    RoomClosed,
    /// An offer's checkout link is not an acceptable `https://` URL.
    #[error("invalid checkout link: {reason}")]
    InvalidUrl {
        /// What is wrong, for people.
        reason: String,
    },
    /// An offer's variant weights are not each in (0, 1] or do not sum to 1.
    #[error("invalid weights: {reason}")]
    InvalidWeights {
        /// What is wrong, for people.
        reason: String,
    },
    /// The offer was withdrawn (or replaced, or ended with the class).
    #[error("this offer was withdrawn")]
    OfferWithdrawn,
    /// The offer is not on this viewer's screen: still scheduled, or dismissed by them.
    #[error("this offer is not live for you")]
    OfferNotLive,
    /// A click without an exposure first.
    #[error("the offer was not shown to you")]
    NotExposed,
    /// This viewer's exposure, click or dismissal of this offer is already counted; nothing
    /// changed (clients treat it as success).
    #[error("already counted")]
    AlreadyCounted,
    /// A frame was larger than 4 KiB.
    #[error("frame too large: at most {limit} bytes")]
    FrameTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A frame was not valid JSON of a known message kind.
    #[error("malformed message: {reason}")]
    Malformed {
        /// The parser's complaint.
        reason: String,
    },
    /// The studio could not take the input now (its school file refused the write, or the
    /// class closed meanwhile); nothing was recorded, so sending it again is safe.
    #[error("the class could not take this now: {reason}")]
    Unavailable {
        /// What went wrong, for people.
        reason: String,
    },
    /// A frame named a protocol version this room does not speak.
    #[error("unsupported protocol version {got}")]
    UnsupportedVersion {
        /// The version the client sent.
        got: u32,
    },
}

impl RoomError {
    /// The stable snake_case code, as it appears on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            RoomError::RateLimited { .. } => "rate_limited",
            RoomError::SlowMode { .. } => "slow_mode",
            RoomError::TooLong { .. } => "too_long",
            RoomError::Empty => "empty",
            RoomError::Forbidden => "forbidden",
            RoomError::TimedOut { .. } => "timed_out",
            RoomError::Banned => "banned",
            RoomError::NotJoined => "not_joined",
            RoomError::PollClosed => "poll_closed",
            RoomError::PollAlreadyOpen => "poll_already_open",
            RoomError::AlreadyVoted => "already_voted",
            RoomError::NotFound => "not_found",
            RoomError::NameConfusable => "name_confusable",
            RoomError::Invalid { .. } => "invalid",
            RoomError::OutOfRange { .. } => "out_of_range",
            RoomError::Full { .. } => "full",
            RoomError::RoomClosed => "room_closed",
            RoomError::InvalidUrl { .. } => "invalid_url",
            RoomError::InvalidWeights { .. } => "invalid_weights",
            RoomError::OfferWithdrawn => "offer_withdrawn",
            RoomError::OfferNotLive => "offer_not_live",
            RoomError::NotExposed => "not_exposed",
            RoomError::AlreadyCounted => "already_counted",
            RoomError::FrameTooLarge { .. } => "frame_too_large",
            RoomError::Malformed { .. } => "malformed",
            RoomError::UnsupportedVersion { .. } => "unsupported_version",
            RoomError::Unavailable { .. } => "unavailable",
        }
    }

    pub(crate) fn invalid(reason: &str) -> RoomError {
        RoomError::Invalid {
            reason: reason.to_owned(),
        }
    }
}
