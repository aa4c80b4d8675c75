//! An experiment's results broken down by segment: each variant's conversion among the viewers
//! of each segment, to describe who bought, never to pick a winner per segment.
//!
//! **Which segment.** A unit's viewer is mapped to their learner ([`crate::identity`]) and the
//! learner to their segment as it was on the day before the experiment's first exposure (for a
//! timing experiment, its first class): buying in the experiment must not move a viewer into
//! another segment, or the breakdown would read the outcome into the groups. The segments are
//! named as the Insights screen names them (the school's kept names; this look back does not
//! replace them). Viewers linked to no learner are a row of their own.
//!
//! **What is shown.** Per segment and variant: the units (exposed viewers; every attendee of a
//! timing experiment's classes), conversions, the rate and its 95% Wilson interval; a cell with
//! fewer than [`MIN_GROUP`] units is suppressed ("fewer than 5"), its counts not given. No
//! chance to win, verdict or lift per segment: with many segments some differ by chance alone
//! (multiple comparisons), and the warning says so with the number of comparisons.

use std::collections::BTreeMap;

use lectern_insights::audience::segments::Segmentation;
use lectern_insights::stats::wilson_interval;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audience::{
    DEFAULT_SEGMENTS, MIN_GROUP, Remember, day_label, school_audience, segment_school,
};
use crate::experiments::{OfferResults, OfferResultsArgs, UnitOutcome};
use crate::identity::Identities;
use crate::{ApiError, Studio};

/// The row of viewers linked to no learner of the school.
pub const NOT_LINKED: &str = "not linked to a learner";

/// One variant's numbers within one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SegmentCell {
    /// The variant's name.
    pub variant: String,
    /// True when fewer than [`MIN_GROUP`] units: nothing else is given.
    pub suppressed: bool,
    /// Units (viewers) of this segment in this variant.
    pub viewers: Option<u64>,
    /// Of those, who bought within the window.
    pub converted: Option<u64>,
    /// `converted / viewers`.
    pub rate: Option<f64>,
    /// Its 95% Wilson interval.
    pub rate_ci: Option<[f64; 2]>,
}

/// One segment's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SegmentRow {
    /// The segment's name, or [`NOT_LINKED`].
    pub segment: String,
    /// False for the row of viewers linked to no learner.
    pub linked: bool,
    /// One cell per variant, control first.
    pub cells: Vec<SegmentCell>,
}

/// An experiment's conversion per segment and variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentSegments {
    /// The experiment.
    pub experiment: String,
    /// `viewer`, or `session` for a timing experiment (its cells still count viewers: every
    /// attendee of the variant's classes).
    pub unit: String,
    /// The variants, control first.
    pub variants: Vec<String>,
    /// The day the segments are read as of (`2026-03-04`): the day before the first exposure.
    pub as_of: String,
    /// Segments largest first (as the Insights screen lists them), then [`NOT_LINKED`]; only
    /// those with at least one unit.
    pub rows: Vec<SegmentRow>,
    /// Rates shown: the comparisons a reader can make by eye.
    pub comparisons: u32,
    /// The multiple-comparisons warning, in words.
    pub warning: String,
}

/// Units per (row, variant): (viewers, converted).
type Tally = BTreeMap<(usize, usize), (u64, u64)>;

/// The breakdown of `results`' units by the segment of the learner each viewer is.
pub(crate) fn breakdown(
    results: &OfferResults,
    outcomes: &[UnitOutcome],
    segmentation: &Segmentation,
    identities: &Identities,
) -> ExperimentSegments {
    let variants: Vec<String> = results.variants.iter().map(|v| v.name.clone()).collect();
    let not_linked = segmentation.segments.len();
    let mut tally: Tally = BTreeMap::new();
    for o in outcomes {
        let row = identities
            .learner(&o.viewer)
            .and_then(|learner| {
                let name = &segmentation.segment_of(learner)?.name;
                segmentation.segments.iter().position(|s| &s.name == name)
            })
            .unwrap_or(not_linked);
        let cell = tally.entry((row, o.arm)).or_default();
        cell.0 += 1;
        cell.1 += u64::from(o.converted);
    }
    let names = segmentation
        .segments
        .iter()
        .map(|s| (s.name.as_str(), true))
        .chain(std::iter::once((NOT_LINKED, false)));
    let rows: Vec<SegmentRow> = names
        .enumerate()
        .filter(|(row, _)| tally.range((*row, 0)..=(*row, usize::MAX)).next().is_some())
        .map(|(row, (segment, linked))| SegmentRow {
            segment: segment.to_owned(),
            linked,
            cells: variants
                .iter()
                .enumerate()
                .map(|(arm, variant)| cell(variant, tally.get(&(row, arm)).copied()))
                .collect(),
        })
        .collect();
    let comparisons = rows
        .iter()
        .flat_map(|r| &r.cells)
        .filter(|c| !c.suppressed)
        .count() as u32;
    ExperimentSegments {
        experiment: results.experiment.clone(),
        unit: results.unit.clone(),
        variants,
        as_of: day_label(segmentation.today),
        warning: warning(rows.len(), results.variants.len(), comparisons),
        rows,
        comparisons,
    }
}

fn cell(variant: &str, counts: Option<(u64, u64)>) -> SegmentCell {
    let (viewers, converted) = counts.unwrap_or((0, 0));
    if viewers < u64::from(MIN_GROUP) {
        return SegmentCell {
            variant: variant.to_owned(),
            suppressed: true,
            viewers: None,
            converted: None,
            rate: None,
            rate_ci: None,
        };
    }
    SegmentCell {
        variant: variant.to_owned(),
        suppressed: false,
        viewers: Some(viewers),
        converted: Some(converted),
        rate: Some(converted as f64 / viewers as f64),
        rate_ci: wilson_interval(converted, viewers, 0.05),
    }
}

/// Why a segment's difference is not a finding: how many comparisons the table invites.
fn warning(rows: usize, variants: usize, shown: u32) -> String {
    format!(
        "{rows} {} × {variants} {} make {shown} {} to compare by eye. The more groups you look \
         at, the more differences appear by chance alone (multiple comparisons): these rates \
         describe who bought, they do not say which variant wins in a segment. Decide on the \
         whole experiment's result; to act on a segment, test it in an experiment of its own.",
        if rows == 1 { "group" } else { "groups" },
        if variants == 1 { "variant" } else { "variants" },
        if shown == 1 { "rate" } else { "rates" },
    )
}

impl Studio {
    /// An experiment's conversion per segment and variant (segments as of the day before its
    /// first exposure), cells under [`MIN_GROUP`] suppressed, with the multiple-comparisons
    /// warning.
    pub async fn experiment_segments(
        &self,
        args: OfferResultsArgs,
    ) -> Result<ExperimentSegments, ApiError> {
        let identities = self.identities().await?;
        let zone = self.time_zone().await?;
        let (results, outcomes) = self.offer_results_with(args, &identities, &zone).await?;
        let store = self.store().await?;
        let audience = school_audience(&store).await?;
        let today = outcomes.iter().map(|o| o.anchor_ms).min().map_or_else(
            || audience.default_today(),
            |first| zone.local_day(first) - 1,
        );
        let segmentation =
            segment_school(&store, &audience, today, DEFAULT_SEGMENTS, Remember::No).await?;
        Ok(breakdown(&results, &outcomes, &segmentation, &identities))
    }
}
