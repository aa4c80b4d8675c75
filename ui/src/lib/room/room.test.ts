import { describe, expect, it } from 'vitest';
import type { SocketLike } from '../platform/event-socket';
import { BROWSER_KEY_STORAGE_NAME, keepBrowserKey, randomHex32, storedBrowserKey } from './browser-key';
import { buildHello, roomUrl, stopReasonFor } from './connection';
import type { ChatMessage, Offer, Question, Recorded, RoomEvent, ServerMessage, Snapshot } from './protocol';
import { isModeratorToken, RoomStore } from './room.svelte';
import { applyAck, applyEvent, automaticAnswerLabel, hasStaffReply, isCorrect, repliedTo, sortedQuestions, viewFromWelcome } from './room-state';
import { graphemeCount } from './text';

class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: unknown[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.({});
  }
  receive(message: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}

class ManualTimers {
  pending: { fn: () => void; ms: number; id: number }[] = [];
  delays: number[] = [];
  #next = 1;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.#next++;
    this.pending.push({ fn, ms, id });
    this.delays.push(ms);
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.pending = this.pending.filter((t) => t.id !== id);
  };
  runAll() {
    const due = this.pending;
    this.pending = [];
    for (const t of due) t.fn();
  }
}

function msg(id: number, text = `message ${id}`, author = 'v-ann'): ChatMessage {
  return { id, author, name: author === 'v-ann' ? 'Ann' : 'Bob', role: 'viewer', text, sent_at: 1_700_000_000_000 + id };
}

function snapshot(patch: Partial<Snapshot> = {}): Snapshot {
  return {
    v: 1,
    you: { viewer: 'v-ann', role: 'viewer', name: 'Ann', timed_out_until: null, quiz_score: 0, upvoted: [], held: [] },
    settings: { mode: { slow_mode_secs: 0, approved_only: false, hold_first_messages: 0 }, blocked_terms: [] },
    pinned: null,
    poll: null,
    questions: [],
    highlighted: null,
    chat: [msg(1)],
    held: [],
    flags: [],
    back_channel: [],
    ended: false,
    offers: [],
    ...patch,
  };
}

function welcome(seq: number, patch: Partial<Snapshot> = {}): Extract<ServerMessage, { type: 'welcome' }> {
  return { type: 'welcome', viewer: 'v-ann', role: 'viewer', session: 7, seq, snapshot: snapshot(patch) };
}

function record(event: RoomEvent): Recorded {
  return { v: 1, at: 1_700_000_000_000, by: null, client_id: null, event };
}

function event(seq: number, ev: RoomEvent): ServerMessage {
  return { type: 'event', seq, record: record(ev) };
}

