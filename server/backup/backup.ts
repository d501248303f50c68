import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/settings.js';
import { VERSION } from '../services.js';
import { createStoreAdmin } from '../stores/create-store.js';
import { LibraryPathError, openInLibrary } from '../indexing/library-paths.js';
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

    // An embedded online backup or a Qdrant snapshot, whichever the configured store's admin makes.
    const copy = await createStoreAdmin(config).exportTo(path.join(staging, STORE_SECTION));
    log(copy.summary);
    warnings.push(...copy.warnings);
    const store: Manifest['store'] = { kind: config.storeKind, file: copy.file === null ? null : `${STORE_SECTION}/${copy.file}`, points: copy.points, collection: copy.collection };
    if (store.file !== null) {
      const { sha256, bytes } = await sha256File(path.join(staging, store.file));
      files.push({ path: store.file, bytes, sha256 });
    }

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      format_version: 1,
      version: VERSION,
      created_at: now.toISOString(),
      store,
      embedder: copy.embedder,
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
