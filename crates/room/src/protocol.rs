//! What flows in and out of the room: inputs, actions, events, replies, and the wire frame.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::RoomError;
use crate::model::{
    AutomaticAnswer, BackChannelNote, Ballot, ChatMessage, ChatMode, ChatSettings, ClientId,
    Fingerprint, Flag, Hold, MessageId, Poll, PollId, PollSpec, PollState, Question, QuestionId,
    QuestionState, Reaction, Role, Timestamp, ViewerId,
};
use crate::offers::{Offer, OfferCard, OfferId, OfferSpec, VariantCounts};

/// The protocol version this crate speaks; carried by every frame and every recorded event.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest client frame the room accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 4096;

/// Everything the host can hand the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Input {
    /// Someone opened the room. The host has authenticated them and decided the role.
    Join {
        /// Their pseudonymous identity.
        viewer: ViewerId,
        /// Decided by the host, never by the client.
        role: Role,
        /// The name they typed (may be empty: they get a pseudonym).
        name: String,
        /// A hash of the browser, if the host has one.
        #[serde(default)]
        fingerprint: Option<Fingerprint>,
    },
    /// Their last connection closed.
    Leave {
        /// Who left.
        viewer: ViewerId,
    },
    /// A client message, from an authenticated sender.
    Act {
        /// Who sent it.
        viewer: ViewerId,
        /// The client's id for this message, for retries.
        #[serde(default)]
        client_id: Option<ClientId>,
        /// What they want.
        action: Action,
    },
    /// The host saw a viewer's video start or stop (their WHEP session, named by their browser):
    /// presence for engagement, whether or not they joined the chat.
    Media {
        /// Whose browser.
        viewer: ViewerId,
        /// Watching now (true) or not any more.
        watching: bool,
    },
    /// The broadcast's source changed (the host's media engine): the window's capture started
    /// (`camera`, `screen`, `screen_and_camera`, `audio_only`) or stopped (`None`).
    Source {
        /// What is captured now, or `None` when the window's capture stopped.
        capture: Option<String>,
    },
    /// The host verified the personal join link a viewer's page carried (signed with the
    /// school's secret): this viewer is that learner of the school's shop.
    LinkLearner {
        /// Whose browser.
        viewer: ViewerId,
        /// The school's learner id (as in its purchases).
        learner: String,
    },
    /// The host lost every connection at once without closing them (it stopped: a crash, a
    /// kill, a power cut) and `now` is the last moment it knows it was running: everyone online
    /// leaves and every video stops then, so presence does not run on to the end of the class.
    /// The host hands this to a room rebuilt from its log before anyone can reconnect.
    ConnectionsLost,
    /// The host's answer assistant answers a question by itself (the instructor turned on
    /// "answer known questions automatically" and a known answer is sure enough). Recorded as
    /// `question_answered` with [`Event::QuestionAnswered::automatic`] and no author, if the
    /// question is still waiting or on the board; otherwise nothing happens (staff were first).
    AnswerAutomatically {
        /// Which question.
        question: QuestionId,
        /// The known answer (at most 1,000 graphemes, as staff's).
        answer: String,
        /// Where it comes from and how sure the assistant is.
        automatic: AutomaticAnswer,
    },
    /// The host tells the room who is in an audience segment (see
    /// [`crate::Room::set_segment_members`]): nothing is recorded or sent; past the limits it
    /// is ignored and an offer for that segment is refused.
    SegmentMembers {
        /// The segment's name, as offers name it.
        segment: String,
        /// Its members in this class's terms: the viewers linked to its learners.
        viewers: std::collections::BTreeSet<ViewerId>,
    },
    /// The host ends the class: everyone still connected leaves, every video stops, the open
    /// poll closes, offers are withdrawn, and the room records `broadcast_ended`.
    End,
    /// Time passed: the host calls this at [`crate::Room::next_deadline`].
    Tick,
}

