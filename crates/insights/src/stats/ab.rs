//! `lectern stats ab`: the input and output shapes, their validation, and the analysis that
//! ties every test together.
//!
//! The output is the shape plus three fields: `enough_data` (top level and per arm),
//! `gate_reason` per arm, and `verdict` per variant. Where a test is undefined (zero control
//! mean, zero variance, fewer than two units) the effect is `null`: gbstats returns placeholder
//! zeros there (p = 1, interval [0, 0]), which would read as a real result.

use serde::{Deserialize, Serialize};

use super::counts::{benjamini_hochberg, holm, prob_beat_control, srm_p_value, wilson_interval};
use super::effect::{BayesEffect, Interval, Lift, Moments, Prior, Scale, bayes_effect};
use super::error::StatsError;

/// Conversions and non-conversions each arm needs before a binomial verdict.
pub const MIN_CONVERSIONS: u64 = 5;
/// Units each arm needs before a mean-metric verdict (the same 10 as 5 + 5 for conversions).
pub const MIN_UNITS_MEAN: u64 = 10;
/// Below this SRM p-value the traffic split is broken and no verdict is given.
pub const SRM_ALERT: f64 = 0.001;
/// How far the weights may sum from 1.
pub const WEIGHTS_TOLERANCE: f64 = 1e-9;

fn default_alpha() -> f64 {
    0.05
}

fn default_tuning() -> f64 {
    5000.0
}

/// The request, exactly as `lectern stats ab` reads it. Counts are JSON numbers read as `f64`
/// so that a negative or fractional count gets its own error code rather than a parse error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbInput {
    /// "binomial" (conversions) or "mean" (n, sum, sum of squares).
    pub metric: String,
    /// Significance level for every interval and test (default 0.05).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Configured traffic weights, one per arm, summing to 1 (default: equal).
    #[serde(default)]
    pub weights: Option<Vec<f64>>,
    /// Expected total units at which the sequential interval is tightest (default 5000).
    #[serde(default = "default_tuning")]
    pub sequential_tuning: f64,
    /// Proper Gaussian prior on the relative lift, or `null` for a flat prior.
    #[serde(default)]
    pub prior: Option<Prior>,
    /// The arms; the first is control.
    pub arms: Vec<ArmInput>,
}

/// One arm of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmInput {
    /// Variant name, unique within the experiment.
    pub name: String,
    /// Units (viewers or sessions) in the arm.
    pub n: f64,
    /// Units that converted (binomial metric).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversions: Option<f64>,
    /// Sum of the metric over units (mean metric).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    /// Sum of squares of the metric over units (mean metric).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_squares: Option<f64>,
    /// Units whose value is not zero (mean metric, optional): revenue per viewer is zero for
    /// everyone who did not buy, so a revenue verdict waits for [`MIN_CONVERSIONS`] buyers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonzero: Option<f64>,
}

/// What kind of outcome the experiment measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Converted or not, per unit.
    Binomial,
    /// A number per unit (revenue per viewer, watch minutes).
    Mean,
}

/// What one arm observed, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Units that converted.
    Conversions(u64),
    /// Sum and sum of squares of the metric.
    Sums {
        /// Sum over units.
        sum: f64,
        /// Sum of squares over units.
        sum_squares: f64,
        /// Units with a non-zero value, when the caller counted them.
        nonzero: Option<u64>,
    },
}

/// One validated arm (a variant, or control).
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    /// Variant name.
    pub name: String,
    /// Units in the arm.
    pub n: u64,
    /// What the units did.
    pub outcome: Outcome,
}

impl Arm {
    /// The arm's moments for the effect tests.
    pub fn moments(&self) -> Moments {
        match self.outcome {
            Outcome::Conversions(c) => Moments::binomial(c, self.n),
            Outcome::Sums {
                sum, sum_squares, ..
            } => Moments::from_sums(self.n, sum, sum_squares),
        }
    }

