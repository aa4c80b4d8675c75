//! The trained recommender: what learners bought and in which order, the catalog's tags, the
//! simple baselines, and the blend of four signals.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::tuning::tune;
use super::{CourseInfo, Method, PurchaseRecord, Reason, Recommendation};

pub(crate) const DAY_MS: i64 = 86_400_000;
/// Pseudo-count of the popularity prior in `P(B after A)` and `P(B with A)`: a course bought by
/// five learners counts half on its own evidence, half on popularity.
const PRIOR_STRENGTH: f64 = 5.0;
/// A course bought at least this long after another was bought "next", on a later visit;
/// sooner, the two were bought together (a bundle), which says little about what comes next.
const LATER_VISIT_MS: i64 = DAY_MS;
/// Most bought courses a course with no buyers borrows its signals from.
const NEIGHBOURS: usize = 10;
/// The place (from 0) a new course takes in the blend's list when none is higher (see
/// [`Recommender::for_learner`]): the fifth, the last of a top 5.
pub const NEW_COURSE_PLACE: usize = 4;
/// The least tag cosine between a new course and a learner's tag profile for the new course to
/// take [`NEW_COURSE_PLACE`].
pub const NEW_COURSE_MATCH: f64 = 0.3;
/// The blend's signals, in the order of [`BlendWeights::shares`].
pub(crate) const SIGNALS: usize = 5;
const NEXT: usize = 0;
const LATEST: usize = 1;
const TOGETHER: usize = 2;
const TOPICS: usize = 3;
const POPULAR: usize = 4;

/// The blend's mixture weights. Each signal is first made a distribution over the courses the
/// learner lacks, so the five weights are shares of the final score (they sum to 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlendWeights {
    /// What learners took on a later visit after any of the learner's courses.
    pub next: f64,
    /// What learners took on a later visit after the learner's latest course.
    pub latest: f64,
    /// What learners took alongside the learner's courses, in any order.
    pub together: f64,
    /// The tag profile of the learner's courses.
    pub topics: f64,
    /// Recent popularity (purchases of the last `recent_days`).
    pub popular: f64,
    /// For a learner without purchases (only popularity speaks): the share of recent *first*
    /// purchases (entry courses) beside recent popularity.
    pub first: f64,
}

impl Default for BlendWeights {
    /// Equal shares: the weights used when there is too little history to choose them on.
    fn default() -> Self {
        BlendWeights {
            next: 0.2,
            latest: 0.2,
            together: 0.2,
            topics: 0.2,
            popular: 0.2,
            first: 0.5,
        }
    }
}

impl BlendWeights {
    pub(crate) fn shares(self) -> [f64; SIGNALS] {
        [
            self.next,
            self.latest,
            self.together,
            self.topics,
            self.popular,
        ]
    }

    pub(crate) fn with_shares(self, s: [f64; SIGNALS]) -> BlendWeights {
        BlendWeights {
            next: s[NEXT],
            latest: s[LATEST],
            together: s[TOGETHER],
            topics: s[TOPICS],
            popular: s[POPULAR],
            first: self.first,
        }
    }
}

/// How [`Recommender::train`] works.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// The blend's weights; `None` chooses them on the newest half of the purchases given, in
    /// three validation windows of a sixth each: for each window a model counted on the
    /// purchases before it ranks the courses for the learners who bought something new in it,
    /// and the weights on a 0.1 grid with the best mean NDCG@10 over all three windows win
    /// (likewise `first`, on the learners with no purchase before a window). With fewer than 30
    /// learners to judge, [`BlendWeights::default`].
    pub weights: Option<BlendWeights>,
    /// Days that count as recent: the window of [`Method::RecentPopularity`] and of the blend's
    /// popular signal, and the half-life of its first-visit purchases.
    pub recent_days: u32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            weights: None,
            recent_days: 90,
        }
    }
}

/// How the blend's weights were set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tuning {
    /// Given by the caller.
    Given,
    /// Chosen on the validation windows.
    Validated {
        /// Learners judged there (who had bought before a window and bought something new in it).
        cases: u32,
        /// The mean NDCG@10 the chosen weights reached there.
        ndcg_at_10: f64,
        /// Learners without a purchase before a window who bought in it (`first` was chosen on
        /// them when there were at least 30).
        cold_cases: u32,
    },
    /// Too few learners to judge: [`BlendWeights::default`].
    TooFewCases {
        /// Learners there were.
        cases: u32,
    },
}

