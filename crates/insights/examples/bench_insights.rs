//! Engagement at scale: recompute a class of 1,000,000 synthetic events, and feed the live
//! aggregates at a simulated 2,000 events/s with the dashboard refreshed every simulated second
//! (alerts and a full snapshot), counted in the per-event cost.
//!
//! `cargo run --release -p lectern-insights --example bench_insights`

#![allow(clippy::unwrap_used, reason = "a benchmark: fail loudly")]

use std::hint::black_box;
use std::time::Instant;

use lectern_insights::engagement::{Activity, EngagementEvent, LiveEngagement, recompute};

const EVENTS: usize = 1_000_000;
const PER_SECOND: usize = 2_000;
const VIEWERS: u64 = 5_000;
const START: i64 = 1_790_000_000_000;

/// SplitMix64: the same log on every run.
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

fn synthetic_class() -> Vec<EngagementEvent> {
    let mut rng = Rng(2026);
    let ids: Vec<String> = (0..VIEWERS).map(|i| format!("viewer-{i:016x}")).collect();
    let mut events = Vec::with_capacity(EVENTS);
    let mut poll = 0u64;
    for i in 0..EVENTS {
        let at = START + (i as i64 * 1_000) / PER_SECOND as i64;
        let viewer = ids[rng.below(VIEWERS) as usize].clone();
        let activity = if i % (60 * PER_SECOND) == 0 {
            poll += 1;
            Activity::PollOpened {
                poll,
                question: format!("Question {poll}"),
            }
        } else if i % (60 * PER_SECOND) == 40 * PER_SECOND {
            Activity::PollClosed { poll }
        } else if i == 5 {
            Activity::OfferPushed {
                offer: "spring".into(),
            }
        } else {
            match rng.below(100) {
                0..=14 => Activity::Joined {
                    viewer,
                    name: "A viewer".into(),
                    staff: false,
                },
                15..=24 => Activity::Left { viewer },
                25..=49 => Activity::Chat {
                    viewer,
                    staff: false,
                },
                50..=64 => Activity::Ballot { poll, viewer },
                65..=69 => Activity::QuestionAsked { viewer },
                70..=79 => Activity::QuestionUpvoted { viewer },
                80..=84 => Activity::Reactions {
                    viewer: None,
                    count: 1 + rng.below(5) as u32,
                },
                85..=94 => Activity::OfferExposed {
                    viewer,
                    offer: "spring".into(),
                    variant: 0,
                },
                _ => Activity::OfferClicked {
                    viewer,
                    offer: "spring".into(),
                    variant: 0,
                },
            }
        };
        events.push(EngagementEvent {
            at_ms: at,
            activity,
        });
    }
    events
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() {
    let events = synthetic_class();
    let now = events.last().map_or(START, |e| e.at_ms) + 1_000;

    let started = Instant::now();
    let batch = black_box(recompute(START, black_box(&events), now));
    let recompute_ms = started.elapsed().as_secs_f64() * 1e3;

    let mut live = LiveEngagement::new(START);
    let started = Instant::now();
    let mut last = None;
    for (i, e) in events.iter().enumerate() {
        live.push(e);
        if (i + 1) % PER_SECOND == 0 {
            black_box(live.alerts(e.at_ms));
            last = Some(black_box(live.snapshot(e.at_ms)));
        }
    }
    let live_us = started.elapsed().as_secs_f64() * 1e6 / EVENTS as f64;
    assert!(last.is_some());
    assert_eq!(live.snapshot(now), batch, "live and recomputed agree");

    println!("recompute: {recompute_ms:.0} ms");
    println!("live update: {live_us:.2} us/event");
    println!("peak memory: {}", peak_memory());
}
