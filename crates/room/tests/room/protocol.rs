//! The wire: frame parsing, JSON shapes, error codes.

use expect_test::expect;
use lectern_room::{
    Action, ClientFrame, Event, MAX_FRAME_BYTES, Output, PollId, Recorded, RoomError, Timestamp,
    parse_client_frame,
};

#[test]
fn frames_are_parsed_with_limits() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"v":1,"client_id":"c1","action":{"type":"send_chat","text":"hi"}}"#,
            "ok",
        ),
        (r#"{"v":1,"action":{"type":"unpin_message"}}"#, "ok"),
        (
            r#"{"v":2,"action":{"type":"unpin_message"}}"#,
            "unsupported_version",
        ),
        (r#"{"v":1,"action":{"type":"format_disk"}}"#, "malformed"),
        (
            r#"{"v":1,"action":{"type":"send_chat","text":5}}"#,
            "malformed",
        ),
        (
            r#"{"v":1,"action":{"type":"send_chat","text":"x"},"role":"instructor"}"#,
            "malformed",
        ),
        (
            r#"{"v":1,"action":{"type":"vote","poll":1,"choices":[300]}}"#,
            "malformed",
        ),
        ("not json", "malformed"),
        ("", "malformed"),
        ("[]", "malformed"),
    ];
    for (frame, want) in cases {
        let got = match parse_client_frame(frame) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        assert_eq!(got, *want, "frame {frame}");
    }
    let big = format!(
        r#"{{"v":1,"action":{{"type":"send_chat","text":"{}"}}}}"#,
        "x".repeat(MAX_FRAME_BYTES)
    );
    assert_eq!(
        parse_client_frame(&big).unwrap_err().code(),
        "frame_too_large"
    );
}

#[test]
fn json_shapes_are_stable() {
    let frame = ClientFrame {
        v: 1,
        client_id: Some("c-7".into()),
        action: Action::Vote {
            poll: PollId(3),
            choices: vec![0, 2],
        },
    };
    let record = Recorded {
        v: 1,
        at: Timestamp(1_700_000_000_000),
        by: Some("v-1".into()),
        client_id: None,
        event: Event::PollClosed { poll: PollId(3) },
    };
    let reply = Output::Reply {
        to: "v-1".into(),
        reply: lectern_room::Reply::Rejected {
            client_id: Some("c-8".into()),
            message: RoomError::RateLimited {
                retry_after_ms: 250,
            }
            .to_string(),
            error: RoomError::RateLimited {
                retry_after_ms: 250,
            },
        },
    };
    let out = [
        serde_json::to_string(&frame).unwrap(),
        serde_json::to_string(&Output::Event { record }).unwrap(),
        serde_json::to_string(&reply).unwrap(),
    ]
    .join("\n");
    expect![[r#"
        {"v":1,"client_id":"c-7","action":{"type":"vote","poll":3,"choices":[0,2]}}
        {"type":"event","record":{"v":1,"at":1700000000000,"by":"v-1","client_id":null,"event":{"type":"poll_closed","poll":3}}}
        {"type":"reply","to":"v-1","reply":{"type":"rejected","client_id":"c-8","error":{"code":"rate_limited","retry_after_ms":250},"message":"you are sending messages too fast; try again in 250 ms"}}"#]].assert_eq(&out);
}

#[test]
fn error_code_is_the_serde_tag() {
    let errors = [
        RoomError::RateLimited { retry_after_ms: 1 },
        RoomError::SlowMode { retry_after_ms: 1 },
        RoomError::TooLong { limit: 1 },
        RoomError::Empty,
        RoomError::Forbidden,
        RoomError::TimedOut {
            until: Timestamp(1),
        },
        RoomError::Banned,
        RoomError::NotJoined,
        RoomError::PollClosed,
        RoomError::PollAlreadyOpen,
        RoomError::AlreadyVoted,
        RoomError::NotFound,
        RoomError::NameConfusable,
        RoomError::Invalid { reason: "r".into() },
        RoomError::OutOfRange { min: 1, max: 2 },
        RoomError::Full { limit: 1 },
        RoomError::RoomClosed,
        RoomError::InvalidUrl { reason: "r".into() },
        RoomError::InvalidWeights { reason: "r".into() },
        RoomError::OfferWithdrawn,
        RoomError::OfferNotLive,
        RoomError::NotExposed,
        RoomError::AlreadyCounted,
        RoomError::FrameTooLarge { limit: 1 },
        RoomError::Malformed { reason: "r".into() },
        RoomError::UnsupportedVersion { got: 9 },
    ];
    for error in errors {
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], error.code());
        let back: RoomError = serde_json::from_value(json).unwrap();
        assert_eq!(back, error);
    }
}

