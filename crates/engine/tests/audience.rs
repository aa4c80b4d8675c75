//! The school's audience through the studio: segments with names kept from one computation to
//! the next, a segment's learners and linked viewers, and repurchase, on small schools built
//! through the CSV imports a school uses.

use lectern_engine::api::NoArgs;
use lectern_engine::audience::{SEGMENTS_SETTING, segment_audience};
use lectern_engine::{ErrorCode, SchoolSource, Studio, StudioOptions};
use lectern_store::{ImportKind, Store};

const CATALOG: &str = "id,title,tags,level,price,length\n\
    c1,Python Foundations,python;basics,beginner,40.00,300\n\
    c2,Data Analysis,python;data,intermediate,40.00,300\n\
    c3,Machine Learning,python;ml,advanced,40.00,300\n\
    c4,Statistics,data;maths,intermediate,40.00,300\n";

/// Three kinds of learner, ten of each, all joined on 2025-01-01:
/// `a*` bought on 2025-02-01, 2025-03-01 and 2025-09-01 (the last day of the data);
/// `r*` bought on 2025-02-01 and 2025-03-15 (170 days before the last day);
/// `n*` never bought. Two of the `a*` purchases carry a checkout reference code, which links
/// a live viewer to the learner who paid.
fn learners_csv() -> Vec<String> {
    (0..10)
        .flat_map(|i| [format!("a{i:02}"), format!("r{i:02}"), format!("n{i:02}")])
        .map(|id| format!("{id},2025-01-01"))
        .collect()
}

fn purchases_csv() -> Vec<String> {
    let mut rows = Vec::new();
    for i in 0..10 {
        let reference = match i {
            0 => "spring.A.v-000000a0",
            1 => "spring.B.v-000000a1",
            _ => "",
        };
        rows.push(format!("a{i:02}-1,a{i:02},c1,2025-02-01,40.00,EUR,"));
        rows.push(format!("a{i:02}-2,a{i:02},c2,2025-03-01,40.00,EUR,"));
        rows.push(format!(
            "a{i:02}-3,a{i:02},c3,2025-09-01,40.00,EUR,{reference}"
        ));
        rows.push(format!("r{i:02}-1,r{i:02},c1,2025-02-01,40.00,EUR,"));
        rows.push(format!("r{i:02}-2,r{i:02},c2,2025-03-15,40.00,EUR,"));
    }
    rows
}

/// Three of the `a*` learners buy again 20 days after the last day: the data move on.
const LATER: &str = "order_id,learner,course,date,amount,currency\n\
    a00-4,a00,c4,2025-09-21,40.00,EUR\n\
    a01-4,a01,c4,2025-09-21,40.00,EUR\n\
    a02-4,a02,c4,2025-09-21,40.00,EUR\n";

async fn school(dir: &std::path::Path, reversed: bool, later: bool) -> (Studio, Store) {
    let studio = Studio::open(StudioOptions::new(
        dir,
        SchoolSource::Path(dir.join("school.db")),
    ))
    .await
    .unwrap();
    let store = studio.store().await.unwrap();
    let mut learners = learners_csv();
    let mut purchases = purchases_csv();
    if reversed {
        learners.reverse();
        purchases.reverse();
    }
    import(&store, ImportKind::Catalog, CATALOG).await;
    import(
        &store,
        ImportKind::Learners,
        &format!("id,joined\n{}\n", learners.join("\n")),
    )
    .await;
    import(
        &store,
        ImportKind::Purchases,
        &format!(
            "order_id,learner,course,date,amount,currency,ref\n{}\n",
            purchases.join("\n")
        ),
    )
    .await;
    if later {
        import(&store, ImportKind::Purchases, LATER).await;
    }
    (studio, store)
}

async fn import(store: &Store, kind: ImportKind, csv: &str) {
    let report = store.import(kind, csv, |_, _| {}).await.unwrap();
    assert!(report.applied, "{:?}", report.errors);
}

/// Each learner's segment name, by learner id.
async fn names(store: &Store) -> std::collections::BTreeMap<String, String> {
    let studio_segments = segment_names(store).await;
    let mut by_learner = std::collections::BTreeMap::new();
    for name in studio_segments {
        for learner in segment_audience(store, &name).await.unwrap().learners {
            by_learner.insert(learner, name.clone());
        }
    }
    by_learner
}

