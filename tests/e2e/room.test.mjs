// Headless Chromium against `lectern serve --demo --port 0`: a live class with its chat, from
// the studio page (the instructor, through the owner key) and two students at /watch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, serve, launchChromium, watchErrors } from './lib.mjs';

let host;
let browser;
const contexts = [];
const errors = {};
// Pages of the first test, reused by the next ones (the class stays live until the last test).
let studio;
let ann;
let bob;

before(async () => {
  host = await serve(['--demo', '--port', '0']);
  browser = await launchChromium();
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (host) {
    const { code, signal } = await host.stop();
    assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  }
});

async function newPage(label, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  contexts.push(context);
  const page = await context.newPage();
  errors[label] = watchErrors(page);
  return page;
}

/** Waits until the page's chat list holds exactly `texts` (in order). */
async function waitForMessages(page, texts) {
  await page.waitForFunction(
    (expected) => {
      const shown = [...document.querySelectorAll('[data-testid="chat-message"] .text')].map((el) => el.textContent);
      return JSON.stringify(shown) === JSON.stringify(expected);
    },
    texts,
    { timeout: 10_000 },
  );
}

/** The texts of the page's chat messages. */
function shownTexts(page) {
  return page.$$eval('[data-testid="chat-message"] .text', (els) => els.map((el) => el.textContent));
}

/** Waits until a message with `text` is shown on the page. */
async function waitForText(page, text) {
  await page.waitForFunction(
    (expected) => [...document.querySelectorAll('[data-testid="chat-message"] .text')].some((el) => el.textContent === expected),
    text,
    { timeout: 10_000 },
  );
}

async function joinWatch(page, name) {
  await page.goto(host.base + 'watch');
  await page.getByTestId('chat-name-input').fill(name);
  await page.getByTestId('chat-join').click();
  await page.getByTestId('chat-input').waitFor();
  assert.match(await page.getByTestId('chat-you').innerText(), new RegExp(name));
}

test('a class started in the studio opens a chat that students and staff share', async () => {
  // The instructor starts a class from the Broadcast screen.
  studio = await newPage('studio');
  await studio.goto(host.studioUrl);
  await studio.getByTestId('nav-broadcast').click();
  await studio.getByTestId('class-title-input').fill('Week 3 · Barre chords');
  await studio.getByTestId('start-class').click();
  await studio.getByTestId('end-class').waitFor();
  assert.equal(await studio.getByTestId('class-title').innerText(), 'Week 3 · Barre chords');
  assert.match(await studio.getByTestId('class-elapsed').innerText(), /^\d+:\d\d$/);
  // The class is recorded (the test card plays): the Broadcast screen shows it growing.
  const recording = studio.locator('[data-testid="recording-status"][data-state="recording"]');
  await recording.waitFor({ timeout: 15_000 });
  await studio.waitForFunction(() => /Recording · \d+:\d\d · [\d.]+ (kB|MB)/.test(document.querySelector('[data-testid="recording-status"]')?.textContent ?? ''), null, {
    timeout: 15_000,
  });
  await studio.screenshot({ path: join(ARTIFACTS, 'room-broadcast.png') });

  // The staff chat joins the room as the instructor.
  await studio.getByTestId('nav-chat').click();
  await studio.getByTestId('chat-list').waitFor();

  // Two students in separate browser contexts (separate browser keys).
  ann = await newPage('ann');
  bob = await newPage('bob');
  await joinWatch(ann, 'Ann');
  await joinWatch(bob, 'Bob');

  await ann.getByTestId('chat-input').fill('Hello from Ann <b>not bold</b>');
  await ann.getByTestId('chat-send').click();
  const text = 'Hello from Ann <b>not bold</b>';
  await waitForMessages(ann, [text]);
  await waitForMessages(bob, [text]);
  await waitForMessages(studio, [text]);
  // Rendered as text, never as HTML.
  assert.equal(await bob.locator('[data-testid="chat-message"] b').count(), 0);
  assert.match(await bob.getByTestId('chat-message').first().innerText(), /Ann/);
  await bob.screenshot({ path: join(ARTIFACTS, 'room-watch.png') });
  await studio.screenshot({ path: join(ARTIFACTS, 'room-chat.png') });

  // The instructor deletes it: it disappears for everyone.
  await studio.getByTestId('chat-message').first().hover();
  await studio.getByTestId('chat-delete').first().click();
  await waitForMessages(studio, []);
  await waitForMessages(ann, []);
  await waitForMessages(bob, []);

  for (const [label, list] of Object.entries(errors)) assert.deepEqual(list, [], `console errors on ${label}`);
});

