import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

interface RawReply {
  status: number;
  json: any;
}

/** node:http rather than fetch: fetch may not set Host, and a rebinding attacker's browser does. */
function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown }): Promise<RawReply> {
  const target = new URL(url);
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('no-token mode refuses browsers of other sites and foreign Host names (issue 12, defect 4)', () => {
  let env: TempEnv;
  let server: RunningServer;
  let port: string;

  beforeAll(async () => {
    env = tempEnv({ 'guides/a.md': '# A\n\nSnapshots are taken nightly.\n' });
    server = await startServer(env.env, env.root);
    port = new URL(server.url).port;
  });

  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  it('refuses a cross-site POST (a web page on evil.example) with 403 before it creates anything', async () => {
    const before = await raw(`${server.url}/api/admin/snapshots`, {});
    const reply = await raw(`${server.url}/api/admin/snapshots`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: {} });
    expect(reply.status).toBe(403);
    expect(reply.json.error.code).toBe('forbidden_origin');
    expect(reply.json.error.message).toContain('https://evil.example');
    expect(reply.json.error.message).toContain('npm run token -- create');
    const after = await raw(`${server.url}/api/admin/snapshots`, {});
    expect(after.json).toEqual(before.json);
    const upload = await raw(`${server.url}/api/library/index`, {
      headers: { origin: 'null' },
      body: { file_path: 'x.md', content: '# X\n\nplanted\n' },
    });
    expect(upload.status).toBe(403);
    expect(await server.services.store.getFile('contributed/x.md')).toBeNull();
  });

  it('refuses a DNS-rebinding Host (evil.example:PORT, right port) with 421, also for reads', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`]) {
      const reply = await raw(`${server.url}/api/library/stats`, { headers: { host } });
      expect(reply.status, host).toBe(421);
      expect(reply.json.error.code).toBe('misdirected_request');
      expect(reply.json.error.message).toContain(`127.0.0.1:${port}`);
    }
    const wrongPort = await raw(`${server.url}/api/library/stats`, { headers: { host: `localhost:${Number(port) + 1}` } });
    expect(wrongPort.status).toBe(421);
  });

  it('serves curl-like clients: loopback names with the right port, no Origin, or an allowed one', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect((await raw(`${server.url}/api/library/stats`, { headers: { host } })).status, host).toBe(200);
    }
    expect((await raw(`${server.url}/api/query/search`, { body: { query: 'snapshots' } })).status).toBe(200);
    // api.cors_origins is the operator's list of trusted pages (configs/settings.yaml).
    expect((await raw(`${server.url}/api/library/stats`, { headers: { origin: 'http://localhost:5173' } })).status).toBe(200);
    expect((await raw(`${server.url}/api/library/stats`, { headers: { origin: `http://127.0.0.1:${port}` } })).status).toBe(200);
    // /health stays open to load balancers that name the server by another name.
    expect((await raw(`${server.url}/health`, { headers: { host: `evil.example:${port}` } })).status).not.toBe(421);
  });

  it('steps aside once tokens exist: the bearer token is the protection then', async () => {
    const token = server.services.tokens.create('alice', { admin: false }).token;
    try {
      const reply = await raw(`${server.url}/api/library/stats`, {
        headers: { host: `ai-library.team.example:${port}`, origin: 'https://tools.team.example', authorization: `Bearer ${token}` },
      });
      expect(reply.status).toBe(200);
    } finally {
      server.services.tokens.revoke('alice');
    }
  });
});
