//! A random forest for purchase propensity: many small CART trees on bootstrap samples, whose
//! leaves hold the share of buyers, averaged into a probability.
//!
//! Why our own and not smartcore's `RandomForestClassifier`: it has no probabilities (hard votes,
//! which cost up to 0.06 AUC on this data, see the field notes), no progress, and its saved form
//! changed between releases. This one is small, deterministic for a seed, reports each tree as it
//! is done, and serialises to a plain layout with a [`FORMAT_VERSION`].
//!
//! How: each feature is cut once into at most `max_bins` ranges at quantiles of the training
//! rows, so finding a split is a histogram scan (as in LightGBM) instead of a sort; a split is
//! kept only when both sides keep `min_samples_leaf` rows and Gini impurity drops. Each split
//! tries `features_per_split` random features (default the square root of their number). A leaf's
//! value is the share of buyers among its bootstrap rows; the forest's probability is the mean
//! over trees. Split thresholds are real feature values, so prediction needs no bins.
//!
//! [`train_forest`] follows `propensity::train`'s rules (the same split in time with its gap,
//! the same refusal, the same quality report) and [`ForestModel::reasons`] explains a
//! probability as the logistic model does, in percentage points against the training means.
//!
//! A forest read back from JSON is checked (shapes, feature indices, children after parents,
//! finite thresholds, leaf values in 0..=1), so a damaged model fails to load instead of
//! panicking or looping when it predicts.
//!
//! Not yet: training trees on both cores (it is single-threaded: 0.44 s for 100 trees on 37,500
//! rows, see `examples/bench_models.rs`).

use serde::{Deserialize, Serialize};

use crate::propensity::{
    self, AttendeeRows, Cut, FEATURES, ModelQuality, N, PropensityError, Reason,
};
use crate::rng::Rng;

/// The layout version of a serialised [`Forest`]. Bump it whenever the layout or the meaning of
/// the stored numbers changes, so stored forests are retrained instead of misread.
pub const FORMAT_VERSION: u32 = 2;
/// Fewest bootstrap rows in a leaf, by default.
pub const MIN_SAMPLES_LEAF: usize = 20;
/// Most trees a forest may have.
pub const MAX_TREES: usize = 1_000;

/// How a forest is grown.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    /// Number of trees (1 to [`MAX_TREES`]).
    pub trees: usize,
    /// Fewest bootstrap rows in a leaf (at least 1).
    pub min_samples_leaf: usize,
    /// Deepest a tree may grow (1 to 30).
    pub max_depth: usize,
    /// Features tried at each split; 0 means the square root of their number.
    pub features_per_split: usize,
    /// Ranges each feature is cut into (2 to 256).
    pub max_bins: usize,
    /// The seed of the bootstrap samples and feature choices.
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            trees: 100,
            min_samples_leaf: MIN_SAMPLES_LEAF,
            max_depth: 12,
            features_per_split: 0,
            max_bins: 64,
            seed: 0x00C0_FFEE_2026,
        }
    }
}

/// One tree in flat arrays. Node `i` is a leaf when `feature[i] < 0` (its `value` is the share
/// of buyers); otherwise rows with `x[feature] <= value` go to `left[i]` and the others to
/// `left[i] + 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    feature: Vec<i32>,
    value: Vec<f64>,
    left: Vec<u32>,
}

impl Tree {
    fn predict(&self, x: &[f64]) -> f64 {
        let mut i = 0;
        // Children always come after their parent (checked on load), so this ends.
        loop {
            let f = self.feature[i];
            if f < 0 {
                return self.value[i];
            }
            let go_left = x[f as usize] <= self.value[i];
            i = self.left[i] as usize + usize::from(!go_left);
        }
    }

    fn check(&self, width: usize) -> Result<(), String> {
        let n = self.feature.len();
        if n == 0 || self.value.len() != n || self.left.len() != n {
            return Err("a tree's arrays are empty or of different lengths".into());
        }
        for i in 0..n {
            let (f, v, l) = (self.feature[i], self.value[i], self.left[i] as usize);
            if f < 0 {
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!("a leaf holds {v}, not a probability"));
                }
            } else if f as usize >= width || !v.is_finite() || l <= i || l + 1 >= n {
                return Err(format!("node {i} of a tree is malformed"));
            }
        }
        Ok(())
    }
}

