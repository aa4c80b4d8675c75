//! Who is likely to buy: the purchase propensity of a session's attendees, learned from the
//! school's own sessions and sales with a logistic regression (smartcore).
//!
//! Pure: the caller loads sessions, events and purchases and passes them in. A row is one learner
//! in one session; its label is whether that learner bought anything within the window (7 days
//! by default) from the session's start. Rows whose window has not closed by the end of the data
//! are scored but never learned from.
//!
//! smartcore has no `predict_proba`: the probability is the sigmoid of the coefficients and the
//! intercept, computed here. Features are standardised with the training rows' means and
//! deviations, so coefficients are comparable and reason codes are `coefficient x z-score`.
//!
//! Not yet: the random forest option, storing models in SQLite with a version, the agreement test
//! against scikit-learn, training on a background thread with progress (the engine's part).

use std::collections::HashMap;

use serde::Serialize;
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

/// The features of a row, in order.
pub const FEATURES: [&str; 10] = [
    "watch_minutes",
    "chat_messages",
    "reactions",
    "poll_answers",
    "offer_exposures",
    "offer_clicks",
    "past_purchases",
    "days_since_last_purchase",
    "past_spend",
    "sessions_before",
];
const N: usize = FEATURES.len();
/// Days since the last purchase for a learner who never bought (and the cap for others).
const NEVER_BOUGHT_DAYS: f64 = 365.0;
/// Fewest labelled rows and buyers worth a model.
pub const MIN_ROWS: usize = 200;
/// See [`MIN_ROWS`].
pub const MIN_BUYERS: usize = 20;
/// L2 strength (smartcore's `alpha` is scikit-learn's `1 / C`; C = 1 is sklearn's default).
const ALPHA: f64 = 1.0;

/// One event of a session's log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    /// The session.
    pub session_id: i64,
    /// The room's event type: `viewer_joined`, `viewer_left`, `chat_sent`, `ballot_cast`,
    /// `offer_exposed`, `offer_clicked`, ... (the older demo names `join`, `leave`, `chat`,
    /// `reaction`, `poll_answer`, `offer_exposure`, `offer_click` are read too).
    pub kind: String,
    /// The learner, if any.
    pub actor: Option<String>,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// A live session's time span.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSpan {
    /// Session id.
    pub id: i64,
    /// Start (Unix ms).
    pub started_at_ms: i64,
    /// End (Unix ms), if it ended.
    pub ended_at_ms: Option<i64>,
}

/// One purchase (any course).
#[derive(Debug, Clone, PartialEq)]
pub struct Sale {
    /// The learner.
    pub learner: String,
    /// When (Unix ms).
    pub at_ms: i64,
    /// Amount paid, in cents.
    pub amount_cents: i64,
}

/// One learner in one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttendeeRow {
    /// The session.
    pub session_id: i64,
    /// Its start (Unix ms): rows are split in time by it.
    pub session_started_at_ms: i64,
    /// The learner.
    pub learner: String,
    /// The values of [`FEATURES`].
    pub features: [f64; N],
    /// Bought within the window; `None` while the window is still open.
    pub bought: Option<bool>,
}

