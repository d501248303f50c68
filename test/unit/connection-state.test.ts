import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HealthResponse, StatsResponse } from '../../shared/api-types.js';
import { ApiClient, SECRET_SERVER_TOKEN, type SecretName } from '../../extension/api-client.js';
import { ConnectionMonitor, ConnectionState, type ConnectionSnapshot } from '../../extension/connection-state.js';
import { tokenReason } from '../../extension/errors.js';

/**
 * A tiny AI Library stand-in over real HTTP: /health is open (as on the real
 * server), /api/* needs the bearer token once `token` is set.
 */
interface Behaviour {
  token: string | null;
  points: number;
  indexing: { done: number; total: number } | null;
  /** Status and message for every /api answer instead of the normal one. */
  apiFailure: { status: number; code: string; message: string } | null;
  healthStatus: number;
}

const SERVER_401 = 'this server needs a token: set a token with "AI Library: Set Server Token" or send Authorization: Bearer <token>';

function health(b: Behaviour): HealthResponse {
  return {
    status: 'ok',
    version: '1.2.3',
    store: { kind: 'sqlite', points: b.points },
    embedder: { id: 'local' },
    indexing: {
      state: b.indexing ? 'running' : 'done',
      files_total: b.indexing?.total ?? 0,
      files_done: b.indexing?.done ?? 0,
      current: b.indexing ? 'guides/a.md' : null,
      started_at: null,
      finished_at: null,
      summary: null,
      error: null,
    },
  };
}

function stats(b: Behaviour): StatsResponse {
  return {
    points_count: b.points,
    documents: 7,
    by_content_type: {},
    by_taxonomy: {},
    by_contributor: {},
    embedder: { id: 'local', dimension: 384 },
    store: { kind: 'sqlite', location: '/tmp/data' },
    last_indexed_at: null,
  };
}

