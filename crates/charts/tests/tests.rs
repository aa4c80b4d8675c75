//! The charts drawn from fixed data: each PNG decodes, has its size, is not blank, and its data
//! sit where the data say (a data value mapped through the bounds the chart sets, and the
//! series' colour found there and absent where the data are suppressed or missing).

#![allow(clippy::unwrap_used, reason = "tests")]

use lectern_charts::{ChartImage, ExperimentRate};
use lectern_insights::engagement::{
    Activity, ClassSummary, EngagementEvent, EngagementSnapshot, ReportMeta, course_trend,
    recompute,
};

const S: i64 = 1_760_000_000_000;
const MIN: i64 = 60_000;
/// `--accent`, `--ok`, `--text`, `--live` of the studio's light theme.
const ACCENT: [u8; 3] = [0x43, 0x53, 0xc9];
const OK: [u8; 3] = [0x1b, 0x7a, 0x51];
const TEXT: [u8; 3] = [0x1b, 0x1c, 0x20];
const LIVE: [u8; 3] = [0xd2, 0x35, 0x3a];

struct Decoded {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Decoded {
    fn at(&self, x: i64, y: i64) -> Option<[u8; 3]> {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        Some([self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]])
    }

    /// Whether a pixel within `r` pixels of `(x, y)` has colour `c` (to a small tolerance).
    fn has_near(&self, (x, y): (f32, f32), r: i64, c: [u8; 3]) -> bool {
        let (x, y) = (x.round() as i64, y.round() as i64);
        (-r..=r)
            .any(|dy| (-r..=r).any(|dx| self.at(x + dx, y + dy).is_some_and(|p| close(p, c, 12))))
    }

    /// How many pixels of colour `c` (loosely: anti-aliased edges count) lie in the rectangle.
    fn count(&self, x0: f32, y0: f32, x1: f32, y1: f32, c: [u8; 3], tolerance: i32) -> usize {
        let mut n = 0;
        for y in y0.round() as i64..y1.round() as i64 {
            for x in x0.round() as i64..x1.round() as i64 {
                if self.at(x, y).is_some_and(|p| close(p, c, tolerance)) {
                    n += 1;
                }
            }
        }
        n
    }
}

fn close(p: [u8; 3], c: [u8; 3], tolerance: i32) -> bool {
    (0..3).all(|i| (i32::from(p[i]) - i32::from(c[i])).abs() <= tolerance)
}

