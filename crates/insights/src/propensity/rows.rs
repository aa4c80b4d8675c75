//! Rows: one learner in one class, with the features counted before the cut and the label
//! read after it.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::engagement::ERASED_VIEWER;

/// The features of a row, in order.
///
/// Reactions are not among them: the log rows passed in carry no payload, and the room names
/// who reacted only inside the payload of `reactions_by` (its `reactions_aggregated` has no
/// actor), so the count would be zero for everyone.
pub const FEATURES: [&str; 9] = [
    "watch_minutes",
    "chat_messages",
    "poll_answers",
    "offer_exposures",
    "offer_clicks",
    "past_purchases",
    "days_since_last_purchase",
    "past_spend",
    "sessions_before",
];
pub(crate) const N: usize = FEATURES.len();
/// Days since the last purchase for a learner who never bought (and the cap for others).
const NEVER_BOUGHT_DAYS: f64 = 365.0;
const DAY_MS: f64 = 86_400_000.0;

/// One event of a session's log, as the store's activity lines give it (no payload).
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    /// The session.
    pub session_id: i64,
    /// What it adds to the learner's tally; `None`: an event by them that adds nothing (it
    /// still makes them an attendee). The engine classifies the room's events
    /// (`lectern_engine::activities::participation`); nothing here reads an event name.
    pub counted: Option<Participation>,
    /// The learner the record is by, if any (staff should be left out by the caller).
    pub actor: Option<String>,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// A live session's time span and the course it teaches.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSpan {
    /// Session id.
    pub id: i64,
    /// Start (Unix ms).
    pub started_at_ms: i64,
    /// End (Unix ms), if it ended.
    pub ended_at_ms: Option<i64>,
    /// The catalog course the class is about, if it names one: learners who own it by the cut
    /// get no row.
    pub course_id: Option<String>,
}

/// One purchase.
#[derive(Debug, Clone, PartialEq)]
pub struct Sale {
    /// The learner.
    pub learner: String,
    /// The course bought.
    pub course_id: String,
    /// When (Unix ms).
    pub at_ms: i64,
    /// Amount paid, in cents.
    pub amount_cents: i64,
}

/// Where a class is cut: features are counted before it, the label window starts at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    /// At the end of each class (its `ended_at_ms`, or its last event while it has none): for
    /// scoring a class that is over.
    SessionEnd,
    /// This many milliseconds after each class's start (or its end, if it was shorter): for
    /// scoring a class still running, `now - started_at_ms`, so the classes learned from are
    /// cut at the same point of the hour as the one scored.
    Elapsed(i64),
}

impl Cut {
    /// The instant of `session`'s cut; `last_event_ms` stands in for the end of a session that
    /// has none.
    fn at(self, session: &SessionSpan, last_event_ms: i64) -> i64 {
        let end = session.ended_at_ms.unwrap_or(last_event_ms);
        match self {
            Cut::SessionEnd => end,
            Cut::Elapsed(ms) => {
                let at = session.started_at_ms.saturating_add(ms.max(0));
                match session.ended_at_ms {
                    Some(end) => at.min(end),
                    None => at,
                }
            }
        }
    }
}

/// One learner in one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttendeeRow {
    /// The session.
    pub session_id: i64,
    /// Its start (Unix ms): rows are split in time by it.
    pub session_started_at_ms: i64,
    /// The cut (Unix ms): features count what happened before it; the label window starts at
    /// it.
    pub cut_at_ms: i64,
    /// The learner.
    pub learner: String,
    /// The values of [`FEATURES`].
    pub features: [f64; N],
    /// Bought a course they did not own within the window from the cut; `None` while the
    /// window is still open.
    pub bought: Option<bool>,
}

/// Every class's rows, with how they were made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttendeeRows {
    /// Where each class was cut.
    pub cut: Cut,
    /// The label window's length (ms).
    pub window_ms: i64,
    /// Sales are complete up to here (Unix ms): a window ending later is still open.
    pub data_end_ms: i64,
    /// The rows, class by class in order of start, learners in order of first appearance.
    pub rows: Vec<AttendeeRow>,
    /// Learners left out of a class because they owned its course by the cut.
    pub owners_left_out: usize,
}

