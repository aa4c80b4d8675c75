//! Erasing a viewer removes them from the file itself; retention blanks old chat but keeps counts.

use crate::{raw, school};
use lectern_store::{NewEvent, Store};
use serde_json::json;

fn ev(
    session: i64,
    kind: &str,
    actor: &str,
    at_ms: i64,
    event: serde_json::Value,
    id: &str,
) -> NewEvent {
    NewEvent {
        session_id: session,
        kind: kind.to_owned(),
        actor: Some(actor.to_owned()),
        at_ms,
        payload: json!({ "v": 1, "at": at_ms, "by": actor, "event": event }),
        client_id: id.to_owned(),
    }
}

fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap_or_default();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    bytes.extend(std::fs::read(std::path::PathBuf::from(wal)).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn an_erased_viewer_is_gone_from_the_database_file() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let session = store.create_session("Class", None, 1_000).await.unwrap();
    let secret = "zebra-secret-4711";
    store
        .append(vec![
            ev(session, "viewer_joined", "v-aaaa", 1_000, json!({"type": "viewer_joined", "viewer": "v-aaaa", "name": "Ann Secretname"}), "c0"),
            ev(session, "chat_sent", "v-aaaa", 1_100, json!({"type": "chat_sent", "message": {"id": 1, "author": "v-aaaa", "text": secret}}), "c1"),
            ev(session, "chat_sent", "v-bbbb", 1_200, json!({"type": "chat_sent", "message": {"id": 2, "author": "v-bbbb", "text": "hello all"}}), "c2"),
            ev(session, "message_pinned", "instructor", 1_300, json!({"type": "message_pinned", "message": {"id": 1, "author": "v-aaaa", "text": secret}}), "c3"),
        ])
        .await
        .unwrap();
    // A question they asked while watching the replay, in its own table.
    let replay_question = |client: &str| lectern_store::ReplayEvent {
        session_id: session,
        viewer: "v-aaaa".into(),
        kind: "question".into(),
        payload: json!({ "text": "replayquestion-9931" }),
        offset_ms: 4_000,
        at_ms: 1_900,
        client_id: client.into(),
    };
    assert!(store.add_replay_event(replay_question("r1")).await.unwrap());
    assert!(
        !store.add_replay_event(replay_question("r1")).await.unwrap(),
        "a retry is stored once"
    );
    assert_eq!(store.replay_events(session).await.unwrap().len(), 1);
    assert_eq!(
        store.viewer_events("v-aaaa").await.unwrap().len(),
        3,
        "two of theirs and one that names them"
    );
    assert!(
        contains(&file_bytes(&path), secret),
        "the text is in the files before erasure"
    );

    let erased = store.erase_viewer("v-aaaa", 2_000).await.unwrap();
    assert_eq!((erased.deleted, erased.redacted), (3, 1));
    assert!(store.replay_events(session).await.unwrap().is_empty());
    assert!(store.viewer_events("v-aaaa").await.unwrap().is_empty());
    let left = store.events_after(session, 0, 100).await.unwrap();
    assert_eq!(left.len(), 2);
    assert_eq!(left[0].payload["event"]["message"]["text"], "hello all");
    assert_eq!(left[1].payload["event"]["message"]["author"], "erased");
    assert_eq!(
        left[1].payload["event"]["message"]["text"],
        serde_json::Value::Null
    );

    // The log is still append-only for everything else.
    let refused = raw(&path).execute("DELETE FROM events", []);
    assert!(refused.is_err(), "{refused:?}");
    store.close().await.unwrap();
    let bytes = file_bytes(&path);
    assert!(
        !contains(&bytes, secret),
        "the erased text is still in the file"
    );
    assert!(
        !contains(&bytes, "Secretname"),
        "the erased name is still in the file"
    );
    assert!(
        !contains(&bytes, "v-aaaa"),
        "the erased id is still in the file"
    );
    assert!(
        !contains(&bytes, "replayquestion-9931"),
        "the erased replay question is still in the file"
    );
    assert!(contains(&bytes, "hello all"));
}

#[tokio::test]
async fn chat_retention_blanks_old_texts_and_keeps_the_events() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let session = store.create_session("Class", None, 1_000).await.unwrap();
    store
        .append(vec![
            ev(session, "chat_sent", "v-aaaa", 1_000, json!({"type": "chat_sent", "message": {"id": 1, "author": "v-aaaa", "text": "old words"}}), "c1"),
            ev(session, "reaction_sent", "v-aaaa", 1_500, json!({"type": "reaction_sent", "emoji": "clap"}), "c2"),
            ev(session, "chat_sent", "v-bbbb", 9_000, json!({"type": "chat_sent", "message": {"id": 2, "author": "v-bbbb", "text": "new words"}}), "c3"),
            // A moderator approved an old question: the approval carries its text too.
            ev(session, "question_approved", "ta-1", 2_000, json!({"type": "question_approved", "question": {"id": 3, "asker": "v-aaaa", "text": "old question"}}), "c4"),
        ])
        .await
        .unwrap();
    assert_eq!(store.redact_chat_before(5_000, 10_000).await.unwrap(), 2);
    let approved = store.events_after(session, 0, 100).await.unwrap();
    assert_eq!(
        approved[3].payload["event"]["question"]["text"],
        serde_json::Value::Null
    );
    assert_eq!(approved[3].payload["event"]["question"]["asker"], "v-aaaa");
    let events = store.events_after(session, 0, 100).await.unwrap();
    assert_eq!(events.len(), 4, "counts stay: no event is removed");
    assert_eq!(
        events[0].payload["event"]["message"]["text"],
        serde_json::Value::Null
    );
    assert_eq!(events[0].payload["event"]["message"]["author"], "v-aaaa");
    assert_eq!(events[2].payload["event"]["message"]["text"], "new words");
    assert_eq!(
        store.redact_chat_before(5_000, 10_000).await.unwrap(),
        0,
        "nothing left to blank"
    );
    let err = store.erase_viewer("instructor", 1).await.unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    store.close().await.unwrap();
    assert!(!contains(&file_bytes(&path), "old words"));
    assert!(!contains(&file_bytes(&path), "old question"));
}
