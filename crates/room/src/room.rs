//! The room: validation in `handle`, every state change in `apply`.
//!
//! `handle` decides against the current state and produces [`Recorded`] events; each one is
//! applied at once through the same `apply` that [`Room::replay`] uses, so a room rebuilt from
//! its log is the room that wrote it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::error::RoomError;
use crate::model::{
    AutomaticAnswer, BackChannelNote, Ballot, Capability, ChatMessage, ChatSettings, ClientId,
    Fingerprint, Flag, Hold, HoldReason, MessageId, Poll, PollId, PollSpec, PollState, Question,
    QuestionId, QuestionState, Reaction, Role, Timestamp, ViewerId,
};
use crate::offers::{
    self, Offer, OfferCard, OfferId, OfferSpec, OfferState, VariantCounts, offer_limits,
};
use crate::protocol::{
    Action, Event, Input, OfferTally, Output, PROTOCOL_VERSION, PollView, Recorded, Reply,
    Snapshot, YourState,
};
use crate::text;

/// Limits of the room, all in one place (graphemes for texts, counts for lists).
pub mod limits {
    /// A chat message.
    pub const CHAT_GRAPHEMES: usize = 500;
    /// A learner id carried by a personal join link (the shop's id).
    pub const MAX_LEARNER_ID_CHARS: usize = 128;
    /// A display name.
    pub const NAME_GRAPHEMES: usize = 40;
    /// A question.
    pub const QUESTION_GRAPHEMES: usize = 300;
    /// A written answer to a question.
    pub const ANSWER_GRAPHEMES: usize = 1_000;
    /// Where an automatic answer comes from, in words.
    pub const ANSWER_SOURCE_GRAPHEMES: usize = 300;
    /// A poll's question.
    pub const POLL_QUESTION_GRAPHEMES: usize = 200;
    /// A poll option.
    pub const POLL_OPTION_GRAPHEMES: usize = 100;
    /// A blocked term.
    pub const TERM_GRAPHEMES: usize = 50;
    /// A back-channel message.
    pub const BACK_CHANNEL_GRAPHEMES: usize = 500;
    /// Options per poll.
    pub const POLL_OPTIONS: std::ops::RangeInclusive<usize> = 2..=10;
    /// A poll timer, seconds.
    pub const POLL_DURATION_SECS: std::ops::RangeInclusive<u32> = 1..=3600;
    /// Longest skill tag on a quiz question, in characters.
    pub const SKILL_CHARS: usize = 40;
    /// Slow mode, seconds.
    pub const SLOW_MODE_SECS: std::ops::RangeInclusive<u32> = 0..=300;
    /// A timeout, seconds (10 s to 24 h).
    pub const TIMEOUT_SECS: std::ops::RangeInclusive<u32> = 10..=86_400;
    /// Held first messages of a new identity.
    pub const HOLD_FIRST_MESSAGES: std::ops::RangeInclusive<u32> = 0..=20;
    /// Blocked terms.
    pub const BLOCKED_TERMS: usize = 200;
    /// Rate limit: one token per this many milliseconds.
    pub const RATE_INTERVAL_MS: u64 = 1000;
    /// Rate limit: burst size.
    pub const RATE_BURST: u64 = 5;
    /// Chat messages kept in memory (the log keeps all).
    pub const CHAT_KEPT: usize = 500;
    /// Chat messages in a snapshot.
    pub const SNAPSHOT_CHAT: usize = 50;
    /// Questions in a snapshot.
    pub const SNAPSHOT_QUESTIONS: usize = 20;
    /// The held-for-review queue.
    pub const HELD: usize = 200;
    /// Polls per room.
    pub const POLLS: usize = 200;
    /// Questions per room.
    pub const QUESTIONS: usize = 500;
    /// Pending questions per viewer.
    pub const PENDING_QUESTIONS_PER_VIEWER: usize = 5;
    /// Recent client ids remembered per identity.
    pub const RECENT_CLIENT_IDS: usize = 64;
    /// A client id, in bytes.
    pub const CLIENT_ID_BYTES: usize = 64;
    /// Flags kept.
    pub const FLAGS: usize = 200;
    /// Back-channel messages kept in memory (the log keeps all).
    pub const BACK_CHANNEL_KEPT: usize = 100;
    /// Audit entries kept in memory (the log keeps all).
    pub const AUDIT_KEPT: usize = 1000;
}

/// Names no viewer may take (nor anything confusable with them), besides staff members' names.
pub const RESERVED_NAMES: &[&str] = &[
    "instructor",
    "teacher",
    "ta",
    "teaching assistant",
    "moderator",
    "mod",
    "admin",
    "administrator",
    "staff",
    "host",
    "lectern",
    "system",
];

/// One moderation action with who did it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: ViewerId,
    /// What (a moderation [`Event`]).
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Participant {
    role: Role,
    name: String,
    fingerprint: Option<Fingerprint>,
    online: bool,
    banned: bool,
    timed_out_until: Option<Timestamp>,
    /// GCRA "theoretical arrival time" of the chat rate limit, in ms.
    rate_tat: u64,
    last_sent: Option<Timestamp>,
    messages_published: u32,
    recent_client_ids: VecDeque<ClientId>,
    upvoted: BTreeSet<QuestionId>,
    quiz_score: u32,
}

/// Everything the room knows that the event log determines. Compare two of these to check that
/// replaying a log reproduces a room.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomState {
    participants: BTreeMap<ViewerId, Participant>,
    settings: ChatSettings,
    chat: VecDeque<ChatMessage>,
    pinned: Option<ChatMessage>,
    held: Vec<Hold>,
    last_message: u64,
    banned_fingerprints: BTreeMap<Fingerprint, ViewerId>,
    flags: VecDeque<Flag>,
    polls: BTreeMap<PollId, Poll>,
    open_poll: Option<PollId>,
    last_revealed: Option<PollId>,
    last_poll: u64,
    questions: BTreeMap<QuestionId, Question>,
    last_question: u64,
    highlighted: Option<QuestionId>,
    audit: VecDeque<AuditEntry>,
    back_channel: VecDeque<BackChannelNote>,
    ended: bool,
    /// The time of the first event: the class's start unless the host says otherwise.
    first_at: Option<Timestamp>,
    /// Every offer, in the order they were scheduled or pushed.
    offers: Vec<Offer>,
    offer_viewers: BTreeMap<OfferId, OfferViewers>,
    live_offer: Option<OfferId>,
    /// Viewers whose video is on (their last `media_presence` said watching).
    watching: BTreeSet<ViewerId>,
}

/// Who did what with one offer's cards.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct OfferViewers {
    /// Viewers whose card was delivered, with their variant.
    shown: BTreeMap<ViewerId, u8>,
    exposed: BTreeSet<ViewerId>,
    clicked: BTreeSet<ViewerId>,
    dismissed: BTreeSet<ViewerId>,
}

/// What the host tells the room about its class; not in the log (see [`Room::set_class`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClassInfo {
    session: String,
    started_at: Timestamp,
}

/// Reactions of the current second, not yet in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReactionWindow {
    second: Timestamp,
    counts: BTreeMap<Reaction, u32>,
    senders: BTreeSet<(ViewerId, Reaction)>,
    per_viewer: BTreeMap<ViewerId, u32>,
}

/// The live room. See the crate docs.
#[derive(Debug, Clone, Default)]
pub struct Room {
    state: RoomState,
    reactions: Option<ReactionWindow>,
    class: Option<ClassInfo>,
    /// Each opted-in viewer's last tab visibility and when it changed (one change a second).
    visibility: BTreeMap<ViewerId, (bool, Timestamp)>,
    /// The learner each viewer's personal join link named in this class.
    learner_links: BTreeMap<ViewerId, String>,
    /// Who voted in each anonymous poll still open: not in the log (see [`Output::Voter`]).
    anonymous_voters: BTreeMap<PollId, BTreeSet<ViewerId>>,
    /// The school's key for consented emails ([`Room::set_email_key`]).
    email_key: Option<Vec<u8>>,
    /// Who is in each audience segment an offer may be for ([`Room::set_segment_members`]):
    /// not in the log, never sent.
    segment_members: BTreeMap<String, BTreeSet<ViewerId>>,
}

/// What one action produced before it is recorded.
enum Outcome {
    Events(Vec<Event>),
    /// Accepted without an event yet (a reaction waiting for its second's aggregate).
    Pending,
}

impl Room {
    /// An empty room.
    pub fn new() -> Room {
        Room::default()
    }

