import type { IconName } from '../lib/ui/icons';
import type { Route } from './router.svelte';

/** A part of the studio, as the home screen's cards present it. */
export interface Feature {
  /** What the home card says about its state; null when it works. */
  badge: string | null;
  route: Route & ('broadcast' | 'chat' | 'polls' | 'qa' | 'offers' | 'insights');
  title: string;
  icon: IconName;
  /** One sentence of what it does. */
  summary: string;
  /** A few words of what it covers, for the larger card on the home screen. */
  keywords?: string[];
}

export const FEATURES: readonly Feature[] = [
  {
    route: 'broadcast',
    title: 'Broadcast',
    icon: 'broadcast',
    badge: null,
    summary: 'Start and end a class and go live with the built-in test card, OBS or a browser tab (WHIP); students watch from the viewer link.',
    keywords: ['Start a class', 'Viewer link', 'OBS and WHIP', 'Camera or screen from a browser tab'],
  },
  {
    route: 'chat',
    title: 'Chat',
    icon: 'chat',
    badge: null,
    summary: 'Read the class chat live, pin and delete messages, slow it down, and review held messages.',
  },
  {
    route: 'polls',
    badge: null,
    title: 'Polls',
    icon: 'polls',
    summary: 'Ask the class a quick question or a quiz and see the answers arrive as they vote.',
  },
  {
    route: 'qa',
    badge: null,
    title: 'Q&A',
    icon: 'info',
    summary: 'Students ask and upvote questions; you approve, answer and put one on screen.',
  },
  {
    route: 'offers',
    badge: null,
    title: 'Offers',
    icon: 'offers',
    summary: 'Put your next course on viewers’ pages at the right moment, test variants of it, and see which one sells.',
  },
  {
    route: 'insights',
    badge: null,
    title: 'Insights',
    icon: 'insights',
    summary: 'See engagement live and after class: retention, every viewer’s score, reports, next courses and likely buyers.',
  },
];

export function featureFor(route: Feature['route']): Feature {
  const feature = FEATURES.find((f) => f.route === route);
  if (!feature) throw new Error(`No feature for ${route}`);
  return feature;
}
