//! The room session in the engine, driven through its message transport (the one the desktop
//! window's IPC uses): join, frames in order, the audience filter, acks, catch-up, leaving.

use std::time::Duration;

use lectern_engine::api::{NoArgs, StartClass, StudioEvent};
use lectern_engine::room_session::{RoomLeave, RoomSend, Seat};
use lectern_engine::{ErrorCode, SchoolSource, Studio, StudioOptions};
use lectern_room::Hello;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// One connection as a client sees it: the frames it received, in order.
struct Client {
    connection: u64,
    frames: mpsc::UnboundedReceiver<Value>,
}

impl Client {
    async fn next(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(10), self.frames.recv())
            .await
            .expect("a frame within 10 s")
            .expect("the connection is open")
    }

    /// Frames until one of `kind` (returned), skipping others.
    async fn until(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Frames until an event of `event_type`.
    async fn until_event(&mut self, event_type: &str) -> Value {
        loop {
            let frame = self.until("event").await;
            if frame["record"]["event"]["type"] == event_type {
                return frame;
            }
        }
    }

    async fn send(&self, studio: &Studio, frame: Value) {
        studio
            .room_send(RoomSend {
                connection: self.connection,
                frame: frame.to_string(),
            })
            .await
            .unwrap();
    }
}

fn hello(browser_key: &str, name: &str, last: Option<(i64, i64)>) -> Hello {
    Hello {
        kind: Default::default(),
        v: 1,
        name: name.into(),
        browser_key: browser_key.into(),
        key: None,
        last_seq: last.map(|(_, seq)| seq),
        session: last.map(|(session, _)| session),
        email: None,
        consent: false,
        learner_link: None,
    }
}

/// Browser keys the school issued, one per letter, as a student's page keeps its own.
#[derive(Default)]
struct Keys(std::collections::HashMap<char, String>);

impl Keys {
    async fn of(&mut self, studio: &Studio, who: char) -> String {
        if let Some(key) = self.0.get(&who) {
            return key.clone();
        }
        let (key, _) = studio.issue_browser_key(None, None).await.unwrap().unwrap();
        self.0.insert(who, key.clone());
        key
    }
}

fn connect(studio: &Studio, seat: Seat, hello: Hello) -> Client {
    let (tx, frames) = mpsc::unbounded_channel();
    let connected = studio.connect_room(seat, hello, move |text| {
        tx.send(serde_json::from_str(&text).expect("every frame is JSON"))
            .is_ok()
    });
    Client {
        connection: connected.connection,
        frames,
    }
}

async fn live_demo(dir: &std::path::Path) -> Studio {
    let studio = Studio::open(StudioOptions::new(dir, SchoolSource::Demo))
        .await
        .unwrap();
    studio
        .start_class(StartClass {
            title: "Session test".into(),
            course_id: None,
            instructor: None,
            record: None,
        })
        .await
        .unwrap();
    studio
}

fn chat(client_id: &str, text: &str) -> Value {
    json!({ "v": 1, "client_id": client_id, "action": { "type": "send_chat", "text": text } })
}

