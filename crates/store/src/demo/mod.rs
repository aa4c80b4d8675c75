//! The demo school: a deterministic, realistic school file for first start, demos and tests.
//!
//! Everything comes from the recipe `assets/demo-school/catalog.json` (courses, tracks, launch
//! dates, chat lines, polls) and a self-written PRNG, so the same seed gives the same school on
//! every machine and with every dependency version (only `+ - * /` and `sqrt`, which IEEE 754
//! rounds exactly, touch floating point). The demo's "now" is fixed at 2026-11-01T00:00:00Z and
//! its data covers the 12 months before.
//!
//! The year is simulated in time order (a queue of what is due): learners' own shopping, the
//! launches of new courses, and 30 live classes. Each class is driven through the real pure
//! room (`lectern_room::Room::handle`, time as a parameter, see `class.rs`), and its log is the
//! room's records, written as the engine writes them (`kind` the event's `type`, `actor` its
//! `by`, `payload` the [`lectern_room::Recorded`]). So the log holds exactly what a live class
//! holds, and nothing the room would refuse:
//! - viewers are pseudonymous viewer ids (`v-` and 20 hex digits, as the engine makes them,
//!   here drawn from the seed), one or two devices per learner, and visitors who are no learner;
//! - about half the learners bring their personal join link (`learner_linked`), a fifth link
//!   their email with consent once (`email_linked` with the plain SHA-256, which the identity
//!   map reads beside the keyed form: a keyed hash would need the file's random install
//!   secret, and the same seed would no longer give the same log), the rest stay anonymous;
//! - each class pushes an offer for the next course of its track, an A/B experiment shared by
//!   every class that offers that course (a 15% discount that works, or a call to action that
//!   does not); cards are exposed and clicked through the room, and a click's purchase carries
//!   the reference code of the card's checkout link (`lectern_room::checkout_link`), made after
//!   the click.
//!
//! What it models, so that insights and recommendations have something to find:
//! - learners mostly follow one track from beginner to advanced, with cross-track jumps along
//!   affinities, popular courses, repeat and heavy buyers, and about 40% who never buy;
//! - attending changes buying: after a class, an attendee may buy its course, the offered
//!   course or the next of the track, more so the longer they stayed and the more they took
//!   part; people who did not attend get none of that;
//! - four courses launch in the last three months (`launched_days_before_now`), the last a few
//!   days before "now", so new courses with few or no buyers can be evaluated;
//! - classes that differ in liveliness, from dull to lively: presence with drop-off, late
//!   arrivals and rejoins, video presence, chat, reactions, polls, Q&A.

mod class;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashSet};
use std::path::Path;

use lectern_room::{Recorded, ViewerId};
use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};

use crate::error::{StoreError, display};
use crate::files;
use crate::schema;

use class::{Arm, Attendee, ClassSpec, Link, OfferPlan};

/// Who teaches the demo school's classes.
const DEMO_INSTRUCTORS: [&str; 3] = ["Ana Lima", "Ben Okafor", "Chen Wei"];

/// The recipe, shipped inside the binary.
const CATALOG: &str = include_str!("../../../../assets/demo-school/catalog.json");

/// The demo's "now": 2026-11-01T00:00:00Z.
pub const DEMO_NOW_MS: i64 = 1_793_491_200_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// The start of the demo's year of data: 2025-11-01T00:00:00Z.
pub const DEMO_START_MS: i64 = DEMO_NOW_MS - 365 * DAY;

const LEARNERS: usize = 3_000;
const SESSIONS: usize = 30;
/// Courses with live classes (each has several; the offer of each is an experiment).
const LIVE_COURSES: usize = 8;
/// People who come to classes without being learners of the school.
const VISITORS: usize = 400;

/// What the generated demo school holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoSummary {
    /// The school's name.
    pub school_name: String,
    /// Tracks (groups of courses).
    pub tracks: u64,
    /// Courses.
    pub courses: u64,
    /// Learners.
    pub learners: u64,
    /// Purchases, including those made from live offers.
    pub purchases: u64,
    /// Purchases made from live offers (with a `ref_code`).
    pub live_purchases: u64,
    /// Past live sessions.
    pub sessions: u64,
    /// Events across all sessions.
    pub events: u64,
}

