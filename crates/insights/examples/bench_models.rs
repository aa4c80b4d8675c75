//! Purchase prediction and recommendations at the size of a big school: 50,000 attendee rows of
//! 12 features (synthetic, seeded, with a planted signal) for the logistic regression of
//! `propensity` and the random forest of `forest`, each trained on the older three quarters and
//! judged on the rest; then the next courses of 3,000 learners in a catalog of 40 courses.
//!
//! `cargo run --release -p lectern-insights --example bench_models`
//!
//! Peak memory is the process's VmHWM from /proc/self/status (Linux), read after each step, so
//! each figure includes the steps before it.

#![allow(clippy::unwrap_used, reason = "a benchmark: fail loudly")]

use std::hint::black_box;
use std::time::Instant;

use lectern_insights::forest::{Forest, ForestParams};
use lectern_insights::propensity::{Auc, auc_with_interval, fit_logistic};
use lectern_insights::recs::{CourseInfo, Method, PurchaseRecord, Recommender, TrainOptions};

const ROWS: usize = 50_000;
const WIDTH: usize = 12;
const LEARNERS: usize = 3_000;
const COURSES: usize = 40;

/// SplitMix64: the same data on every run.
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
}

fn peak_mb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or_else(
            || "unknown".to_owned(),
            |kb| format!("{:.1} MB", kb / 1024.0),
        )
}

/// Rows in time order: counts and minutes, with buying driven by watch time, clicks, recency
/// of the last purchase and one interaction.
fn attendee_rows() -> (Vec<Vec<f64>>, Vec<bool>) {
    let mut rng = Rng(2026);
    let mut x = Vec::with_capacity(ROWS);
    let mut y = Vec::with_capacity(ROWS);
    for _ in 0..ROWS {
        let mut row: Vec<f64> = (0..WIDTH).map(|_| (rng.unit() * 6.0).floor()).collect();
        row[0] = rng.unit() * 90.0; // watch minutes
        row[7] = rng.unit() * 365.0; // days since last purchase
        row[8] = (rng.unit() * 400.0).floor(); // past spend
        let clicks = row[5];
        let logit = -3.2 + 0.03 * row[0] + 0.35 * clicks - 0.004 * row[7]
            + if row[0] > 60.0 && row[7] < 90.0 {
                1.2
            } else {
                0.0
            };
        x.push(row);
        y.push(rng.unit() < 1.0 / (1.0 + (-logit).exp()));
    }
    (x, y)
}

fn standardise(train: &[Vec<f64>], rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = train.len() as f64;
    let stats: Vec<(f64, f64)> = (0..WIDTH)
        .map(|k| {
            let mean = train.iter().map(|r| r[k]).sum::<f64>() / n;
            let var = train.iter().map(|r| (r[k] - mean).powi(2)).sum::<f64>() / n;
            (mean, if var > 1e-12 { var.sqrt() } else { 1.0 })
        })
        .collect();
    rows.iter()
        .map(|r| {
            (0..WIDTH)
                .map(|k| (r[k] - stats[k].0) / stats[k].1)
                .collect()
        })
        .collect()
}

