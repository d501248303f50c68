import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../server/config/settings.js';
import { CachedEmbedder } from '../../server/embedders/cached.js';
import { createEmbedder, openEmbedder } from '../../server/embedders/create-embedder.js';
import { EmbedderRequestError, EmbedderResponseError, EmbedderTimeoutError } from '../../server/embedders/resilience.js';
import { TeiEmbedder, type TeiEmbedderOptions } from '../../server/embedders/tei.js';
import { fakeVector } from '../fakes/mistral-fake.js';
import { TeiFake } from '../fakes/tei-fake.js';

const MODEL = 'BAAI/bge-small-en-v1.5';
const repoConfigs = path.resolve(__dirname, '../../configs');
let fake: TeiFake;
const tmpDirs: string[] = [];

beforeAll(async () => {
  fake = await TeiFake.create({ modelId: MODEL, dimension: 384, maxClientBatchSize: 32 });
});
afterAll(async () => {
  await fake.close();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(async () => {
  await fake.settle();
  fake.reset();
});

function embedder(options: Partial<TeiEmbedderOptions> = {}): TeiEmbedder {
  return new TeiEmbedder({
    url: fake.url,
    modelId: MODEL,
    dimension: 384,
    timeoutMs: 2000,
    retry: { minDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
}

async function failure(work: Promise<unknown>): Promise<Error> {
  const error = await work.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

const texts = (n: number) => Array.from({ length: n }, (_, i) => `passage ${i}`);

describe('TeiEmbedder against a fake TEI server', () => {
  it('connect discovers the model from /info and the dimension from a probe', async () => {
    const e = await TeiEmbedder.connect({ url: `${fake.url}/`, timeoutMs: 2000 });
    expect(e.id).toBe(`tei:${MODEL}:384`);
    expect(e.dimension).toBe(384);
    expect(e.maxBatch).toBe(32);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /info', 'POST /embed']);

    fake.reset();
    const known = await TeiEmbedder.connect({ url: fake.url, dimension: 384, maxBatch: 8 });
    expect(known.maxBatch).toBe(8);
    expect(fake.requests.map((r) => r.path)).toEqual(['/info']);
    await expect(TeiEmbedder.connect({ url: fake.url, modelId: 'intfloat/e5-small' })).rejects.toThrow(
      /serves "BAAI\/bge-small-en-v1.5" but embeddings.model is "intfloat\/e5-small"/,
    );
  });

  it('posts {inputs, truncate: true} in batches of maxBatch and keeps order', async () => {
    const input = texts(70);
    const e = embedder();
    const vectors = await e.embed(input, 'document');
    const embeds = fake.embedRequests;
    expect(embeds.map((r) => r.inputs.length)).toEqual([32, 32, 6]);
    expect(embeds[0]?.body).toEqual({ inputs: input.slice(0, 32), truncate: true });
    expect(Array.from(vectors[69]!)).toEqual(Array.from(new Float32Array(fakeVector(input[69]!, 384))));
    // The configured model is checked against /info once, not per call.
    await e.embed(['again'], 'query');
    expect(fake.requests.filter((r) => r.path === '/info')).toHaveLength(1);
  });

  it('refuses to embed when TEI serves another model than the settings say', async () => {
    const err = await failure(embedder({ modelId: 'intfloat/e5-small' }).embed(['x'], 'document'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/serves "BAAI\/bge-small-en-v1.5" but embeddings.model is "intfloat\/e5-small"/);
    expect(fake.embedRequests).toHaveLength(0);
  });

  it('retries a 503 after its Retry-After, and a 500 with backoff', async () => {
    const e = embedder();
    await e.embed(['warm up'], 'document');
    fake.reset();
    fake.script({ kind: 'server-error', status: 503, retryAfter: '1' });
    await e.embed(['busy'], 'document');
    const [first, second] = fake.embedRequests;
    expect([first?.status, second?.status]).toEqual([503, 200]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);

    fake.reset();
    fake.script({ kind: 'server-error' }, { kind: 'rate-limit' });
    await e.embed(['flaky'], 'document');
    expect(fake.embedRequests.map((r) => r.status)).toEqual([500, 429, 200]);
  });

  it('does not retry 401 or 413, and says what to change', async () => {
    const e = embedder();
    fake.script({ kind: 'unauthorized' });
    let err = await failure(e.embed(['x'], 'document'));
    expect(err).toBeInstanceOf(EmbedderRequestError);
    expect(err.message).toMatch(/refused the request \(401\).*--api-key/);
    expect(fake.embedRequests).toHaveLength(1);

    fake.reset();
    err = await failure(embedder({ maxBatch: 40 }).embed(texts(40), 'document'));
    expect(err.message).toMatch(/TEI refused the batch \(413\): batch size 40 > maximum allowed batch size 32; lower embeddings.batch_size/);
    expect(fake.embedRequests).toHaveLength(1);
  });

  it('reports malformed answers without retrying', async () => {
    const e = embedder();
    await e.embed(['warm up'], 'document');
    fake.reset();
    fake.script({ kind: 'malformed' });
    let err = await failure(e.embed(['x'], 'document'));
    expect(err).toBeInstanceOf(EmbedderResponseError);
    expect(err.message).toMatch(/TEI returned no embeddings list/);

    fake.script({ kind: 'malformed', body: 'not json', contentType: 'text/plain' });
    err = await failure(e.embed(['x'], 'document'));
    expect(err.message).toMatch(/not JSON/);

    fake.script({ kind: 'wrong-dimension' });
    err = await failure(e.embed(['x'], 'document'));
    expect(err.message).toMatch(/383 dimensions .* expected 384/);

    fake.script({ kind: 'wrong-count' });
    err = await failure(e.embed(['x', 'y'], 'document'));
    expect(err.message).toMatch(/returned 1 embeddings for 2 inputs/);
    expect(fake.embedRequests).toHaveLength(4);
  });

  it('fails a hung request with a timeout error', async () => {
    const e = embedder({ timeoutMs: 150, retry: { retries: 1, minDelayMs: 1, maxDelayMs: 5 } });
    await e.embed(['warm up'], 'document');
    fake.defaultFault = { kind: 'hang' };
    const started = performance.now();
    const err = await failure(e.embed(['x'], 'document'));
    expect(err).toBeInstanceOf(EmbedderTimeoutError);
    expect(err.message).toMatch(/TEI .* timed out after 150 ms.*gave up after 2 attempts/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('fails clearly when nothing listens at TEI_URL', async () => {
    const dead = new TeiEmbedder({ url: 'http://127.0.0.1:9', modelId: MODEL, dimension: 384, retry: { retries: 1, minDelayMs: 1 } });
    const err = await failure(dead.embed(['x'], 'document'));
    expect(err.message).toMatch(/Cannot reach TEI at http:\/\/127.0.0.1:9: .*check that it is running and TEI_URL.*gave up after 2 attempts/);
  });

  it('keeps at most max_concurrent requests in flight', async () => {
    fake.delayMs = 30;
    const e = embedder({ concurrency: 3, maxBatch: 4 });
    await Promise.all([e.embed(texts(40), 'document'), e.embed(texts(12), 'document')]);
    expect(fake.maxInFlight).toBe(3);
    expect(fake.embedRequests).toHaveLength(13);
  });
});

describe('TEI from settings', () => {
  function config(env: Record<string, string>): Config {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ailib-tei-'));
    tmpDirs.push(dir);
    return loadConfig({ CONFIG_DIR: repoConfigs, EMBEDDINGS_PROVIDER: 'tei', TEI_URL: fake.url, DATA_DIR: dir, ...env }, dir);
  }

  it('openEmbedder asks TEI; createEmbedder needs model and dimension', async () => {
    const c = config({});
    expect(c.settings.embeddings.tei_url).toBe(fake.url);
    expect(() => createEmbedder(c)).toThrow(/embeddings.model .* and embeddings.dimension/);
    const opened = await openEmbedder(c);
    expect(opened).toBeInstanceOf(CachedEmbedder);
    expect(opened.id).toBe(`tei:${MODEL}:384`);
    (opened as CachedEmbedder).close();

    c.settings.embeddings.model = MODEL;
    c.settings.embeddings.dimension = 384;
    const created = createEmbedder(c);
    expect(created.id).toBe(`tei:${MODEL}:384`);
    expect(created.maxBatch).toBe(32);
    const [v] = await created.embed(['hello'], 'document');
    expect(v).toHaveLength(384);
    (created as CachedEmbedder).close();
  });

  it('no TEI_URL is a ConfigError', () => {
    const c = config({});
    c.settings.embeddings.tei_url = undefined;
    c.env = { ...c.env, TEI_URL: undefined };
    expect(() => createEmbedder(c)).toThrow('embeddings.tei_url: required for the tei provider; set TEI_URL');
  });
});