#[tokio::test]
async fn the_instructor_and_a_student_share_one_room_through_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let mut keys = Keys::default();

    let mut teacher = connect(
        &studio,
        Seat::Instructor,
        hello(&keys.of(&studio, 't').await, "", None),
    );
    let welcome = teacher.next().await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["viewer"], "instructor");
    assert_eq!(welcome["role"], "instructor");

    let mut ada = connect(
        &studio,
        Seat::Viewer { address: None },
        hello(&keys.of(&studio, 'a').await, "Ada", None),
    );
    let welcome = ada.next().await;
    assert_eq!(welcome["role"], "viewer");
    let ada_id = welcome["viewer"].as_str().unwrap().to_owned();
    assert!(ada_id.starts_with("v-"), "{ada_id}");
    // Staff see who joined; the student does not.
    let joined = teacher.until_event("viewer_joined").await;
    assert_eq!(joined["record"]["by"], ada_id.as_str());

    ada.send(&studio, chat("c-1", "hello from Ada")).await;
    let ack = ada.until("ack").await;
    assert_eq!(ack["client_id"], "c-1");
    let seq = ack["seqs"][0].as_i64().unwrap();
    let seen = teacher.until_event("chat_sent").await;
    assert_eq!(seen["seq"], seq);
    assert_eq!(seen["record"]["event"]["message"]["text"], "hello from Ada");

    // The instructor deletes it; the student sees it go.
    let message = seen["record"]["event"]["message"]["id"].clone();
    teacher
        .send(
            &studio,
            json!({ "v": 1, "client_id": "t-1", "action": { "type": "delete_message", "message": message } }),
        )
        .await;
    let deleted = ada.until_event("message_deleted").await;
    assert!(deleted["seq"].as_i64().unwrap() > seq);

    // A malformed frame is refused with the room's own reply shape, and the connection stays.
    ada.send(&studio, json!({ "v": 1, "nonsense": true })).await;
    let refused = ada.until("reply").await;
    assert_eq!(refused["reply"]["type"], "rejected");
    assert_eq!(refused["reply"]["error"]["code"], "malformed");
    ada.send(&studio, chat("c-2", "still here")).await;
    assert_eq!(ada.until("ack").await["client_id"], "c-2");

    // Leaving ends the connection, and staff see the student leave.
    studio
        .room_leave(RoomLeave {
            connection: ada.connection,
        })
        .await
        .unwrap();
    let left = teacher.until_event("viewer_left").await;
    assert_eq!(left["record"]["event"]["viewer"], ada_id.as_str());
    let err = studio
        .room_send(RoomSend {
            connection: ada.connection,
            frame: chat("c-3", "gone").to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    studio.close().await.unwrap();
}

#[tokio::test]
async fn a_reconnect_gets_what_it_missed_and_the_class_ending_closes_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let mut keys = Keys::default();
    let mut ada = connect(
        &studio,
        Seat::Viewer { address: None },
        hello(&keys.of(&studio, 'a').await, "Ada", None),
    );
    let welcome = ada.next().await;
    let session = welcome["session"].as_i64().unwrap();
    let first_seq = welcome["seq"].as_i64().unwrap();

    let mut bob = connect(
        &studio,
        Seat::Viewer { address: None },
        hello(&keys.of(&studio, 'b').await, "Bob", None),
    );
    bob.next().await;
    for i in 0..3 {
        bob.send(&studio, chat(&format!("b-{i}"), &format!("message {i}")))
            .await;
        bob.until("ack").await;
    }
    // Ada comes back with the number she had: she gets the three messages, then caught_up.
    let mut again = connect(
        &studio,
        Seat::Viewer { address: None },
        hello(
            &keys.of(&studio, 'a').await,
            "Ada",
            Some((session, first_seq)),
        ),
    );
    let welcome = again.next().await;
    assert_eq!(welcome["type"], "welcome");
    let mut texts = vec![];
    loop {
        let frame = again.next().await;
        match frame["type"].as_str().unwrap() {
            "event" => {
                if let Some(text) = frame["record"]["event"]["message"]["text"].as_str() {
                    texts.push(text.to_owned());
                }
            }
            "caught_up" => {
                assert_eq!(frame["seq"], welcome["seq"]);
                break;
            }
            other => panic!("unexpected {other}: {frame}"),
        }
    }
    assert_eq!(texts, ["message 0", "message 1", "message 2"]);

    studio.end_class(NoArgs {}).await.unwrap();
    let closed = again.until("closed").await;
    assert_eq!(closed["code"], 4410);
    studio.close().await.unwrap();
}

#[tokio::test]
async fn a_catch_up_the_log_cannot_serve_ends_the_connection_instead_of_skipping_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let mut keys = Keys::default();
    let mut ada = connect(
        &studio,
        Seat::Viewer { address: None },
        hello(&keys.of(&studio, 'a').await, "Ada", None),
    );
    let welcome = ada.next().await;
    let session = welcome["session"].as_i64().unwrap();
    let seen = welcome["seq"].as_i64().unwrap();
    // A row in the class's log that is not a room event (a damaged or foreign write): what
    // Ada missed cannot be read back whole.
    studio
        .store()
        .await
        .unwrap()
        .append(vec![lectern_store::NewEvent {
            session_id: session,
            kind: "chat_sent".into(),
            actor: None,
            at_ms: 1,
            payload: json!({ "not": "a room event" }),
            client_id: "damaged-1".into(),
        }])
        .await
        .unwrap();
    let mut bob = connect(
        &studio,
        Seat::Viewer { address: None },
        hello(&keys.of(&studio, 'b').await, "Bob", None),
    );
    bob.next().await;

    let mut again = connect(
        &studio,
        Seat::Viewer { address: None },
        hello(&keys.of(&studio, 'a').await, "Ada", Some((session, seen))),
    );
    assert_eq!(again.next().await["type"], "welcome");
    loop {
        let frame = again.next().await;
        assert_ne!(frame["type"], "caught_up", "caught up over a gap: {frame}");
        if frame["type"] == "closed" {
            assert_eq!(frame["code"], 4500, "{frame}");
            break;
        }
    }
    studio.close().await.unwrap();
}

