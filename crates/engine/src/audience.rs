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

use lectern_insights::audience::cohorts::cohort_table;
use lectern_insights::audience::repurchase::{RepurchaseRate, repurchase_report};
use lectern_insights::audience::segments::{
    SegmentCentroid, SegmentInput, SegmentOptions, Segmentation, segment,
};
use lectern_insights::audience::{Attendance, DAY_MS, Learner, Purchase, day_of_ms};
use lectern_insights::engagement::recompute;
use lectern_insights::recs::CourseInfo;
use lectern_store::Store;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::NoArgs;
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
        .map(|s| s.centroids.clone())
        .unwrap_or_default();
    let options = SegmentOptions {
        k,
        ..SegmentOptions::default()
    };
    let attendance = audience.attendance(Some(today));
    let (courses, learners, purchases) = (
        audience.courses.clone(),
        audience.learners.clone(),
        audience.purchases.clone(),
    );
    // k-means over every learner, four seeds: CPU work kept off the runtime's threads, which
    // carry the live room.
    let segmentation = tokio::task::spawn_blocking(move || {
        segment(&SegmentInput {
            courses: &courses,
            learners: &learners,
            purchases: &purchases,
            attendance: &attendance,
            today,
            previous: &previous,
            options: &options,
        })
    })
    .await
    .map_err(|e| ApiError::internal(format!("segmenting the school: {e}")))?;
    let newer = stored.as_ref().is_none_or(|s| s.today <= today);
    if remember == Remember::Yes && newer && !segmentation.segments.is_empty() {
        let next = StoredSegments {
            format: SEGMENTS_FORMAT,
            today,
            centroids: segmentation.centroids(),
        };
        if stored.as_ref() != Some(&next) {
            // Keeping the names is a courtesy to the next reading: a school file that takes no
            // write now (a full disk) still gets its segments, named afresh next time.
            let kept = match serde_json::to_string(&next) {
                Ok(value) => store
                    .set_setting(SEGMENTS_SETTING, &value)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(error) = kept {
                tracing::warn!(%error, "the segments' names could not be kept for next time");
            }
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

    /// Prepare the class on air for an offer to one segment: its members (the viewers linked
    /// to its learners) are handed to the room, which shows such an offer's card to them only
    /// and never sends or logs who they are. The studio calls it just before pushing an offer
    /// whose `audience` names the segment. `conflict` with no class on air, `not_found` for an
    /// unknown segment.
    pub async fn offer_audience(&self, args: OfferAudienceArgs) -> Result<OfferAudience, ApiError> {
        let segment = args.segment.trim();
        if segment.is_empty() || segment.chars().count() > 80 {
            return Err(ApiError::invalid("a segment's name has 1 to 80 characters"));
        }
        let Some(room) = self.live_room().await else {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "no class is on air: start one to push an offer",
            ));
        };
        let found = self.segment_audience(segment).await?;
        if found.viewers.len() > lectern_room::offers::offer_limits::SEGMENT_MEMBERS {
            return Err(ApiError::invalid(format!(
                "the segment has more than {} linked viewers",
                lectern_room::offers::offer_limits::SEGMENT_MEMBERS
            )));
        }
        let viewers = found.viewers.len() as u64;
        room.submit(lectern_room::Input::SegmentMembers {
            segment: found.segment.clone(),
            viewers: found
                .viewers
                .into_iter()
                .map(lectern_room::ViewerId)
                .collect(),
        })
        .await?;
        Ok(OfferAudience {
            segment: found.segment,
            learners: found.learners.len() as u64,
            viewers,
        })
    }
}

/// Which segment an offer is for (`offer_audience`).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferAudienceArgs {
    /// The segment's name, as the Segments card shows it.
    pub segment: String,
}

/// A segment made ready for an offer in the class on air.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OfferAudience {
    /// The segment's name.
    pub segment: String,
    /// Its learners.
    pub learners: u64,
    /// The viewers linked to them (who can see the offer if they watch).
    pub viewers: u64,
}

/// Fewer people than this in a rate's denominator (or a cohort): the rate is not shown
/// (the reports' k >= 5 rule, `engagement::MIN_GROUP`).
pub const MIN_GROUP: u32 = lectern_insights::engagement::MIN_GROUP;

