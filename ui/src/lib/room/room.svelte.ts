// The live room for one page: the connection, the view it keeps, and the actions people take.
import type { SocketLike } from '../platform/event-socket';
import type { RoomTransport } from '../platform/types';
import type { LearnerLink } from '../bindings/room';
import { keepPageBrowserKey, pageBrowserKey, randomHex32 } from './browser-key';
import { buildHello, RoomConnection, roomUrl, type StopReason } from './connection';
import { CLOSE_CATCH_UP_FAILED, type Action, type MessageId, type PollId, type PollSpec, type QuestionId, type Reaction, type Reply, type ServerMessage } from './protocol';
import { applyAck, applyEvent, viewFromWelcome, type RoomView } from './room-state';

export interface RoomStoreDeps {
  url: string;
  /** The key the school issued this browser ('' before it has one). */
  browserKey: () => string;
  /** Keeps a key the school issued in a welcome. */
  keepBrowserKey: (key: string) => void;
  /** The owner key (joins as the instructor) or a moderator link's token (joins as a TA). */
  ownerKey: string | null;
  openSocket: (url: string) => SocketLike;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  /** A few random characters for client ids. */
  random: () => string;
  /** The personal join link the page was opened with (student pages only). */
  learnerLink?: LearnerLink | null;
}

/** Where the connection is. */
export type RoomStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | StopReason;

/** Actions whose refusal is shown next to the composer (the rest next to moderation tools). */
const COMPOSER_ACTIONS = new Set<Action['type']>(['send_chat', 'react']);
/** A viewer's vote, whose refusal is shown on the poll card. */
const POLL_ACTIONS = new Set<Action['type']>(['vote']);
/** A viewer's Q&A actions, whose refusal is shown on the Q&A panel. */
const QA_ACTIONS = new Set<Action['type']>(['ask', 'upvote']);

/** A moderator link's token (`lm_` + 64 hex): the page is a TA's, not the instructor's. */
export function isModeratorToken(key: string | null): boolean {
  return key !== null && key.startsWith('lm_');
}

/** Client ids sent and not yet answered are forgotten after this many (no resend on reconnect). */
const PENDING_KEPT = 64;

/**
 * One state holder for the room: apply the welcome, then events by `seq`; acks and refusals.
 * Screens read `view`, `status` and the errors, and call the actions.
 */
export class RoomStore {
  view = $state<RoomView | null>(null);
  status = $state<RoomStatus>('idle');
  /** The last refusal of a vote, for the poll card. */
  pollError = $state<string | null>(null);
  /** The last refusal of a chat message or reaction, for the composer. */
  composerError = $state<string | null>(null);
  /** The last refusal of a moderation action. */
  actionError = $state<string | null>(null);
  /** Why joining was refused (e.g. a name too close to staff), shown by the name form. */
  joinError = $state<string | null>(null);
  /** The last refusal of a question or an upvote, for the Q&A panel. */
  qaError = $state<string | null>(null);
  /**
   * Why the connection is down when it is worth saying (what was missed could not be read from
   * the school file); cleared by the next welcome.
   */
  connectionError = $state<string | null>(null);
  /** The client id of the last question sent, until it is acknowledged (the form clears then). */
  askPending = $state<string | null>(null);

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

  /** Whether this page joins with a moderator link (as a TA). */
  get moderator(): boolean {
    return isModeratorToken(this.#deps.ownerKey);
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
          learnerLink: this.#deps.learnerLink ?? null,
        }),
      onMessage: (message) => this.receive(message),
      onDrop: (_delay, code) => {
        if (this.status !== 'connecting') this.status = 'reconnecting';
        if (code === CLOSE_CATCH_UP_FAILED) {
          this.connectionError = 'What happened while you were away could not be read from the school file. Trying again…';
        }
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
        if (message.browser_key) this.#deps.keepBrowserKey(message.browser_key);
        this.view = viewFromWelcome(message);
        this.view.caughtUp = before === null || before >= message.seq;
        this.status = 'live';
        this.joinError = null;
        if (this.view.caughtUp) this.connectionError = null;
        return;
      }
      case 'caught_up':
        if (this.view !== null) this.view.caughtUp = true;
        this.connectionError = null;
        return;
      case 'event':
        if (this.view !== null) applyEvent(this.view, message.seq, message.record);
        return;
      case 'ack': {
        const action = message.client_id === null ? undefined : this.#pending.get(message.client_id);
        if (message.client_id !== null) this.#pending.delete(message.client_id);
        if (action !== undefined && this.view !== null) applyAck(this.view, action);
        if (action !== undefined && COMPOSER_ACTIONS.has(action.type)) this.composerError = null;
        if (action !== undefined && QA_ACTIONS.has(action.type)) this.qaError = null;
        if (action !== undefined && POLL_ACTIONS.has(action.type)) this.pollError = null;
        if (message.client_id !== null && message.client_id === this.askPending) this.askPending = null;
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
    if (reply.client_id !== null && reply.client_id === this.askPending) this.askPending = null;
    if (action !== undefined && QA_ACTIONS.has(action.type)) this.qaError = reply.message;
    else if (action !== undefined && POLL_ACTIONS.has(action.type)) this.pollError = reply.message;
    else if (action !== undefined && !COMPOSER_ACTIONS.has(action.type)) this.actionError = reply.message;
    else this.composerError = reply.message;
  }

