import { describe, expect, it } from 'vitest';
import type { StudioEvent } from '../bindings/api';
import type { SocketLike } from './event-socket';
import { KEY_STORAGE_NAME } from './key';
import { createWebPlatform, MODERATOR_STORAGE_NAME, takeStudioCredential, type WebPlatformDeps } from './web';

class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
  // What the server does:
  open() {
    this.onopen?.({});
  }
  receive(message: unknown) {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }
  drop() {
    this.onclose?.({});
  }
}

/** Timers run only when the test says so, and their delays are recorded. */
class ManualTimers {
  pending: { fn: () => void; ms: number; id: number }[] = [];
  delays: number[] = [];
  #next = 1;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.#next++;
    this.pending.push({ fn, ms, id });
    this.delays.push(ms);
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.pending = this.pending.filter((t) => t.id !== id);
  };
  runAll() {
    const due = this.pending;
    this.pending = [];
    for (const t of due) t.fn();
  }
}

function setup(fetchImpl: typeof fetch = () => Promise.reject(new Error('no fetch'))) {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  const deps: WebPlatformDeps = {
    key: 'abc123',
    apiBase: '/api/v1',
    eventsUrl: 'ws://127.0.0.1:7480/api/v1/events',
    roomUrl: 'ws://127.0.0.1:7480/room',
    fetch: fetchImpl,
    openSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  };
  return { platform: createWebPlatform(deps), sockets, timers };
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

describe('web platform: commands', () => {
  it('POSTs the args as JSON with the bearer key and returns the JSON body', async () => {
    const requests: { url: string; init: RequestInit | undefined }[] = [];
    const { platform } = setup(async (url, init) => {
      requests.push({ url: String(url), init });
      return jsonResponse(200, { lanOpen: true, bind: '0.0.0.0:7480', urls: [] });
    });

    const result = await platform.call('set_network_access', { lanOpen: true });

    expect(result).toEqual({ lanOpen: true, bind: '0.0.0.0:7480', urls: [] });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe('/api/v1/set_network_access');
    expect(requests[0]!.init?.method).toBe('POST');
    expect(requests[0]!.init?.headers).toEqual({
      'content-type': 'application/json',
      authorization: 'Bearer abc123',
    });
    expect(requests[0]!.init?.body).toBe('{"lanOpen":true}');
  });

  it('rejects with the ApiError of a non-2xx answer', async () => {
    const { platform } = setup(async () => jsonResponse(401, { code: 'unauthorized', message: 'Wrong key' }));
    await expect(platform.call('overview', {})).rejects.toEqual({ code: 'unauthorized', message: 'Wrong key' });
  });

  it('rejects with "HTTP <status>" when the error body is not JSON', async () => {
    const { platform } = setup(async () => new Response('<h1>Not Found</h1>', { status: 404 }));
    await expect(platform.call('overview', {})).rejects.toEqual({ code: 'internal', message: 'HTTP 404' });
  });

  it('rejects with an ApiError when the network fails', async () => {
    const { platform } = setup(async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(platform.call('overview', {})).rejects.toMatchObject({ code: 'internal' });
  });
});

describe('web platform: events', () => {
  it('authenticates first and delivers events only after "ready"', () => {
    const { platform, sockets } = setup();
    const seen: StudioEvent[] = [];
    platform.subscribe((ev) => seen.push(ev));

    expect(sockets).toHaveLength(1);
    const socket = sockets[0]!;
    expect(socket.url).toBe('ws://127.0.0.1:7480/api/v1/events');
    socket.open();
    expect(socket.sent.map((s) => JSON.parse(s))).toEqual([{ type: 'auth', key: 'abc123' }]);

    socket.receive({ kind: 'school_changed' }); // before ready: ignored
    socket.receive({ type: 'ready' });
    socket.receive({ kind: 'backup_progress', done: 1, total: 4 });
    socket.receive({ kind: 'something_newer' }); // unknown kind: dropped
    socket.receive('not json');

    expect(seen).toEqual([{ kind: 'backup_progress', done: 1, total: 4 }]);
  });

  it('shares one socket between subscribers and closes it after the last leaves', () => {
    const { platform, sockets } = setup();
    const stopA = platform.subscribe(() => {});
    const stopB = platform.subscribe(() => {});
    expect(sockets).toHaveLength(1);
    stopA();
    expect(sockets[0]!.closed).toBe(false);
    stopB();
    expect(sockets[0]!.closed).toBe(true);
  });

  it('reconnects with growing delays and announces school_changed once ready again', () => {
    const { platform, sockets, timers } = setup();
    const seen: StudioEvent[] = [];
    platform.subscribe((ev) => seen.push(ev));

    sockets[0]!.open();
    sockets[0]!.receive({ type: 'ready' });
    sockets[0]!.drop();
    timers.runAll();
    sockets[1]!.drop(); // fails before ready
    timers.runAll();
    sockets[2]!.open();
    expect(seen).toEqual([]);
    sockets[2]!.receive({ type: 'ready' });

    expect(timers.delays).toEqual([500, 1000]);
    expect(seen).toEqual([{ kind: 'school_changed' }]);
    expect(sockets[2]!.sent.map((s) => JSON.parse(s))).toEqual([{ type: 'auth', key: 'abc123' }]);

    // A success resets the schedule.
    sockets[2]!.drop();
    expect(timers.delays).toEqual([500, 1000, 500]);
  });

  it('stops reconnecting once nobody listens', () => {
    const { platform, sockets, timers } = setup();
    const stop = platform.subscribe(() => {});
    sockets[0]!.drop();
    expect(timers.pending).toHaveLength(1);
    stop();
    expect(timers.pending).toHaveLength(0);
    timers.runAll();
    expect(sockets).toHaveLength(1);
  });
});

describe('web platform without a key', () => {
  it('opens no event socket, since it could not authenticate', () => {
    const sockets: unknown[] = [];
    const platform = createWebPlatform({
      key: null,
      apiBase: '/api/v1',
      eventsUrl: 'ws://127.0.0.1/api/v1/events',
      roomUrl: 'ws://127.0.0.1/room',
      fetch: () => Promise.reject(new Error('unused')),
      openSocket: (url) => {
        sockets.push(url);
        throw new Error('should not open');
      },
      setTimeout: () => 0,
      clearTimeout: () => {},
    });
    const stop = platform.subscribe(() => {});
    stop();
    expect(sockets).toEqual([]);
  });

  it('sends no authorization header', async () => {
    let headers: unknown;
    const platform = createWebPlatform({
      key: null,
      apiBase: '/api/v1',
      eventsUrl: 'ws://127.0.0.1/api/v1/events',
      roomUrl: 'ws://127.0.0.1/room',
      fetch: async (_url, init) => {
        headers = init?.headers;
        return new Response('{"code":"unauthorized","message":"No key"}', { status: 401 });
      },
      openSocket: () => {
        throw new Error('unused');
      },
      setTimeout: () => 0,
      clearTimeout: () => {},
    });
    await expect(platform.call('overview', {})).rejects.toEqual({ code: 'unauthorized', message: 'No key' });
    expect(headers).toEqual({ 'content-type': 'application/json' });
  });
});

describe('takeStudioCredential', () => {
  function sources(hash: string, initial: Record<string, string> = {}) {
    const data = new Map(Object.entries(initial));
    const replaced: string[] = [];
    return {
      data,
      replaced,
      location: { hash, pathname: '/studio', search: '' },
      history: { replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) },
      storage: {
        getItem: (name: string) => data.get(name) ?? null,
        setItem: (name: string, value: string) => void data.set(name, value),
        removeItem: (name: string) => void data.delete(name),
      },
    };
  }
  const token = `lm_${'ab'.repeat(32)}`;

  it('takes a moderator token from #mod=, keeps it for the tab and wipes it from the address bar', () => {
    const s = sources(`#mod=${token}`, { [KEY_STORAGE_NAME]: 'deadbeef' });
    expect(takeStudioCredential(s)).toEqual({ key: token, kind: 'moderator' });
    expect(s.replaced).toEqual(['/studio']);
    expect(s.data.get(MODERATOR_STORAGE_NAME)).toBe(token);
    expect(s.data.has(KEY_STORAGE_NAME)).toBe(false);
  });

  it('keeps the TA after a reload', () => {
    const s = sources('#/polls', { [MODERATOR_STORAGE_NAME]: token });
    expect(takeStudioCredential(s)).toEqual({ key: token, kind: 'moderator' });
  });

  it('turns a malformed token into one the server refuses, never into the owner key', () => {
    const s = sources('#mod=<script>', { [KEY_STORAGE_NAME]: 'deadbeef' });
    expect(takeStudioCredential(s)).toEqual({ key: 'lm_', kind: 'moderator' });
  });

  it('an owner link replaces a stored moderator token', () => {
    const s = sources('#key=deadbeef', { [MODERATOR_STORAGE_NAME]: token });
    expect(takeStudioCredential(s)).toEqual({ key: 'deadbeef', kind: 'owner' });
    expect(s.data.has(MODERATOR_STORAGE_NAME)).toBe(false);
  });

  it('has no credential without a link', () => {
    expect(takeStudioCredential(sources(''))).toEqual({ key: null, kind: null });
  });
});
