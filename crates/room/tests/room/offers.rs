//! Offers and A/B assignment: scenarios as a user drives them, hostile specs, and the
//! assignment function's properties.

use expect_test::expect;
use lectern_room::offers::checkout_link;
use lectern_room::{
    Action, Audience, Event, Input, OfferId, OfferSpec, Output, Role, Room, Timestamp, VariantSpec,
    ViewerId, Weight, assign_variant, parse_client_frame,
};
use proptest::prelude::*;

use super::harness::{act, class, id, join};

fn variant(name: &str, weight: f64) -> VariantSpec {
    VariantSpec {
        name: name.into(),
        weight: Weight::from_fraction(weight),
        title: None,
        cta: None,
        price_cents: None,
        discount_pct: None,
        minute: None,
    }
}

/// A two-arm price test on the Docker course.
fn spec(offer: &str) -> OfferSpec {
    OfferSpec {
        id: OfferId::from(offer),
        course_id: "docker".into(),
        experiment: Some("docker-price".into()),
        metric: Default::default(),
        title: "Docker in depth".into(),
        cta: "Enrol now".into(),
        price_cents: 4900,
        currency: "EUR".into(),
        discount_pct: 20,
        checkout_url: "https://Shop.Example/docker?lang=en#buy".into(),
        variants: vec![
            variant("A", 0.5),
            VariantSpec {
                price_cents: Some(3900),
                cta: Some("Save 10 €".into()),
                ..variant("B", 0.5)
            },
        ],
        audience: None,
    }
}

fn push(offer: &str) -> Action {
    Action::PushOffer {
        spec: Box::new(spec(offer)),
    }
}

fn respond(kind: &str, offer: &str, variant: u8) -> Action {
    let offer = OfferId::from(offer);
    match kind {
        "exposed" => Action::OfferExposed { offer, variant },
        "clicked" => Action::OfferClicked { offer, variant },
        _ => Action::OfferDismissed { offer, variant },
    }
}

/// The variant index the room must give `viewer` in the docker-price experiment.
fn arm(viewer: &str) -> u8 {
    assign_variant("docker-price", viewer, &[500_000, 500_000]) as u8
}

/// The first `v-N` viewer ids whose arm is `want`.
fn viewers_in_arm(want: u8, n: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("v-{i}"))
        .filter(|v| arm(v) == want)
        .take(n)
        .collect()
}

