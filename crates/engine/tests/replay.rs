//! Replay: a past class's timeline as students saw it live (nothing for staff, nothing held or
//! pending, deleted messages never), its recording listed, served only once finalized,
//! deleted and kept for a number of days; replay reactions stored apart from the class's log.

use lectern_engine::api::{LiveStatus, NoArgs, StartClass};
use lectern_engine::engagement::SessionRef;
use lectern_engine::recording::recordings_dir;
use lectern_engine::replay::{
    RecordingRetention, ReplayAction, ReplayActionKind, ReplayItem, replay_items,
};
use lectern_engine::{ErrorCode, SchoolSource, Studio, StudioOptions};
use lectern_room::Recorded;
use serde_json::{Value, json};
use std::time::Duration;

fn record(at: u64, by: &str, event: Value) -> Recorded {
    serde_json::from_value(
        json!({ "v": 1, "at": at, "by": by, "client_id": "c-1", "event": event }),
    )
    .unwrap_or_else(|e| panic!("{e}: {event}"))
}

fn message(id: u64, author: &str, text: &str, at: u64) -> Value {
    json!({ "id": id, "author": author, "name": "Ann", "role": "viewer", "text": text, "sent_at": at })
}

fn kinds(items: &[ReplayItem]) -> Vec<(i64, String)> {
    items
        .iter()
        .map(|item| match item {
            ReplayItem::Room {
                offset_ms, record, ..
            } => {
                let value = serde_json::to_value(&record.event).unwrap();
                (*offset_ms, value["type"].as_str().unwrap_or("").to_owned())
            }
            ReplayItem::Offer { offset_ms, .. } => (*offset_ms, "offer".to_owned()),
        })
        .collect()
}

#[test]
fn the_timeline_is_what_students_saw_without_deleted_messages() {
    let log = vec![
        record(
            900,
            "v-a",
            json!({ "type": "chat_sent", "message": message(1, "v-a", "before the recording", 900) }),
        ),
        record(
            2_000,
            "v-a",
            json!({ "type": "chat_sent", "message": message(2, "v-a", "hello", 2_000) }),
        ),
        record(
            3_000,
            "v-b",
            json!({ "type": "chat_sent", "message": message(3, "v-b", "rude words", 3_000) }),
        ),
        record(
            3_500,
            "v-c",
            json!({ "type": "chat_held", "hold": { "message": message(4, "v-c", "held link", 3_500), "reason": "link" } }),
        ),
        record(
            3_600,
            "instructor",
            json!({ "type": "back_channel_posted", "name": "TA", "text": "staff only" }),
        ),
        record(
            3_700,
            "v-d",
            json!({ "type": "question_asked", "question": { "id": 1, "asker": "v-d", "name": "Dee", "text": "pending?", "state": "pending", "votes": 0, "asked_at": 3_700 } }),
        ),
        record(
            4_000,
            "instructor",
            json!({ "type": "poll_opened", "poll": 1, "question": "Ready?", "options": ["yes", "no"], "multiple": false, "anonymous": false, "quiz": false, "deadline": null }),
        ),
        record(
            5_000,
            "instructor",
            json!({ "type": "message_pinned", "message": message(3, "v-b", "rude words", 3_000) }),
        ),
        record(
            6_000,
            "instructor",
            json!({ "type": "message_deleted", "message": 3 }),
        ),
    ];
    let numbered: Vec<(i64, Recorded)> =
        log.into_iter().zip(1..).map(|(r, seq)| (seq, r)).collect();
    let items = replay_items(&numbered, 1_000);
    assert_eq!(
        kinds(&items),
        vec![
            (0, "chat_sent".to_owned()),
            (1_000, "chat_sent".to_owned()),
            (3_000, "poll_opened".to_owned()),
        ]
    );
    let text = serde_json::to_string(&items).unwrap();
    for hidden in ["rude words", "held link", "staff only", "pending?", "c-1"] {
        assert!(
            !text.contains(hidden),
            "{hidden:?} is in the replay: {text}"
        );
    }
}

