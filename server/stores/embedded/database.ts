import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import type { EmbedderInfo } from '../../embedders/embedder.js';
import { privateSqliteFile } from '../../storage/private-files.js';
import { openDatabase } from '../../storage/sqlite-driver.js';
import { DEFAULT_EXACT_BELOW, DEFAULT_EXACT_FILTER_ROWS, DEFAULT_GRAPH_CANDIDATE_COST, DEFAULT_KEYWORD_ROW_BUDGET, DEFAULT_PARALLEL_KEYWORD_FROM, type EmbeddedStoreOptions } from './options.js';
import { corrupt, num, row, text } from './rows.js';
import { BASE_SCHEMA, FTS_TABLE, FTS_TOKENIZER, SCHEMA_VERSION } from './schema.js';

/**
 * Every write transaction below is BEGIN IMMEDIATE: it takes the write lock
 * up front, so a second writer (the CLI beside the server) waits up to this
 * long for it. A deferred transaction that reads first and then writes gets
 * SQLITE_BUSY at once in WAL mode when another connection wrote in between
 * ("database is locked"), without waiting.
 */
const BUSY_TIMEOUT_MS = 5000;

class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

/**
 * The first link of EmbeddedStore's chain (database → dense-upkeep → search →
 * store, one job per file): the open SQLite connection, its schema, cached
 * statements and the checks every operation starts with.
 */
export abstract class EmbeddedDatabase {
  readonly location: string;
  protected readonly db: Database.Database;
  protected readonly statements = new Map<string, Database.Statement<unknown[]>>();
  protected embedder: EmbedderInfo | null = null;
  protected closed = false;

  protected readonly keywordRowBudget: number;
  protected readonly exactBelow: number;
  protected readonly exactFilterRows: number;
  protected readonly parallelKeywordFrom: number;
  protected readonly graphCandidateCost: number;
  protected readonly useDenseIndex: boolean;

  constructor(dbFile: string, options: EmbeddedStoreOptions = {}) {
    this.location = path.resolve(dbFile);
    this.keywordRowBudget = options.keywordRowBudget ?? DEFAULT_KEYWORD_ROW_BUDGET;
    this.exactBelow = options.exactBelow ?? DEFAULT_EXACT_BELOW;
    this.exactFilterRows = options.exactFilterRows ?? DEFAULT_EXACT_FILTER_ROWS;
    this.parallelKeywordFrom = options.parallelKeywordFrom ?? DEFAULT_PARALLEL_KEYWORD_FROM;
    this.graphCandidateCost = options.graphCandidateCost ?? DEFAULT_GRAPH_CANDIDATE_COST;
    this.useDenseIndex = options.denseIndex ?? true;
    try {
      privateSqliteFile(this.location);
      this.db = openDatabase(this.location);
    } catch (err) {
      throw new Error(
        `embedded store: cannot open ${this.location}: ${err instanceof Error ? err.message : String(err)}; ` +
          'check that DATA_DIR exists, is writable and is not on a full disk',
      );
    }
    try {
      sqliteVec.load(this.db);
    } catch (err) {
      this.db.close();
      throw new Error(
        `embedded store: the sqlite-vec extension did not load (${err instanceof Error ? err.message : String(err)}); ` +
          `reinstall dependencies on this machine (npm ci) so the ${process.platform}-${process.arch} build is present, or set vector.store to "qdrant"`,
      );
    }
    try {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a power cut may lose the last commits but never corrupts the file.
      this.db.pragma('synchronous = NORMAL');
      this.createSchema();
    } catch (err) {
      this.db.close();
      if (err instanceof SchemaTooNewError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(
        `embedded store: ${this.location} cannot be used as a store (${msg}); ` +
          'if it is not an AI Library database or is damaged, move it away (or restore a backup) and re-index',
      );
    }
  }

  private createSchema(): void {
    this.db.transaction(() => {
      this.db.exec(BASE_SCHEMA);
      const stored = this.meta('schema_version');
      if (stored !== null && Number(stored) > SCHEMA_VERSION) {
        throw new SchemaTooNewError(
          `embedded store: ${this.location} has schema version ${stored}, newer than this server understands (${SCHEMA_VERSION}); upgrade the server or use another DATA_DIR`,
        );
      }
      if (stored === null) this.setMeta('schema_version', String(SCHEMA_VERSION));
      if (this.meta('fts_tokenizer') !== FTS_TOKENIZER) {
        // Built before stemming (no fts_tokenizer recorded) or with another tokenizer:
        // re-tokenize every chunk from the chunks table, inside this transaction.
        this.db.exec('DROP TABLE IF EXISTS chunks_fts');
        this.db.exec(FTS_TABLE);
        this.db.exec("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')");
        this.setMeta('fts_tokenizer', FTS_TOKENIZER);
      }
      // Names this database to the dense index saved beside it, so a file from another store is never trusted.
      if (this.meta('store_id') === null) this.setMeta('store_id', randomUUID());
    }).immediate();
  }

  // -- plumbing --------------------------------------------------------------

  protected stmt(sql: string): Database.Statement<unknown[]> {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare<unknown[]>(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** First-column values only: no row objects for queries returning thousands of rowids. */
  protected rowids(sql: string, ...params: unknown[]): number[] {
    const key = `pluck:${sql}`;
    let s = this.statements.get(key);
    if (s === undefined) {
      s = this.db.prepare<unknown[]>(sql).pluck();
      this.statements.set(key, s);
    }
    const values = s.all(...params);
    const out = new Array<number>(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number') throw corrupt('rowid', 'an integer', v);
      out[i] = v;
    }
    return out;
  }

  protected meta(key: string): string | null {
    const r = this.stmt('SELECT value FROM meta WHERE key = ?').get(key);
    return r === undefined ? null : text(row(r, 'meta'), 'value');
  }

  protected setMeta(key: string, value: string): void {
    this.stmt('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  protected scalar(sql: string, ...params: unknown[]): number {
    const r = this.stmt(sql).get(...params);
    return num(row(r, 'count'), 'n');
  }

  /**
   * Moves whenever the database changes: SQLite's data_version when another
   * connection commits, total_changes() with this connection's own writes
   * (FilterKnowledge keys what it counts and holds by it, filter-knowledge.ts).
   */
  protected changeStamp(): string {
    return `${this.scalar('SELECT data_version AS n FROM pragma_data_version')}:${this.scalar('SELECT total_changes() AS n')}`;
  }

  protected open(): void {
    if (this.closed) throw new Error(`embedded store ${this.location} is closed; create a new EmbeddedStore to use it again`);
  }

  protected ready(): { embedder: EmbedderInfo } {
    this.open();
    if (this.embedder === null) {
      throw new Error(`embedded store ${this.location} is not initialised; call init(embedder) before using it`);
    }
    return { embedder: this.embedder };
  }

  protected checkVector(vector: Float32Array, what: string): void {
    const { embedder } = this.ready();
    if (vector.length !== embedder.dimension) {
      throw new RangeError(
        `${what} has ${vector.length} dimensions, but ${this.location} holds ${embedder.dimension}-dim vectors from embedder "${embedder.id}"; embed it with that embedder`,
      );
    }
    for (let i = 0; i < vector.length; i++) {
      if (!Number.isFinite(vector[i])) throw new RangeError(`${what} has a non-finite component at index ${i}; fix the embedder output`);
    }
  }
}