/// One learner at one cut: what they had (oldest first) and what they bought new afterwards.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) learner: String,
    pub(crate) history: Vec<usize>,
    pub(crate) relevant: BTreeSet<usize>,
}

/// The trained recommender: counts from purchases, and the catalog.
#[derive(Debug, Clone)]
pub struct Recommender {
    courses: Vec<CourseInfo>,
    index: HashMap<String, usize>,
    tags: Vec<BTreeSet<String>>,
    /// TF-IDF unit vectors of the tags, sparse by tag number.
    tag_vectors: Vec<Vec<(usize, f64)>>,
    /// Learners who bought course i.
    buyers: Vec<u32>,
    /// Learners who bought course i in the recent window.
    recent: Vec<u32>,
    /// Purchases of course i on a learner's first visit, weighted by recency.
    first: Vec<f64>,
    /// `later[i]`: (j, learners who bought i and later j), by j.
    later: Vec<Vec<(usize, u32)>>,
    /// `together[i]`: (j, learners who bought both i and j), by j.
    together: Vec<Vec<(usize, u32)>>,
    /// For a course without buyers: the bought courses it shares tags with, weights summing to 1.
    neighbours: Vec<Vec<(usize, f64)>>,
    learners: u32,
    weights: BlendWeights,
    tuning: Tuning,
}

impl Recommender {
    /// Count the purchases and set the blend's weights (see [`TrainOptions`]). Purchases of
    /// courses not in the catalog are ignored.
    pub fn train(
        courses: &[CourseInfo],
        purchases: &[PurchaseRecord],
        options: TrainOptions,
    ) -> Recommender {
        let mut model = Recommender::count(courses, purchases, options.recent_days);
        match options.weights {
            Some(weights) => {
                model.weights = weights;
                model.tuning = Tuning::Given;
            }
            None => {
                let (weights, tuning) = tune(courses, purchases, options.recent_days);
                model.weights = weights;
                model.tuning = tuning;
            }
        }
        model
    }

    /// The counts, with [`BlendWeights::default`].
    pub(crate) fn count(
        courses: &[CourseInfo],
        purchases: &[PurchaseRecord],
        recent_days: u32,
    ) -> Self {
        let index: HashMap<String, usize> = courses
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let histories = histories(&index, purchases, i64::MAX);
        let now = histories
            .values()
            .flat_map(|h| h.iter().map(|&(at, _)| at))
            .max()
            .unwrap_or(0);
        let window = i64::from(recent_days.max(1)) * DAY_MS;
        // 2^(-age / half-life), the same on every machine (libm).
        let decay = |at: i64| libm::exp2(-((now - at) as f64) / window as f64);
        let n = courses.len();
        let mut buyers = vec![0u32; n];
        let mut recent = vec![0u32; n];
        let mut first = vec![0.0; n];
        let mut later: Vec<BTreeMap<usize, u32>> = vec![BTreeMap::new(); n];
        let mut together: Vec<BTreeMap<usize, u32>> = vec![BTreeMap::new(); n];
        for history in histories.values() {
            // Everything bought on the learner's first visit.
            if let Some(&(start, _)) = history.first() {
                for &(at, c) in history.iter().take_while(|p| p.0 - start < LATER_VISIT_MS) {
                    first[c] += decay(at);
                }
            }
            for (k, &(at_a, a)) in history.iter().enumerate() {
                buyers[a] += 1;
                if now - at_a < window {
                    recent[a] += 1;
                }
                for &(at_b, b) in &history[k + 1..] {
                    *together[a].entry(b).or_default() += 1;
                    *together[b].entry(a).or_default() += 1;
                    if at_b - at_a >= LATER_VISIT_MS {
                        *later[a].entry(b).or_default() += 1;
                    }
                }
            }
        }
        let tag_vectors = tag_vectors(courses);
        let neighbours = (0..n)
            .map(|j| {
                if buyers[j] > 0 {
                    return Vec::new();
                }
                let mut near: Vec<(usize, f64)> = (0..n)
                    .filter(|&k| buyers[k] > 0)
                    .map(|k| (k, dot(&tag_vectors[j], &tag_vectors[k])))
                    .filter(|&(_, s)| s > 0.0)
                    .collect();
                near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                near.truncate(NEIGHBOURS);
                let total: f64 = near.iter().map(|x| x.1).sum();
                near.into_iter().map(|(k, s)| (k, s / total)).collect()
            })
            .collect();
        Recommender {
            tags: courses
                .iter()
                .map(|c| c.tags.iter().cloned().collect())
                .collect(),
            courses: courses.to_vec(),
            index,
            tag_vectors,
            buyers,
            recent,
            first,
            later: later.into_iter().map(|m| m.into_iter().collect()).collect(),
            together: together
                .into_iter()
                .map(|m| m.into_iter().collect())
                .collect(),
            neighbours,
            learners: u32::try_from(histories.len()).unwrap_or(u32::MAX),
            weights: BlendWeights::default(),
            tuning: Tuning::TooFewCases { cases: 0 },
        }
    }

