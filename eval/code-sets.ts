/**
 * Query sets over the JavaScript corpus: "find the function that does X"
 * (its JSDoc's first sentence) and Find Similar (6–10 lines from inside a
 * function, its local names renamed, as a developer's near-copy would be).
 */
import type { JsCorpus, JsFunction } from './js-functions.js';
import { mulberry32, shuffled } from './random.js';

export interface CodeQuery {
  query: string;
  target: JsFunction;
}

const MIN_FUNCTION_LINES = 3;
const MIN_SIMILAR_FUNCTION_LINES = 14;
const MAX_QUERIES = 250;

export function docQueries(corpus: JsCorpus): CodeQuery[] {
  const seen = new Set<string>();
  const out: CodeQuery[] = [];
  for (const fn of corpus.functions) {
    if (fn.doc === null || fn.end - fn.start + 1 < MIN_FUNCTION_LINES) continue;
    // Two functions documented alike ("Returns the title.") have no single answer.
    const key = fn.doc.toLowerCase();
    if (seen.has(key)) {
      const i = out.findIndex((q) => q.query.toLowerCase() === key);
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    seen.add(key);
    out.push({ query: fn.doc, target: fn });
  }
  return shuffled(out, 3).slice(0, MAX_QUERIES);
}

/** Whole-identifier replacement that leaves property names (`.name`, `name:`) alone. */
function rename(text: string, names: readonly string[]): string {
  let out = text;
  names.forEach((name, i) => {
    const escaped = name.replace(/[$]/g, '\\$');
    out = out.replace(new RegExp(`(?<![\\w$.])${escaped}(?![\\w$]|\\s*:(?!:))`, 'g'), `v${i + 1}`);
  });
  return out;
}

export function similarQueries(corpus: JsCorpus): CodeQuery[] {
  const rand = mulberry32(5);
  const byFile = new Map(corpus.files.map((f) => [f.name, f.text.split('\n')]));
  const seen = new Set<string>();
  const out: CodeQuery[] = [];
  for (const fn of corpus.functions) {
    const key = `${fn.file}:${fn.start}:${fn.end}`;
    if (seen.has(key) || fn.end - fn.start + 1 < MIN_SIMILAR_FUNCTION_LINES) continue;
    seen.add(key);
    const lines = byFile.get(fn.file)!;
    const length = 6 + Math.floor(rand() * 5);
    // Inside the function: never its first line (the signature names it).
    const first = fn.start + 1 + Math.floor(rand() * Math.max(1, fn.end - fn.start - length));
    const selection = lines.slice(first - 1, Math.min(first - 1 + length, fn.end - 1)).join('\n');
    if (selection.replace(/\s+/g, '').length < 80) continue;
    out.push({ query: rename(selection, fn.locals), target: fn });
  }
  return shuffled(out, 9).slice(0, MAX_QUERIES);
}
