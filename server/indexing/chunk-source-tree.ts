/**
 * Declaration regions read from a tree-sitter syntax tree: each declaration
 * from its attached comments, decorators or attributes to its last line, with
 * its container's path; the code between declarations in regions of its own.
 */
import type { Node } from 'web-tree-sitter';
import type { Grammar } from './chunk-source-grammars.js';
import type { Region } from './chunk-regions.js';
import { lineText, type Doc } from './chunk-windows.js';

/** Code between top-level declarations (statements, exports): named as such. */
const TOP_LEVEL = '(top level)';
/** Lines of only braces, punctuation or a closing `end` carry nothing to search for. */
const WORD = /[\p{L}\p{N}_]/u;
const CLOSER = /^[\s\p{P}]*(?:end|fi|done|esac)?[\s\p{P}]*$/u;

interface Found {
  first: number;
  last: number;
  label: string;
  body: Node | null;
  block: Node | null;
}

/** The node's last line: a node that ends with its line break (a Rust `///` comment) ends on the line before. */
function lastRow(node: Node): number {
  const end = node.endPosition;
  return end.column === 0 && end.row > node.startPosition.row ? end.row - 1 : end.row;
}

function findDeclarations(nodes: readonly Node[], grammar: Grammar): Found[] {
  const found: Found[] = [];
  nodes.forEach((node, i) => {
    const declaration = grammar.rules[node.type]?.(node);
    if (!declaration) return;
    const prev = found.at(-1);
    const start = node.startPosition.row;
    // Two declarations sharing a line: the line belongs to the first, which now runs on.
    if (prev && start <= prev.last) {
      prev.last = Math.max(prev.last, lastRow(node));
      return;
    }
    let first = start;
    for (let j = i - 1; j >= 0; j--) {
      const above = nodes[j];
      // Attached means directly above: no blank line between, nothing of the previous declaration's line.
      if (!above || !grammar.attached.has(above.type) || lastRow(above) < first - 1) break;
      if (prev && above.startPosition.row <= prev.last) break;
      first = above.startPosition.row;
    }
    found.push({ first, last: lastRow(node), label: declaration.label, body: declaration.body ?? null, block: declaration.block ?? null });
  });
  return found;
}

interface Walk {
  doc: Doc;
  grammar: Grammar;
}

function hasWords(walk: Walk, first: number, last: number): boolean {
  for (let line = first; line <= last; line++) {
    const text = lineText(walk.doc, line);
    if (WORD.test(text) && !CLOSER.test(text)) return true;
  }
  return false;
}

/** The declarations in order, each with the code after it up to `last` as a region named `gap`. */
function regionsOf(walk: Walk, found: readonly Found[], last: number, parent: readonly string[], gap: readonly string[]): Region[] {
  const out: Region[] = [];
  found.forEach((f, i) => {
    const path = [...parent, f.label];
    out.push(declarationRegion(walk, f, path));
    const gapLast = (found[i + 1]?.first ?? last + 1) - 1;
    if (gapLast > f.last && hasWords(walk, f.last + 1, gapLast)) out.push({ first: f.last + 1, last: gapLast, path: gap });
  });
  return out;
}

function memberNodes(walk: Walk, body: Node): Node[] {
  const flatten = walk.grammar.flatten;
  return body.namedChildren.flatMap((c) => (flatten?.has(c.type) ? c.namedChildren : [c]));
}

/**
 * A container cut at its members: its own lines up to the first member (the
 * signature, fields, a docstring), then each member and the code after it.
 * Computed while the tree is alive: nodes are freed with it.
 */
function memberRegions(walk: Walk, container: Found, path: readonly string[]): Region[] {
  if (!container.body) return [];
  const found = findDeclarations(memberNodes(walk, container.body), walk.grammar);
  const first = found[0];
  if (!first) return [];
  const head: Region = { first: container.first, last: first.first - 1, path };
  return [head, ...regionsOf(walk, found, container.last, path, path)];
}

/** A declaration's region, with where to cut it should it be oversized: a container at its members, a function at its statements. */
function declarationRegion(walk: Walk, f: Found, path: readonly string[]): Region {
  if (f.body) {
    const members = memberRegions(walk, f, path);
    return { first: f.first, last: f.last, path, split: () => members };
  }
  const statements = f.block ? statementRegions(walk, f, f.block, path) : [];
  return { first: f.first, last: f.last, path, split: () => statements, statements: true };
}

/**
 * An oversized function cut at its body's statements, so a piece holds whole
 * statements (a callback, a loop, an `if` with its branches) rather than a
 * window that starts mid-statement: its own lines up to the first statement
 * (the signature), then each statement with the comments above it and the
 * lines up to the next. A nested function or class is named and cut like any
 * declaration; other statements share the function's path.
 */
function statementRegions(walk: Walk, fn: Found, block: Node, path: readonly string[]): Region[] {
  const nodes = memberNodes(walk, block);
  const out: Region[] = [];
  let pending: number | null = null;
  for (const node of nodes) {
    const row = node.startPosition.row;
    if (walk.grammar.attached.has(node.type)) {
      pending ??= row;
      continue;
    }
    const first = pending ?? row;
    pending = null;
    const prev = out.at(-1);
    const headLast = prev ? prev.last : fn.first;
    // Sharing a line with the signature or the statement before: that line already belongs to them.
    if (first <= headLast) {
      if (prev) prev.last = Math.max(prev.last, lastRow(node));
      continue;
    }
    // Only a nested function or class is named; a local `const x = …` is a statement like any other.
    const declaration = walk.grammar.rules[node.type]?.(node);
    if (prev) prev.last = first - 1;
    if (declaration && (declaration.block || declaration.body)) {
      const found = { first, last: lastRow(node), label: declaration.label, body: declaration.body ?? null, block: declaration.block ?? null };
      out.push(declarationRegion(walk, found, [...path, found.label]));
    } else {
      out.push({ first, last: lastRow(node), path });
    }
  }
  const firstStatement = out[0];
  // One statement is no cut: the function is windowed whole, its signature in the first window.
  if (!firstStatement || out.length < 2) return [];
  // The last statement runs on to the function's end: its closing brace or `end`.
  const lastStatement = out.at(-1);
  if (lastStatement) lastStatement.last = Math.max(lastStatement.last, fn.last);
  return [{ first: fn.first, last: firstStatement.first - 1, path }, ...out];
}

/** Top-level declaration regions of a parsed file, in order; [] when it declares nothing. */
export function treeRegions(doc: Doc, root: Node, grammar: Grammar): Region[] {
  const walk: Walk = { doc, grammar };
  return regionsOf(walk, findDeclarations(root.namedChildren, grammar), doc.lineStarts.length - 1, [], [TOP_LEVEL]);
}
