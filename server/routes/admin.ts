import { Hono } from 'hono';
import type { AppEnv } from '../http/app-env.js';
import type { Services } from '../services.js';
import { createSnapshots, type Snapshots } from '../snapshots.js';

/**
 * Operator endpoints. Recovery is deliberately not here: replacing the store
 * under a running server is unsafe for the embedded store, so it stays a CLI
 * step (`npm run snapshot -- recover`).
 */
export function adminRoutes(services: Services) {
  const snapshots = (): Snapshots => createSnapshots(services.config, services.store);
  return new Hono<AppEnv>()
    .post('/snapshots', async (c) => c.json(await snapshots().create(), 201))
    .get('/snapshots', async (c) => c.json({ snapshots: await snapshots().list() }))
    .get('/snapshots/:name', async (c) => {
      const name = c.req.param('name');
      const { stream, size } = await snapshots().open(name);
      c.header('content-type', 'application/octet-stream');
      c.header('content-disposition', `attachment; filename="${name}"`);
      if (size !== null) c.header('content-length', String(size));
      return c.body(stream);
    });
}
