// The real desktop window under Xvfb, driven through tauri-driver and WebKitWebDriver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ARTIFACTS, required, tempDir } from './lib.mjs';
import { DesktopWindow, memoryMiB } from './window.mjs';

const DEMO_NAME = 'Northwind Academy (demo)';
let win;

before(async () => {
  const dir = tempDir('lectern-desktop-');
  const db = join(dir, 'demo.sqlite');
  execFileSync(required('LECTERN_BIN'), ['demo', '--db', db], { stdio: 'ignore' });
  win = await DesktopWindow.open(db, ['--data-dir', join(dir, 'data'), '--port', '0']);
});

after(async () => {
  await win?.close();
});

test('the window opens on the home screen with the school name read from SQLite', async () => {
  const name = await win.waitForText('[data-testid="school-name"]', (t) => t.trim() === DEMO_NAME, { timeoutMs: 60_000 });
  const coldStartMs = Math.round(performance.now() - win.startedAt);
  assert.equal(name.trim(), DEMO_NAME);
  assert.match(await win.text('[data-testid="live-status"]'), /offline/i);
  for (const entry of ['broadcast', 'chat', 'polls', 'offers', 'insights']) {
    const card = await win.text(`[data-testid="entry-${entry}"]`);
    assert.ok(card.length > 0, entry);
    // The home screen says what exists: nothing shipped is "coming soon".
    assert.doesNotMatch(card, /soon/i, entry);
  }
  const [pid] = win.pids();
  assert.ok(pid, 'the app process is found');
  // Let the window settle before measuring what it holds at rest.
  await new Promise((r) => setTimeout(r, 2000));
  console.log(`desktop: cold start to school name ${coldStartMs} ms; idle memory ${memoryMiB(pid).toFixed(0)} MiB (app + WebKit)`);
  await win.screenshot(join(ARTIFACTS, 'studio-desktop.png'));
});

test('a command round-trips through IPC, and an undeclared one is refused', async () => {
  const overview = await win.invoke('overview');
  assert.equal(overview.school.name, DEMO_NAME);
  assert.ok(overview.counts.courses >= 30);
  assert.match(overview.network.bind, /^127\.0\.0\.1:\d+$/, 'the in-process server is on loopback');

  const refused = await win.runAsync(
    `window.__TAURI_INTERNALS__.invoke('plugin:fs|read_dir', { path: '/' })
      .then(() => done({ ok: true }))
      .catch((e) => done({ ok: false, error: String(e) }));`,
  );
  assert.equal(refused.ok, false, 'a command outside the capability must be refused');

  const badArgs = await win.invoke('create_school', { name: '' }).catch((e) => e.apiError);
  assert.equal(badArgs.code, 'invalid_input');
});
