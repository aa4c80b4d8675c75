//! Distribution functions the tests need, accurate to ~1e-15.
//!
//! `libm` supplies erfc and ln-gamma; the rest is ours. Not statrs: its t quantile is wrong at
//! large degrees of freedom, its incomplete beta caps its continued fraction at 140 steps and
//! rounds `x` near 1 to 1 (losing the centre of a t with 1e5 df), and its erfc is off by ~1e-10
//! on [0.5, 0.75).

use libm::{erfc, lgamma as ln_gamma};

/// ln(sqrt(pi)) = ln Γ(1/2).
const LN_SQRT_PI: f64 = 0.572_364_942_924_700_1;

/// Standard normal cdf Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal survival function 1 - Φ(x), without cancellation in the upper tail.
pub fn normal_sf(x: f64) -> f64 {
    0.5 * erfc(x / std::f64::consts::SQRT_2)
}

/// Standard normal density φ(x).
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal quantile Φ⁻¹(p) for p in (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || p <= 0.0 || p >= 1.0 {
        return match p {
            0.0 => f64::NEG_INFINITY,
            1.0 => f64::INFINITY,
            _ => f64::NAN,
        };
    }
    // Work on the lower tail so that 1 - p never loses digits: Φ⁻¹(p) = -Φ⁻¹(1 - p).
    if p > 0.5 {
        return -lower_normal_quantile(1.0 - p);
    }
    lower_normal_quantile(p)
}

/// Φ⁻¹(p) for p in (0, 0.5]: Abramowitz-Stegun 26.2.23 (error < 4.5e-4) polished by Halley
/// steps on the accurate cdf, which converge to full precision in two or three steps.
fn lower_normal_quantile(p: f64) -> f64 {
    let t = (-2.0 * p.ln()).sqrt();
    let mut x = -(t
        - (2.515_517 + 0.802_853 * t + 0.010_328 * t * t)
            / (1.0 + 1.432_788 * t + 0.189_269 * t * t + 0.001_308 * t * t * t));
    for _ in 0..8 {
        let u = (normal_cdf(x) - p) / normal_pdf(x);
        let step = u / (1.0 + 0.5 * x * u);
        x -= step;
        if step.abs() <= 1e-16 * x.abs().max(1e-300) {
            break;
        }
    }
    x
}

/// ln Γ(a + 1/2) - ln Γ(a), without the cancellation of two huge ln-gammas when a is large.
fn ln_gamma_half_step(a: f64) -> f64 {
    if a < 20.0 {
        return ln_gamma(a + 0.5) - ln_gamma(a);
    }
    // Stirling's series; the first omitted term is below 1e-16 for a >= 20.
    let stirling_tail = |x: f64| {
        let x2 = x * x;
        (1.0 / 12.0
            - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / (1188.0 * x2)) / x2) / x2) / x2)
            / x
    };
    a * (0.5 / a).ln_1p() + 0.5 * a.ln() - 0.5 + stirling_tail(a + 0.5) - stirling_tail(a)
}

/// Continued fraction of the regularised incomplete beta (modified Lentz, Numerical Recipes'
/// betacf), converging fast when x < (a + 1) / (a + b + 2). `y` is 1 - x, passed separately:
/// with a huge `a` and x near 1 the first term 1 - (a + b) x / (a + 1) cancels to ~1e-7, and
/// forming it from `y` keeps the digits that `x` has lost.
fn beta_continued_fraction(a: f64, b: f64, x: f64, y: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    // Convergence takes about sqrt(max(a, b)) steps; the cap only guards against NaN input.
    const MAX_STEPS: u32 = 1_000_000;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / guard((1.0 - b + qab * y) / qap);
    let mut h = d;
    for m in 1..=MAX_STEPS {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// P(|T| > |t|) for Student's t with `df` degrees of freedom (df > 0, real).
fn student_t_two_tail(t: f64, df: f64) -> f64 {
    if t == 0.0 {
        return 1.0;
    }
    if t.is_infinite() {
        return 0.0;
    }
    // P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t²); both x and 1 - x are formed
    // directly so that neither side loses digits.
    let r = t * t / df;
    let (a, b) = (0.5 * df, 0.5);
    let ln_x = -r.ln_1p();
    let ln_one_minus_x = r.ln() - r.ln_1p();
    let x = 1.0 / (1.0 + r);
    let y = r / (1.0 + r);
    let ln_beta = LN_SQRT_PI - ln_gamma_half_step(a);
    let front = (a * ln_x + b * ln_one_minus_x - ln_beta).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x, y) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, y, x) / b
    }
}

