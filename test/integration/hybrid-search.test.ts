import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimilarRequestSchema } from '../../shared/api-schemas.js';
import { LocalEmbedder } from '../../server/embedders/local.js';
import { fusionWeights, LEXICAL_DENSE_WEIGHT } from '../../server/fusion/weights.js';
import { SearchService } from '../../server/retrieval/search.js';
import { openDatabase } from '../../server/storage/sqlite-driver.js';
import { FTS_TOKENIZER } from '../../server/stores/embedded/schema.js';
import type { EmbeddedStoreOptions } from '../../server/stores/embedded/options.js';
import { EmbeddedStore } from '../../server/stores/embedded/store.js';
import type { StoredPoint } from '../../server/stores/vector-store.js';
import { CONTRACT_EMBEDDER, fileOf, nearVector, pointsOf, taxonomy, unitVector, type DocSpec } from '../contract/vector-store.contract.js';

const dirs: string[] = [];
const stores: EmbeddedStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function dbFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ailib-hybrid-'));
  dirs.push(dir);
  return path.join(dir, 'library.sqlite');
}

async function open(file: string, embedder = CONTRACT_EMBEDDER, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const store = new EmbeddedStore(file, options);
  stores.push(store);
  await store.init(embedder);
  return store;
}

function doc(p: string, type: 'markdown' | 'code', chunks: Array<[string, string]>): DocSpec {
  return { path: p, type, taxonomy: taxonomy('engineering', null), chunks: chunks.map(([section, content]) => ({ section, content })), indexedAt: '2026-12-01T00:00:00.000Z' };
}

const PROSE = doc('guides/staging.md', 'markdown', [
  ['Staging', 'Adding files to the staging area records their current contents for the next commit.'],
  ['Other', 'Unrelated notes about coffee and lunch breaks.'],
]);
const CODE = doc('src/store.ts', 'code', [
  ['createVectorStore', 'export function createVectorStore(config: Config) {\n  return new VectorStore(config.url);\n}'],
  ['openConnections', 'export function openConnections(pool: Pool) {\n  return pool.connect();\n}'],
]);

async function index(store: EmbeddedStore, ...docs: DocSpec[]): Promise<void> {
  for (const d of docs) await store.replaceFile(fileOf(d), pointsOf(d));
}

async function keywordFiles(store: EmbeddedStore, text: string): Promise<string[]> {
  return (await store.search({ mode: 'keyword', text, limit: 5 })).map((p) => `${p.payload.file_path}#${p.payload.chunk_index}`);
}

