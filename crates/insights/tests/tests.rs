//! The insights crate's one test binary: reference vectors, properties, input errors,
//! recommendations and purchase propensity.

#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on unexpected None/Err"
)]

mod errors;
mod planner;
mod propensity;
mod properties;
mod recs;
mod vectors;
