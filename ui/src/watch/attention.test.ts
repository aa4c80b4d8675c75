import { describe, expect, it } from 'vitest';
import { AttentionReporter, SETTLE_MS } from './attention';

function setup() {
  let visible = true;
  const sent: boolean[] = [];
  let listener: (() => void) | null = null;
  const timers = new Map<number, () => void>();
  let next = 1;
  const reporter = new AttentionReporter({
    send: (v) => {
      sent.push(v);
      return true;
    },
    visible: () => visible,
    onChange: (l) => {
      listener = l;
      return () => (listener = null);
    },
    setTimeout: (fn) => {
      timers.set(next, fn);
      return next++;
    },
    clearTimeout: (h) => timers.delete(h as number),
  });
  return {
    reporter,
    sent,
    set: (v: boolean) => {
      visible = v;
      listener?.();
    },
    elapse: () => {
      const due = [...timers.values()];
      timers.clear();
      for (const fn of due) fn();
    },
    listening: () => listener !== null,
  };
}

describe('sharing whether the tab is in view', () => {
  it('sends the state at the start and each change once it has settled', () => {
    const t = setup();
    t.reporter.start();
    expect(t.sent).toEqual([true]);
    t.set(false);
    expect(t.sent).toEqual([true]);
    t.elapse();
    expect(t.sent).toEqual([true, false]);
    expect(SETTLE_MS).toBeGreaterThan(1000);
  });

  it('sends nothing for a flicker that comes back before it settles', () => {
    const t = setup();
    t.reporter.start();
    t.set(false);
    t.set(true);
    t.elapse();
    expect(t.sent).toEqual([true]);
  });

  it('takes back a hidden state when the viewer stops sharing, and stops listening', () => {
    const t = setup();
    t.reporter.start();
    t.set(false);
    t.elapse();
    t.reporter.stop();
    expect(t.sent).toEqual([true, false, true]);
    expect(t.listening()).toBe(false);
    expect(t.reporter.running).toBe(false);
  });
});
