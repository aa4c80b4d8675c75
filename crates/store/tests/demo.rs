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
    assert!((4_500..=9_000).contains(&summary.purchases), "{summary:?}");
    assert!(summary.live_purchases > 0);
    assert!(
        summary.live_purchases < summary.purchases / 20,
        "{summary:?}"
    );
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
    // Viewers are those who joined (counted here from the log's room vocabulary).
    let viewers: std::collections::BTreeMap<i64, i64> = {
        let conn = raw(&path);
        let mut stmt = conn
            .prepare(
                "SELECT session_id, count(DISTINCT actor) FROM events
                  WHERE kind = 'viewer_joined' AND actor <> 'instructor' GROUP BY session_id",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let lively: Vec<u64> = recent
        .iter()
        .map(|s| s.events / viewers.get(&s.id).map_or(1, |&n| n.max(1) as u64))
        .collect();
    assert!(
        lively.iter().max().unwrap() >= &(2 * lively.iter().min().unwrap()),
        "engagement should vary: {lively:?}"
    );
    for s in &recent {
        let joined = viewers.get(&s.id).copied().unwrap_or(0);
        assert!((40..=250).contains(&joined), "{s:?}: {joined} viewers");
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
    // discounts, repeat buyers, a few heavy buyers, and many learners who never buy.
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
    let buyers = one(&conn, "SELECT count(DISTINCT learner_id) FROM purchases");
    assert!(
        (1_500..=1_950).contains(&buyers),
        "{buyers} of 3,000 learners buy: 35-50% should never buy"
    );
    assert!(
        one(
            &conn,
            "SELECT count(*) FROM (SELECT learner_id FROM purchases GROUP BY learner_id HAVING count(*) >= 2)"
        ) > 500
    );
    // New courses: a few have their first buyer only in the last three months, one in the
    // last week, with few buyers yet.
    let launches: Vec<(String, i64, i64)> = {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT course_id, count(*), min(purchased_at_ms) FROM purchases GROUP BY course_id
                  HAVING min(purchased_at_ms) > {} ORDER BY 3",
                demo::DEMO_NOW_MS - 90 * 86_400_000
            ))
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(launches.len(), 4, "{launches:?}");
    assert!(
        launches
            .iter()
            .any(|(_, n, first)| *n < 30 && *first > demo::DEMO_NOW_MS - 7 * 86_400_000),
        "{launches:?}"
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

    // Events: the live room's vocabulary and nothing else (each payload decodes as a room
    // record: `every_demo_record_is_one_the_room_reads`); in time order within a session;
    // actors are viewer ids and the instructor, never learner ids.
    let kinds: BTreeSet<String> = {
        let mut stmt = conn.prepare("SELECT DISTINCT kind FROM events").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let room_kinds: BTreeSet<String> = [
        "viewer_joined",
        "viewer_left",
        "media_presence",
        "learner_linked",
        "email_linked",
        "chat_sent",
        "reactions_aggregated",
        "reactions_by",
        "poll_created",
        "poll_opened",
        "ballot_cast",
        "poll_closed",
        "offer_pushed",
        "offer_shown",
        "offer_exposed",
        "offer_clicked",
        "offer_withdrawn",
        "question_asked",
        "question_approved",
        "question_upvoted",
        "question_answered",
        "broadcast_ended",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(kinds, room_kinds);
    // Each record is written as the engine writes a room record: the kind is the event's type,
    // the actor its author, the time its time.
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events WHERE json_extract(payload, '$.event.type') IS NOT kind
                OR json_extract(payload, '$.by') IS NOT actor
                OR json_extract(payload, '$.at') IS NOT at_ms
                OR json_extract(payload, '$.v') IS NOT 1"
        ),
        0
    );
    // Who did it is in the event too: joins, links, chat, ballots, questions, upvotes and offer
    // responses name the actor; what the room did by itself has none.
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events WHERE kind IN ('viewer_joined', 'learner_linked',
                 'email_linked', 'chat_sent', 'ballot_cast', 'question_asked', 'question_upvoted',
                 'offer_exposed', 'offer_clicked') AND actor IS NOT coalesce(
                 json_extract(payload, '$.event.viewer'),
                 json_extract(payload, '$.event.message.author'),
                 json_extract(payload, '$.event.ballot.viewer'),
                 CASE kind WHEN 'question_asked' THEN json_extract(payload, '$.event.question.asker') END)"
        ),
        0
    );
    // Questions are numbered in the order asked; upvotes follow their approval and count up.
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events q WHERE q.kind = 'question_asked'
                AND json_extract(q.payload, '$.event.question.id') <>
                    (SELECT count(*) FROM events p WHERE p.session_id = q.session_id
                        AND p.kind = 'question_asked' AND p.seq <= q.seq)"
        ),
        0
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events u WHERE u.kind = 'question_upvoted' AND (NOT EXISTS
               (SELECT 1 FROM events a WHERE a.session_id = u.session_id AND a.kind = 'question_approved'
                   AND json_extract(a.payload, '$.event.question.id') = json_extract(u.payload, '$.event.question')
                   AND a.seq < u.seq)
               OR json_extract(u.payload, '$.event.votes') <>
                  (SELECT count(*) FROM events v WHERE v.session_id = u.session_id AND v.kind = 'question_upvoted'
                      AND json_extract(v.payload, '$.event.question') = json_extract(u.payload, '$.event.question')
                      AND v.seq <= u.seq))"
        ),
        0
    );
    assert!(
        one(
            &conn,
            "SELECT count(*) FROM events WHERE kind = 'question_upvoted'"
        ) > 30
    );
    // Reactions carry no viewer, as the room records them: one event per second at most.
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events WHERE kind = 'reactions_aggregated' AND actor IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE kind = 'reactions_aggregated'
               GROUP BY session_id, json_extract(payload, '$.event.second') HAVING count(*) > 1)"
        ),
        0
    );
    // Every session ends once, last.
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events e WHERE kind = 'broadcast_ended'
                AND seq = (SELECT max(seq) FROM events WHERE session_id = e.session_id)"
        ),
        30
    );
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
            "SELECT count(*) FROM events WHERE actor <> 'instructor'
                AND (length(actor) <> 22 OR actor GLOB 'v-*[^0-9a-f]*' OR actor NOT GLOB 'v-*')"
        ),
        0
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events WHERE kind IN ('reactions_aggregated', 'broadcast_ended')
                AND actor IS NOT NULL"
        ),
        0
    );
    // A share of viewers say who they are: by their personal join link (each join) or their
    // email, typed once with consent; the others stay anonymous.
    let joined = one(
        &conn,
        "SELECT count(DISTINCT actor) FROM events WHERE kind = 'viewer_joined' AND actor <> 'instructor'",
    );
    let linked = one(
        &conn,
        "SELECT count(DISTINCT actor) FROM events WHERE kind = 'learner_linked'",
    );
    let emailed = one(
        &conn,
        "SELECT count(DISTINCT actor) FROM events WHERE kind = 'email_linked'",
    );
    assert!(
        linked * 4 > joined && emailed * 20 > joined && (linked + emailed) * 10 < joined * 9,
        "{joined} viewers, {linked} by join link, {emailed} by email"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events e WHERE kind = 'learner_linked'
                AND json_extract(payload, '$.event.learner') NOT IN (SELECT id FROM learners)"
        ),
        0
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events e WHERE kind = 'email_linked'
                AND json_extract(payload, '$.event.email_hash') NOT IN
                    (SELECT email_hash FROM learners WHERE email_hash IS NOT NULL)"
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
    // Every live purchase carries the reference code of its buyer's click (the room's
    // `<offer>.<variant>.<viewer>`), for that course, and follows the click, which follows
    // their exposure. A buyer who came with their join link is that learner.
    let codes: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT ref_code FROM purchases WHERE ref_code IS NOT NULL")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(codes.len() as u64, summary.live_purchases);
    for code in &codes {
        let reference = lectern_room::parse_reference(code);
        assert!(
            reference
                .is_some_and(|r| r.offer.starts_with("offer-") && r.viewer.0.starts_with("v-")),
            "{code}"
        );
    }
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM purchases p WHERE p.ref_code IS NOT NULL AND NOT EXISTS
               (SELECT 1 FROM events c WHERE c.kind = 'offer_clicked'
                   AND json_extract(c.payload, '$.event.offer') || '.' ||
                       json_extract(c.payload, '$.event.variant_name') || '.' || c.actor = p.ref_code
                   AND json_extract(c.payload, '$.event.course_id') = p.course_id
                   AND c.at_ms < p.purchased_at_ms)"
        ),
        0
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM purchases p JOIN events l ON l.kind = 'learner_linked'
                AND p.ref_code LIKE '%.' || l.actor
              WHERE json_extract(l.payload, '$.event.learner') <> p.learner_id"
        ),
        0
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events c WHERE c.kind = 'offer_clicked' AND NOT EXISTS
               (SELECT 1 FROM events x WHERE x.session_id = c.session_id AND x.kind = 'offer_exposed'
                   AND x.actor = c.actor AND x.seq < c.seq)"
        ),
        0
    );
    // Chat and ballots happen while their author is in the room: after their first join.
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events c WHERE c.kind IN ('chat_sent', 'ballot_cast') AND NOT EXISTS
                     (SELECT 1 FROM events j WHERE j.session_id = c.session_id AND j.kind = 'viewer_joined'
                        AND j.actor = c.actor AND j.seq < c.seq)"
        ),
        0
    );
    // Ballots name an option of their poll, and the running totals add up.
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM events b WHERE b.kind = 'ballot_cast' AND (
                json_extract(b.payload, '$.event.ballot.choices[0]') >=
                  (SELECT json_array_length(o.payload, '$.event.options') FROM events o
                    WHERE o.session_id = b.session_id AND o.kind = 'poll_opened'
                      AND json_extract(o.payload, '$.event.poll') = json_extract(b.payload, '$.event.poll'))
             OR (SELECT sum(value) FROM json_each(b.payload, '$.event.totals')) <>
                  (SELECT count(*) FROM events b2 WHERE b2.session_id = b.session_id AND b2.kind = 'ballot_cast'
                      AND json_extract(b2.payload, '$.event.poll') = json_extract(b.payload, '$.event.poll')
                      AND b2.seq <= b.seq))"
        ),
        0
    );
    // Rejoins exist, and drop-off: fewer people present at the end than at a quarter.
    assert!(
        one(
            &conn,
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE kind = 'viewer_joined' GROUP BY session_id, actor HAVING count(*) > 1)"
        ) > 0
    );
    let present_at = |fraction_sql: &str| {
        one(
            &conn,
            &format!(
                "SELECT sum(CASE e.kind WHEN 'viewer_joined' THEN 1 ELSE -1 END)
                   FROM events e JOIN live_sessions s ON s.id = e.session_id
                  WHERE e.kind IN ('viewer_joined', 'viewer_left') AND e.at_ms <= {fraction_sql}"
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

/// Every payload of the demo's log is a record the live room reads: it decodes as a
/// `lectern_room::Recorded` and encodes back to the same JSON (nothing the room does not know),
/// its event's type is the row's kind, its author the actor, its time the row's time; and each
/// class's records replay into a room that has ended and records nothing more.
#[test]
fn every_demo_record_is_one_the_room_reads() {
    use lectern_room::{Input, Output, Recorded, Role, Room, Timestamp, ViewerId};
    let (_dir, path) = school();
    demo::generate(&path, 11).unwrap();
    let conn = raw(&path);
    type Line = (i64, i64, String, Option<String>, i64, String);
    let lines: Vec<Line> = {
        let mut stmt = conn
            .prepare(
                "SELECT session_id, seq, kind, actor, at_ms, payload FROM events
                  ORDER BY session_id, seq",
            )
            .unwrap();
        stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    assert!(lines.len() > 10_000, "{}", lines.len());
    let mut classes: std::collections::BTreeMap<i64, Vec<Recorded>> = Default::default();
    for (session, seq, kind, actor, at_ms, payload) in &lines {
        let record: Recorded = serde_json::from_str(payload)
            .unwrap_or_else(|e| panic!("session {session} #{seq}: {e}\n{payload}"));
        let value: serde_json::Value = serde_json::from_str(payload).unwrap();
        assert_eq!(
            serde_json::to_value(&record).unwrap(),
            value,
            "session {session} #{seq}"
        );
        assert_eq!(value["event"]["type"].as_str(), Some(kind.as_str()));
        // The room's `EventKind` names every record's kind as its `type`.
        assert_eq!(record.event.kind().name(), *kind);
        assert_eq!(
            lectern_room::EventKind::from_name(kind),
            Some(record.event.kind())
        );
        assert_eq!(record.by.as_ref().map(|v| v.0.as_str()), actor.as_deref());
        assert_eq!(record.at.0 as i64, *at_ms);
        classes.entry(*session).or_default().push(record);
    }
    assert_eq!(classes.len(), 30);
    for (session, records) in &classes {
        let mut room = Room::replay(records);
        assert_eq!(room.next_deadline(), None, "session {session}");
        let after = records.last().unwrap().at.plus_ms(1_000);
        let out = room.handle(
            Input::Join {
                viewer: ViewerId::from("v-00000000000000000000"),
                role: Role::Viewer,
                name: "Late".into(),
                fingerprint: None,
            },
            Timestamp(after.0),
        );
        assert!(
            !out.iter().any(|o| matches!(o, Output::Event { .. })),
            "session {session} did not end: {out:?}"
        );
    }
}
