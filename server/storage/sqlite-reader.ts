import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { isRecord } from '../../shared/guards.js';
import { SQLITE_DRIVER } from './sqlite-driver.js';

/**
 * The worker's source. A string, not a file: the server runs bundled (dist/)
 * and the tests run the TypeScript sources, and on Node 20 a worker cannot
 * load TypeScript; one inline script serves both without a second build
 * entry. It only prepares and runs the SELECTs it is sent, on a read-only
 * connection, so a write can never come from this side.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const statements = new Map();
parentPort.on('message', ({ id, sql, params }) => {
  try {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    parentPort.postMessage({ id, rows: statement.all(...params) });
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
`;

interface Pending {
  resolve: (rows: unknown[]) => void;
  reject: (err: Error) => void;
}

/**
 * A second, read-only connection to a SQLite file, on a worker thread: a
 * query sent here runs while the main thread goes on with other work. The
 * embedded store runs a hybrid search's BM25 ranking here while its graph
 * search runs on the main thread, so on two cores the search takes the
 * longer of the two, not their sum (docs/architecture.md, "Path of a
 * search"). In WAL mode each query reads the last commit, as the main
 * connection would.
 */
export class SqliteReader {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(readonly file: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver: createRequire(import.meta.url).resolve(SQLITE_DRIVER) } });
    // Idle, the reader must not keep the process alive; with a query out it must (see all()).
    this.worker.unref();
    this.worker.on('message', (message: unknown) => this.answer(message));
    // An error thrown in the worker (the file cannot be opened) may cross the thread without its message.
    this.worker.on('error', (err) => this.fail(new Error(`sqlite reader for ${file}: ${err.message || err.name || 'the worker failed'}; searches read on the main connection`)));
    this.worker.on('exit', (code) => this.fail(new Error(`sqlite reader for ${file}: worker exited (code ${code})`)));
  }

  /** The rows of one SELECT, read on the worker's connection. Rejects once the worker has failed; the caller can read on its own connection instead. */
  all(sql: string, params: readonly unknown[]): Promise<unknown[]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, sql, params });
    });
  }

  async close(): Promise<void> {
    this.fail(new Error(`sqlite reader for ${this.file}: closed`));
    await this.worker.terminate();
  }

  private answer(message: unknown): void {
    if (!isRecord(message) || typeof message.id !== 'number') return;
    const pending = this.pending.get(message.id);
    if (pending === undefined) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker.unref();
    if (typeof message.error === 'string') pending.reject(new Error(`sqlite reader for ${this.file}: ${message.error}`));
    else if (Array.isArray(message.rows)) pending.resolve(message.rows);
    else pending.reject(new Error(`sqlite reader for ${this.file}: the worker answered without rows`));
  }

  private fail(err: Error): void {
    if (this.failure === null) this.failure = err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    this.worker.unref();
  }
}
