// The viewer's WHEP client: one receive-only session at a time, replaced with backoff whenever
// it fails, so a dropped network or a restarted studio heals without the viewer doing anything.
import { endSession, MediaSessionError, negotiate, type Fetch } from './signal';
import { summarizeStats, type MediaStats } from './stats';

/**
 * - `idle`: not started (or stopped).
 * - `connecting`: the first session is being set up.
 * - `live`: media is arriving.
 * - `reconnecting`: the session failed or dropped; a new one is on its way (with backoff).
 * - `offline`: connected to the studio, but nothing is being broadcast (waiting for the class).
 */
export type PlayerState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'offline';

/** The first retry waits this long. */
export const RETRY_MIN_MS = 1000;
/** No retry waits longer than this. */
export const RETRY_MAX_MS = 10_000;

/** The wait before retry number `attempt` (0 for the first): 1 s, 2 s, 4 s, 8 s, then 10 s. */
export function retryDelayMs(attempt: number): number {
  if (!(attempt > 0)) return RETRY_MIN_MS;
  return Math.min(RETRY_MIN_MS * 2 ** Math.min(Math.floor(attempt), 30), RETRY_MAX_MS);
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export interface WhepOptions {
  /** The absolute URL of `/whep`. */
  endpoint: string;
  /**
   * Extra request headers of the offer (our viewer page names its browser, for presence), read
   * again for each offer, so a reconnect carries what the page learned since.
   */
  headers?: Record<string, string> | (() => Record<string, string>);
  fetch: Fetch;
  createPeer: () => RTCPeerConnection;
  timers?: Timers;
  /** How often stats are read (and media flow is checked). */
  tickMs?: number;
  /** Ticks without new media, while connected, before the state is `offline`. */
  quietTicks?: number;
  /** Ticks a new session may take to connect before it is replaced. */
  stallTicks?: number;
  /** Ticks a dropped (`disconnected`) session may take to recover before it is replaced. */
  dropTicks?: number;
  gatherTimeoutMs?: number;
}

export interface WhepListener {
  state?(state: PlayerState): void;
  /** The tracks of the current session (empty when it ends). */
  tracks?(tracks: MediaStreamTrack[]): void;
  stats?(stats: MediaStats): void;
}

interface Session {
  pc: RTCPeerConnection;
  url: string | null;
  tracks: MediaStreamTrack[];
  stats: MediaStats | null;
  quiet: number;
  unconnected: number;
  flowed: boolean;
}

export class WhepPlayer {
  #state: PlayerState = 'idle';
  /** The last failure (its code and message), cleared when media flows. */
  lastError: MediaSessionError | null = null;
  /** Sessions opened so far (for tests and stats). */
  sessions = 0;

  readonly #o: Required<Omit<WhepOptions, 'gatherTimeoutMs'>> & { gatherTimeoutMs?: number };
  readonly #listener: WhepListener;
  #session: Session | null = null;
  #attempt = 0;
  #timer: unknown = null;
  #tick: unknown = null;
  /** Bumped on every start and stop, so callbacks of an old session do nothing. */
  #generation = 0;

  constructor(options: WhepOptions, listener: WhepListener = {}) {
    this.#o = { timers: globalThis, tickMs: 1000, quietTicks: 3, stallTicks: 8, dropTicks: 4, headers: {}, ...options };
    this.#listener = listener;
  }

  get state(): PlayerState {
    return this.#state;
  }

  /** Starts playing (does nothing if already started). */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#attempt = 0;
    this.#set('connecting');
    void this.#open();
  }

  /** Ends the session (DELETE) and stays idle until `start`. */
  stop(): void {
    this.#generation += 1;
    this.#clearTimers();
    this.#close();
    this.#set('idle');
  }

  /** Gives up waiting for the next retry and tries at once. */
  retryNow(): void {
    if (this.#state !== 'reconnecting' || this.#timer === null) return;
    this.#o.timers.clearTimeout(this.#timer);
    this.#timer = null;
    void this.#open();
  }

  #set(state: PlayerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#listener.state?.(state);
  }

  async #open(): Promise<void> {
    const generation = ++this.#generation;
    const pc = this.#o.createPeer();
    const session: Session = { pc, url: null, tracks: [], stats: null, quiet: 0, unconnected: 0, flowed: false };
    this.#session = session;
    this.sessions += 1;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addEventListener('track', (event) => {
      if (generation !== this.#generation) return;
      session.tracks = [...session.tracks, (event as RTCTrackEvent).track];
      this.#listener.tracks?.(session.tracks);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (generation !== this.#generation) return;
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.#fail(null);
      // ICE may still recover by itself; say so meanwhile, and replace the session if it does not.
      else if (pc.connectionState === 'disconnected' && session.flowed) this.#set('reconnecting');
    });
    try {
      session.url = await negotiate({
        pc,
        endpoint: this.#o.endpoint,
        fetch: this.#o.fetch,
        headers: typeof this.#o.headers === 'function' ? this.#o.headers() : this.#o.headers,
        gatherTimeoutMs: this.#o.gatherTimeoutMs,
        timers: this.#o.timers as Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'>,
      });
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#fail(err instanceof MediaSessionError ? err : new MediaSessionError(0, 'webrtc', String(err)));
      return;
    }
    if (generation !== this.#generation) {
      // Stopped while the answer was on its way: end the session the server just made.
      void endSession(this.#o.fetch, session.url);
      return;
    }
    this.#scheduleTick(generation);
  }

  #scheduleTick(generation: number): void {
    this.#tick = this.#o.timers.setTimeout(() => void this.#onTick(generation), this.#o.tickMs);
  }

  async #onTick(generation: number): Promise<void> {
    const session = this.#session;
    if (generation !== this.#generation || session === null) return;
    let stats: MediaStats;
    try {
      stats = summarizeStats(await session.pc.getStats(), session.stats);
    } catch {
      if (generation === this.#generation) this.#fail(null);
      return;
    }
    if (generation !== this.#generation) return;
    const flowing = stats.bytesReceived > (session.stats?.bytesReceived ?? 0);
    session.stats = stats;
    this.#listener.stats?.(stats);
    const connected = session.pc.connectionState === 'connected';
    session.unconnected = connected ? 0 : session.unconnected + 1;
    if (flowing && connected) {
      session.quiet = 0;
      session.flowed = true;
      this.#attempt = 0;
      this.lastError = null;
      this.#set('live');
    } else if (connected) {
      session.quiet += 1;
      if (session.quiet >= this.#o.quietTicks) this.#set('offline');
    } else if (session.unconnected >= (session.flowed ? this.#o.dropTicks : this.#o.stallTicks)) {
      // Never connected, or disconnected too long: start over with a new session.
      this.#fail(null);
      return;
    }
    this.#scheduleTick(generation);
  }

  /** Ends the current session and schedules a new one after the backoff. */
  #fail(error: MediaSessionError | null): void {
    if (error) this.lastError = error;
    this.#generation += 1;
    this.#clearTimers();
    this.#close();
    this.#set('reconnecting');
    const delay = retryDelayMs(this.#attempt);
    this.#attempt += 1;
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = null;
      void this.#open();
    }, delay);
  }

  #close(): void {
    const session = this.#session;
    this.#session = null;
    if (!session) return;
    if (session.tracks.length > 0) this.#listener.tracks?.([]);
    try {
      session.pc.close();
    } catch {
      // Already closed.
    }
    if (session.url) void endSession(this.#o.fetch, session.url);
  }

  #clearTimers(): void {
    if (this.#timer !== null) this.#o.timers.clearTimeout(this.#timer);
    if (this.#tick !== null) this.#o.timers.clearTimeout(this.#tick);
    this.#timer = null;
    this.#tick = null;
  }
}
