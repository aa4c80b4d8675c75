// Headless Chromium against `lectern serve --demo --port 0 --no-test-card`: the Insights
// screen's Segments card (its chart, one row per segment, sizes adding up to the school's
// learners, names the same after a reload) and its Buying again card (three rates, the cohort
// heatmap, per-course rates, the attendance comparison labelled as observed, not causal).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, serve, launchChromium, watchErrors } from './lib.mjs';

let host;
let browser;
let context;

before(async () => {
  host = await serve(['--demo', '--port', '0', '--no-test-card']);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
});

after(async () => {
  await context?.close().catch(() => {});
  await browser?.close();
  if (host) {
    const { code, signal } = await host.stop();
    assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  }
});

async function segmentRows(page) {
  return page.getByTestId('segment-row').evaluateAll((rows) =>
    rows.map((row) => ({
      name: row.getAttribute('data-segment'),
      size: Number(row.querySelector('[data-testid="segment-size"]').textContent.replace(/,/g, '')),
    })),
  );
}

test('the Insights screen shows the segments and who buys again', async () => {
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(host.studioUrl);
  const overview = await fetch(new URL('api/v1/overview', host.base), {
    method: 'POST',
    headers: { authorization: `Bearer ${host.key}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(overview.status, 200);
  const learners = (await overview.json()).counts.learners;
  assert.ok(learners > 0);
  await page.getByTestId('nav-insights').click();

  const segments = page.getByTestId('segments-card');
  await segments.getByTestId('segment-row').first().waitFor({ timeout: 60_000 });
  const rows = await segmentRows(page);
  assert.ok(rows.length >= 2, JSON.stringify(rows));
  assert.equal(
    rows.reduce((sum, r) => sum + r.size, 0),
    learners,
    'the sizes add up to the learners',
  );
  assert.equal(new Set(rows.map((r) => r.name)).size, rows.length, 'names are unique');
  await segments.getByTestId('segments-chart').locator('canvas').first().waitFor();
  const chartTable = await segments.getByTestId('segments-chart-table').locator('tbody tr').count();
  assert.equal(chartTable, rows.length, 'one bar (and one table row) per segment');
  assert.match(await segments.getByTestId('segments-chart-summary').innerText(), /learners in \d+ segments as of \d{4}-\d{2}-\d{2}/);
  assert.ok((await segments.getByTestId('segment-next').first().innerText()).length > 1);

  const repurchase = page.getByTestId('repurchase-card');
  await repurchase.getByTestId('repurchase-rate').first().waitFor({ timeout: 60_000 });
  const windows = await repurchase.getByTestId('repurchase-rate').evaluateAll((items) => items.map((i) => i.getAttribute('data-window')));
  assert.deepEqual(windows, ['30', '90', '180']);
  for (const text of await repurchase.getByTestId('repurchase-rate').allInnerTexts()) assert.match(text, /\d+%[\s\S]*eligible/);
  assert.ok((await repurchase.getByTestId('cohort-row').count()) >= 6, 'a year of cohorts');
  assert.ok((await repurchase.getByTestId('cohort-cell').count()) > 20);
  assert.ok((await repurchase.getByTestId('repurchase-course').count()) > 0);
  const attendance = await repurchase.getByTestId('repurchase-attendance').innerText();
  assert.match(attendance, /observed difference, not a causal effect/);
  assert.match(attendance, /not the effect of attending/);

  await segments.screenshot({ path: join(ARTIFACTS, 'insights-segments.png') });
  await repurchase.screenshot({ path: join(ARTIFACTS, 'insights-repurchase.png') });

  // A second reading keeps every name.
  await page.reload();
  await page.getByTestId('nav-insights').click();
  await page.getByTestId('segments-card').getByTestId('segment-row').first().waitFor({ timeout: 60_000 });
  assert.deepEqual(await segmentRows(page), rows);
  assert.match(await page.getByTestId('segments-names').innerText(), /Every segment kept its name/);
  assert.deepEqual(errors, []);
});

test('an experiment of the demo school, by segment: no winners, small cells suppressed', async () => {
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(host.studioUrl);
  await page.getByTestId('nav-offers').click();
  await page.getByTestId('experiment-open').first().click();
  const results = page.getByTestId('experiment-results');
  await results.getByTestId('results-row').first().waitFor({ timeout: 60_000 });
  const variants = await results.getByTestId('results-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-variant')));

  const bySegment = results.getByTestId('segment-results');
  await bySegment.locator('summary').click();
  const warning = bySegment.getByTestId('segment-results-warning');
  await warning.waitFor({ timeout: 60_000 });
  assert.match(await warning.innerText(), /multiple comparisons/);
  assert.match(await warning.innerText(), /do not say which variant wins/);
  assert.match(await bySegment.getByTestId('segment-results-as-of').innerText(), /as the segments were on \d{4}-\d{2}-\d{2}, the day before/);
  const rows = await bySegment.getByTestId('segment-results-row').evaluateAll((trs) =>
    trs.map((tr) => ({
      segment: tr.getAttribute('data-segment'),
      cells: [...tr.querySelectorAll('[data-testid="segment-results-cell"]')].map((td) => ({ variant: td.getAttribute('data-variant'), text: td.textContent.trim() })),
    })),
  );
  assert.ok(rows.length >= 1, JSON.stringify(rows));
  for (const row of rows) {
    assert.deepEqual(
      row.cells.map((c) => c.variant),
      variants,
      'one cell per variant, in the results table’s order',
    );
    // Each cell is a rate with its counts (5 viewers or more), or says it has fewer than 5.
    for (const cell of row.cells) assert.match(cell.text, /^(fewer than 5|\d+\.\d% \d+ of ([5-9]|\d\d+) bought)/, JSON.stringify(cell));
  }
  const text = await bySegment.innerText();
  assert.doesNotMatch(text, /chance to win|better|winner/i);
  await bySegment.screenshot({ path: join(ARTIFACTS, 'offers-by-segment.png') });
  assert.deepEqual(errors, []);
});
