//! Segments: every learner in one behavioural group, named in words by its dominant traits.
//!
//! **Features** (one row per learner, as of `today`; purchases after `today` are not seen):
//! `visits` ln(1 + purchase days), `spent` ln(1 + amount paid in currency units), `recency`
//! exp(-days since the last purchase / 90) (0 for a learner who never bought), `tenure` ln(1 +
//! days since joining or first buying, whichever is earlier), `classes` ln(1 + live classes
//! attended), `engagement` the mean engagement score in those classes / 100. Each is
//! standardised (z-score over the school's learners; a feature with no spread is left
//! centred). Interests (course tags) describe a segment but do not enter the distance: with a
//! dozen topics they would outweigh the behaviour and the segments would be topics.
//!
//! **Clustering**: smartcore's k-means (k-means++ seeded) on the standardised rows sorted by
//! learner id, `k` capped by the number of distinct rows, the best of four fixed seeds by
//! within-cluster squared distance; clusters ordered by size, then centroid. So the same school
//! gives the same segments whatever order its rows came in. Given the previous segments, k-means
//! started from their centroids is kept when nearly as tight ([`WARM_SLACK`]).
//!
//! **Names**: a cluster close to a previous segment's centroid (RMS distance in today's
//! standard deviations at most `match_distance`, pairs taken closest first) keeps that
//! segment's name ([`match_previous`]); the others are named by [`name_of`] from their traits,
//! a second segment of one name told apart by the feature that most sets it apart from the
//! first ("repeat buyers (more engaged)"), then by a number.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use smartcore::cluster::kmeans::{KMeans, KMeansParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::repurchase::{RepurchaseRate, rate_among};
use super::{Attendance, Buyers, Learner, Purchase};
use crate::recs::CourseInfo;

/// The features, in the order of a centroid's values.
pub const FEATURES: [&str; 6] = [
    "visits",
    "spent",
    "recency",
    "tenure",
    "classes",
    "engagement",
];
const F: usize = FEATURES.len();

/// Days over which the recency feature decays by e.
const RECENCY_DAYS: f64 = 90.0;
/// Joined this many days before `today` or fewer: new.
pub const NEW_DAYS: i64 = 30;
/// No purchase for more than this many days: lapsed.
pub const LAPSED_DAYS: f64 = 180.0;
/// Courses shown as a segment's typical ones.
const TYPICAL: usize = 3;
/// Seeds tried; the tightest clustering wins.
const SEEDS: u64 = 4;
/// How much looser than the fresh clustering the one started from the previous centres may be
/// and still be kept (a share of the within-cluster squared distance).
pub const WARM_SLACK: f64 = 0.05;

/// How to segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentOptions {
    /// Clusters wanted (fewer when the learners have fewer distinct rows).
    pub k: usize,
    /// The first k-means seed (the next ones follow it).
    pub seed: u64,
    /// Largest RMS distance, in standard deviations, at which a cluster keeps a previous name.
    pub match_distance: f64,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions {
            k: 6,
            seed: 17,
            match_distance: 0.75,
        }
    }
}

/// A segment's centre and name: what a recomputation needs from the previous one to keep names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentCentroid {
    /// The segment's name.
    pub name: String,
    /// The mean of each of [`FEATURES`] over its members, before standardisation.
    pub centre: Vec<f64>,
}

/// Everything segmentation reads.
#[derive(Debug, Clone, Copy)]
pub struct SegmentInput<'a> {
    /// The catalog (titles and tags).
    pub courses: &'a [CourseInfo],
    /// Every learner of the school (a buyer missing here joins at their first purchase).
    pub learners: &'a [Learner],
    /// Every purchase line.
    pub purchases: &'a [Purchase],
    /// Live-class attendance per learner (viewers already mapped to learners; others ignored).
    pub attendance: &'a [Attendance],
    /// The school-local day the segments are computed for.
    pub today: i64,
    /// The previous segments' centroids, to keep their names (empty the first time).
    pub previous: &'a [SegmentCentroid],
    /// Clusters, seed, name matching.
    pub options: &'a SegmentOptions,
}

/// A segment's traits in plain units (what its name is read from).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Traits {
    /// Share of members who ever bought.
    pub buyers_share: f64,
    /// Mean purchase days per member.
    pub mean_visits: f64,
    /// Mean paid per member, in cents.
    pub mean_spent_cents: f64,
    /// Median days since the last purchase, among members who bought.
    pub median_days_since_purchase: Option<f64>,
    /// Share of members who joined in the last [`NEW_DAYS`] days.
    pub new_share: f64,
    /// Share of members who attended at least one live class.
    pub attended_share: f64,
    /// Mean engagement score (0-100) of members who attended.
    pub mean_engagement: Option<f64>,
}

