//! The engagement score: five parts with fixed caps and fixed points, always shown with its
//! breakdown (the rules and why are in the module doc of `engagement`).

use serde::{Deserialize, Serialize};

/// Points of each part when every part is measured (they add up to 100).
pub const WEIGHTS: Weights = Weights {
    attendance: 30.0,
    polls: 25.0,
    chat: 20.0,
    qa: 15.0,
    reactions: 10.0,
};
// The total is the parts' points added up, so they must add up to 100.
const _: () = assert!(
    WEIGHTS.attendance + WEIGHTS.polls + WEIGHTS.chat + WEIGHTS.qa + WEIGHTS.reactions == 100.0
);

/// Chat messages per minute watched that earn full chat points (one every 5 minutes).
pub const CHAT_CAP_PER_MIN: f64 = 0.2;
/// Questions plus upvotes per minute watched that earn full Q&A points (one every 10 minutes).
pub const QA_CAP_PER_MIN: f64 = 0.1;
/// Reactions per minute watched that earn full reaction points (one every 2 minutes).
pub const REACTIONS_CAP_PER_MIN: f64 = 0.5;
/// Per-minute rates are counted over at least this share of the class's elapsed time, however
/// briefly the viewer stayed: a drive-by's message is spread over half the class, not over the
/// minute they were there.
pub const RATE_FLOOR_CLASS_SHARE: f64 = 0.5;
/// ... and over at least this many minutes (the first seconds of a class divide by something).
pub const RATE_FLOOR_MINUTES: f64 = 1.0;

/// The points each part is worth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// Watch time over the class's elapsed time.
    pub attendance: f64,
    /// Polls answered over polls asked while present.
    pub polls: f64,
    /// Chat messages per minute watched.
    pub chat: f64,
    /// Questions and upvotes per minute watched.
    pub qa: f64,
    /// Reactions per minute watched.
    pub reactions: f64,
}

/// One viewer's score with its breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// 0 to 100, to one decimal: the points of the five parts added up. A part not measured
    /// earns nothing and the others are not rescaled, so the same points mean the same in every
    /// class.
    pub total: f64,
    /// The points this viewer could earn in this class: 100 less the points of the parts not
    /// measured (the report says "out of 65 measurable").
    pub measurable_points: f64,
    /// The minutes the chat, Q&A and reaction rates are counted over: minutes watched, but at
    /// least [`RATE_FLOOR_CLASS_SHARE`] of the class so far and [`RATE_FLOOR_MINUTES`].
    pub rate_minutes: f64,
    /// Watch time over elapsed time.
    pub attendance: ScorePart,
    /// Polls answered over polls asked while present.
    pub polls: ScorePart,
    /// Chat rate against [`CHAT_CAP_PER_MIN`].
    pub chat: ScorePart,
    /// Questions and upvotes rate against [`QA_CAP_PER_MIN`].
    pub qa: ScorePart,
    /// Reactions rate against [`REACTIONS_CAP_PER_MIN`].
    pub reactions: ScorePart,
    /// The same five parts as BigBlueButton's dashboard shows them: 0 to 2 points each.
    pub ten_point: TenPoint,
}

/// One part of a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScorePart {
    /// False when the class gave no way to earn it (no poll asked while present; reactions the
    /// log does not attribute): shown as "not measured", it earns 0 points, and the other parts
    /// are not rescaled.
    pub measured: bool,
    /// The ratio, or the rate per minute of [`Score::rate_minutes`].
    pub value: f64,
    /// The value that earns full points (1 for ratios).
    pub cap: f64,
    /// `min(value / cap, 1)`.
    pub fraction: f64,
    /// `fraction x max_points`.
    pub points: f64,
    /// The part's weight.
    pub max_points: f64,
}

