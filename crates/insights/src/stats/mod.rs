//! The A/B statistics engine: pure functions from counts to effects, intervals and verdicts.
//!
//! Every formula follows a named reference so that the numbers can be checked to 1e-9:
//! gbstats 0.8.0 for the Welch, sequential and Bayesian effects, statsmodels for Wilson
//! intervals and the Holm / Benjamini-Hochberg adjustments, scipy for the SRM chi-square.

mod ab;
mod counts;
mod effect;
mod error;
mod planner;
mod special;

pub use ab::{
    AbInput, AbOutput, Arm, ArmInput, ArmResult, Effect, Experiment, MIN_CONVERSIONS,
    MIN_UNITS_MEAN, Metric, Outcome, SRM_ALERT, SequentialResult, Verdict, Versus,
    WEIGHTS_TOLERANCE, analyze_ab, analyze_ab_json, analyze_ab_value, analyze_experiment,
};
pub use counts::{benjamini_hochberg, holm, prob_beat_control, srm_p_value, wilson_interval};
pub use effect::{BayesEffect, Interval, Lift, Moments, Prior, Scale, bayes_effect};
pub use error::StatsError;
pub use planner::{Plan, PlanInput, plan_classes};

/// Distribution functions, public so that their accuracy can be tested against scipy.
pub mod distributions {
    pub use super::special::{
        chi_square_sf, normal_cdf, normal_quantile, normal_sf, student_t_sf,
        student_t_upper_quantile,
    };
}
