//! Offer experiments: from the event log and the purchases to an A/B verdict a teacher reads.
//!
//! **Attribution.** A conversion is a purchase of the offered course by a unit's viewer within
//! the window the instructor sets (7 days by default) after the unit's anchor: the exposure (the
//! card was visible on their screen), or the class's start for a timing experiment. Whose
//! purchase it is: a checkout reference code of this experiment (`<offer>.<variant>.<viewer>`,
//! see `lectern_room::offers`) decides; otherwise the learner the viewer is in the shop, by the
//! school's one viewer-to-learner map ([`crate::identity`]: personal join link, consented email,
//! reference codes). A purchase with a time counts only from the anchor on; one exported with a
//! date alone counts from the anchor's date in the school's time zone ([`Studio::time_zone`]).
//! A viewer who bought the course before the anchor already owned it: they are left out of the
//! denominator (`prior_owners`).
//!
//! **Units.** Viewer-randomised experiments (text, price, discount) are analysed per viewer:
//! n = exposed viewers, conversions = converted viewers; the chance to win is the exact
//! Beta-Binomial one, shown only once the minimum-data gate passes. Timing experiments are
//! randomised per session and analysed per session, by intention to treat: each session is one
//! unit whose value is the share of *all its attendees* who bought (a late push exposes only
//! those who stayed, so exposed viewers would measure the timing's audience, not its effect).
//! With several variants, each verdict reads its sequential interval at 5% divided by the number
//! of variants.
//!
//! **Revenue.** Beside the conversion test, revenue per unit (what viewers paid within the window,
//! zero for those who did not buy; per session for timing experiments) is tested as a mean metric
//! with the same engine; its verdict waits for 5 buyers per variant.
//!
//! **History.** The cumulative rate of each variant at up to [`HISTORY_POINTS`] moments between
//! the first exposure and the last change (exposures when they happened, conversions when the
//! purchase was made), so the screen can draw how the reading moved during and after class.
//!
//! **Planner.** [`Studio::plan_experiment`]: how many classes of a given size a lift needs.

use std::collections::{BTreeMap, HashMap};

use lectern_insights::stats::{
    AbInput, AbOutput, ArmInput, PlanInput, Verdict, analyze_ab, plan_classes, wilson_interval,
};
use lectern_room::{DecisionMetric, Event, EventKind, Recorded};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ApiError, ErrorCode, Studio};

/// Days after an exposure in which a purchase counts, by default.
pub const DEFAULT_WINDOW_DAYS: u32 = 7;
/// Most moments in a results history.
pub const HISTORY_POINTS: usize = 40;
const DAY_MS: i64 = 86_400_000;

/// Which experiment to read.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferResultsArgs {
    /// The experiment id of the offers (or the offer id when it has none).
    pub experiment: String,
    /// Days after exposure in which a purchase counts (1 to 90; default 7).
    pub window_days: Option<u32>,
}

/// One variant's raw numbers and its reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VariantResult {
    /// The variant's name (control first).
    pub name: String,
    /// Its configured share of traffic.
    pub weight: f64,
    /// Units: exposed viewers, or sessions for a timing experiment.
    pub units: u64,
    /// Viewers counted: the exposed ones, or every attendee of the variant's classes for a
    /// timing experiment (intention to treat); viewers who already owned the course left out.
    pub attendees: u64,
    /// Exposed viewers.
    pub exposed: u64,
    /// Viewers who clicked.
    pub clicked: u64,
    /// Viewers who bought within the window.
    pub converted: u64,
    /// What they paid, in cents.
    pub revenue_cents: i64,
    /// Conversion rate (or mean session rate), `null` with no units.
    pub rate: Option<f64>,
    /// Its 95% Wilson interval (viewer-randomised only).
    pub rate_ci: Option<[f64; 2]>,
    /// Relative lift against control (variants only).
    pub lift: Option<f64>,
    /// The sequential (peeking-safe) interval of the relative lift that the verdict reads, at
    /// 5% split across the variants.
    pub lift_ci: Option<[f64; 2]>,
    /// Chance the variant beats control: exact Beta-Binomial for conversions, Gaussian for
    /// timing experiments' session rates; `null` until the minimum-data gate passes.
    pub chance_to_win: Option<f64>,
    /// `not_enough_data`, `sample_ratio_mismatch`, `variant_better`, `control_better`, `keep_going`.
    pub verdict: Option<String>,
    /// The verdict in words.
    pub summary: String,
    /// Revenue per unit against control.
    pub revenue: RevenueResult,
}

/// The revenue test of one variant against control: revenue per unit, as a mean metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RevenueResult {
    /// Mean revenue per unit, in cents (`null` with no units).
    pub per_unit_cents: Option<f64>,
    /// Relative lift of revenue per unit against control (variants only).
    pub lift: Option<f64>,
    /// Its sequential (peeking-safe) interval, alpha split across the variants.
    pub lift_ci: Option<[f64; 2]>,
    /// Bayesian chance the variant brings more revenue per unit (`null` below the gate: at
    /// least 5 buyers per variant).
    pub chance_to_win: Option<f64>,
    /// As for conversions.
    pub verdict: Option<String>,
    /// The reading in words.
    pub summary: String,
}

