// The room as one participant sees it, and the pure rules that move it: a welcome snapshot
// replaces it, then each event is applied once, in `seq` order.
import type {
  Action,
  AutomaticAnswer,
  BackChannelNote,
  ChatMessage,
  ChatMode,
  Flag,
  Hold,
  MessageId,
  Offer,
  OfferCard,
  OfferTally,
  Poll,
  PollId,
  PollView,
  Question,
  QuestionId,
  Reaction,
  Recorded,
  Role,
  ServerMessage,
  Timestamp,
  ViewerId,
} from './protocol';

/** How many chat messages a client keeps (the snapshot brings the last 50). */
export const CHAT_KEPT = 200;
/** How many back-channel notes a staff client keeps. */
export const BACK_CHANNEL_KEPT = 100;
/** How many polls of this class a staff client lists. */
export const POLLS_KEPT = 50;

export interface RoomView {
  session: number;
  viewer: ViewerId;
  role: Role;
  name: string;
  /** The last event applied (the snapshot counts as every event up to its `seq`). */
  seq: number;
  /** False between a reconnecting welcome and its `caught_up`. */
  caughtUp: boolean;
  mode: ChatMode;
  blockedTerms: string[];
  pinned: ChatMessage | null;
  chat: ChatMessage[];
  /** Staff: the held-for-review queue. */
  held: Hold[];
  /** A viewer: their own messages waiting for review (known only from this connection's events). */
  ownHeld: ChatMessage[];
  timedOutUntil: Timestamp | null;
  banned: boolean;
  /** The open poll, or the last revealed one (what a viewer's card shows). */
  poll: PollView | null;
  /**
   * Staff: the polls of this class this client knows, oldest first: the snapshot's poll and
   * every poll created since joining (drafts included, with their correct answers).
   */
  polls: PollView[];
  /** Quiz points from revealed quizzes. */
  quizScore: number;
  /** The Q&A board as this participant may see it (staff also see pending questions). */
  questions: Question[];
  highlighted: QuestionId | null;
  /** Questions this participant upvoted. */
  upvoted: QuestionId[];
  /** Staff: the back channel, oldest first. */
  backChannel: BackChannelNote[];
  /** Staff: open flags. */
  flags: Flag[];
  /** A viewer's live offer card. */
  offer: OfferCard | null;
  /** Staff: every offer of the class. */
  offers: Offer[];
  /** The latest second of reactions the room reported. */
  reactions: { second: Timestamp; counts: [Reaction, number][] } | null;
  ended: boolean;
}

type Welcome = Extract<ServerMessage, { type: 'welcome' }>;

/** The view a welcome describes. Every welcome replaces the whole view (see `seq`). */
export function viewFromWelcome(welcome: Welcome): RoomView {
  const s = welcome.snapshot;
  return {
    session: welcome.session,
    viewer: welcome.viewer,
    role: welcome.role,
    name: s.you.name,
    seq: welcome.seq,
    caughtUp: true,
    mode: { ...s.settings.mode },
    blockedTerms: [...s.settings.blocked_terms],
    pinned: s.pinned,
    chat: s.chat.slice(-CHAT_KEPT),
    held: [...s.held],
    ownHeld: [],
    timedOutUntil: s.you.timed_out_until,
    banned: false,
    poll: s.poll === null ? null : { ...s.poll },
    polls: s.poll === null || !isStaff(welcome.role) ? [] : [{ ...s.poll }],
    quizScore: s.you.quiz_score,
    questions: s.questions.filter((q) => q.state !== 'dismissed'),
    highlighted: s.highlighted,
    upvoted: [...s.you.upvoted],
    backChannel: [...s.back_channel],
    flags: [...s.flags],
    offer: s.offer ?? null,
    offers: [...(s.offers ?? [])],
    reactions: null,
    ended: s.ended,
  };
}

/** A staff poll record as a view (staff see the correct answers of their own drafts). */
export function pollViewOf(poll: Poll): PollView {
  return {
    id: poll.id,
    question: poll.spec.question,
    options: [...poll.spec.options],
    multiple: poll.spec.multiple ?? false,
    anonymous: poll.spec.anonymous ?? false,
    quiz: poll.spec.correct != null,
    state: poll.state,
    deadline: poll.deadline,
    totals: [...poll.totals],
    correct: poll.spec.correct ?? null,
    voted: false,
    your_choices: null,
  };
}

/** Questions in board order: most votes first, then oldest first (as the room sorts them). */
export function sortedQuestions(questions: readonly Question[]): Question[] {
  return [...questions].sort((a, b) => b.votes - a.votes || a.id - b.id);
}

/** "Answered automatically · the school's FAQ, line 3 · 93% sure": the mark on an answer the
 * assistant sent by itself, for everyone who sees it. */
export function automaticAnswerLabel(a: AutomaticAnswer): string {
  return `Answered automatically · ${a.source} · ${a.confidence}% sure`;
}

