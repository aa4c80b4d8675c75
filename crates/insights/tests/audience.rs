//! The audience measures: repurchase and cohorts against answers worked out by hand, and segments
//! that hold under recomputation, re-ordering and schools this project did not shape itself.

use lectern_insights::audience::cohorts::cohort_table;
use lectern_insights::audience::repurchase::{
    by_attendance, per_course, repurchase_rates, repurchase_report,
};
use lectern_insights::audience::segments::{
    SegmentCentroid, SegmentInput, SegmentOptions, Segmentation, match_previous, segment,
};
use lectern_insights::audience::{Attendance, Learner, Purchase, day_of_ms};
use lectern_insights::recs::CourseInfo;
use lectern_insights::school_gen::{School, SchoolShape};

/// 2026-01-01 as days since 1970-01-01 (2026-11-01 is 20_758, and January to October hold 304
/// days). Day offsets below: Jan 1 = 0, Feb 1 = 31, Apr 1 = 90, May 1 = 120, Jul 1 = 181,
/// Aug 1 = 212, Oct 1 = 273.
const JAN_1: i64 = 20_454;

fn line(learner: &str, order: &str, course: &str, day: i64) -> Purchase {
    Purchase {
        learner: learner.into(),
        course: course.into(),
        order: order.into(),
        day: JAN_1 + day,
        amount_cents: 5_000,
    }
}

/// The small school:
/// - A buys c1 on day 0 (Jan 1), c2 on day 20 (Jan 21), c3 on day 100 (Apr 11);
/// - B buys c1 and c2 on day 0 in two orders (one visit), then c3 on day 150 (May 31);
/// - C buys c1 and c2 on day 10 (Jan 11) as two lines of ONE order, nothing else;
/// - D buys c2 on day 40 (Feb 10, date-only) and c3 the same day in another order, then c1 on
///   day 120 (May 1);
/// - E buys c1 on day 200 (Jul 20) and c2 on day 215 (Aug 4);
/// - F buys c3 on day 300 (Oct 28): the school's last purchase day.
fn small_school() -> Vec<Purchase> {
    vec![
        line("A", "o1", "c1", 0),
        line("A", "o2", "c2", 20),
        line("A", "o3", "c3", 100),
        line("B", "o4", "c1", 0),
        line("B", "o5", "c2", 0),
        line("B", "o6", "c3", 150),
        line("C", "o7", "c1", 10),
        line("C", "o7", "c2", 10),
        line("D", "o8", "c2", 40),
        line("D", "o9", "c3", 40),
        line("D", "o10", "c1", 120),
        line("E", "o11", "c1", 200),
        line("E", "o12", "c2", 215),
        line("F", "o13", "c3", 300),
    ]
}

fn counts(rates: &[lectern_insights::audience::repurchase::RepurchaseRate]) -> Vec<(u32, u32)> {
    rates.iter().map(|r| (r.repurchased, r.eligible)).collect()
}

#[test]
fn repurchase_rates_by_hand() {
    // The last purchase day is 300.
    // 30 days: eligible = first purchase on or before day 270: A, B, C, D, E (F's is day 300).
    //   A: day 20 is 20 days after day 0: yes. B: day 150 is 150 days later: no (its second
    //   order on day 0 is the same visit). C: two lines of one order: no. D: the second order on
    //   day 40 is the same day; day 120 is 80 days later: no. E: 15 days: yes. -> 2 / 5.
    // 90 days: eligible = first on or before day 210: the same five (E's 200 <= 210).
    //   A yes, B no (150), C no, D yes (80), E yes (15). -> 3 / 5.
    // 180 days: eligible = first on or before day 120: A, B, C, D (E's 200 > 120).
    //   A yes, B yes (150 <= 180), C no, D yes. -> 3 / 4.
    let rates = repurchase_rates(&small_school(), &[30, 90, 180]);
    assert_eq!(counts(&rates), vec![(2, 5), (3, 5), (3, 4)]);
    assert_eq!(rates[0].rate(), Some(0.4));
    assert_eq!(rates[1].rate(), Some(0.6));
    assert_eq!(rates[2].rate(), Some(0.75));
    assert_eq!(rates[1].shown(), "0.6000");

    // The order of the rows changes nothing.
    let mut reversed = small_school();
    reversed.reverse();
    assert_eq!(repurchase_rates(&reversed, &[30, 90, 180]), rates);
}

