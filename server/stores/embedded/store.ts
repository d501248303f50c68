/**
 * The default store: one SQLite file (better-sqlite3 + sqlite-vec) holding
 * chunks, payloads, vectors and an FTS5 keyword index, written in single
 * transactions so a crash leaves either the old or the new version of a file.
 *
 * Dense search does not scan SQLite: an HNSW graph (dense-index.ts) proposes a
 * few hundred candidates and only those are re-ranked exactly with sqlite-vec's
 * `vec_distance_cosine` over the stored float vectors. The graph is derived
 * data: it is saved beside the database, checked against it at open, brought
 * up to date from `vector_log` (schema.ts), and rebuilt in the background when it
 * cannot be; until it is ready dense search scans SQLite exactly.
 *
 * Vectors live in a plain rowid table (`chunk_vectors`), not a vec0 virtual
 * table. Measured here at 100k × 1024 dims: reading one vector by rowid from
 * vec0 costs ~1.25 ms (it walks a 4 MB chunk blob; ~30 µs with chunk_size=8),
 * so re-ranking 400 candidates took 500 ms; from a rowid table 400 vectors
 * come back in one statement in ~2.5 ms, and streaming all of them at open
 * takes 0.6 s instead of 4 s. vec0's own KNN is a full scan (~70 ms at 50k),
 * which this store never needs. The blobs are sqlite-vec's float32 format, and
 * a CHECK constraint enforces the dimension, as vec0 would.
 *
 * The class is one chain, a file per job: database.ts (connection, schema,
 * statements) → dense-upkeep.ts (the graph kept in step with SQLite) →
 * search.ts (dense, keyword, hybrid) → this file (lifecycle, writes, reads).
 * Beside it: schema.ts, rows.ts (rows ↔ payloads), sql-filter.ts, options.ts,
 * admin.ts and snapshots.ts (the StoreAdmin side).
 */
import path from 'node:path';
import type { SearchFilters, TaxonomyPath } from '../../../shared/api-types.js';
import type { EmbedderInfo } from '../../embedders/embedder.js';
import { privateSqliteFile } from '../../storage/private-files.js';
import { normalizeFilters } from '../filters.js';
import { EmbedderMismatchError, type FileRecord, type LeadingChunk, type StoredPoint, type StoreStats, type VectorStore } from '../vector-store.js';
import { blobToVector, fileToParams, num, payloadToParams, row, rowToFile, rowToPayload, text, textOrNull, vectorBlob } from './rows.js';
import { CHUNK_COLUMNS, CHUNK_SELECT, FILE_COLUMNS, FTS_COLUMNS, VECTOR_LOG_SCHEMA, vectorTableSql } from './schema.js';
import { andWhere, sqlFilter } from './sql-filter.js';
import { EmbeddedSearch } from './search.js';

export class EmbeddedStore extends EmbeddedSearch implements VectorStore {
  readonly kind = 'embedded' as const;

  // -- lifecycle -------------------------------------------------------------

  async init(embedder: EmbedderInfo): Promise<void> {
    this.open();
    if (!Number.isInteger(embedder.dimension) || embedder.dimension <= 0 || embedder.id === '') {
      throw new RangeError(`init: embedder "${embedder.id}" reports dimension ${embedder.dimension}; a positive integer and a non-empty id are required`);
    }
    if (this.embedder?.id === embedder.id && this.embedder.dimension === embedder.dimension) return;
    this.db.transaction(() => {
      const storedId = this.meta('embedder_id');
      const storedDim = this.meta('dimension');
      const same = storedId === embedder.id && storedDim === String(embedder.dimension);
      if (storedId !== null && !same) {
        const points = this.scalar('SELECT count(*) AS n FROM chunks');
        if (points > 0) {
          throw new EmbedderMismatchError(
            `${this.location} holds ${points} vectors from embedder "${storedId}" (${storedDim ?? '?'} dims), ` +
              `not "${embedder.id}" (${embedder.dimension} dims), and vectors of different embedders cannot be searched together. ` +
              'Re-index into a fresh DATA_DIR (move or remove the data directory, then run `npm run index -- --all`), ' +
              'or migrate the store to the new embedder.',
          );
        }
      }
      // An empty store adopts whatever embedder comes first.
      if (!same) this.db.exec('DROP TABLE IF EXISTS chunk_vectors');
      this.db.exec(vectorTableSql(embedder.dimension));
      this.db.exec(VECTOR_LOG_SCHEMA);
      this.setMeta('embedder_id', embedder.id);
      this.setMeta('dimension', String(embedder.dimension));
    }).immediate();
    this.statements.clear();
    this.embedder = { id: embedder.id, dimension: embedder.dimension };
    this.dense = null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Saved now so the next open replays nothing; a kill before this point only costs that replay.
    if (this.dense !== null && this.embedder !== null && this.saveTimer !== null) this.saveDense();
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    this.closed = true;
    await this.closeKeywordReader();
    this.statements.clear();
    this.dense = null;
    this.db.close();
  }

