/// <reference types="node" />
// Rules every file under src/ keeps; see README.md. They guard the CSP and the platform seam.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('.', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

const sources = filesUnder(SRC)
  .filter((file) => /\.(ts|svelte)$/.test(file) && !file.endsWith('invariants.test.ts'))
  .map((file) => ({ path: relative(SRC, file).split(sep).join('/'), text: readFileSync(file, 'utf8') }));

/** The markup of a component: what is left once its <script> and <style> blocks are gone. */
function markupOf(svelte: string): string {
  return svelte.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<style[\s\S]*?<\/style>/g, '');
}

describe('source invariants', () => {
  it('finds the sources', () => {
    expect(sources.some((s) => s.path === 'studio/App.svelte')).toBe(true);
  });

  it('imports @tauri-apps only under lib/platform/', () => {
    const offenders = sources
      .filter((s) => /['"]@tauri-apps\//.test(s.text))
      .map((s) => s.path)
      .filter((path) => !path.startsWith('lib/platform/'));
    expect(offenders).toEqual([]);
  });

  it('has no inline styles in templates (the CSP forbids them)', () => {
    const offenders = sources
      .filter((s) => s.path.endsWith('.svelte') && /\sstyle(=|:)/.test(markupOf(s.text)))
      .map((s) => s.path);
    expect(offenders).toEqual([]);
  });

  it('never renders text as HTML', () => {
    const offenders = sources.filter((s) => /\{@html|\.innerHTML\s*=|insertAdjacentHTML/.test(s.text)).map((s) => s.path);
    expect(offenders).toEqual([]);
  });

  it('never evaluates strings as code', () => {
    const offenders = sources.filter((s) => /\beval\(|new Function\(/.test(s.text)).map((s) => s.path);
    expect(offenders).toEqual([]);
  });
});
