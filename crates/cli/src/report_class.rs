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
    let files = studio
        .write_class_report(
            SessionRef {
                session_id: session,
            },
            out,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.code.as_str(), e.message))
        .with_context(|| format!("reporting class {session}"))?;
    studio
        .close()
        .await
        .map_err(|e| anyhow::anyhow!("closing the school: {}", e.message))?;
    for path in std::iter::once(&files.html)
        .chain(&files.csv)
        .chain(&files.images)
    {
        println!("{path}");
    }
    Ok(())
}
