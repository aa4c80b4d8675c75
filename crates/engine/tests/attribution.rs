//! Offer results on data shaped like a real school's: a purchase made before the card was seen,
//! dates exported without times in the school's time zone, and a timing experiment read by
//! intention to treat. Classes are driven through the real `Room::handle` with time as a
//! parameter and written to the school file as the live room writes them.

use lectern_engine::experiments::{OfferResultsArgs, SetTimeZone};
use lectern_engine::{SchoolSource, Studio, StudioOptions};
use lectern_room::{Action, Event, Input, Output, Recorded, Role, Room, Timestamp, ViewerId};
use lectern_store::{NewEvent, Store};
use serde_json::json;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn action(value: serde_json::Value) -> Action {
    let frame = json!({"v": 1, "action": value}).to_string();
    lectern_room::parse_client_frame(&frame).unwrap().action
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// One class driven through the pure room at chosen times, then written to the log.
pub(crate) struct Class {
    room: Room,
    session: i64,
    records: Vec<Recorded>,
}

impl Class {
    pub(crate) async fn start(store: &Store, course: &str, started_at_ms: i64) -> Class {
        let session = store
            .create_session("A class", Some(course), started_at_ms)
            .await
            .unwrap();
        let mut room = Room::new();
        room.set_class(&session.to_string(), Timestamp(started_at_ms as u64));
        let mut class = Class {
            room,
            session,
            records: vec![],
        };
        class.input(
            Input::Join {
                viewer: ViewerId::from("instructor"),
                role: Role::Instructor,
                name: "Teacher".into(),
                fingerprint: None,
            },
            started_at_ms,
        );
        class
    }

    pub(crate) fn input(&mut self, input: Input, at_ms: i64) -> Vec<Output> {
        let out = self.room.handle(input, Timestamp(at_ms as u64));
        for o in &out {
            if let Output::Event { record } = o {
                self.records.push(record.clone());
            }
        }
        out
    }

    pub(crate) fn act(&mut self, viewer: &str, a: serde_json::Value, at_ms: i64) -> Vec<Output> {
        let out = self.input(
            Input::Act {
                viewer: ViewerId::from(viewer),
                client_id: None,
                action: action(a),
            },
            at_ms,
        );
        assert!(
            out.iter().all(|o| !format!("{o:?}").contains("Rejected")),
            "{out:?}"
        );
        out
    }

    fn join(&mut self, viewer: &str, at_ms: i64) {
        self.input(
            Input::Join {
                viewer: ViewerId::from(viewer),
                role: Role::Viewer,
                name: viewer.to_owned(),
                fingerprint: None,
            },
            at_ms,
        );
    }

    pub(crate) async fn write(self, store: &Store, ended_at_ms: i64) {
        let events: Vec<NewEvent> = self
            .records
            .iter()
            .enumerate()
            .map(|(i, record)| {
                let payload = serde_json::to_value(record).unwrap();
                NewEvent {
                    session_id: self.session,
                    kind: payload["event"]["type"].as_str().unwrap().to_owned(),
                    actor: record.by.as_ref().map(|v| v.0.clone()),
                    at_ms: record.at.0 as i64,
                    payload,
                    client_id: format!("{}/{i}", self.session),
                }
            })
            .collect();
        store.append(events).await.unwrap();
        store.end_session(self.session, ended_at_ms).await.unwrap();
    }
}

pub(crate) fn spec(
    course: &str,
    experiment: &str,
    variants: serde_json::Value,
) -> serde_json::Value {
    json!({
        "id": "spring", "course_id": course, "experiment": experiment,
        "title": "The next course", "cta": "Enrol", "price_cents": 4900, "currency": "EUR",
        "discount_pct": 0, "checkout_url": "https://shop.example/next", "variants": variants,
    })
}

async fn import(store: &Store, kind: lectern_store::ImportKind, csv: &str) {
    let report = store.import(kind, csv, |_, _| {}).await.unwrap();
    assert!(report.applied, "{:?}", report.errors);
}

async fn demo_studio(dir: &std::path::Path) -> (Studio, Store, String) {
    let studio = Studio::open(StudioOptions::new(dir, SchoolSource::Demo))
        .await
        .unwrap();
    let store = studio.store().await.unwrap();
    let course = store.catalog().await.unwrap()[3].id.clone();
    (studio, store, course)
}

async fn results(studio: &Studio, experiment: &str) -> lectern_engine::experiments::OfferResults {
    studio
        .offer_results(OfferResultsArgs {
            experiment: experiment.into(),
            window_days: None,
        })
        .await
        .unwrap()
}

/// A viewer-randomised class: `viewers` join, are shown the card and see it at `exposed_at`.
async fn exposed_class(
    store: &Store,
    course: &str,
    experiment: &str,
    start: i64,
    viewers: &[&str],
) {
    let mut class = Class::start(store, course, start).await;
    for v in viewers {
        class.join(v, start + MINUTE);
    }
    class.act(
        "instructor",
        json!({"type": "push_offer", "spec": spec(course, experiment, json!([{"name": "A", "weight": 1.0}]))}),
        start + 10 * MINUTE,
    );
    for v in viewers {
        class.act(
            v,
            json!({"type": "offer_exposed", "offer": "spring", "variant": 0}),
            start + 11 * MINUTE,
        );
    }
    class.write(store, start + 60 * MINUTE).await;
}

#[tokio::test]
async fn a_purchase_made_before_the_card_was_seen_is_an_owner_not_a_conversion() {
    let dir = tempfile::tempdir().unwrap();
    let (studio, store, course) = demo_studio(dir.path()).await;
    // A class this morning (UTC): the card is seen at 10:11.
    let day = now_ms().div_euclid(DAY) * DAY - DAY;
    let start = day + 10 * 60 * MINUTE;
    let (early, late) = ("v-000000e1", "v-000000e2");
    let mut class = Class::start(&store, &course, start).await;
    for v in [early, late] {
        class.join(v, start + MINUTE);
    }
    class.act(
        "instructor",
        json!({"type": "push_offer", "spec": spec(&course, "owners", json!([{"name": "A", "weight": 1.0}]))}),
        start + 10 * MINUTE,
    );
    for v in [early, late] {
        class.act(
            v,
            json!({"type": "offer_exposed", "offer": "spring", "variant": 0}),
            start + 11 * MINUTE,
        );
        class.act(
            v,
            json!({"type": "link_email", "email": format!("{v}@example.org"), "consent": true}),
            start + 12 * MINUTE,
        );
    }
    class.write(&store, start + 60 * MINUTE).await;
    let hash = |v: &str| lectern_room::email_hash(&format!("{v}@example.org")).unwrap();
    import(
        &store,
        lectern_store::ImportKind::Learners,
        &format!(
            "id,email_hash\nlrn-early,{}\nlrn-late,{}\n",
            hash(early),
            hash(late)
        ),
    )
    .await;
    // One bought at 08:00 the same day, before the class; the other at 18:00, after it.
    let at = |ms: i64| lectern_store::format_utc(ms);
    import(
        &store,
        lectern_store::ImportKind::Purchases,
        &format!(
            "order_id,learner,course,date,amount,currency\n\
             e-1,lrn-early,{course},{},49.00,EUR\n\
             l-1,lrn-late,{course},{},49.00,EUR\n",
            at(day + 8 * 60 * MINUTE),
            at(day + 18 * 60 * MINUTE)
        ),
    )
    .await;
    let r = results(&studio, "owners").await;
    // Before, the morning purchase counted from the start of the UTC day: 2 of 2 converted.
    assert_eq!(r.prior_owners, 1, "{r:?}");
    assert_eq!(r.variants[0].exposed, 1, "{r:?}");
    assert_eq!(r.variants[0].converted, 1, "{r:?}");
}

#[tokio::test]
async fn a_date_without_a_time_is_the_school_s_local_date() {
    let dir = tempfile::tempdir().unwrap();
    let (studio, store, course) = demo_studio(dir.path()).await;
    // A class that started just now minus an hour; its card was seen ten minutes in.
    let start = now_ms() - 60 * MINUTE;
    let exposed_at = start + 11 * MINUTE;
    let utc_day = exposed_at.div_euclid(DAY);
    // A zone whose date differs from UTC's at this moment: a day ahead late in the UTC day
    // (Kiritimati, UTC+14), a day behind early in it (Pago Pago, UTC-11).
    let hour = exposed_at.rem_euclid(DAY) / (60 * MINUTE);
    let (zone, local_day) = if hour >= 10 {
        ("Pacific/Kiritimati", utc_day + 1)
    } else {
        ("Pacific/Pago_Pago", utc_day - 1)
    };
    let viewers = ["v-000000d1", "v-000000d2"];
    exposed_class(&store, &course, "dated", start, &viewers).await;
    for v in viewers {
        let hash = lectern_room::email_hash(&format!("{v}@example.org")).unwrap();
        import(
            &store,
            lectern_store::ImportKind::Learners,
            &format!("id,email_hash\nlrn-{v},{hash}\n"),
        )
        .await;
    }
    // Their emails were linked in a later class (the evidence is the same).
    let mut later = Class::start(&store, &course, start + 2 * 60 * MINUTE).await;
    for v in viewers {
        later.join(v, start + 121 * MINUTE);
        later.act(
            v,
            json!({"type": "link_email", "email": format!("{v}@example.org"), "consent": true}),
            start + 122 * MINUTE,
        );
    }
    later.write(&store, start + 150 * MINUTE).await;
    studio
        .set_time_zone(SetTimeZone {
            time_zone: zone.into(),
        })
        .await
        .unwrap();
    let date = |day: i64| lectern_store::format_utc(day * DAY)[..10].to_owned();
    // d1 bought on the school's date of the class: a conversion. d2 on the school's day before:
    // an owner. Read as UTC dates (before), exactly one of the two verdicts was wrong.
    import(
        &store,
        lectern_store::ImportKind::Purchases,
        &format!(
            "order_id,learner,course,date,amount,currency\n\
             d-1,lrn-{},{course},{},49.00,EUR\n\
             d-2,lrn-{},{course},{},49.00,EUR\n",
            viewers[0],
            date(local_day),
            viewers[1],
            date(local_day - 1)
        ),
    )
    .await;
    let r = results(&studio, "dated").await;
    assert_eq!(r.time_zone, zone);
    assert_eq!(r.prior_owners, 1, "{zone}: {r:?}");
    assert_eq!(r.variants[0].converted, 1, "{zone}: {r:?}");
    // An unknown zone is refused in words; the setting is unchanged.
    let err = studio
        .set_time_zone(SetTimeZone {
            time_zone: "Mars/Olympus".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "invalid_input");
    assert!(err.message.contains("not a time zone"), "{}", err.message);
    assert_eq!(results(&studio, "dated").await.time_zone, zone);
}

#[tokio::test]
async fn a_timing_experiment_counts_every_attendee_of_its_classes() {
    let dir = tempfile::tempdir().unwrap();
    let (studio, store, course) = demo_studio(dir.path()).await;
    // Early card at minute 5, late card at minute 50. Classes are assigned a variant each; teach
    // until each variant has had one.
    let variants = json!([{"name": "early", "weight": 0.5, "minute": 5}, {"name": "late", "weight": 0.5, "minute": 50}]);
    let base = now_ms() - 40 * DAY;
    let mut taught = [false, false];
    let mut k = 0i64;
    while taught != [true, true] {
        assert!(k < 30, "30 classes and a variant never came up");
        let start = base + k * DAY;
        let mut class = Class::start(&store, &course, start).await;
        let out = class.act(
            "instructor",
            json!({"type": "schedule_offer", "spec": spec(&course, "timing", variants.clone())}),
            start + MINUTE,
        );
        let arm = out
            .iter()
            .find_map(|o| match o {
                Output::Event { record } => match &record.event {
                    Event::OfferScheduled { offer } => offer.session_variant,
                    _ => None,
                },
                _ => None,
            })
            .map(usize::from)
            .unwrap();
        let viewers: Vec<String> = (0..10).map(|i| format!("v-{k:04x}{i:04x}")).collect();
        for v in &viewers {
            class.join(v, start + 2 * MINUTE);
        }
        // In the first class of each variant, two attendees buy the next day: one who saw the
        // card (by its code), and one who left at minute 20 (known by their personal join link).
        let buys_here = !taught[arm];
        taught[arm] = true;
        let (seen, left) = (viewers[7].clone(), viewers[0].clone());
        if buys_here {
            class.input(
                Input::LinkLearner {
                    viewer: ViewerId::from(left.as_str()),
                    learner: format!("lrn-left-{k}"),
                },
                start + 3 * MINUTE,
            );
        }
        let leave = |class: &mut Class| {
            for v in &viewers[..6] {
                class.input(
                    Input::Leave {
                        viewer: ViewerId::from(v.as_str()),
                    },
                    start + 20 * MINUTE,
                );
            }
        };
        // The early card reaches all ten; six leave at minute 20, so the late one reaches four.
        let minute = if arm == 0 { 5 } else { 50 };
        if arm == 1 {
            leave(&mut class);
        }
        class.input(Input::Tick, start + minute * MINUTE);
        let present: &[String] = if arm == 0 { &viewers } else { &viewers[6..] };
        for v in present {
            class.act(
                v,
                json!({"type": "offer_exposed", "offer": "spring", "variant": arm}),
                start + (minute + 1) * MINUTE,
            );
        }
        if arm == 0 {
            leave(&mut class);
        }
        class.write(&store, start + 60 * MINUTE).await;
        if buys_here {
            let names = ["early", "late"];
            let at = lectern_store::format_utc(start + DAY);
            import(
                &store,
                lectern_store::ImportKind::Purchases,
                &format!(
                    "order_id,learner,course,date,amount,currency,ref\n\
                     s-{k},lrn-seen-{k},{course},{at},49.00,EUR,spring.{}.{seen}\n\
                     l-{k},lrn-left-{k},{course},{at},49.00,EUR,\n",
                    names[arm]
                ),
            )
            .await;
        }
        k += 1;
    }
    let r = results(&studio, "timing").await;
    assert_eq!(r.unit, "session");
    for v in &r.variants {
        // Every attendee of each class is a unit of its rate, exposed or not.
        assert_eq!(v.attendees, 10 * v.units, "{v:?}");
    }
    let late = &r.variants[1];
    assert_eq!(late.exposed, 4 * late.units, "{late:?}");
    // The late variant's one bought-in class: 2 of its 10 attendees, not 1 of the 4 exposed.
    let late_classes = late.units as f64;
    assert!(
        (late.rate.unwrap() - 0.2 / late_classes).abs() < 1e-9,
        "{late:?}"
    );
    let early = &r.variants[0];
    assert_eq!(early.exposed, 10 * early.units, "{early:?}");
    assert!(
        (early.rate.unwrap() - 0.2 / early.units as f64).abs() < 1e-9,
        "{early:?}"
    );
}

#[tokio::test]
async fn an_experiment_decides_on_the_one_metric_chosen_before_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let (studio, store, course) = demo_studio(dir.path()).await;
    let start = now_ms() - 60 * MINUTE;
    let mut class = Class::start(&store, &course, start).await;
    let mut spec = spec(
        &course,
        "by-revenue",
        json!([{"name": "A", "weight": 0.5}, {"name": "B", "weight": 0.5, "price_cents": 3900}]),
    );
    spec["metric"] = json!("revenue");
    class.act(
        "instructor",
        json!({"type": "push_offer", "spec": spec}),
        start + MINUTE,
    );
    for i in 0..40 {
        let v = format!("v-0000f{i:03x}");
        class.join(&v, start + 2 * MINUTE);
        let variant = class
            .room
            .offer_card(&ViewerId::from(v.as_str()))
            .unwrap()
            .variant;
        class.act(
            &v,
            json!({"type": "offer_exposed", "offer": "spring", "variant": variant}),
            start + 3 * MINUTE,
        );
    }
    class.write(&store, start + 30 * MINUTE).await;
    let r = results(&studio, "by-revenue").await;
    assert_eq!(r.metric, lectern_room::DecisionMetric::Revenue);
    let b = &r.variants[1];
    // Conversions are read for information only; revenue carries the verdict (and waits for
    // five buyers per variant).
    assert!(
        b.summary
            .ends_with("for information: the experiment decides on its primary metric"),
        "{}",
        b.summary
    );
    assert!(
        b.revenue
            .summary
            .contains("not enough data yet for a verdict (5 buyers per variant)"),
        "{}",
        b.revenue.summary
    );
    let listed = studio
        .experiments(lectern_engine::api::NoArgs {})
        .await
        .unwrap();
    let entry = listed
        .iter()
        .find(|e| e.experiment == "by-revenue")
        .unwrap();
    assert_eq!(entry.summary, b.revenue.summary);
}
