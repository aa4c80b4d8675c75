//! The school generator: deterministic, its knobs do what they say, and its CSV is what the
//! store's importer reads (the rules of `crates/store/src/import.rs`, checked here field by field).

use std::collections::{BTreeMap, BTreeSet};

use lectern_insights::school_gen::{School, SchoolShape};

fn small(shape: SchoolShape) -> SchoolShape {
    SchoolShape {
        learners: 400,
        ..shape
    }
}

#[test]
fn a_seed_gives_the_same_school_and_another_seed_another() {
    let a = School::generate(&small(SchoolShape::tag_led(1)));
    assert_eq!(a, School::generate(&small(SchoolShape::tag_led(1))));
    assert_ne!(a, School::generate(&small(SchoolShape::tag_led(2))));
    assert_eq!(
        a.to_csv(),
        School::generate(&small(SchoolShape::tag_led(1))).to_csv()
    );
}

/// Splits a CSV line the generator wrote (it quotes nothing it does not have to).
fn fields(line: &str) -> Vec<&str> {
    assert!(!line.contains('"'), "{line}");
    line.split(',').collect()
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

fn is_money(s: &str) -> bool {
    let Some((whole, cents)) = s.split_once('.') else {
        return false;
    };
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && cents.len() == 2
        && cents.bytes().all(|b| b.is_ascii_digit())
}

/// `2025-03-04T10:20:30Z`.
fn is_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
}

#[test]
fn the_csv_files_are_in_the_import_formats() {
    for shape in [
        SchoolShape::tag_led(3),
        SchoolShape::bundled(3),
        SchoolShape::catalog_tracks(3),
    ] {
        let school = School::generate(&small(shape));
        let csv = school.to_csv();
        let mut catalog = csv.catalog.lines();
        assert_eq!(
            catalog.next(),
            Some("id,title,tags,level,price,length,currency,track,launched")
        );
        let mut ids = BTreeSet::new();
        for line in catalog {
            let f = fields(line);
            assert_eq!(f.len(), 9, "{line}");
            assert!(is_id(f[0]) && ids.insert(f[0]), "{line}");
            assert!(!f[1].is_empty() && f[1].chars().count() <= 200, "{line}");
            assert!(!f[1].starts_with(['=', '+', '-', '@']), "{line}");
            let tags: Vec<&str> = f[2].split(';').collect();
            assert!(!tags.is_empty() && tags.len() <= 20, "{line}");
            assert!(
                tags.iter()
                    .all(|t| !t.is_empty() && t.len() <= 40 && *t == t.to_lowercase()),
                "{line}"
            );
            assert!(
                ["beginner", "intermediate", "advanced"].contains(&f[3]),
                "{line}"
            );
            assert!(is_money(f[4]), "{line}");
            let minutes: u32 = f[5].parse().unwrap();
            assert!((1..=100_000).contains(&minutes), "{line}");
            assert_eq!(f[6], "USD");
        }
        let mut learners = csv.learners.lines();
        assert_eq!(learners.next(), Some("id,joined"));
        let mut known = BTreeSet::new();
        for line in learners {
            let f = fields(line);
            assert!(f.len() == 2 && is_id(f[0]) && is_utc(f[1]), "{line}");
            known.insert(f[0]);
        }
        let mut purchases = csv.purchases.lines();
        assert_eq!(
            purchases.next(),
            Some("order_id,learner,course,date,amount,currency")
        );
        let mut orders = BTreeSet::new();
        let mut rows = 0;
        for line in purchases {
            let f = fields(line);
            assert_eq!(f.len(), 6, "{line}");
            assert!(is_id(f[0]) && orders.insert(f[0]), "{line}");
            assert!(known.contains(f[1]), "{line}");
            assert!(ids.contains(f[2]), "{line}");
            assert!(is_utc(f[3]) && is_money(f[4]) && f[5] == "USD", "{line}");
            rows += 1;
        }
        assert_eq!(rows, school.purchases.len());
        assert!(rows > 500, "{rows} purchases");
    }
}

