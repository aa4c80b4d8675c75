//! Identifiers, roles and the domain records the room keeps.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Milliseconds since the Unix epoch, supplied by the host with every input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// This time plus `ms` milliseconds (saturating).
    pub fn plus_ms(self, ms: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }
}

macro_rules! string_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }
    )*};
}

string_id! {
    /// A pseudonymous identity, assigned by the host (an HMAC of the browser's key or the
    /// staff member's account). The room never sees an email.
    ViewerId,
    /// An id chosen by the client for one message, so that a retry is answered but applied once.
    ClientId,
    /// An opaque browser fingerprint (a hash from the host), used only to flag repeat visitors.
    Fingerprint,
}

macro_rules! number_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
        #[serde(transparent)]
        pub struct $name(pub u64);
    )*};
}

number_id! {
    /// A chat message, numbered by the room from 1.
    MessageId,
    /// A poll, numbered by the room from 1.
    PollId,
    /// A question, numbered by the room from 1.
    QuestionId,
}

/// Who someone is in the room. The host decides it (the desktop app is the instructor; a valid
/// moderator link makes a TA); a client can never claim it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The owner: everything.
    Instructor,
    /// A teaching assistant: moderates, runs polls and Q&A; no offers, prices or ending.
    Ta,
    /// A student in a browser.
    Viewer,
}

impl Role {
    /// Instructor or TA.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Instructor | Role::Ta)
    }

    /// Whether this role may do `capability`, from [`PERMISSIONS`].
    pub fn may(self, capability: Capability) -> bool {
        PERMISSIONS
            .iter()
            .any(|(c, roles)| *c == capability && roles.contains(&self))
    }
}

/// Something a role may or may not do. Later features (offers, broadcast control) add variants
/// here and a row in [`PERMISSIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Send chat messages.
    Chat,
    /// Ask and upvote questions.
    Ask,
    /// Vote in polls.
    Vote,
    /// Send reactions.
    React,
    /// Delete, pin, clear, hold queue, slow mode, timeouts, bans, blocked terms.
    Moderate,
    /// Create, open, close and reveal polls.
    RunPolls,
    /// Approve, answer, dismiss and highlight questions.
    RunQa,
    /// Read and write the staff-only back channel.
    BackChannel,
    /// Push, schedule and withdraw offers (and with them, prices).
    ChangeOffers,
    /// Report what one's own offer card did: exposed, clicked, dismissed (staff have no card,
    /// so theirs are refused with `offer_not_live`).
    RespondToOffers,
    /// End the broadcast (and with it the room).
    EndBroadcast,
}

/// The permission table: each capability and the roles that have it.
pub const PERMISSIONS: &[(Capability, &[Role])] = &[
    (
        Capability::Chat,
        &[Role::Instructor, Role::Ta, Role::Viewer],
    ),
    (Capability::Ask, &[Role::Instructor, Role::Ta, Role::Viewer]),
    (
        Capability::Vote,
        &[Role::Instructor, Role::Ta, Role::Viewer],
    ),
    (
        Capability::React,
        &[Role::Instructor, Role::Ta, Role::Viewer],
    ),
    (Capability::Moderate, &[Role::Instructor, Role::Ta]),
    (Capability::RunPolls, &[Role::Instructor, Role::Ta]),
    (Capability::RunQa, &[Role::Instructor, Role::Ta]),
    (Capability::BackChannel, &[Role::Instructor, Role::Ta]),
    (Capability::ChangeOffers, &[Role::Instructor]),
    (
        Capability::RespondToOffers,
        &[Role::Instructor, Role::Ta, Role::Viewer],
    ),
    (Capability::EndBroadcast, &[Role::Instructor]),
];

/// A chat message as everyone sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChatMessage {
    /// Its number.
    pub id: MessageId,
    /// Who wrote it.
    pub author: ViewerId,
    /// The author's display name when it was sent.
    pub name: String,
    /// The author's role when it was sent (clients mark staff messages).
    pub role: Role,
    /// The cleaned text.
    pub text: String,
    /// When the room accepted it.
    pub sent_at: Timestamp,
    /// The message it answers, when its author replied to one (staff replying to a student's
    /// question: the answer assistant learns the pair).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reply_to: Option<MessageId>,
}

/// Why a message was held for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// Approved-only mode is on.
    ApprovedOnly,
    /// It contains a blocked term.
    BlockedTerm,
    /// It contains a link and the author is not staff.
    Link,
    /// The author is new and their first messages are reviewed.
    NewIdentity,
}

/// A message waiting for a moderator in the held-for-review queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Hold {
    /// The message as it will appear if approved.
    pub message: ChatMessage,
    /// Why it was held.
    pub reason: HoldReason,
}

