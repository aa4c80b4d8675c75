//! Offline evaluation: rolling time cuts, per-learner metrics, and paired bootstrap intervals of
//! every method's difference to the best simple baseline, for warm learners, cold-start learners
//! and new courses apart.
//!
//! At each cut the recommender is trained on the purchases before it only (its blend weights are
//! chosen inside that history, see [`TrainOptions`]) and judged on what learners bought from the
//! cut to the next one. A learner judged at several cuts is one unit of the bootstrap, so the
//! intervals do not pretend that one learner's cuts are independent.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::model::{BlendWeights, Case, Recommender, TrainOptions, Tuning};
use super::{CourseInfo, Method, PurchaseRecord};
use crate::calendar;
use crate::rng::Rng;

/// How [`evaluate_report`] works.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// The cut times (Unix ms, increasing); empty: [`rolling_cuts`] with 4 cuts.
    pub cuts: Vec<i64>,
    /// Bootstrap resamples of learners.
    pub resamples: u32,
    /// The bootstrap's seed.
    pub seed: u64,
    /// How each cut's recommender is trained.
    pub train: TrainOptions,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            cuts: Vec::new(),
            resamples: 1_000,
            seed: 14,
            train: TrainOptions::default(),
        }
    }
}

/// Which learners (or purchases) a part of the report judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// Learners who had bought something before the cut, judged on everything new they bought.
    Warm,
    /// Learners with no purchase before the cut.
    ColdStart,
    /// Learners who bought a course that had no buyer before the cut, judged on those courses
    /// only: does the method show a new course to the learners who then buy it?
    NewCourses,
}

impl Segment {
    /// Every segment, in the report's order.
    pub const ALL: [Segment; 3] = [Segment::Warm, Segment::ColdStart, Segment::NewCourses];

    fn title(self) -> &'static str {
        match self {
            Segment::Warm => {
                "Warm learners (bought before the cut), judged on what they bought next"
            }
            Segment::ColdStart => "Cold-start learners (no purchase before the cut)",
            Segment::NewCourses => {
                "New courses (no buyer before the cut), judged on the learners who bought one and on those courses only"
            }
        }
    }
}

/// A difference of means with its 95% paired bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// The difference of the means.
    pub mean: f64,
    /// 2.5th percentile of the resampled differences.
    pub low: f64,
    /// 97.5th percentile.
    pub high: f64,
}

/// What an [`Interval`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The whole interval is above zero.
    Better,
    /// The whole interval is below zero.
    Worse,
    /// The interval holds zero.
    Unclear,
}

impl Interval {
    /// Above, below or around zero.
    pub fn verdict(&self) -> Verdict {
        if self.low > 0.0 {
            Verdict::Better
        } else if self.high < 0.0 {
            Verdict::Worse
        } else {
            Verdict::Unclear
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:+.4} [{:+.4}, {:+.4}]", self.mean, self.low, self.high)
    }
}

/// One method in one segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MethodLine {
    /// The method.
    pub method: Method,
    /// Mean NDCG of the top 10 (binary relevance).
    pub ndcg_at_10: f64,
    /// Mean share of the relevant courses found in the top 5.
    pub recall_at_5: f64,
    /// Mean share of the top 5 that is relevant.
    pub precision_at_5: f64,
    /// Share of the judged learners whose top 5 holds a course with no buyer before the cut.
    pub shows_new_at_5: f64,
    /// NDCG@10 minus the best simple baseline's (`None` for that baseline itself).
    pub ndcg_versus_best: Option<Interval>,
    /// Recall@5 minus the best simple baseline's.
    pub recall_versus_best: Option<Interval>,
}

/// The methods compared on one segment, over all cuts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentReport {
    /// Which learners.
    pub segment: Segment,
    /// Learner-cut pairs judged.
    pub cases: u32,
    /// Distinct learners among them.
    pub learners: u32,
    /// The simple baseline with the highest mean NDCG@10 here (`None` without cases).
    pub best_baseline: Option<Method>,
    /// One line per method, in [`Method::ALL`] order (empty without cases).
    pub lines: Vec<MethodLine>,
}

impl SegmentReport {
    /// The line of `method`.
    pub fn line(&self, method: Method) -> Option<&MethodLine> {
        self.lines.iter().find(|l| l.method == method)
    }
}

