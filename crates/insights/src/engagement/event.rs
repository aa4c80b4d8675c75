//! What engagement counts: activities, in its own words. The engine converts the room's events
//! to these (`lectern_engine::activities`, an exhaustive match); nothing here reads an event
//! name.

use serde::{Deserialize, Serialize};

/// What an erased viewer's id becomes in other people's records (the store's erase path writes
/// it): nobody, for engagement.
pub const ERASED_VIEWER: &str = "erased";

/// Something a participant did that engagement counts, at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementEvent {
    /// When, in milliseconds since the Unix epoch (the log's `at_ms`).
    pub at_ms: i64,
    /// What happened.
    pub activity: Activity,
}

/// The part of a room event that engagement reads. Everything else in the log (moderation,
/// pins, back channel, ...) maps to nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Activity {
    /// `viewer_joined`: someone opened the room (or came back).
    Joined {
        /// Their pseudonymous id.
        viewer: String,
        /// Their display name.
        name: String,
        /// Instructor or TA: staff are left out of every measure.
        staff: bool,
    },
    /// `viewer_left`: their last connection closed.
    Left {
        /// Who.
        viewer: String,
    },
    /// `chat_sent` or `chat_held`: a message written (held messages count: the viewer took part).
    Chat {
        /// The author.
        viewer: String,
        /// Written by staff.
        staff: bool,
    },
    /// `poll_opened`.
    PollOpened {
        /// The room's poll number.
        poll: u64,
        /// The question.
        question: String,
    },
    /// `poll_closed`.
    PollClosed {
        /// The room's poll number.
        poll: u64,
    },
    /// `ballot_cast`.
    Ballot {
        /// The room's poll number.
        poll: u64,
        /// The voter.
        viewer: String,
    },
    /// `anonymous_poll_voters`: an anonymous poll closed and these viewers had voted in it
    /// (its ballots, `anonymous_ballot_cast`, name nobody and count here, at the close).
    AnonymousVoters {
        /// The room's poll number.
        poll: u64,
        /// The voters (an erased one is left out).
        viewers: Vec<String>,
    },
    /// `question_asked`.
    QuestionAsked {
        /// The asker.
        viewer: String,
    },
    /// `question_upvoted`.
    QuestionUpvoted {
        /// The voter.
        viewer: String,
    },
    /// `reactions_aggregated`: reactions of one second. The room does not say whose they were,
    /// so `viewer` is the record's actor, which the room leaves empty.
    Reactions {
        /// Whose, when the log says.
        viewer: Option<String>,
        /// How many.
        count: u32,
    },
    /// `media_presence`: the viewer's video started or stopped (their WHEP session). Merged with
    /// `Joined`/`Left` into one presence (see `presence.rs`).
    MediaPresence {
        /// Whose browser.
        viewer: String,
        /// Watching now.
        watching: bool,
    },
    /// `tab_visibility`: a viewer who opted in hid the class's tab or brought it back. Hidden
    /// time is not presence (see `presence.rs`).
    TabVisibility {
        /// Who.
        viewer: String,
        /// In view now.
        visible: bool,
    },
    /// `reactions_by`: who reacted during one second (the room writes it beside that second's
    /// `reactions_aggregated`, which already counted them for the minute).
    ReactionsBy {
        /// Reactions per viewer.
        viewers: Vec<(String, u32)>,
    },
    /// `offer_pushed`: an offer went on screens.
    OfferPushed {
        /// The offer id.
        offer: String,
    },
    /// `offer_exposed`: a viewer's card was visible.
    OfferExposed {
        /// Whose.
        viewer: String,
        /// The offer id.
        offer: String,
        /// Their variant.
        variant: u8,
    },
    /// `offer_clicked`.
    OfferClicked {
        /// Who.
        viewer: String,
        /// The offer id.
        offer: String,
        /// Their variant.
        variant: u8,
    },
    /// `offer_dismissed`.
    OfferDismissed {
        /// Who.
        viewer: String,
        /// The offer id.
        offer: String,
        /// Their variant.
        variant: u8,
    },
    /// `broadcast_ended`: the class is over; nothing after it counts.
    Ended,
}

impl Activity {
    /// The one viewer this activity is about, if it names one.
    pub fn viewer(&self) -> Option<&str> {
        match self {
            Activity::Joined { viewer, .. }
            | Activity::Left { viewer }
            | Activity::Chat { viewer, .. }
            | Activity::Ballot { viewer, .. }
            | Activity::QuestionAsked { viewer }
            | Activity::QuestionUpvoted { viewer }
            | Activity::OfferExposed { viewer, .. }
            | Activity::OfferClicked { viewer, .. }
            | Activity::OfferDismissed { viewer, .. }
            | Activity::MediaPresence { viewer, .. }
            | Activity::TabVisibility { viewer, .. } => Some(viewer),
            Activity::Reactions { viewer, .. } => viewer.as_deref(),
            _ => None,
        }
    }
}

impl EngagementEvent {
    /// The event at `at_ms`, unless it is about an erased viewer: what an erased viewer left in
    /// other records counts for nobody (an erased voter or reactor is left out of a list; an
    /// activity about one viewer who was erased is nothing).
    pub fn counted(at_ms: i64, activity: Activity) -> Option<EngagementEvent> {
        let activity = match activity {
            Activity::AnonymousVoters { poll, viewers } => Activity::AnonymousVoters {
                poll,
                viewers: viewers.into_iter().filter(|v| v != ERASED_VIEWER).collect(),
            },
            Activity::ReactionsBy { viewers } => Activity::ReactionsBy {
                viewers: viewers
                    .into_iter()
                    .filter(|(v, _)| v != ERASED_VIEWER)
                    .collect(),
            },
            other => other,
        };
        if activity.viewer() == Some(ERASED_VIEWER) {
            return None;
        }
        Some(EngagementEvent { at_ms, activity })
    }
}
