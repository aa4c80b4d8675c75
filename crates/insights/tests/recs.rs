//! Recommendations on hand-made purchase histories whose right answers can be counted by hand.

use lectern_insights::recs::{
    BlendWeights, CourseInfo, Method, PurchaseRecord, Reason, Recommender, default_split, evaluate,
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
    let model = Recommender::train(&courses, &purchases, BlendWeights::default());
    let recs = model.for_learner(&["A".into()], Method::NextCourse, 3);
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
    assert_eq!(recs[1].course, "C");
    assert!(
        recs.iter().all(|r| r.course != "A"),
        "never what the learner has"
    );
}

#[test]
fn topics_find_the_course_nobody_bought_yet() {
    let (courses, purchases) = school();
    let model = Recommender::train(&courses, &purchases, BlendWeights::default());
    let recs = model.for_learner(&["A".into()], Method::Topics, 1);
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
fn without_history_the_blend_is_popularity() {
    let (courses, purchases) = school();
    let model = Recommender::train(&courses, &purchases, BlendWeights::default());
    let blend: Vec<String> = model
        .for_learner(&[], Method::Blend, 5)
        .into_iter()
        .map(|r| r.course)
        .collect();
    let popular: Vec<String> = model
        .for_learner(&[], Method::Popularity, 5)
        .into_iter()
        .map(|r| r.course)
        .collect();
    assert_eq!(blend, popular);
    assert_eq!(popular[0], "E", "six buyers");
    assert_eq!(popular[1], "A", "five buyers");
}

#[test]
fn the_blend_prefers_evidence_but_smooths_small_counts() {
    let (courses, purchases) = school();
    let model = Recommender::train(&courses, &purchases, BlendWeights::default());
    let recs = model.for_learner(&["A".into()], Method::Blend, 4);
    assert_eq!(recs[0].course, "B");
    // E has no next-course evidence from A but is popular: the prior ranks it above C's 1 of 5.
    let rank = |id: &str| recs.iter().position(|r| r.course == id);
    assert!(rank("E") < rank("C") || rank("C").is_none(), "{recs:?}");
}

#[test]
fn an_audience_gets_what_most_attendees_lack_and_never_the_course_being_taught() {
    let (courses, purchases) = school();
    let model = Recommender::train(&courses, &purchases, BlendWeights::default());
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
