//! The one place the room's vocabulary becomes what insights counts: each `lectern_room::Event`
//! (or, where only the log's kind is read, each `lectern_room::EventKind`) is classified by an
//! exhaustive `match` (no catch-all arm), so a new room event does not compile until someone
//! decides whether engagement and purchase propensity count it. Insights never reads event
//! names; the log's payload is decoded as the room's own `Recorded`.

use lectern_insights::engagement::{Activity, EngagementEvent};
use lectern_insights::propensity::Participation;
use lectern_room::{Event, EventKind, Hold, Recorded};
use serde::Deserialize;
use serde_json::Value;

/// A log record whose payload is not a record of the room (see [`engagement_event_of_log`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {kind} record is not a room record: {reason}")]
pub struct UnreadableRecord {
    /// The record's kind (cut to 64 characters).
    pub kind: String,
    /// What the decoder said.
    pub reason: String,
}

/// Reads one record of the event log (its `kind`, `at_ms` and `payload`, the room's
/// `Recorded`) into what engagement counts: `Ok(None)` for events engagement does not count,
/// `Err` for a payload that is not a room record (callers skip it).
pub fn engagement_event_of_log(
    kind: &str,
    at_ms: i64,
    payload: &Value,
) -> Result<Option<EngagementEvent>, UnreadableRecord> {
    let record = Recorded::deserialize(payload).map_err(|e| UnreadableRecord {
        kind: kind.chars().take(64).collect(),
        reason: e.to_string(),
    })?;
    Ok(engagement_event(at_ms, &record))
}

/// What engagement counts of one room record at `at_ms` (the log's time), if anything. What an
/// erased viewer left in other records counts for nobody ([`EngagementEvent::counted`]).
pub fn engagement_event(at_ms: i64, record: &Recorded) -> Option<EngagementEvent> {
    EngagementEvent::counted(at_ms, activity(record)?)
}

/// The room's event as an engagement activity: every variant is named here.
fn activity(record: &Recorded) -> Option<Activity> {
    Some(match &record.event {
        Event::ViewerJoined {
            viewer, role, name, ..
        } => Activity::Joined {
            viewer: viewer.0.clone(),
            name: name.clone(),
            staff: role.is_staff(),
        },
        Event::ViewerLeft { viewer } => Activity::Left {
            viewer: viewer.0.clone(),
        },
        // Held messages count: the viewer took part.
        Event::ChatSent { message }
        | Event::ChatHeld {
            hold: Hold { message, .. },
        } => Activity::Chat {
            viewer: message.author.0.clone(),
            staff: message.role.is_staff(),
        },
        Event::PollOpened { poll, question, .. } => Activity::PollOpened {
            poll: poll.0,
            question: question.clone(),
        },
        Event::PollClosed { poll } => Activity::PollClosed { poll: poll.0 },
        Event::BallotCast { poll, ballot, .. } => Activity::Ballot {
            poll: poll.0,
            viewer: ballot.viewer.0.clone(),
        },
        // Its ballots name nobody: they count for their voters when the poll closes.
        Event::AnonymousPollVoters { poll, voters } => Activity::AnonymousVoters {
            poll: poll.0,
            viewers: voters.iter().map(|v| v.0.clone()).collect(),
        },
        Event::QuestionAsked { question } => Activity::QuestionAsked {
            viewer: question.asker.0.clone(),
        },
        Event::QuestionUpvoted { viewer, .. } => Activity::QuestionUpvoted {
            viewer: viewer.0.clone(),
        },
        Event::ReactionsAggregated { counts, .. } => Activity::Reactions {
            viewer: record.by.as_ref().map(|v| v.0.clone()),
            count: counts
                .iter()
                .fold(0u32, |sum, (_, n)| sum.saturating_add(*n)),
        },
        Event::MediaPresence { viewer, watching } => Activity::MediaPresence {
            viewer: viewer.0.clone(),
            watching: *watching,
        },
        Event::TabVisibility { viewer, visible } => Activity::TabVisibility {
            viewer: viewer.0.clone(),
            visible: *visible,
        },
        Event::ReactionsBy { viewers, .. } => Activity::ReactionsBy {
            viewers: viewers.iter().map(|(v, n)| (v.0.clone(), *n)).collect(),
        },
        Event::OfferPushed { offer } => Activity::OfferPushed {
            offer: offer.spec.id.0.clone(),
        },
        Event::OfferExposed(tally) => Activity::OfferExposed {
            viewer: tally.viewer.0.clone(),
            offer: tally.offer.0.clone(),
            variant: tally.variant,
        },
        Event::OfferClicked(tally) => Activity::OfferClicked {
            viewer: tally.viewer.0.clone(),
            offer: tally.offer.0.clone(),
            variant: tally.variant,
        },
        Event::OfferDismissed(tally) => Activity::OfferDismissed {
            viewer: tally.viewer.0.clone(),
            offer: tally.offer.0.clone(),
            variant: tally.variant,
        },
        Event::BroadcastEnded => Activity::Ended,
        // Not engagement: moderation, pins, the back channel, poll bookkeeping, answers,
        // identity links, offers' scheduling and cards, the broadcast's source.
        Event::HoldApproved { .. }
        | Event::HoldRejected { .. }
        | Event::MessageDeleted { .. }
        | Event::MessagePinned { .. }
        | Event::MessageUnpinned
        | Event::ChatCleared
        | Event::ChatModeChanged { .. }
        | Event::BlockedTermsChanged { .. }
        | Event::ViewerTimedOut { .. }
        | Event::TimeoutLifted { .. }
        | Event::ViewerBanned { .. }
        | Event::ViewerUnbanned { .. }
        | Event::Flagged { .. }
        | Event::BackChannelPosted { .. }
        | Event::PollCreated { .. }
        | Event::AnonymousBallotCast { .. }
        | Event::PollRevealed { .. }
        | Event::QuestionApproved { .. }
        | Event::QuestionAnswered { .. }
        | Event::QuestionDismissed { .. }
        | Event::QuestionHighlighted { .. }
        | Event::BroadcastSource { .. }
        | Event::EmailLinked { .. }
        | Event::LearnerLinked { .. }
        | Event::OfferScheduled { .. }
        | Event::OfferShown { .. }
        | Event::OfferWithdrawn { .. } => return None,
    })
}

