//! Purchase propensity, driven as the engine drives it: classes, log events and sales in, rows
//! cut at a point, a model with its checked quality and reasons out. Each defect of issue 14
//! (part 4) has a test here that failed on the code before the fix: the label read from the
//! class's start, one cut for training and another for scoring, the gap, the buyers needed,
//! the AUC's interval and its words, and the reasons' unit.

use lectern_insights::forest::{ForestParams, train_forest};
use lectern_insights::propensity::Participation::{Ballot, Chat, Click, Exposure, Joined, Left};
use lectern_insights::propensity::{
    AttendeeRows, Auc, Cut, FEATURES, LogEvent, MIN_BUYERS, Participation, PropensityError,
    Ranking, Reason, Sale, SessionSpan, attendee_rows, auc_with_interval, fit_logistic, roc_auc,
    train,
};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
const WEEK: i64 = 7 * DAY;

fn ev(session_id: i64, counted: Option<Participation>, actor: &str, at_ms: i64) -> LogEvent {
    LogEvent {
        session_id,
        counted,
        actor: Some(actor.into()),
        at_ms,
    }
}

fn sale(learner: &str, course: &str, at_ms: i64) -> Sale {
    Sale {
        learner: learner.into(),
        course_id: course.into(),
        at_ms,
        amount_cents: 4_900,
    }
}

fn at(name: &str) -> usize {
    FEATURES.iter().position(|f| *f == name).unwrap()
}

/// SplitMix64: the same school on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A school: hour-long classes `spacing` apart, each about course `course-{class % 5}`, with
/// `per_class` of `pool` learners. A learner's hidden interest drives how long they stay, how
/// much they chat and vote and whether they click the offer at minute 46.
struct School {
    classes: i64,
    spacing: i64,
    per_class: usize,
    pool: usize,
    /// Chance that a click is followed by buying the class's course two minutes later.
    in_class_buy: f64,
    /// Chance of buying another course within six days after class, from interest in 0..1.
    after_class_buy: fn(f64) -> f64,
    seed: u64,
}

struct Data {
    sessions: Vec<SessionSpan>,
    events: Vec<LogEvent>,
    sales: Vec<Sale>,
    end: i64,
}

impl School {
    fn build(&self) -> Data {
        let mut rng = Rng(self.seed);
        let interest: Vec<f64> = (0..self.pool).map(|_| rng.unit()).collect();
        let t0 = 1_000 * DAY;
        let (mut sessions, mut events, mut sales) = (vec![], vec![], vec![]);
        for c in 0..self.classes {
            let start = t0 + c * self.spacing;
            let end = start + 60 * MIN;
            let course = format!("course-{}", c % 5);
            sessions.push(SessionSpan {
                id: c + 1,
                started_at_ms: start,
                ended_at_ms: Some(end),
                course_id: Some(course.clone()),
            });
            let mut chosen = vec![false; self.pool];
            let mut taken = 0;
            while taken < self.per_class {
                let l = rng.below(self.pool);
                if !std::mem::replace(&mut chosen[l], true) {
                    taken += 1;
                }
            }
            for l in (0..self.pool).filter(|&l| chosen[l]) {
                let who = format!("lrn_{l:04}");
                let i = interest[l];
                let join = start + (rng.unit() * 10.0 * MIN as f64) as i64;
                let leave =
                    (join + ((10.0 + 45.0 * i + 10.0 * rng.unit()) * MIN as f64) as i64).min(end);
                events.push(ev(c + 1, Some(Joined), &who, join));
                for _ in 0..(i * 5.0 * rng.unit()) as i64 {
                    let t = join + (rng.unit() * (leave - join) as f64) as i64;
                    events.push(ev(c + 1, Some(Chat), &who, t));
                }
                if join < start + 30 * MIN && leave > start + 30 * MIN && rng.unit() < 0.3 + 0.6 * i
                {
                    events.push(ev(c + 1, Some(Ballot), &who, start + 30 * MIN));
                }
                if leave > start + 46 * MIN {
                    events.push(ev(c + 1, Some(Exposure), &who, start + 45 * MIN));
                    if rng.unit() < 0.1 + 0.6 * i {
                        events.push(ev(c + 1, Some(Click), &who, start + 46 * MIN));
                        if rng.unit() < self.in_class_buy {
                            sales.push(sale(&who, &course, start + 48 * MIN));
                        }
                    }
                }
                events.push(ev(c + 1, Some(Left), &who, leave));
                if rng.unit() < (self.after_class_buy)(i) {
                    let when = end + (rng.unit() * 6.0 * DAY as f64) as i64;
                    sales.push(sale(&who, &format!("extra-{c}-{l}"), when));
                }
            }
        }
        let end = t0 + self.classes * self.spacing + 2 * WEEK;
        Data {
            sessions,
            events,
            sales,
            end,
        }
    }
}