/// What a participant asks the room to do. Each maps to one [`crate::Capability`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Send a chat message (at most 500 graphemes), as a reply to a message still in the chat
    /// if `reply_to` names one.
    SendChat {
        /// The text.
        text: String,
        /// The message it replies to (`not_found` if it is not in the chat any more).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reply_to: Option<MessageId>,
    },
    /// Staff: delete a message.
    DeleteMessage {
        /// Which.
        message: MessageId,
    },
    /// Staff: pin a message (replaces the pinned one).
    PinMessage {
        /// Which.
        message: MessageId,
    },
    /// Staff: unpin.
    UnpinMessage,
    /// Staff: clear the chat for everyone.
    ClearChat,
    /// Staff: seconds between messages per viewer, 0 to 300.
    SetSlowMode {
        /// 0 turns it off.
        seconds: u32,
    },
    /// Staff: hold every viewer message for review.
    SetApprovedOnly {
        /// On or off.
        on: bool,
    },
    /// Staff: hold the first `count` messages of each identity (0 to 20).
    SetHoldFirstMessages {
        /// 0 turns it off.
        count: u32,
    },
    /// Staff: replace the blocked terms list (at most 200 terms of at most 50 graphemes).
    SetBlockedTerms {
        /// The terms.
        terms: Vec<String>,
    },
    /// Staff: publish a held message.
    ApproveHeld {
        /// Which.
        message: MessageId,
    },
    /// Staff: drop a held message.
    RejectHeld {
        /// Which.
        message: MessageId,
    },
    /// Staff: mute a viewer for 10 s to 24 h.
    Timeout {
        /// Whom.
        viewer: ViewerId,
        /// How long, 10 to 86,400.
        seconds: u32,
    },
    /// Staff: end a timeout early.
    LiftTimeout {
        /// Whom.
        viewer: ViewerId,
    },
    /// Staff: ban an identity.
    Ban {
        /// Whom.
        viewer: ViewerId,
        /// Also refuse new browser keys from the address they joined from, for the rest of
        /// this class (a private window from the same place). The host keeps addresses in
        /// memory only; the log never holds one.
        #[serde(default)]
        #[ts(as = "Option<bool>", optional)]
        address: bool,
    },
    /// Staff: lift a ban.
    Unban {
        /// Whom.
        viewer: ViewerId,
    },
    /// Staff: a message in the staff-only back channel (at most 500 graphemes).
    PostBackChannel {
        /// The text.
        text: String,
    },
    /// Staff: create a poll (it starts as a draft).
    CreatePoll {
        /// What to ask.
        spec: PollSpec,
    },
    /// Staff: open a draft poll; its timer starts now.
    OpenPoll {
        /// Which.
        poll: PollId,
    },
    /// Staff: close an open poll.
    ClosePoll {
        /// Which.
        poll: PollId,
    },
    /// Staff: show a closed poll's results (and correct answers) to everyone.
    RevealPoll {
        /// Which.
        poll: PollId,
    },
    /// Vote in an open poll, once.
    Vote {
        /// Which poll.
        poll: PollId,
        /// Option indexes.
        choices: Vec<u8>,
    },
    /// Ask a question (at most 300 graphemes).
    Ask {
        /// The text.
        text: String,
    },
    /// Upvote an approved question, once.
    Upvote {
        /// Which.
        question: QuestionId,
    },
    /// Staff: put a pending question on the board.
    ApproveQuestion {
        /// Which.
        question: QuestionId,
    },
    /// Staff: mark a question answered, with the answer in writing if they give one (at most
    /// 1,000 graphemes; shown under the question to everyone, and kept for the answer
    /// assistant to suggest next time).
    AnswerQuestion {
        /// Which.
        question: QuestionId,
        /// The written answer, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        answer: Option<String>,
    },
    /// Staff: remove a question from the board.
    DismissQuestion {
        /// Which.
        question: QuestionId,
    },
    /// Staff: show a question on screen (`None` clears it).
    HighlightQuestion {
        /// Which, or none.
        question: Option<QuestionId>,
    },
    /// A viewer links their purchases to this class by email, with their consent: the room keeps
    /// only the SHA-256 of the trimmed, lower-cased address (staff see `email_linked`).
    LinkEmail {
        /// The address as typed.
        email: String,
        /// The viewer ticked the consent box; without it the action is refused.
        consent: bool,
    },
    /// A viewer who opted in says whether the class's tab is in view (sent when it changes).
    SetTabVisible {
        /// In view now.
        visible: bool,
    },
    /// React; counted into the next per-second aggregate.
    React {
        /// Which.
        reaction: Reaction,
    },
    /// Instructor only: the broadcast ends and the room closes.
    EndBroadcast,
    /// Instructor only: put an offer on viewers' screens now, replacing the live one.
    PushOffer {
        /// The offer.
        spec: Box<OfferSpec>,
    },
    /// Instructor only: put an offer on screens later: at `at_ms`, or at `minute` of the class,
    /// or (a timing experiment, every variant with a `minute`) at the session's variant's minute.
    ScheduleOffer {
        /// The offer.
        spec: Box<OfferSpec>,
        /// When, in ms since the Unix epoch (within 12 hours).
        #[serde(default)]
        #[ts(optional = nullable)]
        at_ms: Option<Timestamp>,
        /// Or: this minute after the class started (at most 720).
        #[serde(default)]
        #[ts(optional = nullable)]
        minute: Option<u32>,
    },
    /// Instructor only: take a live or scheduled offer away.
    WithdrawOffer {
        /// Which.
        offer: OfferId,
    },
    /// A viewer: their card is visible on screen now. Counted once per viewer and offer.
    OfferExposed {
        /// Which offer.
        offer: OfferId,
        /// The variant on the card (must be the viewer's).
        variant: u8,
    },
    /// A viewer clicked their card (after its exposure). Counted once.
    OfferClicked {
        /// Which offer.
        offer: OfferId,
        /// The variant on the card.
        variant: u8,
    },
    /// A viewer closed their card; it stays closed for that identity on every device.
    OfferDismissed {
        /// Which offer.
        offer: OfferId,
        /// The variant on the card.
        variant: u8,
    },
}

