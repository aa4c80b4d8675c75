import { getPlatform, type Platform } from '../../lib/platform';

/**
 * Makes a screen's store once the platform is ready and starts it; returns the function that
 * stops it (for an `$effect`'s cleanup). `set` receives the store, then null once stopped.
 */
export function attach<T extends { start(): () => void }>(make: (platform: Platform) => T, set: (store: T | null) => void): () => void {
  let stop: (() => void) | null = null;
  let gone = false;
  void getPlatform().then((platform) => {
    if (gone) return;
    const store = make(platform);
    stop = store.start();
    set(store);
  });
  return () => {
    gone = true;
    stop?.();
    set(null);
  };
}