    /// The blend's weights.
    pub fn weights(&self) -> BlendWeights {
        self.weights
    }

    /// How the blend's weights were set.
    pub fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// Whether course `j` had no buyer in the training purchases.
    pub(crate) fn is_new(&self, j: usize) -> bool {
        self.buyers[j] == 0
    }

    pub(crate) fn course_count(&self) -> usize {
        self.courses.len()
    }

    /// Learners who bought course `j`.
    pub(crate) fn buyers(&self, j: usize) -> u32 {
        self.buyers[j]
    }

    /// Learners at `from` who bought something new in `[from, to)`, learner by learner; those
    /// without any purchase before `from` have an empty history (cold start).
    pub(crate) fn cases(&self, purchases: &[PurchaseRecord], from: i64, to: i64) -> Vec<Case> {
        let before = histories(&self.index, purchases, from);
        let mut after: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        for p in purchases {
            if p.at_ms >= from
                && p.at_ms < to
                && let Some(&c) = self.index.get(&p.course)
            {
                after.entry(p.learner.as_str()).or_default().insert(c);
            }
        }
        after
            .into_iter()
            .filter_map(|(learner, bought)| {
                let history: Vec<usize> = before
                    .get(learner)
                    .map(|h| h.iter().map(|&(_, c)| c).collect())
                    .unwrap_or_default();
                let relevant: BTreeSet<usize> = bought
                    .into_iter()
                    .filter(|c| !history.contains(c))
                    .collect();
                (!relevant.is_empty()).then(|| Case {
                    learner: learner.to_owned(),
                    history,
                    relevant,
                })
            })
            .collect()
    }

    /// The courses a learner lacks, best first, by `method`; `history` is oldest first. Ties go
    /// to the course with more buyers, then to the earlier in catalog order. The blend gives a
    /// place to a new course (see `make_room_for_new`).
    pub(crate) fn ranking(&self, history: &[usize], method: Method) -> Vec<usize> {
        let scores = self.method_scores(history, method);
        let mut order = self.rank(&scores, history);
        if method == Method::Blend {
            self.make_room_for_new(&mut order, history);
        }
        order
    }

    /// If none of the first [`NEW_COURSE_PLACE`] + 1 places holds a course without buyers, the
    /// new course closest to the learner's tags (cosine at least [`NEW_COURSE_MATCH`]) takes
    /// place [`NEW_COURSE_PLACE`]: a launch reaches the learners of its topics before anyone
    /// has bought it, at the cost of at most one place.
    fn make_room_for_new(&self, order: &mut Vec<usize>, history: &[usize]) {
        let place = NEW_COURSE_PLACE;
        if order.len() <= place || order[..=place].iter().any(|&j| self.is_new(j)) {
            return;
        }
        let topics = self.topics(history);
        let best = order
            .iter()
            .enumerate()
            .skip(place + 1)
            .filter(|&(_, &j)| self.is_new(j) && topics[j] >= NEW_COURSE_MATCH)
            .max_by(|a, b| topics[*a.1].total_cmp(&topics[*b.1]).then(b.0.cmp(&a.0)));
        if let Some((at, _)) = best {
            let j = order.remove(at);
            order.insert(place, j);
        }
    }

