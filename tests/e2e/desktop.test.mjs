// The real desktop window under Xvfb, driven through tauri-driver and WebKitWebDriver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, freePort, required, tempDir } from './lib.mjs';

const DEMO_NAME = 'Northwind Academy (demo)';
let driver;
let driverUrl;
let session;
let startedAt;
let dbPath;

async function wd(method, path, body) {
  const response = await fetch(driverUrl + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json.value)}`);
  return json.value;
}

async function waitFor(what, fn, timeoutMs = 30_000) {
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

/** The rendered text of the first element matching `selector` (throws when there is none). */
async function textOf(selector) {
  const text = await wd('POST', `/session/${session}/execute/sync`, {
    script: 'const el = document.querySelector(arguments[0]); return el ? el.innerText : null;',
    args: [selector],
  });
  if (text === null) {
    // Say what the window shows instead, and why a module may have failed to start.
    const page = await wd('POST', `/session/${session}/execute/async`, {
      script: `const done = arguments[arguments.length - 1];
        const scripts = [...document.querySelectorAll('script[type=module]')].map((s) => s.src);
        Promise.all(scripts.map((src) => import(src).then(() => 'ok', (e) => String(e && (e.stack || e.message) || e))))
          .then((results) => done({ body: document.body.innerHTML.slice(0, 400), scripts, results }));`,
      args: [],
    }).catch((e) => ({ error: e.message }));
    throw new Error(`no element matches ${selector}; the window shows ${JSON.stringify(page)}`);
  }
  return text;
}

/** Resident memory of the app and its WebKit children, in MiB. */
function memoryMiB(rootPid) {
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

before(async () => {
  const dir = tempDir('lectern-desktop-');
  const db = join(dir, 'demo.sqlite');
  dbPath = db;
  execFileSync(required('LECTERN_BIN'), ['demo', '--db', db], { stdio: 'ignore' });
  const port = await freePort();
  const nativePort = await freePort();
  driver = spawn(
    required('TAURI_DRIVER'),
    ['--port', String(port), '--native-port', String(nativePort), '--native-driver', '/usr/bin/WebKitWebDriver'],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DISPLAY: required('DISPLAY') } },
  );
  driverUrl = `http://127.0.0.1:${port}`;
  await waitFor('tauri-driver', async () => (await fetch(driverUrl + '/status')).ok, 15_000);
  startedAt = performance.now();
  const created = await wd('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        'tauri:options': {
          application: required('LECTERN_STUDIO_BIN'),
          args: ['--db', db, '--data-dir', join(dir, 'data'), '--port', '0'],
        },
      },
    },
  });
  session = created.sessionId;
});

/** Pids of the app started for this file (its --db path is unique). */
function appPids() {
  try {
    return execFileSync('pgrep', ['-f', `--db ${dbPath}`]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

after(async () => {
  if (session) await wd('DELETE', `/session/${session}`).catch(() => {});
  driver?.kill();
  // Closing the session should end the app; if it lingers (it holds this runner's stderr, so the
  // runner would never exit), end it: TERM, then KILL.
  for (const signal of ['SIGTERM', 'SIGKILL']) {
    const deadline = Date.now() + 5_000;
    while (appPids().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const left = appPids();
    if (left.length === 0) break;
    console.log(`desktop: the app (${left.join(', ')}) outlived its session; sending ${signal}`);
    for (const pid of left) {
      try {
        process.kill(pid, signal);
      } catch {}
    }
  }
});

test('the window opens on the home screen with the school name read from SQLite', async () => {
  const name = await waitFor('the school name', async () => {
    const text = await textOf('[data-testid="school-name"]');
    return text.trim() === DEMO_NAME ? text : null;
  });
  const coldStartMs = Math.round(performance.now() - startedAt);
  assert.equal(name.trim(), DEMO_NAME);
  assert.match(await textOf('[data-testid="live-status"]'), /offline/i);
  for (const entry of ['broadcast', 'chat', 'polls', 'offers', 'insights']) {
    assert.ok((await textOf(`[data-testid="entry-${entry}"]`)).length > 0, entry);
  }
  const pid = Number(execFileSync('pgrep', ['-n', '-f', required('LECTERN_STUDIO_BIN')]).toString().trim());
  // Let the window settle before measuring what it holds at rest.
  await new Promise((r) => setTimeout(r, 2000));
  console.log(`desktop: cold start to school name ${coldStartMs} ms; idle memory ${memoryMiB(pid).toFixed(0)} MiB (app + WebKit)`);
  const png = await wd('GET', `/session/${session}/screenshot`);
  writeFileSync(join(ARTIFACTS, 'studio-desktop.png'), Buffer.from(png, 'base64'));
});

test('a command round-trips through IPC, and an undeclared one is refused', async () => {
  const result = await wd('POST', `/session/${session}/execute/async`, {
    script: `const done = arguments[arguments.length - 1];
      window.__TAURI_INTERNALS__.invoke('overview', { args: {} })
        .then((o) => done({ ok: true, name: o.school.name, courses: o.counts.courses, bind: o.network.bind }))
        .catch((e) => done({ ok: false, error: e }));`,
    args: [],
  });
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.equal(result.name, DEMO_NAME);
  assert.ok(result.courses >= 30);
  assert.match(result.bind, /^127\.0\.0\.1:\d+$/, 'the in-process server is on loopback');

  const refused = await wd('POST', `/session/${session}/execute/async`, {
    script: `const done = arguments[arguments.length - 1];
      window.__TAURI_INTERNALS__.invoke('plugin:fs|read_dir', { path: '/' })
        .then(() => done({ ok: true }))
        .catch((e) => done({ ok: false, error: String(e) }));`,
    args: [],
  });
  assert.equal(refused.ok, false, 'a command outside the capability must be refused');

  const badArgs = await wd('POST', `/session/${session}/execute/async`, {
    script: `const done = arguments[arguments.length - 1];
      window.__TAURI_INTERNALS__.invoke('create_school', { args: { name: '' } })
        .then(() => done({ ok: true }))
        .catch((e) => done({ ok: false, error: e }));`,
    args: [],
  });
  assert.equal(badArgs.ok, false);
  assert.equal(badArgs.error.code, 'invalid_input');
});
