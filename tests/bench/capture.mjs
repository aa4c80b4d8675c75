// `cargo xtask bench capture`: the desktop window's own capture path, measured end to end.
//
// The real window (release build, Xvfb, WebKit's mock camera and microphone) goes live with the
// camera; each picture it encodes carries its capture time drawn into its top-left corner (the
// page's `data-lectern-stamp="1"`, bench only). A Chromium student at /watch reads the time off
// every decoded frame (requestVideoFrameCallback): glass-to-glass is the frame's display time
// minus its capture time, on the same machine clock. Then more viewers join (receive-only
// WHEP sessions opened by one more Chromium page, not rendered) and the studio's CPU (the app and
// its WebKit processes, from /proc) is read over a window of seconds.
//
//   node tests/bench/capture.mjs [--seconds 20] [--viewers 50]
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WEBRTC_LOOPBACK_ARGS, launchChromium, required, tempDir } from '../e2e/lib.mjs';
import { DesktopWindow, waitFor } from '../e2e/window.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const SECONDS = option('--seconds', 20);
const VIEWERS = option('--viewers', 50);
const CLK_TCK = 100;

/** CPU ticks (user + system) of one process. */
function ownTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU ticks (user + system) of a process and all its descendants. */
function treeTicks(rootPid) {
  const children = new Map();
  const ticks = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {}
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    total += ticks.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs in the student's page: reads the stamp off each decoded frame until `stop` is set. */
const READER = `
  window.__samples = [];
  const video = document.querySelector('[data-testid="player-video"]');
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const CELL = 24;
  const onFrame = (now, meta) => {
    const shown = performance.timeOrigin + now;
    const w = video.videoWidth, h = video.videoHeight;
    if (w >= 16 * CELL && h >= 2 * CELL) {
      canvas.width = 16 * CELL; canvas.height = 2 * CELL;
      ctx.drawImage(video, 0, 0, 16 * CELL, 2 * CELL, 0, 0, 16 * CELL, 2 * CELL);
      const px = ctx.getImageData(0, 0, 16 * CELL, 2 * CELL).data;
      let value = 0;
      for (let bit = 0; bit < 32; bit++) {
        const x = (bit % 16) * CELL + CELL / 2, y = Math.floor(bit / 16) * CELL + CELL / 2;
        const i = (y * 16 * CELL + x) * 4;
        const light = (px[i] + px[i + 1] + px[i + 2]) / 3;
        value = (value * 2 + (light > 128 ? 1 : 0)) >>> 0;
      }
      // The stamp holds the capture time's low 32 bits (Unix ms).
      const nowMs = Math.floor(shown);
      const captured = nowMs - ((nowMs - value) >>> 0);
      window.__samples.push(shown - captured);
    }
    if (!window.__stop) video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
`;

/** Runs in another page: opens `n` receive-only WHEP sessions (not rendered). */
const EXTRA_VIEWERS = `
  const n = arguments[0];
  window.__pcs = [];
  for (let i = 0; i < n; i++) {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((r) => { if (pc.iceGatheringState === 'complete') r(); else { pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 2000); } });
    const res = await fetch('/whep', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
    if (res.status !== 201) throw new Error('WHEP answered ' + res.status + ': ' + await res.text());
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    window.__pcs.push(pc);
  }
  return window.__pcs.length;
`;

const dir = tempDir('lectern-bench-capture-');
const db = join(dir, 'demo.sqlite');
execFileSync(required('LECTERN_BIN'), ['demo', '--db', db], { stdio: 'ignore' });
const win = await DesktopWindow.open(db, ['--data-dir', join(dir, 'data'), '--port', '0'], { LECTERN_MOCK_CAPTURE: '1', RUST_LOG: 'warn' });
const browser = await launchChromium(WEBRTC_LOOPBACK_ARGS);
try {
  await win.waitForText('[data-testid="school-name"]', 'Northwind', { timeoutMs: 60_000 });
  const base = (await win.invoke('overview')).network.urls[0];
  await win.run(`document.documentElement.dataset.lecternStamp = '1';`);
  await win.click('[data-testid="nav-broadcast"]');
  await win.click('[data-testid="capture-kind-camera"]');
  await win.find('[data-testid="capture-panel"][data-phase="preview"]');
  await win.click('[data-testid="capture-go-live"]');
  await win.find('[data-testid="capture-panel"][data-phase="live"]');

  const student = await (await browser.newContext()).newPage();
  await student.goto(base + 'watch');
  await student.waitForFunction(() => document.querySelector('[data-testid="player"]')?.getAttribute('data-state') === 'live', null, { timeout: 30_000 });
  await student.evaluate(READER);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const samples = await student.evaluate(() => {
    window.__stop = true;
    return window.__samples;
  });
  // A misread stamp (a frame caught mid-change) lands far outside any plausible delay.
  const good = samples.filter((ms) => ms >= 0 && ms < 10_000).sort((a, b) => a - b);
  if (good.length < 10) throw new Error(`only ${good.length} frames read (${samples.length} in all)`);

  const extra = await (await browser.newContext()).newPage();
  await extra.goto(base + 'watch');
  const opened = await extra.evaluate(`(async () => { ${EXTRA_VIEWERS} })()`.replace('arguments[0]', String(Math.max(0, VIEWERS - 2))));
  await waitFor('every viewer counted by the studio', async () => (await win.invoke('broadcast_status')).viewers >= VIEWERS, 30_000);
  const viewers = (await win.invoke('broadcast_status')).viewers;
  await new Promise((r) => setTimeout(r, 3000));
  const [pid] = win.pids();
  const before = treeTicks(pid);
  const ownBefore = ownTicks(pid);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, 15_000));
  const seconds = (performance.now() - started) / 1000;
  const cpu = ((treeTicks(pid) - before) / CLK_TCK / seconds) * 100;
  const engineCpu = ((ownTicks(pid) - ownBefore) / CLK_TCK / seconds) * 100;
  const counts = await win.text('[data-testid="capture-counts"]');

  console.log(`frames read: ${good.length} of ${samples.length} over ${SECONDS} s (720p30 VP8, 1.5 Mbit/s)`);
  console.log(`glass-to-glass p50/p99: ${percentile(good, 50).toFixed(0)}/${percentile(good, 99).toFixed(0)} ms (max ${good.at(-1).toFixed(0)})`);
  console.log(`studio cpu at ${viewers} viewers: ${cpu.toFixed(0)}% of one core (app + WebKit: capture, encode, packetize, fan-out; ${opened} extra WHEP sessions)`);
  console.log(`  of which the app process (engine, fan-out, IPC): ${engineCpu.toFixed(0)}%; WebKit (capture, canvas, VP8 and Opus encoders): ${(cpu - engineCpu).toFixed(0)}%`);
  console.log(`window: ${counts}`);
} finally {
  await browser.close();
  await win.close();
}
