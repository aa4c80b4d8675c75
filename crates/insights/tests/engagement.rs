//! Engagement: the room's records read as a class would write them, hand-computed scenarios,
//! live state against recomputation on random logs, alerts, the report and course trends.

use lectern_insights::engagement::{
    Activity, Alert, ClassSummary, Direction, EngagementEvent, LiveEngagement, ReportCharts,
    ReportMeta, ReportReplay, ScoreInput, class_report, course_trend, recompute, score,
};
use proptest::prelude::*;

const S: i64 = 1_790_000_000_000;
const SEC: i64 = 1_000;
const MIN: i64 = 60_000;

/// One activity at a time, as the engine hands the room's events over.
#[derive(Clone)]
struct Rec {
    at: i64,
    activity: Activity,
}

fn rec(at: i64, activity: Activity) -> Rec {
    Rec { at, activity }
}

fn is_staff(role: &str) -> bool {
    matches!(role, "instructor" | "ta")
}

fn joined(at: i64, viewer: &str, name: &str, role: &str) -> Rec {
    rec(
        at,
        Activity::Joined {
            viewer: viewer.into(),
            name: name.into(),
            staff: is_staff(role),
        },
    )
}

fn left(at: i64, viewer: &str) -> Rec {
    rec(
        at,
        Activity::Left {
            viewer: viewer.into(),
        },
    )
}

fn chat(at: i64, viewer: &str, role: &str) -> Rec {
    rec(
        at,
        Activity::Chat {
            viewer: viewer.into(),
            staff: is_staff(role),
        },
    )
}

fn poll_opened(at: i64, poll: u64, question: &str) -> Rec {
    rec(
        at,
        Activity::PollOpened {
            poll,
            question: question.into(),
        },
    )
}

fn poll_closed(at: i64, poll: u64) -> Rec {
    rec(at, Activity::PollClosed { poll })
}

fn ballot(at: i64, poll: u64, viewer: &str) -> Rec {
    rec(
        at,
        Activity::Ballot {
            poll,
            viewer: viewer.into(),
        },
    )
}

fn exposed(at: i64, viewer: &str) -> Rec {
    rec(
        at,
        Activity::OfferExposed {
            viewer: viewer.into(),
            offer: "spring-sale".into(),
            variant: 1,
        },
    )
}

fn clicked(at: i64, viewer: &str) -> Rec {
    rec(
        at,
        Activity::OfferClicked {
            viewer: viewer.into(),
            offer: "spring-sale".into(),
            variant: 1,
        },
    )
}

fn read(log: &[Rec]) -> Vec<EngagementEvent> {
    log.iter()
        .filter_map(|r| EngagementEvent::counted(r.at, r.activity.clone()))
        .collect()
}

fn live_of(log: &[Rec]) -> LiveEngagement {
    let mut live = LiveEngagement::new(S);
    for e in read(log) {
        live.push(&e);
    }
    live
}

/// Ten minutes: the instructor, Ann all along, Bob who leaves for a minute, Cat who comes late
/// and leaves early; two polls, a question, an upvote, reactions and an offer.
fn ten_minute_class() -> Vec<Rec> {
    vec![
        joined(0, "prof", "Prof", "instructor"),
        joined(0, "ann", "Ann", "viewer"),
        joined(30 * SEC, "bob", "Bob", "viewer"),
        poll_opened(MIN, 1, "Ready?"),
        ballot(MIN + 10 * SEC, 1, "ann"),
        ballot(MIN + 20 * SEC, 1, "bob"),
        poll_closed(2 * MIN, 1),
        chat(2 * MIN + 30 * SEC, "ann", "viewer"),
        left(3 * MIN, "bob"),
        joined(3 * MIN + 30 * SEC, "cat", "Cat", "viewer"),
        joined(4 * MIN, "bob", "Bob", "viewer"),
        question(4 * MIN + 10 * SEC, "bob"),
        rec(
            4 * MIN + 20 * SEC,
            Activity::QuestionUpvoted {
                viewer: "ann".into(),
            },
        ),
        chat(5 * MIN, "prof", "instructor"),
        poll_opened(6 * MIN, 2, "Which one?"),
        ballot(6 * MIN + 30 * SEC, 2, "cat"),
        left(7 * MIN, "cat"),
        poll_closed(7 * MIN, 2),
        rec(
            8 * MIN,
            Activity::Reactions {
                viewer: None,
                count: 4,
            },
        ),
        rec(
            9 * MIN,
            Activity::OfferPushed {
                offer: "spring-sale".into(),
            },
        ),
        exposed(9 * MIN + 10 * SEC, "ann"),
        exposed(9 * MIN + 10 * SEC, "bob"),
        clicked(9 * MIN + 20 * SEC, "ann"),
    ]
    .into_iter()
    .map(|mut r| {
        r.at += S;
        r
    })
    .collect()
}

/// The room's events become these activities in the engine (`lectern_engine::activities`,
/// tested there on the room's own records); here, what an erased viewer left counts for nobody.
#[test]
fn an_erased_viewer_counts_for_nobody() {
    let log = ten_minute_class();
    assert_eq!(
        read(&log).len(),
        log.len(),
        "every activity of this log counts"
    );
    let voters = Activity::AnonymousVoters {
        poll: 3,
        viewers: vec!["v1".into(), "erased".into(), "v9".into()],
    };
    assert_eq!(
        EngagementEvent::counted(S, voters).unwrap().activity,
        Activity::AnonymousVoters {
            poll: 3,
            viewers: vec!["v1".into(), "v9".into()]
        }
    );
    let ghost = Activity::MediaPresence {
        viewer: "erased".into(),
        watching: true,
    };
    assert_eq!(EngagementEvent::counted(S, ghost), None);
}

