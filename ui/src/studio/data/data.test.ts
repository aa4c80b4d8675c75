import { describe, expect, it } from 'vitest';
import type { ImportCheck, ImportDone, SalesFeed } from '../../lib/bindings/api';
import { deferred, FakePlatform } from '../../test-support/fake-platform';
import { ImportStore, importResultText } from './import.svelte';
import { feedStatusText, parseSchedule, SalesFeedStore } from './sales-feed.svelte';

const good: ImportCheck = { rows: 2, valid: 2, errorRows: 0, errors: [], columns: ['order_id'], sample: [['o1'], ['o2']] };
const bad: ImportCheck = {
  rows: 2,
  valid: 1,
  errorRows: 1,
  errors: [{ line: 3, column: 'date', code: 'bad_date', message: 'not a date' }],
  columns: ['order_id'],
  sample: [['o1']],
};
const done: ImportDone = { applied: true, rows: 2, inserted: 2, updated: 0, unchanged: 0, learnersCreated: 1, errorRows: 0, errors: [] };

describe('ImportStore', () => {
  it('previews a chosen file and re-checks it when the kind changes', async () => {
    const platform = new FakePlatform().on('preview_import', ({ kind }) => (kind === 'purchases' ? bad : good));
    const store = new ImportStore(platform);
    await store.choose('sales.csv', 'order_id\n');
    expect(platform.calls[0]).toEqual({ command: 'preview_import', args: { kind: 'purchases', text: 'order_id\n' } });
    expect(store.preview).toEqual(bad);
    expect(store.canImport).toBe(false);
    await store.setKind('catalog');
    expect(store.preview).toEqual(good);
    expect(store.canImport).toBe(true);
  });

  it('imports with progress from import_progress events, then shows the counts', async () => {
    const answer = deferred<ImportDone>();
    const platform = new FakePlatform().on('preview_import', () => good).on('import_data', () => answer.promise);
    const store = new ImportStore(platform);
    store.start();
    await store.choose('sales.csv', 'x');
    const running = store.run();
    expect(store.importing).toBe(true);
    expect(store.canImport).toBe(false);
    platform.emit({ kind: 'import_progress', done: 1, total: 2 });
    expect(store.progress).toEqual({ done: 1, total: 2 });
    answer.resolve(done);
    await running;
    expect(store.result).toEqual(done);
    expect(store.progress).toBeNull();
    expect(importResultText(done)).toBe('Imported 2 rows: 2 new, 0 updated, 0 unchanged; 1 learner created.');
  });

  it('never imports a file with errors, and ignores progress it did not start', async () => {
    const platform = new FakePlatform().on('preview_import', () => bad);
    const store = new ImportStore(platform);
    store.start();
    await store.choose('sales.csv', 'x');
    platform.emit({ kind: 'import_progress', done: 1, total: 2 });
    expect(store.progress).toBeNull();
    await store.run();
    expect(platform.count('import_data')).toBe(0);
    expect(importResultText({ ...done, applied: false, errorRows: 3 })).toBe('Nothing was imported: 3 rows have errors.');
  });
});

describe('the sales feed', () => {
  const feed: SalesFeed = { kind: 'purchases', url: 'https://shop.test/sales.csv', hasToken: true, everyMinutes: 60, lastSyncMs: null, lastError: null, allowPrivateAddress: false };

  it('says its last result in words', () => {
    expect(feedStatusText({ ...feed, url: null })).toBe('No sales feed is set.');
    expect(feedStatusText({ ...feed, kind: 'catalog', url: null })).toBe('No catalog feed is set.');
    expect(feedStatusText(feed)).toBe('It has not synced yet.');
    expect(feedStatusText({ ...feed, lastSyncMs: Date.UTC(2026, 10, 28, 9, 30), lastError: 'feed_refused' }, { locale: 'en-GB', timeZone: 'UTC' })).toBe(
      'Last synced 28 Nov 2026, 09:30. The last attempt failed: the shop refused the request (check the token).',
    );
  });

  it('reads the schedule: empty is on demand, else 5 to 1440 minutes', () => {
    expect(parseSchedule(' ')).toEqual({ ok: true, everyMinutes: null });
    expect(parseSchedule('60')).toEqual({ ok: true, everyMinutes: 60 });
    expect(parseSchedule('4').ok).toBe(false);
    expect(parseSchedule('1441').ok).toBe(false);
    expect(parseSchedule('1.5').ok).toBe(false);
  });

  it('saves, syncs and re-reads the stored result', async () => {
    let stored = { ...feed, url: null as string | null };
    const platform = new FakePlatform()
      .on('sales_feed', () => stored)
      .on('set_sales_feed', (args) => {
        stored = { ...stored, url: args.url, everyMinutes: args.everyMinutes };
        return stored;
      })
      .on('sync_sales_feed', () => done);
    const store = new SalesFeedStore(platform);
    await store.load();
    await store.save({ url: 'https://shop.test/sales.csv', token: 'secret', everyMinutes: null });
    expect(platform.calls.at(-1)).toEqual({
      command: 'set_sales_feed',
      args: { url: 'https://shop.test/sales.csv', token: 'secret', everyMinutes: null, kind: 'purchases' },
    });
    expect(store.saved).toBe(true);
    await store.sync();
    expect(store.synced).toEqual(done);
    expect(platform.calls.at(-1)).toEqual({ command: 'sales_feed', args: { kind: 'purchases' } });
  });

  it('shows the catalog and learners feeds too, each with its own setting', async () => {
    const platform = new FakePlatform()
      .on('sales_feed', (args) => ({ ...feed, kind: args.kind ?? 'purchases', url: args.kind === 'catalog' ? 'https://school.test/courses.json' : null }))
      .on('sync_sales_feed', () => done);
    const store = new SalesFeedStore(platform);
    await store.load();
    expect(store.feed?.url).toBeNull();
    await store.show('catalog');
    expect(store.kind).toBe('catalog');
    expect(store.feed?.url).toBe('https://school.test/courses.json');
    await store.sync();
    expect(platform.calls.at(-2)).toEqual({ command: 'sync_sales_feed', args: { kind: 'catalog' } });
  });
});

describe('personal join links', () => {
  it('says how many links were made, or why none', async () => {
    const { linksText } = await import('./learner-links.svelte');
    expect(linksText({ csv: 'learner,display_name,link\n', count: 0 })).toBe('The school has no learners yet: import them first.');
    expect(linksText({ csv: '', count: 2 })).toMatch(/^2 personal links made\./);
    expect(linksText({ csv: '', count: 1 })).toMatch(/^1 personal link made\./);
  });
});
