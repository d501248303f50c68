/**
 * UI tests with playwright against code-server's workbench: what a person sees and
 * clicks. Called by extension.test.ts with a running E2EEnv (harness.ts).
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';
import type { TaxonomyResponse, TaxonomyTreeNode } from '../../shared/api-types.js';
import { WORKSPACE_NAME, commandTitle, e2eLog as log, screenshot, sleep, viewContainerTitle, type E2EEnv } from './harness.js';

const WORKBENCH_TIMEOUT = 45_000;

/** Opens the workspace in a new page and waits until the workbench is ready. */
export async function openWorkbench(env: E2EEnv): Promise<Page> {
  const page = await env.browser.context.newPage();
  const t0 = Date.now();
  await page.goto(`${env.codeServer.url}/?folder=${encodeURIComponent(env.workspace)}`);
  await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: WORKBENCH_TIMEOUT });
  // The explorer shows the workspace's files once the remote file system answers.
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: WORKBENCH_TIMEOUT });
  log(`workbench ready in ${Date.now() - t0} ms`);
  return page;
}

export function activityBarEntry(page: Page): Locator {
  return page.locator(`.part.activitybar [aria-label^="${viewContainerTitle()}"]`).first();
}

/** Runs a command through the command palette by its title, as a person would. */
export async function runCommand(page: Page, command: string): Promise<void> {
  await runTitle(page, commandTitle(command));
}

/** Runs a command by the title the palette shows. */
export async function runTitle(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input[type="text"], .quick-input-widget .quick-input-box input').first();
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  // Enter picks the focused row: wait until filtering has put the command there.
  await page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: title }).first().waitFor({ state: 'visible' });
  await input.press('Enter');
}

/** The document inside the focused webview: two iframes deep. */
export function webviewFrame(page: Page, title?: string): FrameLocator {
  const outer = title ? `iframe.webview.ready[title="${title}"]` : 'iframe.webview.ready';
  return page.frameLocator(outer).frameLocator('iframe#active-frame');
}

/** Opens a workspace file through Quick Open and waits for its editor. */
export async function openFile(page: Page, relPath: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible' });
  await input.fill(relPath);
  const base = relPath.split('/').pop() ?? relPath;
  await page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: base }).first().waitFor();
  await input.press('Enter');
  await page.locator(`.tabs-container .tab[aria-label^="${base}"]`).first().waitFor();
  await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor();
}

/** The label of the active editor's tab (in the active editor group). */
export async function activeTabLabel(page: Page): Promise<string> {
  return (await page.locator('.editor-group-container.active .tab.active').first().getAttribute('aria-label')) ?? '';
}

