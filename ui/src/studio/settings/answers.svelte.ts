// "Answer known questions automatically": the instructor's setting, off by default.
import type { AnswerSettings, ApiError } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

export class AnswerSettingsStore {
  settings = $state<AnswerSettings | null>(null);
  /** The lowest threshold the studio accepts (0 to 1). */
  minThreshold = $state(0.7);
  busy = $state(false);
  error = $state<ApiError | null>(null);
  saved = $state(false);
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
      const info = await this.#platform.call('answer_settings', {});
      this.settings = info.settings;
      this.minThreshold = info.minThreshold;
      this.error = null;
    } catch (err) {
      this.error = toApiError(err);
    }
  }

  async save(settings: AnswerSettings): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error = null;
    this.saved = false;
    try {
      const info = await this.#platform.call('set_answer_settings', settings);
      this.settings = info.settings;
      this.minThreshold = info.minThreshold;
      this.saved = true;
    } catch (err) {
      this.error = toApiError(err);
    } finally {
      this.busy = false;
    }
  }
}

/** Parses the threshold field, in percent, into a confidence from `min` to 1 (or null). */
export function parseThresholdPercent(text: string, min: number): number | null {
  const t = text.trim().replace(/%$/, '').trim();
  if (!/^\d+$/.test(t)) return null;
  const confidence = Number(t) / 100;
  return confidence >= min - 1e-9 && confidence <= 1 ? confidence : null;
}

/** The setting in words. */
export function answerSettingsText(s: AnswerSettings): string {
  const percent = Math.round(s.threshold * 100);
  return s.autoAnswer
    ? `Students' questions whose known answer is at least ${percent}% sure are answered automatically, marked as automatic with their source.`
    : 'Nothing is answered automatically: staff see suggestions and send them.';
}
