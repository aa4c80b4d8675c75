//! Seeded schools with knobs, to judge recommenders on structures other than the demo's.
//!
//! The demo school's learners mostly walk tracks listed in catalog order, so a recommender can
//! look good there by learning the catalog's order. A [`SchoolShape`] sets how learners choose
//! each purchase instead:
//!
//! - `in_track`: the next course of the learner's track (tracks are learning paths inside a
//!   topic; with `catalog_in_track_order` false their ids are shuffled, so catalog order means
//!   nothing);
//! - `bundles`: a bundle of 2-3 courses bought in one visit (or the rest of a bundle the learner
//!   has started);
//! - `tag_affinity`: a course whose tags match the learner's preferred tags;
//! - the rest: a popular course (popularity drifts over the year, and launches get a boost).
//!
//! `launches` is the share of courses that appear during the last 45% of the time span (so they
//! have no buyer before the later evaluation cuts). Pure and deterministic: no IO, no clock, a
//! SplitMix64 generator and libm's functions, so a seed gives the same school on every machine.
//! [`School::to_csv`] writes the catalog, learners and purchases in the formats the store's
//! importer reads, so the same school can be built through the real imports.
//!
//! ```
//! use lectern_insights::school_gen::{School, SchoolShape};
//!
//! let school = School::generate(&SchoolShape::tag_led(7));
//! assert!(school.purchases.len() > 1_000);
//! let csv = school.to_csv();
//! assert!(csv.purchases.starts_with("order_id,learner,course,date,amount,currency\n"));
//! ```

use std::collections::BTreeSet;
use std::f64::consts::TAU;

use crate::calendar;
use crate::recs::{CourseInfo, PurchaseRecord};
use crate::rng::Rng;

const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;

/// Topic names; a school uses the first `topics` of them.
const TOPICS: [&str; 12] = [
    "astronomy",
    "baking",
    "chess",
    "drawing",
    "economics",
    "fitness",
    "gardening",
    "history",
    "italian",
    "journalism",
    "knitting",
    "law",
];
/// Each topic's sub-tags are `<topic>-<facet>`.
const FACETS: [&str; 8] = [
    "basics", "tools", "practice", "theory", "projects", "history", "careers", "methods",
];
/// Tags that cut across topics.
const CROSS_TAGS: [&str; 4] = ["certificate", "hands-on", "live-q-and-a", "for-teams"];

/// How a generated school behaves (see the module docs). Shares of purchases above a total of 1
/// are scaled down to 1; what is left is popularity.
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolShape {
    /// The generator's seed.
    pub seed: u64,
    /// Courses in the catalog, launches included.
    pub courses: usize,
    /// Learners (some never buy).
    pub learners: usize,
    /// Days of history.
    pub days: u32,
    /// The first day (Unix ms).
    pub start_ms: i64,
    /// Topics (at most 12); each holds tracks of 3 to 5 courses.
    pub topics: usize,
    /// Share of purchases that follow the learner's track.
    pub in_track: f64,
    /// Share of purchases that are (the rest of) a bundle.
    pub bundles: f64,
    /// Chance that each course of a bundle is bought in the visit the bundle is chosen (1: whole
    /// bundles); a bundle left in part is usually completed at the learner's next bundle purchase.
    pub bundle_at_once: f64,
    /// Share of purchases chosen by the learner's preferred tags.
    pub tag_affinity: f64,
    /// Share of courses launched late (during the last 45% of the span).
    pub launches: f64,
    /// Ids follow the tracks (`c-001`, `c-002`, ... like a catalog listed in learning order)
    /// instead of being random.
    pub catalog_in_track_order: bool,
}

impl SchoolShape {
    /// Learners who shop by topic: mostly tag affinity, short tracks, many launches, random ids.
    pub fn tag_led(seed: u64) -> SchoolShape {
        SchoolShape {
            seed,
            courses: 60,
            learners: 2_500,
            days: 365,
            start_ms: 1_735_689_600_000, // 2025-01-01
            topics: 8,
            in_track: 0.15,
            bundles: 0.05,
            bundle_at_once: 1.0,
            tag_affinity: 0.5,
            launches: 0.2,
            catalog_in_track_order: false,
        }
    }

