//! The school's audience in the studio: every learner with their purchases and live classes, as
//! the pure cores of `lectern_insights::audience` read them (definitions in docs/audience.md),
//! the segments with names kept from one computation to the next, and a segment's audience
//! (its learners and the live viewers linked to them).
//!
//! The reading is the studio's: purchase days in the school's time zone (a date-only line keeps
//! its date), live viewers mapped to the learners they are in the shop ([`crate::identity`]),
//! each class's engagement recomputed from its log. `lectern report repurchase|segments` reads
//! the school through [`school_audience`] too, so the terminal and the Insights screen agree.
//!
//! **Stable names.** The centroids and names of the last segmentation of the whole school are
//! kept in the school file (the setting [`SEGMENTS_SETTING`]) and given to the next one as
//! `previous`, so a segment keeps its name while it stays where it was
//! (`segments::match_previous`). Only a segmentation for a day on or after the stored one
//! replaces it: looking back at an earlier day reads the names but does not move them.

use std::collections::{BTreeMap, BTreeSet};

use lectern_insights::audience::segments::{
    SegmentCentroid, SegmentInput, SegmentOptions, Segmentation, segment,
};
use lectern_insights::audience::{Attendance, DAY_MS, Learner, Purchase, day_of_ms};
use lectern_insights::engagement::recompute;
use lectern_insights::recs::CourseInfo;
use lectern_store::Store;
use serde::{Deserialize, Serialize};

use crate::experiments::{DEFAULT_TIME_ZONE, TIME_ZONE_SETTING, Zone};
use crate::identity::{identities_of, is_staff};
use crate::{ApiError, ErrorCode, Studio};

/// One learner's visit to one live class: the class's school-local day and their engagement
/// score there (their best, when they came as two viewers).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassVisit {
    /// The learner.
    pub learner: String,
    /// The school-local day the class ended (or its last event, while it runs).
    pub day: i64,
    /// The engagement score, 0 to 100 (`engagement::Score::total`).
    pub score: f64,
}

/// The school as the audience cores take it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchoolAudience {
    /// The catalog (titles and tags).
    pub courses: Vec<CourseInfo>,
    /// Every learner, with the school-local day they joined.
    pub learners: Vec<Learner>,
    /// Every purchase line, on its school-local day.
    pub purchases: Vec<Purchase>,
    /// Every learner's visit to every class, class by class (oldest session first).
    pub visits: Vec<ClassVisit>,
    /// The last day with data: a purchase or a class (school-local).
    pub last_day: Option<i64>,
}

impl SchoolAudience {
    /// Each learner's live classes, counting the classes on or before `through` (all of them
    /// with `None`): how many they attended and their mean engagement score there.
    pub fn attendance(&self, through: Option<i64>) -> Vec<Attendance> {
        let mut classes: BTreeMap<&str, (u32, f64)> = BTreeMap::new();
        for visit in &self.visits {
            if through.is_some_and(|day| visit.day > day) {
                continue;
            }
            let entry = classes.entry(visit.learner.as_str()).or_default();
            entry.0 += 1;
            entry.1 += visit.score;
        }
        classes
            .into_iter()
            .map(|(learner, (classes, total))| Attendance {
                learner: learner.to_owned(),
                classes,
                engagement: total / f64::from(classes.max(1)),
            })
            .collect()
    }

    /// The day segments are computed for unless one is asked for: the last day with a purchase
    /// or a class; without either, the last day a learner joined (0 for an empty school).
    pub fn default_today(&self) -> i64 {
        self.last_day
            .or_else(|| self.learners.iter().map(|l| l.joined_day).max())
            .unwrap_or(0)
    }
}

