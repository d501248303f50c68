import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../server/auth/token-store.js';
import { openDatabase } from '../../server/storage/sqlite-driver.js';
import { bundleEntry } from '../helpers/bundle.js';
import { runCli, spawnServer, waitFor, type SpawnedServer } from '../helpers/processes.js';
import { checkStoreIntegrity, fileHashes, md5 } from '../helpers/store-integrity.js';
import { readReply, tempEnv, type TempEnv } from '../helpers/temp-env.js';

/**
 * Issue 12's defects that need more than one process on one DATA_DIR: a
 * second server (3), the CLI indexing while the server takes uploads (3), a
 * kill between an upload's write and its index (5), `restore --force` while
 * the server runs (6), and killed backups and restores (7). Real bundled
 * processes, real files, real HTTP.
 */

let MAIN = '';
let CLI = '';
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  const [main, cli] = await Promise.all([bundleEntry('main'), bundleEntry('cli')]);
  MAIN = main.file;
  CLI = cli.file;
  cleanups.push(main.cleanup, cli.cleanup);
}, 60_000);
afterAll(() => {
  for (const c of cleanups) c();
});

function processEnv(env: TempEnv): NodeJS.ProcessEnv {
  return { ...env.env, NODE_ENV: 'test' };
}

async function upload(url: string, body: Record<string, unknown>, token?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/api/library/index`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const { status, json } = await readReply(res);
  return { status, json };
}

async function stop(server: SpawnedServer | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  await server.exited;
}

/** Waits until the server's startup index job (and any other) has finished. */
async function settled(url: string, token?: string): Promise<void> {
  await waitFor('the index jobs to finish', async () => {
    const res = await fetch(`${url}/api/library/jobs`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const body = (await res.json()) as { jobs: Array<{ state: string }> };
    return body.jobs.length > 0 && body.jobs.every((j) => ['done', 'failed', 'cancelled'].includes(j.state)) ? true : undefined;
  }, 60_000, 100);
}

function contributors(dbFile: string): Map<string, string | null> {
  const db = openDatabase(dbFile, { readonly: true });
  try {
    const out = new Map<string, string | null>();
    for (const r of db.prepare('SELECT file_path, contributor FROM files').all()) {
      if (typeof r === 'object' && r !== null && 'file_path' in r && 'contributor' in r) out.set(String(r.file_path), r.contributor === null ? null : String(r.contributor));
    }
    return out;
  } finally {
    db.close();
  }
}

function filesUnder(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const abs = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(abs).isDirectory()) return filesUnder(abs, rel);
    // An upload's temp file that a kill left behind is not a document.
    return /^\.ail-.*\.tmp$/.test(name) ? [] : [rel];
  });
}

/** Developers' tokens, created as `npm run token -- create` does, before the server starts. */
function createTokens(env: TempEnv, n: number, prefix = 'dev'): string[] {
  mkdirSync(env.env.DATA_DIR!, { recursive: true });
  const store = TokenStore.open(env.env.DATA_DIR!);
  try {
    return Array.from({ length: n }, (_, i) => store.create(`${prefix}${i}`).token);
  } finally {
    store.close();
  }
}

function doc(i: number, version: string, sections = 3): string {
  const body = Array.from({ length: sections }, (_, s) => `## Part ${s}\n\n${Array.from({ length: 12 }, (_, k) => `Sentence ${k} of part ${s} in document ${i}, version ${version}, on topic ${(i * 7 + s) % 31}.`).join(' ')}`);
  return `# Document ${i} ${version}\n\n${body.join('\n\n')}\n`;
}

