// The studio's STUN/TURN servers (`lectern serve --ice-server URL`) reach its own pages: the
// viewer page builds its peer connection with them (as OBS and other WHIP/WHEP clients take them
// from the `Link` headers), and still plays on loopback when the STUN server does not answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveWithBanner, launchChromium, watchErrors, WEBRTC_LOOPBACK_ARGS } from './lib.mjs';

const STUN = 'stun:127.0.0.1:3478';
let host;
let browser;

before(async () => {
  host = await serveWithBanner(['--demo', '--port', '0', '--ice-server', STUN]);
  browser = await launchChromium(WEBRTC_LOOPBACK_ARGS);
});

after(async () => {
  await browser?.close();
  if (host) {
    const { code, signal } = await host.stop();
    assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  }
});

test('the viewer page gives its peer connection the studio\'s STUN server and plays', async () => {
  const context = await browser.newContext();
  // Record every configuration the page's peer connections are built with.
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.__peerConfigs = [];
    window.RTCPeerConnection = function (config) {
      window.__peerConfigs.push(JSON.parse(JSON.stringify(config ?? {})));
      return new Native(config);
    };
    window.RTCPeerConnection.prototype = Native.prototype;
  });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(host.base + 'watch');
  await page.waitForFunction(() => document.querySelector('[data-testid="player"]')?.getAttribute('data-state') === 'live', null, { timeout: 30_000 });
  const configs = await page.evaluate(() => window.__peerConfigs);
  assert.ok(configs.length >= 1, 'the page made a peer connection');
  assert.deepEqual(configs.at(-1).iceServers, [{ urls: STUN }], JSON.stringify(configs));
  assert.deepEqual(errors.filter((e) => !/WHEP|whep|503|404/.test(e)), []);
});
