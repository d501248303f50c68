import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentSummary, SearchResponse, TaxonomyResponse, TaxonomyTreeNode } from '../../shared/api-types.js';
import { createBackup } from '../../server/backup/backup.js';
import { readArchiveFile } from '../../server/backup/archive.js';
import { MistralFake } from '../fakes/mistral-fake.js';
import { md5 } from '../helpers/store-integrity.js';
import { readReply, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

/**
 * Issue 12's defects that one server shows on its own: a symbolic link out of
 * the library (1), concurrent uploads of one new path by different developers
 * (2), names at the file system's limit (10), uploads that would not be
 * indexed (11) and an index that fails after the write (3: never a 200).
 */

interface Reply {
  status: number;
  json: any;
}

async function call(url: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const { status, json } = await readReply(res);
  return { status, json };
}

function allDocuments(nodes: TaxonomyTreeNode[]): DocumentSummary[] {
  return nodes.flatMap((n) => [...n.documents, ...allDocuments(n.children)]);
}

const OUTSIDE_WORD = 'zebraquokkaoutside';

describe('a symbolic link out of the library is never read (issue 12, defect 1)', () => {
  let env: TempEnv;
  let server: RunningServer;
  const victim = 'contributed/default/sym/victim.md';
  let outside = '';

  beforeAll(async () => {
    env = tempEnv({ 'guides/inside.md': '# Inside\n\nA normal document about herons.\n' });
    outside = path.join(env.root, 'outside', 'private.md');
    mkdirSync(path.dirname(outside), { recursive: true });
    writeFileSync(outside, `# Outside Title\n\nThe private ${OUTSIDE_WORD} text that lives outside the library.\n`);
    server = await startServer(env.env, env.root);
    const up = await call(`${server.url}/api/library/index`, { body: { file_path: 'sym/victim.md', content: '# Victim\n\nAn uploaded note about storks.\n' } });
    expect(up.status).toBe(200);
    // On disk, as an attacker with shell access to the library would.
    rmSync(path.join(env.library, victim));
    symlinkSync(outside, path.join(env.library, victim));
  });
  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  it('the taxonomy does not read the title through the link', async () => {
    const tree = await call(`${server.url}/api/library/taxonomy`);
    const doc = allDocuments((tree.json as TaxonomyResponse).categories).find((d) => d.file_path === victim);
    expect(doc?.title).not.toBe('Outside Title');
  });

  it('a full re-index and a per-file index do not make the outside text searchable', async () => {
    const all = await call(`${server.url}/api/library/index`, { body: { all: true } });
    expect(all.status).toBe(200);
    expect(all.json.files.find((f: { file_path: string }) => f.file_path === victim)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/outside the library/) });
    const per = await call(`${server.url}/api/library/index`, { body: { path: victim } });
    expect(per.status).toBe(400);
    expect(per.json.error.message).toMatch(/outside the library/);
    const hits = await call(`${server.url}/api/query/search`, { body: { query: OUTSIDE_WORD, mode: 'keyword' } });
    expect((hits.json as SearchResponse).results).toEqual([]);
    expect(await server.services.store.getFile(victim)).toBeNull();
  });

  it('GET /documents refuses it like the indexer does', async () => {
    const doc = await call(`${server.url}/api/library/documents?path=${encodeURIComponent(victim)}`);
    expect(doc.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(doc.json)).not.toContain(OUTSIDE_WORD);
  });

  it('a backup does not archive the outside file', async () => {
    const res = await createBackup(server.services.config, { outDir: path.join(env.root, 'backups') });
    expect(res.manifest.files.map((f) => f.path)).not.toContain(`library/${victim}`);
    expect(await readArchiveFile(res.archive, `library/${victim}`)).toBeNull();
  });

  it('a link to a file inside the library is still read', async () => {
    symlinkSync(path.join(env.library, 'guides/inside.md'), path.join(env.library, 'guides/alias.md'));
    const per = await call(`${server.url}/api/library/index`, { body: { path: 'guides/alias.md' } });
    expect(per.json.files[0]).toMatchObject({ status: 'indexed' });
  });
});

