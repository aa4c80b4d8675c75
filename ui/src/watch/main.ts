import '../lib/ui/base.css';
import { mount } from 'svelte';
import { theme } from '../lib/theme.svelte';
import Watch from './Watch.svelte';

theme.init();

const target = document.getElementById('app');
if (!target) throw new Error('watch.html has no #app element');
mount(Watch, { target });
