//! The class report: one self-contained HTML page (inline CSS, charts as embedded PNG images the
//! caller drew, no script, no link out, made to print) and CSV texts per viewer, per minute and
//! per poll.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::score::{
    CHAT_CAP_PER_MIN, QA_CAP_PER_MIN, RATE_FLOOR_CLASS_SHARE, REACTIONS_CAP_PER_MIN, Score, WEIGHTS,
};
use super::snapshot::{EngagementSnapshot, MINUTE_MS, MinuteEngagement};

/// Aggregates over fewer viewers than this are not shown (a minute, a poll, a class).
pub const MIN_GROUP: u32 = 5;

/// What the report says about the class beyond its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportMeta {
    /// The class's title.
    pub title: String,
    /// The course's title, if any.
    pub course: Option<String>,
    /// The school's name.
    pub school: String,
    /// When the report is made (printed on it; ms since the Unix epoch).
    pub generated_at_ms: i64,
    /// How the class's replay was watched, once it has one (kept apart from the live numbers).
    #[serde(default)]
    pub replay: Option<ReportReplay>,
}

/// The replay's numbers in the report: watched apart from the live class, never mixed into it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportReplay {
    /// Students who did anything in the replay.
    pub viewers: u64,
    /// Time watched, ms.
    pub watched_ms: u64,
    /// Reactions sent while watching.
    pub reactions: u64,
    /// Questions asked while watching.
    pub questions: u64,
    /// Each offer's variant shown in the replay: title, variant name, viewers who saw it,
    /// viewers who clicked.
    pub offers: Vec<(String, String, u64, u64)>,
}

/// The report's texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassReport {
    /// The HTML page.
    pub html: String,
    /// One row per viewer.
    pub viewers_csv: String,
    /// One row per minute (cells of minutes under [`MIN_GROUP`] viewers left empty).
    pub minutes_csv: String,
    /// One row per poll (counts of polls under [`MIN_GROUP`] ballots left empty).
    pub polls_csv: String,
}