/// One viewer's response to their card, with the variant's counts after it (for staff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OfferTally {
    /// Which offer.
    pub offer: OfferId,
    /// The course it sells.
    pub course_id: String,
    /// Who.
    pub viewer: ViewerId,
    /// Their variant's index.
    pub variant: u8,
    /// Its name.
    pub variant_name: String,
    /// The variant's counts after this response.
    pub counts: VariantCounts,
}

/// A fact the room accepted. The host persists it (wrapped in [`Recorded`]) and fans it out to
/// its [`Audience`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Someone joined (or re-joined) with this cleaned name.
    ViewerJoined {
        /// Who.
        viewer: ViewerId,
        /// Their role.
        role: Role,
        /// The cleaned name or pseudonym.
        name: String,
        /// Their browser hash, if known.
        fingerprint: Option<Fingerprint>,
    },
    /// Someone left.
    ViewerLeft {
        /// Who.
        viewer: ViewerId,
    },
    /// A message went into the chat.
    ChatSent {
        /// The message.
        message: ChatMessage,
    },
    /// A message went into the held-for-review queue.
    ChatHeld {
        /// The message and why.
        hold: Hold,
    },
    /// A held message was approved and is now in the chat.
    HoldApproved {
        /// The message.
        message: ChatMessage,
    },
    /// A held message was rejected.
    HoldRejected {
        /// Which.
        message: MessageId,
        /// Its author.
        author: ViewerId,
    },
    /// A message was deleted.
    MessageDeleted {
        /// Which.
        message: MessageId,
    },
    /// A message was pinned.
    MessagePinned {
        /// The message.
        message: ChatMessage,
    },
    /// The pinned message was unpinned.
    MessageUnpinned,
    /// The chat was cleared.
    ChatCleared,
    /// The chat mode changed (slow mode, approved-only, held first messages).
    ChatModeChanged {
        /// The new mode.
        mode: ChatMode,
    },
    /// The blocked terms list was replaced.
    BlockedTermsChanged {
        /// The new list.
        terms: Vec<String>,
    },
    /// A viewer was timed out.
    ViewerTimedOut {
        /// Whom.
        viewer: ViewerId,
        /// Until when.
        until: Timestamp,
    },
    /// A timeout was lifted.
    TimeoutLifted {
        /// Whom.
        viewer: ViewerId,
    },
    /// An identity was banned.
    ViewerBanned {
        /// Whom.
        viewer: ViewerId,
    },
    /// A ban was lifted.
    ViewerUnbanned {
        /// Whom.
        viewer: ViewerId,
    },
    /// Staff should look at something.
    Flagged {
        /// What.
        flag: Flag,
    },
    /// A staff-only back-channel message.
    BackChannelPosted {
        /// The author's name.
        name: String,
        /// The cleaned text.
        text: String,
    },
    /// A poll was created (draft).
    PollCreated {
        /// The poll.
        poll: Poll,
    },
    /// A poll opened: everything a viewer needs to vote, never the correct answers.
    PollOpened {
        /// Which.
        poll: PollId,
        /// The question.
        question: String,
        /// The options.
        options: Vec<String>,
        /// Several options may be chosen.
        multiple: bool,
        /// Only totals are kept.
        anonymous: bool,
        /// A quiz (answers come with the reveal).
        quiz: bool,
        /// When it closes by itself, if timed.
        deadline: Option<Timestamp>,
    },
    /// A named ballot was cast (staff only: viewers see results on reveal; the voter's
    /// confirmation is the host's acknowledgement).
    BallotCast {
        /// Which poll.
        poll: PollId,
        /// The ballot.
        ballot: Ballot,
        /// Totals after it.
        totals: Vec<u32>,
    },
    /// A ballot was cast in an anonymous poll: the new totals only. The record names no voter
    /// (no author, no client id): who voted is kept apart ([`Output::Voter`]) until the poll
    /// closes, then recorded as a set ([`Event::AnonymousPollVoters`]).
    AnonymousBallotCast {
        /// Which poll.
        poll: PollId,
        /// Totals after it.
        totals: Vec<u32>,
    },
    /// An anonymous poll closed: who took part, sorted by id (not in the order they voted), so
    /// participation counts for engagement while no record links a viewer to a choice.
    AnonymousPollVoters {
        /// Which poll.
        poll: PollId,
        /// Who voted, sorted.
        voters: Vec<ViewerId>,
    },
    /// A poll closed (by staff, or by its timer when the record has no author).
    PollClosed {
        /// Which.
        poll: PollId,
    },
    /// A poll's results were shown to everyone.
    PollRevealed {
        /// Which.
        poll: PollId,
        /// Final totals.
        totals: Vec<u32>,
        /// The correct options in quiz mode.
        correct: Option<Vec<u8>>,
    },
    /// A question was asked (pending, or approved when staff asked).
    QuestionAsked {
        /// The question.
        question: Question,
    },
    /// A question was upvoted.
    QuestionUpvoted {
        /// Which.
        question: QuestionId,
        /// By whom.
        viewer: ViewerId,
        /// Votes after it.
        votes: u32,
    },
    /// A pending question was approved.
    QuestionApproved {
        /// The question.
        question: Question,
    },
    /// A question was answered.
    QuestionAnswered {
        /// Which.
        question: QuestionId,
        /// The written answer, if staff gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        answer: Option<String>,
        /// Set when the answer assistant sent it by itself ([`Input::AnswerAutomatically`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        automatic: Option<AutomaticAnswer>,
    },
    /// A question was dismissed.
    QuestionDismissed {
        /// Which.
        question: QuestionId,
        /// Its asker.
        asker: ViewerId,
    },
    /// The on-screen question changed.
    QuestionHighlighted {
        /// Which, or none.
        question: Option<QuestionId>,
    },
    /// Reactions during one second, at most one event per second of activity.
    ReactionsAggregated {
        /// The start of that second.
        second: Timestamp,
        /// Count per reaction, in the enum's order, zero counts left out.
        counts: Vec<(Reaction, u32)>,
    },
    /// The broadcast's source changed: the window's capture started (what it captures) or
    /// stopped (`None`). Staff only.
    BroadcastSource {
        /// What is captured now, or `None`.
        capture: Option<String>,
    },
    /// A viewer's video started or stopped (staff only; engagement merges it with room presence).
    MediaPresence {
        /// Whose browser.
        viewer: ViewerId,
        /// Watching now or not.
        watching: bool,
    },
    /// A viewer who opted in brought the class's tab into view or hid it (staff only;
    /// engagement does not count hidden time as presence).
    TabVisibility {
        /// Who.
        viewer: ViewerId,
        /// In view now.
        visible: bool,
    },
    /// A viewer linked their purchases by a consented email (staff only; the hash, never the
    /// address).
    EmailLinked {
        /// Who.
        viewer: ViewerId,
        /// The address keyed with the school's email key ([`crate::keyed_email_hash`] of the
        /// SHA-256 hex of the trimmed, lower-cased address); a plain SHA-256 in rooms without a
        /// key and in logs older than the key.
        email_hash: String,
    },
    /// A viewer arrived by their personal join link (staff only): this viewer is the school's
    /// learner `learner`, so their history reaches recommendations, likely buyers and offers.
    LearnerLinked {
        /// Who.
        viewer: ViewerId,
        /// The school's learner id.
        learner: String,
    },
    /// Who reacted during that second, and how often (staff only: engagement counts each
    /// viewer's reactions; other viewers see only the aggregate).
    ReactionsBy {
        /// The start of that second (the same as its `reactions_aggregated`).
        second: Timestamp,
        /// Reactions per viewer, in id order.
        viewers: Vec<(ViewerId, u32)>,
    },
    /// The broadcast ended; the room accepts nothing more.
    BroadcastEnded,
    /// An offer was scheduled: every variant (staff only).
    OfferScheduled {
        /// The offer, `scheduled`, with `at`.
        offer: Box<Offer>,
    },
    /// An offer went live (pushed, or its time came when the record has no author): every
    /// variant (staff only). Viewers get their own card with `offer_shown`.
    OfferPushed {
        /// The offer, `live`.
        offer: Box<Offer>,
    },
    /// One viewer's card was delivered: their variant only, their checkout link.
    OfferShown {
        /// Whose.
        viewer: ViewerId,
        /// The card.
        card: Box<OfferCard>,
    },
    /// An offer was withdrawn (by the instructor, by a newer offer, or by the end of the class).
    OfferWithdrawn {
        /// Which.
        offer: OfferId,
        /// The course it sold.
        course_id: String,
    },
    /// A viewer's card was visible on their screen.
    OfferExposed(Box<OfferTally>),
    /// A viewer clicked their card.
    OfferClicked(Box<OfferTally>),
    /// A viewer dismissed their card.
    OfferDismissed(Box<OfferTally>),
}

