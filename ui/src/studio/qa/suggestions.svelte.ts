// The answer assistant beside students' questions: one suggestion per question (Q&A) or per
// message (chat), asked for once.
import type { AnswerSuggestion } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** What the assistant said about one question or message. */
export type SuggestionState =
  | { state: 'asking' }
  | { state: 'none'; known: number }
  | { state: 'found'; suggestion: AnswerSuggestion }
  | { state: 'failed'; message: string };

/** Where students wrote: in chat only a message that reads as a question gets a suggestion. */
export type AskedIn = 'qa' | 'chat';

export class SuggestionsStore {
  /** By question id (Q&A) or message id (chat). */
  byId = $state<Record<number, SuggestionState>>({});
  #platform: Platform;
  #asked: AskedIn;

  constructor(platform: Platform, asked: AskedIn = 'qa') {
    this.#platform = platform;
    this.#asked = asked;
  }

  /** Asks once per id (a question's or message's text never changes). */
  async ask(id: number, text: string): Promise<void> {
    if (this.byId[id] !== undefined) return;
    this.byId[id] = { state: 'asking' };
    try {
      const answer = await this.#platform.call('suggest_answer', this.#asked === 'chat' ? { text, chat: true } : { text });
      this.byId[id] = answer.suggestion ? { state: 'found', suggestion: answer.suggestion } : { state: 'none', known: answer.known };
    } catch (err) {
      this.byId[id] = { state: 'failed', message: toApiError(err).message };
    }
  }
}

/** "the school's FAQ, line 2 · 82% sure": where a suggestion comes from and how sure the assistant is. */
export function suggestionLabel(s: AnswerSuggestion): string {
  return `${s.source} · ${Math.round(s.confidence * 100)}% sure`;
}
