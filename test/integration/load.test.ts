import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, type LoadResult, type UploadRecord } from '../../bench/load.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { checkStoreIntegrity, md5 } from '../helpers/store-integrity.js';
import { startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

/**
 * A short load run: 20 simulated developers for 8 s on loopback, mixing
 * searches, "find similar", questions (extractive, and through the fake
 * Anthropic for the developers who send a key) and uploads. It stops by itself
 * (deadline and a per-developer cap). Asserted: no 5xx, every request
 * answered, and no write lost. `npm run bench` runs the 60 s version and
 * prints the numbers; nothing here measures time.
 */

const DEVELOPERS = 20;
const SECONDS = 8;
const DEV_KEY = 'sk-ant-dev-KEY-load-5e6f7a8b';

const DOCS: Record<string, string> = {
  'security/tokens.md': '# Server tokens\n\n## Rotation\n\nRotate server tokens every ninety days and revoke the token of anyone who leaves.\n',
  'operations/backups.md': '# Backups\n\n## Retention\n\nDaily backups are kept for fourteen days. Restore from a snapshot by recovering it.\n',
  'operations/deploy.md': '# Deploying\n\nDeploy with docker compose on the production VM; the health check answers on port 8000.\n',
  'src/checksum.ts': 'export function computeChecksumMd5(data: string): string {\n  return data;\n}\n',
};

describe('load: 20 developers at once', () => {
  let env: TempEnv;
  let fake: AnthropicFake;
  let server: RunningServer;
  let result: LoadResult;

  beforeAll(async () => {
    fake = await startAnthropicFake();
    env = tempEnv(DOCS);
    // One developer identity on loopback shares one budget: raise the limits for the run (they stay on).
    Object.assign(env.env, {
      ANTHROPIC_BASE_URL: fake.url,
      LIMIT_REQUESTS_PER_MINUTE: '1000000',
      LIMIT_ASKS_PER_MINUTE: '1000000',
      LIMIT_INDEX_PER_MINUTE: '1000000',
    });
    server = await startServer(env.env, env.root);
    await server.services.indexer.indexAll();
    result = await runLoad({
      url: server.url,
      developers: DEVELOPERS,
      seconds: SECONDS,
      maxOpsPerDeveloper: 400,
      // Every fourth developer has their own Anthropic key: their questions go to (fake) Claude.
      headersFor: (d): Record<string, string> => (d % 4 === 0 ? { 'x-anthropic-api-key': DEV_KEY } : {}),
      seed: 42,
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await fake?.close();
    env?.cleanup();
  });

  it('answers every request, with no 5xx', () => {
    const failed = result.records.filter((r) => r.status !== 200);
    expect(failed.slice(0, 5)).toEqual([]);
    for (const route of ['search', 'similar', 'ask', 'upload'] as const) {
      expect(result.records.filter((r) => r.route === route).length, route).toBeGreaterThan(0);
    }
    // Both answer modes were exercised, and Claude's went through the fake.
    const modes = new Set(result.records.filter((r) => r.route === 'ask').map((r) => r.mode));
    expect([...modes].sort()).toEqual(['claude', 'extractive']);
    expect(fake.requests.length).toBeGreaterThan(0);
  });

  it('loses no write: every acknowledged upload is stored at its latest content, on disk and in the store', async () => {
    expect(result.uploads.every((u) => u.acknowledged)).toBe(true);
    const latest = new Map<string, UploadRecord>();
    for (const u of result.uploads) latest.set(u.filePath, u);
    const { store } = server.services;
    for (const [filePath, upload] of latest) {
      expect(readFileSync(path.join(env.library, filePath), 'utf8')).toBe(upload.content);
      const file = await store.getFile(filePath);
      expect(file?.file_hash, filePath).toBe(md5(upload.content));
      const chunks = await store.fileChunks(filePath);
      expect(chunks).toHaveLength(file?.chunk_count ?? -1);
      expect(chunks.every((c) => c.payload.file_hash === file?.file_hash)).toBe(true);
    }

    // Exactly the library's documents plus the uploaded paths, and a point count that matches them.
    const files = await store.listFiles();
    expect(files.map((f) => f.file_path).sort()).toEqual([...Object.keys(DOCS), ...latest.keys()].sort());
    expect(await store.count()).toBe(files.reduce((n, f) => n + f.chunk_count, 0));
    const integrity = checkStoreIntegrity(path.join(env.root, 'data', 'library.sqlite'));
    expect(integrity.problems).toEqual([]);
    expect(integrity.counts.files).toBe(files.length);
  });

  it('is still healthy afterwards', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
  });
});
