import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditDevelopers, runDevelopers } from '../../bench/developers.js';
import { bundleEntry } from '../helpers/bundle.js';
import { runCli } from '../helpers/processes.js';
import { checkStoreIntegrity, fileHashes, md5 } from '../helpers/store-integrity.js';
import { startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';
import { readFileSync, readdirSync, statSync } from 'node:fs';

/**
 * 20 developers with their own tokens upload to their own and to shared new
 * paths while an admin re-indexes everything and the CLI indexes the same
 * DATA_DIR (issue 12, "Also"). Every accepted write must be on disk and in
 * the index exactly once, with its uploader as owner; every refused one a
 * 403 naming the owner. The long version: `npm run bench -- --developers`.
 */

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const abs = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(abs).isDirectory() ? filesUnder(abs, rel) : [rel];
  });
}

describe('20 concurrent developers, an admin re-index and the CLI on one library', () => {
  let env: TempEnv;
  let server: RunningServer;
  let cli = '';
  let cleanupBundle = () => {};

  beforeAll(async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`guides/g${i}.md`] = `# Guide ${i}\n\nHow to run service ${i} and restart it when it stalls.\n`;
    env = tempEnv(files);
    const bundle = await bundleEntry('cli');
    cli = bundle.file;
    cleanupBundle = bundle.cleanup;
    server = await startServer(env.env, env.root);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    cleanupBundle();
    env?.cleanup();
  });

  it('keeps every accepted write exactly once, with its owner, and refuses the rest with 403', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `dev${i}`);
    const tokens = names.map((n) => server.services.tokens.create(n).token);
    const adminToken = server.services.tokens.create('ops', { admin: true }).token;
    const result = await runDevelopers({
      url: server.url,
      tokens,
      names,
      adminToken,
      rounds: 2,
      ownPerRound: 2,
      sharedPerRound: 2,
      adminReindexes: 2,
      runCli: () => runCli(cli, ['index', '--all'], { ...env.env }),
    });
    expect(result.uploads).toHaveLength(20 * 2 * 4);
    expect(await auditDevelopers(result, names, env.library, server.services.store)).toEqual([]);
    expect(result.uploads.filter((u) => u.status === 200)).toHaveLength(20 * 2 * 2 + 2 * 2);

    // And nothing else drifted: every file on disk is in the index at its disk version.
    const dbFile = path.join(env.env.DATA_DIR!, 'library.sqlite');
    expect(checkStoreIntegrity(dbFile).problems).toEqual([]);
    const hashes = fileHashes(dbFile);
    const onDisk = filesUnder(env.library);
    expect([...hashes.keys()].sort()).toEqual(onDisk.sort());
    for (const rel of onDisk) expect(hashes.get(rel), rel).toBe(md5(readFileSync(path.join(env.library, rel))));
  }, 60_000);
});