test('a refusal from the room shows next to the composer', async () => {
  const carl = await newPage('carl');
  await joinWatch(carl, 'Carl');
  // The room's rate limit is a burst of 5, refilled at one a second: messages sent faster than
  // that are refused. On a loaded machine a send can take most of a second, so keep sending
  // (up to 40) until the refusal shows rather than counting on the sixth.
  for (let i = 1; i <= 40 && !(await carl.getByTestId('chat-error').isVisible()); i += 1) {
    await carl.getByTestId('chat-input').fill(`message ${i}`);
    await carl.getByTestId('chat-send').click();
  }
  await carl.getByTestId('chat-error').waitFor({ timeout: 10_000 });
  assert.match(await carl.getByTestId('chat-error').innerText(), /fast|try again/i);
  assert.deepEqual(errors.carl, []);
});

test('a message with a link waits for review until the instructor approves it', async () => {
  const text = 'Tabs are at www.example.com';
  await ann.getByTestId('chat-input').fill(text);
  await ann.getByTestId('chat-send').click();
  // Ann sees it as waiting; Bob does not see it; staff see it in the queue.
  await ann.getByTestId('chat-own-held').waitFor();
  await studio.getByTestId('held-message').waitFor();
  assert.match(await studio.getByTestId('held-message').innerText(), /www\.example\.com/);
  assert.ok(!(await shownTexts(bob)).includes(text));
  await studio.getByTestId('held-approve').click();
  await waitForText(bob, text);
  await waitForText(ann, text);
  await studio.getByTestId('held-message').waitFor({ state: 'detached' });
  await waitForText(studio, text);
  for (const [label, list] of Object.entries(errors)) assert.deepEqual(list, [], `console errors on ${label}`);
});

test('the instructor pins a message and turns on slow mode', async () => {
  const held = studio.getByTestId('chat-message').last();
  await held.hover();
  await held.getByTestId('chat-pin').click();
  await bob.getByTestId('chat-pinned').waitFor();
  assert.match(await bob.getByTestId('chat-pinned').innerText(), /www\.example\.com/);

  await studio.getByTestId('chat-slow-mode').selectOption('30');
  await bob.getByTestId('chat-slow-mode').waitFor();
  await bob.getByTestId('chat-input').fill('first');
  await bob.getByTestId('chat-send').click();
  await waitForText(bob, 'first');
  await bob.getByTestId('chat-input').fill('second, too soon');
  await bob.getByTestId('chat-send').click();
  await bob.getByTestId('chat-error').waitFor();
  assert.match(await bob.getByTestId('chat-error').innerText(), /slow/i);
  await studio.getByTestId('chat-slow-mode').selectOption('0');
  for (const [label, list] of Object.entries(errors)) assert.deepEqual(list, [], `console errors on ${label}`);
});

test('the instructor times a student out', async () => {
  const message = studio.getByTestId('chat-message').filter({ hasText: 'first' }).last();
  await message.hover();
  await message.getByTestId('chat-timeout').click();
  await bob.waitForFunction(() => document.querySelector('[data-testid="chat-input"]')?.disabled === true);
  assert.equal(await ann.getByTestId('chat-input').isDisabled(), false);
  for (const [label, list] of Object.entries(errors)) assert.deepEqual(list, [], `console errors on ${label}`);
});

test('a student cannot take a name confusable with staff', async () => {
  const page = await newPage('mallory', { viewport: { width: 390, height: 844 }, isMobile: true });
  await page.goto(host.base + 'watch');
  await page.getByTestId('chat-name-input').fill('lnstructor');
  await page.getByTestId('chat-join').click();
  await page.getByTestId('chat-error').waitFor();
  assert.ok((await page.getByTestId('chat-error').innerText()).length > 0);
  assert.equal(await page.getByTestId('chat-input').count(), 0);
  // Another name works.
  await page.getByTestId('chat-name-input').fill('Mallory');
  await page.getByTestId('chat-join').click();
  await page.getByTestId('chat-input').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'room-watch-phone.png'), fullPage: true });
  assert.deepEqual(errors.mallory, []);
});