async fn segment_names(store: &Store) -> Vec<String> {
    let audience = lectern_engine::audience::school_audience(store)
        .await
        .unwrap();
    let segmentation = lectern_engine::audience::segment_school(
        store,
        &audience,
        audience.default_today(),
        lectern_engine::audience::DEFAULT_SEGMENTS,
        lectern_engine::audience::Remember::No,
    )
    .await
    .unwrap();
    segmentation.segments.into_iter().map(|s| s.name).collect()
}

fn of_kind(names: &std::collections::BTreeMap<String, String>, kind: char) -> Vec<&str> {
    names
        .iter()
        .filter(|(id, _)| id.starts_with(kind))
        .map(|(_, n)| n.as_str())
        .collect()
}

#[tokio::test]
async fn segments_are_named_by_behaviour_and_add_up_to_the_learners() {
    let dir = tempfile::tempdir().unwrap();
    let (studio, _store) = school(dir.path(), false, false).await;
    let view = studio.audience_segments(NoArgs {}).await.unwrap();
    assert_eq!(view.as_of, "2025-09-01");
    assert_eq!(view.learners, 30);
    assert_eq!(
        view.names_kept, 0,
        "the first computation has nothing to keep"
    );
    let rows: Vec<(&str, u32, u32)> = view
        .segments
        .iter()
        .map(|s| (s.name.as_str(), s.size, s.buyers))
        .collect();
    assert_eq!(
        rows,
        [
            // Ties in size are ordered by centre: fewest purchases first.
            ("never bought", 10, 0),
            ("repeat buyers", 10, 10),
            ("loyal repeat buyers", 10, 10),
        ]
    );
    assert_eq!(view.segments.iter().map(|s| s.size).sum::<u32>(), 30);
    let loyal = &view.segments[2];
    // Each owns c1, c2 and c3: those are typical, and c4 is what is left to offer them.
    let typical: Vec<&str> = loyal
        .typical_courses
        .iter()
        .map(|c| c.course_id.as_str())
        .collect();
    assert_eq!(typical, ["c1", "c2", "c3"]);
    let next: Vec<(&str, u32)> = loyal
        .next_courses
        .iter()
        .map(|c| (c.course_id.as_str(), c.members))
        .collect();
    // Nobody bought c4 yet, so it is suggested to nobody: only courses someone bought are.
    assert_eq!(next, []);
    let repeat = &view.segments[1];
    let next: Vec<(&str, u32)> = repeat
        .next_courses
        .iter()
        .map(|c| (c.course_id.as_str(), c.members))
        .collect();
    assert_eq!(
        next,
        [("c3", 10)],
        "the school's next course for c1+c2 owners"
    );
    // Never bought: every course anyone bought, the school's most owned first.
    let never: Vec<&str> = view.segments[0]
        .next_courses
        .iter()
        .map(|c| c.course_id.as_str())
        .collect();
    assert_eq!(never, ["c1", "c2", "c3"]);
    // 90-day repurchase: the `a*` bought again 28 days after their first purchase, the `r*`
    // 42 days after theirs.
    assert_eq!(loyal.repurchase_90d.eligible, 10);
    assert_eq!(loyal.repurchase_90d.rate, Some(1.0));
}

