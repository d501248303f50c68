import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../helpers/bundle.js';
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
    const child = spawn(process.execPath, ['--import', path.join(REPO_ROOT, 'test/helpers/import-log/register.mjs'), main.file], {
      cwd: env.root,
      env: { PATH: process.env.PATH ?? '', ...env.env, IMPORT_LOG: log, API_HOST: '127.0.0.1', API_PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString('utf8');
          const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
        child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${err.slice(0, 2000)}`)));
      });
      const res = await fetch(`${url}/api/query/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'how long are backups kept' }) });
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(existsSync(log)).toBe(true);
    const imported = readFileSync(log, 'utf8').split('\n');
    // The hook saw the server's own packages, so an absent SDK is absent, not unlogged.
    expect(imported.some((u) => u.includes('/node_modules/hono/'))).toBe(true);
    expect(imported.filter((u) => u.includes('/@mistralai/'))).toEqual([]);
  }, 120_000);
});
