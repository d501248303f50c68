import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEmbedder } from '../../server/embedders/local.js';
import { readSavedIndex } from '../../server/stores/embedded/dense-index-file.js';
import { EmbeddedStore } from '../../server/stores/embedded/store.js';
import { bundleEntry } from '../helpers/bundle.js';
import { checkStoreIntegrity, fileHashes, md5 } from '../helpers/store-integrity.js';
import { REPO_ROOT } from '../helpers/temp-env.js';

/**
 * Really kills the indexer: the bundled CLI (`cli.js index
 * --all`) runs as a child process on a library of a few hundred files and is
 * SIGKILLed at several points, from start-up to mid-run. After every kill the
 * store file must hold, for each file, either its old or its new version
 * (never a mix, never chunks without their file), and a final run must finish
 * the work. The dense index file beside the store follows: the kills land
 * between its save and the CLI's writes (the CLI only logs them), and in the
 * server while it builds and saves the index; each time it must load or be
 * rebuilt and answer as an exact scan does.
 */

const FILES = 240;
let CLI = '';
let MAIN = '';
let cleanupBundle = () => {};
let cleanupMain = () => {};

/**
 * When to kill a run: a delay after spawn (the bundle takes over a second to
 * load, so these land in start-up), or once this run has reported that many
 * indexed files (these land mid-run, with other files' writes in flight).
 */
type KillPoint = { afterMs: number } | { afterIndexed: number };
const KILL_POINTS: KillPoint[] = [{ afterMs: 150 }, { afterIndexed: 1 }, { afterIndexed: 25 }, { afterIndexed: 80 }];

function content(i: number, generation: 'old' | 'new'): string {
  const sections = Array.from({ length: 3 + (i % 3) }, (_, s) =>
    [`## Part ${s}`, '', ...Array.from({ length: 8 }, (_, k) => `The ${generation} text of document ${i}, part ${s}, sentence ${k}, about topic ${(i * 13 + s) % 97}.`)].join(' '),
  );
  return `# Document ${i} (${generation})\n\n${sections.join('\n\n')}\n`;
}

const rel = (i: number) => `area${i % 12}/doc${i}.md`;

interface RunResult {
  killed: boolean;
  code: number | null;
  indexedReported: number;
  stderr: string;
}

function runIndexer(env: NodeJS.ProcessEnv, kill: KillPoint | null, command: string[] = [CLI, 'index', '--all']): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command, { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let indexed = 0;
    let killed = false;
    const killNow = () => {
      if (!killed && child.exitCode === null) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    const timer = kill && 'afterMs' in kill ? setTimeout(killNow, kill.afterMs) : undefined;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      indexed = (stderr.match(/^\[\d+\/\d+\] indexed /gm) ?? []).length;
      if (kill && 'afterIndexed' in kill && indexed >= kill.afterIndexed) killNow();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ killed: killed && signal === 'SIGKILL', code, indexedReported: indexed, stderr });
    });
  });
}

/**
 * Opens the store as the server would and checks every file against the
 * versions it may legitimately be at; returns how many are at each.
 */
