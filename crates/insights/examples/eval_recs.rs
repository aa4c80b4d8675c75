//! The offline evaluation of recommendations on generated schools of different structures, and
//! on a school given as the importer's catalog and purchases CSV files (the demo's, for example).
//!
//! `cargo run --release -p lectern-insights --example eval_recs -- [catalog.csv purchases.csv]`
//!
//! Prints `evaluate_report`'s table for each school and how long it took; with `--seeds N`,
//! only the blend's difference to the best baseline (warm learners, new courses) for seeds 1 to
//! N of each generated shape.

#![allow(clippy::unwrap_used, reason = "an example: fail loudly")]

use std::time::Instant;

use lectern_insights::recs::{
    CourseInfo, EvalOptions, Method, PurchaseRecord, Segment, evaluate_report,
};
use lectern_insights::school_gen::{School, SchoolShape};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, n] = args.as_slice()
        && flag == "--seeds"
    {
        return seeds(n.parse().unwrap());
    }
    if let [catalog, purchases] = args.as_slice() {
        let text = std::fs::read_to_string(catalog).unwrap();
        let courses = read_catalog(&text);
        let purchases = read_purchases(&std::fs::read_to_string(purchases).unwrap());
        run(
            &format!("{catalog}, catalog in the file's order"),
            &courses,
            &purchases,
        );
        if let Some(in_tracks) = in_track_order(&text, &courses) {
            run(
                &format!("{catalog}, catalog in track order (track, track_position)"),
                &in_tracks,
                &purchases,
            );
        }
    }
    for (name, shape) in [
        ("generated: tag_led(7)", SchoolShape::tag_led(7)),
        (
            "generated: shuffled_tracks(7)",
            SchoolShape::shuffled_tracks(7),
        ),
        ("generated: bundled(7)", SchoolShape::bundled(7)),
        (
            "generated: bundles_in_parts(7)",
            SchoolShape::bundles_in_parts(7),
        ),
        (
            "generated: catalog_tracks(7)",
            SchoolShape::catalog_tracks(7),
        ),
    ] {
        let school = School::generate(&shape);
        run(name, &school.course_infos(), &school.purchase_records());
    }
}

/// A generated school's shape for a seed.
type Shape = fn(u64) -> SchoolShape;

/// Only the blend - best baseline of the warm learners and of the new courses, for seeds 1..=n
/// of every shape: how much the verdict depends on the draw.
fn seeds(n: u64) {
    let shapes: [(&str, Shape); 5] = [
        ("tag_led", SchoolShape::tag_led),
        ("shuffled_tracks", SchoolShape::shuffled_tracks),
        ("bundled", SchoolShape::bundled),
        ("bundles_in_parts", SchoolShape::bundles_in_parts),
        ("catalog_tracks", SchoolShape::catalog_tracks),
    ];
    for (name, shape) in shapes {
        for seed in 1..=n {
            let school = School::generate(&shape(seed));
            let report = evaluate_report(
                &school.course_infos(),
                &school.purchase_records(),
                &EvalOptions::default(),
            );
            let warm = report.segment(Segment::Warm).unwrap();
            let blend = warm.line(Method::Blend).unwrap();
            let new = report.segment(Segment::NewCourses).unwrap();
            let launches = match (new.best_baseline, new.line(Method::Blend)) {
                (Some(best), Some(line)) => format!(
                    "{} judged, best {}: {}",
                    new.cases,
                    best.name(),
                    line.ndcg_versus_best
                        .map_or_else(|| "(is the best)".to_owned(), |i| i.to_string())
                ),
                _ => "none judged".to_owned(),
            };
            println!(
                "{name:<17} seed {seed}: best baseline {:<17} blend - best ndcg@10 {}; new courses {launches}",
                warm.best_baseline.unwrap().name(),
                blend.ndcg_versus_best.unwrap()
            );
        }
    }
}

fn run(name: &str, courses: &[CourseInfo], purchases: &[PurchaseRecord]) {
    let started = Instant::now();
    let report = evaluate_report(courses, purchases, &EvalOptions::default());
    println!(
        "== {name}: {} courses, {} purchases ({:.2} s)\n{report}\n",
        courses.len(),
        purchases.len(),
        started.elapsed().as_secs_f64()
    );
}

/// RFC 4180 records (quoted fields, doubled quotes); enough for the importer's files.
fn records(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        out.push(row);
    }
    out
}

fn columns(header: &[String], names: &[&str]) -> Vec<usize> {
    names
        .iter()
        .map(|n| {
            header
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(n))
                .unwrap_or_else(|| panic!("no column {n}"))
        })
        .collect()
}

fn read_catalog(text: &str) -> Vec<CourseInfo> {
    let rows = records(text);
    let c = columns(&rows[0], &["id", "title", "tags"]);
    rows[1..]
        .iter()
        .filter(|r| r.len() > 1)
        .map(|r| CourseInfo {
            id: r[c[0]].trim().to_owned(),
            title: r[c[1]].trim().to_owned(),
            tags: r[c[2]]
                .split(';')
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty())
                .collect(),
        })
        .collect()
}

/// The catalog sorted by its `track` and `track_position` columns, when it has them (the
/// demo's export does): the order in which a "next in catalog order" rule follows the tracks.
fn in_track_order(text: &str, courses: &[CourseInfo]) -> Option<Vec<CourseInfo>> {
    let rows = records(text);
    let header = &rows[0];
    let at = |n: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n));
    let (track, position) = (at("track")?, at("track_position")?);
    let mut keyed: Vec<((String, u32), CourseInfo)> = rows[1..]
        .iter()
        .filter(|r| r.len() > 1)
        .zip(courses)
        .map(|(r, c)| {
            let key = (r[track].clone(), r[position].trim().parse().unwrap_or(0));
            (key, c.clone())
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    Some(keyed.into_iter().map(|(_, c)| c).collect())
}

/// Purchases with a `date` (ISO 8601, as the importer reads) or a `purchased_at_ms` column.
fn read_purchases(text: &str) -> Vec<PurchaseRecord> {
    let rows = records(text);
    let c = columns(&rows[0], &["learner", "course"]);
    let ms = rows[0]
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("purchased_at_ms"));
    let date = columns(
        &rows[0],
        &[if ms.is_some() {
            "purchased_at_ms"
        } else {
            "date"
        }],
    )[0];
    rows[1..]
        .iter()
        .filter(|r| r.len() > 1)
        .map(|r| PurchaseRecord {
            learner: r[c[0]].trim().to_owned(),
            course: r[c[1]].trim().to_owned(),
            at_ms: match ms {
                Some(_) => r[date].trim().parse().unwrap(),
                None => utc_ms(r[date].trim()),
            },
        })
        .collect()
}

/// `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z]`, as UTC (offsets are not read).
fn utc_ms(s: &str) -> i64 {
    let n = |a: usize, b: usize| s.get(a..b).and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (hh, mm, ss) = (n(11, 13), n(14, 16), n(17, 19));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    ((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1_000
}