impl Data {
    fn rows(&self, cut: Cut) -> AttendeeRows {
        attendee_rows(
            &self.sessions,
            &self.events,
            &self.sales,
            cut,
            WEEK,
            self.end,
        )
    }
}

/// Weekly classes where the engaged buy more after class.
fn engaged_buy_more() -> School {
    School {
        classes: 40,
        spacing: WEEK,
        per_class: 80,
        pool: 600,
        in_class_buy: 0.5,
        after_class_buy: |i| 0.01 + 0.6 * i * i * i,
        seed: 2026,
    }
}

#[test]
fn features_are_counted_before_the_cut_and_the_label_after_it() {
    let start = 100 * DAY;
    let end = start + 60 * MIN;
    let sessions = vec![SessionSpan {
        id: 1,
        started_at_ms: start,
        ended_at_ms: Some(end),
        course_id: Some("rust-1".into()),
    }];
    let events = vec![
        ev(1, Some(Joined), "ann", start),
        ev(1, Some(Chat), "ann", start + MIN),
        ev(1, Some(Left), "ann", start + 10 * MIN),
        ev(1, Some(Joined), "ann", start + 15 * MIN), // back, and stays to the end
        ev(1, Some(Exposure), "ann", start + 45 * MIN),
        ev(1, Some(Click), "ann", start + 46 * MIN),
        ev(1, Some(Joined), "bob", start + 5 * MIN),
        ev(1, Some(Ballot), "bob", start + 6 * MIN),
        ev(1, Some(Left), "bob", start + 35 * MIN),
        ev(1, Some(Joined), "cat", start + 2 * MIN),
        ev(1, Some(Joined), "dan", start + 2 * MIN),
        ev(1, Some(Joined), "eve", start + 30 * MIN),
    ];
    let sales = vec![
        // Ann buys the class's course in class, two minutes after clicking the offer.
        sale("ann", "rust-1", start + 48 * MIN),
        // Bob bought another course ten days before, and buys it again after class.
        sale("bob", "go-1", start - 10 * DAY),
        sale("bob", "go-1", end + DAY),
        // Cat buys a new course two days after class, Dan eight days after.
        sale("cat", "go-1", end + 2 * DAY),
        sale("dan", "go-1", end + 8 * DAY),
    ];
    let data_end = 200 * DAY;

    // Scored after class: cut at the end.
    let rows = attendee_rows(&sessions, &events, &sales, Cut::SessionEnd, WEEK, data_end);
    let learners: Vec<&str> = rows.rows.iter().map(|r| r.learner.as_str()).collect();
    assert_eq!(
        learners,
        ["cat", "dan", "bob", "eve"],
        "Ann owns the course by the end of class: she is not a prospect for it"
    );
    assert_eq!(rows.owners_left_out, 1);
    let bob = &rows.rows[2];
    assert_eq!(bob.cut_at_ms, end);
    let f = |r: &lectern_insights::propensity::AttendeeRow, name: &str| r.features[at(name)];
    assert_eq!(f(bob, "watch_minutes"), 30.0);
    assert_eq!(f(bob, "poll_answers"), 1.0);
    assert_eq!(
        (f(bob, "past_purchases"), f(bob, "past_spend")),
        (1.0, 49.0)
    );
    assert!((f(bob, "days_since_last_purchase") - (10.0 + 1.0 / 24.0)).abs() < 1e-9);
    assert_eq!(
        bob.bought,
        Some(false),
        "buying a course he owns is not new"
    );
    let labels: Vec<Option<bool>> = rows.rows.iter().map(|r| r.bought).collect();
    assert_eq!(labels, [Some(true), Some(false), Some(false), Some(false)]);

    // Scored at minute 20 of the class: every class is cut there, features and label alike.
    let live = attendee_rows(
        &sessions,
        &events,
        &sales,
        Cut::Elapsed(20 * MIN),
        WEEK,
        data_end,
    );
    let learners: Vec<&str> = live.rows.iter().map(|r| r.learner.as_str()).collect();
    assert_eq!(
        learners,
        ["ann", "cat", "dan", "bob"],
        "Eve had not come yet; Ann did not own the course yet"
    );
    let ann = &live.rows[0];
    assert_eq!(ann.cut_at_ms, start + 20 * MIN);
    assert_eq!(
        f(ann, "watch_minutes"),
        15.0,
        "10 minutes, then 5 until the cut"
    );
    assert_eq!(f(ann, "chat_messages"), 1.0);
    assert_eq!(
        (f(ann, "offer_exposures"), f(ann, "offer_clicks")),
        (0.0, 0.0),
        "the offer came after the cut"
    );
    assert_eq!(
        ann.bought,
        Some(true),
        "she buys within the window from the cut"
    );
    assert_eq!(f(&live.rows[3], "watch_minutes"), 15.0);

    // A window still open is unknown.
    let open = attendee_rows(&sessions, &events, &sales, Cut::SessionEnd, WEEK, end + DAY);
    assert!(open.rows.iter().all(|r| r.bought.is_none()));
}

