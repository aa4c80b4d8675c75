import type { IconName } from '../lib/ui/icons';
import type { Route } from './router.svelte';

/** A part of the studio: built, partly built, or planned. */
export interface Feature {
  /** What the home card says about its state; null when it works. */
  badge: string | null;
  route: Route & ('broadcast' | 'chat' | 'polls' | 'qa' | 'offers' | 'insights');
  title: string;
  icon: IconName;
  /** One sentence of what it will do. */
  summary: string;
  /** What the screen will hold, shown on its placeholder page. */
  plans: string[];
  /** A few words of what it will cover, for the larger card on the home screen. */
  keywords?: string[];
}

export const FEATURES: readonly Feature[] = [
  {
    route: 'broadcast',
    title: 'Broadcast',
    icon: 'broadcast',
    badge: 'Video coming soon',
    summary: 'Start and end a class: students join from the viewer link. Streaming your camera or screen comes next.',
    keywords: ['Start a class', 'Viewer link', 'Camera (soon)', 'Screen sharing (soon)'],
    plans: [
      'Pick a camera, microphone or screen and preview it before going live.',
      'Start and end a session; students join from the viewer link.',
      'Publish from this computer or from a browser over WHIP.',
    ],
  },
  {
    route: 'chat',
    title: 'Chat',
    icon: 'chat',
    badge: null,
    summary: 'Read the class chat live, pin and delete messages, slow it down, and review held messages.',
    plans: [
      'See the class chat live, next to your broadcast.',
      'Hide messages and time out viewers, alone or with teaching assistants.',
      'Pin a question to answer it on stream.',
    ],
  },
  {
    route: 'polls',
    badge: null,
    title: 'Polls',
    icon: 'polls',
    summary: 'Ask the class a quick question or a quiz and see the answers arrive as they vote.',
    plans: [
      'Prepare polls before class and open them with one click.',
      'Watch the results update while students answer.',
      'Close a poll and share the result with the class.',
    ],
  },
  {
    route: 'qa',
    badge: null,
    title: 'Q&A',
    icon: 'info',
    summary: 'Students ask and upvote questions; you approve, answer and put one on screen.',
    plans: [
      'Questions sorted by votes, waiting for your approval.',
      'Mark questions answered or dismiss them.',
      'Highlight the question you are answering on every viewer page.',
    ],
  },
  {
    route: 'offers',
    badge: null,
    title: 'Offers',
    icon: 'offers',
    summary: 'Put your next course on viewers’ pages at the right moment, test variants of it, and see which one sells.',
    plans: [
      'Show an offer for your next course on the viewer page.',
      'Try variants of an offer and compare how they do.',
      'See views, clicks and purchases per variant.',
    ],
  },
  {
    route: 'insights',
    badge: null,
    title: 'Insights',
    icon: 'insights',
    summary: 'See engagement live and after class: retention, every viewer’s score, reports, next courses and likely buyers.',
    plans: [
      'Attendance over time for each session.',
      'Chat, reactions and poll answers per minute of class.',
      'Which offers led to purchases.',
    ],
  },
];

export function featureFor(route: Feature['route']): Feature {
  const feature = FEATURES.find((f) => f.route === route);
  if (!feature) throw new Error(`No feature for ${route}`);
  return feature;
}
