import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation } from '../../shared/api-types.js';
import { archiveName } from '../../server/backup/archive.js';
import { createBackup, pruneBackups } from '../../server/backup/backup.js';
import { restoreBackup } from '../../server/backup/restore.js';
import { loadConfig, type Config, type Env } from '../../server/config/settings.js';
import type { Services } from '../../server/services.js';
import type { VectorStore } from '../../server/stores/vector-store.js';
import { QdrantRecorder, SNAPSHOT_BYTES, obj } from '../fakes/qdrant-recorder.js';
import { REPO_ROOT, servicesFor, tempEnv, type TempEnv } from '../helpers/temp-env.js';

const DOCS: Record<string, string> = {
  'guides/backups.md': '# Backups\n\n## Daily archives\n\nRun npm run backup every night; archives older than seven days are deleted.\n',
  'guides/restore.md': '# Restore\n\nStop the server, run npm run restore with the archive, then start the server.\n',
  'reference/tokens.md': '# Server tokens\n\nEvery developer gets a personal server token; rotate tokens every ninety days.\n',
};

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every point's id, payload and vector bytes, order-independent: equal fingerprints mean the same points. */
async function fingerprint(store: VectorStore): Promise<{ count: number; hash: string }> {
  const lines: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { points: Awaited<ReturnType<VectorStore['scroll']>>['points']; next: string | null } = await store.scroll(cursor, 50);
    for (const p of page.points) {
      lines.push(`${p.id}\t${JSON.stringify(p.payload)}\t${Buffer.from(p.vector.buffer, p.vector.byteOffset, p.vector.byteLength).toString('base64')}`);
    }
    cursor = page.next;
  } while (cursor !== null);
  lines.sort();
  return { count: lines.length, hash: sha256(lines.join('\n')) };
}

/** Relative path → bytes of every file under `root`. */
function readTree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!existsSync(root)) return out;
  for (const rel of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    const abs = path.join(root, rel);
    if (statSync(abs).isFile()) out.set(rel.split(path.sep).join('/'), readFileSync(abs));
  }
  return out;
}

async function conversationsOf(services: Services, developers: string[]): Promise<Record<string, Conversation[]>> {
  const out: Record<string, Conversation[]> = {};
  for (const dev of developers) {
    const list = await services.conversations.list(dev);
    const full: Conversation[] = [];
    for (const s of list) {
      const c = await services.conversations.get(s.id, dev);
      if (c) full.push(c);
    }
    out[dev] = full;
  }
  return out;
}

/** The test's own configs folder: a restore must never write into the repository's configs/. */
function ownConfigs(env: TempEnv, extra: Env = {}): Env {
  const dir = path.join(env.root, 'configs');
  cpSync(path.join(REPO_ROOT, 'configs'), dir, { recursive: true });
  env.env = { ...env.env, CONFIG_DIR: dir, ...extra };
  return env.env;
}

/** Unpacks an archive, lets `change` edit the tree, and packs it again under a new name. */
function repack(archive: string, into: string, change: (dir: string) => void): string {
  const dir = mkdtempSync(path.join(into, 'repack-'));
  execFileSync('tar', ['-xzf', archive, '-C', dir]);
  change(dir);
  const out = path.join(into, `tampered-${path.basename(dir)}.tar.gz`);
  execFileSync('tar', ['-czf', out, '-C', dir, ...readdirSync(dir)]);
  return out;
}

