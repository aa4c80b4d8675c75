//! Invariants that hold for any counts: symmetry under swapping arms, narrowing with more data,
//! probabilities in [0, 1], and the honest nulls and gates.

use lectern_insights::stats::{
    AbOutput, Verdict, Versus, analyze_ab_value, benjamini_hochberg, holm, prob_beat_control,
    wilson_interval,
};
use proptest::prelude::*;
use serde_json::json;

fn binomial(arms: &[(u64, u64)], prior: bool) -> AbOutput {
    let arms: Vec<_> = arms
        .iter()
        .enumerate()
        .map(|(i, (c, n))| json!({"name": format!("arm{i}"), "n": n, "conversions": c}))
        .collect();
    let prior = if prior {
        json!({"mean": 0.0, "variance": 0.09})
    } else {
        json!(null)
    };
    analyze_ab_value(json!({"metric": "binomial", "prior": prior, "arms": arms})).unwrap()
}

fn versus(out: &AbOutput, arm: usize) -> &Versus {
    out.arms[arm].versus.as_ref().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-10 * (1.0 + a.abs().max(b.abs()))
}

fn width(ci: [f64; 2]) -> f64 {
    ci[1] - ci[0]
}

/// Arms with rates away from 0 and 1 so that every effect is defined.
fn arm() -> impl Strategy<Value = (u64, u64)> {
    (20_u64..3000).prop_flat_map(|n| (1..n, Just(n)))
}