#[tokio::test]
async fn names_are_kept_when_purchases_are_added_and_rows_come_in_another_order() {
    let dir = tempfile::tempdir().unwrap();
    let (studio, store) = school(dir.path(), false, false).await;
    let first = studio.audience_segments(NoArgs {}).await.unwrap();
    assert!(
        store.setting(SEGMENTS_SETTING).await.unwrap().is_some(),
        "the segmentation is kept in the school file"
    );
    let before = names(&store).await;
    assert!(of_kind(&before, 'r').iter().all(|n| *n == "repeat buyers"));

    // The same rows in the reverse order, in another school file: the same segments.
    let other_dir = tempfile::tempdir().unwrap();
    let (other, other_store) = school(other_dir.path(), true, false).await;
    let reordered = other.audience_segments(NoArgs {}).await.unwrap();
    assert_eq!(reordered, first);
    assert_eq!(names(&other_store).await, before);

    // Twenty days later, three `a*` learners bought again. The `r*` learners' last purchase
    // is now 190 days old: read afresh, the rules would call them lapsed...
    import(&store, ImportKind::Purchases, LATER).await;
    let fresh_dir = tempfile::tempdir().unwrap();
    let (fresh, fresh_store) = school(fresh_dir.path(), true, true).await;
    let fresh_view = fresh.audience_segments(NoArgs {}).await.unwrap();
    assert_eq!(fresh_view.as_of, "2025-09-21");
    let fresh_names = names(&fresh_store).await;
    assert!(
        of_kind(&fresh_names, 'r')
            .iter()
            .all(|n| *n == "lapsed repeat buyers"),
        "{fresh_names:?}"
    );

    // ...but the school that had segments keeps their names: they barely moved.
    let second = studio.audience_segments(NoArgs {}).await.unwrap();
    assert_eq!(second.as_of, "2025-09-21");
    let after = names(&store).await;
    assert!(
        of_kind(&after, 'r').iter().all(|n| *n == "repeat buyers"),
        "{after:?}"
    );
    assert!(
        of_kind(&after, 'n').iter().all(|n| *n == "never bought"),
        "{after:?}"
    );
    // The `a*` split (three bought a fourth course): one part keeps "loyal repeat buyers",
    // the other gets a name of its own.
    let loyal: Vec<&str> = of_kind(&after, 'a');
    assert!(loyal.contains(&"loyal repeat buyers"), "{after:?}");
    assert_eq!(second.segments.len(), 4, "{second:?}");
    assert_eq!(second.names_kept, 3, "{second:?}");
    assert_eq!(second.segments.iter().map(|s| s.size).sum::<u32>(), 30);
}

#[tokio::test]
async fn a_segment_s_audience_is_its_learners_and_the_viewers_linked_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let (studio, store) = school(dir.path(), false, false).await;
    let loyal = segment_audience(&store, "loyal repeat buyers")
        .await
        .unwrap();
    let expected: Vec<String> = (0..10).map(|i| format!("a{i:02}")).collect();
    assert_eq!(loyal.learners, expected);
    // The two checkout codes named these viewers as the learners who paid.
    assert_eq!(loyal.viewers, ["v-000000a0", "v-000000a1"]);
    assert_eq!(loyal.today, 20_332, "2025-09-01");

    let never = studio.segment_audience("never bought").await.unwrap();
    assert_eq!(never.learners.len(), 10);
    assert!(never.learners.iter().all(|l| l.starts_with('n')));
    assert!(never.viewers.is_empty());

    let missing = segment_audience(&store, "big spenders").await.unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound);
    assert!(
        missing.message.contains("\"loyal repeat buyers\""),
        "{}",
        missing.message
    );
}

