//! The live room over `/room`, with real WebSockets on loopback against a real school file.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{Host, host};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(h: &Host) -> Socket {
    let url = format!("{}room", h.base.replacen("http", "ws", 1));
    tokio_tungstenite::connect_async(&url).await.unwrap().0
}

async fn next_json(ws: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message in time");
        match message.expect("the socket is open").unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(frame) => return json!({ "closed": frame.map(|f| u16::from(f.code)) }),
            _ => {}
        }
    }
}

/// Read messages until one of `kind` arrives.
pub(crate) async fn until(ws: &mut Socket, kind: &str) -> Value {
    loop {
        let message = next_json(ws).await;
        if message["type"] == kind || message.get("closed").is_some() {
            return message;
        }
    }
}

pub(crate) async fn hello(ws: &mut Socket, body: Value) -> Value {
    ws.send(Message::text(body.to_string())).await.unwrap();
    next_json(ws).await
}

/// The instructor's socket (the owner key), joined.
pub(crate) async fn join_as_instructor(h: &Host) -> Socket {
    let mut instructor = connect(h).await;
    let welcome = hello(
        &mut instructor,
        json!({"type": "hello", "v": 1, "name": "Ada", "browser_key": "browser-instructor-01", "key": h.key}),
    )
    .await;
    assert_eq!(welcome["role"], "instructor", "{welcome}");
    instructor
}

pub(crate) async fn start_class(h: &Host) {
    let r = h
        .post("start_class")
        .bearer_auth(&h.key)
        .body(r#"{"title":"Intro to SQL"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

pub(crate) fn frame(client_id: &str, action: Value) -> Message {
    Message::text(json!({ "v": 1, "client_id": client_id, "action": action }).to_string())
}

#[tokio::test]
async fn without_a_live_class_the_room_is_closed() {
    let h = host().await;
    let mut ws = connect(&h).await;
    let answer = hello(
        &mut ws,
        json!({"type": "hello", "v": 1, "name": "Ann", "browser_key": "browser-key-ann-0001"}),
    )
    .await;
    assert_eq!(answer["closed"], 4404);
    h.stop().await;
}

#[tokio::test]
async fn viewers_and_staff_chat_in_commit_order_and_staff_notes_stay_with_staff() {
    let h = host().await;
    start_class(&h).await;
    let overview: Value = h
        .post("overview")
        .bearer_auth(&h.key)
        .body("{}")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overview["live"]["state"], "live");
    assert_eq!(overview["live"]["title"], "Intro to SQL");

    let mut teacher = connect(&h).await;
    let welcome = hello(&mut teacher, json!({"type": "hello", "v": 1, "name": "Teacher", "browser_key": "browser-key-teacher-01", "key": h.key})).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["role"], "instructor");

    let mut ann = connect(&h).await;
    let welcome = hello(
        &mut ann,
        json!({"type": "hello", "v": 1, "name": "Ann", "browser_key": "browser-key-ann-0001"}),
    )
    .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["role"], "viewer");
    let viewer = welcome["viewer"].as_str().unwrap().to_owned();
    assert!(
        viewer.starts_with("v-") && !viewer.contains("ann"),
        "pseudonymous: {viewer}"
    );
    assert!(welcome["snapshot"]["chat"].is_array());
    let joined_at = welcome["seq"].as_i64().unwrap();

    ann.send(frame(
        "c1",
        json!({"type": "send_chat", "text": "Hi from Ann"}),
    ))
    .await
    .unwrap();
    let ack = until(&mut ann, "ack").await;
    assert_eq!(ack["client_id"], "c1");
    let seq = ack["seqs"][0].as_i64().unwrap();
    assert!(seq > joined_at);
    // The teacher sees the same event, numbered the same.
    let event = loop {
        let event = until(&mut teacher, "event").await;
        if event["record"]["event"]["type"] == "chat_sent" {
            break event;
        }
    };
    assert_eq!(event["seq"], seq);
    assert_eq!(event["record"]["event"]["message"]["text"], "Hi from Ann");

    // A staff note reaches the teacher but never Ann.
    teacher
        .send(frame(
            "t1",
            json!({"type": "post_back_channel", "text": "Watch the chat for spam"}),
        ))
        .await
        .unwrap();
    let note = loop {
        let event = until(&mut teacher, "event").await;
        if event["record"]["event"]["type"] == "back_channel_posted" {
            break event;
        }
    };
    ann.send(frame("c2", json!({"type": "send_chat", "text": "Second"})))
        .await
        .unwrap();
    loop {
        let message = next_json(&mut ann).await;
        assert_ne!(
            message["record"]["event"]["type"], "back_channel_posted",
            "a viewer got a staff note"
        );
        if message["type"] == "ack" && message["client_id"] == "c2" {
            assert!(message["seqs"][0].as_i64().unwrap() > note["seq"].as_i64().unwrap());
            break;
        }
    }
    h.stop().await;
}

