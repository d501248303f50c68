import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openDatabase } from '../storage/sqlite-driver.js';
import type { Config } from '../config/settings.js';
import { VERSION } from '../services.js';
import { createSnapshots, QdrantSnapshots } from '../snapshots.js';
import { embeddedStoreFile } from '../stores/create-store.js';
import { LibraryPathError, openInLibrary } from '../indexing/library-paths.js';
import { EmbeddedStore } from '../stores/embedded.js';
import { createQdrantClient, qdrantEndpoint, qdrantOptionsFrom, translateQdrantError } from '../stores/qdrant.js';
import {
  BackupError,
  DIR_SECTIONS,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  STORE_SECTION,
  archiveDate,
  archiveName,
  copyHashed,
  listTree,
  readManifest,
  createArchive,
  sectionSources,
  sha256File,
  type Manifest,
  type ManifestFile,
} from './archive.js';
import { removeBackupLeftovers } from './leftovers.js';

export interface BackupOptions {
  /** Where the archive goes; default backup.dir. */
  outDir?: string;
  /** Archives older than this many days are deleted; default backup.keep_days; 0 keeps all. */
  keepDays?: number;
  /** The archive's timestamp (name and manifest); default now. */
  now?: Date;
  /** Progress, one line at a time; never given secrets (paths, counts and sizes only). */
  log?: (line: string) => void;
}

export interface BackupResult {
  archive: string;
  bytes: number;
  manifest: Manifest;
  /** Archives removed by retention. */
  deleted: string[];
  /** Things that did not stop the backup but deserve a look. */
  warnings: string[];
}

export function backupDir(config: Config, outDir?: string): string {
  return path.resolve(config.paths.root, outDir ?? config.settings.backup.dir);
}

/**
 * Makes the copy one self-contained file (rollback journal, not WAL: no -wal or
 * -shm beside it) and reads `embedder_id`, `dimension` and the point count
 * from it, so the manifest describes exactly what is archived.
 */
function finishSqliteCopy(file: string): { points: number; embedder: Manifest['embedder'] } {
  const db = openDatabase(file, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
    const get = (sql: string, ...params: string[]): unknown => db.prepare(sql).get(...params);
    const field = (row: unknown, key: string): unknown => (typeof row === 'object' && row !== null ? Reflect.get(row, key) : undefined);
    const n = field(get('SELECT count(*) AS n FROM chunks'), 'n');
    const id = field(get("SELECT value FROM meta WHERE key = 'embedder_id'"), 'value');
    const dim = Number(field(get("SELECT value FROM meta WHERE key = 'dimension'"), 'value'));
    return {
      points: typeof n === 'number' ? n : 0,
      embedder: typeof id === 'string' && Number.isInteger(dim) && dim > 0 ? { id, dimension: dim } : null,
    };
  } finally {
    db.close();
  }
}

/**
 * A library file through openInLibrary, the check every library read goes
 * through; null when it went away since the listing. A link out of the
 * library (swapped in after the listing) throws LibraryPathError.
 */
async function copyLibraryFile(libraryRoot: string, rel: string, to: string): Promise<{ sha256: string; bytes: number } | null> {
  const opened = await openInLibrary(libraryRoot, rel);
  if (opened === null) return null;
  try {
    return await copyHashed(path.join(libraryRoot, rel), to, opened.handle);
  } finally {
    await opened.handle.close();
  }
}

/** The store's collection metadata key; stores/qdrant.ts writes it (and keeps the constant private). */
const QDRANT_META_KEY = 'ai_library';

interface StorePart {
  store: Manifest['store'];
  embedder: Manifest['embedder'];
  warnings: string[];
}

