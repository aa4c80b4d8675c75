import { describe, expect, it } from 'vitest';
import type { LikelyBuyers } from '../../lib/bindings/api';
import { deferred, FakePlatform, settle } from '../../test-support/fake-platform';
import { activitySpec, activitySummary, calibrationSpec, retentionSpec, retentionSummary } from './charts';
import { asSnapshot } from './engagement';
import { studentOrigin } from './recording.svelte';
import { SessionInsightsStore, viewerDataFile } from './session.svelte';
import { minute, score, snapshot } from './snapshot-fixture';
import { alertText, calibrationGap, dropOffText, modelQualityText, percent, scoreBreakdown, viewerLabel } from './words';

const model: LikelyBuyers['model'] = {
  auc: 0.74,
  aucLow: 0.69,
  aucHigh: 0.79,
  brier: 0.081,
  trainRows: 900,
  holdoutRows: 300,
  calibration: [
    [0.35, 0.3, 20],
    [0.05, 0.04, 200],
    [0.15, 0.2, 0],
  ],
  kind: 'logistic',
  version: 3,
  reused: false,
  summary: 'On 300 attendees of later classes it never saw, the model ranks buyers usefully (AUC 0.74).',
};

describe('asSnapshot', () => {
  it('accepts the engine’s shape and refuses anything else', () => {
    expect(asSnapshot(snapshot()).totals.chat).toBe(4);
    expect(() => asSnapshot(null)).toThrow();
    expect(() => asSnapshot({ totals: {} })).toThrow();
    expect(() => asSnapshot('nope')).toThrow();
  });
});

describe('engagement in words', () => {
  it('says each alert as a sentence', () => {
    expect(alertText({ type: 'chat_quiet', quiet_ms: 360_000, present: 12 })).toBe(
      'The chat has been quiet for 6 min while 12 viewers watch: ask the class something.',
    );
    expect(alertText({ type: 'audience_dropping', from: 20, to: 14 })).toBe('The audience is dropping: 20 viewers two minutes ago, 14 now.');
    expect(alertText({ type: 'poll_low_participation', poll: 3, ballots: 1, present: 12 })).toBe('Few answer poll 3: 1 answer from 12 viewers present.');
  });

  it('uses the name a viewer gave, else a short pseudonym', () => {
    expect(viewerLabel({ viewer: 'abcdef0123456789', name: '  Ann ' })).toBe('Ann');
    expect(viewerLabel({ viewer: 'abcdef0123456789', name: '' })).toBe('Viewer abcdef01');
    expect(viewerLabel({ viewer: 'v-0123456789ab', name: ' ' })).toBe('Viewer 01234567');
  });

  it('breaks a score down by part, naming those not measured', () => {
    expect(scoreBreakdown(score(40))).toBe('Attendance 27/30 · Polls not measured · Chat 10/20 · Q&A 0/15 · Reactions not measured');
    // With the engine's measurable points: what this viewer could earn in this class.
    expect(scoreBreakdown({ ...score(37), measurable_points: 65 })).toBe(
      'Attendance 27/30 · Polls not measured · Chat 10/20 · Q&A 0/15 · Reactions not measured · 37 of 65 measurable',
    );
    expect(scoreBreakdown({ ...score(90), measurable_points: 100 })).not.toContain('measurable');
  });

  it('says a drop-off with its minute counted from 1', () => {
    expect(dropOffText({ minute: 13, present_before: 20, present_after: 15 })).toBe('Minute 14: from 20 to 15 viewers (−25%)');
  });

  it('weighs the calibration gap by rows, skipping empty tenths', () => {
    expect(calibrationGap(model.calibration)).toBeCloseTo(((0.05 * 20 + 0.01 * 200) / 220) * 100, 9);
    expect(calibrationGap([])).toBeNull();
    expect(percent(0.374)).toBe('37%');
  });

  it('says the model’s quality in plain words', () => {
    const lines = modelQualityText(model);
    expect(lines[0]).toBe(model.summary);
    expect(lines[1]).toBe('It learned from 900 attendees of earlier classes and was checked on 300 attendees of later ones.');
    expect(lines[2]).toBe('Its chances match what happened closely: off by 1 percentage points on average.');
    expect(lines[3]).toMatch(/^Brier score 0\.081/);
  });
});

