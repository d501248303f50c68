import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContentType, SearchFilters } from '../../shared/api-types.js';
import { DenseIndex } from '../../server/stores/embedded/dense-index.js';
import { readSavedIndex } from '../../server/stores/embedded/dense-index-file.js';
import { openDatabase } from '../../server/storage/sqlite-driver.js';
import { FILTER_COLUMNS_INDEX } from '../../server/stores/embedded/schema.js';
import { andWhere, filterKey, rowidsPassingSql, sqlFilter } from '../../server/stores/embedded/sql-filter.js';
import type { FilterKnowledge } from '../../server/stores/embedded/filter-knowledge.js';
import { normalizeFilters } from '../../server/stores/filters.js';
import { EmbeddedStore } from '../../server/stores/embedded/store.js';
import type { StoredPoint } from '../../server/stores/vector-store.js';
import { CONTRACT_EMBEDDER, CONTRACT_DIM, fileOf, normalise, pointsOf, seededRandom, taxonomy, type DocSpec } from '../contract/vector-store.contract.js';

/**
 * The embedded store's HNSW graph against its own exact scan, on the same
 * SQLite file: filtered results must equal exact filtered ones, another
 * connection's writes and deletes must show at once, and a saved graph must be
 * reused only when it matches the database.
 */

const FOLDERS = ['docs/guides', 'docs/api', 'src/server', 'src/client', 'notes'];
const TYPES: ContentType[] = ['markdown', 'code', 'text'];
const LEVEL1 = ['engineering', 'operations', 'product'];
const LEVEL2 = ['backend', 'frontend', null];
const FILES = 60;
const PER_FILE = 50;

/** Clustered vectors (40 centres), so neighbours are close as with real embeddings. */
function clustered(seed: number): () => Float32Array {
  const rnd = seededRandom(seed);
  const centres = Array.from({ length: 40 }, () => Float32Array.from({ length: CONTRACT_DIM }, () => rnd() * 2 - 1));
  return () => {
    const c = centres[Math.floor(rnd() * centres.length)]!;
    return normalise(Float32Array.from(c, (x) => x + (rnd() * 2 - 1) * 0.8));
  };
}

function docAt(f: number): DocSpec {
  return {
    path: `${FOLDERS[f % FOLDERS.length]}/file-${f}.${f % 3 === 1 ? 'ts' : 'md'}`,
    type: TYPES[f % TYPES.length]!,
    taxonomy: taxonomy(LEVEL1[f % LEVEL1.length]!, LEVEL2[Math.floor(f / 3) % LEVEL2.length]!),
    indexedAt: '2026-01-01T00:00:00.000Z',
    chunks: Array.from({ length: PER_FILE }, (_, i) => ({ section: `s${i}`, content: `chunk ${f}-${i} about topic ${(f * 7 + i) % 13}` })),
  };
}

async function fill(store: EmbeddedStore, draw: () => Float32Array, files: number[]): Promise<void> {
  for (const f of files) {
    const doc = docAt(f);
    const points = pointsOf(doc).map((p) => ({ ...p, vector: draw() }));
    await store.replaceFile(fileOf(doc, points), points);
  }
}

let dir: string;
let file: string;
const open: EmbeddedStore[] = [];

async function openStore(options: ConstructorParameters<typeof EmbeddedStore>[1] = {}): Promise<EmbeddedStore> {
  const store = new EmbeddedStore(file, options);
  open.push(store);
  await store.init(CONTRACT_EMBEDDER);
  return store;
}

/** A store on the same file that always scans exactly: the truth. */
const exactStore = () => openStore({ denseIndex: false });
/**
 * The graph for everything: no exact shortcut for small stores, selective
 * filters or filters estimated cheaper to scan, and a hybrid search's BM25 always ranked on the second connection
 * (storage/sqlite-reader.ts).
 */
const graphStore = () => openStore({ exactBelow: 0, exactFilterRows: 0, graphCandidateCost: 0, parallelKeywordFrom: 0 });

/** A graph store over 30 files, and a second connection on the same file (as the CLI indexer is). */
async function graphAndOther(seed: number, other: () => Promise<EmbeddedStore>) {
  const draw = clustered(seed);
  const graph = await graphStore();
  await fill(graph, draw, Array.from({ length: 30 }, (_, f) => f));
  await graph.prepareIndex();
  return { draw, graph, other: await other() };
}

