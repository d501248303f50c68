import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { QdrantClient } from '@qdrant/js-client-rest';
import { streamToFileAtomically } from '../../storage/stream-to-file.js';
import { createQdrantClient, translateQdrantError, type QdrantEndpoint } from './client.js';
import { SnapshotError, SnapshotNotFoundError, checkSnapshotName, type SnapshotInfo, type Snapshots, type SnapshotStream } from '../store-admin.js';

async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Qdrant's snapshot endpoints (docs/production.md, step 4) — POST/GET /collections/{c}/snapshots,
 * GET .../snapshots/{name} to download, PUT .../snapshots/recover {location}; a
 * local file is uploaded (POST .../snapshots/upload) since the server cannot read it.
 */
export class QdrantSnapshots implements Snapshots {
  readonly kind = 'qdrant' as const;
  readonly where: string;
  private readonly client: QdrantClient;

  constructor(
    private readonly endpoint: QdrantEndpoint,
    private readonly apiKey: string | undefined,
    readonly collection: string,
    /** Where the Qdrant server keeps snapshots on its own disk (the official image: /qdrant/snapshots). */
    readonly serverSnapshotsDir = '/qdrant/snapshots',
    private readonly timeoutMs = 30 * 60_000,
  ) {
    this.where = `${endpoint.baseUrl}/collections/${encodeURIComponent(collection)}/snapshots`;
    this.client = createQdrantClient(endpoint, apiKey, timeoutMs);
  }

  private fail(e: unknown, what: string): Error {
    return translateQdrantError(e, what, this.endpoint, this.apiKey, this.timeoutMs);
  }

  private headers(): Record<string, string> {
    return this.apiKey ? { 'api-key': this.apiKey } : {};
  }

  async create(): Promise<SnapshotInfo> {
    const made = await this.client.createSnapshot(this.collection, { wait: true }).catch((e: unknown) => {
      throw this.fail(e, `create a snapshot of "${this.collection}"`);
    });
    if (!made) throw new SnapshotError(`Qdrant accepted the snapshot of "${this.collection}" but returned no description; see "npm run snapshot -- list"`);
    return { name: made.name, size: made.size, created_at: made.creation_time ?? null };
  }

  async list(): Promise<SnapshotInfo[]> {
    const all = await this.client.listSnapshots(this.collection).catch((e: unknown) => {
      throw this.fail(e, `list snapshots of "${this.collection}"`);
    });
    return all.map((s) => ({ name: s.name, size: s.size, created_at: s.creation_time ?? null })).sort((a, b) => a.name.localeCompare(b.name));
  }

  async open(name: string): Promise<SnapshotStream> {
    const url = `${this.where}/${encodeURIComponent(checkSnapshotName(name))}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: this.headers(), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw this.fail(e, `download snapshot ${name}`);
    }
    if (res.status === 404) throw new SnapshotNotFoundError(`snapshot "${name}" does not exist on ${this.where}; see "npm run snapshot -- list"`);
    if (!res.ok || !res.body) {
      const data: unknown = await res.json().catch(() => null);
      throw this.fail({ status: res.status, statusText: res.statusText, data }, `download snapshot ${name}`);
    }
    const size = Number(res.headers.get('content-length'));
    return { stream: res.body, size: Number.isFinite(size) && size > 0 ? size : null };
  }

  async download(name: string, outFile: string): Promise<{ file: string; bytes: number }> {
    const { stream } = await this.open(name);
    return { file: path.resolve(outFile), bytes: await streamToFileAtomically(Readable.from(chunksOf(stream)), outFile) };
  }

  /**
   * `priority: snapshot` makes the snapshot's data win; Qdrant's default
   * (`replica`) would prefer the data the node already has.
   */
  async recover(nameOrFile: string): Promise<string> {
    if (/^(https?|file):\/\//i.test(nameOrFile)) return this.recoverFrom(nameOrFile);
    const local = path.resolve(nameOrFile);
    if ((await stat(local).catch(() => null))?.isFile()) return this.upload(local);
    const name = checkSnapshotName(nameOrFile);
    if (!(await this.list()).some((s) => s.name === name)) {
      throw new SnapshotNotFoundError(`snapshot "${name}" is neither on ${this.where} nor a local file; see "npm run snapshot -- list"`);
    }
    return this.recoverFrom(`file://${this.serverSnapshotsDir.replace(/\/+$/, '')}/${this.collection}/${name}`);
  }

  private async recoverFrom(location: string): Promise<string> {
    await this.client.recoverSnapshot(this.collection, { location, priority: 'snapshot' }).catch((e: unknown) => {
      throw this.fail(e, `recover "${this.collection}" from ${location}`);
    });
    return `recovered collection "${this.collection}" from ${location}`;
  }

  private async upload(file: string): Promise<string> {
    const form = new FormData();
    // A file-backed Blob: multi-gigabyte snapshots are streamed, not read into memory.
    form.append('snapshot', await openAsBlob(file), path.basename(file));
    const url = `${this.where}/upload?priority=snapshot&wait=true`;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: this.headers(), body: form, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw this.fail(e, `upload snapshot ${file}`);
    }
    if (!res.ok) {
      const data: unknown = await res.json().catch(() => null);
      throw this.fail({ status: res.status, statusText: res.statusText, data }, `upload snapshot ${file}`);
    }
    return `recovered collection "${this.collection}" from uploaded ${file}`;
  }
}
