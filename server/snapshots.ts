import { createReadStream, createWriteStream, existsSync, openAsBlob } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type Database from 'better-sqlite3';
import { openDatabase } from './storage/sqlite-driver.js';
import type { Config } from './config/settings.js';
import { embeddedStoreFile } from './stores/create-store.js';
import { EmbeddedStore } from './stores/embedded.js';
import type { QdrantClient } from '@qdrant/js-client-rest';
import { createQdrantClient, qdrantEndpoint, qdrantOptionsFrom, translateQdrantError, type QdrantEndpoint } from './stores/qdrant.js';
import type { VectorStore } from './stores/vector-store.js';

export interface SnapshotInfo {
  name: string;
  size: number;
  created_at: string | null;
}

export interface SnapshotStream {
  stream: ReadableStream<Uint8Array>;
  size: number | null;
}

/** The named snapshot does not exist; the API answers 404. */
export class SnapshotNotFoundError extends Error {
  override name = 'SnapshotNotFoundError';
}

/** A snapshot request that cannot be carried out as asked (bad name, unreadable file, store in the way). */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

export interface Snapshots {
  readonly kind: 'embedded' | 'qdrant';
  /** Where snapshots live, for humans. */
  readonly where: string;
  create(): Promise<SnapshotInfo>;
  list(): Promise<SnapshotInfo[]>;
  open(name: string): Promise<SnapshotStream>;
  download(name: string, outFile: string): Promise<{ file: string; bytes: number }>;
  /** Replaces the store's content with a snapshot; returns one line saying what happened. */
  recover(nameOrFile: string): Promise<string>;
}

/** Names come from URLs and the CLI: one path segment, no traversal. */
const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

function checkName(name: string): string {
  if (!SNAPSHOT_NAME.test(name) || name.includes('..')) {
    throw new SnapshotError(`snapshot name "${name}" is not valid: use a name from "npm run snapshot -- list" (letters, digits, ".", "_", "-")`);
  }
  return name;
}

function timestampName(now: Date): string {
  return now.toISOString().replace(/[:.]/g, '-');
}

