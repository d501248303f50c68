/**
 * UI scenarios for what the extension shows outside the chat's answers (issue 14):
 * the status bar and the one connection state behind it, the Library tree's
 * recovery, index messages, Copy Path, Insert, the 401 message and History's
 * per-developer note, the focus-chat keybinding. Driven by status.test.ts.
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { sleep } from './harness.js';
import { activeTabLabel, closeAllEditors, nextTurn, openFile, runCommand, runTitle, waitUntil, webviewFrame } from './ui.e2e.js';

export function statusItem(page: Page): Locator {
  return page.locator('.part.statusbar .statusbar-item', { hasText: /Library:/ }).first();
}

export async function statusText(page: Page): Promise<string> {
  return ((await statusItem(page).innerText().catch(() => '')) ?? '').replace(/\s+/g, ' ').trim();
}

/** What a screen reader (and the tooltip) says: text, state and what clicking does. */
export async function statusLabel(page: Page): Promise<string> {
  const item = statusItem(page);
  const label = (await item.getAttribute('aria-label')) ?? (await item.locator('[aria-label]').first().getAttribute('aria-label')) ?? '';
  return label;
}

export async function waitForStatus(page: Page, text: RegExp, timeoutMs = 20_000): Promise<string> {
  await waitUntil(`the status bar to say ${text}`, async () => text.test(await statusText(page)), timeoutMs);
  return statusText(page);
}

/** Hovers the status item so its tooltip is in the screenshot. */
export async function hoverStatus(page: Page): Promise<string> {
  await statusItem(page).hover();
  const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'AI Library' }).first();
  await hover.waitFor({ timeout: 5000 }).catch(() => undefined);
  return ((await hover.innerText().catch(() => '')) ?? '').replace(/\s+/g, ' ');
}

/** The Library pane's body: its rows or its welcome text. */
export function libraryPane(page: Page): Locator {
  return page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Library' }) }).first();
}

export async function libraryWelcome(page: Page): Promise<string> {
  const welcome = libraryPane(page).locator('.welcome-view-content');
  if (!(await welcome.isVisible().catch(() => false))) return '';
  return ((await welcome.innerText()) ?? '').replace(/\s+/g, ' ');
}

export async function clearNotifications(page: Page): Promise<void> {
  await runTitle(page, 'Notifications: Clear All Notifications');
}

/** The notifications in the notification center whose text matches, after `settleMs` for late ones. */
export async function notificationTexts(page: Page, match: RegExp, settleMs = 1500): Promise<string[]> {
  await sleep(settleMs);
  const bell = page.locator('[id="status.notifications"]').first();
  const center = page.locator('.notifications-center');
  if (!(await center.isVisible().catch(() => false))) await bell.click();
  await center.waitFor();
  const all = (await center.locator('.notification-list-item').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  return all.filter((t) => match.test(t));
}

export async function closeNotificationCenter(page: Page): Promise<void> {
  const center = page.locator('.notifications-center');
  if (await center.isVisible().catch(() => false)) await page.locator('[id="status.notifications"]').first().click();
}

/** Right-click → Copy Path on a tree row; returns the notification that confirms it. */
export async function copyPathFromTree(page: Page, row: Locator, expected: string): Promise<string> {
  await row.click({ button: 'right' });
  const item = page.getByRole('menuitem', { name: 'Copy Path' }).first();
  await item.waitFor({ timeout: 10_000 });
  await item.click();
  const found = await notificationTexts(page, new RegExp(`copied ${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 800);
  return found[0] ?? '';
}

export function chatFrame(page: Page): FrameLocator {
  return webviewFrame(page);
}

/** Types a question into the chat and returns its turn. */
export async function askQuestion(page: Page, question: string): Promise<Locator> {
  const chat = chatFrame(page);
  const input = chat.locator('#input');
  await input.waitFor({ timeout: 20_000 });
  const { turn } = await nextTurn(chat);
  await input.click();
  await input.fill(question);
  await input.press('Enter');
  await turn.waitFor();
  return turn;
}

export async function waitForTurnEnd(turn: Locator, timeoutMs = 30_000): Promise<void> {
  await waitUntil('the turn to finish', async () => !((await turn.getAttribute('class')) ?? '').includes('streaming'), timeoutMs);
}

/**
 * Clicks the Insert button of the first code block of a turn and returns the
 * chat's notice about it. The notice of
 * an earlier Insert may still be showing, so only a notice other than the one
 * shown before the click counts as the answer (two Inserts in a row that
 * should say the same words cannot be told apart this way).
 */
export async function clickInsert(page: Page, turn: Locator): Promise<string> {
  const chat = chatFrame(page);
  const notice = chat.locator('#notice');
  const text = async () => ((await notice.isVisible()) ? ((await notice.textContent()) ?? '').trim() : '');
  const shown = await text();
  await turn.locator('[data-action="insert"]').first().click();
  await waitUntil('the chat to confirm the insert', async () => {
    const now = await text();
    return now !== '' && now !== shown;
  }, 10_000);
  return text();
}

export async function editorText(page: Page): Promise<string> {
  return (await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
}

export { activeTabLabel, closeAllEditors, openFile, runCommand, runTitle };
