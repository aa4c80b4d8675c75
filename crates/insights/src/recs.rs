//! Recommendations from the school's own purchases: which course to offer next, and why.
//!
//! Pure: the caller loads the catalog and the purchases (from the school file) and passes them
//! in; nothing here reads a file or a clock. Three signals, blended:
//!
//! - **what learners took next**: for each pair of courses (A, B), how many learners bought A and
//!   later B. `P(B after A)` is smoothed toward B's popularity, so a course with three buyers does
//!   not dominate with 2/3;
//! - **similar topics** (Jaccard of tags), which is all there is for a course nobody bought yet;
//! - **popularity**, the baseline to beat and the prior of the first signal.
//!
//! A learner never gets a course they already have. Each recommendation carries its reason
//! ("34 of 120 learners who took X took Y next"). [`evaluate`] measures the methods offline with a
//! time split: trained on what happened before the split, scored on what learners bought after.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::Serialize;

/// A course of the catalog, as the recommender sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CourseInfo {
    /// The catalog id.
    pub id: String,
    /// Its title (for reasons).
    pub title: String,
    /// Its topics.
    pub tags: Vec<String>,
}

/// One course bought by one learner at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseRecord {
    /// The (pseudonymous) learner.
    pub learner: String,
    /// The course's catalog id.
    pub course: String,
    /// When (Unix ms).
    pub at_ms: i64,
}

/// How a score is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The most bought courses the learner does not have.
    Popularity,
    /// What learners took after the courses this learner has (unsmoothed).
    NextCourse,
    /// Courses whose topics are closest to the learner's.
    Topics,
    /// Next-course smoothed toward popularity, plus topics.
    Blend,
}

impl Method {
    /// Every method, baseline first.
    pub const ALL: [Method; 4] = [
        Method::Popularity,
        Method::NextCourse,
        Method::Topics,
        Method::Blend,
    ];

    /// The name printed by `lectern eval recs`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Popularity => "popularity",
            Method::NextCourse => "next_course",
            Method::Topics => "topics",
            Method::Blend => "blend",
        }
    }
}

/// Why a course is recommended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// `took_next` of `took_from` learners who took `from` took the course afterwards.
    TookNext {
        /// The course the learner (or audience) has.
        from: String,
        /// Learners who bought `from`.
        took_from: u32,
        /// Of those, how many bought the recommended course later.
        took_next: u32,
    },
    /// It shares topics with a course the learner has.
    SimilarTopics {
        /// That course.
        from: String,
        /// The shared tags.
        shared: Vec<String>,
    },
    /// Many learners bought it.
    Popular {
        /// Learners who bought it.
        buyers: u32,
        /// Learners in all.
        learners: u32,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::TookNext {
                from,
                took_from,
                took_next,
            } => {
                write!(
                    f,
                    "{took_next} of {took_from} learners who took {from} took it next"
                )
            }
            Reason::SimilarTopics { from, shared } => {
                write!(f, "covers the topics of {from}: {}", shared.join(", "))
            }
            Reason::Popular { buyers, learners } => {
                write!(f, "bought by {buyers} of {learners} learners")
            }
        }
    }
}

/// One recommended course.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The course's catalog id.
    pub course: String,
    /// Its title.
    pub title: String,
    /// The score it was ranked by (comparable within one list only).
    pub score: f64,
    /// Why.
    pub reason: Reason,
    /// For an audience: how many attendees do not have it yet.
    pub audience_without_it: Option<u32>,
}

/// How strongly the blend leans on popularity and topics. Fixed, not tuned on test data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlendWeights {
    /// Pseudo-count of the popularity prior in `P(B after A)` (learners' worth of evidence).
    pub prior_strength: f64,
    /// Weight of topic similarity.
    pub topics: f64,
}

impl Default for BlendWeights {
    fn default() -> Self {
        BlendWeights {
            prior_strength: 5.0,
            topics: 0.05,
        }
    }
}

/// The trained recommender: counts from purchases, and the catalog.
#[derive(Debug, Clone)]
pub struct Recommender {
    courses: Vec<CourseInfo>,
    index: HashMap<String, usize>,
    tags: Vec<BTreeSet<String>>,
    /// Learners who bought course i.
    buyers: Vec<u32>,
    /// `next[i][j]`: learners who bought i and later j.
    next: Vec<HashMap<usize, u32>>,
    learners: u32,
    weights: BlendWeights,
}

