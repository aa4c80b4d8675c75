//! Repurchase: the share of buyers who bought again, overall, per course and by live-class
//! attendance.
//!
//! **Definition** (docs/audience.md says the same): `repurchase_Nd` = among learners whose first
//! purchase day is at least N days before the last purchase day in the school (`first <= last -
//! N`, so their whole window is observed), the share who made another purchase (any course, a
//! different order) on a later day, at most N days after their first (`1 <= day - first <= N`).
//! Lines on the first purchase day are that visit's basket: the lines of one order, a bundle,
//! or date-only rows that cannot be ordered within the day; a later line with one of the
//! first day's order ids is not another order either.
//!
//! Per course ("buyers of X who bought again"): the same with the day the learner first bought
//! X as the start. By attendance: the 90-day rate of learners who attended at least one live
//! class against those who never did: an observed difference, not the effect of attending.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Attendance, Buyer, Buyers, Purchase};
use crate::stats::wilson_interval;

/// The windows `lectern report repurchase` prints, in days.
pub const WINDOWS: [u32; 3] = [30, 90, 180];

/// The attendance comparison's window, in days.
pub const ATTENDANCE_WINDOW: u32 = 90;

/// What the attendance comparison is, in words, wherever it is shown.
pub const ATTENDANCE_CAVEAT: &str = "an observed difference between learners who attended a live \
     class and those who never did, not the effect of attending: learners who come to classes \
     may differ in other ways";

/// Bought again within one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepurchaseRate {
    /// The window, in days.
    pub window_days: u32,
    /// Learners whose first purchase (or first purchase of the course) is at least the window
    /// before the last purchase day: the denominator.
    pub eligible: u32,
    /// Of those, who bought again within the window: the numerator.
    pub repurchased: u32,
}

impl RepurchaseRate {
    /// `repurchased / eligible`, or `None` when nobody is eligible yet.
    pub fn rate(&self) -> Option<f64> {
        (self.eligible > 0).then(|| f64::from(self.repurchased) / f64::from(self.eligible))
    }

    /// The 95% Wilson interval of the rate.
    pub fn interval(&self) -> Option<[f64; 2]> {
        wilson_interval(u64::from(self.repurchased), u64::from(self.eligible), 0.05)
    }

    /// The rate with 4 decimals, or `NA` when nobody is eligible.
    pub fn shown(&self) -> String {
        self.rate()
            .map_or_else(|| "NA".to_owned(), |r| format!("{r:.4}"))
    }
}

/// Buyers of one course who bought again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseRepurchase {
    /// The course.
    pub course: String,
    /// Learners who bought it.
    pub buyers: u32,
    /// One rate per window, starting the day each learner first bought the course.
    pub rates: Vec<RepurchaseRate>,
}

/// The repurchase rate of attendees against learners who never attended a live class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendanceComparison {
    /// Buyers who attended at least one live class.
    pub attended: RepurchaseRate,
    /// Buyers who never attended one.
    pub never_attended: RepurchaseRate,
    /// `attended - never_attended`, when both have eligible learners.
    pub difference: Option<f64>,
    /// Newcombe's 95% interval of the difference (from the two Wilson intervals).
    pub difference_interval: Option<[f64; 2]>,
    /// [`ATTENDANCE_CAVEAT`].
    pub caveat: String,
}

/// Everything `lectern report repurchase` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepurchaseReport {
    /// Learners with at least one purchase.
    pub buyers: u32,
    /// The last purchase day in the school, if any.
    pub last_day: Option<i64>,
    /// One rate per window of [`WINDOWS`].
    pub overall: Vec<RepurchaseRate>,
    /// Per course, by course id.
    pub per_course: Vec<CourseRepurchase>,
    /// Attendees against learners who never attended, over [`ATTENDANCE_WINDOW`].
    pub attendance: AttendanceComparison,
}

/// The repurchase rate over each window. Independent of the lines' order.
pub fn repurchase_rates(lines: &[Purchase], windows: &[u32]) -> Vec<RepurchaseRate> {
    let buyers = Buyers::from_lines(lines);
    windows
        .iter()
        .map(|&w| rate_among(&buyers, |_| true, w))
        .collect()
}

