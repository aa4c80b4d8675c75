// The live room's wire format, written by hand from crates/room/PROTOCOL-DRAFT.md and the
// transport in docs/protocol.md ("The live room: `GET /room`").
//
// These types MIRROR the Rust types in crates/room/src/{protocol,model,error}.rs and the frames
// built in crates/server/src/room.rs. They are not generated yet: replace this file with
// generated bindings (`cargo xtask codegen`) once the room's types are exported.

/** The protocol version sent in every hello and action frame. */
export const ROOM_PROTOCOL_VERSION = 1;
/** The largest frame the server accepts, in bytes. */
export const MAX_FRAME_BYTES = 4096;
/** Limits, in graphemes, that the room enforces (the client only helps people stay inside). */
export const MAX_NAME_LENGTH = 40;
export const MAX_CHAT_LENGTH = 500;
export const MAX_QUESTION_LENGTH = 300;
export const MAX_POLL_QUESTION_LENGTH = 200;
export const MAX_POLL_OPTION_LENGTH = 100;
export const MIN_POLL_OPTIONS = 2;
export const MAX_POLL_OPTIONS = 10;
/** A poll's timer, in seconds (1 to 3600). */
export const MAX_POLL_DURATION_SECS = 3600;

export type ViewerId = string;
export type MessageId = number;
export type PollId = number;
export type QuestionId = number;
/** Milliseconds since the Unix epoch. */
export type Timestamp = number;

export type Role = 'instructor' | 'ta' | 'viewer';

export const REACTIONS = ['thumbs_up', 'heart', 'laugh', 'clap', 'surprised', 'confused'] as const;
export type Reaction = (typeof REACTIONS)[number];

export interface ChatMessage {
  id: MessageId;
  author: ViewerId;
  name: string;
  role: Role;
  text: string;
  sent_at: Timestamp;
}

export type HoldReason = 'approved_only' | 'blocked_term' | 'link' | 'new_identity';

export interface Hold {
  message: ChatMessage;
  reason: HoldReason;
}

export interface ChatMode {
  slow_mode_secs: number;
  approved_only: boolean;
  hold_first_messages: number;
}

export interface ChatSettings {
  mode: ChatMode;
  blocked_terms: string[];
}

export type PollState = 'draft' | 'open' | 'closed' | 'revealed';

export interface PollSpec {
  question: string;
  options: string[];
  multiple?: boolean;
  anonymous?: boolean;
  correct?: number[] | null;
  duration_secs?: number | null;
  /** Quizzes: the skill the question checks (a course tag), 1 to 40 of A-Z a-z 0-9 _ - and space. */
  skill?: string | null;
}

export interface Poll {
  id: PollId;
  spec: PollSpec;
  state: PollState;
  deadline: Timestamp | null;
  totals: number[];
  ballots: Ballot[];
  voters: ViewerId[];
}

export interface Ballot {
  viewer: ViewerId;
  choices: number[];
}

/** A poll as one participant may see it (in the snapshot). */
export interface PollView {
  id: PollId;
  question: string;
  options: string[];
  multiple: boolean;
  anonymous: boolean;
  quiz: boolean;
  state: PollState;
  deadline: Timestamp | null;
  totals: number[] | null;
  correct: number[] | null;
  voted: boolean;
  your_choices: number[] | null;
}

export type QuestionState = 'pending' | 'approved' | 'answered' | 'dismissed';

export interface Question {
  id: QuestionId;
  asker: ViewerId;
  name: string;
  text: string;
  state: QuestionState;
  votes: number;
  asked_at: Timestamp;
}

export type Flag = { type: 'repeat_visitor'; viewer: ViewerId; banned: ViewerId };

export interface BackChannelNote {
  by: ViewerId;
  name: string;
  text: string;
  at: Timestamp;
}

export interface YourState {
  viewer: ViewerId;
  role: Role;
  name: string;
  timed_out_until: Timestamp | null;
  quiz_score: number;
  upvoted: QuestionId[];
  held: MessageId[];
}

// ---- Offers (crates/room/src/offers.rs); the offer screens are another feature's ------------

export type OfferId = string;
export type OfferState = 'scheduled' | 'live' | 'withdrawn';

export interface VariantSpec {
  name: string;
  /** A share in (0, 1]. */
  weight: number;
  title?: string;
  cta?: string;
  price_cents?: number;
  discount_pct?: number;
  minute?: number;
}

export interface OfferSpec {
  id: OfferId;
  course_id: string;
  experiment?: string;
  title: string;
  cta: string;
  price_cents: number;
  currency: string;
  discount_pct?: number;
  checkout_url: string;
  variants: VariantSpec[];
}