/** SQLite's online backup: consistent while the server keeps serving and writing. */
async function backupEmbedded(config: Config, staging: string, log: (line: string) => void): Promise<StorePart> {
  const source = embeddedStoreFile(config);
  if (!existsSync(source)) {
    return { store: { kind: 'embedded', file: null, points: 0, collection: null }, embedder: null, warnings: [`no embedded store at ${source}; the archive has none (index first if that is unexpected)`] };
  }
  const rel = `${STORE_SECTION}/library.sqlite`;
  const target = path.join(staging, rel);
  await mkdir(path.dirname(target), { recursive: true });
  const store = new EmbeddedStore(source);
  try {
    await store.backup(target);
  } finally {
    await store.close();
  }
  const { points, embedder } = finishSqliteCopy(target);
  log(`store: embedded ${source}, ${points} points`);
  return { store: { kind: 'embedded', file: rel, points, collection: null }, embedder, warnings: [] };
}

/** A Qdrant snapshot through snapshots.ts, downloaded into the archive, then removed from the Qdrant server's disk. */
async function backupQdrant(config: Config, staging: string, log: (line: string) => void): Promise<StorePart> {
  const o = qdrantOptionsFrom(config);
  const endpoint = qdrantEndpoint(o.url, o.port);
  const timeoutMs = 30_000;
  const client = createQdrantClient(endpoint, o.apiKey, timeoutMs);
  const fail = (what: string) => (e: unknown) => {
    throw translateQdrantError(e, what, endpoint, o.apiKey, timeoutMs);
  };
  const info = await client.getCollection(o.collection).catch(fail(`read collection "${o.collection}"`));
  const meta: unknown = info.config.metadata;
  const mine: unknown = typeof meta === 'object' && meta !== null ? Reflect.get(meta, QDRANT_META_KEY) : undefined;
  const id: unknown = typeof mine === 'object' && mine !== null ? Reflect.get(mine, 'embedder_id') : undefined;
  const dim: unknown = typeof mine === 'object' && mine !== null ? Reflect.get(mine, 'dimension') : undefined;
  const embedder = typeof id === 'string' && typeof dim === 'number' && Number.isInteger(dim) && dim > 0 ? { id, dimension: dim } : null;
  // Counted just before the snapshot: writes in between make it approximate, never the checksums.
  const { count } = await client.count(o.collection, { exact: true }).catch(fail(`count points of "${o.collection}"`));

  const snaps = createSnapshots(config, null);
  if (!(snaps instanceof QdrantSnapshots)) throw new BackupError('backup: the configured store is not Qdrant');
  const made = await snaps.create();
  const rel = `${STORE_SECTION}/${made.name}`;
  await snaps.download(made.name, path.join(staging, rel));
  log(`store: Qdrant collection "${o.collection}" at ${endpoint.baseUrl}, ${count} points, snapshot ${made.name}`);
  const warnings: string[] = [];
  // The archive holds it now; left on the Qdrant server, a daily backup would fill its disk.
  await client.deleteSnapshot(o.collection, made.name).catch(() => {
    warnings.push(`the snapshot ${made.name} stays on the Qdrant server (deleting it failed); remove it there to free disk ("npm run snapshot -- list")`);
  });
  return { store: { kind: 'qdrant', file: rel, points: count, collection: o.collection }, embedder, warnings };
}

/** Deletes `ai-library-backup-*.tar.gz` in `dir` whose name says they are older than `keepDays`. Other files are never touched. */
export async function pruneBackups(dir: string, keepDays: number, now: Date = new Date(), keep: ReadonlySet<string> = new Set()): Promise<string[]> {
  if (keepDays <= 0) return [];
  const cutoff = now.getTime() - keepDays * 24 * 60 * 60 * 1000;
  const names = await readdir(dir).catch(() => []);
  const deleted: string[] = [];
  for (const name of names.sort()) {
    // The date in the name, not the mtime: copying archives between disks (cp, rsync without -t) resets mtimes.
    const made = archiveDate(name);
    const file = path.join(dir, name);
    if (made === null || made.getTime() >= cutoff || keep.has(file)) continue;
    await rm(file, { force: true });
    deleted.push(file);
  }
  return deleted;
}

