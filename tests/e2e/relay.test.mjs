// Two studios on loopback: A broadcasts its test card and, from its Broadcast screen, relays it by
// WHIP to B, which plays the external server; a Chromium viewer of B decodes A's stream. The
// upload budget on A's screen says how many direct viewers fit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveWithBanner, launchChromium, watchErrors, freePort, WEBRTC_LOOPBACK_ARGS } from './lib.mjs';

let a;
let b;
let browser;

before(async () => {
  // B lets A's viewer pages play from its WHEP (it is A's relay server); other sites it refuses.
  const portA = await freePort();
  b = await serveWithBanner(['--demo', '--port', '0', '--no-test-card', '--allow-whep-origin', `http://127.0.0.1:${portA}`], {
    LECTERN_PUBLISH_KEY: 'relay-e2e-key-000001',
  });
  a = await serveWithBanner(['--demo', '--port', String(portA)]);
  browser = await launchChromium(WEBRTC_LOOPBACK_ARGS);
});

after(async () => {
  await browser?.close();
  for (const host of [a, b]) {
    if (host) {
      const { code, signal } = await host.stop();
      assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
    }
  }
});

test('the instructor relays the class to another server, whose viewers watch it', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
  const studio = await context.newPage();
  const studioErrors = watchErrors(studio);
  await studio.goto(a.studioUrl);
  await studio.getByTestId('nav-broadcast').click();
  await studio.getByTestId('capacity-panel').waitFor();

  // An upload budget of 5 Mbit/s carries two viewers at the assumed 2.5 Mbit/s.
  await studio.getByTestId('uplink-budget').fill('5');
  await studio.getByTestId('uplink-budget').press('Enter');
  await studio.waitForFunction(() => /About 2 at this bitrate/.test(document.querySelector('[data-testid="viewer-capacity"]')?.textContent ?? ''));

  // B is on this computer (loopback): refused until the instructor says the server is theirs.
  await studio.getByTestId('relay-url').fill(b.whipUrl);
  await studio.getByTestId('relay-token').fill('not-the-key-00000');
  await studio.getByTestId('relay-start').click();
  await studio.waitForFunction(() => /private network/.test(document.querySelector('[data-testid="stream-error"]')?.textContent ?? ''));
  await studio.getByTestId('relay-allow-private').check();

  // A wrong token first: the screen says so in words.
  await studio.getByTestId('relay-token').fill('not-the-key-00000');
  await studio.getByTestId('relay-start').click();
  await studio.waitForFunction(() => /refused the token/.test(document.querySelector('[data-testid="relay-state"]')?.textContent ?? ''), null, { timeout: 15_000 });

  // The right token: live, and B's viewers play A's test card.
  await studio.getByTestId('relay-token').fill('relay-e2e-key-000001');
  await studio.getByTestId('relay-start').click();
  await studio.waitForFunction(() => document.querySelector('[data-testid="relay-state"]')?.getAttribute('data-state') === 'live', null, { timeout: 20_000 });
  assert.ok(!(await studio.content()).includes('relay-e2e-key-000001'), 'the token is not shown back');

  const viewer = await (await browser.newContext()).newPage();
  const viewerErrors = watchErrors(viewer);
  await viewer.goto(b.base + 'watch');
  await viewer.waitForFunction(() => document.querySelector('[data-testid="player"]')?.getAttribute('data-state') === 'live', null, { timeout: 20_000 });
  await viewer.getByText('Stats', { exact: true }).click();
  await viewer.waitForFunction(
    () => Number(document.querySelector('[data-testid="stats-frames"]')?.textContent ?? 0) > 10 &&
      Number(document.querySelector('[data-testid="stats-audio-packets"]')?.textContent ?? 0) > 10,
    null,
    { timeout: 15_000 },
  );

  // Stopping the relay: B's viewer is left waiting, not broken.
  await studio.getByTestId('relay-stop').click();
  await studio.getByTestId('relay-state').waitFor({ state: 'detached' });
  await viewer.waitForFunction(() => ['offline', 'reconnecting'].includes(document.querySelector('[data-testid="player"]')?.getAttribute('data-state')), null, { timeout: 20_000 });
  // Only the browser's own line for the private-address refusal (400) asked for above.
  assert.deepEqual(studioErrors.filter((e) => !/status of 400/.test(e)), []);
  assert.equal(studioErrors.filter((e) => /status of 400/.test(e)).length, 1);
  assert.deepEqual(viewerErrors.filter((e) => !/WHEP|whep|503|404/.test(e)), []);
});

async function broadcastStatus(host) {
  const response = await fetch(host.base + 'api/v1/broadcast_status', {
    method: 'POST',
    headers: { authorization: `Bearer ${host.key}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(response.status, 200);
  return response.json();
}

test('with the relay server\'s WHEP URL set, students who open the class page watch from that server', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
  const studio = await context.newPage();
  const studioErrors = watchErrors(studio);
  await studio.goto(a.studioUrl);
  await studio.getByTestId('nav-broadcast').click();
  await studio.getByTestId('relay-url').fill(b.whipUrl);
  await studio.getByTestId('relay-token').fill('relay-e2e-key-000001');
  await studio.getByTestId('relay-playback').fill(b.base + 'whep');
  await studio.getByTestId('relay-allow-private').check();
  await studio.getByTestId('relay-start').click();
  await studio.waitForFunction(() => document.querySelector('[data-testid="relay-state"]')?.getAttribute('data-state') === 'live', null, { timeout: 20_000 });
  await studio.waitForFunction(() => /New viewers play from/.test(document.querySelector('[data-testid="relay-playback-state"]')?.textContent ?? ''));
  const publicInfo = await (await fetch(a.base + 'api/v1/public')).json();
  assert.equal(publicInfo.whepUrl, b.base + 'whep');

  // A student opens A's class page: the video comes from B (a cross-origin WHEP session that
  // A's page is allowed to make by its CSP, and B answers with CORS).
  const before = { a: (await broadcastStatus(a)).viewers, b: (await broadcastStatus(b)).viewers };
  const student = await (await browser.newContext()).newPage();
  const studentErrors = watchErrors(student);
  await student.goto(a.base + 'watch');
  await student.waitForFunction(() => document.querySelector('[data-testid="player"]')?.getAttribute('data-state') === 'live', null, { timeout: 20_000 });
  await student.getByText('Stats', { exact: true }).click();
  await student.waitForFunction(
    () => Number(document.querySelector('[data-testid="stats-frames"]')?.textContent ?? 0) > 10 &&
      Number(document.querySelector('[data-testid="stats-audio-packets"]')?.textContent ?? 0) > 10,
    null,
    { timeout: 15_000 },
  );
  const after = { a: (await broadcastStatus(a)).viewers, b: (await broadcastStatus(b)).viewers };
  assert.equal(after.b, before.b + 1, `B serves the student: ${JSON.stringify({ before, after })}`);
  assert.equal(after.a, before.a, `A does not: ${JSON.stringify({ before, after })}`);

  // Without the relay, the page plays from A again.
  await studio.getByTestId('relay-stop').click();
  await studio.getByTestId('relay-state').waitFor({ state: 'detached' });
  assert.equal((await (await fetch(a.base + 'api/v1/public')).json()).whepUrl, null);
  await student.reload();
  await student.waitForFunction(() => document.querySelector('[data-testid="player"]')?.getAttribute('data-state') === 'live', null, { timeout: 20_000 });
  assert.equal((await broadcastStatus(a)).viewers, before.a + 1);
  assert.deepEqual(studioErrors, []);
  assert.deepEqual(studentErrors.filter((e) => !/WHEP|whep|503|404/.test(e)), []);
});
