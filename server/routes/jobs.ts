import { Hono } from 'hono';
import type { IndexJobList } from '../../shared/api-types.js';
import { mayModify } from '../auth/roles.js';
import { DomainError } from '../errors/domain-error.js';
import type { AppEnv } from '../http/app-env.js';
import type { Services } from '../services.js';

const DEFAULT_LIST = 20;
const MAX_LIST = 200;

function jobNotFound(id: string): DomainError {
  return new DomainError('not_found', `no index job ${id}; GET /api/library/jobs lists recent ones (finished jobs are kept, the oldest dropped)`);
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIST;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST) throw new DomainError('invalid_request', `limit: must be a whole number from 1 to ${MAX_LIST}`);
  return n;
}

/**
 * Index jobs, mounted at /api/library: GET /jobs (recent, newest first),
 * GET /jobs/:id (with per-file results), DELETE /jobs/:id (cancel). Jobs are
 * started by POST /api/library/index with "async": true.
 */
export function jobRoutes(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/jobs', (c) => {
    const body: IndexJobList = { jobs: services.jobs.list(parseLimit(c.req.query('limit'))) };
    return c.json(body);
  });

  app.get('/jobs/:id', (c) => {
    const id = c.req.param('id');
    const job = services.jobs.get(id);
    if (!job) throw jobNotFound(id);
    return c.json(job);
  });

  app.delete('/jobs/:id', (c) => {
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

  return app;
}
