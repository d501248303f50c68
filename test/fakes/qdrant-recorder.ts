/**
 * A recording stand-in for Qdrant's REST API: a real HTTP server on 127.0.0.1
 * that logs every request (method, path, query, headers, JSON body, size) and
 * answers with Qdrant's envelope `{result, status: "ok", time}`.
 *
 * It is a recorder, not a Qdrant: results are canned but well-formed. It keeps
 * a small map of upserted points (and applies simple `match`/`has_id` filters)
 * only so that reads after writes return something a store can parse.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or null when there was none or it was not JSON. */
  body: unknown;
  bytes: number;
}

export interface FakePoint {
  id: string | number;
  vector: Record<string, unknown>;
  payload: Record<string, unknown>;
}

export interface FakeCollection {
  config: Record<string, unknown>;
  metadata: Record<string, unknown>;
  payloadSchema: Record<string, { data_type: string; points: number }>;
  points: Map<string, FakePoint>;
  snapshots: Array<{ name: string; creation_time: string; size: number; checksum: string }>;
}

type Matcher = { method?: string; path?: RegExp };
interface Override {
  match: Matcher;
  status: number;
  body: unknown;
  times: number;
  delayMs: number;
}

export const SNAPSHOT_BYTES = Buffer.from('QDRANT-SNAPSHOT-TAR\0fake bytes for download tests\n');

/** Loose JSON access for a fake: missing or mistyped fields read as empty. */
export function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function getPath(o: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((cur, k) => obj(cur)[k], o);
}

function conditionHolds(point: FakePoint, cond: unknown): boolean {
  const c = obj(cond);
  if ('has_id' in c) return arr(c.has_id).map(String).includes(String(point.id));
  if ('must' in c || 'must_not' in c || 'should' in c) return filterHolds(point, c);
  const value = getPath(point.payload, String(c.key));
  const values = Array.isArray(value) ? value : [value];
  const match = obj(c.match);
  if ('value' in match) return values.includes(match.value);
  if ('any' in match) return values.some((v) => arr(match.any).includes(v));
  return true;
}

function filterHolds(point: FakePoint, filterValue: unknown): boolean {
  if (!filterValue) return true;
  const filter = obj(filterValue);
  const must = arr(filter.must);
  const mustNot = arr(filter.must_not);
  const should = arr(filter.should);
  return (
    must.every((c) => conditionHolds(point, c)) &&
    !mustNot.some((c) => conditionHolds(point, c)) &&
    (should.length === 0 || should.some((c) => conditionHolds(point, c)))
  );
}

function pick(payload: Record<string, unknown>, keys: unknown[]): Record<string, unknown> {
  return Object.fromEntries(keys.map(String).filter((k) => k in payload).map((k) => [k, payload[k]]));
}

function selectPayload(payload: Record<string, unknown>, withPayload: unknown): Record<string, unknown> | undefined {
  if (withPayload === false || withPayload === undefined || withPayload === null) return undefined;
  if (withPayload === true) return payload;
  if (Array.isArray(withPayload)) return pick(payload, withPayload);
  const sel = obj(withPayload);
  if ('exclude' in sel) return Object.fromEntries(Object.entries(payload).filter(([k]) => !arr(sel.exclude).includes(k)));
  if ('include' in sel) return pick(payload, arr(sel.include));
  return payload;
}

function selectVector(vector: Record<string, unknown>, withVector: unknown): Record<string, unknown> | undefined {
  if (!withVector) return undefined;
  const names = withVector === true ? Object.keys(vector) : arr(withVector).map(String);
  // Qdrant returns computed sparse vectors, never the Document that produced them.
  return Object.fromEntries(names.filter((n) => n in vector && Array.isArray(vector[n])).map((n) => [n, vector[n]]));
}

export class QdrantRecorder {
  readonly requests: RecordedRequest[] = [];
  readonly collections = new Map<string, FakeCollection>();
  private overrides: Override[] = [];
  private server!: Server;
  url = '';
  port = 0;

  private constructor(
    readonly version: string,
    readonly apiKey: string | undefined,
  ) {}