/// Writes a new demo school to `path` (which must not exist) from `seed`.
///
/// The same seed always gives the same content. The school is built in a temporary file beside
/// `path` in one transaction and renamed into place, so there is never a half-written demo.
pub fn generate(path: &Path, seed: u64) -> Result<DemoSummary, StoreError> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(StoreError::invalid(format!(
            "{} already exists; the demo school is only written to a new file",
            display(path)
        )));
    }
    let catalog: Catalog = serde_json::from_str(CATALOG)
        .map_err(|e| StoreError::storage(format!("the built-in demo catalog is invalid ({e})")))?;
    let plan = Plan::build(&catalog, seed)?;
    let tmp = files::temp_beside(path, "demo");
    let result = (|| {
        let mut conn = schema::open_rw(&tmp, true)?;
        schema::prepare(&mut conn, &tmp, &schema::MIGRATIONS)?;
        // The file is not in place yet, so a crash only loses a temp file: skip the fsyncs
        // while filling it, and sync once before the rename.
        conn.pragma_update(None, "synchronous", "OFF")?;
        let tx = conn.transaction()?;
        plan.insert(&tx, &catalog)?;
        tx.commit()?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.close().map_err(|(_, e)| StoreError::from(e))?;
        files::sync_file(&tmp)?;
        files::rename_into_place(&tmp, path)
    })();
    if let Err(err) = result {
        files::remove_db_files(&tmp);
        return Err(err);
    }
    Ok(plan.summary(&catalog))
}

// ---------------------------------------------------------------------------------------------
// The recipe

