//! Property tests: random sessions never panic, and the log rebuilds the room.

use lectern_room::{
    Action, Audience, ClientId, Event, Fingerprint, Input, MessageId, OfferId, OfferSpec, Output,
    PollId, PollSpec, QuestionId, Reaction, Recorded, Reply, Role, Room, Timestamp, VariantSpec,
    ViewerId, Weight,
};
use proptest::prelude::*;

const PEOPLE: &[(&str, Role)] = &[
    ("prof", Role::Instructor),
    ("ta", Role::Ta),
    ("ada", Role::Viewer),
    ("bob", Role::Viewer),
    ("eve", Role::Viewer),
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("hello".to_owned()),
        Just("visit evil.com".to_owned()),
        Just("Grace Hopper".to_owned()),
        Just("Instructоr".to_owned()),
        Just("\u{202E}flip".to_owned()),
        Just("Z\u{0301}\u{0302}\u{0303}\u{0304}".to_owned()),
        Just("x".repeat(501)),
        ".{0,30}",
    ]
}

fn viewer() -> impl Strategy<Value = ViewerId> {
    (0..PEOPLE.len() + 1).prop_map(|i| ViewerId::from(PEOPLE.get(i).map_or("ghost", |p| p.0)))
}

fn spec() -> impl Strategy<Value = PollSpec> {
    (
        proptest::collection::vec(text(), 0..12),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(proptest::collection::vec(0u8..12, 0..4)),
        proptest::option::of(0u32..5),
    )
        .prop_map(
            |(options, multiple, anonymous, correct, duration_secs)| PollSpec {
                question: "Q".into(),
                options,
                multiple,
                anonymous,
                correct,
                duration_secs,
                skill: None,
            },
        )
}

fn action() -> impl Strategy<Value = Action> {
    let message = || (1u64..8).prop_map(MessageId);
    let poll = || (1u64..4).prop_map(PollId);
    let question = || (1u64..5).prop_map(QuestionId);
    prop_oneof![
        6 => text().prop_map(|text| Action::SendChat { text, reply_to: None }),
        1 => message().prop_map(|message| Action::DeleteMessage { message }),
        1 => message().prop_map(|message| Action::PinMessage { message }),
        1 => Just(Action::UnpinMessage),
        1 => Just(Action::ClearChat),
        1 => (0u32..400).prop_map(|seconds| Action::SetSlowMode { seconds }),
        1 => any::<bool>().prop_map(|on| Action::SetApprovedOnly { on }),
        1 => (0u32..25).prop_map(|count| Action::SetHoldFirstMessages { count }),
        1 => proptest::collection::vec(text(), 0..3).prop_map(|terms| Action::SetBlockedTerms { terms }),
        1 => message().prop_map(|message| Action::ApproveHeld { message }),
        1 => message().prop_map(|message| Action::RejectHeld { message }),
        1 => (viewer(), 0u32..100).prop_map(|(viewer, seconds)| Action::Timeout { viewer, seconds }),
        1 => viewer().prop_map(|viewer| Action::LiftTimeout { viewer }),
        1 => viewer().prop_map(|viewer| Action::Ban {
            viewer,
            address: false,
        }),
        1 => viewer().prop_map(|viewer| Action::Unban { viewer }),
        1 => text().prop_map(|text| Action::PostBackChannel { text }),
        2 => spec().prop_map(|spec| Action::CreatePoll { spec }),
        2 => poll().prop_map(|poll| Action::OpenPoll { poll }),
        1 => poll().prop_map(|poll| Action::ClosePoll { poll }),
        1 => poll().prop_map(|poll| Action::RevealPoll { poll }),
        4 => (poll(), proptest::collection::vec(0u8..5, 0..3))
            .prop_map(|(poll, choices)| Action::Vote { poll, choices }),
        2 => text().prop_map(|text| Action::Ask { text }),
        2 => question().prop_map(|question| Action::Upvote { question }),
        1 => question().prop_map(|question| Action::ApproveQuestion { question }),
        1 => (question(), proptest::option::of(text()))
            .prop_map(|(question, answer)| Action::AnswerQuestion { question, answer }),
        1 => question().prop_map(|question| Action::DismissQuestion { question }),
        1 => proptest::option::of(question()).prop_map(|question| Action::HighlightQuestion { question }),
        3 => prop_oneof![Just(Reaction::Heart), Just(Reaction::Clap)]
            .prop_map(|reaction| Action::React { reaction }),
        1 => Just(Action::EndBroadcast),
        2 => offer_spec().prop_map(|spec| Action::PushOffer { spec: Box::new(spec) }),
        2 => (offer_spec(), proptest::option::of(0u64..4_000_000), proptest::option::of(0u32..30))
            .prop_map(|(spec, at, minute)| Action::ScheduleOffer {
                spec: Box::new(spec),
                at_ms: at.map(|ms| Timestamp(1_000_000 + ms)),
                minute,
            }),
        1 => offer_id().prop_map(|offer| Action::WithdrawOffer { offer }),
        3 => (offer_id(), 0u8..3).prop_map(|(offer, variant)| Action::OfferExposed { offer, variant }),
        2 => (offer_id(), 0u8..3).prop_map(|(offer, variant)| Action::OfferClicked { offer, variant }),
        1 => (offer_id(), 0u8..3).prop_map(|(offer, variant)| Action::OfferDismissed { offer, variant }),
    ]
}

