//! The room's tests: one binary, one module per concern.
#![allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]

mod bindings;

mod room {
    mod fuzz;
    pub mod harness;
    mod hostile;
    mod offers;
    mod properties;
    mod protocol;
    mod scenarios;
    mod text_rules;
}