#[derive(Debug, Deserialize)]
struct Catalog {
    school_name: String,
    currency: String,
    tracks: Vec<TrackSpec>,
    session_titles: Vec<String>,
    chat: ChatLines,
    polls: Vec<PollSpec>,
    reactions: Vec<String>,
    first_names: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct TrackSpec {
    id: String,
    title: String,
    weight: f64,
    affinity: BTreeMap<String, f64>,
    courses: Vec<CourseSpec>,
}

#[derive(Debug, Deserialize)]
struct CourseSpec {
    id: String,
    title: String,
    level: String,
    price_usd: i64,
    length_minutes: i64,
    popularity: f64,
    tags: Vec<String>,
    /// A course launched late in the year: on sale from this many days before "now".
    #[serde(default)]
    launched_days_before_now: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct ChatLines {
    opening: Vec<String>,
    middle: Vec<String>,
    closing: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct PollSpec {
    question: String,
    options: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// The PRNG

/// SplitMix64: tiny, fast, and fixed forever (unlike a dependency's generator).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x4C45_4354_4445_4D4F)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in lo..=hi.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as usize;
        lo + self.below(span) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// An index drawn with the given non-negative weights (the last index if all are zero).
    fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// The school, simulated in time order

struct Course {
    track: usize,
    position: usize,
    price_cents: i64,
    popularity: f64,
    level_factor: f64,
    /// On sale from (Unix ms); before the demo's year for most.
    launched_at: i64,
}

/// How a learner tells a class who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ident {
    /// Their personal join link.
    JoinLink,
    /// Their email, with consent, once per browser.
    Email,
    /// Nothing: they stay a pseudonymous viewer (unless a checkout reference code names them).
    Anonymous,
}

struct Learner {
    id: String,
    joined_at: i64,
    display_name: Option<String>,
    track: usize,
    email: Option<String>,
    ident: Ident,
    /// The viewer ids of their browsers, the usual one first.
    devices: Vec<String>,
    /// How many courses they set out to buy on their own in the year.
    appetite: usize,
    heavy: bool,
}

struct Purchase {
    learner: usize,
    course: usize,
    at: i64,
    amount_cents: i64,
    ref_code: Option<String>,
    order_id: String,
}

struct Session {
    id: i64,
    title: String,
    course: usize,
    start: i64,
    end: i64,
    lively: f64,
    /// The course its offer sells.
    offered: usize,
    records: Vec<Recorded>,
}

/// What is due at a moment of the year.
enum Due {
    /// A learner's own shopping: their `k`th purchase, along `track`.
    Shop {
        learner: usize,
        k: usize,
        track: usize,
    },
    /// A course goes on sale.
    Launch(usize),
    /// A live class (an index into the sessions).
    Class(usize),
    /// A purchase decided earlier (after a class, at a launch); dropped if they own it by then.
    Buy {
        learner: usize,
        course: usize,
        ref_code: Option<String>,
        discount_pct: Option<u32>,
    },
}

struct Plan {
    courses: Vec<Course>,
    /// Global course indexes of each track, in track order (beginner to advanced).
    track_courses: Vec<Vec<usize>>,
    /// Per track, the pull of every other track.
    affinities: Vec<Vec<f64>>,
    learners: Vec<Learner>,
    /// Viewer ids of people who are no learner of the school.
    visitors: Vec<String>,
    /// In chronological order once built, order ids assigned.
    purchases: Vec<Purchase>,
    sessions: Vec<Session>,
    owned: Vec<BTreeSet<usize>>,
    /// Classes each learner attended (regulars come back).
    attended: Vec<u32>,
    /// Browsers that linked their email already.
    emailed: HashSet<String>,
    /// Experiment ids in the order they first ran.
    experiments: BTreeMap<String, usize>,
    queue: BinaryHeap<Reverse<(i64, u64)>>,
    due: Vec<Option<Due>>,
}

/// A viewer id as the engine makes them (`v-` and 20 hex digits), drawn from the seed.
fn viewer_id(rng: &mut Rng) -> String {
    format!("v-{:016x}{:04x}", rng.next_u64(), rng.next_u64() & 0xffff)
}

impl Plan {
    fn build(catalog: &Catalog, seed: u64) -> Result<Plan, StoreError> {
        let mut rng = Rng::new(seed);
        let (courses, track_courses) = flatten(catalog)?;
        let affinities: Vec<Vec<f64>> = catalog
            .tracks
            .iter()
            .map(|t| {
                catalog
                    .tracks
                    .iter()
                    .map(|other| t.affinity.get(&other.id).copied().unwrap_or(0.0))
                    .collect()
            })
            .collect();
        let mut plan = Plan {
            courses,
            track_courses,
            affinities,
            learners: Vec::new(),
            visitors: Vec::new(),
            purchases: Vec::new(),
            sessions: Vec::new(),
            owned: Vec::new(),
            attended: Vec::new(),
            emailed: HashSet::new(),
            experiments: BTreeMap::new(),
            queue: BinaryHeap::new(),
            due: Vec::new(),
        };
        plan.learners = make_learners(catalog, &mut rng);
        plan.visitors = (0..VISITORS).map(|_| viewer_id(&mut rng)).collect();
        plan.owned = vec![BTreeSet::new(); plan.learners.len()];
        plan.attended = vec![0; plan.learners.len()];
        for learner in 0..plan.learners.len() {
            let l = &plan.learners[learner];
            if l.appetite == 0 {
                continue;
            }
            let first = l.joined_at
                + if rng.chance(0.5) {
                    rng.between(0, 6 * HOUR)
                } else {
                    rng.between(HOUR, 10 * DAY)
                };
            let track = l.track;
            plan.schedule(
                first,
                Due::Shop {
                    learner,
                    k: 0,
                    track,
                },
            );
        }
        for course in 0..plan.courses.len() {
            let at = plan.courses[course].launched_at;
            if at > DEMO_START_MS {
                plan.schedule(at, Due::Launch(course));
            }
        }
        plan.plan_sessions(catalog, &mut rng);
        while let Some(Reverse((at, seq))) = plan.queue.pop() {
            let Some(due) = plan.due.get_mut(seq as usize).and_then(Option::take) else {
                continue;
            };
            match due {
                Due::Shop { learner, k, track } => plan.shop(learner, k, track, at, &mut rng),
                Due::Launch(course) => plan.launch(course, at, &mut rng),
                Due::Class(index) => plan.class(index, catalog, &mut rng)?,
                Due::Buy {
                    learner,
                    course,
                    ref_code,
                    discount_pct,
                } => plan.buy(learner, course, at, ref_code, discount_pct, &mut rng),
            }
        }
        plan.assign_order_ids();
        Ok(plan)
    }

    /// Puts something on the calendar (nothing happens at or after "now").
    fn schedule(&mut self, at: i64, due: Due) {
        if at >= DEMO_NOW_MS {
            return;
        }
        let seq = self.due.len() as u64;
        self.due.push(Some(due));
        self.queue.push(Reverse((at, seq)));
    }

    fn on_sale(&self, course: usize, at: i64) -> bool {
        self.courses[course].launched_at <= at
    }

    /// A purchase, unless they own the course already or it is not on sale yet.
    fn buy(
        &mut self,
        learner: usize,
        course: usize,
        at: i64,
        ref_code: Option<String>,
        discount_pct: Option<u32>,
        rng: &mut Rng,
    ) {
        if at >= DEMO_NOW_MS || !self.on_sale(course, at) || !self.owned[learner].insert(course) {
            return;
        }
        let price = self.courses[course].price_cents;
        let amount_cents = match discount_pct {
            Some(pct) => price * (100 - i64::from(pct.min(100))) / 100,
            None => discounted(price, rng),
        };
        self.purchases.push(Purchase {
            learner,
            course,
            at,
            amount_cents,
            ref_code,
            order_id: String::new(),
        });
    }

    /// A learner's own shopping: along their track, sometimes a jump to a related one or a
    /// popular course; then the next visit is planned.
    fn shop(&mut self, learner: usize, k: usize, mut track: usize, at: i64, rng: &mut Rng) {
        let heavy = self.learners[learner].heavy;
        let course = if k == 0 {
            self.first_course(track, at, rng)
        } else {
            let r = rng.unit();
            let next = if r < 0.70 {
                self.next_in_track(track, learner, at, rng)
            } else {
                None
            };
            match next {
                Some(c) => Some(c),
                None if r < 0.92 || heavy => {
                    // A jump to a related track (a track has no affinity to itself).
                    track = rng.weighted(&self.affinities[track]);
                    self.next_in_track(track, learner, at, rng)
                }
                None => self.popular_course(learner, at, rng),
            }
        };
        if let Some(course) = course.or_else(|| self.popular_course(learner, at, rng)) {
            self.buy(learner, course, at, None, None, rng);
        }
        if k + 1 < self.learners[learner].appetite {
            let gap = if rng.chance(0.08) {
                rng.between(5 * MINUTE, 2 * HOUR) // a small bundle in one visit
            } else {
                let (lo, span) = if heavy { (2.0, 30.0) } else { (5.0, 70.0) };
                let u = rng.unit();
                ((lo + u * u * span) * DAY as f64) as i64 + rng.between(0, DAY)
            };
            let due = Due::Shop {
                learner,
                k: k + 1,
                track,
            };
            self.schedule(at + gap, due);
        }
    }

    /// The entry course of a track: usually the first, sometimes the second.
    fn first_course(&self, track: usize, at: i64, rng: &mut Rng) -> Option<usize> {
        let mut list = self.track_courses[track]
            .iter()
            .copied()
            .filter(|&c| self.on_sale(c, at));
        let first = list.next()?;
        match list.next() {
            Some(second) => {
                let w = [
                    self.courses[first].popularity * 3.0,
                    self.courses[second].popularity,
                ];
                Some(if rng.weighted(&w) == 0 { first } else { second })
            }
            None => Some(first),
        }
    }

    /// The next course of a track on sale after the furthest one owned, sometimes skipping
    /// one (popularity decides). Learners move forward through a track, rarely back.
    fn next_in_track(&self, track: usize, learner: usize, at: i64, rng: &mut Rng) -> Option<usize> {
        let list = &self.track_courses[track];
        let owned = &self.owned[learner];
        let reached = list
            .iter()
            .rposition(|c| owned.contains(c))
            .map_or(0, |p| p + 1);
        let mut candidates = list[reached..]
            .iter()
            .copied()
            .filter(|&c| self.on_sale(c, at));
        let a = candidates.next()?;
        match candidates.next() {
            Some(b) => {
                // A hit course two steps ahead pulls learners past the one in between.
                let (pa, pb) = (self.courses[a].popularity, self.courses[b].popularity);
                let w = [pa * pa, 0.3 * pb * pb * pb];
                Some(if rng.weighted(&w) == 0 { a } else { b })
            }
            None => Some(a),
        }
    }

    /// Any course on sale not yet owned, weighted by popularity and by how approachable its
    /// level is.
    fn popular_course(&self, learner: usize, at: i64, rng: &mut Rng) -> Option<usize> {
        let weights: Vec<f64> = self
            .courses
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if self.owned[learner].contains(&i) || !self.on_sale(i, at) {
                    0.0
                } else {
                    c.popularity * c.popularity * c.level_factor
                }
            })
            .collect();
        if weights.iter().all(|w| *w == 0.0) {
            return None;
        }
        Some(rng.weighted(&weights))
    }