/// Reads the school's audience from its file: learners, purchases on school-local days, the
/// catalog, and every learner's classes (each class's engagement recomputed from its log, its
/// viewers mapped to learners; viewers who are no learner of the school are left out).
pub async fn school_audience(store: &Store) -> Result<SchoolAudience, ApiError> {
    let zone_name = store.setting(TIME_ZONE_SETTING).await?;
    let zone = Zone::named(zone_name.as_deref().unwrap_or(DEFAULT_TIME_ZONE))?;
    let rows = store.audience_rows().await?;
    let catalog = store.catalog().await?;
    let spans = store.session_spans().await?;
    let identities = identities_of(store).await?;

    let known: BTreeSet<&str> = rows.learners.iter().map(|l| l.id.as_str()).collect();
    let mut visits = Vec::new();
    let mut last_class_day = None;
    for span in &spans {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = store
                .events_after(span.id, after, lectern_store::MAX_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for record in &page {
                // An event the engagement measures cannot read counts for nothing, as in the studio.
                if let Ok(Some(event)) = crate::activities::engagement_event_of_log(
                    &record.kind,
                    record.at_ms,
                    &record.payload,
                ) {
                    events.push(event);
                }
            }
        }
        let end = span
            .ended_at_ms
            .or_else(|| events.last().map(|e| e.at_ms))
            .unwrap_or(span.started_at_ms);
        let day = zone.local_day(end);
        last_class_day = last_class_day.max(Some(day));
        let snapshot = recompute(span.started_at_ms, &events, end);
        // One class per learner, even when they came as two viewers (two browsers).
        let mut seen: BTreeMap<&str, f64> = BTreeMap::new();
        for viewer in &snapshot.viewers {
            if viewer.joins == 0 && viewer.watch_ms == 0 {
                continue;
            }
            let learner = identities.resolve(&viewer.viewer);
            if known.contains(learner) {
                let best = seen.entry(learner).or_insert(0.0);
                *best = best.max(viewer.score.total);
            }
        }
        visits.extend(seen.into_iter().map(|(learner, score)| ClassVisit {
            learner: learner.to_owned(),
            day,
            score,
        }));
    }

    let purchases: Vec<Purchase> = rows
        .purchases
        .into_iter()
        .map(|p| Purchase {
            // A date alone is stored as that (school-local) date's 00:00 UTC.
            day: if p.date_only {
                day_of_ms(p.purchased_at_ms)
            } else {
                zone.local_day(p.purchased_at_ms)
            },
            learner: p.learner_id,
            course: p.course_id,
            order: p.order_id,
            amount_cents: p.amount_cents,
        })
        .collect();
    let last_day = purchases.iter().map(|p| p.day).max().max(last_class_day);
    Ok(SchoolAudience {
        courses: catalog
            .into_iter()
            .map(|c| CourseInfo {
                id: c.id,
                title: c.title,
                tags: c.tags,
            })
            .collect(),
        learners: rows
            .learners
            .into_iter()
            .map(|l| Learner {
                joined_day: zone.local_day(l.joined_at_ms),
                id: l.id,
            })
            .collect(),
        purchases,
        visits,
        last_day,
    })
}

/// The school setting that holds the last segmentation's centroids and names (JSON).
pub const SEGMENTS_SETTING: &str = "audience_segments";
/// The layout of [`SEGMENTS_SETTING`]'s value; another one is ignored (names start afresh).
const SEGMENTS_FORMAT: u32 = 1;

/// What the school file keeps of the last segmentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredSegments {
    format: u32,
    /// The day it was computed for.
    today: i64,
    centroids: Vec<SegmentCentroid>,
}

/// Whether a segmentation may replace the one the school file keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remember {
    /// Keep its centroids for the next one, unless the kept ones are for a later day.
    Yes,
    /// Read the kept names only (a look at another day, an experiment's breakdown).
    No,
}

/// The kept segmentation, if any and readable (a value this version cannot read is ignored:
/// the names then start afresh, which is what a first computation does).
async fn stored_segments(store: &Store) -> Result<Option<StoredSegments>, ApiError> {
    let Some(value) = store.setting(SEGMENTS_SETTING).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_str::<StoredSegments>(&value)
        .ok()
        .filter(|s| s.format == SEGMENTS_FORMAT))
}

/// The previous segmentation's centroids and names, as the school file keeps them (empty
/// before the first one).
pub async fn previous_centroids(store: &Store) -> Result<Vec<SegmentCentroid>, ApiError> {
    Ok(stored_segments(store)
        .await?
        .map(|s| s.centroids)
        .unwrap_or_default())
}

