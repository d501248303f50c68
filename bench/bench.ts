/**
 * `npm run bench`: prints numbers, asserts nothing. Measures, on the embedded
 * default:
 *  - indexing throughput (chunk + embed + classify + store + dense index) with the local embedder, through the real indexer;
 *  - at 100k and 300k chunks of clustered 1024-dim vectors (`-- --scale 1m` adds 1M):
 *    write time, HNSW build time, reopen time, server-side dense / hybrid / filtered
 *    p50 and p95 (warm: the median of three passes over the queries; the first
 *    pass beside it), recall@10 against exact search, RSS, and the same queries
 *    through usearch alone on the same graph as the yardstick;
 *  - load: 20 developers over HTTP (search, similar, ask, upload): throughput and p50/p95 per route;
 *  - peak RSS.
 * BENCH_SIZES=10000,100000 and BENCH_QUERIES=200 change the sizes; BENCH_LOAD_SECONDS=60 the load run.
 * Reopen is also measured in a fresh process (`--reopen`, internal): what a restarted server has.
 * `npm run bench -- --developers` runs only the many-developers check (bench/developers.ts).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChunkPayload } from '../shared/api-types.js';
import { loadConfig } from '../server/config/settings.js';
import { md5, pointId } from '../server/indexing/point-id.js';
import { createServices } from '../server/services.js';
import { EmbeddedStore } from '../server/stores/embedded/store.js';
import { benchDevelopers } from './developers.js';
import { readSavedIndex } from '../server/stores/embedded/dense-index-file.js';
import { exactSearch, Index, MetricKind, ScalarKind, type BatchMatches } from 'usearch';
import { benchLoad } from './load.js';
import type { StoredPoint, StoreQuery } from '../server/stores/vector-store.js';
import { mulberry32 } from './random.js';
import { percentile } from './stats.js';

const scaleArg = process.argv.indexOf('--scale');
const SCALES: Record<string, number[]> = { default: [100_000, 300_000], '1m': [100_000, 300_000, 1_000_000], '1m-only': [1_000_000] };
const scale = scaleArg === -1 ? 'default' : (process.argv[scaleArg + 1] ?? '');
if (SCALES[scale] === undefined) throw new Error(`bench: --scale "${scale}" is unknown; use ${Object.keys(SCALES).join(', ')}`);
const SIZES = process.env.BENCH_SIZES ? process.env.BENCH_SIZES.split(',').map(Number) : SCALES[scale]!;
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const RECALL_QUERIES = 100;
/** Queries compared with a store that scans exactly (filtered and hybrid): an exact scan of 1M vectors takes seconds. */
const EXACT_COMPARED = 20;
const repoRoot = process.cwd();

/** A Zipf-like vocabulary: a few words are common, most are rare, as in real docs. */
function makeCorpus(seed: number) {
  const rand = mulberry32(seed);
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'de', 'po', 'qua', 'zen', 'tri', 'bel', 'dor', 'fin'];
  const vocab: string[] = [];
  for (let i = 0; i < 6000; i++) {
    let w = '';
    const n = 2 + Math.floor(rand() * 3);
    for (let j = 0; j < n; j++) w += syllables[Math.floor(rand() * syllables.length)];
    vocab.push(i % 50 === 0 ? `${w}Handler` : w);
  }
  const word = () => vocab[Math.min(vocab.length - 1, Math.floor(Math.pow(rand(), 2.2) * vocab.length))]!;
  const sentence = (n: number) => Array.from({ length: n }, word).join(' ') + '.';
  const chunkText = () => Array.from({ length: 4 + Math.floor(rand() * 6) }, () => sentence(8 + Math.floor(rand() * 10))).join(' ');
  return { rand, word, sentence, chunkText };
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function benchIndexing(withGraph: boolean): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ailib-bench-idx-'));
  const corpus = makeCorpus(1);
  const docs = 1000;
  for (let d = 0; d < docs; d++) {
    const sections = Array.from({ length: 5 }, (_, s) => `## Section ${s} ${corpus.word()}\n\n${corpus.chunkText()}\n\n${corpus.chunkText()}`);
    mkdirSync(path.join(root, 'library', `area${d % 20}`), { recursive: true });
    writeFileSync(path.join(root, 'library', `area${d % 20}`, `doc${d}.md`), `# Doc ${d}\n\n${sections.join('\n\n')}\n`);
  }
  const config = loadConfig({ CONFIG_DIR: path.join(repoRoot, 'configs'), LIBRARY_PATH: path.join(root, 'library'), DATA_DIR: path.join(root, 'data') }, root);
  const services = await createServices(config);
  // As the server does at start: the (empty) graph is open, so every write below also maintains it.
  if (withGraph) await services.store.prepareIndex?.();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const res = await services.indexer.indexAll();
  // Index maintenance included: the graph has taken in every chunk before the clock stops.
  if (withGraph) await services.store.indexSettled?.();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(
    `indexing${withGraph ? ', dense index maintained' : ', SQLite only (as the CLI)'}: ${res.summary.indexed} files, ${res.summary.chunks} chunks in ${seconds.toFixed(2)} s ` +
      `(${cpuSeconds.toFixed(2)} s CPU) = ${(res.summary.chunks / seconds).toFixed(0)} chunks/s`,
  );
  const again = performance.now();
  const second = await services.indexer.indexAll();
  console.log(`re-index (all unchanged): ${second.summary.unchanged} files in ${((performance.now() - again) / 1000).toFixed(2)} s`);
  await services.close();
  rmSync(root, { recursive: true, force: true });
}