/// A course and the share of a segment's members who own it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseShare {
    /// The course id.
    pub course: String,
    /// Its title (the id when the catalog does not know it).
    pub title: String,
    /// Members who own it / members.
    pub share: f64,
}

/// One segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Its name in words ("loyal repeat buyers").
    pub name: String,
    /// Members.
    pub size: u32,
    /// Members who ever bought.
    pub buyers: u32,
    /// `buyers / size`.
    pub conversion: f64,
    /// The members' 90-day repurchase rate (the school-wide definition, restricted to them).
    pub repurchase_90d: RepurchaseRate,
    /// What the name is read from.
    pub traits: Traits,
    /// The tags of the members' courses, most common first, with their share of those courses.
    pub interests: Vec<(String, f64)>,
    /// The courses most members own.
    pub typical_courses: Vec<CourseShare>,
    /// Its centre (for the next recomputation's names).
    pub centroid: SegmentCentroid,
    /// Every course, the segment's favourites first (then the school's): its next courses.
    ranked_courses: Vec<String>,
}

/// The segments of a school, with each learner's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Segmentation {
    /// The segments, largest first.
    pub segments: Vec<Segment>,
    /// The day they were computed for.
    pub today: i64,
    by_learner: BTreeMap<String, usize>,
    owned: BTreeMap<String, BTreeSet<String>>,
}

impl Segmentation {
    /// The segment of a learner (a live viewer: map it to its learner first).
    pub fn segment_of(&self, learner: &str) -> Option<&Segment> {
        self.by_learner.get(learner).map(|&i| &self.segments[i])
    }

    /// The learners of the segment named `name`, by id (an offer's audience).
    pub fn members(&self, name: &str) -> Vec<&str> {
        let Some(index) = self.segments.iter().position(|s| s.name == name) else {
            return Vec::new();
        };
        self.by_learner
            .iter()
            .filter(|&(_, &i)| i == index)
            .map(|(l, _)| l.as_str())
            .collect()
    }

    /// Up to `n` courses for this learner: those most owned in their segment (then in the
    /// school) that they do not own yet. Empty for a learner the segmentation does not know.
    pub fn next_courses(&self, learner: &str, n: usize) -> Vec<&str> {
        let Some(segment) = self.segment_of(learner) else {
            return Vec::new();
        };
        let owned = self.owned.get(learner);
        segment
            .ranked_courses
            .iter()
            .filter(|c| !owned.is_some_and(|o| o.contains(*c)))
            .take(n)
            .map(String::as_str)
            .collect()
    }

    /// Learners segmented (the sizes add up to it).
    pub fn learners(&self) -> usize {
        self.by_learner.len()
    }

    /// The centroids to give the next recomputation as `previous`.
    pub fn centroids(&self) -> Vec<SegmentCentroid> {
        self.segments.iter().map(|s| s.centroid.clone()).collect()
    }
}

/// One learner's row, before standardisation, and what the traits read.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    features: [f64; F],
    visits: u32,
    spent_cents: i64,
    days_since_purchase: Option<i64>,
    new: bool,
    classes: u32,
    engagement: f64,
}

