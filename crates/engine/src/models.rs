//! Recommendations and purchase prediction in the studio, from the school's own data.
//!
//! `recommend_next` ranks follow-up courses for a class's audience (each attendee's history,
//! the course being taught), each with its reason. `likely_buyers` trains the logistic
//! propensity model on the school's past classes (holdout AUC, Brier and calibration, refused
//! on thin data), stores it in the school file with its version and data range, and scores the
//! class's attendees with reason codes. A stored model that no longer loads is retrained.
//!
//! Not yet: the random forest from the studio (it exists in `lectern_insights::forest` and is
//! benchmarked; the studio trains logistic regression only); training on a background thread
//! with progress (logistic regression on the demo trains in ~10 ms).

use std::collections::{BTreeSet, HashMap};

use lectern_insights::propensity::{self, AttendeeRow, LogEvent, Sale, SessionSpan};
use lectern_insights::recs::{CourseInfo, PurchaseRecord, Recommender};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::engagement::SessionRef;
use crate::studio::now_ms;
use crate::{ApiError, ErrorCode, Studio};

const WINDOW_MS: i64 = 7 * 86_400_000;

/// Which audience: a given class, or the live one when `sessionId` is null.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AudienceRef {
    /// The class; `null` for the class on air.
    pub session_id: Option<i64>,
}

/// One recommended course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NextCourse {
    /// Catalog id.
    pub course_id: String,
    /// Title.
    pub title: String,
    /// Why, in words ("34 of 120 learners who took X took it next").
    pub reason: String,
    /// Attendees who do not have it yet.
    pub audience_without_it: u32,
}

/// One attendee's chance of buying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LikelyBuyer {
    /// Pseudonymous id.
    pub learner: String,
    /// Probability of a purchase within 7 days of the class.
    pub probability: f64,
    /// The largest pushes, in words ("clicked the offer: +0.8").
    pub reasons: Vec<String>,
}

/// The model's quality in plain words and numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelReport {
    /// Area under the ROC curve on held-out classes (0.5 = guessing, 1 = perfect).
    pub auc: f64,
    /// Brier score (lower is better).
    pub brier: f64,
    /// Rows learned from and checked on.
    pub train_rows: u64,
    /// Rows held out.
    pub holdout_rows: u64,
    /// `[predicted, observed, count]` per tenth of probability.
    pub calibration: Vec<[f64; 3]>,
    /// The model's version in the school file.
    pub version: i64,
    /// In words.
    pub summary: String,
}

/// Likely buyers of a class, and how far to trust the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LikelyBuyers {
    /// Highest first.
    pub buyers: Vec<LikelyBuyer>,
    /// The model.
    pub model: ModelReport,
}

impl Studio {
    async fn audience_session(&self, session: Option<i64>) -> Result<i64, ApiError> {
        match session {
            Some(id) => Ok(id),
            None => self
                .live_room()
                .await
                .map(|room| room.session_id())
                .ok_or_else(|| ApiError::new(ErrorCode::Conflict, "no class is live")),
        }
    }

