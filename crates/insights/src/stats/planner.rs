//! How many classes an experiment needs before it can detect a given lift.

use serde::{Deserialize, Serialize};

use super::error::StatsError;
use super::special::normal_quantile;

/// What the instructor knows before the experiment starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// "binomial" or "mean".
    pub metric: String,
    /// Control's expected rate (binomial) or mean (mean metric).
    pub baseline_mean: f64,
    /// Control's standard deviation per unit (mean metric only; variants are assumed alike).
    #[serde(default)]
    pub baseline_sd: Option<f64>,
    /// The smallest relative lift worth detecting (0.2 = 20%).
    pub relative_lift: f64,
    /// Two-sided significance level (default 0.05).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Chance of detecting the lift when it is real (default 0.8).
    #[serde(default = "default_power")]
    pub power: f64,
    /// Units (viewers or sessions) one class brings into the experiment.
    pub class_size: u64,
    /// Traffic weights, control first (default: two equal arms).
    #[serde(default)]
    pub weights: Option<Vec<f64>>,
    /// Plan for the sequential (peeking-safe) test the verdict reads, tuned as the analysis is
    /// (its expected total units, e.g. 5000); `null` plans for the fixed-horizon test, which
    /// needs fewer units but is only valid when the result is read once, at the end.
    #[serde(default)]
    pub sequential_tuning: Option<f64>,
}

fn default_alpha() -> f64 {
    0.05
}

fn default_power() -> f64 {
    0.8
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Units needed across all arms (before rounding up to whole classes).
    pub units_needed: u64,
    /// Classes of `class_size` needed.
    pub classes: u64,
    /// Units each arm needs (by the weights, rounded up).
    pub units_per_arm: Vec<u64>,
}

fn bad(message: impl Into<String>) -> StatsError {
    StatsError::InvalidPlan(message.into())
}