/// Student's t survival function P(T > t).
pub fn student_t_sf(t: f64, df: f64) -> f64 {
    if df.is_infinite() {
        return normal_sf(t);
    }
    // At large df the incomplete beta loses ~1e-9 to rounding (a = df/2 is huge and x is within
    // 1e-7 of 1); Fisher's expansion in 1/df is exact to ~1e-15 there while t⁴/df is small.
    if df >= 1e4 && t.powi(4) < 0.01 * df {
        return student_t_sf_fisher(t, df);
    }
    let half_tail = 0.5 * student_t_two_tail(t, df);
    if t > 0.0 { half_tail } else { 1.0 - half_tail }
}

/// P(T > t) = Q(t) + φ(t) (g1/ν + g2/ν² + g3/ν³), Fisher (1925); the coefficients were checked
/// against 120-digit incomplete-beta values (the omitted term is O(t¹⁵/ν⁴)).
fn student_t_sf_fisher(t: f64, nu: f64) -> f64 {
    let t2 = t * t;
    let g1 = t * (t2 + 1.0) / 4.0;
    let g2 = t * (((3.0 * t2 - 7.0) * t2 - 5.0) * t2 - 3.0) / 96.0;
    let g3 = t * (((((t2 - 11.0) * t2 + 14.0) * t2 + 6.0) * t2 - 3.0) * t2 - 15.0) / 384.0;
    normal_sf(t) + normal_pdf(t) * (g1 + (g2 + g3 / nu) / nu) / nu
}

/// Student's t density.
fn student_t_pdf(t: f64, df: f64) -> f64 {
    let ln_norm = ln_gamma_half_step(0.5 * df) - 0.5 * (df * std::f64::consts::PI).ln();
    (ln_norm - 0.5 * (df + 1.0) * (t * t / df).ln_1p()).exp()
}

/// The upper quantile q with P(T > q) = p, for p in (0, 0.5]: safeguarded Newton steps on the
/// survival function from the normal quantile (which is always below the t quantile).
pub fn student_t_upper_quantile(p: f64, df: f64) -> f64 {
    let start = -normal_quantile(p);
    if df.is_infinite() || p >= 0.5 {
        return start.max(0.0);
    }
    let (mut lo, mut hi) = (0.0_f64, start.max(1.0));
    // Double the upper bracket until it is past the quantile (df >= 1 needs at most ~60 steps).
    for _ in 0..200 {
        if student_t_sf(hi, df) < p {
            break;
        }
        lo = hi;
        hi *= 2.0;
    }
    let mut q = start.clamp(lo, hi);
    for _ in 0..200 {
        let excess = student_t_sf(q, df) - p;
        if excess > 0.0 {
            lo = q;
        } else {
            hi = q;
        }
        let mut next = q + excess / student_t_pdf(q, df);
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - q).abs() <= 1e-15 * q.abs() {
            return next;
        }
        q = next;
    }
    q
}

/// Chi-square survival function for an integer number of degrees of freedom, by the exact
/// recurrence Q(k + 2, x) = Q(k, x) + (x/2)^(k/2) e^(-x/2) / Γ(k/2 + 1).
pub fn chi_square_sf(x: f64, df: u32) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let half = 0.5 * x;
    let (mut q, mut k) = if df % 2 == 1 {
        (erfc(half.sqrt()), 1_u32)
    } else {
        ((-half).exp(), 2_u32)
    };
    while k < df {
        let kh = 0.5 * f64::from(k);
        q += (kh * half.ln() - half - ln_gamma(kh + 1.0)).exp();
        k += 2;
    }
    q.min(1.0)
}
