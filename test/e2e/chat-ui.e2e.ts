/**
 * The chat panel as a person sees it (issue 14): what stays in view while an
 * answer streams, citations as links, contrast in every theme kind, keyboard,
 * context chips, `/` commands. Called by chat-ui.test.ts with a running E2EEnv.
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { WORKSPACE_NAME, sleep } from './harness.js';
import { waitUntil, webviewFrame } from './ui.e2e.js';

export const LIB = `contributed/${WORKSPACE_NAME}`;

export function chatFrame(page: Page): FrameLocator {
  return webviewFrame(page);
}

export function lastTurn(chat: FrameLocator): Locator {
  return chat.locator('.turn').last();
}

/** Types a question into the chat input and sends it with Enter. */
export async function ask(chat: FrameLocator, question: string): Promise<void> {
  // A step after a failed one must not type into a chat that still streams.
  const stop = chat.locator('#stop');
  if (await stop.isVisible()) {
    await stop.click();
    await stop.waitFor({ state: 'hidden' });
  }
  const input = chat.locator('#input');
  await input.click();
  await input.fill(question);
  await input.press('Enter');
}

/** Waits until the last turn is the one asking `question` and its answer has finished. */
export async function waitForAnswer(chat: FrameLocator, question: string, timeoutMs = 30_000): Promise<Locator> {
  const turn = lastTurn(chat);
  await waitUntil(`the answer to "${question}"`, async () => {
    if (!((await turn.locator('.question').innerText()) ?? '').includes(question)) return false;
    const cls = (await turn.getAttribute('class')) ?? '';
    return !cls.includes('streaming') && (await turn.locator('.answered-by').count()) > 0;
  }, timeoutMs);
  return turn;
}

/** Where the last turn's answer ends and where the message area's viewport is (webview pixels). */
export async function answerInView(
  chat: FrameLocator,
): Promise<{ lastLineBottom: number; lastLineTop: number; viewTop: number; viewBottom: number; inView: boolean; text: string; length: number }> {
  return chat.locator('#messages').evaluate((messages) => {
    const turns = messages.querySelectorAll('.turn');
    const turn = turns[turns.length - 1];
    const answer = turn?.querySelector('.answer');
    // The last line of the answer: the last non-empty text node's last client rect.
    let lastRect: DOMRect | null = null;
    let text = '';
    if (answer) {
      const walker = document.createTreeWalker(answer, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.textContent?.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        const rects = range.getClientRects();
        const r = rects[rects.length - 1];
        if (r) {
          lastRect = r;
          text = n.textContent.trim().slice(-40);
        }
      }
    }
    const view = messages.getBoundingClientRect();
    const bottom = lastRect?.bottom ?? Number.NaN;
    const top = lastRect?.top ?? Number.NaN;
    return {
      lastLineBottom: bottom,
      lastLineTop: top,
      viewTop: view.top,
      viewBottom: view.bottom,
      inView: top >= view.top - 1 && bottom <= view.bottom + 1,
      text,
      length: answer?.textContent?.length ?? 0,
    };
  });
}

/** Whether an element of the chat is fully inside the message area's viewport. */
export async function inMessagesViewport(el: Locator): Promise<boolean> {
  return el.evaluate((node) => {
    const messages = node.closest('#messages');
    if (!messages) return false;
    const r = node.getBoundingClientRect();
    const v = messages.getBoundingClientRect();
    return r.height > 0 && r.top >= v.top - 1 && r.bottom <= v.bottom + 1;
  });
}

export interface ContrastSample {
  what: string;
  text: string;
  color: string;
  background: string;
  ratio: number;
}

/**
 * WCAG contrast of every piece of code text in the chat (inline code, code
 * blocks and their highlighted tokens) against what is painted behind it,
 * compositing translucent backgrounds up to the first opaque one.
 */
export async function codeContrast(chat: FrameLocator): Promise<ContrastSample[]> {
  return chat.locator('#messages').evaluate((messages) => {
    type Rgba = { r: number; g: number; b: number; a: number };
    const parse = (c: string): Rgba | null => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m?.[1]) return null;
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r: p[0] ?? 0, g: p[1] ?? 0, b: p[2] ?? 0, a: p[3] ?? 1 };
    };
    const over = (top: Rgba, base: Rgba): Rgba => ({ r: top.r * top.a + base.r * (1 - top.a), g: top.g * top.a + base.g * (1 - top.a), b: top.b * top.a + base.b * (1 - top.a), a: 1 });
    const backgroundOf = (el: Element): Rgba => {
      const layers: Rgba[] = [];
      for (let e: Element | null = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0) {
          layers.push(c);
          if (c.a >= 1) break;
        }
      }
      let base: Rgba = { r: 255, g: 255, b: 255, a: 1 };
      for (const layer of layers.reverse()) base = over(layer, base);
      return base;
    };
    const lum = (c: Rgba) => {
      const ch = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
    };
    const css = (c: Rgba) => `rgb(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)})`;
    const out: ContrastSample[] = [];
    for (const el of messages.querySelectorAll('.answer code, .answer code span')) {
      const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent?.trim());
      if (!own) continue;
      const bg = backgroundOf(el);
      const fgRaw = parse(getComputedStyle(el).color);
      if (!fgRaw) continue;
      const fg = over(fgRaw, bg);
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a) as [number, number];
      const where = el.closest('pre') ? 'code block' : el.closest('td, th') ? 'inline code in a table' : 'inline code';
      out.push({ what: `${where} ${el.tagName.toLowerCase()}.${el.className}`, text: (el.textContent ?? '').trim().slice(0, 24), color: css(fg), background: css(bg), ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100 });
    }
    return out;
  });
}

