//! The live room host: inputs in, committed and numbered events out, on a real school file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lectern_engine::live::{Clock, LiveRoom};
use lectern_room::{Action, ClientId, Event, Input, Reply, Role, Timestamp, ViewerId};
use lectern_store::Store;

/// A clock the test moves by hand.
fn manual_clock(start: u64) -> (Clock, Arc<AtomicU64>) {
    let now = Arc::new(AtomicU64::new(start));
    let read = now.clone();
    (
        Arc::new(move || Timestamp(read.load(Ordering::SeqCst))),
        now,
    )
}

fn join(viewer: &str, role: Role, name: &str) -> Input {
    Input::Join {
        viewer: ViewerId::from(viewer),
        role,
        name: name.into(),
        fingerprint: None,
    }
}

fn chat(viewer: &str, client_id: &str, text: &str) -> Input {
    Input::Act {
        viewer: ViewerId::from(viewer),
        client_id: Some(ClientId::from(client_id)),
        action: Action::SendChat {
            text: text.into(),
            reply_to: None,
        },
    }
}

async fn school() -> (tempfile::TempDir, Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("school.sqlite")).unwrap();
    let session = store
        .create_session("Live test", None, 1_800_000_000_000)
        .await
        .unwrap();
    (dir, store, session)
}

#[tokio::test]
async fn events_are_committed_numbered_and_fanned_out_in_order() {
    let (_dir, store, session) = school().await;
    let (clock, _) = manual_clock(1_800_000_000_000);
    let room = LiveRoom::open(store.clone(), session, clock).await.unwrap();
    let mut screen = room.subscribe();

    let welcome = room
        .submit(join("v-ann", Role::Instructor, "Ann"))
        .await
        .unwrap();
    assert!(
        matches!(welcome.replies.as_slice(), [(_, Reply::Welcome { .. })]),
        "{:?}",
        welcome.replies
    );
    room.submit(join("v-bob", Role::Viewer, "Bob"))
        .await
        .unwrap();
    let sent = room
        .submit(chat("v-bob", "c1", "Hello from Bob"))
        .await
        .unwrap();
    assert_eq!(sent.deliveries.len(), 1);
    assert!(
        matches!(&sent.deliveries[0].record.event, Event::ChatSent { message } if message.text == "Hello from Bob")
    );

    // Acknowledged only after commit: the log already holds it, with the same number.
    let log = store.events_after(session, 0, 100).await.unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.seq, sent.deliveries[0].seq);
    assert_eq!(last.kind, "chat_sent");
    assert_eq!(last.actor.as_deref(), Some("v-bob"));

    // The screen saw every event, numbered 1, 2, 3... with no gap.
    let mut seen = vec![];
    while let Ok(delivery) = screen.try_recv() {
        seen.push(delivery.seq);
    }
    assert_eq!(seen, (1..=log.len() as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn concurrent_senders_share_writes_and_lose_nothing() {
    let (_dir, store, session) = school().await;
    let (clock, now) = manual_clock(1_800_000_000_000);
    let room = LiveRoom::open(store.clone(), session, clock).await.unwrap();
    let viewers = 40;
    for v in 0..viewers {
        room.submit(join(&format!("v{v}"), Role::Viewer, &format!("Viewer {v}")))
            .await
            .unwrap();
    }
    let commits_before = store.writer_stats().commits;
    // Each viewer sends 3 messages, each round all at once; rounds 2 s apart so no rate limit applies.
    let mut tasks = vec![];
    for round in 0..3u64 {
        now.store(1_800_000_000_000 + (round + 1) * 2_000, Ordering::SeqCst);
        for v in 0..viewers {
            let room = room.clone();
            tasks.push(tokio::spawn(async move {
                room.submit(chat(
                    &format!("v{v}"),
                    &format!("r{round}"),
                    &format!("message {round} from {v}"),
                ))
                .await
            }));
        }
        for task in tasks.drain(..) {
            let submitted = task.await.unwrap().unwrap();
            assert_eq!(submitted.deliveries.len(), 1, "{:?}", submitted.replies);
        }
    }
    let commits = store.writer_stats().commits - commits_before;
    assert!(
        commits < 3 * viewers as u64,
        "{commits} commits for {} messages: no grouping",
        3 * viewers
    );
    let log = store.events_after(session, 0, 1_000).await.unwrap();
    assert_eq!(
        log.iter().filter(|e| e.kind == "chat_sent").count(),
        3 * viewers
    );
    assert!(log.windows(2).all(|w| w[1].seq == w[0].seq + 1));
}

#[tokio::test]
async fn refusals_are_answered_and_never_written() {
    let (_dir, store, session) = school().await;
    let (clock, _) = manual_clock(1_800_000_000_000);
    let room = LiveRoom::open(store.clone(), session, clock).await.unwrap();
    room.submit(join("v-bob", Role::Viewer, "Bob"))
        .await
        .unwrap();
    let before = store.events_after(session, 0, 100).await.unwrap().len();
    let refused = room
        .submit(chat("v-bob", "c1", &"x".repeat(600)))
        .await
        .unwrap();
    assert!(refused.deliveries.is_empty());
    assert!(
        matches!(refused.replies.as_slice(), [(_, Reply::Rejected { error, .. })] if error.code() == "too_long"),
        "{:?}",
        refused.replies
    );
    assert_eq!(
        store.events_after(session, 0, 100).await.unwrap().len(),
        before
    );
}

#[tokio::test]
async fn a_restarted_room_remembers_what_the_log_holds() {
    let (_dir, store, session) = school().await;
    let (clock, _) = manual_clock(1_800_000_000_000);
    let room = LiveRoom::open(store.clone(), session, clock.clone())
        .await
        .unwrap();
    room.submit(join("v-bob", Role::Viewer, "Bob"))
        .await
        .unwrap();
    room.submit(chat("v-bob", "c1", "Before the restart"))
        .await
        .unwrap();
    drop(room);

    let room = LiveRoom::open(store.clone(), session, clock).await.unwrap();
    // The same client id again: answered, not applied twice.
    let retry = room
        .submit(chat("v-bob", "c1", "Before the restart"))
        .await
        .unwrap();
    assert!(retry.deliveries.is_empty());
    assert!(
        matches!(retry.replies.as_slice(), [(_, Reply::Duplicate { .. })]),
        "{:?}",
        retry.replies
    );
    // A new joiner's snapshot holds the message.
    let welcome = room
        .submit(join("v-cat", Role::Viewer, "Cat"))
        .await
        .unwrap();
    let snapshot = welcome
        .replies
        .iter()
        .find_map(|(_, r)| match r {
            Reply::Welcome { snapshot } => Some(snapshot),
            _ => None,
        })
        .expect("a welcome");
    assert!(snapshot.chat.iter().any(|m| m.text == "Before the restart"));
}

#[tokio::test]
async fn a_session_whose_log_is_not_a_room_log_is_refused() {
    let (_dir, store, session) = school().await;
    // An event some other writer put in the log: not a room record.
    store
        .append(vec![lectern_store::NewEvent {
            session_id: session,
            kind: "join".into(),
            actor: Some("lrn_000000000001".into()),
            at_ms: 1_800_000_000_000,
            payload: serde_json::json!({ "device": "phone" }),
            client_id: "foreign-1".into(),
        }])
        .await
        .unwrap();
    let (clock, _) = manual_clock(1_800_000_000_000);
    let err = LiveRoom::open(store, session, clock).await.unwrap_err();
    assert_eq!(err.code, lectern_engine::ErrorCode::Storage, "{err}");
}

/// A room opened again after the studio stopped without closing it (a crash): who was still
/// connected or watching is recorded as leaving at the last moment the studio is known to have
/// run, not at the restart, so watch time does not run through the outage.
#[tokio::test]
async fn after_a_crash_everyone_connected_leaves_when_the_studio_was_last_alive() {
    let (_dir, store, session) = school().await;
    let t0 = 1_800_000_000_000u64;
    let (clock, now) = manual_clock(t0);
    let room = LiveRoom::open(store.clone(), session, clock.clone())
        .await
        .unwrap();
    room.submit(join("v-bob", Role::Viewer, "Bob"))
        .await
        .unwrap();
    room.submit(Input::Media {
        viewer: ViewerId::from("v-bob"),
        watching: true,
    })
    .await
    .unwrap();
    now.store(t0 + 2_000, Ordering::SeqCst);
    room.submit(chat("v-bob", "c1", "Just before the crash"))
        .await
        .unwrap();
    // The studio records its heartbeat a little later, then dies without closing anything.
    store
        .mark_session_alive(session, (t0 + 4_000) as i64)
        .await
        .unwrap();
    drop(room);

    // It comes back an hour later.
    now.store(t0 + 3_600_000, Ordering::SeqCst);
    let room = LiveRoom::open(store.clone(), session, clock).await.unwrap();
    let log = store.events_after(session, 0, 1000).await.unwrap();
    let closing: Vec<(&str, i64)> = log
        .iter()
        .skip_while(|e| e.kind != "chat_sent")
        .skip(1)
        .map(|e| (e.kind.as_str(), e.at_ms))
        .collect();
    let lost_at = (t0 + 4_000) as i64;
    assert_eq!(
        closing,
        [("viewer_left", lost_at), ("media_presence", lost_at)]
    );
    assert_eq!(log.last().unwrap().payload["event"]["watching"], false);
    // Bob reconnects into a room that knows he had left.
    let back = room
        .submit(join("v-bob", Role::Viewer, "Bob"))
        .await
        .unwrap();
    assert_eq!(back.deliveries.len(), 1);
    // Opening the room again records nothing more: nobody is left connected.
    drop(room);
    let before = store.events_after(session, 0, 1000).await.unwrap().len();
    let _room = LiveRoom::open(store.clone(), session, manual_clock(t0 + 3_700_000).0)
        .await
        .unwrap();
    let after = store.events_after(session, 0, 1000).await.unwrap();
    assert_eq!(
        after.len(),
        before + 1,
        "only Bob's second connection is closed"
    );
    assert_eq!(after.last().unwrap().kind, "viewer_left");
    assert_eq!(after.last().unwrap().at_ms, (t0 + 3_600_000) as i64);
}

/// An anonymous poll's ballots are logged without their voter; who voted is kept apart, in the
/// same commit, so a restart still refuses a second vote; at the close the voters are logged as
/// a set and the kept rows go.
#[tokio::test]
async fn anonymous_ballots_name_nobody_and_one_vote_each_survives_a_restart() {
    use lectern_room::{PollId, PollSpec};
    let (_dir, store, session) = school().await;
    let (clock, _) = manual_clock(1_800_000_000_000);
    let room = LiveRoom::open(store.clone(), session, clock.clone())
        .await
        .unwrap();
    room.submit(join("v-prof", Role::Instructor, "Prof"))
        .await
        .unwrap();
    room.submit(join("v-bob", Role::Viewer, "Bob"))
        .await
        .unwrap();
    let act = |viewer: &str, client_id: &str, action: Action| Input::Act {
        viewer: ViewerId::from(viewer),
        client_id: Some(ClientId::from(client_id)),
        action,
    };
    let spec = PollSpec {
        question: "Secret?".into(),
        options: vec!["yes".into(), "no".into()],
        multiple: false,
        anonymous: true,
        correct: None,
        duration_secs: None,
        skill: None,
    };
    room.submit(act("v-prof", "p1", Action::CreatePoll { spec }))
        .await
        .unwrap();
    room.submit(act("v-prof", "p2", Action::OpenPoll { poll: PollId(1) }))
        .await
        .unwrap();
    let vote = || Action::Vote {
        poll: PollId(1),
        choices: vec![1],
    };
    let voted = room.submit(act("v-bob", "b1", vote())).await.unwrap();
    assert_eq!(
        voted.deliveries.len(),
        1,
        "the ballot's event, acknowledged"
    );
    let ballot = store
        .events_after(session, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind == "anonymous_ballot_cast")
        .unwrap();
    assert_eq!(ballot.actor, None);
    assert!(
        !ballot.payload.to_string().contains("v-bob"),
        "{}",
        ballot.payload
    );
    assert!(!ballot.client_id.contains("v-bob"), "{}", ballot.client_id);
    assert_eq!(
        store.anonymous_voters(session).await.unwrap(),
        [(1, "v-bob".to_owned())]
    );
    drop(room);

    // After a restart Bob cannot vote again.
    let room = LiveRoom::open(store.clone(), session, clock).await.unwrap();
    room.submit(join("v-bob", Role::Viewer, "Bob"))
        .await
        .unwrap();
    let again = room.submit(act("v-bob", "b2", vote())).await.unwrap();
    assert!(again.deliveries.is_empty());
    assert!(
        matches!(again.replies.as_slice(), [(_, Reply::Rejected { error, .. })] if error.code() == "already_voted"),
        "{:?}",
        again.replies
    );
    room.submit(join("v-prof", Role::Instructor, "Prof"))
        .await
        .unwrap();
    room.submit(act("v-prof", "p3", Action::ClosePoll { poll: PollId(1) }))
        .await
        .unwrap();
    let log = store.events_after(session, 0, 1000).await.unwrap();
    let voters = log
        .iter()
        .find(|e| e.kind == "anonymous_poll_voters")
        .unwrap();
    assert_eq!(
        voters.payload["event"]["voters"],
        serde_json::json!(["v-bob"])
    );
    assert!(store.anonymous_voters(session).await.unwrap().is_empty());
}
