//! Lectern Studio, the desktop shell: a Tauri window over the engine, and the browser host
//! started in-process so students and TAs can connect.
//!
//! Everything here adapts; nothing decides. The studio's behaviour lives in `lectern-engine`.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod capture;
mod commands;
mod events;
mod room;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use anyhow::Context;
use lectern_engine::{SchoolSource, Studio, StudioOptions};
use lectern_server::{Server, ServerOptions};
use tauri::Manager;

/// The port students' links use when it is free (a stable link matters to them).
const PREFERRED_PORT: u16 = 7878;

/// What the command line may choose: the same flags as `lectern serve`.
#[derive(Debug, Default)]
struct Args {
    db: Option<PathBuf>,
    demo: bool,
    data_dir: Option<PathBuf>,
    port: Option<u16>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--db" => args.db = Some(it.next().context("--db needs a path")?.into()),
            "--data-dir" => {
                args.data_dir = Some(it.next().context("--data-dir needs a path")?.into())
            }
            "--port" => {
                args.port = Some(
                    it.next()
                        .context("--port needs a number")?
                        .parse()
                        .context("--port")?,
                )
            }
            "--demo" => args.demo = true,
            other => anyhow::bail!(
                "unknown argument {other:?} (known: --db PATH, --demo, --data-dir DIR, --port N)"
            ),
        }
    }
    Ok(args)
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                "warn,lectern_server=info,lectern_engine=info,lectern_studio=info".into()
            }),
        )
        .init();
    let args = parse_args()?;
    let started = std::time::Instant::now();
    tauri::Builder::default()
        .setup(move |app| {
            let data_dir = match args.data_dir.clone() {
                Some(dir) => dir,
                None => app
                    .path()
                    .app_data_dir()
                    .context("finding the data folder")?,
            };
            let school = match (args.db.clone(), args.demo) {
                (Some(path), true) => SchoolSource::DemoAt(path),
                (Some(path), false) => SchoolSource::Path(path),
                (None, true) => SchoolSource::Demo,
                (None, false) => SchoolSource::Default,
            };
            let (studio, server) = tauri::async_runtime::block_on(async {
                let mut options = StudioOptions::new(data_dir, school);
                // The demo goes live with the built-in test card, so a new user sees video.
                options.broadcast.test_card = args.demo;
                let studio = Studio::open_or_welcome(options).await?;
                let server = start_server(&studio, args.port).await?;
                anyhow::Ok((studio, server))
            })?;
            tracing::info!(url = %server.base_url(), elapsed = ?started.elapsed(), "studio ready");
            events::forward(app.handle().clone(), &studio);
            #[cfg(target_os = "linux")]
            capture_permissions(app)?;
            app.manage(studio);
            app.manage(server);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::overview,
            commands::open_demo_school,
            commands::create_school,
            commands::set_network_access,
            commands::backup_school,
            commands::start_class,
            commands::end_class,
            commands::broadcast_status,
            commands::set_broadcast,
            commands::create_moderator_link,
            commands::moderator_links,
            commands::revoke_moderator_link,
            commands::offer_results,
            commands::experiments,
            commands::plan_experiment,
            commands::learner_links,
            commands::set_time_zone,
            commands::session_recording,
            commands::delete_recording,
            commands::recording_retention,
            commands::set_recording_retention,
            commands::audience_segments,
            commands::audience_repurchase,
            commands::experiment_segments,
            commands::offer_audience,
            commands::record_sale,
            commands::catalog,
            commands::preview_import,
            commands::import_data,
            commands::sales_feed,
            commands::set_sales_feed,
            commands::sync_sales_feed,
            commands::live_engagement,
            commands::session_engagement,
            commands::class_report,
            commands::course_trend,
            commands::viewer_data,
            commands::erase_viewer,
            commands::chat_retention,
            commands::set_chat_retention,
            commands::recommend_next,
            commands::likely_buyers,
            commands::recommend_for_course,
            commands::set_relay,
            commands::rotate_publish_key,
            commands::suggest_answer,
            commands::import_faq,
            commands::answer_settings,
            commands::set_answer_settings,
            commands::report_images,
            room::room_join,
            room::room_send,
            room::room_leave,
            capture::start_window_source,
            capture::window_frame,
            commands::stop_window_source,
        ])
        // A page that (re)loads starts with no room connection: those of the page before end.
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Started
                && let Some(studio) = webview.try_state::<Studio>()
            {
                studio.leave_ipc_rooms();
            }
        })
        .build(tauri::generate_context!())
        .context("building the studio window")?
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event
                && let (Some(studio), Some(server)) =
                    (app.try_state::<Studio>(), app.try_state::<Server>())
            {
                let (studio, server) = (studio.inner().clone(), server.inner().clone());
                tauri::async_runtime::block_on(async move {
                    server.shutdown().await;
                    if let Err(err) = studio.close().await {
                        tracing::error!(error = %err, "closing the school");
                    }
                });
            }
        });
    Ok(())
}