describe('chart specs', () => {
  const minutes = [minute(0, 2, 1, 100), minute(1, 3, 5, 100), minute(2, 1, 0, 33.333)];

  it('charts viewers and chat per minute, minute 1 first', () => {
    const spec = activitySpec(minutes);
    expect(spec.x).toEqual([1, 2, 3]);
    expect(spec.series.map((s) => [s.label, s.kind, [...s.values]])).toEqual([
      ['Viewers', 'line', [2, 3, 1]],
      ['Chat', 'bars', [1, 5, 0]],
    ]);
    expect(activitySummary(minutes)).toBe('3 minutes: at most 3 viewers (minute 2), the busiest chat in minute 2 (5 messages).');
    expect(activitySummary([])).toBe('No minutes of class yet.');
  });

  it('charts retention as a share of the peak', () => {
    expect([...retentionSpec(minutes).series[0]!.values]).toEqual([100, 100, 33.3]);
    expect(retentionSummary(minutes, 3)).toBe('The audience peaked at 3 viewers; half or more of them were still watching at the end of minute 2.');
    expect(retentionSummary([minute(0, 0, 0, 0)], 2)).toBe('The audience peaked at 2 viewers; fewer than half of them were there at the end of any minute.');
    expect(retentionSummary([], 0)).toBe('Nobody watched this class.');
  });

  it('plots calibration sorted, in percent, beside the ideal line', () => {
    const spec = calibrationSpec(model.calibration);
    expect(spec.x).toEqual([5, 35]);
    expect([...spec.series[1]!.values]).toEqual([4, 30]);
    expect([...spec.series[0]!.values]).toEqual([5, 35]);
  });
});

describe('SessionInsightsStore', () => {
  it('loads the class, then its likely buyers, keeping why there are none', async () => {
    const platform = new FakePlatform()
      .on('session_engagement', () => snapshot())
      .fail('likely_buyers', { code: 'conflict', message: 'too few classes to learn from (too_few_rows)' });
    const store = new SessionInsightsStore(platform);
    store.start();
    await store.select(7);
    expect(platform.calls.map((c) => [c.command, c.args])).toEqual([
      ['session_engagement', { sessionId: 7 }],
      ['likely_buyers', { sessionId: 7, model: 'logistic' }],
    ]);
    expect(store.snapshot?.totals.chat).toBe(4);
    expect(store.buyers).toBeNull();
    expect(store.buyersProblem?.code).toBe('conflict');
  });

  it('trains a forest on request, showing each tree from training_progress events', async () => {
    const forest = deferred<LikelyBuyers>();
    const platform = new FakePlatform()
      .on('session_engagement', () => snapshot())
      .on('likely_buyers', ({ model: m }) => (m === 'forest' ? forest.promise : { buyers: [], model }));
    const store = new SessionInsightsStore(platform);
    const stop = store.start();
    await store.select(7);
    expect(store.buyers?.model.kind).toBe('logistic');
    platform.emit({ kind: 'training_progress', model: 'forest', done: 1, total: 100 });
    expect(store.training).toBeNull();
    const choosing = store.chooseModel('forest');
    expect(store.buyersLoading).toBe(true);
    expect(store.buyers).toBeNull();
    platform.emit({ kind: 'training_progress', model: 'forest', done: 40, total: 100 });
    expect(store.training).toEqual({ done: 40, total: 100 });
    platform.emit({ kind: 'training_progress', model: 'logistic', done: 1, total: 1 });
    expect(store.training).toEqual({ done: 40, total: 100 });
    const ranked: LikelyBuyers = {
      buyers: [{ learner: 'l-1', linked: true, probability: 0.4, reasons: ['offer clicks: +1.2 points'], nextCourse: null }],
      model: { ...model, kind: 'forest' },
    };
    forest.resolve(ranked);
    await choosing;
    expect(store.buyers).toEqual(ranked);
    expect(store.training).toBeNull();
    expect(store.buyersLoading).toBe(false);
    expect(platform.calls.filter((c) => c.command === 'likely_buyers').map((c) => c.args)).toEqual([
      { sessionId: 7, model: 'logistic' },
      { sessionId: 7, model: 'forest' },
    ]);
    stop();
  });

  it('says when a stored model was reused', () => {
    expect(modelQualityText({ ...model, reused: true }).at(-1)).toContain('reused');
    expect(modelQualityText(model).at(-1)).not.toContain('reused');
  });

  it('ignores the answer for a class no longer shown', async () => {
    const first = deferred<unknown>();
    const platform = new FakePlatform()
      .on('session_engagement', ({ sessionId }) => (sessionId === 1 ? first.promise : snapshot({ now_ms: 2 })))
      .on('likely_buyers', () => ({ buyers: [], model }));
    const store = new SessionInsightsStore(platform);
    const one = store.select(1);
    await store.select(2);
    first.resolve(snapshot({ now_ms: 1 }));
    await one;
    expect(store.sessionId).toBe(2);
    expect(store.snapshot?.now_ms).toBe(2);
  });

  it('exports the report and says where', async () => {
    const files = { folder: '/data/reports/class-7', html: '/data/reports/class-7/report.html', csv: ['/data/reports/class-7/viewers.csv'], images: ['/data/reports/class-7/summary.png'] };
    const platform = new FakePlatform()
      .on('session_engagement', () => snapshot())
      .on('likely_buyers', () => ({ buyers: [], model }))
      .on('class_report', () => files);
    const store = new SessionInsightsStore(platform);
    await store.select(7);
    await store.exportReport();
    expect(store.report).toEqual(files);
  });

  it('erases a viewer after confirmation: the row leaves, the class is recounted', async () => {
    let erased = false;
    const platform = new FakePlatform()
      .on('session_engagement', () => (erased ? snapshot({ viewers: snapshot().viewers.slice(1) }) : snapshot()))
      .on('likely_buyers', () => ({ buyers: [], model }))
      .on('erase_viewer', () => {
        erased = true;
        return { deleted: 5, redacted: 1, purchases: 0, reportsDeleted: 0, backupsErased: 0, backupsFailed: 0 };
      });
    const store = new SessionInsightsStore(platform);
    await store.select(7);
    store.askErase('aaaaaaaaaaaa1111');
    expect(store.confirmingErase).toBe('aaaaaaaaaaaa1111');
    await store.erase('aaaaaaaaaaaa1111', 'Ann');
    await settle();
    expect(store.snapshot?.viewers.map((v) => v.viewer)).toEqual(['bbbbbbbbbbbb2222']);
    expect(store.erased).toEqual({ deleted: 5, redacted: 1, purchases: 0, reportsDeleted: 0, backupsErased: 0, backupsFailed: 0, label: 'Ann' });
    expect(store.confirmingErase).toBeNull();
  });

  it('names a viewer’s export file safely', () => {
    const file = viewerDataFile({ viewer: 'ab/../cd', events: [], replayEvents: [] });
    expect(file.name).toBe('lectern-viewer-abcd.json');
    expect(JSON.parse(file.text)).toEqual({ viewer: 'ab/../cd', events: [], replayEvents: [] });
  });
});

