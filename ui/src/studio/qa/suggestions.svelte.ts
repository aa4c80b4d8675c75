// The answer assistant beside the Q&A board: one suggestion per question, asked for once.
import type { AnswerSuggestion } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** What the assistant said about one question. */
export type SuggestionState =
  | { state: 'asking' }
  | { state: 'none'; known: number }
  | { state: 'found'; suggestion: AnswerSuggestion }
  | { state: 'failed'; message: string };

export class SuggestionsStore {
  /** By question id. */
  byQuestion = $state<Record<number, SuggestionState>>({});
  #platform: Platform;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  /** Asks once per question (a question's text never changes). */
  async ask(question: number, text: string): Promise<void> {
    if (this.byQuestion[question] !== undefined) return;
    this.byQuestion[question] = { state: 'asking' };
    try {
      const answer = await this.#platform.call('suggest_answer', { text });
      this.byQuestion[question] = answer.suggestion
        ? { state: 'found', suggestion: answer.suggestion }
        : { state: 'none', known: answer.known };
    } catch (err) {
      this.byQuestion[question] = { state: 'failed', message: toApiError(err).message };
    }
  }
}

/** "FAQ · 82% sure": where a suggestion comes from and how sure the assistant is. */
export function suggestionLabel(s: AnswerSuggestion): string {
  return `From ${s.source} · ${Math.round(s.confidence * 100)}% sure`;
}
