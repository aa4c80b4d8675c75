import { describe, expect, it } from 'vitest';
import { FakeFetch, FakePeer, flush } from './fakes';
import { preferCodecs, WhipPublisher, type PublishState } from './whip';

const ENDPOINT = 'http://127.0.0.1:7878/whip';

function fakeStream() {
  const tracks = [{ kind: 'video' }, { kind: 'audio' }];
  return { getTracks: () => tracks } as unknown as MediaStream;
}

function setup(replies: FakeFetch['replies']) {
  const http = new FakeFetch();
  http.replies = replies;
  const peer = new FakePeer();
  const states: PublishState[] = [];
  const publisher = new WhipPublisher(
    { endpoint: ENDPOINT, publishKey: 'k3y', fetch: http.fetch, createPeer: () => peer as unknown as RTCPeerConnection },
    (s) => states.push(s),
  );
  return { http, peer, states, publisher };
}

describe('WhipPublisher', () => {
  it('posts the offer with the key, sends every track, and is live once connected', async () => {
    const { http, peer, states, publisher } = setup([{ status: 201, body: 'answer', location: '/whip/0123' }]);
    await publisher.start(fakeStream());
    const [post] = http.posts();
    expect(post.headers.Authorization).toBe('Bearer k3y');
    expect(post.headers['Content-Type']).toBe('application/sdp');
    expect(peer.transceivers.map((t) => (t.init as RTCRtpTransceiverInit).direction)).toEqual(['sendonly', 'sendonly']);
    expect(publisher.state).toBe('connecting');
    peer.connect();
    expect(states).toEqual(['connecting', 'live']);
    await publisher.stop();
    expect(http.calls.at(-1)).toMatchObject({ method: 'DELETE', url: 'http://127.0.0.1:7878/whip/0123', headers: { Authorization: 'Bearer k3y' } });
    expect(peer.closed).toBe(true);
    expect(publisher.state).toBe('idle');
  });

  it('switches sources while live on the same connection, and says when it cannot', async () => {
    const { http, peer, publisher } = setup([{ status: 201, body: 'answer', location: '/whip/0123' }]);
    expect(await publisher.replaceTracks(fakeStream())).toBe(false);
    await publisher.start(fakeStream());
    peer.connect();
    const screen = { kind: 'video', label: 'screen' };
    const mic = { kind: 'audio', label: 'mic 2' };
    const next = { getTracks: () => [screen, mic] } as unknown as MediaStream;
    expect(await publisher.replaceTracks(next)).toBe(true);
    expect(peer.senders.map((s) => s.track)).toEqual([screen, mic]);
    expect(http.posts()).toHaveLength(1);
    // Video only now: the microphone's sender sends nothing.
    expect(await publisher.replaceTracks({ getTracks: () => [screen] } as unknown as MediaStream)).toBe(true);
    expect(peer.senders.map((s) => s.track)).toEqual([screen, null]);
    expect(publisher.state).toBe('live');
    await publisher.stop();
    expect(await publisher.replaceTracks(next)).toBe(false);
  });

  it('says no to a kind the broadcast was not started with', async () => {
    const { peer, publisher } = setup([{ status: 201, body: 'answer', location: '/whip/0123' }]);
    const audioOnly = { getTracks: () => [{ kind: 'audio' }] } as unknown as MediaStream;
    await publisher.start(audioOnly);
    peer.connect();
    expect(await publisher.replaceTracks(fakeStream())).toBe(false);
  });

  it('keeps the server code of a refusal: a wrong key, another publisher', async () => {
    for (const [status, code] of [
      [401, 'unauthorized'],
      [409, 'publisher_exists'],
    ] as const) {
      const { peer, publisher } = setup([{ status, body: JSON.stringify({ code, message: 'no' }) }]);
      await publisher.start(fakeStream());
      expect(publisher.state).toBe('failed');
      expect(publisher.error?.status).toBe(status);
      expect(publisher.error?.code).toBe(code);
      expect(peer.closed).toBe(true);
    }
  });

  it('falls back to the HTTP status when the body is not JSON', async () => {
    const { publisher } = setup([{ status: 502, body: '<html>' }]);
    await publisher.start(fakeStream());
    expect(publisher.error?.code).toBe('http_502');
  });

  it('reports a dropped connection and deletes the session', async () => {
    const { http, peer, publisher } = setup([{ status: 201, body: 'answer', location: '/whip/0a' }]);
    await publisher.start(fakeStream());
    peer.connect();
    peer.connect('failed');
    await flush();
    expect(publisher.state).toBe('failed');
    expect(publisher.error?.code).toBe('connection_lost');
    expect(http.deletes()).toEqual(['http://127.0.0.1:7878/whip/0a']);
  });

  it('puts VP8 then H.264 first', () => {
    const codecs = [{ mimeType: 'video/VP9' }, { mimeType: 'video/H264' }, { mimeType: 'video/rtx' }, { mimeType: 'video/VP8' }] as RTCRtpCodec[];
    expect(preferCodecs(codecs).map((c) => c.mimeType)).toEqual(['video/VP8', 'video/H264', 'video/VP9', 'video/rtx']);
  });
});
