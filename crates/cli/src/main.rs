//! `lectern`: the studio without a window.
//!
//! `lectern serve` runs the engine and the browser host headless (for a TA's machine, a server
//! in a small school, and the end-to-end tests); `lectern demo` writes the demo school;
//! `lectern backup` and `lectern restore` copy a school file safely.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use lectern_engine::{SchoolSource, Studio, StudioOptions};
use lectern_server::{Server, ServerOptions};

/// The seed `lectern demo` uses unless told otherwise (the same one the studio uses).
const DEMO_SEED: u64 = 2026;

#[derive(Parser)]
#[command(
    name = "lectern",
    version,
    about = "Lectern: teach a live class and sell the next course"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the studio's engine and browser host without a window.
    Serve {
        /// The school file (created if missing).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Address to bind. Loopback unless you mean to open the studio to the network.
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// Port (0 picks a free one).
        #[arg(long, default_value_t = 7878)]
        port: u16,
        /// Serve the demo school (generated in a temporary folder unless --db names a file).
        #[arg(long)]
        demo: bool,
        /// Data folder (schools, backups). Defaults to the OS data folder.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Extra host names browsers may use to reach this server (besides IPs and localhost).
        #[arg(long = "allow-host")]
        allow_hosts: Vec<String>,
    },
    /// Write the deterministic demo school to a new file.
    Demo {
        /// Where to write it (must not exist).
        #[arg(long)]
        db: PathBuf,
        /// Seed of the generator.
        #[arg(long, default_value_t = DEMO_SEED)]
        seed: u64,
    },
    /// Copy a school file while it may be in use (SQLite online backup).
    Backup {
        /// The school file.
        #[arg(long)]
        db: PathBuf,
        /// The copy to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Replace a school file with a backup, after checking the backup.
    Restore {
        /// The backup to restore.
        #[arg(long)]
        from: PathBuf,
        /// The school file to replace (must not be open).
        #[arg(long)]
        db: PathBuf,
    },
}

fn data_dir(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir);
    }
    // The same folder the desktop app uses (its bundle identifier under the OS data folder).
    let base = dirs::data_dir().context("this system has no data folder; pass --data-dir")?;
    Ok(base.join("org.lectern.studio"))
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,lectern_server=info,lectern_engine=info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            db,
            bind,
            port,
            demo,
            data_dir: dir,
            allow_hosts,
        } => serve(db, bind, port, demo, dir, allow_hosts).await,
        Command::Demo { db, seed } => {
            let started = std::time::Instant::now();
            let summary = lectern_store::demo::generate(&db, seed)
                .with_context(|| format!("writing the demo school to {}", db.display()))?;
            println!("{summary:?}");
            println!(
                "demo school written to {} in {:.2?}",
                db.display(),
                started.elapsed()
            );
            Ok(())
        }
        Command::Backup { db, out } => {
            if out.exists() {
                bail!(
                    "{} exists already; choose a new file for the backup",
                    out.display()
                );
            }
            let store = lectern_store::Store::open_existing(&db)
                .with_context(|| format!("opening {}", db.display()))?;
            let bytes = store
                .backup_to(&out, |done, total| {
                    eprint!("\rbacking up: {done}/{total} pages");
                })
                .await
                .context("backing up")?;
            eprintln!();
            store.close().await.context("closing the school")?;
            println!("backup written to {} ({bytes} bytes)", out.display());
            Ok(())
        }
        Command::Restore { from, db } => {
            lectern_store::restore(&from, &db)
                .with_context(|| format!("restoring {} from {}", db.display(), from.display()))?;
            println!("{} restored from {}", db.display(), from.display());
            Ok(())
        }
    }
}

async fn serve(
    db: Option<PathBuf>,
    bind: IpAddr,
    port: u16,
    demo: bool,
    dir: Option<PathBuf>,
    allow_hosts: Vec<String>,
) -> Result<()> {
    // `--demo` without `--db` lives in a temporary folder removed at exit.
    let mut _temp = None;
    let options = match (db, demo) {
        (Some(path), true) => StudioOptions::new(data_dir(dir)?, SchoolSource::DemoAt(path)),
        (Some(path), false) => StudioOptions::new(data_dir(dir)?, SchoolSource::Path(path)),
        (None, true) => {
            let temp = tempfile::Builder::new().prefix("lectern-demo-").tempdir()?;
            let options = StudioOptions::new(temp.path(), SchoolSource::Demo);
            _temp = Some(temp);
            options
        }
        (None, false) => StudioOptions::new(data_dir(dir)?, SchoolSource::Default),
    };
    let studio = Studio::open(options).await.context("opening the studio")?;
    let key = lectern_server::new_key();
    let server_options = ServerOptions {
        bind,
        port,
        key: key.clone(),
        allowed_hosts: allow_hosts,
    };
    let server = Server::start(studio.clone(), server_options)
        .await
        .with_context(|| format!("binding {bind}:{port}"))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Lectern listening on {}", server.base_url())?;
        // The owner key goes to the terminal of whoever started the server, never to the logs.
        writeln!(out, "studio: {}studio#key={key}", server.loopback_url())?;
        out.flush()?;
    }
    shutdown_signal().await;
    eprintln!("stopping");
    server.shutdown().await;
    studio.close().await.context("closing the school")?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