  /**
   * A consistent copy of the whole store taken while it keeps serving (SQLite's
   * online backup: readers and writers are only paused between page batches).
   */
  async backup(toFile: string): Promise<void> {
    this.open();
    const target = path.resolve(toFile);
    if (target === this.location) throw new Error(`backup: ${toFile} is the store itself; choose another file`);
    // Snapshots and backups hold the whole library: as private as the store.
    privateSqliteFile(target);
    await this.db.backup(target);
  }


  // -- writes ----------------------------------------------------------------

  /**
   * Writes one point inside the caller's transaction. `keepCreatedAt`: an
   * existing id keeps its first `created_at` (re-indexing); migration copies it.
   */
  private writePoint(point: StoredPoint, keepCreatedAt: boolean): void {
    this.checkVector(point.vector, `point ${point.id} (${point.payload.file_path}#${point.payload.chunk_index})`);
    const params = payloadToParams(point.payload);
    const existing = this.stmt('SELECT rowid, created_at FROM chunks WHERE id = ?').get(point.id);
    let rowid: number;
    if (existing === undefined) {
      const cols = CHUNK_COLUMNS.join(', ');
      const vals = CHUNK_COLUMNS.map((c) => `@${c}`).join(', ');
      const info = this.stmt(`INSERT INTO chunks(${cols}) VALUES (${vals})`).run({ ...params, id: point.id });
      rowid = Number(info.lastInsertRowid);
    } else {
      const r = row(existing, 'chunks');
      rowid = num(r, 'rowid');
      if (keepCreatedAt) params.created_at = text(r, 'created_at');
      const sets = CHUNK_COLUMNS.filter((c) => c !== 'id' && !FTS_COLUMNS.includes(c)).map((c) => `${c} = @${c}`);
      this.stmt(`UPDATE chunks SET ${sets.join(', ')} WHERE rowid = @rowid`).run({ ...params, rowid });
      // Only a real change touches the FTS columns: the update trigger re-indexes whatever it fires for.
      const ftsSets = FTS_COLUMNS.map((c) => `${c} = @${c}`).join(', ');
      const changed = FTS_COLUMNS.map((c) => `${c} IS NOT @${c}`).join(' OR ');
      const ftsParams = Object.fromEntries(FTS_COLUMNS.map((c) => [c, params[c] ?? null]));
      this.stmt(`UPDATE chunks SET ${ftsSets} WHERE rowid = @rowid AND (${changed})`).run({ ...ftsParams, rowid });
    }
    this.stmt('INSERT OR REPLACE INTO chunk_vectors(rowid, embedding) VALUES (?, ?)').run(rowid, vectorBlob(point.vector));
  }

  private writeFileRecord(file: FileRecord): void {
    const cols = FILE_COLUMNS.join(', ');
    const vals = FILE_COLUMNS.map((c) => `@${c}`).join(', ');
    const sets = FILE_COLUMNS.filter((c) => c !== 'file_path').map((c) => `${c} = excluded.${c}`);
    this.stmt(`INSERT INTO files(${cols}) VALUES (${vals}) ON CONFLICT(file_path) DO UPDATE SET ${sets.join(', ')}`).run(fileToParams(file));
  }

