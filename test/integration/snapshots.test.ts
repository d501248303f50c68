import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/settings.js';
import { SnapshotNotFoundError, createSnapshots, SnapshotError, type SnapshotInfo } from '../../server/snapshots.js';
import { QdrantSnapshots } from '../../server/stores/qdrant/snapshots.js';
import { qdrantEndpoint } from '../../server/stores/qdrant/client.js';
import { QdrantStore } from '../../server/stores/qdrant/store.js';
import { QdrantRecorder, SNAPSHOT_BYTES, obj } from '../fakes/qdrant-recorder.js';
import { servicesFor, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const DOCS: Record<string, string> = {
  'guides/backups.md': '# Backups\n\n## Daily snapshots\n\nCreate a snapshot every night and keep seven days of archives.\n',
  'guides/restore.md': '# Restore\n\nRecover the snapshot, then verify the point count.\n',
};

describe('snapshots of the embedded store', () => {
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    env = tempEnv(DOCS);
    server = await startServer(env.env, env.root);
    await server.services.indexer.indexAll();
  });
  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  it('creates, lists and downloads through the admin API, then recovers to the same counts', async () => {
    const countAtSnapshot = await server.services.store.count();
    expect(countAtSnapshot).toBeGreaterThan(0);

    const created = await fetch(`${server.url}/api/admin/snapshots`, { method: 'POST' });
    expect(created.status).toBe(201);
    const info = (await created.json()) as SnapshotInfo;
    expect(info.name).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.sqlite$/);
    const file = path.join(env.root, 'data', 'snapshots', info.name);
    expect(existsSync(file)).toBe(true);
    expect(info.size).toBe(readFileSync(file).length);

    const listed = (await (await fetch(`${server.url}/api/admin/snapshots`)).json()) as { snapshots: SnapshotInfo[] };
    expect(listed.snapshots.map((s) => s.name)).toEqual([info.name]);

    const download = await fetch(`${server.url}/api/admin/snapshots/${info.name}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await download.arrayBuffer()).equals(readFileSync(file))).toBe(true);

    expect((await fetch(`${server.url}/api/admin/snapshots/nope.sqlite`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/admin/snapshots/..%2Fdata%2Flibrary.sqlite`)).status).toBe(400);

    const snaps = createSnapshots(server.services.config, server.services.store);
    const out = path.join(env.root, 'downloaded.sqlite');
    expect(await snaps.download(info.name, out)).toEqual({ file: out, bytes: info.size });

    // Change the store after the snapshot, stop the server, recover, reopen.
    env.write('guides/extra.md', '# Extra\n\nA document added after the snapshot was taken.\n');
    await server.services.indexer.indexAll();
    expect(await server.services.store.count()).toBeGreaterThan(countAtSnapshot);
    await server.close();

    const config = loadConfig(env.env, env.root);
    const message = await createSnapshots(config, null).recover(info.name);
    expect(message).toMatch(/^recovered .*library\.sqlite; the previous store is kept as .*before-recover$/);
    await expect(createSnapshots(config, null).recover('missing.sqlite')).rejects.toThrow(SnapshotNotFoundError);
    const notSqlite = path.join(env.root, 'garbage.sqlite');
    writeFileSync(notSqlite, 'not a database');
    await expect(createSnapshots(config, null).recover(notSqlite)).rejects.toThrow(SnapshotError);

    const reopened = await servicesFor(env.env, env.root);
    try {
      expect(await reopened.store.count()).toBe(countAtSnapshot);
      expect((await reopened.store.listFiles()).map((f) => f.file_path)).toEqual(['guides/backups.md', 'guides/restore.md']);
    } finally {
      await reopened.close();
    }
  });
});