/** Closes every editor and group, so a test starts from an empty editor area. */
export async function closeAllEditors(page: Page): Promise<void> {
  await runTitle(page, 'View: Close All Editor Groups');
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** The workbench is up and the extension's activity-bar entry is there (the vsix installed and loaded). */
export async function workbenchSmoke(page: Page): Promise<void> {
  await activityBarEntry(page).waitFor({ timeout: WORKBENCH_TIMEOUT });
  // The window restores the editors an earlier window (the extension-host suites) left open.
  await closeAllEditors(page);
  await screenshot(page, 'workbench');
}

// ------------------------------------------------------------ scenarios --

export const UI_QUESTION = 'How does the token bucket rate limiter refill its tokens?';

/** 1-based line and column of the cursor, read off the status bar ("Ln 9, Col 1"). */
export async function cursorLine(page: Page): Promise<number> {
  const text = (await page.locator('[id="status.editor.selection"]').first().textContent()) ?? '';
  const m = /Ln (\d+)/.exec(text);
  if (!m) throw new Error(`no cursor position in the status bar ("${text}")`);
  return Number(m[1]);
}

/** Selects whole lines [from, to] (1-based) in the active editor with the keyboard. */
export async function selectLines(page: Page, from: number, to: number): Promise<void> {
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible' });
  await input.fill(`:${from}`);
  await input.press('Enter');
  await page.keyboard.press('Home');
  for (let i = from; i < to; i++) await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Shift+End');
}

/**
 * Waits for a notification in the notification center (this VS Code files
 * extension notifications there without a toast while the page has no focus).
 */
export async function expectNotification(page: Page, text: string | RegExp, timeoutMs = 20_000): Promise<string> {
  const bell = page.locator('[id="status.notifications"]').first();
  const center = page.locator('.notifications-center');
  if (!(await center.isVisible().catch(() => false))) await bell.click();
  const item = center.locator('.notification-list-item', { hasText: text }).first();
  try {
    await item.waitFor({ timeout: timeoutMs });
    return (await item.innerText()).replace(/\s+/g, ' ');
  } finally {
    if (await center.isVisible().catch(() => false)) await bell.click();
  }
}

/** Sets the developer's Anthropic key through the command and its password box, as a person would. */
export async function setAnthropicKey(page: Page, key: string): Promise<void> {
  await runCommand(page, 'aiLibrary.setAnthropicApiKey');
  const box = page.locator('.quick-input-widget input[type="password"]').first();
  await box.waitFor({ state: 'visible' });
  await box.fill(key);
  await box.press('Enter');
  await expectNotification(page, 'Anthropic API key saved');
}

export async function openAiLibraryView(page: Page): Promise<void> {
  const entry = activityBarEntry(page);
  await entry.waitFor({ timeout: WORKBENCH_TIMEOUT });
  // Clicking the entry of the container already shown would hide the side bar: look first.
  const title = page.locator('.part.sidebar .composite.title .title-label').first();
  const showing = (await title.isVisible().catch(() => false)) && new RegExp(viewContainerTitle(), 'i').test((await title.textContent()) ?? '');
  if (!showing) await entry.click();
  await page.locator('.part.sidebar .pane-header', { hasText: 'Library' }).first().waitFor();
}

/** Index This File on the active editor, through the command palette. */
export async function indexActiveFile(page: Page, relPath: string): Promise<string> {
  await runCommand(page, 'aiLibrary.indexFile');
  // "AI Library: indexed src/x.py (2 chunks, category ...)" ("unchanged" when the server has it already).
  return expectNotification(page, new RegExp(`(indexed|unchanged) ${relPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
}

/** Rows of the Library tree whose text matches. */
export function treeRow(page: Page, text: string | RegExp): Locator {
  return page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Library' }) }).locator('.monaco-list-row', { hasText: text });
}

/** The category names from the root down to a document, and its title, as the server's taxonomy has them. */
export async function findInTaxonomy(serverUrl: string, filePath: string): Promise<{ categoryNames: string[]; title: string }> {
  const res = await fetch(`${serverUrl}/api/library/taxonomy`);
  const tax = (await res.json()) as TaxonomyResponse;
  const search = (nodes: TaxonomyTreeNode[], trail: string[]): { categoryNames: string[]; title: string } | null => {
    for (const n of nodes) {
      const doc = n.documents.find((d) => d.file_path === filePath);
      if (doc) return { categoryNames: [...trail, n.name], title: doc.title };
      const below = search(n.children, [...trail, n.name]);
      if (below) return below;
    }
    return null;
  };
  const found = search(tax.categories, []);
  if (!found) throw new Error(`the server's taxonomy does not list ${filePath}`);
  return found;
}

/** Index This File from the palette on a workspace file, then find it in the Library tree. */
export async function indexAndFindInTree(page: Page, env: E2EEnv, relPath: string): Promise<string> {
  await closeAllEditors(page);
  await openFile(page, relPath);
  const notification = await indexActiveFile(page, relPath);
  log(`notification: ${notification}`);
  // Expand the categories the server filed the file under, down to the document.
  const doc = await revealInTree(page, env.server.url, `contributed/${WORKSPACE_NAME}/${relPath}`);
  await doc.hover();
  await screenshot(page, 'tree');
  return notification;
}

export async function setPaneExpanded(page: Page, title: string, expanded: boolean): Promise<void> {
  const header = page.locator('.pane-header', { hasText: title }).first();
  await header.waitFor();
  if (((await header.getAttribute('aria-expanded')) === 'true') !== expanded) await header.click();
}

export interface ChatResult {
  answer: string;
  sourceTitle: string;
  /** The turn was rendered in its streaming state before the answer was complete. */
  sawStreaming: boolean;
  /** Distinct lengths the answer text had while it arrived. */
  answerLengths: number;
  /** Where the question's turn sits in the conversation, from 0. */
  turnIndex: number;
}

/**
 * The turn the question about to be sent will get. The panel may hold earlier turns, and
 * the new one appears only when the extension host answers the webview's ask: until then
 * `.turn` `.last()` is an earlier turn, whose answer may match what the test waits for.
 */
export async function nextTurn(chat: FrameLocator): Promise<{ turn: Locator; index: number }> {
  const index = await chat.locator('.turn').count();
  return { turn: chat.locator('.turn').nth(index), index };
}

/**
 * Types a question into the chat webview (two iframes deep), sees the Claude
 * answer stream in, clicks a source and lands in the editor at the cited lines.
 */
export async function askInChat(page: Page, opts: { key: string; question: string; sourceName: string }): Promise<ChatResult> {
  await setAnthropicKey(page, opts.key);
  await openAiLibraryView(page);
  // Room for the conversation in the screenshot.
  await setPaneExpanded(page, 'Library', false);

  const chat = webviewFrame(page);
  const input = chat.locator('#input');
  await input.waitFor({ timeout: 20_000 });
  const { turn, index: turnIndex } = await nextTurn(chat);
  // Watch this question's turn render: the streaming state and each growth of the answer.
  await chat.locator('#messages').evaluate((messages, index) => {
    const w = window as unknown as { __e2e: { streaming: boolean; lengths: Set<number> } };
    w.__e2e = { streaming: false, lengths: new Set() };
    new MutationObserver(() => {
      const turn = messages.querySelectorAll('.turn')[index];
      if (!turn) return;
      if (turn.classList.contains('streaming')) w.__e2e.streaming = true;
      w.__e2e.lengths.add(turn.querySelector('.answer')?.textContent?.length ?? 0);
    }).observe(messages, { subtree: true, childList: true, characterData: true, attributes: true });
  }, turnIndex);
  await input.click();
  await input.fill(opts.question);
  await input.press('Enter');
  await turn.locator('.answer', { hasText: 'According to the library' }).waitFor({ timeout: 20_000 });
  await waitUntil('the answer to finish streaming', async () => !((await turn.getAttribute('class')) ?? '').includes('streaming'));
  const seen = await chat.locator('#messages').evaluate(() => {
    const w = window as unknown as { __e2e: { streaming: boolean; lengths: Set<number> } };
    return { streaming: w.__e2e.streaming, lengths: w.__e2e.lengths.size };
  });
  const answer = (await turn.locator('.answer').textContent()) ?? '';
  // A Claude answer: no "extractive quotes" banner on this turn.
  const banner = turn.locator('.banner.extractive');
  if ((await banner.count()) > 0 && (await banner.isVisible()) && ((await banner.textContent()) ?? '').trim() !== '') {
    throw new Error(`expected a Claude answer, got the extractive banner: ${await banner.textContent()}`);
  }
  // Sources sit collapsed under the answer (issue 14): open them to click one.
  const sources = turn.locator('.sources details');
  if ((await sources.getAttribute('open')) === null) await sources.locator('summary').click();
  const link = turn.locator('a.source-link', { hasText: opts.sourceName }).first();
  await link.waitFor();
  await turn.locator('.question').scrollIntoViewIfNeeded();
  await screenshot(page, 'chat');

  const title = (await link.getAttribute('title')) ?? '';
  const lines = /lines? (\d+)(?:\D(\d+))?/.exec(title);
  await closeAllEditors(page);
  await link.click();
  await waitUntil(`${opts.sourceName} to open in an editor`, async () => (await activeTabLabel(page)).startsWith(opts.sourceName));
  if (lines) {
    // The cited lines are selected; the cursor sits at one end of the selection.
    const ends = [Number(lines[1]), Number(lines[2] ?? lines[1])];
    await waitUntil(`the cursor on the cited lines ${ends.join('-')}`, async () => ends.includes(await cursorLine(page)));
  }
  await screenshot(page, 'citation-opened');
  log(`chat answered (${seen.lengths} renders of the answer): ${answer.slice(0, 80)}…`);
  return { answer, sourceTitle: title, sawStreaming: seen.streaming, answerLengths: seen.lengths, turnIndex };
}

/** Find Similar on a selection: the picker lists passages; Enter opens the first. */
export async function similarScenario(page: Page): Promise<string[]> {
  await closeAllEditors(page);
  await openFile(page, 'docs/billing-gateway.md');
  await selectLines(page, 3, 6);
  await runCommand(page, 'aiLibrary.findSimilar');
  const rows = page.locator('.quick-input-widget .monaco-list-row');
  await waitUntil('similar passages in the picker', async () => (await rows.count()) > 0 && /:\d+-\d+/.test((await rows.first().textContent()) ?? ''), 20_000);
  const labels = await rows.allTextContents();
  await screenshot(page, 'similar-picker');
  const first = labels[0] ?? '';
  const file = /([^/\s]+):\d+-\d+/.exec(first)?.[1] ?? '';
  await page.locator('.quick-input-widget input').first().press('Enter');
  await waitUntil(`${file} to open`, async () => file !== '' && (await activeTabLabel(page)).startsWith(file));
  return labels;
}

/** Expands the tree down to a document and returns its row. */
export async function revealInTree(page: Page, serverUrl: string, libraryPath: string): Promise<Locator> {
  await openAiLibraryView(page);
  await setPaneExpanded(page, 'Library', true);
  const filed = await findInTaxonomy(serverUrl, libraryPath);
  for (const name of filed.categoryNames) {
    const row = treeRow(page, name).first();
    await row.waitFor({ timeout: 15_000 });
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  }
  const doc = treeRow(page, filed.title).first();
  await doc.waitFor({ timeout: 15_000 });
  return doc;
}
