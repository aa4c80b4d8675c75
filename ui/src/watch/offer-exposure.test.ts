import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney, discounted } from '../lib/room/money';
import { EXPOSURE_DWELL_MS, watchExposure, type ExposureDeps } from './offer-exposure';

/** A page with a fake clock, a fake observer and a fake visibility. */
function page() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  let onRatio: ((r: number) => void) | null = null;
  let onVisibility: (() => void) | null = null;
  let visible = true;
  const deps: ExposureDeps = {
    observe: (_el, fn) => {
      onRatio = fn;
      return () => (onRatio = null);
    },
    pageVisible: () => visible,
    onPageVisibility: (fn) => {
      onVisibility = fn;
      return () => (onVisibility = null);
    },
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => (timers = timers.filter((t) => t.id !== id)),
  };
  return {
    deps,
    ratio: (r: number) => onRatio?.(r),
    hide: (hidden: boolean) => {
      visible = !hidden;
      onVisibility?.();
    },
    advance(ms: number) {
      now += ms;
      for (const t of timers.filter((t) => t.at <= now)) {
        timers = timers.filter((x) => x.id !== t.id);
        t.fn();
      }
    },
    get watching() {
      return onRatio !== null;
    },
  };
}

const element = {} as Element;

describe('an offer card counts as seen', () => {
  it('after a second at least half on screen, once', () => {
    const p = page();
    let count = 0;
    watchExposure(element, () => (count += 1), p.deps);
    p.ratio(0.49);
    p.advance(5000);
    expect(count).toBe(0);
    p.ratio(0.5);
    p.advance(EXPOSURE_DWELL_MS - 1);
    expect(count).toBe(0);
    p.advance(1);
    expect(count).toBe(1);
    expect(p.watching).toBe(false);
    p.ratio(1);
    p.advance(5000);
    expect(count).toBe(1);
  });

  it('not when it is scrolled away before the second is up', () => {
    const p = page();
    let count = 0;
    watchExposure(element, () => (count += 1), p.deps);
    p.ratio(1);
    p.advance(900);
    p.ratio(0.2);
    p.advance(900);
    p.ratio(0.8);
    p.advance(900);
    expect(count).toBe(0);
    p.advance(100);
    expect(count).toBe(1);
  });

  it('not while the tab is in the background', () => {
    const p = page();
    let count = 0;
    watchExposure(element, () => (count += 1), p.deps);
    p.hide(true);
    p.ratio(1);
    p.advance(5000);
    expect(count).toBe(0);
    p.advance(500);
    p.hide(false);
    p.advance(600);
    p.hide(true);
    p.advance(600);
    expect(count).toBe(0);
    p.hide(false);
    p.advance(EXPOSURE_DWELL_MS);
    expect(count).toBe(1);
  });

  it('not after the card is gone', () => {
    const p = page();
    let count = 0;
    const stop = watchExposure(element, () => (count += 1), p.deps);
    p.ratio(1);
    p.advance(500);
    stop();
    p.advance(5000);
    expect(count).toBe(0);
    expect(p.watching).toBe(false);
  });
});

describe('prices', () => {
  it('reads what people type and discounts as the room does', () => {
    expect(parseMoney('49')).toBe(4900);
    expect(parseMoney(' 49.5 ')).toBe(4950);
    expect(parseMoney('39,90')).toBe(3990);
    expect(parseMoney('1,299.00')).toBe(129900);
    expect(parseMoney('1.299,00')).toBe(129900);
    expect(parseMoney('-3')).toBeNull();
    expect(parseMoney('4.999')).toBe(499900);
    expect(parseMoney('abc')).toBeNull();
    expect(discounted(4900, 20)).toBe(3920);
    expect(discounted(999, 15)).toBe(849);
    expect(formatMoney(3920, 'EUR', 'en-US')).toBe('€39.20');
    expect(formatMoney(100, 'XYZ1', 'en-US')).toBe('1.00 XYZ1');
  });
});