/// A trained forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ForestLayout")]
pub struct Forest {
    feature_names: Vec<String>,
    importances: Vec<f64>,
    trees: Vec<Tree>,
}

/// The serialised layout, checked before it becomes a [`Forest`].
#[derive(Deserialize)]
struct ForestLayout {
    feature_names: Vec<String>,
    importances: Vec<f64>,
    trees: Vec<Tree>,
}

impl TryFrom<ForestLayout> for Forest {
    type Error = String;

    fn try_from(l: ForestLayout) -> Result<Forest, String> {
        let width = l.feature_names.len();
        if width == 0 || l.importances.len() != width || l.trees.is_empty() {
            return Err("the forest has no features, no trees or mismatched importances".into());
        }
        if l.trees.len() > MAX_TREES {
            return Err(format!("the forest has more than {MAX_TREES} trees"));
        }
        for tree in &l.trees {
            tree.check(width)?;
        }
        Ok(Forest {
            feature_names: l.feature_names,
            importances: l.importances,
            trees: l.trees,
        })
    }
}

/// Quantile cut points of one feature: at most `max_bins - 1` increasing thresholds.
fn cut_points(column: &[f64], max_bins: usize) -> Vec<f64> {
    let mut sorted = column.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let mut cuts: Vec<f64> = Vec::new();
    for k in 1..max_bins {
        let at = k * n / max_bins;
        if at == 0 || at >= n {
            continue;
        }
        let (a, b) = (sorted[at - 1], sorted[at]);
        let cut = if a < b { a + (b - a) / 2.0 } else { a };
        // A cut at or above the largest value would leave the right side empty.
        if cut < sorted[n - 1] && cuts.last().is_none_or(|&last| cut > last) {
            cuts.push(cut);
        }
    }
    cuts
}

/// Gini impurity times the row count: `2 p (n - p) / n`.
fn weighted_gini(n: f64, p: f64) -> f64 {
    if n <= 0.0 { 0.0 } else { 2.0 * p * (n - p) / n }
}

struct Grower<'a> {
    /// `bins[f][row]`: the range of feature `f` the row falls in.
    bins: &'a [Vec<u8>],
    cuts: &'a [Vec<f64>],
    y: &'a [bool],
    params: &'a ForestParams,
    tries: usize,
    importances: Vec<f64>,
    counts: Vec<u32>,
    buyers: Vec<u32>,
    order: Vec<usize>,
}