/**
 * Vectors shaped like real embeddings (docs/… and the team's measuring notes):
 * 1024 dims, points drawn around 1,000 gaussian centres and L2-normalised;
 * queries drawn the same way, never stored. Seeded, so the truth pass can draw
 * the same vectors again instead of holding them all.
 */
const DIM = 1024;
const CENTRES = 1000;
/** Noise per point relative to its centre (≈ cosine 0.75 to the centre). */
const SPREAD = 0.9;

function clusteredVectors(seed: number) {
  const rand = mulberry32(seed);
  let spare: number | null = null;
  const gauss = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const m = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * rand();
    spare = m * Math.sin(a);
    return m * Math.cos(a);
  };
  const centres = new Float32Array(CENTRES * DIM);
  for (let i = 0; i < centres.length; i++) centres[i] = gauss() / Math.sqrt(DIM);
  return (): Float32Array => {
    const c = Math.floor(rand() * CENTRES) * DIM;
    const v = new Float32Array(DIM);
    let n = 0;
    for (let j = 0; j < DIM; j++) {
      const x = centres[c + j]! + (SPREAD * gauss()) / Math.sqrt(DIM);
      v[j] = x;
      n += x * x;
    }
    n = Math.sqrt(n);
    for (let j = 0; j < DIM; j++) v[j]! /= n;
    return v;
  };
}

const PER_FILE = 50;
const BENCH_EMBEDDER = { id: 'bench-clustered-1024', dimension: DIM };

/** Exact top-10 ids per query, streaming the stored vectors page by page through usearch's exact (brute-force) kernel. */
async function exactTruth(store: EmbeddedStore, queries: Float32Array[], k: number): Promise<Array<Set<string>>> {
  const best = queries.map(() => [] as Array<{ id: string; s: number }>);
  const flat = new Float32Array(queries.length * DIM);
  queries.forEach((q, i) => flat.set(q, i * DIM));
  for (let cursor: string | null = null, first = true; first || cursor; first = false) {
    const page: { points: StoredPoint[]; next: string | null } = await store.scroll(cursor, 5000);
    const data = new Float32Array(page.points.length * DIM);
    page.points.forEach((p, i) => data.set(p.vector, i * DIM));
    const found = exactSearch(data, flat, DIM, Math.min(k, page.points.length), MetricKind.Cos, 0) as BatchMatches;
    for (let q = 0; q < queries.length; q++) {
      const m = found.get(q);
      m.keys.forEach((key, j) => best[q]!.push({ id: page.points[Number(key)]!.id, s: 1 - m.distances[j]! }));
      best[q]!.sort((a, b) => b.s - a.s);
      best[q]!.length = Math.min(best[q]!.length, k);
    }
    cursor = page.next;
  }
  return best.map((b) => new Set(b.map((x) => x.id)));
}

function recallAt10(found: string[][], truth: Array<Set<string>>): number {
  let hits = 0;
  found.forEach((ids, q) => (hits += ids.slice(0, 10).filter((id) => truth[q]!.has(id)).length));
  return hits / (truth.length * 10);
}

/**
 * Passes over the query set after the first, the "warm, median of
 * repeats". The first pass is printed beside them: it reads what the build
 * left cold (on this VM the kernel pages out file pages idle for a minute,
 * so after a build of several minutes most of the store is on disk again).
 */