/// The kind of an [`Event`], without its fields: the `type` its records carry in the log and on
/// the wire (the same snake_case names, by the same serde rule). Other crates name events by
/// kind (the store's chat retention, the engine's reading of the log) instead of by string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// [`Event::ViewerJoined`].
    ViewerJoined,
    /// [`Event::ViewerLeft`].
    ViewerLeft,
    /// [`Event::ChatSent`].
    ChatSent,
    /// [`Event::ChatHeld`].
    ChatHeld,
    /// [`Event::HoldApproved`].
    HoldApproved,
    /// [`Event::HoldRejected`].
    HoldRejected,
    /// [`Event::MessageDeleted`].
    MessageDeleted,
    /// [`Event::MessagePinned`].
    MessagePinned,
    /// [`Event::MessageUnpinned`].
    MessageUnpinned,
    /// [`Event::ChatCleared`].
    ChatCleared,
    /// [`Event::ChatModeChanged`].
    ChatModeChanged,
    /// [`Event::BlockedTermsChanged`].
    BlockedTermsChanged,
    /// [`Event::ViewerTimedOut`].
    ViewerTimedOut,
    /// [`Event::TimeoutLifted`].
    TimeoutLifted,
    /// [`Event::ViewerBanned`].
    ViewerBanned,
    /// [`Event::ViewerUnbanned`].
    ViewerUnbanned,
    /// [`Event::Flagged`].
    Flagged,
    /// [`Event::BackChannelPosted`].
    BackChannelPosted,
    /// [`Event::PollCreated`].
    PollCreated,
    /// [`Event::PollOpened`].
    PollOpened,
    /// [`Event::BallotCast`].
    BallotCast,
    /// [`Event::AnonymousBallotCast`].
    AnonymousBallotCast,
    /// [`Event::AnonymousPollVoters`].
    AnonymousPollVoters,
    /// [`Event::PollClosed`].
    PollClosed,
    /// [`Event::PollRevealed`].
    PollRevealed,
    /// [`Event::QuestionAsked`].
    QuestionAsked,
    /// [`Event::QuestionUpvoted`].
    QuestionUpvoted,
    /// [`Event::QuestionApproved`].
    QuestionApproved,
    /// [`Event::QuestionAnswered`].
    QuestionAnswered,
    /// [`Event::QuestionDismissed`].
    QuestionDismissed,
    /// [`Event::QuestionHighlighted`].
    QuestionHighlighted,
    /// [`Event::ReactionsAggregated`].
    ReactionsAggregated,
    /// [`Event::BroadcastSource`].
    BroadcastSource,
    /// [`Event::MediaPresence`].
    MediaPresence,
    /// [`Event::TabVisibility`].
    TabVisibility,
    /// [`Event::EmailLinked`].
    EmailLinked,
    /// [`Event::LearnerLinked`].
    LearnerLinked,
    /// [`Event::ReactionsBy`].
    ReactionsBy,
    /// [`Event::BroadcastEnded`].
    BroadcastEnded,
    /// [`Event::OfferScheduled`].
    OfferScheduled,
    /// [`Event::OfferPushed`].
    OfferPushed,
    /// [`Event::OfferShown`].
    OfferShown,
    /// [`Event::OfferWithdrawn`].
    OfferWithdrawn,
    /// [`Event::OfferExposed`].
    OfferExposed,
    /// [`Event::OfferClicked`].
    OfferClicked,
    /// [`Event::OfferDismissed`].
    OfferDismissed,
}

