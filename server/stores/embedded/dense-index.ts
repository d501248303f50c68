/**
 * The approximate nearest-neighbour pass of dense search in the embedded store:
 * a usearch HNSW graph over int8 copies of the stored vectors, keyed by the
 * SQLite rowid. It only proposes candidates; the store re-ranks them exactly
 * from SQLite, which stays the source of truth (see store.ts).
 *
 * Why usearch: measured side by side on the same clustered 1024-dim vectors
 * (README, Benchmark), it searched faster at equal recall than hnswlib-node,
 * stores int8 (1 KB a vector; hnswlib-node keeps float32, 4 KB, which puts 1M
 * chunks past the memory target), and saves to one file that loads in well
 * under a second.
 *
 * Why per-vector int8 scaling: usearch casts floats to int8 as round(x·127),
 * which leaves a unit 1024-dim vector (components ~±0.03) with 3 bits. Cosine
 * ignores each vector's scale, so every vector is scaled to its own ±127 range
 * before it is handed over, keeping the full 8 bits.
 */
import fs from 'node:fs';
import { Index, MetricKind, ScalarKind } from 'usearch';

/**
 * Graph degree and build/search beam widths. Clustered vectors (what
 * embeddings look like) reach recall@10 1.0 after re-rank with far less; these
 * are set for the worst cases the store's tests hold it to, 5k random Gaussian
 * and sparse feature-hashing vectors (100 candidates re-ranked): degree 16
 * gave 0.51 / 0.61, degree 32 with a 256 beam 0.980 / 0.996, with 384
 * 0.998 / 1.000. The build beam costs every insert (the index maintenance of
 * an indexing run): 64 instead of 128 halved the CPU per insert on 20k
 * clustered 1024-dim vectors (0.22 vs 0.46–0.49 ms) at recall@10 1.000 both,
 * and kept the tests' 5k Gaussian / sparse cases at 0.992 / 1.000 (same as 128).
 * A large graph needs the wider build beam back: at 1M clustered vectors
 * built with 64, 3 % of the true top-10 could not be reached (recall@10 0.968
 * after re-rank with a search beam of 320, 640 or 1,024 alike; most of the
 * missed vectors were not found even by a search for themselves) and
 * filtered results matched exact ones at 0.970; built with 128, 0.999 and
 * 1.000, dense p95 3.6 ms. At 300k, 64 still gave 0.996 and 1.000.
 */
const CONNECTIVITY = 32;
const EXPANSION_ADD = 64;
const EXPANSION_ADD_LARGE = 128;
/** From this many vectors a graph is built (and grown) with EXPANSION_ADD_LARGE. */
export const LARGE_GRAPH = 500_000;
const EXPANSION_SEARCH = 320;
const INT8_MAX = 127;

/** The first bytes of the usearch header inside a saved index (after the vector matrix's 8-byte shape). */
const HEADER_MAGIC = Buffer.from('usearch');

function toInt8(vector: Float32Array, into: Int8Array, offset: number): boolean {
  let max = 0;
  for (let i = 0; i < vector.length; i++) {
    const a = Math.abs(vector[i]!);
    if (a > max) max = a;
  }
  if (!(max > 0) || !Number.isFinite(max)) return false;
  const k = INT8_MAX / max;
  for (let i = 0; i < vector.length; i++) into[offset + i] = Math.round(vector[i]! * k);
  return true;
}

export class DenseIndex {
  private constructor(
    readonly dimension: number,
    private index: Index,
    /** The saved file this graph is a read-only memory map of, until it is first changed; null once it is in memory. */
    private mappedFrom: { file: string; bytes: number } | null = null,
    /** The vectors the graph was sized for when it was opened: they choose its build beam (LARGE_GRAPH). */
    private readonly sizedFor = 0,
  ) {}

  private static empty(dimension: number, vectors: number): Index {
    return new Index({
      dimensions: dimension,
      metric: MetricKind.Cos,
      quantization: ScalarKind.I8,
      connectivity: CONNECTIVITY,
      expansion_add: vectors >= LARGE_GRAPH ? EXPANSION_ADD_LARGE : EXPANSION_ADD,
      expansion_search: EXPANSION_SEARCH,
      multi: false,
    });
  }

  /** An empty graph for about `vectors` vectors (the count it is built from; it may grow past it). */
  static create(dimension: number, vectors = 0): DenseIndex {
    if (!Number.isInteger(dimension) || dimension <= 0) throw new RangeError(`DenseIndex: dimension must be a positive integer, got ${dimension}`);
    return new DenseIndex(dimension, DenseIndex.empty(dimension, vectors), null, vectors);
  }

