//! The planner: classes needed to detect a lift.

use lectern_insights::stats::{PlanInput, plan_classes};

fn input(lift: f64, class_size: u64) -> PlanInput {
    PlanInput {
        metric: "binomial".into(),
        baseline_mean: 0.05,
        baseline_sd: None,
        relative_lift: lift,
        alpha: 0.05,
        power: 0.8,
        class_size,
        weights: None,
        sequential_tuning: None,
    }
}

#[test]
fn conversion_plan_matches_the_closed_form() {
    // (z_0.975 + z_0.8)² / 0.2² · (0.06·0.94 / (0.05²·0.5) + 0.05·0.95·0.06² / (0.05⁴·0.5)),
    // with z from scipy: 1.959963984540054 + 0.8416212335729143.
    let z: f64 = 1.959_963_984_540_054 + 0.841_621_233_572_914_3;
    let needed = (z / 0.2).powi(2)
        * (0.06 * 0.94 / (0.0025 * 0.5) + 0.0475 * 0.0036 / (0.05_f64.powi(4) * 0.5));
    let plan = plan_classes(&input(0.2, 150)).unwrap();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "small positive"
    )]
    let expected = needed.ceil() as u64;
    assert_eq!(plan.units_needed, expected);
    assert_eq!(plan.classes, expected.div_ceil(150));
    assert_eq!(plan.units_per_arm.len(), 2);
}

#[test]
fn bigger_lifts_and_bigger_classes_need_fewer_classes() {
    let base = plan_classes(&input(0.2, 100)).unwrap();
    assert!(plan_classes(&input(0.4, 100)).unwrap().classes < base.classes);
    assert!(plan_classes(&input(0.2, 400)).unwrap().classes < base.classes);
    // Detecting a drop is also planned.
    assert!(plan_classes(&input(-0.2, 100)).unwrap().classes > 0);
}

#[test]
fn mean_metric_and_uneven_weights() {
    let mut plan = input(0.1, 200);
    plan.metric = "mean".into();
    plan.baseline_mean = 30.0;
    plan.baseline_sd = Some(20.0);
    let even = plan_classes(&plan).unwrap();
    plan.weights = Some(vec![0.5, 0.25, 0.25]);
    let three = plan_classes(&plan).unwrap();
    assert!(
        three.classes > even.classes,
        "thinner variant arms need more classes"
    );
}

#[test]
fn nonsense_plans_are_refused() {
    let code = |p: PlanInput| plan_classes(&p).unwrap_err().code();
    assert_eq!(code(input(0.0, 100)), "invalid_plan");
    assert_eq!(code(input(0.2, 0)), "invalid_plan");
    assert_eq!(code(input(25.0, 100)), "invalid_plan");
    let mut p = input(0.2, 100);
    p.power = 1.0;
    assert_eq!(code(p), "invalid_power");
    let mut p = input(0.2, 100);
    p.metric = "mean".into();
    assert_eq!(code(p), "invalid_plan");
    let mut p = input(0.2, 100);
    p.weights = Some(vec![0.6, 0.6]);
    assert_eq!(code(p), "weights_sum");
}
