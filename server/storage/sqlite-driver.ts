import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

/**
 * Which better-sqlite3 this Node can run. 12.x is the last release that works
 * on Node 20, but it wraps objects with node::ObjectWrap, and Node ≥ 24.19
 * aborts the process when such a statement is garbage-collected ("Assertion
 * failed: (env) != nullptr"). 13.x moved to node-addon-api and runs on Node ≥ 22
 * only (on 20 it crashes in `new Database`). Both are installed — 13 under the
 * alias better-sqlite3-napi, with prebuilt binaries — and the running Node picks.
 */
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
export const SQLITE_DRIVER = NODE_MAJOR >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3';

// Both releases have the same API; the types of 12 describe either.
const Driver: typeof Database = createRequire(import.meta.url)(SQLITE_DRIVER);

export function openDatabase(file: string, options?: Database.Options): Database.Database {
  return new Driver(file, options);
}
