import { Hono, type Context } from 'hono';
import { IndexRequestSchema } from '../../shared/api-schemas.js';
import type { IndexJob, IndexJobAccepted, StatsResponse } from '../../shared/api-types.js';
import { requireAdmin } from '../auth/roles.js';
import { uploadAs } from '../auth/upload-rules.js';
import type { AppEnv } from '../http/app-env.js';
import { requireJson, validJson } from '../http/body.js';
import { normalizeRelativePath } from '../indexing/library-paths.js';
import type { JobRequest } from '../jobs/job-runner.js';
import type { FileRecord } from '../stores/vector-store.js';
import type { Services } from '../services.js';

/** The `by_contributor` key for documents nobody contributed through the API (files placed in library/ directly). */
export const UNATTRIBUTED = '(unattributed)';

function countByContributor(files: FileRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of files) {
    const key = f.contributor ?? UNATTRIBUTED;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** 202 for an index run as a job: follow it at the Location (GET /api/library/jobs/:id). */
function jobAccepted(c: Context<AppEnv>, submitted: { job: IndexJob; existing: boolean }): Response {
  const body: IndexJobAccepted = { job_id: submitted.job.id, state: submitted.job.state, existing: submitted.existing };
  c.header('location', `/api/library/jobs/${submitted.job.id}`);
  return c.json(body, 202);
}

/** A union's own error says little; when no variant's key is there, say which shapes exist. */
function describeIndexBody(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'body: must be a JSON object: {"all": true}, {"path": "..."} or {"file_path": "...", "content": "..."}';
  }
  if (!('all' in body) && !('path' in body) && !('file_path' in body)) {
    return 'body: give one of {"all": true}, {"path": "..."} or {"file_path": "...", "content": "..."}';
  }
  return null;
}

export function libraryRoutes(services: Services) {
  const { library } = services.config.settings;
  return new Hono<AppEnv>()
  .post('/index', requireJson, validJson(IndexRequestSchema, describeIndexBody), async (c) => {
    const req = c.req.valid('json');
    // Now, not when a queued job gets to it: a paused paid embedder answers 503 to every index request.
    services.indexer.checkBudget();
    const { indexer } = services;
    const developer = c.get('developer');
    if ('all' in req) {
      requireAdmin(c, 'a full re-index (POST /api/library/index {"all": true})');
      const job: JobRequest = { kind: 'all', requestedBy: developer.name };
      // Without "async" the request waits for its job: one queue, so a sync run never garbles a job's progress.
      return req.async ? jobAccepted(c, await services.jobs.submit(job)) : c.json(await services.jobs.run(job));
    }
    if ('path' in req) {
      // "." is the whole library by another name.
      if (normalizeRelativePath(req.path) === '') requireAdmin(c, 'indexing the whole library');
      const job: JobRequest = { kind: 'path', path: req.path, requestedBy: developer.name, contributor: developer.name };
      return req.async ? jobAccepted(c, await services.jobs.submit(job)) : c.json(await services.jobs.run(job));
    }
    return c.json(await uploadAs({ indexer, maxFileBytes: library.max_file_bytes }, developer, req));
  })
  .get('/stats', async (c) => {
    const [stats, files] = await Promise.all([services.store.stats(), services.store.listFiles()]);
    const body: StatsResponse = {
      ...stats,
      by_contributor: countByContributor(files),
      embedder: { id: services.embedder.id, dimension: services.embedder.dimension },
      store: { kind: services.store.kind, location: services.store.location },
    };
    return c.json(body);
  });
}