async function verifyStore(dataDir: string, allowed: (filePath: string) => string[]): Promise<{ atVersion: Map<string, number>; files: number }> {
  const dbFile = path.join(dataDir, 'library.sqlite');
  const integrity = checkStoreIntegrity(dbFile);
  expect(integrity.problems).toEqual([]);
  expect(integrity.counts.vectors).toBe(integrity.counts.chunks);
  expect(integrity.counts.fts).toBe(integrity.counts.chunks);

  const embedder = new LocalEmbedder();
  // exactBelow 0: this small store's dense searches go through the index, not the exact scan.
  const store = new EmbeddedStore(dbFile, { exactBelow: 0 });
  let result: { atVersion: Map<string, number>; files: number };
  try {
    await store.init({ id: embedder.id, dimension: embedder.dimension });
    const atVersion = new Map<string, number>();
    const files = await store.listFiles();
    for (const f of files) {
      const versions = allowed(f.file_path);
      expect(versions, `${f.file_path} is at an unexpected version`).toContain(f.file_hash);
      atVersion.set(f.file_hash, (atVersion.get(f.file_hash) ?? 0) + 1);
      const chunks = await store.fileChunks(f.file_path);
      expect(chunks).toHaveLength(f.chunk_count);
      expect(chunks.every((c) => c.payload.file_hash === f.file_hash)).toBe(true);
    }
    // The store's own count agrees with SQL, and a search still runs on it.
    expect(await store.count()).toBe(integrity.counts.chunks);
    if (files.length > 0) await store.search({ mode: 'hybrid', text: 'document topic', vector: embedder.embedOne('document topic'), limit: 5 });
    expect(fileHashes(dbFile).size).toBe(files.length);
    await expectDenseIndexExact(dbFile, store);
    result = { atVersion, files: files.length };
  } finally {
    await store.close();
  }
  // close() saved the index: the JSON beside the store names a whole file.
  const saved = readSavedIndex(dbFile);
  if (saved !== null) expect(statSync(path.join(dataDir, saved.file)).size).toBe(saved.bytes);
  return result;
}

/**
 * The dense index (saved file + replayed log, or a rebuild) answers as an exact
 * scan of the same file does, up to the graph's approximation: a graph missing
 * the rows the killed run wrote, or holding rows it deleted, would miss most of
 * them (the re-rank reads SQLite, so scores are exact either way).
 */
async function expectDenseIndexExact(dbFile: string, store: EmbeddedStore): Promise<void> {
  const embedder = new LocalEmbedder();
  await store.prepareIndex();
  expect(store.denseIndexState()).toBe('ready');
  const exact = new EmbeddedStore(dbFile, { denseIndex: false });
  let found = 0;
  let wanted = 0;
  try {
    await exact.init({ id: embedder.id, dimension: embedder.dimension });
    // Most chunks share their words: queries naming one document (spread over the library, so over the runs that wrote them) tell them apart.
    const queries = ['document topic', ...[3, 61, 122, 185, 239].map((i) => `text of document ${i}, part 1, sentence 2`)];
    for (const q of queries) {
      const v = embedder.embedOne(q);
      const got = (await store.search({ mode: 'dense', vector: v, limit: 10 })).map((h) => h.dense?.toFixed(5));
      const truth = (await exact.search({ mode: 'dense', vector: v, limit: 10 })).map((h) => h.dense?.toFixed(5));
      expect(got).toHaveLength(truth.length);
      wanted += truth.length;
      for (const score of truth) {
        const at = got.indexOf(score);
        if (at !== -1) {
          got.splice(at, 1);
          found += 1;
        }
      }
    }
  } finally {
    await exact.close();
  }
  expect(found / wanted).toBeGreaterThanOrEqual(0.9);
}