#[test]
fn repurchase_per_course_by_hand() {
    let courses = per_course(&small_school(), &[90]);
    let ids: Vec<&str> = courses.iter().map(|c| c.course.as_str()).collect();
    assert_eq!(ids, ["c1", "c2", "c3"]);
    // c1: bought by A (day 0), B (0), C (10), D (120), E (200): all on or before day 210.
    //   Another order within 90 days after buying c1: A (day 20) yes; B (150) no; C no;
    //   D: nothing after day 120: no; E (215) yes. -> 2 / 5.
    assert_eq!(courses[0].buyers, 5);
    assert_eq!(counts(&courses[0].rates), vec![(2, 5)]);
    // c2: A (day 20), B (0), C (10), D (40), E (215: after day 210, not eligible).
    //   A: day 100 is 80 days later: yes. B: no. C: no. D: day 120 is 80 days later: yes. -> 2 / 4.
    assert_eq!(courses[1].buyers, 5);
    assert_eq!(counts(&courses[1].rates), vec![(2, 4)]);
    // c3: A (100), B (150), D (40), F (300, not eligible).
    //   A: nothing after 100: no. B: nothing after 150: no. D: day 120: yes. -> 1 / 3.
    assert_eq!(courses[2].buyers, 4);
    assert_eq!(counts(&courses[2].rates), vec![(1, 3)]);
}

#[test]
fn attendees_against_the_others_by_hand() {
    let attendance = [
        Attendance {
            learner: "A".into(),
            classes: 2,
            engagement: 60.0,
        },
        Attendance {
            learner: "D".into(),
            classes: 1,
            engagement: 40.0,
        },
        Attendance {
            learner: "F".into(),
            classes: 1,
            engagement: 80.0,
        },
        // A viewer who never bought: not a buyer, in neither group.
        Attendance {
            learner: "G".into(),
            classes: 3,
            engagement: 90.0,
        },
    ];
    // 90 days, eligible A, B, C, D, E (F is too recent).
    // Attended: A (yes), D (yes) -> 2 / 2. Never attended: B no, C no, E yes -> 1 / 3.
    let cmp = by_attendance(&small_school(), &attendance, 90);
    assert_eq!((cmp.attended.repurchased, cmp.attended.eligible), (2, 2));
    assert_eq!(
        (cmp.never_attended.repurchased, cmp.never_attended.eligible),
        (1, 3)
    );
    let difference = cmp.difference.unwrap();
    assert!((difference - 2.0 / 3.0).abs() < 1e-12);
    let [low, high] = cmp.difference_interval.unwrap();
    assert!(low < difference && difference < high && low > -1.0 && high <= 1.0);
    assert!(cmp.caveat.contains("not the effect"));

    let report = repurchase_report(&small_school(), &attendance);
    assert_eq!(report.buyers, 6);
    assert_eq!(report.last_day, Some(JAN_1 + 300));
    assert_eq!(counts(&report.overall), vec![(2, 5), (3, 5), (3, 4)]);
}

