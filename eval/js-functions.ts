/**
 * The code sets come from a JavaScript library no one here wrote: mocha's
 * `lib/` (installed as a dev dependency; 58 modules, ~13k lines, several
 * functions per module, JSDoc on most of them). Files are parsed with
 * web-tree-sitter and the JavaScript grammar from @vscode/tree-sitter-wasm
 * (tree-sitter-wasms' older grammars do not load in web-tree-sitter 0.27).
 *
 * Every JSDoc block (`/** … *\/` on lines of its own) is removed before the
 * file goes into the library; the first sentence of a function's JSDoc is the
 * question "find the function that does X", and the function's lines in the
 * stripped file are the answer. Files get opaque names (`m017.js`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';
import type { LineRange } from './metrics.js';
import { shuffled } from './random.js';

const require = createRequire(import.meta.url);

export interface JsFunction extends LineRange {
  file: string;
  /** First sentence of its JSDoc, when it had one. */
  doc: string | null;
  /** Names the function declares: parameters, variables, inner functions. */
  locals: string[];
}

export interface JsCorpus {
  library: string;
  files: Array<{ name: string; text: string }>;
  functions: JsFunction[];
}

const FUNCTION_TYPES = new Set(['function_declaration', 'generator_function_declaration', 'function_expression', 'arrow_function', 'method_definition', 'generator_function']);

function walk(node: Node, visit: (n: Node) => void): void {
  visit(node);
  for (const child of node.namedChildren) if (child !== null) walk(child, visit);
}

/** The function a JSDoc block documents: the declaration, assignment or property right after it. */
function documented(next: Node | null): Node | null {
  if (next === null) return null;
  if (FUNCTION_TYPES.has(next.type)) return next;
  if (next.type === 'export_statement') return documented(next.namedChildren.find((c) => c !== null && c.type !== 'comment') ?? null);
  let found: Node | null = null;
  const holdsFunction = (n: Node | null): boolean => n !== null && FUNCTION_TYPES.has(n.type);
  if (next.type === 'expression_statement') {
    const assign = next.namedChildren[0];
    if (assign?.type === 'assignment_expression' && holdsFunction(assign.childForFieldName('right'))) found = next;
  } else if (next.type === 'lexical_declaration' || next.type === 'variable_declaration') {
    const decl = next.namedChildren.find((c) => c?.type === 'variable_declarator');
    if (decl && holdsFunction(decl.childForFieldName('value'))) found = next;
  } else if (next.type === 'pair' && holdsFunction(next.childForFieldName('value'))) {
    found = next;
  }
  return found;
}

/** The JSDoc's first sentence, `{@link X}` read as X; null when there is no prose before the tags. */
function firstSentence(comment: string): string | null {
  const body = comment
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, ''))
    .join('\n');
  const prose = body.split(/\n\s*@/)[0]!.replace(/\{@link\s+([^}|\s]+)[^}]*\}/g, '$1').replace(/\s+/g, ' ').trim();
  if (prose.startsWith('@')) return null;
  const sentence = (prose.match(/^.*?[.!?](?=\s|$)/)?.[0] ?? prose).trim();
  return sentence.split(' ').length >= 3 ? sentence : null;
}

function declaredNames(fn: Node): string[] {
  const names = new Set<string>();
  walk(fn, (n) => {
    const parent = n.parent;
    if (n.type !== 'identifier' || parent === null) return;
    const declares =
      parent.type === 'formal_parameters' ||
      parent.type === 'assignment_pattern' ||
      parent.type === 'array_pattern' ||
      parent.type === 'catch_clause' ||
      parent.type === 'rest_pattern' ||
      (parent.type === 'arrow_function' && parent.childForFieldName('parameter')?.id === n.id) ||
      (parent.type === 'variable_declarator' && parent.childForFieldName('name')?.id === n.id) ||
      (parent.type === 'function_declaration' && parent.id !== fn.id && parent.childForFieldName('name')?.id === n.id);
    if (declares && n.text.length > 1) names.add(n.text);
  });
  return [...names];
}

function jsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...jsFiles(full));
    else if (entry.endsWith('.js')) out.push(full);
  }
  return out;
}

export async function mochaCorpus(): Promise<JsCorpus> {
  const lib = path.join(path.dirname(require.resolve('mocha/package.json')), 'lib');
  const version = JSON.parse(readFileSync(path.join(lib, '..', 'package.json'), 'utf8')).version as string;
  await Parser.init();
  const wasm = path.join(path.dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm', 'tree-sitter-javascript.wasm');
  const parser = new Parser();
  parser.setLanguage(await Language.load(wasm));
  const files: JsCorpus['files'] = [];
  const functions: JsFunction[] = [];
  shuffled(jsFiles(lib), 7).forEach((source, i) => {
    const name = `m${String(i).padStart(3, '0')}.js`;
    const text = readFileSync(source, 'utf8');
    const lines = text.split('\n');
    const tree = parser.parse(text);
    if (tree === null) return;
    // Rows (0-based) deleted with their JSDoc, and the sentence each documented function gets.
    const deleted = new Set<number>();
    const docOf = new Map<number, string>();
    walk(tree.rootNode, (n) => {
      if (n.type !== 'comment' || !n.text.startsWith('/**')) return;
      const before = lines[n.startPosition.row]!.slice(0, n.startPosition.column);
      const after = lines[n.endPosition.row]!.slice(n.endPosition.column);
      if (before.trim() !== '' || after.trim() !== '') return;
      for (let r = n.startPosition.row; r <= n.endPosition.row; r++) deleted.add(r);
      const fn = documented(n.nextNamedSibling);
      const sentence = firstSentence(n.text);
      if (fn !== null && sentence !== null) docOf.set(fn.id, sentence);
    });
    const shift: number[] = [];
    let removed = 0;
    for (let r = 0; r < lines.length; r++) {
      shift.push(removed);
      if (deleted.has(r)) removed += 1;
    }
    const line = (row: number) => row - shift[row]! + 1;
    walk(tree.rootNode, (n) => {
      const isFunction = FUNCTION_TYPES.has(n.type);
      if (!isFunction && !docOf.has(n.id)) return;
      const fnNode = isFunction ? n : (n.descendantsOfType([...FUNCTION_TYPES])[0] ?? n);
      functions.push({
        file: name,
        start: line(n.startPosition.row),
        end: line(n.endPosition.row),
        doc: docOf.get(n.id) ?? null,
        locals: declaredNames(fnNode),
      });
    });
    files.push({ name, text: lines.filter((_, r) => !deleted.has(r)).join('\n') });
    tree.delete();
  });
  parser.delete();
  return { library: `mocha ${version} lib/`, files, functions };
}
