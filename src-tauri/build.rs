//! Tauri's build step: the app's config, its capabilities under `src-tauri/capabilities/`, and
//! the app manifest that makes every command subject to the capabilities.

/// Every command the shell exposes. A test checks this list against `lectern_engine::api::COMMANDS`
/// followed by `lectern_engine::api::WINDOW_COMMANDS`.
const COMMANDS: &[&str] = &[
    "overview",
    "open_demo_school",
    "create_school",
    "set_network_access",
    "backup_school",
    "start_class",
    "end_class",
    "broadcast_status",
    "set_broadcast",
    "create_moderator_link",
    "moderator_links",
    "revoke_moderator_link",
    "offer_results",
    "experiments",
    "plan_experiment",
    "record_sale",
    "catalog",
    "preview_import",
    "import_data",
    "sales_feed",
    "set_sales_feed",
    "sync_sales_feed",
    "live_engagement",
    "session_engagement",
    "class_report",
    "report_images",
    "course_trend",
    "viewer_data",
    "erase_viewer",
    "chat_retention",
    "set_chat_retention",
    "recommend_next",
    "likely_buyers",
    "recommend_for_course",
    "set_relay",
    "rotate_publish_key",
    "suggest_answer",
    "import_faq",
    "stop_window_source",
    "learner_links",
    "set_time_zone",
    "session_recording",
    "delete_recording",
    "recording_retention",
    "set_recording_retention",
    "answer_settings",
    "set_answer_settings",
    "audience_segments",
    "audience_repurchase",
    "experiment_segments",
    "offer_audience",
    "room_join",
    "room_send",
    "room_leave",
    "start_window_source",
    "window_frame",
];

fn main() {
    ensure_ui_dist();
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(err) = tauri_build::try_build(attributes) {
        eprintln!("tauri build step failed: {err:#}");
        std::process::exit(1);
    }
}

/// Tauri embeds `ui/dist` at compile time and refuses to build without it. A bare `cargo build`
/// on a fresh clone (no npm yet) gets a page that says how to build the UI instead of a failure.
fn ensure_ui_dist() {
    let dist = std::path::Path::new("ui/dist");
    println!("cargo:rerun-if-changed=ui/dist");
    if dist.join("studio.html").exists() {
        return;
    }
    let page = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Lectern Studio</title></head>\
        <body><h1>Lectern Studio</h1><p>The user interface is not built yet. \
        Run <code>cargo xtask run</code>, which builds it and starts the studio.</p></body></html>\n";
    let written =
        std::fs::create_dir_all(dist).and_then(|()| std::fs::write(dist.join("studio.html"), page));
    if let Err(err) = written {
        println!("cargo:warning=could not write a placeholder UI: {err}");
    }
}
