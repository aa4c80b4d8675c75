import { describe, expect, it } from 'vitest';
import { sourceLabel, studioBase } from './stream-text';

describe('studioBase', () => {
  it('uses the page origin over HTTP, and the loopback URL in the desktop window', () => {
    expect(studioBase({ protocol: 'http:', origin: 'http://127.0.0.1:7878' }, ['http://x/'])).toBe('http://127.0.0.1:7878/');
    expect(studioBase({ protocol: 'tauri:', origin: 'tauri://localhost' }, ['http://127.0.0.1:7878', 'http://192.168.1.4:7878'])).toBe('http://127.0.0.1:7878/');
    expect(studioBase({ protocol: 'tauri:', origin: 'tauri://localhost' }, [])).toBe('');
  });

  it('uses the public address behind a reverse proxy, in the window and in a page', () => {
    const publicUrl = 'https://class.school.example';
    expect(studioBase({ protocol: 'tauri:', origin: 'tauri://localhost' }, ['http://127.0.0.1:7878'], publicUrl)).toBe(`${publicUrl}/`);
    expect(studioBase({ protocol: 'http:', origin: 'http://127.0.0.1:7878' }, [], `${publicUrl}/`)).toBe(`${publicUrl}/`);
  });
});

describe('sourceLabel', () => {
  it('names each source', () => {
    expect(sourceLabel('publisher')).toMatch(/Publisher/);
    expect(sourceLabel('test_card')).toBe('Test card');
    expect(sourceLabel(null)).toMatch(/Nothing/);
  });
});
