/**
 * What another account on the server's host, or an anonymous caller of
 * /health, can learn (issue 12, defect 13): the real server process is
 * started on a DATA_DIR left world-readable by an older version.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AskResponse, HealthResponse } from '../../shared/api-types.js';
import { TokenStore } from '../../server/auth/token-store.js';
import { bundleEntry } from '../helpers/bundle.js';
import { REPO_ROOT, readReply, tempEnv, type TempEnv } from '../helpers/temp-env.js';

const DOCS: Record<string, string> = {
  'guides/quokka-runbook.md': '# Quokka runbook\n\nRestart the quokka service with systemctl restart quokka after a deploy.\n',
  'src/rate_limiter.py': 'def allow(bucket):\n    """Takes one token from the bucket."""\n    return bucket.take(1)\n',
};

const modeOf = (file: string): number => statSync(file).mode & 0o777;

/** The server's listening URL, read from its first log line that has one. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${out}\n${err}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => void (err += chunk.toString('utf8')));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}\n${err}`));
    });
  });
}

describe('server state on the host and /health', () => {
  let env: TempEnv;
  let dataDir: string;
  let sessions: string;
  let token: string;
  let admin: string;
  let child: ChildProcess | undefined;
  let url: string;
  let bundle: { file: string; cleanup: () => void };

  beforeAll(async () => {
    env = tempEnv(DOCS);
    dataDir = env.env.DATA_DIR!;
    sessions = env.env.SESSIONS_PATH!;
    const cli = TokenStore.open(dataDir);
    try {
      token = cli.create('alice').token;
      admin = cli.create('ops', { admin: true }).token;
    } finally {
      cli.close();
    }
    // As an older version left them: world-readable folders and files.
    mkdirSync(path.join(dataDir, 'snapshots'), { recursive: true });
    writeFileSync(path.join(dataDir, 'snapshots', '2026-01-01T00-00-00-000Z.sqlite'), '');
    writeFileSync(path.join(dataDir, 'usage.sqlite'), '');
    mkdirSync(path.join(sessions, 'alice'), { recursive: true });
    writeFileSync(path.join(sessions, 'alice', 'old.json'), '{}');
    for (const dir of [dataDir, path.join(dataDir, 'snapshots'), sessions, path.join(sessions, 'alice')]) chmodSync(dir, 0o755);
    for (const file of ['tokens.sqlite', 'usage.sqlite', 'snapshots/2026-01-01T00-00-00-000Z.sqlite']) chmodSync(path.join(dataDir, file), 0o644);
    chmodSync(path.join(sessions, 'alice', 'old.json'), 0o644);

    bundle = await bundleEntry('main');
    child = spawn(process.execPath, [bundle.file], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env.env, API_HOST: '127.0.0.1', API_PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await listeningUrl(child);
    // The startup index has run once the library's files are searchable.
    for (let i = 0; i < 300; i++) {
      const health = (await (await fetch(`${url}/health`, { headers: { authorization: `Bearer ${token}` } })).json()) as HealthResponse;
      if (health.indexing.state === 'done') break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    bundle?.cleanup();
    env?.cleanup();
  });

  it('keeps DATA_DIR, its stores and snapshots owner-only, fixing what an older version left open', async () => {
    // A snapshot taken by this server, beside the old one.
    const snap = await fetch(`${url}/api/admin/snapshots`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(snap.status).toBe(201);
    const { name } = (await snap.json()) as { name: string };
    expect(modeOf(path.join(dataDir, 'snapshots', name))).toBe(0o600);
    expect(modeOf(dataDir)).toBe(0o700);
    const files = readdirSync(dataDir).filter((f) => /\.sqlite(-wal|-shm)?$/.test(f));
    for (const name of ['library.sqlite', 'usage.sqlite', 'jobs.sqlite', 'tokens.sqlite', 'library.sqlite-wal', 'library.sqlite-shm']) {
      expect(files).toContain(name);
    }
    for (const name of files) expect(modeOf(path.join(dataDir, name)), name).toBe(0o600);
    expect(modeOf(path.join(dataDir, 'snapshots'))).toBe(0o700);
    expect(modeOf(path.join(dataDir, 'snapshots', '2026-01-01T00-00-00-000Z.sqlite'))).toBe(0o600);
  });

  it('keeps conversations owner-only: new ones, and the ones already there', async () => {
    const res = await fetch(`${url}/api/query/ask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'How do I restart the quokka service?' }),
    });
    expect(res.status).toBe(200);
    const { conversation_id } = (await res.json()) as AskResponse;
    expect(modeOf(sessions)).toBe(0o700);
    expect(modeOf(path.join(sessions, 'alice'))).toBe(0o700);
    expect(modeOf(path.join(sessions, 'alice', `${conversation_id}.json`))).toBe(0o600);
    expect(modeOf(path.join(sessions, 'alice', 'old.json'))).toBe(0o600);
  });

  it('tells an anonymous /health caller the status only: no paths, no file names', async () => {
    const anonymous: Record<string, string>[] = [{}, { authorization: 'Bearer ail_notatokennotatokennotatokennotatokennotatok' }];
    for (const headers of anonymous) {
      const reply = await readReply(await fetch(`${url}/health`, { headers }));
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ status: 'ok' });
      for (const leak of [env.root, 'library.sqlite', 'quokka', 'rate_limiter']) expect(reply.text).not.toContain(leak);
    }
  });

  it('gives the detail to a caller with a valid token', async () => {
    const reply = await readReply(await fetch(`${url}/health`, { headers: { authorization: `Bearer ${token}` } }));
    expect(reply.status).toBe(200);
    const health = reply.json as HealthResponse;
    expect(health.status).toBe('ok');
    expect(health.store.kind).toBe('embedded');
    expect(health.indexing.state).toBe('done');
    expect(health.indexing.summary?.indexed).toBe(2);
    expect(health.dependencies?.store.status).toBe('up');
  });
});