/** The message `reply` answers, if it is still in the chat. */
export function repliedTo(reply: ChatMessage, chat: readonly ChatMessage[]): ChatMessage | null {
  if (reply.reply_to === undefined) return null;
  return chat.find((m) => m.id === reply.reply_to) ?? null;
}

/** Whether staff already replied to this message in chat. */
export function hasStaffReply(message: ChatMessage, chat: readonly ChatMessage[]): boolean {
  return chat.some((m) => m.reply_to === message.id && isStaff(m.role));
}

/** Whether `choices` are exactly the correct options. */
export function isCorrect(choices: readonly number[] | null, correct: readonly number[] | null): boolean {
  if (choices === null || correct === null) return false;
  const a = [...new Set(choices)].sort((x, y) => x - y);
  const b = [...new Set(correct)].sort((x, y) => x - y);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function isStaff(role: Role): boolean {
  return role === 'instructor' || role === 'ta';
}

/**
 * Applies event `seq` to `view` (mutating it) unless it is not newer than the last one applied.
 * Returns whether it was applied.
 */
export function applyEvent(view: RoomView, seq: number, record: Recorded): boolean {
  if (!Number.isFinite(seq) || seq <= view.seq) return false;
  view.seq = seq;
  const ev = record.event;
  const me = view.viewer;
  switch (ev.type) {
    case 'chat_sent':
      addMessage(view, ev.message);
      break;
    case 'chat_held':
      if (isStaff(view.role)) {
        if (!view.held.some((h) => h.message.id === ev.hold.message.id)) view.held.push(ev.hold);
      } else if (ev.hold.message.author === me) {
        view.ownHeld.push(ev.hold.message);
      }
      break;
    case 'hold_approved':
      dropHeld(view, ev.message.id);
      addMessage(view, ev.message);
      break;
    case 'hold_rejected':
      dropHeld(view, ev.message);
      break;
    case 'message_deleted':
      view.chat = view.chat.filter((m) => m.id !== ev.message);
      if (view.pinned?.id === ev.message) view.pinned = null;
      break;
    case 'message_pinned':
      view.pinned = ev.message;
      break;
    case 'message_unpinned':
      view.pinned = null;
      break;
    case 'chat_cleared':
      view.chat = [];
      view.pinned = null;
      break;
    case 'chat_mode_changed':
      view.mode = { ...ev.mode };
      break;
    case 'blocked_terms_changed':
      view.blockedTerms = [...ev.terms];
      break;
    case 'viewer_timed_out':
      if (ev.viewer === me) view.timedOutUntil = ev.until;
      break;
    case 'timeout_lifted':
      if (ev.viewer === me) view.timedOutUntil = null;
      break;
    case 'viewer_banned':
      if (ev.viewer === me) view.banned = true;
      break;
    case 'poll_created':
      if (!view.polls.some((p) => p.id === ev.poll.id)) {
        view.polls.push(pollViewOf(ev.poll));
        if (view.polls.length > POLLS_KEPT) view.polls.splice(0, view.polls.length - POLLS_KEPT);
      }
      break;
    case 'poll_opened': {
      const opened: PollView = {
        id: ev.poll,
        question: ev.question,
        options: ev.options,
        multiple: ev.multiple,
        anonymous: ev.anonymous,
        quiz: ev.quiz,
        state: 'open',
        deadline: ev.deadline,
        totals: null,
        correct: null,
        voted: false,
        your_choices: null,
      };
      const known = view.polls.find((p) => p.id === ev.poll);
      if (known !== undefined) {
        known.state = 'open';
        known.deadline = ev.deadline;
        opened.totals = known.totals;
        opened.correct = known.correct;
      } else if (isStaff(view.role)) {
        view.polls.push({ ...opened, totals: ev.options.map(() => 0) });
        opened.totals = ev.options.map(() => 0);
      }
      view.poll = opened;
      break;
    }
    case 'ballot_cast':
      updatePoll(view, ev.poll, (p) => {
        p.totals = [...ev.totals];
        if (ev.ballot.viewer === me) {
          p.voted = true;
          p.your_choices = ev.ballot.choices;
        }
      });
      break;
    case 'anonymous_ballot_cast':
      // Names no voter: a viewer learns their own vote counted from the ack.
      updatePoll(view, ev.poll, (p) => {
        p.totals = [...ev.totals];
      });
      break;
    case 'anonymous_poll_voters':
      // Who took part, for engagement; nothing to draw.
      break;
    case 'poll_closed':
      updatePoll(view, ev.poll, (p) => {
        p.state = 'closed';
      });
      break;
    case 'poll_revealed':
      updatePoll(view, ev.poll, (p) => {
        p.state = 'revealed';
        p.totals = [...ev.totals];
        p.correct = ev.correct;
      });
      if (view.poll?.id === ev.poll && isCorrect(view.poll.your_choices, ev.correct)) view.quizScore += 1;
      break;
    case 'question_asked':
    case 'question_approved':
      upsertQuestion(view, ev.question);
      break;
    case 'question_upvoted': {
      const q = view.questions.find((x) => x.id === ev.question);
      if (q !== undefined) q.votes = ev.votes;
      if (ev.viewer === me && !view.upvoted.includes(ev.question)) view.upvoted.push(ev.question);
      break;
    }
    case 'question_answered': {
      const q = view.questions.find((x) => x.id === ev.question);
      if (q !== undefined) {
        q.state = 'answered';
        if (ev.answer) q.answer = ev.answer;
        if (ev.automatic) q.automatic = ev.automatic;
      }
      break;
    }
    case 'question_dismissed':
      view.questions = view.questions.filter((q) => q.id !== ev.question);
      if (view.highlighted === ev.question) view.highlighted = null;
      break;
    case 'question_highlighted':
      view.highlighted = ev.question;
      break;
    case 'back_channel_posted':
      view.backChannel.push({ by: record.by ?? '', name: ev.name, text: ev.text, at: record.at });
      if (view.backChannel.length > BACK_CHANNEL_KEPT) view.backChannel.splice(0, view.backChannel.length - BACK_CHANNEL_KEPT);
      break;
    case 'flagged':
      view.flags.push(ev.flag);
      break;
    case 'offer_scheduled':
    case 'offer_pushed': {
      const i = view.offers.findIndex((o) => o.spec.id === ev.offer.spec.id);
      if (i >= 0) view.offers[i] = ev.offer;
      else view.offers.push(ev.offer);
      break;
    }
    case 'offer_shown':
      if (ev.viewer === me) view.offer = ev.card;
      break;
    case 'offer_withdrawn': {
      if (view.offer?.offer === ev.offer) view.offer = null;
      const known = view.offers.find((o) => o.spec.id === ev.offer);
      if (known !== undefined) known.state = 'withdrawn';
      break;
    }
    case 'offer_exposed':
    case 'offer_clicked':
    case 'offer_dismissed':
      applyTally(view, ev);
      if (ev.viewer === me && view.offer?.offer === ev.offer) {
        if (ev.type === 'offer_dismissed') view.offer = null;
        else if (ev.type === 'offer_exposed') view.offer.exposed = true;
        else view.offer.clicked = true;
      }
      break;
    case 'reactions_aggregated':
      view.reactions = { second: ev.second, counts: ev.counts };
      break;
    case 'media_presence':
    case 'broadcast_source':
    case 'tab_visibility':
    case 'email_linked':
    case 'learner_linked':
    case 'reactions_by':
      // Counted by the studio's engagement from the log; nothing on screen changes.
      break;
    case 'broadcast_ended':
      view.ended = true;
      if (view.poll?.state === 'open') view.poll.state = 'closed';
      for (const p of view.polls) if (p.state === 'open') p.state = 'closed';
      break;
    case 'viewer_joined':
    case 'viewer_left':
    case 'viewer_unbanned':
      // Presence is not shown yet.
      break;
    default:
      // An event this build does not know (a newer server): skip it, keep the seq.
      ev satisfies never;
      break;
  }
  return true;
}

/** What an acknowledged action tells this client beyond the events it receives. */
export function applyAck(view: RoomView, action: Action): void {
  // A viewer never sees ballot events (staff only): the ack is how it learns its vote counted.
  if (action.type === 'vote') {
    updatePoll(view, action.poll, (p) => {
      p.voted = true;
      p.your_choices = [...action.choices];
    });
  }
  // Upvotes reach everyone as events; this only spares a viewer a second click in between.
  if (action.type === 'upvote' && !view.upvoted.includes(action.question)) view.upvoted.push(action.question);
  // Exposures and clicks reach staff only: the ack is how a viewer's card learns they counted.
  if ((action.type === 'offer_exposed' || action.type === 'offer_clicked') && view.offer?.offer === action.offer) {
    if (action.type === 'offer_exposed') view.offer.exposed = true;
    else view.offer.clicked = true;
  }
}

function updatePoll(view: RoomView, id: PollId, change: (poll: PollView) => void): void {
  if (view.poll?.id === id) change(view.poll);
  for (const p of view.polls) if (p.id === id) change(p);
}

function upsertQuestion(view: RoomView, question: Question): void {
  if (question.state === 'dismissed') return;
  const i = view.questions.findIndex((q) => q.id === question.id);
  if (i >= 0) view.questions[i] = { ...question };
  else view.questions.push({ ...question });
}

function applyTally(view: RoomView, tally: OfferTally): void {
  const offer = view.offers.find((o) => o.spec.id === tally.offer);
  if (offer !== undefined && tally.variant < offer.counts.length) offer.counts[tally.variant] = { ...tally.counts };
}

function addMessage(view: RoomView, message: ChatMessage): void {
  if (view.chat.some((m) => m.id === message.id)) return;
  view.chat.push(message);
  if (view.chat.length > CHAT_KEPT) view.chat.splice(0, view.chat.length - CHAT_KEPT);
  view.ownHeld = view.ownHeld.filter((m) => m.id !== message.id);
}

function dropHeld(view: RoomView, id: MessageId): void {
  view.held = view.held.filter((h) => h.message.id !== id);
  view.ownHeld = view.ownHeld.filter((m) => m.id !== id);
}
