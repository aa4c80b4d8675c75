import type { StudioEvent } from '../bindings/api';
import { reconnectDelayMs } from './backoff';
import { isStudioEvent } from './studio-event';

/** The part of a browser `WebSocket` the event socket uses (a fake stands in for it in tests). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface EventSocketDeps {
  url: string;
  key: string | null;
  openSocket: (url: string) => SocketLike;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

type Listener = (ev: StudioEvent) => void;

/**
 * One WebSocket to `/api/v1/events`, shared by every subscriber and open only while there
 * is one. Protocol: send `{"type":"auth","key":...}`, wait for `{"type":"ready"}`, then each
 * message is one `StudioEvent`. A dropped socket is reopened after a capped exponential
 * backoff; once it is ready again a synthetic `school_changed` tells stores to refetch
 * whatever they missed in between.
 */
export class EventSocket {
  readonly #deps: EventSocketDeps;
  readonly #listeners = new Set<Listener>();
  #socket: SocketLike | null = null;
  #timer: unknown = null;
  #attempt = 0;
  #ready = false;
  #wasReadyBefore = false;

  constructor(deps: EventSocketDeps) {
    this.#deps = deps;
  }

  subscribe(listener: Listener): () => void {
    // Wrap so the same function can subscribe twice and unsubscribe each independently.
    const entry: Listener = (ev) => listener(ev);
    this.#listeners.add(entry);
    if (this.#listeners.size === 1) this.#connect();
    return () => {
      if (!this.#listeners.delete(entry)) return;
      if (this.#listeners.size === 0) this.#shutdown();
    };
  }

  #connect(): void {
    this.#timer = null;
    this.#ready = false;
    let socket: SocketLike;
    try {
      socket = this.#deps.openSocket(this.#deps.url);
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: 'auth', key: this.#deps.key ?? '' }));
    };
    socket.onmessage = (message) => {
      if (this.#socket === socket) this.#receive(message.data);
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#scheduleReconnect();
    };
    // An error is always followed by a close, which does the reconnecting.
    socket.onerror = () => {};
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!this.#ready) {
      if ((message as { type?: unknown } | null)?.type !== 'ready') return;
      this.#ready = true;
      this.#attempt = 0;
      if (this.#wasReadyBefore) this.#emit({ kind: 'school_changed' });
      this.#wasReadyBefore = true;
      return;
    }
    if (isStudioEvent(message)) this.#emit(message);
  }

  #emit(ev: StudioEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(ev);
      } catch (err) {
        console.error('A studio event listener failed', err);
      }
    }
  }

  #scheduleReconnect(): void {
    if (this.#listeners.size === 0 || this.#timer !== null) return;
    const delay = reconnectDelayMs(this.#attempt);
    this.#attempt += 1;
    this.#timer = this.#deps.setTimeout(() => this.#connect(), delay);
  }

  #shutdown(): void {
    if (this.#timer !== null) {
      this.#deps.clearTimeout(this.#timer);
      this.#timer = null;
    }
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close(1000, 'no subscribers');
    }
    this.#attempt = 0;
    this.#ready = false;
    this.#wasReadyBefore = false;
  }
}
