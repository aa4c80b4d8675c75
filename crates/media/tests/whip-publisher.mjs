// A headless Chromium WHIP publisher with a fake camera and microphone, driven by
// tests/browser.rs: prints {"offer": sdp}, reads {"answer": sdp}, prints {"state": ...} once
// connected, and publishes until stdin closes.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import http from 'node:http';

const profile = mkdtempSync(join(tmpdir(), 'lectern-whip-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-crash-reporter', '--disable-breakpad',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
  ],
});
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once('line', resolve));
const closed = new Promise((resolve) => lines.once('close', resolve));
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  // getUserMedia needs a secure context; http://127.0.0.1 is one, about:blank is not.
  const server = http.createServer((_, res) => res.end('<!doctype html><title>whip</title>'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  server.close();
  const offer = await page.evaluate(async () => {
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: true });
    const pc = new RTCPeerConnection();
    window.pc = pc;
    for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') resolve();
      });
      setTimeout(resolve, 3000);
    });
    return pc.localDescription.sdp;
  });
  console.log(JSON.stringify({ offer }));
  const { answer } = JSON.parse(await nextLine());
  const state = await page.evaluate(async (answer) => {
    await window.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    const started = performance.now();
    while (window.pc.connectionState !== 'connected' && performance.now() - started < 10000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return window.pc.connectionState;
  }, answer);
  console.log(JSON.stringify({ state }));
  await Promise.race([closed, new Promise((r) => setTimeout(r, 30000))]);
} finally {
  lines.close();
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(0);
