//! Recommendations on hand-made purchase histories whose right answers can be counted by hand.

use lectern_insights::recs::{
    CourseInfo, Method, PurchaseRecord, Reason, Recommender, TrainOptions, default_split, evaluate,
};

fn course(id: &str, tags: &[&str]) -> CourseInfo {
    CourseInfo {
        id: id.into(),
        title: format!("Course {id}"),
        tags: tags.iter().map(|t| (*t).into()).collect(),
    }
}

fn bought(learner: &str, course: &str, day: i64) -> PurchaseRecord {
    PurchaseRecord {
        learner: learner.into(),
        course: course.into(),
        at_ms: day * 86_400_000,
    }
}

/// A then B for four learners, A then C for one; D is new and shares A's topics; E is popular alone.
fn school() -> (Vec<CourseInfo>, Vec<PurchaseRecord>) {
    let courses = vec![
        course("A", &["python", "data"]),
        course("B", &["python", "pandas"]),
        course("C", &["sql"]),
        course("D", &["python", "data", "ml"]),
        course("E", &["excel"]),
    ];
    let mut purchases = vec![];
    for l in ["l1", "l2", "l3", "l4"] {
        purchases.push(bought(l, "A", 1));
        purchases.push(bought(l, "B", 10));
    }
    purchases.push(bought("l5", "A", 1));
    purchases.push(bought("l5", "C", 5));
    for l in ["l6", "l7", "l8", "l9", "l10", "l11"] {
        purchases.push(bought(l, "E", 3));
    }
    (courses, purchases)
}

#[test]
fn what_learners_took_next_comes_first_with_its_count() {
    let (courses, purchases) = school();
    let model = Recommender::train(&courses, &purchases, TrainOptions::default());
    let recs = model.for_learner(&["A".into()], Method::NextCourse, 4);
    assert_eq!(recs[0].course, "B");
    assert_eq!(
        recs[0].reason,
        Reason::TookNext {
            from: "Course A".into(),
            took_from: 5,
            took_next: 4
        }
    );
    assert_eq!(
        recs[0].reason.to_string(),
        "4 of 5 learners who took Course A took it next"
    );
    let c = recs.iter().find(|r| r.course == "C").unwrap();
    assert_eq!(
        c.reason,
        Reason::TookNext {
            from: "Course A".into(),
            took_from: 5,
            took_next: 1
        }
    );
    assert!(
        recs.iter().all(|r| r.course != "A"),
        "never what the learner has"
    );
}

#[test]
fn topics_find_the_course_nobody_bought_yet() {
    let (courses, purchases) = school();
    let model = Recommender::train(&courses, &purchases, TrainOptions::default());
    let recs = model.for_learner(&["A".into()], Method::TagAffinity, 1);
    assert_eq!(recs[0].course, "D");
    assert_eq!(
        recs[0].reason,
        Reason::SimilarTopics {
            from: "Course A".into(),
            shared: vec!["data".into(), "python".into()]
        }
    );
}

#[test]
fn without_history_the_blend_is_popularity_and_a_new_course_borrows_it() {
    let (courses, purchases) = school();
    let model = Recommender::train(&courses, &purchases, TrainOptions::default());
    let blend = model.for_learner(&[], Method::Blend, 5);
    let popular: Vec<String> = model
        .for_learner(&[], Method::Popularity, 5)
        .into_iter()
        .map(|r| r.course)
        .collect();
    assert_eq!(popular, ["E", "A", "B", "C", "D"]);
    let bought: Vec<&str> = blend
        .iter()
        .map(|r| r.course.as_str())
        .filter(|c| *c != "D")
        .collect();
    assert_eq!(bought, ["E", "A", "B", "C"], "{blend:?}");
    // D has no buyer: it is ranked by the popularity of the courses whose tags it shares.
    let d = blend.iter().find(|r| r.course == "D").unwrap();
    assert_eq!(
        d.reason,
        Reason::NewCourse {
            like: "Course A".into(),
            shared: vec!["data".into(), "python".into()]
        }
    );
    assert_eq!(
        d.reason.to_string(),
        "new, on the topics of Course A: data, python"
    );
}

#[test]
fn the_blend_prefers_evidence_but_smooths_small_counts() {
    let (courses, purchases) = school();
    let model = Recommender::train(&courses, &purchases, TrainOptions::default());
    let recs = model.for_learner(&["A".into()], Method::Blend, 5);
    // D, new, is A's learners' obvious tag match: it goes where tag affinity puts it, first;
    // among the bought courses, evidence leads.
    assert_eq!(recs[0].course, "D", "{recs:?}");
    assert_eq!(recs[1].course, "B", "{recs:?}");
    // E has no next-course evidence from A but is popular: the prior ranks it above C's 1 of 5.
    let rank = |id: &str| recs.iter().position(|r| r.course == id);
    assert!(rank("E") < rank("C") || rank("C").is_none(), "{recs:?}");
}

