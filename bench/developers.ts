/**
 * Many developers, one library (issue 12): developers with their own tokens
 * upload to paths of their own and race for shared new paths, while an admin
 * re-indexes the whole library and the CLI indexes the same DATA_DIR. Every
 * reply is recorded; `auditDevelopers` then checks that every accepted (200)
 * write is on disk and in the index exactly once with its uploader as owner,
 * and that every refused one was a 403 naming the owner.
 *
 * `npm test` runs a short round (test/integration/concurrent-developers.test.ts);
 * `npm run bench -- --developers` a long one with numbers.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../server/app.js';
import { loadConfig } from '../server/config/settings.js';
import { createLogger } from '../server/logger.js';
import { createServices } from '../server/services.js';
import type { VectorStore } from '../server/stores/vector-store.js';
import { percentile } from './stats.js';

export interface DeveloperMixOptions {
  url: string;
  /** One token per developer; developer i is named by `names[i]`. */
  tokens: string[];
  names: string[];
  adminToken: string;
  /** Rounds; each developer uploads `ownPerRound` own files and races for `sharedPerRound` shared paths per round. */
  rounds: number;
  ownPerRound: number;
  sharedPerRound: number;
  /** Full re-indexes the admin asks for (POST {"all": true}) while the uploads run. */
  adminReindexes: number;
  /** Runs the CLI's `index --all` once on the same DATA_DIR; resolves with its exit code. */
  runCli: () => Promise<{ code: number | null; stderr: string }>;
}

export interface UploadRecord {
  developer: number;
  filePath: string;
  stored: string;
  content: string;
  status: number;
  message: string;
  ms: number;
}

export interface DeveloperMixResult {
  uploads: UploadRecord[];
  reindexStatuses: number[];
  cli: { code: number | null; stderr: string };
  seconds: number;
}

const WORKSPACE = 'team';

function md5(content: string | Buffer): string {
  return createHash('md5').update(content).digest('hex');
}

function note(developer: number, filePath: string, round: number): string {
  const tag = `dev${developer}r${round}`;
  return `# ${filePath} by ${tag}\n\n${Array.from({ length: 6 }, (_, k) => `Line ${k}: ${tag} writes about ${filePath} and keeps the service healthy.`).join(' ')}\n`;
}

async function post(url: string, token: string, body: unknown): Promise<{ status: number; message: string }> {
  const res = await fetch(`${url}/api/library/index`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let message = '';
  try {
    const json: unknown = JSON.parse(text);
    const error: unknown = typeof json === 'object' && json !== null ? Reflect.get(json, 'error') : undefined;
    const m: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'message') : undefined;
    message = typeof m === 'string' ? m : '';
  } catch {
    message = text.slice(0, 200);
  }
  return { status: res.status, message };
}

export async function runDevelopers(o: DeveloperMixOptions): Promise<DeveloperMixResult> {
  const started = performance.now();
  const uploads: UploadRecord[] = [];
  const developer = async (d: number) => {
    for (let round = 0; round < o.rounds; round++) {
      const paths = [
        ...Array.from({ length: o.ownPerRound }, (_, k) => `own/${o.names[d]}/r${round}-${k}.md`),
        // Everyone asks for the same new paths at about the same time.
        ...Array.from({ length: o.sharedPerRound }, (_, k) => `shared/r${round}-${k}.md`),
      ];
      await Promise.all(
        paths.map(async (filePath) => {
          const content = note(d, filePath, round);
          const t = performance.now();
          const { status, message } = await post(o.url, o.tokens[d] ?? '', { file_path: filePath, content, workspace: WORKSPACE });
          uploads.push({ developer: d, filePath, stored: `contributed/${WORKSPACE}/${filePath}`, content, status, message, ms: performance.now() - t });
        }),
      );
    }
  };
  const admin = async () => {
    const statuses: number[] = [];
    for (let i = 0; i < o.adminReindexes; i++) statuses.push((await post(o.url, o.adminToken, { all: true })).status);
    return statuses;
  };
  const [cli, reindexStatuses] = await Promise.all([o.runCli(), admin(), ...o.tokens.map((_, d) => developer(d))]);
  return { uploads, reindexStatuses, cli, seconds: (performance.now() - started) / 1000 };
}

