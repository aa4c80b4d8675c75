// Headless Chromium against `lectern serve --demo --port 0`: the class's video end to end.
// WHEP out to viewers at /watch (the test card, then a publisher), WHIP in from /publish
// (Chromium's fake camera and microphone), and the studio's Broadcast screen. Loopback only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, serveWithBanner, launchChromium, watchErrors, WEBRTC_LOOPBACK_ARGS } from './lib.mjs';

let host;
let browser;
const contexts = [];
const errors = {};
const viewers = [];
let publisher;
let studio;

before(async () => {
  host = await serveWithBanner(['--demo', '--port', '0']);
  browser = await launchChromium(WEBRTC_LOOPBACK_ARGS);
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (host) {
    const { code, signal } = await host.stop();
    assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  }
});

async function newPage(label, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, ...options });
  contexts.push(context);
  const page = await context.newPage();
  errors[label] = watchErrors(page);
  return page;
}

/** The numbers in the player's Stats panel. */
async function stats(page) {
  return page.evaluate(() => {
    const read = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? '';
    return {
      state: document.querySelector('[data-testid="player"]')?.getAttribute('data-state'),
      frames: Number(read('stats-frames')),
      audioPackets: Number(read('stats-audio-packets')),
      bitrate: read('stats-bitrate'),
      rtt: read('stats-rtt'),
      resolution: read('stats-resolution'),
    };
  });
}

/** Waits until the player says `state` (its data-state). */
async function waitForState(page, state, timeout = 15_000) {
  await page.waitForFunction(
    (expected) => document.querySelector('[data-testid="player"]')?.getAttribute('data-state') === expected,
    state,
    { timeout },
  );
}

/** Waits until the Stats panel's frames decoded and audio packets both grow past `from`. */
async function waitForMediaRising(page, from) {
  await page.waitForFunction(
    ({ frames, audioPackets }) => {
      const n = (id) => Number(document.querySelector(`[data-testid="${id}"]`)?.textContent ?? 0);
      return n('stats-frames') > frames && n('stats-audio-packets') > audioPackets;
    },
    from,
    { timeout: 10_000 },
  );
}

/** Opens /watch, waits for live video, and checks that frames and audio keep arriving. */
async function watchLive(label) {
  const page = await newPage(label);
  const started = performance.now();
  await page.goto(host.base + 'watch');
  await waitForState(page, 'live');
  const liveMs = Math.round(performance.now() - started);
  // The user opens the Stats disclosure, as a curious viewer would.
  await page.getByText('Stats', { exact: true }).click();
  const first = await stats(page);
  await waitForMediaRising(page, first);
  viewers.push(page);
  return { page, liveMs, first };
}

test('the demo test card plays on /watch: muted autoplay, an Unmute button, stats rising', async () => {
  const { page, liveMs, first } = await watchLive('viewer-a');
  console.log(`watch: live after ${liveMs} ms (test card); first stats ${JSON.stringify(first)}`);
  assert.match(await page.getByTestId('player-state').innerText(), /live/i);
  assert.equal(await page.getByTestId('player-unmute').innerText(), 'Unmute');
  // Playing by itself, muted, as browsers allow without a click.
  const video = await page.getByTestId('player-video').evaluate((v) => ({ paused: v.paused, muted: v.muted, width: v.videoWidth }));
  assert.deepEqual(video, { paused: false, muted: true, width: 640 });
  assert.equal((await stats(page)).resolution.startsWith('640×360'), true);
  // One press unmutes, from the keyboard.
  await page.getByTestId('player-unmute').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.getByTestId('player-unmute').innerText(), 'Mute');
  assert.equal(await page.getByTestId('player-video').evaluate((v) => v.muted), false);
  await page.screenshot({ path: join(ARTIFACTS, 'broadcast-watch-test-card.png') });
  assert.deepEqual(errors['viewer-a'], []);
});