impl EventKind {
    /// The kinds whose record carries a chat text someone wrote (what chat retention redacts);
    /// an approved question carries its full text again.
    pub const WITH_TEXT: [EventKind; 7] = [
        EventKind::ChatSent,
        EventKind::ChatHeld,
        EventKind::HoldApproved,
        EventKind::MessagePinned,
        EventKind::BackChannelPosted,
        EventKind::QuestionAsked,
        EventKind::QuestionApproved,
    ];

    /// Its name: the `type` of its records (`chat_sent`).
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            // A unit variant always serialises to its name.
            _ => String::new(),
        }
    }

    /// The kind named `name` (a record's `type`), if the room has one.
    pub fn from_name(name: &str) -> Option<EventKind> {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
    }
}

/// Who receives an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", content = "viewer", rename_all = "snake_case")]
pub enum Audience {
    /// Every connection.
    Everyone,
    /// Instructor and TAs.
    Staff,
    /// Staff and one viewer (their own held message, ballot or pending question).
    StaffAnd(ViewerId),
}

impl Audience {
    /// Whether a participant with `role` and id `viewer` receives events for this audience.
    pub fn includes(&self, role: Role, viewer: &ViewerId) -> bool {
        match self {
            Audience::Everyone => true,
            Audience::Staff => role.is_staff(),
            Audience::StaffAnd(who) => role.is_staff() || who == viewer,
        }
    }
}

