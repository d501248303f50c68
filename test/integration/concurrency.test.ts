import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexResponse, SearchResponse } from '../../shared/api-types.js';
import { MistralFake } from '../fakes/mistral-fake.js';
import { checkStoreIntegrity, md5 } from '../helpers/store-integrity.js';
import { postJson, startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

const UPLOAD = 'notes/runbook.md';
const STORED = `contributed/default/${UPLOAD}`;

/**
 * Version `v` of one document: several sections above chunking.min_tokens (so
 * each is its own chunk), a different number per version, every sentence
 * tagged with the version's marker so any chunk can be traced to its version.
 */
function version(v: number): string {
  const marker = `marker${v}x`;
  const sections = Array.from({ length: 2 + (v % 4) }, (_, s) =>
    [`## Step ${s} ${marker}`, '', ...Array.from({ length: 10 }, (_, i) => `Sentence ${i} of step ${s} in ${marker} explains how to restart the service safely.`)].join('\n'),
  );
  return `# Runbook ${marker}\n\n${sections.join('\n\n')}\n`;
}

describe('concurrent indexing of the same file', () => {
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    env = tempEnv({ 'other.md': '# Other\n\nAn unrelated document that must survive untouched.\n' });
    server = await startServer(env.env, env.root);
    await server.services.indexer.indexAll();
  });
  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  it('10 simultaneous uploads of different contents to one path end in exactly one consistent version', async () => {
    const versions = Array.from({ length: 10 }, (_, v) => version(v));
    const responses = await Promise.all(versions.map((content) => postJson(`${server.url}/api/library/index`, { file_path: UPLOAD, content })));
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect((r.json as IndexResponse).files[0]).toMatchObject({ file_path: STORED, status: 'indexed' });
    }

    // The file on disk is one whole version...
    const onDisk = readFileSync(path.join(env.library, STORED), 'utf8');
    const winner = versions.indexOf(onDisk);
    expect(winner).toBeGreaterThanOrEqual(0);
    const marker = `marker${winner}x`;

    // ...and the store holds exactly that version: one files row, its hash on every chunk, no strays.
    const { store } = server.services;
    const file = await store.getFile(STORED);
    expect(file?.file_hash).toBe(md5(onDisk));
    const chunks = await store.fileChunks(STORED);
    expect(chunks.length).toBe(file?.chunk_count);
    expect(chunks.map((c) => c.payload.chunk_index)).toEqual(chunks.map((_, i) => i));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(chunks.length);
    for (const c of chunks) {
      expect(c.payload.file_hash).toBe(file?.file_hash);
      expect(c.payload.content).toContain(marker);
      expect(c.payload.content).not.toMatch(new RegExp(`marker(?!${winner}x)\\d+x`));
    }
    expect((await store.listFiles()).map((f) => f.file_path)).toEqual(['contributed/default/notes/runbook.md', 'other.md']);
    expect(await store.count()).toBe(chunks.length + (await store.fileChunks('other.md')).length);

    // Searches see the winner only.
    const loser = (winner + 1) % versions.length;
    const hits = (await postJson(`${server.url}/api/query/search`, { query: `marker${loser}x`, mode: 'keyword' })).json as SearchResponse;
    expect(hits.results.filter((r) => r.file_path === STORED && r.content.includes(`marker${loser}x`))).toEqual([]);

    // The tables agree with each other, counted with SQL.
    const integrity = checkStoreIntegrity(path.join(env.root, 'data', 'library.sqlite'));
    expect(integrity.problems).toEqual([]);
    expect(integrity.counts.chunks).toBe(integrity.counts.vectors);
    expect(integrity.counts.chunks).toBe(integrity.counts.fts);
    expect(integrity.counts.files).toBe(2);
  });

  it('an upload racing a full re-index of the same file still ends consistent', async () => {
    const a = version(20);
    const b = version(21);
    const [upload, full, upload2] = await Promise.all([
      postJson(`${server.url}/api/library/index`, { file_path: UPLOAD, content: a }),
      postJson(`${server.url}/api/library/index`, { all: true }),
      postJson(`${server.url}/api/library/index`, { file_path: UPLOAD, content: b }),
    ]);
    expect([upload.status, full.status, upload2.status]).toEqual([200, 200, 200]);
    const onDisk = readFileSync(path.join(env.library, STORED), 'utf8');
    expect([a, b]).toContain(onDisk);
    expect((await server.services.store.getFile(STORED))?.file_hash).toBe(md5(onDisk));
    expect(checkStoreIntegrity(path.join(env.root, 'data', 'library.sqlite')).problems).toEqual([]);
  });
});

describe('different files index in parallel', () => {
  const KEY = 'mistral-test-KEY-parallel-1234';
  let fake: MistralFake;
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    fake = await MistralFake.create(KEY);
    const files = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`docs/doc${i}.md`, `# Doc ${i}\n\nDocument number ${i} about subject ${i * 7}.\n`]));
    env = tempEnv(files);
    Object.assign(env.env, { EMBEDDINGS_PROVIDER: 'mistral', MISTRAL_SERVER_URL: fake.url, MISTRAL_API_KEY: KEY });
    server = await startServer(env.env, env.root);
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
    env?.cleanup();
  });

  it('the embedding provider sees requests from several files at once, and every file is indexed once', async () => {
    await fake.settle();
    fake.maxInFlight = 0;
    // Slow answers make any overlap visible; the assertion is about overlap, not speed.
    fake.delayMs = 150;
    const res = await server.services.indexer.indexAll();
    expect(res.summary).toMatchObject({ indexed: 8, failed: 0 });
    expect(res.files.map((f) => f.file_path)).toEqual(Array.from({ length: 8 }, (_, i) => `docs/doc${i}.md`));
    expect(fake.maxInFlight).toBeGreaterThan(1);
    expect(fake.maxInFlight).toBeLessThanOrEqual(server.services.config.settings.embeddings.max_concurrent);
    expect(checkStoreIntegrity(path.join(env.root, 'data', 'library.sqlite')).problems).toEqual([]);
  });
});
