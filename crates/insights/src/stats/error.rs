//! Why an analysis or a plan was refused.

use serde_json::json;

/// Input the statistics engine refuses. Each has a stable snake_case [`code`](Self::code) for
/// UIs and scripts; the message is for people.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// The JSON could not be read into the input shape (wrong type, missing or unknown field).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// `metric` is neither "binomial" nor "mean".
    #[error("unknown metric {0:?}: expected \"binomial\" or \"mean\"")]
    UnknownMetric(String),
    /// Fewer than two arms: there is nothing to compare.
    #[error("{0} arm(s) given: an experiment needs control and at least one variant")]
    TooFewArms(usize),
    /// A number is NaN or infinite.
    #[error("{0} is not a finite number")]
    NotFinite(String),
    /// A count (n or conversions) is negative.
    #[error("{0} is negative")]
    NegativeCount(String),
    /// A count (n or conversions) has a fractional part.
    #[error("{0} is not a whole number")]
    NotWholeNumber(String),
    /// An arm reports more conversions (or units with a value) than units.
    #[error("arm {0:?} has more conversions (or units with a value) than units")]
    ConversionsExceedN(String),
    /// An arm lacks a field its metric needs.
    #[error("arm {arm:?} lacks {field:?}, which a {metric} metric needs")]
    MissingField {
        /// The arm's name.
        arm: String,
        /// The missing field.
        field: &'static str,
        /// The metric that needs it.
        metric: &'static str,
    },
    /// sum and sum_squares cannot come from real values (negative variance, or sums with n = 0).
    #[error("arm {0:?}: sum and sum_squares are impossible for its n")]
    ImpossibleSums(String),
    /// Two arms share a name.
    #[error("two arms are named {0:?}")]
    DuplicateArmName(String),
    /// The weights list does not have one weight per arm.
    #[error("{weights} weights for {arms} arms")]
    WeightsLength {
        /// Number of weights given.
        weights: usize,
        /// Number of arms given.
        arms: usize,
    },
    /// A weight is zero or negative.
    #[error("weight {0} is not positive")]
    WeightNotPositive(f64),
    /// The weights do not sum to 1 (tolerance 1e-9).
    #[error("weights sum to {0}, not 1")]
    WeightsSum(f64),
    /// alpha is not strictly between 0 and 1.
    #[error("alpha {0} is not between 0 and 1")]
    InvalidAlpha(f64),
    /// power is not strictly between 0 and 1.
    #[error("power {0} is not between 0 and 1")]
    InvalidPower(f64),
    /// The sequential tuning sample size is not positive.
    #[error("sequential_tuning {0} is not positive")]
    InvalidTuning(f64),
    /// The prior's variance is not positive.
    #[error("prior variance {0} is not positive")]
    InvalidPrior(f64),
    /// A planner input is out of range (the message says which).
    #[error("{0}")]
    InvalidPlan(String),
}

impl StatsError {
    /// The stable machine-readable code, e.g. `"conversions_exceed_n"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::UnknownMetric(_) => "unknown_metric",
            Self::TooFewArms(_) => "too_few_arms",
            Self::NotFinite(_) => "not_finite",
            Self::NegativeCount(_) => "negative_count",
            Self::NotWholeNumber(_) => "not_whole_number",
            Self::ConversionsExceedN(_) => "conversions_exceed_n",
            Self::MissingField { .. } => "missing_field",
            Self::ImpossibleSums(_) => "impossible_sums",
            Self::DuplicateArmName(_) => "duplicate_arm_name",
            Self::WeightsLength { .. } => "weights_length",
            Self::WeightNotPositive(_) => "weight_not_positive",
            Self::WeightsSum(_) => "weights_sum",
            Self::InvalidAlpha(_) => "invalid_alpha",
            Self::InvalidPower(_) => "invalid_power",
            Self::InvalidTuning(_) => "invalid_tuning",
            Self::InvalidPrior(_) => "invalid_prior",
            Self::InvalidPlan(_) => "invalid_plan",
        }
    }

    /// The error object `lectern stats ab` prints: `{"error": {"code", "message"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({ "error": { "code": self.code(), "message": self.to_string() } })
    }
}