export interface VariantCounts {
  shown: number;
  exposures: number;
  clicks: number;
  dismissals: number;
}

/** An offer as staff see it: every variant and the live counts. */
export interface Offer {
  spec: OfferSpec;
  state: OfferState;
  at: Timestamp;
  session_variant: number | null;
  counts: VariantCounts[];
}

/** The card one viewer sees: their variant only. */
export interface OfferCard {
  offer: OfferId;
  course_id: string;
  variant: number;
  variant_name: string;
  title: string;
  cta: string;
  price_cents: number;
  currency: string;
  discount_pct: number;
  final_price_cents: number;
  checkout_url: string;
  exposed: boolean;
  clicked: boolean;
}

/** One viewer's response to their card, with the variant's counts after it (for staff). */
export interface OfferTally {
  offer: OfferId;
  course_id: string;
  viewer: ViewerId;
  variant: number;
  variant_name: string;
  counts: VariantCounts;
}

export interface Snapshot {
  v: number;
  you: YourState;
  settings: ChatSettings;
  pinned: ChatMessage | null;
  poll: PollView | null;
  questions: Question[];
  highlighted: QuestionId | null;
  chat: ChatMessage[];
  held: Hold[];
  flags: Flag[];
  back_channel: BackChannelNote[];
  ended: boolean;
  /** A viewer's live offer card (their variant); null for staff. Absent from older servers. */
  offer?: OfferCard | null;
  /** Staff only: every offer of the class. Absent from older servers. */
  offers?: Offer[];
}

// ---- Client to server -------------------------------------------------------------------

export interface Hello {
  type: 'hello';
  v: number;
  name?: string;
  browser_key: string;
  /** The owner key (joins as the instructor) or a moderator link's token (joins as a TA). */
  key?: string;
  /** The last sequence number this browser applied, to receive what it missed... */
  last_seq?: number;
  /** ...in this session. */
  session?: number;
}

export type Action =
  | { type: 'send_chat'; text: string }
  | { type: 'delete_message'; message: MessageId }
  | { type: 'pin_message'; message: MessageId }
  | { type: 'unpin_message' }
  | { type: 'clear_chat' }
  | { type: 'set_slow_mode'; seconds: number }
  | { type: 'set_approved_only'; on: boolean }
  | { type: 'set_hold_first_messages'; count: number }
  | { type: 'set_blocked_terms'; terms: string[] }
  | { type: 'approve_held'; message: MessageId }
  | { type: 'reject_held'; message: MessageId }
  | { type: 'timeout'; viewer: ViewerId; seconds: number }
  | { type: 'lift_timeout'; viewer: ViewerId }
  | { type: 'ban'; viewer: ViewerId }
  | { type: 'unban'; viewer: ViewerId }
  | { type: 'post_back_channel'; text: string }
  | { type: 'create_poll'; spec: PollSpec }
  | { type: 'open_poll'; poll: PollId }
  | { type: 'close_poll'; poll: PollId }
  | { type: 'reveal_poll'; poll: PollId }
  | { type: 'vote'; poll: PollId; choices: number[] }
  | { type: 'ask'; text: string }
  | { type: 'upvote'; question: QuestionId }
  | { type: 'approve_question'; question: QuestionId }
  | { type: 'answer_question'; question: QuestionId }
  | { type: 'dismiss_question'; question: QuestionId }
  | { type: 'highlight_question'; question: QuestionId | null }
  | { type: 'react'; reaction: Reaction }
  | { type: 'end_broadcast' }
  | { type: 'push_offer'; spec: OfferSpec }
  | { type: 'schedule_offer'; spec: OfferSpec; at_ms?: Timestamp | null; minute?: number | null }
  | { type: 'withdraw_offer'; offer: OfferId }
  | { type: 'offer_exposed'; offer: OfferId; variant: number }
  | { type: 'offer_clicked'; offer: OfferId; variant: number }
  | { type: 'offer_dismissed'; offer: OfferId; variant: number }
  /** A viewer links their purchases to this class by email, with consent (the room keeps a hash). */
  | { type: 'link_email'; email: string; consent: boolean }
  /** A viewer who opted in says whether the class's tab is in view (when it changes). */
  | { type: 'set_tab_visible'; visible: boolean };

export interface ClientFrame {
  v: number;
  client_id?: string;
  action: Action;
}

// ---- Server to client -------------------------------------------------------------------