  /** Sends an action; returns its client id, or null when the room is not connected. */
  act(action: Action): string | null {
    if (this.#connection === null || this.status !== 'live') {
      const message = 'Not connected to the class right now. Try again in a moment.';
      if (QA_ACTIONS.has(action.type)) this.qaError = message;
      else if (POLL_ACTIONS.has(action.type)) this.pollError = message;
      else if (COMPOSER_ACTIONS.has(action.type)) this.composerError = message;
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

  /** Sends a chat message; as a reply to the message `replyTo` names when given. */
  sendChat(text: string, replyTo?: MessageId): string | null {
    this.composerError = null;
    return this.act(replyTo === undefined ? { type: 'send_chat', text } : { type: 'send_chat', text, reply_to: replyTo });
  }

  react(reaction: Reaction): string | null {
    return this.act({ type: 'react', reaction });
  }

  vote(poll: PollId, choices: number[]): string | null {
    this.pollError = null;
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

  /**
   * Bans a viewer from the room; with `address`, the studio also refuses new browser keys from
   * the network address they joined from for the rest of the class (a private window).
   */
  ban(viewer: string, address = false): string | null {
    this.actionError = null;
    return this.act(address ? { type: 'ban', viewer, address: true } : { type: 'ban', viewer });
  }

  liftTimeout(viewer: string): string | null {
    this.actionError = null;
    return this.act({ type: 'lift_timeout', viewer });
  }

  postBackChannel(text: string): string | null {
    this.actionError = null;
    return this.act({ type: 'post_back_channel', text });
  }

  createPoll(spec: PollSpec): string | null {
    this.actionError = null;
    return this.act({ type: 'create_poll', spec });
  }

  openPoll(poll: PollId): string | null {
    this.actionError = null;
    return this.act({ type: 'open_poll', poll });
  }

  closePoll(poll: PollId): string | null {
    this.actionError = null;
    return this.act({ type: 'close_poll', poll });
  }

  revealPoll(poll: PollId): string | null {
    this.actionError = null;
    return this.act({ type: 'reveal_poll', poll });
  }

  /** Asks a question; the form keeps the text until the room acknowledges it. */
  ask(text: string): string | null {
    this.qaError = null;
    const id = this.act({ type: 'ask', text });
    this.askPending = id;
    return id;
  }

  upvote(question: QuestionId): string | null {
    this.qaError = null;
    return this.act({ type: 'upvote', question });
  }

  approveQuestion(question: QuestionId): string | null {
    this.actionError = null;
    return this.act({ type: 'approve_question', question });
  }

  /** Marks a question answered, with a written answer everyone sees under it, if given. */
  answerQuestion(question: QuestionId, answer?: string): string | null {
    this.actionError = null;
    const text = answer?.trim();
    return this.act(text ? { type: 'answer_question', question, answer: text } : { type: 'answer_question', question });
  }

  dismissQuestion(question: QuestionId): string | null {
    this.actionError = null;
    return this.act({ type: 'dismiss_question', question });
  }

  highlightQuestion(question: QuestionId | null): string | null {
    this.actionError = null;
    return this.act({ type: 'highlight_question', question });
  }

  dismissQaError(): void {
    this.qaError = null;
  }

  dismissComposerError(): void {
    this.composerError = null;
  }

  dismissActionError(): void {
    this.actionError = null;
  }
}

/**
 * The store's dependencies in this page: a student's `/room` WebSocket, or the transport the
 * platform gives staff (the desktop window's IPC, a studio page's WebSocket with its key).
 */
export function browserRoomDeps(transport: RoomTransport | null): RoomStoreDeps {
  const random = () => randomHex32((a) => crypto.getRandomValues(a));
  return {
    url: transport?.url ?? roomUrl(window.location),
    // Staff are known by their key or the window, not by a browser key.
    browserKey: () => (transport === null ? pageBrowserKey() : ''),
    keepBrowserKey: keepPageBrowserKey,
    ownerKey: transport?.key ?? null,
    openSocket: transport?.open ?? ((url) => new WebSocket(url) as unknown as SocketLike),
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (handle) => window.clearTimeout(handle as number),
    random: () => random().slice(0, 6),
  };
}
