//! Variant-versus-control effects: the fixed-horizon Welch test, the sequential test and the
//! Gaussian Bayesian effect, each as gbstats 0.8.0 computes them.

use serde::{Deserialize, Serialize};

use super::special::{
    normal_cdf, normal_pdf, normal_quantile, normal_sf, student_t_sf, student_t_upper_quantile,
};

/// What an arm measured, reduced to the three numbers every test needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Units in the arm (viewers or sessions).
    pub n: f64,
    /// Conversion rate or mean value per unit.
    pub mean: f64,
    /// Per-unit variance: p(1 - p) for conversions (as gbstats), the sample variance for means.
    pub variance: f64,
}

impl Moments {
    /// A conversion arm: `conversions` of `n` units converted. The variance is p(1 - p), the
    /// population form gbstats uses, not the n - 1 sample form.
    pub fn binomial(conversions: u64, n: u64) -> Self {
        let nf = n as f64;
        let mean = if n == 0 { 0.0 } else { conversions as f64 / nf };
        Self {
            n: nf,
            mean,
            variance: mean * (1.0 - mean),
        }
    }

    /// A mean-metric arm given by its count, sum and sum of squares.
    pub fn from_sums(n: u64, sum: f64, sum_squares: f64) -> Self {
        let nf = n as f64;
        let mean = if n == 0 { 0.0 } else { sum / nf };
        let variance = if n <= 1 {
            0.0
        } else {
            (sum_squares - sum * sum / nf) / (nf - 1.0)
        };
        Self {
            n: nf,
            mean,
            variance,
        }
    }
}

/// On which scale a difference between variant and control is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// (variant - control) / control: a lift of 0.2 means 20% better.
    Relative,
    /// variant - control, in the metric's own unit (rate points, currency, minutes).
    Absolute,
}

/// A Gaussian prior on the relative lift (gbstats' `prior_type = "relative"`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prior {
    /// Prior mean of the relative lift.
    pub mean: f64,
    /// Prior variance of the relative lift (0.09 is a standard deviation of 30%).
    pub variance: f64,
}

/// A two-sided interval `[low, high]`.
pub type Interval = [f64; 2];

/// The difference between a variant and control on one scale, with the frequentist estimate's
/// normal approximation (delta method on the relative scale).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lift {
    /// Point estimate of the difference.
    pub estimate: f64,
    /// Variance of the estimate.
    pub variance: f64,
    /// Welch-Satterthwaite degrees of freedom.
    pub dof: f64,
    /// Units in both arms (the sequential test's N).
    pub total_n: f64,
}

impl Lift {
    /// The difference of `variant` against `control`, or `None` where gbstats has no result:
    /// an arm with fewer than two units or zero variance, or a zero control mean on the
    /// relative scale.
    pub fn new(control: &Moments, variant: &Moments, scale: Scale) -> Option<Self> {
        let (a, b) = (control, variant);
        if a.n < 2.0 || b.n < 2.0 || a.variance <= 0.0 || b.variance <= 0.0 {
            return None;
        }
        let (estimate, variance) = match scale {
            Scale::Relative => {
                if a.mean == 0.0 {
                    return None;
                }
                (
                    (b.mean - a.mean) / a.mean,
                    b.variance / (a.mean.powi(2) * b.n)
                        + a.variance * b.mean.powi(2) / (a.mean.powi(4) * a.n),
                )
            }
            Scale::Absolute => (b.mean - a.mean, b.variance / b.n + a.variance / a.n),
        };
        let dof = (b.variance / b.n + a.variance / a.n).powi(2)
            / (b.variance.powi(2) / (b.n.powi(2) * (b.n - 1.0))
                + a.variance.powi(2) / (a.n.powi(2) * (a.n - 1.0)));
        let lift = Self {
            estimate,
            variance,
            dof,
            total_n: a.n + b.n,
        };
        lift.is_finite().then_some(lift)
    }

