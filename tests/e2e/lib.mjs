// Shared helpers of the end-to-end tests: start `lectern serve`, find free ports, launch Chromium.
// Every address used here is on loopback.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the end-to-end tests through \`cargo xtask test\``);
  return value;
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Start `lectern serve ARGS` and wait for its ready line. */
export async function serve(args) {
  const child = spawn(required('LECTERN_BIN'), ['serve', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await iterator.next();
    if (done) throw new Error('lectern serve exited before it was ready');
    return value;
  };
  const ready = await next();
  const match = /^Lectern listening on (http:\/\/\S+\/)$/.exec(ready);
  if (!match) throw new Error(`unexpected first line: ${ready}`);
  const studioLine = await next();
  const studioUrl = studioLine.replace(/^studio: /, '');
  const key = new URL(studioUrl).hash.replace('#key=', '');
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    base: match[1],
    studioUrl,
    key,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Debian's Chromium, headless, with nothing that talks to the internet. */
export async function launchChromium(extraArgs = []) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-crash-reporter',
      '--disable-breakpad',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      ...extraArgs,
    ],
  });
}

/**
 * Debian's Firefox ESR, headless, driven over WebDriver BiDi by puppeteer-core (no browser
 * download), with WebRTC allowed on loopback: host candidates on 127.0.0.1, not hidden behind
 * mDNS names. Nothing talks to the internet.
 */
export async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: {
      'media.peerconnection.ice.loopback': true,
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      'media.autoplay.default': 0,
      'media.navigator.permission.disabled': true,
      'network.proxy.type': 0,
      'app.update.enabled': false,
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'extensions.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
    },
  });
}

/** Collect console errors and uncaught exceptions of a page. */
export function watchErrors(page) {
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

/** From a studio page opened with the owner key: start a class titled `title` on the Broadcast screen. */
export async function startClassFromStudio(studio, title) {
  await studio.getByTestId('nav-broadcast').click();
  await studio.getByTestId('class-title-input').fill(title);
  await studio.getByTestId('start-class').click();
  await studio.getByTestId('end-class').waitFor();
}

/** A student opens `/watch` and joins the class chat as `name`. */
export async function joinWatchAs(page, base, name) {
  await page.goto(base + 'watch');
  await page.getByTestId('chat-name-input').fill(name);
  await page.getByTestId('chat-join').click();
  await page.getByTestId('chat-input').waitFor();
}

/**
 * Start `lectern serve ARGS` and read its whole banner: what `serve` gives, plus the WHIP URL
 * and the publish key (`whip: ...`, `publish key: ...`; no key while no school is open).
 * Secrets go in `env` (LECTERN_PUBLISH_KEY, LECTERN_RELAY_TOKEN), never in `args`.
 */
export async function serveWithBanner(args, env = {}) {
  const child = spawn(required('LECTERN_BIN'), ['serve', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const banner = {};
  let base = null;
  let pending = iterator.next();
  // The banner ends with `publish key:`, which a server with no school open leaves out: after
  // `whip:`, wait briefly for it.
  while (!('publish key' in banner)) {
    const wait = 'whip' in banner ? new Promise((resolve) => setTimeout(() => resolve(null), 1000)) : null;
    const next = await (wait ? Promise.race([pending, wait]) : pending);
    if (next === null) break;
    pending = iterator.next();
    const { value, done } = next;
    if (done) throw new Error('lectern serve exited before it printed its banner');
    const ready = /^Lectern listening on (http:\/\/\S+\/)$/.exec(value);
    if (ready) base = ready[1];
    const field = /^(studio|watch|whip|publish key): (\S+)$/.exec(value);
    if (field) banner[field[1]] = field[2];
  }
  if (!base || !banner.studio) throw new Error('lectern serve printed no address');
  // Keep reading stdout so the server never blocks on a full pipe.
  void (async () => {
    for (let next = await pending; !next.done; next = await iterator.next());
  })().catch(() => {});
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    base,
    studioUrl: banner.studio,
    key: new URL(banner.studio).hash.replace('#key=', ''),
    whipUrl: banner.whip,
    publishKey: banner['publish key'],
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The Chromium flags WebRTC needs between pages and a server on loopback. */
export const WEBRTC_LOOPBACK_ARGS = ['--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'];

/** Waits until `locator`'s text is `expected` (a timeout like any wait), then asserts it. */
export async function waitForText(locator, expected, timeoutMs = 15_000) {
  const started = Date.now();
  let text = null;
  while (Date.now() - started < timeoutMs) {
    text = (await locator.count()) > 0 ? (await locator.first().innerText()).trim() : null;
    if (text === expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (text !== expected) throw new Error(`expected ${JSON.stringify(expected)}, still ${JSON.stringify(text)} after ${timeoutMs} ms`);
}
