import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../server/stores/embedded/store.js';
import { CONTRACT_EMBEDDER, fileOf, pointsOf, taxonomy, type DocSpec } from '../contract/vector-store.contract.js';

/**
 * The embedded store writes files that arrive in the same turn of the event
 * loop (the indexer's concurrent files) in one transaction: each caller still
 * resolves only once its file is committed, a bad file fails alone, and a
 * later write never overtakes one made before it.
 */

let dir: string;
let store: EmbeddedStore;

function doc(n: number): DocSpec {
  return {
    path: `docs/file-${n}.md`,
    type: 'markdown',
    taxonomy: taxonomy('engineering', 'backend'),
    indexedAt: '2026-01-01T00:00:00.000Z',
    chunks: Array.from({ length: 3 }, (_, i) => ({ section: `s${i}`, content: `file ${n} chunk ${i}` })),
  };
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ailib-group-'));
  store = new EmbeddedStore(path.join(dir, 'library.sqlite'));
  await store.init(CONTRACT_EMBEDDER);
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('embedded store: files written together', () => {
  it('resolves each replaceFile after its file is committed and readable from another connection', async () => {
    const docs = [1, 2, 3, 4].map(doc);
    await Promise.all(
      docs.map(async (d) => {
        await store.replaceFile(fileOf(d), pointsOf(d));
        const other = new EmbeddedStore(path.join(dir, 'library.sqlite'), { denseIndex: false });
        await other.init(CONTRACT_EMBEDDER);
        expect((await other.fileChunks(d.path)).map((p) => p.payload.content)).toEqual(d.chunks.map((c) => c.content));
        await other.close();
      }),
    );
    expect((await store.stats()).points_count).toBe(12);
  });

  it('fails only the file with a bad vector; the others in the same turn are written', async () => {
    const good = doc(1);
    const bad = doc(2);
    const badPoints = pointsOf(bad).map((p, i) => (i === 1 ? { ...p, vector: new Float32Array(3) } : p));
    const results = await Promise.allSettled([store.replaceFile(fileOf(good), pointsOf(good)), store.replaceFile(fileOf(bad, badPoints), badPoints)]);
    expect(results[0]?.status).toBe('fulfilled');
    expect(results[1]?.status).toBe('rejected');
    expect(String(results[1]?.status === 'rejected' ? results[1].reason : '')).toMatch(/dimensions/);
    expect(await store.fileChunks(good.path)).toHaveLength(3);
    expect(await store.fileChunks(bad.path)).toHaveLength(0);
  });

  it('keeps call order: a delete or taxonomy change called after a pending replaceFile applies after it', async () => {
    const d = doc(1);
    const written = store.replaceFile(fileOf(d), pointsOf(d));
    const deleted = store.deleteFile(d.path);
    await written;
    expect(await deleted).toBe(3);
    expect(await store.getFile(d.path)).toBeNull();

    const e = doc(2);
    const again = store.replaceFile(fileOf(e), pointsOf(e));
    await store.setTaxonomy(e.path, taxonomy('product', null), 0.9);
    await again;
    expect((await store.getFile(e.path))?.taxonomy.level1).toBe('product');
  });

  it('writes what is pending before it closes', async () => {
    const d = doc(1);
    const written = store.replaceFile(fileOf(d), pointsOf(d));
    await store.close();
    await written;
    store = new EmbeddedStore(path.join(dir, 'library.sqlite'));
    await store.init(CONTRACT_EMBEDDER);
    expect(await store.fileChunks(d.path)).toHaveLength(3);
  });
});
