/**
 * Offset-based building blocks shared by the chunkers. Chunks are spans of one
 * normalized text, so content is always a slice of it (no string building per
 * line) and line numbers come from a line-start index.
 */
import type { Chunk, ChunkingOptions } from './chunk.js';
import { charsForTokens } from '../text/token-estimate.js';

/** File text with CRLF folded to LF and a leading BOM dropped: line numbers stay those of the original. */
export interface Doc {
  text: string;
  /** Offset of the first character of each line; line i is 0-based. */
  lineStarts: number[];
}

/** Half-open character range [from, to) of `Doc.text`. */
export interface Span {
  from: number;
  to: number;
}

/** Returns the offsets where a span may be cut, ascending, strictly inside it. */
export type Breaker = (text: string, span: Span) => number[];

export function toDoc(raw: string): Doc {
  const text = raw.replace(/\r\n/g, '\n').replace(/^\uFEFF/, '');
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  return { text, lineStarts };
}

export function lineStart(doc: Doc, line: number): number {
  return doc.lineStarts[line] ?? doc.text.length;
}

/** Offset just past the last character of `line` (before its newline). */
export function lineEnd(doc: Doc, line: number): number {
  const next = doc.lineStarts[line + 1];
  return next === undefined ? doc.text.length : next - 1;
}

export function lineText(doc: Doc, line: number): string {
  return doc.text.slice(lineStart(doc, line), lineEnd(doc, line));
}

/** Lines first..last (0-based, inclusive) as a span. */
export function linesSpan(doc: Doc, first: number, last: number): Span {
  return { from: lineStart(doc, first), to: lineEnd(doc, last) };
}

