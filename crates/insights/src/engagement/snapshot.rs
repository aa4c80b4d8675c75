//! What engagement shows: the snapshot of a class at a time, built from per-viewer and
//! per-minute totals (which the live state and the recomputation each produce their own way).

use serde::{Deserialize, Serialize};

use super::score::{Score, ScoreInput, score};

/// One minute, in ms.
pub const MINUTE_MS: i64 = 60_000;
/// Events later than this after the class's start are ignored (and counted as ignored).
pub const MAX_SESSION_MS: i64 = 48 * 60 * MINUTE_MS;
/// Chat quiet for this long while viewers are present raises [`Alert::ChatQuiet`].
pub const CHAT_QUIET_MS: i64 = 5 * MINUTE_MS;
/// A drop-off is a minute that loses at least this many viewers...
pub const DROP_MIN_VIEWERS: u32 = 3;
/// ... and at least this percentage of those present when it began.
pub const DROP_MIN_PCT: u32 = 10;
/// [`Alert::AudienceDropping`] compares now with the end of the minute this many minutes ago.
pub const DROPPING_WINDOW_MINUTES: u32 = 2;
/// ... and fires when the audience fell by at least this percentage (and [`DROP_MIN_VIEWERS`]).
pub const DROPPING_PCT: u32 = 20;
/// [`Alert::PollLowParticipation`]: an open poll this old ...
pub const POLL_ALERT_AFTER_MS: i64 = 60_000;
/// ... with ballots from fewer than this percentage of those present.
pub const POLL_LOW_PCT: u32 = 30;

/// Engagement of a class at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngagementSnapshot {
    /// The class's start (ms since the Unix epoch).
    pub session_start_ms: i64,
    /// The moment described: the asked `now`, never before the last event, or the end.
    pub now_ms: i64,
    /// The class has ended (`broadcast_ended`).
    pub ended: bool,
    /// Whole-class totals.
    pub totals: SessionTotals,
    /// Every viewer (staff left out), by id.
    pub viewers: Vec<ViewerEngagement>,
    /// Minute 0 (the first minute after the start) to the minute of `now_ms`.
    pub minutes: Vec<MinuteEngagement>,
    /// Minutes that lost many viewers.
    pub drop_offs: Vec<DropOff>,
    /// Polls in the order they opened.
    pub polls: Vec<PollEngagement>,
    /// What staff should look at now.
    pub alerts: Vec<Alert>,
    /// Events after the end, or more than 48 hours after the start, not counted.
    pub ignored_events: u64,
}

/// Whole-class totals (viewers only, never staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionTotals {
    /// Distinct viewers seen.
    pub viewers: u32,
    /// Present now.
    pub present: u32,
    /// Most present at once.
    pub peak_present: u32,
    /// Watch time of all viewers, in ms.
    pub watch_ms: i64,
    /// Chat messages.
    pub chat: u32,
    /// Reactions.
    pub reactions: u32,
    /// Questions asked.
    pub questions: u32,
    /// Upvotes.
    pub upvotes: u32,
    /// Polls opened.
    pub polls_opened: u32,
    /// Ballots cast.
    pub ballots: u32,
    /// Offers pushed.
    pub offers_pushed: u32,
    /// Offer cards seen.
    pub offer_exposures: u32,
    /// Offer cards clicked.
    pub offer_clicks: u32,
    /// Whether the log says whose reactions were whose (the room does not, today).
    pub reactions_attributed: bool,
    /// Median viewer score (0 without viewers).
    pub median_score: f64,
}

/// One viewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewerEngagement {
    /// Pseudonymous id.
    pub viewer: String,
    /// The last display name seen (viewer text: escape it).
    pub name: String,
    /// Present now.
    pub present: bool,
    /// Times they joined.
    pub joins: u32,
    /// Their first join, if any.
    pub first_join_ms: Option<i64>,
    /// Time present (overlapping connections merged; still open: counted to now).
    pub watch_ms: i64,
    /// Chat messages (held ones included).
    pub chat: u32,
    /// Reactions attributed to them.
    pub reactions: u32,
    /// Polls opened while they were present.
    pub polls_asked: u32,
    /// Ballots cast.
    pub polls_answered: u32,
    /// Questions asked.
    pub questions: u32,
    /// Upvotes given.
    pub upvotes: u32,
    /// Offer cards seen.
    pub offer_exposures: u32,
    /// Offer cards clicked.
    pub offer_clicks: u32,
    /// Offer cards dismissed.
    pub offer_dismissals: u32,
    /// The score and its breakdown.
    pub score: Score,
}

