import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../helpers/bundle.js';
import { spawnServer } from '../helpers/processes.js';
import { REPO_ROOT, tempEnv, type TempEnv } from '../helpers/temp-env.js';

/**
 * Importing the Mistral SDK costs a process ~105 MB (server/embedders/mistral.ts),
 * and the default server, on the local embedder, never sends it a request: the
 * real server process, started and asked to index and search, must not import it.
 */
describe('a server on the local embedder', () => {
  let env: TempEnv;
  let main: { file: string; cleanup: () => void };

  beforeAll(async () => {
    main = await bundleEntry('main');
    env = tempEnv({ 'guides/backups.md': '# Backups\n\nDaily backups are kept for fourteen days on the backup volume.\n' });
  });

  afterAll(() => {
    main?.cleanup();
    env?.cleanup();
  });

  it('never imports the Mistral SDK', async () => {
    const log = path.join(env.root, 'imports.log');
    const server = await spawnServer(main.file, { ...env.env, IMPORT_LOG: log }, ['--import', path.join(REPO_ROOT, 'test/helpers/import-log/register.mjs')]);
    try {
      const res = await fetch(`${server.url}/api/query/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'how long are backups kept' }) });
      expect(res.status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    expect(existsSync(log)).toBe(true);
    const imported = readFileSync(log, 'utf8').split('\n');
    // The hook saw the server's own packages, so an absent SDK is absent, not unlogged.
    expect(imported.some((u) => u.includes('/node_modules/hono/'))).toBe(true);
    expect(imported.filter((u) => u.includes('/@mistralai/'))).toEqual([]);
  }, 120_000);
});