/// How the chat runs: public, so that clients can show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub struct ChatMode {
    /// Seconds between two messages of one viewer (0 = off, at most 300).
    pub slow_mode_secs: u32,
    /// Every viewer message is held for review.
    pub approved_only: bool,
    /// The first this many published messages of each viewer identity are held (0 = off).
    pub hold_first_messages: u32,
}

/// Chat settings staff can change during the class.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub struct ChatSettings {
    /// The public part.
    pub mode: ChatMode,
    /// Messages containing one of these (compared by skeleton) are held. Staff only: a public
    /// list would tell trolls what to avoid.
    pub blocked_terms: Vec<String>,
}

/// A fixed, small set of reactions (bounded fan-out, nothing to moderate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    /// 👍
    ThumbsUp,
    /// ❤️
    Heart,
    /// 😂
    Laugh,
    /// 👏
    Clap,
    /// 😮
    Surprised,
    /// 🤔
    Confused,
}

/// One viewer's choices in one poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Ballot {
    /// Who voted.
    pub viewer: ViewerId,
    /// Option indexes, ascending, distinct.
    pub choices: Vec<u8>,
}

/// A poll's life: created, open, closed, revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PollState {
    /// Created, not yet open.
    Draft,
    /// Accepting ballots.
    Open,
    /// No more ballots; results for staff only.
    Closed,
    /// Results (and correct answers) shown to everyone.
    Revealed,
}

/// What staff ask for when creating a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PollSpec {
    /// The question, at most 200 graphemes.
    pub question: String,
    /// 2 to 10 options, each at most 100 graphemes.
    pub options: Vec<String>,
    /// Several options may be chosen.
    #[serde(default)]
    pub multiple: bool,
    /// Only totals are kept: no event links a viewer to a choice.
    #[serde(default)]
    pub anonymous: bool,
    /// Quiz mode: the correct option indexes (not with `anonymous`).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub correct: Option<Vec<u8>>,
    /// Closes by itself this many seconds after opening (1 to 3600).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub duration_secs: Option<u32>,
    /// The skill the question checks: a course tag of the catalog, 1 to 40 of `A-Z a-z 0-9 _ -`
    /// and space. Wrong answers to a tagged quiz make recommendations favour courses teaching it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
}

/// A poll as the room keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Poll {
    /// Its number.
    pub id: PollId,
    /// The cleaned specification.
    pub spec: PollSpec,
    /// Where it is in its life.
    pub state: PollState,
    /// When an open poll with a timer closes.
    pub deadline: Option<Timestamp>,
    /// Ballots per option.
    pub totals: Vec<u32>,
    /// Named ballots (empty for anonymous polls).
    pub ballots: Vec<Ballot>,
    /// Who voted (for one ballot per viewer, also in anonymous polls).
    pub voters: Vec<ViewerId>,
}

/// Where a question is in moderation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum QuestionState {
    /// Waiting for staff; seen by staff and the asker.
    Pending,
    /// Visible to everyone, open to upvotes.
    Approved,
    /// Answered (still visible).
    Answered,
    /// Removed from the board.
    Dismissed,
}

/// A question on the Q&A board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Question {
    /// Its number.
    pub id: QuestionId,
    /// Who asked.
    pub asker: ViewerId,
    /// Their display name.
    pub name: String,
    /// The cleaned text.
    pub text: String,
    /// Where it is in moderation.
    pub state: QuestionState,
    /// Upvotes (one per viewer).
    pub votes: u32,
    /// When it was asked.
    pub asked_at: Timestamp,
    /// Staff's written answer, once answered with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub answer: Option<String>,
    /// Set when the answer assistant answered it by itself (the instructor turned on "answer
    /// known questions automatically"): where the answer comes from and how sure it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub automatic: Option<AutomaticAnswer>,
}

/// What marks an answer the answer assistant sent by itself, shown beside it to everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AutomaticAnswer {
    /// Where the known answer comes from, in words ("the school's FAQ, line 12"; at most 300
    /// characters).
    pub source: String,
    /// How sure the assistant was that it answers the question, in percent (0 to 100).
    pub confidence: u8,
}

/// Something staff should look at; never acted on automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Flag {
    /// A new identity joined from a browser that a banned identity used.
    RepeatVisitor {
        /// The newcomer.
        viewer: ViewerId,
        /// The banned identity with the same fingerprint.
        banned: ViewerId,
    },
}

/// A message in the staff-only back channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BackChannelNote {
    /// Who wrote it.
    pub by: ViewerId,
    /// Their display name.
    pub name: String,
    /// The cleaned text.
    pub text: String,
    /// When.
    pub at: Timestamp,
}
