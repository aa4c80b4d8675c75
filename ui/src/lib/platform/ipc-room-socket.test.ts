import { describe, expect, it } from 'vitest';
import { settle } from '../../test-support/fake-platform';
import { IpcRoomSocket, type RoomIpc } from './ipc-room-socket';

/** A scripted IPC: records calls, lets the test push frames and answer the join. */
function fakeIpc() {
  const calls: string[] = [];
  let push: (frame: unknown) => void = () => {};
  let answerJoin: (connection: number) => void = () => {};
  let failJoin: () => void = () => {};
  const sends: { connection: number; frame: string }[] = [];
  let releaseSend: (() => void) | null = null;
  let holdSends = false;
  const ipc: RoomIpc = {
    join(hello, onFrame) {
      calls.push(`join ${JSON.stringify(hello)}`);
      push = onFrame;
      return new Promise((resolve, reject) => {
        answerJoin = (connection) => resolve({ connection });
        failJoin = () => reject({ code: 'internal', message: 'gone' });
      });
    },
    send(connection, frame) {
      sends.push({ connection, frame });
      calls.push(`send ${frame}`);
      if (!holdSends) return Promise.resolve();
      return new Promise<void>((resolve) => {
        releaseSend = resolve;
      });
    },
    leave(connection) {
      calls.push(`leave ${connection}`);
      return Promise.resolve();
    },
  };
  return {
    ipc,
    calls,
    sends,
    push: (frame: unknown) => push(frame),
    answerJoin: (connection: number) => answerJoin(connection),
    failJoin: () => failJoin(),
    hold: () => {
      holdSends = true;
    },
    release: () => {
      holdSends = false;
      releaseSend?.();
    },
  };
}

describe('the room over IPC', () => {
  it('opens, joins with the first frame, and delivers frames as parsed values', async () => {
    const fake = fakeIpc();
    const socket = new IpcRoomSocket(fake.ipc);
    const events: string[] = [];
    const messages: unknown[] = [];
    socket.onopen = () => events.push('open');
    socket.onmessage = (ev) => messages.push(ev.data);
    await settle();
    expect(events).toEqual(['open']);

    socket.send(JSON.stringify({ type: 'hello', v: 1, browser_key: 'k' }));
    expect(fake.calls).toEqual(['join {"type":"hello","v":1,"browser_key":"k"}']);
    fake.push({ type: 'welcome', seq: 3 });
    expect(messages).toEqual([{ type: 'welcome', seq: 3 }]);
  });

  it('holds frames sent while joining and sends every frame in order, one after another', async () => {
    const fake = fakeIpc();
    const socket = new IpcRoomSocket(fake.ipc);
    socket.send('{"type":"hello"}');
    socket.send('{"n":1}');
    socket.send('{"n":2}');
    await settle();
    expect(fake.sends).toEqual([]);
    fake.hold();
    fake.answerJoin(7);
    await settle();
    // The second frame waits until the first was taken.
    expect(fake.sends).toEqual([{ connection: 7, frame: '{"n":1}' }]);
    fake.release();
    await settle();
    expect(fake.sends).toEqual([
      { connection: 7, frame: '{"n":1}' },
      { connection: 7, frame: '{"n":2}' },
    ]);
  });

  it('turns the engine’s closed frame into a close with its code, and leaves', async () => {
    const fake = fakeIpc();
    const socket = new IpcRoomSocket(fake.ipc);
    const closes: unknown[] = [];
    const messages: unknown[] = [];
    socket.onclose = (ev) => closes.push(ev);
    socket.onmessage = (ev) => messages.push(ev.data);
    socket.send('{"type":"hello"}');
    fake.answerJoin(2);
    await settle();
    fake.push({ type: 'closed', code: 4410, reason: 'the class has ended' });
    expect(closes).toEqual([{ code: 4410, reason: 'the class has ended' }]);
    expect(messages).toEqual([]);
    expect(fake.calls.at(-1)).toBe('leave 2');
    // Nothing after the end.
    fake.push({ type: 'event', seq: 9 });
    expect(messages).toEqual([]);
    expect(() => socket.send('{}')).toThrow();
  });

  it('a join the IPC refuses closes abnormally, so the client retries', async () => {
    const fake = fakeIpc();
    const socket = new IpcRoomSocket(fake.ipc);
    const closes: unknown[] = [];
    socket.onclose = (ev) => closes.push(ev);
    socket.send('{"type":"hello"}');
    fake.failJoin();
    await settle();
    expect(closes).toEqual([{ code: 1006, reason: 'could not reach the room' }]);
  });

  it('closing before the join answered leaves as soon as it does', async () => {
    const fake = fakeIpc();
    const socket = new IpcRoomSocket(fake.ipc);
    socket.send('{"type":"hello"}');
    socket.close();
    fake.answerJoin(5);
    await settle();
    expect(fake.calls.at(-1)).toBe('leave 5');
  });
});
