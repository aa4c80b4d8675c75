//! Recommendations and purchase prediction in the studio, from the school's own data.
//!
//! Viewers are matched to the shop's learners by the school's one map ([`crate::identity`]), so
//! a live attendee who came by their personal join link or linked an email brings their history.
//! `recommend_next` ranks follow-up courses for a class's audience (each attendee's history,
//! the course being taught), each with its reason; a skill-tagged quiz of the class that at least
//! 30% of ballots got wrong lifts the courses whose tags include that skill to the top.
//! `recommend_for_course` gives the courses to follow one course, by the same recommender.
//! `likely_buyers` trains a propensity model on the school's past classes (holdout AUC, Brier
//! and calibration, refused on thin data), stores it in the school file with its version and
//! data range, and scores the class's attendees with reason codes. Staff (the instructor, `ta-*`) are left out of the rows: they are never buyers.
//!
//! Two models: logistic regression (the default; ~10 ms on the demo, trained on every call) and
//! a random forest (`lectern_insights::forest`), trained on a blocking thread with a
//! `training_progress` event per tree, and reused while the data it learned from (range, rows,
//! buyers) is unchanged; a stored forest that no longer loads is retrained. A forest's reason
//! codes of both models are how much each feature raises the probability over the attendee's
//! value replaced by the training mean, in percentage points. Each likely buyer who is a known
//! learner also gets their own next course.

use std::collections::HashMap;
use std::sync::Arc;

use lectern_insights::forest::{self, ForestModel, ForestParams};
use lectern_insights::model_store;
use lectern_insights::propensity::{
    self, AttendeeRow, AttendeeRows, Cut, LogEvent, ModelQuality, Reason, Sale, SessionSpan,
};
use lectern_insights::recs::{CourseInfo, Method, PurchaseRecord, Recommender};
use lectern_room::EventKind;
use lectern_store::LatestModel;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::StudioEvent;
use crate::studio::now_ms;
use crate::{ApiError, ErrorCode, Studio};

const WINDOW_MS: i64 = 7 * 86_400_000;
/// A running class's cut is rounded down to this step.
const CUT_STEP_MS: i64 = 5 * 60_000;

use crate::identity::is_staff;

/// Which audience: a given class, or the live one when `sessionId` is null.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AudienceRef {
    /// The class; `null` for the class on air.
    pub session_id: Option<i64>,
}

/// A course of the catalog.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CourseRef {
    /// Catalog id.
    pub course_id: String,
}

/// A course to take after another one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FollowUp {
    /// Catalog id.
    pub course_id: String,
    /// Title.
    pub title: String,
    /// Why, in words ("34 of 120 learners who took X took it next").
    pub reason: String,
}

/// A skill a class's quiz found missing.
struct SkillGap {
    skill: String,
    ballots: u32,
    wrong: u32,
}

/// Which model ranks the buyers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum BuyerModel {
    /// Logistic regression: fast; reasons in percentage points, as the forest's.
    #[default]
    Logistic,
    /// A random forest of 100 trees: trained in the background with progress, then reused.
    Forest,
}

/// Likely buyers of a class, by a chosen model.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuyersRequest {
    /// The class.
    pub session_id: i64,
    /// The model; logistic when absent.
    #[serde(default)]
    #[ts(optional)]
    pub model: Option<BuyerModel>,
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
    /// The school's learner id when the viewer is linked to one (personal join link, consented
    /// email, reference code), else the pseudonymous viewer id.
    pub learner: String,
    /// Whether `learner` is the school's learner (their purchase history is known).
    pub linked: bool,
    /// Probability of buying a course they do not own within 7 days after the class (or, for
    /// a class still running, after now).
    pub probability: f64,
    /// The largest pushes, in words ("offer clicks: +4.2 points").
    pub reasons: Vec<String>,
    /// The course to offer them next, from their own history (linked learners only).
    pub next_course: Option<String>,
}

