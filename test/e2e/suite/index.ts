/**
 * extensionTestsPath entry: VS Code loads this file in the extension host and
 * awaits `run()`; a rejection means failure (exit code 1 to the test driver).
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { loadSuiteConfig } from './config.js';
import { runTests } from './runner.js';
import { tests, type Ctx } from './tests.js';

export async function setupContext(): Promise<Ctx> {
  const cfg = loadSuiteConfig();
  const ext = vscode.extensions.getExtension(cfg.extensionId);
  if (!ext) throw new Error(`extension ${cfg.extensionId} is not loaded`);
  const api: unknown = await ext.activate();
  return { cfg, ext, api };
}

export async function run(): Promise<void> {
  console.log('AI Library extension-host suite');
  const ctx = await setupContext();
  const results = await runTests(tests, ctx, path.join(ctx.cfg.resultsDir ?? __dirname, 'results.json'));
  if (results.failed.length > 0) throw new Error(`${results.failed.length} extension-host test(s) failed: ${results.failed.map((f) => f.name).join('; ')}`);
}