#[tokio::test]
async fn a_reconnecting_viewer_gets_what_it_missed_and_bad_frames_get_typed_refusals() {
    let h = host().await;
    start_class(&h).await;
    let mut ann = connect(&h).await;
    let welcome = hello(
        &mut ann,
        json!({"type": "hello", "v": 1, "name": "Ann", "browser_key": "browser-key-ann-0001"}),
    )
    .await;
    let seen = welcome["seq"].as_i64().unwrap();
    ann.close(None).await.unwrap();

    let mut bob = connect(&h).await;
    hello(
        &mut bob,
        json!({"type": "hello", "v": 1, "name": "Bob", "browser_key": "browser-key-bob-00001"}),
    )
    .await;
    bob.send(frame(
        "b1",
        json!({"type": "send_chat", "text": "Ann missed this"}),
    ))
    .await
    .unwrap();
    until(&mut bob, "ack").await;

    // Garbage and oversize-free nonsense are refused with a code; the socket stays usable.
    bob.send(Message::text("{not json")).await.unwrap();
    let refused = until(&mut bob, "reply").await;
    assert_eq!(refused["reply"]["type"], "rejected");
    assert_eq!(refused["reply"]["error"]["code"], "malformed", "{refused}");
    bob.send(frame(
        "b2",
        json!({"type": "send_chat", "text": "x".repeat(600)}),
    ))
    .await
    .unwrap();
    let refused = until(&mut bob, "reply").await;
    assert_eq!(refused["reply"]["error"]["code"], "too_long", "{refused}");
    assert_eq!(refused["reply"]["client_id"], "b2");

    // Ann comes back with the last number she saw: the missed chat arrives, numbered.
    let mut ann = connect(&h).await;
    let welcome = hello(
        &mut ann,
        json!({"type": "hello", "v": 1, "name": "Ann", "browser_key": "browser-key-ann-0001", "last_seq": seen}),
    )
    .await;
    let now = welcome["seq"].as_i64().unwrap();
    let ann_id = welcome["viewer"].as_str().unwrap().to_owned();
    let mut missed = vec![];
    loop {
        let message = next_json(&mut ann).await;
        match message["type"].as_str() {
            Some("event") => missed.push((
                message["seq"].as_i64().unwrap(),
                message["record"]["event"]["type"].clone(),
            )),
            Some("caught_up") => {
                assert_eq!(message["seq"], now);
                break;
            }
            _ => panic!("unexpected {message}"),
        }
    }
    // No gap and no duplicate: exactly the events of the log after `seen` that a viewer may see.
    let store = h.studio.store().await.unwrap();
    let session = store.recent_sessions(1).await.unwrap()[0].id;
    let expected: Vec<i64> = store
        .events_after(session, seen, 1_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.seq <= now)
        .filter(|e| {
            let record: lectern_room::Recorded = serde_json::from_value(e.payload.clone()).unwrap();
            let audience = record.event.audience();
            audience == lectern_room::Audience::Everyone
                || audience
                    == lectern_room::Audience::StaffAnd(lectern_room::ViewerId(ann_id.clone()))
        })
        .map(|e| e.seq)
        .collect();
    assert_eq!(missed.iter().map(|m| m.0).collect::<Vec<_>>(), expected);
    assert!(missed.iter().any(|m| m.1 == "chat_sent"), "{missed:?}");
    h.stop().await;
}

#[tokio::test]
async fn a_wrong_owner_key_is_refused() {
    let h = host().await;
    start_class(&h).await;
    let mut ws = connect(&h).await;
    let answer =
        hello(&mut ws, json!({"type": "hello", "v": 1, "name": "Eve", "browser_key": "browser-key-eve-00001", "key": "0".repeat(64)})).await;
    assert_eq!(answer["closed"], 4401);
    h.stop().await;
}

