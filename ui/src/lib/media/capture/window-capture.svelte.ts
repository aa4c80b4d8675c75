// The desktop window captures and encodes by itself: camera, microphone, screen, or the screen
// with the camera as a picture-in-picture, drawn on one canvas at the preset's size and encoded
// with WebCodecs (VP8 video, Opus audio); each chunk goes to the engine as raw bytes, which
// packetizes and fans it out (`lectern_engine::capture`). The screen follows `state` (see
// `capture-state.ts` for the transitions); this class does the effects.
import type { BroadcastStatus } from '../../bindings/api';
import { toApiError } from '../../platform';
import type { WindowSource } from '../../platform/types';
import { hasCamera, INITIAL, step, type CaptureEvent, type CaptureKind, type CaptureState } from './capture-state';
import { AUDIO_BITRATE, KEYFRAME_INTERVAL_MS, presetFor, type Preset } from './presets';
import { windowFrame } from './window-frame';

/** Chunks on their way to the engine before video frames are dropped (audio never is). */
const MAX_IN_FLIGHT = 8;
const AUDIO_RATE = 48_000;

export interface DeviceChoice {
  cameraId: string | null;
  microphoneId: string | null;
}

/** Where the last choice of devices and preset is kept. */
export const CAPTURE_STORAGE_NAME = 'lectern.capture';

export interface CaptureCounts {
  /** Pictures drawn and handed to the encoder. */
  videoEncoded: number;
  videoSent: number;
  audioSent: number;
  videoDropped: number;
  keyframesAsked: number;
  /** Chunks the engine refused (each is lost; `lastRefusal` says why). */
  refused: number;
}

function microseconds(): number {
  return Math.round(performance.now() * 1000);
}