/// The model's quality in plain words and numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelReport {
    /// Area under the ROC curve on held-out classes (0.5 = guessing, 1 = perfect).
    pub auc: f64,
    /// Its 95% DeLong interval, low end: the words are chosen by it.
    pub auc_low: f64,
    /// Its 95% DeLong interval, high end.
    pub auc_high: f64,
    /// Brier score (lower is better).
    pub brier: f64,
    /// Rows learned from and checked on.
    pub train_rows: u64,
    /// Rows held out.
    pub holdout_rows: u64,
    /// `[predicted, observed, count]` per tenth of probability.
    pub calibration: Vec<[f64; 3]>,
    /// Which model.
    pub kind: BuyerModel,
    /// The model's version in the school file.
    pub version: i64,
    /// True when a stored model was reused instead of trained now (the data had not changed).
    pub reused: bool,
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
                     AND kind = ?2 AND actor IS NOT NULL",
                )?;
                let actors = stmt
                    .query_map((session, EventKind::ViewerJoined.name()), |r| r.get(0))?
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
        let recommender = self.recommender(store.path(), &catalog, &purchases);
        // Each learner's courses, oldest first (the blend weighs the latest one).
        let mut owned: HashMap<&str, Vec<String>> = HashMap::new();
        for p in &purchases {
            let courses = owned.entry(p.learner_id.as_str()).or_default();
            if !courses.contains(&p.course_id) {
                courses.push(p.course_id.clone());
            }
        }
        // Each attendee's history: the learner they are in the shop (personal join link,
        // consented email, reference code), or none yet.
        let identities = self.identities().await?;
        let audience: Vec<Vec<String>> = attendees
            .iter()
            .filter(|a| !is_staff(a))
            .map(|a| {
                owned
                    .get(identities.resolve(a))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        let mut ranked: Vec<NextCourse> = recommender
            .for_audience(&audience, taught.as_deref(), catalog.len())
            .into_iter()
            .map(|r| NextCourse {
                course_id: r.course,
                title: r.title,
                reason: r.reason.to_string(),
                audience_without_it: r.audience_without_it.unwrap_or(0),
            })
            .collect();
        // Skills the class's quizzes found missing lift the courses that teach them to the top,
        // the most missed skill first; the others keep the recommender's order.
        let gaps = self.skill_gaps(session).await?;
        let mut boosted: Vec<NextCourse> = vec![];
        for gap in &gaps {
            let teaches = |c: &NextCourse| {
                catalog.iter().any(|k| {
                    k.id == c.course_id && k.tags.iter().any(|t| t.eq_ignore_ascii_case(&gap.skill))
                })
            };
            while let Some(at) = ranked.iter().position(teaches) {
                let mut course = ranked.remove(at);
                course.reason = format!(
                    "{} of {} answered the quiz on {} wrongly; this course teaches it",
                    gap.wrong, gap.ballots, gap.skill
                );
                boosted.push(course);
            }
        }
        boosted.extend(ranked);
        boosted.truncate(3);
        Ok(boosted)
    }

    /// The top 5 courses to follow `courseId`, with reasons, by the recommender of
    /// `recommend_next` (for one learner who has taken just that course).
    pub async fn recommend_for_course(&self, args: CourseRef) -> Result<Vec<FollowUp>, ApiError> {
        let store = self.store().await?;
        let catalog = store.catalog().await?;
        if !catalog.iter().any(|c| c.id == args.course_id) {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no course {} in the catalog", args.course_id),
            ));
        }
        let purchases = store.purchase_history().await?;
        let recommender = self.recommender(store.path(), &catalog, &purchases);
        Ok(recommender
            .for_learner(std::slice::from_ref(&args.course_id), Method::Blend, 5)
            .into_iter()
            .filter(|r| r.course != args.course_id)
            .map(|r| FollowUp {
                course_id: r.course,
                title: r.title,
                reason: r.reason.to_string(),
            })
            .collect())
    }

    /// Skill-tagged quizzes of a class that at least 30% of the audience's ballots got wrong,
    /// the largest share first.
    async fn skill_gaps(&self, session: i64) -> Result<Vec<SkillGap>, ApiError> {
        let store = self.store().await?;
        let payloads: Vec<String> = store
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT payload FROM events WHERE session_id = ?1
                     AND kind IN (?2, ?3) ORDER BY seq",
                )?;
                let rows = stmt
                    .query_map(
                        (
                            session,
                            EventKind::PollCreated.name(),
                            EventKind::BallotCast.name(),
                        ),
                        |r| r.get(0),
                    )?
                    .collect::<Result<Vec<String>, _>>()?;
                Ok(rows)
            })
            .await?;
        // poll -> (skill, correct choices, ballots, wrong ones)
        let mut quizzes: HashMap<u64, (String, Vec<u8>, u32, u32)> = HashMap::new();
        for text in payloads {
            // A record this version cannot read teaches nothing about skills; skip it.
            let Ok(record) = serde_json::from_str::<lectern_room::Recorded>(&text) else {
                continue;
            };
            match record.event {
                lectern_room::Event::PollCreated { poll } => {
                    if let (Some(skill), Some(correct)) = (poll.spec.skill, poll.spec.correct) {
                        quizzes.insert(poll.id.0, (skill, correct, 0, 0));
                    }
                }
                lectern_room::Event::BallotCast { poll, ballot, .. } => {
                    if is_staff(&ballot.viewer.0) {
                        continue;
                    }
                    if let Some((_, correct, ballots, wrong)) = quizzes.get_mut(&poll.0) {
                        *ballots += 1;
                        if ballot.choices != *correct {
                            *wrong += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        let mut gaps: Vec<SkillGap> = quizzes
            .into_values()
            .filter(|(_, _, ballots, wrong)| *ballots > 0 && wrong * 10 >= ballots * 3)
            .map(|(skill, _, ballots, wrong)| SkillGap {
                skill,
                ballots,
                wrong,
            })
            .collect();
        gaps.sort_by(|a, b| {
            (u64::from(b.wrong) * u64::from(a.ballots))
                .cmp(&(u64::from(a.wrong) * u64::from(b.ballots)))
                .then(a.skill.cmp(&b.skill))
        });
        Ok(gaps)
    }

    /// Train on the school's past classes (or reuse a stored forest) and rank a class's
    /// attendees by their chance to buy.
    pub async fn likely_buyers(&self, args: BuyersRequest) -> Result<LikelyBuyers, ApiError> {
        let kind = args.model.unwrap_or_default();
        let store = self.store().await?;
        let sessions: Vec<SessionSpan> = store
            .session_spans()
            .await?
            .into_iter()
            .map(|s| SessionSpan {
                id: s.id,
                started_at_ms: s.started_at_ms,
                ended_at_ms: s.ended_at_ms,
                course_id: s.course_id,
            })
            .collect();
        let Some(class) = sessions.iter().find(|s| s.id == args.session_id).cloned() else {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no class {}", args.session_id),
            ));
        };
        // A class still running is scored on what happened so far, and the model learns from
        // past classes cut at the same point (rounded to 5 minutes, so a stored forest serves
        // a while).
        let cut = match class.ended_at_ms {
            Some(_) => Cut::SessionEnd,
            None => {
                let elapsed = (now_ms() - class.started_at_ms).max(0);
                Cut::Elapsed((elapsed / CUT_STEP_MS).max(1) * CUT_STEP_MS)
            }
        };
        // Viewers become the learners they are in the shop, so their purchases meet their
        // classes; staff are left out of the rows, neither learned from nor ranked.
        let identities = self.identities().await?;
        let events: Vec<LogEvent> = store
            .activity()
            .await?
            .into_iter()
            .filter(|e| !e.actor.as_deref().is_some_and(is_staff))
            .map(|e| LogEvent {
                session_id: e.session_id,
                counted: crate::activities::participation(&e.kind),
                actor: e.actor.map(|a| identities.resolve(&a).to_owned()),
                at_ms: e.at_ms,
            })
            .collect();
        let purchases = store.purchase_history().await?;
        let sales: Vec<Sale> = purchases
            .iter()
            .map(|p| Sale {
                learner: p.learner_id.clone(),
                course_id: p.course_id.clone(),
                at_ms: p.purchased_at_ms,
                amount_cents: p.amount_cents,
            })
            .collect();
        // The data end where the sales end: later windows are still open and teach nothing yet.
        let data_end = sales.iter().map(|s| s.at_ms).max().unwrap_or(0);
        let rows = propensity::attendee_rows(&sessions, &events, &sales, cut, WINDOW_MS, data_end);
        let data_from = sessions.iter().map(|s| s.started_at_ms).min().unwrap_or(0);
        let (buyer_rows, non_buyer_rows) = rows.labelled();
        let (buyer_rows, labelled) = (buyer_rows as u64, (buyer_rows + non_buyer_rows) as u64);
        let refuse = |e: propensity::PropensityError| {
            ApiError::new(ErrorCode::Conflict, format!("{e} ({})", e.code()))
        };
        let class_rows: Vec<&AttendeeRow> = rows.of_session(args.session_id).collect();
        let (scored, quality, version, reused): (Vec<Scored<'_>>, ModelQuality, i64, bool) =
            match kind {
                BuyerModel::Logistic => {
                    let model = propensity::train(&rows).map_err(refuse)?;
                    let q = &model.quality;
                    let info = store
                        .save_model(lectern_store::ModelSave {
                            kind: lectern_store::ModelKind::Logistic,
                            created_at_ms: now_ms(),
                            data_from_ms: data_from,
                            data_to_ms: data_end,
                            metrics: lectern_store::ModelMetrics {
                                auc: q.auc.estimate,
                                brier: q.brier,
                                rows: labelled,
                                buyers: buyer_rows,
                            },
                            format_version: model_store::LOGISTIC_FORMAT_VERSION,
                            model: &model_store::StoredLogistic::from_model(&model),
                        })
                        .await?;
                    let scored = class_rows
                        .iter()
                        .map(|r| {
                            (
                                *r,
                                model.probability(&r.features),
                                model.reasons(&r.features, 3),
                            )
                        })
                        .collect();
                    (scored, model.quality, info.version, false)
                }
                BuyerModel::Forest => {
                    let stored = store
                        .latest_model::<model_store::StoredForest>(
                            lectern_store::ModelKind::Forest,
                            model_store::FOREST_FORMAT_VERSION,
                        )
                        .await?;
                    let (model, version, reused) = match stored {
                        LatestModel::Ready { info, model }
                            if info.data_from_ms == data_from
                                && info.data_to_ms == data_end
                                && info.metrics.rows == labelled
                                && info.metrics.buyers == buyer_rows
                                && model.learned_with(cut, WINDOW_MS) =>
                        {
                            (model.into_model(), info.version, true)
                        }
                        _ => {
                            let model = self.train_forest(rows.clone()).await?.map_err(refuse)?;
                            let q = &model.quality;
                            let info = store
                                .save_model(lectern_store::ModelSave {
                                    kind: lectern_store::ModelKind::Forest,
                                    created_at_ms: now_ms(),
                                    data_from_ms: data_from,
                                    data_to_ms: data_end,
                                    metrics: lectern_store::ModelMetrics {
                                        auc: q.auc.estimate,
                                        brier: q.brier,
                                        rows: labelled,
                                        buyers: buyer_rows,
                                    },
                                    format_version: model_store::FOREST_FORMAT_VERSION,
                                    model: &model_store::StoredForest::from_model(&model),
                                })
                                .await?;
                            (model, info.version, false)
                        }
                    };
                    let scored = class_rows
                        .iter()
                        .map(|r| {
                            (
                                *r,
                                model.probability(&r.features),
                                model.reasons(&r.features, 3),
                            )
                        })
                        .collect();
                    (scored, model.quality, version, reused)
                }
            };
        // Each linked attendee's own next course, from their history.
        let catalog = store.catalog().await?;
        let recommender = self.recommender(store.path(), &catalog, &purchases);
        let mut owned: HashMap<&str, Vec<String>> = HashMap::new();
        for p in &purchases {
            owned
                .entry(p.learner_id.as_str())
                .or_default()
                .push(p.course_id.clone());
        }
        let taught: Vec<String> = class.course_id.iter().cloned().collect();
        let mut buyers: Vec<LikelyBuyer> = scored
            .into_iter()
            .map(|(r, probability, reasons)| {
                let history = owned.get(r.learner.as_str());
                let next_course = history.and_then(|h| {
                    let mut have = h.clone();
                    have.extend(taught.iter().cloned());
                    recommender
                        .for_learner(&have, Method::Blend, 1)
                        .into_iter()
                        .next()
                        .map(|c| c.title)
                });
                LikelyBuyer {
                    learner: r.learner.clone(),
                    linked: !r.learner.starts_with("v-"),
                    probability,
                    reasons: reasons.iter().map(reason_words).collect(),
                    next_course,
                }
            })
            .collect();
        buyers.sort_by(|a, b| {
            b.probability
                .total_cmp(&a.probability)
                .then(a.learner.cmp(&b.learner))
        });
        let q = &quality;
        let name = match kind {
            BuyerModel::Logistic => "the model",
            BuyerModel::Forest => "the random forest",
        };
        Ok(LikelyBuyers {
            buyers,
            model: ModelReport {
                auc: q.auc.estimate,
                auc_low: q.auc.low,
                auc_high: q.auc.high,
                brier: q.brier,
                train_rows: q.train_rows as u64,
                holdout_rows: q.holdout_rows as u64,
                calibration: q
                    .calibration
                    .iter()
                    .map(|b| [b.predicted, b.observed, b.count as f64])
                    .collect(),
                kind,
                version,
                reused,
                summary: q.summary(name),
            },
        })
    }

    /// Grows the forest on a blocking thread, sending `training_progress` after each tree.
    async fn train_forest(
        &self,
        rows: AttendeeRows,
    ) -> Result<Result<ForestModel, propensity::PropensityError>, ApiError> {
        let studio = self.clone();
        tokio::task::spawn_blocking(move || {
            forest::train_forest(&rows, &ForestParams::default(), |done, total| {
                studio.emit(StudioEvent::TrainingProgress {
                    model: BuyerModel::Forest,
                    done: done as u64,
                    total: total as u64,
                });
            })
        })
        .await
        .map_err(|e| ApiError::internal(format!("training the forest: {e}")))
    }
}

/// One attendee's row, their chance to buy and its reasons.
type Scored<'a> = (&'a AttendeeRow, f64, Vec<Reason>);

/// A reason in words: "offer clicks: +4.2 points" (percentage points of the chance to buy).
fn reason_words(reason: &Reason) -> String {
    format!(
        "{}: {:+.1} points",
        reason.feature.replace('_', " "),
        reason.points
    )
}

/// The last recommender trained, keyed by what it learned from.
#[derive(Default)]
pub(crate) struct RecommenderCache(std::sync::Mutex<Option<(RecommenderKey, Arc<Recommender>)>>);

/// What a recommender learned from: the school, the catalog and the purchases, in short.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RecommenderKey {
    school: String,
    courses: Vec<(String, Vec<String>)>,
    purchases: usize,
    last_ms: i64,
    fingerprint: u64,
}

