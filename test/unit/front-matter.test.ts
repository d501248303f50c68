import { describe, expect, it } from 'vitest';
import { chunkMarkdown } from '../../server/indexing/chunk-markdown.js';
import { frontMatterBlock, parseFrontMatter } from '../../server/text/front-matter.js';
import { queryTerms } from '../../server/text/query-terms.js';

const OPTS = { min_tokens: 1, max_tokens: 500, overlap_tokens: 0 };

describe('front matter (server/text/front-matter.ts)', () => {
  it('reads the block and where the body starts, with LF, CRLF and a byte-order mark alike', () => {
    for (const text of ['---\ncategory: api\n---\n# Title\n', '---\r\ncategory: api\r\n---\r\n# Title\r\n', '\uFEFF---\ncategory: api\n...\n# Title\n']) {
      expect(frontMatterBlock(text)).toEqual({ yaml: 'category: api\n', lines: 3 });
      expect(parseFrontMatter(text)).toEqual({ data: { category: 'api' }, bodyStartLine: 4 });
    }
  });

  it('needs an opening and a closing line', () => {
    expect(frontMatterBlock('# Title\n---\n')).toBeNull();
    expect(frontMatterBlock('---\ncategory: api\n')).toBeNull();
    expect(frontMatterBlock('---')).toBeNull();
    expect(parseFrontMatter('no front matter')).toEqual({ data: {}, bodyStartLine: 1 });
  });

  it('keeps line numbers but no data for malformed YAML', () => {
    expect(parseFrontMatter('---\ncategory: [oops\n---\nbody\n')).toEqual({ data: {}, bodyStartLine: 4 });
  });

  it('is skipped by the markdown chunker, whose lines agree with it', () => {
    const text = '---\r\ntitle: x\r\n---\r\n# Setup\r\nInstall it.\r\n';
    const chunks = chunkMarkdown(text, OPTS);
    expect(chunks.map((c) => c.content).join('\n')).not.toContain('title: x');
    expect(chunks[0]?.start_line).toBe(parseFrontMatter(text).bodyStartLine);
  });
});

describe('queryTerms (server/text/query-terms.ts)', () => {
  it('keeps distinct topic words and identifier parts, drops stopwords and single letters', () => {
    expect(queryTerms('How do I rotate the createVectorStore key? a key')).toEqual(['rotate', 'create', 'vector', 'store', 'createvectorstore', 'key']);
  });
});
