//! How good a model is on the held-out classes: AUC with its 95% interval (DeLong), the words
//! chosen by the interval's lower bound, the Brier score and the calibration table.

use serde::{Deserialize, Serialize};

/// The two-sided 95% normal quantile.
const Z_95: f64 = 1.959_963_984_540_054;

/// Area under the ROC curve with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Auc {
    /// The AUC: the chance that a random buyer is scored above a random non-buyer (ties count
    /// half); 0.5 is guessing.
    pub estimate: f64,
    /// Lower end of the 95% interval (DeLong's variance, normal approximation, within 0..=1).
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Auc {
    /// What the interval allows one to say.
    pub fn ranking(&self) -> Ranking {
        Ranking::from_lower_bound(self.low)
    }
}

/// How well a model ranks buyers, judged by the lower bound of its AUC's 95% interval, so a
/// small or lucky check cannot claim more than it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ranking {
    /// Lower bound at least 0.8.
    Well,
    /// Lower bound at least 0.7.
    Usefully,
    /// Lower bound above 0.5: better than guessing, by an amount the check cannot pin down.
    BetterThanChance,
    /// Lower bound at or below 0.5 (or not known): the check cannot tell it from guessing.
    NotShown,
}

impl Ranking {
    /// The ranking that an AUC interval with this lower bound supports.
    pub fn from_lower_bound(low: f64) -> Ranking {
        match low {
            l if l >= 0.8 => Ranking::Well,
            l if l >= 0.7 => Ranking::Usefully,
            l if l > 0.5 => Ranking::BetterThanChance,
            _ => Ranking::NotShown,
        }
    }

    /// The words, to follow "the model": "ranks buyers well".
    pub fn words(self) -> &'static str {
        match self {
            Ranking::Well => "ranks buyers well",
            Ranking::Usefully => "ranks buyers usefully",
            Ranking::BetterThanChance => "ranks buyers better than chance",
            Ranking::NotShown => "cannot yet be told apart from guessing",
        }
    }
}

/// One bin of the calibration table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of predicted probability.
    pub from: f64,
    /// Upper edge.
    pub to: f64,
    /// Rows in the bin.
    pub count: usize,
    /// Mean predicted probability.
    pub predicted: f64,
    /// Share that bought.
    pub observed: f64,
}

/// How good a model is on the held-out (most recent) classes, and what it learned from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelQuality {
    /// Area under the ROC curve, with its 95% interval.
    pub auc: Auc,
    /// Mean squared error of the probabilities (lower is better).
    pub brier: f64,
    /// Predicted vs observed, in ten bins of predicted probability.
    pub calibration: Vec<CalibrationBin>,
    /// Rows learned from.
    pub train_rows: usize,
    /// Buyers among them.
    pub train_buyers: usize,
    /// Rows of older classes left out because their label window reaches into the held-out
    /// classes (the gap between learning and checking).
    pub gap_rows: usize,
    /// Rows checked on.
    pub holdout_rows: usize,
    /// Buyers among them.
    pub holdout_buyers: usize,
    /// Classes checked on.
    pub holdout_sessions: usize,
    /// Start of the first held-out class (Unix ms).
    pub holdout_from_ms: i64,
}

impl ModelQuality {
    /// One sentence for people: what the check shows, with the AUC and its interval. `model`
    /// names the model ("the model", "the random forest").
    pub fn summary(&self, model: &str) -> String {
        let a = &self.auc;
        format!(
            "On {} attendees ({} buyers) of {} later classes it never saw, {model} {} (AUC {:.2}, \
             95% interval {:.2} to {:.2}: a random buyer is ranked above a random non-buyer {:.0}% \
             of the time).",
            self.holdout_rows,
            self.holdout_buyers,
            self.holdout_sessions,
            a.ranking().words(),
            a.estimate,
            a.low,
            a.high,
            a.estimate * 100.0
        )
    }
}

/// Mid-ranks (1-based; ties share their mean rank) of `values`.
fn midranks(values: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        // `==`, not the sort's order: 0.0 and -0.0 are one score.
        while j + 1 < idx.len() && values[idx[j + 1]] == values[idx[i]] {
            j += 1;
        }
        let average = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = average;
        }
        i = j + 1;
    }
    ranks
}

/// Area under the ROC curve with tied scores counted as half (the Mann-Whitney statistic);
/// NaN without both classes.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
    auc_with_interval(scores, labels).estimate
}