async fn studio_with_test_card(dir: &std::path::Path) -> Studio {
    let mut options = StudioOptions::new(dir, SchoolSource::Demo);
    options.broadcast.test_card = true;
    Studio::open(options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_is_listed_served_once_ended_kept_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with_test_card(dir.path()).await;
    let live = studio
        .start_class(StartClass {
            title: "Replayed".into(),
            course_id: None,
            instructor: None,
            record: None,
        })
        .await
        .unwrap();
    let LiveStatus::Live { session_id, .. } = live else {
        panic!("not live: {live:?}")
    };
    let session = || SessionRef { session_id };
    tokio::time::sleep(Duration::from_secs(2)).await;

    // On air: listed but not finalized, not served, not deletable, no replay.
    let during = studio.session_recording(session()).await.unwrap();
    assert_eq!(during.files.len(), 1);
    assert!(!during.replay_ready);
    assert_eq!(during.files[0].duration_ms, None);
    assert_eq!(
        studio.replay_video(session_id).await.unwrap_err().code,
        ErrorCode::NotFound
    );
    assert_eq!(
        studio.replay(session_id).await.unwrap_err().code,
        ErrorCode::NotFound
    );
    assert_eq!(
        studio.delete_recording(session()).await.unwrap_err().code,
        ErrorCode::Conflict
    );

    studio.end_class(NoArgs {}).await.unwrap();
    let after = studio.session_recording(session()).await.unwrap();
    assert!(after.replay_ready, "{after:?}");
    let file = &after.files[0];
    assert_eq!(file.name, format!("{session_id}.webm"));
    assert!(file.bytes > 10_000, "{file:?}");
    assert!(
        file.duration_ms
            .is_some_and(|d| (1_000..4_000).contains(&d)),
        "{file:?}"
    );
    assert!(
        file.started_at_ms.is_some(),
        "its start is noted for the replay"
    );
    // Its links carry the replay's key: session ids are consecutive, a replay is for those given it.
    let key = studio.replay_key(session_id).await.unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(file.url, format!("/recordings/{session_id}.webm?r={key}"));
    assert_eq!(after.replay_path, format!("/replay/{session_id}#r={key}"));
    studio
        .check_replay_key(session_id, Some(key.as_str()))
        .await
        .unwrap();
    for wrong in [None, Some(""), Some("0123456789abcdef0123456789abcdef")] {
        assert_eq!(
            studio
                .check_replay_key(session_id, wrong)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
    }
    let path = studio.replay_video(session_id).await.unwrap();
    assert_eq!(path, recordings_dir(dir.path()).join(&file.name));
    let replay = studio.replay(session_id).await.unwrap();
    let video = replay.video.expect("the replay has its video");
    assert_eq!(video.started_at_ms, file.started_at_ms.unwrap());
    assert_eq!(replay.title, "Replayed");

    // A replay reaction is stored as a replay event, never in the class's log.
    let events_before = studio.session_engagement(session()).await.unwrap();
    let done = studio
        .replay_action(
            session_id,
            ReplayAction {
                browser_key: None,
                client_id: "replay-reaction-1".into(),
                offset_ms: 1_200,
                action: ReplayActionKind::Reaction {
                    reaction: lectern_room::Reaction::Clap,
                },
            },
            None,
        )
        .await
        .unwrap();
    assert!(done.stored && done.browser_key.is_some());
    let asked = studio
        .replay_action(
            session_id,
            ReplayAction {
                browser_key: done.browser_key.clone(),
                client_id: "replay-question-1".into(),
                offset_ms: 900,
                action: ReplayActionKind::Question {
                    text: "  What was that slide?  ".into(),
                },
            },
            None,
        )
        .await
        .unwrap();
    assert!(
        asked.stored && asked.browser_key.is_none(),
        "the key it was given is kept"
    );
    let counted = studio.session_recording(session()).await.unwrap();
    assert_eq!((counted.replay_reactions, counted.replay_questions), (1, 1));
    assert_eq!(counted.questions[0].text, "What was that slide?");
    assert_eq!(counted.questions[0].offset_ms, 900);
    let viewer = counted.questions[0].viewer.clone();
    let exported = studio
        .viewer_data(lectern_engine::privacy::ViewerRef {
            viewer: viewer.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        exported.replay_events.len(),
        2,
        "their export has their replay events"
    );
    studio
        .erase_viewer(lectern_engine::privacy::ViewerRef { viewer })
        .await
        .unwrap();
    let erased = studio.session_recording(session()).await.unwrap();
    assert_eq!((erased.replay_reactions, erased.replay_questions), (0, 0));
    let events_after = studio.session_engagement(session()).await.unwrap();
    assert_eq!(
        serde_json::to_value(&events_before).unwrap(),
        serde_json::to_value(&events_after).unwrap(),
        "a replay never changes the live class's numbers"
    );

    // Retention deletes a recording older than its days (here one the school has no start for,
    // by its file's time) and keeps a younger one; delete removes every file of it.
    let old = recordings_dir(dir.path()).join("9999.webm");
    std::fs::write(&old, b"an old recording").unwrap();
    let forty_days_ago = std::time::SystemTime::now() - Duration::from_secs(40 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(forty_days_ago)
        .unwrap();
    let kept = studio
        .set_recording_retention(RecordingRetention { days: Some(30) })
        .await
        .unwrap();
    assert_eq!(kept.deleted, 1);
    assert!(!old.exists(), "the 40-day-old recording is deleted");
    assert!(path.exists(), "the new one is kept");
    assert_eq!(
        studio.recording_retention(NoArgs {}).await.unwrap(),
        RecordingRetention { days: Some(30) }
    );
    assert!(
        studio
            .set_recording_retention(RecordingRetention { days: Some(0) })
            .await
            .is_err()
    );
    let gone = studio.delete_recording(session()).await.unwrap();
    assert!(gone.files.is_empty() && !gone.replay_ready);
    assert!(!path.exists());
    assert!(studio.replay(session_id).await.unwrap().video.is_none());
    studio.close().await.unwrap();
}
