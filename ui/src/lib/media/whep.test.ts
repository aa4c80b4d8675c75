import { describe, expect, it } from 'vitest';
import { FakeFetch, FakePeer, FakeTimers, flush } from './fakes';
import { MediaSessionError } from './signal';
import { retryDelayMs, WhepPlayer, type PlayerState } from './whep';

const ENDPOINT = 'http://127.0.0.1:7878/whep';

function setup(replies: FakeFetch['replies'] = [], extra: { headers?: Record<string, string> } = {}) {
  const http = new FakeFetch();
  http.replies = replies;
  const timers = new FakeTimers();
  const peers: FakePeer[] = [];
  const states: PlayerState[] = [];
  const player = new WhepPlayer(
    {
      endpoint: ENDPOINT,
      ...extra,
      fetch: http.fetch,
      createPeer: () => {
        const peer = new FakePeer();
        peers.push(peer);
        return peer as unknown as RTCPeerConnection;
      },
      timers,
    },
    { state: (s) => states.push(s) },
  );
  return { http, timers, peers, states, player };
}

describe('retryDelayMs', () => {
  it('doubles from 1 s and stops at 10 s', () => {
    expect([0, 1, 2, 3, 4, 5, 50, 1e9].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000]);
    expect(retryDelayMs(-1)).toBe(1000);
    expect(retryDelayMs(Number.NaN)).toBe(1000);
  });
});

