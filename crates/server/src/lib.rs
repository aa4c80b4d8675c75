//! The HTTP host that serves the studio to browsers.
//!
//! `lectern-server` puts a [`lectern_engine::Studio`] on the network: the viewer page (`/watch`),
//! the studio UI for a browser (`/studio`), the browser camera page (`/publish`), replays of
//! past classes (`/replay/{session}`, their recordings with byte ranges), and the same API
//! the desktop window calls over IPC, as `POST /api/v1/<command>` plus an event WebSocket at
//! `/api/v1/events`. It is not the engine: every request ends in a call on the `Studio` handle.
//!
//! Safe by default: it binds to loopback until the instructor opens it to the network; it refuses
//! a `Host` that is not an IP literal, `localhost` or an allowed name (DNS rebinding) and a
//! cross-site `Origin` with 403; the studio API needs the owner key as a Bearer token; bodies and
//! WebSocket messages are small and bounded.
//!
//! ```no_run
//! # async fn run(studio: lectern_engine::Studio) -> std::io::Result<()> {
//! let options = lectern_server::ServerOptions::loopback(0, lectern_server::new_key());
//! let server = lectern_server::Server::start(studio, options).await?;
//! println!("Lectern listening on {}", server.base_url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod api;
mod assets;
mod guard;
mod host;
mod limits;
mod replay;
mod room;
mod tls;
mod whip;

pub use host::{Server, ServerOptions, new_key};
pub use limits::Limits;
pub use tls::TlsFiles;