fn offer_id() -> impl Strategy<Value = OfferId> {
    prop_oneof![Just("o1"), Just("o2"), Just("o3")].prop_map(OfferId::from)
}

fn offer_spec() -> impl Strategy<Value = OfferSpec> {
    let variant = |name: &'static str| {
        (0.0f64..1.0, proptest::option::of(0u32..5)).prop_map(move |(weight, minute)| VariantSpec {
            name: name.into(),
            weight: Weight::from_fraction(weight),
            title: None,
            cta: Some("Buy".into()),
            price_cents: Some(100),
            discount_pct: None,
            minute,
        })
    };
    (
        offer_id(),
        prop_oneof![
            Just("https://shop.example/c".to_owned()),
            Just("javascript:alert(1)".to_owned()),
        ],
        prop_oneof![
            // Halves that sum to 1, or arbitrary weights (mostly refused).
            Just(vec![0.5, 0.5]),
            Just(vec![1.0]),
            Just(vec![0.25, 0.25, 0.5]),
        ],
        proptest::collection::vec(variant("x"), 1..4),
        any::<bool>(),
    )
        .prop_map(|(id, checkout_url, weights, random, use_random)| {
            let variants = if use_random {
                random
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| VariantSpec {
                        name: format!("v{i}"),
                        ..v
                    })
                    .collect()
            } else {
                weights
                    .into_iter()
                    .enumerate()
                    .map(|(i, w)| VariantSpec {
                        name: format!("v{i}"),
                        weight: Weight::from_fraction(w),
                        title: None,
                        cta: None,
                        price_cents: None,
                        discount_pct: Some(10),
                        minute: None,
                    })
                    .collect()
            };
            OfferSpec {
                id,
                course_id: "docker".into(),
                experiment: None,
                metric: Default::default(),
                title: "Docker".into(),
                cta: "Enrol".into(),
                price_cents: 4900,
                currency: "EUR".into(),
                discount_pct: 0,
                checkout_url,
                variants,
                audience: None,
            }
        })
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        2 => (0..PEOPLE.len(), text(), proptest::option::of(0u8..3)).prop_map(|(i, name, fp)| {
            Input::Join {
                viewer: ViewerId::from(PEOPLE[i].0),
                role: PEOPLE[i].1,
                name,
                fingerprint: fp.map(|f| Fingerprint(format!("fp{f}"))),
            }
        }),
        1 => viewer().prop_map(|viewer| Input::Leave { viewer }),
        1 => Just(Input::Tick),
        12 => (viewer(), proptest::option::of(0u8..6), action()).prop_map(|(viewer, cid, action)| {
            Input::Act {
                viewer,
                client_id: cid.map(|c| ClientId(format!("c{c}"))),
                action,
            }
        }),
    ]
}

fn session() -> impl Strategy<Value = Vec<(u64, Input)>> {
    proptest::collection::vec((0u64..3_000, input()), 1..120)
}

/// Runs a session with everyone joined first (so actions mostly reach their checks).
fn run(steps: &[(u64, Input)]) -> (Room, Vec<Recorded>, Vec<Output>) {
    run_from(1_000_000, steps)
}

