// Headless Chromium against `lectern serve --demo --port 0 --no-test-card`: the school exports
// its learners' personal join links from the Data screen; two students open theirs, a third links
// an email in class; the studio then knows who they are: each is scored as a likely buyer under
// the school's learner id, with their own next course, and a forged link is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARTIFACTS, serve, launchChromium, watchErrors, startClassFromStudio } from './lib.mjs';

let host;
let browser;
const contexts = [];
const errors = {};

before(async () => {
  host = await serve(['--demo', '--port', '0', '--no-test-card']);
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

async function newPage(label) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  contexts.push(context);
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

/** A student opens `url` (their personal link, or the plain class page) and joins as `name`. */
async function joinAt(page, url, name) {
  await page.goto(url);
  await page.getByTestId('chat-name-input').fill(name);
  await page.getByTestId('chat-join').click();
  await page.getByTestId('chat-input').waitFor();
}

test('students who came by their personal links, or linked an email, are known learners with their own next course', async () => {
  const studio = await newPage('studio');
  await studio.goto(host.studioUrl);
  await startClassFromStudio(studio, 'Personal links');

  // The Data screen exports every learner's link as CSV.
  await studio.getByTestId('nav-data').click();
  const card = studio.getByTestId('learner-links-card');
  const [download] = await Promise.all([studio.waitForEvent('download'), card.getByTestId('links-export').click()]);
  assert.equal(download.suggestedFilename(), 'lectern-learner-links.csv');
  const rows = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  assert.equal(rows[0], 'learner,display_name,link');
  assert.match(await card.getByTestId('links-state').innerText(), /^\d+ personal links made\./);
  const linkOf = Object.fromEntries(rows.slice(1).map((r) => [r.split(',')[0], r.split(',').at(-1)]));
  const [annId, boId] = Object.keys(linkOf).slice(0, 2);
  assert.ok(linkOf[annId].startsWith(host.base + 'watch#learner='), linkOf[annId]);

  // Their shop history: each bought a course last month; Cy is known to the shop by email.
  const catalog = await api('catalog', {});
  const [first, second] = [catalog[0].id, catalog[1].id];
  const cyHash = createHash('sha256').update('cy@example.org').digest('hex');
  await api('import_data', { kind: 'learners', text: `id,email_hash\nlearner-cy,${cyHash}\n` });
  const month = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  await api('import_data', {
    kind: 'purchases',
    text: `order_id,learner,course,date,amount,currency\npl-1,${annId},${first},${month},10.00,USD\npl-2,${boId},${second},${month},10.00,USD\npl-3,learner-cy,${first},${month},10.00,USD\n`,
  });

  const ann = await newPage('ann');
  await joinAt(ann, linkOf[annId], 'Ann');
  // The address bar no longer shows the link: a screenshot or a copied URL does not share it.
  assert.ok(!ann.url().includes('sig='), ann.url());
  const bo = await newPage('bo');
  await joinAt(bo, linkOf[boId], 'Bo');
  const cy = await newPage('cy');
  await joinAt(cy, host.base + 'watch', 'Cy');
  const link = cy.getByTestId('link-purchases');
  await link.locator('summary').click();
  await link.getByTestId('link-email').fill('cy@example.org');
  await link.getByTestId('link-consent').check();
  await link.getByTestId('link-submit').click();
  await link.getByTestId('link-done').waitFor();

  // A forged link (Ann's signature on another learner) is refused in words.
  const eve = await newPage('eve');
  const forged = linkOf[annId].replace(`learner=${encodeURIComponent(annId)}`, 'learner=learner-cy');
  await joinAt(eve, forged, 'Eve');
  await eve.getByText(/personal join link is not valid/).waitFor();

  // The studio scores the class's attendees: the three known ones under their learner ids, each
  // with the course to offer them next; Eve stays a pseudonymous viewer.
  const overview = await api('overview', {});
  assert.equal(overview.live.state, 'live');
  const { buyers, model } = await api('likely_buyers', { sessionId: overview.live.sessionId });
  assert.ok(model.aucLow <= model.auc && model.auc <= model.aucHigh, JSON.stringify(model));
  const byId = Object.fromEntries(buyers.map((b) => [b.learner, b]));
  for (const id of [annId, boId, 'learner-cy']) {
    assert.ok(byId[id], `${id} is scored: ${JSON.stringify(buyers.map((b) => b.learner))}`);
    assert.equal(byId[id].linked, true);
    assert.ok(typeof byId[id].nextCourse === 'string' && byId[id].nextCourse.length > 0, JSON.stringify(byId[id]));
    for (const reason of byId[id].reasons) assert.match(reason, /: [+-]\d+\.\d points$/);
  }
  const unlinked = buyers.filter((b) => !b.linked);
  assert.equal(unlinked.length, 1, JSON.stringify(buyers));
  assert.match(unlinked[0].learner, /^v-[0-9a-f]+$/);
  // Ann's next course is not the one she owns.
  const owned = catalog.find((c) => c.id === first).title;
  assert.notEqual(byId[annId].nextCourse, owned);

  // The Insights screen's live panel shows the same: a next course for each known learner.
  await studio.getByTestId('nav-insights').click();
  const live = studio.getByTestId('live-buyers');
  await live.getByTestId('live-buyers-refresh').click();
  await live.getByTestId('buyer-next').first().waitFor();
  assert.ok((await live.getByTestId('buyer-next').count()) >= 3);
  await studio.screenshot({ path: join(ARTIFACTS, 'personal-links-studio.png'), fullPage: true });

  for (const [who, list] of Object.entries(errors)) {
    assert.deepEqual(
      list.filter((e) => !/Failed to load resource/.test(e)),
      [],
      `${who}: console errors`,
    );
  }
});