#[tokio::test]
async fn repurchase_shows_each_window_with_its_own_denominator() {
    let dir = tempfile::tempdir().unwrap();
    let (studio, _store) = school(dir.path(), false, false).await;
    let view = studio.audience_repurchase(NoArgs {}).await.unwrap();
    assert_eq!(view.buyers, 20);
    assert_eq!(view.last_purchase.as_deref(), Some("2025-09-01"));
    // Every buyer's first purchase (2025-02-01) is 212 days before the last day: all 20 are
    // eligible for every window. The `a*` bought again after 28 days, the `r*` after 42.
    let overall: Vec<(u32, u32, Option<u32>)> = view
        .overall
        .iter()
        .map(|r| (r.window_days, r.eligible, r.repurchased))
        .collect();
    assert_eq!(
        overall,
        [(30, 20, Some(10)), (90, 20, Some(20)), (180, 20, Some(20))]
    );
    // c3 was bought on the last day: nobody who bought it is eligible, so no rate is shown.
    let c3 = view
        .per_course
        .iter()
        .find(|c| c.course_id == "c3")
        .unwrap();
    assert_eq!(
        (c3.buyers, c3.rates[0].eligible, c3.rates[0].rate),
        (10, 0, None)
    );
    // One cohort (2025-02), 20 learners: all active in month 0, the `a*` in month 1 (March),
    // the `r*` too (March 15), nobody in months 2 to 6, the `a*` in month 7 (September).
    assert_eq!(view.cohorts.len(), 1);
    let cohort = &view.cohorts[0];
    assert_eq!((cohort.month.as_str(), cohort.learners), ("2025-02", 20));
    assert_eq!(
        cohort.shares,
        [
            Some(1.0),
            Some(1.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
            Some(0.0),
            Some(0.5)
        ]
    );
    // Nobody attended a class: the attendees' side has nobody, so no difference is shown,
    // and it is labelled for what it is.
    assert_eq!(view.attendance.attended.eligible, 0);
    assert_eq!(view.attendance.difference, None);
    assert_eq!(
        view.attendance.label,
        "observed difference, not a causal effect"
    );
}

/// An offer pushed to one segment in a live class: the studio hands the room the segment's
/// linked viewers, and the card reaches them only (the demo school, whose viewers are linked
/// to learners by join link and email).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_for_one_segment_reaches_its_linked_viewers_only() {
    use lectern_engine::api::{LiveStatus, StartClass};
    use lectern_engine::audience::OfferAudienceArgs;
    use lectern_room::{Action, Event, Input, Role, ViewerId};

    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    // No class on air: nothing to prepare.
    let refused = studio
        .offer_audience(OfferAudienceArgs {
            segment: "anything".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, lectern_engine::ErrorCode::Conflict);

    let segments = studio
        .audience_segments(lectern_engine::api::NoArgs {})
        .await
        .unwrap();
    let mut chosen = None;
    for segment in &segments.segments {
        let found = studio.segment_audience(&segment.name).await.unwrap();
        if !found.viewers.is_empty() {
            chosen = Some(found);
            break;
        }
    }
    let chosen = chosen.expect("a demo segment with linked viewers");

    let live = studio
        .start_class(StartClass {
            title: "For one segment".into(),
            course_id: None,
            instructor: None,
            record: Some(false),
        })
        .await
        .unwrap();
    assert!(matches!(live, LiveStatus::Live { .. }));
    let room = studio.live_room().await.unwrap();
    let join = |viewer: &str, role| Input::Join {
        viewer: ViewerId::from(viewer),
        role,
        name: viewer.to_owned(),
        fingerprint: None,
    };
    room.submit(join("prof", Role::Instructor)).await.unwrap();
    let unknown = studio
        .offer_audience(OfferAudienceArgs {
            segment: "no such segment".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code, lectern_engine::ErrorCode::NotFound);
    let ready = studio
        .offer_audience(OfferAudienceArgs {
            segment: chosen.segment.clone(),
        })
        .await
        .unwrap();
    // The members as of now (what the room was told).
    let now = studio.segment_audience(&chosen.segment).await.unwrap();
    assert_eq!(ready.viewers, now.viewers.len() as u64);
    assert_eq!(ready.learners, now.learners.len() as u64);
    let member = now.viewers[0].clone();
    let outsider = "v-0000000000000000outs".to_owned();
    assert!(!now.viewers.contains(&outsider));

    let mut spec: lectern_room::OfferSpec = serde_json::from_value(crate::attribution::spec(
        "c1",
        "for-segment",
        serde_json::json!([{"name": "A", "weight": 1.0}]),
    ))
    .unwrap();
    spec.audience = Some(chosen.segment.clone());
    room.submit(Input::Act {
        viewer: ViewerId::from("prof"),
        client_id: None,
        action: Action::PushOffer {
            spec: Box::new(spec),
        },
    })
    .await
    .unwrap();
    // Students arrive: the member gets the card as they join, the outsider does not.
    let cards = |submitted: lectern_engine::live::Submitted| -> Vec<String> {
        submitted
            .deliveries
            .iter()
            .filter_map(|d| match &d.record.event {
                Event::OfferShown { viewer, .. } => Some(viewer.0.clone()),
                _ => None,
            })
            .collect()
    };
    let to_member = cards(room.submit(join(&member, Role::Viewer)).await.unwrap());
    assert_eq!(to_member, vec![member]);
    let to_outsider = cards(room.submit(join(&outsider, Role::Viewer)).await.unwrap());
    assert_eq!(
        to_outsider,
        Vec::<String>::new(),
        "no card outside the segment"
    );
    studio.close().await.unwrap();
}
