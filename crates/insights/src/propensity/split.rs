//! The split in time shared by both models: the latest quarter of classes is held out, older
//! rows whose label window reaches into it are left out, and too little history is refused.

use super::quality::Provenance;
use super::rows::{AttendeeRow, AttendeeRows, N};
use super::{MIN_BUYERS, PropensityError};

/// Rows to learn from and rows to check on.
pub(crate) struct Split<'a> {
    pub train: Vec<&'a AttendeeRow>,
    pub holdout: Vec<&'a AttendeeRow>,
    pub provenance: Provenance,
}

impl Split<'_> {
    /// The training rows' features and labels.
    pub fn train_xy(&self) -> (Vec<[f64; N]>, Vec<bool>) {
        self.train
            .iter()
            .map(|r| (r.features, r.bought == Some(true)))
            .unzip()
    }

    /// The labels of the held-out rows.
    pub fn holdout_labels(&self) -> Vec<bool> {
        self.holdout
            .iter()
            .map(|r| r.bought == Some(true))
            .collect()
    }

    /// Per-feature means of the training rows: the neutral value reasons are measured from.
    pub fn train_means(&self) -> [f64; N] {
        let n = self.train.len().max(1) as f64;
        let mut means = [0.0; N];
        for r in &self.train {
            for (m, v) in means.iter_mut().zip(r.features) {
                *m += v / n;
            }
        }
        means
    }
}

/// Splits labelled rows in time, never at random: the model must predict classes it has not
/// seen, with no outcome it learned from happening after those classes began.
pub(crate) fn split(rows: &AttendeeRows) -> Result<Split<'_>, PropensityError> {
    let labelled: Vec<&AttendeeRow> = rows.rows.iter().filter(|r| r.bought.is_some()).collect();
    let mut classes: Vec<(i64, i64)> = labelled
        .iter()
        .map(|r| (r.session_started_at_ms, r.session_id))
        .collect();
    classes.sort_unstable();
    classes.dedup();
    let first_held = classes
        .get((classes.len() * 3 / 4).min(classes.len().saturating_sub(1)))
        .copied()
        .unwrap_or((i64::MAX, i64::MAX));
    let holdout_from_ms = first_held.0;
    let mut train = vec![];
    let mut holdout = vec![];
    let mut gap_rows = 0;
    for r in labelled {
        if (r.session_started_at_ms, r.session_id) >= first_held {
            holdout.push(r);
        } else if r.cut_at_ms.saturating_add(rows.window_ms) <= holdout_from_ms {
            train.push(r);
        } else {
            gap_rows += 1;
        }
    }
    let buyers = train.iter().filter(|r| r.bought == Some(true)).count();
    let non_buyers = train.len() - buyers;
    if buyers < MIN_BUYERS || non_buyers < MIN_BUYERS {
        return Err(PropensityError::TooLittleData {
            buyers,
            non_buyers,
            gap_rows,
        });
    }
    for (want, missing) in [(true, "buyer"), (false, "non-buyer")] {
        if !holdout.iter().any(|r| r.bought == Some(want)) {
            return Err(PropensityError::NoHoldoutContrast { missing });
        }
    }
    let holdout_sessions = classes.len() - classes.partition_point(|c| *c < first_held);
    Ok(Split {
        provenance: Provenance {
            train_rows: train.len(),
            train_buyers: buyers,
            gap_rows,
            holdout_sessions,
            holdout_from_ms,
        },
        train,
        holdout,
    })
}
