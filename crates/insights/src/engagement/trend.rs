//! Across a course's classes: how each did, and whether engagement is going up or down.
//!
//! The direction reads a least-squares line through the shown classes' median scores (x = the
//! class's place among them, 0, 1, 2, ...), with a [`TREND_CONFIDENCE`] Student-t interval on its
//! slope: "rising" or "falling" only when the interval leaves zero out, "steady" when it holds
//! zero, and no direction under [`MIN_CLASSES_FOR_TREND`] classes (a line through two points
//! has no scatter to judge it by).
//!
//! The noise model: the medians' scatter around the line (`s^2 = sum of squared residuals /
//! (k - 2)`), but never less than the medians' own sampling noise (the mean of their squared
//! standard errors, [`ClassSummary::median_score_se`]). Three medians can fall almost on a line
//! by chance, and the scatter of so few then understates the noise: a median of a few viewers
//! moves by several points from one class to the next with nothing changed. The slope's
//! standard error is `s / sqrt(sum (x - mean x)^2)` and the interval `slope +- t(k - 2) x se`.
//! With 3 classes t is 12.7, so only a steep and steady change shows; each class more narrows
//! it. The classes are taken as independent and the line as straight: a course that rises then
//! falls reads "steady".

use serde::{Deserialize, Serialize};

use super::report::MIN_GROUP;
use super::snapshot::{EngagementSnapshot, MINUTE_MS};
use crate::stats::distributions::{normal_quantile, student_t_upper_quantile};

/// Fewest shown classes for a direction (a line through them needs one degree of freedom left).
pub const MIN_CLASSES_FOR_TREND: usize = 3;
/// The confidence of the slope's interval (and of the medians' standard errors).
pub const TREND_CONFIDENCE: f64 = 0.95;

/// One class in a few numbers (the caller makes one per class from its snapshot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassSummary {
    /// The session's id in the store.
    pub session_id: i64,
    /// Its title.
    pub title: String,
    /// Its start.
    pub started_at_ms: i64,
    /// Distinct viewers.
    pub viewers: u32,
    /// Most present at once.
    pub peak_present: u32,
    /// Median viewer score.
    pub median_score: f64,
    /// The median's standard error, from the order statistics that bound its distribution-free
    /// [`TREND_CONFIDENCE`] interval (`(x_(k) - x_(j)) / (2 z)`, j and k the ranks n/2 -+ z
    /// sqrt(n)/2). `None` under two viewers, or when the summary was made without one.
    #[serde(default)]
    pub median_score_se: Option<f64>,
    /// Mean watch time per viewer, in minutes.
    pub mean_watch_minutes: f64,
    /// Ballots over polls asked of viewers, in percent (`None` without polls).
    pub poll_participation_pct: Option<f64>,
    /// Chat messages per viewer-hour watched.
    pub chat_per_viewer_hour: f64,
    /// Present at the last minute over the peak, in percent.
    pub final_retention_pct: f64,
}

impl ClassSummary {
    /// The summary of one class's snapshot.
    pub fn from_snapshot(
        session_id: i64,
        title: &str,
        snapshot: &EngagementSnapshot,
    ) -> ClassSummary {
        let t = &snapshot.totals;
        let asked: u64 = snapshot
            .viewers
            .iter()
            .map(|v| u64::from(v.polls_asked))
            .sum();
        let hours = t.watch_ms as f64 / (60.0 * MINUTE_MS as f64);
        let mut scores: Vec<f64> = snapshot.viewers.iter().map(|v| v.score.total).collect();
        scores.sort_by(f64::total_cmp);
        ClassSummary {
            session_id,
            title: title.to_owned(),
            started_at_ms: snapshot.session_start_ms,
            viewers: t.viewers,
            peak_present: t.peak_present,
            median_score: t.median_score,
            median_score_se: median_standard_error(&scores),
            mean_watch_minutes: if t.viewers > 0 {
                t.watch_ms as f64 / MINUTE_MS as f64 / f64::from(t.viewers)
            } else {
                0.0
            },
            poll_participation_pct: (asked > 0)
                .then(|| f64::from(t.ballots) * 100.0 / asked as f64),
            chat_per_viewer_hour: if hours > 0.0 {
                f64::from(t.chat) / hours
            } else {
                0.0
            },
            final_retention_pct: snapshot.minutes.last().map_or(0.0, |m| m.retention_pct),
        }
    }
}

