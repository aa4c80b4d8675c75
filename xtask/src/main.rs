//! `cargo xtask <verb>`: every project task, so that a green local run means a green CI.
//!
//! - `setup`   install what is missing (Debian/Ubuntu packages, npm packages, tauri-driver)
//! - `run`     set up, build the UI, open Lectern Studio on the demo school
//! - `test`    set up, build, run every suite (Rust, UI unit, end-to-end); ends with `N passed, N failed`
//! - `bench`   run a benchmark and print its numbers
//! - `codegen` regenerate the committed TypeScript bindings
//! - `soak`    kill -9 the studio 200 times mid-class and check that nothing acknowledged is lost
//! - `fuzz`    run the fuzz targets (SDP, WHIP/WHEP requests, room frames, CSV imports, stats ab)
//!   with many more cases than `test` does

mod invariants;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// What the desktop app needs to build (Tauri on Debian/Ubuntu).
const APP_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "curl",
    "file",
    "libwebkit2gtk-4.1-dev",
    "libssl-dev",
    "libxdo-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
];
/// What the end-to-end tests need: a virtual display, the WebKit WebDriver, Chromium, Firefox.
const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "chromium",
    "chromium-driver",
    "imagemagick",
    // A second real browser for the viewer page, driven over WebDriver BiDi (puppeteer-core).
    "firefox-esr",
];
/// The tauri-driver release the desktop tests are written against.
const TAURI_DRIVER_VERSION: &str = "2.1.0";
/// Oldest Node.js that Vite 8 runs on.
const MIN_NODE: (u32, u32) = (20, 19);

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    let outcome = match args.first().map(String::as_str) {
        Some("setup") => setup(true),
        Some("run") => run(rest),
        Some("test") => test(rest),
        Some("bench") => bench(rest),
        Some("codegen") => codegen(),
        Some("soak") => soak(rest),
        Some("fuzz") => fuzz(rest),
        _ => Err("usage: cargo xtask <setup|run|test|bench|codegen>\n\
                  \n  run [ARGS..]            open Lectern Studio on the demo school (ARGS go to the app)\
                  \n  test [--no-setup] [--suite rust|ui|e2e]..\
                  \n  bench store             the store's write path\
                  \n  bench fanout            WHEP fan-out: CPU per packet, delay, loss, memory per viewer\
                  \n  bench room              WebSocket room: delivery p50/p99 at 200-1000 viewers\
                  \n  bench insights          engagement: full recompute and live update cost\
                  \n  bench models            propensity models and recommendations\
                  \n  bench faq               the TA's answer assistant: suggest p50/p99 at 10,000 answers\
                  \n  bench answers           the answer assistant in the studio: 10,000 answers in the log, suggest_answer p50/p99\
                  \n  bench charts            the class report's charts drawn to PNG (60 minutes, 200 viewers)\
                  \n  bench capture           the window's own capture: glass-to-glass delay, studio CPU at 50 viewers\
                  \n  codegen                 regenerate ui/src/lib/bindings/{api,room}.ts\
                  \n  soak [KILLS]            kill -9 a live studio KILLS times (200) with 20 students chatting\
                  \n  fuzz [CASES]            the fuzz targets with CASES cases each (20,000; `test` runs 64)"
            .into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The checkout being worked on. Read when xtask runs (`cargo run` sets CARGO_MANIFEST_DIR),
/// not when it was compiled: with a target folder shared between clones, the binary built from
/// another clone is reused, and its compile-time path would point at that clone.
fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn target_dir() -> PathBuf {
    let out = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root())
        .output();
    out.ok()
        .and_then(|out| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok())
        .and_then(|meta| meta["target_directory"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| root().join("target"))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn step(title: &str) {
    println!("\n==> {title}");
    let _ = std::io::stdout().flush();
}

/// Run a command in the repository, inheriting the terminal; fail with its name.
fn sh(program: &str, args: &[&str]) -> Result {
    sh_in(&root(), program, args)
}

fn sh_in(dir: &Path, program: &str, args: &[&str]) -> Result {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("could not start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn missing_packages(packages: &[&'static str]) -> Vec<&'static str> {
    packages
        .iter()
        .copied()
        .filter(|p| {
            let out = Command::new("dpkg-query")
                .args(["-W", "-f=${db:Status-Status}", p])
                .output();
            !matches!(out, Ok(o) if o.stdout == b"installed")
        })
        .collect()
}

fn apt_install(packages: &[&str]) -> Result {
    if packages.is_empty() {
        return Ok(());
    }
    if !have("apt-get") {
        return Err(format!(
            "these system packages are needed and this is not Debian/Ubuntu: {}",
            packages.join(" ")
        ));
    }
    step(&format!(
        "installing system packages: {}",
        packages.join(" ")
    ));
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let run = |args: &[&str]| -> Result {
        let mut all: Vec<&str> = sudo.to_vec();
        all.extend_from_slice(args);
        let (program, rest) = all.split_first().ok_or("empty command")?;
        let status = Command::new(program)
            .args(rest)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("could not start {program}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{}` failed", all.join(" ")))
        }
    };
    run(&["apt-get", "update", "-qq"])?;
    let mut install = vec!["apt-get", "install", "-y", "-qq"];
    install.extend_from_slice(packages);
    run(&install)
}

fn node_version() -> Option<(u32, u32)> {
    let out = Command::new("node").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().trim_start_matches('v').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn ensure_node() -> Result {
    if node_version().is_none() || !have("npm") {
        apt_install(&["nodejs", "npm"])?;
    }
    match node_version() {
        Some(v) if v >= MIN_NODE => Ok(()),
        Some((major, minor)) => Err(format!(
            "Node.js {major}.{minor} is too old: the UI needs {}.{} or newer",
            MIN_NODE.0, MIN_NODE.1
        )),
        None => Err("Node.js is not installed and could not be installed".into()),
    }
}

/// `npm ci` in `dir` unless its node_modules already matches its lock file.
fn npm_ci(dir: &Path) -> Result {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&installed)) {
        (Ok(l), Ok(i)) => matches!((l.modified(), i.modified()), (Ok(l), Ok(i)) if i >= l),
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    step(&format!("npm ci in {}", dir.display()));
    sh_in(dir, "npm", &["ci", "--no-audit", "--no-fund"])
}

fn tauri_driver() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let path = home.join("bin/tauri-driver");
    path.exists().then_some(path)
}

/// Install what is missing. `for_tests` adds the test-only tools.
fn setup(for_tests: bool) -> Result {
    let mut packages = missing_packages(APP_PACKAGES);
    if for_tests {
        packages.extend(missing_packages(TEST_PACKAGES));
    }
    apt_install(&packages)?;
    ensure_node()?;
    npm_ci(&root().join("ui"))?;
    if for_tests {
        npm_ci(&root())?;
        if tauri_driver().is_none() {
            step("installing tauri-driver");
            sh(
                &cargo(),
                &[
                    "install",
                    "tauri-driver",
                    "--locked",
                    "--version",
                    TAURI_DRIVER_VERSION,
                ],
            )?;
        }
    }
    Ok(())
}

fn build_ui() -> Result {
    step("building the UI");
    sh_in(&root().join("ui"), "npm", &["run", "--silent", "build"])
}

fn run(args: &[String]) -> Result {
    setup(false)?;
    build_ui()?;
    let has_display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    let mut cmd = Command::new(cargo());
    if has_display {
        step("opening Lectern Studio on the demo school");
        cmd.args(["run", "-p", "lectern-studio", "--", "--demo"]);
    } else {
        step("no display here: starting the headless studio on the demo school instead");
        cmd.args([
            "run",
            "-p",
            "lectern-cli",
            "--bin",
            "lectern",
            "--",
            "serve",
            "--demo",
        ]);
    }
    cmd.args(args);
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the studio exited with {status}"))
    }
}

