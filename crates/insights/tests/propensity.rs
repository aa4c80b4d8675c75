//! Purchase propensity: features from a hand-made log, the refusal on little data, and agreement
//! with scikit-learn.

use lectern_insights::propensity::{
    FEATURES, LogEvent, MIN_ROWS, Sale, SessionSpan, attendee_rows, fit_logistic, roc_auc, train,
};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn ev(session_id: i64, kind: &str, actor: &str, at_ms: i64) -> LogEvent {
    LogEvent {
        session_id,
        kind: kind.into(),
        actor: Some(actor.into()),
        at_ms,
    }
}

#[test]
fn features_come_from_the_log_and_labels_from_sales_in_the_window() {
    let start = 100 * DAY;
    let sessions = vec![SessionSpan {
        id: 1,
        started_at_ms: start,
        ended_at_ms: Some(start + 60 * MIN),
    }];
    let events = vec![
        ev(1, "join", "ann", start),
        ev(1, "chat", "ann", start + MIN),
        ev(1, "leave", "ann", start + 10 * MIN),
        ev(1, "join", "ann", start + 20 * MIN), // rejoins and stays to the end
        ev(1, "reaction", "ann", start + 21 * MIN),
        ev(1, "offer_exposure", "ann", start + 50 * MIN),
        ev(1, "offer_click", "ann", start + 51 * MIN),
        ev(1, "join", "bob", start + 5 * MIN),
        ev(1, "poll_answer", "bob", start + 6 * MIN),
        ev(1, "leave", "bob", start + 35 * MIN),
    ];
    let sales = vec![
        Sale {
            learner: "ann".into(),
            at_ms: start - 10 * DAY,
            amount_cents: 4_900,
        },
        Sale {
            learner: "ann".into(),
            at_ms: start + 2 * DAY,
            amount_cents: 9_900,
        },
        Sale {
            learner: "bob".into(),
            at_ms: start + 9 * DAY,
            amount_cents: 1_900,
        }, // after the window
    ];
    let rows = attendee_rows(&sessions, &events, &sales, 7 * DAY, 200 * DAY);
    assert_eq!(rows.len(), 2);
    let ann = &rows[0];
    assert_eq!(ann.learner, "ann");
    let f = |name: &str| ann.features[FEATURES.iter().position(|n| *n == name).unwrap()];
    assert_eq!(f("watch_minutes"), 50.0); // 10 + 40
    assert_eq!(
        (
            f("chat_messages"),
            f("reactions"),
            f("offer_exposures"),
            f("offer_clicks")
        ),
        (1.0, 1.0, 1.0, 1.0)
    );
    assert_eq!(
        (
            f("past_purchases"),
            f("days_since_last_purchase"),
            f("past_spend")
        ),
        (1.0, 10.0, 49.0)
    );
    assert_eq!(ann.bought, Some(true));
    let bob = &rows[1];
    assert_eq!(bob.features[0], 30.0);
    assert_eq!(bob.bought, Some(false));

    // A session whose window is still open is scored but not labelled.
    let rows = attendee_rows(&sessions, &events, &sales, 7 * DAY, start + DAY);
    assert!(rows.iter().all(|r| r.bought.is_none()));
}

#[test]
fn too_little_data_is_refused_with_what_is_missing() {
    let start = 100 * DAY;
    let sessions = vec![SessionSpan {
        id: 1,
        started_at_ms: start,
        ended_at_ms: Some(start + MIN),
    }];
    let events: Vec<LogEvent> = (0..50)
        .map(|i| ev(1, "join", &format!("l{i}"), start))
        .collect();
    let rows = attendee_rows(&sessions, &events, &[], 7 * DAY, 200 * DAY);
    let err = train(&rows).unwrap_err();
    assert_eq!(err.code(), "too_little_data");
    assert!(err.to_string().contains(&MIN_ROWS.to_string()), "{err}");
}

#[test]
fn auc_counts_ties_as_half() {
    assert_eq!(
        roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
        0.75
    );
    assert_eq!(roc_auc(&[0.5, 0.5], &[false, true]), 0.5);
    assert!(roc_auc(&[0.5, 0.6], &[true, true]).is_nan());
}

#[test]
fn coefficients_agree_with_scikit_learn() {
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("../reference/logistic_reference.json")).unwrap();
    let x: Vec<Vec<f64>> = reference["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    let y: Vec<bool> = reference["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_bool().unwrap())
        .collect();
    let c = reference["C"].as_f64().unwrap();
    let (coefficients, intercept) = fit_logistic(&x, &y, 1.0 / c).unwrap();
    let expected: Vec<f64> = reference["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (k, (got, want)) in coefficients.iter().zip(&expected).enumerate() {
        assert!(
            (got - want).abs() < 1e-4,
            "coefficient {k}: {got} vs scikit-learn {want}"
        );
    }
    let want = reference["intercept"].as_f64().unwrap();
    assert!(
        (intercept - want).abs() < 1e-4,
        "intercept {intercept} vs {want}"
    );
}
