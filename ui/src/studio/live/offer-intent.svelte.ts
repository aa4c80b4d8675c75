// "Make it an offer": the course chosen on the live panel, waiting for the Offers screen to
// take it as its preselected course. One small shared store, so no route needs a parameter.

export interface OfferIntent {
  courseId: string;
  title: string;
}

class OfferIntentStore {
  /** The course to preselect, until the Offers screen takes it. */
  pending = $state<OfferIntent | null>(null);

  propose(intent: OfferIntent): void {
    this.pending = { ...intent };
  }

  /** The course to preselect, once: it is cleared as it is taken. */
  take(): OfferIntent | null {
    const intent = this.pending;
    this.pending = null;
    return intent;
  }
}

export const offerIntent = new OfferIntentStore();
