import { describe, expect, it } from 'vitest';
import { emptyDraft, specFromDraft } from './poll-spec';

describe('specFromDraft', () => {
  it('builds a spec, leaving out empty options', () => {
    const draft = { ...emptyDraft(), question: ' Which key? ', options: ['G', '', 'D', ' '], durationSecs: 60 };
    expect(specFromDraft(draft)).toEqual({
      spec: { question: 'Which key?', options: ['G', 'D'], multiple: false, anonymous: false, correct: null, duration_secs: 60 },
    });
  });

  it('maps the correct answers onto the options that remain', () => {
    const draft = { ...emptyDraft(), question: 'Q', options: ['', 'A', 'B'], quiz: true, correct: [2] };
    expect(specFromDraft(draft)).toMatchObject({ spec: { options: ['A', 'B'], correct: [1] } });
  });

  it('names the problem to fix', () => {
    expect(specFromDraft(emptyDraft())).toEqual({ problem: 'Write the question.' });
    expect(specFromDraft({ ...emptyDraft(), question: 'Q', options: ['A'] })).toMatchObject({ problem: /at least 2/ });
    expect(specFromDraft({ ...emptyDraft(), question: 'Q', options: ['A', 'A'] })).toMatchObject({ problem: /same/ });
    expect(specFromDraft({ ...emptyDraft(), question: 'Q', options: ['A', 'B'], quiz: true })).toMatchObject({ problem: /correct/ });
    expect(
      specFromDraft({ ...emptyDraft(), question: 'Q', options: ['A', 'B'], quiz: true, anonymous: true, correct: [0] }),
    ).toMatchObject({ problem: /anonymous/ });
    expect(
      specFromDraft({ ...emptyDraft(), question: 'Q', options: ['A', 'B'], quiz: true, correct: [0, 1] }),
    ).toMatchObject({ problem: /one correct/ });
    expect(specFromDraft({ ...emptyDraft(), question: 'Q', options: Array.from({ length: 11 }, (_, i) => `o${i}`) })).toMatchObject({
      problem: /at most 10/,
    });
  });

  it('carries a quiz’s skill tag, trimmed, and refuses one the room would', () => {
    const quiz = { ...emptyDraft(), question: 'Q', options: ['A', 'B'], quiz: true, correct: [0] };
    expect(specFromDraft({ ...quiz, skill: ' docker ' })).toMatchObject({ spec: { skill: 'docker' } });
    expect(specFromDraft({ ...quiz, skill: '' })).not.toHaveProperty('spec.skill');
    expect(specFromDraft({ ...quiz, skill: 'c++' })).toMatchObject({ problem: /skill/ });
    expect(specFromDraft({ ...quiz, skill: 'x'.repeat(41) })).toMatchObject({ problem: /skill/ });
    expect(specFromDraft({ ...quiz, quiz: false, correct: [], skill: 'docker' })).not.toHaveProperty('spec.skill');
  });
});
