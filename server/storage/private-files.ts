/**
 * The server's state is for the user that runs it: the SQLite stores (library,
 * tokens, usage, jobs, the embedding cache), snapshots and conversations are
 * 0600 in 0700 folders, whatever the umask (issue 12, defect 13: they were
 * 0644 under a 0755 DATA_DIR, readable by every account on the host).
 */
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** What SQLite keeps beside a database; it creates them with the database's own mode. */
const SQLITE_SIDECARS = ['-wal', '-shm', '-journal'];
const SQLITE_FILE = /\.sqlite(?:-wal|-shm|-journal)?$/;
/** DATA_DIR folders holding state files of their own. */
const STATE_FOLDERS = ['snapshots', 'centroids'];

function chmodIfPresent(target: string, mode: number): void {
  try {
    chmodSync(target, mode);
  } catch {
    // Gone already, or a file system without POSIX modes (Windows, some mounts) that keeps its own ACLs.
  }
}

/** Creates the folder (and missing parents) as 0700, and makes an existing one 0700. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodIfPresent(dir, PRIVATE_DIR_MODE);
}

/**
 * Makes a SQLite file 0600 before it is opened: created empty with that mode
 * when missing (an empty file is a valid empty database), chmod-ed with its
 * -wal/-shm when present. SQLite gives the sidecars it creates later the
 * database's mode, so they stay private too.
 */
export function privateSqliteFile(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  for (const suffix of ['', ...SQLITE_SIDECARS]) chmodIfPresent(file + suffix, PRIVATE_FILE_MODE);
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Every file directly in `dir` matching `pattern` becomes 0600. */
function privateFilesIn(dir: string, pattern: RegExp): void {
  for (const entry of entries(dir)) if (entry.isFile() && pattern.test(entry.name)) chmodIfPresent(path.join(dir, entry.name), PRIVATE_FILE_MODE);
}

/**
 * At start: DATA_DIR and the sessions folder become 0700 and the state already
 * in them 0600, so a library created by an older version is fixed too. Only
 * the server's own files are touched (SQLite files, snapshots, centroids,
 * conversations), never anything else someone keeps there.
 */
export function securePrivateState(dataDir: string, sessionsDir: string): void {
  privateDir(dataDir);
  privateFilesIn(dataDir, SQLITE_FILE);
  for (const name of STATE_FOLDERS) {
    const folder = path.join(dataDir, name);
    chmodIfPresent(folder, PRIVATE_DIR_MODE);
    privateFilesIn(folder, /./);
  }
  privateDir(sessionsDir);
  for (const entry of entries(sessionsDir)) {
    if (!entry.isDirectory()) continue;
    const developer = path.join(sessionsDir, entry.name);
    chmodIfPresent(developer, PRIVATE_DIR_MODE);
    privateFilesIn(developer, /\.json$/);
  }
}
