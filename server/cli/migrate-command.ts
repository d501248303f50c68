import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config, type Env } from '../config/settings.js';
import { createEmbedder } from '../embedders/create-embedder.js';
import { DomainError } from '../errors/domain-error.js';
import { MigrationError, checkpointFileFor, configForSide, describeVerification, migrate, storeForSide, type StoreSide } from '../migrate.js';
import { createStoreAdmin } from '../stores/create-store.js';
import type { VectorStore } from '../stores/vector-store.js';

// DomainErrors cover the stores' and snapshots' failures (unavailable, embedder mismatch, snapshot not found or refused).
const KNOWN = [ConfigError, MigrationError, DomainError];

/** Like withServices, for commands that open their own stores: known failures print one line, not a stack. */
export async function withConfig(action: (config: Config) => Promise<number>): Promise<number> {
  try {
    return await action(loadConfig());
  } catch (e) {
    if (e instanceof Error && KNOWN.some((k) => e instanceof k)) {
      console.error(`ai-library: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

interface MigrateFlags {
  from: string;
  to: string;
  fromDataDir?: string;
  fromUrl?: string;
  fromCollection?: string;
  toDataDir?: string;
  toUrl?: string;
  toCollection?: string;
  pageSize: string;
  sample: string;
  restart?: boolean;
}

function kindOf(value: string, flag: string): StoreSide['kind'] {
  if (value === 'embedded' || value === 'qdrant') return value;
  throw new MigrationError(`migrate: ${flag} "${value}" is not a store; use "embedded" or "qdrant"`);
}

/** One side of the migration from its `--from-*` or `--to-*` flags. */
function sideOf(flags: MigrateFlags, side: 'from' | 'to', env: Env): StoreSide {
  // Keys come from the environment, never from flags (which end up in shell history and `ps`).
  const apiKey = side === 'from' ? env.QDRANT_FROM_API_KEY : env.QDRANT_TO_API_KEY;
  return {
    kind: kindOf(flags[side], `--${side}`),
    dataDir: flags[`${side}DataDir` as const],
    url: flags[`${side}Url` as const],
    collection: flags[`${side}Collection` as const],
    apiKey: apiKey || undefined,
  };
}

function wholeNumber(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new MigrationError(`migrate: ${flag} must be a whole number ≥ ${min} (got "${value}")`);
  return n;
}

async function runMigrate(config: Config, flags: MigrateFlags): Promise<number> {
  const pageSize = wholeNumber(flags.pageSize, '--page-size', 1);
  const sampleSize = wholeNumber(flags.sample, '--sample', 0);
  const from = sideOf(flags, 'from', config.env);
  const to = sideOf(flags, 'to', config.env);
  // Opening a store creates it when missing; a mistyped source must not become an empty store that "migrates" fine.
  const sourceAdmin = createStoreAdmin(configForSide(config, from));
  if (!(await sourceAdmin.exists())) {
    const fix = from.kind === 'embedded' ? 'index first or pass --from-data-dir <the DATA_DIR that holds library.sqlite>' : 'pass --from-collection <name> (see GET /collections)';
    throw new MigrationError(`migrate: no ${from.kind} store at ${sourceAdmin.where}; ${fix}`);
  }
  const embedder = createEmbedder(config);
  const stores: VectorStore[] = [];
  try {
    const source = storeForSide(config, from);
    stores.push(source);
    const target = storeForSide(config, to);
    stores.push(target);
    console.error(`migrating ${source.kind} ${source.location} -> ${target.kind} ${target.location} (embedder ${embedder.id})`);
    const report = await migrate({
      source,
      target,
      embedder: { id: embedder.id, dimension: embedder.dimension },
      checkpointFile: checkpointFileFor(config, source, target, to),
      pageSize,
      sampleSize,
      restart: flags.restart,
      log: (line) => console.error(line),
    });
    for (const line of describeVerification(report)) console.log(line);
    return report.verification.ok ? 0 : 2;
  } finally {
    for (const s of stores) await s.close();
  }
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('copy every point (vectors + payloads, no re-embedding) between stores, resumably, then verify counts and a sample')
    .requiredOption('--from <store>', 'source store: embedded | qdrant')
    .requiredOption('--to <store>', 'target store: embedded | qdrant')
    .option('--from-data-dir <dir>', 'source DATA_DIR (embedded; default: data.dir)')
    .option('--from-url <url>', 'source Qdrant URL (default: QDRANT_URL)')
    .option('--from-collection <name>', 'source collection (default: vector.collection_name)')
    .option('--to-data-dir <dir>', 'target DATA_DIR (embedded; default: data.dir)')
    .option('--to-url <url>', 'target Qdrant URL (default: QDRANT_URL)')
    .option('--to-collection <name>', 'target collection (default: vector.collection_name)')
    .option('--page-size <n>', 'points per page', '256')
    .option('--sample <n>', 'points compared one by one after the copy', '50')
    .option('--restart', 'ignore the checkpoint and copy everything again')
    .action(async (flags: MigrateFlags) => {
      process.exitCode = await withConfig((config) => runMigrate(config, flags));
    });
}
