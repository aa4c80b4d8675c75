//! Online backup while writing, and restore.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use lectern_store::{Store, demo, restore};

use super::{all_seqs, assert_contiguous, event, school};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_writing_is_a_consistent_copy() {
    let (dir, path) = school();
    demo::generate(&path, 11).unwrap();
    let store = Store::open(&path).unwrap();
    let before = store.counts().await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let store = store.clone();
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                store
                    .append(vec![event(1, &format!("during-backup-{n}"))])
                    .await
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    // Let some writes happen first.
    while store.counts().await.unwrap().events < before.events + 20 {
        tokio::task::yield_now().await;
    }

    let calls = Arc::new(Mutex::new(Vec::new()));
    let dest = dir.path().join("backup.lectern");
    let bytes = {
        let calls = Arc::clone(&calls);
        store
            .backup_to(&dest, move |done, total| {
                calls.lock().unwrap().push((done, total))
            })
            .await
            .unwrap()
    };
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written > 20);
    let after = store.counts().await.unwrap();

    let calls = calls.lock().unwrap().clone();
    assert!(calls.len() >= 2, "progress called {} times", calls.len());
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0), "{calls:?}");
    let (done, total) = *calls.last().unwrap();
    assert_eq!(done, total);
    assert!(total > 256);
    assert_eq!(bytes, std::fs::metadata(&dest).unwrap().len());

    let copy = Store::open_existing(&dest).unwrap();
    let c = copy.counts().await.unwrap();
    assert_eq!(
        (c.courses, c.learners, c.purchases, c.sessions),
        (
            before.courses,
            before.learners,
            before.purchases,
            before.sessions
        )
    );
    assert!(
        c.events > before.events && c.events <= after.events,
        "{c:?}"
    );
    assert_contiguous(&all_seqs(&copy).await);
    assert!(copy.school().await.unwrap().is_demo);
    copy.close().await.unwrap();

    // A backup of a quiet school has exactly its counts; an existing destination is refused.
    let quiet = dir.path().join("quiet.lectern");
    store.backup_to(&quiet, |_, _| {}).await.unwrap();
    let copy = Store::open_existing(&quiet).unwrap();
    assert_eq!(copy.counts().await.unwrap(), after);
    copy.close().await.unwrap();
    let err = store.backup_to(&quiet, |_, _| {}).await.unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    store.close().await.unwrap();

    // No temp files left behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    names.sort();
    assert!(names.is_empty(), "{names:?}");
}

#[tokio::test]
async fn restore_replaces_the_target() {
    let (dir, source_path) = school();
    let target = dir.path().join("target.lectern");
    let backup = dir.path().join("source.backup");

    let source = Store::open(&source_path).unwrap();
    source.set_school_name("Source school").await.unwrap();
    let s = source.create_session("Kept", None, 0).await.unwrap();
    source
        .append(vec![event(s, "x"), event(s, "y")])
        .await
        .unwrap();
    source.backup_to(&backup, |_, _| {}).await.unwrap();
    let expected = source.counts().await.unwrap();
    source.close().await.unwrap();

    let t = Store::open(&target).unwrap();
    t.set_school_name("Target school").await.unwrap();
    // The target must not be open.
    let err = restore(&backup, &target).unwrap_err();
    assert_eq!(err.code(), "database_locked", "{err}");
    assert_eq!(t.school().await.unwrap().name, "Target school");
    t.close().await.unwrap();

    restore(&backup, &target).unwrap();
    let t = Store::open_existing(&target).unwrap();
    assert_eq!(t.school().await.unwrap().name, "Source school");
    assert_eq!(t.counts().await.unwrap(), expected);
    // Writes continue the restored log.
    let next = t.append(vec![event(s, "z")]).await.unwrap();
    assert_eq!(next[0].seq, 3);
    t.close().await.unwrap();

    // Restoring onto a path with no school yet creates it.
    let fresh = dir.path().join("fresh.lectern");
    restore(&backup, &fresh).unwrap();
    let f = Store::open_existing(&fresh).unwrap();
    assert_eq!(f.counts().await.unwrap(), expected);
    f.close().await.unwrap();
}

#[tokio::test]
async fn restoring_a_bad_backup_leaves_the_target_untouched() {
    let (dir, target) = school();
    let store = Store::open(&target).unwrap();
    store.set_school_name("Precious").await.unwrap();
    store.close().await.unwrap();
    let bytes = std::fs::read(&target).unwrap();

    let garbage = dir.path().join("garbage.backup");
    std::fs::write(&garbage, vec![0x5Au8; 8192]).unwrap();
    let err = restore(&garbage, &target).unwrap_err();
    assert_eq!(err.code(), "not_a_database", "{err}");

    let foreign = dir.path().join("foreign.backup");
    super::raw(&foreign)
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    assert_eq!(
        restore(&foreign, &target).unwrap_err().code(),
        "foreign_database"
    );

    // A SQLite header over damaged pages fails the integrity check.
    let damaged = dir.path().join("damaged.backup");
    let mut broken = bytes.clone();
    for b in broken.iter_mut().skip(4096).take(4096 * 3) {
        *b = 0xEE;
    }
    std::fs::write(&damaged, &broken).unwrap();
    let err = restore(&damaged, &target).unwrap_err();
    assert!(
        ["database_corrupt", "not_a_database"].contains(&err.code()),
        "{err}"
    );

    let missing = dir.path().join("missing.backup");
    assert_eq!(restore(&missing, &target).unwrap_err().code(), "not_found");

    assert_eq!(std::fs::read(&target).unwrap(), bytes);
    let store = Store::open_existing(&target).unwrap();
    assert_eq!(store.school().await.unwrap().name, "Precious");
    store.close().await.unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.contains("-wal"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn school_files_and_backups_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.sqlite");
    let store = Store::open(&path).unwrap();
    let session = store.create_session("Private", None, 1).await.unwrap();
    store.append(vec![event(session, "c-1")]).await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&path),
        0o600,
        "the school file holds the install secret"
    );
    let wal = dir.path().join("school.sqlite-wal");
    assert_eq!(mode(&wal), 0o600, "the WAL holds recent writes");
    let copy = dir.path().join("copy.sqlite");
    store.backup_to(&copy, |_, _| {}).await.unwrap();
    assert_eq!(mode(&copy), 0o600, "a backup holds the same secrets");
    store.close().await.unwrap();
}
