/**
 * Issue 14, the extension outside the chat's answers, seen in code-server +
 * Chromium: the status bar and the one connection state (defects 3, 12), index
 * messages (8), Insert into a read-only document (5), the 401 message and the
 * question asked again after the token is set (7), History's note (13), Copy
 * Path (14) and the focus-chat keybinding. A screenshot per step in
 * test-results/screenshots/status-*.png. Its own code-server and server, so a
 * token and a server restart do not disturb extension.test.ts.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { TokenStore } from '../../server/auth/token-store.js';
import { FAKE_ANTHROPIC_KEY, WORKSPACE_NAME, e2eSession, libraryFixture, screenshot, startLibraryServer, stepFailed, waitForIdle, type E2EEnv, type LibraryServer } from './harness.js';
import {
  activeTabLabel,
  askQuestion,
  chatFrame,
  clearNotifications,
  clickInsert,
  closeAllEditors,
  closeNotificationCenter,
  copyPathFromTree,
  editorText,
  hoverStatus,
  libraryPane,
  libraryWelcome,
  notificationTexts,
  openFile,
  runCommand,
  statusLabel,
  waitForStatus,
  waitForTurnEnd,
} from './status-ui.e2e.js';
import { openAiLibraryView, openWorkbench, revealInTree, setAnthropicKey, setPaneExpanded, waitUntil, workbenchSmoke } from './ui.e2e.js';

const LIBRARY_DOC = 'security/tokens-keys-and-access.md';
const CHUNKS = /^Library: [\d,]+ chunks?$/;

describe('Status bar, connection state, index messages, Copy Path, Insert, token and History (issue 14)', () => {
  /** The server now answering at env.server.url (replaced when a step restarts it). */
  let server: LibraryServer | undefined;
  const session = e2eSession(async (env) => {
    server = env.server;
    await env.browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.codeServer.url });
    // This file's own browser: on a loaded machine (2 cores shared) the workbench may take a minute.
    env.browser.context.setDefaultNavigationTimeout(120_000);
    env.browser.context.setDefaultTimeout(60_000);
  });

  const step = (name: string, fn: (e: E2EEnv, p: Page) => Promise<void>, timeoutMs = 240_000) =>
    it(
      name,
      async () => {
        const { env } = session;
        if (!env) throw new Error('the e2e setup failed (see the error above)');
        try {
          let { page } = session;
          if (!page) {
            page = await openWorkbench(env);
            session.page = page;
            const reload = page.locator('.monaco-dialog-box', { hasText: 'requires a reload' });
            await page.addLocatorHandler(reload, async () => {
              await reload.getByRole('button', { name: 'Cancel' }).click();
            });
            await workbenchSmoke(page);
          }
          await dismissReloadDialog(page);
          await fn(env, page);
        } catch (err) {
          await stepFailed(session, 'failed-status-', name);
          throw err;
        }
      },
      timeoutMs,
    );

  step('12: the status bar says what it is ("Library: N chunks") and its tooltip tells the state and what a click does', async (e, p) => {
    // The status bar is there from startup (onStartupFinished), without opening the view.
    const text = await waitForStatus(p, CHUNKS, 60_000);
    const label = await statusLabel(p);
    expect(label).toContain(`connected to ${e.server.url}`);
    expect(label).toContain('Click to show the index status');
    const tooltip = await hoverStatus(p);
    await screenshot(p, 'status-connected');
    console.log(`status bar: "${text}"; tooltip: ${tooltip}`);
  });

  step('keybinding: Ctrl+Alt+L focuses the chat input, and no built-in VS Code shortcut uses it', async (_e, p) => {
    // Ctrl+K Ctrl+S: the Keyboard Shortcuts editor, with its search box focused; a quoted key searches by key.
    await p.keyboard.press('Control+K');
    await p.keyboard.press('Control+S');
    await p.locator('.keybindings-editor').first().waitFor({ timeout: 15_000 });
    await sleepMs(800);
    await p.keyboard.type('"ctrl+alt+l"');
    await sleepMs(1500);
    const rows = p.locator('.keybindings-editor .monaco-list-row');
    const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
    await screenshot(p, 'status-keybinding');
    expect(texts.length, texts.join('\n')).toBe(1);
    expect(texts[0]).toContain('AI Library: Focus Chat');
    // This VS Code opens the editor as a modal: Escape closes it.
    await p.keyboard.press('Escape');
    await p.keyboard.press('Escape');
    await p.locator('.keybindings-editor').first().waitFor({ state: 'hidden', timeout: 10_000 });

    await closeAllEditors(p);
    await openFile(p, 'README.md');
    await p.keyboard.press('Control+Alt+L');
    const input = chatFrame(p).locator('#input');
    await input.waitFor({ timeout: 30_000 });
    await waitUntil('the cursor in the chat input', () => input.evaluate((el) => el === document.activeElement && document.hasFocus()), 15_000);
    await p.keyboard.type('typed after Ctrl+Alt+L');
    await waitUntil('the typed text in the chat input', async () => (await input.inputValue()) === 'typed after Ctrl+Alt+L', 5000);
    await screenshot(p, 'status-focus-chat');
    await input.fill('');
  });

  step('14: Copy Path copies the local file of an upload, "library/…" for a library-only file, and says so', async (e, p) => {
    await closeAllEditors(p);
    await openFile(p, 'src/rate_limiter.py');
    await runCommand(p, 'aiLibrary.indexFile');
    const indexed = await notificationTexts(p, /(indexed|unchanged) src\/rate_limiter\.py/, 2500);
    expect(indexed.length).toBe(1);
    await closeNotificationCenter(p);

    await clearNotifications(p);
    const uploaded = await revealInTree(p, e.server.url, `contributed/${WORKSPACE_NAME}/src/rate_limiter.py`);
    const abs = path.join(e.workspace, 'src', 'rate_limiter.py');
    const localToast = await copyPathFromTree(p, uploaded, abs);
    await screenshot(p, 'status-copy-path-local');
    expect(localToast).toContain(`copied ${abs} to the clipboard`);
    expect(await p.evaluate(() => navigator.clipboard.readText())).toBe(abs);
    await closeNotificationCenter(p);

    const remote = await revealInTree(p, e.server.url, LIBRARY_DOC);
    const libToast = await copyPathFromTree(p, remote, `library/${LIBRARY_DOC}`);
    await screenshot(p, 'status-copy-path-library');
    expect(libToast).toContain(`copied library/${LIBRARY_DOC} to the clipboard`);
    expect(await p.evaluate(() => navigator.clipboard.readText())).toBe(`library/${LIBRARY_DOC}`);
    await closeNotificationCenter(p);
  });

  step('5: Insert into the read-only library copy says why not; into a workspace file it inserts', async (e, p) => {
    await setAnthropicKey(p, FAKE_ANTHROPIC_KEY);
    await closeAllEditors(p);
    // The library copy of a file the workspace does not have: read-only (ailibrary: scheme).
    const row = await revealInTree(p, e.server.url, LIBRARY_DOC);
    await row.click();
    await waitUntil('the library document to open', async () => (await activeTabLabel(p)).startsWith('tokens-keys-and-access.md'));
    const before = await editorText(p);

    const code = 'limiter = TokenBucketLimiter(capacity=50, refill_per_second=10)';
    e.anthropicFake.enqueue({ kind: 'answer', deltas: ['Create one limiter per merchant:\n\n```python\n', `${code}\n`, '```\n'] });
    await setPaneExpanded(p, 'Library', false);
    const turn = await askQuestion(p, 'How do I create a rate limiter for a merchant?');
    await waitForTurnEnd(turn);
    const refused = await clickInsert(p, turn);
    await screenshot(p, 'status-insert-readonly');
    expect(refused).toMatch(/^Not inserted: tokens-keys-and-access\.md is the library's read-only copy/);
    expect(refused).not.toMatch(/^Inserted/);
    expect(await editorText(p)).toBe(before);

    await closeAllEditors(p);
    await openFile(p, 'src/retry.py');
    const ok = await clickInsert(p, turn);
    await waitUntil('the code in the editor', async () => (await editorText(p)).includes('TokenBucketLimiter(capacity=50'), 5000);
    await screenshot(p, 'status-insert-writable');
    expect(ok).toBe('Inserted into retry.py.');
    // Leave the workspace file as it was (code-server may have auto-saved the insert): undo and save.
    await p.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
    await p.keyboard.press('Control+Z');
    await p.keyboard.press('Control+S');
    await waitUntil('retry.py reverted', async () => !(await editorText(p)).includes('TokenBucketLimiter(capacity=50'), 10_000);
  });

  step('7, 3, 13: a 401 says so once with one button; the status bar and tree say "needs token"; the question runs again once the token is set; History says why it is per developer', async (e, p) => {
    const dataDir = path.join(e.runDir, 'server-main', 'data');
    const tokens = TokenStore.open(dataDir);
    let token: string;
    try {
      token = tokens.create('e2e-dev').token;
    } finally {
      tokens.close();
    }
    const question = 'Where are server tokens kept?';
    const failedTurn = await askQuestion(p, question);
    const alert = failedTurn.locator('[role="alert"]');
    await alert.waitFor({ timeout: 20_000 });
    const message = ((await alert.locator('span').first().textContent()) ?? '').trim();
    const buttons = (await alert.locator('button').allInnerTexts()).map((t) => t.trim());
    const turnText = (await failedTurn.innerText()) ?? '';
    expect(message).toBe(`AI Library: answering failed: the server at ${e.server.url} refused it: this server needs a token; your question is asked again once it is set.`);
    expect(buttons).toEqual(['Set Server Token']);
    expect(turnText.split('Set Server Token').length - 1, turnText).toBe(1);

    // The same outcome reached the status bar at once (no Refresh), and the tree.
    await waitForStatus(p, /^Library: needs token$/, 10_000);
    expect(await statusLabel(p)).toMatch(/refused the request: this server needs a token\.\s*Click to set your server token/);
    await setPaneExpanded(p, 'Library', true);
    await waitUntil('the Library tree to say it needs a token', async () => (await libraryWelcome(p)).includes('needs a server token'), 15_000);
    await alert.scrollIntoViewIfNeeded();
    await hoverStatus(p);
    await screenshot(p, 'status-needs-token');

    await alert.locator('button', { hasText: 'Set Server Token' }).click();
    const box = p.locator('.quick-input-widget input[type="password"]').first();
    await box.waitFor({ state: 'visible' });
    await box.fill(token);
    await box.press('Enter');
    const chat = chatFrame(p);
    const asked = chat.locator('.turn', { has: chat.locator('.question', { hasText: question }) });
    await waitUntil('the question to run again', async () => (await asked.count()) === 2, 20_000);
    const rerun = asked.last();
    await waitForTurnEnd(rerun);
    expect(((await rerun.locator('.answer').textContent()) ?? '').trim()).not.toBe('');
    expect(await rerun.locator('[role="alert"]').count()).toBe(0);
    await waitForStatus(p, CHUNKS, 15_000);
    await waitUntil('the Library tree to load again', async () => (await libraryPane(p).locator('.monaco-list-row').count()) > 0, 15_000);
    await sleepMs(1500);
    expect(await asked.count(), 'the question ran again more than once').toBe(2);
    await rerun.locator('.question').scrollIntoViewIfNeeded();
    await screenshot(p, 'status-token-set-rerun');

    await setPaneExpanded(p, 'Library', false);
    await runCommand(p, 'aiLibrary.showHistory');
    const note = chat.locator('#history .history-note');
    await note.waitFor({ timeout: 10_000 });
    expect(await note.textContent()).toMatch(/^Conversations are kept per developer: these are the ones saved under your server token/);
    await screenshot(p, 'status-history-note');
    await chat.locator('#history [data-ui="back"]').click();

    const revoke = TokenStore.open(dataDir);
    try {
      revoke.revoke('e2e-dev');
    } finally {
      revoke.close();
    }
  });

  step('8, 3: with the server down one failed index is one notification with the full reason; status bar and tree say unreachable, then recover by themselves', async (e, p) => {
    if (!server) throw new Error('no server');
    const url = server.url;
    const mainJs = server.process.child.spawnargs.at(-1) ?? '';
    await server.stop();
    await clearNotifications(p);
    await closeAllEditors(p);
    await openFile(p, 'src/retry.py');
    await runCommand(p, 'aiLibrary.indexFile');
    const mine = await notificationTexts(p, /AI Library/, 2500);
    await screenshot(p, 'status-index-server-down');
    expect(mine.length, mine.join('\n')).toBe(1);
    expect(mine[0]).toContain(`AI Library: indexing src/retry.py failed: the AI Library server is not reachable at ${url}; start it with "npm start" or set aiLibrary.serverUrl to your team's server.`);
    expect(mine[0]).not.toMatch(/\.\.|…\.|listing files/);
    await closeNotificationCenter(p);

    // The failed upload, not a periodic check, turned the status bar; the tree followed.
    await waitForStatus(p, /^Library: unreachable$/, 3000);
    expect(await statusLabel(p)).toContain(`not reachable at ${url}`);
    await openAiLibraryView(p);
    await setPaneExpanded(p, 'Library', true);
    await waitUntil('the tree to say the server is not reachable', async () => (await libraryWelcome(p)).includes('not reachable'), 15_000);
    await hoverStatus(p);
    await screenshot(p, 'status-unreachable');

    // Same port, same data: the server comes back; nobody clicks Retry.
    const t0 = Date.now();
    server = await startLibraryServer({
      runDir: e.runDir,
      name: 'main',
      mainJs,
      env: { ANTHROPIC_BASE_URL: e.anthropicFake.url, API_PORT: new URL(url).port },
      library: libraryFixture(),
    });
    const restarted = server;
    e.cleanup.add('restarted server', () => restarted.stop());
    expect(server.url).toBe(url);
    await waitForIdle(server.url);
    await waitForStatus(p, CHUNKS, 20_000);
    await waitUntil('the tree to show the library again', async () => (await libraryPane(p).locator('.monaco-list-row').count()) > 0, 20_000);
    console.log(`status bar and tree recovered ${Date.now() - t0} ms after the restart began`);
    await screenshot(p, 'status-recovered');
  });
});

/**
 * Under load, code-server may apply a user setting after startup and ask to reload;
 * the dialog blocks every click. Nothing here depends on that setting: Cancel.
 */
async function dismissReloadDialog(p: Page): Promise<void> {
  const dialog = p.locator('.monaco-dialog-box', { hasText: 'requires a reload' });
  if (await dialog.isVisible().catch(() => false)) {
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
  }
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
