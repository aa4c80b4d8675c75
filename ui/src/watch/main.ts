import '../lib/ui/base.css';
import { mount } from 'svelte';
import { browserRoomDeps, RoomStore } from '../lib/room/room.svelte';
import { theme } from '../lib/theme.svelte';
import Watch from './Watch.svelte';

theme.init();

const target = document.getElementById('app');
if (!target) throw new Error('watch.html has no #app element');
// A student's page holds no owner key: it joins the room as a viewer.
const room = new RoomStore(browserRoomDeps(null));
mount(Watch, { target, props: { room } });
