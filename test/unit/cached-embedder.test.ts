import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CachedEmbedder } from '../../server/embedders/cached.js';
import type { Embedder } from '../../server/embedders/embedder.js';

/** Counts what reaches the "provider"; vectors depend on the text and the id. */
class CountingEmbedder implements Embedder {
  readonly dimension = 8;
  readonly maxBatch: number;
  calls: Array<{ texts: string[]; kind: string }> = [];

  constructor(
    readonly id = 'fake:model:8',
    maxBatch = 100,
  ) {
    this.maxBatch = maxBatch;
  }

  get embedded(): number {
    return this.calls.reduce((n, c) => n + c.texts.length, 0);
  }

  async embed(texts: string[], kind: 'document' | 'query'): Promise<Float32Array[]> {
    this.calls.push({ texts, kind });
    return texts.map((t) => Float32Array.from({ length: this.dimension }, (_, i) => (t.length * 31 + i + this.id.length) / 7.3));
  }
}

const dirs: string[] = [];
const open: CachedEmbedder[] = [];

function cacheFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ailib-cache-'));
  dirs.push(dir);
  return path.join(dir, 'nested', 'embedding-cache.sqlite');
}

function cached(inner: Embedder, file: string): CachedEmbedder {
  const c = new CachedEmbedder(inner, { file });
  open.push(c);
  return c;
}

afterEach(() => {
  for (const c of open.splice(0)) c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const chunks = ['# Setup\nInstall the server.', '## Retries\nBack off on 429.', 'function add(a, b) { return a + b; }'];

describe('CachedEmbedder', () => {
  it('has the inner id and dimension, and creates its file', () => {
    const file = cacheFile();
    const c = cached(new CountingEmbedder(), file);
    expect([c.id, c.dimension, c.maxBatch]).toEqual(['fake:model:8', 8, 100]);
    expect(existsSync(file)).toBe(true);
  });

  it('embeds unchanged chunks only once', async () => {
    const inner = new CountingEmbedder();
    const c = cached(inner, cacheFile());
    const first = await c.embed(chunks, 'document');
    expect(c.stats()).toMatchObject({ hits: 0, misses: 3 });
    const second = await c.embed(chunks, 'document');
    expect(inner.calls).toHaveLength(1);
    expect(c.stats()).toMatchObject({ hits: 3, misses: 3, memoryHits: 3 });
    expect(second.map((v) => Array.from(v))).toEqual(first.map((v) => Array.from(v)));
  });

  it('a moved file (same chunk texts, new path and order) hits the cache', async () => {
    const inner = new CountingEmbedder();
    const c = cached(inner, cacheFile());
    await c.embed(chunks, 'document');
    const moved = [chunks[2]!, chunks[0]!, 'a new paragraph', chunks[1]!];
    const vectors = await c.embed(moved, 'document');
    expect(inner.calls[1]?.texts).toEqual(['a new paragraph']);
    expect(c.stats()).toMatchObject({ hits: 3, misses: 4 });
    expect(Array.from(vectors[0]!)).toEqual(Array.from((await inner.embed([chunks[2]!], 'document'))[0]!));
  });

  it('another embedder id never gets these vectors', async () => {
    const file = cacheFile();
    await cached(new CountingEmbedder('fake:model:8'), file).embed(chunks, 'document');
    const otherInner = new CountingEmbedder('other:model:8');
    const other = cached(otherInner, file);
    await other.embed(chunks, 'document');
    expect(other.stats()).toMatchObject({ hits: 0, misses: 3 });
    expect(otherInner.embedded).toBe(3);
  });

  it('survives a restart: a reopened cache answers from disk, exactly', async () => {
    const file = cacheFile();
    const first = cached(new CountingEmbedder(), file);
    const original = await first.embed(chunks, 'document');
    first.close();
    const inner = new CountingEmbedder();
    const reopened = cached(inner, file);
    const again = await reopened.embed(chunks, 'document');
    expect(inner.calls).toHaveLength(0);
    expect(reopened.stats()).toMatchObject({ hits: 3, misses: 0, diskHits: 3 });
    expect(again.map((v) => Array.from(v))).toEqual(original.map((v) => Array.from(v)));
    expect(again[0]).toBeInstanceOf(Float32Array);
  });

  it('does not cache queries', async () => {
    const inner = new CountingEmbedder();
    const c = cached(inner, cacheFile());
    await c.embed(['how do retries work?'], 'query');
    await c.embed(['how do retries work?'], 'query');
    expect(inner.calls.map((x) => x.kind)).toEqual(['query', 'query']);
    expect(c.stats()).toMatchObject({ hits: 0, misses: 0 });
  });

  it('embeds a text repeated in one call once, and respects the inner maxBatch', async () => {
    const inner = new CountingEmbedder('fake:model:8', 2);
    const c = cached(inner, cacheFile());
    const vectors = await c.embed(['same', 'same', 'x', 'y', 'z'], 'document');
    expect(vectors).toHaveLength(5);
    expect(inner.calls.map((x) => x.texts)).toEqual([['same', 'x'], ['y', 'z']]);
    expect(c.stats()).toMatchObject({ hits: 1, misses: 4 });
    expect(vectors[0]).not.toBe(vectors[1]);
  });

  it('hands out copies: a caller changing a vector does not change the cache', async () => {
    const c = cached(new CountingEmbedder(), cacheFile());
    const [v] = await c.embed(['text'], 'document');
    const before = Array.from(v!);
    v!.fill(0);
    const [again] = await c.embed(['text'], 'document');
    expect(Array.from(again!)).toEqual(before);
  });
});