#[test]
fn only_participation_adds_to_the_tally_and_an_erased_viewer_is_nobody() {
    let start = 100 * DAY;
    let sessions = vec![SessionSpan {
        id: 1,
        started_at_ms: start,
        ended_at_ms: Some(start + 60 * MIN),
        course_id: None,
    }];
    let events = vec![
        ev(1, Some(Joined), "ann", start),
        ev(1, Some(Chat), "ann", start + MIN),
        ev(1, Some(Ballot), "ann", start + 2 * MIN),
        // What the engine does not classify as participation (an anonymous ballot recorded
        // with an author in an old log, a name the room never wrote) adds nothing.
        ev(1, None, "ann", start + 2 * MIN),
        ev(1, None, "ann", start + 3 * MIN),
        ev(1, Some(Joined), "erased", start),
        LogEvent {
            session_id: 1,
            counted: None,
            actor: None,
            at_ms: start + 60 * MIN,
        },
    ];
    let rows = attendee_rows(&sessions, &events, &[], Cut::SessionEnd, WEEK, 0);
    assert_eq!(rows.rows.len(), 1, "an erased viewer is nobody");
    let ann = &rows.rows[0];
    assert_eq!(ann.features[at("watch_minutes")], 60.0);
    assert_eq!(ann.features[at("chat_messages")], 1.0);
    assert_eq!(ann.features[at("poll_answers")], 1.0);
    assert_eq!(ann.features[at("offer_clicks")], 0.0);
}

#[test]
fn a_purchase_made_in_class_after_a_click_no_longer_predicts_itself() {
    // Clicks lead to buying the class's course in class; nothing predicts buying after class.
    let school = School {
        in_class_buy: 0.9,
        after_class_buy: |_| 0.12,
        seed: 77,
        ..engaged_buy_more()
    };
    let data = school.build();
    let rows = data.rows(Cut::SessionEnd);
    assert!(rows.owners_left_out > 200, "{}", rows.owners_left_out);
    let model = train(&rows).unwrap();
    let q = &model.quality;
    assert!(q.train_buyers >= MIN_BUYERS, "{q:?}");
    eprintln!(
        "in-class buying only: AUC {:.3} [{:.3}, {:.3}]",
        q.auc.estimate, q.auc.low, q.auc.high
    );
    assert_eq!(
        q.auc.ranking(),
        Ranking::NotShown,
        "AUC {:?}: the label no longer contains the in-class purchase",
        q.auc
    );
    let summary = q.summary("the model");
    assert!(
        summary.contains("cannot yet be told apart from guessing"),
        "{summary}"
    );
}