/** A new file in docs/guides/ whose one chunk is `vector`. */
function addedTo(vector: Float32Array) {
  const doc: DocSpec = { ...docAt(0), path: 'docs/guides/added.md', chunks: [{ section: 'new', content: 'the query itself' }] };
  const points = pointsOf(doc).map((p) => ({ ...p, vector }));
  return { file: fileOf(doc, points), points };
}

async function dense(store: EmbeddedStore, vector: Float32Array, limit: number, filters?: SearchFilters, excludeFilePath?: string) {
  return store.search({ mode: 'dense', vector, limit, filters, excludeFilePath });
}

/** Same scores in the same order (ids may swap only between equal scores). */
function expectSameRanking(got: Array<{ id: string; dense: number | null }>, exact: Array<{ id: string; dense: number | null }>): void {
  expect(got.map((h) => h.dense?.toFixed(5))).toEqual(exact.map((h) => h.dense?.toFixed(5)));
  const strictlyAbove = exact.filter((h) => (h.dense ?? 0) > (exact[exact.length - 1]?.dense ?? 0) + 1e-5).map((h) => h.id);
  expect(got.map((h) => h.id)).toEqual(expect.arrayContaining(strictlyAbove));
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ailib-dense-'));
  file = path.join(dir, 'library.sqlite');
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('dense index: filters stay exact', () => {
  it('random filters give the same results through the graph as an exact filtered scan', async () => {
    const draw = clustered(7);
    const graph = await graphStore();
    await fill(
      graph,
      draw,
      Array.from({ length: FILES }, (_, f) => f),
    );
    await graph.prepareIndex();
    expect(graph.denseIndexState()).toBe('ready');
    const exact = await exactStore();
    const paths = Array.from({ length: FILES }, (_, f) => docAt(f).path);
    const queries = Array.from({ length: 40 }, draw);

    const filters = fc.record(
      {
        taxonomy: fc.constantFrom(...LEVEL1, 'engineering/backend', 'product/frontend', 'operations/backend', 'nothing/here'),
        content_type: fc.oneof(fc.constantFrom(...TYPES), fc.subarray(TYPES, { minLength: 1 })),
        file_path: fc.constantFrom(...FOLDERS.map((f) => `${f}/`), 'docs/', ...paths.slice(0, 5)),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        filters,
        fc.option(fc.constantFrom(...paths), { nil: undefined }),
        fc.nat({ max: queries.length - 1 }),
        fc.constantFrom(1, 10, 30),
        async (f, exclude, q, limit) => {
          const got = await dense(graph, queries[q]!, limit, f, exclude);
          const truth = await dense(exact, queries[q]!, limit, f, exclude);
          expectSameRanking(got, truth);
          for (const h of got) {
            if (exclude !== undefined) expect(h.payload.file_path).not.toBe(exclude);
            if (f.taxonomy !== undefined) expect(`${h.payload.taxonomy.full_path}/`.startsWith(`${f.taxonomy}/`)).toBe(true);
          }
        },
      ),
      { numRuns: 150, seed: 1337 },
    );
  }, 180_000);
});

describe('dense index: what the store remembers about a filter', () => {
  it('never changes its results: after taxonomy moves (no vector written) and deletes they still equal an exact filtered scan', async () => {
    const draw = clustered(23);
    // Filters above 100 rows go through the graph (never the estimate that scanning costs less), and their count, rows and passing share are remembered (filter-knowledge.ts).
    const graph = await openStore({ exactBelow: 0, exactFilterRows: 100, graphCandidateCost: 0 });
    await fill(
      graph,
      draw,
      Array.from({ length: 30 }, (_, f) => f),
    );
    await graph.prepareIndex();
    const exact = await exactStore();
    const queries = Array.from({ length: 8 }, draw);
    const check = async (filters: SearchFilters) => {
      for (const q of queries) for (const limit of [1, 10, 30]) expectSameRanking(await dense(graph, q, limit, filters), await dense(exact, q, limit, filters));
    };
    const engineering = { taxonomy: 'engineering' };
    const files = Array.from({ length: 30 }, (_, f) => docAt(f));
    await check(engineering);
    await check({ taxonomy: 'engineering', content_type: 'markdown' });

    // All but one engineering file move out: the remembered count (500 rows) is stale, the share far too high.
    const moved = files.filter((d) => d.taxonomy.level1 === 'engineering').slice(1);
    for (const d of moved) await graph.setTaxonomy(d.path, taxonomy('product', null), 0.9);
    await check(engineering);
    // Everything moves in: the remembered share is now far too low.
    for (const d of files) await graph.setTaxonomy(d.path, taxonomy('engineering', 'backend'), 0.9);
    await check(engineering);
    await check({ taxonomy: 'engineering/backend', content_type: ['code', 'text'] });
    // Deletes write the vector log: the count is taken again.
    for (const d of files.slice(0, 27)) await graph.deleteFile(d.path);
    await check(engineering);
  }, 120_000);
});

describe('dense index: a filter\'s rows held in memory', () => {
  it('sees at once what another connection writes: a chunk added to the folder, a file moved out of the taxonomy', async () => {
    const { draw, graph, other } = await graphAndOther(41, exactStore);
    const folder: SearchFilters = { file_path: 'docs/guides/' };
    const engineering: SearchFilters = { taxonomy: 'engineering' };
    const query = draw();
    // Each filter twice: from its second use the store holds its rows (filter-knowledge.ts).
    for (const f of [folder, folder, engineering, engineering]) expectSameRanking(await dense(graph, query, 10, f), await dense(other, query, 10, f));

    const added = addedTo(query);
    await other.replaceFile(added.file, added.points);
    expect((await dense(graph, query, 10, folder))[0]?.id).toBe(added.points[0]!.id);

    const moved = (await dense(graph, query, 10, engineering))[0]!.payload.file_path;
    await other.setTaxonomy(moved, taxonomy('product', null), 0.9);
    const after = await dense(graph, query, 10, engineering);
    expect(after.map((h) => h.payload.file_path)).not.toContain(moved);
    expectSameRanking(after, await dense(other, query, 10, engineering));
  });
});

type Hit = { payload: { file_path: string; content_type: string; taxonomy: { full_path: string } } };

function passes(h: Hit, f: SearchFilters, exclude?: string): boolean {
  return (
    (f.taxonomy === undefined || `${h.payload.taxonomy.full_path}/`.startsWith(`${f.taxonomy}/`)) &&
    (f.content_type === undefined || [f.content_type].flat().includes(h.payload.content_type as ContentType)) &&
    (f.file_path === undefined || (f.file_path.endsWith('/') ? h.payload.file_path.startsWith(f.file_path) : h.payload.file_path === f.file_path)) &&
    h.payload.file_path !== exclude
  );
}

describe('keyword search: filters stay exact', () => {
  it('a filtered keyword search equals the unfiltered ranking filtered afterwards, for common and rare words', async () => {
    const store = await graphStore();
    await fill(
      store,
      clustered(29),
      Array.from({ length: FILES }, (_, f) => f),
    );
    // With the graph built, a filter no graph search has sized is sized by its share of the library (search.ts, libraryShare).
    await store.prepareIndex();
    const paths = Array.from({ length: FILES }, (_, f) => docAt(f).path);
    const filters = fc.record(
      {
        taxonomy: fc.constantFrom(...LEVEL1, 'engineering/backend', 'product/frontend'),
        content_type: fc.oneof(fc.constantFrom(...TYPES), fc.subarray(TYPES, { minLength: 1 })),
        file_path: fc.constantFrom(...FOLDERS.map((f) => `${f}/`), ...paths.slice(0, 3)),
      },
      { requiredKeys: [] },
    );
    // "chunk" and "about" are in every chunk; "topic 7" in a thirteenth; "12-3" in one.
    const words = ['chunk about', 'topic 7', 'chunk 12-3', 'about topic'];
    await fc.assert(
      fc.asyncProperty(filters, fc.option(fc.constantFrom(...paths), { nil: undefined }), fc.constantFrom(...words), fc.constantFrom(1, 10, 30), async (f, exclude, text, limit) => {
        const got = await store.search({ mode: 'keyword', text, limit, filters: f, excludeFilePath: exclude });
        const all = await store.search({ mode: 'keyword', text, limit: FILES * PER_FILE });
        const truth = all.filter((h) => passes(h, f, exclude)).slice(0, limit);
        expect(got.map((h) => h.keyword?.toFixed(6))).toEqual(truth.map((h) => h.keyword?.toFixed(6)));
        for (const h of got) expect(passes(h, f, exclude)).toBe(true);
      }),
      { numRuns: 120, seed: 4242 },
    );
  }, 120_000);

  it('ranks once for a selective filter no graph search has sized: its share of the library sets how deep', async () => {
    const store = await graphStore();
    await fill(store, clustered(31), Array.from({ length: FILES }, (_, f) => f));
    await store.prepareIndex();
    // Two files of sixty (docAt: 9 and 54), 100 of 3,000 chunks.
    const filters: SearchFilters = { file_path: 'notes/', taxonomy: 'engineering/backend' };
    const rankings = vi.spyOn(store as unknown as { bm25Ranking: () => Promise<unknown> }, 'bm25Ranking');
    for (const text of ['topic 7', 'chunk about']) {
      rankings.mockClear();
      const got = await store.search({ mode: 'keyword', text, limit: 10, filters });
      // Not a shallow ranking of which too few pass, then every match joined to the filter.
      expect(rankings).toHaveBeenCalledTimes(1);
      const all = await store.search({ mode: 'keyword', text, limit: FILES * PER_FILE });
      const truth = all.filter((h) => passes(h, filters)).slice(0, 10);
      expect(got.map((h) => h.keyword?.toFixed(6))).toEqual(truth.map((h) => h.keyword?.toFixed(6)));
      for (const h of got) expect(passes(h, filters)).toBe(true);
    }
  });
});

describe('dense index: BM25 ranked beside the graph search', () => {
  it('hybrid results are the same whether BM25 ranks on the second connection or on the store’s own', async () => {
    const draw = clustered(31);
    const beside = await graphStore();
    await fill(
      beside,
      draw,
      Array.from({ length: FILES }, (_, f) => f),
    );
    await beside.prepareIndex();
    const here = await openStore({ exactBelow: 0, exactFilterRows: 0, graphCandidateCost: 0, parallelKeywordFrom: Number.POSITIVE_INFINITY });
    await here.prepareIndex();
    const queries = Array.from({ length: 20 }, draw);
    const filters = fc.record(
      { taxonomy: fc.constantFrom(...LEVEL1, 'engineering/backend'), content_type: fc.constantFrom(...TYPES), file_path: fc.constantFrom(...FOLDERS.map((f) => `${f}/`)) },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(filters, fc.nat({ max: queries.length - 1 }), fc.constantFrom('chunk about', 'topic 7', 'chunk 12-3', 'nothing'), fc.constantFrom(1, 10), async (f, q, text, limit) => {
        const query = { mode: 'hybrid' as const, vector: queries[q]!, text, limit, filters: f };
        const [a, b] = [await beside.search(query), await here.search(query)];
        expect(a.map((h) => [h.keyword?.toFixed(6), h.fused.toFixed(6)])).toEqual(b.map((h) => [h.keyword?.toFixed(6), h.fused.toFixed(6)]));
      }),
      { numRuns: 60, seed: 99 },
    );
    // The same store, asked again after a write, sees it on both connections.
    await fill(beside, draw, [FILES]);
    const fresh = await beside.search({ mode: 'hybrid', vector: queries[0]!, text: `chunk ${FILES}-7`, limit: 10 });
    expect(fresh.filter((h) => h.keyword !== null).map((h) => h.payload.file_path)).toContain(docAt(FILES).path);
  }, 120_000);
});

describe('dense index: writes', () => {
  it('shows another connection’s uploads at once and never returns what it deleted', async () => {
    const draw = clustered(11);
    const server = await graphStore();
    await fill(server, draw, [0, 1, 2, 3, 4, 5]);
    await server.prepareIndex();
    const cli = await openStore();

    const target = draw();
    const doc = docAt(40);
    const points: StoredPoint[] = pointsOf(doc).map((p, i) => ({ ...p, vector: i === 7 ? target : draw() }));
    await cli.replaceFile(fileOf(doc, points), points);
    expect((await dense(server, target, 1))[0]?.id).toBe(points[7]!.id);

    await cli.deleteFile(doc.path);
    const after = await dense(server, target, 50);
    expect(after.map((h) => h.payload.file_path)).not.toContain(doc.path);

    // Its own writes too.
    await server.replaceFile(fileOf(doc, points), points);
    expect((await dense(server, target, 1))[0]?.id).toBe(points[7]!.id);
    await server.deleteFile(doc.path);
    expect((await dense(server, target, 50)).map((h) => h.payload.file_path)).not.toContain(doc.path);
  });

  it('shows another connection’s upload at once to a filtered search, whose graph candidates outnumber the pool it re-ranks', async () => {
    const { draw, graph: server, other: cli } = await graphAndOther(43, () => openStore());
    const folder: SearchFilters = { file_path: 'docs/guides/' };
    const target = draw();
    // A first search remembers the folder's share, so the next asks the graph for enough candidates at once.
    await dense(server, target, 10, folder);
    const added = addedTo(target);
    await cli.replaceFile(added.file, added.points);
    expect((await dense(server, target, 10, folder))[0]?.id).toBe(added.points[0]!.id);
  });

  it('during a bulk run of its own writes (graph batched until a pause) every new chunk is found by the next search and deleted ones never', async () => {
    const draw = clustered(19);
    const server = await graphStore();
    await fill(server, draw, [0, 1]);
    await server.prepareIndex();
    await server.indexSettled();
    // Back to back, as the indexer writes: no pause, so the graph takes none of these in yet.
    for (let f = 2; f < 30; f++) {
      const target = draw();
      const doc = docAt(f);
      const points: StoredPoint[] = pointsOf(doc).map((p, i) => ({ ...p, vector: i === f % PER_FILE ? target : draw() }));
      await server.replaceFile(fileOf(doc, points), points);
      expect((await dense(server, target, 1))[0]?.id).toBe(points[f % PER_FILE]!.id);
      if (f % 5 === 0) {
        await server.deleteFile(doc.path);
        expect((await dense(server, target, 50)).map((h) => h.payload.file_path)).not.toContain(doc.path);
      }
    }
    await server.indexSettled();
    const exact = await exactStore();
    for (let q = 0; q < 5; q++) {
      const query = draw();
      expectSameRanking(await dense(server, query, 10), await dense(exact, query, 10));
    }
    // Settled means the graph has taken in every write: the graph saved at close is current with SQLite.
    const rows = (await exact.stats()).points_count;
    await server.close();
    expect(readSavedIndex(file)?.vectors).toBe(rows);
  }, 120_000);

  it('stays exact while catching up with a large write by another process', async () => {
    const draw = clustered(13);
    const server = await graphStore();
    await fill(server, draw, [0, 1]);
    await server.prepareIndex();
    const cli = await openStore();
    // 2,500 changed rows: more than a search applies itself, so the graph catches up in the background.
    await fill(
      cli,
      draw,
      Array.from({ length: 50 }, (_, f) => f + 2),
    );
    const exact = await exactStore();
    for (let q = 0; q < 10; q++) {
      const query = draw();
      expectSameRanking(await dense(server, query, 10), await dense(exact, query, 10));
    }
    // And after the background catch-up has had its turns.
    for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 10));
    const query = draw();
    expectSameRanking(await dense(server, query, 10), await dense(exact, query, 10));
  }, 120_000);
});

