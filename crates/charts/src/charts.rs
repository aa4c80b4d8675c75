//! The charts themselves: what each one plots, with which bounds, labels and colours.

use std::ops::RangeInclusive;

use egui::{Color32, RichText, Vec2};
use egui_plot::{
    AxisHints, Bar, BarChart, GridInput, GridMark, Line, LineStyle, MarkerShape, Plot, PlotBounds,
    PlotPoints, PlotUi, Points,
};
use lectern_insights::engagement::{
    ClassReport, CourseTrend, EngagementSnapshot, MIN_GROUP, MINUTE_MS, MinuteEngagement,
    ReportCharts, ReportMeta,
};

use crate::ChartError;
use crate::frame::{PIXELS_PER_POINT, Renderer};

// The studio's light theme (`ui/src/lib/ui/base.css`), as the live uPlot charts use it.
/// `--accent`: the main series.
pub(crate) const ACCENT: Color32 = Color32::from_rgb(0x43, 0x53, 0xc9);
/// `--ok`: activity bars.
pub(crate) const OK: Color32 = Color32::from_rgb(0x1b, 0x7a, 0x51);
/// `--live`: drop-offs.
pub(crate) const LIVE: Color32 = Color32::from_rgb(0xd2, 0x35, 0x3a);
/// `--muted`: the secondary series.
pub(crate) const MUTED: Color32 = Color32::from_rgb(0x6b, 0x6d, 0x76);
/// `--text`: titles and numbers.
pub(crate) const TEXT: Color32 = Color32::from_rgb(0x1b, 0x1c, 0x20);
/// `--text-2`: axes and labels.
pub(crate) const TEXT_2: Color32 = Color32::from_rgb(0x43, 0x45, 0x4d);
/// `--border`: frames.
pub(crate) const BORDER: Color32 = Color32::from_rgb(0xe4, 0xe4, 0xde);
/// `--surface`: the background.
pub(crate) const SURFACE: Color32 = Color32::WHITE;

/// One chart's size in points (1440 x 520 pixels at 2x): the report's width.
const CHART_SIZE: Vec2 = Vec2::new(720.0, 260.0);
/// The summary image's size in points (1440 x 880 pixels).
const SUMMARY_SIZE: Vec2 = Vec2::new(720.0, 440.0);

/// The light look every image shares.
pub(crate) fn visuals() -> egui::Visuals {
    let mut v = egui::Visuals::light();
    v.panel_fill = SURFACE;
    v.window_fill = SURFACE;
    v.extreme_bg_color = SURFACE;
    v.override_text_color = Some(TEXT_2);
    v.widgets.noninteractive.bg_stroke.color = BORDER;
    v.widgets.noninteractive.fg_stroke.color = TEXT_2;
    v
}

/// A rectangle in pixels of the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelRect {
    /// Left edge.
    pub min_x: f32,
    /// Top edge.
    pub min_y: f32,
    /// Right edge.
    pub max_x: f32,
    /// Bottom edge.
    pub max_y: f32,
}

/// A chart as a PNG, with where its data area sits in it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartImage {
    /// The PNG file's bytes (8-bit RGB, sRGB, 144 dpi).
    pub png: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The plot's data area in pixels: `x_range` spans it left to right, `y_range` bottom to top.
    pub plot_area: PixelRect,
    /// The x axis's bounds (data units).
    pub x_range: [f64; 2],
    /// The y axis's bounds (data units).
    pub y_range: [f64; 2],
}

impl ChartImage {
    /// Where the data point `(x, y)` is drawn, in pixels of the image.
    pub fn pixel_of(&self, x: f64, y: f64) -> (f32, f32) {
        let a = self.plot_area;
        let fx = (x - self.x_range[0]) / (self.x_range[1] - self.x_range[0]);
        let fy = (y - self.y_range[0]) / (self.y_range[1] - self.y_range[0]);
        (
            a.min_x + (a.max_x - a.min_x) * fx as f32,
            a.max_y - (a.max_y - a.min_y) * fy as f32,
        )
    }
}

/// One variant of an experiment: its conversion rate and interval, in percent.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRate {
    /// The variant's name ("A", "B: 20% off").
    pub name: String,
    /// Conversion rate (%).
    pub rate_pct: f64,
    /// Low end of its interval (%).
    pub low_pct: f64,
    /// High end of its interval (%).
    pub high_pct: f64,
}

