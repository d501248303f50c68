// Bundles the server, the VS Code extension and its chat webview with esbuild.
// Server dependencies stay external: native modules (better-sqlite3, sqlite-vec)
// and pino's worker threads cannot be bundled, and node_modules is there anyway.
// The extension and webview bundle everything they use: the .vsix ships
// without node_modules (vsce --no-dependencies).
import { build } from 'esbuild';

const targets = process.argv.slice(2);
const known = ['server', 'extension', 'webview'];
const unknown = targets.filter((t) => !known.includes(t));
if (unknown.length > 0) {
  console.error(`build.mjs: unknown target(s) ${unknown.join(', ')}; use any of ${known.join(', ')} (none builds all)`);
  process.exit(2);
}
const want = (name) => targets.length === 0 || targets.includes(name);

const jobs = [];
if (want('server')) {
  jobs.push(
    build({
      entryPoints: { main: 'server/main.ts', cli: 'server/cli.ts', bench: 'bench/bench.ts', eval: 'eval/eval.ts' },
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
if (want('extension')) {
  jobs.push(
    build({
      entryPoints: ['extension/extension.ts'],
      outfile: 'dist/extension/extension.cjs',
      bundle: true,
      platform: 'node',
      format: 'cjs',
      // VS Code 1.90 runs extensions on Electron 29's Node 20.
      target: 'node20',
      external: ['vscode'],
      sourcemap: true,
      logLevel: 'warning',
    }),
  );
}
if (want('webview')) {
  jobs.push(
    build({
      entryPoints: ['extension/webview/main.ts'],
      outfile: 'dist/webview/main.js',
      bundle: true,
      platform: 'browser',
      format: 'iife',
      // Electron 29 ships Chromium 122.
      target: 'chrome120',
      minify: true,
      sourcemap: true,
      legalComments: 'external',
      logLevel: 'warning',
    }),
    build({
      entryPoints: ['extension/webview/styles.css'],
      outfile: 'dist/webview/styles.css',
      bundle: true,
      minify: true,
      logLevel: 'warning',
    }),
  );
}
await Promise.all(jobs);
