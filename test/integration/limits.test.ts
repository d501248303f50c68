import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetFor } from '../../server/app.js';
import { RateLimiter, type Limits } from '../../server/http/rate-limit.js';
import { readReply, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const DOCS: Record<string, string> = {
  'guides/backups.md': '# Backups\n\nCreate a snapshot every night and keep seven days of archives.\n',
};

interface Reply {
  status: number;
  headers: Headers;
  json: any;
}

async function call(url: string, init: { method?: string; token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const reply = await readReply(res);
  return { status: reply.status, headers: reply.headers, json: reply.json };
}

describe('per-developer rate limits over HTTP', () => {
  let env: TempEnv;
  let server: RunningServer;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    env = tempEnv(DOCS);
    server = await startServer({ ...env.env, LIMIT_REQUESTS_PER_MINUTE: '5', LIMIT_ASKS_PER_MINUTE: '2', LIMIT_INDEX_PER_MINUTE: '1000' }, env.root);
    alice = server.services.tokens.create('alice').token;
    bob = server.services.tokens.create('bob').token;
    const ops = server.services.tokens.create('ops', { admin: true }).token;
    expect((await call(`${server.url}/api/library/index`, { token: ops, body: { all: true } })).status).toBe(200);
  });

  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  it('answers 429 with Retry-After once a developer spends the budget', async () => {
    for (let i = 0; i < 5; i++) expect((await call(`${server.url}/api/library/stats`, { token: alice })).status).toBe(200);
    const limited = await call(`${server.url}/api/library/stats`, { token: alice });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    // 5 a minute refill one every 12 s.
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(12);
    expect(limited.json.error.message).toContain(`retry in ${retryAfter} s`);
    expect(limited.json.error.message).toContain('limits.requests_per_minute allows 5 per minute per developer');
  });

  it('does not throttle another developer, nor /health', async () => {
    expect((await call(`${server.url}/api/library/stats`, { token: bob })).status).toBe(200);
    expect((await call(`${server.url}/health`)).status).toBe(200);
    expect((await call(`${server.url}/api/library/stats`, { token: alice })).status).toBe(429);
  });

  it('keeps a separate budget for questions', async () => {
    // Alice's general budget is spent; her questions are counted apart.
    const first = await call(`${server.url}/api/query/ask`, { token: alice, body: { question: 'How long are archives kept?' } });
    expect(first.status).toBe(200);
    expect((await call(`${server.url}/api/query/ask`, { token: alice, body: { question: 'And snapshots?' } })).status).toBe(200);
    const third = await call(`${server.url}/api/query/ask`, { token: alice, body: { question: 'Once more?' } });
    expect(third.status).toBe(429);
    expect(third.json.error.message).toContain('limits.asks_per_minute allows 2 per minute');
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(12);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect((await call(`${server.url}/api/query/ask`, { token: bob, body: { question: 'How long are archives kept?' } })).status).toBe(200);
  });

  it('checks the token before the budget: an unknown caller gets 401, not 429', async () => {
    expect((await call(`${server.url}/api/library/stats`, { token: 'ail_nottherightone' })).status).toBe(401);
  });

  it('lets an allowed origin preflight without a token, and never a foreign one', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/api/query/search`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight('http://localhost:5173');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    const foreign = await preflight('https://evil.example');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends security headers on refusals too', async () => {
    const res = await call(`${server.url}/api/library/stats`);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});

describe('request bounds', () => {
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    env = tempEnv(DOCS);
    server = await startServer({ ...env.env, LIMIT_MAX_QUERY_CHARS: '200' }, env.root);
    expect((await call(`${server.url}/api/library/index`, { body: { all: true } })).status).toBe(200);
  });

  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  it('answers 413 for a body over api.max_body_bytes', async () => {
    const max = server.services.config.settings.api.max_body_bytes;
    const res = await call(`${server.url}/api/query/search`, { raw: JSON.stringify({ query: 'x'.repeat(max) }) });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('payload_too_large');
    expect(res.json.error.message).toContain('api.max_body_bytes');
  });

  it('answers 413 (not a silent skip) for an upload over library.max_file_bytes, and writes nothing', async () => {
    const max = server.services.config.settings.library.max_file_bytes;
    const res = await call(`${server.url}/api/library/index`, { body: { file_path: 'big.md', content: `# Big\n\n${'a'.repeat(max)}`, workspace: 'w' } });
    expect(res.status).toBe(413);
    expect(res.json.error.message).toContain(`more than library.max_file_bytes (${max})`);
    expect(existsSync(path.join(env.library, 'contributed/w/big.md'))).toBe(false);
    const atLimit = await call(`${server.url}/api/library/index`, { body: { file_path: 'ok.md', content: '# Fine\n\nsmall enough\n', workspace: 'w' } });
    expect(atLimit.status).toBe(200);
  });

  it('answers 400 for a query or question over limits.max_query_chars, naming the setting', async () => {
    const search = await call(`${server.url}/api/query/search`, { body: { query: 'q'.repeat(201) } });
    expect(search.status).toBe(400);
    expect(search.json.error.message).toBe('query: is 201 characters, more than limits.max_query_chars (200); shorten it');
    const ask = await call(`${server.url}/api/query/ask`, { body: { question: 'q'.repeat(201) } });
    expect(ask.status).toBe(400);
    expect(ask.json.error.message).toContain('question: is 201 characters');
    expect((await call(`${server.url}/api/query/search`, { body: { query: 'q'.repeat(200) } })).status).toBe(200);
    // The schema's own cap stays, whatever the setting.
    const huge = await call(`${server.url}/api/query/search`, { body: { query: 'q'.repeat(4001) } });
    expect(huge.status).toBe(400);
    expect(huge.json.error.message).toMatch(/^query: /);
  });

  it('answers 400 for n_results out of 1..50', async () => {
    for (const n of [0, 51, 2.5, -1]) {
      const res = await call(`${server.url}/api/query/search`, { body: { query: 'backups', n_results: n } });
      expect(res.status, String(n)).toBe(400);
      expect(res.json.error.message).toMatch(/^n_results: /);
    }
    const ask = await call(`${server.url}/api/query/ask`, { body: { question: 'backups?', n_results: 51 } });
    expect(ask.status).toBe(400);
    expect((await call(`${server.url}/api/query/search`, { body: { query: 'backups', n_results: 50 } })).status).toBe(200);
  });

  it('allows the configured origins and gives a foreign origin no CORS header', async () => {
    const allowed = await call(`${server.url}/api/library/stats`, { headers: { origin: 'http://localhost:3000' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    const foreign = await call(`${server.url}/api/library/stats`, { headers: { origin: 'https://evil.example' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends security headers on API and health responses', async () => {
    for (const url of [`${server.url}/api/library/stats`, `${server.url}/health`]) {
      const res = await call(url);
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), url).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy'), url).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security'), url).toMatch(/max-age=\d+/);
    }
  });

  it('keeps the default budgets generous enough for busy test suites', () => {
    const { limits } = server.services.config.settings;
    expect(limits).toEqual({ requests_per_minute: 600, asks_per_minute: 60, index_per_minute: 120, max_query_chars: 200 });
  });
});

describe('token bucket', () => {
  const limits: Limits = { requests_per_minute: 6, asks_per_minute: 2, index_per_minute: 0, max_query_chars: 4000 };

  it('allows a minute of burst, then refills at the per-minute rate', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(limits, () => now);
    expect(limiter.take('alice', 'ask')).toEqual({ allowed: true, remaining: 1 });
    expect(limiter.take('alice', 'ask')).toEqual({ allowed: true, remaining: 0 });
    expect(limiter.take('alice', 'ask')).toEqual({ allowed: false, retryAfterSeconds: 30 });
    now += 29_000;
    expect(limiter.take('alice', 'ask')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 1_000;
    expect(limiter.take('alice', 'ask').allowed).toBe(true);
    // A long pause refills to the cap, not beyond it.
    now += 3_600_000;
    expect(limiter.take('alice', 'ask')).toEqual({ allowed: true, remaining: 1 });
  });

  it('keeps budgets apart per developer and per kind; 0 means unlimited', () => {
    const limiter = new RateLimiter(limits, () => 0);
    for (let i = 0; i < 6; i++) expect(limiter.take('alice', 'request').allowed).toBe(true);
    expect(limiter.take('alice', 'request').allowed).toBe(false);
    expect(limiter.take('bob', 'request').allowed).toBe(true);
    expect(limiter.take('alice', 'ask').allowed).toBe(true);
    for (let i = 0; i < 1000; i++) expect(limiter.take('alice', 'index').allowed).toBe(true);
  });

  it('charges questions and library writes to their own budgets', () => {
    expect(budgetFor('POST', '/api/query/ask')).toBe('ask');
    expect(budgetFor('POST', '/api/library/index')).toBe('index');
    expect(budgetFor('DELETE', '/api/library/documents')).toBe('index');
    expect(budgetFor('POST', '/api/query/search')).toBe('request');
    expect(budgetFor('GET', '/api/library/documents')).toBe('request');
  });
});
