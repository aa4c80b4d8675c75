//! Offer experiments: from the event log and the purchases to an A/B verdict a teacher reads.
//!
//! **Attribution.** A conversion is a purchase of the offered course, by a viewer who was
//! exposed to the offer (the card was visible on their screen), made at or after the exposure
//! and within the window the instructor sets (7 days by default). The purchase names the viewer
//! by the reference code the checkout link carries (`<offer>.<variant>.<viewer>`, see
//! `lectern_room::offers`), so it arrives by CSV import, sales feed or "mark as bought" with its
//! `ref_code`. The variant counted is the one the viewer was exposed to.
//!
//! **Units.** Viewer-randomised experiments (text, price, discount) are analysed per viewer:
//! n = exposed viewers, conversions = converted viewers. Timing experiments are randomised per
//! session and analysed per session: each session is one unit whose value is its conversion
//! rate (exposed viewers who bought / exposed viewers), as a mean metric.
//!
//! Not yet: matching purchases by a consented email when the reference code is missing; a
//! revenue-per-viewer test beside the conversion test (revenue is reported, not tested); the
//! planner on this screen.

use std::collections::{BTreeMap, HashMap};

use lectern_insights::stats::{AbInput, AbOutput, ArmInput, Verdict, analyze_ab};
use lectern_room::{Event, Recorded};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ApiError, ErrorCode, Studio};

/// Days after an exposure in which a purchase counts, by default.
pub const DEFAULT_WINDOW_DAYS: u32 = 7;
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
    /// Relative lift against control with its anytime-valid interval (variants only).
    pub lift: Option<f64>,
    /// The sequential interval of the relative lift.
    pub lift_ci: Option<[f64; 2]>,
    /// Bayesian chance the variant beats control.
    pub chance_to_win: Option<f64>,
    /// `not_enough_data`, `sample_ratio_mismatch`, `variant_better`, `control_better`, `keep_going`.
    pub verdict: Option<String>,
    /// The verdict in words.
    pub summary: String,
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
    /// Control first.
    pub variants: Vec<VariantResult>,
    /// Sample-ratio-mismatch p-value (alert below 0.001), `null` before there is data.
    pub srm_p_value: Option<f64>,
    /// The full analysis (`lectern stats ab` output), for export.
    #[ts(type = "unknown")]
    pub analysis: Option<serde_json::Value>,
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
    /// Session -> its variant (timing experiments).
    session_variant: BTreeMap<i64, usize>,
    offers: Vec<String>,
}

