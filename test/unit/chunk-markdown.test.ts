import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Chunk, ChunkingOptions } from '../../server/indexing/chunk.js';
import { chunkMarkdown } from '../../server/indexing/chunk-markdown.js';
import { parseFrontMatter } from '../../server/text/front-matter.js';
import { estimateTokens } from '../../server/text/token-estimate.js';

const OPTS: ChunkingOptions = { min_tokens: 30, max_tokens: 120, overlap_tokens: 24 };

/** Every chunk's content sits on exactly the lines it claims. */
function expectTrueLines(text: string, chunks: readonly Chunk[]): void {
  const lines = text.split(/\r?\n/);
  for (const c of chunks) {
    expect(c.content.trim(), 'no empty chunks').not.toBe('');
    expect(c.start_line).toBeGreaterThanOrEqual(1);
    expect(c.end_line).toBeGreaterThanOrEqual(c.start_line);
    expect(c.end_line).toBeLessThanOrEqual(lines.length);
    const range = lines.slice(c.start_line - 1, c.end_line);
    expect(range.join('\n')).toContain(c.content);
    const contentLines = c.content.split('\n');
    expect(range[0]).toContain(contentLines[0]);
    expect(range.at(-1)).toContain(contentLines.at(-1));
  }
}

function expectWithinMax(chunks: readonly Chunk[], opts: ChunkingOptions): void {
  for (const c of chunks) expect(estimateTokens(c.content)).toBeLessThanOrEqual(opts.max_tokens);
}

const SENTENCES = [
  'The indexer walks the library folder and hashes every file it finds.',
  'Unchanged files are skipped, so a re-index after a small edit is quick.',
  'Each chunk is embedded on its own and stored with its line range.',
  'Search combines dense vectors with BM25 keyword scores using reciprocal rank fusion.',
  'Answers cite the chunks they were built from, with file path and lines.',
  'Contributors can be filtered, which helps when a team shares one library.',
];

function paragraph(n: number, offset = 0): string {
  return Array.from({ length: n }, (_, i) => SENTENCES[(i + offset) % SENTENCES.length]).join(' ');
}

/** A paragraph hard-wrapped at ~72 columns, as many editors write markdown. */
function wrapped(n: number, offset = 0): string {
  return paragraph(n, offset).replace(/(.{1,72})(?: |$)/g, '$1\n').trimEnd();
}

const README = `# AI Library

A shared knowledge library for software teams.

## Setup

${wrapped(3)}

### Install

${wrapped(2, 1)}

#### Linux

Install the build tools first, then run the installer.

\`\`\`bash
sudo apt-get install -y build-essential
npm ci
\`\`\`

## Usage

${wrapped(4, 2)}

- Index a folder with \`npm run index\`.
- Search from the extension sidebar.
- Ask a question and follow the citations.

| Setting | Default |
|---------|---------|
| max_tokens | 512 |
| min_tokens | 128 |
`;

describe('chunkMarkdown: sections', () => {
  it('names chunks by their heading path and starts them with the heading line', () => {
    const opts = { min_tokens: 1, max_tokens: 400, overlap_tokens: 0 };
    const chunks = chunkMarkdown(README, opts);
    expect(chunks.map((c) => c.section)).toEqual([
      'AI Library',
      'AI Library > Setup',
      'AI Library > Setup > Install',
      'AI Library > Setup > Install > Linux',
      'AI Library > Usage',
    ]);
    expect(chunks[3]?.content.split('\n')[0]).toBe('#### Linux');
    expect(chunks[4]?.content.startsWith('## Usage\n')).toBe(true);
    expectTrueLines(README, chunks);
  });

  it('gives text before the first heading an empty section', () => {
    const text = `Badges and a short note before any heading, long enough to stand alone as a chunk.\n\n# Title\n\n${paragraph(3)}\n`;
    const chunks = chunkMarkdown(text, { min_tokens: 10, max_tokens: 200, overlap_tokens: 0 });
    expect(chunks[0]).toMatchObject({ section: '', start_line: 1, end_line: 1 });
    expect(chunks[1]).toMatchObject({ section: 'Title', start_line: 3 });
  });

  it('only treats top-level headings as sections (setext yes; in lists or quotes no)', () => {
    const text = [
      'Release notes',
      '=============',
      '',
      paragraph(2),
      '',
      '- # not a section, a list item',
      '',
      '> ## also not a section',
      '',
      'Changes',
      '-------',
      '',
      paragraph(2, 3),
    ].join('\n');
    const chunks = chunkMarkdown(text, { min_tokens: 1, max_tokens: 200, overlap_tokens: 0 });
    expect(chunks.map((c) => c.section)).toEqual(['Release notes', 'Release notes > Changes']);
    expect(chunks[0]?.content).toContain('> ## also not a section');
    expectTrueLines(text, chunks);
  });

  it('uses the plain text of headings with inline markup', () => {
    const text = '# Using `chunkFile` with [links](https://example.com)\n\nSome text.\n';
    expect(chunkMarkdown(text, OPTS)[0]?.section).toBe('Using chunkFile with links');
  });
});