describe('room state', () => {
  it('starts from the welcome snapshot at its seq', () => {
    const view = viewFromWelcome(welcome(5, { pinned: msg(1) }));
    expect(view.seq).toBe(5);
    expect(view.chat.map((m) => m.id)).toEqual([1]);
    expect(view.pinned?.id).toBe(1);
    expect(view.name).toBe('Ann');
  });

  it('applies events in seq order and ignores duplicates and older seqs', () => {
    const view = viewFromWelcome(welcome(5));
    expect(applyEvent(view, 5, record({ type: 'chat_sent', message: msg(2) }))).toBe(false);
    expect(applyEvent(view, 4, record({ type: 'chat_sent', message: msg(3) }))).toBe(false);
    expect(applyEvent(view, 6, record({ type: 'chat_sent', message: msg(4) }))).toBe(true);
    expect(applyEvent(view, 6, record({ type: 'chat_sent', message: msg(5) }))).toBe(false);
    expect(applyEvent(view, 8, record({ type: 'chat_sent', message: msg(6) }))).toBe(true);
    expect(applyEvent(view, 7, record({ type: 'chat_sent', message: msg(7) }))).toBe(false);
    expect(view.chat.map((m) => m.id)).toEqual([1, 4, 6]);
    expect(view.seq).toBe(8);
  });

  it('deletes, pins, unpins and clears', () => {
    const view = viewFromWelcome(welcome(1));
    applyEvent(view, 2, record({ type: 'chat_sent', message: msg(2) }));
    applyEvent(view, 3, record({ type: 'message_pinned', message: msg(2) }));
    expect(view.pinned?.id).toBe(2);
    applyEvent(view, 4, record({ type: 'message_deleted', message: 2 }));
    expect(view.chat.map((m) => m.id)).toEqual([1]);
    expect(view.pinned).toBeNull();
    applyEvent(view, 5, record({ type: 'message_pinned', message: msg(1) }));
    applyEvent(view, 6, record({ type: 'message_unpinned' }));
    expect(view.pinned).toBeNull();
    applyEvent(view, 7, record({ type: 'chat_cleared' }));
    expect(view.chat).toEqual([]);
  });

  it('keeps the held queue for staff and a viewer their own held messages', () => {
    const staff = viewFromWelcome({ ...welcome(1), role: 'instructor', viewer: 'v-prof' });
    const ann = viewFromWelcome(welcome(1));
    const held = { type: 'chat_held', hold: { message: msg(9, 'see www.example.com'), reason: 'link' } } as const;
    applyEvent(staff, 2, record(held));
    applyEvent(ann, 2, record(held));
    expect(staff.held.map((h) => h.message.id)).toEqual([9]);
    expect(ann.ownHeld.map((m) => m.id)).toEqual([9]);
    applyEvent(staff, 3, record({ type: 'hold_approved', message: msg(9, 'see www.example.com') }));
    applyEvent(ann, 3, record({ type: 'hold_approved', message: msg(9, 'see www.example.com') }));
    expect(staff.held).toEqual([]);
    expect(ann.ownHeld).toEqual([]);
    expect(ann.chat.map((m) => m.id)).toEqual([1, 9]);
  });

  it('follows slow mode, timeouts and polls', () => {
    const view = viewFromWelcome(welcome(1));
    applyEvent(view, 2, record({ type: 'chat_mode_changed', mode: { slow_mode_secs: 30, approved_only: false, hold_first_messages: 0 } }));
    expect(view.mode.slow_mode_secs).toBe(30);
    applyEvent(view, 3, record({ type: 'viewer_timed_out', viewer: 'v-bob', until: 99 }));
    expect(view.timedOutUntil).toBeNull();
    applyEvent(view, 4, record({ type: 'viewer_timed_out', viewer: 'v-ann', until: 99 }));
    expect(view.timedOutUntil).toBe(99);
    applyEvent(view, 5, record({
      type: 'poll_opened', poll: 1, question: '2+2?', options: ['3', '4'], multiple: false, anonymous: false, quiz: true, deadline: null,
    }));
    expect(view.poll?.state).toBe('open');
    applyEvent(view, 6, record({ type: 'poll_revealed', poll: 1, totals: [1, 3], correct: [1] }));
    expect(view.poll).toMatchObject({ state: 'revealed', totals: [1, 3], correct: [1] });
  });
});

describe('hello and close codes', () => {
  it('builds a first hello without last_seq and a reconnect hello with it', () => {
    expect(buildHello({ name: ' Ann ', browserKey: 'k'.repeat(32), ownerKey: null, lastSeq: null })).toEqual({
      type: 'hello',
      v: 1,
      name: 'Ann',
      browser_key: 'k'.repeat(32),
    });
    // A first visit has no key the school issued: the hello carries none.
    expect(buildHello({ name: '', browserKey: '', ownerKey: null, lastSeq: null })).toEqual({ type: 'hello', v: 1 });
    expect(buildHello({ name: '', browserKey: 'b'.repeat(32), ownerKey: 'abc', lastSeq: 12 })).toEqual({
      type: 'hello',
      v: 1,
      browser_key: 'b'.repeat(32),
      key: 'abc',
      last_seq: 12,
    });
    expect(buildHello({ name: '', browserKey: 'b'.repeat(32), ownerKey: null, lastSeq: 12, session: 4 })).toEqual({
      type: 'hello',
      v: 1,
      browser_key: 'b'.repeat(32),
      last_seq: 12,
      session: 4,
    });
  });

  it('uses ws: or wss: like the page', () => {
    expect(roomUrl({ protocol: 'http:', host: '127.0.0.1:7480' })).toBe('ws://127.0.0.1:7480/room');
    expect(roomUrl({ protocol: 'https:', host: 'school.example' })).toBe('wss://school.example/room');
  });

  it('stops on the codes a retry cannot fix and retries on the others', () => {
    expect(stopReasonFor(4404)).toBe('not_live');
    expect(stopReasonFor(4403)).toBe('refused');
    expect(stopReasonFor(4401)).toBe('unauthorized');
    expect(stopReasonFor(4400)).toBe('bad_hello');
    expect(stopReasonFor(4408)).toBeNull();
    expect(stopReasonFor(1006)).toBeNull();
  });
});

