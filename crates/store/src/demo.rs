//! The demo school: a deterministic, realistic school file for first start, demos and tests.
//!
//! Everything comes from the recipe `assets/demo-school/catalog.json` (courses, tracks, chat
//! lines, polls) and a self-written PRNG, so the same seed gives the same school on every
//! machine and with every dependency version (only `+ - * /` and `sqrt`, which IEEE 754 rounds
//! exactly, touch floating point). The demo's "now" is fixed at 2026-11-01T00:00:00Z and its
//! data covers the 12 months before.
//!
//! What it models, so that insights and recommendations have something to find:
//! - learners mostly follow one track from beginner to advanced, with cross-track jumps along
//!   affinities (data -> cloud, design -> web, marketing -> business), popular courses, and a
//!   few heavy buyers; some never buy;
//! - about 30 past live sessions with join/leave intervals (drop-off, late arrivals, rejoins),
//!   chat, reaction bursts, polls, and an A/B offer near the end whose purchases are in
//!   `purchases` with a `ref_code` (`live-<session>`);
//! - sessions that differ in liveliness, from dull to lively.
//!
//! The event log speaks the live room's vocabulary, as the engine writes it: `kind` is the room
//! event's `type`, `actor` its author (`by`), and `payload` the room's record
//! `{"v": 1, "at", "by", "client_id": null, "event": {"type", ...}}`. A class reads
//! `viewer_joined`/`viewer_left` (no leave after the end: `broadcast_ended` closes the room),
//! `chat_sent`, `reactions_aggregated` (one per second with reactions, without names, as the
//! room counts them), `poll_opened`, `ballot_cast`, `poll_closed`, `offer_pushed`,
//! `offer_exposed`, `offer_clicked`, `offer_withdrawn` and `broadcast_ended`.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{StoreError, display};
use crate::files;
use crate::schema;

/// Who teaches the demo school's classes.
const DEMO_INSTRUCTORS: [&str; 3] = ["Ana Lima", "Ben Okafor", "Chen Wei"];

/// The recipe, shipped inside the binary.
const CATALOG: &str = include_str!("../../../assets/demo-school/catalog.json");

/// The demo's "now": 2026-11-01T00:00:00Z.
pub const DEMO_NOW_MS: i64 = 1_793_491_200_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// The start of the demo's year of data: 2025-11-01T00:00:00Z.
pub const DEMO_START_MS: i64 = DEMO_NOW_MS - 365 * DAY;

const LEARNERS: usize = 3_000;
const SESSIONS: usize = 30;

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
// The plan: the whole school in memory, then written in one transaction

/// What the room counts while a session's log is written: message numbers, poll totals, and
/// per variant (exposures, clicks).
#[derive(Default)]
struct RoomLog {
    messages: u64,
    totals: BTreeMap<u64, Vec<u32>>,
    offer_counts: [(u32, u32); 2],
    /// Question keys in the order asked: the room's question id is the position + 1.
    questions: Vec<usize>,
    /// The question as asked, by key.
    asked: BTreeMap<usize, serde_json::Value>,
    votes: BTreeMap<usize, u32>,
}

impl RoomLog {
    /// The room's id of a question, and the question as asked.
    fn question(&self, key: usize) -> (usize, Option<&serde_json::Value>) {
        let id = self
            .questions
            .iter()
            .position(|&k| k == key)
            .map_or(0, |p| p + 1);
        (id, self.asked.get(&key))
    }
}

struct Course {
    track: usize,
    position: usize,
    price_cents: i64,
    popularity: f64,
    level_factor: f64,
}

struct Learner {
    id: String,
    joined_at: i64,
    display_name: Option<String>,
    track: usize,
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
    events: Vec<Event>,
}

struct Event {
    at: i64,
    actor: Option<usize>,
    body: Body,
}

