import '../lib/ui/base.css';
import { mount } from 'svelte';
import { theme } from '../lib/theme.svelte';
import Replay from './Replay.svelte';
import { replayKeyFromHash } from './replay-api';
import { sessionFromPath } from './replay-state';

theme.init();

const target = document.getElementById('app');
if (!target) throw new Error('replay.html has no #app element');
mount(Replay, {
  target,
  props: { session: sessionFromPath(window.location.pathname), replayKey: replayKeyFromHash(window.location.hash) },
});