describe('chunkMarkdown: merging small sections', () => {
  const faq = [
    '# FAQ',
    '',
    'Answers to common questions.',
    '',
    '## Is it free?',
    '',
    'Yes, MIT licensed.',
    '',
    '## Does it need a GPU?',
    '',
    'No. The local embedder runs on the CPU.',
    '',
    '## Which stores are supported?',
    '',
    'The embedded store and Qdrant.',
    '',
    '## Can I use Mistral embeddings?',
    '',
    'Yes, set the provider to mistral and give an API key.',
    '',
    '## Where is data kept?',
    '',
    'Under the data directory from the settings file.',
  ].join('\n');

  it('merges consecutive small sections under the first one, staying within max_tokens', () => {
    const opts = { min_tokens: 40, max_tokens: 80, overlap_tokens: 0 };
    const chunks = chunkMarkdown(faq, opts);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThan(6);
    expect(chunks[0]?.section).toBe('FAQ');
    expect(chunks[0]?.content).toContain('## Is it free?');
    expect(chunks[1]?.section).toMatch(/^FAQ > /);
    // Every heading's text is somewhere, once.
    const all = chunks.map((c) => c.content).join('\n');
    for (const h of faq.split('\n').filter((l) => l.startsWith('#'))) expect(all.split(h).length).toBe(2);
    expectWithinMax(chunks, opts);
    expectTrueLines(faq, chunks);
  });

  it('does not merge when every section is already large enough', () => {
    const chunks = chunkMarkdown(faq, { min_tokens: 1, max_tokens: 80, overlap_tokens: 0 });
    expect(chunks).toHaveLength(6);
  });

  it('does not merge a subsection into the next section of a different parent', () => {
    const text = [
      '# Guide',
      '',
      '## Install',
      '',
      paragraph(3),
      '',
      '### Windows',
      '',
      'Use WSL.',
      '',
      '## Configure',
      '',
      'Edit settings.yaml.',
    ].join('\n');
    const chunks = chunkMarkdown(text, { min_tokens: 40, max_tokens: 200, overlap_tokens: 0 });
    const windows = chunks.find((c) => c.content.includes('Use WSL.'));
    expect(windows?.section).toBe('Guide > Install > Windows');
    expect(windows?.content).not.toContain('## Configure');
    expect(chunks.find((c) => c.content.includes('## Configure'))?.section).toBe('Guide > Configure');
  });

  it('keeps a heading with nothing under it together with its oversized subsection', () => {
    const text = `# Architecture\n\n## Indexing\n\n${wrapped(12)}\n`;
    const opts = { min_tokens: 30, max_tokens: 100, overlap_tokens: 0 };
    const chunks = chunkMarkdown(text, opts);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0]?.content.startsWith('# Architecture\n\n## Indexing\n')).toBe(true);
    expect(chunks.every((c) => c.section === 'Architecture > Indexing')).toBe(true);
    expectWithinMax(chunks, opts);
    expectTrueLines(text, chunks);
  });
});

