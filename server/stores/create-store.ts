import path from 'node:path';
import type { Config } from '../config/settings.js';
import { ConfigError } from '../config/settings.js';
import { EmbeddedStore } from './embedded.js';
import { QdrantStore, qdrantOptionsFrom } from './qdrant.js';
import type { VectorStore } from './vector-store.js';

export function embeddedStoreFile(config: Config): string {
  return path.join(config.paths.data, 'library.sqlite');
}

export function createStore(config: Config): VectorStore {
  // vector.max_concurrent bounds Qdrant only: better-sqlite3 runs each call
  // synchronously on this thread, so embedded calls never overlap anyway.
  if (config.storeKind === 'embedded') return new EmbeddedStore(embeddedStoreFile(config));
  if (config.storeKind === 'qdrant') return new QdrantStore(qdrantOptionsFrom(config));
  throw new ConfigError(`vector.store: "${String(config.storeKind)}" is unknown; use "embedded" or "qdrant"`);
}
