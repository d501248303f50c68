import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChunkPayload } from '../../shared/api-types.js';
import { CachedEmbedder } from '../../server/embedders/cached.js';
import { LocalEmbedder } from '../../server/embedders/local.js';
import { MistralEmbedder } from '../../server/embedders/mistral.js';
import { EmbeddedStore } from '../../server/stores/embedded/store.js';
import { EmbedderMismatchError, type FileRecord } from '../../server/stores/vector-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ailib-switch-'));
  dirs.push(dir);
  return dir;
}

const taxonomy = { full_path: 'docs', level1: 'docs', level2: null };

async function buildWithLocal(file: string, local: LocalEmbedder): Promise<void> {
  const store = new EmbeddedStore(file);
  await store.init({ id: local.id, dimension: local.dimension });
  const content = 'Back off and honour Retry-After when the provider answers 429.';
  const now = new Date().toISOString();
  const record: FileRecord = {
    file_path: 'docs/retries.md',
    file_hash: 'f'.repeat(32),
    chunk_count: 1,
    content_type: 'markdown',
    taxonomy,
    confidence: 1,
    contributor: null,
    indexed_at: now,
  };
  const payload: ChunkPayload = {
    file_path: record.file_path,
    content,
    content_type: 'markdown',
    language: null,
    section: 'Retries',
    start_line: 1,
    end_line: 1,
    chunk_index: 0,
    content_hash: 'c'.repeat(32),
    file_hash: record.file_hash,
    taxonomy,
    classification: { confidence: 1 },
    contributor: null,
    created_at: now,
    updated_at: now,
  };
  const [vector] = await local.embed([content]);
  await store.replaceFile(record, [{ id: '00000000-0000-4000-8000-000000000001', vector: vector!, payload }]);
  await store.close();
}

describe('switching embedders never mixes vector spaces', () => {
  it('an embedded store built with the local embedder refuses a Mistral embedder, and says how to move', async () => {
    const dir = tmp();
    const file = path.join(dir, 'library.sqlite');
    const local = new LocalEmbedder();
    await buildWithLocal(file, local);

    // Same dimension (1024) on purpose: only the id tells the vector spaces apart.
    const mistral = new MistralEmbedder({ apiKey: 'sk-never-sent-0000', serverURL: 'http://127.0.0.1:9' });
    expect(mistral.dimension).toBe(local.dimension);
    const wrapped = new CachedEmbedder(mistral, { file: path.join(dir, 'embedding-cache.sqlite') });
    try {
      for (const embedder of [mistral, wrapped]) {
        const store = new EmbeddedStore(file);
        let error: unknown;
        try {
          await store.init({ id: embedder.id, dimension: embedder.dimension });
        } catch (e) {
          error = e;
        } finally {
          await store.close();
        }
        expect(error).toBeInstanceOf(EmbedderMismatchError);
        const message = (error as Error).message;
        expect(message).toContain(local.id);
        expect(message).toContain('mistral:mistral-embed:1024');
        expect(message).toContain('npm run index -- --all');
        expect(message).toMatch(/migrate/);
        expect(message).not.toContain('sk-never-sent-0000');
      }
    } finally {
      wrapped.close();
    }

    // The refusal changed nothing: the local embedder still opens its store.
    const store = new EmbeddedStore(file);
    await store.init({ id: local.id, dimension: local.dimension });
    expect(await store.count()).toBe(1);
    await store.close();
  });
});