describe('chunkMarkdown: code fences', () => {
  const fence = [
    '```python',
    '# not a heading: a Python comment',
    'def index_file(path):',
    '    # also not a heading',
    '    text = path.read_text()',
    '    return chunk(text)',
    '```',
  ].join('\n');

  it('never cuts a fence that fits, even when its section is split around it', () => {
    const text = ['# Indexer', '', wrapped(5), '', fence, '', wrapped(5, 2), ''].join('\n');
    const opts = { min_tokens: 10, max_tokens: 110, overlap_tokens: 0 };
    const chunks = chunkMarkdown(text, opts);
    expect(chunks.length).toBeGreaterThan(2);
    const holders = chunks.filter((c) => c.content.includes('def index_file'));
    expect(holders).toHaveLength(1);
    expect(holders[0]?.content).toContain(fence);
    expect(chunks.every((c) => c.section === 'Indexer')).toBe(true);
    expectWithinMax(chunks, opts);
    expectTrueLines(text, chunks);
  });

  it('splits a fence larger than max_tokens by lines, re-fencing every piece', () => {
    const code = Array.from({ length: 120 }, (_, i) => `    store.upsert(points[${i}], { wait: true })`);
    const text = ['## Bulk load', '', 'The loader below writes every point.', '', '```ts', ...code, '```', '', 'Done.'].join('\n');
    const opts = { min_tokens: 20, max_tokens: 150, overlap_tokens: 30 };
    const chunks = chunkMarkdown(text, opts);
    const pieces = chunks.filter((c) => c.content.includes('store.upsert'));
    expect(pieces.length).toBeGreaterThan(3);
    const lines = text.split('\n');
    const seen = new Set<string>();
    pieces.forEach((p, i) => {
      const body = p.content.split('\n');
      if (i === 0) {
        // The heading and the lead-in sentence travel with the first piece.
        expect(body.slice(0, 4)).toEqual(['## Bulk load', '', 'The loader below writes every point.', '']);
        expect(body[4]).toBe('```ts');
      } else {
        expect(body[0]).toBe('```ts');
      }
      expect(body.at(-1)).toBe('```');
      expect(estimateTokens(p.content)).toBeLessThanOrEqual(opts.max_tokens);
      // Apart from the repeated fence lines, content is the original lines.
      const inner = body.slice(i === 0 ? 0 : 1, i === pieces.length - 1 ? undefined : -1);
      expect(lines.slice(p.start_line - 1, p.end_line)).toEqual(inner);
      for (const l of inner) if (l.includes('upsert')) seen.add(l);
    });
    expect(seen.size).toBe(code.length);
    // Following pieces repeat a few trailing lines of the previous one.
    const second = pieces[1]?.content.split('\n')[1];
    expect(pieces[0]?.content).toContain(second);
    expect(chunks.at(-1)?.content).toBe('Done.');
  });

  it('closes the pieces of an unterminated fence too', () => {
    const text = ['```sql', ...Array.from({ length: 60 }, (_, i) => `INSERT INTO docs VALUES (${i}, 'row ${i}');`)].join('\n');
    const chunks = chunkMarkdown(text, { min_tokens: 10, max_tokens: 100, overlap_tokens: 0 });
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) {
      expect(c.content.startsWith('```sql\n')).toBe(true);
      expect(c.content.endsWith('\n```')).toBe(true);
    }
  });
});