impl Grower<'_> {
    fn grow(&mut self, rng: &mut Rng) -> Tree {
        let n = self.y.len();
        let mut sample: Vec<u32> = (0..n).map(|_| rng.below(n) as u32).collect();
        let mut tree = Tree {
            feature: vec![-1],
            value: vec![0.0],
            left: vec![0],
        };
        // (node, start, end, depth) of nodes still to decide.
        let mut stack = vec![(0usize, 0usize, n, 0usize)];
        while let Some((node, lo, hi, depth)) = stack.pop() {
            let rows = &mut sample[lo..hi];
            let count = rows.len();
            let buyers = rows.iter().filter(|&&r| self.y[r as usize]).count();
            tree.value[node] = buyers as f64 / count.max(1) as f64;
            if depth >= self.params.max_depth
                || count < 2 * self.params.min_samples_leaf
                || buyers == 0
                || buyers == count
            {
                continue;
            }
            let Some((f, k, gain)) = self.best_split(rows, count, buyers, rng) else {
                continue;
            };
            self.importances[f] += gain;
            // Partition in place: the rows of bins 0..=k first.
            let column = &self.bins[f];
            let mut split = 0;
            for i in 0..rows.len() {
                if usize::from(column[rows[i] as usize]) <= k {
                    rows.swap(i, split);
                    split += 1;
                }
            }
            let left = tree.feature.len();
            tree.feature[node] = f as i32;
            tree.value[node] = self.cuts[f][k];
            tree.left[node] = left as u32;
            tree.feature.extend([-1, -1]);
            tree.value.extend([0.0, 0.0]);
            tree.left.extend([0, 0]);
            stack.push((left, lo, lo + split, depth + 1));
            stack.push((left + 1, lo + split, hi, depth + 1));
        }
        tree
    }

    /// The feature and last left bin of the best split among `tries` random features, with its
    /// drop in weighted Gini impurity.
    fn best_split(
        &mut self,
        rows: &[u32],
        count: usize,
        buyers: usize,
        rng: &mut Rng,
    ) -> Option<(usize, usize, f64)> {
        let parent = weighted_gini(count as f64, buyers as f64);
        let leaf = self.params.min_samples_leaf as u32;
        let width = self.order.len();
        let mut best: Option<(usize, usize, f64)> = None;
        for t in 0..self.tries {
            // A partial Fisher-Yates shuffle picks features without repeats.
            let pick = t + rng.below(width - t);
            self.order.swap(t, pick);
            let f = self.order[t];
            let bins = self.cuts[f].len() + 1;
            if bins < 2 {
                continue;
            }
            self.counts[..bins].fill(0);
            self.buyers[..bins].fill(0);
            let column = &self.bins[f];
            for &r in rows {
                let b = usize::from(column[r as usize]);
                self.counts[b] += 1;
                self.buyers[b] += u32::from(self.y[r as usize]);
            }
            let (mut lc, mut lp) = (0u32, 0u32);
            for k in 0..bins - 1 {
                lc += self.counts[k];
                lp += self.buyers[k];
                let rc = count as u32 - lc;
                if lc < leaf {
                    continue;
                }
                if rc < leaf {
                    break;
                }
                let rp = buyers as u32 - lp;
                let impurity = weighted_gini(f64::from(lc), f64::from(lp))
                    + weighted_gini(f64::from(rc), f64::from(rp));
                let gain = parent - impurity;
                if gain > 1e-9 && best.is_none_or(|(_, _, g)| gain > g) {
                    best = Some((f, k, gain));
                }
            }
        }
        best
    }
}