  /**
   * Opens a file written by `save` as a read-only memory map (usearch `view`):
   * searches start at once and only the pages they touch are read, instead of
   * the whole file (~1.3 GB at 1M vectors) being copied into memory at open.
   * The first change reads it whole into a mutable graph (`writable`).
   * usearch trusts its input (a torn or foreign file crashes the process), so
   * the caller passes the byte count it recorded at save time and the file
   * must match it and carry usearch's header.
   */
  static load(file: string, dimension: number, expectedBytes: number): DenseIndex {
    const size = fs.statSync(file).size;
    if (size !== expectedBytes) throw new Error(`dense index ${file} has ${size} bytes, ${expectedBytes} were saved`);
    const shape = Buffer.alloc(8);
    const magic = Buffer.alloc(HEADER_MAGIC.length);
    const fd = fs.openSync(file, 'r');
    let rows: number;
    try {
      fs.readSync(fd, shape, 0, shape.length, 0);
      rows = shape.readUInt32LE(0);
      const columns = shape.readUInt32LE(4);
      if (columns !== dimension || 8 + rows * columns + magic.length > size) {
        throw new Error(`dense index ${file} holds ${columns}-byte vectors, not ${dimension}-dim int8 ones`);
      }
      fs.readSync(fd, magic, 0, magic.length, 8 + rows * columns);
    } finally {
      fs.closeSync(fd);
    }
    if (!magic.equals(HEADER_MAGIC)) throw new Error(`dense index ${file} is not a usearch index`);
    const index = DenseIndex.empty(dimension, rows);
    index.view(file);
    return new DenseIndex(dimension, index, { file, bytes: size }, rows);
  }

  /**
   * The graph as a mutable index: a mapped one cannot be changed, so it is
   * read whole from its file first (once). Throws when that file is gone or
   * changed (another process saved a newer graph and removed it): the store
   * then rebuilds from SQLite.
   */
  private writable(): Index {
    if (this.mappedFrom === null) return this.index;
    const { file, bytes } = this.mappedFrom;
    // usearch would crash on a torn file: the one read must be the one mapped, whole.
    const size = fs.statSync(file).size;
    if (size !== bytes) throw new Error(`dense index ${file} changed since it was opened (${size} bytes, ${bytes} mapped)`);
    const mapped = this.index.size();
    const full = DenseIndex.empty(this.dimension, this.sizedFor);
    full.load(file);
    if (full.size() !== mapped) throw new Error(`dense index ${file} changed since it was opened (${full.size()} vectors, ${mapped} mapped)`);
    this.index = full;
    this.mappedFrom = null;
    return full;
  }

  /** Whether the graph is still the read-only map of its saved file. */
  get mapped(): boolean {
    return this.mappedFrom !== null;
  }

  get size(): number {
    return this.index.size();
  }

  /**
   * Keys the graph holds that no longer stand for their row: deleted rows, and
   * rows whose vector changed after it was added. usearch's own `remove` can
   * spin forever in native code (seen with usearch 2.25 after a few hundred
   * upserts: the server stopped answering), so the graph is never edited in
   * place: deleted keys are skipped at search time, and once this debt is a
   * large share of the graph the store rebuilds it (dense-upkeep.ts). Candidates
   * are re-ranked exactly from SQLite, so a stale vector costs recall only,
   * never a wrong score or a deleted chunk.
   */
  get debt(): number {
    return this.removed.size + this.stale;
  }

  private readonly removed = new Set<number>();
  private stale = 0;

  /**
   * Adds vectors; a rowid the graph already holds keeps its old vector and
   * counts as debt. A zero or non-finite vector has no direction and is only
   * marked removed. usearch spreads a batch over every core: the event loop
   * waits for the call either way, so one thread would only make it wait longer.
   */
  upsert(rowids: readonly number[], vectors: readonly Float32Array[]): void {
    if (rowids.length === 0) return;
    // The last vector given for a rowid wins; usearch refuses a key twice in one call.
    const latest = new Map<number, Float32Array>();
    rowids.forEach((r, i) => latest.set(r, vectors[i]!));
    const d = this.dimension;
    const data = new Int8Array(latest.size * d);
    const keys: bigint[] = [];
    let n = 0;
    for (const [rowid, v] of latest) {
      if (v.length !== d) throw new RangeError(`DenseIndex: vector for rowid ${rowid} has ${v.length} dimensions, the index holds ${d}`);
      const key = BigInt(rowid);
      if (this.index.contains(key) === true) {
        this.removed.delete(rowid);
        this.stale += 1;
        continue;
      }
      if (toInt8(v, data, n * d)) {
        keys.push(key);
        n++;
      }
    }
    if (n === 0) return;
    // One thread: usearch's multi-threaded add lost neighbours under CPU contention (the filtered-exactness
    // tests in test/integration/dense-index.test.ts failed in about half of the runs on a loaded machine,
    // never with one thread), and one thread indexed as fast in `npm run bench -- --only indexing`.
    this.writable().add(BigUint64Array.from(keys), data.subarray(0, n * d), 1);
  }

  remove(rowids: readonly number[]): void {
    for (const r of rowids) if (this.index.contains(BigInt(r)) === true) this.removed.add(r);
  }

  /** Rowids of about the `count` nearest vectors by cosine, nearest first. */
  search(query: Float32Array, count: number): number[] {
    if (this.index.size() === 0) return [];
    const q = new Int8Array(this.dimension);
    if (!toInt8(query, q, 0)) return [];
    const wanted = Math.max(1, Math.floor(count));
    const found = this.index.search(q, wanted + Math.min(this.removed.size, wanted), 1);
    const out: number[] = [];
    for (const key of found.keys) {
      // usearch pads a short answer with the all-ones key.
      if (key === 0xffffffffffffffffn) continue;
      const rowid = Number(key);
      if (!this.removed.has(rowid)) out.push(rowid);
      if (out.length === wanted) break;
    }
    return out;
  }

  /** Writes the index to `file` and flushes it to disk; returns its size in bytes. */
  save(file: string): number {
    // Read whole first: the map's file is usually the one this save replaces and removes.
    this.writable().save(file);
    const fd = fs.openSync(file, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return fs.statSync(file).size;
  }
}