    /// A new course goes on sale: a few learners of its track buy it in the weeks after (the
    /// school's announcement), the earliest soon.
    fn launch(&mut self, course: usize, at: i64, rng: &mut Rng) {
        let track = self.courses[course].track;
        for learner in 0..self.learners.len() {
            let of_track = self.owned[learner]
                .iter()
                .any(|&c| self.courses[c].track == track);
            if self.learners[learner].joined_at < at && of_track && rng.chance(0.05) {
                let u = rng.unit();
                let when = at + (u * u * 25.0 * DAY as f64) as i64 + rng.between(HOUR, DAY);
                let due = Due::Buy {
                    learner,
                    course,
                    ref_code: None,
                    discount_pct: None,
                };
                self.schedule(when, due);
            }
        }
    }

    /// The 30 classes: on a few courses (each several times), spread over the year.
    fn plan_sessions(&mut self, catalog: &Catalog, rng: &mut Rng) {
        let first = DEMO_START_MS + 21 * DAY;
        let last = DEMO_NOW_MS - 3 * DAY;
        let spacing = (last - first) / SESSIONS as i64;
        // Courses on sale all year with a course after them in their track.
        let mut weights: Vec<f64> = self
            .courses
            .iter()
            .map(|c| {
                let has_next = c.position + 1 < self.track_courses[c.track].len();
                if c.launched_at <= DEMO_START_MS && has_next {
                    c.popularity * c.level_factor
                } else {
                    0.0
                }
            })
            .collect();
        let mut live = Vec::new();
        while live.len() < LIVE_COURSES && weights.iter().any(|w| *w > 0.0) {
            let c = rng.weighted(&weights);
            weights[c] = 0.0;
            live.push(c);
        }
        if live.is_empty() {
            live.push(0);
        }
        for i in 0..SESSIONS {
            let day = (first + spacing * i as i64 + rng.between(0, spacing / 2)) / DAY * DAY;
            let start =
                day + rng.between(16, 18) * HOUR + if rng.chance(0.5) { 30 * MINUTE } else { 0 };
            let duration = rng.between(45, 90) * MINUTE;
            let course = live[rng.below(live.len())];
            let template = rng.pick(&catalog.session_titles);
            let title = template.replace("{course}", &catalog_course(catalog, self, course).title);
            // Liveliness: a few dull sessions, most ordinary, some lively.
            let u = rng.unit();
            let lively = 0.2 + 1.6 * u * u.sqrt();
            // The offer: the next course of the track on sale by then.
            let c = &self.courses[course];
            let offered = self.track_courses[c.track]
                .iter()
                .copied()
                .find(|&o| self.courses[o].position > c.position && self.on_sale(o, start))
                .unwrap_or(course);
            self.sessions.push(Session {
                id: i as i64 + 1,
                title,
                course,
                start,
                end: start + duration,
                lively,
                offered,
                records: Vec::new(),
            });
            self.schedule(start, Due::Class(i));
        }
    }

