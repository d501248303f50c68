import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import { MistralFake } from '../fakes/mistral-fake.js';
import { readReply, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const DOCS: Record<string, string> = {
  'guides/deploy.md':
    '# Deploying\n\n## Schedule\n\nThe zanzibar deploy runs every Tuesday from the release branch.\nRollbacks use the previous image tag.\n\n## Checks\n\nSmoke tests must pass before traffic moves.\n',
  'guides/backups.md': '# Backups\n\nSnapshots are taken nightly and archives are kept for seven days.\n',
  'src/retry.ts': 'export function retry<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {\n  return fn().catch((e) => (attempts > 1 ? retry(fn, attempts - 1) : Promise.reject(e)));\n}\n',
};

async function connect(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'ai-library-test', version: '1.0.0' });
  const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult & { text: string }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const first = result.content[0];
  return { ...result, text: first?.type === 'text' ? first.text : '' };
}

describe('the MCP server at /mcp (issue 16)', () => {
  let env: TempEnv;
  let server: RunningServer;
  const tokens: Record<string, string> = {};
  const clients: Client[] = [];
  const as = async (who: string) => {
    const c = await connect(server.url, tokens[who]);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    env = tempEnv(DOCS);
    server = await startServer(env.env, env.root, (config) => {
      config.settings.limits.asks_per_minute = 1;
    });
    await server.services.indexer.indexAll();
    for (const name of ['alice', 'bob', 'carol']) tokens[name] = server.services.tokens.create(name).token;
    tokens.admin = server.services.tokens.create('admin', { admin: true }).token;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
    env?.cleanup();
  });

  it('lists the six tools with JSON schemas and descriptions an agent can act on', async () => {
    const client = await as('alice');
    expect(client.getServerVersion()?.name).toBe('ai-library');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['ask_library', 'find_similar', 'get_document', 'index_text', 'list_taxonomy', 'search_library']);
    const search = tools.find((t) => t.name === 'search_library');
    expect(Object.keys(search?.inputSchema.properties ?? {}).sort()).toEqual(['filters', 'mode', 'n_results', 'query']);
    expect(search?.inputSchema.required).toEqual(['query']);
    expect(JSON.stringify(search?.inputSchema.properties?.mode)).toContain('keyword');
    expect(search?.annotations?.readOnlyHint).toBe(true);
    for (const t of tools) expect(t.description?.length, t.name).toBeGreaterThan(80);
    const index = tools.find((t) => t.name === 'index_text');
    expect(index?.description).toContain('library/contributed/<workspace>/<file_path>');
    expect(Object.keys(index?.inputSchema.properties ?? {}).sort()).toEqual(['content', 'file_path', 'workspace']);
  });

  it('search_library and find_similar return passages with path, section and lines', async () => {
    const client = await as('alice');
    const res = await call(client, 'search_library', { query: 'when does the zanzibar deploy run', n_results: 3 });
    expect(res.isError).toBeFalsy();
    const top = (res.structuredContent as { results: Array<{ id: string; file_path: string; section: string; start_line: number; end_line: number }> }).results[0];
    expect(top?.file_path).toBe('guides/deploy.md');
    expect(top?.section).toContain('Deploying');
    expect(top?.start_line).toBeGreaterThan(0);
    expect(res.text).toContain(`guides/deploy.md:${top?.start_line}-${top?.end_line} § ${top?.section}`);
    const similar = await call(client, 'find_similar', { id: top?.id, n_results: 2 });
    expect(similar.isError).toBeFalsy();
    expect((similar.structuredContent as { results: unknown[] }).results.length).toBeGreaterThan(0);
    const byText = await call(client, 'find_similar', { text: 'retry a promise a few attempts', exclude_file_path: 'guides/' });
    expect(byText.text).toContain('src/retry.ts:');
  });

  it('get_document returns a document or a line range; list_taxonomy lists what is filed', async () => {
    const client = await as('alice');
    const whole = await call(client, 'get_document', { path: 'guides/deploy.md' });
    expect(whole.isError).toBeFalsy();
    expect(whole.text).toContain('The zanzibar deploy runs every Tuesday');
    const range = await call(client, 'get_document', { path: 'guides/deploy.md', start_line: 5, end_line: 6 });
    expect(range.structuredContent).toMatchObject({ content: 'The zanzibar deploy runs every Tuesday from the release branch.\nRollbacks use the previous image tag.', start_line: 5, end_line: 6, total_lines: 10 });
    const tree = await call(client, 'list_taxonomy', {});
    expect(tree.isError).toBeFalsy();
    expect(tree.text).toContain('guides/backups.md — Backups');
    expect((tree.structuredContent as { total_documents: number }).total_documents).toBe(3);
    const missing = await call(client, 'get_document', { path: 'guides/nope.md' });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain('path: "guides/nope.md" is not indexed');
    expect(missing.text).toContain('HTTP 404');
  });

  it('index_text stores an upload under contributed/<workspace>/ with the caller as contributor; others may not overwrite it', async () => {
    const alice = await as('alice');
    const content = '# On-call\n\nThe quokka rota lists who carries the pager each week.\n';
    const res = await call(alice, 'index_text', { file_path: 'notes/oncall.md', content, workspace: 'team' });
    expect(res.isError).toBeFalsy();
    expect(res.structuredContent).toMatchObject({ file_path: 'contributed/team/notes/oncall.md', status: 'indexed' });
    expect(readFileSync(path.join(env.library, 'contributed/team/notes/oncall.md'), 'utf8')).toBe(content);
    expect((await server.services.store.getFile('contributed/team/notes/oncall.md'))?.contributor).toBe('alice');
    const found = await call(alice, 'search_library', { query: 'quokka rota pager', mode: 'keyword' });
    expect(found.text).toContain('contributed/team/notes/oncall.md:');

    const bob = await as('bob');
    const refused = await call(bob, 'index_text', { file_path: 'notes/oncall.md', content: '# Mine now\n\nbob was here, replacing the rota.\n', workspace: 'team' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('was contributed by "alice"; only they or an admin may replace it');
    expect(refused.text).toContain('HTTP 403 forbidden');
    expect(readFileSync(path.join(env.library, 'contributed/team/notes/oncall.md'), 'utf8')).toBe(content);

    const admin = await as('admin');
    const replaced = await call(admin, 'index_text', { file_path: 'notes/oncall.md', content: '# On-call\n\nThe quokka rota moved to the wiki page.\n', workspace: 'team' });
    expect(replaced.isError).toBeFalsy();
    // Replacing keeps the document's first contributor (as over HTTP).
    expect((await server.services.store.getFile('contributed/team/notes/oncall.md'))?.contributor).toBe('alice');
  });

  it('ask_library answers extractively with cited sources when the server has no Claude key', async () => {
    const alice = await as('alice');
    const res = await call(alice, 'ask_library', { question: 'How long are backup archives kept?' });
    expect(res.isError).toBeFalsy();
    const answer = res.structuredContent as { mode: string; sources: Array<{ file_path: string; start_line: number }>; conversation_id: string };
    expect(answer.mode).toBe('extractive');
    expect(answer.sources.map((s) => s.file_path)).toContain('guides/backups.md');
    expect(res.text).toMatch(/Sources:\n\[1\] \S+:\d+-\d+/);
  });

  it('serves each document as a library:// resource', async () => {
    const client = await as('carol');
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining(['library://guides/deploy.md', 'library://src/retry.ts']));
    const read = await client.readResource({ uri: 'library://guides/backups.md' });
    expect(read.contents[0]).toMatchObject({ uri: 'library://guides/backups.md', mimeType: 'text/markdown', text: DOCS['guides/backups.md'] });
    await expect(client.readResource({ uri: 'library://guides/nope.md' })).rejects.toThrow('path: "guides/nope.md" is not indexed');
  });

  it('answers a bad argument with the HTTP API\'s 400 message naming the field', async () => {
    const client = await as('carol');
    const tooMany = await call(client, 'search_library', { query: 'deploy', n_results: 500 });
    expect(tooMany.isError).toBe(true);
    expect(tooMany.text).toBe('n_results: must be at most 50 (HTTP 400 invalid_request)');
    const noQuery = await call(client, 'search_library', {});
    expect(noQuery.text).toContain('query: is required');
    const both = await call(client, 'find_similar', { text: 'x', id: '0b7a3a2e-5d0c-4f55-9a57-1d1e1c0f7d10' });
    expect(both.text).toContain('text: give exactly one of "text" or "id"');
    const escape = await call(client, 'get_document', { path: '../etc/passwd' });
    expect(escape.text).toContain('path: must stay inside the library');
    const unknown = await call(client, 'list_taxonomy', { depth: 2 });
    expect(unknown.text).toContain('unknown field(s) depth');
    const badWorkspace = await call(client, 'index_text', { file_path: 'a.md', content: '# A\n\nText.\n', workspace: '../up' });
    expect(badWorkspace.text).toContain('workspace: must be 1-64 letters');
    expect(existsSync(path.join(env.library, 'contributed/a.md'))).toBe(false);
  });

  it('refuses a client without a token or with a wrong one (401, saying how to fix it)', async () => {
    await expect(connect(server.url)).rejects.toMatchObject({ code: 401, message: expect.stringContaining('this server needs a token') });
    await expect(connect(server.url, 'ail_not-a-real-token')).rejects.toMatchObject({ code: 401, message: expect.stringContaining('the token was not accepted') });
    const raw = await readReply(await fetch(`${server.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' }));
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('counts tool calls against the same budgets: a second question in a minute is a 429 tool error with when to retry', async () => {
    const bob = await as('bob');
    const first = await call(bob, 'ask_library', { question: 'When does the deploy run?' });
    expect(first.isError).toBeFalsy();
    const second = await call(bob, 'ask_library', { question: 'And the backups?' });
    expect(second.isError).toBe(true);
    expect(second.text).toMatch(/^too many questions: limits\.asks_per_minute allows 1 per minute per developer; retry in \d+ s/);
    expect(second.text).toContain('HTTP 429 rate_limited');
    // Other developers have their own budget.
    const carol = await as('carol');
    expect((await call(carol, 'ask_library', { question: 'When does the deploy run?' })).isError).toBeFalsy();
  });

  it('shows MCP requests in the HTTP metrics, under the /mcp route', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/route="\/mcp"/);
  });
});

describe('the MCP server without tokens (loopback only)', () => {
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    env = tempEnv(DOCS);
    server = await startServer(env.env, env.root);
  });

  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  it('serves a local client as the local admin, and refuses a web page of another site (403)', async () => {
    const client = await connect(server.url);
    const res = await call(client, 'index_text', { file_path: 'n.md', content: '# N\n\nlocal note about the walrus build.\n' });
    expect(res.isError).toBeFalsy();
    expect((await server.services.store.getFile('contributed/default/n.md'))?.contributor).toBe('local');
    await client.close();
    const evil = await readReply(
      await fetch(`${server.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', origin: 'https://evil.example' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'index_text', arguments: { file_path: 'x.md', content: '# X\n\nplanted text\n' } } }),
      }),
    );
    expect(evil.status).toBe(403);
    expect(evil.json.error.code).toBe('forbidden_origin');
    expect(await server.services.store.getFile('contributed/default/x.md')).toBeNull();
  });
});

