//! `lectern report repurchase|segments`: the school's audience from its file, computed by
//! `lectern_insights::audience` (definitions in docs/audience.md).
//!
//! The reading is the studio's: purchase days in the school's time zone (a date-only line keeps
//! its date), live viewers mapped to the learners they are in the shop, each class's engagement
//! recomputed from its log.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use lectern_engine::experiments::{DEFAULT_TIME_ZONE, TIME_ZONE_SETTING, Zone};
use lectern_insights::audience::cohorts::cohort_table;
use lectern_insights::audience::repurchase::repurchase_report;
use lectern_insights::audience::segments::{SegmentInput, SegmentOptions, segment};
use lectern_insights::audience::{Attendance, Learner, Purchase, day_of_ms};
use lectern_insights::engagement::recompute;
use lectern_insights::recs::CourseInfo;

/// The school as the audience cores take it.
struct Audience {
    courses: Vec<CourseInfo>,
    learners: Vec<Learner>,
    purchases: Vec<Purchase>,
    attendance: Vec<Attendance>,
    /// The last day with data: a purchase or a class (school-local).
    last_day: Option<i64>,
}

async fn load(db: &Path) -> Result<Audience> {
    let store = lectern_store::Store::open_existing(db)
        .with_context(|| format!("opening {}", db.display()))?;
    let zone_name = store
        .setting(TIME_ZONE_SETTING)
        .await
        .context("reading the time zone")?;
    let zone = Zone::named(zone_name.as_deref().unwrap_or(DEFAULT_TIME_ZONE))
        .map_err(|e| anyhow!("{} ({:?})", e.message, e.code))?;
    let rows = store
        .audience_rows()
        .await
        .context("reading learners and purchases")?;
    let catalog = store.catalog().await.context("reading the catalog")?;
    let spans = store
        .session_spans()
        .await
        .context("reading the sessions")?;
    let identities = lectern_engine::identity::identities_of(&store)
        .await
        .map_err(|e| anyhow!("{} ({:?})", e.message, e.code))?;

    let known: BTreeSet<&str> = rows.learners.iter().map(|l| l.id.as_str()).collect();
    // Per learner: (classes, total engagement score).
    let mut classes: BTreeMap<String, (u32, f64)> = BTreeMap::new();
    let mut last_class_day = None;
    for span in &spans {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = store
                .events_after(span.id, after, lectern_store::MAX_PAGE)
                .await
                .with_context(|| format!("reading class {}", span.id))?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for record in &page {
                // An event the engagement measures cannot read counts for nothing, as in the studio.
                if let Ok(Some(event)) = lectern_engine::activities::engagement_event_of_log(
                    &record.kind,
                    record.at_ms,
                    &record.payload,
                ) {
                    events.push(event);
                }
            }
        }
        let end = span
            .ended_at_ms
            .or_else(|| events.last().map(|e| e.at_ms))
            .unwrap_or(span.started_at_ms);
        last_class_day = last_class_day.max(Some(zone.local_day(end)));
        let snapshot = recompute(span.started_at_ms, &events, end);
        // One class per learner, even when they came as two viewers (two browsers).
        let mut seen: BTreeMap<&str, f64> = BTreeMap::new();
        for viewer in &snapshot.viewers {
            if viewer.joins == 0 && viewer.watch_ms == 0 {
                continue;
            }
            let learner = identities.resolve(&viewer.viewer);
            if known.contains(learner) {
                let best = seen.entry(learner).or_insert(0.0);
                *best = best.max(viewer.score.total);
            }
        }
        for (learner, score) in seen {
            let entry = classes.entry(learner.to_owned()).or_default();
            entry.0 += 1;
            entry.1 += score;
        }
    }
    store.close().await.context("closing the school")?;

    let purchases: Vec<Purchase> = rows
        .purchases
        .into_iter()
        .map(|p| Purchase {
            // A date alone is stored as that (school-local) date's 00:00 UTC.
            day: if p.date_only {
                day_of_ms(p.purchased_at_ms)
            } else {
                zone.local_day(p.purchased_at_ms)
            },
            learner: p.learner_id,
            course: p.course_id,
            order: p.order_id,
            amount_cents: p.amount_cents,
        })
        .collect();
    let last_day = purchases.iter().map(|p| p.day).max().max(last_class_day);
    Ok(Audience {
        courses: catalog
            .into_iter()
            .map(|c| CourseInfo {
                id: c.id,
                title: c.title,
                tags: c.tags,
            })
            .collect(),
        learners: rows
            .learners
            .into_iter()
            .map(|l| Learner {
                joined_day: zone.local_day(l.joined_at_ms),
                id: l.id,
            })
            .collect(),
        purchases,
        attendance: classes
            .into_iter()
            .map(|(learner, (classes, total))| Attendance {
                learner,
                classes,
                engagement: total / f64::from(classes.max(1)),
            })
            .collect(),
        last_day,
    })
}

/// `lectern report repurchase`: the rates, their denominators, attendees against the others,
/// the cohort table as CSV, and with `courses` the per-course rates as CSV.
pub(crate) async fn repurchase(db: &Path, courses: bool) -> Result<()> {
    let audience = load(db).await?;
    let report = repurchase_report(&audience.purchases, &audience.attendance);
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
/// a purchase or a class).
pub(crate) async fn segments(db: &Path, today: Option<i64>, k: usize) -> Result<()> {
    let audience = load(db).await?;
    let Some(today) = today.or(audience.last_day) else {
        // No purchases and no classes: the learners' own join days say when the data end.
        let today = audience.learners.iter().map(|l| l.joined_day).max();
        return print_segments(&audience, today.unwrap_or(0), k);
    };
    print_segments(&audience, today, k)
}

fn print_segments(audience: &Audience, today: i64, k: usize) -> Result<()> {
    let options = SegmentOptions {
        k,
        ..SegmentOptions::default()
    };
    let segmentation = segment(&SegmentInput {
        courses: &audience.courses,
        learners: &audience.learners,
        purchases: &audience.purchases,
        attendance: &audience.attendance,
        today,
        previous: &[],
        options: &options,
    });
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

/// `2026-03-04` for a day number.
fn day_label(day: i64) -> String {
    lectern_store::format_utc(day * 86_400_000)
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}