    /// The offer of a class: an experiment per offered course, shared by every class that
    /// offers it. Every other experiment tries a discount that works; the others a call to
    /// action that changes nothing.
    fn offer_plan(&mut self, index: usize, catalog: &Catalog) -> OfferPlan {
        let s = &self.sessions[index];
        let (session, offered) = (s.id, s.offered);
        let spec = catalog_course(catalog, self, offered);
        let experiment = format!("next-{}", spec.id);
        let design = self.experiments.len();
        let design = *self.experiments.entry(experiment.clone()).or_insert(design);
        let control = Arm {
            name: "A",
            title: format!("Next: {}", spec.title),
            cta: "Enroll now",
            discount_pct: 0,
            click_lift: 1.0,
            buy_after_click: 0.35,
        };
        let treatment = if design.is_multiple_of(2) {
            Arm {
                name: "B",
                title: format!("15% off today: {}", spec.title),
                cta: "Enroll now",
                discount_pct: 15,
                click_lift: 1.6,
                buy_after_click: 0.42,
            }
        } else {
            Arm {
                name: "B",
                title: control.title.clone(),
                cta: "Save my seat",
                discount_pct: 0,
                click_lift: 1.0,
                buy_after_click: 0.35,
            }
        };
        OfferPlan {
            id: class::offer_id(session).0,
            experiment,
            course_id: spec.id.clone(),
            price_cents: u64::try_from(self.courses[offered].price_cents).unwrap_or(0),
            currency: catalog.currency.clone(),
            checkout_url: format!("https://northwind.example/checkout/{}", spec.id),
            arms: vec![control, treatment],
        }
    }

    /// Who comes: learners who had joined the school, mostly of the class's track and more so
    /// those who came before, with a few visitors who are no learner.
    fn audience(&self, index: usize, rng: &mut Rng) -> Vec<(Option<usize>, String)> {
        let s = &self.sessions[index];
        let norm = ((s.lively - 0.2) / 1.6).clamp(0.0, 1.0);
        let track = self.courses[s.course].track;
        let pool: Vec<usize> = (0..self.learners.len())
            .filter(|&l| self.learners[l].joined_at < s.start)
            .collect();
        let want = (40 + (210.0 * (0.45 * rng.unit() + 0.55 * norm)) as usize).min(250);
        let visitors = want * 8 / 100;
        let weights: Vec<f64> = pool
            .iter()
            .map(|&l| {
                let own_track = self.owned[l]
                    .iter()
                    .any(|&c| self.courses[c].track == track);
                let fit = if self.learners[l].track == track || own_track {
                    4.0
                } else {
                    1.0
                };
                fit * (1.0 + 0.5 * f64::from(self.attended[l].min(4)))
            })
            .collect();
        let mut chosen = BTreeSet::new();
        let mut people = Vec::new();
        let mut tries = 0;
        while people.len() < (want - visitors).min(pool.len()) && tries < 100_000 {
            tries += 1;
            let l = pool[rng.weighted(&weights)];
            if chosen.insert(l) {
                let devices = &self.learners[l].devices;
                let device = match devices.get(1) {
                    Some(second) if rng.chance(0.3) => second.clone(),
                    _ => devices[0].clone(),
                };
                people.push((Some(l), device));
            }
        }
        let mut seen = BTreeSet::new();
        while seen.len() < visitors.min(self.visitors.len()) {
            let v = rng.below(self.visitors.len());
            if seen.insert(v) {
                people.push((None, self.visitors[v].clone()));
            }
        }
        people
    }

