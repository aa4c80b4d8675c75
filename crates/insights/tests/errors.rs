//! Bad input is refused with its code, never analysed.

use lectern_insights::stats::{
    AbInput, ArmInput, Prior, analyze_ab, analyze_ab_json, analyze_ab_value,
};
use serde_json::json;

fn code_of(input: serde_json::Value) -> String {
    analyze_ab_value(input).unwrap_err().code().to_owned()
}

fn two_arms() -> serde_json::Value {
    json!({"metric": "binomial", "arms": [
        {"name": "control", "n": 100, "conversions": 10},
        {"name": "B", "n": 100, "conversions": 12}]})
}

fn with(mut base: serde_json::Value, pointer: &str, value: serde_json::Value) -> serde_json::Value {
    match pointer.strip_prefix('/').filter(|key| !key.contains('/')) {
        Some(key) => base[key] = value,
        None => *base.pointer_mut(pointer).unwrap() = value,
    }
    base
}

#[test]
fn valid_input_is_accepted() {
    assert!(analyze_ab_value(two_arms()).is_ok());
}

#[test]
fn each_bad_input_has_its_code() {
    let cases = [
        (with(two_arms(), "/arms/0/n", json!(-1)), "negative_count"),
        (
            with(two_arms(), "/arms/1/conversions", json!(-3)),
            "negative_count",
        ),
        (
            with(two_arms(), "/arms/1/conversions", json!(101)),
            "conversions_exceed_n",
        ),
        (
            with(two_arms(), "/arms/1/n", json!(99.5)),
            "not_whole_number",
        ),
        (
            with(two_arms(), "/metric", json!("ratio")),
            "unknown_metric",
        ),
        (
            with(
                two_arms(),
                "/arms",
                json!([{"name": "control", "n": 10, "conversions": 1}]),
            ),
            "too_few_arms",
        ),
        (with(two_arms(), "/arms", json!([])), "too_few_arms"),
        (
            with(two_arms(), "/arms/1/name", json!("control")),
            "duplicate_arm_name",
        ),
        (with(two_arms(), "/alpha", json!(1.5)), "invalid_alpha"),
        (with(two_arms(), "/alpha", json!(0)), "invalid_alpha"),
        (
            with(two_arms(), "/sequential_tuning", json!(0)),
            "invalid_tuning",
        ),
        (
            with(two_arms(), "/prior", json!({"mean": 0.0, "variance": 0.0})),
            "invalid_prior",
        ),
        (
            with(two_arms(), "/arms/1", json!({"name": "B", "n": 100})),
            "missing_field",
        ),
        (
            with(
                two_arms(),
                "/arms/1",
                json!({"name": "B", "n": 100, "conversion": 3}),
            ),
            "invalid_input",
        ),
        (with(two_arms(), "/arms/1/n", json!("100")), "invalid_input"),
    ];
    for (input, code) in cases {
        assert_eq!(code_of(input.clone()), code, "{input}");
    }
}

#[test]
fn weights_must_match_the_arms_and_sum_to_one() {
    let weights = |w: serde_json::Value| {
        let mut base = two_arms();
        base["weights"] = w;
        code_of(base)
    };
    assert_eq!(weights(json!([0.5, 0.4])), "weights_sum");
    assert_eq!(weights(json!([0.5, 0.5 + 2e-9])), "weights_sum");
    assert_eq!(weights(json!([1.0])), "weights_length");
    assert_eq!(weights(json!([1.5, -0.5])), "weight_not_positive");
    let mut ok = two_arms();
    ok["weights"] = json!([0.3, 0.7 + 5e-10]);
    assert!(analyze_ab_value(ok).is_ok(), "within the 1e-9 tolerance");
}

#[test]
fn mean_metric_needs_possible_sums() {
    let mean = |sum: f64, sum_squares: f64| {
        json!({"metric": "mean", "arms": [
            {"name": "control", "n": 10, "sum": 20.0, "sum_squares": 60.0},
            {"name": "B", "n": 10, "sum": sum, "sum_squares": sum_squares}]})
    };
    assert!(analyze_ab_value(mean(20.0, 60.0)).is_ok());
    // sum² / n = 40 > sum_squares: a negative variance.
    assert_eq!(code_of(mean(20.0, 39.0)), "impossible_sums");
    assert_eq!(
        code_of(json!({"metric": "mean", "arms": [
        {"name": "control", "n": 10, "sum": 20.0, "sum_squares": 60.0},
        {"name": "B", "n": 10, "sum": 20.0}]})),
        "missing_field"
    );
}

#[test]
fn non_finite_numbers_from_rust_callers_are_refused() {
    let arm = |name: &str, n: f64, conversions: f64| ArmInput {
        name: name.into(),
        n,
        conversions: Some(conversions),
        sum: None,
        sum_squares: None,
        nonzero: None,
    };
    let input = |arms: Vec<ArmInput>, alpha: f64, prior: Option<Prior>| AbInput {
        metric: "binomial".into(),
        alpha,
        weights: None,
        sequential_tuning: 5000.0,
        prior,
        arms,
    };
    let ok = || vec![arm("control", 10.0, 1.0), arm("B", 10.0, 2.0)];
    let code = |i: AbInput| analyze_ab(i).unwrap_err().code();
    assert_eq!(
        code(input(
            vec![arm("control", f64::NAN, 1.0), arm("B", 10.0, 2.0)],
            0.05,
            None
        )),
        "not_finite"
    );
    assert_eq!(
        code(input(
            vec![arm("control", 10.0, 1.0), arm("B", 10.0, f64::INFINITY)],
            0.05,
            None
        )),
        "not_finite"
    );
    assert_eq!(code(input(ok(), f64::NAN, None)), "not_finite");
    assert_eq!(
        code(input(
            ok(),
            0.05,
            Some(Prior {
                mean: f64::NAN,
                variance: 0.09
            })
        )),
        "not_finite"
    );
    assert!(analyze_ab(input(ok(), 0.05, None)).is_ok());
}

#[test]
fn bad_json_text_and_the_error_object() {
    let err = analyze_ab_json("{not json").unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    let body = analyze_ab_json(r#"{"metric": "median", "arms": []}"#)
        .unwrap_err()
        .to_json();
    assert_eq!(body["error"]["code"], "unknown_metric");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("median")
    );
}
