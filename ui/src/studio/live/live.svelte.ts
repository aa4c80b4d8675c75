import type { ApiError, NextCourse, StudioEvent } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';
import { asSnapshot, type EngagementSnapshot } from '../insights/engagement';

/** The live panel refreshes on every this many `broadcast_stats` ticks (one a second): every 2 s. */
export const REFRESH_TICKS = 2;

/**
 * The class on air, as the live panel shows it: the engagement snapshot, refreshed on the
 * engine's once-a-second `broadcast_stats` clock (every second tick, one request at a time), and
 * the "recommend next" courses for its audience.
 */
export class LiveEngagementStore {
  snapshot = $state.raw<EngagementSnapshot | null>(null);
  /** No class is on air (the engine answered `conflict`). */
  offAir = $state(false);
  error = $state<ApiError | null>(null);
  recommendations = $state.raw<NextCourse[] | null>(null);
  recommendationsError = $state<ApiError | null>(null);
  recommending = $state(false);

  readonly #platform: Platform;
  #ticks = 0;
  #inFlight = false;
  #running = false;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    this.#running = true;
    const unsubscribe = this.#platform.subscribe((ev) => this.handle(ev));
    void this.refresh();
    void this.recommend();
    return () => {
      this.#running = false;
      unsubscribe();
    };
  }

  handle(ev: StudioEvent): void {
    if (ev.kind === 'school_changed') {
      void this.refresh();
      return;
    }
    if (ev.kind !== 'broadcast_stats') return;
    this.#ticks += 1;
    if (this.#ticks % REFRESH_TICKS === 0) void this.refresh();
  }

  async refresh(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      const snapshot = asSnapshot(await this.#platform.call('live_engagement', {}));
      if (!this.#running) return;
      this.snapshot = snapshot;
      this.offAir = false;
      this.error = null;
    } catch (err) {
      if (!this.#running) return;
      const error = toApiError(err);
      if (error.code === 'conflict') {
        this.offAir = true;
        this.snapshot = null;
        this.error = null;
      } else {
        this.error = error;
      }
    } finally {
      this.#inFlight = false;
    }
  }

  async recommend(): Promise<void> {
    if (this.recommending) return;
    this.recommending = true;
    try {
      const courses = await this.#platform.call('recommend_next', { sessionId: null });
      if (!this.#running) return;
      this.recommendations = courses;
      this.recommendationsError = null;
    } catch (err) {
      if (!this.#running) return;
      this.recommendationsError = toApiError(err);
    } finally {
      this.recommending = false;
    }
  }
}