test('a browser publishes from /publish and every viewer, even a late one, plays it', async () => {
  // The instructor opens the studio's Broadcast screen: the test card is on, one viewer watches.
  studio = await newPage('studio', { viewport: { width: 1280, height: 1000 } });
  await studio.goto(host.studioUrl);
  await studio.getByTestId('nav-broadcast').click();
  await studio.waitForFunction(() => document.querySelector('[data-testid="broadcast-source"]')?.getAttribute('data-source') === 'test_card');
  await studio.waitForFunction(() => document.querySelector('[data-testid="broadcast-viewers"]')?.textContent?.trim() === '1');
  // Turning the test card off leaves the viewer waiting, still connected.
  await studio.getByTestId('toggle-test-card').uncheck();
  await studio.waitForFunction(() => document.querySelector('[data-testid="broadcast-source"]')?.getAttribute('data-source') === 'none');
  await waitForState(viewers[0], 'offline', 10_000);
  assert.match(await viewers[0].getByTestId('player-state').innerText(), /waiting/i);

  publisher = await newPage('publisher');
  await publisher.context().grantPermissions(['camera', 'microphone']);
  // The studio's link carries the key in the fragment; the page takes it out of the address bar.
  await publisher.goto(`${host.base}publish#key=${host.publishKey}`);
  assert.equal(new URL(publisher.url()).hash, '');
  await publisher.getByTestId('publish-preview-on').click();
  await publisher.waitForFunction(() => document.querySelector('[data-testid="publish-preview"]')?.videoWidth > 0);
  const wentLive = performance.now();
  await publisher.getByTestId('publish-go-live').click();
  await publisher.getByTestId('publish-live').waitFor({ timeout: 10_000 });
  assert.match(await publisher.getByTestId('publish-status').innerText(), /you are live/i);
  console.log(`publish: live after ${Math.round(performance.now() - wentLive)} ms`);

  // The waiting viewer plays the publisher on the same session.
  const waiting = await stats(viewers[0]);
  await waitForState(viewers[0], 'live', 10_000);
  await waitForMediaRising(viewers[0], waiting);
  console.log(`watch: the waiting viewer plays the publisher: ${JSON.stringify(await stats(viewers[0]))}`);

  // Three more viewers, together.
  const joined = await Promise.all(['viewer-b', 'viewer-c', 'viewer-d'].map((label) => watchLive(label)));
  for (const { page, liveMs } of joined) {
    const s = await stats(page);
    assert.equal(s.state, 'live');
    console.log(`watch: live after ${liveMs} ms (publisher), ${s.resolution}, ${s.bitrate}, rtt ${s.rtt}`);
  }
  // Every viewer keeps receiving, at the same time.
  const now = await Promise.all(viewers.map((page) => stats(page)));
  await Promise.all(viewers.map((page, i) => waitForMediaRising(page, now[i])));

  // A late viewer starts on a keyframe.
  const late = await newPage('viewer-late');
  const lateStarted = performance.now();
  await late.goto(host.base + 'watch');
  await late.waitForFunction(() => Number(document.querySelector('[data-testid="stats-frames"]')?.textContent ?? 0) > 0, null, {
    timeout: 15_000,
  });
  console.log(`watch: a late viewer decoded its first frame after ${Math.round(performance.now() - lateStarted)} ms`);
  viewers.push(late);

  // The studio's Broadcast screen shows the publisher and counts the viewers.
  await studio.waitForFunction(() => document.querySelector('[data-testid="broadcast-source"]')?.getAttribute('data-source') === 'publisher');
  await studio.waitForFunction(
    (count) => document.querySelector('[data-testid="broadcast-viewers"]')?.textContent?.trim() === String(count),
    viewers.length,
    { timeout: 10_000 },
  );
  assert.match(await studio.getByTestId('broadcast-codecs').innerText(), /VP8/i);
  assert.equal(await studio.getByTestId('whip-url').inputValue(), host.whipUrl);
  assert.equal(await studio.getByTestId('publish-key').inputValue(), host.publishKey);
  assert.equal(await studio.getByTestId('publish-link').inputValue(), `${host.base}publish#key=${host.publishKey}`);
  await studio.screenshot({ path: join(ARTIFACTS, 'broadcast-studio.png'), fullPage: true });
  await viewers[1].screenshot({ path: join(ARTIFACTS, 'broadcast-watch-publisher.png') });
  await publisher.screenshot({ path: join(ARTIFACTS, 'broadcast-publish-live.png'), fullPage: true });
  for (const label of ['publisher', 'viewer-b', 'viewer-c', 'viewer-d', 'viewer-late', 'studio']) {
    assert.deepEqual(errors[label], [], label);
  }
});

