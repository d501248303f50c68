/**
 * Setup for a desktop VS Code run through @vscode/test-cli / @vscode/test-electron
 * (.vscode-test.mjs bundles and calls this): the same real server, fake Anthropic
 * API, workspace and extension-host suites as the code-server run, minus the
 * browser. Everything it starts dies with the test-cli process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startAnthropicFake } from '../fakes/anthropic-fake.js';
import {
  EXTENSION_ID,
  FAKE_ANTHROPIC_KEY,
  REPO_ROOT,
  WORKSPACE_NAME,
  buildServer,
  buildSuite,
  createWorkspace,
  e2eLog as log,
  libraryFixture,
  startLibraryServer,
  waitForIdle,
} from './harness.js';

export interface DesktopRun {
  /** The workspace folder to open. */
  workspace: string;
  /** The bundled suite for mocha (test-cli `files`). */
  mochaFile: string;
  /** The bundled suite with `run()` (test-electron `extensionTestsPath`). */
  indexFile: string;
  serverUrl: string;
}

export async function prepareDesktopRun(): Promise<DesktopRun> {
  const base = path.join(REPO_ROOT, '.vscode-test', 'e2e');
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(base, { recursive: true });
  const runDir = fs.mkdtempSync(path.join(base, 'run-'));
  const workspace = createWorkspace(runDir);
  const serverJs = (await buildServer()).file;
  const fake = await startAnthropicFake();
  const server = await startLibraryServer({
    runDir,
    name: 'main',
    mainJs: serverJs,
    env: { ANTHROPIC_BASE_URL: fake.url },
    library: libraryFixture(),
  });
  await waitForIdle(server.url);
  // Desktop VS Code keeps its own user settings: point the extension at the server per workspace.
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'aiLibrary.serverUrl': server.url }, null, 2));
  const suiteDir = path.join(base, 'suite');
  const indexFile = await buildSuite(suiteDir, {
    extensionId: EXTENSION_ID,
    workspace,
    workspaceName: WORKSPACE_NAME,
    serverUrl: server.url,
    anthropicKey: FAKE_ANTHROPIC_KEY,
  });
  log(`desktop run: server ${server.url}, workspace ${workspace}`);
  return { workspace, mochaFile: path.join(suiteDir, 'mocha.cjs'), indexFile, serverUrl: server.url };
}