/// One minute of the class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinuteEngagement {
    /// 0 for the first minute after the start.
    pub minute: u32,
    /// Its start (ms since the Unix epoch).
    pub start_ms: i64,
    /// Distinct viewers present at some moment of it.
    pub viewers: u32,
    /// Present at its end (now, for the current minute).
    pub present_at_end: u32,
    /// Joins.
    pub joins: u32,
    /// Leaves.
    pub leaves: u32,
    /// Chat messages.
    pub chat: u32,
    /// Reactions.
    pub reactions: u32,
    /// Ballots cast.
    pub ballots: u32,
    /// Questions asked.
    pub questions: u32,
    /// Upvotes.
    pub upvotes: u32,
    /// Offer cards seen.
    pub offer_exposures: u32,
    /// Offer cards clicked.
    pub offer_clicks: u32,
    /// `present_at_end` as a percentage of the peak audience: the retention curve.
    pub retention_pct: f64,
}

/// A minute that lost at least [`DROP_MIN_VIEWERS`] and [`DROP_MIN_PCT`] % of its audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropOff {
    /// Which minute.
    pub minute: u32,
    /// Present when it began.
    pub present_before: u32,
    /// Present when it ended.
    pub present_after: u32,
}

/// One poll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollEngagement {
    /// The room's poll number.
    pub poll: u64,
    /// The question (staff text: escape it anyway).
    pub question: String,
    /// When it opened.
    pub opened_at_ms: i64,
    /// When it closed (`None` while open).
    pub closed_at_ms: Option<i64>,
    /// Ballots from viewers.
    pub ballots: u32,
    /// Viewers present when it opened.
    pub present_at_open: u32,
    /// `ballots / max(present_at_open, ballots)`, in percent.
    pub participation_pct: f64,
}

/// Something staff should look at now. Pure: a function of the totals and `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Alert {
    /// No chat for [`CHAT_QUIET_MS`] or more while viewers are present.
    ChatQuiet {
        /// Since the last message (or the start).
        quiet_ms: i64,
        /// Viewers present.
        present: u32,
    },
    /// The audience fell over the last [`DROPPING_WINDOW_MINUTES`] minutes.
    AudienceDropping {
        /// Present then.
        from: u32,
        /// Present now.
        to: u32,
    },
    /// An open poll is answered by few of those present.
    PollLowParticipation {
        /// Which.
        poll: u64,
        /// Ballots so far.
        ballots: u32,
        /// Viewers present.
        present: u32,
    },
}

impl Alert {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Alert::ChatQuiet { .. } => "chat_quiet",
            Alert::AudienceDropping { .. } => "audience_dropping",
            Alert::PollLowParticipation { .. } => "poll_low_participation",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Totals, as both the live state and the recomputation produce them

/// A viewer's counts at a moment (open intervals already closed at that moment).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ViewerTotals {
    pub id: String,
    pub name: String,
    pub staff: bool,
    pub present: bool,
    pub joins: u32,
    pub first_join_ms: Option<i64>,
    pub watch_ms: i64,
    pub chat: u32,
    pub reactions: u32,
    pub polls_asked: u32,
    pub ballots: u32,
    pub questions: u32,
    pub upvotes: u32,
    pub exposures: u32,
    pub clicks: u32,
    pub dismissals: u32,
}

/// A minute's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MinuteTotals {
    pub viewers: u32,
    pub present_at_end: u32,
    pub joins: u32,
    pub leaves: u32,
    pub chat: u32,
    pub reactions: u32,
    pub ballots: u32,
    pub questions: u32,
    pub upvotes: u32,
    pub exposures: u32,
    pub clicks: u32,
}