impl AttendeeRows {
    /// The rows of one class.
    pub fn of_session(&self, session_id: i64) -> impl Iterator<Item = &AttendeeRow> {
        self.rows.iter().filter(move |r| r.session_id == session_id)
    }

    /// Rows whose label is known, and the buyers among them.
    pub fn labelled(&self) -> (usize, usize) {
        let labelled = self.rows.iter().filter(|r| r.bought.is_some()).count();
        let buyers = self.rows.iter().filter(|r| r.bought == Some(true)).count();
        (labelled, buyers)
    }
}

/// What a log event adds to a learner's tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Participation {
    /// They joined (or came back): watching starts.
    Joined,
    /// Their last connection closed: watching stops.
    Left,
    /// A chat message (held ones too).
    Chat,
    /// A ballot in a poll that names them (anonymous ballots name nobody).
    Ballot,
    /// An offer's card was visible to them.
    Exposure,
    /// They clicked an offer.
    Click,
}

/// One learner's activity in one class before the cut.
#[derive(Default)]
struct Tally {
    open: Option<i64>,
    watched_ms: i64,
    chat: f64,
    ballots: f64,
    exposures: f64,
    clicks: f64,
}

impl Tally {
    fn add(&mut self, what: Participation, at_ms: i64) {
        match what {
            // A second join without a leave (a reconnect) keeps the first.
            Participation::Joined => {
                self.open.get_or_insert(at_ms);
            }
            Participation::Left => {
                if let Some(from) = self.open.take() {
                    self.watched_ms += (at_ms - from).max(0);
                }
            }
            Participation::Chat => self.chat += 1.0,
            Participation::Ballot => self.ballots += 1.0,
            Participation::Exposure => self.exposures += 1.0,
            Participation::Click => self.clicks += 1.0,
        }
    }
}

/// A learner's purchases, oldest first, each marked when it is their first of that course.
#[derive(Default)]
struct History<'a> {
    sales: Vec<(&'a Sale, bool)>,
}

