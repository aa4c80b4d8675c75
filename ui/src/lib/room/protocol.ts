// The live room's wire format. The room's own types (actions, events, snapshots, refusals) are
// generated from crates/room (`ui/src/lib/bindings/room.ts`, `cargo xtask codegen`; a Rust test
// fails when they are stale) and re-exported here. What is written by hand is only what the
// server builds around them in crates/server/src/room.rs: the hello, the frames that carry events
// and replies, and the close codes (docs/protocol.md, "The live room").

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

import type { Event } from '../bindings/room';

export type {
  Action,
  Ballot,
  BackChannelNote,
  Capability,
  ChatMessage,
  ChatMode,
  ChatSettings,
  ClientFrame,
  ClientId,
  Flag,
  Hold,
  HoldReason,
  MessageId,
  Offer,
  OfferCard,
  OfferId,
  OfferSpec,
  OfferState,
  OfferTally,
  Poll,
  PollId,
  PollSpec,
  PollState,
  PollView,
  Question,
  QuestionId,
  QuestionState,
  Reaction,
  Recorded,
  Reply,
  Role,
  RoomError,
  Snapshot,
  Timestamp,
  VariantCounts,
  VariantSpec,
  ViewerId,
  YourState,
} from '../bindings/room';
import type { Recorded, Reply, Role, Snapshot, ViewerId, Reaction } from '../bindings/room';

/** Every reaction, in the order the viewer page shows them (a missing one fails to compile). */
const REACTION_ORDER: Record<Reaction, number> = { thumbs_up: 0, heart: 1, laugh: 2, clap: 3, surprised: 4, confused: 5 };
export const REACTIONS: readonly Reaction[] = (Object.keys(REACTION_ORDER) as Reaction[]).sort(
  (a, b) => REACTION_ORDER[a] - REACTION_ORDER[b],
);

/** Every event the room records (the generated `Event`, named apart from the DOM's). */
export type RoomEvent = Event;

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
  /** On a first join: an email for purchase attribution, applied as `link_email`... */
  email?: string;
  /** ...only when the viewer ticked the consent box. */
  consent?: boolean;
}

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