impl Event {
    /// Its kind (its record's `type`).
    pub fn kind(&self) -> EventKind {
        match self {
            Event::ViewerJoined { .. } => EventKind::ViewerJoined,
            Event::ViewerLeft { .. } => EventKind::ViewerLeft,
            Event::ChatSent { .. } => EventKind::ChatSent,
            Event::ChatHeld { .. } => EventKind::ChatHeld,
            Event::HoldApproved { .. } => EventKind::HoldApproved,
            Event::HoldRejected { .. } => EventKind::HoldRejected,
            Event::MessageDeleted { .. } => EventKind::MessageDeleted,
            Event::MessagePinned { .. } => EventKind::MessagePinned,
            Event::MessageUnpinned => EventKind::MessageUnpinned,
            Event::ChatCleared => EventKind::ChatCleared,
            Event::ChatModeChanged { .. } => EventKind::ChatModeChanged,
            Event::BlockedTermsChanged { .. } => EventKind::BlockedTermsChanged,
            Event::ViewerTimedOut { .. } => EventKind::ViewerTimedOut,
            Event::TimeoutLifted { .. } => EventKind::TimeoutLifted,
            Event::ViewerBanned { .. } => EventKind::ViewerBanned,
            Event::ViewerUnbanned { .. } => EventKind::ViewerUnbanned,
            Event::Flagged { .. } => EventKind::Flagged,
            Event::BackChannelPosted { .. } => EventKind::BackChannelPosted,
            Event::PollCreated { .. } => EventKind::PollCreated,
            Event::PollOpened { .. } => EventKind::PollOpened,
            Event::BallotCast { .. } => EventKind::BallotCast,
            Event::AnonymousBallotCast { .. } => EventKind::AnonymousBallotCast,
            Event::AnonymousPollVoters { .. } => EventKind::AnonymousPollVoters,
            Event::PollClosed { .. } => EventKind::PollClosed,
            Event::PollRevealed { .. } => EventKind::PollRevealed,
            Event::QuestionAsked { .. } => EventKind::QuestionAsked,
            Event::QuestionUpvoted { .. } => EventKind::QuestionUpvoted,
            Event::QuestionApproved { .. } => EventKind::QuestionApproved,
            Event::QuestionAnswered { .. } => EventKind::QuestionAnswered,
            Event::QuestionDismissed { .. } => EventKind::QuestionDismissed,
            Event::QuestionHighlighted { .. } => EventKind::QuestionHighlighted,
            Event::ReactionsAggregated { .. } => EventKind::ReactionsAggregated,
            Event::BroadcastSource { .. } => EventKind::BroadcastSource,
            Event::MediaPresence { .. } => EventKind::MediaPresence,
            Event::TabVisibility { .. } => EventKind::TabVisibility,
            Event::EmailLinked { .. } => EventKind::EmailLinked,
            Event::LearnerLinked { .. } => EventKind::LearnerLinked,
            Event::ReactionsBy { .. } => EventKind::ReactionsBy,
            Event::BroadcastEnded => EventKind::BroadcastEnded,
            Event::OfferScheduled { .. } => EventKind::OfferScheduled,
            Event::OfferPushed { .. } => EventKind::OfferPushed,
            Event::OfferShown { .. } => EventKind::OfferShown,
            Event::OfferWithdrawn { .. } => EventKind::OfferWithdrawn,
            Event::OfferExposed(_) => EventKind::OfferExposed,
            Event::OfferClicked(_) => EventKind::OfferClicked,
            Event::OfferDismissed(_) => EventKind::OfferDismissed,
        }
    }