    /// Learners who buy bundles: a third of purchases are bundles, some tracks and tag
    /// affinity, few launches, random ids.
    pub fn bundled(seed: u64) -> SchoolShape {
        SchoolShape {
            seed,
            courses: 48,
            learners: 2_500,
            days: 365,
            start_ms: 1_735_689_600_000,
            topics: 6,
            in_track: 0.2,
            bundles: 0.35,
            bundle_at_once: 1.0,
            tag_affinity: 0.2,
            launches: 0.1,
            catalog_in_track_order: false,
        }
    }

    /// Like [`SchoolShape::bundled`], but a bundle is often bought in parts (each course with
    /// 85% chance) and completed later, so co-purchase counts predict the completions.
    pub fn bundles_in_parts(seed: u64) -> SchoolShape {
        SchoolShape {
            bundle_at_once: 0.85,
            ..SchoolShape::bundled(seed)
        }
    }

    /// Learners walk tracks as in the demo, but ids are random (catalog order means nothing),
    /// a sixth of the courses launch late, and some purchases follow tags or bundles.
    pub fn shuffled_tracks(seed: u64) -> SchoolShape {
        SchoolShape {
            seed,
            courses: 48,
            learners: 2_500,
            days: 365,
            start_ms: 1_735_689_600_000,
            topics: 6,
            in_track: 0.6,
            bundles: 0.05,
            bundle_at_once: 1.0,
            tag_affinity: 0.15,
            launches: 0.15,
            catalog_in_track_order: false,
        }
    }

    /// Like the demo: learners walk tracks listed in catalog order, no launches.
    pub fn catalog_tracks(seed: u64) -> SchoolShape {
        SchoolShape {
            seed,
            courses: 40,
            learners: 2_500,
            days: 365,
            start_ms: 1_735_689_600_000,
            topics: 6,
            in_track: 0.75,
            bundles: 0.0,
            bundle_at_once: 1.0,
            tag_affinity: 0.1,
            launches: 0.0,
            catalog_in_track_order: true,
        }
    }
}

/// A generated course.
#[derive(Debug, Clone, PartialEq)]
pub struct GenCourse {
    /// The catalog id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// `beginner`, `intermediate` or `advanced` (by its place in its track).
    pub level: &'static str,
    /// Price in cents (USD).
    pub price_cents: i64,
    /// Length in minutes.
    pub length_minutes: u32,
    /// The track's name.
    pub track: String,
    /// When it could first be bought (Unix ms).
    pub launched_ms: i64,
}

/// A generated learner.
#[derive(Debug, Clone, PartialEq)]
pub struct GenLearner {
    /// The pseudonymous id.
    pub id: String,
    /// When they joined (Unix ms).
    pub joined_ms: i64,
}

/// A generated purchase.
#[derive(Debug, Clone, PartialEq)]
pub struct GenPurchase {
    /// The order id.
    pub order_id: String,
    /// The learner's id.
    pub learner: String,
    /// The course's id.
    pub course: String,
    /// When (Unix ms, whole seconds).
    pub at_ms: i64,
    /// Amount paid in cents (USD).
    pub amount_cents: i64,
}

/// A generated school: the catalog sorted by id (the order the store lists it in), learners,
/// and purchases sorted by time.
#[derive(Debug, Clone, PartialEq)]
pub struct School {
    /// The catalog, by id.
    pub courses: Vec<GenCourse>,
    /// Every learner, by id.
    pub learners: Vec<GenLearner>,
    /// Every purchase, oldest first.
    pub purchases: Vec<GenPurchase>,
}

/// A school as the three CSV files the store imports (header row first, LF line ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolCsv {
    /// `id,title,tags,level,price,length,currency,track,launched` (`launched` is ignored by the
    /// importer and kept for people).
    pub catalog: String,
    /// `id,joined`.
    pub learners: String,
    /// `order_id,learner,course,date,amount,currency`.
    pub purchases: String,
}

/// A course while the school is made.
struct Draft {
    topic: usize,
    tags: Vec<String>,
    appeal: f64,
    /// Phase of its popularity's yearly drift.
    phase: f64,
    launched_ms: i64,
    track: usize,
    level: &'static str,
}

struct Maker<'a> {
    shape: &'a SchoolShape,
    rng: Rng,
    courses: Vec<Draft>,
    /// Course numbers of each track, in learning order.
    tracks: Vec<Vec<usize>>,
    bundles: Vec<Vec<usize>>,
    end_ms: i64,
}

