import { describe, expect, it } from 'vitest';
import { FakePlatform } from '../../test-support/fake-platform';
import { SuggestionsStore, suggestionLabel } from './suggestions.svelte';

describe('the answer assistant beside the Q&A board', () => {
  it('asks once per question and keeps what it said', async () => {
    const platform = new FakePlatform().on('suggest_answer', (args) =>
      (args as { text: string }).text.includes('refund')
        ? { suggestion: { answer: 'Within 14 days.', question: 'How do I get a refund?', source: "the school's FAQ, line 2", confidence: 0.83 }, known: 80 }
        : { suggestion: null, known: 80 },
    );
    const store = new SuggestionsStore(platform);
    await store.ask(1, 'can I get a refund?');
    await store.ask(1, 'can I get a refund?');
    await store.ask(2, 'hello!');
    expect(platform.calls.filter((c) => c.command === 'suggest_answer')).toHaveLength(2);
    const found = store.byId[1];
    expect(found?.state).toBe('found');
    if (found?.state === 'found') expect(suggestionLabel(found.suggestion)).toBe("the school's FAQ, line 2 · 83% sure");
    expect(store.byId[2]).toEqual({ state: 'none', known: 80 });
  });

  it('asks about chat messages as chat, so remarks get none', async () => {
    const platform = new FakePlatform().on('suggest_answer', () => ({ suggestion: null, known: 80 }));
    const store = new SuggestionsStore(platform, 'chat');
    await store.ask(7, 'great class');
    expect(platform.calls).toEqual([{ command: 'suggest_answer', args: { text: 'great class', chat: true } }]);
    expect(store.byId[7]).toEqual({ state: 'none', known: 80 });
  });

  it('says when asking failed', async () => {
    const platform = new FakePlatform().fail('suggest_answer', { code: 'unauthorized', message: 'no key' });
    const store = new SuggestionsStore(platform);
    await store.ask(3, 'where are the slides?');
    expect(store.byId[3]).toEqual({ state: 'failed', message: 'no key' });
  });
});
