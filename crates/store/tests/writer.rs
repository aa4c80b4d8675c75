//! The single writer: grouped commits, seq order, idempotency, validation, full disk.

use std::collections::BTreeMap;

use lectern_store::{NewEvent, Store, StoreError};

use super::{all_seqs, assert_contiguous, event, school};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_grouped_and_numbered_in_commit_order() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let mut sessions = Vec::new();
    for i in 0..4 {
        sessions.push(
            store
                .create_session(&format!("Session {i}"), None, 1_000)
                .await
                .unwrap(),
        );
    }
    let before = store.writer_stats();

    const TASKS: usize = 50;
    const PER_TASK: usize = 40;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        let session = sessions[task % sessions.len()];
        handles.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for n in 0..PER_TASK {
                let rec = store
                    .append(vec![event(session, &format!("t{task}-n{n}"))])
                    .await
                    .unwrap();
                acked.extend(rec);
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for h in handles {
        let records = h.await.unwrap();
        // Causality: an append submitted after another was acknowledged gets a later seq.
        for pair in records.windows(2) {
            assert!(pair[0].seq < pair[1].seq, "{pair:?}");
            assert!(pair[0].id < pair[1].id);
        }
        acked.extend(records);
    }
    assert_eq!(acked.len(), TASKS * PER_TASK);

    let stats = store.writer_stats();
    let requests = stats.requests - before.requests;
    let commits = stats.commits - before.commits;
    assert_eq!(requests, (TASKS * PER_TASK) as u64);
    assert!(
        commits < requests,
        "{commits} commits for {requests} requests"
    );
    eprintln!("{requests} appends in {commits} commits");

    // Stored: every session numbered 1..=N, seq order equal to commit (id) order.
    let seqs = all_seqs(&store).await;
    assert_eq!(seqs.len(), TASKS * PER_TASK);
    assert_contiguous(&seqs);
    let mut per_session: BTreeMap<i64, usize> = BTreeMap::new();
    for (s, _) in &seqs {
        *per_session.entry(*s).or_default() += 1;
    }
    for (i, session) in sessions.iter().enumerate() {
        let tasks = (0..TASKS).filter(|t| t % sessions.len() == i).count();
        assert_eq!(per_session[session], tasks * PER_TASK);
    }

    // The acknowledged records are what is stored.
    for rec in acked.iter().step_by(97) {
        let stored = store
            .events_after(rec.session_id, rec.seq - 1, 1)
            .await
            .unwrap();
        assert_eq!(stored, vec![rec.clone()]);
    }
    store.close().await.unwrap();
}

#[tokio::test]
async fn retried_batch_is_stored_once() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let s = store.create_session("Retry", None, 0).await.unwrap();
    let batch = vec![event(s, "a"), event(s, "b"), event(s, "c")];
    let first = store.append(batch.clone()).await.unwrap();
    assert_eq!(first.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);

    let again = store.append(batch.clone()).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(store.counts().await.unwrap().events, 3);

    // A retry that changed its mind about the content still gets the original record.
    let mut changed = event(s, "b");
    changed.payload = serde_json::json!({ "text": "different" });
    let mixed = store
        .append(vec![changed, event(s, "d"), event(s, "d")])
        .await
        .unwrap();
    assert_eq!(mixed[0], first[1]);
    assert_eq!(mixed[1].seq, 4);
    assert_eq!(
        mixed[2], mixed[1],
        "a duplicate inside one batch is stored once"
    );
    assert_eq!(store.counts().await.unwrap().events, 4);
    store.close().await.unwrap();
}

#[tokio::test]
async fn invalid_input_is_rejected_and_nothing_written() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let s = store.create_session("Validation", None, 0).await.unwrap();

    let mut empty_kind = event(s, "k");
    empty_kind.kind.clear();
    let mut big = event(s, "big");
    big.payload = serde_json::json!({ "text": "x".repeat(70 * 1024) });
    let mut empty_actor = event(s, "actor");
    empty_actor.actor = Some(String::new());
    for bad in [event(s, ""), empty_kind, big, empty_actor] {
        // A valid event in the same batch is not stored either.
        let err = store.append(vec![event(s, "good"), bad]).await.unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{err}");
    }
    // An unknown session anywhere in the batch: not found, and the batch is undone.
    let err = store
        .append(vec![event(s, "good"), event(s + 100, "lost")])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found", "{err}");
    assert_eq!(store.counts().await.unwrap().events, 0);
    assert_eq!(
        store.events_after(s + 100, 0, 10).await.unwrap_err().code(),
        "not_found"
    );

    for name in ["", "   ", &"n".repeat(121)] {
        let err = store.set_school_name(name).await.unwrap_err();
        assert_eq!(err.code(), "invalid_input");
    }
    store.set_school_name(&"n".repeat(120)).await.unwrap();
    assert_eq!(
        store.create_session("", None, 0).await.unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        store
            .create_session("Course session", Some("no-such-course"), 0)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        store.set_setting("", "v").await.unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(store.counts().await.unwrap().sessions, 1);
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_request_does_not_undo_its_group() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let mut handles = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    tx.execute(
                        "INSERT INTO settings (key, value) VALUES (?1, 'x')",
                        [format!("k{i}")],
                    )?;
                    if i % 2 == 1 {
                        return Err(StoreError::invalid("odd requests fail after writing"));
                    }
                    Ok(i)
                })
                .await
        }));
    }
    for (i, h) in handles.into_iter().enumerate() {
        let result = h.await.unwrap();
        assert_eq!(result.is_ok(), i % 2 == 0, "{i}: {result:?}");
    }
    for i in 0..40 {
        let value = store.setting(&format!("k{i}")).await.unwrap();
        assert_eq!(value.is_some(), i % 2 == 0, "k{i}");
    }
    // A panicking request is undone and reported; the writer lives on.
    let err = store
        .write(|tx| -> Result<(), StoreError> {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('panic', 'x')",
                [],
            )?;
            panic!("boom")
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "storage");
    assert_eq!(store.setting("panic").await.unwrap(), None);
    store.set_setting("after", "ok").await.unwrap();
    store.close().await.unwrap();
}

