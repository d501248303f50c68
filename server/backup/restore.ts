import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/settings.js';
import { DataDirLockedError, lockDataDir, type DataDirLock } from '../storage/data-dir-lock.js';
import { createStoreAdmin, embeddedStoreFile } from '../stores/create-store.js';
import {
  BackupError,
  DIR_SECTIONS,
  MANIFEST_FILE,
  STORE_SECTION,
  listTree,
  readManifest,
  extractArchive,
  listArchive,
  sectionSources,
  sha256File,
  type DirSection,
  type Manifest,
} from './archive.js';
import { removeRestoreLeftovers } from './leftovers.js';
import { interruptedMessage, interruptedRestore, removeJournal, writeJournal, type RestoreJournal } from './restore-journal.js';

export interface RestoreOptions {
  /** Replace targets that hold something else (their current content is kept beside them). */
  force?: boolean;
  log?: (line: string) => void;
}

export interface RestoreResult {
  manifest: Manifest;
  /** One line per part: what happened to it. */
  actions: string[];
  /** Where replaced content was moved. */
  keptAside: string[];
  /** Points in the store after the restore (null: the archive had no store). */
  points: number | null;
  warnings: string[];
}

function normalise(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function kindOf(typeChar: string): string {
  switch (typeChar) {
    case 'l':
      return 'symbolic link';
    case 'h':
      return 'hard link';
    case 'c':
    case 'b':
      return 'device';
    case 'p':
      return 'pipe';
    default:
      return `"${typeChar}" entry`;
  }
}

/**
 * Checks an archive entry by entry before anything is extracted, then every
 * extracted file against the manifest. Only regular files the manifest names
 * and their folders may be in it: no links (they could point extraction
 * outside the staging folder), no duplicates (a later copy would silently win),
 * nothing unlisted.
 */
export async function verifyArchive(archive: string, staging: string): Promise<Manifest> {
  const info = await stat(archive).catch(() => null);
  if (!info?.isFile()) throw new BackupError(`restore: ${archive} is not a file; pass the path of an ai-library-backup-*.tar.gz archive`);
  const manifest = await readManifest(archive);
  const tampered = (detail: string) =>
    new BackupError(`restore: ${archive} was modified or is damaged: ${detail}; nothing was restored, use another backup`);

  const files = new Map(manifest.files.map((f) => [f.path, f]));
  if (files.size !== manifest.files.length) throw tampered('the manifest lists a file twice');
  const dirs = new Set<string>([...DIR_SECTIONS, STORE_SECTION]);
  for (const f of manifest.files) {
    const parts = f.path.split('/');
    const top = parts[0] ?? '';
    if (!dirs.has(top) || parts.length < 2) throw tampered(`the manifest lists ${f.path}, outside the archive's folders`);
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }

  const entries = await listArchive(archive);
  const seen = new Set<string>();
  entries.forEach(({ path: raw, type }) => {
    const name = normalise(raw);
    if (name === '' || name === '.') return;
    if (type === 'd') {
      if (!dirs.has(name)) throw tampered(`it holds a folder ${name} that the manifest does not explain`);
      return;
    }
    if (type !== '-') throw tampered(`${name} is a ${kindOf(type)}; AI Library backups hold only files and folders`);
    if (name !== MANIFEST_FILE && !files.has(name)) throw tampered(`${name} is not in the manifest`);
    if (seen.has(name)) throw tampered(`${name} is in it twice`);
    seen.add(name);
  });
  for (const f of manifest.files) if (!seen.has(f.path)) throw tampered(`${f.path} is listed in the manifest but missing`);

  await extractArchive(archive, staging);
  for (const f of manifest.files) {
    const got = await sha256File(path.join(staging, f.path)).catch(() => null);
    if (got === null) throw tampered(`${f.path} could not be extracted`);
    if (got.bytes !== f.bytes || got.sha256 !== f.sha256) throw tampered(`${f.path} does not match its sha256 in ${MANIFEST_FILE}`);
  }
  // Whatever tar did, only listed files may be in the staging folder.
  const extracted = await listTree(staging);
  const stray = [...extracted.files.map((f) => f.rel), ...extracted.skipped.map((s) => s.rel)].find((rel) => rel !== MANIFEST_FILE && !files.has(rel));
  if (stray !== undefined) throw tampered(`${stray} is not in the manifest`);
  return manifest;
}

interface DirPlan {
  section: DirSection;
  target: string;
  staged: string;
  /** Files in the target that the restore would change or remove. */
  differing: number;
  /** Archive files not in the target yet. */
  missing: string[];
  total: number;
}

async function planDir(section: DirSection, target: string, staging: string, manifest: Manifest): Promise<DirPlan> {
  const prefix = `${section}/`;
  const wanted = new Map(manifest.files.filter((f) => f.path.startsWith(prefix)).map((f) => [f.path.slice(prefix.length), f]));
  const current = await listTree(target);
  let differing = current.skipped.length;
  const present = new Set<string>();
  for (const f of current.files) {
    const want = wanted.get(f.rel);
    present.add(f.rel);
    if (!want) {
      differing++;
      continue;
    }
    const size = (await stat(f.abs)).size;
    if (size !== want.bytes || (await sha256File(f.abs)).sha256 !== want.sha256) differing++;
  }
  const missing = [...wanted.keys()].filter((rel) => !present.has(rel));
  return { section, target, staged: path.join(staging, section), differing, missing, total: wanted.size };
}

/** Moves a folder out of the way; a mount point cannot be renamed, so its content is copied aside and emptied instead. */
async function moveAside(dir: string): Promise<string> {
  const aside = `${dir}.before-restore`;
  await rm(aside, { recursive: true, force: true });
  try {
    await rename(dir, aside);
  } catch {
    await cp(dir, aside, { recursive: true, verbatimSymlinks: true });
    for (const name of await readdir(dir)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
  return aside;
}

/**
 * Brings back library, configs, sessions and the store from an archive made
 * by `createBackup`, into the folders and store this configuration names.
 * Everything is verified before anything is touched. A target that holds
 * something the archive does not (a changed or extra file, a store with
 * points) is only replaced with `force`, and its content is kept beside it
 * (`<folder>.before-restore`, `<store>.before-recover`). The embedded store is
 * swapped in atomically by its admin (stores/embedded/snapshots.ts); a Qdrant
 * snapshot is uploaded to the collection with snapshot priority.
 *
 * It holds the server's DATA_DIR lock throughout, so it refuses while a server
 * runs (which would keep serving and writing the old store) and no server
 * starts half-way; a killed restore is finished by running it again.
 */
export async function restoreBackup(config: Config, archive: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const log = opts.log ?? (() => undefined);
  const source = path.resolve(archive);
  const dataDir = config.paths.data;
  await mkdir(dataDir, { recursive: true });
  let lock: DataDirLock;
  try {
    // The server's lock: a running server would keep serving, and writing, the store this replaces.
    lock = lockDataDir(dataDir, 'a restore (npm run restore)');
  } catch (e) {
    if (e instanceof DataDirLockedError) throw new BackupError(`restore: ${e.message}; stop the server first, then run the restore again`);
    throw e;
  }
  try {
    return await restoreLocked(config, source, opts, log);
  } finally {
    lock.release();
  }
}

async function restoreLocked(config: Config, source: string, opts: RestoreOptions, log: (line: string) => void): Promise<RestoreResult> {
  const dataDir = config.paths.data;
  const storeFile = embeddedStoreFile(config);
  const admin = createStoreAdmin(config);
  for (const gone of await removeRestoreLeftovers(dataDir, storeFile)) log(`removed ${gone}, left by an interrupted restore`);
  const resumed = interruptedRestore(dataDir);
  if (resumed && resumed.archive !== source) {
    throw new BackupError(`restore: ${interruptedMessage(resumed)}; only then restore another archive`);
  }
  if (resumed) log(`finishing the interrupted restore of ${source} (started ${resumed.started_at})`);
  // Finishing it is what the operator asked for the first time; the half-restored folders differ by design.
  const force = opts.force === true || resumed !== null;
  // Staged inside DATA_DIR: on the store's own disk, so placing the store is a rename, not a second copy across disks.
  const staging = await mkdtemp(path.join(dataDir, '.restore-'));
  const actions: string[] = [];
  const keptAside: string[] = [];
  const warnings: string[] = [];
  try {
    const manifest = await verifyArchive(source, staging);
    log(`verified ${manifest.files.length} files against the manifest of ${source} (made ${manifest.created_at} by AI Library ${manifest.version})`);
    for (const s of manifest.skipped) warnings.push(`not in the archive, so not restored: ${s.path} (${s.reason})`);

    if (manifest.store.file !== null && manifest.store.kind !== config.storeKind) {
      throw new BackupError(
        `restore: the archive holds a${manifest.store.kind === 'embedded' ? 'n embedded' : ' Qdrant'} store but this configuration uses ${config.storeKind}; ` +
          `set VECTOR_STORE=${manifest.store.kind} to restore it, then "npm run migrate" to move it if needed`,
      );
    }

    const sources = sectionSources(config);
    const plans = await Promise.all(DIR_SECTIONS.map((section) => planDir(section, sources[section], staging, manifest)));
    const pointsNow = manifest.store.file === null ? 0 : await admin.countPoints();
    const inTheWay = [
      ...plans.filter((p) => p.differing > 0).map((p) => `${p.section} (${p.target}: ${p.differing} file(s) differ from the backup or are not in it)`),
      ...(pointsNow > 0 ? [`the ${config.storeKind} store (${pointsNow} points)`] : []),
    ];
    if (inTheWay.length > 0 && !force) {
      throw new BackupError(
        `restore: not empty: ${inTheWay.join('; ')}. Nothing was restored; stop the server and run again with --force to replace them ` +
          '(the current content is kept as <folder>.before-restore and <store>.before-recover)',
      );
    }

    const journal: RestoreJournal = resumed ?? { archive: source, started_at: new Date().toISOString(), asides: {}, store: 'pending' };
    await writeJournal(dataDir, journal);

    // The store first: it is the part that can fail for outside reasons (Qdrant down), before any folder changed.
    let points: number | null = null;
    if (manifest.store.file === null) {
      warnings.push('the archive has no store (the library was never indexed when it was made); the store was left as it is');
    } else if (journal.store === 'done') {
      points = await admin.countPoints();
      actions.push(`store: already restored by the interrupted run (${points} points)`);
    } else {
      const kept = `${storeFile}.before-recover`;
      // Killed between moving the old store aside and placing the new one: put the old one back first, so it is what gets kept.
      if (journal.store === 'started' && config.storeKind === 'embedded' && !existsSync(storeFile) && existsSync(kept)) await rename(kept, storeFile);
      journal.store = 'started';
      await writeJournal(dataDir, journal);
      actions.push(`store: ${await admin.snapshots.recover(path.join(staging, manifest.store.file))}`);
      points = await admin.countPoints();
      if (points !== manifest.store.points) {
        warnings.push(`the store now holds ${points} points, the manifest says ${manifest.store.points}; check the store before serving`);
      }
      journal.store = 'done';
      await writeJournal(dataDir, journal);
      log(actions[actions.length - 1] ?? '');
    }

    for (const p of plans) {
      const movedBefore = journal.asides[p.section];
      if (p.differing === 0 && p.missing.length === 0) {
        actions.push(`${p.section}: ${p.target} already matches the backup (${p.total} files)`);
      } else if (p.differing === 0) {
        // Nothing would be lost: add what is missing and leave the rest in place.
        for (const rel of p.missing) {
          const to = path.join(p.target, rel);
          await mkdir(path.dirname(to), { recursive: true });
          await cp(path.join(p.staged, rel), to);
        }
        actions.push(`${p.section}: restored ${p.missing.length} file(s) into ${p.target}`);
      } else {
        let aside: string;
        if (movedBefore !== undefined) {
          // The interrupted run moved the original aside already; what is here now is its half-copy.
          aside = movedBefore;
          await rm(p.target, { recursive: true, force: true });
        } else {
          aside = await moveAside(p.target);
          journal.asides[p.section] = aside;
          await writeJournal(dataDir, journal);
        }
        keptAside.push(aside);
        await mkdir(p.target, { recursive: true });
        await cp(p.staged, p.target, { recursive: true });
        actions.push(`${p.section}: replaced ${p.target} with the backup's ${p.total} file(s); the previous content is in ${aside}`);
      }
      log(actions[actions.length - 1] ?? '');
    }
    removeJournal(dataDir);
    return { manifest, actions, keptAside, points, warnings };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
