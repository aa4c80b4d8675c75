//! Engagement in the studio: the live panel's numbers during class, kept up to date event by
//! event (never a rescan), and the same numbers after class recomputed from the log, plus the
//! class report written to the data folder (its charts drawn by `lectern-charts`).
//!
//! The measures themselves (score, per-minute series, retention, alerts) are
//! `lectern_insights::engagement`; their live state and the recomputation agree exactly.

use std::sync::{Arc, Mutex};

use lectern_insights::engagement::{
    ClassSummary, CourseTrend, EngagementSnapshot, LiveEngagement, ReportMeta, course_trend,
    recompute,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::activities::{engagement_event, engagement_event_of_log};
use crate::api::NoArgs;
use crate::live::LiveRoom;
use crate::studio::now_ms;
use crate::{ApiError, ErrorCode, Studio};

/// A class's engagement state shared by the feeder task and the commands.
pub(crate) type SharedEngagement = Arc<Mutex<LiveEngagement>>;

/// Start counting a live room's events into a fresh engagement state.
pub(crate) fn follow(room: &LiveRoom, started_at_ms: i64) -> SharedEngagement {
    let state = Arc::new(Mutex::new(LiveEngagement::new(started_at_ms)));
    let mut deliveries = room.subscribe();
    let weak = Arc::downgrade(&state);
    let room = room.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = room.ended() => break,
                delivery = deliveries.recv() => match delivery {
                    Ok(delivery) => {
                        let Some(state) = weak.upgrade() else { break };
                        let at = i64::try_from(delivery.record.at.0).unwrap_or(i64::MAX);
                        if let Some(event) = engagement_event(at, &delivery.record)
                            && let Ok(mut live) = state.lock()
                        {
                            live.push(&event);
                        }
                    }
                    // Fell behind the room: the numbers are recomputed from the log after class.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "the live engagement panel fell behind the room");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
    state
}

/// Most classes of a course compared (the latest ones).
pub const MAX_TREND_CLASSES: i64 = 30;

/// A course's classes compared, as the session page shows them.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CourseTrendView {
    /// The course's title (`null` for a class taught for no course).
    pub course_title: Option<String>,
    /// The class the page is about.
    #[ts(type = "number")]
    pub session_id: i64,
    /// `lectern_insights::engagement::CourseTrend` (snake_case fields), oldest class first;
    /// `null` for a class taught for no course.
    #[ts(type = "unknown")]
    pub trend: Option<serde_json::Value>,
    /// Who taught the class, when the school said.
    pub instructor: Option<String>,
    /// The same comparison over the classes this instructor taught (every course); its
    /// `course_id` field holds the instructor's name. `null` without an instructor.
    #[ts(type = "unknown")]
    pub instructor_trend: Option<serde_json::Value>,
}

/// Which class.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionRef {
    /// The live session's id.
    pub session_id: i64,
}

/// Where a class report was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReportFiles {
    /// The folder.
    pub folder: String,
    /// `report.html` (self-contained, prints to PDF).
    pub html: String,
    /// `viewers.csv`, `minutes.csv`, `polls.csv`.
    pub csv: Vec<String>,
    /// Each chart that may be shown as a PNG to share (`audience.png`, `activity.png`,
    /// `trend.png`), and `summary.png`: the headline numbers and the retention chart.
    pub images: Vec<String>,
}

/// A class's report with its charts drawn, and the summary picture. Drawing is CPU work (an
/// egui frame and a software rasterizer per chart), so it runs on a blocking thread.
async fn draw(
    inputs: ClassReportInputs,
) -> Result<
    (
        lectern_insights::engagement::ClassReport,
        lectern_insights::engagement::ReportCharts,
        Option<Vec<u8>>,
    ),
    ApiError,
> {
    tokio::task::spawn_blocking(move || {
        let charts = lectern_charts::report_charts(&inputs.snapshot, inputs.trend.as_ref())?;
        let summary = lectern_charts::summary_png(&inputs.meta, &inputs.snapshot)?;
        let report =
            lectern_insights::engagement::class_report(&inputs.meta, &inputs.snapshot, &charts);
        Ok::<_, lectern_charts::ChartError>((report, charts, summary))
    })
    .await
    .map_err(|_| ApiError::internal("drawing the report's charts was cancelled"))?
    .map_err(|e| ApiError::internal(format!("drawing the report's charts: {e}")))
}