/// How the x axis's ticks read.
enum XTicks<'a> {
    /// Whole numbers only.
    Integers,
    /// Whole numbers from 1 (classes counted from one, at x = 0, 1, ...).
    Ordinals,
    /// A name at each whole number.
    Names(&'a [String]),
}

/// One plot: its title, axes and fixed bounds.
struct Spec<'a> {
    id: &'static str,
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    x_range: [f64; 2],
    y_range: [f64; 2],
    x_ticks: XTicks<'a>,
    /// The series, named beside the title.
    key: &'a [(&'a str, Mark)],
}

/// How a series is drawn, for the key.
#[derive(Clone, Copy)]
enum Mark {
    Line(Color32),
    Dashed(Color32),
    Dot(Color32),
    Bar(Color32),
}

/// The key: a small sample of each series and its name, in a row.
fn key(ui: &mut egui::Ui, entries: &[(&str, Mark)]) {
    for (label, mark) in entries {
        let (rect, _) = ui.allocate_exact_size(Vec2::new(22.0, 12.0), egui::Sense::hover());
        let painter = ui.painter();
        let (l, r) = (rect.left_center(), rect.right_center());
        match *mark {
            Mark::Line(c) => {
                painter.line_segment([l, r], egui::Stroke::new(2.5, c));
            }
            Mark::Dashed(c) => {
                painter.extend(egui::Shape::dashed_line(
                    &[l, r],
                    egui::Stroke::new(1.5, c),
                    4.0,
                    3.0,
                ));
            }
            Mark::Dot(c) => {
                painter.circle_filled(rect.center(), 4.0, c);
            }
            Mark::Bar(c) => {
                painter.rect_filled(
                    egui::Rect::from_center_size(rect.center(), Vec2::new(8.0, 12.0)),
                    1.0,
                    c,
                );
            }
        }
        ui.label(RichText::new(*label).size(12.0).color(TEXT_2));
        ui.add_space(8.0);
    }
}

fn tick_text(ticks: &XTicks<'_>, mark: &GridMark) -> String {
    let v = mark.value;
    if (v - v.round()).abs() > 1e-9 {
        return String::new();
    }
    match ticks {
        XTicks::Integers => format!("{v:.0}"),
        XTicks::Ordinals => format!("{:.0}", v + 1.0),
        XTicks::Names(names) => usize::try_from(v.round() as i64)
            .ok()
            .and_then(|i| names.get(i))
            .cloned()
            .unwrap_or_default(),
    }
}

fn y_tick_text(mark: GridMark, _range: &RangeInclusive<f64>) -> String {
    let v = mark.value;
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Room for the x axis's tick labels and, below them, its label (points).
const X_AXIS_THICKNESS: f32 = 40.0;
/// Room for the y axis's label and tick labels of up to five digits (points).
const Y_AXIS_THICKNESS: f32 = 62.0;

/// Grid marks at a round step (1, 2 or 5 times a power of ten, at least `min_step`) giving at
/// most about `target` marks over the bounds; every mark is labelled.
fn round_marks(input: GridInput, target: usize, min_step: f64) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || !span.is_finite() {
        return Vec::new();
    }
    let raw = (span / target.min(1000) as f64)
        .max(min_step)
        .max(f64::EPSILON);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|f| f * mag)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
        .max(min_step);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|i| GridMark {
            value: i as f64 * step,
            step_size: step,
        })
        .collect()
}