/// "0.7875 [0.7790, 0.7960] in 1.2 ms": the AUC, its 95% DeLong interval, and how long that took.
fn auc_words(p: &[f64], y: &[bool]) -> String {
    let started = Instant::now();
    let Auc {
        estimate,
        low,
        high,
    } = auc_with_interval(p, y);
    format!(
        "{estimate:.4} [{low:.4}, {high:.4}] in {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    )
}

fn brier(p: &[f64], y: &[bool]) -> f64 {
    p.iter()
        .zip(y)
        .map(|(p, &l)| (p - f64::from(u8::from(l))).powi(2))
        .sum::<f64>()
        / p.len() as f64
}

fn main() {
    println!("peak memory at start: {}", peak_mb());

    // Recommendations: 3,000 learners, 40 courses in 8 tracks, ~3 purchases each.
    let mut rng = Rng(7);
    let topics = [
        "python", "data", "web", "devops", "design", "security", "ml", "cloud",
    ];
    let courses: Vec<CourseInfo> = (0..COURSES)
        .map(|i| CourseInfo {
            id: format!("course-{i:02}"),
            title: format!("Course {i}"),
            tags: vec![
                topics[i % 8].to_owned(),
                topics[(i / 8 + i) % 8].to_owned(),
                format!("level-{}", i / 8),
            ],
        })
        .collect();
    let mut purchases = Vec::new();
    for l in 0..LEARNERS {
        let track = rng.below(8);
        let mut at = 1_760_000_000_000 + rng.below(200) as i64 * 86_400_000;
        for step in 0..1 + rng.below(5) {
            let course = if rng.unit() < 0.8 {
                track + 8 * (step % 5)
            } else {
                rng.below(COURSES)
            };
            purchases.push(PurchaseRecord {
                learner: format!("lrn_{l:05}"),
                course: courses[course].id.clone(),
                at_ms: at,
            });
            at += (1 + rng.below(60)) as i64 * 86_400_000;
        }
    }
    let mut owned: Vec<Vec<String>> = vec![Vec::new(); LEARNERS];
    for p in &purchases {
        let l: usize = p.learner[4..].parse().unwrap();
        owned[l].push(p.course.clone());
    }
    let started = Instant::now();
    let recommender = Recommender::train(&courses, &purchases, TrainOptions::default());
    let trained = started.elapsed();
    let mut shown = 0;
    for mine in &owned {
        shown += black_box(recommender.for_learner(mine, Method::Blend, 5)).len();
    }
    let recs = started.elapsed();
    println!(
        "recommendations: {:.1} ms ({LEARNERS} learners x {COURSES} courses, {} purchases, top 5 \
         each, {shown} shown; counting {:.1} ms)",
        recs.as_secs_f64() * 1e3,
        purchases.len(),
        trained.as_secs_f64() * 1e3
    );
    println!("peak memory after recommendations: {}", peak_mb());

    // Purchase prediction: older 75% to learn, newest 25% to judge.
    let (x, y) = attendee_rows();
    let cut = ROWS * 3 / 4;
    let (x_train, x_test) = x.split_at(cut);
    let (y_train, y_test) = y.split_at(cut);
    println!(
        "rows: {ROWS} x {WIDTH} features, {} buyers ({:.1}%)",
        y.iter().filter(|&&b| b).count(),
        100.0 * y.iter().filter(|&&b| b).count() as f64 / ROWS as f64
    );
    println!("peak memory with the rows: {}", peak_mb());

    let started = Instant::now();
    let z_train = standardise(x_train, x_train);
    let (coefficients, intercept) = fit_logistic(&z_train, y_train, 1.0).unwrap();
    let elapsed = started.elapsed();
    let z_test = standardise(x_train, x_test);
    let p: Vec<f64> = z_test
        .iter()
        .map(|r| {
            let t = intercept + r.iter().zip(&coefficients).map(|(a, b)| a * b).sum::<f64>();
            1.0 / (1.0 + (-t).exp())
        })
        .collect();
    println!(
        "logistic: {:.1} ms (train {cut} rows; held-out AUC {}, Brier {:.4})",
        elapsed.as_secs_f64() * 1e3,
        auc_words(&p, y_test),
        brier(&p, y_test)
    );
    println!("peak memory after logistic: {}", peak_mb());

    let names: Vec<String> = (0..WIDTH).map(|k| format!("f{k}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let params = ForestParams::default();
    let started = Instant::now();
    let forest = Forest::fit(x_train, y_train, &names, &params, |done, total| {
        if done % 25 == 0 {
            eprintln!("  forest: {done}/{total} trees");
        }
    })
    .unwrap();
    let elapsed = started.elapsed();
    let scoring = Instant::now();
    let p: Vec<f64> = x_test
        .iter()
        .map(|r| forest.probability(r).unwrap())
        .collect();
    let scored = scoring.elapsed();
    let json = serde_json::to_vec(&forest).unwrap();
    println!(
        "forest: {:.1} ms ({} trees, min {} rows per leaf, depth <= {}, {} nodes, {:.1} MB as \
         JSON; held-out AUC {}, Brier {:.4}; scoring {} rows {:.1} ms)",
        elapsed.as_secs_f64() * 1e3,
        params.trees,
        params.min_samples_leaf,
        params.max_depth,
        forest.nodes(),
        json.len() as f64 / 1e6,
        auc_words(&p, y_test),
        brier(&p, y_test),
        x_test.len(),
        scored.as_secs_f64() * 1e3
    );
    println!("peak memory after forest: {}", peak_mb());
}