impl School {
    /// Make the school `shape` describes.
    pub fn generate(shape: &SchoolShape) -> School {
        let mut rng = Rng::new(shape.seed);
        let topics = shape.topics.clamp(1, TOPICS.len());
        let courses_n = shape.courses.max(topics * 3);
        let end_ms = shape.start_ms + i64::from(shape.days.max(30)) * DAY_MS;
        let (courses, tracks) = draft_courses(&mut rng, shape, topics, courses_n, end_ms);
        let bundles = draft_bundles(&mut rng, &courses);
        let mut maker = Maker {
            shape,
            rng,
            courses,
            tracks,
            bundles,
            end_ms,
        };
        let ids = maker.course_ids();
        let mut learners = Vec::with_capacity(shape.learners);
        let mut bought: Vec<(i64, usize, usize)> = Vec::new();
        for l in 0..shape.learners {
            let joined_ms = maker.join_time();
            learners.push(GenLearner {
                id: format!("lrn-{:05}", l + 1),
                joined_ms,
            });
            for (at, course) in maker.purchases_of(joined_ms, topics) {
                bought.push((at, l, course));
            }
        }
        bought.sort_unstable();
        let purchases = bought
            .into_iter()
            .enumerate()
            .map(|(k, (at_ms, l, c))| {
                let price = maker.price(c);
                let discount = [0, 0, 0, 10, 20][maker.rng.below(5)];
                GenPurchase {
                    order_id: format!("ord-{:07}", k + 1),
                    learner: learners[l].id.clone(),
                    course: ids[c].clone(),
                    at_ms,
                    amount_cents: price - price * discount / 100,
                }
            })
            .collect();
        let mut courses: Vec<GenCourse> = maker
            .courses
            .iter()
            .enumerate()
            .map(|(c, d)| GenCourse {
                id: ids[c].clone(),
                title: title(d, c),
                tags: d.tags.clone(),
                level: d.level,
                price_cents: maker.price(c),
                length_minutes: 60 + 30 * (c as u32 % 12),
                track: format!("{}-{}", TOPICS[d.topic], d.track + 1),
                launched_ms: d.launched_ms,
            })
            .collect();
        courses.sort_by(|a, b| a.id.cmp(&b.id));
        School {
            courses,
            learners,
            purchases,
        }
    }

    /// The catalog as the recommender takes it (catalog order: by id).
    pub fn course_infos(&self) -> Vec<CourseInfo> {
        self.courses
            .iter()
            .map(|c| CourseInfo {
                id: c.id.clone(),
                title: c.title.clone(),
                tags: c.tags.clone(),
            })
            .collect()
    }

    /// The purchases as the recommender takes them.
    pub fn purchase_records(&self) -> Vec<PurchaseRecord> {
        self.purchases
            .iter()
            .map(|p| PurchaseRecord {
                learner: p.learner.clone(),
                course: p.course.clone(),
                at_ms: p.at_ms,
            })
            .collect()
    }

    /// The catalog, learners and purchases in the store's import formats.
    pub fn to_csv(&self) -> SchoolCsv {
        let mut catalog =
            String::from("id,title,tags,level,price,length,currency,track,launched\n");
        for c in &self.courses {
            catalog.push_str(&row(&[
                &c.id,
                &c.title,
                &c.tags.join(";"),
                c.level,
                &money(c.price_cents),
                &c.length_minutes.to_string(),
                "USD",
                &c.track,
                &calendar::day(c.launched_ms),
            ]));
        }
        let mut learners = String::from("id,joined\n");
        for l in &self.learners {
            learners.push_str(&row(&[&l.id, &calendar::utc(l.joined_ms)]));
        }
        let mut purchases = String::from("order_id,learner,course,date,amount,currency\n");
        for p in &self.purchases {
            purchases.push_str(&row(&[
                &p.order_id,
                &p.learner,
                &p.course,
                &calendar::utc(p.at_ms),
                &money(p.amount_cents),
                "USD",
            ]));
        }
        SchoolCsv {
            catalog,
            learners,
            purchases,
        }
    }
}