export type RoomEvent =
  | { type: 'viewer_joined'; viewer: ViewerId; role: Role; name: string; fingerprint: string | null }
  | { type: 'viewer_left'; viewer: ViewerId }
  | { type: 'chat_sent'; message: ChatMessage }
  | { type: 'chat_held'; hold: Hold }
  | { type: 'hold_approved'; message: ChatMessage }
  | { type: 'hold_rejected'; message: MessageId; author: ViewerId }
  | { type: 'message_deleted'; message: MessageId }
  | { type: 'message_pinned'; message: ChatMessage }
  | { type: 'message_unpinned' }
  | { type: 'chat_cleared' }
  | { type: 'chat_mode_changed'; mode: ChatMode }
  | { type: 'blocked_terms_changed'; terms: string[] }
  | { type: 'viewer_timed_out'; viewer: ViewerId; until: Timestamp }
  | { type: 'timeout_lifted'; viewer: ViewerId }
  | { type: 'viewer_banned'; viewer: ViewerId }
  | { type: 'viewer_unbanned'; viewer: ViewerId }
  | { type: 'flagged'; flag: Flag }
  | { type: 'back_channel_posted'; name: string; text: string }
  | { type: 'poll_created'; poll: Poll }
  | {
      type: 'poll_opened';
      poll: PollId;
      question: string;
      options: string[];
      multiple: boolean;
      anonymous: boolean;
      quiz: boolean;
      deadline: Timestamp | null;
    }
  | { type: 'ballot_cast'; poll: PollId; ballot: Ballot; totals: number[] }
  | { type: 'anonymous_ballot_cast'; poll: PollId; viewer: ViewerId; totals: number[] }
  | { type: 'poll_closed'; poll: PollId }
  | { type: 'poll_revealed'; poll: PollId; totals: number[]; correct: number[] | null }
  | { type: 'question_asked'; question: Question }
  | { type: 'question_upvoted'; question: QuestionId; viewer: ViewerId; votes: number }
  | { type: 'question_approved'; question: Question }
  | { type: 'question_answered'; question: QuestionId }
  | { type: 'question_dismissed'; question: QuestionId; asker: ViewerId }
  | { type: 'question_highlighted'; question: QuestionId | null }
  | { type: 'reactions_aggregated'; second: Timestamp; counts: [Reaction, number][] }
  /** Staff only: a viewer's video started or stopped. */
  | { type: 'media_presence'; viewer: ViewerId; watching: boolean }
  /** Staff only: an opted-in viewer's tab came into view or was hidden. */
  | { type: 'tab_visibility'; viewer: ViewerId; visible: boolean }
  /** Staff only: a viewer linked their purchases by a consented email (its hash). */
  | { type: 'email_linked'; viewer: ViewerId; email_hash: string }
  /** Staff only: who reacted during that second (engagement counts it; the room view does not). */
  | { type: 'reactions_by'; second: Timestamp; viewers: [ViewerId, number][] }
  | { type: 'broadcast_ended' }
  | { type: 'offer_scheduled'; offer: Offer }
  | { type: 'offer_pushed'; offer: Offer }
  | { type: 'offer_shown'; viewer: ViewerId; card: OfferCard }
  | { type: 'offer_withdrawn'; offer: OfferId; course_id: string }
  // Newtype variants: serde writes the tally's fields beside the tag.
  | ({ type: 'offer_exposed' } & OfferTally)
  | ({ type: 'offer_clicked' } & OfferTally)
  | ({ type: 'offer_dismissed' } & OfferTally);

export interface Recorded {
  v: number;
  at: Timestamp;
  by: ViewerId | null;
  client_id: string | null;
  event: RoomEvent;
}

/** A refusal's `error`: a stable `code` plus fields that depend on it. */
export interface RoomError {
  code: string;
  retry_after_ms?: number;
  limit?: number;
  until?: Timestamp;
  min?: number;
  max?: number;
  reason?: string;
  got?: number;
}

export type Reply =
  | { type: 'rejected'; client_id: string | null; error: RoomError; message: string }
  | { type: 'duplicate'; client_id: string }
  | { type: 'welcome'; snapshot: Snapshot };

export type ServerMessage =
  | { type: 'welcome'; viewer: ViewerId; role: Role; session: number; seq: number; snapshot: Snapshot }
  | { type: 'caught_up'; seq: number }
  | { type: 'event'; seq: number; record: Recorded }
  | { type: 'ack'; client_id: string | null; seqs: number[] }
  | { type: 'reply'; reply: Reply };

/** Close codes of `/room` (besides the usual 1000-1011). */
export const CLOSE_BAD_HELLO = 4400;
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_REFUSED = 4403;
export const CLOSE_NOT_LIVE = 4404;
export const CLOSE_FELL_BEHIND = 4408;

const SERVER_TYPES = new Set(['welcome', 'caught_up', 'event', 'ack', 'reply']);

/** A parsed server frame, or null when it is not JSON or not a known message. */
export function parseServerMessage(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' && SERVER_TYPES.has(type) ? (value as ServerMessage) : null;
}