impl Forest {
    /// Grows a forest on rows `x` (all of one width, finite) with labels `y` (both classes
    /// present). `progress(done, total)` is called after each tree.
    pub fn fit(
        x: &[Vec<f64>],
        y: &[bool],
        feature_names: &[&str],
        params: &ForestParams,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Forest, PropensityError> {
        let bad = |why: &str| Err(PropensityError::Training(why.to_owned()));
        let width = feature_names.len();
        if width == 0 || x.is_empty() || x.len() != y.len() || x.iter().any(|r| r.len() != width) {
            return bad("the rows, labels and feature names do not line up");
        }
        if x.len() > u32::MAX as usize {
            return bad("too many rows for one forest");
        }
        if x.iter().flatten().any(|v| !v.is_finite()) {
            return bad("a feature value is not a finite number");
        }
        if y.iter().all(|&l| l) || !y.iter().any(|&l| l) {
            return bad("both buyers and non-buyers are needed");
        }
        if !(1..=MAX_TREES).contains(&params.trees)
            || params.min_samples_leaf == 0
            || !(1..=30).contains(&params.max_depth)
            || !(2..=256).contains(&params.max_bins)
            || params.features_per_split > width
        {
            return bad("the forest's parameters are out of range");
        }
        let tries = if params.features_per_split == 0 {
            ((width as f64).sqrt().round() as usize).clamp(1, width)
        } else {
            params.features_per_split
        };
        let cuts: Vec<Vec<f64>> = (0..width)
            .map(|f| {
                let column: Vec<f64> = x.iter().map(|r| r[f]).collect();
                cut_points(&column, params.max_bins)
            })
            .collect();
        let bins: Vec<Vec<u8>> = (0..width)
            .map(|f| {
                x.iter()
                    // The number of cuts below the value: at most 255 (max_bins <= 256).
                    .map(|r| cuts[f].partition_point(|&c| c < r[f]) as u8)
                    .collect()
            })
            .collect();
        let mut grower = Grower {
            bins: &bins,
            cuts: &cuts,
            y,
            params,
            tries,
            importances: vec![0.0; width],
            counts: vec![0; params.max_bins],
            buyers: vec![0; params.max_bins],
            order: (0..width).collect(),
        };
        let mut trees = Vec::with_capacity(params.trees);
        for t in 0..params.trees {
            let mut rng = Rng::new(params.seed ^ (t as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
            trees.push(grower.grow(&mut rng));
            progress(t + 1, params.trees);
        }
        let total: f64 = grower.importances.iter().sum();
        let importances = grower
            .importances
            .iter()
            .map(|g| if total > 0.0 { g / total } else { 0.0 })
            .collect();
        Ok(Forest {
            feature_names: feature_names.iter().map(|s| (*s).to_owned()).collect(),
            importances,
            trees,
        })
    }

    /// The probability of buying: the mean of the trees' leaf shares. `None` when `features`
    /// does not have one value per feature of the forest.
    pub fn probability(&self, features: &[f64]) -> Option<f64> {
        if features.len() != self.feature_names.len() {
            return None;
        }
        let sum: f64 = self.trees.iter().map(|t| t.predict(features)).sum();
        Some(sum / self.trees.len() as f64)
    }

    /// The features, in the order `probability` expects them.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Each feature's share of the total drop in Gini impurity (sums to 1).
    pub fn importances(&self) -> Vec<(&str, f64)> {
        self.feature_names
            .iter()
            .map(String::as_str)
            .zip(self.importances.iter().copied())
            .collect()
    }

    /// Number of trees.
    pub fn trees(&self) -> usize {
        self.trees.len()
    }

    /// Number of nodes over all trees (a measure of its size).
    pub fn nodes(&self) -> usize {
        self.trees.iter().map(|t| t.feature.len()).sum()
    }
}

/// A forest trained on attendee rows, with its quality on the held-out classes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForestModel {
    /// The forest.
    pub forest: Forest,
    /// Per-feature means of the training rows: the neutral values of [`ForestModel::reasons`].
    pub means: [f64; N],
    /// Where the classes it learned from were cut: score rows cut the same way.
    pub cut: Cut,
    /// The label window it learned (ms).
    pub window_ms: i64,
    /// Quality on the latest quarter of classes.
    pub quality: ModelQuality,
}

impl ForestModel {
    /// Probability that the attendee buys a course they do not own within the window from the
    /// cut.
    pub fn probability(&self, features: &[f64; N]) -> f64 {
        // The width always matches: the forest was grown on `FEATURES` (checked on load).
        self.forest.probability(features).unwrap_or(f64::NAN)
    }

    /// The `k` features that raise this attendee's probability most, in percentage points.
    pub fn reasons(&self, features: &[f64; N], k: usize) -> Vec<Reason> {
        propensity::reasons(|x| self.probability(x), features, &self.means, k)
    }
}

/// Trains a forest on the older classes' labelled rows and judges it on the latest quarter of
/// classes, with the rules of `propensity::train`.
pub fn train_forest(
    rows: &AttendeeRows,
    params: &ForestParams,
    progress: impl FnMut(usize, usize),
) -> Result<ForestModel, PropensityError> {
    let split = propensity::split(rows)?;
    let (x, y) = split.train_xy();
    let x: Vec<Vec<f64>> = x.iter().map(|r| r.to_vec()).collect();
    let forest = Forest::fit(&x, &y, &FEATURES, params, progress)?;
    let predicted: Vec<f64> = split
        .holdout
        .iter()
        .map(|r| forest.probability(&r.features).unwrap_or(f64::NAN))
        .collect();
    let quality = propensity::holdout_quality(
        &predicted,
        &split.holdout_labels(),
        split.provenance.clone(),
    );
    Ok(ForestModel {
        forest,
        means: split.train_means(),
        cut: rows.cut,
        window_ms: rows.window_ms,
        quality,
    })
}