/// Build the rows of every session from its log and the school's sales.
pub fn attendee_rows(
    sessions: &[SessionSpan],
    events: &[LogEvent],
    sales: &[Sale],
    window_ms: i64,
    data_end_ms: i64,
) -> Vec<AttendeeRow> {
    let mut by_session: HashMap<i64, Vec<&LogEvent>> = HashMap::new();
    for e in events {
        by_session.entry(e.session_id).or_default().push(e);
    }
    let mut sales_by_learner: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for s in sales {
        sales_by_learner
            .entry(s.learner.as_str())
            .or_default()
            .push((s.at_ms, s.amount_cents));
    }
    for list in sales_by_learner.values_mut() {
        list.sort_unstable();
    }
    let mut ordered: Vec<&SessionSpan> = sessions.iter().collect();
    ordered.sort_by_key(|s| (s.started_at_ms, s.id));
    let mut attended: HashMap<String, u32> = HashMap::new();
    let mut rows = vec![];
    for session in ordered {
        let Some(log) = by_session.get_mut(&session.id) else {
            continue;
        };
        log.sort_by_key(|e| e.at_ms);
        let end = session
            .ended_at_ms
            .unwrap_or_else(|| log.last().map_or(session.started_at_ms, |e| e.at_ms));
        #[derive(Default)]
        struct Tally {
            open: Option<i64>,
            watched_ms: i64,
            counts: [f64; 5],
        }
        let mut tallies: HashMap<&str, Tally> = HashMap::new();
        let mut order: Vec<&str> = vec![];
        for e in log.iter() {
            let Some(actor) = e.actor.as_deref() else {
                continue;
            };
            let t = tallies.entry(actor).or_insert_with(|| {
                order.push(actor);
                Tally::default()
            });
            // Reactions count only where the log names who reacted: the room's
            // `reactions_aggregated` has no actor, so it never reaches here.
            match e.kind.as_str() {
                // A second join without a leave (a reconnect) keeps the first.
                "viewer_joined" | "join" if t.open.is_none() => t.open = Some(e.at_ms),
                "viewer_left" | "leave" => {
                    if let Some(from) = t.open.take() {
                        t.watched_ms += (e.at_ms - from).max(0);
                    }
                }
                "chat_sent" | "chat_held" | "chat" => t.counts[0] += 1.0,
                "reactions_aggregated" | "reaction" => t.counts[1] += 1.0,
                "ballot_cast" | "anonymous_ballot_cast" | "poll_answer" => t.counts[2] += 1.0,
                "offer_exposed" | "offer_exposure" => t.counts[3] += 1.0,
                "offer_clicked" | "offer_click" => t.counts[4] += 1.0,
                _ => {}
            }
        }
        for actor in order {
            let Some(t) = tallies.get_mut(actor) else {
                continue;
            };
            if let Some(from) = t.open.take() {
                t.watched_ms += (end - from).max(0);
            }
            let history = sales_by_learner
                .get(actor)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let before = history.partition_point(|&(at, _)| at < session.started_at_ms);
            let past = &history[..before];
            let days_since = past
                .last()
                .map(|&(at, _)| {
                    ((session.started_at_ms - at) as f64 / 86_400_000.0).min(NEVER_BOUGHT_DAYS)
                })
                .unwrap_or(NEVER_BOUGHT_DAYS);
            let spend: i64 = past.iter().map(|&(_, cents)| cents).sum();
            let window_end = session.started_at_ms.saturating_add(window_ms);
            let bought = if window_end > data_end_ms {
                None
            } else {
                Some(history[before..].iter().any(|&(at, _)| at < window_end))
            };
            let seen = attended.entry(actor.to_owned()).or_default();
            rows.push(AttendeeRow {
                session_id: session.id,
                session_started_at_ms: session.started_at_ms,
                learner: actor.to_owned(),
                features: [
                    t.watched_ms as f64 / 60_000.0,
                    t.counts[0],
                    t.counts[1],
                    t.counts[2],
                    t.counts[3],
                    t.counts[4],
                    past.len() as f64,
                    days_since,
                    spend as f64 / 100.0,
                    f64::from(*seen),
                ],
                bought,
            });
            *seen += 1;
        }
    }
    rows
}

/// Why a model cannot be trained.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PropensityError {
    /// Not enough history to learn from.
    #[error(
        "too little data to predict purchases: {rows} labelled attendees and {buyers} buyers; \
         at least {MIN_ROWS} attendees and {MIN_BUYERS} buyers are needed (teach more sessions, or \
         import the sales of past ones)"
    )]
    TooLittleData {
        /// Labelled rows available.
        rows: usize,
        /// Buyers among them.
        buyers: usize,
    },
    /// The held-out sessions have no buyer or no non-buyer, so the model cannot be judged.
    #[error("the most recent sessions have no {missing}, so the model cannot be checked on them")]
    NoHoldoutContrast {
        /// "buyer" or "non-buyer".
        missing: &'static str,
    },
    /// The solver failed.
    #[error("training failed: {0}")]
    Training(String),
}