  private deleteRowids(rowids: number[]): void {
    const del = this.stmt('DELETE FROM chunks WHERE rowid = ?');
    const delVec = this.stmt('DELETE FROM chunk_vectors WHERE rowid = ?');
    for (const rowid of rowids) {
      del.run(rowid);
      delVec.run(rowid);
    }
  }

  private fileRowids(filePath: string): Array<{ rowid: number; id: string }> {
    return this.stmt('SELECT rowid, id FROM chunks WHERE file_path = ?')
      .all(filePath)
      .map((r) => {
        const rr = row(r, 'chunks');
        return { rowid: num(rr, 'rowid'), id: text(rr, 'id') };
      });
  }

  async replaceFile(file: FileRecord, points: StoredPoint[]): Promise<void> {
    this.ready();
    const ids = new Set<string>();
    for (const p of points) {
      if (p.payload.file_path !== file.file_path) {
        throw new Error(`replaceFile(${file.file_path}): point ${p.id} belongs to ${p.payload.file_path}; pass only the file's own points`);
      }
      if (ids.has(p.id)) throw new Error(`replaceFile(${file.file_path}): point id ${p.id} appears twice; point ids must be unique per file`);
      ids.add(p.id);
    }
    const removals: number[] = [];
    this.db.transaction(() => {
      // New version first, then the stale rows: the file is never empty, even inside the transaction.
      for (const p of points) this.writePoint(p, true);
      const stale = this.fileRowids(file.file_path).filter((r) => !ids.has(r.id));
      for (const r of stale) removals.push(r.rowid);
      this.deleteRowids(removals);
      this.writeFileRecord(file);
    }).immediate();
    this.startCatchUp();
  }

  async deleteFile(filePath: string): Promise<number> {
    this.ready();
    const removals: number[] = [];
    this.db.transaction(() => {
      for (const r of this.fileRowids(filePath)) removals.push(r.rowid);
      this.deleteRowids(removals);
      this.stmt('DELETE FROM files WHERE file_path = ?').run(filePath);
    }).immediate();
    this.startCatchUp();
    return removals.length;
  }

  async upsertPoints(points: StoredPoint[], files: FileRecord[]): Promise<void> {
    this.ready();
    this.db.transaction(() => {
      for (const p of points) this.writePoint(p, false);
      for (const f of files) this.writeFileRecord(f);
    }).immediate();
    this.startCatchUp();
  }

  async setTaxonomy(filePath: string, taxonomy: TaxonomyPath, confidence: number): Promise<void> {
    this.ready();
    const params = { file_path: filePath, full_path: taxonomy.full_path, level1: taxonomy.level1, level2: taxonomy.level2, confidence };
    this.db.transaction(() => {
      const sets = 'taxonomy_full_path = @full_path, level1 = @level1, level2 = @level2, confidence = @confidence';
      this.stmt(`UPDATE files SET ${sets} WHERE file_path = @file_path`).run(params);
      this.stmt(`UPDATE chunks SET ${sets} WHERE file_path = @file_path`).run(params);
    }).immediate();
  }

  // -- reads -----------------------------------------------------------------

  private storedPoints(sql: string, ...params: unknown[]): Array<{ rowid: number; point: StoredPoint }> {
    const { embedder } = this.ready();
    return this.stmt(sql)
      .all(...params)
      .map((r) => {
        const rr = row(r, 'chunks');
        const vector = blobToVector(rr.embedding, 'embedding', embedder.dimension);
        return { rowid: num(rr, 'rowid'), point: { id: text(rr, 'id'), vector, payload: rowToPayload(rr) } };
      });
  }

  async getPoint(id: string): Promise<StoredPoint | null> {
    const found = this.storedPoints(`SELECT ${CHUNK_SELECT}, v.embedding FROM chunks c JOIN chunk_vectors v ON v.rowid = c.rowid WHERE c.id = ?`, id);
    return found[0]?.point ?? null;
  }

