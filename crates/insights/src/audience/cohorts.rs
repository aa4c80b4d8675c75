//! Cohorts: learners grouped by the month of their first purchase, and the share of each cohort
//! that bought in each later month (a heatmap: first purchase month x months since).
//!
//! **Definition**: a learner's cohort is the calendar month (school-local) of their first
//! purchase. Cell (cohort, k) = the cohort's learners with at least one purchase in the k-th
//! month after it, divided by the cohort's size; k = 0 is the cohort's own month (1 by
//! definition). A cell whose month is after the month of the school's last purchase is empty
//! (not observed, not zero); the last month itself may be partly observed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::Purchase;
use crate::calendar::{month_index, month_label};

/// One cohort's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cohort {
    /// The first purchase month, `2026-03`.
    pub month: String,
    /// Learners whose first purchase is in that month.
    pub learners: u32,
    /// Per months since (0, 1, 2, ...): the cohort's learners who bought in that month; `None`
    /// for a month after the data's last purchase month. As long as the table's widest row.
    pub active: Vec<Option<u32>>,
}

impl Cohort {
    /// The share of the cohort active `months_since` months after its first month.
    pub fn share(&self, months_since: usize) -> Option<f64> {
        let active = (*self.active.get(months_since)?)?;
        (self.learners > 0).then(|| f64::from(active) / f64::from(self.learners))
    }
}

/// Every cohort, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortTable {
    /// The cohorts, by month.
    pub cohorts: Vec<Cohort>,
}

impl CohortTable {
    /// The table as CSV: `cohort,learners,month_0,month_1,...`, each cell the share with 4
    /// decimals, empty where not observed.
    pub fn to_csv(&self) -> String {
        let width = self
            .cohorts
            .iter()
            .map(|c| c.active.len())
            .max()
            .unwrap_or(1);
        let mut out = String::from("cohort,learners");
        for k in 0..width {
            let _ = write!(out, ",month_{k}");
        }
        out.push('\n');
        for cohort in &self.cohorts {
            let _ = write!(out, "{},{}", cohort.month, cohort.learners);
            for k in 0..width {
                out.push(',');
                if let Some(share) = cohort.share(k) {
                    let _ = write!(out, "{share:.4}");
                }
            }
            out.push('\n');
        }
        out
    }
}

/// The cohort table of these purchases. Independent of the lines' order.
pub fn cohort_table(lines: &[Purchase]) -> CohortTable {
    let Some(last_month) = lines.iter().map(|l| month_index(l.day)).max() else {
        return CohortTable::default();
    };
    let mut months_of: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    for line in lines {
        months_of
            .entry(line.learner.as_str())
            .or_default()
            .insert(month_index(line.day));
    }
    // Per cohort month: per months since, the learners active.
    let mut table: BTreeMap<i64, (u32, BTreeMap<i64, u32>)> = BTreeMap::new();
    for months in months_of.values() {
        let Some(&first) = months.first() else {
            continue;
        };
        let (size, active) = table.entry(first).or_default();
        *size += 1;
        for &m in months {
            *active.entry(m - first).or_default() += 1;
        }
    }
    let width = table
        .keys()
        .next()
        .map_or(1, |&oldest| (last_month - oldest + 1) as usize);
    let cohorts = table
        .into_iter()
        .map(|(month, (learners, active))| Cohort {
            month: month_label(month),
            learners,
            active: (0..width as i64)
                .map(|k| (month + k <= last_month).then(|| active.get(&k).copied().unwrap_or(0)))
                .collect(),
        })
        .collect();
    CohortTable { cohorts }
}
