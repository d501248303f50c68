import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { IndexJob, IndexJobKind, IndexJobOverview, IndexResponse, JobState } from '../../shared/api-types.js';
import { DomainError } from '../errors/domain-error.js';
import { summarize, type IndexEvent, type IndexEventSource } from '../indexing/index-events.js';
import { IndexCancelledError, type IndexOptions } from '../indexing/indexer.js';
import type { JobOwner, JobStore, StoredOverview } from './job-store.js';

export const INTERRUPTED_BY_RESTART = 'interrupted by a restart; run it again';
export const INTERRUPTED_BY_SHUTDOWN = 'interrupted: the server shut down while the job ran; run it again';
export const INTERRUPTED_BEFORE_START = 'interrupted: the server shut down before the job started; run it again';

/** Job ids are UUIDs; anything else is rejected before it reaches the store. */
export const JOB_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How often wait() reads the record of a job another process runs. */
const FOLLOW_EVERY_MS = 250;

const FINISHED: ReadonlySet<JobState> = new Set<JobState>(['done', 'failed', 'cancelled']);

export function isFinished(state: JobState): boolean {
  return FINISHED.has(state);
}

/** What the runner needs from the indexer (LibraryIndexer fits). */
export interface JobIndexer {
  /** Where a job's progress and results come from: the runs carry the job's id. */
  events: IndexEventSource;
  indexAll(options: IndexOptions): Promise<IndexResponse>;
  indexPath(relPath: string, options: IndexOptions): Promise<IndexResponse>;
  checkPath(relPath: string): Promise<string>;
}

export interface JobRequest {
  kind: IndexJobKind;
  /** For `path` jobs: a file or folder inside the library. */
  path?: string;
  /** Developer name, "cli" or "startup". */
  requestedBy: string | null;
  /** Recorded on documents the job adds, as a synchronous request would (uploads and path requests). */
  contributor?: string | null;
}

export type JobEvent =
  /** Queued, started, finished, or a cancel was asked for. */
  | { type: 'state'; job: IndexJobOverview }
  /** One of the indexer's events for this job's run, with the job as it stands after it. */
  | { type: 'index'; job: IndexJobOverview; event: IndexEvent }
  /** The record could not be written; the job goes on, but a restart would not find its latest state. */
  | { type: 'warning'; job: IndexJobOverview; message: string };

export type JobListener = (event: JobEvent) => void;

export type CancelOutcome =
  | { outcome: 'not_found' }
  /** Pending: it will never start. */
  | { outcome: 'cancelled'; job: IndexJob }
  /** Running: it stops after the file(s) under way. */
  | { outcome: 'cancelling'; job: IndexJob }
  | { outcome: 'finished'; job: IndexJob }
  /** Another process (the CLI, another server) runs it; cancel it there. */
  | { outcome: 'elsewhere'; job: IndexJob; owner: JobOwner };

export interface JobRunnerDeps {
  store: JobStore;
  indexer: JobIndexer;
  /** Every state a job enters (metrics). */
  onStateChange?: (job: IndexJobOverview) => void;
  /** How often a running job's record is rewritten; state changes are written at once. */
  persistEveryMs?: number;
  /** Finished records kept; older ones are dropped when a job is queued. */
  keep?: number;
}

interface LiveJob {
  job: IndexJob;
  contributor: string | null;
  controller: AbortController;
  listeners: Set<JobListener>;
  finished: Promise<IndexJob>;
  resolve: (job: IndexJob) => void;
  /** What the indexer threw, for a synchronous caller to answer with (its record keeps only the message). */
  failure?: unknown;
  persistTimer: NodeJS.Timeout | null;
}

/** Why a signal was aborted: a developer's cancel, or the process closing down. */
const SHUTDOWN = Symbol('shutdown');

/** Runners alive in this process: a record owned by one of them is running, not interrupted. */
const LIVE_INSTANCES = new Set<string>();

function now(): string {
  return new Date().toISOString();
}

function overviewOf(job: IndexJob): IndexJobOverview {
  const { results: _results, ...rest } = job;
  return { ...rest, progress: { ...job.progress } };
}

function copyOf(job: IndexJob): IndexJob {
  return { ...overviewOf(job), results: [...job.results] };
}

function isErrno(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && 'code' in e;
}

/**
 * Whether the process that owns a record still runs it. DATA_DIR belongs to one
 * machine (the embedded store and caches are local files), so an owner on
 * another host is a previous container of this deployment: gone.
 */