describe('WhepPlayer', () => {
  it('posts a receive-only offer and goes live when media arrives', async () => {
    const { http, timers, peers, states, player } = setup([{ status: 201, body: 'v=0 answer', location: '/whep/00aa' }]);
    player.start();
    await flush();
    const [post] = http.posts();
    expect(post.url).toBe(ENDPOINT);
    expect(post.headers['Content-Type']).toBe('application/sdp');
    expect(post.headers['X-Lectern-Browser-Key']).toBeUndefined();
    // The offer carries the gathered candidates (non-trickle).
    expect(post.body).toContain('a=candidate:1');
    expect(peers[0].transceivers.map((t) => [t.what, t.init])).toEqual([
      ['video', { direction: 'recvonly' }],
      ['audio', { direction: 'recvonly' }],
    ]);
    expect(peers[0].remoteDescription).toEqual({ type: 'answer', sdp: 'v=0 answer' });
    expect(player.state).toBe('connecting');
    peers[0].connect();
    peers[0].receive(1000, 1000);
    await timers.advance(1000);
    expect(states).toEqual(['connecting', 'live']);
  });

  it('says offline when connected but nothing is broadcast, and live again when media comes', async () => {
    const { timers, peers, player } = setup();
    player.start();
    await flush();
    peers[0].connect();
    await timers.advance(2000);
    expect(player.state).toBe('connecting');
    await timers.advance(1000);
    expect(player.state).toBe('offline');
    peers[0].receive(500, 4000);
    await timers.advance(1000);
    expect(player.state).toBe('live');
    // The source stops: three quiet seconds later the viewer is waiting, on the same session.
    await timers.advance(3000);
    expect(player.state).toBe('offline');
    expect(player.sessions).toBe(1);
  });

  it('retries a refused or unreachable server with backoff 1 s, 2 s, 4 s', async () => {
    const { http, timers, states, player } = setup([
      'network',
      { status: 500, body: '{"code":"webrtc","message":"boom"}' },
      { status: 400, body: '{"code":"unsupported_codec","message":"no VP8"}' },
      { status: 201, body: 'v=0 answer', location: '/whep/01' },
    ]);
    player.start();
    await flush();
    expect(player.state).toBe('reconnecting');
    expect(player.lastError?.code).toBe('network');
    expect(timers.delays()).toEqual([1000]);
    await timers.advance(1000);
    expect(http.posts()).toHaveLength(2);
    expect(player.lastError).toBeInstanceOf(MediaSessionError);
    expect(player.lastError?.code).toBe('webrtc');
    expect(player.lastError?.status).toBe(500);
    expect(timers.delays()).toEqual([2000]);
    await timers.advance(2000);
    expect(player.lastError?.code).toBe('unsupported_codec');
    expect(player.lastError?.message).toBe('no VP8');
    expect(timers.delays()).toEqual([4000]);
    await timers.advance(4000);
    expect(http.posts()).toHaveLength(4);
    expect(states).toEqual(['connecting', 'reconnecting']);
  });

  it('caps the backoff at 10 s and resets it once media flows', async () => {
    const { timers, peers, player } = setup(['network']);
    player.start();
    await flush();
    const waits: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const [wait] = timers.delays();
      waits.push(wait);
      await timers.advance(wait);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
    expect(peers.every((p, i) => i === peers.length - 1 || p.closed)).toBe(true);
  });

  it('replaces a failed connection with a new session and deletes the old one', async () => {
    const { http, timers, peers, player } = setup([
      { status: 201, body: 'a1', location: '/whep/aa' },
      { status: 201, body: 'a2', location: '/whep/bb' },
    ]);
    player.start();
    await flush();
    peers[0].connect();
    peers[0].receive(100, 1000);
    await timers.advance(1000);
    expect(player.state).toBe('live');
    peers[0].connect('failed');
    await flush();
    expect(player.state).toBe('reconnecting');
    expect(peers[0].closed).toBe(true);
    expect(http.deletes()).toEqual(['http://127.0.0.1:7878/whep/aa']);
    // Media had flowed, so the first retry waits the shortest time.
    expect(timers.delays()).toEqual([1000]);
    await timers.advance(1000);
    expect(peers).toHaveLength(2);
    peers[1].connect();
    peers[1].receive(100, 3000);
    await timers.advance(1000);
    expect(player.state).toBe('live');
  });

  it('says reconnecting as soon as a playing session drops, and replaces it if it stays down', async () => {
    const { timers, peers, player } = setup();
    player.start();
    await flush();
    peers[0].connect();
    peers[0].receive(100, 1000);
    await timers.advance(1000);
    peers[0].connect('disconnected');
    expect(player.state).toBe('reconnecting');
    await timers.advance(3000);
    expect(player.sessions).toBe(1);
    await timers.advance(1000);
    expect(peers[0].closed).toBe(true);
    await timers.advance(1000);
    expect(player.sessions).toBe(2);
  });

  it('keeps a dropped session that recovers by itself', async () => {
    const { timers, peers, player } = setup();
    player.start();
    await flush();
    peers[0].connect();
    peers[0].receive(100, 1000);
    await timers.advance(1000);
    peers[0].connect('disconnected');
    await timers.advance(2000);
    peers[0].connect('connected');
    peers[0].receive(100, 4000);
    await timers.advance(1000);
    expect(player.state).toBe('live');
    expect(player.sessions).toBe(1);
  });

  it('gives up on a session that never connects', async () => {
    const { timers, peers, player } = setup();
    player.start();
    await flush();
    await timers.advance(8000);
    expect(player.state).toBe('reconnecting');
    expect(peers[0].closed).toBe(true);
  });

  it('sends the candidates found so far when gathering takes more than 2 s', async () => {
    const http = new FakeFetch();
    const timers = new FakeTimers();
    const peer = new FakePeer();
    peer.gathers = false;
    const player = new WhepPlayer({ endpoint: ENDPOINT, fetch: http.fetch, createPeer: () => peer as unknown as RTCPeerConnection, timers });
    player.start();
    await timers.advance(1999);
    expect(http.posts()).toHaveLength(0);
    await timers.advance(1);
    expect(http.posts()).toHaveLength(1);
  });

  it('stops: deletes the session, closes the peer, and schedules nothing', async () => {
    const { http, timers, peers, states, player } = setup([{ status: 201, body: 'a', location: '/whep/cc' }]);
    player.start();
    await flush();
    player.stop();
    expect(player.state).toBe('idle');
    expect(peers[0].closed).toBe(true);
    await flush();
    expect(http.deletes()).toEqual(['http://127.0.0.1:7878/whep/cc']);
    expect(timers.delays()).toEqual([]);
    expect(states.at(-1)).toBe('idle');
  });

  it('reports stats once a tick', async () => {
    const { timers, peers } = setup();
    const seen: number[] = [];
    const http = new FakeFetch();
    const player = new WhepPlayer(
      { endpoint: ENDPOINT, fetch: http.fetch, createPeer: () => peers[0] as unknown as RTCPeerConnection, timers },
      { stats: (s) => seen.push(s.framesDecoded) },
    );
    peers.push(new FakePeer());
    player.start();
    await flush();
    peers[0].connect();
    peers[0].receive(100, 1000);
    await timers.advance(1000);
    peers[0].receive(100, 2000);
    await timers.advance(1000);
    expect(seen).toEqual([30, 60]);
  });
});

describe('WhepPlayer headers', () => {
  it('sends the page\'s extra headers with the offer, and keeps the content type', async () => {
    const { http, player } = setup([{ status: 201, body: 'v=0 answer', location: '/whep/00aa' }], { headers: { 'X-Lectern-Browser-Key': 'k'.repeat(32), 'Content-Type': 'text/plain' } });
    player.start();
    await flush();
    const [post] = http.posts();
    expect(post.headers['X-Lectern-Browser-Key']).toBe('k'.repeat(32));
    expect(post.headers['Content-Type']).toBe('application/sdp');
  });
});