/** The four built-in theme kinds and how the webview's body marks each. */
export const THEMES = [
  { name: 'Light Modern', kind: 'light', bodyClass: 'vscode-light' },
  { name: 'Dark Modern', kind: 'dark', bodyClass: 'vscode-dark' },
  { name: 'Dark High Contrast', kind: 'hc-dark', bodyClass: 'vscode-high-contrast' },
  { name: 'Light High Contrast', kind: 'hc-light', bodyClass: 'vscode-high-contrast-light' },
] as const;

/** Picks a color theme through "Preferences: Color Theme", as a person would, and waits for the chat to follow. */
export async function setColorTheme(page: Page, chat: FrameLocator, theme: (typeof THEMES)[number]): Promise<void> {
  await page.keyboard.press('F1');
  const palette = page.locator('.quick-input-widget input[type="text"], .quick-input-widget .quick-input-box input').first();
  await palette.waitFor({ state: 'visible' });
  await palette.fill('>Preferences: Color Theme');
  // "Browse Color Themes in Marketplace" ranks first; the picker itself is the row without "Browse".
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Preferences: Color Theme' }).filter({ hasNotText: 'Browse' }).first().click();
  // The theme picker replaces the palette: its input loses the ">" (its long list is virtual, so rows are not awaited).
  const input = page.locator('.quick-input-widget input[type="text"], .quick-input-widget .quick-input-box input').first();
  await waitUntil('the color theme picker', async () => !(await input.inputValue()).startsWith('>'));
  await input.fill(theme.name);
  await page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: theme.name }).first().waitFor();
  await input.press('Enter');
  await waitUntil(`the chat to take the ${theme.name} theme`, async () => {
    const cls = (await chat.locator('body').getAttribute('class')) ?? '';
    const classes = cls.split(/\s+/);
    // Light High Contrast carries both high-contrast classes; plain High Contrast only the first.
    if (theme.kind === 'hc-dark') return classes.includes('vscode-high-contrast') && !classes.includes('vscode-high-contrast-light');
    return classes.includes(theme.bodyClass);
  });
  await sleep(300);
}

/**
 * Line breaks inside the rendered source paths: each is reported with the
 * character before it, which must be a path separator.
 */
export async function pathBreaks(chat: FrameLocator): Promise<Array<{ path: string; before: string; after: string }>> {
  return chat.locator('#messages').evaluate((messages) => {
    const out: Array<{ path: string; before: string; after: string }> = [];
    for (const el of messages.querySelectorAll('.source-path')) {
      const chars: Array<{ ch: string; top: number }> = [];
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const t = n.textContent ?? '';
        for (let i = 0; i < t.length; i++) {
          const range = document.createRange();
          range.setStart(n, i);
          range.setEnd(n, i + 1);
          const r = range.getClientRects()[0];
          if (r) chars.push({ ch: t[i] ?? '', top: Math.round(r.top) });
        }
      }
      for (let i = 1; i < chars.length; i++) {
        const prev = chars[i - 1];
        const cur = chars[i];
        if (prev && cur && cur.top > prev.top + 2) out.push({ path: el.textContent ?? '', before: prev.ch, after: cur.ch });
      }
    }
    return out;
  });
}

/** A long answer, paced, so it outgrows the view while it streams. */
export function longAnswer(lines: number): string[] {
  return Array.from(
    { length: lines },
    (_, i) => `Step ${i + 1}: every request takes one token and the bucket refills at a steady rate [source: ${LIB}/src/rate_limiter.py].\n\n`,
  );
}

/** An answer with every citation form, a table with inline code and a highlighted code block. */
export const RICH_ANSWER = [
  `The bucket refills continuously from the elapsed time [source: ${LIB}/src/rate_limiter.py#L19-L23]. `,
  `An empty bucket makes the gateway answer HTTP 429 [source: ${LIB}/docs/billing-gateway.md].\n\n`,
  '| Setting | Value |\n|---|---|\n| `capacity` | `50` tokens |\n| `refill_per_second` | `10` per second |\n\n',
  '```python\ndef try_acquire(self) -> bool:\n    """Takes one token when one is left."""\n    self._refill(time.monotonic())\n',
  '    if self.tokens < 1:\n        return False  # back off\n    self.tokens -= 1\n    return True\n```\n',
];
