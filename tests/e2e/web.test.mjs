// Headless Chromium against `lectern serve --demo --port 0`: the pages a student and a TA open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { request } from 'node:http';
import { ARTIFACTS, serve, launchChromium, watchErrors } from './lib.mjs';

const DEMO_NAME = 'Northwind Academy (demo)';
let host;
let browser;

before(async () => {
  host = await serve(['--demo', '--port', '0']);
  // A name that resolves to our loopback server, as a DNS-rebinding attacker would arrange.
  browser = await launchChromium(['--host-resolver-rules=MAP rebind.example 127.0.0.1']);
});

after(async () => {
  await browser?.close();
  if (host) {
    const { code, signal } = await host.stop();
    assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  }
});

test('the viewer page loads with no console errors and names the school', async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(host.base + 'watch');
  const name = page.getByTestId('watch-school-name');
  await name.waitFor();
  await page.waitForFunction(
    (expected) => document.querySelector('[data-testid="watch-school-name"]')?.textContent?.includes(expected),
    DEMO_NAME,
  );
  assert.match(await page.getByTestId('privacy-note').innerText(), /pseudonymous/i);
  // `--demo` broadcasts the test card: the player is connecting to it or already playing.
  const state = await page.getByTestId('player').getAttribute('data-state');
  assert.ok(['connecting', 'live'].includes(state), `player state ${state}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the studio page shows the school through the web platform seam', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(host.studioUrl);
  await page.waitForFunction(
    (expected) => document.querySelector('[data-testid="school-name"]')?.textContent?.trim() === expected,
    DEMO_NAME,
  );
  assert.equal(await page.getByTestId('demo-badge').isVisible(), true);
  assert.match(await page.getByTestId('live-status').innerText(), /offline/i);
  const courses = Number((await page.getByTestId('count-courses').innerText()).replace(/\D/g, ''));
  assert.ok(courses >= 30, `courses shown: ${courses}`);
  // The key does not stay in the address bar.
  assert.equal(new URL(page.url()).hash, '');
  await page.screenshot({ path: join(ARTIFACTS, 'studio-web.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the studio page without the key shows an error and no data', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(host.base + 'studio');
  const banner = page.locator('[data-code="unauthorized"]');
  await banner.waitFor();
  assert.equal(await page.getByTestId('school-name').count(), 0);
  await context.close();
});

test('a page reached through a foreign host name is refused (DNS rebinding)', async () => {
  const page = await browser.newPage();
  const port = new URL(host.base).port;
  const response = await page.goto(`http://rebind.example:${port}/studio`);
  assert.equal(response.status(), 403);
  await page.close();
});

test('a cross-site page cannot call the studio API, even with the key', async () => {
  const page = await browser.newPage();
  // An attacker's page, served by the browser itself (no network): its fetch carries its Origin.
  await page.route('http://attacker.test/**', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>x</title>' }),
  );
  await page.goto('http://attacker.test/');
  const status = await page.evaluate(
    async ({ base, key }) => {
      try {
        const r = await fetch(base + 'api/v1/overview', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: '{}',
        });
        return r.status;
      } catch {
        return 'blocked';
      }
    },
    { base: host.base, key: host.key },
  );
  // Either the preflight is refused (the browser blocks it) or the request itself gets 403.
  assert.ok(status === 403 || status === 'blocked', `got ${status}`);
  await page.close();
});

test('a request with a foreign Host or Origin header gets 403', async () => {
  const { port } = new URL(host.base);
  const send = (headers) =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/v1/overview', method: 'POST', headers }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end('{}');
    });
  const auth = { 'content-type': 'application/json', authorization: `Bearer ${host.key}` };
  assert.equal(await send({ ...auth, host: 'evil.example' }), 403);
  assert.equal(await send({ ...auth, host: `127.0.0.1:${port}`, origin: 'http://evil.example' }), 403);
  assert.equal(await send({ ...auth, host: `127.0.0.1:${port}` }), 200);
});