describe('likely buyers as CSV', () => {
  it('writes one row per attendee with the reasons, defusing formulas', async () => {
    const { buyersCsv } = await import('./words');
    const csv = buyersCsv([
      { learner: 'lrn-1', probability: 0.4567, reasons: ['offer clicks: +8.0 points', 'past purchases: +3.0 points'], nextCourse: 'SQL, next' },
      { learner: '=HYPERLINK("x")', probability: 0.1, reasons: [] },
    ]);
    expect(csv.split('\r\n')).toEqual([
      'learner,probability,reasons,next_course',
      'lrn-1,0.4567,offer clicks: +8.0 points; past purchases: +3.0 points,"SQL, next"',
      `"'=HYPERLINK(""x"")",0.1000,,`,
      '',
    ]);
  });
});

describe('the class charts as pictures', () => {
  it('draws them on demand for the class shown and forgets them for another class', async () => {
    const images = { images: [{ name: 'summary', alt: 'The class in numbers', dataUrl: 'data:image/png;base64,iVBORw0KGgo=' }] };
    const platform = new FakePlatform()
      .on('session_engagement', () => snapshot())
      .on('likely_buyers', () => ({ buyers: [], model: null }) as unknown as LikelyBuyers)
      .on('report_images', () => images);
    const store = new SessionInsightsStore(platform);
    await store.select(7);
    await store.makeImages();
    expect(platform.calls.find((c) => c.command === 'report_images')?.args).toEqual({ sessionId: 7 });
    expect(store.images).toEqual(images);
    await store.select(8);
    expect(store.images).toBeNull();
  });

  it('keeps a refusal to show', async () => {
    const platform = new FakePlatform()
      .on('session_engagement', () => snapshot())
      .on('likely_buyers', () => ({ buyers: [], model: null }) as unknown as LikelyBuyers)
      .fail('report_images', { code: 'not_found', message: 'no class 7' });
    const store = new SessionInsightsStore(platform);
    await store.select(7);
    await store.makeImages();
    expect(store.imagesError?.code).toBe('not_found');
  });
});

describe('the recording card', () => {
  it('links students to the public address, the page, or the first address the studio listens on', () => {
    expect(studentOrigin('web', 'http://127.0.0.1:7878', ['http://127.0.0.1:7878/'], null)).toBe('http://127.0.0.1:7878');
    expect(studentOrigin('tauri', 'tauri://localhost', ['http://127.0.0.1:7878/', 'http://192.168.1.5:7878/'], null)).toBe(
      'http://127.0.0.1:7878',
    );
    expect(studentOrigin('tauri', '', [], 'https://class.school.example/')).toBe('https://class.school.example');
  });
});
