import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HealthResponse, IndexingStatus, IndexJob, IndexJobAccepted, IndexJobList, IndexResponse, SearchResponse } from '../../shared/api-types.js';
import { INTERRUPTED_BY_RESTART } from '../../server/jobs/job-runner.js';
import { JobStore } from '../../server/jobs/job-store.js';
import type { VectorStore } from '../../server/stores/vector-store.js';
import { TeiFake } from '../fakes/tei-fake.js';
import { bundleEntry } from '../helpers/bundle.js';
import { postJson, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

/** `count` small markdown files under `folder/`, each with its own searchable word. */
function library(count: number, folder = 'notes', offset = 0): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = offset; i < offset + count; i++) {
    const n = String(i).padStart(3, '0');
    files[`${folder}/note-${n}.md`] = `# Note ${n}\n\nThis note is about topic${n} and how the team handles it.\n`;
  }
  return files;
}

async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; json: T }> {
  const res = await fetch(url, init);
  return { status: res.status, json: (await res.json()) as T };
}

async function startJob(server: RunningServer, body: Record<string, unknown>): Promise<IndexJobAccepted> {
  const res = await fetch(`${server.url}/api/library/index`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, async: true }) });
  expect(res.status).toBe(202);
  const accepted = (await res.json()) as IndexJobAccepted;
  expect(res.headers.get('location')).toBe(`/api/library/jobs/${accepted.job_id}`);
  return accepted;
}

/** Polls GET /api/library/jobs/:id until the job has ended. */
async function finished(server: RunningServer, id: string): Promise<IndexJob> {
  return vi.waitFor(
    async () => {
      const { json } = await getJson<IndexJob>(`${server.url}/api/library/jobs/${id}`);
      if (json.state === 'pending' || json.state === 'running') throw new Error(`job ${id} is still ${json.state}`);
      return json;
    },
    { timeout: 30_000, interval: 20 },
  );
}

/** Every stored file has exactly its recorded chunks, and nothing else is stored. */
async function expectConsistent(store: VectorStore): Promise<string[]> {
  const files = await store.listFiles();
  let total = 0;
  for (const f of files) {
    expect(await store.fileChunks(f.file_path)).toHaveLength(f.chunk_count);
    total += f.chunk_count;
  }
  expect(await store.count()).toBe(total);
  return files.map((f) => f.file_path).sort();
}


/** Lets the store's first two file writes through and holds every later one until `open()`. */
function holdWritesFromTheThird(store: VectorStore) {
  const replaceFile = store.replaceFile.bind(store);
  let writes = 0;
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const spy = vi.spyOn(store, 'replaceFile').mockImplementation(async (file, points) => {
    writes += 1;
    if (writes >= 3) await gate;
    return replaceFile(file, points);
  });
  return { open: () => open(), spy, writes: () => writes };
}

