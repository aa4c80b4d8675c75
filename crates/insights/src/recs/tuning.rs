//! Choosing the blend's weights inside the training history: validation windows, a grid, and
//! NDCG@10. Nothing here sees the purchases an evaluation judges: [`tune`] is given only what
//! the recommender is trained on.

use std::collections::BTreeSet;

use super::model::{BlendWeights, Recommender, SIGNALS, Tuning, place_launches_by_tags};
use super::{CourseInfo, PurchaseRecord};

/// Fewest validation learners worth choosing weights on.
const MIN_CASES: usize = 30;
/// The weight grid's resolution: weights are multiples of 1/GRID_STEPS.
const GRID_STEPS: usize = 10;
/// Validation windows: the newest `WINDOWS` sixths of the purchases, each judged by a model
/// counted on the purchases before it. Three windows rather than one: the weights chosen on a
/// single sixth (200-300 learners at the demo's size) moved from cut to cut with the noise.
const WINDOWS: usize = 3;
const WINDOW_SHARE: usize = 6;

/// One validation learner: the signals of the courses they lacked, and which they bought.
struct Judged {
    /// Per course they lacked: its four signals, its buyers (ties go to more buyers, as in the
    /// ranking) and its catalog number (then to the earlier).
    candidates: Vec<([f64; SIGNALS], u32, usize)>,
    /// For a learner with purchases when a course they lacked had no buyer, per course they
    /// lacked: its tag cosine to their profile and whether nobody had bought it (launches are
    /// placed by tags, as the blend ranks).
    launches: Option<(Vec<f64>, Vec<bool>)>,
    /// Indexes into `candidates` of the courses they bought.
    relevant: Vec<usize>,
}

impl Judged {
    fn new(
        signals: &[Vec<f64>; SIGNALS],
        cosines: Option<&[f64]>,
        lacked: Vec<(usize, u32)>,
        bought: &BTreeSet<usize>,
    ) -> Judged {
        let launches = cosines
            .filter(|_| lacked.iter().any(|&(_, buyers)| buyers == 0))
            .map(|c| {
                lacked
                    .iter()
                    .map(|&(j, buyers)| (c[j], buyers == 0))
                    .unzip()
            });
        let relevant = lacked
            .iter()
            .enumerate()
            .filter(|(_, (j, _))| bought.contains(j))
            .map(|(k, _)| k)
            .collect();
        let candidates = lacked
            .into_iter()
            .map(|(j, buyers)| (std::array::from_fn(|s| signals[s][j]), buyers, j))
            .collect();
        Judged {
            candidates,
            launches,
            relevant,
        }
    }

    /// NDCG@10 of `shares` of the signals: only the ranks of the bought courses matter, so they
    /// are counted, not sorted for (plain loops: this runs for every weight on the grid).
    fn ndcg(&self, shares: &[f64; SIGNALS]) -> f64 {
        let mut scores = Vec::with_capacity(self.candidates.len());
        for (signals, _, _) in &self.candidates {
            let mut score = 0.0;
            for s in 0..SIGNALS {
                score += signals[s] * shares[s];
            }
            scores.push(score);
        }
        if let Some((cosines, new)) = &self.launches {
            place_launches_by_tags(&mut scores, cosines, new);
        }
        let mut dcg = 0.0;
        for &r in &self.relevant {
            let (score, buyers, course) = (scores[r], self.candidates[r].1, self.candidates[r].2);
            let mut rank = 0;
            for (k, &(_, b, j)) in self.candidates.iter().enumerate() {
                let s = scores[k];
                // Ahead: a higher score, then more buyers, then earlier in the catalog.
                if s > score || (s == score && (b > buyers || (b == buyers && j < course))) {
                    rank += 1;
                    if rank == 10 {
                        break;
                    }
                }
            }
            if rank < 10 {
                dcg += gain(rank);
            }
        }
        let ideal: f64 = (0..self.relevant.len().min(10)).map(gain).sum();
        if ideal > 0.0 { dcg / ideal } else { 0.0 }
    }
}

fn gain(rank: usize) -> f64 {
    1.0 / libm::log2(rank as f64 + 2.0)
}