describe('one server per DATA_DIR (issue 12, defect 3)', () => {
  let env: TempEnv;
  let first: SpawnedServer | undefined;

  beforeAll(() => {
    env = tempEnv({ 'a.md': doc(1, 'v1') });
  });
  afterAll(async () => {
    await stop(first);
    env?.cleanup();
  });

  it('a second server on the same DATA_DIR refuses to start with a one-line reason; a SIGKILL frees it', async () => {
    first = await spawnServer(MAIN, processEnv(env));
    const second = await spawnServer(MAIN, processEnv(env)).then(
      (s) => ({ started: s }),
      (e: unknown) => ({ refused: e instanceof Error ? e.message : String(e) }),
    );
    if ('started' in second) {
      await stop(second.started);
      expect.fail('the second server started on a DATA_DIR in use');
    }
    const lines = second.refused.split('\n').filter((l) => l.startsWith('ai-library:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/an AI Library server \(pid \d+\) is using DATA_DIR .*; stop it first, or give this server its own DATA_DIR/);
    // The OS drops the lock with its holder: no stale lock after a kill.
    first.child.kill('SIGKILL');
    await first.exited;
    first = await spawnServer(MAIN, processEnv(env));
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
  }, 120_000);
});

describe('`npm run index -- --all` while the server takes uploads (issue 12, defect 3)', () => {
  let env: TempEnv;
  let server: SpawnedServer | undefined;
  const tokens: string[] = [];

  beforeAll(() => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`area${i % 5}/doc${i}.md`] = doc(i, 'disk');
    env = tempEnv(files);
    tokens.push(...createTokens(env, 8));
  });
  afterAll(async () => {
    await stop(server);
    env?.cleanup();
  });

  it('every upload is a 200, the CLI succeeds, and afterwards the index holds what the disk holds', async () => {
    server = await spawnServer(MAIN, processEnv(env));
    await settled(server.url, tokens[0]);
    const url = server.url;
    // Uploads rewrite 8 paths over and over while the CLI re-indexes everything (new text on disk each time).
    const stopAt = { done: false };
    const statuses: number[] = [];
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let round = 0; !stopAt.done || round < 3; round++) {
        const r = await upload(url, { file_path: `busy/w${w}.md`, content: doc(100 + w, `round${round}`, 2 + (round % 3)), workspace: 'team' }, tokens[w]);
        statuses.push(r.status);
        if (r.status !== 200) throw new Error(`upload answered ${r.status}: ${JSON.stringify(r.json)}`);
      }
    });
    const cliRuns = (async () => {
      for (let i = 0; i < 2; i++) {
        for (let k = 0; k < 40; k += 3) writeFileSync(path.join(env.library, `area${k % 5}/doc${k}.md`), doc(k, `cli${i}`));
        const run = await runCli(CLI, ['index', '--all'], processEnv(env));
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).not.toMatch(/locked/);
      }
      stopAt.done = true;
    })();
    await Promise.all([cliRuns, ...writers]);
    expect(statuses.every((s) => s === 200)).toBe(true);
    await stop(server);
    server = undefined;

    const dbFile = path.join(env.env.DATA_DIR!, 'library.sqlite');
    expect(checkStoreIntegrity(dbFile).problems).toEqual([]);
    const hashes = fileHashes(dbFile);
    const onDisk = filesUnder(env.library);
    expect([...hashes.keys()].sort()).toEqual(onDisk.sort());
    for (const rel of onDisk) expect(hashes.get(rel), rel).toBe(md5(readFileSync(path.join(env.library, rel))));
  }, 120_000);
});

describe('a kill between an upload and its index keeps the contributor (issue 12, defect 5)', () => {
  let env: TempEnv;
  let server: SpawnedServer | undefined;
  let alice = '';

  beforeAll(() => {
    env = tempEnv();
    alice = createTokens(env, 1, 'alice')[0]!;
  });
  afterAll(async () => {
    await stop(server);
    env?.cleanup();
  });

  it('after a SIGKILL during an upload burst and a restart, the uploader can still re-upload and delete every file', async () => {
    server = await spawnServer(MAIN, processEnv(env));
    await settled(server.url, alice);
    const url = server.url;
    let answered = 0;
    const burst = Array.from({ length: 40 }, (_, i) =>
      upload(url, { file_path: `burst/f${i}.md`, content: doc(i, 'burst', 8), workspace: 'w' }, alice).then(
        () => (answered += 1),
        () => undefined,
      ),
    );
    await waitFor('a few uploads to finish', () => (answered >= 3 ? true : undefined), 60_000, 5);
    server.child.kill('SIGKILL');
    await server.exited;
    await Promise.all(burst);
    const written = filesUnder(path.join(env.library, 'contributed/w/burst'));
    expect(written.length).toBeGreaterThan(0);

    server = await spawnServer(MAIN, processEnv(env));
    await settled(server.url, alice);
    const owners = contributors(path.join(env.env.DATA_DIR!, 'library.sqlite'));
    for (const f of written) expect(owners.get(`contributed/w/burst/${f}`), f).toBe('alice0');
    for (const f of written) {
      const again = await upload(server.url, { file_path: `burst/${f}`, content: doc(1, 'again'), workspace: 'w' }, alice);
      expect(again.status, f).toBe(200);
      const del = await fetch(`${server.url}/api/library/documents?path=${encodeURIComponent(`contributed/w/burst/${f}`)}`, { method: 'DELETE', headers: { authorization: `Bearer ${alice}` } });
      expect(del.status, f).toBe(200);
    }
  }, 120_000);
});