#[test]
fn permission_table_has_every_capability_for_the_instructor() {
    use lectern_room::{Capability, PERMISSIONS, Role};
    for (capability, roles) in PERMISSIONS {
        assert!(roles.contains(&Role::Instructor), "{capability:?}");
    }
    assert!(!Role::Ta.may(Capability::ChangeOffers));
    assert!(!Role::Viewer.may(Capability::ChangeOffers));
    assert!(Role::Viewer.may(Capability::RespondToOffers));
    assert!(!Role::Ta.may(Capability::EndBroadcast));
    assert!(Role::Ta.may(Capability::Moderate));
    assert!(Role::Ta.may(Capability::RunPolls));
    assert!(Role::Ta.may(Capability::RunQa));
    assert!(!Role::Viewer.may(Capability::Moderate));
    assert!(!Role::Viewer.may(Capability::BackChannel));
}

#[test]
fn audiences_keep_secrets_with_staff() {
    use lectern_room::{Audience, Ballot, ChatMode, ViewerId};
    let ada = ViewerId::from("ada");
    let cases: Vec<(Event, Audience)> = vec![
        (
            Event::BlockedTermsChanged { terms: vec![] },
            Audience::Staff,
        ),
        (
            Event::ChatModeChanged {
                mode: ChatMode::default(),
            },
            Audience::Everyone,
        ),
        (
            Event::BallotCast {
                poll: PollId(1),
                ballot: Ballot {
                    viewer: ada.clone(),
                    choices: vec![0],
                },
                totals: vec![1, 0],
            },
            Audience::Staff,
        ),
        (
            Event::AnonymousBallotCast {
                poll: PollId(1),
                totals: vec![1, 0],
            },
            Audience::Staff,
        ),
        (
            Event::AnonymousPollVoters {
                poll: PollId(1),
                voters: vec![ada.clone()],
            },
            Audience::Staff,
        ),
        (Event::PollClosed { poll: PollId(1) }, Audience::Everyone),
        (
            Event::PollRevealed {
                poll: PollId(1),
                totals: vec![1, 0],
                correct: None,
            },
            Audience::Everyone,
        ),
        (
            Event::BackChannelPosted {
                name: "Alan".into(),
                text: "psst".into(),
            },
            Audience::Staff,
        ),
        (
            Event::ViewerTimedOut {
                viewer: ada.clone(),
                until: Timestamp(5),
            },
            Audience::StaffAnd(ada.clone()),
        ),
        (
            Event::HoldRejected {
                message: lectern_room::MessageId(1),
                author: ada.clone(),
            },
            Audience::StaffAnd(ada.clone()),
        ),
        (Event::BroadcastEnded, Audience::Everyone),
        (
            Event::OfferWithdrawn {
                offer: "spring".into(),
                course_id: "docker".into(),
            },
            Audience::Everyone,
        ),
        (
            Event::OfferDismissed(Box::new(lectern_room::OfferTally {
                offer: "spring".into(),
                course_id: "docker".into(),
                viewer: ada.clone(),
                variant: 0,
                variant_name: "A".into(),
                counts: lectern_room::VariantCounts::default(),
            })),
            Audience::StaffAnd(ada.clone()),
        ),
    ];
    for (event, audience) in cases {
        assert_eq!(event.audience(), audience, "{event:?}");
    }
}
