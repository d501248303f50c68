import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Temp files of atomicWrite: hidden, and recognisable so index runs skip them and clean them up. */
export const TEMP_PREFIX = '.ail-';
export const TEMP_SUFFIX = '.tmp';

export function isAtomicWriteTemp(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX);
}

/**
 * Write-then-rename, so a crash never leaves a half-written file. The temp file
 * has a short name of its own beside the target: write-file-atomic names it
 * `<target>.<hash>`, which pushes a 247–255-byte file name over NAME_MAX
 * (ENAMETOOLONG) although the file system accepts the target itself.
 */
export async function atomicWrite(file: string, data: Buffer | string, mode = 0o644): Promise<void> {
  const tmp = path.join(path.dirname(file), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  const handle = await open(tmp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