#[test]
fn a_school_where_engagement_matters_is_ranked_with_an_interval() {
    let data = engaged_buy_more().build();
    let rows = data.rows(Cut::SessionEnd);
    let model = train(&rows).unwrap();
    let q = &model.quality;
    eprintln!(
        "logistic, cut at the end: AUC {:.3} [{:.3}, {:.3}], Brier {:.4}, {} rows ({} buyers) \
         learned, {} left for the gap, {} checked ({} buyers, {} classes)",
        q.auc.estimate,
        q.auc.low,
        q.auc.high,
        q.brier,
        q.train_rows,
        q.train_buyers,
        q.gap_rows,
        q.holdout_rows,
        q.holdout_buyers,
        q.holdout_sessions
    );
    assert!(q.auc.low < q.auc.estimate && q.auc.estimate < q.auc.high);
    assert!(q.auc.low > 0.7, "{:?}", q.auc);
    assert_eq!(q.holdout_sessions, 10);
    assert_eq!(model.cut, Cut::SessionEnd);
    assert_eq!(model.window_ms, WEEK);
    assert_eq!(
        q.calibration.iter().map(|b| b.count).sum::<usize>(),
        q.holdout_rows
    );
    let summary = q.summary("the model");
    assert!(summary.contains(q.auc.ranking().words()), "{summary}");
    assert!(summary.contains("95% interval"), "{summary}");

    // Scoring at minute 20 learns from every class cut at minute 20: less is known, and the
    // model says so.
    let early = data.rows(Cut::Elapsed(20 * MIN));
    assert!(
        early
            .rows
            .iter()
            .all(|r| r.features[at("watch_minutes")] <= 20.0
                && r.features[at("offer_clicks")] == 0.0)
    );
    let at20 = train(&early).unwrap();
    assert_eq!(at20.cut, Cut::Elapsed(20 * MIN));
    eprintln!(
        "logistic, cut at minute 20: AUC {:.3} [{:.3}, {:.3}]",
        at20.quality.auc.estimate, at20.quality.auc.low, at20.quality.auc.high
    );
    assert!(at20.quality.auc.estimate < q.auc.estimate);

    let forest = train_forest(
        &rows,
        &ForestParams {
            trees: 40,
            ..ForestParams::default()
        },
        |_, _| {},
    )
    .unwrap();
    let f = &forest.quality;
    eprintln!(
        "forest (40 trees), cut at the end: AUC {:.3} [{:.3}, {:.3}], Brier {:.4}",
        f.auc.estimate, f.auc.low, f.auc.high, f.brier
    );
    assert_eq!(
        (f.train_rows, f.gap_rows, f.holdout_rows),
        (q.train_rows, q.gap_rows, q.holdout_rows),
        "both models split alike"
    );
    assert!(f.auc.low > 0.6, "{:?}", f.auc);
}

#[test]
fn older_rows_whose_window_reaches_into_the_checked_classes_are_not_learned_from() {
    // Classes two days apart with a seven-day window: the three classes before the first
    // checked one have windows that end after it starts.
    let school = School {
        spacing: 2 * DAY,
        ..engaged_buy_more()
    };
    let data = school.build();
    let rows = data.rows(Cut::SessionEnd);
    let model = train(&rows).unwrap();
    let q = &model.quality;
    let (labelled, _) = rows.labelled();
    assert_eq!(q.train_rows + q.gap_rows + q.holdout_rows, labelled);
    assert_eq!(q.holdout_sessions, 10);
    let reaching: Vec<i64> = rows
        .rows
        .iter()
        .filter(|r| r.session_started_at_ms < q.holdout_from_ms)
        .filter(|r| r.cut_at_ms + WEEK > q.holdout_from_ms)
        .map(|r| r.session_id)
        .collect();
    assert_eq!(q.gap_rows, reaching.len());
    let mut classes = reaching.clone();
    classes.dedup();
    assert_eq!(classes, [28, 29, 30], "the last three older classes");
}