/// What a log record of `kind` adds to an attendee's tally for purchase propensity (the store's
/// activity lines carry the kind, not the payload). `None` for every other kind, and for a
/// name the room never wrote.
pub fn participation(kind: &str) -> Option<Participation> {
    participation_of(EventKind::from_name(kind)?)
}

fn participation_of(kind: EventKind) -> Option<Participation> {
    Some(match kind {
        EventKind::ViewerJoined => Participation::Joined,
        EventKind::ViewerLeft => Participation::Left,
        // Held messages count: the viewer took part.
        EventKind::ChatSent | EventKind::ChatHeld => Participation::Chat,
        EventKind::BallotCast => Participation::Ballot,
        EventKind::OfferExposed => Participation::Exposure,
        EventKind::OfferClicked => Participation::Click,
        // Anonymous ballots name nobody, so they are not anyone's participation; the rest is
        // not the attendee's doing or not counted by the model.
        EventKind::AnonymousBallotCast
        | EventKind::AnonymousPollVoters
        | EventKind::HoldApproved
        | EventKind::HoldRejected
        | EventKind::MessageDeleted
        | EventKind::MessagePinned
        | EventKind::MessageUnpinned
        | EventKind::ChatCleared
        | EventKind::ChatModeChanged
        | EventKind::BlockedTermsChanged
        | EventKind::ViewerTimedOut
        | EventKind::TimeoutLifted
        | EventKind::ViewerBanned
        | EventKind::ViewerUnbanned
        | EventKind::Flagged
        | EventKind::BackChannelPosted
        | EventKind::PollCreated
        | EventKind::PollOpened
        | EventKind::PollClosed
        | EventKind::PollRevealed
        | EventKind::QuestionAsked
        | EventKind::QuestionUpvoted
        | EventKind::QuestionApproved
        | EventKind::QuestionAnswered
        | EventKind::QuestionDismissed
        | EventKind::QuestionHighlighted
        | EventKind::ReactionsAggregated
        | EventKind::BroadcastSource
        | EventKind::MediaPresence
        | EventKind::TabVisibility
        | EventKind::EmailLinked
        | EventKind::LearnerLinked
        | EventKind::ReactionsBy
        | EventKind::BroadcastEnded
        | EventKind::OfferScheduled
        | EventKind::OfferPushed
        | EventKind::OfferShown
        | EventKind::OfferWithdrawn
        | EventKind::OfferDismissed => return None,
    })
}
