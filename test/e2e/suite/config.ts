/**
 * What the extension-host suites need to know about the run: written by the harness
 * (or .vscode-test.mjs) as e2e-config.json beside the bundled index.cjs.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface SuiteConfig {
  extensionId: string;
  /** Absolute path of the workspace folder VS Code has open. */
  workspace: string;
  /** The name files from this workspace are filed under on the server (contributed/<name>/...). */
  workspaceName: string;
  /** The server under test (also aiLibrary.serverUrl in the user settings). */
  serverUrl: string;
  /** A key the server's Anthropic endpoint (the fake) accepts; set through aiLibrary.setAnthropicApiKey. */
  anthropicKey: string;
  /** Where the suite writes results.json (defaults to the bundle's folder). */
  resultsDir?: string;
}

export function loadSuiteConfig(): SuiteConfig {
  const file = process.env.AI_LIBRARY_E2E_CONFIG || path.join(__dirname, 'e2e-config.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SuiteConfig;
}