describe('crash safety: SIGKILL during indexing leaves every file at its old or its new version', () => {
  let root: string;
  let library: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const oldHash = new Map<string, string>();
  const newHash = new Map<string, string>();

  beforeAll(async () => {
    const bundle = await bundleEntry('cli');
    CLI = bundle.file;
    cleanupBundle = bundle.cleanup;
    const main = await bundleEntry('main');
    MAIN = main.file;
    cleanupMain = main.cleanup;
    expect(existsSync(CLI)).toBe(true);
    root = mkdtempSync(path.join(os.tmpdir(), 'ailib-crash-'));
    library = path.join(root, 'library');
    dataDir = path.join(root, 'data');
    for (let i = 0; i < FILES; i++) {
      const abs = path.join(library, rel(i));
      mkdirSync(path.dirname(abs), { recursive: true });
      const text = content(i, 'old');
      writeFileSync(abs, text);
      oldHash.set(rel(i), md5(text));
      newHash.set(rel(i), md5(content(i, 'new')));
    }
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CONFIG_DIR: path.join(REPO_ROOT, 'configs'),
      LIBRARY_PATH: library,
      DATA_DIR: dataDir,
      SESSIONS_PATH: path.join(root, 'sessions'),
      LOG_LEVEL: 'silent',
      API_PORT: '0',
    };
  }, 120_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    cleanupBundle();
    cleanupMain();
  });

  async function killRuns(allowed: (filePath: string) => string[]): Promise<RunResult[]> {
    const runs: RunResult[] = [];
    for (const point of KILL_POINTS) {
      const run = await runIndexer(env, point);
      runs.push(run);
      // A run that had nothing left to do may finish before its kill point; anything else must have been killed.
      if (!run.killed) expect(run.code, run.stderr.slice(-2000)).toBe(0);
      if (existsSync(path.join(dataDir, 'library.sqlite'))) await verifyStore(dataDir, allowed);
    }
    return runs;
  }

  it('first index of an empty store: killed runs leave indexed files whole, a final run indexes everything', async () => {
    const runs = await killRuns((f) => [oldHash.get(f) ?? 'unknown file']);
    expect(runs.filter((r) => r.killed).length).toBeGreaterThanOrEqual(4);
    // Kills landed mid-run, after some files were committed.
    expect(runs.filter((r) => r.killed && r.indexedReported > 0).length).toBeGreaterThanOrEqual(3);

    const final = await runIndexer(env, null);
    expect(final.code, final.stderr.slice(-2000)).toBe(0);
    const { atVersion, files } = await verifyStore(dataDir, (f) => [oldHash.get(f) ?? 'unknown file']);
    expect(files).toBe(FILES);
    expect([...atVersion.values()].reduce((a, b) => a + b, 0)).toBe(FILES);
  }, 300_000);

  it('re-index over changed content: every file is old or new after each kill, all new after a final run', async () => {
    for (let i = 0; i < FILES; i++) writeFileSync(path.join(library, rel(i)), content(i, 'new'));
    const either = (f: string) => [oldHash.get(f) ?? 'unknown file', newHash.get(f) ?? 'unknown file'];
    const runs = await killRuns(either);
    expect(runs.filter((r) => r.killed).length).toBeGreaterThanOrEqual(4);

    // Mid-way, the store really is a mix of whole old and whole new files, and none went missing.
    const middle = await verifyStore(dataDir, either);
    expect(middle.files).toBe(FILES);
    expect(runs.filter((r) => r.killed && r.indexedReported > 0).length).toBeGreaterThanOrEqual(3);

    const final = await runIndexer(env, null);
    expect(final.code, final.stderr.slice(-2000)).toBe(0);
    const done = await verifyStore(dataDir, (f) => [newHash.get(f) ?? 'unknown file']);
    expect(done.files).toBe(FILES);
  }, 300_000);

  it('SIGKILL of the server while it builds, saves and maintains the dense index leaves it loadable or rebuildable', async () => {
    // Nothing saved: the server rebuilds at start, saves, then keeps it up to date while its startup job re-indexes.
    for (const name of readdirSync(dataDir)) if (name.includes('.dense')) rmSync(path.join(dataDir, name));
    for (let i = 0; i < FILES; i += 3) writeFileSync(path.join(library, rel(i)), content(i, 'old'));
    const either = (f: string) => [oldHash.get(f) ?? 'unknown file', newHash.get(f) ?? 'unknown file'];
    for (const afterMs of [700, 1200, 1800, 2600, 3500]) {
      const run = await runIndexer(env, { afterMs }, [MAIN]);
      expect(run.killed, run.stderr.slice(-2000)).toBe(true);
      await verifyStore(dataDir, either);
      // Leftovers of a save the kill interrupted are gone once the index has been opened again.
      expect(readdirSync(dataDir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    }
  }, 300_000);
});