#[test]
fn a_ten_minute_class_by_hand() {
    let log = ten_minute_class();
    let now = S + 10 * MIN;
    let s = live_of(&log).snapshot(now);
    assert_eq!(s, recompute(S, &read(&log), now));

    let names: Vec<&str> = s.viewers.iter().map(|v| v.viewer.as_str()).collect();
    assert_eq!(names, ["ann", "bob", "cat"], "staff are left out");
    let (ann, bob, cat) = (&s.viewers[0], &s.viewers[1], &s.viewers[2]);

    // Ann: present 0-10 min = 600 s; polls 1 and 2 opened while present, answered 1;
    // 1 message; 1 upvote; saw and clicked the offer.
    assert_eq!(ann.watch_ms, 600_000);
    assert_eq!((ann.polls_asked, ann.polls_answered), (2, 1));
    assert_eq!((ann.chat, ann.questions, ann.upvotes), (1, 0, 1));
    assert_eq!((ann.offer_exposures, ann.offer_clicks), (1, 1));
    // attendance 600/600 -> 30; polls 1/2 -> 12.5; chat 1 msg / 10 min = 0.1/min, half of
    // 0.2 -> 10; Q&A 1 / 10 min = 0.1/min = the cap -> 15; reactions not attributed: not
    // measured, 0 points. 67.5 points, of 90 measurable. Ten points: 2 + 1 + 1 + 2 = 6.
    assert!(!ann.score.reactions.measured);
    assert_eq!(ann.score.reactions.points, 0.0);
    assert_eq!(ann.score.attendance.points, 30.0);
    assert_eq!(ann.score.polls.points, 12.5);
    assert_eq!(ann.score.chat.points, 10.0);
    assert_eq!(ann.score.qa.points, 15.0);
    assert_eq!(ann.score.total, 67.5);
    assert_eq!(ann.score.measurable_points, 90.0);
    assert_eq!(ann.score.rate_minutes, 10.0);
    assert_eq!(ann.score.ten_point.total, 6.0);
    assert_eq!(ann.score.ten_point.reactions, None);

    // Bob: 0:30-3:00 (150 s) + 4:00-10:00 (360 s) = 510 s; present at both polls' opening.
    assert_eq!(bob.watch_ms, 510_000);
    assert_eq!(bob.joins, 2);
    assert_eq!((bob.polls_asked, bob.polls_answered), (2, 1));
    // attendance 510/600 = 0.85 -> 25.5; polls 12.5; chat 0; a question over his 8.5 minutes
    // (more than half the class) = 0.118/min >= 0.1 -> 15. 53 points.
    assert_eq!(bob.score.rate_minutes, 8.5);
    assert_eq!(bob.score.total, 53.0);

    // Cat: 3:30-7:00 = 210 s; poll 1 closed before she came, poll 2 opened while present.
    assert_eq!(cat.watch_ms, 210_000);
    assert_eq!((cat.polls_asked, cat.polls_answered), (1, 1));
    assert!(!cat.present);
    // attendance 210/600 = 0.35 -> 10.5; polls 1/1 -> 25; 35.5 points. Her rates are over half
    // the class (5 minutes), not her 3.5.
    assert_eq!(cat.score.rate_minutes, 5.0);
    assert_eq!(cat.score.total, 35.5);

    // Minutes 0..=10 (10 is the minute of `now`).
    let col = |f: fn(&lectern_insights::engagement::MinuteEngagement) -> u32| -> Vec<u32> {
        s.minutes.iter().map(f).collect()
    };
    // Minute 3: Bob leaves (he was there at its start) and Cat joins: 3 distinct, 2 at its end.
    // Minute 4: Bob is back. Minute 7: Cat leaves at 7:00 sharp (counted in minute 7).
    assert_eq!(col(|m| m.viewers), [2, 2, 2, 3, 3, 3, 3, 3, 2, 2, 2]);
    assert_eq!(col(|m| m.present_at_end), [2, 2, 2, 2, 3, 3, 3, 2, 2, 2, 2]);
    assert_eq!(col(|m| m.joins), [2, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(col(|m| m.leaves), [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(
        col(|m| m.chat),
        [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        "the instructor's message is not the audience's"
    );
    assert_eq!(col(|m| m.ballots), [0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(col(|m| m.reactions), [0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0]);
    assert_eq!(
        col(|m| m.offer_exposures),
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0]
    );
    // Retention: present at the end over the peak of 3.
    assert_eq!(s.totals.peak_present, 3);
    assert_eq!(s.minutes[3].retention_pct, 200.0 / 3.0);
    assert_eq!(s.minutes[4].retention_pct, 100.0);
    assert!(s.drop_offs.is_empty(), "no minute lost 3 viewers");

    // Polls: poll 1 had Ann and Bob present and both voted; poll 2 had 3 present, 1 ballot.
    assert_eq!(
        s.polls
            .iter()
            .map(|p| (p.poll, p.present_at_open, p.ballots))
            .collect::<Vec<_>>(),
        [(1, 2, 2), (2, 3, 1)]
    );
    assert_eq!(s.polls[1].participation_pct, 100.0 / 3.0);
    assert_eq!(s.polls[1].closed_at_ms, Some(S + 7 * MIN));

    let t = &s.totals;
    assert_eq!((t.viewers, t.present, t.chat, t.reactions), (3, 2, 1, 4));
    assert_eq!(
        (t.polls_opened, t.ballots, t.questions, t.upvotes),
        (2, 3, 1, 1)
    );
    assert_eq!(
        (t.offers_pushed, t.offer_exposures, t.offer_clicks),
        (1, 2, 1)
    );
    assert_eq!(t.watch_ms, 600_000 + 510_000 + 210_000);
    assert_eq!(t.median_score, 53.0);
    // The last message was at 2:30: 7:30 of quiet with 2 present.
    assert_eq!(
        s.alerts,
        [Alert::ChatQuiet {
            quiet_ms: 450_000,
            present: 2
        }]
    );
}

/// The room writes `reactions_by` beside each second's `reactions_aggregated`: the minute keeps
/// the aggregate, each viewer gets their own count, and the reactions part becomes measured.
#[test]
fn reactions_by_viewer_score_each_viewer_without_counting_the_minute_twice() {
    let mut log = ten_minute_class();
    let at = S + 8 * MIN;
    let i = log
        .iter()
        .position(|r| matches!(r.activity, Activity::Reactions { .. }))
        .unwrap();
    log.insert(
        i + 1,
        rec(
            at,
            Activity::ReactionsBy {
                viewers: vec![("ann".into(), 3), ("bob".into(), 1), ("prof".into(), 2)],
            },
        ),
    );
    let now = S + 10 * MIN;
    let s = live_of(&log).snapshot(now);
    assert_eq!(s, recompute(S, &read(&log), now));
    let (ann, bob, cat) = (&s.viewers[0], &s.viewers[1], &s.viewers[2]);
    assert_eq!((ann.reactions, bob.reactions, cat.reactions), (3, 1, 0));
    assert_eq!(
        s.viewers.len(),
        3,
        "the instructor's reactions are not the audience's"
    );
    assert_eq!(
        s.minutes[8].reactions, 4,
        "the minute counts the aggregate once"
    );
    assert_eq!(s.totals.reactions, 4);
    // Ann: 3 reactions in 10 min = 0.3/min of the 0.5 cap -> 6 of 10; 67.5 + 6 = 73.5 of 100.
    assert!(ann.score.reactions.measured);
    assert_eq!(ann.score.reactions.points, 6.0);
    assert_eq!(ann.score.total, 73.5);
    // Ten points: 2 + 1 + 1 + 2 + 1.2 over five parts.
    assert_eq!(ann.score.ten_point.total, 7.2);
    // Bob: 1 in 8.5 min = 0.1176/min -> 2.353 points; 53 + 2.353 = 55.35 -> 55.4.
    assert_eq!(bob.score.total, 55.4);
    // Cat did not react: measured, and 0 of 10 (35.5 of 100).
    assert!(cat.score.reactions.measured);
    assert_eq!(cat.score.total, 35.5);
    // An erased viewer's id in someone else's record is "erased": it counts for nobody.
    let erased = Activity::ReactionsBy {
        viewers: vec![("erased".into(), 2), ("ann".into(), 1)],
    };
    assert_eq!(
        EngagementEvent::counted(S, erased).unwrap().activity,
        Activity::ReactionsBy {
            viewers: vec![("ann".into(), 1)]
        }
    );
}

fn media(at: i64, viewer: &str, watching: bool) -> Rec {
    rec(
        at,
        Activity::MediaPresence {
            viewer: viewer.into(),
            watching,
        },
    )
}

/// Presence is the chat connection or the video: Dan only watches; Eve opens the chat after the
/// video and closes it before; Finn's video stops while his chat stays open.
#[test]
fn the_video_and_the_chat_make_one_presence() {
    let log: Vec<Rec> = vec![
        joined(0, "prof", "Prof", "instructor"),
        media(MIN, "dan", true),
        media(MIN, "eve", true),
        joined(2 * MIN, "eve", "Eve", "viewer"),
        left(4 * MIN, "eve"),
        joined(0, "finn", "Finn", "viewer"),
        media(MIN, "finn", true),
        media(3 * MIN, "finn", false),
        media(5 * MIN, "dan", false),
        media(6 * MIN, "eve", false),
        // A repeated report changes nothing.
        media(6 * MIN + 10 * SEC, "eve", false),
    ]
    .into_iter()
    .map(|mut r| {
        r.at += S;
        r
    })
    .collect();
    let mut log = log;
    log.sort_by_key(|r| r.at);
    let now = S + 10 * MIN;
    let s = live_of(&log).snapshot(now);
    assert_eq!(s, recompute(S, &read(&log), now));
    let by = |id: &str| s.viewers.iter().find(|v| v.viewer == id).unwrap();
    // Dan: video 1:00-5:00, never in the chat: counted, without a name.
    assert_eq!(
        (by("dan").watch_ms, by("dan").joins, by("dan").name.as_str()),
        (4 * MIN, 1, "")
    );
    // Eve: video 1:00-6:00 with the chat open 2:00-4:00 inside it: one stretch of 5 minutes.
    assert_eq!((by("eve").watch_ms, by("eve").joins), (5 * MIN, 1));
    assert_eq!(
        by("eve").name,
        "Eve",
        "the chat gives the video viewer a name"
    );
    // Finn: chat from 0:00 on; his video stopping does not make him leave.
    assert_eq!((by("finn").watch_ms, by("finn").joins), (10 * MIN, 1));
    assert!(by("finn").present && !by("dan").present && !by("eve").present);
    assert_eq!(s.totals.peak_present, 3);
}

fn tab(at: i64, viewer: &str, visible: bool) -> Rec {
    rec(
        at,
        Activity::TabVisibility {
            viewer: viewer.into(),
            visible,
        },
    )
}

/// A viewer who opted in to share whether the tab is in view: hidden time is not presence.
#[test]
fn a_hidden_tab_is_not_presence() {
    let mut log: Vec<Rec> = vec![
        joined(0, "gus", "Gus", "viewer"),
        media(0, "gus", true),
        tab(2 * MIN, "gus", false),
        // Chat reconnects while hidden: still not present, and the name is kept.
        left(3 * MIN, "gus"),
        joined(3 * MIN + 10 * SEC, "gus", "Gus", "viewer"),
        tab(5 * MIN, "gus", true),
        // Hidden again, then the chat and the video close: one leave, at the hide.
        tab(8 * MIN, "gus", false),
        left(9 * MIN, "gus"),
        media(9 * MIN, "gus", false),
    ];
    for r in &mut log {
        r.at += S;
    }
    let now = S + 10 * MIN;
    let s = live_of(&log).snapshot(now);
    assert_eq!(s, recompute(S, &read(&log), now));
    let gus = &s.viewers[0];
    // In view 0:00-2:00 and 5:00-8:00.
    assert_eq!(
        (gus.watch_ms, gus.joins, gus.name.as_str()),
        (5 * MIN, 2, "Gus")
    );
    assert!(!gus.present);
    assert_eq!(s.minutes[2].present_at_end, 0, "hidden in minute 2");
}

#[test]
fn the_end_closes_presence_without_a_drop_off_and_later_events_are_ignored() {
    let mut log = ten_minute_class();
    log.push(ended(S + 9 * MIN + 30 * SEC));
    log.push(left(S + 9 * MIN + 40 * SEC, "ann"));
    log.push(chat(S + 9 * MIN + 50 * SEC, "bob", "viewer"));
    let live = live_of(&log);
    assert!(live.ended());
    let s = live.snapshot(S + 60 * MIN);
    assert_eq!(s, recompute(S, &read(&log), S + 60 * MIN));
    assert_eq!(
        s.now_ms,
        S + 9 * MIN + 30 * SEC,
        "a finished class is described at its end"
    );
    assert_eq!(s.ignored_events, 2);
    assert_eq!(
        s.viewers[0].watch_ms, 570_000,
        "Ann: 0:00 to the end at 9:30"
    );
    assert_eq!(s.minutes.len(), 10);
    assert_eq!(s.minutes[9].present_at_end, 2, "the end is not a leave");
    assert_eq!(s.minutes[9].leaves, 0);
    assert_eq!(s.totals.present, 0);
    assert!(s.alerts.is_empty(), "no alerts after the end");
}

#[test]
fn alerts_follow_time_without_new_events() {
    let mut log: Vec<Rec> = (0..10)
        .map(|i| joined(S, &format!("v{i}"), "", "viewer"))
        .collect();
    log.push(chat(S + MIN, "v0", "viewer"));
    log.push(poll_opened(S + 2 * MIN, 1, "Q"));
    log.push(ballot(S + 2 * MIN + 5 * SEC, 1, "v1"));
    let mut live = live_of(&log);
    // 4:59 after the last message: not yet; 5:00: quiet. The poll (1 of 10 ballots) alerts once
    // a minute old.
    assert_eq!(live.alerts(S + 2 * MIN + 59 * SEC), []);
    assert_eq!(
        live.alerts(S + 3 * MIN),
        [Alert::PollLowParticipation {
            poll: 1,
            ballots: 1,
            present: 10
        }]
    );
    assert!(
        !live
            .alerts(S + 5 * MIN + 59 * SEC)
            .iter()
            .any(|a| a.code() == "chat_quiet")
    );
    assert!(
        live.alerts(S + 6 * MIN)
            .iter()
            .any(|a| a.code() == "chat_quiet")
    );
    // Four leave in minute 6: 10 -> 6 is 40 % and 4 viewers; against the end of minute 4.
    for i in 0..4 {
        live.push(&EngagementEvent {
            at_ms: S + 6 * MIN + i * SEC,
            activity: Activity::Left {
                viewer: format!("v{i}"),
            },
        });
    }
    let alerts = live.alerts(S + 6 * MIN + 30 * SEC);
    assert!(
        alerts.contains(&Alert::AudienceDropping { from: 10, to: 6 }),
        "{alerts:?}"
    );
    let s = live.snapshot(S + 6 * MIN + 30 * SEC);
    assert_eq!(s.alerts, alerts, "the snapshot's alerts are the live ones");
    assert_eq!(s.drop_offs.len(), 1);
    assert_eq!(
        (
            s.drop_offs[0].minute,
            s.drop_offs[0].present_before,
            s.drop_offs[0].present_after
        ),
        (6, 10, 6)
    );
}

// ---------------------------------------------------------------------------------------------
// The score: drive-bys, parts not measured, the class so far

fn question(at: i64, viewer: &str) -> Rec {
    rec(
        at,
        Activity::QuestionAsked {
            viewer: viewer.into(),
        },
    )
}

fn ended(at: i64) -> Rec {
    rec(at, Activity::Ended)
}

/// Issue 14: with rates over the minutes watched (at least one), a one-minute visit with a
/// message and a question scored 55, above half of a whole hour with five messages (59).
#[test]
fn a_drive_by_scores_far_below_a_full_hour() {
    let mut log = vec![joined(S, "eve", "Eve", "viewer")];
    for i in 0..5 {
        log.push(chat(S + (5 + 10 * i) * MIN, "eve", "viewer"));
    }
    log.extend([
        joined(S + 30 * MIN, "dan", "Dan", "viewer"),
        chat(S + 30 * MIN + 20 * SEC, "dan", "viewer"),
        question(S + 30 * MIN + 40 * SEC, "dan"),
        left(S + 31 * MIN, "dan"),
        ended(S + 60 * MIN),
    ]);
    log.sort_by_key(|r| r.at);
    let s = live_of(&log).snapshot(S + 60 * MIN);
    assert_eq!(s, recompute(S, &read(&log), S + 60 * MIN));
    let (dan, eve) = (&s.viewers[0], &s.viewers[1]);
    // Dan: attendance 1/60 -> 0.5; his rates over half the class, 30 minutes: chat 1/30 per
    // minute of the 0.2 cap -> 3.33; Q&A 1/30 of the 0.1 cap -> 5. 8.8 (it was 54.6).
    assert!((dan.score.chat.points - 20.0 / 6.0).abs() < 1e-12);
    assert_eq!(dan.score.qa.points, 5.0);
    assert_eq!(dan.score.total, 8.8);
    // Eve: attendance 30; 5 messages in 60 minutes = 1/12 per minute -> 8.33. 38.3 (it was
    // 59.0 out of 65 rescaled).
    assert_eq!(eve.score.total, 38.3);
    assert!(dan.score.total + 25.0 < eve.score.total);
    assert_eq!(dan.score.rate_minutes, 30.0);
    assert_eq!(eve.score.rate_minutes, 60.0);
    // No poll, reactions not attributed: both out of 65 measurable.
    assert_eq!(
        (dan.score.measurable_points, eve.score.measurable_points),
        (65.0, 65.0)
    );
}

/// Live, three minutes in: rates over at least half the class so far (1.5 minutes), so one
/// early message is a full chat part for a viewer there from the start and for one who just
/// came alike, and neither is pulled down by a floor longer than the class.
#[test]
fn early_in_a_live_class_rates_follow_the_class_so_far() {
    let log = vec![
        joined(S, "ann", "Ann", "viewer"),
        chat(S + 30 * SEC, "ann", "viewer"),
        joined(S + 2 * MIN + 30 * SEC, "bob", "Bob", "viewer"),
        chat(S + 2 * MIN + 40 * SEC, "bob", "viewer"),
    ];
    let now = S + 3 * MIN;
    let s = live_of(&log).snapshot(now);
    assert_eq!(s, recompute(S, &read(&log), now));
    let (ann, bob) = (&s.viewers[0], &s.viewers[1]);
    assert_eq!((ann.score.rate_minutes, bob.score.rate_minutes), (3.0, 1.5));
    assert_eq!(
        (ann.score.chat.fraction, bob.score.chat.fraction),
        (1.0, 1.0)
    );
    // Ann: 30 + 20; Bob: attendance 0.5/3 -> 5, + 20.
    assert_eq!((ann.score.total, bob.score.total), (50.0, 25.0));
    // Half a minute in, the one-minute floor: a message is 1 per minute, full marks.
    let early = live_of(&log[..2]).snapshot(S + 30 * SEC);
    assert_eq!(early.viewers[0].score.rate_minutes, 1.0);
    assert_eq!(early.viewers[0].score.chat.fraction, 1.0);
}

/// Issue 14: the total was rescaled over the parts measured, so the same viewer scored 61.5 in
/// a class without a poll and 44.4 in one with a poll they let pass. Fixed points now: a part
/// not measured earns nothing, the others keep their points, and the report says so.
#[test]
fn a_part_not_measured_earns_nothing_and_rescales_nothing() {
    let class = |with_poll: bool| {
        let mut log = vec![
            joined(S, "ann", "Ann", "viewer"),
            joined(S, "bob", "Bob", "viewer"),
        ];
        for i in 0..3 {
            log.push(chat(S + (2 + 10 * i) * MIN, "ann", "viewer"));
        }
        if with_poll {
            log.push(poll_opened(S + 5 * MIN, 1, "Ready?"));
            log.push(ballot(S + 6 * MIN, 1, "bob"));
            log.push(poll_closed(S + 8 * MIN, 1));
        }
        log.push(ended(S + 30 * MIN));
        log.sort_by_key(|r| r.at);
        live_of(&log).snapshot(S + 30 * MIN)
    };
    let (without, with) = (class(false), class(true));
    let (ann_without, ann_with) = (&without.viewers[0], &with.viewers[0]);
    // Ann: attendance 30; 3 messages in 30 minutes = 0.1/min -> 10. 40 in both classes.
    assert_eq!(ann_without.score.total, 40.0);
    assert_eq!(ann_with.score.total, 40.0);
    assert!(!ann_without.score.polls.measured && ann_with.score.polls.measured);
    assert_eq!(
        (ann_without.score.polls.points, ann_with.score.polls.points),
        (0.0, 0.0)
    );
    assert_eq!(
        (
            ann_without.score.measurable_points,
            ann_with.score.measurable_points
        ),
        (65.0, 90.0)
    );
    assert_eq!(
        (
            ann_without.score.ten_point.total,
            ann_with.score.ten_point.total
        ),
        (3.0, 3.0)
    );
    // Bob answered the poll: its 25 points on top of the same 30 for attendance.
    assert_eq!(with.viewers[1].score.total, 55.0);
    assert_eq!(without.viewers[1].score.total, 30.0);

    // The report names the parts not measured, and what the score is out of.
    let html = class_report(&meta(), &without, &ReportCharts::default()).html;
    assert!(
        html.contains("30/30 · not measured · 10/20 · 0/15 · not measured"),
        "the breakdown names parts not measured"
    );
    assert!(html.contains("40.0 of 65 measurable"));
    assert!(html.contains("are not rescaled"));
    let csv = class_report(&meta(), &with, &ReportCharts::default()).viewers_csv;
    let ann_row = csv.lines().find(|l| l.starts_with("ann,")).unwrap();
    assert!(
        ann_row.ends_with(",40.0,30.00,0.00,10.00,0.00,,3.0,90,30.0"),
        "{ann_row}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// The total is the parts added up; a part not measured is worth nothing; one more message,
    /// question or ballot never lowers a score; no rate is over less than half the class.
    #[test]
    fn a_score_is_its_parts_added_up(
        watch in 0i64..7_200_000,
        extra in 0i64..7_200_000,
        asked in 0u32..5,
        answered in 0u32..5,
        chat in 0u32..40,
        qa in 0u32..20,
        reactions in 0u32..100,
        attributed: bool,
    ) {
        let input = ScoreInput {
            watch_ms: watch,
            elapsed_ms: watch + extra,
            polls_asked: asked,
            polls_answered: answered,
            chat,
            qa,
            reactions,
            reactions_measured: attributed,
        };
        let s = score(&input);
        let parts = [s.attendance, s.polls, s.chat, s.qa, s.reactions];
        let sum: f64 = parts.iter().map(|p| p.points).sum();
        prop_assert!((s.total - (sum * 10.0).round() / 10.0).abs() < 1e-9);
        prop_assert!(s.total <= s.measurable_points + 0.05 && s.measurable_points <= 100.0);
        for p in parts {
            prop_assert!(p.measured || (p.points == 0.0 && p.fraction == 0.0));
        }
        let minutes = |ms: i64| ms as f64 / 60_000.0;
        prop_assert!(s.rate_minutes >= minutes(watch) && s.rate_minutes >= minutes(watch + extra) / 2.0);
        for more in [
            ScoreInput { chat: chat + 1, ..input },
            ScoreInput { qa: qa + 1, ..input },
            ScoreInput { polls_answered: answered + 1, ..input },
        ] {
            prop_assert!(score(&more).total >= s.total);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Live against recomputed, on random logs

fn activity() -> impl Strategy<Value = Activity> {
    let who = prop::sample::select(vec!["a", "b", "c", "d", "e", "staff"]);
    prop_oneof![
        4 => (who.clone(), any::<bool>()).prop_map(|(v, named)| Activity::Joined {
            viewer: v.into(),
            name: if named { format!("Name {v}") } else { String::new() },
            staff: v == "staff",
        }),
        3 => who.clone().prop_map(|v| Activity::Left { viewer: v.into() }),
        2 => (who.clone(), any::<bool>()).prop_map(|(v, staff)| Activity::Chat { viewer: v.into(), staff: staff && v == "staff" }),
        1 => (1u64..4).prop_map(|poll| Activity::PollOpened { poll, question: format!("Q{poll}") }),
        1 => (1u64..4).prop_map(|poll| Activity::PollClosed { poll }),
        2 => (1u64..5, who.clone()).prop_map(|(poll, v)| Activity::Ballot { poll, viewer: v.into() }),
        1 => who.clone().prop_map(|v| Activity::QuestionAsked { viewer: v.into() }),
        1 => who.clone().prop_map(|v| Activity::QuestionUpvoted { viewer: v.into() }),
        1 => (prop::option::of(who.clone()), 1u32..5).prop_map(|(v, count)| Activity::Reactions { viewer: v.map(str::to_owned), count }),
        3 => (who.clone(), any::<bool>()).prop_map(|(v, watching)| Activity::MediaPresence { viewer: v.into(), watching }),
        2 => (who.clone(), any::<bool>()).prop_map(|(v, visible)| Activity::TabVisibility { viewer: v.into(), visible }),
        1 => prop::collection::vec((who.clone(), 1u32..4), 1..4).prop_map(|pairs| Activity::ReactionsBy { viewers: pairs.into_iter().map(|(v, n)| (v.to_owned(), n)).collect() }),
        1 => Just(Activity::OfferPushed { offer: "o".into() }),
        1 => who.clone().prop_map(|v| Activity::OfferExposed { viewer: v.into(), offer: "o".into(), variant: 0 }),
        1 => who.clone().prop_map(|v| Activity::OfferClicked { viewer: v.into(), offer: "o".into(), variant: 0 }),
        1 => who.prop_map(|v| Activity::OfferDismissed { viewer: v.into(), offer: "o".into(), variant: 1 }),
    ]
}

fn log() -> impl Strategy<Value = Vec<EngagementEvent>> {
    // Steps mostly forward, sometimes back in time; starts a little before the class; rarely ends.
    prop::collection::vec((activity(), -20_000i64..150_000, 0u8..60), 0..120).prop_map(|steps| {
        let mut at = S - 2 * MIN;
        steps
            .into_iter()
            .map(|(activity, step, end)| {
                at += step;
                EngagementEvent {
                    at_ms: at,
                    activity: if end == 0 { Activity::Ended } else { activity },
                }
            })
            .collect()
    })
}

proptest! {
    // No failure file (see tests/properties.rs): a failure prints its minimal input instead.
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn live_state_equals_recomputation(events in log(), probes in prop::collection::vec((0usize..130, 0i64..600_000), 1..6)) {
        let mut live = LiveEngagement::new(S);
        let mut probes = probes;
        probes.sort();
        let mut next = 0;
        for (i, e) in events.iter().enumerate() {
            while next < probes.len() && probes[next].0 <= i {
                let now = e.at_ms + probes[next].1;
                prop_assert_eq!(live.snapshot(now), recompute(S, &events[..i], now));
                prop_assert_eq!(live.alerts(now), live.snapshot(now).alerts);
                next += 1;
            }
            live.push(e);
        }
        let now = events.last().map_or(S, |e| e.at_ms) + 30 * MIN;
        let snap = live.snapshot(now);
        prop_assert_eq!(&snap, &recompute(S, &events, now));
        // Watch time never exceeds the class's elapsed time; minutes count distinct viewers.
        let elapsed = snap.now_ms - S;
        for v in &snap.viewers {
            prop_assert!(v.watch_ms >= 0 && v.watch_ms <= elapsed, "{v:?}");
            prop_assert!((0.0..=100.0).contains(&v.score.total));
            prop_assert!(v.polls_answered <= v.polls_asked);
        }
        for m in &snap.minutes {
            prop_assert!(m.present_at_end <= m.viewers && m.viewers <= snap.totals.viewers);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The report

fn meta() -> ReportMeta {
    ReportMeta {
        title: "Docker basics".into(),
        course: Some("Containers".into()),
        school: "Northwind".into(),
        generated_at_ms: S + 2 * 3_600_000,
        replay: None,
    }
}

/// `n` viewers with the given names present the whole half hour, each voting in one poll.
fn class_of(names: &[&str], ballots: usize) -> Vec<Rec> {
    let mut log = vec![];
    for (i, name) in names.iter().enumerate() {
        log.push(joined(S, &format!("v{i}"), name, "viewer"));
    }
    log.push(poll_opened(S + 5 * MIN, 1, "<b>Pick</b> one"));
    for i in 0..ballots {
        log.push(ballot(S + 6 * MIN, 1, &format!("v{i}")));
    }
    log.push(poll_closed(S + 8 * MIN, 1));
    log.push(chat(S + 9 * MIN, "v0", "viewer"));
    log.push(ended(S + 30 * MIN));
    log
}

#[test]
fn the_report_escapes_hostile_names_and_stands_alone() {
    let hostile = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "Zoë, \"the\" admin",
        "\u{202E}gnp.exe",
        "line\nbreak",
    ];
    let s = live_of(&class_of(&hostile, 6)).snapshot(S + 30 * MIN);
    let report = class_report(&meta(), &s, &ReportCharts::default());
    let html = &report.html;
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(
        html.contains("&lt;b&gt;Pick&lt;/b&gt; one"),
        "poll questions are escaped too"
    );
    for tag in [
        "<script", "<img", "<iframe", "<link", "<object", "\u{202E}", "<b>Pick",
    ] {
        assert!(!html.contains(tag), "{tag} reached the page");
    }
    // CSV: quoted where needed, formulas defused.
    let csv = &report.viewers_csv;
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""),
        "{csv}"
    );
    assert!(csv.contains("\"Zoë, \"\"the\"\" admin\""));
    assert!(csv.contains("\"line\nbreak\""));
    assert_eq!(csv.lines().next().unwrap().split(',').count(), 22);

    // Self-contained: inline style and SVG, nothing fetched, nothing run.
    // Charts are the caller's PNG bytes, embedded as data URLs with their alt text.
    let charts = ReportCharts {
        audience: Some(b"\x89PNG audience".to_vec()),
        activity: Some(b"\x89PNG activity".to_vec()),
        trend: None,
    };
    let plain = class_report(
        &meta(),
        &live_of(&class_of(&["A", "B", "C", "D", "E", "F"], 6)).snapshot(S + 30 * MIN),
        &charts,
    );
    let html = &plain.html;
    assert!(html.contains("<style>") && html.contains("@media print"));
    assert_eq!(html.matches("<img").count(), 2);
    assert_eq!(html.matches(" src=\"data:image/png;base64,").count(), 2);
    assert!(html.contains(
        "<img class=\"chart\" alt=\"Viewers present at the end of each minute\" \
         src=\"data:image/png;base64,iVBORyBhdWRpZW5jZQ==\">"
    ));
    assert!(html.contains("alt=\"Chat, questions, upvotes and ballots per minute\""));
    assert!(
        !html.contains("Course trend"),
        "no trend image, no trend section"
    );
    let without_images = html.replace(" src=\"data:image/png;base64,", " ");
    let html = &without_images;
    for banned in [
        "<script", "src=", "href=", "url(", "@import", "http:", "https:", "<link", "on",
    ] {
        let found = if banned == "on" {
            // No inline event handler attributes.
            html.contains(" onload=") || html.contains(" onclick=") || html.contains(" onerror=")
        } else {
            html.contains(banned)
        };
        assert!(!found, "{banned} in the report");
    }
    assert!(
        html.contains("2025-") || html.contains("2026-"),
        "dates are printed"
    );
}

#[test]
fn aggregates_under_five_viewers_are_suppressed() {
    // Four viewers: no totals, charts or polls; minutes all suppressed; the per-viewer table stays.
    let four = live_of(&class_of(&["A", "B", "C", "D"], 4)).snapshot(S + 30 * MIN);
    // Images given anyway are not shown: the report keeps the rule whoever drew them.
    let drawn = ReportCharts {
        audience: Some(b"png".to_vec()),
        activity: Some(b"png".to_vec()),
        trend: None,
    };
    let r = class_report(&meta(), &four, &drawn);
    assert!(r.html.contains("Fewer than 5 viewers"));
    assert!(!r.html.contains("<img"));
    assert!(!r.html.contains("Pick"), "the poll is not shown");
    assert_eq!(r.viewers_csv.lines().count(), 1 + 4);
    let minutes: Vec<&str> = r.minutes_csv.lines().skip(1).collect();
    assert_eq!(minutes.len(), 31, "minutes 0 to 30");
    assert!(minutes.iter().all(|l| l.split(',').nth(2) == Some("true")));
    assert!(r.polls_csv.lines().nth(1).unwrap().ends_with(",true,,,"));

    // Six viewers, but a poll answered by two: the class is shown, the poll is not.
    let six = live_of(&class_of(&["A", "B", "C", "D", "E", "F"], 2)).snapshot(S + 30 * MIN);
    let r = class_report(&meta(), &six, &ReportCharts::default());
    assert!(r.html.contains("fewer than 5 ballots"));
    assert!(r.polls_csv.lines().nth(1).unwrap().contains(",true,"));
    let minute0 = r.minutes_csv.lines().nth(1).unwrap();
    assert!(
        minute0.starts_with("0,") && minute0.contains(",false,6,6,100.0,6,"),
        "{minute0}"
    );
    let six_all = live_of(&class_of(&["A", "B", "C", "D", "E", "F"], 6)).snapshot(S + 30 * MIN);
    let line = class_report(&meta(), &six_all, &ReportCharts::default()).polls_csv;
    assert!(
        line.lines().nth(1).unwrap().ends_with(",false,6,6,100.0"),
        "{line}"
    );
}

// ---------------------------------------------------------------------------------------------
// Across a course's classes

fn summary(session_id: i64, viewers: u32, median_score: f64) -> ClassSummary {
    ClassSummary {
        session_id,
        title: format!("Class {session_id}"),
        started_at_ms: S + session_id * 7 * 86_400_000,
        viewers,
        peak_present: viewers,
        median_score,
        median_score_se: Some(2.0),
        mean_watch_minutes: 30.0,
        poll_participation_pct: None,
        chat_per_viewer_hour: 1.0,
        final_retention_pct: 80.0,
    }
}

#[test]
fn a_course_trend_compares_classes_and_hides_small_ones() {
    // Given out of order; class 3 had 3 viewers and is hidden. Shown scores 40, 50, 60:
    // mean 50; slope: x = 0,1,2 (mean 1), sum dx*dy = (-1)(-10) + 0 + (1)(10) = 20, sum dx^2 = 2
    // -> 10 points per class. Three classes on a line, but each median is +-2 by itself: s^2 =
    // max(0 residual, 2^2) = 4, se = sqrt(4/2), t(1) = 12.71 -> 10 +- 17.97: steady.
    let classes = [
        summary(4, 30, 60.0),
        summary(1, 20, 40.0),
        summary(3, 3, 99.0),
        summary(2, 25, 50.0),
    ];
    let trend = course_trend("docker", &classes);
    assert_eq!(trend.suppressed, 1);
    assert_eq!(trend.mean_median_score, Some(50.0));
    assert_eq!(trend.slope_per_class, Some(10.0));
    assert_eq!(trend.direction, Direction::Flat);
    let half = 12.706_204_736_174_707 * 2.0_f64.sqrt();
    assert!((trend.slope_low_per_class.unwrap() - (10.0 - half)).abs() < 1e-9);
    assert!((trend.slope_high_per_class.unwrap() - (10.0 + half)).abs() < 1e-9);
    let ids: Vec<i64> = trend.sessions.iter().map(|p| p.session_id).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    assert_eq!(trend.sessions[2].summary, None);
    assert_eq!(
        trend.sessions[3].vs_previous,
        Some(10.0),
        "against class 2, skipping class 3"
    );
    assert_eq!(trend.sessions[0].vs_course, Some(-10.0));
    assert_eq!(trend.sessions[0].vs_previous, None);

    let two = course_trend("docker", &classes[..2]);
    assert_eq!(two.direction, Direction::TooFewClasses);
    assert_eq!(
        (two.slope_per_class, two.slope_low_per_class),
        (Some(20.0), None),
        "a slope from two classes, but no interval"
    );
    assert_eq!(
        two.direction_text,
        "2 classes to compare: a direction needs at least 3."
    );
    let flat = [
        summary(1, 9, 50.0),
        summary(2, 9, 50.5),
        summary(3, 9, 50.0),
    ];
    assert_eq!(course_trend("docker", &flat).direction, Direction::Flat);
    assert_eq!(course_trend("docker", &flat).slope_per_class, Some(0.0));

    // From a real snapshot: the ten-minute class (3 viewers) is too small to show.
    let s = live_of(&ten_minute_class()).snapshot(S + 10 * MIN);
    let one = ClassSummary::from_snapshot(7, "Ten minutes", &s);
    assert_eq!(one.viewers, 3);
    // Scores 35.5, 53, 67.5: three viewers, so the median's interval is their whole range.
    let z = 1.959_963_984_540_054;
    assert!((one.median_score_se.unwrap() - (67.5 - 35.5) / (2.0 * z)).abs() < 1e-9);
    // Ballots 3 of 5 polls asked (Ann 2, Bob 2, Cat 1) = 60 %; 1 message in 22 viewer-minutes.
    assert_eq!(one.poll_participation_pct, Some(60.0));
    assert_eq!(one.chat_per_viewer_hour, 1.0 / (1_320_000.0 / 3_600_000.0));
    assert_eq!(course_trend("x", &[one]).sessions[0].summary, None);
}

fn medians(values: &[f64], se: f64) -> Vec<ClassSummary> {
    values
        .iter()
        .enumerate()
        .map(|(i, &m)| ClassSummary {
            median_score_se: Some(se),
            ..summary(i as i64 + 1, 20, m)
        })
        .collect()
}

/// Issue 14: "rising" was a least-squares slope of a point per class over three medians, with
/// no noise model: 40, 52, 47 read as rising. Now the slope has a t interval and a direction
/// only when the interval leaves zero out.
#[test]
fn a_trend_is_rising_only_when_its_interval_leaves_zero_out() {
    // Slope 3.5; residuals -2.83, +5.67, -2.83: s^2 = 48.17 (1 df), se = sqrt(48.17 / 2) =
    // 4.91, t(1) = 12.71: 3.5 +- 62.4.
    let noisy = course_trend("docker", &medians(&[40.0, 52.0, 47.0], 2.0));
    assert_eq!(noisy.slope_per_class, Some(3.5));
    assert_eq!(noisy.direction, Direction::Flat);
    let (low, high) = (
        noisy.slope_low_per_class.unwrap(),
        noisy.slope_high_per_class.unwrap(),
    );
    assert!((low - -58.855_411_160_876).abs() < 1e-6, "{low}");
    assert!((high - 65.855_411_160_876).abs() < 1e-6, "{high}");
    assert_eq!(
        noisy.direction_text,
        "Steady over 3 classes: no change shows through the noise (95% interval \u{2212}58.9 to +65.9 points per class)."
    );

    // Three medians almost on a line say little when each moves by +-3 alone: the residuals
    // (0) are floored at the medians' own noise (3^2). Without the floor it read "rising".
    let lined_up = course_trend("docker", &medians(&[40.0, 41.5, 43.0], 3.0));
    assert_eq!(lined_up.direction, Direction::Flat);
    assert!((lined_up.slope_low_per_class.unwrap() - -25.453_930_596_281).abs() < 1e-6);

    // Eight classes climbing 1.6 points per class through the noise: residual variance 3.05,
    // floored at 2.5^2 = 6.25; se = 2.5 / sqrt(42); t(6) = 2.447: [0.63, 2.52].
    let climbing = [40.0, 43.0, 41.0, 46.0, 47.0, 45.0, 50.0, 52.0];
    let up = course_trend("docker", &medians(&climbing, 2.5));
    assert_eq!(up.direction, Direction::Rising);
    assert!((up.slope_per_class.unwrap() - 11.0 / 7.0).abs() < 1e-12);
    assert!((up.slope_low_per_class.unwrap() - 0.627_511_832_194_540_5).abs() < 1e-9);
    assert!((up.slope_high_per_class.unwrap() - 2.515_345_310_662_602).abs() < 1e-9);
    assert_eq!(
        up.direction_text,
        "Rising: +1.6 points per class over 8 classes (95% interval +0.6 to +2.5)."
    );
    let mut falling = climbing;
    falling.reverse();
    let down = course_trend("docker", &medians(&falling, 2.5));
    assert_eq!(down.direction, Direction::Falling);
    assert!(
        down.direction_text
            .starts_with("Falling: \u{2212}1.6 points per class")
    );

    // The same eight, but each median of a handful of viewers (+-6): too noisy to tell.
    assert_eq!(
        course_trend("docker", &medians(&climbing, 6.0)).direction,
        Direction::Flat
    );
    // Serialized for the UI: additive fields beside the old ones.
    let json = serde_json::to_value(&up).unwrap();
    assert_eq!(json["direction"], "rising");
    assert!(json["slope_low_per_class"].is_number() && json["direction_text"].is_string());
    assert!(json["sessions"][0]["summary"]["median_score_se"].is_number());
    // A summary written before `median_score_se` still reads (no floor from it then).
    let mut old = serde_json::to_value(&medians(&[50.0], 1.0)[0]).unwrap();
    old.as_object_mut().unwrap().remove("median_score_se");
    let old: ClassSummary = serde_json::from_value(old).unwrap();
    assert_eq!(old.median_score_se, None);
}

/// A median's standard error from a real class: six viewers who scored 55 and one of them
/// 58.3 (a message): the order statistics 1 and 6 bound the median's interval.
#[test]
fn a_class_summary_carries_its_median_noise() {
    let s = live_of(&class_of(&["A", "B", "C", "D", "E", "F"], 6)).snapshot(S + 30 * MIN);
    let scores: Vec<f64> = s.viewers.iter().map(|v| v.score.total).collect();
    assert_eq!(scores, [58.3, 55.0, 55.0, 55.0, 55.0, 55.0]);
    let c = ClassSummary::from_snapshot(1, "Docker", &s);
    assert_eq!(c.median_score, 55.0);
    let z = 1.959_963_984_540_054;
    assert!((c.median_score_se.unwrap() - 3.3 / (2.0 * z)).abs() < 1e-9);
}

#[test]
fn extreme_times_neither_panic_nor_count_outside_the_window() {
    for start in [i64::MIN, -1, 0, S, i64::MAX - 1] {
        let events: Vec<EngagementEvent> = [i64::MIN, start, i64::MAX, 0]
            .into_iter()
            .map(|at_ms| EngagementEvent {
                at_ms,
                activity: Activity::Joined {
                    viewer: format!("v{at_ms}"),
                    name: String::new(),
                    staff: false,
                },
            })
            .collect();
        let mut live = LiveEngagement::new(start);
        for e in &events {
            live.push(e);
        }
        for now in [i64::MIN, 0, i64::MAX] {
            let s = live.snapshot(now);
            assert_eq!(
                s,
                recompute(start, &events, now),
                "start {start}, now {now}"
            );
            assert!(s.minutes.len() <= 48 * 60 + 1);
            let _ = class_report(&meta(), &s, &ReportCharts::default());
        }
    }
}

#[test]
fn the_report_gives_the_replay_apart_and_hides_offers_seen_by_fewer_than_five() {
    let names: Vec<String> = (0..6).map(|i| format!("v{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = live_of(&class_of(&names, 6)).snapshot(S + 30 * MIN);
    let without = class_report(&meta(), &s, &ReportCharts::default()).html;
    assert!(
        !without.contains("<h2>Replay</h2>"),
        "no replay, no section"
    );
    let mut with = meta();
    with.replay = Some(ReportReplay {
        viewers: 12,
        watched_ms: 95 * 60_000 + 59_000,
        reactions: 4,
        questions: 2,
        offers: vec![
            ("Docker <in> depth".into(), "A".into(), 7, 3),
            ("Docker <in> depth".into(), "B".into(), 4, 1),
        ],
    });
    let html = class_report(&with, &s, &ReportCharts::default()).html;
    assert!(
        html.contains(
            "12 students watched the replay for 95 minutes in all; 4 reactions and 2 questions"
        ),
        "{html}"
    );
    assert!(html.contains("<td>Docker &lt;in&gt; depth</td><td>A</td><td>7</td><td>3</td>"));
    assert!(html.contains("<td>B</td><td colspan=\"2\">fewer than 5 viewers</td>"));
}