    fn rank(&self, scores: &[f64], owned: &[usize]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.courses.len())
            .filter(|j| !owned.contains(j))
            .collect();
        order.sort_by(|&a, &b| {
            scores[b]
                .total_cmp(&scores[a])
                .then(self.buyers[b].cmp(&self.buyers[a]))
                .then(a.cmp(&b))
        });
        order
    }

    fn method_scores(&self, history: &[usize], method: Method) -> Vec<f64> {
        let n = self.courses.len();
        match method {
            Method::Popularity => self.buyers.iter().map(|&b| f64::from(b)).collect(),
            Method::RecentPopularity => self.recent.iter().map(|&b| f64::from(b)).collect(),
            Method::CoPurchase => {
                let mut s = vec![0.0; n];
                for &i in history {
                    for &(j, c) in &self.together[i] {
                        s[j] += f64::from(c);
                    }
                }
                s
            }
            Method::CatalogOrder => {
                let mut s = vec![0.0; n];
                if let Some(&latest) = history.last() {
                    for (j, v) in s.iter_mut().enumerate().skip(latest + 1) {
                        *v = 1.0 / (j - latest) as f64;
                    }
                }
                s
            }
            Method::TagAffinity => self.topics(history),
            Method::NextCourse => self.signals(history, self.weights)[NEXT].clone(),
            Method::Blend => {
                let signals = self.signals(history, self.weights);
                if history.is_empty() {
                    // Only popularity speaks, whatever its share for learners with purchases.
                    signals[POPULAR].clone()
                } else {
                    let blend = self.blend(&signals, self.weights);
                    self.launches_by_tags(blend, history)
                }
            }
        }
    }

    fn blend(&self, signals: &[Vec<f64>; SIGNALS], weights: BlendWeights) -> Vec<f64> {
        let w = weights.shares();
        (0..self.courses.len())
            .map(|j| (0..SIGNALS).map(|s| w[s] * signals[s][j]).sum())
            .collect()
    }

    /// `blend` with each course nobody has bought raised, if lower, to the place tag affinity
    /// gives it among the courses learners bought (see [`place_launches_by_tags`]).
    fn launches_by_tags(&self, mut blend: Vec<f64>, history: &[usize]) -> Vec<f64> {
        let lacked: Vec<usize> = (0..blend.len()).filter(|j| !history.contains(j)).collect();
        let topics = self.topics(history);
        let mut scores: Vec<f64> = lacked.iter().map(|&j| blend[j]).collect();
        let cosines: Vec<f64> = lacked.iter().map(|&j| topics[j]).collect();
        let new: Vec<bool> = lacked.iter().map(|&j| self.is_new(j)).collect();
        place_launches_by_tags(&mut scores, &cosines, &new);
        for (&j, s) in lacked.iter().zip(scores) {
            blend[j] = s;
        }
        blend
    }

    /// The four signals for a learner, each a distribution over the courses they lack (all
    /// zero when the signal has nothing to say: a learner without purchases has popularity only).
    pub(crate) fn signals(&self, history: &[usize], weights: BlendWeights) -> [Vec<f64>; SIGNALS] {
        let n = self.courses.len();
        let popular = if history.is_empty() {
            let [first, recent] = self.cold_signals();
            (0..n)
                .map(|j| weights.first * first[j] + (1.0 - weights.first) * recent[j])
                .collect()
        } else {
            self.popular_signal()
        };
        let everything = 1.0 / history.len().max(1) as f64;
        let all: Vec<(usize, f64)> = history.iter().map(|&i| (i, everything)).collect();
        let latest: Vec<(usize, f64)> = history.last().map(|&i| (i, 1.0)).into_iter().collect();
        // Rows of pair counts from the owned courses (weighted), smoothed toward popularity.
        let pairs = |rows: &[Vec<(usize, u32)>], from: &[(usize, f64)]| {
            let mut s = vec![0.0; n];
            let mut prior_mass = 0.0;
            for &(i, share) in from {
                let denominator = f64::from(self.buyers[i]) + PRIOR_STRENGTH;
                for &(j, c) in &rows[i] {
                    s[j] += share * f64::from(c) / denominator;
                }
                prior_mass += share * PRIOR_STRENGTH / denominator;
            }
            self.borrow(&mut s, history);
            for (v, p) in s.iter_mut().zip(&popular) {
                *v += prior_mass * p;
            }
            normalised(&s, history)
        };
        [
            pairs(&self.later, &all),
            pairs(&self.later, &latest),
            pairs(&self.together, &all),
            normalised(&self.topics(history), history),
            normalised(&popular, history),
        ]
    }

    /// Purchases of the last `recent_days` over every course (new ones borrow theirs), summing
    /// to 1.
    fn popular_signal(&self) -> Vec<f64> {
        let mut recent: Vec<f64> = self.recent.iter().map(|&r| f64::from(r)).collect();
        self.borrow(&mut recent, &[]);
        normalised(&recent, &[])
    }

    /// For a learner without purchases: recency-weighted first-visit purchases, and recent
    /// popularity, each summing to 1.
    pub(crate) fn cold_signals(&self) -> [Vec<f64>; 2] {
        let mut first = self.first.clone();
        self.borrow(&mut first, &[]);
        [normalised(&first, &[]), self.popular_signal()]
    }

    /// A course without buyers takes the tag-weighted mean of its neighbours' values (owned
    /// neighbours count as zero: what learners do after a course says little of a new course
    /// like the one they have).
    fn borrow(&self, values: &mut [f64], owned: &[usize]) {
        for j in 0..values.len() {
            if !self.neighbours[j].is_empty() {
                values[j] = self.neighbours[j]
                    .iter()
                    .filter(|(k, _)| !owned.contains(k))
                    .map(|&(k, w)| w * values[k])
                    .sum();
            }
        }
    }

    /// Cosine of each course's tags to the learner's tag profile.
    pub(crate) fn topics(&self, history: &[usize]) -> Vec<f64> {
        let mut profile: BTreeMap<usize, f64> = BTreeMap::new();
        for &i in history {
            for &(t, v) in &self.tag_vectors[i] {
                *profile.entry(t).or_default() += v;
            }
        }
        let profile: Vec<(usize, f64)> = profile.into_iter().collect();
        let norm = dot(&profile, &profile).sqrt();
        if norm == 0.0 {
            return vec![0.0; self.courses.len()];
        }
        self.tag_vectors
            .iter()
            .map(|v| dot(&profile, v).max(0.0) / norm)
            .collect()
    }

    fn reason(&self, history: &[usize], j: usize, method: Method) -> Reason {
        let popular = Reason::Popular {
            buyers: self.buyers[j],
            learners: self.learners,
        };
        let best_pair = |rows: &[Vec<(usize, u32)>]| {
            history
                .iter()
                .filter_map(|&i| {
                    let c = count_of(&rows[i], j);
                    (c > 0).then_some((c, i))
                })
                .max_by(|a, b| {
                    (f64::from(a.0) / f64::from(self.buyers[a.1]))
                        .total_cmp(&(f64::from(b.0) / f64::from(self.buyers[b.1])))
                        .then(b.1.cmp(&a.1))
                })
        };
        let took_next = || {
            best_pair(&self.later).map(|(c, i)| Reason::TookNext {
                from: self.courses[i].title.clone(),
                took_from: self.buyers[i],
                took_next: c,
            })
        };
        let together = || {
            best_pair(&self.together).map(|(c, i)| Reason::BoughtTogether {
                from: self.courses[i].title.clone(),
                took_from: self.buyers[i],
                both: c,
            })
        };
        let similar = || {
            history
                .iter()
                .map(|&i| (dot(&self.tag_vectors[i], &self.tag_vectors[j]), i))
                .filter(|&(s, _)| s > 0.0)
                .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
                .map(|(_, i)| Reason::SimilarTopics {
                    from: self.courses[i].title.clone(),
                    shared: self.shared(i, j),
                })
        };
        let new_course = || {
            self.neighbours[j].first().map(|&(k, _)| Reason::NewCourse {
                like: self.courses[k].title.clone(),
                shared: self.shared(k, j),
            })
        };
        let found = match method {
            Method::Popularity | Method::RecentPopularity => None,
            Method::CoPurchase => together(),
            Method::CatalogOrder => history.last().map(|&i| Reason::NextInCatalog {
                after: self.courses[i].title.clone(),
            }),
            Method::TagAffinity => similar(),
            Method::NextCourse => took_next(),
            Method::Blend => {
                let signals = self.signals(history, self.weights);
                let w = self.weights.shares();
                let strongest = (0..SIGNALS)
                    .max_by(|&a, &b| (w[a] * signals[a][j]).total_cmp(&(w[b] * signals[b][j])))
                    .unwrap_or(POPULAR);
                match strongest {
                    _ if self.is_new(j) => similar().or_else(new_course),
                    NEXT | LATEST => took_next().or_else(together).or_else(similar),
                    TOGETHER => together().or_else(took_next).or_else(similar),
                    TOPICS => similar(),
                    _ => None,
                }
            }
        };
        found.unwrap_or(popular)
    }

    fn shared(&self, i: usize, j: usize) -> Vec<String> {
        self.tags[i].intersection(&self.tags[j]).cloned().collect()
    }

    fn owned_indices(&self, owned: &[String]) -> Vec<usize> {
        let mut v: Vec<usize> = Vec::with_capacity(owned.len());
        for c in owned {
            if let Some(&i) = self.index.get(c)
                && !v.contains(&i)
            {
                v.push(i);
            }
        }
        v
    }

    /// The top `k` courses for one learner who owns `owned` (catalog ids, oldest first where
    /// known: [`Method::CatalogOrder`] follows the last one), by `method`. With the blend, when
    /// no course without buyers is in the first five places, the one closest to the learner's
    /// tags (cosine at least [`NEW_COURSE_MATCH`]) takes the fifth.
    pub fn for_learner(&self, owned: &[String], method: Method, k: usize) -> Vec<Recommendation> {
        let owned = self.owned_indices(owned);
        let scores = self.method_scores(&owned, method);
        let mut order = self.rank(&scores, &owned);
        if method == Method::Blend {
            self.make_room_for_new(&mut order, &owned);
        }
        order
            .into_iter()
            .take(k)
            .map(|j| Recommendation {
                course: self.courses[j].id.clone(),
                title: self.courses[j].title.clone(),
                score: scores[j],
                reason: self.reason(&owned, j, method),
                audience_without_it: None,
            })
            .collect()
    }

    /// The top `k` courses for a live audience: each attendee's blend scores summed over the
    /// attendees who do not have the course yet; `taught` (the course of the class) counts as
    /// taken by everyone present, and is never recommended. A new course close to the
    /// audience's tags gets a place as in [`Recommender::for_learner`].
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
        let mut owners: Vec<Vec<usize>> = Vec::with_capacity(attendees.len());
        for owned in attendees {
            let mut owned = self.owned_indices(owned);
            if let Some(t) = taught
                && !owned.contains(&t)
            {
                owned.push(t);
            }
            let scores = self.method_scores(&owned, Method::Blend);
            for j in (0..n).filter(|j| !owned.contains(j)) {
                total[j] += scores[j];
                without[j] += 1;
            }
            owners.push(owned);
        }
        let mut ranked: Vec<usize> = (0..n)
            .filter(|&j| without[j] > 0 && Some(j) != taught)
            .collect();
        ranked.sort_by(|&a, &b| total[b].total_cmp(&total[a]).then(a.cmp(&b)));
        // The audience's tags together decide which new course gets a place.
        let everyone: Vec<usize> = owners.iter().flatten().copied().collect();
        self.make_room_for_new(&mut ranked, &everyone);
        ranked
            .into_iter()
            .take(k)
            .map(|j| {
                // The reason shared by most attendees speaks for the audience.
                let mut reasons: BTreeMap<String, (u32, Reason)> = BTreeMap::new();
                for owned in owners.iter().filter(|o| !o.contains(&j)) {
                    let reason = self.reason(owned, j, Method::Blend);
                    reasons.entry(reason.to_string()).or_insert((0, reason)).0 += 1;
                }
                let reason = reasons
                    .into_values()
                    .rev()
                    .max_by_key(|(count, _)| *count)
                    .map(|(_, r)| r)
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

/// Launches put where tag affinity would put them among the bought courses, on the blend's
/// own scale: over the courses a learner lacks (`scores`, their tag `cosines` to the learner's
/// profile, which are `new`), a launch that tag affinity ranks above the bought course at
/// place `r` of the blend gets a score just above that course's, unless its own (borrowed)
/// score is higher already. Nothing is chosen on data, so nothing can be fitted to what an
/// evaluation judges: the mapping from tags to the blend's scale is this learner's own ranking.
pub(crate) fn place_launches_by_tags(scores: &mut [f64], cosines: &[f64], new: &[bool]) {
    let launches: Vec<usize> = (0..scores.len())
        .filter(|&k| new[k] && cosines[k] > 0.0)
        .collect();
    if launches.is_empty() {
        return;
    }
    let mut bought: Vec<f64> = (0..scores.len())
        .filter(|&k| !new[k])
        .map(|k| scores[k])
        .collect();
    for k in launches {
        // Tag affinity breaks ties by buyers: a launch goes after the bought courses it ties.
        let place = (0..scores.len())
            .filter(|&b| !new[b] && cosines[b] >= cosines[k])
            .count();
        if place < bought.len() {
            let (_, &mut score, _) = bought.select_nth_unstable_by(place, |a, b| b.total_cmp(a));
            let above = score + f64::EPSILON * score.abs().max(f64::MIN_POSITIVE) * 4.0;
            scores[k] = scores[k].max(above);
        }
    }
}

/// Each learner's first purchase of each course before `until`, oldest first (ties by catalog
/// order), by learner.
fn histories<'a>(
    index: &HashMap<String, usize>,
    purchases: &'a [PurchaseRecord],
    until: i64,
) -> BTreeMap<&'a str, Vec<(i64, usize)>> {
    let mut by_learner: BTreeMap<&str, Vec<(i64, usize)>> = BTreeMap::new();
    for p in purchases {
        if p.at_ms < until
            && let Some(&course) = index.get(&p.course)
        {
            by_learner
                .entry(p.learner.as_str())
                .or_default()
                .push((p.at_ms, course));
        }
    }
    for history in by_learner.values_mut() {
        history.sort_unstable();
        let mut seen = BTreeSet::new();
        history.retain(|&(_, c)| seen.insert(c));
    }
    by_learner
}

