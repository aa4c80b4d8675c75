// One WebSocket to `/room`, reopened after a capped backoff when it drops.
import { reconnectDelayMs } from '../platform/backoff';
import type { SocketLike } from '../platform/event-socket';
import {
  CLOSE_BAD_HELLO,
  CLOSE_NOT_LIVE,
  CLOSE_REFUSED,
  CLOSE_UNAUTHORIZED,
  parseServerMessage,
  ROOM_PROTOCOL_VERSION,
  type Hello,
  type ServerMessage,
} from './protocol';
import type { LearnerLink } from '../bindings/room';

/** Where `/room` is for a page at `location` (ws: or wss: like the page). */
export function roomUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/room`;
}

export interface HelloParts {
  name: string;
  browserKey: string;
  ownerKey: string | null;
  /** The last event applied, when reconnecting; null on a first join. */
  lastSeq: number | null;
  /** The session that number belongs to (the server ignores it for another class). */
  session?: number | null;
  /** The personal join link the page was opened with, if any. */
  learnerLink?: LearnerLink | null;
}

/** The first frame of every connection. */
export function buildHello({ name, browserKey, ownerKey, lastSeq, session, learnerLink }: HelloParts): Hello {
  const hello: Hello = { type: 'hello', v: ROOM_PROTOCOL_VERSION };
  // A student without a key the school issued sends none and gets one in the welcome.
  if (browserKey !== '') hello.browser_key = browserKey;
  const trimmed = name.trim();
  if (trimmed !== '') hello.name = trimmed;
  if (ownerKey !== null && ownerKey !== '') hello.key = ownerKey;
  if (lastSeq !== null && lastSeq >= 0) {
    hello.last_seq = lastSeq;
    if (session !== undefined && session !== null) hello.session = session;
  }
  if (learnerLink !== undefined && learnerLink !== null) hello.learner_link = learnerLink;
  return hello;
}

/** Why the connection stopped for good (no reconnect): the caller decides what to show. */
export type StopReason = 'not_live' | 'refused' | 'unauthorized' | 'bad_hello';

export function stopReasonFor(code: number): StopReason | null {
  switch (code) {
    case CLOSE_NOT_LIVE:
      return 'not_live';
    case CLOSE_REFUSED:
      return 'refused';
    case CLOSE_UNAUTHORIZED:
      return 'unauthorized';
    case CLOSE_BAD_HELLO:
      return 'bad_hello';
    default:
      return null;
  }
}

export interface RoomConnectionDeps {
  url: string;
  openSocket: (url: string) => SocketLike;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  /** Called at every (re)connect for the hello to send. */
  hello: () => Hello;
  onMessage: (message: ServerMessage) => void;
  /** The socket dropped (with this close code) and will be reopened after `delayMs`. */
  onDrop: (delayMs: number, code: number) => void;
  /** The server closed for a reason a retry would not change. */
  onStop: (reason: StopReason) => void;
}

export class RoomConnection {
  readonly #deps: RoomConnectionDeps;
  #socket: SocketLike | null = null;
  #timer: unknown = null;
  #attempt = 0;
  #running = false;

  constructor(deps: RoomConnectionDeps) {
    this.#deps = deps;
  }

  get open(): boolean {
    return this.#socket !== null;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    this.#connect();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) {
      this.#deps.clearTimeout(this.#timer);
      this.#timer = null;
    }
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onerror = null;
      socket.close(1000, 'left');
    }
  }

  /** Sends one frame; false when there is no open socket. */
  send(frame: unknown): boolean {
    if (this.#socket === null) return false;
    try {
      this.#socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  #connect(): void {
    this.#timer = null;
    let socket: SocketLike;
    try {
      socket = this.#deps.openSocket(this.#deps.url);
    } catch {
      this.#retry(1006);
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (this.#socket === socket) socket.send(JSON.stringify(this.#deps.hello()));
    };
    socket.onmessage = (ev) => {
      if (this.#socket !== socket) return;
      const message = parseServerMessage(ev.data);
      if (message === null) return;
      if (message.type === 'welcome') this.#attempt = 0;
      this.#deps.onMessage(message);
    };
    socket.onclose = (ev) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      const code = typeof (ev as { code?: unknown })?.code === 'number' ? (ev as { code: number }).code : 1006;
      const reason = stopReasonFor(code);
      if (reason !== null) {
        this.#running = false;
        this.#deps.onStop(reason);
      } else {
        this.#retry(code);
      }
    };
    // An error is always followed by a close, which decides what happens next.
    socket.onerror = () => {};
  }

  #retry(code: number): void {
    if (!this.#running || this.#timer !== null) return;
    const delay = reconnectDelayMs(this.#attempt);
    this.#attempt += 1;
    this.#deps.onDrop(delay, code);
    this.#timer = this.#deps.setTimeout(() => this.#connect(), delay);
  }
}
