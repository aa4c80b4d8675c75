// A hostile classroom network while a class runs. From 20 other loopback addresses
// (127.0.0.2 to 127.0.0.21), 3,000 connections: idle ones that never send a byte, half-sent
// requests that stop in the middle of their head, and large unauthenticated API bodies (a 50 MB
// Content-Length, sent as fast as the server takes it). Meanwhile two students in Chromium (on
// 127.0.0.1) keep watching the class's video and chatting, and the instructor's studio keeps
// receiving their messages. Loopback only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { ARTIFACTS, joinWatchAs, launchChromium, serveWithBanner, startClassFromStudio, watchErrors, WEBRTC_LOOPBACK_ARGS } from './lib.mjs';

const ATTACKER_ADDRESSES = 20;
const PER_ADDRESS = 150;

let host;
let browser;
const contexts = [];
const errors = {};

before(async () => {
  host = await serveWithBanner(['--demo', '--port', '0']);
  browser = await launchChromium(WEBRTC_LOOPBACK_ARGS);
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (host) {
    const { code, signal } = await host.stop();
    assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  }
});

async function newPage(label) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  errors[label] = watchErrors(page);
  return page;
}

/** Frames the player has decoded, from its Stats panel. */
function framesDecoded(page) {
  return page.evaluate(() => Number(document.querySelector('[data-testid="stats-frames"]')?.textContent ?? 0));
}

/** Opens one hostile connection of `kind` from `localAddress`; resolves when it is connected. */
function hostile(kind, localAddress, port, tally) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const record = { kind, closedByServer: false, answered: null, socket };
    tally.push(record);
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      record.answered ??= /^HTTP\/1\.1 (\d+)/.exec(chunk.toString('latin1'))?.[1] ?? 'data';
    });
    socket.on('close', () => {
      record.closedByServer = !record.closedByUs;
      resolve();
    });
    socket.on('connect', () => {
      resolve();
      if (kind === 'half-sent') {
        socket.write('POST /api/v1/overview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty');
      } else if (kind === 'large-body') {
        socket.write(
          'POST /api/v1/import_learners HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
            'Content-Length: 52428800\r\n\r\n',
        );
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!socket.destroyed && socket.writable && socket.write(chunk)) {
            if (record.answered) return;
          }
        };
        socket.on('drain', pump);
        pump();
      }
    });
  });
}

test('thousands of idle, half-sent and oversized connections do not stop a class', { timeout: 180_000 }, async () => {
  const studio = await newPage('studio');
  await studio.goto(host.studioUrl);
  await startClassFromStudio(studio, 'Under attack');
  await studio.getByTestId('nav-chat').click();
  await studio.getByTestId('chat-list').waitFor();

  const students = [];
  for (const name of ['Ann', 'Bob']) {
    const page = await newPage(name);
    await joinWatchAs(page, host.base, name);
    await page.waitForFunction(() => document.querySelector('[data-testid="player"]')?.getAttribute('data-state') === 'live', null, { timeout: 20_000 });
    students.push({ name, page });
  }
  const framesBefore = await Promise.all(students.map((s) => framesDecoded(s.page)));

  // The attack: 20 addresses x 150 connections, a third of each kind.
  const port = Number(new URL(host.base).port);
  const tally = [];
  const kinds = ['idle', 'half-sent', 'large-body'];
  const opening = [];
  for (let a = 0; a < ATTACKER_ADDRESSES; a++) {
    const localAddress = `127.0.0.${a + 2}`;
    for (let i = 0; i < PER_ADDRESS; i++) opening.push(hostile(kinds[i % 3], localAddress, port, tally));
  }
  const attackStarted = performance.now();
  await Promise.all(opening);

  // The class goes on: each student writes ten messages, and the studio receives every one.
  const sent = [];
  for (let round = 0; round < 10; round++) {
    for (const { name, page } of students) {
      const text = `${name} still here ${round}`;
      await page.getByTestId('chat-input').fill(text);
      await page.getByTestId('chat-send').click();
      sent.push(text);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await studio.waitForFunction(
    (texts) => {
      const shown = new Set([...document.querySelectorAll('[data-testid="chat-message"] .text')].map((el) => el.textContent));
      return texts.every((t) => shown.has(t));
    },
    sent,
    { timeout: 30_000 },
  );
  // The studio's own server still answers the instructor.
  const health = await fetch(host.base + 'healthz');
  assert.equal(health.status, 200);
  // And the video kept playing for both students.
  const framesAfter = await Promise.all(students.map((s) => framesDecoded(s.page)));
  for (let i = 0; i < students.length; i++) {
    assert.ok(framesAfter[i] > framesBefore[i] + 30, `${students[i].name}: ${framesBefore[i]} -> ${framesAfter[i]} frames`);
  }
  await students[0].page.screenshot({ path: join(ARTIFACTS, 'hostile-network-watch.png') });

  // The server lets go of every idle and half-sent connection within its header-read timeout
  // (10 s), and answers every oversized body without reading it (401: no key).
  const deadline = attackStarted + 60_000;
  while (performance.now() < deadline && tally.some((r) => r.kind !== 'large-body' && !r.closedByServer)) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const waited = Math.round(performance.now() - attackStarted);
  const stalled = tally.filter((r) => r.kind !== 'large-body');
  const open = {};
  for (const r of stalled.filter((r) => !r.closedByServer)) open[`${r.kind} ${r.answered ?? ''}`] = (open[`${r.kind} ${r.answered ?? ''}`] ?? 0) + 1;
  console.log(`after ${waited} ms still open: ${JSON.stringify(open)}`);
  const released = stalled.filter((r) => r.closedByServer).length;
  const large = tally.filter((r) => r.kind === 'large-body');
  const refused = large.filter((r) => r.answered === '401' || r.closedByServer).length;
  for (const record of tally) {
    record.closedByUs = true;
    record.socket.destroy();
  }
  console.log(
    `hostile network: ${tally.length} connections from ${ATTACKER_ADDRESSES} addresses; ` +
      `${released}/${stalled.length} idle or half-sent released by the server; ` +
      `${refused}/${large.length} oversized bodies refused; ${sent.length} messages delivered; ` +
      `frames ${framesBefore.join(',')} -> ${framesAfter.join(',')}`,
  );
  assert.equal(released, stalled.length, 'every idle and half-sent connection is closed by the server');
  assert.equal(refused, large.length, 'every oversized unauthenticated body is refused');
  for (const [label, list] of Object.entries(errors)) assert.deepEqual(list, [], `console errors on ${label}`);
});