test('the school issues each browser its key, and a ban with the address refuses the private window', async () => {
  // A student's page keeps the key the school issued it (no made-up key), across a reload.
  const troll = await newPage('troll');
  await joinWatch(troll, 'Troll');
  const key = await troll.evaluate(() => localStorage.getItem('lectern.browserKey'));
  assert.match(key, /^bk1-[0-9a-f]{32}-[0-9a-f]{32}$/);
  await troll.reload();
  await troll.getByTestId('chat-join').waitFor();
  assert.equal(await troll.evaluate(() => localStorage.getItem('lectern.browserKey')), key);
  await troll.getByTestId('chat-name-input').fill('Troll');
  await troll.getByTestId('chat-join').click();
  await troll.getByTestId('chat-input').fill('spam spam spam');
  await troll.getByTestId('chat-send').click();
  await waitForText(studio, 'spam spam spam');

  // The instructor bans the author, with their network address, from the message.
  const message = studio.getByTestId('chat-message').filter({ hasText: 'spam spam spam' }).last();
  await message.hover();
  await message.getByTestId('chat-ban').click();
  await studio.getByTestId('ban-confirm').waitFor();
  await studio.getByTestId('ban-address').check();
  await studio.screenshot({ path: join(ARTIFACTS, 'room-ban.png') });
  await studio.getByTestId('ban-confirm-button').click();
  await studio.getByTestId('ban-confirm').waitFor({ state: 'detached' });
  await troll.waitForFunction(() => document.querySelector('[data-testid="chat-input"]') === null || document.querySelector('[data-testid="chat-input"]').disabled === true);

  // A private window from the same address gets no new identity, and is told why.
  const privateWindow = await newPage('troll-private');
  await privateWindow.goto(host.base + 'watch');
  await privateWindow.getByTestId('chat-name-input').fill('Nice Person');
  await privateWindow.getByTestId('chat-join').click();
  await privateWindow.getByTestId('chat-error').waitFor();
  assert.match(await privateWindow.getByTestId('chat-error').innerText(), /network address/);
  assert.equal(await privateWindow.getByTestId('chat-input').count(), 0);

  // A classmate behind the same address who joined before writes as before.
  await ann.getByTestId('chat-input').fill('Ann is still here');
  await ann.getByTestId('chat-send').click();
  await waitForText(studio, 'Ann is still here');
  for (const [label, list] of Object.entries(errors)) {
    // The refused join is answered in words on the page; the browser logs the closed socket.
    const real = list.filter((line) => !/WebSocket|4403/.test(line));
    assert.deepEqual(real, [], `console errors on ${label}`);
  }
});

test('ending the class from the studio', async () => {
  const studio = await newPage('studio-end');
  await studio.goto(host.studioUrl);
  await studio.getByTestId('nav-broadcast').click();
  await studio.getByTestId('end-class').click();
  // The first click asks to confirm.
  await studio.getByTestId('end-class').click();
  await studio.getByTestId('start-class').waitFor();
  await studio.getByTestId('nav-chat').click();
  await studio.getByTestId('chat-offline').waitFor();

  // A class the instructor keeps out of the recordings: unticked, it runs unrecorded.
  await studio.getByTestId('nav-broadcast').click();
  await studio.getByTestId('class-title-input').fill('Office hours');
  await studio.getByTestId('class-record').uncheck();
  await studio.getByTestId('start-class').click();
  await studio.getByTestId('end-class').waitFor();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const status = studio.getByTestId('recording-status');
  assert.equal(await status.getAttribute('data-state'), 'off');
  assert.equal((await status.innerText()).trim(), 'Not recorded.');
  await studio.getByTestId('end-class').click();
  await studio.getByTestId('end-class').click();
  await studio.getByTestId('start-class').waitFor();
  // The box is ticked again for the next class: the choice was for one class.
  assert.equal(await studio.getByTestId('class-record').isChecked(), true);
  assert.deepEqual(errors['studio-end'], []);
});
