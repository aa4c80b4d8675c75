// The real desktop window under Xvfb, driven through tauri-driver and WebKitWebDriver: start it
// on a school file, find elements the way a person would (by test id and visible text), click,
// type, read, call IPC, take screenshots, and end it cleanly.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { freePort, required } from './lib.mjs';

/** W3C WebDriver's key for an element reference. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** Retries `fn` until it returns something truthy (a timeout like any wait). */
export async function waitFor(what, fn, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** Resident memory of a process and its children (the app and its WebKit processes), in MiB. */
export function memoryMiB(rootPid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {}
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) total += Number(rss[1]);
    } catch {}
    stack.push(...(children.get(pid) ?? []));
  }
  return total / 1024;
}

/**
 * Finds the `nth` element (from 0) matching `selector` (CSS) whose text contains `text` (if
 * given), inside the first match of `within` (if given), then its first `child` match (if
 * given); null when there is none.
 */
const FIND = `const [selector, text, within, nth, child] = arguments;
  const scope = within ? document.querySelector(within) : document;
  if (!scope) return null;
  const matches = [...scope.querySelectorAll(selector)].filter((el) => text === null || el.innerText.includes(text));
  const el = matches[nth] ?? null;
  if (el === null || !child) return el;
  return el.querySelector(child);`;

/** FIND's arguments from a helper's options. */
function findArgs(selector, { text = null, within = null, nth = 0, child = null } = {}) {
  return [selector, text, within, nth, child];
}

export class DesktopWindow {
  #driver;
  #url;
  #session;
  #dbPath;

