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

test('in the window, the school sets its time zone and makes its learners\' personal join links', async () => {
  await win.click('[data-testid="nav-data"]');
  await win.find('[data-testid="learner-links-card"]');
  // The time zone: saved through the window's IPC, shown back, refused in words when unknown.
  await win.fill('[data-testid="time-zone-input"]', 'Europe/Paris');
  await win.click('[data-testid="time-zone-save"]');
  await win.waitForText('[data-testid="time-zone-state"]', (t) => t.includes('Europe/Paris'));
  assert.equal((await win.invoke('overview')).school.timeZone, 'Europe/Paris');
  await win.fill('[data-testid="time-zone-input"]', 'Mars/Olympus');
  await win.click('[data-testid="time-zone-save"]');
  await win.waitForText('[data-testid="links-error"]', (t) => /not a time zone/.test(t));
  // The links: made by the window (the CSV the button downloads), one per learner, signed.
  await win.fill('[data-testid="links-base-url"]', 'https://class.example.org');
  await win.click('[data-testid="links-export"]');
  await win.waitForText('[data-testid="links-state"]', (t) => /^\d+ personal links made\./.test(t));
  const links = await win.invoke('learner_links', { baseUrl: 'https://class.example.org' });
  assert.equal(links.count, (await win.invoke('overview')).counts.learners);
  assert.match(links.csv.split('\n')[1], /,https:\/\/class\.example\.org\/watch#learner=[^&]+&sig=[0-9a-f]{32}$/);
});
