import writeFileAtomic from 'write-file-atomic';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from './config/settings.js';
import { ConfigError } from './config/settings.js';
import type { EmbedderInfo } from './embedders/embedder.js';
import { createStore } from './stores/create-store.js';
import type { FileRecord, StoredPoint, VectorStore } from './stores/vector-store.js';
import { isRecord } from '../shared/guards.js';

/** One side of a migration; unset fields fall back to the settings. */
export interface StoreSide {
  kind: 'embedded' | 'qdrant';
  dataDir?: string;
  url?: string;
  collection?: string;
  /** For a second Qdrant with its own key; otherwise vector.api_key. */
  apiKey?: string;
}

/** The source and target are the same store, or a side is described incompletely. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** The settings with one side's overrides applied, so `createStore` builds that side. */
export function configForSide(config: Config, side: StoreSide): Config {
  const vector = {
    ...config.settings.vector,
    store: side.kind,
    url: side.url ?? config.settings.vector.url,
    collection_name: side.collection ?? config.settings.vector.collection_name,
    api_key: side.apiKey ?? config.settings.vector.api_key,
  };
  if (side.kind === 'qdrant' && !vector.url) {
    throw new ConfigError('migrate: a qdrant side needs a URL: pass --from-url/--to-url or set QDRANT_URL');
  }
  return {
    ...config,
    storeKind: side.kind,
    settings: { ...config.settings, vector },
    paths: { ...config.paths, data: side.dataDir ? path.resolve(config.paths.root, side.dataDir) : config.paths.data },
  };
}

export function storeForSide(config: Config, side: StoreSide): VectorStore {
  return createStore(configForSide(config, side));
}

/**
 * Beside the target when it is a local store (it travels with the data), else in
 * the local DATA_DIR; named after both ends so two migrations never share one.
 */
export function checkpointFileFor(config: Config, source: VectorStore, target: VectorStore, to: StoreSide): string {
  const key = createHash('sha256').update(`${source.kind}:${source.location}\n${target.kind}:${target.location}`).digest('hex').slice(0, 12);
  const dir = to.kind === 'embedded' ? configForSide(config, to).paths.data : config.paths.data;
  return path.join(dir, `migrate-checkpoint-${key}.json`);
}

const checkpointSchema = z.object({
  version: z.literal(1),
  source: z.string(),
  target: z.string(),
  embedder: z.string(),
  cursor: z.string().nullable(),
  copied: z.number(),
  seen: z.number(),
  sample: z.array(z.string()),
  done: z.boolean(),
  updated_at: z.string(),
});
type Checkpoint = z.infer<typeof checkpointSchema>;

async function readCheckpoint(file: string): Promise<Checkpoint | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = checkpointSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

async function writeCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(cp, null, 2));
}

export interface VerifyReport {
  source_count: number;
  target_count: number;
  sampled: number;
  mismatches: string[];
  ok: boolean;
}

export interface MigrateReport {
  source: string;
  target: string;
  copied: number;
  /** The cursor a resumed run started from; null for a fresh run. */
  resumed_from: string | null;
  /** The checkpoint said the copy was finished: nothing was copied this time. */
  already_done: boolean;
  checkpoint: string;
  verification: VerifyReport;
}

export interface MigrateOptions {
  source: VectorStore;
  target: VectorStore;
  /** The embedder both stores must hold (vectors are copied, never re-embedded). */
  embedder: EmbedderInfo;
  checkpointFile: string;
  pageSize?: number;
  /** Points compared one by one after the copy (vector and payload). */
  sampleSize?: number;
  /** Ignore the checkpoint and copy everything again. */
  restart?: boolean;
  log?: (line: string) => void;
  random?: () => number;
}

export const VECTOR_TOLERANCE = 1e-6;

/**
 * Vectors are compared as directions: Qdrant stores Cosine vectors normalised,
 * so a raw vector that was not unit length comes back scaled, with the same
 * search behaviour.
 */
export function vectorDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  const na = Math.hypot(...a) || 1;
  const nb = Math.hypot(...b) || 1;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] ?? 0) / na - (b[i] ?? 0) / nb));
  return worst;
}

/** The path of the first difference between two JSON values (key order ignored), or null. */
export function firstDifference(a: unknown, b: unknown, at = ''): string | null {
  if (a === b) return null;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${at || '(root)'} (length ${a.length} vs ${b.length})`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      const d = firstDifference(a[k], b[k], at ? `${at}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return `${at || '(root)'} (${JSON.stringify(a)} vs ${JSON.stringify(b)})`;
}

export function comparePoints(s: StoredPoint, t: StoredPoint | null): string | null {
  if (!t) return `${s.id}: missing in the target`;
  const dv = vectorDifference(s.vector, t.vector);
  if (!(dv <= VECTOR_TOLERANCE)) return `${s.id}: vectors differ (max |Δ| ${dv.toExponential(2)} > ${VECTOR_TOLERANCE.toExponential()})`;
  const dp = firstDifference(s.payload, t.payload);
  return dp ? `${s.id}: payloads differ at ${dp}` : null;
}

