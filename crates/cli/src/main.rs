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

mod eval_faq;
mod report_audience;
mod report_class;

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
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per run; boxing would only move the serve flags to the heap"
)]
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
        #[command(flatten)]
        media: MediaArgs,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        web: WebArgs,
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
    /// Write a school of another structure than the demo's (no classes: a catalog, learners and
    /// their purchases), through the same CSV imports a school uses, to judge the recommender on
    /// data this project did not shape for itself.
    Generate {
        /// Where to write it (must not exist).
        #[arg(long)]
        db: PathBuf,
        /// Its structure: `tag-led` (learners shop by topic, many launches), `shuffled-tracks`
        /// (tracks under random ids), `bundled` (a third of purchases are bundles),
        /// `bundles-in-parts`, `catalog-tracks`.
        #[arg(long)]
        shape: String,
        /// Seed of the generator.
        #[arg(long, default_value_t = 7)]
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
    /// Statistics on numbers you give it.
    Stats {
        #[command(subcommand)]
        what: Stats,
    },
    /// Write a report from the school file: a class, the audience (docs/audience.md).
    Report {
        #[command(subcommand)]
        what: Report,
    },
    /// Measure the school's models offline.
    Eval {
        #[command(subcommand)]
        what: Eval,
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

#[derive(Subcommand)]
enum Stats {
    /// Analyse an A/B test: one JSON object on stdin, one on stdout (see docs/protocol.md).
    /// Bad input exits 2 with `{"error": {"code", "message"}}`.
    Ab,
}

#[derive(Subcommand)]
enum Eval {
    /// Recommendations: train before a date, score what learners bought after it.
    /// Prints `METHOD precision@5=X recall@5=X ndcg@10=X`, one line per method.
    Recs {
        /// The school file.
        #[arg(long)]
        db: PathBuf,
        /// The split (YYYY-MM-DD, UTC). Defaults to the date by which 80% of purchases happened.
        #[arg(long)]
        split_date: Option<String>,
    },
    /// Purchase prediction: train on older sessions, judge on the newest quarter.
    /// Prints `auc=X brier=X`, then the calibration table.
    Propensity {
        /// The school file.
        #[arg(long)]
        db: PathBuf,
        /// A purchase within this many days of a session counts as bought.
        #[arg(long, default_value_t = 7)]
        window_days: u32,
    },
    /// The TA's answer assistant: held-out paraphrases against the FAQ.
    /// Prints `faq top1=X top3=Y` per language and overall, refusals and false answers.
    Faq {
        /// The school file.
        #[arg(long)]
        db: PathBuf,
        /// A `paraphrase,expected_question` CSV (empty expected: must be refused). Defaults to
        /// the demo FAQ's English, Chinese and unrelated sets.
        #[arg(long)]
        paraphrases: Option<PathBuf>,
        /// The confidence under which nothing is suggested (default: the assistant's).
        #[arg(long)]
        threshold: Option<f64>,
    },
}

#[derive(Subcommand)]
enum Report {
    /// A class's report: report.html, viewers.csv, minutes.csv, polls.csv and one PNG per chart.
    Class {
        /// The school file.
        #[arg(long)]
        db: PathBuf,
        /// The class (live session id).
        #[arg(long)]
        session: i64,
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Behavioural segments of every learner. Prints
    /// `segment="NAME" size=N buyers=N repurchase_90d=X ...`, one line per segment.
    Segments {
        /// The school file.
        #[arg(long)]
        db: PathBuf,
        /// The day to segment for (YYYY-MM-DD). Defaults to the last day with a purchase or a class.
        #[arg(long)]
        today: Option<String>,
        /// Segments wanted (fewer when learners are too alike).
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=12))]
        k: u32,
    },
    /// Repurchase within 30, 90 and 180 days, attendees against the others, and the cohort
    /// table as CSV. Prints `repurchase_30d=X repurchase_90d=Y repurchase_180d=Z learners=N` first.
    Repurchase {
        /// The school file.
        #[arg(long)]
        db: PathBuf,
        /// Also print "buyers of X who bought again" per course, as CSV.
        #[arg(long)]
        courses: bool,
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
            media,
            limits,
            web,
        } => serve(db, bind, port, demo, dir, allow_hosts, media, limits, web).await,
        Command::Demo { db, seed } => {
            let started = std::time::Instant::now();
            let summary = lectern_store::demo::generate(&db, seed)
                .with_context(|| format!("writing the demo school to {}", db.display()))?;
            println!(
                "{} written to {} in {:.2?}: {} courses in {} tracks, {} learners, {} purchases, \
                 {} live sessions, {} events",
                summary.school_name,
                db.display(),
                started.elapsed(),
                summary.courses,
                summary.tracks,
                summary.learners,
                summary.purchases,
                summary.sessions,
                summary.events,
            );
            Ok(())
        }
        Command::Generate { db, shape, seed } => generate(&db, &shape, seed).await,
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
        Command::Stats { what: Stats::Ab } => stats_ab(),
        Command::Report {
            what: Report::Class { db, session, out },
        } => report_class::report_class(&db, session, &out).await,
        Command::Eval {
            what: Eval::Recs { db, split_date },
        } => eval_recs(&db, split_date.as_deref()).await,
        Command::Eval {
            what: Eval::Propensity { db, window_days },
        } => eval_propensity(&db, window_days).await,
        Command::Report {
            what: Report::Segments { db, today, k },
        } => {
            let today = today.as_deref().map(parse_date).transpose()?;
            report_audience::segments(&db, today.map(|ms| ms / 86_400_000), k as usize).await
        }
        Command::Report {
            what: Report::Repurchase { db, courses },
        } => report_audience::repurchase(&db, courses).await,
        Command::Eval {
            what:
                Eval::Faq {
                    db,
                    paraphrases,
                    threshold,
                },
        } => eval_faq::eval_faq(&db, paraphrases.as_deref(), threshold).await,
        Command::Restore { from, db } => {
            lectern_store::restore(&from, &db)
                .with_context(|| format!("restoring {} from {}", db.display(), from.display()))?;
            println!("{} restored from {}", db.display(), from.display());
            Ok(())
        }
    }
}

