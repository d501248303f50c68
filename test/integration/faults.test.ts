import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AskResponse, AskStreamEvent, ErrorBody, HealthResponse, SearchResponse } from '../../shared/api-types.js';
import type { Config } from '../../server/config/settings.js';
import { toHttpError } from '../../server/http/errors.js';
import { ProviderUnavailableError } from '../../server/reliability/circuit-breaker.js';
import { QdrantStore } from '../../server/stores/qdrant/store.js';
import { StoreUnavailableError } from '../../server/stores/vector-store.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { MistralFake } from '../fakes/mistral-fake.js';
import { QdrantRecorder } from '../fakes/qdrant-recorder.js';
import { postJson, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const MISTRAL_KEY = 'mistral-test-KEY-9d8c7b6a5f4e';
const ANTHROPIC_KEY = 'sk-ant-server-KEY-0a1b2c3d4e5f';

const DOCS: Record<string, string> = {
  'ops/backups.md': '# Backups\n\n## Retention\n\nDaily backups are kept for fourteen days. Weekly backups are kept for three months.\n',
  'ops/deploy.md': '# Deploying\n\nDeploy the server and Qdrant with docker compose on the production VM.\n',
};

type SearchBody = ErrorBody & SearchResponse;
type AskBody = ErrorBody & AskResponse;

async function getHealth(server: RunningServer): Promise<{ status: number; json: HealthResponse }> {
  const res = await fetch(`${server.url}/health`);
  return { status: res.status, json: (await res.json()) as HealthResponse };
}

/** Polls until `ok` holds (a breaker's cool-down has to pass in real time); no timing is asserted. */
async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, attempts = 100, pauseMs = 100): Promise<T> {
  let last = await probe();
  for (let i = 0; i < attempts && !ok(last); i++) {
    await new Promise((r) => setTimeout(r, pauseMs));
    last = await probe();
  }
  return last;
}

/** Small breakers so the tests trip them quickly; no probe caching unless a test wants it. */
function fastBreakers(cooldownMs: number, healthCacheMs = 0) {
  return (config: Config) => {
    config.settings.reliability.failure_threshold = 2;
    config.settings.reliability.cooldown_ms = cooldownMs;
    config.settings.reliability.health_cache_ms = healthCacheMs;
  };
}

describe('Mistral down: the embedder breaker opens, searches get 503 at once, /health says so', () => {
  let fake: MistralFake;
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    fake = await MistralFake.create(MISTRAL_KEY);
    env = tempEnv(DOCS);
    Object.assign(env.env, { EMBEDDINGS_PROVIDER: 'mistral', MISTRAL_SERVER_URL: fake.url, MISTRAL_API_KEY: MISTRAL_KEY });
    server = await startServer(env.env, env.root, fastBreakers(2_500));
    expect((await server.services.indexer.indexAll()).summary.indexed).toBe(2);
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
    env?.cleanup();
  });

  it('reports every dependency as up while Mistral answers', async () => {
    const { status, json } = await getHealth(server);
    expect(status).toBe(200);
    expect(json.status).toBe('ok');
    expect(json.dependencies?.store).toMatchObject({ status: 'up', detail: expect.stringContaining('embedded store') });
    expect(json.dependencies?.embedder).toMatchObject({ status: 'up', circuit: 'closed', detail: expect.stringContaining('mistral:mistral-embed') });
    expect(json.dependencies?.llm).toMatchObject({ status: 'up', latency_ms: null, circuit: 'closed' });
    expect(typeof json.dependencies?.store.latency_ms).toBe('number');
    expect(json.store.points).toBeGreaterThan(0);
  });

  it('opens after repeated 5xx: 503 with the reason, then fails fast without calling Mistral; recovers after the cool-down', async () => {
    fake.defaultFault = { kind: 'server-error', status: 500 };
    const first = await postJson(`${server.url}/api/query/search`, { query: 'backups retention' });
    expect(first.status).toBe(503);
    expect((first.json as SearchBody).error.code).toBe('provider_unavailable');
    expect((first.json as SearchBody).error.message).toMatch(/^Mistral embeddings unavailable \(circuit open after 2 failures; retrying in \d+ s\): Mistral server error \(500\)/);

    const before = fake.requests.length;
    const second = await postJson(`${server.url}/api/query/search`, { query: 'weekly backups' });
    expect(second.status).toBe(503);
    expect((second.json as SearchBody).error.message).toMatch(/circuit open after 2 failures/);
    expect(fake.requests.length).toBe(before);

    const health = await getHealth(server);
    expect(health.status).toBe(503);
    expect(health.json.status).toBe('degraded');
    expect(health.json.dependencies?.embedder).toMatchObject({ status: 'down', circuit: 'open', detail: expect.stringMatching(/^Mistral embeddings unavailable \(circuit open/) });
    expect(health.json.dependencies?.store.status).toBe('up');
    for (const text of [JSON.stringify(first.json), JSON.stringify(health.json)]) expect(text).not.toContain(MISTRAL_KEY);

    // Keyword search needs no embedding: it keeps working while Mistral is down.
    const keyword = await postJson(`${server.url}/api/query/search`, { query: 'fourteen days', mode: 'keyword' });
    expect(keyword.status).toBe(200);
    expect((keyword.json as SearchBody).results[0]?.file_path).toBe('ops/backups.md');

    fake.defaultFault = null;
    const healthy = await eventually(() => getHealth(server), (h) => h.status === 200);
    expect(healthy.json.dependencies?.embedder).toMatchObject({ status: 'up', circuit: 'closed' });
    const again = await postJson(`${server.url}/api/query/search`, { query: 'backups retention' });
    expect(again.status).toBe(200);
  });

  it('indexing while the circuit is open records per-file failures naming the reason, and retries them later', async () => {
    fake.defaultFault = { kind: 'server-error', status: 502 };
    await postJson(`${server.url}/api/query/search`, { query: 'trip the breaker' });
    env.write('ops/new.md', '# New\n\nA new runbook about rotating the frobnicator keys.\n');
    const res = await server.services.indexer.indexPath('ops/new.md');
    expect(res.files[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/Mistral embeddings unavailable \(circuit (open|half-open)/) });
    fake.defaultFault = null;
    await eventually(() => getHealth(server), (h) => h.status === 200);
    const retried = await server.services.indexer.indexPath('ops/new.md');
    expect(retried.files[0]?.status).toBe('indexed');
  });

  it('caches probes: /health polled in a burst asks Mistral once', async () => {
    const cached = tempEnv(DOCS);
    Object.assign(cached.env, { EMBEDDINGS_PROVIDER: 'mistral', MISTRAL_SERVER_URL: fake.url, MISTRAL_API_KEY: MISTRAL_KEY });
    const s = await startServer(cached.env, cached.root, fastBreakers(2_500, 60_000));
    try {
      // The taxonomy embeds its descriptions in the background after start: not a health probe.
      await s.services.taxonomyReady;
      const before = fake.requests.length;
      const results = await Promise.all(Array.from({ length: 5 }, () => getHealth(s)));
      for (let i = 0; i < 5; i++) results.push(await getHealth(s));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(fake.requests.length - before).toBe(1);
    } finally {
      await s.close();
      cached.cleanup();
    }
  });
});

