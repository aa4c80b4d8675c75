//! The stored forms of the purchase-prediction models: what goes into the school file's
//! `models` table as serde JSON, with the format version to store beside it.
//!
//! `propensity::PropensityModel` and `forest::ForestModel` are made for use, not for storage
//! (their feature lists are fixed-size arrays and nothing checks them), so these mirrors carry
//! the same numbers. Reading one back checks it: the feature list must be exactly today's
//! [`FEATURES`] and every number finite, so a model trained on another feature list or a
//! damaged one fails to deserialise, which the store reports as "needs retraining".
//!
//! Version 2 (both): features cut before the label window, the window's cut and length, the AUC
//! interval and the split's provenance in the quality, and the forest's training means.
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
use crate::propensity::{Cut, FEATURES, ModelQuality, N, PropensityModel};

/// The layout version of [`StoredLogistic`].
pub const LOGISTIC_FORMAT_VERSION: u32 = 2;
/// The layout version of [`StoredForest`]: the forest's own [`forest::FORMAT_VERSION`], which
/// is bumped when either layout changes.
pub const FOREST_FORMAT_VERSION: u32 = forest::FORMAT_VERSION;

/// A logistic propensity model as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LogisticLayout")]
pub struct StoredLogistic {
    features: Vec<String>,
    means: Vec<f64>,
    scales: Vec<f64>,
    coefficients: Vec<f64>,
    intercept: f64,
    cut: Cut,
    window_ms: i64,
    quality: ModelQuality,
}

#[derive(Deserialize)]
struct LogisticLayout {
    features: Vec<String>,
    means: Vec<f64>,
    scales: Vec<f64>,
    coefficients: Vec<f64>,
    intercept: f64,
    cut: Cut,
    window_ms: i64,
    quality: ModelQuality,
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

/// Checks one array of a stored model: one finite value per feature.
fn check_array(name: &str, values: &[f64]) -> Result<[f64; N], String> {
    let array: [f64; N] = values
        .try_into()
        .map_err(|_| format!("the model's {name} do not match its features"))?;
    if array.iter().all(|v| v.is_finite()) {
        Ok(array)
    } else {
        Err(format!(
            "the model's {name} hold numbers that are not finite"
        ))
    }
}

fn check_window(window_ms: i64) -> Result<(), String> {
    if window_ms > 0 {
        Ok(())
    } else {
        Err(format!(
            "the model's label window ({window_ms} ms) is not positive"
        ))
    }
}

impl TryFrom<LogisticLayout> for StoredLogistic {
    type Error = String;

    fn try_from(l: LogisticLayout) -> Result<StoredLogistic, String> {
        check_features(&l.features)?;
        check_array("means", &l.means)?;
        check_array("coefficients", &l.coefficients)?;
        let scales = check_array("scales", &l.scales)?;
        if !l.intercept.is_finite() || scales.iter().any(|s| *s <= 0.0) {
            return Err(
                "the model holds a non-finite intercept or a scale that is not positive".into(),
            );
        }
        check_window(l.window_ms)?;
        Ok(StoredLogistic {
            features: l.features,
            means: l.means,
            scales: l.scales,
            coefficients: l.coefficients,
            intercept: l.intercept,
            cut: l.cut,
            window_ms: l.window_ms,
            quality: l.quality,
        })
    }
}

/// An array checked when it was read or made.
fn array(values: &[f64]) -> [f64; N] {
    let mut out = [0.0; N];
    for (o, x) in out.iter_mut().zip(values) {
        *o = *x;
    }
    out
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
            cut: model.cut,
            window_ms: model.window_ms,
            quality: model.quality.clone(),
        }
    }

    /// The model back, ready to score.
    pub fn into_model(self) -> PropensityModel {
        PropensityModel {
            means: array(&self.means),
            scales: array(&self.scales),
            coefficients: array(&self.coefficients),
            intercept: self.intercept,
            cut: self.cut,
            window_ms: self.window_ms,
            quality: self.quality,
        }
    }
}

/// A forest propensity model as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ForestModelLayout")]
pub struct StoredForest {
    forest: Forest,
    means: Vec<f64>,
    cut: Cut,
    window_ms: i64,
    quality: ModelQuality,
}

#[derive(Deserialize)]
struct ForestModelLayout {
    forest: Forest,
    means: Vec<f64>,
    cut: Cut,
    window_ms: i64,
    quality: ModelQuality,
}

impl TryFrom<ForestModelLayout> for StoredForest {
    type Error = String;

    fn try_from(l: ForestModelLayout) -> Result<StoredForest, String> {
        check_features(l.forest.feature_names())?;
        check_array("means", &l.means)?;
        check_window(l.window_ms)?;
        Ok(StoredForest {
            forest: l.forest,
            means: l.means,
            cut: l.cut,
            window_ms: l.window_ms,
            quality: l.quality,
        })
    }
}

impl StoredForest {
    /// The stored form of a trained forest.
    pub fn from_model(model: &ForestModel) -> StoredForest {
        StoredForest {
            forest: model.forest.clone(),
            means: model.means.to_vec(),
            cut: model.cut,
            window_ms: model.window_ms,
            quality: model.quality.clone(),
        }
    }

    /// Whether it learned from rows cut at `cut` and labelled over `window_ms` (without
    /// rebuilding the model to ask).
    pub fn learned_with(&self, cut: Cut, window_ms: i64) -> bool {
        self.cut == cut && self.window_ms == window_ms
    }

    /// The model back, ready to score.
    pub fn into_model(self) -> ForestModel {
        ForestModel {
            means: array(&self.means),
            cut: self.cut,
            window_ms: self.window_ms,
            quality: self.quality,
            forest: self.forest,
        }
    }
}