/// The standard error of the median of `sorted`: the distribution-free interval of the median
/// between two order statistics, read as +- z standard errors.
fn median_standard_error(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n < 2 {
        return None;
    }
    let z = normal_quantile(0.5 + TREND_CONFIDENCE / 2.0);
    let half = n as f64 / 2.0;
    let spread = z * (n as f64).sqrt() / 2.0;
    // 1-based ranks, clamped to the sample: small classes use their whole range.
    let rank = |r: f64| (r as usize).clamp(1, n);
    let (j, k) = (
        rank((half - spread).floor()),
        rank((1.0 + half + spread).ceil()),
    );
    Some((sorted[k - 1] - sorted[j - 1]) / (2.0 * z))
}

/// Which way a course's engagement goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The slope's interval is above zero: the median score rises from class to class.
    Rising,
    /// The slope's interval is below zero.
    Falling,
    /// Steady: the slope's interval holds zero, so no change shows through the noise (the
    /// interval says how large a change could still hide in it).
    Flat,
    /// Fewer than [`MIN_CLASSES_FOR_TREND`] classes can be shown.
    TooFewClasses,
}

/// One class of the course, in start order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionPoint {
    /// The session's id.
    pub session_id: i64,
    /// Its title.
    pub title: String,
    /// Its start.
    pub started_at_ms: i64,
    /// `None` when it had fewer than [`MIN_GROUP`] viewers: too few to show.
    pub summary: Option<ClassSummary>,
    /// Median score minus the previous shown class's.
    pub vs_previous: Option<f64>,
    /// Median score minus the course's mean of median scores.
    pub vs_course: Option<f64>,
}

/// A course's classes compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseTrend {
    /// The course.
    pub course_id: String,
    /// Its classes, oldest first.
    pub sessions: Vec<SessionPoint>,
    /// Classes not shown (under [`MIN_GROUP`] viewers).
    pub suppressed: u32,
    /// Mean of the shown classes' median scores.
    pub mean_median_score: Option<f64>,
    /// Least-squares slope of the median score per class (shown classes, in order; from two).
    pub slope_per_class: Option<f64>,
    /// The low end of the slope's [`TREND_CONFIDENCE`] interval (from three shown classes).
    pub slope_low_per_class: Option<f64>,
    /// Its high end.
    pub slope_high_per_class: Option<f64>,
    /// Which way it goes.
    pub direction: Direction,
    /// The direction in words, with its interval: "Rising: +2.1 points per class over 8
    /// classes (95% interval +1.2 to +3.0)."
    pub direction_text: String,
}

/// A line through the medians: its slope and, from three points, the slope's interval.
struct Line {
    slope: f64,
    interval: Option<(f64, f64)>,
}

/// The least-squares line through `(i, median)` for the shown classes, in order.
fn fit_line(shown: &[&ClassSummary]) -> Option<Line> {
    let k = shown.len();
    if k < 2 {
        return None;
    }
    let n = k as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = shown.iter().map(|c| c.median_score).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, c) in shown.iter().enumerate() {
        let dx = i as f64 - mean_x;
        sxy += dx * (c.median_score - mean_y);
        sxx += dx * dx;
    }
    let slope = sxy / sxx;
    let interval = (k >= MIN_CLASSES_FOR_TREND).then(|| {
        let df = n - 2.0;
        let residuals: f64 = shown
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let fitted = mean_y + slope * (i as f64 - mean_x);
                (c.median_score - fitted).powi(2)
            })
            .sum();
        let sampling: Vec<f64> = shown
            .iter()
            .filter_map(|c| c.median_score_se)
            .map(|se| se * se)
            .collect();
        let floor = if sampling.is_empty() {
            0.0
        } else {
            sampling.iter().sum::<f64>() / sampling.len() as f64
        };
        let variance = (residuals / df).max(floor);
        let half =
            student_t_upper_quantile((1.0 - TREND_CONFIDENCE) / 2.0, df) * (variance / sxx).sqrt();
        (slope - half, slope + half)
    });
    Some(Line { slope, interval })
}

