import type { ApiError, DataKind, ImportDone, SalesFeed, SetSalesFeed } from '../../lib/bindings/api';
import { formatDateTime } from '../../lib/format';
import { toApiError, type Platform } from '../../lib/platform';

/** A feed of the school's data (the shop's sales by default; the catalog and the learners too):
 * its settings, Sync now, and the last result in words. */
export class SalesFeedStore {
  /** Which feed is shown. */
  kind = $state<DataKind>('purchases');
  feed = $state.raw<SalesFeed | null>(null);
  busy = $state<'load' | 'save' | 'sync' | null>(null);
  error = $state<ApiError | null>(null);
  /** The outcome of this page's last Sync now. */
  synced = $state.raw<ImportDone | null>(null);
  saved = $state(false);

  readonly #platform: Platform;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    void this.load();
    return () => {};
  }

  /** Shows another kind's feed. */
  async show(kind: DataKind): Promise<void> {
    if (kind === this.kind) return;
    this.kind = kind;
    this.feed = null;
    this.synced = null;
    this.saved = false;
    this.error = null;
    await this.load();
  }

  async load(): Promise<void> {
    const kind = this.kind;
    await this.#run('load', async () => {
      const feed = await this.#platform.call('sales_feed', { kind });
      if (kind === this.kind) this.feed = feed;
    });
  }

  async save(setting: SetSalesFeed): Promise<void> {
    this.saved = false;
    await this.#run('save', async () => {
      this.feed = await this.#platform.call('set_sales_feed', { ...setting, kind: this.kind });
      this.saved = true;
    });
  }

  async sync(): Promise<void> {
    this.synced = null;
    await this.#run('sync', async () => {
      this.synced = await this.#platform.call('sync_sales_feed', { kind: this.kind });
    });
    // The feed's stored last result changed either way.
    try {
      this.feed = await this.#platform.call('sales_feed', { kind: this.kind });
    } catch {
      // The sync's own error is already shown.
    }
  }

  async #run(what: 'load' | 'save' | 'sync', work: () => Promise<void>): Promise<void> {
    if (this.busy !== null) return;
    this.busy = what;
    this.error = null;
    try {
      await work();
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.busy = null;
    }
  }
}

const FEED_ERRORS: Record<string, string> = {
  feed_unreachable: 'the shop could not be reached',
  feed_refused: 'the shop refused the request (check the token)',
  feed_invalid: 'the shop answered with something that is not a sales file',
  payload_too_large: 'the shop sent more than Lectern accepts at once',
  invalid_input: 'the shop’s file had rows with errors',
};

/** The feed's last result in words. */
export function feedStatusText(feed: SalesFeed, options: { timeZone?: string; locale?: string } = {}): string {
  if (feed.url === null) return feed.kind === 'purchases' ? 'No sales feed is set.' : `No ${feed.kind} feed is set.`;
  const last = feed.lastSyncMs === null ? 'It has not synced yet.' : `Last synced ${formatDateTime(feed.lastSyncMs, options)}.`;
  if (feed.lastError === null) return last;
  const why = FEED_ERRORS[feed.lastError] ?? `it failed (${feed.lastError})`;
  return `${last} The last attempt failed: ${why}.`;
}

/** Parses the schedule field: blank is "on demand only"; otherwise 5 to 1440 whole minutes. */
export function parseSchedule(text: string): { ok: true; everyMinutes: number | null } | { ok: false; problem: string } {
  const t = text.trim();
  if (t === '') return { ok: true, everyMinutes: null };
  if (!/^\d+$/.test(t)) return { ok: false, problem: 'Write a whole number of minutes, or leave it empty.' };
  const n = Number(t);
  if (n < 5 || n > 1440) return { ok: false, problem: 'Between 5 and 1440 minutes (once a day).' };
  return { ok: true, everyMinutes: n };
}