describe('many developers, one library: uploads (issue 12, defects 2, 3, 10, 11)', () => {
  let env: TempEnv;
  let server: RunningServer;
  const tokens: string[] = [];

  beforeAll(async () => {
    env = tempEnv();
    server = await startServer(env.env, env.root);
    for (let i = 0; i < 10; i++) tokens.push(server.services.tokens.create(`dev${i}`).token);
  });
  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  it('of concurrent uploads of one new path by different developers, exactly one gets 200 and the rest 403 naming the owner', async () => {
    for (let round = 0; round < 5; round++) {
      const file = `race/round${round}.md`;
      const stored = `contributed/team/${file}`;
      const contents = tokens.map((_, i) => `# Round ${round}\n\nThe text of dev${i} for round ${round}, about ${'kingfishers '.repeat(i + 1)}.\n`);
      const replies = await Promise.all(tokens.map((token, i) => call(`${server.url}/api/library/index`, { token, body: { file_path: file, content: contents[i], workspace: 'team' } })));
      const winners = replies.flatMap((r, i) => (r.status === 200 ? [i] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      for (const [i, r] of replies.entries()) {
        if (i === winner) continue;
        expect(r.status).toBe(403);
        expect(r.json.error.message).toContain(`was contributed by "dev${winner}"`);
      }
      expect(readFileSync(path.join(env.library, stored), 'utf8')).toBe(contents[winner]);
      const record = await server.services.store.getFile(stored);
      expect(record).toMatchObject({ contributor: `dev${winner}`, file_hash: md5(contents[winner]!) });
    }
  });

  it('accepts a file name of 255 bytes and answers 400 with the limit above it', async () => {
    const longest = `${'n'.repeat(252)}.md`;
    const ok = await call(`${server.url}/api/library/index`, { token: tokens[0], body: { file_path: `long/${longest}`, content: '# Long\n\nA name at the limit.\n', workspace: 'team' } });
    expect(ok.status).toBe(200);
    expect(existsSync(path.join(env.library, 'contributed/team/long', longest))).toBe(true);
    const tooLong = await call(`${server.url}/api/library/index`, { token: tokens[0], body: { file_path: `long/${'n'.repeat(253)}.md`, content: '# Long\n\nOne byte over.\n', workspace: 'team' } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.message).toMatch(/256 bytes.*at most 255 bytes/);
  });

  it('does not store an upload that would not be indexed, and says why with a 4xx', async () => {
    const cases = [
      { file_path: 'skip/image.png', content: 'not really an image', status: 415, why: /unsupported type "\.png"/ },
      { file_path: 'skip/Makefile-notes', content: 'no extension here', status: 415, why: /no extension/ },
      { file_path: 'skip/empty.md', content: '', status: 422, why: /no text to index/ },
      { file_path: 'skip/blank.md', content: '\n\n   \n', status: 422, why: /no text to index/ },
    ];
    for (const c of cases) {
      const r = await call(`${server.url}/api/library/index`, { token: tokens[1], body: { file_path: c.file_path, content: c.content, workspace: 'team' } });
      expect(r.status, c.file_path).toBe(c.status);
      expect(r.json.error.message).toMatch(c.why);
      expect(existsSync(path.join(env.library, 'contributed/team', c.file_path)), c.file_path).toBe(false);
    }
  });
});

describe('an upload whose index fails is an error, and the library keeps what it had (issue 12, defect 3)', () => {
  const KEY = 'mistral-test-KEY-safety-1234';
  let fake: MistralFake;
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    fake = await MistralFake.create(KEY);
    env = tempEnv();
    Object.assign(env.env, { EMBEDDINGS_PROVIDER: 'mistral', MISTRAL_SERVER_URL: fake.url, MISTRAL_API_KEY: KEY });
    server = await startServer(env.env, env.root);
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
    env?.cleanup();
  });

  it('answers 503 (not 200 "failed"), writes nothing new and keeps the previous version', async () => {
    const first = await call(`${server.url}/api/library/index`, { body: { file_path: 'kept.md', content: '# Kept\n\nThe first version about ospreys.\n' } });
    expect(first.status).toBe(200);
    // Every embedding answer from now on has the wrong dimension: the index fails after the file was written.
    fake.defaultFault = { kind: 'wrong-dimension' };
    const replaced = await call(`${server.url}/api/library/index`, { body: { file_path: 'kept.md', content: '# Kept\n\nA second version about pelicans.\n' } });
    const fresh = await call(`${server.url}/api/library/index`, { body: { file_path: 'fresh.md', content: '# Fresh\n\nA new note about cormorants.\n' } });
    fake.defaultFault = null;
    for (const r of [replaced, fresh]) {
      expect(r.status).toBe(503);
      expect(r.json.error.message).toMatch(/could not be indexed.*not stored/);
    }
    expect(readFileSync(path.join(env.library, 'contributed/default/kept.md'), 'utf8')).toContain('ospreys');
    expect(existsSync(path.join(env.library, 'contributed/default/fresh.md'))).toBe(false);
  });
});
