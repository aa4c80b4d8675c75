// Headless Chromium against `lectern serve --demo` with the test card: a class is taught (a
// student chats, the instructor deletes one message, a poll is opened, closed and revealed, an
// offer is pushed), ended after about ten seconds, and replayed at /replay/{id}: the recording
// plays (frames decoded) and seeks (byte ranges), the poll appears at its moment, the deleted
// message never appears, and a reaction sent during the replay is stored as the replay's, not
// counted in the live class's engagement.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ARTIFACTS, serve, launchChromium, watchErrors } from './lib.mjs';

const KEPT = 'Hello from the front row';
const DELETED = 'this message gets deleted 7731';
const POLL = 'Ready for the replay?';
const OFFER_TITLE = 'Replay special: pandas';

let host;
let browser;
const contexts = [];

before(async () => {
  host = await serve(['--demo', '--port', '0', '--browser-key-burst', '100000']);
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (host) {
    const { code, signal } = await host.stop();
    assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  }
});

async function api(command, args = {}) {
  const response = await fetch(host.base + `api/v1/${command}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${host.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = await response.json();
  assert.equal(response.status, 200, `${command}: ${JSON.stringify(body)}`);
  return body;
}

async function newPage(url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(url);
  return { page, errors };
}

/** In a page of the server's origin: a room socket that resolves each action with its ack or refusal, and keeps the events. */
async function installRoom(page) {
  await page.evaluate(() => {
    window.__join = (hello) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(location.origin.replace('http', 'ws') + '/room');
        const conn = { ws, events: [], waiting: new Map(), next: 0 };
        const timer = setTimeout(() => reject(new Error('no welcome')), 15_000);
        ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', v: 1, ...hello }));
        ws.onclose = (e) => reject(new Error(`closed ${e.code} ${e.reason}`));
        ws.onmessage = (m) => {
          const msg = JSON.parse(m.data);
          if (msg.type === 'welcome') {
            clearTimeout(timer);
            ws.onclose = null;
            resolve(conn);
          }
          if (msg.type === 'event') conn.events.push(msg.record.event);
          const id = msg.type === 'ack' ? msg.client_id : msg.type === 'reply' ? msg.reply.client_id : null;
          if (id && conn.waiting.has(id)) {
            conn.waiting.get(id)(msg);
            conn.waiting.delete(id);
          }
        };
        conn.act = (action) =>
          new Promise((done) => {
            const id = `a-${conn.next++}-${Math.random().toString(16).slice(2, 8)}`;
            conn.waiting.set(id, done);
            setTimeout(() => done({ type: 'timeout' }), 10_000);
            ws.send(JSON.stringify({ v: 1, client_id: id, action }));
          });
      });
    window.__conns = {};
  });
}

async function act(page, who, action) {
  const answer = await page.evaluate(([who, action]) => window.__conns[who].act(action), [who, action]);
  assert.equal(answer.type, 'ack', `${who} ${action.type}: ${JSON.stringify(answer)}`);
  return answer;
}

async function eventOf(page, who, predicate) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    // The events come back to Node: the page's CSP allows no eval.
    const events = await page.evaluate((who) => window.__conns[who].events, who);
    const found = events.find(predicate);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no event matching ${predicate}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a class is replayed with its recording, chat, poll and offer at their moments', async () => {
  const started = await api('start_class', { title: 'Replayed class' });
  assert.equal(started.state, 'live');
  const sessionId = started.sessionId;
  const t0 = Date.now();

  const { page: generator } = await newPage(host.base + 'healthz');
  await installRoom(generator);
  await generator.evaluate(async (key) => {
    window.__conns.staff = await window.__join({ name: 'Ada', key });
    window.__conns.student = await window.__join({ name: 'Sam' });
  }, host.key);

  await act(generator, 'student', { type: 'send_chat', text: KEPT });
  // A live reaction (acknowledged by the per-second aggregate, not one by one): engagement counts it.
  await generator.evaluate(() => window.__conns.student.ws.send(JSON.stringify({ v: 1, client_id: 'live-heart', action: { type: 'react', reaction: 'heart' } })));
  await act(generator, 'student', { type: 'send_chat', text: DELETED });
  const doomed = await eventOf(generator, 'staff', (e) => e.type === 'chat_sent' && e.message.text.includes('gets deleted 7731'));
  await sleep(1_000);
  await act(generator, 'staff', { type: 'delete_message', message: doomed.message.id });

  await sleep(1_500);
  await act(generator, 'staff', {
    type: 'create_poll',
    spec: { question: POLL, options: ['Yes', 'Not yet'], multiple: false, anonymous: false },
  });
  const created = await eventOf(generator, 'staff', (e) => e.type === 'poll_created');
  await act(generator, 'staff', { type: 'open_poll', poll: created.poll.id });
  await act(generator, 'student', { type: 'vote', poll: created.poll.id, choices: [0] });
  await sleep(1_500);
  await act(generator, 'staff', { type: 'close_poll', poll: created.poll.id });
  await act(generator, 'staff', { type: 'reveal_poll', poll: created.poll.id });

  await sleep(1_000);
  await act(generator, 'staff', {
    type: 'push_offer',
    spec: {
      id: 'replay-offer-1',
      course_id: 'py-pandas',
      title: OFFER_TITLE,
      cta: 'Enrol now',
      price_cents: 4900,
      currency: 'USD',
      discount_pct: 20,
      checkout_url: 'https://shop.example.com/courses/pandas',
      variants: [{ name: 'A', weight: 1 }],
    },
  });
  const shown = await eventOf(generator, 'student', (e) => e.type === 'offer_shown');
  assert.match(shown.card.checkout_url, /ref=/, 'live, the card carries the viewer reference');

  await sleep(Math.max(0, 10_000 - (Date.now() - t0)));
  await api('end_class');

  // The studio lists the recording, finalized, with the replay's path.
  const recording = await api('session_recording', { sessionId });
  assert.equal(recording.replayReady, true, JSON.stringify(recording));
  assert.equal(recording.files.length, 1);
  assert.ok(recording.files[0].durationMs >= 8_000, JSON.stringify(recording.files[0]));
  assert.equal(recording.replayReactions, 0);
  const engagementBefore = await api('session_engagement', { sessionId });

  // The replay link carries its key (`#r=`): without it there is no replay.
  const replayKey = /#r=([0-9a-f]{32})$/.exec(recording.replayPath)?.[1];
  assert.ok(replayKey, recording.replayPath);
  assert.equal((await fetch(host.base + `api/v1/replay/${sessionId}`)).status, 404);
  assert.equal((await fetch(host.base + `recordings/${sessionId}.webm`)).status, 404);
  // The timeline: nothing deleted, no viewer's reference in the offer.
  const timeline = await (await fetch(host.base + `api/v1/replay/${sessionId}?r=${replayKey}`)).json();
  const text = JSON.stringify(timeline);
  assert.ok(!text.includes('gets deleted 7731'), 'the deleted message is not in the replay');
  assert.ok(text.includes(KEPT));
  const offerItem = timeline.items.find((i) => i.kind === 'offer');
  assert.ok(offerItem, 'the offer is in the timeline');
  assert.ok(!offerItem.card.checkout_url.includes('ref='), offerItem.card.checkout_url);
  const pollItem = timeline.items.find((i) => i.kind === 'room' && i.record.event.type === 'poll_opened');
  assert.ok(pollItem.offsetMs > 1_000, `poll at ${pollItem.offsetMs} ms`);

  // A student replays it.
  const { page, errors } = await newPage(host.base + recording.replayPath.replace(/^\//, ''));
  await page.getByTestId('replay-title').filter({ hasText: 'Replayed class' }).waitFor();
  const video = page.getByTestId('replay-video');
  await video.waitFor();
  await page.evaluate(() => {
    const v = document.querySelector('[data-testid="replay-video"]');
    v.muted = true;
    return v.play();
  });
  await page.waitForFunction(
    () => {
      const v = document.querySelector('[data-testid="replay-video"]');
      return v.getVideoPlaybackQuality().totalVideoFrames > 10 && v.currentTime > 0.5;
    },
    null,
    { timeout: 15_000 },
  );
  const frames = await page.evaluate(() => document.querySelector('[data-testid="replay-video"]').getVideoPlaybackQuality().totalVideoFrames);
  assert.ok(frames > 10, `${frames} frames decoded`);
  await page.getByTestId('replay-chat').filter({ hasText: KEPT }).waitFor({ timeout: 10_000 });

  // Seek to the poll's moment: the poll is there; before it, it is not.
  const seek = (ms) =>
    page.evaluate(
      (ms) =>
        new Promise((resolve) => {
          const v = document.querySelector('[data-testid="replay-video"]');
          v.pause();
          v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
          v.currentTime = ms / 1000;
        }),
      ms,
    );
  await seek(0);
  assert.equal(await page.getByTestId('replay-poll').count(), 0, 'no poll at the start');
  const landed = await seek(pollItem.offsetMs + 300);
  assert.ok(Math.abs(landed * 1000 - (pollItem.offsetMs + 300)) < 1_000, `seeked to ${landed}`);
  await page.getByTestId('replay-poll-question').filter({ hasText: POLL }).waitFor({ timeout: 5_000 });
  await seek(offerItem.offsetMs + 300);
  await page.getByTestId('replay-offer').filter({ hasText: OFFER_TITLE }).waitFor({ timeout: 5_000 });
  await page.screenshot({ path: join(ARTIFACTS, 'replay.png') });
  for (const at of [0, 1_000, 2_000, 3_000, pollItem.offsetMs, offerItem.offsetMs + 500]) {
    await seek(at);
    const chat = await page.getByTestId('replay-chat').innerText();
    assert.ok(!chat.includes('gets deleted 7731'), `the deleted message shows at ${at} ms`);
  }

  // A reaction during the replay is stored as the replay's; the live class's numbers stay.
  await page.getByTestId('replay-react-clap').click();
  await page.getByTestId('replay-sent').waitFor();
  const after = await api('session_recording', { sessionId });
  assert.equal(after.replayReactions, 1);
  const engagementAfter = await api('session_engagement', { sessionId });
  assert.deepEqual(engagementAfter, engagementBefore, 'the replay changed the live class engagement');
  assert.deepEqual(errors, [], 'console errors on the replay page');

  // What the replay counts apart from the live class: the time this student played (before
  // the first seek paused it), and the offer card they saw and clicked (the click is kept on
  // this page: the shop is not on loopback).
  await page.evaluate(() => {
    const cta = document.querySelector('[data-testid="replay-offer-cta"]');
    cta.addEventListener('click', (e) => e.preventDefault(), { once: true });
    cta.click();
  });
  let counted = null;
  for (let i = 0; i < 50; i++) {
    counted = (await api('session_recording', { sessionId })).replay;
    if (counted.watchedMs > 0 && counted.offers.some((o) => o.clicked === 1)) break;
    await sleep(100);
  }
  assert.equal(counted.viewers, 1, JSON.stringify(counted));
  assert.ok(counted.watchedMs >= 400 && counted.watchedMs <= 15_000, JSON.stringify(counted));
  assert.deepEqual(
    counted.offers.map((o) => [o.title, o.variantName, o.seen, o.clicked]),
    [[OFFER_TITLE, 'A', 1, 1]],
  );
  assert.deepEqual(await api('session_engagement', { sessionId }), engagementBefore, 'the live class engagement is unchanged');

  // A question during the replay reaches the instructor's session page.
  await page.getByTestId('replay-question').fill('What was on the slide at 0:03?');
  await page.getByRole('button', { name: 'Ask' }).click();
  await page.getByTestId('replay-sent').filter({ hasText: 'question' }).waitFor();

  // A range request straight to the recording: 206 with the bytes asked for.
  const part = await fetch(host.base + `recordings/${sessionId}.webm?r=${replayKey}`, { headers: { range: 'bytes=0-99' } });
  assert.equal(part.status, 206);
  assert.equal((await part.arrayBuffer()).byteLength, 100);

  // The studio's session page: the recording with its duration and size, the replay's numbers
  // and question, the replay link; deleting it removes the file.
  const { page: studio } = await newPage(host.studioUrl);
  await studio.getByTestId('nav-insights').click();
  await studio.getByTestId('session-page').waitFor();
  await studio.getByTestId('session-picker').selectOption(String(sessionId));
  const card = studio.getByTestId('recording-card');
  await card.getByTestId('recording-duration').filter({ hasText: /\d/ }).waitFor({ timeout: 15_000 });
  assert.match(await card.getByTestId('recording-size').innerText(), /\d [kM]B/);
  assert.equal(await card.getByTestId('recording-play').getAttribute('href'), host.base + `replay/${sessionId}#r=${replayKey}`);
  await card.getByTestId('recording-replay-questions').filter({ hasText: 'What was on the slide' }).waitFor();
  assert.match(await card.getByTestId('recording-replay-numbers').innerText(), /1 reaction, 1 question/);
  assert.equal((await card.getByTestId('recording-replay-viewers').innerText()).trim(), '1 viewer');
  assert.match(await card.getByTestId('recording-replay-offer').innerText(), new RegExp(`${OFFER_TITLE}\\s+A\\s+1\\s+1`));
  // The class report gives the replay apart from the live numbers.
  const report = await api('class_report', { sessionId });
  const html = readFileSync(report.html, 'utf8');
  assert.match(html, /<h2>Replay<\/h2><p>1 student watched the replay/);
  await card.screenshot({ path: join(ARTIFACTS, 'replay-studio.png') });
  await card.getByTestId('recording-delete').click();
  await card.getByTestId('recording-delete-confirm').click();
  await card.getByTestId('recording-none').waitFor();
  const gone = await fetch(host.base + `recordings/${sessionId}.webm?r=${replayKey}`);
  assert.equal(gone.status, 404);
});
