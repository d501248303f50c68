import path from 'node:path';
import type { QdrantClient } from '@qdrant/js-client-rest';
import { isRecord } from '../../../shared/guards.js';
import { createQdrantClient, qdrantEndpoint, translateQdrantError, type QdrantEndpoint } from './client.js';
import { META_KEY, metaSchema } from './layout.js';
import type { QdrantStoreOptions } from './store.js';
import type { StoreAdmin, StoreExport } from '../store-admin.js';
import { QdrantSnapshots } from './snapshots.js';

/** Administration requests are few and one at a time: a timeout, not the store's concurrency bound and breaker (QdrantStore.call). */
const ADMIN_TIMEOUT_MS = 30_000;

/** A Qdrant collection's administration: snapshots through Qdrant's snapshot API. */
export class QdrantAdmin implements StoreAdmin {
  readonly kind = 'qdrant' as const;
  readonly where: string;
  readonly snapshots: QdrantSnapshots;
  private readonly endpoint: QdrantEndpoint;
  private readonly apiKey: string | undefined;
  private readonly collection: string;
  private readonly client: QdrantClient;

  /** `serverSnapshotsDir`: where the Qdrant server keeps snapshots on its own disk (recovering by name). */
  constructor(options: QdrantStoreOptions, serverSnapshotsDir?: string) {
    this.endpoint = qdrantEndpoint(options.url, options.port);
    this.apiKey = options.apiKey;
    this.collection = options.collection;
    this.where = `collection "${this.collection}" at ${this.endpoint.baseUrl}`;
    this.client = createQdrantClient(this.endpoint, this.apiKey, ADMIN_TIMEOUT_MS);
    this.snapshots = new QdrantSnapshots(this.endpoint, this.apiKey, this.collection, serverSnapshotsDir);
  }

  private async call<T>(what: string, fn: (client: QdrantClient) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client);
    } catch (e) {
      throw translateQdrantError(e, what, this.endpoint, this.apiKey, ADMIN_TIMEOUT_MS);
    }
  }

  async exists(): Promise<boolean> {
    return (await this.call(`check collection "${this.collection}"`, (c) => c.collectionExists(this.collection))).exists;
  }

  async countPoints(): Promise<number> {
    if (!(await this.exists())) return 0;
    return (await this.call(`count points of "${this.collection}"`, (c) => c.count(this.collection, { exact: true }))).count;
  }

  /** A snapshot, downloaded into `dir`, then removed from the Qdrant server's disk. */
  async exportTo(dir: string): Promise<StoreExport> {
    const info = await this.call(`read collection "${this.collection}"`, (c) => c.getCollection(this.collection));
    const raw = info.config.metadata;
    const meta = metaSchema.safeParse(isRecord(raw) ? raw[META_KEY] : undefined);
    const embedder = meta.success && Number.isInteger(meta.data.dimension) && meta.data.dimension > 0 ? { id: meta.data.embedder_id, dimension: meta.data.dimension } : null;
    // Counted just before the snapshot: writes in between make it approximate, never the checksums.
    const { count } = await this.call(`count points of "${this.collection}"`, (c) => c.count(this.collection, { exact: true }));
    const made = await this.snapshots.create();
    await this.snapshots.download(made.name, path.join(dir, made.name));
    const warnings: string[] = [];
    // The archive holds it now; left on the Qdrant server, a daily backup would fill its disk.
    await this.client.deleteSnapshot(this.collection, made.name).catch(() => {
      warnings.push(`the snapshot ${made.name} stays on the Qdrant server (deleting it failed); remove it there to free disk ("npm run snapshot -- list")`);
    });
    return {
      file: made.name,
      points: count,
      embedder,
      collection: this.collection,
      summary: `store: Qdrant collection "${this.collection}" at ${this.endpoint.baseUrl}, ${count} points, snapshot ${made.name}`,
      warnings,
    };
  }
}
