import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AskResponse } from '../../shared/api-types.js';
import { EmbedderRequestError } from '../../server/embedders/resilience.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { postJson, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const SERVER_TOKEN = 'ailib-server-TOKEN-7c1f0e9a2b4d';
const ANTHROPIC_KEY = 'sk-ant-dev-KEY-93be51d07a6c';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

type Harness = RunningServer;

/** What pino wrote, one parsed object per line. */
function lines(h: Harness): LogLine[] {
  return h.logs
    .join('')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogLine);
}

/** The real app on a loopback port, logging through createLogger into a stream the test reads. */
const startLogged = (env: TempEnv): Promise<Harness> => startServer(env.env, env.root, undefined, 'debug');

function requestLine(h: Harness, requestId: string): LogLine {
  const found = lines(h).filter((l) => l.msg === 'request' && l.request_id === requestId);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('structured request logs', () => {
  let env: TempEnv;
  let fake: AnthropicFake;
  let h: Harness;

  beforeAll(async () => {
    fake = await startAnthropicFake();
    env = tempEnv({ 'guides/backups.md': '# Backups\n\nCreate a Qdrant snapshot every night and keep seven days of archives.\n' });
    env.env.ANTHROPIC_BASE_URL = fake.url;
    h = await startLogged(env);
    expect((await postJson(`${h.url}/api/library/index`, { all: true })).status).toBe(200);
  });

  beforeEach(() => {
    h.logs.length = 0;
  });

  afterAll(async () => {
    await h?.close();
    await fake?.close();
    env?.cleanup();
  });

  it('echoes a sane incoming request id and logs one line per request', async () => {
    const res = await fetch(`${h.url}/api/library/stats`, { headers: { 'x-request-id': 'trace-4f2a.b_9:c' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('trace-4f2a.b_9:c');
    const line = requestLine(h, 'trace-4f2a.b_9:c');
    expect(line).toMatchObject({ level: 30, method: 'GET', route: '/api/library/stats', path: '/api/library/stats', status: 200, developer: 'local' });
    expect(typeof line.duration_ms).toBe('number');
    expect(line.duration_ms as number).toBeGreaterThanOrEqual(0);
  });

  it('echoes the id on a response its handler built itself (the MCP transport)', async () => {
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'test', version: '1' } } };
    const res = await fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-request-id': 'mcp-init-1' },
      body: JSON.stringify(initialize),
    });
    await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('mcp-init-1');
    expect(requestLine(h, 'mcp-init-1')).toMatchObject({ route: '/mcp', status: 200 });
  });

  it('replaces an unusable request id with its own', async () => {
    const res = await fetch(`${h.url}/api/library/stats`, { headers: { 'x-request-id': 'two words "quoted" <script>' } });
    const id = res.headers.get('x-request-id') ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestLine(h, id).status).toBe(200);
    expect(h.logs.join('')).not.toContain('<script>');

    const generated = await fetch(`${h.url}/api/library/stats`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.headers.get('x-request-id')).not.toBe(id);
  });

  it('logs the route pattern, and refused or unknown requests too', async () => {
    const missing = await fetch(`${h.url}/api/conversations/0123456789abcdef`, { headers: { 'x-request-id': 'conv-404' } });
    expect(missing.status).toBe(404);
    expect(requestLine(h, 'conv-404')).toMatchObject({ level: 40, route: '/api/conversations/:id', path: '/api/conversations/0123456789abcdef', status: 404 });

    const unknown = await fetch(`${h.url}/nowhere`, { headers: { 'x-request-id': 'no-route' } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-request-id')).toBe('no-route');
    // Outside /api, auth never ran: no developer.
    expect(requestLine(h, 'no-route')).toMatchObject({ route: 'unmatched', status: 404, developer: null });
  });

  it('keeps probes and scrapes at debug level', async () => {
    await fetch(`${h.url}/health`, { headers: { 'x-request-id': 'probe-1' } });
    await fetch(`${h.url}/metrics`, { headers: { 'x-request-id': 'scrape-1' } });
    expect(requestLine(h, 'probe-1')).toMatchObject({ level: 20, route: '/health' });
    expect(requestLine(h, 'scrape-1')).toMatchObject({ level: 20, route: '/metrics' });
  });

  it('logs a failure with its request id, and lines logged deep inside the request carry it too', async () => {
    const spy = vi.spyOn(h.services.search, 'search').mockImplementationOnce(async () => {
      // After an await, as a service's own log line would be: the request's context must survive it.
      await new Promise((r) => setTimeout(r, 5));
      h.logger.info('deep inside the search');
      throw new Error('index exploded');
    });
    try {
      const res = await postJson(`${h.url}/api/query/search`, { query: 'snapshot' }, { 'x-request-id': 'boom-1' });
      expect(res.status).toBe(500);
      expect(JSON.stringify(res.json)).not.toContain('index exploded');
    } finally {
      spy.mockRestore();
    }
    expect(lines(h).find((l) => l.msg === 'deep inside the search')).toMatchObject({ request_id: 'boom-1' });
    const failure = lines(h).find((l) => l.msg === 'request failed');
    expect(failure).toMatchObject({ level: 50, request_id: 'boom-1', route: '/api/query/search' });
    expect(JSON.stringify(failure)).toContain('index exploded');
    expect(requestLine(h, 'boom-1')).toMatchObject({ level: 50, status: 500, route: '/api/query/search' });
  });

  it('logs a 5xx DomainError (an embedder outage) as one warning with its code and message, no stack', async () => {
    const spy = vi.spyOn(h.services.search, 'search').mockRejectedValueOnce(
      new EmbedderRequestError('Cannot reach Mistral at https://api.mistral.ai: ECONNREFUSED; check the network', null, true),
    );
    try {
      const res = await postJson(`${h.url}/api/query/search`, { query: 'snapshot' }, { 'x-request-id': 'down-1' });
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({ error: { code: 'embedder_unavailable' } });
    } finally {
      spy.mockRestore();
    }
    const failure = lines(h).find((l) => l.msg === 'request failed');
    expect(failure).toMatchObject({
      level: 40,
      request_id: 'down-1',
      route: '/api/query/search',
      code: 'embedder_unavailable',
      message: 'Cannot reach Mistral at https://api.mistral.ai: ECONNREFUSED; check the network',
    });
    expect(failure).not.toHaveProperty('err');
  });

  it('never writes the Authorization or Anthropic key headers', async () => {
    const res = await postJson(
      `${h.url}/api/query/ask`,
      { question: 'How long are snapshot archives kept?' },
      { authorization: `Bearer ${SERVER_TOKEN}`, 'x-anthropic-api-key': ANTHROPIC_KEY, 'x-request-id': 'secret-ask' },
    );
    expect(res.status).toBe(200);
    expect((res.json as AskResponse).mode).toBe('claude');
    // The key did travel: to Anthropic, and nowhere else.
    expect(JSON.stringify(fake.requests.at(-1)?.headers)).toContain(ANTHROPIC_KEY);
    expect(requestLine(h, 'secret-ask')).toMatchObject({ route: '/api/query/ask', status: 200 });

    // Whatever a future log call passes along, at any depth, in either spelling.
    h.logger.warn(
      {
        authorization: `Bearer ${SERVER_TOKEN}`,
        headers: { authorization: `Bearer ${SERVER_TOKEN}`, 'x-anthropic-api-key': ANTHROPIC_KEY },
        req: { headers: { Authorization: `Bearer ${SERVER_TOKEN}`, 'X-Anthropic-Api-Key': ANTHROPIC_KEY } },
        err: { config: { request: { headers: { authorization: `Bearer ${SERVER_TOKEN}`, 'x-anthropic-api-key': ANTHROPIC_KEY } } } },
      },
      'headers seen',
    );
    const all = h.logs.join('');
    expect(all).toContain('headers seen');
    expect(all).toContain('[redacted]');
    expect(all).not.toContain(SERVER_TOKEN);
    expect(all).not.toContain(ANTHROPIC_KEY);
  });
});
