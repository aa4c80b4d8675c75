// Headless Chromium against `lectern serve --demo --port 0`: the instructor gives a teaching
// assistant a moderator link; the TA moderates the class chat from its own browser until the
// link is revoked. A forged link opens nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, serve, launchChromium, watchErrors, startClassFromStudio, joinWatchAs } from './lib.mjs';

let host;
let browser;
let schoolName;
const contexts = [];
const errors = {};
let studio;
let ta;
let taLink;
let ann;
let bob;

const REFUSED = 'This moderator link has expired or was revoked';

before(async () => {
  host = await serve(['--demo', '--port', '0']);
  browser = await launchChromium();
  schoolName = (await (await fetch(host.base + 'api/v1/public')).json()).schoolName;
  assert.ok(schoolName, 'the demo school has a name');
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (host) {
    const { code, signal } = await host.stop();
    assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  }
});

/** A page in its own browser context (its own storage, keys and cookies: another person). */
async function newPage(label, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  contexts.push(context);
  const page = await context.newPage();
  errors[label] = watchErrors(page);
  return page;
}

/** Console errors, without the browser's own line for an HTTP 401 a refused link is meant to get. */
function unexpected(label) {
  return errors[label].filter((e) => !/status of 401/.test(e));
}

function shownTexts(page) {
  return page.$$eval('[data-testid="chat-message"] .text', (els) => els.map((el) => el.textContent));
}

async function waitForText(page, text, present = true) {
  await page.waitForFunction(
    ([expected, want]) =>
      [...document.querySelectorAll('[data-testid="chat-message"] .text')].some((el) => el.textContent === expected) === want,
    [text, present],
    { timeout: 10_000 },
  );
}

test('the instructor makes a moderator link, shown once with its full address', async () => {
  studio = await newPage('studio');
  await studio.goto(host.studioUrl);
  await startClassFromStudio(studio, 'Week 4 · Strumming');

  await studio.getByTestId('nav-team').click();
  await studio.getByTestId('team-label').fill('Priya, TA');
  await studio.getByTestId('team-hours').selectOption('8');
  await studio.getByTestId('team-create').click();
  await studio.getByTestId('team-created').waitFor();
  assert.match(await studio.getByTestId('team-created').innerText(), /shown only once/i);
  taLink = await studio.getByTestId('team-url').inputValue();
  assert.match(taLink, new RegExp(`^${host.base.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}studio#mod=lm_[0-9a-f]{64}$`));
  const row = studio.getByTestId('team-link').filter({ hasText: 'Priya, TA' });
  assert.equal(await row.getByTestId('team-link-status').innerText(), 'Active');
  await studio.screenshot({ path: join(ARTIFACTS, 'ta-team.png') });

  // Closing the notice forgets the address: it cannot be shown again.
  await studio.getByTestId('team-created-done').click();
  assert.equal(await studio.getByTestId('team-url').count(), 0);
  assert.ok(!(await studio.locator('body').innerText()).includes(taLink.split('#mod=')[1]));
  assert.deepEqual(errors.studio, []);
});

test('a TA opens the link in its own browser and sees only the moderation screens', async () => {
  ta = await newPage('ta');
  await ta.goto(taLink);
  await ta.getByTestId('ta-banner').waitFor();
  assert.equal((await ta.getByTestId('ta-banner').innerText()).trim(), `Moderating ${schoolName} as a TA`);
  // The token leaves the address bar.
  assert.ok(!ta.url().includes('lm_'), ta.url());
  for (const screen of ['chat', 'polls', 'qa']) assert.equal(await ta.getByTestId(`nav-${screen}`).count(), 1, screen);
  for (const screen of ['home', 'broadcast', 'offers', 'insights', 'team', 'settings']) {
    assert.equal(await ta.getByTestId(`nav-${screen}`).count(), 0, screen);
  }
  // It lands on the chat, joined to the live room.
  await ta.getByTestId('chat-list').waitFor();
  await ta.waitForFunction(() => document.querySelector('[data-testid="chat-status"]')?.textContent?.includes('shown'));
  assert.deepEqual(unexpected('ta'), []);
});