    /// One class through the room, then what attending does to buying.
    fn class(&mut self, index: usize, catalog: &Catalog, rng: &mut Rng) -> Result<(), StoreError> {
        let people = self.audience(index, rng);
        let offer = self.offer_plan(index, catalog);
        let s = &self.sessions[index];
        let (start, end, course, offered) = (s.start, s.end, s.course, s.offered);
        let attendees: Vec<Attendee> = people
            .iter()
            .map(|(learner, device)| {
                let (name, link, owns_offered) = match learner {
                    Some(l) => {
                        let learner = &self.learners[*l];
                        let link = match (&learner.ident, &learner.email) {
                            (Ident::JoinLink, _) => Link::Personal(learner.id.clone()),
                            (Ident::Email, Some(email)) if !self.emailed.contains(device) => {
                                Link::Email(email.clone())
                            }
                            _ => Link::Anonymous,
                        };
                        let name = learner.display_name.clone().unwrap_or_default();
                        (name, link, self.owned[*l].contains(&offered))
                    }
                    None => {
                        let name = if rng.chance(0.5) {
                            rng.pick(&catalog.first_names).clone()
                        } else {
                            String::new()
                        };
                        (name, Link::Anonymous, false)
                    }
                };
                Attendee {
                    viewer: ViewerId(device.clone()),
                    name,
                    link,
                    owns_offered,
                }
            })
            .collect();
        let spec = ClassSpec {
            session: s.id,
            start,
            end,
            // The demo school's three instructors share its courses.
            instructor: DEMO_INSTRUCTORS[course % DEMO_INSTRUCTORS.len()],
            lively: s.lively,
            offer,
            catalog,
        };
        let log = class::run(&spec, &attendees, rng)?;
        let duration = (end - start).max(1) as f64;
        for ((learner, device), did) in people.iter().zip(&log.doings) {
            if did.email_linked {
                self.emailed.insert(device.clone());
            }
            let Some(learner) = *learner else {
                continue;
            };
            self.attended[learner] += 1;
            // How much they took part, 0 to 1.
            let stayed = (did.present_ms as f64 / duration).min(1.0);
            let engaged = 0.5 * stayed
                + 0.2 * f64::from(did.chats.min(3)) / 3.0
                + if did.votes > 0 { 0.15 } else { 0.0 }
                + if did.questions > 0 { 0.15 } else { 0.0 };
            // The offer: a click's purchase carries the card's reference code.
            if let Some((at, code, variant)) = &did.clicked {
                let arm = spec.offer.arms.get(usize::from(*variant));
                let p = arm.map_or(0.35, |a| a.buy_after_click);
                if rng.chance(p) {
                    let when = if rng.chance(0.8) {
                        at + rng.between(30_000, 240_000)
                    } else {
                        at + rng.between(HOUR, 4 * DAY)
                    };
                    let due = Due::Buy {
                        learner,
                        course: offered,
                        ref_code: Some(code.clone()),
                        discount_pct: Some(arm.map_or(0, |a| a.discount_pct)),
                    };
                    self.schedule(when, due);
                }
            } else if did.exposed.is_some() && rng.chance(0.01 + 0.04 * engaged) {
                let due = Due::Buy {
                    learner,
                    course: offered,
                    ref_code: None,
                    discount_pct: None,
                };
                self.schedule(end + rng.between(HOUR, 6 * DAY), due);
            }
            // The class's own course, soon after.
            if rng.chance(0.03 + 0.15 * engaged) {
                let u = rng.unit();
                let when =
                    end + (u * u * 10.0 * DAY as f64) as i64 + rng.between(10 * MINUTE, HOUR);
                let due = Due::Buy {
                    learner,
                    course,
                    ref_code: None,
                    discount_pct: None,
                };
                self.schedule(when, due);
            }
            // The next step of the track, in the weeks after.
            if rng.chance(0.05 + 0.15 * engaged) {
                let when = end + rng.between(2 * DAY, 30 * DAY);
                let track = self.courses[course].track;
                if let Some(next) = self.next_in_track(track, learner, when, rng) {
                    let due = Due::Buy {
                        learner,
                        course: next,
                        ref_code: None,
                        discount_pct: None,
                    };
                    self.schedule(when, due);
                }
            }
        }
        self.sessions[index].records = log.records;
        Ok(())
    }

