//! Integration tests of lectern-store: real files in a temp dir per test, no mocks.
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failed test

mod backup;
mod crash;
mod demo;
mod fuzz;
mod import;
mod migrations;
mod models;
mod moderators;
mod privacy;
mod writer;

use std::path::{Path, PathBuf};

use lectern_store::{NewEvent, Store, rusqlite};

/// A fresh temp dir and the school path inside it.
fn school() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.lectern");
    (dir, path)
}

fn event(session_id: i64, client_id: &str) -> NewEvent {
    NewEvent {
        session_id,
        kind: "chat".to_owned(),
        actor: Some("lrn_000000000001".to_owned()),
        at_ms: 1_793_491_200_000,
        payload: serde_json::json!({ "text": format!("hello {client_id}") }),
        client_id: client_id.to_owned(),
    }
}

/// A plain connection for checking a file behind the store's back.
fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// `(session_id, seq)` of every event, in id (commit) order.
async fn all_seqs(store: &Store) -> Vec<(i64, i64)> {
    store
        .read(|conn| {
            let mut stmt = conn.prepare("SELECT session_id, seq FROM events ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
        .unwrap()
}

/// Asserts each session's seqs are exactly 1..=N in commit (id) order.
fn assert_contiguous(seqs: &[(i64, i64)]) {
    let mut next = std::collections::BTreeMap::new();
    for &(session, seq) in seqs {
        let expected = next.entry(session).or_insert(1);
        assert_eq!(
            seq, *expected,
            "session {session}: seq {seq} where {expected} was due"
        );
        *expected += 1;
    }
}

#[test]
fn store_is_a_cheap_shared_handle() {
    fn assert_handle<T: Clone + Send + Sync + 'static>() {}
    assert_handle::<Store>();
    fn assert_error<T: std::error::Error + Clone + Send + Sync + 'static>() {}
    assert_error::<lectern_store::StoreError>();
}
