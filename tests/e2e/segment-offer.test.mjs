// Headless Chromium against `lectern serve --demo --port 0 --no-test-card`: the instructor
// pushes an offer to one audience segment from the Offers screen. A student who came by the
// personal join link of a learner in that segment sees the card; a student who came by the link
// of a learner in another segment, and one who is nobody's, do not. The school's links of one
// segment come from the same export it mails (`learner_links {segment}`). Loopback only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, serve, launchChromium, watchErrors, startClassFromStudio } from './lib.mjs';

let host;
let browser;
const contexts = [];
const errors = {};

before(async () => {
  host = await serve(['--demo', '--port', '0', '--no-test-card']);
  browser = await launchChromium(['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1']);
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
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  await context.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => route.abort(),
  );
  const page = await context.newPage();
  errors[label] = watchErrors(page);
  return page;
}

async function api(command, args) {
  const response = await fetch(host.base + `api/v1/${command}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${host.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = await response.json();
  assert.equal(response.status, 200, `${command}: ${JSON.stringify(body)}`);
  return body;
}

/** The personal links of one segment's learners: learner id -> link. */
async function linksOf(segment) {
  const { csv } = await api('learner_links', { segment });
  return Object.fromEntries(
    csv
      .trim()
      .split('\n')
      .slice(1)
      .map((row) => [row.split(',')[0], row.split(',').at(-1)]),
  );
}

async function joinAt(page, url, name) {
  await page.goto(url);
  await page.getByTestId('chat-name-input').fill(name);
  await page.getByTestId('chat-join').click();
  await page.getByTestId('chat-input').waitFor();
}

test('an offer pushed to one segment reaches its viewers only', { timeout: 180_000 }, async () => {
  const studio = await newPage('studio');
  await studio.goto(host.studioUrl);
  await startClassFromStudio(studio, 'For one segment');

  // One learner of each of the school's first four segments comes by the personal link the
  // school would mail them (the export of one segment: `learner_links {segment}`), and a
  // student who is nobody's comes to the plain page.
  const initial = (await api('audience_segments', {})).segments;
  assert.ok(initial.length >= 2, JSON.stringify(initial.map((s) => s.name)));
  const everyone = Object.keys(await linksOf(undefined)).length;
  const students = [];
  for (const [i, segment] of initial.slice(0, 4).entries()) {
    const links = Object.entries(await linksOf(segment.name));
    assert.equal(links.length, segment.size, `the export lists "${segment.name}" whole`);
    assert.ok(links.length < everyone);
    const [learner, link] = links[0];
    const page = await newPage(`student-${i}`);
    await joinAt(page, link, `Student ${i}`);
    students.push({ learner, page });
  }
  const nobody = await newPage('nobody');
  await joinAt(nobody, host.base + 'watch', 'Nell');

  // Attending this class is part of each learner's behaviour: who is in which segment is read
  // now, as the push reads it, and a segment holding some of the students (not all) is chosen.
  const now = (await api('audience_segments', {})).segments;
  let target = null;
  let members = null;
  for (const segment of now) {
    const ids = new Set(Object.keys(await linksOf(segment.name)));
    const inside = students.filter((s) => ids.has(s.learner));
    if (inside.length > 0 && inside.length < students.length) {
      target = segment;
      members = ids;
      break;
    }
  }
  assert.ok(target, 'a segment holding some of the students');

  // The instructor picks the segment in the Offers screen and pushes.
  await studio.getByTestId('nav-offers').click();
  const picker = studio.getByTestId('offer-audience');
  await picker.waitFor();
  await picker.selectOption(target.name);
  const catalog = await api('catalog', {});
  await studio.getByTestId('offer-course').selectOption(catalog[0].id);
  await studio.getByTestId('offer-url').fill('https://shop.example.com/next');
  await studio.getByTestId('offer-submit').click();
  await studio.getByTestId('staff-offer-audience').filter({ hasText: target.name }).waitFor();

  const reached = students.filter((s) => members.has(s.learner));
  for (const { page } of reached) await page.getByTestId('offer-card').waitFor({ timeout: 15_000 });
  // The others never get it: give the room the time the members' cards took, and more.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  for (const { learner, page } of students.filter((s) => !members.has(s.learner))) {
    assert.equal(await page.getByTestId('offer-card').count(), 0, `learner ${learner}, outside "${target.name}", saw the offer`);
  }
  assert.equal(await nobody.getByTestId('offer-card').count(), 0, 'a viewer linked to nobody saw the offer');
  await reached[0].page.screenshot({ path: join(ARTIFACTS, 'segment-offer-member.png') });
  console.log(
    `segment offer: "${target.name}" (${target.size} learners) reached ${reached.length} of ${students.length} linked students, ` +
      'and not the unlinked one',
  );
  for (const [label, list] of Object.entries(errors)) assert.deepEqual(list, [], `console errors on ${label}`);
});
