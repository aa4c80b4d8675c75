import type { ApiError, LiveStatus, NetworkAccess, Overview, StudioEvent } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';

/** Which action of the overview is waiting for the host. */
export type OverviewAction = 'open_demo' | 'create_school' | 'network';

/**
 * The studio overview, held in one place: loaded once, refetched on `school_changed`,
 * patched on `network_changed`. Screens read it and call its actions; they never poll.
 */
export class OverviewStore {
  /** The latest overview; null until the first load answers. */
  data = $state<Overview | null>(null);
  /** The last failure of a load or an action, until the next success or dismissal. */
  error = $state<ApiError | null>(null);
  loading = $state(false);
  pending = $state<OverviewAction | null>(null);

  readonly #platform: Platform;
  // Each load or action that replaces `data` takes a ticket; answers to older tickets are stale.
  #ticket = 0;
  #networkSeen: { ticket: number; network: NetworkAccess } | null = null;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  /** Subscribes to events, then loads. Returns the function that stops listening. */
  start(): () => void {
    const unsubscribe = this.#platform.subscribe((ev) => this.handle(ev));
    void this.load();
    return unsubscribe;
  }

  handle(ev: StudioEvent): void {
    switch (ev.kind) {
      case 'school_changed':
        void this.load();
        return;
      case 'network_changed':
        this.#applyNetwork(ev.network);
        return;
      case 'backup_progress':
        // Held by the backup store of the settings feature.
        return;
      case 'moderator_link_revoked':
        // Held by the Team screen.
        return;
      case 'import_progress':
        // Held by the import screen.
        return;
      case 'broadcast_stats':
        // Held by the broadcast screen.
        return;
      case 'training_progress':
        // Held by the likely buyers card.
        return;
      case 'storage_problem':
        if (this.data !== null) this.data = { ...this.data, storageProblem: ev.error };
        return;
      case 'storage_recovered':
        if (this.data !== null) this.data = { ...this.data, storageProblem: null };
        return;
      case 'recording_notice':
        if (this.data !== null) this.data = { ...this.data, recordingNotice: ev.notice };
        return;
      default:
        ev satisfies never;
    }
  }

  async load(): Promise<void> {
    const ticket = ++this.#ticket;
    this.loading = true;
    try {
      const overview = await this.#platform.call('overview', {});
      if (ticket !== this.#ticket) return;
      // A network change announced while this load was under way is at least as new.
      const seen = this.#networkSeen;
      this.data = seen !== null && seen.ticket === ticket ? { ...overview, network: seen.network } : overview;
      this.error = null;
    } catch (err) {
      if (ticket !== this.#ticket) return;
      this.error = toApiError(err);
    } finally {
      if (ticket === this.#ticket) this.loading = false;
    }
  }

  openDemoSchool(): Promise<boolean> {
    return this.#replaceWith('open_demo', () => this.#platform.call('open_demo_school', {}));
  }

  createSchool(name: string): Promise<boolean> {
    return this.#replaceWith('create_school', () => this.#platform.call('create_school', { name }));
  }

  async setNetworkAccess(lanOpen: boolean): Promise<boolean> {
    if (this.pending !== null) return false;
    this.pending = 'network';
    try {
      this.#applyNetwork(await this.#platform.call('set_network_access', { lanOpen }));
      this.error = null;
      return true;
    } catch (err) {
      this.error = toApiError(err);
      return false;
    } finally {
      this.pending = null;
    }
  }

  /** Shows a live status a command just returned (the `school_changed` refetch follows). */
  applyLive(live: LiveStatus): void {
    if (this.data !== null) this.data = { ...this.data, live };
  }

  dismissError(): void {
    this.error = null;
  }

  async #replaceWith(action: OverviewAction, run: () => Promise<Overview>): Promise<boolean> {
    if (this.pending !== null) return false;
    this.pending = action;
    try {
      const overview = await run();
      // Whatever a load started before this action returns would be older than this.
      this.#ticket += 1;
      this.loading = false;
      this.data = overview;
      this.error = null;
      return true;
    } catch (err) {
      this.error = toApiError(err);
      return false;
    } finally {
      this.pending = null;
    }
  }

  #applyNetwork(network: NetworkAccess): void {
    this.#networkSeen = { ticket: this.#ticket, network };
    if (this.data !== null) this.data = { ...this.data, network };
  }
}
