//! The stored forms of the purchase-prediction models: what goes into the school file's
//! `models` table as serde JSON, with the format version to store beside it.
//!
//! `propensity::PropensityModel` and `forest::ForestModel` are made for use, not for storage
//! (their quality report borrows `&'static` names and has no `Deserialize`), so these mirrors
//! carry the same numbers. Reading one back checks it: the feature list must be exactly today's
//! [`FEATURES`] and every number finite, so a model trained on another feature list or a
//! damaged one fails to deserialise, which the store reports as "needs retraining".
//!
//! ```
//! use lectern_insights::model_store::{LOGISTIC_FORMAT_VERSION, StoredLogistic};
//! # fn keep(model: &lectern_insights::propensity::PropensityModel) -> Result<(), serde_json::Error> {
//! let json = serde_json::to_string(&StoredLogistic::from_model(model))?; // stored with LOGISTIC_FORMAT_VERSION
//! let back: StoredLogistic = serde_json::from_str(&json)?;
//! let model = back.into_model();
//! # let _ = (model, LOGISTIC_FORMAT_VERSION); Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

use crate::forest::{self, Forest, ForestModel};
use crate::propensity::{CalibrationBin, FEATURES, ModelQuality, PropensityModel};

/// The layout version of [`StoredLogistic`].
pub const LOGISTIC_FORMAT_VERSION: u32 = 1;
/// The layout version of [`StoredForest`]: the forest's own [`forest::FORMAT_VERSION`], which
/// is bumped when either layout changes.
pub const FOREST_FORMAT_VERSION: u32 = forest::FORMAT_VERSION;

/// A model's quality as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredQuality {
    /// Area under the ROC curve on the held-out rows.
    pub auc: f64,
    /// Brier score on the held-out rows.
    pub brier: f64,
    /// `(from, to, count, predicted, observed)` of each calibration bin.
    pub calibration: Vec<(f64, f64, usize, f64, f64)>,
    /// Rows learned from.
    pub train_rows: usize,
    /// Rows judged on.
    pub holdout_rows: usize,
}

impl StoredQuality {
    fn from_quality(q: &ModelQuality) -> StoredQuality {
        StoredQuality {
            auc: q.auc,
            brier: q.brier,
            calibration: q
                .calibration
                .iter()
                .map(|b| (b.from, b.to, b.count, b.predicted, b.observed))
                .collect(),
            train_rows: q.train_rows,
            holdout_rows: q.holdout_rows,
        }
    }

    fn to_quality(&self) -> ModelQuality {
        ModelQuality {
            auc: self.auc,
            brier: self.brier,
            calibration: self
                .calibration
                .iter()
                .map(|&(from, to, count, predicted, observed)| CalibrationBin {
                    from,
                    to,
                    count,
                    predicted,
                    observed,
                })
                .collect(),
            train_rows: self.train_rows,
            holdout_rows: self.holdout_rows,
        }
    }
}

/// A logistic propensity model as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LogisticLayout")]
pub struct StoredLogistic {
    features: Vec<String>,
    means: Vec<f64>,
    scales: Vec<f64>,
    coefficients: Vec<f64>,
    intercept: f64,
    quality: StoredQuality,
}

#[derive(Deserialize)]
struct LogisticLayout {
    features: Vec<String>,
    means: Vec<f64>,
    scales: Vec<f64>,
    coefficients: Vec<f64>,
    intercept: f64,
    quality: StoredQuality,
}

/// Checks that a stored model was made for today's features.
fn check_features(features: &[String]) -> Result<(), String> {
    if features
        .iter()
        .map(String::as_str)
        .eq(FEATURES.iter().copied())
    {
        Ok(())
    } else {
        Err(format!(
            "the model was trained on the features {features:?}; this version uses {FEATURES:?}"
        ))
    }
}

impl TryFrom<LogisticLayout> for StoredLogistic {
    type Error = String;

    fn try_from(l: LogisticLayout) -> Result<StoredLogistic, String> {
        check_features(&l.features)?;
        let n = FEATURES.len();
        if l.means.len() != n || l.scales.len() != n || l.coefficients.len() != n {
            return Err("the model's arrays do not match its features".into());
        }
        let finite = l
            .means
            .iter()
            .chain(&l.coefficients)
            .chain(std::iter::once(&l.intercept))
            .all(|v| v.is_finite());
        if !finite || l.scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err("the model holds numbers that are not finite".into());
        }
        Ok(StoredLogistic {
            features: l.features,
            means: l.means,
            scales: l.scales,
            coefficients: l.coefficients,
            intercept: l.intercept,
            quality: l.quality,
        })
    }
}

impl StoredLogistic {
    /// The stored form of a trained model.
    pub fn from_model(model: &PropensityModel) -> StoredLogistic {
        StoredLogistic {
            features: FEATURES.iter().map(|f| (*f).to_owned()).collect(),
            means: model.means.to_vec(),
            scales: model.scales.to_vec(),
            coefficients: model.coefficients.to_vec(),
            intercept: model.intercept,
            quality: StoredQuality::from_quality(&model.quality),
        }
    }

    /// The model back, ready to score.
    pub fn into_model(self) -> PropensityModel {
        let quality = self.quality.to_quality();
        let array = |v: &[f64]| {
            let mut out = [0.0; FEATURES.len()];
            // Lengths were checked when this was read or made.
            for (o, x) in out.iter_mut().zip(v) {
                *o = *x;
            }
            out
        };
        PropensityModel {
            means: array(&self.means),
            scales: array(&self.scales),
            coefficients: array(&self.coefficients),
            intercept: self.intercept,
            quality,
        }
    }
}

/// A forest propensity model as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ForestModelLayout")]
pub struct StoredForest {
    forest: Forest,
    quality: StoredQuality,
}

#[derive(Deserialize)]
struct ForestModelLayout {
    forest: Forest,
    quality: StoredQuality,
}

impl TryFrom<ForestModelLayout> for StoredForest {
    type Error = String;

    fn try_from(l: ForestModelLayout) -> Result<StoredForest, String> {
        check_features(l.forest.feature_names())?;
        Ok(StoredForest {
            forest: l.forest,
            quality: l.quality,
        })
    }
}

impl StoredForest {
    /// The stored form of a trained forest.
    pub fn from_model(model: &ForestModel) -> StoredForest {
        StoredForest {
            forest: model.forest.clone(),
            quality: StoredQuality::from_quality(&model.quality),
        }
    }

    /// The model back, ready to score.
    pub fn into_model(self) -> ForestModel {
        ForestModel {
            quality: self.quality.to_quality(),
            forest: self.forest,
        }
    }
}