/// Draws the plot `spec` with `items` into `ui`; returns its data area (points) and bounds.
fn plot(
    ui: &mut egui::Ui,
    spec: &Spec<'_>,
    height: f32,
    items: &dyn Fn(&mut PlotUi<'_>),
) -> (egui::Rect, PlotBounds) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(spec.title).size(14.0).strong().color(TEXT));
        ui.add_space(16.0);
        key(ui, spec.key);
    });
    ui.add_space(4.0);
    let x_marks = match spec.x_ticks {
        XTicks::Integers => 12,
        XTicks::Ordinals | XTicks::Names(_) => usize::MAX,
    };
    let p = Plot::new(spec.id)
        .width(ui.available_width())
        .height(height)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .allow_axis_zoom_drag(false)
        .show_x(false)
        .show_y(false)
        // Axes of a fixed thickness: egui_plot would size them from the previous frame's tick
        // labels, and a headless image has no previous frame.
        .custom_x_axes(vec![
            AxisHints::new_x()
                .label(spec.x_label)
                .formatter(|mark, _| tick_text(&spec.x_ticks, &mark))
                .min_thickness(X_AXIS_THICKNESS),
        ])
        .custom_y_axes(vec![
            AxisHints::new_y()
                .label(spec.y_label)
                .formatter(y_tick_text)
                .min_thickness(Y_AXIS_THICKNESS),
        ])
        .x_grid_spacer(move |input| round_marks(input, x_marks, 1.0))
        .y_grid_spacer(|input| round_marks(input, 5, 0.0));
    let bounds = PlotBounds::from_min_max(
        [spec.x_range[0], spec.y_range[0]],
        [spec.x_range[1], spec.y_range[1]],
    );
    let response = p.show(ui, |plot_ui| {
        plot_ui.set_auto_bounds(false);
        plot_ui.set_plot_bounds(bounds);
        items(plot_ui);
    });
    (*response.transform.frame(), *response.transform.bounds())
}

/// Renders one chart on its own image.
fn chart_image(
    renderer: &mut Renderer,
    spec: &Spec<'_>,
    items: &dyn Fn(&mut PlotUi<'_>),
) -> Result<ChartImage, ChartError> {
    let painted = renderer.paint(CHART_SIZE, SURFACE, |ui| {
        let h = ui.available_height() - 24.0;
        plot(ui, spec, h, items)
    })?;
    let (frame, bounds) = painted.inner;
    Ok(ChartImage {
        png: painted.png,
        width: painted.width,
        height: painted.height,
        plot_area: PixelRect {
            min_x: frame.min.x * PIXELS_PER_POINT,
            min_y: frame.min.y * PIXELS_PER_POINT,
            max_x: frame.max.x * PIXELS_PER_POINT,
            max_y: frame.max.y * PIXELS_PER_POINT,
        },
        x_range: [bounds.min()[0], bounds.max()[0]],
        y_range: [bounds.min()[1], bounds.max()[1]],
    })
}

fn shown(m: &MinuteEngagement) -> bool {
    m.viewers >= MIN_GROUP
}

/// Whether a class may show any aggregate at all (the report's rule).
fn enough(s: &EngagementSnapshot) -> bool {
    s.totals.viewers >= MIN_GROUP
}

/// A round top for a y axis: 1, 2 or 5 times a power of ten, at least `max` and at least 5.
fn nice_top(max: f64) -> f64 {
    if max.is_nan() || max <= 5.0 {
        return 5.0;
    }
    let mag = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|f| f * mag)
        .find(|&top| top >= max)
        .unwrap_or(10.0 * mag)
}

