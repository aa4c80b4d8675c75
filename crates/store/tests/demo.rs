//! The demo school: deterministic, realistic in shape, never half-written.

use std::collections::BTreeSet;
use std::time::Instant;

use lectern_store::{Store, demo, rusqlite};

use super::{all_seqs, assert_contiguous, event, raw, school};

type Row = Vec<String>;

/// Every column of a query's rows, as text, for exact comparison.
fn rows(conn: &rusqlite::Connection, sql: &str) -> Vec<Row> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                let v: rusqlite::types::Value = r.get(i)?;
                Ok(format!("{v:?}"))
            })
            .collect::<Result<Row, _>>()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn one(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn same_seed_same_school() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.lectern");
    let b = dir.path().join("b.lectern");
    let c = dir.path().join("c.lectern");
    let started = Instant::now();
    let summary_a = demo::generate(&a, 2026).unwrap();
    eprintln!("demo generated in {:?}: {summary_a:?}", started.elapsed());
    let summary_b = demo::generate(&b, 2026).unwrap();
    assert_eq!(summary_a, summary_b);
    let summary_c = demo::generate(&c, 7).unwrap();
    assert_ne!(summary_a, summary_c, "another seed gives another school");

    let (ca, cb) = (raw(&a), raw(&b));
    for sql in [
        "SELECT * FROM events ORDER BY id LIMIT 100",
        "SELECT * FROM events ORDER BY id DESC LIMIT 100",
        "SELECT * FROM purchases ORDER BY id",
        "SELECT * FROM learners ORDER BY id",
        "SELECT * FROM courses ORDER BY id",
        "SELECT * FROM course_tags ORDER BY course_id, tag",
        "SELECT * FROM live_sessions ORDER BY id",
        "SELECT name, is_demo, created_at_ms FROM school",
        "SELECT count(*), sum(length(payload)), max(id) FROM events",
    ] {
        assert_eq!(rows(&ca, sql), rows(&cb, sql), "{sql}");
    }
}

#[tokio::test]
async fn demo_school_has_the_promised_shape() {
    let (_dir, path) = school();
    let summary = demo::generate(&path, 1).unwrap();
    assert_eq!(summary.courses, 40);
    assert_eq!(summary.learners, 3_000);
    assert_eq!(summary.sessions, 30);
    assert!((8_000..=12_000).contains(&summary.purchases), "{summary:?}");
    assert!(summary.live_purchases > 0);
    assert!(summary.events > 10_000, "{summary:?}");

    let store = Store::open_existing(&path).unwrap();
    let profile = store.school().await.unwrap();
    assert_eq!(profile.name, "Northwind Academy (demo)");
    assert!(profile.is_demo);
    let counts = store.counts().await.unwrap();
    assert_eq!(
        (
            counts.courses,
            counts.learners,
            counts.purchases,
            counts.sessions,
            counts.events
        ),
        (
            summary.courses,
            summary.learners,
            summary.purchases,
            summary.sessions,
            summary.events
        )
    );
    assert_contiguous(&all_seqs(&store).await);

    let recent = store.recent_sessions(100).await.unwrap();
    assert_eq!(recent.len(), 30);
    let lively: Vec<u64> = recent.iter().map(|s| s.events / s.viewers.max(1)).collect();
    assert!(
        lively.iter().max().unwrap() >= &(2 * lively.iter().min().unwrap()),
        "engagement should vary: {lively:?}"
    );
    for s in &recent {
        assert!((40..=250).contains(&s.viewers), "{s:?}");
        let minutes = (s.ended_at_ms.unwrap() - s.started_at_ms) / 60_000;
        assert!((45..=90).contains(&minutes), "{s:?}");
        assert!(s.course_title.is_some());
        assert!(
            s.started_at_ms >= demo::DEMO_START_MS && s.ended_at_ms.unwrap() <= demo::DEMO_NOW_MS
        );
    }
    store.close().await.unwrap();

    let conn = raw(&path);
    // Courses: 2-4 tags, prices 19-249 USD, about 6 tracks.
    assert_eq!(one(&conn, "SELECT count(DISTINCT track) FROM courses"), 6);
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM (SELECT course_id, count(*) n FROM course_tags GROUP BY course_id HAVING n < 2 OR n > 4)"
        ),
        0
    );
    assert_eq!(one(&conn, "SELECT min(price_cents) FROM courses"), 1_900);
    assert_eq!(one(&conn, "SELECT max(price_cents) FROM courses"), 24_900);
    // Purchases: unique orders, inside the year, no course bought twice by one learner, some
    // discounts, and a few heavy buyers.
    assert_eq!(
        one(&conn, "SELECT count(DISTINCT order_id) FROM purchases"),
        summary.purchases as i64
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM (SELECT 1 FROM purchases GROUP BY learner_id, course_id HAVING count(*) > 1)"
        ),
        0
    );
    assert_eq!(
        one(
            &conn,
            &format!(
                "SELECT count(*) FROM purchases WHERE purchased_at_ms < {} OR purchased_at_ms >= {}",
                demo::DEMO_START_MS,
                demo::DEMO_NOW_MS
            )
        ),
        0
    );
    assert!(
        one(
            &conn,
            "SELECT count(*) FROM purchases p JOIN courses c ON c.id = p.course_id WHERE p.amount_cents < c.price_cents"
        ) > 100
    );
    assert!(
        one(
            &conn,
            "SELECT count(*) FROM (SELECT learner_id FROM purchases GROUP BY learner_id HAVING count(*) >= 10)"
        ) >= 10
    );
    // Track order: far more learners go beginner -> next course of the same track than the
    // reverse.
    let forward = one(
        &conn,
        "SELECT count(*) FROM purchases a JOIN purchases b ON a.learner_id = b.learner_id
           JOIN courses ca ON ca.id = a.course_id JOIN courses cb ON cb.id = b.course_id
          WHERE ca.track = cb.track AND cb.track_position = ca.track_position + 1
            AND b.purchased_at_ms > a.purchased_at_ms",
    );
    let backward = one(
        &conn,
        "SELECT count(*) FROM purchases a JOIN purchases b ON a.learner_id = b.learner_id
           JOIN courses ca ON ca.id = a.course_id JOIN courses cb ON cb.id = b.course_id
          WHERE ca.track = cb.track AND cb.track_position = ca.track_position + 1
            AND b.purchased_at_ms < a.purchased_at_ms",
    );
    assert!(
        forward > 5 * backward.max(1),
        "forward {forward}, backward {backward}"
    );

    // Events: every kind present; in time order within a session; actors are learners.
    let kinds: BTreeSet<String> = {
        let mut stmt = conn.prepare("SELECT DISTINCT kind FROM events").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    for kind in [
        "join",
        "leave",
        "chat",
        "reaction",
        "poll_open",
        "poll_answer",
        "poll_close",
        "offer_exposure",
        "offer_click",
        "purchase",
    ] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events a JOIN events b ON a.session_id = b.session_id AND b.seq = a.seq + 1 WHERE b.at_ms < a.at_ms"
        ),
        0
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events WHERE actor IS NOT NULL AND actor NOT IN (SELECT id FROM learners)"
        ),
        0
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events WHERE client_id <> 'demo-' || session_id || '-' || seq"
        ),
        0
    );
    // Every purchase event is mirrored in purchases, with its ref_code.
    let mirrored = one(
        &conn,
        "SELECT count(*) FROM events e JOIN purchases p
            ON p.order_id = json_extract(e.payload, '$.order_id')
           AND p.course_id = json_extract(e.payload, '$.course_id')
           AND p.learner_id = e.actor
           AND p.ref_code = 'live-' || e.session_id
         WHERE e.kind = 'purchase'",
    );
    assert_eq!(mirrored, summary.live_purchases as i64);
    assert_eq!(
        one(&conn, "SELECT count(*) FROM events WHERE kind = 'purchase'"),
        mirrored
    );
    // Chat happens while its author is in the room: after their first join.
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events c WHERE c.kind = 'chat' AND NOT EXISTS
                     (SELECT 1 FROM events j WHERE j.session_id = c.session_id AND j.kind = 'join'
                        AND j.actor = c.actor AND j.seq < c.seq)"
        ),
        0
    );
    // Rejoins exist, and drop-off: fewer people present at the end than at a quarter.
    assert!(
        one(
            &conn,
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE kind = 'join' GROUP BY session_id, actor HAVING count(*) > 1)"
        ) > 0
    );
    let present_at = |fraction_sql: &str| {
        one(
            &conn,
            &format!(
                "SELECT sum(CASE e.kind WHEN 'join' THEN 1 ELSE -1 END)
                   FROM events e JOIN live_sessions s ON s.id = e.session_id
                  WHERE e.kind IN ('join', 'leave') AND e.at_ms <= {fraction_sql}"
            ),
        )
    };
    let early = present_at("s.started_at_ms + (s.ended_at_ms - s.started_at_ms) / 4");
    let late = present_at("s.ended_at_ms - 120000");
    assert!(
        late < early,
        "no drop-off: {early} present early, {late} late"
    );
}

