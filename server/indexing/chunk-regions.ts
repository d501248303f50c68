/**
 * Packs declaration regions of a source file into chunks, whoever found them
 * (the syntax tree in chunk-source-tree.ts, or the line patterns of
 * chunk-source-regex.ts): one chunk per declaration, runs of tiny ones merged
 * while they fit, oversized ones cut at their members (a function at its
 * statements) or into line windows that keep the declaration's section.
 */
import type { Chunk, ChunkingOptions } from './chunk.js';
import { BLOCK_BREAKS, linesSpan, toChunk, trimSpan, windows, type Doc, type Span } from './chunk-windows.js';
import { charsForTokens } from '../text/token-estimate.js';

export const MODULE_HEADER = '(module header)';
const MAX_NAMES = 3;

/** Lines first..last (0-based, inclusive) belonging to one declaration, or to code between declarations. */
export interface Region {
  first: number;
  last: number;
  /** Containers first, the declaration itself last: ["class Store", "search(query)"]. */
  path: readonly string[];
  /** The region cut at its members (its own head first); [] or absent when it has none. */
  split?: () => Region[];
  /** `split` cuts a function at its statements, not a container at its declarations. */
  statements?: boolean;
}

/** "class A > b(), c()" for merged siblings: the shared path, then up to three names. */
function groupLabel(paths: readonly (readonly string[])[]): string {
  const first = paths[0] ?? [];
  let common = 0;
  while (common < first.length && paths.every((p) => p[common] === first[common])) common++;
  const names = [...new Set(paths.map((p) => p[common]).filter((n): n is string => n !== undefined))];
  const tail = names.length > MAX_NAMES ? [...names.slice(0, MAX_NAMES), '…'] : names;
  return [...first.slice(0, common), ...(tail.length > 0 ? [tail.join(', ')] : [])].join(' > ');
}

interface Limits {
  maxChars: number;
  minChars: number;
}

/**
 * Pieces of one oversized function run until half of max_tokens, not
 * min_tokens: a statement means little without the few around it, while a
 * small declaration stands alone. Measured with `npm run eval`
 * (docs/retrieval.md): pieces until min_tokens, half, three quarters and all
 * of max_tokens scored 0.465 / 0.483 / 0.475 / 0.477 on the code set.
 */
function statementLimits(limits: Limits): Limits {
  return { maxChars: limits.maxChars, minChars: Math.max(limits.minChars, Math.floor(limits.maxChars / 2)) };
}

function packRegions(doc: Doc, regions: readonly Region[], opts: ChunkingOptions, limits: Limits): Chunk[] {
  const out: Chunk[] = [];
  let run: { span: Span; path: readonly string[] }[] = [];
  const flush = (): void => {
    const first = run[0];
    const last = run.at(-1);
    const chunk = first && last && toChunk(doc, { from: first.span.from, to: last.span.to }, groupLabel(run.map((r) => r.path)));
    if (chunk) out.push(chunk);
    run = [];
  };
  for (const region of regions) {
    const span = trimSpan(doc, linesSpan(doc, region.first, region.last));
    if (!span) continue;
    const size = span.to - span.from;
    if (size > limits.maxChars) {
      flush();
      const members = region.split?.() ?? [];
      out.push(
        ...(members.length > 0
          ? packRegions(doc, members, opts, region.statements ? statementLimits(limits) : limits)
          : windows(doc, span, opts, BLOCK_BREAKS, region.path.join(' > '))),
      );
      continue;
    }
    const runStart = run[0]?.span.from;
    if (size >= limits.minChars || (runStart !== undefined && span.to - runStart > limits.maxChars)) flush();
    run.push({ span, path: region.path });
    // A run of small declarations is merged only until it has min_tokens of substance:
    // growing it further would bury each function in its neighbours.
    if (span.to - (run[0]?.span.from ?? span.from) >= limits.minChars) flush();
  }
  flush();
  return out;
}

/**
 * Chunks a file from its top-level regions (in order, not overlapping). Lines
 * before the first region are the module header (imports, package line),
 * windowed on their own; without regions the whole file is windowed.
 */
export function chunkRegions(doc: Doc, regions: readonly Region[], opts: ChunkingOptions): Chunk[] {
  const firstRegion = regions[0];
  if (!firstRegion) return windows(doc, { from: 0, to: doc.text.length }, opts, BLOCK_BREAKS, '');
  const header =
    firstRegion.first > 0 ? windows(doc, linesSpan(doc, 0, firstRegion.first - 1), opts, BLOCK_BREAKS, MODULE_HEADER) : [];
  const limits = { maxChars: charsForTokens(opts.max_tokens), minChars: charsForTokens(opts.min_tokens) };
  return [...header, ...packRegions(doc, regions, opts, limits)];
}
