//! The class report's charts, drawn with `egui_plot` and rasterized to PNG without a window.
//!
//! Live charts in the studio window stay uPlot (egui cannot draw inside the Tauri webview);
//! this crate draws where no webview exists: the HTML class report, the files
//! `lectern report class` writes, and images an instructor shares. Each chart is one egui frame
//! run headless (`egui::Context::run` on a fixed screen size at 2 pixels per point),
//! tessellated by epaint, and painted by this crate's own software rasterizer (`raster.rs`:
//! textured, vertex-coloured triangles with the font atlas, premultiplied blending, clip
//! rectangles). No GPU, no display, no system font: the text is egui's bundled fonts.
//!
//! Privacy follows the report: no chart at all under [`MIN_GROUP`] viewers, and minutes with
//! fewer than [`MIN_GROUP`] viewers are left out of every series (a line breaks there, a bar is
//! missing), exactly as the HTML report and the minutes CSV leave them out.
//!
//! Not for: charts in the studio window (uPlot, `ui/src/lib/charts/`), and not a general plotting
//! library: the charts, their colours (the studio's light theme, `ui/src/lib/ui/base.css`) and
//! their sizes are fixed here.
//!
//! ```
//! use lectern_insights::engagement::{EngagementSnapshot, ReportMeta, recompute};
//!
//! let start = 1_700_000_000_000;
//! let snapshot: EngagementSnapshot = recompute(start, &[], start + 60_000);
//! // No viewers: nothing may be shown, so no chart is drawn.
//! assert!(lectern_charts::audience_chart(&snapshot)?.is_none());
//! let charts = lectern_charts::report_charts(&snapshot, None)?;
//! assert!(charts.audience.is_none() && charts.activity.is_none());
//! # Ok::<(), lectern_charts::ChartError>(())
//! ```
//!
//! # Layout
//! - `charts.rs`: the charts (audience, retention, activity, course trend, experiment rates),
//!   the summary image, and the report's set of charts.
//! - `frame.rs`: one egui frame run headless, tessellated and painted to PNG.
//! - `raster.rs`: the software rasterizer.
#![deny(missing_docs)]

mod charts;
mod frame;
mod raster;

pub use charts::{
    ChartImage, ExperimentRate, PixelRect, activity_chart, audience_chart, class_report,
    experiment_chart, report_charts, retention_chart, summary_png, trend_chart,
};
pub use frame::PIXELS_PER_POINT;
pub use lectern_insights::engagement::{MIN_GROUP, ReportCharts};

/// Why a chart could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChartError {
    /// The PNG encoder failed.
    #[error("encoding the chart as PNG: {0}")]
    Encode(String),
    /// egui drew no plot (it should always draw one; this guards the frame's shape).
    #[error("the chart's frame drew no plot")]
    NoPlot,
}