/// "+2.5", "−1.0", "0.0" (a true minus sign, as the studio writes them).
fn signed(x: f64) -> String {
    let x = if x.abs() < 0.05 { 0.0 } else { x };
    if x > 0.0 {
        format!("+{x:.1}")
    } else if x < 0.0 {
        format!("\u{2212}{:.1}", -x)
    } else {
        "0.0".to_owned()
    }
}

/// The direction in words: the slope and its interval, or why there is no direction.
fn direction_text(direction: Direction, shown: usize, line: Option<&Line>) -> String {
    let Some((slope, (low, high))) = line.and_then(|l| l.interval.map(|i| (l.slope, i))) else {
        let classes = if shown == 1 { "class" } else { "classes" };
        return format!(
            "{shown} {classes} to compare: a direction needs at least {MIN_CLASSES_FOR_TREND}."
        );
    };
    let interval = format!(
        "{:.0}% interval {} to {}",
        TREND_CONFIDENCE * 100.0,
        signed(low),
        signed(high)
    );
    match direction {
        Direction::Rising => format!(
            "Rising: {} points per class over {shown} classes ({interval}).",
            signed(slope)
        ),
        Direction::Falling => format!(
            "Falling: {} points per class over {shown} classes ({interval}).",
            signed(slope)
        ),
        Direction::Flat | Direction::TooFewClasses => format!(
            "Steady over {shown} classes: no change shows through the noise ({interval} points per class)."
        ),
    }
}

/// Compares the classes of one course (the caller picks them by the session's course id).
pub fn course_trend(course_id: &str, classes: &[ClassSummary]) -> CourseTrend {
    let mut ordered: Vec<&ClassSummary> = classes.iter().collect();
    ordered.sort_by_key(|c| (c.started_at_ms, c.session_id));
    let shown: Vec<&ClassSummary> = ordered
        .iter()
        .copied()
        .filter(|c| c.viewers >= MIN_GROUP)
        .collect();
    let mean = (!shown.is_empty())
        .then(|| shown.iter().map(|c| c.median_score).sum::<f64>() / shown.len() as f64);
    let line = fit_line(&shown);
    let direction = match line.as_ref().and_then(|l| l.interval) {
        None => Direction::TooFewClasses,
        Some((low, _)) if low > 0.0 => Direction::Rising,
        Some((_, high)) if high < 0.0 => Direction::Falling,
        Some(_) => Direction::Flat,
    };
    let direction_text = direction_text(direction, shown.len(), line.as_ref());
    let mut previous: Option<f64> = None;
    let mut suppressed = 0;
    let sessions = ordered
        .into_iter()
        .map(|c| {
            let show = c.viewers >= MIN_GROUP;
            if !show {
                suppressed += 1;
            }
            let point = SessionPoint {
                session_id: c.session_id,
                title: c.title.clone(),
                started_at_ms: c.started_at_ms,
                summary: show.then(|| c.clone()),
                vs_previous: show.then(|| previous.map(|p| c.median_score - p)).flatten(),
                vs_course: show.then(|| mean.map(|m| c.median_score - m)).flatten(),
            };
            if show {
                previous = Some(c.median_score);
            }
            point
        })
        .collect();
    CourseTrend {
        course_id: course_id.to_owned(),
        sessions,
        suppressed,
        mean_median_score: mean,
        slope_per_class: line.as_ref().map(|l| l.slope),
        slope_low_per_class: line.as_ref().and_then(|l| l.interval).map(|i| i.0),
        slope_high_per_class: line.as_ref().and_then(|l| l.interval).map(|i| i.1),
        direction,
        direction_text,
    }
}