describe('browser key', () => {
  it('sends the issued key, else its own nonce, and keeps only issued keys', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(storedBrowserKey(storage)).toBe('');
    // Before the school issued one, the page's own nonce (32 hex) is what it sends.
    store.set(BROWSER_KEY_STORAGE_NAME, 'f'.repeat(32));
    expect(storedBrowserKey(storage)).toBe('f'.repeat(32));
    const issued = `bk1-${'a'.repeat(32)}-${'b'.repeat(32)}`;
    keepBrowserKey(storage, issued);
    expect(store.get(BROWSER_KEY_STORAGE_NAME)).toBe(issued);
    expect(storedBrowserKey(storage)).toBe(issued);
    // Anything else is neither kept nor sent.
    keepBrowserKey(storage, 'bad key!');
    expect(store.get(BROWSER_KEY_STORAGE_NAME)).toBe(issued);
    store.set(BROWSER_KEY_STORAGE_NAME, 'browser-key-ann-0001');
    expect(storedBrowserKey(storage)).toBe('');
    expect(storedBrowserKey(null)).toBe('');
  });

  it('makes 32 hex characters', () => {
    expect(randomHex32((a) => a.fill(171))).toBe('ab'.repeat(16));
  });
});

describe('RoomStore', () => {
  function setup(ownerKey: string | null = null) {
    const sockets: FakeSocket[] = [];
    const kept: string[] = [];
    const timers = new ManualTimers();
    const store = new RoomStore({
      url: 'ws://127.0.0.1:7480/room',
      browserKey: () => 'f'.repeat(32),
      keepBrowserKey: (key: string) => kept.push(key),
      ownerKey,
      openSocket: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket;
      },
      setTimeout: timers.setTimeout,
      clearTimeout: timers.clearTimeout,
      random: () => 'r4nd',
    });
    return { store, sockets, timers, kept };
  }

  it('keeps the browser key a welcome brings', () => {
    const { store, sockets, kept } = setup();
    store.join('Ann');
    sockets[0]!.open();
    sockets[0]!.receive(welcome(3));
    expect(kept).toEqual([]);
    const issued = `bk1-${'1'.repeat(32)}-${'2'.repeat(32)}`;
    sockets[0]!.receive({ ...welcome(4), browser_key: issued });
    expect(kept).toEqual([issued]);
  });

  it('joins with a hello, applies the welcome, then events', () => {
    const { store, sockets } = setup('owner');
    store.join('Ann');
    sockets[0]!.open();
    expect(sockets[0]!.sent).toEqual([{ type: 'hello', v: 1, name: 'Ann', browser_key: 'f'.repeat(32), key: 'owner' }]);
    sockets[0]!.receive(welcome(3));
    expect(store.status).toBe('live');
    sockets[0]!.receive(event(4, { type: 'chat_sent', message: msg(2) }));
    sockets[0]!.receive(event(4, { type: 'chat_sent', message: msg(3) }));
    expect(store.view?.chat.map((m) => m.id)).toEqual([1, 2]);
  });

  it('reconnects after a drop with capped backoff and sends last_seq', () => {
    const { store, sockets, timers } = setup();
    store.join('Ann');
    sockets[0]!.open();
    sockets[0]!.receive(welcome(3));
    sockets[0]!.receive(event(9, { type: 'chat_sent', message: msg(2) }));
    sockets[0]!.drop(4408);
    expect(store.status).toBe('reconnecting');
    expect(timers.delays).toEqual([500]);
    timers.runAll();
    sockets[1]!.open();
    expect(sockets[1]!.sent[0]).toMatchObject({ type: 'hello', name: 'Ann', last_seq: 9 });
    // The new welcome's snapshot already holds the catch-up events, which are skipped by seq.
    sockets[1]!.receive(welcome(11, { chat: [msg(1), msg(2), msg(3)] }));
    expect(store.view?.caughtUp).toBe(false);
    sockets[1]!.receive(event(10, { type: 'chat_sent', message: msg(3) }));
    sockets[1]!.receive({ type: 'caught_up', seq: 11 });
    expect(store.view?.caughtUp).toBe(true);
    expect(store.view?.chat.map((m) => m.id)).toEqual([1, 2, 3]);
    // Several failures in a row back off further, up to the cap.
    sockets[1]!.drop();
    timers.runAll();
    sockets[2]!.drop();
    timers.runAll();
    sockets[3]!.drop();
    expect(timers.delays).toEqual([500, 500, 1000, 2000]);
  });

  it('says so when what was missed could not be read, and keeps trying until it is caught up', () => {
    const { store, sockets, timers } = setup();
    store.join('Ann');
    sockets[0]!.open();
    sockets[0]!.receive(welcome(3));
    sockets[0]!.drop();
    timers.runAll();
    sockets[1]!.open();
    sockets[1]!.receive(welcome(8));
    // The log could not serve the catch-up: the server closed rather than skip a gap.
    sockets[1]!.drop(4500);
    expect(store.status).toBe('reconnecting');
    expect(store.connectionError).toMatch(/could not be read/);
    timers.runAll();
    sockets[2]!.open();
    sockets[2]!.receive(welcome(9));
    // Still catching up: the warning stays until the server says it is done.
    expect(store.connectionError).not.toBeNull();
    sockets[2]!.receive({ type: 'caught_up', seq: 9 });
    expect(store.connectionError).toBeNull();
    expect(store.view?.caughtUp).toBe(true);
  });

  it('stops reconnecting when no class is live', () => {
    const { store, sockets, timers } = setup();
    store.join('');
    sockets[0]!.open();
    sockets[0]!.drop(4404);
    expect(store.status).toBe('not_live');
    expect(timers.pending).toEqual([]);
  });

  it('shows a refused chat message next to the composer and a refused moderation action apart', () => {
    const { store, sockets } = setup('owner');
    store.join('Prof');
    sockets[0]!.open();
    sockets[0]!.receive(welcome(1));
    const chatId = store.sendChat('hello')!;
    expect(chatId).toMatch(/^c-1-r4nd$/);
    expect(sockets[0]!.sent[1]).toEqual({ v: 1, client_id: chatId, action: { type: 'send_chat', text: 'hello' } });
    sockets[0]!.receive({
      type: 'reply',
      reply: { type: 'rejected', client_id: chatId, error: { code: 'slow_mode', retry_after_ms: 900 }, message: 'slow mode is on' },
    });
    expect(store.composerError).toBe('slow mode is on');
    expect(store.actionError).toBeNull();
    const deleteId = store.deleteMessage(42)!;
    sockets[0]!.receive({
      type: 'reply',
      reply: { type: 'rejected', client_id: deleteId, error: { code: 'not_found' }, message: 'no such message' },
    });
    expect(store.actionError).toBe('no such message');
    // A later accepted message clears the composer's error.
    const again = store.sendChat('hello again')!;
    sockets[0]!.receive({ type: 'ack', client_id: again, seqs: [2] });
    expect(store.composerError).toBeNull();
  });

  it('shows a refused join by the name form', () => {
    const { store, sockets } = setup();
    store.join('Instructor');
    sockets[0]!.open();
    sockets[0]!.receive({
      type: 'reply',
      reply: { type: 'rejected', client_id: null, error: { code: 'name_confusable' }, message: 'that name is too close to a staff name' },
    });
    sockets[0]!.drop(4403);
    expect(store.status).toBe('refused');
    expect(store.joinError).toBe('that name is too close to a staff name');
  });

  it('marks a vote once it is acknowledged', () => {
    const { store, sockets } = setup();
    store.join('Ann');
    sockets[0]!.open();
    sockets[0]!.receive(welcome(1));
    sockets[0]!.receive(event(2, {
      type: 'poll_opened', poll: 3, question: 'Ready?', options: ['Yes', 'No'], multiple: false, anonymous: false, quiz: false, deadline: null,
    }));
    const id = store.vote(3, [0])!;
    expect(store.view?.poll?.voted).toBe(false);
    sockets[0]!.receive({ type: 'ack', client_id: id, seqs: [3] });
    expect(store.view?.poll).toMatchObject({ voted: true, your_choices: [0] });
  });

  it('refuses to send while not connected, and leaves cleanly', () => {
    const { store, sockets } = setup();
    expect(store.sendChat('hi')).toBeNull();
    expect(store.composerError).toMatch(/not connected/i);
    store.join('Ann');
    store.leave();
    expect(sockets[0]!.closed).toBe(true);
    expect(store.status).toBe('idle');
  });
});