test('the TA deletes a message and times a student out', async () => {
  ann = await newPage('ann');
  bob = await newPage('bob', { viewport: { width: 390, height: 844 }, isMobile: true });
  await joinWatchAs(ann, host.base, 'Ann');
  await joinWatchAs(bob, host.base, 'Bob');

  await ann.getByTestId('chat-input').fill('Hi everyone');
  await ann.getByTestId('chat-send').click();
  await bob.getByTestId('chat-input').fill('BUY CHEAP GUITARS');
  await bob.getByTestId('chat-send').click();
  for (const page of [ann, bob, ta]) {
    await waitForText(page, 'Hi everyone');
    await waitForText(page, 'BUY CHEAP GUITARS');
  }

  // The TA deletes Bob's message: both students see it go.
  const spam = ta.getByTestId('chat-message').filter({ hasText: 'BUY CHEAP GUITARS' });
  await spam.hover();
  await spam.getByTestId('chat-delete').click();
  await waitForText(ann, 'BUY CHEAP GUITARS', false);
  await waitForText(bob, 'BUY CHEAP GUITARS', false);
  assert.deepEqual(await shownTexts(ann), ['Hi everyone']);

  // And times Bob out: Bob is told, and cannot write; Ann can.
  await bob.getByTestId('chat-input').fill('why?');
  await bob.getByTestId('chat-send').click();
  await waitForText(ta, 'why?');
  const why = ta.getByTestId('chat-message').filter({ hasText: 'why?' });
  await why.hover();
  await why.getByTestId('chat-timeout').click();
  await bob.getByTestId('chat-timed-out').waitFor();
  assert.match(await bob.getByTestId('chat-timed-out').innerText(), /timed you out/);
  assert.equal(await bob.getByTestId('chat-input').isDisabled(), true);
  assert.equal(await ann.getByTestId('chat-input').isDisabled(), false);
  await bob.screenshot({ path: join(ARTIFACTS, 'ta-timed-out-phone.png'), fullPage: true });
  await ta.screenshot({ path: join(ARTIFACTS, 'ta-console.png') });

  // The TA's own message carries the TA role for everyone.
  await ta.getByTestId('chat-input').fill('Please keep it on topic');
  await ta.getByTestId('chat-send').click();
  await waitForText(ann, 'Please keep it on topic');
  assert.match(await ann.getByTestId('chat-message').filter({ hasText: 'Please keep it on topic' }).innerText(), /TA/);

  for (const label of ['studio', 'ann', 'bob']) assert.deepEqual(errors[label], [], `console errors on ${label}`);
  assert.deepEqual(unexpected('ta'), []);
});

test('the TA runs a poll and posts to the staff back channel', async () => {
  await ta.getByTestId('nav-polls').click();
  await ta.getByTestId('poll-question').fill('Tempo OK?');
  await ta.getByTestId('poll-option-input').nth(0).fill('Yes');
  await ta.getByTestId('poll-option-input').nth(1).fill('Slower please');
  await ta.getByTestId('poll-create').click();
  const poll = ta.getByTestId('staff-poll').filter({ hasText: 'Tempo OK?' });
  await poll.getByTestId('poll-open').click();
  await ann.getByTestId('poll').waitFor();
  assert.match(await ann.getByTestId('poll').innerText(), /Tempo OK\?/);

  await ta.getByTestId('nav-chat').click();
  await ta.getByTestId('back-channel-input').fill('Bob is timed out for 5 minutes');
  await ta.getByTestId('back-channel-send').click();
  await studio.getByTestId('nav-chat').click();
  await studio.getByTestId('back-channel-note').filter({ hasText: 'Bob is timed out' }).waitFor();
  // Staff only: the students never see it.
  assert.ok(!(await ann.locator('body').innerText()).includes('Bob is timed out'));
  assert.deepEqual(unexpected('ta'), []);
  assert.deepEqual(errors.studio, []);
});

