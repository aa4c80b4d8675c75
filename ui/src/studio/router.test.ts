import { describe, expect, it } from 'vitest';
import { hrefFor, routeFromHash, ROUTES } from './router.svelte';

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
