//! The room's records become engagement's activities in one exhaustive match
//! (`lectern_engine::activities`): the log's payloads decoded as the room's `Recorded`, what is
//! not engagement left out, what is not a room record refused, never a panic.

use lectern_engine::activities::{engagement_event, engagement_event_of_log};
use lectern_insights::engagement::Activity;
use serde_json::{Value, json};

const S: i64 = 1_790_000_000_000;

/// A log record's payload as the engine writes it: the room's `Recorded`.
fn payload(by: Option<&str>, event: Value) -> Value {
    json!({"v": 1, "at": S, "by": by, "client_id": null, "event": event})
}

fn activity(event: Value) -> Option<Activity> {
    let kind = event["type"].as_str().unwrap_or_default().to_owned();
    engagement_event_of_log(&kind, S, &payload(None, event))
        .unwrap()
        .map(|e| {
            assert_eq!(e.at_ms, S);
            e.activity
        })
}

fn message(author: &str, role: &str) -> Value {
    json!({"id": 1, "author": author, "name": "x", "role": role, "text": "hello", "sent_at": S})
}

#[test]
fn the_room_vocabulary_maps_to_activities() {
    assert_eq!(
        activity(
            json!({"type": "viewer_joined", "viewer": "ann", "role": "viewer", "name": "Ann", "fingerprint": null})
        ),
        Some(Activity::Joined {
            viewer: "ann".into(),
            name: "Ann".into(),
            staff: false
        })
    );
    assert!(matches!(
        activity(
            json!({"type": "viewer_joined", "viewer": "prof", "role": "instructor", "name": "P", "fingerprint": null})
        ),
        Some(Activity::Joined { staff: true, .. })
    ));
    assert_eq!(
        activity(json!({"type": "chat_sent", "message": message("ta1", "ta")})),
        Some(Activity::Chat {
            viewer: "ta1".into(),
            staff: true
        })
    );
    // Held messages count too: the viewer took part.
    assert_eq!(
        activity(
            json!({"type": "chat_held", "hold": {"message": message("v9", "viewer"), "reason": "link"}})
        ),
        Some(Activity::Chat {
            viewer: "v9".into(),
            staff: false
        })
    );
    assert_eq!(
        activity(
            json!({"type": "reactions_aggregated", "second": 0, "counts": [["thumbs_up", 3], ["heart", 1]]})
        ),
        Some(Activity::Reactions {
            viewer: None,
            count: 4
        })
    );
    assert_eq!(
        activity(
            json!({"type": "offer_clicked", "offer": "spring-sale", "course_id": "docker",
            "viewer": "ann", "variant": 1, "variant_name": "B",
            "counts": {"shown": 2, "exposures": 1, "clicks": 0, "dismissals": 0}})
        ),
        Some(Activity::OfferClicked {
            viewer: "ann".into(),
            offer: "spring-sale".into(),
            variant: 1
        })
    );
    assert_eq!(
        activity(
            json!({"type": "ballot_cast", "poll": 2, "ballot": {"viewer": "bob", "choices": [0]}, "totals": [1, 0]})
        ),
        Some(Activity::Ballot {
            poll: 2,
            viewer: "bob".into()
        })
    );
    assert_eq!(
        activity(json!({"type": "broadcast_ended"})),
        Some(Activity::Ended)
    );
}

#[test]
fn what_is_not_engagement_counts_for_nothing_and_erased_viewers_for_nobody() {
    // An anonymous ballot names nobody; its poll's voters count when it closes, as a set
    // (an erased voter left out).
    assert_eq!(
        activity(json!({"type": "anonymous_ballot_cast", "poll": 3, "totals": [1]})),
        None
    );
    assert_eq!(
        activity(
            json!({"type": "anonymous_poll_voters", "poll": 3, "voters": ["v1", "erased", "v9"]})
        ),
        Some(Activity::AnonymousVoters {
            poll: 3,
            viewers: vec!["v1".into(), "v9".into()]
        })
    );
    assert_eq!(
        activity(json!({"type": "message_pinned", "message": message("prof", "instructor")})),
        None
    );
    assert_eq!(
        activity(
            json!({"type": "reactions_by", "second": 0, "viewers": [["erased", 2], ["ann", 1]]})
        ),
        Some(Activity::ReactionsBy {
            viewers: vec![("ann".into(), 1)]
        })
    );
    // Nor does any other record naming an erased viewer (the erase path leaves "erased").
    assert_eq!(
        activity(json!({"type": "media_presence", "viewer": "erased", "watching": true})),
        None
    );
}

#[test]
fn a_payload_that_is_not_a_room_record_is_refused_never_a_panic() {
    for (kind, event) in [
        ("viewer_joined", json!({"type": "viewer_joined"})),
        ("ballot_cast", json!({"type": "ballot_cast", "poll": -1})),
        (
            "offer_exposed",
            json!({"type": "offer_exposed", "viewer": "v", "offer": "o", "variant": 300}),
        ),
        (
            "reactions_aggregated",
            json!({"type": "reactions_aggregated", "second": 0, "counts": [["heart"]]}),
        ),
        (
            "reactions_by",
            json!({"type": "reactions_by", "second": 0, "viewers": [["ann"]]}),
        ),
        ("no_such_event", json!({"type": "no_such_event"})),
    ] {
        let err = engagement_event_of_log(kind, S, &payload(None, event)).unwrap_err();
        assert_eq!(err.kind, kind);
    }
    assert!(engagement_event_of_log("chat_sent", S, &json!(null)).is_err());
    assert!(engagement_event_of_log("viewer_left", S, &json!({})).is_err());
}

#[test]
fn a_live_record_and_its_logged_payload_are_read_alike() {
    let record: lectern_room::Recorded = serde_json::from_value(payload(
        Some("ann"),
        json!({"type": "question_upvoted", "question": 1, "viewer": "ann", "votes": 1}),
    ))
    .unwrap();
    let logged = serde_json::to_value(&record).unwrap();
    assert_eq!(
        engagement_event(S, &record),
        engagement_event_of_log("question_upvoted", S, &logged).unwrap()
    );
    assert_eq!(
        engagement_event(S, &record).unwrap().activity,
        Activity::QuestionUpvoted {
            viewer: "ann".into()
        }
    );
}

#[test]
fn purchase_propensity_counts_the_attendees_own_participation_by_the_rooms_kinds() {
    use lectern_engine::activities::participation;
    use lectern_insights::propensity::Participation;
    for (kind, counted) in [
        ("viewer_joined", Some(Participation::Joined)),
        ("viewer_left", Some(Participation::Left)),
        ("chat_sent", Some(Participation::Chat)),
        ("chat_held", Some(Participation::Chat)),
        ("ballot_cast", Some(Participation::Ballot)),
        ("offer_exposed", Some(Participation::Exposure)),
        ("offer_clicked", Some(Participation::Click)),
        // Anonymous ballots name nobody, even one recorded with an author in an old log.
        ("anonymous_ballot_cast", None),
        ("broadcast_ended", None),
        ("question_asked", None),
        // Names the room never wrote.
        ("join", None),
        ("chat", None),
        ("offer_click", None),
    ] {
        assert_eq!(participation(kind), counted, "{kind}");
    }
}