#[tokio::test]
async fn a_ta_seat_joins_under_its_link_and_is_closed_when_the_link_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let link = studio
        .create_moderator_link(lectern_engine::moderators::CreateModeratorLink {
            label: "Sam (TA)".into(),
            hours: 2,
        })
        .await
        .unwrap();
    let token = link.path.rsplit_once("mod=").unwrap().1;
    let grant = studio.moderator_grant(token).await.unwrap();
    let mut sam = connect(
        &studio,
        Seat::Ta(grant),
        hello(&"s".repeat(32), "Anything", None),
    );
    let welcome = sam.next().await;
    assert_eq!(welcome["role"], "ta");
    assert_eq!(welcome["snapshot"]["you"]["name"], "Sam (TA)");
    let mut events = studio.subscribe();
    studio
        .revoke_moderator_link(lectern_engine::moderators::RevokeModeratorLink { id: link.link.id })
        .await
        .unwrap();
    while !matches!(
        events.recv().await,
        Ok(StudioEvent::ModeratorLinkRevoked { .. })
    ) {}
    assert_eq!(sam.until("closed").await["code"], 4401);
    studio.close().await.unwrap();
}

#[tokio::test]
async fn the_windows_capture_becomes_the_source_and_the_class_log_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let mut teacher = connect(&studio, Seat::Instructor, hello(&"t".repeat(32), "", None));
    teacher.next().await;

    let status = studio
        .start_window_source(
            lectern_engine::capture::StartWindowSource {
                capture: "screen_and_camera".into(),
            },
            || true,
        )
        .await
        .unwrap();
    assert_eq!(status.source.as_deref(), Some("window"));
    let started = teacher.until_event("broadcast_source").await;
    assert_eq!(started["record"]["event"]["capture"], "screen_and_camera");

    // A VP8 keyframe chunk in the window frame format is taken; a malformed one is refused.
    let mut frame = vec![1u8, 1];
    frame.extend_from_slice(&1_000u64.to_le_bytes());
    frame.extend_from_slice(&[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a]);
    studio.push_window_frame(&frame).unwrap();
    let err = studio.push_window_frame(&[1, 1, 0]).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    let err = studio
        .start_window_source(
            lectern_engine::capture::StartWindowSource {
                capture: "hologram".into(),
            },
            || true,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);

    let status = studio.stop_window_source(NoArgs {}).await.unwrap();
    assert_eq!(status.source, None);
    let stopped = teacher.until_event("broadcast_source").await;
    assert_eq!(stopped["record"]["event"]["capture"], Value::Null);
    // Off air, the window's frames are refused with a code the window acts on.
    assert_eq!(
        studio.push_window_frame(&frame).unwrap_err().code,
        ErrorCode::Conflict
    );
    studio.close().await.unwrap();
}

#[tokio::test]
async fn a_ta_is_closed_when_the_link_expires_during_the_class() {
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // A link that was valid when the TA joined and runs out a moment later.
    let grant = lectern_engine::moderators::ModeratorGrant {
        link_id: 7,
        label: "Sam (TA)".into(),
        expires_at_ms: now + 300,
    };
    let mut sam = connect(&studio, Seat::Ta(grant), hello(&"s".repeat(32), "", None));
    assert_eq!(sam.next().await["role"], "ta");
    let closed = sam.until("closed").await;
    assert_eq!(closed["code"], 4401);
    assert_eq!(closed["reason"], "this moderator link has expired");
    studio.close().await.unwrap();
}

