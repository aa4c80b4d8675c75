//! The Studio API driven the way a host drives it, on real SQLite files.

mod bindings;
mod studio;
