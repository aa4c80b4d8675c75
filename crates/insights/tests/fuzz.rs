//! Fuzzing `lectern stats ab`'s input (proptest, stable Rust): the reference vectors' inputs with
//! numbers changed to extremes, fields dropped and bytes changed, and arbitrary text, read by
//! `analyze_ab_json`. Each is an analysis whose numbers are finite where present, or a typed
//! error with a code; nothing panics. Cases: `LECTERN_FUZZ_CASES` (64 in `cargo xtask test`).

use lectern_insights::stats::analyze_ab_json;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("LECTERN_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

fn inputs() -> Vec<serde_json::Value> {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("../reference/vectors.json")).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    vectors.iter().map(|v| v["input"].clone()).collect()
}

/// Replace the `k`th number in `value` (depth first) with `with`.
fn set_number(value: &mut serde_json::Value, k: &mut usize, with: &serde_json::Value) {
    match value {
        serde_json::Value::Number(_) => {
            if *k == 0 {
                *value = with.clone();
            }
            *k = k.wrapping_sub(1);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| set_number(v, k, with)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| set_number(v, k, with)),
        _ => {}
    }
}

fn finite(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Number(n) => n.as_f64().is_none_or(f64::is_finite),
        serde_json::Value::Array(items) => items.iter().all(finite),
        serde_json::Value::Object(map) => map.values().all(finite),
        _ => true,
    }
}

#[test]
fn mutated_and_arbitrary_ab_inputs_are_analysed_or_refused_with_a_code() {
    let inputs = inputs();
    let extreme = prop_oneof![
        Just(serde_json::json!(0)),
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(1e308)),
        Just(serde_json::json!(-1e-308)),
        Just(serde_json::json!(u64::MAX)),
        Just(serde_json::json!(i64::MIN)),
        Just(serde_json::json!(0.5)),
        Just(serde_json::json!(1)),
        Just(serde_json::json!(null)),
        Just(serde_json::json!("7")),
        (0u64..1_000_000).prop_map(|n| serde_json::json!(n)),
    ];
    let mutated = (
        0..inputs.len(),
        proptest::collection::vec((any::<usize>(), extreme), 1..4),
        proptest::option::of((any::<usize>(), any::<u8>())),
    )
        .prop_map(move |(which, numbers, byte)| {
            let mut input = inputs[which].clone();
            for (k, with) in numbers {
                let mut k = k % 40;
                set_number(&mut input, &mut k, &with);
            }
            let mut text = input.to_string().into_bytes();
            if let Some((at, b)) = byte {
                let len = text.len();
                text[at % len] = b;
            }
            String::from_utf8_lossy(&text).into_owned()
        });
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(text in prop_oneof![5 => mutated, 1 => "\\PC{0,200}"])| {
        match analyze_ab_json(&text) {
            Ok(output) => {
                let json = serde_json::to_value(&output).unwrap();
                prop_assert!(finite(&json), "{json}");
            }
            Err(err) => {
                let json = err.to_json();
                prop_assert!(json["error"]["code"].as_str().is_some_and(|c| !c.is_empty()), "{json}");
            }
        }
    });
}
