//! Recommend-next and likely buyers on the demo school's own data.

use lectern_engine::api::StudioEvent;
use lectern_engine::models::{AudienceRef, BuyerModel, BuyersRequest, CourseRef};
use lectern_engine::{SchoolSource, Studio, StudioOptions};
use lectern_room::{Action, Input, PollId, PollSpec, Role, ViewerId};

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
        .likely_buyers(BuyersRequest {
            session_id: last,
            model: None,
        })
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
            .all(|b| (0.0..=1.0).contains(&b.probability) && b.reasons.len() <= 3)
    );
    // The likeliest say why; an attendee below the average on every feature (an anonymous
    // viewer who stayed a few minutes) has no push to name.
    assert!(
        first.buyers.iter().take(10).all(|b| !b.reasons.is_empty()),
        "{:?}",
        first.buyers.iter().take(10).collect::<Vec<_>>()
    );
    assert!(first.model.auc > 0.6, "{:?}", first.model);
    assert!(first.model.summary.contains("AUC"));
    let second = studio
        .likely_buyers(BuyersRequest {
            session_id: last,
            model: None,
        })
        .await
        .unwrap();
    assert_eq!(
        second.model.version,
        first.model.version + 1,
        "each training is stored with a new version"
    );
    let err = studio
        .likely_buyers(BuyersRequest {
            session_id: 999_999,
            model: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "not_found");
}

#[tokio::test]
async fn staff_who_joined_a_class_are_never_ranked_as_buyers() {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let store = studio.store().await.unwrap();
    let spans = store.session_spans().await.unwrap();
    let class = spans
        .iter()
        .max_by_key(|s| s.started_at_ms)
        .unwrap()
        .clone();
    let session = class.id;
    // The instructor and a TA join, chat, vote and click like any attendee, as the live room
    // logs them.
    let mut staff_events = vec![];
    for (i, actor) in ["instructor", "ta-1"].into_iter().enumerate() {
        for (j, kind) in ["viewer_joined", "chat_sent", "ballot_cast", "offer_clicked"]
            .into_iter()
            .enumerate()
        {
            staff_events.push(lectern_store::NewEvent {
                session_id: session,
                kind: kind.into(),
                actor: Some(actor.into()),
                at_ms: class.started_at_ms + 1_000 * (j as i64 + 1),
                payload: serde_json::json!({}),
                client_id: format!("staff-{i}-{j}"),
            });
        }
    }
    store.append(staff_events).await.unwrap();
    let ranked = studio
        .likely_buyers(BuyersRequest {
            session_id: session,
            model: None,
        })
        .await
        .unwrap();
    assert!(!ranked.buyers.is_empty());
    let staff_rows: Vec<&str> = ranked
        .buyers
        .iter()
        .map(|b| b.learner.as_str())
        .filter(|l| *l == "instructor" || l.starts_with("ta-"))
        .collect();
    assert!(
        staff_rows.is_empty(),
        "staff ranked as buyers: {staff_rows:?}"
    );
}

#[tokio::test]
async fn the_forest_trains_with_progress_ranks_buyers_with_reasons_and_is_reused_while_data_holds()
{
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let store = studio.store().await.unwrap();
    let spans = store.session_spans().await.unwrap();
    let last = spans.iter().max_by_key(|s| s.started_at_ms).unwrap().id;
    let mut events = studio.subscribe();
    let forest = studio
        .likely_buyers(BuyersRequest {
            session_id: last,
            model: Some(BuyerModel::Forest),
        })
        .await
        .unwrap();
    let mut progress = vec![];
    while let Ok(event) = events.try_recv() {
        if let StudioEvent::TrainingProgress { model, done, total } = event {
            assert_eq!(model, BuyerModel::Forest);
            progress.push((done, total));
        }
    }
    assert!(progress.len() > 1, "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0].0 < w[1].0));
    let (done, total) = *progress.last().unwrap();
    assert_eq!(done, total, "progress ends at the last tree");

    assert_eq!(forest.model.kind, BuyerModel::Forest);
    assert!(!forest.model.reused);
    assert!(forest.model.auc > 0.6, "{:?}", forest.model);
    assert!(forest.model.summary.contains("random forest"));
    assert!(!forest.buyers.is_empty());
    assert!(
        forest
            .buyers
            .windows(2)
            .all(|w| w[0].probability >= w[1].probability)
    );
    assert!(
        forest
            .buyers
            .iter()
            .all(|b| (0.0..=1.0).contains(&b.probability) && b.reasons.len() <= 3)
    );
    assert!(
        forest.buyers.iter().take(5).all(|b| !b.reasons.is_empty()),
        "the likeliest buyers have reasons: {:?}",
        &forest.buyers[..5.min(forest.buyers.len())]
    );

    // Same data: the stored forest answers, without training again.
    let again = studio
        .likely_buyers(BuyersRequest {
            session_id: last,
            model: Some(BuyerModel::Forest),
        })
        .await
        .unwrap();
    assert!(again.model.reused);
    assert_eq!(again.model.version, forest.model.version);
    assert_eq!(again.buyers, forest.buyers);
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event, StudioEvent::TrainingProgress { .. }),
            "a reused forest is not trained again"
        );
    }
    // The default is still logistic regression.
    let logistic = studio
        .likely_buyers(BuyersRequest {
            session_id: last,
            model: None,
        })
        .await
        .unwrap();
    assert_eq!(logistic.model.kind, BuyerModel::Logistic);
}

