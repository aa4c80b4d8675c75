// "Share whether this tab is in view": for viewers who opt in, the page tells the room when the
// class's tab is hidden or shown again, so the instructor's engagement numbers count time in
// view rather than time connected. A change is sent once it has held for a second (the room
// takes one change a second), and only when it differs from what was sent last.

/** How long a visibility must hold before it is sent. */
export const SETTLE_MS = 1100;

export interface AttentionDeps {
  /** Sends `set_tab_visible`; false when it could not be sent (not connected). */
  send: (visible: boolean) => boolean;
  visible: () => boolean;
  onChange: (listener: () => void) => () => void;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

export class AttentionReporter {
  readonly #deps: AttentionDeps;
  #sent: boolean | null = null;
  #timer: unknown = null;
  #unlisten: (() => void) | null = null;

  constructor(deps: AttentionDeps) {
    this.#deps = deps;
  }

  get running(): boolean {
    return this.#unlisten !== null;
  }

  /** Starts reporting: the current state at once, then every settled change. */
  start(): void {
    if (this.#unlisten !== null) return;
    this.#unlisten = this.#deps.onChange(() => this.#schedule());
    this.#report();
  }

  /** Stops reporting; a hidden state last sent is taken back (the viewer no longer shares it). */
  stop(): void {
    this.#unlisten?.();
    this.#unlisten = null;
    if (this.#timer !== null) this.#deps.clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#sent === false) this.#deps.send(true);
    this.#sent = null;
  }

  #schedule(): void {
    if (this.#timer !== null) this.#deps.clearTimeout(this.#timer);
    this.#timer = this.#deps.setTimeout(() => {
      this.#timer = null;
      this.#report();
    }, SETTLE_MS);
  }

  #report(): void {
    const visible = this.#deps.visible();
    if (visible === this.#sent) return;
    if (this.#deps.send(visible)) this.#sent = visible;
  }
}