/// Each variant's cumulative numbers at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    /// When, in milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub at_ms: i64,
    /// Exposed viewers so far, per variant (control first).
    pub exposed: Vec<u64>,
    /// Converted viewers so far, per variant.
    pub converted: Vec<u64>,
    /// The rate so far, per variant (`null` before an exposure).
    pub rate: Vec<Option<f64>>,
    /// Its 95% Wilson interval, per variant.
    pub rate_ci: Vec<Option<[f64; 2]>>,
}

/// An experiment's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OfferResults {
    /// The experiment.
    pub experiment: String,
    /// The course on offer.
    pub course_id: String,
    /// `viewer` or `session`.
    pub unit: String,
    /// Classes in which it ran.
    pub sessions: u64,
    /// The attribution window used.
    pub window_days: u32,
    /// What the experiment decides on (the other reading is for information).
    #[ts(type = "\"conversion\" | \"revenue\"")]
    pub metric: DecisionMetric,
    /// The school's time zone, in which a purchase exported with a date alone is read.
    pub time_zone: String,
    /// Viewers left out because they owned the course before they were exposed (or, for a
    /// timing experiment, before the class).
    #[ts(type = "number")]
    pub prior_owners: u64,
    /// Control first.
    pub variants: Vec<VariantResult>,
    /// Sample-ratio-mismatch p-value (alert below 0.001), `null` before there is data.
    pub srm_p_value: Option<f64>,
    /// The full analysis (`lectern stats ab` output), for export.
    #[ts(type = "unknown")]
    pub analysis: Option<serde_json::Value>,
    /// The revenue analysis (`lectern stats ab` output, mean metric), for export.
    #[ts(type = "unknown")]
    pub revenue_analysis: Option<serde_json::Value>,
    /// How the rates moved (viewer-randomised experiments; empty for timing ones).
    pub history: Vec<HistoryPoint>,
}

/// One experiment, as the Offers screen lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentSummary {
    /// The experiment id (the offer id when the offer named none): what `offer_results` takes.
    pub experiment: String,
    /// The course on offer.
    pub course_id: String,
    /// Its title, when the catalog has it.
    pub course_title: Option<String>,
    /// When an offer of it was first pushed (Unix ms).
    #[ts(type = "number")]
    pub first_pushed_ms: i64,
    /// When one was last pushed (Unix ms).
    #[ts(type = "number")]
    pub last_pushed_ms: i64,
    /// Classes in which it ran.
    pub sessions: u64,
    /// Whether it runs in the class on air now.
    pub live: bool,
    /// Its variants' names, control first.
    pub variants: Vec<String>,
    /// Exposed viewers, all variants.
    pub exposed: u64,
    /// Viewers who bought within the default window.
    pub converted: u64,
    /// The leading variant's verdict (`not_enough_data`, `keep_going`, `variant_better`...).
    pub verdict: Option<String>,
    /// The leading variant's reading in words.
    pub summary: String,
}

/// Most experiments listed (the newest).
pub const MAX_LISTED_EXPERIMENTS: usize = 50;

/// What the planner needs.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanArgs {
    /// Control's expected conversion rate (0 to 1, exclusive).
    pub baseline_rate: f64,
    /// The smallest relative lift worth detecting (0.2 = 20%).
    pub relative_lift: f64,
    /// Exposed viewers one class brings.
    #[ts(type = "number")]
    pub class_size: u64,
    /// Traffic weights, control first (default: two equal arms).
    pub weights: Option<Vec<f64>>,
}

/// The planner's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentPlan {
    /// Exposed viewers needed across all variants.
    #[ts(type = "number")]
    pub units_needed: u64,
    /// Classes of that size.
    #[ts(type = "number")]
    pub classes: u64,
    /// Viewers each variant needs.
    #[ts(type = "number[]")]
    pub units_per_arm: Vec<u64>,
    /// The plan in words.
    pub summary: String,
}

#[derive(Default)]
struct Exposure {
    variant: usize,
    at_ms: i64,
    session: i64,
    clicked: bool,
}

struct Pushed {
    course_id: String,
    names: Vec<String>,
    weights: Vec<f64>,
    timing: bool,
    /// What the experiment decides on.
    metric: DecisionMetric,
    /// Session -> its variant (timing experiments).
    session_variant: BTreeMap<i64, usize>,
    offers: Vec<String>,
}

/// Expected total units the sequential test is tuned for, in the analysis and the planner alike.
pub const SEQUENTIAL_TUNING: f64 = 5000.0;

/// One purchase of the offered course.
struct CoursePurchase {
    at_ms: i64,
    /// Exported with a date alone: `at_ms` is that (school-local) date's 00:00 UTC.
    date_only: bool,
    amount_cents: i64,
}

/// Where a purchase falls against a unit's anchor (its exposure, or its class's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timing {
    /// Bought before: the viewer already owned the course.
    Before,
    /// Within the attribution window: a conversion.
    Within,
    /// Too late to credit the offer.
    After,
}