/// The rate among the buyers `member` accepts, each from their first purchase.
pub(crate) fn rate_among(
    buyers: &Buyers,
    member: impl Fn(&str) -> bool,
    window_days: u32,
) -> RepurchaseRate {
    let mut rate = RepurchaseRate {
        window_days,
        eligible: 0,
        repurchased: 0,
    };
    let Some(last) = buyers.last_day else {
        return rate;
    };
    let window = i64::from(window_days);
    for (learner, buyer) in &buyers.by_learner {
        if member(learner) {
            count(&mut rate, buyer, buyer.first_day, last, window);
        }
    }
    rate
}

fn count(rate: &mut RepurchaseRate, buyer: &Buyer, anchor: i64, last: i64, window: i64) {
    if anchor <= last - window {
        rate.eligible += 1;
        if buyer.bought_within(anchor, window) {
            rate.repurchased += 1;
        }
    }
}

/// "Buyers of X who bought again", for every course bought, by course id.
pub fn per_course(lines: &[Purchase], windows: &[u32]) -> Vec<CourseRepurchase> {
    let buyers = Buyers::from_lines(lines);
    per_course_of(&buyers, windows)
}

fn per_course_of(buyers: &Buyers, windows: &[u32]) -> Vec<CourseRepurchase> {
    let Some(last) = buyers.last_day else {
        return Vec::new();
    };
    let courses: BTreeSet<&str> = buyers
        .by_learner
        .values()
        .flat_map(|b| b.courses.keys().map(String::as_str))
        .collect();
    courses
        .into_iter()
        .map(|course| {
            let owners: Vec<(&Buyer, i64)> = buyers
                .by_learner
                .values()
                .filter_map(|b| b.courses.get(course).map(|&day| (b, day)))
                .collect();
            let rates = windows
                .iter()
                .map(|&w| {
                    let mut rate = RepurchaseRate {
                        window_days: w,
                        eligible: 0,
                        repurchased: 0,
                    };
                    for &(buyer, day) in &owners {
                        count(&mut rate, buyer, day, last, i64::from(w));
                    }
                    rate
                })
                .collect();
            CourseRepurchase {
                course: course.to_owned(),
                buyers: owners.len() as u32,
                rates,
            }
        })
        .collect()
}

/// Attendees of live classes against learners who never attended, over `window_days`.
pub fn by_attendance(
    lines: &[Purchase],
    attendance: &[Attendance],
    window_days: u32,
) -> AttendanceComparison {
    by_attendance_of(&Buyers::from_lines(lines), attendance, window_days)
}

fn by_attendance_of(
    buyers: &Buyers,
    attendance: &[Attendance],
    window_days: u32,
) -> AttendanceComparison {
    let attendees: BTreeSet<&str> = attendance
        .iter()
        .filter(|a| a.classes > 0)
        .map(|a| a.learner.as_str())
        .collect();
    let attended = rate_among(buyers, |l| attendees.contains(l), window_days);
    let never_attended = rate_among(buyers, |l| !attendees.contains(l), window_days);
    let difference = attended
        .rate()
        .zip(never_attended.rate())
        .map(|(a, b)| a - b);
    // Newcombe (1998), method 10: the difference's interval from each rate's Wilson interval.
    let difference_interval = match (
        attended.rate().zip(attended.interval()),
        never_attended.rate().zip(never_attended.interval()),
    ) {
        (Some((p1, [l1, u1])), Some((p2, [l2, u2]))) => {
            let d = p1 - p2;
            Some([
                d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
                d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
            ])
        }
        _ => None,
    };
    AttendanceComparison {
        attended,
        never_attended,
        difference,
        difference_interval,
        caveat: ATTENDANCE_CAVEAT.to_owned(),
    }
}

/// The whole report: [`WINDOWS`] overall, per course, and by attendance.
pub fn repurchase_report(lines: &[Purchase], attendance: &[Attendance]) -> RepurchaseReport {
    let buyers = Buyers::from_lines(lines);
    RepurchaseReport {
        buyers: buyers.by_learner.len() as u32,
        last_day: buyers.last_day,
        overall: WINDOWS
            .iter()
            .map(|&w| rate_among(&buyers, |_| true, w))
            .collect(),
        per_course: per_course_of(&buyers, &WINDOWS),
        attendance: by_attendance_of(&buyers, attendance, ATTENDANCE_WINDOW),
    }
}
