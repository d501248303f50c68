import { EmbeddedDatabase } from './database.js';
import { DenseIndex } from './dense-index.js';
import { loadSavedIndex, readSavedIndex, removeUnnamedIndexFiles, saveIndex } from './dense-index-file.js';
import { blobToVector, num, row } from './rows.js';

/** Vectors read from SQLite per step while building or catching up; the event loop runs between steps. */
const BUILD_STEP = 512;
/**
 * While writes keep coming (a bulk run), the graph takes them in batches of
 * this many rows, waiting for a pause of BULK_QUIET_MS or a full batch:
 * one large `add` instead of a file's few rows at a time, which paid the
 * call's setup per file and held the event loop between files. Searches meanwhile
 * score the rows behind exactly (`behindFrom`), so a write is visible to the
 * next search either way.
 */
const BULK_BATCH = 2048;
const BULK_QUIET_MS = 50;
/** While the graph catches up with up to this many changed rows, searches also score those rows exactly; beyond, they scan exactly. */
const PENDING_MERGE_LIMIT = 20_000;
/** A graph whose deleted or changed keys (dense-index.ts `debt`) pass this many, and this share of it, is rebuilt. */
const REBUILD_DEBT_MIN = 1_000;
const REBUILD_DEBT_SHARE = 0.25;
/** A changed graph is saved this long after its first unsaved change (and at close); the log covers the gap. */
const SAVE_DELAY_MS = 5 * 60_000;

/** Lets the event loop serve requests between steps of a long index build. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Where the dense index is: absent (exact scans), being opened, or serving. */
export type DenseIndexState = 'none' | 'opening' | 'ready';

/**
 * EmbeddedStore's dense index upkeep (the chain: database → dense-upkeep →
 * search → store): opening the HNSW graph (dense-index.ts) from its saved file
 * or from SQLite, replaying vector_log into it, saving it and pruning the log.
 */
export abstract class EmbeddedDenseUpkeep extends EmbeddedDatabase {
  /** The HNSW graph once opened, and the vector generation it reflects. */
  protected dense: DenseIndex | null = null;
  private denseGeneration = 0;
  private denseOpening: Promise<void> | null = null;
  /** The background replay of logged changes (any process's, this one's too) into `dense`. */
  private catchingUp: Promise<void> | null = null;
  /** The next open builds from SQLite instead of loading the saved graph (set when the graph's debt is too high). */
  private rebuildNext = false;
  protected saveTimer: NodeJS.Timeout | null = null;
  /** When this process last wrote (performance.now()); catch-up waits for a pause in a bulk run. */
  private lastWrite = 0;

  // -- the dense index ---------------------------------------------------------

  /** The vector generation: the last vector_log seq ever written (see VECTOR_LOG_SCHEMA). */
  protected generation(): number {
    const r = this.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'").get();
    return r === undefined ? 0 : num(row(r, 'sqlite_sequence'), 'seq');
  }

  private prunedThrough(): number {
    return Number(this.meta('vector_log_pruned_through') ?? 0);
  }

  /** The current vectors of `rowids`, as stored (rows that are gone are absent). */
  private vectorsOf(rowids: readonly number[]): Map<number, Float32Array> {
    const { embedder } = this.ready();
    const out = new Map<number, Float32Array>();
    if (rowids.length === 0) return out;
    const rows = this.stmt('SELECT rowid, embedding FROM chunk_vectors WHERE rowid IN (SELECT value FROM json_each(?))').all(JSON.stringify(rowids));
    for (const r of rows) {
      const rr = row(r, 'chunk_vectors');
      out.set(num(rr, 'rowid'), blobToVector(rr.embedding, 'embedding', embedder.dimension));
    }
    return out;
  }

  /** Makes `rowids` in `index` what chunk_vectors holds now: changed vectors replaced, deleted ones removed. */
  private refresh(index: DenseIndex, rowids: readonly number[]): void {
    const current = this.vectorsOf(rowids);
    index.remove(rowids.filter((r) => !current.has(r)));
    index.upsert([...current.keys()], [...current.values()]);
  }

