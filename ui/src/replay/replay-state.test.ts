import { describe, expect, it } from 'vitest';
import type { ReplayItem } from '../lib/bindings/api';
import { WatchMeter, clock, sessionFromPath, stateAt } from './replay-state';

const msg = (id: number, text: string) => ({ id, author: 'v-a', name: 'Ann', role: 'viewer' as const, text, sent_at: 0 });
const room = (offsetMs: number, seq: number, event: unknown): ReplayItem =>
  ({ kind: 'room', offsetMs, seq, record: { v: 1, at: offsetMs, by: null, client_id: null, event } }) as ReplayItem;

const items: ReplayItem[] = [
  room(1_000, 1, { type: 'chat_sent', message: msg(1, 'hello') }),
  room(2_000, 2, { type: 'poll_opened', poll: 1, question: 'Ready?', options: ['yes', 'no'], multiple: false, anonymous: false, quiz: false, deadline: null }),
  room(3_000, 3, { type: 'poll_closed', poll: 1 }),
  room(3_500, 4, { type: 'poll_revealed', poll: 1, totals: [3, 1], correct: null }),
  {
    kind: 'offer',
    offsetMs: 4_000,
    seq: 5,
    card: {
      offer: 'o1', course_id: 'c1', variant: 0, variant_name: 'A', title: 'Course', cta: 'Buy', price_cents: 1000,
      currency: 'EUR', discount_pct: 0, final_price_cents: 1000, checkout_url: 'https://shop.example/c1', exposed: false, clicked: false,
    },
  },
  room(5_000, 6, { type: 'offer_withdrawn', offer: 'o1', course_id: 'c1' }),
  room(6_000, 7, { type: 'chat_cleared' }),
];

describe('the replay at a moment', () => {
  it('shows what had happened by then, and seeking back undoes the rest', () => {
    expect(stateAt(items, 500).messages).toEqual([]);
    expect(stateAt(items, 1_000).messages.map((m) => m.text)).toEqual(['hello']);
    expect(stateAt(items, 2_500).poll).toMatchObject({ question: 'Ready?', open: true, totals: null });
    expect(stateAt(items, 3_200).poll).toMatchObject({ open: false, totals: null });
    expect(stateAt(items, 3_600).poll).toMatchObject({ open: false, totals: [3, 1] });
    expect(stateAt(items, 4_500).offer?.title).toBe('Course');
    expect(stateAt(items, 5_500).offer).toBeNull();
    expect(stateAt(items, 7_000).messages).toEqual([]);
    expect(stateAt(items, 1_500).poll).toBeNull();
  });

  it('reads the session from the address and writes times as a clock', () => {
    expect(sessionFromPath('/replay/12')).toBe(12);
    expect(sessionFromPath('/replay/x')).toBeNull();
    expect(clock(75_000)).toBe('1:15');
    expect(clock(3_725_000)).toBe('1:02:05');
  });
});

describe('WatchMeter', () => {
  it('counts the time played from the video clock, not seeks or pauses, and reports every 15 s', () => {
    const meter = new WatchMeter();
    const reports: number[] = [];
    const play = (from: number, to: number) => {
      for (let t = from; t <= to; t += 250) {
        const due = meter.tick(t);
        if (due !== null) reports.push(due);
      }
    };
    play(0, 10_000); // 10 s played
    meter.pause();
    play(60_000, 66_000); // a seek to 1:00, then 6 s more: 16 s in all, one report
    expect(reports).toEqual([15_000]);
    expect(meter.flush()).toBe(1_000);
    expect(meter.flush()).toBeNull();
    // A jump forward while "playing" (a seek without pause) is not watching.
    meter.tick(70_000);
    meter.tick(300_000);
    expect(meter.flush()).toBeNull();
  });
});