describe('snapshots of a Qdrant collection (recording Qdrant)', () => {
  const KEY = 'qdrant-admin-key-5512';
  let rec: QdrantRecorder;
  let env: TempEnv;

  beforeAll(async () => {
    rec = await QdrantRecorder.start({ apiKey: KEY });
    env = tempEnv();
    const store = new QdrantStore({ url: rec.url, apiKey: KEY, collection: 'knowledge_library', warn: () => undefined });
    await store.init({ id: 'local-hash-v1:1024', dimension: 1024 });
  });
  afterAll(async () => {
    await rec?.close();
    env?.cleanup();
  });

  it('uses the seed endpoints: create, list, download, recover by name, URL or uploaded file', async () => {
    rec.clear();
    const snaps = new QdrantSnapshots(qdrantEndpoint(rec.url), KEY, 'knowledge_library');
    const made = await snaps.create();
    expect(made.name).toBe('knowledge_library-1.snapshot');
    expect(await snaps.list()).toEqual([{ name: made.name, size: SNAPSHOT_BYTES.length, created_at: made.created_at }]);
    const out = path.join(env.root, 'dl', 'copy.snapshot');
    expect((await snaps.download(made.name, out)).bytes).toBe(SNAPSHOT_BYTES.length);
    expect(readFileSync(out).equals(SNAPSHOT_BYTES)).toBe(true);
    await expect(snaps.download('absent.snapshot', out)).rejects.toThrow(SnapshotNotFoundError);

    expect(await snaps.recover(made.name)).toContain('file:///qdrant/snapshots/knowledge_library/knowledge_library-1.snapshot');
    await snaps.recover('http://backup-host/collections/knowledge_library/snapshots/x.snapshot');
    const upload = await snaps.recover(out);
    expect(upload).toContain('uploaded');

    const calls = rec.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls).toEqual([
      'POST /collections/knowledge_library/snapshots',
      'GET /collections/knowledge_library/snapshots',
      'GET /collections/knowledge_library/snapshots/knowledge_library-1.snapshot',
      'GET /collections/knowledge_library/snapshots/absent.snapshot',
      'GET /collections/knowledge_library/snapshots',
      'PUT /collections/knowledge_library/snapshots/recover',
      'PUT /collections/knowledge_library/snapshots/recover',
      'POST /collections/knowledge_library/snapshots/upload',
    ]);
    expect(rec.requests.every((r) => r.headers['api-key'] === KEY)).toBe(true);
    const recovers = rec.find('PUT', /\/snapshots\/recover$/).map((r) => obj(r.body));
    expect(recovers).toEqual([
      { location: 'file:///qdrant/snapshots/knowledge_library/knowledge_library-1.snapshot', priority: 'snapshot' },
      { location: 'http://backup-host/collections/knowledge_library/snapshots/x.snapshot', priority: 'snapshot' },
    ]);
    const up = rec.find('POST', /\/snapshots\/upload$/)[0];
    expect(up?.query).toEqual({ priority: 'snapshot', wait: 'true' });
    expect(String(up?.headers['content-type'])).toMatch(/^multipart\/form-data/);
    expect(up?.bytes).toBeGreaterThan(SNAPSHOT_BYTES.length);
    expect(rec.find('POST', /\/snapshots$/)[0]?.query.wait).toBe('true');
  });

  it('serves Qdrant snapshots through the admin API', async () => {
    const server = await startServer({ ...env.env, VECTOR_STORE: 'qdrant', QDRANT_URL: rec.url, QDRANT_API_KEY: KEY }, env.root);
    try {
      rec.clear();
      const created = await fetch(`${server.url}/api/admin/snapshots`, { method: 'POST' });
      expect(created.status).toBe(201);
      const { name } = (await created.json()) as SnapshotInfo;
      const listed = (await (await fetch(`${server.url}/api/admin/snapshots`)).json()) as { snapshots: SnapshotInfo[] };
      expect(listed.snapshots.map((s) => s.name)).toContain(name);
      const body = Buffer.from(await (await fetch(`${server.url}/api/admin/snapshots/${name}`)).arrayBuffer());
      expect(body.equals(SNAPSHOT_BYTES)).toBe(true);
      expect(rec.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /collections/knowledge_library/snapshots',
        'GET /collections/knowledge_library/snapshots',
        `GET /collections/knowledge_library/snapshots/${name}`,
      ]);
      // Qdrant down → 503 with the seed's wording, and no key in the answer.
      rec.fail({ method: 'GET', path: /\/snapshots$/ }, 502);
      const down = await fetch(`${server.url}/api/admin/snapshots`);
      expect(down.status).toBe(503);
      const text = await down.text();
      expect(text).toContain('Vector store unavailable');
      expect(text).not.toContain(KEY);
    } finally {
      await server.close();
    }
  });
});
