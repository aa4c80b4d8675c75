//! Who is likely to buy: the purchase propensity of a class's attendees, learned from the
//! school's own classes and sales, by a logistic regression (here, smartcore) or a random
//! forest (`crate::forest`), judged and explained the same way.
//!
//! Pure: the caller loads classes, log events and sales and passes them in, with the time up to
//! which sales are known.
//!
//! # A row and its label
//! A row is one learner in one class, made by [`attendee_rows`] with a [`Cut`]:
//! - **the cut** is an instant of each class: its end ([`Cut::SessionEnd`], to score a class
//!   that is over) or a fixed time after its start ([`Cut::Elapsed`], to score a class still
//!   running, so that every class learned from is cut at the same point of the hour as the one
//!   scored: training and scoring see the same kind of partial class);
//! - **features** count only what happened before the cut: watch time (join to leave, an open
//!   stay closed at the cut), chat messages, ballots, offer exposures and clicks, and the
//!   learner's purchases before the cut (count, days since the last, spend), and the classes
//!   they attended that started earlier;
//! - **the label** is a purchase of a course the learner did not own, made in
//!   `[cut, cut + window)`; it is unknown (`None`) while that window ends after the data's end.
//!   A purchase made in class before the cut is history, not a label, so an offer click cannot
//!   "predict" the purchase it led to;
//! - **owners are left out**: when the class names a course, a learner who bought it before the
//!   cut gets no row (neither learned from nor scored; counted in
//!   [`AttendeeRows::owners_left_out`]); they are not prospects for it.
//!
//! # Learning and checking
//! [`train`] (and `forest::train_forest`) split the labelled rows in time: the latest quarter of
//! classes is held out for the check; older rows are learned from only when their label window
//! ends by the start of the first held-out class, so nothing learned happened during the check
//! (the others are counted in [`ModelQuality::gap_rows`]). Training is refused with
//! [`PropensityError::TooLittleData`] unless it has at least [`MIN_BUYERS`] buyers and as many
//! non-buyers ([`MIN_PER_FEATURE`] per feature). The check reports the AUC with a 95% DeLong
//! interval, and the words for it ([`Ranking`]) come from the interval's lower bound.
//!
//! # Reasons
//! Both models explain a probability the same way, in percentage points: a [`Reason`]'s
//! `points` is `100 x (p(x) - p(x with that feature at its training mean))`; the largest
//! positive pushes are the reasons.
//!
//! smartcore has no `predict_proba`: the probability is the sigmoid of the coefficients and the
//! intercept, computed here. Features are standardised with the training rows' means and
//! deviations.

mod quality;
mod rows;
mod split;

use serde::Serialize;
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

pub use quality::{Auc, CalibrationBin, ModelQuality, Ranking, auc_with_interval, roc_auc};
pub use rows::{
    AttendeeRow, AttendeeRows, Cut, FEATURES, LogEvent, Participation, Sale, SessionSpan,
    attendee_rows,
};

pub(crate) use quality::holdout_quality;
pub(crate) use rows::N;
pub(crate) use split::split;

/// Buyers (and non-buyers) needed to learn from, per feature: the "ten events per variable"
/// rule of thumb for logistic regression.
pub const MIN_PER_FEATURE: usize = 10;
/// Fewest buyers, and fewest non-buyers, among the rows learned from.
pub const MIN_BUYERS: usize = MIN_PER_FEATURE * N;
/// Pushes smaller than this (percentage points) are not given as reasons.
pub const MIN_REASON_POINTS: f64 = 0.1;
/// L2 strength (smartcore's `alpha` is scikit-learn's `1 / C`; C = 1 is sklearn's default).
const ALPHA: f64 = 1.0;

/// Why a model cannot be trained.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PropensityError {
    /// Not enough history to learn from.
    #[error(
        "too little history to predict purchases: the older classes give {buyers} buyers and \
         {non_buyers} non-buyers to learn from, and at least {MIN_BUYERS} of each are needed \
         ({MIN_PER_FEATURE} for each of the {N} things the model weighs){}; teach more classes, \
         or import the sales of past ones",
        gap_words(*.gap_rows)
    )]
    TooLittleData {
        /// Buyers among the rows that could be learned from.
        buyers: usize,
        /// Non-buyers among them.
        non_buyers: usize,
        /// Rows left out because their window reaches into the held-out classes.
        gap_rows: usize,
    },
    /// The held-out classes have no buyer or no non-buyer, so the model cannot be judged.
    #[error("the most recent classes have no {missing}, so the model cannot be checked on them")]
    NoHoldoutContrast {
        /// "buyer" or "non-buyer".
        missing: &'static str,
    },
    /// The solver failed.
    #[error("training failed: {0}")]
    Training(String),
}

