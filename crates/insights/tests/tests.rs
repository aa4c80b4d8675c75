//! The insights crate's one test binary: reference vectors, properties, input errors,
//! recommendations and purchase propensity.

#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on unexpected None/Err"
)]

mod engagement;
mod errors;
mod forest;
mod planner;
mod propensity;
mod properties;
mod recs;
mod small_arms;
mod vectors;