/** 0-based line holding `offset`. */
export function lineAt(doc: Doc, offset: number): number {
  let lo = 0;
  let hi = doc.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((doc.lineStarts[mid] ?? Infinity) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0xfeff;
}

/**
 * Drops blank lines at both ends. Whole lines keep their indentation and
 * trailing spaces (content stays the exact original lines); only a cut inside
 * a line (a sentence or word split) is trimmed at the cut.
 */
export function trimSpan(doc: Doc, span: Span): Span | null {
  const { text } = doc;
  let from = span.from;
  let to = span.to;
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  if (from === to) return null;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  const start = lineStart(doc, lineAt(doc, from));
  if (start >= span.from) from = start;
  const end = lineEnd(doc, lineAt(doc, to - 1));
  if (end <= span.to) to = end;
  return { from, to };
}

export function toChunk(doc: Doc, span: Span, section: string): Chunk | null {
  const t = trimSpan(doc, span);
  if (!t) return null;
  return {
    content: doc.text.slice(t.from, t.to),
    section,
    start_line: lineAt(doc, t.from) + 1,
    end_line: lineAt(doc, t.to - 1) + 1,
  };
}

function breakAfter(re: RegExp): Breaker {
  return (text, span) => {
    // Matching a slice keeps the scan within the span: searching the whole
    // text from span.from would run on to the next match, far past the span.
    const part = text.slice(span.from, span.to);
    const cuts: number[] = [];
    for (const m of part.matchAll(re)) {
      const cut = span.from + m.index + m[0].length;
      if (cut < span.to) cuts.push(cut);
    }
    return cuts;
  };
}

export const BLANK_LINES = breakAfter(/\n(?:[ \t]*\n)+/g);
/** After . ! ? (and closing quotes/brackets/emphasis) and whitespace, unless a lowercase word follows ("e.g. this"). */
export const SENTENCES = breakAfter(/[.!?。！？][)"'’”\]*_]*[ \t\n]+(?!\p{Ll})/gu);
export const LINES: Breaker = (text, span) => {
  const cuts: number[] = [];
  for (let i = text.indexOf('\n', span.from); i !== -1 && i + 1 < span.to; i = text.indexOf('\n', i + 1)) cuts.push(i + 1);
  return cuts;
};
export const WORDS = breakAfter(/[ \t]+/g);

export const PROSE_BREAKS: readonly Breaker[] = [SENTENCES, LINES, WORDS];
export const BLOCK_BREAKS: readonly Breaker[] = [BLANK_LINES, LINES, WORDS];
export const TEXT_BREAKS: readonly Breaker[] = [BLANK_LINES, SENTENCES, LINES, WORDS];

function hardCut(text: string, span: Span, maxChars: number, out: Span[]): void {
  const step = Math.max(1, maxChars);
  for (let from = span.from; from < span.to; ) {
    let to = Math.min(from + step, span.to);
    const code = text.charCodeAt(to);
    // Never separate the halves of a surrogate pair.
    if (to < span.to && to - 1 > from && code >= 0xdc00 && code <= 0xdfff) to--;
    out.push({ from, to });
    from = to;
  }
}

/**
 * Cuts a span into contiguous units of at most `maxChars`, using each breaker
 * only where the coarser ones left a piece too large, and hard cuts last.
 */
export function atomize(text: string, span: Span, maxChars: number, breakers: readonly Breaker[]): Span[] {
  const out: Span[] = [];
  const visit = (s: Span, level: number): void => {
    if (s.to - s.from <= maxChars) {
      out.push(s);
      return;
    }
    const breaker = breakers[level];
    if (!breaker) {
      hardCut(text, s, maxChars, out);
      return;
    }
    let from = s.from;
    for (const cut of [...breaker(text, s), s.to]) {
      visit({ from, to: cut }, level + 1);
      from = cut;
    }
  };
  visit(span, 0);
  return out;
}

export interface PackLimits {
  maxChars: number;
  overlapChars: number;
  /** Overlap never reaches before this offset (the start of the section being split). */
  floor: number;
}

/**
 * Where the chunk after `prev` starts: at `next`, or earlier by whole trailing
 * lines of `prev` worth at most `overlapChars`, as long as the chunk still fits.
 */
function overlapStart(doc: Doc, prev: Span, next: Span, limits: PackLimits): number {
  const content = trimSpan(doc, prev);
  if (!content || limits.overlapChars <= 0 || next.from <= 0) return next.from;
  const lowest = Math.max(prev.from, limits.floor);
  let start = next.from;
  for (let line = lineAt(doc, next.from - 1); line >= 0; line--) {
    const s = lineStart(doc, line);
    if (s < lowest || content.to - s > limits.overlapChars || next.to - s > limits.maxChars) break;
    start = s;
  }
  return start;
}

/**
 * Greedily joins consecutive units (each at most maxChars, in order) into spans
 * of at most maxChars; every span after the first starts with overlap lines.
 */
export function pack(doc: Doc, units: readonly Span[], limits: PackLimits): Span[] {
  const out: Span[] = [];
  let cur: Span | undefined;
  for (const unit of units) {
    if (cur && unit.to - cur.from <= limits.maxChars) {
      cur.to = unit.to;
      continue;
    }
    const from = cur ? overlapStart(doc, cur, unit, limits) : unit.from;
    if (cur) out.push(cur);
    cur = { from, to: unit.to };
  }
  if (cur) out.push(cur);
  return out;
}

export function packLimits(opts: ChunkingOptions, floor: number): PackLimits {
  return { maxChars: charsForTokens(opts.max_tokens), overlapChars: charsForTokens(opts.overlap_tokens), floor };
}

/** Splits a span into chunks of at most max_tokens, cut by `breakers`, with overlap. */
export function windows(
  doc: Doc,
  span: Span,
  opts: ChunkingOptions,
  breakers: readonly Breaker[],
  section: string,
): Chunk[] {
  const limits = packLimits(opts, span.from);
  const units = atomize(doc.text, span, limits.maxChars, breakers);
  return spansToChunks(doc, pack(doc, units, limits), section);
}

export function spansToChunks(doc: Doc, spans: readonly Span[], section: string): Chunk[] {
  const out: Chunk[] = [];
  for (const span of spans) {
    const chunk = toChunk(doc, span, section);
    if (chunk) out.push(chunk);
  }
  return out;
}
