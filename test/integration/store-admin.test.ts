import { existsSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/settings.js';
import { createStore, createStoreAdmin } from '../../server/stores/create-store.js';
import { openDatabase } from '../../server/storage/sqlite-driver.js';
import { ALL_DOCS, CONTRACT_EMBEDDER, indexDocs, pointsOf } from '../contract/vector-store.contract.js';
import { QdrantRecorder } from '../fakes/qdrant-recorder.js';
import { tempEnv, type TempEnv } from '../helpers/temp-env.js';

/** The StoreAdmin port (stores/store-admin.ts) as snapshots, backup, restore and migrate use it, against each adapter. */
describe('StoreAdmin: embedded', () => {
  let env: TempEnv;
  beforeAll(() => {
    env = tempEnv();
  });
  afterAll(() => env?.cleanup());

  it('sees no store before the first index, and never creates one by asking', async () => {
    const config = loadConfig(env.env, env.root);
    const admin = createStoreAdmin(config);
    expect(admin.kind).toBe('embedded');
    expect(await admin.exists()).toBe(false);
    expect(await admin.countPoints()).toBe(0);
    const out = mkdtempSync(path.join(env.root, 'export-'));
    const copy = await admin.exportTo(out);
    expect(copy).toMatchObject({ file: null, points: 0, embedder: null, collection: null });
    expect(copy.warnings.join('\n')).toContain('no embedded store at');
    expect(await admin.exists()).toBe(false);
  });

  it('counts the points and exports one self-contained SQLite file that records the embedder', async () => {
    const config = loadConfig(env.env, env.root);
    const store = createStore(config);
    await store.init(CONTRACT_EMBEDDER);
    await indexDocs(store);
    const points = ALL_DOCS.reduce((n, d) => n + pointsOf(d).length, 0);
    try {
      const admin = createStoreAdmin(config, { store });
      expect(await admin.exists()).toBe(true);
      expect(admin.where).toBe(path.join(config.paths.data, 'library.sqlite'));
      // Read while the store is open and serving, as restore and backup do beside a server.
      expect(await admin.countPoints()).toBe(points);
      const out = mkdtempSync(path.join(env.root, 'export-'));
      const copy = await admin.exportTo(out);
      expect(copy).toMatchObject({ file: 'library.sqlite', points, embedder: CONTRACT_EMBEDDER, collection: null, warnings: [] });
      expect(copy.summary).toBe(`store: embedded ${admin.where}, ${points} points`);
      const file = path.join(out, 'library.sqlite');
      expect(existsSync(`${file}-wal`)).toBe(false);
      const db = openDatabase(file, { readonly: true, fileMustExist: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
        expect(db.prepare('SELECT count(*) AS n FROM chunks').get()).toEqual({ n: points });
      } finally {
        db.close();
      }
    } finally {
      await store.close();
    }
  });
});

describe('StoreAdmin: Qdrant (recording Qdrant)', () => {
  const KEY = 'qdrant-admin-port-key-7731';
  let rec: QdrantRecorder;
  let env: TempEnv;
  beforeAll(async () => {
    rec = await QdrantRecorder.start({ apiKey: KEY });
    env = tempEnv();
  });
  afterAll(async () => {
    await rec?.close();
    env?.cleanup();
  });

  it('asks Qdrant whether the collection exists and counts it, naming it without the key', async () => {
    const config = loadConfig({ ...env.env, VECTOR_STORE: 'qdrant', QDRANT_URL: rec.url, QDRANT_API_KEY: KEY }, env.root);
    const admin = createStoreAdmin(config);
    expect(admin.kind).toBe('qdrant');
    expect(admin.where).toBe(`collection "knowledge_library" at ${rec.url}`);
    expect(await admin.exists()).toBe(false);
    expect(await admin.countPoints()).toBe(0);
    expect(rec.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /collections/knowledge_library/exists', 'GET /collections/knowledge_library/exists']);

    const store = createStore(config);
    await store.init(CONTRACT_EMBEDDER);
    await indexDocs(store);
    await store.close();
    rec.clear();
    expect(await admin.exists()).toBe(true);
    expect(await admin.countPoints()).toBe(ALL_DOCS.reduce((n, d) => n + pointsOf(d).length, 0));
    expect(rec.requests.map((r) => `${r.method} ${r.path}`)).toContain('POST /collections/knowledge_library/points/count');
    expect(rec.requests.every((r) => r.headers['api-key'] === KEY)).toBe(true);
    expect(admin.where).not.toContain(KEY);
  });
});
