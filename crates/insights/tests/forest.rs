//! The random forest: it finds a planted interaction that a logistic regression cannot, is
//! reproducible for a seed, refuses thin data like `propensity::train`, and reads back only
//! well-formed models.

use lectern_insights::forest::{Forest, ForestParams, train_forest};
use lectern_insights::propensity::{
    AttendeeRow, AttendeeRows, Cut, FEATURES, MIN_BUYERS, PropensityError, train,
};

const DAY: i64 = 86_400_000;

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn at(name: &str) -> usize {
    FEATURES.iter().position(|f| *f == name).unwrap()
}

/// Sessions three days apart (cut an hour after the start, labelled over a day, so no window
/// reaches the next class) of attendees whose chance to buy is high when exactly one of
/// "watched most of the class" and "bought in the last two months" holds: an interaction with
/// no linear trend.
fn school(sessions: i64, per_session: usize, seed: u64) -> AttendeeRows {
    let mut rng = Rng(seed);
    let mut rows = Vec::new();
    for s in 0..sessions {
        for a in 0..per_session {
            let mut features = [0.0; FEATURES.len()];
            for v in features.iter_mut() {
                *v = (rng.unit() * 5.0).floor(); // noise in every other feature
            }
            let watch = rng.unit() * 90.0;
            let days = rng.unit() * 365.0;
            features[at("watch_minutes")] = watch;
            features[at("days_since_last_purchase")] = days;
            let p = if (watch > 45.0) != (days < 120.0) {
                0.55
            } else {
                0.04
            };
            let start = 1_000 * DAY + s * 3 * DAY;
            rows.push(AttendeeRow {
                session_id: s + 1,
                session_started_at_ms: start,
                cut_at_ms: start + DAY / 24,
                learner: format!("lrn_{s}_{a}"),
                features,
                bought: Some(rng.unit() < p),
            });
        }
    }
    AttendeeRows {
        cut: Cut::SessionEnd,
        window_ms: DAY,
        data_end_ms: 2_000 * DAY,
        rows,
        owners_left_out: 0,
    }
}

fn xy(rows: &AttendeeRows) -> (Vec<Vec<f64>>, Vec<bool>) {
    rows.rows
        .iter()
        .map(|r| (r.features.to_vec(), r.bought == Some(true)))
        .unzip()
}

