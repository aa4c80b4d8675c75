//! The advisory lock that keeps a second Lectern process off a school that is already open.
//!
//! SQLite's own locks only serialise transactions; two Lectern processes would each run their
//! own writer and hand out the same sequence numbers. So a school is owned by one process at a
//! time, through an exclusive lock on a sidecar `<file>.lock` (the lock, not the file, matters;
//! it is released by the OS if the process dies).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{StoreError, display};

/// An exclusive lock on `<school file>.lock`, held while a store is open.
#[derive(Debug)]
pub(crate) struct SchoolLock {
    _file: File,
    path: PathBuf,
    /// Whether this lock created the sidecar file (then a failed open removes it again).
    created: bool,
}

/// The sidecar lock path of a school file.
pub(crate) fn lock_path(school: &Path) -> PathBuf {
    let mut name = school.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl SchoolLock {
    /// Takes the lock, or fails at once with [`StoreError::DatabaseLocked`].
    pub(crate) fn acquire(school: &Path) -> Result<SchoolLock, StoreError> {
        let path = lock_path(school);
        let created = !path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io(format!("create the lock file {}", display(&path)), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::DatabaseLocked {
                    detail: format!("{} is locked by another process", display(&path)),
                });
            }
            Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                // Some network file systems have no locks; opening without one is better than
                // not opening at all, and SQLite still guards each transaction.
                tracing::warn!(path = %path.display(), "file locking is not supported here; opening without the lock");
            }
            Err(TryLockError::Error(e)) => {
                return Err(StoreError::io(format!("lock {}", display(&path)), e));
            }
        }
        Ok(SchoolLock {
            _file: file,
            path,
            created,
        })
    }

    /// Releases the lock and removes the sidecar if this lock created it (a failed open should
    /// leave nothing behind beside someone else's file).
    pub(crate) fn release_after_failure(self) {
        let SchoolLock {
            _file: file,
            path,
            created,
        } = self;
        drop(file);
        if created {
            let _ = std::fs::remove_file(&path);
        }
    }
}