/// The catalog: courses spread over topics, tracks of 3-5 courses inside each topic.
fn draft_courses(
    rng: &mut Rng,
    shape: &SchoolShape,
    topics: usize,
    n: usize,
    end_ms: i64,
) -> (Vec<Draft>, Vec<Vec<usize>>) {
    let span = (end_ms - shape.start_ms) as f64;
    let mut courses = Vec::with_capacity(n);
    let mut tracks: Vec<Vec<usize>> = Vec::new();
    for topic in 0..topics {
        let first_track = tracks.len();
        let mut left = n / topics + usize::from(topic < n % topics);
        while left > 0 {
            let mut len = 3 + rng.below(3);
            if left < len + 3 {
                len = left;
            }
            let track = tracks.len();
            let mut members = Vec::with_capacity(len);
            for pos in 0..len {
                let level = if pos == 0 {
                    "beginner"
                } else if pos + 1 == len {
                    "advanced"
                } else {
                    "intermediate"
                };
                let launched_ms = if pos > 0 && rng.chance(shape.launches) {
                    shape.start_ms + (span * (0.55 + 0.4 * rng.unit())) as i64 / 1_000 * 1_000
                } else {
                    shape.start_ms
                };
                members.push(courses.len());
                courses.push(Draft {
                    topic,
                    tags: course_tags(rng, topic, topics),
                    appeal: 0.3 + 1.7 * rng.unit() * rng.unit(),
                    phase: TAU * rng.unit(),
                    launched_ms,
                    track: track - first_track,
                    level,
                });
            }
            tracks.push(members);
            left -= len;
        }
    }
    (courses, tracks)
}

/// The topic's own tag, two facets, sometimes a facet of the next topic and a cross-cutting tag.
fn course_tags(rng: &mut Rng, topic: usize, topics: usize) -> Vec<String> {
    let name = TOPICS[topic];
    let mut tags = vec![name.to_owned()];
    let first = rng.below(FACETS.len());
    let second = (first + 1 + rng.below(FACETS.len() - 1)) % FACETS.len();
    tags.push(format!("{name}-{}", FACETS[first]));
    tags.push(format!("{name}-{}", FACETS[second]));
    if topics > 1 && rng.chance(0.25) {
        let other = TOPICS[(topic + 1) % topics];
        tags.push(format!("{other}-{}", FACETS[rng.below(FACETS.len())]));
    }
    if rng.chance(0.3) {
        tags.push(CROSS_TAGS[rng.below(CROSS_TAGS.len())].to_owned());
    }
    tags
}

/// Bundles of 2-3 courses available from the start: half inside a topic, half across topics.
fn draft_bundles(rng: &mut Rng, courses: &[Draft]) -> Vec<Vec<usize>> {
    let start = courses.iter().map(|c| c.launched_ms).min().unwrap_or(0);
    let open: Vec<usize> = (0..courses.len())
        .filter(|&c| courses[c].launched_ms == start)
        .collect();
    let mut bundles = Vec::new();
    if open.len() < 3 {
        return bundles;
    }
    for _ in 0..(courses.len() / 8).max(1) {
        let size = 2 + rng.below(2);
        let first = open[rng.below(open.len())];
        let mut bundle = vec![first];
        let same_topic = rng.chance(0.5);
        for _ in 0..50 {
            if bundle.len() == size {
                break;
            }
            let c = open[rng.below(open.len())];
            if !bundle.contains(&c) && (!same_topic || courses[c].topic == courses[first].topic) {
                bundle.push(c);
            }
        }
        if bundle.len() >= 2 {
            bundles.push(bundle);
        }
    }
    bundles
}

fn title(d: &Draft, c: usize) -> String {
    let topic = TOPICS[d.topic];
    let mut name = topic.to_owned();
    if let Some(first) = name.get(..1) {
        name = first.to_uppercase() + &name[1..];
    }
    let facets: Vec<&str> = d
        .tags
        .iter()
        .filter_map(|t| t.strip_prefix(topic).and_then(|f| f.strip_prefix('-')))
        .collect();
    format!(
        "{name}: {} ({}) no. {}",
        facets.join(" and "),
        d.level,
        c + 1
    )
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// One CSV line, quoting fields that need it (RFC 4180).
fn row(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                (*f).to_owned()
            }
        })
        .collect();
    quoted.join(",") + "\n"
}

/// What one learner wants.
struct Taste {
    topic: usize,
    tags: BTreeSet<String>,
}

