import type { IconName } from '../lib/ui/icons';
import type { Route } from './router.svelte';

/** A part of the studio that is planned but not built yet. */
export interface Feature {
  route: Route & ('broadcast' | 'chat' | 'polls' | 'offers' | 'insights');
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
    summary: 'Go live from your camera, microphone or screen and stream the class to every student.',
    keywords: ['Camera', 'Microphone', 'Screen sharing', 'Preview', 'WHIP'],
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
    summary: 'Read and answer questions from the class, with your teaching assistants moderating.',
    plans: [
      'See the class chat live, next to your broadcast.',
      'Hide messages and time out viewers, alone or with teaching assistants.',
      'Pin a question to answer it on stream.',
    ],
  },
  {
    route: 'polls',
    title: 'Polls',
    icon: 'polls',
    summary: 'Ask the class a quick question and see the answers arrive as they vote.',
    plans: [
      'Prepare polls before class and open them with one click.',
      'Watch the results update while students answer.',
      'Close a poll and share the result with the class.',
    ],
  },
  {
    route: 'offers',
    title: 'Offers',
    icon: 'offers',
    summary: 'Present your next course to the class at the right moment, with a clear price.',
    plans: [
      'Show an offer for your next course on the viewer page.',
      'Try variants of an offer and compare how they do.',
      'See views, clicks and purchases per session.',
    ],
  },
  {
    route: 'insights',
    title: 'Insights',
    icon: 'insights',
    summary: 'Understand attendance, engagement and sales across your past sessions.',
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
