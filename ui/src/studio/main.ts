import '../lib/ui/base.css';
import { mount } from 'svelte';
import { getPlatform, toApiError } from '../lib/platform';
import { WindowCapture } from '../lib/media/capture/window-capture.svelte';
import { browserRoomDeps, RoomStore } from '../lib/room/room.svelte';
import { theme } from '../lib/theme.svelte';
import App from './App.svelte';
import { BroadcastStore } from './broadcast/broadcast.svelte';
import { OverviewStore } from './home/overview.svelte';
import { Router } from './router.svelte';
import { BackupStore } from './settings/backup.svelte';

theme.init();

const target = document.getElementById('app');
if (!target) throw new Error('studio.html has no #app element');

try {
  // Choosing the platform also takes the key out of `#key=...`, before the router reads the fragment.
  const platform = await getPlatform();
  const router = new Router();
  router.start(window);
  const overview = new OverviewStore(platform);
  const backup = new BackupStore(platform);
  const broadcast = new BroadcastStore(platform, overview);
  // The live room as staff: the desktop window through IPC, a studio page with its key.
  const transport = platform.roomTransport();
  const room = transport === null ? null : new RoomStore(browserRoomDeps(transport));
  // The window captures and encodes by itself; a browser publishes over WHIP instead.
  const source = platform.windowSource();
  const capture = source === null ? null : new WindowCapture(source);
  overview.start();
  backup.start();
  mount(App, { target, props: { overview, backup, router, broadcast, room, capture } });
} catch (err) {
  target.className = 'fatal';
  target.textContent = `Lectern could not start: ${toApiError(err).message}`;
}
