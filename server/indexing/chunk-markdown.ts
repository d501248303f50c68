/**
 * Markdown chunking: one chunk per heading section where it fits, small
 * sibling sections merged, large ones split at block boundaries. Section
 * paths include every heading level, H1 too: the document title is useful
 * context for retrieval. Text before the first heading has section "" (the
 * indexer knows the file's title; we do not guess one).
 *
 * Every chunk stays within max_tokens, except a piece of a split fence whose
 * opening line alone is a large part of max_tokens.
 */
import MarkdownIt, { type Token } from 'markdown-it';
import type { Chunk, ChunkingOptions } from './chunk.js';
import {
  BLOCK_BREAKS,
  LINES,
  PROSE_BREAKS,
  WORDS,
  atomize,
  lineAt,
  lineEnd,
  lineStart,
  lineText,
  linesSpan,
  pack,
  packLimits,
  spansToChunks,
  toChunk,
  toDoc,
  trimSpan,
  type Doc,
  type PackLimits,
  type Span,
} from './chunk-windows.js';
import { frontMatterBlock } from '../text/front-matter.js';
import { charsForTokens } from '../text/token-estimate.js';

// html: true so raw HTML (<details>, tables) comes out as html_block blocks instead of stray paragraphs.
const md = new MarkdownIt({ html: true });
const FENCE_BREAKS = [LINES, WORDS];

/** A top-level block; lines are 0-based and inclusive. */
type Block =
  | { kind: 'heading'; first: number; last: number; depth: number; title: string }
  | { kind: 'fence'; first: number; last: number; markup: string }
  | { kind: 'paragraph' | 'other'; first: number; last: number };

interface Section {
  path: string[];
  blocks: Block[];
}

function plainText(inline: Token | undefined): string {
  if (!inline) return '';
  const parts = inline.children?.filter((c) => c.type === 'text' || c.type === 'code_inline').map((c) => c.content);
  return (parts && parts.length > 0 ? parts.join('') : inline.content).trim();
}

function parseBlocks(doc: Doc, skipLines: number): Block[] {
  // Front matter is blanked rather than cut so token maps stay file line numbers.
  const source = '\n'.repeat(skipLines) + doc.text.slice(lineStart(doc, skipLines));
  const tokens = md.parse(source, {});
  const blocks: Block[] = [];
  tokens.forEach((t, i) => {
    if (t.level !== 0 || t.nesting === -1 || !t.map) return;
    const [first, end] = t.map;
    const last = end - 1;
    if (t.type === 'heading_open') {
      blocks.push({ kind: 'heading', first, last, depth: Number(t.tag.slice(1)), title: plainText(tokens[i + 1]) });
    } else if (t.type === 'fence') {
      blocks.push({ kind: 'fence', first, last, markup: t.markup });
    } else {
      blocks.push({ kind: t.type === 'paragraph_open' ? 'paragraph' : 'other', first, last });
    }
  });
  return blocks;
}

/** Groups blocks under their heading; lines no block claims (link definitions) stay in as 'other'. */
function sectionize(doc: Doc, blocks: Block[], bodyStart: number): Section[] {
  const sections: Section[] = [];
  const stack: { depth: number; title: string }[] = [];
  let current: Section | undefined;
  const add = (block: Block): void => {
    if (!current) {
      current = { path: [], blocks: [] };
      sections.push(current);
    }
    current.blocks.push(block);
  };
  const addGap = (first: number, last: number): void => {
    if (first <= last && trimSpan(doc, linesSpan(doc, first, last))) add({ kind: 'other', first, last });
  };
  let next = bodyStart;
  for (const block of blocks) {
    addGap(next, block.first - 1);
    if (block.kind === 'heading') {
      while ((stack.at(-1)?.depth ?? 0) >= block.depth) stack.pop();
      stack.push({ depth: block.depth, title: block.title });
      current = { path: stack.map((h) => h.title), blocks: [] };
      sections.push(current);
    }
    add(block);
    next = block.last + 1;
  }
  addGap(next, doc.lineStarts.length - 1);
  return sections;
}

function sectionSpan(doc: Doc, section: Section): Span {
  const first = section.blocks[0];
  const last = section.blocks.at(-1);
  return first && last ? linesSpan(doc, first.first, last.last) : { from: 0, to: 0 };
}

function joinPath(path: readonly string[]): string {
  return path.filter((t) => t !== '').join(' > ');
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return path.length >= prefix.length && prefix.every((t, i) => path[i] === t);
}

function trimmedLength(doc: Doc, span: Span): number {
  const t = trimSpan(doc, span);
  return t ? t.to - t.from : 0;
}

function isClosingFence(line: string, markup: string): boolean {
  const t = line.trim();
  return t.length >= markup.length && t === (markup[0] ?? '`').repeat(t.length);
}

/**
 * Cuts an oversized fence by lines; every piece is re-wrapped in the opening
 * and a closing fence line so it still renders (and embeds) as code. `leadFrom`
 * pulls a small preceding chunk (typically the heading) into the first piece.
 */
