import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChunkPayload } from '../../shared/api-types.js';
import { ConfigError } from '../../server/config/settings.js';
import { pointId } from '../../server/indexing/point-id.js';
import { bm25Text } from '../../server/stores/qdrant/bm25.js';
import { insecureKeyWarning, qdrantEndpoint } from '../../server/stores/qdrant/client.js';
import { BM25_MODEL, MAX_BATCH_POINTS, PAYLOAD_INDEXES, REQUEST_CAP_BYTES, VECTOR_PROFILES, type VectorProfile } from '../../server/stores/qdrant/layout.js';
import { QdrantStore, type QdrantStoreOptions } from '../../server/stores/qdrant/store.js';
import { fuseScores, hybridSideLimit } from '../../server/fusion/score-fusion.js';
import { EmbedderMismatchError, StoreUnavailableError, type FileRecord, type StoredPoint } from '../../server/stores/vector-store.js';
import { QdrantRecorder, arr, obj, type RecordedRequest } from '../fakes/qdrant-recorder.js';

const EMBEDDER = { id: 'test-embedder:8', dimension: 8 };
const SECRET = 'sk-qdrant-test-7f3a9c1e';

function unitVector(dim: number, seed: number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.sin(seed * 31 + i * 7) + 0.01;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function makeFile(filePath: string, count: number, dim: number, hash = 'h1'): { file: FileRecord; points: StoredPoint[] } {
  const taxonomy = { full_path: 'engineering/backend', level1: 'engineering', level2: 'backend' };
  const now = '2026-01-23T10:00:00.000Z';
  const points = Array.from({ length: count }, (_, i): StoredPoint => {
    const content = `Chunk ${i} of ${filePath}: snapshots, backups and the recovery procedure. `.repeat(3);
    const payload: ChunkPayload = {
      file_path: filePath,
      content,
      content_type: 'markdown',
      language: null,
      section: `Section ${i}`,
      start_line: i * 10 + 1,
      end_line: i * 10 + 9,
      chunk_index: i,
      content_hash: `c${i}-${hash}`,
      file_hash: hash,
      taxonomy,
      classification: { confidence: 0.75 },
      contributor: 'alice',
      created_at: now,
      updated_at: now,
    };
    return { id: pointId(filePath, i, `c${i}-${hash}`), vector: unitVector(dim, i + 1), payload };
  });
  const file: FileRecord = {
    file_path: filePath,
    file_hash: hash,
    chunk_count: count,
    content_type: 'markdown',
    taxonomy,
    confidence: 0.75,
    contributor: 'alice',
    indexed_at: now,
  };
  return { file, points };
}

let collectionSeq = 0;
function freshName(): string {
  collectionSeq += 1;
  return `test_collection_${collectionSeq}`;
}

function body(r: RecordedRequest | undefined): Record<string, unknown> {
  expect(r, 'request was recorded').toBeDefined();
  return obj(r?.body);
}

describe('QdrantStore against a recording Qdrant', () => {
  let rec: QdrantRecorder;
  const warnings: string[] = [];

  beforeAll(async () => {
    rec = await QdrantRecorder.start();
  });
  afterAll(async () => {
    await rec.close();
  });
  beforeEach(() => {
    rec.clear();
    warnings.length = 0;
  });

  function store(opts: Partial<QdrantStoreOptions> = {}): QdrantStore {
    return new QdrantStore({ url: rec.url, collection: freshName(), warn: (m) => warnings.push(m), ...opts });
  }

  it('creates the collection: named dense vector (cosine), sparse bm25 with idf, embedder in metadata', async () => {
    const s = store();
    await s.init(EMBEDDER);
    const create = rec.find('PUT', new RegExp(`^/collections/${s.collection}$`));
    expect(create).toHaveLength(1);
    expect(body(create[0])).toMatchObject({
      vectors: { dense: { size: 8, distance: 'Cosine' } },
      sparse_vectors: { bm25: { modifier: 'idf' } },
      metadata: { ai_library: { embedder_id: EMBEDDER.id, dimension: 8 } },
    });
    expect(s.location).toBe(`${rec.url}/collections/${s.collection}`);
  });

  it('creates every payload index right after the collection, with the seed schema types', async () => {
    const s = store();
    await s.init(EMBEDDER);
    const createAt = rec.requests.findIndex((r) => r.method === 'PUT' && r.path === `/collections/${s.collection}`);
    const indexRequests = rec.requests.map((r, i) => ({ r, i })).filter(({ r }) => r.method === 'PUT' && r.path === `/collections/${s.collection}/index`);
    const created = Object.fromEntries(indexRequests.map(({ r }) => [String(body(r).field_name), body(r).field_schema]));
    expect(created).toEqual({
      content_type: 'keyword',
      'taxonomy.full_path': 'keyword',
      'taxonomy.level1': 'keyword',
      'taxonomy.level2': 'keyword',
      file_path: 'keyword',
      content_hash: 'keyword',
      'classification.confidence': 'float',
      created_at: 'datetime',
      updated_at: 'datetime',
      file_dirs: 'keyword',
    });
    expect(indexRequests).toHaveLength(PAYLOAD_INDEXES.length);
    // Right after creation: the index requests follow the create with nothing in between.
    expect(indexRequests.map(({ i }) => i)).toEqual(PAYLOAD_INDEXES.map((_, k) => createAt + 1 + k));
    expect(indexRequests.every(({ r }) => r.query.wait === 'true')).toBe(true);
  });

  it('is idempotent: a second init on an existing collection creates nothing', async () => {
    const name = freshName();
    await store({ collection: name }).init(EMBEDDER);
    rec.clear();
    await store({ collection: name }).init(EMBEDDER);
    expect(rec.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    expect(rec.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /', `GET /collections/${name}/exists`, `GET /collections/${name}`]);
  });

  it.each<VectorProfile>(['high_accuracy', 'balanced', 'fast_query'])('applies the %s profile at creation and query time', async (profile) => {
    const s = store({ profile });
    await s.init(EMBEDDER);
    const p = VECTOR_PROFILES[profile];
    const create = body(rec.find('PUT', new RegExp(`^/collections/${s.collection}$`))[0]);
    expect(create.hnsw_config).toEqual({ m: p.m, ef_construct: p.ef_construct });
    if (profile === 'fast_query') expect(create.quantization_config).toEqual({ scalar: { type: 'int8', quantile: 0.99, always_ram: true } });
    else expect(create.quantization_config).toBeNull();
    await s.search({ mode: 'dense', vector: unitVector(8, 1), limit: 5 });
    const q = body(rec.find('POST', /\/points\/query$/)[0]);
    expect(obj(q.params).hnsw_ef).toBe(p.hnsw_ef);
    expect('quantization' in obj(q.params)).toBe(p.int8);
    expect(warnings).toEqual([]);
  });

  it('warns once that prefer_grpc is ignored', async () => {
    const s = store({ preferGrpc: true });
    await s.init(EMBEDDER);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/prefer_grpc: ignored/);
  });

  it('sends hybrid search as one request, both sides with payloads, fused as the embedded store fuses them', async () => {
    const s = store();
    await s.init(EMBEDDER);
    const { file, points } = makeFile('guides/ops/backups.md', 3, 8);
    await s.replaceFile(file, points);
    rec.clear();
    const vector = unitVector(8, 42);
    const weights = { dense: 0.5, keyword: 1 };
    const results = await s.search({
      mode: 'hybrid',
      vector,
      text: 'restore snapshot',
      limit: 2,
      filters: { taxonomy: 'engineering', content_type: ['markdown', 'code'], file_path: 'guides/' },
      excludeFilePath: 'guides/other.md',
      weights,
    });
    expect(rec.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /collections/${s.collection}/points/query/batch`]);
    const searches = arr(body(rec.requests[0]).searches).map(obj);
    expect(searches).toHaveLength(2);
    const [dense, sparse] = searches;
    const filter = {
      must: [
        { key: 'taxonomy.level1', match: { value: 'engineering' } },
        { key: 'content_type', match: { any: ['markdown', 'code'] } },
        { key: 'file_dirs', match: { value: 'guides/' } },
      ],
      must_not: [{ key: 'file_path', match: { value: 'guides/other.md' } }],
    };
    expect(hybridSideLimit(2)).toBe(50);
    const withPayload = { with_payload: { exclude: ['file', 'file_dirs'] }, with_vector: false };
    expect(dense).toMatchObject({ using: 'dense', limit: 50, filter, params: { hnsw_ef: VECTOR_PROFILES.balanced.hnsw_ef }, ...withPayload });
    expect(arr(dense?.query)).toHaveLength(8);
    expect(arr(dense?.query)[0]).toBeCloseTo(vector[0] ?? NaN, 6);
    expect(sparse).toEqual({ using: 'bm25', limit: 50, filter, query: { text: 'restore snapshot', model: BM25_MODEL }, ...withPayload });

    // The fake scores both sides 0.9, 0.8, 0.7 in insertion order: the fusion is fuseScores' of those lists.
    const side = points.map((p, i) => ({ id: p.id, score: 0.9 - i * 0.1 }));
    const expected = fuseScores(side, side, weights);
    expect(results.map((r) => r.id)).toEqual(points.slice(0, 2).map((p) => p.id));
    expect(results[0]).toMatchObject({ dense: 0.9, keyword: 0.9 });
    expect(results[0]!.fused).toBeCloseTo(expected.get(points[0]!.id)!, 12);
    expect(results[1]!.fused).toBeCloseTo(expected.get(points[1]!.id)!, 12);
    // The payload comes back as ChunkPayload: Qdrant-only keys are stripped.
    expect(results[0]?.payload).toEqual(points[0]?.payload);
  });

  it('maps a two-level taxonomy to full_path and an exact file path to file_path; dense and keyword use one side', async () => {
    const s = store();
    await s.init(EMBEDDER);
    rec.clear();
    await s.search({ mode: 'dense', vector: unitVector(8, 1), limit: 4, filters: { taxonomy: 'engineering/backend', file_path: 'a/b.md' } });
    await s.search({ mode: 'keyword', text: 'computeChecksumMd5', limit: 4, filters: { content_type: 'code' } });
    const [dense, keyword] = rec.find('POST', /\/points\/query$/).map(body);
    expect(dense).toMatchObject({
      using: 'dense',
      filter: { must: [{ key: 'taxonomy.full_path', match: { value: 'engineering/backend' } }, { key: 'file_path', match: { value: 'a/b.md' } }] },
    });
    expect(dense?.prefetch).toBeUndefined();
    expect(keyword).toMatchObject({
      using: 'bm25',
      // The same identifier expansion the embedded store's FTS query uses.
      query: { text: 'computeChecksumMd5\ncomputechecksummd5 compute checksum md5', model: BM25_MODEL },
      filter: { must: [{ key: 'content_type', match: { any: ['code'] } }] },
    });
  });

  it('reads filters as the embedded store does (stores/filters.ts): "/docs//" is the folder docs/, "/" and [] filter nothing', async () => {
    const s = store();
    await s.init(EMBEDDER);
    rec.clear();
    await s.search({ mode: 'dense', vector: unitVector(8, 1), limit: 4, filters: { file_path: '/docs//', taxonomy: ' /engineering// ' } });
    await s.search({ mode: 'dense', vector: unitVector(8, 1), limit: 4, filters: { file_path: '/', content_type: [] } });
    const [folder, everything] = rec.find('POST', /\/points\/query$/).map(body);
    expect(folder?.filter).toEqual({
      must: [
        { key: 'taxonomy.level1', match: { value: 'engineering' } },
        { key: 'file_dirs', match: { value: 'docs/' } },
      ],
    });
    expect(everything?.filter).toBeUndefined();
  });

  it('upserts 600 points of 1024 dims in batches under the 32 MB cap (wait=true), then deletes stale points', async () => {
    const s = store();
    await s.init({ id: 'big:1024', dimension: 1024 });
    rec.clear();
    const { file, points } = makeFile('big/file.md', 600, 1024);
    await s.replaceFile(file, points);
    const upserts = rec.requests.map((r, i) => ({ r, i })).filter(({ r }) => r.method === 'PUT' && r.path.endsWith('/points'));
    expect(upserts.length).toBeGreaterThanOrEqual(3);
    for (const { r } of upserts) {
      expect(r.bytes).toBeLessThan(REQUEST_CAP_BYTES);
      expect(r.query.wait).toBe('true');
      expect(arr(body(r).points).length).toBeLessThanOrEqual(MAX_BATCH_POINTS);
    }
    const sent = upserts.flatMap(({ r }) => arr(body(r).points).map((p) => String(obj(p).id)));
    expect(sent.sort()).toEqual(points.map((p) => p.id).sort());
    const first = obj(arr(body(upserts[0]?.r).points)[0]);
    expect(obj(first.vector).bm25).toEqual({ text: bm25Text(points[0]!.payload), model: BM25_MODEL });
    expect(bm25Text(points[0]!.payload)).toBe(`Section 0\n${points[0]!.payload.content}\nbig/file.md`);
    expect(arr(obj(first.vector).dense)).toHaveLength(1024);
    expect(obj(first.payload)).toMatchObject({ ...points[0]?.payload, file: { chunk_count: 600, indexed_at: file.indexed_at }, file_dirs: ['big/'] });

    const deletes = rec.requests.map((r, i) => ({ r, i })).filter(({ r }) => r.method === 'POST' && r.path.endsWith('/points/delete'));
    expect(deletes).toHaveLength(1);
    const del = deletes[0]!;
    // Write before delete: the delete comes after the last upsert.
    expect(del.i).toBeGreaterThan(Math.max(...upserts.map((u) => u.i)));
    expect(del.r.query.wait).toBe('true');
    const filter = obj(body(del.r).filter);
    expect(filter.must).toEqual([{ key: 'file_path', match: { value: 'big/file.md' } }]);
    const hasId = arr(obj(arr(filter.must_not)[0]).has_id).map(String);
    expect(hasId.sort()).toEqual(points.map((p) => p.id).sort());
  });

  it('rebuilds file records from payloads: getFile, listFiles, fileChunks, setTaxonomy, deleteFile, count', async () => {
    const s = store();
    await s.init(EMBEDDER);
    const a = makeFile('docs/a.md', 3, 8);
    const b = makeFile('docs/sub/b.md', 2, 8);
    await s.replaceFile(a.file, a.points);
    await s.replaceFile(b.file, b.points);
    // A new version with fewer chunks: the stale third chunk goes.
    const a2 = makeFile('docs/a.md', 2, 8, 'h2');
    await s.replaceFile(a2.file, a2.points);

    expect(await s.getFile('docs/a.md')).toEqual(a2.file);
    expect(await s.getFile('missing.md')).toBeNull();
    expect(await s.listFiles()).toEqual([a2.file, b.file]);
    const chunks = await s.fileChunks('docs/a.md');
    expect(chunks.map((c) => c.payload)).toEqual(a2.points.map((p) => p.payload));
    expect(Array.from(chunks[1]!.vector)).toEqual(Array.from(a2.points[1]!.vector));
    expect(await s.count()).toBe(4);

    rec.clear();
    const leading = await s.leadingChunks(['docs/a.md', 'docs/sub/b.md', 'missing.md'], 1);
    expect([...leading.keys()].sort()).toEqual(['docs/a.md', 'docs/sub/b.md']);
    expect(leading.get('docs/a.md')).toEqual([{ chunk_index: 0, start_line: a2.points[0]!.payload.start_line, end_line: a2.points[0]!.payload.end_line, content: a2.points[0]!.payload.content }]);
    // One scroll for every file, chunk indexes matched as values (no vectors read).
    const scrolls = rec.find('POST', /\/points\/scroll$/);
    expect(scrolls).toHaveLength(1);
    expect(body(scrolls[0]).with_vector).toBe(false);
    expect(obj(body(scrolls[0]).filter).must).toEqual([
      { key: 'file_path', match: { any: ['docs/a.md', 'docs/sub/b.md', 'missing.md'] } },
      { key: 'chunk_index', match: { any: [0] } },
    ]);

    rec.clear();
    const tax = { full_path: 'ops/backups', level1: 'ops', level2: 'backups' };
    await s.setTaxonomy('docs/a.md', tax, 0.5);
    expect(body(rec.find('POST', /\/points\/payload$/)[0])).toEqual({
      payload: { taxonomy: tax, classification: { confidence: 0.5 } },
      filter: { must: [{ key: 'file_path', match: { value: 'docs/a.md' } }] },
    });
    expect((await s.getFile('docs/a.md'))?.taxonomy).toEqual(tax);

    expect(await s.deleteFile('docs/a.md')).toBe(2);
    expect(await s.count()).toBe(2);
    expect(await s.getPoint(b.points[0]!.id)).toMatchObject({ id: b.points[0]!.id, payload: b.points[0]!.payload });
    expect(await s.getPoint('not-a-uuid')).toBeNull();
  });

  it('sends the api key in the api-key header and never puts it in errors or the location', async () => {
    const secured = await QdrantRecorder.start({ apiKey: SECRET });
    try {
      const good = new QdrantStore({ url: secured.url, collection: freshName(), apiKey: SECRET, warn: () => undefined });
      await good.init(EMBEDDER);
      expect(secured.requests.length).toBeGreaterThan(3);
      expect(secured.requests.every((r) => r.headers['api-key'] === SECRET)).toBe(true);
      expect(good.location).not.toContain(SECRET);

      const wrong = new QdrantStore({ url: secured.url, collection: freshName(), apiKey: `${SECRET}-old`, warn: () => undefined });
      const refused = await wrong.init(EMBEDDER).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ConfigError);
      expect(String((refused as Error).message)).toMatch(/refused.*401.*QDRANT_API_KEY/);
      expect(String((refused as Error).message)).not.toContain(SECRET);

      // A server error that echoes the key back (a misbehaving proxy) is scrubbed too.
      secured.fail({ method: 'POST', path: /\/points\/query$/ }, 500, { body: { status: { error: `upstream said api-key=${SECRET}` }, time: 0 } });
      const failed = await good.search({ mode: 'keyword', text: 'x', limit: 3 }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(StoreUnavailableError);
      expect(String((failed as Error).message)).not.toContain(SECRET);
      expect(String((failed as Error).message)).toContain('[redacted]');
    } finally {
      await secured.close();
    }
  });

  it('maps an unreachable server, 5xx answers and timeouts to StoreUnavailableError', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = new QdrantStore({ url: `http://127.0.0.1:${port}`, collection: 'x', apiKey: SECRET, warn: () => undefined });
    const e1 = await down.init(EMBEDDER).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(StoreUnavailableError);
    expect((e1 as Error).message).toMatch(/^Vector store unavailable: Connection refused/);
    expect((e1 as Error).message).not.toContain(SECRET);

    const s = store();
    await s.init(EMBEDDER);
    rec.fail({ method: 'POST', path: /\/points\/count$/ }, 503);
    const e2 = await s.count().catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(StoreUnavailableError);
    expect((e2 as Error).message).toMatch(/^Vector store unavailable: .* answered 503/);

    const slow = store({ timeoutMs: 150 });
    await slow.init(EMBEDDER);
    rec.fail({ method: 'POST', path: /\/points\/count$/ }, 200, { delayMs: 1000, body: { result: { count: 1 }, status: 'ok', time: 0 } });
    const e3 = await slow.count().catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(StoreUnavailableError);
    expect((e3 as Error).message).toMatch(/did not answer within/);
  });

  it('refuses another embedder with EmbedderMismatchError naming both ids and the fix', async () => {
    const name = freshName();
    await store({ collection: name }).init(EMBEDDER);
    const other = { id: 'mistral:mistral-embed', dimension: 1024 };
    const err = await store({ collection: name }).init(other).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbedderMismatchError);
    const msg = (err as Error).message;
    expect(msg).toContain(EMBEDDER.id);
    expect(msg).toContain(other.id);
    expect(msg).toContain('npm run index -- --all');
    expect(msg).toContain('npm run migrate');
  });

  it('lets an empty collection adopt another embedder of the same size, as the embedded store does', async () => {
    const name = freshName();
    await store({ collection: name }).init(EMBEDDER);
    rec.clear();
    const next = { id: 'another-embedder:8', dimension: 8 };
    await store({ collection: name }).init(next);
    expect(body(rec.find('PATCH', new RegExp(`^/collections/${name}$`))[0])).toEqual({ metadata: { ai_library: { embedder_id: next.id, dimension: 8 } } });
    expect(rec.collections.get(name)?.metadata).toEqual({ ai_library: { embedder_id: next.id, dimension: 8 } });
  });

  it('refuses a non-empty collection that has no embedder record, and a server older than 1.16', async () => {
    const name = freshName();
    rec.collections.set(name, {
      config: { vectors: { dense: { size: 8, distance: 'Cosine' } }, sparse_vectors: { bm25: { modifier: 'idf' } } },
      metadata: {},
      payloadSchema: {},
      points: new Map([['p1', { id: 'p1', vector: {}, payload: {} }]]),
      snapshots: [],
    });
    await expect(store({ collection: name }).init(EMBEDDER)).rejects.toThrow(EmbedderMismatchError);

    const old = await QdrantRecorder.start({ version: '1.13.4' });
    try {
      const err = await new QdrantStore({ url: old.url, collection: 'c', warn: () => undefined }).init(EMBEDDER).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/version 1\.13\.4.*1\.16 or newer/);
    } finally {
      await old.close();
    }
  });

  it('normalises the seed-style bare host and separate port', () => {
    expect(qdrantEndpoint('qdrant', 6333).baseUrl).toBe('http://qdrant:6333');
    expect(qdrantEndpoint('https://q.example.com', 6333).baseUrl).toBe('https://q.example.com:6333');
    expect(qdrantEndpoint('http://localhost:7000/proxy/', 6333).baseUrl).toBe('http://localhost:7000/proxy');
    expect(() => qdrantEndpoint('ftp://x', 6333)).toThrow(ConfigError);
  });

  it('warns about a key sent over plain http to another host, without showing the key', () => {
    const remote = insecureKeyWarning(qdrantEndpoint('http://qdrant.internal', 6333), SECRET);
    expect(remote).toMatch(/unencrypted to http:\/\/qdrant\.internal:6333; use an https:\/\//);
    expect(remote).not.toContain(SECRET);
    expect(insecureKeyWarning(qdrantEndpoint('https://qdrant.internal', 6333), SECRET)).toBeNull();
    expect(insecureKeyWarning(qdrantEndpoint('http://localhost', 6333), SECRET)).toBeNull();
    expect(insecureKeyWarning(qdrantEndpoint('http://qdrant.internal', 6333), undefined)).toBeNull();
  });
});
