import type { ApiError, Commands } from '../bindings/api';
import { apiErrorFromHttp } from './errors';
import { EventSocket, type SocketLike } from './event-socket';
import { takeKey } from './key';
import type { Platform } from './types';

export interface WebPlatformDeps {
  /** The studio key, sent as a bearer token and in the event socket's auth message. */
  key: string | null;
  /** Prefix of the command endpoints, e.g. `/api/v1`. */
  apiBase: string;
  /** Absolute ws:/wss: URL of the event socket. */
  eventsUrl: string;
  fetch: typeof fetch;
  openSocket: (url: string) => SocketLike;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

/** The platform for a plain browser: commands over HTTP, events over one WebSocket. */
export function createWebPlatform(deps: WebPlatformDeps): Platform {
  const events = new EventSocket({
    url: deps.eventsUrl,
    key: deps.key,
    openSocket: deps.openSocket,
    setTimeout: deps.setTimeout,
    clearTimeout: deps.clearTimeout,
  });

  async function call<C extends keyof Commands>(
    command: C,
    args: Commands[C]['args'],
  ): Promise<Commands[C]['result']> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (deps.key !== null) headers.authorization = `Bearer ${deps.key}`;
    let response: Response;
    let body: string;
    try {
      response = await deps.fetch(`${deps.apiBase}/${command}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(args ?? {}),
      });
      body = await response.text();
    } catch (err) {
      const detail = err instanceof Error && err.message ? ` (${err.message})` : '';
      throw { code: 'internal', message: `Could not reach the studio${detail}` } satisfies ApiError;
    }
    if (!response.ok) throw apiErrorFromHttp(response.status, body);
    try {
      return JSON.parse(body) as Commands[C]['result'];
    } catch {
      throw { code: 'internal', message: `HTTP ${response.status}: the answer was not JSON` } satisfies ApiError;
    }
  }

  return {
    kind: 'web',
    call,
    // Without a key the socket could never authenticate, so do not keep knocking.
    subscribe: (onEvent) => (deps.key === null ? () => {} : events.subscribe(onEvent)),
    roomKey: () => deps.key,
  };
}

/** The web platform wired to this page: its origin, its key, the browser's fetch and WebSocket. */
export function createBrowserWebPlatform(): Platform {
  let storage: Storage | null = null;
  try {
    storage = window.sessionStorage;
  } catch {
    storage = null;
  }
  const key = takeKey({ location: window.location, history: window.history, storage });
  const wsScheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWebPlatform({
    key,
    apiBase: '/api/v1',
    eventsUrl: `${wsScheme}//${window.location.host}/api/v1/events`,
    fetch: (input, init) => window.fetch(input, init),
    openSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (handle) => window.clearTimeout(handle as number),
  });
}