/// One chart as a picture (PNG, 2 pixels per point).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReportImage {
    /// `summary`, `audience`, `activity` or `trend` (the file name it is saved under).
    pub name: String,
    /// What it shows, in words.
    pub alt: String,
    /// `data:image/png;base64,...`
    pub data_url: String,
}

/// A class's charts as pictures.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReportImages {
    /// The summary first, then each chart that may be shown.
    pub images: Vec<ReportImage>,
}

/// An engagement snapshot for the UI (the shape of `lectern_insights::engagement::EngagementSnapshot`).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct Engagement(#[ts(type = "unknown")] pub serde_json::Value);

impl Studio {
    /// The live class's engagement now (from the incremental state).
    pub async fn live_engagement(&self, _args: NoArgs) -> Result<Engagement, ApiError> {
        let state = self
            .live_engagement_state()
            .await
            .ok_or_else(|| ApiError::new(ErrorCode::Conflict, "no class is live"))?;
        let snapshot = state
            .lock()
            .map_err(|_| ApiError::internal("the engagement state was poisoned"))?
            .snapshot(now_ms());
        to_json(&snapshot)
    }

    /// How this class compares with the other classes of its course, and with the other classes
    /// of its instructor: each ended class's summary (recomputed from its log), the mean and
    /// whether engagement rises or falls. Classes under five viewers are counted but not shown.
    /// A class taught for no course of the catalog has no course trend, one without a named
    /// instructor no instructor trend; `not_found` for an unknown class.
    pub async fn course_trend(&self, args: SessionRef) -> Result<CourseTrendView, ApiError> {
        let store = self.store().await?;
        let id = args.session_id;
        type Row = (Option<String>, Option<String>, Option<String>);
        let class: Option<Row> = store
            .read(move |conn| {
                use lectern_store::rusqlite::OptionalExtension;
                Ok(conn
                    .query_row(
                        "SELECT s.course_id, c.title, s.instructor FROM live_sessions s
                         LEFT JOIN courses c ON c.id = s.course_id WHERE s.id = ?1",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?)
            })
            .await?;
        let Some((course_id, course_title, instructor)) = class else {
            return Err(ApiError::new(ErrorCode::NotFound, format!("no class {id}")));
        };
        let trend = match &course_id {
            Some(course) => Some(self.trend_of("course_id", course).await?),
            None => None,
        };
        let instructor_trend = match &instructor {
            Some(name) => Some(self.trend_of("instructor", name).await?),
            None => None,
        };
        Ok(CourseTrendView {
            course_title: course_id.map(|c| course_title.unwrap_or(c)),
            session_id: id,
            trend,
            instructor,
            instructor_trend,
        })
    }

    /// The latest ended classes whose `column` (`course_id` or `instructor`) is `value`,
    /// compared.
    async fn trend_of(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<serde_json::Value, ApiError> {
        serde_json::to_value(self.trend_data(column, value).await?)
            .map_err(|e| ApiError::internal(format!("encoding the trend: {e}")))
    }

    async fn trend_data(&self, column: &'static str, value: &str) -> Result<CourseTrend, ApiError> {
        let store = self.store().await?;
        let wanted = value.to_owned();
        // `column` is one of two names written here, never input.
        let sql = format!(
            "SELECT id FROM live_sessions WHERE {column} = ?1 AND ended_at_ms IS NOT NULL
             ORDER BY started_at_ms DESC, id DESC LIMIT ?2"
        );
        let sessions: Vec<i64> = store
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt
                    .query_map(
                        lectern_store::rusqlite::params![wanted, MAX_TREND_CLASSES],
                        |r| r.get(0),
                    )?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        let mut classes = Vec::with_capacity(sessions.len());
        for session in sessions {
            let (snapshot, title) = self.recompute_session(session).await?;
            classes.push(ClassSummary::from_snapshot(session, &title, &snapshot));
        }
        Ok(course_trend(value, &classes))
    }

    /// A class's engagement recomputed from its log (the session page after class).
    pub async fn session_engagement(&self, args: SessionRef) -> Result<Engagement, ApiError> {
        let (snapshot, _) = self.recompute_session(args.session_id).await?;
        to_json(&snapshot)
    }

    /// What a class's report is made of: its title and school, its engagement recomputed from
    /// the log, and its course's trend when it was taught for a course of the catalog. For hosts
    /// that write the report themselves (`lectern report class`); `not_found` for an unknown class.
    pub async fn class_report_inputs(
        &self,
        args: SessionRef,
    ) -> Result<ClassReportInputs, ApiError> {
        let (snapshot, title) = self.recompute_session(args.session_id).await?;
        let store = self.store().await?;
        let school = store.school().await?.name;
        let id = args.session_id;
        let course: Option<(String, Option<String>)> = store
            .read(move |conn| {
                use lectern_store::rusqlite::OptionalExtension;
                Ok(conn
                    .query_row(
                        "SELECT s.course_id, c.title FROM live_sessions s
                         LEFT JOIN courses c ON c.id = s.course_id
                         WHERE s.id = ?1 AND s.course_id IS NOT NULL",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?)
            })
            .await?;
        let trend = match &course {
            Some((course_id, _)) => Some(self.trend_data("course_id", course_id).await?),
            None => None,
        };
        Ok(ClassReportInputs {
            meta: ReportMeta {
                title,
                course: course.map(|(id, title)| title.unwrap_or(id)),
                school,
                generated_at_ms: now_ms(),
                replay: self.replay_report(args.session_id).await?,
            },
            snapshot,
            trend,
        })
    }

    /// Write a class's report into `<data folder>/reports/class-<id>/`: `report.html` with its
    /// charts, the CSVs, each chart as a PNG to share, and `summary.png` (the headline numbers
    /// and the retention chart, ready to paste into the school's chat).
    pub async fn class_report(&self, args: SessionRef) -> Result<ReportFiles, ApiError> {
        let folder = self
            .data_dir()
            .join("reports")
            .join(format!("class-{}", args.session_id));
        self.write_class_report(args, &folder).await
    }

    /// A class's charts as pictures to save or paste: the summary (headline numbers and
    /// retention) first, then each chart that may be shown (none under five viewers).
    pub async fn report_images(&self, args: SessionRef) -> Result<ReportImages, ApiError> {
        let (_, charts, summary) = draw(self.class_report_inputs(args).await?).await?;
        let images = [
            (
                "summary",
                "The class in numbers, with its retention",
                summary,
            ),
            (
                "audience",
                "Viewers present at the end of each minute",
                charts.audience,
            ),
            (
                "activity",
                "Chat, questions and ballots per minute",
                charts.activity,
            ),
            (
                "trend",
                "The course's classes: median score of each",
                charts.trend,
            ),
        ]
        .into_iter()
        .filter_map(|(name, alt, png)| {
            png.map(|png| ReportImage {
                name: name.to_owned(),
                alt: alt.to_owned(),
                data_url: lectern_insights::engagement::png_data_url(&png),
            })
        })
        .collect();
        Ok(ReportImages { images })
    }

    /// Write a class's report into `folder` (created if missing), each file whole or absent.
    /// A chart that may not be shown (fewer than five viewers; a course with fewer than two
    /// classes to show) is not written.
    pub async fn write_class_report(
        &self,
        args: SessionRef,
        folder: &std::path::Path,
    ) -> Result<ReportFiles, ApiError> {
        let (report, charts, summary) = draw(self.class_report_inputs(args).await?).await?;
        let mut files: Vec<(&'static str, Vec<u8>)> = vec![
            ("report.html", report.html.into_bytes()),
            ("viewers.csv", report.viewers_csv.into_bytes()),
            ("minutes.csv", report.minutes_csv.into_bytes()),
            ("polls.csv", report.polls_csv.into_bytes()),
        ];
        let images = [
            ("audience.png", charts.audience),
            ("activity.png", charts.activity),
            ("trend.png", charts.trend),
            ("summary.png", summary),
        ];
        let mut image_names = vec![];
        for (name, png) in images {
            if let Some(png) = png {
                image_names.push(name);
                files.push((name, png));
            }
        }
        let written = folder.to_owned();
        tokio::task::spawn_blocking(move || write_whole_folder(&written, files))
            .await
            .map_err(|_| ApiError::internal("writing the report was cancelled"))?
            .map_err(|e| crate::studio::io_error("writing the report to", folder, e))?;
        let path = |name: &str| folder.join(name).display().to_string();
        Ok(ReportFiles {
            folder: folder.display().to_string(),
            html: path("report.html"),
            csv: vec![path("viewers.csv"), path("minutes.csv"), path("polls.csv")],
            images: image_names.into_iter().map(path).collect(),
        })
    }

    async fn recompute_session(
        &self,
        session_id: i64,
    ) -> Result<(EngagementSnapshot, String), ApiError> {
        let store = self.store().await?;
        let session: Option<(i64, Option<i64>, String)> = store
            .read(move |conn| {
                use lectern_store::rusqlite::OptionalExtension;
                Ok(conn
                    .query_row(
                        "SELECT started_at_ms, ended_at_ms, title FROM live_sessions WHERE id = ?1",
                        [session_id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?)
            })
            .await?;
        let Some((started, ended, title)) = session else {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no class {session_id}"),
            ));
        };
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = store
                .events_after(session_id, after, lectern_store::MAX_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for record in &page {
                if let Ok(Some(event)) =
                    engagement_event_of_log(&record.kind, record.at_ms, &record.payload)
                {
                    events.push(event);
                }
            }
        }
        let now = ended.unwrap_or_else(now_ms);
        Ok((recompute(started, &events, now), title))
    }
}

/// What a class's report is made of (see [`Studio::class_report_inputs`]).
#[derive(Debug, Clone)]
pub struct ClassReportInputs {
    /// Title, course, school, and when the report is made.
    pub meta: ReportMeta,
    /// The class's engagement, recomputed from its log.
    pub snapshot: EngagementSnapshot,
    /// The course's classes compared, when the class was taught for a course of the catalog.
    pub trend: Option<CourseTrend>,
}

fn to_json(snapshot: &EngagementSnapshot) -> Result<Engagement, ApiError> {
    serde_json::to_value(snapshot)
        .map(Engagement)
        .map_err(|e| ApiError::internal(format!("encoding engagement: {e}")))
}

/// Write `files` as the folder `folder`, whole or not at all: they go into a new folder beside
/// it, which then takes its place (a report written before is replaced only once the new one is
/// complete). On failure (a full disk) nothing new is left behind and the old folder stays.
fn write_whole_folder(
    folder: &std::path::Path,
    files: Vec<(&str, Vec<u8>)>,
) -> std::io::Result<()> {
    let parent = folder
        .parent()
        .ok_or_else(|| std::io::Error::other("a report folder needs a parent folder"))?;
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::create_dir_all(parent)?;
    let fresh = parent.join(format!(".{name}.new"));
    let stale = parent.join(format!(".{name}.old"));
    let _ = std::fs::remove_dir_all(&fresh);
    let written = (|| {
        std::fs::create_dir(&fresh)?;
        for (file, bytes) in &files {
            std::fs::write(fresh.join(file), bytes)?;
        }
        Ok(())
    })();
    if let Err(err) = written {
        let _ = std::fs::remove_dir_all(&fresh);
        return Err(err);
    }
    let _ = std::fs::remove_dir_all(&stale);
    let had_one = folder.exists();
    if had_one {
        std::fs::rename(folder, &stale)?;
    }
    if let Err(err) = std::fs::rename(&fresh, folder) {
        if had_one {
            let _ = std::fs::rename(&stale, folder);
        }
        let _ = std::fs::remove_dir_all(&fresh);
        return Err(err);
    }
    let _ = std::fs::remove_dir_all(&stale);
    Ok(())
}
