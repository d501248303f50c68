/**
 * The chat panel end to end (issue 14): code-server + Chromium against the real
 * server and the fake Anthropic API, one assertion per defect on what a person
 * sees, a screenshot per step (test-results/screenshots/chat-*.png).
 * Needs the tools of `bash scripts/install-e2e.sh`, like extension.test.ts.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { FAKE_ANTHROPIC_KEY, e2eSession, screenshot, sleep, stepFailed, type E2EEnv } from './harness.js';
import {
  LIB,
  RICH_ANSWER,
  THEMES,
  answerInView,
  ask,
  chatFrame,
  codeContrast,
  inMessagesViewport,
  lastTurn,
  longAnswer,
  pathBreaks,
  setColorTheme,
  waitForAnswer,
} from './chat-ui.e2e.js';
import {
  activeTabLabel,
  closeAllEditors,
  cursorLine,
  expectNotification,
  findInTaxonomy,
  openAiLibraryView,
  openFile,
  openWorkbench,
  runCommand,
  selectLines,
  setAnthropicKey,
  setPaneExpanded,
  waitUntil,
  workbenchSmoke,
} from './ui.e2e.js';

describe('chat panel (issue 14) in code-server + Chromium', () => {
  const session = e2eSession();

  const step = (name: string, fn: (e: E2EEnv, p: Page) => Promise<void>, timeoutMs = 120_000) =>
    it(
      name,
      async () => {
        const { env, page } = session;
        if (!env) throw new Error('the e2e setup failed (see the error above)');
        if (!page) throw new Error('the workbench did not load');
        try {
          await fn(env, page);
        } catch (err) {
          await stepFailed(session, 'chat-failed-', name);
          throw err;
        }
      },
      timeoutMs,
    );

  it('opens the workbench and indexes the workspace files', async () => {
    const { env } = session;
    if (!env) throw new Error('the e2e setup failed (see the error above)');
    // Under heavy load (parallel runs on two cores) the first load can outlast page.goto's 30 s: once more.
    const page = await openWorkbench(env).catch(async (err: unknown) => {
      console.warn(`workbench load failed once, retrying: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      return openWorkbench(env);
    });
    session.page = page;
    await workbenchSmoke(page);
    for (const rel of ['src/rate_limiter.py', 'docs/billing-gateway.md']) {
      await closeAllEditors(page);
      await openFile(page, rel);
      await runCommand(page, 'aiLibrary.indexFile');
      // The server's taxonomy is the proof; toasts are another suite's subject (and slow under load).
      const server = env.server.url;
      await waitUntil(`${rel} in the library`, async () => Boolean(await findInTaxonomy(server, `${LIB}/${rel}`)), 60_000);
    }
    await closeAllEditors(page);
  }, 150_000);

  step('welcome: the server, the answer mode and why, three examples from the taxonomy; the message area uses the height (defect 10, beyond)', async (e, p) => {
    await openAiLibraryView(p);
    await setPaneExpanded(p, 'Library', false);
    const chat = chatFrame(p);
    const welcome = chat.locator('.welcome');
    await welcome.locator('.welcome-mode').waitFor({ timeout: 20_000 });
    await waitUntil('the example questions', async () => (await welcome.locator('button.example').count()) === 3);
    expect(await welcome.locator('.welcome-server').textContent()).toBe(e.server.url);
    // No key on the server, none in VS Code yet: extractive, and it says why.
    expect(await welcome.locator('.welcome-mode').textContent()).toMatch(/extractive quotes.*neither the server nor VS Code has an Anthropic API key/i);
    const examples = await welcome.locator('button.example').allTextContents();
    expect(examples.every((q) => /^What does the library say about .+\?$/.test(q)), examples.join(' | ')).toBe(true);
    const heights = await chat.locator('body').evaluate(() => ({
      body: window.innerHeight,
      messages: document.querySelector('#messages')?.getBoundingClientRect().height ?? 0,
    }));
    expect(heights.messages / heights.body, JSON.stringify(heights)).toBeGreaterThan(0.7);
    await screenshot(p, 'chat-01-welcome');
  });

  step('extractive answer: "Extractive" said once, [n] links with labels, sources collapsed as "N sources from M files" without raw scores (defects 11, 10, 17)', async (_e, p) => {
    const chat = chatFrame(p);
    await ask(chat, 'How does the token bucket rate limiter refill its tokens?');
    const turn = await waitForAnswer(chat, 'How does the token bucket rate limiter refill its tokens?');
    const text = await turn.innerText();
    expect(text.match(/extractive/gi)?.length, text).toBe(1);
    const citation = turn.locator('.answer a.citation').first();
    expect(await citation.getAttribute('aria-label')).toMatch(/^Source \d+: \S+, lines? \d+/);
    const details = turn.locator('.sources details');
    expect(await details.getAttribute('open')).toBeNull();
    expect(await details.locator('summary').textContent()).toMatch(/^\d+ sources? from \d+ files?$/);
    await details.locator('summary').click();
    const sourcesText = await turn.locator('.sources').innerText();
    expect(sourcesText).not.toMatch(/score\s*\d|\d\.\d{3}/);
    expect(await turn.locator('.sources .level[aria-label^="relevance "]').count()).toBeGreaterThan(0);
    // Hover on a range shows the passage.
    const range = turn.locator('.source-range-link').first();
    expect(((await range.getAttribute('title')) ?? '').length).toBeGreaterThan(20);
    await range.hover();
    await screenshot(p, 'chat-02-extractive');
  });

  step('file paths wrap at separators, not mid-word (defect 10)', async (_e, p) => {
    const chat = chatFrame(p);
    // A narrow list, as in a narrow side bar, so the long paths must wrap.
    await chat.locator('.turn:last-of-type .source-files').evaluate((list) => {
      if (list instanceof HTMLElement) list.style.width = '150px';
    });
    const breaks = await pathBreaks(chat);
    expect(breaks.length, 'no path wrapped at 150 px').toBeGreaterThan(0);
    expect(breaks.filter((b) => !/[/\\\-_.]/.test(b.before)), JSON.stringify(breaks)).toEqual([]);
    await chat.locator('.turn:last-of-type .source-files').scrollIntoViewIfNeeded();
    await screenshot(p, 'chat-03-paths-wrap');
    await chat.locator('.turn:last-of-type .source-files').evaluate((list) => {
      if (list instanceof HTMLElement) list.style.width = '';
    });
  });

  step('nothing matched: sources shown as "closest passages, low match" (defect 6)', async (_e, p) => {
    const chat = chatFrame(p);
    await ask(chat, 'quizzical xylophone zebra marmalade?');
    const turn = await waitForAnswer(chat, 'quizzical xylophone zebra marmalade?');
    expect(await turn.locator('.answer').innerText()).toMatch(/library has nothing on this/i);
    const summary = turn.locator('.sources summary');
    if ((await summary.count()) > 0) {
      expect(await summary.textContent()).toMatch(/^Closest passages, low match/);
      expect(await turn.locator('.sources details').getAttribute('open')).toBeNull();
    }
    await screenshot(p, 'chat-04-nothing-matched');
  });

  step('streaming: the answer\u2019s last line stays in view unless the reader scrolls away; aria-busy; Escape stops and "Stopped" is in view (defects 1, 9, 17)', async (e, p) => {
    await setAnthropicKey(p, FAKE_ANTHROPIC_KEY);
    const chat = chatFrame(p);
    e.anthropicFake.enqueue({ kind: 'answer', deltas: longAnswer(200), citations: [{ afterDelta: 0, index: 0, match: 'rate_limiter' }], delayMs: 150 });
    await ask(chat, 'Walk me through the token bucket, step by step.');
    const messages = chat.locator('#messages');
    const turn = lastTurn(chat);
    await turn.locator('.question', { hasText: 'Walk me through the token bucket' }).waitFor();
    await waitUntil('the streaming answer to outgrow the view', async () => {
      const m = await turn.evaluate((t) => ({
        streaming: t.classList.contains('streaming'),
        answer: t.querySelector('.answer')?.getBoundingClientRect().height ?? 0,
        view: document.querySelector('#messages')?.clientHeight ?? 0,
      }));
      return m.streaming && m.answer > m.view;
    }, 30_000);
    expect(await messages.getAttribute('aria-busy')).toBe('true');
    const samples = [];
    for (let i = 0; i < 4; i++) {
      await sleep(400);
      samples.push(await answerInView(chat));
    }
    expect(samples.filter((s) => !s.inView), JSON.stringify(samples)).toEqual([]);
    expect(new Set(samples.map((s) => s.length)).size, 'the answer did not grow while sampled').toBeGreaterThan(1);
    expect(await lastTurn(chat).locator('.sources details').getAttribute('open')).toBeNull();
    await screenshot(p, 'chat-05-streaming-follows');

    // The reader scrolls up to read: the view stays where they put it.
    await messages.hover();
    await p.mouse.wheel(0, -3000);
    await sleep(300);
    const parked = await messages.evaluate((el) => el.scrollTop);
    await sleep(1000);
    expect(await messages.evaluate((el) => el.scrollTop)).toBeLessThanOrEqual(parked + 2);
    expect((await answerInView(chat)).inView).toBe(false);
    await screenshot(p, 'chat-06-streaming-reader-scrolled-up');

    // Back at the end, following resumes; Escape in the chat stops the answer.
    await waitUntil('the reader to reach the end of the answer', async () => {
      await p.mouse.wheel(0, 20_000);
      await sleep(300);
      return (await answerInView(chat)).inView;
    }, 10_000);
    // From there on the view follows the growing answer again.
    const resumed = [];
    for (let i = 0; i < 3; i++) {
      await sleep(400);
      resumed.push(await answerInView(chat));
    }
    expect(resumed.filter((s) => !s.inView), JSON.stringify(resumed)).toEqual([]);
    expect(new Set(resumed.map((s) => s.length)).size, 'the answer did not grow after the reader came back').toBeGreaterThan(1);
    await chat.locator('#input').press('Escape');
    const stopped = lastTurn(chat).locator('.turn-status', { hasText: 'Stopped' });
    await stopped.waitFor({ timeout: 10_000 });
    await sleep(200);
    expect(await inMessagesViewport(stopped)).toBe(true);
    await waitUntil('aria-busy to clear', async () => (await messages.getAttribute('aria-busy')) === 'false');
    await screenshot(p, 'chat-07-stopped-in-view');
  });

  step('Claude answer: [source: path] and [source: path#Lx-Ly] are links that open the file at its lines; model and confidence shown; Copy/Insert name their block (defects 2, 16, 17)', async (e, p) => {
    const chat = chatFrame(p);
    e.anthropicFake.enqueue({ kind: 'answer', deltas: RICH_ANSWER, citations: [{ afterDelta: 0, index: 0, match: 'rate_limiter' }], delayMs: 100 });
    await ask(chat, 'How does the rate limiter refill, and what happens when it is empty?');
    const turn = await waitForAnswer(chat, 'How does the rate limiter refill, and what happens when it is empty?');
    const links = turn.locator('.answer a.citation');
    expect(await links.allTextContents()).toEqual(expect.arrayContaining(['rate_limiter.py:19–23', expect.stringMatching(/^billing-gateway\.md/)]));
    const byLines = turn.locator('.answer a.citation', { hasText: 'rate_limiter.py:19–23' });
    expect(await byLines.getAttribute('aria-label')).toMatch(new RegExp(`${LIB}/src/rate_limiter\\.py, lines 19 to 23$`));
    expect(await turn.locator('.answered-by').textContent()).toMatch(/^Answered by Claude \(.+\)$/);
    expect(await turn.locator('.confidence .level').getAttribute('aria-label')).toMatch(/^confidence (high|medium|low)$/);
    const copyLabel = await turn.locator('button.code-action[data-action="copy"]').first().getAttribute('aria-label');
    expect(copyLabel).toBe('Copy code block 1 (python): def try_acquire(self) -> bool:');
    await screenshot(p, 'chat-08-claude-answer');

    await closeAllEditors(p);
    await byLines.click();
    await waitUntil('rate_limiter.py to open', async () => (await activeTabLabel(p)).startsWith('rate_limiter.py'));
    await waitUntil('the cursor on line 19 or 23', async () => [19, 23].includes(await cursorLine(p)));
    await screenshot(p, 'chat-09-source-path-citation-opened');

    const bare = turn.locator('.answer a.citation', { hasText: /^billing-gateway\.md/ });
    await bare.click();
    await waitUntil('billing-gateway.md to open', async () => (await activeTabLabel(p)).startsWith('billing-gateway.md'));
    await screenshot(p, 'chat-10-source-citation-opened');
  });

  step('code blocks and inline code have contrast \u2265 4.5:1 in light, dark, high contrast and high contrast light (defect 4)', async (_e, p) => {
    const chat = chatFrame(p);
    await lastTurn(chat).locator('.answer table').scrollIntoViewIfNeeded();
    const report: string[] = [];
    try {
      for (const theme of THEMES) {
        await setColorTheme(p, chat, theme);
        await lastTurn(chat).locator('.answer table').scrollIntoViewIfNeeded();
        const samples = await codeContrast(chat);
        expect(samples.some((s) => s.what.startsWith('inline code in a table'))).toBe(true);
        expect(samples.some((s) => s.what.startsWith('code block'))).toBe(true);
        const worst = samples.reduce((a, b) => (b.ratio < a.ratio ? b : a));
        report.push(`${theme.kind}: ${samples.length} samples, lowest ${worst.ratio}:1 (${worst.what} "${worst.text}" ${worst.color} on ${worst.background})`);
        await screenshot(p, `chat-11-theme-${theme.kind}`);
        expect(samples.filter((s) => s.ratio < 4.5), `${theme.name}: ${JSON.stringify(samples.filter((s) => s.ratio < 4.5))}`).toEqual([]);
      }
    } finally {
      console.log(`code contrast per theme:\n  ${report.join('\n  ')}`);
      await setColorTheme(p, chat, THEMES[1]).catch(() => {});
    }
  }, 180_000);

  step('keyboard: Tab goes input \u2192 Ask \u2192 \u2026 and stays in the chat; \u2191 in an empty input recalls the last question (defect 9, beyond)', async (_e, p) => {
    const chat = chatFrame(p);
    const input = chat.locator('#input');
    await input.click();
    await input.fill('draft');
    await input.press('Tab');
    expect(await chat.locator('body').evaluate(() => document.activeElement?.id)).toBe('send');
    const count = await chat.locator('body').evaluate(
      () => [...document.querySelectorAll<HTMLElement>('a[href], button, textarea, summary')].filter((e) => e.tabIndex >= 0 && !(e instanceof HTMLButtonElement && e.disabled) && e.getClientRects().length > 0).length,
    );
    let backAtInput = false;
    for (let i = 0; i < count + 1; i++) {
      await p.keyboard.press('Tab');
      const where = await chat.locator('body').evaluate(() => ({ focused: document.hasFocus(), id: document.activeElement?.id ?? '', tag: document.activeElement?.tagName ?? '' }));
      expect(where.focused && where.tag !== 'BODY', `Tab ${i + 1} left the chat: ${JSON.stringify(where)}`).toBe(true);
      if (where.id === 'input') backAtInput = true;
    }
    expect(backAtInput, 'Tab never came back round to the input').toBe(true);
    await input.fill('');
    await input.press('ArrowUp');
    expect(await input.inputValue()).toBe('How does the rate limiter refill, and what happens when it is empty?');
    await screenshot(p, 'chat-12-recall');
    await input.fill('');
  });

  step('Regenerate asks the last question again in place of its answer (beyond)', async (e, p) => {
    const chat = chatFrame(p);
    const turns = await chat.locator('.turn').count();
    const before = e.anthropicFake.requests.length;
    await lastTurn(chat).locator('button.regenerate').click();
    await waitUntil('a new answer', async () => e.anthropicFake.requests.length > before, 20_000);
    await waitForAnswer(chat, 'How does the rate limiter refill');
    expect(await chat.locator('.turn').count()).toBe(turns);
    expect(JSON.stringify(e.anthropicFake.requests.at(-1)?.body.messages)).toContain('How does the rate limiter refill');
    await screenshot(p, 'chat-13-regenerated');
  });

  step('Ask About Selection: a removable chip (file, lines), not pasted code; the question carries the code to the server (defect 15)', async (e, p) => {
    await closeAllEditors(p);
    await openFile(p, 'src/rate_limiter.py');
    await selectLines(p, 10, 20);
    await runCommand(p, 'aiLibrary.askSelection');
    const chat = chatFrame(p);
    const chip = chat.locator('#attachment .context-chip');
    await chip.waitFor({ timeout: 15_000 });
    expect(await chip.locator('.context-chip-label').textContent()).toBe('src/rate_limiter.py lines 10–20');
    expect(await chat.locator('#input').inputValue()).toBe('');
    await screenshot(p, 'chat-14-context-chip');
    await chip.locator('button.context-chip-remove').click();
    await waitUntil('the chip to go', async () => (await chat.locator('#attachment .context-chip').count()) === 0);

    await openFile(p, 'src/rate_limiter.py');
    await selectLines(p, 10, 20);
    await runCommand(p, 'aiLibrary.askSelection');
    await chip.waitFor({ timeout: 15_000 });
    const before = e.anthropicFake.requests.length;
    await ask(chat, 'What does this class do?');
    const turn = await waitForAnswer(chat, 'What does this class do?');
    expect(await turn.locator('.question .context-chip-label').textContent()).toBe('src/rate_limiter.py lines 10–20');
    expect(await turn.locator('.question').innerText()).not.toContain('def __init__');
    expect(e.anthropicFake.requests.length).toBeGreaterThan(before);
    expect(JSON.stringify(e.anthropicFake.requests.at(-1)?.body.messages)).toContain('class TokenBucketLimiter');
    await screenshot(p, 'chat-15-asked-with-chip');
  });

  step('/ commands: a completion list; /similar opens the picker and Escape closes it and its preview; /new starts over (beyond, defect 9)', async (_e, p) => {
    const chat = chatFrame(p);
    const input = chat.locator('#input');
    await input.click();
    await input.fill('/');
    const list = chat.locator('#slash-list');
    await list.waitFor();
    expect(await list.locator('.slash-name').allTextContents()).toEqual(['/new', '/history', '/similar', '/index']);
    await screenshot(p, 'chat-16-slash-commands');

    await closeAllEditors(p);
    await openFile(p, 'docs/billing-gateway.md');
    await selectLines(p, 3, 6);
    await input.click();
    await input.fill('/sim');
    expect(await list.locator('.slash-name').allTextContents()).toEqual(['/similar']);
    await input.press('Enter');
    const rows = p.locator('.quick-input-widget .monaco-list-row');
    await waitUntil('similar passages in the picker', async () => (await rows.count()) > 1, 20_000);
    const quick = p.locator('.quick-input-widget input').first();
    await quick.press('ArrowDown');
    await waitUntil('a preview beside', async () => (await p.locator('.editor-group-container').count()) > 1, 10_000);
    await screenshot(p, 'chat-17-similar-preview');
    await quick.press('Escape');
    await waitUntil('the picker and its preview to close', async () => !(await p.locator('.quick-input-widget').isVisible()) && (await p.locator('.editor-group-container').count()) === 1, 10_000);
    await screenshot(p, 'chat-18-similar-escaped');

    await input.click();
    await input.fill('/new');
    await input.press('Enter');
    await chat.locator('.welcome').waitFor();
    expect(await chat.locator('.turn').count()).toBe(0);
    // With a key now: the welcome says Claude answers, with the developer's key.
    await waitUntil('the welcome to say Claude', async () => /Claude, with your Anthropic API key/.test((await chat.locator('.welcome-mode').textContent()) ?? ''));
    await screenshot(p, 'chat-19-new-chat');
  });

  step('/index indexes the active editor\u2019s file', async (_e, p) => {
    await closeAllEditors(p);
    await openFile(p, 'src/retry.py');
    const chat = chatFrame(p);
    const input = chat.locator('#input');
    await input.click();
    await input.fill('/index');
    await input.press('Enter');
    await expectNotification(p, /(indexed|unchanged) src\/retry\.py/);
    await screenshot(p, 'chat-20-slash-index');
  });
});
