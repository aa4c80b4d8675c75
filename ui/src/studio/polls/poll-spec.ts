// The poll editor's form, and the spec it becomes: checked here against the room's limits so
// people see what to fix before sending; the room checks again and has the last word.
import {
  MAX_POLL_DURATION_SECS,
  MAX_POLL_OPTION_LENGTH,
  MAX_POLL_OPTIONS,
  MAX_POLL_QUESTION_LENGTH,
  MIN_POLL_OPTIONS,
  type PollSpec,
} from '../../lib/room/protocol';
import { graphemeCount } from '../../lib/room/text';

export interface PollDraft {
  question: string;
  options: string[];
  multiple: boolean;
  anonymous: boolean;
  quiz: boolean;
  /** Indexes into `options`. */
  correct: number[];
  /** 0 for no timer. */
  durationSecs: number;
  /** Quizzes: the skill the question checks (a course tag); empty for none. */
  skill: string;
}

/** A skill tag as the room accepts it. */
export const SKILL_PATTERN = /^[A-Za-z0-9_\- ]{1,40}$/;

export function emptyDraft(): PollDraft {
  return { question: '', options: ['', ''], multiple: false, anonymous: false, quiz: false, correct: [], durationSecs: 0, skill: '' };
}

/** The spec for a draft, or the first problem to fix. */
export function specFromDraft(draft: PollDraft): { spec: PollSpec } | { problem: string } {
  const question = draft.question.trim();
  if (question === '') return { problem: 'Write the question.' };
  if (graphemeCount(question) > MAX_POLL_QUESTION_LENGTH) {
    return { problem: `The question can have at most ${MAX_POLL_QUESTION_LENGTH} characters.` };
  }
  // Empty option fields are left out; the correct answers follow the options that remain.
  const kept = draft.options.map((text, i) => ({ text: text.trim(), i })).filter((o) => o.text !== '');
  if (kept.length < MIN_POLL_OPTIONS) return { problem: `Give at least ${MIN_POLL_OPTIONS} options.` };
  if (kept.length > MAX_POLL_OPTIONS) return { problem: `Give at most ${MAX_POLL_OPTIONS} options.` };
  if (kept.some((o) => graphemeCount(o.text) > MAX_POLL_OPTION_LENGTH)) {
    return { problem: `An option can have at most ${MAX_POLL_OPTION_LENGTH} characters.` };
  }
  if (new Set(kept.map((o) => o.text)).size !== kept.length) return { problem: 'Two options are the same.' };
  let correct: number[] | null = null;
  if (draft.quiz) {
    if (draft.anonymous) return { problem: 'A quiz cannot be anonymous: scores need to know who answered.' };
    correct = kept.flatMap((o, index) => (draft.correct.includes(o.i) ? [index] : []));
    if (correct.length === 0) return { problem: 'Mark the correct answer.' };
    if (!draft.multiple && correct.length > 1) return { problem: 'A single-choice quiz has one correct answer.' };
  }
  const skill = draft.quiz ? draft.skill.trim() : '';
  if (skill !== '' && !SKILL_PATTERN.test(skill)) {
    return { problem: 'A skill is 1 to 40 letters, digits, spaces, _ or - (a course tag).' };
  }
  const duration = Math.round(draft.durationSecs);
  if (duration < 0 || duration > MAX_POLL_DURATION_SECS) return { problem: 'The timer can be at most an hour.' };
  return {
    spec: {
      question,
      options: kept.map((o) => o.text),
      multiple: draft.multiple,
      anonymous: draft.anonymous,
      correct,
      duration_secs: duration === 0 ? null : duration,
      ...(skill === '' ? {} : { skill }),
    },
  };
}