async function verify(source: VectorStore, target: VectorStore, sample: string[]): Promise<VerifyReport> {
  const [sourceCount, targetCount] = await Promise.all([source.count(), target.count()]);
  const mismatches: string[] = [];
  if (sourceCount !== targetCount) mismatches.push(`counts differ: source ${sourceCount}, target ${targetCount}`);
  let sampled = 0;
  for (const id of sample) {
    const s = await source.getPoint(id);
    // Deleted from the source since it was sampled: nothing to compare.
    if (!s) continue;
    sampled += 1;
    const diff = comparePoints(s, await target.getPoint(id));
    if (diff) mismatches.push(diff);
  }
  return { source_count: sourceCount, target_count: targetCount, sampled, mismatches, ok: mismatches.length === 0 };
}

/**
 * Copies every point (vectors and payloads, no re-embedding) from `source` to
 * `target` page by page, recording the next cursor after each page so a
 * re-run continues where the last one stopped (ids are deterministic, so a
 * page copied twice is harmless). Then verifies counts and a random sample.
 */
export async function migrate(opts: MigrateOptions): Promise<MigrateReport> {
  const { source, target, embedder, checkpointFile } = opts;
  const log = opts.log ?? (() => undefined);
  const pageSize = opts.pageSize ?? 256;
  const sampleSize = opts.sampleSize ?? 50;
  const random = opts.random ?? Math.random;
  if (source.kind === target.kind && source.location === target.location) {
    throw new MigrationError(`migrate: source and target are the same store (${source.location}); give the target another --to-data-dir, --to-collection or --to-url`);
  }
  // init refuses a store built with another embedder (EmbedderMismatchError names it).
  await source.init(embedder);
  await target.init(embedder);

  const previous = opts.restart ? null : await readCheckpoint(checkpointFile);
  const matches = previous && previous.source === source.location && previous.target === target.location && previous.embedder === embedder.id;
  let cp: Checkpoint = matches
    ? previous
    : {
        version: 1,
        source: source.location,
        target: target.location,
        embedder: embedder.id,
        cursor: null,
        copied: 0,
        seen: 0,
        sample: [],
        done: false,
        updated_at: new Date().toISOString(),
      };
  const resumedFrom = matches && !cp.done ? cp.cursor : null;
  const alreadyDone = cp.done;
  let copiedNow = 0;

  if (!cp.done) {
    if (resumedFrom) log(`resuming after ${cp.copied} points (checkpoint ${checkpointFile})`);
    const files = new Map<string, FileRecord>((await source.listFiles()).map((f) => [f.file_path, f]));
    let cursor = cp.cursor;
    do {
      const page = await source.scroll(cursor, pageSize);
      if (page.points.length > 0) {
        const pageFiles: FileRecord[] = [];
        for (const filePath of new Set(page.points.map((p) => p.payload.file_path))) {
          const rec = files.get(filePath) ?? (await source.getFile(filePath));
          if (rec) pageFiles.push(rec);
        }
        await target.upsertPoints(page.points, pageFiles);
        // Reservoir sampling: a uniform sample of everything copied, kept across resumed runs.
        const sample = [...cp.sample];
        let seen = cp.seen;
        for (const p of page.points) {
          seen += 1;
          if (sample.length < sampleSize) sample.push(p.id);
          else {
            const j = Math.floor(random() * seen);
            if (j < sampleSize) sample[j] = p.id;
          }
        }
        copiedNow += page.points.length;
        cp = { ...cp, sample, seen, copied: cp.copied + page.points.length };
      }
      cursor = page.next;
      cp = { ...cp, cursor, done: cursor === null, updated_at: new Date().toISOString() };
      await writeCheckpoint(checkpointFile, cp);
      log(`copied ${cp.copied} points`);
    } while (cursor !== null);
  } else {
    log(`already copied (checkpoint ${checkpointFile}); verifying only — pass --restart to copy again`);
  }

  const verification = await verify(source, target, cp.sample);
  return {
    source: source.location,
    target: target.location,
    copied: copiedNow,
    resumed_from: resumedFrom,
    already_done: alreadyDone,
    checkpoint: checkpointFile,
    verification,
  };
}

export function describeVerification(r: MigrateReport): string[] {
  const v = r.verification;
  const lines = [
    `source ${r.source}: ${v.source_count} points`,
    `target ${r.target}: ${v.target_count} points`,
    `copied this run: ${r.copied}${r.already_done ? ' (already complete)' : ''}${r.resumed_from ? ` (resumed)` : ''}`,
    `sample: ${v.sampled} points compared (vectors within ${VECTOR_TOLERANCE.toExponential()}, payloads equal)`,
  ];
  for (const m of v.mismatches.slice(0, 20)) lines.push(`  MISMATCH ${m}`);
  if (v.mismatches.length > 20) lines.push(`  ... and ${v.mismatches.length - 20} more`);
  lines.push(
    v.ok
      ? 'verification: OK'
      : r.already_done
        ? 'verification: FAILED; the source changed after the copy finished: run again with --restart'
        : 'verification: FAILED; run the command again to resume, or with --restart to copy everything again',
  );
  return lines;
}