export function ownerAlive(owner: JobOwner | null): boolean {
  if (!owner || owner.host !== hostname()) return false;
  if (owner.pid === process.pid) return LIVE_INSTANCES.has(owner.instance);
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return isErrno(e) && e.code === 'EPERM';
  }
}

/**
 * Runs full and folder re-indexes as jobs, one at a time in submission order,
 * with records that outlive the process (JobStore). The HTTP API (synchronous
 * requests too, through `run`), the CLI and the server's startup index all go
 * through it, so they share progress, cancellation and the
 * one-full-index-at-a-time rule. A job's progress and results come from the
 * indexer's event stream (docs/architecture.md, "The event stream").
 */
export class JobRunner {
  readonly instance = randomUUID();
  private readonly owner: JobOwner;
  private readonly live = new Map<string, LiveJob>();
  private readonly listeners = new Set<JobListener>();
  private queue: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;
  private readonly persistEveryMs: number;
  private readonly keep: number;
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: JobRunnerDeps) {
    this.owner = { pid: process.pid, host: hostname(), instance: this.instance };
    this.persistEveryMs = deps.persistEveryMs ?? 1000;
    this.keep = deps.keep ?? 200;
    LIVE_INSTANCES.add(this.instance);
    this.unsubscribe = deps.indexer.events.subscribe((event) => this.follow(event));
  }

  /**
   * Marks jobs left pending or running by a process that is gone (a crash, a
   * kill, a power cut) as failed, so nobody waits on them. Call at startup.
   */
  recover(): IndexJobOverview[] {
    const recovered: IndexJobOverview[] = [];
    for (const stored of this.deps.store.active()) {
      if (ownerAlive(stored.owner)) continue;
      const failed = this.markInterrupted(stored, INTERRUPTED_BY_RESTART);
      if (failed) recovered.push(failed);
    }
    return recovered;
  }

  /** All jobs' events; returns the unsubscribe function. */
  subscribe(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Queues a job, or returns the one already queued or running for the same
   * library scope (`existing: true`): a second "index everything" request does
   * not start a second full run. `listener` gets this job's events from the start.
   */
  async submit(request: JobRequest, listener?: JobListener): Promise<{ job: IndexJob; existing: boolean }> {
    if (this.closing) throw new Error('the job runner is shutting down; no new index jobs are accepted');
    const path = request.kind === 'path' ? await this.deps.indexer.checkPath(request.path ?? '') : null;
    const same = [...this.live.values()].find((l) => !isFinished(l.job.state) && l.job.kind === request.kind && l.job.path === path);
    if (same) {
      if (listener) same.listeners.add(listener);
      return { job: copyOf(same.job), existing: true };
    }
    // The CLI and the server share DATA_DIR: a full run in the other process counts too.
    const elsewhere = this.deps.store
      .active()
      .find((s) => s.job.kind === request.kind && s.job.path === path && s.owner?.instance !== this.instance && ownerAlive(s.owner));
    const elsewhereJob = elsewhere ? this.deps.store.get(elsewhere.job.id) : null;
    if (elsewhereJob) return { job: elsewhereJob.job, existing: true };

    const job: IndexJob = {
      id: randomUUID(),
      kind: request.kind,
      path,
      state: 'pending',
      cancel_requested: false,
      progress: { files_total: 0, files_done: 0, current: null },
      summary: null,
      error: null,
      created_at: now(),
      started_at: null,
      finished_at: null,
      requested_by: request.requestedBy,
      results: [],
    };
    let resolve: (job: IndexJob) => void = () => undefined;
    const finished = new Promise<IndexJob>((r) => {
      resolve = r;
    });
    const live: LiveJob = { job, contributor: request.contributor ?? null, controller: new AbortController(), listeners: new Set(listener ? [listener] : []), finished, resolve, persistTimer: null };
    // Written before the 202 goes out, so the id is valid for GET at once; and before the job is live,
    // so a record that cannot be written leaves no job behind for later requests to join and wait on.
    this.deps.store.save(job, this.owner);
    this.live.set(job.id, live);
    this.changed(live);
    this.prune();
    this.queue = this.queue
      .then(() => this.execute(live))
      .catch((e: unknown) => {
        // A bug outside the indexer must still end the job, or its waiters would hang.
        if (!isFinished(live.job.state)) this.finish(live, 'failed', e instanceof Error ? e.message : String(e), 0);
      });
    return { job: copyOf(job), existing: false };
  }

  /**
   * Runs an index as a job and waits for its end: a synchronous request shares
   * the queue, record and progress of jobs, so it never runs beside one and
   * garbles what /health shows. Answers what the indexer returned and throws
   * what stopped it (the indexer's own error, so its HTTP status is kept).
   */
  async run(request: JobRequest): Promise<IndexResponse> {
    const { job } = await this.submit(request);
    const live = this.live.get(job.id);
    const ended = live ? await live.finished : job;
    if (ended.state === 'done') return { files: ended.results, summary: ended.summary ?? summarize(ended.results, 0) };
    if (!isFinished(ended.state)) {
      throw new DomainError(
        'job_elsewhere',
        `the same index already runs as job ${ended.id} in another process (e.g. "npm run index"); follow it at GET /api/library/jobs/${ended.id} or send this request again when it ends`,
      );
    }
    if (live?.failure !== undefined && !(live.failure instanceof IndexCancelledError)) throw live.failure;
    if (ended.state === 'cancelled') {
      throw new DomainError(
        'cancelled',
        `index job ${ended.id} was cancelled after ${ended.results.length} file(s); the index holds what was done, send the request again to finish`,
      );
    }
    throw new DomainError('index_failed', `index job ${ended.id} failed: ${ended.error ?? 'unknown error'}`);
  }

  /** A job with its per-file results; live state for jobs this runner runs. */
  get(id: string): IndexJob | null {
    if (!JOB_ID_PATTERN.test(id)) return null;
    const live = this.live.get(id);
    if (live) return copyOf(live.job);
    const stored = this.deps.store.get(id);
    if (!stored) return null;
    if (!isFinished(stored.job.state) && !ownerAlive(stored.owner)) {
      this.markInterrupted({ job: overviewOf(stored.job), owner: stored.owner }, this.orphanMessage(stored.owner));
      return this.deps.store.get(id)?.job ?? null;
    }
    return stored.job;
  }

  /** Newest first, without per-file results. */
  list(limit: number): IndexJobOverview[] {
    return this.deps.store.list(limit).map((stored) => {
      const live = this.live.get(stored.job.id);
      if (live) return overviewOf(live.job);
      if (!isFinished(stored.job.state) && !ownerAlive(stored.owner)) {
        return this.markInterrupted(stored, this.orphanMessage(stored.owner)) ?? stored.job;
      }
      return stored.job;
    });
  }

  /** Resolves when the job has finished (at once for a finished record); null for an unknown id. */
  async wait(id: string): Promise<IndexJob | null> {
    const live = this.live.get(id);
    if (live) return live.finished;
    // Another process's job (the server's, for the CLI): followed through its record, which that
    // process rewrites as it goes; get() ends it as interrupted if that process dies meanwhile.
    for (;;) {
      const job = this.get(id);
      if (job === null || isFinished(job.state)) return job;
      await delay(FOLLOW_EVERY_MS);
    }
  }

  /**
   * Cancels cooperatively: a pending job never starts; a running one stops
   * before its next file, keeping the files it finished (each was replaced
   * atomically, so the index is consistent, just partly refreshed).
   */
  cancel(id: string): CancelOutcome {
    const live = this.live.get(id);
    if (!live) {
      const job = this.get(id);
      if (!job) return { outcome: 'not_found' };
      if (isFinished(job.state)) return { outcome: 'finished', job };
      const owner = this.deps.store.get(id)?.owner;
      return owner ? { outcome: 'elsewhere', job, owner } : { outcome: 'finished', job };
    }
    const { job } = live;
    if (isFinished(job.state)) return { outcome: 'finished', job: copyOf(job) };
    if (job.cancel_requested) return { outcome: 'cancelling', job: copyOf(job) };
    job.cancel_requested = true;
    if (job.state === 'pending') {
      this.finish(live, 'cancelled', null, 0);
      return { outcome: 'cancelled', job: copyOf(job) };
    }
    live.controller.abort();
    this.persist(live);
    this.changed(live);
    return { outcome: 'cancelling', job: copyOf(job) };
  }

  /**
   * Stops taking jobs, fails queued ones, lets the running one finish the
   * file(s) under way and records it as interrupted, then closes the store.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const live of this.live.values()) {
        if (live.job.state === 'pending') this.finish(live, 'failed', INTERRUPTED_BEFORE_START, 0);
        else live.controller.abort(SHUTDOWN);
      }
      await Promise.all([...this.live.values()].map((l) => l.finished));
      this.unsubscribe();
      LIVE_INSTANCES.delete(this.instance);
      this.deps.store.close();
    })();
    return this.closing;
  }

  private async execute(live: LiveJob): Promise<void> {
    const { job } = live;
    // Cancelled, or failed by close(), while it waited its turn.
    if (isFinished(job.state)) return;
    job.state = 'running';
    job.started_at = now();
    this.persist(live);
    this.changed(live);
    const started = performance.now();
    // The run carries the job's id, so `follow` finds the job for each of its events.
    const options: IndexOptions = { contributor: live.contributor, signal: live.controller.signal, run: job.id };
    try {
      const response = job.kind === 'all' ? await this.deps.indexer.indexAll(options) : await this.deps.indexer.indexPath(job.path ?? '', options);
      job.results = response.files;
      this.finish(live, 'done', null, response.summary.seconds, response);
    } catch (e) {
      const seconds = (performance.now() - started) / 1000;
      live.failure = e;
      if (e instanceof IndexCancelledError) {
        job.results = e.results;
        const byShutdown = live.controller.signal.reason === SHUTDOWN;
        this.finish(live, byShutdown ? 'failed' : 'cancelled', byShutdown ? INTERRUPTED_BY_SHUTDOWN : null, seconds);
      } else {
        this.finish(live, 'failed', e instanceof Error ? e.message : String(e), seconds);
      }
    }
  }

  /** A job's share of the indexer's stream: its progress and results, passed on to its listeners. */
  private follow(event: IndexEvent): void {
    const live = event.run === null ? undefined : this.live.get(event.run);
    if (!live || isFinished(live.job.state)) return;
    const { job } = live;
    if (event.type === 'file_done') job.results.push(event.result);
    if (event.type !== 'run_ended') job.progress = { ...event.progress };
    this.schedulePersist(live);
    this.emit(live, { type: 'index', job: overviewOf(job), event });
  }

  private finish(live: LiveJob, state: JobState, error: string | null, seconds: number, response?: IndexResponse): void {
    const { job } = live;
    if (live.persistTimer) clearTimeout(live.persistTimer);
    live.persistTimer = null;
    job.state = state;
    job.error = error;
    job.summary = response?.summary ?? summarize(job.results, seconds);
    job.progress = { ...job.progress, files_done: Math.max(job.progress.files_done, job.results.length), current: null };
    job.finished_at = now();
    this.persist(live);
    this.changed(live);
    this.live.delete(job.id);
    live.resolve(copyOf(job));
  }

  private markInterrupted(stored: StoredOverview, message: string): IndexJobOverview | null {
    const full = this.deps.store.get(stored.job.id);
    if (!full) return null;
    const job: IndexJob = {
      ...full.job,
      state: 'failed',
      error: message,
      progress: { ...full.job.progress, current: null },
      summary: full.job.summary ?? summarize(full.job.results, 0),
      finished_at: now(),
    };
    this.deps.store.save(job, full.owner);
    const overview = overviewOf(job);
    try {
      this.deps.onStateChange?.(overview);
    } catch {
      // Metrics must not stop recovery.
    }
    return overview;
  }

  private orphanMessage(owner: JobOwner | null): string {
    return owner ? `interrupted: the process running it (pid ${owner.pid}) stopped; run it again` : INTERRUPTED_BY_RESTART;
  }

  private changed(live: LiveJob): void {
    const overview = overviewOf(live.job);
    try {
      this.deps.onStateChange?.(overview);
    } catch {
      // Metrics must not break a job.
    }
    this.emit(live, { type: 'state', job: overview });
  }

  private emit(live: LiveJob, event: JobEvent): void {
    for (const listener of [...live.listeners, ...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener (a progress bar, a log line) must not break the job.
      }
    }
  }

  /** Progress is written at most every persistEveryMs: a record per file would be O(files²) bytes. */
  private schedulePersist(live: LiveJob): void {
    if (live.persistTimer) return;
    live.persistTimer = setTimeout(() => {
      live.persistTimer = null;
      if (!isFinished(live.job.state)) this.persist(live);
    }, this.persistEveryMs);
    live.persistTimer.unref();
  }

  private persist(live: LiveJob): void {
    try {
      this.deps.store.save(live.job, this.owner);
    } catch (e) {
      this.emit(live, { type: 'warning', job: overviewOf(live.job), message: `index job record not saved: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  private prune(): void {
    try {
      this.deps.store.prune(this.keep);
    } catch {
      // Old records only cost disk space; the next job tries again.
    }
  }
}