/// One time cut.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitSummary {
    /// Trained on purchases before this time (Unix ms).
    pub cut_ms: i64,
    /// Judged on purchases from the cut to this time (`None`: to the end of the data).
    pub until_ms: Option<i64>,
    /// Purchases trained on.
    pub trained_on: u32,
    /// Warm learners judged.
    pub warm: u32,
    /// Cold-start learners judged.
    pub cold_start: u32,
    /// Courses with no buyer before the cut that were bought in the window.
    pub new_courses_bought: u32,
    /// The blend's weights at this cut.
    pub weights: BlendWeights,
    /// How they were set.
    pub tuning: Tuning,
    /// Warm learners: the blend's NDCG@10 minus the warm segment's best simple baseline's.
    pub blend_versus_best: Option<Interval>,
}

/// The result of [`evaluate_report`]; its `Display` is the table `lectern eval recs` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// One per cut, oldest first.
    pub splits: Vec<SplitSummary>,
    /// Warm, cold-start and new courses, in [`Segment::ALL`] order.
    pub segments: Vec<SegmentReport>,
    /// Bootstrap resamples behind every interval.
    pub resamples: u32,
}

impl EvalReport {
    /// The report of one segment.
    pub fn segment(&self, segment: Segment) -> Option<&SegmentReport> {
        self.segments.iter().find(|s| s.segment == segment)
    }
}

/// Metrics of one learner at one cut, per method: NDCG@10, recall@5, precision@5, shows new@5.
type Scores = [[f64; 4]; Method::ALL.len()];
const NDCG: usize = 0;
const RECALL: usize = 1;
const PRECISION: usize = 2;
const SHOWS_NEW: usize = 3;

struct Row {
    learner: usize,
    split: usize,
    scores: Scores,
}

/// The last `count` tenths of the purchases, each predicted from everything before it: cuts at
/// the times by which 100% - 10% x k of the purchases had happened (k = count..1). At most 9;
/// equal times are merged.
pub fn rolling_cuts(purchases: &[PurchaseRecord], count: usize) -> Vec<i64> {
    let mut times: Vec<i64> = purchases.iter().map(|p| p.at_ms).collect();
    if times.is_empty() {
        return Vec::new();
    }
    times.sort_unstable();
    let count = count.clamp(1, 9);
    let mut cuts: Vec<i64> = (1..=count)
        .rev()
        .map(|k| times[(times.len() * (10 - k) / 10).min(times.len() - 1)])
        .collect();
    cuts.dedup();
    cuts
}