/// Five parts x 2 points (`None` for a part not measured); `total` is their sum out of 10, not
/// rescaled, like the main score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TenPoint {
    /// 0 to 2.
    pub attendance: Option<f64>,
    /// 0 to 2.
    pub polls: Option<f64>,
    /// 0 to 2.
    pub chat: Option<f64>,
    /// 0 to 2.
    pub qa: Option<f64>,
    /// 0 to 2.
    pub reactions: Option<f64>,
    /// 0 to 10, to one decimal: the measured parts added up.
    pub total: f64,
}

/// What a viewer did, as the score reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreInput {
    /// Time present, in ms.
    pub watch_ms: i64,
    /// The class's elapsed time, in ms.
    pub elapsed_ms: i64,
    /// Polls opened while they were present.
    pub polls_asked: u32,
    /// Ballots they cast.
    pub polls_answered: u32,
    /// Chat messages.
    pub chat: u32,
    /// Questions asked plus upvotes given.
    pub qa: u32,
    /// Reactions attributed to them.
    pub reactions: u32,
    /// Whether the log attributes reactions to viewers at all.
    pub reactions_measured: bool,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn part(measured: bool, value: f64, cap: f64, max_points: f64) -> ScorePart {
    let fraction = if measured && cap > 0.0 {
        (value / cap).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ScorePart {
        measured,
        value,
        cap,
        fraction,
        points: fraction * max_points,
        max_points,
    }
}

/// The minutes per-minute rates are counted over: minutes watched, but never less than
/// [`RATE_FLOOR_CLASS_SHARE`] of the class's elapsed time nor [`RATE_FLOOR_MINUTES`].
pub fn rate_minutes(watch_ms: i64, elapsed_ms: i64) -> f64 {
    let minutes = |ms: i64| ms.max(0) as f64 / 60_000.0;
    minutes(watch_ms)
        .max(RATE_FLOOR_CLASS_SHARE * minutes(elapsed_ms))
        .max(RATE_FLOOR_MINUTES)
}

/// The score of one viewer (see the module doc for the formula).
pub fn score(input: &ScoreInput) -> Score {
    let minutes = rate_minutes(input.watch_ms, input.elapsed_ms);
    let rate = |n: u32| f64::from(n) / minutes;
    let asked = input.polls_asked.max(input.polls_answered);
    let attendance = part(
        input.elapsed_ms > 0,
        if input.elapsed_ms > 0 {
            input.watch_ms.max(0) as f64 / input.elapsed_ms as f64
        } else {
            0.0
        },
        1.0,
        WEIGHTS.attendance,
    );
    let polls = part(
        asked > 0,
        if asked > 0 {
            f64::from(input.polls_answered) / f64::from(asked)
        } else {
            0.0
        },
        1.0,
        WEIGHTS.polls,
    );
    let chat = part(true, rate(input.chat), CHAT_CAP_PER_MIN, WEIGHTS.chat);
    let qa = part(true, rate(input.qa), QA_CAP_PER_MIN, WEIGHTS.qa);
    let reactions = part(
        input.reactions_measured,
        rate(input.reactions),
        REACTIONS_CAP_PER_MIN,
        WEIGHTS.reactions,
    );
    let parts = [attendance, polls, chat, qa, reactions];
    // A part not measured has 0 points (see `part`): the sums need no filter, and nothing is
    // rescaled.
    let earned: f64 = parts.iter().map(|p| p.points).sum();
    let ten: f64 = parts.iter().map(|p| p.fraction * 2.0).sum();
    let measurable_points = parts
        .iter()
        .filter(|p| p.measured)
        .map(|p| p.max_points)
        .sum();
    let two = |p: &ScorePart| p.measured.then_some(p.fraction * 2.0);
    Score {
        total: round1(earned),
        measurable_points,
        rate_minutes: minutes,
        ten_point: TenPoint {
            attendance: two(&attendance),
            polls: two(&polls),
            chat: two(&chat),
            qa: two(&qa),
            reactions: two(&reactions),
            total: round1(ten),
        },
        attendance,
        polls,
        chat,
        qa,
        reactions,
    }
}
