import '../lib/ui/base.css';
import { mount } from 'svelte';
import { browserRoomDeps, RoomStore } from '../lib/room/room.svelte';
import { theme } from '../lib/theme.svelte';
import Watch from './Watch.svelte';
import { hashWithoutLink, parseLearnerLink } from './learner-link';

theme.init();

const target = document.getElementById('app');
if (!target) throw new Error('watch.html has no #app element');
// A student's page holds no owner key: it joins the room as a viewer. A personal join link in
// the address names the learner; the address bar drops it so it is not shared by accident.
const learnerLink = parseLearnerLink(window.location.hash);
if (learnerLink !== null) {
  history.replaceState(null, '', window.location.pathname + window.location.search + hashWithoutLink(window.location.hash));
}
const room = new RoomStore({ ...browserRoomDeps(null), learnerLink });
mount(Watch, { target, props: { room } });