impl RecommenderKey {
    fn of(
        school: &std::path::Path,
        catalog: &[lectern_store::CatalogCourse],
        purchases: &[lectern_store::PurchaseLine],
    ) -> RecommenderKey {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for p in purchases {
            (&p.learner_id, &p.course_id, p.purchased_at_ms).hash(&mut hasher);
        }
        RecommenderKey {
            school: school.display().to_string(),
            courses: catalog
                .iter()
                .map(|c| (c.id.clone(), c.tags.clone()))
                .collect(),
            purchases: purchases.len(),
            last_ms: purchases
                .iter()
                .map(|p| p.purchased_at_ms)
                .max()
                .unwrap_or(0),
            fingerprint: hasher.finish(),
        }
    }
}

impl Studio {
    /// The recommender over the school's catalog and purchases: the cached one while they are
    /// unchanged, else trained now (its weights chosen on the history's own validation windows).
    fn recommender(
        &self,
        school: &std::path::Path,
        catalog: &[lectern_store::CatalogCourse],
        purchases: &[lectern_store::PurchaseLine],
    ) -> Arc<Recommender> {
        let key = RecommenderKey::of(school, catalog, purchases);
        let cache = &self.inner.recommender.0;
        if let Ok(guard) = cache.lock()
            && let Some((cached, recommender)) = guard.as_ref()
            && *cached == key
        {
            return recommender.clone();
        }
        let recommender = Arc::new(train_recommender(catalog, purchases));
        if let Ok(mut guard) = cache.lock() {
            *guard = Some((key, recommender.clone()));
        }
        recommender
    }
}

/// The recommender over the school's catalog and purchase history.
fn train_recommender(
    catalog: &[lectern_store::CatalogCourse],
    purchases: &[lectern_store::PurchaseLine],
) -> Recommender {
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
    Recommender::train(&courses, &records, Default::default())
}
