import { openSqliteWithSchema } from '../storage/sqlite-file.js';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { isRecord } from '../../shared/guards.js';

export const USAGE_FILE = 'usage.sqlite';

export type UsageProvider = 'mistral' | 'anthropic';

/** Counters summed per (day, developer, provider, model). */
export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** How many of `input_tokens` are estimates (characters / 4) rather than counts the provider reported. */
  estimated_tokens: number;
  cost_usd: number;
}

export interface UsageRow extends UsageTotals {
  /** UTC calendar day, YYYY-MM-DD. */
  day: string;
  developer: string;
  provider: UsageProvider;
  model: string;
}

/** One call's usage, added to its row (which counts the call as one request). */
export type UsageEntry = Omit<UsageRow, 'requests'>;

export function emptyTotals(): UsageTotals {
  return { requests: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, estimated_tokens: 0, cost_usd: 0 };
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The first and last day keys of a `YYYY-MM` month, for a range scan on the primary key. */
function monthRange(month: string): [string, string] {
  if (!MONTH.test(month)) throw new RangeError(`month "${month}" is not YYYY-MM`);
  return [`${month}-01`, `${month}-31`];
}

function int(v: unknown, column: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v === null) return 0;
  throw new Error(`usage store: column "${column}" holds ${typeof v}, expected a number; delete ${USAGE_FILE} if it was written by another program`);
}

function str(v: unknown, column: string): string {
  if (typeof v === 'string') return v;
  throw new Error(`usage store: column "${column}" holds ${typeof v}, expected text; delete ${USAGE_FILE} if it was written by another program`);
}

function toRow(r: unknown): UsageRow {
  if (typeof r !== 'object' || r === null) throw new Error('usage store: a row is not an object');
  const get = (k: string): unknown => Reflect.get(r, k);
  const provider = str(get('provider'), 'provider');
  if (provider !== 'mistral' && provider !== 'anthropic') throw new Error(`usage store: unknown provider "${provider}"`);
  return {
    day: str(get('day'), 'day'),
    developer: str(get('developer'), 'developer'),
    provider,
    model: str(get('model'), 'model'),
    requests: int(get('requests'), 'requests'),
    input_tokens: int(get('input_tokens'), 'input_tokens'),
    output_tokens: int(get('output_tokens'), 'output_tokens'),
    cache_read_tokens: int(get('cache_read_tokens'), 'cache_read_tokens'),
    cache_write_tokens: int(get('cache_write_tokens'), 'cache_write_tokens'),
    estimated_tokens: int(get('estimated_tokens'), 'estimated_tokens'),
    cost_usd: int(get('cost_usd'), 'cost_usd'),
  };
}

const USAGE_SCHEMA = `CREATE TABLE IF NOT EXISTS usage_daily (
  day TEXT NOT NULL,
  developer TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  estimated_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (day, developer, provider, model)
) WITHOUT ROWID`;

/**
 * Paid-token usage in DATA_DIR/usage.sqlite: one row per UTC day, developer,
 * provider and model, incremented in place, so the table stays small (a team
 * makes a few hundred rows a month) and a month's spend is one indexed sum.
 * The cost is stored as priced when the tokens were spent: a later price
 * change does not rewrite what a past month cost.
 */
export class UsageStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement<[UsageEntry]>;
  private readonly spentStmt: Database.Statement<[string, string]>;
  private readonly rowsStmt: Database.Statement<[string, string]>;

  constructor(file: string) {
    this.file = path.resolve(file);
    // The server and the CLI (index, usage) write and read the same file.
    this.db = openSqliteWithSchema(this.file, USAGE_SCHEMA, { what: 'usage store', fix: 'check DATA_DIR permissions and free space' });
    this.upsert = this.db.prepare<[UsageEntry]>(`INSERT INTO usage_daily
        (day, developer, provider, model, requests, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated_tokens, cost_usd)
      VALUES (@day, @developer, @provider, @model, 1, @input_tokens, @output_tokens, @cache_read_tokens, @cache_write_tokens, @estimated_tokens, @cost_usd)
      ON CONFLICT (day, developer, provider, model) DO UPDATE SET
        requests = requests + 1,
        input_tokens = input_tokens + excluded.input_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
        cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
        estimated_tokens = estimated_tokens + excluded.estimated_tokens,
        cost_usd = cost_usd + excluded.cost_usd`);
    this.spentStmt = this.db.prepare<[string, string]>('SELECT coalesce(sum(cost_usd), 0) AS usd FROM usage_daily WHERE day >= ? AND day <= ?');
    this.rowsStmt = this.db.prepare<[string, string]>(
      'SELECT * FROM usage_daily WHERE day >= ? AND day <= ? ORDER BY day, developer, provider, model',
    );
  }

  add(entry: UsageEntry): void {
    this.upsert.run(entry);
  }

  /** USD spent in a `YYYY-MM` month, all developers. */
  spent(month: string): number {
    const r: unknown = this.spentStmt.get(...monthRange(month));
    return isRecord(r) ? int(r.usd, 'usd') : 0;
  }

  rows(month: string): UsageRow[] {
    return this.rowsStmt.all(...monthRange(month)).map(toRow);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
