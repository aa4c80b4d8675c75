// The live room for one page: the connection, the view it keeps, and the actions people take.
import type { SocketLike } from '../platform/event-socket';
import { browserKey, randomHex32 } from './browser-key';
import { buildHello, RoomConnection, roomUrl, type StopReason } from './connection';
import type { Action, MessageId, PollId, Reaction, Reply, ServerMessage } from './protocol';
import { applyAck, applyEvent, viewFromWelcome, type RoomView } from './room-state';

export interface RoomStoreDeps {
  url: string;
  browserKey: () => string;
  /** The owner key when this page has one (joins as the instructor). */
  ownerKey: string | null;
  openSocket: (url: string) => SocketLike;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  /** A few random characters for client ids. */
  random: () => string;
}

/** Where the connection is. */
export type RoomStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | StopReason;

/** Actions whose refusal is shown next to the composer (the rest next to moderation tools). */
const COMPOSER_ACTIONS = new Set<Action['type']>(['send_chat', 'react', 'vote']);

/** Client ids sent and not yet answered are forgotten after this many (no resend on reconnect). */
const PENDING_KEPT = 64;

/**
 * One state holder for the room: apply the welcome, then events by `seq`; acks and refusals.
 * Screens read `view`, `status` and the errors, and call the actions.
 */
export class RoomStore {
  view = $state<RoomView | null>(null);
  status = $state<RoomStatus>('idle');
  /** The last refusal of a chat message, reaction or vote, for the composer. */
  composerError = $state<string | null>(null);
  /** The last refusal of a moderation action. */
  actionError = $state<string | null>(null);
  /** Why joining was refused (e.g. a name too close to staff), shown by the name form. */
  joinError = $state<string | null>(null);

  readonly #deps: RoomStoreDeps;
  #connection: RoomConnection | null = null;
  #name = '';
  #counter = 0;
  readonly #pending = new Map<string, Action>();

  constructor(deps: RoomStoreDeps) {
    this.#deps = deps;
  }

  get connected(): boolean {
    return this.status === 'live';
  }

  /** Joins under `name` ('' lets the room pick one). Does nothing while already joined. */
  join(name: string): void {
    if (this.#connection !== null) return;
    this.#name = name;
    this.joinError = null;
    this.composerError = null;
    this.status = 'connecting';
    const connection = new RoomConnection({
      url: this.#deps.url,
      openSocket: this.#deps.openSocket,
      setTimeout: this.#deps.setTimeout,
      clearTimeout: this.#deps.clearTimeout,
      hello: () =>
        buildHello({
          name: this.view?.name ?? this.#name,
          browserKey: this.#deps.browserKey(),
          ownerKey: this.#deps.ownerKey,
          lastSeq: this.view?.seq ?? null,
          session: this.view?.session ?? null,
        }),
      onMessage: (message) => this.receive(message),
      onDrop: () => {
        if (this.status !== 'connecting') this.status = 'reconnecting';
      },
      onStop: (reason) => {
        this.#connection = null;
        this.status = reason;
      },
    });
    this.#connection = connection;
    connection.start();
  }

  /** Leaves the room and forgets it. */
  leave(): void {
    this.#connection?.stop();
    this.#connection = null;
    this.#pending.clear();
    this.view = null;
    this.status = 'idle';
  }

  /** Handles one message from the server (public for tests). */
  receive(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome':
      {
        const before = this.view?.seq ?? null;
        // Every welcome replaces the view: its snapshot holds every event up to its seq, so
        // the catch-up events that follow a reconnect (all <= that seq) are skipped by seq.
        this.view = viewFromWelcome(message);
        this.view.caughtUp = before === null || before >= message.seq;
        this.status = 'live';
        this.joinError = null;
        return;
      }
      case 'caught_up':
        if (this.view !== null) this.view.caughtUp = true;
        return;
      case 'event':
        if (this.view !== null) applyEvent(this.view, message.seq, message.record);
        return;
      case 'ack': {
        const action = message.client_id === null ? undefined : this.#pending.get(message.client_id);
        if (message.client_id !== null) this.#pending.delete(message.client_id);
        if (action !== undefined && this.view !== null) applyAck(this.view, action);
        if (action !== undefined && COMPOSER_ACTIONS.has(action.type)) this.composerError = null;
        return;
      }
      case 'reply':
        this.#reply(message.reply);
        return;
      default:
        message satisfies never;
    }
  }

