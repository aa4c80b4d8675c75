import type { NetworkAccess, Overview } from '../lib/bindings/api';

export const LOCAL_ONLY: NetworkAccess = { lanOpen: false, bind: '127.0.0.1:7480', urls: ['http://127.0.0.1:7480'], publicUrl: null };
export const LAN_OPEN: NetworkAccess = {
  lanOpen: true,
  bind: '0.0.0.0:7480',
  urls: ['http://127.0.0.1:7480', 'http://192.0.2.10:7480'],
  publicUrl: null,
};

/** An overview of a small demo school, with any field replaced. */
export function demoOverview(patch: Partial<Overview> = {}): Overview {
  return {
    school: { name: 'Demo Guitar School', isDemo: true, dbPath: '/tmp/demo.sqlite', createdAtMs: 1_700_000_000_000, timeZone: 'UTC' },
    counts: { courses: 3, learners: 42, purchases: 17, sessions: 5, events: 900 },
    schoolProblem: null,
    storageProblem: null,
    recordingNotice: null,
    live: { state: 'offline' },
    network: LOCAL_ONLY,
    recentSessions: [],
    appVersion: '0.1.0',
    ...patch,
  };
}

export function noSchoolOverview(): Overview {
  return demoOverview({ school: null, counts: null });
}
