//! Engagement of live classes: who took part, how much and when, live during the class and as a
//! report after it. Pure: events and `now` come in, numbers go out; nothing here reads a clock.
//!
//! # Input
//! [`EngagementEvent`]s: [`Activity`]s at a time, in engagement's own words (joined, left, chat,
//! polls and ballots, an anonymous poll's voters when it closes, questions and upvotes,
//! reactions, video presence, tab visibility, offers, the end). The engine converts the room's
//! events to them with an exhaustive match (`lectern_engine::activities`), so this crate never
//! reads an event name; [`EngagementEvent::counted`] leaves erased viewers out. Staff
//! (instructor and TAs, known by the role of their first join or message) are left out of every
//! measure.
//!
//! Times: an event is counted at `max(at_ms, start, previous event's time)`, so minutes never go
//! back; events after `broadcast_ended` or more than 48 hours after the start are ignored (and
//! counted in `ignored_events`). Presence is a state per viewer: a join while present and a leave
//! while away change nothing; at `now` an open presence counts up to `now`; the end of the class
//! closes every presence without counting a leave (the end is not a drop-off).
//!
//! # The score (0 to 100 fixed points, always with its breakdown)
//! Five parts, each a fraction in [0, 1] times its points, against FIXED caps (never relative to
//! the room's best, so a class of five can score as high as a class of five hundred):
//!
//! | part | value | full marks at | points |
//! |---|---|---|---|
//! | attendance | watch time / elapsed class time | 1 | 30 |
//! | polls | ballots / polls opened while present (at least the ballots) | 1 | 25 |
//! | chat | messages / rate minutes | 0.2 per minute | 20 |
//! | Q&A | (questions + upvotes) / rate minutes | 0.1 per minute | 15 |
//! | reactions | reactions / rate minutes | 0.5 per minute | 10 |
//!
//! `fraction = min(value / cap, 1)`, `points = fraction x part's points`, and
//! `total = sum of points`, rounded to one decimal.
//!
//! **Rate minutes** = `max(minutes watched, half the class's elapsed minutes, 1)`. A rate over the
//! minutes watched alone rewards a drive-by: one message and one question in the one minute
//! someone stayed were full chat and Q&A marks (55 against 59 for a whole hour with five
//! messages). Spread over half the class, the same minute is worth 8.8 points in an hour-long
//! class, against 38.3 for the hour with five messages. Half, not the whole class: whoever
//! stays for at least half the class is rated on the time they were there, so a late arrival is
//! not charged twice for it (attendance already counts it) and the chat part still reads "how
//! much they wrote while present". Not a fixed 10 minutes: ten minutes would still give a
//! ten-minute visit with two messages and a question (40.0) more than the hour with five
//! messages. The floor follows the class so far, so it stays sensible live: three minutes into
//! a class, rates are over at least 1.5 minutes and one early message is a full chat part for
//! everyone who wrote one; as the class goes on the floor grows and a visit that ended long ago
//! weighs less. The last floor, one minute, only keeps the first seconds from dividing by zero.
//!
//! **Not measured** is a part the class gave no way to earn: polls when none was opened while
//! the viewer was present; reactions when the log does not say whose they were (logs written
//! before the room recorded `reactions_by`, the staff-only record of who reacted in each second
//! beside the public `reactions_aggregated`, or a class where no viewer reacted). Such a part is
//! shown as "not measured" and earns nothing; the other parts are NOT rescaled to fill its
//! points, so a score means the same in a class with a poll as in one without, and a class's
//! median compares with another's. Each score carries `measurable_points` (100 less the parts
//! not measured), which the report prints as "out of N measurable". The ten-point view shows
//! the same parts as BigBlueButton's dashboard does, 2 points each (`2 x fraction`), with their
//! sum out of 10, also not rescaled.
//!
//! # Per minute, retention, alerts
//! Minute `m` covers `[start + m min, start + (m+1) min)`. `viewers` is the distinct viewers
//! present at some moment of it; `present_at_end` those present when it ends; the retention curve
//! is `present_at_end / peak present`. A drop-off is a minute that loses at least 3 viewers and
//! 10 % of those present when it began. Alerts at `now`: chat quiet for 5 minutes while viewers
//! are present; the audience down 20 % (and 3 viewers) against 2 minutes before; an open poll,
//! a minute old, answered by under 30 % of those present.
//!
//! # Live and recomputed
//! [`LiveEngagement`] is fed events one at a time, O(1) amortised each; [`recompute`] computes
//! the same snapshot from the whole log in a different way (presence intervals, overlaps, a
//! sweep). They agree exactly; a property test checks it on random logs.
//!
//! ```
//! use lectern_insights::engagement::{Activity, EngagementEvent, LiveEngagement, recompute};
//!
//! let start = 1_700_000_000_000;
//! let (ann, staff) = ("v1".to_owned(), false);
//! let log = [
//!     (start, Activity::Joined { viewer: ann.clone(), name: "Ann".into(), staff }),
//!     (start + 30_000, Activity::Chat { viewer: ann.clone(), staff }),
//! ];
//! let mut live = LiveEngagement::new(start);
//! let mut events = vec![];
//! for (at, activity) in log {
//!     if let Some(e) = EngagementEvent::counted(at, activity) {
//!         live.push(&e);
//!         events.push(e);
//!     }
//! }
//! let now = start + 10 * 60_000;
//! let snapshot = live.snapshot(now);
//! assert_eq!(snapshot, recompute(start, &events, now));
//! assert_eq!(snapshot.viewers[0].watch_ms, 600_000);
//! // 10 of 10 minutes: 30 points; 1 message in 10 minutes = 0.1/min, half the cap: 10 points;
//! // no poll, reactions not attributed: not measured, 0 points. 40 points, of 65 measurable.
//! assert_eq!(snapshot.viewers[0].score.total, 40.0);
//! assert_eq!(snapshot.viewers[0].score.measurable_points, 65.0);
//! ```
//!
//! # Layout
//! - `event.rs`: what engagement counts ([`Activity`]), erased viewers left out.
//! - `live.rs`: the live aggregates.
//! - `recompute.rs`: the batch recomputation.
//! - `snapshot.rs`: the output types, drop-offs, retention, alerts.
//! - `score.rs`: the score.
//! - `trend.rs`: comparing a course's classes: the slope of their median scores with a t
//!   interval, "rising" or "falling" only when it leaves zero out (the noise model is there).
//! - `report.rs`: the class report (HTML and CSV; its charts are PNG images drawn by the caller,
//!   `lectern-charts`).
//!
//! Not yet:
//! - purchases: the room's vocabulary has no purchase event (sales are in the `purchases` table
//!   with a `ref_code`); joining them is the caller's;
//! - ts-rs bindings of the output types (the UI reads them as JSON, snake_case).

mod event;
mod live;
mod presence;
mod recompute;
mod report;
mod score;
mod snapshot;
mod trend;

pub use event::{Activity, ERASED_VIEWER, EngagementEvent};
pub use live::LiveEngagement;
pub use recompute::recompute;
pub use report::{
    ClassReport, MIN_GROUP, ReportCharts, ReportMeta, ReportReplay, class_report, csv_cell,
    png_data_url,
};
pub use score::{
    CHAT_CAP_PER_MIN, QA_CAP_PER_MIN, RATE_FLOOR_CLASS_SHARE, RATE_FLOOR_MINUTES,
    REACTIONS_CAP_PER_MIN, Score, ScoreInput, ScorePart, TenPoint, WEIGHTS, Weights, rate_minutes,
    score,
};
pub use snapshot::{
    Alert, CHAT_QUIET_MS, DropOff, EngagementSnapshot, MAX_SESSION_MS, MINUTE_MS, MinuteEngagement,
    PollEngagement, SessionTotals, ViewerEngagement,
};
pub use trend::{
    ClassSummary, CourseTrend, Direction, MIN_CLASSES_FOR_TREND, SessionPoint, TREND_CONFIDENCE,
    course_trend,
};
