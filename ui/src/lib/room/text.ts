/** Length in user-perceived characters (extended grapheme clusters), as the room measures. */
export function graphemeCount(text: string): number {
  if (typeof Intl !== 'undefined' && 'Segmenter' in Intl) {
    let n = 0;
    for (const _ of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) n += 1;
    return n;
  }
  return [...text].length;
}

/** The emoji shown for each reaction of the fixed set. */
export const REACTION_EMOJI = {
  thumbs_up: '👍',
  heart: '❤️',
  laugh: '😂',
  clap: '👏',
  surprised: '😮',
  confused: '🤔',
} as const;

export const REACTION_LABEL = {
  thumbs_up: 'Thumbs up',
  heart: 'Heart',
  laugh: 'Laugh',
  clap: 'Clap',
  surprised: 'Surprised',
  confused: 'Confused',
} as const;