  async fileChunks(filePath: string): Promise<StoredPoint[]> {
    return this.storedPoints(
      `SELECT ${CHUNK_SELECT}, v.embedding FROM chunks c JOIN chunk_vectors v ON v.rowid = c.rowid WHERE c.file_path = ? ORDER BY c.chunk_index, c.rowid`,
      filePath,
    ).map((r) => r.point);
  }

  async leadingChunks(filePaths: readonly string[], perFile: number): Promise<Map<string, LeadingChunk[]>> {
    this.ready();
    const out = new Map<string, LeadingChunk[]>();
    const read = this.stmt('SELECT chunk_index, start_line, end_line, content FROM chunks WHERE file_path = ? AND chunk_index < ? ORDER BY chunk_index, rowid');
    for (const filePath of new Set(filePaths)) {
      const chunks = read.all(filePath, perFile).map((r) => {
        const rr = row(r, 'chunks');
        return { chunk_index: num(rr, 'chunk_index'), start_line: num(rr, 'start_line'), end_line: num(rr, 'end_line'), content: text(rr, 'content') };
      });
      if (chunks.length > 0) out.set(filePath, chunks);
    }
    return out;
  }

  async getFile(filePath: string): Promise<FileRecord | null> {
    this.ready();
    const r = this.stmt(`SELECT ${FILE_COLUMNS.join(', ')} FROM files WHERE file_path = ?`).get(filePath);
    return r === undefined ? null : rowToFile(row(r, 'files'));
  }

  async listFiles(): Promise<FileRecord[]> {
    this.ready();
    return this.stmt(`SELECT ${FILE_COLUMNS.join(', ')} FROM files ORDER BY file_path`)
      .all()
      .map((r) => rowToFile(row(r, 'files')));
  }

  async count(filters?: SearchFilters): Promise<number> {
    this.ready();
    const f = sqlFilter(normalizeFilters(filters));
    return this.scalar(`SELECT count(*) AS n FROM chunks c ${andWhere(f, true)}`, ...f.params);
  }

  async scroll(cursor: string | null, limit: number): Promise<{ points: StoredPoint[]; next: string | null }> {
    this.ready();
    let after = 0;
    if (cursor !== null) {
      if (!/^\d{1,15}$/.test(cursor)) throw new RangeError(`scroll: cursor "${cursor}" was not returned by this store; start again with null`);
      after = Number(cursor);
    }
    const size = Math.max(1, Math.floor(limit));
    // One extra row tells whether another page exists without a second query.
    const rows = this.storedPoints(
      `SELECT ${CHUNK_SELECT}, v.embedding FROM chunks c JOIN chunk_vectors v ON v.rowid = c.rowid
       WHERE c.rowid > ? ORDER BY c.rowid LIMIT ?`,
      after,
      size + 1,
    );
    const page = rows.slice(0, size);
    const tail = page[page.length - 1];
    const next = rows.length > size && tail !== undefined ? String(tail.rowid) : null;
    return { points: page.map((r) => r.point), next };
  }

  async stats(): Promise<StoreStats> {
    this.ready();
    const group = (column: string): Record<string, number> => {
      // Per document (its first chunk), as the Qdrant store counts them.
      const rows = this.stmt(`SELECT ${column} AS k, count(*) AS n FROM chunks WHERE chunk_index = 0 GROUP BY ${column}`).all();
      const out: Record<string, number> = {};
      for (const r of rows) {
        const rr = row(r, 'chunks');
        out[text(rr, 'k')] = num(rr, 'n');
      }
      return out;
    };
    const last = row(this.stmt('SELECT max(indexed_at) AS last FROM files').get(), 'files');
    return {
      points_count: this.scalar('SELECT count(*) AS n FROM chunks'),
      documents: this.scalar('SELECT count(*) AS n FROM chunks WHERE chunk_index = 0'),
      by_content_type: group('content_type'),
      by_taxonomy: group('taxonomy_full_path'),
      last_indexed_at: textOrNull(last, 'last'),
    };
  }

}