/// A repurchase rate as the studio shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RateView {
    /// The window, in days.
    pub window_days: u32,
    /// Learners whose whole window is in the data: the denominator.
    pub eligible: u32,
    /// Of those, who bought again within the window (`null` under [`MIN_GROUP`] eligible).
    pub repurchased: Option<u32>,
    /// `repurchased / eligible` (`null` under [`MIN_GROUP`] eligible).
    pub rate: Option<f64>,
    /// Its 95% Wilson interval (`null` under [`MIN_GROUP`] eligible).
    pub rate_ci: Option<[f64; 2]>,
}

impl RateView {
    fn of(rate: &RepurchaseRate) -> RateView {
        let shown = rate.eligible >= MIN_GROUP;
        RateView {
            window_days: rate.window_days,
            eligible: rate.eligible,
            repurchased: shown.then_some(rate.repurchased),
            rate: rate.rate().filter(|_| shown),
            rate_ci: rate.interval().filter(|_| shown),
        }
    }
}

/// A course and a share of people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CourseShareView {
    /// Catalog id.
    pub course_id: String,
    /// Its title (the id when the catalog does not know it).
    pub title: String,
    /// The share of the segment's members who own it.
    pub share: f64,
}

/// A course to offer a segment next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SegmentNextCourse {
    /// Catalog id.
    pub course_id: String,
    /// Its title.
    pub title: String,
    /// Members for whom it is among their next [`NEXT_PER_LEARNER`] courses (the courses most
    /// owned in their segment, then in the school, that they do not own yet).
    pub members: u32,
}

/// What a segment's name is read from, in plain units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SegmentTraits {
    /// Share of members who ever bought.
    pub buyers_share: f64,
    /// Mean purchase days per member.
    pub mean_visits: f64,
    /// Mean paid per member, in cents.
    pub mean_spent_cents: f64,
    /// Median days since the last purchase, among members who bought.
    pub median_days_since_purchase: Option<f64>,
    /// Share of members who joined in the last 30 days.
    pub new_share: f64,
    /// Share of members who attended at least one live class.
    pub attended_share: f64,
    /// Mean engagement score (0-100) of members who attended.
    pub mean_engagement: Option<f64>,
}

/// A tag of a segment's courses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Interest {
    /// The tag.
    pub tag: String,
    /// Its share of the members' courses.
    pub share: f64,
}

/// One segment as the Insights screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SegmentSummary {
    /// Its name in words ("loyal repeat buyers"), kept from the last computation while the
    /// segment stays where it was.
    pub name: String,
    /// Members.
    pub size: u32,
    /// Members who ever bought.
    pub buyers: u32,
    /// `buyers / size`.
    pub conversion: f64,
    /// The members' 90-day repurchase rate.
    pub repurchase_90d: RateView,
    /// The courses most members own (at most 3).
    pub typical_courses: Vec<CourseShareView>,
    /// The courses to offer its members next (at most [`NEXT_COURSES`]), most members first.
    pub next_courses: Vec<SegmentNextCourse>,
    /// What its name is read from.
    pub traits: SegmentTraits,
    /// The tags of its members' courses, most common first (at most 3).
    pub interests: Vec<Interest>,
}

/// The school's segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AudienceSegments {
    /// The day they are computed for (`2026-03-04`, school-local): the last day with a
    /// purchase or a class.
    pub as_of: String,
    /// Learners segmented: the sizes add up to it.
    pub learners: u32,
    /// Largest first.
    pub segments: Vec<SegmentSummary>,
    /// Segments that kept the name they had in the last computation.
    pub names_kept: u32,
}

/// Buyers of one course who bought again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CourseRepurchaseView {
    /// Catalog id.
    pub course_id: String,
    /// Its title.
    pub title: String,
    /// Learners who bought it.
    pub buyers: u32,
    /// 30, 90 and 180 days after each learner first bought it.
    pub rates: Vec<RateView>,
}

