import { Hono } from 'hono';
import { z } from 'zod';
import type { IndexJobList } from '../../shared/api-types.js';
import { mayModify } from '../auth/roles.js';
import { DomainError } from '../errors/domain-error.js';
import type { AppEnv } from '../http/app-env.js';
import { validQuery } from '../http/body.js';
import type { Services } from '../services.js';

const DEFAULT_LIST = 20;
const MAX_LIST = 200;

function jobNotFound(id: string): DomainError {
  return new DomainError('not_found', `no index job ${id}; GET /api/library/jobs lists recent ones (finished jobs are kept, the oldest dropped)`);
}

const LIMIT_RULE = `must be a whole number from 1 to ${MAX_LIST}`;

/** `?limit=`: an empty value is the default, like an absent one. */
const JobListQuerySchema = z.object({
  limit: z.preprocess(
    (raw) => (raw === undefined || raw === '' ? DEFAULT_LIST : raw),
    z.coerce.number({ invalid_type_error: LIMIT_RULE }).int(LIMIT_RULE).min(1, LIMIT_RULE).max(MAX_LIST, LIMIT_RULE),
  ),
});

/**
 * Index jobs, mounted at /api/library: GET /jobs (recent, newest first),
 * GET /jobs/:id (with per-file results), DELETE /jobs/:id (cancel). Jobs are
 * started by POST /api/library/index with "async": true.
 */
export function jobRoutes(services: Services) {
  return new Hono<AppEnv>()
  .get('/jobs', validQuery(JobListQuerySchema), (c) => {
    const body: IndexJobList = { jobs: services.jobs.list(c.req.valid('query').limit) };
    return c.json(body);
  })
  .get('/jobs/:id', (c) => {
    const id = c.req.param('id');
    const job = services.jobs.get(id);
    if (!job) throw jobNotFound(id);
    return c.json(job);
  })
  .delete('/jobs/:id', (c) => {
    const id = c.req.param('id');
    const job = services.jobs.get(id);
    if (!job) throw jobNotFound(id);
    const developer = c.get('developer');
    // Stopping someone's re-index is undoing their request: theirs to stop, or an admin's.
    if (!mayModify(developer, job.requested_by)) {
      throw new DomainError('forbidden', `index job ${id} was started by ${job.requested_by ?? 'the server'}; only they or an admin may cancel it`);
    }
    const result = services.jobs.cancel(id);
    switch (result.outcome) {
      case 'not_found':
        throw jobNotFound(id);
      case 'cancelled':
        return c.json(result.job);
      case 'cancelling':
        // Cooperative: it stops before its next file; poll GET /jobs/:id for "cancelled".
        return c.json(result.job, 202);
      case 'finished':
        throw new DomainError('job_finished', `index job ${id} already ended (${result.job.state}); there is nothing to cancel`);
      case 'elsewhere':
        throw new DomainError(
          'job_elsewhere',
          `index job ${id} runs in another process (pid ${result.owner.pid}, e.g. "npm run index"); stop it there (Ctrl-C cancels it cleanly)`,
        );
      default: {
        const never: never = result;
        throw new Error(`unhandled cancel outcome ${JSON.stringify(never)}`);
      }
    }
  });
}