/// Escapes text for HTML content and quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Bidi controls could reorder the page's text around a name.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One CSV cell: quoted when needed, and defused when a spreadsheet would take it for a formula.
pub fn csv_cell(s: &str) -> String {
    let defused = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// `YYYY-MM-DD HH:MM UTC` (the proleptic Gregorian calendar, from days since 1970-01-01).
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

fn minutes_text(ms: i64) -> String {
    format!("{:.1}", ms as f64 / MINUTE_MS as f64)
}

const CSS: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2430;margin:24px auto;max-width:960px;padding:0 16px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #d7dce3;padding-bottom:4px}\
.meta{color:#5b6576;margin:0 0 16px}.note{color:#5b6576;font-size:12px}\
.cards{display:flex;flex-wrap:wrap;gap:8px}.card{border:1px solid #d7dce3;border-radius:6px;padding:8px 12px;min-width:110px}\
.card b{display:block;font-size:20px}table{border-collapse:collapse;width:100%;font-size:12px}\
th,td{border-bottom:1px solid #e6e9ee;padding:4px 6px;text-align:right}th:first-child,td:first-child{text-align:left}\
th{background:#f3f5f8}img.chart{display:block;width:100%;max-width:720px;height:auto;border:1px solid #e6e9ee;border-radius:4px}\
@media print{body{margin:0;max-width:none;font-size:11px}section{break-inside:avoid}h2{break-after:avoid}tr{break-inside:avoid}}";

/// The report's charts as PNG images, drawn by the caller (`lectern-charts` draws them with
/// egui_plot; this crate stays pure and draws nothing). A chart left `None` is not shown; the
/// caller must follow the same rule as the report: nothing under [`MIN_GROUP`] viewers, and no
/// minute with fewer than [`MIN_GROUP`] viewers in any series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportCharts {
    /// Viewers present at the end of each minute.
    pub audience: Option<Vec<u8>>,
    /// Chat, questions, upvotes and ballots per minute.
    pub activity: Option<Vec<u8>>,
    /// The median score of each class of the course.
    pub trend: Option<Vec<u8>>,
}

/// A PNG as a `data:` URL (what the report embeds, and what the studio shows to save or copy).
pub fn png_data_url(png: &[u8]) -> String {
    format!("data:image/png;base64,{}", base64(png))
}

/// Standard base64 (RFC 4648, with padding), for `data:` URLs.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An embedded PNG chart, or nothing when it was not drawn.
fn image(png: Option<&Vec<u8>>, alt: &str) -> String {
    match png {
        Some(png) => format!(
            "<img class=\"chart\" alt=\"{}\" src=\"data:image/png;base64,{}\">",
            esc(alt),
            base64(png)
        ),
        None => String::new(),
    }
}

/// The charts' alt texts (also their titles).
const AUDIENCE_ALT: &str = "Viewers present at the end of each minute";
const ACTIVITY_ALT: &str = "Chat, questions, upvotes and ballots per minute";
const TREND_ALT: &str = "Median score of each class of the course";

fn shown(m: &MinuteEngagement) -> bool {
    m.viewers >= MIN_GROUP
}

fn breakdown(score: &Score) -> String {
    let part = |p: &super::score::ScorePart| {
        if p.measured {
            format!("{:.0}/{:.0}", p.points, p.max_points)
        } else {
            "not measured".to_owned()
        }
    };
    format!(
        "{} · {} · {} · {} · {}",
        part(&score.attendance),
        part(&score.polls),
        part(&score.chat),
        part(&score.qa),
        part(&score.reactions)
    )
}

/// "40.0", or "40.0 of 65 measurable" when some parts were not measured.
fn total_text(score: &Score) -> String {
    if score.measurable_points < 100.0 {
        format!(
            "{:.1} of {:.0} measurable",
            score.total, score.measurable_points
        )
    } else {
        format!("{:.1}", score.total)
    }
}

fn html(meta: &ReportMeta, s: &EngagementSnapshot, charts: &ReportCharts) -> String {
    let t = &s.totals;
    let mut h = String::with_capacity(16_384 + s.viewers.len() * 300);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>{title}: class report</title><style>{CSS}</style></head><body>\
<h1>{title}</h1><p class=\"meta\">{course}{school} · started {start} · {minutes} minutes{ended} · report made {made}</p>",
        title = esc(&meta.title),
        course = meta
            .course
            .as_deref()
            .map(|c| format!("{} · ", esc(c)))
            .unwrap_or_default(),
        school = esc(&meta.school),
        start = utc(s.session_start_ms),
        minutes = s.now_ms.saturating_sub(s.session_start_ms) / MINUTE_MS,
        ended = if s.ended { "" } else { " (still live)" },
        made = utc(meta.generated_at_ms),
    );

    let enough = t.viewers >= MIN_GROUP;
    h.push_str("<section><h2>Summary</h2>");
    if enough {
        let card = |h: &mut String, value: String, label: &str| {
            let _ = write!(h, "<div class=\"card\"><b>{value}</b>{label}</div>");
        };
        h.push_str("<div class=\"cards\">");
        card(&mut h, t.viewers.to_string(), "viewers");
        card(&mut h, t.peak_present.to_string(), "at most at once");
        card(
            &mut h,
            format!("{:.1}", t.median_score),
            "median score of 100",
        );
        card(
            &mut h,
            minutes_text(t.watch_ms / i64::from(t.viewers.max(1))),
            "minutes watched per viewer",
        );
        card(&mut h, t.chat.to_string(), "chat messages");
        card(
            &mut h,
            format!("{}/{}", t.ballots, t.polls_opened),
            "ballots / polls",
        );
        card(
            &mut h,
            (t.questions + t.upvotes).to_string(),
            "questions and upvotes",
        );
        card(&mut h, t.reactions.to_string(), "reactions");
        if t.offers_pushed > 0 {
            card(
                &mut h,
                format!("{}/{}", t.offer_clicks, t.offer_exposures),
                "offer clicks / views",
            );
        }
        h.push_str("</div>");
    } else {
        let _ = write!(
            h,
            "<p>Fewer than {MIN_GROUP} viewers: class totals, charts and polls are not shown.</p>"
        );
    }
    h.push_str("</section>");

    if enough {
        let _ = write!(
            h,
            "<section><h2>Audience</h2>{}<p class=\"note\">Solid: present at the end of each minute; \
dashed: anyone present during it; red: drop-offs (a minute losing at least 3 viewers and 10%). \
Minutes with fewer than {MIN_GROUP} viewers are left out.</p>",
            image(charts.audience.as_ref(), AUDIENCE_ALT)
        );
        if !s.drop_offs.is_empty() {
            h.push_str("<ul>");
            for d in &s.drop_offs {
                let shown_minute = s.minutes.get(d.minute as usize).is_some_and(shown);
                if shown_minute {
                    let _ = write!(
                        h,
                        "<li>Minute {}: from {} to {} present</li>",
                        d.minute, d.present_before, d.present_after
                    );
                }
            }
            h.push_str("</ul>");
        }
        let _ = write!(
            h,
            "</section><section><h2>Activity</h2>{}</section>",
            image(charts.activity.as_ref(), ACTIVITY_ALT)
        );
        if let Some(trend) = &charts.trend {
            let _ = write!(
                h,
                "<section><h2>Course trend</h2>{}<p class=\"note\">Dashed: the course's mean. \
Classes with fewer than {MIN_GROUP} viewers keep their place but show no point.</p></section>",
                image(Some(trend), TREND_ALT)
            );
        }
        if !s.polls.is_empty() {
            h.push_str("<section><h2>Polls</h2><table><thead><tr><th>Question</th><th>Present at opening</th><th>Ballots</th><th>Participation</th></tr></thead><tbody>");
            for p in &s.polls {
                if p.ballots >= MIN_GROUP {
                    let _ = write!(
                        h,
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.0}%</td></tr>",
                        esc(&p.question),
                        p.present_at_open,
                        p.ballots,
                        p.participation_pct
                    );
                } else {
                    let _ = write!(
                        h,
                        "<tr><td>{}</td><td colspan=\"3\">fewer than {MIN_GROUP} ballots</td></tr>",
                        esc(&p.question)
                    );
                }
            }
            h.push_str("</tbody></table></section>");
        }
    }

    if let Some(r) = &meta.replay {
        let _ = write!(
            h,
            "<section><h2>Replay</h2><p>{} {} watched the replay for {} minutes in all; \
             {} reactions and {} questions were sent while watching. These are not counted in \
             the live class's numbers above.</p>",
            r.viewers,
            if r.viewers == 1 {
                "student"
            } else {
                "students"
            },
            r.watched_ms / 60_000,
            r.reactions,
            r.questions
        );
        if !r.offers.is_empty() {
            h.push_str("<table><thead><tr><th>Offer in the replay</th><th>Variant</th><th>Saw it</th><th>Clicked</th></tr></thead><tbody>");
            for (title, variant, seen, clicked) in &r.offers {
                if *seen >= u64::from(MIN_GROUP) {
                    let _ = write!(
                        h,
                        "<tr><td>{}</td><td>{}</td><td>{seen}</td><td>{clicked}</td></tr>",
                        esc(title),
                        esc(variant)
                    );
                } else {
                    let _ = write!(
                        h,
                        "<tr><td>{}</td><td>{}</td><td colspan=\"2\">fewer than {MIN_GROUP} viewers</td></tr>",
                        esc(title),
                        esc(variant)
                    );
                }
            }
            h.push_str("</tbody></table>");
        }
        h.push_str("</section>");
    }

    h.push_str("<section><h2>Viewers</h2><table><thead><tr><th>Name</th><th>Minutes</th><th>Chat</th><th>Polls</th><th>Q&amp;A</th><th>Offer</th><th>Score</th><th>Attendance · polls · chat · Q&amp;A · reactions</th><th>/10</th></tr></thead><tbody>");
    let mut ranked: Vec<_> = s.viewers.iter().collect();
    ranked.sort_by(|a, b| {
        b.score
            .total
            .total_cmp(&a.score.total)
            .then(a.viewer.cmp(&b.viewer))
    });
    for v in ranked {
        let name = if v.name.is_empty() {
            "(no name)"
        } else {
            &v.name
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td></tr>",
            esc(name),
            minutes_text(v.watch_ms),
            v.chat,
            v.polls_answered,
            v.polls_asked,
            v.questions + v.upvotes,
            if v.offer_clicks > 0 {
                "clicked"
            } else if v.offer_exposures > 0 {
                "seen"
            } else {
                ""
            },
            total_text(&v.score),
            breakdown(&v.score),
            v.score.ten_point.total,
        );
    }
    let _ = write!(
        h,
        "</tbody></table></section><section><h2>How the score is made</h2><p class=\"note\">\
Out of 100 fixed points: attendance (watch time over the class so far) {a:.0} points, polls (answered of asked while present) {p:.0}, \
chat {c:.0} (full marks at {cc} messages a minute), questions and upvotes {q:.0} (full at {qc} a minute), \
reactions {r:.0} (full at {rc} a minute). Caps are fixed, not relative to the best viewer. \
Rates are per minute watched, but over at least {share:.0}% of the class so far, so a short visit is not \
rated as if it had lasted: one message in a one-minute visit to an hour-long class counts as one message in {hour_floor:.0} minutes. \
A part the class gave no way to earn (no poll while present; reactions the room did not attribute) is shown \
as not measured and earns nothing; the other parts are not rescaled, so a score means the same in every class, \
and \"40.0 of 65 measurable\" reads: 40 points, where this viewer could earn 65. \
The /10 column shows the same five parts as 2 points each.</p></section>",
        a = WEIGHTS.attendance,
        p = WEIGHTS.polls,
        c = WEIGHTS.chat,
        q = WEIGHTS.qa,
        r = WEIGHTS.reactions,
        cc = CHAT_CAP_PER_MIN,
        qc = QA_CAP_PER_MIN,
        rc = REACTIONS_CAP_PER_MIN,
        share = RATE_FLOOR_CLASS_SHARE * 100.0,
        hour_floor = RATE_FLOOR_CLASS_SHARE * 60.0,
    );
    h.push_str("</body></html>\n");
    h
}

fn viewers_csv(s: &EngagementSnapshot) -> String {
    let mut out = String::from(
        "viewer,name,watch_minutes,joins,chat,reactions,polls_asked,polls_answered,questions,upvotes,offer_exposures,offer_clicks,offer_dismissals,score,attendance_points,polls_points,chat_points,qa_points,reactions_points,ten_point_total,measurable_points,rate_minutes\n",
    );
    let points = |p: &super::score::ScorePart| {
        if p.measured {
            format!("{:.2}", p.points)
        } else {
            String::new()
        }
    };
    for v in &s.viewers {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{:.1},{},{},{},{},{},{:.1},{:.0},{:.1}",
            csv_cell(&v.viewer),
            csv_cell(&v.name),
            minutes_text(v.watch_ms),
            v.joins,
            v.chat,
            v.reactions,
            v.polls_asked,
            v.polls_answered,
            v.questions,
            v.upvotes,
            v.offer_exposures,
            v.offer_clicks,
            v.offer_dismissals,
            v.score.total,
            points(&v.score.attendance),
            points(&v.score.polls),
            points(&v.score.chat),
            points(&v.score.qa),
            points(&v.score.reactions),
            v.score.ten_point.total,
            v.score.measurable_points,
            v.score.rate_minutes,
        );
    }
    out
}

fn minutes_csv(s: &EngagementSnapshot) -> String {
    let mut out = String::from(
        "minute,start_utc,suppressed,viewers,present_at_end,retention_pct,joins,leaves,chat,reactions,ballots,questions,upvotes,offer_exposures,offer_clicks\n",
    );
    for m in &s.minutes {
        if shown(m) {
            let _ = writeln!(
                out,
                "{},{},false,{},{},{:.1},{},{},{},{},{},{},{},{},{}",
                m.minute,
                utc(m.start_ms),
                m.viewers,
                m.present_at_end,
                m.retention_pct,
                m.joins,
                m.leaves,
                m.chat,
                m.reactions,
                m.ballots,
                m.questions,
                m.upvotes,
                m.offer_exposures,
                m.offer_clicks
            );
        } else {
            let _ = writeln!(out, "{},{},true,,,,,,,,,,,,", m.minute, utc(m.start_ms));
        }
    }
    out
}

fn polls_csv(s: &EngagementSnapshot) -> String {
    let mut out = String::from(
        "poll,question,opened_utc,closed_utc,suppressed,present_at_open,ballots,participation_pct\n",
    );
    for p in &s.polls {
        let head = format!(
            "{},{},{},{}",
            p.poll,
            csv_cell(&p.question),
            utc(p.opened_at_ms),
            p.closed_at_ms.map(utc).unwrap_or_default()
        );
        if p.ballots >= MIN_GROUP {
            let _ = writeln!(
                out,
                "{head},false,{},{},{:.1}",
                p.present_at_open, p.ballots, p.participation_pct
            );
        } else {
            let _ = writeln!(out, "{head},true,,,");
        }
    }
    out
}

/// The report of a class from its snapshot (usually taken at the end), with the charts the
/// caller drew (`ReportCharts::default()` for none).
pub fn class_report(
    meta: &ReportMeta,
    snapshot: &EngagementSnapshot,
    charts: &ReportCharts,
) -> ClassReport {
    ClassReport {
        html: html(meta, snapshot, charts),
        viewers_csv: viewers_csv(snapshot),
        minutes_csv: minutes_csv(snapshot),
        polls_csv: polls_csv(snapshot),
    }
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc_4648() {
        // The test vectors of RFC 4648, section 10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
    }
}