enum Body {
    Join,
    Leave,
    Chat(String),
    /// One viewer's reaction (an index into [`REACTIONS`]); the room only records them
    /// aggregated, so these become [`Body::Reactions`] before the log is written.
    Reaction(usize),
    /// The reactions of one second: (index into [`REACTIONS`], count), in that order.
    Reactions {
        second: i64,
        counts: Vec<(usize, u32)>,
    },
    PollOpen {
        poll: u64,
        spec: usize,
    },
    Ballot {
        poll: u64,
        option: usize,
    },
    PollClose {
        poll: u64,
    },
    OfferPush {
        offer_id: String,
        course: usize,
    },
    Exposure {
        offer_id: String,
        course: usize,
        variant: u8,
    },
    Click {
        offer_id: String,
        course: usize,
        variant: u8,
    },
    OfferWithdraw {
        offer_id: String,
        course: usize,
    },
    /// A question (`key` names it until the room numbers it, in the order asked).
    Ask {
        key: usize,
        text: &'static str,
    },
    Approve {
        key: usize,
    },
    Upvote {
        key: usize,
    },
    Answer {
        key: usize,
    },
    End,
}

/// What viewers ask (the recipe has no questions; these fit any course).
const QUESTIONS: [&str; 8] = [
    "Could you go over the last step again?",
    "Will the slides be shared after the class?",
    "Does this work the same on Windows?",
    "What is the difference between the two approaches?",
    "Is there a recording for those who joined late?",
    "How would this scale to a bigger project?",
    "Which course should I take after this one?",
    "Can you show a real-world example?",
];

/// The room's reactions, in its enum's order.
const REACTIONS: [&str; 6] = [
    "thumbs_up",
    "heart",
    "laugh",
    "clap",
    "surprised",
    "confused",
];

/// The room reaction closest to one of the recipe's emoji.
fn reaction_of(emoji: &str) -> usize {
    match emoji {
        "👍" | "💡" => 0,
        "❤️" | "🔥" => 1,
        "😂" => 2,
        "👏" | "🎉" => 3,
        "🤯" | "😮" => 4,
        "🤔" => 5,
        _ => 0,
    }
}

/// The variants of the demo's offers.
const VARIANTS: [&str; 2] = ["A", "B"];

struct Plan {
    courses: Vec<Course>,
    /// Global course indexes of each track, in track order (beginner to advanced).
    track_courses: Vec<Vec<usize>>,
    learners: Vec<Learner>,
    /// In chronological order, order ids assigned.
    purchases: Vec<Purchase>,
    sessions: Vec<Session>,
    /// The school's seed, for generators of their own (see the Q&A in `fill_session`).
    seed: u64,
}

