import type { ApiError, AudienceRepurchase, AudienceSegments } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/**
 * The school's audience for the Insights screen: its segments and who buys again. Read at
 * start and again on every `school_changed` (new sales, imports); a read asked for during one
 * makes one more read after it, not one each.
 */
export class AudienceStore {
  segments = $state.raw<AudienceSegments | null>(null);
  segmentsError = $state<ApiError | null>(null);
  repurchase = $state.raw<AudienceRepurchase | null>(null);
  repurchaseError = $state<ApiError | null>(null);
  loading = $state(false);

  readonly #platform: Platform;
  #reading: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    void this.refresh();
    const unsubscribe = this.#platform.subscribe((ev) => {
      if (ev.kind === 'school_changed') void this.refresh();
    });
    return () => {
      this.#stopped = true;
      unsubscribe();
    };
  }

  refresh(): Promise<void> {
    if (this.#reading !== null) {
      this.#again = true;
      return this.#reading;
    }
    this.loading = true;
    this.#reading = (async () => {
      do {
        this.#again = false;
        const [segments, repurchase] = await Promise.allSettled([
          this.#platform.call('audience_segments', {}),
          this.#platform.call('audience_repurchase', {}),
        ]);
        if (this.#stopped) break;
        if (segments.status === 'fulfilled') {
          this.segments = segments.value;
          this.segmentsError = null;
        } else {
          this.segmentsError = toApiError(segments.reason);
        }
        if (repurchase.status === 'fulfilled') {
          this.repurchase = repurchase.value;
          this.repurchaseError = null;
        } else {
          this.repurchaseError = toApiError(repurchase.reason);
        }
      } while (this.#again);
      this.#reading = null;
      this.loading = false;
    })();
    return this.#reading;
  }
}
