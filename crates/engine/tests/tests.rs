//! The Studio API driven the way a host drives it, on real SQLite files.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed; the panic says where"
)]

mod activities;
mod attribution;
mod audience;
mod bindings;
mod data;
mod demo;
mod engagement;
mod experiment_segments;
mod experiments;
mod live;
mod models;
mod recording;
mod replay;
mod room_session;
mod studio;
