import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../server/config/settings.js';
import { CachedEmbedder } from '../../server/embedders/cached.js';
import { createEmbedder } from '../../server/embedders/create-embedder.js';
import { embedInBatches } from '../../server/embedders/embedder.js';
import { MistralEmbedder, resolveMistralApiKey, type MistralEmbedderOptions } from '../../server/embedders/mistral.js';
import { EmbedderResponseError, EmbedderTimeoutError } from '../../server/embedders/resilience.js';
import { MeteredMistralEmbedder } from '../../server/usage/recording-embedder.js';
import { billedTokens, fakeVector, MistralFake } from '../fakes/mistral-fake.js';

const KEY = 'sk-test-Zq81-secret-key-do-not-print';
const repoConfigs = path.resolve(__dirname, '../../configs');

let fake: MistralFake;
const tmpDirs: string[] = [];

function tmp(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ailib-mistral-'));
  tmpDirs.push(dir);
  return dir;
}

beforeAll(async () => {
  fake = await MistralFake.create(KEY);
});
afterAll(async () => {
  await fake.close();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
beforeEach(async () => {
  await fake.settle();
  fake.reset();
});

function embedder(options: Partial<MistralEmbedderOptions> = {}): MistralEmbedder {
  return new MistralEmbedder({
    apiKey: KEY,
    serverURL: fake.url,
    timeoutMs: 2000,
    retry: { minDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
}

/** Runs `work`, expecting it to fail, and checks no form of the error carries a key. */
async function failure(work: Promise<unknown>, ...keys: string[]): Promise<Error> {
  const error = await work.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  const err = error as Error;
  for (const k of [KEY, ...keys]) {
    expect(err.message).not.toContain(k);
    expect(inspect(err, { depth: 8 })).not.toContain(k);
    expect(JSON.stringify(err)).not.toContain(k);
  }
  return err;
}

const texts = (n: number, prefix = 'chunk') => Array.from({ length: n }, (_, i) => `${prefix} ${i}: some text about retries`);

describe('MistralEmbedder against a fake Mistral API (real SDK)', () => {
  it('sends the wire format and returns the vectors in order', async () => {
    const e = embedder();
    expect(e.id).toBe('mistral:mistral-embed:1024');
    expect(e.dimension).toBe(1024);
    expect(e.maxBatch).toBe(128);
    const input = texts(3);
    const vectors = await e.embed(input, 'document');
    expect(vectors).toHaveLength(3);
    vectors.forEach((v, i) => {
      expect(v).toBeInstanceOf(Float32Array);
      expect(Array.from(v)).toEqual(Array.from(new Float32Array(fakeVector(input[i]!, 1024))));
    });
    const [req] = fake.embeddingRequests;
    expect(req?.authorization).toBe(`Bearer ${KEY}`);
    expect(req?.body).toMatchObject({ model: 'mistral-embed', input });
    expect(req?.body).not.toHaveProperty('output_dimension');
    expect(await e.embed([], 'query')).toEqual([]);
  });

  it('codestral-embed sends output_dimension and names it in the id', async () => {
    const e = embedder({ model: 'codestral-embed', dimension: 256 });
    expect(e.id).toBe('mistral:codestral-embed:256');
    const [v] = await e.embed(['function add(a, b) { return a + b; }'], 'document');
    expect(v).toHaveLength(256);
    expect(fake.embeddingRequests[0]?.body).toMatchObject({ model: 'codestral-embed', output_dimension: 256 });
    expect(embedder({ model: 'codestral-embed' }).id).toBe('mistral:codestral-embed:1536');
    expect(() => embedder({ dimension: 512 })).toThrow(ConfigError);
    expect(() => embedder({ model: 'codestral-embed', dimension: 4096 })).toThrow(/3072/);
  });

  it('splits 300 inputs into 3 requests of at most 128', async () => {
    const input = texts(300);
    const vectors = await embedder().embed(input, 'document');
    const sizes = fake.embeddingRequests.map((r) => r.inputs.length);
    expect(sizes).toHaveLength(3);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(128);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(300);
    expect(Array.from(vectors[299]!)).toEqual(Array.from(new Float32Array(fakeVector(input[299]!, 1024))));
    // The indexer's path: embedInBatches with the configured batch size.
    fake.reset();
    await embedInBatches(embedder(), input, 64);
    expect(fake.embeddingRequests.map((r) => r.inputs.length)).toEqual([64, 64, 64, 64, 44]);
  });

  it('splits long inputs by estimated tokens and truncates one that is too long alone', async () => {
    const long = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(8000, 'x')); // 2,000 tokens each
    await embedder().embed(long, 'document');
    const reqs = fake.embeddingRequests;
    expect(reqs.length).toBe(2);
    for (const r of reqs) expect(r.inputs.reduce((n, s) => n + Math.ceil(s.length / 4), 0)).toBeLessThanOrEqual(16_000);
    fake.reset();
    const [v] = await embedder().embed(['y'.repeat(100_000)], 'document');
    expect(v).toHaveLength(1024);
    expect(fake.embeddingRequests[0]?.inputs[0]?.length).toBe(32_000);
  });

  it('retries a 429 after its Retry-After', async () => {
    fake.script({ kind: 'rate-limit', retryAfter: '1' });
    const [v] = await embedder().embed(['rate limited once'], 'document');
    expect(v).toHaveLength(1024);
    const [first, second] = fake.embeddingRequests;
    expect(first?.status).toBe(429);
    expect(second?.status).toBe(200);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
  });

  it('does not sit out a Retry-After longer than it is willing to wait', async () => {
    fake.script({ kind: 'rate-limit', retryAfter: '3600' });
    const started = performance.now();
    const err = await failure(embedder().embed(['x'], 'document'));
    expect(err.message).toMatch(/Mistral rate limit reached \(429\).*asked to wait 3600 s, longer than the 60 s we wait/);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(fake.embeddingRequests).toHaveLength(1);
  });

  it('retries 500s with backoff, and gives up with a clear message', async () => {
    fake.script({ kind: 'server-error' }, { kind: 'server-error', status: 502 });
    await embedder().embed(['flaky'], 'document');
    expect(fake.embeddingRequests.map((r) => r.status)).toEqual([500, 502, 200]);

    fake.reset();
    fake.defaultFault = { kind: 'server-error', status: 503 };
    const err = await failure(embedder({ retry: { retries: 2, minDelayMs: 1, maxDelayMs: 5 } }).embed(['down'], 'document'));
    expect(err.message).toMatch(/Mistral server error \(503\).*gave up after 3 attempts/);
    expect(fake.embeddingRequests).toHaveLength(3);
  });

  it('does not retry a 401 and names the key source, never the key', async () => {
    const wrong = 'sk-wrong-key-7731-abcdef';
    const err = await failure(embedder({ apiKey: wrong }).embed(['x'], 'document'), wrong);
    expect(err.message).toBe('Mistral rejected the API key (401): check MISTRAL_API_KEY');
    expect(fake.embeddingRequests).toHaveLength(1);

    fake.reset();
    const err2 = await failure(embedder({ apiKey: wrong, keySource: 'TEAM_MISTRAL_KEY' }).embed(['x'], 'document'), wrong);
    expect(err2.message).toBe('Mistral rejected the API key (401): check TEAM_MISTRAL_KEY');
  });

  it('does not retry a 400 from the API', async () => {
    const err = await failure(embedder({ model: 'mistral-large-latest', dimension: 1024 }).embed(['x'], 'document'));
    expect(err.message).toMatch(/Mistral rejected the embeddings request \(400\): Invalid model/);
    expect(fake.embeddingRequests).toHaveLength(1);
  });

  it('reports malformed answers clearly without retrying', async () => {
    fake.script({ kind: 'malformed' });
    let err = await failure(embedder().embed(['x'], 'document'));
    expect(err).toBeInstanceOf(EmbedderResponseError);
    expect(err.message).toMatch(/Mistral returned an embeddings response that cannot be read/);
    expect(fake.embeddingRequests).toHaveLength(1);

    fake.reset();
    fake.script({ kind: 'malformed', body: '<html>proxy error</html>', contentType: 'text/html' });
    err = await failure(embedder().embed(['x'], 'document'));
    expect(err).toBeInstanceOf(EmbedderResponseError);

    fake.reset();
    fake.script({ kind: 'wrong-count' });
    err = await failure(embedder().embed(['a', 'b', 'c'], 'document'));
    expect(err.message).toMatch(/returned 2 embeddings for 3 inputs/);

    fake.reset();
    fake.script({ kind: 'wrong-dimension' });
    err = await failure(embedder().embed(['a'], 'document'));
    expect(err.message).toMatch(/1023 dimensions .* expected 1024/);
    expect(fake.embeddingRequests).toHaveLength(1);
  });

  it('fails a hung request with a timeout error instead of hanging', async () => {
    fake.defaultFault = { kind: 'hang' };
    const started = performance.now();
    const err = await failure(embedder({ timeoutMs: 150, retry: { retries: 1, minDelayMs: 1, maxDelayMs: 5 } }).embed(['x'], 'document'));
    expect(err).toBeInstanceOf(EmbedderTimeoutError);
    expect(err.message).toMatch(/Mistral .* timed out after 150 ms.*embeddings\.timeout_ms.*gave up after 2 attempts/);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(fake.embeddingRequests).toHaveLength(2);
  });

  it('keeps at most max_concurrent requests in flight across calls', async () => {
    fake.delayMs = 40;
    const e = embedder({ concurrency: 2 });
    const calls = Array.from({ length: 8 }, (_, i) => e.embed([`call ${i}`], 'document'));
    calls.push(e.embed(texts(300), 'document'));
    await Promise.all(calls);
    expect(fake.maxInFlight).toBe(2);
    expect(fake.embeddingRequests).toHaveLength(11);
  });

  it('never shows the key when the embedder itself is logged', () => {
    const e = embedder();
    expect(inspect(e, { depth: 8 })).not.toContain(KEY);
    expect(JSON.stringify(e)).not.toContain(KEY);
  });
});

describe('Mistral API key resolution', () => {
  const env = { TEAM_KEY: 'from-team-var', MISTRAL_API_KEY: 'from-default-var' };

  it('prefers the setting, then the named env var, then MISTRAL_API_KEY', () => {
    expect(resolveMistralApiKey({ api_key: 'from-setting', api_key_env_var: 'TEAM_KEY' }, env)).toEqual({ key: 'from-setting', source: 'embeddings.api_key' });
    expect(resolveMistralApiKey({ api_key_env_var: 'TEAM_KEY' }, env)).toEqual({ key: 'from-team-var', source: 'TEAM_KEY' });
    expect(resolveMistralApiKey({ api_key_env_var: 'UNSET_VAR' }, env)).toEqual({ key: 'from-default-var', source: 'MISTRAL_API_KEY' });
    expect(resolveMistralApiKey({}, env)).toEqual({ key: 'from-default-var', source: 'MISTRAL_API_KEY' });
  });

  it('a missing key is a ConfigError naming the fix', () => {
    expect(() => resolveMistralApiKey({ api_key_env_var: 'TEAM_KEY' }, {})).toThrow(ConfigError);
    expect(() => resolveMistralApiKey({}, { MISTRAL_API_KEY: '  ' })).toThrow(
      'Mistral API key not found: set MISTRAL_API_KEY (or embeddings.api_key_env_var)',
    );
  });

  function config(env: Record<string, string>): Config {
    return loadConfig({ CONFIG_DIR: repoConfigs, EMBEDDINGS_PROVIDER: 'mistral', MISTRAL_SERVER_URL: fake.url, DATA_DIR: tmp(), ...env }, tmp());
  }

  it('createEmbedder wires settings and env: the named var beats MISTRAL_API_KEY, end to end', async () => {
    const c = config({ MISTRAL_API_KEY: 'sk-not-this-one', MAX_CONCURRENT_EMBEDDINGS: '3' });
    c.settings.embeddings.api_key_env_var = 'TEAM_KEY';
    c.env = { ...c.env, TEAM_KEY: KEY };
    expect(c.settings.embeddings.max_concurrent).toBe(3);
    expect(c.settings.embeddings.timeout_ms).toBe(30000);
    const e = createEmbedder(c);
    expect(e).toBeInstanceOf(CachedEmbedder);
    expect(e.id).toBe('mistral:mistral-embed:1024');
    await e.embed(['hello'], 'document');
    expect(fake.embeddingRequests[0]?.authorization).toBe(`Bearer ${KEY}`);
    (e as CachedEmbedder).close();
  });

  it('createEmbedder with no key anywhere is a ConfigError', () => {
    const c = config({});
    c.env = { ...c.env, MISTRAL_API_KEY: undefined };
    expect(() => createEmbedder(c)).toThrow('Mistral API key not found');
  });
});

describe('billed tokens', () => {
  it('records the prompt_tokens Mistral reports, and an estimate only when a response has none', async () => {
    const entries: Array<{ usage: { input_tokens: number }; estimated: boolean; model: string }> = [];
    const metered = new MeteredMistralEmbedder(embedder(), { record: (e) => entries.push(e) });
    const texts = ['Rotate the Mistral key every quarter.', 'Record who rotated it, and when.'];
    await metered.embed(texts);
    expect(entries).toEqual([{ provider: 'mistral', model: 'mistral-embed', usage: { input_tokens: texts.reduce((n, t) => n + billedTokens(t), 0) }, estimated: false }]);

    fake.script({ kind: 'no-usage' });
    await metered.embed(texts);
    const estimate = texts.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
    expect(estimate).not.toBe(entries[0]!.usage.input_tokens);
    expect(entries[1]).toMatchObject({ usage: { input_tokens: estimate }, estimated: true });
  });

  it('estimates an oversized input by what is sent: the text cut to the per-input limit', async () => {
    const entries: Array<{ usage: { input_tokens: number }; estimated: boolean }> = [];
    const inner = embedder();
    const metered = new MeteredMistralEmbedder(inner, { record: (e) => entries.push(e) });
    fake.script({ kind: 'no-usage' });
    await metered.embed(['x'.repeat(inner.maxInputTokens * 4 + 4_000), 'short text']);
    expect(entries).toEqual([expect.objectContaining({ usage: { input_tokens: inner.maxInputTokens + Math.ceil('short text'.length / 4) }, estimated: true })]);
  });
});