#[test]
fn the_forest_finds_an_interaction_the_logistic_model_misses() {
    let rows = school(40, 60, 7);
    let params = ForestParams {
        trees: 60,
        ..ForestParams::default()
    };
    let mut ticks = Vec::new();
    let model = train_forest(&rows, &params, |done, total| ticks.push((done, total))).unwrap();
    assert_eq!(ticks.len(), 60);
    assert_eq!(ticks.first(), Some(&(1, 60)));
    assert_eq!(ticks.last(), Some(&(60, 60)));

    let q = &model.quality;
    assert_eq!(q.gap_rows, 0);
    assert_eq!(q.train_rows + q.holdout_rows, rows.rows.len());
    assert_eq!(
        q.holdout_rows,
        10 * 60,
        "the most recent quarter of the sessions"
    );
    let logistic = train(&rows).unwrap();
    eprintln!(
        "forest AUC {:?}, logistic AUC {:?}",
        q.auc, logistic.quality.auc
    );
    assert!(q.auc.low > 0.7, "forest AUC {:?}", q.auc);
    assert!(
        logistic.quality.auc.high < q.auc.low,
        "logistic AUC {:?}",
        logistic.quality.auc
    );
    assert!(
        q.brier < logistic.quality.brier,
        "{} vs {}",
        q.brier,
        logistic.quality.brier
    );
    assert_eq!(
        q.calibration.iter().map(|b| b.count).sum::<usize>(),
        q.holdout_rows
    );
    for r in &rows.rows {
        let p = model.probability(&r.features);
        assert!((0.0..=1.0).contains(&p), "{p}");
    }
    // The planted features carry the splits.
    let importances = model.forest.importances();
    let planted: f64 = importances
        .iter()
        .filter(|(name, _)| ["watch_minutes", "days_since_last_purchase"].contains(name))
        .map(|(_, g)| g)
        .sum();
    assert!(planted > 0.6, "{importances:?}");
    assert!((importances.iter().map(|(_, g)| g).sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn a_seed_makes_the_same_forest_and_another_seed_another() {
    let (x, y) = xy(&school(12, 50, 3));
    let params = ForestParams {
        trees: 10,
        ..ForestParams::default()
    };
    let a = Forest::fit(&x, &y, &FEATURES, &params, |_, _| {}).unwrap();
    let b = Forest::fit(&x, &y, &FEATURES, &params, |_, _| {}).unwrap();
    assert_eq!(a, b);
    let c = Forest::fit(
        &x,
        &y,
        &FEATURES,
        &ForestParams { seed: 99, ..params },
        |_, _| {},
    )
    .unwrap();
    assert_ne!(a, c);
    // Leaves hold at least `min_samples_leaf` bootstrap rows, so no tree memorises a row:
    // a forest of one deep-allowed tree still predicts shares, not 0/1 for every row.
    let one = Forest::fit(
        &x,
        &y,
        &FEATURES,
        &ForestParams {
            trees: 1,
            max_depth: 30,
            ..params
        },
        |_, _| {},
    )
    .unwrap();
    let extreme = x
        .iter()
        .filter(|r| matches!(one.probability(r), Some(p) if p == 0.0 || p == 1.0))
        .count();
    assert!(
        extreme < x.len() / 2,
        "{extreme} of {} rows at 0 or 1",
        x.len()
    );
}

#[test]
fn thin_data_is_refused_as_the_logistic_model_refuses_it() {
    let params = ForestParams {
        trees: 5,
        ..ForestParams::default()
    };
    // Keep exactly MIN_BUYERS - 1 buyers among the rows learned from (the older classes).
    let mut few = school(12, 60, 5);
    let first_held = 10; // the latest quarter of 12 classes is 9..=11 (ids 10..=12)
    let mut buyers = 0;
    for r in few.rows.iter_mut().filter(|r| r.session_id < first_held) {
        if r.bought == Some(true) {
            buyers += 1;
            r.bought = Some(buyers < MIN_BUYERS);
        }
    }
    assert!(buyers >= MIN_BUYERS, "the school has enough buyers to thin");
    let err = train_forest(&few, &params, |_, _| {}).unwrap_err();
    assert!(
        matches!(err, PropensityError::TooLittleData { buyers, .. } if buyers == MIN_BUYERS - 1),
        "{err:?}"
    );
    assert_eq!(Some(&err), train(&few).err().as_ref());
    // One more buyer is enough.
    if let Some(r) = few
        .rows
        .iter_mut()
        .find(|r| r.session_id < first_held && r.bought == Some(false))
    {
        r.bought = Some(true);
    }
    assert!(train_forest(&few, &params, |_, _| {}).is_ok());
    assert!(train(&few).is_ok());

    // Open windows are never learned from.
    for r in &mut few.rows {
        r.bought = None;
    }
    let err = train_forest(&few, &params, |_, _| {}).unwrap_err();
    assert_eq!(
        err,
        PropensityError::TooLittleData {
            buyers: 0,
            non_buyers: 0,
            gap_rows: 0
        }
    );

    // Bad input to the forest itself is a typed error.
    let x = vec![vec![1.0, f64::NAN]; 50];
    let y: Vec<bool> = (0..50).map(|i| i % 2 == 0).collect();
    let err = Forest::fit(&x, &y, &["a", "b"], &params, |_, _| {}).unwrap_err();
    assert_eq!(err.code(), "training_failed");
}

#[test]
fn a_stored_forest_reads_back_and_a_damaged_one_is_refused() {
    let (x, y) = xy(&school(12, 50, 11));
    let params = ForestParams {
        trees: 4,
        ..ForestParams::default()
    };
    let forest = Forest::fit(&x, &y, &FEATURES, &params, |_, _| {}).unwrap();
    let json = serde_json::to_string(&forest).unwrap();
    let back: Forest = serde_json::from_str(&json).unwrap();
    assert_eq!(back.feature_names(), forest.feature_names());
    assert_eq!(
        (back.trees(), back.nodes()),
        (forest.trees(), forest.nodes())
    );
    // serde_json's default parser may be an ulp off (the store reads with float_roundtrip).
    for r in &x {
        let (a, b) = (back.probability(r).unwrap(), forest.probability(r).unwrap());
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    assert_eq!(forest.probability(&[1.0, 2.0]), None, "wrong width");

    // Damage: a child that points back at its parent (a loop), a feature out of range,
    // a leaf that is not a probability, a truncated file.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let tree = &mut value["trees"][0];
    assert!(tree["feature"][0].as_i64().unwrap() >= 0, "the root splits");
    let mut looped = value.clone();
    looped["trees"][0]["left"][0] = serde_json::json!(0);
    let mut out_of_range = value.clone();
    out_of_range["trees"][0]["feature"][0] = serde_json::json!(FEATURES.len());
    let mut not_probability = value.clone();
    let leaf = not_probability["trees"][0]["feature"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f.as_i64() == Some(-1))
        .unwrap();
    not_probability["trees"][0]["value"][leaf] = serde_json::json!(1.5);
    for damaged in [
        looped.to_string(),
        out_of_range.to_string(),
        not_probability.to_string(),
        json[..json.len() / 2].to_owned(),
    ] {
        assert!(serde_json::from_str::<Forest>(&damaged).is_err());
    }
}

#[test]
fn stored_models_read_back_and_refuse_another_feature_list() {
    use lectern_insights::model_store::{StoredForest, StoredLogistic};
    let rows = school(40, 30, 21);
    let logistic = train(&rows).unwrap();
    let json = serde_json::to_string(&StoredLogistic::from_model(&logistic)).unwrap();
    let back = serde_json::from_str::<StoredLogistic>(&json)
        .unwrap()
        .into_model();
    assert_eq!(
        back.quality.calibration.len(),
        logistic.quality.calibration.len()
    );
    assert_eq!(back.quality, logistic.quality);
    assert_eq!(
        (back.cut, back.window_ms),
        (logistic.cut, logistic.window_ms)
    );
    for r in &rows.rows {
        let (a, b) = (
            back.probability(&r.features),
            logistic.probability(&r.features),
        );
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    // A model of another feature list (an older Lectern) or with a NaN does not read.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["features"][0] = serde_json::json!("minutes_watched");
    assert!(serde_json::from_value::<StoredLogistic>(value).is_err());
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["scales"][1] = serde_json::json!(0.0);
    assert!(serde_json::from_value::<StoredLogistic>(value).is_err());

    let params = ForestParams {
        trees: 8,
        ..ForestParams::default()
    };
    let model = train_forest(&rows, &params, |_, _| {}).unwrap();
    let json = serde_json::to_string(&StoredForest::from_model(&model)).unwrap();
    let back = serde_json::from_str::<StoredForest>(&json)
        .unwrap()
        .into_model();
    assert_eq!(back.quality.holdout_rows, model.quality.holdout_rows);
    for (a, b) in back.means.iter().zip(&model.means) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    for r in &rows.rows {
        let x = &r.features;
        assert!((back.probability(x) - model.probability(x)).abs() < 1e-12);
        let features = |rs: Vec<lectern_insights::propensity::Reason>| {
            rs.into_iter().map(|r| r.feature).collect::<Vec<_>>()
        };
        assert_eq!(features(back.reasons(x, 3)), features(model.reasons(x, 3)));
    }
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["forest"]["feature_names"][3] = serde_json::json!("renamed");
    assert!(serde_json::from_value::<StoredForest>(value).is_err());
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["means"] = serde_json::json!([0.0, 1.0]);
    assert!(serde_json::from_value::<StoredForest>(value).is_err());
}