impl Maker<'_> {
    /// Ids: in track order (`c-001`...) or random hex.
    fn course_ids(&mut self) -> Vec<String> {
        let n = self.courses.len();
        if self.shape.catalog_in_track_order {
            let mut ids = vec![String::new(); n];
            for (k, c) in self.tracks.iter().flatten().enumerate() {
                ids[*c] = format!("c-{:03}", k + 1);
            }
            return ids;
        }
        let mut seen = BTreeSet::new();
        (0..n)
            .map(|_| {
                loop {
                    let id = format!("c-{:06x}", self.rng.next_u64() & 0xff_ffff);
                    if seen.insert(id.clone()) {
                        break id;
                    }
                }
            })
            .collect()
    }

    fn price(&self, c: usize) -> i64 {
        let base = match self.courses[c].level {
            "beginner" => 29,
            "intermediate" => 69,
            _ => 129,
        };
        (base + 10 * (c as i64 % 5)) * 100
    }

    /// More learners join later in the span (a growing school).
    fn join_time(&mut self) -> i64 {
        let span = (self.end_ms - self.shape.start_ms) as f64;
        self.shape.start_ms + (span * self.rng.unit().sqrt()) as i64 / 1_000 * 1_000
    }

    /// How much learners want course `c` at `t`: its appeal, a yearly drift, a launch boost.
    fn appeal(&self, c: usize, t: i64) -> f64 {
        let d = &self.courses[c];
        if t < d.launched_ms {
            return 0.0;
        }
        let year = (t - self.shape.start_ms) as f64 / (365.0 * DAY_MS as f64);
        let mut a = d.appeal * (1.0 + 0.5 * libm::sin(TAU * year + d.phase));
        if d.launched_ms > self.shape.start_ms {
            let age_days = (t - d.launched_ms) as f64 / DAY_MS as f64;
            a *= 1.0 + 2.0 * libm::exp(-age_days / 30.0);
        }
        a
    }

    fn taste(&mut self, topics: usize) -> Taste {
        let topic = self.rng.below(topics);
        let mut tags = BTreeSet::new();
        tags.insert(TOPICS[topic].to_owned());
        while tags.len() < 4 {
            tags.insert(format!(
                "{}-{}",
                TOPICS[topic],
                FACETS[self.rng.below(FACETS.len())]
            ));
        }
        if topics > 1 && self.rng.chance(0.4) {
            let other = (topic + 1 + self.rng.below(topics - 1)) % topics;
            tags.insert(TOPICS[other].to_owned());
            tags.insert(format!(
                "{}-{}",
                TOPICS[other],
                FACETS[self.rng.below(FACETS.len())]
            ));
        }
        if self.rng.chance(0.3) {
            tags.insert(CROSS_TAGS[self.rng.below(CROSS_TAGS.len())].to_owned());
        }
        Taste { topic, tags }
    }

    /// How many courses a learner will buy (about 3 on average; a tenth never buy).
    fn appetite(&mut self) -> usize {
        let u = self.rng.unit();
        match u {
            u if u < 0.10 => 0,
            u if u < 0.35 => 1,
            u if u < 0.55 => 2,
            u if u < 0.70 => 3,
            u if u < 0.80 => 4,
            u if u < 0.90 => 5 + self.rng.below(2),
            _ => 7 + self.rng.below(6),
        }
    }

    /// One learner's purchases: (time, course).
    fn purchases_of(&mut self, joined_ms: i64, topics: usize) -> Vec<(i64, usize)> {
        let taste = self.taste(topics);
        let count = self.appetite();
        let total = self.shape.in_track + self.shape.bundles + self.shape.tag_affinity;
        let scale = if total > 1.0 { 1.0 / total } else { 1.0 };
        let (in_track, bundles, tags) = (
            self.shape.in_track * scale,
            self.shape.bundles * scale,
            self.shape.tag_affinity * scale,
        );
        let mut owned: Vec<(i64, usize)> = Vec::new();
        let mut track: Option<usize> = None;
        let mut t = joined_ms + self.rng.below(3 * 86_400) as i64 * 1_000;
        for _ in 0..count {
            if t >= self.end_ms {
                break;
            }
            let r = self.rng.unit();
            let mut picked: Vec<usize> = Vec::new();
            if r < in_track {
                picked.extend(self.next_in_track(&mut track, &owned, &taste, t));
            } else if r < in_track + bundles {
                picked = self.bundle(&owned, &taste, t);
            } else if r < in_track + bundles + tags {
                picked.extend(self.by_taste(&owned, &taste, t));
            }
            if picked.is_empty() {
                picked.extend(self.popular(&owned, t));
            }
            for (k, c) in picked.into_iter().enumerate() {
                owned.push((t + k as i64 * self.rng.below(20) as i64 * MINUTE_MS, c));
            }
            // About three weeks to the next purchase (exponential), in whole seconds.
            let gap_days = -20.0 * libm::log(1.0 - self.rng.unit());
            t += (gap_days * 86_400.0) as i64 * 1_000 + 1_000;
        }
        owned.retain(|&(at, _)| at < self.end_ms);
        owned
    }

    fn has(owned: &[(i64, usize)], c: usize) -> bool {
        owned.iter().any(|&(_, o)| o == c)
    }

    /// The next open course of the learner's track, or the entry of a track of their topic.
    fn next_in_track(
        &mut self,
        track: &mut Option<usize>,
        owned: &[(i64, usize)],
        taste: &Taste,
        t: i64,
    ) -> Option<usize> {
        if let Some(k) = *track {
            let list = &self.tracks[k];
            let reached = list
                .iter()
                .rposition(|&c| Maker::has(owned, c))
                .map_or(0, |p| p + 1);
            if let Some(&c) = list[reached..]
                .iter()
                .find(|&&c| self.appeal(c, t) > 0.0 && !Maker::has(owned, c))
            {
                return Some(c);
            }
        }
        let starts: Vec<usize> = (0..self.tracks.len())
            .filter(|&k| {
                let first = self.tracks[k][0];
                self.courses[first].topic == taste.topic && !Maker::has(owned, first)
            })
            .collect();
        let weights: Vec<f64> = starts
            .iter()
            .map(|&k| self.appeal(self.tracks[k][0], t))
            .collect();
        if weights.iter().all(|&w| w <= 0.0) {
            return None;
        }
        let k = starts[self.rng.weighted(&weights)];
        *track = Some(k);
        Some(self.tracks[k][0])
    }

    /// The rest of a bundle the learner has started, or a new bundle they like.
    fn bundle(&mut self, owned: &[(i64, usize)], taste: &Taste, t: i64) -> Vec<usize> {
        let missing = |b: &Vec<usize>| -> Vec<usize> {
            b.iter()
                .copied()
                .filter(|&c| !Maker::has(owned, c))
                .collect()
        };
        if let Some(b) = self.bundles.iter().find(|b| {
            let m = missing(b).len();
            m > 0 && m < b.len()
        }) && self.rng.chance(0.6)
        {
            return missing(b);
        }
        let weights: Vec<f64> = self
            .bundles
            .iter()
            .map(|b| {
                if missing(b).len() < b.len() {
                    return 0.0;
                }
                let liking: f64 = b
                    .iter()
                    .map(|&c| self.appeal(c, t) * (0.2 + self.matching(c, taste)))
                    .sum();
                liking / b.len() as f64
            })
            .collect();
        if weights.iter().all(|&w| w <= 0.0) {
            return Vec::new();
        }
        let b = self.rng.weighted(&weights);
        let mut picked: Vec<usize> = Vec::new();
        for &c in &self.bundles[b] {
            if !Maker::has(owned, c) && self.rng.chance(self.shape.bundle_at_once) {
                picked.push(c);
            }
        }
        if picked.is_empty()
            && let Some(c) = missing(&self.bundles[b]).first()
        {
            picked.push(*c);
        }
        picked
    }

    /// Share of a course's tags that the learner likes.
    fn matching(&self, c: usize, taste: &Taste) -> f64 {
        let tags = &self.courses[c].tags;
        tags.iter().filter(|t| taste.tags.contains(*t)).count() as f64 / tags.len() as f64
    }

    fn by_taste(&mut self, owned: &[(i64, usize)], taste: &Taste, t: i64) -> Option<usize> {
        let weights: Vec<f64> = (0..self.courses.len())
            .map(|c| {
                if Maker::has(owned, c) {
                    0.0
                } else {
                    let m = self.matching(c, taste);
                    self.appeal(c, t) * (0.01 + m * m)
                }
            })
            .collect();
        if weights.iter().all(|&w| w <= 0.0) {
            return None;
        }
        Some(self.rng.weighted(&weights))
    }

    fn popular(&mut self, owned: &[(i64, usize)], t: i64) -> Option<usize> {
        let weights: Vec<f64> = (0..self.courses.len())
            .map(|c| {
                if Maker::has(owned, c) {
                    0.0
                } else {
                    let a = self.appeal(c, t);
                    a * a
                }
            })
            .collect();
        if weights.iter().all(|&w| w <= 0.0) {
            return None;
        }
        Some(self.rng.weighted(&weights))
    }
}
