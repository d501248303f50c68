/**
 * The dense index saved beside the SQLite file it was derived from:
 * `<db>.dense-<generation>.usearch` plus `<db>.dense.json` naming it.
 *
 * A save writes a new index file under a temporary name, flushes it, renames
 * it, and only then replaces the JSON (write-file-atomic), so a SIGKILL at any
 * point leaves the JSON naming a whole file (the new or the previous one); the
 * files it no longer names are removed on the next save or open. The JSON
 * records what the file must be checked against before it is trusted: the
 * store it came from, the embedder, the generation (see schema.ts) and the
 * byte size (usearch itself crashes on a torn file).
 */
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { DenseIndex } from './dense-index.js';

const savedIndexSchema = z.object({
  format: z.literal(1),
  store_id: z.string(),
  embedder_id: z.string(),
  dimension: z.number().int().positive(),
  generation: z.number().int().nonnegative(),
  /** Vectors in the index file. */
  count: z.number().int().nonnegative(),
  /** Rows of chunk_vectors at `generation`, when the save knew it (it was the store's current generation). */
  vectors: z.number().int().nonnegative().nullable(),
  file: z.string(),
  bytes: z.number().int().positive(),
});
export type SavedIndex = z.infer<typeof savedIndexSchema>;

function metaFile(dbFile: string): string {
  return `${dbFile}.dense.json`;
}

/** The saved index's description, or null when there is none or it is unreadable (the index is then rebuilt). */
export function readSavedIndex(dbFile: string): SavedIndex | null {
  let raw: string;
  try {
    raw = fs.readFileSync(metaFile(dbFile), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = savedIndexSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function loadSavedIndex(dbFile: string, saved: SavedIndex): DenseIndex {
  const index = DenseIndex.load(path.join(path.dirname(dbFile), saved.file), saved.dimension, saved.bytes);
  if (index.size !== saved.count) throw new Error(`dense index ${saved.file} holds ${index.size} vectors, ${saved.count} were saved`);
  return index;
}

export function saveIndex(dbFile: string, index: DenseIndex, about: Omit<SavedIndex, 'format' | 'file' | 'bytes' | 'count'>): SavedIndex {
  const name = `${path.basename(dbFile)}.dense-${about.generation}.usearch`;
  const final = path.join(path.dirname(dbFile), name);
  const temp = `${final}.tmp-${process.pid}`;
  const bytes = index.save(temp);
  fs.renameSync(temp, final);
  const saved: SavedIndex = { format: 1, ...about, count: index.size, file: name, bytes };
  writeFileAtomic.sync(metaFile(dbFile), `${JSON.stringify(saved, null, 2)}\n`, { fsync: true });
  removeUnnamedIndexFiles(dbFile, name);
  return saved;
}

/** Index files and leftovers of interrupted saves that the JSON does not name. */
export function removeUnnamedIndexFiles(dbFile: string, keep: string | null): void {
  const dir = path.dirname(dbFile);
  const prefix = `${path.basename(dbFile)}.dense-`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(prefix) && n !== keep) fs.rmSync(path.join(dir, n), { force: true });
  }
}
