//! Integration tests of the media engine with real `webrtc` peers, all on 127.0.0.1.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a panic is the failure report, and every input here is fixed"
)]

mod browser;
mod builtin;
mod cycles;
mod errors;
mod fanout;
mod fuzz;
mod keyframes;
mod local;
mod nack;
mod obs;
mod recording;
mod relay;
mod stats;
mod support;
