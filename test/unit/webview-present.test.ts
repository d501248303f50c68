import { describe, expect, it } from 'vitest';
import type { AnswerSource } from '../../shared/api-types.js';
import { answeredBy, confidenceLevel, foundNothing, pathSegments, presentSources, relevanceOf, splitExtractiveNote } from '../../extension/webview/present.js';

const src = (index: number, file_path: string, start_line: number, score: number): AnswerSource => ({
  index,
  id: `id-${index}`,
  file_path,
  section: 'Intro',
  start_line,
  end_line: start_line + 9,
  score,
  snippet: `passage ${index}`,
  taxonomy: { full_path: 'guides', level1: 'guides', level2: null },
});

const cite = (source_index: number) => ({ source_index, file_path: 'x', cited_text: 'y', start_line: 1, end_line: 2 });

describe('sources under an answer (issue 14, defects 6 and 10)', () => {
  const sources = [src(1, 'guides/a.md', 40, 1.349), src(2, 'src/b.ts', 1, 0.9), src(3, 'guides/a.md', 10, 0.3)];

  it('one summary "N sources from M files", grouped by file with line ranges in order', () => {
    const view = presentSources({ answer: 'It works [1].', sources, citations: [cite(1)], status: 'done' });
    expect(view.summary).toBe('3 sources from 2 files');
    expect(view.lowMatch).toBe(false);
    expect(view.groups.map((g) => g.file_path)).toEqual(['guides/a.md', 'src/b.ts']);
    expect(view.groups[0]?.ranges.map((r) => [r.index, r.start_line])).toEqual([[3, 10], [1, 40]]);
  });

  it('a relevance word relative to the best source, never the raw score', () => {
    const view = presentSources({ answer: 'x [1]', sources, citations: [cite(1)], status: 'done' });
    const levels = view.groups.flatMap((g) => g.ranges.map((r) => [r.index, r.relevance]));
    expect(levels).toEqual([[3, 'low'], [1, 'high'], [2, 'medium']]);
    expect(JSON.stringify(view)).not.toMatch(/1\.349/);
    expect(relevanceOf(1, 0)).toBe('low');
  });

  it('"the library has nothing on this": sources are the closest passages, low match', () => {
    const answer = 'The library has nothing on this: no indexed passage matches the question.';
    const view = presentSources({ answer, sources, citations: [], status: 'done' });
    expect(view.lowMatch).toBe(true);
    expect(view.summary).toBe('Closest passages, low match: 3 passages from 2 files');
  });

  it('a finished answer that cites nothing did not use its sources either', () => {
    expect(foundNothing({ answer: 'Some prose.', sources, citations: [], status: 'done' })).toBe(true);
    // While it streams, citations have not arrived yet.
    expect(foundNothing({ answer: 'Some prose.', sources, citations: [], status: 'streaming' })).toBe(false);
    expect(foundNothing({ answer: 'Cited [1].', sources, citations: [cite(1)], status: 'done' })).toBe(false);
  });
});

describe('answer facts (defects 11 and 16)', () => {
  it('splits the server\u2019s extractive note off the answer, so it is said once', () => {
    const answer = 'Extractive answer (no Anthropic API key configured): the most relevant passages from the library, quoted.\n\n- Keys rotate. [1]';
    expect(splitExtractiveNote(answer)).toEqual({
      note: 'Extractive answer (no Anthropic API key configured): the most relevant passages from the library, quoted.',
      body: '- Keys rotate. [1]',
    });
    const budget = 'Extractive answer (monthly budget of $5.00 reached; answers are extractive until 2026-01-01): the most relevant passages from the library, quoted.\n\nx';
    expect(splitExtractiveNote(budget).body).toBe('x');
    expect(splitExtractiveNote('A Claude answer.')).toEqual({ note: null, body: 'A Claude answer.' });
  });

  it('names the model and a confidence word', () => {
    expect(answeredBy('claude', 'claude-sonnet-4-5')).toBe('Answered by Claude (claude-sonnet-4-5)');
    expect(answeredBy('extractive', null)).toBe('Quoted from the library, no model');
    expect([confidenceLevel(0.82), confidenceLevel(0.5), confidenceLevel(0.1)]).toEqual(['high', 'medium', 'low']);
  });

  it('splits paths after their separators only', () => {
    expect(pathSegments('guides/tokens-keys-and-access.md')).toEqual(['guides/', 'tokens-keys-and-access.md']);
    expect(pathSegments('contributed/ws/src/a.ts').join('')).toBe('contributed/ws/src/a.ts');
  });
});