/// Segments the school's learners. Deterministic, and independent of the order of every input.
pub fn segment(input: &SegmentInput<'_>) -> Segmentation {
    let purchases: Vec<Purchase> = input
        .purchases
        .iter()
        .filter(|p| p.day <= input.today)
        .cloned()
        .collect();
    let buyers = Buyers::from_lines(&purchases);
    let rows = rows_of(input, &buyers);
    if rows.is_empty() {
        return Segmentation {
            today: input.today,
            ..Segmentation::default()
        };
    }
    let (mean, spread) = standardisation(&rows);
    let z: Vec<[f64; F]> = rows
        .iter()
        .map(|r| std::array::from_fn(|j| (r.features[j] - mean[j]) / spread[j]))
        .collect();
    // The previous centres in today's units: where a recomputation starts looking.
    let warm: Vec<[f64; F]> = input
        .previous
        .iter()
        .filter(|p| p.centre.len() == F)
        .map(|p| std::array::from_fn(|j| (p.centre[j] - mean[j]) / spread[j]))
        .collect();
    let labels = cluster(&z, input.options, &warm);
    // Members per cluster, then clusters in a canonical order: size, then centre.
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &label) in labels.iter().enumerate() {
        groups.entry(label).or_default().push(i);
    }
    let mut groups: Vec<(Vec<usize>, Vec<f64>)> = groups
        .into_values()
        .map(|members| {
            let centre = (0..F)
                .map(|j| {
                    members.iter().map(|&i| rows[i].features[j]).sum::<f64>() / members.len() as f64
                })
                .collect();
            (members, centre)
        })
        .collect();
    groups.sort_by(|a, b| {
        b.0.len().cmp(&a.0.len()).then_with(|| {
            a.1.iter()
                .zip(&b.1)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    });

    let titles: BTreeMap<&str, &CourseInfo> =
        input.courses.iter().map(|c| (c.id.as_str(), c)).collect();
    let school_share = course_shares(buyers.by_learner.keys().map(String::as_str), &buyers);
    let centres: Vec<Vec<f64>> = groups.iter().map(|g| g.1.clone()).collect();
    let matched = match_previous(
        input.previous,
        &centres,
        &spread,
        input.options.match_distance,
    );

    let mut segments: Vec<Segment> = groups
        .iter()
        .map(|(members, centre)| describe(members, centre, &rows, &buyers, &titles, &school_share))
        .collect();
    name_segments(&mut segments, &matched, input.previous, &spread);

    let mut by_learner = BTreeMap::new();
    for (s, (members, _)) in groups.iter().enumerate() {
        for &i in members {
            by_learner.insert(rows[i].id.clone(), s);
        }
    }
    let owned = buyers
        .by_learner
        .iter()
        .map(|(l, b)| (l.clone(), b.courses.keys().cloned().collect()))
        .collect();
    Segmentation {
        segments,
        today: input.today,
        by_learner,
        owned,
    }
}

fn rows_of(input: &SegmentInput<'_>, buyers: &Buyers) -> Vec<Row> {
    // Every learner once, by id: the earliest join day if listed twice.
    let mut joined: BTreeMap<&str, i64> = BTreeMap::new();
    for l in input.learners {
        let day = joined.entry(l.id.as_str()).or_insert(l.joined_day);
        *day = (*day).min(l.joined_day);
    }
    for (id, b) in &buyers.by_learner {
        let day = joined.entry(id.as_str()).or_insert(b.first_day);
        *day = (*day).min(b.first_day);
    }
    let mut attended: BTreeMap<&str, (u32, f64)> = BTreeMap::new();
    for a in input.attendance {
        if a.classes > 0 && joined.contains_key(a.learner.as_str()) {
            // A learner given twice: their classes add up, engagement weighted by classes.
            let (classes, total) = attended.entry(a.learner.as_str()).or_default();
            *classes += a.classes;
            *total += f64::from(a.classes) * a.engagement.clamp(0.0, 100.0);
        }
    }
    joined
        .into_iter()
        .map(|(id, joined_day)| {
            let buyer = buyers.by_learner.get(id);
            let visits = buyer.map_or(0, |b| b.visits);
            let spent_cents = buyer.map_or(0, |b| b.spent_cents.max(0));
            let days_since_purchase = buyer.map(|b| (input.today - b.last_day()).max(0));
            let tenure = (input.today - joined_day).max(0);
            let (classes, total) = attended.get(id).copied().unwrap_or((0, 0.0));
            let engagement = if classes > 0 {
                total / f64::from(classes)
            } else {
                0.0
            };
            Row {
                id: id.to_owned(),
                features: [
                    f64::from(visits).ln_1p(),
                    (spent_cents as f64 / 100.0).ln_1p(),
                    days_since_purchase.map_or(0.0, |d| (-(d as f64) / RECENCY_DAYS).exp()),
                    (tenure as f64).ln_1p(),
                    f64::from(classes).ln_1p(),
                    engagement / 100.0,
                ],
                visits,
                spent_cents,
                days_since_purchase,
                new: tenure < NEW_DAYS,
                classes,
                engagement,
            }
        })
        .collect()
}

/// Each feature's mean and population standard deviation (1 where it has no spread).
fn standardisation(rows: &[Row]) -> ([f64; F], [f64; F]) {
    let n = rows.len() as f64;
    let mean: [f64; F] =
        std::array::from_fn(|j| rows.iter().map(|r| r.features[j]).sum::<f64>() / n);
    let spread = std::array::from_fn(|j| {
        let var = rows
            .iter()
            .map(|r| (r.features[j] - mean[j]).powi(2))
            .sum::<f64>()
            / n;
        if var.sqrt() > 1e-9 { var.sqrt() } else { 1.0 }
    });
    (mean, spread)
}

/// A cluster label per row: k-means on the rows as given (sorted by learner id), the tightest of
/// [`SEEDS`] seeds; one cluster when fewer than two rows differ. With previous centres, k-means
/// started from them instead when it is nearly as tight ([`WARM_SLACK`]): k-means has many
/// near-equal optima, and the one next to last time's keeps learners where they were.
fn cluster(z: &[[f64; F]], options: &SegmentOptions, warm: &[[f64; F]]) -> Vec<usize> {
    let distinct: BTreeSet<[u64; F]> = z.iter().map(|r| r.map(f64::to_bits)).collect();
    let k = options.k.min(distinct.len());
    if k < 2 {
        return vec![0; z.len()];
    }
    let fresh = fresh_clusters(z, k, options.seed);
    if warm.len() >= 2 && warm.len() <= distinct.len() {
        let labels = lloyd(z, warm.to_vec());
        let cost = within_cluster_cost(z, &labels);
        if fresh
            .as_ref()
            .is_none_or(|(best, _)| cost <= best * (1.0 + WARM_SLACK))
        {
            return labels;
        }
    }
    fresh.map_or_else(|| vec![0; z.len()], |(_, labels)| labels)
}

/// Lloyd's k-means from given centres: nearest centre (ties to the first), means, until no row
/// moves (at most 100 rounds); a centre left without rows stays where it is.
fn lloyd(z: &[[f64; F]], mut centres: Vec<[f64; F]>) -> Vec<usize> {
    let mut labels = vec![usize::MAX; z.len()];
    for _ in 0..100 {
        let mut moved = false;
        for (row, label) in z.iter().zip(labels.iter_mut()) {
            let mut best = (f64::INFINITY, 0);
            for (c, centre) in centres.iter().enumerate() {
                let d: f64 = (0..F).map(|j| (row[j] - centre[j]).powi(2)).sum();
                if d < best.0 {
                    best = (d, c);
                }
            }
            if *label != best.1 {
                *label = best.1;
                moved = true;
            }
        }
        if !moved {
            break;
        }
        let mut sums = vec![([0.0; F], 0.0); centres.len()];
        for (row, &label) in z.iter().zip(&labels) {
            let (sum, n) = &mut sums[label];
            for (total, x) in sum.iter_mut().zip(row) {
                *total += x;
            }
            *n += 1.0;
        }
        for (centre, (sum, n)) in centres.iter_mut().zip(sums) {
            if n > 0.0 {
                *centre = std::array::from_fn(|j| sum[j] / n);
            }
        }
    }
    labels
}

/// smartcore's k-means, the tightest of [`SEEDS`] seeds, with its cost.
fn fresh_clusters(z: &[[f64; F]], k: usize, seed: u64) -> Option<(f64, Vec<usize>)> {
    let matrix =
        DenseMatrix::from_2d_vec(&z.iter().map(|r| r.to_vec()).collect::<Vec<_>>()).ok()?;
    let mut best: Option<(f64, Vec<usize>)> = None;
    for s in 0..SEEDS {
        let params = KMeansParameters {
            k,
            max_iter: 100,
            seed: Some(seed.wrapping_add(s)),
        };
        let Ok(fitted) = KMeans::<f64, u32, DenseMatrix<f64>, Vec<u32>>::fit(&matrix, params)
        else {
            continue;
        };
        let Ok(labels) = fitted.predict(&matrix) else {
            continue;
        };
        let labels: Vec<usize> = labels.into_iter().map(|l| l as usize).collect();
        let cost = within_cluster_cost(z, &labels);
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, labels));
        }
    }
    best
}

