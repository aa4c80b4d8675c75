import { describe, expect, it } from 'vitest';
import { fetchPublicInfo, PublicInfoUnavailable } from './public';

describe('fetchPublicInfo', () => {
  it('GETs /api/v1/public without a key and returns the school and live state', async () => {
    const urls: string[] = [];
    const info = await fetchPublicInfo(async (url, init) => {
      urls.push(String(url));
      expect(init?.method ?? 'GET').toBe('GET');
      expect(JSON.stringify(init?.headers ?? {})).not.toContain('authorization');
      return new Response(JSON.stringify({ schoolName: 'Demo School', live: true }));
    });
    expect(urls).toEqual(['/api/v1/public']);
    expect(info).toEqual({ schoolName: 'Demo School', live: true, chatRetentionDays: null, whepUrl: null, iceServers: [] });
  });

  it('says how long chat is kept when the instructor set it', async () => {
    const info = await fetchPublicInfo(async () => new Response(JSON.stringify({ schoolName: 'S', live: false, chatRetentionDays: 30 })));
    expect(info.chatRetentionDays).toBe(30);
    // While the class is relayed, the page plays from the relay server's WHEP URL...
    const relayed = await fetchPublicInfo(async () => new Response(JSON.stringify({ schoolName: 'S', live: true, whepUrl: 'https://sfu.example.org/whep' })));
    expect(relayed.whepUrl).toBe('https://sfu.example.org/whep');
    // ...and never from something that is not an http(s) address.
    await expect(fetchPublicInfo(async () => new Response(JSON.stringify({ schoolName: 'S', live: true, whepUrl: 'javascript:alert(1)' })))).rejects.toBeInstanceOf(PublicInfoUnavailable);
    await expect(fetchPublicInfo(async () => new Response(JSON.stringify({ schoolName: 'S', live: false, chatRetentionDays: -1 })))).rejects.toBeInstanceOf(
      PublicInfoUnavailable,
    );
  });

  it('refuses an answer of the wrong shape or status', async () => {
    await expect(fetchPublicInfo(async () => new Response('{"live":"yes"}'))).rejects.toBeInstanceOf(
      PublicInfoUnavailable,
    );
    await expect(fetchPublicInfo(async () => new Response('oops', { status: 503 }))).rejects.toThrow('HTTP 503');
  });
});
