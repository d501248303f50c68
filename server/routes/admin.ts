import { Hono } from 'hono';
import { DomainError } from '../errors/domain-error.js';
import type { AppEnv } from '../http/app-env.js';
import type { Services } from '../services.js';
import { SnapshotError, SnapshotNotFoundError, createSnapshots, type Snapshots } from '../snapshots.js';

/** Snapshot failures in API terms; the rest (store unavailable, config) goes to the app's error handler. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof SnapshotNotFoundError) throw new DomainError('not_found', e.message);
    if (e instanceof SnapshotError) throw new DomainError('invalid_snapshot', e.message);
    throw e;
  }
}

/**
 * Operator endpoints. Recovery is deliberately not here: replacing the store
 * under a running server is unsafe for the embedded store, so it stays a CLI
 * step (`npm run snapshot -- recover`).
 */
export function adminRoutes(services: Services) {
  const snapshots = (): Snapshots => createSnapshots(services.config, services.store);
  return new Hono<AppEnv>()
    .post('/snapshots', async (c) => c.json(await guarded(() => snapshots().create()), 201))
    .get('/snapshots', async (c) => c.json({ snapshots: await guarded(() => snapshots().list()) }))
    .get('/snapshots/:name', async (c) => {
      const name = c.req.param('name');
      const { stream, size } = await guarded(() => snapshots().open(name));
      c.header('content-type', 'application/octet-stream');
      c.header('content-disposition', `attachment; filename="${name}"`);
      if (size !== null) c.header('content-length', String(size));
      return c.body(stream);
    });
}
