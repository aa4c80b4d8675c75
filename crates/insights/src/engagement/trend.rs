//! Across a course's classes: how each did, and whether engagement is going up or down.

use serde::{Deserialize, Serialize};

use super::report::MIN_GROUP;
use super::snapshot::{EngagementSnapshot, MINUTE_MS};

/// Fewest shown classes for a direction.
const MIN_CLASSES_FOR_TREND: usize = 3;
/// A slope under this many score points per class is flat.
const FLAT_POINTS_PER_CLASS: f64 = 1.0;

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
        ClassSummary {
            session_id,
            title: title.to_owned(),
            started_at_ms: snapshot.session_start_ms,
            viewers: t.viewers,
            peak_present: t.peak_present,
            median_score: t.median_score,
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

/// Which way a course's engagement goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The median score rises by at least a point per class.
    Rising,
    /// It falls by at least a point per class.
    Falling,
    /// Within a point per class.
    Flat,
    /// Fewer than three classes can be shown.
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
    /// Least-squares slope of the median score per class (shown classes, in order).
    pub slope_per_class: Option<f64>,
    /// Which way it goes.
    pub direction: Direction,
}

/// Compares the classes of one course (the caller picks them by the session's course id).
pub fn course_trend(course_id: &str, classes: &[ClassSummary]) -> CourseTrend {
    let mut ordered: Vec<&ClassSummary> = classes.iter().collect();
    ordered.sort_by_key(|c| (c.started_at_ms, c.session_id));
    let shown: Vec<f64> = ordered
        .iter()
        .filter(|c| c.viewers >= MIN_GROUP)
        .map(|c| c.median_score)
        .collect();
    let mean = (!shown.is_empty()).then(|| shown.iter().sum::<f64>() / shown.len() as f64);
    let slope = (shown.len() >= 2).then(|| {
        let n = shown.len() as f64;
        let mean_x = (n - 1.0) / 2.0;
        let mean_y = shown.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, y) in shown.iter().enumerate() {
            let dx = i as f64 - mean_x;
            sxy += dx * (y - mean_y);
            sxx += dx * dx;
        }
        sxy / sxx
    });
    let direction = match slope {
        Some(_) if shown.len() < MIN_CLASSES_FOR_TREND => Direction::TooFewClasses,
        Some(s) if s >= FLAT_POINTS_PER_CLASS => Direction::Rising,
        Some(s) if s <= -FLAT_POINTS_PER_CLASS => Direction::Falling,
        Some(_) => Direction::Flat,
        None => Direction::TooFewClasses,
    };
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
        slope_per_class: slope,
        direction,
    }
}