/// Lines through shown minutes, broken where a minute is suppressed (one line per run).
fn runs(s: &EngagementSnapshot, value: impl Fn(&MinuteEngagement) -> f64) -> Vec<Vec<[f64; 2]>> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for m in &s.minutes {
        if shown(m) {
            run.push([f64::from(m.minute), value(m)]);
        } else if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

fn minute_range(s: &EngagementSnapshot) -> [f64; 2] {
    [-0.5, s.minutes.len().max(1) as f64 - 0.5]
}

/// A single shown minute is still visible: lines of one point are drawn as a dot.
fn add_runs(
    plot_ui: &mut PlotUi<'_>,
    name: &str,
    runs: &[Vec<[f64; 2]>],
    style: LineStyle,
    color: Color32,
    width: f32,
) {
    for run in runs {
        if run.len() == 1 {
            plot_ui.points(
                Points::new(name, PlotPoints::new(run.clone()))
                    .color(color)
                    .radius(width + 1.0)
                    .shape(MarkerShape::Circle)
                    .filled(true),
            );
        } else {
            plot_ui.line(
                Line::new(name, PlotPoints::new(run.clone()))
                    .color(color)
                    .width(width)
                    .style(style),
            );
        }
    }
}

fn audience_with(
    r: &mut Renderer,
    s: &EngagementSnapshot,
) -> Result<Option<ChartImage>, ChartError> {
    if !enough(s) {
        return Ok(None);
    }
    let present = runs(s, |m| f64::from(m.present_at_end));
    let during = runs(s, |m| f64::from(m.viewers));
    let max = s
        .minutes
        .iter()
        .filter(|m| shown(m))
        .map(|m| m.viewers.max(m.present_at_end))
        .max()
        .unwrap_or(0);
    let drops: Vec<[f64; 2]> = s
        .drop_offs
        .iter()
        .filter_map(|d| {
            let m = s.minutes.get(d.minute as usize).filter(|m| shown(m))?;
            Some([f64::from(d.minute), f64::from(m.present_at_end)])
        })
        .collect();
    let spec = Spec {
        id: "audience",
        title: "Viewers present at the end of each minute",
        x_label: "Minute of class",
        y_label: "Viewers",
        x_range: minute_range(s),
        y_range: [0.0, nice_top(f64::from(max))],
        x_ticks: XTicks::Integers,
        key: &[
            ("present at the end", Mark::Line(ACCENT)),
            ("anyone present during it", Mark::Dashed(MUTED)),
            ("drop-off", Mark::Dot(LIVE)),
        ],
    };
    chart_image(r, &spec, &|plot_ui| {
        add_runs(
            plot_ui,
            "Anyone present during the minute",
            &during,
            LineStyle::dashed_dense(),
            MUTED,
            1.5,
        );
        add_runs(
            plot_ui,
            "Present at the end",
            &present,
            LineStyle::Solid,
            ACCENT,
            2.5,
        );
        if !drops.is_empty() {
            plot_ui.points(
                Points::new("Drop-off", PlotPoints::new(drops.clone()))
                    .color(LIVE)
                    .radius(5.0)
                    .shape(MarkerShape::Circle)
                    .filled(true),
            );
        }
    })
    .map(Some)
}

/// The audience over the class: viewers present at the end of each minute (solid, the accent
/// colour), anyone present during it (dashed), drop-offs (red dots). `None` under
/// [`MIN_GROUP`] viewers; minutes under [`MIN_GROUP`] viewers are left out.
pub fn audience_chart(s: &EngagementSnapshot) -> Result<Option<ChartImage>, ChartError> {
    audience_with(&mut Renderer::new(), s)
}

fn retention_spec_and_runs(s: &EngagementSnapshot) -> (Spec<'static>, Vec<Vec<[f64; 2]>>) {
    let spec = Spec {
        id: "retention",
        title: "Retention: viewers present at the end of each minute",
        x_label: "Minute of class",
        y_label: "% of peak audience",
        x_range: minute_range(s),
        y_range: [0.0, 105.0],
        x_ticks: XTicks::Integers,
        key: &[],
    };
    (spec, runs(s, |m| m.retention_pct))
}

/// Retention over the class: those present at the end of each minute, in % of the class's peak.
/// `None` under [`MIN_GROUP`] viewers; minutes under [`MIN_GROUP`] viewers are left out.
pub fn retention_chart(s: &EngagementSnapshot) -> Result<Option<ChartImage>, ChartError> {
    if !enough(s) {
        return Ok(None);
    }
    let (spec, runs) = retention_spec_and_runs(s);
    chart_image(&mut Renderer::new(), &spec, &|plot_ui| {
        add_runs(plot_ui, "Retention", &runs, LineStyle::Solid, ACCENT, 2.5);
    })
    .map(Some)
}

fn activity_with(
    r: &mut Renderer,
    s: &EngagementSnapshot,
) -> Result<Option<ChartImage>, ChartError> {
    if !enough(s) {
        return Ok(None);
    }
    let value = |m: &MinuteEngagement| m.chat + m.questions + m.upvotes + m.ballots;
    let max = s
        .minutes
        .iter()
        .filter(|m| shown(m))
        .map(value)
        .max()
        .unwrap_or(0);
    let bars: Vec<Bar> = s
        .minutes
        .iter()
        .filter(|m| shown(m))
        .map(|m| {
            Bar::new(f64::from(m.minute), f64::from(value(m)))
                .width(0.7)
                .fill(OK)
        })
        .collect();
    let spec = Spec {
        id: "activity",
        title: "Chat, questions, upvotes and ballots per minute",
        x_label: "Minute of class",
        y_label: "Actions per minute",
        x_range: minute_range(s),
        y_range: [0.0, nice_top(f64::from(max))],
        x_ticks: XTicks::Integers,
        key: &[],
    };
    chart_image(r, &spec, &|plot_ui| {
        plot_ui.bar_chart(BarChart::new("Actions", bars.clone()).color(OK));
    })
    .map(Some)
}

/// Activity minute by minute: chat messages, questions, upvotes and ballots (green bars).
/// `None` under [`MIN_GROUP`] viewers; minutes under [`MIN_GROUP`] viewers have no bar.
pub fn activity_chart(s: &EngagementSnapshot) -> Result<Option<ChartImage>, ChartError> {
    activity_with(&mut Renderer::new(), s)
}

fn trend_with(r: &mut Renderer, t: &CourseTrend) -> Result<Option<ChartImage>, ChartError> {
    // Classes under MIN_GROUP viewers have no summary: they keep their place but show nothing.
    let points: Vec<[f64; 2]> = t
        .sessions
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some([i as f64, p.summary.as_ref()?.median_score]))
        .collect();
    if points.len() < 2 {
        return Ok(None);
    }
    let n = t.sessions.len();
    let mean = t.mean_median_score;
    let spec = Spec {
        id: "trend",
        title: "Median score of each class of the course",
        x_label: "Class of the course (oldest first)",
        y_label: "Median score (of 100)",
        x_range: [-0.5, n as f64 - 0.5],
        y_range: [0.0, 100.0],
        x_ticks: XTicks::Ordinals,
        key: if mean.is_some() {
            &[
                ("median score", Mark::Line(ACCENT)),
                ("course mean", Mark::Dashed(MUTED)),
            ]
        } else {
            &[("median score", Mark::Line(ACCENT))]
        },
    };
    let last = n.saturating_sub(1) as f64;
    chart_image(r, &spec, &|plot_ui| {
        if let Some(mean) = mean {
            plot_ui.line(
                Line::new(
                    "Course mean",
                    PlotPoints::new(vec![[0.0, mean], [last, mean]]),
                )
                .color(MUTED)
                .width(1.5)
                .style(LineStyle::dashed_dense()),
            );
        }
        plot_ui.line(
            Line::new("Median score", PlotPoints::new(points.clone()))
                .color(ACCENT)
                .width(2.5),
        );
        plot_ui.points(
            Points::new("Median score", PlotPoints::new(points.clone()))
                .color(ACCENT)
                .radius(4.0)
                .filled(true),
        );
    })
    .map(Some)
}