describe('graphemeCount', () => {
  it('counts what people see as characters', () => {
    expect(graphemeCount('abc')).toBe(3);
    expect(graphemeCount('👍🏽')).toBe(1);
    expect(graphemeCount('é')).toBe(1);
  });
});

function question(id: number, patch: Partial<Question> = {}): Question {
  return { id, asker: 'v-bob', name: 'Bob', text: `question ${id}`, state: 'approved', votes: 0, asked_at: 1, ...patch };
}

function staffWelcome(seq: number, patch: Partial<Snapshot> = {}): Extract<ServerMessage, { type: 'welcome' }> {
  const w = welcome(seq, patch);
  return { ...w, viewer: 'ta-1', role: 'ta', snapshot: { ...w.snapshot, you: { ...w.snapshot.you, viewer: 'ta-1', role: 'ta', name: 'TA' } } };
}

describe('polls, Q&A and offers', () => {
  it('lists a staff member\'s polls from creation to reveal, with live totals', () => {
    const view = viewFromWelcome(staffWelcome(1));
    applyEvent(view, 2, record({
      type: 'poll_created',
      poll: { id: 1, spec: { question: 'Q?', options: ['A', 'B'], multiple: false, anonymous: false, correct: [1] }, state: 'draft', deadline: null, totals: [0, 0], ballots: [], voters: [] },
    }));
    expect(view.polls).toMatchObject([{ id: 1, state: 'draft', quiz: true, correct: [1], totals: [0, 0] }]);
    expect(view.poll).toBeNull();
    applyEvent(view, 3, record({ type: 'poll_opened', poll: 1, question: 'Q?', options: ['A', 'B'], multiple: false, anonymous: false, quiz: true, deadline: null }));
    expect(view.poll).toMatchObject({ id: 1, state: 'open', totals: [0, 0], correct: [1] });
    applyEvent(view, 4, record({ type: 'ballot_cast', poll: 1, ballot: { viewer: 'v-ann', choices: [1] }, totals: [0, 1] }));
    applyEvent(view, 5, record({ type: 'anonymous_ballot_cast', poll: 1, totals: [1, 1] }));
    expect(view.polls[0]!.totals).toEqual([1, 1]);
    expect(view.poll!.totals).toEqual([1, 1]);
    applyEvent(view, 6, record({ type: 'poll_closed', poll: 1 }));
    applyEvent(view, 7, record({ type: 'poll_revealed', poll: 1, totals: [1, 1], correct: [1] }));
    expect(view.polls[0]!.state).toBe('revealed');
    expect(view.poll!.state).toBe('revealed');
  });

  it('scores a viewer\'s quiz on reveal', () => {
    const view = viewFromWelcome(welcome(1));
    applyEvent(view, 2, record({ type: 'poll_opened', poll: 4, question: 'Q?', options: ['A', 'B'], multiple: false, anonymous: false, quiz: true, deadline: null }));
    expect(view.polls).toEqual([]);
    view.poll!.voted = true;
    view.poll!.your_choices = [0];
    applyEvent(view, 3, record({ type: 'poll_revealed', poll: 4, totals: [1, 0], correct: [0] }));
    expect(view.quizScore).toBe(1);
    expect(isCorrect([1, 0], [0, 1])).toBe(true);
    expect(isCorrect([1], [0, 1])).toBe(false);
    expect(isCorrect(null, [0])).toBe(false);
  });

  it('keeps the Q&A board: asked, approved, upvoted once, answered, highlighted, dismissed', () => {
    const view = viewFromWelcome(welcome(1, { questions: [question(1, { votes: 2 })], you: snapshot().you }));
    applyEvent(view, 2, record({ type: 'question_asked', question: question(2, { asker: 'v-ann', state: 'pending' }) }));
    expect(view.questions.map((q) => [q.id, q.state])).toEqual([[1, 'approved'], [2, 'pending']]);
    applyEvent(view, 3, record({ type: 'question_approved', question: question(2, { asker: 'v-ann' }) }));
    applyEvent(view, 4, record({ type: 'question_upvoted', question: 2, viewer: 'v-ann', votes: 3 }));
    expect(view.upvoted).toEqual([2]);
    expect(sortedQuestions(view.questions).map((q) => q.id)).toEqual([2, 1]);
    applyEvent(view, 5, record({ type: 'question_highlighted', question: 2 }));
    expect(view.highlighted).toBe(2);
    applyEvent(view, 6, record({ type: 'question_answered', question: 2 }));
    expect(view.questions.find((q) => q.id === 2)?.state).toBe('answered');
    applyEvent(view, 7, record({ type: 'question_dismissed', question: 2, asker: 'v-ann' }));
    expect(view.questions.map((q) => q.id)).toEqual([1]);
    expect(view.highlighted).toBeNull();
  });

  it('marks an answer the assistant sent by itself, for everyone', () => {
    const view = viewFromWelcome(welcome(1, { questions: [question(3, { asker: 'v-ann', state: 'pending' })] }));
    const automatic = { source: "the school's FAQ, line 9", confidence: 93 };
    applyEvent(view, 2, record({ type: 'question_answered', question: 3, answer: 'Yes, on the course page.', automatic }));
    const q = view.questions.find((x) => x.id === 3)!;
    expect([q.state, q.answer, q.automatic]).toEqual(['answered', 'Yes, on the course page.', automatic]);
    expect(automaticAnswerLabel(automatic)).toBe("Answered automatically · the school's FAQ, line 9 · 93% sure");
  });

  it('links a chat reply to the message it answers, while that message is shown', () => {
    const asked = msg(4, 'Is there a replay?');
    const reply: ChatMessage = { ...msg(5, 'Yes, tomorrow.', 'ta-1'), role: 'ta', reply_to: 4 };
    const studentReply: ChatMessage = { ...msg(6, 'thanks', 'v-bob'), reply_to: 5 };
    expect(repliedTo(reply, [asked, reply])).toBe(asked);
    expect(repliedTo(reply, [reply])).toBeNull();
    expect(repliedTo(asked, [asked, reply])).toBeNull();
    expect(hasStaffReply(asked, [asked, reply])).toBe(true);
    expect(hasStaffReply(reply, [asked, reply, studentReply])).toBe(false);
  });

  it('keeps the back channel with its author and time from the record', () => {
    const view = viewFromWelcome(staffWelcome(1));
    applyEvent(view, 2, { ...record({ type: 'back_channel_posted', name: 'TA', text: 'watch Bob' }), by: 'ta-1', at: 42 });
    expect(view.backChannel).toEqual([{ by: 'ta-1', name: 'TA', text: 'watch Bob', at: 42 }]);
  });

  it('takes offer events without breaking: staff counts, a viewer\'s own card', () => {
    const offer: Offer = {
      spec: { id: 'o1', course_id: 'c1', title: 'Next course', cta: 'Enrol', price_cents: 1000, currency: 'EUR', discount_pct: 0, checkout_url: 'https://example.test/', variants: [{ name: 'A', weight: 1 }] },
      state: 'live',
      at: 1,
      session_variant: null,
      counts: [{ shown: 0, exposures: 0, clicks: 0, dismissals: 0 }],
    };
    const staff = viewFromWelcome(staffWelcome(1));
    applyEvent(staff, 2, record({ type: 'offer_pushed', offer }));
    applyEvent(staff, 3, record({
      type: 'offer_exposed', offer: 'o1', course_id: 'c1', viewer: 'v-ann', variant: 0, variant_name: 'A', counts: { shown: 1, exposures: 1, clicks: 0, dismissals: 0 },
    }));
    expect(staff.offers[0]!.counts[0]!.exposures).toBe(1);
    applyEvent(staff, 4, record({ type: 'offer_withdrawn', offer: 'o1', course_id: 'c1' }));
    expect(staff.offers[0]!.state).toBe('withdrawn');

    const viewer = viewFromWelcome(welcome(1));
    const card = {
      offer: 'o1', course_id: 'c1', variant: 0, variant_name: 'A', title: 'Next course', cta: 'Enrol', price_cents: 1000, currency: 'EUR',
      discount_pct: 0, final_price_cents: 1000, checkout_url: 'https://example.test/?ref=x', exposed: false, clicked: false,
    };
    applyEvent(viewer, 2, record({ type: 'offer_shown', viewer: 'v-bob', card }));
    expect(viewer.offer).toBeNull();
    applyEvent(viewer, 3, record({ type: 'offer_shown', viewer: 'v-ann', card }));
    expect(viewer.offer?.offer).toBe('o1');
    applyEvent(viewer, 4, record({
      type: 'offer_dismissed', offer: 'o1', course_id: 'c1', viewer: 'v-ann', variant: 0, variant_name: 'A', counts: { shown: 1, exposures: 1, clicks: 0, dismissals: 1 },
    }));
    expect(viewer.offer).toBeNull();
  });

  it("marks a viewer's card seen and clicked when the room acknowledges them (staff-only events)", () => {
    const viewer = viewFromWelcome(welcome(1));
    viewer.offer = {
      offer: 'o1', course_id: 'c1', variant: 1, variant_name: 'B', title: 'Next course', cta: 'Enrol', price_cents: 1000, currency: 'EUR',
      discount_pct: 0, final_price_cents: 1000, checkout_url: 'https://example.test/?ref=x', exposed: false, clicked: false,
    };
    applyAck(viewer, { type: 'offer_exposed', offer: 'other', variant: 1 });
    expect(viewer.offer.exposed).toBe(false);
    applyAck(viewer, { type: 'offer_exposed', offer: 'o1', variant: 1 });
    applyAck(viewer, { type: 'offer_clicked', offer: 'o1', variant: 1 });
    expect(viewer.offer).toMatchObject({ exposed: true, clicked: true });
  });

  it('skips an event type this build does not know, keeping its seq', () => {
    const view = viewFromWelcome(welcome(1));
    expect(applyEvent(view, 2, record({ type: 'something_new' } as unknown as RoomEvent))).toBe(true);
    expect(view.seq).toBe(2);
  });

  it('shows refusals where they belong: Q&A, votes, moderation', () => {
    const sockets: FakeSocket[] = [];
    const timers = new ManualTimers();
    const store = new RoomStore({
      url: 'ws://127.0.0.1/room',
      browserKey: () => 'k'.repeat(32),
      keepBrowserKey: () => {},
      ownerKey: `lm_${'a'.repeat(64)}`,
      openSocket: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket;
      },
      setTimeout: timers.setTimeout,
      clearTimeout: timers.clearTimeout,
      random: () => 'r',
    });
    expect(store.moderator).toBe(true);
    store.join('TA');
    sockets[0]!.open();
    expect(sockets[0]!.sent[0]).toMatchObject({ type: 'hello', key: `lm_${'a'.repeat(64)}` });
    sockets[0]!.receive(staffWelcome(1));
    const ask = store.ask('Why?')!;
    expect(store.askPending).toBe(ask);
    sockets[0]!.receive({ type: 'reply', reply: { type: 'rejected', client_id: ask, error: { code: 'full', limit: 200 }, message: 'too many questions' } });
    expect(store.qaError).toBe('too many questions');
    expect(store.askPending).toBeNull();
    const vote = store.vote(1, [0])!;
    sockets[0]!.receive({ type: 'reply', reply: { type: 'rejected', client_id: vote, error: { code: 'poll_closed' }, message: 'the poll is closed' } });
    expect(store.pollError).toBe('the poll is closed');
    const open = store.openPoll(9)!;
    sockets[0]!.receive({ type: 'reply', reply: { type: 'rejected', client_id: open, error: { code: 'not_found' }, message: 'no such poll' } });
    expect(store.actionError).toBe('no such poll');
    expect(store.composerError).toBeNull();
    expect(isModeratorToken(null)).toBe(false);
    expect(isModeratorToken('deadbeef')).toBe(false);
  });
});
