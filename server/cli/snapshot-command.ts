import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config/settings.js';
import { createEmbedder } from '../embedders/create-embedder.js';
import { createSnapshots, type SnapshotInfo } from '../snapshots.js';
import { DataDirLockedError, lockDataDir } from '../storage/data-dir-lock.js';
import { createStore } from '../stores/create-store.js';
import { withConfig } from './migrate-command.js';

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

function printInfo(s: SnapshotInfo): void {
  console.log(`${s.name}  ${formatBytes(s.size)}  ${s.created_at ?? ''}`.trimEnd());
}

/** Embedded snapshots are taken from the open database (SQLite online backup), so the store is opened for `create`. */
async function create(config: Config): Promise<number> {
  if (config.storeKind === 'qdrant') {
    printInfo(await createSnapshots(config, null).create());
    return 0;
  }
  const store = createStore(config);
  try {
    const embedder = createEmbedder(config);
    await store.init({ id: embedder.id, dimension: embedder.dimension });
    printInfo(await createSnapshots(config, store).create());
    return 0;
  } finally {
    await store.close();
  }
}

export function registerSnapshotCommand(program: Command): void {
  const snapshot = program.command('snapshot').description('back up and restore the vector store (Qdrant snapshots, or SQLite backups under DATA_DIR/snapshots)');
  snapshot
    .command('create')
    .description('take a snapshot of the configured store')
    .action(async () => {
      process.exitCode = await withConfig(create);
    });
  snapshot
    .command('list')
    .description('list snapshots, oldest first')
    .action(async () => {
      process.exitCode = await withConfig(async (config) => {
        const snaps = createSnapshots(config, null);
        const all = await snaps.list();
        if (all.length === 0) console.error(`no snapshots in ${snaps.where}; take one with "npm run snapshot -- create"`);
        all.forEach(printInfo);
        return 0;
      });
    });
  snapshot
    .command('download <name>')
    .description('copy a snapshot to a local file')
    .option('--out <file>', 'where to write it (default: ./<name>)')
    .action(async (name: string, opts: { out?: string }) => {
      process.exitCode = await withConfig(async (config) => {
        const res = await createSnapshots(config, null).download(name, opts.out ?? name);
        console.log(`wrote ${res.file} (${formatBytes(res.bytes)})`);
        return 0;
      });
    });
  snapshot
    .command('recover <nameOrFile>')
    .description('replace the store with a snapshot (a name from "list", a local file, or a URL Qdrant can fetch); refuses while a server runs on the embedded store')
    .option('--server-snapshots-dir <dir>', "Qdrant only: the server's snapshots folder, for recovering by name", '/qdrant/snapshots')
    .action(async (nameOrFile: string, opts: { serverSnapshotsDir: string }) => {
      process.exitCode = await withConfig(async (config) => {
        if (config.storeKind !== 'embedded') {
          console.log(await createSnapshots(config, null, { serverSnapshotsDir: opts.serverSnapshotsDir }).recover(nameOrFile));
          return 0;
        }
        // The server's DATA_DIR lock: a running server would keep serving, and writing, the store this replaces.
        mkdirSync(config.paths.data, { recursive: true });
        let lock;
        try {
          lock = lockDataDir(config.paths.data, 'a snapshot recovery (npm run snapshot -- recover)');
        } catch (e) {
          if (!(e instanceof DataDirLockedError)) throw e;
          console.error(`ai-library: ${e.message}; stop the server first, then recover again`);
          return 1;
        }
        try {
          console.log(await createSnapshots(config, null).recover(nameOrFile));
        } finally {
          lock.release();
        }
        return 0;
      });
    });
}