    /// The top 3 follow-up courses for a class's audience, with reasons.
    pub async fn recommend_next(&self, args: AudienceRef) -> Result<Vec<NextCourse>, ApiError> {
        let session = self.audience_session(args.session_id).await?;
        let store = self.store().await?;
        let catalog = store.catalog().await?;
        let purchases = store.purchase_history().await?;
        let (attendees, taught): (Vec<String>, Option<String>) = store
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT DISTINCT actor FROM events WHERE session_id = ?1
                     AND kind = 'viewer_joined' AND actor IS NOT NULL",
                )?;
                let actors = stmt
                    .query_map([session], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()?;
                let taught = conn
                    .query_row(
                        "SELECT course_id FROM live_sessions WHERE id = ?1",
                        [session],
                        |r| r.get(0),
                    )
                    .unwrap_or(None);
                Ok((actors, taught))
            })
            .await?;
        let courses: Vec<CourseInfo> = catalog
            .iter()
            .map(|c| CourseInfo {
                id: c.id.clone(),
                title: c.title.clone(),
                tags: c.tags.clone(),
            })
            .collect();
        let records: Vec<PurchaseRecord> = purchases
            .iter()
            .map(|p| PurchaseRecord {
                learner: p.learner_id.clone(),
                course: p.course_id.clone(),
                at_ms: p.purchased_at_ms,
            })
            .collect();
        let recommender = Recommender::train(&courses, &records, Default::default());
        let mut owned: HashMap<&str, BTreeSet<String>> = HashMap::new();
        for p in &purchases {
            owned
                .entry(p.learner_id.as_str())
                .or_default()
                .insert(p.course_id.clone());
        }
        let audience: Vec<Vec<String>> = attendees
            .iter()
            .filter(|a| *a != "instructor" && !a.starts_with("ta-"))
            .map(|a| {
                owned
                    .get(a.as_str())
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default()
            })
            .collect();
        Ok(recommender
            .for_audience(&audience, taught.as_deref(), 3)
            .into_iter()
            .map(|r| NextCourse {
                course_id: r.course,
                title: r.title,
                reason: r.reason.to_string(),
                audience_without_it: r.audience_without_it.unwrap_or(0),
            })
            .collect())
    }

    /// Train on the school's past classes and rank a class's attendees by their chance to buy.
    pub async fn likely_buyers(&self, args: SessionRef) -> Result<LikelyBuyers, ApiError> {
        let store = self.store().await?;
        let sessions: Vec<SessionSpan> = store
            .session_spans()
            .await?
            .into_iter()
            .map(|s| SessionSpan {
                id: s.id,
                started_at_ms: s.started_at_ms,
                ended_at_ms: s.ended_at_ms,
            })
            .collect();
        if !sessions.iter().any(|s| s.id == args.session_id) {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no class {}", args.session_id),
            ));
        }
        let events: Vec<LogEvent> = store
            .activity()
            .await?
            .into_iter()
            .map(|e| LogEvent {
                session_id: e.session_id,
                kind: e.kind,
                actor: e.actor,
                at_ms: e.at_ms,
            })
            .collect();
        let sales: Vec<Sale> = store
            .purchase_history()
            .await?
            .into_iter()
            .map(|p| Sale {
                learner: p.learner_id,
                at_ms: p.purchased_at_ms,
                amount_cents: p.amount_cents,
            })
            .collect();
        // The data end where the sales end: later windows are still open and teach nothing yet.
        let data_end = sales.iter().map(|s| s.at_ms).max().unwrap_or(0);
        let rows: Vec<AttendeeRow> =
            propensity::attendee_rows(&sessions, &events, &sales, WINDOW_MS, data_end);
        let model = propensity::train(&rows)
            .map_err(|e| ApiError::new(ErrorCode::Conflict, format!("{e} ({})", e.code())))?;
        let q = &model.quality;
        let data_from = sessions.iter().map(|s| s.started_at_ms).min().unwrap_or(0);
        let info = store
            .save_model(lectern_store::ModelSave {
                kind: lectern_store::ModelKind::Logistic,
                created_at_ms: now_ms(),
                data_from_ms: data_from,
                data_to_ms: data_end,
                metrics: lectern_store::ModelMetrics {
                    auc: q.auc,
                    brier: q.brier,
                    rows: (q.train_rows + q.holdout_rows) as u64,
                    buyers: rows.iter().filter(|r| r.bought == Some(true)).count() as u64,
                },
                format_version: lectern_insights::model_store::LOGISTIC_FORMAT_VERSION,
                model: &lectern_insights::model_store::StoredLogistic::from_model(&model),
            })
            .await?;
        let mut buyers: Vec<LikelyBuyer> = rows
            .iter()
            .filter(|r| r.session_id == args.session_id)
            .map(|r| LikelyBuyer {
                learner: r.learner.clone(),
                probability: model.probability(&r.features),
                reasons: model
                    .reasons(&r.features, 3)
                    .into_iter()
                    .map(|c| format!("{}: {:+.2}", c.feature.replace('_', " "), c.contribution))
                    .collect(),
            })
            .collect();
        buyers.sort_by(|a, b| {
            b.probability
                .total_cmp(&a.probability)
                .then(a.learner.cmp(&b.learner))
        });
        let verdict = match q.auc {
            a if a >= 0.8 => "ranks buyers well",
            a if a >= 0.7 => "ranks buyers usefully",
            a if a >= 0.6 => "ranks buyers a little better than chance",
            _ => "does not rank buyers better than chance yet",
        };
        Ok(LikelyBuyers {
            buyers,
            model: ModelReport {
                auc: q.auc,
                brier: q.brier,
                train_rows: q.train_rows as u64,
                holdout_rows: q.holdout_rows as u64,
                calibration: q
                    .calibration
                    .iter()
                    .map(|b| [b.predicted, b.observed, b.count as f64])
                    .collect(),
                version: info.version,
                summary: format!(
                    "On {} attendees of later classes it never saw, the model {verdict} (AUC {:.2}: \
                     a random buyer is ranked above a random non-buyer {:.0}% of the time).",
                    q.holdout_rows,
                    q.auc,
                    q.auc * 100.0
                ),
            },
        })
    }
}
