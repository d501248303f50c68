import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthResponse, SearchResponse } from '../../shared/api-types.js';
import { MistralFake } from '../fakes/mistral-fake.js';
import { bundleEntry } from '../helpers/bundle.js';
import { REPO_ROOT, tempEnv, type TempEnv } from '../helpers/temp-env.js';

const KEY = 'mistral-test-key-startup-0123456789';

/** Resolves with the URL the server logs once it listens; rejects with its stderr when it exits first. */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString('utf8');
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${err.slice(0, 2000)}`)));
  });
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe().catch(() => null);
    if (got !== null) return got;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Issue 12, defect 8: `EMBEDDINGS_PROVIDER=mistral` on a fresh DATA_DIR with
 * Mistral down. The taxonomy's centroids need embeddings; the real server
 * process must start anyway, say why on /health, answer 503 where the
 * embedder is needed, and catch up on its own once Mistral answers.
 */
describe('startup with the embedding provider down', () => {
  let env: TempEnv;
  let fake: MistralFake;
  let main: { file: string; cleanup: () => void };
  let child: ChildProcess | null = null;

  beforeAll(async () => {
    main = await bundleEntry('main');
    fake = await MistralFake.create(KEY);
    env = tempEnv({ 'guides/backups.md': '# Backups\n\nDaily backups are kept for fourteen days on the backup volume.\n' });
    // A short circuit cool-down and health cache, so recovery is seen in seconds rather than the production 30 s.
    const configs = path.join(env.root, 'configs');
    cpSync(path.join(REPO_ROOT, 'configs'), configs, { recursive: true });
    const settings = path.join(configs, 'settings.yaml');
    writeFileSync(settings, readFileSync(settings, 'utf8').replace('cooldown_ms: 30000', 'cooldown_ms: 300').replace('health_cache_ms: 5000', 'health_cache_ms: 0'));
    env.env.CONFIG_DIR = configs;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child?.once('exit', r));
    }
    await fake?.close();
    main?.cleanup();
    env?.cleanup();
  });

  it('starts degraded, answers 503 for what needs embeddings, and recovers in the background', async () => {
    // Mistral answers every request with 503 until told otherwise.
    fake.defaultFault = { kind: 'server-error', status: 503 };
    child = spawn(process.execPath, [main.file], {
      cwd: env.root,
      env: {
        PATH: process.env.PATH ?? '',
        ...env.env,
        EMBEDDINGS_PROVIDER: 'mistral',
        MISTRAL_API_KEY: KEY,
        MISTRAL_SERVER_URL: fake.url,
        API_HOST: '127.0.0.1',
        API_PORT: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await listening(child);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as HealthResponse;
    expect(body.status).toBe('degraded');
    expect(body.dependencies?.embedder.status).not.toBe('up');
    expect(body.taxonomy?.ready).toBe(false);
    expect(body.taxonomy?.detail).toMatch(/taxonomy centroids .*embedd/i);

    const search = await fetch(`${url}/api/query/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'backups' }) });
    expect(search.status).toBe(503);
    const refused = (await search.json()) as { error: { code: string; message: string } };
    expect(['embedder_unavailable', 'provider_unavailable']).toContain(refused.error.code);
    expect(refused.error.message).toMatch(/mistral/i);
    expect(child.exitCode).toBeNull();

    // Mistral is back: the classifier's retry builds the centroids, the startup index runs, search finds the file.
    fake.defaultFault = null;
    const found = await until('the startup index after recovery', async () => {
      const res = await fetch(`${url}/api/query/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'how long are daily backups kept' }) });
      if (res.status !== 200) return null;
      const r = (await res.json()) as SearchResponse;
      return r.results.length > 0 ? r : null;
    });
    expect(found.results[0]?.file_path).toBe('guides/backups.md');
    const healed = (await (await fetch(`${url}/health`)).json()) as HealthResponse;
    expect(healed.taxonomy?.ready).toBe(true);
    expect(healed.dependencies?.embedder.status).toBe('up');
  }, 150_000);
});