fn gap_words(gap_rows: usize) -> String {
    if gap_rows == 0 {
        String::new()
    } else {
        format!(
            " ({gap_rows} attendees of the classes just before the checked ones are not learned \
             from: their purchase window reaches into the checked classes)"
        )
    }
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

/// A feature's push on one attendee's probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// The feature (one of [`FEATURES`]).
    pub feature: &'static str,
    /// The attendee's value.
    pub value: f64,
    /// Percentage points the probability is above what it would be with this feature at its
    /// training mean (the other features as they are).
    pub points: f64,
}

/// The `k` largest positive pushes of `features` on `probability`, each feature replaced in
/// turn by its training mean.
pub(crate) fn reasons(
    probability: impl Fn(&[f64; N]) -> f64,
    features: &[f64; N],
    means: &[f64; N],
    k: usize,
) -> Vec<Reason> {
    let p = probability(features);
    let mut all: Vec<Reason> = (0..N)
        .map(|i| {
            let mut neutral = *features;
            neutral[i] = means[i];
            Reason {
                feature: FEATURES[i],
                value: features[i],
                points: 100.0 * (p - probability(&neutral)),
            }
        })
        .filter(|r| r.points >= MIN_REASON_POINTS)
        .collect();
    all.sort_by(|a, b| b.points.total_cmp(&a.points));
    all.truncate(k);
    all
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
    /// Where the classes it learned from were cut: score rows cut the same way.
    pub cut: Cut,
    /// The label window it learned (ms).
    pub window_ms: i64,
    /// Quality on the held-out classes.
    pub quality: ModelQuality,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl PropensityModel {
    /// Probability that the attendee buys a course they do not own within the window from the
    /// cut.
    pub fn probability(&self, features: &[f64; N]) -> f64 {
        let log_odds = self.intercept
            + (0..N)
                .map(|k| self.coefficients[k] * (features[k] - self.means[k]) / self.scales[k])
                .sum::<f64>();
        sigmoid(log_odds)
    }

    /// The `k` features that raise this attendee's probability most, in percentage points.
    pub fn reasons(&self, features: &[f64; N], k: usize) -> Vec<Reason> {
        reasons(|x| self.probability(x), features, &self.means, k)
    }
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

/// Trains on the older classes' labelled rows and judges on the latest quarter of classes (see
/// the module's "Learning and checking").
pub fn train(rows: &AttendeeRows) -> Result<PropensityModel, PropensityError> {
    let split = split(rows)?;
    let (x, y) = split.train_xy();
    let means = split.train_means();
    let n = x.len() as f64;
    let mut scales = [1.0; N];
    for (k, scale) in scales.iter_mut().enumerate() {
        let var = x.iter().map(|r| (r[k] - means[k]).powi(2)).sum::<f64>() / n;
        if var > 1e-12 {
            *scale = var.sqrt();
        }
    }
    let z: Vec<Vec<f64>> = x
        .iter()
        .map(|r| (0..N).map(|k| (r[k] - means[k]) / scales[k]).collect())
        .collect();
    let (fitted, intercept) = fit_logistic(&z, &y, ALPHA)?;
    let mut coefficients = [0.0; N];
    coefficients.copy_from_slice(&fitted);
    let mut model = PropensityModel {
        means,
        scales,
        coefficients,
        intercept,
        cut: rows.cut,
        window_ms: rows.window_ms,
        quality: holdout_quality(&[], &[], split.provenance.clone()),
    };
    let predicted: Vec<f64> = split
        .holdout
        .iter()
        .map(|r| model.probability(&r.features))
        .collect();
    model.quality = holdout_quality(&predicted, &split.holdout_labels(), split.provenance);
    Ok(model)
}