#[test]
fn instructor_pushes_each_viewer_sees_only_their_variant_and_responses_are_counted_once() {
    let a = viewers_in_arm(0, 1).remove(0);
    let b = viewers_in_arm(1, 1).remove(0);
    let mut s = class();
    s.at(10, join(&a, Role::Viewer, "Ann"))
        .at(10, join(&b, Role::Viewer, "Ben"));
    s.lines.clear();
    s.at(100, act("ta", push("spring")))
        .at(200, act("prof", push("spring")))
        .at(300, act(&b, respond("exposed", "spring", 0)))
        .at(310, act(&b, respond("clicked", "spring", 1)))
        .at(320, act(&b, respond("exposed", "spring", 1)))
        .at(330, act(&b, respond("exposed", "spring", 1)))
        .at(340, act(&b, respond("clicked", "spring", 1)))
        .at(350, act(&b, respond("clicked", "spring", 1)))
        .at(360, act(&a, respond("dismissed", "spring", 0)))
        .at(370, act(&a, respond("exposed", "spring", 0)))
        .at(380, act("prof", respond("exposed", "spring", 0)))
        .at(390, act(&a, respond("exposed", "autumn", 0)))
        .at(400, join(&a, Role::Viewer, "Ann"))
        .at(410, join(&b, Role::Viewer, "Ben"))
        .at(420, join("prof", Role::Instructor, "Grace Hopper"))
        .at(
            500,
            act(
                "ta",
                Action::WithdrawOffer {
                    offer: "spring".into(),
                },
            ),
        )
        .at(
            510,
            act(
                "prof",
                Action::WithdrawOffer {
                    offer: "spring".into(),
                },
            ),
        )
        .at(520, act(&b, respond("dismissed", "spring", 1)))
        .at(530, join(&b, Role::Viewer, "Ben"));
    expect![[r#"
        @100 -> ta rejected forbidden
        @200 prof: {"type":"offer_pushed","offer":{"spec":{"id":"spring","course_id":"docker","experiment":"docker-price","title":"Docker in depth","cta":"Enrol now","price_cents":4900,"currency":"EUR","discount_pct":20,"checkout_url":"https://shop.example/docker?lang=en#buy","variants":[{"name":"A","weight":0.5},{"name":"B","weight":0.5,"cta":"Save 10 €","price_cents":3900}]},"state":"live","at":200,"session_variant":null,"counts":[{"shown":0,"exposures":0,"clicks":0,"dismissals":0},{"shown":0,"exposures":0,"clicks":0,"dismissals":0}]}}
        @200 prof: {"type":"offer_shown","viewer":"ada","card":{"offer":"spring","course_id":"docker","variant":1,"variant_name":"B","title":"Docker in depth","cta":"Save 10 €","price_cents":3900,"currency":"EUR","discount_pct":20,"final_price_cents":3120,"checkout_url":"https://shop.example/docker?lang=en&ref=spring.B.ada#buy","exposed":false,"clicked":false}}
        @200 prof: {"type":"offer_shown","viewer":"v-0","card":{"offer":"spring","course_id":"docker","variant":0,"variant_name":"A","title":"Docker in depth","cta":"Enrol now","price_cents":4900,"currency":"EUR","discount_pct":20,"final_price_cents":3920,"checkout_url":"https://shop.example/docker?lang=en&ref=spring.A.v-0#buy","exposed":false,"clicked":false}}
        @200 prof: {"type":"offer_shown","viewer":"v-2","card":{"offer":"spring","course_id":"docker","variant":1,"variant_name":"B","title":"Docker in depth","cta":"Save 10 €","price_cents":3900,"currency":"EUR","discount_pct":20,"final_price_cents":3120,"checkout_url":"https://shop.example/docker?lang=en&ref=spring.B.v-2#buy","exposed":false,"clicked":false}}
        @300 -> v-2 rejected invalid {"reason":"this is not your variant of the offer"}
        @310 -> v-2 rejected not_exposed
        @320 v-2: {"type":"offer_exposed","offer":"spring","course_id":"docker","viewer":"v-2","variant":1,"variant_name":"B","counts":{"shown":2,"exposures":1,"clicks":0,"dismissals":0}}
        @330 -> v-2 rejected already_counted
        @340 v-2: {"type":"offer_clicked","offer":"spring","course_id":"docker","viewer":"v-2","variant":1,"variant_name":"B","counts":{"shown":2,"exposures":1,"clicks":1,"dismissals":0}}
        @350 -> v-2 rejected already_counted
        @360 v-0: {"type":"offer_dismissed","offer":"spring","course_id":"docker","viewer":"v-0","variant":0,"variant_name":"A","counts":{"shown":1,"exposures":0,"clicks":0,"dismissals":1}}
        @370 -> v-0 rejected offer_not_live
        @380 -> prof rejected offer_not_live
        @390 -> v-0 rejected not_found
        @400 v-0: {"type":"viewer_joined","viewer":"v-0","role":"viewer","name":"Ann","fingerprint":null}
        @400 -> v-0 welcome name="Ann" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
        @410 v-2: {"type":"viewer_joined","viewer":"v-2","role":"viewer","name":"Ben","fingerprint":null}
        @410 -> v-2 welcome name="Ben" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0 offer=spring:B exposed clicked
        @420 prof: {"type":"viewer_joined","viewer":"prof","role":"instructor","name":"Grace Hopper","fingerprint":null}
        @420 -> prof welcome name="Grace Hopper" role=Instructor chat=0 pinned=None poll=none questions=[] held=0 flags=0 offers[spring:Live:1/0/0/1,2/1/1/0]
        @500 -> ta rejected forbidden
        @510 prof: {"type":"offer_withdrawn","offer":"spring","course_id":"docker"}
        @520 -> v-2 rejected offer_withdrawn
        @530 v-2: {"type":"viewer_joined","viewer":"v-2","role":"viewer","name":"Ben","fingerprint":null}
        @530 -> v-2 welcome name="Ben" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0
    "#]]
    .assert_eq(&s.finish());
    // Each card goes to staff and its own viewer only; the full offer to staff only.
    for record in &s.log {
        match &record.event {
            Event::OfferShown { viewer, card } => {
                assert_eq!(record.event.audience(), Audience::StaffAnd(viewer.clone()));
                assert_eq!(card.variant, arm(&viewer.0));
            }
            Event::OfferPushed { .. } | Event::OfferExposed(_) | Event::OfferClicked(_) => {
                assert_eq!(record.event.audience(), Audience::Staff);
            }
            _ => {}
        }
    }
}

#[test]
fn a_scheduled_offer_goes_live_at_its_time_and_latecomers_get_their_card_once() {
    let mut s = class();
    s.at(
        1_000,
        act(
            "prof",
            Action::ScheduleOffer {
                spec: Box::new(spec("later")),
                at_ms: Some(Timestamp(60_000)),
                minute: None,
            },
        ),
    );
    assert_eq!(s.room.next_deadline(), Some(Timestamp(60_000)));
    s.at(2_000, act("ada", respond("exposed", "later", arm("ada"))))
        .at(59_999, Input::Tick)
        .at(60_000, Input::Tick)
        .at(61_000, join("cat", Role::Viewer, "Cat"))
        .at(62_000, join("cat", Role::Viewer, "Cat"))
        .at(
            63_000,
            act(
                "prof",
                Action::ScheduleOffer {
                    spec: Box::new(spec("next")),
                    at_ms: None,
                    minute: Some(2),
                },
            ),
        )
        .at(120_000, Input::Tick);
    assert_eq!(s.room.next_deadline(), None);
    expect![[r#"
        @1000 prof: {"type":"offer_scheduled","offer":{"spec":{"id":"later","course_id":"docker","experiment":"docker-price","title":"Docker in depth","cta":"Enrol now","price_cents":4900,"currency":"EUR","discount_pct":20,"checkout_url":"https://shop.example/docker?lang=en#buy","variants":[{"name":"A","weight":0.5},{"name":"B","weight":0.5,"cta":"Save 10 €","price_cents":3900}]},"state":"scheduled","at":60000,"session_variant":null,"counts":[{"shown":0,"exposures":0,"clicks":0,"dismissals":0},{"shown":0,"exposures":0,"clicks":0,"dismissals":0}]}}
        @2000 -> ada rejected offer_not_live
        @60000 room: {"type":"offer_pushed","offer":{"spec":{"id":"later","course_id":"docker","experiment":"docker-price","title":"Docker in depth","cta":"Enrol now","price_cents":4900,"currency":"EUR","discount_pct":20,"checkout_url":"https://shop.example/docker?lang=en#buy","variants":[{"name":"A","weight":0.5},{"name":"B","weight":0.5,"cta":"Save 10 €","price_cents":3900}]},"state":"live","at":60000,"session_variant":null,"counts":[{"shown":0,"exposures":0,"clicks":0,"dismissals":0},{"shown":0,"exposures":0,"clicks":0,"dismissals":0}]}}
        @60000 room: {"type":"offer_shown","viewer":"ada","card":{"offer":"later","course_id":"docker","variant":1,"variant_name":"B","title":"Docker in depth","cta":"Save 10 €","price_cents":3900,"currency":"EUR","discount_pct":20,"final_price_cents":3120,"checkout_url":"https://shop.example/docker?lang=en&ref=later.B.ada#buy","exposed":false,"clicked":false}}
        @61000 cat: {"type":"viewer_joined","viewer":"cat","role":"viewer","name":"Cat","fingerprint":null}
        @61000 cat: {"type":"offer_shown","viewer":"cat","card":{"offer":"later","course_id":"docker","variant":0,"variant_name":"A","title":"Docker in depth","cta":"Enrol now","price_cents":4900,"currency":"EUR","discount_pct":20,"final_price_cents":3920,"checkout_url":"https://shop.example/docker?lang=en&ref=later.A.cat#buy","exposed":false,"clicked":false}}
        @61000 -> cat welcome name="Cat" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0 offer=later:A
        @62000 cat: {"type":"viewer_joined","viewer":"cat","role":"viewer","name":"Cat","fingerprint":null}
        @62000 -> cat welcome name="Cat" role=Viewer chat=0 pinned=None poll=none questions=[] held=0 flags=0 offer=later:A
        @63000 prof: {"type":"offer_scheduled","offer":{"spec":{"id":"next","course_id":"docker","experiment":"docker-price","title":"Docker in depth","cta":"Enrol now","price_cents":4900,"currency":"EUR","discount_pct":20,"checkout_url":"https://shop.example/docker?lang=en#buy","variants":[{"name":"A","weight":0.5},{"name":"B","weight":0.5,"cta":"Save 10 €","price_cents":3900}]},"state":"scheduled","at":120000,"session_variant":null,"counts":[{"shown":0,"exposures":0,"clicks":0,"dismissals":0},{"shown":0,"exposures":0,"clicks":0,"dismissals":0}]}}
        @120000 room: {"type":"offer_withdrawn","offer":"later","course_id":"docker"}
        @120000 room: {"type":"offer_pushed","offer":{"spec":{"id":"next","course_id":"docker","experiment":"docker-price","title":"Docker in depth","cta":"Enrol now","price_cents":4900,"currency":"EUR","discount_pct":20,"checkout_url":"https://shop.example/docker?lang=en#buy","variants":[{"name":"A","weight":0.5},{"name":"B","weight":0.5,"cta":"Save 10 €","price_cents":3900}]},"state":"live","at":120000,"session_variant":null,"counts":[{"shown":0,"exposures":0,"clicks":0,"dismissals":0},{"shown":0,"exposures":0,"clicks":0,"dismissals":0}]}}
        @120000 room: {"type":"offer_shown","viewer":"ada","card":{"offer":"next","course_id":"docker","variant":1,"variant_name":"B","title":"Docker in depth","cta":"Save 10 €","price_cents":3900,"currency":"EUR","discount_pct":20,"final_price_cents":3120,"checkout_url":"https://shop.example/docker?lang=en&ref=next.B.ada#buy","exposed":false,"clicked":false}}
        @120000 room: {"type":"offer_shown","viewer":"cat","card":{"offer":"next","course_id":"docker","variant":0,"variant_name":"A","title":"Docker in depth","cta":"Enrol now","price_cents":4900,"currency":"EUR","discount_pct":20,"final_price_cents":3920,"checkout_url":"https://shop.example/docker?lang=en&ref=next.A.cat#buy","exposed":false,"clicked":false}}
    "#]]
    .assert_eq(&s.finish());
}

#[test]
fn ending_the_class_withdraws_live_and_scheduled_offers() {
    let mut s = class();
    s.at(100, act("prof", push("now")))
        .at(
            200,
            act(
                "prof",
                Action::ScheduleOffer {
                    spec: Box::new(spec("soon")),
                    at_ms: Some(Timestamp(5_000)),
                    minute: None,
                },
            ),
        )
        .at(300, act("prof", Action::EndBroadcast))
        .at(6_000, Input::Tick);
    assert_eq!(s.room.next_deadline(), None);
    let types: Vec<String> = s
        .log
        .iter()
        .map(|r| serde_json::to_value(&r.event).unwrap()["type"].to_string())
        .collect();
    expect![[r#"["\"viewer_joined\"", "\"viewer_joined\"", "\"viewer_joined\"", "\"offer_pushed\"", "\"offer_shown\"", "\"offer_scheduled\"", "\"offer_withdrawn\"", "\"offer_withdrawn\"", "\"broadcast_ended\""]"#]]
        .assert_eq(&format!("{types:?}"));
    s.finish();
}

fn timing_spec() -> OfferSpec {
    OfferSpec {
        experiment: Some("docker-timing".into()),
        variants: vec![
            VariantSpec {
                minute: Some(10),
                ..variant("early", 0.5)
            },
            VariantSpec {
                minute: Some(40),
                ..variant("late", 0.5)
            },
        ],
        ..spec("timed")
    }
}

fn schedule_timing() -> Action {
    Action::ScheduleOffer {
        spec: Box::new(timing_spec()),
        at_ms: None,
        minute: None,
    }
}

/// A class whose session is `session` and that started at 0, with three viewers.
fn timed_room(session: &str) -> Room {
    let mut room = Room::new();
    room.set_class(session, Timestamp(0));
    for (v, role) in [
        ("prof", Role::Instructor),
        ("ada", Role::Viewer),
        ("bob", Role::Viewer),
        ("cat", Role::Viewer),
    ] {
        room.handle(
            Input::Join {
                viewer: id(v),
                role,
                name: v.into(),
                fingerprint: None,
            },
            Timestamp(0),
        );
    }
    room
}

#[test]
fn timing_variants_are_assigned_per_session_and_everyone_in_it_sees_the_same() {
    let mut arms = [0usize; 2];
    for session in 0..400 {
        let mut room = timed_room(&session.to_string());
        let out = room.handle(
            Input::Act {
                viewer: id("prof"),
                client_id: None,
                action: schedule_timing(),
            },
            Timestamp(60_000),
        );
        let Some(Output::Event { record }) = out.first() else {
            panic!("not scheduled: {out:?}");
        };
        let Event::OfferScheduled { offer } = &record.event else {
            panic!("{record:?}");
        };
        let chosen = usize::from(offer.session_variant.unwrap());
        let want = assign_variant(
            "docker-timing",
            &format!("session:{session}"),
            &[500_000, 500_000],
        );
        assert_eq!(chosen, want);
        assert_eq!(offer.at, Timestamp([600_000, 2_400_000][chosen]));
        arms[chosen] += 1;
        // When it goes live, every viewer of the session gets the session's variant.
        let out = room.handle(Input::Tick, offer.at);
        let shown: Vec<u8> = out
            .iter()
            .filter_map(|o| match o {
                Output::Event { record } => match &record.event {
                    Event::OfferShown { card, .. } => Some(card.variant),
                    _ => None,
                },
                Output::Reply { .. } | Output::Voter { .. } => None,
            })
            .collect();
        assert_eq!(shown, vec![chosen as u8; 3], "session {session}");
    }
    // Both arms occur, roughly half each (binomial sd 10; this is over 6 sd).
    assert!(arms[0].abs_diff(200) < 60, "{arms:?}");
}

#[test]
fn timing_experiments_need_the_session_and_future_minutes() {
    let mut s = class();
    s.at(0, act("prof", schedule_timing()));
    let mut room = timed_room("7");
    let refusals: Vec<&str> = [
        (
            60_000,
            Action::PushOffer {
                spec: Box::new(timing_spec()),
            },
        ),
        (
            60_000,
            Action::ScheduleOffer {
                spec: Box::new(timing_spec()),
                at_ms: Some(Timestamp(900_000)),
                minute: None,
            },
        ),
        // Minute 10 has passed at minute 11: the early arm could not run.
        (660_000, schedule_timing()),
    ]
    .into_iter()
    .map(|(t, action)| {
        let out = room.handle(
            Input::Act {
                viewer: id("prof"),
                client_id: None,
                action,
            },
            Timestamp(t),
        );
        match out.as_slice() {
            [
                Output::Reply {
                    reply: lectern_room::Reply::Rejected { error, .. },
                    ..
                },
            ] => error.code(),
            other => panic!("{other:?}"),
        }
    })
    .collect();
    assert_eq!(refusals, ["invalid", "invalid", "out_of_range"]);
    expect![[r#"
        @0 -> prof rejected invalid {"reason":"timing experiments need the room's session, which the host has not set"}
    "#]]
    .assert_eq(&s.finish());
}

/// Runs one push or schedule from the instructor and returns the error code or "ok".
fn outcome(action: Action) -> String {
    let mut room = Room::new();
    room.handle(
        Input::Join {
            viewer: id("prof"),
            role: Role::Instructor,
            name: "Grace".into(),
            fingerprint: None,
        },
        Timestamp(0),
    );
    let out = room.handle(
        Input::Act {
            viewer: id("prof"),
            client_id: None,
            action,
        },
        Timestamp(1_000),
    );
    match out.as_slice() {
        [
            Output::Reply {
                reply: lectern_room::Reply::Rejected { error, .. },
                ..
            },
        ] => error.code().to_owned(),
        [Output::Event { .. }, ..] => "ok".into(),
        other => panic!("{other:?}"),
    }
}

fn with(change: impl FnOnce(&mut OfferSpec)) -> Action {
    let mut spec = spec("hostile");
    change(&mut spec);
    Action::PushOffer {
        spec: Box::new(spec),
    }
}

#[test]
fn hostile_offers_are_refused_with_typed_errors() {
    let url = |u: &str| {
        let u = u.to_owned();
        with(move |s| s.checkout_url = u)
    };
    let cases: Vec<(&str, Action, &str)> = vec![
        ("valid", with(|_| {}), "ok"),
        ("port", url("https://shop.example:8443/x"), "ok"),
        ("javascript", url("javascript:alert(1)"), "invalid_url"),
        (
            "javascript upper",
            url("JAVASCRIPT:alert(1)//https://"),
            "invalid_url",
        ),
        ("http", url("http://shop.example/"), "invalid_url"),
        ("data", url("data:text/html,<script>"), "invalid_url"),
        ("no host", url("https:///path"), "invalid_url"),
        (
            "user info",
            url("https://shop.example@evil.example/"),
            "invalid_url",
        ),
        ("space", url("https://shop.example/a b"), "invalid_url"),
        (
            "quote",
            url("https://shop.example/\"onload="),
            "invalid_url",
        ),
        (
            "non-ascii host",
            url("https://shоp.example/"),
            "invalid_url",
        ),
        ("bad escape", url("https://shop.example/%zz"), "invalid_url"),
        (
            "ref taken",
            url("https://shop.example/?a=1&ref=mine"),
            "invalid_url",
        ),
        ("port zero", url("https://shop.example:0/"), "invalid_url"),
        ("newline", url("https://shop.example/\nx"), "invalid_url"),
        (
            "huge url",
            url(&format!("https://shop.example/{}", "a".repeat(600))),
            "too_long",
        ),
        (
            "weights short",
            with(|s| s.variants[1].weight = Weight::from_fraction(0.4)),
            "invalid_weights",
        ),
        (
            "weights over",
            with(|s| s.variants[1].weight = Weight::from_fraction(0.6)),
            "invalid_weights",
        ),
        (
            "negative weight",
            with(|s| {
                s.variants[0].weight = Weight::from_fraction(-0.5);
                s.variants[1].weight = Weight::from_fraction(1.5);
            }),
            "invalid_weights",
        ),
        (
            "thirds",
            with(|s| {
                s.variants = ["x", "y", "z"]
                    .into_iter()
                    .map(|n| variant(n, 1.0 / 3.0))
                    .collect();
            }),
            "ok",
        ),
        (
            "five variants",
            with(|s| {
                s.variants = (0..5).map(|i| variant(&format!("v{i}"), 0.2)).collect();
            }),
            "invalid",
        ),
        ("no variants", with(|s| s.variants.clear()), "invalid"),
        (
            "same names",
            with(|s| s.variants[1].name = "A".into()),
            "invalid",
        ),
        (
            "half timed",
            with(|s| s.variants[1].minute = Some(5)),
            "invalid",
        ),
        (
            "huge title",
            with(|s| s.title = "x".repeat(1_000_000)),
            "too_long",
        ),
        ("long title", with(|s| s.title = "x".repeat(81)), "too_long"),
        ("blank cta", with(|s| s.cta = " \u{202E} ".into()), "empty"),
        (
            "variant cta",
            with(|s| s.variants[0].cta = Some("y".repeat(41))),
            "too_long",
        ),
        ("bad id", with(|s| s.id = "a.b".into()), "invalid"),
        ("empty id", with(|s| s.id = "".into()), "invalid"),
        (
            "long id",
            with(|s| s.id = "a".repeat(41).as_str().into()),
            "too_long",
        ),
        (
            "bad course",
            with(|s| s.course_id = "../etc".into()),
            "invalid",
        ),
        ("currency", with(|s| s.currency = "eur".into()), "invalid"),
        ("discount", with(|s| s.discount_pct = 101), "out_of_range"),
        (
            "variant discount",
            with(|s| s.variants[1].discount_pct = Some(500)),
            "out_of_range",
        ),
        ("price", with(|s| s.price_cents = u64::MAX), "out_of_range"),
        (
            "schedule in the past",
            Action::ScheduleOffer {
                spec: Box::new(spec("x")),
                at_ms: Some(Timestamp(500)),
                minute: None,
            },
            "out_of_range",
        ),
        (
            "schedule too far",
            Action::ScheduleOffer {
                spec: Box::new(spec("x")),
                at_ms: Some(Timestamp(u64::MAX)),
                minute: None,
            },
            "out_of_range",
        ),
        (
            "schedule both",
            Action::ScheduleOffer {
                spec: Box::new(spec("x")),
                at_ms: Some(Timestamp(5_000)),
                minute: Some(5),
            },
            "invalid",
        ),
        (
            "schedule neither",
            Action::ScheduleOffer {
                spec: Box::new(spec("x")),
                at_ms: None,
                minute: None,
            },
            "invalid",
        ),
        (
            "minute too late",
            Action::ScheduleOffer {
                spec: Box::new(spec("x")),
                at_ms: None,
                minute: Some(721),
            },
            "out_of_range",
        ),
    ];
    let mut wrong = Vec::new();
    for (name, action, want) in cases {
        let got = outcome(action);
        if got != want {
            wrong.push(format!("{name}: got {got}, want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn offer_ids_are_unique_and_offers_bounded() {
    let mut s = class();
    s.at(100, act("prof", push("one")))
        .at(200, act("prof", push("one")));
    for i in 0..50 {
        s.at(300 + i, act("prof", push(&format!("o{i}"))));
    }
    let last = s.lines.last().unwrap().clone();
    assert_eq!(last, "@349 -> prof rejected full {\"limit\":50}");
    assert_eq!(
        s.lines[2],
        "@200 -> prof rejected invalid {\"reason\":\"this offer id is already used in this class\"}"
    );
    // Each push replaced the live one: only the last accepted offer is live.
    let live: Vec<_> = s
        .room
        .snapshot(&id("prof"), Timestamp(400))
        .unwrap()
        .offers
        .into_iter()
        .filter(|o| o.state == lectern_room::OfferState::Live)
        .map(|o| o.spec.id.0)
        .collect();
    assert_eq!(live, ["o48"]);
    s.finish();
}

#[test]
fn offer_frames_parse_and_unknown_fields_are_malformed() {
    let frame = r#"{"v":1,"client_id":"c1","action":{"type":"push_offer","spec":{"id":"spring","course_id":"docker","title":"Docker","cta":"Enrol","price_cents":4900,"currency":"EUR","discount_pct":20,"checkout_url":"https://shop.example/docker","variants":[{"name":"A","weight":0.7},{"name":"B","weight":0.3,"price_cents":3900}]}}}"#;
    let parsed = parse_client_frame(frame).unwrap();
    let Action::PushOffer { spec } = &parsed.action else {
        panic!("{parsed:?}");
    };
    assert_eq!(spec.weights(), [700_000, 300_000]);
    // What a client sends survives a round trip exactly (weights are kept in millionths).
    let again = serde_json::to_string(&parsed).unwrap();
    assert_eq!(parse_client_frame(&again).unwrap(), parsed);
    for (frame, want) in [
        (
            r#"{"v":1,"action":{"type":"offer_exposed","offer":"spring","variant":1}}"#,
            "ok",
        ),
        (
            r#"{"v":1,"action":{"type":"schedule_offer","spec":{"id":"a","course_id":"c","title":"t","cta":"c","price_cents":1,"currency":"EUR","checkout_url":"https://a.example","variants":[{"name":"A","weight":1}]},"minute":12}}"#,
            "ok",
        ),
        (
            r#"{"v":1,"action":{"type":"offer_clicked","offer":"spring","variant":256}}"#,
            "malformed",
        ),
        (
            r#"{"v":1,"action":{"type":"push_offer","spec":{"id":"a","course_id":"c","title":"t","cta":"c","price_cents":1,"currency":"EUR","checkout_url":"https://a.example","variants":[{"name":"A","weight":1,"discount":50}]}}}"#,
            "malformed",
        ),
        (
            r#"{"v":1,"action":{"type":"push_offer","spec":{"id":"a","course_id":"c","title":"t","cta":"c","price_cents":-1,"currency":"EUR","checkout_url":"https://a.example","variants":[]}}}"#,
            "malformed",
        ),
        (
            r#"{"v":1,"action":{"type":"push_offer","spec":{"id":"a","course_id":"c","title":"t","cta":"c","price_cents":1,"currency":"EUR","checkout_url":"https://a.example","variants":[{"name":"A","weight":1e999}]}}}"#,
            "malformed",
        ),
    ] {
        let got = parse_client_frame(frame).map_or_else(|e| e.code().to_owned(), |_| "ok".into());
        assert_eq!(got, want, "{frame}");
    }
}

#[test]
fn checkout_links_carry_an_encoded_reference_code() {
    let offer = OfferId::from("spring");
    let cases = [
        ("https://shop.example/docker", "v-ab12"),
        ("https://shop.example/docker?", "v-ab12"),
        ("https://shop.example/docker?lang=en", "v-ab12"),
        ("https://shop.example/docker?lang=en&", "v-ab12"),
        ("https://shop.example/docker#pay", "v-ab12"),
        ("https://shop.example/docker?x=1#pay?y", "odd id&x=1/é"),
    ];
    let links: Vec<String> = cases
        .iter()
        .map(|(url, viewer)| checkout_link(url, &offer, "B", &ViewerId::from(*viewer)))
        .collect();
    expect![[r#"
        https://shop.example/docker?ref=spring.B.v-ab12
        https://shop.example/docker?ref=spring.B.v-ab12
        https://shop.example/docker?lang=en&ref=spring.B.v-ab12
        https://shop.example/docker?lang=en&ref=spring.B.v-ab12
        https://shop.example/docker?ref=spring.B.v-ab12#pay
        https://shop.example/docker?x=1&ref=spring.B.odd%20id%26x%3D1%2F%C3%A9#pay?y"#]]
    .assert_eq(&links.join("\n"));
}

#[test]
fn assignment_spreads_ten_thousand_viewers_by_weight() {
    for weights in [
        vec![500_000u32, 500_000],
        vec![700_000, 300_000],
        vec![250_000, 250_000, 250_000, 250_000],
        vec![100_000, 200_000, 300_000, 400_000],
    ] {
        let n = 10_000.0;
        let mut counts = vec![0u32; weights.len()];
        for i in 0..10_000 {
            counts[assign_variant("exp-7", &format!("v-{i:x}"), &weights)] += 1;
        }
        for (count, &w) in counts.iter().zip(&weights) {
            let p = f64::from(w) / 1e6;
            let sd = (n * p * (1.0 - p)).sqrt();
            // Five standard deviations: ids and hash are fixed, so this is exact, not flaky;
            // a biased hash (or one ignoring the weights) lands far outside.
            assert!(
                (f64::from(*count) - n * p).abs() < 5.0 * sd,
                "{weights:?}: {counts:?}"
            );
        }
    }
    // Different experiments shuffle viewers independently: about half agree between two 50/50s.
    let same = (0..10_000)
        .filter(|i| {
            let v = format!("v-{i}");
            assign_variant("exp-a", &v, &[1, 1]) == assign_variant("exp-b", &v, &[1, 1])
        })
        .count();
    assert!(same.abs_diff(5_000) < 250, "{same}");
}

#[test]
fn assignment_edge_cases_never_panic() {
    assert_eq!(assign_variant("e", "v", &[]), 0);
    assert_eq!(assign_variant("e", "v", &[0, 0]), 0);
    assert_eq!(assign_variant("e", "v", &[0, 7]), 1);
    assert!(assign_variant("e", "v", &[u32::MAX; 4]) < 4);
}

proptest! {
    #[test]
    fn assignment_is_sticky_and_independent_of_other_viewers(
        experiment in "[a-z0-9-]{1,12}",
        viewers in proptest::collection::vec("v-[0-9a-f]{1,20}", 2..40),
        replacement in "v-[0-9a-f]{1,20}",
        weights in proptest::collection::vec(0u32..1_000_000, 1..5),
    ) {
        let before: Vec<usize> =
            viewers.iter().map(|v| assign_variant(&experiment, v, &weights)).collect();
        // Reconnecting (asking again, in another order) gives the same arm.
        for (v, arm) in viewers.iter().zip(&before).rev() {
            prop_assert_eq!(assign_variant(&experiment, v, &weights), *arm);
        }
        // Replacing one viewer changes nobody else's arm.
        let mut changed = viewers.clone();
        changed[0] = replacement;
        for (v, arm) in changed.iter().zip(&before).skip(1) {
            prop_assert_eq!(assign_variant(&experiment, v, &weights), *arm);
        }
        // Always a real arm, and never one without weight (unless all are zero).
        for arm in &before {
            prop_assert!(*arm < weights.len());
            if weights.iter().any(|&w| w > 0) {
                prop_assert!(weights[*arm] > 0);
            }
        }
    }

    #[test]
    fn a_viewer_keeps_their_variant_across_rejoins_and_replays(rejoins in 1usize..5, who in 0u32..500) {
        let viewer = format!("v-{who}");
        let mut room = Room::new();
        let mut log = Vec::new();
        let mut run = |room: &mut Room, t: u64, input: Input| {
            for o in room.handle(input, Timestamp(t)) {
                if let Output::Event { record } = o {
                    log.push(record);
                }
            }
        };
        run(&mut room, 0, join("prof", Role::Instructor, "Grace"));
        run(&mut room, 1, act("prof", push("spring")));
        let mut cards = Vec::new();
        for i in 0..rejoins {
            let t = 10 + i as u64;
            run(&mut room, t, join(&viewer, Role::Viewer, "Ann"));
            cards.push(room.snapshot(&id(&viewer), Timestamp(t)).unwrap().offer.unwrap());
            run(&mut room, t, Input::Leave { viewer: id(&viewer) });
        }
        let replayed = Room::replay(&log);
        prop_assert_eq!(replayed.state(), room.state());
        prop_assert!(cards.iter().all(|c| c.variant == arm(&viewer)));
        let linked = cards.iter().all(|c| {
            let code = format!("ref=spring.{}.{}", c.variant_name, viewer);
            c.checkout_url.contains(&code)
        });
        prop_assert!(linked);
        let shown = log.iter().filter(|r| matches!(r.event, Event::OfferShown { .. })).count();
        prop_assert_eq!(shown, 1);
    }
}

#[test]
fn naughty_strings_in_every_offer_field_yield_a_typed_refusal_or_a_safe_card() {
    let raw = include_str!("../fixtures/blns.json");
    let corpus: Vec<String> = serde_json::from_str(raw).unwrap();
    let fields: [fn(&mut OfferSpec, &str); 5] = [
        |o, s| o.title = s.into(),
        |o, s| o.cta = s.into(),
        |o, s| o.checkout_url = format!("https://shop.example/{s}"),
        |o, s| o.checkout_url = s.into(),
        |o, s| o.variants[0].name = s.into(),
    ];
    let fresh = || {
        let mut room = Room::new();
        room.handle(join("prof", Role::Instructor, "Grace"), Timestamp(0));
        room.handle(join("ada", Role::Viewer, "Ada"), Timestamp(0));
        room
    };
    let mut room = fresh();
    let mut cards = 0;
    for (i, s) in corpus.iter().enumerate() {
        for (f, set) in fields.iter().enumerate() {
            // A room holds at most 50 offers: start a new class before that.
            if room
                .snapshot(&id("prof"), Timestamp(0))
                .unwrap()
                .offers
                .len()
                >= 45
            {
                room = fresh();
            }
            let mut spec = spec(&format!("o{i}-{f}"));
            set(&mut spec, s);
            let push = act(
                "prof",
                Action::PushOffer {
                    spec: Box::new(spec),
                },
            );
            for o in room.handle(push, Timestamp(1_000)) {
                match o {
                    Output::Reply {
                        reply: lectern_room::Reply::Rejected { error, .. },
                        ..
                    } => assert!(!error.code().is_empty()),
                    Output::Event { record } => {
                        if let Event::OfferShown { card, .. } = &record.event {
                            cards += 1;
                            let url = &card.checkout_url;
                            assert!(url.starts_with("https://shop.example/"), "{url}");
                            assert!(url.bytes().all(|b| b.is_ascii_graphic()), "{url}");
                            assert!(!card.title.is_empty() && !card.cta.is_empty());
                        }
                    }
                    Output::Reply { reply, .. } => panic!("{reply:?}"),
                    Output::Voter { .. } => panic!("no poll here"),
                }
            }
        }
    }
    assert!(
        cards > 100,
        "only {cards} cards: the corpus barely reached the room"
    );
}

#[test]
fn an_offer_for_a_segment_reaches_its_members_only() {
    let mut s = class();
    s.at(10, join("v-in", Role::Viewer, "Ina"))
        .at(10, join("v-out", Role::Viewer, "Otto"));
    s.lines.clear();
    let for_segment = |id: &str| {
        let mut spec = spec(id);
        spec.audience = Some("engaged, never bought".into());
        Action::PushOffer {
            spec: Box::new(spec),
        }
    };
    // Before the host says who is in the segment, the push is refused in words.
    s.at(100, act("prof", for_segment("spring")));
    // The host tells the room the members (never logged): Ina and Lee, who is not here yet.
    let members = ["v-in", "v-lee"].map(|v| ViewerId(v.into())).into();
    assert!(s.room.set_segment_members("engaged, never bought", members));
    s.at(200, act("prof", for_segment("spring")))
        .at(
            300,
            act("v-out", respond("exposed", "spring", arm("v-out"))),
        )
        .at(310, join("v-lee", Role::Viewer, "Lee"))
        .at(320, join("v-zed", Role::Viewer, "Zed"));
    let shown: Vec<String> = s
        .log
        .iter()
        .filter_map(|r| match &r.event {
            Event::OfferShown { viewer, .. } => Some(viewer.0.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        shown,
        ["v-in", "v-lee"],
        "cards go to members only, latecomers included"
    );
    let log = s.finish();
    assert!(
        log.contains("@100 -> prof rejected invalid {\"reason\":\"the offer's segment is not known to this class: choose it again\"}"),
        "{log}"
    );
    assert!(
        log.contains("@300 -> v-out rejected offer_not_live"),
        "{log}"
    );
    // The segment's name is in the log (staff see whom the offer was for); its members are not.
    let pushed = s
        .log
        .iter()
        .find(|r| matches!(r.event, Event::OfferPushed { .. }))
        .map(|r| serde_json::to_string(&r.event).unwrap())
        .unwrap();
    assert!(
        pushed.contains("\"audience\":\"engaged, never bought\""),
        "{pushed}"
    );
    assert!(!pushed.contains("v-lee"), "{pushed}");
    assert_eq!(s.room.offer_card(&ViewerId("v-out".into())), None);
    assert_eq!(s.room.offer_card(&ViewerId("ada".into())), None);
    assert!(s.room.offer_card(&ViewerId("v-in".into())).is_some());
    // Limits: a segment's members are bounded.
    let too_many = (0..=lectern_room::offers::offer_limits::SEGMENT_MEMBERS)
        .map(|i| ViewerId(format!("v-{i}")))
        .collect();
    assert!(!s.room.set_segment_members("huge", too_many));
}
