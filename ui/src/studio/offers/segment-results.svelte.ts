// An experiment's results by segment, read when the breakdown is opened, when the experiment
// or the window changes, and when asked again (it reads the whole school: not on every tick).
import type { ApiError, ExperimentSegments } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

export class SegmentResultsStore {
  breakdown = $state.raw<ExperimentSegments | null>(null);
  error = $state<ApiError | null>(null);
  loading = $state(false);
  /** When the shown breakdown was read (ms), for "read at". */
  readAtMs = $state<number | null>(null);

  readonly #platform: Pick<Platform, 'call'>;
  readonly #now: () => number;
  #asked = 0;

  constructor(platform: Pick<Platform, 'call'>, now: () => number = Date.now) {
    this.#platform = platform;
    this.#now = now;
  }

  /** Reads the breakdown of `experiment` over `windowDays`; only the newest answer counts. */
  async load(experiment: string, windowDays: number): Promise<void> {
    const ask = ++this.#asked;
    this.loading = true;
    this.error = null;
    try {
      const breakdown = await this.#platform.call('experiment_segments', { experiment, windowDays });
      if (ask !== this.#asked) return;
      this.breakdown = breakdown;
      this.readAtMs = this.#now();
    } catch (err) {
      if (ask !== this.#asked) return;
      this.breakdown = null;
      this.error = toApiError(err);
    } finally {
      if (ask === this.#asked) this.loading = false;
    }
  }

  /** Forgets the answer (another experiment is shown, or the breakdown was closed). */
  clear(): void {
    this.#asked += 1;
    this.breakdown = null;
    this.error = null;
    this.loading = false;
    this.readAtMs = null;
  }
}
