import { statfs } from 'node:fs/promises';
import path from 'node:path';
import type { DependencyHealth } from '../../shared/api-types.js';
import { isRecord } from '../../shared/guards.js';

/** errno codes (ENOSPC, EDQUOT) and SQLite result codes (SQLITE_FULL) that mean "no room to write". */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/**
 * Below this many free bytes a folder counts as full before a write even
 * fails: one upload (library.max_file_bytes defaults to 1 MiB) plus its index rows.
 */
export const LOW_WATER_BYTES = 2 * 1024 * 1024;

function stringField(value: unknown, key: string): string | null {
  const field = isRecord(value) ? value[key] : undefined;
  return typeof field === 'string' ? field : null;
}

/** The error (or one of its causes) that says the disk is full, with the file it was writing when known. */
export function diskFullCause(err: unknown): { code: string; file: string | null } | null {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    const code = stringField(e, 'code');
    if (code !== null && FULL_CODES.has(code)) return { code, file: stringField(e, 'path') };
    e = isRecord(e) ? e.cause : undefined;
  }
  return null;
}

async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The folders the server writes (DATA_DIR for the SQLite files and snapshots,
 * LIBRARY_PATH for uploads, SESSIONS_PATH for conversations), which one a
 * disk-full error hit, and whether they have room now. A folder that ran full
 * stays "down" in /health until it has more room than when the write failed,
 * so a probe between two failing writes does not report it healed.
 */
export class DiskSpace {
  private readonly fullAt = new Map<string, number>();

  constructor(private readonly folders: Record<string, string>) {}

  /** Which of the server's folders `file` is in; SQLite names no file, and its files live in DATA_DIR. */
  private folderOf(file: string | null): { name: string; dir: string } {
    const entries = Object.entries(this.folders);
    const owner = file === null ? undefined : entries.find(([, dir]) => !path.relative(dir, file).startsWith('..') && !path.isAbsolute(path.relative(dir, file)));
    const [name, dir] = owner ?? entries.find(([n]) => n === 'DATA_DIR') ?? entries[0] ?? ['DATA_DIR', '.'];
    return { name, dir };
  }

  /**
   * The message for a write that failed for lack of space, or null when `err`
   * is something else. Remembers the folder for /health.
   */
  describe(err: unknown): string | null {
    const cause = diskFullCause(err);
    if (!cause) return null;
    const { name, dir } = this.folderOf(cause.file);
    // 0 until measured: any room gained since counts as the operator's doing.
    this.fullAt.set(name, this.fullAt.get(name) ?? 0);
    void freeBytes(dir).then((free) => {
      if (this.fullAt.has(name)) this.fullAt.set(name, free ?? 0);
    });
    return `disk full at ${name} (${dir}): the request could not be completed (${cause.code}); free space there and retry`;
  }

  /** For /health: down while a folder is below LOW_WATER_BYTES or has not gained room since a write failed there. */
  async check(): Promise<DependencyHealth> {
    const started = performance.now();
    const problems: string[] = [];
    const seen: string[] = [];
    for (const [name, dir] of Object.entries(this.folders)) {
      const free = await freeBytes(dir);
      if (free === null) continue;
      seen.push(`${name} ${mib(free)} free`);
      const failedWith = this.fullAt.get(name);
      if (failedWith !== undefined && free > failedWith + LOW_WATER_BYTES) this.fullAt.delete(name);
      if (free < LOW_WATER_BYTES || this.fullAt.has(name)) {
        // Names, not paths: /health is unauthenticated, and absolute paths are the operator's business (issue 12, defect 13).
        problems.push(`${name} has ${mib(free)} free${this.fullAt.has(name) ? ' and a write there failed for lack of space' : ''}`);
      }
    }
    const latency_ms = Math.round((performance.now() - started) * 10) / 10;
    if (problems.length > 0) {
      return { status: 'down', latency_ms, detail: `disk full: ${problems.join('; ')}; uploads, answers and snapshots fail (507) until space is freed` };
    }
    return { status: 'up', latency_ms, detail: seen.join(', ') || 'no folder could be measured' };
  }
}
