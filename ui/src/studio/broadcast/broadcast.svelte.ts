import type { ApiError } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';
import type { OverviewStore } from '../home/overview.svelte';

/** A class's title: 1 to 200 characters (as the engine counts them). */
export const MAX_CLASS_TITLE = 200;

/**
 * Starting and ending the class. Whether a class is live is the overview's `live` (one source);
 * this store holds only the pending command and its failure.
 */
export class BroadcastStore {
  pending = $state<'start' | 'end' | null>(null);
  error = $state<ApiError | null>(null);

  readonly #platform: Platform;
  readonly #overview: OverviewStore;

  constructor(platform: Platform, overview: OverviewStore) {
    this.#platform = platform;
    this.#overview = overview;
  }

  async start(title: string): Promise<boolean> {
    if (this.pending !== null) return false;
    this.pending = 'start';
    try {
      this.#overview.applyLive(await this.#platform.call('start_class', { title: title.trim(), courseId: null }));
      this.error = null;
      return true;
    } catch (err) {
      this.error = toApiError(err);
      return false;
    } finally {
      this.pending = null;
    }
  }

  async end(): Promise<boolean> {
    if (this.pending !== null) return false;
    this.pending = 'end';
    try {
      this.#overview.applyLive(await this.#platform.call('end_class', {}));
      this.error = null;
      return true;
    } catch (err) {
      this.error = toApiError(err);
      return false;
    } finally {
      this.pending = null;
    }
  }

  dismissError(): void {
    this.error = null;
  }
}