/// TF-IDF unit vectors of the courses' tags (`idf = ln(1 + courses / courses with the tag)`),
/// so a tag on every course ("fundamentals") weighs little.
fn tag_vectors(courses: &[CourseInfo]) -> Vec<Vec<(usize, f64)>> {
    let mut numbers: BTreeMap<&str, usize> = BTreeMap::new();
    for c in courses {
        for t in &c.tags {
            let next = numbers.len();
            numbers.entry(t.as_str()).or_insert(next);
        }
    }
    let mut df = vec![0usize; numbers.len()];
    let sets: Vec<BTreeSet<usize>> = courses
        .iter()
        .map(|c| c.tags.iter().map(|t| numbers[t.as_str()]).collect())
        .collect();
    for set in &sets {
        for &t in set {
            df[t] += 1;
        }
    }
    let n = courses.len() as f64;
    sets.into_iter()
        .map(|set| {
            let v: Vec<(usize, f64)> = set
                .into_iter()
                .map(|t| (t, libm::log(1.0 + n / df[t] as f64)))
                .collect();
            let norm = v.iter().map(|x| x.1 * x.1).sum::<f64>().sqrt();
            v.into_iter().map(|(t, x)| (t, x / norm)).collect()
        })
        .collect()
}

/// The dot product of two sparse vectors sorted by index.
fn dot(a: &[(usize, f64)], b: &[(usize, f64)]) -> f64 {
    let (mut i, mut k, mut sum) = (0, 0, 0.0);
    while i < a.len() && k < b.len() {
        match a[i].0.cmp(&b[k].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => k += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[k].1;
                i += 1;
                k += 1;
            }
        }
    }
    sum
}

fn count_of(row: &[(usize, u32)], j: usize) -> u32 {
    row.binary_search_by_key(&j, |x| x.0)
        .map_or(0, |at| row[at].1)
}

/// `values` over the courses not in `owned`, scaled to sum to 1 (all zero if they sum to 0).
fn normalised(values: &[f64], owned: &[usize]) -> Vec<f64> {
    let total: f64 = values
        .iter()
        .enumerate()
        .filter(|(j, _)| !owned.contains(j))
        .map(|(_, v)| v)
        .sum();
    values
        .iter()
        .enumerate()
        .map(|(j, &v)| {
            if total > 0.0 && !owned.contains(&j) {
                v / total
            } else {
                0.0
            }
        })
        .collect()
}