    /// Rebuilds a room from its log, in order.
    pub fn replay<'a>(records: impl IntoIterator<Item = &'a Recorded>) -> Room {
        let mut room = Room::new();
        for record in records {
            room.apply(record);
        }
        room
    }

    /// Tells the room which session it runs and when the class started: timing experiments are
    /// assigned by the session (`session:<key>`), and `minute`s count from the start. Not in the
    /// log: the host calls it after [`Room::new`] or [`Room::replay`]. Without it, minutes count
    /// from the first event and timing experiments are refused.
    pub fn set_class(&mut self, session: &str, started_at: Timestamp) {
        self.class = Some(ClassInfo {
            session: session.to_owned(),
            started_at,
        });
    }

    /// Hands back a voter of an anonymous poll the host kept from [`Output::Voter`] (after
    /// [`Room::replay`]): they cannot vote in it again. Ignored once the poll has closed.
    pub fn restore_voter(&mut self, poll: PollId, viewer: ViewerId) {
        if self
            .state
            .polls
            .get(&poll)
            .is_some_and(|p| p.spec.anonymous && p.state == PollState::Open)
        {
            self.anonymous_voters
                .entry(poll)
                .or_default()
                .insert(viewer);
        }
    }

    /// Whether `viewer` voted in `poll` (named or anonymous).
    fn has_voted(&self, poll: &Poll, viewer: &ViewerId) -> bool {
        poll.voters.contains(viewer)
            || (self.anonymous_voters.get(&poll.id)).is_some_and(|v| v.contains(viewer))
    }

    /// Tells the room the school's email key: a consented email is then recorded as
    /// [`keyed_email_hash`] instead of a plain SHA-256. Not in the log; the host calls it after
    /// [`Room::new`] or [`Room::replay`].
    pub fn set_email_key(&mut self, key: Vec<u8>) {
        self.email_key = Some(key);
    }

    /// Tells the room who is in an audience segment, so an offer for that segment
    /// ([`OfferSpec::audience`]) reaches its members only. Not in the log and never sent: the
    /// host computes it from the school (viewers linked to the segment's learners) and calls it
    /// before the push, and again after [`Room::replay`] for an offer still live. Returns
    /// `false` (and keeps nothing) past the limits
    /// ([`crate::offer_limits::SEGMENTS`], [`crate::offer_limits::SEGMENT_MEMBERS`]).
    pub fn set_segment_members(&mut self, segment: &str, viewers: BTreeSet<ViewerId>) -> bool {
        let known = self.segment_members.contains_key(segment);
        if viewers.len() > offer_limits::SEGMENT_MEMBERS
            || (!known && self.segment_members.len() >= offer_limits::SEGMENTS)
        {
            return false;
        }
        self.segment_members.insert(segment.to_owned(), viewers);
        true
    }

    /// The segments that offers live or scheduled in this class are for: after
    /// [`Room::replay`] the host tells the room their members again.
    pub fn offer_segments(&self) -> BTreeSet<String> {
        self.state
            .offers
            .iter()
            .filter(|o| o.state != OfferState::Withdrawn)
            .filter_map(|o| o.spec.audience.clone())
            .collect()
    }

    /// Whether `viewer` is in the offer's audience: everyone, or its segment's members.
    fn reaches(&self, spec: &OfferSpec, viewer: &ViewerId) -> bool {
        match &spec.audience {
            None => true,
            Some(segment) => self
                .segment_members
                .get(segment)
                .is_some_and(|members| members.contains(viewer)),
        }
    }

    /// An offer by id.
    pub fn offer(&self, id: &OfferId) -> Option<&Offer> {
        self.state.offers.iter().find(|o| o.spec.id == *id)
    }

    /// The card `viewer` sees now, if an offer is live, they are a viewer and did not dismiss it.
    pub fn offer_card(&self, viewer: &ViewerId) -> Option<OfferCard> {
        let s = &self.state;
        let p = s.participants.get(viewer)?;
        if p.role != Role::Viewer {
            return None;
        }
        let offer = s.live_offer.as_ref().and_then(|id| self.offer(id))?;
        if !self.reaches(&offer.spec, viewer) {
            return None;
        }
        let seen = s.offer_viewers.get(&offer.spec.id);
        if seen.is_some_and(|v| v.dismissed.contains(viewer)) {
            return None;
        }
        offers::card(
            &offer.spec,
            variant_of(offer, viewer),
            viewer,
            seen.is_some_and(|v| v.exposed.contains(viewer)),
            seen.is_some_and(|v| v.clicked.contains(viewer)),
        )
    }

    /// The state the log determines (pending reactions are not part of it).
    pub fn state(&self) -> &RoomState {
        &self.state
    }

    /// When the host must call `handle(Input::Tick, now)` next: a poll timer, a scheduled offer,
    /// or the end of the second whose reactions are pending.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let offer = self
            .state
            .offers
            .iter()
            .filter(|o| o.state == OfferState::Scheduled && !self.state.ended)
            .map(|o| o.at)
            .min();
        let poll = self
            .state
            .open_poll
            .and_then(|id| self.state.polls.get(&id))
            .and_then(|p| p.deadline);
        let reactions = self
            .reactions
            .as_ref()
            .map(|w| w.second.plus_ms(limits::RATE_INTERVAL_MS));
        [poll, reactions, offer].into_iter().flatten().min()
    }

    /// The moderation actions kept in memory, oldest first.
    pub fn audit_log(&self) -> impl Iterator<Item = &AuditEntry> {
        self.state.audit.iter()
    }

    /// The held-for-review queue, oldest first.
    pub fn held(&self) -> &[Hold] {
        &self.state.held
    }

    /// A poll by id.
    pub fn poll(&self, id: PollId) -> Option<&Poll> {
        self.state.polls.get(&id)
    }

    /// Approved and answered questions, most votes first (ties: oldest first).
    pub fn top_questions(&self, limit: usize) -> Vec<Question> {
        self.questions_for(None, limit)
    }

    /// A participant's quiz score.
    pub fn quiz_score(&self, viewer: &ViewerId) -> Option<u32> {
        self.state.participants.get(viewer).map(|p| p.quiz_score)
    }

    /// Handles one input at `now` and returns what to persist, fan out and reply.
    pub fn handle(&mut self, input: Input, now: Timestamp) -> Vec<Output> {
        let mut out = Vec::new();
        self.run_timers(now, &mut out);
        match input {
            Input::Tick => {}
            Input::SegmentMembers { segment, viewers } => {
                self.set_segment_members(&segment, viewers);
            }
            Input::ConnectionsLost => self.drop_everyone(&mut out, now),
            Input::End => {
                self.drop_everyone(&mut out, now);
                if !self.state.ended {
                    for event in self.end_events() {
                        self.emit(&mut out, now, None, None, event);
                    }
                }
            }
            Input::Source { capture } => {
                if !self.state.ended {
                    self.emit(
                        &mut out,
                        now,
                        None,
                        None,
                        Event::BroadcastSource { capture },
                    );
                }
            }
            Input::AnswerAutomatically {
                question,
                answer,
                automatic,
            } => {
                if let Some(event) = self.automatic_answer(question, &answer, automatic) {
                    self.emit(&mut out, now, None, None, event);
                }
            }
            Input::LinkLearner { viewer, learner } => {
                // The host checked the link's signature; the room records it for a joined
                // viewer only (never staff), once per viewer and learner in a class.
                let is_viewer = self
                    .state
                    .participants
                    .get(&viewer)
                    .is_some_and(|p| !p.role.is_staff());
                let well_formed = !learner.is_empty()
                    && learner.chars().count() <= limits::MAX_LEARNER_ID_CHARS
                    && !learner.chars().any(char::is_control);
                let known = self.learner_links.get(&viewer) == Some(&learner);
                if !self.state.ended && is_viewer && well_formed && !known {
                    let by = viewer.clone();
                    self.emit(
                        &mut out,
                        now,
                        Some(&by),
                        None,
                        Event::LearnerLinked { viewer, learner },
                    );
                }
            }
            Input::Media { viewer, watching } => {
                // Recorded for anyone the host names (the host derived it from the browser):
                // a viewer may watch without joining the chat. Staff are not counted by
                // engagement either way; a closed room records nothing more.
                if !self.state.ended {
                    // Recorded as the viewer's own event, so erasing them erases it.
                    self.emit(
                        &mut out,
                        now,
                        Some(&viewer),
                        None,
                        Event::MediaPresence {
                            viewer: viewer.clone(),
                            watching,
                        },
                    );
                }
            }
            Input::Join {
                viewer,
                role,
                name,
                fingerprint,
            } => match self.join(&viewer, role, &name, fingerprint) {
                Ok(events) => {
                    for event in events {
                        self.emit(&mut out, now, Some(&viewer), None, event);
                    }
                    if let Some(snapshot) = self.snapshot(&viewer, now) {
                        out.push(Output::Reply {
                            to: viewer,
                            reply: Reply::Welcome {
                                snapshot: Box::new(snapshot),
                            },
                        });
                    }
                }
                Err(error) => out.push(rejected(viewer, None, error)),
            },
            Input::Leave { viewer } => match self.state.participants.get(&viewer) {
                Some(p) if p.online => {
                    self.emit(
                        &mut out,
                        now,
                        Some(&viewer),
                        None,
                        Event::ViewerLeft {
                            viewer: viewer.clone(),
                        },
                    );
                }
                _ => out.push(rejected(viewer, None, RoomError::NotJoined)),
            },
            Input::Act {
                viewer,
                client_id,
                action,
            } => {
                if let Some(id) = &client_id {
                    if id.0.len() > limits::CLIENT_ID_BYTES {
                        out.push(rejected(
                            viewer,
                            None,
                            RoomError::invalid("client_id is longer than 64 bytes"),
                        ));
                        return out;
                    }
                    let seen = self
                        .state
                        .participants
                        .get(&viewer)
                        .is_some_and(|p| p.recent_client_ids.contains(id));
                    if seen {
                        out.push(Output::Reply {
                            to: viewer,
                            reply: Reply::Duplicate {
                                client_id: id.clone(),
                            },
                        });
                        return out;
                    }
                }
                match self.act(&viewer, &action, now) {
                    Ok(Outcome::Events(events)) => {
                        for event in events {
                            if let Event::AnonymousBallotCast { poll, .. } = &event {
                                // Neither author nor client id: the record names no voter.
                                let poll = *poll;
                                self.emit(&mut out, now, None, None, event);
                                self.anonymous_voters
                                    .entry(poll)
                                    .or_default()
                                    .insert(viewer.clone());
                                out.push(Output::Voter {
                                    poll,
                                    viewer: viewer.clone(),
                                });
                                continue;
                            }
                            self.emit(&mut out, now, Some(&viewer), client_id.as_ref(), event);
                        }
                    }
                    Ok(Outcome::Pending) => {}
                    Err(error) => out.push(rejected(viewer, client_id, error)),
                }
            }
        }
        out
    }

    /// Applies one recorded event: the only place the state changes.
    pub fn apply(&mut self, record: &Recorded) {
        let at = record.at;
        if let Event::LearnerLinked { viewer, learner } = &record.event {
            self.learner_links.insert(viewer.clone(), learner.clone());
        }
        let s = &mut self.state;
        s.first_at.get_or_insert(at);
        if let (Some(by), Some(client_id)) = (&record.by, &record.client_id)
            && let Some(p) = s.participants.get_mut(by)
            && !p.recent_client_ids.contains(client_id)
        {
            if p.recent_client_ids.len() >= limits::RECENT_CLIENT_IDS {
                p.recent_client_ids.pop_front();
            }
            p.recent_client_ids.push_back(client_id.clone());
        }
        if let Some(by) = &record.by
            && record.event.is_moderation()
        {
            if s.audit.len() >= limits::AUDIT_KEPT {
                s.audit.pop_front();
            }
            s.audit.push_back(AuditEntry {
                at,
                by: by.clone(),
                event: record.event.clone(),
            });
        }
        match &record.event {
            Event::ViewerJoined {
                viewer,
                role,
                name,
                fingerprint,
            } => {
                let p = s
                    .participants
                    .entry(viewer.clone())
                    .or_insert_with(|| Participant {
                        role: *role,
                        name: String::new(),
                        fingerprint: None,
                        online: false,
                        banned: false,
                        timed_out_until: None,
                        rate_tat: 0,
                        last_sent: None,
                        messages_published: 0,
                        recent_client_ids: VecDeque::new(),
                        upvoted: BTreeSet::new(),
                        quiz_score: 0,
                    });
                p.role = *role;
                p.name.clone_from(name);
                if fingerprint.is_some() {
                    p.fingerprint.clone_from(fingerprint);
                }
                p.online = true;
            }
            Event::ViewerLeft { viewer } => {
                if let Some(p) = s.participants.get_mut(viewer) {
                    p.online = false;
                }
            }
            Event::MediaPresence { viewer, watching } => {
                if *watching {
                    s.watching.insert(viewer.clone());
                } else {
                    s.watching.remove(viewer);
                }
            }
            Event::ChatSent { message } => {
                count_message(s, message, at);
                count_published(s, message);
                push_chat(s, message.clone());
            }
            Event::ChatHeld { hold } => {
                count_message(s, &hold.message, at);
                s.held.push(hold.clone());
            }
            Event::HoldApproved { message } => {
                s.held.retain(|h| h.message.id != message.id);
                count_published(s, message);
                push_chat(s, message.clone());
            }
            Event::HoldRejected { message, .. } => {
                s.held.retain(|h| h.message.id != *message);
            }
            Event::MessageDeleted { message } => {
                s.chat.retain(|m| m.id != *message);
                if s.pinned.as_ref().is_some_and(|m| m.id == *message) {
                    s.pinned = None;
                }
            }
            Event::MessagePinned { message } => s.pinned = Some(message.clone()),
            Event::MessageUnpinned => s.pinned = None,
            Event::ChatCleared => {
                s.chat.clear();
                s.pinned = None;
            }
            Event::ChatModeChanged { mode } => s.settings.mode = *mode,
            Event::BlockedTermsChanged { terms } => s.settings.blocked_terms.clone_from(terms),
            Event::ViewerTimedOut { viewer, until } => {
                if let Some(p) = s.participants.get_mut(viewer) {
                    p.timed_out_until = Some(*until);
                }
            }
            Event::TimeoutLifted { viewer } => {
                if let Some(p) = s.participants.get_mut(viewer) {
                    p.timed_out_until = None;
                }
            }
            Event::ViewerBanned { viewer } => {
                if let Some(p) = s.participants.get_mut(viewer) {
                    p.banned = true;
                    p.online = false;
                    if let Some(f) = &p.fingerprint {
                        s.banned_fingerprints.insert(f.clone(), viewer.clone());
                    }
                }
            }
            Event::ViewerUnbanned { viewer } => {
                if let Some(p) = s.participants.get_mut(viewer) {
                    p.banned = false;
                }
                s.banned_fingerprints.retain(|_, v| v != viewer);
            }
            Event::Flagged { flag } => {
                if s.flags.len() >= limits::FLAGS {
                    s.flags.pop_front();
                }
                s.flags.push_back(flag.clone());
            }
            Event::BackChannelPosted { name, text } => {
                if s.back_channel.len() >= limits::BACK_CHANNEL_KEPT {
                    s.back_channel.pop_front();
                }
                if let Some(by) = &record.by {
                    s.back_channel.push_back(BackChannelNote {
                        by: by.clone(),
                        name: name.clone(),
                        text: text.clone(),
                        at,
                    });
                }
            }
            Event::ReactionsAggregated { .. }
            | Event::ReactionsBy { .. }
            | Event::EmailLinked { .. }
            | Event::LearnerLinked { .. }
            | Event::BroadcastSource { .. }
            | Event::TabVisibility { .. } => {}
            Event::PollCreated { poll } => {
                s.last_poll = s.last_poll.max(poll.id.0);
                s.polls.insert(poll.id, poll.clone());
            }
            Event::PollOpened { poll, deadline, .. } => {
                if let Some(p) = s.polls.get_mut(poll) {
                    p.state = PollState::Open;
                    p.deadline = *deadline;
                    s.open_poll = Some(*poll);
                }
            }
            Event::BallotCast {
                poll,
                ballot,
                totals,
            } => {
                if let Some(p) = s.polls.get_mut(poll) {
                    p.voters.push(ballot.viewer.clone());
                    p.ballots.push(ballot.clone());
                    p.totals.clone_from(totals);
                }
            }
            Event::AnonymousBallotCast { poll, totals } => {
                if let Some(p) = s.polls.get_mut(poll) {
                    p.totals.clone_from(totals);
                }
            }
            Event::AnonymousPollVoters { .. } => {}
            Event::PollClosed { poll } => {
                if let Some(p) = s.polls.get_mut(poll) {
                    p.state = PollState::Closed;
                    p.deadline = None;
                }
                if s.open_poll == Some(*poll) {
                    s.open_poll = None;
                }
            }
            Event::PollRevealed { poll, correct, .. } => {
                if let Some(p) = s.polls.get_mut(poll) {
                    p.state = PollState::Revealed;
                    s.last_revealed = Some(*poll);
                    if let Some(correct) = correct {
                        for ballot in &p.ballots {
                            if ballot.choices == *correct
                                && let Some(v) = s.participants.get_mut(&ballot.viewer)
                            {
                                v.quiz_score = v.quiz_score.saturating_add(1);
                            }
                        }
                    }
                }
            }
            Event::QuestionAsked { question } => {
                s.last_question = s.last_question.max(question.id.0);
                s.questions.insert(question.id, question.clone());
            }
            Event::QuestionUpvoted {
                question,
                viewer,
                votes,
            } => {
                if let Some(q) = s.questions.get_mut(question) {
                    q.votes = *votes;
                }
                if let Some(p) = s.participants.get_mut(viewer) {
                    p.upvoted.insert(*question);
                }
            }
            Event::QuestionApproved { question } => {
                set_question_state(s, question.id, QuestionState::Approved);
            }
            Event::QuestionAnswered {
                question,
                answer,
                automatic,
            } => {
                set_question_state(s, *question, QuestionState::Answered);
                if let Some(q) = s.questions.get_mut(question) {
                    q.answer.clone_from(answer);
                    q.automatic.clone_from(automatic);
                }
            }
            Event::QuestionDismissed { question, .. } => {
                set_question_state(s, *question, QuestionState::Dismissed);
                if s.highlighted == Some(*question) {
                    s.highlighted = None;
                }
            }
            Event::QuestionHighlighted { question } => s.highlighted = *question,
            Event::BroadcastEnded => s.ended = true,
            Event::OfferScheduled { offer } | Event::OfferPushed { offer } => {
                let id = offer.spec.id.clone();
                match s.offers.iter_mut().find(|o| o.spec.id == id) {
                    Some(known) => *known = (**offer).clone(),
                    None => s.offers.push((**offer).clone()),
                }
                s.offer_viewers.entry(id.clone()).or_default();
                if offer.state == OfferState::Live {
                    s.live_offer = Some(id);
                }
            }
            Event::OfferShown { viewer, card } => {
                let seen = s.offer_viewers.entry(card.offer.clone()).or_default();
                if seen.shown.insert(viewer.clone(), card.variant).is_none()
                    && let Some(offer) = s.offers.iter_mut().find(|o| o.spec.id == card.offer)
                    && let Some(c) = offer.counts.get_mut(usize::from(card.variant))
                {
                    c.shown = c.shown.saturating_add(1);
                }
            }
            Event::OfferWithdrawn { offer, .. } => {
                if let Some(o) = s.offers.iter_mut().find(|o| o.spec.id == *offer) {
                    o.state = OfferState::Withdrawn;
                }
                if s.live_offer.as_ref() == Some(offer) {
                    s.live_offer = None;
                }
            }
            Event::OfferExposed(tally)
            | Event::OfferClicked(tally)
            | Event::OfferDismissed(tally) => {
                let seen = s.offer_viewers.entry(tally.offer.clone()).or_default();
                let set = match &record.event {
                    Event::OfferExposed(_) => &mut seen.exposed,
                    Event::OfferClicked(_) => &mut seen.clicked,
                    _ => &mut seen.dismissed,
                };
                set.insert(tally.viewer.clone());
                if let Some(offer) = s.offers.iter_mut().find(|o| o.spec.id == tally.offer)
                    && let Some(c) = offer.counts.get_mut(usize::from(tally.variant))
                {
                    *c = tally.counts;
                }
            }
        }
    }

    /// What `viewer` sees on joining (or `None` if they never joined).
    pub fn snapshot(&self, viewer: &ViewerId, now: Timestamp) -> Option<Snapshot> {
        let s = &self.state;
        let p = s.participants.get(viewer)?;
        let staff = p.role.is_staff();
        let poll = s
            .open_poll
            .or(s.last_revealed)
            .and_then(|id| s.polls.get(&id))
            .map(|poll| poll_view(poll, viewer, staff, self.has_voted(poll, viewer)));
        let skip = s.chat.len().saturating_sub(limits::SNAPSHOT_CHAT);
        Some(Snapshot {
            v: PROTOCOL_VERSION,
            you: YourState {
                viewer: viewer.clone(),
                role: p.role,
                name: p.name.clone(),
                timed_out_until: p.timed_out_until.filter(|until| *until > now),
                quiz_score: p.quiz_score,
                upvoted: p.upvoted.iter().copied().collect(),
                held: s
                    .held
                    .iter()
                    .filter(|h| h.message.author == *viewer)
                    .map(|h| h.message.id)
                    .collect(),
            },
            settings: ChatSettings {
                mode: s.settings.mode,
                blocked_terms: if staff {
                    s.settings.blocked_terms.clone()
                } else {
                    Vec::new()
                },
            },
            pinned: s.pinned.clone(),
            poll,
            questions: self.questions_for(Some((viewer, staff)), limits::SNAPSHOT_QUESTIONS),
            highlighted: s.highlighted,
            chat: s.chat.iter().skip(skip).cloned().collect(),
            held: if staff { s.held.clone() } else { Vec::new() },
            flags: if staff {
                s.flags.iter().cloned().collect()
            } else {
                Vec::new()
            },
            back_channel: if staff {
                s.back_channel.iter().cloned().collect()
            } else {
                Vec::new()
            },
            ended: s.ended,
            offer: self.offer_card(viewer),
            offers: if staff { s.offers.clone() } else { Vec::new() },
        })
    }

    fn questions_for(&self, who: Option<(&ViewerId, bool)>, limit: usize) -> Vec<Question> {
        let mut list: Vec<Question> = self
            .state
            .questions
            .values()
            .filter(|q| match q.state {
                QuestionState::Approved | QuestionState::Answered => true,
                QuestionState::Pending => {
                    who.is_some_and(|(viewer, staff)| staff || q.asker == *viewer)
                }
                QuestionState::Dismissed => false,
            })
            .cloned()
            .collect();
        list.sort_by(|a, b| b.votes.cmp(&a.votes).then(a.id.cmp(&b.id)));
        list.truncate(limit);
        list
    }

    fn emit(
        &mut self,
        out: &mut Vec<Output>,
        now: Timestamp,
        by: Option<&ViewerId>,
        client_id: Option<&ClientId>,
        event: Event,
    ) {
        let record = Recorded {
            v: PROTOCOL_VERSION,
            at: now,
            by: by.cloned(),
            client_id: client_id.cloned(),
            event,
        };
        self.apply(&record);
        let closed = match &record.event {
            Event::PollClosed { poll } => Some(*poll),
            _ => None,
        };
        out.push(Output::Event { record });
        // An anonymous poll's voters are recorded once, as a set, when it closes.
        if let Some(poll) = closed
            && let Some(voters) = self.anonymous_voters.remove(&poll)
            && !voters.is_empty()
        {
            let voters = voters.into_iter().collect();
            self.emit(
                out,
                now,
                None,
                None,
                Event::AnonymousPollVoters { poll, voters },
            );
        }
    }

    /// Everyone online leaves and every video stops, each as the viewer's own event (so erasing
    /// them erases it).
    fn drop_everyone(&mut self, out: &mut Vec<Output>, now: Timestamp) {
        let online: Vec<ViewerId> = (self.state.participants.iter())
            .filter(|(_, p)| p.online)
            .map(|(v, _)| v.clone())
            .collect();
        for viewer in online {
            let by = viewer.clone();
            self.emit(out, now, Some(&by), None, Event::ViewerLeft { viewer });
        }
        let watching: Vec<ViewerId> = self.state.watching.iter().cloned().collect();
        for viewer in watching {
            let by = viewer.clone();
            let event = Event::MediaPresence {
                viewer,
                watching: false,
            };
            self.emit(out, now, Some(&by), None, event);
        }
    }

    /// What ending the broadcast records: the open poll closes, offers are withdrawn, and the
    /// room ends.
    fn end_events(&self) -> Vec<Event> {
        let s = &self.state;
        let mut events = Vec::new();
        if let Some(p) = s.open_poll.and_then(|id| s.polls.get(&id)) {
            events.push(Event::PollClosed { poll: p.id });
        }
        for o in s.offers.iter().filter(|o| o.state != OfferState::Withdrawn) {
            events.push(Event::OfferWithdrawn {
                offer: o.spec.id.clone(),
                course_id: o.spec.course_id.clone(),
            });
        }
        events.push(Event::BroadcastEnded);
        events
    }

    /// Closes polls whose timer ran out and flushes reactions of a finished second.
    fn run_timers(&mut self, now: Timestamp, out: &mut Vec<Output>) {
        if let Some(window) = &self.reactions
            && window.second.plus_ms(limits::RATE_INTERVAL_MS) <= now
        {
            let counts = window.counts.iter().map(|(r, n)| (*r, *n)).collect();
            let viewers = window
                .per_viewer
                .iter()
                .map(|(v, n)| (v.clone(), *n))
                .collect();
            let second = window.second;
            self.reactions = None;
            self.emit(
                out,
                now,
                None,
                None,
                Event::ReactionsAggregated { second, counts },
            );
            self.emit(out, now, None, None, Event::ReactionsBy { second, viewers });
        }
        let due = self
            .state
            .open_poll
            .and_then(|id| self.state.polls.get(&id))
            .filter(|p| p.deadline.is_some_and(|d| d <= now))
            .map(|p| p.id);
        if let Some(poll) = due {
            self.emit(out, now, None, None, Event::PollClosed { poll });
        }
        // Due offers go live in time order; each replaces the one before.
        for _ in 0..offer_limits::OFFERS {
            let due = self
                .state
                .offers
                .iter()
                .filter(|o| o.state == OfferState::Scheduled && o.at <= now && !self.state.ended)
                .min_by_key(|o| o.at)
                .cloned();
            let Some(offer) = due else { break };
            for event in self.go_live(offer, now) {
                self.emit(out, now, None, None, event);
            }
        }
    }

    /// The events that put `offer` on screens now: the live offer withdrawn, this one pushed,
    /// and a card for every viewer online.
    fn go_live(&self, mut offer: Offer, now: Timestamp) -> Vec<Event> {
        let s = &self.state;
        let mut events = Vec::new();
        if let Some(live) = s.live_offer.as_ref().and_then(|id| self.offer(id)) {
            events.push(Event::OfferWithdrawn {
                offer: live.spec.id.clone(),
                course_id: live.spec.course_id.clone(),
            });
        }
        offer.state = OfferState::Live;
        offer.at = now;
        let cards: Vec<Event> = s
            .participants
            .iter()
            .filter(|(_, p)| p.role == Role::Viewer && p.online && !p.banned)
            .filter(|(viewer, _)| self.reaches(&offer.spec, viewer))
            .filter_map(|(viewer, _)| {
                let card = offers::card(
                    &offer.spec,
                    variant_of(&offer, viewer),
                    viewer,
                    false,
                    false,
                )?;
                Some(Event::OfferShown {
                    viewer: viewer.clone(),
                    card: Box::new(card),
                })
            })
            .collect();
        events.push(Event::OfferPushed {
            offer: Box::new(offer),
        });
        events.extend(cards);
        events
    }

    /// Validates a push (`schedule` = `None`) or a schedule and returns its events.
    fn place_offer(
        &self,
        spec: &OfferSpec,
        schedule: Option<(Option<Timestamp>, Option<u32>)>,
        now: Timestamp,
    ) -> Result<Vec<Event>, RoomError> {
        let s = &self.state;
        let spec = offers::checked_offer(spec)?;
        if let Some(segment) = &spec.audience
            && !self.segment_members.contains_key(segment)
        {
            return Err(RoomError::invalid(
                "the offer's segment is not known to this class: choose it again",
            ));
        }
        if s.offers.iter().any(|o| o.spec.id == spec.id) {
            return Err(RoomError::invalid(
                "this offer id is already used in this class",
            ));
        }
        if s.offers.len() >= offer_limits::OFFERS {
            return Err(RoomError::Full {
                limit: offer_limits::OFFERS,
            });
        }
        let start = self
            .class
            .as_ref()
            .map(|c| c.started_at)
            .or(s.first_at)
            .unwrap_or(now);
        let minute_at = |minute: u32| start.plus_ms(u64::from(minute) * 60_000);
        let minute_range = || RoomError::OutOfRange {
            min: (now.0.saturating_sub(start.0) / 60_000).saturating_add(1),
            max: u64::from(offer_limits::MINUTE_MAX),
        };
        let timing = spec.is_timing_experiment();
        let mut session_variant = None;
        let at = match (schedule, timing) {
            (None, true) => {
                return Err(RoomError::invalid(
                    "a timing experiment is scheduled: use schedule_offer without at_ms or minute",
                ));
            }
            (None, false) => now,
            (Some((None, None)), true) => {
                let Some(class) = &self.class else {
                    return Err(RoomError::invalid(
                        "timing experiments need the room's session, which the host has not set",
                    ));
                };
                if spec
                    .variants
                    .iter()
                    .any(|v| v.minute.is_some_and(|m| minute_at(m) <= now))
                {
                    return Err(minute_range());
                }
                let index = offers::assign_variant(
                    spec.experiment_id(),
                    &offers::session_unit(&class.session),
                    &spec.weights(),
                );
                session_variant = u8::try_from(index).ok();
                let minute = spec.variants.get(index).and_then(|v| v.minute);
                minute_at(minute.unwrap_or(0))
            }
            (Some(_), true) => {
                return Err(RoomError::invalid(
                    "a timing experiment takes its minutes from its variants: no at_ms or minute",
                ));
            }
            (Some((Some(at), None)), false) => {
                let latest = now.plus_ms(offer_limits::SCHEDULE_AHEAD_MS);
                if at <= now || at > latest {
                    return Err(RoomError::OutOfRange {
                        min: now.0.saturating_add(1),
                        max: latest.0,
                    });
                }
                at
            }
            (Some((None, Some(minute))), false) => {
                if minute > offer_limits::MINUTE_MAX || minute_at(minute) <= now {
                    return Err(minute_range());
                }
                minute_at(minute)
            }
            (Some(_), false) => {
                return Err(RoomError::invalid(
                    "schedule with at_ms or minute: exactly one",
                ));
            }
        };
        let offer = Offer {
            counts: vec![VariantCounts::default(); spec.variants.len()],
            spec,
            state: OfferState::Scheduled,
            at,
            session_variant,
        };
        Ok(if schedule.is_none() {
            self.go_live(offer, now)
        } else {
            vec![Event::OfferScheduled {
                offer: Box::new(offer),
            }]
        })
    }

    /// Checks a viewer's response to their card and returns the tally to record.
    fn respond(
        &self,
        viewer: &ViewerId,
        offer: &OfferId,
        variant: u8,
        action: &Action,
    ) -> Result<Event, RoomError> {
        let s = &self.state;
        let o = self.offer(offer).ok_or(RoomError::NotFound)?;
        match o.state {
            OfferState::Withdrawn => return Err(RoomError::OfferWithdrawn),
            OfferState::Scheduled => return Err(RoomError::OfferNotLive),
            OfferState::Live => {}
        }
        let is_viewer = s
            .participants
            .get(viewer)
            .is_some_and(|p| p.role == Role::Viewer);
        if !is_viewer || !self.reaches(&o.spec, viewer) {
            return Err(RoomError::OfferNotLive);
        }
        let index = variant_of(o, viewer);
        if usize::from(variant) != index {
            return Err(RoomError::invalid("this is not your variant of the offer"));
        }
        let empty = OfferViewers::default();
        let seen = s.offer_viewers.get(offer).unwrap_or(&empty);
        let dismissed = seen.dismissed.contains(viewer);
        let mut counts = o.counts.get(index).copied().unwrap_or_default();
        let event: fn(Box<OfferTally>) -> Event = match action {
            Action::OfferExposed { .. } => {
                if dismissed {
                    return Err(RoomError::OfferNotLive);
                }
                if seen.exposed.contains(viewer) {
                    return Err(RoomError::AlreadyCounted);
                }
                counts.exposures = counts.exposures.saturating_add(1);
                Event::OfferExposed
            }
            Action::OfferClicked { .. } => {
                if dismissed {
                    return Err(RoomError::OfferNotLive);
                }
                if !seen.exposed.contains(viewer) {
                    return Err(RoomError::NotExposed);
                }
                if seen.clicked.contains(viewer) {
                    return Err(RoomError::AlreadyCounted);
                }
                counts.clicks = counts.clicks.saturating_add(1);
                Event::OfferClicked
            }
            _ => {
                if dismissed {
                    return Err(RoomError::AlreadyCounted);
                }
                counts.dismissals = counts.dismissals.saturating_add(1);
                Event::OfferDismissed
            }
        };
        let name = o.spec.variants.get(index).map(|v| v.name.clone());
        Ok(event(Box::new(OfferTally {
            offer: offer.clone(),
            course_id: o.spec.course_id.clone(),
            viewer: viewer.clone(),
            variant,
            variant_name: name.unwrap_or_default(),
            counts,
        })))
    }

    fn join(
        &self,
        viewer: &ViewerId,
        role: Role,
        name: &str,
        fingerprint: Option<Fingerprint>,
    ) -> Result<Vec<Event>, RoomError> {
        let s = &self.state;
        if s.ended {
            return Err(RoomError::RoomClosed);
        }
        let known = s.participants.get(viewer);
        if known.is_some_and(|p| p.banned) {
            return Err(RoomError::Banned);
        }
        if name.len() > crate::protocol::MAX_FRAME_BYTES {
            return Err(RoomError::TooLong {
                limit: limits::NAME_GRAPHEMES,
            });
        }
        let mut name = text::clean_name(name);
        if text::graphemes(&name) > limits::NAME_GRAPHEMES {
            return Err(RoomError::TooLong {
                limit: limits::NAME_GRAPHEMES,
            });
        }
        if name.is_empty() {
            name = match known {
                Some(p) if !p.name.is_empty() => p.name.clone(),
                _ => format!("Guest {}", s.participants.len() + 1),
            };
        }
        if !role.is_staff() {
            let staff_names = s
                .participants
                .iter()
                .filter(|(id, p)| p.role.is_staff() && *id != viewer)
                .map(|(_, p)| p.name.as_str());
            let confusable = RESERVED_NAMES
                .iter()
                .copied()
                .chain(staff_names)
                .any(|staff| text::names_confusable(staff, &name));
            if confusable {
                return Err(RoomError::NameConfusable);
            }
        }
        let mut events = vec![Event::ViewerJoined {
            viewer: viewer.clone(),
            role,
            name,
            fingerprint: fingerprint.clone(),
        }];
        if let Some(banned) = fingerprint
            .as_ref()
            .and_then(|f| s.banned_fingerprints.get(f))
            .filter(|banned| *banned != viewer)
        {
            events.push(Event::Flagged {
                flag: Flag::RepeatVisitor {
                    viewer: viewer.clone(),
                    banned: banned.clone(),
                },
            });
        }
        // A viewer who was away when the offer went live gets their card now (once).
        if role == Role::Viewer
            && let Some(offer) = s.live_offer.as_ref().and_then(|id| self.offer(id))
            && let Some(seen) = s.offer_viewers.get(&offer.spec.id)
            && !seen.shown.contains_key(viewer)
            && self.reaches(&offer.spec, viewer)
            && let Some(card) =
                offers::card(&offer.spec, variant_of(offer, viewer), viewer, false, false)
        {
            events.push(Event::OfferShown {
                viewer: viewer.clone(),
                card: Box::new(card),
            });
        }
        Ok(events)
    }

    /// The answer the host's assistant sends by itself, if the question still waits for one
    /// and the answer passes the limits staff's answers do.
    fn automatic_answer(
        &self,
        question: QuestionId,
        answer: &str,
        automatic: AutomaticAnswer,
    ) -> Option<Event> {
        let s = &self.state;
        let open = s
            .questions
            .get(&question)
            .is_some_and(|q| matches!(q.state, QuestionState::Pending | QuestionState::Approved));
        if s.ended || !open || automatic.confidence > 100 {
            return None;
        }
        let answer = checked_text(answer, true, limits::ANSWER_GRAPHEMES).ok()?;
        let source =
            checked_text(&automatic.source, false, limits::ANSWER_SOURCE_GRAPHEMES).ok()?;
        Some(Event::QuestionAnswered {
            question,
            answer: Some(answer),
            automatic: Some(AutomaticAnswer {
                source,
                confidence: automatic.confidence,
            }),
        })
    }

    fn act(
        &mut self,
        viewer: &ViewerId,
        action: &Action,
        now: Timestamp,
    ) -> Result<Outcome, RoomError> {
        let s = &self.state;
        if s.ended {
            return Err(RoomError::RoomClosed);
        }
        let me = s.participants.get(viewer).ok_or(RoomError::NotJoined)?;
        if me.banned {
            return Err(RoomError::Banned);
        }
        if !me.online {
            return Err(RoomError::NotJoined);
        }
        if !me.role.may(capability(action)) {
            return Err(RoomError::Forbidden);
        }
        let timed_out = me.timed_out_until.filter(|until| *until > now);
        let muted = || match timed_out {
            Some(until) => Err(RoomError::TimedOut { until }),
            None => Ok(()),
        };
        let one = |e: Event| Ok(Outcome::Events(vec![e]));
        match action {
            Action::SendChat { text, reply_to } => {
                muted()?;
                let text = checked_text(text, true, limits::CHAT_GRAPHEMES)?;
                // A reply names a message everyone can still see.
                if let Some(to) = reply_to
                    && !s.chat.iter().any(|m| m.id == *to)
                {
                    return Err(RoomError::NotFound);
                }
                let tat = me.rate_tat.max(now.0);
                let tolerance = (limits::RATE_BURST - 1) * limits::RATE_INTERVAL_MS;
                if tat > now.0.saturating_add(tolerance) {
                    return Err(RoomError::RateLimited {
                        retry_after_ms: tat - tolerance - now.0,
                    });
                }
                let staff = me.role.is_staff();
                if !staff
                    && s.settings.mode.slow_mode_secs > 0
                    && let Some(last) = me.last_sent
                {
                    let next = last.plus_ms(u64::from(s.settings.mode.slow_mode_secs) * 1000);
                    if next > now {
                        return Err(RoomError::SlowMode {
                            retry_after_ms: next.0 - now.0,
                        });
                    }
                }
                let message = ChatMessage {
                    id: MessageId(s.last_message + 1),
                    author: viewer.clone(),
                    name: me.name.clone(),
                    role: me.role,
                    text,
                    sent_at: now,
                    reply_to: *reply_to,
                };
                match (!staff)
                    .then(|| hold_reason(&s.settings, me, &message.text))
                    .flatten()
                {
                    None => one(Event::ChatSent { message }),
                    Some(reason) => {
                        if s.held.len() >= limits::HELD {
                            return Err(RoomError::Full {
                                limit: limits::HELD,
                            });
                        }
                        one(Event::ChatHeld {
                            hold: Hold { message, reason },
                        })
                    }
                }
            }
            Action::DeleteMessage { message } => {
                if !s.chat.iter().any(|m| m.id == *message) {
                    return Err(RoomError::NotFound);
                }
                one(Event::MessageDeleted { message: *message })
            }
            Action::PinMessage { message } => {
                let found = s.chat.iter().find(|m| m.id == *message);
                let message = found.ok_or(RoomError::NotFound)?.clone();
                one(Event::MessagePinned { message })
            }
            Action::UnpinMessage => {
                if s.pinned.is_none() {
                    return Err(RoomError::NotFound);
                }
                one(Event::MessageUnpinned)
            }
            Action::ClearChat => one(Event::ChatCleared),
            Action::SetSlowMode { seconds } => {
                in_range(*seconds, limits::SLOW_MODE_SECS)?;
                let mut mode = s.settings.mode;
                mode.slow_mode_secs = *seconds;
                one(Event::ChatModeChanged { mode })
            }
            Action::SetApprovedOnly { on } => {
                let mut mode = s.settings.mode;
                mode.approved_only = *on;
                one(Event::ChatModeChanged { mode })
            }
            Action::SetHoldFirstMessages { count } => {
                in_range(*count, limits::HOLD_FIRST_MESSAGES)?;
                let mut mode = s.settings.mode;
                mode.hold_first_messages = *count;
                one(Event::ChatModeChanged { mode })
            }
            Action::SetBlockedTerms { terms } => {
                let mut cleaned: Vec<String> = Vec::new();
                for term in terms {
                    let term = text::clean_name(term);
                    if text::graphemes(&term) > limits::TERM_GRAPHEMES {
                        return Err(RoomError::TooLong {
                            limit: limits::TERM_GRAPHEMES,
                        });
                    }
                    if !term.is_empty() && !cleaned.contains(&term) {
                        cleaned.push(term);
                    }
                }
                if cleaned.len() > limits::BLOCKED_TERMS {
                    return Err(RoomError::Full {
                        limit: limits::BLOCKED_TERMS,
                    });
                }
                one(Event::BlockedTermsChanged { terms: cleaned })
            }
            Action::ApproveHeld { message } => {
                let hold = s.held.iter().find(|h| h.message.id == *message);
                let message = hold.ok_or(RoomError::NotFound)?.message.clone();
                one(Event::HoldApproved { message })
            }
            Action::RejectHeld { message } => {
                let hold = s.held.iter().find(|h| h.message.id == *message);
                let author = hold.ok_or(RoomError::NotFound)?.message.author.clone();
                one(Event::HoldRejected {
                    message: *message,
                    author,
                })
            }
            Action::Timeout {
                viewer: target,
                seconds,
            } => {
                moderatable(s, target)?;
                in_range(*seconds, limits::TIMEOUT_SECS)?;
                one(Event::ViewerTimedOut {
                    viewer: target.clone(),
                    until: now.plus_ms(u64::from(*seconds) * 1000),
                })
            }
            Action::LiftTimeout { viewer: target } => {
                let p = moderatable(s, target)?;
                if p.timed_out_until.is_none_or(|until| until <= now) {
                    return Err(RoomError::NotFound);
                }
                one(Event::TimeoutLifted {
                    viewer: target.clone(),
                })
            }
            Action::Ban { viewer: target, .. } => {
                moderatable(s, target)?;
                one(Event::ViewerBanned {
                    viewer: target.clone(),
                })
            }
            Action::Unban { viewer: target } => {
                if !s.participants.get(target).is_some_and(|p| p.banned) {
                    return Err(RoomError::NotFound);
                }
                one(Event::ViewerUnbanned {
                    viewer: target.clone(),
                })
            }
            Action::PostBackChannel { text } => {
                let text = checked_text(text, true, limits::BACK_CHANNEL_GRAPHEMES)?;
                one(Event::BackChannelPosted {
                    name: me.name.clone(),
                    text,
                })
            }
            Action::CreatePoll { spec } => {
                if s.polls.len() >= limits::POLLS {
                    return Err(RoomError::Full {
                        limit: limits::POLLS,
                    });
                }
                let spec = checked_poll(spec)?;
                let options = spec.options.len();
                one(Event::PollCreated {
                    poll: Poll {
                        id: PollId(s.last_poll + 1),
                        spec,
                        state: PollState::Draft,
                        deadline: None,
                        totals: vec![0; options],
                        ballots: Vec::new(),
                        voters: Vec::new(),
                    },
                })
            }
            Action::OpenPoll { poll } => {
                let p = s.polls.get(poll).ok_or(RoomError::NotFound)?;
                if p.state != PollState::Draft {
                    return Err(RoomError::invalid("only a draft poll can be opened"));
                }
                if s.open_poll.is_some() {
                    return Err(RoomError::PollAlreadyOpen);
                }
                let deadline = p
                    .spec
                    .duration_secs
                    .map(|secs| now.plus_ms(u64::from(secs) * 1000));
                one(Event::PollOpened {
                    poll: *poll,
                    question: p.spec.question.clone(),
                    options: p.spec.options.clone(),
                    multiple: p.spec.multiple,
                    anonymous: p.spec.anonymous,
                    quiz: p.spec.correct.is_some(),
                    deadline,
                })
            }
            Action::ClosePoll { poll } => {
                let p = s.polls.get(poll).ok_or(RoomError::NotFound)?;
                if p.state != PollState::Open {
                    return Err(RoomError::PollClosed);
                }
                one(Event::PollClosed { poll: *poll })
            }
            Action::RevealPoll { poll } => {
                let p = s.polls.get(poll).ok_or(RoomError::NotFound)?;
                let mut events = Vec::new();
                match p.state {
                    PollState::Draft => {
                        return Err(RoomError::invalid("a draft poll has no results"));
                    }
                    PollState::Revealed => return Err(RoomError::invalid("already revealed")),
                    PollState::Open => events.push(Event::PollClosed { poll: *poll }),
                    PollState::Closed => {}
                }
                events.push(Event::PollRevealed {
                    poll: *poll,
                    totals: p.totals.clone(),
                    correct: p.spec.correct.clone(),
                });
                Ok(Outcome::Events(events))
            }
            Action::Vote { poll, choices } => {
                let p = s.polls.get(poll).ok_or(RoomError::NotFound)?;
                if p.state != PollState::Open {
                    return Err(RoomError::PollClosed);
                }
                if self.has_voted(p, viewer) {
                    return Err(RoomError::AlreadyVoted);
                }
                let choices = checked_choices(choices, p.spec.options.len(), p.spec.multiple)?;
                let mut totals = p.totals.clone();
                for &c in &choices {
                    if let Some(t) = totals.get_mut(usize::from(c)) {
                        *t = t.saturating_add(1);
                    }
                }
                let event = if p.spec.anonymous {
                    Event::AnonymousBallotCast {
                        poll: *poll,
                        totals,
                    }
                } else {
                    Event::BallotCast {
                        poll: *poll,
                        ballot: Ballot {
                            viewer: viewer.clone(),
                            choices,
                        },
                        totals,
                    }
                };
                one(event)
            }
            Action::Ask { text } => {
                muted()?;
                let text = checked_text(text, true, limits::QUESTION_GRAPHEMES)?;
                // Dismissed questions are off the board: moderation can always make room.
                let on_board = s
                    .questions
                    .values()
                    .filter(|q| q.state != QuestionState::Dismissed)
                    .count();
                if on_board >= limits::QUESTIONS {
                    return Err(RoomError::Full {
                        limit: limits::QUESTIONS,
                    });
                }
                let staff = me.role.is_staff();
                let pending = s
                    .questions
                    .values()
                    .filter(|q| q.asker == *viewer && q.state == QuestionState::Pending)
                    .count();
                if !staff && pending >= limits::PENDING_QUESTIONS_PER_VIEWER {
                    return Err(RoomError::Full {
                        limit: limits::PENDING_QUESTIONS_PER_VIEWER,
                    });
                }
                one(Event::QuestionAsked {
                    question: Question {
                        id: QuestionId(s.last_question + 1),
                        asker: viewer.clone(),
                        name: me.name.clone(),
                        text,
                        state: if staff {
                            QuestionState::Approved
                        } else {
                            QuestionState::Pending
                        },
                        votes: 0,
                        answer: None,
                        automatic: None,
                        asked_at: now,
                    },
                })
            }
            Action::Upvote { question } => {
                let q = s
                    .questions
                    .get(question)
                    .filter(|q| q.state == QuestionState::Approved)
                    .ok_or(RoomError::NotFound)?;
                if me.upvoted.contains(question) {
                    return Err(RoomError::AlreadyVoted);
                }
                one(Event::QuestionUpvoted {
                    question: *question,
                    viewer: viewer.clone(),
                    votes: q.votes.saturating_add(1),
                })
            }
            Action::ApproveQuestion { question } => {
                let q = s
                    .questions
                    .get(question)
                    .filter(|q| q.state == QuestionState::Pending)
                    .ok_or(RoomError::NotFound)?;
                let mut question = q.clone();
                question.state = QuestionState::Approved;
                one(Event::QuestionApproved { question })
            }
            Action::AnswerQuestion { question, answer } => {
                s.questions
                    .get(question)
                    .filter(|q| matches!(q.state, QuestionState::Pending | QuestionState::Approved))
                    .ok_or(RoomError::NotFound)?;
                let answer = match answer.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(text) => Some(checked_text(text, true, limits::ANSWER_GRAPHEMES)?),
                };
                one(Event::QuestionAnswered {
                    question: *question,
                    answer,
                    automatic: None,
                })
            }
            Action::DismissQuestion { question } => {
                let q = s
                    .questions
                    .get(question)
                    .filter(|q| q.state != QuestionState::Dismissed)
                    .ok_or(RoomError::NotFound)?;
                one(Event::QuestionDismissed {
                    question: *question,
                    asker: q.asker.clone(),
                })
            }
            Action::HighlightQuestion { question } => {
                if let Some(id) = question {
                    s.questions
                        .get(id)
                        .filter(|q| q.state != QuestionState::Dismissed)
                        .ok_or(RoomError::NotFound)?;
                }
                one(Event::QuestionHighlighted {
                    question: *question,
                })
            }
            Action::LinkEmail { email, consent } => {
                if me.role.is_staff() {
                    return Err(RoomError::Forbidden);
                }
                if !consent {
                    return Err(RoomError::Invalid {
                        reason: "linking purchases by email needs the viewer's consent".into(),
                    });
                }
                let email_hash = email_hash(email).ok_or_else(|| RoomError::Invalid {
                    reason: "that is not an email address".into(),
                })?;
                let email_hash = match &self.email_key {
                    Some(key) => keyed_email_hash(key, &email_hash),
                    None => email_hash,
                };
                one(Event::EmailLinked {
                    viewer: viewer.clone(),
                    email_hash,
                })
            }
            Action::SetTabVisible { visible } => {
                if me.role.is_staff() {
                    return Err(RoomError::Forbidden);
                }
                match self.visibility.get(viewer) {
                    // The same state again: nothing to record.
                    Some((last, _)) if last == visible => return Ok(Outcome::Events(vec![])),
                    Some((_, at)) if at.plus_ms(limits::RATE_INTERVAL_MS) > now => {
                        return Err(RoomError::RateLimited {
                            retry_after_ms: at
                                .plus_ms(limits::RATE_INTERVAL_MS)
                                .0
                                .saturating_sub(now.0)
                                .max(1),
                        });
                    }
                    _ => {}
                }
                self.visibility.insert(viewer.clone(), (*visible, now));
                one(Event::TabVisibility {
                    viewer: viewer.clone(),
                    visible: *visible,
                })
            }
            Action::React { reaction } => {
                muted()?;
                let second = Timestamp(now.0 - now.0 % limits::RATE_INTERVAL_MS);
                let window = self.reactions.get_or_insert_with(|| ReactionWindow {
                    second,
                    counts: BTreeMap::new(),
                    senders: BTreeSet::new(),
                    per_viewer: BTreeMap::new(),
                });
                if !window.senders.insert((viewer.clone(), *reaction)) {
                    let next = window.second.plus_ms(limits::RATE_INTERVAL_MS);
                    return Err(RoomError::RateLimited {
                        retry_after_ms: next.0.saturating_sub(now.0).max(1),
                    });
                }
                let count = window.counts.entry(*reaction).or_insert(0);
                *count = count.saturating_add(1);
                let mine = window.per_viewer.entry(viewer.clone()).or_insert(0);
                *mine = mine.saturating_add(1);
                Ok(Outcome::Pending)
            }
            Action::EndBroadcast => Ok(Outcome::Events(self.end_events())),
            Action::PushOffer { spec } => Ok(Outcome::Events(self.place_offer(spec, None, now)?)),
            Action::ScheduleOffer {
                spec,
                at_ms,
                minute,
            } => Ok(Outcome::Events(self.place_offer(
                spec,
                Some((*at_ms, *minute)),
                now,
            )?)),
            Action::WithdrawOffer { offer } => {
                let o = self.offer(offer).ok_or(RoomError::NotFound)?;
                if o.state == OfferState::Withdrawn {
                    return Err(RoomError::OfferWithdrawn);
                }
                one(Event::OfferWithdrawn {
                    offer: offer.clone(),
                    course_id: o.spec.course_id.clone(),
                })
            }
            Action::OfferExposed { offer, variant }
            | Action::OfferClicked { offer, variant }
            | Action::OfferDismissed { offer, variant } => {
                one(self.respond(viewer, offer, *variant, action)?)
            }
        }
    }
}

