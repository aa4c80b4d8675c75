//! The single writer: one thread owns the write connection and commits requests in groups.
//!
//! Why one thread: sequence numbers must follow commit order, and SQLite allows one writer at a
//! time anyway. Why groups: with `synchronous=FULL` each commit costs an fsync (~800/s measured),
//! so everything that queued up while the previous commit was on its way to disk goes into the
//! next transaction, each request in its own SAVEPOINT so a failing request only undoes itself.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::error::StoreError;
use crate::lock::SchoolLock;

/// At most this many requests share one transaction, so one commit stays short.
pub(crate) const MAX_GROUP: usize = 256;

/// Counters of the writer, for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterStats {
    /// Write transactions committed.
    pub commits: u64,
    /// Requests acknowledged as committed (including requests whose own work failed and was
    /// rolled back to its savepoint inside a committed group).
    pub requests: u64,
}

#[derive(Debug, Default)]
pub(crate) struct StatsCounters {
    commits: AtomicU64,
    requests: AtomicU64,
}

impl StatsCounters {
    pub(crate) fn snapshot(&self) -> WriterStats {
        WriterStats {
            commits: self.commits.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
        }
    }
}

/// What to do once the group's transaction has ended (`Ok` if it committed).
type Responder = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// One queued write, with its result type erased.
pub(crate) trait Job: Send {
    /// Runs the request inside a savepoint of `tx`; returns how to answer it after the commit,
    /// and the request's own error if it failed.
    fn run(self: Box<Self>, tx: &Transaction<'_>) -> (Responder, Option<StoreError>);
    /// Answers without running (the group could not even start).
    fn fail(self: Box<Self>, err: StoreError);
}

/// A message to the writer thread.
pub(crate) enum Message {
    Write(Box<dyn Job>),
    /// Finish what is queued before this message, then stop.
    Shutdown,
}

pub(crate) struct WriteJob<F, R> {
    pub(crate) f: F,
    pub(crate) reply: oneshot::Sender<Result<R, StoreError>>,
}

impl<F, R> Job for WriteJob<F, R>
where
    F: FnOnce(&Transaction<'_>) -> Result<R, StoreError> + Send + 'static,
    R: Send + 'static,
{
    fn run(self: Box<Self>, tx: &Transaction<'_>) -> (Responder, Option<StoreError>) {
        let WriteJob { f, reply } = *self;
        let outcome = in_savepoint(tx, f);
        match outcome {
            Ok(value) => (
                Box::new(move |committed: Result<(), StoreError>| {
                    // The caller may have stopped waiting (a dropped future); the write stands.
                    let _ = reply.send(committed.map(|()| value));
                }),
                None,
            ),
            Err(err) => {
                let own = err.clone();
                (
                    Box::new(move |_committed: Result<(), StoreError>| {
                        let _ = reply.send(Err(own));
                    }),
                    Some(err),
                )
            }
        }
    }

    fn fail(self: Box<Self>, err: StoreError) {
        let _ = self.reply.send(Err(err));
    }
}

/// Runs `f` between `SAVEPOINT` and `RELEASE`, rolling back to the savepoint if it fails or
/// panics. A panic must not take the writer thread (and every later write) down with it.
fn in_savepoint<F, R>(tx: &Transaction<'_>, f: F) -> Result<R, StoreError>
where
    F: FnOnce(&Transaction<'_>) -> Result<R, StoreError>,
{
    tx.execute_batch("SAVEPOINT lectern_request")?;
    let result = match catch_unwind(AssertUnwindSafe(|| f(tx))) {
        Ok(result) => result,
        Err(_) => Err(StoreError::storage(
            "a write request panicked and was undone",
        )),
    };
    match result {
        Ok(value) => match tx.execute_batch("RELEASE lectern_request") {
            Ok(()) => Ok(value),
            Err(e) => Err(e.into()),
        },
        Err(err) => {
            // If SQLite already rolled back the whole transaction (it may on SQLITE_FULL or
            // IOERR), the savepoint is gone; the caller notices through `is_autocommit`.
            let _ = tx.execute_batch("ROLLBACK TO lectern_request; RELEASE lectern_request");
            Err(err)
        }
    }
}

/// The writer thread's body: runs until `Shutdown` or until every sender is gone.
pub(crate) fn run(
    mut conn: Connection,
    lock: SchoolLock,
    rx: Receiver<Message>,
    stats: Arc<StatsCounters>,
) -> Result<(), StoreError> {
    let mut stop = false;
    while !stop {
        let first = match rx.recv() {
            Ok(Message::Write(job)) => job,
            Ok(Message::Shutdown) | Err(_) => break,
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(Message::Write(job)) => group.push(job),
                Ok(Message::Shutdown) => {
                    stop = true;
                    break;
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        commit_group(&mut conn, group, &stats);
    }
    // Requests queued after Shutdown are dropped with the receiver: their callers get
    // `WriterStopped` instead of waiting forever.
    drop(rx);
    let closed = conn.close().map_err(|(_, e)| StoreError::from(e));
    // The lock goes only after the connection is closed, so the next owner finds a quiet file.
    drop(lock);
    closed
}

/// Runs a group of requests and commits them; every request is answered only after its
/// transaction has ended.
fn commit_group(conn: &mut Connection, group: Vec<Box<dyn Job>>, stats: &StatsCounters) {
    let mut jobs = group.into_iter().peekable();
    while jobs.peek().is_some() {
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let err = StoreError::from(e);
                for job in jobs {
                    job.fail(err.clone());
                }
                return;
            }
        };
        let mut responders: Vec<Responder> = Vec::new();
        let mut aborted: Option<StoreError> = None;
        for job in jobs.by_ref() {
            let (responder, failure) = job.run(&tx);
            responders.push(responder);
            if tx.is_autocommit() {
                // SQLite rolled back the whole transaction (not just this savepoint): the
                // requests before this one are lost too and must hear about it. The rest of the
                // group continues in a fresh transaction.
                aborted = Some(failure.unwrap_or_else(|| {
                    StoreError::storage("the transaction was rolled back by SQLite")
                }));
                break;
            }
        }
        let outcome = match aborted {
            Some(err) => {
                drop(tx);
                Err(err)
            }
            None => match tx.commit() {
                Ok(()) => {
                    stats.commits.fetch_add(1, Ordering::Relaxed);
                    stats
                        .requests
                        .fetch_add(responders.len() as u64, Ordering::Relaxed);
                    Ok(())
                }
                Err(e) => Err(StoreError::from(e)),
            },
        };
        if let Err(err) = &outcome {
            tracing::warn!(code = err.code(), error = %err, requests = responders.len(), "write group not committed");
        }
        for respond in responders {
            respond(outcome.clone());
        }
    }
}