/// Decodes the PNG and checks what every chart must be.
fn decode(chart: &ChartImage) -> Decoded {
    let decoder = png::Decoder::new(std::io::Cursor::new(&chart.png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!((info.width, info.height), (chart.width, chart.height));
    assert_eq!(
        (chart.width, chart.height),
        (1440, 520),
        "720 x 260 points at 2x"
    );
    buf.truncate(info.buffer_size());
    let d = Decoded {
        width: info.width,
        height: info.height,
        rgb: buf,
    };
    // Not blank: mostly the white background, but with text and lines.
    let white = d.rgb.chunks(3).filter(|p| p == &[255, 255, 255]).count();
    let total = (d.width * d.height) as usize;
    assert!(white > total / 2, "a light background");
    assert!(
        total - white > total / 50,
        "something is drawn: {} non-white",
        total - white
    );
    let dark = d
        .rgb
        .chunks(3)
        .filter(|p| p.iter().all(|&v| v < 100))
        .count();
    assert!(dark > 500, "there is text: {dark} dark pixels");
    // The data area sits inside the image, right of the y axis and above the x axis.
    let a = chart.plot_area;
    assert!(
        a.min_x > 60.0 && a.max_x <= 1440.0 && a.min_y > 20.0 && a.max_y < 480.0,
        "{a:?}"
    );
    d
}

/// Where the chart puts `(x, y)`, from the bounds alone (not the chart's own helper).
fn pixel(chart: &ChartImage, x: f64, y: f64) -> (f32, f32) {
    let a = chart.plot_area;
    let [x0, x1] = chart.x_range;
    let [y0, y1] = chart.y_range;
    (
        a.min_x + (a.max_x - a.min_x) * ((x - x0) / (x1 - x0)) as f32,
        a.max_y - (a.max_y - a.min_y) * ((y - y0) / (y1 - y0)) as f32,
    )
}

fn joined(v: &str) -> Activity {
    Activity::Joined {
        viewer: v.into(),
        name: v.into(),
        staff: false,
    }
}

fn left(v: &str) -> Activity {
    Activity::Left { viewer: v.into() }
}

fn chat(v: &str) -> Activity {
    Activity::Chat {
        viewer: v.into(),
        staff: false,
    }
}

/// Eight viewers join at the start; two leave in minute 5, three in minute 12: minutes 0 to 12
/// have at least five viewers, minutes 13 to 20 three (suppressed). Four messages in minute 3,
/// two in minute 7, one in minute 15 (suppressed).
fn class() -> EngagementSnapshot {
    let v: Vec<String> = (0..8).map(|i| format!("v{i}")).collect();
    let mut log = Vec::new();
    for id in &v {
        log.push((S + 1_000, joined(id)));
    }
    for id in &v[..4] {
        log.push((S + 3 * MIN + 10_000, chat(id)));
    }
    for id in &v[..2] {
        log.push((S + 7 * MIN + 10_000, chat(id)));
    }
    for id in &v[6..] {
        log.push((S + 5 * MIN + 30_000, left(id)));
    }
    for id in &v[3..6] {
        log.push((S + 12 * MIN + 30_000, left(id)));
    }
    log.push((S + 15 * MIN + 10_000, chat(&v[0])));
    log.sort_by_key(|(at, _)| *at);
    let events: Vec<EngagementEvent> = log
        .into_iter()
        .map(|(at_ms, activity)| EngagementEvent { at_ms, activity })
        .collect();
    let s = recompute(S, &events, S + 20 * MIN + 30_000);
    // The fixture is what the comments say.
    assert_eq!(s.minutes.len(), 21);
    assert_eq!(s.minutes[4].present_at_end, 8);
    assert_eq!(s.minutes[8].present_at_end, 6);
    assert_eq!(s.minutes[12].viewers, 6);
    assert_eq!(s.minutes[13].viewers, 3);
    assert_eq!(s.minutes[12].present_at_end, 3);
    assert_eq!(s.minutes[3].chat, 4);
    assert_eq!(s.minutes[15].chat, 1);
    s
}

#[test]
fn the_audience_line_is_where_the_minutes_say_and_stops_where_they_are_suppressed() {
    let s = class();
    let chart = lectern_charts::audience_chart(&s).unwrap().unwrap();
    assert_eq!(chart.x_range, [-0.5, 20.5]);
    assert_eq!(
        chart.y_range,
        [0.0, 10.0],
        "8 viewers at most: a round top of 10"
    );
    let img = decode(&chart);
    // Minute 12 ends with 3 of 6: a drop-off, whose red dot covers the line's last point, so
    // the line is checked half way down to it.
    for (minute, present) in [(1.0, 8.0), (3.0, 8.0), (8.0, 6.0), (10.0, 6.0), (11.5, 4.5)] {
        assert!(
            img.has_near(pixel(&chart, minute, present), 2, ACCENT),
            "the line at minute {minute}, {present} present"
        );
    }
    assert_eq!(s.drop_offs.len(), 1);
    assert!(
        img.has_near(pixel(&chart, 12.0, 3.0), 0, LIVE),
        "the drop-off"
    );
    for (minute, nobody) in [(3.0, 4.0), (8.0, 2.0), (10.0, 9.0)] {
        assert!(
            !img.has_near(pixel(&chart, minute, nobody), 3, ACCENT),
            "no line at minute {minute}, {nobody}"
        );
    }
    // Minutes 13 to 20 have three viewers: nothing of the line (nor any of its colour) there.
    let (x13, _) = pixel(&chart, 12.6, 0.0);
    let a = chart.plot_area;
    assert_eq!(img.count(x13, a.min_y, a.max_x, a.max_y, ACCENT, 60), 0);
    // The same check finds the line where it is drawn.
    let (x0, _) = pixel(&chart, 0.0, 0.0);
    assert!(img.count(x0, a.min_y, x13 - 8.0, a.max_y, ACCENT, 12) > 200);
}

#[test]
fn the_activity_bars_stand_on_their_minutes() {
    let s = class();
    let chart = lectern_charts::activity_chart(&s).unwrap().unwrap();
    assert_eq!(chart.y_range, [0.0, 5.0]);
    let img = decode(&chart);
    // Minute 3: 4 actions; minute 7: 2.
    for (minute, y) in [(3.0, 0.5), (3.0, 2.0), (3.0, 3.7), (7.0, 1.0), (7.0, 1.8)] {
        assert!(
            img.has_near(pixel(&chart, minute, y), 0, OK),
            "bar at minute {minute}, {y}"
        );
    }
    for (minute, y) in [(3.0, 4.3), (7.0, 2.3), (5.0, 0.5), (1.0, 0.5)] {
        assert!(
            !img.has_near(pixel(&chart, minute, y), 2, OK),
            "no bar at minute {minute}, {y}"
        );
    }
    // Minute 15's one message is in a suppressed minute: no bar.
    let (x, y) = pixel(&chart, 15.0, 0.3);
    assert!(!img.has_near((x, y), 6, OK));
    let (x13, _) = pixel(&chart, 12.6, 0.0);
    let a = chart.plot_area;
    assert_eq!(img.count(x13, a.min_y, a.max_x, a.max_y, OK, 60), 0);
}

#[test]
fn a_class_under_five_viewers_draws_nothing() {
    let events: Vec<EngagementEvent> = (0..4)
        .map(|i| EngagementEvent {
            at_ms: S + 1_000,
            activity: joined(&format!("v{i}")),
        })
        .collect();
    let s = recompute(S, &events, S + 10 * MIN);
    assert!(lectern_charts::audience_chart(&s).unwrap().is_none());
    assert!(lectern_charts::activity_chart(&s).unwrap().is_none());
    assert!(lectern_charts::retention_chart(&s).unwrap().is_none());
    assert!(lectern_charts::summary_png(&meta(), &s).unwrap().is_none());
    let charts = lectern_charts::report_charts(&s, None).unwrap();
    assert_eq!(charts, lectern_charts::ReportCharts::default());
}

#[test]
fn the_retention_line_reads_in_percent_of_the_peak() {
    let s = class();
    let chart = lectern_charts::retention_chart(&s).unwrap().unwrap();
    assert_eq!(chart.y_range, [0.0, 105.0]);
    let img = decode(&chart);
    assert!(img.has_near(pixel(&chart, 2.0, 100.0), 2, ACCENT));
    assert!(img.has_near(pixel(&chart, 9.0, 75.0), 2, ACCENT), "6 of 8");
    assert!(!img.has_near(pixel(&chart, 9.0, 50.0), 3, ACCENT));
}

fn summary(id: i64, viewers: u32, median: f64) -> ClassSummary {
    ClassSummary {
        session_id: id,
        title: format!("Class {id}"),
        started_at_ms: S + id * 7 * 24 * 60 * MIN,
        viewers,
        peak_present: viewers,
        median_score: median,
        median_score_se: Some(2.0),
        mean_watch_minutes: 40.0,
        poll_participation_pct: None,
        chat_per_viewer_hour: 3.0,
        final_retention_pct: 70.0,
    }
}

#[test]
fn the_trend_marks_each_shown_class_at_its_median() {
    // The third class had four viewers: it keeps its place and shows nothing.
    let classes = [
        summary(1, 20, 40.0),
        summary(2, 25, 50.0),
        summary(3, 4, 90.0),
        summary(4, 30, 60.0),
    ];
    let trend = course_trend("sql", &classes);
    let chart = lectern_charts::trend_chart(&trend).unwrap().unwrap();
    assert_eq!(chart.x_range, [-0.5, 3.5]);
    assert_eq!(chart.y_range, [0.0, 100.0]);
    let img = decode(&chart);
    for (i, median) in [(0.0, 40.0), (1.0, 50.0), (3.0, 60.0)] {
        assert!(
            img.has_near(pixel(&chart, i, median), 1, ACCENT),
            "class {i} at {median}"
        );
    }
    assert!(
        !img.has_near(pixel(&chart, 2.0, 90.0), 6, ACCENT),
        "the small class is not shown"
    );
    assert!(!img.has_near(pixel(&chart, 0.0, 70.0), 4, ACCENT));
    // One class cannot make a trend.
    let one = course_trend("sql", &classes[..1]);
    assert!(lectern_charts::trend_chart(&one).unwrap().is_none());
}

#[test]
fn the_experiment_chart_shows_rates_and_intervals() {
    let variants = [
        ExperimentRate {
            name: "A".into(),
            rate_pct: 4.0,
            low_pct: 3.0,
            high_pct: 5.0,
        },
        ExperimentRate {
            name: "B: 20% off".into(),
            rate_pct: 6.0,
            low_pct: 4.5,
            high_pct: 7.5,
        },
    ];
    let chart = lectern_charts::experiment_chart("Spring offer", &variants)
        .unwrap()
        .unwrap();
    assert_eq!(chart.y_range, [0.0, 10.0]);
    let img = decode(&chart);
    assert!(img.has_near(pixel(&chart, 0.0, 4.0), 1, TEXT), "A's rate");
    assert!(img.has_near(pixel(&chart, 1.0, 6.0), 1, TEXT), "B's rate");
    assert!(
        img.has_near(pixel(&chart, 0.0, 3.2), 1, ACCENT),
        "A's interval"
    );
    assert!(
        img.has_near(pixel(&chart, 1.0, 7.3), 1, ACCENT),
        "B's interval"
    );
    assert!(
        !img.has_near(pixel(&chart, 0.0, 5.6), 3, ACCENT),
        "A's interval ends at 5"
    );
    assert!(
        !img.has_near(pixel(&chart, 1.0, 8.2), 3, ACCENT),
        "B's ends at 7.5"
    );
    assert!(
        lectern_charts::experiment_chart("none", &[])
            .unwrap()
            .is_none()
    );
}

fn meta() -> ReportMeta {
    ReportMeta {
        title: "Window functions".into(),
        course: Some("SQL for analysts".into()),
        school: "Test school".into(),
        generated_at_ms: S + 30 * MIN,
        replay: None,
    }
}

#[test]
fn the_summary_image_is_a_large_light_picture() {
    let png = lectern_charts::summary_png(&meta(), &class())
        .unwrap()
        .unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(&png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1440, 880));
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(3).collect();
    assert!(px.iter().filter(|p| **p == [255, 255, 255]).count() > px.len() / 2);
    assert!(
        px.iter()
            .filter(|p| close([p[0], p[1], p[2]], ACCENT, 12))
            .count()
            > 500,
        "the retention line"
    );
    assert!(
        px.iter().filter(|p| p.iter().all(|&v| v < 100)).count() > 2_000,
        "the numbers"
    );
}

#[test]
fn the_report_embeds_the_charts_as_png() {
    let s = class();
    let report = lectern_charts::class_report(&meta(), &s, None).unwrap();
    let html = &report.html;
    assert_eq!(html.matches("<img class=\"chart\"").count(), 2);
    assert!(html.contains(
        "alt=\"Viewers present at the end of each minute\" src=\"data:image/png;base64,iVBORw0KGgo"
    ));
    assert!(html.contains("alt=\"Chat, questions, upvotes and ballots per minute\" src=\"data:image/png;base64,iVBORw0KGgo"));
    assert!(!html.contains("<svg"));
}