test('the TA sees a suggested answer beside a student question and sends it with one click', async () => {
  // A student asks, on the watch page, something the school's FAQ answers (the demo's FAQ).
  await ann.getByTestId('tab-qa').click();
  await ann.getByTestId('qa-input').fill('How can I get my money refunded for this course?');
  await ann.getByTestId('qa-ask').click();
  await ann.getByTestId('qa-own-pending').waitFor();

  await ta.getByTestId('nav-qa').click();
  const item = ta.getByTestId('qa-pending').getByTestId('qa-item').filter({ hasText: 'refunded' });
  const suggestion = item.getByTestId('qa-suggestion');
  await suggestion.waitFor();
  assert.match(await suggestion.getByTestId('qa-suggestion-source').innerText(), /FAQ.*\d+% sure/);
  assert.match(await suggestion.getByTestId('qa-suggestion-text').inputValue(), /14 days/);
  await ta.screenshot({ path: join(ARTIFACTS, 'ta-answer-suggestion.png') });

  // One click: the asker sees the answer under the question, written by staff.
  await suggestion.getByTestId('qa-send-answer').click();
  await ann.getByTestId('qa-answer-text').waitFor();
  assert.match(await ann.getByTestId('qa-answer-text').innerText(), /14 days/);
  assert.match(await ann.getByTestId('qa-question').filter({ hasText: 'refunded' }).innerText(), /answered/);
  // It is answered for staff too, and the suggestion is gone.
  await ta.getByTestId('qa-answered').getByTestId('qa-written-answer').waitFor();
  assert.equal(await ta.getByTestId('qa-suggestion').count(), 0);
  for (const label of ['studio', 'ann']) assert.deepEqual(errors[label], [], `console errors on ${label}`);
  assert.deepEqual(unexpected('ta'), []);
});

