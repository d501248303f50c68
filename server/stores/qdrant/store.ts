import type { QdrantClient, Schemas } from '@qdrant/js-client-rest';
import type { ChunkPayload, SearchFilters, TaxonomyPath } from '../../../shared/api-types.js';
import { isRecord } from '../../../shared/guards.js';
import { ConfigError, type Config } from '../../config/settings.js';
import type { EmbedderInfo } from '../../embedders/embedder.js';
import { EQUAL_WEIGHTS, hybridSideLimit } from '../../fusion/score-fusion.js';
import { CallPolicy } from '../../reliability/call-policy.js';
import { breakerSettingsFrom, type BreakerSettings, type CallOutcome, type CircuitBreaker } from '../../reliability/circuit-breaker.js';
import { normalizeFilters } from '../filters.js';
import {
  EmbedderMismatchError,
  type FusionWeights,
  StoreUnavailableError,
  type FileRecord,
  type LeadingChunk,
  type ScoredPoint,
  type StoreQuery,
  type StoreStats,
  type StoredPoint,
  type VectorStore,
} from '../vector-store.js';
import { planBatches, nextOffset } from './batches.js';
import { bm25Query, bm25Text } from './bm25.js';
import { createQdrantClient, httpStatus, insecureKeyWarning, qdrantEndpoint, translateQdrantError, type QdrantEndpoint } from './client.js';
import { fileFilter, folderPrefixes, qdrantFilter } from './filters.js';
import { fuseSides, searchParams } from './search.js';
import {
  BM25_MODEL,
  DENSE_VECTOR,
  DIRS_KEY,
  FILE_FIELDS,
  FILE_KEY,
  META_KEY,
  MIN_QDRANT_VERSION,
  PAYLOAD_INDEXES,
  PAYLOAD_WITHOUT_EXTRAS,
  SCROLL_PAGE,
  SPARSE_VECTOR,
  VECTOR_PROFILES,
  chunkPayloadSchema,
  fileFieldsSchema,
  metaSchema,
  type VectorProfile,
} from './layout.js';

export interface QdrantStoreOptions {
  /** `http(s)://host[:port][/prefix]`; a bare host ("qdrant", as in docker-compose.yml) means http. */
  url: string;
  /** Used when `url` names no port. */
  port?: number;
  apiKey?: string;
  collection: string;
  profile?: VectorProfile;
  preferGrpc?: boolean;
  timeoutMs?: number;
  /** Requests in flight at once (vector.max_concurrent, MAX_CONCURRENT_QDRANT). */
  maxConcurrent?: number;
  breaker?: Partial<BreakerSettings>;
  warn?: (message: string) => void;
}

export const DEFAULT_MAX_CONCURRENT_QDRANT = 20;

export function qdrantOptionsFrom(config: Config): QdrantStoreOptions {
  const v = config.settings.vector;
  if (!v.url) throw new ConfigError('vector.url: required when the store is qdrant; set QDRANT_URL (e.g. http://localhost:6333)');
  return {
    url: v.url,
    port: v.port,
    apiKey: v.api_key,
    collection: v.collection_name,
    profile: v.profile,
    preferGrpc: v.prefer_grpc,
    maxConcurrent: v.max_concurrent,
    breaker: breakerSettingsFrom(config),
  };
}

/** Unreachable, timed out, 5xx or 429 (all StoreUnavailableError) mean down; any other answer proves Qdrant is up. */
function qdrantOutcome(error: unknown): CallOutcome {
  return error instanceof StoreUnavailableError ? 'failure' : 'success';
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number';
}

