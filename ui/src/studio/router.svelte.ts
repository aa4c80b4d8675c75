/** The screens of the studio console. */
export const ROUTES = ['home', 'broadcast', 'chat', 'polls', 'qa', 'offers', 'insights', 'data', 'team', 'settings'] as const;
export type Route = (typeof ROUTES)[number];

/** The screens a TA (a moderator link) has: moderation, polls and Q&A; the first is the default. */
export const TA_ROUTES = ['chat', 'polls', 'qa'] as const satisfies readonly Route[];

/** The screen to show for `route`: a TA asking for anything else gets the chat. */
export function screenFor(route: Route, moderator: boolean): Route {
  return moderator && !(TA_ROUTES as readonly Route[]).includes(route) ? TA_ROUTES[0] : route;
}

/** The screen for a fragment such as `#/settings`; anything else (including `#key=...`) is home. */
export function routeFromHash(hash: string): Route {
  const match = /^#\/([a-z]+)\/?$/.exec(hash);
  const name = match?.[1];
  return (ROUTES as readonly string[]).includes(name ?? '') ? (name as Route) : 'home';
}

export function hrefFor(route: Route): string {
  return route === 'home' ? '#/' : `#/${route}`;
}

/** The current screen, following the fragment of the address (client-side only). */
export class Router {
  current = $state<Route>('home');

  /** Starts following `hashchange`; returns the function that stops. */
  start(win: Window): () => void {
    const follow = () => {
      this.current = routeFromHash(win.location.hash);
    };
    follow();
    win.addEventListener('hashchange', follow);
    return () => win.removeEventListener('hashchange', follow);
  }
}
