import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/** What a killed backup or restore leaves: staging folders, partial archives, a half-copied store. */
const BACKUP_STAGING = /^\.ai-library-backup-\d{8}-\d{6}\.tar\.gz\.staging-(\d+)$/;
const BACKUP_PARTIAL = /^ai-library-backup-\d{8}-\d{6}\.tar\.gz\.partial-(\d+)$/;
const RESTORE_STAGING = /^\.restore-/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return e instanceof Error && 'code' in e && e.code === 'EPERM';
  }
}

/** Removes staging folders and partial archives in `outDir` whose backup process is gone; returns what went. */
export async function removeBackupLeftovers(outDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(outDir).catch(() => [])) {
    const m = BACKUP_STAGING.exec(name) ?? BACKUP_PARTIAL.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    await rm(path.join(outDir, name), { recursive: true, force: true });
    removed.push(path.join(outDir, name));
  }
  return removed;
}

/**
 * Removes restore staging folders in DATA_DIR and a store copy a killed
 * recovery left (`<store>.recover-<pid>.tmp`). Only for a caller holding the
 * DATA_DIR lock (data-dir-lock.ts): then no other restore can be under way.
 */
export async function removeRestoreLeftovers(dataDir: string, storeFile: string): Promise<string[]> {
  const removed: string[] = [];
  const storeTmp = new RegExp(`^${path.basename(storeFile).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.recover-\\d+\\.tmp$`);
  for (const dir of new Set([dataDir, path.dirname(storeFile)])) {
    for (const name of await readdir(dir).catch(() => [])) {
      if (!RESTORE_STAGING.test(name) && !storeTmp.test(name)) continue;
      await rm(path.join(dir, name), { recursive: true, force: true });
      removed.push(path.join(dir, name));
    }
  }
  return removed;
}
