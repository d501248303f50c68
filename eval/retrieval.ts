/**
 * Retrieval section of `npm run eval`: search (hybrid, keyword, dense) on the
 * documentation and code sets, Find Similar on the code set, each beside the
 * eval's own plain-BM25 floor and a search over file names alone (which must
 * stay near 0, or the names leak the answers; docs/notes: measuring honestly).
 */
import type { SearchMode, SearchResult } from '../shared/api-types.js';
import { Bm25 } from './bm25.js';
import { docQueries, similarQueries, type CodeQuery } from './code-sets.js';
import { mochaCorpus, type JsFunction } from './js-functions.js';
import { indexLibrary, type EvalLibrary } from './library.js';
import { gitManPages } from './man-pages.js';
import { firstHit, isTight, overlapLines, score, type LineRange, type Scores } from './metrics.js';
import type { SectionResult } from './section.js';

const MODES: readonly SearchMode[] = ['hybrid', 'keyword', 'dense'];
const TOP = 10;
const WINDOW_LINES = 40;
/** measuring.md's bar for hybrid on documentation: a quarter above whole-document BM25. */
const DOCS_OVER_BM25 = 1.25;

interface Row {
  set: string;
  mode: string;
  scores: Scores;
}

const pct = (x: number) => x.toFixed(3);

