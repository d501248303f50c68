import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../server/config/settings.js';
import { createEmbedder } from '../../server/embedders/create-embedder.js';
import { MigrationError, checkpointFileFor, describeVerification, migrate, storeForSide, type StoreSide } from '../../server/migrate.js';
import { EmbedderMismatchError, type StoredPoint, type VectorStore } from '../../server/stores/vector-store.js';
import { servicesFor, tempEnv, type TempEnv } from '../helpers/temp-env.js';

const section = (title: string, n: number) =>
  `## ${title} ${n}\n\n${`The ${title.toLowerCase()} procedure step ${n} explains snapshots, restores, retention and verification in detail. `.repeat(12)}\n`;

const DOCS: Record<string, string> = {
  'guides/backups.md': `# Backups\n\n${[1, 2, 3, 4].map((n) => section('Backup', n)).join('\n')}`,
  'guides/deploy.md': `# Deploy\n\n${[1, 2, 3].map((n) => section('Deploy', n)).join('\n')}`,
  'src/checksum.ts': `import { createHash } from 'node:crypto';\n\n/** MD5 of a file's bytes. */\nexport function computeChecksumMd5(data: Buffer): string {\n  return createHash('md5').update(data).digest('hex');\n}\n`,
  'notes/todo.md': '# Todo\n\nMigrate the library to Qdrant and verify every point.\n',
};

async function allPoints(store: VectorStore): Promise<Map<string, StoredPoint>> {
  const out = new Map<string, StoredPoint>();
  let cursor: string | null = null;
  do {
    const page: { points: StoredPoint[]; next: string | null } = await store.scroll(cursor, 3);
    for (const p of page.points) out.set(p.id, p);
    cursor = page.next;
  } while (cursor !== null);
  return out;
}

describe('migrate embedded → embedded', () => {
  let env: TempEnv;
  let config: Config;
  let embedder: { id: string; dimension: number };
  let sourceCount = 0;
  const open: VectorStore[] = [];

  const side = (dir?: string): StoreSide => ({ kind: 'embedded', dataDir: dir });
  function storeAt(dir?: string): VectorStore {
    const s = storeForSide(config, side(dir));
    open.push(s);
    return s;
  }
  async function run(targetDir: string, extra: { restart?: boolean; target?: VectorStore } = {}) {
    const source = storeAt();
    const target = extra.target ?? storeAt(targetDir);
    return migrate({
      source,
      target,
      embedder,
      checkpointFile: checkpointFileFor(config, source, target, side(targetDir)),
      pageSize: 2,
      sampleSize: 1000,
      restart: extra.restart,
    });
  }

  beforeAll(async () => {
    env = tempEnv(DOCS);
    const services = await servicesFor(env.env, env.root);
    const indexed = await services.indexer.indexAll();
    expect(indexed.summary.indexed).toBe(4);
    sourceCount = await services.store.count();
    await services.close();
    config = loadConfig(env.env, env.root);
    const e = createEmbedder(config);
    embedder = { id: e.id, dimension: e.dimension };
    // Several pages at pageSize 2, so resuming has something to skip.
    expect(sourceCount).toBeGreaterThan(6);
  });

  afterAll(async () => {
    for (const s of open) await s.close().catch(() => undefined);
    env?.cleanup();
  });

  it('copies every point with equal vectors and payloads, verifies, and a second run is a no-op', async () => {
    const targetDir = path.join(env.root, 'copy');
    const report = await run(targetDir);
    expect(report.copied).toBe(sourceCount);
    expect(report.resumed_from).toBeNull();
    expect(report.verification).toEqual({ source_count: sourceCount, target_count: sourceCount, sampled: sourceCount, mismatches: [], ok: true });
    expect(describeVerification(report).at(-1)).toBe('verification: OK');
    expect(existsSync(path.join(targetDir, 'library.sqlite'))).toBe(true);
    expect(report.checkpoint.startsWith(targetDir + path.sep)).toBe(true);

    const source = storeAt();
    const target = storeAt(targetDir);
    await source.init(embedder);
    await target.init(embedder);
    const [src, dst] = await Promise.all([allPoints(source), allPoints(target)]);
    expect(src.size).toBe(sourceCount);
    expect([...dst.keys()].sort()).toEqual([...src.keys()].sort());
    for (const [id, p] of src) {
      const q = dst.get(id);
      expect(Array.from(q?.vector ?? [])).toEqual(Array.from(p.vector));
      expect(q?.payload).toEqual(p.payload);
    }
    expect(await target.listFiles()).toEqual(await source.listFiles());

    const again = await run(targetDir);
    expect(again.copied).toBe(0);
    expect(again.already_done).toBe(true);
    expect(again.verification.ok).toBe(true);
    expect(await target.count()).toBe(sourceCount);
  });

  it('resumes from the checkpoint after an interrupted copy', async () => {
    const targetDir = path.join(env.root, 'resumed');
    const flaky = storeAt(targetDir);
    const upsert = flaky.upsertPoints.bind(flaky);
    let calls = 0;
    flaky.upsertPoints = async (points, files) => {
      calls += 1;
      if (calls === 3) throw new Error('connection reset while copying');
      return upsert(points, files);
    };
    await expect(run(targetDir, { target: flaky })).rejects.toThrow('connection reset');
    expect(await flaky.count()).toBe(4);

    const report = await run(targetDir);
    expect(report.resumed_from).not.toBeNull();
    expect(report.copied).toBe(sourceCount - 4);
    expect(report.verification.ok).toBe(true);
    expect(report.verification.target_count).toBe(sourceCount);
  });

  it('reports a mismatch when the target changed, and --restart copies again', async () => {
    const targetDir = path.join(env.root, 'drifted');
    await run(targetDir);
    const target = storeAt(targetDir);
    await target.init(embedder);
    expect(await target.deleteFile('guides/backups.md')).toBeGreaterThan(0);

    const checked = await run(targetDir);
    expect(checked.verification.ok).toBe(false);
    expect(checked.verification.mismatches[0]).toMatch(/^counts differ: source \d+, target \d+$/);
    expect(checked.verification.mismatches.some((m) => m.endsWith('missing in the target'))).toBe(true);
    expect(describeVerification(checked).at(-1)).toMatch(/FAILED.*--restart/);

    const fixed = await run(targetDir, { restart: true });
    expect(fixed.copied).toBe(sourceCount);
    expect(fixed.verification.ok).toBe(true);
  });

  it('refuses a target that holds another embedder, and a target that is the source', async () => {
    const targetDir = path.join(env.root, 'other-embedder');
    // An empty store adopts any embedder; one holding another embedder's vectors must refuse.
    const source = storeAt();
    await source.init(embedder);
    const { points } = await source.scroll(null, 1);
    const other = storeAt(targetDir);
    await other.init({ id: 'mistral:mistral-embed', dimension: embedder.dimension });
    await other.upsertPoints(points, []);
    await other.close();
    const err = await run(targetDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbedderMismatchError);
    expect(String(err)).toContain('mistral:mistral-embed');

    await expect(run(config.paths.data)).rejects.toThrow(MigrationError);
  });
});
