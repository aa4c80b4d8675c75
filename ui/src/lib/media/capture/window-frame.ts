// One encoded chunk as the desktop window hands it to the engine (`lectern_engine::capture`):
// byte 0 kind (1 video, 2 audio), byte 1 flags (bit 0 keyframe), bytes 2-9 the capture time in
// microseconds (unsigned little-endian), then the chunk.

export const WINDOW_FRAME_HEADER = 10;
export const FRAME_VIDEO = 1;
export const FRAME_AUDIO = 2;

export function windowFrame(kind: 'video' | 'audio', keyframe: boolean, timestampUs: number, chunk: Uint8Array): Uint8Array {
  const frame = new Uint8Array(WINDOW_FRAME_HEADER + chunk.byteLength);
  frame[0] = kind === 'video' ? FRAME_VIDEO : FRAME_AUDIO;
  frame[1] = keyframe ? 1 : 0;
  new DataView(frame.buffer).setBigUint64(2, BigInt(Math.max(0, Math.floor(timestampUs))), true);
  frame.set(chunk, WINDOW_FRAME_HEADER);
  return frame;
}