impl PropensityError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            PropensityError::TooLittleData { .. } => "too_little_data",
            PropensityError::NoHoldoutContrast { .. } => "no_holdout_contrast",
            PropensityError::Training(_) => "training_failed",
        }
    }
}

/// One bin of the calibration table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
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

/// How good the model is on the held-out (most recent) sessions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelQuality {
    /// Area under the ROC curve (0.5 = chance).
    pub auc: f64,
    /// Mean squared error of the probabilities (lower is better).
    pub brier: f64,
    /// Predicted vs observed, in ten bins of predicted probability.
    pub calibration: Vec<CalibrationBin>,
    /// Rows used for training and for the check.
    pub train_rows: usize,
    /// See `train_rows`.
    pub holdout_rows: usize,
}

/// A trained logistic regression over standardised features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropensityModel {
    /// Per-feature means of the training rows.
    pub means: [f64; N],
    /// Per-feature standard deviations of the training rows (1 where constant).
    pub scales: [f64; N],
    /// Coefficients on standardised features.
    pub coefficients: [f64; N],
    /// Intercept.
    pub intercept: f64,
    /// Quality on the held-out sessions.
    pub quality: ModelQuality,
}

/// A feature's push on one attendee's probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonCode {
    /// The feature.
    pub feature: &'static str,
    /// The attendee's value.
    pub value: f64,
    /// Its contribution to the log-odds.
    pub contribution: f64,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl PropensityModel {
    fn log_odds(&self, features: &[f64; N]) -> f64 {
        self.intercept
            + (0..N)
                .map(|k| self.coefficients[k] * (features[k] - self.means[k]) / self.scales[k])
                .sum::<f64>()
    }

    /// Probability that the attendee buys within the window.
    pub fn probability(&self, features: &[f64; N]) -> f64 {
        sigmoid(self.log_odds(features))
    }

    /// The `k` features that raise this attendee's probability most.
    pub fn reasons(&self, features: &[f64; N], k: usize) -> Vec<ReasonCode> {
        let mut all: Vec<ReasonCode> = (0..N)
            .map(|i| ReasonCode {
                feature: FEATURES[i],
                value: features[i],
                contribution: self.coefficients[i] * (features[i] - self.means[i]) / self.scales[i],
            })
            .filter(|r| r.contribution > 0.0)
            .collect();
        all.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
        all.truncate(k);
        all
    }
}

/// Area under the ROC curve with tied scores counted as half (the Mann-Whitney statistic).
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let average = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = average;
        }
        i = j + 1;
    }
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    let rank_sum: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l)
        .map(|(r, _)| r)
        .sum();
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// L2-regularised logistic regression (smartcore's LBFGS): the coefficients and the intercept.
/// `alpha` is scikit-learn's `1 / C`; the intercept is not penalised, as in scikit-learn.
pub fn fit_logistic(
    x: &[Vec<f64>],
    y: &[bool],
    alpha: f64,
) -> Result<(Vec<f64>, f64), PropensityError> {
    let width = x.first().map_or(0, Vec::len);
    if x.is_empty() || x.len() != y.len() || x.iter().any(|row| row.len() != width) {
        return Err(PropensityError::Training(
            "the rows and labels do not line up".into(),
        ));
    }
    if y.iter().all(|&l| l) || !y.iter().any(|&l| l) {
        return Err(PropensityError::Training(
            "both buyers and non-buyers are needed".into(),
        ));
    }
    let matrix = DenseMatrix::from_2d_vec(&x.to_vec())
        .map_err(|e| PropensityError::Training(e.to_string()))?;
    // smartcore orders classes by value: 0 (did not buy) then 1 (bought), so 1 is the positive class.
    let labels: Vec<i32> = y.iter().map(|&l| i32::from(l)).collect();
    let params = LogisticRegressionParameters::default().with_alpha(alpha);
    let fitted = LogisticRegression::fit(&matrix, &labels, params)
        .map_err(|e| PropensityError::Training(e.to_string()))?;
    let coefficients = (0..width)
        .map(|k| *fitted.coefficients().get((0, k)))
        .collect();
    Ok((coefficients, *fitted.intercept().get((0, 0))))
}

