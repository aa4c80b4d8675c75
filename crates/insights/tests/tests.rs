//! The insights crate's one test binary: reference vectors, properties, input errors,
//! recommendations (and the school generator they are judged on) and purchase propensity.

#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on unexpected None/Err"
)]

mod answers;
mod audience;
mod engagement;
mod errors;
mod forest;
mod fuzz;
mod planner;
mod propensity;
mod properties;
mod recs;
mod recs_eval;
mod school_gen;
mod small_arms;
mod vectors;