    fn is_finite(&self) -> bool {
        self.estimate.is_finite()
            && self.variance.is_finite()
            && self.variance > 0.0
            && self.dof > 0.0
    }

    /// Fixed-horizon two-sided Welch t-test (gbstats `TwoSidedTTest`): (p-value, interval).
    pub fn welch(&self, alpha: f64) -> (f64, Interval) {
        let se = self.variance.sqrt();
        let t = self.estimate / se;
        let p_value = (2.0 * student_t_sf(t.abs(), self.dof)).min(1.0);
        let width = student_t_upper_quantile(alpha / 2.0, self.dof) * se;
        (p_value, [self.estimate - width, self.estimate + width])
    }

    /// Anytime-valid test (gbstats `SequentialTwoSidedTTest`; Waudby-Smith et al. 2023,
    /// eqs. 9, 155 and 161), tuned for an expected `tuning` units in total: (p-value, interval).
    pub fn sequential(&self, alpha: f64, tuning: f64) -> (f64, Interval) {
        let n = self.total_n;
        let rho2 = (-2.0 * alpha.ln() + (-2.0 * alpha.ln() + 1.0).ln()) / tuning;
        let s2 = self.variance * n;
        let width = s2.sqrt()
            * ((2.0 * (n * rho2 + 1.0)) * ((n * rho2 + 1.0).sqrt() / alpha).ln() / (n * n * rho2))
                .sqrt();
        let st2 = self.estimate.powi(2) * n / self.variance;
        let tr2p1 = n * rho2 + 1.0;
        // exp may overflow to infinity for overwhelming evidence; 1/inf = 0 is the right answer.
        let e_value = (rho2 * st2 / (2.0 * tr2p1)).exp() / tr2p1.sqrt();
        (
            (1.0 / e_value).min(1.0),
            [self.estimate - width, self.estimate + width],
        )
    }
}

/// The Bayesian reading of one effect (gbstats `EffectBayesianABTest`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BayesEffect {
    /// Posterior probability that the variant is better than control.
    pub chance_to_win: f64,
    /// Equal-tailed credible interval.
    pub ci: Interval,
    /// Expected loss `[choosing control, choosing the variant]`.
    pub risk: [f64; 2],
}

/// Gaussian posterior of the effect: flat prior when `prior` is `None`, else the relative prior
/// (rescaled by the control mean on the absolute scale, as gbstats does).
pub fn bayes_effect(
    lift: &Lift,
    control_mean: f64,
    scale: Scale,
    prior: Option<Prior>,
    alpha: f64,
) -> BayesEffect {
    let (mean, std) = match prior {
        None => (lift.estimate, lift.variance.sqrt()),
        Some(p) => {
            let (prior_mean, prior_variance) = match scale {
                Scale::Relative => (p.mean, p.variance),
                Scale::Absolute => (
                    p.mean * control_mean.abs(),
                    p.variance * control_mean.powi(2),
                ),
            };
            let precision = 1.0 / lift.variance + 1.0 / prior_variance;
            (
                (lift.estimate / lift.variance + prior_mean / prior_variance) / precision,
                (1.0 / precision).sqrt(),
            )
        }
    };
    let z = mean / std;
    // Expected loss from the truncated-normal means: E[max(X, 0)] and E[max(-X, 0)].
    let risk_control = mean * normal_cdf(z) + std * normal_pdf(z);
    let risk_variant = std * normal_pdf(z) - mean * normal_sf(z);
    BayesEffect {
        chance_to_win: normal_sf(-z),
        ci: [
            mean + std * normal_quantile(alpha / 2.0),
            mean + std * normal_quantile(1.0 - alpha / 2.0),
        ],
        // Both are expectations of non-negative parts; far in a tail the two terms cancel to a
        // rounding error of either sign.
        risk: [risk_control.max(0.0), risk_variant.max(0.0)],
    }
}
