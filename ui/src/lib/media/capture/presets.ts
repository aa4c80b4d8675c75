// What the window encodes: resolution, frame rate and bitrate presets, and the bitrate lowered
// when the instructor's upload budget says the class would not fit.

export interface Preset {
  id: '480p30' | '720p30' | '1080p30';
  label: string;
  width: number;
  height: number;
  framerate: number;
  /** Video bitrate in bit/s. */
  bitrate: number;
}

export const PRESETS: readonly Preset[] = [
  { id: '480p30', label: '480p · 30 fps · 0.8 Mbit/s', width: 854, height: 480, framerate: 30, bitrate: 800_000 },
  { id: '720p30', label: '720p · 30 fps · 1.5 Mbit/s', width: 1280, height: 720, framerate: 30, bitrate: 1_500_000 },
  { id: '1080p30', label: '1080p · 30 fps · 3 Mbit/s', width: 1920, height: 1080, framerate: 30, bitrate: 3_000_000 },
];

export const DEFAULT_PRESET: Preset['id'] = '720p30';
/** Opus at this bitrate (speech, mono). */
export const AUDIO_BITRATE = 64_000;
/** Below this a picture is not worth sending: the budget is too small for video. */
export const MIN_VIDEO_BITRATE = 250_000;
/** A keyframe at least this often, so late viewers and the GOP cache start quickly. */
export const KEYFRAME_INTERVAL_MS = 2_000;

export function presetFor(id: string | null | undefined): Preset {
  return PRESETS.find((p) => p.id === id) ?? PRESETS.find((p) => p.id === DEFAULT_PRESET)!;
}

/**
 * The video bitrate to encode at: the preset's, lowered so that the viewers connected now (at
 * least one) fit in the upload budget (kbit/s) with the audio, never below the floor.
 */
export function videoBitrate(preset: Preset, uplinkKbps: number | null, viewers: number): number {
  if (uplinkKbps === null || uplinkKbps <= 0) return preset.bitrate;
  const perViewer = (uplinkKbps * 1000) / Math.max(1, viewers) - AUDIO_BITRATE;
  return Math.max(MIN_VIDEO_BITRATE, Math.min(preset.bitrate, Math.floor(perViewer)));
}