describe('Claude down: ask falls back to extractive answers that say why', () => {
  let fake: AnthropicFake;
  let env: TempEnv;
  let server: RunningServer;
  const status500 = { kind: 'status', status: 500, type: 'api_error', message: 'Internal server error', headers: { 'retry-after-ms': '10' } } as const;

  beforeAll(async () => {
    fake = await startAnthropicFake();
    env = tempEnv(DOCS);
    Object.assign(env.env, { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: ANTHROPIC_KEY });
    server = await startServer(env.env, env.root, fastBreakers(60_000));
    await server.services.indexer.indexAll();
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
    env?.cleanup();
  });

  it('answers with Claude while it is up', async () => {
    const { status, json } = await postJson(`${server.url}/api/query/ask`, { question: 'How long are daily backups kept?' });
    expect(status).toBe(200);
    expect((json as AskBody).mode).toBe('claude');
  });

  it('5xx from Anthropic: an extractive answer with a note; after N failures the circuit opens and Claude is not called', async () => {
    // The SDK retries twice itself: each question costs three refused requests.
    fake.enqueue(status500, status500, status500);
    const first = await postJson(`${server.url}/api/query/ask`, { question: 'How long are daily backups kept?' });
    expect(first.status).toBe(200);
    const a1 = first.json as AskBody;
    expect(a1.mode).toBe('extractive');
    expect(a1.answer).toMatch(/^Extractive answer \(Claude is unavailable: Anthropic returned an error \(500\)/);
    expect(a1.citations[0]?.file_path).toBe('ops/backups.md');

    fake.enqueue(status500, status500, status500);
    expect((await postJson(`${server.url}/api/query/ask`, { question: 'How long are weekly backups kept?' })).json.mode).toBe('extractive');

    const before = fake.requests.length;
    const third = await postJson(`${server.url}/api/query/ask`, { question: 'How long are daily backups kept?' });
    expect(third.status).toBe(200);
    expect((third.json as AskBody).mode).toBe('extractive');
    expect((third.json as AskBody).answer).toMatch(/^Extractive answer \(Claude is unavailable: circuit open after 2 failures; retrying in \d+ s\)/);
    expect(fake.requests.length).toBe(before);

    // Streamed too: the sources event already says extractive.
    const res = await fetch(`${server.url}/api/query/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ question: 'How do I deploy the server?' }),
    });
    const text = await res.text();
    const events = text
      .split(/\n\n+/)
      .map((block) => /^event: (.+)$/m.exec(block)?.[1])
      .filter((e): e is AskStreamEvent['event'] => e !== undefined);
    expect(events[0]).toBe('sources');
    expect(events.at(-1)).toBe('done');
    expect(text).toContain('"mode":"extractive"');
    expect(fake.requests.length).toBe(before);

    // Searches are unaffected, so /health stays 200 but reports Claude down.
    const health = await getHealth(server);
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('degraded');
    expect(health.json.dependencies?.llm).toMatchObject({ status: 'down', circuit: 'open', detail: expect.stringMatching(/^Claude unavailable \(circuit open after 2 failures/) });
    expect(JSON.stringify(health.json)).not.toContain(ANTHROPIC_KEY);
  });

  it('an unreachable Anthropic endpoint also falls back, naming the endpoint to check', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = tempEnv(DOCS);
    Object.assign(down.env, { ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`, ANTHROPIC_API_KEY: ANTHROPIC_KEY });
    const s = await startServer(down.env, down.root);
    try {
      await s.services.indexer.indexAll();
      const { status, json } = await postJson(`${s.url}/api/query/ask`, { question: 'How long are daily backups kept?' });
      expect(status).toBe(200);
      expect((json as AskBody).mode).toBe('extractive');
      expect((json as AskBody).answer).toMatch(/^Extractive answer \(Claude is unavailable: cannot reach the Anthropic endpoint http:\/\/127\.0\.0\.1:\d+ \(ANTHROPIC_BASE_URL\)/);
      expect(JSON.stringify(json)).not.toContain(ANTHROPIC_KEY);
    } finally {
      await s.close();
      down.cleanup();
    }
  });
});

/** Forwards to `target`, counting requests in flight: what Qdrant would see. */
async function countingProxy(target: string): Promise<{ url: string; maxInFlight: number; close(): Promise<void> }> {
  const state = { url: '', maxInFlight: 0, inFlight: 0 };
  const read = async (req: IncomingMessage) => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    return Buffer.concat(parts);
  };
  const server: Server = createServer((req, res) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    void (async () => {
      try {
        const body = await read(req);
        const upstream = await fetch(target + (req.url ?? '/'), {
          method: req.method,
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          body: body.length ? body : undefined,
        });
        const text = await upstream.text();
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      } finally {
        state.inFlight--;
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get url() {
      return state.url;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('Qdrant: bounded concurrency and a breaker around every call', () => {
  let rec: QdrantRecorder;
  const EMBEDDER = { id: 'test-embedder:8', dimension: 8 };
  let seq = 0;
  const store = (opts: { url?: string; maxConcurrent?: number; cooldownMs?: number } = {}) =>
    new QdrantStore({
      url: opts.url ?? rec.url,
      collection: `faults_${++seq}`,
      maxConcurrent: opts.maxConcurrent,
      breaker: { failureThreshold: 2, cooldownMs: opts.cooldownMs ?? 60_000 },
      warn: () => undefined,
    });

  beforeAll(async () => {
    rec = await QdrantRecorder.start();
  });
  afterAll(async () => {
    await rec.close();
  });

  it('keeps at most vector.max_concurrent requests in flight', async () => {
    const proxy = await countingProxy(rec.url);
    try {
      const s = store({ url: proxy.url, maxConcurrent: 3 });
      await s.init(EMBEDDER);
      rec.fail({ method: 'POST', path: /\/points\/count$/ }, 200, { times: 30, delayMs: 30, body: { result: { count: 1 }, status: 'ok', time: 0 } });
      const counts = await Promise.all(Array.from({ length: 30 }, () => s.count()));
      expect(counts.every((n) => n === 1)).toBe(true);
      expect(proxy.maxInFlight).toBeLessThanOrEqual(3);
      expect(proxy.maxInFlight).toBeGreaterThan(1);
    } finally {
      await proxy.close();
    }
  });

  it('opens after repeated 503s and fails fast with ProviderUnavailableError, which the API maps to 503', async () => {
    const s = store();
    await s.init(EMBEDDER);
    rec.fail({ method: 'POST', path: /\/points\/count$/ }, 503, { times: 2 });
    await expect(s.count()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(s.count()).rejects.toBeInstanceOf(StoreUnavailableError);
    rec.clear();
    const err = await s.count().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect((err as Error).message).toMatch(/^Qdrant vector store unavailable \(circuit open after 2 failures; retrying in \d+ s\): Vector store unavailable: .* answered 503/);
    expect(rec.requests).toHaveLength(0);
    expect(s.breaker.state).toBe('open');
    const http = toHttpError(err);
    expect([http.status, http.code]).toEqual([503, 'provider_unavailable']);
  });

  it('a 4xx answer proves Qdrant is up and does not count toward opening', async () => {
    const s = store();
    await s.init(EMBEDDER);
    rec.fail({ method: 'POST', path: /\/points\/count$/ }, 400, { times: 5, body: { status: { error: 'bad filter' }, time: 0 } });
    for (let i = 0; i < 5; i++) await expect(s.count()).rejects.toThrow(/bad filter/);
    expect(s.breaker.state).toBe('closed');
  });
});
