//! An offer experiment from push to verdict: a live class, sticky variants, exposures, clicks,
//! purchases carrying the checkout link's reference code, and the results the studio shows.

use lectern_engine::experiments::OfferResultsArgs;
use lectern_engine::{SchoolSource, Studio, StudioOptions};
use lectern_room::{Action, Event, Input, Role, ViewerId, parse_client_frame};
use serde_json::json;

fn act(viewer: &str, action: Action) -> Input {
    Input::Act {
        viewer: ViewerId::from(viewer),
        client_id: None,
        action,
    }
}

fn action(value: serde_json::Value) -> Action {
    let frame = json!({"v": 1, "action": value}).to_string();
    parse_client_frame(&frame).unwrap().action
}

/// `at_ms` as an RFC 3339 UTC time (civil-from-days, H. Hinnant).
fn rfc3339(at_ms: i64) -> String {
    let secs = at_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The shop's sales export: one CSV line per purchase, imported as a school would.
struct Sales(String);

impl Sales {
    fn new() -> Sales {
        Sales("order_id,learner,course,date,amount,currency,ref\n".to_owned())
    }

    fn buy(&mut self, order: &str, course: &str, at_ms: i64, code: Option<String>) {
        let learner = format!("lrn-{order}");
        let when = rfc3339(at_ms);
        let code = code.unwrap_or_default();
        self.0.push_str(&format!(
            "{order},{learner},{course},{when},39.00,EUR,{code}\n"
        ));
    }

    async fn import(self, studio: &Studio) {
        let store = studio.store().await.unwrap();
        let report = store
            .import(lectern_store::ImportKind::Purchases, &self.0, |_, _| {})
            .await
            .unwrap();
        assert!(report.applied, "{:?}", report.errors);
    }
}

#[tokio::test]
async fn exposed_viewers_who_buy_within_the_window_are_the_conversions() {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    let catalog = studio.store().await.unwrap().catalog().await.unwrap();
    let (course, other_course) = (catalog[0].id.clone(), catalog[1].id.clone());
    studio
        .start_class(serde_json::from_value(json!({"title": "Docker in practice"})).unwrap())
        .await
        .unwrap();
    let room = studio.live_room().await.unwrap();
    room.submit(Input::Join {
        viewer: ViewerId::from("instructor"),
        role: Role::Instructor,
        name: "Teacher".into(),
        fingerprint: None,
    })
    .await
    .unwrap();
    let pushed = room
        .submit(act("instructor", action(json!({"type": "push_offer", "spec": {
            "id": "spring", "course_id": course, "experiment": "docker-price",
            "title": "Docker in practice", "cta": "Enrol now", "price_cents": 4900, "currency": "EUR",
            "discount_pct": 0, "checkout_url": "https://shop.example/docker",
            "variants": [{"name": "A", "weight": 0.5}, {"name": "B", "weight": 0.5, "price_cents": 3900}]}}))))
        .await
        .unwrap();
    assert!(
        pushed
            .replies
            .iter()
            .all(|(_, r)| !format!("{r:?}").contains("Rejected")),
        "{:?}",
        pushed.replies
    );

    // 120 viewers join; each is shown one card, its sticky variant.
    let mut variant_of = std::collections::HashMap::new();
    for i in 0..120 {
        let viewer = format!("v-{i:08x}");
        let joined = room
            .submit(Input::Join {
                viewer: ViewerId::from(viewer.as_str()),
                role: Role::Viewer,
                name: format!("Student {i}"),
                fingerprint: None,
            })
            .await
            .unwrap();
        let card = joined
            .deliveries
            .iter()
            .find_map(|d| match &d.record.event {
                Event::OfferShown { viewer: v, card } if v.0 == viewer => Some(card.variant),
                _ => None,
            })
            .expect("a card for every viewer");
        variant_of.insert(viewer, card);
    }
    // The first 100 see the card (exposure); every fifth of them clicks.
    let mut exposed = [0u64; 2];
    let mut clicked = [0u64; 2];
    for i in 0..100 {
        let viewer = format!("v-{i:08x}");
        let variant = variant_of[&viewer];
        room.submit(act(
            &viewer,
            action(json!({"type": "offer_exposed", "offer": "spring", "variant": variant})),
        ))
        .await
        .unwrap();
        exposed[usize::from(variant)] += 1;
        if i % 5 == 0 {
            room.submit(act(
                &viewer,
                action(json!({"type": "offer_clicked", "offer": "spring", "variant": variant})),
            ))
            .await
            .unwrap();
            clicked[usize::from(variant)] += 1;
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let names = ["A", "B"];
    // Buyers: exposed viewers 0..30 buy within a day, by their checkout links.
    let mut converted = [0u64; 2];
    let mut sales = Sales::new();
    for i in 0..30 {
        let viewer = format!("v-{i:08x}");
        let v = variant_of[&viewer];
        sales.buy(
            &format!("o-{i}"),
            &course,
            now + 3_600_000,
            Some(format!("spring.{}.{viewer}", names[usize::from(v)])),
        );
        converted[usize::from(v)] += 1;
    }
    // Not conversions: another course; after the window; a viewer never exposed; no code.
    let v40 = "v-00000028".to_owned();
    sales.buy(
        "x-1",
        &other_course,
        now + 3_600_000,
        Some(format!("spring.A.{v40}")),
    );
    sales.buy(
        "x-2",
        &course,
        now + 8 * 86_400_000,
        Some(format!("spring.A.{v40}")),
    );
    sales.buy(
        "x-3",
        &course,
        now + 3_600_000,
        Some("spring.A.v-00000070".to_owned()),
    );
    sales.buy("x-4", &course, now + 3_600_000, None);
    sales.import(&studio).await;

    let results = studio
        .offer_results(OfferResultsArgs {
            experiment: "docker-price".into(),
            window_days: None,
        })
        .await
        .unwrap();
    assert_eq!(results.unit, "viewer");
    assert_eq!(results.course_id, course);
    assert_eq!(results.variants.len(), 2);
    for (i, v) in results.variants.iter().enumerate() {
        assert_eq!(v.name, names[i]);
        assert_eq!(v.exposed, exposed[i], "{v:?}");
        assert_eq!(v.units, exposed[i]);
        assert_eq!(v.clicked, clicked[i]);
        assert_eq!(v.converted, converted[i], "{v:?}");
        assert_eq!(v.revenue_cents, converted[i] as i64 * 3900);
        let rate = v.rate.unwrap();
        assert!((rate - converted[i] as f64 / exposed[i] as f64).abs() < 1e-12);
    }
    let b = &results.variants[1];
    assert!(b.verdict.is_some(), "{b:?}");
    assert!(b.summary.starts_with("B converts"), "{}", b.summary);
    assert!(results.srm_p_value.unwrap() > 0.001, "a 50/50 hash split");

    // Revenue per exposed viewer, tested beside the conversions: every buyer paid 39.00.
    let per_unit: Vec<f64> = (0..2)
        .map(|i| converted[i] as f64 * 3900.0 / exposed[i] as f64)
        .collect();
    for (i, v) in results.variants.iter().enumerate() {
        assert!(
            (v.revenue.per_unit_cents.unwrap() - per_unit[i]).abs() < 1e-9,
            "{v:?}"
        );
    }
    let lift = b.revenue.lift.expect("a revenue lift for B");
    assert!(
        (lift - (per_unit[1] / per_unit[0] - 1.0)).abs() < 1e-9,
        "{lift}"
    );
    let [lo, hi] = b.revenue.lift_ci.unwrap();
    assert!(lo < lift && lift < hi);
    assert!(
        b.revenue.summary.starts_with("B brings"),
        "{}",
        b.revenue.summary
    );
    assert!(results.revenue_analysis.is_some());

    // The history ends on the final counts, never goes back, and has at most 40 moments.
    let history = &results.history;
    assert!(
        !history.is_empty() && history.len() <= 40,
        "{}",
        history.len()
    );
    let last = history.last().unwrap();
    assert_eq!(last.exposed, exposed.to_vec());
    assert_eq!(last.converted, converted.to_vec());
    for pair in history.windows(2) {
        assert!(pair[0].at_ms <= pair[1].at_ms);
        for i in 0..2 {
            assert!(pair[0].exposed[i] <= pair[1].exposed[i]);
            assert!(pair[0].converted[i] <= pair[1].converted[i]);
        }
    }
    // Everyone was exposed before anyone bought (purchases came an hour later): a moment exists
    // with every exposure and no conversion yet.
    assert!(
        history
            .iter()
            .any(|p| p.exposed == exposed.to_vec() && p.converted == vec![0, 0]),
        "{history:?}"
    );

    // "Mark as bought": a sale entered by hand with the checkout's reference code counts like an
    // imported one, once, whatever the number of times it is entered.
    let hand = "v-0000001f".to_owned(); // exposed (viewer 31), not among the 30 buyers
    let arm = usize::from(variant_of[&hand]);
    let sale = |order: &str, amount: &str| {
        serde_json::from_value::<lectern_engine::data::RecordSale>(json!({
            "orderId": order, "courseId": course, "amount": amount, "currency": "EUR",
            "refCode": format!("spring.{}.{hand}", names[arm]),
        }))
        .unwrap()
    };
    let done = studio.record_sale(sale("hand-1", "39.00")).await.unwrap();
    assert!(done.applied && done.inserted == 1, "{done:?}");
    let again = studio.record_sale(sale("hand-1", "39.00")).await.unwrap();
    assert!(
        again.applied && again.inserted == 0 && again.unchanged == 1,
        "{again:?}"
    );
    let bad = studio.record_sale(sale("hand-2", "thirty")).await.unwrap();
    assert!(!bad.applied && bad.errors.len() == 1, "{bad:?}");
    let err = studio
        .record_sale(
            serde_json::from_value(json!({
                "orderId": "hand-3", "courseId": course, "amount": "39.00", "currency": "EUR"
            }))
            .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "invalid_input");
    let after_hand = studio
        .offer_results(OfferResultsArgs {
            experiment: "docker-price".into(),
            window_days: None,
        })
        .await
        .unwrap();
    for (i, v) in after_hand.variants.iter().enumerate() {
        assert_eq!(v.converted, converted[i] + u64::from(i == arm), "{v:?}");
    }
    converted[arm] += 1;

    // A consented email: viewer 32 links theirs in class; the shop's order has no reference code,
    // but its learner carries the same email hash, so it counts for that viewer.
    let mia = "v-00000020".to_owned();
    let mia_arm = usize::from(variant_of[&mia]);
    let linked = room
        .submit(act(
            &mia,
            action(json!({"type": "link_email", "email": " Mia@Example.org", "consent": true})),
        ))
        .await
        .unwrap();
    assert!(
        linked
            .deliveries
            .iter()
            .any(|d| matches!(&d.record.event, Event::EmailLinked { .. })),
        "{:?}",
        linked.replies
    );
    let hash = lectern_room::email_hash("mia@example.org").unwrap();
    let store = studio.store().await.unwrap();
    let learners = format!(
        "id,email_hash\nlrn-mail-1,{hash}\nlrn-mail-2,{}\n",
        "0".repeat(64)
    );
    let report = store
        .import(lectern_store::ImportKind::Learners, &learners, |_, _| {})
        .await
        .unwrap();
    assert!(report.applied, "{:?}", report.errors);
    let mut by_mail = Sales::new();
    by_mail.buy("mail-1", &course, now + 3_600_000, None);
    // Another learner's email matches nobody in class: not a conversion.
    by_mail.buy("mail-2", &course, now + 3_600_000, None);
    by_mail.import(&studio).await;
    let after_mail = studio
        .offer_results(OfferResultsArgs {
            experiment: "docker-price".into(),
            window_days: None,
        })
        .await
        .unwrap();
    for (i, v) in after_mail.variants.iter().enumerate() {
        assert_eq!(v.converted, converted[i] + u64::from(i == mia_arm), "{v:?}");
    }
    converted[mia_arm] += 1;

    // A shop that exports dates without times: bought today, by the code on the card.
    let dated = "v-00000021".to_owned(); // exposed (viewer 33), not a buyer yet
    let dated_arm = usize::from(variant_of[&dated]);
    let today = &rfc3339(now)[..10];
    let done = studio
        .record_sale(
            serde_json::from_value(json!({
                "orderId": "dated-1", "courseId": course, "amount": "39.00", "currency": "EUR",
                "date": today, "refCode": format!("spring.{}.{dated}", names[dated_arm]),
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    assert!(done.applied, "{done:?}");
    let after_dated = studio
        .offer_results(OfferResultsArgs {
            experiment: "docker-price".into(),
            window_days: None,
        })
        .await
        .unwrap();
    for (i, v) in after_dated.variants.iter().enumerate() {
        assert_eq!(
            v.converted,
            converted[i] + u64::from(i == dated_arm),
            "{v:?}"
        );
    }
    converted[dated_arm] += 1;

    // A longer window admits the late purchase; an unknown experiment is not found.
    let wide = studio
        .offer_results(OfferResultsArgs {
            experiment: "docker-price".into(),
            window_days: Some(10),
        })
        .await
        .unwrap();
    // The late buyer counts for the variant they were exposed to, whatever the code says.
    let late = usize::from(variant_of[&v40]);
    for (i, v) in wide.variants.iter().enumerate() {
        assert_eq!(v.converted, converted[i] + u64::from(i == late), "{v:?}");
    }
    let err = studio
        .offer_results(OfferResultsArgs {
            experiment: "nope".into(),
            window_days: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "not_found");
    let err = studio
        .offer_results(OfferResultsArgs {
            experiment: "docker-price".into(),
            window_days: Some(0),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code.as_str(), "invalid_input");
}

#[tokio::test]
async fn the_planner_says_how_many_classes_a_lift_needs() {
    use lectern_engine::experiments::{PlanArgs, plan};
    use lectern_insights::stats::{PlanInput, plan_classes};
    let args = |rate: f64, lift: f64, size: u64| PlanArgs {
        baseline_rate: rate,
        relative_lift: lift,
        class_size: size,
        weights: None,
    };
    let ours = plan(&args(0.05, 0.2, 300)).unwrap();
    let reference = plan_classes(&PlanInput {
        metric: "binomial".into(),
        baseline_mean: 0.05,
        baseline_sd: None,
        relative_lift: 0.2,
        alpha: 0.05,
        power: 0.8,
        class_size: 300,
        weights: None,
        sequential_tuning: Some(lectern_engine::experiments::SEQUENTIAL_TUNING),
    })
    .unwrap();
    assert_eq!(ours.units_needed, reference.units_needed);
    assert_eq!(ours.classes, ours.units_needed.div_ceil(300));
    assert!(
        ours.summary.contains("20% lift on a 5% rate"),
        "{}",
        ours.summary
    );
    assert!(
        ours.summary
            .contains(&format!("{} classes of 300", ours.classes)),
        "{}",
        ours.summary
    );
    // A smaller lift needs more classes; a bigger class fewer.
    assert!(plan(&args(0.05, 0.1, 300)).unwrap().classes > ours.classes);
    assert!(plan(&args(0.05, 0.2, 3000)).unwrap().classes < ours.classes);
    for bad in [
        args(0.0, 0.2, 300),
        args(0.05, 0.0, 300),
        args(0.05, 0.2, 0),
        args(0.6, 1.0, 300),
    ] {
        assert_eq!(plan(&bad).unwrap_err().code.as_str(), "invalid_input");
    }
}
