//! Recommend-next and likely buyers on the demo school's own data.

use lectern_engine::engagement::SessionRef;
use lectern_engine::models::AudienceRef;
use lectern_engine::{SchoolSource, Studio, StudioOptions};

#[tokio::test]
async fn a_class_gets_three_next_courses_with_reasons_and_a_ranked_list_of_likely_buyers() {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let store = studio.store().await.unwrap();
    let spans = store.session_spans().await.unwrap();
    let last = spans.iter().max_by_key(|s| s.started_at_ms).unwrap().id;

    let next = studio
        .recommend_next(AudienceRef {
            session_id: Some(last),
        })
        .await
        .unwrap();
    assert_eq!(next.len(), 3, "{next:?}");
    let taught: Option<String> = store
        .read(move |c| {
            Ok(c.query_row(
                "SELECT course_id FROM live_sessions WHERE id = ?1",
                [last],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    for course in &next {
        assert!(
            !course.reason.is_empty() && course.audience_without_it > 0,
            "{course:?}"
        );
        assert_ne!(
            Some(&course.course_id),
            taught.as_ref(),
            "never the course being taught"
        );
    }
    let err = studio
        .recommend_next(AudienceRef { session_id: None })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "conflict", "no class is live");

    let first = studio
        .likely_buyers(SessionRef { session_id: last })
        .await
        .unwrap();
    assert!(!first.buyers.is_empty());
    assert!(
        first
            .buyers
            .windows(2)
            .all(|w| w[0].probability >= w[1].probability)
    );
    assert!(
        first
            .buyers
            .iter()
            .all(|b| (0.0..=1.0).contains(&b.probability)
                && !b.reasons.is_empty()
                && b.reasons.len() <= 3)
    );
    assert!(first.model.auc > 0.6, "{:?}", first.model);
    assert!(first.model.summary.contains("AUC"));
    let second = studio
        .likely_buyers(SessionRef { session_id: last })
        .await
        .unwrap();
    assert_eq!(
        second.model.version,
        first.model.version + 1,
        "each training is stored with a new version"
    );
    let err = studio
        .likely_buyers(SessionRef {
            session_id: 999_999,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "not_found");
}