function stopStream(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** Why capture failed, in words a teacher can act on. */
export function captureErrorText(err: unknown): string {
  const name = (err as { name?: unknown })?.name;
  if (name === 'NotAllowedError') return 'Capture was not allowed. Allow the camera, microphone or screen and try again.';
  if (name === 'NotFoundError') return 'No such device was found. Plug it in or choose another.';
  if (name === 'NotReadableError') return 'The device is in use by another program.';
  if (name === 'OverconstrainedError') return 'The device cannot capture at this size. Choose a smaller preset.';
  const message = (err as { message?: unknown })?.message;
  return typeof message === 'string' && message !== '' ? message : 'Capture failed.';
}

/**
 * `cargo xtask bench capture` only (the page's `data-lectern-stamp="1"`): the capture time (Unix
 * ms, low 32 bits) drawn as 32 black or white squares in the top-left corner, two rows of 16, so
 * a viewer can read it off each decoded frame (`readStamp` in the bench's viewer script).
 */
export const STAMP_CELL = 24;
export function drawStamp(ctx: CanvasRenderingContext2D, epochMs: number): void {
  const value = Math.floor(epochMs) >>> 0;
  for (let bit = 0; bit < 32; bit += 1) {
    ctx.fillStyle = (value >>> (31 - bit)) & 1 ? '#fff' : '#000';
    ctx.fillRect((bit % 16) * STAMP_CELL, Math.floor(bit / 16) * STAMP_CELL, STAMP_CELL, STAMP_CELL);
  }
}

/** Whether the bench asked for stamped pictures. */
function isStamping(): boolean {
  return document.documentElement.dataset.lecternStamp === '1';
}

/** The same squares as `drawStamp`, written into a frame's pixels (RGBA-like or the Y plane). */
export function stampPixels(pixels: Uint8Array, format: VideoPixelFormat, width: number, epochMs: number): void {
  const value = Math.floor(epochMs) >>> 0;
  const packed = format === 'RGBA' || format === 'RGBX' || format === 'BGRA' || format === 'BGRX';
  const bytes = packed ? 4 : 1;
  for (let bit = 0; bit < 32; bit += 1) {
    const shade = (value >>> (31 - bit)) & 1 ? 255 : 0;
    const x0 = (bit % 16) * STAMP_CELL;
    const y0 = Math.floor(bit / 16) * STAMP_CELL;
    for (let y = y0; y < y0 + STAMP_CELL; y += 1) {
      const row = (y * width + x0) * bytes;
      pixels.fill(shade, row, row + STAMP_CELL * bytes);
      if (packed) for (let x = 0; x < STAMP_CELL; x += 1) pixels[row + x * 4 + 3] = 255;
    }
  }
}

/** The current picture of `video` as a frame of its own pixels (stamped for the bench). */
async function copiedFrame(video: HTMLVideoElement, timestamp: number, stampMs: number | null): Promise<VideoFrame> {
  const source = new VideoFrame(video, { timestamp });
  try {
    const pixels = new Uint8Array(source.allocationSize());
    await source.copyTo(pixels);
    const format = source.format ?? 'RGBA';
    if (stampMs !== null) stampPixels(pixels, format, source.codedWidth, stampMs);
    return new VideoFrame(pixels, { format, codedWidth: source.codedWidth, codedHeight: source.codedHeight, timestamp });
  } finally {
    source.close();
  }
}

export class WindowCapture {
  state = $state<CaptureState>(INITIAL);
  /** The microphone's level, 0 to 1, for the meter. */
  level = $state(0);
  counts = $state<CaptureCounts>({ videoEncoded: 0, videoSent: 0, audioSent: 0, videoDropped: 0, keyframesAsked: 0, refused: 0 });
  /** Why the engine last refused a chunk. */
  lastRefusal = $state<string | null>(null);
  cameras = $state<MediaDeviceInfo[]>([]);
  microphones = $state<MediaDeviceInfo[]>([]);
  devices = $state<DeviceChoice>({ cameraId: null, microphoneId: null });
  presetId = $state<Preset['id']>(presetFor(null).id);
  /** The bitrate the encoder runs at now (lowered by the upload budget). */
  bitrate = $state(presetFor(null).bitrate);

  /** The canvas a composed picture is drawn on (screen with camera, camera-off card). */
  readonly canvas: HTMLCanvasElement;
  /** What the preview shows: the camera's or the screen's own video, or the canvas. */
  previewElement = $state<HTMLVideoElement | HTMLCanvasElement | null>(null);
  readonly #source: WindowSource;
  readonly #media: MediaDevices;
  #camera: MediaStream | null = null;
  #screen: MediaStream | null = null;
  #microphone: MediaStream | null = null;
  #cameraVideo: HTMLVideoElement | null = null;
  #screenVideo: HTMLVideoElement | null = null;
  #drawTimer: number | null = null;
  #audio: AudioContext | null = null;
  #tap: AudioWorkletNode | null = null;
  #videoEncoder: VideoEncoder | null = null;
  #audioEncoder: AudioEncoder | null = null;
  #wantKeyframe = true;
  #lastKeyframeAt = 0;
  #inFlight = 0;
  #audioStartUs: number | null = null;
  /** A picture is being copied out of a video element. */
  #copying = false;
  /** The size the video encoder is configured for. */
  #encodedSize: [number, number] | null = null;
  #audioSamples = 0;

  constructor(source: WindowSource, media: MediaDevices = navigator.mediaDevices) {
    this.#source = source;
    this.#media = media;
    this.canvas = document.createElement('canvas');
    this.#restoreChoice();
    this.#applyPreset();
  }

  get preset(): Preset {
    return presetFor(this.presetId);
  }

  #dispatch(event: CaptureEvent): void {
    this.state = step(this.state, event);
  }

  #restoreChoice(): void {
    try {
      const saved = JSON.parse(localStorage.getItem(CAPTURE_STORAGE_NAME) ?? 'null') as Partial<DeviceChoice & { presetId: string }> | null;
      if (saved !== null) {
        this.devices = { cameraId: saved.cameraId ?? null, microphoneId: saved.microphoneId ?? null };
        this.presetId = presetFor(saved.presetId).id;
      }
    } catch {
      // A damaged or missing choice: the defaults.
    }
  }

  #saveChoice(): void {
    try {
      localStorage.setItem(CAPTURE_STORAGE_NAME, JSON.stringify({ ...this.devices, presetId: this.presetId }));
    } catch {
      // Storage can be off; the choice holds for this run.
    }
  }

  #applyPreset(): void {
    this.canvas.width = this.preset.width;
    this.canvas.height = this.preset.height;
  }

  /** Lists the cameras and microphones (names appear once a capture was allowed). */
  async listDevices(): Promise<void> {
    try {
      const all = await this.#media.enumerateDevices();
      this.cameras = all.filter((d) => d.kind === 'videoinput');
      this.microphones = all.filter((d) => d.kind === 'audioinput');
    } catch {
      this.cameras = [];
      this.microphones = [];
    }
  }

  choose(choice: Partial<DeviceChoice>, presetId?: Preset['id']): void {
    this.devices = { ...this.devices, ...choice };
    if (presetId !== undefined && presetId !== this.presetId) {
      this.presetId = presetId;
      if (this.state.phase !== 'live') this.#applyPreset();
    }
    this.#saveChoice();
  }

  /** Opens the devices `kind` needs and starts the preview; while live, switches the picture. */
  async open(kind: CaptureKind): Promise<void> {
    this.#dispatch({ type: 'open', kind });
    if (this.state.opening !== kind) return;
    const wantsScreen = kind === 'screen' || kind === 'screen_and_camera';
    const wantsCamera = hasCamera(kind);
    let screen: MediaStream | null = null;
    let camera: MediaStream | null = null;
    let microphone: MediaStream | null = null;
    try {
      // The screen first: the browser wants it right after the click.
      if (wantsScreen) screen = await this.#media.getDisplayMedia({ video: { frameRate: this.preset.framerate }, audio: false });
      if (wantsCamera) {
        const { cameraId } = this.devices;
        camera = await this.#media.getUserMedia({
          video: { width: { ideal: this.preset.width }, height: { ideal: this.preset.height }, frameRate: { ideal: this.preset.framerate }, ...(cameraId ? { deviceId: { exact: cameraId } } : {}) },
        });
      }
      const { microphoneId } = this.devices;
      microphone = await this.#media.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, ...(microphoneId ? { deviceId: { exact: microphoneId } } : {}) },
      });
    } catch (err) {
      for (const s of [screen, camera, microphone]) stopStream(s);
      this.#dispatch({ type: 'open_failed', message: captureErrorText(err) });
      return;
    }
    // Swap the inputs in place: the encoder and the viewers' connections stay as they are.
    stopStream(this.#screen);
    stopStream(this.#camera);
    stopStream(this.#microphone);
    this.#screen = screen;
    this.#camera = camera;
    this.#microphone = microphone;
    this.#screenVideo = screen === null ? null : await this.#play(screen);
    this.#cameraVideo = camera === null ? null : await this.#play(camera);
    await this.#startAudio(microphone);
    this.#dispatch({ type: 'opened' });
    this.#startDrawing();
    this.#wantKeyframe = true;
    void this.listDevices();
  }

  async #play(stream: MediaStream): Promise<HTMLVideoElement> {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play().catch(() => {});
    return video;
  }

  async #startAudio(microphone: MediaStream): Promise<void> {
    if (this.#audio === null) {
      this.#audio = new AudioContext({ sampleRate: AUDIO_RATE });
      await this.#audio.audioWorklet.addModule(new URL('./capture-tap.worklet.js', import.meta.url));
    }
    this.#tap?.disconnect();
    const input = this.#audio.createMediaStreamSource(microphone);
    const tap = new AudioWorkletNode(this.#audio, 'capture-tap');
    tap.port.onmessage = (ev: MessageEvent<{ block: Float32Array<ArrayBuffer>; rms: number }>) => this.#onAudioBlock(ev.data.block, ev.data.rms);
    input.connect(tap);
    // WebKit renders only what reaches the destination: a silent gain keeps the tap pulled
    // without playing the microphone back.
    const silent = this.#audio.createGain();
    silent.gain.value = 0;
    tap.connect(silent).connect(this.#audio.destination);
    this.#tap = tap;
    await this.#audio.resume().catch(() => {});
  }

  #startDrawing(): void {
    if (this.#drawTimer !== null) window.clearInterval(this.#drawTimer);
    if (this.state.kind === 'audio_only') {
      this.#drawTimer = null;
      return;
    }
    this.#drawTimer = window.setInterval(() => this.#drawFrame(), 1000 / this.preset.framerate);
  }

  /**
   * One picture: the camera's or the screen's own frame when it is shown alone (no copy: a
   * canvas draw costs ~20 ms a 720p frame in a software-rendered webview), else the screen with
   * the camera in a corner, or the camera-off card, drawn on the canvas. Then it is encoded.
   */
  #drawFrame(): void {
    const stamping = isStamping();
    const alone = this.#aloneVideo();
    if (alone !== null) {
      this.previewElement = alone;
      if (alone.videoWidth > 0) this.#encodeVideo(alone, alone.videoWidth, alone.videoHeight);
      return;
    }
    this.previewElement = this.canvas;
    const ctx = this.canvas.getContext('2d');
    if (ctx === null) return;
    const { width, height } = this.canvas;
    ctx.fillStyle = '#111';
    ctx.fillRect(0, 0, width, height);
    const cameraOff = this.state.cameraOff;
    const main = this.#screenVideo ?? (cameraOff ? null : this.#cameraVideo);
    if (main !== null && main.videoWidth > 0) this.#fit(ctx, main, 0, 0, width, height);
    else if (cameraOff) {
      ctx.fillStyle = '#ddd';
      ctx.font = `${Math.round(height / 14)}px sans-serif`;
      ctx.textAlign = 'center';
      ctx.fillText('Camera off', width / 2, height / 2);
    }
    // The camera in the corner over the screen: a quarter of the width, with a margin.
    if (this.#screenVideo !== null && this.#cameraVideo !== null && !cameraOff && this.#cameraVideo.videoWidth > 0) {
      const w = Math.round(width / 4);
      const h = Math.round((w * this.#cameraVideo.videoHeight) / this.#cameraVideo.videoWidth);
      const m = Math.round(width / 64);
      ctx.fillStyle = '#000';
      ctx.fillRect(width - w - m - 2, height - h - m - 2, w + 4, h + 4);
      ctx.drawImage(this.#cameraVideo, width - w - m, height - h - m, w, h);
    }
    if (stamping) drawStamp(ctx, performance.timeOrigin + performance.now());
    this.#encodeVideo(this.canvas, width, height);
  }

  /** The one video shown as it is: the camera alone (on), or the screen alone. */
  #aloneVideo(): HTMLVideoElement | null {
    if (this.#screenVideo !== null) return this.#cameraVideo === null ? this.#screenVideo : null;
    return this.state.cameraOff ? null : this.#cameraVideo;
  }

  #fit(ctx: CanvasRenderingContext2D, video: HTMLVideoElement, x: number, y: number, w: number, h: number): void {
    const scale = Math.min(w / video.videoWidth, h / video.videoHeight);
    const dw = video.videoWidth * scale;
    const dh = video.videoHeight * scale;
    ctx.drawImage(video, x + (w - dw) / 2, y + (h - dh) / 2, dw, dh);
  }

  #encodeVideo(source: HTMLVideoElement | HTMLCanvasElement, width: number, height: number): void {
    const encoder = this.#videoEncoder;
    if (encoder === null || encoder.state !== 'configured') return;
    // VP8 wants even sizes; a new size (another source) starts from a keyframe.
    const size: [number, number] = [width & ~1, height & ~1];
    if (this.#encodedSize === null || this.#encodedSize[0] !== size[0] || this.#encodedSize[1] !== size[1]) {
      this.#configureVideo(encoder, size);
    }
    if (this.#copying || this.#inFlight >= MAX_IN_FLIGHT || encoder.encodeQueueSize > 2) {
      // The engine or the encoder is not keeping up: drop this picture, restart from a keyframe.
      this.counts.videoDropped += 1;
      this.#wantKeyframe = true;
      return;
    }
    const now = performance.now();
    const keyFrame = this.#wantKeyframe || now - this.#lastKeyframeAt >= KEYFRAME_INTERVAL_MS;
    if (keyFrame) {
      this.#wantKeyframe = false;
      this.#lastKeyframeAt = now;
    }
    const timestamp = microseconds();
    const encode = (frame: VideoFrame) => {
      try {
        if (encoder.state === 'configured') {
          encoder.encode(frame, { keyFrame });
          this.counts.videoEncoded += 1;
        }
      } finally {
        frame.close();
      }
    };
    if (source instanceof HTMLCanvasElement) {
      encode(new VideoFrame(source, { timestamp }));
      return;
    }
    // WebKitGTK's encoder fails on frames taken straight from a <video> (measured: "Encoding
    // failed"), but takes the same pixels copied into a buffer (~4 ms a 720p frame).
    this.#copying = true;
    void copiedFrame(source, timestamp, isStamping() ? performance.timeOrigin + performance.now() : null)
      .then(encode, () => {
        this.counts.videoDropped += 1;
      })
      .finally(() => {
        this.#copying = false;
      });
  }

  #onAudioBlock(block: Float32Array<ArrayBuffer>, rms: number): void {
    this.level = Math.min(1, rms * 4);
    const encoder = this.#audioEncoder;
    const rate = this.#audio?.sampleRate ?? AUDIO_RATE;
    this.#audioStartUs ??= microseconds();
    const timestamp = this.#audioStartUs + Math.round((this.#audioSamples * 1_000_000) / rate);
    this.#audioSamples += block.length;
    // Muted: nothing is encoded, so viewers get no audio packets until unmuted.
    if (encoder === null || encoder.state !== 'configured' || this.state.muted) return;
    const data = new AudioData({ format: 'f32-planar', sampleRate: rate, numberOfFrames: block.length, numberOfChannels: 1, timestamp, data: block });
    try {
      encoder.encode(data);
    } finally {
      data.close();
    }
  }

  #send(kind: 'video' | 'audio', chunk: EncodedVideoChunk | EncodedAudioChunk): void {
    const bytes = new Uint8Array(chunk.byteLength);
    chunk.copyTo(bytes);
    const frame = windowFrame(kind, chunk.type === 'key', chunk.timestamp, bytes);
    this.#inFlight += 1;
    this.#source.sendFrame(frame).then(
      () => {
        if (kind === 'video') this.counts.videoSent += 1;
        else this.counts.audioSent += 1;
      },
      (err: unknown) => {
        const error = toApiError(err);
        // The engine no longer takes the window's frames: another source took over.
        if (error.code === 'conflict') this.#lose('Another source took over the broadcast.');
        else {
          this.counts.refused += 1;
          this.lastRefusal = error.message;
        }
      },
    ).finally(() => {
      this.#inFlight -= 1;
    });
  }

  #startEncoders(): void {
    const preset = this.preset;
    this.#applyPreset();
    this.#videoEncoder = new VideoEncoder({
      output: (chunk) => this.#send('video', chunk),
      error: (err) => this.#lose(`The video encoder stopped: ${err.message}`),
    });
    this.#configureVideo(this.#videoEncoder, [preset.width, preset.height]);
    this.#audioEncoder = new AudioEncoder({
      output: (chunk) => this.#send('audio', chunk),
      error: (err) => this.#lose(`The audio encoder stopped: ${err.message}`),
    });
    this.#audioEncoder.configure({ codec: 'opus', sampleRate: this.#audio?.sampleRate ?? AUDIO_RATE, numberOfChannels: 1, bitrate: AUDIO_BITRATE });
    this.#wantKeyframe = true;
  }

  #configureVideo(encoder: VideoEncoder, [width, height]: [number, number]): void {
    encoder.configure({ codec: 'vp8', width, height, bitrate: this.bitrate, framerate: this.preset.framerate, latencyMode: 'realtime' });
    this.#encodedSize = [width, height];
    this.#wantKeyframe = true;
  }

  #stopEncoders(): void {
    for (const encoder of [this.#videoEncoder, this.#audioEncoder]) {
      try {
        if (encoder !== null && encoder.state !== 'closed') encoder.close();
      } catch {
        // Closing twice is harmless.
      }
    }
    this.#videoEncoder = null;
    this.#audioEncoder = null;
    this.#encodedSize = null;
  }

  #lose(message: string): void {
    this.#stopEncoders();
    this.#dispatch({ type: 'source_lost', message });
  }

  /** Puts the preview on air: the window becomes the broadcast's source. */
  async goLive(): Promise<BroadcastStatus | null> {
    this.#dispatch({ type: 'go_live' });
    if (this.state.phase !== 'starting' || this.state.kind === null) return null;
    try {
      this.#startEncoders();
      const status = await this.#source.start({ capture: this.state.kind }, () => {
        this.counts.keyframesAsked += 1;
        this.#wantKeyframe = true;
      });
      this.#dispatch({ type: 'started' });
      return status;
    } catch (err) {
      this.#stopEncoders();
      this.#dispatch({ type: 'start_failed', message: toApiError(err).message });
      return null;
    }
  }

  /** Takes the window off air; the preview stays. */
  async stop(): Promise<BroadcastStatus | null> {
    this.#dispatch({ type: 'stop' });
    if (this.state.phase !== 'stopping') return null;
    this.#stopEncoders();
    try {
      return await this.#source.stop();
    } catch (err) {
      this.state = { ...this.state, error: toApiError(err).message };
      return null;
    } finally {
      this.#dispatch({ type: 'stopped' });
    }
  }

  toggleMute(): void {
    this.#dispatch({ type: 'toggle_mute' });
    if (this.state.muted) this.level = 0;
  }

  toggleCamera(): void {
    this.#dispatch({ type: 'toggle_camera' });
    this.#wantKeyframe = true;
  }

  /** Follows the upload budget: a lower bitrate when the viewers would not fit. */
  setBitrate(bitrate: number): void {
    if (bitrate === this.bitrate) return;
    this.bitrate = bitrate;
    const encoder = this.#videoEncoder;
    if (encoder !== null && encoder.state === 'configured' && this.#encodedSize !== null) this.#configureVideo(encoder, this.#encodedSize);
  }

  /** Closes the devices (not while on air). */
  close(): void {
    this.#dispatch({ type: 'close' });
    if (this.state.phase !== 'idle') return;
    if (this.#drawTimer !== null) window.clearInterval(this.#drawTimer);
    this.#drawTimer = null;
    for (const s of [this.#screen, this.#camera, this.#microphone]) stopStream(s);
    this.#screen = this.#camera = this.#microphone = null;
    this.#screenVideo = this.#cameraVideo = null;
    this.#tap?.disconnect();
    this.#tap = null;
    void this.#audio?.close().catch(() => {});
    this.#audio = null;
    this.#audioStartUs = null;
    this.#audioSamples = 0;
    this.level = 0;
  }
}