/// The capability each action needs: the one place actions meet the permission table.
pub fn capability(action: &Action) -> Capability {
    match action {
        Action::SendChat { .. } => Capability::Chat,
        Action::Ask { .. } | Action::Upvote { .. } => Capability::Ask,
        Action::Vote { .. } => Capability::Vote,
        Action::React { .. } => Capability::React,
        Action::DeleteMessage { .. }
        | Action::PinMessage { .. }
        | Action::UnpinMessage
        | Action::ClearChat
        | Action::SetSlowMode { .. }
        | Action::SetApprovedOnly { .. }
        | Action::SetHoldFirstMessages { .. }
        | Action::SetBlockedTerms { .. }
        | Action::ApproveHeld { .. }
        | Action::RejectHeld { .. }
        | Action::Timeout { .. }
        | Action::LiftTimeout { .. }
        | Action::Ban { .. }
        | Action::Unban { .. } => Capability::Moderate,
        Action::PostBackChannel { .. } => Capability::BackChannel,
        Action::CreatePoll { .. }
        | Action::OpenPoll { .. }
        | Action::ClosePoll { .. }
        | Action::RevealPoll { .. } => Capability::RunPolls,
        Action::ApproveQuestion { .. }
        | Action::AnswerQuestion { .. }
        | Action::DismissQuestion { .. }
        | Action::HighlightQuestion { .. } => Capability::RunQa,
        Action::EndBroadcast => Capability::EndBroadcast,
        Action::PushOffer { .. } | Action::ScheduleOffer { .. } | Action::WithdrawOffer { .. } => {
            Capability::ChangeOffers
        }
        Action::OfferExposed { .. }
        | Action::OfferClicked { .. }
        | Action::OfferDismissed { .. }
        | Action::LinkEmail { .. }
        | Action::SetTabVisible { .. } => Capability::RespondToOffers,
    }
}