#[tokio::test]
async fn a_personal_join_link_names_the_learner_and_a_forged_one_is_refused() {
    use lectern_engine::identity::LearnerLinksArgs;
    use lectern_engine::models::AudienceRef;
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let mut keys = Keys::default();
    let mut teacher = connect(
        &studio,
        Seat::Instructor,
        hello(&keys.of(&studio, 't').await, "", None),
    );
    assert_eq!(teacher.next().await["type"], "welcome");

    // The school's export: one signed link per learner.
    let links = studio
        .learner_links(LearnerLinksArgs {
            base_url: Some("https://class.example.org/".into()),
            segment: None,
        })
        .await
        .unwrap();
    let store = studio.store().await.unwrap();
    assert_eq!(links.count, store.counts().await.unwrap().learners);
    // A learner with a few purchases: their history should reach the class.
    let purchases = store.purchase_history().await.unwrap();
    let mut owned: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for p in &purchases {
        owned.entry(&p.learner_id).or_default().push(&p.course_id);
    }
    let (learner, courses) = owned
        .iter()
        .filter(|(_, c)| c.len() >= 3)
        .min_by_key(|(l, _)| **l)
        .map(|(l, c)| ((*l).to_owned(), c.clone()))
        .unwrap();
    let line = links
        .csv
        .lines()
        .find(|l| l.starts_with(&format!("{learner},")))
        .unwrap();
    let link = line.rsplit(',').next().unwrap();
    let fragment = link
        .strip_prefix("https://class.example.org/watch#")
        .unwrap();
    let sig = fragment.split("&sig=").nth(1).unwrap().to_owned();
    assert_eq!(sig.len(), 32);

    let mut hello_bo = hello(&keys.of(&studio, 'b').await, "Bo", None);
    hello_bo.learner_link = Some(lectern_room::LearnerLink {
        learner: learner.clone(),
        sig: sig.clone(),
    });
    let mut bo = connect(&studio, Seat::Viewer { address: None }, hello_bo);
    let bo_id = bo.next().await["viewer"].as_str().unwrap().to_owned();
    let linked = teacher.until_event("learner_linked").await;
    assert_eq!(linked["record"]["by"], bo_id.as_str());
    assert_eq!(linked["record"]["event"]["learner"], learner.as_str());
    let identities = studio.identities().await.unwrap();
    assert_eq!(identities.learner(&bo_id), Some(learner.as_str()));

    // The class's recommendations now know what Bo owns: none of it is offered.
    let next = studio
        .recommend_next(AudienceRef { session_id: None })
        .await
        .unwrap();
    assert!(!next.is_empty());
    for course in &next {
        assert!(!courses.contains(&course.course_id.as_str()), "{next:?}");
    }

    // A link with another learner's signature is refused in words; nothing is linked.
    let mut hello_cy = hello(&keys.of(&studio, 'c').await, "Cy", None);
    hello_cy.learner_link = Some(lectern_room::LearnerLink {
        learner: "someone-else".into(),
        sig,
    });
    let mut cy = connect(&studio, Seat::Viewer { address: None }, hello_cy);
    let cy_id = cy.next().await["viewer"].as_str().unwrap().to_owned();
    let reply = cy.until("reply").await;
    assert_eq!(reply["reply"]["type"], "rejected", "{reply}");
    assert!(
        reply["reply"]["message"]
            .as_str()
            .unwrap()
            .contains("personal join link is not valid"),
        "{reply}"
    );
    assert_eq!(studio.identities().await.unwrap().learner(&cy_id), None);
}

/// A reconnect that claims it saw nothing (`last_seq: 0`) after a long class gets the last
/// `MAX_MISSED` events before its welcome, never the oldest ones, and no more.
#[tokio::test]
async fn a_reconnect_from_zero_gets_only_the_last_events_before_its_welcome() {
    use lectern_engine::room_session::MAX_MISSED;
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let mut prof = connect(
        &studio,
        Seat::Instructor,
        hello(&"p".repeat(32), "Prof", None),
    );
    let session = prof.next().await["session"].as_i64().unwrap();
    let room = studio.live_room().await.unwrap();
    let total = MAX_MISSED as usize + 200;
    let mut pending = vec![];
    for i in 0..total {
        pending.push(room.submit(lectern_room::Input::Media {
            viewer: lectern_room::ViewerId(format!("v-{:04}", i % 50)),
            watching: i % 2 == 0,
        }));
    }
    for p in pending {
        p.await.unwrap();
    }
    let mut again = connect(
        &studio,
        Seat::Instructor,
        hello(&"p".repeat(32), "Prof", Some((session, 0))),
    );
    let welcome = again.next().await;
    let welcome_seq = welcome["seq"].as_i64().unwrap();
    let mut seqs = vec![];
    loop {
        let frame = again.next().await;
        match frame["type"].as_str().unwrap() {
            "event" => seqs.push(frame["seq"].as_i64().unwrap()),
            "caught_up" => break,
            other => panic!("unexpected {other}: {frame}"),
        }
    }
    assert!(welcome_seq > i64::from(MAX_MISSED) + 100, "{welcome_seq}");
    assert_eq!(seqs.len(), MAX_MISSED as usize);
    assert_eq!(*seqs.last().unwrap(), welcome_seq, "up to the welcome");
    assert_eq!(
        seqs[0],
        welcome_seq - i64::from(MAX_MISSED) + 1,
        "the last ones"
    );
    studio.close().await.unwrap();
}

