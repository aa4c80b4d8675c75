//! Tests on raw counts: Wilson intervals, the exact Beta-Binomial chance to beat control, the
//! sample-ratio-mismatch check, and the multiple-comparison adjustments.

use super::effect::Interval;
use super::special::{chi_square_sf, normal_quantile};

/// Compensated (Neumaier) summation: the Beta-Binomial sums run over 1e5 terms, and plain
/// summation would lose ~1e-10 there.
#[derive(Default)]
struct CompensatedSum {
    sum: f64,
    carry: f64,
}

impl CompensatedSum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.carry += (self.sum - t) + x;
        } else {
            self.carry += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.carry
    }
}

/// Wilson score interval for `conversions` of `n` at level 1 - `alpha` (statsmodels'
/// `proportion_confint(method="wilson")`, clipped to [0, 1]); `None` when `n` is 0.
pub fn wilson_interval(conversions: u64, n: u64, alpha: f64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let q = conversions as f64 / nf;
    let crit = -normal_quantile(alpha / 2.0);
    let crit2 = crit * crit;
    let denom = 1.0 + crit2 / nf;
    let center = (q + crit2 / (2.0 * nf)) / denom;
    let dist = crit * (q * (1.0 - q) / nf + crit2 / (4.0 * nf * nf)).sqrt() / denom;
    Some([
        (center - dist).clamp(0.0, 1.0),
        (center + dist).clamp(0.0, 1.0),
    ])
}

/// Exact P(p_variant > p_control) with independent Beta(1, 1) priors on both rates, as the
/// finite sum of Evan Miller's formula. Every term is positive, so the sum is stable; the terms
/// are built by their ratio in log space (no huge ln-gamma differences) and summed with a
/// running maximum, which keeps n = 100 000 per arm exact to ~1e-13 in well under a second.
pub fn prob_beat_control(control: (u64, u64), variant: (u64, u64)) -> f64 {
    let (c_a, n_a) = control;
    let (c_b, n_b) = variant;
    let alpha_a = 1.0 + c_a as f64;
    let beta_a = 1.0 + n_a.saturating_sub(c_a) as f64;
    let alpha_b_terms = 1 + c_b;
    let beta_b_steps = 1 + n_b.saturating_sub(c_b);
    let beta_b = beta_b_steps as f64;

    // ln of the i = 0 term: Γ(βA+βB)Γ(αA+βA) / (Γ(αA+βA+βB)Γ(βA)) as a product of βB ratios.
    let mut ln_term = CompensatedSum::default();
    for j in 0..beta_b_steps {
        ln_term.add((-alpha_a / (alpha_a + beta_a + j as f64)).ln_1p());
    }
    // Sum exp(ln_term_i) over i < αB, rescaling whenever a larger term appears.
    let mut max_ln = f64::NEG_INFINITY;
    let mut scaled = CompensatedSum::default();
    for i in 0..alpha_b_terms {
        let l = ln_term.value();
        if l > max_ln {
            let rescale = (max_ln - l).exp();
            scaled = CompensatedSum {
                sum: scaled.sum * rescale,
                carry: scaled.carry * rescale,
            };
            max_ln = l;
        }
        scaled.add((l - max_ln).exp());
        let i = i as f64;
        ln_term.add(
            ((alpha_a + i) / (alpha_a + beta_a + beta_b + i)).ln()
                + ((beta_b + i) / (1.0 + i)).ln(),
        );
    }
    (scaled.value() * max_ln.exp()).clamp(0.0, 1.0)
}

/// Sample-ratio-mismatch p-value: Pearson's chi-square of the observed arm sizes against the
/// configured weights (normalised to sum to 1), with arms - 1 degrees of freedom. 1 when there
/// are no units at all; below 0.001 the split is not to be trusted.
pub fn srm_p_value(sizes: &[u64], weights: &[f64]) -> f64 {
    let total: f64 = sizes.iter().map(|&n| n as f64).sum();
    if total == 0.0 || sizes.len() < 2 {
        return 1.0;
    }
    let weight_sum: f64 = weights.iter().sum();
    let statistic: f64 = sizes
        .iter()
        .zip(weights)
        .filter(|(_, w)| **w > 0.0)
        .map(|(&o, &w)| {
            let expected = w / weight_sum * total;
            (o as f64 - expected).powi(2) / expected
        })
        .sum();
    let df = u32::try_from(sizes.len() - 1).unwrap_or(u32::MAX);
    chi_square_sf(statistic, df)
}

/// Indices that sort `p_values` ascending (NaN last).
fn ascending(p_values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p_values.len()).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    order
}

/// Holm step-down adjusted p-values (statsmodels `multipletests(method="holm")`).
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut adjusted = vec![0.0; m];
    let mut running_max = 0.0_f64;
    for (rank, &i) in ascending(p_values).iter().enumerate() {
        running_max = running_max.max((m - rank) as f64 * p_values[i]);
        adjusted[i] = running_max.min(1.0);
    }
    adjusted
}

/// Benjamini-Hochberg step-up adjusted p-values (statsmodels `method="fdr_bh"`).
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut adjusted = vec![0.0; m];
    let mut running_min = f64::INFINITY;
    for (rank, &i) in ascending(p_values).iter().enumerate().rev() {
        // statsmodels' arithmetic: p / ((rank + 1) / m), exact at the largest p-value.
        running_min = running_min.min(p_values[i] / ((rank + 1) as f64 / m as f64));
        adjusted[i] = running_min.min(1.0);
    }
    adjusted
}
