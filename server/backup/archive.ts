import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { z } from 'zod';
import type { Config } from '../config/settings.js';

/** A backup that cannot be made or restored as asked; the CLI prints the message alone. */
export class BackupError extends Error {
  override name = 'BackupError';
}

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'ai-library-backup';
/** Folders of the archive besides manifest.json. */
export const DIR_SECTIONS = ['library', 'configs', 'sessions'] as const;
export type DirSection = (typeof DIR_SECTIONS)[number];
export const STORE_SECTION = 'store';

/** Where each folder section comes from in this configuration. */
export function sectionSources(config: Config): Record<DirSection, string> {
  return { library: config.paths.library, configs: config.paths.configDir, sessions: config.paths.sessions };
}

const ARCHIVE_NAME = /^ai-library-backup-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})\.tar\.gz$/;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `ai-library-backup-YYYYMMDD-HHMMSS.tar.gz`, in UTC so names sort and compare the same on every machine. */
export function archiveName(at: Date): string {
  const d = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}`;
  const t = `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return `ai-library-backup-${d}-${t}.tar.gz`;
}

/** When an archive was made, from its name; null for any other file. */
export function archiveDate(name: string): Date | null {
  const m = ARCHIVE_NAME.exec(name);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** One relative, slash-separated path inside the archive: no absolute paths, no "." or ".." segments. */
function isArchivePath(p: string): boolean {
  if (p.startsWith('/') || p.includes('\0')) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

const archivePath = z.string().refine(isArchivePath, 'must be a relative path without "." or ".." segments');

export const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  format_version: z.literal(1),
  /** The AI Library version that wrote it. */
  version: z.string(),
  created_at: z.string(),
  store: z.object({
    kind: z.enum(['embedded', 'qdrant']),
    /** The store's file inside the archive; null when there was no store to back up. */
    file: archivePath.nullable(),
    points: z.number().int().min(0),
    /** Qdrant only. */
    collection: z.string().nullable(),
  }),
  /** As recorded by the store (null: an empty, never-initialised store). */
  embedder: z.object({ id: z.string(), dimension: z.number().int().positive() }).nullable(),
  files: z.array(z.object({ path: archivePath, bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
  /** Left out on purpose (symbolic links, special files), so a restore can say what it will not bring back. */
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })).default([]),
});
export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestFile = Manifest['files'][number];

/** One archive entry as listed: its path and its kind, in tar's one-letter code ("-" file, "d" folder, "l" link …). */
export interface ArchiveEntry {
  path: string;
  type: string;
}

const TYPE_CODES: Record<string, string> = {
  File: '-',
  OldFile: '-',
  ContiguousFile: '-',
  Directory: 'd',
  SymbolicLink: 'l',
  Link: 'h',
  CharacterDevice: 'c',
  BlockDevice: 'b',
  FIFO: 'p',
};

function tarFailure(what: string, archive: string, e: unknown): BackupError {
  return new BackupError(`tar ${what} ${archive} failed: ${e instanceof Error ? e.message : String(e)}`);
}

/**
 * Archives go through the `tar` package in this process, not a spawned GNU
 * tar: a killed backup or restore then leaves no orphaned tar child writing
 * on, and entries are read as objects rather than parsed from `tar -tv`
 * lines. The archive is written readable by its owner only from its first
 * byte (it may hold secrets), under the partial name the caller gives.
 */
export async function createArchive(file: string, cwd: string, entries: string[]): Promise<void> {
  try {
    await pipeline(tar.c({ gzip: true, cwd, portable: true }, entries), createWriteStream(file, { mode: 0o600 }));
  } catch (e) {
    throw tarFailure('create', file, e);
  }
}

/** Every entry of an archive, in order. */
export async function listArchive(file: string): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  try {
    await tar.t({ file, strict: true, onReadEntry: (entry) => entries.push({ path: entry.path, type: TYPE_CODES[entry.type] ?? '?' }) });
  } catch (e) {
    throw tarFailure('list', file, e);
  }
  return entries;
}