proptest! {
    // No failure file: this binary's layout (tests/tests.rs + modules) defeats proptest's
    // source-relative persistence; a failure prints its minimal input instead.
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn swapping_arms_mirrors_absolute_effects(a in arm(), b in arm()) {
        let forward = binomial(&[a, b], false);
        let backward = binomial(&[b, a], false);
        let (f, r) = (versus(&forward, 1), versus(&backward, 1));
        let (fa, ra) = (f.absolute.unwrap(), r.absolute.unwrap());
        prop_assert!(close(fa.estimate, -ra.estimate));
        prop_assert!(close(fa.p_value, ra.p_value));
        prop_assert!(close(fa.ci[0], -ra.ci[1]) && close(fa.ci[1], -ra.ci[0]));
        prop_assert!(close(fa.sequential.p_value, ra.sequential.p_value));
        prop_assert!(close(fa.sequential.ci[0], -ra.sequential.ci[1]));
        prop_assert!(close(fa.bayes.chance_to_win, 1.0 - ra.bayes.chance_to_win));
        prop_assert!(close(fa.bayes.risk[0], ra.bayes.risk[1]) && close(fa.bayes.risk[1], ra.bayes.risk[0]));
        // Ties have probability zero under continuous posteriors.
        prop_assert!(close(f.prob_beat_control.unwrap(), 1.0 - r.prob_beat_control.unwrap()));
        prop_assert!(close(forward.srm_p_value, backward.srm_p_value));
    }

    #[test]
    fn swapping_mean_arms_mirrors_absolute_effects(
        a in (12_u64..5000, 0.5_f64..50.0, 0.5_f64..30.0),
        b in (12_u64..5000, 0.5_f64..50.0, 0.5_f64..30.0),
    ) {
        let arm = |name: &str, (n, mean, sd): (u64, f64, f64)| {
            let sum = mean * n as f64;
            json!({"name": name, "n": n, "sum": sum, "sum_squares": sd * sd * (n - 1) as f64 + sum * sum / n as f64})
        };
        let run = |x, y| analyze_ab_value(json!({"metric": "mean", "arms": [arm("control", x), arm("B", y)]})).unwrap();
        let (forward, backward) = (run(a, b), run(b, a));
        let (fa, ra) = (versus(&forward, 1).absolute.unwrap(), versus(&backward, 1).absolute.unwrap());
        prop_assert!(close(fa.estimate, -ra.estimate));
        prop_assert!(close(fa.p_value, ra.p_value));
        prop_assert!(close(fa.sequential.p_value, ra.sequential.p_value));
        prop_assert!(close(fa.bayes.chance_to_win, 1.0 - ra.bayes.chance_to_win));
        prop_assert!(versus(&forward, 1).prob_beat_control.is_none());
        prop_assert!(forward.arms[0].wilson_ci.is_none());
    }

    #[test]
    fn more_data_narrows_every_interval((c, n) in arm(), (d, m) in arm(), k in 2_u64..8) {
        let small = binomial(&[(c, n), (d, m)], false);
        let large = binomial(&[(c * k, n * k), (d * k, m * k)], false);
        let (s, l) = (versus(&small, 1), versus(&large, 1));
        for i in 0..2 {
            prop_assert!(width(large.arms[i].wilson_ci.unwrap()) < width(small.arms[i].wilson_ci.unwrap()));
        }
        for (se, le) in [(s.relative.unwrap(), l.relative.unwrap()), (s.absolute.unwrap(), l.absolute.unwrap())] {
            prop_assert!(width(le.ci) < width(se.ci));
            prop_assert!(width(le.sequential.ci) < width(se.sequential.ci));
            prop_assert!(width(le.bayes.ci) < width(se.bayes.ci));
        }
    }

    #[test]
    fn probabilities_stay_in_the_unit_interval(
        arms in prop::collection::vec((0_u64..500).prop_flat_map(|n| (0..=n, Just(n))), 2..5),
        prior in any::<bool>(),
    ) {
        let out = binomial(&arms, prior);
        prop_assert!((0.0..=1.0).contains(&out.srm_p_value));
        for (i, result) in out.arms.iter().enumerate() {
            let Some(v) = result.versus.as_ref() else { continue };
            let p = v.prob_beat_control.unwrap();
            prop_assert!((0.0..=1.0).contains(&p), "arm {i}: {p}");
            for e in [v.relative, v.absolute].into_iter().flatten() {
                for p in [e.p_value, e.sequential.p_value, e.bayes.chance_to_win] {
                    prop_assert!((0.0..=1.0).contains(&p), "arm {i}: {p}");
                }
                prop_assert!(e.bayes.risk[0] >= 0.0 && e.bayes.risk[1] >= 0.0);
            }
            if let (Some(h), Some(b), Some(r)) = (v.p_value_holm, v.p_value_bh, v.relative) {
                prop_assert!(r.p_value <= b + 1e-15 && b <= h + 1e-15 && h <= 1.0);
            }
        }
    }

    #[test]
    fn wilson_interval_contains_the_rate(n in 1_u64..100_000, frac in 0.0_f64..=1.0, alpha in 0.001_f64..0.5) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "0..=n")]
        let c = (frac * n as f64).round() as u64;
        let ci = wilson_interval(c, n, alpha).unwrap();
        let rate = c as f64 / n as f64;
        prop_assert!(ci[0] <= rate && rate <= ci[1] && ci[0] >= 0.0 && ci[1] <= 1.0);
    }

    #[test]
    fn adjusted_p_values_dominate_the_raw_ones(raw in prop::collection::vec(0.0_f64..=1.0, 1..6)) {
        let (h, b) = (holm(&raw), benjamini_hochberg(&raw));
        for i in 0..raw.len() {
            // One ulp of slack: the two step procedures round differently.
            prop_assert!(raw[i] <= b[i] * (1.0 + 1e-15) && b[i] <= h[i] * (1.0 + 1e-15) && h[i] <= 1.0);
        }
    }
}

#[test]
fn identical_arms_are_a_coin_flip() {
    let p = prob_beat_control((50, 500), (50, 500));
    assert!((p - 0.5).abs() < 1e-12, "{p}");
}

#[test]
fn exact_chance_to_beat_control_scales_to_a_hundred_thousand() {
    let p = prob_beat_control((5000, 100_000), (5150, 100_000));
    assert!(p > 0.9 && p < 1.0, "{p}");
    let swapped = prob_beat_control((5150, 100_000), (5000, 100_000));
    assert!((p + swapped - 1.0).abs() < 1e-12);
}

