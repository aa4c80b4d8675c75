// An in-memory Platform for unit tests of stores: scripted answers, recorded calls, and events
// pushed by the test.
import type { ApiError, Commands, StudioEvent } from '../lib/bindings/api';
import type { Platform, RoomTransport, WindowSource } from '../lib/platform/types';

type Handler<C extends keyof Commands> = (args: Commands[C]['args']) => Commands[C]['result'] | Promise<Commands[C]['result']>;

export class FakePlatform implements Platform {
  readonly kind = 'web' as const;
  readonly calls: { command: keyof Commands; args: unknown }[] = [];
  readonly #handlers = new Map<keyof Commands, Handler<keyof Commands>>();
  readonly #listeners = new Set<(ev: StudioEvent) => void>();

  /** Sets how `command` answers from now on (a thrown ApiError becomes a rejection). */
  on<C extends keyof Commands>(command: C, handler: Handler<C>): this {
    this.#handlers.set(command, handler as unknown as Handler<keyof Commands>);
    return this;
  }

  fail(command: keyof Commands, error: ApiError): this {
    this.#handlers.set(command, () => {
      throw error;
    });
    return this;
  }

  call<C extends keyof Commands>(command: C, args: Commands[C]['args']): Promise<Commands[C]['result']> {
    this.calls.push({ command, args });
    const handler = this.#handlers.get(command) as Handler<C> | undefined;
    if (!handler) return Promise.reject({ code: 'internal', message: `no fake answer for ${command}` });
    return Promise.resolve().then(() => handler(args));
  }

  subscribe(onEvent: (ev: StudioEvent) => void): () => void {
    this.#listeners.add(onEvent);
    return () => this.#listeners.delete(onEvent);
  }

  /** The room transport `roomTransport()` answers. */
  room: RoomTransport | null = null;

  roomTransport(): RoomTransport | null {
    return this.room;
  }

  /** The window source `windowSource()` answers. */
  source: WindowSource | null = null;

  windowSource(): WindowSource | null {
    return this.source;
  }

  emit(ev: StudioEvent): void {
    for (const listener of this.#listeners) listener(ev);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  count(command: keyof Commands): number {
    return this.calls.filter((c) => c.command === command).length;
  }
}

/** A promise with its resolve and reject in hand, to answer calls in a chosen order. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (reason: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}
