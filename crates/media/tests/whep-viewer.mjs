// A headless Chromium WHEP viewer driven over stdin/stdout by tests/browser.rs:
// prints {"offer": sdp}, reads one line {"answer": sdp}, then prints what the page decoded.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';

const profile = mkdtempSync(join(tmpdir(), 'lectern-whep-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-crash-reporter', '--disable-breakpad',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    // Loopback only: offer 127.0.0.1 host candidates, not mDNS names.
    '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
  ],
});
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once('line', resolve));
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  const offer = await page.evaluate(async () => {
    const pc = new RTCPeerConnection();
    window.pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
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
  const result = await page.evaluate(async (answer) => {
    const started = performance.now();
    await window.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    let firstFrameMs = null;
    let video = {}, audio = {};
    while (performance.now() - started < 10000) {
      const stats = await window.pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') video = s;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') audio = s;
      });
      if (firstFrameMs === null && (video.framesDecoded ?? 0) > 0) {
        firstFrameMs = Math.round(performance.now() - started);
      }
      if ((video.framesDecoded ?? 0) >= 30 && (audio.packetsReceived ?? 0) >= 50) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      framesDecoded: video.framesDecoded ?? 0,
      keyFramesDecoded: video.keyFramesDecoded ?? 0,
      frameWidth: video.frameWidth ?? 0,
      audioPacketsReceived: audio.packetsReceived ?? 0,
      firstFrameMs,
      connectionState: window.pc.connectionState,
    };
  }, answer);
  console.log(JSON.stringify(result));
} finally {
  lines.close();
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
// stdin may still be open; nothing else is left to do.
process.exit(0);
