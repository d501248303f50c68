// Bundles the server (and, later, the extension and its webview) with esbuild.
// Server dependencies stay external: native modules (better-sqlite3, sqlite-vec)
// and pino's worker threads cannot be bundled, and node_modules is there anyway.
import { build } from 'esbuild';

const targets = process.argv.slice(2);
const want = (name) => targets.length === 0 || targets.includes(name);

const jobs = [];
if (want('server')) {
  jobs.push(
    build({
      entryPoints: { main: 'server/main.ts', cli: 'server/cli.ts', bench: 'bench/bench.ts' },
      outdir: 'dist/server',
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      logLevel: 'warning',
    }),
  );
}
await Promise.all(jobs);
