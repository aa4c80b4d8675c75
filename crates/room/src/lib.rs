//! `lectern-room`: the live room's pure core. Chat with moderation, polls and quizzes, Q&A,
//! reactions, and course offers with A/B variants, decided without IO.
//!
//! **For:** deciding what every input does: who may do it, whether it passes the limits, and
//! which events follow. **Not for:** sockets, the clock, persistence, tokens or fan-out. The
//! engine owns those: it authenticates a connection, decides its [`Role`], turns frames into
//! [`Input`]s (see [`parse_client_frame`]), calls [`Room::handle`] with the current time,
//! persists each [`Output::Event`] in order, acknowledges after commit, and fans the event out to
//! its [`Event::audience`].
//!
//! # Design
//! - `handle(input, now) -> Vec<Output>`. An [`Output`] is either an event to persist and
//!   broadcast, or a [`Reply`] to one participant that is never persisted (the join snapshot, a
//!   typed rejection, "already applied" for a retried client id). Keeping them apart means the
//!   log holds only facts, and a refusal can never be replayed into state.
//! - Every state change goes through [`Room::apply`], which `handle` calls for each event it
//!   emits; [`Room::replay`] calls the same function, so a studio that restarts from its event log
//!   gets the same [`RoomState`] (rate limits, slow mode, client-id memory and quiz scores
//!   included). Only reactions of the current second live outside the log until their aggregate
//!   is emitted, and the voters of open anonymous polls ([`Output::Voter`]).
//! - Anonymous polls: a ballot's record names nobody (no author, no client id, only the totals);
//!   who voted is an [`Output::Voter`] the host keeps apart from the log (never sent) and hands
//!   back after a restart ([`Room::restore_voter`]); when the poll closes its voters are logged
//!   as one sorted set ([`Event::AnonymousPollVoters`]) for engagement.
//! - Time is a parameter. Timers (poll deadlines, the reactions second) fire when the host calls
//!   `handle` with a `now` past [`Room::next_deadline`]; `Input::Tick` exists for that.
//! - A moderation event's record carries `by`: together they are the audit log
//!   ([`Room::audit_log`]). There is no second "audit" event that could disagree with the fact.
//! - Offers ([`offers`]): the instructor pushes, schedules or withdraws an [`OfferSpec`] with 1-4
//!   weighted variants. The full offer goes to staff (`offer_pushed`, audience Staff); each
//!   viewer gets only their own variant's [`OfferCard`] in an `offer_shown` event addressed to
//!   them (`StaffAnd(viewer)`), and in their welcome snapshot. A viewer's variant is
//!   [`assign_variant`]`(experiment, viewer id, weights)`: sticky on every device and reconnect of
//!   one identity. Timing variants (every variant has a `minute`) are assigned once per session
//!   (`session:<key>`, from [`Room::set_class`]). Exposures, clicks and dismissals are counted
//!   once per viewer and offer, with per-variant counts for staff.
//! - The protocol, limits and error codes are in `crates/room/PROTOCOL-DRAFT.md`; the offers
//!   section is also in `docs/protocol.md`.
//!
//! # Layout
//! - `protocol.rs`: [`Input`], [`Action`], [`Event`] with its [`Audience`], [`Recorded`],
//!   [`Output`], [`Reply`], [`Snapshot`], and the client frame parser.
//! - `model.rs`: ids, [`Timestamp`], [`Role`] and the permission table, domain records
//!   ([`ChatMessage`], [`Hold`], [`Poll`], [`Ballot`], [`Question`], [`Reaction`]).
//! - `offers.rs`: [`Offer`], [`OfferSpec`], [`VariantSpec`], [`OfferCard`], [`assign_variant`],
//!   checkout-link checks and the `ref` code, [`offers::offer_limits`].
//! - `room.rs`: [`Room`]: validation in `handle`, state changes in `apply`; [`limits`].
//! - `text.rs`: cleaning and measuring what people type; confusable names; links.
//! - `error.rs`: [`RoomError`] and its stable codes.
//! - `wire.rs`: what a connection carries around these types, whatever the transport:
//!   [`Hello`], [`ServerFrame`], [`CloseCode`].
//!
//! # Example
//! ```
//! use lectern_room::{Action, Event, Input, Output, Role, Room, Timestamp, ViewerId};
//!
//! let mut room = Room::new();
//! let ada = ViewerId::from("v-ada");
//! room.handle(
//!     Input::Join { viewer: ada.clone(), role: Role::Viewer, name: "Ada".into(), fingerprint: None },
//!     Timestamp(1_000),
//! );
//! let out = room.handle(
//!     Input::Act {
//!         viewer: ada,
//!         client_id: Some("c1".into()),
//!         action: Action::SendChat { text: "hello".into(), reply_to: None },
//!     },
//!     Timestamp(2_000),
//! );
//! assert!(matches!(
//!     &out[..],
//!     [Output::Event { record }] if matches!(&record.event, Event::ChatSent { message } if message.text == "hello")
//! ));
//! ```
//!
//! Not yet:
//! - names are checked for confusables against joined staff names and reserved words only: not
//!   against other viewers, and not retroactively when a staff member joins after a viewer took a
//!   look-alike name;
//! - staff cannot dismiss a flag yet (flags are bounded to the last 200);
//! - questions have no rate limit besides five pending per viewer;
//! - sequence numbers, resume tokens, the email-with-consent at join, and the socket-level
//!   hostile corpus (frames, floods, slow readers) belong to the engine and server, not here;
//! - offers: the host must call [`Room::set_class`] (session key and start time) after
//!   `Room::new`/`Room::replay`; until the engine does, timing experiments are refused with
//!   `invalid` and `minute`s count from the room's first event;
//! - offers: a push emits one `offer_shown` per online viewer (exact assignment counts, works with
//!   the existing audiences), so a class of thousands writes thousands of small rows at once and
//!   can outrun the engine's fan-out buffer; a per-viewer projection of one `offer_pushed` in
//!   the server would avoid that;
//! - offers: one live offer at a time (a new one replaces it); no editing a scheduled offer
//!   (withdraw it and schedule another id); an offer id cannot be reused in a class;
//! - offers: the checkout link is checked for shape (https, DNS host, no user info), not
//!   against a list of the school's shop domains.