function table(rows: Row[]): string {
  const lines = ['| set | mode | queries | MRR@10 | R@1 | R@5 |', '|---|---|---:|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.set} | ${r.mode} | ${r.scores.queries} | ${pct(r.scores.mrr10)} | ${pct(r.scores.r1)} | ${pct(r.scores.r5)} |`);
  return lines.join('\n');
}

/** Checks one claim, and says which when it fails. */
class Claims {
  readonly failed: string[] = [];
  atLeast(what: string, value: number, floor: number): void {
    if (value + 1e-9 < floor) this.failed.push(`${what}: ${pct(value)} < ${pct(floor)}`);
  }
}

async function docsRows(claims: Claims): Promise<Row[]> {
  const set = gitManPages();
  if (set === null) return [];
  const lib = await indexLibrary('docs', set.files);
  const rows: Row[] = [];
  try {
    const byMode = new Map<string, Scores>();
    for (const mode of MODES) {
      const ranks: Array<number | null> = [];
      for (const q of set.queries) {
        const res = await lib.services.search.search({ query: q.query, mode, n_results: TOP });
        ranks.push(firstHit(res.results, (r) => r.file_path === lib.pathOf(q.file)));
      }
      byMode.set(mode, score(ranks));
      rows.push({ set: 'docs (git man pages)', mode, scores: score(ranks) });
    }
    const bm25 = new Bm25(set.files.map((f) => f.text));
    const bm25Scores = score(set.queries.map((q) => firstHit(bm25.search(q.query, TOP), (i) => set.files[i]!.name === q.file)));
    rows.push({ set: 'docs (git man pages)', mode: 'BM25, whole pages', scores: bm25Scores });
    const names = new Bm25(set.files.map((f) => lib.pathOf(f.name)));
    rows.push({ set: 'docs (git man pages)', mode: 'file names only', scores: score(set.queries.map((q) => firstHit(names.search(q.query, TOP), (i) => set.files[i]!.name === q.file))) });
    const hybrid = byMode.get('hybrid')!.mrr10;
    claims.atLeast('docs: hybrid vs keyword', hybrid, byMode.get('keyword')!.mrr10);
    claims.atLeast('docs: hybrid vs dense', hybrid, byMode.get('dense')!.mrr10);
    claims.atLeast(`docs: hybrid vs ${DOCS_OVER_BM25} × BM25`, hybrid, DOCS_OVER_BM25 * bm25Scores.mrr10);
  } finally {
    await lib.close();
  }
  return rows;
}

function hits(lib: EvalLibrary, target: JsFunction, tight: boolean): (r: SearchResult) => boolean {
  const range: LineRange = { start: target.start, end: target.end };
  return (r) => {
    if (r.file_path !== lib.pathOf(target.file)) return false;
    const chunk = { start: r.start_line, end: r.end_line };
    return tight ? isTight(chunk, range) : overlapLines(chunk, range) > 0;
  };
}

/** Runs `find` per query and scores the same result lists as any-overlap and as tight hits. */
async function codeRanks(
  lib: EvalLibrary,
  queries: readonly CodeQuery[],
  find: (q: CodeQuery) => Promise<SearchResult[]>,
): Promise<{ any: Scores; tight: Scores }> {
  const any: Array<number | null> = [];
  const tight: Array<number | null> = [];
  for (const q of queries) {
    const results = await find(q);
    any.push(firstHit(results, hits(lib, q.target, false)));
    tight.push(firstHit(results, hits(lib, q.target, true)));
  }
  return { any: score(any), tight: score(tight) };
}

function baselineRanks(
  units: ReadonlyArray<{ file: string } & LineRange>,
  bm25: Bm25,
  queries: readonly CodeQuery[],
): { any: Scores; tight: Scores } {
  const any: Array<number | null> = [];
  const tight: Array<number | null> = [];
  for (const q of queries) {
    const found = bm25.search(q.query, TOP).map((i) => units[i]!);
    any.push(firstHit(found, (u) => u.file === q.target.file && overlapLines(u, q.target) > 0));
    tight.push(firstHit(found, (u) => u.file === q.target.file && isTight(u, q.target)));
  }
  return { any: score(any), tight: score(tight) };
}

async function codeRows(claims: Claims): Promise<Row[]> {
  const corpus = await mochaCorpus();
  const docs = docQueries(corpus);
  const similar = similarQueries(corpus);
  const lib = await indexLibrary('code', corpus.files);
  const rows: Row[] = [];
  const add = (set: string, mode: string, r: { any: Scores; tight: Scores }) => {
    rows.push({ set: `${set}, any overlap`, mode, scores: r.any });
    rows.push({ set: `${set}, tight hit`, mode, scores: r.tight });
  };
  try {
    const codeSet = `code (${corpus.library})`;
    const byMode = new Map<string, { any: Scores; tight: Scores }>();
    for (const mode of MODES) {
      const r = await codeRanks(lib, docs, async (q) => (await lib.services.search.search({ query: q.query, mode, n_results: TOP })).results);
      byMode.set(mode, r);
      add(codeSet, mode, r);
    }
    const windows: Array<{ file: string; text: string } & LineRange> = [];
    for (const f of corpus.files) {
      const lines = f.text.split('\n');
      for (let s = 0; s < lines.length; s += WINDOW_LINES) {
        windows.push({ file: f.name, start: s + 1, end: Math.min(lines.length, s + WINDOW_LINES), text: lines.slice(s, s + WINDOW_LINES).join('\n') });
      }
    }
    add(codeSet, `BM25, ${WINDOW_LINES}-line windows`, baselineRanks(windows, new Bm25(windows.map((w) => w.text)), docs));
    const fileUnits = corpus.files.map((f) => ({ file: f.name, start: 1, end: f.text.split('\n').length }));
    add(codeSet, 'file names only', baselineRanks(fileUnits, new Bm25(corpus.files.map((f) => lib.pathOf(f.name))), docs));
    for (const kind of ['any', 'tight'] as const) {
      const hybrid = byMode.get('hybrid')![kind].mrr10;
      claims.atLeast(`code (${kind}): hybrid vs keyword`, hybrid, byMode.get('keyword')![kind].mrr10);
      claims.atLeast(`code (${kind}): hybrid vs dense`, hybrid, byMode.get('dense')![kind].mrr10);
    }

    const simSet = 'Find Similar (6–10 renamed lines)';
    const findSimilar = await codeRanks(lib, similar, async (q) => (await lib.services.search.similar({ text: q.query, n_results: TOP })).results);
    add(simSet, 'Find Similar', findSimilar);
    const parts = new Map<string, { any: Scores; tight: Scores }>();
    for (const mode of ['keyword', 'dense'] as const) {
      const r = await codeRanks(lib, similar, async (q) => (await lib.services.search.search({ query: q.query, mode, n_results: TOP })).results);
      parts.set(mode, r);
      add(simSet, `${mode} only`, r);
    }
    const seen = new Set<string>();
    const functions = corpus.functions.filter((fn) => {
      const key = `${fn.file}:${fn.start}:${fn.end}`;
      return !seen.has(key) && seen.add(key) !== undefined;
    });
    const byFile = new Map(corpus.files.map((f) => [f.name, f.text.split('\n')]));
    const functionText = functions.map((fn) => byFile.get(fn.file)!.slice(fn.start - 1, fn.end).join('\n'));
    const bm25 = baselineRanks(functions, new Bm25(functionText), similar);
    add(simSet, 'BM25, functions', bm25);
    for (const kind of ['any', 'tight'] as const) {
      const value = findSimilar[kind].mrr10;
      claims.atLeast(`Find Similar (${kind}) vs keyword`, value, parts.get('keyword')![kind].mrr10);
      claims.atLeast(`Find Similar (${kind}) vs dense`, value, parts.get('dense')![kind].mrr10);
    }
    for (const kind of ['any', 'tight'] as const) claims.atLeast(`Find Similar (${kind}) vs BM25 over functions`, findSimilar[kind].mrr10, bm25[kind].mrr10);
  } finally {
    await lib.close();
  }
  return rows;
}

/** `EVAL_SETS=docs` or `EVAL_SETS=code` runs one set (code includes Find Similar); unset runs both. */
function wanted(set: 'docs' | 'code'): boolean {
  const only = process.env.EVAL_SETS;
  return only === undefined || only === '' || only.split(',').includes(set);
}

export async function run(): Promise<SectionResult> {
  const claims = new Claims();
  const rows = [...(wanted('docs') ? await docsRows(claims) : []), ...(wanted('code') ? await codeRows(claims) : [])];
  const notes = claims.failed.length === 0 ? '' : `\n\nNot met:\n${claims.failed.map((f) => `- ${f}`).join('\n')}`;
  return { title: 'Retrieval (embedded store, local embedder)', table: table(rows) + notes, passed: claims.failed.length === 0 };
}