/**
 * A backup (docs/operations.md, 5.1) as one archive: library, the store (an
 * embedded online backup or a Qdrant snapshot), configs and sessions, with a
 * manifest of every file's sha256. Files are copied to a staging folder first
 * and hashed as they are copied, so the manifest matches the archive even when
 * a file changes during the backup. Nothing is visible under the final name
 * until the archive is complete.
 *
 * The archive may hold secrets (settings.yaml can carry keys): it is written
 * readable by its owner only. Progress lines carry paths, counts and sizes.
 */
export async function createBackup(config: Config, opts: BackupOptions = {}): Promise<BackupResult> {
  const log = opts.log ?? (() => undefined);
  const now = opts.now ?? new Date();
  const outDir = backupDir(config, opts.outDir);
  const keepDays = opts.keepDays ?? config.settings.backup.keep_days;
  if (!Number.isInteger(keepDays) || keepDays < 0) throw new BackupError(`backup: keep days must be a whole number ≥ 0 (got ${keepDays}); 0 keeps every archive`);
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  for (const gone of await removeBackupLeftovers(outDir)) log(`removed ${gone}, left by an interrupted backup`);
  const name = archiveName(now);
  const archive = path.join(outDir, name);
  if (existsSync(archive)) throw new BackupError(`backup: ${archive} already exists; wait a second and run it again`);
  const staging = path.join(outDir, `.${name}.staging-${process.pid}`);
  const partial = `${archive}.partial-${process.pid}`;
  const warnings: string[] = [];
  try {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true, mode: 0o700 });
    const files: ManifestFile[] = [];
    const skipped: Manifest['skipped'] = [];
    // A backup folder inside a backed-up folder must not swallow itself.
    const exclude = new Set([outDir]);
    for (const [section, source] of Object.entries(sectionSources(config))) {
      await mkdir(path.join(staging, section), { recursive: true });
      const tree = await listTree(source, exclude);
      for (const f of tree.files) {
        const rel = `${section}/${f.rel}`;
        let copied: { sha256: string; bytes: number } | null;
        try {
          copied = section === 'library' ? await copyLibraryFile(source, f.rel, path.join(staging, rel)) : await copyHashed(f.abs, path.join(staging, rel));
        } catch (e) {
          if (!(e instanceof LibraryPathError)) throw e;
          skipped.push({ path: rel, reason: 'symbolic link out of the library' });
          continue;
        }
        if (copied === null) continue;
        files.push({ path: rel, bytes: copied.bytes, sha256: copied.sha256 });
      }
      for (const s of tree.skipped) skipped.push({ path: `${section}/${s.rel}`, reason: s.reason });
      log(`${section}: ${tree.files.length} files from ${source}`);
    }
    for (const s of skipped) warnings.push(`left out ${s.path} (${s.reason})`);
    await mkdir(path.join(staging, STORE_SECTION), { recursive: true });

    const part = config.storeKind === 'qdrant' ? await backupQdrant(config, staging, log) : await backupEmbedded(config, staging, log);
    warnings.push(...part.warnings);
    if (part.store.file !== null) {
      const { sha256, bytes } = await sha256File(path.join(staging, part.store.file));
      files.push({ path: part.store.file, bytes, sha256 });
    }

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      format_version: 1,
      version: VERSION,
      created_at: now.toISOString(),
      store: part.store,
      embedder: part.embedder,
      files,
      skipped,
    };
    await writeFile(path.join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    // manifest.json first: `tar -xzOf archive manifest.json` finds it without reading the rest.
    await createArchive(partial, staging, [MANIFEST_FILE, ...DIR_SECTIONS, STORE_SECTION]);
    await rename(partial, archive);
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
  const bytes = (await stat(archive)).size;
  log(`wrote ${archive} (${bytes} bytes)`);
  const deleted = await pruneBackups(outDir, keepDays, now, new Set([archive]));
  for (const d of deleted) log(`deleted ${d} (older than ${keepDays} days)`);
  // Read back from the finished archive: what the caller is told is what was written.
  const manifest = await readManifest(archive);
  return { archive, bytes, manifest, deleted, warnings };
}