/// The broadcast flags of `lectern serve`.
#[derive(clap::Args, Debug)]
struct MediaArgs {
    /// Record no class (each class is recorded to <data folder>/recordings by default; the
    /// instructor can also turn it off for one class when starting it).
    #[arg(long)]
    no_record: bool,
    /// A file holding the Bearer token WHIP publishers (OBS) need (or set
    /// LECTERN_PUBLISH_KEY; never on the command line, where `ps` shows it). Default: the
    /// studio's own random key, kept in the data folder and replaced by "rotate".
    #[arg(long)]
    publish_key_file: Option<PathBuf>,
    /// Loop the built-in test card until a publisher goes live (default with --demo).
    #[arg(long, overrides_with = "no_test_card")]
    test_card: bool,
    /// Do not start the built-in test card, even with --demo.
    #[arg(long)]
    no_test_card: bool,
    /// A STUN/TURN server offered to WHIP/WHEP clients (repeatable), e.g. stun:stun.example.org.
    #[arg(long = "ice-server")]
    ice_servers: Vec<String>,
    /// A site whose viewer pages may play the class from this studio's WHEP (a studio this one
    /// is the relay server of), as `http(s)://host[:port]`; repeatable. Other sites are refused.
    #[arg(long = "allow-whep-origin", value_parser = parse_origin)]
    allow_whep_origins: Vec<String>,
    /// Relay the stream to an external WHIP server (Galène, LiveKit, another Lectern) from the start.
    #[arg(long)]
    relay: Option<String>,
    /// The relay server is on this machine or the school's own network (a private address):
    /// without this such a URL is refused.
    #[arg(long, requires = "relay")]
    relay_allow_private: bool,
    /// A file holding the relay server's Bearer token (or set LECTERN_RELAY_TOKEN).
    #[arg(long, requires = "relay")]
    relay_token_file: Option<PathBuf>,
    /// The relay server's WHEP URL: while the relay is live, viewer pages play from there.
    #[arg(long, requires = "relay")]
    relay_playback: Option<String>,
    /// Fault injection: do not send every Nth video packet to a viewer the first time (its
    /// NACK brings it back). For diagnostics and tests only.
    #[arg(long, hide = true, value_parser = clap::value_parser!(u32).range(2..))]
    simulate_video_loss: Option<u32>,
}