#[test]
fn an_audience_gets_what_most_attendees_lack_and_never_the_course_being_taught() {
    let (courses, purchases) = school();
    let model = Recommender::train(&courses, &purchases, TrainOptions::default());
    let attendees = vec![
        vec!["A".to_string()],
        vec!["A".to_string(), "B".to_string()],
        vec![],
    ];
    let recs = model.for_audience(&attendees, Some("A"), 3);
    assert!(recs.iter().all(|r| r.course != "A"));
    let b = recs
        .iter()
        .find(|r| r.course == "B")
        .expect("B is recommended");
    assert_eq!(b.audience_without_it, Some(2));
    assert!(recs.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn offline_evaluation_counts_hits_after_the_split() {
    let (courses, mut purchases) = school();
    // After the split: l6 (who has E) buys A; l1 (who has A and B) buys D.
    purchases.push(bought("l6", "A", 100));
    purchases.push(bought("l1", "D", 100));
    let lines = evaluate(&courses, &purchases, 50 * 86_400_000);
    assert_eq!(lines.len(), Method::ALL.len());
    for line in &lines {
        assert_eq!(line.learners, 2, "{line}");
        for v in [line.precision_at_5, line.recall_at_5, line.ndcg_at_10] {
            assert!((0.0..=1.0).contains(&v), "{line}");
        }
    }
    // Popularity: l6 lacks A..D; A is the most popular of those, so A ranks first: a hit at rank 1.
    let popularity = lines
        .iter()
        .find(|l| l.method == Method::Popularity)
        .unwrap();
    assert!(popularity.recall_at_5 > 0.99, "{popularity}");
    assert_eq!(default_split(&purchases[..0]), None);
    assert!(default_split(&purchases).is_some());
}

/// Eight popular courses on other topics, two python courses, and N: new (no buyer yet), on
/// the python courses' topics.
fn school_with_a_launch() -> (Vec<CourseInfo>, Vec<PurchaseRecord>) {
    let mut courses: Vec<CourseInfo> = (0..8)
        .map(|i| course(&format!("P{i}"), &[&format!("topic{i}")]))
        .collect();
    courses.push(course("L1", &["python", "data"]));
    courses.push(course("L2", &["python", "pandas"]));
    courses.push(course("N", &["python", "data", "ml"]));
    let mut purchases = vec![];
    for l in 0..100 {
        let learner = format!("l{l}");
        if l < 80 {
            for (k, step) in [0, 1, 3].into_iter().enumerate() {
                let p = format!("P{}", (l + step) % 8);
                purchases.push(bought(&learner, &p, 1 + 10 * k as i64));
            }
        } else {
            purchases.push(bought(&learner, "L1", 30));
            if l % 2 == 0 {
                purchases.push(bought(&learner, "L2", 40));
            }
        }
    }
    (courses, purchases)
}

#[test]
fn a_new_course_reaches_the_learners_of_its_topics() {
    let (courses, purchases) = school_with_a_launch();
    let model = Recommender::train(&courses, &purchases, TrainOptions::default());
    let recs = model.for_learner(&["L1".into()], Method::Blend, 5);
    let n = recs
        .iter()
        .find(|r| r.course == "N")
        .unwrap_or_else(|| panic!("N is not in {recs:?}"));
    assert_eq!(
        n.reason,
        Reason::SimilarTopics {
            from: "Course L1".into(),
            shared: vec!["data".into(), "python".into()]
        }
    );
    // Not to learners of other topics.
    let elsewhere = model.for_learner(&["P1".into(), "P2".into()], Method::Blend, 5);
    assert!(elsewhere.iter().all(|r| r.course != "N"), "{elsewhere:?}");
    // Nor does an audience of python learners miss it.
    let audience = model.for_audience(&[vec!["L1".into()], vec!["L2".into()]], None, 5);
    assert!(audience.iter().any(|r| r.course == "N"), "{audience:?}");
}

/// Two launches on the python learners' topics: a new course that is a learner's obvious tag
/// match ranks where tag affinity would rank it among the bought courses, above popular courses
/// on other topics, not only in the one place kept for a launch.
#[test]
fn launches_that_match_a_learners_tags_rank_where_tag_affinity_puts_them() {
    let (mut courses, purchases) = school_with_a_launch();
    courses.push(course("N2", &["python", "data", "viz"]));
    let model = Recommender::train(&courses, &purchases, TrainOptions::default());
    let recs = model.for_learner(&["L1".into()], Method::Blend, 5);
    let place = |id: &str| recs.iter().position(|r| r.course == id);
    let (Some(n), Some(n2)) = (place("N"), place("N2")) else {
        panic!("N and N2 are not both in {recs:?}");
    };
    // Ahead of every popular course on other topics.
    for (k, r) in recs.iter().enumerate() {
        if r.course.starts_with('P') {
            assert!(n < k && n2 < k, "{recs:?}");
        }
    }
    assert!(
        matches!(recs[n].reason, Reason::SimilarTopics { .. }),
        "{:?}",
        recs[n].reason
    );
    // Learners of other topics still do not get them.
    let elsewhere = model.for_learner(&["P1".into(), "P2".into()], Method::Blend, 5);
    assert!(
        elsewhere.iter().all(|r| !r.course.starts_with('N')),
        "{elsewhere:?}"
    );
}