/// One cohort: the learners whose first purchase is in one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CohortRow {
    /// The first-purchase month, `2026-03`.
    pub month: String,
    /// Its learners.
    pub learners: u32,
    /// Per months since (0, 1, 2, ...): the share who bought in that month; `null` where not
    /// observed yet (after the last purchase's month) or when the cohort has fewer than
    /// [`MIN_GROUP`] learners.
    pub shares: Vec<Option<f64>>,
    /// True when its shares are not shown: fewer than [`MIN_GROUP`] learners.
    pub suppressed: bool,
}

/// Repurchase of attendees of live classes against learners who never attended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AttendanceView {
    /// Buyers who attended at least one live class (90 days).
    pub attended: RateView,
    /// Buyers who never attended one (90 days).
    pub never_attended: RateView,
    /// `attended - never_attended` (`null` unless both are shown).
    pub difference: Option<f64>,
    /// Newcombe's 95% interval of the difference.
    pub difference_ci: Option<[f64; 2]>,
    /// [`OBSERVED_NOT_CAUSAL`]: how to label it wherever it is shown.
    pub label: String,
    /// Why, in a sentence (`repurchase::ATTENDANCE_CAVEAT`).
    pub caveat: String,
}

/// The label of the attendance comparison.
pub const OBSERVED_NOT_CAUSAL: &str = "observed difference, not a causal effect";

/// Who buys again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AudienceRepurchase {
    /// Learners with at least one purchase.
    pub buyers: u32,
    /// The last purchase day (`2026-03-04`), if any: windows end there.
    pub last_purchase: Option<String>,
    /// Within 30, 90 and 180 days of the first purchase, each with its own denominator.
    pub overall: Vec<RateView>,
    /// "Buyers of X who bought again", most buyers first.
    pub per_course: Vec<CourseRepurchaseView>,
    /// First-purchase month x months since, oldest cohort first.
    pub cohorts: Vec<CohortRow>,
    /// Attendees against learners who never attended.
    pub attendance: AttendanceView,
}

/// Courses listed as a segment's next ones.
pub const NEXT_COURSES: usize = 3;
/// Courses per learner that count towards their segment's next ones.
pub const NEXT_PER_LEARNER: usize = 3;

fn title_of(titles: &BTreeMap<&str, &str>, course: &str) -> String {
    titles.get(course).map_or(course, |t| t).to_owned()
}

/// The segments of a segmentation as the studio shows them.
pub fn segments_view(
    audience: &SchoolAudience,
    segmentation: &Segmentation,
    previous: &[SegmentCentroid],
) -> AudienceSegments {
    let titles: BTreeMap<&str, &str> = audience
        .courses
        .iter()
        .map(|c| (c.id.as_str(), c.title.as_str()))
        .collect();
    let before: BTreeSet<&str> = previous.iter().map(|p| p.name.as_str()).collect();
    let segments = segmentation
        .segments
        .iter()
        .map(|s| {
            // Per course: (members it is next for, sum of its places in their lists).
            let mut next: BTreeMap<&str, (u32, usize)> = BTreeMap::new();
            for member in segmentation.members(&s.name) {
                for (place, course) in segmentation
                    .next_courses(member, NEXT_PER_LEARNER)
                    .into_iter()
                    .enumerate()
                {
                    let entry = next.entry(course).or_default();
                    entry.0 += 1;
                    entry.1 += place;
                }
            }
            let mut next: Vec<(&str, u32, usize)> =
                next.into_iter().map(|(c, (n, p))| (c, n, p)).collect();
            // Most members first; then the course nearer the top of their lists.
            next.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| (a.2 * b.1 as usize).cmp(&(b.2 * a.1 as usize)))
                    .then(a.0.cmp(b.0))
            });
            SegmentSummary {
                name: s.name.clone(),
                size: s.size,
                buyers: s.buyers,
                conversion: s.conversion,
                repurchase_90d: RateView::of(&s.repurchase_90d),
                typical_courses: s
                    .typical_courses
                    .iter()
                    .map(|c| CourseShareView {
                        course_id: c.course.clone(),
                        title: c.title.clone(),
                        share: c.share,
                    })
                    .collect(),
                next_courses: next
                    .into_iter()
                    .take(NEXT_COURSES)
                    .map(|(course, members, _)| SegmentNextCourse {
                        course_id: course.to_owned(),
                        title: title_of(&titles, course),
                        members,
                    })
                    .collect(),
                traits: SegmentTraits {
                    buyers_share: s.traits.buyers_share,
                    mean_visits: s.traits.mean_visits,
                    mean_spent_cents: s.traits.mean_spent_cents,
                    median_days_since_purchase: s.traits.median_days_since_purchase,
                    new_share: s.traits.new_share,
                    attended_share: s.traits.attended_share,
                    mean_engagement: s.traits.mean_engagement,
                },
                interests: s
                    .interests
                    .iter()
                    .map(|(tag, share)| Interest {
                        tag: tag.clone(),
                        share: *share,
                    })
                    .collect(),
            }
        })
        .collect();
    AudienceSegments {
        as_of: day_label(segmentation.today),
        learners: u32::try_from(segmentation.learners()).unwrap_or(u32::MAX),
        names_kept: segmentation
            .segments
            .iter()
            .filter(|s| before.contains(s.name.as_str()))
            .count() as u32,
        segments,
    }
}