#[test]
fn cohorts_by_hand() {
    let table = cohort_table(&small_school());
    let months: Vec<&str> = table.cohorts.iter().map(|c| c.month.as_str()).collect();
    // First purchases: A, B, C in January; D in February; E in July; F in October.
    assert_eq!(months, ["2026-01", "2026-02", "2026-07", "2026-10"]);
    // Ten columns: January (month 0) to October (month 9), the last purchase month.
    // January: A buys again in April (month 3), B in May (month 4), C never.
    assert_eq!(table.cohorts[0].learners, 3);
    let observed = |v: &[u32]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
    assert_eq!(
        table.cohorts[0].active,
        observed(&[3, 0, 0, 1, 1, 0, 0, 0, 0, 0])
    );
    // February: D buys again on May 1 (month 3); November (month 9) is not observed.
    let mut feb = observed(&[1, 0, 0, 1, 0, 0, 0, 0, 0]);
    feb.push(None);
    assert_eq!(table.cohorts[1].active, feb);
    // July: E buys again in August (month 1); months 4-9 (November on) are not observed.
    let mut jul = observed(&[1, 1, 0, 0]);
    jul.extend([None; 6]);
    assert_eq!(table.cohorts[2].active, jul);
    // October: F, only month 0 observed.
    let mut oct = observed(&[1]);
    oct.extend([None; 9]);
    assert_eq!(table.cohorts[3].active, oct);

    let csv = table.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "cohort,learners,month_0,month_1,month_2,month_3,month_4,month_5,month_6,month_7,month_8,month_9"
    );
    assert_eq!(
        lines[1],
        "2026-01,3,1.0000,0.0000,0.0000,0.3333,0.3333,0.0000,0.0000,0.0000,0.0000,0.0000"
    );
    assert_eq!(lines[4], "2026-10,1,1.0000,,,,,,,,,");
}

#[test]
fn no_purchases_and_one_learner() {
    let rates = repurchase_rates(&[], &[30, 90, 180]);
    assert!(rates.iter().all(|r| r.eligible == 0 && r.rate().is_none()));
    assert_eq!(rates[0].shown(), "NA");
    assert!(cohort_table(&[]).cohorts.is_empty());
    assert_eq!(cohort_table(&[]).to_csv(), "cohort,learners,month_0\n");
    assert!(per_course(&[], &[90]).is_empty());

    // One learner, one purchase: it is the last day, so nobody is eligible.
    let one = [line("A", "o1", "c1", 0)];
    assert_eq!(counts(&repurchase_rates(&one, &[90])), vec![(0, 0)]);
    // One learner who buys on day 0 and day 100: eligible at 90 days, and bought again late.
    let two = [line("A", "o1", "c1", 0), line("A", "o2", "c2", 100)];
    assert_eq!(counts(&repurchase_rates(&two, &[90])), vec![(0, 1)]);
    assert_eq!(counts(&repurchase_rates(&two, &[100])), vec![(1, 1)]);
}

// ---- Segments ----

fn courses() -> Vec<CourseInfo> {
    ["c1", "c2", "c3"]
        .iter()
        .map(|id| CourseInfo {
            id: (*id).into(),
            title: format!("Course {id}"),
            tags: vec![format!("tag-{id}")],
        })
        .collect()
}

fn segment_with(
    courses: &[CourseInfo],
    learners: &[Learner],
    purchases: &[Purchase],
    attendance: &[Attendance],
    today: i64,
    previous: &[SegmentCentroid],
) -> Segmentation {
    segment(&SegmentInput {
        courses,
        learners,
        purchases,
        attendance,
        today,
        previous,
        options: &SegmentOptions::default(),
    })
}

/// Every learner's segment name, by id.
fn assignment(s: &Segmentation, learners: &[Learner]) -> Vec<(String, String)> {
    let mut ids: Vec<&str> = learners.iter().map(|l| l.id.as_str()).collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| {
            (
                id.to_owned(),
                s.segment_of(id).map(|g| g.name.clone()).unwrap_or_default(),
            )
        })
        .collect()
}

fn sizes(s: &Segmentation) -> Vec<(String, u32)> {
    s.segments
        .iter()
        .map(|g| (g.name.clone(), g.size))
        .collect()
}