  /**
   * Starts tauri-driver and the app with `args` (its `--db PATH` names this instance); the app
   * inherits the driver's environment, plus `env`.
   */
  static async open(dbPath, args, env = {}) {
    const window = new DesktopWindow();
    window.#dbPath = dbPath;
    const port = await freePort();
    const nativePort = await freePort();
    window.#driver = spawn(
      required('TAURI_DRIVER'),
      ['--port', String(port), '--native-port', String(nativePort), '--native-driver', '/usr/bin/WebKitWebDriver'],
      { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DISPLAY: required('DISPLAY'), ...env } },
    );
    window.#url = `http://127.0.0.1:${port}`;
    await waitFor('tauri-driver', async () => (await fetch(window.#url + '/status')).ok, 15_000);
    window.startedAt = performance.now();
    const created = await window.wd('POST', '/session', {
      capabilities: {
        alwaysMatch: { 'tauri:options': { application: required('LECTERN_STUDIO_BIN'), args: ['--db', dbPath, ...args] } },
      },
    });
    window.#session = created.sessionId;
    return window;
  }

  /** One WebDriver call; `path` is relative to the session unless it starts with `/session`. */
  async wd(method, path, body) {
    const full = path.startsWith('/session') || path === '/status' ? path : `/session/${this.#session}${path}`;
    const response = await fetch(this.#url + full, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${full}: ${response.status} ${JSON.stringify(json.value)}`);
    return json.value;
  }

  /** Runs `script` in the window (its `arguments` are `args`). */
  run(script, ...args) {
    return this.wd('POST', '/execute/sync', { script, args });
  }

  /** Runs an async script: it calls `done(value)` (the last argument). */
  runAsync(script, ...args) {
    return this.wd('POST', '/execute/async', { script: `const done = arguments[arguments.length - 1];\n${script}`, args });
  }

  /** Calls a studio command over IPC, as the window's own code does. */
  async invoke(command, args = {}) {
    const result = await this.runAsync(
      `window.__TAURI_INTERNALS__.invoke(arguments[0], { args: arguments[1] })
        .then((value) => done({ ok: true, value }), (error) => done({ ok: false, error }));`,
      command,
      args,
    );
    if (!result.ok) throw Object.assign(new Error(`${command}: ${JSON.stringify(result.error)}`), { apiError: result.error });
    return result.value;
  }

  /**
   * The element matching `selector`, waited for. Options: `text` it contains, `within` (CSS of
   * a container), `nth` match, `child` (CSS of the part of it wanted), `timeoutMs`.
   */
  async find(selector, options = {}) {
    const { text = null, within = null, nth = 0, child = null, timeoutMs = 30_000 } = options;
    const found = await waitFor(
      `${selector}${text === null ? '' : ` with "${text}"`}${within ? ` in ${within}` : ''}${nth ? ` #${nth}` : ''}${child ? ` > ${child}` : ''}`,
      () => this.run(FIND, ...findArgs(selector, options)),
      timeoutMs,
    );
    return found[ELEMENT];
  }

  /** Whether an element matching `selector` (with the same options as `find`) is there now. */
  async has(selector, options = {}) {
    return (await this.run(FIND, ...findArgs(selector, options))) !== null;
  }

  /** Waits until no element matches `selector` (with the same options as `find`). */
  async gone(selector, options = {}) {
    await waitFor(`${selector} to go`, async () => !(await this.has(selector, options)), options.timeoutMs ?? 30_000);
  }

  /** A form field's current value. */
  async value(selector, options) {
    const id = await this.find(selector, options);
    return this.wd('GET', `/element/${id}/property/value`);
  }

  /** Clicks it, as a person would (WebDriver's element click). */
  async click(selector, options) {
    const id = await this.find(selector, options);
    await this.wd('POST', `/element/${id}/click`, {});
  }

  /** Empties a field and types `value` into it. */
  async fill(selector, value, options) {
    const id = await this.find(selector, options);
    await this.wd('POST', `/element/${id}/clear`, {});
    await this.wd('POST', `/element/${id}/value`, { text: String(value) });
  }

  /** Chooses an option of a select by its value. */
  async select(selector, value, options) {
    await this.find(selector, options);
    await this.click(`${selector} option[value="${value}"]`, options);
  }

  /** The rendered text of the element (waited for): its `innerText`. */
  async text(selector, options = {}) {
    await this.find(selector, options);
    return this.run(`const el = (${FIND_FN})(...arguments); return el ? el.innerText : null;`, ...findArgs(selector, options));
  }

  /** Waits until the element's text satisfies `test` (a string to contain, or a function). */
  async waitForText(selector, test, options = {}) {
    const ok = typeof test === 'function' ? test : (t) => t.includes(test);
    let last = null;
    try {
      return await waitFor(
        `${selector} to read ${typeof test === 'function' ? 'as expected' : JSON.stringify(test)}`,
        async () => {
          last = await this.run(`const el = (${FIND_FN})(...arguments); return el ? el.innerText : null;`, ...findArgs(selector, options));
          return last !== null && ok(last) ? last : null;
        },
        options.timeoutMs ?? 30_000,
      );
    } catch (error) {
      throw new Error(`${error.message}; it reads ${JSON.stringify(last)}`);
    }
  }

  /** A screenshot of the window, written to `path`. */
  async screenshot(path) {
    const png = await this.wd('GET', '/screenshot');
    writeFileSync(path, Buffer.from(png, 'base64'));
  }

  /** Pids of this app instance (its --db path is unique). */
  pids() {
    try {
      // `--` ends pgrep's options: the pattern itself starts with dashes.
      return execFileSync('pgrep', ['-f', '--', `--db ${this.#dbPath}`], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  }

  /** Ends the session and the app; an app that lingers is sent TERM, then KILL. */
  async close() {
    if (this.#session) await this.wd('DELETE', `/session/${this.#session}`).catch(() => {});
    this.#driver?.kill();
    // A lingering app holds the runner's stderr, so the runner would never exit: end it.
    for (const signal of ['SIGTERM', 'SIGKILL']) {
      const deadline = Date.now() + 5_000;
      while (this.pids().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const left = this.pids();
      if (left.length === 0) break;
      console.log(`desktop: the app (${left.join(', ')}) outlived its session; sending ${signal}`);
      for (const pid of left) {
        try {
          process.kill(pid, signal);
        } catch {}
      }
    }
  }
}

/** `FIND` as a function expression, for scripts that do more with the element. */
const FIND_FN = `function () { ${FIND} }`;