describe('chunkMarkdown: large sections and paragraphs', () => {
  it('splits a large section at paragraph boundaries with whole-line overlap', () => {
    const paras = Array.from({ length: 8 }, (_, i) => wrapped(2, i));
    const text = ['# Search', '', ...paras.flatMap((p) => [p, '']), '# Answers', '', 'Short.'].join('\n');
    const opts = { min_tokens: 20, max_tokens: 120, overlap_tokens: 30 };
    const chunks = chunkMarkdown(text, opts);
    const search = chunks.filter((c) => c.section === 'Search');
    expect(search.length).toBeGreaterThan(2);
    expect(search[0]?.content.startsWith('# Search\n')).toBe(true);
    for (let i = 1; i < search.length; i++) {
      const prev = search[i - 1];
      const cur = search[i];
      if (!prev || !cur) continue;
      // The overlap is whole trailing lines of the previous chunk, within overlap_tokens.
      expect(cur.start_line).toBeLessThanOrEqual(prev.end_line);
      const shared = prev.content.split('\n').slice(cur.start_line - prev.end_line - 1);
      expect(cur.content.startsWith(shared.join('\n'))).toBe(true);
      expect(estimateTokens(shared.join('\n'))).toBeLessThanOrEqual(opts.overlap_tokens);
    }
    // No overlap across sections: the next section starts at its own heading.
    expect(chunks.at(-1)).toMatchObject({ section: 'Answers', content: '# Answers\n\nShort.' });
    expectWithinMax(chunks, opts);
    expectTrueLines(text, chunks);
  });

  it('splits a paragraph over max_tokens at sentence boundaries', () => {
    const para = paragraph(30);
    const text = `# Notes\n\n${para}\n`;
    const opts = { min_tokens: 10, max_tokens: 100, overlap_tokens: 10 };
    const chunks = chunkMarkdown(text, opts);
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks.slice(0, -1)) expect(c.content.trimEnd()).toMatch(/\.$/);
    for (const c of chunks.slice(1)) expect(SENTENCES.some((s) => c.content.startsWith(s))).toBe(true);
    // No sentence is lost.
    expect(chunks.map((c) => c.content.trim()).join(' ')).toContain(para.slice(para.length / 2));
    expectWithinMax(chunks, opts);
    expectTrueLines(text, chunks);
  });

  it('falls back to word boundaries for a paragraph without sentence ends', () => {
    const words = Array.from({ length: 400 }, (_, i) => `token${i}`).join(' ');
    const opts = { min_tokens: 10, max_tokens: 60, overlap_tokens: 0 };
    const chunks = chunkMarkdown(words, opts);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.content).toMatch(/^token\d+( token\d+)*$/);
    expect(chunks.map((c) => c.content).join(' ')).toBe(words);
    expectWithinMax(chunks, opts);
  });

  it('keeps every chunk of a realistic document within max_tokens and on its true lines', () => {
    const doc = [README, `## Troubleshooting\n\n${wrapped(20)}\n\n${'```json\n{ "a": 1 }\n```\n\n'.repeat(3)}`, README].join('\n');
    for (const opts of [OPTS, { min_tokens: 5, max_tokens: 40, overlap_tokens: 8 }, { min_tokens: 128, max_tokens: 512, overlap_tokens: 64 }]) {
      const chunks = chunkMarkdown(doc, opts);
      expect(chunks.length).toBeGreaterThan(0);
      expectWithinMax(chunks, opts);
      expectTrueLines(doc, chunks);
    }
  });
});

describe('chunkMarkdown: input handling', () => {
  const withFrontMatter = ['---', 'title: Deploying', 'category: operations/deploy', '---', '', '# Deploying', '', paragraph(2)].join('\n');

  it('skips front matter but keeps true line numbers', () => {
    const chunks = chunkMarkdown(withFrontMatter, OPTS);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatchObject({ section: 'Deploying', start_line: 6, end_line: 8 });
    expect(chunks[0]?.content).not.toContain('category:');
  });

  it('does not mistake a leading thematic break without a closing line for front matter', () => {
    const text = '---\n\nIntro after a rule.\n';
    expect(chunkMarkdown(text, OPTS)).toEqual([{ content: '---\n\nIntro after a rule.', section: '', start_line: 1, end_line: 3 }]);
  });

  it('handles CRLF exactly like LF', () => {
    const crlf = README.replace(/\n/g, '\r\n');
    const chunks = chunkMarkdown(crlf, OPTS);
    expect(chunks).toEqual(chunkMarkdown(README, OPTS));
    expect(chunks.some((c) => c.content.includes('\r'))).toBe(false);
    expectTrueLines(crlf, chunks);
  });

  it('returns no chunks for empty, blank or front-matter-only input', () => {
    expect(chunkMarkdown('', OPTS)).toEqual([]);
    expect(chunkMarkdown('\n  \n\t\n', OPTS)).toEqual([]);
    expect(chunkMarkdown('---\ntitle: x\n---\n\n', OPTS)).toEqual([]);
  });

  it('keeps link reference definitions that markdown-it does not emit as blocks', () => {
    const text = '# Links\n\nSee [the docs][docs].\n\n[docs]: https://example.com/docs\n';
    expect(chunkMarkdown(text, OPTS)[0]?.content).toContain('[docs]: https://example.com/docs');
  });
});

