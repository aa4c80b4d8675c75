// Retransmission end to end: the studio holds back every 25th video packet on its first send
// (`--simulate-video-loss 25`, fault injection: as a lossy network would lose it), and real
// Chromium, playing by WHEP, NACKs each gap; the engine resends from the viewer's history and
// the losses are repaired: Chromium reports NACKs sent and (almost) no packets lost, and the
// studio reports the packets it resent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveWithBanner, launchChromium, WEBRTC_LOOPBACK_ARGS } from './lib.mjs';

const EVERY = 25;
let host;
let browser;

before(async () => {
  host = await serveWithBanner(['--demo', '--port', '0', '--simulate-video-loss', String(EVERY)]);
  browser = await launchChromium(WEBRTC_LOOPBACK_ARGS);
});

after(async () => {
  await browser?.close();
  if (host) {
    const { code, signal } = await host.stop();
    assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  }
});

test('a viewer NACKs the packets it lost and the studio resends them', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(host.base + 'healthz');
  // A plain WHEP client in the page: receive-only audio and video, one POST of the full offer.
  const stats = await page.evaluate(async () => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      setTimeout(resolve, 3000);
    });
    const response = await fetch('/whep', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
    if (response.status !== 201) throw new Error(`WHEP answered ${response.status}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    const video = async () => {
      const report = await pc.getStats();
      return [...report.values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'video') ?? {};
    };
    const started = Date.now();
    while (Date.now() - started < 20_000) {
      const v = await video();
      if ((v.packetsReceived ?? 0) > 40 * 25 && (v.framesDecoded ?? 0) > 60) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // Let the last NACKs of the window be answered.
    await new Promise((r) => setTimeout(r, 1000));
    const v = await video();
    return { packetsReceived: v.packetsReceived, packetsLost: v.packetsLost, nackCount: v.nackCount, framesDecoded: v.framesDecoded };
  });
  const status = await (
    await fetch(host.base + 'api/v1/broadcast_status', {
      method: 'POST',
      headers: { authorization: `Bearer ${host.key}`, 'content-type': 'application/json' },
      body: '{}',
    })
  ).json();
  const resent = status.viewerStats.reduce((sum, v) => sum + v.resent, 0);
  const heldBack = Math.floor(stats.packetsReceived / EVERY);
  console.log(`retransmission: ${JSON.stringify({ ...stats, heldBack, resent })}`);
  assert.ok(stats.framesDecoded > 60, `frames decoded: ${stats.framesDecoded}`);
  assert.ok(stats.nackCount >= heldBack / 2, `Chromium NACKed the gaps: ${stats.nackCount} NACKs for about ${heldBack} held back`);
  assert.ok(resent >= heldBack / 2, `the studio resent: ${resent} for about ${heldBack} held back`);
  // Repaired: far fewer lost than held back (a resend can itself arrive too late now and then).
  assert.ok(stats.packetsLost <= heldBack / 5, `lost after repair: ${stats.packetsLost} of about ${heldBack} held back`);
});
