//! Recommendations from the school's own purchases: which course to offer next, and why; and an
//! honest offline evaluation of them against strong simple baselines.
//!
//! Pure: the caller loads the catalog and the purchases (from the school file) and passes them
//! in; nothing here reads a file or a clock ("now" is the newest purchase it is given).
//!
//! The blend ([`Method::Blend`]) is a mixture of four signals, each a distribution over the
//! courses a learner does not have yet:
//!
//! - **next**: what learners bought on a later visit (a day or more after) than the learner's
//!   courses: `P(B after A)`, smoothed toward popularity with a pseudo-count, so a course with
//!   three buyers does not dominate with 2/3;
//! - **together**: what learners bought alongside the learner's courses, in any order (bundles);
//! - **topics**: the TF-IDF cosine of the course's tags to the tags of everything the learner
//!   has (a tag profile, so one stray course does not decide);
//! - **popular**: purchases of the last `recent_days`. A learner with no purchase yet gets this
//!   signal alone, mixed with what learners bought on their *first* visit (entry courses).
//!
//! A course nobody has bought yet (a launch) borrows its next, together and popular values from
//! the bought courses whose tags it shares (TF-IDF cosine). For a learner with purchases it then
//! goes where tag affinity would put it among the bought courses: if its tags are closer to the
//! learner's than those of all but `r` of the bought courses they lack, it scores just above the
//! blend's `r`-th bought course (its borrowed score, when higher, stands). This puts tag affinity
//! on the blend's own scale with nothing fitted, so nothing can be fitted to what an evaluation
//! judges. When no launch is in the blend's first five places, the one closest to the learner's
//! tags takes the fifth: launches reach the learners of their topics. The mixture's weights are
//! chosen on validation windows inside the purchases the recommender is trained on (see
//! [`TrainOptions`]), never on what an evaluation judges.
//!
//! A learner never gets a course they already have. Each recommendation carries its reason
//! ("34 of 120 learners who took X took it next").
//!
//! [`evaluate_report`] compares the blend with five simple baselines (popularity, recent
//! popularity, co-purchase counts, catalog order, tag affinity) over several time cuts, with
//! paired bootstrap intervals, for warm learners, cold-start learners and new courses apart.
//! [`evaluate`] is the older one-cut summary.
//!
//! # Layout
//! - `model.rs`: [`Recommender`]: training counts, the signals, the methods, the reasons.
//! - `tuning.rs`: the blend's weights, chosen on validation windows of the training history.
//! - `eval.rs`: time cuts, per-learner metrics, the paired bootstrap, [`EvalReport`] and its table.

use std::fmt;

use serde::Serialize;

mod eval;
mod model;
mod tuning;

pub use eval::{
    EvalLine, EvalOptions, EvalReport, Interval, MethodLine, Segment, SegmentReport, SplitSummary,
    Verdict, default_split, evaluate, evaluate_report, rolling_cuts,
};
pub use model::{
    BlendWeights, NEW_COURSE_MATCH, NEW_COURSE_PLACE, Recommender, TrainOptions, Tuning,
};

/// A course of the catalog, as the recommender sees it. The order of the catalog slice given
/// to [`Recommender::train`] is "catalog order" for [`Method::CatalogOrder`].
#[derive(Debug, Clone, PartialEq)]
pub struct CourseInfo {
    /// The catalog id.
    pub id: String,
    /// Its title (for reasons).
    pub title: String,
    /// Its topics.
    pub tags: Vec<String>,
}

/// One course bought by one learner at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseRecord {
    /// The (pseudonymous) learner.
    pub learner: String,
    /// The course's catalog id.
    pub course: String,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// How a score is computed. Ties are broken by all-time popularity, then catalog order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The most bought courses the learner does not have (a simple baseline).
    Popularity,
    /// The most bought courses in the last `recent_days` (90) before the newest purchase (a simple
    /// baseline).
    RecentPopularity,
    /// Summed co-purchase counts with the learner's courses, in any order: "learners who bought
    /// this also bought" (a simple baseline).
    CoPurchase,
    /// The courses that follow the learner's latest course in catalog order, nearest first (a
    /// simple baseline; meaningful only when the catalog is listed in learning order).
    CatalogOrder,
    /// Courses whose tags are closest to the tags of all the learner's courses (TF-IDF cosine to
    /// the learner's tag profile; a simple baseline).
    TagAffinity,
    /// What learners took after the learner's courses, smoothed toward popularity (the blend's
    /// sequence signal alone).
    NextCourse,
    /// The mixture of next, together, topics and popular signals (see the module docs).
    Blend,
}

