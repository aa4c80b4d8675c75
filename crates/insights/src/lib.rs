//! Lectern insights: the statistics behind the A/B tests of in-stream course offers.
//!
//! **For:** turning per-variant counts (viewers and purchases, or n / sum / sum of squares of a
//! mean metric) into what an instructor needs to decide: each arm's rate with a Wilson interval;
//! each variant's relative and absolute difference from control with a fixed-horizon Welch test,
//! an anytime-valid sequential interval (safe to peek at during class) and a Bayesian chance to
//! win; the exact Beta-Binomial chance to beat control; the sample-ratio-mismatch check; Holm and
//! Benjamini-Hochberg adjustments; minimum-data gates; and a planner of how many classes an
//! experiment needs. The numbers match GrowthBook's gbstats 0.8.0, scipy and statsmodels to 1e-9
//! (see `reference/make_vectors.py`). Beside them: the engagement of live classes, next-course
//! recommendations, who is likely to buy (`propensity`, `forest`), and the school's audience:
//! repurchase, cohorts and segments (`audience`).
//!
//! **Not for:** collecting exposures or purchases, attribution, assigning viewers to variants,
//! or any IO: every function here is pure, and time never enters.
//!
//! ```
//! use lectern_insights::stats::{Verdict, analyze_ab_json};
//!
//! let out = analyze_ab_json(r#"{"metric": "binomial", "arms": [
//!     {"name": "control", "n": 412, "conversions": 23},
//!     {"name": "B", "n": 398, "conversions": 35}]}"#)?;
//! let b = out.arms[1].versus.as_ref().expect("a variant is compared with control");
//! assert!(b.prob_beat_control.unwrap_or(0.0) > 0.95);
//! assert_eq!(b.verdict, Verdict::KeepGoing); // the sequential test says: keep going
//! # Ok::<(), lectern_insights::stats::StatsError>(())
//! ```
//!
//! # Layout
//! - `src/stats/ab.rs`: the `lectern stats ab` input/output shapes, validation, the analysis.
//! - `src/stats/effect.rs`: Welch, sequential and Bayesian effects (gbstats' formulas).
//! - `src/stats/counts.rs`: Wilson, exact Beta-Binomial, SRM, Holm and Benjamini-Hochberg.
//! - `src/stats/planner.rs`: classes needed to detect a lift.
//! - `src/stats/special.rs`: normal, Student-t and chi-square functions (1e-12 or better).
//! - `src/engagement/`: engagement of live classes: per viewer, per minute, score, alerts, live
//!   and recomputed, course trends, the class report (HTML and CSV).
//! - `src/recs/`: recommendations (the blend, its validation-chosen weights) and their offline
//!   evaluation against simple baselines with paired bootstrap intervals.
//! - `src/school_gen.rs`: seeded schools with knobs, to judge recommenders beyond the demo.
//! - `src/rng.rs`, `src/calendar.rs`: SplitMix64, and UTC dates for tables and CSV.
//! - `src/propensity/`: purchase propensity: `rows.rs` (one learner in one class, features before
//!   the cut, the label after it), `split.rs` (the split in time with its gap, the refusal),
//!   `quality.rs` (AUC with DeLong's interval and its words, Brier, calibration), `mod.rs` (the
//!   logistic model, reasons in percentage points). `src/forest.rs`: the random forest under the
//!   same rules; `src/model_store.rs`: the stored forms of both.
//! - `src/audience/`: the school's audience: `repurchase.rs` (who bought again within 30, 90
//!   and 180 days, per course, attendees against the others), `cohorts.rs` (first purchase
//!   month x months since), `segments.rs` (k-means segments named by their traits, names kept
//!   across recomputations); definitions in docs/audience.md.
//! - `src/answers/`: the TA's answer assistant: known answers, BM25 over English words and CJK
//!   characters and bigrams, a calibrated confidence, refusals, the FAQ CSV format, evaluation.
//! - `reference/`: the script that makes the reference vectors, and the vectors the tests read.
//!
//! Not yet:
//! - ts-rs bindings of the output types (the UI will need them);
//! - metrics where lower is better (the verdict assumes higher is better).

#![deny(missing_docs)]

pub mod answers;
pub mod audience;
mod calendar;
pub mod engagement;
pub mod forest;
pub mod model_store;
pub mod propensity;
pub mod recs;
mod rng;
pub mod school_gen;
pub mod stats;
