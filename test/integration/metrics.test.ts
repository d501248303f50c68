import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AskResponse, IndexJob, IndexJobAccepted, IndexResponse } from '../../shared/api-types.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { postJson, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const DOCS: Record<string, string> = {
  'guides/auth.md': '# Authentication\n\nEvery developer gets a personal server token. Send it as a bearer token in the Authorization header.\n',
  'guides/backups.md': '# Backups\n\nCreate a Qdrant snapshot every night and keep seven days of archives.\n',
  'src/checksum.ts': "import { createHash } from 'node:crypto';\n\nexport function computeChecksumMd5(data: Buffer): string {\n  return createHash('md5').update(data).digest('hex');\n}\n",
};

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, as far as these tests need it (no exemplars, no timestamps). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** Samples of `name` whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The one sample of `name` with exactly these labels (plus none other that matter); 0 when absent. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return find(samples, name, labels).reduce((n, s) => n + s.value, 0);
}

async function scrape(server: RunningServer): Promise<{ text: string; contentType: string; samples: Sample[] }> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, contentType: res.headers.get('content-type') ?? '', samples: parseMetrics(text) };
}

async function waitForJob(server: RunningServer, id: string): Promise<IndexJob> {
  return vi.waitFor(
    async () => {
      const job = (await (await fetch(`${server.url}/api/library/jobs/${id}`)).json()) as IndexJob;
      if (job.state !== 'done') throw new Error(`job ${id} is ${job.state}`);
      return job;
    },
    { timeout: 20_000, interval: 20 },
  );
}

