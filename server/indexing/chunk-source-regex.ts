/**
 * Declaration regions found by line patterns (chunk-source-languages.ts), for
 * languages without a parser. A declaration's region runs from its doc comment
 * to the next declaration, so top-level statements between two declarations
 * stay with the one above them.
 */
import type { DeclPattern, LanguageSpec } from './chunk-source-languages.js';
import type { Region } from './chunk-regions.js';

/** Longer lines are data or minified code, never a declaration worth a regex scan. */
const MAX_DECL_LINE = 1000;

interface Context {
  lines: string[];
  spec: LanguageSpec;
}

interface Decl {
  /** First line of the region: the declaration or the comments/decorators above it. */
  first: number;
  line: number;
  label: string;
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

function findDecls(ctx: Context, from: number, to: number, indent: number): Decl[] {
  const decls: Decl[] = [];
  let floor = from;
  for (let i = from; i <= to; i++) {
    const line = ctx.lines[i] ?? '';
    if (line.length > MAX_DECL_LINE || indentOf(line) !== indent) continue;
    const body = line.slice(indent);
    if (body.trim() === '') continue;
    const found = matchDecl(body, ctx.spec.top);
    if (!found) continue;
    decls.push({ first: attachStart(ctx, i, floor, indent), line: i, ...found });
    floor = i + 1;
  }
  return decls;
}

function regionsOf(ctx: Context, decls: readonly Decl[], last: number, parent: readonly string[], indent: number): Region[] {
  return decls.map((d, i) => {
    const region: Region = { first: d.first, last: (decls[i + 1]?.first ?? last + 1) - 1, path: [...parent, d.label] };
    return d.container ? { ...region, split: () => memberRegions(ctx, region, d.line, indent) } : region;
  });
}

/**
 * The shallowest indentation at which a member declaration appears. Looking for
 * declarations rather than the first indented line skips continuation lines of
 * the container's own signature.
 */
function memberIndent(ctx: Context, declLine: number, last: number, indent: number): number | undefined {
  let best: number | undefined;
  for (let i = declLine + 1; i <= last; i++) {
    const line = ctx.lines[i] ?? '';
    const depth = indentOf(line);
    if (depth <= indent || (best !== undefined && depth >= best) || line.length > MAX_DECL_LINE) continue;
    if (matchDecl(line.slice(depth), ctx.spec.top)) best = depth;
  }
  return best;
}

/** The container's own lines (up to its first member) followed by one region per member. */
function memberRegions(ctx: Context, region: Region, declLine: number, indent: number): Region[] {
  const depth = memberIndent(ctx, declLine, region.last, indent);
  if (depth === undefined) return [];
  const decls = findDecls(ctx, declLine + 1, region.last, depth);
  const first = decls[0];
  if (!first) return [];
  return [{ first: region.first, last: first.first - 1, path: region.path }, ...regionsOf(ctx, decls, region.last, region.path, depth)];
}

/** Top-level declaration regions of `text` (LF line ends), in order; [] when none matched. */
export function regexRegions(text: string, spec: LanguageSpec): Region[] {
  const ctx: Context = { lines: text.split('\n'), spec };
  const lastLine = ctx.lines.length - 1;
  return regionsOf(ctx, findDecls(ctx, 0, lastLine, 0), lastLine, [], 0);
}