/// The sum of squared distances of rows to their cluster's mean.
fn within_cluster_cost(z: &[[f64; F]], labels: &[usize]) -> f64 {
    let mut sums: BTreeMap<usize, ([f64; F], f64)> = BTreeMap::new();
    for (row, &l) in z.iter().zip(labels) {
        let (sum, n) = sums.entry(l).or_insert(([0.0; F], 0.0));
        for (total, x) in sum.iter_mut().zip(row) {
            *total += x;
        }
        *n += 1.0;
    }
    z.iter()
        .zip(labels)
        .map(|(row, l)| {
            let (sum, n) = &sums[l];
            (0..F).map(|j| (row[j] - sum[j] / n).powi(2)).sum::<f64>()
        })
        .sum()
}

/// For each current centre, the previous segment it continues, if any: RMS distance in units of
/// `spread` (today's standard deviations) at most `max_distance`, the closest pairs first (ties
/// by position), each previous segment used once. Pure; a previous centre of another length
/// (another feature set) matches nothing.
pub fn match_previous(
    previous: &[SegmentCentroid],
    centres: &[Vec<f64>],
    spread: &[f64],
    max_distance: f64,
) -> Vec<Option<usize>> {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (c, centre) in centres.iter().enumerate() {
        for (p, prev) in previous.iter().enumerate() {
            if prev.centre.len() != centre.len() || centre.len() != spread.len() {
                continue;
            }
            let d = (centre
                .iter()
                .zip(&prev.centre)
                .zip(spread)
                .map(|((a, b), s)| ((a - b) / s).powi(2))
                .sum::<f64>()
                / centre.len().max(1) as f64)
                .sqrt();
            if d <= max_distance {
                pairs.push((d, c, p));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut matched = vec![None; centres.len()];
    let mut used = BTreeSet::new();
    for (_, c, p) in pairs {
        if matched[c].is_none() && !used.contains(&p) {
            matched[c] = Some(p);
            used.insert(p);
        }
    }
    matched
}

/// A segment's name from its traits alone (before making names unique).
pub fn name_of(traits: &Traits) -> String {
    let attends = traits.attended_share >= 0.5;
    if traits.new_share >= 0.5 {
        return if traits.buyers_share >= 0.5 {
            "new this month".to_owned()
        } else {
            "new this month, not bought yet".to_owned()
        };
    }
    if traits.buyers_share < 0.5 {
        // "Never" only when it is true of (almost) all of them: a segment where 48% bought is
        // not one that never bought.
        let bought = if traits.buyers_share < 0.05 {
            "never bought"
        } else {
            "most never bought"
        };
        return if attends {
            format!("engaged, {bought}")
        } else {
            bought.to_owned()
        };
    }
    let base = if traits
        .median_days_since_purchase
        .is_some_and(|d| d > LAPSED_DAYS)
    {
        if traits.mean_visits >= 2.0 {
            "lapsed repeat buyers"
        } else {
            "lapsed"
        }
    } else if traits.mean_visits >= 3.0 {
        "loyal repeat buyers"
    } else if traits.mean_visits >= 1.5 {
        "repeat buyers"
    } else {
        "one-time buyers"
    };
    if attends {
        format!("{base} who attend classes")
    } else {
        base.to_owned()
    }
}

/// Previous names first (for matched clusters), then each other cluster's own name, unique.
fn name_segments(
    segments: &mut [Segment],
    matched: &[Option<usize>],
    previous: &[SegmentCentroid],
    spread: &[f64; F],
) {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for (segment, m) in segments.iter_mut().zip(matched) {
        if let Some(prev) = m.and_then(|p| previous.get(p))
            && taken.insert(prev.name.clone())
        {
            segment.name = prev.name.clone();
        }
    }
    // The first segment named from each base name: the one a second of that name is told from.
    let mut holders: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for i in 0..segments.len() {
        let kept = matched[i]
            .and_then(|p| previous.get(p))
            .is_some_and(|prev| prev.name == segments[i].name && !segments[i].name.is_empty());
        if kept {
            continue;
        }
        let base = name_of(&segments[i].traits);
        let mut name = base.clone();
        if let Some(holder) = holders.get(&base) {
            name = format!(
                "{base} ({})",
                contrast(&segments[i].centroid.centre, holder, spread)
            );
        }
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base} {n}");
            n += 1;
        }
        holders
            .entry(base)
            .or_insert_with(|| segments[i].centroid.centre.clone());
        taken.insert(name.clone());
        segments[i].name = name;
    }
    for segment in segments.iter_mut() {
        segment.centroid.name = segment.name.clone();
    }
}

/// Words for the feature that most sets `centre` apart from `other` (in standard deviations).
fn contrast(centre: &[f64], other: &[f64], spread: &[f64; F]) -> &'static str {
    const MORE: [&str; F] = [
        "more purchases",
        "higher spend",
        "bought more recently",
        "longer-standing",
        "more classes",
        "more engaged",
    ];
    const LESS: [&str; F] = [
        "fewer purchases",
        "lower spend",
        "bought less recently",
        "newer",
        "fewer classes",
        "less engaged",
    ];
    let (j, diff) = (0..F.min(centre.len()).min(other.len()))
        .map(|j| (j, (centre[j] - other[j]) / spread[j]))
        .fold((0, 0.0_f64), |best, (j, d)| {
            if d.abs() > best.1.abs() { (j, d) } else { best }
        });
    if diff >= 0.0 { MORE[j] } else { LESS[j] }
}

