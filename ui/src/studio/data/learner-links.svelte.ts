import type { ApiError, LearnerLinks } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/**
 * Matching viewers to the school's learners: each learner's personal join link (a CSV for the
 * school's mailer) and the school's time zone, in which dates without a time are read.
 */
export class LearnerLinksStore {
  busy = $state(false);
  error = $state<ApiError | null>(null);
  links = $state.raw<LearnerLinks | null>(null);
  timeZone = $state<string | null>(null);
  savedZone = $state(false);

  readonly #platform: Platform;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    void this.load();
    return () => {};
  }

  async load(): Promise<void> {
    try {
      this.timeZone = (await this.#platform.call('overview', {})).school?.timeZone ?? null;
    } catch (err) {
      this.error = toApiError(err);
    }
  }

  /** Makes every learner's link; `baseUrl` is the address learners reach the studio at ('' for the current one). */
  async make(baseUrl: string): Promise<LearnerLinks | null> {
    if (this.busy) return null;
    this.busy = true;
    this.error = null;
    try {
      const trimmed = baseUrl.trim();
      this.links = await this.#platform.call('learner_links', trimmed === '' ? {} : { baseUrl: trimmed });
      return this.links;
    } catch (err) {
      this.error = toApiError(err);
      return null;
    } finally {
      this.busy = false;
    }
  }

  async saveZone(name: string): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error = null;
    this.savedZone = false;
    try {
      this.timeZone = await this.#platform.call('set_time_zone', { timeZone: name.trim() });
      this.savedZone = true;
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.busy = false;
    }
  }
}

/** What the export made, in words. */
export function linksText(links: LearnerLinks): string {
  return links.count === 0
    ? 'The school has no learners yet: import them first.'
    : `${links.count} personal ${links.count === 1 ? 'link' : 'links'} made. Send each learner theirs: whoever opens it joins the class as that learner.`;
}