describe('backup and restore with the embedded store', () => {
  let env: TempEnv;
  let config: Config;
  let archive = '';
  let before: { points: { count: number; hash: string }; docs: Map<string, Buffer>; conversations: Record<string, Conversation[]>; embedder: string };
  const backups = () => path.join(env.root, 'backups');

  beforeAll(async () => {
    env = tempEnv(DOCS);
    ownConfigs(env);
    config = loadConfig(env.env, env.root);
    const services = await servicesFor(env.env, env.root);
    try {
      const indexed = await services.indexer.indexAll();
      expect(indexed.summary.indexed).toBe(3);
      // Conversations of two developers, saved as the server saves them (extractive: no key in this env).
      const first = await services.answers.ask({ question: 'How often are server tokens rotated?' }, { developer: 'alice' });
      await services.answers.ask({ question: 'And who gets one?', conversation_id: first.conversation_id }, { developer: 'alice' });
      await services.answers.ask({ question: 'How long are backup archives kept?' }, { developer: 'local' });
      before = {
        points: await fingerprint(services.store),
        docs: readTree(env.library),
        conversations: await conversationsOf(services, ['alice', 'local']),
        embedder: services.embedder.id,
      };
      expect(before.conversations.alice?.[0]?.turns).toBe(2);
      // Online: the server's store is open (and could be written) while the backup runs.
      const res = await createBackup(config, { outDir: backups(), now: new Date('2026-07-14T10:20:30Z') });
      archive = res.archive;
    } finally {
      await services.close();
    }
  });
  afterAll(() => env?.cleanup());

  it('writes one dated, owner-only archive whose manifest names the store, embedder, points and every file with its sha256', async () => {
    expect(archive).toBe(path.join(backups(), 'ai-library-backup-20260714-102030.tar.gz'));
    expect(statSync(archive).mode & 0o777).toBe(0o600);
    // Nothing but the archive is left behind (no staging folder, no partial file).
    expect(readdirSync(backups())).toEqual([path.basename(archive)]);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', archive, 'manifest.json'], { encoding: 'utf8' }));
    expect(manifest).toMatchObject({
      format: 'ai-library-backup',
      format_version: 1,
      version: '0.1.0',
      created_at: '2026-07-14T10:20:30.000Z',
      store: { kind: 'embedded', file: 'store/library.sqlite', points: before.points.count, collection: null },
      embedder: { id: before.embedder, dimension: 1024 },
    });
    const files = new Map<string, { sha256: string; bytes: number }>(manifest.files.map((f: { path: string; sha256: string; bytes: number }) => [f.path, f]));
    for (const [rel, bytes] of before.docs) expect(files.get(`library/${rel}`)).toEqual({ path: `library/${rel}`, sha256: sha256(bytes), bytes: bytes.length });
    expect(files.get('configs/settings.yaml')?.sha256).toBe(sha256(readFileSync(path.join(env.root, 'configs', 'settings.yaml'))));
    const aliceId = before.conversations.alice?.[0]?.id ?? '';
    expect(files.has(`sessions/alice/${aliceId}.json`)).toBe(true);
    // Checksums in the manifest are those of the bytes inside the archive.
    const stored = execFileSync('tar', ['-xzOf', archive, 'store/library.sqlite']);
    expect(files.get('store/library.sqlite')?.sha256).toBe(sha256(stored));
  });

  it('after wiping data, library and sessions, restore brings back the same points, documents and conversations', async () => {
    rmSync(config.paths.data, { recursive: true, force: true });
    rmSync(config.paths.library, { recursive: true, force: true });
    rmSync(config.paths.sessions, { recursive: true, force: true });

    const res = await restoreBackup(config, archive);
    expect(res.points).toBe(before.points.count);
    expect(res.keptAside).toEqual([]);
    expect(res.actions.join('\n')).toContain('configs: ');
    expect(res.actions.find((a) => a.startsWith('configs:'))).toMatch(/already matches the backup/);
    // The staging folder is gone.
    expect(readdirSync(config.paths.data).filter((n) => n.startsWith('.restore-'))).toEqual([]);

    const services = await servicesFor(env.env, env.root);
    try {
      expect(await fingerprint(services.store)).toEqual(before.points);
      expect(readTree(env.library)).toEqual(before.docs);
      expect(await conversationsOf(services, ['alice', 'local'])).toEqual(before.conversations);
      // And the restored store serves searches again.
      const found = await services.search.search({ query: 'rotate server tokens', n_results: 3 });
      expect(found.results[0]?.file_path).toBe('reference/tokens.md');
    } finally {
      await services.close();
    }
  });

  it('refuses a tampered archive and changes nothing', async () => {
    const work = mkdtempSync(path.join(env.root, 'tamper-'));
    const docBefore = readFileSync(path.join(env.library, 'guides/backups.md'));
    const edited = repack(archive, work, (dir) => appendFileSync(path.join(dir, 'library/guides/backups.md'), '\nKeep them forever.\n'));
    await expect(restoreBackup(config, edited, { force: true })).rejects.toThrow(
      /was modified or is damaged: library\/guides\/backups\.md does not match its sha256 in manifest\.json; nothing was restored/,
    );
    const extra = repack(archive, work, (dir) => writeFileSync(path.join(dir, 'library/planted.md'), '# Planted\n'));
    await expect(restoreBackup(config, extra, { force: true })).rejects.toThrow(/library\/planted\.md is not in the manifest/);
    const linked = repack(archive, work, (dir) => symlinkSync('/etc/passwd', path.join(dir, 'library/passwd')));
    await expect(restoreBackup(config, linked, { force: true })).rejects.toThrow(/library\/passwd is a symbolic link/);
    const dropped = repack(archive, work, (dir) => rmSync(path.join(dir, 'sessions'), { recursive: true }));
    await expect(restoreBackup(config, dropped, { force: true })).rejects.toThrow(/is listed in the manifest but missing/);
    const truncated = path.join(work, 'truncated.tar.gz');
    writeFileSync(truncated, readFileSync(archive).subarray(0, 200));
    await expect(restoreBackup(config, truncated, { force: true })).rejects.toThrow(/is not a readable AI Library backup/);
    expect(readFileSync(path.join(env.library, 'guides/backups.md'))).toEqual(docBefore);
    expect(existsSync(path.join(env.library, 'planted.md'))).toBe(false);
  });

  it('refuses to overwrite targets that differ without --force; with it, keeps their content aside', async () => {
    const doc = path.join(env.library, 'guides/backups.md');
    writeFileSync(doc, '# Backups\n\nEdited after the backup.\n');
    await expect(restoreBackup(config, archive)).rejects.toThrow(
      /not empty: library \(.*: 1 file\(s\) differ from the backup or are not in it\); the embedded store \(\d+ points\)\. Nothing was restored; stop the server and run again with --force/,
    );
    expect(readFileSync(doc, 'utf8')).toContain('Edited after the backup.');

    const res = await restoreBackup(config, archive, { force: true });
    expect(readFileSync(doc)).toEqual(before.docs.get('guides/backups.md'));
    expect(res.keptAside).toEqual([`${env.library}.before-restore`]);
    expect(readFileSync(path.join(`${env.library}.before-restore`, 'guides/backups.md'), 'utf8')).toContain('Edited after the backup.');
    expect(existsSync(path.join(config.paths.data, 'library.sqlite.before-recover'))).toBe(true);
    expect(res.points).toBe(before.points.count);
  });

  it('deletes archives older than keep_days by the date in their names, and nothing else', async () => {
    const dir = path.join(env.root, 'retention');
    mkdirSync(dir);
    const now = new Date('2026-07-20T03:00:00Z');
    const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
    const old = [archiveName(daysAgo(30)), archiveName(daysAgo(8))];
    const recent = [archiveName(daysAgo(6)), archiveName(daysAgo(1))];
    const others = ['notes.txt', 'ai-library-backup-latest.tar.gz', 'ai-library-backup-20200101-000000.tar.gz.sha256'];
    for (const name of [...old, ...recent, ...others]) writeFileSync(path.join(dir, name), 'x');

    const res = await createBackup(config, { outDir: dir, keepDays: 7, now });
    expect(res.deleted.sort()).toEqual(old.map((n) => path.join(dir, n)).sort());
    expect(readdirSync(dir).sort()).toEqual([...recent, ...others, path.basename(res.archive)].sort());
    // 0 keeps everything.
    expect(await pruneBackups(dir, 0, new Date('2030-01-01T00:00:00Z'))).toEqual([]);
    expect(readdirSync(dir)).toHaveLength(recent.length + others.length + 1);
  });
});

