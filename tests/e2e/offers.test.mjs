// Headless Chromium against `lectern serve --demo --port 0 --no-test-card`: the instructor writes a
// two-variant offer in the studio and pushes it; students (each their own browser, so their own
// browser key) see one card with their variant's price, keep it across a reload, count as having
// seen it only once it is on their screen, click it; the studio's live counts and the
// experiment's results follow, with purchases from a CSV, a sale marked by hand and the shop's
// sales feed on loopback; withdrawing removes the cards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ARTIFACTS, serve, launchChromium, watchErrors, startClassFromStudio, joinWatchAs } from './lib.mjs';

const COURSE = 'py-pandas';
const COURSE_TITLE = 'Data Wrangling with pandas';
const SHOP = 'https://shop.example.com/courses/pandas';
const EXPERIMENT = 'pandas-price-e2e';
// $49.00 and $39.00, both 20% off.
const PRICE = { A: '$39.20', B: '$31.20' };

let host;
let browser;
const contexts = [];
const errors = {};
/** Requests that tried to leave loopback (the checkout link), stopped before they went out. */
const outbound = [];
let studio;
/** Desktop students: { name, page, context, variant }. */
const students = [];
let phone;
let offerId;

before(async () => {
  host = await serve(['--demo', '--port', '0', '--no-test-card']);
  // Nothing resolves but loopback: the checkout link cannot reach the internet.
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

async function newPage(label, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  contexts.push(context);
  // Every request that is not for the server on loopback is recorded and aborted.
  await context.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => {
      outbound.push({ label, url: route.request().url() });
      return route.abort();
    },
  );
  const page = await context.newPage();
  errors[label] = watchErrors(page);
  return { page, context };
}

function assertNoErrors() {
  for (const [label, list] of Object.entries(errors)) {
    // A checkout tab whose request was stopped logs a load error in that tab only; pages here have none.
    assert.deepEqual(list, [], `console errors on ${label}`);
  }
}

/** The studio's live counts of the offer, per variant: { A: { shown, exposures, clicks, dismissals }, B: ... }. */
async function liveCounts() {
  const offer = studio.locator(`[data-testid="staff-offer"][data-offer="${offerId}"]`);
  return offer.getByTestId('offer-count-row').evaluateAll((rows) =>
    Object.fromEntries(
      rows.map((row) => [
        row.dataset.variant,
        Object.fromEntries(
          ['shown', 'exposures', 'clicks', 'dismissals'].map((k) => [k, Number(row.querySelector(`[data-testid="count-${k}"]`).textContent)]),
        ),
      ]),
    ),
  );
}

/** Waits until the live counts equal `expected` (a timeout like any wait), then asserts them. */
async function waitForCounts(expected, timeoutMs = 15_000) {
  const started = Date.now();
  let counts;
  while (Date.now() - started < timeoutMs) {
    counts = await liveCounts();
    if (JSON.stringify(counts) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(counts, expected);
}

function tally(list, key) {
  const out = { A: 0, B: 0 };
  for (const s of list) out[s.variant] += typeof key === 'function' ? key(s) : 1;
  return out;
}

/** What the counts should be: shown to everyone; seen by those in `seen`; clicked by those in `clicked`. */
function expectedCounts(all, seen, clicked = []) {
  const shown = tally(all);
  const exposures = tally(all.filter((s) => seen.includes(s)));
  const clicks = tally(all.filter((s) => clicked.includes(s)));
  return Object.fromEntries(['A', 'B'].map((v) => [v, { shown: shown[v], exposures: exposures[v], clicks: clicks[v], dismissals: 0 }]));
}

/** Waits until `locator`'s text is `expected` (a timeout like any wait), then asserts it. */
async function waitForText(locator, expected, timeoutMs = 15_000) {
  const started = Date.now();
  let text = null;
  while (Date.now() - started < timeoutMs) {
    text = (await locator.count()) > 0 ? (await locator.first().innerText()).trim() : null;
    if (text === expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(text, expected);
}

/** A student's card: its variant and the price it shows. */
async function readCard(page) {
  const card = page.getByTestId('offer-card');
  await card.waitFor();
  return { variant: await card.getAttribute('data-variant'), price: (await card.getByTestId('offer-price').innerText()).trim() };
}

/** How much of the student's card is inside the viewport, from 0 to 1. */
function visibleShare(page) {
  return page.getByTestId('offer-card').evaluate((el) => {
    const r = el.getBoundingClientRect();
    const inside = Math.max(0, Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0));
    return r.height === 0 ? 0 : inside / r.height;
  });
}

test('the instructor writes a two-variant offer from the catalog and pushes it', async () => {
  ({ page: studio } = await newPage('studio', { acceptDownloads: true }));
  await studio.goto(host.studioUrl);
  await startClassFromStudio(studio, 'Week 3 · pandas');

  // Students in the class before the offer: two on a desktop, one on a short phone screen who
  // has scrolled down to the chat.
  for (const name of ['Ann', 'Bob']) {
    const { page, context } = await newPage(name);
    await joinWatchAs(page, host.base, name);
    students.push({ name, page, context, variant: null });
  }
  const p = await newPage('Pat', { viewport: { width: 390, height: 640 }, isMobile: true, hasTouch: true });
  phone = { name: 'Pat', ...p, variant: null };
  await joinWatchAs(phone.page, host.base, 'Pat');
  await phone.page.getByTestId('chat-input').scrollIntoViewIfNeeded();
  await phone.page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));

  await studio.getByTestId('nav-offers').click();
  await studio.getByTestId('offer-course').selectOption(COURSE);
  // Title, button text, price and currency come from the course.
  assert.equal(await studio.getByTestId('offer-title').inputValue(), COURSE_TITLE);
  assert.equal(await studio.getByTestId('offer-price').inputValue(), '49.00');
  assert.equal(await studio.getByTestId('offer-currency').inputValue(), 'USD');
  assert.equal(await studio.getByTestId('offer-cta-text').inputValue(), 'Enrol now');
  await studio.getByTestId('offer-discount').fill('20');
  await studio.getByTestId('offer-experiment').fill(EXPERIMENT);

  // The editor says what to fix before anything is sent: an http link, then shares over 100%.
  await studio.getByTestId('offer-url').fill('http://shop.example.com/courses/pandas');
  await studio.getByTestId('offer-submit').click();
  assert.equal(await studio.getByTestId('offer-problem').innerText(), 'The checkout link must start with https://.');
  await studio.getByTestId('offer-url').fill(SHOP);
  await studio.getByTestId('variant-weight').first().fill('60');
  await studio.getByTestId('offer-submit').click();
  assert.equal(await studio.getByTestId('offer-problem').innerText(), "The variants' shares add up to 110%, not 100%.");
  await studio.getByTestId('offer-split').click();
  assert.equal(await studio.getByTestId('offer-weight-sum').innerText(), '100%');

  // Variant B: a lower price.
  const b = studio.getByTestId('offer-variant').nth(1);
  await b.getByTestId('variant-more').click();
  await b.getByTestId('variant-price').fill('39');
  assert.equal(await b.getByTestId('variant-preview').innerText(), PRICE.B);
  assert.equal(await studio.getByTestId('offer-variant').nth(0).getByTestId('variant-preview').innerText(), PRICE.A);

  await studio.getByTestId('offer-submit').click();
  const offer = studio.locator('[data-testid="staff-offer"][data-state="live"]');
  await offer.waitFor();
  offerId = await offer.getAttribute('data-offer');
  assert.match(await offer.innerText(), new RegExp(EXPERIMENT));
  assert.deepEqual(await offer.getByTestId('count-price').allInnerTexts(), [PRICE.A, PRICE.B]);
  assertNoErrors();
});

test('each student sees one card with their variant’s price; both variants are served', async () => {
  for (const s of students) {
    const card = await readCard(s.page);
    assert.ok(card.variant === 'A' || card.variant === 'B', `variant ${card.variant}`);
    assert.equal(card.price, PRICE[card.variant], `${s.name}'s price`);
    s.variant = card.variant;
    // A landmark named by its title, with the checkout link opening in a new tab.
    const region = s.page.getByRole('region', { name: COURSE_TITLE });
    assert.equal(await region.count(), 1);
    const cta = region.getByTestId('offer-cta');
    assert.equal(await cta.getAttribute('target'), '_blank');
    assert.equal(await cta.getAttribute('rel'), 'noopener noreferrer');
    assert.match(await cta.getAttribute('href'), new RegExp(`^${SHOP}\\?ref=${offerId}\\.${card.variant}\\.`));
  }
  phone.variant = (await readCard(phone.page)).variant;
  // The variant is drawn per browser: more students join until both variants have one (the odds
  // that twelve fair draws all agree are 1 in 2,048).
  let n = 0;
  while (new Set(students.map((s) => s.variant)).size < 2 && students.length < 12) {
    n += 1;
    const name = `Student ${n}`;
    const { page, context } = await newPage(name);
    await joinWatchAs(page, host.base, name);
    const card = await readCard(page);
    assert.equal(card.price, PRICE[card.variant]);
    students.push({ name, page, context, variant: card.variant });
  }
  assert.deepEqual(new Set(students.map((s) => s.variant)), new Set(['A', 'B']));
  await students[0].page.screenshot({ path: join(ARTIFACTS, 'offers-watch.png') });
  assertNoErrors();
});

test('a card counts as seen only once it is on screen: the phone student scrolled away is not counted', async () => {
  // The phone student's card arrived above the chat they were reading, out of view.
  assert.ok((await visibleShare(phone.page)) < 0.5, 'the phone card is out of view');
  const all = [...students, phone];
  // Every desktop student's card was on screen for a second: counted. Not the phone's.
  await waitForCounts(expectedCounts(all, students));
  for (const s of students) await s.page.locator('[data-testid="offer-card"][data-exposed="true"]').waitFor();
  assert.equal(await phone.page.getByTestId('offer-card').getAttribute('data-exposed'), 'false');
  // Still not, a moment later (the counts above took at least a second of dwell to arrive).
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await phone.page.getByTestId('offer-card').getAttribute('data-exposed'), 'false');
  assert.deepEqual(await liveCounts(), expectedCounts(all, students));

  // Scrolling up to it: now it is seen.
  await phone.page.getByTestId('offer-card').scrollIntoViewIfNeeded();
  await waitForCounts(expectedCounts(all, all));
  await phone.page.locator('[data-testid="offer-card"][data-exposed="true"]').waitFor();
  assert.equal((await readCard(phone.page)).price, PRICE[phone.variant]);
  await phone.page.screenshot({ path: join(ARTIFACTS, 'offers-watch-phone.png') });
  assertNoErrors();
});

test('a student who reloads the page gets the same variant, counted once', async () => {
  const ann = students[0];
  const before = await liveCounts();
  await ann.page.reload();
  await joinWatchAs(ann.page, host.base, 'Ann');
  const card = await readCard(ann.page);
  assert.equal(card.variant, ann.variant);
  assert.equal(card.price, PRICE[ann.variant]);
  assert.equal(await ann.page.getByTestId('offer-card').getAttribute('data-exposed'), 'true');
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await liveCounts(), before, 'a reload is not a new viewer, a new delivery or a new exposure');
  assertNoErrors();
});