    /// Why this arm is too small for a verdict, if it is.
    fn shortfall(&self) -> Option<String> {
        match self.outcome {
            Outcome::Conversions(c) if c < MIN_CONVERSIONS => Some(format!(
                "{} has {c} conversion(s); at least {MIN_CONVERSIONS} are needed",
                self.name
            )),
            Outcome::Conversions(c) if self.n - c < MIN_CONVERSIONS => Some(format!(
                "{} has {} non-conversion(s); at least {MIN_CONVERSIONS} are needed",
                self.name,
                self.n - c
            )),
            Outcome::Conversions(_) => None,
            Outcome::Sums { .. } if self.n < MIN_UNITS_MEAN => Some(format!(
                "{} has {} unit(s); at least {MIN_UNITS_MEAN} are needed",
                self.name, self.n
            )),
            Outcome::Sums {
                nonzero: Some(k), ..
            } if k < MIN_CONVERSIONS => Some(format!(
                "{} has {k} unit(s) with a value; at least {MIN_CONVERSIONS} are needed",
                self.name
            )),
            Outcome::Sums { .. } if self.moments().variance <= 0.0 => {
                Some(format!("{}'s values do not vary", self.name))
            }
            Outcome::Sums { .. } => None,
        }
    }
}

/// A validated experiment, ready to analyse.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// The metric kind.
    pub metric: Metric,
    /// Significance level.
    pub alpha: f64,
    /// Configured weights, one per arm, summing to 1.
    pub weights: Vec<f64>,
    /// Sequential tuning sample size.
    pub sequential_tuning: f64,
    /// Prior on the relative lift (`None`: flat).
    pub prior: Option<Prior>,
    /// Arms; the first is control.
    pub arms: Vec<Arm>,
}

fn finite(value: f64, what: impl FnOnce() -> String) -> Result<f64, StatsError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(StatsError::NotFinite(what()))
    }
}

fn count(value: f64, what: impl Fn() -> String) -> Result<u64, StatsError> {
    finite(value, &what)?;
    if value < 0.0 {
        return Err(StatsError::NegativeCount(what()));
    }
    if value.fract() != 0.0 || value > 9.0e15 {
        return Err(StatsError::NotWholeNumber(what()));
    }
    // Whole, non-negative and below 2^53, so the conversion is exact.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked above"
    )]
    Ok(value as u64)
}

impl TryFrom<AbInput> for Experiment {
    type Error = StatsError;

