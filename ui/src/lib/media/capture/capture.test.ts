import { describe, expect, it } from 'vitest';
import { INITIAL, step, type CaptureEvent, type CaptureState } from './capture-state';
import { DEFAULT_PRESET, MIN_VIDEO_BITRATE, presetFor, videoBitrate } from './presets';
import { WINDOW_FRAME_HEADER, windowFrame } from './window-frame';

function run(events: CaptureEvent[], from: CaptureState = INITIAL): CaptureState {
  return events.reduce(step, from);
}

describe('the capture state machine', () => {
  it('goes from nothing to a preview to live and back', () => {
    let s = run([{ type: 'open', kind: 'camera' }]);
    expect(s.phase).toBe('opening');
    s = run([{ type: 'opened' }, { type: 'go_live' }], s);
    expect(s.phase).toBe('starting');
    s = step(s, { type: 'started' });
    expect(s).toMatchObject({ phase: 'live', kind: 'camera' });
    s = run([{ type: 'stop' }, { type: 'stopped' }], s);
    expect(s.phase).toBe('preview');
    expect(step(s, { type: 'close' })).toEqual(INITIAL);
  });

  it('switches what is captured while live without leaving the air', () => {
    const live = run([{ type: 'open', kind: 'camera' }, { type: 'opened' }, { type: 'go_live' }, { type: 'started' }]);
    const opening = step(live, { type: 'open', kind: 'screen_and_camera' });
    expect(opening).toMatchObject({ phase: 'live', kind: 'camera', opening: 'screen_and_camera' });
    expect(step(opening, { type: 'opened' })).toMatchObject({ phase: 'live', kind: 'screen_and_camera', opening: null });
    // A device that fails while live keeps the broadcast and what it sent, and says why.
    const failed = step(opening, { type: 'open_failed', message: 'The screen was not shared.' });
    expect(failed).toMatchObject({ phase: 'live', kind: 'camera', opening: null, error: 'The screen was not shared.' });
  });

  it('refuses to go live without a preview, and cannot be closed while on air', () => {
    expect(step(INITIAL, { type: 'go_live' })).toEqual(INITIAL);
    const live = run([{ type: 'open', kind: 'screen' }, { type: 'opened' }, { type: 'go_live' }, { type: 'started' }]);
    expect(step(live, { type: 'close' })).toBe(live);
  });

  it('a refused start or a lost source returns to the preview with the reason', () => {
    const starting = run([{ type: 'open', kind: 'camera' }, { type: 'opened' }, { type: 'go_live' }]);
    expect(step(starting, { type: 'start_failed', message: 'A publisher is live.' })).toMatchObject({ phase: 'preview', error: 'A publisher is live.' });
    const live = step(starting, { type: 'started' });
    expect(step(live, { type: 'source_lost', message: 'OBS took over.' })).toMatchObject({ phase: 'preview', error: 'OBS took over.' });
  });

  it('mutes any capture, and turns the camera off only where there is one', () => {
    const cam = run([{ type: 'open', kind: 'camera' }, { type: 'opened' }]);
    expect(run([{ type: 'toggle_mute' }, { type: 'toggle_camera' }], cam)).toMatchObject({ muted: true, cameraOff: true });
    const screen = run([{ type: 'open', kind: 'screen' }, { type: 'opened' }]);
    expect(step(screen, { type: 'toggle_camera' }).cameraOff).toBe(false);
    // Switching to a capture without a camera clears camera-off.
    const off = step(cam, { type: 'toggle_camera' });
    expect(run([{ type: 'open', kind: 'screen' }, { type: 'opened' }], off).cameraOff).toBe(false);
  });

  it('a failed open from nothing returns to nothing, and from a preview keeps the preview', () => {
    const s = run([{ type: 'open', kind: 'camera' }, { type: 'open_failed', message: 'No camera.' }]);
    expect(s).toMatchObject({ phase: 'idle', kind: null, error: 'No camera.' });
    const preview = run([{ type: 'open', kind: 'camera' }, { type: 'opened' }, { type: 'open', kind: 'screen' }, { type: 'open_failed', message: 'Not shared.' }]);
    expect(preview).toMatchObject({ phase: 'preview', kind: 'camera', error: 'Not shared.' });
  });

  it('one open at a time', () => {
    const opening = step(INITIAL, { type: 'open', kind: 'camera' });
    expect(step(opening, { type: 'open', kind: 'screen' })).toBe(opening);
  });
});

describe('presets and the upload budget', () => {
  it('defaults to 720p at 1.5 Mbit/s', () => {
    const p = presetFor(null);
    expect(p.id).toBe(DEFAULT_PRESET);
    expect([p.width, p.height, p.framerate, p.bitrate]).toEqual([1280, 720, 30, 1_500_000]);
  });

  it('lowers the bitrate so the viewers fit the budget, never under the floor', () => {
    const p = presetFor('720p30');
    expect(videoBitrate(p, null, 40)).toBe(1_500_000);
    // 20 Mbit/s for 10 viewers: 2 Mbit/s each, more than the preset.
    expect(videoBitrate(p, 20_000, 10)).toBe(1_500_000);
    // 10 Mbit/s for 10 viewers: 1 Mbit/s each, less the audio.
    expect(videoBitrate(p, 10_000, 10)).toBe(1_000_000 - 64_000);
    expect(videoBitrate(p, 1_000, 50)).toBe(MIN_VIDEO_BITRATE);
  });
});

describe('the window frame', () => {
  it('carries kind, keyframe flag and capture time before the chunk, as the engine reads it', () => {
    const frame = windowFrame('video', true, 1_234_567, new Uint8Array([0x10, 0x02, 0x00]));
    expect(frame.length).toBe(WINDOW_FRAME_HEADER + 3);
    expect([...frame.slice(0, 2)]).toEqual([1, 1]);
    expect(new DataView(frame.buffer).getBigUint64(2, true)).toBe(1_234_567n);
    expect([...frame.slice(WINDOW_FRAME_HEADER)]).toEqual([0x10, 0x02, 0x00]);
    const audio = windowFrame('audio', false, 9, new Uint8Array([0x78]));
    expect([...audio.slice(0, 2)]).toEqual([2, 0]);
  });
});

describe('the bench stamp', () => {
  it('writes the capture time as 32 squares a reader gets back', async () => {
    const { STAMP_CELL, stampPixels } = await import('./window-capture.svelte');
    const width = 16 * STAMP_CELL;
    for (const format of ['RGBA', 'I420'] as const) {
      const bytes = format === 'RGBA' ? 4 : 1;
      const pixels = new Uint8Array(width * 2 * STAMP_CELL * bytes).fill(128);
      const when = 1_796_000_123_456;
      stampPixels(pixels, format, width, when);
      let value = 0;
      for (let bit = 0; bit < 32; bit += 1) {
        const x = (bit % 16) * STAMP_CELL + STAMP_CELL / 2;
        const y = Math.floor(bit / 16) * STAMP_CELL + STAMP_CELL / 2;
        value = (value * 2 + (pixels[(y * width + x) * bytes]! > 128 ? 1 : 0)) >>> 0;
      }
      expect(value).toBe(when >>> 0);
    }
  });
});