describe('keyword search: stemmed prose, exact identifiers', () => {
  it('matches prose across inflections', async () => {
    const store = await open(dbFile());
    await index(store, PROSE, CODE);
    expect((await keywordFiles(store, 'add a file'))[0]).toBe('guides/staging.md#0');
    expect((await keywordFiles(store, 'recording content'))[0]).toBe('guides/staging.md#0');
  });

  it('still finds an identifier by its exact spelling and by its parts', async () => {
    const store = await open(dbFile());
    await index(store, PROSE, CODE);
    for (const q of ['createVectorStore', 'create_vector_store', 'create vector store', 'openConnections']) {
      const first = (await keywordFiles(store, q))[0];
      expect(first, q).toBe(q === 'openConnections' ? 'src/store.ts#1' : 'src/store.ts#0');
    }
  });

  it('counts a query word’s matches again after a write: a word the store did not have is found once a file brings it', async () => {
    const store = await open(dbFile());
    await index(store, PROSE);
    // Two words, so each is counted against the row budget (stores/embedded/arm-counts.ts); neither is in the store yet.
    expect(await keywordFiles(store, 'zebra crossing')).toEqual([]);
    await index(store, doc('notes/road.md', 'markdown', [['Roads', 'A zebra marks where people walk across.']]));
    expect(await keywordFiles(store, 'zebra crossing')).toEqual(['notes/road.md#0']);
    // And a word a deleted file took away is counted as gone.
    await store.deleteFile('notes/road.md');
    expect(await keywordFiles(store, 'zebra crossing')).toEqual([]);
  });

  it('rebuilds an index made with the old unstemmed tokenizer when the store opens', async () => {
    const file = dbFile();
    const first = await open(file);
    await index(first, PROSE, CODE);
    await first.close();
    // What a store written before stemming looks like: unicode61 alone and no tokenizer recorded.
    const db = openDatabase(file);
    db.exec(`DROP TABLE chunks_fts;
      CREATE VIRTUAL TABLE chunks_fts USING fts5(content, section, file_path, idents, content='chunks', content_rowid='rowid', tokenize="unicode61 remove_diacritics 2");
      INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild');
      DELETE FROM meta WHERE key = 'fts_tokenizer';`);
    db.close();

    const reopened = await open(file);
    expect(await keywordFiles(reopened, 'adds files')).toContain('guides/staging.md#0');
    const check = openDatabase(file);
    const ddl = check.prepare("SELECT sql FROM sqlite_master WHERE name = 'chunks_fts'").pluck().get();
    const recorded = check.prepare("SELECT value FROM meta WHERE key = 'fts_tokenizer'").pluck().get();
    check.close();
    expect(String(ddl)).toContain(FTS_TOKENIZER);
    expect(recorded).toBe(FTS_TOKENIZER);
    // Every chunk is still findable after the rebuild, and writes keep the index in step.
    expect(await keywordFiles(reopened, 'openConnections')).toContain('src/store.ts#1');
    await reopened.deleteFile(CODE.path);
    expect(await keywordFiles(reopened, 'openConnections')).toEqual([]);
  });
});

describe('hybrid fusion', () => {
  it('gives the lexical local embedder less weight than a semantic one', () => {
    expect(fusionWeights(new LocalEmbedder().id)).toEqual({ dense: LEXICAL_DENSE_WEIGHT, keyword: 1 });
    expect(LEXICAL_DENSE_WEIGHT).toBeLessThan(1);
    expect(fusionWeights('mistral-embed:1024')).toEqual({ dense: 1, keyword: 1 });
  });

  it('ranks a chunk both sides found above chunks only one side found', async () => {
    const store = await open(dbFile());
    const query = unitVector(7);
    const specs = doc('notes/mix.md', 'markdown', [
      ['Keyword only', 'signing rotation happens yearly'],
      ['Both', 'key rotation happens monthly'],
      ['Dense only', 'a passage about something else entirely'],
      // Enough other neighbours that the dense side's list ends before "Keyword only".
      ...Array.from({ length: 80 }, (_, i): [string, string] => [`Filler ${i}`, `filler passage number ${i}`]),
    ]);
    const points: StoredPoint[] = pointsOf(specs);
    // The dense side ranks "Dense only" first and "Both" second; "Keyword only" points away.
    points.forEach((p, i) => (p.vector = nearVector(query, 100 + i, 0.6)));
    points[2]!.vector = nearVector(query, 1, 0.05);
    points[1]!.vector = nearVector(query, 2, 0.2);
    points[0]!.vector = unitVector(99);
    await store.replaceFile(fileOf(specs, points), points);
    for (const weights of [undefined, { dense: 1, keyword: 1 }, fusionWeights(new LocalEmbedder().id)]) {
      const hits = await store.search({ mode: 'hybrid', vector: query, text: 'rotation', limit: 3, weights });
      expect(hits[0]?.payload.section, JSON.stringify(weights)).toBe('Both');
      expect(hits[0]?.dense).not.toBeNull();
      expect(hits[0]?.keyword).not.toBeNull();
      const keywordOnly = hits.find((h) => h.payload.section === 'Keyword only');
      expect(keywordOnly?.dense ?? null).toBeNull();
    }
  });
});

