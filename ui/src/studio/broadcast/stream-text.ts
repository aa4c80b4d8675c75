// Words and addresses for the stream panel of the Broadcast screen.

/** The source as the instructor reads it. */
export function sourceLabel(source: string | null): string {
  switch (source) {
    case 'publisher':
      return 'Publisher (OBS or a browser)';
    case 'test_card':
      return 'Test card';
    case 'window':
      return 'This window (camera, screen or microphone)';
    case null:
      return 'Nothing is being broadcast';
    default:
      return source;
  }
}

/**
 * The studio's HTTP address with a trailing slash: the public address when the studio sits
 * behind a reverse proxy (`--public-url`), else this page's own origin when it was served over
 * HTTP(S), else (the desktop window, on tauri://) the server's first, loopback, URL.
 */
export function studioBase(location: Pick<Location, 'protocol' | 'origin'>, urls: string[], publicUrl: string | null = null): string {
  if (publicUrl) return publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`;
  if (location.protocol === 'http:' || location.protocol === 'https:') return `${location.origin}/`;
  const first = urls[0];
  if (!first) return '';
  return first.endsWith('/') ? first : `${first}/`;
}