#[test]
fn fewer_than_ten_buyers_per_feature_are_refused_in_words() {
    assert_eq!(MIN_BUYERS, 10 * FEATURES.len());
    // About 60 buyers to learn from: enough for the old rule (20), not for 9 features.
    let school = School {
        classes: 12,
        per_class: 60,
        after_class_buy: |i| 0.02 + 0.2 * i * i,
        ..engaged_buy_more()
    };
    let rows = school.build().rows(Cut::SessionEnd);
    let err = train(&rows).unwrap_err();
    assert_eq!(err.code(), "too_little_data");
    let PropensityError::TooLittleData { buyers, .. } = err else {
        panic!("{err:?}")
    };
    assert!((20..MIN_BUYERS).contains(&buyers), "{buyers}");
    let words = err.to_string();
    for needed in [
        format!("{buyers} buyers"),
        format!("at least {MIN_BUYERS} of each"),
        format!("10 for each of the {} things", FEATURES.len()),
        "teach more classes".to_owned(),
    ] {
        assert!(words.contains(&needed), "{words:?} lacks {needed:?}");
    }
    let forest = train_forest(&rows, &ForestParams::default(), |_, _| {}).unwrap_err();
    assert_eq!(forest, err, "the forest refuses the same history");

    // Nothing at all: the same refusal, not a panic.
    let empty = attendee_rows(&[], &[], &[], Cut::SessionEnd, WEEK, 0);
    assert_eq!(
        train(&empty).unwrap_err(),
        PropensityError::TooLittleData {
            buyers: 0,
            non_buyers: 0,
            gap_rows: 0
        }
    );
}

type Features = [f64; FEATURES.len()];

/// Checks that `reasons` are the largest pushes of `x` on `p`, in percentage points against
/// `means`; true when there is at least one.
fn are_points(
    p: &dyn Fn(&Features) -> f64,
    reasons: &[Reason],
    x: &Features,
    means: &Features,
) -> bool {
    assert!(reasons.len() <= 3);
    for pair in reasons.windows(2) {
        assert!(pair[0].points >= pair[1].points);
    }
    for reason in reasons {
        let k = at(reason.feature);
        let mut neutral = *x;
        neutral[k] = means[k];
        let points = 100.0 * (p(x) - p(&neutral));
        assert!(
            (reason.points - points).abs() < 1e-9 && reason.points >= 0.1,
            "{reason:?} vs {points}"
        );
        assert_eq!(reason.value, x[k]);
    }
    !reasons.is_empty()
}

#[test]
fn reasons_of_both_models_are_percentage_points_against_the_training_means() {
    let data = engaged_buy_more().build();
    let rows = data.rows(Cut::SessionEnd);
    let logistic = train(&rows).unwrap();
    let forest = train_forest(
        &rows,
        &ForestParams {
            trees: 30,
            ..ForestParams::default()
        },
        |_, _| {},
    )
    .unwrap();
    let (mut by_logistic, mut by_forest) = (0, 0);
    // The attendees of the last class, as the engine would explain them.
    for r in rows.of_session(40).take(40) {
        let x = &r.features;
        let reasons = logistic.reasons(x, 3);
        by_logistic += usize::from(are_points(
            &|f| logistic.probability(f),
            &reasons,
            x,
            &logistic.means,
        ));
        let reasons = forest.reasons(x, 3);
        by_forest += usize::from(are_points(
            &|f| forest.probability(f),
            &reasons,
            x,
            &forest.means,
        ));
    }
    assert!(
        by_logistic > 20 && by_forest > 20,
        "{by_logistic}, {by_forest} of 40 explained"
    );
}

/// DeLong's variance from its definition, pair by pair: the rank shortcut must agree.
fn delong_by_pairs(scores: &[f64], labels: &[bool]) -> (f64, f64) {
    let pos: Vec<f64> = (0..scores.len())
        .filter(|&i| labels[i])
        .map(|i| scores[i])
        .collect();
    let neg: Vec<f64> = (0..scores.len())
        .filter(|&i| !labels[i])
        .map(|i| scores[i])
        .collect();
    let psi = |x: f64, y: f64| {
        if x > y {
            1.0
        } else if x == y {
            0.5
        } else {
            0.0
        }
    };
    let (m, n) = (pos.len() as f64, neg.len() as f64);
    let v10: Vec<f64> = pos
        .iter()
        .map(|&x| neg.iter().map(|&y| psi(x, y)).sum::<f64>() / n)
        .collect();
    let v01: Vec<f64> = neg
        .iter()
        .map(|&y| pos.iter().map(|&x| psi(x, y)).sum::<f64>() / m)
        .collect();
    let auc = v10.iter().sum::<f64>() / m;
    let s = |v: &[f64]| v.iter().map(|a| (a - auc).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0);
    (auc, (s(&v10) / m + s(&v01) / n).sqrt())
}

