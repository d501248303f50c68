import { openSqliteWithSchema } from '../storage/sqlite-file.js';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { IndexFileResultSchema, IndexSummarySchema } from '../../shared/api-schemas.js';
import { JOB_STATES, type IndexFileResult, type IndexJob, type IndexJobOverview } from '../../shared/api-types.js';

export const JOBS_FILE = 'jobs.sqlite';

/** Which process runs a job, so a restart can tell a dead job from one another process is still running. */
export interface JobOwner {
  pid: number;
  host: string;
  /** One per JobRunner: several may live in one process (tests, the CLI inside a test). */
  instance: string;
}

export interface StoredOverview {
  job: IndexJobOverview;
  owner: JobOwner | null;
}

export interface StoredJob {
  job: IndexJob;
  owner: JobOwner | null;
}

const OverviewSchema = z.object({
  id: z.string(),
  kind: z.enum(['all', 'path']),
  path: z.string().nullable(),
  state: z.enum(JOB_STATES),
  cancel_requested: z.boolean(),
  progress: z.object({ files_total: z.number(), files_done: z.number(), current: z.string().nullable() }),
  summary: IndexSummarySchema.nullable(),
  error: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  requested_by: z.string().nullable(),
});
const OwnerSchema = z.object({ pid: z.number().int(), host: z.string(), instance: z.string() });

interface Row {
  overview: string;
  results: string;
  owner: string | null;
}

type OverviewRow = Omit<Row, 'results'>;

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toOverview(row: OverviewRow): StoredOverview | null {
  const job = OverviewSchema.safeParse(parseJson(row.overview));
  if (!job.success) return null;
  const owner = OwnerSchema.safeParse(parseJson(row.owner));
  return { job: job.data, owner: owner.success ? owner.data : null };
}

function overviewOf(job: IndexJob): IndexJobOverview {
  const { results: _results, ...overview } = job;
  return overview;
}

const JOBS_SCHEMA = `CREATE TABLE IF NOT EXISTS index_jobs (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  state TEXT NOT NULL,
  overview TEXT NOT NULL,
  results TEXT NOT NULL,
  owner TEXT
);
CREATE INDEX IF NOT EXISTS index_jobs_by_created ON index_jobs (created_at)`;

/**
 * Index-job records in DATA_DIR/jobs.sqlite. SQLite rather than loose files:
 * each write is atomic, listing does not parse every job's per-file results,
 * and the server and the CLI may share it (WAL, busy timeout). Rows are only
 * written here; one that fails validation is treated as absent.
 */
export class JobStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement<[string, string, string, string, string, string | null]>;
  private readonly selectOne: Database.Statement<[string], Row>;
  private readonly selectRecent: Database.Statement<[number], OverviewRow>;
  private readonly selectActive: Database.Statement<[], OverviewRow>;
  private readonly deleteOld: Database.Statement<[number]>;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, JOBS_FILE);
    this.db = openSqliteWithSchema(this.file, JOBS_SCHEMA, { what: 'index job records', fix: 'check DATA_DIR permissions' });
    this.upsert = this.db.prepare(
      `INSERT INTO index_jobs (id, created_at, state, overview, results, owner) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET state = excluded.state, overview = excluded.overview, results = excluded.results, owner = excluded.owner`,
    );
    this.selectOne = this.db.prepare('SELECT overview, results, owner FROM index_jobs WHERE id = ?');
    this.selectRecent = this.db.prepare('SELECT overview, owner FROM index_jobs ORDER BY created_at DESC, rowid DESC LIMIT ?');
    this.selectActive = this.db.prepare("SELECT overview, owner FROM index_jobs WHERE state IN ('pending', 'running') ORDER BY created_at");
    this.deleteOld = this.db.prepare(
      `DELETE FROM index_jobs WHERE state NOT IN ('pending', 'running')
       AND id NOT IN (SELECT id FROM index_jobs ORDER BY created_at DESC, rowid DESC LIMIT ?)`,
    );
  }

  save(job: IndexJob, owner: JobOwner | null): void {
    this.upsert.run(job.id, job.created_at, job.state, JSON.stringify(overviewOf(job)), JSON.stringify(job.results), owner ? JSON.stringify(owner) : null);
  }

  get(id: string): StoredJob | null {
    const row = this.selectOne.get(id);
    if (!row) return null;
    const overview = toOverview(row);
    const results = z.array(IndexFileResultSchema).safeParse(parseJson(row.results));
    if (!overview) return null;
    const files: IndexFileResult[] = results.success ? results.data : [];
    return { job: { ...overview.job, results: files }, owner: overview.owner };
  }

  /** Newest first, without per-file results. */
  list(limit: number): StoredOverview[] {
    return this.selectRecent.all(limit).flatMap((row) => toOverview(row) ?? []);
  }

  /** Jobs recorded as pending or running, by any process. */
  active(): StoredOverview[] {
    return this.selectActive.all().flatMap((row) => toOverview(row) ?? []);
  }

  /** Keeps the newest `keep` records (unfinished ones are never dropped). */
  prune(keep: number): number {
    return this.deleteOld.run(keep).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