/// Judge every method at each cut of `options` (see the module docs) and compare each with the
/// best simple baseline of each segment.
pub fn evaluate_report(
    courses: &[CourseInfo],
    purchases: &[PurchaseRecord],
    options: &EvalOptions,
) -> EvalReport {
    let mut cuts = if options.cuts.is_empty() {
        rolling_cuts(purchases, 4)
    } else {
        options.cuts.clone()
    };
    cuts.sort_unstable();
    cuts.dedup();
    let mut learners: BTreeMap<String, usize> = BTreeMap::new();
    let mut rows: [Vec<Row>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let mut splits = Vec::with_capacity(cuts.len());
    for (k, &cut) in cuts.iter().enumerate() {
        let until = cuts.get(k + 1).copied();
        let before: Vec<PurchaseRecord> = purchases
            .iter()
            .filter(|p| p.at_ms < cut)
            .cloned()
            .collect();
        let model = Recommender::train(courses, &before, options.train);
        let cases = model.cases(purchases, cut, until.unwrap_or(i64::MAX));
        let mut new_bought = BTreeSet::new();
        let (mut warm, mut cold) = (0u32, 0u32);
        for case in &cases {
            let next = learners.len();
            let learner = *learners.entry(case.learner.clone()).or_insert(next);
            let new: BTreeSet<usize> = case
                .relevant
                .iter()
                .copied()
                .filter(|&j| model.is_new(j))
                .collect();
            new_bought.extend(new.iter().copied());
            let (all, only_new) = judge(&model, case, &new);
            let segment = if case.history.is_empty() {
                cold += 1;
                1
            } else {
                warm += 1;
                0
            };
            rows[segment].push(Row {
                learner,
                split: k,
                scores: all,
            });
            if let Some(scores) = only_new {
                rows[2].push(Row {
                    learner,
                    split: k,
                    scores,
                });
            }
        }
        splits.push(SplitSummary {
            cut_ms: cut,
            until_ms: until,
            trained_on: u32::try_from(before.len()).unwrap_or(u32::MAX),
            warm,
            cold_start: cold,
            new_courses_bought: u32::try_from(new_bought.len()).unwrap_or(u32::MAX),
            weights: model.weights(),
            tuning: model.tuning(),
            blend_versus_best: None,
        });
    }
    let mut rng = Rng::new(options.seed);
    let segments: Vec<SegmentReport> = Segment::ALL
        .iter()
        .zip(&rows)
        .map(|(&segment, rows)| segment_report(segment, rows, options.resamples, &mut rng))
        .collect();
    if let Some(best) = segments[0].best_baseline {
        for (k, split) in splits.iter_mut().enumerate() {
            let mine: Vec<&Row> = rows[0].iter().filter(|r| r.split == k).collect();
            if !mine.is_empty() {
                split.blend_versus_best = Some(
                    paired_intervals(&mine, best, NDCG, options.resamples, &mut rng)
                        [index_of(Method::Blend)],
                );
            }
        }
    }
    EvalReport {
        splits,
        segments,
        resamples: options.resamples,
    }
}

fn index_of(method: Method) -> usize {
    Method::ALL
        .iter()
        .position(|&m| m == method)
        .unwrap_or_default()
}

/// Every method's metrics for one case, and on the new courses alone when it bought any.
fn judge(model: &Recommender, case: &Case, new: &BTreeSet<usize>) -> (Scores, Option<Scores>) {
    let mut all = [[0.0; 4]; Method::ALL.len()];
    let mut only_new = [[0.0; 4]; Method::ALL.len()];
    for (m, &method) in Method::ALL.iter().enumerate() {
        let ranking = model.ranking(&case.history, method);
        let top = &ranking[..ranking.len().min(10)];
        let shows_new = if top.iter().take(5).any(|&j| model.is_new(j)) {
            1.0
        } else {
            0.0
        };
        all[m] = metrics(top, &case.relevant, shows_new);
        only_new[m] = metrics(top, new, shows_new);
    }
    (all, (!new.is_empty()).then_some(only_new))
}

fn metrics(top: &[usize], relevant: &BTreeSet<usize>, shows_new: f64) -> [f64; 4] {
    let hits5 = top.iter().take(5).filter(|j| relevant.contains(j)).count() as f64;
    [
        ndcg(top, relevant, 10),
        hits5 / relevant.len().max(1) as f64,
        hits5 / 5.0,
        shows_new,
    ]
}

/// Normalised discounted cumulative gain of the first `k` of `top` (binary relevance).
pub(crate) fn ndcg(top: &[usize], relevant: &BTreeSet<usize>, k: usize) -> f64 {
    let gain = |rank: usize| 1.0 / libm::log2(rank as f64 + 2.0);
    let dcg: f64 = top
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, j)| relevant.contains(j))
        .map(|(rank, _)| gain(rank))
        .sum();
    let ideal: f64 = (0..relevant.len().min(k)).map(gain).sum();
    if ideal > 0.0 { dcg / ideal + 0.0 } else { 0.0 }
}

fn segment_report(segment: Segment, rows: &[Row], resamples: u32, rng: &mut Rng) -> SegmentReport {
    let distinct: BTreeSet<usize> = rows.iter().map(|r| r.learner).collect();
    let mut report = SegmentReport {
        segment,
        cases: u32::try_from(rows.len()).unwrap_or(u32::MAX),
        learners: u32::try_from(distinct.len()).unwrap_or(u32::MAX),
        best_baseline: None,
        lines: Vec::new(),
    };
    if rows.is_empty() {
        return report;
    }
    let n = rows.len() as f64;
    let mean = |m: usize, metric: usize| rows.iter().map(|r| r.scores[m][metric]).sum::<f64>() / n;
    let best = Method::BASELINES
        .iter()
        .copied()
        .reduce(|a, b| {
            if mean(index_of(b), NDCG) > mean(index_of(a), NDCG) {
                b
            } else {
                a
            }
        })
        .unwrap_or(Method::Popularity);
    let all: Vec<&Row> = rows.iter().collect();
    let ndcg_diff = paired_intervals(&all, best, NDCG, resamples, rng);
    let recall_diff = paired_intervals(&all, best, RECALL, resamples, rng);
    report.best_baseline = Some(best);
    report.lines = Method::ALL
        .iter()
        .enumerate()
        .map(|(m, &method)| MethodLine {
            method,
            ndcg_at_10: mean(m, NDCG),
            recall_at_5: mean(m, RECALL),
            precision_at_5: mean(m, PRECISION),
            shows_new_at_5: mean(m, SHOWS_NEW),
            ndcg_versus_best: (method != best).then_some(ndcg_diff[m]),
            recall_versus_best: (method != best).then_some(recall_diff[m]),
        })
        .collect();
    report
}