describe('dense index: what a remembered share may decide', () => {
  /** `store` filled, and its filter on engineering (a third of the files and chunks, docAt) asked once. */
  async function engineeringAsked(seed: number, store: EmbeddedStore) {
    const draw = clustered(seed);
    await fill(store, draw, Array.from({ length: FILES }, (_, f) => f));
    await store.prepareIndex();
    const filters: SearchFilters = { taxonomy: 'engineering' };
    const key = filterKey(sqlFilter(normalizeFilters(filters)));
    const known = (store as unknown as { filterKnowledge: FilterKnowledge }).filterKnowledge;
    await dense(store, draw(), 10, filters);
    const remember = (share: number) => {
      known.at(key, (store as unknown as { changeStamp(): string }).changeStamp()).share = share;
    };
    return { draw, filters, learnt: known.share(key), shareNow: () => known.share(key), remember };
  }

  it('asks the graph, not an exact scan, when the share remembered from earlier queries guesses the filter smaller than it is', async () => {
    // The graph for every filter, but a filter estimated cheaper to scan than to ask the graph for is scanned (the default cost).
    const store = await openStore({ exactBelow: 0, exactFilterRows: 0 });
    const { draw, filters, learnt, shareNow, remember } = await engineeringAsked(8, store);
    expect(learnt).toBeGreaterThan(0.25);
    // One query whose neighbours held few of its chunks: taken alone, the share (0.2) says the filter's
    // 1,000 rows are 600, fewer than the 937 a scan is preferred under. Counted, they are not.
    remember(0.2);
    const query = draw();
    const exact = await exactStore();
    expectSameRanking(await dense(store, query, 10, filters), await dense(exact, query, 10, filters));
    // The graph was asked (a scan would have left the share as it was).
    expect(shareNow()).not.toBe(0.2);
  });

  it('asks the graph, not an exact scan, when the remembered share is far below the share the filter is counted to hold', async () => {
    const store = await openStore({ exactBelow: 0, exactFilterRows: 0 });
    const { draw, filters, remember } = await engineeringAsked(10, store);
    // One query whose neighbours held few of its chunks: at a share of 0.1 the graph would need 938 candidates
    // for the pool (75) to pass, costed as 1,406 rows scanned, more than the filter's 1,000 rows. At the third
    // the filter is counted to hold, 282 candidates, costed as 422 rows.
    remember(0.1);
    const asked = vi.spyOn(DenseIndex.prototype, 'search');
    const query = draw();
    const exact = await exactStore();
    expectSameRanking(await dense(store, query, 10, filters), await dense(exact, query, 10, filters));
    expect(asked).toHaveBeenCalled();
    asked.mockRestore();
  });

  it('does not ask the graph again when a first request sized from the remembered share passes the pool less its margin', async () => {
    const store = await graphStore();
    const { draw, filters, remember } = await engineeringAsked(9, store);
    const exact = await exactStore();
    const asked = vi.spyOn(DenseIndex.prototype, 'search');
    const queries = 12;
    for (let q = 0; q < queries; q++) {
      // Remembered a little above the filter's share: a first request passes about a tenth more than the pool,
      // so a few queries, whose neighbours hold fewer of its chunks, pass a few fewer.
      remember((1 / 3) * 1.15);
      const query = draw();
      expectSameRanking(await dense(store, query, 10, filters), await dense(exact, query, 10, filters));
    }
    expect(asked).toHaveBeenCalledTimes(queries);
    asked.mockRestore();
  });
});