fn run_from(start: u64, steps: &[(u64, Input)]) -> (Room, Vec<Recorded>, Vec<Output>) {
    let mut room = Room::new();
    let mut log = Vec::new();
    let mut all = Vec::new();
    let mut now = start;
    let joins = PEOPLE.iter().map(|(v, role)| Input::Join {
        viewer: ViewerId::from(*v),
        role: *role,
        name: (*v).to_owned(),
        fingerprint: None,
    });
    let inputs = joins.map(|i| (0, i)).chain(steps.iter().cloned());
    for (delta, input) in inputs {
        now = now.saturating_add(delta);
        for output in room.handle(input, Timestamp(now)) {
            if let Output::Event { record } = &output {
                log.push(record.clone());
            }
            all.push(output);
        }
    }
    (room, log, all)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn replaying_the_log_reproduces_the_room(steps in session()) {
        let (room, log, _) = run(&steps);
        let replayed = Room::replay(&log);
        prop_assert_eq!(replayed.state(), room.state());
    }

    #[test]
    fn extreme_clocks_never_panic(
        start in prop_oneof![Just(0u64), Just(u64::MAX - 5_000), any::<u64>()],
        steps in session(),
    ) {
        let (room, log, _) = run_from(start, &steps);
        let replayed = Room::replay(&log);
        prop_assert_eq!(replayed.state(), room.state());
    }

    #[test]
    fn inputs_survive_json(steps in session()) {
        for (_, input) in &steps {
            let json = serde_json::to_string(input).unwrap();
            let back: Input = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, input);
        }
    }

    #[test]
    fn the_log_survives_json(steps in session()) {
        let (room, log, _) = run(&steps);
        let json: Vec<String> = log.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
        let back: Vec<Recorded> = json.iter().map(|j| serde_json::from_str(j).unwrap()).collect();
        prop_assert_eq!(&back, &log);
        let replayed = Room::replay(&back);
        prop_assert_eq!(replayed.state(), room.state());
    }

    #[test]
    fn rules_hold_in_every_session(steps in session()) {
        let (room, log, outputs) = run(&steps);
        // Every act gets either events or exactly one reply; never silence for a refused act.
        for output in &outputs {
            if let Output::Reply { reply: Reply::Rejected { error, .. }, .. } = output {
                prop_assert!(!error.code().is_empty());
            }
        }
        for record in &log {
            match &record.event {
                Event::ChatSent { message } | Event::HoldApproved { message } => {
                    prop_assert!(lectern_room::text::graphemes(&message.text) <= 500);
                    prop_assert!(!message.text.contains('\u{202E}'), "bidi kept");
                }
                Event::ViewerJoined { name, .. } => {
                    prop_assert!(!name.is_empty());
                    prop_assert!(lectern_room::text::graphemes(name) <= 40);
                }
                Event::AnonymousBallotCast { .. } | Event::BallotCast { .. } | Event::PollCreated { .. }
                | Event::OfferPushed { .. } | Event::OfferScheduled { .. } => {
                    prop_assert_eq!(record.event.audience(), Audience::Staff);
                }
                Event::OfferShown { viewer, card } => {
                    prop_assert_eq!(record.event.audience(), Audience::StaffAnd(viewer.clone()));
                    prop_assert!(card.checkout_url.starts_with("https://"));
                }
                _ => {}
            }
        }
        // One ballot per viewer per poll, and totals match named ballots.
        for id in 1..4 {
            if let Some(poll) = room.poll(PollId(id)) {
                let mut voters = poll.voters.clone();
                voters.sort();
                voters.dedup();
                prop_assert_eq!(voters.len(), poll.voters.len());
                if !poll.spec.anonymous {
                    let mut totals = vec![0u32; poll.spec.options.len()];
                    for ballot in &poll.ballots {
                        for &c in &ballot.choices {
                            totals[usize::from(c)] += 1;
                        }
                    }
                    prop_assert_eq!(&totals, &poll.totals);
                } else {
                    prop_assert!(poll.ballots.is_empty());
                }
            }
        }
        // One exposure, click and dismissal per viewer and offer; a click only after an exposure.
        let mut seen = std::collections::BTreeSet::new();
        for record in &log {
            let (kind, tally) = match &record.event {
                Event::OfferExposed(t) => ("exposed", t),
                Event::OfferClicked(t) => ("clicked", t),
                Event::OfferDismissed(t) => ("dismissed", t),
                _ => continue,
            };
            if kind == "clicked" {
                prop_assert!(seen.contains(&("exposed", tally.offer.clone(), tally.viewer.clone())));
            }
            prop_assert!(seen.insert((kind, tally.offer.clone(), tally.viewer.clone())), "counted twice");
        }
        // A chat message id is used once.
        let mut ids: Vec<u64> = log.iter().filter_map(|r| match &r.event {
            Event::ChatSent { message } => Some(message.id.0),
            Event::ChatHeld { hold } => Some(hold.message.id.0),
            _ => None,
        }).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        prop_assert_eq!(ids.len(), n);
    }
}
