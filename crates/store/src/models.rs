//! Stored purchase-prediction models: one row per trained model, the newest of each kind used.
//!
//! The store does not know the models' types (they live in `lectern-insights`, which the store
//! does not depend on): it keeps the model as serde JSON with the caller's `format_version`, and
//! [`Store::latest_model`] reads it back into the caller's type. A row whose format version is
//! not the one asked for, or whose JSON no longer reads as that type (an older Lectern's layout,
//! a damaged row), comes back as [`LatestModel::NeedsRetraining`], never as an error or a panic:
//! the studio then offers to train again.
//!
//! Only the newest [`MODELS_KEPT`] models of each kind are kept; saving deletes older ones.

use rusqlite::{OptionalExtension, params};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Store, StoreError};

/// Largest stored model, in bytes of JSON.
pub const MAX_MODEL_BYTES: usize = 64 * 1024 * 1024;
/// Models kept per kind (the newest).
pub const MODELS_KEPT: i64 = 5;

/// Which kind of model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Logistic regression.
    Logistic,
    /// Random forest.
    Forest,
}

impl ModelKind {
    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Logistic => "logistic",
            ModelKind::Forest => "forest",
        }
    }
}

/// How good a model was on its held-out rows when it was trained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// Area under the ROC curve on the held-out rows.
    pub auc: f64,
    /// Brier score on the held-out rows.
    pub brier: f64,
    /// Labelled rows it learned from and was checked on.
    pub rows: u64,
    /// Buyers among them.
    pub buyers: u64,
}

/// A model to save.
#[derive(Debug, Clone, Copy)]
pub struct ModelSave<'a, T> {
    /// Its kind.
    pub kind: ModelKind,
    /// When it was trained (Unix ms).
    pub created_at_ms: i64,
    /// The oldest data it learned from (Unix ms).
    pub data_from_ms: i64,
    /// The newest data it learned from (Unix ms).
    pub data_to_ms: i64,
    /// Its quality.
    pub metrics: ModelMetrics,
    /// The layout version of `model`'s serde form, owned by the model's crate.
    pub format_version: u32,
    /// The model.
    pub model: &'a T,
}

/// A stored model's row, without the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    /// Row id.
    pub id: i64,
    /// Its kind.
    pub kind: ModelKind,
    /// 1, 2, 3, ... per kind, in the order they were saved.
    pub version: i64,
    /// When it was trained (Unix ms).
    pub created_at_ms: i64,
    /// The oldest data it learned from (Unix ms).
    pub data_from_ms: i64,
    /// The newest data it learned from (Unix ms).
    pub data_to_ms: i64,
    /// Its quality.
    pub metrics: ModelMetrics,
    /// The layout version it was saved with.
    pub format_version: i64,
}

/// A stored model that can no longer be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleModel {
    /// Row id.
    pub id: i64,
    /// Its kind.
    pub kind: ModelKind,
    /// Its version.
    pub version: i64,
    /// When it was trained (Unix ms).
    pub created_at_ms: i64,
    /// The layout version it was saved with.
    pub format_version: i64,
    /// Why it cannot be read, in words.
    pub reason: String,
}

/// The newest model of a kind, if any, and whether it can be used.
#[derive(Debug, Clone, PartialEq)]
pub enum LatestModel<T> {
    /// No model of this kind was ever saved.
    None,
    /// The newest model, read back.
    Ready {
        /// Its row.
        info: ModelInfo,
        /// The model.
        model: T,
    },
    /// The newest model is of another format or damaged: train again.
    NeedsRetraining(StaleModel),
}

impl<T> LatestModel<T> {
    /// A stable code: `none`, `ready` or `needs_retraining`.
    pub fn code(&self) -> &'static str {
        match self {
            LatestModel::None => "none",
            LatestModel::Ready { .. } => "ready",
            LatestModel::NeedsRetraining(_) => "needs_retraining",
        }
    }
}

