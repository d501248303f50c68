import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AskResponse, DocumentSummary, IndexResponse, SearchResponse, StatsResponse, TaxonomyResponse, TaxonomyTreeNode } from '../../shared/api-types.js';
import { createApp } from '../../server/app.js';
import { exposureRefusal, isLoopbackAddress, isLoopbackHost } from '../../server/auth/middleware.js';
import { TokenStore } from '../../server/auth/token-store.js';
import { registerTokenCommand } from '../../server/cli/token-command.js';
import { createLogger } from '../../server/logger.js';
import { readReply, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const DOCS: Record<string, string> = {
  'guides/auth.md': '# Authentication\n\nEvery developer gets a personal server token for the bearer header.\n',
  'guides/backups.md': '# Backups\n\nCreate a snapshot every night and keep seven days of archives.\n',
};

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Every body and header the server sent, to prove no token ever comes back. */
const seen: string[] = [];

async function call(url: string, init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const reply = await readReply(res);
  seen.push(reply.text, JSON.stringify([...res.headers.entries()]));
  return reply;
}

function allDocuments(nodes: TaxonomyTreeNode[]): DocumentSummary[] {
  return nodes.flatMap((n) => [...n.documents, ...allDocuments(n.children)]);
}

function filesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesIn(p) : [p];
  });
}