describe('dense index: saved beside the database', () => {
  it('counts the vectors at open from the rowid index, which a store made before that index gets at open', async () => {
    const draw = clustered(5);
    const first = await graphStore();
    await fill(first, draw, [0, 1]);
    await first.prepareIndex();
    await first.close();
    // A store from before the index: its vectors' count was a scan of every vector's page.
    const old = openDatabase(file);
    old.exec('DROP INDEX IF EXISTS chunk_vectors_rowids');
    old.close();
    const reopened = await graphStore();
    await reopened.prepareIndex();
    expect(reopened.denseIndexState()).toBe('ready');
    const check = openDatabase(file);
    const plan = check.prepare('EXPLAIN QUERY PLAN SELECT count(*) AS n FROM chunk_vectors').all();
    const count = check.prepare('SELECT count(*) FROM chunk_vectors').pluck().get();
    check.close();
    expect(JSON.stringify(plan)).toContain('COVERING INDEX chunk_vectors_rowids');
    expect(count).toBe(2 * PER_FILE);
  });

  it('tests filters on rowids through the narrow index of the filter columns, which a store made before it gets at open', async () => {
    const draw = clustered(6);
    const first = await graphStore();
    await fill(first, draw, [0, 1, 2, 3]);
    await first.close();
    const old = openDatabase(file);
    old.exec(`DROP INDEX IF EXISTS ${FILTER_COLUMNS_INDEX}`);
    old.close();
    await openStore();
    const filter = sqlFilter(normalizeFilters({ taxonomy: 'engineering', content_type: ['markdown', 'code'] }, 'docs/guides/file-0.md'));
    const rowids = JSON.stringify(Array.from({ length: 4 * PER_FILE }, (_, i) => i + 1));
    const check = openDatabase(file);
    const plan = check.prepare(`EXPLAIN QUERY PLAN ${rowidsPassingSql(filter)}`).all('[]', ...filter.params);
    const passing = check.prepare(rowidsPassingSql(filter)).pluck().all(rowids, ...filter.params);
    // The same rows as the filter tested on the chunk rows themselves.
    const onRows = check.prepare(`SELECT c.rowid FROM chunks c NOT INDEXED WHERE c.rowid IN (SELECT value FROM json_each(?)) ${andWhere(filter, false)}`).pluck().all(rowids, ...filter.params);
    check.close();
    expect(JSON.stringify(plan)).toContain(`COVERING INDEX ${FILTER_COLUMNS_INDEX}`);
    expect(passing).toHaveLength(PER_FILE);
    expect(passing).toEqual(onRows);
  });

  it('is saved at close, reused at open, replays writes made since, and never trusted when it does not match', async () => {
    const draw = clustered(17);
    const first = await graphStore();
    await fill(first, draw, [0, 1, 2, 3]);
    await first.prepareIndex();
    await first.close();
    const saved = readSavedIndex(file);
    expect(saved?.count).toBe(4 * PER_FILE);
    const indexFile = path.join(dir, saved!.file);
    const savedAt = fs.statSync(indexFile).mtimeMs;

    // A writer without the graph (the CLI) adds and deletes; the next open replays exactly that.
    const cli = await openStore();
    await fill(cli, draw, [4, 5]);
    await cli.deleteFile(docAt(0).path);
    await cli.close();
    const second = await graphStore();
    await second.prepareIndex();
    const exact = await exactStore();
    for (let q = 0; q < 10; q++) {
      const query = draw();
      expectSameRanking(await dense(second, query, 10), await dense(exact, query, 10));
    }
    expect(fs.statSync(indexFile).mtimeMs).toBe(savedAt);
    await second.close();

    // A torn file (usearch would crash on it) is rebuilt instead.
    const now = readSavedIndex(file)!;
    const bytes = fs.readFileSync(path.join(dir, now.file));
    fs.writeFileSync(path.join(dir, now.file), bytes.subarray(0, bytes.length - 100));
    const third = await graphStore();
    await third.prepareIndex();
    const query = draw();
    expectSameRanking(await dense(third, query, 10), await dense(exact, query, 10));
    await third.close();
    // Rebuilt and saved whole (a multi-threaded build need not give the same bytes).
    const rebuilt = readSavedIndex(file)!;
    expect(fs.statSync(path.join(dir, rebuilt.file)).size).toBe(rebuilt.bytes);
    expect(rebuilt.count).toBe(5 * PER_FILE);

    // A saved graph of another database at the same path is never used.
    fs.writeFileSync(path.join(dir, 'library.sqlite.dense.json'), JSON.stringify({ ...readSavedIndex(file), store_id: 'another-store' }));
    const fourth = await graphStore();
    await fourth.prepareIndex();
    expect(readSavedIndex(file)?.store_id).not.toBe('another-store');
    expectSameRanking(await dense(fourth, query, 10), await dense(exact, query, 10));
    // Only the named file is left beside the database.
    expect(fs.readdirSync(dir).filter((n) => n.includes('.dense-'))).toEqual([readSavedIndex(file)!.file]);
  }, 120_000);

  it('answers exactly before the graph is ready', async () => {
    const draw = clustered(19);
    const writer = await openStore();
    await fill(writer, draw, [0, 1, 2, 3, 4, 5]);
    const store = await graphStore();
    expect(store.denseIndexState()).toBe('none');
    const exact = await exactStore();
    const query = draw();
    const before = await dense(store, query, 10);
    expect(store.denseIndexState()).toBe('opening');
    expectSameRanking(before, await dense(exact, query, 10));
    await store.prepareIndex();
    expect(store.denseIndexState()).toBe('ready');
    expectSameRanking(await dense(store, query, 10), await dense(exact, query, 10));
  });
});