impl Recommender {
    /// Count the purchases. Purchases of courses not in the catalog are ignored.
    pub fn train(
        courses: &[CourseInfo],
        purchases: &[PurchaseRecord],
        weights: BlendWeights,
    ) -> Recommender {
        let index: HashMap<String, usize> = courses
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let mut by_learner: HashMap<&str, Vec<(i64, usize)>> = HashMap::new();
        for p in purchases {
            if let Some(&course) = index.get(&p.course) {
                by_learner
                    .entry(p.learner.as_str())
                    .or_default()
                    .push((p.at_ms, course));
            }
        }
        let n = courses.len();
        let mut buyers = vec![0u32; n];
        let mut next: Vec<HashMap<usize, u32>> = vec![HashMap::new(); n];
        for history in by_learner.values_mut() {
            // The first time each course was bought.
            history.sort_unstable();
            let mut first: Vec<(i64, usize)> = Vec::with_capacity(history.len());
            for &(at, course) in history.iter() {
                if !first.iter().any(|&(_, c)| c == course) {
                    first.push((at, course));
                }
            }
            for &(_, course) in &first {
                buyers[course] += 1;
            }
            for (k, &(at_a, a)) in first.iter().enumerate() {
                for &(at_b, b) in &first[k + 1..] {
                    if at_b > at_a {
                        *next[a].entry(b).or_default() += 1;
                    }
                }
            }
        }
        Recommender {
            tags: courses
                .iter()
                .map(|c| c.tags.iter().cloned().collect())
                .collect(),
            courses: courses.to_vec(),
            index,
            buyers,
            next,
            learners: u32::try_from(by_learner.len()).unwrap_or(u32::MAX),
            weights,
        }
    }

    fn popularity(&self, j: usize) -> f64 {
        f64::from(self.buyers[j]) / f64::from(self.learners.max(1))
    }

    fn jaccard(&self, a: usize, b: usize) -> f64 {
        let inter = self.tags[a].intersection(&self.tags[b]).count();
        let union = self.tags[a].union(&self.tags[b]).count();
        if union == 0 {
            0.0
        } else {
            inter as f64 / union as f64
        }
    }

