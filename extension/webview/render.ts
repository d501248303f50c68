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
import type { AnswerSource } from '../../shared/api-types.js';
import { isRecord } from '../../shared/guards.js';

// A handful of common languages keeps the webview bundle small; others render as plain escaped text.
const LANGUAGES = { bash, css, diff, go, java, javascript, json, markdown, python, rust, sql, typescript, xml, yaml };
for (const [name, lang] of Object.entries(LANGUAGES)) if (!hljs.getLanguage(name)) hljs.registerLanguage(name, lang);

/** Links may only leave for the web or point at a cited source (by number, or by path for a `[source: path]`). */
const SAFE_URL = /^(?:https?:\/\/|citation:(?:\d+|path)$)/i;

const ALLOWED_TAGS = [
  'a', 'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'blockquote',
  'em', 'strong', 's', 'del', 'code', 'pre', 'span', 'div', 'button',
  'table', 'thead', 'tbody', 'tr', 'th', 'td',
];
const DATA_ATTR = ['data-action', 'data-source', 'data-lang', 'data-path', 'data-start', 'data-end'];
const ALLOWED_ATTR = ['href', 'class', 'title', 'type', 'start', 'aria-label', ...DATA_ATTR];
/** Plain-value attributes: DOMPurify otherwise tests every value against ALLOWED_URI_REGEXP, which only links pass. */
const PLAIN_ATTR = ['type', 'start', 'aria-label', 'title', ...DATA_ATTR];

const PURIFY_CONFIG: Config = {
  ALLOWED_TAGS,
  ALLOWED_ATTR,
  ADD_URI_SAFE_ATTR: PLAIN_ATTR,
  ALLOWED_URI_REGEXP: /^(?:https?:|citation:(?:\d+|path)$)/i,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  KEEP_CONTENT: true,
};

/** What a citation can point at: the answer's sources. */
export type CitableSource = Pick<AnswerSource, 'index' | 'file_path' | 'start_line' | 'end_line'>;

export interface RenderOptions {
  /** The answer's sources: `[n]` becomes a link only for one of them; `[source: path]` always does. */
  sources: readonly CitableSource[];
}

