// The school's experiments, for the list on the Offers screen: read at start, again when the
// school changes, and when the live counts move (the screen calls `refresh`).
import type { ExperimentSummary } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

export class ExperimentsStore {
  list = $state<ExperimentSummary[] | null>(null);
  error = $state<string | null>(null);

  readonly #platform: Platform;
  #reading: Promise<void> | null = null;
  #again = false;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  /** Reads the list now and on every `school_changed`; the returned function stops that. */
  start(): () => void {
    void this.refresh();
    return this.#platform.subscribe((ev) => {
      if (ev.kind === 'school_changed') void this.refresh();
    });
  }

  /** Reads the list again; a call during a read makes one more read after it. */
  refresh(): Promise<void> {
    if (this.#reading !== null) {
      this.#again = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      do {
        this.#again = false;
        try {
          this.list = await this.#platform.call('experiments', {});
          this.error = null;
        } catch (err) {
          this.error = toApiError(err).message;
        }
      } while (this.#again);
      this.#reading = null;
    })();
    return this.#reading;
  }
}