/// The answer assistant: a student's question close to the demo FAQ gets its answer with the
/// source and a confidence; a greeting gets none; an answer staff write in class is suggested
/// next time; a school's own FAQ replaces the demo's, and a bad file changes nothing.
#[tokio::test]
async fn the_answer_assistant_suggests_known_answers_and_learns_written_ones() {
    use lectern_engine::answers::{ImportFaq, SuggestAnswer};
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let mut keys = Keys::default();
    let ask = |text: &str| {
        let studio = studio.clone();
        let text = text.to_owned();
        async move {
            studio
                .suggest_answer(SuggestAnswer { text, chat: false })
                .await
                .unwrap()
        }
    };
    let refund = ask("How can I get a refund for this course?").await;
    let s = refund.suggestion.expect("the FAQ's refund answer");
    assert!(s.answer.contains("14 days"), "{}", s.answer);
    assert!(s.source.contains("FAQ"), "{}", s.source);
    assert!(
        s.confidence >= 0.7 && s.confidence <= 1.0,
        "{}",
        s.confidence
    );
    assert!(ask("hello everyone!").await.suggestion.is_none());

    // In class, a student asks something the FAQ does not know; the TA answers it in writing.
    let mut prof = connect(
        &studio,
        Seat::Instructor,
        hello(&keys.of(&studio, 'p').await, "Prof", None),
    );
    prof.next().await;
    let mut ada = connect(
        &studio,
        Seat::Viewer { address: None },
        hello(&keys.of(&studio, 'a').await, "Ada", None),
    );
    ada.next().await;
    let question = "Which SQL database do we install for the window functions lab?";
    assert!(ask(question).await.suggestion.is_none(), "not known yet");
    ada.send(
        &studio,
        json!({"v": 1, "client_id": "q1", "action": {"type": "ask", "text": question}}),
    )
    .await;
    let asked = prof.until_event("question_asked").await;
    let id = asked["record"]["event"]["question"]["id"].as_u64().unwrap();
    prof.send(
        &studio,
        json!({"v": 1, "client_id": "a1", "action": {"type": "answer_question", "question": id,
            "answer": "PostgreSQL 16: the lab's setup page has the installer."}}),
    )
    .await;
    let answered = ada.until_event("question_answered").await;
    assert_eq!(
        answered["record"]["event"]["answer"],
        "PostgreSQL 16: the lab's setup page has the installer."
    );
    let learned = ask("which database should I install for the window functions lab")
        .await
        .suggestion
        .expect("the answer written in class");
    assert!(
        learned.answer.starts_with("PostgreSQL 16"),
        "{}",
        learned.answer
    );
    assert!(learned.source.contains("Q&A"), "{}", learned.source);

    // The school's own FAQ replaces the demo's; a file with a bad row changes nothing.
    let bad = studio
        .import_faq(ImportFaq {
            text: "question,answer\nWhere is the lab?,\n".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code.as_str(), "invalid_input", "{}", bad.message);
    assert!(
        ask("How can I get a refund for this course?")
            .await
            .suggestion
            .is_some()
    );
    let imported = studio
        .import_faq(ImportFaq {
            text: "question,answer\nWhere do I find the lab's slides?,\"On the course page, under Materials.\"\n"
                .into(),
        })
        .await
        .unwrap();
    assert_eq!(imported.entries, 1);
    let slides = ask("where can I find the slides of the lab?")
        .await
        .suggestion
        .expect("the school's own FAQ");
    assert_eq!(slides.answer, "On the course page, under Materials.");
    assert!(
        ask("How can I get a refund for this course?")
            .await
            .suggestion
            .is_none(),
        "the demo FAQ is gone"
    );
    studio.close().await.unwrap();
}

/// A TA's seat by a new moderator link.
async fn ta_seat(studio: &Studio, label: &str) -> Seat {
    let link = studio
        .create_moderator_link(lectern_engine::moderators::CreateModeratorLink {
            label: label.into(),
            hours: 2,
        })
        .await
        .unwrap();
    let token = link.path.rsplit_once("mod=").unwrap().1;
    Seat::Ta(studio.moderator_grant(token).await.unwrap())
}

/// Frames until an event of `event_type` whose record matches `pick`.
async fn until_event_where(
    client: &mut Client,
    event_type: &str,
    pick: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        let frame = client.until_event(event_type).await;
        if pick(&frame) {
            return frame;
        }
    }
}