/// Train on the older sessions' labelled rows and judge on the most recent quarter of sessions.
pub fn train(rows: &[AttendeeRow]) -> Result<PropensityModel, PropensityError> {
    let labelled: Vec<&AttendeeRow> = rows.iter().filter(|r| r.bought.is_some()).collect();
    let buyers = labelled.iter().filter(|r| r.bought == Some(true)).count();
    if labelled.len() < MIN_ROWS || buyers < MIN_BUYERS {
        return Err(PropensityError::TooLittleData {
            rows: labelled.len(),
            buyers,
        });
    }
    // Split by time, never at random: the model must predict sessions it has not seen.
    let mut starts: Vec<(i64, i64)> = labelled
        .iter()
        .map(|r| (r.session_started_at_ms, r.session_id))
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let cut = starts[(starts.len() * 3 / 4).min(starts.len().saturating_sub(1))];
    let (train_rows, holdout): (Vec<&AttendeeRow>, Vec<&AttendeeRow>) = labelled
        .iter()
        .partition(|r| (r.session_started_at_ms, r.session_id) < cut);
    for (set, missing) in [(&holdout, "buyer"), (&holdout, "non-buyer")] {
        let want = missing == "buyer";
        if !set.iter().any(|r| r.bought == Some(want)) {
            return Err(PropensityError::NoHoldoutContrast { missing });
        }
    }
    let train_buyers = train_rows.iter().filter(|r| r.bought == Some(true)).count();
    if train_buyers == 0 || train_buyers == train_rows.len() {
        return Err(PropensityError::TooLittleData {
            rows: train_rows.len(),
            buyers: train_buyers,
        });
    }

    let mut means = [0.0; N];
    let mut scales = [0.0; N];
    let n = train_rows.len() as f64;
    for k in 0..N {
        means[k] = train_rows.iter().map(|r| r.features[k]).sum::<f64>() / n;
        let var = train_rows
            .iter()
            .map(|r| (r.features[k] - means[k]).powi(2))
            .sum::<f64>()
            / n;
        scales[k] = if var > 1e-12 { var.sqrt() } else { 1.0 };
    }
    let x: Vec<Vec<f64>> = train_rows
        .iter()
        .map(|r| {
            (0..N)
                .map(|k| (r.features[k] - means[k]) / scales[k])
                .collect()
        })
        .collect();
    let y: Vec<bool> = train_rows.iter().map(|r| r.bought == Some(true)).collect();
    let (fitted, intercept) = fit_logistic(&x, &y, ALPHA)?;
    let mut coefficients = [0.0; N];
    coefficients.copy_from_slice(&fitted);
    let mut model = PropensityModel {
        means,
        scales,
        coefficients,
        intercept,
        quality: ModelQuality {
            auc: 0.0,
            brier: 0.0,
            calibration: vec![],
            train_rows: train_rows.len(),
            holdout_rows: holdout.len(),
        },
    };
    let predicted: Vec<f64> = holdout
        .iter()
        .map(|r| model.probability(&r.features))
        .collect();
    let labels: Vec<bool> = holdout.iter().map(|r| r.bought == Some(true)).collect();
    model.quality = holdout_quality(&predicted, &labels, train_rows.len());
    Ok(model)
}

/// AUC, Brier and 10-bin calibration of held-out predictions (logistic and forest alike).
pub(crate) fn holdout_quality(
    predicted: &[f64],
    labels: &[bool],
    train_rows: usize,
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
        auc: roc_auc(predicted, labels),
        brier,
        calibration,
        train_rows,
        holdout_rows: predicted.len(),
    }
}