/** One file's bytes from an archive; null when it is not in it. */
export async function readArchiveFile(file: string, name: string): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let found = false;
  try {
    await tar.t({
      file,
      strict: true,
      onReadEntry: (entry) => {
        if (entry.path !== name || entry.type !== 'File') return;
        found = true;
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      },
    });
  } catch (e) {
    throw tarFailure('read', file, e);
  }
  return found ? Buffer.concat(chunks) : null;
}

/** Extracts files and folders only (links and devices were refused by the caller's listing), owned by whoever restores. */
export async function extractArchive(file: string, cwd: string): Promise<void> {
  try {
    await tar.x({ file, cwd, strict: true, preserveOwner: false, filter: (_path, entry) => 'type' in entry && (entry.type === 'File' || entry.type === 'Directory') });
  } catch (e) {
    throw tarFailure('extract', file, e);
  }
}

/** Passes bytes through while hashing them, so a copy and its checksum come from the same read. */
function hasher(): { stream: Transform; digest: () => { sha256: string; bytes: number } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, digest: () => ({ sha256: hash.digest('hex'), bytes }) };
}

export function sha256File(file: string): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    createReadStream(file)
      .on('data', (chunk: Buffer | string) => {
        hash.update(chunk);
        bytes += Buffer.byteLength(chunk);
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: hash.digest('hex'), bytes }));
  });
}

/**
 * Copies one file (keeping its permission bits) and returns what the copy
 * holds. `opened`: the file already opened (library files come through
 * openInLibrary, so a link swapped in after listing is not followed).
 */
export async function copyHashed(from: string, to: string, opened?: FileHandle): Promise<{ sha256: string; bytes: number }> {
  await mkdir(path.dirname(to), { recursive: true });
  const { mode } = opened ? await opened.stat() : await stat(from);
  const h = hasher();
  const source = opened ? opened.createReadStream({ autoClose: false }) : createReadStream(from);
  await pipeline(source, h.stream, createWriteStream(to, { mode: mode & 0o777 }));
  return h.digest();
}

export interface TreeEntry {
  /** Slash-separated, relative to the tree's root. */
  rel: string;
  abs: string;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Regular files under `root`, sorted. Symbolic links and special files are
 * reported in `skipped` rather than followed: a link could pull files from
 * outside the tree into the archive, and restore refuses links anyway.
 */
export async function listTree(root: string, exclude: ReadonlySet<string> = new Set()): Promise<{ files: TreeEntry[]; skipped: Array<{ rel: string; reason: string }> }> {
  const files: TreeEntry[] = [];
  const skipped: Array<{ rel: string; reason: string }> = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((e: unknown) => {
      if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return [];
      throw e;
    });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const abs = path.join(dir, entry.name);
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (exclude.has(abs)) continue;
      if (CONTROL.test(entry.name)) {
        skipped.push({ rel, reason: 'name contains control characters' });
      } else if (entry.isDirectory()) {
        await walk(abs, rel);
      } else if (entry.isFile()) {
        files.push({ rel, abs });
      } else {
        skipped.push({ rel, reason: entry.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
      }
    }
  };
  await walk(root, '');
  return { files, skipped };
}

/** The archive's manifest, validated; BackupError when it is missing or malformed. */
export async function readManifest(archive: string): Promise<Manifest> {
  let text: string;
  try {
    const bytes = await readArchiveFile(archive, MANIFEST_FILE);
    if (bytes === null) throw new BackupError(`it has no ${MANIFEST_FILE}`);
    text = bytes.toString('utf8');
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new BackupError(`${archive} is not a readable AI Library backup (${why}); pick another archive`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BackupError(`${archive}: ${MANIFEST_FILE} is not JSON; the archive is damaged or not an AI Library backup`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
    throw new BackupError(`${archive}: ${MANIFEST_FILE} is not a valid manifest (${where}); the archive is damaged or not an AI Library backup`);
  }
  return parsed.data;
}
