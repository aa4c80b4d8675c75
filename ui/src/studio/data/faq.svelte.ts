import type { ApiError, FaqImported } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** The school's FAQ for the TA's answer assistant: import a `question,answer` CSV. */
export class FaqStore {
  busy = $state(false);
  error = $state<ApiError | null>(null);
  imported = $state.raw<FaqImported | null>(null);

  readonly #platform: Platform;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    return () => {};
  }

  /** Replaces the FAQ with the file's rows; a file with any bad row changes nothing. */
  async import(text: string): Promise<void> {
    this.busy = true;
    this.error = null;
    this.imported = null;
    try {
      this.imported = await this.#platform.call('import_faq', { text });
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.busy = false;
    }
  }
}