const WARM_PASSES = 3;

interface Timing {
  first: number[];
  warm: number[][];
}

async function timed(queries: number, run: (q: number) => Promise<unknown>): Promise<Timing> {
  const pass = async () => {
    const times: number[] = [];
    for (let q = 0; q < queries; q++) {
      const t = performance.now();
      await run(q);
      times.push(performance.now() - t);
    }
    return times;
  };
  const first = await pass();
  const warm: number[][] = [];
  for (let r = 0; r < WARM_PASSES; r++) warm.push(await pass());
  return { first, warm };
}

const p50p95 = (p50: number, p95: number) => `p50 ${p50.toFixed(2)} / p95 ${p95.toFixed(2)} ms`;
const medianOf = (values: number[]) => percentile(values, 50);
const ms = ({ first, warm }: Timing) =>
  `${p50p95(medianOf(warm.map((t) => percentile(t, 50))), medianOf(warm.map((t) => percentile(t, 95))))} (first pass ${p50p95(percentile(first, 50), percentile(first, 95))})`;

async function benchSearch(size: number): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ailib-bench-search-'));
  const dbFile = path.join(root, 'bench.sqlite');
  let store = new EmbeddedStore(dbFile);
  await store.init(BENCH_EMBEDDER);
  const corpus = makeCorpus(size);
  const draw = clusteredVectors(size);
  const now = new Date().toISOString();
  const texts: string[] = [];
  const loadStart = performance.now();
  for (let f = 0; f * PER_FILE < size; f++) {
    const filePath = `bench/area${f % 20}/file${f}.md`;
    const points: StoredPoint[] = [];
    for (let i = 0; i < PER_FILE && f * PER_FILE + i < size; i++) {
      const content = corpus.chunkText();
      if (texts.length < 2000) texts.push(content);
      const hash = md5(content);
      const payload: ChunkPayload = {
        file_path: filePath,
        content,
        content_type: f % 4 === 0 ? 'code' : 'markdown',
        language: null,
        section: `Section ${i}`,
        start_line: i * 10 + 1,
        end_line: i * 10 + 9,
        chunk_index: i,
        content_hash: hash,
        file_hash: filePath,
        taxonomy: { full_path: `area${f % 5}/sub${f % 20}`, level1: `area${f % 5}`, level2: `sub${f % 20}` },
        classification: { confidence: 0.5 },
        contributor: null,
        created_at: now,
        updated_at: now,
      };
      points.push({ id: pointId(filePath, i, hash), vector: draw(), payload });
    }
    await store.replaceFile(
      { file_path: filePath, file_hash: filePath, chunk_count: points.length, content_type: points[0]!.payload.content_type, taxonomy: points[0]!.payload.taxonomy, confidence: 0.5, contributor: null, indexed_at: now },
      points,
    );
  }
  console.log(`\n${size} chunks (clustered ${DIM}-dim): written to SQLite in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);
  let t = performance.now();
  await store.prepareIndex();
  console.log(`  HNSW build from SQLite (background, one insert thread): ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const queryVectors = Array.from({ length: QUERIES }, () => draw());
  const queryTexts = queryVectors.map(() => {
    const source = texts[Math.floor(corpus.rand() * texts.length)]!.split(' ');
    const start = Math.floor(corpus.rand() * Math.max(1, source.length - 6));
    return source.slice(start, start + 4).join(' ');
  });

  // Reopen: the graph saved by close() is loaded (or mapped) and checked against SQLite; then the first dense answer.
  await store.close();
  t = performance.now();
  store = new EmbeddedStore(dbFile);
  await store.init(BENCH_EMBEDDER);
  await store.prepareIndex();
  await store.search({ mode: 'dense', vector: queryVectors[0]!, limit: 10 });
  console.log(`  reopen to first indexed answer: ${((performance.now() - t) / 1000).toFixed(2)} s (graph ${store.denseIndexState()})`);

  const dense = await timed(QUERIES, (q) => store.search({ mode: 'dense', vector: queryVectors[q]!, limit: 10 }));
  const hybrid = await timed(QUERIES, (q) => store.search({ mode: 'hybrid', vector: queryVectors[q]!, text: queryTexts[q]!, limit: 10 }));
  const filteredDense = await timed(QUERIES, (q) => store.search({ mode: 'dense', vector: queryVectors[q]!, limit: 10, filters: { taxonomy: 'area2' } }));
  const filteredHybrid = await timed(QUERIES, (q) =>
    store.search({ mode: 'hybrid', vector: queryVectors[q]!, text: queryTexts[q]!, limit: 10, filters: { taxonomy: 'area2', content_type: 'markdown' } }),
  );
  const selective = await timed(QUERIES, (q) =>
    store.search({ mode: 'hybrid', vector: queryVectors[q]!, text: queryTexts[q]!, limit: 10, filters: { file_path: `bench/area${q % 20}/` } }),
  );
  console.log(`  dense                               ${ms(dense)}`);
  console.log(`  hybrid                              ${ms(hybrid)}`);
  console.log(`  dense, taxonomy filter (20 %)       ${ms(filteredDense)}`);
  console.log(`  hybrid, taxonomy + type (15 %)      ${ms(filteredHybrid)}`);
  console.log(`  hybrid, folder filter (5 %)         ${ms(selective)}`);
  console.log(`  RSS after reopen and searches: ${mb(process.memoryUsage().rss)}`);

  const recallQueries = queryVectors.slice(0, RECALL_QUERIES);
  const truth = await exactTruth(store, recallQueries, 10);
  const found: string[][] = [];
  for (const q of recallQueries) found.push((await store.search({ mode: 'dense', vector: q, limit: 10 })).map((p) => p.id));
  const exactStore = new EmbeddedStore(dbFile, { denseIndex: false });
  await exactStore.init(BENCH_EMBEDDER);
  // Each against the same search on a store that scans exactly: the share of its top 10 found.
  const compared = Math.min(EXACT_COMPARED, recallQueries.length);
  const sameAsExact = async (query: (q: number) => StoreQuery): Promise<string> => {
    let same = 0;
    for (let q = 0; q < compared; q++) {
      const got = (await store.search(query(q))).map((p) => p.id);
      const exact = (await exactStore.search(query(q))).map((p) => p.id);
      same += got.filter((id) => exact.includes(id)).length;
    }
    return (same / (compared * 10)).toFixed(3);
  };
  const filters = { taxonomy: 'area2', content_type: 'markdown' as const };
  const filteredSame = await sameAsExact((q) => ({ mode: 'dense', vector: recallQueries[q]!, limit: 10, filters }));
  const hybridSame = await sameAsExact((q) => ({ mode: 'hybrid', vector: recallQueries[q]!, text: queryTexts[q]!, limit: 10 }));
  const filteredHybridSame = await sameAsExact((q) => ({ mode: 'hybrid', vector: recallQueries[q]!, text: queryTexts[q]!, limit: 10, filters }));
  await exactStore.close();
  console.log(`  dense recall@10 vs exact: ${recallAt10(found, truth).toFixed(3)}; filtered (taxonomy + type) vs exact filtered: ${filteredSame}`);
  console.log(`  hybrid vs exact hybrid: ${hybridSame}; filtered (taxonomy + type): ${filteredHybridSame}`);

  await store.close();
  console.log(`  ${await reopenInFreshProcess(dbFile, size)}`);
  store = new EmbeddedStore(dbFile);
  await store.init(BENCH_EMBEDDER);
  await store.prepareIndex();

  // The yardstick: the same queries through usearch alone, on the same graph file mapped read-only (no SQLite, no re-rank).
  const saved = readSavedIndex(dbFile);
  if (saved !== null) {
    const raw = new Index({ dimensions: DIM, metric: MetricKind.Cos, quantization: ScalarKind.I8, connectivity: 32, expansion_add: 128, expansion_search: 320, multi: false });
    t = performance.now();
    raw.view(path.join(root, saved.file));
    const viewMs = performance.now() - t;
    const int8 = (v: Float32Array) => {
      let m = 0;
      for (const x of v) m = Math.max(m, Math.abs(x));
      return Int8Array.from(v, (x) => Math.round((x / m) * 127));
    };
    const q8 = queryVectors.map(int8);
    const rawTimes = await timed(QUERIES, async (q) => raw.search(q8[q]!, 10, 1));
    const ids = await idsByRowid(store, recallQueries.map((_, q) => [...raw.search(q8[q]!, 10, 1).keys].map(Number)));
    console.log(`  yardstick: usearch alone, same graph memory-mapped (opened in ${viewMs.toFixed(0)} ms): ${ms(rawTimes)}, recall@10 ${recallAt10(ids, truth).toFixed(3)}`);
  }
  await store.close();
  rmSync(root, { recursive: true, force: true });
}

