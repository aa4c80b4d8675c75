import type { ApiError, BroadcastStatus, SetBroadcast, SetRelay } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';
import type { OverviewStore } from '../home/overview.svelte';

/** A class's title: 1 to 200 characters (as the engine counts them). */
export const MAX_CLASS_TITLE = 200;

/** How often the Broadcast screen asks for the stream's status while it is shown. */
/** A fallback read, for when no `broadcast_stats` event arrives (the engine sends one a second). */
export const STATUS_POLL_MS = 10_000;

export interface PollTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/**
 * Starting and ending the class. Whether a class is live is the overview's `live` (one source);
 * this store holds only the pending command and its failure.
 */
export class BroadcastStore {
  pending = $state<'start' | 'end' | null>(null);
  error = $state<ApiError | null>(null);

  /** The stream (source, codecs, viewers, publish key); null until first read. */
  status = $state<BroadcastStatus | null>(null);
  /** The last failure to read the status or change a setting. */
  statusError = $state<ApiError | null>(null);
  /** Which broadcast setting is being changed. */
  setting = $state<string | null>(null);

  readonly #platform: Platform;
  readonly #overview: OverviewStore;
  readonly #timers: PollTimers;
  #watchers = 0;
  #timer: unknown = null;
  #unsubscribe: (() => void) | null = null;
  #inFlight = false;
  // Each read takes a ticket; an answer older than the last applied one is dropped.
  #ticket = 0;
  #applied = 0;

  constructor(platform: Platform, overview: OverviewStore, timers: PollTimers = globalThis) {
    this.#platform = platform;
    this.#overview = overview;
    this.#timers = timers;
  }

  /** The studio's base URLs (loopback first), for the WHIP address shown to OBS. */
  get urls(): string[] {
    return this.#overview.data?.network.urls ?? [];
  }

  /** Where students reach the studio behind a reverse proxy, if it is behind one. */
  get publicUrl(): string | null {
    return this.#overview.data?.network.publicUrl ?? null;
  }

  /**
   * Reads the status now and every {@link STATUS_POLL_MS} while at least one screen watches
   * (the media engine sends no events for viewers coming and going). Returns the stop function.
   */
  watchStatus(): () => void {
    this.#watchers += 1;
    if (this.#watchers === 1) {
      // The engine's once-a-second numbers keep the screen current without asking.
      this.#unsubscribe = this.#platform.subscribe((ev) => {
        if (ev.kind === 'broadcast_stats') this.#apply(++this.#ticket, ev.status);
      });
    }
    if (this.#watchers === 1 && !this.#inFlight && this.#timer === null) void this.#poll();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.#watchers -= 1;
      if (this.#watchers === 0) {
        this.#unsubscribe?.();
        this.#unsubscribe = null;
      }
      if (this.#watchers === 0 && this.#timer !== null) {
        this.#timers.clearTimeout(this.#timer);
        this.#timer = null;
      }
    };
  }

  async #poll(): Promise<void> {
    this.#timer = null;
    this.#inFlight = true;
    await this.refreshStatus();
    this.#inFlight = false;
    if (this.#watchers > 0 && this.#timer === null) {
      this.#timer = this.#timers.setTimeout(() => void this.#poll(), STATUS_POLL_MS);
    }
  }

  async refreshStatus(): Promise<void> {
    const ticket = ++this.#ticket;
    try {
      const status = await this.#platform.call('broadcast_status', {});
      this.#apply(ticket, status);
      if (this.setting === null) this.statusError = null;
    } catch (err) {
      if (ticket > this.#applied) this.statusError = toApiError(err);
    }
  }

  /** Turns "replace the live publisher" or the test card on or off. */
  async setBroadcast(change: 'replacePublisher' | 'testCard', on: boolean): Promise<boolean> {
    const args: SetBroadcast = { replacePublisher: null, testCard: null, uplinkKbps: null };
    args[change] = on;
    return this.#change(change, () => this.#platform.call('set_broadcast', args));
  }

  /** Sets the upload budget in kbit/s (null or 0 removes it). */
  async setUplink(kbps: number | null): Promise<boolean> {
    const args: SetBroadcast = { replacePublisher: null, testCard: null, uplinkKbps: kbps ?? 0 };
    return this.#change('uplink', () => this.#platform.call('set_broadcast', args));
  }

  /** Replaces the publish key with a new random one: publishers with the old key are refused. */
  async rotatePublishKey(): Promise<boolean> {
    return this.#change('publish-key', () => this.#platform.call('rotate_publish_key', {}));
  }

  /**
   * Starts (or replaces) the relay to an external WHIP server, or stops it with a null URL.
   * `playbackUrl` is that server's WHEP URL: while the relay is live, viewer pages play from it.
   */
  async setRelay(url: string | null, token: string | null, playbackUrl: string | null = null, allowPrivateAddress = false): Promise<boolean> {
    const trimmed = url?.trim() ?? '';
    const playback = playbackUrl?.trim() ?? '';
    const args: SetRelay = {
      url: trimmed === '' ? null : trimmed,
      token: token?.trim() ? token.trim() : null,
      playbackUrl: trimmed !== '' && playback !== '' ? playback : null,
      ...(allowPrivateAddress ? { allowPrivateAddress: true } : {}),
    };
    return this.#change('relay', () => this.#platform.call('set_relay', args));
  }

  /** One setting change at a time; the answer is the new status, a refusal is kept as the error. */
  async #change(what: string, call: () => Promise<BroadcastStatus>): Promise<boolean> {
    if (this.setting !== null) return false;
    this.setting = what;
    const ticket = ++this.#ticket;
    try {
      this.#apply(ticket, await call());
      this.statusError = null;
      return true;
    } catch (err) {
      this.statusError = toApiError(err);
      return false;
    } finally {
      this.setting = null;
    }
  }

  dismissStatusError(): void {
    this.statusError = null;
  }

  #apply(ticket: number, status: BroadcastStatus): void {
    if (ticket < this.#applied) return;
    this.#applied = ticket;
    this.status = status;
  }

  /**
   * Starts a class; `courseId` and `instructor` are optional (classes are compared per course and per instructor);
   * `record: false` keeps this one class out of the recordings.
   */
  async start(title: string, courseId: string | null = null, instructor = '', record = true): Promise<boolean> {
    if (this.pending !== null) return false;
    this.pending = 'start';
    try {
      const who = instructor.trim();
      this.#overview.applyLive(
        await this.#platform.call('start_class', {
          title: title.trim(),
          courseId: courseId || null,
          instructor: who === '' ? null : who,
          record,
        }),
      );
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
