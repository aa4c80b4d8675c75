// Checks the built pages against the Content-Security-Policy they are served with: every script
// and stylesheet is an external file under /assets/, and no HTML carries inline code or styles.
import { existsSync, readFileSync } from 'node:fs';

const PAGES = ['studio', 'watch', 'publish'];
const problems = [];

for (const page of PAGES) {
  const file = new URL(`../dist/${page}.html`, import.meta.url);
  if (!existsSync(file)) {
    problems.push(`dist/${page}.html is missing`);
    continue;
  }
  const html = readFileSync(file, 'utf8');
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) {
    if (!/\bsrc="\/assets\/[^"]+\.js"/.test(tag)) problems.push(`${page}.html: inline or foreign script ${tag}`);
  }
  if (/<script\b[^>]*>[^<\s]/.test(html)) problems.push(`${page}.html: a script has inline code`);
  if (/<style\b/i.test(html)) problems.push(`${page}.html: inline <style>`);
  if (/\sstyle=/i.test(html)) problems.push(`${page}.html: a style attribute`);
  if (/\son[a-z]+=/i.test(html)) problems.push(`${page}.html: an inline event handler`);
  for (const [, url] of html.matchAll(/\b(?:src|href)="([^"]+)"/g)) {
    if (!url.startsWith('/assets/')) problems.push(`${page}.html: ${url} is not under /assets/`);
  }
  if (!/<script type="module"[^>]*src="\/assets\//.test(html)) problems.push(`${page}.html: no module entry`);
}

if (problems.length > 0) {
  console.error(`dist check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dist check: ${PAGES.length} pages, no inline scripts or styles`);