/// Repurchase, per course, cohorts and attendance as the studio shows them.
pub fn repurchase_view(audience: &SchoolAudience) -> AudienceRepurchase {
    let report = repurchase_report(&audience.purchases, &audience.attendance(None));
    let titles: BTreeMap<&str, &str> = audience
        .courses
        .iter()
        .map(|c| (c.id.as_str(), c.title.as_str()))
        .collect();
    let mut per_course: Vec<CourseRepurchaseView> = report
        .per_course
        .iter()
        .map(|c| CourseRepurchaseView {
            course_id: c.course.clone(),
            title: title_of(&titles, &c.course),
            buyers: c.buyers,
            rates: c.rates.iter().map(RateView::of).collect(),
        })
        .collect();
    per_course.sort_by(|a, b| b.buyers.cmp(&a.buyers).then(a.course_id.cmp(&b.course_id)));
    let cohorts = cohort_table(&audience.purchases)
        .cohorts
        .iter()
        .map(|c| {
            let suppressed = c.learners < MIN_GROUP;
            CohortRow {
                month: c.month.clone(),
                learners: c.learners,
                shares: (0..c.active.len())
                    .map(|k| c.share(k).filter(|_| !suppressed))
                    .collect(),
                suppressed,
            }
        })
        .collect();
    let a = &report.attendance;
    let attended = RateView::of(&a.attended);
    let never_attended = RateView::of(&a.never_attended);
    let both = attended.rate.is_some() && never_attended.rate.is_some();
    AudienceRepurchase {
        buyers: report.buyers,
        last_purchase: report.last_day.map(day_label),
        overall: report.overall.iter().map(RateView::of).collect(),
        per_course,
        cohorts,
        attendance: AttendanceView {
            attended,
            never_attended,
            difference: a.difference.filter(|_| both),
            difference_ci: a.difference_interval.filter(|_| both),
            label: OBSERVED_NOT_CAUSAL.to_owned(),
            caveat: a.caveat.clone(),
        },
    }
}

impl Studio {
    /// The school's segments as of the last day with data, names kept from the last time
    /// (and this computation kept for the next).
    pub async fn audience_segments(&self, _args: NoArgs) -> Result<AudienceSegments, ApiError> {
        let store = self.store().await?;
        let audience = school_audience(&store).await?;
        let previous = previous_centroids(&store).await?;
        let today = audience.default_today();
        let segmentation =
            segment_school(&store, &audience, today, DEFAULT_SEGMENTS, Remember::Yes).await?;
        Ok(segments_view(&audience, &segmentation, &previous))
    }

    /// Repurchase within 30, 90 and 180 days, per course, per cohort, and attendees of live
    /// classes against the others (an observed difference, not a causal effect).
    pub async fn audience_repurchase(&self, _args: NoArgs) -> Result<AudienceRepurchase, ApiError> {
        let audience = school_audience(&self.store().await?).await?;
        Ok(repurchase_view(&audience))
    }
}

/// `2026-03-04` for a school-local day number.
pub fn day_label(day: i64) -> String {
    lectern_store::format_utc(day.saturating_mul(DAY_MS))
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}