  #reply(reply: Reply): void {
    if (reply.type !== 'rejected') {
      if (reply.type === 'duplicate') this.#pending.delete(reply.client_id);
      return;
    }
    if (this.view === null) {
      // Refused before any welcome: the join itself (the server closes with 4403 next).
      this.joinError = reply.message;
      return;
    }
    const action = reply.client_id === null ? undefined : this.#pending.get(reply.client_id);
    if (reply.client_id !== null) this.#pending.delete(reply.client_id);
    if (action !== undefined && !COMPOSER_ACTIONS.has(action.type)) this.actionError = reply.message;
    else this.composerError = reply.message;
  }

  /** Sends an action; returns its client id, or null when the room is not connected. */
  act(action: Action): string | null {
    if (this.#connection === null || this.status !== 'live') {
      const message = 'Not connected to the class right now. Try again in a moment.';
      if (COMPOSER_ACTIONS.has(action.type)) this.composerError = message;
      else this.actionError = message;
      return null;
    }
    this.#counter += 1;
    const clientId = `c-${this.#counter}-${this.#deps.random()}`;
    if (!this.#connection.send({ v: 1, client_id: clientId, action })) return null;
    this.#pending.set(clientId, action);
    if (this.#pending.size > PENDING_KEPT) {
      const oldest = this.#pending.keys().next().value;
      if (oldest !== undefined) this.#pending.delete(oldest);
    }
    return clientId;
  }

  sendChat(text: string): string | null {
    this.composerError = null;
    return this.act({ type: 'send_chat', text });
  }

  react(reaction: Reaction): string | null {
    return this.act({ type: 'react', reaction });
  }

  vote(poll: PollId, choices: number[]): string | null {
    return this.act({ type: 'vote', poll, choices });
  }

  deleteMessage(message: MessageId): string | null {
    this.actionError = null;
    return this.act({ type: 'delete_message', message });
  }

  pin(message: MessageId): string | null {
    this.actionError = null;
    return this.act({ type: 'pin_message', message });
  }

  unpin(): string | null {
    this.actionError = null;
    return this.act({ type: 'unpin_message' });
  }

  timeout(viewer: string, seconds: number): string | null {
    this.actionError = null;
    return this.act({ type: 'timeout', viewer, seconds });
  }

  setSlowMode(seconds: number): string | null {
    this.actionError = null;
    return this.act({ type: 'set_slow_mode', seconds });
  }

  approveHeld(message: MessageId): string | null {
    this.actionError = null;
    return this.act({ type: 'approve_held', message });
  }

  rejectHeld(message: MessageId): string | null {
    this.actionError = null;
    return this.act({ type: 'reject_held', message });
  }

  dismissComposerError(): void {
    this.composerError = null;
  }

  dismissActionError(): void {
    this.actionError = null;
  }
}

/** The store's dependencies in this browser page. */
export function browserRoomDeps(ownerKey: string | null): RoomStoreDeps {
  let storage: Storage | null = null;
  try {
    storage = window.localStorage;
  } catch {
    storage = null;
  }
  const random = () => randomHex32((a) => crypto.getRandomValues(a));
  let key: string | null = null;
  return {
    url: roomUrl(window.location),
    browserKey: () => (key ??= browserKey(storage, random)),
    ownerKey,
    openSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (handle) => window.clearTimeout(handle as number),
    random: () => random().slice(0, 6),
  };
}