test('a click is counted and opens the checkout with the reference code in a new tab', async () => {
  const bob = students.find((s) => s.variant !== students[0].variant) ?? students[1];
  const [checkout] = await Promise.all([bob.context.waitForEvent('page'), bob.page.getByTestId('offer-cta').click()]);
  await checkout.waitForLoadState('domcontentloaded').catch(() => {});
  // The new tab asked for the shop's page with the code; it was stopped before leaving this machine.
  const started = Date.now();
  while (!outbound.some((o) => o.label === bob.name) && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 100));
  const asked = outbound.filter((o) => o.label === bob.name).map((o) => o.url);
  assert.equal(asked.length, 1, `requests: ${asked}`);
  const ref = new URL(asked[0]).searchParams.get('ref');
  assert.match(ref, new RegExp(`^${offerId}\\.${bob.variant}\\.[A-Za-z0-9_-]+$`));
  bob.ref = ref;
  await checkout.close();
  // Opened with noopener: the shop's tab cannot reach back to the class page.
  const all = [...students, phone];
  await waitForCounts(expectedCounts(all, all, [bob]));
  bob.clicked = true;
  assertNoErrors();
});

test('the results screen shows the same numbers, a chart, verdicts, a purchase, and exports CSV', async () => {
  const all = [...students, phone];
  const clicker = students.find((s) => s.clicked);
  const results = studio.getByTestId('experiment-results');
  await results.waitFor();
  assert.equal(await results.getAttribute('data-experiment'), EXPERIMENT);
  const exposed = tally(all);
  const clicked = tally([clicker]);
  for (const v of ['A', 'B']) {
    const row = results.locator(`[data-testid="results-row"][data-variant="${v}"]`);
    await waitForText(row.getByTestId('results-exposed'), String(exposed[v]));
    await waitForText(row.getByTestId('results-clicked'), String(clicked[v]));
    await waitForText(row.getByTestId('results-converted'), '0');
  }
  // The chart has a row per variant, its numbers as text too, and a description for screen readers.
  assert.equal(await results.getByTestId('rate-chart-row').count(), 2);
  assert.equal(await results.getByRole('img', { name: /Conversion rate per variant/ }).count(), 1);
  assert.match(await results.locator('desc').textContent(), /A: 0\.0%, 95% interval 0\.0% to \d/);
  assert.ok((await results.getByTestId('results-verdict').count()) >= 1);
  assert.match(await results.getByTestId('results-verdicts').innerText(), /not enough data/);
  // Traffic matches the 50/50 shares: no warning.
  assert.equal(await results.getByTestId('results-srm').count(), 0);

  // The clicker buys: the shop's export reaches the school as a CSV with the reference code.
  const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const csv = `order_id,learner,course,date,amount,currency,ref\ne2e-order-1,learner-e2e-1,${COURSE},${at},31.20,USD,${clicker.ref}\n`;
  const response = await fetch(host.base + 'api/v1/import_data', {
    method: 'POST',
    headers: { authorization: `Bearer ${host.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'purchases', text: csv }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  // The screen reads the results again by itself.
  const row = results.locator(`[data-testid="results-row"][data-variant="${clicker.variant}"]`);
  await waitForText(row.getByTestId('results-converted'), '1');
  await studio.screenshot({ path: join(ARTIFACTS, 'offers-studio.png'), fullPage: true });

  const [download] = await Promise.all([studio.waitForEvent('download'), results.getByTestId('results-csv').click()]);
  assert.equal(download.suggestedFilename(), `${EXPERIMENT}-variants.csv`);
  const lines = (await readFile(await download.path(), 'utf8')).trim().split('\r\n');
  assert.match(lines[0], /^variant,weight,units,exposed,clicked,converted,revenue_cents,rate,/);
  const byName = Object.fromEntries(lines.slice(1).map((l) => [l.split(',')[0], l.split(',')]));
  for (const v of ['A', 'B']) {
    assert.equal(byName[v][3], String(exposed[v]), `exposed ${v}`);
    assert.equal(byName[v][4], String(clicked[v]), `clicked ${v}`);
    assert.equal(byName[v][5], v === clicker.variant ? '1' : '0', `converted ${v}`);
  }
  assert.equal(byName[clicker.variant][6], '3120');

  // How each variant's rate moved: a chart whose caption and table carry the numbers.
  await results.getByTestId('results-history').locator('canvas').first().waitFor();
  assert.match(await results.getByTestId('results-history-summary').innerText(), /^Conversion rate so far, per variant, over .*: A [\d.]+% \(\d+ of \d+\), B [\d.]+% \(\d+ of \d+\)\.$/);
  // Revenue per viewer who saw it, beside the revenue.
  assert.notEqual((await row.getByTestId('results-revenue-per-viewer').innerText()).trim(), '–');

  // The planner, prefilled from the results: how many classes a 50% lift needs.
  const planner = results.getByTestId('planner');
  await planner.getByTestId('planner-lift').fill('50');
  await planner.getByTestId('planner-go').click();
  assert.match(
    await planner.getByTestId('planner-summary').innerText(),
    /^To detect a 50% lift on a [\d.]+% rate, about [\d,]+ exposed viewers are needed: [\d,]+ class(es)? of [\d,]+\.$/,
  );
  await planner.getByTestId('planner-lift').fill('none');
  await planner.getByTestId('planner-go').click();
  assert.match(await planner.getByTestId('planner-problem').innerText(), /lift/);

  // "Mark as bought": a sale the shop did not send, by another student's reference code.
  const handBuyer = students.find((s) => s !== clicker);
  const handRef = new URL(await handBuyer.page.getByTestId('offer-cta').getAttribute('href')).searchParams.get('ref');
  const sale = results.getByTestId('record-sale');
  await sale.getByTestId('sale-record').click();
  assert.match(await sale.getByTestId('sale-problem').innerText(), /reference code/);
  await sale.getByTestId('sale-ref').fill(handRef);
  await sale.getByTestId('sale-order').fill('hand-1');
  await sale.getByTestId('sale-amount').fill('thirty');
  await sale.getByTestId('sale-record').click();
  // A wrong amount is refused by its column, and nothing is written.
  assert.match(await sale.getByTestId('sale-row-errors').innerText(), /amount/);
  const handRow = results.locator(`[data-testid="results-row"][data-variant="${handBuyer.variant}"]`);
  const before = Number((await handRow.getByTestId('results-converted').innerText()).trim());
  await sale.getByTestId('sale-amount').fill('31.20');
  await sale.getByTestId('sale-record').click();
  await waitForText(sale.getByTestId('sale-recorded'), 'Recorded.');
  await waitForText(handRow.getByTestId('results-converted'), String(before + 1));
  // The same order again changes nothing.
  await sale.getByTestId('sale-ref').fill(handRef);
  await sale.getByTestId('sale-order').fill('hand-1');
  await sale.getByTestId('sale-amount').fill('31.20');
  await sale.getByTestId('sale-record').click();
  await waitForText(sale.getByTestId('sale-recorded'), 'Already recorded: that order number is in the school file.');
  assert.equal((await handRow.getByTestId('results-converted').innerText()).trim(), String(before + 1));
  await results.screenshot({ path: join(ARTIFACTS, 'offers-results.png') });
  assertNoErrors();
});

test('a purchase from the shop\'s sales feed on loopback reaches the results', async () => {
  const clicker = students.find((s) => s.clicked);
  // Pat links their purchases by email, with consent; the shop knows Pat only by that email.
  const link = phone.page.getByTestId('link-purchases');
  await link.locator('summary').click();
  await link.getByTestId('link-email').fill('Pat@Example.org');
  await link.getByTestId('link-submit').click();
  assert.equal(await link.getByTestId('link-problem').innerText(), 'Tick the box to agree first.');
  await link.getByTestId('link-consent').check();
  await link.getByTestId('link-submit').click();
  await link.getByTestId('link-done').waitFor();
  const patHash = createHash('sha256').update('pat@example.org').digest('hex');
  const learners = await fetch(host.base + 'api/v1/import_data', {
    method: 'POST',
    headers: { authorization: `Bearer ${host.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'learners', text: `id,email_hash\nlearner-pat,${patHash}\n` }),
  });
  assert.equal(learners.status, 200, await learners.clone().text());
  const patRow = studio.getByTestId('experiment-results').locator(`[data-testid="results-row"][data-variant="${phone.variant}"]`);
  const patBefore = Number((await patRow.getByTestId('results-converted').innerText()).trim());
  // The shop: a JSON sales export on loopback that wants its Bearer token. The clicker bought a
  // second seat: one more order by the same viewer (one conversion, twice the revenue).
  const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const asked = [];
  const shop = createServer((request, response) => {
    asked.push(request.headers.authorization ?? '');
    if (request.headers.authorization !== 'Bearer shop-token-e2e') {
      response.writeHead(401).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        purchases: [
          { order_id: 'feed-order-1', learner: 'learner-feed-1', course: COURSE, date: at, amount: '31.20', currency: 'USD', ref: clicker.ref },
          // No reference code: matched by Pat's consented email.
          { order_id: 'feed-order-2', learner: 'learner-pat', course: COURSE, date: at, amount: '39.20', currency: 'USD' },
        ],
      }),
    );
  });
  await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
  try {
    const results = studio.getByTestId('experiment-results');
    const row = results.locator(`[data-testid="results-row"][data-variant="${clicker.variant}"]`);
    assert.equal((await row.getByTestId('results-revenue').innerText()).trim(), '$31.20');
    await studio.getByTestId('nav-data').click();
    await studio.getByTestId('feed-url').fill(`http://127.0.0.1:${shop.address().port}/sales.json`);
    await studio.getByTestId('feed-allow-private').check();
    await studio.getByTestId('feed-token').fill('shop-token-e2e');
    await studio.getByTestId('feed-save').click();
    await studio.getByText('Saved.').waitFor();
    await studio.getByTestId('feed-sync').click();
    await waitForText(studio.getByTestId('feed-synced'), 'Imported 2 rows: 2 new, 0 updated, 0 unchanged; 1 learner created.');
    assert.deepEqual(asked, ['Bearer shop-token-e2e']);
    await studio.getByTestId('nav-offers').click();
    const revenue = clicker.variant === phone.variant ? '$101.60' : '$62.40';
    await waitForText(studio.getByTestId('experiment-results').locator(`[data-testid="results-row"][data-variant="${clicker.variant}"]`).getByTestId('results-revenue'), revenue);
    await waitForText(patRow.getByTestId('results-converted'), String(patBefore + 1));
    if (clicker.variant !== phone.variant) {
      assert.equal((await studio.getByTestId('experiment-results').locator(`[data-testid="results-row"][data-variant="${clicker.variant}"]`).getByTestId('results-converted').innerText()).trim(), '1');
    }
    // Synced again, the same order changes nothing.
    await studio.getByTestId('nav-data').click();
    await studio.getByTestId('feed-sync').click();
    await waitForText(studio.getByTestId('feed-synced'), 'Imported 2 rows: 0 new, 0 updated, 2 unchanged.');
    await studio.getByTestId('nav-offers').click();
    await studio.getByTestId('experiment-results').waitFor();
  } finally {
    shop.close();
  }
  assertNoErrors();
});