/// For every method, its mean `metric` minus `base`'s, with a 95% percentile interval from
/// `resamples` bootstrap resamples of learners (a learner's rows at several cuts move together;
/// every method sees the same resample, so the differences are paired).
fn paired_intervals(
    rows: &[&Row],
    base: Method,
    metric: usize,
    resamples: u32,
    rng: &mut Rng,
) -> Vec<Interval> {
    let methods = Method::ALL.len();
    let b = index_of(base);
    let mut clusters: BTreeMap<usize, (f64, Vec<f64>)> = BTreeMap::new();
    for row in rows {
        let entry = clusters
            .entry(row.learner)
            .or_insert_with(|| (0.0, vec![0.0; methods]));
        entry.0 += 1.0;
        for (m, sum) in entry.1.iter_mut().enumerate() {
            *sum += row.scores[m][metric] - row.scores[b][metric];
        }
    }
    let clusters: Vec<(f64, Vec<f64>)> = clusters.into_values().collect();
    let count: f64 = clusters.iter().map(|c| c.0).sum();
    let means: Vec<f64> = (0..methods)
        .map(|m| clusters.iter().map(|c| c.1[m]).sum::<f64>() / count)
        .collect();
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(resamples as usize); methods];
    let mut picked = vec![0u32; clusters.len()];
    for _ in 0..resamples {
        picked.iter_mut().for_each(|p| *p = 0);
        for _ in 0..clusters.len() {
            picked[rng.below(clusters.len())] += 1;
        }
        let rows: f64 = clusters
            .iter()
            .zip(&picked)
            .map(|(c, &p)| c.0 * f64::from(p))
            .sum();
        for (m, draw) in draws.iter_mut().enumerate() {
            let sum: f64 = clusters
                .iter()
                .zip(&picked)
                .map(|(c, &p)| c.1[m] * f64::from(p))
                .sum();
            draw.push(sum / rows);
        }
    }
    draws
        .into_iter()
        .zip(means)
        .map(|(mut draw, mean)| {
            draw.sort_by(f64::total_cmp);
            Interval {
                mean,
                low: percentile(&draw, 0.025).unwrap_or(mean),
                high: percentile(&draw, 0.975).unwrap_or(mean),
            }
        })
        .collect()
}

/// The `p` quantile of sorted values, interpolated linearly.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let at = p * last as f64;
    let lo = at.floor() as usize;
    let hi = (lo + 1).min(last);
    let frac = at - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Recommendations judged offline at {} time cuts: at each, every method learns only from \
             the purchases before the cut and is judged on what learners bought from the cut to the \
             next one (courses they had are never counted). The blend's weights are chosen inside \
             each cut's own history (three validation windows in its newest half), never on the \
             judged purchases. Intervals: 95%, paired bootstrap over learners ({} resamples), of \
             each method minus the best simple baseline.",
            self.splits.len(),
            self.resamples
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<10}  {:<10}  {:>7}  {:>5}  {:>5}  {:>4}  {:<34}  blend - best baseline, ndcg@10 (warm)",
            "cut",
            "until",
            "trained",
            "warm",
            "cold",
            "new",
            "blend weights next/latest/tog/topic/pop"
        )?;
        for s in &self.splits {
            let tuned = match s.tuning {
                Tuning::Given => "given".to_owned(),
                Tuning::Validated { cases, .. } => format!("chosen on {cases}"),
                Tuning::TooFewCases { cases } => format!("default: {cases} to tune on"),
            };
            let w = s.weights;
            writeln!(
                f,
                "{:<10}  {:<10}  {:>7}  {:>5}  {:>5}  {:>4}  {:<34}  {}",
                calendar::day(s.cut_ms),
                s.until_ms.map_or_else(|| "end".to_owned(), calendar::day),
                s.trained_on,
                s.warm,
                s.cold_start,
                s.new_courses_bought,
                format!(
                    "{:.1}/{:.1}/{:.1}/{:.1}/{:.1} first {:.1} ({tuned})",
                    w.next, w.latest, w.together, w.topics, w.popular, w.first
                ),
                s.blend_versus_best
                    .map_or_else(|| "-".to_owned(), |i| format!("{i} {}", verdict(&i))),
            )?;
        }
        for segment in &self.segments {
            writeln!(f)?;
            writeln!(f, "{}:", segment.segment.title())?;
            let Some(best) = segment.best_baseline else {
                writeln!(f, "  nobody to judge")?;
                continue;
            };
            writeln!(
                f,
                "  {} judged ({} learners); best simple baseline: {}",
                segment.cases,
                segment.learners,
                best.name()
            )?;
            writeln!(
                f,
                "  {:<18} {:>8} {:>9} {:>7} {:>6}  {:<36}  recall@5 - {}",
                "method",
                "ndcg@10",
                "recall@5",
                "prec@5",
                "new@5",
                format!("ndcg@10 - {}", best.name()),
                best.name(),
            )?;
            for line in &segment.lines {
                let versus = |i: Option<Interval>| {
                    i.map_or_else(
                        || "(best simple baseline)".to_owned(),
                        |i| format!("{i} {}", verdict(&i)),
                    )
                };
                writeln!(
                    f,
                    "  {:<18} {:>8.4} {:>9.4} {:>7.4} {:>6.3}  {:<36}  {}",
                    format!(
                        "{}{}",
                        line.method.name(),
                        if line.method.is_baseline() { "" } else { " *" }
                    ),
                    line.ndcg_at_10,
                    line.recall_at_5,
                    line.precision_at_5,
                    line.shows_new_at_5,
                    versus(line.ndcg_versus_best),
                    versus(line.recall_versus_best),
                )?;
            }
        }
        writeln!(f)?;
        write!(
            f,
            "* not a simple baseline. new@5: share of the judged learners shown a course with no \
             buyer before the cut in their top 5."
        )
    }
}

