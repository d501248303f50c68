/**
 * Source chunking at declaration boundaries, found by per-language line
 * patterns (chunk-source-languages.ts). A declaration's chunk runs from its
 * doc comment to the next declaration, so top-level statements between two
 * declarations stay with the one above them.
 */
import type { Chunk, ChunkingOptions } from './chunk.js';
import { languageSpec, type DeclPattern, type LanguageSpec } from './chunk-source-languages.js';
import { BLOCK_BREAKS, linesSpan, toChunk, toDoc, trimSpan, windows, type Doc, type Span } from './chunk-windows.js';
import { charsForTokens } from './tokens.js';

const MODULE_HEADER = '(module header)';
/** Longer lines are data or minified code, never a declaration worth a regex scan. */
const MAX_DECL_LINE = 1000;
const MAX_NAMES = 3;

interface Context {
  doc: Doc;
  lines: string[];
  spec: LanguageSpec;
  opts: ChunkingOptions;
  maxChars: number;
  minChars: number;
}

interface Decl {
  /** First line of the chunk: the declaration or the comments/decorators above it. */
  first: number;
  line: number;
  label: string;
  container: boolean;
}

/** Lines first..last (0-based, inclusive) belonging to one declaration. */
interface Region {
  first: number;
  last: number;
  declLine: number;
  indent: number;
  path: string[];
  container: boolean;
}

function indentOf(line: string): number {
  let i = 0;
  while (line[i] === ' ' || line[i] === '\t') i++;
  return i;
}

function attachStart(ctx: Context, line: number, floor: number, indent: number): number {
  let first = line;
  while (first > floor) {
    const above = ctx.lines[first - 1] ?? '';
    const depth = indentOf(above);
    // indent + 1 admits the " * " lines of a block comment.
    if (depth < indent || depth > indent + 1 || !ctx.spec.attach.test(above.slice(depth))) break;
    first--;
  }
  return first;
}

function matchDecl(body: string, patterns: readonly DeclPattern[]): { label: string; container: boolean } | null {
  for (const p of patterns) {
    const m = p.re.exec(body);
    if (m) return { label: p.label(m), container: p.container ?? false };
  }
  return null;
}

function findDecls(ctx: Context, from: number, to: number, indent: number, patterns: readonly DeclPattern[]): Decl[] {
  const decls: Decl[] = [];
  let floor = from;
  for (let i = from; i <= to; i++) {
    const line = ctx.lines[i] ?? '';
    if (line.length > MAX_DECL_LINE || indentOf(line) !== indent) continue;
    const body = line.slice(indent);
    if (body.trim() === '') continue;
    const found = matchDecl(body, patterns);
    if (!found) continue;
    decls.push({ first: attachStart(ctx, i, floor, indent), line: i, ...found });
    floor = i + 1;
  }
  return decls;
}

function regionsOf(decls: readonly Decl[], last: number, parent: readonly string[], indent: number): Region[] {
  return decls.map((d, i) => ({
    first: d.first,
    last: (decls[i + 1]?.first ?? last + 1) - 1,
    declLine: d.line,
    indent,
    path: [...parent, d.label],
    container: d.container,
  }));
}

/** "class A > method b, method c" for merged siblings: the shared path, then up to three names. */
function groupLabel(paths: readonly (readonly string[])[]): string {
  const first = paths[0] ?? [];
  let common = 0;
  while (common < first.length && paths.every((p) => p[common] === first[common])) common++;
  const names = [...new Set(paths.map((p) => p[common]).filter((n): n is string => n !== undefined))];
  const tail = names.length > MAX_NAMES ? [...names.slice(0, MAX_NAMES), '…'] : names;
  return [...first.slice(0, common), ...(tail.length > 0 ? [tail.join(', ')] : [])].join(' > ');
}

/**
 * The shallowest indentation at which a member declaration appears. Looking for
 * declarations rather than the first indented line skips continuation lines of
 * the container's own signature.
 */
function memberIndent(ctx: Context, region: Region, patterns: readonly DeclPattern[]): number | undefined {
  let best: number | undefined;
  for (let i = region.declLine + 1; i <= region.last; i++) {
    const line = ctx.lines[i] ?? '';
    const indent = indentOf(line);
    if (indent <= region.indent || (best !== undefined && indent >= best) || line.length > MAX_DECL_LINE) continue;
    if (matchDecl(line.slice(indent), patterns)) best = indent;
  }
  return best;
}

/** The container's own lines (up to its first member) followed by one region per member. */
function memberRegions(ctx: Context, region: Region): Region[] {
  const patterns = [...ctx.spec.members, ...ctx.spec.top];
  const indent = memberIndent(ctx, region, patterns);
  if (indent === undefined) return [];
  const decls = findDecls(ctx, region.declLine + 1, region.last, indent, patterns);
  const first = decls[0];
  if (!first) return [];
  return [{ ...region, last: first.first - 1, container: false }, ...regionsOf(decls, region.last, region.path, indent)];
}

function splitRegion(ctx: Context, region: Region): Chunk[] {
  const members = region.container ? memberRegions(ctx, region) : [];
  if (members.length > 0) return chunkRegions(ctx, members);
  const span = linesSpan(ctx.doc, region.first, region.last);
  return windows(ctx.doc, span, ctx.opts, BLOCK_BREAKS, region.path.join(' > '));
}

/** One chunk per region; oversized ones split, runs of tiny ones merged while they fit. */
function chunkRegions(ctx: Context, regions: readonly Region[]): Chunk[] {
  const out: Chunk[] = [];
  let run: { span: Span; path: string[] }[] = [];
  const flush = (): void => {
    const first = run[0];
    const last = run.at(-1);
    const chunk = first && last && toChunk(ctx.doc, { from: first.span.from, to: last.span.to }, groupLabel(run.map((r) => r.path)));
    if (chunk) out.push(chunk);
    run = [];
  };
  for (const region of regions) {
    const span = trimSpan(ctx.doc, linesSpan(ctx.doc, region.first, region.last));
    if (!span) continue;
    const size = span.to - span.from;
    if (size > ctx.maxChars) {
      flush();
      out.push(...splitRegion(ctx, region));
      continue;
    }
    const runStart = run[0]?.span.from;
    if (size >= ctx.minChars || (runStart !== undefined && span.to - runStart > ctx.maxChars)) flush();
    run.push({ span, path: region.path });
    if (size >= ctx.minChars) flush();
  }
  flush();
  return out;
}

export function chunkSource(text: string, language: string, opts: ChunkingOptions): Chunk[] {
  const doc = toDoc(text);
  const whole = { from: 0, to: doc.text.length };
  const spec = languageSpec(language);
  if (!spec) return windows(doc, whole, opts, BLOCK_BREAKS, '');

  const ctx: Context = {
    doc,
    lines: doc.text.split('\n'),
    spec,
    opts,
    maxChars: charsForTokens(opts.max_tokens),
    minChars: charsForTokens(opts.min_tokens),
  };
  const lastLine = ctx.lines.length - 1;
  const decls = findDecls(ctx, 0, lastLine, 0, spec.top);
  const firstDecl = decls[0];
  if (!firstDecl) return windows(doc, whole, opts, BLOCK_BREAKS, '');

  const header = firstDecl.first > 0 ? windows(doc, linesSpan(doc, 0, firstDecl.first - 1), opts, BLOCK_BREAKS, MODULE_HEADER) : [];
  return [...header, ...chunkRegions(ctx, regionsOf(decls, lastLine, [], 0))];
}