/// The answer assistant learns from staff's chat replies: a TA's reply to a student's question
/// in chat is suggested next time, in chat and in Q&A, with where and by whom it was given; a
/// remark in chat gets no suggestion; a deleted reply is forgotten.
#[tokio::test]
async fn staff_chat_replies_become_known_answers_with_their_source() {
    use lectern_engine::answers::SuggestAnswer;
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let mut keys = Keys::default();
    let ask = |text: &str, chat: bool| {
        let studio = studio.clone();
        let text = text.to_owned();
        async move {
            studio
                .suggest_answer(SuggestAnswer { text, chat })
                .await
                .unwrap()
        }
    };
    let seat = ta_seat(&studio, "Sam (TA)").await;
    let mut sam = connect(&studio, seat, hello(&keys.of(&studio, 's').await, "", None));
    sam.next().await;
    let mut ada = connect(
        &studio,
        Seat::Viewer { address: None },
        hello(&keys.of(&studio, 'a').await, "Ada", None),
    );
    ada.next().await;

    let paraphrase = "which database should I install for the window functions lab?";
    assert!(
        ask(paraphrase, true).await.suggestion.is_none(),
        "not known yet"
    );
    ada.send(
        &studio,
        chat(
            "c1",
            "Which SQL database do we install for the window functions lab?",
        ),
    )
    .await;
    let asked = sam.until_event("chat_sent").await;
    let asked_id = asked["record"]["event"]["message"]["id"].as_u64().unwrap();
    let reply = "PostgreSQL 16: the lab's setup page has the installer.";
    sam.send(
        &studio,
        json!({"v": 1, "client_id": "r1", "action": {"type": "send_chat", "text": reply, "reply_to": asked_id}}),
    )
    .await;
    // Everyone sees which message it answers.
    let replied = until_event_where(&mut ada, "chat_sent", |f| {
        f["record"]["event"]["message"]["text"] == reply
    })
    .await;
    assert_eq!(replied["record"]["event"]["message"]["reply_to"], asked_id);
    assert_eq!(replied["record"]["event"]["message"]["role"], "ta");
    let reply_id = replied["record"]["event"]["message"]["id"]
        .as_u64()
        .unwrap();

    for in_chat in [true, false] {
        let learned = ask(paraphrase, in_chat)
            .await
            .suggestion
            .expect("the TA's reply in chat");
        assert_eq!(learned.answer, reply);
        assert!(
            learned
                .source
                .starts_with("answered by the TA in “Session test”, 20")
                && learned.source.ends_with("(chat)"),
            "{}",
            learned.source
        );
    }
    // A remark in chat is not a question; the same words asked in Q&A are looked up.
    let remark = "the window functions lab database is PostgreSQL";
    assert!(ask(remark, true).await.suggestion.is_none());

    // A student's reply to staff teaches nothing.
    ada.send(
        &studio,
        json!({"v": 1, "client_id": "c2", "action": {"type": "send_chat",
            "text": "Is there a discount for students of the window functions lab? MySQL 8 please", "reply_to": reply_id}}),
    )
    .await;
    until_event_where(&mut sam, "chat_sent", |f| {
        f["record"]["event"]["message"]["reply_to"] == reply_id
    })
    .await;
    assert_eq!(
        ask(paraphrase, true).await.suggestion.unwrap().answer,
        reply
    );

    // The TA deletes the reply: it is not suggested any more.
    sam.send(
        &studio,
        json!({"v": 1, "client_id": "d1", "action": {"type": "delete_message", "message": reply_id}}),
    )
    .await;
    until_event_where(&mut ada, "message_deleted", |f| {
        f["record"]["event"]["message"] == reply_id
    })
    .await;
    assert!(
        ask(paraphrase, true).await.suggestion.is_none(),
        "forgotten"
    );
    studio.close().await.unwrap();
}

