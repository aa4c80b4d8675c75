//! The report's charts at a realistic size: a 60-minute class with 200 viewers (joins over the
//! first minutes, a drop-off at half time, chat, questions, polls), and a course of eight classes.
//! Prints the milliseconds to draw one report's charts (audience, activity, course trend: egui
//! frame, tessellation, rasterization, PNG encoding), and the summary image's. Target: under
//! 200 ms per report.
//!
//! `cargo xtask bench charts` (`cargo run --release -p lectern-charts --example bench_charts`);
//! `-- --out DIR` also writes the images there.

#![allow(clippy::unwrap_used, reason = "a benchmark: fail loudly")]

use std::time::Instant;

use lectern_insights::engagement::{
    Activity, ClassSummary, EngagementEvent, EngagementSnapshot, ReportMeta, course_trend,
    recompute,
};

const START: i64 = 1_790_000_000_000;
const MIN: i64 = 60_000;
const RUNS: usize = 20;

/// SplitMix64: the same class on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// A 60-minute class of `viewers` viewers.
fn class(seed: u64, viewers: u64, engagement: u64) -> EngagementSnapshot {
    let mut rng = Rng(seed);
    let mut events = Vec::new();
    let mut push = |at: i64, activity: Activity| {
        events.push(EngagementEvent {
            at_ms: at,
            activity,
        })
    };
    for v in 0..viewers {
        let viewer = format!("viewer-{v:04}");
        let join = START + rng.below(6 * MIN as u64) as i64;
        // A third leave around half time (the drop-off), some trickle out, most stay.
        let leave = match rng.below(10) {
            0..=2 => START + 30 * MIN + rng.below(2 * MIN as u64) as i64,
            3 => START + 10 * MIN + rng.below(45 * MIN as u64) as i64,
            _ => START + 55 * MIN + rng.below(5 * MIN as u64) as i64,
        };
        push(
            join,
            Activity::Joined {
                viewer: viewer.clone(),
                name: format!("Learner {v}"),
                staff: false,
            },
        );
        let mut at = join + 20_000;
        while at < leave {
            match rng.below(100) {
                x if x < engagement => push(
                    at,
                    Activity::Chat {
                        viewer: viewer.clone(),
                        staff: false,
                    },
                ),
                x if x < engagement + 3 => push(
                    at,
                    Activity::QuestionAsked {
                        viewer: viewer.clone(),
                    },
                ),
                x if x < engagement + 8 => push(
                    at,
                    Activity::QuestionUpvoted {
                        viewer: viewer.clone(),
                    },
                ),
                _ => {}
            }
            at += 30_000 + rng.below(60_000) as i64;
        }
        push(leave, Activity::Left { viewer });
    }
    for (poll, minute) in [(1, 12), (2, 25), (3, 44)] {
        push(
            START + minute * MIN,
            Activity::PollOpened {
                poll,
                question: format!("Question {poll}"),
            },
        );
        push(START + (minute + 2) * MIN, Activity::PollClosed { poll });
    }
    events.sort_by_key(|e| e.at_ms);
    // Ballots from whoever is there is not needed for the charts' cost: the bars count them.
    recompute(START, &events, START + 60 * MIN)
}

fn main() {
    let out = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .map(std::path::PathBuf::from);
    let snapshot = class(2026, 200, 20);
    let classes: Vec<ClassSummary> = (0..8u64)
        .map(|i| {
            let s = class(100 + i, if i == 2 { 4 } else { 40 + 10 * i }, 10 + 2 * i);
            ClassSummary::from_snapshot(i as i64 + 1, &format!("Class {}", i + 1), &s)
        })
        .collect();
    let trend = course_trend("sql-201", &classes);
    let meta = ReportMeta {
        title: "Window functions in practice".into(),
        course: Some("SQL for analysts".into()),
        school: "Demo school".into(),
        generated_at_ms: START + 61 * MIN,
        replay: None,
    };
    println!(
        "class: {} minutes, {} viewers, peak {} at once; course: {} classes",
        snapshot.minutes.len(),
        snapshot.totals.viewers,
        snapshot.totals.peak_present,
        trend.sessions.len()
    );

    // The first report pays for loading the fonts; it is reported apart.
    let t = Instant::now();
    let first = lectern_charts::report_charts(&snapshot, Some(&trend)).unwrap();
    let cold = t.elapsed().as_secs_f64() * 1e3;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let charts = lectern_charts::report_charts(&snapshot, Some(&trend)).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(charts.audience.is_some() && charts.activity.is_some() && charts.trend.is_some());
    }
    times.sort_by(f64::total_cmp);
    let bytes: usize = [&first.audience, &first.activity, &first.trend]
        .iter()
        .filter_map(|c| c.as_ref().map(Vec::len))
        .sum();
    println!(
        "report charts (audience + activity + course trend, 1440x520 px each): \
         median {:.1} ms, min {:.1} ms, max {:.1} ms per report over {RUNS} runs (first run {cold:.1} ms); {} KiB of PNG",
        times[RUNS / 2],
        times[0],
        times[RUNS - 1],
        bytes / 1024
    );
    let mut summary_times = Vec::with_capacity(RUNS);
    let mut summary = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        summary = lectern_charts::summary_png(&meta, &snapshot).unwrap();
        summary_times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    summary_times.sort_by(f64::total_cmp);
    println!(
        "summary image (1440x880 px): median {:.1} ms over {RUNS} runs",
        summary_times[RUNS / 2]
    );
    println!(
        "target: under 200 ms per report: {}",
        if times[RUNS / 2] < 200.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    if let Some(dir) = out {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, png) in [
            ("report-audience.png", first.audience),
            ("report-activity.png", first.activity),
            ("report-trend.png", first.trend),
            ("report-summary.png", summary),
        ] {
            if let Some(png) = png {
                std::fs::write(dir.join(name), png).unwrap();
            }
        }
        println!("images written to {}", dir.display());
    }
}