/// The most characters of an email address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// What the room records for a consented email: HMAC-SHA256 under the school's email key of
/// [`email_hash`] (the SHA-256 hex a shop exports as `learners.email_hash`), as hex. Without the
/// key, which never leaves the studio, nobody can test guesses against it (a plain SHA-256 of
/// an address can be reversed by hashing likely addresses). The host matches it to learners by
/// keying their `email_hash` the same way.
pub fn keyed_email_hash(key: &[u8], sha256_hex: &str) -> String {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC takes a key of any length")
    };
    mac.update(b"lectern-email-v1:");
    mac.update(sha256_hex.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 hex of a consented email, trimmed and lower-cased; `None` when it is not an address.
pub fn email_hash(email: &str) -> Option<String> {
    use sha2::{Digest, Sha256};
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.chars().count() <= MAX_EMAIL_CHARS
        && email.chars().all(|c| {
            c.is_ascii_graphic() || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
        });
    if !plausible {
        return None;
    }
    let digest = Sha256::digest(email.as_bytes());
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// The variant `viewer` sees: the session's for a timing experiment, else their own.
fn variant_of(offer: &Offer, viewer: &ViewerId) -> usize {
    match offer.session_variant {
        Some(index) => usize::from(index),
        None => {
            offers::assign_variant(offer.spec.experiment_id(), &viewer.0, &offer.spec.weights())
        }
    }
}

fn rejected(to: ViewerId, client_id: Option<ClientId>, error: RoomError) -> Output {
    Output::Reply {
        to,
        reply: Reply::Rejected {
            client_id,
            message: error.to_string(),
            error,
        },
    }
}

fn count_message(s: &mut RoomState, message: &ChatMessage, at: Timestamp) {
    s.last_message = s.last_message.max(message.id.0);
    if let Some(p) = s.participants.get_mut(&message.author) {
        p.rate_tat = p
            .rate_tat
            .max(at.0)
            .saturating_add(limits::RATE_INTERVAL_MS);
        p.last_sent = Some(at);
    }
}

fn count_published(s: &mut RoomState, message: &ChatMessage) {
    if let Some(p) = s.participants.get_mut(&message.author) {
        p.messages_published = p.messages_published.saturating_add(1);
    }
}

fn push_chat(s: &mut RoomState, message: ChatMessage) {
    if s.chat.len() >= limits::CHAT_KEPT {
        s.chat.pop_front();
    }
    s.chat.push_back(message);
}

fn set_question_state(s: &mut RoomState, id: QuestionId, state: QuestionState) {
    if let Some(q) = s.questions.get_mut(&id) {
        q.state = state;
    }
}

fn hold_reason(settings: &ChatSettings, author: &Participant, text: &str) -> Option<HoldReason> {
    if settings.mode.approved_only {
        return Some(HoldReason::ApprovedOnly);
    }
    if !settings.blocked_terms.is_empty() {
        let skeleton = text::name_skeleton(text);
        if settings
            .blocked_terms
            .iter()
            .any(|term| text::contains_term(&skeleton, term))
        {
            return Some(HoldReason::BlockedTerm);
        }
    }
    if text::contains_link(text) {
        return Some(HoldReason::Link);
    }
    if author.messages_published < settings.mode.hold_first_messages {
        return Some(HoldReason::NewIdentity);
    }
    None
}

fn moderatable<'a>(s: &'a RoomState, target: &ViewerId) -> Result<&'a Participant, RoomError> {
    let p = s.participants.get(target).ok_or(RoomError::NotFound)?;
    if p.role.is_staff() {
        return Err(RoomError::Forbidden);
    }
    Ok(p)
}

