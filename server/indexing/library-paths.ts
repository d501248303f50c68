import { realpathSync } from 'node:fs';
import path from 'node:path';
import { unsafePathCharacters } from '../../shared/api.js';

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