    /// Score every course for a learner who owns `owned`; the best contributing reason with it.
    fn scores(&self, owned: &[usize], method: Method) -> Vec<(usize, f64, Reason)> {
        let popular = |j: usize| Reason::Popular {
            buyers: self.buyers[j],
            learners: self.learners,
        };
        let mut out = Vec::with_capacity(self.courses.len());
        for j in 0..self.courses.len() {
            if owned.contains(&j) {
                continue;
            }
            // Ties break by popularity, a small fraction that never outweighs a real signal.
            let tie = self.popularity(j) * 1e-6;
            let (score, reason) = match method {
                Method::Popularity => (self.popularity(j), popular(j)),
                Method::NextCourse => {
                    let mut best: Option<(f64, Reason)> = None;
                    let mut sum = 0.0;
                    for &i in owned {
                        let took = self.next[i].get(&j).copied().unwrap_or(0);
                        if took == 0 || self.buyers[i] == 0 {
                            continue;
                        }
                        let p = f64::from(took) / f64::from(self.buyers[i]);
                        sum += p;
                        if best.as_ref().is_none_or(|(bp, _)| p > *bp) {
                            best = Some((p, self.took_next(i, j)));
                        }
                    }
                    (sum + tie, best.map(|b| b.1).unwrap_or_else(|| popular(j)))
                }
                Method::Topics => {
                    let best = owned
                        .iter()
                        .map(|&i| (self.jaccard(i, j), i))
                        .max_by(|a, b| a.0.total_cmp(&b.0));
                    match best {
                        Some((sim, i)) if sim > 0.0 => (sim + tie, self.similar(i, j)),
                        _ => (tie, popular(j)),
                    }
                }
                Method::Blend => {
                    let alpha = self.weights.prior_strength;
                    let prior = self.popularity(j);
                    let mut best: Option<(f64, Reason)> = None;
                    let mut sum = 0.0;
                    for &i in owned {
                        let took = f64::from(self.next[i].get(&j).copied().unwrap_or(0));
                        let p = (took + alpha * prior) / (f64::from(self.buyers[i]) + alpha);
                        sum += p;
                        if took > 0.0 && best.as_ref().is_none_or(|(bp, _)| p > *bp) {
                            best = Some((p, self.took_next(i, j)));
                        }
                    }
                    let base = if owned.is_empty() {
                        prior
                    } else {
                        sum / owned.len() as f64
                    };
                    let (topic, topic_from) = owned
                        .iter()
                        .map(|&i| (self.jaccard(i, j), i))
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                        .unwrap_or((0.0, j));
                    let score = base + self.weights.topics * topic;
                    let reason = match best {
                        Some((_, reason)) => reason,
                        None if topic > 0.0 => self.similar(topic_from, j),
                        None => popular(j),
                    };
                    (score, reason)
                }
            };
            out.push((j, score, reason));
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    fn took_next(&self, i: usize, j: usize) -> Reason {
        Reason::TookNext {
            from: self.courses[i].title.clone(),
            took_from: self.buyers[i],
            took_next: self.next[i].get(&j).copied().unwrap_or(0),
        }
    }

    fn similar(&self, i: usize, j: usize) -> Reason {
        Reason::SimilarTopics {
            from: self.courses[i].title.clone(),
            shared: self.tags[i].intersection(&self.tags[j]).cloned().collect(),
        }
    }

    fn owned_indices(&self, owned: &[String]) -> Vec<usize> {
        let mut v: Vec<usize> = owned
            .iter()
            .filter_map(|c| self.index.get(c).copied())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The top `k` courses for one learner who owns `owned` (catalog ids), by `method`.
    pub fn for_learner(&self, owned: &[String], method: Method, k: usize) -> Vec<Recommendation> {
        let owned = self.owned_indices(owned);
        self.scores(&owned, method)
            .into_iter()
            .take(k)
            .map(|(j, score, reason)| Recommendation {
                course: self.courses[j].id.clone(),
                title: self.courses[j].title.clone(),
                score,
                reason,
                audience_without_it: None,
            })
            .collect()
    }

    /// The top `k` courses for a live audience: each attendee's blend scores summed over the
    /// attendees who do not have the course yet; `taught` (the course of the class) counts as
    /// taken by everyone present, and is never recommended.
    pub fn for_audience(
        &self,
        attendees: &[Vec<String>],
        taught: Option<&str>,
        k: usize,
    ) -> Vec<Recommendation> {
        let taught = taught.and_then(|t| self.index.get(t).copied());
        let n = self.courses.len();
        let mut total = vec![0.0; n];
        let mut without = vec![0u32; n];
        let mut reasons: Vec<HashMap<String, (u32, Reason)>> = vec![HashMap::new(); n];
        for owned in attendees {
            let mut owned = self.owned_indices(owned);
            if let Some(t) = taught
                && !owned.contains(&t)
            {
                owned.push(t);
            }
            for (j, score, reason) in self.scores(&owned, Method::Blend) {
                total[j] += score;
                without[j] += 1;
                let key = reason.to_string();
                reasons[j].entry(key).or_insert((0, reason)).0 += 1;
            }
        }
        let mut ranked: Vec<usize> = (0..n)
            .filter(|&j| without[j] > 0 && Some(j) != taught)
            .collect();
        ranked.sort_by(|&a, &b| total[b].total_cmp(&total[a]).then(a.cmp(&b)));
        ranked
            .into_iter()
            .take(k)
            .map(|j| {
                // The reason shared by most attendees speaks for the audience.
                let reason = reasons[j]
                    .values()
                    .max_by(|a, b| {
                        a.0.cmp(&b.0)
                            .then_with(|| b.1.to_string().cmp(&a.1.to_string()))
                    })
                    .map(|(_, r)| r.clone())
                    .unwrap_or(Reason::Popular {
                        buyers: self.buyers[j],
                        learners: self.learners,
                    });
                Recommendation {
                    course: self.courses[j].id.clone(),
                    title: self.courses[j].title.clone(),
                    score: total[j],
                    reason,
                    audience_without_it: Some(without[j]),
                }
            })
            .collect()
    }
}

/// One line of `lectern eval recs`.
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

/// Train on purchases before `split_ms`, and score every method on the learners who bought
/// something before and something new after it.
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
    let model = Recommender::train(courses, &before, BlendWeights::default());
    let mut owned: HashMap<&str, BTreeSet<usize>> = HashMap::new();
    let mut later: HashMap<&str, BTreeSet<usize>> = HashMap::new();
    for p in purchases {
        let Some(&c) = model.index.get(&p.course) else {
            continue;
        };
        if p.at_ms < split_ms {
            owned.entry(p.learner.as_str()).or_default().insert(c);
        } else {
            later.entry(p.learner.as_str()).or_default().insert(c);
        }
    }
    let mut cases: Vec<(Vec<usize>, BTreeSet<usize>)> = vec![];
    let mut learners: Vec<&&str> = owned.keys().collect();
    learners.sort();
    for learner in learners {
        let have = &owned[*learner];
        let Some(bought) = later.get(*learner) else {
            continue;
        };
        let relevant: BTreeSet<usize> = bought.difference(have).copied().collect();
        if !relevant.is_empty() {
            cases.push((have.iter().copied().collect(), relevant));
        }
    }
    Method::ALL
        .iter()
        .map(|&method| {
            let (mut p5, mut r5, mut ndcg) = (0.0, 0.0, 0.0);
            for (have, relevant) in &cases {
                let top: Vec<usize> = model
                    .scores(have, method)
                    .into_iter()
                    .take(10)
                    .map(|s| s.0)
                    .collect();
                let hits5 = top.iter().take(5).filter(|j| relevant.contains(j)).count() as f64;
                p5 += hits5 / 5.0;
                r5 += hits5 / relevant.len() as f64;
                let dcg: f64 = top
                    .iter()
                    .enumerate()
                    .filter(|(_, j)| relevant.contains(j))
                    .map(|(rank, _)| 1.0 / (rank as f64 + 2.0).log2())
                    .sum();
                let ideal: f64 = (0..relevant.len().min(10))
                    .map(|rank| 1.0 / (rank as f64 + 2.0).log2())
                    .sum();
                ndcg += dcg / ideal;
            }
            let n = cases.len().max(1) as f64;
            EvalLine {
                method,
                precision_at_5: p5 / n,
                recall_at_5: r5 / n,
                ndcg_at_10: ndcg / n,
                learners: u32::try_from(cases.len()).unwrap_or(u32::MAX),
            }
        })
        .collect()
}

/// The default split of an offline evaluation: the time by which 80% of the purchases had
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