/// `offer.variant.viewer` -> (offer, viewer).
fn parse_ref(code: &str) -> Option<(&str, &str)> {
    let (rest, viewer) = code.rsplit_once('.')?;
    let (offer, _variant) = rest.split_once('.')?;
    Some((offer, viewer))
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
        Verdict::NotEnoughData => {
            "not enough data yet for a verdict (5 buyers and 5 non-buyers per variant)"
        }
        Verdict::SampleRatioMismatch => {
            "traffic does not match the weights: check the setup before trusting this"
        }
        Verdict::VariantBetter => "the sequential test says it is better: you can stop",
        Verdict::ControlBetter => "the sequential test says it is worse: you can stop",
        Verdict::KeepGoing => "the sequential test says keep going",
    };
    [diff, chance, reading.to_owned()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

impl Studio {
    /// Results of an offer experiment across every class in which it ran.
    pub async fn offer_results(&self, args: OfferResultsArgs) -> Result<OfferResults, ApiError> {
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
                     WHERE kind IN ('offer_pushed', 'offer_exposed', 'offer_clicked') ORDER BY id",
                )?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
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
        // Purchases of the course that carry a reference code of one of these offers.
        let course = pushed.course_id.clone();
        let purchases: Vec<(String, i64, i64)> = store
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT ref_code, purchased_at_ms, amount_cents FROM purchases
                     WHERE course_id = ?1 AND ref_code IS NOT NULL",
                )?;
                let rows = stmt
                    .query_map([course], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        let window_ms = i64::from(window_days) * DAY_MS;
        let mut bought: HashMap<String, i64> = HashMap::new();
        for (code, at, amount) in purchases {
            let Some((offer, viewer)) = parse_ref(&code) else {
                continue;
            };
            if !offer_of.contains_key(offer) {
                continue;
            }
            let Some(exposure) = exposures.get(viewer) else {
                continue;
            };
            if at >= exposure.at_ms && at - exposure.at_ms <= window_ms {
                *bought.entry(viewer.to_owned()).or_default() += amount;
            }
        }

        let arms = pushed.names.len();
        let mut exposed = vec![0u64; arms];
        let mut clicked = vec![0u64; arms];
        let mut converted = vec![0u64; arms];
        let mut revenue = vec![0i64; arms];
        // Per session, per arm: (exposed, converted), for timing experiments.
        let mut per_session: BTreeMap<i64, (usize, u64, u64)> = BTreeMap::new();
        for (viewer, e) in &exposures {
            let arm = if pushed.timing {
                pushed
                    .session_variant
                    .get(&e.session)
                    .copied()
                    .unwrap_or(e.variant)
            } else {
                e.variant
            };
            exposed[arm] += 1;
            clicked[arm] += u64::from(e.clicked);
            let paid = bought.get(viewer).copied();
            converted[arm] += u64::from(paid.is_some());
            revenue[arm] += paid.unwrap_or(0);
            let s = per_session.entry(e.session).or_insert((arm, 0, 0));
            s.1 += 1;
            s.2 += u64::from(paid.is_some());
        }
        let sessions = pushed.offers.len() as u64;
        let (input, units) = if pushed.timing {
            let mut n = vec![0u64; arms];
            let mut sum = vec![0f64; arms];
            let mut squares = vec![0f64; arms];
            for (arm, seen, bought) in per_session.values() {
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
                })
                .collect();
            ("binomial", (arms_in, exposed.clone()))
        };
        let (arms_in, units) = units_pair(input, units);
        let analysis: Option<AbOutput> = analyze_ab(AbInput {
            metric: arms_in.0.to_owned(),
            alpha: 0.05,
            weights: Some(pushed.weights.clone()),
            sequential_tuning: 5000.0,
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
                let name = &pushed.names[i];
                let summary = match verdict {
                    Some(verdict) => summary(
                        name,
                        verdict,
                        relative.map(|r| r.estimate),
                        relative.map(|r| r.bayes.chance_to_win),
                        if pushed.timing {
                            None
                        } else {
                            absolute.map(|a| a.estimate)
                        },
                    ),
                    None if i == 0 => format!("{name} is the control"),
                    None => format!("{name}: nobody has seen it yet"),
                };
                VariantResult {
                    name: name.clone(),
                    weight: pushed.weights[i],
                    units: units[i],
                    exposed: exposed[i],
                    clicked: clicked[i],
                    converted: converted[i],
                    revenue_cents: revenue[i],
                    rate: arm.and_then(|a| a.mean),
                    rate_ci: arm.and_then(|a| a.wilson_ci).map(|c| [c[0], c[1]]),
                    lift: relative.map(|r| r.estimate),
                    lift_ci: relative.map(|r| r.sequential.ci),
                    chance_to_win: relative.map(|r| r.bayes.chance_to_win),
                    verdict: verdict.and_then(|v| {
                        serde_json::to_value(v)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                    }),
                    summary,
                }
            })
            .collect();
        Ok(OfferResults {
            experiment,
            course_id: pushed.course_id,
            unit: if pushed.timing { "session" } else { "viewer" }.to_owned(),
            sessions,
            window_days,
            variants,
            srm_p_value: analysis.as_ref().map(|a| a.srm_p_value),
            analysis: analysis.and_then(|a| serde_json::to_value(a).ok()),
        })
    }
}

#[allow(clippy::type_complexity)]
fn units_pair(
    metric: &'static str,
    pair: (Vec<ArmInput>, Vec<u64>),
) -> ((&'static str, Vec<ArmInput>), Vec<u64>) {
    ((metric, pair.0), pair.1)
}

#[cfg(test)]
mod tests {
    use super::parse_ref;

    #[test]
    fn a_reference_code_names_its_offer_and_viewer() {
        assert_eq!(
            parse_ref("spring.B.v-0123abcd"),
            Some(("spring", "v-0123abcd"))
        );
        assert_eq!(parse_ref("spring.Price 2.0.v-01"), Some(("spring", "v-01")));
        assert_eq!(parse_ref("nodots"), None);
    }
}
