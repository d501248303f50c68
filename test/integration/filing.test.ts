import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNCATEGORIZED } from '../../shared/api-types.js';
import { filingCases } from '../../eval/filing.js';
import type { Services } from '../../server/services.js';
import { REPO_ROOT, servicesFor, tempEnv, type TempEnv } from '../helpers/temp-env.js';

const RATE_LIMITER = readFileSync(path.join(REPO_ROOT, 'eval/filing-docs/outside/rate_limiter.py'), 'utf8');
const RESTORE_DRILL = readFileSync(path.join(REPO_ROOT, 'eval/filing-docs/inside/restore-drill.md'), 'utf8');

/**
 * Issue 11, point 8: a document that fits no category is `uncategorized`.
 * The Python token-bucket rate limiter shares "token", "rate" and "limit"
 * with Security › Access Control and scored above taxonomy.min_confidence
 * there (0.23 > 0.2), so one absolute threshold filed it as access control.
 */
describe('filing admits when nothing fits', () => {
  let env: TempEnv;
  let services: Services;

  beforeAll(async () => {
    env = tempEnv({}, { copyLibrary: true });
    services = await servicesFor(env.env, env.root);
    await services.indexer.indexAll();
    // Contributed to a library that holds the starter documents, as a developer would.
    env.write('contributed/tools/rate_limiter.py', RATE_LIMITER);
    env.write('notes/restore-drill.md', RESTORE_DRILL);
    await services.indexer.indexPath('contributed/tools/rate_limiter.py');
    await services.indexer.indexPath('notes/restore-drill.md');
  });

  afterAll(async () => {
    await services?.close();
    env?.cleanup();
  });

  it('files a Python rate limiter as uncategorized, not Security › Access Control', async () => {
    const file = await services.store.getFile('contributed/tools/rate_limiter.py');
    expect(file?.taxonomy.full_path).toBe(UNCATEGORIZED);
    // It did match Access Control best, above the absolute threshold: the evidence check is what refused it.
    const vectors = (await services.store.fileChunks('contributed/tools/rate_limiter.py')).map((p) => p.vector);
    const best = services.classifier.rank(vectors)[0];
    expect(best?.path.full_path).toBe('security/access-control');
    expect(best?.score ?? 0).toBeGreaterThan(services.config.settings.taxonomy.min_confidence);
  });

  it('files it as uncategorized in the first full index too, before the library had members', async () => {
    const fresh = tempEnv({ 'tools/rate_limiter.py': RATE_LIMITER }, { copyLibrary: true });
    const first = await servicesFor(fresh.env, fresh.root);
    try {
      await first.indexer.indexAll();
      expect((await first.store.getFile('tools/rate_limiter.py'))?.taxonomy.full_path).toBe(UNCATEGORIZED);
      // Front matter still decides for the documents that have it.
      expect((await first.store.getFile('security/tokens-keys-and-access.md'))?.taxonomy.full_path).toBe('security/access-control');
    } finally {
      await first.close();
      fresh.cleanup();
    }
  });

  it('still files a short new note on the library\'s topics where it belongs', async () => {
    expect((await services.store.getFile('notes/restore-drill.md'))?.taxonomy.full_path).toBe('operations/backup-restore');
  });

  it('files the labelled set right: the starter documents by their words, every outside document uncategorized', async () => {
    const { cases } = await filingCases(services, REPO_ROOT);
    const outside = cases.filter((c) => c.label === UNCATEGORIZED);
    expect(outside.length).toBeGreaterThanOrEqual(8);
    expect(outside.filter((c) => c.filed !== UNCATEGORIZED).map((c) => c.document)).toEqual([]);
    const inside = cases.filter((c) => c.label !== UNCATEGORIZED);
    expect(inside.length).toBeGreaterThanOrEqual(19);
    expect(inside.filter((c) => c.filed !== c.label).map((c) => `${c.document} → ${c.filed}`)).toEqual([]);
  });
});