/// A poll's counts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PollTotals {
    pub poll: u64,
    pub question: String,
    pub opened_at_ms: i64,
    pub closed_at_ms: Option<i64>,
    pub ballots: u32,
    pub present_at_open: u32,
}

/// Everything a snapshot is built from.
pub(crate) struct Totals<'a> {
    pub start_ms: i64,
    pub now_ms: i64,
    pub ended: bool,
    pub ignored: u64,
    pub viewers: Vec<ViewerTotals>,
    /// Minutes 0 to the minute of `now_ms`.
    pub minutes: &'a [MinuteTotals],
    pub polls: &'a [PollTotals],
    pub open_poll: Option<usize>,
    pub present: u32,
    pub peak_present: u32,
    pub last_chat_ms: Option<i64>,
    pub offers_pushed: u32,
    pub reactions_attributed: bool,
}

/// The minute of a time at or after the start.
pub(crate) fn minute_of(start_ms: i64, t: i64) -> usize {
    usize::try_from(t.saturating_sub(start_ms).max(0) / MINUTE_MS).unwrap_or(0)
}

fn pct(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) * 100.0 / f64::from(whole)
    }
}

/// Whether going from `before` to `after` present is a drop-off.
fn is_drop(before: u32, after: u32, min_pct: u32) -> bool {
    let lost = before.saturating_sub(after);
    lost >= DROP_MIN_VIEWERS && u64::from(lost) * 100 >= u64::from(before) * u64::from(min_pct)
}

/// What the alerts read: a handful of numbers, so the live state computes them in O(1).
pub(crate) struct AlertInput {
    pub now_ms: i64,
    pub start_ms: i64,
    pub ended: bool,
    pub present: u32,
    pub last_chat_ms: Option<i64>,
    /// Present at the end of the minute [`DROPPING_WINDOW_MINUTES`] before now's.
    pub present_window_ago: Option<u32>,
    /// The open poll: number, opened at, ballots.
    pub open_poll: Option<(u64, i64, u32)>,
}

pub(crate) fn alerts(input: &AlertInput) -> Vec<Alert> {
    let mut out = Vec::new();
    if input.ended || input.present == 0 {
        return out;
    }
    let quiet_ms = input.now_ms - input.last_chat_ms.unwrap_or(input.start_ms);
    if quiet_ms >= CHAT_QUIET_MS {
        out.push(Alert::ChatQuiet {
            quiet_ms,
            present: input.present,
        });
    }
    if let Some(from) = input.present_window_ago
        && is_drop(from, input.present, DROPPING_PCT)
    {
        out.push(Alert::AudienceDropping {
            from,
            to: input.present,
        });
    }
    if let Some((poll, opened, ballots)) = input.open_poll
        && input.now_ms - opened >= POLL_ALERT_AFTER_MS
        && u64::from(ballots) * 100 < u64::from(input.present) * u64::from(POLL_LOW_PCT)
    {
        out.push(Alert::PollLowParticipation {
            poll,
            ballots,
            present: input.present,
        });
    }
    out
}

