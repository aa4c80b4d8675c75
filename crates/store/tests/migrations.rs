//! Opening files: ours, new, too new, garbage, foreign, locked; atomic migrations.

use lectern_store::testing::{M, MIGRATIONS, Migrations, steps};
use lectern_store::{APPLICATION_ID, SCHEMA_VERSION, Store};

use super::{raw, school};

fn lock_file(path: &std::path::Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    name.into()
}

#[test]
fn migrations_validate() {
    MIGRATIONS.validate().unwrap();
    assert_eq!(steps().len() as i64, SCHEMA_VERSION);
}

#[tokio::test]
async fn fresh_open_creates_schema() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let school = store.school().await.unwrap();
    assert_eq!(school.name, "My school");
    assert!(!school.is_demo);
    assert!(school.created_at_ms > 1_700_000_000_000);
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.courses + counts.learners + counts.events, 0);
    store.close().await.unwrap();

    let conn = raw(&path);
    let pragma = |name: &str| -> i64 {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(pragma("application_id"), i64::from(APPLICATION_ID));
    assert_eq!(pragma("user_version"), SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    for table in [
        "school",
        "settings",
        "courses",
        "course_tags",
        "learners",
        "purchases",
        "live_sessions",
        "events",
    ] {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "table {table}");
    }
    let secret_len: i64 = conn
        .query_row("SELECT length(install_secret) FROM school", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(secret_len, 32);
}

#[tokio::test]
async fn reopen_is_a_no_op() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let first = store.school().await.unwrap();
    let secret = store.install_secret().await.unwrap();
    store.set_setting("theme", "dark").await.unwrap();
    store.close().await.unwrap();
    let schema = |path: &std::path::Path| -> Vec<String> {
        let conn = raw(path);
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let before = schema(&path);

    let store = Store::open_existing(&path).unwrap();
    assert_eq!(store.school().await.unwrap(), first);
    assert_eq!(store.install_secret().await.unwrap(), secret);
    assert_eq!(
        store.setting("theme").await.unwrap().as_deref(),
        Some("dark")
    );
    assert_eq!(format!("{secret:?}"), "InstallSecret(..)");
    store.close().await.unwrap();
    assert_eq!(schema(&path), before);
}

#[tokio::test]
async fn database_from_the_future_is_refused_untouched() {
    let (_dir, path) = school();
    Store::open(&path).unwrap().close().await.unwrap();
    raw(&path).pragma_update(None, "user_version", 99).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let err = Store::open(&path).unwrap_err();
    assert_eq!(err.code(), "database_too_new");
    match &err {
        lectern_store::StoreError::DatabaseTooNew {
            found, supported, ..
        } => {
            assert_eq!((*found, *supported), (99, SCHEMA_VERSION));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string().contains("newer version of Lectern"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn garbage_file_is_refused_untouched() {
    let (dir, path) = school();
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    for open in [Store::open, Store::open_existing] {
        let err = open(&path).unwrap_err();
        assert_eq!(err.code(), "not_a_database", "{err}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
    // Nothing was created beside it, not even a lock file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn foreign_database_is_refused_untouched() {
    let (dir, path) = school();
    {
        let conn = raw(&path);
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
             INSERT INTO notes (body) VALUES ('not a school');",
        )
        .unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert_eq!(err.code(), "foreign_database", "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert!(!lock_file(&path).exists());

    // Another program's marker, even on an empty file, is also not ours.
    let other = dir.path().join("other.db");
    raw(&other)
        .pragma_update(None, "application_id", 42)
        .unwrap();
    let bytes = std::fs::read(&other).unwrap();
    assert_eq!(Store::open(&other).unwrap_err().code(), "foreign_database");
    assert_eq!(std::fs::read(&other).unwrap(), bytes);
    let _ = dir;
}

#[tokio::test]
async fn second_open_while_open_is_locked() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert_eq!(err.code(), "database_locked", "{err}");
    assert_eq!(
        Store::open_existing(&path).unwrap_err().code(),
        "database_locked"
    );
    // A clone does not release it; closing does.
    let clone = store.clone();
    drop(clone);
    assert_eq!(Store::open(&path).unwrap_err().code(), "database_locked");
    store.close().await.unwrap();
    Store::open(&path).unwrap().close().await.unwrap();
}

#[test]
fn open_existing_never_creates() {
    let (dir, path) = school();
    let err = Store::open_existing(&path).unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    std::fs::write(&path, b"").unwrap();
    assert_eq!(
        Store::open_existing(&path).unwrap_err().code(),
        "not_a_database"
    );
}

/// The real migrations plus one that fails halfway through its SQL.
fn failing_set() -> Migrations<'static> {
    let mut all = steps();
    all.push(M::up(
        "CREATE TABLE half_done (x INTEGER);
         INSERT INTO half_done VALUES (1);
         INSERT INTO no_such_table VALUES (1);",
    ));
    Migrations::new(all)
}

#[test]
fn failed_migration_of_a_new_file_leaves_nothing() {
    let (dir, path) = school();
    let err = Store::open_with_migrations(&path, &failing_set()).unwrap_err();
    assert_eq!(err.code(), "migration_failed", "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn failed_migration_of_an_existing_file_changes_nothing() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    store.set_school_name("Before the upgrade").await.unwrap();
    store.close().await.unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let err = Store::open_with_migrations(&path, &failing_set()).unwrap_err();
    assert_eq!(err.code(), "migration_failed", "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    let conn = raw(&path);
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let half: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(half, 0);
    drop(conn);
    // And the file still opens normally.
    let store = Store::open_existing(&path).unwrap();
    assert_eq!(store.school().await.unwrap().name, "Before the upgrade");
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_successful_later_migration_applies() {
    let (_dir, path) = school();
    Store::open(&path).unwrap().close().await.unwrap();
    let mut all = steps();
    all.push(M::up("CREATE TABLE added_later (x INTEGER);"));
    let store = Store::open_with_migrations(&path, &Migrations::new(all)).unwrap();
    store.close().await.unwrap();
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1);
    // This build knows only SCHEMA_VERSION, so the upgraded file is now "too new" for it.
    assert_eq!(Store::open(&path).unwrap_err().code(), "database_too_new");
}

/// Migration 8: an anonymous ballot logged by an older version named its voter (author, client
/// id, `viewer`); the upgrade removes that link and keeps the totals.
#[tokio::test]
async fn upgrading_removes_the_voter_from_old_anonymous_ballots() {
    let (_dir, path) = school();
    let before: Vec<M<'static>> = steps().into_iter().take(7).collect();
    let store = Store::open_with_migrations(&path, &Migrations::new(before)).unwrap();
    let session = store
        .create_session("Old class", None, 1_000)
        .await
        .unwrap();
    store
        .append(vec![lectern_store::NewEvent {
            session_id: session,
            kind: "anonymous_ballot_cast".into(),
            actor: Some("v-bob".into()),
            at_ms: 2_000,
            payload: serde_json::json!({"v": 1, "at": 2_000, "by": "v-bob", "client_id": "c7",
                "event": {"type": "anonymous_ballot_cast", "poll": 1, "viewer": "v-bob", "totals": [0, 1]}}),
            client_id: format!("{session}/v-bob/c7/0"),
        }])
        .await
        .unwrap();
    store.close().await.unwrap();

    let store = Store::open(&path).unwrap();
    let events = store.events_after(session, 0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    let ballot = &events[0];
    assert_eq!(ballot.actor, None);
    assert!(!ballot.client_id.contains("v-bob"), "{}", ballot.client_id);
    assert!(
        !ballot.payload.to_string().contains("v-bob"),
        "{}",
        ballot.payload
    );
    assert_eq!(ballot.payload["event"]["totals"], serde_json::json!([0, 1]));
    assert_eq!(ballot.payload["by"], serde_json::Value::Null);
    store.close().await.unwrap();
}

/// Migrations 11 and 12: a school at version 10 keeps its replay events through the rebuild of
/// their table (which now also takes watch time and offers seen), and its classes read as
/// recorded.
#[tokio::test]
async fn upgrading_keeps_replay_events_and_classes_read_as_recorded() {
    let (_dir, path) = school();
    let before: Vec<M<'static>> = steps().into_iter().take(10).collect();
    let store = Store::open_with_migrations(&path, &Migrations::new(before)).unwrap();
    let session = store
        .create_session("Old class", None, 1_000)
        .await
        .unwrap();
    store.end_session(session, 5_000).await.unwrap();
    let reaction = lectern_store::ReplayEvent {
        session_id: session,
        viewer: "v-ann".into(),
        kind: "reaction".into(),
        payload: serde_json::json!({"reaction": "clap"}),
        offset_ms: 1_200,
        at_ms: 9_000,
        client_id: "r-0123456789".into(),
    };
    assert!(store.add_replay_event(reaction.clone()).await.unwrap());
    store.close().await.unwrap();

    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.replay_events(session).await.unwrap(),
        vec![reaction.clone()]
    );
    assert!(store.session_recorded(session).await.unwrap());
    let watched = lectern_store::ReplayEvent {
        kind: "watch".into(),
        payload: serde_json::json!({"watched_ms": 15_000}),
        client_id: "r-abcdef0123".into(),
        ..reaction
    };
    assert!(store.add_replay_event(watched).await.unwrap());
    assert_eq!(store.replay_events(session).await.unwrap().len(), 2);
    // The retried reaction is still stored once: the unique client id survived the rebuild.
    let again = lectern_store::ReplayEvent {
        client_id: "r-0123456789".into(),
        ..store.replay_events(session).await.unwrap()[0].clone()
    };
    assert!(!store.add_replay_event(again).await.unwrap());
    store.close().await.unwrap();
}
