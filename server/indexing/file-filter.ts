import { readFileSync } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { ALWAYS_IGNORED, looksBinary, oversizeReason, secretContentReason, secretNameReason } from '../../shared/file-rules.js';

/**
 * Decides which library files may be indexed, and says why not. Rules come
 * from the library's .gitignore and its own ignore file (gitignore syntax, via
 * the `ignore` package, which follows git's matching semantics exactly).
 */
export class FileFilter {
  private readonly rules: Ignore;

  constructor(
    libraryRoot: string,
    ignoreFileName: string,
    private readonly maxBytes: number,
  ) {
    this.rules = ignore().add(ALWAYS_IGNORED);
    for (const name of ['.gitignore', ignoreFileName]) {
      try {
        this.rules.add(readFileSync(path.join(libraryRoot, name), 'utf8'));
      } catch {
        // A missing ignore file simply adds no rules.
      }
    }
  }

  /** Checks that need only the path and size; null means "go on". */
  checkPath(relPath: string, size: number): string | null {
    if (this.rules.ignores(relPath)) return 'ignored by .gitignore or the library ignore file';
    return secretNameReason(relPath) ?? oversizeReason(size, this.maxBytes);
  }

  /** Checks on the bytes; returns the text when it may be indexed. */
  checkContent(bytes: Buffer): { text: string } | { reason: string } {
    if (looksBinary(bytes)) return { reason: 'binary file' };
    const text = bytes.toString('utf8');
    const secret = secretContentReason(text);
    return secret ? { reason: secret } : { text };
  }
}
