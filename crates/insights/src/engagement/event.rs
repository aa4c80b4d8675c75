//! The one mapping from the event log (the room's vocabulary) to what engagement counts.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::EngagementError;

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
    /// Reads one record of the event log: its `kind`, `actor`, `at_ms` and `payload` (the
    /// room's `Recorded`, `{"v", "at", "by", "client_id", "event": {"type", ...}}`).
    ///
    /// `Ok(None)` for kinds engagement does not count; `Err` when a counted kind lacks a field it
    /// needs (the caller skips it and counts it, see [`super::LiveEngagement::push_record`]).
    pub fn from_record(
        kind: &str,
        actor: Option<&str>,
        at_ms: i64,
        payload: &Value,
    ) -> Result<Option<EngagementEvent>, EngagementError> {
        let event = payload.get("event").unwrap_or(payload);
        let field = Fields { kind, event };
        let activity = match kind {
            "viewer_joined" => Activity::Joined {
                viewer: field.string("viewer")?,
                name: field.optional_string("name"),
                staff: is_staff(event.get("role")),
            },
            "viewer_left" => Activity::Left {
                viewer: field.string("viewer")?,
            },
            "chat_sent" => chat(&field, &["message"])?,
            "chat_held" => chat(&field, &["hold", "message"])?,
            "poll_opened" => Activity::PollOpened {
                poll: field.number("poll")?,
                question: field.optional_string("question"),
            },
            "poll_closed" => Activity::PollClosed {
                poll: field.number("poll")?,
            },
            "ballot_cast" => Activity::Ballot {
                poll: field.number("poll")?,
                viewer: field.nested_string(&["ballot", "viewer"])?,
            },
            "anonymous_poll_voters" => Activity::AnonymousVoters {
                poll: field.number("poll")?,
                viewers: (event.get("voters").and_then(Value::as_array))
                    .ok_or_else(|| field.missing("voters"))?
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(|| field.missing("voters"))?
                    .into_iter()
                    .filter(|v| v != ERASED_VIEWER)
                    .collect(),
            },
            "question_asked" => Activity::QuestionAsked {
                viewer: field.nested_string(&["question", "asker"])?,
            },
            "question_upvoted" => Activity::QuestionUpvoted {
                viewer: field.string("viewer")?,
            },
            "reactions_aggregated" => {
                let counts = event
                    .get("counts")
                    .and_then(Value::as_array)
                    .ok_or_else(|| field.missing("counts"))?;
                let mut count: u32 = 0;
                for pair in counts {
                    let n = pair
                        .get(1)
                        .and_then(Value::as_u64)
                        .ok_or_else(|| field.missing("counts"))?;
                    count = count.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
                }
                Activity::Reactions {
                    viewer: actor.map(str::to_owned),
                    count,
                }
            }
            "media_presence" => Activity::MediaPresence {
                viewer: field.string("viewer")?,
                watching: event
                    .get("watching")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| field.missing("watching"))?,
            },
            "tab_visibility" => Activity::TabVisibility {
                viewer: field.string("viewer")?,
                visible: event
                    .get("visible")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| field.missing("visible"))?,
            },
            "reactions_by" => {
                let pairs = event
                    .get("viewers")
                    .and_then(Value::as_array)
                    .ok_or_else(|| field.missing("viewers"))?;
                let mut viewers = Vec::with_capacity(pairs.len());
                for pair in pairs {
                    let viewer = pair.get(0).and_then(Value::as_str);
                    let n = pair.get(1).and_then(Value::as_u64);
                    let (Some(viewer), Some(n)) = (viewer, n) else {
                        return Err(field.missing("viewers"));
                    };
                    if viewer == ERASED_VIEWER {
                        continue;
                    }
                    viewers.push((viewer.to_owned(), u32::try_from(n).unwrap_or(u32::MAX)));
                }
                Activity::ReactionsBy { viewers }
            }
            "offer_pushed" => Activity::OfferPushed {
                offer: field.nested_string(&["offer", "spec", "id"])?,
            },
            "offer_exposed" => {
                let (viewer, offer, variant) = offer_response(&field)?;
                Activity::OfferExposed {
                    viewer,
                    offer,
                    variant,
                }
            }
            "offer_clicked" => {
                let (viewer, offer, variant) = offer_response(&field)?;
                Activity::OfferClicked {
                    viewer,
                    offer,
                    variant,
                }
            }
            "offer_dismissed" => {
                let (viewer, offer, variant) = offer_response(&field)?;
                Activity::OfferDismissed {
                    viewer,
                    offer,
                    variant,
                }
            }
            "broadcast_ended" => Activity::Ended,
            _ => return Ok(None),
        };
        // What an erased viewer left in other records counts for nobody.
        if activity.viewer() == Some(ERASED_VIEWER) {
            return Ok(None);
        }
        Ok(Some(EngagementEvent { at_ms, activity }))
    }
}

fn is_staff(role: Option<&Value>) -> bool {
    matches!(role.and_then(Value::as_str), Some("instructor" | "ta"))
}

fn chat(field: &Fields<'_>, path: &[&str]) -> Result<Activity, EngagementError> {
    let message = field
        .at(path)
        .ok_or_else(|| field.missing(&path.join(".")))?;
    let author = message
        .get("author")
        .and_then(Value::as_str)
        .ok_or_else(|| field.missing(&format!("{}.author", path.join("."))))?;
    Ok(Activity::Chat {
        viewer: author.to_owned(),
        staff: is_staff(message.get("role")),
    })
}

fn offer_response(field: &Fields<'_>) -> Result<(String, String, u8), EngagementError> {
    let variant = field.number("variant")?;
    Ok((
        field.string("viewer")?,
        field.string("offer")?,
        u8::try_from(variant).map_err(|_| field.missing("variant"))?,
    ))
}

struct Fields<'a> {
    kind: &'a str,
    event: &'a Value,
}

impl Fields<'_> {
    fn missing(&self, field: &str) -> EngagementError {
        EngagementError::MalformedEvent {
            kind: self.kind.chars().take(64).collect(),
            field: field.to_owned(),
        }
    }

    fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self.event, |v, key| v.get(key))
    }

    fn nested_string(&self, path: &[&str]) -> Result<String, EngagementError> {
        self.at(path)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| self.missing(&path.join(".")))
    }

    fn string(&self, key: &str) -> Result<String, EngagementError> {
        self.nested_string(&[key])
    }

    fn optional_string(&self, key: &str) -> String {
        self.event
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    fn number(&self, key: &str) -> Result<u64, EngagementError> {
        self.event
            .get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| self.missing(key))
    }
}
