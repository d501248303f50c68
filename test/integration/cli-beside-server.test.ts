import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../server/services.js';
import { MistralFake } from '../fakes/mistral-fake.js';
import { md5 } from '../helpers/store-integrity.js';
import { waitFor } from '../helpers/processes.js';
import { servicesFor, tempEnv, type TempEnv } from '../helpers/temp-env.js';

const KEY = 'mistral-test-KEY-gate-5678';

/**
 * An HTTP gate in front of the Mistral fake: while closed it holds every
 * request, so a test can stop one indexer between reading a file and
 * committing it, exactly where the CLI and the server race.
 */
class Gate {
  private readonly held: Array<() => void> = [];
  private open = true;
  private server: Server | null = null;
  url = '';

  constructor(private readonly upstream: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const go = () => void this.forward(req, res);
      if (this.open) go();
      else this.held.push(go);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get waiting(): number {
    return this.held.length;
  }

  close(): void {
    this.open = false;
  }

  release(): void {
    this.open = true;
    for (const go of this.held.splice(0)) go();
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
    const up = await fetch(`${this.upstream}${req.url ?? '/'}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await up.arrayBuffer()));
  }

  async stop(): Promise<void> {
    this.release();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('the CLI indexing beside the server never leaves new text on disk with old text in the index (issue 12, defect 3)', () => {
  let fake: MistralFake;
  let gate: Gate;
  let env: TempEnv;
  let server: Services;
  let cli: Services;

  beforeAll(async () => {
    fake = await MistralFake.create(KEY);
    gate = new Gate(fake.url);
    await gate.start();
    env = tempEnv();
    const common = { EMBEDDINGS_PROVIDER: 'mistral', MISTRAL_API_KEY: KEY };
    // Two processes' worth of services on one DATA_DIR, as `npm start` and `npm run index` are: the CLI's embedder calls go through the gate.
    server = await servicesFor({ ...env.env, ...common, MISTRAL_SERVER_URL: fake.url }, env.root);
    cli = await servicesFor({ ...env.env, ...common, MISTRAL_SERVER_URL: gate.url }, env.root);
  });
  afterAll(async () => {
    await cli?.close();
    await server?.close();
    await gate?.stop();
    await fake?.close();
    env?.cleanup();
  });

  it('an upload that lands while the CLI embeds the old text ends with the new text in the index', async () => {
    const rel = 'contributed/default/race.md';
    env.write(rel, '# Race\n\nThe old text about grebes, placed on disk directly.\n');
    gate.close();
    // The CLI reads the old text and waits for its embeddings...
    const cliRun = cli.indexer.indexPath(rel);
    await waitFor('the CLI to ask for embeddings', () => (gate.waiting > 0 ? true : undefined));
    // ...while the server writes and indexes the new text.
    const up = await server.indexer.indexUpload('race.md', '# Race\n\nThe new text about pelicans, uploaded.\n', undefined, { contributor: 'local', mayReplace: () => true });
    expect(up.files[0]?.status).toBe('indexed');
    gate.release();
    await cliRun;

    const onDisk = readFileSync(path.join(env.library, rel));
    expect(onDisk.toString('utf8')).toContain('pelicans');
    const stored = await server.store.getFile(rel);
    expect(stored?.file_hash).toBe(md5(onDisk));
    const chunks = await server.store.fileChunks(rel);
    expect(chunks.map((c) => c.payload.content).join(' ')).toContain('pelicans');
    expect(chunks.map((c) => c.payload.content).join(' ')).not.toContain('grebes');
  });

  it('a settled file rewritten in place, same size, while the CLI embeds it ends with the new text in the index', async () => {
    // Older than a second when read, so the CLI trusts its stat instead of reading it again after the commit (indexer.ts).
    const rel = 'notes/in-place.md';
    env.write(rel, '# In place\n\nThe old text about grebes.\n');
    const abs = path.join(env.library, rel);
    const written = statSync(abs);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    gate.close();
    const cliRun = cli.indexer.indexPath(rel);
    await waitFor('the CLI to ask for embeddings', () => (gate.waiting > 0 ? true : undefined));
    // Same inode, same size: only the change times tell that the bytes are new. Nobody else indexes them.
    writeFileSync(abs, '# In place\n\nThe new text about geese!!\n');
    expect(statSync(abs).ino).toBe(written.ino);
    expect(statSync(abs).size).toBe(written.size);
    gate.release();
    await cliRun;

    const stored = await server.store.getFile(rel);
    expect(stored?.file_hash).toBe(md5(readFileSync(abs)));
    expect((await server.store.fileChunks(rel)).map((c) => c.payload.content).join(' ')).toContain('geese');
  });

  it('a file deleted while the CLI embeds it is not brought back into the index', async () => {
    const rel = 'notes/gone.md';
    env.write(rel, '# Gone\n\nText about puffins that is about to be deleted.\n');
    gate.close();
    const cliRun = cli.indexer.indexPath(rel);
    await waitFor('the CLI to ask for embeddings', () => (gate.waiting > 0 ? true : undefined));
    rmSync(path.join(env.library, rel));
    gate.release();
    await cliRun;
    expect(await server.store.getFile(rel)).toBeNull();
  });
});
