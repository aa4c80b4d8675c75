//! The demo school read the way the studio reads a real school: its experiments convert, and
//! attending a class changes what people buy, both found through the one viewer-to-learner map
//! (the demo's log names viewers, never learners).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lectern_engine::experiments::OfferResultsArgs;
use lectern_engine::{SchoolSource, Studio, StudioOptions};

const DAY: i64 = 86_400_000;

async fn demo() -> (tempfile::TempDir, Studio) {
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::open(StudioOptions::new(dir.path(), SchoolSource::Demo))
        .await
        .unwrap();
    (dir, studio)
}

#[tokio::test]
async fn the_demo_s_experiments_show_conversions() {
    let (_dir, studio) = demo().await;
    let listed = studio
        .experiments(lectern_engine::api::NoArgs {})
        .await
        .unwrap();
    // A few experiments, each the offer of one course across the classes that offered it.
    assert!((3..=8).contains(&listed.len()), "{listed:#?}");
    assert!(listed.iter().any(|e| e.sessions >= 3), "{listed:#?}");
    let mut converted = 0;
    for entry in &listed {
        assert_eq!(entry.variants, ["A", "B"], "{entry:?}");
        let results = studio
            .offer_results(OfferResultsArgs {
                experiment: entry.experiment.clone(),
                window_days: None,
            })
            .await
            .unwrap();
        assert_eq!(results.sessions, entry.sessions, "{results:?}");
        let exposed: u64 = results.variants.iter().map(|v| v.exposed).sum();
        let sum: u64 = results.variants.iter().map(|v| v.converted).sum();
        assert_eq!((exposed, sum), (entry.exposed, entry.converted));
        // Both arms are shown, about half and half.
        for v in &results.variants {
            assert!(v.exposed * 10 >= exposed * 3, "{}: {v:?}", entry.experiment);
            assert!(v.converted <= v.clicked + v.exposed, "{v:?}");
        }
        eprintln!(
            "{}: {} sessions, {}",
            entry.experiment,
            entry.sessions,
            results
                .variants
                .iter()
                .map(|v| format!(
                    "{} {}/{} clicked {}",
                    v.name, v.converted, v.exposed, v.clicked
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        eprintln!("  {}", entry.summary);
        converted += sum;
    }
    // Before, no demo purchase could be attributed (its codes were not the room's): 0 of all.
    assert!(converted >= 40, "{converted} conversions in {listed:#?}");
    // The best-read experiment has buyers in both arms.
    let best = listed.iter().max_by_key(|e| e.converted).unwrap();
    let results = studio
        .offer_results(OfferResultsArgs {
            experiment: best.experiment.clone(),
            window_days: None,
        })
        .await
        .unwrap();
    assert!(
        results.variants.iter().all(|v| v.converted >= 3),
        "{results:#?}"
    );
    // Some of those conversions come from reference codes the room made: they name a viewer.
    let identities = studio.identities().await.unwrap();
    assert!(
        identities.len() > 500,
        "{} viewers matched",
        identities.len()
    );
}

#[tokio::test]
async fn attending_a_class_changes_buying() {
    let (_dir, studio) = demo().await;
    let store = studio.store().await.unwrap();
    let identities = studio.identities().await.unwrap();
    let spans = store.session_spans().await.unwrap();
    let activity = store.activity().await.unwrap();
    let purchases = store.purchase_history().await.unwrap();
    let (tracks, joined): (HashMap<String, String>, Vec<(String, i64)>) = store
        .read(|conn| {
            let mut stmt = conn.prepare("SELECT id, track FROM courses")?;
            let tracks = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut stmt = conn.prepare("SELECT id, joined_at_ms FROM learners")?;
            let joined = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok((tracks, joined))
        })
        .await
        .unwrap();
    // Who attended each class, as learners.
    let mut attendees: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for e in &activity {
        if e.kind == "viewer_joined"
            && let Some(learner) = e.actor.as_deref().and_then(|a| identities.learner(a))
        {
            attendees
                .entry(e.session_id)
                .or_default()
                .insert(learner.to_owned());
        }
    }
    let mut bought: HashMap<&str, Vec<(&str, i64)>> = HashMap::new();
    for p in &purchases {
        bought
            .entry(p.learner_id.as_str())
            .or_default()
            .push((p.course_id.as_str(), p.purchased_at_ms));
    }
    // Among learners who already owned a course of the class's track and not the class's course:
    // the share who bought the class's course in the 14 days after it, attendees vs the rest.
    let (mut came, mut came_bought, mut away, mut away_bought) = (0u32, 0u32, 0u32, 0u32);
    for s in &spans {
        let (Some(course), Some(end)) = (s.course_id.as_deref(), s.ended_at_ms) else {
            continue;
        };
        let track = &tracks[course];
        let present = attendees.get(&s.id).cloned().unwrap_or_default();
        for (learner, joined_at) in &joined {
            let history = bought.get(learner.as_str()).map_or(&[][..], |v| &v[..]);
            let before = |at: i64| history.iter().filter(move |(_, t)| *t < at);
            let of_track = before(s.started_at_ms).any(|(c, _)| &tracks[*c] == track);
            let owns = before(s.started_at_ms).any(|(c, _)| *c == course);
            if *joined_at >= s.started_at_ms || !of_track || owns {
                continue;
            }
            let buys = history
                .iter()
                .any(|(c, t)| *c == course && *t >= s.started_at_ms && *t < end + 14 * DAY);
            if present.contains(learner) {
                came += 1;
                came_bought += u32::from(buys);
            } else {
                away += 1;
                away_bought += u32::from(buys);
            }
        }
    }
    let rate = |n: u32, of: u32| f64::from(n) / f64::from(of.max(1));
    let (came_rate, away_rate) = (rate(came_bought, came), rate(away_bought, away));
    eprintln!(
        "attended: {came_bought}/{came} ({came_rate:.3}); did not: {away_bought}/{away} ({away_rate:.3})"
    );
    assert!(came >= 300 && came_bought >= 30, "{came_bought}/{came}");
    assert!(
        came_rate > 3.0 * away_rate,
        "attendees {came_rate:.3} vs the others {away_rate:.3}"
    );
}