/**
 * What a restarted server has: a process that never held the store opens it
 * (the saved graph memory-mapped and checked against SQLite), answers a first
 * dense search, then runs dense and hybrid searches; its time to that first
 * answer and its RSS are what the operator sees, free of what the writing
 * and building process kept.
 */
async function reopenInFreshProcess(dbFile: string, size: number): Promise<string> {
  const child = spawn(process.execPath, [process.argv[1]!, '--reopen', dbFile, String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  // The store's own log lines may share stdout; the child's result is the line it prints.
  const line = out.split('\n').find((l) => l.startsWith('fresh process'));
  return code === 0 && line !== undefined ? line : `fresh process: failed with exit code ${String(code)}`;
}

/**
 * RSS split as Linux reports it: anonymous memory (heap, SQLite's caches) and
 * file pages, mostly the memory-mapped graph, which are page cache the kernel
 * can drop under pressure and read again.
 */
function rssParts(): string {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const anon = kb('RssAnon');
    const file = kb('RssFile');
    return Number.isFinite(anon) && Number.isFinite(file) ? ` (${mb(anon * 1024)} anonymous, ${mb(file * 1024)} file pages, mostly the mapped graph)` : '';
  } catch {
    return '';
  }
}

async function reopenChild(dbFile: string, size: number): Promise<void> {
  const started = performance.now();
  const store = new EmbeddedStore(dbFile);
  await store.init(BENCH_EMBEDDER);
  await store.prepareIndex();
  const draw = clusteredVectors(size);
  await store.search({ mode: 'dense', vector: draw(), limit: 10 });
  const first = (performance.now() - started) / 1000;
  const corpus = makeCorpus(size);
  for (let q = 0; q < QUERIES; q++) {
    await store.search({ mode: 'dense', vector: draw(), limit: 10 });
    await store.search({ mode: 'hybrid', vector: draw(), text: `${corpus.word()} ${corpus.word()} ${corpus.word()}`, limit: 10 });
  }
  console.log(
    `fresh process (a server restart): first dense answer ${first.toFixed(2)} s after open (graph ${store.denseIndexState()}); ` +
      `RSS ${mb(process.memoryUsage().rss)}${rssParts()} after ${QUERIES} dense + ${QUERIES} hybrid searches`,
  );
  await store.close();
}

/** The point ids behind usearch keys (SQLite rowids), read straight from the bench's database. */
async function idsByRowid(store: EmbeddedStore, rowids: number[][]): Promise<string[][]> {
  const byRowid = new Map<number, string>();
  // The bench writes every row once, in order, so rowids run 1..N in scroll order.
  for (let cursor: string | null = null, first = true; first || cursor; first = false) {
    const page: { points: StoredPoint[]; next: string | null } = await store.scroll(cursor, 5000);
    let r = cursor === null ? 0 : Number(cursor);
    for (const p of page.points) byRowid.set(++r, p.id);
    cursor = page.next;
  }
  return rowids.map((list) => list.map((r) => byRowid.get(r) ?? ''));
}

const reopenArg = process.argv.indexOf('--reopen');
if (reopenArg !== -1) {
  // The child of reopenInFreshProcess: prints one line, nothing else.
  clearInterval(sampler);
  await reopenChild(process.argv[reopenArg + 1] ?? '', Number(process.argv[reopenArg + 2]));
  process.exit(0);
}
console.log(`AI Library bench — node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
if (process.argv.includes('--developers')) {
  // Only the many-developers run (bench/developers.ts): it asserts, so its exit code says whether a write was lost.
  clearInterval(sampler);
  process.exit(await benchDevelopers());
}
// `-- --only indexing,search,load` runs some parts (e.g. to profile one with --cpu-prof).
const onlyArg = process.argv.indexOf('--only');
const parts = onlyArg === -1 ? ['indexing', 'search', 'load'] : (process.argv[onlyArg + 1] ?? '').split(',');
if (parts.includes('indexing')) {
  await benchIndexing(false);
  await benchIndexing(true);
}
if (parts.includes('search')) for (const size of SIZES) await benchSearch(size);
if (parts.includes('load')) await benchLoad();
clearInterval(sampler);
console.log(`\npeak RSS ${mb(Math.max(peakRss, process.resourceUsage().maxRSS * 1024))}`);
