import { describe, expect, it } from 'vitest';
import type { ModeratorLinkInfo } from '../../lib/bindings/api';
import { fullLinkUrl, linkStatus } from './team.svelte';

const link = (over: Partial<ModeratorLinkInfo>): ModeratorLinkInfo => ({
  id: 1,
  label: 'Priya',
  createdAtMs: 0,
  expiresAtMs: 1,
  revokedAtMs: null,
  active: true,
  ...over,
});

describe('team', () => {
  it('names a link active, expired or revoked', () => {
    expect(linkStatus(link({}))).toBe('active');
    expect(linkStatus(link({ active: false }))).toBe('expired');
    expect(linkStatus(link({ active: false, revokedAtMs: 5 }))).toBe('revoked');
  });

  it('puts the origin in front of the path', () => {
    expect(fullLinkUrl('http://127.0.0.1:7878/', '/studio#mod=lm_ab')).toBe('http://127.0.0.1:7878/studio#mod=lm_ab');
    expect(fullLinkUrl('http://127.0.0.1:7878', 'studio#mod=x')).toBe('http://127.0.0.1:7878/studio#mod=x');
  });
});
