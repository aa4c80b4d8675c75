// Going live from the real desktop window (tauri-driver under Xvfb, WebKit's mock camera and
// microphone with LECTERN_MOCK_CAPTURE=1): the window captures and encodes (WebCodecs VP8 and
// Opus), the engine packetizes and fans out, and a student in Chromium decodes rising frames
// and audio packets, and so does one in Firefox ESR; switching to the screen with the camera keeps the student's connection;
// muting stops the audio while the video goes on; Stop takes the window off air.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ARTIFACTS, WEBRTC_LOOPBACK_ARGS, launchChromium, launchFirefox, required, tempDir, watchErrors } from './lib.mjs';
import { DesktopWindow, waitFor } from './window.mjs';

let win;
let base;
let browser;
let student;
let errors;
let firefox;
let fox;

before(async () => {
  const dir = tempDir('lectern-desktop-capture-');
  const db = join(dir, 'demo.sqlite');
  execFileSync(required('LECTERN_BIN'), ['demo', '--db', db], { stdio: 'ignore' });
  win = await DesktopWindow.open(db, ['--data-dir', join(dir, 'data'), '--port', '0'], { LECTERN_MOCK_CAPTURE: '1' });
  browser = await launchChromium(WEBRTC_LOOPBACK_ARGS);
});

after(async () => {
  await firefox?.close();
  await browser?.close();
  await win?.close();
});

/** The numbers in the student's player Stats panel. */
function stats(page) {
  return page.evaluate(() => {
    const read = (id) => Number(document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? 0);
    return {
      state: document.querySelector('[data-testid="player"]')?.getAttribute('data-state'),
      frames: read('stats-frames'),
      audioPackets: read('stats-audio-packets'),
    };
  });
}

async function waitForRising(page, what, from, timeoutMs = 20_000) {
  let now;
  await waitFor(`the student's ${what} to rise past ${JSON.stringify(from)}`, async () => {
    now = await stats(page);
    return what === 'frames' ? now.frames > from.frames : what === 'audio' ? now.audioPackets > from.audioPackets : now.frames > from.frames && now.audioPackets > from.audioPackets;
  }, timeoutMs).catch((error) => {
    throw new Error(`${error.message}; it reads ${JSON.stringify(now)}`);
  });
  return now;
}

test('Go live in the window: a Chromium student decodes its frames and audio', async () => {
  await win.waitForText('[data-testid="school-name"]', 'Northwind', { timeoutMs: 60_000 });
  base = (await win.invoke('overview')).network.urls[0];
  await win.click('[data-testid="nav-broadcast"]');
  // No "the window cannot publish" anywhere: it can.
  assert.doesNotMatch(await win.text('main'), /cannot do it|has no WebRTC/);

  await win.click('[data-testid="capture-kind-camera"]');
  await win.find('[data-testid="capture-panel"][data-phase="preview"]');
  await win.click('[data-testid="capture-go-live"]');
  await win.find('[data-testid="capture-panel"][data-phase="live"]');
  // No class was live: going live started one.
  assert.equal((await win.invoke('overview')).live.state, 'live');
  await waitFor('the broadcast to say the window is its source', async () => (await win.invoke('broadcast_status')).source === 'window');

  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  student = await context.newPage();
  errors = watchErrors(student);
  await student.goto(base + 'watch');
  await student.waitForFunction(() => document.querySelector('[data-testid="player"]')?.getAttribute('data-state') === 'live', null, { timeout: 20_000 });
  await student.getByText('Stats', { exact: true }).click();
  const first = await stats(student);
  const rising = await waitForRising(student, 'both', first);
  console.log(`capture: the student decodes the window's stream (${JSON.stringify(first)} -> ${JSON.stringify(rising)})`);
  await win.screenshot(join(ARTIFACTS, 'desktop-capture-live.png'));
  await student.screenshot({ path: join(ARTIFACTS, 'desktop-capture-watch.png') });
});

test('a student in Firefox ESR decodes it too', async () => {
  firefox = await launchFirefox();
  fox = await firefox.newPage();
  await fox.goto(base + 'watch');
  await fox.waitForFunction(() => document.querySelector('[data-testid="player"]')?.getAttribute('data-state') === 'live', { timeout: 30_000 });
  // The viewer opens the Stats disclosure.
  await fox.evaluate(() => {
    for (const summary of document.querySelectorAll('summary')) if (summary.textContent.trim() === 'Stats') summary.click();
  });
  const first = await stats(fox);
  const rising = await waitForRising(fox, 'both', first);
  console.log(`capture: Firefox ESR decodes the window's stream (${JSON.stringify(first)} -> ${JSON.stringify(rising)})`);
});

test('switching to the screen with the camera keeps the student connected', async () => {
  const sessionsBefore = (await win.invoke('broadcast_status')).viewerStats.map((v) => v.session);
  await win.click('[data-testid="capture-kind-screen_and_camera"]');
  await win.find('[data-testid="capture-kind-screen_and_camera"][aria-pressed="true"]');
  // The screen was shared and the camera sits in its corner: the preview is the composed canvas.
  assert.equal(await win.has('[data-testid="capture-error"]'), false, 'no capture error');
  assert.equal(await win.run(`return document.querySelector('[data-testid="capture-preview"]')?.tagName;`), 'CANVAS');
  const from = await stats(student);
  await waitForRising(student, 'both', from);
  assert.equal((await stats(student)).state, 'live');
  await waitForRising(fox, 'frames', await stats(fox));
  assert.equal((await stats(fox)).state, 'live');
  // The same WHEP session: the student never reconnected.
  const sessionsAfter = (await win.invoke('broadcast_status')).viewerStats.map((v) => v.session);
  assert.deepEqual(sessionsAfter, sessionsBefore);
});

test('mute stops the audio while the video goes on', async () => {
  await win.click('[data-testid="capture-mute"]');
  await win.find('[data-testid="capture-mute"][aria-pressed="true"]');
  // Let what was encoded before the click arrive.
  await new Promise((r) => setTimeout(r, 1500));
  const muted = await stats(student);
  await new Promise((r) => setTimeout(r, 2000));
  // The video goes on (waited for: a loaded machine may pause the encoder for a moment)...
  const later = await waitForRising(student, 'frames', muted);
  // ...while the audio stayed still over those 2 s and more.
  assert.ok(later.audioPackets - muted.audioPackets <= 5, `audio stopped: ${muted.audioPackets} -> ${later.audioPackets}`);
  await win.click('[data-testid="capture-mute"]');
  await waitForRising(student, 'audio', later);
});

test('Stop takes the window off air', async () => {
  await win.click('[data-testid="capture-stop"]');
  await win.find('[data-testid="capture-panel"][data-phase="preview"]');
  await waitFor('the broadcast to have no source', async () => (await win.invoke('broadcast_status')).source === null);
  await student.waitForFunction(() => document.querySelector('[data-testid="player"]')?.getAttribute('data-state') !== 'live', null, { timeout: 20_000 }).catch(() => {});
  assert.deepEqual(errors, [], 'no console errors on the student page');
});
