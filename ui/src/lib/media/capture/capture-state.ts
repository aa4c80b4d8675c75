// The window's capture, as a state machine the Broadcast screen follows: what is captured, and
// whether it is live. Pure: effects (opening devices, encoding, IPC) are the controller's; this
// says which transitions are allowed and what the screen shows.

/** What the window captures. */
export type CaptureKind = 'camera' | 'screen' | 'screen_and_camera' | 'audio_only';

export type CapturePhase =
  /** Nothing captured. */
  | 'idle'
  /** Opening devices for the preview. */
  | 'opening'
  /** A preview, not on air. */
  | 'preview'
  /** Asking the engine to make the window the source. */
  | 'starting'
  /** On air. */
  | 'live'
  /** Leaving the air. */
  | 'stopping';

export interface CaptureState {
  phase: CapturePhase;
  /** What is captured now. */
  kind: CaptureKind | null;
  /** What is being opened (in a preview, or to switch to while live). */
  opening: CaptureKind | null;
  /** The microphone is muted (no audio is encoded). */
  muted: boolean;
  /** The camera is off (a still card is sent instead of the picture). */
  cameraOff: boolean;
  /** The last failure, in words. */
  error: string | null;
}

export type CaptureEvent =
  | { type: 'open'; kind: CaptureKind }
  | { type: 'opened' }
  | { type: 'open_failed'; message: string }
  | { type: 'go_live' }
  | { type: 'started' }
  | { type: 'start_failed'; message: string }
  | { type: 'stop' }
  | { type: 'stopped' }
  /** The engine took the source away (a publisher took over, or it stopped). */
  | { type: 'source_lost'; message: string }
  | { type: 'toggle_mute' }
  | { type: 'toggle_camera' }
  | { type: 'close' };

export const INITIAL: CaptureState = { phase: 'idle', kind: null, opening: null, muted: false, cameraOff: false, error: null };

/** Whether the kind has a picture from the camera. */
export function hasCamera(kind: CaptureKind | null): boolean {
  return kind === 'camera' || kind === 'screen_and_camera';
}

/** The next state; an event that does not apply leaves the state as it is. */
export function step(state: CaptureState, event: CaptureEvent): CaptureState {
  switch (event.type) {
    case 'open':
      // Switching what is captured is allowed in a preview and while live (viewers stay).
      if (state.phase === 'starting' || state.phase === 'stopping' || state.opening !== null) return state;
      return { ...state, phase: state.phase === 'live' ? 'live' : 'opening', opening: event.kind, error: null };
    case 'opened': {
      const kind = state.opening;
      if (kind === null) return state;
      return { ...state, kind, opening: null, phase: state.phase === 'opening' ? 'preview' : state.phase, cameraOff: hasCamera(kind) ? state.cameraOff : false };
    }
    case 'open_failed':
      // What was captured before goes on (live or in the preview); from nothing, nothing.
      if (state.opening === null) return state;
      return { ...state, opening: null, error: event.message, phase: state.phase === 'opening' ? (state.kind === null ? 'idle' : 'preview') : state.phase };
    case 'go_live':
      return state.phase === 'preview' ? { ...state, phase: 'starting', error: null } : state;
    case 'started':
      return state.phase === 'starting' ? { ...state, phase: 'live' } : state;
    case 'start_failed':
      return state.phase === 'starting' ? { ...state, phase: 'preview', error: event.message } : state;
    case 'stop':
      return state.phase === 'live' || state.phase === 'starting' ? { ...state, phase: 'stopping' } : state;
    case 'stopped':
      return state.phase === 'stopping' ? { ...state, phase: 'preview' } : state;
    case 'source_lost':
      return state.phase === 'live' || state.phase === 'starting' ? { ...state, phase: 'preview', error: event.message } : state;
    case 'toggle_mute':
      return state.kind === null ? state : { ...state, muted: !state.muted };
    case 'toggle_camera':
      return hasCamera(state.kind) ? { ...state, cameraOff: !state.cameraOff } : state;
    case 'close':
      return state.phase === 'live' || state.phase === 'starting' || state.phase === 'stopping' ? state : INITIAL;
    default:
      event satisfies never;
      return state;
  }
}