impl Store {
    /// Saves a trained model as the newest of its kind and returns its row; keeps only the
    /// newest [`MODELS_KEPT`] of the kind.
    ///
    /// # Errors
    /// `invalid_input` for metrics that are not finite, a data span that ends before it starts,
    /// or a model larger than [`MAX_MODEL_BYTES`] as JSON.
    pub async fn save_model<T: Serialize>(
        &self,
        save: ModelSave<'_, T>,
    ) -> Result<ModelInfo, StoreError> {
        let m = save.metrics;
        if !(m.auc.is_finite() && m.brier.is_finite()) {
            return Err(StoreError::invalid(
                "a model's AUC and Brier score must be numbers",
            ));
        }
        if save.data_to_ms < save.data_from_ms {
            return Err(StoreError::invalid(
                "a model's data cannot end before it starts",
            ));
        }
        let blob = serde_json::to_vec(save.model)?;
        if blob.len() > MAX_MODEL_BYTES {
            return Err(StoreError::invalid(format!(
                "the model is {} MB as JSON; at most {} MB can be stored",
                blob.len().div_ceil(1024 * 1024),
                MAX_MODEL_BYTES / (1024 * 1024)
            )));
        }
        let metrics = serde_json::to_string(&m)?;
        let kind = save.kind;
        let (created, from, to) = (save.created_at_ms, save.data_from_ms, save.data_to_ms);
        let format_version = i64::from(save.format_version);
        self.write(move |tx| {
            let version: i64 = tx.query_row(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM models WHERE kind = ?1",
                [kind.as_str()],
                |r| r.get(0),
            )?;
            let id: i64 = tx.query_row(
                "INSERT INTO models (kind, version, created_at_ms, data_from_ms, data_to_ms,
                                     metrics, blob, format_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                params![
                    kind.as_str(),
                    version,
                    created,
                    from,
                    to,
                    metrics,
                    blob,
                    format_version
                ],
                |r| r.get(0),
            )?;
            tx.execute(
                "DELETE FROM models WHERE kind = ?1 AND version <= ?2",
                params![kind.as_str(), version - MODELS_KEPT],
            )?;
            Ok(ModelInfo {
                id,
                kind,
                version,
                created_at_ms: created,
                data_from_ms: from,
                data_to_ms: to,
                metrics: m,
                format_version,
            })
        })
        .await
    }

    /// The newest model of `kind`, read as `T` if it was saved with `format_version` and still
    /// reads; otherwise [`LatestModel::NeedsRetraining`] with the reason.
    pub async fn latest_model<T: DeserializeOwned + Send + 'static>(
        &self,
        kind: ModelKind,
        format_version: u32,
    ) -> Result<LatestModel<T>, StoreError> {
        self.read(move |conn| {
            type Row = (i64, i64, i64, i64, i64, String, Vec<u8>, i64);
            let row: Option<Row> = conn
                .prepare_cached(
                    "SELECT id, version, created_at_ms, data_from_ms, data_to_ms, metrics, blob,
                            format_version
                       FROM models WHERE kind = ?1 ORDER BY version DESC LIMIT 1",
                )?
                .query_row([kind.as_str()], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                })
                .optional()?;
            let Some((id, version, created_at_ms, data_from_ms, data_to_ms, metrics, blob, found)) =
                row
            else {
                return Ok(LatestModel::None);
            };
            let stale = |reason: String| {
                LatestModel::NeedsRetraining(StaleModel {
                    id,
                    kind,
                    version,
                    created_at_ms,
                    format_version: found,
                    reason,
                })
            };
            if found != i64::from(format_version) {
                return Ok(stale(format!(
                    "the model was saved in format {found}; this version of Lectern reads format \
                     {format_version}"
                )));
            }
            let metrics: ModelMetrics = match serde_json::from_str(&metrics) {
                Ok(m) => m,
                Err(e) => return Ok(stale(format!("its quality figures cannot be read ({e})"))),
            };
            let model: T = match serde_json::from_slice(&blob) {
                Ok(m) => m,
                Err(e) => return Ok(stale(format!("the stored model cannot be read ({e})"))),
            };
            Ok(LatestModel::Ready {
                info: ModelInfo {
                    id,
                    kind,
                    version,
                    created_at_ms,
                    data_from_ms,
                    data_to_ms,
                    metrics,
                    format_version: found,
                },
                model,
            })
        })
        .await
    }
}