test('a second publisher is told another one is live, and a wrong key is named', async () => {
  const second = await newPage('second-publisher');
  await second.context().grantPermissions(['camera', 'microphone']);
  await second.goto(`${host.base}publish#key=${host.publishKey}`);
  await second.getByTestId('publish-go-live').click();
  await second.getByTestId('publish-error').waitFor({ timeout: 10_000 });
  assert.match(await second.getByTestId('publish-error').innerText(), /another publisher is live/i);

  await second.getByTestId('publish-key').fill('not-the-right-key-at-all');
  await second.getByTestId('publish-go-live').click();
  await second.waitForFunction(() => /key is wrong/i.test(document.querySelector('[data-testid="publish-error"]')?.textContent ?? ''));
  // The first publisher is still the one on air.
  assert.equal(await publisher.getByTestId('publish-live').isVisible(), true);
  await second.context().close();
});

test('the publisher switches its camera off and on while live; viewers keep the same session', async () => {
  const viewer = viewers[1];
  // Watch the player's state for the whole switch: it must never reconnect.
  await viewer.evaluate(() => {
    window.__states = [];
    const player = document.querySelector('[data-testid="player"]');
    new MutationObserver(() => window.__states.push(player.getAttribute('data-state'))).observe(player, { attributes: true });
  });
  const camera = await publisher.getByTestId('publish-video').inputValue();
  assert.notEqual(camera, 'none');
  await publisher.getByTestId('publish-video').selectOption('none');
  // The viewer's frames stop (no video goes out) while its audio goes on.
  const before = await stats(viewer);
  await viewer.waitForFunction(
    () => {
      const n = Number(document.querySelector('[data-testid="stats-frames"]')?.textContent ?? 0);
      const now = performance.now();
      if (window.__frames !== n) {
        window.__frames = n;
        window.__since = now;
      }
      return now - window.__since > 1000;
    },
    null,
    { timeout: 10_000, polling: 100 },
  );
  await waitForMediaRising(viewer, { frames: -1, audioPackets: before.audioPackets });
  await publisher.getByTestId('publish-video').selectOption(camera);
  await publisher.waitForFunction(() => document.querySelector('[data-testid="publish-preview"]')?.videoWidth > 0);
  await waitForMediaRising(viewer, await stats(viewer));
  assert.equal(await publisher.getByTestId('publish-live').isVisible(), true);
  assert.equal(await publisher.getByTestId('publish-error').count(), 0);
  const states = await viewer.evaluate(() => window.__states);
  assert.ok(!states.some((s) => s !== 'live'), `the viewer's player stayed live: ${states}`);
});

test('when the publisher stops, viewers wait for the class instead of showing an error', async () => {
  await publisher.getByTestId('publish-stop').click();
  await publisher.getByTestId('publish-go-live').waitFor();
  assert.doesNotMatch(await publisher.getByTestId('publish-status').innerText(), /you are live/i);
  await Promise.all(viewers.map((page) => waitForState(page, 'offline', 10_000)));
  for (const page of viewers) {
    assert.match(await page.getByTestId('player-state').innerText(), /waiting/i);
    assert.equal(await page.getByTestId('watch-error').count(), 0);
  }
  await studio.waitForFunction(() => document.querySelector('[data-testid="broadcast-source"]')?.getAttribute('data-source') === 'none');
  await viewers[0].screenshot({ path: join(ARTIFACTS, 'broadcast-watch-waiting.png') });

  // The instructor turns the test card back on from the studio: the waiting viewers play again.
  await studio.getByTestId('toggle-test-card').check();
  await Promise.all(viewers.map((page) => waitForState(page, 'live', 10_000)));
  for (const label of Object.keys(errors)) {
    if (label !== 'second-publisher') assert.deepEqual(errors[label], [], label);
  }
});

test('when the studio restarts, viewers say they are reconnecting and play again by themselves', async () => {
  const port = new URL(host.base).port;
  const { code, signal } = await host.stop();
  assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  const down = performance.now();
  await Promise.all(viewers.map((page) => waitForState(page, 'reconnecting', 15_000)));
  console.log(`watch: viewers noticed the drop after ${Math.round(performance.now() - down)} ms`);
  for (const page of viewers) assert.match(await page.getByTestId('player-state').innerText(), /reconnecting/i);

  // The same address again, with the test card on (as `--demo` starts).
  host = await serveWithBanner(['--demo', '--port', port]);
  const up = performance.now();
  await Promise.all(viewers.map((page) => waitForState(page, 'live', 20_000)));
  console.log(`watch: viewers played again ${Math.round(performance.now() - up)} ms after the studio came back`);
  for (const page of viewers) assert.equal(await page.getByTestId('watch-error').count(), 0);
});