#[test]
fn segments_edge_cases() {
    let today = JAN_1 + 300;
    // No learners: no segments.
    let none = segment_with(&courses(), &[], &[], &[], today, &[]);
    assert!(none.segments.is_empty());
    assert_eq!(none.learners(), 0);

    // A school with learners but no purchases.
    let learners: Vec<Learner> = (0..20)
        .map(|i| Learner {
            id: format!("l{i:02}"),
            joined_day: JAN_1 + i * 10,
        })
        .collect();
    let attendance: Vec<Attendance> = (0..5)
        .map(|i| Attendance {
            learner: format!("l{i:02}"),
            classes: 3,
            engagement: 70.0,
        })
        .collect();
    let s = segment_with(&courses(), &learners, &[], &attendance, today, &[]);
    assert_eq!(s.segments.iter().map(|g| g.size).sum::<u32>(), 20);
    assert!(s.segments.iter().all(|g| g.buyers == 0));
    assert!(
        s.segments
            .iter()
            .all(|g| g.name.contains("never bought") || g.name.contains("not bought yet")),
        "{:?}",
        sizes(&s)
    );
    assert!(
        s.segment_of("l00")
            .unwrap()
            .name
            .starts_with("engaged, never bought")
    );
    assert!(
        s.segment_of("l19")
            .unwrap()
            .name
            .starts_with("never bought")
    );
    // Nobody in their segment bought anything: next courses come from the school (none here).
    assert!(s.next_courses("l00", 3).is_empty());

    // One learner.
    let one = [Learner {
        id: "solo".into(),
        joined_day: JAN_1,
    }];
    let s = segment_with(
        &courses(),
        &one,
        &[line("solo", "o1", "c1", 0)],
        &[],
        today,
        &[],
    );
    assert_eq!(sizes(&s), vec![("lapsed".to_owned(), 1)]);
    assert_eq!(s.next_courses("solo", 3), Vec::<&str>::new());

    // All learners identical: one segment holding everyone.
    let same: Vec<Learner> = (0..8)
        .map(|i| Learner {
            id: format!("s{i}"),
            joined_day: JAN_1,
        })
        .collect();
    let bought: Vec<Purchase> = (0..8)
        .flat_map(|i| {
            let id = format!("s{i}");
            [
                line(&id, &format!("a{i}"), "c1", 250),
                line(&id, &format!("b{i}"), "c2", 280),
            ]
        })
        .collect();
    let s = segment_with(&courses(), &same, &bought, &[], today, &[]);
    assert_eq!(sizes(&s), vec![("repeat buyers".to_owned(), 8)]);
    assert_eq!(s.segments[0].conversion, 1.0);
    // c3 was bought by nobody: there is nothing to go on, so it is not offered as next.
    assert!(s.next_courses("s3", 3).is_empty());
}

#[test]
fn segments_of_the_small_school() {
    let purchases = small_school();
    let mut learners: Vec<Learner> = ["A", "B", "C", "D", "E", "F"]
        .iter()
        .map(|id| Learner {
            id: (*id).into(),
            joined_day: JAN_1,
        })
        .collect();
    // G never bought but attends; H joined 5 days before "today".
    learners.push(Learner {
        id: "G".into(),
        joined_day: JAN_1,
    });
    learners.push(Learner {
        id: "H".into(),
        joined_day: JAN_1 + 295,
    });
    let attendance = [Attendance {
        learner: "G".into(),
        classes: 4,
        engagement: 85.0,
    }];
    let today = JAN_1 + 300;
    let s = segment_with(&courses(), &learners, &purchases, &attendance, today, &[]);
    assert_eq!(s.learners(), 8);
    assert_eq!(s.segments.iter().map(|g| g.size).sum::<u32>(), 8);
    assert_eq!(s.segments.iter().map(|g| g.buyers).sum::<u32>(), 6);
    let names: std::collections::BTreeSet<&str> =
        s.segments.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names.len(), s.segments.len(), "names are unique");
    // Each learner's next courses are courses they do not own.
    assert_eq!(
        s.next_courses("C", 5)
            .into_iter()
            .filter(|c| *c == "c1" || *c == "c2")
            .count(),
        0
    );
    // An unknown learner has no segment.
    assert!(s.segment_of("nobody").is_none());
}