export interface Renderer {
  render(markdown: string, options?: RenderOptions): string;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sourcesOf(env: unknown): readonly CitableSource[] {
  if (!isRecord(env) || !Array.isArray(env.sources)) return [];
  return env.sources.filter(isCitable);
}

function isCitable(v: unknown): v is CitableSource {
  return isRecord(v) && typeof v.index === 'number' && typeof v.file_path === 'string';
}

/** Where a citation leads: a file and lines, and the source it matches when it matches one. */
export interface CitationTarget {
  file_path: string;
  start_line: number;
  end_line: number;
  index: number | null;
  /** Link text: the number for `[n]`, the file name (and lines) for `[source: path]`. */
  text: string;
}

function basename(p: string): string {
  return p.split(/[/\\]/).pop() || p;
}

function rangeText(start: number, end: number): string {
  if (start <= 0) return '';
  return end > start ? `${start}–${end}` : String(start);
}

/**
 * One reference inside `[source: …]`, in every form the server's prompt and
 * parser accept (server/answers/context.ts, citations.ts): `path`,
 * `path#L3-L9`, `path:3-9`, `path, lines 3-9`, `path (Section: …)`.
 */
export function parseSourceRef(ref: string, sources: readonly CitableSource[]): CitationTarget | null {
  let rest = ref.trim().replace(/^source:\s*/i, '').replace(/\s*\(section:[^)]*\)\s*$/i, '').trim();
  let start = 0;
  let end = 0;
  const lines = /(?:#L(\d+)(?:-L?(\d+))?|:(\d+)(?:[-–](\d+))?|,?\s+lines?\s+(\d+)(?:\s*[-–]\s*(\d+))?)$/i.exec(rest);
  if (lines) {
    start = Number(lines[1] ?? lines[3] ?? lines[5]);
    end = Number(lines[2] ?? lines[4] ?? lines[6] ?? start);
    rest = rest.slice(0, lines.index).trim();
  }
  if (rest === '' || /\s{2,}|[<>"]/.test(rest)) return null;
  const sameFile = sources.filter((s) => s.file_path === rest || s.file_path.endsWith(`/${rest}`));
  const overlapping = start > 0 ? sameFile.find((s) => s.start_line <= end && s.end_line >= start) : undefined;
  const match = overlapping ?? sameFile[0];
  const file_path = match?.file_path ?? rest;
  if (start === 0 && match) {
    start = match.start_line;
    end = match.end_line;
  }
  const lineText = rangeText(start, end);
  return { file_path, start_line: start, end_line: end, index: match?.index ?? null, text: lineText ? `${basename(file_path)}:${lineText}` : basename(file_path) };
}

/** `[source: a; source: b]` and `[source: a, source: b]` cite two. */
function splitSourceRefs(inner: string): string[] {
  return inner.split(/\s*;\s*|\s*,\s*(?=source:)/i).filter((r) => r.trim() !== '');
}

function linesWord(start: number, end: number): string {
  if (start <= 0) return '';
  return end > start ? `, lines ${start} to ${end}` : `, line ${start}`;
}

function citationLink(t: CitationTarget, md: Markdown): string {
  const label = `${t.index !== null ? `Source ${t.index}: ` : 'Source: '}${t.file_path}${linesWord(t.start_line, t.end_line)}`;
  const attrs = [
    `href="citation:${t.index ?? 'path'}"`,
    'class="citation"',
    t.index !== null ? `data-source="${t.index}"` : '',
    `data-path="${escapeAttr(t.file_path)}"`,
    `data-start="${t.start_line}"`,
    `data-end="${t.end_line}"`,
    `aria-label="${escapeAttr(label)}"`,
    `title="Open ${escapeAttr(t.file_path)}${escapeAttr(linesWord(t.start_line, t.end_line))}"`,
  ].filter(Boolean);
  return `<a ${attrs.join(' ')}>${md.utils.escapeHtml(t.text)}</a>`;
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

/** Which block a Copy or Insert button acts on, for screen readers: its number, language and first line. */
function blockName(n: number, label: string, content: string): string {
  const first = content.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  const head = first.length > 40 ? `${first.slice(0, 39)}…` : first;
  return `code block ${n}${label ? ` (${label})` : ''}${head ? `: ${head}` : ''}`;
}

function nextBlockNumber(env: unknown): number {
  if (typeof env !== 'object' || env === null) return 1;
  const counter = 'codeBlocks' in env && typeof env.codeBlocks === 'number' ? env.codeBlocks + 1 : 1;
  Object.assign(env, { codeBlocks: counter });
  return counter;
}

function codeBlock(md: Markdown, content: string, info: string, n: number): string {
  const lang = languageOf(info);
  const body = lang && hljs.getLanguage(lang) ? hljs.highlight(content, { language: lang, ignoreIllegals: true }).value : md.utils.escapeHtml(content);
  const label = info.trim().split(/\s+/)[0] ?? '';
  const name = escapeAttr(blockName(n, label, content));
  return (
    `<div class="code-block" data-lang="${escapeAttr(lang)}">` +
    `<div class="code-toolbar"><span class="code-lang">${md.utils.escapeHtml(label)}</span>` +
    `<button type="button" class="code-action" data-action="copy" title="Copy to the clipboard" aria-label="Copy ${name}">Copy</button>` +
    `<button type="button" class="code-action" data-action="insert" title="Insert at the cursor in the editor" aria-label="Insert ${name} into the editor">Insert</button></div>` +
    `<pre><code class="hljs${lang ? ` language-${escapeAttr(lang)}` : ''}">${body}</code></pre></div>\n`
  );
}

function isTarget(v: unknown): v is CitationTarget {
  return isRecord(v) && typeof v.file_path === 'string' && typeof v.text === 'string';
}

function createMarkdown(): Markdown {
  const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: false });
  md.validateLink = (url: string) => SAFE_URL.test(url.trim());

  // `[3]` or `[1, 2]` → links to those sources; before `link` so `[1](url)` stays a link.
  md.inline.ruler.before('link', 'citation', (state, silent) => {
    if (state.src.charCodeAt(state.pos) !== 0x5b /* [ */) return false;
    const rest = state.src.slice(state.pos);
    const sources = sourcesOf(state.env);
    const numbered = /^\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\](?!\()/.exec(rest);
    if (numbered?.[1]) {
      const targets = numbered[1].split(',').map((n) => {
        const s = sources.find((x) => x.index === Number(n.trim()));
        return s ? { file_path: s.file_path, start_line: s.start_line, end_line: s.end_line, index: s.index, text: String(s.index) } : null;
      });
      if (targets.some((t) => t === null)) return false;
      if (!silent) state.push('citation', '', 0).meta = { targets };
      state.pos += numbered[0].length;
      return true;
    }
    const named = /^\[\s*source:\s*([^\]\n]+?)\s*\](?!\()/i.exec(rest);
    if (named?.[1]) {
      const targets = splitSourceRefs(named[1]).map((r) => parseSourceRef(r, sources));
      if (targets.length === 0 || targets.some((t) => t === null)) return false;
      if (!silent) state.push('citation', '', 0).meta = { targets };
      state.pos += named[0].length;
      return true;
    }
    return false;
  });
  md.renderer.rules.citation = (tokens, idx) => {
    const meta: unknown = tokens[idx]?.meta;
    const targets = isRecord(meta) && Array.isArray(meta.targets) ? meta.targets.filter(isTarget) : [];
    return `<span class="citations">[${targets.map((t) => citationLink(t, md)).join(', ')}]</span>`;
  };
  md.renderer.rules.fence = (tokens, idx, _options, env: unknown) => {
    const token = tokens[idx];
    return token ? codeBlock(md, token.content, token.info, nextBlockNumber(env)) : '';
  };
  md.renderer.rules.code_block = (tokens, idx, _options, env: unknown) => {
    const token = tokens[idx];
    return token ? codeBlock(md, token.content, '', nextBlockNumber(env)) : '';
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
    render(markdown: string, options: RenderOptions = { sources: [] }): string {
      const html = md.render(markdown, { sources: options.sources, codeBlocks: 0 });
      return purify.sanitize(html, { ...PURIFY_CONFIG, RETURN_TRUSTED_TYPE: false });
    },
  };
}