#[test]
fn the_auc_interval_is_delongs() {
    assert_eq!(
        roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
        0.75
    );
    assert_eq!(roc_auc(&[0.5, 0.5], &[false, true]), 0.5);
    assert!(roc_auc(&[0.5, 0.6], &[true, true]).is_nan());
    let one_buyer = auc_with_interval(&[0.1, 0.9, 0.3], &[false, true, false]);
    assert_eq!(
        (one_buyer.estimate, one_buyer.low, one_buyer.high),
        (1.0, 0.0, 1.0),
        "one buyer tells nothing about the spread"
    );

    let mut rng = Rng(5);
    for case in 0..50 {
        let n = 6 + rng.below(120);
        // Coarse scores so that ties occur.
        let labels: Vec<bool> = (0..n)
            .map(|i| i < 2 || (i > 3 && rng.unit() < 0.3))
            .collect();
        let scores: Vec<f64> = labels
            .iter()
            .map(|&l| ((rng.normal() + if l { 0.8 } else { 0.0 }) * 3.0).round() / 3.0)
            .collect();
        let got = auc_with_interval(&scores, &labels);
        let (auc, se) = delong_by_pairs(&scores, &labels);
        assert!((got.estimate - auc).abs() < 1e-12, "case {case}");
        let low = (auc - 1.959_963_984_540_054 * se).max(0.0);
        let high = (auc + 1.959_963_984_540_054 * se).min(1.0);
        assert!(
            (got.low - low).abs() < 1e-12 && (got.high - high).abs() < 1e-12,
            "case {case}: {got:?} vs {low}..{high}"
        );
    }

    // Coverage: 400 checks of 40 buyers and 160 non-buyers from two normals one standard
    // deviation apart (true AUC = Phi(1 / sqrt 2) = 0.760250).
    let truth = 0.760_249_938_906_523_9;
    let mut covered = 0;
    for _ in 0..400 {
        let labels: Vec<bool> = (0..200).map(|i| i < 40).collect();
        let scores: Vec<f64> = labels
            .iter()
            .map(|&l| rng.normal() + if l { 1.0 } else { 0.0 })
            .collect();
        let a = auc_with_interval(&scores, &labels);
        covered += usize::from(a.low <= truth && truth <= a.high);
    }
    assert!((360..=396).contains(&covered), "{covered} of 400 covered");
}

#[test]
fn the_words_come_from_the_intervals_lower_bound() {
    let cases = [
        (0.81, Ranking::Well),
        (0.8, Ranking::Well),
        (0.75, Ranking::Usefully),
        (0.55, Ranking::BetterThanChance),
        (0.5, Ranking::NotShown),
        (f64::NAN, Ranking::NotShown),
    ];
    for (low, want) in cases {
        assert_eq!(Ranking::from_lower_bound(low), want, "{low}");
    }
    // A check that once said "ranks buyers well" at 0.8: on 60 attendees with 12 buyers the
    // interval reaches far below.
    let mut rng = Rng(1);
    let labels: Vec<bool> = (0..60).map(|i| i < 12).collect();
    let scores: Vec<f64> = labels
        .iter()
        .map(|&l| rng.normal() + if l { 1.2 } else { 0.0 })
        .collect();
    let auc = auc_with_interval(&scores, &labels);
    assert!(auc.estimate >= 0.8, "{auc:?}");
    assert!(auc.low < 0.7, "{auc:?}");
    assert_eq!(auc.ranking(), Ranking::BetterThanChance);
    assert_eq!(
        Auc {
            estimate: 0.9,
            low: 0.81,
            high: 0.97
        }
        .ranking()
        .words(),
        "ranks buyers well"
    );
}

#[test]
fn coefficients_agree_with_scikit_learn() {
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("../reference/logistic_reference.json")).unwrap();
    let x: Vec<Vec<f64>> = reference["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    let y: Vec<bool> = reference["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_bool().unwrap())
        .collect();
    let c = reference["C"].as_f64().unwrap();
    let (coefficients, intercept) = fit_logistic(&x, &y, 1.0 / c).unwrap();
    let expected: Vec<f64> = reference["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (k, (got, want)) in coefficients.iter().zip(&expected).enumerate() {
        assert!(
            (got - want).abs() < 1e-4,
            "coefficient {k}: {got} vs scikit-learn {want}"
        );
    }
    let want = reference["intercept"].as_f64().unwrap();
    assert!(
        (intercept - want).abs() < 1e-4,
        "intercept {intercept} vs {want}"
    );
}