    /// Sorts purchases by time and numbers the orders.
    fn assign_order_ids(&mut self) {
        let mut order: Vec<usize> = (0..self.purchases.len()).collect();
        order.sort_by(|&a, &b| {
            let (pa, pb) = (&self.purchases[a], &self.purchases[b]);
            (pa.at, &self.learners[pa.learner].id, pa.course).cmp(&(
                pb.at,
                &self.learners[pb.learner].id,
                pb.course,
            ))
        });
        let mut old: Vec<Option<Purchase>> = std::mem::take(&mut self.purchases)
            .into_iter()
            .map(Some)
            .collect();
        self.purchases = order
            .iter()
            .enumerate()
            .filter_map(|(rank, &i)| {
                old[i].take().map(|mut p| {
                    p.order_id = format!("NW-{:06}", 100_001 + rank);
                    p
                })
            })
            .collect();
    }

    fn insert(&self, tx: &Transaction<'_>, catalog: &Catalog) -> Result<(), StoreError> {
        tx.execute(
            "UPDATE school SET name = ?1, is_demo = 1, created_at_ms = ?2 WHERE id = 1",
            params![catalog.school_name, DEMO_START_MS],
        )?;
        let mut course_stmt = tx.prepare(
            "INSERT INTO courses (id, title, level, price_cents, currency, length_minutes, track, track_position)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut tag_stmt =
            tx.prepare("INSERT INTO course_tags (course_id, tag) VALUES (?1, ?2)")?;
        for (i, c) in self.courses.iter().enumerate() {
            let spec = catalog_course(catalog, self, i);
            course_stmt.execute(params![
                spec.id,
                spec.title,
                spec.level,
                c.price_cents,
                catalog.currency,
                spec.length_minutes,
                catalog.tracks[c.track].title,
                c.position as i64 + 1,
            ])?;
            for tag in &spec.tags {
                tag_stmt.execute(params![spec.id, tag])?;
            }
        }
        let mut learner_stmt = tx.prepare(
            "INSERT INTO learners (id, joined_at_ms, display_name, email_hash) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for l in &self.learners {
            let email_hash = l.email.as_deref().and_then(lectern_room::email_hash);
            learner_stmt.execute(params![l.id, l.joined_at, l.display_name, email_hash])?;
        }
        let mut purchase_stmt = tx.prepare(
            "INSERT INTO purchases (order_id, learner_id, course_id, purchased_at_ms, amount_cents, currency, source, ref_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'demo', ?7)",
        )?;
        for p in &self.purchases {
            purchase_stmt.execute(params![
                p.order_id,
                self.learners[p.learner].id,
                catalog_course(catalog, self, p.course).id,
                p.at,
                p.amount_cents,
                catalog.currency,
                p.ref_code,
            ])?;
        }
        let mut session_stmt = tx.prepare(
            "INSERT INTO live_sessions (id, title, course_id, started_at_ms, ended_at_ms, instructor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut event_stmt = tx.prepare(
            "INSERT INTO events (session_id, seq, kind, actor, at_ms, payload, client_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for s in &self.sessions {
            session_stmt.execute(params![
                s.id,
                s.title,
                catalog_course(catalog, self, s.course).id,
                s.start,
                s.end,
                DEMO_INSTRUCTORS[s.course % DEMO_INSTRUCTORS.len()],
            ])?;
            // As the engine writes a room record (`lectern_engine::live`).
            for (i, record) in s.records.iter().enumerate() {
                let seq = i as i64 + 1;
                let payload = serde_json::to_value(record).map_err(|e| {
                    StoreError::storage(format!("encoding a demo room record ({e})"))
                })?;
                let kind = payload["event"]["type"]
                    .as_str()
                    .unwrap_or("unknown")
                    .to_owned();
                event_stmt.execute(params![
                    s.id,
                    seq,
                    kind,
                    record.by.as_ref().map(|v| v.0.as_str()),
                    i64::try_from(record.at.0).unwrap_or(i64::MAX),
                    payload.to_string(),
                    format!("demo-{}-{seq}", s.id),
                ])?;
            }
        }
        Ok(())
    }

    fn summary(&self, catalog: &Catalog) -> DemoSummary {
        DemoSummary {
            school_name: catalog.school_name.clone(),
            tracks: catalog.tracks.len() as u64,
            courses: self.courses.len() as u64,
            learners: self.learners.len() as u64,
            purchases: self.purchases.len() as u64,
            live_purchases: self
                .purchases
                .iter()
                .filter(|p| p.ref_code.is_some())
                .count() as u64,
            sessions: self.sessions.len() as u64,
            events: self.sessions.iter().map(|s| s.records.len() as u64).sum(),
        }
    }
}

fn make_learners(catalog: &Catalog, rng: &mut Rng) -> Vec<Learner> {
    let track_weights: Vec<f64> = catalog.tracks.iter().map(|t| t.weight).collect();
    let mut seen = HashSet::new();
    let mut learners = Vec::with_capacity(LEARNERS);
    while learners.len() < LEARNERS {
        let id = format!("lrn_{:012x}", rng.next_u64() >> 16);
        if !seen.insert(id.clone()) {
            continue;
        }
        let year = (DEMO_NOW_MS - DEMO_START_MS) as f64;
        let u = rng.unit();
        // A launch cohort, steady sign-ups, and growth towards the end of the year.
        let frac = if u < 0.12 {
            rng.unit() * (14.0 * DAY as f64) / year
        } else if u < 0.50 {
            rng.unit()
        } else {
            rng.unit().sqrt()
        };
        let joined_at = DEMO_START_MS + (frac * 0.985 * year) as i64;
        let display_name = if rng.chance(0.6) {
            let first = rng.pick(&catalog.first_names);
            let initial = (b'A' + rng.below(26) as u8) as char;
            Some(format!("{first} {initial}."))
        } else {
            None
        };
        let track = rng.weighted(&track_weights);
        let ident = match rng.unit() {
            u if u < 0.47 => Ident::JoinLink,
            u if u < 0.67 => Ident::Email,
            _ => Ident::Anonymous,
        };
        // The shop knows most learners' emails (their hash is imported with the learners).
        let email = (ident == Ident::Email || rng.chance(0.6))
            .then(|| format!("{}@learners.example", &id[4..]));
        let mut devices = vec![viewer_id(rng)];
        if rng.chance(0.15) {
            devices.push(viewer_id(rng));
        }
        let (appetite, heavy) = appetite(rng);
        learners.push(Learner {
            id,
            joined_at,
            display_name,
            track,
            email,
            ident,
            devices,
            appetite,
            heavy,
        });
    }
    learners
}

/// How many courses a learner sets out to buy on their own in the year: many none at all.
fn appetite(rng: &mut Rng) -> (usize, bool) {
    match rng.unit() {
        u if u < 0.46 => (0, false),
        u if u < 0.61 => (1, false),
        u if u < 0.71 => (2, false),
        u if u < 0.79 => (3, false),
        u if u < 0.845 => (4, false),
        u if u < 0.90 => (rng.between(5, 6) as usize, false),
        u if u < 0.955 => (rng.between(7, 9) as usize, false),
        _ => (rng.between(10, 18) as usize, true),
    }
}

/// The recipe entry of a global course index.
fn catalog_course<'c>(catalog: &'c Catalog, plan: &Plan, course: usize) -> &'c CourseSpec {
    let c = &plan.courses[course];
    &catalog.tracks[c.track].courses[c.position]
}

