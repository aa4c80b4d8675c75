// Headless Chromium plays recordings, driven by tests/recording.rs: `node recording-player.mjs
// DIR NAME...` loads each DIR/NAME in a <video>, plays 2 s, seeks near the end when the
// duration is known, and prints one JSON line per file with what the browser decoded.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [dir, ...names] = process.argv.slice(2);
writeFileSync(join(dir, 'player.html'), '<!doctype html><body></body>');
const profile = mkdtempSync(join(tmpdir(), 'lectern-player-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-crash-reporter', '--disable-breakpad',
    '--autoplay-policy=no-user-gesture-required', '--allow-file-access-from-files',
  ],
});
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  await page.goto('file://' + join(dir, 'player.html'));
  for (const name of names) {
    const result = await page.evaluate(async (name) => {
      const v = document.createElement('video');
      v.muted = true;
      v.src = name;
      document.body.appendChild(v);
      const r = { name };
      try {
        await new Promise((ok, bad) => {
          v.onloadedmetadata = ok;
          v.onerror = () => bad(v.error ? v.error.message : 'error');
          setTimeout(() => bad('no metadata in 8 s'), 8000);
        });
        r.duration = Number.isFinite(v.duration) ? v.duration : 'infinite';
        r.width = v.videoWidth;
        r.height = v.videoHeight;
        await v.play();
        await new Promise((ok) => setTimeout(ok, 2000));
        r.played = v.currentTime;
        r.framesDecoded = v.getVideoPlaybackQuality().totalVideoFrames;
        r.audioBytes = v.webkitAudioDecodedByteCount;
        if (Number.isFinite(v.duration)) {
          v.currentTime = v.duration - 1;
          await new Promise((ok) => { v.onseeked = ok; setTimeout(ok, 3000); });
          r.seekedTo = v.currentTime;
        }
        r.error = v.error ? v.error.message : null;
      } catch (e) {
        r.error = String(e);
      }
      v.remove();
      return r;
    }, name);
    console.log(JSON.stringify(result));
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