  static async start(opts: { version?: string; apiKey?: string } = {}): Promise<QdrantRecorder> {
    const rec = new QdrantRecorder(opts.version ?? '1.16.3', opts.apiKey);
    rec.server = createServer((req, res) => void rec.handle(req, res));
    await new Promise<void>((resolve) => rec.server.listen(0, '127.0.0.1', () => resolve()));
    rec.port = (rec.server.address() as AddressInfo).port;
    rec.url = `http://127.0.0.1:${rec.port}`;
    return rec;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `times` matching requests get `status` (and optionally wait first). */
  fail(match: Matcher, status: number, opts: { times?: number; body?: unknown; delayMs?: number } = {}): void {
    this.overrides.push({
      match,
      status,
      body: opts.body ?? { status: { error: `injected failure ${status}` }, time: 0 },
      times: opts.times ?? 1,
      delayMs: opts.delayMs ?? 0,
    });
  }

  find(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  clear(): void {
    this.requests.length = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    let body: unknown = null;
    if (raw.length && /json/.test(req.headers['content-type'] ?? '')) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = null;
      }
    }
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      bytes: raw.length,
    };
    this.requests.push(rec);

    const override = this.overrides.find((o) => o.times > 0 && (!o.match.method || o.match.method === rec.method) && (!o.match.path || o.match.path.test(rec.path)));
    if (override) {
      override.times -= 1;
      if (override.delayMs) await new Promise((r) => setTimeout(r, override.delayMs));
      if (res.destroyed) return;
      return this.send(res, override.status, override.body);
    }
    if (this.apiKey !== undefined && req.headers['api-key'] !== this.apiKey) {
      return this.send(res, 401, { status: { error: 'Unauthorized: invalid api key' }, time: 0 });
    }
    try {
      this.route(rec, res);
    } catch (e) {
      this.send(res, 500, { status: { error: `recorder: ${e instanceof Error ? e.message : String(e)}` }, time: 0 });
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private ok(res: ServerResponse, result: unknown): void {
    this.send(res, 200, { result, status: 'ok', time: 0.0001 });
  }

  private notFound(res: ServerResponse, what: string): void {
    this.send(res, 404, { status: { error: `Not found: ${what}` }, time: 0 });
  }

  private collectionInfo(c: FakeCollection): Record<string, unknown> {
    const cfg = c.config;
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: c.points.size,
      segments_count: 1,
      config: {
        params: {
          vectors: cfg.vectors,
          sparse_vectors: cfg.sparse_vectors,
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
        },
        hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false, ...obj(cfg.hnsw_config) },
        optimizer_config: {
          deleted_threshold: 0.2,
          vacuum_min_vector_number: 1000,
          default_segment_number: 0,
          max_segment_size: null,
          memmap_threshold: null,
          indexing_threshold: 10000,
          flush_interval_sec: 5,
          max_optimization_threads: null,
        },
        wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
        quantization_config: cfg.quantization_config ?? null,
        metadata: c.metadata,
      },
      payload_schema: c.payloadSchema,
    };
  }

  private updated(res: ServerResponse): void {
    this.ok(res, { operation_id: this.requests.length, status: 'completed' });
  }

  private route(r: RecordedRequest, res: ServerResponse): void {
    const { method, path } = r;
    const body = obj(r.body);
    if (method === 'GET' && path === '/') {
      return this.send(res, 200, { title: 'qdrant - vector search engine', version: this.version, commit: 'recorder' });
    }
    if (method === 'GET' && path === '/collections') {
      return this.ok(res, { collections: [...this.collections.keys()].map((name) => ({ name })) });
    }
    const m = /^\/collections\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) return this.notFound(res, path);
    const name = decodeURIComponent(m[1] ?? '');
    const rest = m[2] ?? '';
    const col = this.collections.get(name);

    if (rest === '/exists' && method === 'GET') return this.ok(res, { exists: !!col });
    if (rest === '' && method === 'PUT') {
      if (col) return this.send(res, 409, { status: { error: `Wrong input: Collection \`${name}\` already exists!` }, time: 0 });
      this.collections.set(name, { config: body, metadata: obj(body.metadata), payloadSchema: {}, points: new Map(), snapshots: [] });
      return this.ok(res, true);
    }
    if (!col) return this.notFound(res, `Collection \`${name}\` doesn't exist!`);
    if (rest === '' && method === 'GET') return this.ok(res, this.collectionInfo(col));
    if (rest === '' && method === 'PATCH') {
      Object.assign(col.metadata, obj(body.metadata));
      return this.ok(res, true);
    }
    if (rest === '' && method === 'DELETE') {
      this.collections.delete(name);
      return this.ok(res, true);
    }
    if (rest === '/index' && method === 'PUT') {
      col.payloadSchema[String(body.field_name)] = { data_type: String(body.field_schema), points: 0 };
      return this.updated(res);
    }
    if (rest === '/points' && method === 'PUT') {
      for (const raw of arr(body.points)) {
        const p = obj(raw);
        const id = typeof p.id === 'number' ? p.id : String(p.id);
        col.points.set(String(id), { id, vector: obj(p.vector), payload: { ...obj(p.payload) } });
      }
      return this.updated(res);
    }
    if (rest === '/points' && method === 'POST') {
      const found = arr(body.ids)
        .map((id) => col.points.get(String(id)))
        .filter((p): p is FakePoint => !!p);
      return this.ok(res, found.map((p) => this.view(p, { with_payload: true, ...body })));
    }
    if (rest === '/points/delete' && method === 'POST') {
      const ids = arr(body.points).map(String);
      for (const p of [...col.points.values()]) {
        if (ids.includes(String(p.id)) || (body.filter && filterHolds(p, body.filter))) col.points.delete(String(p.id));
      }
      return this.updated(res);
    }
    if (rest === '/points/payload' && method === 'POST') {
      for (const p of col.points.values()) if (filterHolds(p, body.filter)) Object.assign(p.payload, obj(body.payload));
      return this.updated(res);
    }
    if (rest === '/points/count' && method === 'POST') {
      return this.ok(res, { count: [...col.points.values()].filter((p) => filterHolds(p, body.filter)).length });
    }
    if (rest === '/points/scroll' && method === 'POST') {
      let pts = [...col.points.values()].filter((p) => filterHolds(p, body.filter));
      const orderBy = body.order_by;
      if (orderBy) {
        const key = typeof orderBy === 'string' ? orderBy : String(obj(orderBy).key);
        const sign = obj(orderBy).direction === 'desc' ? -1 : 1;
        pts.sort((a, b) => String(getPath(a.payload, key)).localeCompare(String(getPath(b.payload, key))) * sign);
      } else {
        pts.sort((a, b) => String(a.id).localeCompare(String(b.id)));
        if (body.offset !== undefined && body.offset !== null) pts = pts.filter((p) => String(p.id) >= String(body.offset));
      }
      const limit = typeof body.limit === 'number' ? body.limit : 10;
      const next = pts[limit];
      return this.ok(res, {
        points: pts.slice(0, limit).map((p) => this.view(p, body)),
        next_page_offset: next && !orderBy ? next.id : null,
      });
    }
    if (rest === '/points/query' && method === 'POST') return this.ok(res, this.cannedQuery(col, body));
    if (rest === '/points/query/batch' && method === 'POST') {
      return this.ok(res, arr(body.searches).map((q) => this.cannedQuery(col, obj(q))));
    }
    if (rest === '/facet' && method === 'POST') {
      const counts = new Map<string, number>();
      for (const p of col.points.values()) {
        if (!filterHolds(p, body.filter)) continue;
        const v = getPath(p.payload, String(body.key));
        if (v !== undefined && v !== null) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
      }
      return this.ok(res, { hits: [...counts].map(([value, count]) => ({ value, count })) });
    }
    if (rest === '/snapshots' && method === 'POST') {
      const snap = {
        name: `${name}-${col.snapshots.length + 1}.snapshot`,
        creation_time: new Date().toISOString().slice(0, 19),
        size: SNAPSHOT_BYTES.length,
        checksum: 'abc123',
      };
      col.snapshots.push(snap);
      return this.ok(res, snap);
    }
    if (rest === '/snapshots' && method === 'GET') return this.ok(res, col.snapshots);
    if (rest === '/snapshots/recover' && method === 'PUT') return this.ok(res, true);
    if (rest === '/snapshots/upload' && method === 'POST') return this.ok(res, true);
    const snap = /^\/snapshots\/([^/]+)$/.exec(rest);
    if (snap && method === 'GET') {
      const wanted = decodeURIComponent(snap[1] ?? '');
      if (!col.snapshots.some((s) => s.name === wanted)) return this.notFound(res, `snapshot ${wanted}`);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SNAPSHOT_BYTES.length });
      res.end(SNAPSHOT_BYTES);
      return;
    }
    return this.notFound(res, `${method} ${path}`);
  }

  /** Stored points that pass the filter, in insertion order, with made-up descending scores. */
  private cannedQuery(col: FakeCollection, body: Record<string, unknown>): { points: Array<Record<string, unknown>> } {
    const limit = typeof body.limit === 'number' ? body.limit : 10;
    const pts = [...col.points.values()].filter((p) => filterHolds(p, body.filter)).slice(0, limit);
    return { points: pts.map((p, i) => ({ ...this.view(p, body), version: 1, score: 0.9 - i * 0.1 })) };
  }

  private view(p: FakePoint, body: Record<string, unknown>): Record<string, unknown> {
    const payload = selectPayload(p.payload, body.with_payload);
    const vector = selectVector(p.vector, body.with_vector);
    return { id: p.id, ...(payload ? { payload } : {}), ...(vector ? { vector } : {}) };
  }
}
