// One experiment's results, read from the engine while the results panel is on screen.
import type { ApiError, OfferResults } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** How often the panel reads the results again while shown (purchases arrive by import). */
export const RESULTS_REFRESH_MS = 4000;

export interface ResultsDeps {
  platform: Pick<Platform, 'call'>;
  setInterval: (fn: () => void, ms: number) => unknown;
  clearInterval: (handle: unknown) => void;
  /** Whether the page is on screen (no reads for a hidden tab). */
  visible: () => boolean;
}

export class ResultsStore {
  results = $state<OfferResults | null>(null);
  /** `not_found`: no offer of this experiment was pushed yet. */
  error = $state<ApiError | null>(null);
  loading = $state(false);
  experiment = $state('');
  windowDays = $state(7);

  readonly #deps: ResultsDeps;
  #asked = 0;

  constructor(deps: ResultsDeps) {
    this.#deps = deps;
  }

  /** Follows `experiment` (results cleared when it changes). */
  show(experiment: string, windowDays = this.windowDays): void {
    if (experiment !== this.experiment) {
      this.results = null;
      this.error = null;
    }
    this.experiment = experiment;
    this.windowDays = windowDays;
    void this.load();
  }

  async load(): Promise<void> {
    const experiment = this.experiment;
    const windowDays = this.windowDays;
    if (experiment === '') return;
    const ask = ++this.#asked;
    this.loading = true;
    try {
      const results = await this.#deps.platform.call('offer_results', { experiment, windowDays });
      // Only the newest answer counts (the experiment may have changed meanwhile).
      if (ask !== this.#asked) return;
      this.results = results;
      this.error = null;
    } catch (err) {
      if (ask !== this.#asked) return;
      this.error = toApiError(err);
      if (this.error.code === 'not_found') this.results = null;
    } finally {
      if (ask === this.#asked) this.loading = false;
    }
  }

  /** Reads again every few seconds while the page is visible; returns the function that stops. */
  start(): () => void {
    const handle = this.#deps.setInterval(() => {
      if (this.#deps.visible()) void this.load();
    }, RESULTS_REFRESH_MS);
    return () => this.#deps.clearInterval(handle);
  }
}

export function browserResultsDeps(platform: Platform): ResultsDeps {
  return {
    platform,
    setInterval: (fn, ms) => window.setInterval(fn, ms),
    clearInterval: (handle) => window.clearInterval(handle as number),
    visible: () => document.visibilityState === 'visible',
  };
}
