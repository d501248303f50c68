import { describe, expect, it } from 'vitest';
import { mapNativeCitations, parseMarkerCitations, resolveCitations } from '../../server/answers/citations.js';
import { formatContext, snippet, splitParagraphs, toContextBlocks, type RetrievedSource } from '../../server/answers/context.js';

function source(index: number, file_path: string, section: string, content: string, start_line: number): RetrievedSource {
  return {
    source: {
      index,
      id: `id-${index}`,
      file_path,
      section,
      start_line,
      end_line: start_line + content.split('\n').length - 1,
      score: 1,
      snippet: content.slice(0, 30),
      taxonomy: { full_path: 'uncategorized', level1: 'uncategorized', level2: null },
    },
    content,
    content_type: 'markdown',
    relevance: 0.5,
    signals: { dense: 0.5, keyword: null },
  };
}

const api = source(1, 'docs/api.md', 'Authentication', 'Learn how to authenticate using OAuth tokens and the admin console.\n\nTokens expire after one hour unless they are refreshed by the client.', 10);
const security = source(2, 'docs/security.md', 'JWT', 'JWT (JSON Web Tokens) provide a compact way to carry claims between services.', 4);
const sources = [api, security];
const blocks = toContextBlocks(sources);

describe('context', () => {
  it('formats the seed context: [n] Source: path (Section: ...), separated by ---', () => {
    expect(formatContext(sources)).toBe(
      `[1] Source: docs/api.md (Section: Authentication)\n${api.content}\n\n---\n\n[2] Source: docs/security.md (Section: JWT)\n${security.content}`,
    );
  });

  it('gives each block a line-precise source and paragraphs with their lines', () => {
    expect(blocks[0]?.source).toBe('docs/api.md#L10-L12');
    expect(blocks[0]?.title).toBe('docs/api.md (Section: Authentication)');
    expect(blocks[0]?.paragraphs.map((p) => [p.start_line, p.end_line])).toEqual([
      [10, 10],
      [12, 12],
    ]);
  });

  it('never splits a code fence and merges short headings into the next paragraph', () => {
    const paras = splitParagraphs('## Install\n\n```bash\nnpm install\n\nnpm start\n```\n\nThen open the browser at the local address shown.', 1);
    expect(paras[0]?.text).toContain('## Install');
    expect(paras[0]?.text).toContain('npm install\n\nnpm start');
    expect(paras.at(-1)?.end_line).toBe(9);
  });
});

describe('native citations', () => {
  it('map search_result_index to the source and cited paragraphs to lines', () => {
    const cited = mapNativeCitations(
      [{ block_index: 0, source: 'docs/api.md#L10-L12', cited_text: 'Tokens expire after one hour', start_paragraph: 1, end_paragraph: 2 }],
      blocks,
      sources,
    );
    expect(cited).toEqual([{ source_index: 1, file_path: 'docs/api.md', cited_text: 'Tokens expire after one hour', start_line: 12, end_line: 12 }]);
  });

  it('trust the echoed source over a disagreeing index, and drop citations of unknown sources', () => {
    const cited = mapNativeCitations(
      [
        { block_index: 0, source: 'docs/security.md#L4-L4', cited_text: 'JWT', start_paragraph: null, end_paragraph: null },
        { block_index: 7, source: 'nowhere.md', cited_text: 'x', start_paragraph: null, end_paragraph: null },
      ],
      blocks,
      sources,
    );
    expect(cited.map((c) => c.file_path)).toEqual(['docs/security.md']);
  });
});

describe('marker citations (fallback)', () => {
  it('reads [source: path] and [n] markers, not code or links', () => {
    const text = 'Use OAuth [source: docs/api.md]. JWTs carry claims [2][1]. See `arr[2]` and [the docs](http://x) and list[1].';
    const cited = parseMarkerCitations(text, sources);
    expect(cited.map((c) => c.source_index)).toEqual([1, 2]);
    // A marker does not say which words it backs: the source's snippet stands in.
    expect(cited[0]?.cited_text).toBe(snippet(api.content));
  });

  it('accept line-precise and sectioned paths', () => {
    expect(parseMarkerCitations('[source: docs/security.md#L4-L4]', sources).map((c) => c.source_index)).toEqual([2]);
    expect(parseMarkerCitations('[source: docs/api.md (Section: Authentication)]', sources).map((c) => c.source_index)).toEqual([1]);
    expect(parseMarkerCitations('[source: docs/unknown.md] [9]', sources)).toEqual([]);
  });

  it('are used only when there are no native citations', () => {
    expect(resolveCitations('Text [2]', [], blocks, sources).map((c) => c.source_index)).toEqual([2]);
    const native = [{ block_index: 0, source: 'docs/api.md#L10-L12', cited_text: 'OAuth', start_paragraph: 0, end_paragraph: 1 }];
    expect(resolveCitations('Text [2]', native, blocks, sources).map((c) => c.source_index)).toEqual([1]);
  });
});
