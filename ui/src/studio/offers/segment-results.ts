// An experiment's conversion per segment in words: each cell's rate with its counts, or
// "fewer than 5" where the engine suppressed it, and where the segments were read.
import type { ExperimentSegments, SegmentCell } from '../../lib/bindings/api';
import { interval, pct } from './results';

/** "25.0%" for a shown cell; "fewer than 5" for a suppressed one. */
export function cellRate(cell: SegmentCell): string {
  return cell.suppressed ? 'fewer than 5' : pct(cell.rate);
}

/** "2 of 8 bought (7.2% to 59.1%)" for a shown cell; nothing for a suppressed one. */
export function cellDetail(cell: SegmentCell): string {
  if (cell.suppressed || cell.viewers === null || cell.converted === null) return '';
  const ci = cell.rateCi ? ` (${interval(cell.rateCi)})` : '';
  return `${cell.converted} of ${cell.viewers} bought${ci}`;
}

/** Which segments, as of when, and why that day. */
export function asOfNote(b: Pick<ExperimentSegments, 'asOf' | 'unit'>): string {
  const who = b.unit === 'session' ? 'Every attendee of the variant’s classes' : 'Each viewer who saw the card';
  return `${who} is counted in the segment of the learner they are, as the segments were on ${b.asOf}, the day before the experiment began: buying in it moves nobody to another segment.`;
}

/** How many cells were left out, in words ("" when none). */
export function suppressedNote(b: Pick<ExperimentSegments, 'rows'>): string {
  const n = b.rows.reduce((sum, r) => sum + r.cells.filter((c) => c.suppressed).length, 0);
  if (n === 0) return '';
  return `${n} ${n === 1 ? 'cell has' : 'cells have'} fewer than 5 viewers and ${n === 1 ? 'is' : 'are'} not shown.`;
}