/// A secret from a file (its first line) or else from an environment variable: never from the
/// command line, where every user of the machine can read it with `ps`.
fn secret(file: Option<&std::path::Path>, env: &str) -> Result<Option<String>> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the secret in {}", path.display()))?;
        let line = text.lines().next().unwrap_or("").trim().to_owned();
        if line.is_empty() {
            bail!(
                "{} is empty: it should hold the secret on its first line",
                path.display()
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                eprintln!(
                    "warning: {} can be read by other users of this machine (chmod 600 it)",
                    path.display()
                );
            }
        }
        return Ok(Some(line));
    }
    Ok(std::env::var(env)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty()))
}

/// How browsers reach `lectern serve`: HTTPS with the school's certificate, or a reverse proxy.
#[derive(clap::Args, Debug)]
struct WebArgs {
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Where students reach the studio when a reverse proxy (nginx, Caddy) serves it, e.g.
    /// https://class.school.example: its pages are accepted as this studio's, links are built
    /// from it, and a proxy on loopback names the client in X-Forwarded-For.
    #[arg(long)]
    public_url: Option<String>,
}

/// The per-address limits of `lectern serve` (defaults fit a school behind one NAT address).
#[derive(clap::Args, Debug)]
struct LimitArgs {
    /// New connections (room sockets, WHIP/WHEP sessions) one address may open per second.
    #[arg(long, default_value_t = lectern_server::Limits::default().connections_per_second,
          value_parser = clap::value_parser!(u32).range(1..))]
    connections_per_second: u32,
    /// New connections one address may open at once (the burst).
    #[arg(long, default_value_t = lectern_server::Limits::default().connection_burst,
          value_parser = clap::value_parser!(u32).range(1..))]
    connection_burst: u32,
    /// Room sockets one address may hold open.
    #[arg(long, default_value_t = lectern_server::Limits::default().sockets_per_address,
          value_parser = clap::value_parser!(u32).range(1..))]
    sockets_per_address: u32,
    /// HTTP connections one address may hold open (more are closed on accept).
    #[arg(long, default_value_t = lectern_server::Limits::default().connections_per_address,
          value_parser = clap::value_parser!(u32).range(1..))]
    connections_per_address: u32,
    /// New browser keys (student identities) one address may be issued at once.
    #[arg(long, default_value_t = lectern_engine::browser_keys::KeyRate::default().burst,
          value_parser = clap::value_parser!(u32).range(1..))]
    browser_key_burst: u32,
    /// Then new browser keys one address may be issued per minute.
    #[arg(long, default_value_t = lectern_engine::browser_keys::KeyRate::default().per_minute,
          value_parser = clap::value_parser!(u32).range(1..))]
    browser_keys_per_minute: u32,
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    db: Option<PathBuf>,
    bind: IpAddr,
    port: u16,
    demo: bool,
    dir: Option<PathBuf>,
    allow_hosts: Vec<String>,
    media: MediaArgs,
    limits: LimitArgs,
    web: WebArgs,
) -> Result<()> {
    let publish_key = secret(media.publish_key_file.as_deref(), "LECTERN_PUBLISH_KEY")?;
    if let Some(key) = &publish_key
        && !lectern_engine::broadcast::valid_publish_key(key)
    {
        anyhow::bail!("a publish key has 16 to 128 letters, digits, '-', '_' or '.'");
    }
    let relay_token = secret(media.relay_token_file.as_deref(), "LECTERN_RELAY_TOKEN")?;
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
    let mut options = options;
    options.broadcast.loopback_only = bind.is_loopback();
    options.broadcast.test_card = (demo || media.test_card) && !media.no_test_card;
    options.broadcast.publish_key = publish_key;
    options.broadcast.relay = media.relay.clone().map(|url| (url, relay_token));
    options.broadcast.relay_allow_private = media.relay_allow_private;
    options.broadcast.relay_playback = media.relay_playback.clone();
    options.broadcast.simulate_video_loss_every = media.simulate_video_loss;
    options.broadcast.ice_servers = media.ice_servers.clone();
    options.broadcast.record_classes = !media.no_record;
    options.browser_keys = lectern_engine::browser_keys::KeyRate {
        burst: limits.browser_key_burst,
        per_minute: limits.browser_keys_per_minute,
    };
    let studio = Studio::open(options).await.context("opening the studio")?;
    let key = lectern_server::new_key();
    let server_options = ServerOptions {
        bind,
        port,
        key: key.clone(),
        allowed_hosts: allow_hosts,
        ice_servers: media.ice_servers,
        whep_origins: media.allow_whep_origins,
        tls: web
            .tls_cert
            .zip(web.tls_key)
            .map(|(cert, key)| lectern_server::TlsFiles { cert, key }),
        public_url: web.public_url,
        limits: lectern_server::Limits {
            connections_per_second: limits.connections_per_second,
            connection_burst: limits.connection_burst,
            sockets_per_address: limits.sockets_per_address,
            connections_per_address: limits.connections_per_address,
            ..lectern_server::Limits::default()
        },
    };
    let server = Server::start(studio.clone(), server_options)
        .await
        .with_context(|| format!("starting the server on {bind}:{port}"))?;
    {
        let loopback = server.loopback_url();
        // Students (and OBS elsewhere) use the public address when there is one.
        let public = server.public_url().unwrap_or_else(|| loopback.clone());
        // The keys go to the terminal of whoever started the server, never to the logs.
        let mut banner = format!(
            "Lectern listening on {}\nstudio: {loopback}studio#key={key}\nwatch: {public}watch\n\
             whip: {public}whip\n",
            server.base_url()
        );
        // The publish key comes from the school's secret: none before a school is open.
        if let Ok(publish_key) = studio.publish_key().await {
            banner.push_str(&format!("publish key: {publish_key}\n"));
        }
        // A closed stdout (the reader went away) must not stop a server that students use.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
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

/// Largest input `lectern stats ab` reads.
const MAX_STATS_INPUT: u64 = 1 << 20;

fn stats_ab() -> Result<()> {
    use std::io::Read;
    let fail = |code: &str, message: String| -> ! {
        println!(
            "{}",
            serde_json::json!({ "error": { "code": code, "message": message } })
        );
        std::process::exit(2);
    };
    let mut input = String::new();
    if let Err(err) = std::io::stdin()
        .take(MAX_STATS_INPUT + 1)
        .read_to_string(&mut input)
    {
        fail("invalid_input", format!("reading stdin: {err}"));
    }
    if input.len() as u64 > MAX_STATS_INPUT {
        fail(
            "too_large",
            format!("the input is over {MAX_STATS_INPUT} bytes"),
        );
    }
    match lectern_insights::stats::analyze_ab_json(&input) {
        Ok(output) => {
            println!("{}", serde_json::to_string(&output)?);
            Ok(())
        }
        Err(err) => {
            println!("{}", err.to_json());
            std::process::exit(2);
        }
    }
}

/// `YYYY-MM-DD` (UTC midnight) as Unix ms.
fn parse_date(text: &str) -> Result<i64> {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        bail!("dates are written YYYY-MM-DD, not {text:?}")
    };
    let (y, m, d): (i64, i64, i64) = (y.parse()?, m.parse()?, d.parse()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        bail!("{text:?} is not a date");
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400_000)
}

/// `http(s)://host[:port]`, nothing after it: what a browser sends as `Origin`.
fn parse_origin(raw: &str) -> std::result::Result<String, String> {
    let origin = raw.trim().trim_end_matches('/');
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or("an origin starts with http:// or https://")?;
    let well_formed = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !well_formed {
        return Err(format!(
            "{origin:?} is not an origin like https://studio.example:8443 (no path, query or user)"
        ));
    }
    Ok(origin.to_ascii_lowercase())
}

async fn generate(db: &std::path::Path, shape: &str, seed: u64) -> Result<()> {
    use lectern_insights::school_gen::{School, SchoolShape};
    let shape = match shape {
        "tag-led" => SchoolShape::tag_led(seed),
        "shuffled-tracks" => SchoolShape::shuffled_tracks(seed),
        "bundled" => SchoolShape::bundled(seed),
        "bundles-in-parts" => SchoolShape::bundles_in_parts(seed),
        "catalog-tracks" => SchoolShape::catalog_tracks(seed),
        other => bail!(
            "no school shape {other:?}: choose tag-led, shuffled-tracks, bundled, \
             bundles-in-parts or catalog-tracks"
        ),
    };
    if db.exists() {
        bail!("{} exists already; choose a new file", db.display());
    }
    let started = std::time::Instant::now();
    let csv = School::generate(&shape).to_csv();
    let store =
        lectern_store::Store::open(db).with_context(|| format!("creating {}", db.display()))?;
    store
        .set_school_name(&format!("Generated school ({})", shape_name(&shape)))
        .await
        .context("naming the school")?;
    for (kind, text, what) in [
        (lectern_store::ImportKind::Catalog, &csv.catalog, "catalog"),
        (
            lectern_store::ImportKind::Learners,
            &csv.learners,
            "learners",
        ),
        (
            lectern_store::ImportKind::Purchases,
            &csv.purchases,
            "purchases",
        ),
    ] {
        let report = store
            .import(kind, text, move |done, total| {
                eprint!("\rimporting the {what}: {done}/{total}");
            })
            .await
            .with_context(|| format!("importing the {what}"))?;
        eprintln!();
        if !report.applied {
            bail!("the generated {what} did not import: {:?}", report.errors);
        }
    }
    let counts = store.counts().await.context("counting")?;
    store.close().await.context("closing the school")?;
    println!(
        "{} written in {:.2?} through the CSV imports: {} courses, {} learners, {} purchases",
        db.display(),
        started.elapsed(),
        counts.courses,
        counts.learners,
        counts.purchases
    );
    Ok(())
}

fn shape_name(shape: &lectern_insights::school_gen::SchoolShape) -> String {
    format!(
        "{} courses, in-track {:.0}%, bundles {:.0}%, tag affinity {:.0}%, launches {:.0}%, seed {}",
        shape.courses,
        shape.in_track * 100.0,
        shape.bundles * 100.0,
        shape.tag_affinity * 100.0,
        shape.launches * 100.0,
        shape.seed
    )
}

async fn eval_recs(db: &std::path::Path, split_date: Option<&str>) -> Result<()> {
    use lectern_insights::recs::{CourseInfo, EvalOptions, PurchaseRecord, evaluate_report};
    let store = lectern_store::Store::open_existing(db)
        .with_context(|| format!("opening {}", db.display()))?;
    let mut catalog = store.catalog().await.context("reading the catalog")?;
    // The catalog-order baseline reads the school's own listing order: its tracks, in order.
    let listed: Vec<String> = store
        .read(|conn| {
            let mut stmt =
                conn.prepare("SELECT id FROM courses ORDER BY track, track_position, id")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(ids)
        })
        .await
        .context("reading the catalog's order")?;
    catalog.sort_by_key(|c| listed.iter().position(|id| *id == c.id));
    let history = store
        .purchase_history()
        .await
        .context("reading the purchases")?;
    store.close().await.context("closing the school")?;
    if history.is_empty() {
        bail!("the school has no purchases to learn from");
    }
    let courses: Vec<CourseInfo> = catalog
        .into_iter()
        .map(|c| CourseInfo {
            id: c.id,
            title: c.title,
            tags: c.tags,
        })
        .collect();
    let purchases: Vec<PurchaseRecord> = history
        .into_iter()
        .map(|p| PurchaseRecord {
            learner: p.learner_id,
            course: p.course_id,
            at_ms: p.purchased_at_ms,
        })
        .collect();
    let cuts = match split_date {
        Some(date) => vec![parse_date(date)?],
        None => vec![],
    };
    let started = std::time::Instant::now();
    let report = evaluate_report(
        &courses,
        &purchases,
        &EvalOptions {
            cuts,
            ..EvalOptions::default()
        },
    );
    if report
        .splits
        .iter()
        .all(|s| s.trained_on == 0 || s.warm + s.cold_start == 0)
    {
        bail!(
            "nothing to learn from before the split, or nothing bought after it: choose another \
             --split-date"
        );
    }
    println!("{report}");
    eprintln!("(evaluated in {:.2?})", started.elapsed());
    Ok(())
}

async fn eval_propensity(db: &std::path::Path, window_days: u32) -> Result<()> {
    use lectern_insights::propensity::{Cut, LogEvent, Sale, SessionSpan, attendee_rows, train};
    let store = lectern_store::Store::open_existing(db)
        .with_context(|| format!("opening {}", db.display()))?;
    let spans = store
        .session_spans()
        .await
        .context("reading the sessions")?;
    let activity = store.activity().await.context("reading the event log")?;
    let history = store
        .purchase_history()
        .await
        .context("reading the purchases")?;
    // Viewers become the learners they are in the shop, as in the studio.
    let identities = lectern_engine::identity::identities_of(&store)
        .await
        .map_err(|e| anyhow::anyhow!("{} ({:?})", e.message, e.code))?;
    store.close().await.context("closing the school")?;
    let sessions: Vec<SessionSpan> = spans
        .into_iter()
        .map(|s| SessionSpan {
            id: s.id,
            started_at_ms: s.started_at_ms,
            ended_at_ms: s.ended_at_ms,
            course_id: s.course_id,
        })
        .collect();
    let events: Vec<LogEvent> = activity
        .into_iter()
        .filter(|e| {
            !e.actor
                .as_deref()
                .is_some_and(lectern_engine::identity::is_staff)
        })
        .map(|e| LogEvent {
            session_id: e.session_id,
            counted: lectern_engine::activities::participation(&e.kind),
            actor: e.actor.map(|a| identities.resolve(&a).to_owned()),
            at_ms: e.at_ms,
        })
        .collect();
    let sales: Vec<Sale> = history
        .into_iter()
        .map(|p| Sale {
            learner: p.learner_id,
            course_id: p.course_id,
            at_ms: p.purchased_at_ms,
            amount_cents: p.amount_cents,
        })
        .collect();
    // The data end where the sales end: later windows are still open and teach nothing yet.
    let data_end = sales.iter().map(|s| s.at_ms).max().unwrap_or(0);
    let rows = attendee_rows(
        &sessions,
        &events,
        &sales,
        Cut::SessionEnd,
        i64::from(window_days) * 86_400_000,
        data_end,
    );
    let model = train(&rows).map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
    let q = &model.quality;
    println!(
        "auc={:.4} auc_95ci=[{:.4}, {:.4}] brier={:.4}",
        q.auc.estimate, q.auc.low, q.auc.high, q.brier
    );
    println!("predicted  count  mean_predicted  observed");
    for bin in &q.calibration {
        println!(
            "{:.1}-{:.1}  {:>5}  {:>14.4}  {:>8.4}",
            bin.from, bin.to, bin.count, bin.predicted, bin.observed
        );
    }
    println!("{}", q.summary("the model"));
    eprintln!(
        "({} attendees to learn from, {} left out as a gap, {} to check on; {} viewers matched to learners)",
        q.train_rows,
        q.gap_rows,
        q.holdout_rows,
        identities.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_parse_to_utc_midnight() {
        assert_eq!(super::parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(super::parse_date("2026-11-01").unwrap(), 1_793_491_200_000);
        assert_eq!(super::parse_date("2024-02-29").unwrap(), 1_709_164_800_000);
        assert!(super::parse_date("2026-13-01").is_err());
        assert!(super::parse_date("yesterday").is_err());
    }
}
