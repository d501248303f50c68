import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexResponse, SearchResponse, StatsResponse } from '../../shared/api-types.js';
import { postJson, startIndexedServer, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const DOCS: Record<string, string> = {
  'guides/auth.md': `---
title: Authentication
category: security/access-control
---
# Authentication

## Tokens

Every developer gets a personal server token. Send it as a bearer token in the Authorization header.

## OAuth

Use OAuth tokens for Claude; rotate them every ninety days.
`,
  'guides/backups.md': `# Backups

## Daily snapshots

Create a Qdrant snapshot every night and keep seven days of archives. Restore by recovering the snapshot.
`,
  'src/checksum.ts': `import { createHash } from 'node:crypto';

/** MD5 of a file's bytes, used to skip unchanged files. */
export function computeChecksumMd5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

export class IndexScheduler {
  private queue: string[] = [];
  enqueue(path: string): void {
    this.queue.push(path);
  }
}
`,
};

describe('HTTP API on the embedded default', () => {
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    ({ env, server } = await startIndexedServer(DOCS));
  });

  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  it('answers the seed search curl verbatim', async () => {
    const { status, json } = await postJson(`${server.url}/api/query/search`, { query: 'test query', n_results: 5 });
    expect(status).toBe(200);
    const body = json as SearchResponse;
    expect(body.results.length).toBeLessThanOrEqual(5);
    expect(body.mode).toBe('hybrid');
    expect(typeof body.took_ms).toBe('number');
  });

  it('finds an exact identifier first', async () => {
    const { json } = await postJson(`${server.url}/api/query/search`, { query: 'computeChecksumMd5' });
    const top = (json as SearchResponse).results[0]!;
    expect(top.file_path).toBe('src/checksum.ts');
    expect(top.section).toContain('computeChecksumMd5');
    expect(top.content_type).toBe('code');
    expect(top.start_line).toBeGreaterThan(1);
  });

  it('finds an exact phrase first', async () => {
    const { json } = await postJson(`${server.url}/api/query/search`, { query: 'keep seven days of archives' });
    expect((json as SearchResponse).results[0]!.file_path).toBe('guides/backups.md');
  });

  it('returns the result fields the extension shows', async () => {
    const { json } = await postJson(`${server.url}/api/query/search`, { query: 'bearer token Authorization header' });
    const r = (json as SearchResponse).results[0]!;
    expect(r).toMatchObject({ file_path: 'guides/auth.md', content_type: 'markdown' });
    // Small sections merge up to chunking.min_tokens; the heading path starts at the document title.
    expect(r.section).toMatch(/^Authentication/);
    expect(r.taxonomy.full_path).toBe('security/access-control');
    expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.scores.fused).toBeGreaterThan(0);
  });

  it('filters by taxonomy prefix, content type and file path', async () => {
    const byTaxonomy = await postJson(`${server.url}/api/query/search`, { query: 'token', filters: { taxonomy: 'security' } });
    expect((byTaxonomy.json as SearchResponse).results.every((r) => r.taxonomy.level1 === 'security')).toBe(true);
    const code = await postJson(`${server.url}/api/query/search`, { query: 'md5 checksum', filters: { content_type: 'code' } });
    expect((code.json as SearchResponse).results.map((r) => r.content_type)).toEqual(expect.arrayContaining(['code']));
    expect((code.json as SearchResponse).results.every((r) => r.content_type === 'code')).toBe(true);
    const folder = await postJson(`${server.url}/api/query/search`, { query: 'snapshot token', filters: { file_path: 'guides/' } });
    const paths = (folder.json as SearchResponse).results.map((r) => r.file_path);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((p) => p.startsWith('guides/'))).toBe(true);
  });

  it('supports dense and keyword modes', async () => {
    for (const mode of ['dense', 'keyword'] as const) {
      const { status, json } = await postJson(`${server.url}/api/query/search`, { query: 'snapshot restore', mode });
      expect(status).toBe(200);
      expect((json as SearchResponse).mode).toBe(mode);
      expect((json as SearchResponse).results[0]!.file_path).toBe('guides/backups.md');
    }
  });

  it('finds similar chunks by text and by id, excluding a file', async () => {
    const byText = await postJson(`${server.url}/api/query/similar`, { text: 'nightly qdrant snapshot archives', n_results: 3 });
    expect(byText.status).toBe(200);
    const first = (byText.json as SearchResponse).results[0]!;
    expect(first.file_path).toBe('guides/backups.md');
    const byId = await postJson(`${server.url}/api/query/similar`, { id: first.id, exclude_file_path: 'guides/backups.md' });
    expect(byId.status).toBe(200);
    expect((byId.json as SearchResponse).results.every((r) => r.file_path !== 'guides/backups.md' && r.id !== first.id)).toBe(true);
    const unknown = await postJson(`${server.url}/api/query/similar`, { id: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(404);
  });

  it('indexes an upload into the library folder of its workspace', async () => {
    const { status, json } = await postJson(`${server.url}/api/library/index`, {
      file_path: 'docs/runbook.md',
      content: '# Runbook\n\nRestart the frobnicator service with systemctl restart frobnicator.\n',
      workspace: 'payments-api',
    });
    expect(status).toBe(200);
    const res = json as IndexResponse;
    expect(res.files[0]).toMatchObject({ file_path: 'contributed/payments-api/docs/runbook.md', status: 'indexed', chunks: 1 });
    const search = await postJson(`${server.url}/api/query/search`, { query: 'frobnicator' });
    expect((search.json as SearchResponse).results[0]!.file_path).toBe('contributed/payments-api/docs/runbook.md');
  });

  it('refuses secret uploads without writing them', async () => {
    const { status, json } = await postJson(`${server.url}/api/library/index`, { file_path: '.env', content: 'API_KEY=1', workspace: 'w' });
    expect(status).toBe(422);
    expect(json.error.message).toMatch(/secret-looking.*not stored/);
    expect(existsSync(path.join(env.library, 'contributed/w/.env'))).toBe(false);
  });

  it('indexes a path and reports unchanged files', async () => {
    const { status, json } = await postJson(`${server.url}/api/library/index`, { path: 'guides' });
    expect(status).toBe(200);
    expect((json as IndexResponse).files.map((f) => f.status)).toEqual(['unchanged', 'unchanged']);
  });

  it('reports stats and health', async () => {
    const stats = (await (await fetch(`${server.url}/api/library/stats`)).json()) as StatsResponse;
    expect(stats.documents).toBe(4);
    expect(stats.points_count).toBeGreaterThanOrEqual(4);
    expect(stats.by_content_type.code).toBeGreaterThan(0);
    expect(stats.embedder).toEqual({ id: 'local-hash-v1:1024', dimension: 1024 });
    expect(stats.store.kind).toBe('embedded');
    expect(stats.last_indexed_at).not.toBeNull();
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: { kind: 'embedded' } });
  });

  describe('errors', () => {
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      ['empty query', '/api/query/search', { query: '' }, 400, /query: must not be empty/],
      ['missing query', '/api/query/search', {}, 400, /query: is required/],
      ['wrong type', '/api/query/search', { query: 'x', n_results: 'ten' }, 400, /n_results/],
      ['n_results too high', '/api/query/search', { query: 'x', n_results: 500 }, 400, /n_results: must be at most 50/],
      ['unknown field', '/api/query/search', { query: 'x', limit: 3 }, 400, /unknown field\(s\) limit/],
      ['bad mode', '/api/query/search', { query: 'x', mode: 'fuzzy' }, 400, /mode/],
      ['text and id', '/api/query/similar', { text: 'a', id: '00000000-0000-4000-8000-000000000000' }, 400, /exactly one/],
      ['index nothing', '/api/library/index', { what: 1 }, 400, /give one of/],
      ['traversal', '/api/library/index', { path: '../etc' }, 400, /inside the library/],
      ['absolute', '/api/library/index', { path: '/etc/passwd' }, 400, /absolute/],
      ['upload traversal', '/api/library/index', { file_path: '../../x.md', content: 'x' }, 400, /inside the library/],
      ['missing path', '/api/library/index', { path: 'nope/missing.md' }, 400, /does not exist/],
    ];
    it.each(cases)('%s → %i', async (_name, route, body, status, message) => {
      const res = await postJson(`${server.url}${route}`, body);
      expect(res.status).toBe(status);
      expect(res.json.error.message).toMatch(message);
      expect(JSON.stringify(res.json)).not.toMatch(/at .*\.ts:\d+/);
    });

    it('415 for non-JSON, 400 for bad JSON, 404 for unknown routes', async () => {
      const text = await fetch(`${server.url}/api/query/search`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'query' });
      expect(text.status).toBe(415);
      expect((await text.json()).error.code).toBe('unsupported_media_type');
      const bad = await fetch(`${server.url}/api/query/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.code).toBe('invalid_json');
      const missing = await fetch(`${server.url}/api/nope`);
      expect(missing.status).toBe(404);
      const missingBody = await missing.json();
      expect(missingBody.error.code).toBe('no_route');
      expect(missingBody.error.message).toMatch(/no route GET \/api\/nope/);
    });

    it('413 for an oversize body', async () => {
      const huge = 'x'.repeat(13 * 1024 * 1024);
      const res = await postJson(`${server.url}/api/library/index`, { file_path: 'big.md', content: huge });
      expect(res.status).toBe(413);
      expect(res.json.error.code).toBe('payload_too_large');
    });
  });
});

describe('incremental indexing', () => {
  it('is idempotent, detects changes and deletions, and never duplicates', async () => {
    // Sections above chunking.min_tokens stay separate chunks, so a change touches only one.
    const filler = (topic: string) => Array.from({ length: 12 }, (_, i) => `Sentence ${i} about ${topic} keeps this section long enough.`).join(' ');
    const docA = (second: string) => `# A\n\nAlpha paragraph about pelicans. ${filler('pelicans')}\n\n## More\n\n${second} ${filler('birds')}\n`;
    const env = tempEnv({ 'a.md': docA('Second section on herons.'), 'b.md': '# B\n\nBeta text.\n' });
    const server = await startServer(env.env, env.root);
    try {
      const first = (await postJson(`${server.url}/api/library/index`, { all: true })).json as IndexResponse;
      expect(first.summary).toMatchObject({ indexed: 2, unchanged: 0 });
      const count1 = await server.services.store.count();
      const ids1 = (await server.services.store.fileChunks('a.md')).map((p) => p.id);

      const again = (await postJson(`${server.url}/api/library/index`, { all: true })).json as IndexResponse;
      expect(again.summary).toMatchObject({ indexed: 0, unchanged: 2 });
      expect(await server.services.store.count()).toBe(count1);

      env.write('a.md', docA('Second section on storks now.'));
      const changed = (await postJson(`${server.url}/api/library/index`, { all: true })).json as IndexResponse;
      expect(changed.files.find((f) => f.file_path === 'a.md')?.status).toBe('indexed');
      const ids2 = (await server.services.store.fileChunks('a.md')).map((p) => p.id);
      expect(ids2[0]).toBe(ids1[0]);
      expect(ids2).not.toEqual(ids1);
      const storks = (await postJson(`${server.url}/api/query/search`, { query: 'storks' })).json as SearchResponse;
      expect(storks.results[0]!.file_path).toBe('a.md');
      const herons = (await postJson(`${server.url}/api/query/search`, { query: 'herons', mode: 'keyword' })).json as SearchResponse;
      expect(herons.results).toHaveLength(0);

      rmSync(path.join(env.library, 'b.md'));
      const deleted = (await postJson(`${server.url}/api/library/index`, { all: true })).json as IndexResponse;
      expect(deleted.files.find((f) => f.file_path === 'b.md')?.status).toBe('deleted');
      expect(await server.services.store.getFile('b.md')).toBeNull();
      expect((await server.services.store.stats()).documents).toBe(1);
    } finally {
      await server.close();
      env.cleanup();
    }
  });

  it('keeps the old version searchable while a changed file is replaced', async () => {
    const env = tempEnv({ 'doc.md': '# Doc\n\nThe original wording mentions albatross.\n' });
    const server = await startServer(env.env, env.root);
    try {
      await server.services.indexer.indexAll();
      env.write('doc.md', '# Doc\n\nThe new wording mentions albatross and cormorant.\n\n## Extra\n\nMore text.\n');
      // Searches interleaved with the re-index must always see the file.
      const reindex = server.services.indexer.indexPath('doc.md');
      const seen: number[] = [];
      for (let i = 0; i < 20; i++) {
        const r = (await postJson(`${server.url}/api/query/search`, { query: 'albatross', mode: 'keyword' })).json as SearchResponse;
        seen.push(r.results.filter((x) => x.file_path === 'doc.md').length);
      }
      await reindex;
      expect(seen.every((n) => n > 0)).toBe(true);
      const after = (await postJson(`${server.url}/api/query/search`, { query: 'cormorant' })).json as SearchResponse;
      expect(after.results[0]!.file_path).toBe('doc.md');
    } finally {
      await server.close();
      env.cleanup();
    }
  });

  it('records skipped files with their reasons', async () => {
    const env = tempEnv({ 'ok.md': '# Ok\n\ntext\n', 'drafts/wip.md': '# wip\n', '.env': 'SECRET=1', 'img.png': '' });
    env.write('.libraryignore', 'drafts/\n');
    env.write('bin.md', Buffer.from([0x23, 0x00, 0x01]));
    const server = await startServer(env.env, env.root);
    try {
      const res = await server.services.indexer.indexAll();
      const byPath = Object.fromEntries(res.files.map((f) => [f.file_path, f]));
      expect(byPath['ok.md']?.status).toBe('indexed');
      expect(byPath['drafts/wip.md']).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/ignored/) });
      expect(byPath['.env']).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/secret/) });
      expect(byPath['bin.md']).toMatchObject({ status: 'skipped', reason: 'binary file' });
      expect(byPath['img.png']).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/unsupported/) });
    } finally {
      await server.close();
      env.cleanup();
    }
  });
});
