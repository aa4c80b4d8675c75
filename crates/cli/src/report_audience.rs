//! `lectern report repurchase|segments`: the school's audience from its file, computed by
//! `lectern_insights::audience` (definitions in docs/audience.md).
//!
//! The school is read by `lectern_engine::audience`, as the studio reads it: purchase days in
//! the school's time zone (a date-only line keeps its date), live viewers mapped to the learners
//! they are in the shop, each class's engagement recomputed from its log.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use lectern_engine::audience::{
    Remember, SchoolAudience, day_label, school_audience, segment_school,
};
use lectern_insights::audience::cohorts::cohort_table;
use lectern_insights::audience::repurchase::repurchase_report;

/// The school's audience, read by the engine as the studio reads it.
async fn load(db: &Path) -> Result<(lectern_store::Store, SchoolAudience)> {
    let store = lectern_store::Store::open_existing(db)
        .with_context(|| format!("opening {}", db.display()))?;
    let audience = school_audience(&store)
        .await
        .map_err(|e| anyhow!("reading the school's audience: {e}"))?;
    Ok((store, audience))
}

/// `lectern report repurchase`: the rates, their denominators, attendees against the others,
/// the cohort table as CSV, and with `courses` the per-course rates as CSV.
pub(crate) async fn repurchase(db: &Path, courses: bool) -> Result<()> {
    let (store, audience) = load(db).await?;
    store.close().await.context("closing the school")?;
    let report = repurchase_report(&audience.purchases, &audience.attendance(None));
    let [r30, r90, r180] = [0, 1, 2].map(|i| report.overall[i]);
    println!(
        "repurchase_30d={} repurchase_90d={} repurchase_180d={} learners={}",
        r30.shown(),
        r90.shown(),
        r180.shown(),
        report.buyers
    );
    println!(
        "eligible_30d={} eligible_90d={} eligible_180d={} last_purchase={}",
        r30.eligible,
        r90.eligible,
        r180.eligible,
        report.last_day.map_or_else(|| "none".to_owned(), day_label)
    );
    let a = &report.attendance;
    println!(
        "attended_repurchase_90d={} attended_eligible={} never_attended_repurchase_90d={} \
         never_attended_eligible={} difference={} difference_95ci={} (observed, not causal)",
        a.attended.shown(),
        a.attended.eligible,
        a.never_attended.shown(),
        a.never_attended.eligible,
        a.difference
            .map_or_else(|| "NA".to_owned(), |d| format!("{d:+.4}")),
        a.difference_interval
            .map_or_else(|| "NA".to_owned(), |[l, h]| format!("[{l:+.4},{h:+.4}]")),
    );
    eprintln!("note: {}", a.caveat);
    print!("{}", cohort_table(&audience.purchases).to_csv());
    if courses {
        println!();
        println!("course,buyers,repurchase_30d,repurchase_90d,repurchase_180d,eligible_90d");
        for c in &report.per_course {
            println!(
                "{},{},{},{},{},{}",
                c.course,
                c.buyers,
                c.rates[0].shown(),
                c.rates[1].shown(),
                c.rates[2].shown(),
                c.rates[1].eligible
            );
        }
    }
    Ok(())
}

/// `lectern report segments`: one line per segment, as of `today` (default: the last day with
/// a purchase or a class). The names are the studio's: kept from the school's last
/// segmentation, and this one kept for the next (docs/audience.md, "Stable names").
pub(crate) async fn segments(db: &Path, today: Option<i64>, k: usize) -> Result<()> {
    let (store, audience) = load(db).await?;
    let today = today.unwrap_or_else(|| audience.default_today());
    let segmentation = segment_school(&store, &audience, today, k, Remember::Yes)
        .await
        .map_err(|e| anyhow!("segmenting the school: {e}"));
    store.close().await.context("closing the school")?;
    let segmentation = segmentation?;
    for s in &segmentation.segments {
        let typical: Vec<&str> = s
            .typical_courses
            .iter()
            .map(|c| c.course.as_str())
            .collect();
        let interests: Vec<&str> = s.interests.iter().map(|(t, _)| t.as_str()).collect();
        println!(
            "segment={:?} size={} buyers={} repurchase_90d={} conversion={:.4} attended={:.4} \
             typical={:?} interests={:?}",
            s.name,
            s.size,
            s.buyers,
            s.repurchase_90d.shown(),
            s.conversion,
            s.traits.attended_share,
            typical.join(";"),
            interests.join(";"),
        );
    }
    eprintln!(
        "({} learners in {} segments, as of {})",
        segmentation.learners(),
        segmentation.segments.len(),
        day_label(today)
    );
    Ok(())
}
