// Headless Chromium against `lectern serve --demo --port 0`: the instructor runs a poll and a
// quiz while two students vote; a student's question is approved, upvoted and put on screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, serve, launchChromium, watchErrors, startClassFromStudio, joinWatchAs } from './lib.mjs';

let host;
let browser;
const contexts = [];
const errors = {};
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
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  contexts.push(context);
  const page = await context.newPage();
  errors[label] = watchErrors(page);
  return page;
}

/** The rows of a results chart as text: "G: 1 vote · 50%". */
function resultRows(scope) {
  return scope.locator('[data-testid="poll-result"]').evaluateAll((rows) =>
    rows.map((row) => {
      const option = row.querySelector('.option')?.firstChild?.textContent?.trim();
      const count = row.querySelector('[data-testid="poll-result-count"]')?.textContent?.trim();
      return `${option}: ${count}`;
    }),
  );
}

async function waitForRows(scope, expected) {
  const deadline = 10_000;
  const started = Date.now();
  let rows;
  // Read the chart until it says what is expected (a timeout like any wait, never an assertion on time).
  while (Date.now() - started < deadline) {
    rows = await resultRows(scope);
    if (JSON.stringify(rows) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(rows, expected);
}

/** Writes a poll in the studio's editor and creates it. */
async function writePoll(page, question, options, { quizCorrect = null } = {}) {
  await page.getByTestId('poll-question').fill(question);
  while ((await page.getByTestId('poll-option-input').count()) < options.length) await page.getByTestId('poll-add-option').click();
  for (const [i, option] of options.entries()) await page.getByTestId('poll-option-input').nth(i).fill(option);
  if (quizCorrect !== null) {
    await page.getByTestId('poll-quiz').check();
    await page.getByTestId('poll-correct').nth(quizCorrect).check();
  }
  await page.getByTestId('poll-create').click();
}

test('the instructor opens a poll, students vote, the studio charts the votes live', async () => {
  studio = await newPage('studio');
  await studio.goto(host.studioUrl);
  await startClassFromStudio(studio, 'Week 5 · Chords');

  ann = await newPage('ann');
  bob = await newPage('bob', { viewport: { width: 390, height: 844 }, isMobile: true });
  await joinWatchAs(ann, host.base, 'Ann');
  await joinWatchAs(bob, host.base, 'Bob');

  await studio.getByTestId('nav-polls').click();
  // The editor says what to fix before anything is sent.
  await studio.getByTestId('poll-create').click();
  assert.equal(await studio.getByTestId('poll-problem').innerText(), 'Write the question.');

  await writePoll(studio, 'Which chord is easiest?', ['G', 'C', 'D']);
  const poll = studio.getByTestId('staff-poll').filter({ hasText: 'Which chord is easiest?' });
  await poll.and(studio.locator('[data-state="draft"]')).waitFor();
  // A draft is not on the students' pages.
  assert.equal(await ann.getByTestId('poll').count(), 0);
  await poll.getByTestId('poll-open').click();
  await poll.and(studio.locator('[data-state="open"]')).waitFor();

  await ann.getByTestId('poll').waitFor();
  await bob.getByTestId('poll').waitFor();
  assert.match(await ann.getByTestId('poll').innerText(), /Which chord is easiest\?/);
  await ann.getByTestId('poll-option').filter({ hasText: 'G' }).click();
  await bob.getByTestId('poll-option').filter({ hasText: 'C' }).click();
  await ann.getByTestId('poll-voted').waitFor();
  await bob.getByTestId('poll-voted').waitFor();
  // Voting once: the options are gone once the vote counts.
  assert.equal(await ann.getByTestId('poll-option').count(), 0);

  await waitForRows(poll, ['G: 1 vote · 50%', 'C: 1 vote · 50%', 'D: 0 votes · 0%']);
  assert.equal(await poll.getByTestId('poll-total').innerText(), '2 votes in all');
  // Students do not see results before the reveal.
  assert.equal(await ann.getByTestId('poll-results').count(), 0);
  await studio.screenshot({ path: join(ARTIFACTS, 'polls-studio.png') });
  for (const [label, list] of Object.entries(errors)) assert.deepEqual(list, [], `console errors on ${label}`);
});

test('revealing shows the results to the students', async () => {
  const poll = studio.getByTestId('staff-poll').filter({ hasText: 'Which chord is easiest?' });
  await poll.getByTestId('poll-reveal').click();
  await poll.and(studio.locator('[data-state="revealed"]')).waitFor();
  for (const page of [ann, bob]) {
    await page.locator('[data-testid="poll"][data-state="revealed"]').waitFor();
    await waitForRows(page.getByTestId('poll'), ['G: 1 vote · 50%', 'C: 1 vote · 50%', 'D: 0 votes · 0%']);
  }
  assert.match(await ann.getByTestId('poll-result').first().innerText(), /Your vote/);
  await bob.screenshot({ path: join(ARTIFACTS, 'polls-watch-phone.png'), fullPage: true });
  for (const [label, list] of Object.entries(errors)) assert.deepEqual(list, [], `console errors on ${label}`);
});

test('a quiz tells each student whether they were right', async () => {
  await writePoll(studio, 'How many strings on a guitar?', ['4', '6'], { quizCorrect: 1 });
  const quiz = studio.getByTestId('staff-poll').filter({ hasText: 'How many strings on a guitar?' });
  await quiz.getByTestId('poll-open').click();
  await ann.locator('[data-testid="poll"][data-state="open"]').waitFor();
  await bob.locator('[data-testid="poll"][data-state="open"]').waitFor();
  await ann.getByTestId('poll-option').filter({ hasText: '6' }).click();
  await bob.getByTestId('poll-option').filter({ hasText: '4' }).click();
  await waitForRows(quiz, ['4: 1 vote · 50%', '6: 1 vote · 50%']);
  await quiz.getByTestId('poll-reveal').click();
  await ann.getByTestId('quiz-feedback').waitFor();
  await bob.getByTestId('quiz-feedback').waitFor();
  assert.equal(await ann.getByTestId('quiz-feedback').innerText(), 'Correct!');
  assert.match(await bob.getByTestId('quiz-feedback').innerText(), /Not quite/);
  assert.match(await bob.getByTestId('poll-result').nth(1).innerText(), /Correct/);
  for (const [label, list] of Object.entries(errors)) assert.deepEqual(list, [], `console errors on ${label}`);
});

test('a question is approved, upvoted and put on every screen', async () => {
  const text = 'Can you show the F chord <i>again</i>?';
  await ann.getByTestId('tab-qa').click();
  await ann.getByTestId('qa-input').fill(text);
  await ann.getByTestId('qa-ask').click();
  await ann.getByTestId('qa-own-pending').waitFor();
  // The form empties once the room has it.
  await ann.waitForFunction(() => document.querySelector('[data-testid="qa-input"]')?.value === '');

  // Bob does not see it before staff approve it.
  await bob.getByTestId('tab-qa').click();
  assert.equal(await bob.getByTestId('qa-question').count(), 0);

  await studio.getByTestId('nav-qa').click();
  const pending = studio.getByTestId('qa-pending').getByTestId('qa-item').filter({ hasText: 'F chord' });
  await pending.getByTestId('qa-approve').click();
  await studio.getByTestId('qa-board').getByTestId('qa-item').filter({ hasText: 'F chord' }).waitFor();

  const bobsView = bob.getByTestId('qa-question').filter({ hasText: 'F chord' });
  await bobsView.waitFor();
  // Rendered as text, never as HTML.
  assert.equal(await bobsView.locator('i').count(), 0);
  assert.equal(await bobsView.locator('.text').innerText(), text);
  await bobsView.getByTestId('qa-upvote').click();
  await bob.waitForFunction(
    () => document.querySelector('[data-testid="qa-question"] [data-testid="qa-upvote"]')?.getAttribute('aria-pressed') === 'true',
  );
  assert.equal(await bobsView.getByTestId('qa-upvote').isDisabled(), true, 'one upvote per student');
  const onBoard = studio.getByTestId('qa-board').getByTestId('qa-item').filter({ hasText: 'F chord' });
  await studio.waitForFunction(() => document.querySelector('[data-testid="qa-board"] [data-testid="qa-votes"]')?.textContent === '1');
  // Ann cannot upvote her own question.
  const annsView = ann.getByTestId('qa-question').filter({ hasText: 'F chord' });
  await annsView.waitFor();
  assert.equal(await annsView.getByTestId('qa-upvote').isDisabled(), true);
  assert.equal(await annsView.getByTestId('qa-question-votes').innerText(), '1');

  await onBoard.getByTestId('qa-highlight').click();
  for (const page of [ann, bob]) {
    await page.getByTestId('qa-highlighted').waitFor();
    assert.equal(await page.getByTestId('qa-highlighted-text').innerText(), text);
  }
  assert.match(await studio.getByTestId('qa-on-screen').innerText(), /F chord/);
  await ann.screenshot({ path: join(ARTIFACTS, 'qa-watch.png') });
  await studio.screenshot({ path: join(ARTIFACTS, 'qa-studio.png') });

  // Taking it off screen clears it for everyone.
  await onBoard.getByTestId('qa-unhighlight').click();
  await ann.getByTestId('qa-highlighted').waitFor({ state: 'detached' });
  await bob.getByTestId('qa-highlighted').waitFor({ state: 'detached' });
  for (const [label, list] of Object.entries(errors)) assert.deepEqual(list, [], `console errors on ${label}`);
});
