import { describe, expect, it } from 'vitest';
import { hrefFor, routeFromHash, ROUTES, screenFor } from './router.svelte';

describe('routeFromHash', () => {
  it('maps each screen fragment to its route and back', () => {
    for (const route of ROUTES) expect(routeFromHash(hrefFor(route))).toBe(route);
  });

  it('falls back to home for anything else, including the key fragment', () => {
    expect(routeFromHash('')).toBe('home');
    expect(routeFromHash('#key=abc123')).toBe('home');
    expect(routeFromHash('#/nowhere')).toBe('home');
    expect(routeFromHash('#/settings/')).toBe('settings');
  });
});

describe('screenFor', () => {
  it('gives a TA only the moderation screens, the chat by default', () => {
    expect(screenFor('polls', true)).toBe('polls');
    expect(screenFor('qa', true)).toBe('qa');
    expect(screenFor('home', true)).toBe('chat');
    expect(screenFor('team', true)).toBe('chat');
    expect(screenFor('settings', true)).toBe('chat');
  });

  it('leaves the instructor where they asked', () => {
    for (const route of ROUTES) expect(screenFor(route, false)).toBe(route);
  });
});