  /**
   * Applies up to `max` logged changes after generation `from` to `index`;
   * returns the generation it reached. Each change re-reads the row's current
   * vector, so replaying a change twice, or one the index already has, is harmless.
   */
  private replay(index: DenseIndex, from: number, max: number): number {
    const rows = this.stmt('SELECT seq, chunk_rowid FROM vector_log WHERE seq > ? ORDER BY seq LIMIT ?').all(from, max);
    if (rows.length === 0) return from;
    const changed = new Set<number>();
    let last = from;
    for (const r of rows) {
      const rr = row(r, 'vector_log');
      changed.add(num(rr, 'chunk_rowid'));
      last = num(rr, 'seq');
    }
    this.refresh(index, [...changed]);
    return last;
  }

  private pendingChanges(from: number, cap: number): number {
    return this.scalar('SELECT count(*) AS n FROM (SELECT 1 FROM vector_log WHERE seq > ? LIMIT ?)', from, cap);
  }

  /**
   * Starts opening the dense index in the background, if it is not open or
   * opening: the saved file when it matches this store (then the changes
   * logged since it was saved are replayed), else a build from chunk_vectors.
   * Dense searches scan exactly until it is ready. Resolves when it is.
   */
  prepareIndex(): Promise<void> {
    this.ready();
    if (this.dense !== null || !this.useDenseIndex) return Promise.resolve();
    this.denseOpening ??= this.openDense().finally(() => {
      this.denseOpening = null;
    });
    return this.denseOpening;
  }

  denseIndexState(): DenseIndexState {
    if (this.dense !== null) return 'ready';
    return this.denseOpening === null ? 'none' : 'opening';
  }

  async indexSettled(): Promise<void> {
    this.ready();
    if (!this.useDenseIndex) return;
    await this.prepareIndex();
    const target = this.generation();
    while (!this.closed && this.dense !== null && this.denseGeneration < target) {
      this.startCatchUp();
      await (this.catchingUp ?? this.denseOpening ?? nextTurn());
    }
  }

  private async openDense(): Promise<void> {
    const { embedder } = this.ready();
    let index: DenseIndex | null = null;
    let generation = 0;
    let rebuilt = false;
    // After a rebuild was asked for, the saved graph carries the same debt: build afresh.
    const saved = this.rebuildNext ? null : readSavedIndex(this.location);
    this.rebuildNext = false;
    const current = this.generation();
    const usable =
      saved !== null &&
      saved.store_id === this.meta('store_id') &&
      saved.embedder_id === embedder.id &&
      saved.dimension === embedder.dimension &&
      saved.generation <= current &&
      saved.generation >= this.prunedThrough() &&
      (saved.generation !== current || saved.vectors === null || saved.vectors === this.scalar('SELECT count(*) AS n FROM chunk_vectors'));
    if (saved !== null && usable) {
      try {
        index = loadSavedIndex(this.location, saved);
        generation = saved.generation;
      } catch {
        // A damaged or foreign file: rebuilt below, exactly as if there were none.
        index = null;
      }
    }
    removeUnnamedIndexFiles(this.location, index !== null && saved !== null ? saved.file : null);
    if (index === null) {
      rebuilt = true;
      index = DenseIndex.create(embedder.dimension, this.scalar('SELECT count(*) AS n FROM chunk_vectors'));
      generation = this.generation();
      // Rows written while this runs are logged after `generation` and replayed below.
      for (let after = 0; ; ) {
        const rowids = this.rowids('SELECT rowid FROM chunk_vectors WHERE rowid > ? ORDER BY rowid LIMIT ?', after, BUILD_STEP);
        if (rowids.length === 0) break;
        this.refresh(index, rowids);
        after = rowids[rowids.length - 1]!;
        await nextTurn();
        if (this.closed || this.embedder !== embedder) return;
      }
    }
    let replayed = 0;
    for (;;) {
      const reached = this.replay(index, generation, BUILD_STEP);
      if (reached === generation) break;
      replayed += 1;
      generation = reached;
      await nextTurn();
      if (this.closed || this.embedder !== embedder) return;
    }
    this.dense = index;
    this.denseGeneration = generation;
    if (rebuilt) this.saveDense();
    else if (replayed > 0) this.scheduleSave();
  }