impl CoursePurchase {
    /// A purchase with a time counts from the anchor on; one with a date alone counts from the
    /// anchor's date in the school's time zone (the same day cannot be ordered, so it counts),
    /// and is older only when its date is before that day.
    fn timing(&self, anchor_ms: i64, window_ms: i64, window_days: u32, zone: &Zone) -> Timing {
        if self.date_only {
            let day = self.at_ms.div_euclid(DAY_MS);
            let anchor_day = zone.local_day(anchor_ms);
            if day < anchor_day {
                Timing::Before
            } else if day - anchor_day <= i64::from(window_days) {
                Timing::Within
            } else {
                Timing::After
            }
        } else if self.at_ms < anchor_ms - anchor_ms.rem_euclid(1000) {
            // Shops export times to the second: a purchase in the anchor's own second counts.
            Timing::Before
        } else if self.at_ms - anchor_ms <= window_ms {
            Timing::Within
        } else {
            Timing::After
        }
    }
}

/// What the purchases say about one unit.
#[derive(Debug, Default)]
struct Attribution {
    /// Owned the course before the anchor.
    prior_owner: bool,
    /// Paid within the window, in cents.
    paid: i64,
    /// The first purchase within the window.
    first_at: Option<i64>,
}

/// What became of one unit (prior owners left out): who, which variant, its anchor, and
/// whether it bought within the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitOutcome {
    /// The viewer id.
    pub(crate) viewer: String,
    /// The variant's index (control 0).
    pub(crate) arm: usize,
    /// The exposure, or the class's start for a timing experiment (Unix ms).
    pub(crate) anchor_ms: i64,
    /// Bought the course within the window.
    pub(crate) converted: bool,
}

/// One unit of analysis: a viewer (exposed, or attending a timing experiment's class).
struct Unit {
    viewer: String,
    arm: usize,
    session: i64,
    exposed: bool,
    clicked: bool,
    /// Its anchor: the exposure, or the class's start.
    at_ms: i64,
    attribution: Attribution,
}

/// The school's time zone, in which date-only purchases are read.
pub struct Zone {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl Zone {
    /// The zone named `name` (IANA, e.g. `Europe/Paris`), or an error in words.
    pub fn named(name: &str) -> Result<Zone, ApiError> {
        let name = name.trim();
        let zone = jiff::tz::TimeZone::get(name).map_err(|_| {
            ApiError::invalid(format!(
                "{name:?} is not a time zone name like Europe/Paris or America/New_York"
            ))
        })?;
        Ok(Zone {
            name: name.to_owned(),
            zone,
        })
    }

    /// Days since 1970-01-01 of the local date at `at_ms`.
    pub fn local_day(&self, at_ms: i64) -> i64 {
        let offset_ms = jiff::Timestamp::from_millisecond(at_ms)
            .map(|t| i64::from(self.zone.to_offset(t).seconds()) * 1000)
            .unwrap_or(0);
        (at_ms + offset_ms).div_euclid(DAY_MS)
    }

    /// The local date at `at_ms`, as `2026-12-07`.
    pub fn local_date(&self, at_ms: i64) -> String {
        jiff::Timestamp::from_millisecond(at_ms)
            .map(|t| t.to_zoned(self.zone.clone()).date().to_string())
            .unwrap_or_default()
    }