/// Run a command, echo its output live, and keep the output for parsing.
///
/// The command runs in its own process group. When it exits, whatever it left behind in that
/// group (a browser, a driver, a server a test forgot) is terminated, and output is read only
/// for a short grace period: a leftover grandchild holding the pipe open must not hang the run
/// (it did once in CI: every test passed and the run never ended).
fn run_tee(cmd: &mut Command) -> (bool, String) {
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc::RecvTimeoutError;
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(err) => return (false, format!("could not start: {err}")),
    };
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out)
                .lines()
                .map_while(std::result::Result::ok)
            {
                println!("{line}");
                let _ = tx.send(line);
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err)
                .lines()
                .map_while(std::result::Result::ok)
            {
                eprintln!("{line}");
                let _ = tx.send(line);
            }
        });
    }
    drop(tx);
    let mut text = vec![];
    let status = loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => text.push(line),
            Err(RecvTimeoutError::Disconnected) => break child.wait().ok(),
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
    };
    kill_group(child.id());
    // Drain what is still buffered; stop at EOF or after a quiet grace period.
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(3)) {
        text.push(line);
    }
    let ok = status.is_some_and(|s| s.success());
    (ok, text.join("\n"))
}

/// SIGTERM, then SIGKILL, to every process left in the group `pgid`.
fn kill_group(pgid: u32) {
    let group = format!("-{pgid}");
    for signal in ["-TERM", "-KILL"] {
        let _ = Command::new("kill")
            .args([signal, "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The number before `word` in `line` (`"12 passed"` -> 12).
fn count_before(line: &str, word: &str) -> Option<u64> {
    let at = line.find(word)?;
    line[..at]
        .trim_end()
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[derive(Default, Clone, Copy)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// nextest: `Summary [  1.2s] 40 tests run: 39 passed, 1 failed, 0 skipped`.
fn parse_nextest(output: &str, ok: bool) -> Tally {
    let summary = output
        .lines()
        .rev()
        .find(|l| l.contains("Summary") && l.contains("tests run"));
    match summary {
        Some(line) => Tally {
            passed: count_before(line, " passed").unwrap_or(0),
            failed: count_before(line, " failed").unwrap_or(0)
                + count_before(line, " timed out").unwrap_or(0),
        },
        // No summary: the build failed. That is a failure, not zero tests.
        None => Tally {
            passed: 0,
            failed: u64::from(!ok).max(1),
        },
    }
}

/// node --test (spec reporter): `ℹ pass 5` / `ℹ fail 0`.
fn parse_node(output: &str, ok: bool) -> Tally {
    let find = |key: &str| {
        output.lines().rev().find_map(|l| {
            let l = l.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
            l.strip_prefix(key)
                .and_then(|n| n.trim().parse::<u64>().ok())
        })
    };
    match (find("pass "), find("fail ")) {
        (Some(passed), Some(failed)) => Tally {
            passed,
            failed: if ok { failed } else { failed.max(1) },
        },
        _ => Tally {
            passed: 0,
            failed: 1,
        },
    }
}

struct Xvfb(Child, String);

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_xvfb() -> Result<Xvfb> {
    let number = (90..140)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .ok_or("no free X display number")?;
    let display = format!(":{number}");
    let child = Command::new("Xvfb")
        .args([&display, "-screen", "0", "1366x900x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start Xvfb: {e}"))?;
    let socket = format!("/tmp/.X11-unix/X{number}");
    let started = Instant::now();
    while !Path::new(&socket).exists() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err("Xvfb did not start".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Xvfb(child, display))
}

fn test(args: &[String]) -> Result {
    let mut suites: Vec<&str> = vec![];
    let mut do_setup = true;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--no-setup" => do_setup = false,
            "--suite" => suites.push(
                it.next()
                    .map(String::as_str)
                    .ok_or("--suite needs a name")?,
            ),
            other => return Err(format!("unknown test option {other}")),
        }
    }
    if suites.is_empty() {
        suites = vec!["rust", "ui", "e2e"];
    }
    let started = Instant::now();
    if do_setup {
        setup(true)?;
    }
    build_ui()?;
    let mut total = Tally::default();
    let mut lines = vec![];
    for suite in suites {
        let tally = match suite {
            "rust" => rust_suite(),
            "ui" => ui_suite(),
            "e2e" => e2e_suite()?,
            other => return Err(format!("unknown suite {other} (rust, ui, e2e)")),
        };
        lines.push(format!(
            "{suite}: {} passed, {} failed",
            tally.passed, tally.failed
        ));
        total.add(tally);
    }
    println!("\n==> results ({:.0?})", started.elapsed());
    for line in &lines {
        println!("  {line}");
    }
    println!("{} passed, {} failed", total.passed, total.failed);
    if total.failed == 0 && total.passed > 0 {
        Ok(())
    } else {
        Err("tests failed".into())
    }
}

fn rust_suite() -> Tally {
    step("Rust tests");
    let nextest = Command::new(cargo())
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if nextest {
        let (ok, out) = run_tee(
            Command::new(cargo())
                .args([
                    "nextest",
                    "run",
                    "--workspace",
                    "--no-fail-fast",
                    "--color",
                    "never",
                ])
                .current_dir(root()),
        );
        let mut tally = parse_nextest(&out, ok);
        // The media engine against real Chromium: ignored in a plain `cargo test` because it
        // needs the browser and playwright-core, which setup has installed by now.
        step("Rust tests with a real browser (WebRTC against Chromium)");
        let (ok, out) = run_tee(
            Command::new(cargo())
                .args([
                    "nextest",
                    "run",
                    // The whole workspace filtered to the package, so features unify as in
                    // the first run and nothing is rebuilt.
                    "--workspace",
                    "-E",
                    "package(lectern-media)",
                    "--run-ignored",
                    "only",
                ])
                .args(["--no-fail-fast", "--color", "never"])
                .current_dir(root()),
        );
        tally.add(parse_nextest(&out, ok));
        tally
    } else {
        let (ok, out) = run_tee(
            Command::new(cargo())
                .args(["test", "--workspace", "--no-fail-fast"])
                .current_dir(root()),
        );
        let mut tally = Tally::default();
        for line in out.lines().filter(|l| l.starts_with("test result:")) {
            tally.add(Tally {
                passed: count_before(line, " passed").unwrap_or(0),
                failed: count_before(line, " failed").unwrap_or(0),
            });
        }
        if !ok && tally.failed == 0 {
            tally.failed = 1;
        }
        tally
    }
}

fn ui_suite() -> Tally {
    step("UI unit tests (Vitest)");
    let report = target_dir().join("vitest-report.json");
    let _ = std::fs::remove_file(&report);
    let report_arg = format!("--outputFile.json={}", report.display());
    let (ok, _) = run_tee(
        Command::new("npm")
            .args([
                "run",
                "--silent",
                "test",
                "--",
                "--reporter=default",
                "--reporter=json",
                &report_arg,
            ])
            .current_dir(root().join("ui")),
    );
    let parsed = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    match parsed {
        Some(r) => Tally {
            passed: r["numPassedTests"].as_u64().unwrap_or(0),
            failed: r["numFailedTests"].as_u64().unwrap_or(0)
                + u64::from(!ok && r["numFailedTests"] == 0),
        },
        None => Tally {
            passed: 0,
            failed: 1,
        },
    }
}

fn e2e_suite() -> Result<Tally> {
    step("building the binaries for the end-to-end tests");
    sh(
        &cargo(),
        &["build", "-p", "lectern-cli", "-p", "lectern-studio"],
    )?;
    let xvfb = start_xvfb()?;
    let bin = target_dir().join("debug");
    step("end-to-end tests (Chromium and the desktop window)");
    let mut cmd = Command::new("node");
    cmd.args([
        "--test",
        "--test-concurrency=1",
        "--test-reporter=spec",
        "--test-timeout=180000",
        "tests/e2e/",
    ])
    .current_dir(root())
    .env("DISPLAY", &xvfb.1)
    .env("LECTERN_BIN", bin.join("lectern"))
    .env("LECTERN_STUDIO_BIN", bin.join("lectern-studio"));
    if let Some(driver) = tauri_driver() {
        cmd.env("TAURI_DRIVER", driver);
    }
    let (ok, out) = run_tee(&mut cmd);
    drop(xvfb);
    Ok(parse_node(&out, ok))
}

/// `cargo xtask bench <what>`: each benchmark is a release-built example that prints its numbers.
const BENCHES: &[(&str, &str, &str)] = &[
    ("store", "lectern-store", "bench_store"),
    ("fanout", "lectern-media", "bench_fanout"),
    ("room", "lectern-server", "bench_room"),
    ("insights", "lectern-insights", "bench_insights"),
    ("models", "lectern-insights", "bench_models"),
    ("faq", "lectern-insights", "bench_faq"),
    ("answers", "lectern-engine", "bench_answers"),
    ("charts", "lectern-charts", "bench_charts"),
];

fn bench(args: &[String]) -> Result {
    if args.first().map(String::as_str) == Some("capture") {
        return bench_capture(&args[1..]);
    }
    let mut names: Vec<&str> = BENCHES.iter().map(|(name, ..)| *name).collect();
    names.push("capture");
    let usage = || {
        format!(
            "usage: cargo xtask bench <{}> [-- options]",
            names.join("|")
        )
    };
    let what = args.first().map(String::as_str).ok_or_else(usage)?;
    let (_, package, example) = BENCHES
        .iter()
        .find(|(name, ..)| *name == what)
        .ok_or_else(usage)?;
    let mut cargo_args = vec![
        "run",
        "--release",
        "-p",
        package,
        "--example",
        example,
        "--",
    ];
    cargo_args.extend(
        args.iter()
            .skip(1)
            .map(String::as_str)
            .filter(|a| *a != "--"),
    );
    if what == "room" {
        // The room benchmark drives a real `lectern serve` in another process.
        sh(&cargo(), &["build", "--release", "-p", "lectern-cli"])?;
    }
    sh(&cargo(), &cargo_args)
}

/// The desktop window's own capture, end to end: the release app under Xvfb with WebKit's mock
/// devices, a Chromium student reading capture times off decoded frames, and the studio's CPU
/// with more viewers (`tests/bench/capture.mjs`).
fn bench_capture(args: &[String]) -> Result {
    setup(true)?;
    build_ui()?;
    step("building the release binaries");
    sh(
        &cargo(),
        &[
            "build",
            "--release",
            "-p",
            "lectern-cli",
            "-p",
            "lectern-studio",
        ],
    )?;
    let xvfb = start_xvfb()?;
    let bin = target_dir().join("release");
    let driver = tauri_driver().ok_or("tauri-driver is not installed")?;
    step("capture benchmark (the window's camera to a Chromium viewer)");
    let status = Command::new("node")
        .arg("tests/bench/capture.mjs")
        .args(args.iter().filter(|a| *a != "--"))
        .current_dir(root())
        .env("DISPLAY", &xvfb.1)
        .env("LECTERN_BIN", bin.join("lectern"))
        .env("LECTERN_STUDIO_BIN", bin.join("lectern-studio"))
        .env("TAURI_DRIVER", driver)
        .status()
        .map_err(|e| format!("node: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the capture benchmark failed ({status})"))
    }
}

fn codegen() -> Result {
    for (package, file) in [("lectern-engine", "api.ts"), ("lectern-room", "room.ts")] {
        step(&format!("regenerating ui/src/lib/bindings/{file}"));
        let status = Command::new(cargo())
            .args(["test", "-p", package, "--test", "tests", "bindings"])
            .env("LECTERN_UPDATE_BINDINGS", "1")
            .current_dir(root())
            .status()
            .map_err(|e| format!("cargo: {e}"))?;
        if !status.success() {
            return Err(format!("codegen of {file} failed"));
        }
    }
    Ok(())
}

/// The fuzz targets (proptest on stable Rust), each run with `cases` cases: the same tests
/// `cargo xtask test` runs with 64, in the debug profile (integer overflow checks on). Prints
/// the time each crate's targets took.
fn fuzz(args: &[String]) -> Result {
    let cases = match args.first() {
        Some(c) => c
            .parse::<u32>()
            .map_err(|_| format!("fuzz takes a number of cases, not {c:?}"))?,
        None => 20_000,
    };
    for package in [
        "lectern-media",
        "lectern-server",
        "lectern-room",
        "lectern-store",
        "lectern-insights",
    ] {
        step(&format!("fuzzing {package}: {cases} cases per target"));
        let started = Instant::now();
        let status = Command::new(cargo())
            .args([
                "test",
                "--release",
                "-p",
                package,
                "--test",
                "tests",
                "fuzz",
                "--",
                "--nocapture",
            ])
            .env("LECTERN_FUZZ_CASES", cases.to_string())
            .current_dir(root())
            .status()
            .map_err(|e| format!("cargo: {e}"))?;
        if !status.success() {
            return Err(format!("fuzzing {package} found a failure ({status})"));
        }
        println!(
            "fuzz: {package} {cases} cases per target in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The crash soak: the same test `cargo xtask test` runs with 30 kills, run with more (200 by
/// default). It prints the kills, acknowledged, lost and duplicated messages, joins and leaves,
/// and the restart-to-healthy times.
fn soak(args: &[String]) -> Result {
    let kills = match args.first() {
        Some(k) => k
            .parse::<u32>()
            .map_err(|_| format!("soak takes a number of kills, not {k:?}"))?,
        None => 200,
    };
    step(&format!("crash soak: {kills} kills"));
    let status = Command::new(cargo())
        .args([
            "test",
            "-p",
            "lectern-cli",
            "--test",
            "tests",
            "soak",
            "--",
            "--nocapture",
        ])
        .env("LECTERN_SOAK_KILLS", kills.to_string())
        .current_dir(root())
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the soak failed ({status})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nextest_summaries() {
        let out = "   Summary [   3.101s] 42 tests run: 40 passed, 2 failed, 1 skipped";
        let t = parse_nextest(out, false);
        assert_eq!((t.passed, t.failed), (40, 2));
        let t = parse_nextest(
            "     Summary [   1.0s] 7 tests run: 7 passed, 0 skipped",
            true,
        );
        assert_eq!((t.passed, t.failed), (7, 0));
        let t = parse_nextest("error: could not compile", false);
        assert_eq!((t.passed, t.failed), (0, 1));
    }

    #[test]
    fn parses_node_summaries() {
        let out = "ℹ tests 6\nℹ suites 0\nℹ pass 5\nℹ fail 1\nℹ cancelled 0";
        let t = parse_node(out, false);
        assert_eq!((t.passed, t.failed), (5, 1));
        let t = parse_node("nothing", true);
        assert_eq!((t.passed, t.failed), (0, 1));
    }
}
