//! Stored models: saved with a version per kind, read back into the caller's type, and
//! reported as needing retraining (never a panic) when the format changed or the row is damaged.

use lectern_store::{LatestModel, MODELS_KEPT, ModelKind, ModelMetrics, ModelSave, Store};
use serde::{Deserialize, Serialize};

use crate::{raw, school};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Toy {
    weights: Vec<f64>,
    intercept: f64,
}

fn metrics(auc: f64) -> ModelMetrics {
    ModelMetrics {
        auc,
        brier: 0.08,
        rows: 1_200,
        buyers: 90,
    }
}

fn save(kind: ModelKind, model: &Toy, auc: f64) -> ModelSave<'_, Toy> {
    ModelSave {
        kind,
        created_at_ms: 1_790_000_000_000,
        data_from_ms: 1_760_000_000_000,
        data_to_ms: 1_789_000_000_000,
        metrics: metrics(auc),
        format_version: 1,
        model,
    }
}

#[tokio::test]
async fn the_newest_model_of_a_kind_comes_back_as_saved() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store
            .latest_model::<Toy>(ModelKind::Forest, 1)
            .await
            .unwrap(),
        LatestModel::None
    );
    let first = Toy {
        weights: vec![0.5, -1.25, 4.0 / 11.0, 0.1 + 0.2, 1e-300],
        intercept: -2.0,
    };
    let second = Toy {
        weights: vec![0.1, 0.2, 0.3],
        intercept: 0.7,
    };
    let a = store
        .save_model(save(ModelKind::Forest, &first, 0.71))
        .await
        .unwrap();
    let b = store
        .save_model(save(ModelKind::Forest, &second, 0.74))
        .await
        .unwrap();
    let l = store
        .save_model(save(ModelKind::Logistic, &first, 0.69))
        .await
        .unwrap();
    assert_eq!((a.version, b.version, l.version), (1, 2, 1));

    match store
        .latest_model::<Toy>(ModelKind::Forest, 1)
        .await
        .unwrap()
    {
        LatestModel::Ready { info, model } => {
            assert_eq!(model, second);
            assert_eq!(info, b);
            assert_eq!(info.metrics.auc, 0.74);
        }
        other => panic!("expected the second forest, got {other:?}"),
    }
    match store
        .latest_model::<Toy>(ModelKind::Logistic, 1)
        .await
        .unwrap()
    {
        LatestModel::Ready { model, .. } => assert_eq!(model, first),
        other => panic!("expected the logistic model, got {other:?}"),
    }
    store.close().await.unwrap();

    // It survives reopening the school.
    let store = Store::open(&path).unwrap();
    let latest = store
        .latest_model::<Toy>(ModelKind::Forest, 1)
        .await
        .unwrap();
    assert_eq!(latest.code(), "ready");
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_model_of_another_format_or_damaged_needs_retraining() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let toy = Toy {
        weights: vec![1.0],
        intercept: 0.0,
    };
    let saved = store
        .save_model(save(ModelKind::Forest, &toy, 0.7))
        .await
        .unwrap();

    // A newer Lectern reads format 2.
    match store
        .latest_model::<Toy>(ModelKind::Forest, 2)
        .await
        .unwrap()
    {
        LatestModel::NeedsRetraining(stale) => {
            assert_eq!(
                (stale.id, stale.version, stale.format_version),
                (saved.id, 1, 1)
            );
            assert!(stale.reason.contains("format 1"), "{}", stale.reason);
        }
        other => panic!("expected needs_retraining, got {other:?}"),
    }
    // Another type (a changed layout) does not read either.
    #[derive(Debug, Deserialize)]
    struct Other {
        #[allow(dead_code, reason = "only its absence matters")]
        trees: Vec<u32>,
    }
    let other = store
        .latest_model::<Other>(ModelKind::Forest, 1)
        .await
        .unwrap();
    assert_eq!(other.code(), "needs_retraining");
    store.close().await.unwrap();

    // Damage the stored row behind the store's back.
    for damage in [
        "UPDATE models SET blob = CAST('{\"weights\": [1.0' AS BLOB)",
        "UPDATE models SET blob = X'00FF00FF'",
        "UPDATE models SET metrics = '{\"auc\": \"high\"}'",
    ] {
        raw(&path).execute(damage, []).unwrap();
        let store = Store::open(&path).unwrap();
        match store
            .latest_model::<Toy>(ModelKind::Forest, 1)
            .await
            .unwrap()
        {
            LatestModel::NeedsRetraining(stale) => assert!(!stale.reason.is_empty()),
            other => panic!("{damage}: expected needs_retraining, got {other:?}"),
        }
        // Training again replaces it.
        let fresh = store
            .save_model(save(ModelKind::Forest, &toy, 0.72))
            .await
            .unwrap();
        match store
            .latest_model::<Toy>(ModelKind::Forest, 1)
            .await
            .unwrap()
        {
            LatestModel::Ready { info, model } => {
                assert_eq!((info.id, model), (fresh.id, toy.clone()));
            }
            other => panic!("expected the retrained model, got {other:?}"),
        }
        store.close().await.unwrap();
        raw(&path)
            .execute("DELETE FROM models WHERE id <> ?1", [fresh.id])
            .unwrap();
    }
}

