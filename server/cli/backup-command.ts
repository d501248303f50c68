import type { Command } from 'commander';
import type { Config } from '../config/settings.js';
import { BackupError } from '../backup/archive.js';
import { createBackup } from '../backup/backup.js';
import { restoreBackup } from '../backup/restore.js';
import { withConfig } from './migrate-command.js';

/** withConfig's one-line errors, plus the backup's own. */
async function run(action: (config: Config) => Promise<number>): Promise<number> {
  return withConfig(async (config) => {
    try {
      return await action(config);
    } catch (e) {
      if (e instanceof BackupError) {
        console.error(`ai-library: ${e.message}`);
        return 1;
      }
      throw e;
    }
  });
}

function keepDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new BackupError(`backup: --keep-days must be a whole number ≥ 0 (got "${value}"); 0 keeps every archive`);
  return n;
}

export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('write library, store, configs and sessions into one dated archive (ai-library-backup-YYYYMMDD-HHMMSS.tar.gz, UTC) and delete old ones')
    .option('--out <dir>', 'where the archive goes (default: backup.dir, ./backups)')
    .option('--keep-days <n>', 'delete archives older than this many days (default: backup.keep_days, 7; 0 keeps all)')
    .action(async (opts: { out?: string; keepDays?: string }) => {
      process.exitCode = await run(async (config) => {
        // Progress on stderr, the archive's path alone on stdout: `archive=$(npm run -s backup)` works in scripts.
        const res = await createBackup(config, { outDir: opts.out, keepDays: keepDays(opts.keepDays), log: (line) => console.error(line) });
        for (const w of res.warnings) console.error(`warning: ${w}`);
        console.log(res.archive);
        return 0;
      });
    });
}

export function registerRestoreCommand(program: Command): void {
  program
    .command('restore <archive>')
    .description('verify an archive from "npm run backup" and bring back library, configs, sessions and the store; stop the server first')
    .option('--force', 'replace a library, configs, sessions or store that differ from the backup (the current content is kept beside them)')
    .action(async (archive: string, opts: { force?: boolean }) => {
      process.exitCode = await run(async (config) => {
        const res = await restoreBackup(config, archive, { force: opts.force, log: (line) => console.error(line) });
        for (const w of res.warnings) console.error(`warning: ${w}`);
        console.log(`restored ${archive}${res.points === null ? '' : `; the store holds ${res.points} points`}`);
        return 0;
      });
    });
}