#[test]
fn nothing_is_bought_before_its_launch_and_launches_are_late() {
    let shape = small(SchoolShape {
        launches: 0.5,
        ..SchoolShape::tag_led(4)
    });
    let school = School::generate(&shape);
    let launched: BTreeMap<&str, i64> = school
        .courses
        .iter()
        .map(|c| (c.id.as_str(), c.launched_ms))
        .collect();
    let late: Vec<i64> = launched
        .values()
        .copied()
        .filter(|&t| t > shape.start_ms)
        .collect();
    assert!(late.len() >= school.courses.len() / 4, "{late:?}");
    let span = i64::from(shape.days) * 86_400_000;
    assert!(late.iter().all(|&t| t >= shape.start_ms + span / 2));
    for p in &school.purchases {
        assert!(p.at_ms >= launched[p.course.as_str()], "{p:?}");
    }
    assert!(
        school
            .purchases
            .iter()
            .any(|p| launched[p.course.as_str()] > shape.start_ms),
        "launched courses sell"
    );
}

/// Share of a learner's consecutive purchases (on different days) that stay in one track.
fn in_track_share(school: &School) -> f64 {
    let track: BTreeMap<&str, &str> = school
        .courses
        .iter()
        .map(|c| (c.id.as_str(), c.track.as_str()))
        .collect();
    let mut by_learner: BTreeMap<&str, Vec<(i64, &str)>> = BTreeMap::new();
    for p in &school.purchases {
        by_learner
            .entry(p.learner.as_str())
            .or_default()
            .push((p.at_ms, p.course.as_str()));
    }
    let (mut same, mut all) = (0.0, 0.0);
    for history in by_learner.values() {
        for w in history.windows(2) {
            if w[1].0 - w[0].0 >= 86_400_000 {
                all += 1.0;
                if track[w[0].1] == track[w[1].1] {
                    same += 1.0;
                }
            }
        }
    }
    same / all
}

#[test]
fn the_in_track_knob_sets_how_often_learners_stay_in_their_track() {
    let walk = |in_track: f64| SchoolShape {
        in_track,
        bundles: 0.0,
        tag_affinity: 0.0,
        ..small(SchoolShape::tag_led(5))
    };
    let high = in_track_share(&School::generate(&walk(0.9)));
    let low = in_track_share(&School::generate(&walk(0.0)));
    assert!(high > 0.6, "{high}");
    assert!(low < 0.25, "{low}");
}

#[test]
fn ids_follow_the_tracks_only_when_asked() {
    // Catalog order is id order (as the store lists it): with tracks in catalog order, each
    // track's courses are adjacent and in order; with random ids they are scattered.
    let adjacent = |school: &School| {
        let tracks: Vec<&str> = school.courses.iter().map(|c| c.track.as_str()).collect();
        tracks.windows(2).filter(|w| w[0] == w[1]).count() as f64 / (tracks.len() - 1) as f64
    };
    let ordered = School::generate(&small(SchoolShape::catalog_tracks(6)));
    let shuffled = School::generate(&small(SchoolShape::tag_led(6)));
    assert!(adjacent(&ordered) > 0.7, "{}", adjacent(&ordered));
    assert!(adjacent(&shuffled) < 0.3, "{}", adjacent(&shuffled));
    assert_eq!(ordered.courses[0].level, "beginner");
}

#[test]
fn bundles_are_bought_in_one_visit() {
    let visits = |bundles: f64| {
        let school = School::generate(&SchoolShape {
            bundles,
            in_track: 0.0,
            tag_affinity: 0.0,
            ..small(SchoolShape::bundled(8))
        });
        // Purchases within an hour of the learner's previous one.
        let mut last: BTreeMap<&str, i64> = BTreeMap::new();
        let mut close = 0usize;
        for p in &school.purchases {
            if let Some(&t) = last.get(p.learner.as_str())
                && p.at_ms - t < 3_600_000
            {
                close += 1;
            }
            last.insert(p.learner.as_str(), p.at_ms);
        }
        close as f64 / school.purchases.len() as f64
    };
    let (many, none) = (visits(0.8), visits(0.0));
    assert!(many > 0.3, "{many}");
    assert!(none < 0.02, "{none}");
}