#[tokio::test]
async fn demo_opens_and_continues() {
    let (_dir, path) = school();
    demo::generate(&path, 3).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let err = demo::generate(&path, 3).unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    let store = Store::open(&path).unwrap();
    let last = store.events_after(1, 0, 100_000).await.unwrap();
    let n = last.len() as i64;
    let rec = store.append(vec![event(1, "after-demo")]).await.unwrap();
    assert_eq!(rec[0].seq, n + 1);
    store.close().await.unwrap();
}

#[tokio::test]
async fn the_catalog_and_the_purchase_history_read_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.sqlite");
    demo::generate(&path, 2026).unwrap();
    let store = Store::open_existing(&path).unwrap();
    let counts = store.counts().await.unwrap();

    let catalog = store.catalog().await.unwrap();
    assert_eq!(catalog.len() as u64, counts.courses);
    for course in &catalog {
        assert!((2..=4).contains(&course.tags.len()), "{course:?}");
        assert!(
            course.tags.windows(2).all(|w| w[0] < w[1]),
            "tags sorted and distinct: {course:?}"
        );
        assert!(course.price_cents >= 0 && course.length_minutes > 0);
    }

    let history = store.purchase_history().await.unwrap();
    assert_eq!(history.len() as u64, counts.purchases);
    assert!(
        history
            .windows(2)
            .all(|w| w[0].purchased_at_ms <= w[1].purchased_at_ms)
    );
    let ids: BTreeSet<&str> = catalog.iter().map(|c| c.id.as_str()).collect();
    assert!(history.iter().all(|p| ids.contains(p.course_id.as_str())));
    assert!(history.iter().all(|p| p.amount_cents >= 0));

    let spans = store.session_spans().await.unwrap();
    assert_eq!(spans.len() as u64, counts.sessions);
    assert!(
        spans
            .iter()
            .all(|s| s.ended_at_ms.is_some_and(|end| end > s.started_at_ms))
    );
    let activity = store.activity().await.unwrap();
    assert_eq!(activity.len() as u64, counts.events);
    store.close().await.unwrap();
}
