// When an offer card counts as seen: at least half of it on screen, in a visible tab, for a full
// second without a break. Counted once; a card scrolled past or left in a background tab is not.

/** The share of the card that must be in view. */
export const EXPOSURE_RATIO = 0.5;
/** How long it must stay in view, in ms. */
export const EXPOSURE_DWELL_MS = 1000;

export interface ExposureDeps {
  /** Reports the card's visible share whenever it changes; returns the function that stops. */
  observe: (element: Element, onRatio: (ratio: number) => void) => () => void;
  /** Whether the page is the one on screen. */
  pageVisible: () => boolean;
  /** Calls `fn` when the page's visibility changes; returns the function that stops. */
  onPageVisibility: (fn: () => void) => () => void;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

/**
 * Calls `onExposed` once, the first time `element` has been at least half visible in a visible
 * page for a second. Returns the function that stops watching (and cancels a pending count).
 */
export function watchExposure(element: Element, onExposed: () => void, deps: ExposureDeps): () => void {
  let ratio = 0;
  let timer: unknown = null;
  let done = false;
  let stops: (() => void)[] = [];

  const inView = () => ratio >= EXPOSURE_RATIO - 0.001 && deps.pageVisible();
  const stop = () => {
    if (timer !== null) deps.clearTimeout(timer);
    timer = null;
    for (const s of stops) s();
    stops = [];
  };
  const update = () => {
    if (done) return;
    if (inView()) {
      timer ??= deps.setTimeout(() => {
        timer = null;
        if (done || !inView()) return;
        done = true;
        stop();
        onExposed();
      }, EXPOSURE_DWELL_MS);
    } else if (timer !== null) {
      deps.clearTimeout(timer);
      timer = null;
    }
  };

  stops.push(
    deps.observe(element, (r) => {
      ratio = r;
      update();
    }),
  );
  stops.push(deps.onPageVisibility(update));
  return () => {
    done = true;
    stop();
  };
}

/** The browser's IntersectionObserver and page visibility. */
export function browserExposureDeps(): ExposureDeps {
  return {
    observe: (element, onRatio) => {
      const observer = new IntersectionObserver(
        (entries) => {
          const last = entries[entries.length - 1];
          if (last) onRatio(last.isIntersecting ? last.intersectionRatio : 0);
        },
        { threshold: [0, 0.25, EXPOSURE_RATIO, 0.75, 1] },
      );
      observer.observe(element);
      return () => observer.disconnect();
    },
    pageVisible: () => document.visibilityState === 'visible',
    onPageVisibility: (fn) => {
      document.addEventListener('visibilitychange', fn);
      return () => document.removeEventListener('visibilitychange', fn);
    },
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (handle) => window.clearTimeout(handle as number),
  };
}
