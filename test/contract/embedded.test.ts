import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbedderInfo } from '../../server/embedders/embedder.js';
import { DenseIndex } from '../../server/stores/embedded/dense-index.js';
import { openDatabase } from '../../server/storage/sqlite-driver.js';
import { EmbeddedStore } from '../../server/stores/embedded/store.js';
import { buildFtsQuery, identifierIndexText, identifierParts } from '../../server/stores/fts-query.js';
import { fuseScores } from '../../server/fusion/score-fusion.js';
import { EmbedderMismatchError, type StoredPoint } from '../../server/stores/vector-store.js';
import {
  ALL_DOCS,
  API_DOC,
  CONTRACT_EMBEDDER,
  cosine,
  fileOf,
  indexDocs,
  nearVector,
  normalise,
  pointsOf,
  seededRandom,
  taxonomy,
  unitVector,
  vectorStoreContract,
  type DocSpec,
} from './vector-store.contract.js';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ailib-'));
  tempDirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

vectorStoreContract('EmbeddedStore', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ailib-'));
  return {
    store: new EmbeddedStore(path.join(dir, 'nested', 'library.sqlite')),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

function pointOf(doc: DocSpec, index: number): StoredPoint {
  const p = pointsOf(doc)[index];
  if (p === undefined) throw new Error(`test data: ${doc.path} has no chunk ${index}`);
  return p;
}

describe('EmbeddedStore specifics', () => {
  let file: string;
  const open: EmbeddedStore[] = [];
  async function openStore(embedder: EmbedderInfo = CONTRACT_EMBEDDER, at: string = file): Promise<EmbeddedStore> {
    const store = new EmbeddedStore(at);
    open.push(store);
    await store.init(embedder);
    return store;
  }

  beforeEach(() => {
    file = path.join(tempDir(), 'data', 'library.sqlite');
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('an empty store adopts a new embedder; one with vectors refuses it with advice', async () => {
    const first = await openStore();
    await first.close();
    const small: EmbedderInfo = { id: 'tiny-embedder', dimension: 8 };
    const second = await openStore(small);
    const v = normalise(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    const doc: DocSpec = { ...API_DOC, chunks: [API_DOC.chunks[0]!] };
    const [p] = pointsOf(doc, 8);
    await second.replaceFile(fileOf(doc, [p!]), [{ ...p!, vector: v }]);
    await second.close();
    const third = new EmbeddedStore(file);
    open.push(third);
    const err = await third.init(CONTRACT_EMBEDDER).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EmbedderMismatchError);
    const msg = String(err);
    expect(msg).toContain('tiny-embedder');
    expect(msg).toContain(CONTRACT_EMBEDDER.id);
    expect(msg).toContain('npm run index -- --all');
    expect(msg).toContain('DATA_DIR');
  });

  it('refuses to work before init and after close, naming the fix', async () => {
    const store = new EmbeddedStore(file);
    open.push(store);
    await expect(store.count()).rejects.toThrow(/call init\(embedder\)/);
    await store.init(CONTRACT_EMBEDDER);
    await store.close();
    await expect(store.count()).rejects.toThrow(/is closed/);
  });

  it('refuses a file that is not a store, or one from a newer version, saying what to do', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'this is not a database, just text that is long enough to fill a header page...'.repeat(20));
    expect(() => new EmbeddedStore(file)).toThrow(/cannot be used as a store.*move it away/);
    fs.rmSync(file);
    const store = await openStore();
    await store.close();
    const raw = openDatabase(file);
    raw.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    raw.close();
    expect(() => new EmbeddedStore(file)).toThrow(/schema version 99.*upgrade the server/);
  });

  it('drops the index on level1 that older stores carry, which no query reads, and keeps their chunks', async () => {
    const store = await openStore();
    await indexDocs(store);
    const before = await store.count();
    await store.close();
    const raw = openDatabase(file);
    raw.exec('CREATE INDEX chunks_level1 ON chunks(level1)');
    raw.close();
    const reopened = await openStore();
    expect(await reopened.count()).toBe(before);
    await reopened.close();
    const check = openDatabase(file);
    const indexes = check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'chunks'").pluck().all();
    check.close();
    expect(indexes).not.toContain('chunks_level1');
    expect(indexes).toContain('chunks_taxonomy');
  });

  it('keeps the FTS index in step with every kind of write', async () => {
    const store = await openStore();
    await indexDocs(store);
    await indexDocs(store);
    const [first] = pointsOf(API_DOC);
    const renamed = { ...first!, payload: { ...first!.payload, section: 'API > Throttling' } };
    await store.upsertPoints([renamed], []);
    expect((await store.search({ mode: 'keyword', text: 'Throttling', limit: 3 }))[0]?.id).toBe(first!.id);
    expect(await store.search({ mode: 'keyword', text: 'limits', limit: 3 })).toEqual([]);
    await store.setTaxonomy(API_DOC.path, taxonomy('operations', 'api'), 0.5);
    await store.deleteFile(ALL_DOCS[1]!.path);
    await store.close();
    const raw = openDatabase(file);
    expect(() => raw.prepare("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
    raw.close();
  });

  it('drops the commonest query words past the keyword row budget, but always answers', async () => {
    const store = new EmbeddedStore(file, { keywordRowBudget: 3 });
    open.push(store);
    await store.init(CONTRACT_EMBEDDER);
    await indexDocs(store);
    // quota: 1 chunk, request: 1, export: 2 → the first two fit the budget of 3, export does not.
    const hits = await store.search({ mode: 'keyword', text: 'request export quota', limit: 10 });
    expect(hits.map((h) => h.id).sort()).toEqual([pointOf(API_DOC, 0).id, pointOf(API_DOC, 1).id].sort());
    const common = await store.search({ mode: 'keyword', text: 'the', limit: 10 });
    expect(common.length).toBeGreaterThan(3);
  });

  it('keeps created_at of a re-indexed chunk and takes the new updated_at', async () => {
    const store = await openStore();
    await indexDocs(store, [API_DOC]);
    const later: DocSpec = { ...API_DOC, indexedAt: '2026-03-01T00:00:00.000Z' };
    const points = pointsOf(later);
    await store.replaceFile(fileOf(later, points), points);
    const got = await store.getPoint(points[0]!.id);
    expect(got?.payload.created_at).toBe(API_DOC.indexedAt);
    expect(got?.payload.updated_at).toBe(later.indexedAt);
    expect((await store.getFile(API_DOC.path))?.indexed_at).toBe(later.indexedAt);
  });

  it('reopens from disk with everything, including the dense index', async () => {
    const store = await openStore();
    await indexDocs(store);
    const stats = await store.stats();
    await store.close();
    const again = await openStore();
    expect(await again.stats()).toEqual(stats);
    expect(await again.listFiles()).toEqual(await Promise.all(ALL_DOCS.map((d) => fileOf(d))).then((fs) => [...fs].sort((a, b) => (a.file_path < b.file_path ? -1 : 1))));
    for (const doc of ALL_DOCS) {
      for (const p of pointsOf(doc)) {
        const hits = await again.search({ mode: 'dense', vector: nearVector(p.vector, 3, 0.2), limit: 1 });
        expect(hits[0]?.id).toBe(p.id);
      }
    }
    const kw = await again.search({ mode: 'keyword', text: 'computeChecksumMd5', limit: 1 });
    expect(kw[0]?.payload.section).toBe('computeChecksumMd5');
  });

  it('a write that fails midway leaves the previous version of the file intact', async () => {
    const store = await openStore();
    await indexDocs(store);
    const before = await store.fileChunks(API_DOC.path);
    const beforeFile = await store.getFile(API_DOC.path);
    const changed: DocSpec = {
      ...API_DOC,
      indexedAt: '2026-04-01T00:00:00.000Z',
      chunks: [
        { section: 'New A', content: 'A brand new first chunk about webhooks.' },
        { section: 'New B', content: 'A second chunk whose vector is broken.' },
        { section: 'New C', content: 'A third chunk that is never reached.' },
      ],
    };
    const points = pointsOf(changed);
    points[1] = { ...points[1]!, vector: new Float32Array(CONTRACT_EMBEDDER.dimension + 1) };
    await expect(store.replaceFile(fileOf(changed, points), points)).rejects.toThrow(/65 dimensions/);
    expect(await store.fileChunks(API_DOC.path)).toEqual(before);
    expect(await store.getFile(API_DOC.path)).toEqual(beforeFile);
    expect(await store.getPoint(points[0]!.id)).toBeNull();
    const hits = await store.search({ mode: 'dense', vector: points[0]!.vector, limit: 3 });
    expect(hits.map((h) => h.id)).not.toContain(points[0]!.id);
    const old = await store.search({ mode: 'dense', vector: before[2]!.vector, limit: 1 });
    expect(old[0]?.id).toBe(before[2]!.id);
  });

  it('backup() writes a copy that opens with the same contents', async () => {
    const store = await openStore();
    await indexDocs(store);
    const copy = path.join(tempDir(), 'snapshots', 'copy.sqlite');
    await store.backup(copy);
    await store.deleteFile(API_DOC.path);
    const restored = await openStore(CONTRACT_EMBEDDER, copy);
    expect(await restored.count()).toBe(ALL_DOCS.reduce((n, d) => n + d.chunks.length, 0));
    expect((await restored.stats()).documents).toBe(ALL_DOCS.length);
    const p = pointOf(API_DOC, 2);
    expect((await restored.search({ mode: 'dense', vector: p.vector, limit: 1 }))[0]?.id).toBe(p.id);
    await expect(store.backup(file)).rejects.toThrow(/is the store itself/);
  });

  it('sees writes made by another connection to the same file', async () => {
    const writer = await openStore();
    const reader = await openStore();
    await indexDocs(writer, [API_DOC]);
    const p = pointOf(API_DOC, 1);
    expect((await reader.search({ mode: 'dense', vector: p.vector, limit: 1 }))[0]?.id).toBe(p.id);
    await writer.deleteFile(API_DOC.path);
    expect(await reader.search({ mode: 'dense', vector: p.vector, limit: 1 })).toEqual([]);
  });

  it('keyword search matches identifiers across camelCase, snake_case, kebab-case and words', async () => {
    const store = await openStore();
    const doc: DocSpec = {
      path: 'src/stores/factory.ts',
      type: 'code',
      taxonomy: taxonomy('engineering', 'backend'),
      indexedAt: '2026-01-01T00:00:00.000Z',
      chunks: [
        { section: 'factory', content: 'export function createVectorStore(config: Config): VectorStore {\n  return new EmbeddedStore(config.file);\n}' },
        { section: 'prose', content: 'The store keeps every vector on disk, and you can create one per workspace.' },
        { section: 'snake', content: 'let search_index = open_search_index(path);' },
      ],
    };
    await indexDocs(store, [doc]);
    const [factory, , snake] = pointsOf(doc);
    for (const text of ['createVectorStore', 'CreateVectorStore', 'create-vector-store', 'create_vector_store', 'createVectorStore()']) {
      const hits = await store.search({ mode: 'keyword', text, limit: 3 });
      expect(hits[0]?.id, text).toBe(factory!.id);
    }
    const words = await store.search({ mode: 'keyword', text: 'create vector store', limit: 3 });
    expect(words.map((h) => h.id)).toContain(factory!.id);
    for (const text of ['searchIndex', 'search_index', 'SearchIndex', 'open search index']) {
      const hits = await store.search({ mode: 'keyword', text, limit: 3 });
      expect(hits[0]?.id, text).toBe(snake!.id);
    }
  });

  it('never throws on random query text', async () => {
    const store = await openStore();
    await indexDocs(store);
    const alphabet = ['"', "'", '*', '(', ')', ':', '^', '-', '+', '{', '}', '[', ']', '\\', '\u0000', '\u0301', '🚀', 'NEAR', 'AND', 'OR', 'NOT', ' ', 'a', 'Z', '_', '東', 'é', '\n', '\t', '.', ',', '0', '²'];
    const rnd = seededRandom(42);
    for (let i = 0; i < 300; i++) {
      const n = 1 + Math.floor(rnd() * 12);
      let text = '';
      for (let j = 0; j < n; j++) text += alphabet[Math.floor(rnd() * alphabet.length)] ?? '';
      const hits = await store.search({ mode: 'keyword', text, limit: 3 });
      expect(Array.isArray(hits), JSON.stringify(text)).toBe(true);
    }
  });
});

describe('fts-query', () => {
  it('splits identifiers into lowercased parts', () => {
    expect(identifierParts('createVectorStore')).toEqual(['create', 'vector', 'store']);
    expect(identifierParts('HTTPServer2Config')).toEqual(['http', 'server2', 'config']);
    expect(identifierParts('MAX_QUERY_CHARS')).toEqual(['max', 'query', 'chars']);
    expect(identifierParts('create-vector-store')).toEqual(['create', 'vector', 'store']);
    expect(identifierParts('__init__')).toEqual(['init']);
    expect(identifierParts('md5Hash')).toEqual(['md5', 'hash']);
  });

  it('indexes compound identifiers whole and in parts, plain words not at all', () => {
    expect(identifierIndexText('call createVectorStore and vector_store now').split(' ').sort()).toEqual(
      ['create', 'createvectorstore', 'store', 'vector', 'vectorstore'].sort(),
    );
  });

  it('quotes every arm and returns null when nothing is searchable', () => {
    expect(buildFtsQuery('')).toBeNull();
    expect(buildFtsQuery('"*() 🚀 ^:')).toBeNull();
    expect(buildFtsQuery('NEAR(foo')).toBe('"near foo" OR "near" OR "foo"');
    expect(buildFtsQuery('vector_store')).toBe('"vectorstore" OR "vector store" OR "vector" OR "store"');
    const long = buildFtsQuery(Array.from({ length: 500 }, (_, i) => `w${i}`).join(' '));
    expect(long?.split(' OR ').length).toBe(64);
  });
});

describe('fuseScores (normalised score fusion)', () => {
  it('normalises dense min-max and keyword from 0, then takes the weighted mean; a missing side counts 0', () => {
    const dense = [{ id: 'a', score: 0.9 }, { id: 'b', score: 0.5 }, { id: 'c', score: 0.1 }];
    const keyword = [{ id: 'b', score: 12 }, { id: 'd', score: 2 }];
    const fused = fuseScores(dense, keyword, { dense: 1, keyword: 1 });
    expect(fused.get('a')).toBeCloseTo(0.5, 12);
    expect(fused.get('b')).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(fused.get('c')).toBeCloseTo(0, 12);
    // BM25's floor is 0: the last keyword hit still counts.
    expect(fused.get('d')).toBeCloseTo(0.5 * (2 / 12), 12);
    const weighted = fuseScores(dense, keyword, { dense: 0.5, keyword: 1 });
    expect(weighted.get('a')).toBeCloseTo(1 / 3, 12);
    expect(weighted.get('b')).toBeCloseTo((0.5 * 0.5 + 1) / 1.5, 12);
  });

  it('counts an id once per side, scores a one-hit side 1, and rejects bad weights', () => {
    const fused = fuseScores([{ id: 'a', score: 0.3 }, { id: 'a', score: 0.9 }, { id: 'b', score: 0.1 }], [{ id: 'x', score: 5 }], { dense: 1, keyword: 1 });
    expect(fused.get('a')).toBeCloseTo(0.5 * ((0.3 - 0.1) / 0.8), 12);
    expect(fused.get('x')).toBeCloseTo(0.5, 12);
    expect(() => fuseScores([], [], { dense: 0, keyword: 0 })).toThrow(/weights must be/);
    expect(() => fuseScores([], [], { dense: -1, keyword: 1 })).toThrow(/weights must be/);
  });
});

describe('DenseIndex', () => {
  it('removes by skipping, keeps a changed key as debt, finds vectors by rowid; a zero vector is never indexed', () => {
    const dim = 70;
    const index = DenseIndex.create(dim);
    const vectors = new Map<number, Float32Array>();
    for (let r = 1; r <= 50; r++) vectors.set(r, unitVector(r, dim));
    index.upsert([...vectors.keys()], [...vectors.values()]);
    index.remove([1, 17, 50, 23, 999]);
    for (const r of [1, 17, 50, 23]) vectors.delete(r);
    // The graph is never edited in place (usearch's remove can spin forever): removed keys are skipped.
    expect(index.debt).toBe(4);
    for (const [r, v] of vectors) expect(index.search(v, 1)).toEqual([r]);
    for (const r of [1, 17, 50, 23]) expect(index.search(unitVector(r, dim), 46)).not.toContain(r);
    // A key the graph holds keeps its vector and counts as debt: the store re-ranks exactly and rebuilds past a share.
    index.upsert([5, 5], [unitVector(998, dim), unitVector(999, dim)]);
    expect(index.debt).toBe(5);
    // A removed key written again is live again.
    index.upsert([17], [unitVector(17, dim)]);
    expect(index.search(unitVector(17, dim), 1)).toEqual([17]);
    index.upsert([60], [new Float32Array(dim)]);
    expect(index.search(new Float32Array(dim), 5)).toEqual([]);
    expect(() => index.upsert([7], [new Float32Array(3)])).toThrow(/3 dimensions/);
  });

  it('survives hundreds of rounds of removing and re-adding the same keys (usearch remove once spun forever)', () => {
    const dim = 32;
    const index = DenseIndex.create(dim);
    const keys = Array.from({ length: 40 }, (_, i) => i + 1);
    for (let round = 0; round < 300; round++) {
      index.remove(keys.filter((k) => (k + round) % 3 === 0));
      index.upsert(keys, keys.map((k) => unitVector(k * 1000 + round, dim)));
    }
    expect(index.search(unitVector(1000 * 7, dim), 5).length).toBe(5);
  });

  it('opens a saved file as a read-only map and reads it whole only when first changed; a replaced file is refused', () => {
    const dim = 16;
    const index = DenseIndex.create(dim);
    index.upsert([1, 2, 3], [unitVector(1, dim), unitVector(2, dim), unitVector(3, dim)]);
    const dir = tempDir();
    const file = path.join(dir, 'x.usearch');
    const bytes = index.save(file);
    const opened = DenseIndex.load(file, dim, bytes);
    expect(opened.mapped).toBe(true);
    expect(opened.search(unitVector(2, dim), 1)).toEqual([2]);
    // Removing and re-writing a key it holds change no vector: still the map.
    opened.remove([3]);
    opened.upsert([2], [unitVector(2, dim)]);
    expect(opened.mapped).toBe(true);
    opened.upsert([4], [unitVector(4, dim)]);
    expect(opened.mapped).toBe(false);
    for (const r of [1, 2, 4]) expect(opened.search(unitVector(r, dim), 1)).toEqual([r]);
    expect(opened.search(unitVector(3, dim), 3)).not.toContain(3);
    // A mapped graph saves whole, even over the file it maps.
    const again = DenseIndex.load(file, dim, bytes);
    expect(again.save(file)).toBe(bytes);
    expect(DenseIndex.load(file, dim, bytes).search(unitVector(3, dim), 1)).toEqual([3]);
    // Another process replaced the file: the change is refused (the store rebuilds), never read from a torn or foreign file.
    const stale = DenseIndex.load(file, dim, bytes);
    const bigger = DenseIndex.create(dim);
    bigger.upsert([1, 2, 3, 4, 5], [1, 2, 3, 4, 5].map((r) => unitVector(r, dim)));
    bigger.save(path.join(dir, 'y.usearch'));
    fs.renameSync(path.join(dir, 'y.usearch'), file);
    expect(() => stale.upsert([9], [unitVector(9, dim)])).toThrow(/changed since it was opened/);
  });

  it('loads only a whole file of the size it was saved with', () => {
    const dim = 16;
    const index = DenseIndex.create(dim);
    index.upsert([1, 2, 3], [unitVector(1, dim), unitVector(2, dim), unitVector(3, dim)]);
    const file = path.join(tempDir(), 'x.usearch');
    const bytes = index.save(file);
    expect(DenseIndex.load(file, dim, bytes).search(unitVector(2, dim), 1)).toEqual([2]);
    expect(() => DenseIndex.load(file, dim, bytes + 1)).toThrow(/bytes/);
    expect(() => DenseIndex.load(file, dim * 2, bytes)).toThrow(/int8/);
    fs.writeFileSync(file, Buffer.alloc(bytes, 7));
    expect(() => DenseIndex.load(file, dim, bytes)).toThrow(/dense index/);
  });
});

// ---------------------------------------------------------------------------
// Recall of the HNSW pass + exact re-rank against exact brute force.

const RECALL_DIM = 1024;
const RECALL_POINTS = 5000;
const RECALL_QUERIES = 50;

/** Like the local embedder's signed feature hashing: ~60 features of ±1, summed where they collide. */
function sparseSigned(rnd: () => number, features = 60): Float32Array {
  const v = new Float32Array(RECALL_DIM);
  for (let i = 0; i < features; i++) v[Math.floor(rnd() * RECALL_DIM)]! += rnd() < 0.5 ? 1 : -1;
  return normalise(v);
}

function gaussian(rnd: () => number): Float32Array {
  return unitVector(Math.floor(rnd() * 2 ** 32), RECALL_DIM);
}

function mix(a: Float32Array, b: Float32Array, t: number): Float32Array {
  const v = new Float32Array(a.length);
  for (let i = 0; i < v.length; i++) v[i] = a[i]! * (1 - t) + b[i]! * t;
  return normalise(v);
}

/** Recall@10 without filters, and through the filtered path (a folder filter every point passes). */
async function measureRecall(make: (rnd: () => number) => Float32Array): Promise<{ plain: number; filtered: number }> {
  const dir = tempDir();
  const store = new EmbeddedStore(path.join(dir, 'recall.sqlite'));
  try {
    await store.init({ id: 'recall-test', dimension: RECALL_DIM });
    const rnd = seededRandom(1234);
    const vectors: Float32Array[] = [];
    const ids: string[] = [];
    const perFile = 100;
    for (let f = 0; f < RECALL_POINTS / perFile; f++) {
      const doc: DocSpec = {
        path: `bench/file-${f}.md`,
        type: 'markdown',
        taxonomy: taxonomy('bench', null),
        indexedAt: '2026-01-01T00:00:00.000Z',
        chunks: Array.from({ length: perFile }, (_, i) => ({ section: `s${i}`, content: `chunk ${f}-${i}` })),
      };
      const points = pointsOf(doc, RECALL_DIM).map((p) => {
        const vector = make(rnd);
        vectors.push(vector);
        ids.push(p.id);
        return { ...p, vector };
      });
      await store.replaceFile(fileOf(doc, points), points);
    }
    await store.prepareIndex();
    expect(store.denseIndexState()).toBe('ready');
    let hits = 0;
    let filteredHits = 0;
    for (let q = 0; q < RECALL_QUERIES; q++) {
      // Half the queries relate to a stored vector (a question about one document), half are unrelated.
      const query = q % 2 === 0 ? mix(vectors[Math.floor(rnd() * vectors.length)]!, make(rnd), 0.5) : make(rnd);
      const exact = vectors.map((v, i) => ({ i, s: cosine(query, v) })).sort((a, b) => b.s - a.s);
      // Ties at the 10th place are common with sparse vectors: any id scoring as well counts.
      const tenth = exact[9]!.s - 1e-6;
      const exactScore = new Map(exact.map((e) => [ids[e.i]!, e.s]));
      const found = await store.search({ mode: 'dense', vector: query, limit: 10 });
      expect(found).toHaveLength(10);
      for (const h of found) if ((exactScore.get(h.id) ?? -2) >= tenth) hits += 1;
      const filtered = await store.search({ mode: 'dense', vector: query, limit: 10, filters: { file_path: 'bench/' } });
      for (const h of filtered) if ((exactScore.get(h.id) ?? -2) >= tenth) filteredHits += 1;
    }
    return { plain: hits / (RECALL_QUERIES * 10), filtered: filteredHits / (RECALL_QUERIES * 10) };
  } finally {
    await store.close();
  }
}

describe('EmbeddedStore dense recall (HNSW + exact re-rank vs brute force)', () => {
  it('≥ 0.98 recall@10 on sparse signed feature-hashing vectors', async () => {
    const recall = await measureRecall((rnd) => sparseSigned(rnd));
    expect(recall.plain).toBeGreaterThanOrEqual(0.98);
    expect(recall.filtered).toBeGreaterThanOrEqual(0.98);
  }, 120_000);

  it('≥ 0.98 recall@10 on dense Gaussian vectors', async () => {
    const recall = await measureRecall(gaussian);
    expect(recall.plain).toBeGreaterThanOrEqual(0.98);
    expect(recall.filtered).toBeGreaterThanOrEqual(0.98);
  }, 120_000);
});