#[test]
fn small_arms_fail_the_gate_and_say_why() {
    let out = binomial(&[(3, 40), (7, 38)], false);
    assert!(!out.enough_data);
    assert!(!out.arms[0].enough_data);
    assert!(
        out.arms[0]
            .gate_reason
            .as_deref()
            .unwrap()
            .contains("3 conversion")
    );
    assert_eq!(versus(&out, 1).verdict, Verdict::NotEnoughData);
    // Numbers are still reported: the gate withholds the verdict, not the arithmetic.
    assert!(versus(&out, 1).relative.is_some());
    let ok = binomial(&[(40, 400), (45, 400)], false);
    assert!(ok.enough_data && ok.arms.iter().all(|a| a.gate_reason.is_none()));
    let few_non_conversions = binomial(&[(40, 400), (96, 100)], false);
    assert!(
        few_non_conversions.arms[1]
            .gate_reason
            .as_deref()
            .unwrap()
            .contains("non-conversion")
    );
}

#[test]
fn mean_metric_gate_needs_ten_varying_units() {
    let out = analyze_ab_value(json!({"metric": "mean", "arms": [
        {"name": "control", "n": 9, "sum": 90.0, "sum_squares": 1000.0},
        {"name": "B", "n": 20, "sum": 100.0, "sum_squares": 500.0}]}))
    .unwrap();
    assert!(!out.enough_data);
    assert!(
        out.arms[0]
            .gate_reason
            .as_deref()
            .unwrap()
            .contains("9 unit")
    );
    let flat = analyze_ab_value(json!({"metric": "mean", "arms": [
        {"name": "control", "n": 20, "sum": 100.0, "sum_squares": 700.0},
        {"name": "B", "n": 20, "sum": 100.0, "sum_squares": 500.0}]}))
    .unwrap();
    assert!(
        flat.arms[1]
            .gate_reason
            .as_deref()
            .unwrap()
            .contains("do not vary")
    );
    assert!(
        versus(&flat, 1).relative.is_none(),
        "zero variance: no test, as in gbstats"
    );
}

#[test]
fn undefined_effects_are_null_not_zero() {
    // Control has no conversions: no relative lift, no variance for an absolute test.
    let out = binomial(&[(0, 100), (5, 100)], false);
    let v = versus(&out, 1);
    assert!(v.relative.is_none() && v.absolute.is_none());
    assert!(v.p_value_holm.is_none() && v.p_value_bh.is_none());
    assert!(v.prob_beat_control.unwrap() > 0.95);
    let json = serde_json::to_value(&out).unwrap();
    assert!(json["arms"][1]["relative"].is_null());
    assert!(
        json["arms"][0].get("relative").is_none(),
        "control has no comparison"
    );
    // An empty arm has no mean.
    let empty = binomial(&[(0, 0), (5, 100)], false);
    assert!(empty.arms[0].mean.is_none() && empty.arms[0].wilson_ci.is_none());
}

#[test]
fn verdicts_follow_the_sequential_interval_and_srm() {
    let clear = binomial(&[(500, 10_000), (800, 10_000)], false);
    assert_eq!(versus(&clear, 1).verdict, Verdict::VariantBetter);
    let reversed = binomial(&[(800, 10_000), (500, 10_000)], false);
    assert_eq!(versus(&reversed, 1).verdict, Verdict::ControlBetter);
    let close_call = binomial(&[(500, 10_000), (520, 10_000)], false);
    assert_eq!(versus(&close_call, 1).verdict, Verdict::KeepGoing);
    let lopsided = binomial(&[(500, 10_000), (400, 7_000)], false);
    assert!(lopsided.srm_p_value < 0.001);
    assert_eq!(versus(&lopsided, 1).verdict, Verdict::SampleRatioMismatch);
}

#[test]
fn output_round_trips_through_json() {
    let out = binomial(&[(23, 412), (35, 398), (30, 405)], true);
    let text = serde_json::to_string(&out).unwrap();
    let back: AbOutput = serde_json::from_str(&text).unwrap();
    // Compare through the same float parser: serde_json's default float parsing may differ from
    // the printed shortest form by an ulp.
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    );
    assert_eq!(back.arms.len(), 3);
}
