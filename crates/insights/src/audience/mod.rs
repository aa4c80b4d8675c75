//! The school's audience: who buys again ([`repurchase`]), how each month's new buyers come back
//! ([`cohorts`]), and behavioural segments of every learner ([`segments`]). Pure: learners,
//! purchases and class attendance come in, with "today" as a day number; nothing here reads a
//! clock or a file. docs/audience.md states every definition; keep it true.
//!
//! # Days, not instants
//! Every window here counts whole school-local days. A purchase exported with a date alone
//! (`purchases.date_only`) has a day but no time, and the lines of one shop order share a day,
//! so the caller gives each line its `day` (the school's local date as days since 1970-01-01)
//! and the cores compare days: a repurchase is a purchase on a *later* day than the first,
//! never a second line of the same visit.
//!
//! ```
//! use lectern_insights::audience::{Purchase, repurchase::repurchase_rates};
//!
//! let line = |learner: &str, order: &str, day: i64| Purchase {
//!     learner: learner.into(), course: "c1".into(), order: order.into(), day, amount_cents: 4_900,
//! };
//! // Ada buys on day 0 and again on day 20; Bo buys once on day 100, the last day of the data.
//! let lines = [line("ada", "o1", 0), line("ada", "o2", 20), line("bo", "o3", 100)];
//! let rates = repurchase_rates(&lines, &[30]);
//! // Only Ada's first purchase is 30 days before the last day: 1 eligible, 1 bought again.
//! assert_eq!((rates[0].eligible, rates[0].repurchased), (1, 1));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub mod cohorts;
pub mod repurchase;
pub mod segments;

/// One course bought by one learner: one line of a shop order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    /// The learner (pseudonymous id).
    pub learner: String,
    /// The course bought.
    pub course: String,
    /// The shop's order id (lines of one order share it where the source says so).
    pub order: String,
    /// The school-local date, as days since 1970-01-01 ([`day_of_ms`] for UTC).
    pub day: i64,
    /// Paid, in cents.
    pub amount_cents: i64,
}

/// A learner of the school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Learner {
    /// The learner's pseudonymous id.
    pub id: String,
    /// The school-local day they joined.
    pub joined_day: i64,
}

/// One learner's live classes: how many they attended and how engaged they were there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attendance {
    /// The learner (a viewer mapped to the learner they are in the shop).
    pub learner: String,
    /// Live classes attended (joined at least once).
    pub classes: u32,
    /// Their mean engagement score in those classes, 0 to 100 (`engagement::Score::total`).
    pub engagement: f64,
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The UTC day of a Unix time in ms (a school in UTC, or a date-only purchase's stored day).
pub fn day_of_ms(at_ms: i64) -> i64 {
    at_ms.div_euclid(DAY_MS)
}

/// One learner's purchases reduced to what the audience measures read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Buyer {
    /// The first purchase day.
    pub(crate) first_day: i64,
    /// The order ids bought on the first day (a later line of one of them is not a repurchase).
    pub(crate) first_orders: BTreeSet<String>,
    /// Every later purchase day that counts as another order, ascending, distinct.
    pub(crate) later_days: Vec<i64>,
    /// Distinct purchase days (the first included): the number of visits.
    pub(crate) visits: u32,
    /// Total paid, in cents.
    pub(crate) spent_cents: i64,
    /// Per course: the first day the learner bought it.
    pub(crate) courses: BTreeMap<String, i64>,
}

impl Buyer {
    /// Bought again (another order, a later day) within `window` days after `anchor`.
    pub(crate) fn bought_within(&self, anchor: i64, window: i64) -> bool {
        self.later_days
            .iter()
            .any(|&d| d > anchor && d - anchor <= window)
    }

    /// The last purchase day.
    pub(crate) fn last_day(&self) -> i64 {
        self.later_days.last().copied().unwrap_or(self.first_day)
    }
}

/// Every buyer by id, and the last purchase day of the school.
#[derive(Debug, Clone, Default)]
pub(crate) struct Buyers {
    pub(crate) by_learner: BTreeMap<String, Buyer>,
    /// The last purchase day in the data (`None` without purchases).
    pub(crate) last_day: Option<i64>,
}

impl Buyers {
    /// Groups the lines by learner. Independent of the lines' order.
    pub(crate) fn from_lines(lines: &[Purchase]) -> Buyers {
        let mut grouped: BTreeMap<&str, Vec<&Purchase>> = BTreeMap::new();
        for line in lines {
            grouped.entry(line.learner.as_str()).or_default().push(line);
        }
        let mut by_learner = BTreeMap::new();
        for (learner, mut lines) in grouped {
            lines.sort_by(|a, b| (a.day, &a.order, &a.course).cmp(&(b.day, &b.order, &b.course)));
            let first_day = lines[0].day;
            let first_orders: BTreeSet<String> = lines
                .iter()
                .filter(|l| l.day == first_day)
                .map(|l| l.order.clone())
                .collect();
            let mut buyer = Buyer {
                first_day,
                ..Buyer::default()
            };
            let mut days = BTreeSet::new();
            for line in &lines {
                days.insert(line.day);
                buyer.spent_cents = buyer.spent_cents.saturating_add(line.amount_cents);
                buyer.courses.entry(line.course.clone()).or_insert(line.day);
                if line.day > first_day && !first_orders.contains(&line.order) {
                    buyer.later_days.push(line.day);
                }
            }
            buyer.later_days.dedup();
            buyer.visits = days.len() as u32;
            buyer.first_orders = first_orders;
            by_learner.insert(learner.to_owned(), buyer);
        }
        Buyers {
            by_learner,
            last_day: lines.iter().map(|l| l.day).max(),
        }
    }
}