/// A course's trend: the median score of each of its classes, oldest first, with the course's
/// mean. Classes under [`MIN_GROUP`] viewers keep their place on the axis but show no point;
/// `None` when fewer than two classes can be shown.
pub fn trend_chart(t: &CourseTrend) -> Result<Option<ChartImage>, ChartError> {
    trend_with(&mut Renderer::new(), t)
}

/// An experiment's variants: each conversion rate (a dot) with its interval (a vertical bar).
/// `title` names the experiment. `None` without variants.
pub fn experiment_chart(
    title: &str,
    variants: &[ExperimentRate],
) -> Result<Option<ChartImage>, ChartError> {
    if variants.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = variants.iter().map(|v| v.name.clone()).collect();
    let top = variants
        .iter()
        .map(|v| v.high_pct.max(v.rate_pct))
        .fold(0.0, f64::max);
    let spec = Spec {
        id: "experiment",
        title,
        x_label: "Variant",
        y_label: "Conversion rate (%)",
        x_range: [-0.5, variants.len() as f64 - 0.5],
        y_range: [0.0, nice_top(top * 1.1)],
        x_ticks: XTicks::Names(&names),
        key: &[("rate", Mark::Dot(TEXT)), ("interval", Mark::Bar(ACCENT))],
    };
    chart_image(&mut Renderer::new(), &spec, &|plot_ui| {
        for (i, v) in variants.iter().enumerate() {
            let x = i as f64;
            plot_ui.line(
                Line::new(
                    "Interval",
                    PlotPoints::new(vec![[x, v.low_pct.max(0.0)], [x, v.high_pct]]),
                )
                .color(ACCENT)
                .width(3.0),
            );
        }
        let rates: Vec<[f64; 2]> = variants
            .iter()
            .enumerate()
            .map(|(i, v)| [i as f64, v.rate_pct])
            .collect();
        plot_ui.points(
            Points::new("Rate", PlotPoints::new(rates))
                .color(TEXT)
                .radius(5.0)
                .filled(true),
        );
    })
    .map(Some)
}