/// The AUC and its 95% interval by DeLong's method (DeLong, DeLong & Clarke-Pearson 1988),
/// computed from mid-ranks as in Sun & Xu (2014): each buyer's share of non-buyers scored below
/// it and each non-buyer's share of buyers scored above it give the variance
/// `var(buyers' shares) / buyers + var(non-buyers' shares) / non-buyers`.
///
/// NaN throughout without both classes; the interval is 0 to 1 with fewer than two of either
/// (no variance can be estimated).
pub fn auc_with_interval(scores: &[f64], labels: &[bool]) -> Auc {
    let m = labels.iter().filter(|&&l| l).count();
    let n = labels.len() - m;
    if m == 0 || n == 0 || scores.len() != labels.len() {
        return Auc {
            estimate: f64::NAN,
            low: f64::NAN,
            high: f64::NAN,
        };
    }
    let split = |want: bool| -> Vec<f64> {
        scores
            .iter()
            .zip(labels)
            .filter(|(_, l)| **l == want)
            .map(|(s, _)| *s)
            .collect()
    };
    let (pos, neg) = (split(true), split(false));
    let (all, in_pos, in_neg) = (midranks(scores), midranks(&pos), midranks(&neg));
    let (mf, nf) = (m as f64, n as f64);
    // Each buyer's share of non-buyers below it, each non-buyer's share of buyers above it.
    let mut v10 = Vec::with_capacity(m);
    let mut v01 = Vec::with_capacity(n);
    let (mut i, mut j) = (0, 0);
    for (k, &l) in labels.iter().enumerate() {
        if l {
            v10.push((all[k] - in_pos[i]) / nf);
            i += 1;
        } else {
            v01.push(1.0 - (all[k] - in_neg[j]) / mf);
            j += 1;
        }
    }
    let estimate = v10.iter().sum::<f64>() / mf;
    if m < 2 || n < 2 {
        return Auc {
            estimate,
            low: 0.0,
            high: 1.0,
        };
    }
    let variance =
        |v: &[f64]| v.iter().map(|x| (x - estimate).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    let se = (variance(&v10) / mf + variance(&v01) / nf).sqrt();
    Auc {
        estimate,
        low: (estimate - Z_95 * se).max(0.0),
        high: (estimate + Z_95 * se).min(1.0),
    }
}

/// What a model learned from and was checked on, beside its predictions.
#[derive(Clone)]
pub(crate) struct Provenance {
    pub train_rows: usize,
    pub train_buyers: usize,
    pub gap_rows: usize,
    pub holdout_sessions: usize,
    pub holdout_from_ms: i64,
}

/// AUC with interval, Brier and 10-bin calibration of held-out predictions (both models).
pub(crate) fn holdout_quality(
    predicted: &[f64],
    labels: &[bool],
    from: Provenance,
) -> ModelQuality {
    let outcome = |l: bool| f64::from(u8::from(l));
    let brier = predicted
        .iter()
        .zip(labels)
        .map(|(p, &l)| (p - outcome(l)).powi(2))
        .sum::<f64>()
        / predicted.len().max(1) as f64;
    let calibration = (0..10)
        .map(|b| {
            let (from, to) = (b as f64 / 10.0, (b + 1) as f64 / 10.0);
            let members: Vec<usize> = (0..predicted.len())
                .filter(|&i| {
                    predicted[i] >= from && (predicted[i] < to || (b == 9 && predicted[i] <= to))
                })
                .collect();
            let count = members.len();
            let mean = |f: &dyn Fn(usize) -> f64| {
                if count == 0 {
                    0.0
                } else {
                    members.iter().map(|&i| f(i)).sum::<f64>() / count as f64
                }
            };
            CalibrationBin {
                from,
                to,
                count,
                predicted: mean(&|i| predicted[i]),
                observed: mean(&|i| outcome(labels[i])),
            }
        })
        .collect();
    ModelQuality {
        auc: auc_with_interval(predicted, labels),
        brier,
        calibration,
        train_rows: from.train_rows,
        train_buyers: from.train_buyers,
        gap_rows: from.gap_rows,
        holdout_rows: predicted.len(),
        holdout_buyers: labels.iter().filter(|&&l| l).count(),
        holdout_sessions: from.holdout_sessions,
        holdout_from_ms: from.holdout_from_ms,
    }
}