    fn try_from(input: AbInput) -> Result<Self, StatsError> {
        let metric = match input.metric.as_str() {
            "binomial" => Metric::Binomial,
            "mean" => Metric::Mean,
            other => return Err(StatsError::UnknownMetric(other.to_owned())),
        };
        if input.arms.len() < 2 {
            return Err(StatsError::TooFewArms(input.arms.len()));
        }
        let alpha = finite(input.alpha, || "alpha".into())?;
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(StatsError::InvalidAlpha(alpha));
        }
        let tuning = finite(input.sequential_tuning, || "sequential_tuning".into())?;
        if tuning <= 0.0 {
            return Err(StatsError::InvalidTuning(tuning));
        }
        if let Some(prior) = input.prior {
            finite(prior.mean, || "prior.mean".into())?;
            finite(prior.variance, || "prior.variance".into())?;
            if prior.variance <= 0.0 {
                return Err(StatsError::InvalidPrior(prior.variance));
            }
        }
        let arm_count = input.arms.len();
        let mut arms: Vec<Arm> = Vec::with_capacity(arm_count);
        for (i, arm) in input.arms.into_iter().enumerate() {
            if arms.iter().any(|a| a.name == arm.name) {
                return Err(StatsError::DuplicateArmName(arm.name));
            }
            let n = count(arm.n, || format!("arms[{i}].n"))?;
            let missing = |field, metric| StatsError::MissingField {
                arm: arm.name.clone(),
                field,
                metric,
            };
            let outcome = match metric {
                Metric::Binomial => {
                    let raw = arm
                        .conversions
                        .ok_or_else(|| missing("conversions", "binomial"))?;
                    let c = count(raw, || format!("arms[{i}].conversions"))?;
                    if c > n {
                        return Err(StatsError::ConversionsExceedN(arm.name));
                    }
                    Outcome::Conversions(c)
                }
                Metric::Mean => {
                    let sum = arm.sum.ok_or_else(|| missing("sum", "mean"))?;
                    let sum_squares = arm
                        .sum_squares
                        .ok_or_else(|| missing("sum_squares", "mean"))?;
                    finite(sum, || format!("arms[{i}].sum"))?;
                    finite(sum_squares, || format!("arms[{i}].sum_squares"))?;
                    // Cauchy-Schwarz: sum² <= n · sum_squares, up to rounding in the caller's sums.
                    let impossible = if n == 0 {
                        sum != 0.0 || sum_squares != 0.0
                    } else {
                        sum_squares - sum * sum / (n as f64) < -1e-9 * sum_squares.abs().max(1.0)
                    };
                    if impossible {
                        return Err(StatsError::ImpossibleSums(arm.name));
                    }
                    let nonzero = match arm.nonzero {
                        None => None,
                        Some(raw) => {
                            let k = count(raw, || format!("arms[{i}].nonzero"))?;
                            if k > n {
                                return Err(StatsError::ConversionsExceedN(arm.name));
                            }
                            Some(k)
                        }
                    };
                    Outcome::Sums {
                        sum,
                        sum_squares,
                        nonzero,
                    }
                }
            };
            arms.push(Arm {
                name: arm.name,
                n,
                outcome,
            });
        }
        let weights = match input.weights {
            None => vec![1.0 / arm_count as f64; arm_count],
            Some(weights) => {
                for (i, w) in weights.iter().enumerate() {
                    finite(*w, || format!("weights[{i}]"))?;
                }
                if weights.len() != arm_count {
                    return Err(StatsError::WeightsLength {
                        weights: weights.len(),
                        arms: arm_count,
                    });
                }
                if let Some(w) = weights.iter().find(|w| **w <= 0.0) {
                    return Err(StatsError::WeightNotPositive(*w));
                }
                let total: f64 = weights.iter().sum();
                if (total - 1.0).abs() > WEIGHTS_TOLERANCE {
                    return Err(StatsError::WeightsSum(total));
                }
                weights
            }
        };
        Ok(Self {
            metric,
            alpha,
            weights,
            sequential_tuning: tuning,
            prior: input.prior,
            arms,
        })
    }
}

/// The anytime-valid reading of an effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialResult {
    /// Confidence-sequence interval, valid however often it is looked at.
    pub ci: Interval,
    /// Anytime-valid p-value.
    pub p_value: f64,
}

/// A variant's difference from control on one scale, read three ways.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// Point estimate (relative: 0.2 = 20% better; absolute: in the metric's unit).
    pub estimate: f64,
    /// Fixed-horizon Welch interval.
    pub ci: Interval,
    /// Fixed-horizon two-sided Welch p-value.
    pub p_value: f64,
    /// Sequential (peeking-safe) interval and p-value.
    pub sequential: SequentialResult,
    /// Bayesian chance to win, credible interval and risk.
    pub bayes: BayesEffect,
}

/// What a teacher may conclude about a variant now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An arm is below the minimum-data gate: no conclusion yet.
    NotEnoughData,
    /// The traffic split does not match the weights (SRM p < 0.001): the data are suspect.
    SampleRatioMismatch,
    /// The sequential interval is entirely above zero.
    VariantBetter,
    /// The sequential interval is entirely below zero.
    ControlBetter,
    /// The sequential interval still contains zero: keep the class running.
    KeepGoing,
}

