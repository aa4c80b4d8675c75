// Engagement and model numbers in words, for the live panel and the session page.
import { csvCell } from '../offers/results';
import type { LikelyBuyers } from '../../lib/bindings/api';
import { formatDuration } from '../../lib/format';
import type { Alert, DropOff, Score, ScorePart, ViewerEngagement } from './engagement';

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What staff should look at, as a sentence. */
export function alertText(alert: Alert): string {
  switch (alert.type) {
    case 'chat_quiet':
      return `The chat has been quiet for ${formatDuration(alert.quiet_ms)} while ${plural(alert.present, 'viewer watches', 'viewers watch')}: ask the class something.`;
    case 'audience_dropping':
      return `The audience is dropping: ${plural(alert.from, 'viewer', 'viewers')} two minutes ago, ${alert.to} now.`;
    case 'poll_low_participation':
      return `Few answer poll ${alert.poll}: ${plural(alert.ballots, 'answer', 'answers')} from ${plural(alert.present, 'viewer', 'viewers')} present.`;
    default:
      alert satisfies never;
      return 'Something in the class needs a look.';
  }
}

/** The short pseudonym of a viewer id (an HMAC): enough to tell viewers apart. */
export function pseudonym(viewer: string): string {
  return `Viewer ${viewer.replace(/^v-/, '').slice(0, 8)}`;
}

/** The name a viewer gave, or their pseudonym when they gave none. */
export function viewerLabel(v: Pick<ViewerEngagement, 'viewer' | 'name'>): string {
  const name = v.name.trim();
  return name === '' ? pseudonym(v.viewer) : name;
}

export const SCORE_PARTS = [
  ['attendance', 'Attendance'],
  ['polls', 'Polls'],
  ['chat', 'Chat'],
  ['qa', 'Q&A'],
  ['reactions', 'Reactions'],
] as const satisfies readonly (readonly [keyof Score, string])[];

function points(part: ScorePart): string {
  const p = Math.round(part.points * 10) / 10;
  return `${p}/${part.max_points}`;
}

/**
 * A score's breakdown: "Attendance 27/30 · Polls 25/25 · Chat 4/20 · Q&A 0/15 · Reactions not
 * measured · 56 of 90 measurable" (unmeasured parts earn nothing and nothing is rescaled, so
 * scores compare across classes; the last part says what this viewer could earn).
 */
export function scoreBreakdown(score: Score): string {
  const parts = SCORE_PARTS.map(([key, label]) => {
    const part = score[key] as ScorePart;
    return part.measured ? `${label} ${points(part)}` : `${label} not measured`;
  });
  const measurable = score.measurable_points;
  if (measurable !== undefined && measurable < 100) {
    parts.push(`${Math.round(score.total * 10) / 10} of ${Math.round(measurable)} measurable`);
  }
  return parts.join(' · ');
}

/** "Minute 14: from 20 to 15 viewers (−25%)". */
export function dropOffText(d: DropOff): string {
  const lost = d.present_before === 0 ? 0 : Math.round(((d.present_before - d.present_after) / d.present_before) * 100);
  return `Minute ${d.minute + 1}: from ${d.present_before} to ${plural(d.present_after, 'viewer', 'viewers')} (−${lost}%)`;
}

/** A probability as a whole percentage: "37%". */
export function percent(p: number): string {
  if (!Number.isFinite(p)) return '—';
  return `${Math.round(p * 100)}%`;
}

/**
 * How far the model's probabilities are from what happened, averaged over its held-out rows
 * (weighted by how many fall in each tenth), in percentage points.
 */
export function calibrationGap(calibration: readonly (readonly [number, number, number])[]): number | null {
  let weight = 0;
  let sum = 0;
  for (const [predicted, observed, count] of calibration) {
    if (!(count > 0)) continue;
    weight += count;
    sum += Math.abs(predicted - observed) * count;
  }
  return weight === 0 ? null : (sum / weight) * 100;
}

/** The model's quality in plain words, a few short sentences. */
export function modelQualityText(model: LikelyBuyers['model']): string[] {
  const lines = [model.summary];
  lines.push(
    `It learned from ${plural(model.trainRows, 'attendee', 'attendees')} of earlier classes and was checked on ${plural(model.holdoutRows, 'attendee', 'attendees')} of later ones.`,
  );
  const gap = calibrationGap(model.calibration);
  if (gap !== null) {
    const g = Math.round(gap);
    lines.push(
      g <= 3
        ? `Its chances match what happened closely: off by ${g} percentage points on average.`
        : `Read its chances as rough: they were off by ${g} percentage points on average.`,
    );
  }
  lines.push(
    `Brier score ${model.brier.toFixed(3)} (0 is perfect; lower is better). Model version ${model.version}${model.reused ? ', reused: your data has not changed since it was trained' : ''}.`,
  );
  return lines;
}

/** The likely buyers as CSV (RFC 4180, CRLF): learner, probability, reasons, their next course. */
export function buyersCsv(
  buyers: readonly { learner: string; probability: number; reasons: readonly string[]; nextCourse?: string | null }[],
): string {
  const rows = buyers.map((b) => [b.learner, b.probability.toFixed(4), b.reasons.join('; '), b.nextCourse ?? ''].map(csvCell).join(','));
  return ['learner,probability,reasons,next_course', ...rows].join('\r\n') + '\r\n';
}
