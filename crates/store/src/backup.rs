//! Online backup of an open school, and restoring a school file from a backup.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use crate::error::{StoreError, display};
use crate::files;
use crate::lock::SchoolLock;
use crate::schema::{self, Header, Kind};

/// Pages copied per backup step (1 MiB at SQLite's default 4 KiB pages).
const PAGES_PER_STEP: i32 = 256;
/// How long to wait when a step finds the source busy, and how often before giving up.
const BUSY_PAUSE: Duration = Duration::from_millis(10);
const BUSY_RETRIES: u32 = 1_000;

/// Copies the school at `source` to the new file `dest` (see `Store::backup_to`).
pub(crate) fn backup(
    source: &Path,
    dest: &Path,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, StoreError> {
    if dest.exists() {
        return Err(StoreError::invalid(format!(
            "{} already exists; choose a new file name for the backup",
            display(dest)
        )));
    }
    let tmp = files::temp_beside(dest, "backup");
    let result = (|| {
        let src = schema::open_ro(source)?;
        files::create_private(&tmp)
            .map_err(|e| StoreError::io(format!("creating {}", display(&tmp)), e))?;
        let mut dst = Connection::open(&tmp).map_err(|e| StoreError::sqlite_at(e, &tmp))?;
        // Hold one read transaction on the source for the whole copy: the steps then all read
        // the same WAL snapshot, so the copy is consistent and is never restarted by the
        // writer's commits in between.
        let snapshot = src.unchecked_transaction()?;
        snapshot.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
        {
            let copy = Backup::new(&snapshot, &mut dst)?;
            let mut busy = 0;
            loop {
                let step = copy.step(PAGES_PER_STEP)?;
                let p = copy.progress();
                let total = u64::try_from(p.pagecount).unwrap_or(0);
                let done = total.saturating_sub(u64::try_from(p.remaining).unwrap_or(0));
                match step {
                    StepResult::Done => {
                        progress(total, total);
                        break;
                    }
                    StepResult::More => progress(done, total),
                    _ => {
                        busy += 1;
                        if busy > BUSY_RETRIES {
                            return Err(StoreError::DatabaseLocked {
                                detail: "the backup could not get a read lock".to_owned(),
                            });
                        }
                        std::thread::sleep(BUSY_PAUSE);
                    }
                }
            }
        }
        snapshot.finish()?;
        drop(src);
        dst.close().map_err(|(_, e)| StoreError::from(e))?;
        files::sync_file(&tmp)?;
        files::rename_into_place(&tmp, dest)?;
        let size = std::fs::metadata(dest)
            .map_err(|e| StoreError::io(format!("read the size of {}", display(dest)), e))?
            .len();
        Ok(size)
    })();
    if result.is_err() {
        files::remove_db_files(&tmp);
    }
    result
}

/// Replaces the school file at `target` with a validated copy of `backup`.
///
/// The backup must be a Lectern school this build can open (not foreign, not too new, passing
/// SQLite's integrity check); that is checked on a copy beside `target` before anything is
/// replaced, and the copy is then renamed over `target` in one atomic step. `target` must not
/// be open in any Lectern process ([`StoreError::DatabaseLocked`] otherwise).
pub fn restore(backup: &Path, target: &Path) -> Result<(), StoreError> {
    match schema::read_header(backup)? {
        Header::Missing => {
            return Err(StoreError::not_found(format!(
                "The backup file {}",
                display(backup)
            )));
        }
        Header::Empty => {
            return Err(StoreError::NotADatabase {
                file: display(backup),
            });
        }
        Header::Sqlite => {}
    }
    if let (Ok(a), Ok(b)) = (backup.canonicalize(), target.canonicalize())
        && a == b
    {
        return Err(StoreError::invalid(
            "the backup and the school to replace are the same file",
        ));
    }
    let lock = SchoolLock::acquire(target)?;
    let tmp = files::temp_beside(target, "restore");
    let result = (|| {
        copy_with_wal(backup, &tmp)?;
        validate_and_upgrade(&tmp, backup)?;
        files::sync_file(&tmp)?;
        settle_old_wal(target);
        files::rename_into_place(&tmp, target)
    })();
    match result {
        Ok(()) => {
            drop(lock);
            Ok(())
        }
        Err(err) => {
            files::remove_db_files(&tmp);
            lock.release_after_failure();
            Err(err)
        }
    }
}

/// Copies a database file, and its `-wal` if there is one (committed data may still live there).
fn copy_with_wal(from: &Path, to: &Path) -> Result<(), StoreError> {
    std::fs::copy(from, to)
        .map_err(|e| StoreError::io(format!("copy {} to {}", display(from), display(to)), e))?;
    let wal = files::with_suffix(from, "-wal");
    if wal.exists() {
        let to_wal = files::with_suffix(to, "-wal");
        std::fs::copy(&wal, &to_wal)
            .map_err(|e| StoreError::io(format!("copy {}", display(&wal)), e))?;
    }
    Ok(())
}

/// Checks the copy is a sound Lectern school and brings it to the current schema.
fn validate_and_upgrade(copy: &Path, shown_as: &Path) -> Result<(), StoreError> {
    let rename_file = |err: StoreError| match err {
        StoreError::NotADatabase { .. } => StoreError::NotADatabase {
            file: display(shown_as),
        },
        StoreError::ForeignDatabase { .. } => StoreError::ForeignDatabase {
            file: display(shown_as),
        },
        StoreError::DatabaseTooNew {
            found, supported, ..
        } => StoreError::DatabaseTooNew {
            file: display(shown_as),
            found,
            supported,
        },
        other => other,
    };
    let mut conn = schema::open_rw(copy, false).map_err(rename_file)?;
    match schema::inspect(&conn, copy).map_err(rename_file)? {
        // An empty database is not a school: restoring it would just lose the target.
        Kind::Blank => {
            return Err(StoreError::ForeignDatabase {
                file: display(shown_as),
            });
        }
        Kind::Lectern => {}
    }
    let verdict: String = conn
        .query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))
        .map_err(|e| rename_file(StoreError::from(e)))?;
    if verdict != "ok" {
        return Err(StoreError::DatabaseCorrupt {
            detail: format!(
                "the backup {} fails SQLite's integrity check: {verdict}",
                display(shown_as)
            ),
        });
    }
    schema::prepare(&mut conn, copy, &schema::MIGRATIONS).map_err(rename_file)?;
    // Closing the only connection checkpoints the WAL into the file, so one file holds it all.
    conn.close().map_err(|(_, e)| StoreError::from(e))?;
    Ok(())
}

/// Folds a leftover `-wal` of the old target into it (or drops it), so no stale log is ever
/// replayed onto the restored file.
fn settle_old_wal(target: &Path) {
    let wal = files::with_suffix(target, "-wal");
    if wal.exists() {
        if let Ok(conn) = Connection::open(target) {
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            let _ = conn.close();
        }
        let _ = std::fs::remove_file(&wal);
    }
    let _ = std::fs::remove_file(files::with_suffix(target, "-shm"));
}