function splitFence(
  doc: Doc,
  fence: Extract<Block, { kind: 'fence' }>,
  leadFrom: number | undefined,
  limits: PackLimits,
  section: string,
): Chunk[] {
  const open = lineText(doc, fence.first);
  const closed = fence.last > fence.first && isClosingFence(lineText(doc, fence.last), fence.markup);
  const close = (/^[ \t]*/.exec(open)?.[0] ?? '') + fence.markup;
  const innerLast = closed ? fence.last - 1 : fence.last;
  const whole = { from: leadFrom ?? lineStart(doc, fence.first), to: lineEnd(doc, fence.last) };
  if (innerLast <= fence.first) return spansToChunks(doc, [whole], section);

  const budget = Math.max(limits.maxChars - open.length - close.length - 2, Math.ceil(limits.maxChars / 2));
  const inner = linesSpan(doc, fence.first + 1, innerLast);
  const head = { from: whole.from, to: lineEnd(doc, fence.first) };
  const units = [head, ...atomize(doc.text, inner, budget, FENCE_BREAKS)];
  let pieces = pack(doc, units, { ...limits, maxChars: budget, floor: inner.from });

  const out: Chunk[] = [];
  // When no code fits beside the opening line (a huge first line), the lead-in
  // goes alone rather than as an empty code block, and every piece is re-fenced.
  const headOnly = pieces.length > 1 && (pieces[0]?.to ?? 0) <= head.to;
  if (headOnly) {
    if (leadFrom !== undefined) out.push(...spansToChunks(doc, [{ from: leadFrom, to: lineStart(doc, fence.first) }], section));
    pieces = pieces.slice(1);
  }
  pieces.forEach((piece, i) => {
    const isFirst = i === 0 && !headOnly;
    const isLast = i === pieces.length - 1;
    const core = trimSpan(doc, isLast && closed ? { from: piece.from, to: whole.to } : piece);
    if (!core) return;
    const body = doc.text.slice(core.from, core.to);
    out.push({
      content: (isFirst ? '' : open + '\n') + body + (isLast && closed ? '' : '\n' + close),
      section,
      start_line: lineAt(doc, core.from) + 1,
      end_line: lineAt(doc, core.to - 1) + 1,
    });
  });
  return out;
}

/** Splits one section that is over max_tokens; `lead` is a small parent section carried along. */
function splitSection(doc: Doc, blocks: readonly Block[], section: string, opts: ChunkingOptions, lead?: Span): Chunk[] {
  const firstBlock = blocks[0];
  if (!firstBlock) return [];
  const limits = packLimits(opts, lead?.from ?? lineStart(doc, firstBlock.first));
  const minChars = charsForTokens(opts.min_tokens);
  const out: Chunk[] = [];
  let units: Span[] = lead ? [lead] : [];

  for (const block of blocks) {
    const span = linesSpan(doc, block.first, block.last);
    if (span.to - span.from <= limits.maxChars) {
      units.push(span);
    } else if (block.kind === 'fence') {
      // Fences are cut only here, when the fence alone is too large; the text before it is finished first.
      const packed = pack(doc, units, limits);
      units = [];
      const last = packed.at(-1);
      const carry =
        last && trimmedLength(doc, last) < minChars && lineEnd(doc, block.first) - last.from <= limits.maxChars / 2;
      if (carry) packed.pop();
      out.push(...spansToChunks(doc, packed, section));
      out.push(...splitFence(doc, block, carry ? last.from : undefined, limits, section));
    } else {
      // A loop, not push(...): a huge table or list yields one unit per line.
      for (const unit of atomize(doc.text, span, limits.maxChars, block.kind === 'other' ? BLOCK_BREAKS : PROSE_BREAKS)) {
        units.push(unit);
      }
    }
  }
  out.push(...spansToChunks(doc, pack(doc, units, limits), section));
  return out;
}

interface Run {
  span: Span;
  /** Index after the last merged section. */
  end: number;
  label: string;
  last: Section;
}

/**
 * Merges sections from `i` on while the chunk is under min_tokens, stays within
 * max_tokens, and the next section is a sibling of the first (or below one).
 * The label is the first section's path, or the first heading after a preamble.
 */
function mergeSmall(doc: Doc, sections: readonly Section[], i: number, minChars: number, maxChars: number): Run {
  const first = sections[i] ?? { path: [], blocks: [] };
  const span = sectionSpan(doc, first);
  const parent = first.path.slice(0, -1);
  let named = first;
  let last = first;
  let end = i + 1;
  for (let next = sections[end]; next; next = sections[++end]) {
    const to = sectionSpan(doc, next).to;
    const sibling = next.path.length >= first.path.length && startsWith(next.path, parent);
    if (trimmedLength(doc, span) >= minChars || !sibling || to - span.from > maxChars) break;
    span.to = to;
    last = next;
    if (named.path.length === 0) named = next;
  }
  return { span, end, label: joinPath(named.path), last };
}

export function chunkMarkdown(text: string, opts: ChunkingOptions): Chunk[] {
  const doc = toDoc(text);
  const bodyStart = frontMatterBlock(doc.text)?.lines ?? 0;
  const sections = sectionize(doc, parseBlocks(doc, bodyStart), bodyStart);
  const maxChars = charsForTokens(opts.max_tokens);
  const minChars = charsForTokens(opts.min_tokens);
  const oversized = (s: Section): boolean => {
    const span = sectionSpan(doc, s);
    return span.to - span.from > maxChars;
  };
  const out: Chunk[] = [];

  for (let i = 0; i < sections.length; ) {
    const first = sections[i];
    if (!first) break;
    if (oversized(first)) {
      out.push(...splitSection(doc, first.blocks, joinPath(first.path), opts));
      i++;
      continue;
    }
    const run = mergeSmall(doc, sections, i, minChars, maxChars);
    const next = sections[run.end];
    const leadsIn =
      next &&
      oversized(next) &&
      trimmedLength(doc, run.span) < minChars &&
      next.path.length > run.last.path.length &&
      startsWith(next.path, run.last.path);
    if (next && leadsIn) {
      // Headings with little under them lead into an oversized subsection: keep them together.
      out.push(...splitSection(doc, next.blocks, joinPath(next.path), opts, run.span));
      i = run.end + 1;
      continue;
    }
    const chunk = toChunk(doc, run.span, run.label);
    if (chunk) out.push(chunk);
    i = run.end;
  }
  return out;
}