test('a student who dismisses the card no longer sees it, even after a reload', async () => {
  const all = [...students, phone];
  const clicker = students.find((s) => s.clicked);
  const cy = students.find((s) => s !== clicker && s !== students[0]) ?? students[0];
  await cy.page.getByTestId('offer-dismiss').click();
  await cy.page.getByTestId('offer-card').waitFor({ state: 'detached' });
  const expected = expectedCounts(all, all, [clicker]);
  expected[cy.variant].dismissals = 1;
  await waitForCounts(expected);
  await cy.page.reload();
  await joinWatchAs(cy.page, host.base, cy.name);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await cy.page.getByTestId('offer-card').count(), 0);
  cy.dismissed = true;
  assertNoErrors();
});

test('withdrawing the offer removes every card', async () => {
  const offer = studio.locator(`[data-testid="staff-offer"][data-offer="${offerId}"]`);
  await offer.getByTestId('offer-withdraw').click();
  await studio.locator(`[data-testid="staff-offer"][data-offer="${offerId}"][data-state="withdrawn"]`).waitFor();
  for (const s of [...students, phone]) await s.page.getByTestId('offer-card').waitFor({ state: 'detached' });
  assert.equal(await students[0].page.getByRole('region', { name: COURSE_TITLE }).count(), 0);
  // The results stay readable after the offer is gone.
  assert.equal(await studio.getByTestId('experiment-results').getAttribute('data-experiment'), EXPERIMENT);
  // Nothing but the checkout tab ever tried to leave loopback.
  assert.deepEqual(
    outbound.filter((o) => !o.url.startsWith(SHOP)),
    [],
  );
  assertNoErrors();
});
