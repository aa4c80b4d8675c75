import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

const page = (name: string) => fileURLToPath(new URL(`./${name}.html`, import.meta.url));

// Four pages share one build. The desktop window loads dist/studio.html over tauri://,
// and the Rust HTTP host serves the same files at /studio, /watch, /publish, /replay/{session} and /assets/*.
export default defineConfig({
  base: '/',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // The CSP allows data: only for images; emit every asset as a file so nothing is inlined.
    assetsInlineLimit: 0,
    // The CSP forbids inline scripts; Vite only ever emits external ones, but keep CSS split too.
    cssCodeSplit: true,
    target: 'es2022',
    // Every browser and webview Lectern targets supports <link rel="modulepreload">.
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: {
        studio: page('studio'),
        watch: page('watch'),
        publish: page('publish'),
        replay: page('replay'),
      },
      output: {
        // Name the chunks the three pages share, rather than after whichever module came first.
        codeSplitting: {
          groups: [
            { name: 'svelte', test: /node_modules[\\/](svelte|esm-env|clsx)[\\/]/ },
            { name: 'ui', test: /src[\\/]lib[\\/](ui[\\/]|theme)/ },
          ],
        },
      },
    },
  },
  // Runes in *.svelte.ts files compile against the browser runtime under Vitest too.
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