/// "Answer known questions automatically": off by default (nothing is answered); turned on, a
/// student's question whose known answer is at or over the threshold is answered by the room,
/// marked automatic with its source, logged with no author; one under the threshold waits for
/// staff. Thresholds under what staff are shown are refused.
#[tokio::test]
async fn known_questions_are_answered_automatically_only_when_turned_on_and_sure_enough() {
    use lectern_engine::answers::{AnswerSettings, ImportFaq, SuggestAnswer};
    let dir = tempfile::tempdir().unwrap();
    let studio = live_demo(dir.path()).await;
    let mut keys = Keys::default();
    studio
        .import_faq(ImportFaq {
            text: "question,answer\nIs this class recorded?,\"Yes: the replay is on the course page the next day.\"\nHow do I get the certificate of completion?,Pass the final quiz and it is mailed to you.\n"
                .into(),
        })
        .await
        .unwrap();
    let confidence = |text: &str| {
        let studio = studio.clone();
        let text = text.to_owned();
        async move {
            studio
                .suggest_answer(SuggestAnswer { text, chat: false })
                .await
                .unwrap()
                .suggestion
                .map_or(0.0, |s| s.confidence)
        }
    };
    let sure = "Is this class recorded?";
    let less_sure = "is the lab class recorded for later";
    let (high, low) = (confidence(sure).await, confidence(less_sure).await);
    let threshold = 0.95;
    assert!(
        high >= threshold && low >= 0.7 && low < threshold,
        "{high} {low}"
    );

    let info = studio.answer_settings(NoArgs {}).await.unwrap();
    assert_eq!(
        info.settings,
        AnswerSettings {
            auto_answer: false,
            threshold: 0.9
        },
        "off by default"
    );
    assert_eq!(info.min_threshold, 0.7);
    for refused in [0.5, 1.5, f64::NAN] {
        let err = studio
            .set_answer_settings(AnswerSettings {
                auto_answer: true,
                threshold: refused,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{refused}");
    }
    assert!(
        !studio
            .answer_settings(NoArgs {})
            .await
            .unwrap()
            .settings
            .auto_answer
    );

    let mut prof = connect(
        &studio,
        Seat::Instructor,
        hello(&keys.of(&studio, 'p').await, "Prof", None),
    );
    prof.next().await;
    let mut ada = connect(
        &studio,
        Seat::Viewer { address: None },
        hello(&keys.of(&studio, 'a').await, "Ada", None),
    );
    ada.next().await;
    let ask = |client_id: &str, text: &str| json!({"v": 1, "client_id": client_id, "action": {"type": "ask", "text": text}});

    // Off: a question the FAQ answers surely waits for staff.
    ada.send(&studio, ask("q1", sure)).await;
    prof.until_event("question_asked").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // On: the sure one is answered by itself, the less sure one waits.
    studio
        .set_answer_settings(AnswerSettings {
            auto_answer: true,
            threshold,
        })
        .await
        .unwrap();
    ada.send(&studio, ask("q2", less_sure)).await;
    ada.send(&studio, ask("q3", sure)).await;
    let answered = ada.until_event("question_answered").await;
    let event = &answered["record"]["event"];
    assert_eq!(event["question"], 3, "{answered}");
    assert_eq!(
        event["answer"],
        "Yes: the replay is on the course page the next day."
    );
    assert_eq!(event["automatic"]["source"], "the school's FAQ, line 2");
    assert!(
        event["automatic"]["confidence"].as_u64().unwrap() >= 90,
        "{answered}"
    );
    assert!(
        answered["record"]["by"].is_null(),
        "the assistant, not a person"
    );

    // Staff see it answered and marked; questions 1 and 2 still wait.
    let mut again = connect(
        &studio,
        Seat::Instructor,
        hello(&keys.of(&studio, 'p').await, "Prof", None),
    );
    let welcome = again.next().await;
    let questions = welcome["snapshot"]["questions"].as_array().unwrap().clone();
    let state = |id: u64| {
        questions
            .iter()
            .find(|q| q["id"] == id)
            .map(|q| {
                (
                    q["state"].as_str().unwrap().to_owned(),
                    q["automatic"].clone(),
                )
            })
            .unwrap()
    };
    assert_eq!(state(1).0, "pending");
    assert_eq!(state(2).0, "pending");
    assert_eq!(state(3).0, "answered");
    assert_eq!(state(3).1["confidence"], event["automatic"]["confidence"]);

    // Logged like any answer, once.
    let store = studio.store().await.unwrap();
    let session = studio.live_room().await.unwrap().session_id();
    let answers: Vec<(Option<String>, String)> = store
        .read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT actor, payload FROM events WHERE kind = 'question_answered'
                  AND session_id = ?1 ORDER BY id",
            )?;
            let rows = stmt
                .query_map([session], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
        .unwrap();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].0, None);
    assert!(answers[0].1.contains("\"automatic\""), "{}", answers[0].1);
    // The assistant's own answers are not learned as if staff wrote them.
    assert_eq!(
        studio
            .suggest_answer(SuggestAnswer {
                text: sure.into(),
                chat: false
            })
            .await
            .unwrap()
            .suggestion
            .unwrap()
            .source,
        "the school's FAQ, line 2"
    );
    drop(prof);
    studio.close().await.unwrap();
}