    /// Its IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The school setting that holds its time zone.
pub const TIME_ZONE_SETTING: &str = "time_zone";
/// A school's time zone until it sets one.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// Set the school's time zone.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetTimeZone {
    /// An IANA name (`Europe/Paris`); `UTC` by default.
    pub time_zone: String,
}

fn pct(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

fn summary(
    name: &str,
    verdict: Verdict,
    lift: Option<f64>,
    chance: Option<f64>,
    points: Option<f64>,
    primary: bool,
) -> String {
    let chance = chance
        .map(|c| format!("{:.0}% chance it is better", c * 100.0))
        .unwrap_or_default();
    let diff = match (points, lift) {
        (Some(p), _) => format!(
            "{name} converts {} points {}",
            pct(p.abs()),
            if p >= 0.0 { "better" } else { "worse" }
        ),
        (None, Some(l)) => format!(
            "{name} is {}% {}",
            pct(l.abs()),
            if l >= 0.0 { "better" } else { "worse" }
        ),
        _ => format!("{name} has no difference to read yet"),
    };
    let reading = match verdict {
        _ if !primary => SECONDARY.to_owned(),
        Verdict::NotEnoughData => format!(
            "{} (5 buyers and 5 non-buyers per variant)",
            reading(verdict)
        ),
        _ => reading(verdict).to_owned(),
    };
    [diff, chance, reading]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

impl Studio {
    /// Every experiment of the school, newest first (at most [`MAX_LISTED_EXPERIMENTS`]), with
    /// its course, dates, exposures and the leading variant's verdict.
    pub async fn experiments(
        &self,
        _args: crate::api::NoArgs,
    ) -> Result<Vec<ExperimentSummary>, ApiError> {
        let store = self.store().await?;
        let rows: Vec<(i64, i64, String)> = store
            .read(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT session_id, at_ms, payload FROM events WHERE kind = ?1 ORDER BY id",
                )?;
                let rows = stmt
                    .query_map([EventKind::OfferPushed.name()], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        let live_session = self.live_room().await.map(|room| room.session_id());
        let mut listed: Vec<ExperimentSummary> = vec![];
        let mut sessions: HashMap<String, Vec<i64>> = HashMap::new();
        for (session, at_ms, payload) in rows {
            let Ok(record) = serde_json::from_str::<Recorded>(&payload) else {
                continue;
            };
            let Event::OfferPushed { offer } = record.event else {
                continue;
            };
            let spec = offer.spec;
            let id = spec.experiment.clone().unwrap_or_else(|| spec.id.0.clone());
            let seen = sessions.entry(id.clone()).or_default();
            if !seen.contains(&session) {
                seen.push(session);
            }
            match listed.iter_mut().find(|e| e.experiment == id) {
                Some(entry) => {
                    entry.last_pushed_ms = entry.last_pushed_ms.max(at_ms);
                    entry.live |= live_session == Some(session);
                }
                None => listed.push(ExperimentSummary {
                    experiment: id,
                    course_id: spec.course_id,
                    course_title: None,
                    first_pushed_ms: at_ms,
                    last_pushed_ms: at_ms,
                    sessions: 0,
                    live: live_session == Some(session),
                    variants: spec.variants.into_iter().map(|v| v.name).collect(),
                    exposed: 0,
                    converted: 0,
                    verdict: None,
                    summary: String::new(),
                }),
            }
        }
        listed.sort_by_key(|e| std::cmp::Reverse(e.last_pushed_ms));
        listed.truncate(MAX_LISTED_EXPERIMENTS);
        // Read once for the whole list: who each viewer is, and the school's time zone.
        let identities = self.identities().await?;
        let zone = self.time_zone().await?;
        let titles: HashMap<String, String> = self
            .catalog(crate::api::NoArgs {})
            .await?
            .into_iter()
            .map(|c| (c.id, c.title))
            .collect();
        for entry in &mut listed {
            entry.sessions = sessions
                .get(&entry.experiment)
                .map_or(0, |s| s.len() as u64);
            entry.course_title = titles.get(&entry.course_id).cloned();
            let results = self
                .offer_results_with(
                    OfferResultsArgs {
                        experiment: entry.experiment.clone(),
                        window_days: None,
                    },
                    &identities,
                    &zone,
                )
                .await?
                .0;
            entry.exposed = results.variants.iter().map(|v| v.exposed).sum();
            entry.converted = results.variants.iter().map(|v| v.converted).sum();
            // The variant most likely to beat control on the primary metric speaks for it.
            let primary = |v: &VariantResult| match results.metric {
                DecisionMetric::Conversion => {
                    (v.chance_to_win, v.verdict.clone(), v.summary.clone())
                }
                DecisionMetric::Revenue => (
                    v.revenue.chance_to_win,
                    v.revenue.verdict.clone(),
                    v.revenue.summary.clone(),
                ),
            };
            let leading = results.variants.iter().skip(1).max_by(|a, b| {
                primary(a)
                    .0
                    .unwrap_or(0.0)
                    .total_cmp(&primary(b).0.unwrap_or(0.0))
            });
            if let Some(leading) = leading {
                let (_, verdict, summary) = primary(leading);
                entry.verdict = verdict;
                entry.summary = summary;
            } else if let Some(only) = results.variants.first() {
                entry.summary = only.summary.clone();
            }
        }
        Ok(listed)
    }

    /// Results of an offer experiment across every class in which it ran.
    pub async fn offer_results(&self, args: OfferResultsArgs) -> Result<OfferResults, ApiError> {
        // Who each viewer is in the shop (personal link, consented email, reference codes).
        let identities = self.identities().await?;
        let zone = self.time_zone().await?;
        Ok(self.offer_results_with(args, &identities, &zone).await?.0)
    }

    /// [`Studio::offer_results`] with the viewer-to-learner map and the time zone already read,
    /// and each unit's outcome (for a breakdown).
    pub(crate) async fn offer_results_with(
        &self,
        args: OfferResultsArgs,
        identities: &crate::identity::Identities,
        zone: &Zone,
    ) -> Result<(OfferResults, Vec<UnitOutcome>), ApiError> {
        let window_days = args.window_days.unwrap_or(DEFAULT_WINDOW_DAYS);
        if !(1..=90).contains(&window_days) {
            return Err(ApiError::invalid("the attribution window is 1 to 90 days"));
        }
        let experiment = args.experiment.trim().to_owned();
        if experiment.is_empty() || experiment.len() > 200 {
            return Err(ApiError::invalid(
                "name an experiment (1 to 200 characters)",
            ));
        }
        let store = self.store().await?;
        let rows: Vec<(i64, String)> = store
            .read(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT session_id, payload FROM events
                     WHERE kind IN (?1, ?2, ?3, ?4)
                     ORDER BY id",
                )?;
                let kinds = [
                    EventKind::OfferPushed,
                    EventKind::OfferExposed,
                    EventKind::OfferClicked,
                    EventKind::EmailLinked,
                ]
                .map(EventKind::name);
                let rows = stmt
                    .query_map(kinds, |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        let mut pushed: Option<Pushed> = None;
        let mut events = vec![];
        for (session, payload) in rows {
            let Ok(record) = serde_json::from_str::<Recorded>(&payload) else {
                continue;
            };
            events.push((session, record));
        }
        // First the offers that belong to the experiment...
        for (session, record) in &events {
            let Event::OfferPushed { offer } = &record.event else {
                continue;
            };
            let spec = &offer.spec;
            let id = spec.experiment.clone().unwrap_or_else(|| spec.id.0.clone());
            if id != experiment {
                continue;
            }
            let p = pushed.get_or_insert_with(|| Pushed {
                course_id: spec.course_id.clone(),
                names: spec.variants.iter().map(|v| v.name.clone()).collect(),
                weights: spec
                    .variants
                    .iter()
                    .map(|v| v.weight.ppm as f64 / 1e6)
                    .collect(),
                timing: spec.is_timing_experiment(),
                metric: spec.metric,
                session_variant: BTreeMap::new(),
                offers: vec![],
            });
            if let Some(v) = offer.session_variant {
                p.session_variant.insert(*session, usize::from(v));
            }
            p.offers.push(format!("{session}/{}", spec.id.0));
        }
        let Some(pushed) = pushed else {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no offer of experiment {experiment:?} has been pushed"),
            ));
        };
        // ...then who saw which variant, and who clicked.
        let mut exposures: HashMap<String, Exposure> = HashMap::new();
        let mut offer_of: HashMap<String, ()> = HashMap::new();
        for (session, record) in &events {
            let (tally, click) = match &record.event {
                Event::OfferExposed(t) => (t, false),
                Event::OfferClicked(t) => (t, true),
                _ => continue,
            };
            if !pushed
                .offers
                .contains(&format!("{session}/{}", tally.offer.0))
            {
                continue;
            }
            offer_of.insert(tally.offer.0.clone(), ());
            let variant = usize::from(tally.variant).min(pushed.names.len().saturating_sub(1));
            let entry = exposures
                .entry(tally.viewer.0.clone())
                .or_insert_with(|| Exposure {
                    variant,
                    at_ms: i64::try_from(record.at.0).unwrap_or(i64::MAX),
                    session: *session,
                    clicked: false,
                });
            if click {
                entry.clicked = true;
            }
        }
        let zone_name = zone.name().to_owned();
        let course = pushed.course_id.clone();
        let purchases: Vec<(String, Option<String>, i64, bool, i64)> = store
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT learner_id, ref_code, purchased_at_ms, date_only, amount_cents
                     FROM purchases WHERE course_id = ?1 ORDER BY purchased_at_ms, id",
                )?;
                let rows = stmt
                    .query_map([course], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        // The course's purchases, by the viewer a reference code of this experiment names and
        // by learner.
        let mut by_ref: HashMap<String, Vec<CoursePurchase>> = HashMap::new();
        let mut by_learner: HashMap<String, Vec<CoursePurchase>> = HashMap::new();
        for (learner, code, at_ms, date_only, amount_cents) in purchases {
            let purchase = CoursePurchase {
                at_ms,
                date_only,
                amount_cents,
            };
            let referred = code
                .as_deref()
                .and_then(lectern_room::parse_reference)
                .filter(|r| offer_of.contains_key(&r.offer));
            match referred {
                // A reference code of this experiment decides whose purchase it is.
                Some(r) => by_ref.entry(r.viewer.0).or_default().push(purchase),
                None => by_learner.entry(learner).or_default().push(purchase),
            }
        }
        let window_ms = i64::from(window_days) * DAY_MS;
        let attribute = |viewer: &str, anchor_ms: i64| -> Attribution {
            let coded = by_ref.get(viewer).into_iter().flatten();
            let learned = identities
                .learner(viewer)
                .and_then(|l| by_learner.get(l))
                .into_iter()
                .flatten();
            let mut result = Attribution::default();
            for p in coded.chain(learned) {
                match p.timing(anchor_ms, window_ms, window_days, zone) {
                    Timing::Before => result.prior_owner = true,
                    Timing::Within => {
                        result.paid += p.amount_cents;
                        result.first_at = Some(result.first_at.map_or(p.at_ms, |t| t.min(p.at_ms)));
                    }
                    Timing::After => {}
                }
            }
            result
        };

        // The units: each exposed viewer (viewer-randomised), or every attendee of each class
        // the experiment ran in (timing: intention to treat, since the timing itself decides who
        // is still there to be exposed).
        let mut units: Vec<Unit> = Vec::new();
        if pushed.timing {
            let sessions: Vec<i64> = pushed.session_variant.keys().copied().collect();
            let attendance: Vec<(i64, String, i64)> = store
                .read(move |conn| {
                    let mut stmt = conn.prepare_cached(
                        "SELECT e.session_id, e.actor, s.started_at_ms FROM events e
                         JOIN live_sessions s ON s.id = e.session_id
                         WHERE e.kind = ?1 AND e.actor IS NOT NULL
                         GROUP BY e.session_id, e.actor",
                    )?;
                    let rows = stmt
                        .query_map([EventKind::ViewerJoined.name()], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })?
                        .collect::<Result<Vec<(i64, String, i64)>, _>>()?;
                    Ok(rows
                        .into_iter()
                        .filter(|(s, _, _)| sessions.contains(s))
                        .collect())
                })
                .await?;
            for (session, viewer, started_at_ms) in attendance {
                if crate::identity::is_staff(&viewer) {
                    continue;
                }
                let Some(&arm) = pushed.session_variant.get(&session) else {
                    continue;
                };
                let exposure = exposures.get(&viewer).filter(|e| e.session == session);
                units.push(Unit {
                    viewer: viewer.clone(),
                    arm,
                    session,
                    exposed: exposure.is_some(),
                    clicked: exposure.is_some_and(|e| e.clicked),
                    at_ms: started_at_ms,
                    attribution: attribute(&viewer, started_at_ms),
                });
            }
        } else {
            for (viewer, e) in &exposures {
                units.push(Unit {
                    viewer: viewer.clone(),
                    arm: e.variant,
                    session: e.session,
                    exposed: true,
                    clicked: e.clicked,
                    at_ms: e.at_ms,
                    attribution: attribute(viewer, e.at_ms),
                });
            }
        }
        // Viewers who already owned the course cannot be converted by the offer.
        let prior_owners = units.iter().filter(|u| u.attribution.prior_owner).count() as u64;
        units.retain(|u| !u.attribution.prior_owner);
        let outcomes: Vec<UnitOutcome> = units
            .iter()
            .map(|u| UnitOutcome {
                viewer: u.viewer.clone(),
                arm: u.arm.min(pushed.names.len().saturating_sub(1)),
                anchor_ms: u.at_ms,
                converted: u.attribution.first_at.is_some(),
            })
            .collect();

        let arms = pushed.names.len();
        let mut exposed = vec![0u64; arms];
        let mut clicked = vec![0u64; arms];
        let mut converted = vec![0u64; arms];
        let mut revenue = vec![0i64; arms];
        let mut attendees = vec![0u64; arms];
        // Per session: (arm, units, converted, revenue), for timing experiments.
        let mut per_session: BTreeMap<i64, (usize, u64, u64, i64)> = BTreeMap::new();
        // Revenue per viewer, per arm: (n, sum, sum of squares, buyers), in cents.
        let mut revenue_moments = vec![(0f64, 0f64, 0f64, 0f64); arms];
        // (time, arm, exposure or conversion), for the history.
        let mut changes: Vec<(i64, usize, bool)> = Vec::new();
        for u in &units {
            let arm = u.arm.min(arms - 1);
            attendees[arm] += 1;
            exposed[arm] += u64::from(u.exposed);
            clicked[arm] += u64::from(u.clicked);
            let bought = u.attribution.first_at.is_some();
            let paid = u.attribution.paid;
            converted[arm] += u64::from(bought);
            revenue[arm] += paid;
            let cents = paid as f64;
            let m = &mut revenue_moments[arm];
            *m = (
                m.0 + 1.0,
                m.1 + cents,
                m.2 + cents * cents,
                m.3 + f64::from(u8::from(bought)),
            );
            let s = per_session.entry(u.session).or_insert((arm, 0, 0, 0));
            s.1 += 1;
            s.2 += u64::from(bought);
            s.3 += paid;
            changes.push((u.at_ms, arm, false));
            if let Some(at) = u.attribution.first_at {
                changes.push((at, arm, true));
            }
        }
        let sessions = pushed.offers.len() as u64;
        let (input, units) = if pushed.timing {
            let mut n = vec![0u64; arms];
            let mut sum = vec![0f64; arms];
            let mut squares = vec![0f64; arms];
            for (arm, seen, bought, _) in per_session.values() {
                let rate = *bought as f64 / *seen as f64;
                n[*arm] += 1;
                sum[*arm] += rate;
                squares[*arm] += rate * rate;
            }
            let arms_in = (0..arms)
                .map(|i| ArmInput {
                    name: pushed.names[i].clone(),
                    n: n[i] as f64,
                    conversions: None,
                    sum: Some(sum[i]),
                    sum_squares: Some(squares[i]),
                    nonzero: None,
                })
                .collect();
            ("mean", (arms_in, n))
        } else {
            let arms_in = (0..arms)
                .map(|i| ArmInput {
                    name: pushed.names[i].clone(),
                    n: exposed[i] as f64,
                    conversions: Some(converted[i] as f64),
                    sum: None,
                    sum_squares: None,
                    nonzero: None,
                })
                .collect();
            ("binomial", (arms_in, exposed.clone()))
        };
        let (arms_in, units) = units_pair(input, units);
        // Revenue per unit: per viewer, or per session (revenue per attendee) for timing. A
        // revenue verdict waits for MIN_CONVERSIONS buyers (or classes with a buyer) per arm.
        if pushed.timing {
            revenue_moments = vec![(0.0, 0.0, 0.0, 0.0); arms];
            for (arm, seen, bought, cents) in per_session.values() {
                let per_viewer = *cents as f64 / *seen as f64;
                let m = &mut revenue_moments[*arm];
                *m = (
                    m.0 + 1.0,
                    m.1 + per_viewer,
                    m.2 + per_viewer * per_viewer,
                    m.3 + f64::from(u8::from(*bought > 0)),
                );
            }
        }
        let revenue_analysis: Option<AbOutput> = analyze_ab(AbInput {
            metric: "mean".to_owned(),
            alpha: 0.05,
            weights: Some(pushed.weights.clone()),
            sequential_tuning: SEQUENTIAL_TUNING,
            prior: None,
            arms: (0..arms)
                .map(|i| ArmInput {
                    name: pushed.names[i].clone(),
                    n: revenue_moments[i].0,
                    conversions: None,
                    sum: Some(revenue_moments[i].1),
                    sum_squares: Some(revenue_moments[i].2),
                    nonzero: Some(revenue_moments[i].3),
                })
                .collect(),
        })
        .ok();
        let history = if pushed.timing {
            Vec::new()
        } else {
            history_of(changes, arms)
        };
        let analysis: Option<AbOutput> = analyze_ab(AbInput {
            metric: arms_in.0.to_owned(),
            alpha: 0.05,
            weights: Some(pushed.weights.clone()),
            sequential_tuning: SEQUENTIAL_TUNING,
            prior: None,
            arms: arms_in.1,
        })
        .ok();
        let variants = (0..arms)
            .map(|i| {
                let arm = analysis.as_ref().and_then(|a| a.arms.get(i));
                let versus = arm.and_then(|a| a.versus.as_ref());
                let relative = versus.and_then(|v| v.relative);
                let absolute = versus.and_then(|v| v.absolute);
                let verdict = versus.map(|v| v.verdict);
                let chance = versus.and_then(|v| v.chance_to_win);
                // The interval the verdict reads (alpha split across variants), on the lift's
                // relative scale.
                let decision_ci = versus
                    .and_then(|v| v.decision)
                    .filter(|_| relative.is_some())
                    .map(|d| d.ci);
                let name = &pushed.names[i];
                let summary = match verdict {
                    Some(verdict) => summary(
                        name,
                        verdict,
                        relative.map(|r| r.estimate),
                        chance,
                        if pushed.timing {
                            None
                        } else {
                            absolute.map(|a| a.estimate)
                        },
                        pushed.metric == DecisionMetric::Conversion,
                    ),
                    None if i == 0 => format!("{name} is the control"),
                    None => format!("{name}: nobody has seen it yet"),
                };
                let revenue_arm = revenue_analysis.as_ref().and_then(|a| a.arms.get(i));
                let revenue_versus = revenue_arm.and_then(|a| a.versus.as_ref());
                let revenue_lift = revenue_versus.and_then(|v| v.relative);
                let revenue_verdict = revenue_versus.map(|v| v.verdict);
                let revenue_chance = revenue_versus.and_then(|v| v.chance_to_win);
                let revenue_reading = RevenueResult {
                    per_unit_cents: revenue_arm.and_then(|a| a.mean),
                    lift: revenue_lift.map(|r| r.estimate),
                    lift_ci: revenue_versus
                        .and_then(|v| v.decision)
                        .filter(|_| revenue_lift.is_some())
                        .map(|d| d.ci),
                    chance_to_win: revenue_chance,
                    verdict: revenue_verdict.and_then(verdict_code),
                    summary: match revenue_verdict {
                        Some(verdict) => revenue_summary(
                            name,
                            verdict,
                            revenue_lift.map(|r| r.estimate),
                            revenue_chance,
                            pushed.metric == DecisionMetric::Revenue,
                        ),
                        None if i == 0 => format!("{name} is the control"),
                        None => format!("{name}: nobody has seen it yet"),
                    },
                };
                VariantResult {
                    name: name.clone(),
                    weight: pushed.weights[i],
                    units: units[i],
                    attendees: attendees[i],
                    exposed: exposed[i],
                    clicked: clicked[i],
                    converted: converted[i],
                    revenue_cents: revenue[i],
                    rate: arm.and_then(|a| a.mean),
                    rate_ci: arm.and_then(|a| a.wilson_ci).map(|c| [c[0], c[1]]),
                    lift: relative.map(|r| r.estimate),
                    lift_ci: decision_ci,
                    chance_to_win: chance,
                    verdict: verdict.and_then(verdict_code),
                    summary,
                    revenue: revenue_reading,
                }
            })
            .collect();
        let results = OfferResults {
            experiment,
            course_id: pushed.course_id,
            unit: if pushed.timing { "session" } else { "viewer" }.to_owned(),
            sessions,
            window_days,
            metric: pushed.metric,
            time_zone: zone_name,
            prior_owners,
            variants,
            srm_p_value: analysis.as_ref().map(|a| a.srm_p_value),
            analysis: analysis.and_then(|a| serde_json::to_value(a).ok()),
            revenue_analysis: revenue_analysis.and_then(|a| serde_json::to_value(a).ok()),
            history,
        };
        Ok((results, outcomes))
    }

    /// How many classes of `class_size` exposed viewers an experiment needs to detect
    /// `relative_lift` on `baseline_rate`: 80% power for the sequential test of the relative
    /// lift that the results screen reads (5% split across the variants), tuned as it is.
    pub async fn plan_experiment(&self, args: PlanArgs) -> Result<ExperimentPlan, ApiError> {
        plan(&args)
    }

    /// The school's time zone (`UTC` until the school sets one).
    pub async fn time_zone(&self) -> Result<Zone, ApiError> {
        let store = self.store().await?;
        let name = store.setting(TIME_ZONE_SETTING).await?;
        Zone::named(name.as_deref().unwrap_or(DEFAULT_TIME_ZONE))
    }

    /// Set the school's time zone: shops that export dates alone mean its local dates.
    pub async fn set_time_zone(&self, args: SetTimeZone) -> Result<String, ApiError> {
        let zone = Zone::named(&args.time_zone)?;
        let store = self.store().await?;
        store.set_setting(TIME_ZONE_SETTING, zone.name()).await?;
        Ok(zone.name().to_owned())
    }
}

/// The planner, without a school.
pub fn plan(args: &PlanArgs) -> Result<ExperimentPlan, ApiError> {
    if !(args.baseline_rate > 0.0 && args.baseline_rate < 1.0) {
        return Err(ApiError::invalid(
            "the control's rate must be above 0% and below 100%",
        ));
    }
    if !(args.relative_lift > 0.0 && args.relative_lift <= 10.0) {
        return Err(ApiError::invalid(
            "the lift to detect must be above 0% and at most 1000%",
        ));
    }
    if !(1..=1_000_000).contains(&args.class_size) {
        return Err(ApiError::invalid("a class brings 1 to 1,000,000 viewers"));
    }
    if args.baseline_rate * (1.0 + args.relative_lift) >= 1.0 {
        return Err(ApiError::invalid(
            "that lift would take the rate to 100% or more",
        ));
    }
    let plan = plan_classes(&PlanInput {
        metric: "binomial".to_owned(),
        baseline_mean: args.baseline_rate,
        baseline_sd: None,
        relative_lift: args.relative_lift,
        alpha: 0.05,
        power: 0.8,
        class_size: args.class_size,
        weights: args.weights.clone(),
        sequential_tuning: Some(SEQUENTIAL_TUNING),
    })
    .map_err(|e| ApiError::invalid(e.to_string()))?;
    let summary = format!(
        "To detect a {}% lift on a {}% rate, about {} exposed viewers are needed: {} {} of {}.",
        fmt_pct(args.relative_lift),
        fmt_pct(args.baseline_rate),
        thousands(plan.units_needed),
        thousands(plan.classes),
        if plan.classes == 1 {
            "class"
        } else {
            "classes"
        },
        thousands(args.class_size),
    );
    Ok(ExperimentPlan {
        units_needed: plan.units_needed,
        classes: plan.classes,
        units_per_arm: plan.units_per_arm,
        summary,
    })
}

fn fmt_pct(x: f64) -> String {
    let p = x * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a teacher may conclude, in words (the conversion and the revenue readings share it).
fn reading(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::NotEnoughData => "not enough data yet for a verdict",
        Verdict::SampleRatioMismatch => {
            "traffic does not match the weights: check the setup before trusting this"
        }
        Verdict::VariantBetter => "the sequential test says it is better: you can stop",
        Verdict::ControlBetter => "the sequential test says it is worse: you can stop",
        Verdict::KeepGoing => "the sequential test says keep going",
    }
}

fn verdict_code(v: Verdict) -> Option<String> {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// What a secondary metric's reading says instead of a verdict.
const SECONDARY: &str = "for information: the experiment decides on its primary metric";

fn revenue_summary(
    name: &str,
    verdict: Verdict,
    lift: Option<f64>,
    chance: Option<f64>,
    primary: bool,
) -> String {
    let diff = match lift {
        Some(l) => format!(
            "{name} brings {}% {} revenue per viewer",
            pct(l.abs()),
            if l >= 0.0 { "more" } else { "less" }
        ),
        None => format!("{name} has no revenue difference to read yet"),
    };
    let chance = chance
        .map(|c| format!("{:.0}% chance it brings more", c * 100.0))
        .unwrap_or_default();
    let reading = match verdict {
        _ if !primary => SECONDARY.to_owned(),
        Verdict::NotEnoughData => format!("{} (5 buyers per variant)", reading(verdict)),
        _ => reading(verdict).to_owned(),
    };
    [diff, chance, reading]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Cumulative rates at up to [`HISTORY_POINTS`] evenly spaced moments from the first change to
/// the last (the last point is always the final state).
fn history_of(mut changes: Vec<(i64, usize, bool)>, arms: usize) -> Vec<HistoryPoint> {
    if changes.is_empty() {
        return Vec::new();
    }
    changes.sort_unstable();
    let first = changes[0].0;
    let last = changes[changes.len() - 1].0;
    let steps = if last == first { 1 } else { HISTORY_POINTS };
    let span = (last - first) as f64;
    let mut exposed = vec![0u64; arms];
    let mut converted = vec![0u64; arms];
    let mut points = Vec::with_capacity(steps);
    let mut next = changes.iter().peekable();
    for step in 1..=steps {
        let at = if step == steps {
            last
        } else {
            first + (span * step as f64 / steps as f64) as i64
        };
        while let Some(&&(t, arm, conversion)) = next.peek() {
            if t > at {
                break;
            }
            if conversion {
                converted[arm] += 1;
            } else {
                exposed[arm] += 1;
            }
            next.next();
        }
        points.push(HistoryPoint {
            at_ms: at,
            exposed: exposed.clone(),
            converted: converted.clone(),
            rate: (0..arms)
                .map(|i| (exposed[i] > 0).then(|| converted[i] as f64 / exposed[i] as f64))
                .collect(),
            rate_ci: (0..arms)
                .map(|i| wilson_interval(converted[i].min(exposed[i]), exposed[i], 0.05))
                .collect(),
        });
    }
    points
}

#[allow(clippy::type_complexity)]
fn units_pair(
    metric: &'static str,
    pair: (Vec<ArmInput>, Vec<u64>),
) -> ((&'static str, Vec<ArmInput>), Vec<u64>) {
    ((metric, pair.0), pair.1)
}
