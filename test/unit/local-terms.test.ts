import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalEmbedder, tokenize } from '../../server/embedders/local.js';
import { buildTermModel } from '../../server/embedders/local-terms.js';
import { loadTermModel, saveTermModel, TERM_MODEL_FILE } from '../../server/embedders/local-terms-file.js';
import { cosine } from '../../server/retrieval/vector-math.js';
import { EmbeddedStore } from '../../server/stores/embedded.js';
import { EmbedderMismatchError } from '../../server/stores/vector-store.js';
import { API_DOC, fileOf, pointsOf } from '../contract/vector-store.contract.js';

const CHUNKS = [
  'git log shows the commit logs of the current branch',
  'the log lists commits newest first; each commit has an author and a message',
  'rate limits: a client that sends too many requests is throttled and gets 429',
  'throttled clients should back off; the 429 response carries Retry-After',
  'snapshots back up the store; restore a snapshot to roll back',
  'restore the backup snapshot into a fresh data directory',
  'the chat panel renders markdown answers in the sidebar',
  'answers in the chat panel cite the chunks they quote',
];
const tokens = (texts: readonly string[]) => texts.map((t) => tokenize(t));

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-terms-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('learned term model (reflective random indexing)', () => {
  it('is deterministic: the same chunks give the same model and version', () => {
    const a = buildTermModel(tokens(CHUNKS));
    const b = buildTermModel(tokens(CHUNKS));
    expect(a.version).toMatch(/^[0-9a-f]{12}$/);
    expect(b.version).toBe(a.version);
    expect(Array.from(b.vectors)).toEqual(Array.from(a.vectors));
  });

  it('relates terms that share chunks, which hashing alone cannot', async () => {
    const model = buildTermModel(tokens(CHUNKS));
    const learned = new LocalEmbedder(model);
    const hashed = new LocalEmbedder();
    const query = 'why am I throttled';
    const answer = 'the 429 response carries Retry-After';
    const [lq, la] = await learned.embed([query, answer], 'query');
    const [hq, ha] = await hashed.embed([query, answer], 'query');
    expect(cosine(lq!, la!)).toBeGreaterThan(cosine(hq!, ha!) + 0.05);
  });

  it('names the model in a versioned id that changes with the model', () => {
    const hashed = new LocalEmbedder();
    const one = new LocalEmbedder(buildTermModel(tokens(CHUNKS)));
    const two = new LocalEmbedder(buildTermModel(tokens([...CHUNKS, 'restore drills run monthly against a snapshot'])));
    expect(hashed.id).toBe('local-hash-v1:1024');
    expect(one.id).toMatch(/^local-hash-v1\+terms-[0-9a-f]{12}:1280$/);
    expect(one.dimension).toBe(1280);
    expect(two.id).not.toBe(one.id);
  });

  it('round-trips through its file under DATA_DIR and refuses a damaged one with the fix', async () => {
    const dir = tempDir();
    expect(loadTermModel(dir)).toBeNull();
    const model = buildTermModel(tokens(CHUNKS));
    saveTermModel(dir, model);
    const loaded = loadTermModel(dir)!;
    expect(loaded.version).toBe(model.version);
    const [a] = await new LocalEmbedder(model).embed([CHUNKS[0]!], 'document');
    const [b] = await new LocalEmbedder(loaded).embed([CHUNKS[0]!], 'document');
    expect(Array.from(b!)).toEqual(Array.from(a!));
    const file = path.join(dir, TERM_MODEL_FILE);
    const bytes = fs.readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    fs.writeFileSync(file, bytes);
    expect(() => loadTermModel(dir)).toThrow(/does not match its version hash.*npm run index -- --all/);
  });

  it('a store built with one model refuses the next instead of mixing vectors', async () => {
    const file = path.join(tempDir(), 'library.sqlite');
    const first = new LocalEmbedder(buildTermModel(tokens(CHUNKS)));
    const store = new EmbeddedStore(file);
    await store.init(first);
    const [p] = pointsOf(API_DOC, first.dimension);
    const [vector] = await first.embed([p!.payload.content], 'document');
    await store.replaceFile(fileOf(API_DOC, [p!]), [{ ...p!, vector: vector! }]);
    await store.close();

    const next = new LocalEmbedder(buildTermModel(tokens([...CHUNKS, 'a new chunk about restore drills'])));
    const reopened = new EmbeddedStore(file);
    try {
      const err = await reopened.init(next).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EmbedderMismatchError);
      expect(String(err)).toContain(first.id);
      expect(String(err)).toContain(next.id);
    } finally {
      await reopened.close();
    }
  });
});
