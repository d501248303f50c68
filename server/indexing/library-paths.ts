import { realpathSync } from 'node:fs';
import path from 'node:path';

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
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    return { rel, abs };
  }
  const root = realpathSync(libraryRoot);
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new LibraryPathError(`${field}: "${rel}" leads outside the library through a symbolic link`);
  }
  return { rel, abs };
}

/** Library paths in payloads always use forward slashes, whatever the OS. */
export function toLibraryPath(libraryRoot: string, abs: string): string {
  return path.relative(libraryRoot, abs).split(path.sep).join('/');
}
