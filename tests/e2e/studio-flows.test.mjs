// What an instructor does in the studio page, in Chromium: the first run, a backup, the network switch.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { serve, launchChromium, watchErrors, tempDir, ARTIFACTS } from './lib.mjs';

const DEMO_NAME = 'Northwind Academy (demo)';
const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function studioPage(host) {
  const browser = await launchChromium();
  cleanups.push(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = watchErrors(page);
  await page.goto(host.studioUrl);
  return { page, errors };
}

test('first run: the welcome screen offers the demo school, and opening it shows the school', async () => {
  const dataDir = tempDir('lectern-first-run-');
  const host = await serve(['--data-dir', dataDir, '--port', '0']);
  cleanups.push(() => host.stop());
  const { page, errors } = await studioPage(host);
  await page.getByTestId('welcome').waitFor();
  await page.getByTestId('open-demo').click();
  await page.waitForFunction(
    (expected) => document.querySelector('[data-testid="school-name"]')?.textContent?.trim() === expected,
    DEMO_NAME,
  );
  assert.ok(existsSync(join(dataDir, 'demo.sqlite')), 'the demo school is written in the data folder');
  assert.deepEqual(errors, []);
});

test('first run: a new school is created with the name typed, after the name is checked', async () => {
  const dataDir = tempDir('lectern-new-school-');
  const host = await serve(['--data-dir', dataDir, '--port', '0']);
  cleanups.push(() => host.stop());
  const { page, errors } = await studioPage(host);
  await page.getByTestId('welcome').waitFor();
  await page.getByTestId('create-school').click();
  assert.ok(!existsSync(join(dataDir, 'school.sqlite')), 'an empty name creates nothing');
  await page.getByTestId('school-name-input').fill('Ada’s Piano School');
  await page.getByTestId('create-school').click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="school-name"]')?.textContent?.trim() === 'Ada’s Piano School',
  );
  assert.equal(await page.getByTestId('demo-badge').count(), 0);
  assert.ok(existsSync(join(dataDir, 'school.sqlite')));
  assert.deepEqual(errors, []);
});

test('settings: a backup shows its progress and where it was saved', async () => {
  const dataDir = tempDir('lectern-backup-');
  const host = await serve(['--demo', '--db', join(dataDir, 'demo.sqlite'), '--data-dir', dataDir, '--port', '0']);
  cleanups.push(() => host.stop());
  const { page, errors } = await studioPage(host);
  await page.getByTestId('school-name').waitFor();
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('backup-button').click();
  const path = (await page.getByTestId('backup-path').innerText()).trim();
  assert.ok(path.startsWith(join(dataDir, 'backups')), path);
  assert.ok(statSync(path).size > 100_000, 'the backup holds the school');
  await page.screenshot({ path: join(ARTIFACTS, 'studio-settings.png') });
  assert.deepEqual(errors, []);
});

test('settings: opening the studio to the network rebinds it, and closing it goes back to loopback', async () => {
  const host = await serve(['--demo', '--port', '0']);
  cleanups.push(() => host.stop());
  const { page, errors } = await studioPage(host);
  await page.getByTestId('school-name').waitFor();
  await page.getByTestId('nav-settings').click();
  const port = new URL(host.base).port;
  assert.equal((await page.getByTestId('network-bind').innerText()).trim(), `127.0.0.1:${port}`);
  await page.getByTestId('network-toggle').click();
  await page.waitForFunction(
    (bind) => document.querySelector('[data-testid="network-bind"]')?.textContent?.trim() === bind,
    `0.0.0.0:${port}`,
  );
  await page.getByTestId('network-toggle').click();
  await page.waitForFunction(
    (bind) => document.querySelector('[data-testid="network-bind"]')?.textContent?.trim() === bind,
    `127.0.0.1:${port}`,
  );
  assert.deepEqual(errors, []);
});