/// Per course, the share of these learners who own it.
fn course_shares<'a>(
    learners: impl Iterator<Item = &'a str>,
    buyers: &Buyers,
) -> BTreeMap<String, f64> {
    let mut owners: BTreeMap<String, u32> = BTreeMap::new();
    let mut n = 0u32;
    for l in learners {
        n += 1;
        if let Some(b) = buyers.by_learner.get(l) {
            for c in b.courses.keys() {
                *owners.entry(c.clone()).or_default() += 1;
            }
        }
    }
    owners
        .into_iter()
        .map(|(c, k)| (c, f64::from(k) / f64::from(n.max(1))))
        .collect()
}

fn describe(
    members: &[usize],
    centre: &[f64],
    rows: &[Row],
    buyers: &Buyers,
    catalog: &BTreeMap<&str, &CourseInfo>,
    school_share: &BTreeMap<String, f64>,
) -> Segment {
    let size = members.len();
    let n = size as f64;
    let ids: BTreeSet<&str> = members.iter().map(|&i| rows[i].id.as_str()).collect();
    let bought = members.iter().filter(|&&i| rows[i].visits > 0).count();
    let mut since: Vec<i64> = members
        .iter()
        .filter_map(|&i| rows[i].days_since_purchase)
        .collect();
    since.sort_unstable();
    let median = match since.len() {
        0 => None,
        m if m % 2 == 1 => Some(since[m / 2] as f64),
        m => Some((since[m / 2 - 1] + since[m / 2]) as f64 / 2.0),
    };
    let attendees: Vec<&Row> = members
        .iter()
        .map(|&i| &rows[i])
        .filter(|r| r.classes > 0)
        .collect();
    let traits = Traits {
        buyers_share: bought as f64 / n,
        mean_visits: members
            .iter()
            .map(|&i| f64::from(rows[i].visits))
            .sum::<f64>()
            / n,
        mean_spent_cents: members
            .iter()
            .map(|&i| rows[i].spent_cents as f64)
            .sum::<f64>()
            / n,
        median_days_since_purchase: median,
        new_share: members.iter().filter(|&&i| rows[i].new).count() as f64 / n,
        attended_share: attendees.len() as f64 / n,
        mean_engagement: (!attendees.is_empty())
            .then(|| attendees.iter().map(|r| r.engagement).sum::<f64>() / attendees.len() as f64),
    };
    let shares = course_shares(ids.iter().copied(), buyers);
    let mut ranked: Vec<(&String, f64, f64)> = school_share
        .iter()
        .map(|(c, &school)| (c, shares.get(c).copied().unwrap_or(0.0), school))
        .collect();
    ranked.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(b.2.total_cmp(&a.2))
            .then(a.0.cmp(b.0))
    });
    let typical_courses = ranked
        .iter()
        .filter(|r| r.1 > 0.0)
        .take(TYPICAL)
        .map(|(c, share, _)| CourseShare {
            course: (*c).clone(),
            title: catalog
                .get(c.as_str())
                .map_or_else(|| (*c).clone(), |i| i.title.clone()),
            share: *share,
        })
        .collect();
    // Interests: the tags of the members' courses, as shares of those (member, course) pairs.
    let mut tags: BTreeMap<&str, u32> = BTreeMap::new();
    let mut pairs = 0u32;
    for id in &ids {
        if let Some(b) = buyers.by_learner.get(*id) {
            for c in b.courses.keys() {
                pairs += 1;
                for t in catalog.get(c.as_str()).map_or(&[][..], |i| &i.tags[..]) {
                    *tags.entry(t.as_str()).or_default() += 1;
                }
            }
        }
    }
    let mut interests: Vec<(String, f64)> = tags
        .into_iter()
        .map(|(t, k)| (t.to_owned(), f64::from(k) / f64::from(pairs.max(1))))
        .collect();
    interests.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    interests.truncate(TYPICAL);
    Segment {
        name: String::new(),
        size: size as u32,
        buyers: bought as u32,
        conversion: bought as f64 / n,
        repurchase_90d: rate_among(buyers, |l| ids.contains(l), 90),
        traits,
        interests,
        typical_courses,
        centroid: SegmentCentroid {
            name: String::new(),
            centre: centre.to_vec(),
        },
        ranked_courses: ranked.into_iter().map(|r| r.0.clone()).collect(),
    }
}