/// Plan the classes needed so that the test of the relative lift (the delta-method variance the
/// analysis uses) reaches `power` for every variant against control, at `alpha` split across
/// the variants as the verdict splits it. With `sequential_tuning`, the test is the sequential
/// interval of the analysis: the smallest N at which P(the interval's far end clears zero) is at
/// least `power`; without it, the fixed-horizon two-sided test. Normal approximation.
pub fn plan_classes(input: &PlanInput) -> Result<Plan, StatsError> {
    let lift = input.relative_lift;
    let mu_a = input.baseline_mean;
    let all_finite = [lift, mu_a, input.alpha, input.power]
        .iter()
        .all(|v| v.is_finite())
        && input.baseline_sd.is_none_or(f64::is_finite);
    if !all_finite {
        return Err(StatsError::NotFinite("a planner input".into()));
    }
    if !(input.alpha > 0.0 && input.alpha < 1.0) {
        return Err(StatsError::InvalidAlpha(input.alpha));
    }
    if !(input.power > 0.0 && input.power < 1.0) {
        return Err(StatsError::InvalidPower(input.power));
    }
    if lift == 0.0 {
        return Err(bad(
            "relative_lift must not be 0: no sample can detect no difference",
        ));
    }
    if input.class_size == 0 {
        return Err(bad("class_size must be at least 1"));
    }
    let mu_b = mu_a * (1.0 + lift);
    let (var_a, var_b) = match input.metric.as_str() {
        "binomial" => {
            if !(mu_a > 0.0 && mu_a < 1.0 && mu_b > 0.0 && mu_b < 1.0) {
                return Err(bad(
                    "baseline_mean and the lifted rate must be strictly between 0 and 1",
                ));
            }
            (mu_a * (1.0 - mu_a), mu_b * (1.0 - mu_b))
        }
        "mean" => {
            let sd = input
                .baseline_sd
                .ok_or_else(|| bad("a mean metric needs baseline_sd"))?;
            if sd <= 0.0 || mu_a == 0.0 {
                return Err(bad(
                    "baseline_sd must be positive and baseline_mean non-zero",
                ));
            }
            (sd * sd, sd * sd)
        }
        other => return Err(StatsError::UnknownMetric(other.to_owned())),
    };
    let weights = input.weights.clone().unwrap_or_else(|| vec![0.5, 0.5]);
    if weights.len() < 2 {
        return Err(StatsError::TooFewArms(weights.len()));
    }
    if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
        return Err(StatsError::WeightNotPositive(*w));
    }
    let weight_sum: f64 = weights.iter().sum();
    if (weight_sum - 1.0).abs() > super::ab::WEIGHTS_TOLERANCE {
        return Err(StatsError::WeightsSum(weight_sum));
    }
    let alpha = input.alpha / (weights.len() - 1) as f64;
    // Var(lift) with N units in total = (var_b / (mu_a² w_b) + var_a mu_b² / (mu_a⁴ w_a)) / N;
    // the smallest variant weight is the binding one.
    let w_a = weights[0];
    let w_b = weights[1..].iter().copied().fold(f64::INFINITY, f64::min);
    let unit_variance = var_b / (mu_a.powi(2) * w_b) + var_a * mu_b.powi(2) / (mu_a.powi(4) * w_a);
    let needed = match input.sequential_tuning {
        None => {
            let z = normal_quantile(1.0 - alpha / 2.0) + normal_quantile(input.power);
            (z / lift).powi(2) * unit_variance
        }
        Some(tuning) => {
            if !(tuning.is_finite() && tuning > 0.0) {
                return Err(StatsError::InvalidTuning(tuning));
            }
            sequential_units(lift.abs(), unit_variance, alpha, input.power, tuning)
        }
    };
    if !(needed.is_finite() && needed < 1e15) {
        return Err(bad("the lift is too small to plan for"));
    }
    let class_size = input.class_size as f64;
    // Finite and below 1e15 (checked), so these roundings are exact conversions.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "bounded above"
    )]
    let classes = (needed / class_size).ceil().max(1.0) as u64;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "bounded above"
    )]
    let units_needed = needed.ceil() as u64;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "bounded above"
    )]
    let units_per_arm = weights.iter().map(|w| (w * needed).ceil() as u64).collect();
    Ok(Plan {
        units_needed,
        classes,
        units_per_arm,
    })
}

/// Half-width of the sequential interval (the analysis' `Lift::sequential`) at `n` total units
/// when the lift's variance is `unit_variance / n`.
fn sequential_half_width(n: f64, unit_variance: f64, alpha: f64, tuning: f64) -> f64 {
    let rho2 = (-2.0 * alpha.ln() + (-2.0 * alpha.ln() + 1.0).ln()) / tuning;
    let t = n * rho2 + 1.0;
    unit_variance.sqrt() * ((2.0 * t) * (t.sqrt() / alpha).ln() / (n * n * rho2)).sqrt()
}

/// The smallest total N at which a true lift `lift` puts the sequential interval's near end
/// above zero with probability `power`: lift - half_width(N) >= z_power · sqrt(u / N). The
/// margin grows with N (the half-width shrinks like sqrt(ln N / N)), so a doubling search and a
/// bisection find it. Infinity when no N below 1e15 does.
fn sequential_units(lift: f64, unit_variance: f64, alpha: f64, power: f64, tuning: f64) -> f64 {
    let z = normal_quantile(power);
    let enough = |n: f64| {
        lift - sequential_half_width(n, unit_variance, alpha, tuning)
            >= z * (unit_variance / n).sqrt()
    };
    let mut high = 2.0;
    while !enough(high) {
        high *= 2.0;
        if high > 1e15 {
            return f64::INFINITY;
        }
    }
    let mut low = high / 2.0;
    while high - low > 0.5 {
        let mid = (low + high) / 2.0;
        if enough(mid) {
            high = mid;
        } else {
            low = mid;
        }
    }
    high
}
