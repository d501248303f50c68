/**
 * The store administration port: what snapshots, backup, restore and
 * migration need of a store beyond searching it (docs/architecture.md, "The
 * stores"). Each adapter implements it beside its VectorStore
 * (stores/embedded/admin.ts, stores/qdrant/admin.ts); `createStoreAdmin` in
 * stores/create-store.ts picks one from the settings, so the store operations
 * never name a concrete store.
 */

import { DomainError } from '../errors/domain-error.js';

export interface SnapshotInfo {
  name: string;
  size: number;
  created_at: string | null;
}

export interface SnapshotStream {
  stream: ReadableStream<Uint8Array>;
  size: number | null;
}

/** The named snapshot does not exist (`not_found`: the API answers 404). */
export class SnapshotNotFoundError extends DomainError {
  override name = 'SnapshotNotFoundError';
  constructor(message: string) {
    super('not_found', message);
  }
}

/** A snapshot request that cannot be carried out as asked: bad name, unreadable file, store in the way (`invalid_snapshot`). */
export class SnapshotError extends DomainError {
  override name = 'SnapshotError';
  constructor(message: string) {
    super('invalid_snapshot', message);
  }
}

export interface Snapshots {
  readonly kind: 'embedded' | 'qdrant';
  /** Where snapshots live, for humans. */
  readonly where: string;
  create(): Promise<SnapshotInfo>;
  list(): Promise<SnapshotInfo[]>;
  open(name: string): Promise<SnapshotStream>;
  download(name: string, outFile: string): Promise<{ file: string; bytes: number }>;
  /** Replaces the store's content with a snapshot; returns one line saying what happened. */
  recover(nameOrFile: string): Promise<string>;
}

/** Names come from URLs and the CLI: one path segment, no traversal. */
export const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

export function checkSnapshotName(name: string): string {
  if (!SNAPSHOT_NAME.test(name) || name.includes('..')) {
    throw new SnapshotError(`snapshot name "${name}" is not valid: use a name from "npm run snapshot -- list" (letters, digits, ".", "_", "-")`);
  }
  return name;
}

/** The copy of a store a backup archive holds. */
export interface StoreExport {
  /** The file written into the folder given to `exportTo`; null when there is no store to copy. */
  file: string | null;
  points: number;
  /** The embedder the store's vectors came from, as the store records it; null when it records none. */
  embedder: { id: string; dimension: number } | null;
  /** Qdrant: the collection copied. */
  collection: string | null;
  /** One line for the backup's log (paths, counts and names; never a key). */
  summary: string;
  /** Things that did not stop the copy but deserve a look. */
  warnings: string[];
}

export interface StoreAdmin {
  readonly kind: 'embedded' | 'qdrant';
  /** The store for humans: its file, or its collection and URL (never a key). */
  readonly where: string;
  readonly snapshots: Snapshots;
  /** Whether the store exists (its file, its collection); asking never creates it. */
  exists(): Promise<boolean>;
  /** Points the store holds now, read without opening it for use; 0 when it does not exist. */
  countPoints(): Promise<number>;
  /** A consistent copy of the whole store as one file in `dir`, taken while it keeps serving. */
  exportTo(dir: string): Promise<StoreExport>;
}