describe('index jobs over HTTP', () => {
  it('follows a job to done with per-file results', async () => {
    const env = tempEnv({ ...library(4), 'guides/a.md': '# A\n\nalpha\n', 'guides/b.md': '# B\n\nbeta\n' });
    const server = await startServer(env.env, env.root);
    try {
      const accepted = await startJob(server, { all: true });
      expect(accepted.existing).toBe(false);
      const job = await finished(server, accepted.job_id);
      expect(job).toMatchObject({ id: accepted.job_id, kind: 'all', path: null, state: 'done', error: null, cancel_requested: false });
      expect([null, 'local']).toContain(job.requested_by);
      expect(job.results).toHaveLength(6);
      expect(job.results.every((r) => r.status === 'indexed' && r.chunks > 0)).toBe(true);
      expect(job.summary).toMatchObject({ indexed: 6, unchanged: 0, failed: 0 });
      expect(job.progress).toEqual({ files_total: 6, files_done: 6, current: null });
      for (const at of [job.created_at, job.started_at, job.finished_at]) expect(Date.parse(at ?? '')).not.toBeNaN();
      expect(Date.parse(job.finished_at!)).toBeGreaterThanOrEqual(Date.parse(job.started_at!));

      const folder = await finished(server, (await startJob(server, { path: 'guides' })).job_id);
      expect(folder).toMatchObject({ kind: 'path', path: 'guides', state: 'done' });
      expect(folder.results.map((r) => [r.file_path, r.status])).toEqual([
        ['guides/a.md', 'unchanged'],
        ['guides/b.md', 'unchanged'],
      ]);

      const { json: list } = await getJson<IndexJobList>(`${server.url}/api/library/jobs`);
      expect(list.jobs.map((j) => j.id)).toEqual([folder.id, job.id]);
      expect(list.jobs[0]).not.toHaveProperty('results');
      expect((await getJson<IndexJobList>(`${server.url}/api/library/jobs?limit=1`)).json.jobs).toHaveLength(1);
      expect((await fetch(`${server.url}/api/library/jobs?limit=0`)).status).toBe(400);

      expect((await fetch(`${server.url}/api/library/jobs/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
      expect((await fetch(`${server.url}/api/library/jobs/..%2F..%2Fetc`)).status).toBe(404);
      const missing = await postJson(`${server.url}/api/library/index`, { path: 'nope', async: true });
      expect(missing.status).toBe(400);
      expect(missing.json.error.message).toMatch(/does not exist/);
      const done = await fetch(`${server.url}/api/library/jobs/${job.id}`, { method: 'DELETE' });
      expect(done.status).toBe(409);
    } finally {
      await server.close();
      env.cleanup();
    }
  });

  it('cancels a running job between files and leaves a consistent index', async () => {
    const env = tempEnv(library(40));
    const server = await startServer(env.env, env.root);
    const { store } = server.services;
    // From the third file on, writes wait: the job is certainly mid-way when the cancel arrives.
    const { open, spy, writes } = holdWritesFromTheThird(store);
    try {
      const accepted = await startJob(server, { all: true });
      await vi.waitFor(() => expect(writes()).toBeGreaterThanOrEqual(3), { timeout: 20_000, interval: 10 });

      // One full index at a time: asking again returns the running job.
      const again = await startJob(server, { all: true });
      expect(again).toEqual({ job_id: accepted.job_id, state: 'running', existing: true });

      const cancel = await getJson<IndexJob>(`${server.url}/api/library/jobs/${accepted.job_id}`, { method: 'DELETE' });
      expect(cancel.status).toBe(202);
      expect(cancel.json).toMatchObject({ state: 'running', cancel_requested: true });
      open();

      const job = await finished(server, accepted.job_id);
      expect(job.state).toBe('cancelled');
      expect(job.error).toBeNull();
      expect(job.results.length).toBeGreaterThanOrEqual(3);
      expect(job.results.length).toBeLessThan(40);
      expect(job.summary?.indexed).toBe(job.results.filter((r) => r.status === 'indexed').length);
      expect((await fetch(`${server.url}/api/library/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(409);
      const health = (await (await fetch(`${server.url}/health`)).json()) as { indexing: { state: string } };
      expect(health.indexing.state).toBe('cancelled');

      spy.mockRestore();
      const stored = await expectConsistent(store);
      expect(stored).toEqual(job.results.filter((r) => r.status === 'indexed').map((r) => r.file_path).sort());
      const first = job.results.find((r) => r.status === 'indexed')!.file_path;
      const topic = /note-(\d+)/.exec(first)![1];
      const hit = await postJson(`${server.url}/api/query/search`, { query: `topic${topic}`, mode: 'keyword' });
      expect((hit.json as SearchResponse).results[0]?.file_path).toBe(first);

      // The next run picks up where the cancelled one stopped.
      const rerun = await finished(server, (await startJob(server, { all: true })).job_id);
      expect(rerun.state).toBe('done');
      expect(rerun.summary).toMatchObject({ unchanged: stored.length, indexed: 40 - stored.length, failed: 0 });
      expect(await expectConsistent(store)).toHaveLength(40);
    } finally {
      open();
      spy.mockRestore();
      await server.close();
      env.cleanup();
    }
  });

  it('a synchronous POST {path} during a running job waits its turn: /health follows one run at a time and both complete', async () => {
    const env = tempEnv(library(40));
    const server = await startServer(env.env, env.root);
    const { store, indexer } = server.services;
    // From the third file on, writes wait: the job is certainly mid-way while the synchronous request arrives.
    const { open, spy, writes } = holdWritesFromTheThird(store);
    // Every index request passes the budget check on arrival: the count says the synchronous one got there.
    const arrivals = vi.spyOn(indexer, 'checkBudget');
    const seen: IndexingStatus[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        seen.push(((await (await fetch(`${server.url}/health`)).json()) as HealthResponse).indexing);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      const job = await startJob(server, { all: true });
      await vi.waitFor(() => expect(writes()).toBeGreaterThanOrEqual(3), { timeout: 20_000, interval: 10 });
      // Written after the job listed the library: only the synchronous request indexes it.
      env.write('extra/late.md', '# Late\n\nA note about pelicans, added while the full index ran.\n');
      const sync = postJson(`${server.url}/api/library/index`, { path: 'extra/late.md' });
      await vi.waitFor(() => expect(arrivals.mock.calls.length).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 5 });
      // Long enough for a request that ran beside the job to have reset /health's progress.
      const during = seen.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(during + 5), { timeout: 10_000, interval: 10 });
      const whileHeld = seen.slice(during);
      for (const status of whileHeld) expect(status).toMatchObject({ state: 'running', files_total: 40 });

      // The synchronous request is a job too, queued behind the running one.
      const { json: list } = await getJson<IndexJobList>(`${server.url}/api/library/jobs`);
      expect(list.jobs.map((j) => [j.kind, j.path, j.state])).toEqual([
        ['path', 'extra/late.md', 'pending'],
        ['all', null, 'running'],
      ]);

      open();
      const answered = await sync;
      expect(answered.status).toBe(200);
      const response = answered.json as IndexResponse;
      expect(response.files.map((f) => [f.file_path, f.status])).toEqual([['extra/late.md', 'indexed']]);
      expect(response.summary).toMatchObject({ indexed: 1, failed: 0 });
      const full = await finished(server, job.job_id);
      expect(full.state).toBe('done');
      expect(full.results).toHaveLength(40);
      expect(full.summary).toMatchObject({ indexed: 40, failed: 0 });

      polling = false;
      await poller;
      seen.push(((await (await fetch(`${server.url}/health`)).json()) as HealthResponse).indexing);
      // Coherent throughout: one run's numbers per answer, the full run's before the queued one's.
      for (const status of seen) expect(status.files_done).toBeLessThanOrEqual(status.files_total);
      const totals = seen.filter((s) => s.state === 'running').map((s) => s.files_total);
      const queuedFrom = totals.includes(1) ? totals.indexOf(1) : totals.length;
      expect(totals.slice(0, queuedFrom).every((t) => t === 40)).toBe(true);
      expect(totals.slice(queuedFrom).every((t) => t === 1)).toBe(true);
      expect(seen.at(-1)).toMatchObject({ state: 'done', files_total: 1, files_done: 1, current: null, error: null, summary: { indexed: 1 } });

      spy.mockRestore();
      expect(await expectConsistent(store)).toHaveLength(41);
    } finally {
      polling = false;
      open();
      spy.mockRestore();
      await poller;
      await server.close();
      env.cleanup();
    }
  });

  it('a job whose record cannot be written is not queued: the request fails and the next one for the same path runs', async () => {
    const env = tempEnv(library(2));
    const server = await startServer(env.env, env.root);
    // The first record write fails as a full DATA_DIR would make it.
    const save = vi.spyOn(JobStore.prototype, 'save').mockImplementationOnce(() => {
      throw new Error('database or disk is full');
    });
    try {
      const refused = await postJson(`${server.url}/api/library/index`, { path: 'notes' });
      expect(refused.status).toBe(500);
      // Nothing was left queued that later requests for the same path would join and wait on forever.
      const retried = await postJson(`${server.url}/api/library/index`, { path: 'notes' });
      expect(retried.status).toBe(200);
      expect((retried.json as IndexResponse).summary).toMatchObject({ indexed: 2, failed: 0 });
      const { json: list } = await getJson<IndexJobList>(`${server.url}/api/library/jobs`);
      expect(list.jobs.map((j) => [j.kind, j.path, j.state])).toEqual([['path', 'notes', 'done']]);
    } finally {
      save.mockRestore();
      await server.close();
      env.cleanup();
    }
  });

  it('a synchronous request whose job fails answers the indexer\'s own error, and /health shows the failed run', async () => {
    const env = tempEnv(library(3));
    const server = await startServer(env.env, env.root);
    const { store } = server.services;
    // A full disk fails every write, so the run stops (507), unlike a file's own problem (a failed result).
    const spy = vi.spyOn(store, 'replaceFile').mockRejectedValue(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    try {
      const reply = await postJson(`${server.url}/api/library/index`, { path: 'notes' });
      expect(reply.status).toBe(507);
      expect(reply.json.error.code).toBe('insufficient_storage');
      const { json: list } = await getJson<IndexJobList>(`${server.url}/api/library/jobs`);
      expect(list.jobs).toHaveLength(1);
      expect(list.jobs[0]).toMatchObject({ kind: 'path', path: 'notes', state: 'failed' });
      expect(list.jobs[0]?.error).toMatch(/ENOSPC/);
      const health = (await (await fetch(`${server.url}/health`)).json()) as HealthResponse;
      expect(health.indexing).toMatchObject({ state: 'failed', files_total: 3, current: null });
      expect(health.indexing.error).toMatch(/ENOSPC/);

      spy.mockRestore();
      const retried = await postJson(`${server.url}/api/library/index`, { path: 'notes' });
      expect(retried.status).toBe(200);
      expect((retried.json as IndexResponse).summary).toMatchObject({ indexed: 3, failed: 0 });
    } finally {
      spy.mockRestore();
      await server.close();
      env.cleanup();
    }
  });
});

/** The real CLI, bundled like `npm run index` does, so it can run (and be killed) as its own process. */
describe('index jobs across processes (CLI)', () => {
  let cli: string;
  let cleanupBundle = () => {};

  beforeAll(async () => {
    const bundle = await bundleEntry('cli');
    cli = bundle.file;
    cleanupBundle = bundle.cleanup;
  });

  afterAll(() => cleanupBundle());

  function spawnCli(env: TempEnv, args: string[]): ChildProcess {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env.env };
    delete childEnv.NODE_OPTIONS;
    return spawn(process.execPath, [cli, ...args], { cwd: env.root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async function runCli(env: TempEnv, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawnCli(env, args);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stdout, stderr };
  }

  // Each CLI run starts a fresh Node process that loads the whole server: seconds, not milliseconds.
  it('npm run index -- --all still prints its progress and summary, as a recorded job', { timeout: 120_000 }, async () => {
    const env = tempEnv({ ...library(2), 'guides/a.md': '# A\n\nalpha\n' });
    try {
      const first = await runCli(env, ['index', '--all']);
      expect(first.stderr).not.toMatch(/Error|ai-library:/);
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/indexed 3, unchanged 0, skipped 0, failed 0, deleted 0; \d+ chunks in \d+\.\d s/);
      // Not a TTY: one plain line per file instead of a redrawn bar.
      expect(first.stderr).toMatch(/\[1\/3\] indexed /);
      expect(first.stderr).toMatch(/\[3\/3\] indexed /);

      const again = await runCli(env, ['index', '--path', 'guides']);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/indexed 0, unchanged 1, skipped 0, failed 0, deleted 0/);

      const missing = await runCli(env, ['index', '--path', 'nope']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/ai-library: path: "nope" does not exist in the library/);

      const records = new JobStore(env.env.DATA_DIR!);
      try {
        const jobs = records.list(10).map((s) => s.job);
        expect(jobs.map((j) => [j.kind, j.path, j.state, j.requested_by])).toEqual([
          ['path', 'guides', 'done', 'cli'],
          ['all', null, 'done', 'cli'],
        ]);
        expect(records.get(jobs[1]!.id)?.job.results).toHaveLength(3);
      } finally {
        records.close();
      }
    } finally {
      env.cleanup();
    }
  });

  it('npm run index -- --all while the server runs the same index waits for that job and reports its result', { timeout: 120_000 }, async () => {
    const env = tempEnv(library(40));
    const server = await startServer(env.env, env.root);
    // From the third file on, the server's writes wait: its job is certainly running when the CLI asks.
    const { open, writes } = holdWritesFromTheThird(server.services.store);
    try {
      const accepted = await startJob(server, { all: true });
      await vi.waitFor(() => expect(writes()).toBeGreaterThanOrEqual(3), { timeout: 20_000, interval: 10 });
      const child = spawnCli(env, ['index', '--all']);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      const exited = once(child, 'exit');
      await vi.waitFor(() => expect(stderr).toContain(`the same index already runs as job ${accepted.job_id}`), { timeout: 60_000, interval: 50 });
      open();
      const [code] = (await exited) as [number | null];
      expect(stderr).not.toMatch(/Error/);
      expect(code).toBe(0);
      // The server's job did the work; the CLI prints its summary.
      expect(stdout).toMatch(/indexed 40, unchanged 0, skipped 0, failed 0, deleted 0/);
      expect((await finished(server, accepted.job_id)).state).toBe('done');
    } finally {
      open();
      await server.close();
      env.cleanup();
    }
  });

  it('keeps job records across a restart and fails the one a killed process was running', { timeout: 120_000 }, async () => {
    // A TEI fake lets the test hold the CLI's embedding requests: the job is provably mid-way when killed.
    const tei = await TeiFake.create();
    const env = tempEnv(library(5, 'first'));
    env.env.EMBEDDINGS_PROVIDER = 'tei';
    env.env.TEI_URL = tei.url;
    let child: ChildProcess | null = null;
    try {
      const before = await startServer(env.env, env.root);
      let doneJob: IndexJob;
      try {
        doneJob = await finished(before, (await startJob(before, { all: true })).job_id);
        expect(doneJob).toMatchObject({ state: 'done', summary: { indexed: 5 } });
      } finally {
        await before.close();
      }

      for (const [rel, content] of Object.entries(library(20, 'second'))) env.write(rel, content);
      // Slow answers give the test time to see the job start; from then on TEI never answers, so the
      // CLI is stuck mid-job (files done, files waiting) when it is killed.
      tei.delayMs = 200;
      child = spawnCli(env, ['index', '--all']);
      const records = new JobStore(env.env.DATA_DIR!);
      let cliJobId = '';
      try {
        await vi.waitFor(
          () => {
            const running = records.list(10).find((s) => s.job.requested_by === 'cli' && s.job.state === 'running');
            if (!running) throw new Error('the CLI job has not started yet');
            tei.defaultFault = { kind: 'hang' };
            cliJobId = running.job.id;
          },
          { timeout: 30_000, interval: 10 },
        );
        await vi.waitFor(() => expect(tei.embedRequests.some((r) => r.fault === 'hang')).toBe(true), { timeout: 30_000, interval: 10 });
        expect(records.get(cliJobId)?.job.state).toBe('running');
      } finally {
        records.close();
      }
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      tei.defaultFault = null;
      tei.delayMs = 0;

      const after = await startServer(env.env, env.root);
      try {
        const { json: list } = await getJson<IndexJobList>(`${after.url}/api/library/jobs`);
        expect(list.jobs.map((j) => j.id)).toEqual([cliJobId, doneJob.id]);

        const interrupted = (await getJson<IndexJob>(`${after.url}/api/library/jobs/${cliJobId}`)).json;
        expect(interrupted).toMatchObject({ state: 'failed', error: INTERRUPTED_BY_RESTART, requested_by: 'cli', kind: 'all' });
        expect(interrupted.finished_at).not.toBeNull();
        expect(interrupted.progress.current).toBeNull();

        const kept = (await getJson<IndexJob>(`${after.url}/api/library/jobs/${doneJob.id}`)).json;
        expect(kept).toEqual(doneJob);

        // The kill left the index consistent; a new run finishes the work.
        await expectConsistent(after.services.store);
        const rerun = await finished(after, (await startJob(after, { all: true })).job_id);
        expect(rerun.state).toBe('done');
        expect(rerun.summary).toMatchObject({ failed: 0 });
        expect(await expectConsistent(after.services.store)).toHaveLength(25);
      } finally {
        await after.close();
      }
    } finally {
      child?.kill('SIGKILL');
      await tei.close();
      env.cleanup();
    }
  });
});
