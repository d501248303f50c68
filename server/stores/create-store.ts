import path from 'node:path';
import type { Config } from '../config/settings.js';
import { ConfigError } from '../config/settings.js';
import { EmbeddedStore } from './embedded/store.js';
import { EmbeddedAdmin } from './embedded/admin.js';
import { QdrantStore, qdrantOptionsFrom } from './qdrant/store.js';
import { QdrantAdmin } from './qdrant/admin.js';
import type { StoreAdmin } from './store-admin.js';
import type { VectorStore } from './vector-store.js';

export function embeddedStoreFile(config: Config): string {
  return path.join(config.paths.data, 'library.sqlite');
}

function unknownStore(config: Config): ConfigError {
  return new ConfigError(`vector.store: "${String(config.storeKind)}" is unknown; use "embedded" or "qdrant"`);
}

export function createStore(config: Config): VectorStore {
  // vector.max_concurrent bounds Qdrant only: better-sqlite3 runs each call
  // synchronously on this thread, so embedded calls never overlap anyway.
  if (config.storeKind === 'embedded') return new EmbeddedStore(embeddedStoreFile(config));
  if (config.storeKind === 'qdrant') return new QdrantStore(qdrantOptionsFrom(config));
  throw unknownStore(config);
}

export interface StoreAdminOptions {
  /** The store open in this process, if any: an embedded snapshot is taken from the open database. */
  store?: VectorStore | null;
  /** Qdrant: where the Qdrant server keeps snapshots on its own disk (the official image: /qdrant/snapshots). */
  serverSnapshotsDir?: string;
}

/** The administration (snapshots, backup copy, point count) of the configured store. */
export function createStoreAdmin(config: Config, options: StoreAdminOptions = {}): StoreAdmin {
  if (config.storeKind === 'embedded') return new EmbeddedAdmin(embeddedStoreFile(config), path.join(config.paths.data, 'snapshots'), options.store ?? null);
  if (config.storeKind === 'qdrant') return new QdrantAdmin(qdrantOptionsFrom(config), options.serverSnapshotsDir);
  throw unknownStore(config);
}
