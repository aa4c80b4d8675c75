//! The frames a room connection carries around the room's own types, whatever transport carries
//! them (a WebSocket at `/room`, or Tauri IPC in the desktop window): the client's [`Hello`],
//! the server's [`ServerFrame`]s, and the [`CloseCode`]s a connection ends with. See
//! `docs/protocol.md`, "The live room".

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ClientId, Recorded, Reply, Role, Snapshot, ViewerId};

/// The first frame of every connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// Always `hello`.
    #[serde(rename = "type")]
    pub kind: HelloKind,
    /// Must be [`crate::PROTOCOL_VERSION`].
    pub v: u32,
    /// The display name asked for ('' lets the room pick one).
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub name: String,
    /// The key this browser keeps, as the school issued it (`bk1-...`): the viewer's
    /// pseudonymous id is derived from it. A student without one (or with one this school did
    /// not sign) is issued a new key in the welcome; staff need none.
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub browser_key: String,
    /// The owner key (joins as the instructor) or a moderator link's token (joins as a TA).
    #[serde(default)]
    #[ts(optional)]
    pub key: Option<String>,
    /// The last sequence number this client applied, to receive what it missed...
    #[serde(default)]
    #[ts(optional)]
    pub last_seq: Option<i64>,
    /// ...in this session (a number from another class means nothing here).
    #[serde(default)]
    #[ts(optional)]
    pub session: Option<i64>,
    /// On a first join: an email for purchase attribution, applied as `link_email`...
    #[serde(default)]
    #[ts(optional)]
    pub email: Option<String>,
    /// ...only when the viewer ticked the consent box.
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub consent: bool,
    /// The personal join link the page was opened with (`/watch#learner=..&sig=..`): the
    /// host checks its signature and records the viewer as that learner.
    #[serde(default)]
    #[ts(optional)]
    pub learner_link: Option<LearnerLink>,
}

/// A learner's personal join link, as the viewer page read it from its address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct LearnerLink {
    /// The school's learner id.
    pub learner: String,
    /// The school's signature of it (hex).
    pub sig: String,
}

/// The one kind of first frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HelloKind {
    /// `"hello"`.
    #[default]
    Hello,
}

/// The joiner's welcome: who they are in this class and the room as of `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Welcome {
    /// Their pseudonymous id (`instructor`, `ta-<link>`, `v-<hmac>`).
    pub viewer: ViewerId,
    /// Their role.
    pub role: Role,
    /// The live session.
    pub session: i64,
    /// The snapshot holds every event up to this sequence number.
    pub seq: i64,
    /// The room as this participant may see it.
    pub snapshot: Box<Snapshot>,
    /// A browser key the school just issued to this student (their hello had none it
    /// signed): the page keeps it and sends it from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub browser_key: Option<String>,
}

/// Everything the server sends on a room connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The answer to a hello that joined.
    Welcome(Welcome),
    /// After a reconnect: every event the client missed up to the welcome's `seq` was sent.
    CaughtUp {
        /// The welcome's sequence number.
        seq: i64,
    },
    /// A committed event, numbered by the log in commit order.
    Event {
        /// Its number in the session.
        seq: i64,
        /// The event with its context.
        record: Box<Recorded>,
    },
    /// The client's action is committed: these events are durable.
    Ack {
        /// The action's client id, if it had one.
        client_id: Option<ClientId>,
        /// The numbers of the events it caused.
        seqs: Vec<i64>,
    },
    /// A direct answer (a refusal, "already applied").
    Reply {
        /// The answer.
        reply: Reply,
    },
    /// The connection ends (sent as a frame where the transport has no close code of its own,
    /// as in the desktop window; a WebSocket closes with `code` instead).
    Closed {
        /// Why, as a number ([`CloseCode`]).
        code: u16,
        /// Why, for people.
        reason: String,
    },
}