    /// Who receives this event.
    pub fn audience(&self) -> Audience {
        match self {
            Event::ViewerJoined { .. }
            | Event::ViewerLeft { .. }
            | Event::BlockedTermsChanged { .. }
            | Event::ViewerUnbanned { .. }
            | Event::Flagged { .. }
            | Event::BackChannelPosted { .. }
            | Event::PollCreated { .. }
            | Event::BallotCast { .. }
            | Event::AnonymousBallotCast { .. }
            | Event::AnonymousPollVoters { .. }
            | Event::OfferScheduled { .. }
            | Event::OfferPushed { .. }
            | Event::OfferExposed(_)
            | Event::OfferClicked(_)
            | Event::ReactionsBy { .. }
            | Event::EmailLinked { .. }
            | Event::LearnerLinked { .. }
            | Event::MediaPresence { .. }
            | Event::BroadcastSource { .. }
            | Event::TabVisibility { .. } => Audience::Staff,
            Event::OfferShown { viewer, .. } => Audience::StaffAnd(viewer.clone()),
            Event::OfferDismissed(tally) => Audience::StaffAnd(tally.viewer.clone()),
            Event::ChatHeld { hold } => Audience::StaffAnd(hold.message.author.clone()),
            Event::HoldRejected { author, .. } => Audience::StaffAnd(author.clone()),
            Event::ViewerTimedOut { viewer, .. }
            | Event::TimeoutLifted { viewer }
            | Event::ViewerBanned { viewer } => Audience::StaffAnd(viewer.clone()),
            Event::QuestionAsked { question } if question.state == QuestionState::Pending => {
                Audience::StaffAnd(question.asker.clone())
            }
            Event::QuestionDismissed { asker, .. } => Audience::StaffAnd(asker.clone()),
            Event::QuestionAsked { .. }
            | Event::ChatSent { .. }
            | Event::HoldApproved { .. }
            | Event::MessageDeleted { .. }
            | Event::MessagePinned { .. }
            | Event::MessageUnpinned
            | Event::ChatCleared
            | Event::ChatModeChanged { .. }
            | Event::PollOpened { .. }
            | Event::PollClosed { .. }
            | Event::PollRevealed { .. }
            | Event::QuestionUpvoted { .. }
            | Event::QuestionApproved { .. }
            | Event::QuestionAnswered { .. }
            | Event::QuestionHighlighted { .. }
            | Event::ReactionsAggregated { .. }
            | Event::OfferWithdrawn { .. }
            | Event::BroadcastEnded => Audience::Everyone,
        }
    }

    /// True for events that are moderation actions (offer changes included); with the record's
    /// `by` they form the audit log.
    pub fn is_moderation(&self) -> bool {
        matches!(
            self,
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
                | Event::PollCreated { .. }
                | Event::PollOpened { .. }
                | Event::PollClosed { .. }
                | Event::PollRevealed { .. }
                | Event::QuestionApproved { .. }
                | Event::QuestionAnswered { .. }
                | Event::QuestionDismissed { .. }
                | Event::QuestionHighlighted { .. }
                | Event::BroadcastEnded
                | Event::OfferScheduled { .. }
                | Event::OfferPushed { .. }
                | Event::OfferWithdrawn { .. }
        )
    }
}

/// An event with its context: the unit the host persists, numbers in commit order, fans out,
/// and hands back to [`crate::Room::replay`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Recorded {
    /// The protocol version it was written with.
    pub v: u32,
    /// When the room accepted it.
    pub at: Timestamp,
    /// Who caused it (`None` for the room itself: timers, aggregates).
    pub by: Option<ViewerId>,
    /// The client id of the input that caused it, for retries.
    pub client_id: Option<ClientId>,
    /// The fact.
    pub event: Event,
}

/// One result of [`crate::Room::handle`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Output {
    /// Persist, then fan out to `record.event.audience()`. Acknowledge the sender only after
    /// commit.
    Event {
        /// The record.
        record: Recorded,
    },
    /// Send to one participant only; never persisted.
    Reply {
        /// Whom.
        to: ViewerId,
        /// What.
        reply: Reply,
    },
    /// Someone voted in an anonymous poll. The host keeps this apart from the event log, in
    /// the same commit as the ballot's event, and never sends it: after a restart it hands the
    /// voters back ([`crate::Room::restore_voter`]) so each viewer still votes once. It may
    /// forget a poll's voters once [`Event::AnonymousPollVoters`] for it is committed.
    Voter {
        /// Which poll.
        poll: PollId,
        /// Who voted.
        viewer: ViewerId,
    },
}

/// A direct answer to one participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// The answer to a join: everything needed to draw the room.
    Welcome {
        /// The state.
        snapshot: Box<Snapshot>,
    },
    /// The input was refused; nothing changed.
    Rejected {
        /// The input's client id, if it had one.
        client_id: Option<ClientId>,
        /// Why.
        error: RoomError,
        /// The error for people.
        message: String,
    },
    /// This client id was already applied; nothing changed this time.
    Duplicate {
        /// The repeated id.
        client_id: ClientId,
    },
}

