/**
 * What every VectorStore must do, whatever keeps the vectors. A store's test
 * file calls `vectorStoreContract(name, makeStore)`; `makeStore` hands back a
 * fresh, empty, uninitialised store and a cleanup for whatever it created.
 */
import { v5 as uuidv5 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChunkPayload, ContentType, TaxonomyPath } from '../../shared/api-types.js';
import type { EmbedderInfo } from '../../server/embedders/embedder.js';
import { EmbedderMismatchError, type FileRecord, type StoredPoint, type VectorStore } from '../../server/stores/vector-store.js';

export const CONTRACT_DIM = 64;
export const CONTRACT_EMBEDDER: EmbedderInfo = { id: 'contract-test-embedder', dimension: CONTRACT_DIM };
const ID_NAMESPACE = '0b6f3c55-2d1e-4f7a-9c3b-8e5d4a2f1c70';

// ---------------------------------------------------------------------------
// Deterministic test vectors

/** mulberry32: tiny, seedable, good enough to spread test vectors. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const inv = n === 0 ? 0 : 1 / Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

/** A Gaussian unit vector: every direction equally likely. */
export function unitVector(seed: number, dim: number = CONTRACT_DIM): Float32Array {
  const rnd = seededRandom(seed);
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const u = rnd() || Number.MIN_VALUE;
    v[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  }
  return normalise(v);
}

