import type { Config } from './config/settings.js';
import { createStoreAdmin } from './stores/create-store.js';
import type { Snapshots } from './stores/store-admin.js';
import type { VectorStore } from './stores/vector-store.js';

export { SnapshotError, SnapshotNotFoundError, type SnapshotInfo, type SnapshotStream, type Snapshots } from './stores/store-admin.js';

/**
 * The snapshot manager of the configured store (each adapter's, through the
 * StoreAdmin port). `store` is needed only to create an embedded snapshot (the
 * online backup runs on the open database).
 */
export function createSnapshots(config: Config, store: VectorStore | null, opts: { serverSnapshotsDir?: string } = {}): Snapshots {
  return createStoreAdmin(config, { store, serverSnapshotsDir: opts.serverSnapshotsDir }).snapshots;
}
