import { openSqliteWithSchema } from '../storage/sqlite-file.js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Developer } from '../http/app-env.js';

/** Recognisable in a leaked paste or a secret scanner, and never confused with a provider key. */
export const TOKEN_PREFIX = 'ail_';
export const TOKEN_FILE = 'tokens.sqlite';
/** Token names become developer names, which name conversation folders: same rule as those folders. */
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** last_used_at is for "who still uses this token", not an audit trail: one write a minute per token is enough. */
const LAST_USED_WRITE_MS = 60_000;

/** A token problem the operator can fix (bad name, duplicate, unknown); the CLI prints it as one line. */
export class TokenError extends Error {
  override name = 'TokenError';
}

const TOKENS_SCHEMA = `CREATE TABLE IF NOT EXISTS tokens (
  name TEXT PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  admin INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT
)`;

/** What may be shown about a token: never the token, never its hash. */
export interface TokenInfo {
  name: string;
  admin: boolean;
  created_at: string;
  last_used_at: string | null;
}

export interface IssuedToken {
  /** Shown once to the operator, then only its hash exists. */
  token: string;
  info: TokenInfo;
}

interface CachedToken {
  name: string;
  admin: boolean;
  hash: Buffer;
}

export function tokenFile(dataDir: string): string {
  return path.join(dataDir, TOKEN_FILE);
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function checkTokenName(name: string): string {
  if (!NAME_PATTERN.test(name) || name === '.' || name === '..') {
    throw new TokenError(`token name "${name}" must be 1-64 letters, digits, dots, dashes or underscores (it becomes the developer's name)`);
  }
  return name;
}

function field(row: unknown, key: string): unknown {
  if (typeof row !== 'object' || row === null) return undefined;
  const value: unknown = Reflect.get(row, key);
  return value;
}

function str(row: unknown, key: string): string {
  const v = field(row, key);
  if (typeof v !== 'string') throw new Error(`tokens table: column ${key} is not text`);
  return v;
}

function strOrNull(row: unknown, key: string): string | null {
  const v = field(row, key);
  return typeof v === 'string' ? v : null;
}

function toInfo(row: unknown): TokenInfo {
  return { name: str(row, 'name'), admin: field(row, 'admin') === 1, created_at: str(row, 'created_at'), last_used_at: strOrNull(row, 'last_used_at') };
}

/**
 * Server tokens as SHA-256 hashes in `DATA_DIR/tokens.sqlite`. The CLI and the
 * running server open the same file: SQLite serialises their writes, and the
 * server notices the CLI's changes through `PRAGMA data_version` (one cheap
 * call per request), so a new or revoked token counts at the next request.
 */
export class TokenStore {
  private cache: CachedToken[] = [];
  private cachedVersion = -1;
  private readonly lastWritten = new Map<string, number>();

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {}

  static open(dataDir: string): TokenStore {
    const file = tokenFile(dataDir);
    const db = openSqliteWithSchema(file, TOKENS_SCHEMA, { what: 'token store', fix: 'check DATA_DIR permissions and free space' });
    // Hashes are not tokens, but nobody else on the machine needs to read them: the file is 0600 (storage/private-files.ts).
    return new TokenStore(db, file);
  }

  /** Re-reads the table only when another connection (the CLI) committed since the last look. */
  private tokens(): CachedToken[] {
    const version = this.db.pragma('data_version', { simple: true });
    if (version !== this.cachedVersion) this.reload(typeof version === 'number' ? version : -1);
    return this.cache;
  }

  private reload(version: number): void {
    this.cache = this.db
      .prepare('SELECT name, admin, hash FROM tokens')
      .all()
      .map((row) => {
        const hash = field(row, 'hash');
        if (!Buffer.isBuffer(hash)) throw new Error('tokens table: column hash is not a blob');
        return { name: str(row, 'name'), admin: field(row, 'admin') === 1, hash };
      });
    this.cachedVersion = version;
  }

  /** Our own writes do not move data_version, so they drop the cache themselves. */
  private invalidate(): void {
    this.cachedVersion = -1;
  }

  count(): number {
    return this.tokens().length;
  }

  list(): TokenInfo[] {
    return this.db.prepare('SELECT name, admin, created_at, last_used_at FROM tokens ORDER BY name').all().map(toInfo);
  }

  create(name: string, options: { admin?: boolean } = {}): IssuedToken {
    checkTokenName(name);
    const token = newToken();
    const info: TokenInfo = { name, admin: options.admin === true, created_at: new Date().toISOString(), last_used_at: null };
    try {
      this.db
        .prepare('INSERT INTO tokens (name, hash, admin, created_at) VALUES (?, ?, ?, ?)')
        .run(name, hashToken(token), info.admin ? 1 : 0, info.created_at);
    } catch (e) {
      if (e instanceof Error && /UNIQUE constraint failed: tokens\.name/.test(e.message)) {
        throw new TokenError(`a token named "${name}" exists; rotate it with "npm run token -- rotate ${name}" or revoke it first`);
      }
      throw e;
    }
    this.invalidate();
    return { token, info };
  }

  /** A new token for the same name (same developer, same contributions); the old one stops working at once. */
  rotate(name: string): IssuedToken {
    checkTokenName(name);
    const token = newToken();
    const changed = this.db.prepare('UPDATE tokens SET hash = ?, last_used_at = NULL WHERE name = ?').run(hashToken(token), name).changes;
    if (changed === 0) throw new TokenError(`no token named "${name}"; see "npm run token -- list"`);
    this.invalidate();
    this.lastWritten.delete(name);
    const info = this.list().find((t) => t.name === name);
    if (!info) throw new TokenError(`token "${name}" was revoked while rotating; create it again`);
    return { token, info };
  }

  revoke(name: string): boolean {
    const removed = this.db.prepare('DELETE FROM tokens WHERE name = ?').run(name).changes > 0;
    this.invalidate();
    this.lastWritten.delete(name);
    return removed;
  }

  /**
   * The developer a token belongs to, or null. Every stored hash is compared in
   * constant time and the loop never exits early, so timing says nothing about
   * which (or whether a) token is close.
   */
  verify(token: string): Developer | null {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const presented = hashToken(token);
    let found: CachedToken | null = null;
    for (const t of this.tokens()) {
      // A row of another length can only be a hand-edited file; timingSafeEqual would throw on it.
      if (t.hash.length === presented.length && timingSafeEqual(presented, t.hash) && found === null) found = t;
    }
    if (!found) return null;
    this.touch(found.name);
    return { name: found.name, admin: found.admin };
  }

  private touch(name: string): void {
    const now = Date.now();
    if (now - (this.lastWritten.get(name) ?? 0) < LAST_USED_WRITE_MS) return;
    this.lastWritten.set(name, now);
    try {
      this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE name = ?').run(new Date(now).toISOString(), name);
    } catch {
      // A busy or read-only file must not turn a valid request into an error; "last used" is advisory.
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
