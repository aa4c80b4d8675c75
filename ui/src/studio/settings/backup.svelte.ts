import type { ApiError, BackupDone, StudioEvent } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** A backup of the school: running or not, how far it got, and where the last one was saved. */
export class BackupStore {
  running = $state(false);
  /** Progress from `backup_progress` events while a backup runs. */
  progress = $state<{ done: number; total: number } | null>(null);
  last = $state<BackupDone | null>(null);
  error = $state<ApiError | null>(null);

  readonly #platform: Platform;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    return this.#platform.subscribe((ev) => this.handle(ev));
  }

  handle(ev: StudioEvent): void {
    if (ev.kind !== 'backup_progress' || !this.running) return;
    this.progress = { done: ev.done, total: ev.total };
  }

  async backUp(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.progress = null;
    this.error = null;
    try {
      this.last = await this.#platform.call('backup_school', {});
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.running = false;
      this.progress = null;
    }
  }
}