/// Capture in the studio window (WebKitGTK): media streams on, and the permission to use the
/// camera, microphone and screen granted to the app's own page and to nothing else. With
/// `LECTERN_MOCK_CAPTURE=1` (tests and CI, which have no camera) WebKit's mock devices stand in;
/// never otherwise.
#[cfg(target_os = "linux")]
fn capture_permissions(app: &tauri::App) -> anyhow::Result<()> {
    let mock = std::env::var("LECTERN_MOCK_CAPTURE").is_ok_and(|v| v == "1");
    if mock {
        tracing::warn!("LECTERN_MOCK_CAPTURE=1: the window captures WebKit's mock devices");
    }
    let window = app
        .get_webview_window("studio")
        .context("the studio window")?;
    window
        .with_webview(move |webview| {
            use webkit2gtk::glib::prelude::ObjectExt;
            use webkit2gtk::{
                DeviceInfoPermissionRequest, PermissionRequestExt, SettingsExt,
                UserMediaPermissionRequest, WebViewExt,
            };
            let view = webview.inner();
            if let Some(settings) = WebViewExt::settings(&view) {
                settings.set_enable_media_stream(true);
                settings.set_enable_mock_capture_devices(mock);
            }
            view.connect_permission_request(|view, request| {
                let own_page = view.uri().is_some_and(|uri| is_app_page(&uri));
                let capture = request.is::<UserMediaPermissionRequest>()
                    || request.is::<DeviceInfoPermissionRequest>();
                if own_page && capture {
                    request.allow();
                } else {
                    request.deny();
                }
                true
            });
        })
        .context("configuring capture in the studio window")?;
    Ok(())
}

/// The app's own pages (Tauri's custom protocol on Linux), not anything it might navigate to.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn is_app_page(uri: &str) -> bool {
    uri.starts_with("tauri://localhost/")
}

/// The browser host on loopback: the preferred port if free, any port otherwise.
async fn start_server(studio: &Studio, port: Option<u16>) -> anyhow::Result<Server> {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let options = |port| ServerOptions {
        bind: loopback,
        port,
        key: lectern_server::new_key(),
        allowed_hosts: vec![],
        ice_servers: vec![],
        limits: lectern_server::Limits::default(),
        whep_origins: vec![],
        // The window's own server is on loopback; `lectern serve` is the one for HTTPS and a
        // reverse proxy.
        tls: None,
        public_url: None,
    };
    let wanted = port.unwrap_or(PREFERRED_PORT);
    match Server::start(studio.clone(), options(wanted)).await {
        Ok(server) => Ok(server),
        Err(err) if port.is_none() => {
            tracing::warn!(error = %err, "port {wanted} is taken; using another");
            Ok(Server::start(studio.clone(), options(0)).await?)
        }
        Err(err) => Err(err).with_context(|| format!("binding port {wanted}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn capture_is_granted_to_the_app_page_only() {
        assert!(super::is_app_page("tauri://localhost/studio.html"));
        assert!(!super::is_app_page("tauri://localhost.evil.example/"));
        assert!(!super::is_app_page("http://127.0.0.1:7878/studio"));
        assert!(!super::is_app_page("https://example.com/"));
    }

    /// The shell declares exactly the engine's commands in its app manifest, its capability and
    /// its handler.
    #[test]
    fn shell_exposes_exactly_the_engine_commands() {
        let build_rs = include_str!("build.rs");
        let list = build_rs
            .split("const COMMANDS: &[&str] = &[")
            .nth(1)
            .expect("the COMMANDS list");
        let list = &list[..list.find("];").expect("the end of the COMMANDS list")];
        let manifest: Vec<&str> = list
            .split(',')
            .map(|c| c.trim().trim_matches('"'))
            .filter(|c| !c.is_empty())
            .collect();
        let declared: Vec<&str> = lectern_engine::api::COMMANDS
            .iter()
            .chain(lectern_engine::api::WINDOW_COMMANDS)
            .copied()
            .collect();
        assert_eq!(manifest, declared, "the app manifest");

        let capability = include_str!("capabilities/studio-window.json");
        let main_rs = include_str!("main.rs");
        for command in &declared {
            let permission = format!("\"allow-{}\"", command.replace('_', "-"));
            assert!(
                capability.contains(&permission),
                "{permission} missing from the capability"
            );
            let module = match command {
                c if c.starts_with("room_") => "room",
                c if lectern_engine::api::WINDOW_COMMANDS.contains(c) => "capture",
                _ => "commands",
            };
            let handler = format!("{module}::{command},");
            assert!(
                main_rs.contains(&handler),
                "{command} missing from the handler"
            );
        }
        let granted = capability.matches("\"allow-").count();
        assert_eq!(
            granted,
            declared.len(),
            "the capability grants extra commands"
        );
    }
}
