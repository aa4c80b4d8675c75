//! The committed TypeScript room types are what the Rust types generate (run `cargo xtask codegen`).

use std::path::PathBuf;

#[test]
fn bindings_are_fresh() {
    // The checkout the test runs in (cargo sets it at run time too), not the one it was built in.
    let crate_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    let path = PathBuf::from(crate_dir).join("../../ui/src/lib/bindings/room.ts");
    let generated = lectern_room::typescript_bindings();
    if std::env::var_os("LECTERN_UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/lib/bindings/room.ts is stale: run `cargo xtask codegen`\n--- generated ---\n{generated}"
    );
}
