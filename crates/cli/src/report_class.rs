//! `lectern report class --db PATH --session N --out DIR`: a class's report without the studio
//! window: `report.html` (its charts embedded), `viewers.csv`, `minutes.csv`, `polls.csv`, and
//! each chart as its own PNG (`audience.png`, `activity.png`, `trend.png`, `summary.png`), drawn
//! by `lectern-charts`. A chart that may not be shown (fewer than five viewers, a course with
//! fewer than two classes to show) is not written.

use std::path::Path;

use anyhow::{Context, Result, bail};
use lectern_engine::engagement::SessionRef;
use lectern_engine::{SchoolSource, Studio, StudioOptions};

/// Writes the report of class `session` of the school file `db` into `out`.
pub async fn report_class(db: &Path, session: i64, out: &Path) -> Result<()> {
    if !db.is_file() {
        bail!("no school file at {}", db.display());
    }
    // A throwaway data folder: the report goes to `out`, nothing else is written.
    let data = tempfile::tempdir().context("making a temporary data folder")?;
    let studio = Studio::open(StudioOptions::new(
        data.path(),
        SchoolSource::Path(db.to_owned()),
    ))
    .await
    .with_context(|| format!("opening {}", db.display()))?;
    let inputs = studio
        .class_report_inputs(SessionRef {
            session_id: session,
        })
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.code.as_str(), e.message))
        .with_context(|| format!("reading class {session}"))?;
    studio
        .close()
        .await
        .map_err(|e| anyhow::anyhow!("closing the school: {}", e.message))?;

    let charts = lectern_charts::report_charts(&inputs.snapshot, inputs.trend.as_ref())
        .context("drawing the charts")?;
    let summary = lectern_charts::summary_png(&inputs.meta, &inputs.snapshot)
        .context("drawing the summary")?;
    let report =
        lectern_insights::engagement::class_report(&inputs.meta, &inputs.snapshot, &charts);

    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("report.html", report.html.into_bytes()),
        ("viewers.csv", report.viewers_csv.into_bytes()),
        ("minutes.csv", report.minutes_csv.into_bytes()),
        ("polls.csv", report.polls_csv.into_bytes()),
    ];
    for (name, png) in [
        ("audience.png", charts.audience),
        ("activity.png", charts.activity),
        ("trend.png", charts.trend),
        ("summary.png", summary),
    ] {
        if let Some(png) = png {
            files.push((name, png));
        }
    }
    for (name, bytes) in &files {
        let path = out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