#![deny(missing_docs)]

mod error;
mod model;
pub mod offers;
mod protocol;
mod room;
pub mod text;
mod wire;

pub use error::RoomError;
pub use model::{
    AutomaticAnswer, BackChannelNote, Ballot, Capability, ChatMessage, ChatMode, ChatSettings,
    ClientId, Fingerprint, Flag, Hold, HoldReason, MessageId, PERMISSIONS, Poll, PollId, PollSpec,
    PollState, Question, QuestionId, QuestionState, Reaction, Role, Timestamp, ViewerId,
};
pub use offers::{
    DecisionMetric, Offer, OfferCard, OfferId, OfferSpec, OfferState, Reference, VariantCounts,
    VariantSpec, Weight, assign_variant, checkout_link, encode_component, parse_reference,
    replay_card,
};
pub use protocol::{
    Action, Audience, ClientFrame, Event, EventKind, Input, MAX_FRAME_BYTES, OfferTally, Output,
    PROTOCOL_VERSION, PollView, Recorded, Reply, Snapshot, YourState, parse_client_frame,
};
pub use room::{
    AuditEntry, MAX_EMAIL_CHARS, RESERVED_NAMES, Room, RoomState, capability, email_hash,
    keyed_email_hash, limits,
};
pub use wire::{Close, CloseCode, Hello, HelloKind, LearnerLink, ServerFrame, Welcome};

/// The TypeScript bindings of the room's wire types, as committed in
/// `ui/src/lib/bindings/room.ts` (`cargo xtask codegen` writes them; a test checks them).
pub fn typescript_bindings() -> String {
    use ts_rs::TS;
    let cfg = ts_rs::Config::new().with_large_int("number");
    let decls = [
        ViewerId::decl(&cfg),
        ClientId::decl(&cfg),
        Fingerprint::decl(&cfg),
        MessageId::decl(&cfg),
        PollId::decl(&cfg),
        QuestionId::decl(&cfg),
        Timestamp::decl(&cfg),
        Role::decl(&cfg),
        Capability::decl(&cfg),
        ChatMessage::decl(&cfg),
        HoldReason::decl(&cfg),
        Hold::decl(&cfg),
        ChatMode::decl(&cfg),
        ChatSettings::decl(&cfg),
        Reaction::decl(&cfg),
        Ballot::decl(&cfg),
        PollState::decl(&cfg),
        PollSpec::decl(&cfg),
        Poll::decl(&cfg),
        QuestionState::decl(&cfg),
        AutomaticAnswer::decl(&cfg),
        Question::decl(&cfg),
        Flag::decl(&cfg),
        BackChannelNote::decl(&cfg),
        RoomError::decl(&cfg),
        OfferId::decl(&cfg),
        VariantSpec::decl(&cfg),
        DecisionMetric::decl(&cfg),
        OfferSpec::decl(&cfg),
        OfferState::decl(&cfg),
        VariantCounts::decl(&cfg),
        Offer::decl(&cfg),
        OfferCard::decl(&cfg),
        Action::decl(&cfg),
        OfferTally::decl(&cfg),
        Event::decl(&cfg),
        Audience::decl(&cfg),
        Recorded::decl(&cfg),
        Reply::decl(&cfg),
        PollView::decl(&cfg),
        YourState::decl(&cfg),
        Snapshot::decl(&cfg),
        ClientFrame::decl(&cfg),
        HelloKind::decl(&cfg),
        Hello::decl(&cfg),
        LearnerLink::decl(&cfg),
        Welcome::decl(&cfg),
        ServerFrame::decl(&cfg),
        CloseCode::decl(&cfg),
    ];
    let mut out = String::from(
        "// This file is generated by `cargo xtask codegen` from the room's Rust types. Do not edit.\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push('\n');
    }
    out.push_str(&wire::close_codes_typescript());
    out
}