fn in_range(value: u32, range: std::ops::RangeInclusive<u32>) -> Result<(), RoomError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(RoomError::OutOfRange {
            min: u64::from(*range.start()),
            max: u64::from(*range.end()),
        })
    }
}

fn checked_text(raw: &str, keep_newlines: bool, limit: usize) -> Result<String, RoomError> {
    // Nothing longer than a frame can be within a limit; refuse before cleaning costs anything.
    if raw.len() > crate::protocol::MAX_FRAME_BYTES {
        return Err(RoomError::TooLong { limit });
    }
    let cleaned = if keep_newlines {
        text::clean(raw, true)
    } else {
        text::clean_name(raw)
    };
    if cleaned.is_empty() {
        return Err(RoomError::Empty);
    }
    if text::graphemes(&cleaned) > limit {
        return Err(RoomError::TooLong { limit });
    }
    Ok(cleaned)
}

fn checked_choices(choices: &[u8], options: usize, multiple: bool) -> Result<Vec<u8>, RoomError> {
    let mut sorted = choices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != choices.len() {
        return Err(RoomError::invalid("an option is chosen twice"));
    }
    if sorted.is_empty() {
        return Err(RoomError::invalid("no option chosen"));
    }
    if !multiple && sorted.len() != 1 {
        return Err(RoomError::invalid("choose exactly one option"));
    }
    if sorted.iter().any(|&c| usize::from(c) >= options) {
        return Err(RoomError::invalid("no such option"));
    }
    Ok(sorted)
}

