// The room as one participant sees it, and the pure rules that move it: a welcome snapshot
// replaces it, then each event is applied once, in `seq` order.
import type {
  Action,
  ChatMessage,
  ChatMode,
  Hold,
  MessageId,
  PollView,
  Reaction,
  Recorded,
  Role,
  ServerMessage,
  Timestamp,
  ViewerId,
} from './protocol';

/** How many chat messages a client keeps (the snapshot brings the last 50). */
export const CHAT_KEPT = 200;

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
  poll: PollView | null;
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
    poll: s.poll,
    reactions: null,
    ended: s.ended,
  };
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
    case 'poll_opened':
      view.poll = {
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
      break;
    case 'ballot_cast':
      if (view.poll?.id === ev.poll) {
        view.poll.totals = ev.totals;
        if (ev.ballot.viewer === me) {
          view.poll.voted = true;
          view.poll.your_choices = ev.ballot.choices;
        }
      }
      break;
    case 'anonymous_ballot_cast':
      if (view.poll?.id === ev.poll) {
        view.poll.totals = ev.totals;
        if (ev.viewer === me) view.poll.voted = true;
      }
      break;
    case 'poll_closed':
      if (view.poll?.id === ev.poll) view.poll.state = 'closed';
      break;
    case 'poll_revealed':
      if (view.poll?.id === ev.poll) {
        view.poll.state = 'revealed';
        view.poll.totals = ev.totals;
        view.poll.correct = ev.correct;
      }
      break;
    case 'reactions_aggregated':
      view.reactions = { second: ev.second, counts: ev.counts };
      break;
    case 'broadcast_ended':
      view.ended = true;
      if (view.poll?.state === 'open') view.poll.state = 'closed';
      break;
    default:
      // Presence, flags, the back channel, questions and staff-only poll drafts are not shown yet.
      break;
  }
  return true;
}

/** What an acknowledged action tells this client beyond the events it receives. */
export function applyAck(view: RoomView, action: Action): void {
  // A viewer never sees ballot events (staff only): the ack is how it learns its vote counted.
  if (action.type === 'vote' && view.poll?.id === action.poll) {
    view.poll.voted = true;
    view.poll.your_choices = action.choices;
  }
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