/// Identities are the school's to issue: a student without a key (or with one they made up) is
/// given one in the welcome, keeps their identity with it, and an address is issued only so
/// many; a ban with the address refuses the banned student's private window, not a classmate
/// behind the same address who already has a key.
#[tokio::test]
async fn the_school_issues_browser_keys_and_a_ban_can_reach_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = StudioOptions::new(dir.path(), SchoolSource::Demo);
    options.browser_keys = lectern_engine::browser_keys::KeyRate {
        burst: 3,
        per_minute: 1,
    };
    let studio = Studio::open(options).await.unwrap();
    studio
        .start_class(StartClass {
            title: "Keys".into(),
            course_id: None,
            instructor: None,
            record: None,
        })
        .await
        .unwrap();
    let cafe = Seat::Viewer {
        address: Some("192.0.2.7".parse().unwrap()),
    };
    let mut prof = connect(&studio, Seat::Instructor, hello("", "Prof", None));
    prof.next().await;

    // A first visit: no key; the welcome brings one, and it names the same viewer next time.
    let mut troll = connect(&studio, cafe.clone(), hello("", "Troll", None));
    let welcome = troll.next().await;
    let key = welcome["browser_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("bk1-"), "{welcome}");
    let troll_id = welcome["viewer"].as_str().unwrap().to_owned();
    assert_eq!(troll_id, studio.viewer_id(&key).await.unwrap().0);
    let mut again = connect(&studio, cafe.clone(), hello(&key, "Troll", None));
    let welcome = again.next().await;
    assert_eq!(welcome["viewer"], troll_id.as_str());
    assert!(welcome.get("browser_key").is_none(), "a signed key is kept");

    // A key the page made up is not an identity: it gets a new one, and another viewer.
    let mut made_up = connect(&studio, cafe.clone(), hello(&"m".repeat(32), "Mo", None));
    let welcome = made_up.next().await;
    assert_ne!(welcome["viewer"], troll_id.as_str());
    let classmate_key = welcome["browser_key"].as_str().unwrap().to_owned();
    // A page's own nonce (32 hex) is signed into its key: its room join and its video's WHEP
    // answer, racing on a first visit, name the same viewer.
    let nonce = "0123456789abcdef0123456789abcdef";
    let mut nia = connect(&studio, cafe.clone(), hello(nonce, "Nia", None));
    let welcome = nia.next().await;
    let (same_key, same_viewer) = studio
        .issue_browser_key(None, Some(nonce))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(welcome["browser_key"], same_key.as_str());
    assert_eq!(welcome["viewer"], same_viewer.0.as_str());

    // The instructor bans the troll with their address.
    prof.send(
        &studio,
        json!({"v": 1, "client_id": "ban-1", "action": {"type": "ban", "viewer": troll_id, "address": true}}),
    )
    .await;
    prof.until("ack").await;

    // The troll's private window (no key) is refused in words, and the connection closes.
    let mut private = connect(&studio, cafe.clone(), hello("", "Nice Person", None));
    let reply = private.next().await;
    assert_eq!(reply["type"], "reply", "{reply}");
    assert_eq!(reply["reply"]["error"]["code"], "banned");
    assert!(
        reply["reply"]["message"]
            .as_str()
            .unwrap()
            .contains("network address"),
        "{reply}"
    );
    assert_eq!(private.next().await["type"], "closed");
    // A classmate behind the same address who has a key joins as before.
    let mut classmate = connect(&studio, cafe.clone(), hello(&classmate_key, "Mo", None));
    assert_eq!(classmate.next().await["type"], "welcome");
    // Another address is not banned, and it has its own bucket: 3 fresh keys, then refused.
    let home = Seat::Viewer {
        address: Some("198.51.100.9".parse().unwrap()),
    };
    for i in 0..3 {
        let mut fresh = connect(&studio, home.clone(), hello("", &format!("Home {i}"), None));
        assert_eq!(fresh.next().await["type"], "welcome");
    }
    let mut fourth = connect(&studio, home.clone(), hello("", "Home 4", None));
    let reply = fourth.next().await;
    assert_eq!(reply["reply"]["error"]["code"], "rate_limited", "{reply}");
    // Minting directly is refused the same way.
    let refused = studio
        .issue_browser_key(Some("198.51.100.9".parse().unwrap()), None)
        .await
        .unwrap();
    assert!(refused.is_err());
    studio.close().await.unwrap();
}
