// What the replay page shows beside the video at a moment of it: the timeline's items up to
// that offset, folded in order. Pure, so seeking back and forth is just another call.
import type { ReplayItem } from '../lib/bindings/api';
import type { ChatMessage, OfferCard, Question, QuestionId } from '../lib/bindings/room';

/** A poll as students saw it at that moment. */
export interface ReplayPoll {
  id: number;
  question: string;
  options: string[];
  multiple: boolean;
  quiz: boolean;
  open: boolean;
  /** Totals once the instructor showed the results. */
  totals: number[] | null;
  correct: number[] | null;
}

export interface ReplayState {
  messages: ChatMessage[];
  pinned: ChatMessage | null;
  /** The latest poll, open or closed. */
  poll: ReplayPoll | null;
  /** Approved and answered questions, in the order they were asked. */
  questions: Question[];
  highlighted: QuestionId | null;
  offer: OfferCard | null;
  ended: boolean;
}

export function emptyState(): ReplayState {
  return { messages: [], pinned: null, poll: null, questions: [], highlighted: null, offer: null, ended: false };
}

function upsert(questions: Question[], question: Question): Question[] {
  const i = questions.findIndex((q) => q.id === question.id);
  if (i === -1) return [...questions, question];
  const next = questions.slice();
  next[i] = { ...questions[i]!, ...question };
  return next;
}

/** The state after every item at or before `offsetMs`. */
export function stateAt(items: readonly ReplayItem[], offsetMs: number): ReplayState {
  let s = emptyState();
  for (const item of items) {
    if (item.offsetMs > offsetMs) continue;
    s = apply(s, item);
  }
  return s;
}

function apply(s: ReplayState, item: ReplayItem): ReplayState {
  if (item.kind === 'offer') return { ...s, offer: item.card };
  const event = item.record.event;
  switch (event.type) {
    case 'chat_sent':
    case 'hold_approved':
      return { ...s, messages: [...s.messages, event.message] };
    case 'message_deleted':
      return {
        ...s,
        messages: s.messages.filter((m) => m.id !== event.message),
        pinned: s.pinned?.id === event.message ? null : s.pinned,
      };
    case 'message_pinned':
      return { ...s, pinned: event.message };
    case 'message_unpinned':
      return { ...s, pinned: null };
    case 'chat_cleared':
      return { ...s, messages: [], pinned: null };
    case 'poll_opened':
      return {
        ...s,
        poll: {
          id: event.poll,
          question: event.question,
          options: event.options,
          multiple: event.multiple,
          quiz: event.quiz,
          open: true,
          totals: null,
          correct: null,
        },
      };
    case 'poll_closed':
      return s.poll?.id === event.poll ? { ...s, poll: { ...s.poll, open: false } } : s;
    case 'poll_revealed':
      return s.poll?.id === event.poll
        ? { ...s, poll: { ...s.poll, open: false, totals: event.totals, correct: event.correct ?? null } }
        : s;
    case 'question_asked':
    case 'question_approved':
      return { ...s, questions: upsert(s.questions, event.question) };
    case 'question_upvoted':
      return { ...s, questions: s.questions.map((q) => (q.id === event.question ? { ...q, votes: event.votes } : q)) };
    case 'question_answered':
      return {
        ...s,
        questions: s.questions.map((q) =>
          q.id === event.question ? { ...q, state: 'answered', ...(event.answer === undefined ? {} : { answer: event.answer }) } : q,
        ),
      };
    case 'question_highlighted':
      return { ...s, highlighted: event.question };
    case 'offer_withdrawn':
      return s.offer?.offer === event.offer ? { ...s, offer: null } : s;
    case 'broadcast_ended':
      return { ...s, ended: true };
    default:
      return s;
  }
}

/** `/replay/12` -> 12; null for any other address. */
export function sessionFromPath(pathname: string): number | null {
  const match = /^\/replay\/(\d{1,15})\/?$/.exec(pathname);
  return match ? Number(match[1]) : null;
}

/** 75_000 -> "1:15", 3_725_000 -> "1:02:05". */
export function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** How much playing one `watch` report gathers before it is sent. */
export const WATCH_REPORT_MS = 15_000;

/**
 * Time a student actually played, read from the video's own clock: each forward step of less
 * than 2 s while playing counts; a seek (a jump either way) and the time paused do not. A
 * report is due every {@link WATCH_REPORT_MS} gathered, and at pause or when the page goes.
 */
export class WatchMeter {
  #last: number | null = null;
  #pending = 0;

  /** The video's time (ms) now, while it plays. Returns a stretch (ms) to report, or null. */
  tick(videoMs: number): number | null {
    const last = this.#last;
    this.#last = videoMs;
    if (last !== null) {
      const step = videoMs - last;
      if (step > 0 && step < 2_000) this.#pending += step;
    }
    return this.#pending >= WATCH_REPORT_MS ? this.flush() : null;
  }

  /** Playing stopped (pause, seek, end): the next tick starts a new stretch. */
  pause(): void {
    this.#last = null;
  }

  /** What is gathered and not yet reported (whole ms, at most a minute), or null. */
  flush(): number | null {
    const stretch = Math.min(Math.round(this.#pending), 60_000);
    this.#pending = 0;
    return stretch >= 1 ? stretch : null;
  }
}