describe('backup and restore with Qdrant (recording Qdrant)', () => {
  const KEY = 'qdrant-backup-key-7731';
  let rec: QdrantRecorder;
  let env: TempEnv;
  let config: Config;

  beforeAll(async () => {
    rec = await QdrantRecorder.start({ apiKey: KEY });
    env = tempEnv(DOCS);
    ownConfigs(env, { VECTOR_STORE: 'qdrant', QDRANT_URL: rec.url, QDRANT_API_KEY: KEY });
    config = loadConfig(env.env, env.root);
    const services = await servicesFor(env.env, env.root);
    try {
      await services.indexer.indexAll();
      expect(await services.store.count()).toBeGreaterThan(0);
    } finally {
      await services.close();
    }
  });
  afterAll(async () => {
    await rec?.close();
    env?.cleanup();
  });

  it('archives a downloaded snapshot and uploads it back on restore, never printing the key', async () => {
    rec.clear();
    const lines: string[] = [];
    const res = await createBackup(config, { outDir: path.join(env.root, 'backups'), now: new Date('2026-07-14T00:00:00Z'), log: (l) => lines.push(l) });
    const points = [...(rec.collections.get('knowledge_library')?.points.values() ?? [])].length;
    expect(res.manifest.store).toEqual({ kind: 'qdrant', file: 'store/knowledge_library-1.snapshot', points, collection: 'knowledge_library' });
    expect(res.manifest.embedder?.id).toBe('local-hash-v1:1024');
    expect(execFileSync('tar', ['-xzOf', res.archive, 'store/knowledge_library-1.snapshot'])).toEqual(SNAPSHOT_BYTES);
    const calls = rec.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls).toContain('POST /collections/knowledge_library/snapshots');
    expect(calls).toContain('GET /collections/knowledge_library/snapshots/knowledge_library-1.snapshot');
    // The copy on Qdrant's disk is removed once archived (this recorder does not implement that, hence the warning).
    expect(calls).toContain('DELETE /collections/knowledge_library/snapshots/knowledge_library-1.snapshot');
    expect(res.warnings.join('\n')).toMatch(/snapshot knowledge_library-1\.snapshot stays on the Qdrant server/);

    rec.clear();
    // The collection holds points: a restore needs --force.
    await expect(restoreBackup(config, res.archive)).rejects.toThrow(/not empty: the qdrant store \(\d+ points\)/);
    const restored = await restoreBackup(config, res.archive, { force: true });
    expect(restored.actions[0]).toMatch(/^store: recovered collection "knowledge_library" from uploaded .*knowledge_library-1\.snapshot$/);
    const upload = rec.find('POST', /\/snapshots\/upload$/)[0];
    expect(upload?.query).toEqual({ priority: 'snapshot', wait: 'true' });
    expect(upload?.bytes).toBeGreaterThan(SNAPSHOT_BYTES.length);
    expect(rec.requests.every((r) => r.headers['api-key'] === KEY)).toBe(true);
    const printed = [...lines, ...res.warnings, ...restored.actions, ...restored.warnings, JSON.stringify(res.manifest)].join('\n');
    expect(printed).not.toContain(KEY);
    expect(obj(JSON.parse(execFileSync('tar', ['-xzOf', res.archive, 'manifest.json'], { encoding: 'utf8' }))).store).toEqual(res.manifest.store);
  });
});