/** Streams a file to a new file through a temporary name, so a half-written download never looks complete. */
async function writeAtomically(source: Readable, outFile: string): Promise<number> {
  const target = path.resolve(outFile);
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.partial`;
  try {
    await pipeline(source, createWriteStream(tmp));
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return (await stat(target)).size;
}

/**
 * Embedded store: SQLite's online backup API (EmbeddedStore.backup) writes a
 * consistent copy while the server keeps serving; snapshots are plain files
 * under DATA_DIR/snapshots/<timestamp>.sqlite.
 */
export class EmbeddedSnapshots implements Snapshots {
  readonly kind = 'embedded' as const;
  readonly where: string;

  constructor(
    readonly dir: string,
    readonly storeFile: string,
    private readonly store: VectorStore | null,
  ) {
    this.where = dir;
  }

  private fileOf(name: string): string {
    return path.join(this.dir, checkName(name));
  }

  async create(): Promise<SnapshotInfo> {
    if (!(this.store instanceof EmbeddedStore)) {
      throw new SnapshotError('snapshot create: the embedded store is not open in this process; run it through the server (POST /api/admin/snapshots) or "npm run snapshot -- create"');
    }
    await mkdir(this.dir, { recursive: true });
    const now = new Date();
    let name = `${timestampName(now)}.sqlite`;
    for (let i = 1; existsSync(path.join(this.dir, name)); i++) name = `${timestampName(now)}-${i}.sqlite`;
    const file = path.join(this.dir, name);
    // Backed up under a temporary name: `list` never shows a snapshot still being written.
    const tmp = `${file}.partial`;
    try {
      await this.store.backup(tmp);
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    const info = await stat(file);
    return { name, size: info.size, created_at: now.toISOString() };
  }

  async list(): Promise<SnapshotInfo[]> {
    const names = await readdir(this.dir).catch((e: unknown) => {
      if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return [];
      throw e;
    });
    const out: SnapshotInfo[] = [];
    for (const name of names.filter((n) => n.endsWith('.sqlite') && SNAPSHOT_NAME.test(n)).sort()) {
      const info = await stat(path.join(this.dir, name));
      out.push({ name, size: info.size, created_at: info.mtime.toISOString() });
    }
    return out;
  }

  private async existing(name: string): Promise<{ file: string; size: number }> {
    const file = this.fileOf(name);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new SnapshotNotFoundError(`snapshot "${name}" does not exist in ${this.dir}; see "npm run snapshot -- list"`);
    return { file, size: info.size };
  }

  async open(name: string): Promise<SnapshotStream> {
    const { file, size } = await this.existing(name);
    const web: NodeReadableStream<Uint8Array> = Readable.toWeb(createReadStream(file));
    return { stream: toDomStream(web), size };
  }

  async download(name: string, outFile: string): Promise<{ file: string; bytes: number }> {
    const { file } = await this.existing(name);
    return { file: path.resolve(outFile), bytes: await writeAtomically(createReadStream(file), outFile) };
  }

  /**
   * Swaps the store file for a snapshot. The server must be stopped: a running
   * server keeps the old file open and would go on serving (and writing) it.
   * The copy is made beside the store and renamed into place, so the store file
   * is always either the old or the new database; the old one is kept as
   * `<store>.before-recover` (with its -wal/-shm, which must not meet the new file).
   */
  async recover(nameOrFile: string): Promise<string> {
    const source = await this.resolveSource(nameOrFile);
    checkSqlite(source);
    await mkdir(path.dirname(this.storeFile), { recursive: true });
    const tmp = `${this.storeFile}.recover-${process.pid}.tmp`;
    await copyFile(source, tmp);
    const kept = `${this.storeFile}.before-recover`;
    const moved: Array<[string, string]> = [];
    try {
      for (const suffix of ['', '-wal', '-shm']) {
        await rm(kept + suffix, { force: true });
        if (!existsSync(this.storeFile + suffix)) continue;
        await rename(this.storeFile + suffix, kept + suffix);
        moved.push([this.storeFile + suffix, kept + suffix]);
      }
      await rename(tmp, this.storeFile);
    } catch (e) {
      // Put the old store back as it was: a failed recovery must not leave no store at all.
      for (const [from, to] of moved.reverse()) await rename(to, from).catch(() => undefined);
      await rm(tmp, { force: true });
      throw e;
    }
    const keptNote = existsSync(kept) ? `; the previous store is kept as ${kept}` : '';
    return `recovered ${source} into ${this.storeFile}${keptNote}`;
  }

  private async resolveSource(nameOrFile: string): Promise<string> {
    if (SNAPSHOT_NAME.test(nameOrFile) && existsSync(path.join(this.dir, nameOrFile))) return path.join(this.dir, nameOrFile);
    const asFile = path.resolve(nameOrFile);
    if ((await stat(asFile).catch(() => null))?.isFile()) return asFile;
    throw new SnapshotNotFoundError(`snapshot "${nameOrFile}" is neither a name in ${this.dir} nor a readable file; see "npm run snapshot -- list"`);
  }
}

/** Refuses files that are not intact SQLite databases before they replace the store. */
function checkSqlite(file: string): void {
  let db: Database.Database | null = null;
  try {
    db = openDatabase(file, { readonly: true, fileMustExist: true });
    const row: unknown = db.pragma('quick_check', { simple: true });
    if (row !== 'ok') throw new SnapshotError(`${file}: SQLite quick_check failed (${String(row)}); pick another snapshot`);
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError(`${file}: not a readable SQLite snapshot (${e instanceof Error ? e.message : String(e)}); pick another snapshot`);
  } finally {
    db?.close();
  }
}

/** Node's web stream and the DOM lib's type describe the same object. */
function toDomStream(web: NodeReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for await (const chunk of web) controller.enqueue(chunk);
        controller.close();
      } catch (e) {
        controller.error(e);
      }
    },
  });
}

async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Qdrant's snapshot endpoints (docs/production.md, step 4) — POST/GET /collections/{c}/snapshots,
 * GET .../snapshots/{name} to download, PUT .../snapshots/recover {location}; a
 * local file is uploaded (POST .../snapshots/upload) since the server cannot read it.
 */
export class QdrantSnapshots implements Snapshots {
  readonly kind = 'qdrant' as const;
  readonly where: string;
  private readonly client: QdrantClient;

  constructor(
    private readonly endpoint: QdrantEndpoint,
    private readonly apiKey: string | undefined,
    readonly collection: string,
    /** Where the Qdrant server keeps snapshots on its own disk (the official image: /qdrant/snapshots). */
    readonly serverSnapshotsDir = '/qdrant/snapshots',
    private readonly timeoutMs = 30 * 60_000,
  ) {
    this.where = `${endpoint.baseUrl}/collections/${encodeURIComponent(collection)}/snapshots`;
    this.client = createQdrantClient(endpoint, apiKey, timeoutMs);
  }

  private fail(e: unknown, what: string): Error {
    return translateQdrantError(e, what, this.endpoint, this.apiKey, this.timeoutMs);
  }

  private headers(): Record<string, string> {
    return this.apiKey ? { 'api-key': this.apiKey } : {};
  }

  async create(): Promise<SnapshotInfo> {
    const made = await this.client.createSnapshot(this.collection, { wait: true }).catch((e: unknown) => {
      throw this.fail(e, `create a snapshot of "${this.collection}"`);
    });
    if (!made) throw new SnapshotError(`Qdrant accepted the snapshot of "${this.collection}" but returned no description; see "npm run snapshot -- list"`);
    return { name: made.name, size: made.size, created_at: made.creation_time ?? null };
  }

  async list(): Promise<SnapshotInfo[]> {
    const all = await this.client.listSnapshots(this.collection).catch((e: unknown) => {
      throw this.fail(e, `list snapshots of "${this.collection}"`);
    });
    return all.map((s) => ({ name: s.name, size: s.size, created_at: s.creation_time ?? null })).sort((a, b) => a.name.localeCompare(b.name));
  }

  async open(name: string): Promise<SnapshotStream> {
    const url = `${this.where}/${encodeURIComponent(checkName(name))}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: this.headers(), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw this.fail(e, `download snapshot ${name}`);
    }
    if (res.status === 404) throw new SnapshotNotFoundError(`snapshot "${name}" does not exist on ${this.where}; see "npm run snapshot -- list"`);
    if (!res.ok || !res.body) {
      const data: unknown = await res.json().catch(() => null);
      throw this.fail({ status: res.status, statusText: res.statusText, data }, `download snapshot ${name}`);
    }
    const size = Number(res.headers.get('content-length'));
    return { stream: res.body, size: Number.isFinite(size) && size > 0 ? size : null };
  }

  async download(name: string, outFile: string): Promise<{ file: string; bytes: number }> {
    const { stream } = await this.open(name);
    return { file: path.resolve(outFile), bytes: await writeAtomically(Readable.from(chunksOf(stream)), outFile) };
  }

  /**
   * `priority: snapshot` makes the snapshot's data win; Qdrant's default
   * (`replica`) would prefer the data the node already has.
   */
  async recover(nameOrFile: string): Promise<string> {
    if (/^(https?|file):\/\//i.test(nameOrFile)) return this.recoverFrom(nameOrFile);
    const local = path.resolve(nameOrFile);
    if ((await stat(local).catch(() => null))?.isFile()) return this.upload(local);
    const name = checkName(nameOrFile);
    if (!(await this.list()).some((s) => s.name === name)) {
      throw new SnapshotNotFoundError(`snapshot "${name}" is neither on ${this.where} nor a local file; see "npm run snapshot -- list"`);
    }
    return this.recoverFrom(`file://${this.serverSnapshotsDir.replace(/\/+$/, '')}/${this.collection}/${name}`);
  }

  private async recoverFrom(location: string): Promise<string> {
    await this.client.recoverSnapshot(this.collection, { location, priority: 'snapshot' }).catch((e: unknown) => {
      throw this.fail(e, `recover "${this.collection}" from ${location}`);
    });
    return `recovered collection "${this.collection}" from ${location}`;
  }

  private async upload(file: string): Promise<string> {
    const form = new FormData();
    // A file-backed Blob: multi-gigabyte snapshots are streamed, not read into memory.
    form.append('snapshot', await openAsBlob(file), path.basename(file));
    const url = `${this.where}/upload?priority=snapshot&wait=true`;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: this.headers(), body: form, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw this.fail(e, `upload snapshot ${file}`);
    }
    if (!res.ok) {
      const data: unknown = await res.json().catch(() => null);
      throw this.fail({ status: res.status, statusText: res.statusText, data }, `upload snapshot ${file}`);
    }
    return `recovered collection "${this.collection}" from uploaded ${file}`;
  }
}

/**
 * The snapshot manager for the configured store. `store` is needed only to
 * create an embedded snapshot (the online backup runs on the open database).
 */
export function createSnapshots(config: Config, store: VectorStore | null, opts: { serverSnapshotsDir?: string } = {}): Snapshots {
  if (config.storeKind === 'qdrant') {
    const o = qdrantOptionsFrom(config);
    return new QdrantSnapshots(qdrantEndpoint(o.url, o.port), o.apiKey, o.collection, opts.serverSnapshotsDir);
  }
  return new EmbeddedSnapshots(path.join(config.paths.data, 'snapshots'), embeddedStoreFile(config), store);
}
