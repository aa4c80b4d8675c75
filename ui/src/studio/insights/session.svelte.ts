import type { ApiError, BuyerModel, LikelyBuyers, ReportFiles, ReportImages, StudioEvent, ViewerData, ViewerErased } from '../../lib/bindings/api';
import { toApiError, type Platform } from '../../lib/platform';
import { asSnapshot, type EngagementSnapshot } from './engagement';

/**
 * One past class on the session page: its engagement recomputed from the log, its likely
 * buyers (or why there are none yet), the report export, and per-viewer export and erasure.
 */
export class SessionInsightsStore {
  sessionId = $state<number | null>(null);
  snapshot = $state.raw<EngagementSnapshot | null>(null);
  loading = $state(false);
  error = $state<ApiError | null>(null);

  buyers = $state.raw<LikelyBuyers | null>(null);
  /** Why there are no likely buyers (too little data is a `conflict` with its reason). */
  buyersProblem = $state<ApiError | null>(null);
  buyersLoading = $state(false);
  /** Logistic regression (the default) or the random forest. */
  buyerModel = $state<BuyerModel>('logistic');
  /** Trees grown so far while a forest trains, from `training_progress` events. */
  training = $state<{ done: number; total: number } | null>(null);

  report = $state.raw<ReportFiles | null>(null);
  reportError = $state<ApiError | null>(null);
  reporting = $state(false);

  /** The class's charts as pictures to save or paste (drawn on demand). */
  images = $state.raw<ReportImages | null>(null);
  imagesError = $state<ApiError | null>(null);
  drawing = $state(false);

  /** The viewer whose erasure waits for confirmation. */
  confirmingErase = $state<string | null>(null);
  erasing = $state<string | null>(null);
  erased = $state.raw<(ViewerErased & { label: string }) | null>(null);
  viewerError = $state<ApiError | null>(null);

  readonly #platform: Platform;
  #ticket = 0;
  #buyersTicket = 0;

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  start(): () => void {
    const unsubscribe = this.#platform.subscribe((ev) => this.handle(ev));
    return () => {
      this.#ticket += 1;
      this.#buyersTicket += 1;
      unsubscribe();
    };
  }

  handle(ev: StudioEvent): void {
    if (ev.kind !== 'training_progress' || !this.buyersLoading || ev.model !== this.buyerModel) return;
    this.training = { done: ev.done, total: ev.total };
  }

  /** Ranks this class's attendees again with `model`. */
  async chooseModel(model: BuyerModel): Promise<void> {
    if (model === this.buyerModel) return;
    this.buyerModel = model;
    if (this.sessionId !== null) await this.#loadBuyers(this.sessionId);
  }

  async #loadBuyers(id: number): Promise<void> {
    const ticket = ++this.#buyersTicket;
    this.buyers = null;
    this.buyersProblem = null;
    this.training = null;
    this.buyersLoading = true;
    try {
      const buyers = await this.#platform.call('likely_buyers', { sessionId: id, model: this.buyerModel });
      if (ticket === this.#buyersTicket) this.buyers = buyers;
    } catch (err) {
      if (ticket === this.#buyersTicket) this.buyersProblem = toApiError(err);
    } finally {
      if (ticket === this.#buyersTicket) {
        this.buyersLoading = false;
        this.training = null;
      }
    }
  }

  /** Shows class `id`: its engagement first, then its likely buyers (a model is trained). */
  async select(id: number): Promise<void> {
    const ticket = ++this.#ticket;
    this.#buyersTicket += 1;
    this.sessionId = id;
    this.snapshot = null;
    this.error = null;
    this.buyers = null;
    this.buyersProblem = null;
    this.report = null;
    this.reportError = null;
    this.images = null;
    this.imagesError = null;
    this.confirmingErase = null;
    this.erased = null;
    this.viewerError = null;
    this.loading = true;
    try {
      const snapshot = asSnapshot(await this.#platform.call('session_engagement', { sessionId: id }));
      if (ticket === this.#ticket) this.snapshot = snapshot;
    } catch (err) {
      if (ticket === this.#ticket) this.error = toApiError(err);
    } finally {
      if (ticket === this.#ticket) this.loading = false;
    }
    if (ticket !== this.#ticket) return;
    await this.#loadBuyers(id);
  }

  /** Writes the class report (HTML and CSV) into the data folder. */
  async exportReport(): Promise<void> {
    const id = this.sessionId;
    if (id === null || this.reporting) return;
    this.reporting = true;
    this.reportError = null;
    try {
      const files = await this.#platform.call('class_report', { sessionId: id });
      if (id === this.sessionId) this.report = files;
    } catch (err) {
      if (id === this.sessionId) this.reportError = toApiError(err);
    } finally {
      this.reporting = false;
    }
  }

  /** Draws the class's charts as pictures: the summary first, then each chart. */
  async makeImages(): Promise<void> {
    const id = this.sessionId;
    if (id === null || this.drawing) return;
    this.drawing = true;
    this.imagesError = null;
    try {
      const images = await this.#platform.call('report_images', { sessionId: id });
      if (id === this.sessionId) this.images = images;
    } catch (err) {
      if (id === this.sessionId) this.imagesError = toApiError(err);
    } finally {
      this.drawing = false;
    }
  }

  /** Everything the school holds about one viewer, to download. */
  async viewerData(viewer: string): Promise<ViewerData | null> {
    this.viewerError = null;
    try {
      return await this.#platform.call('viewer_data', { viewer });
    } catch (err) {
      this.viewerError = toApiError(err);
      return null;
    }
  }

  askErase(viewer: string | null): void {
    this.confirmingErase = viewer;
  }

  /** Erases a viewer for good (after confirmation); their row leaves the table at once. */
  async erase(viewer: string, label: string): Promise<void> {
    if (this.erasing !== null) return;
    this.erasing = viewer;
    this.viewerError = null;
    try {
      const done = await this.#platform.call('erase_viewer', { viewer });
      this.erased = { ...done, label };
      this.confirmingErase = null;
      const snapshot = this.snapshot;
      if (snapshot) this.snapshot = { ...snapshot, viewers: snapshot.viewers.filter((v) => v.viewer !== viewer) };
      // The totals counted them too: recompute the class from what the log holds now.
      const id = this.sessionId;
      const ticket = this.#ticket;
      if (id !== null) {
        const fresh = asSnapshot(await this.#platform.call('session_engagement', { sessionId: id }));
        if (ticket === this.#ticket) this.snapshot = fresh;
      }
    } catch (err) {
      this.viewerError = toApiError(err);
    } finally {
      this.erasing = null;
    }
  }
}

/** A viewer's data as a JSON file's text (pretty-printed, stable field order from the host). */
export function viewerDataFile(data: ViewerData): { name: string; text: string } {
  const safe = data.viewer.replace(/[^0-9a-z_-]/gi, '').slice(0, 32) || 'viewer';
  return { name: `lectern-viewer-${safe}.json`, text: `${JSON.stringify(data, null, 2)}\n` };
}
