//! `cargo xtask bench room`: the live room under a class of WebSocket viewers.
//!
//! Starts a release `lectern serve --demo` in its own process, starts a class, then for each
//! scenario connects N viewers from this process (the load generator), has a share of them chat
//! at a total rate R (each sender within the room's 1 msg/s limit), and measures, on every
//! viewer, the delay from send to delivery, accepted messages that never arrived, deliveries out
//! of sequence order, and the server's memory and CPU. The generator and the server share this
//! machine's cores, as they would on the instructor's laptop with the class beside it.
//!
//! `cargo xtask bench room -- --viewers 200,500,1000 --rate 20,100 --seconds 10`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    reason = "a benchmark that cannot run should stop loudly; its numbers are approximate"
)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

struct Args {
    viewers: Vec<usize>,
    rates: Vec<usize>,
    seconds: u64,
    bin: PathBuf,
}

fn parse_list(value: &str) -> Vec<usize> {
    value
        .split(',')
        .map(|v| v.trim().parse().expect("a list of numbers"))
        .collect()
}

fn args() -> Args {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let mut args = Args {
        viewers: vec![200, 500, 1000],
        rates: vec![20, 100],
        seconds: 10,
        bin: std::env::var_os("LECTERN_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| target.join("release/lectern")),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let value = it.next().expect("every option takes a value");
        match arg.as_str() {
            "--viewers" => args.viewers = parse_list(&value),
            "--rate" => args.rates = parse_list(&value),
            "--seconds" => args.seconds = value.parse().expect("seconds"),
            "--bin" => args.bin = PathBuf::from(value),
            other => panic!("unknown option {other}"),
        }
    }
    args
}

struct ServerProcess {
    child: Child,
    base: String,
    key: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(bin: &PathBuf) -> ServerProcess {
    let mut child = Command::new(bin)
        .args(["serve", "--demo", "--port", "0", "--no-test-card"])
        // Every simulated viewer comes from 127.0.0.1: lift the per-address limits.
        .args([
            "--connection-burst",
            "100000",
            "--sockets-per-address",
            "100000",
            "--connections-per-address",
            "100000",
            "--browser-key-burst",
            "100000",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("Lectern listening on ")
        .unwrap()
        .to_owned();
    let studio = lines.next().unwrap().unwrap();
    let key = studio.split("#key=").nth(1).unwrap().to_owned();
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    ServerProcess { child, base, key }
}

/// (resident memory in KiB, CPU time in clock ticks) of a process.
fn usage(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = fields
        .get(11)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    (rss, ticks)
}

#[derive(Default)]
struct ViewerLog {
    /// Delays in microseconds of the benchmark's chat messages.
    delays_us: Vec<u64>,
    /// Which messages arrived (sender, n).
    seen: HashSet<(u32, u32)>,
    out_of_order: u64,
    closed_early: bool,
}

/// Find `"key":<number>` in a JSON text without parsing all of it.
fn number_after(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let digits: String = text[at..]
        .chars()
        .skip_while(|c| *c == ' ')
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The benchmark's marker in a chat text: `bench:<sender>:<n>:<micros since start>`.
fn marker(text: &str) -> Option<(u32, u32, u64)> {
    let at = text.find("bench:")? + "bench:".len();
    let mut parts = text[at..].split(|c: char| !c.is_ascii_digit());
    let sender = parts.next()?.parse().ok()?;
    let n = parts.next()?.parse().ok()?;
    let sent = parts.next()?.parse().ok()?;
    Some((sender, n, sent))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn join(url: &str, run: usize, i: usize) -> Socket {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    let hello = json!({"type": "hello", "v": 1, "name": format!("Viewer {i}"),
        "browser_key": format!("bench-browser-{run:04}-{i:06}")});
    ws.send(Message::text(hello.to_string())).await.unwrap();
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) if text.contains("\"welcome\"") => return ws,
            Some(Ok(Message::Text(_))) => {}
            other => panic!("no welcome: {other:?}"),
        }
    }
}

struct Outcome {
    sent: u64,
    acked: HashSet<(u32, u32)>,
    refused: u64,
    logs: Vec<ViewerLog>,
}

async fn scenario(
    server: &ServerProcess,
    run: usize,
    viewers: usize,
    rate: usize,
    seconds: u64,
) -> Outcome {
    let url = format!("{}room", server.base.replacen("http", "ws", 1));
    let mut sockets = Vec::with_capacity(viewers);
    for i in 0..viewers {
        sockets.push(join(&url, run, i).await);
    }
    // Senders chat once every `period`, within the room's limit of 1 message per second.
    let senders = viewers.min((rate * 3 / 2).max(1));
    let period = Duration::from_secs_f64(senders as f64 / rate as f64);
    let start = Instant::now();
    let stop_at = start + Duration::from_secs(seconds);
    let acked = Arc::new(Mutex::new(HashSet::<(u32, u32)>::new()));
    let counters = Arc::new(Mutex::new((0u64, 0u64)));
    let mut tasks = Vec::with_capacity(viewers);
    for (i, ws) in sockets.into_iter().enumerate() {
        let (mut tx, mut rx) = ws.split();
        let acked = Arc::clone(&acked);
        let counters = Arc::clone(&counters);
        let is_sender = i < senders;
        let offset = period.mul_f64(i as f64 / senders as f64);
        tasks.push(tokio::spawn(async move {
            let mut log = ViewerLog::default();
            let mut last_seq = 0u64;
            let mut n = 0u32;
            let mut next_send = start + offset;
            // Drain for a grace period after the last send, so late deliveries count.
            let drain_until = stop_at + Duration::from_secs(3);
            loop {
                let wake = if is_sender && next_send < stop_at { next_send } else { drain_until };
                tokio::select! {
                    () = tokio::time::sleep_until(wake.into()) => {
                        if wake == drain_until { break; }
                        n += 1;
                        let micros = start.elapsed().as_micros() as u64;
                        let text = format!("question bench:{i}:{n}:{micros} about joins");
                        let frame = json!({"v": 1, "client_id": format!("b{i}-{n}"),
                            "action": {"type": "send_chat", "text": text}});
                        if tx.send(Message::text(frame.to_string())).await.is_err() { break; }
                        counters.lock().unwrap().0 += 1;
                        next_send += period;
                    }
                    incoming = rx.next() => match incoming {
                        Some(Ok(Message::Text(text))) => {
                            let now = start.elapsed().as_micros() as u64;
                            if text.starts_with("{\"type\":\"event\"") || text.contains("\"type\":\"event\"") {
                                if let Some(seq) = number_after(&text, "\"seq\":") {
                                    if seq <= last_seq { log.out_of_order += 1; }
                                    last_seq = seq;
                                }
                                if text.contains("chat_sent") && let Some((sender, k, sent)) = marker(&text) {
                                    log.delays_us.push(now.saturating_sub(sent));
                                    log.seen.insert((sender, k));
                                }
                            } else if text.contains("\"type\":\"ack\"") {
                                if let Some(id) = text.split("\"client_id\":\"b").nth(1) {
                                    let id: String = id.chars().take_while(|c| *c != '"').collect();
                                    if let Some((s, k)) = id.split_once('-') {
                                        acked.lock().unwrap().insert((s.parse().unwrap_or(0), k.parse().unwrap_or(0)));
                                    }
                                }
                            } else if text.contains("rejected") {
                                counters.lock().unwrap().1 += 1;
                            }
                        }
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => { log.closed_early = true; break; }
                        Some(Ok(_)) => {}
                    }
                }
            }
            let _ = tx.send(Message::Close(None)).await;
            log
        }));
    }
    let mut logs = Vec::with_capacity(viewers);
    for task in tasks {
        logs.push(task.await.unwrap());
    }
    let (sent, refused) = *counters.lock().unwrap();
    let acked = acked.lock().unwrap().clone();
    // Leaving takes the server a moment; let it settle before the next scenario.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = server;
    Outcome {
        sent,
        acked,
        refused,
        logs,
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let args = args();
    let server = start_server(&args.bin);
    let started = reqwest::Client::new()
        .post(format!("{}api/v1/start_class", server.base))
        .bearer_auth(&server.key)
        .header("content-type", "application/json")
        .body(r#"{"title":"Benchmark class"}"#)
        .send()
        .await
        .unwrap();
    assert!(
        started.status().is_success(),
        "start_class: {}",
        started.status()
    );
    let pid = server.child.id();
    let ticks_per_sec = 100.0; // USER_HZ on Linux
    println!(
        "{:>7} {:>6} {:>6} {:>6} {:>9} {:>5} {:>5} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "viewers",
        "msg/s",
        "sent",
        "acked",
        "delivered",
        "lost",
        "order",
        "p50 ms",
        "p99 ms",
        "max ms",
        "RSS MiB",
        "CPU %"
    );
    let mut run = 0;
    for &viewers in &args.viewers {
        for &rate in &args.rates {
            run += 1;
            let (_, cpu_before) = usage(pid);
            let wall = Instant::now();
            let outcome = scenario(&server, run, viewers, rate, args.seconds).await;
            let (rss, cpu_after) = usage(pid);
            let cpu =
                (cpu_after - cpu_before) as f64 / ticks_per_sec / wall.elapsed().as_secs_f64()
                    * 100.0;
            let mut delays: Vec<u64> = outcome
                .logs
                .iter()
                .flat_map(|l| l.delays_us.iter().copied())
                .collect();
            delays.sort_unstable();
            // An accepted (acknowledged) message that some viewer never got is lost.
            let acked = outcome.acked.len() as u64;
            let delivered: u64 = outcome.logs.iter().map(|l| l.seen.len() as u64).sum();
            let lost: u64 = outcome
                .logs
                .iter()
                .map(|l| outcome.acked.iter().filter(|m| !l.seen.contains(m)).count() as u64)
                .sum();
            let order: u64 = outcome.logs.iter().map(|l| l.out_of_order).sum();
            let closed = outcome.logs.iter().filter(|l| l.closed_early).count();
            println!(
                "{:>7} {:>6} {:>6} {:>6} {:>9} {:>5} {:>5} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>7.0}{}{}",
                viewers,
                rate,
                outcome.sent,
                acked,
                delivered,
                lost,
                order,
                percentile(&delays, 50.0),
                percentile(&delays, 99.0),
                percentile(&delays, 100.0),
                rss as f64 / 1024.0,
                cpu,
                if outcome.refused > 0 {
                    format!("  ({} refused by the room)", outcome.refused)
                } else {
                    String::new()
                },
                if closed > 0 {
                    format!("  ({closed} sockets closed early)")
                } else {
                    String::new()
                },
            );
        }
    }
    println!("target: 1000 viewers at 100 msg/s with p99 <= 150 ms, lost = 0, order = 0");
}