function parseVersion(v: string): [number, number] | null {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

export class QdrantStore implements VectorStore {
  readonly kind = 'qdrant' as const;
  readonly location: string;
  readonly endpoint: QdrantEndpoint;
  readonly collection: string;
  readonly profile: VectorProfile;
  private readonly client: QdrantClient;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly warn: (message: string) => void;
  /** Bounds requests in flight so a burst of searches and uploads queues here instead of piling onto Qdrant; no retries. */
  private readonly policy: CallPolicy;
  readonly breaker: CircuitBreaker;
  private dimension: number | null = null;

  constructor(options: QdrantStoreOptions) {
    this.endpoint = qdrantEndpoint(options.url, options.port);
    this.collection = options.collection;
    this.profile = options.profile ?? 'balanced';
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.warn = options.warn ?? ((m) => console.warn(m));
    this.location = `${this.endpoint.baseUrl}/collections/${encodeURIComponent(this.collection)}`;
    this.client = createQdrantClient(this.endpoint, this.apiKey, this.timeoutMs);
    this.policy = new CallPolicy({
      name: 'Qdrant vector store',
      concurrency: options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_QDRANT,
      breaker: options.breaker,
      classify: qdrantOutcome,
    });
    this.breaker = this.policy.breaker;
    const insecure = insecureKeyWarning(this.endpoint, this.apiKey);
    if (insecure) this.warn(insecure);
    if (options.preferGrpc) {
      this.warn('vector.prefer_grpc: ignored; this server talks to Qdrant over REST only (@qdrant/js-client-rest). Remove the key to silence this warning.');
    }
  }

  /** Every Qdrant request goes through here: bounded, behind the breaker, errors translated. */
  private call<T>(what: string, fn: (client: QdrantClient) => Promise<T>): Promise<T> {
    return this.policy.run(async () => {
      try {
        return await fn(this.client);
      } catch (e) {
        throw translateQdrantError(e, what, this.endpoint, this.apiKey, this.timeoutMs);
      }
    });
  }

  async init(embedder: EmbedderInfo): Promise<void> {
    const version = await this.call('read its version', (c) => c.versionInfo());
    const parsed = parseVersion(version.version);
    if (parsed && (parsed[0] < MIN_QDRANT_VERSION[0] || (parsed[0] === MIN_QDRANT_VERSION[0] && parsed[1] < MIN_QDRANT_VERSION[1]))) {
      throw new ConfigError(
        `Qdrant at ${this.endpoint.baseUrl} is version ${version.version}; AI Library needs ${MIN_QDRANT_VERSION.join('.')} or newer (server-side BM25, collection metadata); upgrade it: docker compose pull qdrant && docker compose up -d qdrant`,
      );
    }
    const { exists } = await this.call(`check collection "${this.collection}"`, (c) => c.collectionExists(this.collection));
    if (!exists) await this.createCollection(embedder);
    const info = await this.call(`read collection "${this.collection}"`, (c) => c.getCollection(this.collection));
    await this.checkEmbedder(info, embedder);
    this.checkLayout(info, embedder);
    this.checkProfile(info);
    await this.ensureIndexes(info);
    this.dimension = embedder.dimension;
  }

  private async createCollection(embedder: EmbedderInfo): Promise<void> {
    const p = VECTOR_PROFILES[this.profile];
    const body: Schemas['CreateCollection'] = {
      vectors: { [DENSE_VECTOR]: { size: embedder.dimension, distance: 'Cosine' } },
      sparse_vectors: { [SPARSE_VECTOR]: { modifier: 'idf' } },
      hnsw_config: { m: p.m, ef_construct: p.ef_construct },
      quantization_config: p.int8 ? { scalar: { type: 'int8', quantile: 0.99, always_ram: true } } : null,
      metadata: { [META_KEY]: { embedder_id: embedder.id, dimension: embedder.dimension } },
    };
    try {
      // The high-level createCollection drops `metadata`; the generated API passes the body as is.
      await this.client.api().createCollection({ collection_name: this.collection, ...body });
    } catch (e) {
      // Another server may have created it a moment ago; that one is checked like any existing collection.
      const status = httpStatus(e);
      if (status === 409 || status === 400) {
        const again = await this.call(`check collection "${this.collection}"`, (c) => c.collectionExists(this.collection));
        if (again.exists) return;
      }
      throw translateQdrantError(e, `create collection "${this.collection}"`, this.endpoint, this.apiKey, this.timeoutMs);
    }
    // Indexes right after the collection, before any point arrives (anchors: Qdrant's advice).
    for (const { field, schema } of PAYLOAD_INDEXES) {
      await this.call(`create the payload index on ${field}`, (c) =>
        c.createPayloadIndex(this.collection, { field_name: field, field_schema: schema, wait: true }),
      );
    }
  }

  private reindexAdvice(wanted: EmbedderInfo): string {
    return (
      `to keep the existing vectors, configure embeddings back to the embedder that made them; ` +
      `to use "${wanted.id}", set vector.collection_name (or another QDRANT collection) to a new name and run "npm run index -- --all" ` +
      `(vectors must be recomputed: "npm run migrate" copies vectors between stores of the same embedder, it cannot convert them)`
    );
  }

  private async checkEmbedder(info: Schemas['CollectionInfo'], embedder: EmbedderInfo): Promise<void> {
    const raw = info.config.metadata;
    const meta = metaSchema.safeParse(isRecord(raw) ? raw[META_KEY] : undefined);
    const claim = () =>
      this.call(`record the embedder on collection "${this.collection}"`, (c) =>
        c.updateCollection(this.collection, { metadata: { [META_KEY]: { embedder_id: embedder.id, dimension: embedder.dimension } } }),
      );
    if (meta.success) {
      const m = meta.data;
      if (m.embedder_id !== embedder.id || m.dimension !== embedder.dimension) {
        // As the embedded store: an empty store adopts the new embedder (its vector size cannot change, though).
        if (m.dimension === embedder.dimension) {
          const { count } = await this.call(`count points of "${this.collection}"`, (c) => c.count(this.collection, { exact: true }));
          if (count === 0) {
            await claim();
            return;
          }
        }
        throw new EmbedderMismatchError(
          `Qdrant collection "${this.collection}" was built with embedder "${m.embedder_id}" (${m.dimension} dims) but this server uses "${embedder.id}" (${embedder.dimension} dims); ${this.reindexAdvice(embedder)}`,
        );
      }
      return;
    }
    const points = info.points_count ?? 0;
    if (points > 0) {
      throw new EmbedderMismatchError(
        `Qdrant collection "${this.collection}" holds ${points} points but no record of the embedder that made them (it was not created by AI Library), so "${embedder.id}" cannot be trusted to match; ${this.reindexAdvice(embedder)}`,
      );
    }
    // An empty collection (e.g. made by hand) is claimed for this embedder.
    await claim();
  }

  private checkLayout(info: Schemas['CollectionInfo'], embedder: EmbedderInfo): void {
    const vectors: unknown = info.config.params.vectors;
    const dense = isRecord(vectors) ? vectors[DENSE_VECTOR] : undefined;
    const sparse = info.config.params.sparse_vectors?.[SPARSE_VECTOR];
    const denseOk = isRecord(dense) && dense.size === embedder.dimension && dense.distance === 'Cosine';
    if (!denseOk || !sparse) {
      throw new ConfigError(
        `Qdrant collection "${this.collection}" lacks the layout AI Library needs (named vector "${DENSE_VECTOR}": ${embedder.dimension} dims, Cosine; sparse vector "${SPARSE_VECTOR}" with idf); ` +
          `it was made by another tool or version: set vector.collection_name to a new name and run "npm run index -- --all"`,
      );
    }
  }

  private checkProfile(info: Schemas['CollectionInfo']): void {
    const want = VECTOR_PROFILES[this.profile];
    const have = info.config.hnsw_config;
    if (have.m !== want.m || have.ef_construct !== want.ef_construct) {
      this.warn(
        `vector.profile "${this.profile}": collection "${this.collection}" was built with m=${have.m}, ef_construct=${have.ef_construct} (the profile wants m=${want.m}, ef_construct=${want.ef_construct}); ` +
          `queries use the profile's hnsw_ef=${want.hnsw_ef}; to rebuild the graph, migrate into a new collection (npm run migrate -- --from qdrant --to qdrant --to-collection <name>)`,
      );
    }
  }

  /** Collections made before an index was added get it now; existing ones are left alone. */
  private async ensureIndexes(info: Schemas['CollectionInfo']): Promise<void> {
    for (const { field, schema } of PAYLOAD_INDEXES) {
      if (info.payload_schema[field]?.data_type === schema) continue;
      await this.call(`create the payload index on ${field}`, (c) =>
        c.createPayloadIndex(this.collection, { field_name: field, field_schema: schema, wait: true }),
      );
    }
  }

  private requireInit(): number {
    if (this.dimension === null) throw new Error(`QdrantStore(${this.location}): call init() before using the store`);
    return this.dimension;
  }

  private toPointStruct(point: StoredPoint, file: { chunk_count: number; indexed_at: string } | undefined, dimension: number): Schemas['PointStruct'] {
    if (point.vector.length !== dimension) {
      throw new Error(`point ${point.id} (${point.payload.file_path}): vector has ${point.vector.length} dims, collection "${this.collection}" holds ${dimension}; re-embed with the configured embedder`);
    }
    return {
      id: point.id,
      vector: {
        [DENSE_VECTOR]: Array.from(point.vector),
        [SPARSE_VECTOR]: { text: bm25Text(point.payload), model: BM25_MODEL },
      },
      payload: { ...point.payload, ...(file ? { [FILE_KEY]: file } : {}), [DIRS_KEY]: folderPrefixes(point.payload.file_path) },
    };
  }

  private async writePoints(points: Schemas['PointStruct'][], what: string): Promise<void> {
    const batches = planBatches(points, (p) => Buffer.byteLength(JSON.stringify(p)));
    for (const [i, batch] of batches.entries()) {
      await this.call(`${what} (batch ${i + 1}/${batches.length}, ${batch.length} points)`, (c) =>
        c.upsert(this.collection, { points: batch, wait: true }),
      );
    }
  }

  async replaceFile(file: FileRecord, points: StoredPoint[]): Promise<void> {
    const dimension = this.requireInit();
    const fileFields = { chunk_count: file.chunk_count, indexed_at: file.indexed_at };
    const structs = points.map((p) => this.toPointStruct(p, fileFields, dimension));
    // Write first, then drop what the new version no longer has: a search never sees the file missing.
    await this.writePoints(structs, `store ${file.file_path}`);
    const filter: Schemas['Filter'] = points.length
      ? { ...fileFilter(file.file_path), must_not: [{ has_id: points.map((p) => p.id) }] }
      : fileFilter(file.file_path);
    await this.call(`remove stale chunks of ${file.file_path}`, (c) => c.delete(this.collection, { filter, wait: true }));
  }

  async deleteFile(filePath: string): Promise<number> {
    this.requireInit();
    const filter = fileFilter(filePath);
    const { count } = await this.call(`count chunks of ${filePath}`, (c) => c.count(this.collection, { filter, exact: true }));
    if (count > 0) await this.call(`delete ${filePath}`, (c) => c.delete(this.collection, { filter, wait: true }));
    return count;
  }

  async upsertPoints(points: StoredPoint[], files: FileRecord[]): Promise<void> {
    const dimension = this.requireInit();
    const byPath = new Map(files.map((f) => [f.file_path, { chunk_count: f.chunk_count, indexed_at: f.indexed_at }]));
    await this.writePoints(
      points.map((p) => this.toPointStruct(p, byPath.get(p.payload.file_path), dimension)),
      'copy points',
    );
  }

  async search(query: StoreQuery): Promise<ScoredPoint[]> {
    this.requireInit();
    if (query.mode !== 'keyword' && query.vector === undefined) throw new Error(`search: mode "${query.mode}" needs query.vector; embed the query text first`);
    if (query.mode !== 'dense' && query.text === undefined) throw new Error(`search: mode "${query.mode}" needs query.text`);
    const filter = qdrantFilter(normalizeFilters(query.filters, query.excludeFilePath));
    const dense = query.mode !== 'keyword' && query.vector ? Array.from(query.vector) : null;
    // Text without a letter or digit has no BM25 terms; it is not sent (as the embedded store does not).
    const text = query.mode !== 'dense' && query.text !== undefined && /[\p{L}\p{N}]/u.test(query.text) ? bm25Query(query.text) : null;
    const common = { filter, limit: query.limit, with_payload: PAYLOAD_WITHOUT_EXTRAS, with_vector: false };
    const where = `search collection "${this.collection}"`;
    if (dense && text) return this.hybridSearch(dense, text, filter, query.limit, query.weights ?? EQUAL_WEIGHTS);
    let body: Schemas['QueryRequest'];
    if (dense) body = { ...common, query: dense, using: DENSE_VECTOR, params: searchParams(this.profile) };
    else if (text) body = { ...common, query: { text, model: BM25_MODEL }, using: SPARSE_VECTOR };
    // Blank keyword text finds nothing, as in the embedded store.
    else return [];
    const res = await this.call(where, (c) => c.query(this.collection, body));
    return res.points.map((p) => ({
      id: String(p.id),
      payload: this.parsePayload(p.id, p.payload),
      dense: dense ? p.score : null,
      keyword: dense ? null : p.score,
      fused: p.score,
    }));
  }

  /**
   * One round trip (`/points/query/batch`): the dense and the BM25 side, each
   * with payloads, fused here (fuseSides) by the same normalised score fusion as the
   * embedded store's (fusion/score-fusion.ts), so both stores rank alike and
   * each result keeps its per-side scores, which the API shows as the evidence
   * behind a rank. Qdrant's own fusion offers RRF and DBSF, and weighs
   * prefetches only from 1.17 on.
   */
  private async hybridSearch(dense: number[], text: string, filter: Schemas['Filter'] | undefined, limit: number, weights: FusionWeights): Promise<ScoredPoint[]> {
    const perSide = hybridSideLimit(limit);
    const searches: Schemas['QueryRequest'][] = [
      { query: dense, using: DENSE_VECTOR, limit: perSide, filter, params: searchParams(this.profile), with_payload: PAYLOAD_WITHOUT_EXTRAS, with_vector: false },
      { query: { text, model: BM25_MODEL }, using: SPARSE_VECTOR, limit: perSide, filter, with_payload: PAYLOAD_WITHOUT_EXTRAS, with_vector: false },
    ];
    const [denseHits, keywordHits] = await this.call(`search collection "${this.collection}"`, (c) => c.queryBatch(this.collection, { searches }));
    return fuseSides(denseHits, keywordHits, weights, limit).map((h) => ({ ...h, payload: this.parsePayload(h.id, h.payload) }));
  }

  private parsePayload(id: Schemas['ExtendedPointId'], raw: unknown): ChunkPayload {
    const parsed = chunkPayloadSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `Qdrant collection "${this.collection}": point ${String(id)} has a payload AI Library did not write (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}); re-index it with "npm run index -- --all"`,
      );
    }
    return parsed.data;
  }

  private toStoredPoint(record: Schemas['Record']): StoredPoint {
    const v: unknown = record.vector;
    const dense = isRecord(v) ? v[DENSE_VECTOR] : undefined;
    if (!Array.isArray(dense) || !dense.every(isNumber)) {
      throw new Error(`Qdrant collection "${this.collection}": point ${String(record.id)} has no "${DENSE_VECTOR}" vector; re-index it with "npm run index -- --all"`);
    }
    return { id: String(record.id), vector: Float32Array.from(dense), payload: this.parsePayload(record.id, record.payload) };
  }

  async getPoint(id: string): Promise<StoredPoint | null> {
    this.requireInit();
    // Qdrant answers 400 for an id that is not a UUID or integer; for us that is simply "not found".
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
    const records = await this.call(`read point ${id}`, (c) =>
      c.retrieve(this.collection, { ids: [id], with_payload: PAYLOAD_WITHOUT_EXTRAS, with_vector: [DENSE_VECTOR] }),
    );
    const first = records[0];
    return first ? this.toStoredPoint(first) : null;
  }

  /** A file's record, rebuilt from one chunk's payload (there is no files table in Qdrant). */
  private async toFileRecord(raw: unknown): Promise<FileRecord | null> {
    const parsed = fileFieldsSchema.safeParse(raw);
    if (!parsed.success) return null;
    const f = parsed.data;
    const extra = f[FILE_KEY];
    const chunkCount = extra
      ? extra.chunk_count
      : (await this.call(`count chunks of ${f.file_path}`, (c) => c.count(this.collection, { filter: fileFilter(f.file_path), exact: true }))).count;
    const taxonomy: TaxonomyPath = f.taxonomy;
    return {
      file_path: f.file_path,
      file_hash: f.file_hash,
      chunk_count: chunkCount,
      content_type: f.content_type,
      taxonomy,
      confidence: f.classification.confidence,
      contributor: f.contributor,
      indexed_at: extra?.indexed_at ?? f.updated_at,
    };
  }

  async getFile(filePath: string): Promise<FileRecord | null> {
    this.requireInit();
    const res = await this.call(`read ${filePath}`, (c) =>
      c.scroll(this.collection, { filter: fileFilter(filePath), limit: 1, with_payload: FILE_FIELDS, with_vector: false }),
    );
    const first = res.points[0];
    return first ? this.toFileRecord(first.payload) : null;
  }

  async listFiles(): Promise<FileRecord[]> {
    this.requireInit();
    // Chunk 0 stands for its file: one payload per file instead of one per chunk.
    const filter: Schemas['Filter'] = { must: [{ key: 'chunk_index', match: { value: 0 } }] };
    const byPath = new Map<string, FileRecord>();
    let offset: string | number | null = null;
    do {
      const page = await this.call('list files', (c) =>
        c.scroll(this.collection, { filter, limit: SCROLL_PAGE, offset: offset ?? undefined, with_payload: FILE_FIELDS, with_vector: false }),
      );
      for (const p of page.points) {
        const rec = await this.toFileRecord(p.payload);
        const seen = rec ? byPath.get(rec.file_path) : undefined;
        // Mid-replacement a file briefly has two first chunks; the newer one wins.
        if (rec && (!seen || seen.indexed_at < rec.indexed_at)) byPath.set(rec.file_path, rec);
      }
      offset = nextOffset(page.next_page_offset);
    } while (offset !== null);
    return [...byPath.values()].sort((a, b) => a.file_path.localeCompare(b.file_path));
  }

  async fileChunks(filePath: string): Promise<StoredPoint[]> {
    this.requireInit();
    const out: StoredPoint[] = [];
    let offset: string | number | null = null;
    do {
      const page = await this.call(`read chunks of ${filePath}`, (c) =>
        c.scroll(this.collection, {
          filter: fileFilter(filePath),
          limit: SCROLL_PAGE,
          offset: offset ?? undefined,
          with_payload: PAYLOAD_WITHOUT_EXTRAS,
          with_vector: [DENSE_VECTOR],
        }),
      );
      out.push(...page.points.map((p) => this.toStoredPoint(p)));
      offset = nextOffset(page.next_page_offset);
    } while (offset !== null);
    return out.sort((a, b) => a.payload.chunk_index - b.payload.chunk_index);
  }

  async leadingChunks(filePaths: readonly string[], perFile: number): Promise<Map<string, LeadingChunk[]>> {
    this.requireInit();
    const files = [...new Set(filePaths)];
    const out = new Map<string, LeadingChunk[]>();
    if (files.length === 0 || perFile < 1) return out;
    const filter: Schemas['Filter'] = {
      must: [
        { key: 'file_path', match: { any: files } },
        { key: 'chunk_index', match: { any: Array.from({ length: perFile }, (_, i) => i) } },
      ],
    };
    // Mid-replacement a file briefly has two chunks at an index; the newer one wins, as in listFiles.
    const newest = new Map<string, ChunkPayload>();
    let offset: string | number | null = null;
    do {
      const page = await this.call(`read the opening chunks of ${files.length} file(s)`, (c) =>
        c.scroll(this.collection, { filter, limit: SCROLL_PAGE, offset: offset ?? undefined, with_payload: PAYLOAD_WITHOUT_EXTRAS, with_vector: false }),
      );
      for (const p of page.points) {
        const payload = this.parsePayload(p.id, p.payload);
        const key = `${payload.file_path}\u0000${payload.chunk_index}`;
        const seen = newest.get(key);
        if (!seen || seen.updated_at < payload.updated_at) newest.set(key, payload);
      }
      offset = nextOffset(page.next_page_offset);
    } while (offset !== null);
    for (const p of [...newest.values()].sort((a, b) => a.chunk_index - b.chunk_index)) {
      const chunk: LeadingChunk = { chunk_index: p.chunk_index, start_line: p.start_line, end_line: p.end_line, content: p.content };
      out.set(p.file_path, [...(out.get(p.file_path) ?? []), chunk]);
    }
    return out;
  }

  async setTaxonomy(filePath: string, taxonomy: TaxonomyPath, confidence: number): Promise<void> {
    this.requireInit();
    await this.call(`set the taxonomy of ${filePath}`, (c) =>
      c.setPayload(this.collection, { payload: { taxonomy, classification: { confidence } }, filter: fileFilter(filePath), wait: true }),
    );
  }

  async count(filters?: SearchFilters): Promise<number> {
    this.requireInit();
    const filter = qdrantFilter(normalizeFilters(filters));
    const res = await this.call(`count points of "${this.collection}"`, (c) => c.count(this.collection, { filter, exact: true }));
    return res.count;
  }

  async scroll(cursor: string | null, limit: number): Promise<{ points: StoredPoint[]; next: string | null }> {
    this.requireInit();
    const page = await this.call(`page through "${this.collection}"`, (c) =>
      c.scroll(this.collection, {
        limit,
        offset: cursor ?? undefined,
        with_payload: PAYLOAD_WITHOUT_EXTRAS,
        with_vector: [DENSE_VECTOR],
      }),
    );
    const next = nextOffset(page.next_page_offset);
    return { points: page.points.map((p) => this.toStoredPoint(p)), next: next === null ? null : String(next) };
  }

  private async facet(key: string, filter?: Schemas['Filter']): Promise<Record<string, number>> {
    const res = await this.call(`count values of ${key}`, (c) => c.facet(this.collection, { key, filter, limit: 10_000, exact: true }));
    return Object.fromEntries(res.hits.map((h) => [String(h.value), h.count]));
  }

  async stats(): Promise<StoreStats> {
    this.requireInit();
    const firstChunks: Schemas['Filter'] = { must: [{ key: 'chunk_index', match: { value: 0 } }] };
    const [points, documents, byContentType, byTaxonomy, latest] = await Promise.all([
      this.count(),
      this.call('count documents', (c) => c.count(this.collection, { filter: firstChunks, exact: true })),
      this.facet('content_type', firstChunks),
      this.facet('taxonomy.full_path', firstChunks),
      this.call('find the latest update', (c) =>
        c.scroll(this.collection, { limit: 1, with_payload: ['updated_at'], with_vector: false, order_by: { key: 'updated_at', direction: 'desc' } }),
      ),
    ]);
    const top = latest.points[0]?.payload;
    const last = isRecord(top) && typeof top.updated_at === 'string' ? top.updated_at : null;
    return {
      points_count: points,
      documents: documents.count,
      by_content_type: byContentType,
      by_taxonomy: byTaxonomy,
      last_indexed_at: last,
    };
  }

  async close(): Promise<void> {
    // The REST client holds only keep-alive sockets, which close on their own.
    this.dimension = null;
  }
}