describe('server tokens, roles and contributors', () => {
  let env: TempEnv;
  let server: RunningServer;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    env = tempEnv(DOCS);
    server = await startServer(env.env, env.root);
  });

  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  describe('with no tokens', () => {
    it('runs every request as the local developer, who is an admin', async () => {
      const index = await call(`${server.url}/api/library/index`, { body: { all: true } });
      expect(index.status).toBe(200);
      expect((index.json as IndexResponse).summary.indexed).toBe(2);
      const upload = await call(`${server.url}/api/library/index`, { body: { file_path: 'notes.md', content: '# Notes\n\nLocal notes about the zanzibar deploy.\n', workspace: 'mine' } });
      expect(upload.status).toBe(200);
      expect((await server.services.store.getFile('contributed/mine/notes.md'))?.contributor).toBe('local');
    });

    it('answers only its own machine: a remote peer gets 401, a loopback peer is local', async () => {
      const app = createApp(server.services, createLogger('silent'));
      const remote = await app.request('/api/library/stats', {}, { incoming: { socket: { remoteAddress: '203.0.113.9' } } });
      expect(remote.status).toBe(401);
      expect(((await remote.json()) as { error: { message: string } }).error.message).toContain('npm run token -- create <name>');
      const mapped = await app.request('/api/library/stats', {}, { incoming: { socket: { remoteAddress: '::ffff:127.0.0.1' } } });
      expect(mapped.status).toBe(200);
    });
  });

  describe('with tokens', () => {
    beforeAll(() => {
      // As `npm run token -- create` does: another connection to the same file, seen by the running server.
      const cli = TokenStore.open(env.env.DATA_DIR!);
      try {
        tokens.alice = cli.create('alice').token;
      } finally {
        cli.close();
      }
      tokens.bob = server.services.tokens.create('bob').token;
      tokens.ops = server.services.tokens.create('ops', { admin: true }).token;
    });

    it('answers 401 with how to fix it without a token, with a wrong one, or with another scheme', async () => {
      const cases: Array<Record<string, string>> = [{}, { authorization: 'Bearer ail_wrongwrongwrongwrongwrongwrongwrongwrongwro' }, { authorization: `Basic ${tokens.alice}` }, { authorization: 'Bearer' }];
      for (const headers of cases) {
        const res = await call(`${server.url}/api/library/stats`, { headers });
        expect(res.status, JSON.stringify(headers)).toBe(401);
        expect(res.json.error.code).toBe('unauthorized');
        expect(res.json.error.message).toContain('set a token with "AI Library: Set Server Token" or send Authorization: Bearer <token>');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
      const ask = await call(`${server.url}/api/query/ask`, { body: { question: 'backups?' } });
      expect(ask.status).toBe(401);
    });

    it('answers 200 with the right token, in any case of "Bearer"', async () => {
      expect((await call(`${server.url}/api/library/stats`, { token: tokens.alice })).status).toBe(200);
      expect((await call(`${server.url}/api/library/stats`, { headers: { authorization: `bearer ${tokens.bob}` } })).status).toBe(200);
    });

    it('keeps /health open', async () => {
      const res = await call(`${server.url}/health`);
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('ok');
    });

    it('keeps admin routes for admins: snapshots, full re-index', async () => {
      const forbidden = [
        await call(`${server.url}/api/admin/snapshots`, { token: tokens.alice }),
        await call(`${server.url}/api/admin/snapshots`, { token: tokens.alice, method: 'POST' }),
        await call(`${server.url}/api/library/index`, { token: tokens.alice, body: { all: true } }),
        await call(`${server.url}/api/library/index`, { token: tokens.alice, body: { path: '.' } }),
      ];
      for (const res of forbidden) {
        expect(res.status).toBe(403);
        expect(res.json.error.code).toBe('forbidden');
        expect(res.json.error.message).toMatch(/needs an admin token, and "alice" is not an admin/);
      }
      const list = await call(`${server.url}/api/admin/snapshots`, { token: tokens.ops });
      expect(list.status).toBe(200);
      expect(Array.isArray(list.json.snapshots)).toBe(true);
      const all = await call(`${server.url}/api/library/index`, { token: tokens.ops, body: { all: true } });
      expect(all.status).toBe(200);
      expect((all.json as IndexResponse).summary.failed).toBe(0);
    });

    it('lets a developer index a folder (not the whole library)', async () => {
      const res = await call(`${server.url}/api/library/index`, { token: tokens.alice, body: { path: 'guides' } });
      expect(res.status).toBe(200);
    });

    it('records the contributor of uploads, in stats and in the taxonomy', async () => {
      const a = await call(`${server.url}/api/library/index`, {
        token: tokens.alice,
        body: { file_path: 'runbook.md', content: '# Runbook\n\nRestart the frobnicator with systemctl restart frobnicator.\n', workspace: 'payments' },
      });
      expect(a.status).toBe(200);
      expect(a.json.files[0]).toMatchObject({ file_path: 'contributed/payments/runbook.md', status: 'indexed' });
      const b = await call(`${server.url}/api/library/index`, {
        token: tokens.bob,
        body: { file_path: 'oncall.md', content: '# On call\n\nPage the quokka rotation before touching the database.\n', workspace: 'payments' },
      });
      expect(b.status).toBe(200);

      const stats = await call(`${server.url}/api/library/stats`, { token: tokens.bob });
      const byContributor = (stats.json as StatsResponse).by_contributor;
      expect(byContributor).toEqual({ alice: 1, bob: 1, local: 1, '(unattributed)': 2 });
      expect(Object.values(byContributor).reduce((x, y) => x + y, 0)).toBe((stats.json as StatsResponse).documents);

      const tree = await call(`${server.url}/api/library/taxonomy`, { token: tokens.bob });
      const docs = allDocuments((tree.json as TaxonomyResponse).categories);
      expect(docs.find((d) => d.file_path === 'contributed/payments/runbook.md')?.contributor).toBe('alice');
      expect(docs.find((d) => d.file_path === 'contributed/payments/oncall.md')?.contributor).toBe('bob');
      expect(docs.find((d) => d.file_path === 'guides/auth.md')?.contributor).toBeNull();
    });

    it("refuses to let one developer replace or delete another's document", async () => {
      const overwrite = await call(`${server.url}/api/library/index`, {
        token: tokens.bob,
        body: { file_path: 'runbook.md', content: '', workspace: 'payments' },
      });
      expect(overwrite.status).toBe(403);
      expect(overwrite.json.error.message).toContain('was contributed by "alice"');
      const del = await call(`${server.url}/api/library/documents?path=contributed/payments/runbook.md`, { token: tokens.bob, method: 'DELETE' });
      expect(del.status).toBe(403);
      expect(del.json.error.message).toBe('path: "contributed/payments/runbook.md" was contributed by "alice"; only its contributor or an admin may delete it');
      const libraryFile = await call(`${server.url}/api/library/documents?path=guides/auth.md`, { token: tokens.bob, method: 'DELETE' });
      expect(libraryFile.status).toBe(403);
      const search = await call(`${server.url}/api/query/search`, { token: tokens.bob, body: { query: 'frobnicator' } });
      expect((search.json as SearchResponse).results[0]?.file_path).toBe('contributed/payments/runbook.md');
      expect(existsSync(path.join(env.library, 'contributed/payments/runbook.md'))).toBe(true);
    });

    it('lets the contributor delete their own document: gone from search, the tree and disk', async () => {
      const abs = path.join(env.library, 'contributed/payments/runbook.md');
      const del = await call(`${server.url}/api/library/documents?path=contributed/payments/runbook.md`, { token: tokens.alice, method: 'DELETE' });
      expect(del.status).toBe(200);
      expect(del.json).toEqual({ deleted: 'contributed/payments/runbook.md', chunks: 1 });
      expect(existsSync(abs)).toBe(false);
      const search = await call(`${server.url}/api/query/search`, { token: tokens.alice, body: { query: 'frobnicator' } });
      expect((search.json as SearchResponse).results.map((r) => r.file_path)).not.toContain('contributed/payments/runbook.md');
      const doc = await call(`${server.url}/api/library/documents?path=contributed/payments/runbook.md`, { token: tokens.alice });
      expect(doc.status).toBe(404);
      const again = await call(`${server.url}/api/library/documents?path=contributed/payments/runbook.md`, { token: tokens.alice, method: 'DELETE' });
      expect(again.status).toBe(404);
    });

    it("lets an admin delete anyone's document", async () => {
      const del = await call(`${server.url}/api/library/documents?path=contributed/payments/oncall.md`, { token: tokens.ops, method: 'DELETE' });
      expect(del.status).toBe(200);
      expect(existsSync(path.join(env.library, 'contributed/payments/oncall.md'))).toBe(false);
      expect(await server.services.store.getFile('contributed/payments/oncall.md')).toBeNull();
    });

    it('keeps conversations per developer', async () => {
      const asked = await call(`${server.url}/api/query/ask`, { token: tokens.alice, body: { question: 'How long are backup archives kept?' } });
      expect(asked.status).toBe(200);
      const id = (asked.json as AskResponse).conversation_id;
      expect(existsSync(path.join(env.env.SESSIONS_PATH!, 'alice', `${id}.json`))).toBe(true);
      expect((await call(`${server.url}/api/conversations/${id}`, { token: tokens.alice })).status).toBe(200);
      expect((await call(`${server.url}/api/conversations/${id}`, { token: tokens.bob })).status).toBe(404);
      const bobs = await call(`${server.url}/api/conversations`, { token: tokens.bob });
      expect(bobs.json.conversations).toEqual([]);
      expect((await call(`${server.url}/api/conversations/${id}`, { token: tokens.bob, method: 'DELETE' })).status).toBe(404);
      expect((await call(`${server.url}/api/conversations`, { token: tokens.alice })).json.conversations).toHaveLength(1);
    });

    it('treats its own tokens as secrets: an upload holding one is refused (422), a file on disk skipped, neither searchable', async () => {
      const reason = /^secret-looking: contains an AI Library server token/;
      const content = `# Deploy bot\n\nThe zanzibar deploy bot authenticates with Authorization: Bearer ${tokens.ops}\n`;
      const upload = await call(`${server.url}/api/library/index`, {
        token: tokens.alice,
        body: { file_path: 'deploy-bot.md', content, workspace: 'payments' },
      });
      expect(upload.status).toBe(422);
      expect(upload.json.error.message).toMatch(/secret-looking: contains an AI Library server token.*not stored/);
      expect(existsSync(path.join(env.library, 'contributed/payments/deploy-bot.md'))).toBe(false);
      // The same text put on disk by hand and picked up by a re-index.
      writeFileSync(path.join(env.library, 'guides/deploy-bot.md'), content);
      const indexed = await call(`${server.url}/api/library/index`, { token: tokens.ops, body: { path: 'guides' } });
      expect(indexed.json.files.find((f: { file_path: string }) => f.file_path === 'guides/deploy-bot.md')).toMatchObject({
        status: 'skipped',
        reason: expect.stringMatching(reason),
      });
      expect(await server.services.store.getFile('guides/deploy-bot.md')).toBeNull();
      const search = await call(`${server.url}/api/query/search`, { token: tokens.alice, body: { query: 'zanzibar deploy bot', mode: 'keyword' } });
      expect((search.json as SearchResponse).results.map((r) => r.file_path)).not.toContain('guides/deploy-bot.md');
      rmSync(path.join(env.library, 'guides/deploy-bot.md'));
    });

    it('stops accepting a token as soon as it is revoked (by the CLI, while the server runs)', async () => {
      const cli = TokenStore.open(env.env.DATA_DIR!);
      try {
        expect(cli.revoke('bob')).toBe(true);
      } finally {
        cli.close();
      }
      const res = await call(`${server.url}/api/library/stats`, { token: tokens.bob });
      expect(res.status).toBe(401);
      expect((await call(`${server.url}/api/library/stats`, { token: tokens.alice })).status).toBe(200);
    });

    it('never sends a token back, nor writes one to the data or sessions folders', () => {
      expect(seen.length).toBeGreaterThan(20);
      const secrets = Object.values(tokens);
      expect(secrets).toHaveLength(3);
      for (const secret of secrets) {
        for (const text of seen) expect(text.includes(secret)).toBe(false);
      }
      const files = [...filesIn(env.env.DATA_DIR!), ...filesIn(env.env.SESSIONS_PATH!)];
      expect(files.some((f) => f.endsWith('tokens.sqlite'))).toBe(true);
      for (const file of files) {
        const bytes = readFileSync(file);
        for (const secret of secrets) expect(bytes.includes(secret), file).toBe(false);
      }
    });
  });

  describe('npm run token', () => {
    const saved = { ...process.env };
    let out: string[];
    let err: string[];

    async function run(...args: string[]): Promise<number> {
      out = [];
      err = [];
      const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
      const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
      try {
        const program = new Command('ai-library').exitOverride();
        registerTokenCommand(program);
        process.exitCode = 0;
        await program.parseAsync(['node', 'cli', 'token', ...args]);
        return Number(process.exitCode ?? 0);
      } finally {
        log.mockRestore();
        error.mockRestore();
        process.exitCode = 0;
      }
    }

    beforeAll(() => {
      Object.assign(process.env, env.env);
    });

    afterEach(() => {
      process.exitCode = 0;
    });

    afterAll(() => {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    });

    it('create prints the token once, on its own line, and the server accepts it', async () => {
      expect(await run('create', 'dave')).toBe(0);
      expect(out).toHaveLength(1);
      const token = out[0]!;
      expect(token).toMatch(/^ail_[A-Za-z0-9_-]{43}$/);
      expect(err.join('\n')).not.toContain(token);
      expect(err.join('\n')).toContain('AI Library: Set Server Token');
      expect((await call(`${server.url}/api/library/stats`, { token })).status).toBe(200);
      tokens.dave = token;
    });

    it('list shows name, role, created and last used, never a token', async () => {
      expect(await run('list')).toBe(0);
      const text = out.join('\n');
      expect(text).toMatch(/^NAME\s+ROLE\s+CREATED\s+LAST USED/);
      expect(text).toMatch(/^alice\s+developer\s+\d{4}-\d\d-\d\dT\S+\s+\d{4}-/m);
      expect(text).toMatch(/^ops\s+admin\s/m);
      expect(text).toMatch(/^dave\s+developer\s/m);
      expect(text).not.toMatch(/^bob\s/m);
      for (const secret of Object.values(tokens)) expect(text + err.join('\n')).not.toContain(secret);
      expect(text).not.toContain('ail_');
    });

    it('revoke removes the token; an unknown name is an error that says what to do', async () => {
      expect(await run('revoke', 'dave')).toBe(0);
      expect((await call(`${server.url}/api/library/stats`, { token: tokens.dave! })).status).toBe(401);
      expect(await run('revoke', 'dave')).toBe(1);
      expect(err.join('\n')).toContain('no token named "dave"; see "npm run token -- list"');
      expect(await run('create', 'not ok')).toBe(1);
      expect(err.join('\n')).toContain('must be 1-64 letters');
    });
  });
});

describe('refusing to expose an open server', () => {
  it('refuses a non-loopback host with no tokens, with the command to fix it', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'library.internal.example']) {
      const message = exposureRefusal(host, 0);
      expect(message, host).toContain('npm run token -- create <name>');
      expect(message).not.toContain('\n');
    }
  });

  it('allows loopback hosts without tokens, and any host with tokens', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.1.1']) expect(exposureRefusal(host, 0), host).toBeNull();
    expect(exposureRefusal('0.0.0.0', 1)).toBeNull();
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });

  it('tells loopback peers from remote ones, including IPv4-mapped addresses', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('::ffff:10.0.0.1')).toBe(false);
    expect(isLoopbackAddress('10.127.0.1')).toBe(false);
    expect(isLoopbackAddress('1127.0.0.1')).toBe(false);
  });
});
