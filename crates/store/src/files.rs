//! Small file-system helpers for writing whole files safely: temp names, sync, cleanup.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{StoreError, display};

/// A fresh hidden name beside `dest`, in the same directory so a rename is atomic.
pub(crate) fn temp_beside(dest: &Path, purpose: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = dest
        .file_name()
        .map_or_else(|| "school".to_owned(), |n| n.to_string_lossy().into_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dest.with_file_name(format!(".{name}.{purpose}-{}-{n}.tmp", std::process::id()))
}

/// `path` with a suffix appended to its file name (`x.db` -> `x.db-wal`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a database file and its SQLite sidecars, ignoring the ones that are not there.
pub(crate) fn remove_db_files(path: &Path) {
    for p in [
        path.to_path_buf(),
        with_suffix(path, "-wal"),
        with_suffix(path, "-shm"),
        with_suffix(path, "-journal"),
    ] {
        let _ = std::fs::remove_file(p);
    }
}

/// Flushes a file's contents to disk.
pub(crate) fn sync_file(path: &Path) -> Result<(), StoreError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(format!("flush {} to disk", display(path)), e))
}

/// Flushes a directory entry change (a rename) to disk where the platform allows it.
pub(crate) fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        let dir = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Renames `from` to `to` (replacing `to`) and makes the rename durable.
pub(crate) fn rename_into_place(from: &Path, to: &Path) -> Result<(), StoreError> {
    std::fs::rename(from, to).map_err(|e| {
        StoreError::io(
            format!("move {} into place as {}", display(from), display(to)),
            e,
        )
    })?;
    sync_parent(to);
    Ok(())
}

/// Creates `path` empty, readable and writable by its owner only (0600 on Unix), unless it
/// exists: a school file holds the install secret, feed tokens and learners' data. SQLite gives
/// the `-wal` and `-shm` files it creates beside it the same mode.
pub(crate) fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}