/// A poll as one participant may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PollView {
    /// Its number.
    pub id: PollId,
    /// The question.
    pub question: String,
    /// The options.
    pub options: Vec<String>,
    /// Several options may be chosen.
    pub multiple: bool,
    /// Only totals are kept.
    pub anonymous: bool,
    /// A quiz.
    pub quiz: bool,
    /// Its state.
    pub state: PollState,
    /// When it closes by itself.
    pub deadline: Option<Timestamp>,
    /// Totals: live for staff, after reveal for viewers.
    pub totals: Option<Vec<u32>>,
    /// The correct options, after reveal.
    pub correct: Option<Vec<u8>>,
    /// Whether this participant has voted.
    pub voted: bool,
    /// This participant's choices (named polls only).
    pub your_choices: Option<Vec<u8>>,
}

/// A participant's own state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct YourState {
    /// Their identity.
    pub viewer: ViewerId,
    /// Their role.
    pub role: Role,
    /// Their display name.
    pub name: String,
    /// Timed out until, if now timed out.
    pub timed_out_until: Option<Timestamp>,
    /// Quiz points from revealed quizzes.
    pub quiz_score: u32,
    /// Questions they upvoted.
    pub upvoted: Vec<QuestionId>,
    /// Their messages waiting for review.
    pub held: Vec<MessageId>,
}

/// What a joiner receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Snapshot {
    /// The protocol version.
    pub v: u32,
    /// Their own state.
    pub you: YourState,
    /// Chat settings (blocked terms for staff only).
    pub settings: ChatSettings,
    /// The pinned message.
    pub pinned: Option<ChatMessage>,
    /// The open poll, or the last revealed one.
    pub poll: Option<PollView>,
    /// Top questions by votes (approved and answered; staff also see pending).
    pub questions: Vec<Question>,
    /// The highlighted question.
    pub highlighted: Option<QuestionId>,
    /// The last 50 chat messages, oldest first.
    pub chat: Vec<ChatMessage>,
    /// Staff only: the held-for-review queue.
    pub held: Vec<Hold>,
    /// Staff only: open flags.
    pub flags: Vec<Flag>,
    /// Staff only: the latest back-channel messages, oldest first.
    pub back_channel: Vec<BackChannelNote>,
    /// The class has ended.
    pub ended: bool,
    /// A viewer's live offer card (their variant), unless they dismissed it; `None` for staff.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub offer: Option<OfferCard>,
    /// Staff only: every offer of the class with all variants and live counts.
    #[serde(default)]
    pub offers: Vec<Offer>,
}

/// A client's WebSocket frame: `{"v":1,"client_id":"c-17","action":{"type":"send_chat",...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ClientFrame {
    /// Must be [`PROTOCOL_VERSION`].
    pub v: u32,
    /// The client's id for this message (recommended; needed for safe retries).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub client_id: Option<ClientId>,
    /// What the client wants.
    pub action: Action,
}

/// Parses a client frame with the protocol's limits: size, JSON shape, version.
pub fn parse_client_frame(frame: &str) -> Result<ClientFrame, RoomError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(RoomError::FrameTooLarge {
            limit: MAX_FRAME_BYTES,
        });
    }
    let parsed: ClientFrame = serde_json::from_str(frame).map_err(|e| RoomError::Malformed {
        reason: e.to_string(),
    })?;
    if parsed.v != PROTOCOL_VERSION {
        return Err(RoomError::UnsupportedVersion { got: parsed.v });
    }
    Ok(parsed)
}

#[cfg(test)]
mod event_kind_tests {
    use super::{Event, EventKind};
    use crate::model::{PollId, ViewerId};

    /// A kind's name is the `type` its event is serialised with, for each shape of variant.
    #[test]
    fn a_kind_is_named_as_its_records_type() {
        let events = [
            Event::ViewerLeft {
                viewer: ViewerId::from("v1"),
            },
            Event::PollClosed { poll: PollId(2) },
            Event::MessageUnpinned,
            Event::BroadcastEnded,
        ];
        for event in events {
            let value = serde_json::to_value(&event).unwrap_or_default();
            let kind = event.kind();
            assert_eq!(value["type"].as_str(), Some(kind.name().as_str()));
            assert_eq!(EventKind::from_name(&kind.name()), Some(kind));
        }
        assert_eq!(EventKind::from_name("no_such_event"), None);
        assert_eq!(EventKind::ChatSent.name(), "chat_sent");
    }
}
