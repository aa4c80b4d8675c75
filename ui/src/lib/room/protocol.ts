// The live room's wire format. The room's types (actions, events, snapshots, refusals) and the
// frames around them (hello, server frames, close codes) are generated from crates/room
// (`ui/src/lib/bindings/room.ts`, `cargo xtask codegen`; a Rust test fails when they are stale)
// and re-exported here (docs/protocol.md, "The live room").

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

import { CLOSE_CODES, type Event, type ServerFrame as GeneratedServerFrame } from '../bindings/room';

export type {
  Action,
  AutomaticAnswer,
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
import type { Reaction } from '../bindings/room';

/** Every reaction, in the order the viewer page shows them (a missing one fails to compile). */
const REACTION_ORDER: Record<Reaction, number> = { thumbs_up: 0, heart: 1, laugh: 2, clap: 3, surprised: 4, confused: 5 };
export const REACTIONS: readonly Reaction[] = (Object.keys(REACTION_ORDER) as Reaction[]).sort(
  (a, b) => REACTION_ORDER[a] - REACTION_ORDER[b],
);

/** Every event the room records (the generated `Event`, named apart from the DOM's). */
export type RoomEvent = Event;

/** The first frame of every connection (generated from `lectern_room::Hello`). */
export type { Hello } from '../bindings/room';

/** Every frame the server sends (generated from `lectern_room::ServerFrame`)... */
export type ServerFrame = GeneratedServerFrame;
/** ...of which a client handles these; `closed` ends the transport instead (a WebSocket's
 * close code; the desktop window's IPC channel turns the frame into one). */
export type ServerMessage = Exclude<ServerFrame, { type: 'closed' }>;

/** Close codes of a room connection (generated from `lectern_room::CloseCode`). */
export const CLOSE_BAD_HELLO: number = CLOSE_CODES.bad_hello;
export const CLOSE_UNAUTHORIZED: number = CLOSE_CODES.unauthorized;
export const CLOSE_REFUSED: number = CLOSE_CODES.refused;
export const CLOSE_NOT_LIVE: number = CLOSE_CODES.not_live;
export const CLOSE_FELL_BEHIND: number = CLOSE_CODES.fell_behind;
export const CLOSE_CATCH_UP_FAILED: number = CLOSE_CODES.catch_up_failed;

const SERVER_TYPES = new Set(['welcome', 'caught_up', 'event', 'ack', 'reply']);

/**
 * A parsed server frame, or null when it is not a known message. A WebSocket gives JSON text;
 * the desktop window's IPC channel gives the value already parsed.
 */
export function parseServerMessage(data: unknown): ServerMessage | null {
  let value: unknown = data;
  if (typeof data === 'string') {
    try {
      value = JSON.parse(data);
    } catch {
      return null;
    }
  }
  if (typeof value !== 'object' || value === null) return null;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' && SERVER_TYPES.has(type) ? (value as ServerMessage) : null;
}