/// A generated school as the audience cores take it.
fn generated(shape: &SchoolShape) -> (Vec<CourseInfo>, Vec<Learner>, Vec<Purchase>, i64) {
    let school = School::generate(shape);
    let learners: Vec<Learner> = school
        .learners
        .iter()
        .map(|l| Learner {
            id: l.id.clone(),
            joined_day: day_of_ms(l.joined_ms),
        })
        .collect();
    let purchases: Vec<Purchase> = school
        .purchases
        .iter()
        .map(|p| Purchase {
            learner: p.learner.clone(),
            course: p.course.clone(),
            order: p.order_id.clone(),
            day: day_of_ms(p.at_ms),
            amount_cents: p.amount_cents,
        })
        .collect();
    let today = purchases.iter().map(|p| p.day).max().unwrap_or(0);
    (school.course_infos(), learners, purchases, today)
}

/// Some learners of every second one attend classes, with varied engagement.
fn some_attendance(learners: &[Learner]) -> Vec<Attendance> {
    learners
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .map(|(i, l)| Attendance {
            learner: l.id.clone(),
            classes: (i % 7) as u32,
            engagement: (i * 37 % 100) as f64,
        })
        .collect()
}

/// A different order of the same rows: reversed, then rotated.
fn reordered<T: Clone>(rows: &[T]) -> Vec<T> {
    let mut out: Vec<T> = rows.iter().rev().cloned().collect();
    let n = out.len();
    if n > 0 {
        out.rotate_left(n / 3);
    }
    out
}

fn check_school(shape: &SchoolShape) {
    let (courses, learners, purchases, today) = generated(shape);
    let attendance = some_attendance(&learners);
    let first = segment_with(&courses, &learners, &purchases, &attendance, today, &[]);
    // Every learner has exactly one segment.
    assert_eq!(first.learners(), learners.len());
    assert_eq!(
        first
            .segments
            .iter()
            .map(|g| g.size as usize)
            .sum::<usize>(),
        learners.len()
    );
    assert!(first.segments.len() >= 2, "{:?}", sizes(&first));
    let names: std::collections::BTreeSet<&str> =
        first.segments.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names.len(), first.segments.len(), "{:?}", sizes(&first));

    // The same school with its rows in another order: the same segments, learner by learner.
    let again = segment_with(
        &reordered(&courses),
        &reordered(&learners),
        &reordered(&purchases),
        &reordered(&attendance),
        today,
        &[],
    );
    assert_eq!(again, first);

    // Recomputed with the previous centroids: the same names, learner by learner.
    let previous = first.centroids();
    let recomputed = segment_with(
        &courses,
        &learners,
        &purchases,
        &attendance,
        today,
        &previous,
    );
    assert_eq!(
        assignment(&recomputed, &learners),
        assignment(&first, &learners)
    );

    // Names the instructor gave (or an older naming) survive a recomputation.
    let renamed: Vec<SegmentCentroid> = previous
        .iter()
        .enumerate()
        .map(|(i, c)| SegmentCentroid {
            name: format!("group {i}"),
            centre: c.centre.clone(),
        })
        .collect();
    let kept = segment_with(
        &courses,
        &learners,
        &purchases,
        &attendance,
        today,
        &renamed,
    );
    let kept_names: Vec<&str> = kept.segments.iter().map(|g| g.name.as_str()).collect();
    let expected: Vec<String> = (0..renamed.len()).map(|i| format!("group {i}")).collect();
    assert_eq!(kept_names, expected);

    // A week later (the last week's learners and purchases held back): nine in ten learners or
    // more keep their segment's name.
    let earlier: Vec<Purchase> = purchases
        .iter()
        .filter(|p| p.day <= today - 7)
        .cloned()
        .collect();
    let joined_before: Vec<Learner> = learners
        .iter()
        .filter(|l| l.joined_day <= today - 7)
        .cloned()
        .collect();
    let before = segment_with(
        &courses,
        &joined_before,
        &earlier,
        &attendance,
        today - 7,
        &[],
    );
    let after = segment_with(
        &courses,
        &learners,
        &purchases,
        &attendance,
        today,
        &before.centroids(),
    );
    let (a, b) = (
        assignment(&before, &joined_before),
        assignment(&after, &joined_before),
    );
    let same = a.iter().zip(&b).filter(|(x, y)| x.1 == y.1).count();
    assert!(
        same * 10 >= joined_before.len() * 9,
        "{same} of {} kept their segment's name: {:?} then {:?}",
        joined_before.len(),
        sizes(&before),
        sizes(&after)
    );

    // Every segment's next courses are courses its learners do not own yet.
    for l in learners.iter().step_by(97) {
        let owned: Vec<&str> = purchases
            .iter()
            .filter(|p| p.learner == l.id)
            .map(|p| p.course.as_str())
            .collect();
        let next = first.next_courses(&l.id, 3);
        assert!(next.iter().all(|c| !owned.contains(c)));
    }
}

