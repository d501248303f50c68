import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../helpers/bundle.js';
import { runCli, spawnServer, waitFor, type SpawnedServer } from '../helpers/processes.js';
import { readReply, REPO_ROOT, tempEnv, type TempEnv } from '../helpers/temp-env.js';

/**
 * Issue 12, defects 6 and 7: `restore --force` while a server holds the
 * store, and backups and restores killed half-way. Real bundled CLI and
 * server processes, killed with SIGKILL.
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

/** Markdown that gzip cannot shrink much, so archiving takes long enough to be killed in the middle. */
function bulkyLibrary(files: number, seed: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < files; i++) out[`bulk${i % 10}/doc${i}.md`] = `# Doc ${i} ${seed}\n\n${randomBytes(24 * 1024).toString('base64')}\n`;
  return out;
}

/** Processes whose command line mentions `needle` (a leftover tar child would). */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle) && Number(pid) !== process.pid) found.push(`${pid}: ${cmd}`);
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

function treeOf(dir: string, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const abs = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(abs).isDirectory()) for (const [k, v] of treeOf(abs, rel)) out.set(k, v);
    else out.set(rel, readFileSync(abs, 'utf8'));
  }
  return out;
}

describe('restore --force while the server runs (issue 12, defect 6)', () => {
  let env: TempEnv;
  let server: SpawnedServer | undefined;

  beforeAll(() => {
    env = tempEnv({ 'guides/a.md': '# A\n\nAbout herons and egrets.\n' });
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    env?.cleanup();
  });

  it('refuses with a one-line reason and leaves the served store alone', async () => {
    server = await spawnServer(MAIN, { ...env.env });
    const out = path.join(env.root, 'backups');
    const backup = await runCli(CLI, ['backup', '--out', out], { ...env.env });
    expect(backup.code, backup.stderr).toBe(0);
    const archive = backup.stdout.trim();
    const restore = await runCli(CLI, ['restore', archive, '--force'], { ...env.env });
    expect(restore.code).toBe(1);
    const lines = restore.stderr.split('\n').filter((l) => l.startsWith('ai-library:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/an AI Library server \(pid \d+\) is using DATA_DIR .*; stop the server first, then run the restore again/);
    // The same for recovering a snapshot, the other way to replace the store.
    const snapshot = await runCli(CLI, ['snapshot', 'create'], { ...env.env });
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const name = readdirSync(path.join(env.env.DATA_DIR!, 'snapshots'))[0] ?? '';
    const recover = await runCli(CLI, ['snapshot', 'recover', name], { ...env.env });
    expect(recover.code).toBe(1);
    expect(recover.stderr).toMatch(/is using DATA_DIR .*; stop the server first, then recover again/);
    expect(existsSync(path.join(env.env.DATA_DIR!, 'library.sqlite.before-recover'))).toBe(false);
    expect(existsSync(`${env.library}.before-restore`)).toBe(false);
    // The server still serves and writes its store, and what it writes stays there.
    const up = await fetch(`${server.url}/api/library/index`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ file_path: 'after.md', content: '# After\n\nWritten after the refused restore, about cranes.\n' }) });
    expect(up.status).toBe(200);
    const doc = await readReply(await fetch(`${server.url}/api/library/documents?path=contributed/default/after.md`));
    expect(doc.status).toBe(200);
  }, 90_000);
});

describe('killed backups and restores (issue 12, defect 7)', () => {
  let source: TempEnv;
  let target: TempEnv;
  let archive = '';

  beforeAll(() => {
    source = tempEnv(bulkyLibrary(400, 'archived'));
    target = tempEnv(bulkyLibrary(40, 'current'));
  });
  afterAll(() => {
    source?.cleanup();
    target?.cleanup();
  });

  it('a killed backup leaves a 0600 partial archive and no tar process; the next run removes its leftovers', async () => {
    const out = path.join(source.root, 'backups');
    const child = spawn(process.execPath, [CLI, 'backup', '--out', out], { cwd: REPO_ROOT, env: { ...process.env, ...source.env }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const partial = await waitFor('a partial archive', () => (existsSync(out) ? readdirSync(out).find((n) => n.includes('.partial-')) : undefined), 60_000, 2);
    const mode = statSync(path.join(out, partial)).mode & 0o777;
    child.kill('SIGKILL');
    await exited;
    expect(mode.toString(8)).toBe('600');
    // Nothing goes on writing the archive once its backup is dead.
    await new Promise((r) => setTimeout(r, 300));
    expect(processesMentioning(partial)).toEqual([]);
    expect(readdirSync(out).some((n) => n.includes('.partial-') || n.includes('.staging-'))).toBe(true);

    const again = await runCli(CLI, ['backup', '--out', out], { ...source.env });
    expect(again.code, again.stderr).toBe(0);
    archive = again.stdout.trim();
    expect(readdirSync(out)).toEqual([path.basename(archive)]);
  }, 120_000);

  it('a killed restore is detected at start and finished by running it again, keeping what was there before', async () => {
    if (archive === '') {
      // Run alone (-t): make the archive the test before would have left.
      const made = await runCli(CLI, ['backup', '--out', path.join(source.root, 'backups')], { ...source.env });
      expect(made.code, made.stderr).toBe(0);
      archive = made.stdout.trim();
    }
    const before = treeOf(target.library);
    const child = spawn(process.execPath, [CLI, 'restore', archive, '--force'], { cwd: REPO_ROOT, env: { ...process.env, ...target.env }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const journal = path.join(target.env.DATA_DIR!, 'restore-journal.json');
    await waitFor('the restore to start changing things', () => (existsSync(journal) && readFileSync(journal, 'utf8').includes('"library"') ? true : undefined), 60_000, 1);
    child.kill('SIGKILL');
    await exited;

    const refused = await spawnServer(MAIN, { ...target.env }).then(
      () => 'started',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    expect(refused).toMatch(/ai-library: a restore of .* was interrupted.*npm run restore -- .* --force/);

    const finish = await runCli(CLI, ['restore', archive], { ...target.env });
    expect(finish.code, finish.stderr).toBe(0);
    expect(treeOf(target.library)).toEqual(treeOf(source.library));
    // The library as it was before the first, killed run: kept aside, not overwritten by the half-restored copy.
    expect(treeOf(`${target.library}.before-restore`)).toEqual(before);
    expect(readdirSync(target.env.DATA_DIR!).filter((n) => n.startsWith('.restore-') || n === 'restore-journal.json')).toEqual([]);
    const server = await spawnServer(MAIN, { ...target.env });
    server.child.kill('SIGTERM');
    await server.exited;
  }, 180_000);
});
