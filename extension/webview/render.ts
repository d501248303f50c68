/**
 * Markdown → safe HTML for the chat. Answers quote library content that anyone
 * on the team may have indexed, so it is treated as hostile: markdown-it runs
 * with `html: false` and an allow-list of link schemes, and DOMPurify then keeps
 * only the tags and attributes this renderer itself produces.
 * Pure apart from the DOM that DOMPurify needs, which the caller passes in.
 */
import DOMPurify, { type Config, type WindowLike } from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import MarkdownIt from 'markdown-it';

// A handful of common languages keeps the webview bundle small; others render as plain escaped text.
const LANGUAGES = { bash, css, diff, go, java, javascript, json, markdown, python, rust, sql, typescript, xml, yaml };
for (const [name, lang] of Object.entries(LANGUAGES)) if (!hljs.getLanguage(name)) hljs.registerLanguage(name, lang);

/** Links may only leave for the web or point at a cited source. */
const SAFE_URL = /^(?:https?:\/\/|citation:\d+$)/i;

const ALLOWED_TAGS = [
  'a', 'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'blockquote',
  'em', 'strong', 's', 'del', 'code', 'pre', 'span', 'div', 'button',
  'table', 'thead', 'tbody', 'tr', 'th', 'td',
];
const ALLOWED_ATTR = ['href', 'class', 'title', 'type', 'start', 'data-action', 'data-source', 'data-lang', 'aria-label'];
/** Plain-value attributes: DOMPurify otherwise tests every value against ALLOWED_URI_REGEXP, which only links pass. */
const PLAIN_ATTR = ['type', 'start', 'data-action', 'data-source', 'data-lang', 'aria-label'];

const PURIFY_CONFIG: Config = {
  ALLOWED_TAGS,
  ALLOWED_ATTR,
  ADD_URI_SAFE_ATTR: PLAIN_ATTR,
  ALLOWED_URI_REGEXP: /^(?:https?:|citation:\d+$)/i,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  KEEP_CONTENT: true,
};

export interface RenderOptions {
  /** How many sources the answer has: `[n]` becomes a link only for 1..sourceCount. */
  sourceCount: number;
}

export interface Renderer {
  render(markdown: string, options?: RenderOptions): string;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sourceCountOf(env: unknown): number {
  if (typeof env !== 'object' || env === null || !('sourceCount' in env)) return 0;
  const n = env.sourceCount;
  return typeof n === 'number' ? n : 0;
}

const LANGUAGE_ALIASES: Record<string, string> = {
  ts: 'typescript', tsx: 'typescript', js: 'javascript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript',
  py: 'python', sh: 'bash', shell: 'bash', zsh: 'bash', console: 'bash', yml: 'yaml', html: 'xml', svg: 'xml',
  md: 'markdown', rs: 'rust', golang: 'go', jsonc: 'json', typescriptreact: 'typescript', javascriptreact: 'javascript',
};

function languageOf(info: string): string {
  const name = (info.trim().split(/\s+/)[0] ?? '').toLowerCase();
  return LANGUAGE_ALIASES[name] ?? name;
}

type Markdown = InstanceType<typeof MarkdownIt>;

function codeBlock(md: Markdown, content: string, info: string): string {
  const lang = languageOf(info);
  const body = lang && hljs.getLanguage(lang) ? hljs.highlight(content, { language: lang, ignoreIllegals: true }).value : md.utils.escapeHtml(content);
  const label = info.trim().split(/\s+/)[0] ?? '';
  return (
    `<div class="code-block" data-lang="${escapeAttr(lang)}">` +
    `<div class="code-toolbar"><span class="code-lang">${md.utils.escapeHtml(label)}</span>` +
    '<button type="button" class="code-action" data-action="copy" title="Copy to the clipboard">Copy</button>' +
    '<button type="button" class="code-action" data-action="insert" title="Insert at the cursor in the editor">Insert</button></div>' +
    `<pre><code class="hljs${lang ? ` language-${escapeAttr(lang)}` : ''}">${body}</code></pre></div>\n`
  );
}

function createMarkdown(): Markdown {
  const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: false });
  md.validateLink = (url: string) => SAFE_URL.test(url.trim());

  // `[3]` or `[1, 2]` → links to those sources; before `link` so `[1](url)` stays a link.
  md.inline.ruler.before('link', 'citation', (state, silent) => {
    if (state.src.charCodeAt(state.pos) !== 0x5b /* [ */) return false;
    const match = /^\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\](?!\()/.exec(state.src.slice(state.pos));
    if (!match?.[1]) return false;
    const count = sourceCountOf(state.env);
    const numbers = match[1].split(',').map((s) => Number(s.trim()));
    if (numbers.some((n) => n < 1 || n > count)) return false;
    if (!silent) {
      const token = state.push('citation', '', 0);
      token.meta = { numbers };
    }
    state.pos += match[0].length;
    return true;
  });
  md.renderer.rules.citation = (tokens, idx) => {
    const meta: unknown = tokens[idx]?.meta;
    const numbers = typeof meta === 'object' && meta !== null && 'numbers' in meta && Array.isArray(meta.numbers) ? meta.numbers : [];
    const links = numbers
      .filter((n): n is number => typeof n === 'number')
      .map((n) => `<a href="citation:${n}" class="citation" data-source="${n}" title="Open source ${n}">${n}</a>`);
    return `<span class="citations">[${links.join(', ')}]</span>`;
  };
  md.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx];
    return token ? codeBlock(md, token.content, token.info) : '';
  };
  md.renderer.rules.code_block = (tokens, idx) => {
    const token = tokens[idx];
    return token ? codeBlock(md, token.content, '') : '';
  };
  // Images would load from anywhere (tracking pixels); show them as links instead.
  md.renderer.rules.image = (tokens, idx) => {
    const token = tokens[idx];
    if (!token) return '';
    const src = String(token.attrGet('src') ?? '');
    const alt = token.content || 'image';
    const label = `[image: ${md.utils.escapeHtml(alt)}]`;
    return SAFE_URL.test(src) ? `<a href="${escapeAttr(src)}" class="image-link">${label}</a>` : label;
  };
  return md;
}

export function createRenderer(win: WindowLike): Renderer {
  const md = createMarkdown();
  const purify = DOMPurify(win);
  purify.addHook('afterSanitizeAttributes', (node) => {
    // Belt and braces: no event handler attribute survives, whatever the config says.
    for (const attr of [...node.attributes]) if (attr.name.toLowerCase().startsWith('on')) node.removeAttribute(attr.name);
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') ?? '';
      if (!SAFE_URL.test(href)) node.removeAttribute('href');
      else if (/^https?:/i.test(href)) node.setAttribute('rel', 'noopener noreferrer');
    }
  });
  return {
    render(markdown: string, options: RenderOptions = { sourceCount: 0 }): string {
      const html = md.render(markdown, { sourceCount: options.sourceCount });
      return purify.sanitize(html, { ...PURIFY_CONFIG, RETURN_TRUSTED_TYPE: false });
    },
  };
}