/** `base` moved by `noise` (0 = same, 1 = unrelated) toward a random direction. */
export function nearVector(base: Float32Array, seed: number, noise = 0.3): Float32Array {
  const r = unitVector(seed, base.length);
  const v = new Float32Array(base.length);
  for (let i = 0; i < v.length; i++) v[i] = base[i]! * (1 - noise) + r[i]! * noise;
  return normalise(v);
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

// ---------------------------------------------------------------------------
// Test documents

export interface ChunkSpec {
  section: string;
  content: string;
}

export interface DocSpec {
  path: string;
  type: ContentType;
  taxonomy: TaxonomyPath;
  chunks: ChunkSpec[];
  /** Also used as every chunk's updated_at, so stores may report either as last_indexed_at. */
  indexedAt: string;
}

export function taxonomy(level1: string, level2: string | null): TaxonomyPath {
  return { full_path: level2 === null ? level1 : `${level1}/${level2}`, level1, level2 };
}

export function pointIdOf(filePath: string, index: number, content: string): string {
  return uuidv5(`${filePath}\n${index}\n${content}`, ID_NAMESPACE);
}

export function vectorOf(filePath: string, index: number, content: string, dim: number = CONTRACT_DIM): Float32Array {
  return unitVector(hashSeed(`${filePath}#${index}#${content}`), dim);
}

export function pointsOf(doc: DocSpec, dim: number = CONTRACT_DIM): StoredPoint[] {
  let line = 1;
  const fileHash = `f${hashSeed(doc.chunks.map((x) => x.content).join('\n')).toString(16)}`;
  return doc.chunks.map((c, i) => {
    const lines = c.content.split('\n').length;
    const payload: ChunkPayload = {
      file_path: doc.path,
      content: c.content,
      content_type: doc.type,
      language: doc.type === 'code' ? 'typescript' : null,
      section: c.section,
      start_line: line,
      end_line: line + lines - 1,
      chunk_index: i,
      content_hash: `h${hashSeed(c.content).toString(16)}`,
      file_hash: fileHash,
      taxonomy: doc.taxonomy,
      classification: { confidence: 0.8 },
      contributor: 'contract-test',
      created_at: doc.indexedAt,
      updated_at: doc.indexedAt,
    };
    line += lines;
    return { id: pointIdOf(doc.path, i, c.content), vector: vectorOf(doc.path, i, c.content, dim), payload };
  });
}

export function fileOf(doc: DocSpec, points: StoredPoint[] = pointsOf(doc)): FileRecord {
  return {
    file_path: doc.path,
    file_hash: points[0]?.payload.file_hash ?? 'empty',
    chunk_count: points.length,
    content_type: doc.type,
    taxonomy: doc.taxonomy,
    confidence: 0.8,
    contributor: 'contract-test',
    indexed_at: doc.indexedAt,
  };
}

export const API_DOC: DocSpec = {
  path: 'docs/engineering/api.md',
  type: 'markdown',
  taxonomy: taxonomy('engineering', 'backend'),
  indexedAt: '2026-01-01T10:00:00.000Z',
  chunks: [
    { section: 'API > Rate limits', content: 'Requests over the quota are throttled with HTTP 429 and a Retry-After header. Clients back off exponentially.' },
    { section: 'API > Authentication', content: 'Every request carries a bearer token in the Authorization header; tokens rotate every ninety days.' },
    { section: 'API > Pagination', content: 'List endpoints return a cursor. Pass the cursor back to fetch the next page of results.' },
  ],
};

export const FRONTEND_DOC: DocSpec = {
  path: 'docs/engineering/frontend.md',
  type: 'markdown',
  taxonomy: taxonomy('engineering', 'frontend'),
  indexedAt: '2026-01-02T10:00:00.000Z',
  chunks: [{ section: 'Frontend > State', content: 'The webview keeps its state in a reducer and persists drafts between sessions.' }],
};

export const CHECKSUM_DOC: DocSpec = {
  path: 'src/util/checksum.ts',
  type: 'code',
  taxonomy: taxonomy('engineering', 'backend'),
  indexedAt: '2026-01-03T10:00:00.000Z',
  chunks: [
    {
      section: 'computeChecksumMd5',
      content: "export function computeChecksumMd5(data: Buffer): string {\n  return createHash('md5').update(data).digest('hex');\n}",
    },
    {
      section: 'verifyChecksum',
      content: 'export function verifyChecksum(data: Buffer, expected: string): boolean {\n  return checksumOf(data) === expected;\n}',
    },
  ],
};

export const DEPLOY_DOC: DocSpec = {
  path: 'docs/engineering-ops/deploy.md',
  type: 'markdown',
  taxonomy: taxonomy('engineering-ops', 'deploy'),
  indexedAt: '2026-01-04T10:00:00.000Z',
  chunks: [
    { section: 'Deploy > Rollout', content: 'Deploys roll out to one canary region first, then to every region after an hour without alerts.' },
    { section: 'Deploy > Rollback', content: 'Roll back by redeploying the previous release tag; database migrations must stay backward compatible.' },
  ],
};

export const ONCALL_DOC: DocSpec = {
  path: 'notes/oncall.txt',
  type: 'text',
  taxonomy: taxonomy('operations', 'oncall'),
  indexedAt: '2026-01-05T10:00:00.000Z',
  chunks: [{ section: '', content: 'Page the on-call engineer when the error budget burns faster than two percent per hour.' }],
};

export const ALL_DOCS = [API_DOC, FRONTEND_DOC, CHECKSUM_DOC, DEPLOY_DOC, ONCALL_DOC];
const TOTAL_POINTS = ALL_DOCS.reduce((n, d) => n + d.chunks.length, 0);

export async function indexDocs(store: VectorStore, docs: DocSpec[] = ALL_DOCS): Promise<void> {
  for (const doc of docs) {
    const points = pointsOf(doc);
    await store.replaceFile(fileOf(doc, points), points);
  }
}

async function allPoints(store: VectorStore, pageSize = 1000): Promise<StoredPoint[]> {
  const out: StoredPoint[] = [];
  let cursor: string | null = null;
  do {
    const page: { points: StoredPoint[]; next: string | null } = await store.scroll(cursor, pageSize);
    out.push(...page.points);
    cursor = page.next;
  } while (cursor !== null);
  return out;
}

/** Equal up to float noise: a store may re-normalise unit vectors (Qdrant does for cosine). */
function expectSameVector(actual: Float32Array | undefined, expected: Float32Array): void {
  expect(actual).toBeInstanceOf(Float32Array);
  expect(actual?.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((actual?.[i] ?? Infinity) - expected[i]!));
  expect(worst).toBeLessThan(1e-5);
}

function pointOf(doc: DocSpec, index: number): StoredPoint {
  const p = pointsOf(doc)[index];
  if (p === undefined) throw new Error(`test data: ${doc.path} has no chunk ${index}`);
  return p;
}

// ---------------------------------------------------------------------------

export function vectorStoreContract(
  name: string,
  makeStore: () => Promise<{ store: VectorStore; cleanup: () => Promise<void> }>,
): void {
  describe(`VectorStore contract: ${name}`, () => {
    let store: VectorStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      await store.init(CONTRACT_EMBEDDER);
    });

    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    describe('init', () => {
      it('accepts the same embedder again and refuses another one once it holds vectors', async () => {
        await indexDocs(store, [API_DOC]);
        await store.init(CONTRACT_EMBEDDER);
        const other: EmbedderInfo = { id: 'some-other-embedder', dimension: CONTRACT_DIM };
        const err = await store.init(other).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(EmbedderMismatchError);
        expect(String(err)).toContain(CONTRACT_EMBEDDER.id);
        expect(String(err)).toContain(other.id);
        await expect(store.init({ id: CONTRACT_EMBEDDER.id, dimension: CONTRACT_DIM * 2 })).rejects.toBeInstanceOf(EmbedderMismatchError);
        expect(await store.count()).toBe(API_DOC.chunks.length);
      });
    });

    describe('writes', () => {
      it('replaceFile makes the points searchable', async () => {
        await indexDocs(store);
        expect(await store.count()).toBe(TOTAL_POINTS);
        const target = pointOf(API_DOC, 0);
        const hits = await store.search({ mode: 'dense', vector: target.vector, limit: 3 });
        expect(hits[0]?.id).toBe(target.id);
        expect(hits[0]?.dense).toBeCloseTo(1, 4);
      });

      it('replacing a file with identical points is idempotent', async () => {
        await indexDocs(store);
        const before = (await allPoints(store)).map((p) => p.id).sort();
        await indexDocs(store);
        const after = (await allPoints(store)).map((p) => p.id).sort();
        expect(after).toEqual(before);
        expect(await store.count()).toBe(TOTAL_POINTS);
      });

      it('replacing a file with a changed set removes the stale points and keeps the rest', async () => {
        await indexDocs(store);
        const old = pointsOf(API_DOC);
        const changed: DocSpec = {
          ...API_DOC,
          indexedAt: '2026-02-01T10:00:00.000Z',
          chunks: [API_DOC.chunks[0]!, { section: 'API > Errors', content: 'Errors come back as JSON with a code and a message naming the fix.' }],
        };
        const fresh = pointsOf(changed);
        await store.replaceFile(fileOf(changed, fresh), fresh);
        expect(await store.count({ file_path: API_DOC.path })).toBe(2);
        expect(await store.getPoint(old[0]!.id)).not.toBeNull();
        expect(await store.getPoint(old[1]!.id)).toBeNull();
        expect(await store.getPoint(old[2]!.id)).toBeNull();
        expect((await store.getPoint(fresh[1]!.id))?.payload.section).toBe('API > Errors');
        expect(await store.count()).toBe(TOTAL_POINTS - 1);
        expect((await store.getFile(API_DOC.path))?.chunk_count).toBe(2);
      });

      it('never shows a file with zero points while it is being replaced, and leaves no orphans', async () => {
        await indexDocs(store);
        const changed: DocSpec = {
          ...API_DOC,
          chunks: [
            { section: 'API > v2', content: 'Version two of the API drops cursors in favour of page tokens.' },
            { section: 'API > v2 > Limits', content: 'Version two raises the quota to one thousand requests per minute.' },
          ],
        };
        const fresh = pointsOf(changed);
        const seen: number[] = [];
        const poll = async (): Promise<void> => {
          for (let i = 0; i < 5; i++) {
            seen.push(await store.count({ file_path: API_DOC.path }));
            await new Promise((r) => setTimeout(r, 0));
          }
        };
        await Promise.all([poll(), store.replaceFile(fileOf(changed, fresh), fresh), poll()]);
        expect(seen.every((n) => n > 0)).toBe(true);
        expect(await store.count({ file_path: API_DOC.path })).toBe(fresh.length);
        const ofFile = (await allPoints(store)).filter((p) => p.payload.file_path === API_DOC.path);
        expect(ofFile.map((p) => p.id).sort()).toEqual(fresh.map((p) => p.id).sort());
        expect(await store.count()).toBe(TOTAL_POINTS - API_DOC.chunks.length + fresh.length);
      });

      it('deleteFile removes the points and the file record', async () => {
        await indexDocs(store);
        expect(await store.deleteFile(API_DOC.path)).toBe(API_DOC.chunks.length);
        expect(await store.getFile(API_DOC.path)).toBeNull();
        expect(await store.count({ file_path: API_DOC.path })).toBe(0);
        expect(await store.count()).toBe(TOTAL_POINTS - API_DOC.chunks.length);
        const hits = await store.search({ mode: 'dense', vector: pointOf(API_DOC, 0).vector, limit: 20 });
        expect(hits.some((h) => h.payload.file_path === API_DOC.path)).toBe(false);
        expect(await store.deleteFile('no/such/file.md')).toBe(0);
      });

      it('upsertPoints copies points and file records as they are, idempotently', async () => {
        const points = pointsOf(DEPLOY_DOC);
        await store.upsertPoints(points, [fileOf(DEPLOY_DOC, points)]);
        await store.upsertPoints(points, [fileOf(DEPLOY_DOC, points)]);
        expect(await store.count()).toBe(points.length);
        expect(await store.getFile(DEPLOY_DOC.path)).toEqual(fileOf(DEPLOY_DOC, points));
        const got = await store.getPoint(points[1]!.id);
        expect(got?.payload).toEqual(points[1]!.payload);
        expectSameVector(got?.vector, points[1]!.vector);
      });

      it('setTaxonomy changes the payloads of the file and its chunks, not the vectors', async () => {
        await indexDocs(store);
        const before = await store.fileChunks(API_DOC.path);
        const moved = taxonomy('operations', 'api');
        await store.setTaxonomy(API_DOC.path, moved, 0.95);
        const after = await store.fileChunks(API_DOC.path);
        expect(after).toHaveLength(before.length);
        for (const [i, p] of after.entries()) {
          expect(p.payload.taxonomy).toEqual(moved);
          expect(p.payload.classification.confidence).toBeCloseTo(0.95, 6);
          expectSameVector(p.vector, before[i]!.vector);
          expect(p.payload.content).toBe(before[i]!.payload.content);
        }
        const file = await store.getFile(API_DOC.path);
        expect(file?.taxonomy).toEqual(moved);
        expect(file?.confidence).toBeCloseTo(0.95, 6);
        expect(await store.count({ taxonomy: 'operations' })).toBe(API_DOC.chunks.length + ONCALL_DOC.chunks.length);
      });
    });

    describe('reads', () => {
      beforeEach(async () => {
        await indexDocs(store);
      });

      it('getPoint returns the point with its vector, or null', async () => {
        const p = pointOf(CHECKSUM_DOC, 1);
        const got = await store.getPoint(p.id);
        expect(got?.id).toBe(p.id);
        expect(got?.payload).toEqual(p.payload);
        expect(got?.vector).toBeInstanceOf(Float32Array);
        expectSameVector(got?.vector, p.vector);
        expect(await store.getPoint('00000000-0000-4000-8000-000000000000')).toBeNull();
      });

      it('getFile and listFiles return the file records', async () => {
        expect(await store.getFile(CHECKSUM_DOC.path)).toEqual(fileOf(CHECKSUM_DOC));
        expect(await store.getFile('missing.md')).toBeNull();
        const files = await store.listFiles();
        expect(files.map((f) => f.file_path).sort()).toEqual(ALL_DOCS.map((d) => d.path).sort());
      });

      it('fileChunks returns a file’s chunks in order, with vectors', async () => {
        const chunks = await store.fileChunks(API_DOC.path);
        expect(chunks.map((c) => c.payload.chunk_index)).toEqual([0, 1, 2]);
        expect(chunks.map((c) => c.id)).toEqual(pointsOf(API_DOC).map((p) => p.id));
        expect(chunks.every((c) => c.vector.length === CONTRACT_DIM)).toBe(true);
        expect(await store.fileChunks('missing.md')).toEqual([]);
      });

      it('leadingChunks returns the first chunks of each file asked for, in order, without vectors', async () => {
        const leading = await store.leadingChunks([API_DOC.path, CHECKSUM_DOC.path, API_DOC.path, 'missing.md'], 2);
        expect([...leading.keys()].sort()).toEqual([API_DOC.path, CHECKSUM_DOC.path].sort());
        const expected = (doc: typeof API_DOC) =>
          pointsOf(doc).slice(0, 2).map(({ payload: p }) => ({ chunk_index: p.chunk_index, start_line: p.start_line, end_line: p.end_line, content: p.content }));
        expect(leading.get(API_DOC.path)).toEqual(expected(API_DOC));
        expect(leading.get(CHECKSUM_DOC.path)).toEqual(expected(CHECKSUM_DOC));
        expect((await store.leadingChunks([API_DOC.path], 1)).get(API_DOC.path)).toHaveLength(1);
        expect((await store.leadingChunks([], 3)).size).toBe(0);
      });

      it('scroll pages through every point exactly once', async () => {
        const ids: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: { points: StoredPoint[]; next: string | null } = await store.scroll(cursor, 3);
          expect(page.points.length).toBeLessThanOrEqual(3);
          for (const p of page.points) {
            ids.push(p.id);
            expect(p.vector.length).toBe(CONTRACT_DIM);
          }
          cursor = page.next;
          pages += 1;
        } while (cursor !== null && pages < 100);
        expect(ids).toHaveLength(TOTAL_POINTS);
        expect(new Set(ids).size).toBe(TOTAL_POINTS);
      });

      it('count applies filters', async () => {
        expect(await store.count()).toBe(TOTAL_POINTS);
        expect(await store.count({ taxonomy: 'engineering' })).toBe(6);
        expect(await store.count({ taxonomy: 'engineering/backend' })).toBe(5);
        expect(await store.count({ taxonomy: 'engineering-ops' })).toBe(2);
        expect(await store.count({ content_type: 'code' })).toBe(2);
        expect(await store.count({ content_type: ['code', 'text'] })).toBe(3);
        expect(await store.count({ file_path: API_DOC.path })).toBe(3);
        expect(await store.count({ file_path: 'docs/' })).toBe(6);
        expect(await store.count({ file_path: 'docs/engineering/' })).toBe(4);
        expect(await store.count({ file_path: 'docs/engineering/', content_type: 'code' })).toBe(0);
      });

      it('stats counts points, documents, types and taxonomy', async () => {
        const stats = await store.stats();
        expect(stats.points_count).toBe(TOTAL_POINTS);
        expect(stats.documents).toBe(ALL_DOCS.length);
        expect(stats.by_content_type).toEqual({ markdown: 3, code: 1, text: 1 });
        expect(stats.by_taxonomy).toEqual({ 'engineering/backend': 2, 'engineering/frontend': 1, 'engineering-ops/deploy': 1, 'operations/oncall': 1 });
        expect(stats.last_indexed_at).toBe(ONCALL_DOC.indexedAt);
      });
    });

    describe('search', () => {
      beforeEach(async () => {
        await indexDocs(store);
      });

      it('dense search ranks the nearest vector first and reports cosine similarity', async () => {
        const target = pointOf(DEPLOY_DOC, 1);
        const q = nearVector(target.vector, 7, 0.3);
        const hits = await store.search({ mode: 'dense', vector: q, limit: 4 });
        expect(hits).toHaveLength(4);
        expect(hits[0]?.id).toBe(target.id);
        expect(hits[0]?.dense).toBeCloseTo(cosine(q, target.vector), 4);
        for (const h of hits) {
          expect(h.keyword).toBeNull();
          expect(h.fused).toBe(h.dense);
        }
        const scores = hits.map((h) => h.dense ?? -2);
        expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      });

      it('keyword search ranks by BM25 (higher is better)', async () => {
        const hits = await store.search({ mode: 'keyword', text: 'Retry-After quota throttled', limit: 5 });
        expect(hits[0]?.id).toBe(pointOf(API_DOC, 0).id);
        for (const h of hits) {
          expect(h.dense).toBeNull();
          expect(h.keyword).not.toBeNull();
          expect(h.fused).toBe(h.keyword);
        }
        expect(hits[0]!.keyword!).toBeGreaterThan(0);
      });

      it('keyword search finds an exact identifier first', async () => {
        const hits = await store.search({ mode: 'keyword', text: 'computeChecksumMd5', limit: 5 });
        expect(hits[0]?.id).toBe(pointOf(CHECKSUM_DOC, 0).id);
      });

      it('hybrid search fuses both sides and fills both scores where known', async () => {
        const target = pointOf(API_DOC, 1);
        const hits = await store.search({
          mode: 'hybrid',
          vector: nearVector(target.vector, 11, 0.3),
          text: 'bearer token Authorization header',
          limit: 5,
        });
        expect(hits[0]?.id).toBe(target.id);
        expect(hits[0]?.dense).not.toBeNull();
        expect(hits[0]?.keyword).not.toBeNull();
        expect(hits[0]!.fused).toBeGreaterThan(0);
        const fused = hits.map((h) => h.fused);
        expect([...fused].sort((a, b) => b - a)).toEqual(fused);
        expect(new Set(hits.map((h) => h.id)).size).toBe(hits.length);
      });

      it('hybrid search returns what either side found', async () => {
        const denseTarget = pointOf(ONCALL_DOC, 0);
        const hits = await store.search({ mode: 'hybrid', vector: denseTarget.vector, text: 'canary region rollout', limit: 10 });
        const ids = hits.map((h) => h.id);
        expect(ids).toContain(denseTarget.id);
        expect(ids).toContain(pointOf(DEPLOY_DOC, 0).id);
      });

      it('filters by taxonomy prefix on whole segments', async () => {
        const q = pointOf(DEPLOY_DOC, 0).vector;
        const hits = await store.search({ mode: 'dense', vector: q, limit: 20, filters: { taxonomy: 'engineering' } });
        expect(hits).toHaveLength(6);
        expect(hits.every((h) => h.payload.taxonomy.level1 === 'engineering')).toBe(true);
        const narrow = await store.search({ mode: 'keyword', text: 'export function', limit: 20, filters: { taxonomy: 'engineering/backend' } });
        expect(narrow.length).toBeGreaterThan(0);
        expect(narrow.every((h) => h.payload.taxonomy.full_path === 'engineering/backend')).toBe(true);
      });

      it('filters by content_type, one or several', async () => {
        const q = pointOf(API_DOC, 0).vector;
        const code = await store.search({ mode: 'dense', vector: q, limit: 20, filters: { content_type: 'code' } });
        expect(code.map((h) => h.payload.content_type)).toEqual(['code', 'code']);
        const some = await store.search({ mode: 'hybrid', vector: q, text: 'engineer checksum', limit: 20, filters: { content_type: ['code', 'text'] } });
        expect(some.length).toBeGreaterThan(0);
        expect(some.every((h) => h.payload.content_type === 'code' || h.payload.content_type === 'text')).toBe(true);
      });

      it('filters by exact file path and by folder prefix', async () => {
        const q = pointOf(API_DOC, 0).vector;
        const exact = await store.search({ mode: 'dense', vector: q, limit: 20, filters: { file_path: CHECKSUM_DOC.path } });
        expect(exact.map((h) => h.payload.file_path)).toEqual([CHECKSUM_DOC.path, CHECKSUM_DOC.path]);
        const folder = await store.search({ mode: 'dense', vector: q, limit: 20, filters: { file_path: 'docs/engineering/' } });
        expect(folder).toHaveLength(4);
        expect(folder.every((h) => h.payload.file_path.startsWith('docs/engineering/'))).toBe(true);
        const kw = await store.search({ mode: 'keyword', text: 'region', limit: 20, filters: { file_path: 'docs/engineering/' } });
        expect(kw).toEqual([]);
      });

      it('a filtered search still finds the best match inside the filter', async () => {
        const outside = pointOf(API_DOC, 0);
        const hits = await store.search({ mode: 'dense', vector: outside.vector, limit: 1, filters: { content_type: 'text' } });
        expect(hits.map((h) => h.id)).toEqual([pointOf(ONCALL_DOC, 0).id]);
      });

      it('excludeFilePath leaves one file out', async () => {
        const q = pointOf(API_DOC, 0).vector;
        const hits = await store.search({ mode: 'dense', vector: q, limit: 20, excludeFilePath: API_DOC.path });
        expect(hits).toHaveLength(TOTAL_POINTS - API_DOC.chunks.length);
        expect(hits.some((h) => h.payload.file_path === API_DOC.path)).toBe(false);
        const kw = await store.search({ mode: 'keyword', text: 'quota header token', limit: 20, excludeFilePath: API_DOC.path });
        expect(kw.some((h) => h.payload.file_path === API_DOC.path)).toBe(false);
      });

      it('odd query text does not throw', async () => {
        const odd = ['"', '*)', 'NEAR(', 'NEAR(a b', '-', 'AND OR NOT', 'col:term', '^start', '🚀🔥', 'a"b"c', '\u0000x', '((((', 'x'.repeat(5000), 'ünïcödé ß 東京', ''];
        const q = pointOf(API_DOC, 0).vector;
        for (const text of odd) {
          const kw = await store.search({ mode: 'keyword', text, limit: 5 });
          expect(Array.isArray(kw)).toBe(true);
          const hy = await store.search({ mode: 'hybrid', text, vector: q, limit: 5 });
          expect(hy.map((h) => h.id)).toContain(pointOf(API_DOC, 0).id);
        }
        const long = Array.from({ length: 1000 }, (_, i) => `word${i}`).join(' ');
        expect(Array.isArray(await store.search({ mode: 'keyword', text: long, limit: 5 }))).toBe(true);
      });
    });
  });
}