  /**
   * The graph to search and, when it lags the log, the generation it reflects
   * (the rows changed after it are scored exactly beside its candidates while
   * it catches up in the background); null when searches must scan exactly
   * (no graph yet, or too far behind).
   */
  protected denseForSearch(): { index: DenseIndex; behindFrom: number | null } | null {
    if (!this.useDenseIndex) return null;
    if (this.dense === null) {
      void this.prepareIndex().catch(() => {
        // The exact scan keeps answering; the next search tries again.
      });
      return null;
    }
    const index = this.dense;
    if (this.generation() === this.denseGeneration) return { index, behindFrom: null };
    if (this.denseGeneration < this.prunedThrough()) {
      // Another process pruned changes this graph never saw: only a rebuild is right.
      this.dense = null;
      return this.denseForSearch();
    }
    this.startCatchUp();
    return this.pendingChanges(this.denseGeneration, PENDING_MERGE_LIMIT + 1) <= PENDING_MERGE_LIMIT ? { index, behindFrom: this.denseGeneration } : null;
  }

  /**
   * Replays the log into the graph in batches between other work. Writes only
   * log (in their transaction, by trigger): the graph's slow inserts stay out
   * of the write path and are batched over every core.
   */
  protected startCatchUp(): void {
    this.lastWrite = performance.now();
    const index = this.dense;
    if (index === null || this.catchingUp !== null) return;
    this.catchingUp = this.catchUp(index).finally(() => {
      this.catchingUp = null;
    });
  }

  /** Resolves once writes paused for BULK_QUIET_MS or a full batch is waiting. */
  private async bulkPause(): Promise<void> {
    for (;;) {
      const quiet = performance.now() - this.lastWrite;
      if (quiet >= BULK_QUIET_MS || this.closed || this.pendingChanges(this.denseGeneration, BULK_BATCH) >= BULK_BATCH) return;
      await new Promise((resolve) => setTimeout(resolve, BULK_QUIET_MS - quiet));
    }
  }

  private async catchUp(index: DenseIndex): Promise<void> {
    for (;;) {
      await this.bulkPause();
      if (this.closed || this.dense !== index) return;
      let reached: number;
      try {
        reached = this.replay(index, this.denseGeneration, BULK_BATCH);
      } catch {
        // A mapped graph whose file another process replaced cannot take the change (dense-index.ts `writable`).
        this.rebuildDense();
        return;
      }
      if (reached === this.denseGeneration) break;
      this.denseGeneration = reached;
    }
    // Deleted and changed rows pile up in a graph that is never edited in place (dense-index.ts).
    if (index.debt > Math.max(REBUILD_DEBT_MIN, index.size * REBUILD_DEBT_SHARE)) this.rebuildDense();
    else this.scheduleSave();
  }

  /** Drops the graph and builds a fresh one from SQLite in the background; searches scan exactly meanwhile. */
  private rebuildDense(): void {
    this.dense = null;
    this.rebuildNext = true;
    void this.prepareIndex().catch(() => {
      // The exact scan keeps answering; the next search tries again.
    });
  }

  private scheduleSave(): void {
    if (this.saveTimer !== null) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      if (!this.closed) this.saveDense();
    }, SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Saves the graph beside the database, then prunes the log it no longer needs. */
  protected saveDense(): void {
    const { embedder } = this.ready();
    const index = this.dense;
    if (index === null || this.catchingUp !== null) return;
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    const generation = this.denseGeneration;
    const vectors = this.generation() === generation ? this.scalar('SELECT count(*) AS n FROM chunk_vectors') : null;
    const storeId = this.meta('store_id') ?? '';
    try {
      saveIndex(this.location, index, { store_id: storeId, embedder_id: embedder.id, dimension: embedder.dimension, generation, vectors });
    } catch {
      // E.g. a full disk. Nothing is lost: the log keeps every change since the last good save, and the next save retries.
      return;
    }
    try {
      this.db.transaction(() => {
        this.stmt('DELETE FROM vector_log WHERE seq <= ?').run(generation);
        if (generation > this.prunedThrough()) this.setMeta('vector_log_pruned_through', String(generation));
      })();
    } catch {
      // E.g. the CLI holds the write lock past the busy timeout: the log is only longer until the next save prunes it.
    }
  }
}