fn checked_poll(spec: &PollSpec) -> Result<PollSpec, RoomError> {
    let question = checked_text(&spec.question, false, limits::POLL_QUESTION_GRAPHEMES)?;
    if !limits::POLL_OPTIONS.contains(&spec.options.len()) {
        return Err(RoomError::invalid("a poll has 2 to 10 options"));
    }
    let options = spec
        .options
        .iter()
        .map(|o| checked_text(o, false, limits::POLL_OPTION_GRAPHEMES))
        .collect::<Result<Vec<_>, _>>()?;
    let correct = match &spec.correct {
        None => None,
        Some(_) if spec.anonymous => {
            return Err(RoomError::invalid("a quiz cannot be anonymous"));
        }
        Some(correct) => Some(checked_choices(correct, options.len(), spec.multiple)?),
    };
    if let Some(secs) = spec.duration_secs {
        in_range(secs, limits::POLL_DURATION_SECS)?;
    }
    let skill = spec.skill.as_deref().map(checked_skill).transpose()?;
    Ok(PollSpec {
        question,
        options,
        multiple: spec.multiple,
        anonymous: spec.anonymous,
        correct,
        duration_secs: spec.duration_secs,
        skill,
    })
}

/// A skill tag: trimmed, 1 to 40 of `A-Z a-z 0-9 _ -` and space.
fn checked_skill(raw: &str) -> Result<String, RoomError> {
    let skill = raw.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' ');
    if skill.is_empty()
        || skill.chars().count() > limits::SKILL_CHARS
        || !skill.chars().all(allowed)
    {
        return Err(RoomError::invalid(
            "a skill is 1 to 40 letters, digits, spaces, _ or - (a course tag)",
        ));
    }
    Ok(skill.to_owned())
}

fn poll_view(poll: &Poll, viewer: &ViewerId, staff: bool, voted: bool) -> PollView {
    let revealed = poll.state == PollState::Revealed;
    PollView {
        id: poll.id,
        question: poll.spec.question.clone(),
        options: poll.spec.options.clone(),
        multiple: poll.spec.multiple,
        anonymous: poll.spec.anonymous,
        quiz: poll.spec.correct.is_some(),
        state: poll.state,
        deadline: poll.deadline,
        totals: (staff || revealed).then(|| poll.totals.clone()),
        correct: if revealed {
            poll.spec.correct.clone()
        } else {
            None
        },
        voted,
        your_choices: poll
            .ballots
            .iter()
            .find(|b| b.viewer == *viewer)
            .map(|b| b.choices.clone()),
    }
}
