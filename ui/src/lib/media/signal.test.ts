import { describe, expect, it } from 'vitest';
import { peerConfig } from './signal';

describe('peerConfig', () => {
  it('gives the peer the studio\'s STUN and TURN servers and nothing else', () => {
    expect(peerConfig([])).toEqual({});
    expect(peerConfig(['stun:stun.example.org:3478', 'turns:turn.example.org?transport=tcp'])).toEqual({
      iceServers: [{ urls: 'stun:stun.example.org:3478' }, { urls: 'turns:turn.example.org?transport=tcp' }],
    });
    expect(peerConfig(['javascript:alert(1)', 'https://example.org', 'stun: spaced', 'STUN:upper.example.org'])).toEqual({
      iceServers: [{ urls: 'STUN:upper.example.org' }],
    });
  });
});
