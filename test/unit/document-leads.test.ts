import { describe, expect, it } from 'vitest';
import { LEAD_WORDS, leadOf } from '../../server/retrieval/document-leads.js';
import { RERANK_WEIGHTS, rerank } from '../../server/retrieval/rerank.js';
import type { ScoredPoint } from '../../server/stores/vector-store.js';

const point = (file: string, section: string, fused: number): ScoredPoint => ({
  id: `${file}#${section}`,
  dense: null,
  keyword: null,
  fused,
  payload: {
    file_path: file, content: 'unrelated words of some length', section, start_line: 1, end_line: 5, chunk_index: 0, content_type: 'markdown', language: null,
    taxonomy: { full_path: 'guides', level1: 'guides', level2: null }, classification: { confidence: 1 }, content_hash: `${file}#${section}`, file_hash: file, contributor: null,
    created_at: '2026-12-01T00:00:00.000Z', updated_at: '2026-12-01T00:00:00.000Z',
  },
});

describe('leadOf', () => {
  it('reads a document’s opening across its first chunks, lines two chunks share once', () => {
    const lead = leadOf([
      { chunk_index: 1, start_line: 3, end_line: 5, content: 'beta gamma\ndelta\nepsilon' },
      { chunk_index: 0, start_line: 1, end_line: 3, content: '## Summary\nalpha\nbeta gamma' },
    ]);
    expect([...lead]).toEqual(['summari', 'alpha', 'beta', 'gamma', 'delta', 'epsilon']);
  });

  it('stems its words as keyword search does, so a query matches their inflections', () => {
    const lead = leadOf([{ chunk_index: 0, start_line: 1, end_line: 1, content: 'Shows the commit logs, newest first' }]);
    const ranked = rerank('show commit log', [point('page.md', 'only', 0.5)], (p) => p.fused, new Map([['page.md', lead]]));
    const none = rerank('show commit log', [point('page.md', 'only', 0.5)], (p) => p.fused);
    expect(ranked[0]!.score - none[0]!.score).toBeCloseTo(RERANK_WEIGHTS.lead);
  });

  it(`keeps the first ${LEAD_WORDS} words only`, () => {
    const words = Array.from({ length: LEAD_WORDS + 50 }, (_, i) => `w${i}`);
    const lead = leadOf([{ chunk_index: 0, start_line: 1, end_line: 1, content: words.join(' ') }]);
    expect(lead.size).toBe(LEAD_WORDS);
    expect(lead.has(`w${LEAD_WORDS - 1}`)).toBe(true);
    expect(lead.has(`w${LEAD_WORDS}`)).toBe(false);
  });
});

describe('rerank: the lead term', () => {

  it('lifts the best chunk of a document whose lead holds the query, and leaves its other chunks where they were', () => {
    const candidates = [point('guide.md', 'a', 0.9), point('page.md', 'best', 0.5), point('page.md', 'next', 0.45)];
    const ranked = rerank('commit logs', candidates, (p) => p.fused, new Map([['page.md', new Set(['commit', 'log'])]]));
    expect(ranked.map((r) => r.point.id)).toEqual(['page.md#best', 'guide.md#a', 'page.md#next']);
    const plain = rerank('commit logs', candidates, (p) => p.fused);
    const lifted = (id: string) => ranked.find((r) => r.point.id === id)!.score - plain.find((r) => r.point.id === id)!.score;
    expect(lifted('page.md#best')).toBeCloseTo(RERANK_WEIGHTS.lead);
    expect(lifted('page.md#next')).toBe(0);
    expect(lifted('guide.md#a')).toBe(0);
  });

  it('weighs the lead by the share of the query’s terms it holds', () => {
    const candidates = [point('page.md', 'only', 0.5)];
    const half = rerank('commit logs', candidates, (p) => p.fused, new Map([['page.md', new Set(['log'])]]));
    const none = rerank('commit logs', candidates, (p) => p.fused);
    expect(half[0]!.score - none[0]!.score).toBeCloseTo(RERANK_WEIGHTS.lead / 2);
  });
});