fn verdict(i: &Interval) -> &'static str {
    match i.verdict() {
        Verdict::Better => "better",
        Verdict::Worse => "worse",
        Verdict::Unclear => "unclear",
    }
}

/// One line of the one-cut summary [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EvalLine {
    /// The method.
    pub method: Method,
    /// Mean share of the top 5 that the learner bought after the split.
    pub precision_at_5: f64,
    /// Mean share of what the learner bought after the split found in the top 5.
    pub recall_at_5: f64,
    /// Mean normalised discounted cumulative gain of the top 10 (binary relevance).
    pub ndcg_at_10: f64,
    /// Learners evaluated (bought before and after the split).
    pub learners: u32,
}

impl fmt::Display for EvalLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} precision@5={:.4} recall@5={:.4} ndcg@10={:.4}",
            self.method.name(),
            self.precision_at_5,
            self.recall_at_5,
            self.ndcg_at_10
        )
    }
}

/// One cut, no intervals: train on purchases before `split_ms`, and score every method on the
/// learners who bought something before and something new after it. Prefer
/// [`evaluate_report`], which compares with the simple baselines over several cuts.
pub fn evaluate(
    courses: &[CourseInfo],
    purchases: &[PurchaseRecord],
    split_ms: i64,
) -> Vec<EvalLine> {
    let before: Vec<PurchaseRecord> = purchases
        .iter()
        .filter(|p| p.at_ms < split_ms)
        .cloned()
        .collect();
    let model = Recommender::train(courses, &before, TrainOptions::default());
    let cases: Vec<Case> = model
        .cases(purchases, split_ms, i64::MAX)
        .into_iter()
        .filter(|c| !c.history.is_empty())
        .collect();
    let n = cases.len().max(1) as f64;
    Method::ALL
        .iter()
        .map(|&method| {
            let mut sums = [0.0; 4];
            for case in &cases {
                let ranking = model.ranking(&case.history, method);
                let m = metrics(&ranking[..ranking.len().min(10)], &case.relevant, 0.0);
                for (s, v) in sums.iter_mut().zip(m) {
                    *s += v;
                }
            }
            EvalLine {
                method,
                precision_at_5: sums[PRECISION] / n,
                recall_at_5: sums[RECALL] / n,
                ndcg_at_10: sums[NDCG] / n,
                learners: u32::try_from(cases.len()).unwrap_or(u32::MAX),
            }
        })
        .collect()
}

/// The default split of a one-cut evaluation: the time by which 80% of the purchases had
/// happened, so the newest fifth is what the methods must predict. `None` without purchases.
pub fn default_split(purchases: &[PurchaseRecord]) -> Option<i64> {
    let mut times: Vec<i64> = purchases.iter().map(|p| p.at_ms).collect();
    if times.is_empty() {
        return None;
    }
    times.sort_unstable();
    let at = (times.len() * 4 / 5).min(times.len() - 1);
    times.get(at).copied()
}