/// A variant's comparison with control (absent on the control arm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versus {
    /// Relative lift; `null` where it is undefined (zero control mean, no variance, n < 2).
    pub relative: Option<Effect>,
    /// Absolute difference; `null` where it is undefined (no variance, n < 2).
    pub absolute: Option<Effect>,
    /// Exact Beta(1,1)-Binomial P(variant rate > control rate) (binomial only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prob_beat_control: Option<f64>,
    /// The chance to show a teacher: the exact Beta-Binomial one for conversions (the Gaussian
    /// is poor on small arms), the Gaussian Bayesian one of the relative lift for means; `null`
    /// below the minimum-data gate, where any number would be read as a result.
    pub chance_to_win: Option<f64>,
    /// The sequential interval the verdict reads: at [`AbOutput::alpha_per_variant`] (alpha
    /// split across the variants), on the relative scale where it is defined, else absolute.
    pub decision: Option<SequentialResult>,
    /// Holm-adjusted relative p-value over all variants (statsmodels parity; informative only,
    /// the verdict reads `decision`).
    pub p_value_holm: Option<f64>,
    /// Benjamini-Hochberg-adjusted relative p-value over all variants (informative only).
    pub p_value_bh: Option<f64>,
    /// What may be concluded now.
    pub verdict: Verdict,
}

/// One arm of the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmResult {
    /// Variant name.
    pub name: String,
    /// Units in the arm.
    pub n: u64,
    /// Conversion rate or mean per unit (`null` when n is 0).
    pub mean: Option<f64>,
    /// Wilson interval of the rate (binomial only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wilson_ci: Option<Interval>,
    /// Whether this arm (and, for a variant, control too) passes the minimum-data gate.
    pub enough_data: bool,
    /// Why not, when `enough_data` is false.
    pub gate_reason: Option<String>,
    /// The comparison with control; absent on control itself.
    #[serde(flatten)]
    pub versus: Option<Versus>,
}

/// The answer of `lectern stats ab`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbOutput {
    /// Sample-ratio-mismatch p-value against the weights (alert below 0.001).
    pub srm_p_value: f64,
    /// The significance level each variant's verdict uses: alpha divided by the number of
    /// variants (Bonferroni), so that the chance of any false "better" stays at most alpha.
    pub alpha_per_variant: f64,
    /// Whether every arm passes the minimum-data gate.
    pub enough_data: bool,
    /// Control first, then the variants, in input order.
    pub arms: Vec<ArmResult>,
}

fn effect(
    control: &Moments,
    variant: &Moments,
    scale: Scale,
    experiment: &Experiment,
) -> Option<Effect> {
    let lift = Lift::new(control, variant, scale)?;
    let (p_value, ci) = lift.welch(experiment.alpha);
    let (seq_p, seq_ci) = lift.sequential(experiment.alpha, experiment.sequential_tuning);
    Some(Effect {
        estimate: lift.estimate,
        ci,
        p_value,
        sequential: SequentialResult {
            ci: seq_ci,
            p_value: seq_p,
        },
        bayes: bayes_effect(
            &lift,
            control.mean,
            scale,
            experiment.prior,
            experiment.alpha,
        ),
    })
}

/// The sequential reading at `alpha` on the relative scale, or the absolute one where the
/// relative lift is undefined (zero control mean).
fn decision(
    control: &Moments,
    variant: &Moments,
    alpha: f64,
    experiment: &Experiment,
) -> Option<SequentialResult> {
    let lift = Lift::new(control, variant, Scale::Relative)
        .or_else(|| Lift::new(control, variant, Scale::Absolute))?;
    let (p_value, ci) = lift.sequential(alpha, experiment.sequential_tuning);
    Some(SequentialResult { ci, p_value })
}

fn verdict(enough_data: bool, srm: f64, versus: &Versus) -> Verdict {
    if !enough_data {
        return Verdict::NotEnoughData;
    }
    if srm < SRM_ALERT {
        return Verdict::SampleRatioMismatch;
    }
    match versus.decision {
        None => Verdict::NotEnoughData,
        Some(d) if d.ci[0] > 0.0 => Verdict::VariantBetter,
        Some(d) if d.ci[1] < 0.0 => Verdict::ControlBetter,
        Some(_) => Verdict::KeepGoing,
    }
}