describe('GET /metrics', () => {
  let env: TempEnv;
  let fake: AnthropicFake;
  let server: RunningServer;
  let model: string;
  let claudeAnswer: AskResponse;
  let conversationId: string;
  let jobId: string;

  beforeAll(async () => {
    fake = await startAnthropicFake();
    env = tempEnv(DOCS);
    // No server key: extractive by default, the fake Claude when a request carries a key.
    env.env.ANTHROPIC_BASE_URL = fake.url;
    server = await startServer(env.env, env.root);
    model = server.services.config.settings.sdk.model;

    const indexed = await postJson(`${server.url}/api/library/index`, { all: true });
    expect(indexed.status).toBe(200);
    expect((indexed.json as IndexResponse).summary.indexed).toBe(3);

    const accepted = await postJson(`${server.url}/api/library/index`, { all: true, async: true });
    expect(accepted.status).toBe(202);
    jobId = (accepted.json as IndexJobAccepted).job_id;
    await waitForJob(server, jobId);

    expect((await postJson(`${server.url}/api/query/search`, { query: 'snapshot archives' })).status).toBe(200);
    expect((await postJson(`${server.url}/api/query/search`, { query: 'computeChecksumMd5', mode: 'keyword' })).status).toBe(200);

    const extractive = await postJson(`${server.url}/api/query/ask`, { question: 'How do I send my server token?' });
    expect(extractive.status).toBe(200);
    expect((extractive.json as AskResponse).mode).toBe('extractive');
    conversationId = (extractive.json as AskResponse).conversation_id;

    const claude = await postJson(`${server.url}/api/query/ask`, { question: 'How long are snapshot archives kept?' }, { 'x-anthropic-api-key': 'sk-ant-metrics-test-0123456789' });
    expect(claude.status).toBe(200);
    claudeAnswer = claude.json as AskResponse;
    expect(claudeAnswer.mode).toBe('claude');
    expect(claudeAnswer.usage).not.toBeNull();

    expect((await fetch(`${server.url}/api/conversations/${conversationId}`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/no-such-route/12345`)).status).toBe(404);
  });

  afterAll(async () => {
    await server?.close();
    await fake?.close();
    env?.cleanup();
  });

  it('answers in the Prometheus text format, outside auth', async () => {
    const { contentType, text } = await scrape(server);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE ailib_http_requests_total counter');
    expect(text).toContain('# TYPE ailib_http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE ailib_store_points gauge');
  });

  it('labels HTTP series with route patterns, never raw paths', async () => {
    const { text, samples } = await scrape(server);
    expect(value(samples, 'ailib_http_requests_total', { method: 'POST', route: '/api/query/search', status: '200' })).toBe(2);
    expect(value(samples, 'ailib_http_requests_total', { method: 'POST', route: '/api/query/ask', status: '200' })).toBe(2);
    expect(value(samples, 'ailib_http_requests_total', { method: 'POST', route: '/api/library/index', status: '202' })).toBe(1);
    expect(value(samples, 'ailib_http_requests_total', { method: 'GET', route: '/api/conversations/:id', status: '200' })).toBe(1);
    expect(value(samples, 'ailib_http_requests_total', { method: 'GET', route: '/api/library/jobs/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'ailib_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    // Ids and junk paths would make the series unbounded.
    expect(text).not.toContain(conversationId);
    expect(text).not.toContain(jobId);
    expect(text).not.toContain('no-such-route');

    const count = value(samples, 'ailib_http_request_duration_seconds_count', { method: 'POST', route: '/api/query/search' });
    expect(count).toBe(2);
    expect(value(samples, 'ailib_http_request_duration_seconds_bucket', { method: 'POST', route: '/api/query/search', le: '+Inf' })).toBe(count);
    expect(value(samples, 'ailib_http_request_duration_seconds_sum', { method: 'POST', route: '/api/query/search' })).toBeGreaterThan(0);
  });

  it('counts embeddings, searches and indexed files', async () => {
    const { samples } = await scrape(server);
    const calls = value(samples, 'ailib_embeddings_total', { provider: 'local', status: 'ok' });
    expect(calls).toBeGreaterThan(0);
    expect(value(samples, 'ailib_embeddings_total', { provider: 'local', status: 'error' })).toBe(0);
    expect(value(samples, 'ailib_embedding_duration_seconds_count', { provider: 'local' })).toBe(calls);
    expect(value(samples, 'ailib_embedded_texts_total', { provider: 'local' })).toBeGreaterThanOrEqual(calls);

    // One search request in each mode, plus the retrieval step of both questions (hybrid).
    expect(value(samples, 'ailib_searches_total', { mode: 'hybrid' })).toBe(3);
    expect(value(samples, 'ailib_searches_total', { mode: 'keyword' })).toBe(1);
    expect(value(samples, 'ailib_search_duration_seconds_count', { mode: 'hybrid' })).toBe(3);

    // The synchronous index filed all three; the async job found them unchanged.
    expect(value(samples, 'ailib_indexed_files_total', { status: 'indexed' })).toBe(3);
    expect(value(samples, 'ailib_indexed_files_total', { status: 'unchanged' })).toBe(3);
    // A synchronous index runs as a job too (it waits for it), so both count.
    for (const state of ['pending', 'running', 'done']) {
      expect(value(samples, 'ailib_index_jobs_total', { kind: 'all', state })).toBe(2);
    }
    expect(value(samples, 'ailib_index_jobs_total', { state: 'failed' })).toBe(0);
  });

  it('counts Claude requests, tokens and cost; extractive answers call no model', async () => {
    const { samples } = await scrape(server);
    const usage = claudeAnswer.usage!;
    expect(value(samples, 'ailib_llm_requests_total', { model, status: 'ok' })).toBe(1);
    expect(value(samples, 'ailib_llm_requests_total')).toBe(1);
    expect(value(samples, 'ailib_llm_request_duration_seconds_count', { model })).toBe(1);
    expect(value(samples, 'ailib_llm_tokens_total', { model, kind: 'input' })).toBe(usage.input_tokens);
    expect(value(samples, 'ailib_llm_tokens_total', { model, kind: 'output' })).toBe(usage.output_tokens);
    expect(value(samples, 'ailib_llm_tokens_total', { model, kind: 'cache_read' })).toBe(usage.cache_read_input_tokens);
    expect(value(samples, 'ailib_llm_tokens_total', { model, kind: 'cache_write' })).toBe(usage.cache_creation_input_tokens);
    const cost = value(samples, 'ailib_llm_cost_usd_total', { model });
    expect(cost).toBeGreaterThan(0);
    // The same price table as the usage reports.
    expect(cost).toBeCloseTo(server.services.usage.pricing.costOf(model, usage), 9);
  });

  it('reads the store size and circuit breakers at scrape time, with process metrics', async () => {
    const { samples } = await scrape(server);
    expect(value(samples, 'ailib_store_points')).toBe(await server.services.store.count());
    expect(value(samples, 'ailib_store_points')).toBeGreaterThanOrEqual(3);
    // The local embedder and the embedded store have no breaker; Claude's is closed.
    expect(find(samples, 'ailib_circuit_breaker_state', { provider: 'claude' })).toEqual([
      { name: 'ailib_circuit_breaker_state', labels: { provider: 'claude' }, value: 0 },
    ]);
    expect(find(samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(value(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('keeps one registry per app', async () => {
    const other = tempEnv({ 'a.md': '# A\n\nalpha\n' });
    const second = await startServer(other.env, other.root);
    try {
      const { samples } = await scrape(second);
      expect(value(samples, 'ailib_searches_total')).toBe(0);
      expect(value(samples, 'ailib_http_requests_total', { route: '/api/query/search' })).toBe(0);
      // The first app's counters are untouched by the second app's creation.
      expect(value((await scrape(server)).samples, 'ailib_searches_total', { mode: 'keyword' })).toBe(1);
    } finally {
      await second.close();
      other.cleanup();
    }
  });
});
