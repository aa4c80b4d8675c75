import type { ApiError, Commands } from '../bindings/api';
import { apiErrorFromHttp } from './errors';
import { EventSocket, type SocketLike } from './event-socket';
import { KEY_STORAGE_NAME, takeKey, type KeySources } from './key';
import type { Platform } from './types';

export interface WebPlatformDeps {
  /** The studio key, sent as a bearer token and in the event socket's auth message. */
  key: string | null;
  /** Prefix of the command endpoints, e.g. `/api/v1`. */
  apiBase: string;
  /** Absolute ws:/wss: URL of the event socket. */
  eventsUrl: string;
  /** Absolute ws:/wss: URL of the live room (`/room`). */
  roomUrl: string;
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
    roomTransport: () =>
      deps.key === null ? null : { url: deps.roomUrl, open: deps.openSocket, key: deps.key },
    // A browser publishes over WHIP (`/publish`), not through the window's encoder path.
    windowSource: () => null,
  };
}

/** Where a TA's moderator token is kept for the life of the browser tab. */
export const MODERATOR_STORAGE_NAME = 'lectern.mod';

/** A token's shape as the page accepts it; the server decides whether it is valid. */
const TOKEN_SHAPE = /^lm_[0-9a-z]{1,128}$/i;

export interface StudioCredential {
  /** Sent as the bearer token and as the room's `key`. */
  key: string | null;
  /** `owner` for `#key=` (the instructor), `moderator` for `#mod=` (a TA's link). */
  kind: 'owner' | 'moderator' | null;
}

interface CredentialSources extends KeySources {
  storage: (KeySources['storage'] & Pick<Storage, 'removeItem'>) | null;
}

/**
 * Reads this page's credential once at start. `/studio#mod=<token>` is a TA's moderator link:
 * the token is kept in session storage and wiped from the address bar like the owner key.
 * A malformed token is kept as a token that cannot work (`lm_`), so the server refuses it and
 * the page says the link is not valid, rather than silently opening as something else.
 */
export function takeStudioCredential(sources: CredentialSources): StudioCredential {
  const { location, history, storage } = sources;
  const params = new URLSearchParams(location.hash.startsWith('#') ? location.hash.slice(1) : location.hash);
  const remember = (name: string, value: string | null) => {
    try {
      if (value === null) storage?.removeItem(name);
      else storage?.setItem(name, value);
    } catch {
      // Storage can be disabled; the credential still works for this page load.
    }
  };
  if (params.has('mod')) {
    const given = params.get('mod') ?? '';
    const token = TOKEN_SHAPE.test(given) ? given : 'lm_';
    params.delete('mod');
    params.delete('key');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest === '' ? '' : `#${rest}`));
    remember(MODERATOR_STORAGE_NAME, token);
    remember(KEY_STORAGE_NAME, null);
    return { key: token, kind: 'moderator' };
  }
  if (!params.has('key')) {
    let stored: string | null = null;
    try {
      stored = storage?.getItem(MODERATOR_STORAGE_NAME) ?? null;
    } catch {
      stored = null;
    }
    if (stored !== null && TOKEN_SHAPE.test(stored)) return { key: stored, kind: 'moderator' };
  } else {
    remember(MODERATOR_STORAGE_NAME, null);
  }
  const key = takeKey(sources);
  return { key, kind: key === null ? null : 'owner' };
}

/** The web platform wired to this page: its origin, its key, the browser's fetch and WebSocket. */
export function createBrowserWebPlatform(): Platform {
  let storage: Storage | null = null;
  try {
    storage = window.sessionStorage;
  } catch {
    storage = null;
  }
  const { key } = takeStudioCredential({ location: window.location, history: window.history, storage });
  const wsScheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWebPlatform({
    key,
    apiBase: '/api/v1',
    eventsUrl: `${wsScheme}//${window.location.host}/api/v1/events`,
    roomUrl: `${wsScheme}//${window.location.host}/room`,
    fetch: (input, init) => window.fetch(input, init),
    openSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (handle) => window.clearTimeout(handle as number),
  });
}