/// Why a room connection ended. The numbers are WebSocket close codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CloseCode {
    /// The room could not go on with this connection (1011); reconnecting may help.
    Unavailable,
    /// The first frame was not a valid hello (4400); do not retry.
    BadHello,
    /// The key was not valid, or a TA's link was revoked (4401); do not retry.
    Unauthorized,
    /// The room refused the join (a reply said why) (4403); do not retry.
    Refused,
    /// No class is live (4404).
    NotLive,
    /// The client fell behind the class (4408): reconnect with the last number seen.
    FellBehind,
    /// The class ended (4410).
    Ended,
    /// What the client missed could not be read from the log (4500): nothing was skipped over;
    /// reconnect to try again.
    CatchUpFailed,
}

impl CloseCode {
    /// Every code, for the generated bindings.
    pub const ALL: [CloseCode; 8] = [
        CloseCode::Unavailable,
        CloseCode::BadHello,
        CloseCode::Unauthorized,
        CloseCode::Refused,
        CloseCode::NotLive,
        CloseCode::FellBehind,
        CloseCode::Ended,
        CloseCode::CatchUpFailed,
    ];

    /// The WebSocket close code.
    pub fn number(self) -> u16 {
        match self {
            CloseCode::Unavailable => 1011,
            CloseCode::BadHello => 4400,
            CloseCode::Unauthorized => 4401,
            CloseCode::Refused => 4403,
            CloseCode::NotLive => 4404,
            CloseCode::FellBehind => 4408,
            CloseCode::Ended => 4410,
            CloseCode::CatchUpFailed => 4500,
        }
    }

    /// The snake_case name, as in the bindings.
    pub fn name(self) -> &'static str {
        match self {
            CloseCode::Unavailable => "unavailable",
            CloseCode::BadHello => "bad_hello",
            CloseCode::Unauthorized => "unauthorized",
            CloseCode::Refused => "refused",
            CloseCode::NotLive => "not_live",
            CloseCode::FellBehind => "fell_behind",
            CloseCode::Ended => "ended",
            CloseCode::CatchUpFailed => "catch_up_failed",
        }
    }
}

/// A connection's end: the code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// Why.
    pub code: CloseCode,
    /// For people.
    pub reason: String,
}

impl Close {
    /// A close with its reason.
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Close {
        Close {
            code,
            reason: reason.into(),
        }
    }

    /// The frame that carries it where the transport has no close of its own.
    pub fn frame(&self) -> ServerFrame {
        ServerFrame::Closed {
            code: self.code.number(),
            reason: self.reason.clone(),
        }
    }
}

/// `export const CLOSE_CODES = {...}`: the close codes by name, for the TypeScript bindings.
pub(crate) fn close_codes_typescript() -> String {
    let mut out = String::from("export const CLOSE_CODES = {\n");
    for code in CloseCode::ALL {
        out.push_str(&format!("  {}: {},\n", code.name(), code.number()));
    }
    out.push_str("} as const;\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_parses_with_only_its_required_fields_and_refuses_unknown_ones() {
        let hello: Hello =
            serde_json::from_str(r#"{"type":"hello","v":1,"browser_key":"k"}"#).unwrap();
        assert_eq!(hello.v, 1);
        assert_eq!(hello.name, "");
        assert!(!hello.consent);
        assert!(
            serde_json::from_str::<Hello>(r#"{"type":"hello","v":1,"browser_key":"k","x":1}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<Hello>(r#"{"type":"hi","v":1,"browser_key":"k"}"#).is_err());
        assert!(serde_json::from_str::<Hello>(r#"{"v":1,"browser_key":"k"}"#).is_err());
    }

    #[test]
    fn close_codes_are_distinct_and_named_as_serde_names_them() {
        let mut numbers: Vec<u16> = CloseCode::ALL.iter().map(|c| c.number()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), CloseCode::ALL.len());
        for code in CloseCode::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.name())
            );
        }
    }
}