test('the TA sees a suggested reply beside a question asked in chat and sends it with one click, or after an edit', async () => {
  await ta.getByTestId('nav-chat').click();
  await ann.getByTestId('tab-chat').click();
  // A remark gets no suggestion; a question the FAQ answers does.
  await ann.getByTestId('chat-input').fill('The strumming pattern is getting easier');
  await ann.getByTestId('chat-send').click();
  const question = 'Is there a replay of this live class I can watch later?';
  await ann.getByTestId('chat-input').fill(question);
  await ann.getByTestId('chat-send').click();
  await waitForText(ta, question);

  const asked = ta.getByTestId('chat-message').filter({ hasText: question });
  const suggestion = asked.getByTestId('chat-suggestion');
  await suggestion.waitFor();
  assert.match(await suggestion.getByTestId('chat-suggestion-source').innerText(), /Suggested reply · the school's FAQ, line \d+ · \d+% sure/);
  assert.match(await suggestion.getByTestId('chat-suggestion-text').innerText(), /recorded/);
  const remark = ta.getByTestId('chat-message').filter({ hasText: 'getting easier' });
  assert.equal(await remark.getByTestId('chat-suggestion').count(), 0, 'a remark is not a question');
  await ta.screenshot({ path: join(ARTIFACTS, 'ta-chat-suggestion.png') });

  // One click: the student sees the TA's reply, marked as answering their message.
  await suggestion.getByTestId('chat-send-suggestion').click();
  const reply = ann.getByTestId('chat-message').filter({ has: ann.getByTestId('chat-reply-to') });
  await reply.waitFor();
  assert.match(await reply.innerText(), /TA/);
  assert.match(await reply.locator('.text').innerText(), /recorded/);
  assert.match(await reply.getByTestId('chat-reply-to').innerText(), /Ann: Is there a replay/);
  // Answered: the suggestion is gone for staff.
  await asked.getByTestId('chat-suggestion').waitFor({ state: 'detached' });

  // Edit first: the TA changes the suggested words before sending.
  const second = 'Can I download the replay videos to watch offline?';
  await ann.getByTestId('chat-input').fill(second);
  await ann.getByTestId('chat-send').click();
  await waitForText(ta, second);
  const other = ta.getByTestId('chat-message').filter({ hasText: second }).getByTestId('chat-suggestion');
  await other.waitFor();
  await other.getByTestId('chat-edit-suggestion').click();
  const edit = other.getByTestId('chat-suggestion-edit');
  assert.match(await edit.inputValue(), /streamed/);
  await edit.fill('No download, sorry: stream it in the app (the slides do download).');
  await other.getByTestId('chat-send-suggestion').click();
  await waitForText(ann, 'No download, sorry: stream it in the app (the slides do download).');
  await ann.screenshot({ path: join(ARTIFACTS, 'student-chat-reply.png') });
  for (const label of ['studio', 'ann']) assert.deepEqual(errors[label], [], `console errors on ${label}`);
  assert.deepEqual(unexpected('ta'), []);
});

test('the instructor turns on automatic answers: a known question is answered by itself, marked as automatic', async () => {
  await studio.getByTestId('nav-settings').click();
  const card = studio.getByTestId('answers-card');
  await card.getByTestId('answers-state').waitFor();
  assert.match(await card.getByTestId('answers-state').innerText(), /Nothing is answered automatically/);
  await card.getByTestId('answers-auto').check();
  await card.getByTestId('answers-threshold').fill('90');
  await card.getByTestId('answers-save').click();
  await studio.waitForFunction(() => /at least 90% sure/.test(document.querySelector('[data-testid="answers-state"]')?.textContent ?? ''));

  await ann.getByTestId('tab-qa').click();
  await ann.getByTestId('qa-input').fill('What payment methods do you accept?');
  await ann.getByTestId('qa-ask').click();
  const answered = ann.getByTestId('qa-question').filter({ hasText: 'What payment methods' });
  await answered.getByTestId('qa-answer-automatic').waitFor();
  assert.match(await answered.getByTestId('qa-answer-automatic').innerText(), /Answered automatically · the school's FAQ, line \d+ · \d+% sure/);
  assert.match(await answered.getByTestId('qa-answer-text').innerText(), /PayPal/);
  // Staff see it answered and marked too.
  await ta.getByTestId('nav-qa').click();
  await ta.getByTestId('qa-answered').getByTestId('qa-item').filter({ hasText: 'What payment methods' }).getByTestId('qa-answer-automatic').waitFor();

  // Off again: the same kind of question waits for staff.
  await card.getByTestId('answers-auto').uncheck();
  await card.getByTestId('answers-save').click();
  await studio.waitForFunction(() => /Nothing is answered automatically/.test(document.querySelector('[data-testid="answers-state"]')?.textContent ?? ''));
  await ann.getByTestId('qa-input').fill('How do I get an invoice for my purchase?');
  await ann.getByTestId('qa-ask').click();
  await ta.getByTestId('qa-pending').getByTestId('qa-item').filter({ hasText: 'invoice' }).getByTestId('qa-suggestion').waitFor();
  assert.equal(await ann.getByTestId('qa-question').filter({ hasText: 'invoice' }).count(), 0, 'still waiting');
  for (const label of ['studio', 'ann']) assert.deepEqual(errors[label], [], `console errors on ${label}`);
  assert.deepEqual(unexpected('ta'), []);
});

test('revoking the link ends the TA session', async () => {
  await studio.getByTestId('nav-team').click();
  const row = studio.getByTestId('team-link').filter({ hasText: 'Priya, TA' });
  await row.getByTestId('team-revoke').click();
  // The first click asks to confirm.
  assert.equal((await row.getByTestId('team-link-status').innerText()).trim(), 'Active');
  await row.getByTestId('team-revoke-confirm').click();
  await studio.waitForFunction(
    () => document.querySelector('[data-testid="team-link"] [data-testid="team-link-status"]')?.textContent?.trim() === 'Revoked',
  );

  await ta.getByTestId('ta-refused').waitFor();
  assert.equal((await ta.getByTestId('ta-refused').innerText()).trim(), REFUSED);
  assert.equal(await ta.getByTestId('chat-list').count(), 0);
  assert.equal(await ta.getByTestId('nav-chat').count(), 0);
  assert.ok(!(await ta.locator('body').innerText()).includes('Hi everyone'));

  // Opening the link again is refused the same way.
  const again = await newPage('ta-again');
  await again.goto(taLink);
  await again.getByTestId('ta-refused').waitFor();
  assert.deepEqual(unexpected('ta'), []);
  assert.deepEqual(unexpected('ta-again'), []);
});

test('a forged moderator link shows the same message and no data', async () => {
  for (const [label, token] of [
    ['forged', `lm_${'0'.repeat(64)}`],
    ['mangled', '<img src=x onerror=alert(1)>'],
  ]) {
    const page = await newPage(label);
    await page.goto(`${host.base}studio#mod=${encodeURIComponent(token)}`);
    await page.getByTestId('ta-refused').waitFor();
    assert.equal((await page.getByTestId('ta-refused').innerText()).trim(), REFUSED);
    const body = await page.locator('body').innerText();
    assert.ok(!body.includes(schoolName), `${label}: the school's name is not shown`);
    assert.ok(!body.includes('Week 4'), `${label}: the class is not shown`);
    assert.equal(await page.getByTestId('chat-list').count(), 0);
    assert.equal(await page.locator('nav').count(), 0);
    assert.deepEqual(unexpected(label), []);
  }
});