describe('ConnectionState with ConnectionMonitor, against a real local HTTP server', () => {
  let server: Server;
  let port = 0;
  let behaviour: Behaviour;
  let requests: string[];
  const secrets = new Map<SecretName, string>();
  const disposables: Array<{ dispose(): void }> = [];

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    requests.push(url);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url === '/health') return json(behaviour.healthStatus, health(behaviour));
    if (behaviour.token !== null && req.headers.authorization !== `Bearer ${behaviour.token}`) {
      return json(401, { error: { code: 'unauthorized', message: SERVER_401 } });
    }
    if (behaviour.apiFailure) return json(behaviour.apiFailure.status, { error: { code: behaviour.apiFailure.code, message: behaviour.apiFailure.message } });
    if (url === '/api/library/stats') return json(200, stats(behaviour));
    if (url.startsWith('/api/library/taxonomy')) return json(200, { categories: [], total_documents: 0 });
    return json(404, { error: { code: 'no_route', message: `no route ${url}` } });
  };

  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server = createServer(handle);
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  beforeEach(async () => {
    behaviour = { token: null, points: 123, indexing: null, apiFailure: null, healthStatus: 200 };
    requests = [];
    secrets.clear();
    await listen(0);
  });

  afterEach(async () => {
    for (const d of disposables.splice(0)) d.dispose();
    if (server.listening) await stop();
  });

  function wire(intervals = { connectedMs: 60_000, troubleMs: 60_000, indexingMs: 60_000, needsTokenMs: 60_000 }) {
    const url = () => `http://127.0.0.1:${port}`;
    const state = new ConnectionState(url);
    const client = new ApiClient({
      settings: () => ({ serverUrl: url(), timeoutMs: 2000 }),
      secret: async (name) => secrets.get(name),
      observe: (o) => state.observe(o),
    });
    const monitor = new ConnectionMonitor(client, state, intervals);
    const seen: ConnectionSnapshot[] = [];
    disposables.push(monitor, state.onDidChange((s) => seen.push(s)));
    return { state, client, monitor, seen };
  }

  async function until(what: string, probe: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('is "checking" until a check has seen /health and an /api answer, then "connected" with the chunk count', async () => {
    const { state, monitor } = wire();
    expect(state.current.kind).toBe('checking');
    await monitor.check();
    expect(state.current).toMatchObject({ kind: 'connected', chunks: 123, documents: 7, version: '1.2.3', reason: null });
    expect(requests).toEqual(['/health', '/api/library/stats']);
  });

  it('a 401 makes it "needs token", never "connected", although /health answers 200; a set token makes it connected', async () => {
    behaviour.token = 'ail_secret';
    const { state, monitor, seen } = wire();
    await monitor.check();
    expect(state.current.kind).toBe('needsToken');
    expect(state.current.reason).toBe('this server needs a token');
    expect(seen.map((s) => s.kind)).not.toContain('connected');

    secrets.set(SECRET_SERVER_TOKEN, 'ail_secret');
    state.resetAccess();
    await monitor.check();
    expect(state.current.kind).toBe('connected');
  });

  it('any request that fails to connect makes it "unreachable" at once, and the periodic check brings it back after a restart', async () => {
    const { state, client, monitor } = wire({ connectedMs: 60_000, troubleMs: 100, indexingMs: 60_000, needsTokenMs: 60_000 });
    await monitor.check();
    expect(state.current.kind).toBe('connected');
    const oldPort = port;
    await stop();
    // A question or an index request, not the monitor, meets the stopped server.
    await client.taxonomy().catch(() => undefined);
    expect(state.current.kind).toBe('unreachable');
    expect(state.current.reason).toContain(`not reachable at http://127.0.0.1:${oldPort}`);

    await listen(oldPort);
    await until('the monitor to find the server again', () => state.current.kind === 'connected', 3000);
    expect(state.current.chunks).toBe(123);
  });

  it('a 5xx that is not about Claude is "server error"; the next success clears it', async () => {
    const { state, client, monitor } = wire();
    await monitor.check();
    behaviour.apiFailure = { status: 500, code: 'internal', message: 'the store failed: disk I/O error' };
    await client.taxonomy().catch(() => undefined);
    expect(state.current).toMatchObject({ kind: 'serverError', reason: 'the store failed: disk I/O error' });
    behaviour.apiFailure = null;
    await client.taxonomy();
    expect(state.current.kind).toBe('connected');
  });

  it('a refused Anthropic key or a 404 proves the server is up and lets us in', async () => {
    const { state, client, monitor } = wire();
    await monitor.check();
    behaviour.apiFailure = { status: 401, code: 'anthropic_unauthorized', message: 'Anthropic rejected the API key' };
    await client.taxonomy().catch(() => undefined);
    expect(state.current.kind).toBe('connected');
    behaviour.apiFailure = null;
    await client.document('nope.md').catch(() => undefined);
    expect(state.current.kind).toBe('connected');
  });

  it('shows the server\'s indexing n/N, and this window\'s own upload over it', async () => {
    behaviour.indexing = { done: 3, total: 10 };
    const { state, monitor } = wire();
    await monitor.check();
    expect(state.current).toMatchObject({ kind: 'indexing', indexing: { done: 3, total: 10, current: 'guides/a.md', local: false } });
    state.setLocalIndexing({ done: 1, total: 2 });
    expect(state.current.indexing).toMatchObject({ done: 1, total: 2, local: true });
    behaviour.indexing = null;
    state.setLocalIndexing(null);
    await monitor.check();
    expect(state.current.kind).toBe('connected');
  });

  it('a /health 503 (store or embedder down) is "server error"', async () => {
    behaviour.healthStatus = 503;
    const { state, monitor } = wire();
    await monitor.check();
    expect(state.current.kind).toBe('serverError');
    expect(requests).toEqual(['/health']);
  });

  it('reschedules its check fast as soon as any request finds the server gone', async () => {
    const { state, client, monitor } = wire({ connectedMs: 60_000, troubleMs: 100, indexingMs: 60_000, needsTokenMs: 60_000 });
    await monitor.check();
    const before = requests.length;
    behaviour.apiFailure = { status: 502, code: 'bad_gateway', message: 'upstream broke' };
    await client.taxonomy().catch(() => undefined);
    behaviour.apiFailure = null;
    // The 60 s "connected" timer was replaced by the 100 ms one.
    await until('a check within the trouble interval', () => requests.slice(before + 1).includes('/health'), 2000);
    await until('connected again', () => state.current.kind === 'connected', 2000);
  });

  it('fires onDidChange only when what it shows changes', async () => {
    const { monitor, seen } = wire();
    await monitor.check();
    const count = seen.length;
    await monitor.check();
    expect(seen.length).toBe(count);
  });

  it('tokenReason drops the server\'s "set a token with …" hint', () => {
    expect(tokenReason(SERVER_401)).toBe('this server needs a token');
    expect(tokenReason('the token was not accepted (mistyped, revoked or from another server): set a token with "AI Library: Set Server Token" or send Authorization: Bearer <token>')).toBe(
      'the token was not accepted (mistyped, revoked or from another server)',
    );
    expect(tokenReason('missing or invalid bearer token')).toBe('missing or invalid bearer token');
  });
});