#[tokio::test]
async fn a_skill_most_of_the_class_got_wrong_in_a_quiz_lifts_the_courses_that_teach_it() {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let catalog = studio.store().await.unwrap().catalog().await.unwrap();
    let taught = catalog[0].id.clone();
    studio
        .start_class(
            serde_json::from_value(serde_json::json!({"title": "Quiz day", "courseId": taught}))
                .unwrap(),
        )
        .await
        .unwrap();
    let room = studio.live_room().await.unwrap();
    let submit = |viewer: &str, action: Action| {
        let room = room.clone();
        let viewer = ViewerId::from(viewer);
        async move {
            room.submit(Input::Act {
                viewer,
                client_id: None,
                action,
            })
            .await
            .unwrap()
        }
    };
    room.submit(Input::Join {
        viewer: ViewerId::from("instructor"),
        role: Role::Instructor,
        name: "Grace".into(),
        fingerprint: None,
    })
    .await
    .unwrap();
    for i in 0..10 {
        room.submit(Input::Join {
            viewer: ViewerId(format!("v-{i:04}")),
            role: Role::Viewer,
            name: format!("Learner {i}"),
            fingerprint: None,
        })
        .await
        .unwrap();
    }
    let before = studio
        .recommend_next(AudienceRef { session_id: None })
        .await
        .unwrap();
    assert_eq!(before.len(), 3);
    // Two skills taught by courses the recommender did not put first: one missed by 4 of 10
    // (lifted), one by 2 of 10 (under 30%: not lifted).
    let tag_outside_top = |skip: &str| {
        catalog
            .iter()
            .filter(|c| c.id != taught && before.iter().all(|b| b.course_id != c.id))
            .flat_map(|c| c.tags.iter())
            .find(|t| {
                t.as_str() != skip
                    && catalog
                        .iter()
                        .filter(|c| c.tags.contains(t))
                        .all(|c| c.id != taught && before.iter().all(|b| b.course_id != c.id))
            })
            .cloned()
            .expect("a tag outside the top 3")
    };
    let missed = tag_outside_top("");
    let known = tag_outside_top(&missed);
    for (poll, skill, wrong) in [(1u64, &known, 2), (2, &missed, 4)] {
        let spec: PollSpec = serde_json::from_value(serde_json::json!({
            "question": format!("About {skill}?"),
            "options": ["right", "wrong"],
            "correct": [0],
            "skill": skill,
        }))
        .unwrap();
        submit("instructor", Action::CreatePoll { spec }).await;
        submit("instructor", Action::OpenPoll { poll: PollId(poll) }).await;
        for i in 0..10 {
            let choice = u8::from(i < wrong);
            submit(
                &format!("v-{i:04}"),
                Action::Vote {
                    poll: PollId(poll),
                    choices: vec![choice],
                },
            )
            .await;
        }
        submit("instructor", Action::ClosePoll { poll: PollId(poll) }).await;
    }

    let mut after = vec![];
    for _ in 0..100 {
        after = studio
            .recommend_next(AudienceRef { session_id: None })
            .await
            .unwrap();
        if after.first() != before.first() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let teaches = |id: &str, tag: &str| {
        catalog
            .iter()
            .any(|c| c.id == id && c.tags.iter().any(|t| t == tag))
    };
    assert_eq!(after.len(), 3);
    assert!(teaches(&after[0].course_id, &missed), "{after:?}");
    assert_eq!(
        after[0].reason,
        format!("4 of 10 answered the quiz on {missed} wrongly; this course teaches it")
    );
    assert!(
        after
            .iter()
            .all(|c| !c.reason.contains(&format!("quiz on {known} "))),
        "2 of 10 wrong is not a gap: {after:?}"
    );
    assert!(after.iter().all(|c| c.course_id != taught));
}

#[tokio::test]
async fn a_course_gets_its_follow_ups_with_reasons_that_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let catalog = studio.store().await.unwrap().catalog().await.unwrap();
    let course = &catalog[0];
    let next = studio
        .recommend_for_course(CourseRef {
            course_id: course.id.clone(),
        })
        .await
        .unwrap();
    assert!((1..=5).contains(&next.len()), "{next:?}");
    assert!(
        next.iter()
            .all(|f| f.course_id != course.id && !f.reason.is_empty())
    );
    assert!(
        next.iter().any(|f| f.reason.contains(&course.title)),
        "reasons speak of {}: {next:?}",
        course.title
    );
    let err = studio
        .recommend_for_course(CourseRef {
            course_id: "no-such-course".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "not_found");
}
