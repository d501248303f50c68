import { EmbedderDecorator } from './embedder-decorator.js';
import { openSqliteWithSchema } from '../storage/sqlite-file.js';
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import type { Embedder } from './embedder.js';

export const EMBEDDING_CACHE_FILE = 'embedding-cache.sqlite';

export interface CacheStats {
  /** Document texts answered from memory or disk. */
  hits: number;
  /** Document texts that had to be embedded by the inner embedder. */
  misses: number;
  memoryHits: number;
  diskHits: number;
}

export interface CachedEmbedderOptions {
  /** SQLite file; its folder is created if missing. */
  file: string;
  /** Vectors kept in memory in front of SQLite. */
  memoryEntries?: number;
}

interface Row {
  vector: Buffer;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const CACHE_SCHEMA = `CREATE TABLE IF NOT EXISTS embedding_cache (
  embedder_id TEXT NOT NULL,
  text_sha256 TEXT NOT NULL,
  vector BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (embedder_id, text_sha256)
) WITHOUT ROWID`;

/**
 * Remembers document vectors by (embedder id, sha256 of the text), so a chunk
 * that did not change is never sent to a paid or slow provider again, even when
 * its file moved or was re-indexed from scratch. Keyed by the embedder id, so a
 * vector is never served to another model or dimension. Queries pass through:
 * they are cheap, varied and rarely repeat.
 */
export class CachedEmbedder extends EmbedderDecorator {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly memory: LRUCache<string, Float32Array>;
  private readonly select: Database.Statement<[string, string], Row>;
  private readonly insertMany: (entries: Array<[string, Float32Array]>) => void;
  private readonly counters: CacheStats = { hits: 0, misses: 0, memoryHits: 0, diskHits: 0 };

  constructor(inner: Embedder, options: CachedEmbedderOptions) {
    super(inner);
    this.file = options.file;
    this.memory = new LRUCache({ max: options.memoryEntries ?? 2048 });
    this.db = openSqliteWithSchema(options.file, CACHE_SCHEMA, { what: 'embedding cache', fix: 'check DATA_DIR permissions, or delete the file (it is only a cache)' });
    this.select = this.db.prepare<[string, string], Row>(
      'SELECT vector FROM embedding_cache WHERE embedder_id = ? AND text_sha256 = ?',
    );
    const insert = this.db.prepare<[string, string, Buffer, number]>(
      'INSERT OR REPLACE INTO embedding_cache (embedder_id, text_sha256, vector, created_at) VALUES (?, ?, ?, ?)',
    );
    const insertAll = this.db.transaction((entries: Array<[string, Float32Array]>) => {
      const now = Date.now();
      for (const [hash, vector] of entries) {
        insert.run(this.id, hash, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), now);
      }
    });
    // IMMEDIATE: the server and the CLI share this file; a writer waits for the lock (busy_timeout) instead of failing.
    this.insertMany = (entries) => insertAll.immediate(entries);
  }

  stats(): CacheStats {
    return { ...this.counters };
  }

  async embed(texts: string[], kind: 'document' | 'query'): Promise<Float32Array[]> {
    if (kind === 'query') return this.inner.embed(texts, kind);
    const out: Array<Float32Array | undefined> = new Array(texts.length);
    // Texts repeated within one call are embedded once.
    const missing = new Map<string, { text: string; positions: number[] }>();
    texts.forEach((text, i) => {
      const hash = sha256(text);
      const pending = missing.get(hash);
      if (pending) {
        pending.positions.push(i);
        return;
      }
      const cached = this.lookup(hash);
      if (cached) {
        this.counters.hits++;
        out[i] = cached;
      } else {
        missing.set(hash, { text, positions: [i] });
      }
    });
    if (missing.size > 0) {
      const entries = [...missing.entries()];
      const vectors: Float32Array[] = [];
      // The inner embedder caps inputs per call; respect it even if our caller did not.
      for (let i = 0; i < entries.length; i += this.inner.maxBatch) {
        const slice = entries.slice(i, i + this.inner.maxBatch);
        vectors.push(...(await this.inner.embed(slice.map(([, m]) => m.text), 'document')));
      }
      if (vectors.length !== entries.length) {
        throw new Error(`${this.inner.id} returned ${vectors.length} vectors for ${entries.length} texts`);
      }
      const toStore: Array<[string, Float32Array]> = [];
      entries.forEach(([hash, { positions }], j) => {
        const vector = vectors[j]!;
        this.counters.misses++;
        this.counters.hits += positions.length - 1;
        this.memory.set(hash, vector.slice());
        toStore.push([hash, vector]);
        for (const p of positions) out[p] = p === positions[0] ? vector : vector.slice();
      });
      this.insertMany(toStore);
    }
    return out.map((v, i) => {
      if (!v) throw new Error(`embedding cache: no vector for text ${i}`);
      return v;
    });
  }

  /** A copy, so a caller that changes its vector cannot change the cache. */
  private lookup(hash: string): Float32Array | undefined {
    const fromMemory = this.memory.get(hash);
    if (fromMemory) {
      this.counters.memoryHits++;
      return fromMemory.slice();
    }
    const row = this.select.get(this.id, hash);
    if (!row || row.vector.byteLength !== this.dimension * 4) return undefined;
    const vector = new Float32Array(this.dimension);
    // Copy into a fresh, aligned buffer: the blob's Buffer may sit at any offset.
    new Uint8Array(vector.buffer).set(row.vector);
    this.counters.diskHits++;
    this.memory.set(hash, vector.slice());
    return vector;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
