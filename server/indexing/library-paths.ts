import { constants as fsConstants, realpathSync } from 'node:fs';
import { lstat, open, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { unsafePathCharacters } from '../../shared/file-rules.js';

/** A path that points outside the library or is malformed; the API answers 400. */
export class LibraryPathError extends Error {
  override name = 'LibraryPathError';
}

/**
 * Normalises a library-relative path (forward slashes, no leading `./`) and
 * refuses anything that could escape the library: absolute paths, `..`,
 * URL-encoded separators or dots, NUL bytes, drive letters.
 */
export function normalizeRelativePath(input: string, field = 'path'): string {
  const p = input.trim().replace(/\\/g, '/');
  if (p === '') throw new LibraryPathError(`${field}: must not be empty`);
  if (p.includes('\0')) throw new LibraryPathError(`${field}: must not contain NUL bytes`);
  const unsafe = unsafePathCharacters(p);
  if (unsafe) throw new LibraryPathError(`${field}: ${unsafe}`);
  if (/%(2e|2f|5c|00)/i.test(p)) throw new LibraryPathError(`${field}: must not contain URL-encoded dots or slashes`);
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) {
    throw new LibraryPathError(`${field}: must be relative to the library, not absolute ("${p}")`);
  }
  const normalized = path.posix.normalize(p).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../') || normalized.split('/').includes('..')) {
    throw new LibraryPathError(`${field}: must stay inside the library (no "..")`);
  }
  return normalized === '.' ? '' : normalized;
}

/**
 * Resolves a relative path inside the library and, when it exists, checks that
 * its real location (after symlinks) is still inside: a link out is refused.
 */
export function resolveInLibrary(libraryRoot: string, relPath: string, field = 'path'): { rel: string; abs: string } {
  const rel = normalizeRelativePath(relPath, field);
  const abs = path.join(libraryRoot, rel);
  // A path that does not exist yet (an upload) is judged by its deepest existing
  // folder: a linked folder on the way would otherwise let a write land outside.
  const real = realpathOfExisting(abs);
  let root: string;
  try {
    root = realpathSync(libraryRoot);
  } catch {
    return { rel, abs };
  }
  if (real !== null && real !== root && !real.startsWith(root + path.sep)) {
    throw new LibraryPathError(`${field}: "${rel}" leads outside the library through a symbolic link`);
  }
  return { rel, abs };
}

/** The real location of `abs`, or of its deepest existing ancestor; null when nothing on the way exists. */
function realpathOfExisting(abs: string): string | null {
  for (let current = abs; ; ) {
    try {
      return realpathSync(current);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return null;
      current = parent;
    }
  }
}

/** Library paths in payloads always use forward slashes, whatever the OS. */
export function toLibraryPath(libraryRoot: string, abs: string): string {
  return path.relative(libraryRoot, abs).split(path.sep).join('/');
}

/** A library file opened for reading after the escape check; close `handle` when done. */
export interface OpenedLibraryFile {
  handle: FileHandle;
  size: number;
}

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/**
 * The one way any part of the server reads a library file (the indexer, the
 * taxonomy's titles, GET /documents, backups). It opens first and checks
 * what was opened: the real path must lie inside the library and be the very
 * file (device and inode) the descriptor holds, so a link swapped in between
 * the check and the read cannot lead outside. Returns null when there is no
 * regular file at `rel`; throws LibraryPathError when it leads outside.
 */
export async function openInLibrary(libraryRoot: string, relPath: string): Promise<OpenedLibraryFile | null> {
  const rel = normalizeRelativePath(relPath);
  const abs = path.join(libraryRoot, rel);
  let handle: FileHandle;
  try {
    handle = await open(abs, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null;
    throw e;
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) {
      await handle.close();
      return null;
    }
    const [root, real] = await Promise.all([realpath(libraryRoot), realpath(abs).catch(() => null)]);
    if (real === null) {
      // Removed since it was opened: as good as not there.
      await handle.close();
      return null;
    }
    const there = await lstat(real).catch(() => null);
    if (!real.startsWith(root + path.sep) || there === null || there.ino !== opened.ino || there.dev !== opened.dev) {
      throw new LibraryPathError(`path: "${rel}" leads outside the library through a symbolic link; it is not read`);
    }
    return { handle, size: opened.size };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
}

/** The whole file through openInLibrary; null when there is no regular file at `rel`. */
export async function readInLibrary(libraryRoot: string, relPath: string): Promise<Buffer | null> {
  const opened = await openInLibrary(libraryRoot, relPath);
  if (opened === null) return null;
  try {
    return await opened.handle.readFile();
  } finally {
    await opened.handle.close();
  }
}