/// Analyse a validated experiment (infallible: validation already happened).
pub fn analyze_experiment(experiment: &Experiment) -> AbOutput {
    let sizes: Vec<u64> = experiment.arms.iter().map(|a| a.n).collect();
    let srm = srm_p_value(&sizes, &experiment.weights);
    let control = &experiment.arms[0];
    let control_moments = control.moments();
    let control_shortfall = control.shortfall();
    let alpha_per_variant = experiment.alpha / (experiment.arms.len() - 1).max(1) as f64;

    let mut arms: Vec<ArmResult> = Vec::with_capacity(experiment.arms.len());
    for (i, arm) in experiment.arms.iter().enumerate() {
        let moments = arm.moments();
        let wilson_ci = match arm.outcome {
            Outcome::Conversions(c) => wilson_interval(c, arm.n, experiment.alpha),
            Outcome::Sums { .. } => None,
        };
        let reasons: Vec<String> = if i == 0 {
            control_shortfall.iter().cloned().collect()
        } else {
            control_shortfall
                .iter()
                .cloned()
                .chain(arm.shortfall())
                .collect()
        };
        let enough_data = reasons.is_empty();
        let versus = (i > 0).then(|| {
            let prob = match (control.outcome, arm.outcome) {
                (Outcome::Conversions(ca), Outcome::Conversions(cb)) => {
                    Some(prob_beat_control((ca, control.n), (cb, arm.n)))
                }
                _ => None,
            };
            let relative = effect(&control_moments, &moments, Scale::Relative, experiment);
            let absolute = effect(&control_moments, &moments, Scale::Absolute, experiment);
            let chance_to_win = if enough_data {
                prob.or_else(|| relative.or(absolute).map(|e| e.bayes.chance_to_win))
            } else {
                None
            };
            let mut versus = Versus {
                relative,
                absolute,
                prob_beat_control: prob,
                chance_to_win,
                decision: decision(&control_moments, &moments, alpha_per_variant, experiment),
                p_value_holm: None,
                p_value_bh: None,
                verdict: Verdict::NotEnoughData,
            };
            versus.verdict = verdict(enough_data, srm, &versus);
            versus
        });
        arms.push(ArmResult {
            name: arm.name.clone(),
            n: arm.n,
            mean: (arm.n > 0).then_some(moments.mean),
            wilson_ci,
            enough_data,
            gate_reason: (!enough_data).then(|| reasons.join("; ")),
            versus,
        });
    }

    // Adjust over the family of variants that have a relative p-value.
    let family: Vec<(usize, f64)> = arms
        .iter()
        .enumerate()
        .filter_map(|(i, a)| Some((i, a.versus.as_ref()?.relative?.p_value)))
        .collect();
    let raw: Vec<f64> = family.iter().map(|(_, p)| *p).collect();
    let (holm_adjusted, bh_adjusted) = (holm(&raw), benjamini_hochberg(&raw));
    for (k, (i, _)) in family.iter().enumerate() {
        if let Some(versus) = arms[*i].versus.as_mut() {
            versus.p_value_holm = Some(holm_adjusted[k]);
            versus.p_value_bh = Some(bh_adjusted[k]);
        }
    }
    let enough_data = arms.iter().all(|a| a.enough_data);
    AbOutput {
        srm_p_value: srm,
        alpha_per_variant,
        enough_data,
        arms,
    }
}

/// Validate and analyse one `lectern stats ab` request.
pub fn analyze_ab(input: AbInput) -> Result<AbOutput, StatsError> {
    Ok(analyze_experiment(&Experiment::try_from(input)?))
}

/// [`analyze_ab`] on an already-parsed JSON value.
pub fn analyze_ab_value(input: serde_json::Value) -> Result<AbOutput, StatsError> {
    let input: AbInput =
        serde_json::from_value(input).map_err(|e| StatsError::InvalidInput(e.to_string()))?;
    analyze_ab(input)
}

/// [`analyze_ab`] on JSON text, as the CLI reads it from stdin.
pub fn analyze_ab_json(input: &str) -> Result<AbOutput, StatsError> {
    let input: AbInput =
        serde_json::from_str(input).map_err(|e| StatsError::InvalidInput(e.to_string()))?;
    analyze_ab(input)
}