/// The blend's weights chosen on validation windows (see [`super::TrainOptions`]).
pub(crate) fn tune(
    courses: &[CourseInfo],
    purchases: &[PurchaseRecord],
    recent_days: u32,
) -> (BlendWeights, Tuning) {
    let known: BTreeSet<&str> = courses.iter().map(|c| c.id.as_str()).collect();
    let mut times: Vec<i64> = purchases
        .iter()
        .filter(|p| known.contains(p.course.as_str()))
        .map(|p| p.at_ms)
        .collect();
    times.sort_unstable();
    let len = times.len();
    let start_of = |k: usize| times.get(len - len * k / WINDOW_SHARE).copied();
    let mut warm: Vec<Judged> = Vec::new();
    let mut cold: Vec<Judged> = Vec::new();
    for window in 1..=WINDOWS {
        let Some(from) = start_of(window) else {
            continue;
        };
        let to = if window == 1 {
            i64::MAX
        } else {
            start_of(window - 1).unwrap_or(i64::MAX)
        };
        let before: Vec<PurchaseRecord> = purchases
            .iter()
            .filter(|p| p.at_ms < from)
            .cloned()
            .collect();
        let inner = Recommender::count(courses, &before, recent_days);
        for case in inner.cases(purchases, from, to) {
            let candidates = (0..inner.course_count())
                .filter(|j| !case.history.contains(j))
                .map(|j| (j, inner.buyers(j)))
                .collect();
            if case.history.is_empty() {
                let [first, recent] = inner.cold_signals();
                let zero = vec![0.0; first.len()];
                let signals = [first, recent, zero.clone(), zero.clone(), zero];
                cold.push(Judged::new(&signals, None, candidates, &case.relevant));
            } else {
                let signals = inner.signals(&case.history, BlendWeights::default());
                let cosines = inner.topics(&case.history);
                warm.push(Judged::new(
                    &signals,
                    Some(&cosines),
                    candidates,
                    &case.relevant,
                ));
            }
        }
    }
    let cases = u32::try_from(warm.len()).unwrap_or(u32::MAX);
    let cold_cases = u32::try_from(cold.len()).unwrap_or(u32::MAX);
    if warm.len() < MIN_CASES {
        return (BlendWeights::default(), Tuning::TooFewCases { cases });
    }
    let defaults = BlendWeights::default();
    // Coarse to fine: fifths first, then the tenths around the best fifths.
    let coarse = best(&warm, grid(2, None));
    let (ndcg_at_10, shares) = best(
        &warm,
        std::iter::once(coarse.1).chain(grid(1, Some(coarse.1))),
    );
    let first = if cold.len() >= MIN_CASES {
        let mixes = (0..=GRID_STEPS).map(|k| {
            let f = k as f64 / GRID_STEPS as f64;
            [f, 1.0 - f, 0.0, 0.0, 0.0]
        });
        best(
            &cold,
            std::iter::once([defaults.first, 1.0 - defaults.first, 0.0, 0.0, 0.0]).chain(mixes),
        )
        .1[0]
    } else {
        defaults.first
    };
    let weights = BlendWeights {
        first,
        ..defaults.with_shares(shares)
    };
    (
        weights,
        Tuning::Validated {
            cases,
            ndcg_at_10,
            cold_cases,
        },
    )
}

/// The shares with the best mean NDCG@10 (the first of equals), and that mean.
fn best(
    judged: &[Judged],
    candidates: impl IntoIterator<Item = [f64; SIGNALS]>,
) -> (f64, [f64; SIGNALS]) {
    let mut best = (f64::NEG_INFINITY, BlendWeights::default().shares());
    for shares in candidates {
        let mean = judged.iter().map(|j| j.ndcg(&shares)).sum::<f64>() / judged.len().max(1) as f64;
        if mean > best.0 + 1e-12 {
            best = (mean, shares);
        }
    }
    best
}

/// Weight vectors on the simplex in steps of `step`/GRID_STEPS (equal shares first when
/// `near` is `None`), or only those within one step of `near` in every weight.
fn grid(step: usize, near: Option<[f64; SIGNALS]>) -> Vec<[f64; SIGNALS]> {
    let unit = 1.0 / GRID_STEPS as f64;
    let mut out = if near.is_none() {
        vec![BlendWeights::default().shares()]
    } else {
        Vec::new()
    };
    let close = |w: &[f64; SIGNALS]| {
        near.is_none_or(|n| {
            w != &n
                && w.iter()
                    .zip(n)
                    .all(|(a, b)| (a - b).abs() <= step as f64 * unit + 1e-9)
        })
    };
    // Every split of GRID_STEPS into SIGNALS multiples of `step`, as an odometer.
    let mut parts = [0usize; SIGNALS];
    loop {
        let used: usize = parts[..SIGNALS - 1].iter().sum();
        if used <= GRID_STEPS {
            parts[SIGNALS - 1] = GRID_STEPS - used;
            let w = parts.map(|p| p as f64 / GRID_STEPS as f64);
            if close(&w) {
                out.push(w);
            }
        }
        let mut k = 0;
        loop {
            if k == SIGNALS - 1 {
                return out;
            }
            parts[k] += step;
            if parts[..SIGNALS - 1].iter().sum::<usize>() <= GRID_STEPS {
                break;
            }
            parts[k] = 0;
            k += 1;
        }
    }
}
