import { describe, expect, it } from 'vitest';
import type { Chunk, ChunkingOptions } from '../../server/indexing/chunk.js';
import { chunkText } from '../../server/indexing/chunk-text.js';
import { chunkFile } from '../../server/indexing/chunker.js';
import { fileKind } from '../../server/indexing/file-types.js';
import { estimateTokens } from '../../server/text/token-estimate.js';

const OPTS: ChunkingOptions = { min_tokens: 20, max_tokens: 100, overlap_tokens: 20 };

function expectTrueLines(text: string, chunks: readonly Chunk[]): void {
  const lines = text.split(/\r?\n/);
  for (const c of chunks) {
    expect(c.content.trim()).not.toBe('');
    const range = lines.slice(c.start_line - 1, c.end_line);
    expect(range.join('\n')).toContain(c.content);
    expect(range[0]).toContain(c.content.split('\n')[0]);
    expect(range.at(-1)).toContain(c.content.split('\n').at(-1));
  }
}

const NOTES = `Release checklist

Bump the version in package.json and write the changelog entry.
Mention every migration that touches the vector store.

Build the extension with npm run build and install the VSIX
locally. Open a library folder and run a search to make sure
the sidebar renders results with their citations.

Tag the release, push the tag, and let CI publish the server
image. Check that the health endpoint answers on the staging
host before announcing the release to the team.

Rollback: redeploy the previous image tag. The index format
is backwards compatible within a minor version, so no
re-index is needed.
`;

describe('chunkText', () => {
  it('keeps a short text in one chunk', () => {
    const chunks = chunkText(NOTES, { min_tokens: 10, max_tokens: 400, overlap_tokens: 0 });
    expect(chunks).toEqual([{ content: NOTES.trimEnd(), section: '', start_line: 1, end_line: 16 }]);
  });

  it('splits at blank-line paragraphs, packing them up to max_tokens', () => {
    const opts = { min_tokens: 10, max_tokens: 60, overlap_tokens: 0 };
    const chunks = chunkText(NOTES, opts);
    expect(chunks.length).toBeGreaterThan(2);
    const paragraphStarts = new Set([1, 3, 6, 10, 14]);
    for (const c of chunks) {
      expect(paragraphStarts.has(c.start_line)).toBe(true);
      expect(estimateTokens(c.content)).toBeLessThanOrEqual(opts.max_tokens);
    }
    expect(chunks[0]?.content.startsWith('Release checklist\n\nBump the version')).toBe(true);
    expectTrueLines(NOTES, chunks);
  });

  it('starts each following chunk with whole trailing lines of the previous one', () => {
    const opts = { min_tokens: 10, max_tokens: 80, overlap_tokens: 20 };
    const chunks = chunkText(NOTES, opts);
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1];
      const cur = chunks[i];
      if (!prev || !cur) continue;
      expect(cur.start_line).toBeLessThanOrEqual(prev.end_line);
      const overlap = prev.content.split('\n').slice(cur.start_line - prev.end_line - 1).join('\n');
      expect(cur.content.startsWith(overlap)).toBe(true);
      expect(estimateTokens(overlap)).toBeLessThanOrEqual(opts.overlap_tokens);
      expect(estimateTokens(cur.content)).toBeLessThanOrEqual(opts.max_tokens);
    }
    expectTrueLines(NOTES, chunks);
  });

  it('splits a paragraph over max_tokens at sentences', () => {
    const para = Array.from({ length: 20 }, (_, i) => `Step ${i + 1} copies the index to the backup bucket.`).join(' ');
    const text = `${para}\n\nVerify the backup afterwards.\n`;
    const chunks = chunkText(text, OPTS);
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) {
      // Cuts fall between sentences; the short paragraph after may join the last piece.
      expect(c.content.split('\n\n')[0]).toMatch(/^Step \d+ .*bucket\.$/);
      expect(estimateTokens(c.content)).toBeLessThanOrEqual(OPTS.max_tokens);
    }
    expect(chunks.at(-1)?.content.endsWith('Verify the backup afterwards.')).toBe(true);
    expectTrueLines(text, chunks);
  });

  it('falls back to words, then hard cuts, for text without sentence ends', () => {
    const words = Array.from({ length: 300 }, (_, i) => `term${i}`).join(' ');
    const blob = 'QmFzZTY0'.repeat(100);
    const chunks = chunkText(`${words}\n\n${blob}\n`, OPTS);
    const wordPieces = chunks.filter((c) => c.content.startsWith('term'));
    expect(wordPieces.length).toBeGreaterThan(3);
    for (const c of wordPieces) expect(c.content).toMatch(/^term\d+( term\d+)*$/);
    expect(chunks.filter((c) => c.content.startsWith('QmFz')).map((c) => c.content).join('').endsWith(blob)).toBe(true);
    for (const c of chunks) expect(estimateTokens(c.content)).toBeLessThanOrEqual(OPTS.max_tokens);
  });

  it('handles CRLF, empty and blank input', () => {
    const crlf = NOTES.replace(/\n/g, '\r\n');
    expect(chunkText(crlf, OPTS)).toEqual(chunkText(NOTES, OPTS));
    expectTrueLines(crlf, chunkText(crlf, OPTS));
    expect(chunkText('', OPTS)).toEqual([]);
    expect(chunkText('\r\n \r\n\t\r\n', OPTS)).toEqual([]);
  });
});

describe('fileKind', () => {
  it('classifies by extension, case-insensitively', () => {
    expect(fileKind('docs/Guide.MD')).toEqual({ content_type: 'markdown', language: null });
    expect(fileKind('notes/todo.txt')).toEqual({ content_type: 'text', language: null });
    expect(fileKind('server/main.ts')).toEqual({ content_type: 'code', language: 'typescript' });
    expect(fileKind('web/App.jsx')).toEqual({ content_type: 'code', language: 'javascript' });
    expect(fileKind('scripts/deploy.sh')).toEqual({ content_type: 'code', language: 'shell' });
    expect(fileKind('db/schema.sql')).toEqual({ content_type: 'code', language: 'sql' });
    expect(fileKind('src\\lib.rs')).toEqual({ content_type: 'code', language: 'rust' });
  });

  it('leaves config data, binaries and extensionless files out', () => {
    for (const p of ['package.json', 'configs/settings.yaml', 'Cargo.toml', 'logo.png', 'Makefile', '.bashrc']) {
      expect(fileKind(p)).toBeNull();
    }
  });
});

describe('chunkFile', () => {
  const opts = { min_tokens: 1, max_tokens: 200, overlap_tokens: 0 };

  it('dispatches on the file kind', async () => {
    expect(await chunkFile('guide.md', '# Guide\n\nHello.\n', opts)).toEqual({
      content_type: 'markdown',
      language: null,
      chunks: [{ content: '# Guide\n\nHello.', section: 'Guide', start_line: 1, end_line: 3 }],
    });
    const code = await chunkFile('store.py', 'def get(key):\n    return key\n', opts);
    expect(code?.content_type).toBe('code');
    expect(code?.language).toBe('python');
    expect(code?.chunks[0]?.section).toBe('def get(key)');
    // A '#' line in a text file is not a heading.
    expect((await chunkFile('notes.txt', '# not a heading\nplain text\n', opts))?.chunks[0]?.section).toBe('');
  });

  it('returns null for unsupported files', async () => {
    expect(await chunkFile('data.json', '{"a": 1}', opts)).toBeNull();
  });
});
