/**
 * `npm run bench`: prints numbers, asserts nothing. Measures, on the embedded
 * default with the local embedder:
 *  - indexing throughput (chunk + embed + classify + store) through the real indexer;
 *  - server-side search latency (hybrid, dense, keyword) at 10k and 100k chunks;
 *  - recall@10 of the dense coarse pass + exact re-rank against exact brute force;
 *  - load: 20 developers over HTTP (search, similar, ask, upload): throughput and p50/p95 per route;
 *  - peak RSS.
 * BENCH_SIZES=10000,100000 and BENCH_QUERIES=200 change the sizes; BENCH_LOAD_SECONDS=60 the load run.
 * `npm run bench -- --developers` runs only the many-developers check (bench/developers.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChunkPayload } from '../shared/api.js';
import { loadConfig } from '../server/config/settings.js';
import { LocalEmbedder } from '../server/embedders/local.js';
import { md5, pointId } from '../server/indexing/point-id.js';
import { SearchService } from '../server/retrieval/search.js';
import { cosine } from '../server/retrieval/vector-math.js';
import { createServices } from '../server/services.js';
import { EmbeddedStore } from '../server/stores/embedded.js';
import { benchDevelopers } from './developers.js';
import { benchLoad } from './load.js';
import type { StoredPoint } from '../server/stores/vector-store.js';
import { mulberry32 } from './random.js';

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
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

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function benchIndexing(): Promise<void> {
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
  const started = performance.now();
  const res = await services.indexer.indexAll();
  const seconds = (performance.now() - started) / 1000;
  console.log(`indexing: ${res.summary.indexed} files, ${res.summary.chunks} chunks in ${seconds.toFixed(2)} s = ${(res.summary.chunks / seconds).toFixed(0)} chunks/s`);
  const again = performance.now();
  const second = await services.indexer.indexAll();
  console.log(`re-index (all unchanged): ${second.summary.unchanged} files in ${((performance.now() - again) / 1000).toFixed(2)} s`);
  await services.close();
  rmSync(root, { recursive: true, force: true });
}

async function benchSearch(size: number): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ailib-bench-search-'));
  const store = new EmbeddedStore(path.join(root, 'bench.sqlite'));
  const embedder = new LocalEmbedder();
  await store.init({ id: embedder.id, dimension: embedder.dimension });
  const corpus = makeCorpus(size);
  const perFile = 50;
  const now = new Date().toISOString();
  const texts: string[] = [];
  const loadStart = performance.now();
  for (let f = 0; f * perFile < size; f++) {
    const filePath = `bench/area${f % 20}/file${f}.md`;
    const points: StoredPoint[] = [];
    for (let i = 0; i < perFile && f * perFile + i < size; i++) {
      const content = corpus.chunkText();
      if (texts.length < 2000) texts.push(content);
      const hash = md5(content);
      const payload: ChunkPayload = {
        file_path: filePath,
        content,
        content_type: 'markdown',
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
      points.push({ id: pointId(filePath, i, hash), vector: embedder.embedOne(content), payload });
    }
    await store.replaceFile(
      { file_path: filePath, file_hash: filePath, chunk_count: points.length, content_type: 'markdown', taxonomy: points[0]!.payload.taxonomy, confidence: 0.5, contributor: null, indexed_at: now },
      points,
    );
  }
  console.log(`\n${size} chunks: loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);
  const search = new SearchService(store, embedder);
  const queries = Array.from({ length: QUERIES }, (_, i) => {
    const source = texts[Math.floor(corpus.rand() * texts.length)]!.split(' ');
    const start = Math.floor(corpus.rand() * Math.max(1, source.length - 6));
    return i % 2 === 0 ? source.slice(start, start + 4).join(' ') : `${corpus.word()} ${corpus.word()} ${corpus.word()}`;
  });
  for (const mode of ['hybrid', 'dense', 'keyword'] as const) {
    for (const q of queries.slice(0, 10)) await search.search({ query: q, mode }); // warm caches
    const times: number[] = [];
    for (const q of queries) {
      const t = performance.now();
      await search.search({ query: q, mode, n_results: 10 });
      times.push(performance.now() - t);
    }
    console.log(`  search ${mode.padEnd(7)} p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms`);
  }
  const filtered: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    await search.search({ query: q, filters: { taxonomy: 'area2' } });
    filtered.push(performance.now() - t);
  }
  console.log(`  search hybrid, taxonomy filter p50 ${percentile(filtered, 50).toFixed(1)} ms, p95 ${percentile(filtered, 95).toFixed(1)} ms`);

  // RSS of the serving process at this size, before the bench's own bookkeeping below.
  console.log(`  RSS after load and searches: ${mb(process.memoryUsage().rss)}`);

  // Recall of the coarse pass: exact cosine over every stored vector is the truth,
  // streamed page by page so the bench itself does not hold every vector.
  const recallQueries = queries.slice(0, 50).map((q) => embedder.embedOne(q));
  const truth = recallQueries.map(() => [] as Array<{ id: string; s: number }>);
  for (let cursor: string | null = null, first = true; first || cursor; first = false) {
    const page: { points: StoredPoint[]; next: string | null } = await store.scroll(cursor, 2000);
    for (const p of page.points) {
      recallQueries.forEach((qv, qi) => {
        const top = truth[qi]!;
        const s = cosine(qv, p.vector);
        if (top.length < 10 || s > top[top.length - 1]!.s) {
          top.push({ id: p.id, s });
          top.sort((a, b) => b.s - a.s);
          if (top.length > 10) top.pop();
        }
      });
    }
    cursor = page.next;
  }
  let hits = 0;
  for (const [qi, qv] of recallQueries.entries()) {
    const got = new Set((await store.search({ mode: 'dense', vector: qv, limit: 10 })).map((p) => p.id));
    hits += truth[qi]!.filter((t) => got.has(t.id)).length;
  }
  console.log(`  dense recall@10 vs exact: ${(hits / (recallQueries.length * 10)).toFixed(3)}`);
  await store.close();
  rmSync(root, { recursive: true, force: true });
}

console.log(`AI Library bench — node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
if (process.argv.includes('--developers')) {
  // Only the many-developers run (bench/developers.ts): it asserts, so its exit code says whether a write was lost.
  clearInterval(sampler);
  process.exit(await benchDevelopers());
}
await benchIndexing();
for (const size of SIZES) await benchSearch(size);
await benchLoad();
clearInterval(sampler);
console.log(`\npeak RSS ${mb(Math.max(peakRss, process.resourceUsage().maxRSS * 1024))}`);