#[tokio::test]
async fn the_event_log_is_append_only() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let s = store.create_session("Append only", None, 0).await.unwrap();
    store.append(vec![event(s, "one")]).await.unwrap();
    for sql in ["UPDATE events SET kind = 'edited'", "DELETE FROM events"] {
        let err = store
            .write(move |tx| Ok(tx.execute(sql, [])?))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    let events = store.events_after(s, 0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "chat");
    store.close().await.unwrap();
}

#[tokio::test]
async fn queries_and_paging() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    store.set_school_name("  Acme Academy ").await.unwrap();
    assert_eq!(store.school().await.unwrap().name, "Acme Academy");
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO courses (id, title, level, price_cents, currency, length_minutes, track)
                 VALUES ('c1', 'Intro', 'beginner', 1900, 'USD', 60, 'Basics')",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let old = store.create_session("Older", None, 1_000).await.unwrap();
    let new = store
        .create_session("Newer", Some("c1"), 2_000)
        .await
        .unwrap();
    let mut batch: Vec<NewEvent> = (0..10).map(|i| event(new, &format!("e{i}"))).collect();
    for (i, who) in ["lrn_a", "lrn_b", "lrn_a"].iter().enumerate() {
        let mut join = event(new, &format!("join{i}"));
        join.kind = "viewer_joined".to_owned();
        join.actor = Some((*who).to_owned());
        batch.push(join);
    }
    store.append(batch).await.unwrap();
    store.end_session(new, 5_000).await.unwrap();
    assert_eq!(
        store.end_session(new, 500).await.unwrap_err().code(),
        "invalid_input"
    );

    let page = store.events_after(new, 3, 4).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5, 6, 7]);
    assert!(store.events_after(old, 0, 10).await.unwrap().is_empty());

    let recent = store.recent_sessions(10).await.unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0].id, new);
    assert_eq!(recent[0].course_title.as_deref(), Some("Intro"));
    assert_eq!(recent[0].ended_at_ms, Some(5_000));
    assert_eq!(recent[0].viewers, 2);
    assert_eq!(recent[0].events, 13);
    assert_eq!(recent[1].id, old);
    assert_eq!(recent[1].ended_at_ms, None);
    assert_eq!(store.recent_sessions(1).await.unwrap().len(), 1);

    assert_eq!(store.setting("missing").await.unwrap(), None);
    store.set_setting("lang", "en").await.unwrap();
    store.set_setting("lang", "fr").await.unwrap();
    assert_eq!(store.setting("lang").await.unwrap().as_deref(), Some("fr"));

    let counts = store.counts().await.unwrap();
    assert_eq!((counts.courses, counts.sessions, counts.events), (1, 2, 13));
    store.close().await.unwrap();
}

#[tokio::test]
async fn writes_after_close_report_writer_stopped() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let clone = store.clone();
    let s = store.create_session("Closing", None, 0).await.unwrap();
    store.close().await.unwrap();
    let err = clone.append(vec![event(s, "late")]).await.unwrap_err();
    assert_eq!(err.code(), "writer_stopped");
    // Reads still work on the remaining handle.
    assert_eq!(clone.counts().await.unwrap().sessions, 1);
}

#[tokio::test]
async fn full_disk_is_disk_full_and_leaves_no_half_rows() {
    let (_dir, path) = school();
    // Create the schema first, then reopen with a cap a little above its size.
    Store::open(&path).unwrap().close().await.unwrap();
    let pages: u32 = super::raw(&path)
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    let store = Store::open_with_page_limit(&path, pages + 60).unwrap();
    let s = store.create_session("Filling up", None, 0).await.unwrap();

    let mut acked = 0usize;
    let mut failure = None;
    for n in 0..200 {
        // Two ~40 KiB events per batch: a batch is stored whole or not at all.
        let batch: Vec<NewEvent> = (0..2)
            .map(|k| {
                let mut e = event(s, &format!("full-{n}-{k}"));
                e.payload = serde_json::json!({ "text": format!("{n}{k}").repeat(20_000) });
                e
            })
            .collect();
        match store.append(batch).await {
            Ok(records) => acked += records.len(),
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    let err = failure.expect("the page limit was never reached");
    assert_eq!(err.code(), "disk_full", "{err}");
    assert!(acked > 0);

    // Reads still work and show exactly the acknowledged events, numbered without gaps.
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.events as usize, acked);
    let seqs = all_seqs(&store).await;
    assert_contiguous(&seqs);
    let events = store.events_after(s, 0, 1_000).await.unwrap();
    assert_eq!(events.len(), acked);
    store.close().await.unwrap();

    // Without the cap, the school takes writes again.
    let store = Store::open_existing(&path).unwrap();
    let next = store.append(vec![event(s, "after-full")]).await.unwrap();
    assert_eq!(next[0].seq as usize, acked + 1);
    store.close().await.unwrap();
}
