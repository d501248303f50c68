import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * Bundles a server entry (server/cli.ts, server/main.ts) like scripts/build.mjs,
 * but into a folder of this run's own under .test-tmp/ (inside the repo, so its
 * external packages resolve from node_modules): tests that spawn the real
 * process never race another test's rebuild of dist/.
 */
export async function bundleEntry(entry: 'cli' | 'main'): Promise<{ file: string; cleanup: () => void }> {
  const parent = path.join(REPO_ROOT, '.test-tmp', 'bundles');
  mkdirSync(parent, { recursive: true });
  const outdir = mkdtempSync(path.join(parent, `${entry}-`));
  await build({
    entryPoints: { [entry]: path.join(REPO_ROOT, 'server', `${entry}.ts`) },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  return { file: path.join(outdir, `${entry}.mjs`), cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}
