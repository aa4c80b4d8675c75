//! The architecture's invariants (ARCHITECTURE.md), checked by `cargo test -p xtask`.

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};
    use std::path::Path;
    use std::process::Command;

    use crate::{cargo, root};

    /// **Invariant:** no crate under `crates/` depends on `tauri`, directly or not, in any kind of
    /// dependency (the engine runs and is tested without a window).
    #[test]
    fn no_crate_under_crates_depends_on_tauri() {
        let out = Command::new(cargo())
            .args(["metadata", "--format-version", "1", "--locked"])
            .current_dir(root())
            .output()
            .expect("cargo metadata runs");
        assert!(
            out.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("metadata is JSON");
        let names: HashMap<&str, &str> = meta["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .map(|p| {
                (
                    p["id"].as_str().expect("id"),
                    p["name"].as_str().expect("name"),
                )
            })
            .collect();
        let edges: HashMap<&str, Vec<&str>> = meta["resolve"]["nodes"]
            .as_array()
            .expect("resolve nodes")
            .iter()
            .map(|n| {
                let deps = n["deps"]
                    .as_array()
                    .expect("deps")
                    .iter()
                    .map(|d| d["pkg"].as_str().expect("pkg"))
                    .collect();
                (n["id"].as_str().expect("id"), deps)
            })
            .collect();
        let crates_dir = root().join("crates");
        let mut checked = 0;
        for package in meta["packages"].as_array().expect("packages") {
            let manifest = Path::new(package["manifest_path"].as_str().expect("manifest"));
            if !manifest.starts_with(&crates_dir) {
                continue;
            }
            checked += 1;
            let mut seen = HashSet::new();
            let mut stack = vec![package["id"].as_str().expect("id")];
            while let Some(id) = stack.pop() {
                if !seen.insert(id) {
                    continue;
                }
                let name = names.get(id).copied().unwrap_or("");
                assert!(
                    !(name == "tauri" || name.starts_with("tauri-")),
                    "{} depends on {name}",
                    package["name"]
                );
                stack.extend(edges.get(id).into_iter().flatten().copied());
            }
        }
        assert!(
            checked >= 4,
            "expected the store, engine, server and cli crates, found {checked}"
        );
    }

    /// **Invariant:** only `ui/src/lib/platform/` imports `@tauri-apps/*`.
    #[test]
    fn only_the_platform_seam_imports_tauri_in_the_ui() {
        let src = root().join("ui/src");
        let seam = src.join("lib/platform");
        let mut offenders = vec![];
        let mut scanned = 0;
        let mut stack = vec![src.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)
                .expect("ui/src is readable")
                .flatten()
            {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                scanned += 1;
                if text.contains("@tauri-apps/") && !path.starts_with(&seam) {
                    offenders.push(path.display().to_string());
                }
            }
        }
        assert!(scanned > 5, "ui/src looks empty ({scanned} files)");
        assert!(
            offenders.is_empty(),
            "@tauri-apps imported outside the platform seam: {offenders:?}"
        );
    }

    /// **Invariant:** the Tauri commands only adapt: each body is one call on the Studio API.
    #[test]
    fn tauri_commands_are_one_line_adapters() {
        let source =
            std::fs::read_to_string(root().join("src-tauri/commands.rs")).expect("commands.rs");
        let mut commands = 0;
        for chunk in source.split("#[tauri::command]").skip(1) {
            commands += 1;
            let body_start = chunk
                .find("> {")
                .or_else(|| chunk.find(") {"))
                .expect("a body")
                + 3;
            let body_end = chunk[body_start..].find("\n}").expect("end of body") + body_start;
            let body: Vec<&str> = chunk[body_start..body_end]
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            assert_eq!(body.len(), 1, "a command with more than one line: {body:?}");
            assert!(
                body[0].starts_with("studio.") && body[0].ends_with("(args).await"),
                "a command that does more than call the Studio: {}",
                body[0]
            );
        }
        assert_eq!(
            commands,
            lectern_commands().len(),
            "every engine command has exactly one adapter"
        );
    }

    /// **Invariant:** the window's own transports (the room, the capture) only adapt too: each
    /// command makes one call on the Studio, as one expression.
    #[test]
    fn window_commands_make_one_studio_call() {
        let mut names = vec![];
        for file in ["src-tauri/room.rs", "src-tauri/capture.rs"] {
            let source = std::fs::read_to_string(root().join(file)).expect(file);
            for chunk in source.split("#[tauri::command]").skip(1) {
                let name = chunk
                    .split("pub ")
                    .nth(1)
                    .and_then(|rest| rest.split("fn ").nth(1))
                    .and_then(|rest| rest.split('(').next())
                    .expect("a command name");
                names.push(name.to_owned());
                let body_start = chunk.find("> {").expect("a body") + 3;
                let body_end = chunk[body_start..].find("\n}").expect("end of body") + body_start;
                let body = &chunk[body_start..body_end];
                assert_eq!(
                    body.matches("studio").count(),
                    1,
                    "{name} must make exactly one Studio call: {body}"
                );
                assert!(!body.contains(';'), "{name} must be one expression: {body}");
            }
        }
        let api = std::fs::read_to_string(root().join("crates/engine/src/api.rs")).expect("api.rs");
        let declared = api
            .split("pub const WINDOW_COMMANDS: &[&str] = &[")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .expect("WINDOW_COMMANDS");
        let declared: Vec<String> = declared
            .split(',')
            .map(|n| n.trim().trim_matches('"').to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        assert_eq!(names, declared, "one adapter per window command");
    }

    fn lectern_commands() -> Vec<String> {
        let api = std::fs::read_to_string(root().join("crates/engine/src/api.rs")).expect("api.rs");
        let list = api.split("commands! {").nth(1).expect("the command list");
        let list = &list[..list.find('}').expect("end of list")];
        list.lines()
            .filter_map(|l| l.trim().split('(').next())
            .filter(|n| !n.is_empty())
            .map(String::from)
            .collect()
    }
}