#[tokio::test]
async fn ending_the_class_closes_every_connection_and_the_instructor_is_the_key_not_the_browser() {
    let h = host().await;
    start_class(&h).await;
    // The same browser key as a student tab, but with the owner key: still the instructor.
    let mut teacher = connect(&h).await;
    let welcome = hello(&mut teacher, json!({"type": "hello", "v": 1, "name": "Teacher", "browser_key": "shared-browser-key-01", "key": h.key})).await;
    assert_eq!(welcome["viewer"], "instructor");
    let mut tab = connect(&h).await;
    let welcome = hello(
        &mut tab,
        json!({"type": "hello", "v": 1, "name": "Sam", "browser_key": "shared-browser-key-01"}),
    )
    .await;
    assert!(welcome["viewer"].as_str().unwrap().starts_with("v-"));

    let r = h
        .post("end_class")
        .bearer_auth(&h.key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for ws in [&mut teacher, &mut tab] {
        let closed = loop {
            let message = next_json(ws).await;
            if message.get("closed").is_some() {
                break message;
            }
        };
        assert_eq!(closed["closed"], 4410);
    }
    // And a new connection hears that no class is live.
    let mut late = connect(&h).await;
    let answer = hello(
        &mut late,
        json!({"type": "hello", "v": 1, "browser_key": "browser-key-late-0001"}),
    )
    .await;
    assert_eq!(answer["closed"], 4404);
    h.stop().await;
}

#[tokio::test]
async fn a_last_seq_from_another_class_is_ignored() {
    let h = host().await;
    start_class(&h).await;
    let mut ann = connect(&h).await;
    let welcome = hello(
        &mut ann,
        json!({"type": "hello", "v": 1, "name": "Ann", "browser_key": "browser-key-ann-0001", "last_seq": 0, "session": 999_999}),
    )
    .await;
    assert_eq!(welcome["type"], "welcome");
    // No catch-up for a number from another session: the next message is live, not `caught_up`.
    ann.send(frame("c1", json!({"type": "send_chat", "text": "hello"})))
        .await
        .unwrap();
    let next = next_json(&mut ann).await;
    assert_ne!(next["type"], "caught_up", "{next}");
    h.stop().await;
}

/// A viewer may give an email at join, with consent: the instructor sees only its hash; without
/// consent the join still succeeds and the email is refused and kept nowhere.
#[tokio::test]
async fn an_email_given_at_join_with_consent_links_purchases_by_its_hash_only() {
    let h = host().await;
    start_class(&h).await;
    let mut instructor = join_as_instructor(&h).await;

    let mut pat = connect(&h).await;
    let welcome = hello(
        &mut pat,
        json!({"type": "hello", "v": 1, "name": "Pat", "browser_key": "browser-pat-00000001",
               "email": "  Pat@Example.ORG ", "consent": true}),
    )
    .await;
    assert_eq!(welcome["type"], "welcome");
    let pat_id = welcome["viewer"].as_str().unwrap().to_owned();
    assert!(
        until(&mut pat, "ack").await["seqs"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );

    let mut quinn = connect(&h).await;
    let welcome = hello(
        &mut quinn,
        json!({"type": "hello", "v": 1, "name": "Quinn", "browser_key": "browser-quinn-0000001",
               "email": "quinn@example.org"}),
    )
    .await;
    assert_eq!(
        welcome["type"], "welcome",
        "no consent does not stop the join"
    );
    let refused = until(&mut quinn, "reply").await;
    assert_eq!(refused["reply"]["error"]["code"], "invalid", "{refused}");

    // The instructor's stream: Pat's address keyed with the school's email key (never the plain
    // SHA-256 a TA could reverse by hashing guesses), nothing of Quinn's.
    let linked = loop {
        let m = until(&mut instructor, "event").await;
        if m["record"]["event"]["type"] == "email_linked" {
            break m["record"]["event"].clone();
        }
    };
    assert_eq!(linked["viewer"], pat_id.as_str());
    let plain = lectern_room::email_hash("pat@example.org").unwrap();
    let keyed = linked["email_hash"].as_str().unwrap();
    assert_eq!(keyed.len(), 64, "{keyed}");
    assert!(keyed.bytes().all(|b| b.is_ascii_hexdigit()), "{keyed}");
    assert_ne!(keyed, plain, "keyed, not the plain SHA-256");
    assert_ne!(
        keyed,
        lectern_room::keyed_email_hash(b"a guessed key", &plain),
        "keyed with the school's own key"
    );
    assert!(!linked.to_string().contains("example.org"));
    // Quinn chats; the instructor gets that next, with no email link in between.
    quinn
        .send(frame("q1", json!({"type": "send_chat", "text": "hi"})))
        .await
        .unwrap();
    loop {
        let m = until(&mut instructor, "event").await;
        let kind = m["record"]["event"]["type"].as_str().unwrap().to_owned();
        assert_ne!(kind, "email_linked", "{m}");
        if kind == "chat_sent" {
            break;
        }
    }
    h.stop().await;
}