pub(crate) fn build(t: Totals<'_>) -> EngagementSnapshot {
    let elapsed_ms = t.now_ms - t.start_ms;
    let mut viewers: Vec<ViewerEngagement> = t
        .viewers
        .into_iter()
        .filter(|v| !v.staff)
        .map(|v| ViewerEngagement {
            score: score(&ScoreInput {
                watch_ms: v.watch_ms,
                elapsed_ms,
                polls_asked: v.polls_asked,
                polls_answered: v.ballots,
                chat: v.chat,
                qa: v.questions.saturating_add(v.upvotes),
                reactions: v.reactions,
                reactions_measured: t.reactions_attributed,
            }),
            viewer: v.id,
            name: v.name,
            present: v.present,
            joins: v.joins,
            first_join_ms: v.first_join_ms,
            watch_ms: v.watch_ms,
            chat: v.chat,
            reactions: v.reactions,
            polls_asked: v.polls_asked.max(v.ballots),
            polls_answered: v.ballots,
            questions: v.questions,
            upvotes: v.upvotes,
            offer_exposures: v.exposures,
            offer_clicks: v.clicks,
            offer_dismissals: v.dismissals,
        })
        .collect();
    viewers.sort_by(|a, b| a.viewer.cmp(&b.viewer));

    let mut minutes = Vec::with_capacity(t.minutes.len());
    let mut drop_offs = Vec::new();
    let mut before = 0;
    for (i, m) in t.minutes.iter().enumerate() {
        let minute = u32::try_from(i).unwrap_or(u32::MAX);
        if is_drop(before, m.present_at_end, DROP_MIN_PCT) {
            drop_offs.push(DropOff {
                minute,
                present_before: before,
                present_after: m.present_at_end,
            });
        }
        before = m.present_at_end;
        minutes.push(MinuteEngagement {
            minute,
            start_ms: t.start_ms.saturating_add(i64::from(minute) * MINUTE_MS),
            viewers: m.viewers,
            present_at_end: m.present_at_end,
            joins: m.joins,
            leaves: m.leaves,
            chat: m.chat,
            reactions: m.reactions,
            ballots: m.ballots,
            questions: m.questions,
            upvotes: m.upvotes,
            offer_exposures: m.exposures,
            offer_clicks: m.clicks,
            retention_pct: pct(m.present_at_end, t.peak_present),
        });
    }

    let polls: Vec<PollEngagement> = t
        .polls
        .iter()
        .map(|p| PollEngagement {
            poll: p.poll,
            question: p.question.clone(),
            opened_at_ms: p.opened_at_ms,
            closed_at_ms: p.closed_at_ms,
            ballots: p.ballots,
            present_at_open: p.present_at_open,
            participation_pct: pct(p.ballots, p.present_at_open.max(p.ballots)),
        })
        .collect();

    let now_minute = minute_of(t.start_ms, t.now_ms);
    let window = DROPPING_WINDOW_MINUTES as usize;
    let alerts = alerts(&AlertInput {
        now_ms: t.now_ms,
        start_ms: t.start_ms,
        ended: t.ended,
        present: t.present,
        last_chat_ms: t.last_chat_ms,
        present_window_ago: now_minute
            .checked_sub(window)
            .and_then(|m| t.minutes.get(m))
            .map(|m| m.present_at_end),
        open_poll: t
            .open_poll
            .and_then(|i| t.polls.get(i))
            .map(|p| (p.poll, p.opened_at_ms, p.ballots)),
    });

    let sum = |f: fn(&MinuteTotals) -> u32| {
        t.minutes
            .iter()
            .fold(0u32, |acc, m| acc.saturating_add(f(m)))
    };
    let mut scores: Vec<f64> = viewers.iter().map(|v| v.score.total).collect();
    scores.sort_by(f64::total_cmp);
    let median_score = match scores.len() {
        0 => 0.0,
        n if n % 2 == 1 => scores[n / 2],
        n => (scores[n / 2 - 1] + scores[n / 2]) / 2.0,
    };
    let totals = SessionTotals {
        viewers: u32::try_from(viewers.len()).unwrap_or(u32::MAX),
        present: t.present,
        peak_present: t.peak_present,
        watch_ms: viewers.iter().map(|v| v.watch_ms).sum(),
        chat: sum(|m| m.chat),
        reactions: sum(|m| m.reactions),
        questions: sum(|m| m.questions),
        upvotes: sum(|m| m.upvotes),
        polls_opened: u32::try_from(t.polls.len()).unwrap_or(u32::MAX),
        ballots: sum(|m| m.ballots),
        offers_pushed: t.offers_pushed,
        offer_exposures: sum(|m| m.exposures),
        offer_clicks: sum(|m| m.clicks),
        reactions_attributed: t.reactions_attributed,
        median_score,
    };
    EngagementSnapshot {
        session_start_ms: t.start_ms,
        now_ms: t.now_ms,
        ended: t.ended,
        totals,
        viewers,
        minutes,
        drop_offs,
        polls,
        alerts,
        ignored_events: t.ignored,
    }
}