/// Flattens the tracks into one course list, checking the recipe on the way.
fn flatten(catalog: &Catalog) -> Result<(Vec<Course>, Vec<Vec<usize>>), StoreError> {
    let bad =
        |what: String| StoreError::storage(format!("the built-in demo catalog is invalid: {what}"));
    if catalog.tracks.is_empty()
        || catalog.session_titles.is_empty()
        || catalog.polls.iter().any(|p| p.options.is_empty())
        || catalog.polls.is_empty()
        || catalog.reactions.is_empty()
        || catalog.first_names.is_empty()
        || catalog.chat.opening.is_empty()
        || catalog.chat.middle.is_empty()
        || catalog.chat.closing.is_empty()
    {
        return Err(bad("a list is empty".to_owned()));
    }
    let mut courses = Vec::new();
    let mut track_courses = Vec::new();
    let mut ids = BTreeSet::new();
    for (t, track) in catalog.tracks.iter().enumerate() {
        if track.courses.is_empty() {
            return Err(bad(format!("the track {} has no course", track.id)));
        }
        let mut list = Vec::new();
        for (position, spec) in track.courses.iter().enumerate() {
            if !ids.insert(spec.id.as_str()) {
                return Err(bad(format!("the course id {} appears twice", spec.id)));
            }
            let level_factor = match spec.level.as_str() {
                "beginner" => 1.0,
                "intermediate" => 0.7,
                "advanced" => 0.4,
                other => return Err(bad(format!("unknown level {other}"))),
            };
            let launched_at = match spec.launched_days_before_now {
                Some(days) if (1..365).contains(&days) => DEMO_NOW_MS - days * DAY,
                Some(days) => {
                    return Err(bad(format!("{} launches {days} days before now", spec.id)));
                }
                None => DEMO_START_MS,
            };
            list.push(courses.len());
            courses.push(Course {
                track: t,
                position,
                price_cents: spec.price_usd * 100,
                popularity: spec.popularity,
                level_factor,
                launched_at,
            });
        }
        track_courses.push(list);
    }
    Ok((courses, track_courses))
}

/// The price, with the occasional coupon.
fn discounted(price_cents: i64, rng: &mut Rng) -> i64 {
    if rng.chance(0.12) {
        let pct = *rng.pick(&[10, 15, 20, 25, 30, 50]);
        price_cents * (100 - pct) / 100
    } else {
        price_cents
    }
}