describe('keyword row budget', () => {
  // Each of alpha and beta is in more chunks than the budget; two chunks hold both, never side by side.
  const COMMON = doc('notes/common.md', 'markdown', [
    ...Array.from({ length: 6 }, (_, i): [string, string] => [`A${i}`, `alpha note number ${i}`]),
    ...Array.from({ length: 7 }, (_, i): [string, string] => [`B${i}`, `beta remark number ${i}`]),
    ['Both 1', 'alpha comes first and later beta'],
    ['Both 2', 'beta sometimes and alpha too'],
    ...Array.from({ length: 8 }, (_, i): [string, string] => [`G${i}`, `gamma entry number ${i}`]),
  ]);
  const keywordSections = (hits: Array<{ keyword: number | null; payload: { section: string } }>) =>
    hits.filter((h) => h.keyword !== null).map((h) => h.payload.section).sort();

  it('ranks the rows holding the two rarest words when every word alone is past the budget', async () => {
    const store = await open(dbFile(), CONTRACT_EMBEDDER, { keywordRowBudget: 4 });
    await index(store, COMMON);
    const hits = await store.search({ mode: 'hybrid', vector: unitVector(3), text: 'alpha beta', limit: 30 });
    expect(keywordSections(hits)).toEqual(['Both 1', 'Both 2']);
    expect((await store.search({ mode: 'keyword', text: 'alpha beta', limit: 30 })).map((h) => h.payload.section).sort()).toEqual(['Both 1', 'Both 2']);
  });

  it('leaves a hybrid search to its dense side when no words fit, while a keyword search still answers', async () => {
    const store = await open(dbFile(), CONTRACT_EMBEDDER, { keywordRowBudget: 4 });
    await index(store, COMMON);
    for (const text of ['gamma', 'gamma delta']) {
      const hybrid = await store.search({ mode: 'hybrid', vector: unitVector(3), text, limit: 30 });
      expect(hybrid.length, text).toBe(23);
      expect(keywordSections(hybrid), text).toEqual([]);
      expect((await store.search({ mode: 'keyword', text, limit: 30 })).map((h) => h.payload.section).sort(), text).toEqual(
        Array.from({ length: 8 }, (_, i) => `G${i}`),
      );
    }
  });

  it('counts what FTS5 walks to find a phrase: every row of each of its words', async () => {
    // The phrase matches 2 chunks, within the budget of 3 rows, but finding it walks the rows of all three words
    // (9 + 9 + 50), past the walk budget (16 × 3): it is not ranked, and the rows holding its two rarest words are.
    const store = await open(dbFile(), CONTRACT_EMBEDDER, { keywordRowBudget: 3 });
    await index(
      store,
      doc('notes/phrases.md', 'markdown', [
        ['Adjacent 1', 'delta epsilon zeta here'],
        ['Adjacent 2', 'here delta epsilon zeta'],
        ['Apart', 'epsilon comes before delta'],
        ...Array.from({ length: 6 }, (_, i): [string, string] => [`D${i}`, `delta alone ${i}`]),
        ...Array.from({ length: 6 }, (_, i): [string, string] => [`E${i}`, `epsilon alone ${i}`]),
        ...Array.from({ length: 48 }, (_, i): [string, string] => [`Z${i}`, `zeta filler ${i}`]),
      ]),
    );
    const hits = await store.search({ mode: 'keyword', text: 'delta epsilon zeta', limit: 30 });
    expect(hits.map((h) => h.payload.section).sort()).toEqual(['Adjacent 1', 'Adjacent 2', 'Apart']);
  });
});