impl Plan {
    fn build(catalog: &Catalog, seed: u64) -> Result<Plan, StoreError> {
        let mut rng = Rng::new(seed);
        let (courses, track_courses) = flatten(catalog)?;
        let mut plan = Plan {
            courses,
            track_courses,
            learners: Vec::new(),
            purchases: Vec::new(),
            sessions: Vec::new(),
            seed,
        };
        plan.learners = plan.make_learners(catalog, &mut rng);
        let mut owned: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); plan.learners.len()];
        plan.make_purchases(catalog, &mut rng, &mut owned);
        plan.make_sessions(catalog, &mut rng, &mut owned);
        plan.assign_order_ids();
        Ok(plan)
    }

    fn make_learners(&self, catalog: &Catalog, rng: &mut Rng) -> Vec<Learner> {
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
            learners.push(Learner {
                id,
                joined_at,
                display_name,
                track: rng.weighted(&track_weights),
            });
        }
        learners
    }

    /// How many courses a learner will try to buy in the year.
    fn appetite(rng: &mut Rng) -> (usize, bool) {
        let u = rng.unit();
        match u {
            u if u < 0.09 => (0, false),
            u if u < 0.28 => (1, false),
            u if u < 0.45 => (2, false),
            u if u < 0.59 => (3, false),
            u if u < 0.70 => (4, false),
            u if u < 0.82 => (rng.between(5, 6) as usize, false),
            u if u < 0.93 => (rng.between(7, 9) as usize, false),
            _ => (rng.between(10, 18) as usize, true),
        }
    }

    fn make_purchases(&mut self, catalog: &Catalog, rng: &mut Rng, owned: &mut [BTreeSet<usize>]) {
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
        for (learner, mine) in owned.iter_mut().enumerate() {
            let (count, heavy) = Plan::appetite(rng);
            let mut track = self.learners[learner].track;
            let mut t = self.learners[learner].joined_at
                + if rng.chance(0.5) {
                    rng.between(0, 6 * HOUR)
                } else {
                    rng.between(HOUR, 10 * DAY)
                };
            for k in 0..count {
                let course = if k == 0 {
                    self.first_course(track, rng)
                } else {
                    let r = rng.unit();
                    let next = if r < 0.70 {
                        self.next_in_track(track, mine, rng)
                    } else {
                        None
                    };
                    match next {
                        Some(c) => Some(c),
                        None if r < 0.92 || heavy => {
                            // A jump to a related track (a track has no affinity to itself).
                            track = rng.weighted(&affinities[track]);
                            self.next_in_track(track, mine, rng)
                        }
                        None => self.popular_course(mine, rng),
                    }
                };
                let Some(course) = course.or_else(|| self.popular_course(mine, rng)) else {
                    break;
                };
                if mine.contains(&course) {
                    continue;
                }
                if k > 0 {
                    t += if rng.chance(0.08) {
                        rng.between(5 * MINUTE, 2 * HOUR) // a small bundle in one visit
                    } else {
                        let (lo, span) = if heavy { (2.0, 30.0) } else { (5.0, 70.0) };
                        let u = rng.unit();
                        ((lo + u * u * span) * DAY as f64) as i64 + rng.between(0, DAY)
                    };
                }
                if t >= DEMO_NOW_MS {
                    break;
                }
                mine.insert(course);
                let amount_cents = discounted(self.courses[course].price_cents, rng);
                self.purchases.push(Purchase {
                    learner,
                    course,
                    at: t,
                    amount_cents,
                    ref_code: None,
                    order_id: String::new(),
                });
            }
        }
    }

    /// The entry course of a track: usually the first, sometimes the second.
    fn first_course(&self, track: usize, rng: &mut Rng) -> Option<usize> {
        let list = &self.track_courses[track];
        let first = *list.first()?;
        match list.get(1) {
            Some(&second) => {
                let w = [
                    self.courses[first].popularity * 3.0,
                    self.courses[second].popularity,
                ];
                Some(if rng.weighted(&w) == 0 { first } else { second })
            }
            None => Some(first),
        }
    }

    /// The next course of a track after the furthest one owned, sometimes skipping one
    /// (popularity decides). Learners move forward through a track, rarely back.
    fn next_in_track(&self, track: usize, owned: &BTreeSet<usize>, rng: &mut Rng) -> Option<usize> {
        let list = &self.track_courses[track];
        let reached = list
            .iter()
            .rposition(|c| owned.contains(c))
            .map_or(0, |p| p + 1);
        let mut candidates = list[reached..].iter().copied();
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

    /// Any course not yet owned, weighted by popularity and by how approachable its level is.
    fn popular_course(&self, owned: &BTreeSet<usize>, rng: &mut Rng) -> Option<usize> {
        let weights: Vec<f64> = self
            .courses
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if owned.contains(&i) {
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

    fn make_sessions(&mut self, catalog: &Catalog, rng: &mut Rng, owned: &mut [BTreeSet<usize>]) {
        let first = DEMO_START_MS + 21 * DAY;
        let last = DEMO_NOW_MS - 3 * DAY;
        let spacing = (last - first) / SESSIONS as i64;
        let course_weights: Vec<f64> = self
            .courses
            .iter()
            .map(|c| c.popularity * c.level_factor)
            .collect();
        for i in 0..SESSIONS {
            let day = (first + spacing * i as i64 + rng.between(0, spacing / 2)) / DAY * DAY;
            let start =
                day + rng.between(16, 18) * HOUR + if rng.chance(0.5) { 30 * MINUTE } else { 0 };
            let duration = rng.between(45, 90) * MINUTE;
            let course = rng.weighted(&course_weights);
            let template = rng.pick(&catalog.session_titles);
            let title = template.replace("{course}", &catalog_course(catalog, self, course).title);
            // Liveliness: a few dull sessions, most ordinary, some lively.
            let u = rng.unit();
            let lively = 0.2 + 1.6 * u * u.sqrt();
            let mut session = Session {
                id: i as i64 + 1,
                title,
                course,
                start,
                end: start + duration,
                events: Vec::new(),
            };
            self.fill_session(&mut session, lively, catalog, rng, owned);
            self.sessions.push(session);
        }
    }

    fn fill_session(
        &mut self,
        s: &mut Session,
        lively: f64,
        catalog: &Catalog,
        rng: &mut Rng,
        owned: &mut [BTreeSet<usize>],
    ) {
        let norm = ((lively - 0.2) / 1.6).clamp(0.0, 1.0);
        let duration = s.end - s.start;
        let track = self.courses[s.course].track;
        // Viewers: learners who had joined the school, mostly from the session's track.
        let pool: Vec<usize> = (0..self.learners.len())
            .filter(|&l| self.learners[l].joined_at < s.start)
            .collect();
        let want = (40 + (210.0 * (0.45 * rng.unit() + 0.55 * norm)) as usize).min(250);
        let weights: Vec<f64> = pool
            .iter()
            .map(|&l| {
                let own_track = owned[l].iter().any(|&c| self.courses[c].track == track);
                if self.learners[l].track == track || own_track {
                    4.0
                } else {
                    1.0
                }
            })
            .collect();
        let mut chosen = BTreeSet::new();
        let mut viewers = Vec::new();
        let mut tries = 0;
        while viewers.len() < want.min(pool.len()) && tries < 100_000 {
            tries += 1;
            let l = pool[rng.weighted(&weights)];
            if chosen.insert(l) {
                viewers.push(l);
            }
        }

        // Presence: arrivals around the start or late, drop-off, some rejoin.
        let stay_to_end = 0.25 + 0.35 * norm;
        let mut presence: Vec<(usize, Vec<(i64, i64)>)> = Vec::new();
        for &v in &viewers {
            let mut intervals = Vec::new();
            let mut join = if rng.chance(0.72) {
                s.start + rng.between(-2 * MINUTE, 5 * MINUTE)
            } else {
                s.start + rng.between(5 * MINUTE, duration * 6 / 10)
            };
            loop {
                let leave = if rng.chance(stay_to_end) {
                    s.end + rng.between(0, 90_000)
                } else {
                    let u = rng.unit();
                    join + MINUTE + ((s.end - join - MINUTE).max(0) as f64 * u * u.sqrt()) as i64
                };
                intervals.push((join, leave));
                if leave >= s.end || !rng.chance(0.15) {
                    break;
                }
                join = leave + rng.between(MINUTE, 5 * MINUTE);
                if join >= s.end - 2 * MINUTE {
                    break;
                }
            }
            for &(j, l) in &intervals {
                s.events.push(Event {
                    at: j,
                    actor: Some(v),
                    body: Body::Join,
                });
                // The end of the class closes the room; nobody leaves after it.
                if l < s.end {
                    s.events.push(Event {
                        at: l,
                        actor: Some(v),
                        body: Body::Leave,
                    });
                }
            }
            presence.push((v, intervals));
        }
        let present =
            |intervals: &[(i64, i64)], t: i64| intervals.iter().any(|&(j, l)| j <= t && t < l);

        // Chat: some viewers chat, more in lively sessions; greetings early, goodbyes late.
        for (v, intervals) in &presence {
            if !rng.chance(0.30 + 0.30 * norm) {
                continue;
            }
            let rate = 0.025 * lively * (0.5 + rng.unit() * 1.5); // messages per minute
            for &(j, l) in intervals {
                let minutes = (l - j) as f64 / MINUTE as f64;
                let n = (minutes * rate + rng.unit()) as usize;
                for _ in 0..n {
                    let t = j + rng.between(1_000, (l - j - 1_000).max(1_000));
                    let lines = if t < s.start + 8 * MINUTE && rng.chance(0.6) {
                        &catalog.chat.opening
                    } else if t > s.end - 10 * MINUTE && rng.chance(0.5) {
                        &catalog.chat.closing
                    } else {
                        &catalog.chat.middle
                    };
                    let text = rng.pick(lines).clone();
                    s.events.push(Event {
                        at: t,
                        actor: Some(*v),
                        body: Body::Chat(text),
                    });
                }
            }
        }

        // Reaction bursts around highlights.
        let bursts = (1.0 + lively * 5.0 * rng.unit() + lively * 2.0) as usize;
        for _ in 0..bursts {
            let t0 = s.start + rng.between(3 * MINUTE, duration - 3 * MINUTE);
            let main = rng.pick(&catalog.reactions).clone();
            for (v, intervals) in &presence {
                if !present(intervals, t0) || !rng.chance(0.12 * lively) {
                    continue;
                }
                for _ in 0..rng.between(1, 3) {
                    let emoji = if rng.chance(0.7) {
                        reaction_of(&main)
                    } else {
                        reaction_of(rng.pick(&catalog.reactions).as_str())
                    };
                    let t = t0 + rng.between(0, 20_000);
                    s.events.push(Event {
                        at: t,
                        actor: Some(*v),
                        body: Body::Reaction(emoji),
                    });
                }
            }
        }

        // Polls: none to three, answered by those present.
        let polls = match norm {
            n if n < 0.2 => rng.between(0, 1),
            n if n < 0.6 => rng.between(1, 2),
            _ => rng.between(2, 3),
        } as usize;
        for p in 0..polls {
            let poll = rng.below(catalog.polls.len());
            let poll_id = p as u64 + 1;
            let slot = duration * (10 + 65 * p as i64 / polls.max(1) as i64) / 100;
            let t = s.start + slot + rng.between(0, 4 * MINUTE);
            let close = t + rng.between(120_000, 180_000);
            s.events.push(Event {
                at: t,
                actor: None,
                body: Body::PollOpen {
                    poll: poll_id,
                    spec: poll,
                },
            });
            let options = catalog.polls[poll].options.len();
            let option_weights: Vec<f64> = (0..options).map(|_| 0.3 + rng.unit()).collect();
            for (v, intervals) in &presence {
                let answer_at = t + rng.between(4_000, 100_000);
                if present(intervals, answer_at) && rng.chance(0.35 + 0.45 * norm) {
                    let option = rng.weighted(&option_weights);
                    s.events.push(Event {
                        at: answer_at,
                        actor: Some(*v),
                        body: Body::Ballot {
                            poll: poll_id,
                            option,
                        },
                    });
                }
            }
            s.events.push(Event {
                at: close,
                actor: None,
                body: Body::PollClose { poll: poll_id },
            });
        }

        // The offer: the next course of the track, shown near the end in two variants.
        let offered = self.track_courses[track]
            .iter()
            .copied()
            .find(|&c| self.courses[c].position > self.courses[s.course].position)
            .unwrap_or(s.course);
        let offer_id = format!("offer-{}", s.id);
        let shown_at = s.end - rng.between(8, 15) * MINUTE;
        s.events.push(Event {
            at: shown_at,
            actor: None,
            body: Body::OfferPush {
                offer_id: offer_id.clone(),
                course: offered,
            },
        });
        for (v, intervals) in &presence {
            let t = shown_at + rng.between(0, 30_000);
            if !present(intervals, t) {
                continue;
            }
            let variant = u8::from(!rng.chance(0.5));
            s.events.push(Event {
                at: t,
                actor: Some(*v),
                body: Body::Exposure {
                    offer_id: offer_id.clone(),
                    course: offered,
                    variant,
                },
            });
            let already = owned[*v].contains(&offered);
            let lift = if variant == 1 { 1.4 } else { 1.0 };
            let p_click = (0.05 + 0.10 * norm) * lift * if already { 0.2 } else { 1.0 };
            if !rng.chance(p_click) {
                continue;
            }
            let leave = intervals
                .iter()
                .find(|&&(j, l)| j <= t && t < l)
                .map_or(t + MINUTE, |&(_, l)| l);
            let click_at =
                t + 2_000 + ((leave - t - 2_000).clamp(0, 300_000) as f64 * rng.unit()) as i64;
            s.events.push(Event {
                at: click_at,
                actor: Some(*v),
                body: Body::Click {
                    offer_id: offer_id.clone(),
                    course: offered,
                    variant,
                },
            });
            if !already && rng.chance(0.35) {
                let at = click_at + rng.between(30_000, 240_000);
                owned[*v].insert(offered);
                self.purchases.push(Purchase {
                    learner: *v,
                    course: offered,
                    at,
                    amount_cents: discounted(self.courses[offered].price_cents, rng),
                    ref_code: Some(format!("live-{}", s.id)),
                    order_id: String::new(),
                });
            }
        }

        // Q&A, from a generator of its own so that adding it left the rest of the school as it
        // was: a few questions (more in lively classes), approved by staff a little later,
        // upvoted by others present, most answered.
        let mut qa = Rng::new(self.seed ^ (s.id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let asks = (norm * 6.0 + qa.unit() * 3.0) as usize;
        for key in 0..asks.min(presence.len()) {
            let (asker, intervals) = &presence[qa.below(presence.len())];
            let &(j, l) = &intervals[qa.below(intervals.len())];
            let at = j + qa.between(30_000, (l.min(s.end) - j - 30_000).max(30_000));
            if !present(intervals, at) || at > s.end - 5 * MINUTE {
                continue;
            }
            s.events.push(Event {
                at,
                actor: Some(*asker),
                body: Body::Ask {
                    key,
                    text: QUESTIONS[qa.below(QUESTIONS.len())],
                },
            });
            let approved = at + qa.between(20_000, 90_000);
            s.events.push(Event {
                at: approved,
                actor: None,
                body: Body::Approve { key },
            });
            for (v, intervals) in &presence {
                let t = approved + qa.between(5_000, 120_000);
                if v != asker && present(intervals, t) && qa.chance(0.05 + 0.20 * norm) {
                    s.events.push(Event {
                        at: t,
                        actor: Some(*v),
                        body: Body::Upvote { key },
                    });
                }
            }
            if qa.chance(0.8) {
                s.events.push(Event {
                    at: approved + qa.between(125_000, 300_000),
                    actor: None,
                    body: Body::Answer { key },
                });
            }
        }

        // Reactions as the room records them: per second, each viewer's kind once, without
        // names, written when the second is over.
        let mut seconds: BTreeMap<i64, BTreeSet<(usize, usize)>> = BTreeMap::new();
        s.events.retain(|e| match (&e.body, e.actor) {
            (Body::Reaction(kind), Some(viewer)) => {
                seconds
                    .entry(e.at - e.at.rem_euclid(1_000))
                    .or_default()
                    .insert((*kind, viewer));
                false
            }
            _ => true,
        });
        for (second, senders) in seconds {
            let mut counts: Vec<(usize, u32)> = Vec::new();
            for (kind, _) in senders {
                match counts.last_mut() {
                    Some((k, n)) if *k == kind => *n += 1,
                    _ => counts.push((kind, 1)),
                }
            }
            s.events.push(Event {
                at: second + 1_000,
                actor: None,
                body: Body::Reactions { second, counts },
            });
        }

        // The log in time order; the sort is stable, so equal times keep their causal order.
        // The room accepts nothing after the end (a late goodbye in the chat is lost).
        s.events.sort_by_key(|e| e.at);
        s.events.retain(|e| e.at < s.end);
        // The end: the live offer is withdrawn and the room closes.
        s.events.push(Event {
            at: s.end,
            actor: None,
            body: Body::OfferWithdraw {
                offer_id,
                course: offered,
            },
        });
        s.events.push(Event {
            at: s.end,
            actor: None,
            body: Body::End,
        });
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
        let mut learner_stmt = tx
            .prepare("INSERT INTO learners (id, joined_at_ms, display_name) VALUES (?1, ?2, ?3)")?;
        for l in &self.learners {
            learner_stmt.execute(params![l.id, l.joined_at, l.display_name])?;
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
                // The demo school's three instructors share its courses.
                DEMO_INSTRUCTORS[s.course % DEMO_INSTRUCTORS.len()],
            ])?;
            let mut room = RoomLog::default();
            for (i, e) in s.events.iter().enumerate() {
                let seq = i as i64 + 1;
                let actor = e.actor.map(|a| self.learners[a].id.as_str());
                let event = self.room_event(e, catalog, &mut room);
                let kind = event["type"].as_str().unwrap_or("unknown").to_owned();
                let payload = json!({
                    "v": 1,
                    "at": e.at,
                    "by": actor,
                    "client_id": null,
                    "event": event,
                });
                event_stmt.execute(params![
                    s.id,
                    seq,
                    kind,
                    actor,
                    e.at,
                    payload.to_string(),
                    format!("demo-{}-{seq}", s.id),
                ])?;
            }
        }
        Ok(())
    }

    /// The room's event (the record's `event`) for one demo event, in log order.
    fn room_event(&self, e: &Event, catalog: &Catalog, room: &mut RoomLog) -> serde_json::Value {
        let course_id = |c: usize| catalog_course(catalog, self, c).id.as_str();
        let viewer = e.actor.map(|a| self.learners[a].id.as_str());
        match &e.body {
            Body::Join => json!({
                "type": "viewer_joined",
                "viewer": viewer,
                "role": "viewer",
                "name": e.actor.map(|a| self.name_of(a)),
                "fingerprint": null,
            }),
            Body::Leave => json!({ "type": "viewer_left", "viewer": viewer }),
            Body::Chat(text) => {
                room.messages += 1;
                json!({
                    "type": "chat_sent",
                    "message": {
                        "id": room.messages,
                        "author": viewer,
                        "name": e.actor.map(|a| self.name_of(a)),
                        "role": "viewer",
                        "text": text,
                        "sent_at": e.at,
                    },
                })
            }
            Body::Reaction(kind) => {
                // Never written: `fill_session` aggregates them per second first. Were one
                // left, it would read as one reaction in its second.
                json!({ "type": "reactions_aggregated", "second": e.at - e.at.rem_euclid(1_000),
                        "counts": [[REACTIONS[*kind], 1]] })
            }
            Body::Reactions { second, counts } => json!({
                "type": "reactions_aggregated",
                "second": second,
                "counts": counts
                    .iter()
                    .map(|(kind, n)| json!([REACTIONS[*kind], n]))
                    .collect::<Vec<_>>(),
            }),
            Body::PollOpen { poll, spec } => {
                let spec = &catalog.polls[*spec];
                room.totals.insert(*poll, vec![0; spec.options.len()]);
                json!({
                    "type": "poll_opened",
                    "poll": poll,
                    "question": spec.question,
                    "options": spec.options,
                    "multiple": false,
                    "anonymous": false,
                    "quiz": false,
                    "deadline": null,
                })
            }
            Body::Ballot { poll, option } => {
                let totals = room.totals.entry(*poll).or_default();
                if let Some(n) = totals.get_mut(*option) {
                    *n += 1;
                }
                json!({
                    "type": "ballot_cast",
                    "poll": poll,
                    "ballot": { "viewer": viewer, "choices": [option] },
                    "totals": totals,
                })
            }
            Body::PollClose { poll } => json!({ "type": "poll_closed", "poll": poll }),
            Body::OfferPush { offer_id, course } => {
                let c = &self.courses[*course];
                let spec = catalog_course(catalog, self, *course);
                json!({
                    "type": "offer_pushed",
                    "offer": {
                        "spec": {
                            "id": offer_id,
                            "course_id": spec.id,
                            "title": format!("Next: {}", spec.title),
                            "cta": "Enroll now",
                            "price_cents": c.price_cents,
                            "currency": catalog.currency,
                            "discount_pct": 0,
                            "checkout_url": format!("https://northwind.example/checkout/{}", spec.id),
                            "variants": VARIANTS.iter().map(|v| json!({"name": v, "weight": 0.5})).collect::<Vec<_>>(),
                        },
                        "state": "live",
                        "at": e.at,
                        "session_variant": null,
                        "counts": [
                            {"shown": 0, "exposures": 0, "clicks": 0, "dismissals": 0},
                            {"shown": 0, "exposures": 0, "clicks": 0, "dismissals": 0},
                        ],
                    },
                })
            }
            Body::Exposure {
                offer_id,
                course,
                variant,
            }
            | Body::Click {
                offer_id,
                course,
                variant,
            } => {
                let exposed = matches!(e.body, Body::Exposure { .. });
                let counts = &mut room.offer_counts[usize::from(*variant).min(1)];
                if exposed {
                    counts.0 += 1;
                } else {
                    counts.1 += 1;
                }
                json!({
                    "type": if exposed { "offer_exposed" } else { "offer_clicked" },
                    "offer": offer_id,
                    "course_id": course_id(*course),
                    "viewer": viewer,
                    "variant": variant,
                    "variant_name": VARIANTS[usize::from(*variant).min(1)],
                    "counts": {"shown": counts.0, "exposures": counts.0, "clicks": counts.1, "dismissals": 0},
                })
            }
            Body::OfferWithdraw { offer_id, course } => json!({
                "type": "offer_withdrawn",
                "offer": offer_id,
                "course_id": course_id(*course),
            }),
            Body::Ask { key, text } => {
                room.questions.push(*key);
                let id = room.questions.len();
                room.votes.insert(*key, 0);
                let question = json!({
                    "id": id,
                    "asker": viewer,
                    "name": e.actor.map(|a| self.name_of(a)),
                    "text": text,
                    "state": "pending",
                    "votes": 0,
                    "asked_at": e.at,
                });
                room.asked.insert(*key, question.clone());
                json!({ "type": "question_asked", "question": question })
            }
            Body::Approve { key } => {
                let (id, asked) = room.question(*key);
                let asked = asked.map(|e| {
                    let mut q = e.clone();
                    q["state"] = json!("approved");
                    q
                });
                json!({ "type": "question_approved", "question": asked.unwrap_or(json!({ "id": id })) })
            }
            Body::Upvote { key } => {
                let (id, _) = room.question(*key);
                let votes = room.votes.entry(*key).or_default();
                *votes += 1;
                json!({ "type": "question_upvoted", "question": id, "viewer": viewer, "votes": votes })
            }
            Body::Answer { key } => {
                let (id, _) = room.question(*key);
                json!({ "type": "question_answered", "question": id })
            }
            Body::End => json!({ "type": "broadcast_ended" }),
        }
    }

    /// A learner's display name, or the pseudonym the room would give them.
    fn name_of(&self, learner: usize) -> String {
        let l = &self.learners[learner];
        l.display_name
            .clone()
            .unwrap_or_else(|| format!("Guest {}", &l.id[l.id.len().saturating_sub(4)..]))
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
            events: self.sessions.iter().map(|s| s.events.len() as u64).sum(),
        }
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
            list.push(courses.len());
            courses.push(Course {
                track: t,
                position,
                price_cents: spec.price_usd * 100,
                popularity: spec.popularity,
                level_factor,
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
