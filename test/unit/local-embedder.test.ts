import { describe, expect, it } from 'vitest';
import { LocalEmbedder } from '../../server/embedders/local.js';
import { tokenize } from '../../server/text/tokenize.js';
import { cosine } from '../../server/retrieval/vector-math.js';

describe('LocalEmbedder', () => {
  const embedder = new LocalEmbedder();

  it('is deterministic, 1024-dimensional and L2-normalised', async () => {
    const [a, b] = await embedder.embed(['Index the library with npm run index', 'Index the library with npm run index'], 'document');
    expect(a).toHaveLength(1024);
    expect(Array.from(a!)).toEqual(Array.from(b!));
    const norm = Math.sqrt(a!.reduce((s, x) => s + x * x, 0));
    expect(norm).toBeCloseTo(1, 5);
  });

  it('places related texts closer than unrelated ones', async () => {
    const [q, near, far] = await embedder.embed(
      ['how do I back up the qdrant snapshot', 'Backups: create a Qdrant snapshot daily and keep seven days', 'The chat panel renders markdown answers in the sidebar'],
      'query',
    );
    expect(cosine(q!, near!)).toBeGreaterThan(cosine(q!, far!) + 0.05);
  });

  it('splits identifiers so parts match', () => {
    expect(tokenize('createVectorStore')).toEqual(['create', 'vector', 'store', 'createvectorstore']);
    expect(tokenize('index_file')).toEqual(['index', 'file']);
  });

  it('embeds empty text to a zero vector without failing', async () => {
    const [v] = await embedder.embed([''], 'query');
    expect(v!.every((x) => x === 0)).toBe(true);
  });
});