describe('MCP tool calls in usage accounting (paid Mistral and Claude, through their fakes)', () => {
  const MISTRAL_KEY = 'sk-mistral-mcp-usage-test-1a2b';
  let mistral: MistralFake;
  let anthropic: AnthropicFake;
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    mistral = await MistralFake.create(MISTRAL_KEY);
    anthropic = await startAnthropicFake();
    env = tempEnv(DOCS);
    env.env = {
      ...env.env,
      EMBEDDINGS_PROVIDER: 'mistral',
      MISTRAL_SERVER_URL: mistral.url,
      MISTRAL_API_KEY: MISTRAL_KEY,
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_API_KEY: 'sk-ant-mcp-usage-test-9f8e',
    };
    server = await startServer(env.env, env.root);
    await server.services.indexer.indexAll();
  });

  afterAll(async () => {
    await server?.close();
    await mistral?.close();
    await anthropic?.close();
    env?.cleanup();
  });

  it("charges the tokens a tool call spends to the calling developer, as /api/* does", async () => {
    const token = server.services.tokens.create('dana').token;
    const client = await connect(server.url, token);
    try {
      const before = mistral.embeddingRequests.length;
      expect((await call(client, 'search_library', { query: 'release branch deploy day' })).isError).toBeFalsy();
      expect(mistral.embeddingRequests.length).toBeGreaterThan(before);
      anthropic.enqueue({ kind: 'answer', deltas: ['Every Tuesday [1].'], usage: { input_tokens: 1_000, output_tokens: 50 } });
      const asked = await call(client, 'ask_library', { question: 'When does the zanzibar deploy run?' });
      expect(asked.isError, asked.text).toBeFalsy();
      expect((asked.structuredContent as { mode: string }).mode).toBe('claude');
    } finally {
      await client.close();
    }
    const rows = server.services.usage.report().rows.filter((r) => r.developer === 'dana');
    expect(rows.find((r) => r.provider === 'mistral')?.input_tokens).toBeGreaterThan(0);
    expect(rows.find((r) => r.provider === 'anthropic')).toMatchObject({ input_tokens: 1_000, output_tokens: 50 });
  });
});