impl<'a> History<'a> {
    fn new(mut sales: Vec<&'a Sale>) -> History<'a> {
        sales.sort_by_key(|s| s.at_ms);
        let mut seen: HashSet<&str> = HashSet::new();
        History {
            sales: sales
                .into_iter()
                .map(|s| (s, seen.insert(s.course_id.as_str())))
                .collect(),
        }
    }

    /// The purchases before `cut`.
    fn before(&self, cut: i64) -> &[(&'a Sale, bool)] {
        &self.sales[..self.sales.partition_point(|(s, _)| s.at_ms < cut)]
    }

    /// Purchases before `cut`: how many, days since the last (from the cut), spend in units.
    fn past(&self, cut: i64) -> (f64, f64, f64) {
        let past = self.before(cut);
        let days = past.last().map_or(NEVER_BOUGHT_DAYS, |(s, _)| {
            ((cut - s.at_ms) as f64 / DAY_MS).min(NEVER_BOUGHT_DAYS)
        });
        let spend: i64 = past.iter().map(|(s, _)| s.amount_cents).sum();
        (past.len() as f64, days, spend as f64 / 100.0)
    }

    /// Owned `course` before `cut`.
    fn owned(&self, course: &str, cut: i64) -> bool {
        self.before(cut).iter().any(|(s, _)| s.course_id == course)
    }

    /// Bought a course not bought before, in `[from, to)`.
    fn bought_new(&self, from: i64, to: i64) -> bool {
        self.sales
            .iter()
            .any(|&(s, first)| first && (from..to).contains(&s.at_ms))
    }
}

/// Builds the rows of every class from its log and the school's sales.
///
/// Each class is cut at `cut`; a learner has a row when they appear in the class's log before
/// the cut and did not own the class's course by then. The label is a purchase of a course the
/// learner did not own, made in `[cut, cut + window_ms)`; it is `None` when that window ends
/// after `data_end_ms`.
pub fn attendee_rows(
    sessions: &[SessionSpan],
    events: &[LogEvent],
    sales: &[Sale],
    cut: Cut,
    window_ms: i64,
    data_end_ms: i64,
) -> AttendeeRows {
    let mut by_session: HashMap<i64, Vec<&LogEvent>> = HashMap::new();
    for e in events {
        // What an erased viewer left behind counts for nobody.
        if e.actor.as_deref() != Some(ERASED_VIEWER) {
            by_session.entry(e.session_id).or_default().push(e);
        }
    }
    let mut by_learner: HashMap<&str, Vec<&Sale>> = HashMap::new();
    for s in sales {
        by_learner.entry(s.learner.as_str()).or_default().push(s);
    }
    let histories: HashMap<&str, History<'_>> = by_learner
        .into_iter()
        .map(|(learner, list)| (learner, History::new(list)))
        .collect();
    let none = History::default();
    let mut ordered: Vec<&SessionSpan> = sessions.iter().collect();
    ordered.sort_by_key(|s| (s.started_at_ms, s.id));
    let mut attended: HashMap<&str, u32> = HashMap::new();
    let mut out = AttendeeRows {
        cut,
        window_ms,
        data_end_ms,
        rows: vec![],
        owners_left_out: 0,
    };
    for session in ordered {
        let Some(log) = by_session.get_mut(&session.id) else {
            continue;
        };
        log.sort_by_key(|e| e.at_ms);
        let last = log.last().map_or(session.started_at_ms, |e| e.at_ms);
        let cut_at = cut.at(session, last);
        let mut tallies: HashMap<&str, Tally> = HashMap::new();
        let mut order: Vec<&str> = vec![];
        for e in log.iter().take_while(|e| e.at_ms < cut_at) {
            let Some(actor) = e.actor.as_deref() else {
                continue;
            };
            let tally = tallies.entry(actor).or_insert_with(|| {
                order.push(actor);
                Tally::default()
            });
            if let Some(what) = e.counted {
                tally.add(what, e.at_ms);
            }
        }
        let window_end = cut_at.saturating_add(window_ms);
        for actor in order {
            let Some(t) = tallies.get_mut(actor) else {
                continue;
            };
            if let Some(from) = t.open.take() {
                t.watched_ms += (cut_at - from).max(0);
            }
            let history = histories.get(actor).unwrap_or(&none);
            let before = f64::from(attended.get(actor).copied().unwrap_or(0));
            if let Some(course) = &session.course_id
                && history.owned(course, cut_at)
            {
                out.owners_left_out += 1;
                continue;
            }
            let (past, days, spend) = history.past(cut_at);
            out.rows.push(AttendeeRow {
                session_id: session.id,
                session_started_at_ms: session.started_at_ms,
                cut_at_ms: cut_at,
                learner: actor.to_owned(),
                features: [
                    t.watched_ms as f64 / 60_000.0,
                    t.chat,
                    t.ballots,
                    t.exposures,
                    t.clicks,
                    past,
                    days,
                    spend,
                    before,
                ],
                bought: (window_end <= data_end_ms).then(|| history.bought_new(cut_at, window_end)),
            });
        }
        // Everyone in the class attended it, whenever they came: later classes count it.
        let present: HashSet<&str> = log.iter().filter_map(|e| e.actor.as_deref()).collect();
        for actor in present {
            *attended.entry(actor).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_shorter_than_the_elapsed_cut_is_cut_at_its_end() {
        let s = SessionSpan {
            id: 1,
            started_at_ms: 1_000,
            ended_at_ms: Some(5_000),
            course_id: None,
        };
        assert_eq!(Cut::Elapsed(2_000).at(&s, 4_000), 3_000);
        assert_eq!(Cut::Elapsed(9_000).at(&s, 4_000), 5_000);
        assert_eq!(Cut::SessionEnd.at(&s, 4_000), 5_000);
        let running = SessionSpan {
            ended_at_ms: None,
            ..s
        };
        assert_eq!(Cut::Elapsed(9_000).at(&running, 4_000), 10_000);
        assert_eq!(Cut::SessionEnd.at(&running, 4_000), 4_000);
    }
}