#[test]
fn segments_on_generated_schools() {
    for shape in [
        SchoolShape::tag_led(7),
        SchoolShape::shuffled_tracks(7),
        SchoolShape::bundled(7),
        SchoolShape::bundles_in_parts(7),
        SchoolShape::catalog_tracks(7),
    ] {
        check_school(&shape);
    }
}

#[test]
fn previous_names_match_by_distance() {
    let prev = |name: &str, centre: &[f64]| SegmentCentroid {
        name: name.into(),
        centre: centre.to_vec(),
    };
    let previous = [prev("a", &[0.0, 0.0]), prev("b", &[10.0, 10.0])];
    let spread = [1.0, 1.0];
    // The closest pairs first; a far centre and a centre of another length match nothing.
    let centres = vec![vec![9.5, 10.0], vec![0.2, 0.1], vec![5.0, 5.0]];
    assert_eq!(
        match_previous(&previous, &centres, &spread, 0.75),
        vec![Some(1), Some(0), None]
    );
    // Two centres near one previous segment: only the closer one keeps it.
    let centres = vec![vec![0.5, 0.0], vec![0.1, 0.0]];
    assert_eq!(
        match_previous(&previous, &centres, &spread, 0.75),
        vec![None, Some(0)]
    );
    assert_eq!(
        match_previous(&[prev("c", &[0.0])], &[vec![0.0, 0.0]], &spread, 0.75),
        vec![None]
    );
}

/// A segment is called "never bought" only when (almost) none of it bought: on the demo, a
/// cluster of engaged attendees where 48% had bought was named "engaged, never bought".
#[test]
fn a_segment_is_never_bought_only_when_it_never_bought() {
    use lectern_insights::audience::segments::{Traits, name_of};
    let traits = |buyers_share: f64, attended_share: f64| Traits {
        buyers_share,
        mean_visits: 0.5,
        mean_spent_cents: 1000.0,
        median_days_since_purchase: Some(20.0),
        new_share: 0.0,
        attended_share,
        mean_engagement: Some(60.0),
    };
    assert_eq!(name_of(&traits(0.0, 1.0)), "engaged, never bought");
    assert_eq!(name_of(&traits(0.48, 1.0)), "engaged, most never bought");
    assert_eq!(name_of(&traits(0.02, 0.0)), "never bought");
    assert_eq!(name_of(&traits(0.3, 0.0)), "most never bought");
}
