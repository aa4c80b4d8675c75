//! Scenario tests: a script of (time, input) steps, the emitted outputs as a snapshot.

use expect_test::expect;
use lectern_room::{
    Action, Audience, Event, Input, PollId, PollSpec, QuestionId, Reaction, Role, Timestamp,
};

use super::harness::{act, act_as, chat, class, id, join, join_from};

fn poll(options: &[&str]) -> PollSpec {
    PollSpec {
        question: "Which one?".into(),
        options: options.iter().map(|o| (*o).to_owned()).collect(),
        multiple: false,
        anonymous: false,
        correct: None,
        duration_secs: None,
        skill: None,
    }
}

#[test]
fn join_welcomes_with_snapshot_and_empty_name_gets_pseudonym() {
    let mut s = class();
    s.at(10, join("bob", Role::Viewer, "   "))
        .at(20, join("eve", Role::Viewer, &"x".repeat(41)))
        .at(30, join("zed", Role::Viewer, &"a\u{0301}".repeat(100_000)))
        .at(40, chat("ada", &"b".repeat(1_000_000)));
    expect![[r#"
        @10 bob: {"type":"viewer_joined","viewer":"bob","role":"viewer","name":"Guest 4","fingerprint":null}
        @10 -> bob welcome name="Guest 4" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @20 -> eve rejected too_long {"limit":40}
        @30 -> zed rejected too_long {"limit":40}
        @40 -> ada rejected too_long {"limit":500}
    "#]].assert_eq(&s.finish());
}

#[test]
fn burst_of_five_then_rate_limited_then_refilled() {
    let mut s = class();
    for i in 0..6 {
        s.at(1_000 + i * 10, chat("ada", &format!("msg {i}")));
    }
    s.at(2_050, chat("ada", "after a second"));
    s.at(2_060, chat("ada", "too soon again"));
    expect![[r#"
        @1000 ada: {"type":"chat_sent","message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"msg 0","sent_at":1000}}
        @1010 ada: {"type":"chat_sent","message":{"id":2,"author":"ada","name":"Ada","role":"viewer","text":"msg 1","sent_at":1010}}
        @1020 ada: {"type":"chat_sent","message":{"id":3,"author":"ada","name":"Ada","role":"viewer","text":"msg 2","sent_at":1020}}
        @1030 ada: {"type":"chat_sent","message":{"id":4,"author":"ada","name":"Ada","role":"viewer","text":"msg 3","sent_at":1030}}
        @1040 ada: {"type":"chat_sent","message":{"id":5,"author":"ada","name":"Ada","role":"viewer","text":"msg 4","sent_at":1040}}
        @1050 -> ada rejected rate_limited {"retry_after_ms":950}
        @2050 ada: {"type":"chat_sent","message":{"id":6,"author":"ada","name":"Ada","role":"viewer","text":"after a second","sent_at":2050}}
        @2060 -> ada rejected rate_limited {"retry_after_ms":940}
    "#]].assert_eq(&s.finish());
}

#[test]
fn slow_mode_applies_to_viewers_not_staff() {
    let mut s = class();
    s.at(100, act("ta", Action::SetSlowMode { seconds: 10 }))
        .at(200, chat("ada", "first"))
        .at(3_200, chat("ada", "second too soon"))
        .at(3_300, chat("ta", "staff is not slowed"))
        .at(3_400, chat("ta", "still not"))
        .at(10_200, chat("ada", "second on time"))
        .at(10_300, act("ta", Action::SetSlowMode { seconds: 301 }));
    expect![[r#"
        @100 ta: {"type":"chat_mode_changed","mode":{"slow_mode_secs":10,"approved_only":false,"hold_first_messages":0}}
        @200 ada: {"type":"chat_sent","message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"first","sent_at":200}}
        @3200 -> ada rejected slow_mode {"retry_after_ms":7000}
        @3300 ta: {"type":"chat_sent","message":{"id":2,"author":"ta","name":"Alan","role":"ta","text":"staff is not slowed","sent_at":3300}}
        @3400 ta: {"type":"chat_sent","message":{"id":3,"author":"ta","name":"Alan","role":"ta","text":"still not","sent_at":3400}}
        @10200 ada: {"type":"chat_sent","message":{"id":4,"author":"ada","name":"Ada","role":"viewer","text":"second on time","sent_at":10200}}
        @10300 -> ta rejected out_of_range {"max":300,"min":0}
    "#]].assert_eq(&s.finish());
}

#[test]
fn link_from_viewer_is_held_and_staff_approve_or_reject() {
    let mut s = class();
    s.at(100, chat("ada", "see https://evil.example/x"))
        .at(200, chat("ada", "or visit free-stuff.com now"))
        .at(300, chat("ta", "course notes at lectern.dev/notes"))
        .at(
            400,
            act(
                "ada",
                Action::ApproveHeld {
                    message: lectern_room::MessageId(1),
                },
            ),
        )
        .at(
            500,
            act(
                "ta",
                Action::ApproveHeld {
                    message: lectern_room::MessageId(1),
                },
            ),
        )
        .at(
            600,
            act(
                "ta",
                Action::RejectHeld {
                    message: lectern_room::MessageId(2),
                },
            ),
        )
        .at(
            700,
            act(
                "ta",
                Action::RejectHeld {
                    message: lectern_room::MessageId(2),
                },
            ),
        );
    expect![[r#"
        @100 ada: {"type":"chat_held","hold":{"message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"see https://evil.example/x","sent_at":100},"reason":"link"}}
        @200 ada: {"type":"chat_held","hold":{"message":{"id":2,"author":"ada","name":"Ada","role":"viewer","text":"or visit free-stuff.com now","sent_at":200},"reason":"link"}}
        @300 ta: {"type":"chat_sent","message":{"id":3,"author":"ta","name":"Alan","role":"ta","text":"course notes at lectern.dev/notes","sent_at":300}}
        @400 -> ada rejected forbidden
        @500 ta: {"type":"hold_approved","message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"see https://evil.example/x","sent_at":100}}
        @600 ta: {"type":"hold_rejected","message":2,"author":"ada"}
        @700 -> ta rejected not_found
    "#]].assert_eq(&s.finish());
}

#[test]
fn blocked_terms_approved_only_and_first_messages_hold() {
    let mut s = class();
    s.at(
        100,
        act(
            "ta",
            Action::SetBlockedTerms {
                terms: vec!["spoiler".into(), " ".into()],
            },
        ),
    )
    .at(200, chat("ada", "big SPОILER ahead")) // Cyrillic O: caught by skeletons
    .at(1_300, act("ta", Action::SetApprovedOnly { on: true }))
    .at(1_400, chat("ada", "hello"))
    .at(2_500, act("ta", Action::SetApprovedOnly { on: false }))
    .at(2_600, act("ta", Action::SetHoldFirstMessages { count: 1 }))
    .at(2_700, join("new", Role::Viewer, "Newcomer"))
    .at(2_800, chat("new", "first words"))
    .at(3_900, chat("new", "second words before review"))
    .at(
        4_000,
        act(
            "ta",
            Action::ApproveHeld {
                message: lectern_room::MessageId(3),
            },
        ),
    )
    .at(5_100, chat("new", "third words"))
    .at(5_200, join("new", Role::Viewer, "Newcomer"));
    // A viewer's snapshot hides the blocked terms; staff see them.
    let viewer = s.room.snapshot(&id("new"), Timestamp(5_300)).unwrap();
    let staff = s.room.snapshot(&id("ta"), Timestamp(5_300)).unwrap();
    assert!(viewer.settings.blocked_terms.is_empty());
    assert_eq!(staff.settings.blocked_terms, vec!["spoiler".to_owned()]);
    expect![[r#"
        @100 ta: {"type":"blocked_terms_changed","terms":["spoiler"]}
        @200 ada: {"type":"chat_held","hold":{"message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"big SPОILER ahead","sent_at":200},"reason":"blocked_term"}}
        @1300 ta: {"type":"chat_mode_changed","mode":{"slow_mode_secs":0,"approved_only":true,"hold_first_messages":0}}
        @1400 ada: {"type":"chat_held","hold":{"message":{"id":2,"author":"ada","name":"Ada","role":"viewer","text":"hello","sent_at":1400},"reason":"approved_only"}}
        @2500 ta: {"type":"chat_mode_changed","mode":{"slow_mode_secs":0,"approved_only":false,"hold_first_messages":0}}
        @2600 ta: {"type":"chat_mode_changed","mode":{"slow_mode_secs":0,"approved_only":false,"hold_first_messages":1}}
        @2700 new: {"type":"viewer_joined","viewer":"new","role":"viewer","name":"Newcomer","fingerprint":null}
        @2700 -> new welcome name="Newcomer" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @2800 new: {"type":"chat_held","hold":{"message":{"id":3,"author":"new","name":"Newcomer","role":"viewer","text":"first words","sent_at":2800},"reason":"new_identity"}}
        @3900 new: {"type":"chat_held","hold":{"message":{"id":4,"author":"new","name":"Newcomer","role":"viewer","text":"second words before review","sent_at":3900},"reason":"new_identity"}}
        @4000 ta: {"type":"hold_approved","message":{"id":3,"author":"new","name":"Newcomer","role":"viewer","text":"first words","sent_at":2800}}
        @5100 new: {"type":"chat_sent","message":{"id":5,"author":"new","name":"Newcomer","role":"viewer","text":"third words","sent_at":5100}}
        @5200 new: {"type":"viewer_joined","viewer":"new","role":"viewer","name":"Newcomer","fingerprint":null}
        @5200 -> new welcome name="Newcomer" role=Viewer chat=2 pinned=None poll=none questions=[] held=0 flags=0
    "#]].assert_eq(&s.finish());
}

#[test]
fn names_confusable_with_staff_are_refused() {
    let mut s = class();
    s.at(10, join("v1", Role::Viewer, "Instructоr")) // Cyrillic o
        .at(20, join("v2", Role::Viewer, "Grace  Hopper"))
        .at(30, join("v3", Role::Viewer, "GRACE H0PPER"))
        .at(40, join("v4", Role::Viewer, "ΑIan")) // Greek capital alpha and a capital I
        .at(50, join("v5", Role::Viewer, "Grace"));
    expect![[r#"
        @10 -> v1 rejected name_confusable
        @20 -> v2 rejected name_confusable
        @30 -> v3 rejected name_confusable
        @40 -> v4 rejected name_confusable
        @50 v5: {"type":"viewer_joined","viewer":"v5","role":"viewer","name":"Grace","fingerprint":null}
        @50 -> v5 welcome name="Grace" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
    "#]].assert_eq(&s.finish());
}

#[test]
fn bidi_overrides_stripped_and_zalgo_capped() {
    let mut s = class();
    s.at(
        10,
        join("v1", Role::Viewer, "\u{202E}evil\u{202C}\u{2066}name"),
    )
    .at(
        20,
        join(
            "v2",
            Role::Viewer,
            "Z\u{0301}\u{0302}\u{0303}\u{0304}\u{0305}alg\u{0300}o",
        ),
    )
    .at(30, join("v3", Role::Viewer, "Việt"))
    .at(
        1_000,
        chat("v1", "a\u{202E}b\u{0301}\u{0302}\u{0303}\u{0304}c"),
    );
    expect![[r#"
        @10 v1: {"type":"viewer_joined","viewer":"v1","role":"viewer","name":"evilname","fingerprint":null}
        @10 -> v1 welcome name="evilname" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @20 v2: {"type":"viewer_joined","viewer":"v2","role":"viewer","name":"Ź̂alg̀o","fingerprint":null}
        @20 -> v2 welcome name="Ź\u{302}alg\u{300}o" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @30 v3: {"type":"viewer_joined","viewer":"v3","role":"viewer","name":"Việt","fingerprint":null}
        @30 -> v3 welcome name="Việt" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @1000 v1: {"type":"chat_sent","message":{"id":1,"author":"v1","name":"evilname","role":"viewer","text":"ab́̂c","sent_at":1000}}
    "#]].assert_eq(&s.finish());
}

#[test]
fn chat_length_is_counted_in_graphemes() {
    // A flag is two code points and 8 bytes: 501 of them still fit in a 4 KiB frame.
    let flag = "🇫🇷";
    let mut s = class();
    s.at(100, chat("ada", &flag.repeat(500)))
        .at(1_200, chat("ada", &flag.repeat(501)))
        .at(2_300, chat("ada", " \u{202E} "));
    let out = s.finish();
    let out: String = out.replace(flag, "F");
    let out = out.replace(&"F".repeat(500), "F×500");
    expect![[r#"
        @100 ada: {"type":"chat_sent","message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"F×500","sent_at":100}}
        @1200 -> ada rejected too_long {"limit":500}
        @2300 -> ada rejected empty
    "#]].assert_eq(&out);
}

#[test]
fn delete_pin_unpin_clear_are_audited() {
    let mut s = class();
    s.at(100, chat("ada", "one"))
        .at(200, chat("ada", "two"))
        .at(
            300,
            act(
                "ta",
                Action::PinMessage {
                    message: lectern_room::MessageId(2),
                },
            ),
        )
        .at(
            400,
            act(
                "ta",
                Action::DeleteMessage {
                    message: lectern_room::MessageId(1),
                },
            ),
        )
        .at(
            500,
            act(
                "ada",
                Action::DeleteMessage {
                    message: lectern_room::MessageId(2),
                },
            ),
        )
        .at(600, act("prof", Action::UnpinMessage))
        .at(700, act("prof", Action::UnpinMessage))
        .at(800, act("ta", Action::ClearChat))
        .at(
            900,
            act(
                "ta",
                Action::DeleteMessage {
                    message: lectern_room::MessageId(2),
                },
            ),
        );
    let audit: Vec<String> = s
        .room
        .audit_log()
        .map(|e| {
            format!(
                "{} {} {}",
                e.at.0,
                e.by.0,
                serde_json::to_string(&e.event).unwrap()
            )
        })
        .collect();
    let out = format!("{}--- audit\n{}\n", s.finish(), audit.join("\n"));
    expect![[r#"
        @100 ada: {"type":"chat_sent","message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"one","sent_at":100}}
        @200 ada: {"type":"chat_sent","message":{"id":2,"author":"ada","name":"Ada","role":"viewer","text":"two","sent_at":200}}
        @300 ta: {"type":"message_pinned","message":{"id":2,"author":"ada","name":"Ada","role":"viewer","text":"two","sent_at":200}}
        @400 ta: {"type":"message_deleted","message":1}
        @500 -> ada rejected forbidden
        @600 prof: {"type":"message_unpinned"}
        @700 -> prof rejected not_found
        @800 ta: {"type":"chat_cleared"}
        @900 -> ta rejected not_found
        --- audit
        300 ta {"type":"message_pinned","message":{"id":2,"author":"ada","name":"Ada","role":"viewer","text":"two","sent_at":200}}
        400 ta {"type":"message_deleted","message":1}
        600 prof {"type":"message_unpinned"}
        800 ta {"type":"chat_cleared"}
    "#]].assert_eq(&out);
}

#[test]
fn timeouts_mute_for_their_duration_and_never_hit_staff() {
    let mut s = class();
    s.at(
        100,
        act(
            "ta",
            Action::Timeout {
                viewer: id("ada"),
                seconds: 9,
            },
        ),
    )
    .at(
        200,
        act(
            "ta",
            Action::Timeout {
                viewer: id("ada"),
                seconds: 10,
            },
        ),
    )
    .at(300, chat("ada", "muted?"))
    .at(
        400,
        act(
            "ada",
            Action::Ask {
                text: "muted question".into(),
            },
        ),
    )
    .at(
        500,
        act(
            "ta",
            Action::Timeout {
                viewer: id("prof"),
                seconds: 60,
            },
        ),
    )
    .at(
        600,
        act(
            "ta",
            Action::Timeout {
                viewer: id("ghost"),
                seconds: 60,
            },
        ),
    )
    .at(10_200, chat("ada", "free again"))
    .at(
        10_300,
        act(
            "ta",
            Action::Timeout {
                viewer: id("ada"),
                seconds: 86_400,
            },
        ),
    )
    .at(
        10_400,
        act("prof", Action::LiftTimeout { viewer: id("ada") }),
    )
    .at(11_500, chat("ada", "lifted"));
    expect![[r#"
        @100 -> ta rejected out_of_range {"max":86400,"min":10}
        @200 ta: {"type":"viewer_timed_out","viewer":"ada","until":10200}
        @300 -> ada rejected timed_out {"until":10200}
        @400 -> ada rejected timed_out {"until":10200}
        @500 -> ta rejected forbidden
        @600 -> ta rejected not_found
        @10200 ada: {"type":"chat_sent","message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"free again","sent_at":10200}}
        @10300 ta: {"type":"viewer_timed_out","viewer":"ada","until":86410300}
        @10400 prof: {"type":"timeout_lifted","viewer":"ada"}
        @11500 ada: {"type":"chat_sent","message":{"id":2,"author":"ada","name":"Ada","role":"viewer","text":"lifted","sent_at":11500}}
    "#]].assert_eq(&s.finish());
}

#[test]
fn bans_by_identity_and_repeat_browser_is_flagged_not_banned() {
    let mut s = class();
    s.at(10, join_from("troll", "Troll", "fp-1"))
        .at(
            100,
            act(
                "ta",
                Action::Ban {
                    viewer: id("troll"),
                    address: false,
                },
            ),
        )
        .at(200, chat("troll", "still here?"))
        .at(300, join_from("troll", "Troll", "fp-1"))
        .at(400, join_from("troll2", "Nice Person", "fp-1"))
        .at(500, chat("troll2", "hello"))
        .at(
            600,
            act(
                "ta",
                Action::Ban {
                    viewer: id("prof"),
                    address: false,
                },
            ),
        )
        .at(
            700,
            act(
                "prof",
                Action::Unban {
                    viewer: id("troll"),
                },
            ),
        )
        .at(800, join_from("troll", "Troll", "fp-1"));
    expect![[r#"
        @10 troll: {"type":"viewer_joined","viewer":"troll","role":"viewer","name":"Troll","fingerprint":"fp-1"}
        @10 -> troll welcome name="Troll" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @100 ta: {"type":"viewer_banned","viewer":"troll"}
        @200 -> troll rejected banned
        @300 -> troll rejected banned
        @400 troll2: {"type":"viewer_joined","viewer":"troll2","role":"viewer","name":"Nice Person","fingerprint":"fp-1"}
        @400 troll2: {"type":"flagged","flag":{"type":"repeat_visitor","viewer":"troll2","banned":"troll"}}
        @400 -> troll2 welcome name="Nice Person" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @500 troll2: {"type":"chat_sent","message":{"id":1,"author":"troll2","name":"Nice Person","role":"viewer","text":"hello","sent_at":500}}
        @600 -> ta rejected forbidden
        @700 prof: {"type":"viewer_unbanned","viewer":"troll"}
        @800 troll: {"type":"viewer_joined","viewer":"troll","role":"viewer","name":"Troll","fingerprint":"fp-1"}
        @800 -> troll welcome name="Troll" role=Viewer chat=1 pinned=None poll=none questions=[] held=0 flags=0
    "#]].assert_eq(&s.finish());
}

#[test]
fn back_channel_is_staff_only() {
    let mut s = class();
    s.at(
        100,
        act(
            "ta",
            Action::PostBackChannel {
                text: "watch user ada".into(),
            },
        ),
    )
    .at(
        200,
        act(
            "ada",
            Action::PostBackChannel {
                text: "let me in".into(),
            },
        ),
    );
    let staff = s.room.snapshot(&id("prof"), Timestamp(300)).unwrap();
    let viewer = s.room.snapshot(&id("ada"), Timestamp(300)).unwrap();
    assert_eq!(staff.back_channel.len(), 1);
    assert_eq!(staff.back_channel[0].text, "watch user ada");
    assert!(viewer.back_channel.is_empty());
    expect![[r#"
        @100 ta: {"type":"back_channel_posted","name":"Alan","text":"watch user ada"}
        @200 -> ada rejected forbidden
    "#]]
    .assert_eq(&s.finish());
}

#[test]
fn ta_is_forbidden_instructor_only_actions_and_end_closes_the_room() {
    let mut s = class();
    s.at(100, act("ta", Action::EndBroadcast))
        .at(
            200,
            act(
                "ada",
                Action::CreatePoll {
                    spec: poll(&["a", "b"]),
                },
            ),
        )
        .at(
            300,
            act(
                "ta",
                Action::CreatePoll {
                    spec: poll(&["a", "b"]),
                },
            ),
        )
        .at(400, act("ta", Action::OpenPoll { poll: PollId(1) }))
        .at(500, act("prof", Action::EndBroadcast))
        .at(600, chat("ada", "anyone?"))
        .at(700, join("late", Role::Viewer, "Late"));
    expect![[r#"
        @100 -> ta rejected forbidden
        @200 -> ada rejected forbidden
        @300 ta: {"type":"poll_created","poll":{"id":1,"spec":{"question":"Which one?","options":["a","b"],"multiple":false,"anonymous":false,"correct":null,"duration_secs":null},"state":"draft","deadline":null,"totals":[0,0],"ballots":[],"voters":[]}}
        @400 ta: {"type":"poll_opened","poll":1,"question":"Which one?","options":["a","b"],"multiple":false,"anonymous":false,"quiz":false,"deadline":null}
        @500 prof: {"type":"poll_closed","poll":1}
        @500 prof: {"type":"broadcast_ended"}
        @600 -> ada rejected room_closed
        @700 -> late rejected room_closed
    "#]].assert_eq(&s.finish());
}

#[test]
fn retried_client_id_is_answered_not_applied_twice() {
    let mut s = class();
    let send = || Action::SendChat {
        text: "once".into(),
        reply_to: None,
    };
    s.at(100, act_as("ada", "c1", send()))
        .at(200, act_as("ada", "c1", send()))
        .at(
            300,
            act_as(
                "ada",
                "c2",
                Action::SendChat {
                    text: "x".repeat(501),
                    reply_to: None,
                },
            ),
        )
        .at(
            400,
            act_as(
                "ada",
                "c2",
                Action::SendChat {
                    text: "fixed".into(),
                    reply_to: None,
                },
            ),
        )
        .at(
            500,
            act_as(
                "ada",
                "c2",
                Action::SendChat {
                    text: "fixed".into(),
                    reply_to: None,
                },
            ),
        )
        .at(550, act_as("ada", &"c".repeat(65), send()));
    // A restarted room remembers the ids too.
    let mut restarted = super::harness::Script {
        room: lectern_room::Room::replay(&s.log),
        log: s.log.clone(),
        lines: Vec::new(),
    };
    restarted.at(600, act_as("ada", "c1", send()));
    let out = format!("{}--- after restart\n{}", s.finish(), restarted.finish());
    expect![[r#"
        @100 ada [c1]: {"type":"chat_sent","message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"once","sent_at":100}}
        @200 -> ada duplicate [c1]
        @300 -> ada [c2] rejected too_long {"limit":500}
        @400 ada [c2]: {"type":"chat_sent","message":{"id":2,"author":"ada","name":"Ada","role":"viewer","text":"fixed","sent_at":400}}
        @500 -> ada duplicate [c2]
        @550 -> ada rejected invalid {"reason":"client_id is longer than 64 bytes"}
        --- after restart
        @600 -> ada duplicate [c1]
    "#]].assert_eq(&out);
}

#[test]
fn poll_validation_single_choice_and_double_vote() {
    let mut s = class();
    s.at(
        100,
        act(
            "ta",
            Action::CreatePoll {
                spec: poll(&["only"]),
            },
        ),
    )
    .at(
        110,
        act(
            "ta",
            Action::CreatePoll {
                spec: poll(&["o"; 11]),
            },
        ),
    )
    .at(
        120,
        act(
            "ta",
            Action::CreatePoll {
                spec: poll(&["yes", " "]),
            },
        ),
    )
    .at(
        200,
        act(
            "ta",
            Action::CreatePoll {
                spec: poll(&["yes", "no"]),
            },
        ),
    )
    .at(
        250,
        act(
            "ada",
            Action::Vote {
                poll: PollId(1),
                choices: vec![0],
            },
        ),
    )
    .at(300, act("ta", Action::OpenPoll { poll: PollId(1) }))
    .at(350, join("bob", Role::Viewer, "Bob"))
    .at(
        400,
        act(
            "ada",
            Action::Vote {
                poll: PollId(1),
                choices: vec![0, 1],
            },
        ),
    )
    .at(
        410,
        act(
            "ada",
            Action::Vote {
                poll: PollId(1),
                choices: vec![2],
            },
        ),
    )
    .at(
        420,
        act(
            "ada",
            Action::Vote {
                poll: PollId(1),
                choices: vec![],
            },
        ),
    )
    .at(
        430,
        act(
            "ada",
            Action::Vote {
                poll: PollId(9),
                choices: vec![0],
            },
        ),
    )
    .at(
        500,
        act(
            "ada",
            Action::Vote {
                poll: PollId(1),
                choices: vec![1],
            },
        ),
    )
    .at(
        600,
        act(
            "ada",
            Action::Vote {
                poll: PollId(1),
                choices: vec![0],
            },
        ),
    )
    .at(
        700,
        act(
            "bob",
            Action::Vote {
                poll: PollId(1),
                choices: vec![1],
            },
        ),
    )
    .at(
        800,
        act(
            "ta",
            Action::CreatePoll {
                spec: poll(&["x", "y"]),
            },
        ),
    )
    .at(810, act("ta", Action::OpenPoll { poll: PollId(2) }))
    .at(900, join("carl", Role::Viewer, "Carl"))
    .at(950, join("ta", Role::Ta, "Alan"))
    .at(1_000, act("ta", Action::ClosePoll { poll: PollId(1) }))
    .at(
        1_100,
        act(
            "carl",
            Action::Vote {
                poll: PollId(1),
                choices: vec![1],
            },
        ),
    )
    .at(1_200, act("ta", Action::RevealPoll { poll: PollId(1) }))
    .at(1_300, join("carl", Role::Viewer, "Carl"));
    expect![[r#"
        @100 -> ta rejected invalid {"reason":"a poll has 2 to 10 options"}
        @110 -> ta rejected invalid {"reason":"a poll has 2 to 10 options"}
        @120 -> ta rejected empty
        @200 ta: {"type":"poll_created","poll":{"id":1,"spec":{"question":"Which one?","options":["yes","no"],"multiple":false,"anonymous":false,"correct":null,"duration_secs":null},"state":"draft","deadline":null,"totals":[0,0],"ballots":[],"voters":[]}}
        @250 -> ada rejected poll_closed
        @300 ta: {"type":"poll_opened","poll":1,"question":"Which one?","options":["yes","no"],"multiple":false,"anonymous":false,"quiz":false,"deadline":null}
        @350 bob: {"type":"viewer_joined","viewer":"bob","role":"viewer","name":"Bob","fingerprint":null}
        @350 -> bob welcome name="Bob" role=Viewer chat=0 pinned=None poll=1:Open:None questions=[] held=0 flags=0
        @400 -> ada rejected invalid {"reason":"choose exactly one option"}
        @410 -> ada rejected invalid {"reason":"no such option"}
        @420 -> ada rejected invalid {"reason":"no option chosen"}
        @430 -> ada rejected not_found
        @500 ada: {"type":"ballot_cast","poll":1,"ballot":{"viewer":"ada","choices":[1]},"totals":[0,1]}
        @600 -> ada rejected already_voted
        @700 bob: {"type":"ballot_cast","poll":1,"ballot":{"viewer":"bob","choices":[1]},"totals":[0,2]}
        @800 ta: {"type":"poll_created","poll":{"id":2,"spec":{"question":"Which one?","options":["x","y"],"multiple":false,"anonymous":false,"correct":null,"duration_secs":null},"state":"draft","deadline":null,"totals":[0,0],"ballots":[],"voters":[]}}
        @810 -> ta rejected poll_already_open
        @900 carl: {"type":"viewer_joined","viewer":"carl","role":"viewer","name":"Carl","fingerprint":null}
        @900 -> carl welcome name="Carl" role=Viewer chat=0 pinned=None poll=1:Open:None questions=[] held=0 flags=0
        @950 ta: {"type":"viewer_joined","viewer":"ta","role":"ta","name":"Alan","fingerprint":null}
        @950 -> ta welcome name="Alan" role=Ta chat=0 pinned=None poll=1:Open:Some([0, 2]) questions=[] held=0 flags=0
        @1000 ta: {"type":"poll_closed","poll":1}
        @1100 -> carl rejected poll_closed
        @1200 ta: {"type":"poll_revealed","poll":1,"totals":[0,2],"correct":null}
        @1300 carl: {"type":"viewer_joined","viewer":"carl","role":"viewer","name":"Carl","fingerprint":null}
        @1300 -> carl welcome name="Carl" role=Viewer chat=0 pinned=None poll=1:Revealed:Some([0, 2]) questions=[] held=0 flags=0
    "#]].assert_eq(&s.finish());
}

#[test]
fn multiple_choice_poll_counts_each_option() {
    let mut s = class();
    let mut spec = poll(&["a", "b", "c"]);
    spec.multiple = true;
    s.at(100, act("ta", Action::CreatePoll { spec }))
        .at(200, act("ta", Action::OpenPoll { poll: PollId(1) }))
        .at(
            300,
            act(
                "ada",
                Action::Vote {
                    poll: PollId(1),
                    choices: vec![2, 0],
                },
            ),
        )
        .at(
            400,
            act(
                "prof",
                Action::Vote {
                    poll: PollId(1),
                    choices: vec![1, 1],
                },
            ),
        )
        .at(
            500,
            act(
                "prof",
                Action::Vote {
                    poll: PollId(1),
                    choices: vec![0],
                },
            ),
        )
        .at(600, act("ta", Action::RevealPoll { poll: PollId(1) }));
    expect![[r#"
        @100 ta: {"type":"poll_created","poll":{"id":1,"spec":{"question":"Which one?","options":["a","b","c"],"multiple":true,"anonymous":false,"correct":null,"duration_secs":null},"state":"draft","deadline":null,"totals":[0,0,0],"ballots":[],"voters":[]}}
        @200 ta: {"type":"poll_opened","poll":1,"question":"Which one?","options":["a","b","c"],"multiple":true,"anonymous":false,"quiz":false,"deadline":null}
        @300 ada: {"type":"ballot_cast","poll":1,"ballot":{"viewer":"ada","choices":[0,2]},"totals":[1,0,1]}
        @400 -> prof rejected invalid {"reason":"an option is chosen twice"}
        @500 prof: {"type":"ballot_cast","poll":1,"ballot":{"viewer":"prof","choices":[0]},"totals":[2,0,1]}
        @600 ta: {"type":"poll_closed","poll":1}
        @600 ta: {"type":"poll_revealed","poll":1,"totals":[2,0,1],"correct":null}
    "#]].assert_eq(&s.finish());
}

#[test]
fn anonymous_poll_events_carry_totals_only() {
    let mut s = class();
    let mut spec = poll(&["red", "blue"]);
    spec.anonymous = true;
    let vote = |choice: u8| Action::Vote {
        poll: PollId(1),
        choices: vec![choice],
    };
    s.at(100, act("ta", Action::CreatePoll { spec }))
        .at(150, join("bob", Role::Viewer, "Bob"))
        .at(200, act("ta", Action::OpenPoll { poll: PollId(1) }))
        .at(300, act_as("ada", "c1", vote(1)))
        .at(400, act("ada", vote(0)))
        .at(500, act_as("bob", "c9", vote(1)));
    // No ballot's record names its voter: no author, no client id, no viewer id anywhere in it.
    for record in &s.log {
        let json = serde_json::to_string(&record).unwrap();
        assert!(!json.contains("choices"), "a choice leaked: {json}");
        if let Event::AnonymousBallotCast { .. } = record.event {
            assert_eq!((&record.by, &record.client_id), (&None, &None), "{json}");
            assert!(!json.contains("ada") && !json.contains("bob"), "{json}");
        }
    }
    assert!(s.room.poll(PollId(1)).unwrap().ballots.is_empty());
    assert!(s.room.poll(PollId(1)).unwrap().voters.is_empty());

    // A restart: the room rebuilt from its log knows the totals but not the voters, until the
    // host hands back the ones it kept apart. Then Ada still cannot vote twice.
    let mut again = lectern_room::Room::replay(&s.log);
    assert_eq!(again.poll(PollId(1)).unwrap().totals, [0, 2]);
    again.restore_voter(PollId(1), id("ada"));
    again.restore_voter(PollId(1), id("bob"));
    s.room = again;
    s.at(600, act("ada", vote(0)))
        .at(700, act("ta", Action::ClosePoll { poll: PollId(1) }))
        // Restoring a voter of a closed poll does nothing.
        .at(800, Input::Tick);
    s.room.restore_voter(PollId(1), id("zed"));
    expect![[r#"
        @100 ta: {"type":"poll_created","poll":{"id":1,"spec":{"question":"Which one?","options":["red","blue"],"multiple":false,"anonymous":true,"correct":null,"duration_secs":null},"state":"draft","deadline":null,"totals":[0,0],"ballots":[],"voters":[]}}
        @150 bob: {"type":"viewer_joined","viewer":"bob","role":"viewer","name":"Bob","fingerprint":null}
        @150 -> bob welcome name="Bob" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @200 ta: {"type":"poll_opened","poll":1,"question":"Which one?","options":["red","blue"],"multiple":false,"anonymous":true,"quiz":false,"deadline":null}
        @300 room: {"type":"anonymous_ballot_cast","poll":1,"totals":[0,1]}
        @300 (kept apart) ada voted in 1
        @400 -> ada rejected already_voted
        @500 room: {"type":"anonymous_ballot_cast","poll":1,"totals":[0,2]}
        @500 (kept apart) bob voted in 1
        @600 -> ada rejected already_voted
        @700 ta: {"type":"poll_closed","poll":1}
        @700 room: {"type":"anonymous_poll_voters","poll":1,"voters":["ada","bob"]}
    "#]].assert_eq(&s.finish());
}

#[test]
fn quiz_scores_after_reveal() {
    let mut s = class();
    let mut spec = poll(&["3", "4", "5"]);
    spec.correct = Some(vec![1]);
    let mut anonymous_quiz = spec.clone();
    anonymous_quiz.anonymous = true;
    s.at(
        50,
        act(
            "ta",
            Action::CreatePoll {
                spec: anonymous_quiz,
            },
        ),
    )
    .at(100, act("ta", Action::CreatePoll { spec }))
    .at(150, join("bob", Role::Viewer, "Bob"))
    .at(200, act("ta", Action::OpenPoll { poll: PollId(1) }))
    .at(
        300,
        act(
            "ada",
            Action::Vote {
                poll: PollId(1),
                choices: vec![1],
            },
        ),
    )
    .at(
        400,
        act(
            "bob",
            Action::Vote {
                poll: PollId(1),
                choices: vec![2],
            },
        ),
    )
    .at(500, join("ada", Role::Viewer, "Ada"))
    .at(600, act("ta", Action::RevealPoll { poll: PollId(1) }))
    .at(700, join("ada", Role::Viewer, "Ada"));
    assert_eq!(s.room.quiz_score(&id("ada")), Some(1));
    assert_eq!(s.room.quiz_score(&id("bob")), Some(0));
    expect![[r#"
        @50 -> ta rejected invalid {"reason":"a quiz cannot be anonymous"}
        @100 ta: {"type":"poll_created","poll":{"id":1,"spec":{"question":"Which one?","options":["3","4","5"],"multiple":false,"anonymous":false,"correct":[1],"duration_secs":null},"state":"draft","deadline":null,"totals":[0,0,0],"ballots":[],"voters":[]}}
        @150 bob: {"type":"viewer_joined","viewer":"bob","role":"viewer","name":"Bob","fingerprint":null}
        @150 -> bob welcome name="Bob" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @200 ta: {"type":"poll_opened","poll":1,"question":"Which one?","options":["3","4","5"],"multiple":false,"anonymous":false,"quiz":true,"deadline":null}
        @300 ada: {"type":"ballot_cast","poll":1,"ballot":{"viewer":"ada","choices":[1]},"totals":[0,1,0]}
        @400 bob: {"type":"ballot_cast","poll":1,"ballot":{"viewer":"bob","choices":[2]},"totals":[0,1,1]}
        @500 ada: {"type":"viewer_joined","viewer":"ada","role":"viewer","name":"Ada","fingerprint":null}
        @500 -> ada welcome name="Ada" role=Viewer chat=0 pinned=None poll=1:Open:None questions=[] held=0 flags=0
        @600 ta: {"type":"poll_closed","poll":1}
        @600 ta: {"type":"poll_revealed","poll":1,"totals":[0,1,1],"correct":[1]}
        @700 ada: {"type":"viewer_joined","viewer":"ada","role":"viewer","name":"Ada","fingerprint":null}
        @700 -> ada welcome name="Ada" role=Viewer chat=0 pinned=None poll=1:Revealed:Some([0, 1, 1]) questions=[] held=0 flags=0
    "#]].assert_eq(&s.finish());
}

#[test]
fn poll_timer_closes_on_tick_and_late_votes_are_refused() {
    let mut s = class();
    let mut spec = poll(&["a", "b"]);
    spec.duration_secs = Some(30);
    s.at(100, act("ta", Action::CreatePoll { spec: spec.clone() }))
        .at(1_000, act("ta", Action::OpenPoll { poll: PollId(1) }));
    assert_eq!(s.room.next_deadline(), Some(Timestamp(31_000)));
    s.at(30_999, Input::Tick)
        .at(
            30_999,
            act(
                "ada",
                Action::Vote {
                    poll: PollId(1),
                    choices: vec![0],
                },
            ),
        )
        .at(31_000, Input::Tick)
        .at(31_001, Input::Tick);
    assert_eq!(s.room.next_deadline(), None);
    // A vote that arrives after the deadline, before any Tick, closes the poll first.
    s.at(40_000, act("ta", Action::CreatePoll { spec }))
        .at(40_000, act("ta", Action::OpenPoll { poll: PollId(2) }))
        .at(
            70_500,
            act(
                "ada",
                Action::Vote {
                    poll: PollId(2),
                    choices: vec![1],
                },
            ),
        );
    expect![[r#"
        @100 ta: {"type":"poll_created","poll":{"id":1,"spec":{"question":"Which one?","options":["a","b"],"multiple":false,"anonymous":false,"correct":null,"duration_secs":30},"state":"draft","deadline":null,"totals":[0,0],"ballots":[],"voters":[]}}
        @1000 ta: {"type":"poll_opened","poll":1,"question":"Which one?","options":["a","b"],"multiple":false,"anonymous":false,"quiz":false,"deadline":31000}
        @30999 ada: {"type":"ballot_cast","poll":1,"ballot":{"viewer":"ada","choices":[0]},"totals":[1,0]}
        @31000 room: {"type":"poll_closed","poll":1}
        @40000 ta: {"type":"poll_created","poll":{"id":2,"spec":{"question":"Which one?","options":["a","b"],"multiple":false,"anonymous":false,"correct":null,"duration_secs":30},"state":"draft","deadline":null,"totals":[0,0],"ballots":[],"voters":[]}}
        @40000 ta: {"type":"poll_opened","poll":2,"question":"Which one?","options":["a","b"],"multiple":false,"anonymous":false,"quiz":false,"deadline":70000}
        @70500 room: {"type":"poll_closed","poll":2}
        @70500 -> ada rejected poll_closed
    "#]].assert_eq(&s.finish());
}

#[test]
fn questions_are_moderated_upvoted_once_and_sorted_by_votes() {
    let mut s = class();
    s.at(
        100,
        act(
            "ada",
            Action::Ask {
                text: "What is a monad?".into(),
            },
        ),
    )
    .at(110, join("bob", Role::Viewer, "Bob"))
    .at(
        120,
        act(
            "bob",
            Action::Ask {
                text: "Is this recorded?".into(),
            },
        ),
    )
    .at(
        130,
        act(
            "bob",
            Action::Ask {
                text: "q".repeat(301),
            },
        ),
    )
    .at(
        140,
        act(
            "prof",
            Action::Ask {
                text: "Staff question".into(),
            },
        ),
    )
    .at(
        200,
        act(
            "bob",
            Action::Upvote {
                question: QuestionId(1),
            },
        ),
    )
    .at(
        300,
        act(
            "ta",
            Action::ApproveQuestion {
                question: QuestionId(1),
            },
        ),
    )
    .at(
        310,
        act(
            "ta",
            Action::ApproveQuestion {
                question: QuestionId(2),
            },
        ),
    )
    .at(
        320,
        act(
            "ada",
            Action::ApproveQuestion {
                question: QuestionId(2),
            },
        ),
    )
    .at(
        400,
        act(
            "bob",
            Action::Upvote {
                question: QuestionId(1),
            },
        ),
    )
    .at(
        410,
        act(
            "bob",
            Action::Upvote {
                question: QuestionId(1),
            },
        ),
    )
    .at(
        420,
        act(
            "ada",
            Action::Upvote {
                question: QuestionId(1),
            },
        ),
    )
    .at(
        430,
        act(
            "ada",
            Action::Upvote {
                question: QuestionId(2),
            },
        ),
    )
    .at(
        500,
        act(
            "ta",
            Action::HighlightQuestion {
                question: Some(QuestionId(1)),
            },
        ),
    )
    .at(
        600,
        act(
            "ta",
            Action::AnswerQuestion {
                question: QuestionId(1),
                answer: Some("  Yes: PARTITION BY takes several columns.  ".into()),
            },
        ),
    )
    .at(
        700,
        act(
            "ta",
            Action::DismissQuestion {
                question: QuestionId(3),
            },
        ),
    )
    .at(
        710,
        act(
            "ta",
            Action::DismissQuestion {
                question: QuestionId(3),
            },
        ),
    )
    .at(800, join("carl", Role::Viewer, "Carl"));
    let top: Vec<(u64, u32)> = s
        .room
        .top_questions(10)
        .iter()
        .map(|q| (q.id.0, q.votes))
        .collect();
    assert_eq!(top, vec![(1, 2), (2, 1)]);
    expect![[r#"
        @100 ada: {"type":"question_asked","question":{"id":1,"asker":"ada","name":"Ada","text":"What is a monad?","state":"pending","votes":0,"asked_at":100}}
        @110 bob: {"type":"viewer_joined","viewer":"bob","role":"viewer","name":"Bob","fingerprint":null}
        @110 -> bob welcome name="Bob" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @120 bob: {"type":"question_asked","question":{"id":2,"asker":"bob","name":"Bob","text":"Is this recorded?","state":"pending","votes":0,"asked_at":120}}
        @130 -> bob rejected too_long {"limit":300}
        @140 prof: {"type":"question_asked","question":{"id":3,"asker":"prof","name":"Grace Hopper","text":"Staff question","state":"approved","votes":0,"asked_at":140}}
        @200 -> bob rejected not_found
        @300 ta: {"type":"question_approved","question":{"id":1,"asker":"ada","name":"Ada","text":"What is a monad?","state":"approved","votes":0,"asked_at":100}}
        @310 ta: {"type":"question_approved","question":{"id":2,"asker":"bob","name":"Bob","text":"Is this recorded?","state":"approved","votes":0,"asked_at":120}}
        @320 -> ada rejected forbidden
        @400 bob: {"type":"question_upvoted","question":1,"viewer":"bob","votes":1}
        @410 -> bob rejected already_voted
        @420 ada: {"type":"question_upvoted","question":1,"viewer":"ada","votes":2}
        @430 ada: {"type":"question_upvoted","question":2,"viewer":"ada","votes":1}
        @500 ta: {"type":"question_highlighted","question":1}
        @600 ta: {"type":"question_answered","question":1,"answer":"Yes: PARTITION BY takes several columns."}
        @700 ta: {"type":"question_dismissed","question":3,"asker":"prof"}
        @710 -> ta rejected not_found
        @800 carl: {"type":"viewer_joined","viewer":"carl","role":"viewer","name":"Carl","fingerprint":null}
        @800 -> carl welcome name="Carl" role=Viewer chat=0 pinned=None poll=none questions=[(1, 2), (2, 1)] held=0 flags=0
    "#]].assert_eq(&s.finish());
}

#[test]
fn reactions_are_aggregated_once_per_second_of_activity() {
    let mut s = class();
    let react = |r| Action::React { reaction: r };
    s.at(1_100, act("ada", react(Reaction::Heart)))
        .at(1_200, act("prof", react(Reaction::Heart)))
        .at(1_300, act("ta", react(Reaction::Clap)))
        .at(1_400, act("ada", react(Reaction::Heart)));
    assert_eq!(s.room.next_deadline(), Some(Timestamp(2_000)));
    s.at(1_999, Input::Tick)
        .at(2_000, Input::Tick)
        .at(2_500, Input::Tick)
        .at(5_100, act("ada", react(Reaction::Laugh)))
        .at(6_300, chat("ada", "the next input flushes too"));
    assert_eq!(s.room.next_deadline(), None);
    expect![[r#"
        @1400 -> ada rejected rate_limited {"retry_after_ms":600}
        @2000 room: {"type":"reactions_aggregated","second":1000,"counts":[["heart",2],["clap",1]]}
        @2000 room: {"type":"reactions_by","second":1000,"viewers":[["ada",1],["prof",1],["ta",1]]}
        @6300 room: {"type":"reactions_aggregated","second":5000,"counts":[["laugh",1]]}
        @6300 room: {"type":"reactions_by","second":5000,"viewers":[["ada",1]]}
        @6300 ada: {"type":"chat_sent","message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"the next input flushes too","sent_at":6300}}
    "#]].assert_eq(&s.finish());
    // Everyone sees the counts; only staff see who reacted.
    let counts = Event::ReactionsAggregated {
        second: Timestamp(0),
        counts: vec![],
    };
    let by = Event::ReactionsBy {
        second: Timestamp(0),
        viewers: vec![(id("ada"), 1)],
    };
    assert_eq!(
        (counts.audience(), by.audience()),
        (Audience::Everyone, Audience::Staff)
    );
}

#[test]
fn inputs_from_strangers_and_leavers_are_refused() {
    let mut s = class();
    s.at(100, chat("nobody", "hi"))
        .at(200, Input::Leave { viewer: id("ada") })
        .at(300, chat("ada", "gone"))
        .at(400, Input::Leave { viewer: id("ada") })
        .at(500, join("ada", Role::Viewer, ""))
        .at(600, chat("ada", "back"));
    expect![[r#"
        @100 -> nobody rejected not_joined
        @200 ada: {"type":"viewer_left","viewer":"ada"}
        @300 -> ada rejected not_joined
        @400 -> ada rejected not_joined
        @500 ada: {"type":"viewer_joined","viewer":"ada","role":"viewer","name":"Ada","fingerprint":null}
        @500 -> ada welcome name="Ada" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @600 ada: {"type":"chat_sent","message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"back","sent_at":600}}
    "#]].assert_eq(&s.finish());
}

#[test]
fn snapshot_has_last_fifty_messages_pinned_poll_and_top_questions() {
    let mut s = class();
    for i in 0..60u64 {
        s.at(i * 1_000, chat("prof", &format!("line {i}")));
    }
    s.at(
        61_000,
        act(
            "ta",
            Action::PinMessage {
                message: lectern_room::MessageId(3),
            },
        ),
    )
    .at(
        61_100,
        act(
            "ta",
            Action::CreatePoll {
                spec: poll(&["a", "b"]),
            },
        ),
    )
    .at(61_200, act("ta", Action::OpenPoll { poll: PollId(1) }))
    .at(
        61_300,
        act(
            "ada",
            Action::Vote {
                poll: PollId(1),
                choices: vec![0],
            },
        ),
    )
    .at(61_400, act("prof", Action::Ask { text: "Q?".into() }));
    s.lines.clear();
    s.at(62_000, join("late", Role::Viewer, "Late"))
        .at(62_100, join("ta", Role::Ta, "Alan"));
    let snapshot = s.room.snapshot(&id("late"), Timestamp(62_000)).unwrap();
    assert_eq!(snapshot.chat.first().unwrap().text, "line 10");
    assert_eq!(snapshot.chat.last().unwrap().text, "line 59");
    expect![[r#"
        @62000 late: {"type":"viewer_joined","viewer":"late","role":"viewer","name":"Late","fingerprint":null}
        @62000 -> late welcome name="Late" role=Viewer chat=50 pinned=Some(3) poll=1:Open:None questions=[(1, 0)] held=0 flags=0
        @62100 ta: {"type":"viewer_joined","viewer":"ta","role":"ta","name":"Alan","fingerprint":null}
        @62100 -> ta welcome name="Alan" role=Ta chat=50 pinned=Some(3) poll=1:Open:Some([1, 0]) questions=[(1, 0)] held=0 flags=0
    "#]].assert_eq(&s.finish());
}

#[test]
fn a_viewer_links_purchases_by_a_consented_email_and_only_its_hash_is_kept() {
    let mut s = class();
    let link = |email: &str, consent: bool| Action::LinkEmail {
        email: email.into(),
        consent,
    };
    s.at(100, act("ada", link("Ada@Example.org ", false)))
        .at(200, act("ada", link("not an address", true)))
        .at(300, act("prof", link("prof@example.org", true)))
        .at(400, act("ada", link(" Ada@Example.org", true)));
    let out = s.finish();
    expect![[r#"
        @100 -> ada rejected invalid {"reason":"linking purchases by email needs the viewer's consent"}
        @200 -> ada rejected invalid {"reason":"that is not an email address"}
        @300 -> prof rejected forbidden
        @400 ada: {"type":"email_linked","viewer":"ada","email_hash":"cfe00dde46ef942601ffafb9e2825e802858b460e586b8305b344c1eb826357d"}
    "#]]
    .assert_eq(&out);
    assert!(
        !out.contains("xample"),
        "the address itself is never recorded"
    );
    // The hash is SHA-256 of the trimmed, lower-cased address, as the school's learners file has it.
    assert_eq!(
        lectern_room::email_hash(" Ada@Example.org"),
        lectern_room::email_hash("ada@example.org")
    );
    assert_eq!(lectern_room::email_hash("@example.org"), None);
    assert_eq!(lectern_room::email_hash("ada@localhost"), None);
    let by = Event::EmailLinked {
        viewer: id("ada"),
        email_hash: "x".into(),
    };
    assert_eq!(by.audience(), Audience::Staff);
}

#[test]
fn tab_visibility_is_recorded_when_it_changes_at_most_once_a_second() {
    let mut s = class();
    let visible = |v: bool| Action::SetTabVisible { visible: v };
    s.at(1_000, act("ada", visible(false)))
        .at(1_500, act("ada", visible(false)))
        .at(1_600, act("ada", visible(true)))
        .at(2_100, act("ada", visible(true)))
        .at(2_200, act("prof", visible(false)));
    expect![[r#"
        @1000 ada: {"type":"tab_visibility","viewer":"ada","visible":false}
        @1600 -> ada rejected rate_limited {"retry_after_ms":400}
        @2100 ada: {"type":"tab_visibility","viewer":"ada","visible":true}
        @2200 -> prof rejected forbidden
    "#]]
    .assert_eq(&s.finish());
}

#[test]
fn a_quiz_question_carries_a_trimmed_skill_tag_and_a_bad_tag_is_refused() {
    let mut s = class();
    let mut spec = poll(&["3", "4"]);
    spec.correct = Some(vec![1]);
    let tagged = |skill: &str| {
        let mut spec = spec.clone();
        spec.skill = Some(skill.to_owned());
        spec
    };
    s.at(10, act("ta", Action::CreatePoll { spec: tagged("") }))
        .at(
            20,
            act(
                "ta",
                Action::CreatePoll {
                    spec: tagged("music<theory>"),
                },
            ),
        )
        .at(
            30,
            act(
                "ta",
                Action::CreatePoll {
                    spec: tagged(&"x".repeat(41)),
                },
            ),
        )
        .at(
            40,
            act(
                "ta",
                Action::CreatePoll {
                    spec: tagged(" music-theory 2 "),
                },
            ),
        );
    assert_eq!(
        s.room.poll(PollId(1)).unwrap().spec.skill.as_deref(),
        Some("music-theory 2")
    );
    expect![[r#"
        @10 -> ta rejected invalid {"reason":"a skill is 1 to 40 letters, digits, spaces, _ or - (a course tag)"}
        @20 -> ta rejected invalid {"reason":"a skill is 1 to 40 letters, digits, spaces, _ or - (a course tag)"}
        @30 -> ta rejected invalid {"reason":"a skill is 1 to 40 letters, digits, spaces, _ or - (a course tag)"}
        @40 ta: {"type":"poll_created","poll":{"id":1,"spec":{"question":"Which one?","options":["3","4"],"multiple":false,"anonymous":false,"correct":[1],"duration_secs":null,"skill":"music-theory 2"},"state":"draft","deadline":null,"totals":[0,0],"ballots":[],"voters":[]}}
    "#]].assert_eq(&s.finish());
}

#[test]
fn lost_connections_and_the_class_end_close_everyones_presence() {
    // After a crash the host rebuilds the room from its log: who was online or watching then is
    // recorded as leaving at the last moment the host knows it ran, each as their own event.
    let mut s = class();
    s.at(
        100,
        Input::Media {
            viewer: id("bob"),
            watching: true,
        },
    )
    .at(
        150,
        Input::Media {
            viewer: id("cat"),
            watching: true,
        },
    )
    .at(
        160,
        Input::Media {
            viewer: id("cat"),
            watching: false,
        },
    )
    .at(200, join("bob", Role::Viewer, "Bob"))
    .at(300, Input::Leave { viewer: id("ada") })
    .at(400, Input::ConnectionsLost)
    // Nobody is left: a second loss records nothing.
    .at(450, Input::ConnectionsLost)
    .at(500, join("bob", Role::Viewer, "Bob"))
    .at(500, join("prof", Role::Instructor, "Grace Hopper"))
    .at(
        550,
        act(
            "prof",
            Action::CreatePoll {
                spec: poll(&["a", "b"]),
            },
        ),
    )
    .at(560, act("prof", Action::OpenPoll { poll: PollId(1) }))
    .at(600, Input::End)
    // Ending twice records nothing more.
    .at(700, Input::End);
    expect![[r#"
        @100 bob: {"type":"media_presence","viewer":"bob","watching":true}
        @150 cat: {"type":"media_presence","viewer":"cat","watching":true}
        @160 cat: {"type":"media_presence","viewer":"cat","watching":false}
        @200 bob: {"type":"viewer_joined","viewer":"bob","role":"viewer","name":"Bob","fingerprint":null}
        @200 -> bob welcome name="Bob" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @300 ada: {"type":"viewer_left","viewer":"ada"}
        @400 bob: {"type":"viewer_left","viewer":"bob"}
        @400 prof: {"type":"viewer_left","viewer":"prof"}
        @400 ta: {"type":"viewer_left","viewer":"ta"}
        @400 bob: {"type":"media_presence","viewer":"bob","watching":false}
        @500 bob: {"type":"viewer_joined","viewer":"bob","role":"viewer","name":"Bob","fingerprint":null}
        @500 -> bob welcome name="Bob" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @500 prof: {"type":"viewer_joined","viewer":"prof","role":"instructor","name":"Grace Hopper","fingerprint":null}
        @500 -> prof welcome name="Grace Hopper" role=Instructor chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @550 prof: {"type":"poll_created","poll":{"id":1,"spec":{"question":"Which one?","options":["a","b"],"multiple":false,"anonymous":false,"correct":null,"duration_secs":null},"state":"draft","deadline":null,"totals":[0,0],"ballots":[],"voters":[]}}
        @560 prof: {"type":"poll_opened","poll":1,"question":"Which one?","options":["a","b"],"multiple":false,"anonymous":false,"quiz":false,"deadline":null}
        @600 bob: {"type":"viewer_left","viewer":"bob"}
        @600 prof: {"type":"viewer_left","viewer":"prof"}
        @600 room: {"type":"poll_closed","poll":1}
        @600 room: {"type":"broadcast_ended"}
    "#]]
    .assert_eq(&s.finish());
}

#[test]
fn staff_reply_to_a_message_still_in_the_chat() {
    let reply = |to: u64, text: &str| Action::SendChat {
        text: text.into(),
        reply_to: Some(lectern_room::MessageId(to)),
    };
    let mut s = class();
    s.at(100, chat("ada", "Is this class recorded?"))
        .at(
            200,
            act("ta", reply(1, "Yes, the replay is on the course page.")),
        )
        .at(300, act("ta", reply(9, "to a message nobody sent")))
        .at(
            400,
            act(
                "ta",
                Action::DeleteMessage {
                    message: lectern_room::MessageId(1),
                },
            ),
        )
        .at(500, act("prof", reply(1, "to a deleted message")))
        .at(600, act("ada", reply(2, "thanks!")));
    expect![[r#"
        @100 ada: {"type":"chat_sent","message":{"id":1,"author":"ada","name":"Ada","role":"viewer","text":"Is this class recorded?","sent_at":100}}
        @200 ta: {"type":"chat_sent","message":{"id":2,"author":"ta","name":"Alan","role":"ta","text":"Yes, the replay is on the course page.","sent_at":200,"reply_to":1}}
        @300 -> ta rejected not_found
        @400 ta: {"type":"message_deleted","message":1}
        @500 -> prof rejected not_found
        @600 ada: {"type":"chat_sent","message":{"id":3,"author":"ada","name":"Ada","role":"viewer","text":"thanks!","sent_at":600,"reply_to":2}}
    "#]].assert_eq(&s.finish());
}

#[test]
fn the_assistant_answers_a_waiting_question_by_itself_once() {
    let automatic = |question: u64, answer: &str, confidence: u8| Input::AnswerAutomatically {
        question: QuestionId(question),
        answer: answer.into(),
        automatic: lectern_room::AutomaticAnswer {
            source: "the school's FAQ, line 3".into(),
            confidence,
        },
    };
    let mut s = class();
    s.at(
        100,
        act(
            "ada",
            Action::Ask {
                text: "Is this class recorded?".into(),
            },
        ),
    )
    .at(
        110,
        act(
            "ada",
            Action::Ask {
                text: "Where are the slides?".into(),
            },
        ),
    )
    .at(
        200,
        automatic(1, "Yes: the replay is on the course page.", 93),
    )
    // Answered already (by the assistant, then by staff): nothing more.
    .at(300, automatic(1, "Again.", 93))
    .at(
        310,
        act(
            "ta",
            Action::AnswerQuestion {
                question: QuestionId(2),
                answer: Some("On the course page.".into()),
            },
        ),
    )
    .at(320, automatic(2, "Too late.", 95))
    // No such question, an empty answer, a confidence over 100: nothing.
    .at(400, automatic(7, "Nobody asked.", 95))
    .at(
        410,
        act(
            "ada",
            Action::Ask {
                text: "And the homework?".into(),
            },
        ),
    )
    .at(420, automatic(3, "   ", 95))
    .at(430, automatic(3, "Friday.", 101))
    .at(500, join("bob", Role::Viewer, "Bob"));
    let answered = s.room.top_questions(10);
    assert_eq!(
        answered[0].automatic.as_ref().map(|a| a.confidence),
        Some(93),
        "the board keeps the mark"
    );
    expect![[r#"
        @100 ada: {"type":"question_asked","question":{"id":1,"asker":"ada","name":"Ada","text":"Is this class recorded?","state":"pending","votes":0,"asked_at":100}}
        @110 ada: {"type":"question_asked","question":{"id":2,"asker":"ada","name":"Ada","text":"Where are the slides?","state":"pending","votes":0,"asked_at":110}}
        @200 room: {"type":"question_answered","question":1,"answer":"Yes: the replay is on the course page.","automatic":{"source":"the school's FAQ, line 3","confidence":93}}
        @310 ta: {"type":"question_answered","question":2,"answer":"On the course page."}
        @410 ada: {"type":"question_asked","question":{"id":3,"asker":"ada","name":"Ada","text":"And the homework?","state":"pending","votes":0,"asked_at":410}}
        @500 bob: {"type":"viewer_joined","viewer":"bob","role":"viewer","name":"Bob","fingerprint":null}
        @500 -> bob welcome name="Bob" role=Viewer chat=0 pinned=None poll=none questions=[(1, 0), (2, 0)] held=0 flags=0
    "#]].assert_eq(&s.finish());
}
