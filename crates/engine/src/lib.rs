//! The running studio and the one API every host calls.
//!
//! `lectern-engine` owns a school's [`lectern_store::Store`] (and, as later features land, the
//! media engine, the live room and the insights) behind one cheap handle, [`Studio`]. Every
//! operation a user can perform is a plain async method on it that takes one request type and
//! returns one response type or an [`ApiError`] with a stable [`ErrorCode`].
//!
//! What it is not: a host. It opens no window and no socket. The Tauri shell (`src-tauri/`) turns
//! each command into a one-line IPC adapter, `lectern-server` exposes the same commands over HTTP
//! for browsers, and the tests call them directly. [`api::dispatch`] and [`api::COMMANDS`] are
//! generated from one list, so no host can offer a command the others lack.
//!
//! ```no_run
//! # async fn demo() -> Result<(), lectern_engine::ApiError> {
//! use lectern_engine::{Studio, StudioOptions, SchoolSource, api::NoArgs};
//! let studio = Studio::open(StudioOptions::new("/tmp/lectern", SchoolSource::Demo)).await?;
//! let overview = studio.overview(NoArgs {}).await?;
//! println!("{}", overview.school.map(|s| s.name).unwrap_or_default());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod activities;
pub mod answers;
pub mod api;
pub mod audience;
pub mod broadcast;
pub mod browser_keys;
pub mod capture;
pub mod catalog;
pub mod data;
pub mod engagement;
mod error;
pub mod experiment_segments;
pub mod experiments;
mod http_url;
pub mod identity;
pub mod live;
pub mod models;
pub mod moderators;
pub mod privacy;
pub mod recording;
pub mod replay;
pub mod room_session;
mod studio;

pub use broadcast::{BroadcastOptions, BroadcastStatus, SetBroadcast, ViewerLive};
pub use error::{ApiError, ErrorCode};
pub use studio::{BoxFuture, NetworkControl, SchoolSource, Studio, StudioOptions, same_secret};