describe('Find Similar', () => {
  const embedder = new LocalEmbedder();
  const lines = (n: number, word: string) => Array.from({ length: n }, (_, i) => `const ${word}${i} = compute${word}(input, ${i});`).join('\n');
  const SOURCE = doc('src/jobs.ts', 'code', [
    ['scheduleJobs', lines(10, 'schedule')],
    ['retryJobs', lines(10, 'retry')],
    ['scheduleMore', lines(10, 'schedule').replaceAll('input', 'other')],
  ]);

  async function service(): Promise<SearchService> {
    const store = await open(dbFile(), embedder);
    const points = pointsOf(SOURCE).map((p) => ({ ...p, vector: embedder.embedOne(p.payload.content) }));
    await store.replaceFile(fileOf(SOURCE, points), points);
    return new SearchService(store, embedder);
  }

  it('leaves out only the selection’s own lines, not the rest of its file', async () => {
    const search = await service();
    const selection = SOURCE.chunks[0]!.content;
    const res = await search.similar({ text: selection, exclude_range: { file_path: 'src/jobs.ts', start_line: 3, end_line: 8 } });
    const ranges = res.results.map((r) => [r.start_line, r.end_line]);
    expect(ranges).not.toContainEqual([1, 10]);
    expect(res.results[0]).toMatchObject({ file_path: 'src/jobs.ts', start_line: 21 });
    // The same selection without a range finds its own chunk first.
    const all = await search.similar({ text: selection });
    expect(all.results[0]).toMatchObject({ file_path: 'src/jobs.ts', start_line: 1 });
  });

  it('still leaves out a whole file with exclude_file_path', async () => {
    const search = await service();
    const res = await search.similar({ text: SOURCE.chunks[0]!.content, exclude_file_path: 'src/jobs.ts' });
    expect(res.results).toEqual([]);
  });

  it('uses the selection’s words on the keyword side too (hybrid)', async () => {
    const search = await service();
    const res = await search.similar({ text: 'computeretry input' });
    expect(res.mode).toBe('hybrid');
    expect(res.results[0]).toMatchObject({ start_line: 11 });
    expect(res.results[0]?.scores.keyword).not.toBeNull();
  });

  it('finds a near-copy with renamed locals ahead of a chunk that only shares its names', async () => {
    const copies = doc('src/runner.js', 'code', [
      [
        'function failTest(self, test, err)',
        'function failTest(self, test, err) {\n  self.failures++;\n  self.emit(constants.EVENT_TEST_FAIL, test, err);\n  self.emit(constants.EVENT_TEST_END, test);\n  return self.hookUp(HOOK_TYPE_AFTER_EACH, next);\n}',
      ],
      [
        'var constants',
        "var constants = {\n  EVENT_TEST_FAIL: 'fail', EVENT_TEST_END: 'test end', HOOK_TYPE_AFTER_EACH: 'afterEach',\n  failures: 'failures', emit: 'emit', hookUp: 'hookUp', next: 'next',\n};\nvar EVENT_TEST_FAIL = constants.EVENT_TEST_FAIL;\nvar EVENT_TEST_END = constants.EVENT_TEST_END;",
      ],
    ]);
    const store = await open(dbFile(), embedder);
    const points = pointsOf(copies).map((p) => ({ ...p, vector: embedder.embedOne(p.payload.content) }));
    await store.replaceFile(fileOf(copies, points), points);
    const selection = '  runner.failures++;\n  runner.emit(constants.EVENT_TEST_FAIL, t, e);\n  runner.emit(constants.EVENT_TEST_END, t);\n  return runner.hookUp(HOOK_TYPE_AFTER_EACH, next);';
    const res = await new SearchService(store, embedder).similar({ text: selection });
    expect(res.results.map((r) => r.section)).toEqual(['function failTest(self, test, err)', 'var constants']);
  });

  it('validates exclude_range and keeps old requests valid', () => {
    expect(SimilarRequestSchema.safeParse({ text: 'x', exclude_file_path: 'src/jobs.ts' }).success).toBe(true);
    expect(SimilarRequestSchema.safeParse({ text: 'x', exclude_range: { file_path: 'src/jobs.ts', start_line: 3, end_line: 8 } }).success).toBe(true);
    const backwards = SimilarRequestSchema.safeParse({ text: 'x', exclude_range: { file_path: 'src/jobs.ts', start_line: 8, end_line: 3 } });
    expect(backwards.success).toBe(false);
    expect(JSON.stringify(backwards.error?.issues)).toMatch(/end_line/);
    expect(SimilarRequestSchema.safeParse({ text: 'x', exclude_range: { file_path: '../etc', start_line: 1, end_line: 2 } }).success).toBe(false);
  });
});