#[tokio::test]
async fn only_the_newest_models_are_kept_and_bad_metrics_are_refused() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let toy = Toy {
        weights: vec![2.0; 4],
        intercept: 1.0,
    };
    for k in 0..7 {
        store
            .save_model(save(ModelKind::Logistic, &toy, 0.6 + f64::from(k) / 100.0))
            .await
            .unwrap();
    }
    let versions: Vec<i64> = store
        .read(|c| {
            let mut stmt = c.prepare("SELECT version FROM models ORDER BY version")?;
            let v = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(v)
        })
        .await
        .unwrap();
    assert_eq!(versions.len() as i64, MODELS_KEPT);
    assert_eq!(versions.last(), Some(&7));

    let mut bad = save(ModelKind::Forest, &toy, f64::NAN);
    let err = store.save_model(bad).await.unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    bad = save(ModelKind::Forest, &toy, 0.7);
    bad.data_to_ms = bad.data_from_ms - 1;
    assert_eq!(
        store.save_model(bad).await.unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        store
            .latest_model::<Toy>(ModelKind::Forest, 1)
            .await
            .unwrap(),
        LatestModel::None
    );
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_school_from_the_previous_version_upgrades_and_keeps_its_learners() {
    use lectern_store::testing::{Migrations, steps};
    let (_dir, path) = school();
    let mut previous = steps();
    previous.truncate(2);
    let store = Store::open_with_migrations(&path, &Migrations::new(previous)).unwrap();
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO learners (id, joined_at_ms, display_name) VALUES ('lrn_old', 5, 'Old')",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    store.close().await.unwrap();

    let store = Store::open(&path).unwrap();
    let kept: (String, i64, Option<String>) = store
        .read(|c| {
            Ok(c.query_row(
                "SELECT id, joined_at_ms, email_hash FROM learners",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(kept, ("lrn_old".to_owned(), 5, None));
    let toy = Toy {
        weights: vec![1.0],
        intercept: 0.5,
    };
    store
        .save_model(save(ModelKind::Forest, &toy, 0.7))
        .await
        .unwrap();
    assert_eq!(
        store
            .latest_model::<Toy>(ModelKind::Forest, 1)
            .await
            .unwrap()
            .code(),
        "ready"
    );
    // The database itself refuses an email hash that is not lowercase hex.
    let refused = store
        .write(|tx| {
            tx.execute("UPDATE learners SET email_hash = 'ada@example.com'", [])?;
            Ok(())
        })
        .await;
    assert!(refused.is_err());
    store.close().await.unwrap();
}