/// Segments the school as of `today` into (up to) `k` segments, names kept from the previous
/// segmentation the school file holds; with [`Remember::Yes`], this one is kept for the next
/// (unless the kept one is for a later day, or nothing changed).
pub async fn segment_school(
    store: &Store,
    audience: &SchoolAudience,
    today: i64,
    k: usize,
    remember: Remember,
) -> Result<Segmentation, ApiError> {
    let stored = stored_segments(store).await?;
    let previous = stored
        .as_ref()
        .map(|s| s.centroids.as_slice())
        .unwrap_or_default();
    let options = SegmentOptions {
        k,
        ..SegmentOptions::default()
    };
    let attendance = audience.attendance(Some(today));
    let segmentation = segment(&SegmentInput {
        courses: &audience.courses,
        learners: &audience.learners,
        purchases: &audience.purchases,
        attendance: &attendance,
        today,
        previous,
        options: &options,
    });
    let newer = stored.as_ref().is_none_or(|s| s.today <= today);
    if remember == Remember::Yes && newer && !segmentation.segments.is_empty() {
        let next = StoredSegments {
            format: SEGMENTS_FORMAT,
            today,
            centroids: segmentation.centroids(),
        };
        if stored.as_ref() != Some(&next) {
            let value = serde_json::to_string(&next)
                .map_err(|e| ApiError::internal(format!("keeping the segments' names: {e}")))?;
            store.set_setting(SEGMENTS_SETTING, &value).await?;
        }
    }
    Ok(segmentation)
}

/// Segments the studio computes.
pub const DEFAULT_SEGMENTS: usize = 6;

/// One segment's audience: whom an offer to it reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentAudience {
    /// The segment's name.
    pub segment: String,
    /// The school-local day the segments were computed for.
    pub today: i64,
    /// Its learners' ids, sorted.
    pub learners: Vec<String>,
    /// The live viewer ids linked to those learners (personal join link, consented email,
    /// reference code), sorted; staff never among them.
    pub viewers: Vec<String>,
}

/// The learners of the segment named `segment` in the school's current segmentation (as of
/// the last day with data, [`DEFAULT_SEGMENTS`] segments, names kept as the Insights screen
/// shows them), and the live viewers linked to them.
///
/// # Errors
/// `not_found` when no segment has that name now (the message lists the names there are).
pub async fn segment_audience(store: &Store, segment: &str) -> Result<SegmentAudience, ApiError> {
    let audience = school_audience(store).await?;
    let today = audience.default_today();
    let segmentation =
        segment_school(store, &audience, today, DEFAULT_SEGMENTS, Remember::Yes).await?;
    let Some(found) = segmentation.segments.iter().find(|s| s.name == segment) else {
        let names: Vec<String> = segmentation
            .segments
            .iter()
            .map(|s| format!("{:?}", s.name))
            .collect();
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "no segment is named {segment:?}; the segments are {}",
                if names.is_empty() {
                    "none yet (the school has no learners)".to_owned()
                } else {
                    names.join(", ")
                }
            ),
        ));
    };
    let learners: Vec<String> = segmentation
        .members(&found.name)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let members: BTreeSet<&str> = learners.iter().map(String::as_str).collect();
    let identities = identities_of(store).await?;
    let viewers: BTreeSet<String> = identities
        .links()
        .filter(|(viewer, learner)| members.contains(learner) && !is_staff(viewer))
        .map(|(viewer, _)| viewer.to_owned())
        .collect();
    Ok(SegmentAudience {
        segment: found.name.clone(),
        today,
        learners,
        viewers: viewers.into_iter().collect(),
    })
}

impl Studio {
    /// [`segment_audience`] of the open school.
    pub async fn segment_audience(&self, segment: &str) -> Result<SegmentAudience, ApiError> {
        segment_audience(&self.store().await?, segment).await
    }
}

/// `2026-03-04` for a school-local day number.
pub fn day_label(day: i64) -> String {
    lectern_store::format_utc(day.saturating_mul(DAY_MS))
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}