/** Every way the run broke the promise "a 200 means the write happened, and it is yours"; empty when it held. */
export async function auditDevelopers(result: DeveloperMixResult, names: string[], libraryRoot: string, store: VectorStore): Promise<string[]> {
  const problems: string[] = [];
  if (result.cli.code !== 0) problems.push(`the CLI exited ${result.cli.code}: ${result.cli.stderr.split('\n').slice(-3).join(' ')}`);
  for (const s of result.reindexStatuses) if (s !== 200) problems.push(`an admin re-index answered ${s}`);
  const byPath = new Map<string, UploadRecord[]>();
  for (const u of result.uploads) byPath.set(u.stored, [...(byPath.get(u.stored) ?? []), u]);
  for (const [stored, records] of byPath) {
    const accepted = records.filter((r) => r.status === 200);
    if (accepted.length !== 1) {
      problems.push(`${stored}: ${accepted.length} uploads got 200 (${records.map((r) => r.status).join(', ')}); exactly one must win`);
      continue;
    }
    const winner = accepted[0];
    if (!winner) continue;
    const owner = names[winner.developer];
    for (const r of records) {
      if (r === winner) continue;
      if (r.status !== 403 || !r.message.includes(`"${owner}"`)) problems.push(`${stored}: a refused upload by ${names[r.developer]} got ${r.status} "${r.message}", not 403 naming ${owner}`);
    }
    const abs = path.join(libraryRoot, stored);
    const onDisk = existsSync(abs) ? readFileSync(abs) : null;
    if (onDisk === null || md5(onDisk) !== md5(winner.content)) {
      problems.push(`${stored}: the accepted text of ${owner} is ${onDisk === null ? 'missing' : 'not what is'} on disk`);
      continue;
    }
    const file = await store.getFile(stored);
    if (!file || file.file_hash !== md5(winner.content)) problems.push(`${stored}: the index holds ${file ? 'another version' : 'nothing'}, not ${owner}'s accepted text`);
    else if (file.contributor !== owner) problems.push(`${stored}: the index names ${file.contributor ?? 'nobody'} as its contributor, not ${owner}`);
    const chunks = await store.fileChunks(stored);
    if (chunks.length !== file?.chunk_count || chunks.some((c) => c.payload.file_hash !== file.file_hash)) problems.push(`${stored}: its chunks do not all belong to the stored version`);
  }
  // Exactly once: no accepted text shows up under any other path.
  const tags = new Set(result.uploads.filter((u) => u.status === 200).map((u) => u.stored));
  for (const f of await store.listFiles()) {
    if (f.file_path.startsWith(`contributed/${WORKSPACE}/`) && !tags.has(f.file_path)) problems.push(`${f.file_path} is in the index but no upload of it was accepted`);
  }
  return problems;
}


/**
 * `npm run bench -- --developers`: the long run on the embedded default,
 * BENCH_DEVELOPER_ROUNDS rounds (default 10) of 20 developers, the CLI from
 * dist/server/cli.js (built by `npm run bench`). Prints counts and latencies
 * and every problem the audit finds; exits 1 when there is one.
 */
export async function benchDevelopers(rounds = Number(process.env.BENCH_DEVELOPER_ROUNDS ?? 10), developers = 20): Promise<number> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ailib-bench-devs-'));
  const env = {
    CONFIG_DIR: path.join(process.cwd(), 'configs'),
    LIBRARY_PATH: path.join(root, 'library'),
    DATA_DIR: path.join(root, 'data'),
    SESSIONS_PATH: path.join(root, 'sessions'),
    LIMIT_INDEX_PER_MINUTE: String(1_000_000_000),
  };
  for (let i = 0; i < 200; i++) {
    const dir = path.join(env.LIBRARY_PATH, `area${i % 10}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `doc${i}.md`), `# Doc ${i}\n\nHow service ${i} is deployed, restarted and watched.\n`);
  }
  const services = await createServices(loadConfig(env, root));
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: createApp(services, createLogger('silent')).fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  try {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('bench developers: the server did not start listening');
    const names = Array.from({ length: developers }, (_, i) => `dev${i}`);
    const tokens = names.map((n) => services.tokens.create(n).token);
    const adminToken = services.tokens.create('ops', { admin: true }).token;
    const cli = path.join(process.cwd(), 'dist', 'server', 'cli.js');
    const result = await runDevelopers({
      url: `http://127.0.0.1:${address.port}`,
      tokens,
      names,
      adminToken,
      rounds,
      ownPerRound: 3,
      sharedPerRound: 3,
      adminReindexes: Math.max(2, Math.floor(rounds / 2)),
      runCli: () => runProcess(process.execPath, [cli, 'index', '--all'], { ...process.env, ...env }),
    });
    const problems = await auditDevelopers(result, names, env.LIBRARY_PATH, services.store);
    const ms = result.uploads.map((u) => u.ms);
    const by = (s: number) => result.uploads.filter((u) => u.status === s).length;
    console.log(`\ndevelopers: ${developers} × ${rounds} rounds in ${result.seconds.toFixed(1)} s: ${result.uploads.length} uploads (${by(200)} × 200, ${by(403)} × 403, ${result.uploads.length - by(200) - by(403)} other)`);
    console.log(`  upload p50 ${percentile(ms, 50).toFixed(0)} ms, p95 ${percentile(ms, 95).toFixed(0)} ms; admin re-indexes ${result.reindexStatuses.join(', ')}; CLI exit ${result.cli.code}`);
    console.log(`  lost or misattributed writes: ${problems.length}`);
    for (const p of problems.slice(0, 20)) console.log(`    ${p}`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await services.close();
    rmSync(root, { recursive: true, force: true });
  }
}

function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