describe('parseFrontMatter', () => {
  it('reads YAML front matter and where the body starts', () => {
    expect(parseFrontMatter('---\r\ntitle: Deploying\r\ncategory: operations\r\n---\r\n# Body\r\n')).toEqual({
      data: { title: 'Deploying', category: 'operations' },
      bodyStartLine: 5,
    });
  });

  it('returns empty data without front matter', () => {
    expect(parseFrontMatter('# Title\n')).toEqual({ data: {}, bodyStartLine: 1 });
  });

  it('never throws on invalid or non-mapping front matter', () => {
    expect(parseFrontMatter('---\ntitle: [unclosed\n---\nbody\n')).toEqual({ data: {}, bodyStartLine: 4 });
    expect(parseFrontMatter('---\n- a\n- b\n---\n')).toEqual({ data: {}, bodyStartLine: 5 });
    expect(parseFrontMatter('---\na: 1\na: 2\n---\n').data).toEqual({});
  });
});

describe('chunkMarkdown: properties', () => {
  const LINES = [
    '# Title', '## Setup', '### Deep', 'Setext', '======', '---', 'title: x', '', '', '\t',
    'Plain words in a line.', 'One sentence. Another one! A third?', 'word '.repeat(90), 'x'.repeat(300),
    '```ts', '```', '~~~', '# not a heading', '- item', '  - nested', '> quote', '| a | b |', '|---|---|',
    '    indented code', '<details>', '</details>', '[ref]: https://example.com', '\u{1F600}'.repeat(40),
  ];
  const documents = fc
    .tuple(fc.array(fc.constantFrom(...LINES), { maxLength: 120, size: 'max' }), fc.boolean())
    .map(([lines, crlf]) => lines.join(crlf ? '\r\n' : '\n'));
  const options = fc
    .record({ min_tokens: fc.integer({ min: 1, max: 60 }), max_tokens: fc.integer({ min: 16, max: 120 }), overlap: fc.nat(40) })
    .map((o) => ({ min_tokens: o.min_tokens, max_tokens: o.max_tokens, overlap_tokens: Math.min(o.overlap, o.max_tokens - 1) }));

  it('keeps every chunk non-empty, on its true lines and within max_tokens', () => {
    fc.assert(
      fc.property(documents, options, (text, opts) => {
        const lines = text.split(/\r?\n/);
        for (const c of chunkMarkdown(text, opts)) {
          expect(c.content.trim()).not.toBe('');
          expect(estimateTokens(c.content)).toBeLessThanOrEqual(opts.max_tokens);
          const range = lines.slice(c.start_line - 1, c.end_line).join('\n');
          // Pieces of a split fence may carry a repeated opening and an added closing line.
          const body = c.content.split('\n');
          const candidates = /^ {0,3}(```|~~~)/m.test(c.content)
            ? [c.content, body.slice(1).join('\n'), body.slice(0, -1).join('\n'), body.slice(1, -1).join('\n')]
            : [c.content];
          expect(candidates.some((v) => v !== '' && range.includes(v))).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('chunkMarkdown: speed', () => {
  it('chunks a large document at well over 1000 chunks per second', () => {
    const doc = Array.from({ length: 300 }, (_, i) => `## Section ${i}\n\n${wrapped(6, i)}\n\n\`\`\`ts\nconst x${i} = ${i};\n\`\`\`\n`).join('\n');
    const big = doc.repeat(4);
    // Warm the JIT first so the measurement reflects an indexing run, not start-up.
    chunkMarkdown(doc, { min_tokens: 20, max_tokens: 80, overlap_tokens: 10 });
    const started = performance.now();
    const chunks = chunkMarkdown(big, { min_tokens: 20, max_tokens: 80, overlap_tokens: 10 });
    const seconds = (performance.now() - started) / 1000;
    expect(chunks.length).toBeGreaterThan(1000);
    expect(chunks.length / seconds).toBeGreaterThan(1000);
  });
});