impl Method {
    /// Every method: the simple baselines first, then the blend's sequence signal, then the blend.
    pub const ALL: [Method; 7] = [
        Method::Popularity,
        Method::RecentPopularity,
        Method::CoPurchase,
        Method::CatalogOrder,
        Method::TagAffinity,
        Method::NextCourse,
        Method::Blend,
    ];

    /// The simple baselines the blend must beat.
    pub const BASELINES: [Method; 5] = [
        Method::Popularity,
        Method::RecentPopularity,
        Method::CoPurchase,
        Method::CatalogOrder,
        Method::TagAffinity,
    ];

    /// The name printed by `lectern eval recs`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Popularity => "popularity",
            Method::RecentPopularity => "recent_popularity",
            Method::CoPurchase => "co_purchase",
            Method::CatalogOrder => "catalog_order",
            Method::TagAffinity => "tag_affinity",
            Method::NextCourse => "next_course",
            Method::Blend => "blend",
        }
    }

    /// Whether this is one of the simple [`Method::BASELINES`].
    pub fn is_baseline(self) -> bool {
        Method::BASELINES.contains(&self)
    }
}

/// Why a course is recommended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// `took_next` of `took_from` learners who took `from` took the course afterwards.
    TookNext {
        /// The course the learner (or audience) has.
        from: String,
        /// Learners who bought `from`.
        took_from: u32,
        /// Of those, how many bought the recommended course later.
        took_next: u32,
    },
    /// `both` of `took_from` learners who took `from` also took the course (in any order).
    BoughtTogether {
        /// The course the learner (or audience) has.
        from: String,
        /// Learners who bought `from`.
        took_from: u32,
        /// Of those, how many also bought the recommended course.
        both: u32,
    },
    /// It shares topics with a course the learner has.
    SimilarTopics {
        /// That course.
        from: String,
        /// The shared tags.
        shared: Vec<String>,
    },
    /// It follows the learner's latest course in catalog order.
    NextInCatalog {
        /// That course.
        after: String,
    },
    /// Nobody has bought it yet; it covers the topics of a course learners buy.
    NewCourse {
        /// The bought course whose tags it shares most.
        like: String,
        /// The shared tags.
        shared: Vec<String>,
    },
    /// Many learners bought it.
    Popular {
        /// Learners who bought it.
        buyers: u32,
        /// Learners in all.
        learners: u32,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::TookNext {
                from,
                took_from,
                took_next,
            } => write!(
                f,
                "{took_next} of {took_from} learners who took {from} took it next"
            ),
            Reason::BoughtTogether {
                from,
                took_from,
                both,
            } => write!(
                f,
                "{both} of {took_from} learners who took {from} also took it"
            ),
            Reason::SimilarTopics { from, shared } => {
                write!(f, "covers the topics of {from}: {}", shared.join(", "))
            }
            Reason::NextInCatalog { after } => write!(f, "comes after {after} in the catalog"),
            Reason::NewCourse { like, shared } => {
                write!(f, "new, on the topics of {like}: {}", shared.join(", "))
            }
            Reason::Popular { buyers, learners } => {
                write!(f, "bought by {buyers} of {learners} learners")
            }
        }
    }
}

/// One recommended course.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The course's catalog id.
    pub course: String,
    /// Its title.
    pub title: String,
    /// The score it was ranked by (comparable within one list only).
    pub score: f64,
    /// Why.
    pub reason: Reason,
    /// For an audience: how many attendees do not have it yet.
    pub audience_without_it: Option<u32>,
}