/// The report's charts as PNG bytes, drawn with one egui context (fonts loaded once): audience
/// and activity from the snapshot, and the course trend when given one. A chart that may not be
/// shown (see [`audience_chart`]) is `None`.
pub fn report_charts(
    s: &EngagementSnapshot,
    trend: Option<&CourseTrend>,
) -> Result<ReportCharts, ChartError> {
    let mut r = Renderer::new();
    Ok(ReportCharts {
        audience: audience_with(&mut r, s)?.map(|c| c.png),
        activity: activity_with(&mut r, s)?.map(|c| c.png),
        trend: match trend {
            Some(t) => trend_with(&mut r, t)?.map(|c| c.png),
            None => None,
        },
    })
}

/// The class report (HTML and CSV, see `lectern_insights::engagement::class_report`) with its
/// charts drawn here and embedded as PNG images.
pub fn class_report(
    meta: &ReportMeta,
    s: &EngagementSnapshot,
    trend: Option<&CourseTrend>,
) -> Result<ClassReport, ChartError> {
    let charts = report_charts(s, trend)?;
    Ok(lectern_insights::engagement::class_report(meta, s, &charts))
}

/// One PNG to paste into a chat app: the class's title and headline numbers (viewers, most at
/// once, median score, minutes watched per viewer) above the retention chart, 1440 x 880 pixels.
/// `None` under [`MIN_GROUP`] viewers, when the report shows no class totals either.
pub fn summary_png(
    meta: &ReportMeta,
    s: &EngagementSnapshot,
) -> Result<Option<Vec<u8>>, ChartError> {
    if !enough(s) {
        return Ok(None);
    }
    let t = &s.totals;
    let per_viewer_min = t.watch_ms as f64 / f64::from(t.viewers.max(1)) / MINUTE_MS as f64;
    let class_min = s.now_ms.saturating_sub(s.session_start_ms) / MINUTE_MS;
    let numbers = [
        (t.viewers.to_string(), "viewers"),
        (t.peak_present.to_string(), "at most at once"),
        (format!("{:.1}", t.median_score), "median score of 100"),
        (format!("{per_viewer_min:.1}"), "minutes watched per viewer"),
    ];
    let subtitle = match &meta.course {
        Some(c) => format!("{c} · {} · {class_min} minutes", meta.school),
        None => format!("{} · {class_min} minutes", meta.school),
    };
    let (spec, runs) = retention_spec_and_runs(s);
    let painted = Renderer::new().paint(SUMMARY_SIZE, SURFACE, |ui| {
        ui.label(RichText::new(&meta.title).size(20.0).strong().color(TEXT));
        ui.label(RichText::new(&subtitle).size(12.0).color(MUTED));
        ui.add_space(10.0);
        ui.columns(numbers.len(), |cols| {
            for (col, (value, label)) in cols.iter_mut().zip(&numbers) {
                egui::Frame::new()
                    .stroke(egui::Stroke::new(1.0, BORDER))
                    .corner_radius(6.0)
                    .inner_margin(egui::Margin::symmetric(10, 6))
                    .show(col, |ui| {
                        ui.set_width(ui.available_width());
                        ui.label(RichText::new(value).size(22.0).strong().color(TEXT));
                        ui.label(RichText::new(*label).size(11.0).color(TEXT_2));
                    });
            }
        });
        ui.add_space(12.0);
        let h = ui.available_height() - 24.0;
        plot(ui, &spec, h, &|plot_ui| {
            add_runs(plot_ui, "Retention", &runs, LineStyle::Solid, ACCENT, 2.5);
        });
    })?;
    Ok(Some(painted.png))
}
