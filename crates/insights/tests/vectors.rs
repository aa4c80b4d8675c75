//! Every reference vector from `reference/vectors.json` (gbstats 0.8.0, scipy, statsmodels,
//! mpmath) must match to 1e-9, absolute or relative.

use lectern_insights::stats::{AbInput, analyze_ab, distributions};
use serde_json::Value;

const VECTORS: &str = include_str!("../reference/vectors.json");
const TOLERANCE: f64 = 1e-9;
/// Fields Lectern adds to the reference shape (the minimum-data gate, the chance shown, the
/// verdict and the alpha-split interval it reads).
const ADDED_FIELDS: [&str; 6] = [
    "enough_data",
    "gate_reason",
    "verdict",
    "chance_to_win",
    "decision",
    "alpha_per_variant",
];

#[derive(Default)]
struct Deviation {
    worst_abs: f64,
    worst_abs_at: String,
    worst_rel: f64,
    worst_rel_at: String,
    checked: usize,
}

impl Deviation {
    fn number(&mut self, path: &str, expected: f64, actual: f64) {
        let abs = (expected - actual).abs();
        let rel = abs / expected.abs().max(f64::MIN_POSITIVE);
        assert!(
            abs <= TOLERANCE || rel <= TOLERANCE,
            "{path}: expected {expected:e}, got {actual:e} (abs {abs:e}, rel {rel:e})"
        );
        self.checked += 1;
        if abs > self.worst_abs {
            self.worst_abs = abs;
            self.worst_abs_at = path.to_owned();
        }
        if expected != 0.0 && rel > self.worst_rel {
            self.worst_rel = rel;
            self.worst_rel_at = path.to_owned();
        }
    }

    fn summary(&self) -> String {
        format!(
            "{} numbers; worst absolute deviation {:e} at {}; worst relative {:e} at {}",
            self.checked, self.worst_abs, self.worst_abs_at, self.worst_rel, self.worst_rel_at
        )
    }

    fn compare(&mut self, path: &str, expected: &Value, actual: &Value) {
        match (expected, actual) {
            (Value::Number(e), Value::Number(a)) => {
                self.number(path, e.as_f64().unwrap(), a.as_f64().unwrap());
            }
            (Value::Object(e), Value::Object(a)) => {
                for (key, value) in e {
                    let got = a
                        .get(key)
                        .unwrap_or_else(|| panic!("{path}.{key} is missing"));
                    self.compare(&format!("{path}.{key}"), value, got);
                }
                for key in a.keys() {
                    assert!(
                        e.contains_key(key) || ADDED_FIELDS.contains(&key.as_str()),
                        "{path}.{key} is not in the reference shape"
                    );
                }
            }
            (Value::Array(e), Value::Array(a)) => {
                assert_eq!(e.len(), a.len(), "{path}: lengths differ");
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    self.compare(&format!("{path}[{i}]"), ev, av);
                }
            }
            (e, a) => assert_eq!(e, a, "{path}"),
        }
    }
}

fn reference() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

#[test]
fn ab_vectors_match_gbstats_scipy_and_statsmodels() {
    let reference = reference();
    let vectors = reference["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 30, "only {} vectors", vectors.len());
    let mut deviation = Deviation::default();
    for vector in vectors {
        let id = vector["id"].as_str().unwrap();
        let input: AbInput = serde_json::from_value(vector["input"].clone()).unwrap();
        let output = analyze_ab(input).unwrap_or_else(|e| panic!("{id}: {e}"));
        let actual = serde_json::to_value(&output).unwrap();
        deviation.compare(id, &vector["output"], &actual);
    }
    println!("{} vectors: {}", vectors.len(), deviation.summary());
}

#[test]
fn distribution_functions_match_scipy() {
    let reference = reference();
    let mut deviation = Deviation::default();
    for (i, case) in reference["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let args: Vec<f64> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_f64().unwrap())
            .collect();
        let name = case["fn"].as_str().unwrap();
        let actual = match name {
            "student_t_upper_quantile" => distributions::student_t_upper_quantile(args[0], args[1]),
            "student_t_sf" => distributions::student_t_sf(args[0], args[1]),
            "normal_quantile" => distributions::normal_quantile(args[0]),
            "normal_cdf" => distributions::normal_cdf(args[0]),
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "small whole df"
            )]
            "chi_square_sf" => distributions::chi_square_sf(args[0], args[1] as u32),
            other => panic!("unknown function {other}"),
        };
        deviation.number(
            &format!("distributions[{i}] {name}{args:?}"),
            case["value"].as_f64().unwrap(),
            actual,
        );
    }
    println!("distributions: {}", deviation.summary());
}
