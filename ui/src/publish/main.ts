import '../lib/ui/base.css';
import { mount } from 'svelte';
import { theme } from '../lib/theme.svelte';
import Publish from './Publish.svelte';

theme.init();

const target = document.getElementById('app');
if (!target) throw new Error('publish.html has no #app element');
mount(Publish, { target });
