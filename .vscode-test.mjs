// @vscode/test-cli configuration: the extension's end-to-end suites in a desktop
// VS Code (downloaded by @vscode/test-electron, or the one in VSCODE_TEST_PATH).
// The same suites run in `npm test` inside code-server (test/e2e/extension.test.ts);
// this file is for machines with a desktop VS Code. See test/e2e/README.md.
//
// Loading this file prepares the run: it builds the extension, bundles the suites,
// and starts a real AI Library server with the fake Anthropic API behind it. Those
// live as long as the vscode-test process.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(fileURLToPath(import.meta.url));

async function config() {
  const built = spawnSync(process.execPath, ['scripts/build.mjs', 'extension', 'webview'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('node scripts/build.mjs extension webview failed');
  // The setup is TypeScript: bundle it next to the repo's node_modules and load it.
  const setup = path.join(root, '.vscode-test', 'e2e-setup.mjs');
  await build({
    entryPoints: [path.join(root, 'test/e2e/desktop.ts')],
    outfile: setup,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  const { prepareDesktopRun } = await import(pathToFileURL(setup).href);
  const run = await prepareDesktopRun();
  /** @type {import('@vscode/test-cli').TestConfiguration} */
  const testConfig = {
    label: 'e2e',
    files: run.mochaFile,
    extensionDevelopmentPath: root,
    workspaceFolder: run.workspace,
    launchArgs: ['--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    mocha: { ui: 'tdd', timeout: 60_000 },
    ...(process.env.VSCODE_TEST_PATH ? { useInstallation: { fromPath: process.env.VSCODE_TEST_PATH } } : { version: 'stable' }),
  };
  return testConfig;
}

export default config();
